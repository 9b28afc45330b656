/* soa_kernel_avx512.c - the SoA bank's kernels for AVX-512 (see
 * soa_kernel.h). Compiled with -mavx512f -mavx512dq -mfma for this file only
 * (Makefile); soa_bank.c calls them only when __builtin_cpu_supports says the
 * CPU has AVX-512F/DQ.
 *
 * Why hand-written: the per-user work is tiny (A_u has 120 packed entries at
 * d = 15) and the same for every user of a round; a BLAS call per user (or
 * DGEMM over a stack of full d x d matrices, the previous design) spends more
 * in call overhead, packing and the unused lower triangle than in arithmetic
 * (measured: 11 % of the machine's DGEMM peak). Here one zmm register holds
 * the same entry of 8 users' A, each FMA serves 8 users, and the K arms'
 * scores are accumulated in registers (up to 12 arms per pass, the context's
 * packed outer product broadcast from memory). Ceiling: the single-thread
 * DGEMM peak measured in the same run by bench/bench.c (docs/performance.md);
 * flops per decision are counted there. */
#include "linalg/soa_kernel.h"

#include <float.h>
#include <immintrin.h>
#include <math.h>

#include "core/util.h"

#define W COLB__SOA_W
#define KB 12 /* arms per pass: KB accumulators + A + temporaries < 32 zmm */

#define AI static inline __attribute__((always_inline))

AI __mmask8 tail8(size_t n) { return n >= 8 ? 0xff : (__mmask8)((1u << n) - 1); }

/* Vectors covering a row of n entries: 0 when n is outside [8, 64] (then
 * masked vectors at 0, 8, ...). Vector v starts at off8(v, n). */
AI int nvec8(size_t n) { return n >= 8 && n <= 64 ? (int)((n + 7) / 8) : 0; }
AI size_t off8(int v, size_t n) { return 8 * (size_t)v + 8 <= n ? 8 * (size_t)v : n - 8; }

/* Scores of arms k0..k0+kb-1 for the 8 lanes, merged into (bv, bi). */
AI void arms512(const double *A, const double *theta, __m512d wd, const double *Q,
                const double *X, size_t d, size_t K, size_t k0, const int kb, __m512d *bv,
                __m512d *bi, double *scores)
{
    size_t P = d * (d + 1) / 2;
    __m512d q[KB], m[KB];
    _Pragma("GCC unroll 16")
    for (int r = 0; r < kb; r++)
        q[r] = m[r] = _mm512_setzero_pd();
    for (size_t e = 0; e < P; e++) {
        __m512d a = _mm512_loadu_pd(A + e * W);
        const double *qe = Q + e * K + k0;
        _Pragma("GCC unroll 16")
        for (int r = 0; r < kb; r++)
            q[r] = _mm512_fmadd_pd(a, _mm512_set1_pd(qe[r]), q[r]);
    }
    for (size_t j = 0; j < d; j++) {
        __m512d t = _mm512_loadu_pd(theta + j * W);
        _Pragma("GCC unroll 16")
        for (int r = 0; r < kb; r++)
            m[r] = _mm512_fmadd_pd(t, _mm512_set1_pd(X[(k0 + (size_t)r) * d + j]), m[r]);
    }
    __m512d zero = _mm512_setzero_pd();
    _Pragma("GCC unroll 16")
    for (int r = 0; r < kb; r++) {
        size_t k = k0 + (size_t)r;
        /* max(q, 0) with a NaN q giving 0, as the portable q > 0 ? q : 0 */
        __m512d s = _mm512_fmadd_pd(wd, _mm512_sqrt_pd(_mm512_max_pd(q[r], zero)), m[r]);
        if (scores)
            _mm512_storeu_pd(scores + k * W, s);
        if (k == 0) {
            *bv = s;
            *bi = zero;
        } else {
            __mmask8 gt = _mm512_cmp_pd_mask(s, *bv, _CMP_GT_OQ);
            *bv = _mm512_mask_blend_pd(gt, *bv, s);
            *bi = _mm512_mask_blend_pd(gt, *bi, _mm512_set1_pd((double)k));
        }
    }
}

/* choose: hand-written because a BLAS product per user or per block costs
 * more in calls, packing and the unused lower triangle than the 2P + 2d
 * flops per arm; FMA-bound (8 users x up to 12 arms in registers), ceiling
 * the FMA peak, measured in bench.c section 2 with 8 K (2P + 2d) flops. */
static void choose_avx512(const double *A, const double *theta, const double *width,
                          const double *Q, const double *X, size_t d, size_t K, uint32_t *best,
                          double *scores)
{
    __m512d wd = _mm512_loadu_pd(width), bv = _mm512_setzero_pd(), bi = bv;
    size_t n = (K + KB - 1) / KB, base = K / n, rem = K % n, k0 = 0;
    for (size_t c = 0; c < n; c++) { /* n passes of balanced sizes <= KB */
        int kb = (int)(base + (c < rem));
        switch (kb) {
#define CASE(n_) case n_: arms512(A, theta, wd, Q, X, d, K, k0, n_, &bv, &bi, scores); break;
            CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
            CASE(7) CASE(8) CASE(9) CASE(10) CASE(11) CASE(12)
#undef CASE
        default: break;
        }
        k0 += (size_t)kb;
    }
    double bd[W];
    _mm512_storeu_pd(bd, bi);
    for (int l = 0; l < W; l++)
        best[l] = (uint32_t)bd[l];
}

/* u_k for the G rows k = k0..k0+G-1 of u = A x, each in a register:
 * u_k = sum over j = 0..d-1 in increasing order of fma(A_kj, x_j, .) - the
 * entry (j, k) of row j for j < k, (k, j) of row k for j >= k - so each u_k
 * receives its terms in the order of the row sums. G independent FMA
 * chains and no store until the end: the memory-accumulated scan before
 * (u_j loaded, added to and stored back for every entry) ran at 26-31
 * GFLOP/s in bench.c's update, bound by the store-to-load chains. */
AI void amul_rows512(const double *A, const double *xs, size_t d, size_t k0, const int G, double *u)
{
    __m512d acc[8];
    _Pragma("GCC unroll 8")
    for (int g = 0; g < G; g++)
        acc[g] = _mm512_setzero_pd();
    size_t j = 0;
    for (; j < k0; j++) { /* column entries (j, k0 + g): contiguous in row j */
        __m512d x = _mm512_loadu_pd(xs + j * W);
        const double *a = A + (colb__soa_prow(j, d) + k0 - j) * W;
        _Pragma("GCC unroll 8")
        for (int g = 0; g < G; g++)
            acc[g] = _mm512_fmadd_pd(_mm512_loadu_pd(a + (size_t)g * W), x, acc[g]);
    }
    for (; j < k0 + (size_t)G; j++) { /* the group's own triangle */
        __m512d x = _mm512_loadu_pd(xs + j * W);
        _Pragma("GCC unroll 8")
        for (int g = 0; g < G; g++) {
            size_t k = k0 + (size_t)g;
            size_t e = j < k ? colb__soa_prow(j, d) + k - j : colb__soa_prow(k, d) + j - k;
            acc[g] = _mm512_fmadd_pd(_mm512_loadu_pd(A + e * W), x, acc[g]);
        }
    }
    const double *r[8]; /* row k's entry (k, j) at r[g] + j W */
    _Pragma("GCC unroll 8")
    for (int g = 0; g < G; g++) {
        size_t k = k0 + (size_t)g;
        r[g] = A + (colb__soa_prow(k, d) - k) * W;
    }
    for (; j < d; j++) {
        __m512d x = _mm512_loadu_pd(xs + j * W);
        _Pragma("GCC unroll 8")
        for (int g = 0; g < G; g++)
            acc[g] = _mm512_fmadd_pd(_mm512_loadu_pd(r[g] + j * W), x, acc[g]);
    }
    _Pragma("GCC unroll 8")
    for (int g = 0; g < G; g++)
        _mm512_storeu_pd(u + (k0 + (size_t)g) * W, acc[g]);
}

/* u = A x by groups of 8 rows (amul_rows512): the same bits as the row
 * sums of the portable kernel and the AVX2 kernel's scan. */
static void amul512(const double *A, const double *xs, size_t d, double *u)
{
    size_t k0 = 0;
    for (; k0 + 8 <= d; k0 += 8)
        amul_rows512(A, xs, d, k0, 8, u);
    switch (d - k0) {
    case 7: amul_rows512(A, xs, d, k0, 7, u); break;
    case 6: amul_rows512(A, xs, d, k0, 6, u); break;
    case 5: amul_rows512(A, xs, d, k0, 5, u); break;
    case 4: amul_rows512(A, xs, d, k0, 4, u); break;
    case 3: amul_rows512(A, xs, d, k0, 3, u); break;
    case 2: amul_rows512(A, xs, d, k0, 2, u); break;
    case 1: amul_rows512(A, xs, d, k0, 1, u); break;
    default: break;
    }
}

/* update: 8 users' Sherman-Morrison steps, each with its own context (no
 * BLAS call batches that); load/store bound (A is rewritten), measured in
 * bench.c section 2 with 8 (2 d^2 + 2P + 8d) flops per block. */
static void update_avx512(double *A, double *b, double *theta, double *ws, const double *xs,
                          const double *y, const double *w, const double *ry, size_t d,
                          double *work)
{
    double *u = work;
    amul512(A, xs, d, u);
    /* s and pred in a loop of their own: folded into amul512's passes, as
     * the AVX2 kernel does, they gained 7-10 % at d = 15 but lost 7 % at
     * d = 25 here (same vCPU, alternated) */
    __m512d s = _mm512_setzero_pd(), pred = s;
    for (size_t j = 0; j < d; j++) {
        __m512d x = _mm512_loadu_pd(xs + j * W);
        s = _mm512_fmadd_pd(x, _mm512_loadu_pd(u + j * W), s);
        pred = _mm512_fmadd_pd(x, _mm512_loadu_pd(theta + j * W), pred);
    }
    __m512d wv = _mm512_loadu_pd(w), wsv = _mm512_mul_pd(wv, s);
    __m512d c = _mm512_div_pd(wv, _mm512_add_pd(_mm512_set1_pd(1.0), wsv));
    __m512d gain = _mm512_mul_pd(c, _mm512_sub_pd(_mm512_loadu_pd(y), pred));
    __m512d ryv = _mm512_loadu_pd(ry);
    _mm512_storeu_pd(ws, wsv);
    size_t e = 0;
    for (size_t i = 0; i < d; i++) {
        __m512d ui = _mm512_loadu_pd(u + i * W), cu = _mm512_mul_pd(c, ui);
        for (size_t j = i; j < d; j++, e++)
            _mm512_storeu_pd(A + e * W, _mm512_fnmadd_pd(cu, _mm512_loadu_pd(u + j * W),
                                                         _mm512_loadu_pd(A + e * W)));
        _mm512_storeu_pd(theta + i * W, _mm512_fmadd_pd(gain, ui, _mm512_loadu_pd(theta + i * W)));
        _mm512_storeu_pd(b + i * W, _mm512_fmadd_pd(ryv, _mm512_loadu_pd(xs + i * W),
                                                    _mm512_loadu_pd(b + i * W)));
    }
}

/* The end of a single-model scoring pass (score1, score_x) on arms
 * k0..k0+8nv-1: the means m = <theta, x_k> (FMAs over j in order), then
 * scores = fma(alpha, sqrt(max(q, 0) scale), m); mean and quad (or NULL)
 * receive m and q. */
AI void finish512(const double *theta, const double *Xt, size_t d, size_t Kp, size_t k0,
                  const int nv, __m512d al, __m512d sc, const __m512d *q, double *scores,
                  double *mean, double *quad)
{
    __m512d m[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++)
        m[v] = _mm512_setzero_pd();
    for (size_t j = 0; j < d; j++) {
        __m512d t = _mm512_set1_pd(theta[j]);
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++)
            m[v] = _mm512_fmadd_pd(t, _mm512_loadu_pd(Xt + j * Kp + k0 + 8 * v), m[v]);
    }
    __m512d zero = _mm512_setzero_pd();
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++) {
        if (mean) {
            _mm512_storeu_pd(mean + k0 + 8 * v, m[v]);
            _mm512_storeu_pd(quad + k0 + 8 * v, q[v]);
        }
        if (!scores) /* the means and forms alone */
            continue;
        __m512d qq = _mm512_mul_pd(_mm512_max_pd(q[v], zero), sc);
        _mm512_storeu_pd(scores + k0 + 8 * v, _mm512_fmadd_pd(al, _mm512_sqrt_pd(qq), m[v]));
    }
}

/* One model on arms k0..k0+8nv-1 (nv vectors of 8 arms, two partial sums
 * each: 2 nv independent FMA chains). */
