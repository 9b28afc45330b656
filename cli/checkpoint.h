/* checkpoint.h - checkpoints of `colb run` and `colb reproduce`: stopping a
 * run between rounds (at a given round, or on SIGINT/SIGTERM), saving every
 * setting's simulation into one snapshot file (colb/snapshot.h) beside a
 * block of the tool's own bytes (what to re-run), and resuming from it.
 *
 * A checkpoint file holds: one bytes object labelled by the command
 * ("colb run": its command line and experiment file; "colb reproduce": the
 * figure), one labelled "colb build" naming the build that wrote it (a
 * checkpoint of another build is not resumed), one labelled "colb kernel"
 * naming the kernel path it ran on (colb_kernel_path; one of another path
 * is not resumed), then one simulation per
 * setting reached, labelled "setting READING SWEEP" (plus the fingerprint
 * of its data set, and CLUB's tuned constants when they were tuned),
 * finished ones with their results only, the last one possibly stopped
 * mid-way with every job's environment and policy. */
#ifndef COLB_CLI_CHECKPOINT_H
#define COLB_CLI_CHECKPOINT_H

#include <stddef.h>

#include "colb/colb.h"
#include "options.h"

#define MAX_SETTINGS 256

typedef struct run_session {
    size_t stop_after;                /* 0: run to the end */
    colb_snapshot_reader *resume;     /* an earlier run's checkpoint, or NULL */
    colb_sim *sims[MAX_SETTINGS];     /* the settings reached, in order */
    char labels[MAX_SETTINGS][160];
    size_t n_sims;
    int paused;                       /* stopped before the end */
    size_t paused_round, paused_max;  /* the paused setting's jobs' rounds: least, most */
    size_t paused_horizon;            /* and its T */
    void *dataset;                    /* the paused setting's colb_dataset (owned) */
} run_session;

/* SIGINT and SIGTERM set a flag that the simulator polls between rounds
 * (the handler does nothing else); a second signal kills as usual. */
void interrupt_install(void);
int interrupt_requested(void *ctx);   /* the spec's stop callback */
int interrupt_signal(void);           /* the signal caught, or 0 */

void session_init(run_session *s);
void session_free(run_session *s);

/* The simulation of setting (ri, si) for c->sim: from the resumed
 * checkpoint when it has it (then CLUB's tuned constants are set in c and
 * *tuned, and *have is 1), else a new one (*have 0; the caller tunes first,
 * then calls again with create = 1). `dataset`: the setting's colb_dataset,
 * or NULL; a saved setting run on another data set is refused. Errors go
 * to err. */
int session_sim(run_session *s, size_t ri, size_t si, run_config *c, const void *dataset,
                int create, char *tuned, colb_sim **out, int *have, char *err, size_t err_len);

/* Keep a setting's simulation (finished or stopped) for the checkpoint;
 * the session owns it from then on. Its label records the fingerprint of
 * `dataset` (the setting's colb_dataset, or NULL) and CLUB's tuned
 * constants (`tuned`, or NULL). */
int session_keep(run_session *s, colb_sim *sim, size_t ri, size_t si, const run_config *c,
                 const void *dataset, const char *tuned, char *err, size_t err_len);

/* Write the checkpoint: the tool's bytes under `label`, then every kept
 * simulation. Atomic and durable (a failure leaves an older file intact). */
int session_write(const run_session *s, const char *path, const char *label, const void *bytes,
                  size_t len, char *err, size_t err_len);

/* Open a checkpoint and find its tool bytes under `label`; one written by
 * another build of colb, or on another kernel path, is refused. */
int session_open(run_session *s, const char *path, const char *label, const void **bytes,
                 size_t *len, char *err, size_t err_len);

#endif
