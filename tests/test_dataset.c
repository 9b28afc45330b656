/* test_dataset.c - colb_dataset (creation, accessors, top users), the
 * general text loader (good files in several dialects, every malformed case
 * with its exact line number, missing files), the writer (round trip, bit
 * for bit), and the logged-data environment's two protocols. */
#include "testutil.h"

#include <float.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "colb/dataset.h"
#include "colb/snapshot.h"
#include "colb/policy.h"
#include "colb/sim.h"
#include "envs/env_impl.h"
#include "policies/policy_impl.h"

/* ---- temporary files ------------------------------------------------------ */

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    const char *t = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/colb-dataset-XXXXXX", t && *t ? t : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static const char *const made[] = { "f.tsv", "p.tsv", "f.csv", "p.csv", "w_f.tsv", "w_p.tsv",
                                    "x_f", "x_p" };

static int teardown_dir(void **state)
{
    (void)state;
    char path[512];
    for (size_t i = 0; i < sizeof made / sizeof *made; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, made[i]);
        unlink(path);
    }
    return rmdir(tmpdir);
}

/* Write `text` to tmpdir/name (a name of made[]); returns the path, in a
 * static buffer of that name. */
static const char *put(const char *name, const char *text)
{
    static char paths[sizeof made / sizeof *made][512];
    size_t i = 0;
    while (i < sizeof made / sizeof *made && strcmp(made[i], name) != 0)
        i++;
    assert_true(i < sizeof made / sizeof *made);
    char *p = paths[i];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* ---- creation and accessors ---------------------------------------------- */

static void test_create_and_access(void **state)
{
    (void)state;
    const uint64_t items[] = { 100, 7, 42 };
    const double x[] = { 1, 2, 3, 4, 5, 6 };
    const uint64_t users[] = { 9, 3 };
    const size_t ptr[] = { 0, 4, 4 };
    const size_t pos[] = { 2, 0, 2, 1 }; /* unsorted, with a duplicate */
    colb_dataset *ds;
    char msg[256];
    assert_ok(colb_dataset_create(3, 2, items, x, 2, users, ptr, pos, &ds, msg, sizeof msg));
    assert_int_equal(colb_dataset_items(ds), 3);
    assert_int_equal(colb_dataset_users(ds), 2);
    assert_int_equal(colb_dataset_dim(ds), 2);
    assert_int_equal(colb_dataset_n_positives(ds), 3);
    assert_memory_equal(colb_dataset_features(ds), x, sizeof x);
    const size_t *it;
    assert_int_equal(colb_dataset_positives(ds, 0, &it), 3);
    assert_int_equal(it[0], 0);
    assert_int_equal(it[1], 1);
    assert_int_equal(it[2], 2);
    assert_int_equal(colb_dataset_positives(ds, 1, NULL), 0);
    assert_int_equal(colb_dataset_positives(ds, 2, &it), 0);
    assert_null(it);
    assert_true(colb_dataset_is_positive(ds, 0, 1));
    assert_false(colb_dataset_is_positive(ds, 1, 1));
    assert_false(colb_dataset_is_positive(ds, 0, 3));
    assert_false(colb_dataset_is_positive(ds, 5, 0));
    assert_true(colb_dataset_item_id(ds, 1) == 7);
    assert_true(colb_dataset_item_id(ds, 3) == UINT64_MAX);
    assert_true(colb_dataset_user_id(ds, 1) == 3);
    size_t idx;
    assert_ok(colb_dataset_item_index(ds, 42, &idx));
    assert_int_equal(idx, 2);
    assert_status(colb_dataset_item_index(ds, 43, &idx), COLB_ENOTFOUND);
    assert_ok(colb_dataset_user_index(ds, 9, &idx));
    assert_int_equal(idx, 0);
    assert_status(colb_dataset_user_index(ds, 4, &idx), COLB_ENOTFOUND);
    colb_dataset_free(ds);
    colb_dataset_free(NULL);
}

static void test_create_rejects(void **state)
{
    (void)state;
    const uint64_t items[] = { 1, 2, 1 };
    double x[] = { 1, 2, 3 };
    const uint64_t users[] = { 5, 5 };
    const size_t ptr[] = { 0, 1, 1 };
    const size_t pos[] = { 3 };
    const size_t ok_pos[] = { 0 };
    colb_dataset *ds = (colb_dataset *)1;
    char msg[256];
    assert_status(colb_dataset_create(3, 1, items, x, 1, users, ptr, ok_pos, &ds, msg, sizeof msg),
                  COLB_EINVAL);
    assert_null(ds);
    assert_non_null(strstr(msg, "duplicate item id 1"));
    assert_status(colb_dataset_create(2, 1, items, x, 2, users, ptr, ok_pos, &ds, msg, sizeof msg),
                  COLB_EINVAL);
    assert_non_null(strstr(msg, "duplicate user id 5"));
    assert_status(colb_dataset_create(3, 1, items + 1, x, 1, users, ptr, pos, &ds, msg, sizeof msg),
                  COLB_EINVAL);
    assert_non_null(strstr(msg, "pos_items[0] = 3"));
    x[1] = NAN;
    assert_status(colb_dataset_create(2, 1, items, x, 1, users, ptr, ok_pos, &ds, msg, sizeof msg),
                  COLB_ENONFIN);
    x[1] = 2;
    assert_status(colb_dataset_create(0, 1, items, x, 1, users, ptr, ok_pos, &ds, msg, sizeof msg),
                  COLB_EINVAL);
    const size_t bad_ptr[] = { 1, 1 };
    assert_status(colb_dataset_create(2, 1, items, x, 1, users, bad_ptr, ok_pos, &ds, msg,
                                      sizeof msg),
                  COLB_EINVAL);
    /* the loaders' ranges (colb/limits.h): a feature beyond +-COLB_CONTEXT_MAX,
     * which no policy takes as a context, and more than COLB_DIM_MAX
     * features, which no policy takes either; the bound itself is fine */
    double far[] = { 1, -COLB_CONTEXT_MAX * 1.5 };
    assert_status(colb_dataset_create(2, 1, items, far, 1, users, ptr, ok_pos, &ds, msg, sizeof msg),
                  COLB_ERANGE);
    assert_null(ds);
    assert_non_null(strstr(msg, "feature 0 of item index 1 (id 2) is -1.5e+06, beyond +-1e+06"));
    far[1] = 1e300;
    assert_status(colb_dataset_create(2, 1, items, far, 1, users, ptr, ok_pos, &ds, msg, sizeof msg),
                  COLB_ERANGE);
    far[1] = -COLB_CONTEXT_MAX;
    assert_ok(colb_dataset_create(2, 1, items, far, 1, users, ptr, ok_pos, &ds, msg, sizeof msg));
    colb_dataset_free(ds);
    ds = (colb_dataset *)1;
    assert_status(colb_dataset_create(1, (size_t)COLB_DIM_MAX + 1, items, x, 1, users, ptr, ok_pos, &ds,
                                      msg, sizeof msg),
                  COLB_ERANGE); /* refused before the features are read */
    assert_null(ds);
    assert_non_null(strstr(msg, "dim = 65537 exceeds 65536"));
    assert_status(colb_dataset_create(1, SIZE_MAX, items, x, 1, users, ptr, ok_pos, &ds, msg, sizeof msg),
                  COLB_ERANGE);
    /* no positives at all: pos_items may be NULL (nothing is copied from it) */
    const size_t no_pos[] = { 0, 0 };
    assert_ok(colb_dataset_create(2, 1, items, x, 1, users, no_pos, NULL, &ds, msg, sizeof msg));
    colb_dataset_free(ds);
}

static void test_top_users(void **state)
{
    (void)state;
    const uint64_t items[] = { 1, 2, 3, 4 };
    const double x[] = { 0, 1, 2, 3 };
    /* counts: id 50 -> 2, id 10 -> 3, id 30 -> 2, id 20 -> 1 */
    const uint64_t users[] = { 50, 10, 30, 20 };
    const size_t ptr[] = { 0, 2, 5, 7, 8 };
    const size_t pos[] = { 0, 1, 0, 1, 2, 2, 3, 3 };
    colb_dataset *ds, *top;
    assert_ok(colb_dataset_create(4, 1, items, x, 4, users, ptr, pos, &ds, NULL, 0));
    assert_ok(colb_dataset_top_users(ds, 3, &top));
    assert_int_equal(colb_dataset_users(top), 3);
    assert_true(colb_dataset_user_id(top, 0) == 10);
    assert_true(colb_dataset_user_id(top, 1) == 30); /* tie with 50: lower id first */
    assert_true(colb_dataset_user_id(top, 2) == 50);
    assert_int_equal(colb_dataset_positives(top, 0, NULL), 3);
    assert_true(colb_dataset_is_positive(top, 1, 3));
    assert_int_equal(colb_dataset_items(top), 4);
    colb_dataset_free(top);
    assert_status(colb_dataset_top_users(ds, 0, &top), COLB_ERANGE);
    assert_status(colb_dataset_top_users(ds, 5, &top), COLB_ERANGE);
    assert_ok(colb_dataset_top_users(ds, 4, &top));
    colb_dataset_free(top);
    colb_dataset_free(ds);
}

/* ---- the loader: good files ------------------------------------------------- */

static void test_load_tab_header_crlf(void **state)
{
    (void)state;
    const char *f = put("f.tsv", "# features of three items\r\n"
                                 "item\tx\ty\r\n"
                                 "\r\n"
                                 "10\t0.5\t-1\r\n"
                                 "3\t 2.5e-3 \t1e2\r\n"
                                 "   \t\r\n"
                                 "77\t-0\t0x1p-2\r\n");
    const char *p = put("p.csv", "user,item\n"
                                 "900,77\n"
                                 "5,10\n"
                                 "900,3\n"
                                 "# comment\n"
                                 "900,77\n" /* duplicate: merged */
                                 "5, 77");  /* no final newline */
    colb_dataset *ds;
    char msg[256];
    colb_status s = colb_dataset_load(f, p, &ds, msg, sizeof msg);
    if (s != COLB_OK)
        fail_msg("load: %s", msg);
    assert_int_equal(colb_dataset_items(ds), 3);
    assert_int_equal(colb_dataset_dim(ds), 2);
    assert_int_equal(colb_dataset_users(ds), 2);
    assert_int_equal(colb_dataset_n_positives(ds), 4);
    assert_true(colb_dataset_item_id(ds, 0) == 10);
    assert_true(colb_dataset_item_id(ds, 1) == 3);
    assert_true(colb_dataset_item_id(ds, 2) == 77);
    const double *x = colb_dataset_features(ds);
    const double want[] = { 0.5, -1, 2.5e-3, 100, -0.0, 0.25 };
    assert_memory_equal(x, want, sizeof want); /* -0 kept bit for bit */
    assert_true(colb_dataset_user_id(ds, 0) == 5); /* users by increasing id */
    assert_true(colb_dataset_user_id(ds, 1) == 900);
    const size_t *it;
    assert_int_equal(colb_dataset_positives(ds, 0, &it), 2);
    assert_int_equal(it[0], 0);
    assert_int_equal(it[1], 2);
    assert_int_equal(colb_dataset_positives(ds, 1, &it), 2);
    assert_int_equal(it[0], 1);
    assert_int_equal(it[1], 2);
    colb_dataset_free(ds);
}

static void test_load_comma_no_header(void **state)
{
    (void)state;
    const char *f = put("f.csv", "18446744073709551615,1,2,3\n0,4,5,6\n");
    const char *p = put("p.tsv", "1\t0\n2\t18446744073709551615\n");
    colb_dataset *ds;
    char msg[256];
    colb_status s = colb_dataset_load(f, p, &ds, msg, sizeof msg);
    if (s != COLB_OK)
        fail_msg("load: %s", msg);
    assert_int_equal(colb_dataset_dim(ds), 3);
    assert_true(colb_dataset_item_id(ds, 0) == UINT64_MAX);
    assert_true(colb_dataset_is_positive(ds, 1, 0));
    assert_true(colb_dataset_is_positive(ds, 0, 1));
    colb_dataset_free(ds);
}

/* ---- the loader: malformed files, one per case ------------------------------- */

/* Load and check the status and that msg starts with "PATH:LINE: " and
 * contains `what`. */
static void expect_error(const char *f, const char *p, colb_status want, const char *bad_path,
                         int line, const char *what)
{
    colb_dataset *ds = (colb_dataset *)1;
    char msg[512], prefix[600];
    colb_status s = colb_dataset_load(f, p, &ds, msg, sizeof msg);
    if (s != want)
        fail_msg("status %s, expected %s (msg: %s)", colb_status_name(s), colb_status_name(want),
                 msg);
    assert_null(ds);
    if (line > 0)
        snprintf(prefix, sizeof prefix, "%s:%d: ", bad_path, line);
    else
        snprintf(prefix, sizeof prefix, "%s", bad_path);
    if (strncmp(msg, prefix, strlen(prefix)) != 0 && !(line <= 0 && strstr(msg, prefix)))
        fail_msg("message '%s' does not start with '%s'", msg, prefix);
    if (!strstr(msg, what))
        fail_msg("message '%s' does not mention '%s'", msg, what);
}

static void test_load_malformed_features(void **state)
{
    (void)state;
    const char *p = put("p.tsv", "1\t1\n");
    const char *f;
    f = put("f.tsv", "id\ta\tb\n1\t1\t2\n2\t3\n");
    expect_error(f, p, COLB_EPARSE, f, 3, "expected 3 tab-separated fields");
    f = put("f.tsv", "1\t1\t2\n2\t3\t4\t5\n");
    expect_error(f, p, COLB_EPARSE, f, 2, "found 4");
    f = put("f.tsv", "1\t1\t2\n\n# x\n2\t3\tabc\n");
    expect_error(f, p, COLB_EPARSE, f, 4, "expected a number in field 3");
    f = put("f.tsv", "1\t1\t2\n2\tnan\t1\n");
    expect_error(f, p, COLB_EPARSE, f, 2, "finite number in field 2");
    f = put("f.tsv", "1\t1\t2\n2\t1\t-Inf\n");
    expect_error(f, p, COLB_EPARSE, f, 2, "finite number in field 3");
    f = put("f.tsv", "1\t1\t1e999\n");
    expect_error(f, p, COLB_EPARSE, f, 1, "finite number");
    /* beyond COLB_CONTEXT_MAX: no policy takes it as a context, found now
     * rather than in the rounds that happen to show the item */
    f = put("f.tsv", "1\t1\t2\n2\t1\t2e6\n");
    expect_error(f, p, COLB_EPARSE, f, 2, "expected a number within +-1e+06 in field 3 (feature 2), found '2e6'");
    f = put("f.tsv", "1\t-1000000.5\t0\n");
    expect_error(f, p, COLB_EPARSE, f, 1, "within +-1e+06 in field 2 (feature 1)");
    /* more features than a policy's dim may be (COLB_DIM_MAX): refused at
     * the first data line, as colb_dataset_create refuses them */
    {
        size_t n = COLB_DIM_MAX + 1, len = 2 + 2 * n + 1;
        char *line = malloc(len + 1);
        assert_non_null(line);
        line[0] = '1';
        for (size_t j = 0; j < n; j++) {
            line[1 + 2 * j] = '\t';
            line[2 + 2 * j] = '0';
        }
        line[1 + 2 * n] = '\n';
        line[2 + 2 * n] = '\0';
        f = put("f.tsv", line);
        free(line);
        expect_error(f, p, COLB_EPARSE, f, 1, "expected at most 65536 features per item");
    }
    colb_dataset *ds;
    f = put("f.tsv", "1\t1e6\t-1e6\n"); /* the bound itself is a context */
    assert_ok(colb_dataset_load(f, p, &ds, NULL, 0));
    assert_true(colb_dataset_features(ds)[1] == -1e6);
    colb_dataset_free(ds);
    f = put("f.tsv", "1\t1\t2\n2\t1\t\n");
    expect_error(f, p, COLB_EPARSE, f, 2, "expected a number in field 3");
    f = put("f.tsv", "1\t1\t2\n2\t1 2\t3\n");
    expect_error(f, p, COLB_EPARSE, f, 2, "expected a number in field 2");
    f = put("f.tsv", "h\n1\t1\t2\n7\t0\t0\n3\t0\t0\n7\t1\t1\n");
    expect_error(f, p, COLB_EPARSE, f, 5, "found 7 again (first on line 3)");
    f = put("f.tsv", "1\t1\nabc\t2\n");
    expect_error(f, p, COLB_EPARSE, f, 2, "non-negative integer item id");
    f = put("f.tsv", "1\t1\n-2\t2\n");
    expect_error(f, p, COLB_EPARSE, f, 2, "non-negative integer item id");
    f = put("f.tsv", "1\t1\n18446744073709551616\t2\n");
    expect_error(f, p, COLB_EPARSE, f, 2, "non-negative integer item id");
    f = put("f.tsv", "id\n1\n2\n");
    expect_error(f, p, COLB_EPARSE, f, 2, "d = 0");
    f = put("f.tsv", "");
    expect_error(f, p, COLB_EPARSE, f, 1, "at least one data line");
    f = put("f.tsv", "id\tx\n# nothing\n\n");
    expect_error(f, p, COLB_EPARSE, f, 3, "at least one data line");
    f = put("f.csv", "1,2,3\r\n4,5\r\n");
    expect_error(f, p, COLB_EPARSE, f, 2, "expected 3 comma-separated fields");
}

/* A first line whose id is a number but no valid id (-1, 1.5, 2^64) is an
 * error, as it is on any other line: it used to be taken for a header and
 * skipped in silence (the item or positive lost). A header (its first field
 * not a number) is still skipped. */
static void test_load_first_line_bad_id(void **state)
{
    (void)state;
    const char *p = put("p.tsv", "1\t1\n");
    static const char *const bad[] = { "-1", "1.5", "18446744073709551616", " -.5" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "%s\t1\t2\n1\t3\t4\n", bad[i]);
        const char *f = put("f.tsv", text);
        expect_error(f, p, COLB_EPARSE, f, 1, "expected a non-negative integer item id in field 1");
    }
    const char *f = put("f.tsv", "1\t1\t2\n");
    p = put("p.tsv", "-7\t1\n8\t1\n");
    expect_error(f, p, COLB_EPARSE, p, 1, "user id");
    p = put("p.tsv", "user\titem\n8\t1\n");
    colb_dataset *ds;
    char msg[256];
    if (colb_dataset_load(f, p, &ds, msg, sizeof msg) != COLB_OK)
        fail_msg("a header: %s", msg);
    assert_int_equal(colb_dataset_users(ds), 1);
    colb_dataset_free(ds);
}

