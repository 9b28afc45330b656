/* wal.c - the write-ahead log (wal.h): segments, record framing with
 * XXH3-64 checksums, the write buffer, the group-commit syncer thread,
 * rotation, and the reader that recovery and --dump-log use. */
#define _GNU_SOURCE /* sync_file_range */
#include "wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "bytes.h"
#include "clock.h"
#include "thread_sched.h"
#include "writeback.h"

#define SEG_HEADER 32
#define REC_OVERHEAD 24 /* 16 bytes of header, 8 of checksum */
#define REC_MAX ((size_t)1 << 31)
#define WAL_VERSION 1u /* of the segments' format: the one this colb writes and reads */
static const unsigned char MAGIC[8] = { 0x89, 'C', 'W', 'A', 'L', '\r', '\n', 0x1a };

int wal_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd) != 0 && errno != EINVAL ? -1 : 0;
    close(fd);
    return r;
}

/* ---- segments -------------------------------------------------------------- */

typedef struct segment {
    uint64_t first;
    char path[4400];
} segment;

static int seg_name(const char *name, uint64_t *first)
{
    unsigned long long v;
    int n = 0;
    if (strlen(name) != 28 || sscanf(name, "wal-%20llu.log%n", &v, &n) != 1 || n != 28)
        return -1;
    *first = v;
    return 0;
}

static int cmp_seg(const void *a, const void *b)
{
    const segment *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* The segments of dir (and of dir/archive with WAL_ARCHIVE), sorted. */
static int list_segments(const char *dir, int flags, segment **out, size_t *n, char *err, size_t err_len)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    for (int pass = 0; pass < 2; pass++) {
        char d[4120];
        if (pass == 1 && !(flags & WAL_ARCHIVE))
            break;
        snprintf(d, sizeof d, pass ? "%s/archive" : "%s", dir);
        DIR *dh = opendir(d);
        if (!dh) {
            if (pass == 1 && errno == ENOENT)
                break;
            snprintf(err, err_len, "%s: %s", d, strerror(errno));
            free(*out);
            return -1;
        }
        struct dirent *de;
        while ((de = readdir(dh))) {
            uint64_t first;
            if (seg_name(de->d_name, &first))
                continue;
            if (*n == cap) {
                cap = cap ? 2 * cap : 16;
                segment *s = realloc(*out, cap * sizeof *s);
                if (!s) {
                    closedir(dh);
                    free(*out);
                    snprintf(err, err_len, "out of memory listing the log");
                    return -1;
                }
                *out = s;
            }
            (*out)[*n].first = first;
            snprintf((*out)[*n].path, sizeof(*out)[*n].path, "%s/%s", d, de->d_name);
            (*n)++;
        }
        closedir(dh);
    }
    if (*n > 1)
        qsort(*out, *n, sizeof **out, cmp_seg);
    for (size_t i = 1; i < *n; i++)
        if ((*out)[i].first == (*out)[i - 1].first) {
            snprintf(err, err_len, "%s and %s start at the same lsn", (*out)[i - 1].path, (*out)[i].path);
            free(*out);
            return -1;
        }
    return 0;
}

static void seg_header(unsigned char *h, uint64_t first)
{
    memcpy(h, MAGIC, 8);
    put_u32(h + 8, WAL_VERSION);
    put_u32(h + 12, 0);
    put_u64(h + 16, first);
    put_u64(h + 24, XXH3_64bits(h, 24));
}

/* ---- reading ---------------------------------------------------------------- */

/* What is wrong with the header of segment path (size bytes at m), which
 * is not the one a segment starting at lsn `first` has (seg_header), into
 * err: the first field that differs. */
static void header_error(const char *path, const unsigned char *m, size_t size, uint64_t first, char *err,
                         size_t err_len)
{
    int sum_ok = size >= SEG_HEADER && get_u64(m + 24) == XXH3_64bits(m, 24);
    if (size < SEG_HEADER || memcmp(m, MAGIC, 8))
        snprintf(err, err_len, "%s: not a colb log segment (%s)", path,
                 size < SEG_HEADER ? "shorter than a segment's header" : "no colb log magic at its start");
    else if (get_u32(m + 8) != WAL_VERSION)
        snprintf(err, err_len, "%s: a log segment of version %u; this colb serve reads version %u only (%s)", path,
                 get_u32(m + 8), WAL_VERSION, sum_ok ? "written by a newer colb serve? docs/serve.md, \"Files and "
                 "formats\"" : "or its header is damaged: its checksum does not match either");
    else if (!sum_ok)
        snprintf(err, err_len, "%s: its header is damaged (its checksum does not match)", path);
    else if (get_u32(m + 12) != 0)
        snprintf(err, err_len, "%s: its header has flags %#x, which this colb serve does not know (version %u has "
                 "none)", path, get_u32(m + 12), WAL_VERSION);
    else
        snprintf(err, err_len, "%s: its header says the segment starts at lsn %llu, its name at lsn %llu (a "
                 "renamed segment?)", path, (unsigned long long)get_u64(m + 16), (unsigned long long)first);
}

/* 1 when the record at r (left bytes from there) is whole: its length
 * fits, and its checksum matches (*len: its payload's bytes). */
static int whole_record(const unsigned char *r, size_t left, size_t *len)
{
    if (left < REC_OVERHEAD)
        return 0;
    *len = get_u32(r);
    return *len <= left - REC_OVERHEAD && *len < REC_MAX && get_u64(r + 16 + *len) == XXH3_64bits(r, 16 + *len);
}

/* The offset of the first record after byte off of segment m (size
 * bytes) that is whole, passes its checksum and has an lsn from expect on
 * (*lsn); -1 if none. Looked for a byte at a time: a damaged record's
 * length cannot be trusted. A recycled segment's stale records have lsns
 * below the segment's first, so they do not count. */
static long long later_record(const unsigned char *m, size_t off, size_t size, uint64_t expect, uint64_t *lsn)
{
    for (size_t q = off + 1; q + REC_OVERHEAD <= size; q++) {
        const unsigned char *r = m + q;
        uint64_t l = get_u64(r + 8);
        size_t len;
        if (l < expect || l - expect > (size - off) / REC_OVERHEAD) /* first: no checksum for most bytes */
            continue;
        if (whole_record(r, size - q, &len)) {
            *lsn = l;
            return (long long)q;
        }
    }
    return -1;
}

/* Append a line (printf-style) to note (len bytes; may be NULL), after a
 * newline when it holds one already. */
