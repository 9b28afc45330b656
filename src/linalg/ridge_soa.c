/* ridge_soa.c - flat-ridge models in SoA blocks of 8, stepped many at once by
 * one shared sample, their round's scores carried (see ridge_soa.h). The
 * per-lane arithmetic is ridge.c's and round_scores.c's operation for
 * operation: the step and the carry in the kernel (ridge_step_lanes), the
 * bookkeeping after a step (ln det, counts, the periodic refresh), the
 * refresh (colb__cholesky, colb__chol_inverse, theta = theta0 + A b) and
 * absorb / unabsorb here, on one lane unpacked to full matrices. */
#include "linalg/ridge_soa.h"

#include <string.h>

#include "core/util.h"
#include "linalg/dense.h"

#define W COLB__SOA_W

/* Entry (j, k), j <= k, of a packed upper triangle. */
static size_t pk(size_t d, size_t j, size_t k)
{
    return j * d - j * (j - 1) / 2 + (k - j);
}

static void reset(colb__ridge_soa *r, size_t i)
{
    size_t d = r->d, P = r->P, bo = i / W, l = i % W;
    double *A = r->A + bo * P * W + l, *V = r->V + bo * P * W + l;
    for (size_t j = 0; j < d; j++)
        for (size_t k = j; k < d; k++) {
            A[pk(d, j, k) * W] = j == k ? 1.0 / r->p.lambda : 0.0;
            V[pk(d, j, k) * W] = j == k ? r->p.lambda : 0.0;
        }
    for (size_t j = 0; j < d; j++) {
        size_t o = bo * d * W + j * W + l;
        r->b[o] = r->theta[o] = r->theta0[o] = 0.0;
    }
    r->logdet[i] = (double)d * log(r->p.lambda);
    r->noise[i] = r->p.noise;
    r->S[i] = r->p.norm_bound;
    r->count[i] = r->since_refresh[i] = 0;
    r->stamp[i] = 0;
}

colb_status colb__rsoa_init(colb__ridge_soa *r, size_t n, size_t d, const colb_learner_params *p)
{
    memset(r, 0, sizeof *r);
    colb_status st = colb__soa_pick_kernel(getenv("COLB_KERNEL"), &r->kern);
    if (st != COLB_OK)
        return st;
    size_t nblk = n ? (n + W - 1) / W : 1, slots = nblk * W, P = d * (d + 1) / 2;
    r->n = n;
    r->d = d;
    r->P = P;
    r->nblk = nblk;
    r->p = *p;
    r->A = colb__malloc(slots, P * sizeof(double));
    r->V = colb__malloc(slots, P * sizeof(double));
    r->b = colb__malloc(slots, d * sizeof(double));
    r->theta = colb__malloc(slots, d * sizeof(double));
    r->theta0 = colb__malloc(slots, d * sizeof(double));
    r->logdet = colb__malloc(slots, sizeof(double));
    r->noise = colb__malloc(slots, sizeof(double));
    r->S = colb__malloc(slots, sizeof(double));
    r->count = colb__malloc(slots, sizeof(uint64_t));
    r->since_refresh = colb__malloc(slots, sizeof(uint64_t));
    r->stamp = colb__malloc(slots, sizeof(uint64_t));
    r->work = colb__malloc(2 * d * d + W * d + P, sizeof(double));
    if (!r->work || !r->A || !r->V || !r->b || !r->theta || !r->theta0 || !r->logdet || !r->noise || !r->S ||
        !r->count || !r->since_refresh || !r->stamp) {
        colb__rsoa_free(r);
        return COLB_ENOMEM;
    }
    for (size_t i = 0; i < slots; i++)
        reset(r, i);
    return COLB_OK;
}

void colb__rsoa_free(colb__ridge_soa *r)
{
    if (!r)
        return;
    free(r->A);
    free(r->V);
    free(r->b);
    free(r->theta);
    free(r->theta0);
    free(r->logdet);
    free(r->noise);
    free(r->S);
    free(r->count);
    free(r->since_refresh);
    free(r->stamp);
    free(r->Xt);
    free(r->mq);
    free(r->work);
    memset(r, 0, sizeof *r);
}

