/* test_cli_wal.c - colb serve's write-ahead log (serve/wal.c) on its own:
 *
 *   rotation   (without preallocation) the writer's rotations never
 *              sync: the syncer syncs the rotated-out segments in the
 *              background, with no waiter asking (a writer that synced a
 *              segment of choose records inline paused for 1-2 s in
 *              bench_serve), also when more segments are rotated out than
 *              it keeps open; every record reads back in order afterwards;
 *              a recycled segment left by a run with preallocation is
 *              removed;
 *   prealloc   with preallocated segments (256 kB here) the writer moves
 *              into a spare when a segment is full (at least three
 *              segments of the preallocated size), and every record reads
 *              back, with no torn tail reported for their zero tails; a
 *              segment a
 *              snapshot made obsolete is reused (recycled) after a
 *              restart, and its stale records are not read as the new
 *              segment's; garbage written where the next record would go
 *              (a torn write) is reported and cut, the records before it
 *              kept;
 *   interval   with --commit-interval the group commits start at least
 *              that far apart (fsyncs counted against the time taken),
 *              every waiter still completes, every record reads back;
 *   spare      the preparing thread leaves alone the spare a rotation has
 *              taken and is renaming (the writer paused in that window);
 *   damaged    a damaged record with whole records after it is refused,
 *              not cut as a torn tail; --repair-log cuts it and keeps the
 *              bytes in DIR/dropped;
 *   header     a segment header that is not this colb's says which field
 *              differs: a version it does not read (and which it reads),
 *              flags, the first lsn, a damaged checksum, the magic;
 *   writeback  a bulk writer (serve/writeback.h: snapshots, the spare's
 *              zeros) keeps to its rate, and a stretch spent elsewhere
 *              saves up no more than two steps of it (lower bounds on the
 *              time taken: a loaded machine only makes it longer).
 */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "bytes.h"
#include "clock.h"
#include "metrics.h"
#include "wal.h"
#include "writeback.h"

static char dir[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/colb-test-wal-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A fresh subfolder of dir for one test. */
static void subdir(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
    assert_int_equal(mkdir(out, 0755), 0);
}

/* Append n records of `len` bytes, record lsn filled with byte (lsn % 251). */
static void append(wal *w, size_t n, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = wal_reserve(w, 7, len);
        assert_non_null(p);
        memset(p, (int)((wal_last_lsn(w) + 1) % 251), len);
        wal_commit(w);
    }
    uint64_t pos;
    char err[256];
    assert_int_equal(wal_write(w, &pos, err, sizeof err), 0);
}

typedef struct durable {
    wal_waiter ww; /* first: done() gets its address */
    _Atomic int done;
} durable;

static void on_durable(wal_waiter *ww, int ok)
{
    (void)ok;
    atomic_store(&((durable *)ww)->done, 1);
}

/* append, then register x to complete once the records are durable */
static void append_await(wal *w, size_t n, size_t len, durable *x)
{
    append(w, n, len);
    uint64_t pos;
    char err[256];
    assert_int_equal(wal_write(w, &pos, err, sizeof err), 0); /* nothing new: the position */
    *x = (durable){ .ww.done = on_durable, .done = 0 };
    wal_await(w, &x->ww, pos);
}

/* Whether x completes within 10 s. */
static int completes(durable *x)
{
    for (int i = 0; i < 10000 && !atomic_load(&x->done); i++)
        usleep(1000);
    return atomic_load(&x->done);
}

/* append, then wait until the records are durable, as a reward does (the
 * preallocation thread makes new spares only for a log that is waited on) */
static void append_durable(wal *w, size_t n, size_t len)
{
    durable x;
    append_await(w, n, len, &x);
    assert_true(completes(&x));
}

typedef struct check {
    uint64_t next;
    size_t len;
} check;

static int visit_check(void *ctx, uint64_t lsn, uint32_t type, const unsigned char *p, size_t len, char *err,
                       size_t err_len)
{
    check *c = ctx;
    int ok = lsn == c->next && type == 7 && len == c->len;
    for (size_t i = 0; ok && i < len; i++)
        ok = p[i] == lsn % 251;
    if (!ok) {
        snprintf(err, err_len, "record %llu (expected %llu) is not what was written", (unsigned long long)lsn,
                 (unsigned long long)c->next);
        return -1;
    }
    c->next++;
    return 0;
}

