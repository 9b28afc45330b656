/* team.h - a team of persistent threads that run one function over a fixed
 * number of parts and wait for all of them (internal). For work split inside
 * one round of one policy (the user bank's blocks), where creating threads
 * per round would cost more than the work: a run costs two condition-variable
 * hand-offs per worker (microseconds). Which thread runs which part does not
 * matter to the result as long as parts write disjoint data. */
#ifndef COLB_TEAM_H
#define COLB_TEAM_H

#include <stddef.h>

#include "colb/status.h"

typedef struct colb__team colb__team;

/* A team of `size` >= 2 threads: the caller plus size - 1 workers started
 * here. COLB_ENOMEM (or thread creation failed; *out = NULL). */
colb_status colb__team_create(size_t size, colb__team **out);

/* Stop and join the workers; NULL is harmless. */
void colb__team_free(colb__team *t);

size_t colb__team_size(const colb__team *t);

/* Run fn(ctx, part, parts) for every part in [0, parts), parts = the team's
 * size; the caller runs part 0. Returns when every part has returned. Not
 * reentrant: one run at a time per team. */
void colb__team_run(colb__team *t, void (*fn)(void *ctx, size_t part, size_t parts), void *ctx);

#endif
