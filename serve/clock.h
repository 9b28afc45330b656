/* clock.h - the monotonic clock in seconds: the service's latencies,
 * deadlines and metrics all read this one. */
#ifndef COLB_SERVE_CLOCK_H
#define COLB_SERVE_CLOCK_H

#include <time.h>

static inline double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#endif
