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
 * Options beyond the paper (colb's reading, on by default: pooled updates
 * and warm start; the paper-literal reading turns both off):
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
 *
 * Anytime mode (colb_policy_params.anytime, or horizon 0): the two things
 * CMLB plans by T - T_explore and the paper's gamma - follow a doubling
 * schedule instead. Round t is planned for the horizon P = the smallest
 * power of two >= t. The individual learners are kept and updated with
 * every user's own reward in every round, also after clustering; when P
 * doubles, T_explore and gamma are recomputed for the new P, and CMLB
 * either clusters again at once (when the users have already played
 * T_explore(P) rounds individually) or returns to individual play until
 * they have. A re-clustering keeps the learner of every cluster whose
 * members are unchanged (or, with warm start, rebuilds every cluster
 * learner from its members' individual data, which then include the
 * collaborative rounds). Nothing is restarted: learning carries over.
 *
 * Users added online: before clustering they get individual learners;
 * after it each newcomer is a cluster of its own (with a fresh learner)
 * until the next clustering, which only anytime mode performs.
 *
 * This file also exports colb__cmlb_* helpers used by SCLB (sclb.c). */
#include <string.h>

#include "learn/cluster_bank.h"
#include "policies/bank_persist.h"
#include "policies/cmlb.h"
#include "colb/cluster.h"
#include "learn/user_bank.h"
#include "policies/policy_impl.h"

typedef struct cmlb {
    size_t T_explore;
    double gamma;            /* threshold used (paper rule or given) */
    int clustered;           /* 0: individual play, 1: collaborative play */
    int anytime;             /* doubling schedule instead of the horizon */
    uint64_t plan;           /* the horizon planned for: T, or the schedule's power of two */
    uint64_t explored;       /* rounds played individually so far */
    colb__users users;       /* individual learners (freed after clustering unless anytime) */
    colb__clusters clusters; /* cluster learners (G == 0: none yet) */
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
    double v = 0.0;
    /* The theory needs alpha < 1/2; the paper's Last.FM experiment uses 1/2. */
    if (!isfinite(v = pp->cmlb_alpha) || v <= 0.0 || v > 0.5)
        bad = "cmlb_alpha = %g: cmlb alpha must be in (0, 1/2]";
    else if (!isfinite(v = pp->cmlb_C) || v < 0.0)
        bad = "cmlb_C = %g: cmlb C must be >= 0";
    else if (!isfinite(v = pp->cmlb_gamma))
        bad = "cmlb_gamma = %g: cmlb gamma must be finite (<= 0 selects the threshold rule)";
    else if (!isfinite(v = pp->cmlb_pstar) || v < 0.0 || v > 1.0)
        bad = "cmlb_pstar = %g: cmlb p* must be in [0, 1]";
    if (!bad)
        return COLB_OK;
    /* NaN/Inf is COLB_ENONFIN, as for every other parameter */
    return colb__say(msg, len, isfinite(v) ? COLB_ERANGE : COLB_ENONFIN, bad, v);
}

/* T_explore and gamma for the horizon c->plan. */
static void plan_for(const colb_policy *p, cmlb *c)
{
    const colb_policy_params *pp = &p->pp;
    size_t P = c->plan > SIZE_MAX ? SIZE_MAX : (size_t)c->plan;
    c->T_explore = colb__cmlb_explore_rounds(p->N, P, p->d, pp->cmlb_alpha, pp->cmlb_C,
                                             pp->learner.delta);
    c->gamma = pp->cmlb_gamma > 0.0 ? pp->cmlb_gamma : colb__cmlb_gamma(p->N, P, pp->cmlb_alpha);
}

static void describe(colb_policy *p, const cmlb *c)
{
    int n = 0;
    if (c->anytime)
        n = snprintf(p->info, sizeof p->info, "anytime plan=%llu ", (unsigned long long)c->plan);
    n += p->pp.cmlb_threshold == COLB_THRESHOLD_DATA && p->pp.cmlb_gamma <= 0.0
             ? snprintf(p->info + n, sizeof p->info - (size_t)n, "T_explore=%zu threshold=data", c->T_explore)
             : snprintf(p->info + n, sizeof p->info - (size_t)n, "T_explore=%zu gamma=%.4g", c->T_explore, c->gamma);
    if (!c->clustered || n < 0)
        return;
    const colb__clusters *cb = &c->clusters;
    n += snprintf(p->info + n, sizeof p->info - (size_t)n, " clusters=%zu sizes=", cb->G);
    for (size_t g = 0; g < cb->G && (size_t)n < sizeof p->info - 16; g++)
        n += snprintf(p->info + n, sizeof p->info - (size_t)n, "%s%zu", g ? "," : "", cb->size[g]);
}

