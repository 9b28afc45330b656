/* snapshotter.h - writes snapshots of the served state in the background.
 *
 * The writer thread freezes the state - it fork()s a child process that
 * holds the state as it was and writes the snapshot (snapshotter_fork:
 * the writer pauses for the fork, about 2 ms per 100 MB of the process's
 * memory, and then for the copy-on-write faults of the pages it changes
 * while the child runs), or, when fork fails or --snapshot-fork is off,
 * captures it (state_capture: the policy saved into a buffer, the decision
 * window shared copy-on-write - a pause of the policy's size) - starts a
 * new log segment, and hands the snapshot over; this thread writes the
 * capture, or waits for the child, into DIR/snapshot.colb atomically and
 * durably (a temporary file in DIR, fsync, rename, fsync of DIR) and then
 * drops the log segments the snapshot covers (or archives them). One
 * snapshot at a time: while one is being written the writer does not
 * start another. A child that makes no progress for --snapshot-stall
 * seconds (no CPU time used, its file not written) is killed and its
 * snapshot counted as failed; the next one retries. No wait for a child
 * is unbounded: one that a SIGKILL does not end within seconds is left to
 * end in the kernel, and reaped later. */
#ifndef COLB_SERVE_SNAPSHOTTER_H
#define COLB_SERVE_SNAPSHOTTER_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "state.h"
#include "writeback.h"

typedef struct snapshotter snapshotter;

/* 0 in an AddressSanitizer build: its allocator (GCC 12's libasan, clang
 * 14's) takes no lock across fork(), so a child forked while another
 * thread of the server held one of its locks blocks on its first malloc
 * for ever (seen under load: a SIGTERM that never completed, before
 * --snapshot-stall bounded the wait for a child; every such snapshot
 * would still fail). glibc's malloc and stdio are fork-safe, so every
 * other build forks. Without it, snapshots are captured in the writer
 * (--snapshot-fork 0), whatever the option says. */
#if defined(__SANITIZE_ADDRESS__)
#define SNAPSHOTTER_CAN_FORK 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SNAPSHOTTER_CAN_FORK 0
#endif
#endif
#ifndef SNAPSHOTTER_CAN_FORK
#define SNAPSHOTTER_CAN_FORK 1
#endif

/* Write the capture im to DIR/snapshot.colb, atomically and durably (*len:
 * its bytes), as fast as the disk takes it: for a snapshot nothing is
 * served during (at a start, at a stop; the background ones keep to
 * --background-write-rate). 0, or -1 with err (an existing snapshot is
 * then untouched). */
int snapshot_write(const char *dir, const state_image *im, size_t *len, char *err, size_t err_len);

/* Remove DIR/snapshot.colb.tmp, the part of a snapshot a crash cut short
 * (a start, DIR locked: no writer of it runs), so that its blocks are free
 * for the log's spare segments before the next snapshot. */
void snapshot_remove_partial(const char *dir);

/* Start the thread. archive: move old segments to DIR/archive; else one
 * of recycle_bytes (the log's preallocated size, 0: none) is kept for
 * reuse (wal_drop_segments). stall: seconds a fork()ed child may go
 * without progress before it is killed (> 0). pace: the rate the
 * snapshots are written at most, shared with the other bulk writers
 * (writeback.h; NULL: no limit; it must outlive the thread). Failures are
 * counted in m and said on stderr. 0, or -1 with err. */
int snapshotter_start(snapshotter **out, const char *dir, int archive, size_t recycle_bytes, double stall,
                      writeback_pace *pace, int quiet, metrics *m, char *err, size_t err_len);

/* Fork a child that writes the live capture im (state_capture with live
 * set, taken just before) to DIR/snapshot.colb.tmp, unsynced, and reports
 * to this thread, to which im is then submitted: the thread syncs the
 * file (at the start's pace) and renames it to DIR/snapshot.colb, then
 * drops im's references. First reaps the children left earlier that have
 * ended, and makes room to keep this one's pid should it have to be left
 * (the list of children left has no bound, so none stays a zombie). Call
 * from the writer thread (the child dies with it), while not busy. 0, or
 * -1 with errno (no child; ENOMEM: no memory for that room). */
int snapshotter_fork(snapshotter *s, state_image *im);

/* Kill snapshotter_fork's child before it was submitted, and wait for it
 * to exit, at most 5 s (or --snapshot-stall when shorter): one still in
 * the kernel then (an uninterruptible wait: a hung disk) is said on
 * stderr and left there, a child of this process that a later fork or
 * snapshotter_stop reaps once it has ended (its pid is not reused
 * before). Its temporary file stays until the next snapshot replaces it. */
void snapshotter_cancel(snapshotter *s);

/* Wait until no snapshot is being written (a fork()ed child's, at most
 * until it has made no progress for the stall time). */
void snapshotter_wait(snapshotter *s);

/* The snapshot being written, and any later one, goes to the disk at full
 * speed, not at the start's pace (a stop: snapshotter_stop does it too).
 * Any thread. */
void snapshotter_hurry(snapshotter *s);

/* 1 while a snapshot is being written. */
int snapshotter_busy(snapshotter *s);

/* Serialise and write the capture im (taken: freed by the snapshotter),
 * or wait for snapshotter_fork's child writing it, which covers the log up
 * to lsn; then drop the segments before `keep` (the segment started for
 * it). */
void snapshotter_submit(snapshotter *s, state_image *im, uint64_t lsn, uint64_t keep);

/* While no snapshot is being written and no buffer is prepared or ready:
 * the thread allocates a capture buffer of len bytes and touches its pages
 * (here 1.4 ms per MB alone, up to 5 under load; off the writer and the
 * applier), for snapshotter_take_buffer. Else nothing. Writer thread. */
void snapshotter_prepare(snapshotter *s, size_t len);

/* The buffer the thread prepared (snapshotter_prepare), *buf (the
 * caller's to free), and its size; 0 (and *buf NULL) when there is none,
 * or while a snapshot is being written. Writer thread. */
size_t snapshotter_take_buffer(snapshotter *s, void **buf);

/* Wait for a snapshot in progress, stop the thread, reap the children
 * left that have ended (those still in the kernel stay zombies until this
 * process exits, which it is about to). NULL harmless. */
void snapshotter_stop(snapshotter *s);

#endif
