/* soa_bank.c - the compact SoA bank of ridge models (see soa_bank.h): layout,
 * kernel choice, deferred block updates, and the rare operations that need V
 * (derived from A by colb's fixed-order factorisations, dense.h).
 *
 * Drift without V: A is only ever changed by Sherman-Morrison steps, which
 * are well behaved when V only grows (each step is a contraction of A); at
 * d = 15 with contexts N(0, I/d) the relative error of A after 10^6 updates
 * against a direct solve is ~1e-14 (tests/test_kernels.c bounds it by 1e-10,
 * and theta's by 1e-9). A stream confined to a subspace leaves A's other
 * directions at 1/lambda exactly, so it does not amplify the error either.
 * What no step avoids is V's condition number: with ||x||^2 / lambda near
 * 1e16 and beyond (contexts of 1e5-1e6 with lambda = 1e-6, within
 * colb/limits.h) A's entries mix 1/lambda with 1/||x||^2 and the latter is
 * lost to rounding, for good here (no V to refactor from): colb/limits.h
 * says so and asks for ||x||^2 / lambda below about 1e8. */
#include "linalg/soa_bank.h"

#include "linalg/dense.h"

#include <float.h>
#include <string.h>

#include "core/memory.h"
#include "core/team.h"

#define W COLB__SOA_W

const colb__soa_kernel *colb__soa_env_kernel(void)
{
    const colb__soa_kernel *k;
    if (colb__soa_pick_kernel(getenv("COLB_KERNEL"), &k) != COLB_OK)
        colb__soa_pick_kernel(NULL, &k);
    return k;
}

colb_status colb__soa_pick_kernel(const char *name, const colb__soa_kernel **out)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    int has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    int has512 = 0, has2 = 0;
#endif
    if (!name || !*name) {
        *out = has512 ? &colb__soa_kernel_avx512
             : has2   ? &colb__soa_kernel_avx2
                      : &colb__soa_kernel_portable;
        return COLB_OK;
    }
    if (!strcmp(name, "portable")) {
        *out = &colb__soa_kernel_portable;
        return COLB_OK;
    }
    if (!strcmp(name, "avx2") || !strcmp(name, "avx512")) {
        int ok = name[3] == '2' ? has2 : has512;
        if (!ok)
            return COLB_EUNSUP;
        *out = name[3] == '2' ? &colb__soa_kernel_avx2 : &colb__soa_kernel_avx512;
        return COLB_OK;
    }
    return COLB_EINVAL;
}

size_t colb__soa_bytes_per_model(size_t d)
{
    return 8 * (d * (d + 1) / 2 + 2 * d + 7);
}

void colb__soa_free(colb__soa_bank *s)
{
    if (!s)
        return;
    double *grown[3] = { s->A, s->b, s->theta };
    for (size_t k = 0; k < 3; k++)
        colb__grow_free(grown[k], s->reserved[k]);
    free(s->theta0);
    free(s->logdet);
    free(s->noise);
    free(s->S);
    free(s->count);
    free((void *)s->px);
    free(s->py);
    free(s->pw);
    free(s->npend);
    free(s->idx);
    free(s->Q);
    free(s->Xt);
    free(s->work);
    colb__team_free(s->team);
    free(s->twork);
    memset(s, 0, sizeof *s);
}

/* Huge pages for the bank's per-user arrays (colb__advise_huge: large banks
 * only), m lanes, before their first touch; not for the models of a bank
 * that has grown (colb__grow_bytes): a madvise on part of their mapping
 * splits it, and the next move beyond it becomes a copy. */
static void advise_bank(colb__soa_bank *s, size_t m)
{
    double *const models[] = { s->A, s->b, s->theta };
    const size_t per[] = { s->P, s->d, s->d };
    for (size_t k = 0; k < 3; k++)
        if (!s->reserved[k])
            colb__advise_huge(models[k], m * per[k] * sizeof(double));
    double *const per_user[] = { s->logdet, s->noise, s->S, s->py, s->pw };
    for (size_t k = 0; k < sizeof per_user / sizeof per_user[0]; k++)
        colb__advise_huge(per_user[k], m * sizeof(double));
    colb__advise_huge(s->count, m * sizeof(uint64_t));
    colb__advise_huge(s->px, m * sizeof(double *));
}

