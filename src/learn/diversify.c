/* diversify.c - per-round hallucinated copies of ridge models and the
 * round's reward bookkeeping (see diversify.h; GP-BUCB of Desautels, Krause,
 * Burdick 2014 for a linear model). */
#include "learn/diversify.h"

#include <stdlib.h>
#include <string.h>

#include "learn/thompson.h"
#include "linalg/soa_kernel.h"

#define NONE ((size_t)-1)

colb_status colb__div_init(colb__div *v, size_t G, size_t d, size_t obs_cap)
{
    memset(v, 0, sizeof *v);
    v->G = G;
    v->d = d;
    v->obs_cap = obs_cap ? obs_cap : 1;
    v->served = colb__malloc(G, sizeof(size_t));
    v->first_arm = colb__malloc(G, sizeof(size_t));
    v->slot = colb__malloc(G, sizeof(size_t));
    v->head = colb__malloc(G, sizeof(size_t));
    v->tail = colb__malloc(G, sizeof(size_t));
    v->nobs = colb__malloc(G, sizeof(size_t));
    v->e_arm = colb__malloc(v->obs_cap, sizeof(size_t));
    v->e_cnt = colb__malloc(v->obs_cap, sizeof(size_t));
    v->e_next = colb__malloc(v->obs_cap, sizeof(size_t));
    v->e_sum = colb__malloc(v->obs_cap, sizeof(double));
    v->u = colb__malloc(d, sizeof(double));
    v->work = colb__malloc(colb__ts_work(d), sizeof(double));
    /* the kernels used here are the same bit for bit on every path */
    v->kern = colb__soa_env_kernel();
    if (!v->served || !v->first_arm || !v->slot || !v->head || !v->tail || !v->nobs || !v->e_arm ||
        !v->e_cnt || !v->e_next || !v->e_sum || !v->u || !v->work ||
        colb__touched_init(&v->touched, G) != COLB_OK) {
        colb__div_free(v);
        return COLB_ENOMEM;
    }
    colb__touched_all(&v->touched); /* every model's state starts unset */
    colb__div_begin(v);
    return COLB_OK;
}

double colb__div_bytes(size_t G, size_t d, size_t obs_cap)
{
    double copies = (double)(G < obs_cap / 2 ? G : obs_cap / 2);
    return 8.0 * (7.0 * (double)G + 5.0 * (double)obs_cap + (double)(d + colb__ts_work(d)) +
                  copies * (double)(d * d));
}

void colb__div_free(colb__div *v)
{
    if (!v)
        return;
    free(v->served);
    free(v->first_arm);
    free(v->slot);
    free(v->head);
    free(v->tail);
    free(v->nobs);
    colb__touched_free(&v->touched);
    free(v->A);
    free(v->mean);
    free(v->quad);
    free(v->e_arm);
    free(v->e_cnt);
    free(v->e_next);
    free(v->e_sum);
    free(v->u);
    free(v->scores);
    free(v->rwork);
    free(v->work);
    free(v->Xt);
    free(v->t);
    memset(v, 0, sizeof *v);
}

/* The pool of copies for cap slots of K arms each, keeping the n_open
 * slots in use (their K stays that of the pool they were opened in). */
static colb_status pools(colb__div *v, size_t cap, size_t K)
{
    size_t d = v->d;
    double *A = colb__malloc(cap, d * d * sizeof(double));
    double *mean = colb__malloc(cap, K * sizeof(double));
    double *quad = colb__malloc(cap, K * sizeof(double));
    if (!A || !mean || !quad || cap < v->n_open) {
        free(A);
        free(mean);
        free(quad);
        return COLB_ENOMEM;
    }
    if (v->n_open) {
        memcpy(A, v->A, v->n_open * d * d * sizeof(double));
        memcpy(mean, v->mean, v->n_open * K * sizeof(double));
        memcpy(quad, v->quad, v->n_open * K * sizeof(double));
    }
    free(v->A);
    free(v->mean);
    free(v->quad);
    v->A = A;
    v->mean = mean;
    v->quad = quad;
    v->slot_cap = cap;
    return COLB_OK;
}

