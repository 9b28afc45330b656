/* grouped.c - policies with one learner per fixed group of users:
 *   "oracle": the true clusters (given in colb_policy_params.true_cluster),
 *             each group's learner fed the group's average reward - the
 *             regret an algorithm that knew the clusters would get;
 *   "pooled": a single learner for all users (one group).
 * Both feed each group's average reward as colb_policy_params.pooled_updates
 * says (see cluster_bank.h). */
#include <string.h>

#include "learn/cluster_bank.h"
#include "policies/policy_impl.h"

static colb_status oracle_check(const colb_policy_params *pp, char *msg, size_t len)
{
    if (!pp->true_cluster || pp->n_clusters == 0) {
        if (msg && len)
            snprintf(msg, len, "oracle: needs the true clusters (an environment with clusters)");
        return COLB_EINVAL;
    }
    for (size_t u = 0; u < pp->users; u++)
        if (pp->true_cluster[u] >= pp->n_clusters) {
            if (msg && len)
                snprintf(msg, len, "oracle: user %zu has cluster %zu >= n_clusters %zu", u,
                         pp->true_cluster[u], pp->n_clusters);
            return COLB_ERANGE;
        }
    return COLB_OK;
}

static colb_status grouped_init(colb_policy *p, const size_t *labels, size_t G)
{
    colb__clusters *c = calloc(1, sizeof *c);
    if (!c)
        return COLB_ENOMEM;
    p->impl = c;
    return colb__clusters_init(c, p->N, p->d, &p->pp.learner, labels, G, p->pp.pooled_updates);
}

static colb_status oracle_create(colb_policy *p)
{
    return grouped_init(p, p->pp.true_cluster, p->pp.n_clusters);
}

static colb_status pooled_create(colb_policy *p)
{
    size_t *zero = colb__calloc(p->N, sizeof(size_t));
    if (!zero)
        return COLB_ENOMEM;
    colb_status st = grouped_init(p, zero, 1);
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
    (void)arm; /* the group's arm, checked by the generic layer */
    colb__clusters_observe(p->impl, u, y);
    return COLB_OK;
}

static colb_status grouped_end(colb_policy *p)
{
    colb__clusters_end(p->impl, p->X);
    return COLB_OK;
}

static colb_status grouped_theta(const colb_policy *p, size_t u, double *theta)
{
    const colb__clusters *c = p->impl;
    memcpy(theta, c->r.theta + c->label[u] * p->d, p->d * sizeof(double));
    return COLB_OK;
}

static colb_status grouped_clusters(const colb_policy *p, size_t *labels, size_t *n)
{
    const colb__clusters *c = p->impl;
    memcpy(labels, c->label, p->N * sizeof(size_t));
    *n = c->G;
    return COLB_OK;
}

/* Memory budget: one model per group (L true clusters, or one). */
static double oracle_memory(const colb_policy_params *pp)
{
    return colb__ridge_bytes(pp->n_clusters ? pp->n_clusters : pp->users, pp->dim) + (double)pp->users * 16;
}

static double pooled_memory(const colb_policy_params *pp)
{
    return colb__ridge_bytes(1, pp->dim) + (double)pp->users * 16;
}

const colb__policy_vt colb__policy_oracle = {
    .name = "oracle",
    .check = oracle_check,
    .create = oracle_create,
    .destroy = grouped_destroy,
    .begin_round = grouped_begin,
    .choose = grouped_choose,
    .choose_all = grouped_choose_all,
    .observe = grouped_observe,
    .end_round = grouped_end,
    .user_theta = grouped_theta,
    .clusters = grouped_clusters,
    .memory = oracle_memory,
};

const colb__policy_vt colb__policy_pooled = {
    .name = "pooled",
    .create = pooled_create,
    .destroy = grouped_destroy,
    .begin_round = grouped_begin,
    .choose = grouped_choose,
    .choose_all = grouped_choose_all,
    .observe = grouped_observe,
    .end_round = grouped_end,
    .user_theta = grouped_theta,
    .clusters = grouped_clusters,
    .memory = pooled_memory,
};
