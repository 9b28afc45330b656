/* soa_kernel.h - the hand-written small-matrix kernels (internal): those of
 * the SoA model bank (soa_bank.c), the single-model scoring and edge
 * distances of CLUB (club.c), the flat ridge bank's rank-one step
 * (ridge.c), the dense d x d helpers of cohort's statistics (symv ...
 * pack_add) and the scores from carried means and forms of SCLUB and LOCB
 * (score_mq, round_scores.c), the last two at the end of the table. Three implementations of one table:
 * soa_kernel_avx512.c, soa_kernel_avx2.c (both compiled with their ISA flags
 * only for their own file, see the Makefile) and soa_kernel_portable.c.
 *
 * Layout (COLB__SOA_W = 8 models per block, "lanes"): entry e of the packed
 * upper triangle of A = V^{-1} (row-major: (0,0), (0,1), ..., (0,d-1), (1,1),
 * ..., P = d(d+1)/2 entries) of the block's model l is A[e * 8 + l]; vectors
 * (theta, b, a gathered context) are d x 8 the same way. One AVX-512 register
 * holds one entry of the 8 models, so every instruction does 8 models' work
 * and no shuffles are needed.
 *
 * Arithmetic contract: for every lane, each sum runs over its index in
 * increasing order; the AVX-512 and AVX2 kernels use the same fused
 * multiply-adds in the same order and so give bit-identical results; the
 * portable kernel rounds each product (no FMA), so it may differ from them in
 * the last bits (tests/test_kernels.c checks the chosen arms). */
#ifndef COLB_SOA_KERNEL_H
#define COLB_SOA_KERNEL_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "colb/status.h"

#define COLB__SOA_W 8

/* K rounded up to a multiple of COLB__SOA_W: the arms' padded count of the
 * kernels that run along the arms (score1, score_x, colsum on X^T). */
static inline size_t colb__soa_padded(size_t K)
{
    return (K + COLB__SOA_W - 1) / COLB__SOA_W * COLB__SOA_W;
}

