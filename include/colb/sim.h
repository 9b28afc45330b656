/* colb/sim.h - the simulator: run policies on an environment for T rounds,
 * R repeats, in parallel threads, and collect regret.
 *
 * Reproducibility: repeat r of every policy uses the environment created
 * with seed env_seed(seed, r) - so all policies of a repeat see the same
 * users, contexts and noise (paired comparison) - and the policy's own
 * randomness comes from a stream named by (seed, r, policy name). No draw
 * depends on the thread that runs a job: results are bit-identical for any
 * number of threads.
 *
 * Protocol per round t = 1..T:
 *   shared contexts, batch policy:      begin_round; choose_all; observe_all;
 *                                       end_round
 *   shared contexts, sequential policy  begin_round; for u = 0..N-1 in order:
 *   (CLUB, round-robin):                choose(u); observe(u); end_round
 *   per-user contexts (logged data,     for u = 0..N-1: begin_round(X_u);
 *   CLUB protocol):                     choose(u); observe(u); end_round
 * Regret is pseudo-regret (colb_env_regret), averaged over users. */
#ifndef COLB_SIM_H
#define COLB_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "colb/env.h"
#include "colb/policy.h"
#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Makes the environment of one repeat; `ctx` is colb_sim_spec.env_ctx.
 * Returns COLB_OK with a new environment in *out (the simulator owns and
 * frees it), or an error status with a reason in msg (msg_len bytes). A
 * factory that returns COLB_OK without an environment fails the job with
 * COLB_EINVAL, and an error without a reason gets one naming the factory.
 *
 * True clusters. Every job's policy gets the true clusters of its own
 * environment (colb_env_true_clusters), which the oracles ("oracle",
 * "oracle-batch", "oracle-seq": colb_policy_needs_true_clusters) need.
 * Without a factory, env.kind must then be COLB_ENV_CLUSTERED (COLB_EINVAL
 * before any work otherwise). A factory's environments are known only once
 * made: a job whose environment has no true clusters (personalized users,
 * logged data) fails as it starts, with COLB_EINVAL and a message naming
 * the job. */
typedef colb_status (*colb_env_factory)(void *ctx, uint64_t seed, colb_env **out, char *msg,
                                        size_t msg_len);

typedef struct colb_sim_spec {
    colb_env_params env;          /* used when make_env is NULL */
    colb_env_factory make_env;    /* optional: custom environments (data sets) */
    void *env_ctx;
    colb_policy_params policy;    /* users, dim, horizon, true clusters are filled in */
    const char *const *policies;  /* n_policies names (borrowed) */
    size_t n_policies;
    size_t horizon;               /* T rounds, 1 to COLB_HORIZON_MAX */
    size_t repeats;               /* R >= 1 */
    uint64_t seed;
    size_t threads;               /* worker threads; 0 or 1: run in the caller;
                                     at most COLB_SIM_THREADS_MAX (1024, as the
                                     "threads" key of colb/params.h), COLB_ERANGE
                                     beyond (colb_sim_create, colb_sim_run, the
                                     tunings of colb/tune.h) */
    size_t curve_points;          /* checkpoints of the regret curve (at most T
                                     are kept; 0 means the default, 100) */
    /* Optional: called from worker threads (serialised by the simulator)
     * after each finished job with (done, total). */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
    /* Memory budget (colb/limits.h): colb_sim_run fails with COLB_ENOMEM
     * before any work when colb_sim_memory exceeds it; 0 means the default
     * budget; at most COLB_MEMORY_MAX (1024T, COLB_ERANGE beyond). With
     * make_env, env_bytes is the size of one environment it makes (0 if
     * unknown) and env.users / env.dim / env.arms must be those of its
     * environments for the estimate to hold (arms: each job's round). */
    size_t max_memory;
    size_t env_bytes;

    /* Optional: asked by every job before every round (from worker
     * threads, concurrently: it must only read, e.g. a flag set by a signal
     * handler); non-zero stops the jobs between rounds, and the call that
     * was running them returns COLB_EINTR with a consistent, saveable
     * state (colb/snapshot.h). */
    int (*stop)(void *ctx);
    void *stop_ctx;
} colb_sim_spec;

typedef struct colb_sim_result colb_sim_result;

/* Fill `s` with defaults (env and policy defaults, T = 1000, R = 30,
 * seed 1, 1 thread, 100 curve points, no policies); NULL harmless. */
void colb_sim_spec_default(colb_sim_spec *s);

/* Run every (policy, repeat) job. On error, *out is NULL and msg says which
 * job failed and why (COLB_EINTR: s->stop asked to stop). The result is
 * owned by the caller (colb_sim_result_free). */
colb_status colb_sim_run(const colb_sim_spec *s, colb_sim_result **out, char *msg, size_t msg_len);

