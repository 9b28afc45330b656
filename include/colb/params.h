/* colb/params.h - parameters by name: set and read the fields of
 * colb_policy_params, colb_env_params and colb_sim_spec with text keys and
 * values, and list the keys with their type, range, default and help.
 *
 * Keys are the long options of `colb run` where one exists ("lambda",
 * "cmlb-alpha", "users"; docs/experiments.md), so that a command line, an
 * experiment file and a language binding name a setting the same way.
 * Values are text, read strictly (the whole string, no leading or trailing
 * junk):
 *   int     a decimal integer within [min, max]            "200"
 *   real    a finite decimal number within [min, max]      "0.5", "1e-3"
 *   bool    0/1, true/false, yes/no                        "1"
 *   choice  one of the key's choices "a|b|c"               "oful"
 *   bytes   a byte count, K/M/G/T = powers of 1024         "512M", "8G", "1e9"
 *           (0, or at least one byte: "0.5" is refused, not read as 0;
 *           without a unit a whole number: "1.5" is refused (COLB_EINVAL),
 *           not cut to 1 byte; with one, rounded down to a whole byte;
 *           at most COLB_MEMORY_MAX = 1024T, COLB_ERANGE beyond)
 * Hex, "nan" and "inf" are refused. A set call checks the value before it
 * changes the field and leaves the struct unchanged on error; it checks one
 * field, not the combination (colb_policy_params_check and
 * colb_env_params_check do that).
 *
 * Bindings (the Python package of python/ is one): a language without C
 * structs holds the parameters in an opaque buffer of the size given by
 * the *_size calls (the libuv uv_loop_size pattern), filled by the
 * _default call and these setters; it never needs the struct layout.
 *
 * Every call here is O(number of keys), allocates nothing, and is
 * thread-safe on distinct structs. Messages go to msg (msg_len bytes; msg
 * may be NULL). */
#ifndef COLB_PARAMS_H
#define COLB_PARAMS_H

#include <stddef.h>

#include "colb/env.h"
#include "colb/policy.h"
#include "colb/sim.h"
#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum colb_param_type {
    COLB_PARAM_INT = 0,
    COLB_PARAM_REAL = 1,
    COLB_PARAM_BOOL = 2,
    COLB_PARAM_CHOICE = 3,
    COLB_PARAM_BYTES = 4
} colb_param_type;

/* One key, as listed by the *_param_info calls. */
typedef struct colb_param_info {
    const char *key;           /* static */
    colb_param_type type;
    const char *type_name;     /* "int", "real", "bool", "choice", "bytes"; static */
    const char *choices;       /* choice: "a|b|c" (index 0 first); else ""; static */
    double min, max;           /* int, real: the inclusive range; else 0. An
                                * int's bound beyond 2^53 is its nearest double:
                                * the seed's max 1.8446744073709552e19 stands
                                * for UINT64_MAX (2^64 - 1; 2^64 is refused) */
    char default_value[32];    /* the default, as text a set call accepts; "" when
                                  there is none (a policy's users and dim must
                                  be given) */
    const char *help;          /* one line; static */
} colb_param_info;

/* ---- policy parameters --------------------------------------------------- */

/* sizeof(colb_policy_params), for bindings. */
size_t colb_policy_params_size(void);

/* Set field `key` of p from the text `value`. Errors: COLB_ENOTFOUND
 * (unknown key; a NULL key is one, as a NULL name is an unknown policy for
 * colb_policy_create), COLB_EINVAL (NULL p or value with a known key, a
 * value that is not of the key's type), COLB_ERANGE (a number outside the
 * key's range), COLB_ENONFIN ("nan", "inf"); msg names the key and the
 * value. */
colb_status colb_policy_params_set(colb_policy_params *p, const char *key, const char *value,
                                   char *msg, size_t msg_len);

/* Field `key` of p as text (the shortest decimal that reads back as the
 * same double; a choice by name) into value (len bytes, truncated).
 * Errors: COLB_EINVAL (NULL p or value), COLB_ENOTFOUND (unknown or NULL
 * key). */
colb_status colb_policy_params_get(const colb_policy_params *p, const char *key, char *value,
                                   size_t len);

/* The true clusters of the users (the oracle needs them): labels[0..users)
 * in [0, n_clusters), borrowed by p until colb_policy_create copies them;
 * NULL and 0 clear them. Errors: COLB_EINVAL (NULL p, or labels NULL with
 * n_clusters > 0). The labels are checked by colb_policy_params_check. */
colb_status colb_policy_params_set_clusters(colb_policy_params *p, const size_t *labels,
                                            size_t n_clusters);

/* The keys of colb_policy_params: count, and key i (i < count) into *info
 * (its default from colb_policy_params_default). Errors: COLB_EINVAL
 * (NULL), COLB_ERANGE (i >= count). */
size_t colb_policy_param_count(void);
colb_status colb_policy_param_info(size_t i, colb_param_info *info);

/* The parameters in force of policy p (owned by p; users follows
 * colb_policy_add_users), to read by key with colb_policy_params_get, e.g.
 * the dimension of a loaded policy. NULL for NULL. O(1). */
