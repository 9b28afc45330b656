/* clock.h - the monotonic clock in seconds: the service's latencies,
 * deadlines and metrics all read this one, and so do its condition
 * variables' timed waits. */
#ifndef COLB_SERVE_CLOCK_H
#define COLB_SERVE_CLOCK_H

#include <pthread.h>
#include <time.h>

static inline double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A condition variable whose timed waits run on the monotonic clock, so
 * that a step of the wall clock (NTP, a VM resumed) neither stretches nor
 * cuts them: the only kind deadline_in's deadlines are for. */
static inline void cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

/* The monotonic instant `seconds` from now: the deadline
 * pthread_cond_timedwait takes on a cond_init_monotonic condition
 * variable. */
static inline struct timespec deadline_in(double seconds)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long ns = (long)(seconds * 1e9);
    t.tv_sec += (time_t)(ns / 1000000000);
    t.tv_nsec += ns % 1000000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

#endif