static void note_add(char *note, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note_add(char *note, size_t len, const char *fmt, ...)
{
    if (!note || !len)
        return;
    size_t at = strlen(note);
    if (at && at + 1 < len)
        note[at++] = '\n', note[at] = '\0';
    va_list ap;
    va_start(ap, fmt);
    if (at < len)
        vsnprintf(note + at, len - at, fmt, ap);
    va_end(ap);
}

/* "record lo" or "records lo to hi" into buf (64 bytes). */
static const char *span(char *buf, uint64_t lo, uint64_t hi)
{
    if (lo == hi)
        snprintf(buf, 64, "record %llu", (unsigned long long)lo);
    else
        snprintf(buf, 64, "records %llu to %llu", (unsigned long long)lo, (unsigned long long)hi);
    return buf;
}

/* Records lo to hi (hi <= covered: the snapshot holds them) are damaged or
 * missing (where: which, for the messages). Those the caller reads (above
 * after: the decisions a snapshot left to the log) are lost: with
 * WAL_CUT_GAP (--repair-log) or WAL_SKIP_LOST in flags visited as one
 * WAL_LOST, else an error that says what --repair-log would do. The
 * stretch is said in note. 0: skip it, or -1 with err. */
static int lost_stretch(const char *where, uint64_t lo, uint64_t hi, uint64_t after, uint64_t covered, int flags,
                        wal_visit fn, void *ctx, char *note, size_t note_len, char *err, size_t err_len)
{
    if (hi > after) {
        uint64_t from = lo > after ? lo : after + 1;
        if (!(flags & (WAL_CUT_GAP | WAL_SKIP_LOST))) {
            char sp[64];
            snprintf(err, err_len, "%s: damaged or missing. The snapshot (lsn %llu) holds what they did to the "
                     "model, but it left the contexts of the decisions made from lsn %llu on to the log "
                     "(--window-log-bytes): those that %s made are lost. --repair-log 1 starts "
                     "without them (a reward for one answers 409 expired_decision; one the log has after the "
                     "snapshot is not applied), keeping every record after them, and takes a snapshot "
                     "(docs/serve.md, \"Damage before the snapshot\")", where, (unsigned long long)covered,
                     (unsigned long long)after + 1, span(sp, from, hi));
            return -1;
        }
        if (fn(ctx, from, WAL_LOST, NULL, (size_t)(hi - from + 1), err, err_len))
            return -1;
    }
    note_add(note, note_len, "%s: damaged or missing, before the snapshot's lsn %llu: skipped%s", where,
             (unsigned long long)covered,
             hi <= after ? " (not needed: the snapshot holds them)"
             : flags & WAL_CUT_GAP ? " (--repair-log 1), with any decisions they made"
                                   : " (listed as lost; the snapshot holds what they did to the model)");
    return 0;
}

/* Read one segment: visit records with lsn > after. *expect is the lsn the
 * next record must have (0: not known yet). On a bad record: in the last
 * segment the log ends there (*torn_at set) - unless a whole record with a
 * later lsn follows it, which a torn write does not explain: then an
 * error, or with WAL_CUT_GAP in flags the log ends there all the same
 * (*damaged set). A segment before the last whose records stop before the
 * next one's first (a bad record, or the zeros of a preallocated tail) has
 * lost records: with WAL_CUT_GAP, the log ends there too (*torn_at and
 * *gap set; *damaged too when a whole later record follows in the
 * segment: corruption, not a lost tail), else an error that says which. All this but for records up to covered (the
 * snapshot's), which are skipped when the reading can resume by covered +
 * 1 (lost_stretch; note). */
static int read_segment(const segment *s, uint64_t next_first, uint64_t after, uint64_t covered, uint64_t *expect,
                        wal_visit fn, void *ctx, int flags, long long *torn_at, int *gap, int *damaged, size_t *size_out,
                        char *note, size_t note_len, char *err, size_t err_len)
{
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, err_len, "%s: %s", s->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    *size_out = size;
    unsigned char *m = NULL;
    if (size > 0) {
        m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            snprintf(err, err_len, "%s: %s", s->path, strerror(errno));
            close(fd);
            return -1;
        }
    }
    close(fd);
    int last = next_first == 0, rc = 0;
    *torn_at = -1;
    unsigned char h[SEG_HEADER];
    seg_header(h, s->first);
    static const unsigned char zero[SEG_HEADER];
    if (size < SEG_HEADER || memcmp(m, h, SEG_HEADER)) {
        if (last && (size < SEG_HEADER || !memcmp(m, zero, SEG_HEADER))) {
            /* a segment whose creation a crash cut short, or whose header
             * never reached the disk (wal_rotate does not wait for it; no
             * record after it was acknowledged before it did) */
            *torn_at = 0;
        } else {
            header_error(s->path, m, size, s->first, err, err_len);
            rc = -1;
        }
        goto done;
    }
    char where[4500], sp[64];
    if (*expect && s->first > *expect && s->first - 1 <= covered) { /* a segment the snapshot covers is missing */
        snprintf(where, sizeof where, "%s (no segment holds them, before %s)", span(sp, *expect, s->first - 1),
                 s->path);
        if (lost_stretch(where, *expect, s->first - 1, after, covered, flags, fn, ctx, note, note_len, err, err_len)) {
            rc = -1;
            goto done;
        }
        *expect = s->first;
    }
    if (*expect && s->first != *expect) {
        snprintf(err, err_len, "%s starts at lsn %llu, but the log before it ends at lsn %llu (a segment "
                 "is missing)", s->path, (unsigned long long)s->first, (unsigned long long)*expect - 1);
        rc = -1;
        goto done;
    }
    *expect = s->first;
    size_t off = SEG_HEADER;
    for (;;) {
        while (off < size) {
            /* a segment before the last ends with the record before the
             * next one's first: what follows is its preallocated tail */
            if (!last && *expect >= next_first)
                break;
            const unsigned char *r = m + off;
            size_t left = size - off;
            /* 16 zero bytes where a record would start (no record has lsn
             * 0): the end of what was written into a preallocated segment */
            if (left >= 16 && !memcmp(r, zero, 16))
                break;
            size_t len;
            if (!whole_record(r, left, &len) || get_u64(r + 8) != *expect)
                break; /* the last segment's torn tail, or a gap (below) */
            uint64_t lsn = get_u64(r + 8);
            if (lsn > after && fn(ctx, lsn, get_u32(r + 4), r + 16, len, err, err_len)) {
                rc = -1;
                goto done;
            }
            (*expect)++;
            off += REC_OVERHEAD + len;
        }
        /* Records the snapshot holds (lsn <= covered) that are damaged or
         * missing - the last segment ending before them, a bad record, a
         * segment's records stopping before the next one's first - are no
         * reason to end the log: the reading resumes at the next whole
         * record of this segment, else at the next segment (the last: the
         * log ends after covered), when that is covered + 1 or before.
         * Anything else is handled below, as before. */
        if (*expect > covered || (!last && *expect >= next_first))
            break;
        uint64_t resume = 0;
        long long q = off < size ? later_record(m, off, size, *expect, &resume) : -1;
        if (q < 0 || (!last && resume >= next_first))
            q = -1, resume = last ? covered + 1 : next_first;
        if (resume > covered + 1)
            break;
        /* the log ending cleanly before the snapshot's lsn is a missing
         * stretch too: a power cut after a snapshot that did not sync the
         * log up to its lsn first (written before that sync was made) */
        snprintf(where, sizeof where, "%s: %s (from byte %zu)", s->path, span(sp, *expect, resume - 1), off);
        if (lost_stretch(where, *expect, resume - 1, after, covered, flags, fn, ctx, note, note_len, err, err_len)) {
            rc = -1;
            goto done;
        }
        *expect = resume;
        if (q < 0) {
            off = size;
            break;
        }
        off = (size_t)q;
    }
    if (last && off < size && !(size - off >= 16 && !memcmp(m + off, zero, 16))) {
        uint64_t later;
        long long q = later_record(m, off, size, *expect, &later);
        if (q < 0 || (flags & WAL_CUT_GAP)) {
            *torn_at = (long long)off;
            *damaged = q >= 0;
        } else {
            snprintf(err, err_len, "%s: the record at byte %zu (lsn %llu) is damaged, yet a whole record follows at "
                     "byte %lld (lsn %llu): disk corruption, or a power cut that wrote a later page of an "
                     "unacknowledged tail before an earlier one. --repair-log 1 ends the log at the damaged "
                     "record (the bytes from there kept in DIR/dropped; docs/serve.md, \"Restart\")", s->path, off,
                     (unsigned long long)*expect, q, (unsigned long long)later);
            rc = -1;
        }
    } else if (!last && *expect < next_first) {
        /* a power cut can lose the unsynced tail of a segment while a later
         * one reached the disk; no record from there on was acknowledged
         * (the syncer acknowledges one only after every earlier segment is
         * synced), but disk corruption looks the same: cut only when told.
         * A whole record after the bad one is no lost tail: the bad one
         * was damaged after it was written (acknowledged records follow) */
        uint64_t later;
        long long q = off < size ? later_record(m, off, size, *expect, &later) : -1;
        if (flags & WAL_CUT_GAP) {
            *torn_at = (long long)off;
            *gap = 1;
            *damaged = q >= 0;
        } else if (q >= 0) {
            snprintf(err, err_len, "%s: the record at byte %zu (lsn %llu) is damaged, yet a whole record follows at "
                     "byte %lld (lsn %llu): disk corruption (acknowledged records follow it). --repair-log 1 "
                     "ends the log at the damaged record (the bytes from there and the later segments kept in "
                     "DIR/dropped; docs/serve.md, \"Restart\")", s->path, off, (unsigned long long)*expect, q,
                     (unsigned long long)later);
            rc = -1;
        } else {
            snprintf(err, err_len, "%s: its records stop at byte %zu, at lsn %llu, but the next segment starts at "
                     "lsn %llu: records are lost. After a power cut these were never acknowledged, and "
                     "--repair-log 1 drops them and the later segments (moved to DIR/dropped; docs/serve.md, "
                     "\"Restart\")", s->path, off, (unsigned long long)*expect - 1, (unsigned long long)next_first);
            rc = -1;
        }
    }
done:
    if (m)
        munmap(m, size);
    return rc;
}