/* Anytime re-clustering without warm start: the learner of every new
 * cluster whose members are exactly those of an old cluster carries over. */
static void keep_unchanged(colb__clusters *nw, const colb__clusters *old)
{
    size_t N = nw->N, G = nw->G;
    size_t *from = colb__malloc(G, sizeof(size_t));
    if (!from)
        return; /* fresh learners: correct, only slower to learn */
    for (size_t g = 0; g < G; g++)
        from[g] = (size_t)-1;
    for (size_t u = 0; u < N; u++) {
        size_t g = nw->label[u];
        if (from[g] == (size_t)-1)
            from[g] = old->label[u];
    }
    for (size_t u = 0; u < N; u++)
        if (from[nw->label[u]] != old->label[u])
            from[nw->label[u]] = (size_t)-2; /* members from two old clusters */
    for (size_t g = 0; g < G; g++)
        if (from[g] < old->G && old->size[from[g]] == nw->size[g])
            colb__ridge_copy_model(&nw->r, g, &old->r, from[g]);
    free(from);
}

/* MAXIMAL-CLUSTER on the individual estimates, then the cluster learners. */
static colb_status cmlb_cluster(colb_policy *p, cmlb *c)
{
    size_t N = p->N;
    size_t *labels = colb__malloc(N, sizeof(size_t));
    double *theta = colb__malloc(N, p->d * sizeof(double)); /* the users' estimates, N x d */
    double *radius = p->pp.cmlb_threshold == COLB_THRESHOLD_DATA && p->pp.cmlb_gamma <= 0.0
                         ? colb__malloc(N, sizeof(double)) : NULL;
    colb_status st = labels && theta ? COLB_OK : COLB_ENOMEM;
    if (st == COLB_OK && p->pp.cmlb_threshold == COLB_THRESHOLD_DATA && p->pp.cmlb_gamma <= 0.0)
        st = radius ? colb__users_radii(&c->users, radius) : COLB_ENOMEM;
    for (size_t u = 0; u < N && st == COLB_OK; u++)
        colb__users_theta(&c->users, u, theta + u * p->d);
    size_t G = 0;
    if (st == COLB_OK)
        st = colb_maximal_cluster(theta, N, p->d, c->gamma, radius, p->pp.cmlb_pstar, labels, &G);
    int warm = p->pp.cmlb_warm_start, pooled = warm || p->pp.pooled_updates;
    colb__clusters nw;
    memset(&nw, 0, sizeof nw);
    if (st == COLB_OK)
        st = colb__clusters_init(&nw, N, p->d, &p->pp.learner, labels, G, pooled);
    if (st == COLB_OK)
        st = colb__clusters_set_mode(&nw, p->pp.diversify, colb__policy_ts(p) ? &p->ts_rng : NULL);
    if (st == COLB_OK && warm) {
        /* a user whose V cannot be recovered from its A (one context near
         * COLB_CONTEXT_MAX with lambda near COLB_LAMBDA_MIN cancels A to
         * rounding) brings no data to its cluster's learner: the cluster
         * starts without it, rather than the policy failing for good */
        for (size_t u = 0; u < N && st == COLB_OK; u++)
            if ((st = colb__users_absorb_into(&c->users, u, &nw.r, labels[u])) == COLB_ENUMERIC)
                st = COLB_OK;
        for (size_t g = 0; g < G && st == COLB_OK; g++)
            st = colb__ridge_refresh(&nw.r, g);
    } else if (st == COLB_OK && c->clusters.G) {
        keep_unchanged(&nw, &c->clusters);
    }
    if (st == COLB_OK && p->K)
        st = colb__clusters_reserve(&nw, p->K);
    free(labels);
    free(theta);
    free(radius);
    if (st != COLB_OK) {
        colb__clusters_free(&nw);
        return colb__err(p->err, st, "cmlb: clustering failed: %s", colb_strerror(st));
    }
    colb__clusters_free(&c->clusters);
    c->clusters = nw;
    if (!c->anytime)
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
    colb_status st = colb__policy_kernel_check(p);
    if (st != COLB_OK)
        return st;
    const colb_policy_params *pp = &p->pp;
    c->anytime = colb__anytime(pp);
    c->plan = c->anytime ? 1 : pp->horizon;
    plan_for(p, c);
    st = colb__users_init(&c->users, p->N, p->d, &pp->learner);
    if (st != COLB_OK)
        return st;
    describe(p, c);
    return c->T_explore == 0 && c->T_explore < c->plan ? cmlb_cluster(p, c) : COLB_OK;
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
    colb_status st = c->users.s.n ? colb__users_reserve(&c->users, p->K) : COLB_OK;
    if (st == COLB_OK && c->users.s.n && colb__policy_ts(p))
        st = colb__users_reserve_ts(&c->users, p->K);
    if (st == COLB_OK && c->clustered)
        st = colb__clusters_reserve(&c->clusters, p->K);
    return st == COLB_OK ? st : colb__err(p->err, st, "begin_round: out of memory");
}

