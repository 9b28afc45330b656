/* soa_kernel_portable.c - the SoA bank's kernels in plain C (see
 * soa_kernel.h): the fallback on CPUs without AVX2/FMA and the reference the
 * SIMD kernels are tested against. Loops run along the 8 lanes innermost, so a
 * compiler may vectorise them; products are rounded before they are added
 * (ISO C mode contracts nothing into FMAs).
 *
 * Why hand-written rather than BLAS: at d = 15 a model's A has 120 packed
 * entries, and a DGEMM/DSYMV call on it costs more in call overhead, packing
 * and edge handling than its arithmetic (the issue-14 measurement: 11 % of the
 * DGEMM peak through OpenBLAS). Ceiling: the single-thread DGEMM rate measured
 * in the same run by bench/bench.c. */
#include "linalg/soa_kernel.h"

#include <float.h>
#include <math.h>

#include "core/util.h"
#include "linalg/dense.h"

#define W COLB__SOA_W

static void choose_portable(const double *A, const double *theta, const double *width,
                            const double *Q, const double *X, size_t d, size_t K, uint32_t *best,
                            double *scores)
{
    size_t P = d * (d + 1) / 2;
    double bs[W];
    for (size_t k = 0; k < K; k++) {
        double q[W], m[W];
        for (size_t l = 0; l < W; l++)
            q[l] = m[l] = 0.0;
        for (size_t e = 0; e < P; e++) {
            double qe = Q[e * K + k];
            for (size_t l = 0; l < W; l++)
                q[l] += A[e * W + l] * qe;
        }
        const double *x = X + k * d;
        for (size_t j = 0; j < d; j++)
            for (size_t l = 0; l < W; l++)
                m[l] += theta[j * W + l] * x[j];
        for (size_t l = 0; l < W; l++) {
            double s = m[l] + width[l] * sqrt(q[l] > 0.0 ? q[l] : 0.0);
            if (scores)
                scores[k * W + l] = s;
            if (k == 0 || s > bs[l]) {
                bs[l] = s;
                best[l] = (uint32_t)k;
            }
        }
    }
}

static void update_portable(double *A, double *b, double *theta, double *ws, const double *xs,
                            const double *y, const double *w, const double *ry, size_t d,
                            double *work)
{
    /* u = A x (d x W), scanning the packed entries in order: entry (i, j),
     * j > i, adds A_ij x_j to u_i and A_ij x_i to u_j, so every u_k receives
     * its terms in the order j = 0..d-1 (the SIMD kernels do the same). */
    double *u = work;
    for (size_t i = 0; i < d * W; i++)
        u[i] = 0.0;
    const double *a = A;
    for (size_t i = 0; i < d; i++) {
        const double *xi = xs + i * W;
        double *ui = u + i * W;
        for (size_t l = 0; l < W; l++)
            ui[l] += a[l] * xi[l];
        a += W;
        for (size_t j = i + 1; j < d; j++, a += W) {
            const double *xj = xs + j * W;
            double *uj = u + j * W;
            for (size_t l = 0; l < W; l++) {
                ui[l] += a[l] * xj[l];
                uj[l] += a[l] * xi[l];
            }
        }
    }
    double s[W] = { 0 }, pred[W] = { 0 }, c[W], gain[W];
    for (size_t j = 0; j < d; j++)
        for (size_t l = 0; l < W; l++) {
            s[l] += xs[j * W + l] * u[j * W + l];
            pred[l] += xs[j * W + l] * theta[j * W + l];
        }
    for (size_t l = 0; l < W; l++) {
        c[l] = w[l] / (1.0 + w[l] * s[l]);
        gain[l] = c[l] * (y[l] - pred[l]);
        ws[l] = w[l] * s[l];
    }
    size_t e = 0;
    for (size_t i = 0; i < d; i++) {
        double cu[W];
        for (size_t l = 0; l < W; l++)
            cu[l] = c[l] * u[i * W + l];
        for (size_t j = i; j < d; j++, e++)
            for (size_t l = 0; l < W; l++)
                A[e * W + l] -= cu[l] * u[j * W + l];
        for (size_t l = 0; l < W; l++) {
            theta[i * W + l] += gain[l] * u[i * W + l];
            b[i * W + l] += ry[l] * xs[i * W + l];
        }
    }
}