colb_status colb__div_reserve(colb__div *v, size_t K)
{
    if (K <= v->K_cap)
        return COLB_OK;
    /* K_cap, the copies' stride, a multiple of 8: the score_ms kernel
     * reads whole vectors of means and forms (the lanes past K are zero) */
    size_t Kp = (K + 7) / 8 * 8;
    /* scratch: on failure the arrays grown so far are only larger */
    if (colb__realloc_n(&v->scores, Kp, sizeof(double)) ||
        colb__realloc_n(&v->rwork, colb__ridge_scores_work(v->d, Kp), sizeof(double)) ||
        colb__realloc_n(&v->Xt, Kp, v->d * sizeof(double)) || colb__realloc_n(&v->t, Kp, sizeof(double)))
        return COLB_ENOMEM;
    v->xt_ready = 0;
    v->n_open = 0; /* copies never outlive a round */
    for (size_t g = 0; g < v->G; g++)
        v->slot[g] = NONE;
    colb_status st = pools(v, v->slot_cap ? v->slot_cap : 1, Kp);
    if (st == COLB_OK)
        v->K_cap = Kp;
    return st;
}

void colb__div_set_rng(colb__div *v, colb_rng *rng)
{
    v->rng = rng;
}

/* Model g as no round has touched it. */
static void reset_model(colb__div *v, size_t g)
{
    v->served[g] = 0;
    v->slot[g] = NONE;
    v->head[g] = v->tail[g] = NONE;
    v->nobs[g] = 0;
}

void colb__div_begin(colb__div *v)
{
    colb__touched *t = &v->touched;
    for (size_t i = 0; i < colb__touched_count(t, v->G); i++)
        reset_model(v, colb__touched_at(t, i));
    colb__touched_clear(t);
    v->n_open = 0;
    v->n_entries = 0;
    v->xt_ready = 0;
}

int colb__div_is_open(const colb__div *v, size_t g)
{
    return v->slot[g] != NONE;
}

const double *colb__div_copy(const colb__div *v, size_t g)
{
    return v->slot[g] == NONE ? NULL : v->A + v->slot[g] * v->d * v->d;
}

colb_status colb__div_open(colb__div *v, const colb__ridge *r, size_t g, const double *X, size_t K)
{
    if (v->slot[g] != NONE)
        return COLB_OK;
    if (K > v->K_cap)
        return COLB_EINVAL;
    if (v->n_open == v->slot_cap && pools(v, 2 * v->slot_cap, v->K_cap) != COLB_OK)
        return COLB_ENOMEM;
    size_t s = v->n_open++, d = v->d;
    colb__touched_add(&v->touched, g);
    v->slot[g] = s;
    double *A = v->A + s * d * d, *mean = v->mean + s * v->K_cap, *quad = v->quad + s * v->K_cap;
    memcpy(A, r->A + g * d * d, d * d * sizeof(double));
    const double *th = r->theta + g * d;
    if (!v->xt_ready) { /* the round's contexts are the same for every model */
        v->Kp = (K + 7) / 8 * 8;
        v->kern->transpose(X, K, d, v->Kp, v->Xt);
        v->xt_ready = 1;
    }
    /* per arm k: mean = sum_j x_j th_j, quad = sum_j x_j (sum_l A_jl x_l), the
     * sums in increasing j and l as the scalar loops, lanes along the arms
     * (and the padding lanes up to Kp zero) */
    for (size_t k = 0; k < v->Kp; k++)
        mean[k] = quad[k] = 0.0;
    for (size_t j = 0; j < d; j++) {
        const double *xj = v->Xt + j * v->Kp;
        v->kern->colsum(v->Xt, v->Kp, A + j * d, d, K, v->t); /* t_k = (A x_k)_j */
        for (size_t k = 0; k < K; k++) {
            quad[k] += xj[k] * v->t[k];
            mean[k] += xj[k] * th[j];
        }
    }
    return COLB_OK;
}

void colb__div_hallucinate(colb__div *v, size_t g, const double *X, size_t K, size_t arm, double w)
{
    size_t s = v->slot[g], d = v->d;
    if (s == NONE)
        return;
    double *A = v->A + s * d * d, *quad = v->quad + s * v->K_cap, *u = v->u;
    const double *x = X + arm * d;
    v->kern->colsum(A, d, x, d, d, u); /* u = A' x (A' symmetric: its rows' sums) */
    double xu = 0.0;
    for (size_t j = 0; j < d; j++)
        xu += x[j] * u[j];
    double c = w / (1.0 + w * xu);
    v->kern->rank1_sub(A, u, c, d); /* symmetric bit for bit, as in ridge.c */
    v->kern->colsum(v->Xt, v->Kp, u, d, K, v->t); /* t_k = x_k^T u */
    for (size_t k = 0; k < K; k++) /* x_k^T A' x_k after the update */
        quad[k] -= c * v->t[k] * v->t[k];
}

