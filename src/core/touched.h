/* touched.h - the models a round touched (internal): so that a round that
 * serves a few users of a bank of many group models resets and visits only
 * those, not all G. A service's rounds serve one user each; the group banks
 * (learn/cluster_bank.c, learn/diversify.c) reset four arrays of G entries
 * at every round and scanned all G for rewards at its end - with CMLB's
 * 9,132 clusters of a 10,000-user service, a third of each call.
 *
 * Indices 0..cap-1. Past cap / 8 indices in a round the set stops listing
 * them and counts as "all" (the round then visits every index, as a full
 * round must anyway). Not thread-safe. */
#ifndef COLB_TOUCHED_H
#define COLB_TOUCHED_H

#include <stddef.h>

#include "colb/status.h"

typedef struct colb__touched {
    size_t *list;          /* the indices touched this round, while !all */
    unsigned char *mark;   /* cap: 1 for a listed index */
    size_t n, cap;
    int all;               /* every index counts as touched */
} colb__touched;

/* An empty set of indices below cap; COLB_ENOMEM (t is then safe to free). */
colb_status colb__touched_init(colb__touched *t, size_t cap);

/* Free; a zeroed struct is harmless. */
void colb__touched_free(colb__touched *t);

/* Indices up to cap (>= the current cap), the set kept; COLB_ENOMEM leaves
 * it as it was. */
colb_status colb__touched_grow(colb__touched *t, size_t cap);

/* Mark index i touched (i < cap). O(1). */
static inline void colb__touched_add(colb__touched *t, size_t i)
{
    if (t->all || t->mark[i])
        return;
    if (t->n >= t->cap / 8) {
        t->all = 1;
        return;
    }
    t->mark[i] = 1;
    t->list[t->n++] = i;
}

/* Mark every index touched. */
static inline void colb__touched_all(colb__touched *t)
{
    t->all = 1;
}

/* How many indices to visit of a bank of G (<= cap): the listed ones, or G
 * when every index counts; colb__touched_at(t, i), i below that count, is
 * the i-th. A round's reset and end visit
 *     for (size_t i = 0; i < colb__touched_count(t, G); i++)
 *         ... colb__touched_at(t, i) ... */
static inline size_t colb__touched_count(const colb__touched *t, size_t G)
{
    return t->all ? G : t->n;
}

static inline size_t colb__touched_at(const colb__touched *t, size_t i)
{
    return t->all ? i : t->list[i];
}

/* Put the listed indices in increasing order (the order "all" visits). */
void colb__touched_sort(colb__touched *t);

/* Empty the set. O(listed), or O(cap) after "all". */
void colb__touched_clear(colb__touched *t);

#endif
