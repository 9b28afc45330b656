/* applier.h - the thread that runs the policy's updates of logged rewards,
 * in log order, while the writer goes on (docs/serve.md, "Consistency
 * model").
 *
 * The writer checks a reward (its decision pending), marks it rewarded,
 * appends its log record and queues its update here; its answer goes out
 * once the record is durable, whether or not the update has run. Updates
 * run in the order they were queued, which is the log's order, so a replay
 * of the log rebuilds the same model. Whatever reads or changes the policy
 * in the writer (a choose, new users, a read, a forked snapshot) first
 * waits for the queue to empty (applier_drain): it sees every reward
 * logged before it, and the policy is never used by two threads at once.
 * A captured snapshot's save of the policy is queued here instead
 * (applier_push_call), in the log's order.
 *
 * The queue holds at most `capacity` updates: a writer that would exceed
 * it waits, which bounds the model's lag behind the log, the wait of a
 * read, and a snapshot's pause. */
#ifndef COLB_SERVE_APPLIER_H
#define COLB_SERVE_APPLIER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "colb/colb.h"

typedef struct applier applier;

/* Called from the applier thread when an update fails (the policy is then
 * unusable: later updates are skipped); msg says why. */
typedef void (*applier_fail_fn)(void *ctx, const char *msg);

/* The applier thread's scheduling class (--applier-class). */
enum {
    APPLIER_NORMAL,  /* SCHED_OTHER throughout */
    APPLIER_IDLE,    /* SCHED_IDLE, but while a writer waits for it */
    APPLIER_BATCHES, /* SCHED_IDLE while it runs a reward batch's updates (a
                      * request of more than APPLIER_INLINE_MAX rewards) and
                      * no writer waits for it; SCHED_OTHER otherwise */
};

/* Start the thread for contexts of d values. *policy is read before each
 * run of updates (the writer may create the policy while the queue is
 * empty). depth, unless NULL, is kept at the number of queued updates;
 * idle_updates, unless NULL, counts the updates of runs begun in
 * SCHED_IDLE.
 * cls: APPLIER_*; the idle ones only where this process may leave
 * SCHED_IDLE again (thread_sched_idle_reversible), else APPLIER_NORMAL,
 * and *cls_out (unless NULL) says which is in force. 0, or -1 (out of
 * memory, or no thread). */
int applier_start(applier **out, size_t capacity, int cls, size_t d, colb_policy *const *policy,
                  applier_fail_fn fail, void *fail_ctx, _Atomic uint64_t *depth,
                  _Atomic uint64_t *idle_updates, int *cls_out);

/* Queue the updates of n rewards: user[i], its chosen context x[i] (d
 * values, copied) and reward y[i], in order; n > APPLIER_INLINE_MAX marks
 * them as a batch's (APPLIER_BATCHES). Waits while the queue is full.
 * Writer thread only. */
void applier_push(applier *a, size_t n, const uint64_t *user, const double *const *x, const double *y);

/* The most updates applier_run_or_push runs in the caller's thread. */
#define APPLIER_INLINE_MAX 8

/* applier_push, but when nothing is queued or running and n <=
 * APPLIER_INLINE_MAX, run the updates at once in the caller's thread: a
 * request applied in its own thread at moderate load then wakes no other
 * thread for them (on a paravirtualised machine a context switch costs
 * more than a small update: docs/serve.md, "Consistency model"). The
 * order is the log's either way. Returns the updates run in the caller's
 * thread (n or 0). Writer (state holder) only. */
size_t applier_run_or_push(applier *a, size_t n, const uint64_t *user, const double *const *x, const double *y);

/* What applier_push_call runs: with the policy held (no update runs
 * meanwhile); failed: an update before it failed (the policy is broken). */
typedef void (*applier_call_fn)(void *ctx, colb_policy *p, int failed);

/* Queue fn(ctx, ...) after the updates queued so far, before those queued
 * later: it sees the policy as the log's records up to here left it, and
 * it runs even after a failed update (applier_drain waits for it too). At
 * most one call queued at a time. Waits while the queue is full. Writer
 * thread only. */
void applier_push_call(applier *a, applier_call_fn fn, void *ctx);

/* Wait until every queued update has run. 0, or -1 once after an update
 * failed (why: its message). Writer thread only. */
int applier_drain(applier *a, char *why, size_t why_len);

/* Seconds spent in updates since the last call. */
double applier_take_work(applier *a);

/* Run what is queued, stop the thread and free. NULL harmless. */
void applier_stop(applier *a);

#endif
