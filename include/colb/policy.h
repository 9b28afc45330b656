/* colb/policy.h - multi-agent bandit policies: one center serving N users.
 *
 * Protocol (the same for a simulator and for an application serving real
 * users online). Each round:
 *
 *   colb_policy_begin_round(p, X, K)     K contexts (K x d, copied), shared by
 *                                        every user served this round;
 *   colb_policy_choose(p, u, &arm)       for each user u served this round
 *   colb_policy_observe(p, u, arm, y)    (at most once per user per round;
 *                                        observe only after choose, with the
 *                                        chosen arm);
 *   colb_policy_end_round(p)             applies any deferred updates.
 *
 * Batch forms serve every user at once: colb_policy_choose_all and
 * colb_policy_observe_all (the simulator uses them; batching is where the
 * speed comes from). Users need not all be served in a round.
 *
 * Some policies update at once in observe (CLUB: colb_policy_is_sequential
 * returns 1, and the order in which users are served matters); others update
 * at end_round (a cluster learner averages the rewards of its users).
 *
 * Every call validates its arguments and, on error, returns a status, leaves
 * the policy unchanged, and records a message (colb_policy_last_error) -
 * but the read-only calls on a const policy (colb_policy_user_theta,
 * colb_policy_clusters), which record nothing: their status says what
 * failed (each lists its own), and colb_policy_last_error still describes
 * the last failed call that changes the policy. A policy is not
 * thread-safe; distinct policies are independent.
 *
 * Policy names: "cohort" (alias "recommended": colb's own collaborative
 * policy), "linucb-ind", "oracle", "random", "cmlb", "sclb", "club",
 * "pmlb", "pooled", "oracle-batch", "oracle-seq", "sclub", "locb"
 * (colb_policy_names lists them). */
#ifndef COLB_POLICY_H
#define COLB_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "colb/learner.h"
#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum colb_threshold {
    COLB_THRESHOLD_PAPER = 0, /* gamma = 3 / (N T)^alpha (Lemma 1) */
    COLB_THRESHOLD_DATA = 1   /* gamma from the estimates' own confidence widths */
} colb_threshold;

typedef enum colb_club_graph {
    COLB_CLUB_COMPLETE = 0,   /* initial graph: complete (the CLUB paper's theory) */
    COLB_CLUB_RANDOM = 1      /* Erdos-Renyi with p = 3 ln(N) / N (its experiments) */
} colb_club_graph;

typedef enum colb_pmlb_learner {
    COLB_PMLB_ALB_NORM = 0,   /* ALB-norm of Ghosh, Sankararaman, Ramchandran 2021 */
    COLB_PMLB_LINUCB = 1      /* plain learner (the paper's experiments) */
} colb_pmlb_learner;

typedef enum colb_sampling {
    COLB_SAMPLING_UCB = 0,    /* optimism: <x, theta> + width ||x||_{V^-1} */
    COLB_SAMPLING_TS = 1      /* Thompson sampling: <x, theta~>, theta~ ~ N(theta, width^2 V^-1) */
} colb_sampling;

