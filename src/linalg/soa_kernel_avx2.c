/* soa_kernel_avx2.c - the SoA bank's kernels for AVX2 + FMA (see
 * soa_kernel.h). Compiled with -mavx2 -mfma for this file only (Makefile);
 * soa_bank.c calls them only when __builtin_cpu_supports reports AVX2 and FMA.
 *
 * Why hand-written: as in soa_kernel_avx512.c (a BLAS call on a 15 x 15
 * matrix costs more in overhead than in arithmetic). A block's 8 lanes are two
 * ymm halves processed one after the other; every lane runs the same fused
 * multiply-adds in the same order as the AVX-512 kernel, so the two give
 * bit-identical results. Up to 6 arms per pass (16 ymm registers). Ceiling:
 * the single-thread DGEMM peak measured by bench/bench.c. */
#include "linalg/soa_kernel.h"

#include <float.h>
#include <immintrin.h>
#include <math.h>

#include "core/util.h"

#define W COLB__SOA_W
#define KB 6

#define AI static inline __attribute__((always_inline))

/* Vector v of a row of n >= 4 entries covered by vectors of 4: at 4 v, the
 * last one ending at n (overlapping its neighbour). */
AI size_t off4(int v, size_t n) { return 4 * (size_t)v + 4 <= n ? 4 * (size_t)v : n - 4; }

/* Arms k0..k0+kb-1 for the 4 lanes starting at A, theta (stride W), merged
 * into (bv, bi); k_first: the first arm overall. */
AI void arms256(const double *A, const double *theta, __m256d wd, const double *Q,
                const double *X, size_t d, size_t K, size_t k0, const int kb, __m256d *bv,
                __m256d *bi, double *scores)
{
    size_t P = d * (d + 1) / 2;
    __m256d q[KB], m[KB];
    _Pragma("GCC unroll 16")
    for (int r = 0; r < kb; r++)
        q[r] = m[r] = _mm256_setzero_pd();
    for (size_t e = 0; e < P; e++) {
        __m256d a = _mm256_loadu_pd(A + e * W);
        const double *qe = Q + e * K + k0;
        _Pragma("GCC unroll 16")
        for (int r = 0; r < kb; r++)
            q[r] = _mm256_fmadd_pd(a, _mm256_broadcast_sd(qe + r), q[r]);
    }
    for (size_t j = 0; j < d; j++) {
        __m256d t = _mm256_loadu_pd(theta + j * W);
        _Pragma("GCC unroll 16")
        for (int r = 0; r < kb; r++)
            m[r] = _mm256_fmadd_pd(t, _mm256_broadcast_sd(X + (k0 + (size_t)r) * d + j), m[r]);
    }
    __m256d zero = _mm256_setzero_pd();
    _Pragma("GCC unroll 16")
    for (int r = 0; r < kb; r++) {
        size_t k = k0 + (size_t)r;
        __m256d s = _mm256_fmadd_pd(wd, _mm256_sqrt_pd(_mm256_max_pd(q[r], zero)), m[r]);
        if (scores)
            _mm256_storeu_pd(scores + k * W, s);
        if (k == 0) {
            *bv = s;
            *bi = zero;
        } else {
            __m256d gt = _mm256_cmp_pd(s, *bv, _CMP_GT_OQ);
            *bv = _mm256_blendv_pd(*bv, s, gt);
            *bi = _mm256_blendv_pd(*bi, _mm256_set1_pd((double)k), gt);
        }
    }
}

static void choose_avx2(const double *A, const double *theta, const double *width,
                        const double *Q, const double *X, size_t d, size_t K, uint32_t *best,
                        double *scores)
{
    size_t n = (K + KB - 1) / KB, base = K / n, rem = K % n;
    for (int h = 0; h < 2; h++) {
        const double *Ah = A + 4 * h, *th = theta + 4 * h;
        double *sh = scores ? scores + 4 * h : NULL;
        __m256d wd = _mm256_loadu_pd(width + 4 * h), bv = _mm256_setzero_pd(), bi = bv;
        size_t k0 = 0;
        for (size_t c = 0; c < n; c++) {
            int kb = (int)(base + (c < rem));
            switch (kb) {
#define CASE(n_) case n_: arms256(Ah, th, wd, Q, X, d, K, k0, n_, &bv, &bi, sh); break;
                CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6)
#undef CASE
            default: break;
            }
            k0 += (size_t)kb;
        }
        double bd[4];
        _mm256_storeu_pd(bd, bi);
        for (int l = 0; l < 4; l++)
            best[4 * h + l] = (uint32_t)bd[l];
    }
}

/* One term of 8 lanes' dot products, a += x v (two vectors of 4). */
AI void dot8_step256(const double *v, __m256d x0, __m256d x1, __m256d *a0, __m256d *a1)
{
    *a0 = _mm256_fmadd_pd(x0, _mm256_loadu_pd(v), *a0);
    *a1 = _mm256_fmadd_pd(x1, _mm256_loadu_pd(v + 4), *a1);
}

/* u_k, k = k0..k0+G-1, of u = A x for all 8 lanes (two vectors of 4 per
 * row), each in registers, its terms in increasing j as the AVX-512
 * kernel's amul_rows512 (the same three parts): the same sums in the same
 * order, so the same bits. */
AI void amul_rows256(const double *A, const double *xs, size_t d, size_t k0, const int G, double *u,
                     const double *theta, const int P, __m256d *pred, __m256d *s)
{
    __m256d acc[4][2], pr0 = pred[0], pr1 = pred[1], s0 = s[0], s1 = s[1]; /* u's stores may alias them */
    _Pragma("GCC unroll 4")
    for (int g = 0; g < G; g++)
        acc[g][0] = acc[g][1] = _mm256_setzero_pd();
    size_t j = 0;
    for (; j < k0; j++) { /* column entries (j, k0 + g): contiguous in row j */
        __m256d x0 = _mm256_loadu_pd(xs + j * W), x1 = _mm256_loadu_pd(xs + j * W + 4);
        const double *a = A + (colb__soa_prow(j, d) + k0 - j) * W;
        _Pragma("GCC unroll 4")
        for (int g = 0; g < G; g++) {
            acc[g][0] = _mm256_fmadd_pd(_mm256_loadu_pd(a + (size_t)g * W), x0, acc[g][0]);
            acc[g][1] = _mm256_fmadd_pd(_mm256_loadu_pd(a + (size_t)g * W + 4), x1, acc[g][1]);
        }
    }
    for (; j < k0 + (size_t)G; j++) { /* the group's own triangle */
        __m256d x0 = _mm256_loadu_pd(xs + j * W), x1 = _mm256_loadu_pd(xs + j * W + 4);
        if (P)
            dot8_step256(theta + j * W, x0, x1, &pr0, &pr1);
        _Pragma("GCC unroll 4")
        for (int g = 0; g < G; g++) {
            size_t k = k0 + (size_t)g;
            const double *a = A + (j < k ? colb__soa_prow(j, d) + k - j : colb__soa_prow(k, d) + j - k) * W;
            acc[g][0] = _mm256_fmadd_pd(_mm256_loadu_pd(a), x0, acc[g][0]);
            acc[g][1] = _mm256_fmadd_pd(_mm256_loadu_pd(a + 4), x1, acc[g][1]);
        }
    }
    const double *r[4]; /* row k's entry (k, j) at r[g] + j W */
    _Pragma("GCC unroll 4")
    for (int g = 0; g < G; g++) {
        size_t k = k0 + (size_t)g;
        r[g] = A + (colb__soa_prow(k, d) - k) * W;
    }
    for (; j < d; j++) { /* row entries (k0 + g, j) */
        __m256d x0 = _mm256_loadu_pd(xs + j * W), x1 = _mm256_loadu_pd(xs + j * W + 4);
        if (P)
            dot8_step256(theta + j * W, x0, x1, &pr0, &pr1);
        _Pragma("GCC unroll 4")
        for (int g = 0; g < G; g++) {
            acc[g][0] = _mm256_fmadd_pd(_mm256_loadu_pd(r[g] + j * W), x0, acc[g][0]);
            acc[g][1] = _mm256_fmadd_pd(_mm256_loadu_pd(r[g] + j * W + 4), x1, acc[g][1]);
        }
    }
    _Pragma("GCC unroll 4")
    for (int g = 0; g < G; g++) {
        _mm256_storeu_pd(u + (k0 + (size_t)g) * W, acc[g][0]);
        _mm256_storeu_pd(u + (k0 + (size_t)g) * W + 4, acc[g][1]);
        dot8_step256(xs + (k0 + (size_t)g) * W, acc[g][0], acc[g][1], &s0, &s1); /* (a b = b a exactly) */
    }
    pred[0] = pr0, pred[1] = pr1;
    s[0] = s0, s[1] = s1;
}

