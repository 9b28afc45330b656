/* ridge_soa.h - n models of the flat ridge bank (ridge.h) kept in
 * structure-of-arrays blocks of 8 lanes and stepped many at once by one
 * shared sample, with their scores on the round's arms carried through
 * the steps (internal).
 *
 * For LOCB's neighbourhoods: serving a user steps every neighbourhood that
 * contains it with the user's (x, y), so one kernel call
 * (soa_kernel.h ridge_step_lanes) steps the chosen lanes of a block of 8,
 * one vector instruction per matrix entry for all of them. Every lane is,
 * bit for bit, a model of the flat ridge bank given the same operations
 * (the same Sherman-Morrison step, V kept and A refreshed from it by
 * Cholesky every COLB__RIDGE_REFRESH steps, absorb / unabsorb / refresh):
 * tests/test_kernels.c compares the two after every operation.
 *
 * Model i lives in block i / 8, lane i % 8:
 *     A, V   [nblk][P][8]   packed upper triangles (P = d(d+1)/2), exactly
 *                           symmetric matrices, so one triangle is all of them
 *     b, theta, theta0  [nblk][d][8]
 *     logdet, noise, S, count, since_refresh, width   [nblk*8]
 * and the round's carried means and quadratic forms, mq [nblk][2][Kp][8]
 * (round_scores.h's carry: valid for model i when stamp[i] == round). The
 * lanes beyond n are reset models that are never stepped.
 * 8 (2P + 3d + 6) + 16 Kp bytes per model (4,336 at d = 15, K = 25, against
 * 3,944 + 16 Kp for ridge.h and round_scores.h).
 *
 * Not thread-safe: one bank per thread. */
#ifndef COLB_RIDGE_SOA_H
#define COLB_RIDGE_SOA_H

#include <stddef.h>
#include <stdint.h>

#include "linalg/ridge.h"
#include "linalg/soa_kernel.h"

typedef struct colb__ridge_soa {
    size_t n, d, P, nblk;
    colb_learner_params p;
    const colb__soa_kernel *kern;     /* COLB_KERNEL or the CPU's best, chosen at init */
    double *A, *V, *b, *theta, *theta0;
    double *logdet, *noise, *S;
    uint64_t *count, *since_refresh;
    size_t K, Kp, K_cap;              /* the round's arms; Kp = K rounded up to 8 */
    double *Xt;                       /* d x Kp: the round's contexts transposed */
    double *mq;                       /* nblk x 2 Kp x 8 */
    uint64_t round, *stamp;           /* n */
    double *work;                     /* 8 d + P + 2 d^2 + 3 Kp */
    int off;                          /* tests: keep nothing (every score afresh) */
} colb__ridge_soa;

/* n models of dimension d with the learner parameters p, all reset (prior
 * mean 0). The kernel as round_scores.h's: COLB_EINVAL / COLB_EUNSUP for a
 * COLB_KERNEL this CPU cannot run; COLB_ENOMEM. On error the struct is safe
 * to free. */
colb_status colb__rsoa_init(colb__ridge_soa *r, size_t n, size_t d, const colb_learner_params *p);
void colb__rsoa_free(colb__ridge_soa *r);

/* A new round on the K x d contexts X: every carried value is stale.
 * COLB_ENOMEM. O(K d). */
colb_status colb__rsoa_begin(colb__ridge_soa *r, const double *X, size_t K);

/* The exploration width of model i (colb__ridge_width's bits). */
double colb__rsoa_width(const colb__ridge_soa *r, size_t i);

/* Scores of the lanes in mask of block blk on the round's arms: best[l]
 * the argmax and top[l] its score, as colb__rs_choose(width_i, scale)
 * computes them (the same bits, cached or fresh). A lane without this
 * round's values is scored afresh (score_x, O(K d^2)) and then carried. */
void colb__rsoa_choose(colb__ridge_soa *r, size_t blk, unsigned mask, double scale,
                       uint32_t *best, double *top);

/* colb__ridge_update(x, y, w) of every model of block blk in mask (bit l:
 * model 8 blk + l), each model's carried scores moved with it. O(d^2 + K d)
 * per block. */
void colb__rsoa_step(colb__ridge_soa *r, size_t blk, unsigned mask, const double *x, double y,
                     double w);

/* colb__ridge_absorb / unabsorb of model src of the flat bank `from` into
 * model dst, then colb__ridge_refresh: COLB_ENUMERIC when V is not positive
 * definite (the model then keeps its new V and b with its stale A). The
 * model's carried scores are dropped. O(d^3). */
colb_status colb__rsoa_absorb(colb__ridge_soa *r, size_t dst, const colb__ridge *from, size_t src,
                              int sign);

/* Move the models between slots: slot i receives the model of slot
 * from[i] (from: a permutation of the nblk * 8 slots, the padding lanes
 * included). The models' bits are untouched (every lane computes alone, so
 * results do not depend on the placement); carried scores are dropped.
 * COLB_ENOMEM leaves r as it was. O(nblk 8 P). */
colb_status colb__rsoa_move(colb__ridge_soa *r, const size_t *from);

/* Model i in the flat bank's logical form (ridge.h colb__ridge_export) and
 * back (import does no checking; drops the carried scores). */
void colb__rsoa_export(const colb__ridge_soa *r, size_t i, double *real, uint64_t *ints);
void colb__rsoa_import(colb__ridge_soa *r, size_t i, const double *real, const uint64_t *ints);

/* Tests: the carried values of every model holding this round's, against a
 * direct computation (plain loops over A and theta), as colb__rs_check;
 * *n_cached the number of such models. */
void colb__rsoa_check(const colb__ridge_soa *r, double *max_rel, size_t *n_cached);

/* Bytes of colb__rsoa_init(n, d) and of the carried scores for K arms. */
double colb__rsoa_bytes(size_t n, size_t d, size_t K);

#endif
