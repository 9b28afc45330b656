/* ridge.c - flat banks of ridge-regression models (see ridge.h).
 *
 * Why Sherman-Morrison on A = V^{-1} rather than an updated Cholesky factor:
 * every policy scores many models against one shared set of K contexts per
 * round. With A explicit, x^T A x of a model and an arm is d(d+1)/2
 * independent multiply-adds read straight from A's upper triangle, which the
 * hand-written score_x kernel (soa_kernel.h) runs along the arms; with a
 * Cholesky factor it would be a triangular solve per model (a chain of
 * dependent steps, far slower per flop). An update costs ~4 d^2 flops either
 * way. The scores are colb's kernels, not a DGEMM, for reproducibility: a
 * BLAS picks its kernels from the CPU model at run time (OpenBLAS's generic
 * and AVX2 DGEMMs round the same product differently), while the kernels sum
 * in one fixed order, the same bits on the AVX-512 and AVX2 paths.
 *
 * Sherman-Morrison accumulates rounding error. We keep V itself as well (an
 * exact running sum), and every COLB__RIDGE_REFRESH updates recompute A, theta
 * and ln det V from V by Cholesky (O(d^3), i.e. O(d^3/4096) per update). The
 * test suite checks the result after 10^6 updates against a fresh
 * factorisation (tests/test_learner.c). Measured at d = 15 with contexts
 * N(0, I/d): after 10^6 updates the relative error of A is 3e-14 without any
 * refresh and 1e-15 with it - Sherman-Morrison is well behaved when V only
 * grows - so the refresh is a cheap insurance for ill-conditioned streams
 * (contexts confined to a subspace), not a correction the common case needs.
 * It cannot restore what V's condition number takes: with ||x||^2 / lambda
 * near 1e16 (colb/limits.h) A = V^-1 is not representable to any accuracy in
 * doubles, refreshed or not. */
#include "linalg/ridge.h"

#include <string.h>

#include "core/memory.h"
#include "core/util.h"
#include "linalg/dense.h"
#include "linalg/soa_kernel.h"

colb_status colb__ridge_init(colb__ridge *r, size_t n, size_t d, const colb_learner_params *p)
{
    return colb__ridge_init_from(r, n, d, p, 0);
}

colb_status colb__ridge_init_from(colb__ridge *r, size_t n, size_t d, const colb_learner_params *p,
                                  size_t first)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    r->d = d;
    r->p = *p;
    r->ld0 = (double)d * log(p->lambda);
    r->rad0 = 2.0 * log(1.0 / p->delta);
    r->sqrt_lambda = sqrt(p->lambda);
    /* the rank-one step is the same bit for bit on every kernel path, so a
     * COLB_KERNEL this CPU cannot run falls back to the best one it can */
    r->kern = colb__soa_env_kernel();
    size_t dd = d * d;
    if (d && dd / d != d)
        return COLB_ENOMEM;
    r->V = colb__malloc(n, dd * sizeof(double));
    r->A = colb__malloc(n, dd * sizeof(double));
    r->b = colb__malloc(n, d * sizeof(double));
    r->theta = colb__malloc(n, d * sizeof(double));
    r->theta0 = colb__calloc(n, d * sizeof(double));
    r->logdet = colb__malloc(n, sizeof(double));
    r->noise = colb__malloc(n, sizeof(double));
    r->S = colb__malloc(n, sizeof(double));
    r->count = colb__malloc(n, sizeof(uint64_t));
    r->since_refresh = colb__malloc(n, sizeof(uint64_t));
    r->work = colb__malloc(dd + d, sizeof(double));
    if (!r->V || !r->A || !r->b || !r->theta || !r->theta0 || !r->logdet || !r->noise ||
        !r->S || !r->count || !r->since_refresh || !r->work) {
        colb__ridge_free(r);
        return COLB_ENOMEM;
    }
    /* the d x d matrices of a large bank in huge pages: each 4 KiB page's
     * first touch (the resets below) is a fault, which the VM of
     * docs/performance.md pays again in its host - CMLB's 9,132 new
     * cluster learners of a 10,000-user service were 33 MB of them */
    colb__advise_huge(r->V, n * dd * sizeof(double));
    colb__advise_huge(r->A, n * dd * sizeof(double));
    for (size_t i = first; i < n; i++) {
        r->noise[i] = p->noise;
        r->S[i] = p->norm_bound;
        colb__ridge_reset(r, i);
    }
    return COLB_OK;
}