/* DIR/dropped/<the name of segment path><suffix> into `to` (the folder
 * made if need be), where a repair keeps what it takes out of the log. 0,
 * or -1 with err. */
static int dropped_path(const char *dir, const char *path, const char *suffix, char *to, size_t to_len, char *err,
                        size_t err_len)
{
    char dd[4120];
    snprintf(dd, sizeof dd, "%s/dropped", dir);
    if (mkdir(dd, 0755) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "%s: %s", dd, strerror(errno));
        return -1;
    }
    const char *base = strrchr(path, '/');
    snprintf(to, to_len, "%s%s%s", dd, base ? base : "/", suffix);
    return 0;
}

/* The names a repair gave in DIR/dropped made durable (the folder, and
 * DIR for the folder's own name when it was new), before the log is cut:
 * after a power cut the copies it promises are there. 0, or -1 with err. */
static int sync_dropped(const char *dir, char *err, size_t err_len)
{
    char dd[4120];
    snprintf(dd, sizeof dd, "%s/dropped", dir);
    if (wal_sync_dir(dd) != 0 || wal_sync_dir(dir) != 0) {
        snprintf(err, err_len, "%s: cannot sync the folder: %s", dd, strerror(errno));
        return -1;
    }
    return 0;
}

/* Copy the bytes of segment path from byte `from` on to DIR/dropped/<its
 * name>.from-<from>, synced, before a repair cuts them. 0, or -1 with err. */
static int keep_dropped_tail(const char *dir, const char *path, long long from, char *err, size_t err_len)
{
    char to[4500], suffix[32];
    snprintf(suffix, sizeof suffix, ".from-%lld", from);
    if (dropped_path(dir, path, suffix, to, sizeof to, err, err_len))
        return -1;
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = malloc(CHUNK);
    int in = -1, out = -1, ok = buf && (in = open(path, O_RDONLY | O_CLOEXEC)) >= 0 &&
                                (out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) >= 0;
    for (off_t at = (off_t)from; ok;) {
        ssize_t k = pread(in, buf, CHUNK, at);
        if (k <= 0) {
            ok = k == 0;
            break;
        }
        ok = write(out, buf, (size_t)k) == k;
        at += k;
    }
    ok = ok && fdatasync(out) == 0;
    if (!ok)
        snprintf(err, err_len, "%s: cannot keep its damaged tail in %s: %s", path, to, strerror(errno));
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    free(buf);
    return ok ? sync_dropped(dir, err, err_len) : -1;
}