typedef struct colb_policy_params {
    size_t users;             /* N >= 1 */
    size_t dim;               /* d in [1, COLB_MODEL_DIM_MAX = 4096]; random
                                 takes up to COLB_DIM_MAX */
    size_t horizon;           /* T, rounds (CMLB and PMLB plan by it); 0: unknown
                                 (CMLB and PMLB then run in anytime mode) */
    colb_learner_params learner; /* lambda, width, alpha, noise R, S, delta of every
                                    OFUL/LinUCB learner inside the policy */
    uint64_t seed;            /* randomness of the policy itself (random arms,
                                 CLUB's random graph) */
    int pooled_updates;       /* how a group learner (oracle, pooled, CMLB's
                                 clusters, PMLB's common phase) takes the
                                 average y of its n users' rewards: 0 (the
                                 paper) weight 1 with noise scale R/sqrt(n);
                                 1 weight n with noise scale R, which equals
                                 pooling the n samples. Default 1 (colb's
                                 reading; 0 is the paper's). */

    /* CMLB (Algorithm 2) and SCLB (Algorithm 1) */
    double cmlb_alpha;        /* alpha in (0, 1/2] (the theory needs < 1/2; the
                                 paper's Last.FM run uses 1/2); default 0.2 */
    double cmlb_C;            /* C >= 0 (0: no individual phase, all users
                                 clustered at once); default 0.2 */
    double cmlb_gamma;        /* threshold; <= 0 means the rule in cmlb_threshold */
    double cmlb_pstar;        /* p* in [0, 1]; default 0 */
    colb_threshold cmlb_threshold; /* default COLB_THRESHOLD_PAPER */
    int cmlb_warm_start;      /* 1: cluster learners start from their members'
                                 pooled individual-phase data (implies
                                 pooled_updates for them); default 1 (0: the
                                 paper's fresh start) */

    /* CLUB (Gentile, Li, Zappella 2014) */
    double club_alpha;        /* exploration, >= 0; default 1; used only with
                                 club_own_alpha = 1 (below) */
    double club_alpha2;       /* edge-deletion constant, > 0; default 2 */
    colb_club_graph club_graph; /* default COLB_CLUB_COMPLETE */

    /* PMLB (Algorithm 4) */
    colb_pmlb_learner pmlb_learner; /* default COLB_PMLB_ALB_NORM */

    /* The users' true clusters (N labels in [0, n_clusters): COLB_ERANGE
     * otherwise, for every policy), needed by the oracles; borrowed for
     * colb_policy_create only (copied). */
    const size_t *true_cluster;
    size_t n_clusters;

    /* Memory budget (colb/limits.h): create fails with COLB_ENOMEM when the
     * policy would need more bytes; 0 means colb_memory_budget_default();
     * at most COLB_MEMORY_MAX (1024T; colb_policy_params_check: COLB_ERANGE
     * beyond, as colb_policy_set_max_memory). */
    size_t max_memory;
    /* Anytime mode (CMLB, PMLB): plan without the horizon by a doubling
     * schedule of the phases that depend on it (docs/algorithms.md). 0
     * (default): plan by `horizon`. A horizon of 0 (unknown) implies it. */
    int anytime;

    /* Threads a policy may use inside one round (LinUCB-Ind splits its
     * users' scoring and updates over them; other policies ignore it). 0 or
     * 1: the caller's thread only; at most COLB_POLICY_THREADS_MAX (256,
     * colb/limits.h). Decisions do not depend on it. Default 1. The
     * simulator sets it to its threads per job. Not saved in snapshots (a
     * property of the running process): a loaded policy uses 1. */
    size_t threads;

    /* cohort, colb's recommended policy (docs/algorithms.md, "cohort") */
    double cohort_delta;      /* confidence of its split, merge and outlier
                                 tests, in (0, 1); default 0.1 */
    int cohort_personal;      /* 1: personal estimates shrunk toward the
                                 cluster's model (empirical Bayes); 0: every
                                 member uses the cluster's model. Default 1 */
    int cohort_soft;          /* 1: while a user's assignment is uncertain
                                 its centre mixes its cluster's model and the
                                 runner-up's; default 1 */
    size_t cohort_seeds;      /* members tried as seeds of a split proposal,
                                 >= 1; default 4 */
    int cohort_estimate_noise; /* 1 (default): the noise scale R of its
                                 tests and shrinkage is estimated at every
                                 epoch from the users' residuals,
                                 learner.noise being a prior worth d
                                 observations; 0: R = learner.noise */

    /* Fair comparisons (docs/algorithms.md, "One width for all" and after) */
    int diversify;            /* 1 (default): a group learner that serves several
                                 users in one round (oracle, pooled, CMLB's
                                 clusters, SCLB, PMLB's common phase) updates a
                                 per-round copy of its V^-1 with each choice
                                 before the next member chooses (hallucinated,
                                 no reward); the real rewards are applied at
                                 end_round. 0: every member plays the group's
                                 arm. "oracle-batch" ignores it (always 0). */
    colb_sampling sampling;   /* how every ridge learner turns its state into
                                 a choice; default COLB_SAMPLING_UCB. Thompson
                                 draws come from the policy's own stream of
                                 `seed`. */
    int club_own_alpha;       /* 0 (default): CLUB explores with the learners'
                                 width like every policy (bonus width *
                                 ||x||_{M^-1}); 1: with club_alpha and the
                                 published bonus club_alpha * sqrt(x^T M^-1 x
                                 ln(t + 1)) - an override, not equal footing */
    double sclub_alpha;       /* SCLUB split/merge constant alpha > 0; default 1 */
    double sclub_alpha_p;     /* SCLUB frequency constant alpha_p > 0; default 1 */
    size_t locb_seeds;        /* LOCB: number of seed users >= 1 (at most N are
                                 used); default 20 */
    double locb_gamma;        /* LOCB: a seed's neighbourhood is final once
                                 F(T_seed) <= gamma / 4; > 0, default 0.2 */
} colb_policy_params;

typedef struct colb_policy colb_policy;

