/* round_scores.c - one round's UCB scores of a ridge bank's models, carried
 * through their rank-one updates (see round_scores.h). The first score of a
 * model in a round is the hand-written score_x kernel (soa_kernel.h), each
 * update then costs two column-sum kernels over the transposed contexts,
 * O(K d), instead of an O(K d^2) rescoring. */
#include "linalg/round_scores.h"

#include <string.h>

#include "core/util.h"

colb_status colb__rs_init(colb__round_scores *rs, size_t n, size_t d)
{
    memset(rs, 0, sizeof *rs);
    colb_status st = colb__soa_pick_kernel(getenv("COLB_KERNEL"), &rs->kern);
    if (st != COLB_OK)
        return st;
    rs->d = d;
    rs->u = colb__malloc(2 * d, sizeof(double));
    if (!rs->u || colb__rs_grow(rs, n) != COLB_OK)
        return COLB_ENOMEM;
    return COLB_OK;
}

void colb__rs_free(colb__round_scores *rs)
{
    if (!rs)
        return;
    free(rs->Xt);
    free(rs->scores);
    free(rs->tk);
    free(rs->tmp);
    free(rs->u);
    free(rs->stamp);
    free(rs->owner);
    free(rs->ent);
    free(rs->pool);
    memset(rs, 0, sizeof *rs);
}

colb_status colb__rs_grow(colb__round_scores *rs, size_t n)
{
    size_t old = rs->n;
    if (n <= old)
        return COLB_OK;
    if (colb__realloc_n(&rs->stamp, n, sizeof(uint64_t)) ||
        colb__realloc_n(&rs->owner, n, sizeof(uint64_t)) ||
        colb__realloc_n(&rs->ent, n, sizeof(size_t)))
        return COLB_ENOMEM; /* arrays already grown are only larger */
    for (size_t i = old; i < n; i++) {
        rs->stamp[i] = rs->owner[i] = 0; /* round 0 never is: begin counts from 1 */
        rs->ent[i] = 0;
    }
    rs->n = n;
    return COLB_OK;
}

colb_status colb__rs_begin(colb__round_scores *rs, const double *X, size_t K)
{
    size_t d = rs->d, Kp = colb__soa_padded(K);
    if (K > rs->K_cap) { /* scratch: on failure the arrays grown so far are only larger */
        if (colb__realloc_n(&rs->Xt, Kp, d * sizeof(double)) ||
            colb__realloc_n(&rs->scores, Kp, sizeof(double)) ||
            colb__realloc_n(&rs->tk, Kp, sizeof(double)) ||
            colb__realloc_n(&rs->tmp, Kp, 2 * sizeof(double)))
            return COLB_ENOMEM;
        rs->K_cap = K;
    }
    rs->K = K;
    rs->Kp = Kp;
    rs->round++; /* every cached value is stale */
    rs->used = 0;
    rs->kern->transpose(X, K, d, Kp, rs->Xt);
    return COLB_OK;
}

/* Model i's entry of this round (handed out at its first request), or NULL
 * when the pool cannot grow (the model is then not kept). */
static double *entry(colb__round_scores *rs, size_t i)
{
    size_t len = 2 * rs->Kp;
    if (rs->owner[i] == rs->round)
        return rs->pool + rs->ent[i] * len;
    if ((rs->used + 1) * len > rs->pool_len) {
        size_t want = rs->pool_len ? 2 * rs->pool_len : 8 * len;
        while (want < (rs->used + 1) * len)
            want *= 2;
        if (colb__realloc_n(&rs->pool, want, sizeof(double)))
            return NULL;
        rs->pool_len = want;
    }
    rs->owner[i] = rs->round;
    rs->ent[i] = rs->used++;
    return rs->pool + rs->ent[i] * len;
}

/* Model i of r scored afresh by the kernel (scores and argmax), its means
 * and forms into m (Kp each). */
static size_t fresh(colb__round_scores *rs, const colb__ridge *r, size_t i, double width,
                    double scale, double *m)
{
    size_t d = rs->d;
    return rs->kern->score_x(r->A + i * d * d, d, r->theta + i * d, width, scale, rs->Xt, d,
                             rs->K, rs->Kp, rs->scores, m, m + rs->Kp);
}

size_t colb__rs_choose(colb__round_scores *rs, const colb__ridge *r, size_t i, double width,
                       double scale, int keep)
{
    size_t Kp = rs->Kp;
    if (!rs->off && rs->stamp[i] == rs->round) { /* the same bits as score_x would give */
        const double *m = rs->pool + rs->ent[i] * 2 * Kp;
        return rs->kern->score_mq(m, m + Kp, width, scale, rs->K, Kp, rs->scores);
    }
    double *m = keep && !rs->off ? entry(rs, i) : NULL;
    if (m)
        rs->stamp[i] = rs->round;
    return fresh(rs, r, i, width, scale, m ? m : rs->tmp);
}

