/* cmlb.c - CMLB, Clustered Multi-agent Linear Bandits (Algorithm 2 of
 * Ghosh, Sankararaman, Ramchandran).
 *
 *   1. Individual phase: every user runs its own OFUL(delta) for
 *      T_explore = ceil(C d (N T)^{2 alpha} ln(1/delta)) rounds (capped at T).
 *   2. MAXIMAL-CLUSTER (Algorithm 3) on the users' estimates with threshold
 *      gamma (default 3/(N T)^alpha, Lemma 1) and size parameter p*.
 *   3. Collaborative phase: one OFUL(delta) per cluster; all users of a
 *      cluster play its arm; its learner is updated once per round with the
 *      cluster's average reward (noise scale R/sqrt(|cluster|)).
 *
 * Options beyond the paper (off by default):
 *   warm start  - cluster learners start from the pooled individual-phase
 *                 data of their members; averaged rewards are then fed with
 *                 weight n and noise R (equal to pooling every sample), so
 *                 the two kinds of data carry consistent statistics;
 *   data-driven threshold - i ~ j when ||theta_i - theta_j|| <= r_i + r_j,
 *                 r_i = beta_i / sqrt(lambda_min(V_i)) the radius of user i's
 *                 OFUL confidence ellipsoid in its widest direction (the
 *                 theory radius, whatever width the learners explore with).
 * The cluster learners diversify within rounds (colb_policy_params.diversify,
 * learn/diversify.h) and every learner may choose by Thompson sampling
 * (colb_policy_params.sampling, learn/thompson.h).
 * This file also exports colb__cmlb_* helpers used by SCLB (sclb.c). */
#include <string.h>

#include <lapacke.h>

#include "learn/cluster_bank.h"
#include "policies/cmlb.h"
#include "colb/cluster.h"
#include "learn/thompson.h"
#include "learn/user_bank.h"
#include "policies/policy_impl.h"

typedef struct cmlb {
    size_t T_explore;
    double gamma;            /* threshold used (paper rule or given) */
    int clustered;           /* 0: individual phase, 1: collaborative phase */
    colb__users users;
    colb__clusters clusters;
} cmlb;

size_t colb__cmlb_explore_rounds(size_t N, size_t T, size_t d, double alpha, double C, double delta)
{
    double te = ceil(C * (double)d * pow((double)N * (double)T, 2.0 * alpha) * log(1.0 / delta));
    return te >= (double)T ? T : (size_t)te;
}

double colb__cmlb_gamma(size_t N, size_t T, double alpha)
{
    return 3.0 / pow((double)N * (double)T, alpha);
}

static colb_status cmlb_check(const colb_policy_params *pp, char *msg, size_t len)
{
    const char *bad = NULL;
    /* The theory needs alpha < 1/2; the paper's Last.FM experiment uses 1/2. */
    if (!isfinite(pp->cmlb_alpha) || pp->cmlb_alpha <= 0.0 || pp->cmlb_alpha > 0.5)
        bad = "cmlb alpha must be in (0, 1/2]";
    else if (!isfinite(pp->cmlb_C) || pp->cmlb_C < 0.0)
        bad = "cmlb C must be >= 0";
    else if (!isfinite(pp->cmlb_gamma))
        bad = "cmlb gamma must be finite (<= 0 selects the threshold rule)";
    else if (!isfinite(pp->cmlb_pstar) || pp->cmlb_pstar < 0.0 || pp->cmlb_pstar > 1.0)
        bad = "cmlb p* must be in [0, 1]";
    else if (pp->cmlb_threshold != COLB_THRESHOLD_PAPER && pp->cmlb_threshold != COLB_THRESHOLD_DATA)
        bad = "cmlb threshold must be 'paper' or 'data'";
    if (!bad)
        return COLB_OK;
    if (msg && len)
        snprintf(msg, len, "%s", bad);
    return COLB_ERANGE;
}