/* Every record of the log in dir, in order: lsn 1 .. n, each `len` bytes. */
static void read_back(const char *d, uint64_t n, size_t len, const char *want_note)
{
    check c = { 1, len };
    uint64_t last;
    char note[512], err[512];
    if (wal_read(d, 0, 0, 0, visit_check, &c, &last, note, sizeof note, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(last, n);
    if (want_note && !strstr(note, want_note))
        fail_msg("the note \"%s\" does not say \"%s\"", note, want_note);
    if (!want_note && note[0])
        fail_msg("unexpected note: %s", note);
}

/* The size of file path (-1 if none). */
static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Segments in d; *full receives how many of them are exactly seg bytes;
 * *newest the path of the newest, *newest_first its first lsn. */
static size_t segments(const char *d, long long seg, size_t *full, char *newest, size_t len,
                       unsigned long long *newest_first)
{
    DIR *dh = opendir(d);
    assert_non_null(dh);
    struct dirent *de;
    size_t n = 0;
    *full = 0;
    *newest_first = 0;
    while ((de = readdir(dh))) {
        unsigned long long first;
        if (sscanf(de->d_name, "wal-%20llu.log", &first) != 1 || strlen(de->d_name) != 28)
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", d, de->d_name);
        n++;
        *full += file_size(p) == seg;
        if (first >= *newest_first) {
            *newest_first = first;
            snprintf(newest, len, "%s", p);
        }
    }
    closedir(dh);
    return n;
}

/* 1 once w has a spare segment ready, 0 if none within ms milliseconds. */
static int spare_within(wal *w, int ms)
{
    for (int i = 0; i < ms && !wal_spare_ready(w); i++)
        usleep(1000);
    return wal_spare_ready(w);
}

#define SEG (256 * 1024)
#define REC 1000 /* payload bytes; a record takes REC + 24 */

static void test_preallocated(void **state)
{
    (void)state;
    char d[256], err[256], spare[320], rec[320];
    subdir(d, sizeof d, "prealloc");
    snprintf(spare, sizeof spare, "%s/wal-spare.tmp", d);
    snprintf(rec, sizeof rec, "%s/wal-recycle.tmp", d);
    static metrics m;
    metrics_init(&m);
    wal *w;
    assert_int_equal(wal_open(&w, d, 1, 0, 0, SEG, NULL, &m, err, sizeof err), 0);
    /* rounds of 12 batches of 20 records: a preallocated segment holds 12
     * (a 13th would pass its end), so each round rotates once, into the
     * spare the round before waited for: three preallocated segments
     * after five rounds, however slow the disk or the preparer */
    uint64_t n = 0;
    size_t full = 0, nseg = 0;
    char newest[512];
    unsigned long long first;
    for (int round = 0; round < 8 && full < 3; round++) {
        for (int b = 0; b < 12; b++) {
            append_durable(w, 20, REC);
            n += 20;
        }
        if (!spare_within(w, 20000))
            fail_msg("round %d: no spare segment prepared within 20 s", round);
        nseg = segments(d, SEG, &full, newest, sizeof newest, &first);
    }
    if (full < 3)
        fail_msg("after %llu records, %zu of %zu segments are preallocated ones (3 expected)", (unsigned long long)n,
                 full, nseg);
    wal_close(w);
    nseg = segments(d, SEG, &full, newest, sizeof newest, &first);
    read_back(d, n, REC, NULL);

    /* a snapshot covers all but the newest segment: one is recycled */
    assert_int_equal(wal_drop_segments(d, first, 0, SEG, err, sizeof err), 0);
    assert_int_equal(file_size(rec), SEG);
    size_t left = segments(d, SEG, &full, newest, sizeof newest, &first);
    assert_int_equal(left, 1);
    /* a restart: the log after lsn first - 1, then a new segment; the
     * spare is made of the recycled segment (no zeros written: its stale
     * records stay, and must not be read) */
    check c = { first, REC };
    uint64_t last;
    char note[512];
    assert_int_equal(wal_read(d, first - 1, 0, WAL_REPAIR, visit_check, &c, &last, note, sizeof note, err, sizeof err),
                     0);
    assert_int_equal(last, n);
    assert_string_equal(note, "");
    static metrics m2;
    metrics_init(&m2);
    assert_int_equal(wal_open(&w, d, n + 1, 0, 0, SEG, NULL, &m2, err, sizeof err), 0);
    uint64_t n0 = n;
    for (int b = 0; b < 4; b++) { /* a quarter of a segment: traffic enough for a spare */
        append_durable(w, 20, REC);
        n += 20;
    }
    if (!spare_within(w, 20000))
        fail_msg("no spare segment prepared within 20 s after a restart");
    assert_int_equal(file_size(rec), -1); /* taken for the spare */
    /* into the recycled spare (a segment of the preallocated size), and a
     * few records there */
    append_durable(w, 5, REC);
    n += 5;
    segments(d, SEG, &full, newest, sizeof newest, &first);
    assert_int_equal(file_size(newest), SEG);
    append_durable(w, 20, REC);
    n += 20;
    wal_close(w);
    c.next = first;
    assert_int_equal(wal_read(d, first - 1, 0, 0, visit_check, &c, &last, note, sizeof note, err, sizeof err), 0);
    assert_int_equal(last, n);
    if (note[0])
        fail_msg("a torn tail reported in a log closed cleanly: %s", note);
    assert_true(n > n0);

    /* garbage where the next record would go: torn, reported and cut */
    segments(d, SEG, &full, newest, sizeof newest, &first);
    long long end = 32 + (long long)(n + 1 - first) * (REC + 24);
    assert_true(end + 64 <= file_size(newest));
    int fd = open(newest, O_WRONLY);
    assert_true(fd >= 0);
    unsigned char junk[40];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    assert_int_equal(pwrite(fd, junk, sizeof junk, end), (ssize_t)sizeof junk);
    close(fd);
    c.next = first;
    assert_int_equal(wal_read(d, first - 1, 0, WAL_REPAIR, visit_check, &c, &last, note, sizeof note, err, sizeof err),
                     0);
    assert_int_equal(last, n);
    if (!strstr(note, "torn"))
        fail_msg("garbage after the last record is not reported as torn: \"%s\"", note);
    assert_int_equal(file_size(newest), end);
}

static void test_rotation_in_background(void **state)
{
    (void)state;
    char d[256], err[256];
    subdir(d, sizeof d, "rotation");
    static metrics m;
    metrics_init(&m);
    /* without preallocation, a recycled segment left from a run with it is removed */
    char rec[320];
    snprintf(rec, sizeof rec, "%s/wal-recycle.tmp", d);
    FILE *f = fopen(rec, "w");
    assert_non_null(f);
    fclose(f);
    wal *w;
    assert_int_equal(wal_open(&w, d, 1, 0, 0, 0, NULL, &m, err, sizeof err), 0);
    assert_int_equal(file_size(rec), -1);
    append(w, 100, 200);
    uint64_t before = atomic_load(&m.fsyncs);
    assert_int_equal(wal_rotate(w, err, sizeof err), 0);
    /* nobody waits: the syncer syncs the old segment on its own */
    for (int i = 0; i < 500 && atomic_load(&m.fsyncs) == before; i++)
        usleep(10000);
    assert_true(atomic_load(&m.fsyncs) > before);
    /* more rotations than segments the syncer keeps pending */
    for (int r = 0; r < 20; r++) {
        append(w, 10, 200);
        assert_int_equal(wal_rotate(w, err, sizeof err), 0);
    }
    append(w, 5, 200);
    wal_close(w);
    read_back(d, 305, 200, NULL);
}

/* A rotation takes the spare and renames it with the lock released; the
 * preparing thread must not take that moment for a spare missing and
 * truncate, zero and "prepare" the very file the writer is moving into
 * (its records, acknowledged, would then be zeros: a torn segment at the
 * next start). With the writer paused in that window for longer than the
 * preparer's one-second poll, a spare reported ready afterwards must
 * exist, and every record reads back. */
static void test_spare_taken(void **state)
{
    (void)state;
    char d[256], err[256], spare[320];
    subdir(d, sizeof d, "spare-taken");
    snprintf(spare, sizeof spare, "%s/wal-spare.tmp", d);
    static metrics m;
    metrics_init(&m);
    wal *w;
    assert_int_equal(wal_open(&w, d, 1, 0, 0, SEG, NULL, &m, err, sizeof err), 0);
    uint64_t n = 0;
    /* the first segment is not a preallocated one: the writer moves into
     * the first spare at once; then traffic, waited on, for a second */
    for (int b = 0; b < 4; b++) {
        append_durable(w, 20, REC);
        n += 20;
    }
    for (int round = 0; round < 2; round++) {
        if (!spare_within(w, 20000))
            fail_msg("no spare segment prepared within 20 s");
        for (int b = 0; b < 2; b++) { /* into the spare (round 0); group commits since the spare was made */
            append_durable(w, 20, REC);
            n += 20;
        }
    }
    uint64_t seg = wal_segment_start(w);
    assert_true(seg > 1);
    wal_test_pause_rotation(w, 2500);
    for (int b = 0; b < 13 && wal_segment_start(w) == seg; b++) { /* past the segment's end: into the spare */
        append(w, 20, REC);
        n += 20;
    }
    assert_true(wal_segment_start(w) > seg);
    if (wal_spare_ready(w) && file_size(spare) != SEG)
        fail_msg("a spare is reported ready, but %s has %lld bytes: the preparer took the spare being renamed",
                 spare, file_size(spare));
    wal_test_pause_rotation(w, 0);
    append_durable(w, 20, REC);
    n += 20;
    wal_close(w);
    read_back(d, n, REC, NULL);
}

/* A record damaged in the middle of the last segment, with whole records
 * after it, is not a torn write (a crash tears only what follows the last
 * write): reading refuses it and names --repair-log, leaving the segment as
 * it is; with the repair (WAL_CUT_GAP) the log ends before it, and the
 * bytes cut are kept in DIR/dropped. */
static void test_damaged_record(void **cm)
{
    (void)cm;
    char d[256], err[512], note[512], path[512];
    subdir(d, sizeof d, "damaged");
    static metrics m;
    metrics_init(&m);
    wal *w;
    assert_int_equal(wal_open(&w, d, 1, 0, 0, 0, NULL, &m, err, sizeof err), 0);
    append_durable(w, 10, 100);
    wal_close(w);
    snprintf(path, sizeof path, "%s/wal-%020d.log", d, 1);
    long long size = file_size(path);
    const long long at = 32 + 4 * (100 + 24); /* record 5 */
    assert_true(size >= at + 124);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, at + 40), 1);
    b ^= 1;
    assert_int_equal(pwrite(fd, &b, 1, at + 40), 1); /* a bit of its payload */
    close(fd);

    check c = { 1, 100 };
    uint64_t last;
    if (wal_read(d, 0, 0, WAL_REPAIR, visit_check, &c, &last, note, sizeof note, err, sizeof err) == 0)
        fail_msg("a damaged record followed by whole ones read as a torn tail (%s)", note);
    if (!strstr(err, "damaged") || !strstr(err, "--repair-log"))
        fail_msg("the error does not say what is wrong and what to do: %s", err);
    assert_int_equal(file_size(path), size); /* untouched */

    c.next = 1;
    assert_int_equal(wal_read(d, 0, 0, WAL_REPAIR | WAL_CUT_GAP, visit_check, &c, &last, note, sizeof note, err,
                              sizeof err), 0);
    assert_int_equal(last, 4);
    if (!strstr(note, "damaged"))
        fail_msg("the note does not say the record was damaged: %s", note);
    assert_int_equal(file_size(path), at);
    char kept[600];
    snprintf(kept, sizeof kept, "%s/dropped/wal-%020d.log.from-%lld", d, 1, at);
    assert_int_equal(file_size(kept), size - at);
}

