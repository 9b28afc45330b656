/* parallel.c - the parallel loop of parallel.h (POSIX threads, a shared
 * counter of the next task). */
#include "sim/parallel.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct loop {
    size_t n, next, done;
    void (*task)(void *ctx, size_t i);
    void (*after)(void *ctx, size_t done);
    void *ctx;
    pthread_mutex_t lock;
} loop;

static void *run(void *arg)
{
    loop *l = arg;
    for (;;) {
        pthread_mutex_lock(&l->lock);
        size_t i = l->next++;
        pthread_mutex_unlock(&l->lock);
        if (i >= l->n)
            return NULL;
        l->task(l->ctx, i);
        pthread_mutex_lock(&l->lock);
        l->done++;
        if (l->after)
            l->after(l->ctx, l->done);
        pthread_mutex_unlock(&l->lock);
    }
}

void colb__parallel_for(size_t n, size_t threads, void (*task)(void *ctx, size_t i),
                        void (*after)(void *ctx, size_t done), void *ctx)
{
    loop l = { .n = n, .task = task, .after = after, .ctx = ctx };
    pthread_mutex_init(&l.lock, NULL);
    size_t extra = threads > 1 ? threads - 1 : 0;
    if (extra > n)
        extra = n;
    pthread_t *th = extra ? malloc(extra * sizeof *th) : NULL;
    size_t started = 0;
    while (th && started < extra && pthread_create(&th[started], NULL, run, &l) == 0)
        started++;
    run(&l);
    for (size_t t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    free(th);
    pthread_mutex_destroy(&l.lock);
}
