/* policy_impl.h - the interface every policy implements (internal).
 *
 * A policy is a table of functions (the redis dictType pattern): adding an
 * algorithm is one new file defining a `const colb__policy_vt` plus one line
 * in the registry of policy.c. The generic layer (policy.c) validates every
 * public call and keeps the round bookkeeping, so implementations receive
 * only valid calls:
 *   - choose(u) is called at most once per user per round (the generic layer
 *     caches the arm), always inside an open round;
 *   - observe(u, arm, y) only for a chosen user, with its chosen arm, once;
 *   - end_round once per round, after the observations.
 * The round's contexts are in p->X (K x d), valid from begin_round to
 * end_round. */
#ifndef COLB_POLICY_IMPL_H
#define COLB_POLICY_IMPL_H

#include "colb/policy.h"
#include "colb/rng.h"
#include "core/util.h"

typedef struct colb__policy_vt {
    const char *name;
    int sequential;                                   /* updates in observe */
    /* Check the parameters this policy uses (generic ones are checked by
     * policy.c); write a reason into msg. May be NULL. */
    colb_status (*check)(const colb_policy_params *pp, char *msg, size_t msg_len);
    colb_status (*create)(colb_policy *p);            /* set p->impl */
    void (*destroy)(colb_policy *p);                  /* free p->impl */
    /* Called after the generic begin_round (p->X, p->K set). May be NULL. */
    colb_status (*begin_round)(colb_policy *p);
    colb_status (*choose)(colb_policy *p, size_t u, size_t *arm);
    /* Optional batch form: arms[u] for every u. NULL: choose is looped. */
    colb_status (*choose_all)(colb_policy *p, size_t *arms);
    colb_status (*observe)(colb_policy *p, size_t u, size_t arm, double y);
    colb_status (*end_round)(colb_policy *p);
    colb_status (*user_theta)(const colb_policy *p, size_t u, double *theta); /* may be NULL */
    colb_status (*clusters)(const colb_policy *p, size_t *labels, size_t *n); /* may be NULL */
} colb__policy_vt;

#define COLB__NO_ARM ((size_t)-1)

struct colb_policy {
    const colb__policy_vt *vt;
    colb_policy_params pp;   /* copy; pp.true_cluster points at `labels` below */
    size_t N, d;
    size_t *labels;          /* oracle's copy of the true clusters, or NULL */
    /* round state */
    int in_round;
    size_t K, X_cap;
    double *X;               /* K x d contexts of the open round */
    size_t *chosen;          /* N: arm chosen this round or COLB__NO_ARM */
    unsigned char *observed; /* N: 1 once observed this round */
    uint64_t rounds;         /* completed rounds */
    void *impl;
    char info[512];
    char err[COLB__ERRLEN];
    /* Thompson sampling (pp.sampling): the policy's own stream of pp.seed,
     * COLB__STREAM_TS, seeded by the generic layer at create */
    colb_rng ts_rng;
};

/* Stream of a policy's seed that its Thompson draws come from ("Thompson"). */
#define COLB__STREAM_TS UINT64_C(0x54686f6d70736f6e)

/* 1 when the policy's learners choose by Thompson sampling. */
static inline int colb__policy_ts(const struct colb_policy *p)
{
    return p->pp.sampling == COLB_SAMPLING_TS;
}

#endif
