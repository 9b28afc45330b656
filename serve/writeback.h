/* writeback.h - bulk writes (a snapshot, the log's spare segment of
 * zeros) that do not hold up the log's group commits.
 *
 * A group commit's fdatasync also flushes whatever else the disk has been
 * given since the last flush. On the 2-vCPU VM of docs/performance.md a
 * flush behind 8 MB of another file's writeback took ~7 ms, and behind a
 * snapshot written as fast as the disk takes it (~400 MB/s) 20-140 ms, so
 * every reward acknowledged meanwhile waited that long. Measured with
 * bench/bench_fsync (33,000 records a second, one syncer; p99 of a
 * record's wait, 1.4-1.7 ms with nothing else writing) beside a writer of
 * zeros: 50 MB/s started in 8 MB steps 5.0-5.4 ms; 100 MB/s in 1 MB steps
 * 1.9 ms, in 256 KB steps 1.9-2.0 ms; 150-200 MB/s in 256 KB steps
 * 4.0-14.9 ms; unlimited 90-116 ms (docs/performance.md, "colb serve").
 * So a bulk writer starts the writeback of each WRITEBACK_STEP bytes as
 * soon as they are written, never has more than two steps in flight, and
 * keeps to a rate (--background-write-rate). The rate is one for all of
 * them (a writeback_pace they share): the log's spare segment is prepared
 * right after the rotation a snapshot starts, so the two bulk writers run
 * at once, and each at the rate would have given the disk twice it. */
#ifndef COLB_SERVE_WRITEBACK_H
#define COLB_SERVE_WRITEBACK_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

/* Bytes whose writeback starts at once (and that a step waits for). */
#define WRITEBACK_STEP ((off_t)1 << 20)

/* The rate that bulk writers share: together they write no faster. */
typedef struct writeback_pace {
    pthread_mutex_t mu;
    double rate; /* bytes a second at most (0: no limit) */
    double due;  /* when the bytes written so far are due at that rate (now_s()) */
} writeback_pace;

/* A pace of rate bytes a second (0 or less: no limit). */
void writeback_pace_init(writeback_pace *p, double rate);

/* Release p, which no writer uses any more. */
void writeback_pace_destroy(writeback_pace *p);

typedef struct writeback {
    int fd;
    off_t started; /* bytes whose writeback was started: a multiple of WRITEBACK_STEP */
    off_t paced;   /* bytes counted in the pace */
    writeback_pace *pace;     /* NULL: no limit */
    const _Atomic int *hurry; /* once set, no more pauses (NULL: none) */
} writeback;

/* Pace the bulk writes to fd, which start at offset 0 and go on in order,
 * at pace's rate, shared with its other writers (NULL: no limit), until
 * *hurry is set (a stop: hurry NULL for none), which a pause sees within
 * 50 ms. */
void writeback_init(writeback *b, int fd, writeback_pace *pace, const _Atomic int *hurry);

/* After the writes up to `done` bytes: start the writeback of every whole
 * step written, wait for the step before each, then sleep until the bytes
 * written since the last call, after those every writer of the pace wrote
 * before, are no faster than its rate (time in which nobody wrote saves up
 * no more than two steps of it). Write errors show in the caller's final
 * fsync or fdatasync, not here. */
void writeback_step(writeback *b, off_t done);

#endif
