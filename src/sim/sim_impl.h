/* sim_impl.h - the simulator's objects (internal): shared by sim.c (running)
 * and sim_persist.c (snapshots). */
#ifndef COLB_SIM_IMPL_H
#define COLB_SIM_IMPL_H

#include <pthread.h>

#include "colb/sim.h"
#include "envs/env_tape.h"
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
    /* Repeat r's jobs share their environment's rounds (env_tape.h):
     * tapes[r], made by the first of them to start and held here until the
     * last has started (their environments hold it while they run);
     * to_start[r] counts the jobs of r not started. share_rounds = 0 turns
     * it off (tests: the same results either way). A tape is made only when
     * its bytes are at most tape_bytes, the tape colb_sim_memory counts
     * (colb__sim_tape_bytes when the run fits its budget with its tapes;
     * 0: none). */
    double tape_bytes;
    colb__tape **tapes;      /* R */
    size_t *to_start;        /* R */
    pthread_mutex_t tape_lock;
    int share_rounds;
};

/* Tests: whether the jobs of a repeat share their environment's rounds
 * (on by default); before the first advance. */
void colb__sim_share_rounds(colb_sim *sim, int on);

/* Allocate an empty simulation for a validated spec (all jobs NEW). */
colb_status colb__sim_alloc(const colb_sim_spec *s, colb_sim **out, char *msg, size_t msg_len);
/* The bytes of one repeat's tape (env_tape.h) as the simulator of s makes
 * it: its environment's T rounds, made from s->env when there are two
 * policies or more; 0 when there is none (one policy, a factory's
 * environments, or a tape beyond COLB__TAPE_MAX_BYTES). */
double colb__sim_tape_bytes(const colb_sim_spec *s);
/* The points of s's regret curves: curve_points (0: 100), at most T. */
size_t colb__sim_points(const colb_sim_spec *s);

#endif