int wal_read(const char *dir, uint64_t after, uint64_t covered, int flags, wal_visit fn, void *ctx, uint64_t *last,
             char *note, size_t note_len, char *err, size_t err_len)
{
    if (note && note_len)
        note[0] = '\0';
    *last = after;
    segment *seg;
    size_t n;
    if (list_segments(dir, flags, &seg, &n, err, err_len))
        return -1;
    uint64_t expect = 0;
    int rc = 0;
    size_t i0 = 0;
    /* what was neither archived nor kept is gone: start where the log does,
     * if the snapshot holds what came before (if not, records are missing,
     * as a start says) */
    if ((flags & WAL_ARCHIVE) && n > 0 && seg[0].first > after + 1)
        after = seg[0].first - 1 <= covered ? seg[0].first - 1 : (covered > after ? covered : after);
    /* segments wholly covered by the snapshot (their successor starts by
     * after + 1) are skipped; the next snapshot drops or archives them */
    while (i0 + 1 < n && seg[i0 + 1].first <= after + 1)
        i0++;
    if (i0 < n && seg[i0].first > after + 1 && seg[i0].first - 1 <= covered) {
        /* the first records the caller reads are missing, but the snapshot holds them */
        char where[4500], sp[64];
        snprintf(where, sizeof where, "%s (no segment holds them, before %s)", span(sp, after + 1, seg[i0].first - 1),
                 seg[i0].path);
        if (lost_stretch(where, after + 1, seg[i0].first - 1, after, covered, flags, fn, ctx, note,
                         note_len, err, err_len)) {
            free(seg);
            return -1;
        }
        expect = seg[i0].first;
    }
    if (i0 < n && seg[i0].first > after + 1 && !expect) {
        snprintf(err, err_len, "the log starts at lsn %llu (%s), but the snapshot needs it from lsn %llu on: "
                 "records are missing", (unsigned long long)seg[i0].first, seg[i0].path, (unsigned long long)after + 1);
        free(seg);
        return -1;
    }
    for (size_t i = i0; i < n && rc == 0; i++) {
        long long torn = -1;
        size_t size = 0;
        int gap = 0, damaged = 0;
        rc = read_segment(&seg[i], i + 1 < n ? seg[i + 1].first : 0, after, covered, &expect, fn, ctx, flags,
                          &torn, &gap, &damaged, &size, note, note_len, err, err_len);
        /* what a repair cuts is kept: a damaged record's tail, and a
         * segment's bytes after its last whole record when later segments
         * go (a lost tail after a power cut, or a damaged record) */
        if (rc == 0 && (damaged || gap) && (flags & WAL_REPAIR) && torn >= 0 && (size_t)torn < size)
            rc = keep_dropped_tail(dir, seg[i].path, torn, err, err_len);
        if (rc == 0 && gap && (flags & WAL_REPAIR)) {
            /* the log ends here: the later segments go to DIR/dropped */
            char to[4500];
            for (size_t j = i + 1; j < n && rc == 0; j++) {
                if (dropped_path(dir, seg[j].path, "", to, sizeof to, err, err_len)) {
                    rc = -1;
                } else if (rename(seg[j].path, to) != 0) {
                    snprintf(err, err_len, "%s: cannot move it to %s: %s", seg[j].path, to, strerror(errno));
                    rc = -1;
                }
            }
            if (rc == 0 && i + 1 < n)
                rc = sync_dropped(dir, err, err_len);
        }
        if (rc == 0 && torn >= 0) {
            if (gap)
                note_add(note, note_len, "%s: its records stop at lsn %llu, before the next segment's first "
                         "(%llu)%s: dropped the %zu bytes from byte %lld and the %zu later segment(s)%s",
                         seg[i].path, (unsigned long long)expect - 1, (unsigned long long)seg[i + 1].first,
                         damaged ? ", at a damaged record that whole records follow" : "", size - (size_t)torn, torn,
                         n - i - 1, (flags & WAL_REPAIR) ? " (kept in DIR/dropped)" : "");
            else if (damaged)
                note_add(note, note_len, "%s: its record at byte %lld is damaged and whole records follow: dropped "
                         "the %zu bytes from there%s", seg[i].path, torn, size - (size_t)torn,
                         (flags & WAL_REPAIR) ? " (kept in DIR/dropped)" : "");
            else if (flags & WAL_REPAIR)
                note_add(note, note_len, "%s: dropped a torn %s at byte %lld and the %zu bytes from there (a crash "
                         "during a write; a preallocated segment's unused tail included)", seg[i].path,
                         torn == 0 ? "segment header" : "record", torn, size - (size_t)torn);
            else /* --dump-log: nothing is cut */
                note_add(note, note_len, "%s: the log ends at a torn %s at byte %lld (a crash during a write; a "
                         "preallocated segment's unused tail included): the %zu bytes from there are not read, "
                         "and left as they are until a start cuts them", seg[i].path,
                         torn == 0 ? "segment header" : "record", torn, size - (size_t)torn);
            if (flags & WAL_REPAIR) {
                if (torn == 0)
                    unlink(seg[i].path);
                else if (truncate(seg[i].path, (off_t)torn) != 0) {
                    snprintf(err, err_len, "%s: cannot cut the torn tail: %s", seg[i].path, strerror(errno));
                    rc = -1;
                } else {
                    int fd = open(seg[i].path, O_WRONLY | O_CLOEXEC);
                    if (fd < 0 || fdatasync(fd) != 0) {
                        snprintf(err, err_len, "%s: cannot sync after cutting the torn tail", seg[i].path);
                        rc = -1;
                    }
                    if (fd >= 0)
                        close(fd);
                }
            }
        }
        if (gap)
            break;
    }
    if (rc == 0 && (flags & WAL_REPAIR) && wal_sync_dir(dir) != 0) {
        snprintf(err, err_len, "%s: cannot sync the folder: %s", dir, strerror(errno));
        rc = -1;
    }
    if (expect > after + 1)
        *last = expect - 1;
    free(seg);
    return rc;
}

/* ---- writing --------------------------------------------------------------- */

#define OLD_MAX 8      /* rotated segments waiting for the syncer, at most (more: wal_rotate waits) */
/* unsynced bytes after which the syncer, with nobody waiting, starts their
 * writeback: a step of writeback.h, so that a group commit soon after
 * finds little of the log's own in its way */
#define KICK ((uint64_t)WRITEBACK_STEP)

struct wal {
    char dir[4096];
    dev_t dir_dev;           /* the folder the log was opened in: a rotation */
    ino_t dir_ino;           /* checks DIR is still it (moved_away) */
    int fd;
    int old_fd[OLD_MAX];     /* segments rotated out, oldest first, until the syncer has synced them */
    size_t n_old;
    uint64_t dir_gen, dir_synced; /* segments created; of those, how many the folder was synced after */
    uint64_t kicked;         /* `written` when the syncer last started a writeback without waiters */
    uint64_t seg_first, next_lsn;
    uint64_t buf_first;      /* the lsn of the first record in buf */
    /* preallocation (seg_bytes > 0): segments of seg_bytes zeros written
     * in advance (or recycled), records written over them in place */
    size_t seg_bytes;
    writeback_pace *pace; /* the zeros' rate, shared (writeback.h; NULL: no limit) */
    int seg_pre;             /* the current segment is preallocated */
    uint64_t seg_off;        /* where the next write goes in the current segment */
    uint64_t seg_base;       /* `written` when the current segment began (mu) */
    double seg_t0;           /* now_s() then (mu) */
    int spare;               /* DIR/wal-spare.tmp: SPARE_NONE, _READY or _TAKEN (mu) */
    unsigned test_pause_ms;  /* wal_test_pause_rotation (the writer's) */
    uint64_t commits;        /* group commits that completed a waiter (mu) */
    pthread_t prep;
    int prep_started;
    _Atomic int prep_stop;
    pthread_cond_t prep_cv;
    unsigned char *buf;      /* committed records not yet written, then the one reserved */
    size_t len, cap, rec_len; /* rec_len: payload bytes of the open reservation */
    int reserved;
    metrics *m;
    size_t commit_wait_us;
    size_t commit_interval_us;
    double last_sync;        /* now_s() when the fsync of the last group commit that
                              * acknowledged records started */
    int gathering;           /* the syncer waits on purpose (--commit-wait/-interval): waiters need not wake it */
    int hurry;               /* wal_hurry: it no longer does (mu) */
    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    uint64_t written, synced;
    int syncing, stop, failed;
    char fail_msg[256];
    wal_waiter *head, *tail;
    pthread_t syncer;
    int started;
};

/* A new segment file with its header; durably (file and folder fsynced)
 * when sync is set, else the syncer makes it durable (wal_rotate). */