AI void score1_512(const double *Ap, const double *theta, __m512d al, __m512d sc,
                   const double *Q, const double *Xt, size_t d, size_t Kp, size_t k0,
                   const int nv, double *scores)
{
    size_t P = d * (d + 1) / 2, e = 0;
    __m512d q0[4], q1[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++)
        q0[v] = q1[v] = _mm512_setzero_pd();
    for (; e + 1 < P; e += 2) {
        __m512d a0 = _mm512_set1_pd(Ap[e]), a1 = _mm512_set1_pd(Ap[e + 1]);
        const double *r0 = Q + e * Kp + k0, *r1 = r0 + Kp;
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++) {
            q0[v] = _mm512_fmadd_pd(a0, _mm512_loadu_pd(r0 + 8 * v), q0[v]);
            q1[v] = _mm512_fmadd_pd(a1, _mm512_loadu_pd(r1 + 8 * v), q1[v]);
        }
    }
    if (e < P) {
        __m512d a0 = _mm512_set1_pd(Ap[e]);
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++)
            q0[v] = _mm512_fmadd_pd(a0, _mm512_loadu_pd(Q + e * Kp + k0 + 8 * v), q0[v]);
    }
    __m512d q[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++)
        q[v] = _mm512_add_pd(q0[v], q1[v]);
    finish512(theta, Xt, d, Kp, k0, nv, al, sc, q, scores, NULL, NULL);
}

/* colb__soa_argmax's answer in two vector passes, as argmax256 in
 * soa_kernel_avx2.c (the reasons there): the largest value that is not NaN
 * (vmaxpd keeps its second operand, the running maximum, against a NaN),
 * then the first index equal to it; vectors where the scoring kernels
 * stored theirs, the tail scalar. */
static size_t argmax512(const double *v, size_t n)
{
    if (n < 8 || v[0] != v[0])
        return colb__soa_argmax(v, n);
    __m512d mx = _mm512_set1_pd(v[0]);
    size_t k = 0;
    for (; k + 8 <= n; k += 8)
        mx = _mm512_max_pd(_mm512_loadu_pd(v + k), mx);
    double m = _mm512_reduce_max_pd(mx); /* no NaN among the lanes */
    for (size_t j = k; j < n; j++) /* a NaN compares false */
        m = v[j] > m ? v[j] : m;
    __m512d mv = _mm512_set1_pd(m);
    for (k = 0; k + 8 <= n; k += 8) {
        unsigned eq = _mm512_cmp_pd_mask(_mm512_loadu_pd(v + k), mv, _CMP_EQ_OQ);
        if (eq)
            return k + (size_t)__builtin_ctz(eq);
    }
    for (; k < n; k++)
        if (v[k] == m)
            return k;
    return 0; /* not reached: m is one of v */
}

/* score1: one model on K arms, lanes along the arms (a DGEMV per arm would
 * cost a call per 2P flops); load bound on the Q table, measured in bench.c
 * section 2 with K (2P + 2d) flops. */
static size_t score1_avx512(const double *Ap, const double *theta, double alpha, double scale,
                            const double *Q, const double *Xt, size_t d, size_t K, size_t Kp,
                            double *scores)
{
    __m512d al = _mm512_set1_pd(alpha), sc = _mm512_set1_pd(scale);
    for (size_t k0 = 0; k0 < Kp;) {
        size_t nv = (Kp - k0) / 8;
        if (nv >= 4) {
            score1_512(Ap, theta, al, sc, Q, Xt, d, Kp, k0, 4, scores);
            k0 += 32;
        } else if (nv == 3) {
            score1_512(Ap, theta, al, sc, Q, Xt, d, Kp, k0, 3, scores);
            k0 += 24;
        } else if (nv == 2) {
            score1_512(Ap, theta, al, sc, Q, Xt, d, Kp, k0, 2, scores);
            k0 += 16;
        } else {
            score1_512(Ap, theta, al, sc, Q, Xt, d, Kp, k0, 1, scores);
            k0 += 8;
        }
    }
    return argmax512(scores, K);
}

/* Rows i..i+R-1 of A's upper triangle (R = 1, 2 or 4) into score_x's
 * forms on arms k0..k0+8nv-1: each vector of contexts loaded serves the R
 * rows (R nv independent FMA chains); each row's terms j > i are summed in
 * increasing j from zero, then q = fma(x_i, A_ii x_i + 2 t_i, q) row by row
 * - the same operations whatever R, so the same bits. By pairs of rows,
 * the loads of the contexts and of A's entries kept the FMAs from their
 * peak; by fours, 461 -> 257 ns at d = 25, K = 25. */
AI void score_x_rows512(const double *A, size_t lda, const double *Xt, size_t d, size_t Kp,
                        size_t k0, size_t i, const int nv, const int R, __m512d *q)
{
    const double *x0 = Xt + i * Kp + k0;
    __m512d t[4][4];
    _Pragma("GCC unroll 4")
    for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++)
            t[r][v] = _mm512_setzero_pd();
    /* the block's own triangle: j = i + jj, rows r < jj */
    _Pragma("GCC unroll 4")
    for (int jj = 1; jj < R; jj++)
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++) {
            __m512d x = _mm512_loadu_pd(x0 + (size_t)jj * Kp + 8 * v);
            _Pragma("GCC unroll 4")
            for (int r = 0; r < jj; r++)
                t[r][v] = _mm512_fmadd_pd(_mm512_set1_pd(A[(i + (size_t)r) * lda + i + (size_t)jj]), x,
                                          t[r][v]);
        }
    for (size_t j = i + (size_t)R; j < d; j++) {
        __m512d b[4];
        _Pragma("GCC unroll 4")
        for (int r = 0; r < R; r++)
            b[r] = _mm512_set1_pd(A[(i + (size_t)r) * lda + j]);
        const double *xr = Xt + j * Kp + k0;
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++) {
            __m512d x = _mm512_loadu_pd(xr + 8 * v);
            _Pragma("GCC unroll 4")
            for (int r = 0; r < R; r++)
                t[r][v] = _mm512_fmadd_pd(b[r], x, t[r][v]);
        }
    }
    _Pragma("GCC unroll 4")
    for (int r = 0; r < R; r++) {
        __m512d e = _mm512_set1_pd(A[(i + (size_t)r) * lda + i + (size_t)r]);
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++) {
            __m512d x = _mm512_loadu_pd(x0 + (size_t)r * Kp + 8 * v);
            q[v] = _mm512_fmadd_pd(x, _mm512_fmadd_pd(e, x, _mm512_add_pd(t[r][v], t[r][v])), q[v]);
        }
    }
}

/* One model on arms k0..k0+8nv-1 from the contexts alone (score_x): A's
 * rows by fours, the last ones by a pair and one. The means stay in
 * finish512: folded into the passes, as the AVX2 kernel does, they cost
 * 3-10 % here (41.5-45.5 against 42.8-48.7 GFLOP/s at d = 15, both at once). */
AI void score_x_512(const double *A, size_t lda, const double *theta, __m512d al, __m512d sc,
                    const double *Xt, size_t d, size_t Kp, size_t k0, const int nv,
                    double *scores, double *mean, double *quad)
{
    __m512d q[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++)
        q[v] = _mm512_setzero_pd();
    size_t i = 0;
    for (; i + 4 <= d; i += 4)
        score_x_rows512(A, lda, Xt, d, Kp, k0, i, nv, 4, q);
    if (i + 2 <= d) {
        score_x_rows512(A, lda, Xt, d, Kp, k0, i, nv, 2, q);
        i += 2;
    }
    if (i < d)
        score_x_rows512(A, lda, Xt, d, Kp, k0, i, nv, 1, q);
    finish512(theta, Xt, d, Kp, k0, nv, al, sc, q, scores, mean, quad);
}

/* score_x: one model on K arms from the contexts alone (soa_kernel.h); the
 * same arithmetic as score1 without its O(K d^2) table, FMA-bound, measured in
 * bench.c section 2 with K (2P + 2d) flops. */
static size_t score_x_avx512(const double *A, size_t lda, const double *theta, double alpha,
                             double scale, const double *Xt, size_t d, size_t K, size_t Kp,
                             double *scores, double *mean, double *quad)
{
    __m512d al = _mm512_set1_pd(alpha), sc = _mm512_set1_pd(scale);
    for (size_t k0 = 0; k0 < Kp;) {
        size_t nv = (Kp - k0) / 8;
        if (nv >= 4) {
            score_x_512(A, lda, theta, al, sc, Xt, d, Kp, k0, 4, scores, mean, quad);
            k0 += 32;
        } else if (nv == 3) {
            score_x_512(A, lda, theta, al, sc, Xt, d, Kp, k0, 3, scores, mean, quad);
            k0 += 24;
        } else if (nv == 2) {
            score_x_512(A, lda, theta, al, sc, Xt, d, Kp, k0, 2, scores, mean, quad);
            k0 += 16;
        } else {
            score_x_512(A, lda, theta, al, sc, Xt, d, Kp, k0, 1, scores, mean, quad);
            k0 += 8;
        }
    }
    return scores ? argmax512(scores, K) : 0;
}

/* score_lane (soa_kernel.h) on arms k0..k0+8nv-1: the scalar loop's
 * products and sums, one vector of 8 arms per lane of the loop (q's chain
 * per arm is its P additions in order; the means' chains run beside them). */
AI void score_lane_512(const double *A, const double *theta, __m512d wd, const double *Xt, size_t d,
                       size_t Kp, size_t k0, const int nv, double *scores)
{
    __m512d q[4], m[4], x2[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++)
        q[v] = m[v] = _mm512_setzero_pd();
    for (size_t r = 0, e = 0; r < d; r++) {
        const double *xr = Xt + r * Kp + k0;
        __m512d a = _mm512_set1_pd(A[e++ * W]), t = _mm512_set1_pd(theta[r * W]);
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++) {
            __m512d x = _mm512_loadu_pd(xr + 8 * v);
            x2[v] = _mm512_add_pd(x, x); /* 2 x, exactly */
            q[v] = _mm512_add_pd(q[v], _mm512_mul_pd(a, _mm512_mul_pd(x, x)));
            m[v] = _mm512_add_pd(m[v], _mm512_mul_pd(t, x));
        }
        for (size_t c = r + 1; c < d; c++) {
            const double *xc = Xt + c * Kp + k0;
            a = _mm512_set1_pd(A[e++ * W]);
            _Pragma("GCC unroll 4")
            for (int v = 0; v < nv; v++)
                q[v] = _mm512_add_pd(q[v], _mm512_mul_pd(a, _mm512_mul_pd(x2[v], _mm512_loadu_pd(xc + 8 * v))));
        }
    }
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++) {
        /* q > 0 ? q : 0 (a NaN gives 0, as the scalar test) */
        __m512d qq = _mm512_maskz_mov_pd(_mm512_cmp_pd_mask(q[v], _mm512_setzero_pd(), _CMP_GT_OQ), q[v]);
        _mm512_storeu_pd(scores + k0 + 8 * v, _mm512_add_pd(m[v], _mm512_mul_pd(wd, _mm512_sqrt_pd(qq))));
    }
}

static void score_lane_avx512(const double *A, const double *theta, double wd, const double *Xt,
                              size_t d, size_t Kp, double *scores)
{
    __m512d w = _mm512_set1_pd(wd);
    for (size_t k0 = 0; k0 < Kp;) {
        size_t nv = (Kp - k0) / 8;
        if (nv >= 4) {
            score_lane_512(A, theta, w, Xt, d, Kp, k0, 4, scores);
            k0 += 32;
        } else if (nv == 3) {
            score_lane_512(A, theta, w, Xt, d, Kp, k0, 3, scores);
            k0 += 24;
        } else if (nv == 2) {
            score_lane_512(A, theta, w, Xt, d, Kp, k0, 2, scores);
            k0 += 16;
        } else {
            score_lane_512(A, theta, w, Xt, d, Kp, k0, 1, scores);
            k0 += 8;
        }
    }
}

/* score_mq: finish512's last step on given means and forms (the same
 * operations, so the same bits as score_x on this path). */
static size_t score_mq_avx512(const double *mean, const double *quad, double alpha, double scale,
                              size_t K, size_t Kp, double *scores)
{
    __m512d al = _mm512_set1_pd(alpha), sc = _mm512_set1_pd(scale), zero = _mm512_setzero_pd();
    for (size_t k = 0; k < Kp; k += 8) {
        __m512d qq = _mm512_mul_pd(_mm512_max_pd(_mm512_loadu_pd(quad + k), zero), sc);
        _mm512_storeu_pd(scores + k, _mm512_fmadd_pd(al, _mm512_sqrt_pd(qq), _mm512_loadu_pd(mean + k)));
    }
    return argmax512(scores, K);
}

/* score_ms: score_mq's operations without the fusion (the scalar loop's
 * bits: max(q, 0) is 0 for a NaN q, as the scalar select). */
static size_t score_ms_avx512(const double *mean, const double *quad, double alpha, double scale,
                              size_t K, size_t Kp, double *scores)
{
    __m512d al = _mm512_set1_pd(alpha), sc = _mm512_set1_pd(scale), zero = _mm512_setzero_pd();
    for (size_t k = 0; k < Kp; k += 8) {
        __m512d qq = _mm512_mul_pd(_mm512_max_pd(_mm512_loadu_pd(quad + k), zero), sc);
        _mm512_storeu_pd(scores + k, _mm512_add_pd(_mm512_loadu_pd(mean + k), _mm512_mul_pd(al, _mm512_sqrt_pd(qq))));
    }
    return argmax512(scores, K);
}

