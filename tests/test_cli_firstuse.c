/* test_cli_firstuse.c - what a new user meets (issue 17, first-use
 * polish): suggestions for misspelled options, an undefined interval with
 * one repeat, plots from every colb run, a progress line per step when
 * stderr is not a terminal, one rule for --data-dir and COLB_DATA_DIR, and
 * a requested figure that cannot be made fails. The binary is $COLB. */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* `[ENV] colb ARGS` with stderr into err (stdout into out if not NULL). */
static int run(const char *env, const char *args, char *err, size_t len, char *out, size_t out_len)
{
    char cmd[4096], ofile[] = "/tmp/colb-first-out-XXXXXX";
    int ofd = mkstemp(ofile);
    assert_true(ofd >= 0);
    close(ofd);
    snprintf(cmd, sizeof cmd, "%s %s %s 2>&1 >%s", env ? env : "", colb_bin(), args, ofile);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(err, 1, len - 1, p);
    err[n] = '\0';
    int st = pclose(p);
    if (out) {
        size_t m = 0;
        char *o = slurp(ofile, &m);
        snprintf(out, out_len, "%s", o ? o : "");
        free(o);
    }
    unlink(ofile);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_suggestions(void **state)
{
    (void)state;
    char err[4096];
    assert_int_equal(run(NULL, "run --horizn 5", err, sizeof err, NULL, 0), 2);
    assert_non_null(strstr(err, "did you mean '--horizon'?"));
    assert_int_equal(run(NULL, "reproduc", err, sizeof err, NULL, 0), 2);
    assert_non_null(strstr(err, "did you mean 'reproduce'?"));
    assert_int_equal(run(NULL, "reproduce --quik", err, sizeof err, NULL, 0), 2);
    assert_non_null(strstr(err, "did you mean '--quick'?"));
    assert_int_equal(run(NULL, "reproduce --resum", err, sizeof err, NULL, 0), 2);
    assert_non_null(strstr(err, "did you mean '--resume'?"));
    /* -jN as colb run and bench-quality take it: the figure is the error */
    assert_int_equal(run(NULL, "reproduce -j1 nosuch", err, sizeof err, NULL, 0), 2);
    assert_non_null(strstr(err, "unknown figure 'nosuch'"));
    assert_int_equal(run(NULL, "reproduce -j1 -j 2 nosuch", err, sizeof err, NULL, 0), 2);
    assert_non_null(strstr(err, "option '-j' is given twice"));
    assert_int_equal(run(NULL, "run --xyzzy 1", err, sizeof err, NULL, 0), 2);
    assert_null(strstr(err, "did you mean"));
}

/* The number of lines of s (its line ends). */
static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Every subcommand reads its options one way (cli/args.h): a value as
 * `--key value` or `--key=value`, the same message either way naming the
 * value given; a flag with a value and an option without one refused; a
 * misspelled option told with the closest known one. Each is one line on
 * stderr, exit 2, before any work (no state folder, no results). */
static void test_option_forms(void **state)
{
    (void)state;
    static const struct { const char *args, *want; } cases[] = {
        /* a misspelled option, in every subcommand, in either form */
        { "run --horizn=5", "colb: unknown option '--horizn'; did you mean '--horizon'? (see colb --help)" },
        { "run --readngs paper", "did you mean '--readings'?" },
        { "run --chekpoint x.colb", "did you mean '--checkpoint'?" },
        { "run --stop-afer 3", "did you mean '--stop-after'?" },
        { "run -x", "colb: unknown option '-x' (see colb --help)" },
        { "reproduce --thread=1", "colb: unknown option '--thread'; did you mean '--threads'? "
                                  "(see colb reproduce --help)" },
        { "reproduce --data-dri /nonexistent", "did you mean '--data-dir'?" },
        { "bench-quality --repeat 3", "colb: unknown option '--repeat'; did you mean '--repeats'? "
                                      "(see colb bench-quality --help)" },
        { "bench-quality --quik", "did you mean '--quick'?" },
        { "bench-quality --confg=/nonexistent/q.conf", "did you mean '--config'?" },
        { "serve --stat /nonexistent/s", "colb serve: unknown option '--stat'; did you mean '--state'? "
                                         "(see colb serve --help)" },
        { "serve --state /nonexistent/s --polcy=cmlb", "did you mean '--policy'?" },
        { "serve --state /nonexistent/s --cmlb-alpah 1", "did you mean '--cmlb-alpha'?" },
        /* nothing close: no suggestion */
        { "serve --xyzzy 1", "colb serve: unknown option '--xyzzy' (see colb serve --help)" },
        { "bench-quality --xyzzy", "colb: unknown option '--xyzzy' (see colb bench-quality --help)" },
        { "reproduce -x", "colb: unknown option '-x' (see colb reproduce --help)" },
        /* --key=value is --key value */
        { "run --horizon=0", "horizon: '0' is not an integer" },
        { "reproduce --threads=0 fig2", "threads: '0' is not an integer" },
        { "reproduce --threads 0 fig2", "threads: '0' is not an integer" },
        { "reproduce --readings=nosuch fig2", "fig2 cannot be made with --readings nosuch" },
        { "reproduce --out=/nonexistent/r -- nosuch", "unknown figure 'nosuch'" },
        { "bench-quality --repeats=2000", "2000 is more than the quality benchmark's 1024" },
        { "bench-quality --config=/nonexistent/q.conf", "/nonexistent/q.conf: " },
        { "bench-quality --threads=2 -j2", "option '-j' is given twice (first as '--threads')" },
        { "serve --state=/nonexistent/s --max-body=1", "--max-body: '1' is less than 64" },
        { "serve --state /nonexistent/s --max-body 1", "--max-body: '1' is less than 64" },
        /* a flag takes no value, an option needs one */
        { "reproduce --quick=1", "colb: option '--quick' takes no value" },
        { "reproduce --resume=1", "colb: option '--resume' takes no value" },
        { "bench-quality --quick=1", "colb: option '--quick' takes no value" },
        { "serve --state /nonexistent/s --dump-log=1", "colb serve: option '--dump-log' takes no value" },
        { "reproduce --out", "colb: option '--out' needs a value" },
        { "bench-quality -j", "colb: option '-j' needs a value" },
        { "serve --state", "colb serve: option '--state' needs a value" },
        { "reproduce --out= fig2", "colb: option '--out' needs a value" },
        { "bench-quality --out=", "colb: option '--out' needs a value" },
        { "serve --state=", "colb serve: option '--state' needs a value" },
        /* an empty value apart is no value either: reproduce --out '' failed
         * later (exit 1, "': not a usable results folder name"), --data-dir ''
         * looked in the default folder */
        { "reproduce --out ''", "colb: option '--out' needs a value" },
        { "reproduce --data-dir '' fig1e", "colb: option '--data-dir' needs a value" },
        { "bench-quality --out ''", "colb: option '--out' needs a value" },
        { "serve --state ''", "colb serve: option '--state' needs a value" },
        { "run --help=x", "colb: option '--help' takes no value" },
        { "run --out=", "colb: out: an empty folder name" },
        { "bench-quality nosuch", "colb: unexpected argument 'nosuch' (see colb bench-quality --help)" },
    };
    char err[4096];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = run(NULL, cases[i].args, err, sizeof err, NULL, 0);
        if (rc != 2 || lines(err) != 1 || !strstr(err, cases[i].want))
            fail_msg("'colb %s': exit %d, stderr '%s' (want '%s')", cases[i].args, rc, err, cases[i].want);
    }
}

