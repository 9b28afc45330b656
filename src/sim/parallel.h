/* parallel.h - a parallel loop over independent tasks (internal): the
 * simulator's (policy, repeat) jobs and the tuner's grid points. Each task
 * writes only its own outputs, so results do not depend on which thread ran
 * it or in what order. */
#ifndef COLB_PARALLEL_H
#define COLB_PARALLEL_H

#include <stddef.h>

/* Run task(ctx, i) once for every i in [0, n) on up to `threads` threads,
 * the caller's included (it runs tasks itself; if no thread can be started
 * it runs them all). after(ctx, done), if not NULL, is called after each
 * task with the number of tasks finished so far, one call at a time. */
void colb__parallel_for(size_t n, size_t threads, void (*task)(void *ctx, size_t i),
                        void (*after)(void *ctx, size_t done), void *ctx);

#endif