/* dist2 / dist2_idx: CLUB's edge tests, d subtract-multiply-adds per
 * neighbour, lanes along the neighbours (no BLAS routine computes a set of
 * distances in a fixed summation order); memory bound on wT. */
static void dist2_avx512(const double *wT, size_t ld, const double *wu, size_t d, size_t n,
                         double *out)
{
    size_t i = 0;
    for (; i + 32 <= n; i += 32) { /* 4 blocks: independent chains of adds */
        __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t j = 0; j < d; j++) {
            const double *w = wT + j * ld + i;
            __m512d x = _mm512_set1_pd(wu[j]);
            __m512d e0 = _mm512_sub_pd(x, _mm512_loadu_pd(w)), e1 = _mm512_sub_pd(x, _mm512_loadu_pd(w + 8));
            __m512d e2 = _mm512_sub_pd(x, _mm512_loadu_pd(w + 16)), e3 = _mm512_sub_pd(x, _mm512_loadu_pd(w + 24));
            a0 = _mm512_add_pd(a0, _mm512_mul_pd(e0, e0));
            a1 = _mm512_add_pd(a1, _mm512_mul_pd(e1, e1));
            a2 = _mm512_add_pd(a2, _mm512_mul_pd(e2, e2));
            a3 = _mm512_add_pd(a3, _mm512_mul_pd(e3, e3));
        }
        _mm512_storeu_pd(out + i, a0);
        _mm512_storeu_pd(out + i + 8, a1);
        _mm512_storeu_pd(out + i + 16, a2);
        _mm512_storeu_pd(out + i + 24, a3);
    }
    for (; i < n; i += 8) { /* the rest, by 8 (the last masked): the same sums */
        const __mmask8 m = tail8(n - i);
        __m512d acc = _mm512_setzero_pd();
        for (size_t j = 0; j < d; j++) {
            __m512d e = _mm512_sub_pd(_mm512_set1_pd(wu[j]), _mm512_maskz_loadu_pd(m, wT + j * ld + i));
            acc = _mm512_add_pd(acc, _mm512_mul_pd(e, e));
        }
        _mm512_mask_storeu_pd(out + i, m, acc);
    }
}

/* far_f32's tests (soa_kernel.h) on 8 sums of squares sh (members with
 * bits mh, their cb at cb): the far and keep masks, in double. kv: cbu,
 * then k[0..5] broadcast. */
AI void f32_half512(__m256 sh, const double *cb, __mmask8 mh, const __m512d *kv, __mmask8 *far,
                    __mmask8 *keep)
{
    const __m512d fmax = _mm512_set1_pd(FLT_MAX), zero = _mm512_setzero_pd();
    __m512d S = _mm512_cvtps_pd(sh);
    __m512d t = _mm512_add_pd(kv[0], _mm512_maskz_loadu_pd(mh, cb));
    __m512d a = _mm512_sub_pd(_mm512_mul_pd(t, kv[3]), kv[2]);
    __m512d b = _mm512_add_pd(_mm512_mul_pd(t, kv[6]), kv[5]);
    __mmask8 fh = _mm512_mask_cmp_pd_mask(mh, S, fmax, _CMP_LE_OQ);
    fh = _mm512_mask_cmp_pd_mask(fh, t, zero, _CMP_GE_OQ); /* the bounds hold for t >= 0 */
    *far = _mm512_mask_cmp_pd_mask(fh, _mm512_mul_pd(S, kv[4]), _mm512_mul_pd(b, b), _CMP_GT_OQ);
    __mmask8 kh = _mm512_mask_cmp_pd_mask(mh, a, zero, _CMP_GE_OQ);
    *keep = _mm512_mask_cmp_pd_mask(kh, _mm512_mul_pd(S, kv[1]), _mm512_mul_pd(a, a), _CMP_LE_OQ);
}

/* f32_half512 on the two halves of 16 sums s (members with bits m). */
AI void f32_verdict512(__m512 s, const double *cb, __mmask16 m, const __m512d *kv, __mmask16 *far,
                       __mmask16 *keep)
{
    __mmask8 f0, k0, f1, k1;
    f32_half512(_mm512_castps512_ps256(s), cb, (__mmask8)m, kv, &f0, &k0);
    f32_half512(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)), cb + 8,
                (__mmask8)(m >> 8), kv, &f1, &k1);
    *far = (__mmask16)(f0 | (unsigned)f1 << 8);
    *keep = (__mmask16)(k0 | (unsigned)k1 << 8);
}

/* far_f32's sums for the nv <= 4 vectors of 16 members from i0 (m: the
 * members of each; masked-off lanes load nothing), nv independent FMA
 * chains kept in registers. */
AI void f32_sums512(const float *wT, size_t ld, const float *wu, size_t d, size_t i0, const __mmask16 *m,
                    const int nv, __m512 *acc)
{
    /* named registers, not an array: GCC kept an array's sums in memory */
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const __mmask16 m0 = m[0], m1 = nv > 1 ? m[1] : 0, m2 = nv > 2 ? m[2] : 0, m3 = nv > 3 ? m[3] : 0;
    for (size_t j = 0; j < d; j++) {
        const float *x = wT + j * ld + i0;
        __m512 u = _mm512_set1_ps(wu[j]), e;
        e = _mm512_sub_ps(u, _mm512_maskz_loadu_ps(m0, x));
        a0 = _mm512_fmadd_ps(e, e, a0);
        if (nv > 1) {
            e = _mm512_sub_ps(u, _mm512_maskz_loadu_ps(m1, x + 16));
            a1 = _mm512_fmadd_ps(e, e, a1);
        }
        if (nv > 2) {
            e = _mm512_sub_ps(u, _mm512_maskz_loadu_ps(m2, x + 32));
            a2 = _mm512_fmadd_ps(e, e, a2);
        }
        if (nv > 3) {
            e = _mm512_sub_ps(u, _mm512_maskz_loadu_ps(m3, x + 48));
            a3 = _mm512_fmadd_ps(e, e, a3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* far_f32: 16 members a vector, 64 a pass (4 independent FMA chains, one
 * word of bits); the tests in double on the sums (f32_verdict512). */
static void far_f32_avx512(const float *wT, size_t ld, const float *wu, size_t d, size_t n,
                           const double *cb, double cbu, const double *k, uint64_t *far,
                           uint64_t *unsure)
{
    __m512d kv[7];
    kv[0] = _mm512_set1_pd(cbu);
    for (int i = 0; i < 6; i++)
        kv[i + 1] = _mm512_set1_pd(k[i]);
    for (size_t w = 0; w < (n + 63) / 64; w++) {
        size_t i0 = w * 64, left = n - i0;
        int nv = left >= 64 ? 4 : (int)((left + 15) / 16);
        __m512 acc[4];
        __mmask16 m[4];
        for (int v = 0; v < 4; v++) {
            size_t r = left > (size_t)16 * v ? left - (size_t)16 * v : 0;
            m[v] = r >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << r) - 1);
        }
        switch (nv) {
        case 4: f32_sums512(wT, ld, wu, d, i0, m, 4, acc); break;
        case 3: f32_sums512(wT, ld, wu, d, i0, m, 3, acc); break;
        case 2: f32_sums512(wT, ld, wu, d, i0, m, 2, acc); break;
        default: f32_sums512(wT, ld, wu, d, i0, m, 1, acc); break;
        }
        uint64_t fw = 0, uw = 0;
        for (int v = 0; v < nv; v++) {
            __mmask16 f, kp;
            f32_verdict512(acc[v], cb + i0 + 16 * v, m[v], kv, &f, &kp);
            fw |= (uint64_t)f << (16 * v);
            uw |= (uint64_t)(__mmask16)(m[v] & ~(f | kp)) << (16 * v);
        }
        far[w] = fw;
        unsure[w] = uw;
    }
}

/* The rows of the flat ridge step, 8 <= d <= 64 (NV vectors at off8):
 * each row is covered by unmasked vectors at 0, 8, ... and one ending at d
 * (overlapping: its shared entries get the same value twice), all loaded
 * before any is stored: a masked store whose masked-off lanes cover the
 * next row would stall that row's loads (store forwarding fails on the
 * partial overlap). */

/* V_j += (w x_j) x for every row j. It needs neither u nor c, so a step
 * issues it between A x and the sums that lead to c: its loads and stores
 * run while those chains wait (10-16 % of a two-model step at d = 15). */
AI void v_rows512(double *V, const double *x, double w, size_t d, const int NV)
{
    __m512d xv[8];
    _Pragma("GCC unroll 8")
    for (int i = 0; i < NV; i++)
        xv[i] = _mm512_loadu_pd(x + off8(i, d));
    for (size_t j = 0; j < d; j++) {
        __m512d wxj = _mm512_set1_pd(w * x[j]), v[8];
        double *Vj = V + j * d;
        _Pragma("GCC unroll 8")
        for (int i = 0; i < NV; i++)
            v[i] = _mm512_loadu_pd(Vj + off8(i, d));
        _Pragma("GCC unroll 8")
        for (int i = 0; i < NV; i++)
            _mm512_storeu_pd(Vj + off8(i, d), _mm512_add_pd(v[i], _mm512_mul_pd(wxj, xv[i])));
    }
}

/* rank1_sub for 8 <= d <= 64 (ridge steps; rank1_sub itself to 32), row by row, each row as NV = ceil(d / 8)
 * unmasked vectors at off8 (the last one ending at the row's end, so it
 * may overlap the one before): the row's vectors are all loaded before any
 * is stored, so an entry in two vectors gets the same value twice. With
 * the row's tail masked instead, the masked store covered the next row's
 * first entry (a masked-off lane), and the next row's load waited for it
 * to reach the cache (and the next call's loads for the masked stores): at
 * d = 15 that was three quarters of the kernel's time. The same products
 * and differences, so the same bits. */
AI void rank1_sub_rows512(double *A, const double *u, double c, size_t d, const int NV)
{
    const __m512d cv = _mm512_set1_pd(c);
    __m512d uv[8];
    _Pragma("GCC unroll 8")
    for (int v = 0; v < NV; v++)
        uv[v] = _mm512_loadu_pd(u + off8(v, d));
    for (size_t j = 0; j < d; j++) {
        __m512d uj = _mm512_set1_pd(u[j]), a[8];
        double *Aj = A + j * d;
        _Pragma("GCC unroll 8")
        for (int v = 0; v < NV; v++)
            a[v] = _mm512_loadu_pd(Aj + off8(v, d));
        _Pragma("GCC unroll 8")
        for (int v = 0; v < NV; v++)
            _mm512_storeu_pd(Aj + off8(v, d),
                             _mm512_sub_pd(a[v], _mm512_mul_pd(_mm512_mul_pd(uj, uv[v]), cv)));
    }
}

/* A_j -= (u_j u) c for every row j (rank1_sub_rows512), then b += ry x and
 * theta += gain u (by vectors: the scalar loop's products and sums, entry
 * by entry). */
AI void a_rows512(double *A, double *b, double *th, const double *x, const double *u, double c,
                  double ry, double gain, size_t d, const int NV)
{
    rank1_sub_rows512(A, u, c, d, NV);
    const __m512d ryv = _mm512_set1_pd(ry), gv = _mm512_set1_pd(gain);
    __m512d t[8], bt[8];
    _Pragma("GCC unroll 8")
    for (int i = 0; i < NV; i++) {
        bt[i] = _mm512_loadu_pd(b + off8(i, d));
        t[i] = _mm512_loadu_pd(th + off8(i, d));
    }
    _Pragma("GCC unroll 8")
    for (int i = 0; i < NV; i++) {
        _mm512_storeu_pd(b + off8(i, d), _mm512_add_pd(bt[i], _mm512_mul_pd(ryv, _mm512_loadu_pd(x + off8(i, d)))));
        _mm512_storeu_pd(th + off8(i, d), _mm512_add_pd(t[i], _mm512_mul_pd(gv, _mm512_loadu_pd(u + off8(i, d)))));
    }
}

/* The same row for other d: masked vectors (Vj NULL: A's row only). */
AI void row_masked512(double *Aj, double *Vj, const double *u, const double *x, __m512d uj,
                      __m512d cv, __m512d wxj, size_t d)
{
    for (size_t k0 = 0; k0 < d; k0 += 8) {
        __mmask8 m = tail8(d - k0);
        __m512d uk = _mm512_maskz_loadu_pd(m, u + k0);
        _mm512_mask_storeu_pd(Aj + k0, m, _mm512_sub_pd(_mm512_maskz_loadu_pd(m, Aj + k0),
                              _mm512_mul_pd(_mm512_mul_pd(uj, uk), cv)));
        if (Vj)
            _mm512_mask_storeu_pd(Vj + k0, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, Vj + k0),
                                  _mm512_mul_pd(wxj, _mm512_maskz_loadu_pd(m, x + k0))));
    }
}

