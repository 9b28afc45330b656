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
#include "core/team.h"
#include "core/util.h"
#include "persist/snapshot.h"

typedef struct colb__policy_vt {
    const char *name;
    int sequential;                                   /* updates in observe */
    int blind;                                        /* never reads the contexts (random) */
    /* a round's choices by upper confidence bounds change nothing that
     * outlives the round (the round's own scratch aside):
     * colb_policy_choices_leave_no_state, which says 0 under Thompson
     * sampling (its draws advance the saved generator);
     * tests/test_snapshot.c checks it for every policy that sets it */
    int quiet_choices;
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
    /* Optional batch form of observe for every user u (arms[u], rewards[u]),
     * all validated; must equal observe called for u = 0..N-1 (LinUCB-Ind:
     * its users' updates applied on its team). NULL: observe is looped. */
    colb_status (*observe_all)(colb_policy *p, const size_t *arms, const double *rewards);
    colb_status (*end_round)(colb_policy *p);
    colb_status (*user_theta)(const colb_policy *p, size_t u, double *theta); /* may be NULL */
    /* Optional: where user u's estimate (d doubles, what user_theta would
     * copy) is held, for the guard to check in place; NULL: the guard
     * copies it with user_theta. (A check of the copy reads back, with
     * wider loads, the bytes the copy just stored: in a round of one user
     * that stall was 5-7 % of the per-user protocol's CLUB on Last.FM, d =
     * 25; performance-history.md, phase 47.) */
    const double *(*user_theta_ref)(const colb_policy *p, size_t u);
    colb_status (*clusters)(const colb_policy *p, size_t *labels, size_t *n); /* may be NULL */
    /* A hint that user u is served next, alone (the per-user protocol):
     * start fetching its state into the caches. No effect on any result.
     * May be NULL. */
    void (*prefetch_user)(const colb_policy *p, size_t u);
    /* Memory budget (issue 17): the bytes create allocates for pp, an
     * estimate within a small factor; NULL: nothing worth counting. */
    double (*memory)(const colb_policy_params *pp);
    /* The bytes begin_round allocates in the policy itself for a round of
     * K arms (scratch sized by K, which it keeps for later rounds: cohort's
     * per-cluster scores), beyond `memory` and colb__policy_round_bytes;
     * NULL: none. */
    double (*round_memory)(const colb_policy_params *pp, size_t K);

    /* ---- persistence and users added online (src/policies/policy_persist.c,
     * policy_users.c; format in docs/format.md). Every policy implements
     * save and load: tests/test_snapshot.c round-trips every name of
     * colb_policy_names() and fails for a policy without them.
     *
     * save: write the impl's state as named fields into w (the generic layer
     *   has opened the group "state" and writes name, parameters, N, d,
     *   rounds, info and the oracle's labels itself). Called only between
     *   rounds. Write everything the next rounds depend on - learners,
     *   schedules, RNG states, counters - and nothing derived that load can
     *   recompute exactly (scratch, transposed copies). Banks have their
     *   writers in bank_persist.h. Errors are sticky in w: return
     *   colb__snap_status(w).
     * load: build p->impl from the group g that save wrote. The generic
     *   fields are set (vt, pp, N, d, labels, rounds, info). Check every
     *   count against the file before allocating (colb__snap_get_* and the
     *   bank loaders do) and every index and counter that later code trusts
     *   (a label below its bound, a phase number that cannot overflow);
     *   memory not backed by the file's own arrays goes through
     *   colb__snap_reserve first. On error return the status (the reader
     *   holds the message); the generic layer then calls destroy, which must
     *   cope with a half-built impl (NULL fields).
     *   A typical pair, for a policy with one user bank and a counter:
     *       static colb_status x_save(const colb_policy *p, colb__snap_out *w) {
     *           const x *s = p->impl;
     *           colb__snap_u64(w, "phase", s->phase);
     *           colb__users_save(w, "users", &s->users);
     *           return colb__snap_status(w);
     *       }
     *       static colb_status x_load(colb_policy *p, colb__snap_in *in,
     *                                 const colb__snap_group *g) {
     *           x *s = calloc(1, sizeof *s);
     *           if (!s) return COLB_ENOMEM;
     *           p->impl = s;
     *           colb_status st = colb__snap_get_size(in, g, "phase", 0, 62, &s->phase);
     *           return st ? st : colb__users_load(in, g, "users", &s->users, p->N, p->d,
     *                                             &p->pp.learner);
     *       }
     * add_users: make room for n users N..N+n-1 (p->N is still the old N;
     *   the generic layer grows its own arrays and p->N after success).
     *   labels: the new users' true clusters for policies that take them
     *   (oracle; checked by the generic layer against pp.n_clusters), else
     *   NULL. All or nothing: on error the policy must be as before. NULL:
     *   the policy does not take users online (COLB_EUNSUP; say why in
     *   docs/algorithms.md). Called only between rounds. */
    colb_status (*save)(const colb_policy *p, colb__snap_out *w);
    colb_status (*load)(colb_policy *p, colb__snap_in *in, const colb__snap_group *g);
    colb_status (*add_users)(colb_policy *p, size_t n, const size_t *labels);

    /* ---- threads inside a round (issue 14) ----
     * set_threads: use up to `threads` threads from now on (1: the caller's
     *   only; the generic layer has checked it and sets pp.threads after
     *   success); decisions must not depend on it.
     *   Called between rounds, e.g. on a policy just loaded (threads belong
     *   to the running process and are not saved). NULL: one thread. */
    colb_status (*set_threads)(colb_policy *p, size_t threads);
    /* all_sane (optional): 1 when every user's estimate is finite and
     * within COLB__THETA_MAX (core/util.h), 0 when one is not, -1 when it
     * cannot tell cheaply; lets the end-of-round
     * guard skip its per-user user_theta calls (policy.c, guard). */
    int (*all_sane)(const colb_policy *p);

    /* ---- tests: a round's carried scores (linalg/round_scores.h) ----
     * cache_check: recompute from the models what the policy carries
     *   through the round instead of recomputing it (means and quadratic
     *   forms on the round's arms) and give the largest relative difference
     *   and how many models hold carried values now.
     * cache_off: 1 = carry nothing, score every model afresh at each choose
     *   (the reference the tests compare decisions with); 0 = carry.
     * NULL: the policy carries nothing. */
    colb_status (*cache_check)(const colb_policy *p, double *max_rel, size_t *n_cached);
    void (*cache_off)(colb_policy *p, int off);
    /* state_check (tests, optional): recompute from the policy's primary
     * data what it keeps derived (LOCB: every neighbourhood's aggregate
     * from its members' models, and which neighbourhoods share one) and
     * give the largest relative difference (INFINITY when the structure is
     * broken) and how many derived models there are. */
    colb_status (*state_check)(const colb_policy *p, double *max_rel, size_t *n_models);
} colb__policy_vt;

