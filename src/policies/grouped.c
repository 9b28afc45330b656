/* grouped.c - policies with one learner per fixed group of users:
 *   "oracle":       the true clusters (given in colb_policy_params.true_cluster),
 *                   each group's learner fed its users' rewards - the regret an
 *                   algorithm that knew the clusters would get. Its members
 *                   choose one after another against a hallucinated copy of the
 *                   group's learner when colb_policy_params.diversify is 1
 *                   (the default), else all play the group's arm;
 *   "oracle-batch": the same, never diversified: every member of a cluster
 *                   plays the cluster's arm (the oracle of the paper's Figure 1);
 *   "oracle-seq":   the same learners served one user after another with an
 *                   immediate update after every reward (sequential, like
 *                   CLUB): the best a known-cluster learner can do when every
 *                   reward is seen before the next choice;
 *   "pooled":       a single learner for all users (one group), diversified
 *                   like "oracle".
 * Group learners take their rewards as colb_policy_params.pooled_updates
 * says (see cluster_bank.h): with pooling every sample has weight 1 and
 * noise R; without, a round's rewards of a group carry weight 1 in all, with
 * noise R/sqrt(|group|) (oracle-seq: weight 1/|group| per sample). The three
 * oracles bound the game from three sides; docs/algorithms.md says which is
 * the reference of each comparison. */
#include <string.h>

#include "learn/cluster_bank.h"
#include "learn/thompson.h"
#include "policies/bank_persist.h"
#include "policies/policy_impl.h"

static colb_status oracle_check(const colb_policy_params *pp, char *msg, size_t len)
{
    if (!pp->true_cluster || pp->n_clusters == 0) {
        if (msg && len)
            snprintf(msg, len, "oracle: needs the true clusters (an environment with clusters)");
        return COLB_EINVAL;
    }
    return COLB_OK; /* the labels' range: colb_policy_params_check, for every policy */
}

static colb_status grouped_init(colb_policy *p, const size_t *labels, size_t G, int diversify)
{
    colb__clusters *c = calloc(1, sizeof *c);
    if (!c)
        return COLB_ENOMEM;
    p->impl = c;
    colb_status st = colb__clusters_init(c, p->N, p->d, &p->pp.learner, labels, G, p->pp.pooled_updates);
    return st == COLB_OK ? colb__clusters_set_mode(c, diversify, colb__policy_ts(p) ? &p->ts_rng : NULL)
                         : st;
}

static colb_status oracle_create(colb_policy *p)
{
    return grouped_init(p, p->pp.true_cluster, p->pp.n_clusters, p->pp.diversify);
}

static colb_status oracle_batch_create(colb_policy *p)
{
    return grouped_init(p, p->pp.true_cluster, p->pp.n_clusters, 0);
}

static colb_status pooled_create(colb_policy *p)
{
    size_t *zero = colb__calloc(p->N, sizeof(size_t));
    if (!zero)
        return COLB_ENOMEM;
    colb_status st = grouped_init(p, zero, 1, p->pp.diversify);
    free(zero);
    return st;
}

static void grouped_destroy(colb_policy *p)
{
    colb__clusters_free(p->impl);
    free(p->impl);
    p->impl = NULL;
}

static colb_status grouped_begin(colb_policy *p)
{
    colb_status st = colb__clusters_reserve(p->impl, p->K);
    return st == COLB_OK ? st : colb__err(p->err, st, "begin_round: out of memory");
}

static colb_status grouped_choose(colb_policy *p, size_t u, size_t *arm)
{
    *arm = colb__clusters_choose(p->impl, u, p->X, p->K);
    return COLB_OK;
}

static colb_status grouped_choose_all(colb_policy *p, size_t *arms)
{
    colb__clusters_choose_all(p->impl, p->X, p->K, arms);
    return COLB_OK;
}

static colb_status grouped_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    colb__clusters_observe(p->impl, u, arm, y);
    return COLB_OK;
}