static void test_one_repeat_and_plots(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-first-XXXXXX", args[1024], err[4096], out[8192], p[600];
    assert_non_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --users 8 --clusters 2 --dim 3 --arms 4 --horizon 40 --repeats 1 "
                                "--sweep zipf=0,1 --out %s/r",
             dir);
    assert_int_equal(run(NULL, args, err, sizeof err, out, sizeof out), 0);
    /* the table says n/a, the CSV leaves the field empty */
    assert_non_null(strstr(out, "+- n/a"));
    assert_null(strstr(out, "+- 0.00"));
    snprintf(p, sizeof p, "%s/r/summary.csv", dir);
    char *csv = slurp(p, NULL);
    assert_non_null(csv);
    assert_non_null(strstr(csv, ",oracle,1,"));
    const char *row = strstr(csv, ",oracle,1,");
    const char *after_mean = strchr(row + 10, ',');
    assert_non_null(after_mean);
    assert_true(after_mean[1] == ','); /* regret_ci95 empty */
    free(csv);
    /* a progress line per setting (stderr is not a terminal here) */
    assert_non_null(strstr(err, "zipf=0 done"));
    assert_non_null(strstr(err, "ETA"));
    /* without a sweep the line names the run */
    char err1[4096];
    snprintf(args, sizeof args, "run --users 8 --clusters 2 --dim 3 --arms 4 --horizon 20 --repeats 1 "
                                "--plots 0 --out %s/n",
             dir);
    assert_int_equal(run(NULL, args, err1, sizeof err1, NULL, 0), 0);
    if (!strstr(err1, "colb: 100% run done; ") || strstr(err1, "run="))
        fail_msg("progress line without a sweep: '%s'", err1);
    /* the plots, titled from the settings */
    static const char *const files[] = { "run-default-sweep.png", "run-default-sweep.svg", "run-default-time.png",
                                         "run-default-time.svg" };
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/r/%s", dir, files[i]);
        if (access(p, R_OK) != 0)
            fail_msg("no %s", files[i]);
    }
    snprintf(p, sizeof p, "%s/r/run-default-time.gp", dir);
    char *gp = slurp(p, NULL);
    assert_non_null(gp);
    assert_non_null(strstr(gp, "clustered users: N=8"));
    /* one repeat: no interval, so no band (not one of width 0) */
    assert_non_null(strstr(gp, "no bands: 1 repeat"));
    assert_null(strstr(gp, "filledcurves"));
    free(gp);
}