/* u = A x for the 8 lanes by groups of 4 rows (amul_rows256), with the
 * update's two sums s = x.u and pred = x.theta: each an FMA chain over j
 * in order from 0, as they were in loops of their own after u, but now
 * beside its work - pred in the first group's pass (which reads every
 * x_j, j = 0, 1, ...), s as each group's u_k are formed (k0 upwards) - so
 * their latency no longer adds to the update's (the same bits; update at
 * d = 5 / 15 / 25: 13.0-13.5 -> 16.0-16.1, 25.0-25.2 -> 26.4-27.0,
 * 29.3-30.1 -> 29.6-31.0 GFLOP/s, one vCPU, alternated). */
static void amul256(const double *A, const double *xs, const double *theta, size_t d, double *u,
                    __m256d *pred, __m256d *s)
{
    size_t k0 = 0;
    if (d >= 4) {
        amul_rows256(A, xs, d, 0, 4, u, theta, 1, pred, s);
        k0 = 4;
    } else {
        amul_rows256(A, xs, d, 0, 1, u, theta, 1, pred, s);
        k0 = 1;
    }
    for (; k0 + 4 <= d; k0 += 4)
        amul_rows256(A, xs, d, k0, 4, u, theta, 0, pred, s);
    for (; k0 < d; k0++) /* the last rows one at a time */
        amul_rows256(A, xs, d, k0, 1, u, theta, 0, pred, s);
}

static void update_avx2(double *A, double *b, double *theta, double *ws, const double *xs,
                        const double *y, const double *w, const double *ry, size_t d,
                        double *work)
{
    double *u = work;
    __m256d s[2], pred[2], c[2], gain[2], ryv[2];
    for (int h = 0; h < 2; h++)
        s[h] = pred[h] = _mm256_setzero_pd();
    amul256(A, xs, theta, d, u, pred, s);
    for (int h = 0; h < 2; h++) {
        __m256d wv = _mm256_loadu_pd(w + 4 * h), wsv = _mm256_mul_pd(wv, s[h]);
        c[h] = _mm256_div_pd(wv, _mm256_add_pd(_mm256_set1_pd(1.0), wsv));
        gain[h] = _mm256_mul_pd(c[h], _mm256_sub_pd(_mm256_loadu_pd(y + 4 * h), pred[h]));
        ryv[h] = _mm256_loadu_pd(ry + 4 * h);
        _mm256_storeu_pd(ws + 4 * h, wsv);
    }
    size_t e = 0;
    for (size_t i = 0; i < d; i++) {
        __m256d ui0 = _mm256_loadu_pd(u + i * W), ui1 = _mm256_loadu_pd(u + i * W + 4);
        __m256d cu0 = _mm256_mul_pd(c[0], ui0), cu1 = _mm256_mul_pd(c[1], ui1);
        for (size_t j = i; j < d; j++, e++) {
            double *a = A + e * W;
            _mm256_storeu_pd(a, _mm256_fnmadd_pd(cu0, _mm256_loadu_pd(u + j * W), _mm256_loadu_pd(a)));
            _mm256_storeu_pd(a + 4, _mm256_fnmadd_pd(cu1, _mm256_loadu_pd(u + j * W + 4),
                                                     _mm256_loadu_pd(a + 4)));
        }
        double *t = theta + i * W, *bi = b + i * W;
        const double *xi = xs + i * W;
        _mm256_storeu_pd(t, _mm256_fmadd_pd(gain[0], ui0, _mm256_loadu_pd(t)));
        _mm256_storeu_pd(t + 4, _mm256_fmadd_pd(gain[1], ui1, _mm256_loadu_pd(t + 4)));
        _mm256_storeu_pd(bi, _mm256_fmadd_pd(ryv[0], _mm256_loadu_pd(xi), _mm256_loadu_pd(bi)));
        _mm256_storeu_pd(bi + 4, _mm256_fmadd_pd(ryv[1], _mm256_loadu_pd(xi + 4), _mm256_loadu_pd(bi + 4)));
    }
}

/* The end of a single-model scoring pass on arms k0..k0+4nv-1, given the
 * means m = <theta, x_k> and the forms q: scores = fma(alpha, sqrt(max(q,
 * 0) scale), m); mean and quad (or NULL) receive m and q. */
AI void finish256_m(const __m256d *m, size_t k0, const int nv, __m256d al, __m256d sc,
                    const __m256d *q, double *scores, double *mean, double *quad)
{
    __m256d zero = _mm256_setzero_pd();
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++) {
        if (mean) {
            _mm256_storeu_pd(mean + k0 + 4 * v, m[v]);
            _mm256_storeu_pd(quad + k0 + 4 * v, q[v]);
        }
        if (!scores) /* the means and forms alone */
            continue;
        __m256d qq = _mm256_mul_pd(_mm256_max_pd(q[v], zero), sc);
        _mm256_storeu_pd(scores + k0 + 4 * v, _mm256_fmadd_pd(al, _mm256_sqrt_pd(qq), m[v]));
    }
}

/* score1's end: the means (FMAs over j in order, from 0), then as above. */
AI void finish256(const double *theta, const double *Xt, size_t d, size_t Kp, size_t k0,
                  const int nv, __m256d al, __m256d sc, const __m256d *q, double *scores,
                  double *mean, double *quad)
{
    __m256d m[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++)
        m[v] = _mm256_setzero_pd();
    for (size_t j = 0; j < d; j++) {
        __m256d t = _mm256_broadcast_sd(theta + j);
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++)
            m[v] = _mm256_fmadd_pd(t, _mm256_loadu_pd(Xt + j * Kp + k0 + 4 * v), m[v]);
    }
    finish256_m(m, k0, nv, al, sc, q, scores, mean, quad);
}

/* One model on arms k0..k0+4nv-1 (nv ymm vectors, two partial sums each). */
AI void score1_256(const double *Ap, const double *theta, __m256d al, __m256d sc,
                   const double *Q, const double *Xt, size_t d, size_t Kp, size_t k0,
                   const int nv, double *scores)
{
    size_t P = d * (d + 1) / 2, e = 0;
    __m256d q0[4], q1[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++)
        q0[v] = q1[v] = _mm256_setzero_pd();
    for (; e + 1 < P; e += 2) {
        __m256d a0 = _mm256_broadcast_sd(Ap + e), a1 = _mm256_broadcast_sd(Ap + e + 1);
        const double *r0 = Q + e * Kp + k0, *r1 = r0 + Kp;
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++) {
            q0[v] = _mm256_fmadd_pd(a0, _mm256_loadu_pd(r0 + 4 * v), q0[v]);
            q1[v] = _mm256_fmadd_pd(a1, _mm256_loadu_pd(r1 + 4 * v), q1[v]);
        }
    }
    if (e < P) {
        __m256d a0 = _mm256_broadcast_sd(Ap + e);
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++)
            q0[v] = _mm256_fmadd_pd(a0, _mm256_loadu_pd(Q + e * Kp + k0 + 4 * v), q0[v]);
    }
    __m256d q[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++)
        q[v] = _mm256_add_pd(q0[v], q1[v]);
    finish256(theta, Xt, d, Kp, k0, nv, al, sc, q, scores, NULL, NULL);
}

/* colb__soa_argmax's answer (the first index of the largest; a NaN never
 * wins, a NaN v[0] keeps 0) in two vector passes instead of its chain of
 * compare-and-selects: the largest of the values that are not NaN (vmaxpd
 * returns its second operand, the running maximum, when the first is NaN;
 * the maximum starts at v[0]), then the first index that compares equal to
 * it - the index the scalar loop ends at (every value before it is smaller
 * or NaN; +0 and -0 compare equal in both). The vectors are loaded where
 * the scoring kernels stored theirs (multiples of 4) and the tail is
 * scalar: a load across two of those stores would wait for both. */
static size_t argmax256(const double *v, size_t n)
{
    if (n < 4 || v[0] != v[0])
        return colb__soa_argmax(v, n);
    __m256d mx = _mm256_set1_pd(v[0]);
    size_t k = 0;
    for (; k + 4 <= n; k += 4)
        mx = _mm256_max_pd(_mm256_loadu_pd(v + k), mx);
    __m128d h = _mm_max_pd(_mm256_castpd256_pd128(mx), _mm256_extractf128_pd(mx, 1));
    double a = _mm_cvtsd_f64(h), b = _mm_cvtsd_f64(_mm_unpackhi_pd(h, h)), m = a > b ? a : b;
    for (size_t j = k; j < n; j++) /* a NaN compares false */
        m = v[j] > m ? v[j] : m;
    __m256d mv = _mm256_set1_pd(m);
    for (k = 0; k + 4 <= n; k += 4) {
        int eq = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_loadu_pd(v + k), mv, _CMP_EQ_OQ));
        if (eq)
            return k + (size_t)__builtin_ctz((unsigned)eq);
    }
    for (; k < n; k++)
        if (v[k] == m)
            return k;
    return 0; /* not reached: m is one of v */
}

/* The single-model kernels compute the arms in vectors of 4, up to the
 * first multiple of 4 at or above K, not up to Kp (a multiple of 8): at
 * K = 25, 28 arms instead of 32, an eighth less work. */
