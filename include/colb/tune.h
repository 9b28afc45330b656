/* colb/tune.h - hyper-parameter tuning by burn-in simulation.
 *
 * The paper (Section 6.1) tunes CLUB's two constants "for each setting by
 * considering the performance over the first 500 rounds and choosing the
 * best one". colb_club_tune does exactly that: for every pair (alpha,
 * alpha2) of a grid it simulates CLUB for a short burn-in on environments
 * drawn from a seed of their own (so that the tuning never sees the
 * evaluation's users, contexts or noise) and returns the pair of least mean
 * regret. */
#ifndef COLB_TUNE_H
#define COLB_TUNE_H

#include <stddef.h>
#include <stdint.h>

#include "colb/sim.h"
#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default grid, as initialisers:
 *     static const double a[] = COLB_CLUB_TUNE_ALPHAS;
 *     static const double a2[] = COLB_CLUB_TUNE_ALPHA2S;           */
#define COLB_CLUB_TUNE_ALPHAS { 0.1, 0.2, 0.4, 0.8, 1.6 }
#define COLB_CLUB_TUNE_N_ALPHAS 5
#define COLB_CLUB_TUNE_ALPHA2S { 0.5, 1.0, 2.0, 4.0, 8.0 }
#define COLB_CLUB_TUNE_N_ALPHA2S 5

/* Default burn-in: rounds (the paper's 500) and repeats per grid point. */
#define COLB_CLUB_TUNE_ROUNDS 500
#define COLB_CLUB_TUNE_REPEATS 3

/* The burn-in runs with master seed spec->seed ^ COLB_CLUB_TUNE_SEED_XOR
 * (the ASCII bytes "ClubTune"), so its environments differ from those of an
 * evaluation run with spec->seed. */
#define COLB_CLUB_TUNE_SEED_XOR UINT64_C(0x436c756254756e65)

/* Memory (both tunings): the grid points run min(spec->threads, number of
 * points) at a time, each a one-thread simulation holding one environment
 * and one policy (colb_sim_memory of a point's spec); that many are
 * checked against spec->max_memory before any work (COLB_ENOMEM, the
 * message naming the points and the estimate). The burn-in's rounds are
 * drawn once for all points only when every repeat's record of them fits
 * what the budget leaves; otherwise each point draws its own (the same
 * values, more time). */

/* Tune CLUB's exploration alpha and edge-deletion constant alpha2.
 *
 * For every pair (alphas[i], alpha2s[j]) in grid order (i outer, j inner)
 * this runs colb_sim_run with the single policy "club" and a copy of `spec`
 * in which only these fields are changed: policies/n_policies ("club"),
 * horizon = burn_in_rounds, repeats = burn_in_repeats, seed = spec->seed ^
 * COLB_CLUB_TUNE_SEED_XOR, curve_points = 1, progress = NULL,
 * policy.club_own_alpha = 1 (CLUB's published bonus with its own alpha: the
 * paper's protocol, not colb's shared width), policy.club_alpha and
 * policy.club_alpha2. Everything else (environment or
 * make_env, lambda, the initial graph, threads) is used as given. The score
 * of a pair is the user-averaged cumulative regret after burn_in_rounds
 * rounds, averaged over the repeats; the pair of least score is returned in
 * *best_alpha, *best_alpha2 (ties: the first in grid order).
 *
 * burn_in_rounds == 0 means COLB_CLUB_TUNE_ROUNDS; burn_in_repeats == 0
 * means COLB_CLUB_TUNE_REPEATS; a grid given as NULL with length 0 means
 * the default grid above (for bindings, which cannot read the macros).
 * Deterministic: the result depends only on the arguments, not on
 * spec->threads.
 *
 * Cost: at most n_alphas * n_alpha2s * burn_in_repeats CLUB runs of
 * burn_in_rounds * N steps each (a grid point stops once its regret so far
 * exceeds the least score of a finished point, which cannot change the
 * choice).
 *
 * Errors (a reason naming the bad argument or the failing grid point goes to
 * msg, msg_len bytes, may be NULL): COLB_EINVAL (NULL spec, grid or outputs,
 * empty grid), COLB_ENONFIN (a NaN or Inf in a grid), COLB_ERANGE (an alpha <
 * 0 or an alpha2 <= 0, or n_alphas * n_alpha2s beyond SIZE_MAX), and any
 * error of colb_sim_run. On error the outputs
 * are not written. Thread safety: as colb_sim_run (spec is only read). */
colb_status colb_club_tune(const colb_sim_spec *spec, const double *alphas, size_t n_alphas,
                           const double *alpha2s, size_t n_alpha2s, size_t burn_in_rounds,
                           size_t burn_in_repeats, double *best_alpha, double *best_alpha2,
                           char *msg, size_t msg_len);

/* Tune one policy's exploration width the same way for every policy (what
 * makes tuning fair: "every policy of a run tuned by the same procedure and
 * budget, or none"). For every alpha of the grid, in order, this runs
 * colb_sim_run with the single policy `policy` and a copy of `spec` in which
 * only these fields change: policies/n_policies, horizon = burn_in_rounds,
 * repeats = burn_in_repeats, seed = spec->seed ^ COLB_WIDTH_TUNE_SEED_XOR,
 * curve_points = 1, progress = NULL, policy.learner.width =
 * COLB_WIDTH_FIXED, policy.learner.alpha = alphas[i] and
 * policy.club_own_alpha = 0 (CLUB explores with the shared width). The
 * alpha of least mean regret after the burn-in goes to *best_alpha (ties:
 * the first). burn_in_rounds / burn_in_repeats 0 mean COLB_CLUB_TUNE_ROUNDS
 * / COLB_CLUB_TUNE_REPEATS; a grid given as NULL with length 0 means
 * COLB_WIDTH_TUNE_ALPHAS. Deterministic, independent of spec->threads.
 * Cost: at most n_alphas * burn_in_repeats runs of burn_in_rounds rounds
 * (pruned exactly as colb_club_tune's: a point whose running regret already
 * exceeds a finished point's score is stopped).
 * Errors as colb_club_tune (a reason naming the grid point in msg). */
#define COLB_WIDTH_TUNE_SEED_XOR UINT64_C(0x5769647468546e65) /* "WidthTne" */
#define COLB_WIDTH_TUNE_ALPHAS { 0.05, 0.1, 0.25, 0.5, 1.0 }
#define COLB_WIDTH_TUNE_N_ALPHAS 5
colb_status colb_width_tune(const colb_sim_spec *spec, const char *policy, const double *alphas,
                            size_t n_alphas, size_t burn_in_rounds, size_t burn_in_repeats,
                            double *best_alpha, char *msg, size_t msg_len);

#ifdef __cplusplus
}
#endif
#endif
