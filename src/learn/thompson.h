/* thompson.h - Thompson sampling for the models of a ridge bank, and the
 * draw behind it for any model (the compact user bank's, user_bank.h) (internal):
 * linear Thompson sampling (Agrawal and Goyal, "Thompson sampling for
 * contextual bandits with linear payoffs", ICML 2013, Algorithm 1), the
 * alternative to the optimistic (UCB) scores of ridge.h that every
 * learner-based policy offers (colb_policy_params.sampling).
 *
 * One decision of model i draws
 *     theta~ = theta_i + v L z,   L L^T = A,  z ~ N(0, I_d),
 * i.e. theta~ ~ N(theta_i, v^2 A), and scores arm k by <x_k, theta~>. A is the
 * model's V_i^{-1}, or a caller's stand-in for it (the per-round hallucinated
 * copy of learn/diversify.h). The scale v is the same exploration width the
 * UCB scores use (colb__ridge_width: a fixed alpha or the OFUL radius): Agrawal
 * and Goyal's v = R sqrt(24 d ln(1/delta) / epsilon) is a theory constant of
 * the same role, and one width for every learner is what makes comparisons
 * fair (docs/algorithms.md).
 *
 * Draws come from the caller's generator (a policy's own stream), d normals
 * per decision, in the order of the calls: results are a pure function of the
 * seed and the call sequence. Kept apart from the UCB kernels of ridge.c on
 * purpose. Not thread-safe (the caller's work space and generator). */
#ifndef COLB_THOMPSON_H
#define COLB_THOMPSON_H

#include <stddef.h>

#include "colb/rng.h"
#include "linalg/ridge.h"

/* Doubles of work space colb__ts_scores needs for dimension d. */
size_t colb__ts_work(size_t d);

/* The draw itself, for any model: theta~ = theta + scale L z with L L^T = A
 * (d x d, full), or, when A is not numerically positive definite, theta +
 * scale L_V^{-T} z from V (d x d, may be NULL); without either the mean.
 * out[k] = <x_k, theta~> on the K x d contexts X. Exactly d normal draws from
 * rng. work: colb__ts_work(d) doubles. O(d^3 / 3 + K d). */
void colb__ts_draw(const double *A, const double *V, const double *theta, size_t d, double scale,
                   const double *X, size_t K, colb_rng *rng, double *out, double *work);

/* One posterior draw of model i scored on the K x d contexts X:
 * out[k] = <x_k, theta~>. A: d x d stand-in for V_i^{-1} (NULL: the model's
 * own). scale >= 0. work: colb__ts_work(d) doubles. Exactly d normal draws
 * from rng. If A is not numerically positive definite (a Cholesky failure),
 * the draw uses the model's own V_i instead (theta~ = theta_i + v L_V^{-T} z).
 * Cost O(d^3 / 3 + K d). */
void colb__ts_scores(const colb__ridge *r, size_t i, const double *A, double scale,
                     const double *X, size_t K, colb_rng *rng, double *out, double *work);

/* argmax of colb__ts_scores with the model's width as the scale (ties: the
 * lowest index). scores: K doubles of scratch. */
size_t colb__ts_choose(const colb__ridge *r, size_t i, const double *A, const double *X, size_t K,
                       colb_rng *rng, double *scores, double *work);

/* arms[i] = colb__ts_choose of every model i = 0..n-1 of r in order (one
 * draw each). scores: K doubles, work: colb__ts_work(d) doubles. */
void colb__ts_choose_all(const colb__ridge *r, const double *X, size_t K, colb_rng *rng,
                         size_t *arms, double *scores, double *work);

#endif