colb_status colb__soa_init(colb__soa_bank *s, size_t n, size_t d, const colb_learner_params *p,
                           const char *kernel)
{
    memset(s, 0, sizeof *s);
    colb_status st = colb__soa_pick_kernel(kernel ? kernel : getenv("COLB_KERNEL"), &s->kern);
    if (st != COLB_OK)
        return st;
    if (n == 0 || d == 0 || d > 4096 || n > ((size_t)-1) / 4096 / 4096)
        return COLB_ENOMEM;
    s->n = n;
    s->d = d;
    s->P = d * (d + 1) / 2;
    s->nblk = (n + W - 1) / W;
    s->p = *p;
    s->radius0 = 2.0 * log(1.0 / p->delta);
    s->ld0 = (double)d * log(p->lambda);
    s->sqrt_lambda = sqrt(p->lambda);
    size_t m = s->nblk * W;
    s->A = colb__malloc(m, s->P * sizeof(double));
    s->b = colb__malloc(m, d * sizeof(double));
    s->theta = colb__malloc(m, d * sizeof(double));
    s->theta0 = colb__calloc(d, sizeof(double));
    s->logdet = colb__malloc(m, sizeof(double));
    s->noise = colb__malloc(m, sizeof(double));
    s->S = colb__malloc(m, sizeof(double));
    s->count = colb__malloc(m, sizeof(uint64_t));
    s->px = colb__calloc(m, sizeof(double *));
    s->py = colb__calloc(m, sizeof(double));
    s->pw = colb__calloc(m, sizeof(double));
    s->npend = colb__calloc(s->nblk, 1);
    s->idx = colb__malloc(d * d, sizeof(int32_t));
    s->work = colb__malloc(2 * d * W + 8 * W + s->P + 2 * d, sizeof(double));
    if (!s->A || !s->b || !s->theta || !s->theta0 || !s->logdet || !s->noise || !s->S ||
        !s->count || !s->px || !s->py || !s->pw || !s->npend || !s->idx || !s->work) {
        colb__soa_free(s);
        return COLB_ENOMEM;
    }
    advise_bank(s, m);
    for (size_t i = 0, e = 0; i < d; i++)
        for (size_t j = i; j < d; j++, e++)
            s->idx[i * d + j] = s->idx[j * d + i] = (int32_t)e;
    for (size_t i = 0; i < m; i++) {
        s->noise[i] = p->noise;
        s->S[i] = p->norm_bound;
        colb__soa_reset(s, i);
    }
    return COLB_OK;
}

/* Pointers to model i's first entry of A, b, theta (stride W). */
#define AOF(s, i) ((s)->A + ((i) / W) * (s)->P * W + (i) % W)
#define BOF(s, i) ((s)->b + ((i) / W) * (s)->d * W + (i) % W)
#define TOF(s, i) ((s)->theta + ((i) / W) * (s)->d * W + (i) % W)

void colb__soa_reset(colb__soa_bank *s, size_t i)
{
    size_t d = s->d;
    double *A = AOF(s, i), *b = BOF(s, i), *th = TOF(s, i);
    for (size_t r = 0, e = 0; r < d; r++)
        for (size_t c = r; c < d; c++, e++)
            A[e * W] = r == c ? 1.0 / s->p.lambda : 0.0;
    for (size_t j = 0; j < d; j++) {
        b[j * W] = 0.0;
        th[j * W] = s->theta0[j];
    }
    s->logdet[i] = s->ld0;
    s->count[i] = 0;
    if (s->px[i]) {
        s->px[i] = NULL;
        s->npend[i / W]--;
    }
}

