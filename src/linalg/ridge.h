/* ridge.h - a bank of n ridge-regression models of one dimension d stored as
 * flat arrays (internal). Every learner-based policy keeps its learners in a
 * bank: a single colb_learner is a bank of one, LinUCB-Ind a bank of N users,
 * CMLB a bank of users plus a bank of clusters. A round scores many models
 * against the same K contexts (ridge_scores_many).
 *
 * Model i:  V_i = lambda I + sum w x x^T            (V,    d x d row-major)
 *           A_i = V_i^{-1}                          (A,    d x d row-major,
 *                 symmetric bit for bit: every write keeps it so, and the
 *                 rank-one kernel reads its columns as its rows)
 *           b_i = sum w (y - <x, theta0_i>) x       (b,    d)
 *           theta_i = theta0_i + A_i b_i            (theta, d)
 *           logdet_i = ln det V_i
 * plus, for the width: noise R_i and norm bound S_i. */
#ifndef COLB_RIDGE_H
#define COLB_RIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "colb/learner.h"
#include "core/util.h"

typedef struct colb__ridge {
    size_t n, d;
    colb_learner_params p;  /* shared parameters (noise, norm_bound: defaults) */
    /* of p, once (the OFUL radius read them at every choose: two logs and
     * a square root): d ln(lambda), 2 ln(1/delta), sqrt(lambda) */
    double ld0, rad0, sqrt_lambda;
    double *V, *A;          /* n*d*d */
    double *b, *theta, *theta0; /* n*d */
    double *logdet;         /* n */
    double *noise, *S;      /* n: per-model R and S for the OFUL radius */
    uint64_t *count;        /* n: updates since reset */
    uint64_t *since_refresh;/* n: updates since A was last recomputed from V */
    double *work;           /* d*d + d scratch for refresh and updates */
    const struct colb__soa_kernel *kern; /* the rank-one step's kernel (soa_kernel.h) */
    /* Deferred V (colb__ridge_defer_v; vcap = 0: off): model i's last
     * vlen[i] < vcap unit-weight contexts whose V += x x^T is still to be
     * applied, in order, at vlog + (i vcap + m) d. */
    size_t vcap;
    double *vlog;           /* n*vcap*d */
    uint8_t *vlen;          /* n */
    /* bytes of address space held by V, A, b, theta, theta0 once the bank
     * has grown (colb__grow_bytes: arrays that grow without moving; 0:
     * malloc's, as a bank that never grows keeps them) */
    size_t reserved[5];
} colb__ridge;

/* Most contexts a model's deferred V holds. */
#define COLB__RIDGE_VCAP_MAX 32

/* A is recomputed from V by Cholesky after this many Sherman-Morrison
 * updates, which bounds the drift of A = V^{-1} (see ridge.c). */
#ifndef COLB__RIDGE_REFRESH
#define COLB__RIDGE_REFRESH 4096
#endif

/* Allocate n models of dimension d, all reset. COLB_ENOMEM on failure (the
 * bank is then left zeroed and safe to ridge_free). */
colb_status colb__ridge_init(colb__ridge *r, size_t n, size_t d, const colb_learner_params *p);

/* The same, but models [0, first) are left unset, for colb__ridge_import to
 * fill (a snapshot being loaded: one pass over the memory instead of two). */
colb_status colb__ridge_init_from(colb__ridge *r, size_t n, size_t d, const colb_learner_params *p,
                                  size_t first);
void colb__ridge_free(colb__ridge *r);

/* The bytes colb__ridge_init(n, d) allocates (memory budgets). */
double colb__ridge_bytes(size_t n, size_t d);

/* Defer V's part of the unit-weight rank-one steps: a step then updates A,
 * b, theta and logdet as before and keeps x in the model's log of up to cap
 * contexts (2 <= cap <= COLB__RIDGE_VCAP_MAX), which are added to V all at
 * once (syr_n: V's rows held in registers over them) when the log is full,
 * before anything reads or writes V (refresh, absorb, add, copy, export:
 * all within ridge.c), and on colb__ridge_sync_v. The sums are the same,
 * in the same order, so V keeps its bits; what changes is that a step no
 * longer reads and writes V's d x d doubles (a third of a step's memory
 * traffic when the models do not stay in the caches). Code outside ridge.c
 * that reads r->V directly must call colb__ridge_sync_v first. Call once,
 * before the first step; COLB_ENOMEM (the bank unchanged), COLB_EINVAL
 * for a cap out of range. */