/* Blank and comment lines cost no memory per line: a features file of one
 * item and 4 M blank lines (4 MB) loads within an address space of 48 MB
 * more than now (its tables were sized by all lines: ~200 MB). In a
 * child, whose limit ends with it. */
static void test_load_blank_lines_cost_nothing(void **state)
{
    (void)state;
    enum { BLANK = 4 << 20 };
    char *text = malloc(BLANK + 32);
    assert_non_null(text);
    int n = snprintf(text, 32, "1\t0.5\t0.5\n");
    memset(text + n, '\n', BLANK);
    text[n + BLANK] = '\0';
    const char *f = put("f.tsv", text), *p = put("p.tsv", "7\t1\n");
    free(text);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (limit_address_space((size_t)48 << 20))
            _exit(3);
        colb_dataset *ds;
        char msg[256];
        colb_status st = colb_dataset_load(f, p, &ds, msg, sizeof msg);
        if (st != COLB_OK)
            fprintf(stderr, "%s\n", msg);
        _exit(st == COLB_OK && colb_dataset_items(ds) == 1 ? 0 : 1);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        fail_msg("one item and 4 M blank lines did not load in 48 MB (status %d)", st);
}

static void test_load_malformed_positives(void **state)
{
    (void)state;
    const char *f = put("f.tsv", "10\t1\n20\t2\n");
    const char *p;
    p = put("p.tsv", "user\titem\n1\t10\n2\t30\n");
    expect_error(f, p, COLB_EPARSE, p, 3, "unknown id 30");
    p = put("p.tsv", "1\t10\n2\t10\t5\n");
    expect_error(f, p, COLB_EPARSE, p, 2, "expected 2 tab-separated fields");
    p = put("p.tsv", "1\t10\nx\t10\n");
    expect_error(f, p, COLB_EPARSE, p, 2, "integer user id");
    p = put("p.tsv", "1\t10\n1\t1.5\n");
    expect_error(f, p, COLB_EPARSE, p, 2, "integer item id");
    p = put("p.tsv", "1\n");
    expect_error(f, p, COLB_EPARSE, p, 1, "found 1");
    p = put("p.tsv", "user\titem\n");
    expect_error(f, p, COLB_EPARSE, p, 1, "at least one data line");
}

