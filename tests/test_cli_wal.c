/* test_cli_wal.c - colb serve's write-ahead log (serve/wal.c) on its own:
 *
 *   rotation   the writer's rotations never sync: the syncer syncs the
 *              rotated-out segments in the background, with no waiter
 *              asking (a writer that synced a segment of choose records
 *              inline paused for 1-2 s in bench_serve), also when more
 *              segments are rotated out than it keeps open; every record
 *              reads back in order afterwards.
 */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "wal.h"

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
    if (wal_read(d, 0, 0, visit_check, &c, &last, note, sizeof note, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(last, n);
    if (want_note && !strstr(note, want_note))
        fail_msg("the note \"%s\" does not say \"%s\"", note, want_note);
    if (!want_note && note[0])
        fail_msg("unexpected note: %s", note);
}

static void test_rotation_in_background(void **state)
{
    (void)state;
    char d[256], err[256];
    subdir(d, sizeof d, "rotation");
    static metrics m;
    metrics_init(&m);
    wal *w;
    assert_int_equal(wal_open(&w, d, 1, 0, &m, err, sizeof err), 0);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_in_background),
    };
    return cmocka_run_group_tests_name("colb serve log", tests, setup, teardown);
}