static size_t arms_computed(size_t K) { return (K + 3) / 4 * 4; }

/* Arms Kv..Kp-1 (Xt's zero columns): +0 means, forms and scores, what the
 * kernels compute on zero columns (every product and sum +0),
 * so the arrays hold the same bits as when every arm was computed (for a
 * finite alpha and scale, as the policies pass). */
static void zero_padding(double *scores, double *mean, double *quad, size_t Kv, size_t Kp)
{
    for (size_t k = Kv; k < Kp; k++) {
        if (scores)
            scores[k] = 0.0;
        if (mean) {
            mean[k] = 0.0;
            quad[k] = 0.0;
        }
    }
}

static size_t score1_avx2(const double *Ap, const double *theta, double alpha, double scale,
                          const double *Q, const double *Xt, size_t d, size_t K, size_t Kp,
                          double *scores)
{
    __m256d al = _mm256_set1_pd(alpha), sc = _mm256_set1_pd(scale);
    size_t Kv = arms_computed(K);
    for (size_t k0 = 0; k0 < Kv; k0 += 16)
        switch ((Kv - k0) / 4) {
        case 1: score1_256(Ap, theta, al, sc, Q, Xt, d, Kp, k0, 1, scores); break;
        case 2: score1_256(Ap, theta, al, sc, Q, Xt, d, Kp, k0, 2, scores); break;
        case 3: score1_256(Ap, theta, al, sc, Q, Xt, d, Kp, k0, 3, scores); break;
        default: score1_256(Ap, theta, al, sc, Q, Xt, d, Kp, k0, 4, scores); break;
        }
    zero_padding(scores, NULL, NULL, Kv, Kp);
    return argmax256(scores, K);
}

/* Rows i..i+R-1 of score_x on arms k0..k0+4nv-1 (as score_x_rows512):
 * t_r = the j > i + r terms of row i + r in increasing j (FMAs from 0),
 * then q += x (A_rr x + 2 t_r) row by row. R rows per pass over the
 * columns share each x_j load and make R nv independent chains; two FMA
 * pipes of 4-cycle latency need 8. The means m += theta_r x_r take the
 * same row loads (the passes run i upwards, so j in order from 0: the bits
 * of finish256's loop, whose d-long chains ran alone after the forms;
 * score_x 30.0-30.9 -> 31.5-32.8 GFLOP/s at d = 15, K = 25). */
AI void score_x_rows256(const double *A, size_t lda, const double *theta, const double *Xt, size_t d,
                        size_t Kp, size_t k0, size_t i, const int nv, const int R, __m256d *q, __m256d *m)
{
    const double *x0 = Xt + i * Kp + k0;
    __m256d t[3][4];
    _Pragma("GCC unroll 3")
    for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++)
            t[r][v] = _mm256_setzero_pd();
    /* the block's own triangle: j = i + jj, rows r < jj */
    _Pragma("GCC unroll 3")
    for (int jj = 1; jj < R; jj++)
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++) {
            __m256d x = _mm256_loadu_pd(x0 + (size_t)jj * Kp + 4 * v);
            _Pragma("GCC unroll 3")
            for (int r = 0; r < jj; r++)
                t[r][v] = _mm256_fmadd_pd(_mm256_broadcast_sd(A + (i + (size_t)r) * lda + i + (size_t)jj), x,
                                          t[r][v]);
        }
    for (size_t j = i + (size_t)R; j < d; j++) {
        __m256d b[3];
        _Pragma("GCC unroll 3")
        for (int r = 0; r < R; r++)
            b[r] = _mm256_broadcast_sd(A + (i + (size_t)r) * lda + j);
        const double *xr = Xt + j * Kp + k0;
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++) {
            __m256d x = _mm256_loadu_pd(xr + 4 * v);
            _Pragma("GCC unroll 3")
            for (int r = 0; r < R; r++)
                t[r][v] = _mm256_fmadd_pd(b[r], x, t[r][v]);
        }
    }
    _Pragma("GCC unroll 3")
    for (int r = 0; r < R; r++) {
        __m256d e = _mm256_broadcast_sd(A + (i + (size_t)r) * lda + i + (size_t)r);
        __m256d th = _mm256_broadcast_sd(theta + i + (size_t)r);
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++) {
            __m256d x = _mm256_loadu_pd(x0 + (size_t)r * Kp + 4 * v);
            q[v] = _mm256_fmadd_pd(x, _mm256_fmadd_pd(e, x, _mm256_add_pd(t[r][v], t[r][v])), q[v]);
            m[v] = _mm256_fmadd_pd(th, x, m[v]);
        }
    }
}

/* score_x on arms k0..k0+4nv-1 (nv ymm vectors; the same operations per
 * lane as score_x_512, so the same bits): A's rows by pairs, by threes for
 * 3 vectors or fewer (the chains a pass needs), the last ones by a pair
 * and one. */
AI void score_x_256(const double *A, size_t lda, const double *theta, __m256d al, __m256d sc,
                    const double *Xt, size_t d, size_t Kp, size_t k0, const int nv,
                    double *scores, double *mean, double *quad)
{
    __m256d q[4], m[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++)
        q[v] = m[v] = _mm256_setzero_pd();
    size_t i = 0;
    if (nv <= 3)
        for (; i + 3 <= d; i += 3)
            score_x_rows256(A, lda, theta, Xt, d, Kp, k0, i, nv, 3, q, m);
    for (; i + 2 <= d; i += 2)
        score_x_rows256(A, lda, theta, Xt, d, Kp, k0, i, nv, 2, q, m);
    if (i < d)
        score_x_rows256(A, lda, theta, Xt, d, Kp, k0, i, nv, 1, q, m);
    finish256_m(m, k0, nv, al, sc, q, scores, mean, quad);
}

static size_t score_x_avx2(const double *A, size_t lda, const double *theta, double alpha,
                           double scale, const double *Xt, size_t d, size_t K, size_t Kp,
                           double *scores, double *mean, double *quad)
{
    __m256d al = _mm256_set1_pd(alpha), sc = _mm256_set1_pd(scale);
    size_t Kv = arms_computed(K);
    for (size_t k0 = 0; k0 < Kv; k0 += 16)
        switch ((Kv - k0) / 4) {
        case 1: score_x_256(A, lda, theta, al, sc, Xt, d, Kp, k0, 1, scores, mean, quad); break;
        case 2: score_x_256(A, lda, theta, al, sc, Xt, d, Kp, k0, 2, scores, mean, quad); break;
        case 3: score_x_256(A, lda, theta, al, sc, Xt, d, Kp, k0, 3, scores, mean, quad); break;
        default: score_x_256(A, lda, theta, al, sc, Xt, d, Kp, k0, 4, scores, mean, quad); break;
        }
    zero_padding(scores, mean, quad, Kv, Kp);
    return scores ? argmax256(scores, K) : 0;
}

/* score_lane (soa_kernel.h) on arms k0..k0+4nv-1, as score_lane_512 with
 * vectors of 4 arms (at most 4 a pass: q, m and 2 x of each in 12 of the
 * 16 registers). */
AI void score_lane_256(const double *A, const double *theta, __m256d wd, const double *Xt, size_t d,
                       size_t Kp, size_t k0, const int nv, double *scores)
{
    __m256d q[4], m[4], x2[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++)
        q[v] = m[v] = _mm256_setzero_pd();
    for (size_t r = 0, e = 0; r < d; r++) {
        const double *xr = Xt + r * Kp + k0;
        __m256d a = _mm256_set1_pd(A[e++ * W]), t = _mm256_set1_pd(theta[r * W]);
        _Pragma("GCC unroll 4")
        for (int v = 0; v < nv; v++) {
            __m256d x = _mm256_loadu_pd(xr + 4 * v);
            x2[v] = _mm256_add_pd(x, x); /* 2 x, exactly */
            q[v] = _mm256_add_pd(q[v], _mm256_mul_pd(a, _mm256_mul_pd(x, x)));
            m[v] = _mm256_add_pd(m[v], _mm256_mul_pd(t, x));
        }
        for (size_t c = r + 1; c < d; c++) {
            const double *xc = Xt + c * Kp + k0;
            a = _mm256_set1_pd(A[e++ * W]);
            _Pragma("GCC unroll 4")
            for (int v = 0; v < nv; v++)
                q[v] = _mm256_add_pd(q[v], _mm256_mul_pd(a, _mm256_mul_pd(x2[v], _mm256_loadu_pd(xc + 4 * v))));
        }
    }
    _Pragma("GCC unroll 4")
    for (int v = 0; v < nv; v++) {
        /* q > 0 ? q : 0 (a NaN gives 0, as the scalar test) */
        __m256d qq = _mm256_and_pd(_mm256_cmp_pd(q[v], _mm256_setzero_pd(), _CMP_GT_OQ), q[v]);
        _mm256_storeu_pd(scores + k0 + 4 * v, _mm256_add_pd(m[v], _mm256_mul_pd(wd, _mm256_sqrt_pd(qq))));
    }
}

