/* team.c - persistent worker threads (see team.h): a generation counter under
 * one mutex; workers sleep on `go` until the generation moves, join the run
 * if it is still open, claim chunks of its items (their home range first,
 * then the others'), and the last one to finish signals `done`. The caller
 * closes the run when it runs out of items and waits only for the workers
 * that joined: a worker woken late (a busy machine) costs the run nothing.
 *
 * Both waits spin a little (SPIN) before they sleep. A simulation's runs
 * come every few hundred microseconds (a round's choose, then its update),
 * and on a virtual machine the futex wake-up of a sleeping thread goes
 * through the hypervisor and takes tens of microseconds: a worker woken
 * that late found most of each run claimed by the caller, and two threads
 * ran LinUCB-Ind at N = 2,000 only 1.1x faster than one
 * (docs/performance.md). Spinning costs at most SPIN pauses per idle
 * period, and only a team that has a CPU per thread spins: with more
 * threads than CPUs a spinning thread would hold the CPU the thread it
 * waits for needs (8 threads on 2 CPUs ran 1.8x slower spinning). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "core/team.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RELAX() _mm_pause()
#else
#define RELAX() ((void)0)
#endif

/* Pauses a wait spins before it sleeps: about 30-100 us (a pause is 10-140
 * cycles, by CPU model). */
#define SPIN 20000

/* One thread's home range: `next` is claimed by atomic increments (by its
 * owner and by thieves), one cache line each so that claims of different
 * ranges do not contend. */
typedef struct cursor {
    _Alignas(64) _Atomic size_t next;
    size_t end;
} cursor;

struct colb__team {
    size_t size;
    pthread_t *th;
    cursor *cur;            /* size home ranges of the current run */
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    _Atomic unsigned long gen; /* run counter (changed under lock; read by the spins) */
    int open;               /* the current run still takes workers */
    _Atomic size_t active;  /* workers that joined it and are not done (likewise) */
    int stop;
    size_t chunk;
    int spin;               /* pauses a wait spins before it sleeps: SPIN or 0 */
    void (*fn)(void *ctx, size_t i0, size_t i1, size_t part);
    void *ctx;
};

typedef struct seat {
    colb__team *t;
    size_t part;
} seat;

/* Thread `part`'s share of the run: chunks of its home range, then of the
 * others' (in the order part+1, part+2, ...), until every range is used up. */
static void claim(colb__team *t, size_t part)
{
    size_t s = t->size, chunk = t->chunk;
    for (size_t j = 0; j < s; j++) {
        size_t q = part + j < s ? part + j : part + j - s;
        cursor *c = &t->cur[q];
        for (;;) {
            size_t i0 = atomic_fetch_add_explicit(&c->next, chunk, memory_order_relaxed);
            if (i0 >= c->end)
                break;
            t->fn(t->ctx, i0, i0 + chunk < c->end ? i0 + chunk : c->end, part);
        }
    }
}

static void *worker(void *arg)
{
    seat *s = arg;
    colb__team *t = s->t;
    size_t part = s->part;
    free(s);
    unsigned long seen = 0;
    for (;;) {
        for (int i = 0; i < t->spin && atomic_load_explicit(&t->gen, memory_order_relaxed) == seen; i++)
            RELAX();
        pthread_mutex_lock(&t->lock);
        while (!t->stop && t->gen == seen)
            pthread_cond_wait(&t->go, &t->lock);
        if (t->stop) {
            pthread_mutex_unlock(&t->lock);
            return NULL;
        }
        seen = t->gen;
        if (!t->open) { /* woken after the run was closed: nothing left */
            pthread_mutex_unlock(&t->lock);
            continue;
        }
        t->active++;
        pthread_mutex_unlock(&t->lock);
        claim(t, part);
        pthread_mutex_lock(&t->lock);
        if (--t->active == 0)
            pthread_cond_signal(&t->done);
        pthread_mutex_unlock(&t->lock);
    }
}

/* The CPUs this process may run on (its affinity mask, which a cpuset or
 * taskset narrows), else those online; 1 when neither is known. */
static size_t cpus_available(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (size_t)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

colb_status colb__team_create(size_t size, colb__team **out)
{
    *out = NULL;
    if (size < 2)
        return COLB_EINVAL;
    colb__team *t = calloc(1, sizeof *t);
    if (!t)
        return COLB_ENOMEM;
    t->th = calloc(size - 1, sizeof(pthread_t));
    t->cur = aligned_alloc(_Alignof(cursor), size * sizeof(cursor));
    if (!t->th || !t->cur) {
        free(t->th);
        free(t->cur);
        free(t);
        return COLB_ENOMEM;
    }
    for (size_t i = 0; i < size; i++) {
        atomic_init(&t->cur[i].next, 0);
        t->cur[i].end = 0;
    }
    t->spin = size <= cpus_available() ? SPIN : 0;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->go, NULL);
    pthread_cond_init(&t->done, NULL);
    for (size_t i = 1; i < size; i++) {
        seat *s = malloc(sizeof *s);
        if (s) {
            s->t = t;
            s->part = i;
        }
        if (!s || pthread_create(&t->th[i - 1], NULL, worker, s) != 0) {
            free(s);
            t->size = i; /* the workers started so far are joined by free */
            colb__team_free(t);
            return COLB_ENOMEM;
        }
    }
    t->size = size;
    *out = t;
    return COLB_OK;
}

void colb__team_free(colb__team *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = 1;
    pthread_cond_broadcast(&t->go);
    pthread_mutex_unlock(&t->lock);
    for (size_t i = 1; i < t->size; i++)
        pthread_join(t->th[i - 1], NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->go);
    pthread_cond_destroy(&t->done);
    free(t->th);
    free(t->cur);
    free(t);
}

size_t colb__team_size(const colb__team *t)
{
    return t ? t->size : 1;
}

void colb__team_for(colb__team *t, size_t n, size_t chunk,
                    void (*fn)(void *ctx, size_t i0, size_t i1, size_t part), void *ctx,
                    colb__task *side)
{
    if (n == 0) {
        colb__task_run(side);
        return;
    }
    size_t s = t->size;
    pthread_mutex_lock(&t->lock);
    t->fn = fn;
    t->ctx = ctx;
    t->chunk = chunk ? chunk : 1;
    for (size_t p = 0; p < s; p++) {
        atomic_store_explicit(&t->cur[p].next, n * p / s, memory_order_relaxed);
        t->cur[p].end = n * (p + 1) / s;
    }
    t->open = 1;
    t->gen++;
    pthread_cond_broadcast(&t->go);
    pthread_mutex_unlock(&t->lock);
    colb__task_run(side);
    claim(t, 0);
    /* every item is claimed: close the run, wait for the claims in flight */
    pthread_mutex_lock(&t->lock);
    t->open = 0;
    if (t->active) {
        pthread_mutex_unlock(&t->lock);
        for (int i = 0; i < t->spin && atomic_load_explicit(&t->active, memory_order_relaxed); i++)
            RELAX();
        pthread_mutex_lock(&t->lock);
    }
    while (t->active)
        pthread_cond_wait(&t->done, &t->lock);
    pthread_mutex_unlock(&t->lock);
}
