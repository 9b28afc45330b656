/* wal.h - the write-ahead log of `colb serve` (format in docs/serve.md).
 *
 * The log is a sequence of segment files DIR/wal-<first lsn>.log, each a
 * header and then records: u32 length, u32 type, u64 lsn, the payload
 * (records.h) and an XXH3-64 checksum of all that. Log sequence numbers
 * (lsn) count records from 1 without gaps across segments.
 *
 * Writing. One writer thread appends records to a buffer (wal_reserve /
 * wal_commit) and hands the buffer to the kernel with one write() per
 * batch of requests (wal_write). A request that must not be answered
 * before its records are on disk registers a waiter for the log position
 * after them (wal_await). A syncer thread runs fdatasync for all waiters
 * at once (group commit): while one fdatasync runs, new waiters gather for
 * the next; --commit-wait adds a bounded wait before each, and
 * --commit-interval a least time between the starts of two. A failed
 * write or fdatasync puts the log in a failed state: every waiter then
 * completes with ok = 0, and so does every later one.
 *
 * Rotation. A snapshot covers the log up to some lsn L; the writer starts a
 * new segment at L + 1 (wal_rotate) when the current one is worth closing
 * (wal_rotation_useful: not preallocated, or half full), and once the
 * snapshot is durable the segments before the one that holds L + 1 are
 * removed or archived (wal_drop_segments). The
 * rotation does not wait for the disk, nor does the writer ever sync: the
 * syncer syncs the old segments' tails, the new segment and the folder, in
 * that order, at once in the background, and in any case before it
 * completes a waiter. A crash before then leaves at most a new last
 * segment without its header, which reading treats as torn. Without
 * waiters (decisions need no fsync) the syncer also starts the writeback
 * of every 8 MB written, so that dirty pages do not pile up for the next
 * group commit (or rotation) to flush at once.
 *
 * Preallocation (seg_bytes > 0). A segment is a file of seg_bytes already
 * on disk (zeros written and synced in advance by a background thread, or
 * a segment a snapshot made obsolete, kept as DIR/wal-recycle.tmp), and
 * records are written over it in place: a group commit's fdatasync then
 * flushes data blocks only, with no journal commit for a new file size.
 * A spare (DIR/wal-spare.tmp) is kept ready once the log has traffic; the
 * writer moves into it when the current segment is full (or is not a
 * preallocated one), else the segment grows as before. After the last
 * record of a batch the writer writes 16 zero bytes (overwritten by the
 * next batch): where a record would start, 16 zero bytes end the segment.
 *
 * Reading. wal_read visits every record after a given lsn in order. The
 * last segment may end in a torn record (a crash during a write): the log
 * ends at 16 zero bytes (the end of what was written), or at the first
 * record that is incomplete, fails its checksum or has another lsn than
 * the next (torn: with WAL_REPAIR the segment is cut there, which is what
 * a restart does). Any other segment ends with the record before the next
 * segment's first (what follows is its preallocated tail); a bad record
 * before that, or a gap in the lsns, is an error unless WAL_CUT_GAP says
 * to end the log there (a power cut can lose a segment's unsynced tail
 * while a later segment reached the disk: records never acknowledged).
 * Records a snapshot holds (lsn <= covered) are another matter: a damaged
 * or missing stretch of them ends nothing (the reading resumes after it)
 * and costs nothing, unless the caller reads them (lsn > after: the
 * decisions the snapshot left to the log), whose loss only WAL_CUT_GAP
 * accepts (visited as WAL_LOST). */
#ifndef COLB_SERVE_WAL_H
#define COLB_SERVE_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "writeback.h"

typedef struct wal wal;

typedef struct wal_waiter {
    uint64_t pos;                                 /* set by wal_await */
    void (*done)(struct wal_waiter *w, int ok);   /* called once, from any thread */
    struct wal_waiter *next;
} wal_waiter;

/* ---- reading ------------------------------------------------------------ */