/* theta_i = theta0 + A_i b_i (scalar, packed symmetric access). */
static void solve_one(colb__soa_bank *s, size_t i)
{
    size_t d = s->d;
    const double *A = AOF(s, i), *b = BOF(s, i);
    double *th = TOF(s, i);
    for (size_t r = 0; r < d; r++) {
        double acc = 0.0;
        for (size_t c = 0; c < d; c++)
            acc += A[(size_t)s->idx[r * d + c] * W] * b[c * W];
        th[r * W] = s->theta0[r] + acc;
    }
}

/* Apply the pending updates of block k (lanes without one get weight 0,
 * which leaves them exactly as they are). */
static void apply_block(colb__soa_bank *s, size_t k, double *work)
{
    if (!s->npend[k])
        return;
    size_t d = s->d;
    double *xs = work, *u = xs + d * W, *y = u + d * W, *w = y + W, *ry = w + W, *ws = ry + W;
    for (size_t l = 0; l < W; l++) {
        size_t i = k * W + l;
        const double *x = s->px[i];
        if (!x) {
            for (size_t j = 0; j < d; j++)
                xs[j * W + l] = 0.0;
            y[l] = w[l] = ry[l] = 0.0;
            continue;
        }
        double p0 = 0.0;
        for (size_t j = 0; j < d; j++) {
            xs[j * W + l] = x[j];
            p0 += x[j] * s->theta0[j];
        }
        y[l] = s->py[i];
        w[l] = s->pw[i];
        ry[l] = w[l] * (y[l] - p0);
    }
    s->kern->update(s->A + k * s->P * W, s->b + k * d * W, s->theta + k * d * W, ws, xs, y, w, ry,
                    d, u);
    for (size_t l = 0; l < W; l++) {
        size_t i = k * W + l;
        if (!s->px[i])
            continue;
        s->logdet[i] += colb__logdet_step(ws[l]);
        s->count[i]++;
        s->px[i] = NULL;
    }
    s->npend[k] = 0;
}

void colb__soa_update(colb__soa_bank *s, size_t i, const double *x, double y, double w)
{
    size_t k = i / W;
    if (s->px[i])
        apply_block(s, k, s->work);
    s->px[i] = x;
    s->py[i] = y;
    s->pw[i] = w;
    if (s->pend_lo >= s->pend_hi)
        s->pend_lo = k, s->pend_hi = k + 1;
    else if (k < s->pend_lo)
        s->pend_lo = k;
    else if (k >= s->pend_hi)
        s->pend_hi = k + 1;
    size_t live = s->n - k * W < W ? s->n - k * W : W;
    if (++s->npend[k] == live && !s->team) /* a team applies them all at flush */
        apply_block(s, k, s->work);
}

/* Scratch doubles of one kernel call (apply_block, choose). */
static size_t kernel_work(size_t d)
{
    return 2 * d * W + 8 * W;
}

/* Blocks per chunk of a team's loop over nblk blocks: about 32 chunks per
 * thread (a late thread delays the round by one chunk at most), at most 16
 * blocks (128 users) per chunk, so that claims stay rare. */
static size_t team_chunk(const colb__soa_bank *s, size_t nblk)
{
    size_t c = nblk / (32 * colb__team_size(s->team));
    return c < 1 ? 1 : c > 16 ? 16 : c;
}

static void flush_range(void *ctx, size_t k0, size_t k1, size_t part)
{
    colb__soa_bank *s = ctx;
    for (size_t k = s->pend_lo + k0; k < s->pend_lo + k1; k++)
        apply_block(s, k, s->twork + part * kernel_work(s->d));
}

void colb__soa_flush(colb__soa_bank *s)
{
    /* only the blocks that may hold an update: a round of one user (a
     * service's) visits one block, not all N/8 */
    if (s->pend_lo < s->pend_hi) {
        size_t n = s->pend_hi - s->pend_lo;
        if (s->team && n > 1)
            colb__team_for(s->team, n, team_chunk(s, n), flush_range, s, NULL);
        else
            for (size_t k = s->pend_lo; k < s->pend_hi; k++)
                apply_block(s, k, s->work);
    }
    s->pend_lo = s->pend_hi = 0;
}