/* put() of len bytes that may hold NULs. */
static const char *put_bytes(const char *name, const char *bytes, size_t len)
{
    const char *p = put(name, "");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return p;
}

/* Bytes that are not lines of text: a NUL would end its line for the line
 * reader and drop the rest unread (a positive "2 10\0zz" read as "2 10"),
 * CR-only line ends would make the file one line; both are errors naming
 * the line. A UTF-8 byte order mark is skipped, so that a first data line
 * behind it is read as data, not dropped as a header. */
static void test_load_nul_bom_cr(void **state)
{
    (void)state;
    static const char nul_f[] = "1\t1\t2\n2\t3\t4\0\t5\n", nul_p[] = "1\t10\n2\t10\0zz\n";
    const char *p = put("p.tsv", "1\t1\n");
    const char *f = put_bytes("f.tsv", nul_f, sizeof nul_f - 1);
    expect_error(f, p, COLB_EPARSE, f, 2, "found a NUL byte");
    f = put("f.tsv", "10\t1\n20\t2\n");
    p = put_bytes("p.tsv", nul_p, sizeof nul_p - 1);
    expect_error(f, p, COLB_EPARSE, p, 2, "found a NUL byte");
    p = put("p.tsv", "1\t10\n");
    f = put("f.tsv", "id\tx\r10\t1\r20\t2\r");
    expect_error(f, p, COLB_EPARSE, f, 1, "CR alone");

    colb_dataset *ds;
    char msg[512];
    f = put("f.tsv", "\xEF\xBB\xBF" "10\t1\n20\t2\n");
    p = put("p.tsv", "\xEF\xBB\xBF" "1\t20\n2\t10\n");
    if (colb_dataset_load(f, p, &ds, msg, sizeof msg) != COLB_OK)
        fail_msg("a byte order mark before the first data line: %s", msg);
    assert_int_equal(colb_dataset_items(ds), 2);
    assert_true(colb_dataset_item_id(ds, 0) == 10);
    assert_int_equal(colb_dataset_users(ds), 2);
    assert_true(colb_dataset_user_id(ds, 0) == 1);
    assert_true(colb_dataset_is_positive(ds, 0, 1));
    colb_dataset_free(ds);
    f = put("f.tsv", "\xEF\xBB\xBF" "id\tx\n10\t1\n20\t2\n"); /* before a header: still a header */
    assert_ok(colb_dataset_load(f, p, &ds, msg, sizeof msg));
    assert_int_equal(colb_dataset_items(ds), 2);
    colb_dataset_free(ds);
}

