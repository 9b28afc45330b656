/* engine.h - the writer of `colb serve`: recovery at start, then the
 * application of requests to the state (state.h) one at a time, in the
 * order they reach it: their log records (wal.h), their answers - rewards
 * once their records are durable - and snapshots (snapshotter.h).
 *
 * HTTP threads parse and check a request and fill a job. When the state is
 * free and nothing is queued, engine_run applies the job at once in the
 * HTTP thread; else engine_submit queues it, and the writer thread takes
 * every queued job at once (a batch), applies them in order, writes the
 * batch's records with one write(), and completes each job through its
 * done callback (from the writer, or from the log's syncer once the
 * records are durable). Whoever applies holds the state alone (the writer
 * role); snapshots are the writer thread's. The policy's updates for
 * rewards run in the applier thread (applier.h, --apply-queue), in log
 * order. */
#ifndef COLB_SERVE_ENGINE_H
#define COLB_SERVE_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "codec.h"
#include "config.h"
#include "decisions.h"
#include "metrics.h"
#include "wal.h"

typedef enum job_kind { JOB_CHOOSE, JOB_REWARD, JOB_STATS, JOB_USER } job_kind;

typedef struct job {
    job_kind kind;
    /* the request, checked by the codec (memory owned by the submitter) */
    choose_req choose;
    reward_req reward;
    const char *user;            /* JOB_USER */
    size_t user_len;
    /* results, arrays allocated by the submitter: a choose's decisions and
     * arms (choose.n_decisions), a reward's status per item (reward.n) */
    decision_id *ids;
    uint32_t *arms;
    unsigned char *item_status;  /* dec_status; DEC_PENDING: applied */
    /* the answer: status 0 means success (format from the results or body) */
    unsigned status;
    const char *err_code;        /* static */
    char err_msg[512];
    char *body;                  /* JOB_STATS, JOB_USER: malloc'd JSON */
    size_t body_len;
    /* completion: done(j) is called once, from any thread */
    void (*done)(struct job *j);
    /* engine_run only: called, in the caller's thread and before
     * engine_run returns, when the job will be done later from another
     * thread (its records must become durable first); NULL: nothing */
    void (*park)(struct job *j);
    void *ctx;
    /* the engine's */
    int wait_durable;
    wal_waiter waiter;
    struct job *next;
} job;

typedef struct engine engine;

/* Open (or create) the state folder c->state_dir, lock it, recover
 * (snapshot, then the log's tail), start a new generation and the writer.
 * c's policy options are resolved against the stored ones on resume.
 * Lines about the recovery go to stderr unless c->quiet. 0, or -1 with err
 * (-2: a usage error - options that do not match the state, or a new state
 * without --dim). */
int engine_open(engine **out, serve_config *c, metrics *m, char *err, size_t err_len);

/* Queue a job. 0, or the HTTP status to answer at once (503: the queue is
 * full or the engine is stopping; j->err_* set). */
int engine_submit(engine *e, job *j);

/* Run j at once in the calling thread when no other thread holds the
 * state and nothing is queued: 1, with j done - j->done called before the
 * return - or parked (j->park called; done follows from another thread).
 * 0: the state is busy, the engine stopping, or j a choose or a read while
 * the applier has updates queued (it would wait for them, and its HTTP
 * thread's other connections with it); j untouched: submit it instead.
 * Saves the hand-over to the writer and back, two thread wake-ups. */
int engine_run(engine *e, job *j);

/* 0 when the engine takes writes; else -1 with the reason (the log failed,
 * the policy failed, stopping). */
int engine_health(engine *e, char *why, size_t len);

/* The limits requests are checked against. */
void engine_limits(const engine *e, codec_limits *lim);

/* A shutdown's drain begins: the log's group commits no longer wait to
 * gather requests (wal_hurry), so the rewards in flight are answered as
 * soon as their records are on disk, not after --commit-interval. Any
 * thread, before engine_stop. */
void engine_hurry(engine *e);

/* Stop taking jobs (engine_submit answers 503 from now on), apply the
 * queued ones, take a final snapshot, close the log and unlock the folder.
 * Returns 0, or -1 when the final snapshot failed (message on stderr; the
 * log still holds everything). */
int engine_stop(engine *e);

/* Free a stopped engine. NULL harmless. */
void engine_free(engine *e);

/* --dump-log: every record of c->state_dir's log (and archive) as JSON
 * lines on out. 0, or -1 with err. */
int engine_dump_log(const serve_config *c, FILE *out, char *err, size_t err_len);

#endif