#define COLB__NO_ARM ((size_t)-1)

/* The bytes a round of K arms in dimension dim allocates beyond the
 * policy's own memory (the contexts and the scoring scratch of a block of
 * models): what colb_policy_round_check checks. */
double colb__policy_round_bytes(size_t dim, size_t K);

/* colb__policy_round_bytes(pp->dim, K) and the policy's own scratch for the
 * round (vt->round_memory): what a round of K arms adds to the memory of
 * policy vt with parameters pp. */
double colb__policy_round_bytes_for(const colb__policy_vt *vt, const colb_policy_params *pp, size_t K);

/* The registry entry of `name`, or NULL (policy.c). */
const colb__policy_vt *colb__policy_find(const char *name);

/* A policy's generic part for parameters pp (validated), impl NULL; the
 * oracle's labels copied from pp->true_cluster. NULL when out of memory. */
colb_policy *colb__policy_alloc(const colb__policy_vt *vt, const colb_policy_params *pp);

/* Allocate the round bookkeeping (chosen, observed, served) for p->N users and
 * the d-vector of the finite-state guard. */
colb_status colb__policy_alloc_rounds(colb_policy *p);

/* Let p use `threads` threads inside a round (its set_threads hook; sets
 * pp.threads). Between rounds only. COLB_ENOMEM, COLB_ERANGE (above what the
 * policy's check allows). */
colb_status colb__policy_set_threads(colb_policy *p, size_t threads);