static int create_segment(const char *dir, uint64_t first, int sync, int *fd_out, char *err, size_t err_len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/wal-%020llu.log", dir, (unsigned long long)first);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    unsigned char h[SEG_HEADER];
    seg_header(h, first);
    if (fd < 0 || write(fd, h, SEG_HEADER) != SEG_HEADER || (sync && (fdatasync(fd) != 0 || wal_sync_dir(dir) != 0))) {
        snprintf(err, err_len, "%s: cannot start a log segment: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return -1;
    }
    *fd_out = fd;
    return 0;
}

/* ---- preallocation ------------------------------------------------------------ */

/* Why preallocate: fdatasync of a file that grows must also commit its new
 * size, a journal commit on ext4 that waits for whatever else the journal
 * holds (the snapshot's blocks, other files); over blocks already written
 * and synced, it flushes the data blocks alone. In bench_serve (LinUCB-Ind,
 * batch rewards, snapshots off) the mean fdatasync of the open loop fell
 * from 2.1 to 1.3 ms (medians of 5 alternated runs at load 3.4-4.7) and
 * from 0.39 to 0.33 ms (4 runs at load 2-2.8), see
 * docs/performance-history.md, "Phase 5 — serve: the log's tail". */

/* The spare segment's states. A rotation takes a ready spare (TAKEN) and
 * renames it outside the lock; only then is it NONE, so that the preparing
 * thread, which makes a spare whenever there is NONE, never truncates or
 * zeroes the file the writer is moving into. */
enum { SPARE_NONE, SPARE_READY, SPARE_TAKEN };

#define ZERO_CHUNK ((size_t)1 << 20)
static const unsigned char ZEROS[ZERO_CHUNK];
#define ZERO_PAUSE_MAX 0.05 /* s: a quiet log still gets its spare within seconds */

double wal_zero_pause(int pre, double used, double goal, double elapsed, double left, double spent)
{
    if (!pre || left <= 0.0 || used <= 0.0 || used >= goal)
        return 0.0;
    double chunks = left / (double)ZERO_CHUNK;
    double p = elapsed * (goal - used) / used / (chunks > 1.0 ? chunks : 1.0) - spent;
    return p < 0.0 ? 0.0 : p > ZERO_PAUSE_MAX ? ZERO_PAUSE_MAX : p;
}

/* The current segment's fill: whether it is preallocated, its bytes
 * written and when it began (now_s()). */
static void segment_fill(wal *w, int *pre, double *used, double *t0)
{
    pthread_mutex_lock(&w->mu);
    *pre = w->seg_pre;
    *used = (double)(w->written - w->seg_base);
    *t0 = w->seg_t0;
    pthread_mutex_unlock(&w->mu);
}

/* prepare_spare's goal: half way from `used` to full. */
static double zero_goal(double used, double cap) { return used < cap ? used + 0.5 * (cap - used) : cap; }

static void spare_path(char *out, size_t len, const char *dir) { snprintf(out, len, "%s/wal-spare.tmp", dir); }
static void recycle_path(char *out, size_t len, const char *dir) { snprintf(out, len, "%s/wal-recycle.tmp", dir); }

/* Make DIR/wal-spare.tmp: seg_bytes on disk, durably (its blocks and
 * size synced), with a zero header. With `recycled`, from the segment a
 * snapshot made obsolete (DIR/wal-recycle.tmp, wal_drop_segments) as it
 * is: its stale records are older than any the new segment will hold, and
 * reading ends at the zero marker after the new ones. Otherwise zeros are
 * written, their writeback started a step at a time at no more than the
 * shared pace (writeback.h: so that the group commits' fdatasyncs do not
 * wait behind them), and paced (wal_zero_pause). 0; 1 if the recycled segment
 * has another size (removed);
 * -1 (stop asked, or an error: then no spare). */
static int prepare_spare(wal *w, int recycled)
{
    char spare[4200], rec[4200];
    spare_path(spare, sizeof spare, w->dir);
    recycle_path(rec, sizeof rec, w->dir);
    struct stat st;
    if (recycled) {
        if (stat(rec, &st) != 0 || (size_t)st.st_size != w->seg_bytes) {
            unlink(rec); /* of another --wal-segment-bytes */
            return 1;
        }
        /* the header and the 16 zero bytes that end a segment's records:
         * a recycled segment still holds its old records, which a start
         * would read as a torn record (and cut there) if the server stopped
         * right after switching to it, before its first batch */
        int fd = -1, ok = rename(rec, spare) == 0 &&
                         (fd = open(spare, O_WRONLY | O_CLOEXEC)) >= 0 &&
                         pwrite(fd, ZEROS, SEG_HEADER + 16, 0) == SEG_HEADER + 16 && fdatasync(fd) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return 0;
        unlink(rec);
        unlink(spare);
        return -1;
    }
    int fd = open(spare, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    /* the zeros done by the time the current segment is half way from
     * here to full (wal_zero_pause); from where a segment that began
     * meanwhile stands, if one did (the rotation that asked for this spare
     * may not have started its segment yet) */
    int pre;
    double used, seg_t0, goal_t0, cap = (double)(w->seg_bytes - SEG_HEADER);
    segment_fill(w, &pre, &used, &goal_t0);
    double goal = zero_goal(used, cap);
    int ok = 1;
    writeback wb;
    writeback_init(&wb, fd, w->pace, &w->prep_stop);
    for (size_t off = 0; ok && off < w->seg_bytes; off += ZERO_CHUNK) {
        size_t n = w->seg_bytes - off < ZERO_CHUNK ? w->seg_bytes - off : ZERO_CHUNK;
        double t0 = now_s();
        ok = !atomic_load(&w->prep_stop) && pwrite(fd, ZEROS, n, (off_t)off) == (ssize_t)n;
        if (ok)
            writeback_step(&wb, (off_t)(off + n));
        segment_fill(w, &pre, &used, &seg_t0);
        if (seg_t0 != goal_t0) {
            goal = zero_goal(used, cap);
            goal_t0 = seg_t0;
        }
        double now = now_s();
        double pause = ok ? wal_zero_pause(pre, used, goal, now - seg_t0, (double)(w->seg_bytes - off - n), now - t0)
                          : 0.0;
        if (pause > 0.0) {
            struct timespec ts = { 0, (long)(pause * 1e9) };
            nanosleep(&ts, NULL);
        }
    }
    ok = ok && fdatasync(fd) == 0;
    close(fd);
    if (!ok)
        unlink(spare);
    return ok ? 0 : -1;
}

/* Room on the folder's disk for a new spare of zeros: the spare, a
 * segment more and a snapshot the size of the last one free, so that the
 * zeros never take the blocks the log's own appends (a segment that
 * grows, with no spare ready) and the next snapshot need - a spare is a
 * convenience, while running out of room for the log fails the service.
 * When the disk cannot tell, 1. */
static int room_for_spare(const wal *w)
{
    struct statvfs sv;
    if (statvfs(w->dir, &sv) != 0)
        return 1;
    char snap[4200];
    snprintf(snap, sizeof snap, "%s/snapshot.colb", w->dir);
    struct stat st;
    double need = 2.0 * (double)w->seg_bytes + (stat(snap, &st) == 0 ? (double)st.st_size : 0.0);
    return (double)sv.f_bavail * (double)sv.f_frsize >= need;
}

/* The thread that keeps a spare segment ready once the log has some
 * traffic (a quarter of a segment written: an idle service writes no
 * zeros). A segment the last snapshot recycled serves whenever there is
 * one, so that a service in its steady state (a snapshot per rotation)
 * writes no zeros; a new one (zeros) only when group commits have
 * acknowledged something since the last new one: a log of decisions
 * alone, which no fdatasync waits for, gains nothing from preallocation
 * and would write each byte twice; and only while the disk has room for
 * it (room_for_spare: looked at again every second), nor after the log
 * failed. It runs 10 nice levels below the others, like the snapshots. */
static void *prep_main(void *arg)
{
    wal *w = arg;
    prctl(PR_SET_NAME, "colb-walprep");
    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), getpriority(PRIO_PROCESS, 0) + 10);
    thread_sched_slice(0); /* and the default slice, not the request threads' (thread_sched.h) */
    char rec[4200];
    recycle_path(rec, sizeof rec, w->dir);
    pthread_mutex_lock(&w->mu);
    int failures = 0;
    uint64_t filled_at = 0; /* w->commits when the last new spare was made */
    while (!w->stop) {
        if (w->spare == SPARE_NONE && failures < 3 && !w->failed && w->written >= w->seg_bytes / 4) {
            uint64_t commits = w->commits;
            pthread_mutex_unlock(&w->mu);
            struct stat st;
            int recycled = stat(rec, &st) == 0, rc = 1;
            if (recycled || (commits != filled_at && room_for_spare(w)))
                rc = prepare_spare(w, recycled);
            if (rc == 0 && !recycled)
                filled_at = commits;
            /* a recycled segment of another size (removed): zeros at once */
            int again = rc == 1 && recycled && stat(rec, &st) != 0;
            pthread_mutex_lock(&w->mu);
            if (rc == 0)
                w->spare = SPARE_READY;
            else if (rc < 0)
                failures++; /* a full disk, say: segments then grow as they are written */
            if (rc <= 0 || again)
                continue;
        }
        struct timespec until = deadline_in(1.0); /* the traffic is looked at again every second */
        pthread_cond_timedwait(&w->prep_cv, &w->mu, &until);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void fail(wal *w, const char *what, int e)
{
    if (!w->failed)
        snprintf(w->fail_msg, sizeof w->fail_msg, "the log could not be written (%s: %s); restart colb serve "
                 "to recover from the log", what, strerror(e));
    w->failed = 1;
}

/* Detach the waiters that are complete (all of them if the log failed). */
static wal_waiter *take_done(wal *w)
{
    wal_waiter *done = NULL, **end = &done;
    while (w->head && (w->failed || w->head->pos <= w->synced)) {
        *end = w->head;
        end = &w->head->next;
        w->head = w->head->next;
    }
    *end = NULL;
    if (!w->head)
        w->tail = NULL;
    return done;
}

static size_t complete(wal_waiter *list, int ok)
{
    size_t n = 0;
    while (list) {
        wal_waiter *next = list->next;
        list->done(list, ok);
        list = next;
        n++;
    }
    return n;
}

/* Work for the syncer without waiters: segments rotated out (synced in
 * the background, so that neither the writer nor a later group commit
 * pays for them), or KICK bytes written since the last writeback it
 * started (a log that only takes decisions, which need no fsync, would
 * otherwise pile up dirty pages for the next group commit to flush). */
static int background_work(const wal *w)
{
    return !w->failed && (w->n_old > 0 || w->dir_gen != w->dir_synced || w->written - w->kicked >= KICK);
}

/* Before a group commit (mu held): wait for more requests to join it, for
 * --commit-wait, and until --commit-interval has passed since the last
 * one's fsync began. Waiters that arrive meanwhile do not wake the syncer
 * (gathering): each wake-up would cost a context switch for nothing. The
 * wait is on the monotonic clock (deadline_in): a step of the wall clock
 * does not stretch it. wal_hurry and wal_close end it. */
static void gather(wal *w)
{
    double wait = 1e-6 * (double)w->commit_wait_us;
    if (w->commit_interval_us) {
        double paced = w->last_sync + 1e-6 * (double)w->commit_interval_us - now_s();
        if (paced > wait)
            wait = paced;
    }
    if (wait <= 0)
        return;
    struct timespec ts = deadline_in(wait);
    w->gathering = 1;
    while (!w->stop && !w->hurry && pthread_cond_timedwait(&w->wake, &w->mu, &ts) == 0)
        ;
    w->gathering = 0;
}

static void *syncer_main(void *arg)
{
    wal *w = arg;
    prctl(PR_SET_NAME, "colb-syncer"); /* as ps and top show it */
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && (!w->head || w->written <= w->synced) && !(w->head && w->failed) && !background_work(w)) {
            wal_waiter *ready = take_done(w);
            if (ready) {
                int ok = !w->failed;
                pthread_mutex_unlock(&w->mu);
                complete(ready, ok);
                pthread_mutex_lock(&w->mu);
                continue;
            }
            pthread_cond_wait(&w->wake, &w->mu);
        }
        if (w->stop && (!w->head || w->failed)) {
            wal_waiter *rest = take_done(w);
            int ok = !w->failed;
            pthread_mutex_unlock(&w->mu);
            complete(rest, ok);
            return NULL;
        }
        int waiting = w->head && w->written > w->synced && !w->failed;
        if (!waiting && !w->failed && w->n_old == 0 && w->dir_gen == w->dir_synced) {
            /* dirty pages only: start their writeback, wait for nothing */
            int fd = w->fd;
            w->kicked = w->written;
            pthread_mutex_unlock(&w->mu);
            sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); /* a failure shows in the next fdatasync */
            pthread_mutex_lock(&w->mu);
            continue;
        }
        if (waiting && !w->stop && !w->hurry && (w->commit_wait_us || w->commit_interval_us))
            gather(w);
        /* after rotations, the previous segments (their tails), the
         * current one and the folder (the new segments' names), in that
         * order: a record is durable only when every one before it is */
        uint64_t target = w->written, dir_gen = w->dir_gen;
        int fd = w->fd, old[OLD_MAX], r = 0, e = 0;
        size_t n_old = w->n_old;
        memcpy(old, w->old_fd, n_old * sizeof *old);
        int dirty = dir_gen != w->dir_synced;
        double t0 = 0;
        if (!w->failed) {
            w->syncing = 1;
            w->kicked = target;
            t0 = now_s();
            if (waiting) /* the pace is between acknowledging commits: the folder's
                          * or old segments' sync alone (at the start, after a
                          * rotation) holds no later reward back */
                w->last_sync = t0; /* under mu: read in gather, reset by wal_unpace */
            pthread_mutex_unlock(&w->mu);
            const char *what = "fdatasync";
            for (size_t i = 0; i < n_old && r == 0; i++)
                r = fdatasync(old[i]);
            if (r == 0)
                r = fdatasync(fd);
            if (r == 0 && dirty && (r = wal_sync_dir(w->dir)) != 0)
                what = "fsync of the folder";
            e = errno;
            pthread_mutex_lock(&w->mu);
            w->syncing = 0;
            if (r != 0) {
                fail(w, what, e);
            } else {
                if (target > w->synced)
                    w->synced = target;
                /* the segments synced are the first n_old (wal_rotate only appends) */
                for (size_t i = 0; i < n_old; i++)
                    close(old[i]);
                memmove(w->old_fd, w->old_fd + n_old, (w->n_old - n_old) * sizeof *w->old_fd);
                w->n_old -= n_old;
                w->dir_synced = dir_gen;
            }
            pthread_cond_broadcast(&w->idle);
        }
        wal_waiter *ready = take_done(w);
        int ok = !w->failed;
        pthread_mutex_unlock(&w->mu);
        size_t k = complete(ready, ok);
        if (t0 > 0) {
            metrics_observe(&w->m->fsync_seconds, now_s() - t0);
            metrics_observe_count(&w->m->commit_batch, (uint64_t)k);
            atomic_fetch_add_explicit(&w->m->fsyncs, 1, memory_order_relaxed);
        }
        pthread_mutex_lock(&w->mu);
        w->commits += k > 0;
    }
}