static void test_load_missing_files(void **state)
{
    (void)state;
    const char *f = put("f.tsv", "10\t1\n");
    const char *p = put("p.tsv", "1\t10\n");
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such-file.tsv", tmpdir);
    expect_error(missing, p, COLB_EIO, missing, 0, "No such file or directory");
    expect_error(f, missing, COLB_EIO, missing, 0, "No such file or directory");
    colb_dataset *ds;
    assert_status(colb_dataset_load(NULL, p, &ds, NULL, 0), COLB_EINVAL);
    assert_status(colb_dataset_load(f, p, NULL, NULL, 0), COLB_EINVAL);
}

/* ---- writer: round trip ------------------------------------------------ */

static void test_write_round_trip(void **state)
{
    (void)state;
    const uint64_t items[] = { 5, 1000000000000ULL, 0 };
    /* extreme doubles that the loader takes (within +-COLB_CONTEXT_MAX) */
    const double x[] = { 1.0 / 3.0, -0.0, 1e-310, -999999.99999999988, -DBL_MIN, 2.718281828459045 };
    const uint64_t users[] = { 8, 2 };
    const size_t ptr[] = { 0, 2, 3 };
    const size_t pos[] = { 2, 0, 1 };
    colb_dataset *a, *b;
    char msg[256];
    assert_ok(colb_dataset_create(3, 2, items, x, 2, users, ptr, pos, &a, NULL, 0));
    char fp[600], pp[600];
    snprintf(fp, sizeof fp, "%s/w_f.tsv", tmpdir);
    snprintf(pp, sizeof pp, "%s/w_p.tsv", tmpdir);
    colb_status s = colb_dataset_write(a, fp, pp, msg, sizeof msg);
    if (s != COLB_OK)
        fail_msg("write: %s", msg);
    s = colb_dataset_load(fp, pp, &b, msg, sizeof msg);
    if (s != COLB_OK)
        fail_msg("reload: %s", msg);
    assert_int_equal(colb_dataset_items(b), 3);
    assert_memory_equal(colb_dataset_features(a), colb_dataset_features(b), sizeof x);
    for (size_t i = 0; i < 3; i++)
        assert_true(colb_dataset_item_id(a, i) == colb_dataset_item_id(b, i));
    /* users come back by increasing id: 2 then 8 */
    assert_true(colb_dataset_user_id(b, 0) == 2);
    assert_true(colb_dataset_user_id(b, 1) == 8);
    for (size_t u = 0; u < 2; u++) {
        size_t ua;
        assert_ok(colb_dataset_user_index(a, colb_dataset_user_id(b, u), &ua));
        const size_t *pa, *pb;
        size_t na = colb_dataset_positives(a, ua, &pa), nb = colb_dataset_positives(b, u, &pb);
        assert_int_equal(na, nb);
        assert_memory_equal(pa, pb, na * sizeof(size_t));
    }
    colb_dataset_free(b);
    /* a directory that does not exist: EIO naming the file, nothing left */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/f.tsv", tmpdir);
    assert_status(colb_dataset_write(a, bad, pp, msg, sizeof msg), COLB_EIO);
    assert_non_null(strstr(msg, bad));
    /* the positives' folder missing: the features file is not replaced
     * either (it was, the pair left half new) */
    struct stat before, after;
    assert_int_equal(stat(fp, &before), 0);
    char *old_text = slurp(fp, NULL);
    colb_dataset *c;
    const double x2[] = { 7, 7, 7, 7, 7, 7 };
    assert_ok(colb_dataset_create(3, 2, items, x2, 2, users, ptr, pos, &c, NULL, 0));
    assert_status(colb_dataset_write(c, fp, bad, msg, sizeof msg), COLB_EIO);
    assert_non_null(strstr(msg, bad));
    char *new_text = slurp(fp, NULL);
    assert_int_equal(stat(fp, &after), 0);
    assert_string_equal(old_text, new_text);
    assert_true(before.st_ino == after.st_ino);
    free(old_text);
    free(new_text);
    colb_dataset_free(c);
    colb_dataset_free(a);
}