/* A segment header that is not this colb's: each field that can differ is
 * named - a version this colb does not read (written by a newer one, its
 * checksum whole: it was "not a colb log segment (bad header)" whatever
 * differed), one whose checksum fails too, a damaged header, unknown
 * flags, a first lsn other than the name's, no magic - and the segment is
 * left as it is. */
static void test_header(void **cm)
{
    (void)cm;
    static const struct {
        size_t at;             /* the header's field changed: version, flags, first lsn, the checksum, magic */
        uint32_t value;
        int fix_sum;           /* the checksum recomputed, as a writer of that header would */
        const char *want[2];
    } cases[] = {
        { 8, 2, 1, { "a log segment of version 2; this colb serve reads version 1 only", "newer colb serve" } },
        { 8, 7, 0, { "a log segment of version 7", "or its header is damaged" } },
        { 12, 4, 1, { "its header has flags 0x4", "version 1 has none" } },
        { 16, 9, 1, { "its header says the segment starts at lsn 9, its name at lsn 1", "renamed" } },
        { 24, 5, 0, { "its header is damaged", "checksum" } },
        { 0, 0x42, 0, { "not a colb log segment", "magic" } },
    };
    char d[256], err[512], note[512], path[512], name[32];
    static metrics m;
    metrics_init(&m);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(name, sizeof name, "header-%zu", i);
        subdir(d, sizeof d, name);
        wal *w;
        assert_int_equal(wal_open(&w, d, 1, 0, 0, 0, NULL, &m, err, sizeof err), 0);
        append_durable(w, 3, 100);
        assert_int_equal(wal_rotate(w, err, sizeof err), 0); /* the segment changed is not the last */
        append_durable(w, 3, 100);
        wal_close(w);
        snprintf(path, sizeof path, "%s/wal-%020d.log", d, 1);
        unsigned char h[32];
        int fd = open(path, O_RDWR);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, h, 32, 0), 32);
        put_u32(h + cases[i].at, cases[i].value);
        if (cases[i].fix_sum)
            put_u64(h + 24, XXH3_64bits(h, 24));
        assert_int_equal(pwrite(fd, h, 32, 0), 32);
        close(fd);
        long long size = file_size(path);
        check c = { 1, 100 };
        uint64_t last;
        if (wal_read(d, 0, 0, WAL_REPAIR | WAL_CUT_GAP, visit_check, &c, &last, note, sizeof note, err,
                     sizeof err) == 0)
            fail_msg("case %zu: a segment with a changed header was read", i);
        for (int k = 0; k < 2; k++)
            if (!strstr(err, cases[i].want[k]))
                fail_msg("case %zu: the error does not say \"%s\": %s", i, cases[i].want[k], err);
        assert_int_equal(file_size(path), size);
    }
}