/* r_i = beta_i(delta) / sqrt(lambda_min(V_i)) for every user. */
static colb_status data_radii(const colb__ridge *r, double *radius)
{
    size_t d = r->d;
    double *M = colb__malloc(d * d + d, sizeof(double));
    if (!M)
        return COLB_ENOMEM;
    colb_status st = COLB_OK;
    for (size_t i = 0; i < r->n && st == COLB_OK; i++) {
        memcpy(M, r->V + i * d * d, d * d * sizeof(double));
        if (LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'L', (lapack_int)d, M, (lapack_int)d, M + d * d) != 0 ||
            !(M[d * d] > 0.0)) {
            st = COLB_ENUMERIC;
            break;
        }
        radius[i] = colb__ridge_oful_radius(r, i) / sqrt(M[d * d]);
    }
    free(M);
    return st;
}

static void describe(colb_policy *p, const cmlb *c)
{
    int n = p->pp.cmlb_threshold == COLB_THRESHOLD_DATA && p->pp.cmlb_gamma <= 0.0
                ? snprintf(p->info, sizeof p->info, "T_explore=%zu threshold=data", c->T_explore)
                : snprintf(p->info, sizeof p->info, "T_explore=%zu gamma=%.4g", c->T_explore, c->gamma);
    if (!c->clustered || n < 0)
        return;
    const colb__clusters *cb = &c->clusters;
    n += snprintf(p->info + n, sizeof p->info - (size_t)n, " clusters=%zu sizes=", cb->G);
    for (size_t g = 0; g < cb->G && (size_t)n < sizeof p->info - 16; g++)
        n += snprintf(p->info + n, sizeof p->info - (size_t)n, "%s%zu", g ? "," : "", cb->size[g]);
}

/* MAXIMAL-CLUSTER on the individual estimates, then the cluster learners. */
static colb_status cmlb_cluster(colb_policy *p, cmlb *c)
{
    size_t N = p->N;
    size_t *labels = colb__malloc(N, sizeof(size_t));
    double *radius = p->pp.cmlb_threshold == COLB_THRESHOLD_DATA && p->pp.cmlb_gamma <= 0.0
                         ? colb__malloc(N, sizeof(double)) : NULL;
    colb_status st = labels ? COLB_OK : COLB_ENOMEM;
    if (st == COLB_OK && p->pp.cmlb_threshold == COLB_THRESHOLD_DATA && p->pp.cmlb_gamma <= 0.0)
        st = radius ? data_radii(&c->users.r, radius) : COLB_ENOMEM;
    size_t G = 0;
    if (st == COLB_OK)
        st = colb_maximal_cluster(c->users.r.theta, N, p->d, c->gamma, radius, p->pp.cmlb_pstar,
                                  labels, &G);
    int warm = p->pp.cmlb_warm_start, pooled = warm || p->pp.pooled_updates;
    if (st == COLB_OK)
        st = colb__clusters_init(&c->clusters, N, p->d, &p->pp.learner, labels, G, pooled);
    if (st == COLB_OK)
        st = colb__clusters_set_mode(&c->clusters, p->pp.diversify,
                                     colb__policy_ts(p) ? &p->ts_rng : NULL);
    if (st == COLB_OK && warm) {
        for (size_t u = 0; u < N; u++)
            colb__ridge_absorb(&c->clusters.r, labels[u], &c->users.r, u);
        for (size_t g = 0; g < G && st == COLB_OK; g++)
            st = colb__ridge_refresh(&c->clusters.r, g);
    }
    if (st == COLB_OK && p->K)
        st = colb__clusters_reserve(&c->clusters, p->K);
    free(labels);
    free(radius);
    if (st != COLB_OK)
        return colb__err(p->err, st, "cmlb: clustering failed: %s", colb_strerror(st));
    colb__users_free(&c->users);
    c->clustered = 1;
    describe(p, c);
    return COLB_OK;
}

static colb_status cmlb_create(colb_policy *p)
{
    cmlb *c = calloc(1, sizeof *c);
    if (!c)
        return COLB_ENOMEM;
    p->impl = c;
    const colb_policy_params *pp = &p->pp;
    c->T_explore = colb__cmlb_explore_rounds(p->N, pp->horizon, p->d, pp->cmlb_alpha, pp->cmlb_C,
                                             pp->learner.delta);
    c->gamma = pp->cmlb_gamma > 0.0 ? pp->cmlb_gamma : colb__cmlb_gamma(p->N, pp->horizon, pp->cmlb_alpha);
    colb_status st = colb__users_init(&c->users, p->N, p->d, &pp->learner);
    if (st != COLB_OK)
        return st;
    describe(p, c);
    return c->T_explore == 0 ? cmlb_cluster(p, c) : COLB_OK;
}