colb_status colb__ridge_defer_v(colb__ridge *r, size_t cap);

/* Apply model i's deferred contexts to V (nothing when there are none). */
void colb__ridge_sync_v(colb__ridge *r, size_t i);

/* Model i's V with its deferred contexts applied, into V (d x d), the bank
 * unchanged. */
void colb__ridge_v(const colb__ridge *r, size_t i, double *V);

/* Prefetch, for writing, what a rank-one step of model i reads and writes:
 * A, b, theta, theta0, and V unless the step will leave it to the log
 * (then the log's next slot). */
void colb__ridge_prefetch(const colb__ridge *r, size_t i);

/* Reset model i to no data; keeps theta0, noise and S. */
void colb__ridge_reset(colb__ridge *r, size_t i);

/* Set model i's prior mean (NULL = zero); recomputes theta. */
void colb__ridge_set_prior(colb__ridge *r, size_t i, const double *theta0);

/* Rank-one update of model i (inputs assumed validated). O(d^2). */
void colb__ridge_update(colb__ridge *r, size_t i, const double *x, double y, double w);

/* colb__ridge_update that also gives what the step computed: u (d doubles)
 * receives A x and the return value is s = x^T A x, both with the A before
 * the step (the step was A -= w u u^T / (1 + w s)); what a cache of the
 * model's quadratic forms needs to follow it (round_scores.h). */
double colb__ridge_update_u(colb__ridge *r, size_t i, const double *x, double y, double w,
                            double *u);

/* colb__ridge_update(r, i, x, y, w) and colb__ridge_update(r2, j, x, y, w) at
 * once (the same bits; the two steps' dependency chains interleaved). r and
 * r2 must differ, or i != j. */
void colb__ridge_update2(colb__ridge *r, size_t i, colb__ridge *r2, size_t j, const double *x,
                         double y, double w);

/* colb__ridge_update(r, i, xi, yi, w) and colb__ridge_update(r, j, xj, yj, w)
 * at once, i != j (the same bits; the two steps' dependency chains
 * interleaved). O(d^2). */
void colb__ridge_update_pair(colb__ridge *r, size_t i, const double *xi, double yi, size_t j,
                             const double *xj, double yj, double w);

/* colb__ridge_update2 that also gives each step's u = A x and s = x^T A x,
 * as colb__ridge_update_u: u (2d doubles) receives r's u then r2's, s[0]
 * r's s and s[1] r2's. */
void colb__ridge_update2_u(colb__ridge *r, size_t i, colb__ridge *r2, size_t j, const double *x,
                           double y, double w, double *u, double s[2]);

/* Add model src of bank `from` into model dst of `r` as pooled data:
 * V_dst += V_src - lambda_src I, b_dst += b_src (meaningful for equal priors).
 * O(d^2); A, theta and logdet are stale until colb__ridge_refresh(r, dst). */
void colb__ridge_absorb(colb__ridge *r, size_t dst, const colb__ridge *from, size_t src);

/* The inverse of colb__ridge_absorb: V_dst -= V_src - lambda_src I,
 * b_dst -= b_src, count_dst -= count_src (a member leaving a pooled model).
 * O(d^2); A, theta and logdet are stale until colb__ridge_refresh(r, dst). */
void colb__ridge_unabsorb(colb__ridge *r, size_t dst, const colb__ridge *from, size_t src);

/* Model i's data only: V += x x^T, b += (y - <x, theta0>) x, the count and
 * since_refresh (unit weight; V by the kernel's syr). O(d^2) without the
 * inverse: A, theta and logdet are stale until colb__ridge_refresh(r, i) -
 * for a model that takes many observations before its next use. */
void colb__ridge_add(colb__ridge *r, size_t i, const double *x, double y);
/* colb__ridge_add(r, i, xs[m], ys[m]) for m = 0, ..., n - 1 in order, the
 * same bits; V by the kernel's syr_n (a block of V's rows held in registers
 * over the n contexts). O(n d^2). */
void colb__ridge_add_n(colb__ridge *r, size_t i, const double *const *xs, const double *ys,
                       size_t n);