const colb_policy_params *colb_policy_params_of(const colb_policy *p);

/* 1 if policy `name` (a name or an alias: "recommended" answers as
 * "cohort") reads key `key` (its value can change what the policy does), 0
 * if it ignores it, -1 for an unknown policy or key. A policy not
 * named in the table of src/policies/policy_params.c reads the keys every
 * policy reads and those marked "all but ...". */
int colb_policy_param_used(const char *name, const char *key);

/* ---- environment parameters ---------------------------------------------- */

/* As for policies: size, set, get, count and info of colb_env_params
 * (key "env" is the kind: clustered or personalized). */
size_t colb_env_params_size(void);
colb_status colb_env_params_set(colb_env_params *p, const char *key, const char *value, char *msg,
                                size_t msg_len);
colb_status colb_env_params_get(const colb_env_params *p, const char *key, char *value,
                                size_t len);
size_t colb_env_param_count(void);
colb_status colb_env_param_info(size_t i, colb_param_info *info);

/* 1 if the kind of environment `env` ("clustered" or "personalized", the
 * choices of key "env") reads key `key`, 0 if it ignores it (clusters and
 * zipf are the clustered users', sigma-theta and normalize the
 * personalized users'), -1 for an unknown kind or key (or NULL). Lets a
 * client refuse a setting that would change nothing, as colb run does. */
int colb_env_param_used(const char *env, const char *key);

/* ---- simulation specs ----------------------------------------------------- */

/* sizeof(colb_sim_spec), for bindings. */
size_t colb_sim_spec_size(void);

/* Set key `key` of s: the run's own keys (horizon, repeats, seed, threads,
 * curve-points, max-memory: see colb_sim_param_info) first, then the
 * environment's keys (s->env), then the policies' keys (s->policy); so
 * "users" and "dim" set the environment (the simulator gives every policy
 * the environment's) and "seed" the master seed. Errors as
 * colb_policy_params_set. */
colb_status colb_sim_spec_set(colb_sim_spec *s, const char *key, const char *value, char *msg,
                              size_t msg_len);

/* Key `key` of s as text, looked up in the same order. */
colb_status colb_sim_spec_get(const colb_sim_spec *s, const char *key, char *value, size_t len);

/* Point s at n policy names (borrowed: they must outlive every use of s).
 * COLB_EINVAL on NULL s, or NULL names with n > 0. */
colb_status colb_sim_spec_set_policies(colb_sim_spec *s, const char *const *names, size_t n);

/* The tunings of colb/tune.h that a run applies to s before it runs, for
 * colb_sim_spec_param_read (a bit set): each changes which keys are read. */
#define COLB_TUNED_WIDTH 1u /* colb_width_tune chooses every policy's fixed width */
#define COLB_TUNED_CLUB 2u  /* colb_club_tune chooses CLUB's club-alpha, club-alpha2 */

/* 1 if some policy of s (s->policies[0..n_policies), names or aliases)
 * reads policy key `key` (colb_policy_param_info's keys) with the
 * parameters of s->policy as set and the tunings `tuned`, so that its value
 * can change the run; 0 if none does (also with no policies). Lets a
 * client refuse a setting that would change nothing, as colb run does. A
 * policy reads a key when colb_policy_param_used says it may, and:
 *   - the shared width (width; alpha only with width = fixed) unless the
 *     width is tuned (COLB_TUNED_WIDTH: every policy runs on a fixed width
 *     that the tuning chooses) or the policy is CLUB on its own width
 *     (club_own_alpha = 1, or COLB_TUNED_CLUB);
 *   - delta, learner-noise, norm-bound: in the OFUL radius, which is the
 *     width only with the shared width = oful (Thompson sampling too: its
 *     draws' scale is the width); besides, delta sets CMLB's T_explore
 *     (SCLB's phases are CMLBs), the radii of CMLB's data threshold
 *     (cmlb-threshold data with cmlb-gamma <= 0; SCLB's with data always)
 *     read all three, and so do PMLB's ALB-norm bounds (pmlb-learner
 *     alb-norm); cohort's tests read learner-noise;
 *   - cmlb-threshold: SCLB, and CMLB only with cmlb-gamma <= 0;
 *   - club-alpha only with club_own_alpha = 1, and club-alpha and
 *     club-alpha2 not with COLB_TUNED_CLUB (the tuning chooses them).
 * Errors: -1 for a NULL s, a NULL key or one that is not a policy key, a
 * NULL policies with n_policies > 0, an unknown policy name, or bits of
 * `tuned` other than COLB_TUNED_*. O(policies x keys); allocates nothing;
 * thread-safe (s is only read). */
int colb_sim_spec_param_read(const colb_sim_spec *s, const char *key, unsigned tuned);

/* The run's own keys (those of colb_sim_spec outside env and policy). */
size_t colb_sim_param_count(void);
colb_status colb_sim_param_info(size_t i, colb_param_info *info);

#ifdef __cplusplus
}
#endif
#endif
