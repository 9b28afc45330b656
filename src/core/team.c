/* team.c - persistent worker threads (see team.h): a generation counter under
 * one mutex; workers sleep on `go` until the generation moves, run their
 * part, and the last one to finish signals `done`. */
#include "core/team.h"

#include <pthread.h>
#include <stdlib.h>

struct colb__team {
    size_t size;
    pthread_t *th;
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    unsigned long gen;      /* run counter */
    size_t pending;         /* workers still running the current part */
    int stop;
    void (*fn)(void *ctx, size_t part, size_t parts);
    void *ctx;
};

typedef struct seat {
    colb__team *t;
    size_t part;
} seat;

static void *worker(void *arg)
{
    seat *s = arg;
    colb__team *t = s->t;
    size_t part = s->part;
    free(s);
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&t->lock);
        while (!t->stop && t->gen == seen)
            pthread_cond_wait(&t->go, &t->lock);
        if (t->stop) {
            pthread_mutex_unlock(&t->lock);
            return NULL;
        }
        seen = t->gen;
        void (*fn)(void *, size_t, size_t) = t->fn;
        void *ctx = t->ctx;
        pthread_mutex_unlock(&t->lock);
        fn(ctx, part, t->size);
        pthread_mutex_lock(&t->lock);
        if (--t->pending == 0)
            pthread_cond_signal(&t->done);
        pthread_mutex_unlock(&t->lock);
    }
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
    if (!t->th) {
        free(t);
        return COLB_ENOMEM;
    }
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
    free(t);
}

size_t colb__team_size(const colb__team *t)
{
    return t ? t->size : 1;
}

void colb__team_run(colb__team *t, void (*fn)(void *ctx, size_t part, size_t parts), void *ctx)
{
    pthread_mutex_lock(&t->lock);
    t->fn = fn;
    t->ctx = ctx;
    t->pending = t->size - 1;
    t->gen++;
    pthread_cond_broadcast(&t->go);
    pthread_mutex_unlock(&t->lock);
    fn(ctx, 0, t->size);
    pthread_mutex_lock(&t->lock);
    while (t->pending)
        pthread_cond_wait(&t->done, &t->lock);
    pthread_mutex_unlock(&t->lock);
}