/* COLB_OK when the kernel path COLB_KERNEL names (unset or empty: the
 * CPU's fastest) runs on this CPU; else its status (COLB_EINVAL unknown,
 * COLB_EUNSUP not on this CPU) with the message in p->err. For the create
 * hooks of the policies that compute with it. */
colb_status colb__policy_kernel_check(colb_policy *p);

/* Tests: the policy's cache_check / cache_off hooks (policy_impl.h).
 * COLB_EINVAL for NULL arguments, COLB_EUNSUP when the policy has none. */
colb_status colb__policy_cache_check(const colb_policy *p, double *max_rel, size_t *n_cached);
colb_status colb__policy_cache_off(colb_policy *p, int off);

/* Tests: the policy's state_check hook (policy_impl.h). COLB_EINVAL for
 * NULL arguments, COLB_EUNSUP when the policy has none. */
colb_status colb__policy_state_check(const colb_policy *p, double *max_rel, size_t *n_models);

/* 1 when a policy that plans by the horizon (CMLB, PMLB) must plan without
 * it: anytime requested, or the horizon unknown (0). */
static inline int colb__anytime(const colb_policy_params *pp)
{
    return pp->anytime || pp->horizon == 0;
}

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
    /* finite-state guard (issue 17): set when an update left a user's
     * estimate non-finite; every later call then fails with COLB_ENUMERIC */
    int failed;
    double *X_guard;         /* d: scratch of the guard */
    /* the generic layer's tests of contexts and estimates (kern->bounded;
     * any path: one answer; the guard's test is bounded(.., COLB__THETA_MAX)),
     * picked at create rather than at every begin_round */
    const struct colb__soa_kernel *check_kern;
    /* users chosen one at a time this round (colb_policy_choose), so that
     * end_round resets only their entries of chosen/observed: O(served), not
     * O(N), per round (the per-user protocol opens a round per user) */
    size_t *served;          /* N */
    size_t n_served;
    int served_all;          /* choose_all filled every entry */
    int unguarded;           /* this round's observes skipped the guard (observe_all) */
    /* Thompson sampling (pp.sampling): the policy's own stream of pp.seed,
     * COLB__STREAM_TS, seeded by the generic layer at create */
    colb_rng ts_rng;
    /* during colb__policy_choose_all_with: its side task, which a
     * vt->choose_all with a team of threads runs alongside its scoring
     * (core/team.h; the task marks itself done); else NULL */
    colb__task *side;
};

/* The policy's own buffer for a round's contexts, grown to K x d: between
 * rounds a caller may write the next round's contexts there (the last
 * round's are then gone: no policy reads them after its end_round) and give
 * it to colb__policy_begin_round_bounded (no copy). NULL within a round, on
 * a bad K or out of memory (p->err set then). */
double *colb__policy_round_buffer(colb_policy *p, size_t K);

/* colb_policy_begin_round for contexts already known to be finite and
 * within COLB_CONTEXT_MAX (the simulator's, from an environment that checked
 * every context it can show, colb_env.contexts_bounded): the same without
 * the check of each entry, and without a copy when X is the buffer of
 * colb__policy_round_buffer. */
colb_status colb__policy_begin_round_bounded(colb_policy *p, const double *X, size_t K);

/* 1 when p's choices never depend on the round's contexts (vt->blind, the
 * random policy): a simulator may then leave colb__policy_round_buffer's
 * contents unwritten. */
int colb__policy_is_blind(const colb_policy *p);

/* vt->prefetch_user(p, u) where the policy has one (u < N); else nothing. */
void colb__policy_prefetch_user(const colb_policy *p, size_t u);

/* colb_policy_choose_all, with side (may be NULL; core/team.h) run once
 * before this returns, whatever the outcome: alongside the choice when the
 * policy scores on a team of threads (LinUCB-Ind), else after it. side must
 * not touch p. The simulator draws the next round this way. */
colb_status colb__policy_choose_all_with(colb_policy *p, size_t *arms, colb__task *side);

/* Stream of a policy's seed that its Thompson draws come from ("Thompson"). */
#define COLB__STREAM_TS UINT64_C(0x54686f6d70736f6e)

/* 1 when the policy's learners choose by Thompson sampling. */
static inline int colb__policy_ts(const struct colb_policy *p)
{
    return p->pp.sampling == COLB_SAMPLING_TS;
}

#endif
