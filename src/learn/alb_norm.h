/* alb_norm.h - ALB-norm, the norm-adaptive linear bandit of Ghosh,
 * Sankararaman, Ramchandran ("Problem-complexity adaptive model selection for
 * stochastic linear bandits", AISTATS 2021), run as an epoch schedule over
 * the models of a ridge bank (internal; used by PMLB, src/policies/pmlb.c).
 *
 * Each model i runs OFUL in epochs of doubling length: epoch e (0-based)
 * covers the model's updates [tau (2^e - 1), tau (2^{e+1} - 1)). The norm
 * bound S_i of the OFUL radius starts at S1; when an epoch ends, the model
 * estimates an upper bound on the norm of the vector it learns,
 *
 *     b_i = ||theta_i - theta0_i|| + beta_i / sqrt(lambda_min(V_i)),
 *
 * (the estimate's norm plus the half-width of the OFUL confidence ellipsoid
 * in its widest direction; beta_i the theory radius of colb/learner.h with
 * the S_i in force), and the next epoch runs with S_i = min(S_i, b_i).
 * With `restart` the model's data are also forgotten at each epoch start (a
 * fresh OFUL per epoch, as in the paper); without it the data are kept and
 * only S_i changes. docs/pmlb.md says which parts follow the paper and why.
 *
 * The bank's scoring is untouched: choosing for many models stays one batched
 * call (colb__ridge_scores_many). Costs: an update O(d^2); an epoch end one
 * symmetric eigenvalue problem, O(d^3), i.e. O(d^3 log T) per model in all.
 * No allocation after colb__alb_init. Not thread-safe (shared workspace). */
#ifndef COLB_ALB_NORM_H
#define COLB_ALB_NORM_H

#include <stddef.h>
#include <stdint.h>

#include "learn/user_bank.h"
#include "linalg/ridge.h"

typedef struct colb__alb {
    size_t n, d;
    uint64_t tau;          /* length of epoch 0, in updates (>= 1) */
    int restart;           /* 1: reset V and b at every epoch start */
    uint64_t *steps;       /* n: updates since colb__alb_start */
    uint64_t *epoch_end;   /* n: value of steps at which the current epoch ends */
    unsigned *epoch;       /* n: current epoch (0-based) */
    double *last_bound;    /* n: b_i computed at the last epoch end (NaN before) */
    double *work;          /* d*d + 2d: eigenvalue workspace */
} colb__alb;

/* Allocate the schedule of n models of dimension d. tau >= 1. COLB_ENOMEM
 * (the struct is then zeroed and safe to free) or COLB_EINVAL (tau == 0). */
colb_status colb__alb_init(colb__alb *a, size_t n, size_t d, uint64_t tau, int restart);

/* Free; a zeroed struct is harmless. */
void colb__alb_free(colb__alb *a);

/* Start every model of `r` (which must have a->n models of dimension a->d)
 * in epoch 0 with norm bound S1 >= 0. The models' data are not touched.
 * r == NULL: the schedule only. */
void colb__alb_start(colb__alb *a, colb__ridge *r, double S1);

/* The number of updates at which epoch e ends: tau (2^{e+1} - 1),
 * saturating at UINT64_MAX. */
uint64_t colb__alb_epoch_end(uint64_t tau, unsigned e);

/* Smallest eigenvalue of V_i (colb__sym_eigvals on the workspace); NaN when
 * the solver fails. O(d^3). */
double colb__alb_min_eig(colb__alb *a, const colb__ridge *r, size_t i);

/* The norm bound b_i defined above; NaN when lambda_min(V_i) is not a
 * positive number. O(d^3). */
double colb__alb_bound(colb__alb *a, const colb__ridge *r, size_t i);

/* Grow the schedule to n >= a->n models (users added online); the new ones
 * start in epoch 0 at step 0. Their ridge models' S is the caller's to set.
 * COLB_ENOMEM leaves a unchanged. */
colb_status colb__alb_grow(colb__alb *a, size_t n);

/* Update model i with (x, y) (weight 1; inputs assumed validated) and advance
 * its schedule: at the end of an epoch, S_i = min(S_i, b_i) (b_i is recorded
 * in last_bound; a NaN b_i leaves S_i as it is), the model is reset if
 * `restart`, and the next epoch begins. Returns 1 when an epoch ended, else 0. */
int colb__alb_update(colb__alb *a, colb__ridge *r, size_t i, const double *x, double y);

/* The same schedule over the users of a user bank (PMLB's personal
 * learners): colb__alb_start and colb__alb_update with b's models. The update
 * is deferred as colb__users_update's, except at an epoch end, where the
 * user's block is applied before b_i is computed (lambda_min(V_i) = 1 /
 * lambda_max(A_i)). */
void colb__alb_start_users(colb__alb *a, colb__users *b, double S1);
int colb__alb_update_users(colb__alb *a, colb__users *b, size_t i, const double *x, double y);

#endif