/* --commit-interval: a waiter every millisecond for 0.3 s, against an
 * interval of 20 ms: every waiter completes, and the group commits that
 * complete them start at least 20 ms apart (at most one per interval of
 * the time they took, and one more), each covering many waiters. */
static void test_commit_interval(void **state)
{
    (void)state;
    char d[256], err[256];
    subdir(d, sizeof d, "interval");
    static metrics m;
    metrics_init(&m);
    wal *w;
    enum { N = 300, INTERVAL_US = 20000 };
    assert_int_equal(wal_open(&w, d, 1, 0, INTERVAL_US, 0, NULL, &m, err, sizeof err), 0);
    static durable x[N];
    uint64_t before = atomic_load(&m.fsyncs);
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        append_await(w, 1, 100, &x[i]);
        usleep(1000);
    }
    for (int i = 0; i < N; i++)
        if (!completes(&x[i]))
            fail_msg("waiter %d never completed", i);
    double took = now_s() - t0;
    uint64_t commits = atomic_load(&m.fsyncs) - before;
    if ((double)commits > 1.0 + took / (INTERVAL_US * 1e-6))
        fail_msg("%llu group commits in %.3f s with --commit-interval %d us: at most %.0f expected",
                 (unsigned long long)commits, took, INTERVAL_US, 1.0 + took / (INTERVAL_US * 1e-6));
    print_message("commit interval: %d waiters in %.3f s, %llu group commits\n", N, took,
                  (unsigned long long)commits);
    wal_close(w);
    read_back(d, N, 100, NULL);
}