double colb__rsoa_bytes(size_t n, size_t d, size_t K)
{
    double slots = (double)((n + W - 1) / W * W), P = (double)(d * (d + 1) / 2);
    double Kp = (double)((K + 7) / 8 * 8);
    return slots * (2 * P + 3 * (double)d + 6 + 2 * Kp) * 8;
}

colb_status colb__rsoa_begin(colb__ridge_soa *r, const double *X, size_t K)
{
    size_t d = r->d, Kp = (K + 7) / 8 * 8;
    if (K > r->K_cap) { /* on failure the arrays grown so far are only larger */
        if (colb__realloc_n(&r->Xt, Kp, d * sizeof(double)) ||
            colb__realloc_n(&r->work, 2 * d * d + W * d + r->P + 3 * Kp, sizeof(double)))
            return COLB_ENOMEM;
        double *mq = colb__calloc(r->nblk * W, 2 * Kp * sizeof(double));
        if (!mq)
            return COLB_ENOMEM;
        free(r->mq);
        r->mq = mq;
        r->K_cap = K;
        for (size_t i = 0; i < r->nblk * W; i++)
            r->stamp[i] = 0;
    }
    r->K = K;
    r->Kp = Kp;
    r->round++;
    colb__soa_transpose(X, K, d, Kp, r->Xt);
    return COLB_OK;
}

double colb__rsoa_width(const colb__ridge_soa *r, size_t i)
{
    if (r->p.width == COLB_WIDTH_FIXED)
        return r->p.alpha;
    double d = (double)r->d; /* colb__ridge_oful_radius's expression */
    double arg = r->logdet[i] - d * log(r->p.lambda) + 2.0 * log(1.0 / r->p.delta);
    if (arg < 0.0)
        arg = 0.0;
    return r->noise[i] * sqrt(arg) + sqrt(r->p.lambda) * r->S[i];
}

/* Model i's A unpacked (full, both triangles) into F (d x d). */
static void unpack(const colb__ridge_soa *r, const double *M, size_t i, double *F)
{
    size_t d = r->d, l = i % W;
    const double *src = M + i / W * r->P * W + l;
    for (size_t j = 0; j < d; j++)
        for (size_t k = j; k < d; k++)
            F[j * d + k] = F[k * d + j] = src[pk(d, j, k) * W];
}

void colb__rsoa_choose(colb__ridge_soa *r, size_t blk, unsigned mask, double scale,
                       uint32_t *best, double *top)
{
    size_t d = r->d, Kp = r->Kp;
    double width[W], *F = r->work + W * d + r->P, *th = F + d * d, *scores = th + d, *m = scores + Kp;
    double *mq = r->mq + blk * 2 * Kp * W;
    for (size_t l = 0; l < W; l++) {
        size_t i = blk * W + l;
        width[l] = 0.0;
        if (!((mask >> l) & 1))
            continue;
        width[l] = colb__rsoa_width(r, i);
        if (!r->off && r->stamp[i] == r->round)
            continue;
        /* afresh: score_x on the unpacked model, its means and forms kept */
        unpack(r, r->A, i, F);
        for (size_t j = 0; j < d; j++)
            th[j] = r->theta[blk * d * W + j * W + l];
        r->kern->score_x(F, d, th, width[l], scale, r->Xt, d, r->K, Kp, scores, m, m + Kp);
        for (size_t k = 0; k < Kp; k++) {
            mq[k * W + l] = m[k];
            mq[(Kp + k) * W + l] = m[Kp + k];
        }
        if (!r->off)
            r->stamp[i] = r->round;
    }
    r->kern->score_lanes(mq, width, scale, r->K, Kp, best, top);
}

/* theta = theta0 + A b of model i (ridge.c's ridge_solve), A full in F. */
static void solve(colb__ridge_soa *r, size_t i, const double *F)
{
    size_t d = r->d, o = i / W * d * W + i % W;
    for (size_t j = 0; j < d; j++) {
        double s = 0.0;
        for (size_t k = 0; k < d; k++)
            s += F[j * d + k] * r->b[o + k * W];
        r->theta[o + j * W] = r->theta0[o + j * W] + s;
    }
}