static void score_lane_avx2(const double *A, const double *theta, double wd, const double *Xt,
                            size_t d, size_t Kp, double *scores)
{
    __m256d w = _mm256_set1_pd(wd);
    for (size_t k0 = 0; k0 < Kp;) {
        if (Kp - k0 >= 16) {
            score_lane_256(A, theta, w, Xt, d, Kp, k0, 4, scores);
            k0 += 16;
        } else { /* Kp - k0 = 8 */
            score_lane_256(A, theta, w, Xt, d, Kp, k0, 2, scores);
            k0 += 8;
        }
    }
}

/* score_mq: finish256's last step on given means and forms (the same
 * operations, so the same bits as score_x on this path). */
static size_t score_mq_avx2(const double *mean, const double *quad, double alpha, double scale,
                            size_t K, size_t Kp, double *scores)
{
    __m256d al = _mm256_set1_pd(alpha), sc = _mm256_set1_pd(scale), zero = _mm256_setzero_pd();
    for (size_t k = 0; k < Kp; k += 4) {
        __m256d qq = _mm256_mul_pd(_mm256_max_pd(_mm256_loadu_pd(quad + k), zero), sc);
        _mm256_storeu_pd(scores + k, _mm256_fmadd_pd(al, _mm256_sqrt_pd(qq), _mm256_loadu_pd(mean + k)));
    }
    return argmax256(scores, K);
}

/* score_ms: score_mq's operations without the fusion (the scalar loop's
 * bits: max(q, 0) is 0 for a NaN q, as the scalar select). */
static size_t score_ms_avx2(const double *mean, const double *quad, double alpha, double scale,
                            size_t K, size_t Kp, double *scores)
{
    __m256d al = _mm256_set1_pd(alpha), sc = _mm256_set1_pd(scale), zero = _mm256_setzero_pd();
    for (size_t k = 0; k < Kp; k += 4) {
        __m256d qq = _mm256_mul_pd(_mm256_max_pd(_mm256_loadu_pd(quad + k), zero), sc);
        _mm256_storeu_pd(scores + k, _mm256_add_pd(_mm256_loadu_pd(mean + k), _mm256_mul_pd(al, _mm256_sqrt_pd(qq))));
    }
    return argmax256(scores, K);
}

static void dist2_avx2(const double *wT, size_t ld, const double *wu, size_t d, size_t n,
                       double *out)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) { /* 4 blocks: independent chains of adds */
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t j = 0; j < d; j++) {
            const double *w = wT + j * ld + i;
            __m256d x = _mm256_set1_pd(wu[j]);
            __m256d e0 = _mm256_sub_pd(x, _mm256_loadu_pd(w)), e1 = _mm256_sub_pd(x, _mm256_loadu_pd(w + 4));
            __m256d e2 = _mm256_sub_pd(x, _mm256_loadu_pd(w + 8)), e3 = _mm256_sub_pd(x, _mm256_loadu_pd(w + 12));
            a0 = _mm256_add_pd(a0, _mm256_mul_pd(e0, e0));
            a1 = _mm256_add_pd(a1, _mm256_mul_pd(e1, e1));
            a2 = _mm256_add_pd(a2, _mm256_mul_pd(e2, e2));
            a3 = _mm256_add_pd(a3, _mm256_mul_pd(e3, e3));
        }
        _mm256_storeu_pd(out + i, a0);
        _mm256_storeu_pd(out + i + 4, a1);
        _mm256_storeu_pd(out + i + 8, a2);
        _mm256_storeu_pd(out + i + 12, a3);
    }
    for (; i + 4 <= n; i += 4) {
        __m256d acc = _mm256_setzero_pd();
        for (size_t j = 0; j < d; j++) {
            __m256d e = _mm256_sub_pd(_mm256_set1_pd(wu[j]), _mm256_loadu_pd(wT + j * ld + i));
            acc = _mm256_add_pd(acc, _mm256_mul_pd(e, e));
        }
        _mm256_storeu_pd(out + i, acc);
    }
    colb__soa_kernel_portable.dist2(wT + i, ld, wu, d, n - i, out + i); /* the tail */
}

/* colsum / rank1_sub: as in soa_kernel_avx512.c (bit for bit the scalar
 * loops), 4 lanes per vector, up to 4 vectors per pass, a scalar tail. */
/* NV column vectors of colsum from vector v0 on (vector v at off4(v, n),
 * the last one ending at n), each lane's sum over l in order. */
AI void colsum_vecs256(const double *A, size_t lda, const double *x, size_t d, size_t n,
                       double *u, int v0, const int NV)
{
    __m256d acc[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++)
        acc[v] = _mm256_setzero_pd();
    for (size_t l = 0; l < d; l++) {
        __m256d xl = _mm256_broadcast_sd(x + l);
        const double *row = A + l * lda;
        _Pragma("GCC unroll 4")
        for (int v = 0; v < NV; v++)
            acc[v] = _mm256_add_pd(acc[v], _mm256_mul_pd(_mm256_loadu_pd(row + off4(v0 + v, n)), xl));
    }
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++)
        _mm256_storeu_pd(u + off4(v0 + v, n), acc[v]);
}

/* colsum: 4 columns per vector, up to 4 vectors (independent add chains)
 * per pass; a row of n >= 4 columns is covered by vectors at 0, 4, ... and
 * one ending at n (overlapping lanes get the same sums), so no scalar tail. */
static void colsum_avx2(const double *A, size_t lda, const double *x, size_t d, size_t n,
                        double *u)
{
    if (n < 4) {
        for (size_t j = 0; j < n; j++) {
            double acc = 0.0;
            for (size_t l = 0; l < d; l++)
                acc += A[l * lda + j] * x[l];
            u[j] = acc;
        }
        return;
    }
    int nv = (int)((n + 3) / 4), v0 = 0;
    for (; nv - v0 >= 4; v0 += 4)
        colsum_vecs256(A, lda, x, d, n, u, v0, 4);
    switch (nv - v0) {
    case 3: colsum_vecs256(A, lda, x, d, n, u, v0, 3); break;
    case 2: colsum_vecs256(A, lda, x, d, n, u, v0, 2); break;
    case 1: colsum_vecs256(A, lda, x, d, n, u, v0, 1); break;
    default: break;
    }
}

/* The rows of a ridge step, 4 <= d <= 16 (NV vectors at off4, the last
 * ending at d), each row's vectors all loaded before any is stored
 * (overlapping lanes get the same value); the scalar code's products and
 * order, entry by entry. As on AVX-512 (v_rows512), V's rows go between
 * A x and the sums that lead to c, which they do not need. */

/* V_j += (w x_j) x for every row j. */
AI void v_rows256(double *V, const double *x, double w, size_t d, const int NV)
{
    __m256d xv[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++)
        xv[v] = _mm256_loadu_pd(x + off4(v, d));
    for (size_t j = 0; j < d; j++) {
        double *Vj = V + j * d;
        __m256d wxj = _mm256_set1_pd(w * x[j]), rv[4];
        _Pragma("GCC unroll 4")
        for (int v = 0; v < NV; v++)
            rv[v] = _mm256_loadu_pd(Vj + off4(v, d));
        _Pragma("GCC unroll 4")
        for (int v = 0; v < NV; v++)
            _mm256_storeu_pd(Vj + off4(v, d), _mm256_add_pd(rv[v], _mm256_mul_pd(wxj, xv[v])));
    }
}

/* A_j -= (u_j u) c for every row j. */
AI void a_rows256(double *A, const double *u, double c, size_t d, const int NV)
{
    __m256d uv[4], cv = _mm256_set1_pd(c);
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++)
        uv[v] = _mm256_loadu_pd(u + off4(v, d));
    for (size_t j = 0; j < d; j++) {
        double *Aj = A + j * d;
        __m256d uj = _mm256_set1_pd(u[j]), ra[4];
        _Pragma("GCC unroll 4")
        for (int v = 0; v < NV; v++)
            ra[v] = _mm256_loadu_pd(Aj + off4(v, d));
        _Pragma("GCC unroll 4")
        for (int v = 0; v < NV; v++)
            _mm256_storeu_pd(Aj + off4(v, d), _mm256_sub_pd(ra[v], _mm256_mul_pd(_mm256_mul_pd(uj, uv[v]), cv)));
    }
}

/* A's rows as a_rows256, then b += ry x and theta += gain u by vectors. */
AI void abt_rows256(double *A, double *b, double *th, const double *u, const double *x, double c,
                    double ry, double gain, size_t d, const int NV)
{
    a_rows256(A, u, c, d, NV);
    const __m256d ryv = _mm256_set1_pd(ry), gv = _mm256_set1_pd(gain);
    __m256d rb[4], rt[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++) {
        rb[v] = _mm256_loadu_pd(b + off4(v, d));
        rt[v] = _mm256_loadu_pd(th + off4(v, d));
    }
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++) {
        _mm256_storeu_pd(b + off4(v, d), _mm256_add_pd(rb[v], _mm256_mul_pd(ryv, _mm256_loadu_pd(x + off4(v, d)))));
        _mm256_storeu_pd(th + off4(v, d), _mm256_add_pd(rt[v], _mm256_mul_pd(gv, _mm256_loadu_pd(u + off4(v, d)))));
    }
}

