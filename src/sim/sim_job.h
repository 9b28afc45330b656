/* sim_job.h - one (policy, repeat) job of the simulator (internal): its
 * state between rounds, and the one loop that runs it (sim.c: start,
 * advance, finish). colb_sim_advance runs every job of a simulation through
 * it in steps, stopping and resuming between rounds (also from a snapshot,
 * sim_persist.c); CLUB's tuning (tune.c) runs single jobs through it, start
 * to end (colb__sim_run_job), and may stop one early. A job is a pure
 * function of (spec, policy name, repeat): the same seeds, rounds and regret
 * whoever runs it. */
#ifndef COLB_SIM_JOB_H
#define COLB_SIM_JOB_H

#include "colb/sim.h"

enum { COLB__JOB_NEW = 0, COLB__JOB_LIVE = 1, COLB__JOB_DONE = 2 };

/* A job's state: NEW (nothing made yet), LIVE (env and policy after round
 * t), DONE (t = T; env and policy freed). */
typedef struct colb__sim_job {
    int state;               /* COLB__JOB_* */
    uint64_t t;              /* rounds completed */
    double reg;              /* the users' regret summed over those rounds */
    colb_env *env;           /* LIVE only */
    colb_policy *pol;        /* LIVE only */
} colb__sim_job;

/* How far one call runs a job, where it reports, and what may stop it. */
typedef struct colb__job_run {
    size_t until;               /* the last round to play (at most the horizon) */
    double *curve;              /* the job's checkpoint values, or NULL (points = 0) */
    const size_t *point_round;  /* points checkpoint rounds, increasing */
    size_t points;
    /* Called after every round but the horizon's with the per-user
     * cumulative regret so far; nonzero stops the job there (stopped = 1).
     * May be NULL. (The spec's own stop, s->stop, gives COLB_EINTR.) */
    int (*hopeless)(void *ctx, double regret);
    void *hopeless_ctx;
    int stopped;                /* out */
    /* colb__sim_run_job only: the rounds of repeat r shared with the
     * other jobs run on it (env_tape.h), or NULL. */
    struct colb__tape *tape;
} colb__job_run;

/* The environment of repeat r (its seed derived from s->seed). msg:
 * COLB__ERRLEN bytes. */
colb_status colb__sim_make_env(const colb_sim_spec *s, size_t r, colb_env **out, char *msg);

/* The parameters of the policy `name` in repeat r on its environment env,
 * as the simulator creates it; labels (N values) receives the true clusters
 * when env has them. jobs: the jobs run side by side; the spec's threads
 * they leave idle go to the policy (pp->threads; decisions do not depend on
 * it). */
void colb__sim_job_params(const colb_sim_spec *s, const char *name, size_t r, size_t jobs,
                          const colb_env *env, size_t *labels, colb_policy_params *pp);

/* The checks colb_sim_run makes before any work: policy names and
 * parameters, the environment, the memory budget (a reason in msg). */
colb_status colb__sim_check_spec(const colb_sim_spec *s, char *msg, size_t msg_len);

/* Repeat r of policy `name` alone, from start to the horizon (run->until
 * is ignored) or until run->hopeless or s->stop; *regret receives the
 * per-user cumulative regret at the last round played. Exactly the job
 * colb_sim_run runs for (name, r) with one job at a time. */
colb_status colb__sim_run_job(const colb_sim_spec *s, const char *name, size_t r,
                              colb__job_run *run, double *regret, char *msg);

#endif
