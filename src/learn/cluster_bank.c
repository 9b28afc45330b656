/* cluster_bank.c - one learner per group of users (see cluster_bank.h). */
#include "learn/cluster_bank.h"

#include <string.h>

#define NO_ARM ((size_t)-1)
#define GROUP_BLOCK 256

colb_status colb__clusters_init(colb__clusters *c, size_t N, size_t d, const colb_learner_params *p,
                                const size_t *label, size_t G, int pooled)
{
    memset(c, 0, sizeof *c);
    c->N = N;
    c->G = G;
    c->pooled = pooled;
    c->label = colb__malloc(N, sizeof(size_t));
    c->size = colb__calloc(G, sizeof(size_t));
    c->arm = colb__malloc(G, sizeof(size_t));
    c->sum = colb__calloc(G, sizeof(double));
    c->nobs = colb__calloc(G, sizeof(size_t));
    if (!c->label || !c->size || !c->arm || !c->sum || !c->nobs ||
        colb__ridge_init(&c->r, G, d, p) != COLB_OK) {
        colb__clusters_free(c);
        return COLB_ENOMEM;
    }
    memcpy(c->label, label, N * sizeof(size_t));
    for (size_t u = 0; u < N; u++)
        c->size[label[u]]++;
    for (size_t g = 0; g < G; g++)
        c->r.noise[g] = pooled || c->size[g] == 0 ? p->noise : p->noise / sqrt((double)c->size[g]);
    colb__clusters_begin(c);
    return COLB_OK;
}

void colb__clusters_free(colb__clusters *c)
{
    colb__ridge_free(&c->r);
    free(c->label);
    free(c->size);
    free(c->arm);
    free(c->sum);
    free(c->nobs);
    colb__scratch_free(&c->s);
    memset(c, 0, sizeof *c);
}

colb_status colb__clusters_reserve(colb__clusters *c, size_t K)
{
    return colb__scratch_reserve(&c->s, c->r.d, K, GROUP_BLOCK);
}

void colb__clusters_begin(colb__clusters *c)
{
    for (size_t g = 0; g < c->G; g++) {
        c->arm[g] = NO_ARM;
        c->sum[g] = 0.0;
        c->nobs[g] = 0;
    }
}

size_t colb__clusters_choose(colb__clusters *c, size_t u, const double *X, size_t K)
{
    size_t g = c->label[u];
    if (c->arm[g] == NO_ARM) {
        colb__ridge_scores(&c->r, g, X, K, c->s.scores, c->s.work);
        c->arm[g] = colb__argmax(c->s.scores, K);
    }
    return c->arm[g];
}

void colb__clusters_choose_all(colb__clusters *c, const double *X, size_t K, size_t *arms)
{
    for (size_t g0 = 0; g0 < c->G; g0 += GROUP_BLOCK) {
        size_t m = c->G - g0 < GROUP_BLOCK ? c->G - g0 : GROUP_BLOCK;
        colb__ridge_scores_many(&c->r, NULL, g0, m, X, K, c->s.scores, c->s.work);
        for (size_t i = 0; i < m; i++)
            if (c->arm[g0 + i] == NO_ARM)
                c->arm[g0 + i] = colb__argmax(c->s.scores + i * K, K);
    }
    for (size_t u = 0; u < c->N; u++)
        arms[u] = c->arm[c->label[u]];
}

void colb__clusters_observe(colb__clusters *c, size_t u, double y)
{
    size_t g = c->label[u];
    c->sum[g] += y;
    c->nobs[g]++;
}

void colb__clusters_end(colb__clusters *c, const double *X)
{
    size_t d = c->r.d;
    for (size_t g = 0; g < c->G; g++) {
        if (c->nobs[g] == 0)
            continue;
        double n = (double)c->nobs[g];
        colb__ridge_update(&c->r, g, X + c->arm[g] * d, c->sum[g] / n, c->pooled ? n : 1.0);
    }
    colb__clusters_begin(c);
}

/* The noise scale of group g's learner (see cluster_bank.h). */
static double group_noise(const colb__clusters *c, size_t g)
{
    double R = c->r.p.noise;
    return c->pooled || c->size[g] == 0 ? R : R / sqrt((double)c->size[g]);
}

colb_status colb__clusters_add_users(colb__clusters *c, size_t n, const size_t *labels)
{
    if (colb__realloc_n(&c->label, c->N + n, sizeof(size_t)))
        return COLB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        c->label[c->N + i] = labels[i];
        c->size[labels[i]]++;
    }
    for (size_t i = 0; i < n; i++)
        c->r.noise[labels[i]] = group_noise(c, labels[i]);
    c->N += n;
    return COLB_OK;
}

colb_status colb__clusters_add_groups(colb__clusters *c, size_t n)
{
    size_t G = c->G + n;
    if (colb__realloc_n(&c->size, G, sizeof(size_t)) || colb__realloc_n(&c->arm, G, sizeof(size_t)) ||
        colb__realloc_n(&c->sum, G, sizeof(double)) || colb__realloc_n(&c->nobs, G, sizeof(size_t)) ||
        colb__ridge_grow(&c->r, G) != COLB_OK)
        return COLB_ENOMEM; /* arrays already grown are only larger */
    for (size_t g = c->G; g < G; g++) {
        c->size[g] = 0;
        c->arm[g] = NO_ARM;
        c->sum[g] = 0.0;
        c->nobs[g] = 0;
    }
    c->G = G;
    return COLB_OK;
}