/* Fill `p` with the defaults above (users and dim are 0 and must be set;
 * horizon 0 means unknown; learner from colb_learner_params_default); NULL
 * harmless. */
void colb_policy_params_default(colb_policy_params *p);

/* Check `p` for policy `name`; on failure writes a one-line reason naming the
 * bad field into msg (msg_len bytes, may be NULL). */
colb_status colb_policy_params_check(const char *name, const colb_policy_params *p,
                                     char *msg, size_t msg_len);

/* Create policy `name` with parameters `p` (copied, including the oracle's
 * labels). Errors: COLB_ENOTFOUND (unknown name), those of
 * colb_policy_params_check, COLB_ENOMEM. On error *out is NULL and, if msg
 * is not NULL, a reason is written there. */
colb_status colb_policy_create(const char *name, const colb_policy_params *p,
                               colb_policy **out, char *msg, size_t msg_len);

/* Free; NULL harmless. */
void colb_policy_free(colb_policy *p);

/* An estimate of the bytes colb_policy_create(name, p) allocates (within a
 * small factor; without the K-dependent scratch of a round). Errors:
 * COLB_ENOTFOUND, COLB_EINVAL (NULL). O(1). */
colb_status colb_policy_memory(const char *name, const colb_policy_params *p, double *bytes);

/* NULL-terminated list of the policy names (static), the recommended policy
 * ("cohort") first. */
const char *const *colb_policy_names(void);

/* 1 if policy `name` needs the true clusters (colb_policy_params.true_cluster):
 * "oracle", "oracle-batch", "oracle-seq"; 0 otherwise (also for NULL). */
int colb_policy_needs_true_clusters(const char *name);

/* The registered name of policy `name`, which may also be an alias
 * ("recommended" is "cohort"); NULL when unknown. Static string. */
const char *colb_policy_resolve(const char *name);

/* The kernel path the policies compute with in this process: "avx512",
 * "avx2" or "portable" (static string) - the one the environment variable
 * COLB_KERNEL names, else (unset or empty) the fastest this CPU runs. NULL
 * when COLB_KERNEL names one that is unknown or that this CPU cannot run
 * (creating a policy that needs it then fails). The AVX-512 and AVX2 paths
 * compute the same bits; the portable one may differ in the last bits, and
 * so flip a near tie between two arms. Reads the environment on every call. */
const char *colb_kernel_path(void);

/* The policy's name (static string). */
const char *colb_policy_name(const colb_policy *p);

/* 1 if the policy updates immediately in observe, so that the order in which
 * users are served within a round matters (CLUB); 0 otherwise. */
int colb_policy_is_sequential(const colb_policy *p);

/* Start a round with K >= 1 contexts X (K x d row-major, copied, every
 * |entry| <= COLB_CONTEXT_MAX). Errors: COLB_EINVAL (NULL, K == 0),
 * COLB_ENONFIN, COLB_ERANGE (an entry beyond COLB_CONTEXT_MAX, or K x d
 * beyond 2^40 entries), COLB_ESTATE (a round is already open), COLB_ENOMEM
 * (K over the memory budget: colb_policy_round_check_for for the policy's
 * users, made when K is more than any earlier round's; or out of memory),
 * COLB_ENUMERIC (the policy is fenced, see below). */
colb_status colb_policy_begin_round(colb_policy *p, const double *X, size_t K);

/* What a round of K arms allocates beyond the policy's own memory (the K
 * contexts and the scoring scratch of a block of models, in dimension
 * p->dim) checked alone against the budget p->max_memory (0 means
 * colb_memory_budget_default()). It does not depend on the users or the
 * policy: a round it refuses, every policy's begin_round refuses, for any
 * users. Under the default budget it is begin_round's check (with the
 * scratch a policy keeps for the round, if any: "cohort"); under a
 * budget the caller set, begin_round checks the round with the policy's
 * own memory (colb_policy_round_check_for), which a round that passes this
 * check may exceed.
 * Errors: COLB_EINVAL (NULL p, dim or K 0), COLB_ERANGE (K x dim beyond
 * 2^40 entries), COLB_ENOMEM (beyond the budget); the reason in msg (when
 * not NULL). Thread-safe; O(1) (reads /proc with the default budget when
 * the round needs more than its least, 64 MiB). */
colb_status colb_policy_round_check(const colb_policy_params *p, size_t K, char *msg, size_t msg_len);