static double ridge_step_avx2(double *A, double *V, double *b, double *th, const double *t0,
                              const double *x, double y, double w, size_t d, double *u)
{
    colsum_avx2(A, d, x, d, d, u); /* u[j] = sum_k A_kj x_k, k in order */
    const int NV = d >= 4 && d <= 16 ? (int)(d + 3) / 4 : 0; /* whole rows in registers */
    if (V && NV)
        switch (NV) {
        case 1: v_rows256(V, x, w, d, 1); break;
        case 2: v_rows256(V, x, w, d, 2); break;
        case 3: v_rows256(V, x, w, d, 3); break;
        default: v_rows256(V, x, w, d, 4); break;
        }
    double s = 0.0, pred0 = 0.0, pred = 0.0;
    for (size_t j = 0; j < d; j++) {
        s += x[j] * u[j];
        pred0 += x[j] * t0[j];
        pred += x[j] * th[j];
    }
    double c = w / (1.0 + w * s);
    double ry = w * (y - pred0), gain = c * (y - pred);
    if (NV) {
        switch (NV) {
        case 1: abt_rows256(A, b, th, u, x, c, ry, gain, d, 1); break;
        case 2: abt_rows256(A, b, th, u, x, c, ry, gain, d, 2); break;
        case 3: abt_rows256(A, b, th, u, x, c, ry, gain, d, 3); break;
        default: abt_rows256(A, b, th, u, x, c, ry, gain, d, 4); break;
        }
        return s;
    }
    __m256d cv = _mm256_set1_pd(c);
    for (size_t j = 0; j < d; j++) {
        double *Aj = A + j * d, *Vj = V ? V + j * d : NULL, uj = u[j], wxj = w * x[j];
        __m256d ujv = _mm256_set1_pd(uj), wxv = _mm256_set1_pd(wxj);
        size_t k = 0;
        for (; k + 4 <= d; k += 4) {
            _mm256_storeu_pd(Aj + k, _mm256_sub_pd(_mm256_loadu_pd(Aj + k),
                             _mm256_mul_pd(_mm256_mul_pd(ujv, _mm256_loadu_pd(u + k)), cv)));
            if (Vj)
                _mm256_storeu_pd(Vj + k, _mm256_add_pd(_mm256_loadu_pd(Vj + k),
                                 _mm256_mul_pd(wxv, _mm256_loadu_pd(x + k))));
        }
        for (; k < d; k++) {
            Aj[k] -= (uj * u[k]) * c;
            if (Vj)
                Vj[k] += wxj * x[k];
        }
        b[j] += ry * x[j];
        th[j] += gain * uj;
    }
    return s;
}

/* Two ridge_step_avx2 interleaved (as ridge_step2_avx512): for 4 <= d <=
 * 16 the two u = A x and the sums run side by side, then each model's rows;
 * other d: two calls. */
AI void ridge_step2_256(double *const m[2][5], const double *const x[2], const double y[2],
                        double w, size_t d, double *u, double s[2], const int NV)
{
    const double *A0 = m[0][0], *A1 = m[1][0], *x0 = x[0], *x1 = x[1];
    double *u0 = u, *u1 = u + d;
    __m256d acc0[4], acc1[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++)
        acc0[v] = acc1[v] = _mm256_setzero_pd();
    for (size_t l = 0; l < d; l++) { /* u = A x: colsum's sums, k in order */
        __m256d xl0 = _mm256_set1_pd(x0[l]), xl1 = _mm256_set1_pd(x1[l]);
        _Pragma("GCC unroll 4")
        for (int v = 0; v < NV; v++) {
            acc0[v] = _mm256_add_pd(acc0[v], _mm256_mul_pd(_mm256_loadu_pd(A0 + l * d + off4(v, d)), xl0));
            acc1[v] = _mm256_add_pd(acc1[v], _mm256_mul_pd(_mm256_loadu_pd(A1 + l * d + off4(v, d)), xl1));
        }
    }
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++) {
        _mm256_storeu_pd(u0 + off4(v, d), acc0[v]);
        _mm256_storeu_pd(u1 + off4(v, d), acc1[v]);
    }
    for (int i = 0; i < 2; i++) /* V's rows before the sums */
        if (m[i][1])
            v_rows256(m[i][1], x[i], w, d, NV);
    double c[2], ry[2], gain[2];
    colb__soa_step2_scalars(m, x, y, w, d, u, s, c, ry, gain);
    for (int i = 0; i < 2; i++)
        abt_rows256(m[i][0], m[i][2], m[i][3], u + (size_t)i * d, x[i], c[i], ry[i], gain[i], d, NV);
}

static void ridge_step2_avx2(double *const m[2][5], const double *const x[2], const double y[2],
                             double w, size_t d, double *u, double s[2])
{
    switch (d >= 4 && d <= 16 ? (d + 3) / 4 : 0) {
    case 1: ridge_step2_256(m, x, y, w, d, u, s, 1); return;
    case 2: ridge_step2_256(m, x, y, w, d, u, s, 2); return;
    case 3: ridge_step2_256(m, x, y, w, d, u, s, 3); return;
    case 4: ridge_step2_256(m, x, y, w, d, u, s, 4); return;
    default: break;
    }
    for (int i = 0; i < 2; i++)
        s[i] = ridge_step_avx2(m[i][0], m[i][1], m[i][2], m[i][3], m[i][4], x[i], y[i], w, d,
                               u + (size_t)i * d);
}

/* colb__soa_outer with the rows of Q as vector products of rows of X^T
 * (ldq is a multiple of 4 here, or the scalar tail finishes the row). */
static void outer_avx2(const double *X, size_t K, size_t d, size_t ldq, double *Q, double *Xt)
{
    colb__soa_transpose(X, K, d, ldq, Xt);
    __m256d two = _mm256_set1_pd(2.0);
    double *q = Q;
    for (size_t i = 0; i < d; i++) {
        const double *ti = Xt + i * ldq;
        for (size_t j = i; j < d; j++, q += ldq) {
            const double *tj = Xt + j * ldq;
            size_t k = 0;
            if (i == j) {
                for (; k + 4 <= ldq; k += 4)
                    _mm256_storeu_pd(q + k, _mm256_mul_pd(_mm256_loadu_pd(ti + k),
                                                    _mm256_loadu_pd(ti + k)));
                for (; k < ldq; k++)
                    q[k] = ti[k] * ti[k];
            } else {
                for (; k + 4 <= ldq; k += 4)
                    _mm256_storeu_pd(q + k, _mm256_mul_pd(_mm256_mul_pd(two, _mm256_loadu_pd(ti + k)),
                                                    _mm256_loadu_pd(tj + k)));
                for (; k < ldq; k++)
                    q[k] = (2.0 * ti[k]) * tj[k];
            }
        }
    }
}

static void dist2_idx_avx2(const double *wT, size_t ld, const double *wu, size_t d,
                           const size_t *idx, size_t n, double *out)
{
    size_t q = 0;
    for (; q + 4 <= n; q += 4) { /* 4 columns per gather */
        __m256i vi = _mm256_loadu_si256((const __m256i *)(const void *)(idx + q));
        __m256d acc = _mm256_setzero_pd();
        for (size_t j = 0; j < d; j++) {
            __m256d g = _mm256_i64gather_pd(wT + j * ld, vi, 8);
            __m256d e = _mm256_sub_pd(_mm256_set1_pd(wu[j]), g);
            acc = _mm256_add_pd(acc, _mm256_mul_pd(e, e));
        }
        _mm256_storeu_pd(out + q, acc);
    }
    colb__soa_kernel_portable.dist2_idx(wT, ld, wu, d, idx + q, n - q, out + q); /* the tail */
}

/* rank1_sub: see colsum above. */
static void rank1_sub_avx2(double *A, const double *u, double c, size_t d)
{
    __m256d cv = _mm256_set1_pd(c);
    for (size_t j = 0; j < d; j++) {
        __m256d uj = _mm256_broadcast_sd(u + j);
        double *Aj = A + j * d;
        size_t l = 0;
        for (; l + 4 <= d; l += 4)
            _mm256_storeu_pd(Aj + l, _mm256_sub_pd(_mm256_loadu_pd(Aj + l),
                             _mm256_mul_pd(_mm256_mul_pd(uj, _mm256_loadu_pd(u + l)), cv)));
        for (; l < d; l++)
            Aj[l] -= (u[j] * u[l]) * c;
    }
}

