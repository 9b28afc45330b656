/* diversify.h - within-round diversification of ridge models that serve
 * several users in one round (internal; src/learn/diversify.c).
 *
 * A group learner (the oracle's true clusters, the pooled learner, CMLB's
 * cluster learners, SCLB, PMLB's common phase, or any policy's own groups)
 * chooses for many users from one model in the same round, before any of
 * their rewards is known; left alone, every member picks the same arm and
 * the group learns about one arm per round. Batch bandits fix this with
 * "hallucinated" updates (Desautels, Krause, Burdick, "Parallelizing
 * exploration-exploitation tradeoffs in Gaussian process bandit
 * optimization", JMLR 2014, GP-BUCB; Chan et al., "Parallelizing contextual
 * linear bandits", 2021): each choice of the round updates a per-round
 * scratch copy A' of the model's inverse covariance A = V^{-1} with the
 * chosen context x as if it had been observed,
 *     A' <- A' - w A'x (A'x)^T / (1 + w x^T A' x)       (Sherman-Morrison),
 * so the next member's bonus width * ||x_k||_{A'} shrinks along what the
 * round already covers. No reward is involved: the estimate theta and the
 * width (the OFUL radius of the real data, or a fixed alpha) stay those of
 * the real model until end of round, when the real rewards are applied.
 *
 * A round of a model g, for the members u1, u2, ... that it serves:
 *   colb__div_begin(v)                              once per round (all models)
 *   a = colb__div_choose(v, r, g, X, K, s, w)       per member, in serving order
 *   colb__div_observe(v, g, a, y)                   per member's reward
 *   colb__div_end(v, r, X, size)                    apply the real rewards
 * The first member of g chooses from the model itself (the scores s, e.g. a
 * row of the batched colb__ridge_scores_many, or NULL to score here): its
 * choice is bit for bit the undiversified one, so a round in which every
 * model serves one user is unchanged by diversification. The copy is opened
 * lazily at the second member (a model that serves one user never pays for
 * it): A is copied and the means <x_k, theta> and quadratic forms x_k^T A x_k
 * of the K arms computed once, O(d^2 + K d^2); every further member then
 * costs O(K d + d^2): its scores are means + width sqrt(quad), and the
 * hallucinated update lowers quad_k by c (x_k^T A'x)^2 in O(K d).
 *
 * colb__div_end applies the observed rewards as one rank-one update per
 * distinct (model, arm) pair, in model order and, within a model, in order
 * of each arm's first observation: y = the mean of the m rewards of that arm,
 * weight m when pooling (size NULL: equal to m separate samples), else
 * weight m / size[g] (the model's noise scale is R/sqrt(size[g]), and a mean
 * of m rewards has noise R/sqrt(m); a round that observes every member has
 * weights that sum to 1, as the paper's averaged update with weight 1 does).
 * With one arm per model this is exactly the undiversified update
 * (colb__clusters_end).
 *
 * The hallucination weight w of a member is the weight its real sample will
 * carry: 1 for a pooling learner, 1/|group| for one that takes the group's
 * average with weight 1.
 *
 * With Thompson sampling (colb__div_set_rng) a member's choice is the argmax
 * of one posterior draw N(theta, width^2 A') (learn/thompson.h): the first
 * member's from A, later members' from the hallucinated copy.
 *
 * The lower-level calls (open, hallucinate, copy_scores) are there for
 * policies that organise their rounds differently; colb__div_choose is built
 * on them. Everything is deterministic and depends only on the call
 * sequence. No allocation after colb__div_reserve, except the pool of copies
 * growing to the most models opened in one round (amortised, by doubling).
 * Not thread-safe. */
#ifndef COLB_DIVERSIFY_H
#define COLB_DIVERSIFY_H

#include <stddef.h>

#include "colb/rng.h"
#include "core/touched.h"
#include "linalg/ridge.h"

