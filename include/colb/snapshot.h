/* colb/snapshot.h - saving and loading policies, environments and whole
 * simulations: colb's snapshot format (specified in docs/format.md).
 *
 * What a snapshot holds. A policy: its name, every parameter, its round
 * count and every state array (learners, clusters, graph, schedules, random
 * generator). An environment: its parameters, the users' true parameters,
 * its random streams and the current round (a logged-data environment: the
 * data set's fingerprint and its position in it, not the data). A
 * simulation (colb/sim.h): its specification, and for every (policy,
 * repeat) job the environment, the policy and the regret accumulated so far.
 * A loaded object continues exactly as the original would have: same arms,
 * same rewards, same final state, bit for bit.
 *
 * The format: little-endian, a magic number, a format version, named typed
 * fields, and an XXH3-64 checksum over the whole file. A later colb reads
 * older versions or refuses them with COLB_EUNSUP and a message; this colb
 * refuses newer ones the same way.
 *
 * Saving happens between rounds (after colb_policy_end_round, before the
 * next begin_round); a policy with an open round gives COLB_ESTATE. Saving
 * to a path is atomic and durable: the snapshot is written to a temporary
 * file in the same folder, fsynced and renamed over the path, and the folder
 * is fsynced; a failed save (full disk: the message says so) leaves an
 * existing file at the path untouched and no temporary behind.
 *
 * Loading is safe on hostile input: the size, magic, version and checksum
 * are verified and every field is checked against the file before any
 * object is built, every dimension is checked against the file's size and
 * the memory budget before memory is allocated, and a failed load returns
 * COLB_EPARSE (truncated, corrupt, malformed), COLB_EUNSUP (a newer format,
 * or an object this colb does not have), COLB_EINVAL (another kind of
 * object than asked for, or a mismatch with the data set or simulation
 * spec), COLB_ENOMEM (over the budget) or COLB_EIO (cannot read; errno
 * text), with a message naming what is wrong, and builds nothing.
 *
 * Messages go to msg (msg_len bytes; msg may be NULL). Costs: linear in the
 * snapshot's size (a LinUCB-Ind policy of N users in dimension d takes
 * about 4 N (d^2 + 5 d + 8) bytes: each user's packed triangle, b, theta
 * and three scalars, docs/format.md). Thread safety: distinct objects may be
 * saved or loaded from distinct threads at once. */
#ifndef COLB_SNAPSHOT_H
#define COLB_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "colb/dataset.h"
#include "colb/env.h"
#include "colb/policy.h"
#include "colb/sim.h"
#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The snapshot format version this colb writes (docs/format.md). */
#define COLB_SNAPSHOT_VERSION 2

/* The 8 bytes every snapshot starts with (docs/format.md), e.g. for a tool
 * that must tell its own files from others before replacing one. */
#define COLB_SNAPSHOT_MAGIC "\x89" "COLB\r\n\x1a"
#define COLB_SNAPSHOT_MAGIC_LEN 8

/* Default memory budget of a load: 8 GiB. */
#define COLB_LOAD_BUDGET_DEFAULT ((size_t)8 << 30)

typedef struct colb_load_options {
    /* Bytes the load may allocate, the file's own bytes included; 0 means
     * COLB_LOAD_BUDGET_DEFAULT. A snapshot that needs more gives COLB_ENOMEM
     * before anything is allocated. */
    size_t memory_budget;
    /* The data set a logged-data environment replays (borrowed; it must
     * outlive the environment). Checked against the fingerprint stored in
     * the snapshot. NULL when no logged-data environment is loaded. */
    const colb_dataset *dataset;
} colb_load_options;

/* Defaults: budget 0 (the default), no data set. Passing NULL options to a
 * load means the same. */
void colb_load_options_default(colb_load_options *o);

/* ---- policies ---------------------------------------------------------- */

/* Save p (between rounds) to a path (atomic, durable), to a stream (written
 * at its position and flushed; not closed), or into the caller's buffer of
 * cap bytes: *len receives the snapshot's size, and when cap is too small
 * (buf may be NULL to ask) the call returns COLB_ERANGE with *len set and
 * nothing else is valid. Asked with (NULL, 0), the size is counted without
 * reading the models' values (O(models), no pass over the state; their
 * check is the save's). Errors: COLB_EINVAL (NULL), COLB_ESTATE (a round is
 * open), COLB_EUNSUP (a policy without persistence), COLB_ENUMERIC (a fenced
 * policy, colb/policy.h, or one whose state holds a value a load would
 * refuse: beyond +-1e100 or not finite), COLB_EIO, COLB_ENOMEM. */