static size_t score1_portable(const double *Ap, const double *theta, double alpha, double scale,
                              const double *Q, const double *Xt, size_t d, size_t K, size_t Kp,
                              double *scores)
{
    size_t P = d * (d + 1) / 2;
    for (size_t k0 = 0; k0 < Kp; k0 += W) {
        double q0[W] = { 0 }, q1[W] = { 0 }, m[W] = { 0 };
        size_t e = 0;
        for (; e + 1 < P; e += 2)
            for (size_t l = 0; l < W; l++) {
                q0[l] += Ap[e] * Q[e * Kp + k0 + l];
                q1[l] += Ap[e + 1] * Q[(e + 1) * Kp + k0 + l];
            }
        if (e < P)
            for (size_t l = 0; l < W; l++)
                q0[l] += Ap[e] * Q[e * Kp + k0 + l];
        for (size_t j = 0; j < d; j++)
            for (size_t l = 0; l < W; l++)
                m[l] += theta[j] * Xt[j * Kp + k0 + l];
        for (size_t l = 0; l < W; l++) {
            double q = q0[l] + q1[l];
            scores[k0 + l] = m[l] + alpha * sqrt((q > 0.0 ? q : 0.0) * scale);
        }
    }
    return colb__soa_argmax(scores, K);
}

static size_t score_x_portable(const double *A, size_t lda, const double *theta, double alpha,
                               double scale, const double *Xt, size_t d, size_t K, size_t Kp,
                               double *scores, double *mean, double *quad)
{
    for (size_t k0 = 0; k0 < Kp; k0 += W) {
        double q[W] = { 0 }, m[W] = { 0 };
        for (size_t i = 0; i < d; i++) {
            const double *ai = A + i * lda, *xi = Xt + i * Kp + k0;
            double t[W] = { 0 };
            for (size_t j = i + 1; j < d; j++)
                for (size_t l = 0; l < W; l++)
                    t[l] += ai[j] * Xt[j * Kp + k0 + l];
            for (size_t l = 0; l < W; l++)
                q[l] += xi[l] * (ai[i] * xi[l] + 2.0 * t[l]);
        }
        for (size_t j = 0; j < d; j++)
            for (size_t l = 0; l < W; l++)
                m[l] += theta[j] * Xt[j * Kp + k0 + l];
        for (size_t l = 0; l < W; l++) {
            if (mean) {
                mean[k0 + l] = m[l];
                quad[k0 + l] = q[l];
            }
            if (scores)
                scores[k0 + l] = m[l] + alpha * sqrt((q[l] > 0.0 ? q[l] : 0.0) * scale);
        }
    }
    return scores ? colb__soa_argmax(scores, K) : 0;
}

static size_t score_mq_portable(const double *mean, const double *quad, double alpha, double scale,
                                size_t K, size_t Kp, double *scores)
{
    for (size_t k = 0; k < Kp; k++) /* score_x_portable's last step */
        scores[k] = mean[k] + alpha * sqrt((quad[k] > 0.0 ? quad[k] : 0.0) * scale);
    return colb__soa_argmax(scores, K);
}

/* score_ms: score_mq_portable is already the scalar loop */

size_t colb__soa_argmax(const double *v, size_t n)
{
    size_t best = 0;
    double top = v[0]; /* v[best]; selects rather than branches (the scores'
                          order is data: a branch mispredicts) */
    for (size_t k = 1; k < n; k++) {
        int gt = v[k] > top;
        best = gt ? k : best;
        top = gt ? v[k] : top;
    }
    return best;
}

void colb__soa_transpose(const double *X, size_t K, size_t d, size_t ldq, double *Xt)
{
    for (size_t j = 0; j < d; j++) {
        double *tj = Xt + j * ldq;
        for (size_t k = 0; k < K; k++)
            tj[k] = X[k * d + j];
        for (size_t k = K; k < ldq; k++)
            tj[k] = 0.0;
    }
}

/* score_lane (soa_kernel.h): the scalar loop itself, 8 arms at a time
 * (independent sums, so the FPU is not held to one chain of additions). */
