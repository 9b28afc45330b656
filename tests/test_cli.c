/* test_cli.c - the colb tool as a user drives it: exit codes, one-line
 * errors, experiment files with line numbers, results files, and identical
 * results for any number of threads. The binary is $COLB (set by make). */
#include "testutil.h"
#include "spawn.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}


static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The standard output of shell command cmd (its first len - 1 bytes) into
 * out; the command's wait status. */
static int read_command(const char *cmd, char *out, size_t len)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    return pclose(p);
}

static void test_usage_errors(void **state)
{
    (void)state;
    char err[4096];
    static const char *bad[] = {
        "run --users 0", "run --users abc", "run --users 1e3x", "run --noise -1",
        "run --zipf nan", "run --cmlb-alpha 0.51", "run --delta 1", "run --lambda 0",
        "run --policies cmlb,nosuch", "run --nosuch 1", "run --users", "run --width sideways",
        "run --clusters 10 --users 5", "run --env personalized --policies oracle",
        "run --sweep users", "run --sweep users=10,x", "run -c /nonexistent/file.conf",
        "frobnicate", "run stray",
        /* a line break or a CR quoted back stays inside the one line */
        "run --horizon '5\n6'", "run '--hor\nizon' 5", "run -c '/nonexistent/a\nb.conf'",
        "run --title \"$(printf 'a\\rb')\"", "reproduce 'fig\n1a'", "run --config=",
        /* no blank around a number, integer or decimal (' 5' was an integer) */
        "run --users ' 5'", "run --users '5 '", "run --users '\t5'", "run --seed ' 7'", "run --noise ' 0.1'",
        "run --noise '0.1 '", "run --stop-after ' 5'", "run -j ' 2'",
        /* one value twice, -0 being 0; a figure named twice; an option that
         * is also swept (its value would be unused) */
        "run --sweep zipf=0,-0", "reproduce fig1a fig1a", "run --users 30 --sweep users=20,40",
        "run --policies recommended,cohort",
        /* text that settings.txt or an SVG plot could not carry: not UTF-8
         * (a Latin-1 byte, a UTF-16 surrogate), ' ;' (a comment in
         * experiment files), blanks around a value (trimmed there) */
        "run --title \"$(printf 'caf\\351')\"", "run --claim \"$(printf '\\355\\240\\200')\"",
        "run --title 'a ;b'", "run --title ';a'", "run --title ' a'", "run --out 'res '",
        "run --env logged --features 'd ;x.csv' --positives p.csv",
        /* Last.FM's features: at most 1000 principal components */
        "run --env lastfm --dim 1001",
        /* no command (it printed the whole usage); an empty experiment file
         * name; ranges the message states */
        "", "run --config ''", "run --stop-after 1000000000001", "bench-quality --repeats 2000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = colb_run(bad[i], err, sizeof err);
        if (rc != 2 || lines(err) != 1 || strncmp(err, "colb: ", 6) != 0)
            fail_msg("'colb %s': exit %d, stderr '%s'", bad[i], rc, err);
    }
    assert_int_equal(colb_run("run --config ''", err, sizeof err), 2);
    assert_non_null(strstr(err, "an empty file name"));
    assert_int_equal(colb_run("run --stop-after 1000000000001", err, sizeof err), 2);
    assert_non_null(strstr(err, "[1, 1e12]"));
    assert_int_equal(colb_run("bench-quality --repeats 2000", err, sizeof err), 2);
    assert_non_null(strstr(err, "2000 is more than the quality benchmark's 1024 (--repeats"));
    assert_int_equal(colb_run("bench-qualit", err, sizeof err), 2);
    assert_non_null(strstr(err, "did you mean 'bench-quality'"));
    assert_int_equal(colb_run("run --config=", err, sizeof err), 2);
    assert_non_null(strstr(err, "--config= needs a FILE"));
    assert_int_equal(colb_run("run --horizon '5\r6'", err, sizeof err), 2);
    assert_non_null(strstr(err, "horizon: '5\\r6' is not an integer"));
    assert_int_equal(colb_run("--help", err, sizeof err), 0);
    assert_int_equal(colb_run("run --help", err, sizeof err), 0);
    assert_int_equal(colb_run("--version", err, sizeof err), 0);
    /* the commands that take nothing refuse what they are given (it was
     * ignored, exit 0: `colb policies --json`, `colb --version run`) */
    static const struct {
        const char *args, *says;
    } extra[] = {
        { "policies --json", "colb: unexpected argument '--json': colb policies takes none" },
        { "--version run", "colb: unexpected argument 'run': colb --version takes none" },
        { "help rn", "colb: unexpected argument 'rn': colb help takes a command" },
        { "--help serve x", "colb: unexpected argument 'x': colb --help takes a command" },
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        int rc = colb_run(extra[i].args, err, sizeof err);
        if (rc != 2 || lines(err) != 1 || strncmp(err, extra[i].says, strlen(extra[i].says)))
            fail_msg("colb %s: exit %d, '%s'", extra[i].args, rc, err);
    }
    /* a run on a data set without --policies: the default list's oracle
     * needs true clusters, and the line says it came from the default */
    assert_int_equal(colb_run("run --env personalized --users 5 --horizon 5 --repeats 1 --out /nonexistent/x", err,
                              sizeof err), 2);
    if (lines(err) != 1 || !strstr(err, "policy 'oracle' needs --env clustered") ||
        !strstr(err, "the default --policies oracle,cmlb,linucb-ind"))
        fail_msg("'%s'", err);
    /* colb help COMMAND is that command's help */
    static char out[64 * 1024];
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s help serve", colb_bin());
    assert_int_equal(read_command(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "usage: colb serve --state DIR"));
    snprintf(cmd, sizeof cmd, "%s policies --help", colb_bin());
    assert_int_equal(read_command(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "colb policies"));
}

/* --help as another option's value is that value (`--title --help` is a
 * title), as `--title -c` is: the run runs. -0 is written 0. */
static void test_help_as_a_value(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --title --help --zipf -0 --users 5 --horizon 5 --repeats 1 --plots 0 "
             "--quiet 1 --out %s/o", dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/o/settings.txt", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    if (!strstr(t, "\ntitle = --help\n") || !strstr(t, "\nzipf = 0\n"))
        fail_msg("settings.txt:\n%s", t);
    free(t);
    remove_dir(dir);
}

/* Output that cannot be written is an error: `colb policies > FILE` on a
 * full disk (/dev/full) exits 1 with one line, not 0 with a cut list. */
static void test_stdout_errors(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    static const char *const args[] = { "policies", "--help", "--version" };
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
        char cmd[4200], err[4096];
        snprintf(cmd, sizeof cmd, "%s %s 2>&1 >/dev/full", colb_bin(), args[i]);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        size_t n = fread(err, 1, sizeof err - 1, p);
        err[n] = '\0';
        int st = pclose(p);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 1 || lines(err) != 1 ||
            !strstr(err, "colb: cannot write to standard output: No space left on device"))
            fail_msg("'colb %s > /dev/full': status %d, stderr '%s'", args[i], st, err);
    }
}

/* `colb --help` is the reference docs/experiments.md points to: every
 * option with its default as colb run applies it (not the library's) and
 * the range of a number (exact: delta's upper bound is not "1"), and every
 * option of every command in the usage lines. */
static void test_help_lists_defaults(void **state)
{
    (void)state;
    static char out[64 * 1024];
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s --help", colb_bin());
    assert_int_equal(read_command(cmd, out, sizeof out), 0);
    static const char *const want[] = {
        "rounds [1000; 1..1e+09]\n", "independent repeats [30; 1..1e+06]\n", "[oracle,cmlb,linucb-ind]\n",
        "users (env clustered, personalized only) [100; 1..2147483648]\n", "clusters (env clustered only) [4; 1..2147483648]\n",
        "context dimension, at most 1000 on Last.FM (env clustered, personalized, lastfm only) [15; 1..4096]\n",
        "arms per round [25; 1..1e+06]\n", "reward noise sd (env clustered, personalized only) [0.1; 0..1e+06]\n",
        /* and the policies that read a policy's option, and when */
        "fixed alpha (every policy but random; not with --tune 1, nor club on its own width) [fixed]\n",
        "fixed width (LinUCB alpha) (every policy but random with --width fixed; not with --tune 1, nor club "
        "on its own width) [0.25; 0..1e+06]\n",
        "confidence of OFUL(delta) (every policy but random with --width oful; cmlb, sclb, pmlb (alb-norm) "
        "with either width) [0.4; 1e-12..0.999999999999]\n",
        "ridge regulariser (every policy but random) [1; 1e-06..1e+06]\n",
        "results folder [results/run]\n", "(0, the paper) (oracle, pooled, cmlb, sclb, pmlb, oracle-batch, "
        "oracle-seq only) [1]\n", "personal learner (pmlb only) [alb-norm]\n",
        "exploration exponent, in (0, 1/2] (cmlb, sclb only) [0.2; 1e-12..0.5]\n",
        "rounds of the tuning burn-in (club with --club-tune 1) [500; 1..1e+06]\n",
        "(every policy but cohort and random) [ucb]\n",
        /* an option whose help states its default gets its range alone, or no bracket */
        "(--cmlb-threshold data) with either width) [0..1e+06]\n", "lastfm-dD.colbfeat, D = --dim) (env lastfm only)\n",
        "in either order) (club only) [0]\n",
        /* a colon inside an option's text is not the end of its ARG: the
         * text was cut there ("its prior, worth d observations) (cohort only)") */
        "  --cohort-estimate-noise 0|1        estimate the rewards' noise scale from the users' residuals at every "
        "epoch (learner-noise: its prior, worth d observations) (cohort only) [1]\n",
        "  --normalize 0|1                    scale so ||theta|| <= 1 (env personalized only) [0]\n",
        /* the usage lines name every option the commands take */
        "colb bench-quality [-c FILE] [--out DIR] [-j THREADS] [--repeats R] [--quick]",
        "[--data-dir DIR]",
        "colb run --resume FILE [-j THREADS] [--out DIR] [--checkpoint FILE] [--stop-after ROUND]",
        "(with -j, --out, --quiet, --checkpoint, --stop-after at most)",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(out, want[i]))
            fail_msg("colb --help lacks '%s'", want[i]);
    assert_null(strstr(out, "[]"));
}

static void test_experiment_file_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", path[512], err[4096], args[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/bad.conf", dir);
    static const struct { const char *text; const char *want; } cases[] = {
        { "# fine\nusers = 10\nhorizon = ten\n", ":3: horizon" },
        { "users = 10\n\nnonsense line\n", ":3:" },
        { "users = 10\n[oops]\nusers = 5\n", ":2: unknown section" },
        { "[reading a]\nusers = 5\nzipf = -1\n", ":3: zipf" },
        { "policies = cmlb\n[reading a]\nusers=4\n[reading b]\nfoo = 1\n", ":5: unknown option 'foo'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(path, cases[i].text);
        snprintf(args, sizeof args, "run -c %s --out %s/out", path, dir);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 2 || lines(err) != 1 || !strstr(err, cases[i].want))
            fail_msg("case %zu: exit %d, stderr '%s' (want '%s')", i, rc, err, cases[i].want);
    }
    /* nothing was written */
    struct stat st;
    snprintf(path, sizeof path, "%s/out", dir);
    assert_int_not_equal(stat(path, &st), 0);
}