double colb__ridge_bytes(size_t n, size_t d)
{
    double dd = (double)d;
    return (double)n * (2 * dd * dd + 3 * dd + 5) * 8 + (dd * dd + dd) * 8;
}

void colb__ridge_free(colb__ridge *r)
{
    if (!r)
        return;
    double *grown[5] = { r->V, r->A, r->b, r->theta, r->theta0 };
    for (size_t k = 0; k < 5; k++)
        colb__grow_free(grown[k], r->reserved[k]);
    free(r->logdet);
    free(r->noise);
    free(r->S);
    free(r->count);
    free(r->since_refresh);
    free(r->work);
    free(r->vlog);
    free(r->vlen);
    memset(r, 0, sizeof *r);
}

void colb__ridge_reset(colb__ridge *r, size_t i)
{
    size_t d = r->d;
    double *V = r->V + i * d * d, *A = r->A + i * d * d;
    memset(V, 0, d * d * sizeof(double));
    memset(A, 0, d * d * sizeof(double));
    for (size_t j = 0; j < d; j++) {
        V[j * d + j] = r->p.lambda;
        A[j * d + j] = 1.0 / r->p.lambda;
    }
    memset(r->b + i * d, 0, d * sizeof(double));
    memcpy(r->theta + i * d, r->theta0 + i * d, d * sizeof(double));
    r->logdet[i] = r->ld0;
    r->count[i] = 0;
    r->since_refresh[i] = 0;
    if (r->vlen)
        r->vlen[i] = 0;
}

/* theta = theta0 + A b for model i (hand loop: d is small and a DSYMV call
 * costs more than the d^2 multiply-adds at d = 15). */
static void ridge_solve(colb__ridge *r, size_t i)
{
    size_t d = r->d;
    const double *A = r->A + i * d * d, *b = r->b + i * d, *t0 = r->theta0 + i * d;
    double *th = r->theta + i * d;
    for (size_t j = 0; j < d; j++) {
        const double *Aj = A + j * d;
        double s = 0.0;
        for (size_t k = 0; k < d; k++)
            s += Aj[k] * b[k];
        th[j] = t0[j] + s;
    }
}

void colb__ridge_set_prior(colb__ridge *r, size_t i, const double *theta0)
{
    size_t d = r->d;
    if (theta0)
        memcpy(r->theta0 + i * d, theta0, d * sizeof(double));
    else
        memset(r->theta0 + i * d, 0, d * sizeof(double));
    ridge_solve(r, i);
}

colb_status colb__ridge_defer_v(colb__ridge *r, size_t cap)
{
    if (cap < 2 || cap > COLB__RIDGE_VCAP_MAX)
        return COLB_EINVAL;
    double *log = colb__malloc(r->n, cap * r->d * sizeof(double));
    uint8_t *len = colb__calloc(r->n, sizeof(uint8_t));
    if (!log || !len) {
        free(log);
        free(len);
        return COLB_ENOMEM;
    }
    free(r->vlog);
    free(r->vlen);
    r->vlog = log;
    r->vlen = len;
    r->vcap = cap;
    return COLB_OK;
}

/* The m-th deferred context of model i. */
static inline const double *vlog_at(const colb__ridge *r, size_t i, size_t m)
{
    return r->vlog + (i * r->vcap + m) * r->d;
}

/* n = vlen[i] > 0 deferred contexts of model i added to V (d x d, model
 * i's or a copy of it) by the kernel's syr_n: the same products and sums,
 * in order, as the steps' own V updates with w = 1 ((1 x_j) x_k = x_j x_k). */
