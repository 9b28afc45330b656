/* colb/learner.h - the ridge-regression / OFUL / LinUCB learner for one linear
 * bandit, the building block of every colb algorithm.
 *
 * State for dimension d:   V = lambda*I + sum_s w_s x_s x_s^T,
 *                          b = sum_s w_s (y_s - <x_s, theta0>) x_s,
 *                          theta_hat = theta0 + V^{-1} b,
 * where theta0 is an optional prior mean (zero by default). An arm x scores
 *     <x, theta_hat> + width * ||x||_{V^{-1}},
 * and the width is either
 *   COLB_WIDTH_OFUL  - the radius of Abbasi-Yadkori, Pal, Szepesvari (2011,
 *                      Theorem 2): beta = R*sqrt(2*ln(det(V)^{1/2} *
 *                      lambda^{-d/2} / delta)) + sqrt(lambda)*S;
 *   COLB_WIDTH_FIXED - a constant alpha, as in LinUCB (Li et al. 2010).
 *
 * Cost: an update is O(d^2) (Sherman-Morrison on V^{-1}, see src/linalg/ridge.c for
 * why and for the drift guard); scoring K arms is O(K d^2) as one small
 * matrix product. A learner is not thread-safe; distinct learners are
 * independent. */
#ifndef COLB_LEARNER_H
#define COLB_LEARNER_H

#include <stddef.h>
#include <stdint.h>

#include "colb/limits.h"
#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum colb_width {
    COLB_WIDTH_OFUL = 0,  /* theory radius beta_t (needs noise, norm_bound, delta) */
    COLB_WIDTH_FIXED = 1  /* constant alpha */
} colb_width;

typedef struct colb_learner_params {
    double lambda;      /* ridge regulariser in [COLB_LAMBDA_MIN, COLB_LAMBDA_MAX];
                           default 1 (colb/limits.h also bounds alpha, noise and
                           norm_bound by COLB_SCALE_MAX) */
    colb_width width;   /* default COLB_WIDTH_OFUL */
    double alpha;       /* COLB_WIDTH_FIXED width, >= 0; default 1 */
    double noise;       /* R, sub-Gaussian noise scale, >= 0; default 0.1 */
    double norm_bound;  /* S, bound on ||theta - theta0||, >= 0; default 1 */
    double delta;       /* confidence, in (0, 1); default 0.1 */
} colb_learner_params;

typedef struct colb_learner colb_learner;

/* Fill `p` with the defaults listed above; NULL harmless. */
void colb_learner_params_default(colb_learner_params *p);

/* Check every field of `p`; COLB_OK, or COLB_EINVAL (NULL), COLB_ENONFIN
 * (NaN/Inf field) or COLB_ERANGE (lambda outside [COLB_LAMBDA_MIN,
 * COLB_LAMBDA_MAX], alpha/noise/norm_bound outside [0, COLB_SCALE_MAX],
 * delta outside (0, 1), unknown width). */
colb_status colb_learner_params_check(const colb_learner_params *p);

/* The name of the field that made colb_learner_params_check fail, or NULL when
 * `p` is valid. Static string. */
const char *colb_learner_params_bad_field(const colb_learner_params *p);

/* Create a learner of dimension 1 <= d <= COLB_DIM_MAX with parameters `p`
 * (copied). On success *out owns a new learner (free with
 * colb_learner_free). Memory: six d x d arrays of doubles (the state and
 * the copy the finite-state guard restores), about 48 d^2 bytes: 768M at
 * d = 4096, 206G at d = COLB_DIM_MAX; checked before anything is
 * allocated against the default memory budget (colb/limits.h,
 * colb_memory_budget_default(); read only when the learner needs more
 * than 64M). Errors: COLB_EINVAL (NULL, d == 0), COLB_ERANGE (d >
 * COLB_DIM_MAX), the errors of colb_learner_params_check, COLB_ENOMEM
 * (beyond the budget, or out of memory). */
colb_status colb_learner_create(size_t d, const colb_learner_params *p, colb_learner **out);

/* colb_learner_create with a one-line reason for a failure, as the other
 * create functions give it (colb_policy_create, colb_env_create): written
 * into msg (msg_len bytes; msg may be NULL), naming the bad argument and
 * its value ("learner: lambda = 0 must be in [1e-06, 1e+06]", "learner:
 * d = 70000 exceeds COLB_DIM_MAX = 65536"), or the memory estimate and the
 * budget ("learner: d = 65536 needs about 192G of memory, more than the
 * budget of 18.42G (80% of the available memory)"); "" on success. colb_learner_create is this call
 * without a message (a failed create leaves no learner whose
 * colb_learner_last_error could hold one). Same statuses and cost. */
colb_status colb_learner_create_msg(size_t d, const colb_learner_params *p, colb_learner **out, char *msg,
                                    size_t msg_len);