/* colsum / rank1_sub: diversify.c's rank-one downdates of hallucinated
 * copies and their K quadratic forms, bit for bit the scalar loops (so no
 * FMA); lanes along the columns, up to 4 vectors (4 independent add chains)
 * per pass. */
/* NV column vectors of colsum from vector v0 on (vector v at off8(v, n),
 * the last one ending at n), each lane's sum over l in order. */
AI void colsum_vecs512(const double *A, size_t lda, const double *x, size_t d, size_t n,
                       double *u, int v0, const int NV)
{
    __m512d acc[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++)
        acc[v] = _mm512_setzero_pd();
    for (size_t l = 0; l < d; l++) {
        __m512d xl = _mm512_set1_pd(x[l]);
        const double *row = A + l * lda;
        _Pragma("GCC unroll 4")
        for (int v = 0; v < NV; v++)
            acc[v] = _mm512_add_pd(acc[v], _mm512_mul_pd(_mm512_loadu_pd(row + off8(v0 + v, n)), xl));
    }
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++)
        _mm512_storeu_pd(u + off8(v0 + v, n), acc[v]);
}

static void colsum_avx512(const double *A, size_t lda, const double *x, size_t d, size_t n,
                          double *u)
{
    if (n >= 8) { /* vectors at 0, 8, ... and one ending at n: only those needed */
        int nv = (int)((n + 7) / 8), v0 = 0;
        for (; nv - v0 >= 4; v0 += 4)
            colsum_vecs512(A, lda, x, d, n, u, v0, 4);
        switch (nv - v0) {
        case 3: colsum_vecs512(A, lda, x, d, n, u, v0, 3); break;
        case 2: colsum_vecs512(A, lda, x, d, n, u, v0, 2); break;
        case 1: colsum_vecs512(A, lda, x, d, n, u, v0, 1); break;
        default: break;
        }
        return;
    }
    __mmask8 m = (__mmask8)((1u << n) - 1); /* n < 8: one masked vector */
    __m512d acc = _mm512_setzero_pd();
    for (size_t l = 0; l < d; l++)
        acc = _mm512_add_pd(acc, _mm512_mul_pd(_mm512_maskz_loadu_pd(m, A + l * lda), _mm512_set1_pd(x[l])));
    _mm512_mask_storeu_pd(u, m, acc);
}

/* ridge_step: the flat bank's rank-one step on full d x d matrices, bit for
 * bit the scalar code (so no FMA); a DSYR pair would cost two calls for
 * 4 d^2 flops and change the rounding. */
static double ridge_step_avx512(double *A, double *V, double *b, double *th, const double *t0,
                                const double *x, double y, double w, size_t d, double *u)
{
    colsum_avx512(A, d, x, d, d, u); /* u[j] = sum_k A_kj x_k, k in order */
    const int NV = d >= 8 && d <= 64 ? (int)(d + 7) / 8 : 0;
    if (V && NV) /* V's rows first (v_rows512) */
        switch (NV) {
#define CASE(n_) case n_: v_rows512(V, x, w, d, n_); break;
            CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
#undef CASE
        default: break;
        }
    double s = 0.0, pred0 = 0.0, pred = 0.0;
    for (size_t j = 0; j < d; j++) {
        s += x[j] * u[j];
        pred0 += x[j] * t0[j];
        pred += x[j] * th[j];
    }
    double c = w / (1.0 + w * s);
    double ry = w * (y - pred0), gain = c * (y - pred);
    switch (NV) {
#define CASE(n_) case n_: a_rows512(A, b, th, x, u, c, ry, gain, d, n_); return s;
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
#undef CASE
    default: break;
    }
    __m512d cv = _mm512_set1_pd(c);
    for (size_t j = 0; j < d; j++) {
        row_masked512(A + j * d, V ? V + j * d : NULL, u, x, _mm512_set1_pd(u[j]), cv,
                      _mm512_set1_pd(w * x[j]), d);
        b[j] += ry * x[j];
        th[j] += gain * u[j];
    }
    return s;
}

/* Two ridge_step_avx512 interleaved: every operation of each model is the
 * one ridge_step_avx512 does, in the same order; only the two independent
 * dependency chains run side by side. 8 <= d <= 32 (NV vectors at off8, the
 * last ending at d: unmasked stores of u, which the sums below load at once);
 * other d: two calls. */
AI void ridge_step2_512(double *const m[2][5], const double *const x[2], const double y[2],
                        double w, size_t d, double *u, double s[2], const int NV)
{
    const double *A0 = m[0][0], *A1 = m[1][0], *x0 = x[0], *x1 = x[1];
    double *u0 = u, *u1 = u + d;
    __m512d acc0[4], acc1[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++)
        acc0[v] = acc1[v] = _mm512_setzero_pd();
    for (size_t l = 0; l < d; l++) { /* u = A x: colsum's sums, k in order */
        __m512d xl0 = _mm512_set1_pd(x0[l]), xl1 = _mm512_set1_pd(x1[l]);
        _Pragma("GCC unroll 4")
        for (int v = 0; v < NV; v++) {
            acc0[v] = _mm512_add_pd(acc0[v], _mm512_mul_pd(_mm512_loadu_pd(A0 + l * d + off8(v, d)), xl0));
            acc1[v] = _mm512_add_pd(acc1[v], _mm512_mul_pd(_mm512_loadu_pd(A1 + l * d + off8(v, d)), xl1));
        }
    }
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++) {
        _mm512_storeu_pd(u0 + off8(v, d), acc0[v]);
        _mm512_storeu_pd(u1 + off8(v, d), acc1[v]);
    }
    for (int i = 0; i < 2; i++) /* V's rows before the sums (v_rows512) */
        if (m[i][1])
            v_rows512(m[i][1], x[i], w, d, NV);
    double c[2], ry[2], gain[2];
    colb__soa_step2_scalars(m, x, y, w, d, u, s, c, ry, gain);
    for (int i = 0; i < 2; i++)
        a_rows512(m[i][0], m[i][2], m[i][3], x[i], u + (size_t)i * d, c[i], ry[i], gain[i], d, NV);
}

static void ridge_step2_avx512(double *const m[2][5], const double *const x[2], const double y[2],
                               double w, size_t d, double *u, double s[2])
{
    switch (d >= 8 && d <= 32 ? (d + 7) / 8 : 0) {
    case 1: ridge_step2_512(m, x, y, w, d, u, s, 1); return;
    case 2: ridge_step2_512(m, x, y, w, d, u, s, 2); return;
    case 3: ridge_step2_512(m, x, y, w, d, u, s, 3); return;
    case 4: ridge_step2_512(m, x, y, w, d, u, s, 4); return;
    default: break;
    }
    for (int i = 0; i < 2; i++)
        s[i] = ridge_step_avx512(m[i][0], m[i][1], m[i][2], m[i][3], m[i][4], x[i], y[i], w, d,
                                 u + (size_t)i * d);
}

/* colb__soa_outer with the rows of Q as vector products of rows of X^T
 * (ldq is a multiple of 8 here, or the scalar tail finishes the row). */
static void transpose_avx512(const double *X, size_t K, size_t d, size_t ldq, double *Xt);

static void outer_avx512(const double *X, size_t K, size_t d, size_t ldq, double *Q, double *Xt)
{
    transpose_avx512(X, K, d, ldq, Xt);
    __m512d two = _mm512_set1_pd(2.0);
    double *q = Q;
    for (size_t i = 0; i < d; i++) {
        const double *ti = Xt + i * ldq;
        for (size_t j = i; j < d; j++, q += ldq) {
            const double *tj = Xt + j * ldq;
            size_t k = 0;
            if (i == j) {
                for (; k + 8 <= ldq; k += 8)
                    _mm512_storeu_pd(q + k, _mm512_mul_pd(_mm512_loadu_pd(ti + k),
                                                    _mm512_loadu_pd(ti + k)));
                for (; k < ldq; k++)
                    q[k] = ti[k] * ti[k];
            } else {
                for (; k + 8 <= ldq; k += 8)
                    _mm512_storeu_pd(q + k, _mm512_mul_pd(_mm512_mul_pd(two, _mm512_loadu_pd(ti + k)),
                                                    _mm512_loadu_pd(tj + k)));
                for (; k < ldq; k++)
                    q[k] = (2.0 * ti[k]) * tj[k];
            }
        }
    }
}

static void dist2_idx_avx512(const double *wT, size_t ld, const double *wu, size_t d,
                             const size_t *idx, size_t n, double *out)
{
    size_t q = 0;
    for (; q + 8 <= n; q += 8) { /* 8 columns per gather */
        __m512i vi = _mm512_loadu_si512((const void *)(idx + q));
        __m512d acc = _mm512_setzero_pd();
        for (size_t j = 0; j < d; j++) {
            __m512d g = _mm512_i64gather_pd(vi, wT + j * ld, 8);
            __m512d e = _mm512_sub_pd(_mm512_set1_pd(wu[j]), g);
            acc = _mm512_add_pd(acc, _mm512_mul_pd(e, e));
        }
        _mm512_storeu_pd(out + q, acc);
    }
    if (q < n) { /* the last columns: a masked gather (masked-off lanes read nothing) */
        const __mmask8 m = tail8(n - q);
        __m512i vi = _mm512_maskz_loadu_epi64(m, (const void *)(idx + q));
        __m512d acc = _mm512_setzero_pd();
        for (size_t j = 0; j < d; j++) {
            __m512d g = _mm512_mask_i64gather_pd(_mm512_setzero_pd(), m, vi, wT + j * ld, 8);
            __m512d e = _mm512_sub_pd(_mm512_set1_pd(wu[j]), g);
            acc = _mm512_add_pd(acc, _mm512_mul_pd(e, e));
        }
        _mm512_mask_storeu_pd(out + q, m, acc);
    }
}

AI void rank1_rows512(double *R, const double *u, __m512d cv, size_t d, const int sm);

/* rank1_sub: see colsum above; other d by sm_step's row loop (the same
 * products and differences). */
static void rank1_sub_avx512(double *A, const double *u, double c, size_t d)
{
    switch (d >= 8 && d <= 32 ? (d + 7) / 8 : 0) {
    case 1: rank1_sub_rows512(A, u, c, d, 1); return;
    case 2: rank1_sub_rows512(A, u, c, d, 2); return;
    case 3: rank1_sub_rows512(A, u, c, d, 3); return;
    case 4: rank1_sub_rows512(A, u, c, d, 4); return;
    default: rank1_rows512(A, u, _mm512_set1_pd(c), d, 1); return;
    }
}

/* bounded: |x| <= bound 8 at a time (ordered compare: NaN fails). */
/* far_bits: 8 comparisons a vector into a mask (ordered: a NaN compares
 * false), the same products and sums as the scalar expression; the last
 * partial vector masked. */
static void far_bits_avx512(const double *dist, const double *cb, double cbu, size_t n,
                            uint64_t *far)
{
    __m512d cu = _mm512_set1_pd(cbu);
    for (size_t w = 0; w < (n + 63) / 64; w++)
        far[w] = 0;
    for (size_t i = 0; i < n; i += 8) {
        __mmask8 m = n - i >= 8 ? 0xff : (__mmask8)((1u << (n - i)) - 1);
        __m512d t = _mm512_add_pd(cu, _mm512_maskz_loadu_pd(m, cb + i));
        __mmask8 gt = _mm512_mask_cmp_pd_mask(m, _mm512_maskz_loadu_pd(m, dist + i),
                                              _mm512_mul_pd(t, t), _CMP_GT_OQ);
        far[i / 64] |= (uint64_t)gt << (i % 64);
    }
}

/* above_bits: 8 ordered comparisons a vector into a mask (a NaN compares
 * false); the last partial vector masked. */
static size_t above_bits_avx512(const double *v, size_t n, double h, uint64_t *bits)
{
    __m512d hv = _mm512_set1_pd(h);
    size_t cnt = 0;
    for (size_t w = 0; w < (n + 63) / 64; w++) {
        size_t m = n - w * 64 < 64 ? n - w * 64 : 64;
        const double *x = v + w * 64;
        uint64_t b = 0;
        for (size_t i = 0; i < m; i += 8) {
            __mmask8 k = m - i >= 8 ? 0xff : (__mmask8)((1u << (m - i)) - 1);
            b |= (uint64_t)_mm512_mask_cmp_pd_mask(k, _mm512_maskz_loadu_pd(k, x + i), hv,
                                                   _CMP_GT_OQ) << i;
        }
        bits[w] = b;
        cnt += colb__popcount64(b);
    }
    return cnt;
}

