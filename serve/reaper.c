/* reaper.c - deadlines of the HTTP connections (reaper.h): a list of
 * watched sockets under one mutex (taken to add, remove and scan; a
 * deadline is an atomic, set without it) and a thread that scans it every
 * tick. A scan costs O(open connections), a few microseconds a tick at
 * --max-connections. */
#include "reaper.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "clock.h"

struct reaper_conn {
    int fd;
    _Atomic int64_t deadline_ns; /* INT64_MAX: none */
    reaper_conn *prev, *next;
};

struct reaper {
    pthread_mutex_t mu;
    pthread_cond_t cv;  /* monotonic: signalled by reaper_stop */
    pthread_t thread;
    reaper_conn *head;
    double tick_s;
    int stop;
    _Atomic uint64_t *cut;
};

static int64_t to_ns(double t)
{
    return t >= 9e9 ? INT64_MAX : (int64_t)(t * 1e9);
}

static void *reaper_main(void *arg)
{
    reaper *r = arg;
    prctl(PR_SET_NAME, "colb-reaper"); /* as ps and top show it */
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        struct timespec until = deadline_in(r->tick_s);
        pthread_cond_timedwait(&r->cv, &r->mu, &until);
        int64_t now = to_ns(now_s());
        for (reaper_conn *c = r->head; c; c = c->next)
            if (atomic_load_explicit(&c->deadline_ns, memory_order_relaxed) < now) {
                /* once: libmicrohttpd closes it at its next poll */
                atomic_store_explicit(&c->deadline_ns, INT64_MAX, memory_order_relaxed);
                shutdown(c->fd, SHUT_RDWR);
                atomic_fetch_add_explicit(r->cut, 1, memory_order_relaxed);
            }
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int reaper_start(reaper **out, double tick_s, _Atomic uint64_t *cut)
{
    *out = NULL;
    reaper *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->tick_s = tick_s;
    r->cut = cut;
    pthread_mutex_init(&r->mu, NULL);
    cond_init_monotonic(&r->cv);
    if (pthread_create(&r->thread, NULL, reaper_main, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        free(r);
        return -1;
    }
    *out = r;
    return 0;
}

reaper_conn *reaper_add(reaper *r, int fd, double deadline)
{
    reaper_conn *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    atomic_init(&c->deadline_ns, to_ns(deadline));
    c->prev = NULL;
    pthread_mutex_lock(&r->mu);
    c->next = r->head;
    if (r->head)
        r->head->prev = c;
    r->head = c;
    pthread_mutex_unlock(&r->mu);
    return c;
}

void reaper_set(reaper_conn *c, double deadline)
{
    if (c)
        atomic_store_explicit(&c->deadline_ns, to_ns(deadline), memory_order_relaxed);
}

void reaper_remove(reaper *r, reaper_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&r->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        r->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&r->mu);
    free(c);
}

void reaper_stop(reaper *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    for (reaper_conn *c = r->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