/* Free a learner; NULL is harmless. */
void colb_learner_free(colb_learner *l);

/* A deep copy of `src` (state and parameters) in *out. Errors: COLB_EINVAL
 * (NULL), COLB_ENOMEM (as colb_learner_create: the budget is checked
 * again, it moves with the machine's load). */
colb_status colb_learner_copy(const colb_learner *src, colb_learner **out);

/* Forget all data: V = lambda*I, b = 0, count = 0. The prior mean is kept. */
void colb_learner_reset(colb_learner *l);

/* Set the prior mean theta0 (d values, copied; NULL means zero), each
 * |entry| <= COLB_SCALE_MAX (like the norm bound S on ||theta - theta0||:
 * with the context range of colb/limits.h, <x, theta0> stays below 1e17).
 * Allowed only while the learner holds no data (count == 0). Errors leave
 * the prior unchanged: COLB_EINVAL (NULL l), COLB_ESTATE (data held),
 * COLB_ENONFIN (a NaN/Inf entry), COLB_ERANGE (an entry beyond
 * COLB_SCALE_MAX). */
colb_status colb_learner_set_prior(colb_learner *l, const double *theta0);

/* Change the norm bound S used by the OFUL radius (ALB-norm does this between
 * epochs). Errors: COLB_EINVAL (NULL), COLB_ENONFIN (S is NaN or Inf),
 * COLB_ERANGE (S < 0 or S > COLB_SCALE_MAX). */
colb_status colb_learner_set_norm_bound(colb_learner *l, double S);

/* Change the noise scale R used by the OFUL radius. Errors as
 * colb_learner_set_norm_bound. */
colb_status colb_learner_set_noise(colb_learner *l, double R);

/* Add one observation: context x (d values, borrowed, |x_i| <=
 * COLB_CONTEXT_MAX), reward y (|y| <= COLB_REWARD_MAX), weight w in
 * (0, COLB_WEIGHT_MAX] (w = n counts an averaged reward of n samples as n
 * samples). O(d^2) (twice that for the guard's copy). Errors leave the
 * learner unchanged: COLB_EINVAL (NULL), COLB_ENONFIN (NaN/Inf in x, y or
 * w), COLB_ERANGE (outside the ranges of colb/limits.h), COLB_ENUMERIC (the
 * update made the state non-finite: it is undone). */
colb_status colb_learner_update(colb_learner *l, const double *x, double y, double w);

/* Scores of K >= 1 arms, X is K x d row-major (borrowed, every |entry| <=
 * COLB_CONTEXT_MAX); scores[k] receives <x_k, theta_hat> + width *
 * ||x_k||_{V^{-1}}. O(K d^2). Errors: COLB_EINVAL (NULL, K == 0),
 * COLB_ENONFIN (NaN/Inf in X), COLB_ERANGE (an entry beyond
 * COLB_CONTEXT_MAX, or K so large that the scratch's size overflows),
 * COLB_ENOMEM. */
colb_status colb_learner_scores(colb_learner *l, const double *X, size_t K, double *scores);

/* The index of the highest-scoring arm (ties to the lowest index). Same
 * errors as colb_learner_scores. */
colb_status colb_learner_choose(colb_learner *l, const double *X, size_t K, size_t *arm);

/* Copy theta_hat (d values) into `theta`. COLB_EINVAL (NULL) is its only
 * error, and records no message (l is const). */
colb_status colb_learner_theta(const colb_learner *l, double *theta);

/* Copy V^{-1} (d x d row-major) into `vinv`. As colb_learner_theta. */
colb_status colb_learner_vinv(const colb_learner *l, double *vinv);

/* ln det V, maintained in O(1) per update. */
double colb_learner_logdet(const colb_learner *l);

/* The current width: beta_t for COLB_WIDTH_OFUL, alpha for FIXED. */
double colb_learner_width(const colb_learner *l);

/* Smallest eigenvalue of V (O(d^3), colb's own symmetric eigensolver);
 * NaN on numerical failure. Its error is about d 2^-52 times the largest
 * eigenvalue: once that exceeds about 2^52 lambda / d (many updates with
 * contexts near the +-1e6 bound) it can come out below lambda, even 0 or
 * negative, though V is positive definite (colb's ALB-norm bound is then
 * left out). */
double colb_learner_min_eig(const colb_learner *l);

/* Dimension, number of updates, and the parameters in force (noise and
 * norm_bound as colb_learner_set_noise / set_norm_bound last set them). */
size_t colb_learner_dim(const colb_learner *l);
uint64_t colb_learner_count(const colb_learner *l);
void colb_learner_get_params(const colb_learner *l, colb_learner_params *p);

/* A message about the last failed call on `l` that changes it (naming the
 * bad argument), or "" if none. Owned by `l`, valid until the next call on it. */
const char *colb_learner_last_error(const colb_learner *l);

#ifdef __cplusplus
}
#endif
#endif
