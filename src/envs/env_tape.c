/* env_tape.c - the shared rounds of env_tape.h: one preallocated block of
 * rounds, recorded in order under a mutex and published by a release store
 * of their count, read without a lock below that count. */
#include "envs/env_tape.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct colb__tape {
    size_t rounds, seg[COLB__TAPE_SEGS], words, stride; /* stride: doubles per round */
    double *dbl;                 /* rounds x stride */
    uint64_t *w;                 /* rounds x words */
    _Atomic size_t recorded;     /* rounds 0 .. recorded-1 are written */
    _Atomic size_t refs;
    pthread_mutex_t lock;        /* one recorder at a time */
};

static size_t stride_of(const size_t seg[COLB__TAPE_SEGS])
{
    size_t n = 0;
    for (int i = 0; i < COLB__TAPE_SEGS; i++)
        n += seg[i];
    return n;
}

double colb__tape_bytes(size_t rounds, const size_t seg[COLB__TAPE_SEGS], size_t words)
{
    return (double)rounds * ((double)stride_of(seg) * sizeof(double) + (double)words * sizeof(uint64_t)) +
           (double)sizeof(colb__tape);
}

colb__tape *colb__tape_create(size_t rounds, const size_t seg[COLB__TAPE_SEGS], size_t words)
{
    colb__tape *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->rounds = rounds;
    memcpy(t->seg, seg, sizeof t->seg);
    t->words = words;
    t->stride = stride_of(seg);
    t->dbl = colb__malloc(rounds, (t->stride ? t->stride : 1) * sizeof(double));
    t->w = colb__malloc(rounds, (words ? words : 1) * sizeof(uint64_t));
    if (!t->dbl || !t->w || pthread_mutex_init(&t->lock, NULL)) {
        free(t->dbl);
        free(t->w);
        free(t);
        return NULL;
    }
    atomic_init(&t->recorded, 0);
    atomic_init(&t->refs, 1);
    return t;
}

int colb__tape_fits(const colb__tape *t, const size_t seg[COLB__TAPE_SEGS], size_t words)
{
    return t && !memcmp(t->seg, seg, sizeof t->seg) && t->words == words;
}

void colb__tape_retain(colb__tape *t)
{
    if (t)
        atomic_fetch_add(&t->refs, 1);
}

void colb__tape_release(colb__tape *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->dbl);
    free(t->w);
    free(t);
}

int colb__tape_get(colb__tape *t, size_t round, double *const out[COLB__TAPE_SEGS], uint64_t *words)
{
    if (round >= atomic_load_explicit(&t->recorded, memory_order_acquire))
        return 0;
    const double *p = t->dbl + round * t->stride;
    for (int i = 0; i < COLB__TAPE_SEGS; i++) {
        memcpy(out[i], p, t->seg[i] * sizeof(double));
        p += t->seg[i];
    }
    memcpy(words, t->w + round * t->words, t->words * sizeof(uint64_t));
    return 1;
}

void colb__tape_put(colb__tape *t, size_t round, const double *const in[COLB__TAPE_SEGS],
                    const uint64_t *words)
{
    pthread_mutex_lock(&t->lock);
    if (round < t->rounds && round == atomic_load_explicit(&t->recorded, memory_order_relaxed)) {
        double *p = t->dbl + round * t->stride;
        for (int i = 0; i < COLB__TAPE_SEGS; i++) {
            memcpy(p, in[i], t->seg[i] * sizeof(double));
            p += t->seg[i];
        }
        memcpy(t->w + round * t->words, words, t->words * sizeof(uint64_t));
        atomic_store_explicit(&t->recorded, round + 1, memory_order_release);
    }
    pthread_mutex_unlock(&t->lock);
}