/* far_bits: 4 comparisons a vector (ordered: a NaN compares false), the
 * same products and sums as the scalar expression. */
static void far_bits_avx2(const double *dist, const double *cb, double cbu, size_t n,
                          uint64_t *far)
{
    __m256d cu = _mm256_set1_pd(cbu);
    size_t i = 0;
    for (size_t w = 0; w < (n + 63) / 64; w++)
        far[w] = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d t = _mm256_add_pd(cu, _mm256_loadu_pd(cb + i));
        __m256d gt = _mm256_cmp_pd(_mm256_loadu_pd(dist + i), _mm256_mul_pd(t, t), _CMP_GT_OQ);
        far[i / 64] |= (uint64_t)(unsigned)_mm256_movemask_pd(gt) << (i % 64);
    }
    for (; i < n; i++) {
        double t = cbu + cb[i];
        far[i / 64] |= (uint64_t)(dist[i] > t * t) << (i % 64);
    }
}

/* far_f32's tests (soa_kernel.h) on 8 sums of squares s: the far and
 * keep bits, in double 4 at a time. kv: cbu, then k[0..5] broadcast. */
AI void f32_verdict256(__m256 s, const double *cb, const __m256d *kv, unsigned *far, unsigned *keep)
{
    const __m256d fmax = _mm256_set1_pd(FLT_MAX), zero = _mm256_setzero_pd();
    unsigned f = 0, kp = 0;
    _Pragma("GCC unroll 2")
    for (int h = 0; h < 2; h++) {
        __m256d S = _mm256_cvtps_pd(h ? _mm256_extractf128_ps(s, 1) : _mm256_castps256_ps128(s));
        __m256d t = _mm256_add_pd(kv[0], _mm256_loadu_pd(cb + 4 * h));
        __m256d a = _mm256_sub_pd(_mm256_mul_pd(t, kv[3]), kv[2]);
        __m256d b = _mm256_add_pd(_mm256_mul_pd(t, kv[6]), kv[5]);
        __m256d fh = _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(S, fmax, _CMP_LE_OQ),
                                                 _mm256_cmp_pd(t, zero, _CMP_GE_OQ)), /* bounds: t >= 0 */
                                   _mm256_cmp_pd(_mm256_mul_pd(S, kv[4]), _mm256_mul_pd(b, b), _CMP_GT_OQ));
        __m256d kh = _mm256_and_pd(_mm256_cmp_pd(a, zero, _CMP_GE_OQ),
                                   _mm256_cmp_pd(_mm256_mul_pd(S, kv[1]), _mm256_mul_pd(a, a), _CMP_LE_OQ));
        f |= (unsigned)_mm256_movemask_pd(fh) << (4 * h);
        kp |= (unsigned)_mm256_movemask_pd(kh) << (4 * h);
    }
    *far = f;
    *keep = kp;
}

/* far_f32: 8 members a vector, 32 a pass (4 independent FMA chains); the
 * last n % 8 members by the portable loop. */
static void far_f32_avx2(const float *wT, size_t ld, const float *wu, size_t d, size_t n,
                         const double *cb, double cbu, const double *k, uint64_t *far,
                         uint64_t *unsure)
{
    __m256d kv[7];
    kv[0] = _mm256_set1_pd(cbu);
    for (int i = 0; i < 6; i++)
        kv[i + 1] = _mm256_set1_pd(k[i]);
    for (size_t w = 0; w < (n + 63) / 64; w++)
        far[w] = unsure[w] = 0;
    size_t i = 0;
    for (; i + 8 <= n;) {
        int nv = n - i >= 32 ? 4 : (int)((n - i) / 8);
        __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
        for (size_t j = 0; j < d; j++) {
            const float *x = wT + j * ld + i;
            __m256 u = _mm256_set1_ps(wu[j]);
            for (int v = 0; v < nv; v++) {
                __m256 e = _mm256_sub_ps(u, _mm256_loadu_ps(x + 8 * v));
                acc[v] = _mm256_fmadd_ps(e, e, acc[v]);
            }
        }
        for (int v = 0; v < nv; v++, i += 8) {
            unsigned f, kp;
            f32_verdict256(acc[v], cb + i, kv, &f, &kp);
            far[i / 64] |= (uint64_t)f << (i % 64);
            unsure[i / 64] |= (uint64_t)(0xffu & ~(f | kp)) << (i % 64);
        }
    }
    colb__far_f32_from(wT, ld, wu, d, i, n, cb, cbu, k, far, unsure); /* the last n % 8 */
}

/* above_bits: 4 ordered comparisons a vector (a NaN compares false). */
static size_t above_bits_avx2(const double *v, size_t n, double h, uint64_t *bits)
{
    __m256d hv = _mm256_set1_pd(h);
    size_t cnt = 0;
    for (size_t w = 0; w < (n + 63) / 64; w++) {
        size_t m = n - w * 64 < 64 ? n - w * 64 : 64, i = 0;
        const double *x = v + w * 64;
        uint64_t b = 0;
        for (; i + 4 <= m; i += 4)
            b |= (uint64_t)(unsigned)_mm256_movemask_pd(
                     _mm256_cmp_pd(_mm256_loadu_pd(x + i), hv, _CMP_GT_OQ)) << i;
        for (; i < m; i++)
            b |= (uint64_t)(x[i] > h) << i;
        bits[w] = b;
        cnt += colb__popcount64(b);
    }
    return cnt;
}

static int bounded_avx2(const double *x, size_t n, double bound)
{
    __m256d bv = _mm256_set1_pd(bound), sign = _mm256_set1_pd(-0.0);
    __m256d ok = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        ok = _mm256_and_pd(ok, _mm256_cmp_pd(_mm256_andnot_pd(sign, _mm256_loadu_pd(x + i)), bv,
                                             _CMP_LE_OQ));
    int all = _mm256_movemask_pd(ok) == 0xf;
    for (; i < n; i++)
        all &= fabs(x[i]) <= bound;
    return all;
}

/* ---- dense d x d helpers (soa_kernel.h): as in soa_kernel_avx512.c, 4
 * independent sums per ymm, products rounded, each sum in the scalar order;
 * the vector ending at d is masked (vmaskmov). */

AI __m256i tail4(size_t n)
{
    long long k = n >= 4 ? 4 : (long long)n;
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(k), _mm256_setr_epi64x(0, 1, 2, 3));
}
#define LD(p, m) _mm256_maskload_pd((p), (m))
#define ST(p, m, v) _mm256_maskstore_pd((p), (m), (v))

static void symv_avx2(const double *A, size_t d, const double *x, double *y)
{
    for (size_t a0 = 0; a0 < d; a0 += 8) { /* two chains when d allows */
        __m256i m0 = tail4(d - a0), m1 = tail4(d - a0 > 4 ? d - a0 - 4 : 0);
        __m256d y0 = LD(y + a0, m0), y1 = LD(y + a0 + 4, m1);
        for (size_t k = 0; k < d; k++) {
            __m256d xk = _mm256_set1_pd(x[k]);
            y0 = _mm256_add_pd(y0, _mm256_mul_pd(LD(A + k * d + a0, m0), xk));
            y1 = _mm256_add_pd(y1, _mm256_mul_pd(LD(A + k * d + a0 + 4, m1), xk));
        }
        ST(y + a0, m0, y0);
        ST(y + a0 + 4, m1, y1);
    }
}

static void coldot_avx2(const double *A, const double *B, size_t d, double *out)
{
    for (size_t a0 = 0; a0 < d; a0 += 4) {
        __m256i m = tail4(d - a0);
        __m256d acc = _mm256_setzero_pd();
        for (size_t k = 0; k < d; k++)
            acc = _mm256_add_pd(acc, _mm256_mul_pd(LD(A + k * d + a0, m), LD(B + k * d + a0, m)));
        ST(out + a0, m, acc);
    }
}

/* As cholesky_avx512: column by column, L^T built in L and transposed. */
static int cholesky_avx2(const double *S, size_t d, double *L, double *logdet)
{
    double pm = 1.0;
    int ex = 0;
    for (size_t k = 0; k < d; k++) {
        double *Tk = L + k * d;
        for (size_t j0 = k; j0 < d; j0 += 4) {
            __m256i m = tail4(d - j0);
            __m256d acc = LD(S + k * d + j0, m);
            for (size_t q = 0; q < k; q++)
                acc = _mm256_sub_pd(acc, _mm256_mul_pd(LD(L + q * d + j0, m), _mm256_set1_pd(L[q * d + k])));
            ST(Tk + j0, m, acc);
        }
        double s = Tk[k];
        if (!(s > 0.0))
            return -1;
        double lkk = sqrt(s);
        pm *= s;
        if (pm > 0x1p500 || pm < 0x1p-500) {
            int e;
            pm = frexp(pm, &e);
            ex += e;
        }
        Tk[k] = lkk;
        __m256d lv = _mm256_set1_pd(lkk);
        for (size_t j0 = k + 1; j0 < d; j0 += 4) {
            __m256i m = tail4(d - j0);
            ST(Tk + j0, m, _mm256_div_pd(LD(Tk + j0, m), lv));
        }
    }
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k < j; k++) {
            L[j * d + k] = L[k * d + j];
            L[k * d + j] = 0.0;
        }
    if (logdet)
        *logdet = log(pm) + (double)ex * M_LN2;
    return 0;
}

