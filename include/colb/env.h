/* colb/env.h - environments: where users' rewards come from.
 *
 * An environment draws, round by round, K context vectors and one noise value
 * per user; the reward of user u for arm k is <theta_u, x_k> + noise_u (or the
 * logged 0/1 reward for data sets). All the randomness of a run derives from
 * (seed, stream) pairs of colb/rng.h: the users' parameters, the contexts and
 * the noise each have their own stream, so two policies run on environments
 * created with the same seed see exactly the same users, contexts and noise
 * (paired comparisons), whatever they choose.
 *
 * Kinds:
 *   COLB_ENV_CLUSTERED    N users in L clusters: one user in each, the other
 *                         N - L shared in proportion to l^{-z}
 *                         (colb_cluster_sizes); each cluster's theta uniform on
 *                         the unit sphere; contexts i.i.d. N(0, I/d).
 *   COLB_ENV_PERSONALIZED theta_u ~ N(mu, sigma_theta^2 I), mu ~ N(0, I)
 *                         (or, with normalize, mu and every theta_u rescaled
 *                         to norm <= 1); contexts i.i.d. N(0, I/d).
 *   logged data sets      see colb/dataset.h (colb_env_create_logged).
 */
#ifndef COLB_ENV_H
#define COLB_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "colb/limits.h"
#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum colb_env_kind {
    COLB_ENV_CLUSTERED = 0,
    COLB_ENV_PERSONALIZED = 1,
    COLB_ENV_LOGGED = 2
} colb_env_kind;

typedef struct colb_env_params {
    colb_env_kind kind;  /* default COLB_ENV_CLUSTERED */
    size_t users;        /* N in [1, 2^31]; default 100 */
    size_t clusters;     /* L in [1, N] (clustered); default 4 */
    double zipf;         /* z in [0, COLB_ZIPF_MAX = 50]: cluster shares
                            ~ l^{-z} (colb_cluster_sizes); default 0 */
    size_t dim;          /* d in [1, 4096]; default 15 */
    size_t arms;         /* K in [1, 10^6]; default 25 */
    double noise;        /* sigma in [0, COLB_SCALE_MAX] of the Gaussian reward
                            noise; default 0.1 */
    double sigma_theta;  /* personalized spread in [0, COLB_SCALE_MAX]; default 0.1 */
    int normalize;       /* 0 or 1; personalized: 1 rescales so that
                            ||theta_u|| <= 1; default 0 */
    int cluster_sizes;   /* clustered: how the N users are shared among the
                            L clusters (colb_cluster_sizes_rule):
                            COLB_SIZES_ONE_EACH (default) or
                            COLB_SIZES_PROPORTIONAL */
    size_t max_memory;   /* bytes colb_env_create may use (colb/limits.h); 0: the
                            default budget; at most COLB_MEMORY_MAX (1024T) */
} colb_env_params;

typedef struct colb_env colb_env;

/* Fill `p` with the defaults listed above; NULL harmless. */
void colb_env_params_default(colb_env_params *p);

/* Check `p`, including noise and sigma_theta <= COLB_SCALE_MAX and the
 * memory budget; writes a one-line reason naming the bad field into msg.
 * Errors: COLB_EINVAL (NULL, unknown kind), COLB_ENONFIN (a NaN/Inf
 * field), COLB_ERANGE (a field outside the range above), COLB_ENOMEM (over
 * the budget). */
colb_status colb_env_params_check(const colb_env_params *p, char *msg, size_t msg_len);

/* An estimate of the bytes colb_env_create(p) allocates. COLB_EINVAL on
 * NULL. O(1). */
colb_status colb_env_memory(const colb_env_params *p, double *bytes);

/* Create a synthetic environment (clustered or personalized) drawing from
 * master seed `seed`; the users' parameters are drawn at once. */
colb_status colb_env_create(const colb_env_params *p, uint64_t seed, colb_env **out,
                            char *msg, size_t msg_len);

void colb_env_free(colb_env *e);

size_t colb_env_users(const colb_env *e);
size_t colb_env_dim(const colb_env *e);
size_t colb_env_arms(const colb_env *e);

/* 1 if every user of a round sees the same contexts (synthetic; the
 * multi-agent protocol on logged data), 0 if contexts are drawn per user
 * (the CLUB protocol on logged data: see colb/dataset.h). */
int colb_env_shared_contexts(const colb_env *e);

/* Draw the next round: contexts and every user's noise. */
colb_status colb_env_next_round(colb_env *e);

/* Rounds drawn so far (a loaded environment continues the count). */
uint64_t colb_env_rounds(const colb_env *e);

/* The contexts user u sees in the current round (K x d, owned by e, valid
 * until the next colb_env_next_round). For shared-context environments the
 * same array for every u. NULL before the first round (colb_env_rounds ==
 * 0), for u >= N and for e NULL. */
const double *colb_env_contexts(colb_env *e, size_t u);

/* Observed reward of user u for arm k in the current round; NaN before the
 * first round, for u >= N, k >= K and e NULL. */
double colb_env_reward(const colb_env *e, size_t u, size_t k);

/* Pseudo-regret of user u for arm k in the current round:
 * max_j E[reward(u, j)] - E[reward(u, k)] >= 0; NaN as colb_env_reward. */
double colb_env_regret(const colb_env *e, size_t u, size_t k);

/* The true clusters (labels[0..N), *n_clusters); COLB_EUNSUP if the
 * environment has none. */
colb_status colb_env_true_clusters(const colb_env *e, size_t *labels, size_t *n_clusters);

/* The true parameter of user u (d values); COLB_EUNSUP for logged data. */
colb_status colb_env_theta(const colb_env *e, size_t u, double *theta);

/* How colb_cluster_sizes_rule shares N users among L clusters, both
 * largest-remainder rounding (ties to the smaller l), both every cluster
 * non-empty:
 *   COLB_SIZES_ONE_EACH      one user in each, the other N - L shared in
 *                            proportion to l^{-z} (colb_cluster_sizes);
 *   COLB_SIZES_PROPORTIONAL  N shared in proportion to l^{-z}, the paper's
 *                            "frequency of cluster i proportional to i^-z";
 *                            a cluster that rounding leaves empty takes one
 *                            user from the largest (N = 50, L = 10, z = 1:
 *                            17 users in the first, against 15). */
#define COLB_SIZES_ONE_EACH 0
#define COLB_SIZES_PROPORTIONAL 1

/* Cluster sizes by `rule` (above) into sizes[0..L), summing to N. Errors as
 * colb_cluster_sizes, and COLB_ERANGE for an unknown rule. */
colb_status colb_cluster_sizes_rule(size_t N, size_t L, double z, int rule, size_t *sizes);

/* Cluster sizes of the clustered model by the default rule,
 * COLB_SIZES_ONE_EACH: sizes[0..L) summing to N, each 1 plus a share of the
 * other N - L in proportion to l^{-z}. z in [0, COLB_ZIPF_MAX], as
 * colb_env_params.zipf. Errors: COLB_EINVAL (sizes NULL,
 * L == 0 or L > N), COLB_ENONFIN (z NaN or infinite), COLB_ERANGE (z outside
 * its range, or N beyond 2^53), COLB_ENOMEM; sizes is untouched on error. */
colb_status colb_cluster_sizes(size_t N, size_t L, double z, size_t *sizes);

#ifdef __cplusplus
}
#endif
#endif