/* The spare's zeros spread until the segment holds the goal (prepare_spare:
 * half way to full from where it stood), never past it, and not at all
 * when the log waits for them. */
static void test_zero_pause(void **state)
{
    (void)state;
    const double MB = 1 << 20;
    assert_true(wal_zero_pause(0, 10 * MB, 37 * MB, 0.2, 60 * MB, 0.001) == 0.0); /* segment not preallocated */
    assert_true(wal_zero_pause(1, 40 * MB, 37 * MB, 2.0, 60 * MB, 0.001) == 0.0); /* past the goal */
    assert_true(wal_zero_pause(1, 10 * MB, 37 * MB, 0.2, 0.0, 0.001) == 0.0);     /* the last chunk written */
    assert_true(wal_zero_pause(1, 0.0, 32 * MB, 0.2, 60 * MB, 0.001) == 0.0);    /* nothing written yet */
    assert_true(wal_zero_pause(1, 1 * MB, 32 * MB, 10.0, 60 * MB, 0.0) == 0.05); /* a quiet log: the cap */
    assert_true(wal_zero_pause(1, 10 * MB, 37 * MB, 0.2, 60 * MB, 0.5) == 0.0);  /* behind: no pause */
    /* 10 MB in 0.2 s: 27 MB to the goal take 0.54 s, over 60 chunks, less the chunk's own time */
    assert_true(fabs(wal_zero_pause(1, 10 * MB, 37 * MB, 0.2, 60 * MB, 0.001) - (0.54 / 60 - 0.001)) < 1e-12);
    /* a log at a steady 40 MB/s into 64 MB segments (1.6 s each), 1 ms a
     * chunk: the 64 chunks end at the goal, within 5 % of the segment */
    for (double start = 0.05; start < 1.0; start += 0.2) {
        double t = start, rate = 40 * MB, goal = rate * start + 0.5 * (64 * MB - rate * start);
        for (int k = 1; k <= 64; k++) {
            t += 0.001;
            t += wal_zero_pause(1, rate * t, goal, t, (64 - k) * MB, 0.001);
        }
        if (fabs(t - goal / rate) > 0.05 * 1.6)
            fail_msg("zeros begun at %.2f s of a 1.6 s segment ended at %.3f s, not at %.3f s", start, t,
                     goal / rate);
    }
}