static int exists(const char *dir, const char *name)
{
    char p[600];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

/* The wait status of child pid, which is killed (and the test failed)
 * when it runs for more than 60 s. */
static int wait_bounded(pid_t pid)
{
    int st = 0;
    for (int i = 0; i < 600; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return st;
        usleep(100000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    fail_msg("colb still running after 60 s");
    return st;
}

/* In a forked child: a small `colb run` into out, drawn by gnuplot
 * (COLB_GNUPLOT), its output to /dev/null, its stderr into file err_path
 * (NULL: /dev/null too); does not return. */
static void exec_small_run(const char *gnuplot, const char *out, const char *err_path)
{
    setenv("COLB_GNUPLOT", gnuplot, 1);
    int null = open("/dev/null", O_WRONLY);
    int err = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : null;
    dup2(null, 1);
    dup2(err, 2);
    char *args[] = { "run", "--users", "4", "--clusters", "2", "--dim", "2", "--arms", "2", "--repeats", "2",
                     "--horizon", "20", "--policies", "linucb-ind", "--quiet", "1", "--out", (char *)out, NULL };
    colb_exec(args);
}

/* A Ctrl-C at the terminal reaches the foreground process group. When it
 * comes while the plots are drawn (every job done), the run completes with
 * its results: gnuplot runs in a process group of its own, so the signal
 * does not end it and with it the run (which lost every result). The fake
 * gnuplot sends SIGINT to its parent's group, as a terminal would, then
 * draws with the real one. colb runs in a group of its own here, away from
 * the test's. */
static void test_ctrl_c_while_plotting(void **state)
{
    (void)state;
    if (access("/usr/bin/gnuplot", X_OK) != 0)
        skip();
    char dir[] = "/tmp/colb-cli-XXXXXX", fake[300], out[300];
    assert_non_null(mkdtemp(dir));
    snprintf(fake, sizeof fake, "%s/gnuplot", dir);
    /* started ahead of the plot (colb run warms gnuplot up meanwhile), it
     * reads its commands until the script's load, the plot's start, before
     * it signals; run with the script's name, it signals at once */
    write_file(fake, "#!/bin/sh\n"
                     "pgid=$(cut -d' ' -f5 /proc/$PPID/stat)\n"
                     "buf=\n"
                     "while IFS= read -r l; do buf=\"$buf$l\n\"; case \"$l\" in load*) break;; esac; done\n"
                     "[ -f \"$0.sent\" ] || { : > \"$0.sent\"; kill -INT -\"$pgid\"; sleep 0.2; }\n"
                     "{ printf '%s' \"$buf\"; cat; } | /usr/bin/gnuplot \"$@\"\n");
    assert_int_equal(chmod(fake, 0755), 0);
    snprintf(out, sizeof out, "%s/out", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        exec_small_run(fake, out, NULL);
    }
    int st = wait_bounded(pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("colb run: %s %d", WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    char sent[320];
    snprintf(sent, sizeof sent, "%s.sent", fake);
    assert_int_equal(access(sent, F_OK), 0); /* the signal was sent */
    assert_true(exists(out, "summary.csv"));
    assert_true(exists(out, "run-default-time.png"));
}

/* A relative --out whose first folder is named "~" (quoted on the command
 * line, so no shell expanded it): the plots are drawn in its temporary
 * folder "~/.res.tmp.X" as in any other. The gnuplot warmed up during the
 * run was told `cd '~/.res.tmp.X'`, which gnuplot reads as a folder in
 * $HOME: the run failed (exit 1, "Cannot load input from
 * 'run-default-time.gp'") where a gnuplot of its own (chdir) drew. */
static void test_plot_folder_named_tilde(void **state)
{
    (void)state;
    if (access("/usr/bin/gnuplot", X_OK) != 0)
        skip();
    char dir[] = "/tmp/colb-cli-XXXXXX", bin[4096], home[300], png[400];
    assert_non_null(mkdtemp(dir));
    assert_non_null(realpath(colb_bin(), bin));
    snprintf(home, sizeof home, "%s/home", dir);
    assert_int_equal(mkdir(home, 0755), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        setenv("HOME", home, 1);
        setenv("COLB", bin, 1);
        exec_small_run("/usr/bin/gnuplot", "~/res", NULL);
    }
    int st = wait_bounded(pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("colb run --out '~/res': %s %d", WIFEXITED(st) ? "exit" : "signal",
                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    snprintf(png, sizeof png, "%s/~/res", dir);
    assert_true(exists(png, "summary.csv"));
    assert_true(exists(png, "run-default-time.png"));
    assert_true(exists(png, "run-default-time.svg"));
    remove_dir(dir);
}

/* colb started with SIGCHLD ignored (a disposition a parent may leave it,
 * kept across exec): the kernel reaps its children itself, so waiting for
 * gnuplot failed with ECHILD and the whole run with it (exit 1, "colb:
 * gnuplot: waitpid: No child processes", every result lost). */
static void test_plot_with_sigchld_ignored(void **state)
{
    (void)state;
    if (access("/usr/bin/gnuplot", X_OK) != 0)
        skip();
    char dir[] = "/tmp/colb-cli-XXXXXX", out[300];
    assert_non_null(mkdtemp(dir));
    snprintf(out, sizeof out, "%s/out", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGCHLD, SIG_IGN);
        exec_small_run("/usr/bin/gnuplot", out, NULL);
    }
    int st = wait_bounded(pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("colb run with SIGCHLD ignored: %s %d", WIFEXITED(st) ? "exit" : "signal",
                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    assert_true(exists(out, "summary.csv"));
    assert_true(exists(out, "run-default-time.png"));
    remove_dir(dir);
}

/* A small `colb run` (exec_small_run) on the "gnuplot" script `script`
 * written into dir, within COLB_GNUPLOT_TIMEOUT `timeout` (NULL: the
 * default): it must exit 0 with its results kept, their plots as .dat and
 * .gp only, and one line on stderr holding each of the strings want[0..n),
 * or the test fails naming `what`. Returns the path of the fake gnuplot
 * in fake. */
static void run_on_bad_gnuplot(const char *dir, const char *script, const char *timeout, const char *what,
                               const char *const *want, size_t n, char *fake, size_t fake_len)
{
    char out[300], errf[300];
    snprintf(fake, fake_len, "%s/gnuplot", dir);
    write_file(fake, script);
    assert_int_equal(chmod(fake, 0755), 0);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(errf, sizeof errf, "%s/stderr", dir);
    time_t t0 = time(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (timeout)
            setenv("COLB_GNUPLOT_TIMEOUT", timeout, 1);
        exec_small_run(fake, out, errf);
    }
    int st = wait_bounded(pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("colb run on a gnuplot that %s: %s %d", what, WIFEXITED(st) ? "exit" : "signal",
                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    assert_true(time(NULL) - t0 < 20);
    char *err = slurp(errf, NULL);
    assert_non_null(err);
    int ok = lines(err) == 1;
    for (size_t i = 0; i < n; i++)
        ok = ok && strstr(err, want[i]);
    if (!ok)
        fail_msg("colb run on a gnuplot that %s: stderr '%s'", what, err);
    free(err);
    assert_true(exists(out, "summary.csv"));
    assert_true(exists(out, "curves.csv"));
    assert_true(exists(out, "run-default-time.gp"));
    assert_true(exists(out, "run-default-time.dat"));
    assert_false(exists(out, "run-default-time.png"));
    assert_false(exists(out, "run-default-time.svg"));
}

/* A gnuplot that hangs (it starts a child and sleeps, never reading its
 * script nor ending): colb run waited for ever. Now it kills gnuplot and
 * what gnuplot started (its process group) after COLB_GNUPLOT_TIMEOUT
 * seconds, says so in one line on stderr, and completes as without
 * gnuplot: exit 0, the results and the plot's .dat and .gp in --out, no
 * image. A COLB_GNUPLOT_TIMEOUT that is not a number of seconds is a usage
 * error before any work (exit 2, one line, no results folder). */
static void test_gnuplot_hangs(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", fake[300], kids[320], args[700];
    assert_non_null(mkdtemp(dir));
    static const char *const want[] = {
        "colb: gnuplot did not finish ",
        "run-default-time.gp within 0.5 s and was stopped (COLB_GNUPLOT_TIMEOUT sets the limit); "
        "writing the plots' data and gnuplot scripts only",
    };
    run_on_bad_gnuplot(dir, "#!/bin/sh\nsleep 1000 &\necho $! >> \"$0.kids\"\nexec sleep 1000\n", "0.5",
                       "hangs", want, 2, fake, sizeof fake);
    /* the gnuplot's child was killed with it: a zombie at most */
    snprintf(kids, sizeof kids, "%s.kids", fake);
    char *k = slurp(kids, NULL);
    assert_non_null(k);
    char stat_path[64], ps[512];
    snprintf(stat_path, sizeof stat_path, "/proc/%ld/stat", strtol(k, NULL, 10));
    free(k);
    int alive = 1;
    for (int i = 0; i < 200 && alive; i++) {
        FILE *f = fopen(stat_path, "r");
        size_t n = f ? fread(ps, 1, sizeof ps - 1, f) : 0;
        if (f)
            fclose(f);
        ps[n] = '\0';
        const char *q = strrchr(ps, ')');
        alive = f && q && q[1] == ' ' && q[2] != 'Z';
        if (alive)
            usleep(10000);
    }
    assert_false(alive);
    setenv("COLB_GNUPLOT_TIMEOUT", "abc", 1);
    snprintf(args, sizeof args, "run --users 4 --clusters 2 --horizon 5 --dim 2 --arms 2 --out %s/out2", dir);
    char e2[1024];
    int rc = colb_run(args, e2, sizeof e2);
    unsetenv("COLB_GNUPLOT_TIMEOUT");
    if (rc != 2 || lines(e2) != 1 || !strstr(e2, "colb: COLB_GNUPLOT_TIMEOUT=abc is not a number of seconds"))
        fail_msg("COLB_GNUPLOT_TIMEOUT=abc: exit %d, stderr '%s'", rc, e2);
    assert_false(exists(dir, "out2"));
    remove_dir(dir);
}

/* A gnuplot that fails (as one without the PNG terminal would: "unknown or
 * ambiguous terminal type") on a whole `colb run`: the results are kept,
 * the plots' data and scripts written, one line on stderr, exit 0 - the
 * run's work is not thrown away for its pictures. */
static void test_gnuplot_fails(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", fake[300];
    assert_non_null(mkdtemp(dir));
    static const char *const want[] = {
        "colb: gnuplot failed on ",
        "unknown or ambiguous terminal type",
        "; writing the plots' data and gnuplot scripts only",
    };
    run_on_bad_gnuplot(dir, "#!/bin/sh\ncat >/dev/null\necho '\"x.gp\" line 20: unknown or ambiguous terminal "
                            "type; type just set terminal for a list' >&2\nexit 1\n",
                       NULL, "fails", want, 3, fake, sizeof fake);
    remove_dir(dir);
}

/* A sweep of repeats: the setting column is "setting" (repeats=R), not a
 * second column named "repeats" beside the table's own, which CSV readers
 * rename or drop; the sweep plot's axis note names no single count. */
static void test_sweep_of_repeats(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", path[512], args[1024], err[4096];
    assert_non_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --users 4 --clusters 2 --horizon 5 --dim 2 --arms 3 --policies random "
             "--sweep repeats=1,2 --quiet 1 --out %s/o", dir);
    if (colb_run(args, err, sizeof err) != 0)
        fail_msg("%s: '%s'", args, err);
    snprintf(path, sizeof path, "%s/o/summary.csv", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    if (strncmp(t, "reading,setting,policy,repeats,", 31) || !strstr(t, "\ndefault,repeats=1,random,1,") ||
        !strstr(t, "\ndefault,repeats=2,random,2,"))
        fail_msg("summary.csv:\n%s", t);
    free(t);
    snprintf(path, sizeof path, "%s/o/run-default-sweep.gp", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, "set xlabel \"repeats   (bands: 95% confidence intervals; none at 1 repeat)\""));
    free(t);
    /* the text table's setting column says each count (cut to 8
     * characters, both rows said "repeats=") */
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "%s run --users 4 --clusters 2 --horizon 5 --dim 2 --arms 3 --policies random "
             "--sweep repeats=1,2 --plots 0 --out %s/o2 2>/dev/null", colb_bin(), dir);
    assert_int_equal(read_command(cmd, out, sizeof out), 0);
    if (!strstr(out, "\ndefault      repeats=1 ") || !strstr(out, "\ndefault      repeats=2 "))
        fail_msg("the table:\n%s", out);
    remove_dir(dir);
}

/* Every sweep value is checked before any work, as a setting without a
 * sweep is: a bad later value is a usage error at once (exit 2, one line
 * naming the value), not after the values before it have run; a data set
 * of a later value that is not there fails before any work too (exit 1, as
 * without a sweep). Stderr is not a terminal here, so a setting that ran
 * would have printed its progress line. */
static void test_sweep_values_checked_first(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", path[512], args[2048], err[4096];
    assert_non_null(mkdtemp(dir));
    static const char *const small = "--horizon 20 --repeats 1 --dim 2 --arms 3 --policies linucb-ind --plots 0";
    snprintf(args, sizeof args, "run %s --clusters 10 --sweep users=20,5 --out %s/a", small, dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 2 || lines(err) != 1 ||
        strcmp(err, "colb: sweep users=5: clusters (10) must not exceed users (5)\n"))
        fail_msg("bad sweep value: exit %d, stderr '%s'", rc, err);
    assert_false(exists(dir, "a"));
    /* with readings, the message names the reading too */
    snprintf(path, sizeof path, "%s/r.conf", dir);
    write_file(path, "clusters = 4\n[reading one]\n[reading two]\nsweep = users=8,3\n");
    snprintf(args, sizeof args, "run -c %s %s --out %s/a", path, small, dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 2 || lines(err) != 1 ||
        !strstr(err, "colb: reading two, sweep users=3: clusters (4) must not exceed users (3)"))
        fail_msg("bad sweep value of a reading: exit %d, stderr '%s'", rc, err);
    /* a data set of the last value is not there */
    snprintf(args, sizeof args, "run %s --users 6 --clusters 2 --sweep env=clustered,lastfm --data-dir %s/none "
             "--feature-cache %s/c.bin --out %s/b", small, dir, dir, dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 1 || lines(err) != 1 || !strstr(err, "colb: sweep env=lastfm: Last.FM data not found"))
        fail_msg("missing Last.FM data: exit %d, stderr '%s'", rc, err);
    assert_false(exists(dir, "b"));
    snprintf(path, sizeof path, "%s/f.tsv", dir);
    write_file(path, "1\t0.5\t0\n2\t0\t0.5\n3\t0.5\t0.5\n");
    snprintf(path, sizeof path, "%s/p.tsv", dir);
    write_file(path, "1\t1\n2\t2\n");
    /* (--dim is the features file's: not given) */
    snprintf(args, sizeof args, "run --horizon 20 --repeats 1 --arms 3 --policies linucb-ind --plots 0 "
             "--env logged --features %s/f.tsv --sweep positives=%s/p.tsv,%s/q.tsv "
             "--out %s/c", dir, dir, dir, dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 1 || lines(err) != 1 || !strstr(err, "/q.tsv: cannot open '") ||
        !strstr(err, "q.tsv': No such file or directory"))
        fail_msg("missing logged file: exit %d, stderr '%s'", rc, err);
    assert_false(exists(dir, "c"));
    /* a swept feature cache that is another file is refused before any
     * work, as one given alone is (the first setting used to run) */
    snprintf(path, sizeof path, "%s/victim.conf", dir);
    write_file(path, "not a cache\n");
    snprintf(args, sizeof args, "run --env lastfm --data-dir %s/none --top-users 5 --horizon 5 --repeats 1 "
             "--policies random --plots 0 --sweep feature-cache=%s/f1.colbfeat,%s/victim.conf --out %s/d", dir, dir,
             dir, dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 1 || lines(err) != 1 || !strstr(err, "sweep feature-cache=") ||
        !strstr(err, "victim.conf: exists and is not a colb feature cache"))
        fail_msg("a swept feature cache: exit %d, stderr '%s'", rc, err);
    assert_false(exists(dir, "d"));
    /* nor may a cache lie inside the results folder, which a run replaces
     * (it was written there, and then thrown away with the old folder) */
    snprintf(args, sizeof args, "run --env lastfm --data-dir %s/none --top-users 5 --horizon 5 --repeats 1 "
             "--policies random --plots 0 --feature-cache %s/e/c.colbfeat --out %s/e", dir, dir, dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 1 || lines(err) != 1 || !strstr(err, "c.colbfeat lies inside the results folder"))
        fail_msg("a feature cache inside --out: exit %d, stderr '%s'", rc, err);
}

/* args with each "DIR" replaced by dir, into out[n] */
static void with_dir(char *out, size_t n, const char *args, const char *dir)
{
    size_t k = 0;
    for (const char *a = args; *a && k + 1 < n;)
        if (!strncmp(a, "DIR", 3)) {
            k += (size_t)snprintf(out + k, n - k, "%s", dir);
            a += 3;
        } else {
            out[k++] = *a++;
        }
    out[k < n ? k : n - 1] = '\0';
}

/* An option given twice on a command line is a usage error (exit 2, one
 * line, before any work), as a key set twice in an experiment file is;
 * --resume still takes --out, -j and --quiet over the saved command line. */
static void test_options_given_once(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", path[512], args[2048], err[4096];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/x.conf", dir);
    write_file(path, "horizon = 5\n");
    static const struct { const char *args, *want; } twice[] = {
        { "--horizon 5 --sweep users=6,7 --sweep dim=2,3", "option '--sweep' is given twice" },
        { "--horizon 5 -j 1 --threads=1", "option '--threads' is given twice (first as '-j')" },
        { "--horizon 5 -j1 -j 1", "option '-j' is given twice" },
        { "--horizon 5 --horizon=6", "option '--horizon' is given twice" },
        { "-c DIR/x.conf --config=DIR/x.conf", "option '--config' is given twice (first as '-c')" },
        { "--horizon 50 --checkpoint DIR/k1 --checkpoint=DIR/k2", "option '--checkpoint' is given twice" },
        { "--horizon 50 --stop-after 2 --stop-after 3", "option '--stop-after' is given twice" },
    };
    for (size_t i = 0; i < sizeof twice / sizeof twice[0]; i++) {
        char extra[1024];
        with_dir(extra, sizeof extra, twice[i].args, dir);
        snprintf(args, sizeof args, "run --users 4 --clusters 2 --dim 2 --arms 2 --repeats 1 "
                 "--policies linucb-ind --quiet 1 --plots 0 --out %s/o %s", dir, extra);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 2 || lines(err) != 1 || strncmp(err, "colb: ", 6) || !strstr(err, twice[i].want))
            fail_msg("'%s': exit %d, stderr '%s' (want '%s')", twice[i].args, rc, err, twice[i].want);
        assert_false(exists(dir, "o"));
    }
    snprintf(args, sizeof args, "run --resume %s/k1 --resume %s/k2", dir, dir);
    assert_int_equal(colb_run(args, err, sizeof err), 2);
    assert_non_null(strstr(err, "option '--resume' is given twice"));
    snprintf(args, sizeof args, "reproduce --out %s/r --out %s/s nosuch", dir, dir);
    assert_int_equal(colb_run(args, err, sizeof err), 2);
    assert_non_null(strstr(err, "option '--out' is given twice"));
    assert_int_equal(colb_run("bench-quality -j2 -j 3 -c /nonexistent", err, sizeof err), 2);
    assert_non_null(strstr(err, "option '-j' is given twice"));
    /* colb serve too, for its own options and the policy's (no state made) */
    static const char *serve_twice[] = { "--state DIR/s1 --state=DIR/s2", "--dim 3 --dim 3",
                                         "--dump-log --dump-log", "--max-body 1M --max-body=2M" };
    for (size_t i = 0; i < sizeof serve_twice / sizeof serve_twice[0]; i++) {
        char extra[1024];
        with_dir(extra, sizeof extra, serve_twice[i], dir);
        snprintf(args, sizeof args, "serve --state %s/s0 --listen 127.0.0.1:0 %s", dir, extra);
        if (i == 0)
            snprintf(args, sizeof args, "serve --listen 127.0.0.1:0 %s", extra);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 2 || lines(err) != 1 || !strstr(err, "is given twice"))
            fail_msg("serve '%s': exit %d, stderr '%s'", serve_twice[i], rc, err);
        assert_false(exists(dir, "s0") || exists(dir, "s1") || exists(dir, "s2"));
    }
    /* on --resume, the options given with it override the saved ones */
    snprintf(args, sizeof args, "run --users 4 --clusters 2 --dim 2 --arms 2 --repeats 1 --horizon 50 "
             "--policies linucb-ind --quiet 1 --plots 0 -j 1 --out %s/p --stop-after 10 --checkpoint %s/k.colb",
             dir, dir);
    assert_int_equal(colb_run(args, err, sizeof err), 0);
    snprintf(args, sizeof args, "run --resume %s/k.colb --out %s/q --out %s/r", dir, dir, dir);
    assert_int_equal(colb_run(args, err, sizeof err), 2);
    assert_non_null(strstr(err, "option '--out' is given twice"));
    snprintf(args, sizeof args, "run --resume %s/k.colb --out %s/q -j 2", dir, dir);
    if (colb_run(args, err, sizeof err))
        fail_msg("resume with --out and -j: '%s'", err);
    assert_true(exists(dir, "q/summary.csv"));
    assert_false(exists(dir, "p"));
}

/* A small sweep with two readings through an experiment file, run with 1
 * and with 2 threads: identical CSVs (but for wall times). */
static void test_run_files_and_threads(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", path[512], err[4096], args[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/exp.conf", dir);
    write_file(path, "# test experiment\n"
                     "title = cli test\n"
                     "users = 12\nclusters = 3\ndim = 4\narms = 6\nhorizon = 60\nrepeats = 3\n"
                     "curve-points = 6\n"
                     "policies = oracle, cmlb, linucb-ind, random\n"
                     "sweep = zipf=0,1\n"
                     "[reading theory]\nwidth = oful\n"
                     "[reading practice]\nwidth = fixed\nalpha = 0.5\ncmlb-warm-start = 1\n");
    for (int j = 1; j <= 2; j++) {
        snprintf(args, sizeof args, "run -c %s -j %d --out %s/j%d --quiet 1", path, j, dir, j);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 0)
            fail_msg("exit %d: %s", rc, err);
    }
    char p1[600], p2[600];
    snprintf(p1, sizeof p1, "%s/j1/curves.csv", dir);
    snprintf(p2, sizeof p2, "%s/j2/curves.csv", dir);
    char *c1 = slurp(p1, NULL), *c2 = slurp(p2, NULL);
    assert_non_null(c1);
    assert_non_null(c2);
    assert_string_equal(c1, c2);
    /* 2 readings x 2 zipf x 4 policies x 6 points + header */
    assert_int_equal(lines(c1), 1 + 2 * 2 * 4 * 6);
    assert_non_null(strstr(c1, "practice,1,cmlb,60,"));
    free(c1);
    free(c2);
    snprintf(p1, sizeof p1, "%s/j1/summary.csv", dir);
    c1 = slurp(p1, NULL);
    assert_non_null(c1);
    assert_int_equal(lines(c1), 1 + 2 * 2 * 4);
    assert_true(strncmp(c1, "reading,zipf,policy,repeats,regret_mean,regret_ci95", 51) == 0);
    free(c1);
    snprintf(p1, sizeof p1, "%s/j1/settings.txt", dir);
    c1 = slurp(p1, NULL);
    assert_non_null(c1);
    assert_non_null(strstr(c1, "[reading practice]"));
    assert_non_null(strstr(c1, "width = fixed"));
    free(c1);
    /* settings.txt gives the noise scale the learners used: the reward
     * noise unless --learner-noise says otherwise */
    static const char *const noise[][2] = { { "--noise 0.3", "learner-noise = 0.3\n" },
                                            { "--noise 0.3 --learner-noise 0.2", "learner-noise = 0.2\n" } };
    for (size_t i = 0; i < 2; i++) { /* the OFUL radius reads it (the fixed width does not) */
        snprintf(args, sizeof args,
                 "run %s --width oful --users 8 --horizon 5 --repeats 1 --plots 0 --quiet 1 --out %s/n",
                 noise[i][0], dir);
        assert_int_equal(colb_run(args, err, sizeof err), 0);
        snprintf(p1, sizeof p1, "%s/n/settings.txt", dir);
        c1 = slurp(p1, NULL);
        assert_non_null(c1);
        if (!strstr(c1, noise[i][1]))
            fail_msg("colb %s: settings.txt lacks '%s'", args, noise[i][1]);
        free(c1);
    }
    /* no temporary files are left behind */
    snprintf(args, sizeof args, "ls %s/j1 | grep -c tmp", dir);
    FILE *p = popen(args, "r");
    char buf[16] = "";
    assert_non_null(fgets(buf, sizeof buf, p));
    pclose(p);
    assert_int_equal(atoi(buf), 0);
}

/* The done-when command of the fair comparisons: the new policies run side
 * by side with --diversify 1, and settings.txt states every policy's width. */
static void test_run_fair_policies(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(args, sizeof args,
             "run --policies oracle,sclub,locb,club,linucb-ind,oracle-batch,oracle-seq --diversify 1 "
             "--users 20 --clusters 2 --dim 4 --arms 6 --horizon 40 --repeats 2 --out %s/f --quiet 1",
             dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/f/settings.txt", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    static const char *const want[] = {
        "width.oracle = fixed alpha = 0.25; UCB; group members diversified within rounds",
        "width.sclub = fixed alpha = 0.25; UCB", "width.locb = fixed alpha = 0.25; UCB",
        "width.club = fixed alpha = 0.25; UCB", "width.linucb-ind = fixed alpha = 0.25; UCB",
        "width.oracle-batch = fixed alpha = 0.25; UCB; groups play one arm per round",
        "width.oracle-seq = fixed alpha = 0.25; UCB; users served one after another",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(t, want[i]))
            fail_msg("settings.txt lacks '%s'", want[i]);
    free(t);
    /* CLUB's own alpha is an override, and says so */
    snprintf(args, sizeof args, "run --policies club --club-alpha 0.3 --users 8 --horizon 5 --repeats 1 "
                                "--out %s/o --quiet 1", dir);
    assert_int_equal(colb_run(args, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/o/settings.txt", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, "width.club = OVERRIDE, CLUB's own: club-alpha = 0.3"));
    free(t);
    /* tuning is all or none */
    assert_int_equal(colb_run("run --tune 1 --club-tune 1", err, sizeof err), 2);
    assert_non_null(strstr(err, "choose one"));
    /* oracles need true clusters */
    assert_int_equal(colb_run("run --policies oracle-seq --env personalized", err, sizeof err), 2);
    assert_non_null(strstr(err, "oracle-seq"));
}

/* colb bench-quality --quick on three policies: the grid's rows, ratios of
 * a reference to itself of 1, and refusals of unequal footing. */
static void test_bench_quality(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/q.conf", dir);
    write_file(path, "env = clustered\nclusters = 3\ndim = 4\narms = 6\nseed = 3\n"
                     "policies = oracle, linucb-ind, sclub\n");
    snprintf(args, sizeof args, "bench-quality --quick -c %s --out %s/q -j 2", path, dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/q/quality.csv", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    /* header + 2 N x 2 z x 2 sigma x 4 policies: the file's 3 and colb's recommended
     * policy, which the benchmark adds whenever the library has it */
    assert_int_equal(lines(t), 1 + 8 * 4);
    assert_non_null(strstr(t, "\n20,0,0.1,cohort,3,"));
    assert_non_null(strstr(t, "users,zipf,noise,policy,repeats,regret_mean,regret_ci95,ratio_oracle_mean,"
                              "ratio_oracle_ci95,ratio_linucb-ind_mean,ratio_linucb-ind_ci95,wall_s"));
    assert_non_null(strstr(t, "\n20,0,0.1,oracle,3,"));
    /* linucb-ind / linucb-ind = 1 with zero width */
    char *row = strstr(t, "\n40,2,1,linucb-ind,3,");
    assert_non_null(row);
    assert_non_null(strstr(row, ",1,0,"));
    free(t);
    snprintf(path, sizeof path, "%s/q/quality.md", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, "| sclub |"));
    free(t);
    /* one repeat: the intervals are undefined, not 0 (the options given
     * as --key=value, as colb run takes them) */
    snprintf(path, sizeof path, "%s/q.conf", dir);
    snprintf(args, sizeof args, "bench-quality --quick --repeats=1 --config=%s --out=%s/q1", path, dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/q1/quality.md", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, "± n/a |"));
    assert_null(strstr(t, "± 0 |"));
    free(t);
    snprintf(path, sizeof path, "%s/q1/quality.csv", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    row = strstr(t, "\n40,2,1,linucb-ind,1,");
    assert_non_null(row);
    assert_non_null(strstr(row, ",1,,")); /* the ratio 1, its interval empty */
    free(t);
    snprintf(path, sizeof path, "%s/bad.conf", dir);
    write_file(path, "policies = club, oracle\nclub-alpha = 0.2\n");
    snprintf(args, sizeof args, "bench-quality --quick -c %s --out %s/b", path, dir);
    assert_int_equal(colb_run(args, err, sizeof err), 2);
    assert_non_null(strstr(err, "shared width"));
    /* more clusters than the grid's smallest N: the file's error, a usage
     * error naming the grid point, before any work (it was exit 1 with
     * "clusters (30) must not exceed users (20)", users the file never set) */
    write_file(path, "policies = oracle\nclusters = 30\n");
    assert_int_equal(colb_run(args, err, sizeof err), 2);
    assert_non_null(strstr(err, "at the grid's N=20 z=0 sigma=0.1: clusters (30) must not exceed users (20)"));
    snprintf(path, sizeof path, "%s/b", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    /* no reference policy: nothing to divide by (it wrote empty tables) */
    snprintf(path, sizeof path, "%s/bad.conf", dir);
    write_file(path, "policies = cmlb\n");
    assert_int_equal(colb_run(args, err, sizeof err), 2);
    assert_non_null(strstr(err, "the policies include none of the references oracle, oracle-batch, oracle-seq, "
                                "linucb-ind"));
    /* oracle the only reference: the prose names it alone, the plot divides by
     * it (it was drawn only with linucb-ind, and skipped without a word) */
    write_file(path, "env = clustered\nclusters = 3\ndim = 4\narms = 6\npolicies = oracle, cmlb\n");
    snprintf(args, sizeof args, "bench-quality --quick -c %s --out %s/o", path, dir);
    if (colb_run(args, err, sizeof err) != 0)
        fail_msg("oracle alone: %s", err);
    snprintf(path, sizeof path, "%s/o/quality.md", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, "References: `oracle` (known clusters, diversified within rounds: the reference).\n"));
    free(t);
    snprintf(path, sizeof path, "%s/o/quality-ratio.gp", dir);
    t = slurp(path, NULL);
    if (t) /* without gnuplot the plot is skipped with a notice */
        assert_non_null(strstr(t, "set ylabel \"regret / oracle's (geometric mean over z)\""));
    free(t);
    assert_int_equal(colb_run("bench-quality -c /nonexistent/q.conf", err, sizeof err), 2);
    /* without -c, from any directory: the default experiment file is built
     * in (it was read from ./experiments/extra, so failed elsewhere) */
    char bin[4096], cmd[2 * 4096 + 128];
    assert_non_null(realpath(colb_bin(), bin));
    snprintf(cmd, sizeof cmd, "cd %s && %s bench-quality --quick --out d >/dev/null 2>&1", dir, bin);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/d/quality.csv", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, "\n40,2,1,cohort,3,"));
    free(t);
    remove_dir(dir);
}

/* --cluster-sizes proportional shares all N users in proportion to l^-z
 * (the paper's wording): another environment than the default's, recorded
 * in settings.txt; refused where no clusters are drawn. */
static void test_cluster_sizes_option(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    char *sum[2];
    static const char *const rule[2] = { "one-each", "proportional" };
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "run --users 50 --clusters 10 --zipf 1 --cluster-sizes %s --horizon 20 "
                 "--repeats 2 --policies oracle --plots 0 --quiet 1 --out %s/%d", rule[k], dir, k);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 0)
            fail_msg("%s: exit %d: %s", rule[k], rc, err);
        snprintf(path, sizeof path, "%s/%d/settings.txt", dir, k);
        char *t = slurp(path, NULL);
        char want[64];
        snprintf(want, sizeof want, "\ncluster-sizes = %s\n", rule[k]);
        assert_non_null(t);
        assert_non_null(strstr(t, want));
        free(t);
        snprintf(path, sizeof path, "%s/%d/summary.csv", dir, k);
        sum[k] = slurp(path, NULL);
        assert_non_null(sum[k]);
    }
    /* the oracle's regret (the field after ",oracle,2,") differs */
    const char *a = strstr(sum[0], ",oracle,2,"), *b = strstr(sum[1], ",oracle,2,");
    assert_true(a && b && strtod(a + 10, NULL) != strtod(b + 10, NULL));
    free(sum[0]);
    free(sum[1]);
    assert_int_equal(colb_run("run --env personalized --cluster-sizes proportional", err, sizeof err), 2);
    assert_non_null(strstr(err, "only by clustered"));
    remove_dir(dir);
}

/* The ratio to the random policy is the mean of the per-repeat ratios over
 * every repeat, or undefined: one user with one positive among 3 items, 2
 * arms under the per-user protocol, 10 repeats: random's regret after round 1
 * is 0 in some repeat (probability 1 - 2^-10; the seed is fixed), where the
 * ratio is undefined, so the point has no ratio (it had the mean of the
 * other repeats' ratios, under "repeats = 10"). On the same data, more arms
 * than items is refused before any work. */
static void test_ratio_every_repeat(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f.tsv", dir);
    write_file(path, "0\t1\t0\n1\t0\t1\n2\t0.5\t0.5\n");
    snprintf(path, sizeof path, "%s/p.tsv", dir);
    write_file(path, "7\t0\n");
    snprintf(args, sizeof args, "run --env logged --features %s/f.tsv --positives %s/p.tsv --protocol per-user "
             "--arms 2 --horizon 2 --curve-points 2 --repeats 10 --seed 1 --policies linucb-ind,random "
             "--out %s/o --quiet 1", dir, dir, dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/o/curves.csv", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    const char *row = strstr(t, "\ndefault,-,linucb-ind,1,");
    assert_non_null(row);
    const char *end = strchr(row + 1, '\n');
    assert_non_null(end);
    assert_true(end - row > 2 && !strncmp(end - 2, ",,", 2)); /* ratio and its interval empty */
    free(t);
    /* more arms than items: refused before any job, in one line, and no
     * results folder is made (each job used to fail as it started) */
    snprintf(args, sizeof args, "run --env logged --features %s/f.tsv --positives %s/p.tsv --arms 4 "
             "--horizon 2 --policies linucb-ind,random --out %s/o4 --quiet 1", dir, dir, dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 1 || lines(err) != 1 || !strstr(err, "--arms 4: the data set has 3 items"))
        fail_msg("more arms than items: exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/o4", dir);
    assert_int_equal(access(path, F_OK), -1);
    /* and so in a sweep, before its first setting runs (it ran, then the
     * second failed) */
    snprintf(args, sizeof args, "run --env logged --features %s/f.tsv --positives %s/p.tsv --sweep arms=2,4 "
             "--horizon 2 --policies linucb-ind,random --out %s/o5", dir, dir, dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 1 || lines(err) != 1 || !strstr(err, "sweep arms=4: --arms 4: the data set has 3 items") ||
        strstr(err, "done"))
        fail_msg("more arms than items in a sweep: exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/o5", dir);
    assert_int_equal(access(path, F_OK), -1);
}

/* Every supplementary experiment file (experiments/extra) loads, validates
 * and runs, cut to 2 rounds of 1 repeat. */
static void test_extra_experiments_run(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], list[4096] = "", a[600], b[600];
    assert_non_null(mkdtemp(dir));
    FILE *p = popen("ls experiments/extra/*.conf experiments/fig1a.conf experiments/fig2.conf 2>/dev/null", "r");
    assert_non_null(p);
    size_t n = fread(list, 1, sizeof list - 1, p);
    list[n] = '\0';
    pclose(p);
    if (!n)
        skip(); /* not run from the repository's root */
    int files = 0;
    for (char *f = strtok(list, "\n"); f; f = strtok(NULL, "\n")) {
        snprintf(args, sizeof args, "run -c %s --horizon 2 --repeats 1 --out %s/x --quiet 1", f, dir);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 0)
            fail_msg("%s: exit %d: %s", f, rc, err);
        /* its settings.txt reads back as an experiment file, to the same
         * curves (the swept option, CLUB's own-width switch and an empty
         * sweep were written as settings an experiment file refuses) */
        snprintf(args, sizeof args, "run -c %s/x/settings.txt --out %s/y --quiet 1 --plots 0", dir, dir);
        if ((rc = colb_run(args, err, sizeof err)) != 0)
            fail_msg("%s's settings.txt read back: exit %d: %s", f, rc, err);
        snprintf(a, sizeof a, "%s/x/curves.csv", dir);
        snprintf(b, sizeof b, "%s/y/curves.csv", dir);
        char *ca = slurp(a, NULL), *cb = slurp(b, NULL);
        if (!ca || !cb || strcmp(ca, cb))
            fail_msg("%s: its settings.txt read back gives other curves", f);
        free(ca);
        free(cb);
        files++;
    }
    assert_true(files >= 9);
    remove_dir(dir);
}

/* An option of the environment that the chosen environment does not read
 * is a usage error on the command line (exit 2, one line naming the option
 * and the environment), not a setting silently ignored; one read by some
 * setting (a sweep over env) is taken. From an experiment file it is
 * tolerated, and settings.txt lists it as a comment, not as in effect. */
static void test_env_options_not_read(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    static const char *const bad[][3] = {
        { "--env personalized --zipf 1", "'--zipf' is not used by --env personalized, only by clustered", "" },
        { "--env personalized --clusters 3", "'--clusters' is not used by --env personalized", "" },
        { "--sigma-theta 0.3", "'--sigma-theta' is not used by --env clustered, only by personalized", "" },
        { "--normalize 1", "'--normalize' is not used by --env clustered", "" },
        { "--env lastfm --users 50", "'--users' is not used by --env lastfm", "--top-users" },
        { "--env logged --features f --positives p --dim 3", "'--dim' is not used by --env logged",
          "features file gives d" },
        { "--env logged --features f --positives p --noise 0.2", "'--noise' is not used by --env logged",
          "--learner-noise" },
        { "--data-dir /tmp", "'--data-dir' is not used by --env clustered, only by lastfm", "" },
        { "--features f", "'--features' is not used by --env clustered, only by logged", "" },
        { "--top-users 5", "'--top-users' is not used by --env clustered, only by lastfm, logged", "" },
        { "--env personalized --sweep zipf=0,1", "'--zipf' (swept by --sweep) is not used by --env personalized",
          "" },
        { "--sweep env=personalized,lastfm --clusters 2",
          "'--clusters' is not used by --env personalized, lastfm, only by clustered", "" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "run %s --horizon 2 --repeats 1 --out %s/x", bad[i][0], dir);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 2 || lines(err) != 1 || strncmp(err, "colb: option ", 13) || !strstr(err, bad[i][1]) ||
            !strstr(err, bad[i][2]) || !strstr(err, "leave it out"))
            fail_msg("'%s': exit %d, stderr '%s'", bad[i][0], rc, err);
        assert_false(exists(dir, "x"));
    }
    /* read by one setting of a sweep over env: taken */
    snprintf(args, sizeof args, "run --sweep env=clustered,personalized --zipf 1 --sigma-theta 0.2 --users 6 "
             "--clusters 2 --dim 2 --arms 3 --horizon 4 --repeats 1 --policies random --plots 0 --quiet 1 "
             "--out %s/s", dir);
    assert_int_equal(colb_run(args, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/s/settings.txt", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    if (!strstr(t, "\nzipf = 1\n") || !strstr(t, "\nsigma-theta = 0.2\n") ||
        !strstr(t, "\n# top-users = 0 (not used by env clustered, personalized)\n"))
        fail_msg("settings.txt of a sweep over env:\n%s", t);
    free(t);
    /* from a file: run, and marked as not in effect in settings.txt */
    snprintf(path, sizeof path, "%s/p.conf", dir);
    write_file(path, "env = personalized\nzipf = 2\nclusters = 3\nusers = 6\ndim = 2\narms = 3\n"
                     "horizon = 4\nrepeats = 1\npolicies = random\n");
    snprintf(args, sizeof args, "run -c %s --plots 0 --quiet 1 --out %s/f", path, dir);
    if (colb_run(args, err, sizeof err) != 0)
        fail_msg("a file's key its env does not read: '%s'", err);
    snprintf(path, sizeof path, "%s/f/settings.txt", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    if (!strstr(t, "\n# zipf = 2 (not used by env personalized)\n") ||
        !strstr(t, "\n# clusters = 3 (not used by env personalized)\n") || strstr(t, "\nzipf = ") ||
        !strstr(t, "\nsigma-theta = 0.1\n"))
        fail_msg("settings.txt of a personalized run:\n%s", t);
    free(t);
    remove_dir(dir);
}

/* An option of the policies that no chosen policy reads, as set, is a
 * usage error on the command line (exit 2, one line naming the option and
 * why, "leave it out"), not a setting silently ignored - these runs all
 * exited 0: an option of a policy not among --policies, a tuning's
 * burn-in without the tuning, the fixed width's alpha with the OFUL
 * radius, a sweep over an option nothing reads (identical rows). One that
 * some setting reads is taken: a swept value or another reading reads it;
 * an experiment file's top level may set it for some readings only, and
 * settings.txt writes it as a comment in the others. */
static void test_policy_options_not_read(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    static const char *const bad[][2] = {
        { "--policies linucb-ind --cmlb-alpha 0.3",
          "--cmlb-alpha is read only by cmlb, sclb, which are not among --policies (linucb-ind)" },
        { "--policies linucb-ind,random --club-alpha2 3",
          "--club-alpha2 is read only by club, which is not among --policies (linucb-ind, random)" },
        { "--policies cmlb --pmlb-learner linucb", "--pmlb-learner is read only by pmlb, which is not among" },
        { "--policies linucb-ind --locb-seeds 3", "--locb-seeds is read only by locb" },
        { "--policies oracle --cohort-soft 0", "--cohort-soft is read only by cohort" },
        { "--policies cohort --sampling ts", "--sampling is read by every policy but cohort and random, and "
          "--policies (cohort) has no other" },
        { "--policies random --alpha 0.5", "--alpha is read by every policy but random" },
        { "--policies linucb-ind --club-tune 1", "--club-tune is read only by club, which is not among" },
        { "--policies club --club-burn-in 10", "--club-burn-in is read only with --club-tune 1" },
        { "--policies club --club-tune-repeats 1", "--club-tune-repeats is read only with --club-tune 1" },
        { "--policies club --club-tune 1 --club-alpha2 3", "--club-alpha2 is not read with --club-tune 1" },
        { "--policies club --club-own-alpha 0 --club-alpha 0.3",
          "--club-alpha is not read with --club-own-alpha 0" },
        { "--policies linucb-ind --tune-burn-in 10", "--tune-burn-in is read only with --tune 1" },
        { "--policies linucb-ind --tune-repeats 1", "--tune-repeats is read only with --tune 1" },
        { "--policies linucb-ind --tune 1 --alpha 0.5", "--alpha is not read with --tune 1" },
        { "--policies linucb-ind --tune 1 --width oful", "--width is not read with --tune 1" },
        { "--policies linucb-ind --width oful --alpha 0.5",
          "--alpha is the fixed width, read only with --width fixed, and --width is oful" },
        { "--policies club,random --club-alpha 0.3 --alpha 0.5", "--alpha is not read by club on its own width" },
        { "--policies linucb-ind,oracle --delta 0.2", "--delta is read only in the OFUL radius (--width oful) and "
          "by cmlb, sclb and pmlb with --pmlb-learner alb-norm; here --width is fixed" },
        { "--policies linucb-ind --norm-bound 2", "--norm-bound is read only in the OFUL radius" },
        { "--policies cmlb --learner-noise 0.2", "--learner-noise is read only in the OFUL radius" },
        { "--policies cmlb --cmlb-gamma 0.1 --cmlb-threshold data",
          "--cmlb-threshold is read by sclb, and by cmlb only with --cmlb-gamma 0" },
        { "--policies linucb-ind --sweep cmlb-alpha=0.1,0.2",
          "--cmlb-alpha (swept by --sweep) is read only by cmlb, sclb, which are not among" },
        { "--policies linucb-ind --width oful --sweep alpha=0.1,0.2",
          "--alpha (swept by --sweep) is the fixed width" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args,
                 "run %s --users 6 --clusters 2 --dim 2 --arms 3 --horizon 2 --repeats 1 --out %s/x", bad[i][0], dir);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 2 || lines(err) != 1 || strncmp(err, "colb: --", 8) || !strstr(err, bad[i][1]) ||
            !strstr(err, "; leave it out\n"))
            fail_msg("'%s': exit %d, stderr '%s'", bad[i][0], rc, err);
        assert_false(exists(dir, "x"));
    }
    /* read by some setting: a swept value, another reading */
    static const char *const good[] = {
        "--policies linucb-ind --sweep width=oful,fixed --alpha 0.5 --delta 0.2",
        "--policies club --sweep club-tune=0,1 --club-burn-in 3 --club-tune-repeats 1",
        "--policies linucb-ind --sweep tune=0,1 --tune-burn-in 3 --tune-repeats 1",
        "--policies cmlb --sweep cmlb-gamma=0,0.1 --cmlb-threshold data",
        "--policies cmlb,linucb-ind --cmlb-alpha 0.3 --learner-noise 0.2 --cmlb-threshold data",
        "--policies club,linucb-ind --club-alpha 0.3 --alpha 0.5",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(args, sizeof args, "run %s --users 6 --clusters 2 --dim 2 --arms 3 --horizon 2 --repeats 1 "
                 "--plots 0 --quiet 1 --out %s/g", good[i], dir);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 0)
            fail_msg("'%s': exit %d, stderr '%s'", good[i], rc, err);
    }
    /* a file whose top level sets CMLB's options for one reading of two;
     * --cmlb-pstar on the command line is read by that reading too */
    snprintf(path, sizeof path, "%s/two.conf", dir);
    write_file(path, "users = 6\nclusters = 2\ndim = 2\narms = 3\nhorizon = 4\nrepeats = 1\n"
                     "cmlb-alpha = 0.3\ncmlb-c = 0.1\n[reading with]\npolicies = cmlb, random\n"
                     "[reading without]\npolicies = linucb-ind, random\n");
    snprintf(args, sizeof args, "run -c %s --cmlb-pstar 0.1 --plots 0 --quiet 1 --out %s/f", path, dir);
    if (colb_run(args, err, sizeof err) != 0)
        fail_msg("a file's CMLB options with a reading without cmlb: '%s'", err);
    snprintf(path, sizeof path, "%s/f/settings.txt", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    char *without = strstr(t, "[reading without]");
    assert_non_null(without);
    *without = '\0'; /* t: the reading with cmlb */
    if (!strstr(t, "\ncmlb-alpha = 0.3\n") || !strstr(t, "\ncmlb-pstar = 0.1\n") ||
        !strstr(t, "\n# club-alpha2 = 2 (not read by the policies of this reading)\n") ||
        !strstr(t, "\n# learner-noise = 0.1 (not read by the policies of this reading)\n") ||
        !strstr(t, "\ndelta = 0.4\n") || !strstr(t, "\nusers = 6\n"))
        fail_msg("settings.txt, reading with cmlb:\n%s", t);
    without++;
    if (!strstr(without, "\n# cmlb-alpha = 0.3 (not read by the policies of this reading)\n") ||
        !strstr(without, "\n# cmlb-c = 0.1 (not read by the policies of this reading)\n") ||
        !strstr(without, "\n# cmlb-pstar = 0.1 (not read by the policies of this reading)\n") ||
        !strstr(without, "\n# delta = 0.4 (not read by the policies of this reading)\n") ||
        strstr(without, "\ncmlb-alpha = ") || !strstr(without, "\nalpha = 0.25\n"))
        fail_msg("settings.txt, reading without cmlb:\n%s", without);
    free(t);
    /* but an option no reading's policies read is refused */
    snprintf(path, sizeof path, "%s/two.conf", dir);
    snprintf(args, sizeof args, "run -c %s --club-alpha2 3 --plots 0 --quiet 1 --out %s/x", path, dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 2 || !strstr(err, "colb: --club-alpha2 is read only by club, which is not among the policies of "
                                "the readings (cmlb, random, linucb-ind); leave it out"))
        fail_msg("--club-alpha2 with the readings' policies: exit %d, '%s'", rc, err);
    remove_dir(dir);
}

/* The paper's experiment files set some options at the top level that only
 * some readings' policies read: `colb reproduce --quick` (every figure)
 * still runs them. */
static void test_reproduce_quick_runs(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[8192];
    assert_non_null(mkdtemp(dir));
    snprintf(args, sizeof args, "reproduce --quick --out %s/r -j 2", dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("colb %s: exit %d, stderr '%s'", args, rc, err);
    assert_true(exists(dir, "r/report.md"));
    assert_true(exists(dir, "r/fig2/settings.txt"));
    remove_dir(dir);
}

/* --readings: only the named readings run, in colb reproduce (a figure
 * with none of them is skipped and reported so) and in colb run -c FILE;
 * a name nothing has, a figure named that cannot be made, and malformed
 * lists are usage errors found before any work. */
static void test_readings(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[8192], path[600];
    assert_non_null(mkdtemp(dir));
    /* a checkpoint where fig1e's would be (another run's): a reproduction
     * that skips fig1e leaves it */
    snprintf(args, sizeof args, "run --horizon 50 --repeats 1 --users 5 --stop-after 10 --quiet 1 --plots 0 "
             "--checkpoint %s/r.checkpoints/fig1e.colb --out %s/x", dir, dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("colb %s: exit %d, stderr '%s'", args, rc, err);
    snprintf(args, sizeof args, "reproduce --quick --readings colb --out %s/r -j 2", dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("colb %s: exit %d, stderr '%s'", args, rc, err);
    assert_true(exists(dir, "r.checkpoints/fig1e.colb"));
    snprintf(path, sizeof path, "%s/r/fig1a/summary.csv", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    if (!strstr(t, "\ncolb,") || strstr(t, "\npaper,"))
        fail_msg("fig1a/summary.csv of --readings colb:\n%s", t);
    free(t);
    snprintf(path, sizeof path, "%s/r/report.md", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    if (!strstr(t, "**Readings left out** (`--readings`): paper.") ||
        !strstr(t, "not run: none of its readings (multi-agent, club-protocol) is among --readings"))
        fail_msg("report.md of --readings colb:\n%s", t);
    free(t);
    assert_false(exists(dir, "r/fig1e"));

    static const struct { const char *args, *want; } bad[] = {
        { "reproduce --quick --readings nosuch", "colb: --readings: no figure to be made has a reading 'nosuch' "
                                                 "(their readings: paper, colb, multi-agent, club-protocol)\n" },
        { "reproduce --quick --readings colb fig1e",
          "colb: fig1e cannot be made with --readings colb: its readings are multi-agent, club-protocol\n" },
        { "reproduce --quick --readings paper,,colb", "colb: --readings: 'paper,,colb' is not a list of reading "
                                                      "names (NAME,NAME,...)\n" },
        { "reproduce --quick --readings paper,paper", "colb: --readings: reading 'paper' is named twice\n" },
        { "run -c experiments/fig1a.conf --readings colbx", "colb: --readings: the experiment file "
          "experiments/fig1a.conf has no reading 'colbx' (its readings: paper, colb)\n" },
        { "run --readings paper", "colb: --readings: a run without an experiment file has no reading 'paper' "
                                  "(its readings: default)\n" },
        { "run -c experiments/fig1a.conf --readings paper --readings=colb",
          "colb: option '--readings' is given twice; give each option once\n" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "%s --out %s/bad", bad[i].args, dir);
        rc = colb_run(args, err, sizeof err);
        if (rc != 2 || strcmp(err, bad[i].want))
            fail_msg("colb %s: exit %d, stderr '%s', expected 2 and '%s'", args, rc, err, bad[i].want);
        assert_false(exists(dir, "bad"));
    }

    snprintf(args, sizeof args, "run -c experiments/fig1a.conf --readings paper --sweep users=20 --repeats 2 "
             "--horizon 50 --club-burn-in 20 --plots 0 --quiet 1 --out %s/o", dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("colb %s: exit %d, stderr '%s'", args, rc, err);
    snprintf(path, sizeof path, "%s/o/summary.csv", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    if (!strstr(t, "\npaper,20,cmlb,") || strstr(t, "\ncolb,"))
        fail_msg("summary.csv of run --readings paper:\n%s", t);
    free(t);
    remove_dir(dir);
}

/* Settings share a policy's runs when every option it can read is equal
 * (config_signature): that signature is whole however long the paths in
 * it are. Cut at 8 KB, two data paths of 4,000 bytes (which a clustered
 * environment does not read) hid every learner option after them, and the
 * second value of a sweep over alpha got the first's results. */
static void test_long_paths_do_not_share_runs(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    static char conf[9000];
    int n = snprintf(conf, sizeof conf, "env = clustered\nusers = 10\nhorizon = 50\nrepeats = 2\n"
                     "policies = linucb-ind\nwidth = fixed\nsweep = alpha=0.1,3\ndata-dir = /");
    for (int i = 0; i < 4000; i++)
        conf[n++] = 'a';
    n += snprintf(conf + n, sizeof conf - (size_t)n, "\nfeature-cache = /");
    for (int i = 0; i < 4000; i++)
        conf[n++] = 'b';
    snprintf(conf + n, sizeof conf - (size_t)n, "\n");
    snprintf(path, sizeof path, "%s/long.conf", dir);
    write_file(path, conf);
    snprintf(args, sizeof args, "run -c %s --plots 0 --quiet 1 --out %s/o", path, dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/o/summary.csv", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    const char *a = strstr(t, "\ndefault,0.1,linucb-ind,2,"), *b = strstr(t, "\ndefault,3,linucb-ind,2,");
    if (!a || !b || !strncmp(a + 26, b + 24, 10))
        fail_msg("alpha = 0.1 and alpha = 3 have the same regret:\n%s", t);
    free(t);
    remove_dir(dir);
}

/* Each line of summary.csv in dir without its wall_s field (the 9th; the
 * only one a shared run may change), into a freshly allocated text. */
static char *summary_without_wall(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    char *out = malloc(strlen(t) + 1), *o = out;
    assert_non_null(out);
    int field = 0;
    for (const char *p = t; *p; p++) {
        if (*p == '\n')
            field = 0;
        else if (*p == ',')
            field++;
        if (field != 8) /* wall_s and the comma before it */
            *o++ = *p;
    }
    *o = '\0';
    free(t);
    return out;
}

/* A reading's numbers do not depend on the other readings of its file:
 * `colb run` shares a policy's run between settings only when they give it
 * the same results - also when `protocol = auto` resolves differently for
 * the readings' policies, and when one reading runs `random` beside it (its
 * ratios) and the other does not. Every line of each reading run alone
 * (--readings) is in the whole file's summary.csv, wall times aside. */
static void test_shared_runs_match_own_runs(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f.tsv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 40; i++) /* 40 items, 3 features */
        fprintf(f, "%d\t%g\t%g\t%g\n", i, (i % 7) / 7.0, (i % 5) / 5.0, (i % 3) / 3.0);
    fclose(f);
    snprintf(path, sizeof path, "%s/p.tsv", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    for (int u = 0; u < 12; u++) /* 12 users, 4 positives each */
        for (int k = 0; k < 4; k++)
            fprintf(f, "%d\t%d\n", 100 + u, (u * 3 + k * 7) % 40);
    fclose(f);
    static const char *const confs[][2] = {
        { "protocol", "env = logged\nfeatures = f.tsv\npositives = p.tsv\nhorizon = 30\nrepeats = 2\narms = 8\n"
                      "[reading a]\npolicies = club, random\n[reading b]\npolicies = club, cmlb, random\n" },
        { "random", "env = clustered\nusers = 12\nhorizon = 30\nrepeats = 2\npolicies = linucb-ind\n"
                    "[reading a]\n[reading b]\npolicies = linucb-ind, random\n" },
    };
    for (size_t i = 0; i < sizeof confs / sizeof confs[0]; i++) {
        char text[1024]; /* the data files' paths made absolute */
        snprintf(text, sizeof text, "%s", confs[i][1]);
        for (char *at; (at = strstr(text, " = f.tsv")) || (at = strstr(text, " = p.tsv"));) {
            char rest[1024];
            snprintf(rest, sizeof rest, "%s", at + 3);
            snprintf(at, sizeof text - (size_t)(at - text), " = %s/%s", dir, rest);
        }
        snprintf(path, sizeof path, "%s/%s.conf", dir, confs[i][0]);
        write_file(path, text);
        snprintf(args, sizeof args, "run -c %s --plots 0 --quiet 1 --out %s/all", path, dir);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 0)
            fail_msg("%s: exit %d: %s", confs[i][0], rc, err);
        snprintf(path, sizeof path, "%s/all", dir);
        char *all = summary_without_wall(path);
        static const char *const readings[] = { "a", "b" };
        for (size_t r = 0; r < 2; r++) {
            snprintf(args, sizeof args, "run -c %s/%s.conf --readings %s --plots 0 --quiet 1 --out %s/one", dir,
                     confs[i][0], readings[r], dir);
            rc = colb_run(args, err, sizeof err);
            if (rc != 0)
                fail_msg("%s --readings %s: exit %d: %s", confs[i][0], readings[r], rc, err);
            snprintf(path, sizeof path, "%s/one", dir);
            char *one = summary_without_wall(path);
            for (char *line = strchr(one, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
                char *end = strchr(line + 1, '\n');
                size_t n = end ? (size_t)(end - line) + 1 : strlen(line);
                char want[1024];
                snprintf(want, sizeof want, "%.*s", (int)n, line);
                if (!strstr(all, want))
                    fail_msg("%s: reading %s alone has the row\n%s\nwhich the whole file's run lacks:\n%s",
                             confs[i][0], readings[r], want + 1, all);
            }
            free(one);
        }
        free(all);
    }
    remove_dir(dir);
}

/* What a run writes names each setting by what it ran: readings that
 * sweep different keys share a `setting` column of KEY=VALUE (it was named
 * after the first reading's key, and reading b's zipf values read as
 * users); a plot's title comes from its own reading's settings (reading b's
 * personalized users were titled from reading a's clustered ones);
 * settings.txt's width lines follow a sweep that changes a policy's
 * exploration (CLUB on its own width at each club-alpha, the fixed width
 * at each alpha; they gave the base's). */
static void test_outputs_name_settings(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/r.conf", dir);
    write_file(path, "horizon = 10\nrepeats = 2\nusers = 6\nclusters = 2\npolicies = linucb-ind\n"
                     "[reading a]\nsweep = users=6,8\n[reading b]\nsweep = zipf=0,1\n"
                     "[reading c]\nenv = personalized\nusers = 7\n");
    snprintf(args, sizeof args, "run -c %s --plots 0 --quiet 1 --out %s/o", path, dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    static const char *const want[][2] = {
        { "summary.csv", "reading,setting,policy," }, { "summary.csv", "\na,users=8,linucb-ind," },
        { "summary.csv", "\nb,zipf=1,linucb-ind," }, { "summary.csv", "\nc,-,linucb-ind," },
        { "curves.csv", "\nb,zipf=0,linucb-ind,10," },
        { "run-c-time.gp", "set title \"personalized users: N=7, spread 0.1," },
        { "run-a-sweep.gp", "set title \"clustered users: N=6,8, L=2," },
        { "run-a-time.gp", "set title \"clustered users: N=8, L=2," },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        snprintf(path, sizeof path, "%s/o/%s", dir, want[i][0]);
        char *t = slurp(path, NULL);
        if (!t || !strstr(t, want[i][1]))
            fail_msg("%s lacks '%s':\n%s", want[i][0], want[i][1], t ? t : "(none)");
        free(t);
    }
    snprintf(args, sizeof args, "run --users 6 --horizon 5 --repeats 2 --policies club,linucb-ind --sweep "
             "club-alpha=0.5,1 --plots 0 --quiet 1 --out %s/w", dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("club-alpha sweep: exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/w/settings.txt", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    if (!strstr(t, "\n# width.club = OVERRIDE, CLUB's own: club-alpha = 0.5,") ||
        !strstr(t, "updates at once (at club-alpha=1)\n") || !strstr(t, "\n# width.linucb-ind = fixed alpha = 0.25; UCB\n"))
        fail_msg("settings.txt of a club-alpha sweep:\n%s", t);
    free(t);
    /* what varies by setting is not written as a setting in effect: the
     * swept option's base value, a learner noise that follows the swept
     * noise; nor is the unset memory budget (0, which reads back as an
     * error) */
    snprintf(args, sizeof args, "run --users 6 --horizon 5 --repeats 2 --policies cohort --sweep noise=0.1,1 "
             "--plots 0 --quiet 1 --out %s/n", dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("noise sweep: exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/n/settings.txt", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    if (!strstr(t, "\n# noise = 0.1 (swept: see sweep)\n") || strstr(t, "\nnoise =") ||
        !strstr(t, "\n# learner-noise = 0.1 (not set: the noise of each setting, 1/2 on data sets)\n") ||
        strstr(t, "\nlearner-noise =") || !strstr(t, "\n# max-memory = (not set: 80% of the available memory)\n") ||
        strstr(t, "\nmax-memory ="))
        fail_msg("settings.txt of a noise sweep:\n%s", t);
    free(t);
    /* and it reads back as an experiment file: the same curves */
    snprintf(args, sizeof args, "run -c %s/n/settings.txt --plots 0 --quiet 1 --out %s/n2", dir, dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("settings.txt read back: exit %d: %s", rc, err);
    char p2[600];
    snprintf(path, sizeof path, "%s/n/curves.csv", dir);
    snprintf(p2, sizeof p2, "%s/n2/curves.csv", dir);
    char *c1 = slurp(path, NULL), *c2 = slurp(p2, NULL);
    assert_non_null(c1);
    assert_non_null(c2);
    assert_string_equal(c1, c2);
    free(c1);
    free(c2);
    remove_dir(dir);
}

/* settings.txt of a run on a data set records what the data gave - its
 * users (after --top-users), the features' dimension, its items, and the
 * protocol `auto` chose - as comments (no option sets them; the options'
 * lines stay as they were), per setting when a sweep makes several. */
static void test_settings_from_logged_data(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f.tsv", dir);
    write_file(path, "0\t1\t0\t0\n1\t0\t1\t0\n2\t0\t0\t1\n3\t0.5\t0.5\t0\n");
    snprintf(path, sizeof path, "%s/p.tsv", dir);
    write_file(path, "7\t0\n8\t1\n8\t2\n9\t3\n");
    snprintf(args, sizeof args, "run --env logged --features %s/f.tsv --positives %s/p.tsv --arms 2 --horizon 2 "
             "--repeats 1 --policies linucb-ind --plots 0 --quiet 1 --out %s/o", dir, dir, dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/o/settings.txt", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    static const char *const want[] = {
        "\n# what the run took from the data set (recorded here, not options)\n# users = 3 (from the data)\n"
        "# dim = 3 (from the data)\n# items = 4 (from the data)\n# protocol = shared (auto chose it)\n",
        "\n# users = 100 (not used by env logged)\n", "\n# dim = 15 (not used by env logged)\n",
        "\nprotocol = auto\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(t, want[i]))
            fail_msg("settings.txt lacks '%s':\n%s", want[i] + 1, t);
    free(t);
    /* a sweep: one block per setting, named by its value; a protocol given
     * is not repeated */
    snprintf(args, sizeof args, "run --env logged --features %s/f.tsv --positives %s/p.tsv --arms 2 --horizon 2 "
             "--repeats 1 --policies random --protocol per-user --sweep top-users=1,0 --plots 0 --quiet 1 "
             "--out %s/s", dir, dir, dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("sweep: exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/s/settings.txt", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    if (!strstr(t, "\n# users = 1 (from the data, at top-users=1)\n# dim = 3 (from the data, at top-users=1)\n") ||
        !strstr(t, "\n# users = 3 (from the data, at top-users=0)\n") || strstr(t, "auto chose"))
        fail_msg("settings.txt of a sweep over top-users:\n%s", t);
    free(t);
    /* synthetic users: nothing from data */
    snprintf(args, sizeof args, "run --users 4 --clusters 2 --dim 2 --arms 2 --horizon 2 --repeats 1 "
             "--policies random --plots 0 --quiet 1 --out %s/c", dir);
    assert_int_equal(colb_run(args, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/c/settings.txt", dir);
    t = slurp(path, NULL);
    assert_non_null(t);
    assert_null(strstr(t, "from the data"));
    free(t);
    remove_dir(dir);
}

/* A data set's faults stop a run before any work: features wider than the
 * policies' d x d matrices take (4096) in the second setting of a sweep
 * (random alone takes them); a damaged Last.FM copy under a reproduction
 * of every figure (the figures before Figure 1(e) used to run first; the
 * copy needs the Last.FM files, COLB_DATA_DIR: skipped without them). */
static void test_data_checked_first(void **state)
{
    (void)state;
    char data[1024], dir[] = "/tmp/colb-cli-XXXXXX", args[4096], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f.csv", dir);
    write_file(path, "1,0.1,0.2\n2,0.3,-0.1\n3,0.5,0.5\n");
    snprintf(path, sizeof path, "%s/p.csv", dir);
    write_file(path, "1,1\n2,3\n");
    snprintf(path, sizeof path, "%s/wide.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 1; i <= 3; i++) {
        fprintf(f, "%d", i);
        for (int j = 0; j < 4097; j++)
            fprintf(f, ",%d", (i + j) % 2);
        fputc('\n', f);
    }
    fclose(f);
    snprintf(args, sizeof args, "run --env logged --arms 2 --policies linucb-ind,random --sweep features=%s/f.csv,"
             "%s/wide.csv --positives %s/p.csv --horizon 100000 --repeats 4 --plots 0 --quiet 1 --out %s/o", dir,
             dir, dir, dir);
    double t0 = spawn_now();
    int rc = colb_run(args, err, sizeof err);
    if (rc != 1 || !strstr(err, "4097 dimensions") || spawn_now() - t0 > 10.0 || lines(err) != 1)
        fail_msg("a sweep into 4097 features: exit %d after %.1f s: %s", rc, spawn_now() - t0, err);
    snprintf(path, sizeof path, "%s/o", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    snprintf(args, sizeof args, "run --env logged --arms 2 --policies random --features %s/wide.csv --positives "
             "%s/p.csv --horizon 2 --repeats 1 --plots 0 --quiet 1 --out %s/o", dir, dir, dir);
    rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("random on 4097 features: exit %d: %s", rc, err);

    lastfm_test_dir(data, sizeof data);
    snprintf(args, sizeof args, "mkdir %s/lfm && cp '%s'/*.dat %s/lfm/ && chmod u+w %s/lfm/* && "
             "head -c 1000000 %s/lfm/artists.dat > %s/x && mv %s/x %s/lfm/artists.dat", dir, data, dir, dir, dir,
             dir, dir, dir);
    assert_int_equal(system(args), 0);
    snprintf(args, sizeof args, "reproduce --quick -j 2 --data-dir %s/lfm --out %s/r", dir, dir);
    t0 = spawn_now();
    rc = colb_run(args, err, sizeof err);
    if (rc != 1 || !strstr(err, "fig1e cannot be made") || spawn_now() - t0 > 10.0 || lines(err) != 1)
        fail_msg("a reproduction with damaged Last.FM files: exit %d after %.1f s: %s", rc, spawn_now() - t0, err);
    snprintf(path, sizeof path, "%s/r", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    remove_dir(dir);
}

/* The same for Last.FM (skipped without its files; COLB_DATA_DIR): its
 * 1892 users and 17632 artists, the --dim of its features; with a sweep
 * over env, only the Last.FM setting has them. */
static void test_settings_from_lastfm(void **state)
{
    (void)state;
    char data[1024], dir[] = "/tmp/colb-cli-XXXXXX", args[4096], err[4096], path[600];
    lastfm_test_dir(data, sizeof data);
    assert_non_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --sweep env=clustered,lastfm --clusters 2 --data-dir '%s' --feature-cache "
             "%s/c.colbfeat --dim 4 --horizon 2 --repeats 1 --policies random --plots 0 --quiet 1 --out %s/o",
             data, dir, dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/o/settings.txt", dir);
    char *t = slurp(path, NULL);
    assert_non_null(t);
    if (!strstr(t, "\n# users = 1892 (from the data, at env=lastfm)\n# dim = 4 (from the data, at env=lastfm)\n"
                   "# items = 17632 (from the data, at env=lastfm)\n# protocol = per-user (auto chose it, at env=lastfm)\n") ||
        strstr(t, "at env=clustered"))
        fail_msg("settings.txt of a sweep env=clustered,lastfm:\n%s", t);
    free(t);
    remove_dir(dir);
}

/* The line per finished setting (stderr not a terminal) names the setting:
 * the reading when there are several, the swept value, else "run" - not
 * "run=" as it said after a setting without a sweep. */
static void test_progress_lines(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[1024], err[4096], path[600];
    assert_non_null(mkdtemp(dir));
    static const char *const small = "--users 5 --clusters 2 --dim 2 --arms 3 --horizon 3 --repeats 1 "
                                     "--policies random --plots 0";
    snprintf(path, sizeof path, "%s/r.conf", dir);
    write_file(path, "[reading a]\n[reading b]\nseed = 2\n");
    static const char *const runs[][3] = {
        { "", "colb: 100% run done; ", NULL },
        { "--sweep zipf=0,1", "colb:  50% zipf=0 done; ", "colb: 100% zipf=1 done; " },
        { "-c R", "colb:  50% a done; ", "colb: 100% b done; " },
        { "-c R --sweep zipf=0,1", "colb:  25% a zipf=0 done; ", "colb: 100% b zipf=1 done; " },
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        snprintf(args, sizeof args, "run %s %s --out %s/o", small, strncmp(runs[i][0], "-c R", 4) ? runs[i][0] : "",
                 dir);
        if (!strncmp(runs[i][0], "-c R", 4))
            snprintf(args + strlen(args), sizeof args - strlen(args), " -c %s %s", path, runs[i][0] + 4);
        assert_int_equal(colb_run(args, err, sizeof err), 0);
        if (!strstr(err, runs[i][1]) || (runs[i][2] && !strstr(err, runs[i][2])) || strstr(err, "= done") ||
            strstr(err, "run="))
            fail_msg("'%s': stderr '%s'", runs[i][0], err);
    }
    remove_dir(dir);
}

/* An option's value is the argument after it, whatever it starts with:
 * `--title -c` is the title "-c" (the scan for the experiment file took it
 * for -c and read the next argument as the file), `--title --resume` the
 * title "--resume" (taken for --resume), as `--title=-c` is; a run stopped
 * with them resumes with them. */
static void test_values_that_look_like_options(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", args[2048], err[4096], path[600], conf[600];
    assert_non_null(mkdtemp(dir));
    static const char *const small = "--users 5 --clusters 2 --dim 2 --arms 3 --horizon 30 --repeats 1 "
                                     "--policies random --plots 0 --quiet 1";
    static const char *const titles[][2] = {
        { "--title -c", "-c" }, { "--title=-c", "-c" }, { "--title --resume", "--resume" },
        { "--title --checkpoint", "--checkpoint" }, { "--title -- ", "--" }, { "--claim -j", "-j" },
    };
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++) {
        snprintf(args, sizeof args, "run %s %s --out %s/o", titles[i][0], small, dir);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 0)
            fail_msg("'%s': exit %d, stderr '%s'", titles[i][0], rc, err);
        snprintf(path, sizeof path, "%s/o/settings.txt", dir);
        char *t = slurp(path, NULL), want[64];
        assert_non_null(t);
        snprintf(want, sizeof want, "\n%s = %s\n", strncmp(titles[i][0], "--claim", 7) ? "title" : "claim",
                 titles[i][1]);
        if (!strstr(t, want))
            fail_msg("'%s': settings.txt lacks '%s'", titles[i][0], want + 1);
        free(t);
    }
    /* with an experiment file (-c FILE, and -cFILE as -jN), stopped and resumed */
    snprintf(conf, sizeof conf, "%s/e.conf", dir);
    write_file(conf, "seed = 5\n");
    for (int joined = 0; joined < 2; joined++) {
        snprintf(args, sizeof args, "run --title -c -c%s%s %s --out %s/r%d --stop-after 10 --checkpoint %s/r%d.colb",
                 joined ? "" : " ", conf, small, dir, joined, dir, joined);
        if (colb_run(args, err, sizeof err) != 0 || !strstr(err, "stopped at round 10"))
            fail_msg("-c%sFILE, stopped: '%s'", joined ? "" : " ", err);
        snprintf(args, sizeof args, "run --resume %s/r%d.colb --quiet 1", dir, joined);
        if (colb_run(args, err, sizeof err) != 0)
            fail_msg("-c%sFILE, resumed: '%s'", joined ? "" : " ", err);
        snprintf(path, sizeof path, "%s/r%d/settings.txt", dir, joined);
        char *t = slurp(path, NULL);
        assert_non_null(t);
        assert_non_null(strstr(t, "\ntitle = -c\n"));
        assert_non_null(strstr(t, "\nseed = 5\n"));
        free(t);
    }
    remove_dir(dir);
}

/* The embedding example (examples/online.c) runs and finds the 3 groups. */
static void test_online_example(void **state)
{
    (void)state;
    char cmd[1100], out[4096];
    snprintf(cmd, sizeof cmd, "dir=$(dirname %s); $dir/examples/online", colb_bin());
    assert_int_equal(read_command(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "clusters found: 3 (true: 3)"));
}

/* A COLB_KERNEL that names no path this CPU runs is refused before any
 * work, in one line naming it, by every command that computes (a run used
 * to fail its jobs with "invalid argument", a service its every choose);
 * help and the policy list still answer. */
static void test_kernel_unusable(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-cli-XXXXXX", err[4096], cmd[600];
    assert_non_null(mkdtemp(dir));
    setenv("COLB_KERNEL", "avx9000", 1);
    snprintf(cmd, sizeof cmd, "serve --state %s/kernel-state --dim 5", dir);
    const char *const cmds[] = { "run --users 10 --horizon 10 --repeats 1 --plots 0 --out /nonexistent/x",
                                 "reproduce --quick --out /nonexistent/x", "bench-quality --quick --out /nonexistent/x",
                                 cmd };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        int st = colb_run(cmds[i], err, sizeof err);
        if (st != 2 || lines(err) != 1 || !strstr(err, "COLB_KERNEL=avx9000"))
            fail_msg("colb %s under COLB_KERNEL=avx9000: status %d, stderr '%s'", cmds[i], st, err);
    }
    assert_int_equal(colb_run("run --help", err, sizeof err), 0);
    assert_int_equal(colb_run("policies", err, sizeof err), 0);
    unsetenv("COLB_KERNEL");
    snprintf(cmd, sizeof cmd, "%s/kernel-state", dir);
    assert_int_equal(access(cmd, F_OK), -1); /* no state was made */
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_data_checked_first),
        cmocka_unit_test(test_help_as_a_value),
        cmocka_unit_test(test_stdout_errors),
        cmocka_unit_test(test_help_lists_defaults),
        cmocka_unit_test(test_experiment_file_errors),
        cmocka_unit_test(test_sweep_of_repeats),
        cmocka_unit_test(test_sweep_values_checked_first),
        cmocka_unit_test(test_options_given_once),
        cmocka_unit_test(test_run_files_and_threads),
        cmocka_unit_test(test_run_fair_policies),
        cmocka_unit_test(test_bench_quality),
        cmocka_unit_test(test_cluster_sizes_option),
        cmocka_unit_test(test_ratio_every_repeat),
        cmocka_unit_test(test_extra_experiments_run),
        cmocka_unit_test(test_env_options_not_read),
        cmocka_unit_test(test_policy_options_not_read),
        cmocka_unit_test(test_reproduce_quick_runs),
        cmocka_unit_test(test_readings),
        cmocka_unit_test(test_long_paths_do_not_share_runs),
        cmocka_unit_test(test_shared_runs_match_own_runs),
        cmocka_unit_test(test_outputs_name_settings),
        cmocka_unit_test(test_settings_from_logged_data),
        cmocka_unit_test(test_settings_from_lastfm),
        cmocka_unit_test(test_progress_lines),
        cmocka_unit_test(test_values_that_look_like_options),
        cmocka_unit_test(test_online_example),
        cmocka_unit_test(test_ctrl_c_while_plotting),
        cmocka_unit_test(test_plot_folder_named_tilde),
        cmocka_unit_test(test_plot_with_sigchld_ignored),
        cmocka_unit_test(test_gnuplot_hangs),
        cmocka_unit_test(test_gnuplot_fails),
        cmocka_unit_test(test_kernel_unusable),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
