/* alb_norm.c - ALB-norm's epoch schedule over a ridge bank (see alb_norm.h;
 * Ghosh, Sankararaman, Ramchandran, AISTATS 2021, Algorithm 1 "ALB-Norm").
 *
 * Why S_i = min(S_i, b_i) rather than S_i = b_i: on the event that every
 * OFUL ellipsoid contains the true vector psi (probability >= 1 - delta
 * uniformly in time when the data are kept, given that the bound S_i in
 * force is a true bound), every b_i is an upper bound on ||psi||, and so is
 * the smaller of two of them. Taking the minimum also makes the epochs that
 * end before V_i is well conditioned harmless: while lambda_min(V_i) is still
 * about lambda, b_i >= ||psi_hat|| + S_i by construction and would otherwise
 * raise the bound. */
#include "learn/alb_norm.h"

#include <limits.h>
#include <string.h>

#include "linalg/dense.h"

colb_status colb__alb_init(colb__alb *a, size_t n, size_t d, uint64_t tau, int restart)
{
    memset(a, 0, sizeof *a);
    if (tau == 0 || d == 0)
        return COLB_EINVAL;
    a->n = n;
    a->d = d;
    a->tau = tau;
    a->restart = restart != 0;
    if (d > ((size_t)1 << 20))
        return COLB_ENOMEM;
    a->steps = colb__calloc(n, sizeof(uint64_t));
    a->epoch_end = colb__calloc(n, sizeof(uint64_t));
    a->epoch = colb__calloc(n, sizeof(unsigned));
    a->last_bound = colb__malloc(n, sizeof(double));
    a->work = colb__malloc(d * d + 2 * d, sizeof(double));
    if (!a->steps || !a->epoch_end || !a->epoch || !a->last_bound || !a->work) {
        colb__alb_free(a);
        return COLB_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        a->epoch_end[i] = tau;
        a->last_bound[i] = NAN;
    }
    return COLB_OK;
}

void colb__alb_free(colb__alb *a)
{
    if (!a)
        return;
    free(a->steps);
    free(a->epoch_end);
    free(a->epoch);
    free(a->last_bound);
    free(a->work);
    memset(a, 0, sizeof *a);
}

uint64_t colb__alb_epoch_end(uint64_t tau, unsigned e)
{
    if (e >= 63)
        return UINT64_MAX;
    uint64_t m = (UINT64_C(1) << (e + 1)) - 1; /* 2^{e+1} - 1 */
    return tau > UINT64_MAX / m ? UINT64_MAX : tau * m;
}

void colb__alb_start(colb__alb *a, colb__ridge *r, double S1)
{
    for (size_t i = 0; i < a->n; i++) {
        a->steps[i] = 0;
        a->epoch[i] = 0;
        a->epoch_end[i] = colb__alb_epoch_end(a->tau, 0);
        a->last_bound[i] = NAN;
        if (r)
            r->S[i] = S1;
    }
}

double colb__alb_min_eig(colb__alb *a, const colb__ridge *r, size_t i)
{
    size_t d = a->d;
    double *M = a->work, *w = M + d * d;
    memcpy(M, r->V + i * d * d, d * d * sizeof(double));
    return colb__sym_eigvals(M, d, w, w + d) == 0 ? w[0] : NAN;
}

double colb__alb_bound(colb__alb *a, const colb__ridge *r, size_t i)
{
    size_t d = a->d;
    double lmin = colb__alb_min_eig(a, r, i);
    if (!(lmin > 0.0) || !isfinite(lmin))
        return NAN;
    const double *th = r->theta + i * d, *t0 = r->theta0 + i * d;
    double nrm = 0.0;
    for (size_t j = 0; j < d; j++)
        nrm += (th[j] - t0[j]) * (th[j] - t0[j]);
    return sqrt(nrm) + colb__ridge_oful_radius(r, i) / sqrt(lmin);
}

/* The end of model i's epoch with bound b: S_i = min(S_i, b), next epoch.
 * The caller resets the model if a->restart. */
static void end_epoch(colb__alb *a, size_t i, double b, double *S)
{
    a->last_bound[i] = b;
    if (b < *S) /* false for NaN */
        *S = b;
    if (a->epoch[i] < UINT_MAX)
        a->epoch[i]++;
    a->epoch_end[i] = colb__alb_epoch_end(a->tau, a->epoch[i]);
}

int colb__alb_update(colb__alb *a, colb__ridge *r, size_t i, const double *x, double y)
{
    colb__ridge_update(r, i, x, y, 1.0);
    if (++a->steps[i] < a->epoch_end[i])
        return 0;
    end_epoch(a, i, colb__alb_bound(a, r, i), &r->S[i]);
    if (a->restart)
        colb__ridge_reset(r, i);
    return 1;
}

void colb__alb_start_users(colb__alb *a, colb__users *b, double S1)
{
    colb__alb_start(a, NULL, S1);
    for (size_t i = 0; i < a->n; i++)
        b->s.S[i] = S1;
}

int colb__alb_update_users(colb__alb *a, colb__users *b, size_t i, const double *x, double y)
{
    colb__soa_bank *s = &b->s;
    colb__users_update(b, i, x, y);
    if (++a->steps[i] < a->epoch_end[i])
        return 0;
    colb__soa_sync(s, i);
    size_t d = a->d;
    double lmin = colb__soa_min_eig_V(s, i, a->work), bound = NAN;
    if (lmin > 0.0 && isfinite(lmin)) {
        double *th = a->work, nrm = 0.0; /* the eigenvalue workspace is free again */
        colb__soa_theta(s, i, th);
        for (size_t j = 0; j < d; j++)
            nrm += (th[j] - s->theta0[j]) * (th[j] - s->theta0[j]);
        bound = sqrt(nrm) + colb__soa_oful_radius(s, i) / sqrt(lmin);
    }
    end_epoch(a, i, bound, &s->S[i]);
    if (a->restart)
        colb__soa_reset(s, i);
    return 1;
}

colb_status colb__alb_grow(colb__alb *a, size_t n)
{
    if (n <= a->n)
        return COLB_OK;
    if (colb__realloc_n(&a->steps, n, sizeof(uint64_t)) ||
        colb__realloc_n(&a->epoch_end, n, sizeof(uint64_t)) ||
        colb__realloc_n(&a->epoch, n, sizeof(unsigned)) ||
        colb__realloc_n(&a->last_bound, n, sizeof(double)))
        return COLB_ENOMEM; /* arrays already grown are only larger */
    for (size_t i = a->n; i < n; i++) {
        a->steps[i] = 0;
        a->epoch[i] = 0;
        a->epoch_end[i] = colb__alb_epoch_end(a->tau, 0);
        a->last_bound[i] = NAN;
    }
    a->n = n;
    return COLB_OK;
}