static int bounded_avx512(const double *x, size_t n, double bound)
{
    __m512d bv = _mm512_set1_pd(bound);
    __mmask8 ok = 0xff;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        ok &= _mm512_cmp_pd_mask(_mm512_abs_pd(_mm512_loadu_pd(x + i)), bv, _CMP_LE_OQ);
    if (i < n) {
        __mmask8 m = (__mmask8)((1u << (n - i)) - 1);
        ok &= (__mmask8)(_mm512_mask_cmp_pd_mask(m, _mm512_abs_pd(_mm512_maskz_loadu_pd(m, x + i)),
                                                 bv, _CMP_LE_OQ) | (__mmask8)~m);
    }
    return ok == 0xff;
}

/* ---- dense d x d helpers (soa_kernel.h): 8 independent sums per zmm,
 * products rounded (no FMA), each sum in the scalar order. Hand-written
 * because at d = 15 a BLAS call costs more than the 2 d^2 flops, and BLAS's
 * summation order is not the scalar one cohort's fixed-seed results depend
 * on. A row of 8 <= n <= 64 entries is covered as in v_rows512 (unmasked
 * vectors at 0, 8, ... and one ending at n, all loaded before any is
 * stored): a masked store whose masked-off lanes cover the next row would
 * stall that row's loads, and these loops run along dependent rows
 * (tail8, nvec8 and off8 at the top of the file). */

static void symv_avx512(const double *A, size_t d, const double *x, double *y)
{
    for (size_t a0 = 0; a0 < d; a0 += 16) { /* two chains when d allows */
        __mmask8 m0 = tail8(d - a0), m1 = d - a0 > 8 ? tail8(d - a0 - 8) : 0;
        __m512d y0 = _mm512_maskz_loadu_pd(m0, y + a0), y1 = _mm512_maskz_loadu_pd(m1, y + a0 + 8);
        for (size_t k = 0; k < d; k++) {
            __m512d xk = _mm512_set1_pd(x[k]);
            y0 = _mm512_add_pd(y0, _mm512_mul_pd(_mm512_maskz_loadu_pd(m0, A + k * d + a0), xk));
            y1 = _mm512_add_pd(y1, _mm512_mul_pd(_mm512_maskz_loadu_pd(m1, A + k * d + a0 + 8), xk));
        }
        _mm512_mask_storeu_pd(y + a0, m0, y0);
        _mm512_mask_storeu_pd(y + a0 + 8, m1, y1);
    }
}

static void coldot_avx512(const double *A, const double *B, size_t d, double *out)
{
    for (size_t a0 = 0; a0 < d; a0 += 8) {
        __mmask8 m = tail8(d - a0);
        __m512d acc = _mm512_setzero_pd();
        for (size_t k = 0; k < d; k++)
            acc = _mm512_add_pd(acc, _mm512_mul_pd(_mm512_maskz_loadu_pd(m, A + k * d + a0),
                                                   _mm512_maskz_loadu_pd(m, B + k * d + a0)));
        _mm512_mask_storeu_pd(out + a0, m, acc);
    }
}

/* Column k of the factor for 8 <= d <= 64 (nv vectors): row k of L^T, the
 * vectors that hold some entry j >= k (the others' entries are never read:
 * a later column reads a vector of row q only where it holds one of its own
 * entries), each as S_kj - sum_{q<k} L_jq L_kq in q order, the pivot's
 * square root on the diagonal and the rest divided by it. Returns the
 * pivot's square, <= 0 (or NaN) when S is not positive definite. */
AI double chol_col512(const double *S, double *L, size_t d, size_t k, const int nv)
{
    __m512d acc[8];
    _Pragma("GCC unroll 8")
    for (int v = 0; v < nv; v++)
        acc[v] = off8(v, d) + 8 > k ? _mm512_loadu_pd(S + k * d + off8(v, d)) /* S_kj = S_jk */
                                    : _mm512_setzero_pd();
    for (size_t q = 0; q < k; q++) {
        __m512d lkq = _mm512_set1_pd(L[q * d + k]);
        _Pragma("GCC unroll 8")
        for (int v = 0; v < nv; v++)
            if (off8(v, d) + 8 > k)
                acc[v] = _mm512_sub_pd(acc[v], _mm512_mul_pd(_mm512_loadu_pd(L + q * d + off8(v, d)), lkq));
    }
    int vk = (int)(k / 8) < nv - 1 ? (int)(k / 8) : nv - 1; /* a vector holding lane k */
    size_t lk = k - off8(vk, d);
    double s = _mm512_cvtsd_f64(_mm512_permutexvar_pd(_mm512_set1_epi64((long long)lk), acc[vk]));
    if (!(s > 0.0))
        return s;
    __m512d lv = _mm512_set1_pd(sqrt(s));
    _Pragma("GCC unroll 8")
    for (int v = 0; v < nv; v++) {
        size_t o = off8(v, d);
        if (o + 8 <= k)
            continue;
        __m512d r = _mm512_div_pd(acc[v], lv);
        if (k >= o) /* the diagonal (in both vectors where they overlap) */
            r = _mm512_mask_blend_pd((__mmask8)(1u << (k - o)), r, lv);
        _mm512_storeu_pd(L + k * d + o, r);
    }
    return s;
}

/* ln det from the pivots' product kept as pm * 2^ex (colb__cholesky's). */
AI void pivot_prod(double *pm, int *ex, double s)
{
    *pm *= s;
    if (*pm > 0x1p500 || *pm < 0x1p-500) {
        int e;
        *pm = frexp(*pm, &e);
        *ex += e;
    }
}

/* The transpose of the 8 x 8 block r[0..8) (rows of 8 doubles). Written
 * out, every index a constant: with loops over the arrays, -O2 kept them on
 * the stack. */
AI void transpose8(__m512d r[8])
{
    /* 2 x 2 blocks */
    __m512d t0 = _mm512_unpacklo_pd(r[0], r[1]), t1 = _mm512_unpackhi_pd(r[0], r[1]);
    __m512d t2 = _mm512_unpacklo_pd(r[2], r[3]), t3 = _mm512_unpackhi_pd(r[2], r[3]);
    __m512d t4 = _mm512_unpacklo_pd(r[4], r[5]), t5 = _mm512_unpackhi_pd(r[4], r[5]);
    __m512d t6 = _mm512_unpacklo_pd(r[6], r[7]), t7 = _mm512_unpackhi_pd(r[6], r[7]);
    /* 4 x 4: pairs of 128-bit lanes */
    __m512d u0 = _mm512_shuffle_f64x2(t0, t2, 0x88), u2 = _mm512_shuffle_f64x2(t0, t2, 0xdd);
    __m512d u1 = _mm512_shuffle_f64x2(t1, t3, 0x88), u3 = _mm512_shuffle_f64x2(t1, t3, 0xdd);
    __m512d u4 = _mm512_shuffle_f64x2(t4, t6, 0x88), u6 = _mm512_shuffle_f64x2(t4, t6, 0xdd);
    __m512d u5 = _mm512_shuffle_f64x2(t5, t7, 0x88), u7 = _mm512_shuffle_f64x2(t5, t7, 0xdd);
    /* 8 x 8: halves */
    r[0] = _mm512_shuffle_f64x2(u0, u4, 0x88), r[4] = _mm512_shuffle_f64x2(u0, u4, 0xdd);
    r[1] = _mm512_shuffle_f64x2(u1, u5, 0x88), r[5] = _mm512_shuffle_f64x2(u1, u5, 0xdd);
    r[2] = _mm512_shuffle_f64x2(u2, u6, 0x88), r[6] = _mm512_shuffle_f64x2(u2, u6, 0xdd);
    r[3] = _mm512_shuffle_f64x2(u3, u7, 0x88), r[7] = _mm512_shuffle_f64x2(u3, u7, 0xdd);
}

/* colb__soa_transpose by 8 x 8 blocks in registers: 8 rows of X loaded
 * (masked at d's end; rows past K are the zero padding, loaded with an
 * empty mask from a row that exists), transposed, stored as 8 columns'
 * pieces of Xt (masked at ldq's end; columns past d with an empty mask, at
 * a column that exists). Every load and store has a
 * constant register index, with the bounds in the masks: with the bounds in
 * the loops instead, the block lived on the stack (the stores and reloads
 * were most of the kernel's time). */
static void transpose_avx512(const double *X, size_t K, size_t d, size_t ldq, double *Xt)
{
    for (size_t k0 = 0; k0 < ldq; k0 += 8) {
        size_t nk = ldq - k0 < 8 ? ldq - k0 : 8, kr = K > k0 ? (K - k0 < 8 ? K - k0 : 8) : 0;
        __mmask8 mk = (__mmask8)((1u << nk) - 1);
        for (size_t j0 = 0; j0 < d; j0 += 8) {
            size_t nj = d - j0 < 8 ? d - j0 : 8;
            __mmask8 mj = (__mmask8)((1u << nj) - 1);
            const double *x = X + k0 * d + j0;
            double *xt = Xt + j0 * ldq + k0;
            __m512d r[8];
#define LOAD_ROW(i) r[i] = _mm512_maskz_loadu_pd((i) < kr ? mj : 0, (i) < kr ? x + (i) * d : x)
            LOAD_ROW(0); LOAD_ROW(1); LOAD_ROW(2); LOAD_ROW(3);
            LOAD_ROW(4); LOAD_ROW(5); LOAD_ROW(6); LOAD_ROW(7);
#undef LOAD_ROW
            transpose8(r);
            if (nk == 8) { /* plain stores, which the scoring's loads can forward from */
#define STORE_COL(c) if ((c) < nj) _mm512_storeu_pd(xt + (c) * ldq, r[c])
                STORE_COL(0); STORE_COL(1); STORE_COL(2); STORE_COL(3);
                STORE_COL(4); STORE_COL(5); STORE_COL(6); STORE_COL(7);
#undef STORE_COL
            } else {
#define STORE_COL(c) _mm512_mask_storeu_pd((c) < nj ? xt + (c) * ldq : xt, (c) < nj ? mk : 0, r[c])
                STORE_COL(0); STORE_COL(1); STORE_COL(2); STORE_COL(3);
                STORE_COL(4); STORE_COL(5); STORE_COL(6); STORE_COL(7);
#undef STORE_COL
            }
        }
    }
}

/* lt_to_l for 8 < d <= 16 by 8 x 8 transposes in registers: rows 0-7 of L
 * from the upper-left block of L^T, rows 8.. from its upper-right and
 * lower-right blocks (the lower-left block, L^T's lower triangle, is not
 * read), each row's entries after the diagonal zeroed; every entry read
 * before any is written. Every index a constant, the bounds in the masks
 * (rows past d: an empty mask), so that the blocks stay in registers. */
static void lt_to_l16(double *L, size_t d)
{
    const size_t e = d - 8; /* rows and columns past the first 8 */
    const __mmask8 tail = (__mmask8)((1u << e) - 1);
    __m512d a[8], b[8], c[8];
#define LOAD3(i)                                                                  \
    a[i] = _mm512_loadu_pd(L + (i) * d);                                          \
    b[i] = _mm512_maskz_loadu_pd(tail, L + (i) * d + 8);                          \
    c[i] = _mm512_maskz_loadu_pd((i) < e ? tail : 0, L + ((i) < e ? (i) + 8 : 0) * d + 8)
    LOAD3(0); LOAD3(1); LOAD3(2); LOAD3(3); LOAD3(4); LOAD3(5); LOAD3(6); LOAD3(7);
#undef LOAD3
    transpose8(a);
    transpose8(b);
    transpose8(c);
    /* row j < 8: a's row j up to the diagonal, zeros; row 8 + j (j < e):
     * b's row j, then c's up to the diagonal. Each row of d entries as two
     * unmasked vectors, at 0 and at d - 8 (overlapping, the same values):
     * the solves read these rows next, and could not forward from masked
     * stores (a masked tail's store covers the next row's start). */
    const __m512i hi = _mm512_add_epi64(_mm512_set1_epi64((long long)(d - 8)),
                                        _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
    const __m512d zero = _mm512_setzero_pd();
#define STORE3(j)                                                                           \
    {                                                                                       \
        __m512d lo = _mm512_maskz_mov_pd((__mmask8)((2u << (j)) - 1), a[j]);                 \
        _mm512_storeu_pd(L + (j) * d, lo);                                                  \
        _mm512_storeu_pd(L + (j) * d + d - 8, _mm512_permutex2var_pd(lo, hi, zero));        \
        if ((j) < e) {                                                                      \
            __m512d t = _mm512_maskz_mov_pd((__mmask8)((2u << (j)) - 1), c[j]);              \
            _mm512_storeu_pd(L + ((j) + 8) * d, b[j]);                                      \
            _mm512_storeu_pd(L + ((j) + 8) * d + d - 8, _mm512_permutex2var_pd(b[j], hi, t)); \
        }                                                                                   \
    }
    STORE3(0); STORE3(1); STORE3(2); STORE3(3); STORE3(4); STORE3(5); STORE3(6); STORE3(7);
#undef STORE3
}

/* L^T (built in L) to L, the upper triangle zeroed. */
static void lt_to_l(double *L, size_t d)
{
    if (d > 8 && d <= 16) {
        lt_to_l16(L, d);
        return;
    }
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k < j; k++) {
            L[j * d + k] = L[k * d + j];
            L[k * d + j] = 0.0;
        }
}

