/* sim_impl.h - the simulator's objects (internal): shared by sim.c (running)
 * and sim_persist.c (snapshots). */
#ifndef COLB_SIM_IMPL_H
#define COLB_SIM_IMPL_H

#include "colb/sim.h"
#include "sim/sim_job.h"

struct colb_sim_result {
    size_t P, R, K;          /* policies, repeats, checkpoints */
    size_t *point_round;     /* K */
    double *regret;          /* P x R x K */
    double *wall;            /* P x R */
    char (*info)[512];       /* P x R */
};

struct colb_sim {
    colb_sim_spec s;         /* copy; s.policies points at names */
    char **names;            /* P owned copies */
    colb_sim_result *res;
    colb__sim_job *jobs;     /* P x R */
};

/* Allocate an empty simulation for a validated spec (all jobs NEW). */
colb_status colb__sim_alloc(const colb_sim_spec *s, colb_sim **out, char *msg, size_t msg_len);

#endif