/* Row i of chol_solve_eye's forward or backward solve, as eye_row512
 * (soa_kernel_avx512.c) with vectors of 4 columns at off4(v, d). */
AI void eye_row256(const double *const *L, size_t d, double *const *X, size_t i, int fwd,
                   const int nv, const int NM)
{
    const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
    const __m256d lane = _mm256_set_pd(3.0, 2.0, 1.0, 0.0), col = _mm256_set1_pd((double)i);
    size_t q0 = fwd ? 0 : i + 1, q1 = fwd ? i : d, cs = fwd ? 1 : d, rs = fwd ? d : 1;
    __m256d acc[2][8];
    _Pragma("GCC unroll 2")
    for (int m = 0; m < NM; m++)
        _Pragma("GCC unroll 8")
        for (int v = 0; v < nv; v++) {
            size_t o = off4(v, d);
            if (!fwd) /* Y's row */
                acc[m][v] = o <= i ? _mm256_loadu_pd(X[m] + i * d + o) : zero;
            else /* the identity's row: 1 in lane i - o */
                acc[m][v] = _mm256_and_pd(
                    _mm256_cmp_pd(_mm256_add_pd(lane, _mm256_set1_pd((double)o)), col, _CMP_EQ_OQ), one);
        }
    for (size_t q = q0; q < q1; q++)
        _Pragma("GCC unroll 2")
        for (int m = 0; m < NM; m++) {
            __m256d c = _mm256_set1_pd(L[m][q * cs + i * rs]);
            _Pragma("GCC unroll 8")
            for (int v = 0; v < nv; v++)
                if (off4(v, d) <= (q < i ? q : i))
                    acc[m][v] = _mm256_sub_pd(acc[m][v], _mm256_mul_pd(c, _mm256_loadu_pd(X[m] + q * d + off4(v, d))));
        }
    _Pragma("GCC unroll 2")
    for (int m = 0; m < NM; m++) {
        __m256d pv = _mm256_set1_pd(L[m][i * d + i]);
        _Pragma("GCC unroll 8")
        for (int v = 0; v < nv; v++)
            if (off4(v, d) <= i)
                _mm256_storeu_pd(X[m] + i * d + off4(v, d), _mm256_div_pd(acc[m][v], pv));
    }
}

/* chol_solve_eye for 4 <= d <= 32 as solve_eye512 (soa_kernel_avx512.c),
 * with vectors of 4 columns at off4(v, d). */
AI void solve_eye256(const double *const *L, size_t d, double *const *X, const int nv, const int NM)
{
    for (size_t i = 0; i < d; i++) /* L Y = I */
        eye_row256(L, d, X, i, 1, nv, NM);
    for (size_t i = d; i-- > 0;) /* L^T X = Y */
        eye_row256(L, d, X, i, 0, nv, NM);
}

static void chol_solve_eye_avx2(const double *const *L, size_t n, size_t d, double *const *X)
{
    if (d < 4 || d > 32) {
        colb__soa_kernel_portable.chol_solve_eye(L, n, d, X);
        return;
    }
    int nv = (int)((d + 3) / 4);
    for (size_t m = 0; m < n; m += 2) {
        switch (nv * 2 - (n - m == 1)) { /* 2 nv: a pair; 2 nv - 1: the last one alone */
#define CASE(n_) case 2 * n_: solve_eye256(L + m, d, X + m, n_, 2); break; \
                 case 2 * n_ - 1: solve_eye256(L + m, d, X + m, n_, 1); break;
            CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
#undef CASE
        default: break;
        }
    }
}

static double sm_step_avx2(double *A, const double *x, size_t d, double *u)
{
    /* u = A x: symv from 0, by colsum's unmasked (overlapping) stores - the
     * loads of u below would wait for masked ones to reach the cache */
    colsum_avx2(A, d, x, d, d, u);
    double s = 0.0;
    for (size_t i = 0; i < d; i++)
        s += x[i] * u[i];
    if (d >= 4 && d <= 16) { /* whole rows in registers, no masked access */
        double c = 1.0 / (1.0 + s);
        switch ((d + 3) / 4) {
        case 1: a_rows256(A, u, c, d, 1); break;
        case 2: a_rows256(A, u, c, d, 2); break;
        case 3: a_rows256(A, u, c, d, 3); break;
        default: a_rows256(A, u, c, d, 4); break;
        }
        return s;
    }
    __m256d cv = _mm256_set1_pd(1.0 / (1.0 + s));
    for (size_t i = 0; i < d; i++) {
        __m256d ui = _mm256_set1_pd(u[i]);
        for (size_t j0 = 0; j0 < d; j0 += 4) {
            __m256i m = tail4(d - j0);
            __m256d a = _mm256_sub_pd(LD(A + i * d + j0, m),
                                      _mm256_mul_pd(_mm256_mul_pd(ui, LD(u + j0, m)), cv));
            ST(A + i * d + j0, m, a);
        }
    }
    return s;
}

static void syr_avx2(double *V, const double *x, size_t d)
{
    for (size_t i = 0; i < d; i++) { /* V_i += x_i x; the tail scalar (no masked store) */
        double *Vi = V + i * d, xi = x[i];
        __m256d xv = _mm256_set1_pd(xi);
        size_t k = 0;
        for (; k + 4 <= d; k += 4)
            _mm256_storeu_pd(Vi + k, _mm256_add_pd(_mm256_loadu_pd(Vi + k),
                                                   _mm256_mul_pd(xv, _mm256_loadu_pd(x + k))));
        for (; k < d; k++)
            Vi[k] += xi * x[k];
    }
}

/* syr_n: RB rows of NV vectors (4 entries each, the last masked) held in
 * registers while the n contexts are added, then stored once; the same
 * product x_a x_k and the same additions in context order as syr_avx2. */
AI void syr_rows256(double *V, const double *const *xs, size_t n, size_t d, size_t a0,
                    const int RB, const int NV)
{
    __m256d acc[12];
    __m256i mk[4];
    _Pragma("GCC unroll 4")
    for (int v = 0; v < NV; v++)
        mk[v] = tail4(d - 4 * (size_t)v);
    _Pragma("GCC unroll 12")
    for (int r = 0; r < RB; r++)
        _Pragma("GCC unroll 4")
        for (int v = 0; v < NV; v++)
            acc[r * NV + v] = LD(V + (a0 + (size_t)r) * d + 4 * (size_t)v, mk[v]);
    for (size_t i = 0; i < n; i++) {
        const double *x = xs[i];
        __m256d xv[4];
        _Pragma("GCC unroll 4")
        for (int v = 0; v < NV; v++)
            xv[v] = LD(x + 4 * (size_t)v, mk[v]);
        _Pragma("GCC unroll 12")
        for (int r = 0; r < RB; r++) {
            __m256d xa = _mm256_set1_pd(x[a0 + (size_t)r]);
            _Pragma("GCC unroll 4")
            for (int v = 0; v < NV; v++)
                acc[r * NV + v] = _mm256_add_pd(acc[r * NV + v], _mm256_mul_pd(xa, xv[v]));
        }
    }
    _Pragma("GCC unroll 12")
    for (int r = 0; r < RB; r++)
        _Pragma("GCC unroll 4")
        for (int v = 0; v < NV; v++)
            ST(V + (a0 + (size_t)r) * d + 4 * (size_t)v, mk[v], acc[r * NV + v]);
}

/* Rows in blocks of 12 / NV (the accumulators within 16 ymm), the rest
 * in blocks of 2 and 1. */
AI void syr_n256(double *V, const double *const *xs, size_t n, size_t d, const int NV)
{
    const int RB = 12 / NV;
    size_t a = 0;
    for (; a + (size_t)RB <= d; a += (size_t)RB)
        syr_rows256(V, xs, n, d, a, RB, NV);
    for (; a + 2 <= d; a += 2)
        syr_rows256(V, xs, n, d, a, 2, NV);
    for (; a < d; a++)
        syr_rows256(V, xs, n, d, a, 1, NV);
}

static void syr_n_avx2(double *V, const double *const *xs, size_t n, size_t d)
{
    switch ((d + 3) / 4) {
    case 1: syr_n256(V, xs, n, d, 1); return;
    case 2: syr_n256(V, xs, n, d, 2); return;
    case 3: syr_n256(V, xs, n, d, 3); return;
    case 4: syr_n256(V, xs, n, d, 4); return;
    default:
        for (size_t i = 0; i < n; i++)
            syr_avx2(V, xs[i], d);
    }
}

/* Row i of W = L^-1 over row i of L (chol_inverse's first part, in L's
 * lower triangle; rows < i already W). */