/* colb_dataset_write writes through the library's atomic writer: the
 * temporary a killed writer left beside a file (PATH.tmp.PID.N, its PID no
 * process) is removed by the next write of that file, and nothing else
 * named like a temporary is left beside the two files. */
static void test_write_removes_killed_writers_temporaries(void **state)
{
    (void)state;
    const uint64_t items[] = { 1, 2 }, users[] = { 3 };
    const double x[] = { 0.5, -0.5 };
    const size_t ptr[] = { 0, 1 }, pos[] = { 1 };
    colb_dataset *a;
    char msg[256], fp[600], pp[600], stale[2][700];
    assert_ok(colb_dataset_create(2, 1, items, x, 1, users, ptr, pos, &a, NULL, 0));
    snprintf(fp, sizeof fp, "%s/x_f", tmpdir);
    snprintf(pp, sizeof pp, "%s/x_p", tmpdir);
    pid_t pid = fork(); /* a PID that is no process once reaped */
    if (pid == 0)
        _exit(0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    snprintf(stale[0], sizeof stale[0], "%s.tmp.%ld.3", fp, (long)pid);
    snprintf(stale[1], sizeof stale[1], "%s.tmp.%ld.4", pp, (long)pid);
    for (int i = 0; i < 2; i++)
        assert_int_equal(spit(stale[i], "half a file", 11), 0);
    assert_ok(colb_dataset_write(a, fp, pp, msg, sizeof msg));
    for (int i = 0; i < 2; i++)
        if (access(stale[i], F_OK) == 0)
            fail_msg("%s is still there", stale[i]);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls -A %s | grep -c -F .tmp.", tmpdir);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    int n = -1;
    assert_int_equal(fscanf(f, "%d", &n), 1);
    pclose(f);
    assert_int_equal(n, 0);
    colb_dataset_free(a);
}

/* ---- the logged-data environment ----------------------------------------- */

enum { NI = 40, DD = 3, NU = 5 };

/* big != 0: item 5's feature 1 is that value instead */
static colb_dataset *env_dataset(void)
{
    static uint64_t items[NI];
    static double x[NI * DD];
    for (int i = 0; i < NI; i++) {
        items[i] = 1000 + 3 * (uint64_t)i;
        for (int j = 0; j < DD; j++)
            x[i * DD + j] = i + 0.1 * j;
    }
    const uint64_t users[NU] = { 1, 2, 3, 4, 5 };
    /* user 0: 1 positive; 1: 3; 2: none; 3: 10; 4: every item */
    static size_t pos[1 + 3 + 10 + NI];
    size_t n = 0, ptr[NU + 1];
    ptr[0] = 0;
    pos[n++] = 17;
    ptr[1] = n;
    pos[n++] = 0;
    pos[n++] = 39;
    pos[n++] = 20;
    ptr[2] = n;
    ptr[3] = n;
    for (int i = 0; i < 10; i++)
        pos[n++] = (size_t)(4 * i);
    ptr[4] = n;
    for (int i = 0; i < NI; i++)
        pos[n++] = (size_t)i;
    ptr[5] = n;
    colb_dataset *ds;
    assert_ok(colb_dataset_create(NI, DD, items, x, NU, users, ptr, pos, &ds, NULL, 0));
    return ds;
}

static void check_round(colb_env *e, const colb_dataset *ds, size_t K, int shared)
{
    const double *c0 = colb_env_contexts(e, 0);
    for (size_t u = 0; u < NU; u++) {
        const size_t *it = colb_env_logged_items(e, u);
        assert_non_null(it);
        const double *c = colb_env_contexts(e, u);
        if (shared)
            assert_ptr_equal(c, c0);
        int best = 0;
        for (size_t k = 0; k < K; k++) {
            assert_true(it[k] < NI);
            for (size_t j = 0; j < k; j++)
                assert_true(it[j] != it[k]); /* distinct */
            assert_memory_equal(c + k * DD, colb_dataset_features(ds) + it[k] * DD,
                                DD * sizeof(double));
            best |= colb_dataset_is_positive(ds, u, it[k]);
        }
        for (size_t k = 0; k < K; k++) {
            double r = colb_env_reward(e, u, k), ro, go;
            assert_true(r == (double)colb_dataset_is_positive(ds, u, it[k]));
            assert_true(colb_env_regret(e, u, k) == (double)best - r);
            colb__env_outcome(e, u, k, &ro, &go); /* the simulator's one call */
            assert_true(ro == r && go == (double)best - r);
        }
        double ro, go;
        colb__env_outcome(e, u, K, &ro, &go); /* no such arm */
        assert_true(isnan(ro) && isnan(go));
        if (!shared && colb_dataset_positives(ds, u, NULL) > 0)
            assert_true(best); /* the CLUB protocol always shows a positive */
    }
}

/* Every kind of environment, synthetic and logged, has no contexts before
 * its first round (NULL, by both ways of asking) nor rewards and regrets
 * (NaN), and has them after. */
static void test_env_no_contexts_before_first_round(void **state)
{
    (void)state;
    colb_dataset *ds = env_dataset();
    colb_env *envs[4] = { NULL };
    char msg[256];
    colb_env_params p;
    colb_env_params_default(&p);
    p.users = NU;
    p.clusters = 2;
    p.dim = DD;
    p.arms = 7;
    assert_ok(colb_env_create(&p, 3, &envs[0], msg, sizeof msg));
    p.kind = COLB_ENV_PERSONALIZED;
    assert_ok(colb_env_create(&p, 3, &envs[1], msg, sizeof msg));
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_SHARED, 7, 3, &envs[2], msg, sizeof msg));
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_PER_USER, 7, 3, &envs[3], msg, sizeof msg));
    double buf[7 * DD];
    for (int i = 0; i < 4; i++) {
        colb_env *e = envs[i];
        assert_int_equal(colb_env_rounds(e), 0);
        for (size_t u = 0; u < NU; u++) {
            if (colb_env_contexts(e, u))
                fail_msg("environment %d: contexts of user %zu before the first round", i, u);
            assert_null(colb__env_contexts_into(e, u, buf));
            if (!isnan(colb_env_reward(e, u, 0)) || !isnan(colb_env_regret(e, u, 0)))
                fail_msg("environment %d: user %zu's reward %g, regret %g before the first round", i,
                         u, colb_env_reward(e, u, 0), colb_env_regret(e, u, 0));
        }
        assert_ok(colb_env_next_round(e));
        for (size_t u = 0; u < NU; u++) {
            assert_non_null(colb_env_contexts(e, u));
            assert_non_null(colb__env_contexts_into(e, u, buf));
            assert_false(isnan(colb_env_reward(e, u, 0)));
            assert_false(isnan(colb_env_regret(e, u, 0)));
        }
        assert_null(colb_env_contexts(e, NU));
        colb_env_free(e);
    }
    colb_dataset_free(ds);
}