/* ---- one matrix per lane ----
 * Up to 8 small factorisations at once with matrix m in lane m of every
 * vector: T[(j d + k) 8 + m] holds entry (j, k) of matrix m. Each lane does
 * the scalar code's arithmetic entry by entry (the same products and sums
 * in the same order; only independent entries are reordered), so each
 * lane's results are the scalar functions' bits. Why lanes: a 15 x 15
 * factor's dependency chains (a pivot's square root, then its column's
 * divisions, then the next column) left the one-matrix-at-a-time kernel at
 * ~160 ns a factor, latency-bound; across lanes the chains are the same
 * length but every instruction does 8 matrices' work: 68 ns a factor in
 * batches of 8, transposes in and out included (the recommended policy's
 * noise estimate and predictive scores factor 10^5 matrices a run).
 * Larger factors take the column kernel: a batch's lanes live on the stack
 * (2 x 8 d^2 doubles for chol_fit_n: a 34 KB frame at d = 16), which a
 * library called from threads with small stacks must keep modest. */
#define LANES_DMAX 16
/* Fewer matrices than this go to the one-at-a-time kernel: a batch of
 * lanes costs the same whatever n, 1 to 8 (at d = 15 the two are even at
 * n = 3). */
#ifndef LANES_NMIN
#define LANES_NMIN 4
#endif

/* Entries k0..k0+7 (mask mk) of row j of the 8 matrices M[m] into T. */
AI void lanes_in(const double *const *M, size_t d, size_t j, size_t k0, __mmask8 mk, double *T)
{
    __m512d r[8];
#define LOAD_ROW(m) r[m] = _mm512_maskz_loadu_pd(mk, M[m] + j * d + k0)
    LOAD_ROW(0); LOAD_ROW(1); LOAD_ROW(2); LOAD_ROW(3);
    LOAD_ROW(4); LOAD_ROW(5); LOAD_ROW(6); LOAD_ROW(7);
#undef LOAD_ROW
    transpose8(r);
    double *t = T + (j * d + k0) * 8;
#define STORE_E(i) if ((mk >> (i)) & 1) _mm512_store_pd(t + (i) * 8, r[i])
    STORE_E(0); STORE_E(1); STORE_E(2); STORE_E(3);
    STORE_E(4); STORE_E(5); STORE_E(6); STORE_E(7);
#undef STORE_E
}

/* The inverse of lanes_in for the first n matrices, the entries past
 * column `last` written as zeros. */
AI void lanes_out(double *const *M, size_t n, size_t d, size_t j, size_t k0, __mmask8 mk,
                  size_t last, const double *T)
{
    __m512d r[8];
    const double *t = T + (j * d + k0) * 8;
#define LOAD_E(i) r[i] = k0 + (i) <= last ? _mm512_load_pd(t + (i) * 8) : _mm512_setzero_pd()
    LOAD_E(0); LOAD_E(1); LOAD_E(2); LOAD_E(3);
    LOAD_E(4); LOAD_E(5); LOAD_E(6); LOAD_E(7);
#undef LOAD_E
    transpose8(r);
#define STORE_ROW(m) if ((m) < n) _mm512_mask_storeu_pd(M[m] + j * d + k0, mk, r[m])
    STORE_ROW(0); STORE_ROW(1); STORE_ROW(2); STORE_ROW(3);
    STORE_ROW(4); STORE_ROW(5); STORE_ROW(6); STORE_ROW(7);
#undef STORE_ROW
}

/* The lower triangles of S[0..n) into T (missing lanes: copies of S[0]). */
static void lanes_load_lower(const double *const *S, size_t n, size_t d, double *T)
{
    const double *Sm[8];
    for (size_t m = 0; m < 8; m++)
        Sm[m] = S[m < n ? m : 0];
    for (size_t j = 0; j < d; j++)
        for (size_t k0 = 0; k0 <= j; k0 += 8)
            lanes_in(Sm, d, j, k0, tail8(j + 1 - k0), T);
}

/* colb__cholesky in every lane of T, in place (its lower triangle): the
 * lanes whose S is not positive definite are returned as a mask; *pm and
 * ex[8] receive the pivots' product as colb__cholesky keeps it. Column by
 * column, whose entries are independent chains (4 at a time, sharing the
 * loads of the pivot's row). */
static __mmask8 lanes_cholesky(double *T, size_t d, __m512d *pm_out, int ex[8])
{
    const __m512d zero = _mm512_setzero_pd();
    __m512d pm = _mm512_set1_pd(1.0);
    __mmask8 bad = 0;
    for (int m = 0; m < 8; m++)
        ex[m] = 0;
    for (size_t k = 0; k < d; k++) {
        const double *tk = T + k * d * 8;
        __m512d s = _mm512_load_pd(tk + k * 8);
        for (size_t q = 0; q < k; q++) {
            __m512d l = _mm512_load_pd(tk + q * 8);
            s = _mm512_sub_pd(s, _mm512_mul_pd(l, l));
        }
        bad |= (__mmask8)~_mm512_cmp_pd_mask(s, zero, _CMP_GT_OQ);
        __m512d lkk = _mm512_sqrt_pd(s);
        _mm512_store_pd(T + (k * d + k) * 8, lkk);
        pm = _mm512_mul_pd(pm, s);
        __mmask8 out = _mm512_cmp_pd_mask(pm, _mm512_set1_pd(0x1p500), _CMP_GT_OQ) |
                       _mm512_cmp_pd_mask(pm, _mm512_set1_pd(0x1p-500), _CMP_LT_OQ);
        if (out) { /* colb__cholesky's renormalisation, lane by lane */
            double p[8] __attribute__((aligned(64)));
            _mm512_store_pd(p, pm);
            for (int m = 0; m < 8; m++)
                if ((out >> m) & 1) {
                    int e;
                    p[m] = frexp(p[m], &e);
                    ex[m] += e;
                }
            pm = _mm512_load_pd(p);
        }
        size_t j = k + 1;
        for (; j + 4 <= d; j += 4) {
            double *t0 = T + j * d * 8, *t1 = t0 + d * 8, *t2 = t1 + d * 8, *t3 = t2 + d * 8;
            __m512d s0 = _mm512_load_pd(t0 + k * 8), s1 = _mm512_load_pd(t1 + k * 8);
            __m512d s2 = _mm512_load_pd(t2 + k * 8), s3 = _mm512_load_pd(t3 + k * 8);
            for (size_t q = 0; q < k; q++) {
                __m512d l = _mm512_load_pd(tk + q * 8);
                s0 = _mm512_sub_pd(s0, _mm512_mul_pd(_mm512_load_pd(t0 + q * 8), l));
                s1 = _mm512_sub_pd(s1, _mm512_mul_pd(_mm512_load_pd(t1 + q * 8), l));
                s2 = _mm512_sub_pd(s2, _mm512_mul_pd(_mm512_load_pd(t2 + q * 8), l));
                s3 = _mm512_sub_pd(s3, _mm512_mul_pd(_mm512_load_pd(t3 + q * 8), l));
            }
            _mm512_store_pd(t0 + k * 8, _mm512_div_pd(s0, lkk));
            _mm512_store_pd(t1 + k * 8, _mm512_div_pd(s1, lkk));
            _mm512_store_pd(t2 + k * 8, _mm512_div_pd(s2, lkk));
            _mm512_store_pd(t3 + k * 8, _mm512_div_pd(s3, lkk));
        }
        for (; j < d; j++) {
            double *tj = T + j * d * 8;
            __m512d sj = _mm512_load_pd(tj + k * 8);
            for (size_t q = 0; q < k; q++)
                sj = _mm512_sub_pd(sj, _mm512_mul_pd(_mm512_load_pd(tj + q * 8),
                                                     _mm512_load_pd(tk + q * 8)));
            _mm512_store_pd(tj + k * 8, _mm512_div_pd(sj, lkk));
        }
    }
    *pm_out = pm;
    return bad;
}

/* fail[m] and ld[m] (NULL: none) of the first n lanes from
 * lanes_cholesky's outcome, as colb__cholesky gives them. */
static void lanes_outcome(size_t n, __mmask8 bad, __m512d pm, const int ex[8], double *ld,
                          int *fail)
{
    double p[8] __attribute__((aligned(64)));
    _mm512_store_pd(p, pm);
    for (size_t m = 0; m < n; m++) {
        fail[m] = (bad >> m) & 1 ? -1 : 0;
        if (!fail[m] && ld)
            ld[m] = log(p[m]) + (double)ex[m] * M_LN2;
    }
}

/* cholesky_n by lanes (n <= 8, d <= LANES_DMAX). */
static void chol_lanes512(const double *const *S, size_t n, size_t d, double *const *L, double *ld,
                          int *fail)
{
    double T[LANES_DMAX * LANES_DMAX * 8] __attribute__((aligned(64)));
    lanes_load_lower(S, n, d, T);
    __m512d pm;
    int ex[8];
    __mmask8 bad = lanes_cholesky(T, d, &pm, ex);
    for (size_t j = 0; j < d; j++)
        for (size_t k0 = 0; k0 < d; k0 += 8)
            lanes_out(L, n, d, j, k0, tail8(d - k0), j, T);
    lanes_outcome(n, bad, pm, ex, ld, fail);
}

/* W = L^{-1} of the factors in T's lanes into Wi's lower triangle, row by
 * row (the entries of a row are independent), chol_w's arithmetic (dense.c):
 * W_ii = 1 / L_ii, W_ij = -(sum_{k=j}^{i-1} L_ik W_kj) / L_ii. */
static void lanes_w(const double *T, size_t d, double *Wi)
{
    const __m512d one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd(), neg = _mm512_set1_pd(-0.0);
#define E(i, k) (T + ((i) * d + (k)) * 8)
#define WE(i, k) (Wi + ((i) * d + (k)) * 8)
    for (size_t i = 0; i < d; i++) {
        __m512d lii = _mm512_load_pd(E(i, i));
        for (size_t j = 0; j < i; j++) {
            __m512d s = zero;
            for (size_t k = j; k < i; k++)
                s = _mm512_add_pd(s, _mm512_mul_pd(_mm512_load_pd(E(i, k)), _mm512_load_pd(WE(k, j))));
            _mm512_store_pd(WE(i, j), _mm512_div_pd(_mm512_xor_pd(s, neg), lii)); /* -s / L_ii */
        }
        _mm512_store_pd(WE(i, i), _mm512_div_pd(one, lii));
    }
#undef WE
#undef E
}

/* spd_inverse_n by lanes (n <= 8, d <= LANES_DMAX): the factors, W =
 * L^{-1} (lanes_w), then colb__chol_inverse's W^T W (entry (i, j), j <= i:
 * sum_{k=i}^{d-1} W_ki W_kj, k in order) into T, which the factors no
 * longer need, mirrored, and out. */
static void spd_inverse_lanes512(const double *const *S, size_t n, size_t d, double *const *X,
                                 double *dmin2, int *fail)
{
    double T[LANES_DMAX * LANES_DMAX * 8] __attribute__((aligned(64)));
    double Wi[LANES_DMAX * LANES_DMAX * 8] __attribute__((aligned(64)));
    lanes_load_lower(S, n, d, T);
    __m512d pm;
    int ex[8];
    __mmask8 bad = lanes_cholesky(T, d, &pm, ex);
    lanes_outcome(n, bad, pm, ex, NULL, fail);
    if (dmin2) { /* the failed lanes' values are not used */
        __m512d lo = _mm512_set1_pd(INFINITY);
        for (size_t a = 0; a < d; a++) {
            __m512d l = _mm512_load_pd(T + (a * d + a) * 8);
            lo = _mm512_min_pd(_mm512_mul_pd(l, l), lo);
        }
        double v[8] __attribute__((aligned(64)));
        _mm512_store_pd(v, lo);
        for (size_t m = 0; m < n; m++)
            dmin2[m] = v[m];
    }
    lanes_w(T, d, Wi);
#define WE(i, k) (Wi + ((i) * d + (k)) * 8)
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j <= i; j++) {
            __m512d s = _mm512_setzero_pd();
            for (size_t k = i; k < d; k++)
                s = _mm512_add_pd(s, _mm512_mul_pd(_mm512_load_pd(WE(k, i)), _mm512_load_pd(WE(k, j))));
            _mm512_store_pd(T + (i * d + j) * 8, s);
            _mm512_store_pd(T + (j * d + i) * 8, s);
        }
#undef WE
    for (size_t j = 0; j < d; j++)
        for (size_t k0 = 0; k0 < d; k0 += 8)
            lanes_out(X, n, d, j, k0, tail8(d - k0), SIZE_MAX, T);
}

/* chol_fit_n by lanes (n <= 8, d <= LANES_DMAX; ld and tr may be NULL):
 * the factor stays in T; the right-hand sides go through as a d x 1
 * "matrix" of lanes (column k0 = 0 of rows j), the solves and, for the
 * trace, W = L^{-1} with colb__cholesky_solve's and chol_w's arithmetic
 * (dense.c), the trace with colb__chol_inv_trace's sums. */
