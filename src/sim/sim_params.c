/* sim_params.c - colb_sim_spec by name (colb/params.h): the run's own keys
 * (the "run" options of `colb run`, cli/options.c), then the environment's
 * and the policies' keys of env_params.c and policy_params.c. */
#include <stddef.h>

#include "colb/params.h"
#include "core/param_table.h"

#define F(f) offsetof(colb_sim_spec, f)
static const colb__param KEYS[] = {
    { "horizon", COLB_PARAM_INT, 'z', F(horizon), 1, COLB_HORIZON_MAX, NULL, "rounds T", NULL },
    { "repeats", COLB_PARAM_INT, 'z', F(repeats), 1, 1e6, NULL, "independent repeats R", NULL },
    { "seed", COLB_PARAM_INT, 'u', F(seed), 0, 18446744073709551615.0, NULL, "master seed", NULL },
    { "threads", COLB_PARAM_INT, 'z', F(threads), 1, COLB_SIM_THREADS_MAX, NULL,
      "worker threads (results do not depend on it)", NULL },
    { "curve-points", COLB_PARAM_INT, 'z', F(curve_points), 1, 1e6, NULL,
      "checkpoints of regret curves", NULL },
    { "max-memory", COLB_PARAM_BYTES, 'z', F(max_memory), 0, 0, NULL,
      "memory budget (0: 80% of the available memory)", NULL },
};
#undef F
#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

size_t colb_sim_spec_size(void) { return sizeof(colb_sim_spec); }

colb_status colb_sim_spec_set(colb_sim_spec *s, const char *key, const char *value, char *msg,
                              size_t msg_len)
{
    if (!s)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL simulation spec");
    if (colb__param_find(KEYS, N_KEYS, key))
        return colb__params_set(KEYS, N_KEYS, s, key, value, "run parameter", msg, msg_len);
    colb_status st = colb_env_params_set(&s->env, key, value, msg, msg_len);
    if (st != COLB_ENOTFOUND)
        return st;
    st = colb_policy_params_set(&s->policy, key, value, msg, msg_len);
    if (st == COLB_ENOTFOUND)
        return colb__param_unknown("simulation parameter", key, msg, msg_len);
    return st;
}

colb_status colb_sim_spec_get(const colb_sim_spec *s, const char *key, char *value, size_t len)
{
    if (!s || !value)
        return COLB_EINVAL;
    if (colb__param_find(KEYS, N_KEYS, key))
        return colb__params_get(KEYS, N_KEYS, s, key, value, len);
    colb_status st = colb_env_params_get(&s->env, key, value, len);
    return st != COLB_ENOTFOUND ? st : colb_policy_params_get(&s->policy, key, value, len);
}

colb_status colb_sim_spec_set_policies(colb_sim_spec *s, const char *const *names, size_t n)
{
    if (!s || (!names && n))
        return COLB_EINVAL;
    s->policies = names;
    s->n_policies = n;
    return COLB_OK;
}

size_t colb_sim_param_count(void) { return N_KEYS; }

colb_status colb_sim_param_info(size_t i, colb_param_info *info)
{
    colb_sim_spec d;
    colb_sim_spec_default(&d);
    return colb__params_info(KEYS, N_KEYS, i, &d, info);
}