static void cmlb_destroy(colb_policy *p)
{
    cmlb *c = p->impl;
    colb__users_free(&c->users);
    colb__clusters_free(&c->clusters);
    free(c);
    p->impl = NULL;
}

static colb_status cmlb_begin(colb_policy *p)
{
    cmlb *c = p->impl;
    colb_status st = c->clustered ? colb__clusters_reserve(&c->clusters, p->K)
                                  : colb__users_reserve(&c->users, p->K);
    return st == COLB_OK ? st : colb__err(p->err, st, "begin_round: out of memory");
}

static colb_status cmlb_choose(colb_policy *p, size_t u, size_t *arm)
{
    cmlb *c = p->impl;
    if (c->clustered)
        *arm = colb__clusters_choose(&c->clusters, u, p->X, p->K);
    else if (colb__policy_ts(p))
        *arm = colb__ts_choose(&c->users.r, u, NULL, p->X, p->K, &p->ts_rng, c->users.s.scores,
                               c->users.s.work);
    else
        *arm = colb__users_choose(&c->users, u, p->X, p->K);
    return COLB_OK;
}

static colb_status cmlb_choose_all(colb_policy *p, size_t *arms)
{
    cmlb *c = p->impl;
    if (c->clustered)
        colb__clusters_choose_all(&c->clusters, p->X, p->K, arms);
    else if (colb__policy_ts(p))
        colb__ts_choose_all(&c->users.r, p->X, p->K, &p->ts_rng, arms, c->users.s.scores,
                            c->users.s.work);
    else
        colb__users_choose_all(&c->users, p->X, p->K, arms);
    return COLB_OK;
}

static colb_status cmlb_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    cmlb *c = p->impl;
    if (c->clustered)
        colb__clusters_observe(&c->clusters, u, arm, y);
    else
        colb__ridge_update(&c->users.r, u, p->X + arm * p->d, y, 1.0);
    return COLB_OK;
}

static colb_status cmlb_end(colb_policy *p)
{
    cmlb *c = p->impl;
    if (c->clustered) {
        colb__clusters_end(&c->clusters, p->X);
        return COLB_OK;
    }
    /* p->rounds counts completed rounds; this one completes now. When the
     * individual phase fills the horizon there is nothing left to cluster for. */
    return p->rounds + 1 == c->T_explore && c->T_explore < p->pp.horizon ? cmlb_cluster(p, c)
                                                                          : COLB_OK;
}

static colb_status cmlb_theta(const colb_policy *p, size_t u, double *theta)
{
    const cmlb *c = p->impl;
    const double *src = c->clustered ? c->clusters.r.theta + c->clusters.label[u] * p->d
                                     : c->users.r.theta + u * p->d;
    memcpy(theta, src, p->d * sizeof(double));
    return COLB_OK;
}

static colb_status cmlb_clusters(const colb_policy *p, size_t *labels, size_t *n)
{
    const cmlb *c = p->impl;
    if (!c->clustered) {
        for (size_t u = 0; u < p->N; u++)
            labels[u] = u;
        *n = p->N;
        return COLB_OK;
    }
    memcpy(labels, c->clusters.label, p->N * sizeof(size_t));
    *n = c->clusters.G;
    return COLB_OK;
}

int colb__cmlb_is_clustered(const colb_policy *p)
{
    return ((const cmlb *)p->impl)->clustered;
}

const colb__policy_vt colb__policy_cmlb = {
    .name = "cmlb",
    .check = cmlb_check,
    .create = cmlb_create,
    .destroy = cmlb_destroy,
    .begin_round = cmlb_begin,
    .choose = cmlb_choose,
    .choose_all = cmlb_choose_all,
    .observe = cmlb_observe,
    .end_round = cmlb_end,
    .user_theta = cmlb_theta,
    .clusters = cmlb_clusters,
};