typedef struct colb__soa_kernel {
    const char *name; /* "avx512", "avx2" or "portable" */
    /* The arm of every lane of one block on K shared contexts:
     *     best[l] = argmax_k  <theta_l, x_k> + width[l] * sqrt(max(q_lk, 0)),
     *     q_lk = x_k^T A_l x_k = sum_e A_l[e] Q[e * K + k]
     * (ties to the lowest k; a NaN score never wins, as colb__argmax). Q holds
     * the round's outer products x_k x_k^T packed like A with the off-diagonal
     * entries doubled (computed once per round for all models). X: K x d.
     * scores (K x 8, may be NULL) receives the scores. */
    void (*choose)(const double *A, const double *theta, const double *width, const double *Q,
                   const double *X, size_t d, size_t K, uint32_t *best, double *scores);
    /* Rank-one (Sherman-Morrison) update of every lane of one block with its
     * context xs (d x 8), reward y, weight w (0: lane untouched, exactly) and
     * ry = w (y - <x, theta0>):
     *     u = A x, s = x^T u, c = w / (1 + w s),
     *     theta += c (y - <x, theta>) u,  A -= (c u) u^T,  b += ry x,
     * and ws[l] = w s (the caller adds log1p(ws) to ln det V). u = A x is
     * computed by scanning the packed entries once (each u_k still summed
     * over j in order). work: 8 d doubles. */
    void (*update)(double *A, double *b, double *theta, double *ws, const double *xs,
                   const double *y, const double *w, const double *ry, size_t d, double *work);
    /* Scores of ONE model (a packed copy: Ap, P values; theta, d) on K
     * contexts, vectorised along the arms:
     *     scores[k] = <theta, x_k> + alpha * sqrt(max(q_k, 0) * scale),
     *     q_k = sum over even e of Ap[e] Q[e Kp + k] + sum over odd e (the two
     *           partial sums added last: independent chains),
     * Q: P x Kp (colb__soa_outer with ldq = Kp), Xt: d x Kp (the contexts
     * transposed), Kp a multiple of 8, columns K..Kp-1 zero. Returns the
     * argmax over k < K (ties to the lowest k, a NaN score never wins). For
     * a single learner scored against a round's contexts (CLUB's component
     * aggregates; phase 2: cluster learners). scores: Kp doubles. */
    size_t (*score1)(const double *Ap, const double *theta, double alpha, double scale,
                     const double *Q, const double *Xt, size_t d, size_t K, size_t Kp,
                     double *scores);
    /* Squared distances out[i] = sum_j (wu[j] - wT[j ld + i])^2, i < n, each
     * summed over j in order with the products rounded (no FMA): bit for bit
     * the scalar loop, on every path (CLUB's edge tests). */
    void (*dist2)(const double *wT, size_t ld, const double *wu, size_t d, size_t n,
                  double *out);
    /* CLUB's edge test on a run of distances: bit i % 64 of far[i / 64]
     * (i < n; (n + 63) / 64 words, unused high bits cleared) is set iff
     * dist[i] > t * t with t = cbu + cb[i], as the scalar expression
     * evaluates it (a NaN never sets a bit). */
    void (*far_bits)(const double *dist, const double *cb, double cbu, size_t n, uint64_t *far);
    /* CLUB's edge tests on float copies of the estimates (half dist2's
     * bytes), decided where a margin makes the float answer certain: for i
     * < n, S = sum_j (wu[j] - wT[j ld + i])^2 in float (j in order; fused
     * or not: the caller's bound covers both), t = cbu + cb[i], a = t k[2]
     * - k[1], b = t k[5] + k[4], all in double (rounded as a path likes:
     * the caller's margin covers it):
     *     far:    t >= 0, S <= FLT_MAX and S k[3] > b^2,
     *     keep:   a >= 0 and S k[0] <= a^2,
     *     unsure: neither (a NaN or an overflow included);
     * bit i % 64 of far[i / 64] and of unsure[i / 64] ((n + 63) / 64 words
     * each, unused high bits cleared) set accordingly. The caller picks k so
     * that far and keep are what the exact test in double says
     * (club.c, mark_deletions), and tests the unsure ones exactly. */
    void (*far_f32)(const float *wT, size_t ld, const float *wu, size_t d, size_t n,
                    const double *cb, double cbu, const double *k, uint64_t *far,
                    uint64_t *unsure);
    /* bit i % 64 of bits[i / 64] (i < n; (n + 63) / 64 words, unused high
     * bits cleared) is set iff v[i] > h (a NaN never sets a bit); returns
     * how many are set (CLUB's members a certificate leaves untested). */
    size_t (*above_bits)(const double *v, size_t n, double h, uint64_t *bits);
    /* The same for the columns idx[0..n) of wT (gathered): out[q] = sum_j
     * (wu[j] - wT[j ld + idx[q]])^2, the same bits as dist2. */
    void (*dist2_idx)(const double *wT, size_t ld, const double *wu, size_t d, const size_t *idx,
                      size_t n, double *out);
    /* The flat ridge bank's rank-one step (ridge.c, full row-major d x d A
     * and V, A symmetric bit for bit), bit for bit the scalar code on every
     * path (products rounded, sums in the scalar order; u = A x is summed
     * along A's columns, equal to its rows by symmetry):
     *     u = A x, s = x^T u, c = w / (1 + w s),
     *     A -= (u u^T) c, V += w x x^T, b += w (y - <x, t0>) x,
     *     theta += c (y - <x, theta>) u;   returns s. u: d doubles.
     * V may be NULL: V's step is left to the caller (ridge.c's deferred V,
     * which applies it later by syr_n with the same bits when w == 1). */
    double (*ridge_step)(double *A, double *V, double *b, double *theta, const double *t0,
                         const double *x, double y, double w, size_t d, double *u);
    /* Two independent ridge_steps, model i with (x[i], y[i]) and the same w
     * (CLUB: a user and its component on one observation, x[0] = x[1];
     * cohort: two users' observations of a round), interleaved for
     * instruction-level parallelism where the path can; the same bits as two
     * ridge_step calls. m[0], m[1]: A, V, b, theta, theta0 of each model (no
     * array shared; either V may be NULL, as in ridge_step); s[0], s[1]
     * receive their x^T A x. u: 2d (u[0..d): model
     * 0's A x, u[d..2d): model 1's). */
    void (*ridge_step2)(double *const m[2][5], const double *const x[2], const double y[2],
                        double w, size_t d, double *u, double s[2]);
    /* colb__soa_outer, vectorised (the same products, so the same bits). */
    void (*outer)(const double *X, size_t K, size_t d, size_t ldq, double *Q, double *Xt);
    /* score1 without the outer-product table: ONE model's scores on K
     * contexts from the contexts alone, vectorised along the arms,
     *     scores[k] = <theta, x_k> + alpha * sqrt(max(q_k, 0) * scale),
     *     q_k = x_k^T A x_k = sum_i x_ki (A_ii x_ki + 2 sum_{j>i} A_ij x_kj),
     * reading only the upper triangle of the row-major A (entry (i, j), j >= i,
     * at A[i lda + j]; lda = d for a full matrix). Order of the sums, per arm:
     * for each row i, t_i = the j > i terms in increasing j, then
     * q += x_i (A_ii x_i + 2 t_i) in increasing i; <theta, x> over j in order. Xt: d x Kp (colb__soa_transpose),
     * Kp a multiple of 8, columns K..Kp-1 zero. Returns the argmax over k < K
     * (ties to the lowest k, a NaN score never wins). About P = d(d+1)/2 FMAs
     * per arm and no O(K d^2) table: the kernel for a single model per round
     * (one user's own contexts, or a few models per round). scores: Kp doubles;
     * mean and quad (Kp each, or both NULL) receive <theta, x_k> and q_k.
     * scores may be NULL when mean and quad are not: only those are written
     * (a caller that scores them itself, e.g. by score_ms), and it returns 0. */
    size_t (*score_x)(const double *A, size_t lda, const double *theta, double alpha,
                      double scale, const double *Xt, size_t d, size_t K, size_t Kp,
                      double *scores, double *mean, double *quad);
    /* Column sums u[j] = sum_{l < d} A[l lda + j] x[l] for j < n, each over l
     * in increasing order with the products rounded (no FMA): bit for bit the
     * scalar loop on every path. With A = X^T (d x K, lda = Kp) it is X x for
     * K contexts; with a symmetric A (n = d) it is A x, the same bits as the
     * row sums. (diversify.c's hallucinated copies) */
    void (*colsum)(const double *A, size_t lda, const double *x, size_t d, size_t n, double *u);
    /* A -= (u_j u_l) c for the full row-major d x d A, entry by entry as the
     * scalar code (A stays symmetric bit for bit). */
    void (*rank1_sub)(double *A, const double *u, double c, size_t d);
    /* 1 when every |x_i| <= bound, i < n (a NaN or an infinity fails): the
     * check of every round's contexts, which the per-user protocol and a
     * service run once per decision; the same answer on every path. */
    int (*bounded)(const double *x, size_t n, double bound);
    /* ---- dense d x d helpers (cohort's statistics and choices), bit for bit
     * the scalar code of dense.h / dense.c on every path (products rounded,
     * each sum in the scalar order; vectorised across the independent sums).
     * A, B symmetric bit for bit where it says so; row-major. */
    /* y[a] += sum_k A[k d + a] x[k], k in order: for symmetric A, y + A x
     * with colb__matvec's sums (y = 0 gives colb__matvec; x = -c: y - A c). */
    void (*symv)(const double *A, size_t d, const double *x, double *y);
    /* out[a] = sum_k A[k d + a] B[k d + a], k in order (symmetric A and B:
     * the row sums of the elementwise product). */
    void (*coldot)(const double *A, const double *B, size_t d, double *out);
    /* colb__cholesky (dense.h) bit for bit, S symmetric bit for bit (it reads
     * the upper triangle, colb__cholesky the lower). 0, or -1 when S is not
     * positive definite (L undefined then). */
    int (*cholesky)(const double *S, size_t d, double *L, double *logdet);
    /* For each of n factors L[m]: the lower triangle of (L L^T)^{-1} by the
     * d solves of the identity's columns into X[m]: X[j d + k], j >= k, is
     * entry j of colb__cholesky_solve(L, d, e_k), bit for bit; the upper
     * triangle is scratch (overwritten, not meaningful). X is written before
     * it is read (no identity to set up); two factors at a time, their
     * dependency chains interleaved.
     * Column k's solve skips the rows above k: there the forward solve's
     * values are zeros and its terms exact no-ops (+0 minus a signed zero
     * stays +0; 1 stays 1), and the backward solve's are upper-triangle
     * entries, which no lower entry depends on - about a third of the d^3
     * multiply-adds of the full solves. */
    void (*chol_solve_eye)(const double *const *L, size_t n, size_t d, double *const *X);
    /* colb__sherman_morrison (dense.h) on a symmetric A bit for bit:
     * A -= (A x)(A x)^T / (1 + x^T A x). u: d doubles, receives A x (the A
     * before the step); returns s = x^T A x (its sum in order). */
    double (*sm_step)(double *A, const double *x, size_t d, double *u);
    /* V[a d + k] += x[a] x[k] (a rank-one step of V without its inverse). */
    void (*syr)(double *V, const double *x, size_t d);
    /* n <= COLB__CHOL_BATCH calls of cholesky at once (their dependency
     * chains interleaved): fail[m] = 0 or -1, logdet[m] set when 0 (logdet
     * may be NULL). */
    void (*cholesky_n)(const double *const *S, size_t n, size_t d, double *const *L,
                       double *logdet, int *fail);
    /* symv of two vectors with one pass over A: y1 += A^T x1, y2 += A^T x2
     * (each symv's bits). */
    void (*symv2)(const double *A, size_t d, const double *x1, const double *x2, double *y1,
                  double *y2);
    /* Ap = the packed upper triangle of the full A (colb__pack_upper), plus
     * the upper triangle of the full M (d x d, row-major) entry by entry
     * when M is not NULL. */
    void (*pack_add)(const double *A, const double *M, size_t d, double *Ap);
    /* ---- a round's carried scores (round_scores.c) ----
     * The end of score_x alone, on a model's given means and quadratic forms:
     *     scores[k] = mean[k] + alpha * sqrt(max(quad[k], 0) * scale),
     * with score_x's operations on this path (so score_x's mean and quad
     * outputs give its own scores, bit for bit), vectorised along the arms;
     * returns the argmax over k < K (ties to the lowest k, a NaN score never
     * wins). mean, quad, scores: Kp doubles, Kp a multiple of 8. A hundred
     * flops per call; hand-written because the scalar loop's square roots
     * (errno-checked, one at a time) cost more than the rest of a carried
     * score. */
    size_t (*score_mq)(const double *mean, const double *quad, double alpha, double scale,
                       size_t K, size_t Kp, double *scores);
    /* score_mq with a product and a sum in place of the fused multiply-add,
     * on every path: bit for bit the scalar loop
     *     scores[k] = mean[k] + alpha * sqrt(max(quad[k], 0) * scale)
     * (CLUB's scores from its cache), vectorised; returns the argmax over
     * k < K as score_mq. */
    size_t (*score_ms)(const double *mean, const double *quad, double alpha, double scale,
                       size_t K, size_t Kp, double *scores);
    /* n syr calls in order, syr(V, xs[0], d), ..., syr(V, xs[n - 1], d),
     * bit for bit on every path (each entry's n additions in order): a block
     * of V's rows is held in registers over the n contexts instead of being
     * loaded and stored once per context (cohort's pooled models take a
     * round's observations of a cluster at once). */
    void (*syr_n)(double *V, const double *const *xs, size_t n, size_t d);
    /* colb__chol_inverse (dense.h) bit for bit: in place, the lower factor L
     * (its upper triangle is not read) becomes (L L^T)^{-1}, exactly
     * symmetric. Vectorised across the independent sums of a row: W =
     * L^{-1} row by row over L's lower triangle (W_ij = -(sum_{k=j}^{i-1}
     * L_ik W_kj) / L_ii, W_ii = 1 / L_ii), then row i of W^T W's lower
     * triangle (sum_{k>=i} W_ki W_kj, k in order) over row i of W, which no
     * later row reads; each sum in colb__chol_inverse's order. */
    void (*chol_inverse)(double *L, size_t d);
    /* tr[m] = colb__chol_inv_trace(L[m], d) (dense.h) bit for bit, m < n:
     * tr (L L^T)^{-1}, the sum in order of the diagonal chol_inverse leaves,
     * without its off-diagonal entries (the recommended policy's noise
     * estimate needs the trace alone; a third of chol_inverse's work), the
     * n factors' dependency chains interleaved; each L[m] is overwritten. */
    void (*chol_inv_trace_n)(double *const *L, size_t n, size_t d, double *tr);
    /* y[i] += a x[i], i < n, the product rounded (no FMA): bit for bit the
     * scalar loop on every path (a = 1 or -1: y + x and y - x exactly).
     * The ridge bank's sums of models (absorb: d^2 entries per member a
     * 2-means pass visits) and b's steps of colb__ridge_add_n, which the
     * compiler does not vectorise at -O2 (unknown trip count). */
    void (*axpy)(double *y, const double *x, double a, size_t n);
    /* sum_i x[i] y[i], i < n, bit for bit the same on every path: 32
     * partial sums (sum j takes the products i = j mod 32 in order, each
     * product rounded: no FMA) folded pairwise, j with j + 16, then j + 8,
     * 4, 2, 1. The recommended policy's 2-means passes: a member's side is
     * the sign of <V_u, Q> + <b_u, r> (cohort_partition.c, rss_diff), one
     * contiguous pass over its d x d V instead of two matrix-vector
     * products and their reductions. */
    double (*dot)(const double *x, const double *y, size_t n);
    /* colb__soa_transpose: Xt (d x ldq) = X^T, columns K..ldq-1 zero (data
     * movement only). Per user turn of the per-user protocol CLUB transposes
     * its K contexts; the scalar loop's strided loads were 7 % of its time
     * on Last.FM (d = K = 25). */
    void (*transpose)(const double *X, size_t K, size_t d, size_t ldq, double *Xt);
    /* ONE model of a block on Kp arms (Kp a multiple of 8), vectorised
     * along the arms: A and theta point at the model's first entry in its
     * block (stride COLB__SOA_W: entry e at A[e * 8]), Xt: d x Kp
     * (transpose). Bit for bit colb__soa_choose_one's scalar scores on every
     * path: per arm, q = the sum over the packed entries e = (r, c) in order
     * of A[e] (x_r x_r) or A[e] ((2 x_r) x_c), each product rounded (no
     * FMA); m = sum_j theta_j x_j in order; scores[k] = m + wd sqrt(q > 0 ?
     * q : 0). Hand-written: a service's choose and the per-user protocol
     * score one model a call, and GCC's -O2 does not vectorise the scalar
     * loop (2.3 us a call at d = 15, K = 25). Each arm's sum is one chain of
     * P additions in order (the bits require it), so a pass takes 4 vectors
     * of arms; without FMA its ceiling is half the FMA peak, which the
     * AVX-512 path reaches (bench.c section 2). scores: Kp doubles. */
    void (*score_lane)(const double *A, const double *theta, double wd, const double *Xt, size_t d,
                       size_t Kp, double *scores);
    /* n <= COLB__CHOL_BATCH solves of S[m] x = b[m]: for each m,
     * cholesky_n's factor of S[m] (fail[m] = 0 or -1, logdet[m] when it
     * succeeds and logdet is not NULL) and, when it succeeds, th[m] =
     * colb__cholesky_solve of it and th[m]'s entry (the right-hand side b
     * in, S^-1 b out) and, when tr is not NULL, tr[m] =
     * colb__chol_inv_trace of it, bit for bit (th[m] and tr[m] undefined
     * when it fails). L[m] (d x d) is scratch. The recommended policy's
     * noise estimate (least-squares fits and their traces) and predictive
     * scores (cohort_stats.c): on AVX-512 8 systems at once, one per lane,
     * the factor never leaving the lanes' layout (soa_kernel_avx512.c, "one
     * matrix per lane"). */
    void (*chol_fit_n)(const double *const *S, size_t n, size_t d, double *const *L,
                       double *const *th, double *logdet, double *tr, int *fail);
    /* n <= COLB__CHOL_BATCH inverses X[m] = colb__spd_inverse(S[m]) (dense.h)
     * bit for bit, the whole symmetric matrix: cholesky_n's factor (fail[m]
     * = 0 or -1) then chol_inverse of it; when it succeeds and dmin2 is not
     * NULL, dmin2[m] = the least L_aa * L_aa over the factor's diagonal (X[m]
     * undefined when it fails; X[m] is not S[m]). The recommended policy's
     * personal models rebuilt after their shrinkage moved (a cluster's
     * members at once): on AVX-512 8 at a time, one per lane. */
    void (*spd_inverse_n)(const double *const *S, size_t n, size_t d, double *const *X,
                          double *dmin2, int *fail);
} colb__soa_kernel;

