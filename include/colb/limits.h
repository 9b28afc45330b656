/* colb/limits.h - the ranges of numbers the library accepts and the memory
 * budget it checks before allocating.
 *
 * Numbers. Every public call that takes contexts, rewards, weights or scale
 * parameters checks them against these ranges (COLB_ERANGE outside them,
 * COLB_ENONFIN for NaN/Inf) before it changes any state. The ranges are
 * chosen so that no update can overflow: with |x_i| <= 1e6, d <= 2^16,
 * lambda >= 1e-6, weights <= 2^32 and |y| <= 1e9, after even 2^64 updates
 * every entry of V and b stays below 1e45, x^T V^-1 x below 1e23 and
 * ||theta|| below 1e53 (||V^-1|| <= 1/lambda bounds every product); a
 * double overflows at 1.8e308. The scale parameters (widths, noise scales,
 * norm bounds, CLUB's and CMLB's constants) are at most 1e6, which keeps
 * every score below 1e18. A learner's prior mean theta0 has entries within
 * +-1e6 too: then |<x, theta0>| < 1e17, b stays below 1e52 and ||theta||
 * below 1e61. What the ranges cannot exclude is rounding. The learners keep
 * V^-1, updated by Sherman-Morrison, whose relative error grows like
 * 1e-16 times V's condition number, at most 1 + n ||x||^2 / lambda after n
 * updates (n along one direction; ||x||^2 / lambda for the largest
 * ||x||^2 / lambda seen, when the contexts keep changing direction). For a
 * single context that ratio reaches 1e18 within the ranges (a context of
 * 1e6 with lambda = 1e-6), where V^-1 no longer holds the directions the
 * data pin down (its entries mix 1/lambda with 1/||x||^2) and the estimates
 * are finite but lost to rounding, for good in the per-user banks (which
 * keep V^-1 alone; models that also keep V are refactored from it every
 * 4096 updates). Scale contexts, or choose lambda, so that ||x||^2 / lambda
 * stays below about 1e8 (1e-8 relative accuracy); contexts of norm <= 1 and
 * lambda = 1 keep it below 1. A state that turns non-finite (the same
 * extreme vector again and again can break Sherman-Morrison down) is
 * detected after the update and reported as COLB_ENUMERIC, never as
 * success: a learner undoes the update; a policy is fenced (colb/policy.h).
 *
 * Memory. Creating a policy, an environment or a simulation, and loading a
 * data set, first estimates the bytes it will allocate and fails with
 * COLB_ENOMEM and a message naming the input and the estimate when that
 * exceeds the budget given in its parameters (max_memory; 0 means
 * colb_memory_budget_default(); more than COLB_MEMORY_MAX is COLB_ERANGE). */
#ifndef COLB_LIMITS_H
#define COLB_LIMITS_H

#include <stddef.h>

#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COLB_CONTEXT_MAX 1e6            /* |entry| of a context vector */
#define COLB_REWARD_MAX 1e9             /* |reward| */
#define COLB_WEIGHT_MAX 4294967296.0    /* learner update weight, 2^32 */
#define COLB_LAMBDA_MIN 1e-6            /* ridge regulariser lambda */
#define COLB_LAMBDA_MAX 1e6
#define COLB_SCALE_MAX 1e6              /* widths, noise scales, norm bounds,
                                           environment noise and spread,
                                           CMLB's C and gamma, CLUB's alphas,
                                           |entry| of a learner's prior mean */
#define COLB_DIM_MAX 65536u             /* context dimension d */
#define COLB_MODEL_DIM_MAX 4096u        /* d of a policy that keeps d x d
                                           models (every policy but random) */
#define COLB_HORIZON_MAX 1000000000u    /* rounds T of a simulation */
#define COLB_ZIPF_MAX 50.0              /* exponent z of the clustered
                                           environment's cluster sizes */
#define COLB_POLICY_THREADS_MAX 256u    /* colb_policy_params.threads */
#define COLB_SIM_THREADS_MAX 1024u      /* colb_sim_spec.threads (the run's
                                           "threads" key, colb run -j) */
#define COLB_MEMORY_MAX 1125899906842624.0 /* 2^50 bytes (1 PiB, "1024T"): the
                                           largest memory budget: of a text
                                           value (colb/params.h, colb run
                                           --max-memory) and of every
                                           max_memory the library takes
                                           (COLB_ERANGE beyond); beyond any
                                           machine's memory, so a larger one
                                           is a typo */

/* The default memory budget in bytes: 80% of the memory available to the
 * process (MemAvailable of /proc/meminfo, capped by a cgroup v2 limit in
 * /sys/fs/cgroup/memory.max), or of the physical memory (sysconf) where
 * those cannot be read. Reads the files on every call (cost: a few
 * microseconds; the library's own checks of a need of at most 64 MiB,
 * which every default budget holds, read nothing); never fails (at least
 * 64 MiB). Thread-safe. */
size_t colb_memory_budget_default(void);

/* `bytes` in the units a memory budget is given in (--max-memory, the
 * "max-memory" key of colb/params.h): K, M, G, T for powers of 1024, with
 * up to 4 significant digits, into out (len bytes, cut if it must be):
 * "20G" for 20 x 2^30, "21.47G", "512M", "12.5T", "4.7e+05T" past 1024T,
 * and "300 bytes" ("1 byte") below 1K, rounded to a whole byte. Every
 * message of the library and the tool about the memory budget or an
 * estimate of memory writes sizes so, and a size so written (but bytes)
 * reads back as a budget. Errors: COLB_EINVAL (out NULL or len 0: nothing
 * written), COLB_ENONFIN (bytes NaN or infinite), COLB_ERANGE (bytes
 * negative); out then holds "" (no size). Thread-safe; O(1). */
colb_status colb_memory_text(char *out, size_t len, double bytes);

#ifdef __cplusplus
}
#endif
#endif