/* Recompute A, theta, logdet of model i from V and b by a Cholesky
 * factorisation (O(d^3)). A V so ill-conditioned that rounding breaks its
 * factorisation (contexts of 1e6 against lambda 1e-6) is factored with a
 * jitter of at most 4e-12 max_j V_jj on its diagonal (A and logdet then
 * those of V + jitter I); COLB_ENUMERIC if V is not positive definite
 * beyond that. */
colb_status colb__ridge_refresh(colb__ridge *r, size_t i);

/* The OFUL radius beta_t of model i (Abbasi-Yadkori et al. 2011, Theorem 2)
 * with its noise R_i and bound S_i, whatever the width mode. */
double colb__ridge_oful_radius(const colb__ridge *r, size_t i);

/* The same with the noise scale R in place of model i's (cohort's
 * estimated R): R sqrt(ln det V_i - d ln lambda + 2 ln(1/delta)) + sqrt(lambda) S_i. */
double colb__ridge_oful_radius_with(const colb__ridge *r, size_t i, double R);

/* Exploration width of model i (beta_t or alpha). */
double colb__ridge_width(const colb__ridge *r, size_t i);

/* Scores of model i on the K x d contexts X: out[k] = <x_k, theta_i> +
 * width_i * ||x_k||_{A_i}. `work` holds K*d doubles. */
void colb__ridge_scores(const colb__ridge *r, size_t i, const double *X, size_t K,
                        double *out, double *work);

/* Scores of the m models idx[0..m) (idx NULL: models first..first+m-1) on one shared
 * X: out is m x K row-major, <theta_i, x_k> + width_i sqrt(x_k^T A_i x_k) by
 * the kernel's score_x (fixed order; the same bits on the AVX-512 and AVX2
 * paths); `work` must hold colb__ridge_scores_work(d, K) doubles. */
void colb__ridge_scores_many(const colb__ridge *r, const size_t *idx, size_t first, size_t m,
                             const double *X, size_t K, double *out, double *work);
size_t colb__ridge_scores_work(size_t d, size_t K);

/* Scratch of a bank that scores `block` models at a time on K arms: the
 * scores (block x K) and the work of colb__ridge_scores_many. */
typedef struct colb__scratch {
    double *scores, *work;
    size_t K_cap;
} colb__scratch;

/* Make s fit K arms for blocks of `block` models of dimension d. */
colb_status colb__scratch_reserve(colb__scratch *s, size_t d, size_t K, size_t block);
/* The same with a work of `work` doubles: another kernel's (Thompson
 * sampling's colb__ts_work(d), which colb__ridge_scores_work does not
 * bound once d is about K or more). */
colb_status colb__scratch_reserve_n(colb__scratch *s, size_t K, size_t block, size_t work);
void colb__scratch_free(colb__scratch *s);

/* Copy model src of `from` over model dst of `to` (same d). */
void colb__ridge_copy_model(colb__ridge *to, size_t dst, const colb__ridge *from, size_t src);

/* ---- the logical form of a model (what snapshots store) ----------------
 * Layout-independent, so that a change of this bank's in-memory layout
 * touches only these two functions (the snapshot format, docs/format.md
 * "ridge bank", stays): `real` holds colb__ridge_model_len(d) doubles
 *     V's lower triangle row by row (V_00, V_10, V_11, V_20, ...: d(d+1)/2),
 *     A = V^{-1}'s lower triangle the same way (d(d+1)/2),
 *     b, theta, theta0 (d each), logdet, noise, S,
 * and `ints` the two counters: count, since_refresh. V and A are exactly
 * symmetric (colb__ridge_update keeps them so), so one triangle is the whole
 * matrix bit for bit. Export with real == NULL gives the counters only.
 * Import does no checking: validate before. */
size_t colb__ridge_model_len(size_t d);
void colb__ridge_export(const colb__ridge *r, size_t i, double *real, uint64_t *ints);
void colb__ridge_import(colb__ridge *r, size_t i, const double *real, const uint64_t *ints);

/* Grow the bank to n >= r->n models; the new ones are reset (no data, prior
 * zero, noise and S from the bank's parameters). COLB_ENOMEM leaves the
 * bank as it was. O((n - r->n) d^2) plus the reallocation. */
colb_status colb__ridge_grow(colb__ridge *r, size_t n);

#endif
