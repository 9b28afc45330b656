/* env_params.c - colb_env_params by name (colb/params.h): the table of the
 * environment keys, with the names and ranges of the options of `colb run`
 * (cli/options.c). A new field of colb_env_params gets a row here (the
 * size check below fails the build until it has one). */
#include <stddef.h>
#include <string.h>

#include "colb/params.h"
#include "core/param_table.h"

#if defined(__LP64__)
_Static_assert(sizeof(colb_env_params) == 80,
               "colb_env_params changed: add a row for the new field to KEYS in env_params.c, "
               "then update this size");
#endif

/* A key's last field names the one kind of environment that reads it
 * (colb_env_param_used); NULL: every kind reads it. */
#define F(f) offsetof(colb_env_params, f)
static const colb__param KEYS[] = {
    { "env", COLB_PARAM_CHOICE, 'i', F(kind), 0, 0, "clustered|personalized",
      "kind of environment", NULL },
    { "users", COLB_PARAM_INT, 'z', F(users), 1, 2147483648.0, NULL, "users N", NULL },
    { "clusters", COLB_PARAM_INT, 'z', F(clusters), 1, 2147483648.0, NULL,
      "clusters L (clustered)", "clustered" },
    { "zipf", COLB_PARAM_REAL, 'd', F(zipf), 0, COLB_ZIPF_MAX, NULL, "cluster l has a share of users ~ l^-z (clustered)",
      "clustered" },
    { "dim", COLB_PARAM_INT, 'z', F(dim), 1, 4096, NULL, "context dimension d", NULL },
    { "arms", COLB_PARAM_INT, 'z', F(arms), 1, 1e6, NULL, "arms K per round", NULL },
    { "noise", COLB_PARAM_REAL, 'd', F(noise), 0, COLB_SCALE_MAX, NULL, "standard deviation of the reward noise", NULL },
    { "sigma-theta", COLB_PARAM_REAL, 'd', F(sigma_theta), 0, COLB_SCALE_MAX, NULL,
      "personalized spread of theta_u around mu", "personalized" },
    { "normalize", COLB_PARAM_BOOL, 'i', F(normalize), 0, 1, NULL,
      "personalized: scale so ||theta|| <= 1", "personalized" },
    { "cluster-sizes", COLB_PARAM_CHOICE, 'i', F(cluster_sizes), 0, 0, "one-each|proportional",
      "users per cluster: one each and the rest ~ l^-z, or all ~ l^-z (clustered)", "clustered" },
    { "max-memory", COLB_PARAM_BYTES, 'z', F(max_memory), 0, 0, NULL,
      "memory budget (0: 80% of the available memory)", NULL },
};
#undef F
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

size_t colb_env_params_size(void) { return sizeof(colb_env_params); }

colb_status colb_env_params_set(colb_env_params *p, const char *key, const char *value, char *msg,
                                size_t msg_len)
{
    return colb__params_set(KEYS, N_KEYS, p, key, value, "environment parameter", msg, msg_len);
}

colb_status colb_env_params_get(const colb_env_params *p, const char *key, char *value, size_t len)
{
    return colb__params_get(KEYS, N_KEYS, p, key, value, len);
}

size_t colb_env_param_count(void) { return N_KEYS; }

colb_status colb_env_param_info(size_t i, colb_param_info *info)
{
    colb_env_params d;
    colb_env_params_default(&d);
    return colb__params_info(KEYS, N_KEYS, i, &d, info);
}

int colb_env_param_used(const char *env, const char *key)
{
    const colb__param *e = colb__param_find(KEYS, N_KEYS, key);
    if (!e || !env || (strcmp(env, "clustered") && strcmp(env, "personalized")))
        return -1;
    return !e->uses || !strcmp(e->uses, env);
}
