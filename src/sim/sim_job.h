/* sim_job.h - one job of the simulator run on its own (internal): what
 * colb_sim_run does for (policy, repeat), with the same seeds, so that a
 * caller (CLUB's tuning, tune.c) gets exactly the regret colb_sim_run would
 * report, and may stop a job early. */
#ifndef COLB_SIM_JOB_H
#define COLB_SIM_JOB_H

#include "colb/sim.h"

typedef struct colb__sim_job {
    /* in */
    double *curve;              /* points values, or NULL (points = 0) */
    const size_t *point_round;  /* points checkpoint rounds, increasing */
    size_t points;
    char *info;                 /* the policy's info line, or NULL */
    size_t info_len;
    size_t jobs;                /* jobs running side by side (threads per policy) */
    /* Called after every round but the last with the per-user cumulative
     * regret so far; nonzero stops the job (stopped = 1). May be NULL. */
    int (*stop)(void *ctx, double regret);
    void *stop_ctx;
    /* out */
    double regret;              /* per-user cumulative regret at the last round run */
    int stopped;
} colb__sim_job;

/* Repeat r of policy `name` on the spec's environment (s->make_env or
 * s->env), seeds derived from s->seed as colb_sim_run derives them, for
 * s->horizon rounds (or until job->stop). msg: COLB__ERRLEN bytes. */
colb_status colb__sim_run_job(const colb_sim_spec *s, const char *name, size_t r,
                              colb__sim_job *job, char *msg);

#endif