static void vlog_apply(const colb__ridge *r, size_t i, double *V)
{
    const double *xs[COLB__RIDGE_VCAP_MAX];
    size_t n = r->vlen[i];
    for (size_t m = 0; m < n; m++)
        xs[m] = vlog_at(r, i, m);
    r->kern->syr_n(V, xs, n, r->d);
}

static inline size_t pending_v(const colb__ridge *r, size_t i)
{
    return r->vlen ? r->vlen[i] : 0;
}

void colb__ridge_sync_v(colb__ridge *r, size_t i)
{
    if (pending_v(r, i)) {
        vlog_apply(r, i, r->V + i * r->d * r->d);
        r->vlen[i] = 0;
    }
}

void colb__ridge_v(const colb__ridge *r, size_t i, double *V)
{
    memcpy(V, r->V + i * r->d * r->d, r->d * r->d * sizeof(double));
    if (pending_v(r, i))
        vlog_apply(r, i, V);
}

void colb__ridge_prefetch(const colb__ridge *r, size_t i)
{
    size_t d = r->d, dd = d * d;
    colb__prefetch(r->A + i * dd, dd * sizeof(double), 1);
    if (!r->vcap || r->vlen[i] + 1u == r->vcap)
        colb__prefetch(r->V + i * dd, dd * sizeof(double), 1);
    if (r->vcap)
        colb__prefetch(vlog_at(r, i, r->vlen[i]), d * sizeof(double), 1);
    colb__prefetch(r->theta + i * d, d * sizeof(double), 1);
    colb__prefetch(r->b + i * d, d * sizeof(double), 1);
    colb__prefetch(r->theta0 + i * d, d * sizeof(double), 1);
}

/* Whether a step of weight w on model i leaves V to the log; if not, the
 * log is applied first, so that V's sums stay in order. */
static int defer_step(colb__ridge *r, size_t i, double w)
{
    if (r->vcap && w == 1.0)
        return 1;
    colb__ridge_sync_v(r, i);
    return 0;
}

/* After a deferred step: x into model i's log, applied when it is full. */
static void vlog_push(colb__ridge *r, size_t i, const double *x)
{
    size_t m = r->vlen[i];
    memcpy(r->vlog + (i * r->vcap + m) * r->d, x, r->d * sizeof(double));
    r->vlen[i] = (uint8_t)(m + 1);
    if (m + 1 == r->vcap)
        colb__ridge_sync_v(r, i);
}

static void after_step(colb__ridge *r, size_t i, double s, double w);

void colb__ridge_update(colb__ridge *r, size_t i, const double *x, double y, double w)
{
    colb__ridge_update_u(r, i, x, y, w, r->work);
}

double colb__ridge_update_u(colb__ridge *r, size_t i, const double *x, double y, double w,
                            double *u)
{
    size_t d = r->d;
    /* A <- A - c (Ax)(Ax)^T with c = w / (1 + w x^T A x); (u_j*u_k)*c is
     * symmetric bit for bit because IEEE multiplication commutes.
     * theta <- theta + c (y - <x, theta>) A x, the recursive least-squares
     * form of theta0 + A b (O(d) instead of the O(d^2) product A b; the
     * periodic refresh recomputes theta from A and b exactly). The kernel
     * (soa_kernel.h, ridge_step) vectorises this without changing a bit. */
    int defer = defer_step(r, i, w);
    double s = r->kern->ridge_step(r->A + i * d * d, defer ? NULL : r->V + i * d * d, r->b + i * d,
                                   r->theta + i * d, r->theta0 + i * d, x, y, w, d, u);
    if (defer)
        vlog_push(r, i, x);
    after_step(r, i, s, w);
    return s;
}

/* The bookkeeping after model i's rank-one step of x^T A x = s. The kernel
 * adds (w x_j) x_k to every V_jk; when w != 1, (w x_j) x_k and (w x_k) x_j
 * may differ in the last bit, and V must stay exactly symmetric (snapshots
 * store one triangle, see colb__ridge_export; the refresh reads the lower
 * one): the lower triangle is mirrored onto the upper. With w == 1 both
 * products are x_j x_k, the same bits, and nothing is done. */