typedef struct update_job {
    colb__soa_bank *s;
    const double *X;
    const size_t *arms;
    const double *y;
} update_job;

static void update_range(void *ctx, size_t k0, size_t k1, size_t part)
{
    update_job *j = ctx;
    colb__soa_bank *s = j->s;
    double *work = s->team ? s->twork + part * kernel_work(s->d) : s->work;
    for (size_t k = k0; k < k1; k++) {
        apply_block(s, k, work); /* what was pending before */
        size_t end = (k + 1) * W < s->n ? (k + 1) * W : s->n;
        for (size_t i = k * W; i < end; i++) {
            s->px[i] = j->X + j->arms[i] * s->d;
            s->py[i] = j->y[i];
            s->pw[i] = 1.0;
        }
        s->npend[k] = (unsigned char)(end - k * W);
        apply_block(s, k, work);
    }
}

void colb__soa_update_all(colb__soa_bank *s, const double *X, const size_t *arms, const double *y)
{
    update_job j = { s, X, arms, y };
    if (s->team && s->nblk > 1)
        colb__team_for(s->team, s->nblk, team_chunk(s, s->nblk), update_range, &j, NULL);
    else
        update_range(&j, 0, s->nblk, 0);
    s->pend_lo = s->pend_hi = 0;
}

colb_status colb__soa_set_threads(colb__soa_bank *s, size_t threads)
{
    colb__soa_flush(s);
    colb__team_free(s->team);
    free(s->twork);
    s->team = NULL;
    s->twork = NULL;
    if (threads < 2)
        return COLB_OK;
    s->twork = colb__malloc(threads, kernel_work(s->d) * sizeof(double));
    if (!s->twork || colb__team_create(threads, &s->team) != COLB_OK) {
        free(s->twork);
        s->twork = NULL;
        return COLB_ENOMEM;
    }
    return COLB_OK;
}

void colb__soa_sync(colb__soa_bank *s, size_t i)
{
    apply_block(s, i / W, s->work);
}

void colb__soa_set_prior(colb__soa_bank *s, const double *theta0)
{
    colb__soa_flush(s);
    if (theta0)
        memcpy(s->theta0, theta0, s->d * sizeof(double));
    else
        memset(s->theta0, 0, s->d * sizeof(double));
    for (size_t i = 0; i < s->nblk * W; i++)
        solve_one(s, i);
}

colb_status colb__soa_reserve(colb__soa_bank *s, size_t K)
{
    if (K <= s->K_cap)
        return COLB_OK;
    double *q = colb__malloc(s->P, K * sizeof(double)), *xt = colb__malloc(s->d, K * sizeof(double));
    if (!q || !xt) {
        free(q);
        free(xt);
        return COLB_ENOMEM;
    }
    free(s->Q);
    free(s->Xt);
    s->Q = q;
    s->Xt = xt;
    s->K_cap = K;
    return COLB_OK;
}

colb_status colb__soa_prepare(colb__soa_bank *s, const double *X, size_t K)
{
    size_t d = s->d;
    colb_status st = colb__soa_reserve(s, K);
    if (st != COLB_OK)
        return st;
    s->kern->outer(X, K, d, K, s->Q, s->Xt);
    return COLB_OK;
}

double colb__soa_oful_radius(const colb__soa_bank *s, size_t i)
{
    double arg = s->logdet[i] - s->ld0 + s->radius0;
    if (arg < 0.0)
        arg = 0.0; /* ln det V >= d ln lambda; guard rounding only */
    return s->noise[i] * sqrt(arg) + s->sqrt_lambda * s->S[i];
}

double colb__soa_width(const colb__soa_bank *s, size_t i)
{
    return s->p.width == COLB_WIDTH_FIXED ? s->p.alpha : colb__soa_oful_radius(s, i);
}

