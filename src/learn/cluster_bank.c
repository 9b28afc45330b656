/* cluster_bank.c - one learner per group of users (see cluster_bank.h). */
#include "learn/cluster_bank.h"

#include <string.h>

#include "learn/thompson.h"

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
        colb__touched_init(&c->touched, G) != COLB_OK || colb__ridge_init(&c->r, G, d, p) != COLB_OK) {
        colb__clusters_free(c);
        return COLB_ENOMEM;
    }
    memcpy(c->label, label, N * sizeof(size_t));
    for (size_t u = 0; u < N; u++)
        c->size[label[u]]++;
    for (size_t g = 0; g < G; g++)
        c->r.noise[g] = pooled || c->size[g] == 0 ? p->noise : p->noise / sqrt((double)c->size[g]);
    colb__touched_all(&c->touched); /* every group's arm starts unset */
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
    colb__touched_free(&c->touched);
    colb__scratch_free(&c->s);
    colb__div_free(&c->div);
    free(c->mstart);
    free(c->members);
    free(c->ts_work);
    memset(c, 0, sizeof *c);
}

colb_status colb__clusters_reserve(colb__clusters *c, size_t K)
{
    colb_status st = colb__scratch_reserve(&c->s, c->r.d, K, GROUP_BLOCK);
    return st == COLB_OK && c->diversify ? colb__div_reserve(&c->div, K) : st;
}

/* The members' lists (CSR, user order) and the diversification state of the
 * current groups, built apart and swapped in on success (c unchanged on
 * COLB_ENOMEM). Between rounds only: the state holds no round. */
static colb_status build_div(colb__clusters *c)
{
    colb__div v;
    size_t *mstart = colb__calloc(c->G + 1, sizeof(size_t));
    size_t *members = colb__malloc(c->N ? c->N : 1, sizeof(size_t));
    size_t *fill = colb__malloc(c->G ? c->G : 1, sizeof(size_t));
    colb_status st = mstart && members && fill ? colb__div_init(&v, c->G, c->r.d, c->N) : COLB_ENOMEM;
    if (st == COLB_OK && c->s.K_cap && (st = colb__div_reserve(&v, c->s.K_cap)) != COLB_OK)
        colb__div_free(&v);
    if (st != COLB_OK) {
        free(mstart);
        free(members);
        free(fill);
        return COLB_ENOMEM;
    }
    for (size_t g = 0; g < c->G; g++)
        mstart[g + 1] = mstart[g] + c->size[g];
    memcpy(fill, mstart, c->G * sizeof(size_t));
    for (size_t u = 0; u < c->N; u++)
        members[fill[c->label[u]]++] = u;
    free(fill);
    colb__div_set_rng(&v, c->rng);
    colb__div_free(&c->div);
    free(c->mstart);
    free(c->members);
    c->div = v;
    c->mstart = mstart;
    c->members = members;
    return COLB_OK;
}

colb_status colb__clusters_set_mode(colb__clusters *c, int diversify, colb_rng *rng)
{
    c->rng = rng;
    if (rng && !c->ts_work && !(c->ts_work = colb__malloc(colb__ts_work(c->r.d), sizeof(double))))
        return COLB_ENOMEM;
    if (!diversify)
        c->diversify = 0;
    if (!diversify || c->diversify) {
        colb__div_set_rng(&c->div, rng);
        return COLB_OK;
    }
    colb_status st = build_div(c);
    if (st == COLB_OK)
        c->diversify = 1;
    return st;
}

/* The weight a member's own sample carries in its group's learner. */
static double member_weight(const colb__clusters *c, size_t g)
{
    return c->pooled || c->size[g] == 0 ? 1.0 : 1.0 / (double)c->size[g];
}

/* Group g's round as unplayed. */
static void reset_group(colb__clusters *c, size_t g)
{
    c->arm[g] = NO_ARM;
    c->sum[g] = 0.0;
    c->nobs[g] = 0;
}

void colb__clusters_begin(colb__clusters *c)
{
    colb__touched *t = &c->touched;
    for (size_t i = 0; i < colb__touched_count(t, c->G); i++)
        reset_group(c, colb__touched_at(t, i));
    colb__touched_clear(t);
    if (c->diversify)
        colb__div_begin(&c->div);
}