static void after_step(colb__ridge *r, size_t i, double s, double w)
{
    if (w != 1.0) {
        size_t d = r->d;
        double *V = r->V + i * d * d;
        for (size_t j = 1; j < d; j++)
            for (size_t k = 0; k < j; k++)
                V[k * d + j] = V[j * d + k];
    }
    r->logdet[i] += colb__logdet_step(w * s);
    r->count[i]++;
    if (++r->since_refresh[i] >= COLB__RIDGE_REFRESH)
        colb__ridge_refresh(r, i); /* on failure the Sherman-Morrison state stands */
}

void colb__ridge_update2(colb__ridge *r, size_t i, colb__ridge *r2, size_t j, const double *x,
                         double y, double w)
{
    double s[2];
    colb__ridge_update2_u(r, i, r2, j, x, y, w, r->work, s); /* work: d*d + d >= 2d doubles */
}

void colb__ridge_update2_u(colb__ridge *r, size_t i, colb__ridge *r2, size_t j, const double *x,
                           double y, double w, double *u, double s[2])
{
    size_t d = r->d;
    int di = defer_step(r, i, w), dj = defer_step(r2, j, w);
    double *const m[2][5] = {
        { r->A + i * d * d, di ? NULL : r->V + i * d * d, r->b + i * d, r->theta + i * d, r->theta0 + i * d },
        { r2->A + j * d * d, dj ? NULL : r2->V + j * d * d, r2->b + j * d, r2->theta + j * d, r2->theta0 + j * d },
    };
    const double *const xs[2] = { x, x }, ys[2] = { y, y };
    r->kern->ridge_step2(m, xs, ys, w, d, u, s);
    if (di)
        vlog_push(r, i, x);
    if (dj)
        vlog_push(r2, j, x);
    after_step(r, i, s[0], w);
    after_step(r2, j, s[1], w);
}

void colb__ridge_update_pair(colb__ridge *r, size_t i, const double *xi, double yi, size_t j,
                             const double *xj, double yj, double w)
{
    size_t d = r->d;
    int di = defer_step(r, i, w), dj = defer_step(r, j, w);
    double *const m[2][5] = {
        { r->A + i * d * d, di ? NULL : r->V + i * d * d, r->b + i * d, r->theta + i * d, r->theta0 + i * d },
        { r->A + j * d * d, dj ? NULL : r->V + j * d * d, r->b + j * d, r->theta + j * d, r->theta0 + j * d },
    };
    const double *const xs[2] = { xi, xj }, ys[2] = { yi, yj };
    double s[2];
    r->kern->ridge_step2(m, xs, ys, w, d, r->work, s); /* work: d*d + d >= 2d doubles */
    if (di)
        vlog_push(r, i, xi);
    if (dj)
        vlog_push(r, j, xj);
    after_step(r, i, s[0], w);
    after_step(r, j, s[1], w);
}

void colb__ridge_add(colb__ridge *r, size_t i, const double *x, double y)
{
    size_t d = r->d;
    double *b = r->b + i * d;
    const double *t0 = r->theta0 + i * d;
    double e = y;
    for (size_t k = 0; k < d; k++)
        e -= x[k] * t0[k];
    colb__ridge_sync_v(r, i);
    r->kern->syr(r->V + i * d * d, x, d);
    for (size_t a = 0; a < d; a++)
        b[a] += e * x[a];
    r->count[i]++;
    r->since_refresh[i]++;
}

void colb__ridge_add_n(colb__ridge *r, size_t i, const double *const *xs, const double *ys,
                       size_t n)
{
    size_t d = r->d;
    double *b = r->b + i * d;
    const double *t0 = r->theta0 + i * d;
    for (size_t m = 0; m < n; m++) {
        const double *x = xs[m];
        double e = ys[m];
        for (size_t k = 0; k < d; k++)
            e -= x[k] * t0[k];
        r->kern->axpy(b, x, e, d);
    }
    colb__ridge_sync_v(r, i);
    r->kern->syr_n(r->V + i * d * d, xs, n, d);
    r->count[i] += n;
    r->since_refresh[i] += n;
}