/* oracle-seq: the group's learner as it stands, now (no round state). */
static colb_status seq_choose(colb_policy *p, size_t u, size_t *arm)
{
    colb__clusters *c = p->impl;
    size_t g = c->label[u];
    if (colb__policy_ts(p)) {
        *arm = colb__ts_choose(&c->r, g, NULL, p->X, p->K, &p->ts_rng, c->s.scores, c->ts_work);
    } else {
        colb__ridge_scores(&c->r, g, p->X, p->K, c->s.scores, c->s.work);
        *arm = colb__argmax(c->s.scores, p->K);
    }
    return COLB_OK;
}

/* oracle-seq: every reward updates its group's learner at once, weight 1
 * (pooled) or 1/|group| (the group's round carries weight 1 in all). */
static colb_status seq_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    colb__clusters *c = p->impl;
    size_t g = c->label[u];
    double w = c->pooled ? 1.0 : 1.0 / (double)c->size[g];
    colb__ridge_update(&c->r, g, p->X + arm * p->d, y, w);
    return COLB_OK;
}

static colb_status grouped_end(colb_policy *p)
{
    colb__clusters_end(p->impl, p->X);
    return COLB_OK;
}

static const double *grouped_theta_ref(const colb_policy *p, size_t u)
{
    const colb__clusters *c = p->impl;
    return c->r.theta + c->label[u] * p->d;
}

static colb_status grouped_theta(const colb_policy *p, size_t u, double *theta)
{
    memcpy(theta, grouped_theta_ref(p, u), p->d * sizeof(double));
    return COLB_OK;
}

/* Every user's estimate is its group's: the G models' (the guard's check
 * in O(G d) instead of a copy per user). */
static int grouped_all_sane(const colb_policy *p)
{
    const colb__clusters *c = p->impl;
    return colb__theta_sane(c->r.theta, c->G * p->d);
}

static colb_status grouped_clusters(const colb_policy *p, size_t *labels, size_t *n)
{
    const colb__clusters *c = p->impl;
    memcpy(labels, c->label, p->N * sizeof(size_t));
    *n = c->G;
    return COLB_OK;
}

/* Memory budget: one model per group (L true clusters, or one), and the
 * round's diversification state when it is on. */
static double groups_memory(const colb_policy_params *pp, size_t G, int diversify)
{
    return colb__ridge_bytes(G, pp->dim) + (double)pp->users * 16 +
           (diversify ? colb__div_bytes(G, pp->dim, pp->users) : 0.0);
}

static double oracle_memory(const colb_policy_params *pp)
{
    return groups_memory(pp, pp->n_clusters ? pp->n_clusters : pp->users, pp->diversify);
}

static double oracle_batch_memory(const colb_policy_params *pp)
{
    return groups_memory(pp, pp->n_clusters ? pp->n_clusters : pp->users, 0);
}

static double pooled_memory(const colb_policy_params *pp)
{
    return groups_memory(pp, 1, pp->diversify);
}

static colb_status grouped_save(const colb_policy *p, colb__snap_out *w)
{
    colb__clusters_save(w, "groups", p->impl);
    return colb__snap_status(w);
}

/* The groups as saved, in the mode of their policy (diversify, sampling). */
static colb_status groups_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g,
                               int diversify)
{
    colb__clusters *c = calloc(1, sizeof *c);
    if (!c)
        return COLB_ENOMEM;
    p->impl = c;
    colb_status st = colb__clusters_load(in, g, "groups", c, p->N, p->d, &p->pp.learner);
    return st == COLB_OK ? colb__clusters_set_mode(c, diversify, colb__policy_ts(p) ? &p->ts_rng : NULL)
                         : st;
}

/* pooled's one group holds every user. */
static colb_status pooled_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g)
{
    colb_status st = groups_load(p, in, g, p->pp.diversify);
    const colb__clusters *c = p->impl;
    int one = st == COLB_OK && c->G == 1;
    for (size_t u = 0; one && u < p->N; u++)
        one = c->label[u] == 0;
    if (st == COLB_OK && !one)
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: pooled has %zu groups, not one of every user", c->G);
    return st;
}