/* --data-dir and COLB_DATA_DIR: the same folder rule for both. */
static void test_data_dir_rule(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-first-XXXXXX", p[700], args[1024], env[800], err[4096];
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/hetrec2011-lastfm-2k", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/hetrec2011-lastfm-2k/artists.dat", dir);
    FILE *f = fopen(p, "w");
    fputs("id\tname\turl\tpictureURL\nnot-a-number\tx\ty\tz\n", f);
    fclose(f);
    const char *expect = "hetrec2011-lastfm-2k/tags.dat"; /* found the folder, read its files */
    snprintf(args, sizeof args, "run --env lastfm --policies cmlb --data-dir %s --feature-cache %s/c.bin --out %s/o",
             dir, dir, dir);
    assert_int_equal(run(NULL, args, err, sizeof err, NULL, 0), 1);
    if (!strstr(err, expect))
        fail_msg("--data-dir: '%s'", err);
    snprintf(args, sizeof args, "run --env lastfm --policies cmlb --feature-cache %s/c.bin --out %s/o", dir, dir);
    snprintf(env, sizeof env, "COLB_DATA_DIR=%s", dir);
    assert_int_equal(run(env, args, err, sizeof err, NULL, 0), 1);
    if (!strstr(err, expect))
        fail_msg("COLB_DATA_DIR: '%s'", err);
    /* and the Last.FM folder itself works for both */
    snprintf(args, sizeof args,
             "run --env lastfm --policies cmlb --data-dir %s/hetrec2011-lastfm-2k --feature-cache %s/c.bin --out %s/o",
             dir, dir, dir);
    assert_int_equal(run(NULL, args, err, sizeof err, NULL, 0), 1);
    assert_non_null(strstr(err, expect));
}

/* A data folder whose artists.dat is a folder (or a pipe) holds the data
 * set's file in a form that cannot be read: said so, exit 1, not "Last.FM
 * data not found", for --data-dir and COLB_DATA_DIR; the same in the
 * hetrec2011-lastfm-2k folder and for its other files. colb reproduce
 * stops on it (not a figure skipped for want of data). */
