/* user_bank.h - one independent learner per user (internal): LinUCB-Ind,
 * the individual phase of CMLB and PMLB's personal learners. The users live
 * in the compact SoA bank (linalg/soa_bank.h): packed A = V^{-1}, b, theta,
 * ln det V in blocks of 8 users, scored and updated by the hand-written
 * kernels. Choosing for every user of a round is one pass over the blocks
 * with the round's outer products computed once.
 *
 * Updates are deferred (see soa_bank.h): colb__users_update reads x when the
 * user's block is applied, so callers call colb__users_flush at the end of
 * every round, before the contexts x points into change. */
#ifndef COLB_USER_BANK_H
#define COLB_USER_BANK_H

#include "colb/rng.h"
#include "linalg/ridge.h"
#include "linalg/soa_bank.h"

typedef struct colb__users {
    colb__soa_bank s;    /* N models */
    /* Thompson sampling (colb__users_reserve_ts): K_cap scores, one model
     * unpacked (A full, its packed form, theta) and the draw's work */
    double *ts;
    size_t ts_K;
} colb__users;

/* N users of dimension d; the kernel from COLB_KERNEL or the CPU (read once
 * here). COLB_ENOMEM, or COLB_EINVAL / COLB_EUNSUP for a bad COLB_KERNEL. */
colb_status colb__users_init(colb__users *b, size_t N, size_t d, const colb_learner_params *p);
void colb__users_free(colb__users *b);

/* Split choose_all and the updates over `threads` threads (1: none); the
 * updates then all wait for colb__users_flush. Same results. COLB_ENOMEM. */
colb_status colb__users_set_threads(colb__users *b, size_t threads);

/* The bytes colb__users_init(N, d) allocates (memory budgets). */
double colb__users_bytes(size_t N, size_t d);

/* Make the scratch fit K arms. */
colb_status colb__users_reserve(colb__users *b, size_t K);

/* arms[u] for every user u on contexts X (K x d). Requires reserve(K).
 * side (may be NULL) runs once alongside, as colb__soa_choose_all. */
void colb__users_choose_all(colb__users *b, const double *X, size_t K, size_t *arms,
                            colb__task *side);

/* The arm of one user (no outer-product table: the per-user-contexts path). */
size_t colb__users_choose(colb__users *b, size_t u, const double *X, size_t K);

/* Thompson sampling (learn/thompson.h) instead of the UCB scores: the arm of
 * user u is the argmax of one draw N(theta_u, width_u^2 A_u) scored on X
 * (ties: the lowest index), d normal draws from rng; choose_all_ts draws for
 * users 0..N-1 in order (one thread, whatever set_threads said). Require
 * colb__users_reserve_ts(K) (COLB_ENOMEM). O(d^3 / 3 + K d) per user. */
colb_status colb__users_reserve_ts(colb__users *b, size_t K);
size_t colb__users_choose_ts(colb__users *b, size_t u, const double *X, size_t K, colb_rng *rng);
void colb__users_choose_all_ts(colb__users *b, const double *X, size_t K, colb_rng *rng,
                               size_t *arms);

/* Update user u with (x, y), weight 1 (inputs assumed validated); deferred,
 * x must stay valid until colb__users_flush. */
void colb__users_update(colb__users *b, size_t u, const double *x, double y);

/* Update every user u with (X + arms[u] d, y[u]), weight 1, applied at once
 * (on the bank's team if any); the same as colb__users_update for every u
 * followed by colb__users_flush. */
void colb__users_update_all(colb__users *b, const double *X, const size_t *arms, const double *y);

/* Apply every deferred update (call at the end of every round). */
void colb__users_flush(colb__users *b);

/* theta_u (d values), a deferred update included. */
void colb__users_theta(const colb__users *b, size_t u, double *theta);

/* colb__soa_all_sane of the users' bank: 1, 0, or -1 (updates pending). */
int colb__users_all_sane(const colb__users *b);

/* Set every user's prior mean (NULL = 0); theta_u = theta0 + A_u b_u. */
void colb__users_set_prior(colb__users *b, const double *theta0);

/* Users added online: grow to N >= b->s.n users, the new ones fresh (the
 * bank's prior mean, noise and norm bound); COLB_ENOMEM leaves the bank as
 * it was. shrink undoes a grow (back to N users). */
colb_status colb__users_grow(colb__users *b, size_t N);
void colb__users_shrink(colb__users *b, size_t N);

/* Every user's data re-expressed against targets lowered by <x, shift>,
 * and with move_prior the prior mean moved by shift (colb__soa_rebase;
 * PMLB's anytime refinement of theta*). COLB_ENUMERIC, COLB_ENOMEM: the
 * bank is as it was. O(N d^3). */
colb_status colb__users_rebase(colb__users *b, const double *shift, int move_prior);

/* r_u = beta_u / sqrt(lambda_min(V_u)) for every user (beta_u the OFUL
 * radius): the radius of u's confidence ellipsoid in its widest direction.
 * O(N d^3). COLB_ENOMEM, COLB_ENUMERIC. */
colb_status colb__users_radii(colb__users *b, double *radius);

/* Add user u's data into model dst of the flat bank r as pooled data:
 * V_dst += V_u - lambda I (V_u = A_u^{-1}, derived), b_dst += b_u, counts
 * added. A, theta, logdet of dst are stale until colb__ridge_refresh. O(d^3).
 * COLB_ENUMERIC if A_u is not positive definite. */
colb_status colb__users_absorb_into(colb__users *b, size_t u, colb__ridge *r, size_t dst);

#endif
