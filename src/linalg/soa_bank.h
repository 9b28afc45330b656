/* soa_bank.h - a compact bank of n ridge-regression models of dimension d in
 * structure-of-arrays blocks of COLB__SOA_W = 8 models (internal). The fast
 * path of every bank of many small models: LinUCB-Ind's users (through
 * learn/user_bank.h), CMLB's individual phase, PMLB's personal learners.
 *
 * Model i lives in block i / 8, lane i % 8. Per model it keeps only
 *     A_i = V_i^{-1}    packed upper triangle, P = d(d+1)/2 entries
 *     b_i               d    (b_i = sum w (y - <x, theta0>) x)
 *     theta_i           d    (theta0 + A_i b_i, kept by the recursive
 *                             least-squares step, never re-solved)
 *     ln det V_i, count, noise R_i, norm bound S_i, one pending update
 * i.e. 8 (P + 2d + 7) bytes: 1,256 bytes at d = 15 against 3,944 for the
 * flat ridge bank (ridge.h, which also keeps V and full d x d matrices). V is
 * not kept: what needs it derives it from A when rarely needed (V = A^{-1}
 * by Cholesky, lambda_min(V) = 1 / lambda_max(A)). Without V there is no
 * periodic refresh; tests/test_kernels.c bounds the drift of 10^6 updates.
 *
 * Arrays (all flat, block-major, an obvious layout for persistence):
 *     A     [nblk][P][8]      entry e of model i at A[(i/8)*P*8 + e*8 + i%8]
 *     b     [nblk][d][8]      likewise
 *     theta [nblk][d][8]
 *     logdet, noise, S, count, px, py, pw   [nblk*8], plain model index
 * Lanes beyond n in the last block are kept at the reset state and never
 * reported. colb__soa_get_model gives one model in a layout-independent form.
 *
 * Kernel: chosen once at init (soa_kernel.h): from the environment variable
 * COLB_KERNEL = avx512 | avx2 | portable if set, else the best the CPU has
 * (__builtin_cpu_supports); recorded in the bank (kern), no global state.
 *
 * Updates are deferred and batched: colb__soa_update records (x, y, w) and
 * runs the block's kernel when every model of the block has one pending, or at
 * colb__soa_flush. The context x is read when the update is applied, so it
 * must stay valid and unchanged until then: callers flush at the end of every
 * round (before the next round's contexts overwrite x). Reads of one model
 * (theta, get_model, scores) see its pending update applied.
 *
 * Not thread-safe: one bank per thread (it may run a team of its own, see
 * colb__soa_set_threads). */
#ifndef COLB_SOA_BANK_H
#define COLB_SOA_BANK_H

#include <stddef.h>
#include <stdint.h>

#include "colb/learner.h"
#include "core/team.h"
#include "core/util.h"
#include "linalg/soa_kernel.h"

typedef struct colb__soa_bank {
    size_t n, d, P, nblk;
    colb_learner_params p;          /* lambda, delta, width mode, alpha */
    const colb__soa_kernel *kern;   /* chosen at init */
    double *A, *b, *theta;          /* block-major, see above */
    double *theta0;                 /* d: the prior mean of every model */
    double *logdet, *noise, *S;     /* nblk*8 */
    uint64_t *count;                /* nblk*8: updates since reset */
    const double **px;              /* nblk*8: pending context or NULL */
    double *py, *pw;                /* nblk*8: pending reward and weight */
    unsigned char *npend;           /* nblk: pending updates in the block */
    int32_t *idx;                   /* d x d: packed index of (min, max) */
    double radius0;                 /* 2 ln(1/delta) */
    double ld0, sqrt_lambda;        /* d ln(lambda), sqrt(lambda): of p, once */
    double *Q;                      /* P x K_cap: the round's outer products */
    double *Xt;                     /* d x K_cap: the round's contexts, transposed */
    size_t K_cap;
    double *work;                   /* kernel scratch and one model's copy */
    struct colb__team *team;        /* threads of colb__soa_set_threads, or NULL */
    double *twork;                  /* kernel scratch of each of the team's parts */
    size_t pend_lo, pend_hi;        /* blocks [lo, hi) hold every pending update
                                       (empty when lo >= hi): what a flush visits */
    size_t reserved[3];             /* A, b, theta: address space once grown
                                       (colb__grow_bytes; 0: malloc's) */
} colb__soa_bank;