static void test_env_shared(void **state)
{
    (void)state;
    colb_dataset *ds = env_dataset();
    colb_env *e;
    char msg[256];
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_SHARED, 7, 42, &e, msg, sizeof msg));
    assert_int_equal(colb_env_users(e), NU);
    assert_int_equal(colb_env_dim(e), DD);
    assert_int_equal(colb_env_arms(e), 7);
    assert_int_equal(colb_env_shared_contexts(e), 1);
    assert_null(colb_env_contexts(e, 0)); /* before the first round */
    assert_true(isnan(colb_env_reward(e, 0, 0)));
    assert_null(colb_env_logged_items(e, 0));
    double theta[DD];
    assert_status(colb_env_theta(e, 0, theta), COLB_EUNSUP);
    long hits[NI] = { 0 };
    const int rounds = 4000;
    for (int t = 0; t < rounds; t++) {
        assert_ok(colb_env_next_round(e));
        const size_t *it = colb_env_logged_items(e, 0);
        for (size_t u = 1; u < NU; u++)
            assert_memory_equal(colb_env_logged_items(e, u), it, 7 * sizeof(size_t));
        if (t < 50)
            check_round(e, ds, 7, 1);
        for (int k = 0; k < 7; k++)
            hits[it[k]]++;
    }
    /* each item is shown with probability 7/40: 700 of 4000, sd 24; 5 sd */
    for (int i = 0; i < NI; i++)
        assert_true(labs(hits[i] - 700) < 5 * 24);
    assert_null(colb_env_logged_items(e, NU));
    colb_env_free(e);
    colb_dataset_free(ds);
}

static void test_env_per_user(void **state)
{
    (void)state;
    colb_dataset *ds = env_dataset();
    colb_env *e;
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_PER_USER, 6, 7, &e, NULL, 0));
    assert_int_equal(colb_env_shared_contexts(e), 0);
    long slot[6] = { 0 }, hits17 = 0, other[NI] = { 0 };
    const int rounds = 3000;
    for (int t = 0; t < rounds; t++) {
        assert_ok(colb_env_next_round(e));
        if (t < 50)
            check_round(e, ds, 6, 0);
        /* user 0's only positive (item 17) is in a uniform slot */
        const size_t *it = colb_env_logged_items(e, 0);
        int seen = 0;
        for (int k = 0; k < 6; k++)
            if (it[k] == 17) {
                slot[k]++;
                seen++;
            } else {
                other[it[k]]++;
            }
        assert_int_equal(seen, 1);
        hits17 += seen;
        /* contexts differ between users (per-user draws) */
        if (t == 0)
            assert_ptr_not_equal(colb_env_contexts(e, 0), colb_env_contexts(e, 1));
    }
    assert_int_equal(hits17, rounds);
    for (int k = 0; k < 6; k++) /* 500 each, sd 20.4 */
        assert_true(labs(slot[k] - 500) < 5 * 21);
    /* the 5 other items are uniform over the 39 others: 3000*5/39 = 384.6, sd 18.4 */
    for (int i = 0; i < NI; i++)
        if (i != 17)
            assert_true(fabs(other[i] - 384.6) < 5 * 18.4);
    colb_env_free(e);
    colb_dataset_free(ds);
}

/* colb__env_contexts_into (the simulator's per-user turns): the values of
 * colb_env_contexts, in the caller's buffer while the user's own block is
 * not built, that block once it is; the environment's state unchanged (a
 * twin that only calls colb_env_contexts sees the same rounds). */
static void test_env_contexts_into(void **state)
{
    (void)state;
    colb_dataset *ds = env_dataset();
    const size_t K = 6, d = colb_dataset_dim(ds);
    colb_env *e, *twin, *shared;
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_PER_USER, K, 11, &e, NULL, 0));
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_PER_USER, K, 11, &twin, NULL, 0));
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_SHARED, K, 11, &shared, NULL, 0));
    double *buf = malloc(K * d * sizeof(double));
    assert_non_null(buf);
    assert_null(colb__env_contexts_into(e, 0, buf)); /* no round drawn yet */
    size_t N = colb_env_users(e);
    for (int t = 0; t < 20; t++) {
        assert_ok(colb_env_next_round(e));
        assert_ok(colb_env_next_round(twin));
        assert_ok(colb_env_next_round(shared));
        for (size_t u = 0; u < N; u++) {
            const double *in = colb__env_contexts_into(e, u, buf), *ref = colb_env_contexts(twin, u);
            assert_ptr_equal(in, buf); /* u's block not built: the buffer */
            assert_memory_equal(in, ref, K * d * sizeof(double));
            const double *own = colb_env_contexts(e, u);
            assert_ptr_equal(colb__env_contexts_into(e, u, buf), own); /* built: that block */
            assert_ptr_equal(colb__env_contexts_into(shared, u, buf), colb_env_contexts(shared, 0));
        }
        assert_null(colb__env_contexts_into(e, N, buf)); /* no such user */
    }
    free(buf);
    colb_env_free(shared);
    colb_env_free(twin);
    colb_env_free(e);
    colb_dataset_free(ds);
}

