/* data.c - environments of `colb run` (see data.h). */
#include "data.h"

#include <string.h>

int data_env_open(data_env *d, run_config *c, char *err, size_t err_len)
{
    memset(d, 0, sizeof *d);
    if (c->data == DATA_SYNTHETIC) {
        if (!c->learner_noise_set)
            c->sim.policy.learner.noise = c->sim.env.noise;
        c->sim.make_env = NULL;
        return 0;
    }
    snprintf(err, err_len, "data sets are not available in this build");
    return -1;
}

void data_env_close(data_env *d)
{
    (void)d;
}

int data_tune_club(data_env *d, run_config *c, char *chosen, char *err, size_t err_len)
{
    (void)d, (void)c, (void)chosen;
    snprintf(err, err_len, "club tuning is not available in this build");
    return -1;
}