/* The memory budget check colb_policy_begin_round makes for a round of K
 * arms by policy `name` with p->users users (0: not created yet), on
 * parameters alone: under a budget the caller set (p->max_memory > 0) the
 * policy's memory (colb_policy_memory of p) and the round's together must
 * fit it - a policy and a round that each fit could otherwise take up to
 * twice the budget; under the default budget (0) the round's alone (the
 * default budget is read from the memory available when the round comes,
 * which the policy already takes from). The round's: what
 * colb_policy_round_check counts, and the scratch the policy keeps for
 * rounds of K arms ("cohort": 2 K doubles per cluster slot, the slots at
 * their worst, and the K packed outer products; none for most policies,
 * whose check under the default budget is then colb_policy_round_check's). colb_policy_add_users checks the
 * same sum for its new users with the most arms of a round so far. So a
 * caller that adds users for a round can make it first, for the users it
 * will then have, and refuse the round with nothing changed (colb serve
 * does): a round that passes it passes begin_round's check, and the users'
 * add_users check if no earlier round had more arms, under the same
 * budget. Errors: COLB_EINVAL (NULL name or p, dim or K 0),
 * COLB_ENOTFOUND (unknown name), COLB_ERANGE (K x dim beyond 2^40 entries,
 * max_memory beyond COLB_MEMORY_MAX), COLB_ENOMEM (beyond the budget); the
 * reason in msg (when not NULL), the one begin_round records. Thread-safe;
 * O(1) (reads /proc with the default budget when the round needs more than
 * its least, 64 MiB). */
colb_status colb_policy_round_check_for(const char *name, const colb_policy_params *p, size_t K, char *msg,
                                        size_t msg_len);

/* Choose an arm for user u in [0, N). Choosing twice in a round returns the
 * same arm. Errors: COLB_ESTATE (no open round), COLB_ERANGE (u >= N). */
colb_status colb_policy_choose(colb_policy *p, size_t u, size_t *arm);

/* Choose for every user: arms[0..N). */
colb_status colb_policy_choose_all(colb_policy *p, size_t *arms);

/* Report user u's reward y for `arm`, which must be the arm chosen for u this
 * round. Errors: COLB_ESTATE (no round, or u not chosen, or observed
 * already), COLB_ERANGE (u or arm out of range, |y| > COLB_REWARD_MAX),
 * COLB_EINVAL (arm differs from the chosen one), COLB_ENONFIN (y not
 * finite).
 *
 * Finite-state guard: after every update (observe of a sequential policy,
 * end_round of the others) the estimates of the users it touched are
 * checked; inputs within colb/limits.h keep them finite, and a numerical
 * failure that does not is returned as COLB_ENUMERIC, after which the
 * policy is fenced: every later call that would use or change its state
 * (rounds, updates, add_users, set_max_memory, save, user_theta, clusters)
 * returns COLB_ENUMERIC
 * (its state is not restored; create a new policy). So does a policy's own
 * numerical failure in an update (an aggregate that is no longer positive
 * definite). */
colb_status colb_policy_observe(colb_policy *p, size_t u, size_t arm, double y);

/* Observe every user: arms[0..N) as returned by choose_all, rewards[0..N).
 * Validates all entries before applying any. */
colb_status colb_policy_observe_all(colb_policy *p, const size_t *arms, const double *rewards);

/* Close the round, applying deferred updates. COLB_ESTATE if no round is open. */
colb_status colb_policy_end_round(colb_policy *p);

/* Number of completed rounds. */
uint64_t colb_policy_rounds(const colb_policy *p);

/* The policy's current estimate of user u's parameter (d values). Errors
 * (no message recorded): COLB_EINVAL (NULL), COLB_ERANGE (u >= users),
 * COLB_ENUMERIC (an earlier call failed numerically: the state is not
 * trusted), COLB_EUNSUP (random). */
colb_status colb_policy_user_theta(const colb_policy *p, size_t u, double *theta);

/* The clusters the policy currently uses, if it clusters users: labels[0..N)
 * in [0, *n_clusters). Errors (no message recorded): COLB_EINVAL (NULL),
 * COLB_ENUMERIC (as above), COLB_EUNSUP for policies without clusters. */
colb_status colb_policy_clusters(const colb_policy *p, size_t *labels, size_t *n_clusters);

/* A short free-form line about the policy's state worth logging (e.g. the
 * clusters found by CMLB, the chosen CLUB parameters); "" if none. Owned by p. */
const char *colb_policy_info(const colb_policy *p);

/* The message of the last failed call on p, or "". Owned by p. */
const char *colb_policy_last_error(const colb_policy *p);