static void chol_fit_lanes512(const double *const *S, size_t n, size_t d, double *const *th,
                              double *ld, double *tr, int *fail)
{
    double T[LANES_DMAX * LANES_DMAX * 8] __attribute__((aligned(64)));
    double Wi[LANES_DMAX * LANES_DMAX * 8] __attribute__((aligned(64))); /* W = L^-1 */
    double B[LANES_DMAX * 8] __attribute__((aligned(64)));
    lanes_load_lower(S, n, d, T);
    {
        const double *bm[8];
        for (size_t m = 0; m < 8; m++)
            bm[m] = th[m < n ? m : 0];
        for (size_t i0 = 0; i0 < d; i0 += 8) /* B[i 8 + m] = th[m][i]: "rows" of length 1 */
            lanes_in(bm, 1, i0, 0, tail8(d - i0), B);
    }
    __m512d pm;
    int ex[8];
    __mmask8 bad = lanes_cholesky(T, d, &pm, ex);
#define E(i, k) (T + ((i) * d + (k)) * 8)
    for (size_t i = 0; i < d; i++) { /* L y = b */
        __m512d s = _mm512_load_pd(B + i * 8);
        for (size_t k = 0; k < i; k++)
            s = _mm512_sub_pd(s, _mm512_mul_pd(_mm512_load_pd(E(i, k)), _mm512_load_pd(B + k * 8)));
        _mm512_store_pd(B + i * 8, _mm512_div_pd(s, _mm512_load_pd(E(i, i))));
    }
    for (size_t i = d; i-- > 0;) { /* L^T x = y */
        __m512d s = _mm512_load_pd(B + i * 8);
        for (size_t k = i + 1; k < d; k++)
            s = _mm512_sub_pd(s, _mm512_mul_pd(_mm512_load_pd(E(k, i)), _mm512_load_pd(B + k * 8)));
        _mm512_store_pd(B + i * 8, _mm512_div_pd(s, _mm512_load_pd(E(i, i))));
    }
    lanes_outcome(n, bad, pm, ex, ld, fail);
    for (size_t i0 = 0; i0 < d; i0 += 8) /* B's entries past d: read, not stored (LANES_DMAX % 8 == 0) */
        lanes_out(th, n, 1, i0, 0, tail8(d - i0), SIZE_MAX, B);
    if (!tr)
        return;
    lanes_w(T, d, Wi);
    const __m512d zero = _mm512_setzero_pd();
#define WE(i, k) (Wi + ((i) * d + (k)) * 8)
    __m512d t = zero;
    for (size_t i = 0; i < d; i++) { /* sum_i sum_{k>=i} W_ki^2 */
        __m512d s = zero;
        for (size_t k = i; k < d; k++) {
            __m512d w = _mm512_load_pd(WE(k, i));
            s = _mm512_add_pd(s, _mm512_mul_pd(w, w));
        }
        t = _mm512_add_pd(t, s);
    }
#undef WE
#undef E
    double tv[8] __attribute__((aligned(64)));
    _mm512_store_pd(tv, t);
    for (size_t m = 0; m < n; m++)
        tr[m] = tv[m];
}

/* n factors at once, column k of each in turn: their dependency chains
 * (pivot, square root, division, next column) are independent, so the core
 * overlaps them. */
AI void chol_many512(const double *const *S, size_t n, size_t d, double *const *L, double *ld,
                     int *fail, const int nv)
{
    double pm[COLB__CHOL_BATCH];
    int ex[COLB__CHOL_BATCH];
    for (size_t m = 0; m < n; m++)
        pm[m] = 1.0, ex[m] = 0, fail[m] = 0;
    for (size_t k = 0; k < d; k++)
        for (size_t m = 0; m < n; m++) {
            if (fail[m])
                continue;
            double s = chol_col512(S[m], L[m], d, k, nv);
            if (!(s > 0.0))
                fail[m] = -1;
            else
                pivot_prod(&pm[m], &ex[m], s);
        }
    for (size_t m = 0; m < n; m++)
        if (!fail[m]) {
            lt_to_l(L[m], d);
            if (ld)
                ld[m] = log(pm[m]) + (double)ex[m] * M_LN2;
        }
}

static void cholesky_n_avx512(const double *const *S, size_t n, size_t d, double *const *L,
                              double *logdet, int *fail)
{
    int nv = nvec8(d);
    if (n >= LANES_NMIN && n <= 8 && d <= LANES_DMAX) {
        chol_lanes512(S, n, d, L, logdet, fail);
        return;
    }
    if (!nv || n > COLB__CHOL_BATCH) {
        colb__soa_kernel_portable.cholesky_n(S, n, d, L, logdet, fail);
        return;
    }
    switch (nv) {
#define CASE(n_) case n_: chol_many512(S, n, d, L, logdet, fail, n_); break;
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) default: CASE(8)
#undef CASE
    }
}

/* The factor column by column (left-looking): column k's entries j >= k are
 * S_jk - sum_{q<k} L_jq L_kq in q order, then divided by the pivot - each
 * entry the arithmetic of colb__cholesky's row-by-row loop. Column k is built
 * as row k of L^T in L (contiguous: the vectors run along it), and L^T is
 * transposed in place at the end. */
static int cholesky_avx512(const double *S, size_t d, double *L, double *logdet)
{
    int fail;
    if (!nvec8(d))
        return colb__soa_kernel_portable.cholesky(S, d, L, logdet);
    cholesky_n_avx512(&S, 1, d, &L, logdet, &fail);
    return fail;
}

/* Row i of the forward (fwd: L Y = I, the identity's row in registers,
 * terms q in [0, i), coefficients L_iq) or backward solve (Y's row loaded,
 * terms q in (i, d), coefficients L_qi) of NM factors; vector v takes part
 * from row and term off8(v, d) on, so its terms are those q >= off8(v, d)
 * when q < i and all of them when q > i. */
AI void eye_row512(const double *const *L, size_t d, double *const *X, size_t i, int fwd,
                   const int nv, const int NM)
{
    const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
    size_t q0 = fwd ? 0 : i + 1, q1 = fwd ? i : d, cs = fwd ? 1 : d, rs = fwd ? d : 1;
    __m512d acc[2][8];
    _Pragma("GCC unroll 2")
    for (int m = 0; m < NM; m++)
        _Pragma("GCC unroll 8")
        for (int v = 0; v < nv; v++) {
            size_t o = off8(v, d);
            if (!fwd)
                acc[m][v] = o <= i ? _mm512_loadu_pd(X[m] + i * d + o) : zero;
            else
                acc[m][v] = o <= i && i < o + 8 ? _mm512_mask_blend_pd((__mmask8)(1u << (i - o)), zero, one)
                                                : zero;
        }
    for (size_t q = q0; q < q1; q++)
        _Pragma("GCC unroll 2")
        for (int m = 0; m < NM; m++) {
            __m512d c = _mm512_set1_pd(L[m][q * cs + i * rs]);
            _Pragma("GCC unroll 8")
            for (int v = 0; v < nv; v++)
                if (off8(v, d) <= (q < i ? q : i))
                    acc[m][v] = _mm512_sub_pd(acc[m][v], _mm512_mul_pd(c, _mm512_loadu_pd(X[m] + q * d + off8(v, d))));
        }
    _Pragma("GCC unroll 2")
    for (int m = 0; m < NM; m++) {
        __m512d pv = _mm512_set1_pd(L[m][i * d + i]);
        _Pragma("GCC unroll 8")
        for (int v = 0; v < nv; v++)
            if (off8(v, d) <= i)
                _mm512_storeu_pd(X[m] + i * d + off8(v, d), _mm512_div_pd(acc[m][v], pv));
    }
}

/* chol_solve_eye for 8 <= d <= 64, NM = 1 or 2 factors side by side: each
 * row's columns in nv vectors at off8(v, d) (the last one ending at d),
 * vector v from row off8(v, d) on and, in the forward solve, from term
 * off8(v, d) on (soa_kernel.h: the rows and terms above a column are
 * skipped). Within a vector every lane is its column's solve with exactly
 * the terms colb__cholesky_solve has (lanes of columns after the row: zeros
 * forward, scratch backward; where two vectors overlap, both compute the
 * same values), and the vectors of a row, of both factors, run side by
 * side (independent chains). */
AI void solve_eye512(const double *const *L, size_t d, double *const *X, const int nv, const int NM)
{
    for (size_t i = 0; i < d; i++) /* L Y = I */
        eye_row512(L, d, X, i, 1, nv, NM);
    for (size_t i = d; i-- > 0;) /* L^T X = Y */
        eye_row512(L, d, X, i, 0, nv, NM);
}

static void chol_solve_eye_avx512(const double *const *L, size_t n, size_t d, double *const *X)
{
    int nv = nvec8(d);
    if (!nv) { /* d < 8 or > 64 */
        colb__soa_kernel_portable.chol_solve_eye(L, n, d, X);
        return;
    }
    for (size_t m = 0; m < n; m += 2) {
        switch (nv * 2 - (n - m == 1)) { /* 2 nv: a pair; 2 nv - 1: the last one alone */
#define CASE(n_) case 2 * n_: solve_eye512(L + m, d, X + m, n_, 2); break; \
                 case 2 * n_ - 1: solve_eye512(L + m, d, X + m, n_, 1); break;
            CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
#undef CASE
        default: break;
        }
    }
}

/* A row's rank-one change, 8 <= d <= 64 (nv vectors, all loaded first):
 * R -= (a u) c when sm (Sherman-Morrison), else R += a u (V += x x^T);
 * products rounded as the scalar (a u_j) c and a x_j. */
AI void rank1_row512(double *R, __m512d a, const double *u, __m512d cv, size_t d, const int nv,
                     const int sm)
{
    __m512d r[8];
    _Pragma("GCC unroll 8")
    for (int v = 0; v < nv; v++)
        r[v] = _mm512_loadu_pd(R + off8(v, d));
    _Pragma("GCC unroll 8")
    for (int v = 0; v < nv; v++) {
        __m512d p = _mm512_mul_pd(a, _mm512_loadu_pd(u + off8(v, d)));
        r[v] = sm ? _mm512_sub_pd(r[v], _mm512_mul_pd(p, cv)) : _mm512_add_pd(r[v], p);
    }
    _Pragma("GCC unroll 8")
    for (int v = 0; v < nv; v++)
        _mm512_storeu_pd(R + off8(v, d), r[v]);
}

/* Every row of R: R_i -= (u_i u) c (sm: Sherman-Morrison) or R_i += u_i u. */
AI void rank1_rows512(double *R, const double *u, __m512d cv, size_t d, const int sm)
{
    int nv = nvec8(d);
    for (size_t i = 0; i < d; i++) {
        __m512d ui = _mm512_set1_pd(u[i]);
        double *Ri = R + i * d;
        switch (nv) {
#define CASE(n_) case n_: rank1_row512(Ri, ui, u, cv, d, n_, sm); break;
            CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
#undef CASE
        default:
            for (size_t j0 = 0; j0 < d; j0 += 8) {
                __mmask8 m = tail8(d - j0);
                __m512d p = _mm512_mul_pd(ui, _mm512_maskz_loadu_pd(m, u + j0)), r;
                r = _mm512_maskz_loadu_pd(m, Ri + j0);
                r = sm ? _mm512_sub_pd(r, _mm512_mul_pd(p, cv)) : _mm512_add_pd(r, p);
                _mm512_mask_storeu_pd(Ri + j0, m, r);
            }
        }
    }
}

static double sm_step_avx512(double *A, const double *x, size_t d, double *u)
{
    /* u = A x: symv from 0, by colsum's unmasked (overlapping) stores - the
     * loads of u below would wait for masked ones to reach the cache */
    colsum_avx512(A, d, x, d, d, u);
    double s = 0.0;
    for (size_t i = 0; i < d; i++)
        s += x[i] * u[i];
    rank1_rows512(A, u, _mm512_set1_pd(1.0 / (1.0 + s)), d, 1);
    return s;
}

static void syr_avx512(double *V, const double *x, size_t d)
{
    rank1_rows512(V, x, _mm512_setzero_pd(), d, 0);
}

/* syr_n's row blocks are instantiated for every (RB, NV) pair when always
 * inlined: clang with the sanitizers (make fuzz) spends more than ten
 * minutes on those copies, so there they are plain calls (the same
 * arithmetic, slower). */
#if defined(__clang__) && defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SYR_AI static
#endif
#endif
#ifndef SYR_AI
#define SYR_AI AI
#endif

/* syr_n: RB rows of NV vectors (rank1_row512's cover, all loaded before
 * any is stored) held in registers while the n contexts are added, then
 * stored once; the same product x_a x_k and the same additions in context
 * order as syr_avx512. */
