/* writeback.c - paced bulk writes (writeback.h). */
#define _GNU_SOURCE /* sync_file_range */
#include "writeback.h"

#include <fcntl.h>
#include <time.h>

#include "clock.h"

/* The longest single sleep of a pause: how late a stop (hurry) is seen. */
#define NAP_MAX 0.05

static int hurried(const writeback *b)
{
    return b->hurry && atomic_load_explicit(b->hurry, memory_order_relaxed);
}

void writeback_pace_init(writeback_pace *p, double rate)
{
    p->rate = rate > 0.0 ? rate : 0.0;
    p->due = 0.0;
    pthread_mutex_init(&p->mu, NULL); /* glibc's, without attributes: no failure */
}

void writeback_pace_destroy(writeback_pace *p) { pthread_mutex_destroy(&p->mu); }

void writeback_init(writeback *b, int fd, writeback_pace *pace, const _Atomic int *hurry)
{
    b->fd = fd;
    b->started = 0;
    b->paced = 0;
    b->pace = pace && pace->rate > 0.0 ? pace : NULL;
    b->hurry = hurry;
}

/* When bytes more, after everything the pace's writers wrote before, are
 * due (now_s()): the pace's clock moved on by their time at its rate. */
static double reserve(writeback_pace *p, double bytes)
{
    double slack = 2.0 * (double)WRITEBACK_STEP / p->rate;
    pthread_mutex_lock(&p->mu);
    double floor = now_s() - slack; /* a slow stretch (nobody writing) earns no burst beyond two steps */
    if (p->due < floor)
        p->due = floor;
    p->due += bytes / p->rate;
    double due = p->due;
    pthread_mutex_unlock(&p->mu);
    return due;
}

void writeback_step(writeback *b, off_t done)
{
    for (; done - b->started >= WRITEBACK_STEP; b->started += WRITEBACK_STEP) {
        sync_file_range(b->fd, b->started, WRITEBACK_STEP, SYNC_FILE_RANGE_WRITE);
        if (b->started >= WRITEBACK_STEP)
            sync_file_range(b->fd, b->started - WRITEBACK_STEP, WRITEBACK_STEP,
                            SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    }
    if (!b->pace || done <= b->paced || hurried(b))
        return;
    double due = reserve(b->pace, (double)(done - b->paced));
    b->paced = done;
    for (double ahead = due - now_s(); ahead > 0.0 && !hurried(b); ahead = due - now_s()) {
        double nap = ahead < NAP_MAX ? ahead : NAP_MAX;
        struct timespec ts = { 0, (long)(nap * 1e9) };
        nanosleep(&ts, NULL);
    }
}