#define COLB__CHOL_BATCH 8

/* The scalar middle of the kernels' ridge_step2: with u (2d doubles: each
 * model's A x) computed, s[i] = x[i]^T u_i and each step's c = w / (1 + w
 * s), ry = w (y - <x, theta0>) and gain = c (y - <x, theta>), the sums as
 * ridge_step's, in order (the two models' chains interleaved). */
static inline void colb__soa_step2_scalars(double *const m[2][5], const double *const x[2],
                                           const double y[2], double w, size_t d, const double *u,
                                           double s[2], double c[2], double ry[2], double gain[2])
{
    const double *x0 = x[0], *x1 = x[1], *u0 = u, *u1 = u + d;
    double s0 = 0.0, s1 = 0.0, p00 = 0.0, p01 = 0.0, p0 = 0.0, p1 = 0.0;
    const double *t00 = m[0][4], *t01 = m[1][4], *th0 = m[0][3], *th1 = m[1][3];
    for (size_t j = 0; j < d; j++) {
        s0 += x0[j] * u0[j];
        s1 += x1[j] * u1[j];
        p00 += x0[j] * t00[j];
        p01 += x1[j] * t01[j];
        p0 += x0[j] * th0[j];
        p1 += x1[j] * th1[j];
    }
    s[0] = s0;
    s[1] = s1;
    c[0] = w / (1.0 + w * s0);
    c[1] = w / (1.0 + w * s1);
    ry[0] = w * (y[0] - p00);
    ry[1] = w * (y[1] - p01);
    gain[0] = c[0] * (y[0] - p0);
    gain[1] = c[1] * (y[1] - p1);
}