/* Allocate n >= 1 models, all reset, prior mean 0, noise p->noise and bound
 * p->norm_bound. kernel: as colb__soa_pick_kernel, NULL = getenv("COLB_KERNEL")
 * (read here, once). COLB_ENOMEM, COLB_EINVAL / COLB_EUNSUP (kernel); on error
 * the bank is zeroed and safe to free. */
colb_status colb__soa_init(colb__soa_bank *s, size_t n, size_t d, const colb_learner_params *p,
                           const char *kernel);
void colb__soa_free(colb__soa_bank *s);

/* Split choose_all and flush over `threads` threads (a team started here;
 * 0 or 1: none; blocks shared out at run time, see core/team.h). Results do
 * not depend on it: models are independent and each block is computed by
 * one thread with the same kernel. With a team, every update waits for
 * colb__soa_flush (applied in parallel). COLB_ENOMEM. */
colb_status colb__soa_set_threads(colb__soa_bank *s, size_t threads);

/* Bytes per model of the bank's arrays (excluding the O(d^2 + P K) scratch). */
size_t colb__soa_bytes_per_model(size_t d);

/* Reset model i to no data (keeps theta0, noise, S; drops a pending update). */
void colb__soa_reset(colb__soa_bank *s, size_t i);

/* Set the prior mean of every model (NULL = 0) and recompute every theta_i =
 * theta0 + A_i b_i. Applies pending updates first. O(n d^2). */
void colb__soa_set_prior(colb__soa_bank *s, const double *theta0);

/* Make the round's outer-product table fit K arms (COLB_ENOMEM). */
colb_status colb__soa_reserve(colb__soa_bank *s, size_t K);

/* Make the round's outer-product table fit K arms and fill it from X (K x d).
 * Required before colb__soa_choose_all on these contexts. O(K d^2). */
colb_status colb__soa_prepare(colb__soa_bank *s, const double *X, size_t K);

/* arms[i] for models first..first+m-1 on the prepared X (K x d); m need not
 * be a multiple of 8. Applies pending updates of these blocks first. side
 * (may be NULL; see core/team.h) is run once before this returns: with a
 * team, by the calling thread while the team's other threads score, else
 * first. side must not touch the bank. */
void colb__soa_choose_all(colb__soa_bank *s, size_t first, size_t m, const double *X, size_t K,
                          size_t *arms, colb__task *side);

/* The arm of model i on X (K x d), without the outer-product table (the
 * kernel's score_lane: the portable kernel's arithmetic for that lane, the
 * same bits on every path). out (K doubles, may be
 * NULL) receives the scores. O(K d^2); O(1) for K = 1 without out (a
 * service's update: its one arm is the answer). */
size_t colb__soa_choose_one(const colb__soa_bank *s, size_t i, const double *X, size_t K,
                            double *out);

/* Record the update of model i with (x, y, weight w > 0); applied at the
 * latest at colb__soa_flush (x must stay valid until then). A model has at
 * most one pending update: a second one applies the block first. */
void colb__soa_update(colb__soa_bank *s, size_t i, const double *x, double y, double w);

/* Update every model i with (X + arms[i] d, y[i], weight 1) and apply all
 * at once, by blocks (on the team if any): the same results as
 * colb__soa_update for every i followed by colb__soa_flush (an update
 * pending from before is applied first). Nothing pending afterwards. */
void colb__soa_update_all(colb__soa_bank *s, const double *X, const size_t *arms, const double *y);

/* Apply every pending update (every model's, or model i's block's). */
void colb__soa_flush(colb__soa_bank *s);
void colb__soa_sync(colb__soa_bank *s, size_t i);