/* choose_all on blocks [k0, k1) with scratch `work`. */
static void choose_blocks(colb__soa_bank *s, size_t k0, size_t k1, size_t first, size_t end,
                          const double *X, size_t K, size_t *arms, double *work)
{
    size_t d = s->d;
    double width[W];
    uint32_t best[W];
    for (size_t k = k0; k < k1; k++) {
        apply_block(s, k, work);
        for (size_t l = 0; l < W; l++)
            width[l] = k * W + l < s->n ? colb__soa_width(s, k * W + l) : 0.0;
        s->kern->choose(s->A + k * s->P * W, s->theta + k * d * W, width, s->Q, X, d, K, best,
                        NULL);
        for (size_t l = 0; l < W; l++) {
            size_t i = k * W + l;
            if (i >= first && i < end)
                arms[i - first] = best[l];
        }
    }
}

typedef struct choose_job {
    colb__soa_bank *s;
    size_t kb0, first, end, K;
    const double *X;
    size_t *arms;
} choose_job;

static void choose_range(void *ctx, size_t k0, size_t k1, size_t part)
{
    choose_job *j = ctx;
    choose_blocks(j->s, j->kb0 + k0, j->kb0 + k1, j->first, j->end, j->X, j->K, j->arms,
                  j->s->twork + part * kernel_work(j->s->d));
}

void colb__soa_choose_all(colb__soa_bank *s, size_t first, size_t m, const double *X, size_t K,
                          size_t *arms, colb__task *side)
{
    size_t end = first + m, kb0 = first / W, kb1 = m ? (end + W - 1) / W : kb0;
    if (s->team && kb1 - kb0 > 1) {
        choose_job j = { s, kb0, first, end, K, X, arms };
        colb__team_for(s->team, kb1 - kb0, team_chunk(s, kb1 - kb0), choose_range, &j, side);
    } else {
        colb__task_run(side);
        choose_blocks(s, kb0, kb1, first, end, X, K, arms, s->work);
    }
}

/* Model i with its pending update applied, into copies: Ap (P, packed), b,
 * th (d each); returns w s, the pending step's log1p argument (0: none).
 * The same steps as the portable kernel. Uses the bank's scratch. */
static double pending_model(const colb__soa_bank *s, size_t i, double *Ap, double *b, double *th)
{
    size_t d = s->d;
    const double *A = AOF(s, i), *bb = BOF(s, i), *t = TOF(s, i), *x = s->px[i];
    for (size_t e = 0; e < s->P; e++)
        Ap[e] = A[e * W];
    for (size_t j = 0; j < d; j++) {
        th[j] = t[j * W];
        b[j] = bb[j * W];
    }
    if (!x)
        return 0.0;
    double *u = s->work + d * W; /* d values */
    double sx = 0.0, pred = 0.0, p0 = 0.0, w = s->pw[i];
    for (size_t r = 0; r < d; r++) {
        double acc = 0.0;
        for (size_t c = 0; c < d; c++)
            acc += Ap[s->idx[r * d + c]] * x[c];
        u[r] = acc;
    }
    for (size_t j = 0; j < d; j++) {
        sx += x[j] * u[j];
        pred += x[j] * th[j];
        p0 += x[j] * s->theta0[j];
    }
    double c = w / (1.0 + w * sx), gain = c * (s->py[i] - pred), ry = w * (s->py[i] - p0);
    for (size_t r = 0, e = 0; r < d; r++) {
        double cu = c * u[r];
        for (size_t q = r; q < d; q++, e++)
            Ap[e] -= cu * u[q];
        th[r] += gain * u[r];
        b[r] += ry * x[r];
    }
    return w * sx;
}

/* The scratch after the kernels' part: P + 2d doubles for one model. */
#define MODEL_TMP(s) ((s)->work + 2 * (s)->d * W + 8 * W)

void colb__soa_theta(const colb__soa_bank *s, size_t i, double *theta)
{
    size_t d = s->d;
    const double *t = TOF(s, i);
    if (!s->px[i]) {
        for (size_t j = 0; j < d; j++)
            theta[j] = t[j * W];
        return;
    }
    double *tmp = MODEL_TMP(s);
    pending_model(s, i, tmp, tmp + s->P, theta);
}

