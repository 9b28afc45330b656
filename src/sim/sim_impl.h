/* sim_impl.h - the simulator's objects (internal): shared by sim.c (running)
 * and sim_persist.c (snapshots). */
#ifndef COLB_SIM_IMPL_H
#define COLB_SIM_IMPL_H

#include "colb/sim.h"

struct colb_sim_result {
    size_t P, R, K;          /* policies, repeats, checkpoints */
    size_t *point_round;     /* K */
    double *regret;          /* P x R x K */
    double *wall;            /* P x R */
    char (*info)[512];       /* P x R */
};

enum { COLB__JOB_NEW = 0, COLB__JOB_LIVE = 1, COLB__JOB_DONE = 2 };

/* One (policy i, repeat r) job, at index i * R + r. */
typedef struct colb__sim_job {
    int state;               /* COLB__JOB_* */
    uint64_t t;              /* rounds completed */
    double reg;              /* the users' regret summed over those rounds */
    colb_env *env;           /* LIVE only */
    colb_policy *pol;        /* LIVE only */
} colb__sim_job;

struct colb_sim {
    colb_sim_spec s;         /* copy; s.policies points at names */
    char **names;            /* P owned copies */
    colb_sim_result *res;
    colb__sim_job *jobs;     /* P x R */
};

/* The environment of repeat r (seed derived from the spec's seed). */
colb_status colb__sim_make_env(const colb_sim *sim, size_t r, colb_env **out, char *msg);

/* The parameters of job (i, r)'s policy on its environment env; labels
 * (N values) receives the true clusters when env has them. */
void colb__sim_job_params(const colb_sim *sim, size_t i, size_t r, const colb_env *env,
                          size_t *labels, colb_policy_params *pp);

/* Allocate an empty simulation for a validated spec (all jobs NEW). */
colb_status colb__sim_alloc(const colb_sim_spec *s, colb_sim **out, char *msg, size_t msg_len);

#endif