static void score_lane_portable(const double *A, const double *theta, double wd, const double *Xt,
                                size_t d, size_t Kp, double *scores)
{
    enum { L = COLB__SOA_W };
    for (size_t k0 = 0; k0 < Kp; k0 += L) {
        double q[L] = { 0 }, m[L] = { 0 }, x2[L];
        for (size_t r = 0, e = 0; r < d; r++) {
            const double *xr = Xt + r * Kp + k0;
            double a = A[e++ * COLB__SOA_W];
            for (size_t l = 0; l < L; l++) {
                x2[l] = 2.0 * xr[l];
                q[l] += a * (xr[l] * xr[l]);
            }
            for (size_t c = r + 1; c < d; c++) {
                const double *xc = Xt + c * Kp + k0;
                a = A[e++ * COLB__SOA_W];
                for (size_t l = 0; l < L; l++)
                    q[l] += a * (x2[l] * xc[l]);
            }
        }
        for (size_t j = 0; j < d; j++) {
            const double *xj = Xt + j * Kp + k0;
            double tj = theta[j * COLB__SOA_W];
            for (size_t l = 0; l < L; l++)
                m[l] += tj * xj[l];
        }
        for (size_t l = 0; l < L; l++)
            scores[k0 + l] = m[l] + wd * sqrt(q[l] > 0.0 ? q[l] : 0.0);
    }
}

void colb__soa_outer(const double *X, size_t K, size_t d, size_t ldq, double *Q, double *Xt)
{
    /* the rows of Q are products of rows of X^T: contiguous, vectorisable
     * (the values do not depend on how: one product each, 2 x exact) */
    const double *t = Xt;
    colb__soa_transpose(X, K, d, ldq, Xt);
    double *q = Q;
    for (size_t i = 0; i < d; i++) {
        const double *ti = t + i * ldq;
        for (size_t k = 0; k < ldq; k++)
            q[k] = ti[k] * ti[k];
        q += ldq;
        for (size_t j = i + 1; j < d; j++, q += ldq) {
            const double *tj = t + j * ldq;
            for (size_t k = 0; k < ldq; k++)
                q[k] = (2.0 * ti[k]) * tj[k];
        }
    }
}

static void dist2_portable(const double *wT, size_t ld, const double *wu, size_t d, size_t n,
                           double *out)
{
    for (size_t i = 0; i < n; i++) {
        double acc = 0.0;
        for (size_t j = 0; j < d; j++) {
            double e = wu[j] - wT[j * ld + i];
            acc += e * e;
        }
        out[i] = acc;
    }
}

static void far_bits_portable(const double *dist, const double *cb, double cbu, size_t n,
                              uint64_t *far)
{
    for (size_t w = 0; w < (n + 63) / 64; w++)
        far[w] = 0;
    for (size_t i = 0; i < n; i++) {
        double t = cbu + cb[i];
        far[i / 64] |= (uint64_t)(dist[i] > t * t) << (i % 64);
    }
}

/* colb__far_f32_bounds (soa_kernel.h). With r = sqrt(S) the float
 * distance to a member's w_l and D the exact one, and u = 2^-24:
 *  - each float difference is within u (2 + u) (|w_uj| + |w_lj|) of the
 *    exact one (two roundings into float, one of the difference), so with
 *    ||w_l|| <= ||w_u|| + D, |r' - D| <= kappa (2 ||w_u|| + D), kappa =
 *    u (2 + u), r' the norm of the float differences;
 *  - the float sum S of d squares is within gamma = 2 d u / (1 - 2 d u) of
 *    r'^2 (fused or not), so r (1 - gamma) <= r' <= r (1 + gamma);
 *  - underflow and subnormals add below 1e-18 to the norm (d < 10^6;
 *    CLUB's d is at most COLB_MODEL_DIM_MAX = 4096).
 * Hence D <= (r (1 + gamma) + e) / (1 - kappa) and D >= (r (1 - gamma) -
 * e) / (1 + kappa), e = 2 kappa ||w_u|| + 1e-18. "keep" when the upper
 * bound is <= t (1 - mu) - mu e', "far" when the lower one is > t (1 + mu)
 * + mu e'' (e', e'': the bounds' constant terms), mu = 1e-9: a margin of
 * mu (t + e') covers the rounding of these expressions in double (each
 * term's, relative 1e-16, also when e' is large against t) and that of the
 * exact test (D^2 summed in double: (d + 3) 2^-53 < 1e-12 relative), so
 * both agree with it; compared squared (k[0], k[3]). A NaN or an overflow
 * leaves a member unsure, and the exact test decides. */