#define WAL_REPAIR 1   /* cut a torn tail (what a restart does) */
#define WAL_ARCHIVE 2  /* also read DIR/archive (the whole history kept by --archive-log), and
                          start from the oldest segment there is, whatever `after` says */
#define WAL_CUT_GAP 4  /* a segment whose records stop before the next one's first ends the log
                          (with WAL_REPAIR: cut there, later segments moved to DIR/dropped);
                          without it that is an error (--repair-log) */
#define WAL_SKIP_LOST 8 /* records the caller reads that are lost within the snapshot's lsn (covered)
                          are visited as one WAL_LOST, as with WAL_CUT_GAP, but a gap after it is
                          still an error (--dump-log: it reads from lsn 1 on) */

/* The type of a visit for records lost (damaged or missing, lsn <= the
 * snapshot's: wal_read's covered) that the caller reads: lsn is the first
 * of them, len how many, payload NULL. No record has type 0. */
#define WAL_LOST 0

/* Called for each record; return 0 to go on, -1 to stop with the error in err. */
typedef int (*wal_visit)(void *ctx, uint64_t lsn, uint32_t type, const unsigned char *payload, size_t len,
                         char *err, size_t err_len);

/* Visit the records of DIR with lsn > after, in order. covered: the lsn
 * of the snapshot the caller holds (0: none; else at least after); a stretch
 * of records up to it that is damaged or missing is skipped - the caller
 * has what they did - when the reading can resume at covered + 1 or
 * before: those of them above after are lost, an error unless flags have
 * WAL_CUT_GAP, then visited as one WAL_LOST; nothing is cut or moved for
 * them. *last receives the last lsn visited (after, if none); note (may be
 * NULL) lines (separated by newlines) about what was skipped, and about a
 * torn tail that was dropped ("" if none). 0, or -1 with err. */
int wal_read(const char *dir, uint64_t after, uint64_t covered, int flags, wal_visit fn, void *ctx, uint64_t *last,
             char *note, size_t note_len, char *err, size_t err_len);

/* ---- writing ------------------------------------------------------------ */

/* Start a new segment DIR/wal-<next_lsn>.log (durably: file and folder
 * fsynced), the syncer and (seg_bytes > 0) the thread that preallocates
 * segments of seg_bytes. commit_wait_us: the group commit's extra wait;
 * commit_interval_us: the least time between two group commits' fsyncs
 * (0: none); pace: the rate the preallocation writes zeros at most,
 * shared with the other bulk writers (writeback.h; NULL: no limit; it must
 * outlive the log). */
int wal_open(wal **out, const char *dir, uint64_t next_lsn, size_t commit_wait_us, size_t commit_interval_us,
             size_t seg_bytes, writeback_pace *pace, metrics *m, char *err, size_t err_len);

/* Room for a record of `len` payload bytes in the write buffer; write the
 * payload there, then wal_commit. NULL when out of memory. The record's
 * lsn is wal_last_lsn() after the commit. */
unsigned char *wal_reserve(wal *w, uint32_t type, size_t len);
void wal_commit(wal *w);
/* Commit with a payload of len <= the reserved length. */
void wal_commit_len(wal *w, size_t len);
/* Commit as a record of another type, with a payload of len <= the
 * reserved length. */
void wal_commit_as(wal *w, uint32_t type, size_t len);
/* Undo an uncommitted reserve. */
void wal_cancel(wal *w);

uint64_t wal_last_lsn(const wal *w);

/* Bytes committed but not yet written. */
size_t wal_pending(const wal *w);

/* write() the committed records; *pos receives the log position after
 * them. 0, or -1 with err (the log is failed from then on). */
int wal_write(wal *w, uint64_t *pos, char *err, size_t err_len);

/* Call w->done(w, ok) once the log is durable up to pos (at once if it is
 * already). */
void wal_await(wal *l, wal_waiter *w, uint64_t pos);

