/* team.h - a team of persistent threads that share out a loop over n
 * independent items and wait for all of them (internal). For work split
 * inside one round of one policy (the user bank's blocks), where creating
 * threads per round would cost more than the work: a run costs two
 * condition-variable hand-offs per worker (microseconds).
 *
 * Items are claimed in chunks at run time: each thread starts on its home
 * range (thread p of s: items [n p / s, n (p+1) / s), the same every run, so
 * an item's data tends to stay in one core's cache) and, when that is done,
 * takes chunks of the others' ranges. A thread that starts late (woken late,
 * descheduled on a shared machine, or busy with the run's side task) thus
 * delays the run by at most one chunk. Which thread runs which item varies
 * from run to run: the result is the same only if items write disjoint data
 * and an item's result does not depend on the thread (per-thread scratch is
 * fine). */
#ifndef COLB_TEAM_H
#define COLB_TEAM_H

#include <stddef.h>

#include "colb/status.h"

typedef struct colb__team colb__team;

/* A task to run once alongside a team's loop (e.g. drawing the next round's
 * randomness while the users of this one are scored): fn(ctx). Whoever runs
 * it sets fn to NULL, so that a caller can tell whether it still has to. */
typedef struct colb__task {
    void (*fn)(void *ctx);
    void *ctx;
} colb__task;

/* Run a task (NULL, or fn NULL: nothing) and mark it done. */
static inline void colb__task_run(colb__task *side)
{
    if (side && side->fn) {
        void (*fn)(void *) = side->fn;
        side->fn = NULL;
        fn(side->ctx);
    }
}

/* A team of `size` >= 2 threads: the caller plus size - 1 workers started
 * here. COLB_ENOMEM (or thread creation failed; *out = NULL). */
colb_status colb__team_create(size_t size, colb__team **out);

/* Stop and join the workers; NULL is harmless. */
void colb__team_free(colb__team *t);

size_t colb__team_size(const colb__team *t);

/* Call fn(ctx, i0, i1, part) on disjoint ranges [i0, i1) of at most `chunk`
 * (>= 1) items that together cover [0, n) once; `part` < size names the
 * thread that runs the call (for per-thread scratch). The calling thread
 * first runs `side` (may be NULL; colb__task_run) and then claims items like
 * the workers, which start on theirs at once. Returns when every item and
 * the side task are done; the items' writes are then visible to the caller.
 * Not reentrant: one run at a time per team. Cost: the hand-offs, plus one
 * atomic increment per chunk. */
void colb__team_for(colb__team *t, size_t n, size_t chunk,
                    void (*fn)(void *ctx, size_t i0, size_t i1, size_t part), void *ctx,
                    colb__task *side);

#endif