void colb__far_f32_bounds(const double *wu, size_t d, float *wuF, double *k)
{
    double n2 = 0.0;
    for (size_t j = 0; j < d; j++) {
        n2 += wu[j] * wu[j];
        wuF[j] = colb__to_f32(wu[j]);
    }
    const double u = 0x1p-24, kap = u * (2.0 + u), g = 2.0 * (double)d * u / (1.0 - 2.0 * (double)d * u);
    const double mu = 1e-9, e = 2.0 * kap * sqrt(n2) * (1.0 + 1e-9) + 1e-18;
    double hi = (1.0 + g) / (1.0 - kap), lo = (1.0 - g) / (1.0 + kap);
    k[0] = hi * hi;
    k[1] = e / (1.0 - kap) * (1.0 + mu);
    k[2] = 1.0 - mu;
    k[3] = lo * lo;
    k[4] = e / (1.0 + kap) * (1.0 + mu);
    k[5] = 1.0 + mu;
}

/* far_f32's verdict on one squared distance S (soa_kernel.h): 1 far, 0
 * keep, -1 unsure. */
static int far_f32_verdict(float S, double t, const double *k)
{
    double s = S, a = t * k[2] - k[1], b = t * k[5] + k[4];
    if (t >= 0.0 && s <= FLT_MAX && s * k[3] > b * b) /* the bounds hold for t >= 0 */
        return 1;
    return a >= 0.0 && s * k[0] <= a * a ? 0 : -1;
}

void colb__far_f32_from(const float *wT, size_t ld, const float *wu, size_t d, size_t i0, size_t n,
                        const double *cb, double cbu, const double *k, uint64_t *far, uint64_t *unsure)
{
    for (size_t i = i0; i < n; i++) {
        float acc = 0.0f;
        for (size_t j = 0; j < d; j++) {
            float e = wu[j] - wT[j * ld + i];
            acc += e * e;
        }
        int v = far_f32_verdict(acc, cbu + cb[i], k);
        far[i / 64] |= (uint64_t)(v > 0) << (i % 64);
        unsure[i / 64] |= (uint64_t)(v < 0) << (i % 64);
    }
}

static void far_f32_portable(const float *wT, size_t ld, const float *wu, size_t d, size_t n,
                             const double *cb, double cbu, const double *k, uint64_t *far,
                             uint64_t *unsure)
{
    for (size_t w = 0; w < (n + 63) / 64; w++)
        far[w] = unsure[w] = 0;
    colb__far_f32_from(wT, ld, wu, d, 0, n, cb, cbu, k, far, unsure);
}

static size_t above_bits_portable(const double *v, size_t n, double h, uint64_t *bits)
{
    size_t cnt = 0;
    for (size_t w = 0; w < (n + 63) / 64; w++) {
        size_t m = n - w * 64 < 64 ? n - w * 64 : 64;
        uint64_t b = 0;
        for (size_t i = 0; i < m; i++)
            b |= (uint64_t)(v[w * 64 + i] > h) << i;
        bits[w] = b;
        cnt += colb__popcount64(b);
    }
    return cnt;
}

/* The reference the SIMD ridge steps reproduce bit for bit. */
static double ridge_step_portable(double *A, double *V, double *b, double *th, const double *t0,
                                  const double *x, double y, double w, size_t d, double *u)
{
    double s = 0.0, pred0 = 0.0, pred = 0.0;
    for (size_t j = 0; j < d; j++) {
        const double *Aj = A + j * d;
        double acc = 0.0;
        for (size_t k = 0; k < d; k++)
            acc += Aj[k] * x[k];
        u[j] = acc;
        s += x[j] * acc;
        pred0 += x[j] * t0[j];
        pred += x[j] * th[j];
    }
    double c = w / (1.0 + w * s);
    double ry = w * (y - pred0), gain = c * (y - pred);
    for (size_t j = 0; j < d; j++) {
        double *Aj = A + j * d, *Vj = V ? V + j * d : NULL;
        double uj = u[j], wxj = w * x[j];
        for (size_t k = 0; k < d; k++)
            Aj[k] -= (uj * u[k]) * c;
        for (size_t k = 0; Vj && k < d; k++)
            Vj[k] += wxj * x[k];
        b[j] += ry * x[j];
        th[j] += gain * uj;
    }
    return s;
}