int wal_open(wal **out, const char *dir, uint64_t next_lsn, size_t commit_wait_us, size_t commit_interval_us,
             size_t seg_bytes, writeback_pace *pace, metrics *m, char *err, size_t err_len)
{
    *out = NULL;
    wal *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    snprintf(w->dir, sizeof w->dir, "%s", dir);
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(err, err_len, "%s: %s", dir, strerror(errno));
        free(w);
        return -1;
    }
    w->dir_dev = st.st_dev;
    w->dir_ino = st.st_ino;
    w->m = m;
    w->commit_wait_us = commit_wait_us;
    w->commit_interval_us = commit_interval_us;
    w->next_lsn = w->seg_first = next_lsn;
    w->fd = -1;
    w->seg_bytes = seg_bytes;
    w->pace = pace;
    w->seg_off = SEG_HEADER;
    w->seg_t0 = now_s();
    pthread_mutex_init(&w->mu, NULL);
    cond_init_monotonic(&w->wake); /* timed waits: gather() */
    pthread_cond_init(&w->idle, NULL);
    cond_init_monotonic(&w->prep_cv);
    char spare[4200];
    spare_path(spare, sizeof spare, dir);
    unlink(spare); /* left by a crash: perhaps not all prepared */
    if (!seg_bytes) { /* preallocation off: nothing will reuse a recycled segment */
        recycle_path(spare, sizeof spare, dir);
        unlink(spare);
    }
    if (create_segment(dir, next_lsn, 1, &w->fd, err, err_len)) {
        wal_close(w);
        return -1;
    }
    if (seg_bytes) {
        if (pthread_create(&w->prep, NULL, prep_main, w) != 0) {
            snprintf(err, err_len, "cannot start the log's preallocation thread");
            wal_close(w);
            return -1;
        }
        w->prep_started = 1;
    }
    atomic_fetch_add_explicit(&m->rotations, 1, memory_order_relaxed);
    if (pthread_create(&w->syncer, NULL, syncer_main, w) != 0) {
        snprintf(err, err_len, "cannot start the log's syncer thread");
        wal_close(w);
        return -1;
    }
    w->started = 1;
    *out = w;
    return 0;
}