/* The OFUL radius beta of model i (Abbasi-Yadkori et al. 2011, Theorem 2)
 * with its R_i and S_i, and the exploration width (beta or alpha). As
 * ridge.h's; they read ln det V_i, which a pending update has not changed. */
double colb__soa_oful_radius(const colb__soa_bank *s, size_t i);
double colb__soa_width(const colb__soa_bank *s, size_t i);

/* theta_i (d values), its pending update applied. */
void colb__soa_theta(const colb__soa_bank *s, size_t i, double *theta);

/* 1 when every model's theta is finite and within COLB__THETA_MAX
 * (core/util.h), 0 when one is not, -1 when an update is pending (its
 * theta is not stored yet). O(n d), vectorised. */
int colb__soa_all_sane(const colb__soa_bank *s);

/* Model i in a layout-independent form, its pending update applied: Ap the
 * packed upper triangle of A (P values, row-major), b, theta (d each); any
 * output may be NULL. */
void colb__soa_get_model(const colb__soa_bank *s, size_t i, double *Ap, double *b, double *theta,
                         double *logdet, uint64_t *count);

/* Overwrite model i (no pending update afterwards); inverse of get_model. */
void colb__soa_set_model(colb__soa_bank *s, size_t i, const double *Ap, const double *b,
                         const double *theta, double logdet, uint64_t count);

/* Grow the bank to n >= s->n models (pending updates applied first); the
 * new ones are reset, with the bank's prior mean, noise and norm bound.
 * COLB_ENOMEM leaves the bank as it was. O((n - s->n) P) plus the
 * reallocation. */
colb_status colb__soa_grow(colb__soa_bank *s, size_t n);

/* Undo a grow: back to 1 <= n < s->n models (the dropped ones reset). */
void colb__soa_shrink(colb__soa_bank *s, size_t n);

/* Re-express every model's data against targets lowered by <x, shift>
 * (every past sample's y becomes y - <x, shift>): b_i -= (V_i - lambda I)
 * shift, and with move_prior theta0 += shift, so that theta0 + (what the
 * model learned) keeps estimating the same vector; every theta_i is
 * recomputed as theta0 + A_i b_i. V_i shift is A_i^{-1} shift by Cholesky
 * of A_i (V is not kept), exact up to rounding; models without data are
 * exact. COLB_ENUMERIC (some A_i not positive definite) or COLB_ENOMEM leave
 * the bank as it was. O(n d^3). */
colb_status colb__soa_rebase(colb__soa_bank *s, const double *shift, int move_prior);

/* ---- the logical form of a model (what snapshots store) ----------------
 * Independent of the SoA layout: `real` holds colb__soa_model_len(d) =
 * d(d+1)/2 + 2d + 3 doubles
 *     A's lower triangle by rows (A_00, A_10, A_11, A_20, ...: d(d+1)/2),
 *     b, theta (d each), ln det V, noise R, norm bound S,
 * and `count` the updates since reset; the prior mean theta0 is the bank's
 * (one for all models). Export applies a pending update (as get_model);
 * import overwrites model i (no pending update afterwards) and does no
 * checking: validate before. Both use the bank's scratch. */
size_t colb__soa_model_len(size_t d);
void colb__soa_export(const colb__soa_bank *s, size_t i, double *real, uint64_t *count);
void colb__soa_import(colb__soa_bank *s, size_t i, const double *real, uint64_t count);

/* V_i = A_i^{-1} (d x d, row-major, full) by Cholesky of A_i (O(d^3)).
 * COLB_ENUMERIC if A_i is not positive definite. Reads the stored A_i:
 * colb__soa_sync(s, i) first if i may have a pending update. */
colb_status colb__soa_V(const colb__soa_bank *s, size_t i, double *V);

/* lambda_min(V_i) = 1 / lambda_max(A_i) (colb__sym_eigvals, O(d^3)); work
 * d*d + 2d doubles. NaN if the solver fails or A_i has no positive
 * eigenvalue. Reads the stored A_i, as colb__soa_V. */
double colb__soa_min_eig_V(const colb__soa_bank *s, size_t i, double *work);

#endif