int colb__soa_all_sane(const colb__soa_bank *s)
{
    size_t d = s->d, full = s->n / W;
    for (size_t k = s->pend_lo; k < s->pend_hi; k++) /* the blocks that may hold one */
        if (s->npend[k])
            return -1;
    /* whole blocks at once, then the live lanes of a partial last block */
    if (full && !s->kern->bounded(s->theta, full * d * W, COLB__THETA_MAX))
        return 0;
    for (size_t i = full * W; i < s->n; i++)
        for (size_t j = 0; j < d; j++)
            if (!(fabs(TOF(s, i)[j * W]) <= COLB__THETA_MAX))
                return 0;
    return 1;
}

void colb__soa_get_model(const colb__soa_bank *s, size_t i, double *Ap, double *b, double *theta,
                         double *logdet, uint64_t *count)
{
    size_t d = s->d, P = s->P;
    if (count)
        *count = s->count[i] + (s->px[i] ? 1 : 0);
    if (!Ap && !b && !theta && !logdet)
        return; /* the counter only (a snapshot's second pass): no O(d^2) pending step */
    double *tmp = MODEL_TMP(s);
    double ws = pending_model(s, i, tmp, tmp + P, tmp + P + d);
    if (Ap)
        memcpy(Ap, tmp, P * sizeof(double));
    if (b)
        memcpy(b, tmp + P, d * sizeof(double));
    if (theta)
        memcpy(theta, tmp + P + d, d * sizeof(double));
    if (logdet)
        *logdet = s->px[i] ? s->logdet[i] + colb__logdet_step(ws) : s->logdet[i];
}

void colb__soa_set_model(colb__soa_bank *s, size_t i, const double *Ap, const double *b,
                         const double *theta, double logdet, uint64_t count)
{
    size_t d = s->d;
    if (s->px[i]) {
        s->px[i] = NULL;
        s->npend[i / W]--;
    }
    double *A = AOF(s, i), *bb = BOF(s, i), *t = TOF(s, i);
    for (size_t e = 0; e < s->P; e++)
        A[e * W] = Ap[e];
    for (size_t j = 0; j < d; j++) {
        bb[j * W] = b[j];
        t[j * W] = theta[j];
    }
    s->logdet[i] = logdet;
    s->count[i] = count;
}

/* Arm k's score on model i: sum_e A[e] Q_k[e] over the packed entries e in
 * order, plus theta . x_k in order, plus the width term. */
static double score_one(const colb__soa_bank *s, const double *A, const double *t, double wd, const double *x)
{
    size_t d = s->d;
    double q = 0.0, m = 0.0;
    for (size_t r = 0, e = 0; r < d; r++) {
        double x2 = 2.0 * x[r];
        q += A[e++ * W] * (x[r] * x[r]);
        for (size_t c = r + 1; c < d; c++)
            q += A[e++ * W] * (x2 * x[c]);
    }
    for (size_t j = 0; j < d; j++)
        m += t[j * W] * x[j];
    return m + wd * sqrt(q > 0.0 ? q : 0.0);
}

/* The arms a call scores at once: the kernel's score_lane on up to L
 * contexts transposed into XT doubles on the stack (32 KB) - 32 arms a pass
 * to d = 128, fewer (a multiple of 8) to d = 512 - and score_one beyond.
 * Every pass reads the model's P entries of A, one cache line each (the SoA
 * layout), so at large d a choose is bound by those reads: at d = 200, 51
 * us with passes of 8 or 16 arms (495 us with score_one). */
enum { L = 32, XT = 4096 };