/* 1 when p's choices leave no trace in its state: a round of choices and
 * no observations (begin_round, choose, end_round) leaves the state that
 * begin_round and end_round alone leave, whatever the contexts - so a log
 * replayed to rebuild p may keep only the chosen contexts and replay such
 * a round without its choices (colb serve's compact choose records). 0
 * for a policy whose choices draw random numbers (Thompson sampling
 * included) or count; 0 for NULL. Which policies: docs/algorithms.md. */
int colb_policy_choices_leave_no_state(const colb_policy *p);

/* ---- users added online ------------------------------------------------- */

/* Add n users, numbered N..N+n-1 (N the current number), between rounds.
 * They start as a new user would at creation: no data of their own (their
 * learners are fresh), in the policy's current phase. What each policy
 * does with a newcomer (e.g. CMLB after clustering: a cluster of its own
 * until the next clustering) is in docs/algorithms.md.
 *
 * labels: the new users' true clusters (n values), or NULL. Only the
 * oracles (colb_policy_needs_true_clusters) use true clusters: they need
 * labels, each below params.n_clusters. The other policies never use
 * them, whatever they are given:
 *   - one that holds true clusters (given at creation, kept so far) checks
 *     labels as the oracle does and keeps them with its others (in
 *     colb_policy_params_of and in its snapshots); given NULL, it forgets
 *     all of them (n_clusters becomes 0);
 *   - one that holds none ignores labels: they are not read, not checked
 *     and not kept (it still holds none).
 * A caller may thus pass the labels it has to any policy.
 * Supported: every policy but club. Errors:
 * COLB_EINVAL (NULL, labels missing), COLB_ERANGE (a label out of range, or
 * too many users), COLB_ESTATE (a round is open), COLB_EUNSUP (a policy that
 * cannot take users online: club, whose user graph only ever loses edges),
 * COLB_ENOMEM (out of memory, or beyond params.max_memory when it was set:
 * the policy with its N + n users and its round of the most arms so far
 * together, as begin_round checks them, colb_policy_round_check_for; the
 * default budget, which moves with the machine's load, is not applied
 * here); on error the policy is unchanged. Cost: the memory of n new
 * users plus a reallocation of the per-user arrays (O(N d^2) copied). */
colb_status colb_policy_add_users(colb_policy *p, size_t n, const size_t *labels);

/* The number of users N (grows with colb_policy_add_users). */
size_t colb_policy_users(const colb_policy *p);

/* Set p's memory budget (params.max_memory) for what it allocates from
 * now on: colb_policy_add_users refuses users beyond it (COLB_ENOMEM, p
 * unchanged) and begin_round a K beyond it (with the policy's own memory:
 * colb_policy_round_check_for). 0 means
 * colb_memory_budget_default(), as at creation (which add_users does not
 * apply: see above). The budget is a limit of the process, not part of the
 * policy's state: a snapshot does not store it, and a loaded policy has 0
 * until the process that loaded it gives its own here (e.g. a service that
 * resumes and goes on adding users). p keeps what it holds, even when that
 * is more than the new budget; only growth is refused. Errors: COLB_EINVAL
 * (NULL p), COLB_ERANGE (more than COLB_MEMORY_MAX, colb/limits.h). Thread safety: a change of p (one thread at a time). O(1). */
colb_status colb_policy_set_max_memory(colb_policy *p, size_t max_memory);

/* ---- one observation outside a round (issue 16) ------------------------ */

/* Update user u's learning with one observation: reward y for context x
 * (d values, copied), as a one-user round with that single context:
 * begin_round(x, 1), choose(u) (the only arm, 0), observe(u, 0, y),
 * end_round. For an application that learns a reward long after the
 * decision (a service: other rounds ran in between), so that the update
 * sees the decision's context whatever the policy's state is now. It
 * counts as a round (colb_policy_rounds grows by 1) and changes the state
 * exactly as those four calls would, so a log of such calls replays bit
 * for bit. Call between rounds. Errors: COLB_EINVAL (NULL), COLB_ESTATE
 * (a round is open), COLB_ERANGE (u >= N, an entry of x beyond
 * COLB_CONTEXT_MAX, |y| > COLB_REWARD_MAX), COLB_ENONFIN (x or y not
 * finite), COLB_ENUMERIC (the policy is fenced, or this update fenced it:
 * colb_policy_observe); on the argument errors the policy is unchanged.
 * Cost: one round of one user with one context (O(d^2) for LinUCB-Ind; a
 * policy's own end-of-round work otherwise), independent of N. */
colb_status colb_policy_update(colb_policy *p, size_t u, const double *x, double y);

#ifdef __cplusplus
}
#endif
#endif