/* The Cholesky factor of V + tau I (into L, its ln det into *ld) for the
 * least tau = max_j V_jj 1e-15 4^k, k = 0..6, that has one: V positive
 * semi-definite but so ill-conditioned that rounding broke its own
 * factorisation (lambda 1e-6 against contexts of 1e6: condition ~1e18)
 * takes a jitter of about d eps ||V||. A V whose factorisation needs more
 * is not positive definite (a state colb did not make): -1. */
static int jittered_cholesky(const colb__ridge *r, const double *V, double *L, double *ld)
{
    size_t d = r->d;
    double top = 0.0;
    for (size_t j = 0; j < d; j++)
        top = V[j * d + j] > top ? V[j * d + j] : top;
    double *Vj = top > 0.0 && isfinite(top) ? colb__malloc(d * d, sizeof(double)) : NULL;
    int rc = -1;
    for (int k = 0; Vj && k <= 6 && rc; k++) {
        double tau = top * 1e-15 * (double)(1 << (2 * k));
        memcpy(Vj, V, d * d * sizeof(double));
        for (size_t j = 0; j < d; j++)
            Vj[j * d + j] += tau;
        rc = r->kern->cholesky(Vj, d, L, ld);
    }
    free(Vj);
    return rc;
}

colb_status colb__ridge_refresh(colb__ridge *r, size_t i)
{
    size_t d = r->d;
    double *L = r->work, ld;
    colb__ridge_sync_v(r, i);
    /* Cholesky and the inverse from it in colb's own fixed order (dense.h):
     * LAPACK's dpotri runs on OpenBLAS's threads and rounds differently with
     * their number; this keeps every result a function of the inputs */
    if (r->kern->cholesky(r->V + i * d * d, d, L, &ld) && /* the kernels: dense.h's bits */
        jittered_cholesky(r, r->V + i * d * d, L, &ld))
        return COLB_ENUMERIC;
    r->kern->chol_inverse(L, d);
    memcpy(r->A + i * d * d, L, d * d * sizeof(double));
    r->logdet[i] = ld;
    r->since_refresh[i] = 0;
    ridge_solve(r, i);
    return COLB_OK;
}

/* Model src's V as it stands (its deferred contexts applied): in place
 * when from is r, else in r's work (from cannot be changed). */
static const double *synced_v(colb__ridge *r, const colb__ridge *from, size_t src)
{
    size_t dd = r->d * r->d;
    if (!pending_v(from, src))
        return from->V + src * dd;
    if (from == r) {
        colb__ridge_sync_v(r, src);
        return r->V + src * dd;
    }
    memcpy(r->work, from->V + src * dd, dd * sizeof(double));
    vlog_apply(from, src, r->work);
    return r->work;
}

void colb__ridge_absorb(colb__ridge *r, size_t dst, const colb__ridge *from, size_t src)
{
    size_t d = r->d;
    double *V = r->V + dst * d * d, *b = r->b + dst * d;
    colb__ridge_sync_v(r, dst);
    const double *Vs = synced_v(r, from, src), *bs = from->b + src * d;
    /* V += Vs: the kernel's axpy, not DAXPY - at d x d = 225 the BLAS call
     * cost more than the additions (OpenBLAS's generic kernel here; 6 % of
     * cohort's time in a service); 1 * Vs is exact, so the bits are the
     * plain loop's */
    r->kern->axpy(V, Vs, 1.0, d * d);
    for (size_t j = 0; j < d; j++) {
        V[j * d + j] -= from->p.lambda;
        b[j] += bs[j];
    }
    r->count[dst] += from->count[src];
}