AI void chol_w_row256(double *L, size_t d, size_t i)
{
    const __m256d neg = _mm256_set1_pd(-0.0);
    double *Li = L + i * d, lii = Li[i];
    __m256d dv = _mm256_set1_pd(lii);
    for (size_t j0 = 0; j0 < i; j0 += 4) { /* lanes j0.. < i; sums over k = j..i-1 */
        __m256i m = tail4(i - j0);
        __m256d s = _mm256_setzero_pd(), jv = _mm256_add_pd(_mm256_set1_pd((double)j0),
                                                            _mm256_setr_pd(0, 1, 2, 3));
        for (size_t k = j0; k < i; k++) {
            __m256d t = _mm256_add_pd(s, _mm256_mul_pd(_mm256_set1_pd(Li[k]), LD(L + k * d + j0, m)));
            /* lanes j > k have no term yet */
            s = _mm256_blendv_pd(t, s, _mm256_cmp_pd(jv, _mm256_set1_pd((double)k), _CMP_GT_OQ));
        }
        ST(Li + j0, m, _mm256_div_pd(_mm256_xor_pd(s, neg), dv));
    }
    Li[i] = 1.0 / lii;
}

static void chol_inverse_avx2(double *L, size_t d)
{
    for (size_t i = 0; i < d; i++)
        chol_w_row256(L, d, i);
    for (size_t i = 0; i < d; i++) { /* row i of W^T W's lower triangle */
        double *Li = L + i * d;
        for (size_t j0 = 0; j0 <= i; j0 += 4) {
            __m256i m = tail4(i + 1 - j0);
            __m256d s = _mm256_setzero_pd();
            for (size_t k = i; k < d; k++)
                s = _mm256_add_pd(s, _mm256_mul_pd(_mm256_set1_pd(L[k * d + i]), LD(L + k * d + j0, m)));
            ST(Li + j0, m, s); /* a block reads its own entries of row i and W_ii, in the last block */
        }
    }
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++)
            L[j * d + i] = L[i * d + j];
}

/* chol_inv_trace_n: as chol_inv_trace_n_avx512, 4 lanes. */
static void chol_inv_trace_n_avx2(double *const *L, size_t n, size_t d, double *tr)
{
    for (size_t i = 0; i < d; i++)
        for (size_t m = 0; m < n; m++)
            chol_w_row256(L[m], d, i);
    for (size_t m = 0; m < n; m++) {
        double t = 0.0, dg[4];
        for (size_t i0 = 0; i0 < d; i0 += 4) {
            __m256i mk = tail4(d - i0);
            __m256d s = _mm256_setzero_pd(), iv = _mm256_add_pd(_mm256_set1_pd((double)i0),
                                                                _mm256_setr_pd(0, 1, 2, 3));
            for (size_t k = i0; k < d; k++) {
                __m256d w = LD(L[m] + k * d + i0, mk);
                __m256d t2 = _mm256_add_pd(s, _mm256_mul_pd(w, w));
                /* lanes i > k have no term yet */
                s = _mm256_blendv_pd(t2, s, _mm256_cmp_pd(iv, _mm256_set1_pd((double)k), _CMP_GT_OQ));
            }
            _mm256_storeu_pd(dg, s);
            for (size_t i = 0; i < 4 && i0 + i < d; i++)
                t += dg[i];
        }
        tr[m] = t;
    }
}

static void cholesky_n_avx2(const double *const *S, size_t n, size_t d, double *const *L,
                              double *logdet, int *fail)
{
    for (size_t m = 0; m < n; m++)
        fail[m] = cholesky_avx2(S[m], d, L[m], logdet ? logdet + m : NULL);
}

static void spd_inverse_n_avx2(const double *const *S, size_t n, size_t d, double *const *X,
                               double *dmin2, int *fail)
{
    colb__soa_spd_inverse_n_with(&colb__soa_kernel_avx2, S, n, d, X, dmin2, fail);
}

static void chol_fit_n_avx2(const double *const *S, size_t n, size_t d, double *const *L,
                            double *const *th, double *logdet, double *tr, int *fail)
{
    colb__soa_chol_fit_n_with(&colb__soa_kernel_avx2, S, n, d, L, th, logdet, tr, fail);
}

static void symv2_avx2(const double *A, size_t d, const double *x1, const double *x2,
                       double *y1, double *y2)
{
    symv_avx2(A, d, x1, y1);
    symv_avx2(A, d, x2, y2);
}

static void axpy_avx2(double *y, const double *x, double a, size_t n)
{
    __m256d av = _mm256_set1_pd(a);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) { /* two independent vectors per step */
        __m256d y0 = _mm256_loadu_pd(y + i), y1 = _mm256_loadu_pd(y + i + 4);
        y0 = _mm256_add_pd(y0, _mm256_mul_pd(av, _mm256_loadu_pd(x + i)));
        y1 = _mm256_add_pd(y1, _mm256_mul_pd(av, _mm256_loadu_pd(x + i + 4)));
        _mm256_storeu_pd(y + i, y0);
        _mm256_storeu_pd(y + i + 4, y1);
    }
    for (; i < n; i += 4) {
        __m256i m = tail4(n - i);
        ST(y + i, m, _mm256_add_pd(LD(y + i, m), _mm256_mul_pd(av, LD(x + i, m))));
    }
}

/* dot_avx512's 32 partial sums in eight vectors of four, folded the same */
static double dot_avx2(const double *x, const double *y, size_t n)
{
    __m256d acc[8];
    for (int v = 0; v < 8; v++)
        acc[v] = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        _Pragma("GCC unroll 8")
        for (int v = 0; v < 8; v++)
            acc[v] = _mm256_add_pd(acc[v], _mm256_mul_pd(_mm256_loadu_pd(x + i + 4 * v),
                                                         _mm256_loadu_pd(y + i + 4 * v)));
    size_t r = n - i; /* < 32: eight masked steps, those past n all-zero (the lanes stay +0) */
    _Pragma("GCC unroll 8")
    for (int v = 0; v < 8; v++) {
        __m256i m = tail4(r > 4 * (size_t)v ? r - 4 * (size_t)v : 0);
        acc[v] = _mm256_add_pd(acc[v], _mm256_mul_pd(LD(x + i + 4 * v, m), LD(y + i + 4 * v, m)));
    }
    _Pragma("GCC unroll 4")
    for (int v = 0; v < 4; v++) /* j + 16 */
        acc[v] = _mm256_add_pd(acc[v], acc[v + 4]);
    /* j + 8, then j + 4 */
    __m256d q = _mm256_add_pd(_mm256_add_pd(acc[0], acc[2]), _mm256_add_pd(acc[1], acc[3]));
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(q), _mm256_extractf128_pd(q, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
}

static void pack_add_avx2(const double *A, const double *M, size_t d, double *Ap)
{
    for (size_t i = 0, e = 0; i < d; e += d - i, i++) /* row i: d - i entries from (i, i) */
        for (size_t j = 0; j < d - i; j += 4) {
            __m256i m = tail4(d - i - j);
            __m256d a = LD(A + i * d + i + j, m);
            if (M)
                a = _mm256_add_pd(a, LD(M + i * d + i + j, m));
            ST(Ap + e + j, m, a);
        }
}

#undef LD
#undef ST

const colb__soa_kernel colb__soa_kernel_avx2 = {
    .name = "avx2",
    .choose = choose_avx2,
    .update = update_avx2,
    .score1 = score1_avx2,
    .dist2 = dist2_avx2,
    .dist2_idx = dist2_idx_avx2,
    .ridge_step = ridge_step_avx2,
    .ridge_step2 = ridge_step2_avx2,
    .outer = outer_avx2,
    .symv = symv_avx2,
    .coldot = coldot_avx2,
    .cholesky = cholesky_avx2,
    .chol_solve_eye = chol_solve_eye_avx2,
    .sm_step = sm_step_avx2,
    .syr = syr_avx2,
    .syr_n = syr_n_avx2,
    .chol_inverse = chol_inverse_avx2,
    .chol_inv_trace_n = chol_inv_trace_n_avx2,
    .chol_fit_n = chol_fit_n_avx2,
    .spd_inverse_n = spd_inverse_n_avx2,
    .cholesky_n = cholesky_n_avx2,
    .symv2 = symv2_avx2,
    .pack_add = pack_add_avx2,
    .score_x = score_x_avx2,
    .score_mq = score_mq_avx2,
    .score_ms = score_ms_avx2,
    .colsum = colsum_avx2,
    .rank1_sub = rank1_sub_avx2,
    .bounded = bounded_avx2,
    .far_bits = far_bits_avx2,
    .far_f32 = far_f32_avx2,
    .above_bits = above_bits_avx2,
    .axpy = axpy_avx2,
    .dot = dot_avx2,
    .transpose = colb__soa_transpose, /* the portable loop: not measured in AVX2 */
    .score_lane = score_lane_avx2,
};