/* Start a new segment at the next lsn, without waiting for the disk: the
 * syncer syncs the previous segment, the new one and the folder in the
 * background, before it completes any waiter (and wal_close does). Waits
 * only when 8 rotated segments are still unsynced. 0, or -1 with err. */
int wal_rotate(wal *w, char *err, size_t err_len);

/* The lsn the current segment starts with. */
uint64_t wal_segment_start(const wal *w);

/* 1 when a snapshot should start a new segment: the current one is not
 * preallocated (it grows: a new one lets the snapshot drop it), or holds
 * records in at least half of its preallocated bytes. A preallocated
 * segment closed early would keep all its bytes on disk for the few records
 * it holds, as long as the log is kept (--window-log-bytes): with a
 * snapshot every second, a new 64 MB file a second. The writer's call. */
int wal_rotation_useful(const wal *w);

/* 1 if the log failed (a message in msg). */
int wal_failed(wal *w, char *msg, size_t len);

/* 1 if a spare segment is prepared for the next rotation (its state is
 * timing-dependent: tests wait on it rather than on a pace). */
int wal_spare_ready(wal *w);

/* For tests: from now on the writer pauses ms milliseconds in each
 * rotation into a spare, after it has taken the spare and before it
 * renames it (the window in which the preparing thread must leave the
 * spare's file alone). */
void wal_test_pause_rotation(wal *w, unsigned ms);

/* From now on a group commit's fsync waits for nothing (neither
 * --commit-wait nor --commit-interval), one waiting now included: for a
 * shutdown's drain, when no load is left to gather and the requests in
 * flight would only wait for the pace (up to 1 s). Any thread. */
void wal_hurry(wal *w);

/* Forget the last group commit for --commit-interval's pace: the next one
 * waits for none of it. After the start's own durable record (START), so
 * that the first reward served is not held back by it. Any thread. */
void wal_unpace(wal *w);

/* Sync what was written, complete every waiter, stop the syncer, close. */
void wal_close(wal *w);

/* fdatasync the segments that hold records from lsn `from` to `to`, and
 * the folder: a snapshot that refers to them makes them durable first. 0,
 * or -1 with err (also when the log's first segment starts after `from`:
 * a segment removed under the server; a missing segment between two
 * others shows at the next start, which reads the records). */
int wal_sync_range(const char *dir, uint64_t from, uint64_t to, char *err, size_t err_len);

/* Remove (or with archive, move into DIR/archive) every segment whose
 * records all precede lsn `keep` (a later segment starts by keep); without
 * archive, one of recycle_bytes (a preallocated one) becomes
 * DIR/wal-recycle.tmp, for the next spare, if there is none yet. 0, or -1
 * with err. */
int wal_drop_segments(const char *dir, uint64_t keep, int archive, size_t recycle_bytes, char *err, size_t err_len);

/* 1 if DIR holds a log segment, 0 if not, -1 if DIR cannot be read. */
int wal_exists(const char *dir);

/* fsync the folder `dir` (a rename or a new file in it becomes durable). */
int wal_sync_dir(const char *dir);

/* The pause (seconds) after a chunk of a new spare segment's zeros, which
 * spreads them until the current segment holds `goal` bytes, at the rate
 * it has filled so far (prepare_spare's goal: half way from where it
 * stood when the zeros began to full): written at once, 64 MB of zeros
 * and their writeback held the group commits and the other threads of a
 * small VM for tens of ms (docs/serve.md, "Durability"). pre: the current
 * segment is preallocated (else the log waits for this spare: 0); used:
 * its bytes written (at or past goal: 0); elapsed: seconds since it began;
 * left: the zeros still to write (bytes; none: 0); spent: seconds the last
 * chunk took. Nothing written yet: no pause (no rate to go by). At most
 * 0.05 s, so that a quiet log gets its spare within seconds. */
double wal_zero_pause(int pre, double used, double goal, double elapsed, double left, double spent);

#endif