static void test_data_file_not_regular(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-first-XXXXXX", p[700], args[1400], env[800], err[4096];
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/d", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/d/artists.dat", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    char want[800];
    snprintf(want, sizeof want, "colb: Last.FM data: %s/d/artists.dat is a folder, not a file\n", dir);
    snprintf(args, sizeof args, "run --env lastfm --policies cmlb --data-dir %s/d --feature-cache %s/c.bin --out %s/o",
             dir, dir, dir);
    assert_int_equal(run(NULL, args, err, sizeof err, NULL, 0), 1);
    if (strcmp(err, want))
        fail_msg("--data-dir: '%s'", err);
    snprintf(args, sizeof args, "run --env lastfm --policies cmlb --feature-cache %s/c.bin --out %s/o", dir, dir);
    snprintf(env, sizeof env, "COLB_DATA_DIR=%s/d", dir);
    assert_int_equal(run(env, args, err, sizeof err, NULL, 0), 1);
    if (strcmp(err, want))
        fail_msg("COLB_DATA_DIR: '%s'", err);
    snprintf(args, sizeof args, "reproduce --quick -j 1 --data-dir %s/d --out %s/rep fig1a fig1e", dir, dir);
    assert_int_equal(run(NULL, args, err, sizeof err, NULL, 0), 1);
    if (!strstr(err, "fig1e cannot be made: ") || !strstr(err, "artists.dat is a folder"))
        fail_msg("reproduce: '%s'", err);
    /* a pipe */
    snprintf(p, sizeof p, "%s/p", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/p/artists.dat", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    snprintf(args, sizeof args, "run --env lastfm --policies cmlb --data-dir %s/p --feature-cache %s/c.bin --out %s/o",
             dir, dir, dir);
    assert_int_equal(run(NULL, args, err, sizeof err, NULL, 0), 1);
    if (!strstr(err, "/p/artists.dat is not a regular file"))
        fail_msg("a pipe: '%s'", err);
    /* in the hetrec2011-lastfm-2k folder: the file that is a folder */
    snprintf(p, sizeof p, "%s/h/hetrec2011-lastfm-2k/tags.dat", dir);
    snprintf(args, sizeof args, "mkdir -p %s && printf 'id\\tname\\turl\\tpictureURL\\n1\\ta\\tb\\tc\\n' "
             "> %s/h/hetrec2011-lastfm-2k/artists.dat", p, dir);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args, "run --env lastfm --policies cmlb --data-dir %s/h --feature-cache %s/c.bin --out %s/o",
             dir, dir, dir);
    assert_int_equal(run(NULL, args, err, sizeof err, NULL, 0), 1);
    if (!strstr(err, "hetrec2011-lastfm-2k/tags.dat': it is a folder"))
        fail_msg("tags.dat a folder: '%s'", err);
    snprintf(args, sizeof args, "rm -rf '%s'", dir);
    assert_int_equal(system(args), 0);
}

/* A figure asked for by name that cannot be made is a failure, found
 * before any work: one line, exit status 1, no other figure run, and the
 * previous results folder (its report) stays as it was. */
static void test_requested_figure_missing(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-first-XXXXXX", args[1024], err[4096], out[1024], p[600];
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/rep", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    static const char *const names[] = { ".colb-results", "report.md" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/rep/%s", dir, names[i]);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs("previous\n", f);
        fclose(f);
    }
    snprintf(args, sizeof args, "reproduce --quick -j 1 --data-dir %s/none --out %s/rep fig1a fig1e", dir, dir);
    assert_int_equal(run(NULL, args, err, sizeof err, out, sizeof out), 1);
    if (strncmp(err, "colb: fig1e cannot be made: ", 28) || strchr(err, '\n') != err + strlen(err) - 1)
        fail_msg("not one line saying fig1e cannot be made: '%s'", err);
    assert_non_null(strstr(err, "Last.FM data not found"));
    assert_string_equal(out, ""); /* no report was written */
    snprintf(p, sizeof p, "%s/rep/report.md", dir);
    char *report = slurp(p, NULL);
    assert_non_null(report);
    assert_string_equal(report, "previous\n");
    free(report);
    snprintf(p, sizeof p, "%s/rep/fig1a", dir);
    assert_int_not_equal(access(p, F_OK), 0);
    snprintf(args, sizeof args, "rm -rf '%s'", dir);
    assert_int_equal(system(args), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggestions),
        cmocka_unit_test(test_option_forms),
        cmocka_unit_test(test_one_repeat_and_plots),
        cmocka_unit_test(test_data_dir_rule),
        cmocka_unit_test(test_requested_figure_missing),
        cmocka_unit_test(test_data_file_not_regular),
    };
    return cmocka_run_group_tests_name("first use", tests, NULL, NULL);
}
