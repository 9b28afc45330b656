/* test_cli_outdir.c - results folders are written as one set (issue 17,
 * defects 2 and 3): a run killed at any point, failing half-way or hitting
 * a full disk leaves the previous folder or a complete new one, never a
 * mix and no temporary files; two runs cannot write one folder; a bad
 * --out fails before any work, with its whole path in the message; colb
 * bench-quality's --out follows the same rules. The binary is $COLB (set by
 * make). */
#include "spawn.h"
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int run_colb(char *const args[], char *err, size_t len, long fsize, double kill_after, int sig)
{
    return colb_spawn(args, err, len, fsize, kill_after, sig, 0);
}

static char *read_in(const char *dir, const char *name)
{
    char p[8192];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return slurp(p, NULL);
}

static int same(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* Entries of dir whose name contains `part`. */
static int count_named(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strstr(de->d_name, part) != NULL;
    closedir(d);
    return n;
}

static void make_tmp(char *dir)
{
    assert_non_null(mkdtemp(dir));
}

#define RUN_ARGS(out, seed)                                                                          \
    { "run", "--policies", "random,pooled,linucb-ind", "--users", "5", "--clusters", "2", "--dim", "3", \
      "--arms", "4", "--horizon", "20000", "--curve-points", "20000", "--repeats", "2", "--quiet", "1",  \
      "--seed", seed, "--out", out, NULL }

typedef struct snapshot {
    char *summary, *curves, *settings;
} snapshot;

static snapshot take(const char *dir)
{
    snapshot s = { read_in(dir, "summary.csv"), read_in(dir, "curves.csv"), read_in(dir, "settings.txt") };
    return s;
}

static void drop(snapshot *s)
{
    free(s->summary);
    free(s->curves);
    free(s->settings);
}

/* summary.csv without its wall-time column (the 9th), which differs
 * between two runs of the same settings. */
static char *results_only(const char *summary)
{
    if (!summary)
        return NULL;
    char *out = malloc(strlen(summary) + 1), *w = out;
    int field = 0;
    for (const char *c = summary; *c; c++) {
        if (*c == '\n')
            field = 0;
        else if (*c == ',')
            field++;
        if (field != 8 || *c == '\n')
            *w++ = *c;
    }
    *w = '\0';
    return out;
}

/* Which run each file of a snapshot comes from: 'o' old (seed 1), 'n' new
 * (seed 2), '-' missing, '?' neither. */
static void classify(const snapshot *s, const snapshot *old, const snapshot *neu, char who[4])
{
    char *a = results_only(s->summary), *o = results_only(old->summary), *n = results_only(neu->summary);
    who[0] = !a ? '-' : same(a, o) ? 'o' : same(a, n) ? 'n' : '?';
    who[1] = !s->curves ? '-' : same(s->curves, old->curves) ? 'o' : same(s->curves, neu->curves) ? 'n' : '?';
    who[2] = !s->settings ? '-' : strstr(s->settings, "\nseed = 1\n") ? 'o'
             : strstr(s->settings, "\nseed = 2\n")                    ? 'n'
                                                                      : '?';
    who[3] = '\0';
    free(a);
    free(o);
    free(n);
}

#define RUN_ARGS(out, seed)                                                                          \
    { "run", "--policies", "random,pooled,linucb-ind", "--users", "5", "--clusters", "2", "--dim", "3", \
      "--arms", "4", "--horizon", "20000", "--curve-points", "20000", "--repeats", "2", "--quiet", "1",  \
      "--seed", seed, "--out", out, NULL }

/* Kill a run at many points (SIGKILL, SIGTERM, SIGINT, from just after
 * the start to after the end): the folder is always the whole old set or
 * the whole new one. */
static void test_killed_runs(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-outdir-XXXXXX", out[600], err[8192];
    make_tmp(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    char *a1[] = RUN_ARGS(out, "1"), *a2[] = RUN_ARGS(out, "2");
    assert_int_equal(run_colb(a2, err, sizeof err, 0, 0, 0), 0);
    snapshot neu = take(out);
    double t0 = spawn_now();
    assert_int_equal(run_colb(a1, err, sizeof err, 0, 0, 0), 0);
    double t_run = spawn_now() - t0;
    snapshot old = take(out);
    assert_non_null(old.curves);
    assert_false(same(old.curves, neu.curves));
    int sigs[] = { SIGKILL, SIGTERM, SIGINT };
    int saw[2] = { 0, 0 };
    /* 14 points through the run (the write phase is the last third), then
     * 4 well after its end (a loaded machine runs slower than measured) */
    static const double late[4] = { 1.5, 2.5, 4.0, 6.0 };
    for (int k = 0; k < 18; k++) {
        double at = t_run * (k < 14 ? 0.03 + 0.075 * k : late[k - 14]);
        int rc = run_colb(a2, err, sizeof err, 0, at, sigs[k % 3]);
        snapshot cur = take(out);
        char who[4];
        classify(&cur, &old, &neu, who);
        drop(&cur);
        if (strcmp(who, "ooo") && strcmp(who, "nnn"))
            fail_msg("killed at %.3f s of %.3f (exit %d): files from runs '%s' (summary, curves, settings)",
                     at, t_run, rc, who);
        saw[who[0] == 'n']++;
        if (who[0] == 'n') { /* back to the old set for the next kill */
            assert_int_equal(run_colb(a1, err, sizeof err, 0, 0, 0), 0);
        }
    }
    assert_true(saw[0] > 0); /* early kills kept the old folder */
    assert_true(saw[1] > 0); /* late ones found the run finished */
    /* a completed run removes what killed runs left beside the folder */
    assert_int_equal(run_colb(a2, err, sizeof err, 0, 0, 0), 0);
    assert_int_equal(count_named(dir, ".tmp."), 0);
    assert_int_equal(count_named(dir, ".lock"), 0);
    assert_int_equal(count_named(out, "tmp"), 0);
    drop(&old);
    drop(&neu);
}

/* A run that fails half-way through writing (a full disk, a file it
 * cannot replace) leaves the old folder whole and says why. */
static void test_failures_keep_the_old_folder(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-outdir-XXXXXX", out[600], err[8192];
    make_tmp(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    char *a1[] = RUN_ARGS(out, "1"), *a2[] = RUN_ARGS(out, "2");
    assert_int_equal(run_colb(a1, err, sizeof err, 0, 0, 0), 0);
    snapshot old = take(out);
    /* full disk: files may not exceed 100 kB (curves.csv is 4 MB) */
    int rc = run_colb(a2, err, sizeof err, 100000, 0, 0);
    assert_int_equal(rc, 1);
    if (!strstr(err, "File too large"))
        fail_msg("no errno text in '%s'", err);
    snapshot cur = take(out);
    char who[4];
    classify(&cur, &old, &old, who);
    drop(&cur);
    assert_string_equal(who, "ooo");
    assert_int_equal(count_named(out, "tmp"), 0);
    assert_int_equal(count_named(dir, ".tmp."), 0);
    /* curves.csv cannot be replaced (a folder of that name): old kept */
    char p[700];
    snprintf(p, sizeof p, "%s/curves.csv", out);
    free(old.curves);
    assert_int_equal(remove(p), 0);
    assert_int_equal(mkdir(p, 0755), 0);
    old.curves = NULL;
    rc = run_colb(a2, err, sizeof err, 0, 0, 0);
    /* either the whole new set replaced the old folder, or nothing changed */
    snapshot now_ = take(out);
    if (rc == 0) {
        assert_non_null(now_.curves);
        assert_false(same(now_.summary, old.summary));
    } else {
        assert_true(same(now_.summary, old.summary));
    }
    drop(&now_);
    drop(&old);
}

/* Two processes cannot write one folder; a folder colb did not make is
 * never replaced. */
static void test_lock_and_foreign_folders(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-outdir-XXXXXX", out[600], lock[700], err[8192], p[700];
    make_tmp(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(lock, sizeof lock, "%s/.out.lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    char *a1[] = RUN_ARGS(out, "1");
    assert_int_equal(run_colb(a1, err, sizeof err, 0, 0, 0), 1);
    assert_non_null(strstr(err, "another colb process"));
    close(fd);
    unlink(lock);
    assert_int_equal(mkdir(out, 0755), 0);
    snprintf(p, sizeof p, "%s/precious.txt", out);
    FILE *f = fopen(p, "w");
    fputs("mine\n", f);
    fclose(f);
    assert_int_equal(run_colb(a1, err, sizeof err, 0, 0, 0), 1);
    assert_non_null(strstr(err, "not a colb results folder"));
    assert_int_equal(access(p, F_OK), 0);
}

/* A bad --out fails at once, before the run, and the message holds the
 * whole path however long it is. */
static void test_bad_out_fails_first(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-outdir-XXXXXX", err[16384];
    make_tmp(dir);
    /* a path of ~1700 characters whose last folder is a regular file */
    char *path = malloc(4096);
    snprintf(path, 4096, "%s", dir);
    for (int i = 0; i < 12; i++) {
        size_t n = strlen(path);
        snprintf(path + n, 4096 - n, "/%0140d", i);
        assert_int_equal(mkdir(path, 0755), 0);
    }
    size_t n = strlen(path);
    snprintf(path + n, 4096 - n, "/a-file");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    n = strlen(path);
    snprintf(path + n, 4096 - n, "/results");
    assert_true(strlen(path) > 1500);
    /* a run that would take minutes */
    char *args[] = { "run", "--users", "400", "--horizon", "100000", "--repeats", "30", "--quiet", "1",
                     "--out", path, NULL };
    double t0 = spawn_now();
    int rc = run_colb(args, err, sizeof err, 0, 0, 0);
    double t = spawn_now() - t0;
    assert_int_not_equal(rc, 0);
    if (t > 2.0)
        fail_msg("a bad --out was found after %.1f s", t);
    path[strlen(path) - strlen("/results")] = '\0'; /* the file in the way */
    if (!strstr(err, path))
        fail_msg("the message does not hold the whole path: '%s'", err);
    /* --out names an existing file */
    char *args2[] = { "run", "--horizon", "100000", "--quiet", "1", "--out", path, NULL };
    rc = run_colb(args2, err, sizeof err, 0, 0, 0);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err, "is not a folder"));
    free(path);
}

/* A run that fails its checks leaves no folder behind, neither the
 * missing parents of --out (they were made before the data was checked)
 * nor those of a --checkpoint that a stop would have written; a run that
 * stops writes its checkpoint into the parents it then makes. */
static void test_failed_checks_make_no_folders(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-outdir-XXXXXX", out[600], ck[600], top[600], err[8192];
    make_tmp(dir);
    snprintf(top, sizeof top, "%s/a", dir);
    snprintf(out, sizeof out, "%s/a/b/out", dir);
    char *missing_data[] = { "run", "--policies", "linucb-ind", "--env", "logged", "--features", "missing.tsv",
                             "--positives", "missing.tsv", "--quiet", "1", "--out", out, NULL };
    assert_int_equal(run_colb(missing_data, err, sizeof err, 0, 0, 0), 1);
    assert_non_null(strstr(err, "missing.tsv"));
    if (access(top, F_OK) == 0)
        fail_msg("a run refused for its data left %s", top);
    /* a checkpoint in a folder that does not exist yet, the data missing */
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(ck, sizeof ck, "%s/a/b/ck.colb", dir);
    char *missing_ck[] = { "run", "--policies", "linucb-ind", "--env", "logged", "--features", "missing.tsv",
                           "--positives", "missing.tsv", "--quiet", "1", "--out", out, "--checkpoint", ck, NULL };
    assert_int_equal(run_colb(missing_ck, err, sizeof err, 0, 0, 0), 1);
    if (access(top, F_OK) == 0 || access(out, F_OK) == 0)
        fail_msg("a run refused for its data left %s or %s", top, out);
    /* a stop: the checkpoint, its folders made now */
    char *stop[] = { "run", "--policies", "linucb-ind", "--horizon", "10", "--repeats", "1", "--quiet", "1",
                     "--out", out, "--checkpoint", ck, "--stop-after", "5", NULL };
    assert_int_equal(run_colb(stop, err, sizeof err, 0, 0, 0), 0);
    if (access(ck, F_OK) != 0)
        fail_msg("a stopped run wrote no checkpoint %s: %s", ck, err);
}

/* An interrupted `colb reproduce` keeps the previous folder and report. */
static void test_reproduce_interrupted(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-outdir-XXXXXX", out[600], p[700], err[8192];
    make_tmp(dir);
    snprintf(out, sizeof out, "%s/rep", dir);
    assert_int_equal(mkdir(out, 0755), 0);
    snprintf(p, sizeof p, "%s/.colb-results", out);
    FILE *f = fopen(p, "w");
    fclose(f);
    snprintf(p, sizeof p, "%s/report.md", out);
    f = fopen(p, "w");
    fputs("# colb: the previous report\n", f);
    fclose(f);
    char *args[] = { "reproduce", "--quick", "--out", out, "fig2", NULL };
    int rc = run_colb(args, err, sizeof err, 0, 1.0, SIGINT);
    assert_int_not_equal(rc, 0);
    char *r = slurp(p, NULL);
    assert_non_null(r);
    assert_string_equal(r, "# colb: the previous report\n");
    free(r);
    assert_int_equal(count_named(out, "fig2"), 0);
}

/* `colb bench-quality --out` is a results folder like colb run's: a folder
 * of someone else's files is refused before any work and left as it was,
 * as is a name that is no folder's ("DIR/.", like "/"); a new folder gets
 * the marker, and a second run replaces it whole. */
static void test_bench_quality_out(void **state)
{
    (void)state;
    if (access("experiments/extra/quality.conf", R_OK) != 0) {
        print_message("experiments/extra/quality.conf not found (not run from the repository's root): skipped\n");
        skip();
    }
    char dir[] = "/tmp/colb-outdir-XXXXXX", out[600], p[700], err[8192];
    make_tmp(dir);
    snprintf(out, sizeof out, "%s/x", dir);
    assert_int_equal(mkdir(out, 0755), 0);
    snprintf(p, sizeof p, "%s/settings.txt", out);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("mine\n", f);
    fclose(f);
    char *args[] = { "bench-quality", "--quick", "--out", out, NULL };
    assert_int_equal(run_colb(args, err, sizeof err, 0, 0, 0), 1);
    if (!strstr(err, "not a colb results folder") || !strstr(err, out) ||
        strchr(err, '\n') != err + strlen(err) - 1)
        fail_msg("not one line refusing %s: '%s'", out, err);
    char *mine = slurp(p, NULL);
    assert_non_null(mine);
    assert_string_equal(mine, "mine\n");
    free(mine);
    assert_int_equal(count_named(out, "quality"), 0);
    /* DIR/. names no folder of its own: refused, nothing written in DIR */
    snprintf(out, sizeof out, "%s/y", dir);
    assert_int_equal(mkdir(out, 0755), 0);
    snprintf(out, sizeof out, "%s/y/.", dir);
    assert_int_equal(run_colb(args, err, sizeof err, 0, 0, 0), 1);
    assert_non_null(strstr(err, "not a usable results folder name"));
    snprintf(out, sizeof out, "%s/y", dir);
    assert_int_equal(count_named(out, ""), 2); /* . and .. */
    /* a new folder, then the same one again */
    snprintf(out, sizeof out, "%s/q", dir);
    for (int i = 0; i < 2; i++) {
        int rc = run_colb(args, err, sizeof err, 0, 0, 0);
        if (rc != 0)
            fail_msg("run %d: exit %d: '%s'", i + 1, rc, err);
        assert_int_equal(count_named(out, ".colb-results"), 1);
        assert_int_equal(count_named(out, "quality.csv"), 1);
        assert_int_equal(count_named(dir, ".q."), 0); /* no temporary folder or lock left */
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The lines of file `path` (NULL-terminated array, caller frees both);
 * none when it cannot be read. */
static char **read_lines(const char *path, size_t *n, char **text)
{
    *text = slurp(path, NULL);
    if (!*text)
        *text = calloc(1, 1);
    assert_non_null(*text);
    size_t cap = 1;
    for (const char *c = *text; *c; c++)
        cap += *c == '\n';
    char **l = calloc(cap + 1, sizeof *l);
    assert_non_null(l);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(*text, "\n", &save); t; t = strtok_r(NULL, "\n", &save))
        l[(*n)++] = t;
    return l;
}

/* The first of lines [from, to) holding both a and b, or -1. */
static long find_line(char **l, size_t from, size_t to, const char *a, const char *b)
{
    for (size_t i = from; i < to; i++)
        if (strstr(l[i], a) && (!b || strstr(l[i], b)))
            return (long)i;
    return -1;
}

/* A results folder reaches the disk before it is put in place: every file
 * and folder in it is fsynced before the rename that swaps it in, and the
 * parent folder after that rename (a power loss after the run finds
 * complete files, not empty ones). The tool runs under strace -f -y (which
 * names the file of each fsync); skipped where strace is missing or may not
 * trace. A second run replaces the folder (the exchange). */
static void test_results_reach_the_disk(void **state)
{
    (void)state;
    if (system("strace -V >/dev/null 2>&1") != 0) {
        print_message("strace not found (./scripts/install-deps installs it): skipped\n");
        skip();
    }
    /* whether strace may trace here, apart from colb: a run that fails
     * under it is a failure, not a skip (its --users 6 with --sweep users
     * was a usage error, and the test skipped) */
    if (system("strace -f -qq -o /dev/null true >/dev/null 2>&1") != 0) {
        print_message("strace cannot trace here: skipped\n");
        skip();
    }
    char dir[] = "/tmp/colb-outdir-XXXXXX", out[600], trace[600], cmd[3000], tmp[700], want[1200];
    make_tmp(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(trace, sizeof trace, "%s/trace", dir);
    for (int run = 0; run < 2; run++) {
        /* LeakSanitizer cannot run under ptrace: off in a sanitizer build */
        snprintf(cmd, sizeof cmd, "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" "
                 "strace -f -y -qq -e trace=fsync,rename,renameat,renameat2 -o %s %s run "
                 "--clusters 2 --dim 3 --arms 4 --horizon 40 --repeats 2 --policies random,linucb-ind "
                 "--sweep users=4,6 --quiet 1 --out %s >/dev/null 2>%s/stderr", trace, colb_bin(), out, dir);
        int rc = system(cmd);
        size_t n;
        char *text, **l = read_lines(trace, &n, &text);
        if (rc != 0) {
            free(l);
            free(text);
            snprintf(cmd, sizeof cmd, "%s/stderr", dir);
            char *why = slurp(cmd, NULL);
            fail_msg("run %d under strace: exit %d: %s", run + 1, rc, why ? why : "");
        }
        /* the rename that puts the folder in place: "DIR/.out.tmp.XXXXXX" -> "DIR/out" */
        snprintf(want, sizeof want, "\"%s\"", out);
        long r = -1;
        for (size_t i = 0; i < n && r < 0; i++)
            if (strstr(l[i], "rename") && strstr(l[i], want) && strstr(l[i], "/.out.tmp."))
                r = (long)i;
        if (r < 0)
            fail_msg("run %d: no rename of the results folder into place in the trace", run + 1);
        const char *q = strstr(l[r], "/.out.tmp.");
        snprintf(tmp, sizeof tmp, "%s%.*s", dir, (int)strcspn(q, "\""), q);
        /* every file of the folder, then the folder, synced before the rename */
        DIR *d = opendir(out);
        assert_non_null(d);
        struct dirent *de;
        int files = 0;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            snprintf(want, sizeof want, "<%s/%s>", tmp, de->d_name);
            if (find_line(l, 0, (size_t)r, "fsync(", want) < 0)
                fail_msg("run %d: %s was not fsynced before the folder was put in place", run + 1,
                         de->d_name);
            files++;
        }
        closedir(d);
        assert_true(files >= 5); /* summary, curves, settings, the marker, a plot's .dat and .gp */
        snprintf(want, sizeof want, "<%s>", tmp);
        long folder = find_line(l, 0, (size_t)r, "fsync(", want);
        if (folder < 0)
            fail_msg("run %d: the temporary folder %s was not fsynced before its rename", run + 1, tmp);
        snprintf(want, sizeof want, "<%s>", dir);
        if (find_line(l, (size_t)r + 1, n, "fsync(", want) < 0)
            fail_msg("run %d: the parent folder %s was not fsynced after the rename", run + 1, dir);
        free(l);
        free(text);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_runs),
        cmocka_unit_test(test_failures_keep_the_old_folder),
        cmocka_unit_test(test_lock_and_foreign_folders),
        cmocka_unit_test(test_bad_out_fails_first),
        cmocka_unit_test(test_failed_checks_make_no_folders),
        cmocka_unit_test(test_reproduce_interrupted),
        cmocka_unit_test(test_bench_quality_out),
        cmocka_unit_test(test_results_reach_the_disk),
    };
    return cmocka_run_group_tests_name("results folders", tests, NULL, NULL);
}