void colb__ridge_unabsorb(colb__ridge *r, size_t dst, const colb__ridge *from, size_t src)
{
    size_t d = r->d;
    double *V = r->V + dst * d * d, *b = r->b + dst * d;
    colb__ridge_sync_v(r, dst);
    const double *Vs = synced_v(r, from, src), *bs = from->b + src * d;
    r->kern->axpy(V, Vs, -1.0, d * d); /* -1 * Vs exact: V - Vs */
    for (size_t j = 0; j < d; j++) {
        V[j * d + j] += from->p.lambda;
        b[j] -= bs[j];
    }
    r->count[dst] -= from->count[src] < r->count[dst] ? from->count[src] : r->count[dst];
}

double colb__ridge_oful_radius_with(const colb__ridge *r, size_t i, double R)
{
    double arg = r->logdet[i] - r->ld0 + r->rad0;
    if (arg < 0.0)
        arg = 0.0; /* ln det V >= d ln lambda; guard rounding only */
    return R * sqrt(arg) + r->sqrt_lambda * r->S[i];
}

double colb__ridge_oful_radius(const colb__ridge *r, size_t i)
{
    return colb__ridge_oful_radius_with(r, i, r->noise[i]);
}

double colb__ridge_width(const colb__ridge *r, size_t i)
{
    return r->p.width == COLB_WIDTH_FIXED ? r->p.alpha : colb__ridge_oful_radius(r, i);
}

size_t colb__ridge_scores_work(size_t d, size_t K)
{
    size_t Kp = colb__soa_padded(K);
    return d * Kp + Kp; /* X^T padded, one model's padded scores */
}

void colb__ridge_scores_many(const colb__ridge *r, const size_t *idx, size_t first, size_t m,
                             const double *X, size_t K, double *out, double *work)
{
    size_t d = r->d, Kp = colb__soa_padded(K);
    double *Xt = work, *sc = Xt + d * Kp;
    colb__soa_transpose(X, K, d, Kp, Xt);
    for (size_t u = 0; u < m; u++) {
        size_t i = idx ? idx[u] : first + u;
        r->kern->score_x(r->A + i * d * d, d, r->theta + i * d, colb__ridge_width(r, i), 1.0,
                         Xt, d, K, Kp, sc, NULL, NULL);
        memcpy(out + u * K, sc, K * sizeof(double));
    }
}

void colb__ridge_scores(const colb__ridge *r, size_t i, const double *X, size_t K,
                        double *out, double *work)
{
    size_t idx = i;
    colb__ridge_scores_many(r, &idx, 0, 1, X, K, out, work);
}

void colb__ridge_copy_model(colb__ridge *to, size_t dst, const colb__ridge *from, size_t src)
{
    size_t d = to->d;
    if (to == from && dst == src)
        return;
    memcpy(to->V + dst * d * d, from->V + src * d * d, d * d * sizeof(double));
    if (pending_v(from, src))
        vlog_apply(from, src, to->V + dst * d * d);
    if (to->vlen)
        to->vlen[dst] = 0;
    memcpy(to->A + dst * d * d, from->A + src * d * d, d * d * sizeof(double));
    memcpy(to->b + dst * d, from->b + src * d, d * sizeof(double));
    memcpy(to->theta + dst * d, from->theta + src * d, d * sizeof(double));
    memcpy(to->theta0 + dst * d, from->theta0 + src * d, d * sizeof(double));
    to->logdet[dst] = from->logdet[src];
    to->noise[dst] = from->noise[src];
    to->S[dst] = from->S[src];
    to->count[dst] = from->count[src];
    to->since_refresh[dst] = from->since_refresh[src];
}

colb_status colb__scratch_reserve(colb__scratch *s, size_t d, size_t K, size_t block)
{
    return colb__scratch_reserve_n(s, K, block, colb__ridge_scores_work(d, K));
}

colb_status colb__scratch_reserve_n(colb__scratch *s, size_t K, size_t block, size_t work)
{
    if (K <= s->K_cap)
        return COLB_OK;
    double *sc = colb__malloc(block, K * sizeof(double));
    double *w = colb__malloc(work, sizeof(double));
    if (!sc || !w) {
        free(sc);
        free(w);
        return COLB_ENOMEM;
    }
    colb__scratch_free(s);
    s->scores = sc;
    s->work = w;
    s->K_cap = K;
    return COLB_OK;
}