/* The kernel for `name` ("avx512", "avx2", "portable"; NULL or "" = the best
 * this CPU supports, from __builtin_cpu_supports). COLB_EINVAL for an unknown
 * name, COLB_EUNSUP when the CPU lacks the instructions. (soa_bank.c) */
colb_status colb__soa_pick_kernel(const char *name, const colb__soa_kernel **out);

/* The kernel COLB_KERNEL names, or the best this CPU runs when it names none
 * usable: for code that cannot report an error there (soa_bank.c). */
const colb__soa_kernel *colb__soa_env_kernel(void);

/* Packed offset of row i's first entry (i, i) in a d x d upper triangle
 * stored row by row (the banks' and kernels' layout). */
static inline size_t colb__soa_prow(size_t i, size_t d) { return i * d - i * (i - 1) / 2; }

/* Q[e ldq + k] = x_ki x_kj for the packed entry e = (i, j) (doubled when
 * i != j), so that x_k^T A x_k = sum_e A[e] Q[e ldq + k]; columns K..ldq-1
 * are set to 0. Xt receives the contexts transposed, d x ldq, zero padded
 * (also the scratch Q is built from). X: K x d, ldq >= K. O(K d^2). */
void colb__soa_outer(const double *X, size_t K, size_t d, size_t ldq, double *Q, double *Xt);