unsigned char *wal_reserve(wal *w, uint32_t type, size_t len)
{
    if (len >= REC_MAX)
        return NULL;
    size_t need = w->len + REC_OVERHEAD + len + 16; /* 16: the end marker wal_write may add */
    if (need > w->cap) {
        size_t cap = w->cap ? w->cap : 65536;
        while (cap < need)
            cap *= 2;
        unsigned char *b = realloc(w->buf, cap);
        if (!b)
            return NULL;
        w->buf = b;
        w->cap = cap;
    }
    unsigned char *r = w->buf + w->len;
    if (w->len == 0)
        w->buf_first = w->next_lsn;
    put_u32(r, (uint32_t)len);
    put_u32(r + 4, type);
    put_u64(r + 8, w->next_lsn);
    w->rec_len = len;
    w->reserved = 1;
    return r + 16;
}

void wal_commit_len(wal *w, size_t len)
{
    put_u32(w->buf + w->len, (uint32_t)len);
    w->rec_len = len;
    wal_commit(w);
}

void wal_commit(wal *w)
{
    unsigned char *r = w->buf + w->len;
    put_u64(r + 16 + w->rec_len, XXH3_64bits(r, 16 + w->rec_len));
    w->len += REC_OVERHEAD + w->rec_len;
    w->next_lsn++;
    w->reserved = 0;
    atomic_fetch_add_explicit(&w->m->wal_records, 1, memory_order_relaxed);
}

void wal_commit_as(wal *w, uint32_t type, size_t len)
{
    put_u32(w->buf + w->len + 4, type);
    wal_commit_len(w, len);
}

void wal_cancel(wal *w) { w->reserved = 0; }

uint64_t wal_last_lsn(const wal *w) { return w->next_lsn - 1; }
size_t wal_pending(const wal *w) { return w->len; }
uint64_t wal_segment_start(const wal *w) { return w->seg_first; }

int wal_rotation_useful(const wal *w) { return !w->seg_pre || w->seg_off >= w->seg_bytes / 2; }

static int rotate(wal *w, uint64_t first, char *err, size_t err_len);

int wal_write(wal *w, uint64_t *pos, char *err, size_t err_len)
{
    size_t done = 0;
    int e = 0;
    pthread_mutex_lock(&w->mu);
    int failed = w->failed;
    /* into a spare segment when the current one is full or not preallocated */
    int move = !failed && w->len && w->spare == SPARE_READY && (!w->seg_pre || w->seg_off + w->len > w->seg_bytes);
    pthread_mutex_unlock(&w->mu);
    if (move && rotate(w, w->buf_first, err, err_len))
        err[0] = '\0'; /* no new segment: the records go on in the current one, which grows */
    /* in a preallocated segment, 16 zero bytes after the records (the next
     * write overwrites them): reading ends there, not in stale bytes */
    size_t marker = w->seg_pre && w->seg_off + w->len + 16 <= w->seg_bytes ? 16 : 0;
    memset(w->buf + w->len, 0, marker);
    while (!failed && done < w->len) {
        ssize_t k = pwrite(w->fd, w->buf + done, w->len + marker - done, (off_t)(w->seg_off + done));
        if (k > 0 && (size_t)k > w->len - done)
            k = (ssize_t)(w->len - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            e = k < 0 ? errno : EIO;
            break;
        }
        done += (size_t)k;
    }
    w->seg_off += done;
    pthread_mutex_lock(&w->mu);
    if (!failed && done < w->len)
        fail(w, "write", e);
    w->written += done;
    *pos = w->written;
    int rc = w->failed ? -1 : 0;
    if (rc)
        snprintf(err, err_len, "%s", w->fail_msg);
    pthread_mutex_unlock(&w->mu);
    atomic_fetch_add_explicit(&w->m->wal_bytes, done, memory_order_relaxed);
    w->len = 0;
    return rc;
}

void wal_await(wal *l, wal_waiter *w, uint64_t pos)
{
    w->pos = pos;
    w->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->failed || pos <= l->synced) {
        int ok = !l->failed;
        pthread_mutex_unlock(&l->mu);
        w->done(w, ok);
        return;
    }
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
    if (!l->gathering)
        pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->mu);
}

/* The spare segment renamed DIR/wal-<first>.log, its header written in
 * place; -1 (and no spare any more) if that fails. */
static int use_spare(wal *w, uint64_t first)
{
    char spare[4200], path[4200];
    spare_path(spare, sizeof spare, w->dir);
    snprintf(path, sizeof path, "%s/wal-%020llu.log", w->dir, (unsigned long long)first);
    unsigned char h[SEG_HEADER];
    seg_header(h, first);
    int fd = -1;
    if (rename(spare, path) != 0 || (fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 ||
        pwrite(fd, h, SEG_HEADER, 0) != SEG_HEADER) {
        if (fd >= 0)
            close(fd);
        unlink(spare);
        unlink(path);
        return -1;
    }
    return fd;
}

/* 1 when the path DIR no longer names the folder the log was opened in
 * (moved, or replaced by another, perhaps another server's): new segments,
 * the spare and snapshots are made by path, and would go into the other
 * folder while the records so far stay in this one. The log fails (the
 * service turns read-only) rather than split. */
static int moved_away(wal *w)
{
    struct stat st;
    if (stat(w->dir, &st) == 0 && st.st_dev == w->dir_dev && st.st_ino == w->dir_ino)
        return 0;
    pthread_mutex_lock(&w->mu);
    if (!w->failed)
        snprintf(w->fail_msg, sizeof w->fail_msg, "the state folder %.100s was moved, removed or replaced while "
                 "the server ran; restart colb serve on the folder that holds its log", w->dir);
    w->failed = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->mu);
    return 1;
}

