/* policy_params.c - colb_policy_params by name (colb/params.h): the table
 * of the policy keys, with the same names and ranges as the options of
 * `colb run` (cli/options.c), and which policies read each key.
 *
 * A new field of colb_policy_params gets a row here (the size check below
 * fails the build until it has one, as in policy_persist.c). A new policy
 * adds its name to the `uses` of the rows it reads: NULL means every
 * policy, "a b" the policies listed, "-a -b" every policy but those. */
#include <stddef.h>
#include <stdint.h>

#include "colb/params.h"
#include "core/param_table.h"
#include "policies/policy_impl.h"

/* Not keyed, on purpose: true_cluster and n_clusters (set with
 * colb_policy_params_set_clusters) and threads (the simulator gives each
 * job's policy the threads its jobs leave idle: the run's key `threads`). */
#if defined(__LP64__)
_Static_assert(sizeof(colb_policy_params) == 264,
               "colb_policy_params changed: add a row for the new field to KEYS in "
               "policy_params.c, then update this size");
#endif

#define F(f) offsetof(colb_policy_params, f)
#define BIG COLB_SCALE_MAX
#define CMLB_LIKE "cmlb sclb"
static const colb__param KEYS[] = {
    { "users", COLB_PARAM_INT, 'z', F(users), 1, 1099511627776.0, NULL, "users N", NULL },
    { "dim", COLB_PARAM_INT, 'z', F(dim), 1, COLB_DIM_MAX, NULL, "context dimension d", NULL },
    { "horizon", COLB_PARAM_INT, 'z', F(horizon), 0, 9007199254740992.0, NULL,
      "horizon T the policy plans for (0: unknown, plan without it)", "cmlb pmlb" },
    { "seed", COLB_PARAM_INT, 'u', F(seed), 0, 18446744073709551615.0, NULL,
      "seed of the policy's own randomness (random arms, CLUB's random graph, LOCB's seed "
      "users, Thompson draws)", NULL },
    { "max-memory", COLB_PARAM_BYTES, 'z', F(max_memory), 0, 0, NULL,
      "memory budget (0: 80% of the available memory)", NULL },
    /* learners */
    { "width", COLB_PARAM_CHOICE, 'i', F(learner.width), 0, 0, "oful|fixed",
      "exploration width: OFUL radius or fixed alpha", "-random" },
    { "alpha", COLB_PARAM_REAL, 'd', F(learner.alpha), 0, BIG, NULL,
      "the fixed width (LinUCB's alpha)", "-random" },
    { "lambda", COLB_PARAM_REAL, 'd', F(learner.lambda), COLB_LAMBDA_MIN, COLB_LAMBDA_MAX, NULL,
      "ridge regulariser lambda", "-random" },
    { "delta", COLB_PARAM_REAL, 'd', F(learner.delta), 1e-12, 1 - 1e-12, NULL,
      "confidence delta of the OFUL radius", "-random" },
    { "learner-noise", COLB_PARAM_REAL, 'd', F(learner.noise), 0, BIG, NULL,
      "noise scale R in the OFUL radius", "-random" },
    { "norm-bound", COLB_PARAM_REAL, 'd', F(learner.norm_bound), 0, BIG, NULL,
      "bound S on ||theta|| in the OFUL radius", "-random" },
    /* collaboration */
    { "pooled-updates", COLB_PARAM_BOOL, 'i', F(pooled_updates), 0, 1, NULL,
      "group learners take an average of n rewards with weight n (1) or weight 1, noise "
      "R/sqrt(n) (0, the paper)", "oracle oracle-batch oracle-seq pooled cmlb sclb pmlb" },
    { "cmlb-warm-start", COLB_PARAM_BOOL, 'i', F(cmlb_warm_start), 0, 1, NULL,
      "cluster learners start from pooled individual data", CMLB_LIKE },
    { "anytime", COLB_PARAM_BOOL, 'i', F(anytime), 0, 1, NULL,
      "CMLB, PMLB plan without the horizon (doubling schedule)", "cmlb pmlb" },
    /* CMLB / SCLB */
    { "cmlb-alpha", COLB_PARAM_REAL, 'd', F(cmlb_alpha), 1e-12, 0.5, NULL,
      "CMLB's exploration exponent alpha, in (0, 1/2]", CMLB_LIKE },
    { "cmlb-c", COLB_PARAM_REAL, 'd', F(cmlb_C), 0, BIG, NULL, "CMLB's constant C of T_explore", CMLB_LIKE },
    { "cmlb-gamma", COLB_PARAM_REAL, 'd', F(cmlb_gamma), 0, BIG, NULL,
      "CMLB's threshold gamma (0: the cmlb-threshold rule)", "cmlb" },
    { "cmlb-pstar", COLB_PARAM_REAL, 'd', F(cmlb_pstar), 0, 1, NULL,
      "CMLB merges clusters smaller than p*N", "cmlb" },
    { "cmlb-threshold", COLB_PARAM_CHOICE, 'i', F(cmlb_threshold), 0, 0, "paper|data",
      "gamma = 3/(NT)^alpha, or from confidence radii", CMLB_LIKE },
    /* CLUB */
    { "club-alpha", COLB_PARAM_REAL, 'd', F(club_alpha), 0, BIG, NULL, "CLUB's exploration alpha", "club" },
    { "club-alpha2", COLB_PARAM_REAL, 'd', F(club_alpha2), 1e-6, BIG, NULL,
      "CLUB's edge-deletion constant alpha2", "club" },
    { "club-graph", COLB_PARAM_CHOICE, 'i', F(club_graph), 0, 0, "complete|random",
      "CLUB's initial user graph", "club" },
    /* PMLB */
    { "pmlb-learner", COLB_PARAM_CHOICE, 'i', F(pmlb_learner), 0, 0, "alb-norm|linucb",
      "PMLB's personal learner", "pmlb" },
    /* cohort */
    { "cohort-delta", COLB_PARAM_REAL, 'd', F(cohort_delta), 1e-12, 1 - 1e-12, NULL,
      "cohort's confidence of its split, merge and outlier tests", "cohort" },
    { "cohort-personal", COLB_PARAM_BOOL, 'i', F(cohort_personal), 0, 1, NULL,
      "cohort's personal estimates shrunk toward the cluster (1) or the cluster's model (0)", "cohort" },
    { "cohort-soft", COLB_PARAM_BOOL, 'i', F(cohort_soft), 0, 1, NULL,
      "cohort mixes the runner-up clusters' models while an assignment is uncertain", "cohort" },
    { "cohort-seeds", COLB_PARAM_INT, 'z', F(cohort_seeds), 1, 64, NULL,
      "cohort's members tried as seeds of a split proposal", "cohort" },
    { "cohort-estimate-noise", COLB_PARAM_BOOL, 'i', F(cohort_estimate_noise), 0, 1, NULL,
      "cohort estimates the rewards' noise scale from its users' residuals (learner-noise: its prior)",
      "cohort" },
    /* fair comparisons (docs/algorithms.md) */
    { "diversify", COLB_PARAM_BOOL, 'i', F(diversify), 0, 1, NULL,
      "group learners diversify their members' choices within a round (hallucinated updates)",
      "oracle pooled cmlb sclb pmlb" },
    { "sampling", COLB_PARAM_CHOICE, 'i', F(sampling), 0, 0, "ucb|ts",
      "every learner chooses by UCB or by Thompson sampling", "-random -cohort" },
    { "club-own-alpha", COLB_PARAM_BOOL, 'i', F(club_own_alpha), 0, 1, NULL,
      "CLUB explores with club-alpha and its published bonus, not the shared width (an override)",
      "club" },
    { "sclub-alpha", COLB_PARAM_REAL, 'd', F(sclub_alpha), 1e-6, BIG, NULL,
      "SCLUB's split/merge constant alpha", "sclub" },
    { "sclub-alpha-p", COLB_PARAM_REAL, 'd', F(sclub_alpha_p), 1e-6, BIG, NULL,
      "SCLUB's user-frequency constant alpha_p", "sclub" },
    { "locb-seeds", COLB_PARAM_INT, 'z', F(locb_seeds), 1, 2147483648.0, NULL,
      "LOCB's number of seed users", "locb" },
    { "locb-gamma", COLB_PARAM_REAL, 'd', F(locb_gamma), 1e-6, BIG, NULL,
      "LOCB: a seed's neighbourhood is final when F(T_seed) <= gamma/4", "locb" },
};
#undef F
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