/* colb__ridge_refresh of model i: A, ln det V and theta from V. */
static colb_status refresh(colb__ridge_soa *r, size_t i)
{
    size_t d = r->d, l = i % W;
    double *Vf = r->work + W * d + r->P, *L = Vf + d * d, ld;
    unpack(r, r->V, i, Vf);
    if (colb__cholesky(Vf, d, L, &ld))
        return COLB_ENUMERIC;
    colb__chol_inverse(L, d);
    double *A = r->A + i / W * r->P * W + l;
    for (size_t j = 0; j < d; j++)
        for (size_t k = j; k < d; k++)
            A[pk(d, j, k) * W] = L[j * d + k];
    r->logdet[i] = ld;
    r->since_refresh[i] = 0;
    r->stamp[i] = 0;
    solve(r, i, L);
    return COLB_OK;
}

void colb__rsoa_step(colb__ridge_soa *r, size_t blk, unsigned mask, const double *x, double y,
                     double w)
{
    size_t d = r->d, P = r->P, Kp = r->Kp;
    double s[W];
    r->kern->ridge_step_lanes(r->A + blk * P * W, r->V + blk * P * W, r->b + blk * d * W,
                              r->theta + blk * d * W, r->theta0 + blk * d * W, x, y, w, d, mask,
                              r->Xt, r->K, Kp, r->mq + blk * 2 * Kp * W, s, r->work);
    for (size_t l = 0; l < W; l++) { /* ridge.c's after_step (V is kept symmetric by packing) */
        if (!((mask >> l) & 1))
            continue;
        size_t i = blk * W + l;
        r->logdet[i] += log1p(w * s[l]);
        r->count[i]++;
        if (++r->since_refresh[i] >= COLB__RIDGE_REFRESH)
            refresh(r, i); /* on failure the Sherman-Morrison state stands, carried */
    }
}

colb_status colb__rsoa_absorb(colb__ridge_soa *r, size_t dst, const colb__ridge *from, size_t src,
                              int sign)
{
    size_t d = r->d, l = dst % W;
    double *V = r->V + dst / W * r->P * W + l, *b = r->b + dst / W * d * W + l;
    const double *Vs = from->V + src * d * d, *bs = from->b + src * d;
    for (size_t j = 0; j < d; j++) /* ridge.c's loops, entry by entry */
        for (size_t k = j; k < d; k++) {
            double *v = &V[pk(d, j, k) * W];
            *v = sign > 0 ? *v + Vs[j * d + k] : *v - Vs[j * d + k];
        }
    for (size_t j = 0; j < d; j++) {
        double *v = &V[pk(d, j, j) * W];
        if (sign > 0) {
            *v -= from->p.lambda;
            b[j * W] += bs[j];
        } else {
            *v += from->p.lambda;
            b[j * W] -= bs[j];
        }
    }
    uint64_t cs = from->count[src];
    if (sign > 0)
        r->count[dst] += cs;
    else
        r->count[dst] -= cs < r->count[dst] ? cs : r->count[dst];
    r->stamp[dst] = 0;
    return refresh(r, dst);
}

/* dst[slot i] = src[slot from[i]] for a block-major array of len entries
 * per lane ([nblk][len][8]). */
static void gather(double *dst, const double *src, const size_t *from, size_t nslot, size_t len)
{
    for (size_t i = 0; i < nslot; i++) {
        size_t f = from[i];
        double *o = dst + i / W * len * W + i % W;
        const double *g = src + f / W * len * W + f % W;
        for (size_t e = 0; e < len; e++)
            o[e * W] = g[e * W];
    }
}

colb_status colb__rsoa_move(colb__ridge_soa *r, const size_t *from)
{
    size_t nslot = r->nblk * W, d = r->d;
    double *tmp = colb__malloc(nslot, r->P * sizeof(double));
    uint64_t *ti = colb__malloc(nslot, sizeof(uint64_t));
    if (!tmp || !ti) {
        free(tmp);
        free(ti);
        return COLB_ENOMEM;
    }
    double *const blk[5] = { r->A, r->V, r->b, r->theta, r->theta0 };
    const size_t len[5] = { r->P, r->P, d, d, d };
    for (size_t a = 0; a < 5; a++) {
        gather(tmp, blk[a], from, nslot, len[a]);
        memcpy(blk[a], tmp, nslot * len[a] * sizeof(double));
    }
    double *const flat[3] = { r->logdet, r->noise, r->S };
    for (size_t a = 0; a < 3; a++) {
        for (size_t i = 0; i < nslot; i++)
            tmp[i] = flat[a][from[i]];
        memcpy(flat[a], tmp, nslot * sizeof(double));
    }
    uint64_t *const ints[2] = { r->count, r->since_refresh };
    for (size_t a = 0; a < 2; a++) {
        for (size_t i = 0; i < nslot; i++)
            ti[i] = ints[a][from[i]];
        memcpy(ints[a], ti, nslot * sizeof(uint64_t));
    }
    for (size_t i = 0; i < nslot; i++)
        r->stamp[i] = 0; /* the carried values stay behind */
    free(tmp);
    free(ti);
    return COLB_OK;
}