/* The oracles' groups must be their labels. */
static colb_status oracles_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g,
                                int diversify)
{
    colb_status st = groups_load(p, in, g, diversify);
    const colb__clusters *c = p->impl;
    if (st == COLB_OK && memcmp(p->labels, c->label, p->N * sizeof(size_t)))
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: the oracle's groups differ from its labels");
    return st;
}

static colb_status oracle_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g)
{
    return oracles_load(p, in, g, p->pp.diversify);
}

static colb_status oracle_batch_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g)
{
    return oracles_load(p, in, g, 0);
}

/* The oracle's newcomers join their true clusters. */
static colb_status oracle_add_users(colb_policy *p, size_t n, const size_t *labels)
{
    return colb__clusters_add_users(p->impl, n, labels);
}

/* The pooled learner's newcomers join its one group. */
static colb_status pooled_add_users(colb_policy *p, size_t n, const size_t *labels)
{
    (void)labels;
    size_t *zero = colb__calloc(n, sizeof(size_t));
    if (!zero)
        return COLB_ENOMEM;
    colb_status st = colb__clusters_add_users(p->impl, n, zero);
    free(zero);
    return st;
}

const colb__policy_vt colb__policy_oracle = {
    .name = "oracle",
    .quiet_choices = 1, /* a UCB choice scores the group's model, or the round's
                         * diversified copy of it: round scratch; a round
                         * without observations updates nothing at its end */
    .check = oracle_check,
    .create = oracle_create,
    .destroy = grouped_destroy,
    .begin_round = grouped_begin,
    .choose = grouped_choose,
    .choose_all = grouped_choose_all,
    .observe = grouped_observe,
    .end_round = grouped_end,
    .user_theta = grouped_theta,
    .user_theta_ref = grouped_theta_ref,
    .all_sane = grouped_all_sane,
    .clusters = grouped_clusters,
    .memory = oracle_memory,
    .save = grouped_save,
    .load = oracle_load,
    .add_users = oracle_add_users,
};

const colb__policy_vt colb__policy_oracle_batch = {
    .name = "oracle-batch",
    .quiet_choices = 1, /* as the oracle's */
    .check = oracle_check,
    .create = oracle_batch_create,
    .destroy = grouped_destroy,
    .begin_round = grouped_begin,
    .choose = grouped_choose,
    .choose_all = grouped_choose_all,
    .observe = grouped_observe,
    .end_round = grouped_end,
    .user_theta = grouped_theta,
    .user_theta_ref = grouped_theta_ref,
    .all_sane = grouped_all_sane,
    .clusters = grouped_clusters,
    .memory = oracle_batch_memory,
    .save = grouped_save,
    .load = oracle_batch_load,
    .add_users = oracle_add_users,
};

const colb__policy_vt colb__policy_oracle_seq = {
    .name = "oracle-seq",
    .quiet_choices = 1, /* as the oracle's */
    .sequential = 1,
    .check = oracle_check,
    .create = oracle_batch_create,
    .destroy = grouped_destroy,
    .begin_round = grouped_begin,
    .choose = seq_choose,
    .observe = seq_observe,
    .user_theta = grouped_theta,
    .user_theta_ref = grouped_theta_ref,
    .all_sane = grouped_all_sane,
    .clusters = grouped_clusters,
    .memory = oracle_batch_memory,
    .save = grouped_save,
    .load = oracle_batch_load,
    .add_users = oracle_add_users,
};

const colb__policy_vt colb__policy_pooled = {
    .name = "pooled",
    .quiet_choices = 1, /* as the oracle's */
    .create = pooled_create,
    .destroy = grouped_destroy,
    .begin_round = grouped_begin,
    .choose = grouped_choose,
    .choose_all = grouped_choose_all,
    .observe = grouped_observe,
    .end_round = grouped_end,
    .user_theta = grouped_theta,
    .user_theta_ref = grouped_theta_ref,
    .all_sane = grouped_all_sane,
    .clusters = grouped_clusters,
    .memory = pooled_memory,
    .save = grouped_save,
    .load = pooled_load,
    .add_users = pooled_add_users,
};