static colb_status cmlb_choose(colb_policy *p, size_t u, size_t *arm)
{
    cmlb *c = p->impl;
    if (c->clustered)
        *arm = colb__clusters_choose(&c->clusters, u, p->X, p->K);
    else if (colb__policy_ts(p))
        *arm = colb__users_choose_ts(&c->users, u, p->X, p->K, &p->ts_rng);
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
        colb__users_choose_all_ts(&c->users, p->X, p->K, &p->ts_rng, arms);
    else
        colb__users_choose_all(&c->users, p->X, p->K, arms, NULL);
    return COLB_OK;
}

static colb_status cmlb_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    cmlb *c = p->impl;
    if (c->clustered)
        colb__clusters_observe(&c->clusters, u, arm, y);
    if (!c->clustered || c->anytime)
        colb__users_update(&c->users, u, p->X + arm * p->d, y);
    return COLB_OK;
}

static colb_status cmlb_end(colb_policy *p)
{
    cmlb *c = p->impl;
    if (c->users.s.n) /* the deferred individual updates, while p->X holds the round */
        colb__users_flush(&c->users);
    if (c->clustered)
        colb__clusters_end(&c->clusters, p->X);
    else
        c->explored++;
    /* p->rounds counts completed rounds; this one completes now. */
    uint64_t t = p->rounds + 1;
    int replanned = 0;
    while (c->anytime && c->plan <= t && c->plan < ((uint64_t)1 << 62)) {
        c->plan *= 2;
        replanned = 1;
    }
    if (replanned) {
        plan_for(p, c);
        describe(p, c);
    }
    /* Cluster once the users have explored T_explore rounds; when the
     * individual phase fills the planned horizon there is nothing left to
     * cluster for. */
    int want = c->explored >= c->T_explore && c->T_explore < c->plan;
    if (want && (!c->clustered || replanned))
        return cmlb_cluster(p, c);
    if (!want && c->clustered && c->anytime) { /* back to individual play */
        c->clustered = 0;
        describe(p, c);
    }
    return COLB_OK;
}

static colb_status cmlb_theta(const colb_policy *p, size_t u, double *theta)
{
    const cmlb *c = p->impl;
    if (c->clustered)
        memcpy(theta, c->clusters.r.theta + c->clusters.label[u] * p->d, p->d * sizeof(double));
    else
        colb__users_theta(&c->users, u, theta);
    return COLB_OK;
}

/* The guard's check without a copy per user: the clusters' G models once
 * clustered, the users' bank before. */