size_t colb_policy_params_size(void) { return sizeof(colb_policy_params); }

colb_status colb_policy_params_set(colb_policy_params *p, const char *key, const char *value,
                                   char *msg, size_t msg_len)
{
    return colb__params_set(KEYS, N_KEYS, p, key, value, "policy parameter", msg, msg_len);
}

colb_status colb_policy_params_get(const colb_policy_params *p, const char *key, char *value,
                                   size_t len)
{
    return colb__params_get(KEYS, N_KEYS, p, key, value, len);
}

colb_status colb_policy_params_set_clusters(colb_policy_params *p, const size_t *labels,
                                            size_t n_clusters)
{
    if (!p || (!labels && n_clusters))
        return COLB_EINVAL;
    p->true_cluster = labels;
    p->n_clusters = labels ? n_clusters : 0;
    return COLB_OK;
}

const colb_policy_params *colb_policy_params_of(const colb_policy *p) { return p ? &p->pp : NULL; }

size_t colb_policy_param_count(void) { return N_KEYS; }

colb_status colb_policy_param_info(size_t i, colb_param_info *info)
{
    colb_policy_params d;
    colb_policy_params_default(&d);
    return colb__params_info(KEYS, N_KEYS, i, &d, info);
}

/* 1 if `name` is a word of the space-separated list `words`. */
static int listed(const char *words, const char *name, size_t skip)
{
    size_t n = strlen(name);
    for (const char *w = words; *w;) {
        const char *sp = strchr(w, ' ');
        size_t len = sp ? (size_t)(sp - w) : strlen(w);
        if (len == n + skip && !strncmp(w + skip, name, n))
            return 1;
        if (!sp)
            break;
        w = sp + 1;
    }
    return 0;
}