void colb__rsoa_export(const colb__ridge_soa *r, size_t i, double *real, uint64_t *ints)
{
    ints[0] = r->count[i];
    ints[1] = r->since_refresh[i];
    if (!real)
        return;
    size_t d = r->d, l = i % W, bo = i / W;
    const double *V = r->V + bo * r->P * W + l, *A = r->A + bo * r->P * W + l;
    for (size_t j = 0; j < d; j++) /* the lower triangle by rows: (j, k) = (k, j) */
        for (size_t k = 0; k <= j; k++)
            *real++ = V[pk(d, k, j) * W];
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k <= j; k++)
            *real++ = A[pk(d, k, j) * W];
    const double *vec[3] = { r->b, r->theta, r->theta0 };
    for (size_t v = 0; v < 3; v++)
        for (size_t j = 0; j < d; j++)
            *real++ = vec[v][bo * d * W + j * W + l];
    real[0] = r->logdet[i];
    real[1] = r->noise[i];
    real[2] = r->S[i];
}

void colb__rsoa_import(colb__ridge_soa *r, size_t i, const double *real, const uint64_t *ints)
{
    size_t d = r->d, l = i % W, bo = i / W;
    double *V = r->V + bo * r->P * W + l, *A = r->A + bo * r->P * W + l;
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k <= j; k++)
            V[pk(d, k, j) * W] = *real++;
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k <= j; k++)
            A[pk(d, k, j) * W] = *real++;
    double *vec[3] = { r->b, r->theta, r->theta0 };
    for (size_t v = 0; v < 3; v++)
        for (size_t j = 0; j < d; j++)
            vec[v][bo * d * W + j * W + l] = *real++;
    r->logdet[i] = real[0];
    r->noise[i] = real[1];
    r->S[i] = real[2];
    r->count[i] = ints[0];
    r->since_refresh[i] = ints[1];
    r->stamp[i] = 0;
}

void colb__rsoa_check(const colb__ridge_soa *r, double *max_rel, size_t *n_cached)
{
    size_t d = r->d, K = r->K, Kp = r->Kp, m_cached = 0;
    double worst = 0.0;
    for (size_t i = 0; i < r->nblk * W && r->round; i++) {
        if (r->stamp[i] != r->round)
            continue;
        m_cached++;
        size_t bo = i / W, l = i % W;
        const double *A = r->A + bo * r->P * W + l, *th = r->theta + bo * d * W + l;
        const double *m = r->mq + bo * 2 * Kp * W + l, *q = m + Kp * W;
        double em = 0.0, eq = 0.0, sm = 0.0, sq = 0.0;
        for (size_t k = 0; k < K; k++) {
            double fm = 0.0, fq = 0.0;
            for (size_t a = 0; a < d; a++) {
                double xa = r->Xt[a * Kp + k], row = 0.0;
                for (size_t c = 0; c < d; c++)
                    row += A[pk(d, a < c ? a : c, a < c ? c : a) * W] * r->Xt[c * Kp + k];
                fq += xa * row;
                fm += th[a * W] * xa;
            }
            double e1 = fabs(m[k * W] - fm), e2 = fabs(q[k * W] - fq);
            if (!(e1 <= em))
                em = e1; /* also catches NaN */
            if (!(e2 <= eq))
                eq = e2;
            if (fabs(fm) > sm)
                sm = fabs(fm);
            if (fabs(fq) > sq)
                sq = fabs(fq);
        }
        double rm = em == 0.0 ? 0.0 : sm > 0.0 ? em / sm : INFINITY;
        double rq = eq == 0.0 ? 0.0 : sq > 0.0 ? eq / sq : INFINITY;
        if (!(rm <= worst))
            worst = rm;
        if (!(rq <= worst))
            worst = rq;
    }
    *max_rel = worst;
    *n_cached = m_cached;
}