/* writeback.h's pacing: 8 steps at 16 steps a second take 0.5 s from the
 * first byte; after 0.5 s spent elsewhere (8 steps' worth) the next 8 may
 * go ahead by two steps only: (8 - 1 - 2) / 16 s at least, where a pacer
 * that saved the whole stretch up would not pause at all. */
/* Write `steps` steps of zeros to a new file `name` in d through a
 * writeback of pace: the seconds it took. */
static double paced_write(const char *d, const char *name, writeback_pace *pace, int steps)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", d, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    static const char zeros[WRITEBACK_STEP];
    writeback b;
    writeback_init(&b, fd, pace, NULL);
    double t0 = now_s();
    for (off_t i = 1; i <= steps; i++) {
        assert_int_equal(write(fd, zeros, sizeof zeros), (ssize_t)sizeof zeros);
        writeback_step(&b, i * WRITEBACK_STEP);
    }
    double t = now_s() - t0;
    assert_int_equal(close(fd), 0);
    return t;
}

/* The pace at 16 steps a second: 8 steps take 6/16 s at least (the first
 * two are the burst it allows), and after a pause again no less (a pause
 * saves up no more than those two). Lower bounds only, which a loaded
 * machine cannot break. */
static void test_writeback_rate(void **state)
{
    (void)state;
    char d[256];
    subdir(d, sizeof d, "writeback");
    writeback_pace pace;
    writeback_pace_init(&pace, 16.0 * (double)WRITEBACK_STEP);
    double first = paced_write(d, "bulk", &pace, 8);
    usleep(500000);
    double second = paced_write(d, "bulk", &pace, 8);
    writeback_pace_destroy(&pace);
    print_message("writeback: 8 MB at 16 MB/s in %.3f s (>= 0.375); after a pause, 8 MB more in %.3f s (>= 0.375)\n",
                  first, second);
    assert_true(first >= 0.375 - 0.005);
    assert_true(second >= 0.375 - 0.005);
}

typedef struct pace_writer {
    const char *dir, *name;
    writeback_pace *pace;
    double t;
} pace_writer;

static void *pace_writer_main(void *arg)
{
    pace_writer *w = arg;
    w->t = paced_write(w->dir, w->name, w->pace, 8);
    return NULL;
}

/* Two writers of one pace (a snapshot and the log's zeros) share its
 * rate: 16 steps at 16 a second take 14/16 s at least between them, where
 * each at the rate alone would have been done in 6/16. */
static void test_writeback_shared(void **state)
{
    (void)state;
    char d[256];
    subdir(d, sizeof d, "writeback-shared");
    writeback_pace pace;
    writeback_pace_init(&pace, 16.0 * (double)WRITEBACK_STEP);
    pace_writer w[2] = { { d, "a", &pace, 0 }, { d, "b", &pace, 0 } };
    pthread_t th[2];
    double t0 = now_s();
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, pace_writer_main, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    double t = now_s() - t0;
    writeback_pace_destroy(&pace);
    print_message("writeback: two writers of 8 MB each at 16 MB/s between them in %.3f s (>= 0.875; %.3f and %.3f s)\n",
                  t, w[0].t, w[1].t);
    assert_true(t >= 0.875 - 0.005);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_in_background),
        cmocka_unit_test(test_preallocated),
        cmocka_unit_test(test_commit_interval),
        cmocka_unit_test(test_spare_taken),
        cmocka_unit_test(test_damaged_record),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_zero_pause),
        cmocka_unit_test(test_writeback_rate),
        cmocka_unit_test(test_writeback_shared),
    };
    return cmocka_run_group_tests_name("colb serve log", tests, setup, teardown);
}
