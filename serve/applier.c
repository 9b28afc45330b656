/* applier.c - the policy's updates of logged rewards, run by their own
 * thread in log order (applier.h). */
#define _GNU_SOURCE /* syscall */
#include "applier.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <time.h>

#include "state.h"
#include "thread_sched.h"

struct applier {
    size_t cap, d;
    colb_policy *const *policy;
    applier_fail_fn fail;
    void *fail_ctx;
    _Atomic uint64_t *depth, *idle_updates;
    /* the ring of queued updates: [head, head + count) modulo cap; slots
     * are freed only after their updates ran, so count == 0 means nothing
     * is queued or running */
    uint64_t *user;
    double *y, *x;
    unsigned char *batch; /* SLOT_*: the slot's update came with a reward batch, or is the call */
    applier_call_fn call; /* applier_push_call's, pending */
    void *call_ctx;
    size_t head, count;
    int running;          /* a thread (this one, or the writer) runs updates */
    pthread_mutex_t mu;
    pthread_cond_t work;  /* updates queued, or stop */
    pthread_cond_t space; /* updates ran */
    int stop;
    int failed, reported; /* an update failed; the writer was told */
    /* --applier-class (set_idle): APPLIER_*, in SCHED_IDLE now, writers
     * waiting for the thread, its thread id */
    int cls, idle, waiting;
    pid_t tid;
    char msg[256];
    _Atomic uint64_t work_ns;
    pthread_t thread;
};

enum { SLOT_SINGLE, SLOT_BATCH, SLOT_CALL };

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The thread's class under --applier-class idle or batches (lock held).
 * In SCHED_IDLE it runs only on a core nothing else wants, so a burst of
 * updates (cohort spends ~15 ms on a batch of 1,000 rewards) does not
 * delay the threads that answer requests. A thread in that class may wait
 * for a core indefinitely, though, so it takes the default class while a
 * writer waits for it (a drain, a full queue), and goes back once none
 * does: a writer never waits behind a starved applier. Measured in
 * docs/performance-history.md (phases 20 and 32): it helps bursts on a
 * machine with idle time, not a machine the requests alone keep busy -
 * hence `batches`, idle only for a batch's updates. */
static void set_idle(applier *a, int idle)
{
    if (a->cls == APPLIER_NORMAL || !a->tid || a->idle == idle)
        return; /* not asked for, the thread not started yet, or already so */
    if (thread_sched_idle(a->tid, idle) == 0)
        a->idle = idle;
    else if (!a->idle)
        a->cls = APPLIER_NORMAL; /* not allowed after all: the default class for good */
}

/* The class for the run that starts at the queue's head (lock held). */
static int wants_idle(const applier *a)
{
    return !a->waiting && (a->cls == APPLIER_IDLE || (a->cls == APPLIER_BATCHES && a->batch[a->head] == SLOT_BATCH));
}

/* One update by the thread that holds the policy; on failure the writer
 * is told (a->fail) and 1 returned, the reason in why (sizeof a->msg). */
static int update(applier *a, colb_policy *p, uint64_t user, const double *x, double y, char *why)
{
    if (!state_policy_update(p, user, x, y, why, sizeof a->msg))
        return 0;
    a->fail(a->fail_ctx, why);
    return 1;
}

/* After a run of updates (lock held): the first failure, kept for
 * applier_drain; the run over. */
static void end_run(applier *a, int failed, const char *why)
{
    if (failed && !a->failed) {
        a->failed = 1;
        memcpy(a->msg, why, sizeof a->msg);
    }
    a->running = 0;
}

/* The most updates one run takes from the queue. Their slots are freed
 * when the run ends, and a writer that found the queue full waits for
 * that: had a run taken the queue up to the ring's end, as it once did, a
 * writer that filled it would wait for thousands of updates (10-45 ms of
 * the recommended policy's, measured under bench_serve's reward form, in
 * which every reward waited), where it now waits for 64 (~1 ms). */