int colb_policy_param_used(const char *name, const char *key)
{
    const colb__param *e = colb__param_find(KEYS, N_KEYS, key);
    name = colb_policy_resolve(name); /* an alias reads what its policy reads */
    if (!e || !name)
        return -1;
    if (!e->uses)
        return 1;
    if (e->uses[0] == '-')
        return !listed(e->uses, name, 1);
    return listed(e->uses, name, 0);
}

/* Whether registered policy `policy` reads key `key` of pp with the
 * tunings `tuned` (the rules of colb_sim_spec_param_read, as the policies
 * of this folder and the simulator's tunings read their parameters): 1, 0,
 * or -1 for a key that is not a policy key. */
static int policy_reads(const colb_policy_params *pp, const char *policy, const char *key,
                        unsigned tuned)
{
    int may = colb_policy_param_used(policy, key);
    if (may <= 0)
        return may;
    int club = !strcmp(policy, "club"), cmlb = !strcmp(policy, "cmlb"), sclb = !strcmp(policy, "sclb");
    int club_tuned = (tuned & COLB_TUNED_CLUB) != 0;
    int own = club && (pp->club_own_alpha || club_tuned); /* CLUB's own width, not the shared one */
    int shared = !own && !(tuned & COLB_TUNED_WIDTH);    /* the width keys in force */
    int oful = shared && pp->learner.width == COLB_WIDTH_OFUL;
    int data = pp->cmlb_threshold == COLB_THRESHOLD_DATA;
    int radii = (cmlb && data && pp->cmlb_gamma <= 0.0) || (sclb && data);
    int alb = !strcmp(policy, "pmlb") && pp->pmlb_learner == COLB_PMLB_ALB_NORM;
    if (!strcmp(key, "width"))
        return shared;
    if (!strcmp(key, "alpha"))
        return shared && pp->learner.width == COLB_WIDTH_FIXED;
    if (!strcmp(key, "delta"))
        return oful || cmlb || sclb || alb;
    if (!strcmp(key, "learner-noise"))
        return oful || radii || alb || !strcmp(policy, "cohort");
    if (!strcmp(key, "norm-bound"))
        return oful || radii || alb;
    if (!strcmp(key, "cmlb-threshold"))
        return sclb || pp->cmlb_gamma <= 0.0;
    if (!strcmp(key, "club-alpha"))
        return pp->club_own_alpha && !club_tuned;
    if (!strcmp(key, "club-alpha2"))
        return !club_tuned;
    return 1;
}

int colb_sim_spec_param_read(const colb_sim_spec *s, const char *key, unsigned tuned)
{
    if (!s || !colb__param_find(KEYS, N_KEYS, key) || (!s->policies && s->n_policies) ||
        (tuned & ~(COLB_TUNED_WIDTH | COLB_TUNED_CLUB)))
        return -1;
    int read = 0;
    for (size_t i = 0; i < s->n_policies; i++) {
        const char *name = colb_policy_resolve(s->policies[i]);
        if (!name)
            return -1;
        if (!read && policy_reads(&s->policy, name, key, tuned) > 0)
            read = 1;
    }
    return read;
}