static void ridge_step2_portable(double *const m[2][5], const double *const x[2],
                                 const double y[2], double w, size_t d, double *u, double s[2])
{
    for (int i = 0; i < 2; i++)
        s[i] = ridge_step_portable(m[i][0], m[i][1], m[i][2], m[i][3], m[i][4], x[i], y[i], w, d,
                                   u + i * d);
}

static void dist2_idx_portable(const double *wT, size_t ld, const double *wu, size_t d,
                               const size_t *idx, size_t n, double *out)
{
    for (size_t q = 0; q < n; q++) {
        double acc = 0.0;
        for (size_t j = 0; j < d; j++) {
            double e = wu[j] - wT[j * ld + idx[q]];
            acc += e * e;
        }
        out[q] = acc;
    }
}

static void colsum_portable(const double *A, size_t lda, const double *x, size_t d, size_t n,
                            double *u)
{
    for (size_t j = 0; j < n; j++)
        u[j] = 0.0;
    for (size_t l = 0; l < d; l++)
        for (size_t j = 0; j < n; j++)
            u[j] += A[l * lda + j] * x[l];
}

static void rank1_sub_portable(double *A, const double *u, double c, size_t d)
{
    for (size_t j = 0; j < d; j++)
        for (size_t l = 0; l < d; l++)
            A[j * d + l] -= (u[j] * u[l]) * c;
}

static int bounded_portable(const double *x, size_t n, double bound)
{
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= fabs(x[i]) <= bound;
    return ok;
}

/* ---- dense d x d helpers (soa_kernel.h): the scalar reference ---------- */

static void symv_portable(const double *A, size_t d, const double *x, double *y)
{
    for (size_t k = 0; k < d; k++) {
        const double *Ak = A + k * d;
        double xk = x[k];
        for (size_t a = 0; a < d; a++)
            y[a] += Ak[a] * xk;
    }
}

static void coldot_portable(const double *A, const double *B, size_t d, double *out)
{
    for (size_t a = 0; a < d; a++)
        out[a] = 0.0;
    for (size_t k = 0; k < d; k++)
        for (size_t a = 0; a < d; a++)
            out[a] += A[k * d + a] * B[k * d + a];
}

static void solve_eye1(const double *L, size_t d, double *X)
{
    for (size_t k = 0; k < d; k++) { /* column k, rows k.. only (soa_kernel.h) */
        for (size_t i = k; i < d; i++) { /* L y = e_k */
            double s = i == k ? 1.0 : 0.0;
            for (size_t m = k; m < i; m++)
                s -= L[i * d + m] * X[m * d + k];
            X[i * d + k] = s / L[i * d + i];
        }
        for (size_t i = d; i-- > k;) { /* L^T x = y */
            double s = X[i * d + k];
            for (size_t m = i + 1; m < d; m++)
                s -= L[m * d + i] * X[m * d + k];
            X[i * d + k] = s / L[i * d + i];
        }
    }
}

static void chol_solve_eye_portable(const double *const *L, size_t n, size_t d, double *const *X)
{
    for (size_t m = 0; m < n; m++)
        solve_eye1(L[m], d, X[m]);
}

static void syr_portable(double *V, const double *x, size_t d)
{
    for (size_t a = 0; a < d; a++) {
        double xa = x[a];
        for (size_t k = 0; k < d; k++)
            V[a * d + k] += xa * x[k];
    }
}

static void syr_n_portable(double *V, const double *const *xs, size_t n, size_t d)
{
    for (size_t i = 0; i < n; i++)
        syr_portable(V, xs[i], d);
}

static void chol_inv_trace_n_portable(double *const *L, size_t n, size_t d, double *tr)
{
    for (size_t m = 0; m < n; m++)
        tr[m] = colb__chol_inv_trace(L[m], d);
}

static void cholesky_n_portable(const double *const *S, size_t n, size_t d, double *const *L,
                              double *logdet, int *fail)
{
    for (size_t m = 0; m < n; m++)
        fail[m] = colb__cholesky(S[m], d, L[m], logdet ? logdet + m : NULL);
}