typedef struct colb__div {
    size_t G, d, obs_cap, K_cap;
    colb_rng *rng;          /* borrowed; non-NULL: Thompson sampling */
    /* per model, this round */
    size_t *served;         /* G: members chosen so far */
    size_t *first_arm;      /* G: the first member's arm */
    size_t *slot;           /* G: index of the open copy, or (size_t)-1 */
    size_t *head, *tail;    /* G: the model's reward entries (a list) */
    size_t *nobs;           /* G: rewards observed */
    colb__touched touched;  /* the models this round chose, opened or observed */
    /* open copies: slot s holds A' (d x d), mean and quad (K_cap each) */
    size_t n_open, slot_cap;
    double *A, *mean, *quad;
    /* reward entries: one per distinct (model, arm) observed this round */
    size_t n_entries;
    size_t *e_arm, *e_cnt, *e_next; /* obs_cap */
    double *e_sum;          /* obs_cap */
    double *u, *scores, *work; /* d; K_cap; colb__ts_work(d) */
    double *rwork;          /* colb__ridge_scores_work(d, K_cap) */
    /* the round's contexts transposed (d x Kp, Kp = K rounded up to 8), made
     * by the round's first open; t: Kp scratch */
    double *Xt, *t;
    size_t Kp;
    int xt_ready;
    const struct colb__soa_kernel *kern; /* colsum, rank1_sub (soa_kernel.h) */
} colb__div;

/* Allocate for G models of dimension d and at most obs_cap observations per
 * round (the number of users). COLB_ENOMEM (the struct is then safe to free). */
colb_status colb__div_init(colb__div *v, size_t G, size_t d, size_t obs_cap);

/* The bytes colb__div_init(G, d, obs_cap) and a round's copies take at most
 * (one copy per model that serves two or more users: min(G, obs_cap / 2)),
 * without the O(K) parts (memory budgets). */
double colb__div_bytes(size_t G, size_t d, size_t obs_cap);

/* Free; a zeroed struct is harmless. */
void colb__div_free(colb__div *v);

/* Make room for K arms (call before a round with more arms than before). */
colb_status colb__div_reserve(colb__div *v, size_t K);

/* Choose by Thompson sampling with draws from rng (borrowed; NULL: UCB). */
void colb__div_set_rng(colb__div *v, colb_rng *rng);

/* Start a round: every model has served nobody, no copy is open, no reward
 * is recorded. O(the models the last round touched). */
void colb__div_begin(colb__div *v);

/* The arm of the next member of model g this round (see above). X: the
 * round's K x d contexts (the same for every call of the round); scores:
 * the model's own UCB scores on X for the first member, or NULL; w > 0: the
 * hallucination weight. COLB_ENOMEM only when a copy cannot be opened (the
 * member then gets the argmax of the model's own scores). */
colb_status colb__div_choose(colb__div *v, const colb__ridge *r, size_t g, const double *X,
                             size_t K, const double *scores, double w, size_t *arm);

/* Record one reward y of arm `arm` for model g. O(arms observed for g).
 * COLB_ENOMEM only past obs_cap entries in a round, when growing fails. */
colb_status colb__div_observe(colb__div *v, size_t g, size_t arm, double y);

/* Apply the round's rewards to the models of r (see above), in model order;
 * O(entries d^2). */
void colb__div_end(colb__div *v, colb__ridge *r, const double *X, const size_t *size);

/* ---- lower level ---- */

/* Open model g's per-round copy on X: A' = A_g, mean_k = <x_k, theta_g>,
 * quad_k = x_k^T A_g x_k. O(d^2 + K d^2). No-op if already open. */
colb_status colb__div_open(colb__div *v, const colb__ridge *r, size_t g, const double *X, size_t K);

/* 1 when model g's copy is open this round. */
int colb__div_is_open(const colb__div *v, size_t g);

/* The open copy A' of model g (d x d), or NULL. */
const double *colb__div_copy(const colb__div *v, size_t g);

/* Hallucinate arm `arm` of X for model g's open copy with weight w > 0.
 * O(d^2 + K d). */
void colb__div_hallucinate(colb__div *v, size_t g, const double *X, size_t K, size_t arm, double w);

/* The argmax over k < K of mean_k + width_g sqrt(max(quad_k, 0)) under g's
 * open copy (ties to the lowest k), those scores left in v->scores; the
 * argmax of v->scores as they are when g has no open copy. O(K). */
size_t colb__div_best(const colb__div *v, const colb__ridge *r, size_t g, size_t K);

#endif