colb_status colb_policy_save(const colb_policy *p, const char *path, char *msg, size_t msg_len);
colb_status colb_policy_save_stream(const colb_policy *p, FILE *f, char *msg, size_t msg_len);
colb_status colb_policy_save_buffer(const colb_policy *p, void *buf, size_t cap, size_t *len,
                                    char *msg, size_t msg_len);

/* Load a policy saved by the calls above. The stream is read to its end;
 * the buffer is only read during the call. opts may be NULL. On success
 * *out owns a new policy (colb_policy_free); on error *out is NULL. */
colb_status colb_policy_load(const char *path, const colb_load_options *opts, colb_policy **out,
                             char *msg, size_t msg_len);
colb_status colb_policy_load_stream(FILE *f, const colb_load_options *opts, colb_policy **out,
                                    char *msg, size_t msg_len);
colb_status colb_policy_load_buffer(const void *buf, size_t len, const colb_load_options *opts,
                                    colb_policy **out, char *msg, size_t msg_len);

/* ---- environments ------------------------------------------------------ */

/* As for policies. A logged-data environment stores its data set's
 * fingerprint (colb_dataset_fingerprint), and loading it needs the same data
 * set in opts->dataset (COLB_EINVAL otherwise). */
colb_status colb_env_save(const colb_env *e, const char *path, char *msg, size_t msg_len);
colb_status colb_env_save_stream(const colb_env *e, FILE *f, char *msg, size_t msg_len);
colb_status colb_env_save_buffer(const colb_env *e, void *buf, size_t cap, size_t *len,
                                 char *msg, size_t msg_len);
colb_status colb_env_load(const char *path, const colb_load_options *opts, colb_env **out,
                          char *msg, size_t msg_len);
colb_status colb_env_load_stream(FILE *f, const colb_load_options *opts, colb_env **out,
                                 char *msg, size_t msg_len);
colb_status colb_env_load_buffer(const void *buf, size_t len, const colb_load_options *opts,
                                 colb_env **out, char *msg, size_t msg_len);

/* ---- simulations ------------------------------------------------------- */

/* Save a simulation in progress (colb_sim_create / colb_sim_advance): the
 * specification, the regret curves, wall times and final infos of finished
 * jobs, and the environment, policy and accumulated regret of every started
 * one. Not while colb_sim_advance runs. */
colb_status colb_sim_save(const colb_sim *sim, const char *path, char *msg, size_t msg_len);
colb_status colb_sim_save_stream(const colb_sim *sim, FILE *f, char *msg, size_t msg_len);
colb_status colb_sim_save_buffer(const colb_sim *sim, void *buf, size_t cap, size_t *len,
                                 char *msg, size_t msg_len);

/* Load a simulation. `spec` must describe the same simulation (horizon,
 * repeats, seed, curve points, policy names and parameters, environment
 * parameters - or an environment factory making the same environments):
 * COLB_EINVAL naming the first field that differs otherwise. The loaded
 * simulation keeps the spec's callbacks (make_env, progress, stop) and its
 * thread count; `spec` is copied, the strings and contexts it points to are
 * borrowed and must outlive the simulation. Continue with colb_sim_advance:
 * the results equal those of a run never interrupted, for any threads. */
colb_status colb_sim_load(const char *path, const colb_sim_spec *spec,
                          const colb_load_options *opts, colb_sim **out, char *msg, size_t msg_len);
colb_status colb_sim_load_stream(FILE *f, const colb_sim_spec *spec, const colb_load_options *opts,
                                 colb_sim **out, char *msg, size_t msg_len);
colb_status colb_sim_load_buffer(const void *buf, size_t len, const colb_sim_spec *spec,
                                 const colb_load_options *opts, colb_sim **out, char *msg,
                                 size_t msg_len);

/* ---- several objects in one file ---------------------------------------- */

/* A snapshot may hold several objects, each with an optional label, and
 * blocks of the application's own bytes (e.g. a tool's command line): the
 * single-object calls above are this writer with one object. */
typedef enum colb_snapshot_kind {
    COLB_SNAPSHOT_UNKNOWN = 0, /* written by a newer colb */
    COLB_SNAPSHOT_POLICY = 1,
    COLB_SNAPSHOT_ENV = 2,
    COLB_SNAPSHOT_SIM = 3,
    COLB_SNAPSHOT_BYTES = 4
} colb_snapshot_kind;

typedef struct colb_snapshot_writer colb_snapshot_writer;

/* Open a writer on a path (atomic: nothing appears at the path before
 * commit), a stream, or the caller's buffer of cap bytes. Errors: COLB_EIO,
 * COLB_EINVAL, COLB_ENOMEM; *out is NULL then. */
colb_status colb_snapshot_writer_open(const char *path, colb_snapshot_writer **out, char *msg,
                                      size_t msg_len);