size_t colb__div_best(const colb__div *v, const colb__ridge *r, size_t g, size_t K)
{
    size_t s = v->slot[g];
    if (s == NONE) /* no open copy (it could not be made): the last scores */
        return colb__argmax(v->scores, K);
    /* mean_k + width sqrt(max(quad_k, 0) * 1), the scalar loop's bits */
    return v->kern->score_ms(v->mean + s * v->K_cap, v->quad + s * v->K_cap, colb__ridge_width(r, g), 1.0,
                             K, v->Kp, v->scores);
}

colb_status colb__div_choose(colb__div *v, const colb__ridge *r, size_t g, const double *X,
                             size_t K, const double *scores, double w, size_t *arm)
{
    colb__touched_add(&v->touched, g);
    size_t n = v->served[g]++;
    if (n == 0) { /* the model itself: the undiversified choice */
        if (v->rng) {
            *arm = colb__ts_choose(r, g, NULL, X, K, v->rng, v->scores, v->work);
        } else if (scores) {
            *arm = colb__argmax(scores, K);
        } else {
            colb__ridge_scores(r, g, X, K, v->scores, v->rwork);
            *arm = colb__argmax(v->scores, K);
        }
        v->first_arm[g] = *arm;
        return COLB_OK;
    }
    if (n == 1) {
        colb_status st = colb__div_open(v, r, g, X, K);
        if (st != COLB_OK) {
            *arm = v->first_arm[g];
            return st;
        }
        colb__div_hallucinate(v, g, X, K, v->first_arm[g], w);
    }
    if (v->rng) {
        *arm = colb__ts_choose(r, g, colb__div_copy(v, g), X, K, v->rng, v->scores, v->work);
    } else {
        *arm = colb__div_best(v, r, g, K);
    }
    colb__div_hallucinate(v, g, X, K, *arm, w);
    return COLB_OK;
}

colb_status colb__div_observe(colb__div *v, size_t g, size_t arm, double y)
{
    size_t e = v->head[g];
    while (e != NONE && v->e_arm[e] != arm)
        e = v->e_next[e];
    if (e == NONE) {
        if (v->n_entries == v->obs_cap) {
            size_t cap = 2 * v->obs_cap;
            size_t *a = realloc(v->e_arm, cap * sizeof(size_t));
            if (a)
                v->e_arm = a;
            size_t *c = a ? realloc(v->e_cnt, cap * sizeof(size_t)) : NULL;
            if (c)
                v->e_cnt = c;
            size_t *nx = c ? realloc(v->e_next, cap * sizeof(size_t)) : NULL;
            if (nx)
                v->e_next = nx;
            double *sm = nx ? realloc(v->e_sum, cap * sizeof(double)) : NULL;
            if (!sm)
                return COLB_ENOMEM;
            v->e_sum = sm;
            v->obs_cap = cap;
        }
        e = v->n_entries++;
        v->e_arm[e] = arm;
        v->e_cnt[e] = 0;
        v->e_sum[e] = 0.0;
        v->e_next[e] = NONE;
        if (v->tail[g] == NONE)
            v->head[g] = e;
        else
            v->e_next[v->tail[g]] = e;
        v->tail[g] = e;
    }
    v->e_sum[e] += y;
    v->e_cnt[e]++;
    v->nobs[g]++;
    colb__touched_add(&v->touched, g);
    return COLB_OK;
}

void colb__div_end(colb__div *v, colb__ridge *r, const double *X, const size_t *size)
{
    size_t d = v->d;
    colb__touched *t = &v->touched;
    colb__touched_sort(t);
    for (size_t i = 0; i < colb__touched_count(t, v->G); i++) {
        size_t g = colb__touched_at(t, i);
        if (!v->nobs[g])
            continue;
        for (size_t e = v->head[g]; e != NONE; e = v->e_next[e]) {
            double m = (double)v->e_cnt[e];
            colb__ridge_update(r, g, X + v->e_arm[e] * d, v->e_sum[e] / m, size ? m / (double)size[g] : m);
        }
    }
    colb__div_begin(v);
}