void colb_sim_result_free(colb_sim_result *r);

/* An estimate of the bytes colb_sim_run(s) allocates at its peak: the
 * results (policies x repeats x curve points); for each thread at work,
 * one environment, the largest of the policies and its round of K arms
 * (colb/policy.h, colb_policy_round_check); and, with two policies
 * or more on environments made from s->env (no make_env), the rounds the
 * jobs of a repeat share: the repeat's T rounds of contexts, noise and
 * means drawn once, T (K d + N + G (K + 1) + 8) doubles for N users in G
 * clusters (G = N when personalized), for min(threads, repeats) repeats at
 * once - a repeat whose rounds would take more than 64M draws them in
 * each job instead, and is not counted; so does every repeat when the run
 * fits its budget (max_memory; 0: the default, which follows the available
 * memory) only without them. The shared rounds change no result. COLB_EINVAL
 * on NULL, COLB_ENOTFOUND for an unknown policy. O(policies). */
colb_status colb_sim_memory(const colb_sim_spec *s, double *bytes);

size_t colb_sim_result_policies(const colb_sim_result *r);
size_t colb_sim_result_repeats(const colb_sim_result *r);
size_t colb_sim_result_points(const colb_sim_result *r);

/* Round index (1-based) of checkpoint k. */
size_t colb_sim_result_point_round(const colb_sim_result *r, size_t k);

/* Average (over users) cumulative regret of policy i, repeat j, at
 * checkpoint k; the last checkpoint is T. NaN for bad indices. */
double colb_sim_result_regret(const colb_sim_result *r, size_t i, size_t j, size_t k);

/* Wall-clock seconds of job (i, j). */
double colb_sim_result_wall(const colb_sim_result *r, size_t i, size_t j);

/* colb_policy_info of policy i at the end of repeat j ("" if none). */
const char *colb_sim_result_info(const colb_sim_result *r, size_t i, size_t j);

/* ---- a simulation in progress: advance, stop, save, resume -------------- */

/* A simulation that runs in steps: every (policy, repeat) job keeps its
 * environment, its policy and the regret accumulated so far between calls,
 * and the whole can be saved and loaded (colb/snapshot.h). colb_sim_run is
 * create + advance to T + results. Running in steps, stopping and resuming
 * (also from a snapshot, with any number of threads) give results that are
 * bit-identical to an uninterrupted run. */
typedef struct colb_sim colb_sim;

/* Validate s (as colb_sim_run does) and set up the jobs; nothing runs yet.
 * s is copied and the policy names too; make_env's context and the
 * callbacks' contexts are borrowed and must outlive the simulation. */
colb_status colb_sim_create(const colb_sim_spec *s, colb_sim **out, char *msg, size_t msg_len);

/* Run every unfinished job up to round `until` (0 or more than T: to T), in
 * parallel (spec threads). A job that reaches T records its final regret,
 * wall time and info and frees its environment and policy. Returns
 * COLB_EINTR when spec stop asked to stop first (jobs stop between rounds;
 * those not started stay unstarted), else COLB_OK or the first job's error
 * (msg names the job). Memory: every started, unfinished job's environment
 * and policy stay alive between calls; so an advance to a round before T
 * is checked against the budget (spec max_memory) for every unfinished
 * job at once, COLB_ENOMEM before any job runs. */
colb_status colb_sim_advance(colb_sim *sim, size_t until, char *msg, size_t msg_len);

/* 1 when every job has reached T. */
int colb_sim_finished(const colb_sim *sim);

/* Rounds completed by job (policy i, repeat r); 0 for bad indices. */
size_t colb_sim_job_round(const colb_sim *sim, size_t i, size_t r);

/* The smallest round any job has completed. */
size_t colb_sim_round(const colb_sim *sim);

/* The results (owned by sim): complete once colb_sim_finished; before that
 * only finished jobs' entries are meaningful. */
const colb_sim_result *colb_sim_results(const colb_sim *sim);

/* The spec the simulation runs (its copy; policies point at its own
 * copies of the names). */
const colb_sim_spec *colb_sim_spec_of(const colb_sim *sim);

/* Free; NULL harmless. */
void colb_sim_free(colb_sim *sim);

/* Mean of x[0..n) and the half-width of its 95% confidence interval
 * (Student t with n-1 degrees of freedom; NaN when n < 2: with one value
 * the interval is undefined, not zero). Finite values give a finite mean
 * whatever their magnitude, and a finite half-width unless it exceeds
 * DBL_MAX itself. x NULL counts as no values (n = 0); mean or half may be
 * NULL when not wanted. */
void colb_mean_ci95(const double *x, size_t n, double *mean, double *half);

#ifdef __cplusplus
}
#endif
#endif