void colb__scratch_free(colb__scratch *s)
{
    free(s->scores);
    free(s->work);
    s->scores = s->work = NULL;
    s->K_cap = 0;
}

/* ---- logical form, growth --------------------------------------------- */

size_t colb__ridge_model_len(size_t d)
{
    return d * (d + 1) + 3 * d + 3;
}

void colb__ridge_export(const colb__ridge *r, size_t i, double *real, uint64_t *ints)
{
    ints[0] = r->count[i];
    ints[1] = r->since_refresh[i];
    if (!real)
        return;
    size_t d = r->d, np = pending_v(r, i);
    const double *V = r->V + i * d * d, *A = r->A + i * d * d;
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k <= j; k++) {
            double v = V[j * d + k];
            for (size_t m = 0; m < np; m++) /* the deferred contexts: syr_n's sums */
                v += vlog_at(r, i, m)[j] * vlog_at(r, i, m)[k];
            *real++ = v;
        }
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k <= j; k++)
            *real++ = A[j * d + k];
    memcpy(real, r->b + i * d, d * sizeof(double));
    memcpy(real + d, r->theta + i * d, d * sizeof(double));
    memcpy(real + 2 * d, r->theta0 + i * d, d * sizeof(double));
    real += 3 * d;
    real[0] = r->logdet[i];
    real[1] = r->noise[i];
    real[2] = r->S[i];
}

void colb__ridge_import(colb__ridge *r, size_t i, const double *real, const uint64_t *ints)
{
    size_t d = r->d;
    double *V = r->V + i * d * d, *A = r->A + i * d * d;
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k <= j; k++)
            V[j * d + k] = V[k * d + j] = *real++;
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k <= j; k++)
            A[j * d + k] = A[k * d + j] = *real++;
    memcpy(r->b + i * d, real, d * sizeof(double));
    memcpy(r->theta + i * d, real + d, d * sizeof(double));
    memcpy(r->theta0 + i * d, real + 2 * d, d * sizeof(double));
    real += 3 * d;
    r->logdet[i] = real[0];
    r->noise[i] = real[1];
    r->S[i] = real[2];
    r->count[i] = ints[0];
    r->since_refresh[i] = ints[1];
    if (r->vlen)
        r->vlen[i] = 0;
}

colb_status colb__ridge_grow(colb__ridge *r, size_t n)
{
    size_t d = r->d, dd = d * d, old = r->n;
    if (n <= old)
        return COLB_OK;
    /* the models' matrices and vectors grow without moving (colb__grow_bytes:
     * a service's users arrive in many small growths) */
    double **grown[5] = { &r->V, &r->A, &r->b, &r->theta, &r->theta0 };
    for (size_t k = 0; k < 5; k++)
        if (colb__grow_n(grown[k], &r->reserved[k], old, n, (k < 2 ? dd : d) * sizeof(double)))
            return COLB_ENOMEM; /* arrays already grown are only larger: the bank is intact */
    if (colb__realloc_n(&r->logdet, n, sizeof(double)) ||
        colb__realloc_n(&r->noise, n, sizeof(double)) || colb__realloc_n(&r->S, n, sizeof(double)) ||
        colb__realloc_n(&r->count, n, sizeof(uint64_t)) ||
        colb__realloc_n(&r->since_refresh, n, sizeof(uint64_t)) ||
        (r->vcap && (colb__realloc_n(&r->vlog, n, r->vcap * d * sizeof(double)) ||
                     colb__realloc_n(&r->vlen, n, sizeof(uint8_t)))))
        return COLB_ENOMEM; /* arrays already grown are only larger: the bank is intact */
    r->n = n;
    memset(r->theta0 + old * d, 0, (n - old) * d * sizeof(double));
    for (size_t i = old; i < n; i++) {
        r->noise[i] = r->p.noise;
        r->S[i] = r->p.norm_bound;
        colb__ridge_reset(r, i);
    }
    return COLB_OK;
}
