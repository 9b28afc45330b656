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

void writeback_init(writeback *b, int fd, double rate, const _Atomic int *hurry)
{
    b->fd = fd;
    b->started = 0;
    b->rate = rate > 0.0 ? rate : 0.0;
    b->t0 = now_s();
    b->hurry = hurry;
}

void writeback_step(writeback *b, off_t done)
{
    for (; done - b->started >= WRITEBACK_STEP; b->started += WRITEBACK_STEP) {
        sync_file_range(b->fd, b->started, WRITEBACK_STEP, SYNC_FILE_RANGE_WRITE);
        if (b->started >= WRITEBACK_STEP)
            sync_file_range(b->fd, b->started - WRITEBACK_STEP, WRITEBACK_STEP,
                            SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    }
    if (b->rate <= 0.0)
        return;
    double ahead = b->t0 + (double)done / b->rate - now_s(), slack = 2.0 * (double)WRITEBACK_STEP / b->rate;
    if (ahead < -slack)
        b->t0 += -slack - ahead; /* a slow stretch (the writer busy elsewhere) earns no burst beyond two steps */
    while (ahead > 0.0 && !hurried(b)) {
        double nap = ahead < NAP_MAX ? ahead : NAP_MAX;
        struct timespec ts = { 0, (long)(nap * 1e9) };
        nanosleep(&ts, NULL);
        ahead = b->t0 + (double)done / b->rate - now_s();
    }
}