size_t colb__rs_score(colb__round_scores *rs, const colb__ridge *r, size_t i, double width,
                      double scale)
{
    return fresh(rs, r, i, width, scale, rs->tmp);
}

/* <x, theta_i>, summed as the rank-one step sums it. */
static double pred(const colb__ridge *r, size_t i, const double *x)
{
    const double *th = r->theta + i * r->d;
    double v = 0.0;
    for (size_t j = 0; j < r->d; j++)
        v += x[j] * th[j];
    return v;
}

/* The cached values of model i after a rank-one step with u = A x and
 * s = x^T A x (the A before the step), weight w, reward y and p = <x, theta>
 * before the step: theta moved by g u, g = c (y - p), so
 *     q_k -= c t_k^2,  m_k += g t_k,  t_k = x_k^T u
 * (one column-sum kernel over the transposed contexts). */
static void carry(colb__round_scores *rs, const colb__ridge *r, size_t i, const double *u,
                  double s, double w, double y, double p)
{
    if (r->since_refresh[i] == 0) { /* the step ended in a refresh from V */
        rs->stamp[i] = 0;
        return;
    }
    size_t d = rs->d, K = rs->K, Kp = rs->Kp;
    double *m = rs->pool + rs->ent[i] * 2 * Kp, *q = m + Kp, *t = rs->tk;
    double c = w / (1.0 + w * s), g = c * (y - p);
    rs->kern->colsum(rs->Xt, Kp, u, d, K, t); /* x_k^T u */
    for (size_t k = 0; k < K; k++) {
        q[k] -= c * t[k] * t[k];
        m[k] += g * t[k];
    }
}

void colb__rs_update(colb__round_scores *rs, colb__ridge *r, size_t i, const double *x, double y,
                     double w)
{
    if (rs->stamp[i] != rs->round) {
        colb__ridge_update(r, i, x, y, w);
        return;
    }
    double p = pred(r, i, x), s = colb__ridge_update_u(r, i, x, y, w, rs->u);
    carry(rs, r, i, rs->u, s, w, y, p);
}

void colb__rs_update2(colb__round_scores *rs, colb__ridge *r0, size_t i0, int track0,
                      colb__ridge *r, size_t i, const double *x, double y, double w)
{
    int c0 = track0 && rs->stamp[i0] == rs->round, c1 = rs->stamp[i] == rs->round;
    if (!c0 && !c1) {
        colb__ridge_update2(r0, i0, r, i, x, y, w);
        return;
    }
    double s[2], p0 = c0 ? pred(r0, i0, x) : 0.0, p1 = c1 ? pred(r, i, x) : 0.0;
    colb__ridge_update2_u(r0, i0, r, i, x, y, w, rs->u, s);
    if (c0)
        carry(rs, r0, i0, rs->u, s[0], w, y, p0);
    if (c1)
        carry(rs, r, i, rs->u + rs->d, s[1], w, y, p1);
}

size_t colb__rs_cached(const colb__round_scores *rs)
{
    size_t m = 0;
    for (size_t i = 0; i < rs->n; i++)
        m += rs->round && rs->stamp[i] == rs->round;
    return m;
}

colb_status colb__rs_check(const colb__round_scores *rs, const colb__ridge *r, double *max_rel)
{
    if (!rs || !r || !max_rel)
        return COLB_EINVAL;
    size_t d = rs->d, K = rs->K, Kp = rs->Kp;
    double worst = 0.0;
    for (size_t i = 0; i < rs->n && rs->round; i++) {
        if (rs->stamp[i] != rs->round)
            continue;
        const double *A = r->A + i * d * d, *th = r->theta + i * d;
        const double *m = rs->pool + rs->ent[i] * 2 * Kp, *q = m + Kp;
        double em = 0.0, eq = 0.0, sm = 0.0, sq = 0.0;
        for (size_t k = 0; k < K; k++) {
            double fm = 0.0, fq = 0.0;
            for (size_t a = 0; a < d; a++) {
                double xa = rs->Xt[a * Kp + k], row = 0.0;
                for (size_t b = 0; b < d; b++)
                    row += A[a * d + b] * rs->Xt[b * Kp + k];
                fq += xa * row;
                fm += th[a] * xa;
            }
            double e1 = fabs(m[k] - fm), e2 = fabs(q[k] - fq);
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
    return COLB_OK;
}
