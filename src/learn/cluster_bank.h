/* cluster_bank.h - one learner per group of users (internal): the Oracle
 * (true clusters), the pooled learner (one group), the collaborative phase of
 * CMLB and the common phase of PMLB. All users of a group play the group's
 * arm; at the end of the round the group's learner is updated once with the
 * average reward of the group's users that were observed.
 *
 * Two statistically consistent ways to feed that average y_bar of n rewards:
 *   pooled = 0 (the paper's Algorithm 2, line 10): the learner's noise scale
 *              R/sqrt(|group|) in the OFUL radius, and weight n/|group| (1
 *              in the paper's rounds, which observe every member; a mean of
 *              fewer rewards is noisier: R/sqrt(n));
 *   pooled = 1: weight n with noise scale R, which is exactly the ridge
 *              estimate on all n individual samples; required when the
 *              learner is warm-started from its members' individual data
 *              (each of those samples has noise R, weight 1).
 *
 * colb__clusters_set_mode adds the options of colb_policy_params:
 *   diversify - the members of a group choose one after another against a
 *               per-round hallucinated copy of the group's V^{-1}
 *               (learn/diversify.h) and may play different arms; the round's
 *               rewards then update the group once per distinct arm (the
 *               mean of that arm's rewards, weight m or m/n as above). A
 *               round in which a group serves one user is unchanged;
 *   Thompson sampling - choices are posterior draws (learn/thompson.h):
 *               one per group and round without diversification (all
 *               members play it), one per member with it. */
#ifndef COLB_CLUSTER_BANK_H
#define COLB_CLUSTER_BANK_H

#include "colb/rng.h"
#include "learn/diversify.h"
#include "linalg/ridge.h"

typedef struct colb__clusters {
    colb__ridge r;        /* G models */
    size_t N, G;
    size_t *label;        /* N: group of each user */
    size_t *size;         /* G */
    int pooled;
    size_t *arm;          /* G: the group's arm this round, or (size_t)-1 */
    double *sum;          /* G: sum of this round's rewards */
    size_t *nobs;         /* G: number of this round's rewards */
    colb__touched touched; /* the groups whose arm or rewards this round set */
    colb__scratch s;      /* scores of a block of groups */
    /* colb__clusters_set_mode */
    int diversify;
    colb_rng *rng;        /* non-NULL: Thompson sampling (borrowed) */
    colb__div div;        /* diversify: the round's copies and rewards */
    size_t *mstart, *members; /* diversify: each group's users in user order (CSR) */
    double *ts_work;      /* colb__ts_work(d) */
} colb__clusters;

/* G groups given by label[0..N) (copied, each in [0, G), every group
 * non-empty is not required). */
colb_status colb__clusters_init(colb__clusters *c, size_t N, size_t d, const colb_learner_params *p,
                                const size_t *label, size_t G, int pooled);
void colb__clusters_free(colb__clusters *c);
colb_status colb__clusters_reserve(colb__clusters *c, size_t K);

/* Diversify within rounds (0/1) and choose by Thompson sampling with draws
 * from rng (borrowed, NULL: UCB). Call after init, before the first round. */
colb_status colb__clusters_set_mode(colb__clusters *c, int diversify, colb_rng *rng);

/* Forget this round's arms and rewards (call at the start of every round). */
void colb__clusters_begin(colb__clusters *c);

size_t colb__clusters_choose(colb__clusters *c, size_t u, const double *X, size_t K);
void colb__clusters_choose_all(colb__clusters *c, const double *X, size_t K, size_t *arms);
/* User u, served `arm` this round, got reward y. */
void colb__clusters_observe(colb__clusters *c, size_t u, size_t arm, double y);

/* Update every group that received rewards this round (X: the round's
 * contexts). */
void colb__clusters_end(colb__clusters *c, const double *X);

/* Users added online (between rounds): n users N..N+n-1 join the groups
 * labels[0..n) (each < G); the groups' sizes and, without pooled updates,
 * their noise scales R/sqrt(size) follow. COLB_ENOMEM leaves c unchanged. */
colb_status colb__clusters_add_users(colb__clusters *c, size_t n, const size_t *labels);

/* Add n groups G..G+n-1 with fresh learners and no members yet (between
 * rounds). COLB_ENOMEM leaves c unchanged. */
colb_status colb__clusters_add_groups(colb__clusters *c, size_t n);

#endif
