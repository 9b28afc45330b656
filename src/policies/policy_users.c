/* policy_users.c - users added online (colb_policy_add_users): the generic
 * layer grows its per-user arrays around the policy's add_users hook
 * (policy_impl.h), which grows the policy's own state all or nothing; and
 * the memory budget they are checked against (colb_policy_set_max_memory). */
#include <stdio.h>
#include <string.h>

#include "core/memory.h"
#include "policies/policy_impl.h"

size_t colb_policy_users(const colb_policy *p) { return p ? p->N : 0; }

colb_status colb_policy_set_max_memory(colb_policy *p, size_t max_memory)
{
    if (!p)
        return COLB_EINVAL;
    if (colb__budget_range(max_memory, "set_max_memory", p->err, COLB__ERRLEN) != COLB_OK)
        return COLB_ERANGE;
    if (p->failed)
        return colb__err(p->err, COLB_ENUMERIC, "set_max_memory: the policy failed numerically; create a new one");
    p->pp.max_memory = max_memory;
    return COLB_OK;
}

colb_status colb_policy_add_users(colb_policy *p, size_t n, const size_t *labels)
{
    if (!p)
        return COLB_EINVAL;
    if (p->in_round)
        return colb__err(p->err, COLB_ESTATE, "add_users: round %llu is open; add users between "
                         "end_round and begin_round", (unsigned long long)p->rounds + 1);
    if (p->failed)
        return colb__err(p->err, COLB_ENUMERIC, "add_users: the policy failed numerically; create a new one");
    if (!p->vt->add_users)
        return colb__err(p->err, COLB_EUNSUP, "add_users: policy '%s' cannot take users online "
                         "(docs/algorithms.md)", p->vt->name);
    if (n == 0)
        return COLB_OK;
    if (n > ((size_t)1 << 40) - p->N)
        return colb__err(p->err, COLB_ERANGE, "add_users: %zu more users is too many", n);
    /* A policy needs the newcomers' true clusters when its parameters are
     * invalid without true clusters (the oracle); any other policy given
     * them at creation keeps them only as long as they are complete. */
    int needs = 0;
    if (p->labels) {
        colb_policy_params q = p->pp;
        q.true_cluster = NULL;
        needs = colb_policy_params_check(p->vt->name, &q, NULL, 0) != COLB_OK;
    }
    if (needs && !labels)
        return colb__err(p->err, COLB_EINVAL, "add_users: %s needs the new users' true "
                         "clusters (labels)", p->vt->name);
    if (p->labels && labels) {
        for (size_t i = 0; i < n; i++)
            if (labels[i] >= p->pp.n_clusters)
                return colb__err(p->err, COLB_ERANGE, "add_users: label %zu of new user %zu is "
                                 "not below n_clusters = %zu", labels[i], i, p->pp.n_clusters);
    }
    size_t N = p->N + n;
    /* A budget the caller set (max_memory) holds for the policy with N
     * users, as at creation, and its round of the most arms so far, as
     * begin_round checks them. The default one (80 % of the memory
     * available now) is not applied here: it moves with the machine's
     * load, and a service replaying its log must add the users it added
     * live. */
    if (p->pp.max_memory) {
        colb_policy_params q = p->pp;
        q.users = N;
        double need = 0.0;
        colb_policy_memory(p->vt->name, &q, &need);
        char what[192];
        int n_w = snprintf(what, sizeof what, "add_users: policy '%s' with users = %zu, dim = %zu", p->vt->name, N,
                           p->d);
        if (p->X_cap && n_w > 0 && (size_t)n_w < sizeof what) {
            snprintf(what + n_w, sizeof what - (size_t)n_w, " and its rounds of K = %zu arms", p->X_cap);
        }
        need += p->X_cap ? colb__policy_round_bytes_for(p->vt, &q, p->X_cap) : 0.0;
        colb_status bst = colb__budget_check(need, p->pp.max_memory, what, p->err, COLB__ERRLEN);
        if (bst != COLB_OK)
            return bst;
    }
    /* larger arrays are harmless if the hook then fails: N stays the same */
    if (colb__realloc_n(&p->chosen, N, sizeof(size_t)) || colb__realloc_n(&p->observed, N, 1) ||
        colb__realloc_n(&p->served, N, sizeof(size_t)) || (p->labels && colb__realloc_n(&p->labels, N, sizeof(size_t))))
        return colb__err(p->err, COLB_ENOMEM, "add_users: out of memory for %zu users", N);
    p->pp.true_cluster = p->labels; /* the labels may have moved, and the hook may fail */
    p->err[0] = '\0';
    int keep = p->labels && labels; /* else the labels are dropped below */
    colb_status st = p->vt->add_users(p, n, keep ? labels : NULL);
    if (st != COLB_OK) {
        if (!p->err[0])
            colb__err(p->err, st, "add_users: %s", colb_strerror(st));
        return st;
    }
    for (size_t u = p->N; u < N; u++) {
        p->chosen[u] = COLB__NO_ARM;
        p->observed[u] = 0;
        if (keep)
            p->labels[u] = labels[u - p->N];
    }
    if (p->labels && !keep) {
        free(p->labels);
        p->labels = NULL;
        p->pp.n_clusters = 0;
    }
    p->N = N;
    p->pp.users = N;
    p->pp.true_cluster = p->labels;
    return COLB_OK;
}