colb_status colb_snapshot_writer_open_stream(FILE *f, colb_snapshot_writer **out, char *msg,
                                             size_t msg_len);
colb_status colb_snapshot_writer_open_buffer(void *buf, size_t cap, colb_snapshot_writer **out,
                                             char *msg, size_t msg_len);

/* Append one object; label may be NULL (at most 255 bytes). An error is
 * sticky: later puts do nothing and commit returns it. The message is in
 * colb_snapshot_writer_last_error. */
colb_status colb_snapshot_put_policy(colb_snapshot_writer *w, const char *label,
                                     const colb_policy *p);
colb_status colb_snapshot_put_env(colb_snapshot_writer *w, const char *label, const colb_env *e);
colb_status colb_snapshot_put_sim(colb_snapshot_writer *w, const char *label, const colb_sim *sim);
colb_status colb_snapshot_put_bytes(colb_snapshot_writer *w, const char *label, const void *data,
                                    size_t len);
/* Append the one object of a single-object snapshot held in memory (the
 * bytes of colb_policy_save_buffer, colb_env_save_buffer or
 * colb_sim_save_buffer, of this format version) as it is: its fields are
 * copied, not decoded and encoded again - for an object captured earlier
 * that has changed since (colb serve's snapshots of a policy). The buffer
 * is verified first (checksum, structure). Errors: COLB_EINVAL (NULL), and,
 * sticky like the other puts', COLB_EPARSE (not a snapshot, or not of
 * exactly one object), COLB_EUNSUP (another format version), the writer's.
 * Cost: O(len), a checksum and a copy; buf is only read. */
colb_status colb_snapshot_put_saved(colb_snapshot_writer *w, const char *label, const void *buf,
                                    size_t len);

/* Write the trailer and commit (path: fsync, rename, fsync of the folder);
 * *len (may be NULL) receives the size (also with COLB_ERANGE for a buffer
 * too small). Frees w whatever the outcome; on failure nothing is left at
 * the path but what was there before. */
colb_status colb_snapshot_writer_commit(colb_snapshot_writer *w, size_t *len, char *msg,
                                        size_t msg_len);

/* Give up: remove the temporary file and free w. NULL harmless. */
void colb_snapshot_writer_abort(colb_snapshot_writer *w);

const char *colb_snapshot_writer_last_error(const colb_snapshot_writer *w);

typedef struct colb_snapshot_reader colb_snapshot_reader;

/* Open and verify a snapshot (the whole file is read and checked: see the
 * top of this header). opts may be NULL; its budget covers the reader and
 * every object taken from it (each get takes what it builds, even once the
 * object is freed; a get that fails takes nothing). */
colb_status colb_snapshot_reader_open(const char *path, const colb_load_options *opts,
                                      colb_snapshot_reader **out, char *msg, size_t msg_len);
colb_status colb_snapshot_reader_open_stream(FILE *f, const colb_load_options *opts,
                                             colb_snapshot_reader **out, char *msg, size_t msg_len);
/* The buffer is borrowed and must outlive the reader. */
colb_status colb_snapshot_reader_open_buffer(const void *buf, size_t len,
                                             const colb_load_options *opts,
                                             colb_snapshot_reader **out, char *msg, size_t msg_len);
void colb_snapshot_reader_free(colb_snapshot_reader *r);

/* The format version of the file, the number of objects, and object i's
 * kind and label ("" if none; owned by r). */
unsigned colb_snapshot_reader_version(const colb_snapshot_reader *r);
size_t colb_snapshot_reader_count(const colb_snapshot_reader *r);
colb_snapshot_kind colb_snapshot_reader_kind(const colb_snapshot_reader *r, size_t i);
const char *colb_snapshot_reader_label(const colb_snapshot_reader *r, size_t i);

/* Build object i (a new object the caller frees). COLB_EINVAL when object i
 * is of another kind or i is out of range; otherwise the load errors above.
 * The message is in colb_snapshot_reader_last_error. */
colb_status colb_snapshot_get_policy(colb_snapshot_reader *r, size_t i, colb_policy **out);
colb_status colb_snapshot_get_env(colb_snapshot_reader *r, size_t i, colb_env **out);
colb_status colb_snapshot_get_sim(colb_snapshot_reader *r, size_t i, const colb_sim_spec *spec,
                                  colb_sim **out);
/* Object i's bytes: *data points into r (valid until colb_snapshot_reader_free). */
colb_status colb_snapshot_get_bytes(colb_snapshot_reader *r, size_t i, const void **data,
                                    size_t *len);

const char *colb_snapshot_reader_last_error(const colb_snapshot_reader *r);

#ifdef __cplusplus
}
#endif
#endif
