/* clock.h - the monotonic clock in seconds: the service's latencies,
 * deadlines and metrics all read this one; and the wall-clock deadlines of
 * its condition variables' timed waits. */
#ifndef COLB_SERVE_CLOCK_H
#define COLB_SERVE_CLOCK_H

#include <time.h>

static inline double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The wall-clock instant `seconds` from now: the deadline
 * pthread_cond_timedwait takes (condition variables of the default clock). */
static inline struct timespec deadline_in(double seconds)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
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