/* The simulator's per-user turns: a logged environment whose feature table
 * is within COLB_CONTEXT_MAX says so (contexts_bounded), and its contexts
 * go straight into the policy's buffer unchecked
 * (colb__policy_round_buffer, colb__policy_begin_round_bounded) with the
 * same decisions as through colb_policy_begin_round; a table with an entry
 * beyond the bound still stops a simulation with the check's clear error. */
static colb_status make_per_user(void *ctx, uint64_t seed, colb_env **out, char *msg, size_t len)
{
    return colb_env_create_logged(ctx, COLB_LOGGED_PER_USER, 6, seed, out, msg, len);
}

static void test_env_contexts_bounded(void **state)
{
    (void)state;
    colb_dataset *ds = env_dataset(), *bad = env_dataset();
    /* colb_dataset_create refuses a feature beyond the bound; the table
     * changed behind the library's back after creation stands for a table
     * the environment cannot trust, whose contexts are checked round by round */
    ((double *)colb_dataset_features(bad))[5 * DD + 1] = 2e6;
    const size_t K = 6, d = colb_dataset_dim(ds);
    colb_env *e, *twin, *be;
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_PER_USER, K, 13, &e, NULL, 0));
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_PER_USER, K, 13, &twin, NULL, 0));
    assert_ok(colb_env_create_logged(bad, COLB_LOGGED_PER_USER, K, 13, &be, NULL, 0));
    assert_int_equal(e->contexts_bounded, 1);
    assert_int_equal(be->contexts_bounded, 0);
    colb_env_free(be);
    size_t N = colb_env_users(e);
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = d;
    pp.horizon = 40;
    colb_policy *p, *q;
    char msg[256];
    assert_ok(colb_policy_create("linucb-ind", &pp, &p, msg, sizeof msg));
    assert_ok(colb_policy_create("linucb-ind", &pp, &q, msg, sizeof msg));
    assert_null(colb__policy_round_buffer(p, 0));
    for (int t = 0; t < 40; t++) {
        assert_ok(colb_env_next_round(e));
        assert_ok(colb_env_next_round(twin));
        for (size_t u = 0; u < N; u++) {
            double *buf = colb__policy_round_buffer(p, K);
            assert_non_null(buf);
            const double *X = colb__env_contexts_into(e, u, buf);
            assert_ptr_equal(X, buf);
            size_t a, b;
            assert_ok(colb__policy_begin_round_bounded(p, X, K));
            assert_null(colb__policy_round_buffer(p, K)); /* not within a round */
            assert_ok(colb_policy_begin_round(q, colb_env_contexts(twin, u), K));
            assert_ok(colb_policy_choose(p, u, &a));
            assert_ok(colb_policy_choose(q, u, &b));
            assert_int_equal(a, b);
            assert_ok(colb_policy_observe(p, u, a, colb_env_reward(e, u, a)));
            assert_ok(colb_policy_observe(q, u, b, colb_env_reward(twin, u, b)));
            assert_ok(colb_policy_end_round(p));
            assert_ok(colb_policy_end_round(q));
        }
    }
    double tp[DD], tq[DD];
    for (size_t u = 0; u < N; u++) {
        assert_ok(colb_policy_user_theta(p, u, tp));
        assert_ok(colb_policy_user_theta(q, u, tq));
        assert_memory_equal(tp, tq, sizeof tp);
    }
    colb_policy_free(p);
    colb_policy_free(q);
    /* the simulator on the table beyond the bound: the check's error */
    static const char *const names[] = { "linucb-ind" };
    colb_sim_spec s;
    colb_sim_spec_default(&s);
    s.env.users = N;
    s.env.dim = d;
    s.make_env = make_per_user;
    s.env_ctx = bad;
    s.policies = names;
    s.n_policies = 1;
    s.horizon = 20;
    s.repeats = 1;
    colb_sim_result *r = NULL;
    char smsg[512];
    assert_status(colb_sim_run(&s, &r, smsg, sizeof smsg), COLB_ERANGE);
    assert_non_null(strstr(smsg, "beyond"));
    s.env_ctx = ds; /* and on the good one it runs */
    assert_ok(colb_sim_run(&s, &r, smsg, sizeof smsg));
    assert_true(isfinite(colb_sim_result_regret(r, 0, 0, 0)));
    colb_sim_result_free(r);
    colb_env_free(twin);
    colb_env_free(e);
    colb_dataset_free(bad);
    colb_dataset_free(ds);
}

/* A logged environment saved within a round (drawn, not yet rewarded) and
 * loaded gives the same rewards and regrets for that round: what a round
 * derives from its items (the shared protocol's best rewards) is rebuilt
 * on load. */
static void test_env_reload_within_round(void **state)
{
    (void)state;
    colb_dataset *ds = env_dataset();
    colb_load_options o;
    colb_load_options_default(&o);
    o.dataset = ds;
    for (int proto = 0; proto < 2; proto++) {
        colb_env *e, *back = NULL;
        const size_t K = 7;
        assert_ok(colb_env_create_logged(ds, proto ? COLB_LOGGED_PER_USER : COLB_LOGGED_SHARED, K, 5, &e,
                                         NULL, 0));
        for (int t = 0; t < 3; t++)
            assert_ok(colb_env_next_round(e));
        size_t len = 0, cap = 1 << 20;
        void *buf = malloc(cap);
        assert_non_null(buf);
        char msg[256];
        assert_ok(colb_env_save_buffer(e, buf, cap, &len, msg, sizeof msg));
        assert_ok(colb_env_load_buffer(buf, len, &o, &back, msg, sizeof msg));
        size_t best_seen = 0;
        for (size_t u = 0; u < colb_env_users(e); u++)
            for (size_t k = 0; k < K; k++) {
                assert_true(colb_env_reward(back, u, k) == colb_env_reward(e, u, k));
                assert_true(colb_env_regret(back, u, k) == colb_env_regret(e, u, k));
                best_seen += colb_env_regret(e, u, k) == 1.0;
            }
        assert_true(best_seen > 0); /* some user missed a positive shown: the case rebuilt */
        free(buf);
        colb_env_free(back);
        colb_env_free(e);
    }
    colb_dataset_free(ds);
}

/* A logged environment's snapshot whose data set round count was edited
 * (the checksum made again: a hostile file) to 2^64 - 1, which the next
 * round wrapped to 0 and left without contexts (a NULL read), or to any
 * other count than the environment's own, is refused. */