size_t colb__soa_choose_one(const colb__soa_bank *s, size_t i, const double *X, size_t K,
                            double *out)
{
    size_t d = s->d, best = 0;
    if (K == 1 && !out)
        return 0;
    const double *A = AOF(s, i), *t = TOF(s, i);
    double wd = colb__soa_width(s, i), bs = 0.0;
    size_t lane = XT / d / W * W, step; /* arms a score_lane pass: a multiple of 8, or 0 */
    lane = lane < L ? lane : L;
    step = lane ? lane : L;
    for (size_t k0 = 0; k0 < K; k0 += step) {
        size_t n = K - k0 < step ? K - k0 : step;
        double sc[L];
        if (lane) {
            double xt[XT];
            size_t np = colb__soa_padded(n);
            s->kern->transpose(X + k0 * d, n, d, np, xt); /* idle arms score zeros */
            s->kern->score_lane(A, t, wd, xt, d, np, sc);
        } else {
            for (size_t l = 0; l < n; l++)
                sc[l] = score_one(s, A, t, wd, X + (k0 + l) * d);
        }
        for (size_t l = 0; l < n; l++) {
            size_t k = k0 + l;
            if (out)
                out[k] = sc[l];
            if (k == 0 || sc[l] > bs) {
                bs = sc[l];
                best = k;
            }
        }
    }
    return best;
}

/* Model i's A unpacked into full (d x d, symmetric). */
static void unpack(const colb__soa_bank *s, size_t i, double *full)
{
    size_t d = s->d;
    const double *A = AOF(s, i);
    for (size_t r = 0; r < d; r++)
        for (size_t c = 0; c < d; c++)
            full[r * d + c] = A[(size_t)s->idx[r * d + c] * W];
}

colb_status colb__soa_V(const colb__soa_bank *s, size_t i, double *V)
{
    size_t d = s->d;
    unpack(s, i, V);
    /* the factor in place and the inverse from it, in colb's fixed order
     * (dense.h: LAPACK's dpotri rounds differently with OpenBLAS's thread
     * count) */
    if (colb__cholesky(V, d, V, NULL))
        return COLB_ENUMERIC;
    colb__chol_inverse(V, d);
    return COLB_OK;
}

double colb__soa_min_eig_V(const colb__soa_bank *s, size_t i, double *work)
{
    size_t d = s->d;
    double *M = work, *ev = M + d * d;
    unpack(s, i, M);
    if (colb__sym_eigvals(M, d, ev, ev + d) || !(ev[d - 1] > 0.0))
        return NAN;
    return 1.0 / ev[d - 1];
}

/* ---- growth, rebase, the logical form ---------------------------------- */

colb_status colb__soa_grow(colb__soa_bank *s, size_t n)
{
    if (n <= s->n)
        return COLB_OK;
    if (n > ((size_t)-1) / 4096 / 4096)
        return COLB_ENOMEM;
    colb__soa_flush(s);
    size_t d = s->d, nblk = (n + W - 1) / W, old = s->nblk * W, m = nblk * W;
    if (nblk > s->nblk) {
        /* the models grow without moving (colb__grow_bytes; memory.h says
         * why): realloc moved them at every growth, and in huge pages
         * (advise_bank) a service's growth by 1,000 users cost 327 ms at
         * 100,000 users, in proportion to the bank */
        double **grown[3] = { &s->A, &s->b, &s->theta };
        for (size_t k = 0; k < 3; k++)
            if (colb__grow_n(grown[k], &s->reserved[k], old, m, (k ? d : s->P) * sizeof(double)))
                return COLB_ENOMEM; /* arrays already grown are only larger: the bank is intact */
        if (colb__realloc_n(&s->logdet, m, sizeof(double)) ||
            colb__realloc_n(&s->noise, m, sizeof(double)) ||
            colb__realloc_n(&s->S, m, sizeof(double)) ||
            colb__realloc_n(&s->count, m, sizeof(uint64_t)) ||
            colb__realloc_n((void *)&s->px, m, sizeof(double *)) ||
            colb__realloc_n(&s->py, m, sizeof(double)) ||
            colb__realloc_n(&s->pw, m, sizeof(double)) ||
            colb__realloc_n(&s->npend, nblk, 1))
            return COLB_ENOMEM; /* arrays already grown are only larger: the bank is intact */
        advise_bank(s, m);
        memset(s->npend + s->nblk, 0, nblk - s->nblk);
        for (size_t i = old; i < m; i++) {
            s->px[i] = NULL;
            s->noise[i] = s->p.noise;
            s->S[i] = s->p.norm_bound;
            colb__soa_reset(s, i);
        }
        s->nblk = nblk;
    }
    s->n = n; /* lanes old n .. n were kept reset, with the bank's noise and S */
    return COLB_OK;
}