SYR_AI void syr_rows512(double *V, const double *const *xs, size_t n, size_t d, size_t a0,
                    const int RB, const int NV)
{
    __m512d acc[24];
    _Pragma("GCC unroll 24")
    for (int r = 0; r < RB; r++)
        _Pragma("GCC unroll 8")
        for (int v = 0; v < NV; v++)
            acc[r * NV + v] = _mm512_loadu_pd(V + (a0 + (size_t)r) * d + off8(v, d));
    for (size_t i = 0; i < n; i++) {
        const double *x = xs[i];
        __m512d xv[8];
        _Pragma("GCC unroll 8")
        for (int v = 0; v < NV; v++)
            xv[v] = _mm512_loadu_pd(x + off8(v, d));
        _Pragma("GCC unroll 24")
        for (int r = 0; r < RB; r++) {
            __m512d xa = _mm512_set1_pd(x[a0 + (size_t)r]);
            _Pragma("GCC unroll 8")
            for (int v = 0; v < NV; v++)
                acc[r * NV + v] = _mm512_add_pd(acc[r * NV + v], _mm512_mul_pd(xa, xv[v]));
        }
    }
    _Pragma("GCC unroll 24")
    for (int r = 0; r < RB; r++)
        _Pragma("GCC unroll 8")
        for (int v = 0; v < NV; v++)
            _mm512_storeu_pd(V + (a0 + (size_t)r) * d + off8(v, d), acc[r * NV + v]);
}

/* Rows in blocks of 24 / NV (the accumulators within 32 zmm), the rest in
 * blocks of 4 (2 when NV > 6), 2 and 1. */
SYR_AI void syr_n512(double *V, const double *const *xs, size_t n, size_t d, const int NV)
{
    const int RB = 24 / NV, R2 = NV <= 6 ? 4 : 2;
    size_t a = 0;
    for (; a + (size_t)RB <= d; a += (size_t)RB)
        syr_rows512(V, xs, n, d, a, RB, NV);
    for (; a + (size_t)R2 <= d; a += (size_t)R2)
        syr_rows512(V, xs, n, d, a, R2, NV);
    for (; a + 2 <= d; a += 2)
        syr_rows512(V, xs, n, d, a, 2, NV);
    for (; a < d; a++)
        syr_rows512(V, xs, n, d, a, 1, NV);
}

static void syr_n_avx512(double *V, const double *const *xs, size_t n, size_t d)
{
    switch (nvec8(d)) {
#define CASE(n_) case n_: syr_n512(V, xs, n, d, n_); return;
        CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
#undef CASE
    default:
        for (size_t i = 0; i < n; i++)
            syr_avx512(V, xs[i], d);
    }
}

/* Row i of W = L^-1 over row i of L (chol_inverse's first part, in L's
 * lower triangle; rows < i already W). */
AI void chol_w_row512(double *L, size_t d, size_t i)
{
    const __m512d neg = _mm512_set1_pd(-0.0);
    double *Li = L + i * d, lii = Li[i];
    __m512d dv = _mm512_set1_pd(lii);
    for (size_t j0 = 0; j0 < i; j0 += 8) { /* lanes j0.. < i; sums over k = j..i-1 */
        __mmask8 m = tail8(i - j0);
        __m512d s = _mm512_setzero_pd();
        for (size_t k = j0; k < i; k++) {
            /* lanes j <= k: those with a term at k */
            __mmask8 on = (__mmask8)(m & (k - j0 >= 7 ? 0xff : (1u << (k - j0 + 1)) - 1));
            s = _mm512_mask_add_pd(s, on, s, _mm512_mul_pd(_mm512_set1_pd(Li[k]),
                                                           _mm512_maskz_loadu_pd(on, L + k * d + j0)));
        }
        _mm512_mask_storeu_pd(Li + j0, m, _mm512_div_pd(_mm512_xor_pd(s, neg), dv));
    }
    Li[i] = 1.0 / lii;
}

/* chol_inverse: as chol_inverse_avx2 (soa_kernel.h), 8 lanes. */
static void chol_inverse_avx512(double *L, size_t d)
{
    for (size_t i = 0; i < d; i++)
        chol_w_row512(L, d, i);
    for (size_t i = 0; i < d; i++) { /* row i of W^T W's lower triangle */
        double *Li = L + i * d;
        for (size_t j0 = 0; j0 <= i; j0 += 8) {
            __mmask8 m = tail8(i + 1 - j0);
            __m512d s = _mm512_setzero_pd();
            for (size_t k = i; k < d; k++)
                s = _mm512_add_pd(s, _mm512_mul_pd(_mm512_set1_pd(L[k * d + i]),
                                                   _mm512_maskz_loadu_pd(m, L + k * d + j0)));
            _mm512_mask_storeu_pd(Li + j0, m, s); /* a block reads its own entries of row i and W_ii, in the last block */
        }
    }
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++)
            L[j * d + i] = L[i * d + j];
}

/* chol_inv_trace_n: the n factors' W row by row, row i of each in turn
 * (their dependency chains independent, so the core overlaps them), then
 * the diagonal of each W^T W with lanes along it: lane i sums W_ki^2 over
 * the rows k >= i, k in order (chol_inverse's sums), each row's lanes
 * i <= k at once. */
static void chol_inv_trace_n_avx512(double *const *L, size_t n, size_t d, double *tr)
{
    for (size_t i = 0; i < d; i++)
        for (size_t m = 0; m < n; m++)
            chol_w_row512(L[m], d, i);
    for (size_t m = 0; m < n; m++) {
        double t = 0.0, dg[8];
        for (size_t i0 = 0; i0 < d; i0 += 8) {
            __mmask8 mk = tail8(d - i0);
            __m512d s = _mm512_setzero_pd();
            for (size_t k = i0; k < d; k++) {
                __mmask8 on = (__mmask8)(mk & (k - i0 >= 7 ? 0xff : (1u << (k - i0 + 1)) - 1));
                __m512d w = _mm512_maskz_loadu_pd(on, L[m] + k * d + i0);
                s = _mm512_mask_add_pd(s, on, s, _mm512_mul_pd(w, w));
            }
            _mm512_storeu_pd(dg, s);
            for (size_t i = 0; i < 8 && i0 + i < d; i++)
                t += dg[i];
        }
        tr[m] = t;
    }
}

static void spd_inverse_n_avx512(const double *const *S, size_t n, size_t d, double *const *X,
                                 double *dmin2, int *fail)
{
    if (n >= LANES_NMIN && n <= 8 && d <= LANES_DMAX)
        spd_inverse_lanes512(S, n, d, X, dmin2, fail);
    else
        colb__soa_spd_inverse_n_with(&colb__soa_kernel_avx512, S, n, d, X, dmin2, fail);
}

static void chol_fit_n_avx512(const double *const *S, size_t n, size_t d, double *const *L,
                              double *const *th, double *logdet, double *tr, int *fail)
{
    if (n >= LANES_NMIN && n <= 8 && d <= LANES_DMAX)
        chol_fit_lanes512(S, n, d, th, logdet, tr, fail);
    else
        colb__soa_chol_fit_n_with(&colb__soa_kernel_avx512, S, n, d, L, th, logdet, tr, fail);
}

static void symv2_avx512(const double *A, size_t d, const double *x1, const double *x2,
                         double *y1, double *y2)
{
    for (size_t a0 = 0; a0 < d; a0 += 16) { /* four chains when d allows */
        __mmask8 m0 = tail8(d - a0), m1 = d - a0 > 8 ? tail8(d - a0 - 8) : 0;
        __m512d p0 = _mm512_maskz_loadu_pd(m0, y1 + a0), p1 = _mm512_maskz_loadu_pd(m1, y1 + a0 + 8);
        __m512d r0 = _mm512_maskz_loadu_pd(m0, y2 + a0), r1 = _mm512_maskz_loadu_pd(m1, y2 + a0 + 8);
        for (size_t k = 0; k < d; k++) {
            __m512d a = _mm512_maskz_loadu_pd(m0, A + k * d + a0), b = _mm512_maskz_loadu_pd(m1, A + k * d + a0 + 8);
            __m512d u = _mm512_set1_pd(x1[k]), w = _mm512_set1_pd(x2[k]);
            p0 = _mm512_add_pd(p0, _mm512_mul_pd(a, u));
            p1 = _mm512_add_pd(p1, _mm512_mul_pd(b, u));
            r0 = _mm512_add_pd(r0, _mm512_mul_pd(a, w));
            r1 = _mm512_add_pd(r1, _mm512_mul_pd(b, w));
        }
        _mm512_mask_storeu_pd(y1 + a0, m0, p0);
        _mm512_mask_storeu_pd(y1 + a0 + 8, m1, p1);
        _mm512_mask_storeu_pd(y2 + a0, m0, r0);
        _mm512_mask_storeu_pd(y2 + a0 + 8, m1, r1);
    }
}

static void axpy_avx512(double *y, const double *x, double a, size_t n)
{
    __m512d av = _mm512_set1_pd(a);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) { /* two independent vectors per step */
        __m512d y0 = _mm512_loadu_pd(y + i), y1 = _mm512_loadu_pd(y + i + 8);
        y0 = _mm512_add_pd(y0, _mm512_mul_pd(av, _mm512_loadu_pd(x + i)));
        y1 = _mm512_add_pd(y1, _mm512_mul_pd(av, _mm512_loadu_pd(x + i + 8)));
        _mm512_storeu_pd(y + i, y0);
        _mm512_storeu_pd(y + i + 8, y1);
    }
    for (; i < n; i += 8) {
        __mmask8 m = tail8(n - i);
        _mm512_mask_storeu_pd(y + i, m, _mm512_add_pd(_mm512_maskz_loadu_pd(m, y + i),
                                                      _mm512_mul_pd(av, _mm512_maskz_loadu_pd(m, x + i))));
    }
}

static double dot_avx512(const double *x, const double *y, size_t n)
{
    __m512d a0 = _mm512_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
#define DOT_STEP(a, m, o) \
    a = _mm512_add_pd(a, _mm512_mul_pd(_mm512_maskz_loadu_pd(m, x + i + o), _mm512_maskz_loadu_pd(m, y + i + o)))
    for (; i + 32 <= n; i += 32) {
        DOT_STEP(a0, 0xff, 0);
        DOT_STEP(a1, 0xff, 8);
        DOT_STEP(a2, 0xff, 16);
        DOT_STEP(a3, 0xff, 24);
    }
    size_t r = n - i; /* < 32: four masked steps, those past n all-zero (the lanes stay +0) */
    DOT_STEP(a0, tail8(r), 0);
    DOT_STEP(a1, r > 8 ? tail8(r - 8) : 0, 8);
    DOT_STEP(a2, r > 16 ? tail8(r - 16) : 0, 16);
    DOT_STEP(a3, r > 24 ? tail8(r - 24) : 0, 24);
#undef DOT_STEP
    __m512d s = _mm512_add_pd(_mm512_add_pd(a0, a2), _mm512_add_pd(a1, a3)); /* j + 16, then j + 8 */
    __m256d q = _mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1));
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(q), _mm256_extractf128_pd(q, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

static void pack_add_avx512(const double *A, const double *M, size_t d, double *Ap)
{
    for (size_t i = 0, e = 0; i < d; e += d - i, i++) /* row i: d - i entries from (i, i) */
        for (size_t j = 0; j < d - i; j += 8) {
            __mmask8 m = tail8(d - i - j);
            __m512d a = _mm512_maskz_loadu_pd(m, A + i * d + i + j);
            if (M)
                a = _mm512_add_pd(a, _mm512_maskz_loadu_pd(m, M + i * d + i + j));
            _mm512_mask_storeu_pd(Ap + e + j, m, a);
        }
}

const colb__soa_kernel colb__soa_kernel_avx512 = {
    .name = "avx512",
    .choose = choose_avx512,
    .update = update_avx512,
    .score1 = score1_avx512,
    .dist2 = dist2_avx512,
    .dist2_idx = dist2_idx_avx512,
    .ridge_step = ridge_step_avx512,
    .ridge_step2 = ridge_step2_avx512,
    .outer = outer_avx512,
    .symv = symv_avx512,
    .coldot = coldot_avx512,
    .cholesky = cholesky_avx512,
    .chol_solve_eye = chol_solve_eye_avx512,
    .sm_step = sm_step_avx512,
    .syr = syr_avx512,
    .syr_n = syr_n_avx512,
    .chol_inverse = chol_inverse_avx512,
    .chol_inv_trace_n = chol_inv_trace_n_avx512,
    .chol_fit_n = chol_fit_n_avx512,
    .spd_inverse_n = spd_inverse_n_avx512,
    .cholesky_n = cholesky_n_avx512,
    .symv2 = symv2_avx512,
    .pack_add = pack_add_avx512,
    .score_x = score_x_avx512,
    .score_mq = score_mq_avx512,
    .score_ms = score_ms_avx512,
    .colsum = colsum_avx512,
    .rank1_sub = rank1_sub_avx512,
    .bounded = bounded_avx512,
    .far_bits = far_bits_avx512,
    .far_f32 = far_f32_avx512,
    .above_bits = above_bits_avx512,
    .axpy = axpy_avx512,
    .dot = dot_avx512,
    .transpose = transpose_avx512,
    .score_lane = score_lane_avx512,
};