static void test_env_load_rounds_checked(void **state)
{
    (void)state;
    colb_dataset *ds = env_dataset();
    colb_load_options o;
    colb_load_options_default(&o);
    o.dataset = ds;
    colb_env *e, *back = NULL;
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_SHARED, 3, 5, &e, NULL, 0));
    assert_ok(colb_env_next_round(e));
    size_t len = 0, cap = 1 << 20;
    unsigned char *buf = malloc(cap);
    assert_non_null(buf);
    char msg[256];
    assert_ok(colb_env_save_buffer(e, buf, cap, &len, msg, sizeof msg));
    /* the second u64 field "rounds": the data set environment's own */
    static const char field[] = "\x02\0\0\0\x06\0\0\0\x01\0\0\0\0\0\0\0rounds";
    size_t at = 0, seen = 0;
    for (size_t i = 0; i + sizeof field - 1 + 10 <= len && seen < 2; i++)
        if (!memcmp(buf + i, field, sizeof field - 1) && ++seen == 2)
            at = i + sizeof field - 1 + 2; /* the value after the name's padding */
    assert_int_equal(seen, 2);
    static const uint64_t counts[] = { UINT64_MAX, 0, 2 };
    for (size_t c = 0; c < 3; c++) {
        unsigned char *b = malloc(len);
        assert_non_null(b);
        memcpy(b, buf, len);
        for (int i = 0; i < 8; i++)
            b[at + (size_t)i] = (unsigned char)(counts[c] >> (8 * i));
        uint64_t sum = XXH3_64bits(b, len - 8);
        for (int i = 0; i < 8; i++)
            b[len - 8 + (size_t)i] = (unsigned char)(sum >> (8 * i));
        colb_status st = colb_env_load_buffer(b, len, &o, &back, msg, sizeof msg);
        if (st != COLB_EPARSE || !strstr(msg, "rounds"))
            fail_msg("rounds = %llu: %s (%s)", (unsigned long long)counts[c], colb_strerror(st), msg);
        assert_null(back);
        free(b);
    }
    assert_ok(colb_env_load_buffer(buf, len, &o, &back, msg, sizeof msg)); /* the file as written */
    assert_ok(colb_env_next_round(back));
    colb_env_free(back);
    free(buf);
    colb_env_free(e);
    colb_dataset_free(ds);
}

static void test_env_same_seed_same_rounds(void **state)
{
    (void)state;
    colb_dataset *ds = env_dataset();
    for (int proto = 0; proto < 2; proto++) {
        colb_env *a, *b, *c;
        assert_ok(colb_env_create_logged(ds, (colb_logged_protocol)proto, 5, 11, &a, NULL, 0));
        assert_ok(colb_env_create_logged(ds, (colb_logged_protocol)proto, 5, 11, &b, NULL, 0));
        assert_ok(colb_env_create_logged(ds, (colb_logged_protocol)proto, 5, 12, &c, NULL, 0));
        int differ = 0;
        for (int t = 0; t < 100; t++) {
            assert_ok(colb_env_next_round(a));
            assert_ok(colb_env_next_round(b));
            assert_ok(colb_env_next_round(c));
            /* b's contexts are read in another order: no influence */
            for (size_t u = NU; u-- > 0;)
                (void)colb_env_contexts(b, u);
            for (size_t u = 0; u < NU; u++) {
                assert_memory_equal(colb_env_logged_items(a, u), colb_env_logged_items(b, u),
                                    5 * sizeof(size_t));
                assert_memory_equal(colb_env_contexts(a, u), colb_env_contexts(b, u),
                                    5 * DD * sizeof(double));
                differ |= memcmp(colb_env_logged_items(a, u), colb_env_logged_items(c, u),
                                 5 * sizeof(size_t)) != 0;
            }
        }
        assert_true(differ);
        colb_env_free(a);
        colb_env_free(b);
        colb_env_free(c);
    }
    colb_dataset_free(ds);
}

static void test_env_edge_cases(void **state)
{
    (void)state;
    colb_dataset *ds = env_dataset();
    colb_env *e;
    char msg[256];
    assert_status(colb_env_create_logged(ds, COLB_LOGGED_SHARED, 0, 1, &e, msg, sizeof msg),
                  COLB_ERANGE);
    assert_status(colb_env_create_logged(ds, COLB_LOGGED_SHARED, NI + 1, 1, &e, msg, sizeof msg),
                  COLB_ERANGE);
    assert_non_null(strstr(msg, "n_items = 40"));
    assert_status(colb_env_create_logged(NULL, COLB_LOGGED_SHARED, 3, 1, &e, msg, sizeof msg),
                  COLB_EINVAL);
    assert_status(colb_env_create_logged(ds, (colb_logged_protocol)7, 3, 1, &e, msg, sizeof msg),
                  COLB_EINVAL);
    /* K = n_items: every item, once, each round; K = 1 per user: the positive */
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_PER_USER, NI, 3, &e, NULL, 0));
    for (int t = 0; t < 5; t++) {
        assert_ok(colb_env_next_round(e));
        check_round(e, ds, NI, 0);
    }
    colb_env_free(e);
    assert_ok(colb_env_create_logged(ds, COLB_LOGGED_PER_USER, 1, 3, &e, NULL, 0));
    for (int t = 0; t < 20; t++) {
        assert_ok(colb_env_next_round(e));
        assert_true(colb_env_reward(e, 0, 0) == 1.0);
        assert_true(colb_env_regret(e, 0, 0) == 0.0);
        assert_true(colb_env_reward(e, 2, 0) == 0.0); /* user without positives */
    }
    colb_env_free(e);
    colb_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_access),
        cmocka_unit_test(test_create_rejects),
        cmocka_unit_test(test_top_users),
        cmocka_unit_test(test_load_tab_header_crlf),
        cmocka_unit_test(test_load_comma_no_header),
        cmocka_unit_test(test_load_malformed_features),
        cmocka_unit_test(test_load_first_line_bad_id),
        cmocka_unit_test(test_load_blank_lines_cost_nothing),
        cmocka_unit_test(test_load_malformed_positives),
        cmocka_unit_test(test_load_nul_bom_cr),
        cmocka_unit_test(test_load_missing_files),
        cmocka_unit_test(test_write_removes_killed_writers_temporaries),
        cmocka_unit_test(test_write_round_trip),
        cmocka_unit_test(test_env_no_contexts_before_first_round),
        cmocka_unit_test(test_env_shared),
        cmocka_unit_test(test_env_per_user),
        cmocka_unit_test(test_env_contexts_into),
        cmocka_unit_test(test_env_contexts_bounded),
        cmocka_unit_test(test_env_reload_within_round),
        cmocka_unit_test(test_env_same_seed_same_rounds),
        cmocka_unit_test(test_env_load_rounds_checked),
        cmocka_unit_test(test_env_edge_cases),
    };
    return cmocka_run_group_tests_name("dataset", tests, setup_dir, teardown_dir);
}
