/* user_bank.c - one independent learner per user (see user_bank.h), on the
 * compact SoA bank. */
#include "learn/user_bank.h"

#include <string.h>

#include "learn/thompson.h"

colb_status colb__users_init(colb__users *b, size_t N, size_t d, const colb_learner_params *p)
{
    memset(b, 0, sizeof *b);
    return colb__soa_init(&b->s, N, d, p, NULL);
}

void colb__users_free(colb__users *b)
{
    colb__soa_free(&b->s);
    free(b->ts);
    memset(b, 0, sizeof *b);
}

double colb__users_bytes(size_t N, size_t d)
{
    double blocks = (double)((N + COLB__SOA_W - 1) / COLB__SOA_W);
    return blocks * COLB__SOA_W * (double)colb__soa_bytes_per_model(d) + blocks +
           8.0 * (double)(d * d + 2 * d * COLB__SOA_W + 8 * COLB__SOA_W + d * (d + 1) / 2 + 3 * d);
}

colb_status colb__users_set_threads(colb__users *b, size_t threads)
{
    return colb__soa_set_threads(&b->s, threads);
}

colb_status colb__users_reserve(colb__users *b, size_t K)
{
    return colb__soa_reserve(&b->s, K);
}

void colb__users_choose_all(colb__users *b, const double *X, size_t K, size_t *arms,
                            colb__task *side)
{
    colb__soa_prepare(&b->s, X, K); /* cannot fail after reserve(K) */
    colb__soa_choose_all(&b->s, 0, b->s.n, X, K, arms, side);
}

size_t colb__users_choose(colb__users *b, size_t u, const double *X, size_t K)
{
    colb__soa_sync(&b->s, u);
    return colb__soa_choose_one(&b->s, u, X, K, NULL);
}

/* The Thompson scratch: K scores, A (d x d), Ap (P), theta (d), the draw's work. */
colb_status colb__users_reserve_ts(colb__users *b, size_t K)
{
    size_t d = b->s.d;
    if (K <= b->ts_K && b->ts)
        return COLB_OK;
    double *ts = colb__malloc(K + d * d + b->s.P + d + colb__ts_work(d), sizeof(double));
    if (!ts)
        return COLB_ENOMEM;
    free(b->ts);
    b->ts = ts;
    b->ts_K = K;
    return COLB_OK;
}

size_t colb__users_choose_ts(colb__users *b, size_t u, const double *X, size_t K, colb_rng *rng)
{
    colb__soa_bank *s = &b->s;
    colb__soa_sync(s, u); /* the width reads ln det V_u */
    size_t d = s->d;
    double *scores = b->ts, *A = scores + b->ts_K, *Ap = A + d * d, *theta = Ap + s->P,
           *work = theta + d;
    colb__soa_get_model(s, u, Ap, NULL, theta, NULL, NULL);
    for (size_t j = 0, e = 0; j < d; j++) /* packed upper triangle, by rows */
        for (size_t k = j; k < d; k++, e++)
            A[j * d + k] = A[k * d + j] = Ap[e];
    /* V = A^{-1} is not kept: a non-positive-definite A falls back to the mean */
    colb__ts_draw(A, NULL, theta, d, colb__soa_width(s, u), X, K, rng, scores, work);
    return colb__argmax(scores, K);
}

void colb__users_choose_all_ts(colb__users *b, const double *X, size_t K, colb_rng *rng,
                               size_t *arms)
{
    for (size_t u = 0; u < b->s.n; u++)
        arms[u] = colb__users_choose_ts(b, u, X, K, rng);
}

void colb__users_update(colb__users *b, size_t u, const double *x, double y)
{
    colb__soa_update(&b->s, u, x, y, 1.0);
}

void colb__users_update_all(colb__users *b, const double *X, const size_t *arms, const double *y)
{
    colb__soa_update_all(&b->s, X, arms, y);
}

void colb__users_flush(colb__users *b)
{
    colb__soa_flush(&b->s);
}

void colb__users_theta(const colb__users *b, size_t u, double *theta)
{
    colb__soa_theta(&b->s, u, theta);
}

int colb__users_all_sane(const colb__users *b)
{
    return colb__soa_all_sane(&b->s);
}

void colb__users_set_prior(colb__users *b, const double *theta0)
{
    colb__soa_set_prior(&b->s, theta0);
}

colb_status colb__users_grow(colb__users *b, size_t N)
{
    return colb__soa_grow(&b->s, N);
}

void colb__users_shrink(colb__users *b, size_t N)
{
    colb__soa_shrink(&b->s, N);
}

colb_status colb__users_rebase(colb__users *b, const double *shift, int move_prior)
{
    return colb__soa_rebase(&b->s, shift, move_prior);
}

colb_status colb__users_radii(colb__users *b, double *radius)
{
    size_t d = b->s.d;
    double *work = colb__malloc(d * d + 2 * d, sizeof(double));
    if (!work)
        return COLB_ENOMEM;
    colb__soa_flush(&b->s);
    colb_status st = COLB_OK;
    for (size_t u = 0; u < b->s.n && st == COLB_OK; u++) {
        double lmin = colb__soa_min_eig_V(&b->s, u, work);
        if (!(lmin > 0.0) || !isfinite(lmin))
            st = COLB_ENUMERIC;
        else
            radius[u] = colb__soa_oful_radius(&b->s, u) / sqrt(lmin);
    }
    free(work);
    return st;
}

colb_status colb__users_absorb_into(colb__users *b, size_t u, colb__ridge *r, size_t dst)
{
    size_t d = b->s.d;
    double *V = colb__malloc(d * d + d, sizeof(double)), *bu = V ? V + d * d : NULL;
    if (!V)
        return COLB_ENOMEM;
    colb__soa_sync(&b->s, u);
    colb_status st = colb__soa_V(&b->s, u, V);
    if (st == COLB_OK) {
        uint64_t cnt = 0;
        colb__soa_get_model(&b->s, u, NULL, bu, NULL, NULL, &cnt);
        double *Vd = r->V + dst * d * d, *bd = r->b + dst * d;
        for (size_t j = 0; j < d * d; j++)
            Vd[j] += V[j];
        for (size_t j = 0; j < d; j++) {
            Vd[j * d + j] -= b->s.p.lambda;
            bd[j] += bu[j];
        }
        r->count[dst] += cnt;
    }
    free(V);
    return st;
}