size_t colb__clusters_choose(colb__clusters *c, size_t u, const double *X, size_t K)
{
    size_t g = c->label[u];
    if (c->diversify) {
        size_t a = 0;
        colb__div_choose(&c->div, &c->r, g, X, K, NULL, member_weight(c, g), &a);
        return a;
    }
    colb__touched_add(&c->touched, g);
    if (c->arm[g] == NO_ARM && c->rng) {
        c->arm[g] = colb__ts_choose(&c->r, g, NULL, X, K, c->rng, c->s.scores, c->ts_work);
    } else if (c->arm[g] == NO_ARM) {
        colb__ridge_scores(&c->r, g, X, K, c->s.scores, c->s.work);
        c->arm[g] = colb__argmax(c->s.scores, K);
    }
    return c->arm[g];
}

/* choose_all with diversification and UCB: the groups' own scores in
 * batches, as without it (so that every group's first member chooses bit
 * for bit as before), then each group's members in user order. */
static void choose_all_diversified(colb__clusters *c, const double *X, size_t K, size_t *arms)
{
    for (size_t g0 = 0; g0 < c->G; g0 += GROUP_BLOCK) {
        size_t m = c->G - g0 < GROUP_BLOCK ? c->G - g0 : GROUP_BLOCK;
        colb__ridge_scores_many(&c->r, NULL, g0, m, X, K, c->s.scores, c->s.work);
        for (size_t i = 0; i < m; i++) {
            size_t g = g0 + i;
            for (size_t q = c->mstart[g]; q < c->mstart[g + 1]; q++)
                colb__div_choose(&c->div, &c->r, g, X, K, c->s.scores + i * K, member_weight(c, g),
                                 &arms[c->members[q]]);
        }
    }
}

void colb__clusters_choose_all(colb__clusters *c, const double *X, size_t K, size_t *arms)
{
    if (c->rng) { /* draws in user order, as colb__clusters_choose makes them */
        for (size_t u = 0; u < c->N; u++)
            arms[u] = colb__clusters_choose(c, u, X, K);
        return;
    }
    if (c->diversify) {
        choose_all_diversified(c, X, K, arms);
        return;
    }
    colb__touched_all(&c->touched);
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

void colb__clusters_observe(colb__clusters *c, size_t u, size_t arm, double y)
{
    size_t g = c->label[u];
    if (c->diversify) {
        colb__div_observe(&c->div, g, arm, y); /* at most N entries: cannot fail */
        return;
    }
    colb__touched_add(&c->touched, g);
    c->sum[g] += y;
    c->nobs[g]++;
}

void colb__clusters_end(colb__clusters *c, const double *X)
{
    size_t d = c->r.d;
    if (c->diversify) {
        colb__div_end(&c->div, &c->r, X, c->pooled ? NULL : c->size);
        colb__clusters_begin(c);
        return;
    }
    colb__touched *t = &c->touched;
    colb__touched_sort(t);
    for (size_t i = 0; i < colb__touched_count(t, c->G); i++) {
        size_t g = colb__touched_at(t, i);
        if (c->nobs[g] == 0)
            continue;
        /* pooled: n samples; else the mean of n rewards (noise R/sqrt(n))
         * for a learner of noise scale R/sqrt(|group|): weight n/|group|,
         * 1 in a round that observes every member (the paper's) */
        double n = (double)c->nobs[g];
        colb__ridge_update(&c->r, g, X + c->arm[g] * d, c->sum[g] / n, c->pooled ? n : n / (double)c->size[g]);
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
    c->N += n;
    if (c->diversify && build_div(c) != COLB_OK) { /* the members' lists grow too */
        c->N -= n;
        for (size_t i = 0; i < n; i++)
            c->size[labels[i]]--;
        return COLB_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        c->r.noise[labels[i]] = group_noise(c, labels[i]);
    return COLB_OK;
}

colb_status colb__clusters_add_groups(colb__clusters *c, size_t n)
{
    size_t G = c->G + n;
    if (colb__realloc_n(&c->size, G, sizeof(size_t)) || colb__realloc_n(&c->arm, G, sizeof(size_t)) ||
        colb__realloc_n(&c->sum, G, sizeof(double)) || colb__realloc_n(&c->nobs, G, sizeof(size_t)) ||
        colb__touched_grow(&c->touched, G) != COLB_OK || colb__ridge_grow(&c->r, G) != COLB_OK)
        return COLB_ENOMEM; /* arrays already grown are only larger */
    for (size_t g = c->G; g < G; g++) {
        c->size[g] = 0;
        reset_group(c, g);
    }
    size_t G0 = c->G;
    c->G = G;
    if (c->diversify && build_div(c) != COLB_OK) {
        c->G = G0; /* the bank keeps its extra model unused, as the arrays above */
        return COLB_ENOMEM;
    }
    return COLB_OK;
}