void colb__soa_shrink(colb__soa_bank *s, size_t n)
{
    if (n >= s->n || n == 0)
        return;
    colb__soa_flush(s);
    for (size_t i = n; i < s->n; i++) {
        s->noise[i] = s->p.noise;
        s->S[i] = s->p.norm_bound;
        colb__soa_reset(s, i);
    }
    s->n = n;
    s->nblk = (n + W - 1) / W; /* the arrays stay as large: harmless */
}

/* Model i's A, unpacked into M (d x d), factorised in place (colb__cholesky:
 * lower, row-major). 0 on success. */
static int factor_A(const colb__soa_bank *s, size_t i, double *M)
{
    unpack(s, i, M);
    return colb__cholesky(M, s->d, M, NULL) != 0;
}

colb_status colb__soa_rebase(colb__soa_bank *s, const double *shift, int move_prior)
{
    size_t d = s->d, m = s->nblk * W;
    double *M = colb__malloc(d * d + d, sizeof(double)), *z = M ? M + d * d : NULL;
    if (!M)
        return COLB_ENOMEM;
    colb__soa_flush(s);
    /* first every factorisation, so that a failure leaves the bank as it was */
    for (size_t i = 0; i < m; i++)
        if (s->count[i] && factor_A(s, i, M)) {
            free(M);
            return COLB_ENUMERIC;
        }
    for (size_t i = 0; i < m; i++) {
        if (!s->count[i])
            continue; /* V = lambda I exactly: (V - lambda I) shift = 0 */
        factor_A(s, i, M);
        memcpy(z, shift, d * sizeof(double)); /* z = A^{-1} shift = V shift */
        colb__cholesky_solve(M, d, z);
        double *b = BOF(s, i);
        for (size_t j = 0; j < d; j++)
            b[j * W] -= z[j] - s->p.lambda * shift[j];
    }
    free(M);
    if (move_prior)
        for (size_t j = 0; j < d; j++)
            s->theta0[j] += shift[j];
    for (size_t i = 0; i < m; i++)
        solve_one(s, i);
    return COLB_OK;
}

size_t colb__soa_model_len(size_t d)
{
    return d * (d + 1) / 2 + 2 * d + 3;
}

void colb__soa_export(const colb__soa_bank *s, size_t i, double *real, uint64_t *count)
{
    size_t d = s->d, P = s->P;
    double *tmp = MODEL_TMP(s);
    double ws = pending_model(s, i, tmp, tmp + P, tmp + P + d);
    for (size_t j = 0; j < d; j++) /* A's lower triangle by rows: (j, k <= j) */
        for (size_t k = 0; k <= j; k++)
            *real++ = tmp[s->idx[j * d + k]];
    memcpy(real, tmp + P, 2 * d * sizeof(double)); /* b, theta */
    real += 2 * d;
    real[0] = s->px[i] ? s->logdet[i] + colb__logdet_step(ws) : s->logdet[i];
    real[1] = s->noise[i];
    real[2] = s->S[i];
    *count = s->count[i] + (s->px[i] ? 1 : 0);
}

void colb__soa_import(colb__soa_bank *s, size_t i, const double *real, uint64_t count)
{
    size_t d = s->d;
    double *Ap = MODEL_TMP(s);
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k <= j; k++)
            Ap[s->idx[j * d + k]] = *real++;
    colb__soa_set_model(s, i, Ap, real, real + d, real[2 * d], count);
    s->noise[i] = real[2 * d + 1];
    s->S[i] = real[2 * d + 2];
}