#define RUN_MAX 64

/* Run the first updates of the queue: up to RUN_MAX, not past the ring's
 * end; returns how many. Called with the lock held and nobody running;
 * returns with it held. Whichever thread runs them holds the policy alone
 * meanwhile. */
static size_t run_front(applier *a)
{
    size_t from = a->head, n = a->count < a->cap - from ? a->count : a->cap - from;
    if (n > RUN_MAX)
        n = RUN_MAX;
    int failed = a->failed;
    colb_policy *p = *a->policy;
    applier_call_fn call = a->call;
    void *ctx = a->call_ctx;
    a->running = 1;
    pthread_mutex_unlock(&a->mu);
    uint64_t t0 = now_ns();
    char why[sizeof a->msg];
    uint64_t called = 0; /* not the updates' work, which bounds a replay */
    for (size_t i = from; i < from + n; i++)
        if (a->batch[i] == SLOT_CALL) {
            uint64_t c0 = now_ns();
            call(ctx, p, failed);
            called += now_ns() - c0;
        } else if (!failed) {
            failed = update(a, p, a->user[i], a->x + i * a->d, a->y[i], why);
        }
    atomic_fetch_add_explicit(&a->work_ns, now_ns() - t0 - called, memory_order_relaxed);
    pthread_mutex_lock(&a->mu);
    end_run(a, failed, why);
    a->head = (from + n) % a->cap;
    a->count -= n;
    if (a->depth)
        atomic_store_explicit(a->depth, a->count, memory_order_relaxed);
    pthread_cond_broadcast(&a->space); /* the writer, or this thread waiting for it */
    return n;
}

/* Wait (lock held) until the queue has room (room = 1) or is empty
 * (room = 0). Rather than sleep until this thread gets a core, the writer
 * runs the queue's front itself when nobody runs it. */
static void wait_for(applier *a, int room)
{
    while (room ? a->count == a->cap : a->count != 0) {
        if (!a->running) {
            run_front(a);
        } else {
            set_idle(a, 0); /* it holds the policy: it needs a core */
            a->waiting++;
            pthread_cond_wait(&a->space, &a->mu);
            a->waiting--;
        }
    }
}

static void *applier_main(void *arg)
{
    applier *a = arg;
    pthread_mutex_lock(&a->mu);
    thread_sched_slice(0); /* background work: the default slice, not the request threads' */
    if (a->cls != APPLIER_NORMAL) {
        a->tid = (pid_t)syscall(SYS_gettid);
        set_idle(a, a->cls == APPLIER_IDLE);
    }
    prctl(PR_SET_NAME, "colb-applier"); /* once its class is set (test_serve reads both) */
    for (;;) {
        while ((!a->count && !a->stop) || a->running)
            pthread_cond_wait(a->running ? &a->space : &a->work, &a->mu);
        if (!a->count)
            break; /* stopped, nothing left */
        set_idle(a, wants_idle(a));
        int idle = a->idle;
        size_t n = run_front(a);
        if (idle && a->idle_updates)
            atomic_fetch_add_explicit(a->idle_updates, n, memory_order_relaxed);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static void release(applier *a)
{
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->work);
    pthread_cond_destroy(&a->space);
    free(a->user);
    free(a->y);
    free(a->x);
    free(a->batch);
    free(a);
}

int applier_start(applier **out, size_t capacity, int cls, size_t d, colb_policy *const *policy,
                  applier_fail_fn fail, void *fail_ctx, _Atomic uint64_t *depth,
                  _Atomic uint64_t *idle_updates, int *cls_out)
{
    *out = NULL;
    applier *a = calloc(1, sizeof *a);
    if (!a)
        return -1;
    a->cap = capacity ? capacity : 1;
    a->d = d;
    a->policy = policy;
    a->fail = fail;
    a->fail_ctx = fail_ctx;
    a->depth = depth;
    a->idle_updates = idle_updates;
    /* the thread sets its class (set_idle needs its id); a class it could
     * not leave is not taken at all */
    a->cls = cls != APPLIER_NORMAL && thread_sched_idle_reversible() ? cls : APPLIER_NORMAL;
    if (cls_out)
        *cls_out = a->cls;
    a->user = malloc(a->cap * sizeof *a->user);
    a->y = malloc(a->cap * sizeof *a->y);
    a->x = malloc(a->cap * d * sizeof *a->x);
    a->batch = malloc(a->cap);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->work, NULL);
    pthread_cond_init(&a->space, NULL);
    if (!a->user || !a->y || !a->x || !a->batch || pthread_create(&a->thread, NULL, applier_main, a) != 0) {
        release(a);
        return -1;
    }
    *out = a;
    return 0;
}