static int cmlb_all_sane(const colb_policy *p)
{
    const cmlb *c = p->impl;
    return c->clustered ? colb__theta_sane(c->clusters.r.theta, c->clusters.G * p->d)
                        : colb__users_all_sane(&c->users);
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

static colb_status cmlb_save(const colb_policy *p, colb__snap_out *w)
{
    const cmlb *c = p->impl;
    colb__snap_u64(w, "T_explore", c->T_explore);
    colb__snap_f64(w, "gamma", c->gamma);
    colb__snap_u64(w, "clustered", (uint64_t)c->clustered);
    colb__snap_u64(w, "plan", c->plan);
    colb__snap_u64(w, "explored", c->explored);
    if (c->users.s.n)
        colb__users_save(w, "users", &c->users);
    if (c->clusters.G)
        colb__clusters_save(w, "clusters", &c->clusters);
    return colb__snap_status(w);
}

static colb_status cmlb_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g)
{
    cmlb *c = calloc(1, sizeof *c);
    if (!c)
        return COLB_ENOMEM;
    p->impl = c;
    c->anytime = colb__anytime(&p->pp);
    size_t clustered = 0, plan = 1;
    colb__snap_field f;
    colb_status st = colb__snap_get_size(in, g, "T_explore", 0, SIZE_MAX, &c->T_explore);
    if (st == COLB_OK)
        st = colb__snap_get_f64(in, g, "gamma", 0, &c->gamma);
    if (st == COLB_OK)
        st = colb__snap_get_size(in, g, "clustered", 0, 1, &clustered);
    if (st == COLB_OK) /* the doubling loop needs a plan >= 1 */
        st = colb__snap_get_size(in, g, "plan", 1, SIZE_MAX, &plan);
    c->plan = plan;
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "explored", &c->explored);
    c->clustered = (int)clustered;
    int has_users = colb__snap_find(g, "users", &f) == COLB_OK;
    int has_clusters = colb__snap_find(g, "clusters", &f) == COLB_OK;
    if (st == COLB_OK && ((c->clustered && !has_clusters) || ((!c->clustered || c->anytime) && !has_users)))
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: cmlb state lacks its %s learners",
                              has_users ? "cluster" : "individual");
    if (st == COLB_OK && has_users)
        st = colb__users_load(in, g, "users", &c->users, p->N, p->d, &p->pp.learner);
    if (st == COLB_OK && has_clusters)
        st = colb__clusters_load(in, g, "clusters", &c->clusters, p->N, p->d, &p->pp.learner);
    if (st == COLB_OK && has_clusters)
        st = colb__clusters_set_mode(&c->clusters, p->pp.diversify,
                                     colb__policy_ts(p) ? &p->ts_rng : NULL);
    return st;
}

/* Newcomers: individual learners (in anytime mode always), and after
 * clustering a cluster of their own each. */
static colb_status cmlb_add_users(colb_policy *p, size_t n, const size_t *labels)
{
    (void)labels;
    cmlb *c = p->impl;
    size_t N = p->N;
    if (c->users.s.n && colb__users_grow(&c->users, N + n) != COLB_OK)
        return COLB_ENOMEM;
    if (!c->clusters.G)
        return COLB_OK;
    size_t G = c->clusters.G;
    size_t *own = colb__malloc(n, sizeof(size_t));
    colb_status st = own ? colb__clusters_add_groups(&c->clusters, n) : COLB_ENOMEM;
    if (st == COLB_OK) {
        for (size_t i = 0; i < n; i++)
            own[i] = G + i;
        st = colb__clusters_add_users(&c->clusters, n, own);
        if (st != COLB_OK) { /* undo: the new groups have no members yet */
            c->clusters.G = G;
            c->clusters.r.n = G;
        }
    }
    free(own);
    if (st != COLB_OK && c->users.s.n)
        colb__users_shrink(&c->users, N); /* undo the grown individual bank */
    if (st == COLB_OK && c->clustered)
        describe(p, c);
    return st;
}

int colb__cmlb_is_clustered(const colb_policy *p)
{
    return ((const cmlb *)p->impl)->clustered;
}

/* Memory budget: a model per user, up to one per user for the clusters,
 * and MAXIMAL-CLUSTER's per-user work. */
static double cmlb_memory(const colb_policy_params *pp)
{
    double N = (double)pp->users;
    return colb__users_bytes(pp->users, pp->dim) + colb__ridge_bytes(pp->users, pp->dim) + N * 64 +
           (pp->diversify ? colb__div_bytes(pp->users, pp->dim, pp->users) : 0.0);
}

const colb__policy_vt colb__policy_cmlb = {
    .name = "cmlb",
    /* a UCB choice scores the user's model (its pending updates flushed at
     * every round's end) or the cluster's, as the oracle's; the round
     * counters and the clustering step do not depend on what was chosen */
    .quiet_choices = 1,
    .check = cmlb_check,
    .create = cmlb_create,
    .destroy = cmlb_destroy,
    .begin_round = cmlb_begin,
    .choose = cmlb_choose,
    .choose_all = cmlb_choose_all,
    .observe = cmlb_observe,
    .end_round = cmlb_end,
    .user_theta = cmlb_theta,
    .all_sane = cmlb_all_sane,
    .clusters = cmlb_clusters,
    .memory = cmlb_memory,
    .save = cmlb_save,
    .load = cmlb_load,
    .add_users = cmlb_add_users,
};