/* Xt (d x ldq) = X^T (X: K x d), columns K..ldq-1 zero. */
void colb__soa_transpose(const double *X, size_t K, size_t d, size_t ldq, double *Xt);

/* The first index of the largest of v[0..n) (NaN never wins), as
 * colb__argmax; shared by the kernels. */
size_t colb__soa_argmax(const double *v, size_t n);

/* w rounded to float for far_f32; beyond float's range (or NaN): an
 * infinity, which leaves every test on it unsure (the conversion itself
 * would be undefined in ISO C). */
static inline float colb__to_f32(double w)
{
    return fabs(w) <= FLT_MAX ? (float)w : INFINITY;
}

/* far_f32's k for the estimate wu (d values; wuF receives it rounded to
 * float), such that far and keep agree with the exact test in double,
 * sum_j (wu[j] - w[j])^2 > t * t summed in order, for the w whose float
 * copies give S (the derivation at the definition). */
void colb__far_f32_bounds(const double *wu, size_t d, float *wuF, double *k);

/* far_f32's tests of members i0..n-1 in plain C, their bits ORed into far
 * and unsure (the portable kernel; the AVX2 path's last members). */
void colb__far_f32_from(const float *wT, size_t ld, const float *wu, size_t d, size_t i0, size_t n,
                        const double *cb, double cbu, const double *k, uint64_t *far, uint64_t *unsure);

/* chol_fit_n from kernel k's cholesky_n and chol_inv_trace_n and
 * colb__cholesky_solve_many (the paths without a fused one). */
void colb__soa_chol_fit_n_with(const colb__soa_kernel *k, const double *const *S, size_t n,
                               size_t d, double *const *L, double *const *th, double *logdet,
                               double *tr, int *fail);

/* spd_inverse_n from kernel k's cholesky and chol_inverse, one matrix at
 * a time (the paths without lanes). */
void colb__soa_spd_inverse_n_with(const colb__soa_kernel *k, const double *const *S, size_t n,
                                  size_t d, double *const *X, double *dmin2, int *fail);

extern const colb__soa_kernel colb__soa_kernel_portable;
extern const colb__soa_kernel colb__soa_kernel_avx2;
extern const colb__soa_kernel colb__soa_kernel_avx512;

#endif
