/* test_cli_paths.c - the files `colb run` writes outside its results folder
 * (--feature-cache, --checkpoint) replace only colb's own: a path that
 * exists must be a regular file that is empty or starts with the format's
 * magic (COLB_LASTFM_CACHE_MAGIC, COLB_SNAPSHOT_MAGIC). A folder, a device,
 * a FIFO (never opened: the run would wait for a writer forever) or
 * someone's file (an input data file, the experiment file) is refused
 * before any work with one line, exit status 1, and left as it was; so is
 * an input inside the results folder (which a run replaces). The
 * binary is $COLB (set by make). The feature-cache cases read the Last.FM
 * data ($COLB_DATA_DIR, else ../shared/data) and are skipped without it. */
#include "spawn.h"
#include "testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIMIT_S 30.0 /* a run that takes longer waits on something: killed */

/* Run colb with the NULL-terminated `args`, killed after LIMIT_S seconds;
 * stderr into err. The exit status, or 128 + signal. */
static int run_colb(char *const args[], char *err, size_t len)
{
    return colb_spawn(args, err, len, 0, 0, 0, LIMIT_S);
}

static void make_tmp(char *dir)
{
    assert_non_null(mkdtemp(dir));
}

static void remove_tmp(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The run was refused as it should be: exit 1, within a few seconds, one
 * line on stderr naming `path` and saying `why`. */
static void refused(int rc, double seconds, const char *err, const char *path, const char *why)
{
    if (rc != 1)
        fail_msg("exit %d (%s after %.1f s), expected 1: '%s'", rc, rc >= 128 ? "killed" : "not refused",
                 seconds, err);
    if (seconds > 10.0)
        fail_msg("refused only after %.1f s", seconds);
    if (!strstr(err, path) || !strstr(err, why) || strncmp(err, "colb: ", 6) ||
        strchr(err, '\n') != err + strlen(err) - 1)
        fail_msg("not one line naming %s and saying '%s': '%s'", path, why, err);
}

/* 1 when path starts with the n bytes of magic. */
static int starts_with(const char *path, const char *magic, size_t n)
{
    size_t len = 0;
    char *b = slurp(path, &len);
    int ok = b && len >= n && memcmp(b, magic, n) == 0;
    free(b);
    return ok;
}

/* A character device like /dev/null's, made under dir (root only): 0, or
 * -1 when this user may not make one (that case is then skipped). */
static int make_device(const char *path)
{
    if (mknod(path, S_IFCHR | 0644, makedev(1, 3)) == 0)
        return 0;
    print_message("mknod %s: not permitted here, the device case is skipped\n", path);
    return -1;
}

static int still_device(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

static int still_fifo(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
}

#define LASTFM_ARGS(data, cache, out)                                                                       \
    { "run", "--env", "lastfm", "--data-dir", data, "--feature-cache", cache, "--top-users", "10",            \
      "--policies", "random", "--horizon", "10", "--repeats", "1", "--quiet", "1", "--plots", "0", "--out", \
      out, NULL }

/* --feature-cache: an input data file, a FIFO, a device and a folder are
 * refused and left as they were; a missing path, colb's own cache and an
 * empty file are used. */
static void test_feature_cache(void **state)
{
    (void)state;
    char data[1024], dir[] = "/tmp/colb-paths-XXXXXX", cache[600], out[600], src[1200], err[8192];
    lastfm_test_dir(data, sizeof data);
    make_tmp(dir);
    snprintf(out, sizeof out, "%s/out", dir);

    /* a copy of the user's input file user_artists.dat */
    snprintf(cache, sizeof cache, "%s/user_artists.dat", dir);
    snprintf(src, sizeof src, "%s/user_artists.dat", data);
    size_t n_in = 0;
    char *in = slurp(src, &n_in);
    assert_non_null(in);
    assert_int_equal(spit(cache, in, n_in), 0);
    char *a1[] = LASTFM_ARGS(data, cache, out);
    double t0 = spawn_now();
    int rc = run_colb(a1, err, sizeof err);
    refused(rc, spawn_now() - t0, err, cache, "not a colb feature cache");
    size_t n_after = 0;
    char *after = slurp(cache, &n_after);
    assert_non_null(after);
    assert_int_equal(n_after, n_in);
    assert_memory_equal(after, in, n_in);
    free(after);
    free(in);
    assert_int_not_equal(access(out, F_OK), 0); /* refused before any work */

    /* a FIFO: the run neither waits on it nor replaces it */
    snprintf(cache, sizeof cache, "%s/fifo", dir);
    assert_int_equal(mkfifo(cache, 0644), 0);
    t0 = spawn_now();
    rc = run_colb(a1, err, sizeof err);
    refused(rc, spawn_now() - t0, err, cache, "a FIFO");
    assert_true(still_fifo(cache));

    /* a device */
    snprintf(cache, sizeof cache, "%s/dev", dir);
    if (make_device(cache) == 0) {
        t0 = spawn_now();
        rc = run_colb(a1, err, sizeof err);
        refused(rc, spawn_now() - t0, err, cache, "a device");
        assert_true(still_device(cache));
    }

    /* a folder */
    snprintf(cache, sizeof cache, "%s/folder", dir);
    assert_int_equal(mkdir(cache, 0755), 0);
    t0 = spawn_now();
    rc = run_colb(a1, err, sizeof err);
    refused(rc, spawn_now() - t0, err, cache, "a folder");

    /* missing: written; then colb's own cache is read and kept */
    snprintf(cache, sizeof cache, "%s/cache/lastfm.colbfeat", dir);
    rc = run_colb(a1, err, sizeof err);
    if (rc != 0)
        fail_msg("a new cache: exit %d: '%s'", rc, err);
    assert_true(starts_with(cache, COLB_LASTFM_CACHE_MAGIC, COLB_LASTFM_CACHE_MAGIC_LEN));
    rc = run_colb(a1, err, sizeof err);
    if (rc != 0)
        fail_msg("colb's own cache: exit %d: '%s'", rc, err);

    /* an empty file (say from mktemp) holds nothing to lose: it becomes the cache */
    snprintf(cache, sizeof cache, "%s/empty", dir);
    write_file(cache, "");
    rc = run_colb(a1, err, sizeof err);
    if (rc != 0)
        fail_msg("an empty file: exit %d: '%s'", rc, err);
    assert_true(starts_with(cache, COLB_LASTFM_CACHE_MAGIC, COLB_LASTFM_CACHE_MAGIC_LEN));
    remove_tmp(dir);
}

#define STOP_ARGS(conf, ckpt, out)                                                                 \
    { "run", "-c", conf, "--stop-after", "10", "--checkpoint", ckpt, "--quiet", "1", "--plots", "0", \
      "--out", out, NULL }

static const char CONF[] = "policies = random,linucb-ind\nusers = 5\nclusters = 2\nhorizon = 200\n"
                           "repeats = 1\n";

/* --checkpoint (and the default OUT.checkpoint.colb): the experiment file,
 * someone's file, a FIFO, a device and a folder are refused and left as
 * they were; a missing path and colb's own checkpoint are written; a FIFO
 * given to --resume is refused, not waited on. */
static void test_checkpoint(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-paths-XXXXXX", conf[600], ckpt[600], out[600], err[8192];
    make_tmp(dir);
    snprintf(conf, sizeof conf, "%s/exp.conf", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    write_file(conf, CONF);

    /* the experiment file itself */
    char *a1[] = STOP_ARGS(conf, conf, out);
    double t0 = spawn_now();
    int rc = run_colb(a1, err, sizeof err);
    refused(rc, spawn_now() - t0, err, conf, "not a colb checkpoint");
    char *text = slurp(conf, NULL);
    assert_non_null(text);
    assert_string_equal(text, CONF);
    free(text);
    assert_int_not_equal(access(out, F_OK), 0); /* refused before any work */

    /* a FIFO */
    snprintf(ckpt, sizeof ckpt, "%s/fifo", dir);
    assert_int_equal(mkfifo(ckpt, 0644), 0);
    char *a2[] = STOP_ARGS(conf, ckpt, out);
    t0 = spawn_now();
    rc = run_colb(a2, err, sizeof err);
    refused(rc, spawn_now() - t0, err, ckpt, "a FIFO");
    assert_true(still_fifo(ckpt));
    /* nor is a FIFO waited on as the checkpoint to resume from */
    char *a3[] = { "run", "--resume", ckpt, "--quiet", "1", "--out", out, NULL };
    t0 = spawn_now();
    rc = run_colb(a3, err, sizeof err);
    refused(rc, spawn_now() - t0, err, ckpt, "not a regular file");
    assert_true(still_fifo(ckpt));

    /* a device */
    snprintf(ckpt, sizeof ckpt, "%s/dev", dir);
    if (make_device(ckpt) == 0) {
        t0 = spawn_now();
        rc = run_colb(a2, err, sizeof err);
        refused(rc, spawn_now() - t0, err, ckpt, "a device");
        assert_true(still_device(ckpt));
    }

    /* a folder */
    snprintf(ckpt, sizeof ckpt, "%s/folder", dir);
    assert_int_equal(mkdir(ckpt, 0755), 0);
    t0 = spawn_now();
    rc = run_colb(a2, err, sizeof err);
    refused(rc, spawn_now() - t0, err, ckpt, "a folder");

    /* the results folder itself: a stopped run would leave a file where
     * the folder goes, and every --resume would then refuse that --out */
    char *a8[] = STOP_ARGS(conf, out, out);
    t0 = spawn_now();
    rc = run_colb(a8, err, sizeof err);
    refused(rc, spawn_now() - t0, err, out, "is the results folder (--out) itself");
    assert_int_not_equal(access(out, F_OK), 0);

    /* the default checkpoint beside --out, when a file of the user's is there */
    char def[700];
    snprintf(def, sizeof def, "%s.checkpoint.colb", out);
    write_file(def, "mine\n");
    char *a4[] = { "run", "-c", conf, "--stop-after", "10", "--quiet", "1", "--plots", "0", "--out", out, NULL };
    t0 = spawn_now();
    rc = run_colb(a4, err, sizeof err);
    refused(rc, spawn_now() - t0, err, def, "not a colb checkpoint");
    text = slurp(def, NULL);
    assert_string_equal(text, "mine\n");
    free(text);
    assert_int_not_equal(access(out, F_OK), 0);

    /* missing: written; colb's own is replaced by the next stop; resumed */
    snprintf(ckpt, sizeof ckpt, "%s/run.colb", dir);
    rc = run_colb(a2, err, sizeof err);
    if (rc != 0)
        fail_msg("a new checkpoint: exit %d: '%s'", rc, err);
    assert_true(starts_with(ckpt, COLB_SNAPSHOT_MAGIC, COLB_SNAPSHOT_MAGIC_LEN));
    char *a5[] = { "run", "--resume", ckpt, "--stop-after", "20", "--quiet", "1", "--out", out, NULL };
    rc = run_colb(a5, err, sizeof err);
    if (rc != 0 || !strstr(err, "stopped at round 20"))
        fail_msg("a resumed run stopping again over its checkpoint: exit %d: '%s'", rc, err);
    char *a6[] = { "run", "--resume", ckpt, "--quiet", "1", "--out", out, NULL };
    rc = run_colb(a6, err, sizeof err);
    if (rc != 0)
        fail_msg("resume: exit %d: '%s'", rc, err);
    char summary[700];
    snprintf(summary, sizeof summary, "%s/summary.csv", out);
    assert_int_equal(access(summary, F_OK), 0);
    assert_int_equal(access(ckpt, F_OK), 0); /* named with --checkpoint: the user's to remove */

    /* an empty file (say from mktemp) holds nothing to lose */
    snprintf(ckpt, sizeof ckpt, "%s/empty", dir);
    write_file(ckpt, "");
    char *a7[] = STOP_ARGS(conf, ckpt, out);
    rc = run_colb(a7, err, sizeof err);
    if (rc != 0)
        fail_msg("an empty file: exit %d: '%s'", rc, err);
    assert_true(starts_with(ckpt, COLB_SNAPSHOT_MAGIC, COLB_SNAPSHOT_MAGIC_LEN));
    remove_tmp(dir);
}

/* --out DIR/ (a shell completes a folder's name so) is --out DIR: the
 * default checkpoint of colb run and the checkpoints of colb reproduce lie
 * beside the folder (DIR.checkpoint.colb, DIR.checkpoints), not inside it,
 * where colb run refused its own default and a resumed reproduction found a
 * folder that was not colb's. */
static void test_out_with_trailing_slash(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-paths-XXXXXX", conf[600], out[600], ckpt[700], p[800], err[8192];
    make_tmp(dir);
    snprintf(conf, sizeof conf, "%s/exp.conf", dir);
    write_file(conf, CONF);
    snprintf(out, sizeof out, "%s/out/", dir);
    snprintf(ckpt, sizeof ckpt, "%s/out.checkpoint.colb", dir);
    char *a1[] = { "run", "-c", conf, "--stop-after", "10", "--quiet", "1", "--plots", "0", "--out", out, NULL };
    int rc = run_colb(a1, err, sizeof err);
    if (rc != 0 || !strstr(err, ckpt))
        fail_msg("--stop-after with --out DIR/: exit %d: '%s'", rc, err);
    assert_true(starts_with(ckpt, COLB_SNAPSHOT_MAGIC, COLB_SNAPSHOT_MAGIC_LEN));
    char *a2[] = { "run", "--resume", ckpt, "--quiet", "1", "--out", out, NULL };
    rc = run_colb(a2, err, sizeof err);
    if (rc != 0)
        fail_msg("--resume with --out DIR/: exit %d: '%s'", rc, err);
    snprintf(p, sizeof p, "%ssummary.csv", out);
    assert_int_equal(access(p, F_OK), 0);
    assert_int_not_equal(access(ckpt, F_OK), 0); /* the default checkpoint is used up */

    /* colb reproduce, interrupted (or done), then resumed (interrupted or
     * done again: what matters is that it goes on, so the test takes a
     * second or two even under a sanitizer) */
    snprintf(out, sizeof out, "%s/rep/", dir);
    char *a3[] = { "reproduce", "--quick", "-j", "1", "--out", out, "fig1a", NULL };
    rc = colb_spawn(a3, err, sizeof err, 0, 0.5, SIGINT, LIMIT_S);
    if (rc != 0 && rc != 128 + SIGINT)
        fail_msg("reproduce --out DIR/: exit %d: '%s'", rc, err);
    snprintf(p, sizeof p, "%s.checkpoints", out);
    assert_int_not_equal(access(p, F_OK), 0);
    char *a4[] = { "reproduce", "--quick", "--resume", "-j", "1", "--out", out, "fig1a", NULL };
    rc = colb_spawn(a4, err, sizeof err, 0, 1.0, SIGINT, LIMIT_S);
    if ((rc != 0 && rc != 128 + SIGINT) || strstr(err, "not a colb results folder"))
        fail_msg("reproduce --resume --out DIR/: exit %d: '%s'", rc, err);
    remove_tmp(dir);
}

/* The default checkpoint (OUT.checkpoint.colb) is used up when a resumed
 * run completes, also when the resumes went on into another --out: the
 * run stopped into A, resumed into B and stopped again (over A's
 * checkpoint), then completed into B, and A.checkpoint.colb was left. */
static void test_resumes_into_another_out(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-paths-XXXXXX", conf[600], a[600], b[600], ckpt[700], p[800], err[8192];
    make_tmp(dir);
    snprintf(conf, sizeof conf, "%s/exp.conf", dir);
    write_file(conf, CONF);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(ckpt, sizeof ckpt, "%s.checkpoint.colb", a);
    char *a1[] = { "run", "-c", conf, "--stop-after", "10", "--quiet", "1", "--plots", "0", "--out", a, NULL };
    int rc = run_colb(a1, err, sizeof err);
    if (rc != 0 || !strstr(err, ckpt))
        fail_msg("--stop-after into a: exit %d: '%s'", rc, err);
    char *a2[] = { "run", "--resume", ckpt, "--stop-after", "20", "--quiet", "1", "--out", b, NULL };
    rc = run_colb(a2, err, sizeof err);
    if (rc != 0 || !strstr(err, ckpt))
        fail_msg("resumed into b, stopped again: exit %d: '%s'", rc, err);
    char *a3[] = { "run", "--resume", ckpt, NULL };
    rc = run_colb(a3, err, sizeof err);
    if (rc != 0)
        fail_msg("resumed to the end: exit %d: '%s'", rc, err);
    snprintf(p, sizeof p, "%s/summary.csv", b);
    assert_int_equal(access(p, F_OK), 0);
    assert_int_not_equal(access(a, F_OK), 0);
    assert_int_not_equal(access(ckpt, F_OK), 0); /* used up */
    remove_tmp(dir);
}

/* colb's checkpoint is its own however its path is spelt on resuming: a
 * run stopped into A, resumed from DIR/./A.checkpoint.colb (the same file)
 * and stopped again, then completed, removes it. The name was compared as
 * text: that resume recorded the file as named with --checkpoint, and it
 * was left. */
static void test_resume_path_spelt_otherwise(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-paths-XXXXXX", conf[600], a[600], ckpt[700], other[700], err[8192];
    make_tmp(dir);
    snprintf(conf, sizeof conf, "%s/exp.conf", dir);
    write_file(conf, CONF);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(ckpt, sizeof ckpt, "%s.checkpoint.colb", a);
    snprintf(other, sizeof other, "%s/./a.checkpoint.colb", dir);
    char *a1[] = { "run", "-c", conf, "--stop-after", "10", "--quiet", "1", "--plots", "0", "--out", a, NULL };
    int rc = run_colb(a1, err, sizeof err);
    if (rc != 0 || !strstr(err, ckpt))
        fail_msg("--stop-after into a: exit %d: '%s'", rc, err);
    char *a2[] = { "run", "--resume", other, "--stop-after", "20", "--quiet", "1", NULL };
    rc = run_colb(a2, err, sizeof err);
    if (rc != 0 || !strstr(err, other))
        fail_msg("resumed from %s, stopped again: exit %d: '%s'", other, rc, err);
    char *a3[] = { "run", "--resume", ckpt, NULL };
    rc = run_colb(a3, err, sizeof err);
    if (rc != 0)
        fail_msg("resumed to the end: exit %d: '%s'", rc, err);
    assert_int_equal(access(a, F_OK), 0);
    if (access(ckpt, F_OK) == 0)
        fail_msg("%s is left after the run completed", ckpt);
    remove_tmp(dir);
}

/* A checkpoint colb named, resumed with --checkpoint naming that file
 * (spelt otherwise) and completed, stays: --checkpoint makes it the
 * user's, as a stop of that same resume would have recorded it. It was
 * removed, as if --checkpoint had not been given. A resume without
 * --checkpoint then completes and uses it up. */
static void test_resume_with_checkpoint_keeps_it(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-paths-XXXXXX", conf[600], a[600], ckpt[700], other[700], err[8192];
    make_tmp(dir);
    snprintf(conf, sizeof conf, "%s/exp.conf", dir);
    write_file(conf, CONF);
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(ckpt, sizeof ckpt, "%s.checkpoint.colb", a);
    snprintf(other, sizeof other, "%s/./a.checkpoint.colb", dir);
    char *a1[] = { "run", "-c", conf, "--stop-after", "10", "--quiet", "1", "--plots", "0", "--out", a, NULL };
    int rc = run_colb(a1, err, sizeof err);
    if (rc != 0 || !strstr(err, ckpt))
        fail_msg("--stop-after into a: exit %d: '%s'", rc, err);
    char *a2[] = { "run", "--resume", ckpt, "--checkpoint", other, NULL };
    rc = run_colb(a2, err, sizeof err);
    if (rc != 0)
        fail_msg("resumed to the end with --checkpoint: exit %d: '%s'", rc, err);
    assert_int_equal(access(a, F_OK), 0);
    if (access(ckpt, F_OK) != 0)
        fail_msg("%s, given with --checkpoint, was removed when the run completed", ckpt);
    char *a3[] = { "run", "--resume", ckpt, NULL };
    rc = run_colb(a3, err, sizeof err);
    if (rc != 0)
        fail_msg("resumed to the end: exit %d: '%s'", rc, err);
    if (access(ckpt, F_OK) == 0)
        fail_msg("%s is left after the run completed without --checkpoint", ckpt);
    remove_tmp(dir);
}

/* Inputs inside the results folder, which a run replaces as a whole
 * (deleting them): the experiment file, logged data and a Last.FM folder
 * there are refused before any work and left as they were. */
static void test_inputs_inside_out(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-paths-XXXXXX", out[600], conf[700], f[800], pos[700], lfm[700], err[8192];
    make_tmp(dir);
    snprintf(out, sizeof out, "%s/out", dir);
    char *a0[] = { "run", "--users", "10", "--clusters", "2", "--horizon", "5", "--repeats", "1", "--plots", "0",
                   "--quiet", "1", "--out", out, NULL };
    int rc = run_colb(a0, err, sizeof err);
    if (rc != 0)
        fail_msg("a first run: exit %d: '%s'", rc, err);
    snprintf(conf, sizeof conf, "%s/exp.conf", out);
    write_file(conf, CONF);
    char *a1[] = { "run", "-c", conf, "--quiet", "1", "--plots", "0", "--out", out, NULL };
    double t0 = spawn_now();
    rc = run_colb(a1, err, sizeof err);
    refused(rc, spawn_now() - t0, err, conf, "lies inside the results folder");
    assert_int_equal(access(conf, F_OK), 0);

    snprintf(f, sizeof f, "%s/f.csv", out);
    snprintf(pos, sizeof pos, "%s/p.csv", dir);
    write_file(f, "1,0.1,0.2\n2,0.3,-0.1\n3,0.5,0.5\n");
    write_file(pos, "1,1\n2,3\n");
    char *a2[] = { "run", "--env", "logged", "--features", f, "--positives", pos, "--arms", "2", "--policies",
                   "random", "--horizon", "5", "--repeats", "1", "--quiet", "1", "--plots", "0", "--out", out, NULL };
    t0 = spawn_now();
    rc = run_colb(a2, err, sizeof err);
    refused(rc, spawn_now() - t0, err, f, "lies inside the results folder");
    assert_int_equal(access(f, F_OK), 0);

    /* a folder that holds artists.dat is a Last.FM folder (refused before it is read) */
    snprintf(lfm, sizeof lfm, "%s/lfm", out);
    assert_int_equal(mkdir(lfm, 0755), 0);
    snprintf(f, sizeof f, "%s/artists.dat", lfm);
    write_file(f, "");
    char *a3[] = { "run", "--env", "lastfm", "--data-dir", lfm, "--policies", "random", "--quiet", "1", "--plots",
                   "0", "--out", out, NULL };
    t0 = spawn_now();
    rc = run_colb(a3, err, sizeof err);
    refused(rc, spawn_now() - t0, err, lfm, "lies inside the results folder");
    assert_int_equal(access(f, F_OK), 0);
    remove_tmp(dir);
}

/* The Last.FM checks that write the feature cache come after the checks
 * that write nothing: a bad --out, or a --checkpoint that is also the
 * cache, is refused with no cache made (which the checkpoint would later
 * have replaced). */
static void test_outputs_before_the_cache(void **state)
{
    (void)state;
    char data[1024], dir[] = "/tmp/colb-paths-XXXXXX", cache[600], out[600], err[8192];
    lastfm_test_dir(data, sizeof data);
    make_tmp(dir);
    snprintf(cache, sizeof cache, "%s/c.colbfeat", dir);
    snprintf(out, sizeof out, "%s/afile", dir);
    write_file(out, "mine\n");
    char *a1[] = LASTFM_ARGS(data, cache, out);
    double t0 = spawn_now();
    int rc = run_colb(a1, err, sizeof err);
    refused(rc, spawn_now() - t0, err, out, "exists and is not a folder");
    assert_int_not_equal(access(cache, F_OK), 0);

    snprintf(out, sizeof out, "%s/out", dir);
    char *a2[] = { "run", "--env", "lastfm", "--data-dir", data, "--feature-cache", cache, "--checkpoint", cache,
                   "--stop-after", "2", "--top-users", "10", "--policies", "random", "--horizon", "10", "--repeats",
                   "1", "--quiet", "1", "--plots", "0", "--out", out, NULL };
    t0 = spawn_now();
    rc = run_colb(a2, err, sizeof err);
    refused(rc, spawn_now() - t0, err, cache, "is also the Last.FM feature cache");
    assert_int_not_equal(access(cache, F_OK), 0);
    remove_tmp(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feature_cache),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_out_with_trailing_slash),
        cmocka_unit_test(test_resumes_into_another_out),
        cmocka_unit_test(test_resume_path_spelt_otherwise),
        cmocka_unit_test(test_resume_with_checkpoint_keeps_it),
        cmocka_unit_test(test_inputs_inside_out),
        cmocka_unit_test(test_outputs_before_the_cache),
    };
    return cmocka_run_group_tests_name("files beside the results", tests, NULL, NULL);
}