void applier_push(applier *a, size_t n, const uint64_t *user, const double *const *x, const double *y)
{
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < n;) {
        wait_for(a, 1);
        /* fill what is free without the lock: the thread reads only
         * [head, head + count) */
        size_t tail = (a->head + a->count) % a->cap, room = a->cap - a->count, k = n - i;
        if (k > room)
            k = room;
        pthread_mutex_unlock(&a->mu);
        for (size_t j = 0; j < k; j++) {
            size_t s = (tail + j) % a->cap;
            a->user[s] = user[i + j];
            a->y[s] = y[i + j];
            a->batch[s] = n > APPLIER_INLINE_MAX ? SLOT_BATCH : SLOT_SINGLE;
            memcpy(a->x + s * a->d, x[i + j], a->d * sizeof *a->x);
        }
        pthread_mutex_lock(&a->mu);
        a->count += k;
        i += k;
        if (a->depth)
            atomic_store_explicit(a->depth, a->count, memory_order_relaxed);
        pthread_cond_signal(&a->work);
    }
    pthread_mutex_unlock(&a->mu);
}

void applier_push_call(applier *a, applier_call_fn fn, void *ctx)
{
    pthread_mutex_lock(&a->mu);
    wait_for(a, 1);
    size_t tail = (a->head + a->count) % a->cap;
    a->batch[tail] = SLOT_CALL;
    a->call = fn;
    a->call_ctx = ctx;
    a->count++;
    if (a->depth)
        atomic_store_explicit(a->depth, a->count, memory_order_relaxed);
    pthread_cond_signal(&a->work);
    pthread_mutex_unlock(&a->mu);
}

size_t applier_run_or_push(applier *a, size_t n, const uint64_t *user, const double *const *x, const double *y)
{
    pthread_mutex_lock(&a->mu);
    if (n > APPLIER_INLINE_MAX || a->count || a->running || a->failed) {
        pthread_mutex_unlock(&a->mu);
        applier_push(a, n, user, x, y);
        return 0;
    }
    a->running = 1; /* the thread, if it wakes, waits for `space` */
    pthread_mutex_unlock(&a->mu);
    colb_policy *p = *a->policy;
    char why[sizeof a->msg];
    int failed = 0;
    for (size_t i = 0; i < n && !failed; i++)
        failed = update(a, p, user[i], x[i], y[i], why);
    pthread_mutex_lock(&a->mu);
    end_run(a, failed, why);
    pthread_cond_broadcast(&a->space);
    pthread_mutex_unlock(&a->mu);
    return n;
}

int applier_drain(applier *a, char *why, size_t why_len)
{
    pthread_mutex_lock(&a->mu);
    wait_for(a, 0);
    int rc = 0;
    if (a->failed && !a->reported) {
        a->reported = 1;
        snprintf(why, why_len, "%s", a->msg);
        rc = -1;
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

double applier_take_work(applier *a)
{
    return 1e-9 * (double)atomic_exchange_explicit(&a->work_ns, 0, memory_order_relaxed);
}

void applier_stop(applier *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_signal(&a->work);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    release(a);
}