void colb__soa_chol_fit_n_with(const colb__soa_kernel *k, const double *const *S, size_t n,
                               size_t d, double *const *L, double *const *th, double *logdet,
                               double *tr, int *fail)
{
    const double *Lok[COLB__CHOL_BATCH];
    double *Lw[COLB__CHOL_BATCH], *thok[COLB__CHOL_BATCH], trok[COLB__CHOL_BATCH];
    size_t nok = 0;
    k->cholesky_n(S, n, d, L, logdet, fail);
    for (size_t m = 0; m < n; m++)
        if (!fail[m]) {
            Lok[nok] = Lw[nok] = L[m];
            thok[nok++] = th[m];
        }
    if (!nok)
        return;
    colb__cholesky_solve_many(Lok, nok, d, thok);
    if (!tr)
        return;
    k->chol_inv_trace_n(Lw, nok, d, trok);
    for (size_t m = 0, q = 0; m < n; m++)
        if (!fail[m])
            tr[m] = trok[q++];
}

void colb__soa_spd_inverse_n_with(const colb__soa_kernel *k, const double *const *S, size_t n,
                                  size_t d, double *const *X, double *dmin2, int *fail)
{
    for (size_t m = 0; m < n; m++) {
        fail[m] = k->cholesky(S[m], d, X[m], NULL);
        if (fail[m])
            continue;
        if (dmin2) {
            double lo = INFINITY;
            for (size_t a = 0; a < d; a++) {
                double q = X[m][a * d + a] * X[m][a * d + a];
                lo = q < lo ? q : lo;
            }
            dmin2[m] = lo;
        }
        k->chol_inverse(X[m], d);
    }
}

static void spd_inverse_n_portable(const double *const *S, size_t n, size_t d, double *const *X,
                                   double *dmin2, int *fail)
{
    colb__soa_spd_inverse_n_with(&colb__soa_kernel_portable, S, n, d, X, dmin2, fail);
}

static void chol_fit_n_portable(const double *const *S, size_t n, size_t d, double *const *L,
                                double *const *th, double *logdet, double *tr, int *fail)
{
    colb__soa_chol_fit_n_with(&colb__soa_kernel_portable, S, n, d, L, th, logdet, tr, fail);
}

static void symv2_portable(const double *A, size_t d, const double *x1, const double *x2,
                           double *y1, double *y2)
{
    symv_portable(A, d, x1, y1);
    symv_portable(A, d, x2, y2);
}

static void axpy_portable(double *y, const double *x, double a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

static double dot_portable(const double *x, const double *y, size_t n)
{
    double acc[32] = { 0.0 };
    for (size_t i = 0; i < n; i++)
        acc[i % 32] += x[i] * y[i];
    for (size_t w = 16; w > 0; w /= 2)
        for (size_t j = 0; j < w; j++)
            acc[j] += acc[j + w];
    return acc[0];
}

static void pack_add_portable(const double *A, const double *M, size_t d, double *Ap)
{
    colb__pack_upper(A, d, Ap);
    if (M)
        for (size_t i = 0, e = 0; i < d; i++)
            for (size_t j = i; j < d; j++, e++)
                Ap[e] += M[i * d + j];
}

const colb__soa_kernel colb__soa_kernel_portable = {
    .name = "portable",
    .choose = choose_portable,
    .update = update_portable,
    .score1 = score1_portable,
    .dist2 = dist2_portable,
    .dist2_idx = dist2_idx_portable,
    .ridge_step = ridge_step_portable,
    .ridge_step2 = ridge_step2_portable,
    .outer = colb__soa_outer,
    .symv = symv_portable,
    .coldot = coldot_portable,
    .cholesky = colb__cholesky,
    .chol_solve_eye = chol_solve_eye_portable,
    .sm_step = colb__sherman_morrison, /* its row sums are symv's on a symmetric A */
    .syr = syr_portable,
    .cholesky_n = cholesky_n_portable,
    .symv2 = symv2_portable,
    .pack_add = pack_add_portable,
    .score_x = score_x_portable,
    .score_mq = score_mq_portable,
    .score_ms = score_mq_portable,
    .colsum = colsum_portable,
    .rank1_sub = rank1_sub_portable,
    .bounded = bounded_portable,
    .far_bits = far_bits_portable,
    .far_f32 = far_f32_portable,
    .above_bits = above_bits_portable,
    .syr_n = syr_n_portable,
    .chol_inverse = colb__chol_inverse,
    .chol_inv_trace_n = chol_inv_trace_n_portable,
    .chol_fit_n = chol_fit_n_portable,
    .spd_inverse_n = spd_inverse_n_portable,
    .axpy = axpy_portable,
    .dot = dot_portable,
    .transpose = colb__soa_transpose,
    .score_lane = score_lane_portable,
};