static int rotate(wal *w, uint64_t first, char *err, size_t err_len)
{
    if (moved_away(w)) {
        snprintf(err, err_len, "%s", w->fail_msg);
        return -1;
    }
    pthread_mutex_lock(&w->mu);
    int spare = w->spare == SPARE_READY;
    if (spare)
        w->spare = SPARE_TAKEN; /* the preparing thread leaves it alone until it is renamed */
    pthread_mutex_unlock(&w->mu);
    if (spare && w->test_pause_ms) {
        struct timespec ts = { (time_t)(w->test_pause_ms / 1000), (long)(w->test_pause_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    int fd = spare ? use_spare(w, first) : -1, pre = fd >= 0;
    pthread_mutex_lock(&w->mu);
    if (spare)
        w->spare = SPARE_NONE; /* renamed (or removed, if that failed) */
    pthread_cond_signal(&w->prep_cv); /* the next spare */
    pthread_mutex_unlock(&w->mu);
    if (fd < 0 && create_segment(w->dir, first, 0, &fd, err, err_len))
        return -1;
    pthread_mutex_lock(&w->mu);
    /* OLD_MAX segments waiting: the syncer is behind (a slow disk); wait
     * for it rather than keep ever more files open */
    while (w->n_old == OLD_MAX && !w->failed)
        pthread_cond_wait(&w->idle, &w->mu);
    int rc = -1;
    if (!w->failed) {
        w->old_fd[w->n_old++] = w->fd;
        w->fd = fd;
        w->dir_gen++;
        w->seg_first = first;
        w->seg_pre = pre;
        w->seg_off = SEG_HEADER;
        w->seg_base = w->written;
        w->seg_t0 = now_s();
        pthread_cond_signal(&w->wake); /* the syncer syncs the old segment in the background */
        rc = 0;
    } else {
        snprintf(err, err_len, "%s", w->fail_msg);
        close(fd);
    }
    pthread_mutex_unlock(&w->mu);
    if (rc == 0)
        atomic_fetch_add_explicit(&w->m->rotations, 1, memory_order_relaxed);
    return rc;
}

int wal_rotate(wal *w, char *err, size_t err_len) { return rotate(w, w->len ? w->buf_first : w->next_lsn, err, err_len); }

int wal_failed(wal *w, char *msg, size_t len)
{
    pthread_mutex_lock(&w->mu);
    int f = w->failed;
    if (f && msg)
        snprintf(msg, len, "%s", w->fail_msg);
    pthread_mutex_unlock(&w->mu);
    return f;
}

int wal_spare_ready(wal *w)
{
    pthread_mutex_lock(&w->mu);
    int r = w->spare == SPARE_READY;
    pthread_mutex_unlock(&w->mu);
    return r;
}

void wal_test_pause_rotation(wal *w, unsigned ms) { w->test_pause_ms = ms; }

void wal_hurry(wal *w)
{
    pthread_mutex_lock(&w->mu);
    w->hurry = 1;
    pthread_cond_signal(&w->wake); /* a gather under way ends */
    pthread_mutex_unlock(&w->mu);
}

void wal_unpace(wal *w)
{
    pthread_mutex_lock(&w->mu);
    w->last_sync = 0.0;
    pthread_mutex_unlock(&w->mu);
}

void wal_close(wal *w)
{
    if (!w)
        return;
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_signal(&w->wake);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->syncer, NULL);
    }
    if (w->prep_started) {
        atomic_store(&w->prep_stop, 1);
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_signal(&w->prep_cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->prep, NULL);
    }
    for (size_t i = 0; i < w->n_old; i++) {
        if (!w->failed)
            fdatasync(w->old_fd[i]);
        close(w->old_fd[i]);
    }
    if (w->fd >= 0) {
        if (!w->failed)
            fdatasync(w->fd);
        close(w->fd);
    }
    if (w->dir_gen != w->dir_synced && !w->failed)
        wal_sync_dir(w->dir);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->wake);
    pthread_cond_destroy(&w->idle);
    pthread_cond_destroy(&w->prep_cv);
    free(w->buf);
    free(w);
}

int wal_exists(const char *dir)
{
    segment *seg;
    size_t n;
    char err[256];
    if (list_segments(dir, 0, &seg, &n, err, sizeof err))
        return -1;
    free(seg);
    return n > 0;
}

int wal_sync_range(const char *dir, uint64_t from, uint64_t to, char *err, size_t err_len)
{
    segment *seg;
    size_t n;
    if (list_segments(dir, 0, &seg, &n, err, err_len))
        return -1;
    int rc = 0;
    if (n == 0) { /* segments taken away under the server */
        snprintf(err, err_len, "the log's records from lsn %llu on are needed, but the log has no segment",
                 (unsigned long long)from);
        rc = -1;
    } else if (seg[0].first > from) {
        snprintf(err, err_len, "the log's records from lsn %llu on are needed, but its first segment (%s) "
                 "starts at lsn %llu: records are missing", (unsigned long long)from, seg[0].path,
                 (unsigned long long)seg[0].first);
        rc = -1;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (seg[i].first > to || (i + 1 < n && seg[i + 1].first <= from))
            continue;
        int fd = open(seg[i].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fdatasync(fd) != 0) {
            snprintf(err, err_len, "%s: cannot sync: %s", seg[i].path, strerror(errno));
            rc = -1;
        }
        if (fd >= 0)
            close(fd);
    }
    free(seg);
    if (rc == 0 && wal_sync_dir(dir) != 0) {
        snprintf(err, err_len, "%s: cannot sync the folder: %s", dir, strerror(errno));
        rc = -1;
    }
    return rc;
}

int wal_drop_segments(const char *dir, uint64_t keep, int archive, size_t recycle_bytes, char *err, size_t err_len)
{
    char rec[4200];
    recycle_path(rec, sizeof rec, dir);
    struct stat st;
    int recycle = !archive && recycle_bytes > 0 && stat(rec, &st) != 0;
    segment *seg;
    size_t n;
    if (list_segments(dir, 0, &seg, &n, err, err_len))
        return -1;
    char arch[4200];
    snprintf(arch, sizeof arch, "%s/archive", dir);
    int rc = 0, moved = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i + 1 == n || seg[i + 1].first > keep)
            continue; /* it holds lsn keep or later */
        if (archive) {
            char to[8500];
            snprintf(to, sizeof to, "%s/%s", arch, strrchr(seg[i].path, '/') + 1);
            if ((mkdir(arch, 0755) != 0 && errno != EEXIST) || rename(seg[i].path, to) != 0) {
                snprintf(err, err_len, "%s: cannot archive: %s", seg[i].path, strerror(errno));
                rc = -1;
            }
            moved = 1;
        } else if (recycle && stat(seg[i].path, &st) == 0 && (size_t)st.st_size == recycle_bytes &&
                   rename(seg[i].path, rec) == 0) {
            recycle = 0; /* one kept for the next spare segment (prepare_spare) */
        } else if (unlink(seg[i].path) != 0 && errno != ENOENT) {
            snprintf(err, err_len, "%s: cannot remove: %s", seg[i].path, strerror(errno));
            rc = -1;
        }
    }
    free(seg);
    if (moved)
        wal_sync_dir(arch);
    wal_sync_dir(dir);
    return rc;
}
