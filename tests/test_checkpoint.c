/* test_checkpoint.c - checkpoints of the colb tool ($COLB): `colb run
 * --stop-after 437 --checkpoint FILE` then `colb run --resume FILE` writes
 * the summary.csv (timing column aside) and curves.csv of an uninterrupted
 * run, for every policy and environment kind, with sweeps and CLUB's tuning;
 * SIGINT saves a checkpoint and says how to resume; bad resumes fail with
 * one line. The long tier interrupts and resumes `colb reproduce`. */
#include "testutil.h"
#include "spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

static char dir[256];

/* summary.csv without its wall_s column (the 9th). */
static char *summary_sans_wall(const char *out)
{
    char path[512];
    snprintf(path, sizeof path, "%s/summary.csv", out);
    char *s = slurp(path, NULL);
    if (!s)
        fail_msg("no %s", path);
    char *r = malloc(strlen(s) + 1), *w = r;
    for (char *line = s; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        int field = 1, quoted = 0;
        for (size_t i = 0; i < n; i++) {
            char c = line[i];
            if (c == '"')
                quoted = !quoted;
            if (c == ',' && !quoted) {
                field++;
                if (field == 9)
                    continue; /* drop the comma opening wall_s */
            }
            if (field != 9)
                *w++ = c;
        }
        *w++ = '\n';
        line += n + (nl ? 1 : 0);
    }
    *w = '\0';
    free(s);
    return r;
}

static void same_outputs(const char *a, const char *b)
{
    char *sa = summary_sans_wall(a), *sb = summary_sans_wall(b), pa[512], pb[512];
    if (strcmp(sa, sb))
        fail_msg("summary.csv differs:\n%s\nvs\n%s", sa, sb);
    snprintf(pa, sizeof pa, "%s/curves.csv", a);
    snprintf(pb, sizeof pb, "%s/curves.csv", b);
    size_t la = 0, lb = 0;
    char *ca = slurp(pa, &la), *cb = slurp(pb, &lb);
    assert_non_null(ca);
    assert_non_null(cb);
    if (la != lb || memcmp(ca, cb, la))
        fail_msg("curves.csv differs between %s and %s", a, b);
    free(sa);
    free(sb);
    free(ca);
    free(cb);
}

/* Uninterrupted into DIR/NAME-full; stopped after 437 rounds and resumed
 * into DIR/NAME-cut; identical outputs. */
static void stop_and_resume(const char *name, const char *args)
{
    char cmd[3000], err[4096];
    snprintf(cmd, sizeof cmd, "run %s --quiet 1 --out %s/%s-full", args, dir, name);
    if (colb_run(cmd, err, sizeof err))
        fail_msg("%s: %s", cmd, err);
    snprintf(cmd, sizeof cmd, "run %s --quiet 1 --out %s/%s-cut --stop-after 437 --checkpoint %s/%s.colb",
             args, dir, name, dir, name);
    if (colb_run(cmd, err, sizeof err))
        fail_msg("%s: %s", cmd, err);
    if (!strstr(err, "resume with: colb run --resume"))
        fail_msg("%s: says '%s'", name, err);
    char path[512];
    snprintf(path, sizeof path, "%s/%s-cut/summary.csv", dir, name);
    struct stat st;
    if (!strstr(args, "sweep") && stat(path, &st) == 0)
        fail_msg("%s: a stopped run wrote summary.csv", name);
    snprintf(cmd, sizeof cmd, "run --resume %s/%s.colb -j 1", dir, name);
    if (colb_run(cmd, err, sizeof err))
        fail_msg("%s: %s", cmd, err);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/%s-full", dir, name);
    snprintf(b, sizeof b, "%s/%s-cut", dir, name);
    same_outputs(a, b);
}

/* Every policy of `colb policies` (comma-separated), less `except`. */
/* Every policy's name, comma-separated; with no_oracles, not those that
 * need true clusters (the oracles). */
static void all_policies(char *out, size_t len, int no_oracles)
{
    out[0] = '\0';
    for (const char *const *n = colb_policy_names(); *n; n++)
        if (!no_oracles || !colb_policy_needs_true_clusters(*n))
            snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? "," : "", *n);
}

static void test_stop_resume_every_policy(void **state)
{
    (void)state;
    char pol[512], args[1024];
    all_policies(pol, sizeof pol, 0);
    snprintf(args, sizeof args, "--env clustered --policies %s --users 24 --clusters 3 --dim 5 "
             "--arms 10 --horizon 700 --repeats 2 -j 2", pol);
    stop_and_resume("clustered", args);
    all_policies(pol, sizeof pol, 1);
    snprintf(args, sizeof args, "--env personalized --policies %s --users 20 --dim 4 --horizon 600 "
             "--repeats 2 --anytime 1 --pooled-updates 1 --cmlb-warm-start 1", pol);
    stop_and_resume("personalized", args);
}

/* A policy named by its alias ("recommended" is cohort): the saved policy
 * carries the registry name, and the resumed run takes it for the alias. */
static void test_stop_resume_alias(void **state)
{
    (void)state;
    stop_and_resume("alias", "--env clustered --policies recommended,linucb-ind --users 20 "
                             "--clusters 2 --dim 4 --arms 8 --horizon 600 --repeats 2");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_stop_resume_logged_data(void **state)
{
    (void)state;
    char feat[300], pos[300], text[8192] = "item\tf1\tf2\tf3\n", pol[512], args[2048];
    colb_rng r;
    colb_rng_seed(&r, 5, 5);
    for (int i = 0; i < 40; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%d\t%.6f\t%.6f\t%.6f\n", 500 + i,
                 colb_rng_normal(&r), colb_rng_normal(&r), colb_rng_normal(&r));
    snprintf(feat, sizeof feat, "%s/items.tsv", dir);
    write_file(feat, text);
    snprintf(text, sizeof text, "user\titem\n");
    for (int u = 0; u < 15; u++)
        for (int k = 0; k < 2 + u % 4; k++)
            snprintf(text + strlen(text), sizeof text - strlen(text), "%d\t%d\n", 7 + u,
                     500 + (int)colb_rng_below(&r, 40));
    snprintf(pos, sizeof pos, "%s/positives.tsv", dir);
    write_file(pos, text);
    all_policies(pol, sizeof pol, 1);
    snprintf(args, sizeof args, "--env logged --features %s --positives %s --arms 8 --policies %s "
             "--horizon 600 --repeats 2", feat, pos, pol);
    stop_and_resume("logged", args);
    /* the CLUB protocol (contexts per user), CLUB tuned on a burn-in */
    snprintf(args, sizeof args, "--env logged --features %s --positives %s --arms 8 --policies "
             "club,random --horizon 600 --repeats 2 --club-tune 1 --club-burn-in 50 "
             "--club-tune-repeats 1", feat, pos);
    stop_and_resume("logged-club", args);
    /* the data set changed under a checkpoint: refused, naming it */
    char cmd[4096], err[4096];
    snprintf(cmd, sizeof cmd, "run %s --quiet 1 --out %s/x --stop-after 437 --checkpoint %s/x.colb",
             args, dir, dir);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    /* same users, one positive moved */
    char *old = slurp(pos, NULL);
    assert_non_null(old);
    char *digit = old + strlen(old) - 2; /* the last id's last digit: 50x -> 50y */
    *digit = *digit == '0' ? '1' : '0';
    write_file(pos, old);
    free(old);
    snprintf(cmd, sizeof cmd, "run --resume %s/x.colb", dir);
    assert_int_equal(colb_run(cmd, err, sizeof err), 1);
    if (!strstr(err, "another data set"))
        fail_msg("changed data set: '%s'", err);
}

static void test_stop_resume_sweep(void **state)
{
    (void)state;
    /* the first setting (T = 300) ends before round 437, the second stops */
    stop_and_resume("sweep", "--policies cmlb,linucb-ind,club --users 20 --dim 4 --repeats 2 "
                             "--sweep horizon=300,800");
}

/* A resumed run given --out that stops again records that --out in its
 * checkpoint: the next resume goes on into it (it went into the first
 * run's --out, which the user had moved away from), with the outputs of
 * an uninterrupted run. The first run's command line may end with "--":
 * the options given with --resume go before it (they went after it, and
 * the resume was refused: "unexpected argument '--out'"). */
static void test_resume_keeps_given_out(void **state)
{
    (void)state;
    const char *args = "--policies cmlb,random --users 8 --horizon 60 --repeats 2 --plots 0 --quiet 1";
    char cmd[1024], err[4096], path[512];
    snprintf(cmd, sizeof cmd, "run %s --out %s/moved-full", args, dir);
    if (colb_run(cmd, err, sizeof err))
        fail_msg("%s: %s", cmd, err);
    for (int dashes = 0; dashes < 2; dashes++) {
        const char *tag = dashes ? "-dashes" : "";
        snprintf(cmd, sizeof cmd, "run %s --out %s/moved-first%s --stop-after 20 --checkpoint %s/moved%s.colb%s",
                 args, dir, tag, dir, tag, dashes ? " --" : "");
        if (colb_run(cmd, err, sizeof err))
            fail_msg("%s: %s", cmd, err);
        snprintf(cmd, sizeof cmd, "run --resume %s/moved%s.colb --out %s/moved-cut%s --stop-after 40", dir, tag,
                 dir, tag);
        if (colb_run(cmd, err, sizeof err))
            fail_msg("%s: %s", cmd, err);
        snprintf(cmd, sizeof cmd, "run --resume %s/moved%s.colb", dir, tag);
        if (colb_run(cmd, err, sizeof err))
            fail_msg("%s: %s", cmd, err);
        struct stat st;
        snprintf(path, sizeof path, "%s/moved-first%s", dir, tag);
        if (stat(path, &st) == 0)
            fail_msg("the resumed run wrote into the first run's --out, not the --out given with --resume");
        snprintf(cmd, sizeof cmd, "%s/moved-full", dir);
        snprintf(path, sizeof path, "%s/moved-cut%s", dir, tag);
        same_outputs(cmd, path);
    }
}

static void test_sigint_saves_and_resumes(void **state)
{
    (void)state;
    char args[600], cmd[1200], err[4096];
    /* long enough (about 1.5 s here) that the signal at 300 ms lands mid-run */
    snprintf(args, sizeof args, "--policies linucb-ind,cmlb,club --users 30 --dim 5 --horizon 100000 "
             "--repeats 1 -j 2 --quiet 1");
    snprintf(cmd, sizeof cmd, "exec %s run %s --out %s/sig 2>%s/sig.err", colb_bin(), args, dir, dir);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    struct timespec ts = { 0, 300 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/sig.err", dir);
    char *msg = slurp(path, NULL);
    assert_non_null(msg);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 130)
        fail_msg("interrupted run: status %d, stderr '%s' (did it end before the signal?)",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1, msg);
    assert_non_null(strstr(msg, "interrupted (SIGINT)"));
    assert_non_null(strstr(msg, "resume with: colb run --resume"));
    free(msg);
    snprintf(cmd, sizeof cmd, "run --resume %s/sig.checkpoint.colb", dir);
    if (colb_run(cmd, err, sizeof err))
        fail_msg("%s", err);
    snprintf(cmd, sizeof cmd, "run %s --out %s/sig-full", args, dir);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/sig-full", dir);
    snprintf(b, sizeof b, "%s/sig", dir);
    same_outputs(a, b);
}

static int lines(const char *s);

/* Run `colb ARGS...` (NULL-terminated) and send it `sig` as soon as its
 * stderr shows `mark` (a progress line), after calling `before` (if not
 * NULL); its exit status, stderr in err. */
/* Start colb with `args`, its stderr into the pipe fd (whose write end
 * the parent then closes), stdout to /dev/null; its pid. */
static pid_t start_colb(char *const args[], int fd[2])
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        colb_exec(args);
    }
    close(fd[1]);
    return pid;
}

static int run_signal_at(char *const args[], const char *mark, void (*before)(void), int sig,
                         char *err, size_t len)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = start_colb(args, fd);
    size_t n = 0;
    int sent = 0;
    ssize_t r;
    while (n + 1 < len && (r = read(fd[0], err + n, len - 1 - n)) > 0) {
        n += (size_t)r;
        err[n] = '\0';
        if (!sent && strstr(err, mark)) {
            if (before)
                before();
            kill(pid, sig);
            sent = 1;
        }
    }
    err[n] = '\0';
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* CLUB tuned in two readings whose CLUB rows are the same run (reading b
 * takes reading a's): interrupted in reading b, which runs other policies
 * only, the checkpoint resumes (reading b's simulation has no CLUB
 * constants to set) and gives the uninterrupted outputs. */
static void test_interrupt_shared_tuned_club(void **state)
{
    (void)state;
    char conf[300], out[300], ck[300], err[4096], cmd[1200];
    snprintf(conf, sizeof conf, "%s/shared-club.conf", dir);
    write_file(conf, "env = clustered\nusers = 40\nclusters = 2\ndim = 4\narms = 8\n"
                     "horizon = 10000\nrepeats = 2\nclub-tune = 1\nclub-burn-in = 50\n"
                     "club-tune-repeats = 1\n[reading a]\npolicies = club\n"
                     "[reading b]\npolicies = club, cohort, locb, sclub\n");
    snprintf(out, sizeof out, "%s/shared-club", dir);
    snprintf(ck, sizeof ck, "%s/shared-club.colb", dir);
    char *args[] = { "run", "-c", conf, "-j", "2", "--plots", "0", "--out", out, "--checkpoint", ck, NULL };
    int st = run_signal_at(args, "% a done", NULL, SIGTERM, err, sizeof err);
    if (st != 143)
        fail_msg("interrupted in reading b: status %d, stderr '%s'", st, err);
    snprintf(cmd, sizeof cmd, "run --resume %s -j 1", ck);
    if (colb_run(cmd, err, sizeof err))
        fail_msg("%s: %s", cmd, err);
    snprintf(cmd, sizeof cmd, "run -c %s -j 2 --plots 0 --quiet 1 --out %s-full", conf, out);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    char full[320];
    snprintf(full, sizeof full, "%s-full", out);
    same_outputs(full, out);
}

/* A setting finished on a data set, the next one interrupted before any of
 * its jobs holds the data set (in CLUB's tuning: it starts over), the data
 * set edited: resuming is refused (it mixed results of both data sets). */
static void test_data_changed_under_finished_setting(void **state)
{
    (void)state;
    char feat[300], pos[300], text[16384] = "item\tf1\tf2\tf3\n", out[300], ck[300], err[4096],
         cmd[1200];
    colb_rng r;
    colb_rng_seed(&r, 6, 6);
    for (int i = 0; i < 60; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%d\t%.6f\t%.6f\t%.6f\n", 500 + i,
                 colb_rng_normal(&r), colb_rng_normal(&r), colb_rng_normal(&r));
    snprintf(feat, sizeof feat, "%s/fin-items.tsv", dir);
    write_file(feat, text);
    snprintf(text, sizeof text, "user\titem\n");
    for (int u = 0; u < 100; u++)
        for (int k = 0; k < 2 + u % 4; k++)
            snprintf(text + strlen(text), sizeof text - strlen(text), "%d\t%d\n", 7 + u,
                     500 + (int)colb_rng_below(&r, 60));
    snprintf(pos, sizeof pos, "%s/fin-positives.tsv", dir);
    write_file(pos, text);
    snprintf(out, sizeof out, "%s/fin", dir);
    snprintf(ck, sizeof ck, "%s/fin.colb", dir);
    char *args[] = { "run", "--env", "logged", "--features", feat, "--positives", pos, "--arms", "8",
                     "--repeats", "1", "--horizon", "100", "--policies", "club", "--club-tune", "1",
                     "--club-tune-repeats", "1", "--sweep", "club-burn-in=10,3000", "--plots", "0",
                     "--out", out, "--checkpoint", ck, NULL };
    int st = run_signal_at(args, "club-burn-in=10 done", NULL, SIGTERM, err, sizeof err);
    if (st != 143)
        fail_msg("interrupted in the second setting: status %d, stderr '%s'", st, err);
    char *old = slurp(pos, NULL); /* one positive moved: 5xx -> 5xy */
    assert_non_null(old);
    char *digit = old + strlen(old) - 2;
    *digit = *digit == '0' ? '1' : '0';
    write_file(pos, old);
    free(old);
    snprintf(cmd, sizeof cmd, "run --resume %s --quiet 1", ck);
    assert_int_equal(colb_run(cmd, err, sizeof err), 1);
    assert_int_equal(lines(err), 1);
    if (!strstr(err, "another data set"))
        fail_msg("edited data set under a finished setting: '%s'", err);
}

/* A checkpoint written by another build of colb (its recorded executable
 * hash changed, the file's checksum made valid again) is refused, in one
 * line; the same file from this build resumes. */
static void test_resume_other_build(void **state)
{
    (void)state;
    char cmd[1200], err[4096], path[512];
    snprintf(path, sizeof path, "%s/build.colb", dir);
    snprintf(cmd, sizeof cmd, "run --users 10 --horizon 300 --policies linucb-ind --repeats 1 --quiet 1 "
             "--plots 0 --out %s/build --stop-after 100 --checkpoint %s", dir, path);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    size_t n = 0;
    char *b = slurp(path, &n);
    assert_non_null(b);
    assert_true(n >= 32);
    char *h = NULL;
    for (size_t i = 0; !h && i + 12 <= n; i++)
        if (!memcmp(b + i, "executable ", 11))
            h = b + i;
    assert_non_null(h);
    h[11] = h[11] == '0' ? '1' : '0';
    uint64_t sum = XXH3_64bits(b, n - 8);
    for (int i = 0; i < 8; i++)
        b[n - 8 + i] = (char)(unsigned char)(sum >> (8 * i));
    char other[512];
    snprintf(other, sizeof other, "%s/other-build.colb", dir);
    assert_int_equal(spit(other, b, n), 0);
    free(b);
    snprintf(cmd, sizeof cmd, "run --resume %s", other);
    assert_int_equal(colb_run(cmd, err, sizeof err), 1);
    assert_int_equal(lines(err), 1);
    if (!strstr(err, "another build of colb"))
        fail_msg("checkpoint of another build: '%s'", err);
    snprintf(cmd, sizeof cmd, "run --resume %s", path);
    if (colb_run(cmd, err, sizeof err))
        fail_msg("%s: %s", cmd, err);
}

/* A checkpoint records its kernel path: one written on the portable path
 * is refused on the CPU's own SIMD path in one line naming both, and
 * resumes under COLB_KERNEL=portable; the CPU's default path and the same
 * path named by COLB_KERNEL are one path. */
static void test_resume_other_kernel(void **state)
{
    (void)state;
    unsetenv("COLB_KERNEL");
    const char *best = colb_kernel_path();
    assert_non_null(best);
    if (!strcmp(best, "portable"))
        skip(); /* this CPU runs no other path */
    char cmd[1200], err[4096], path[512], want[300];
    snprintf(path, sizeof path, "%s/kernel.colb", dir);
    snprintf(cmd, sizeof cmd, "run --users 10 --horizon 300 --policies linucb-ind,club --repeats 1 "
             "--quiet 1 --plots 0 --out %s/kernel --stop-after 100 --checkpoint %s", dir, path);
    setenv("COLB_KERNEL", "portable", 1);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    unsetenv("COLB_KERNEL");
    snprintf(cmd, sizeof cmd, "run --resume %s", path);
    int st = colb_run(cmd, err, sizeof err);
    if (st != 1 || lines(err) != 1)
        fail_msg("resumed on kernel path %s: status %d, stderr '%s'", best, st, err);
    snprintf(want, sizeof want, "written on kernel path portable and this run's is %s", best);
    if (!strstr(err, want) || !strstr(err, "COLB_KERNEL=portable"))
        fail_msg("resumed on kernel path %s: '%s'", best, err);
    setenv("COLB_KERNEL", "portable", 1);
    st = colb_run(cmd, err, sizeof err);
    unsetenv("COLB_KERNEL");
    if (st)
        fail_msg("%s under COLB_KERNEL=portable: %s", cmd, err);
    /* the default path, then the same path by name */
    snprintf(cmd, sizeof cmd, "run --users 10 --horizon 300 --policies linucb-ind --repeats 1 "
             "--quiet 1 --plots 0 --out %s/kernel2 --stop-after 100 --checkpoint %s", dir, path);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    setenv("COLB_KERNEL", best, 1);
    snprintf(cmd, sizeof cmd, "run --resume %s", path);
    st = colb_run(cmd, err, sizeof err);
    unsetenv("COLB_KERNEL");
    if (st)
        fail_msg("%s under COLB_KERNEL=%s: %s", cmd, best, err);
}

/* 1 when /proc/PID/status says that process pid catches signal sig (its
 * handler is installed); 0 when not yet; -1 when it cannot be read. */
static int catches(pid_t pid, int sig)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int got = -1;
    while (got < 0 && fgets(line, sizeof line, f)) {
        unsigned long long mask;
        if (sscanf(line, "SigCgt: %llx", &mask) == 1)
            got = (mask >> (sig - 1)) & 1;
    }
    fclose(f);
    return got;
}

/* Run colb with `args` and send it `sig` at a moment that does not depend
 * on how fast the machine is: its stderr is a pipe filled up before it
 * starts, so that it cannot get past its first line (colb reproduce's
 * "running FIG", which comes after its handler is installed and before any
 * work), and the signal goes as soon as /proc says the handler is there;
 * then the pipe is drained. The exit status (or 128 + the signal that
 * ended it); stderr without the filling in err. */
static int run_signal_held(char *const args[], int sig, char *err, size_t len)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    int fl = fcntl(fd[1], F_GETFL);
    assert_int_equal(fcntl(fd[1], F_SETFL, fl | O_NONBLOCK), 0);
    static const char fill[4096];
    size_t filled = 0;
    for (size_t chunk = sizeof fill; chunk; chunk = chunk > 1 ? chunk / 2 : 0) {
        ssize_t w; /* whole pages, then smaller writes until not one byte fits */
        while ((w = write(fd[1], fill, chunk)) > 0)
            filled += (size_t)w;
    }
    assert_true(filled > 0);
    assert_int_equal(fcntl(fd[1], F_SETFL, fl), 0);
    pid_t pid = start_colb(args, fd);
    double t0 = spawn_now();
    int c;
    while ((c = catches(pid, sig)) == 0 && spawn_now() - t0 < 120.0)
        usleep(1000);
    if (c != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("colb never caught signal %d (/proc: %d)", sig, c);
    }
    kill(pid, sig);
    size_t n = 0;
    char sink[4096];
    ssize_t r;
    while ((r = read(fd[0], sink, sizeof sink)) > 0) /* the filling first, then colb's lines */
        for (ssize_t k = 0; k < r; k++)
            if (filled)
                filled--;
            else if (n + 1 < len)
                err[n++] = sink[k];
    err[n] = '\0';
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A figure's checkpoint found under another figure's name (copied or
 * renamed), or resumed with other --readings, is refused by --resume in
 * one line naming the difference; under its own name it resumes. The reproduction is interrupted before its
 * first setting is done, whatever the machine's speed (run_signal_held):
 * signalled after a line of progress, a fast machine could finish the
 * figure first, and the run then exited 0 with no checkpoint. Stopped in
 * the first setting's CLUB tuning, it writes its checkpoint all the same
 * (it said it did and wrote none). */
static void test_reproduce_resume_other_figure(void **state)
{
    (void)state;
    char out[300], err[4096], cmd[1200], from[400], to[400];
    snprintf(out, sizeof out, "%s/fig", dir);
    char *args[] = { "reproduce", "--quick", "fig1a", "--out", out, "-j", "1", NULL };
    int st = run_signal_held(args, SIGTERM, err, sizeof err);
    if (st != 143 || !strstr(err, "colb: interrupted in fig1a"))
        fail_msg("interrupted reproduction: status %d, stderr '%s'", st, err);
    snprintf(from, sizeof from, "%s/fig.checkpoints/fig1a.colb", dir);
    snprintf(to, sizeof to, "%s/other.checkpoints", dir);
    assert_int_equal(mkdir(to, 0777), 0);
    snprintf(to, sizeof to, "%s/other.checkpoints/fig1b.colb", dir);
    assert_int_equal(copy_file(from, to), 0);
    snprintf(cmd, sizeof cmd, "reproduce --quick fig1b --out %s/other -j 1 --resume", dir);
    st = colb_run(cmd, err, sizeof err);
    /* after the progress line naming the figure (stderr is not a terminal) */
    const char *said = !strncmp(err, "colb: running fig1b\n", 20) ? err + 20 : err;
    if (st != 1 || lines(said) != 1)
        fail_msg("%s: status %d, stderr '%s'", cmd, st, err);
    if (!strstr(said, "fig1b.colb is a checkpoint of figure 'fig1a', not of fig1b"))
        fail_msg("fig1a's checkpoint resumed as fig1b's: '%s'", err);
    /* other --readings: its settings are numbered among the readings run,
     * so the paper reading alone would have taken the checkpoint's, run
     * to the end without the colb reading's and removed the checkpoint */
    snprintf(cmd, sizeof cmd, "reproduce --quick fig1a --out %s -j 1 --resume --readings paper", out);
    st = colb_run(cmd, err, sizeof err);
    said = !strncmp(err, "colb: running fig1a\n", 20) ? err + 20 : err;
    if (st != 1 || lines(said) != 1 || !strstr(said, "with the readings paper,colb, and this run's are paper") ||
        access(from, F_OK) != 0)
        fail_msg("%s: status %d, stderr '%s', the checkpoint %s", cmd, st, err,
                 access(from, F_OK) ? "removed" : "kept");
    snprintf(cmd, sizeof cmd, "reproduce --quick fig1a --out %s -j 1 --resume", out);
    if (colb_run(cmd, err, sizeof err))
        fail_msg("%s: %s", cmd, err);
}

#define EDITED_CONF(last) "env = clustered\nusers = 40\nclusters = 2\ndim = 4\narms = 8\n" \
                             "repeats = 2\npolicies = linucb-ind, locb, sclub\n" \
                             "sweep = horizon=200,10000," last "\n"

static char edited_conf[300];

static void edit_conf(void)
{
    write_file(edited_conf, EDITED_CONF("301"));
}

/* The experiment file edited while the run goes on, then the run
 * interrupted: the checkpoint holds the text the run read at its start
 * (it read the file again when stopping, and the resumed run used the
 * edited sweep value 301 beside the settings run with the old text). */
static void test_experiment_file_edited_during_run(void **state)
{
    (void)state;
    char orig[300], out[300], ck[300], err[4096], cmd[1200];
    snprintf(edited_conf, sizeof edited_conf, "%s/edited.conf", dir);
    snprintf(orig, sizeof orig, "%s/orig.conf", dir);
    write_file(edited_conf, EDITED_CONF("300"));
    write_file(orig, EDITED_CONF("300"));
    snprintf(out, sizeof out, "%s/edited", dir);
    snprintf(ck, sizeof ck, "%s/edited.colb", dir);
    char *args[] = { "run", "-c", edited_conf, "-j", "2", "--plots", "0", "--out", out, "--checkpoint",
                     ck, NULL };
    int st = run_signal_at(args, "horizon=200 done", edit_conf, SIGTERM, err, sizeof err);
    if (st != 143)
        fail_msg("interrupted in the second setting: status %d, stderr '%s'", st, err);
    snprintf(cmd, sizeof cmd, "run --resume %s -j 1 --quiet 1", ck);
    if (colb_run(cmd, err, sizeof err))
        fail_msg("%s: %s", cmd, err);
    snprintf(cmd, sizeof cmd, "run -c %s -j 2 --plots 0 --quiet 1 --out %s-full", orig, out);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    char full[320];
    snprintf(full, sizeof full, "%s-full", out);
    same_outputs(full, out);
}

/* SIGKILL at random moments of resumed runs that stop again and write
 * their checkpoint over the one they resumed from: the file is always a
 * whole checkpoint (the old one or the new), and the last resume gives the
 * uninterrupted outputs. */
static void test_sigkill_during_checkpoint_write(void **state)
{
    (void)state;
    char args[600], cmd[2400], err[4096], ck[300], out[300], stop[32];
    snprintf(args, sizeof args, "--policies linucb-ind,cmlb --users 400 --clusters 4 --dim 20 --arms 10 "
             "--horizon 1200 --repeats 2 --plots 0 --quiet 1");
    snprintf(ck, sizeof ck, "%s/killed.colb", dir);
    snprintf(out, sizeof out, "%s/killed", dir);
    snprintf(cmd, sizeof cmd, "run %s --out %s --stop-after 100 --checkpoint %s", args, out, ck);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    colb_rng r;
    colb_rng_seed(&r, 7, 7);
    int killed = 0;
    for (int i = 0; i < 20; i++) {
        snprintf(stop, sizeof stop, "%d", 130 + 30 * i);
        char *a[] = { "run", "--resume", ck, "--stop-after", stop, "-j", i % 2 ? "1" : "2", NULL };
        double at = 0.12 * colb_rng_uniform(&r);
        int st = colb_spawn(a, err, sizeof err, 0, at, SIGKILL, 10.0);
        killed += st == 128 + SIGKILL;
        if (st != 0 && st != 128 + SIGKILL)
            fail_msg("resume %d: status %d: '%s'", i, st, err);
        colb_snapshot_reader *rd = NULL;
        char msg[512];
        if (colb_snapshot_reader_open(ck, NULL, &rd, msg, sizeof msg) != COLB_OK)
            fail_msg("after a kill at %.3f s the checkpoint is not whole: %s", at, msg);
        colb_snapshot_reader_free(rd);
    }
    print_message("%d of 20 resumed runs killed\n", killed);
    snprintf(cmd, sizeof cmd, "run --resume %s", ck);
    if (colb_run(cmd, err, sizeof err))
        fail_msg("%s: %s", cmd, err);
    snprintf(cmd, sizeof cmd, "run %s --out %s-full", args, out);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    char full[320];
    snprintf(full, sizeof full, "%s-full", out);
    same_outputs(full, out);
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_resume_errors(void **state)
{
    (void)state;
    char cmd[1200], err[4096], path[512];
    /* missing, not a snapshot, corrupt, not a run's checkpoint */
    snprintf(cmd, sizeof cmd, "run --resume %s/none.colb", dir);
    assert_int_equal(colb_run(cmd, err, sizeof err), 1);
    assert_int_equal(lines(err), 1);
    snprintf(path, sizeof path, "%s/text.colb", dir);
    write_file(path, "not a snapshot at all, just some text\n");
    snprintf(cmd, sizeof cmd, "run --resume %s", path);
    assert_int_equal(colb_run(cmd, err, sizeof err), 1);
    assert_non_null(strstr(err, "not a colb snapshot"));
    snprintf(cmd, sizeof cmd, "run --users 10 --horizon 500 --policies linucb-ind --repeats 1 --quiet 1 "
             "--out %s/e --stop-after 100 --checkpoint %s/e.colb", dir, dir);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/e.colb", dir);
    size_t n = 0;
    char *b = slurp(path, &n);
    assert_non_null(b);
    b[n / 2] ^= 1;
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
    free(b);
    snprintf(cmd, sizeof cmd, "run --resume %s", path);
    assert_int_equal(colb_run(cmd, err, sizeof err), 1);
    assert_non_null(strstr(err, "checksum"));
    assert_int_equal(lines(err), 1);
    /* a value no run writes (a model's V00 of 1e200), the checksum made
     * good again: damaged, not "does not fit this run", which it said */
    snprintf(cmd, sizeof cmd, "run --users 10 --horizon 500 --policies linucb-ind --repeats 1 --quiet 1 "
             "--out %s/v --stop-after 100 --checkpoint %s/v.colb", dir, dir);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/v.colb", dir);
    b = slurp(path, &n);
    assert_non_null(b);
    static const unsigned char real_field[] = { 3, 0, 0, 0, 4, 0, 0, 0 }; /* f64 array, a name of 4 bytes */
    size_t at = 0;
    for (size_t q = 16; !at && q + 32 <= n; q += 8)
        if (!memcmp(b + q, real_field, 8) && !memcmp(b + q + 16, "real", 4))
            at = q + 24; /* the first model's record: V00 */
    assert_true(at > 0);
    double big = 1e200;
    memcpy(b + at, &big, 8);
    uint64_t h = XXH3_64bits(b, n - 8);
    memcpy(b + n - 8, &h, 8);
    f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
    free(b);
    snprintf(cmd, sizeof cmd, "run --resume %s", path);
    assert_int_equal(colb_run(cmd, err, sizeof err), 1);
    assert_int_equal(lines(err), 1);
    if (!strstr(err, "the checkpoint is damaged") || strstr(err, "does not fit"))
        fail_msg("a checkpoint with V00 = 1e200: %s", err);
    /* settings come from the checkpoint: others are a usage error */
    snprintf(cmd, sizeof cmd, "run --resume %s --users 5", path);
    assert_int_equal(colb_run(cmd, err, sizeof err), 2);
    /* a checkpoint inside --out would be written into a folder that only a
     * complete run writes (resuming then refused --out): refused first */
    snprintf(cmd, sizeof cmd, "run --users 10 --horizon 500 --policies linucb-ind --repeats 1 "
             "--quiet 1 --out %s/inside --stop-after 100 --checkpoint %s/./inside/sub/../c.colb",
             dir, dir);
    assert_int_equal(colb_run(cmd, err, sizeof err), 1);
    assert_int_equal(lines(err), 1);
    assert_non_null(strstr(err, "inside the results folder"));
    struct stat sb;
    snprintf(path, sizeof path, "%s/inside", dir);
    assert_int_not_equal(stat(path, &sb), 0);
    assert_int_equal(colb_run("run --stop-after 0", err, sizeof err), 2);
    assert_int_equal(colb_run("run --checkpoint", err, sizeof err), 2);
}

/* Long tier: `colb reproduce --quick fig2` interrupted and resumed gives
 * the uninterrupted figure (about a minute). */
static void test_reproduce_interrupt_resume(void **state)
{
    (void)state;
    if (!long_tier())
        skip();
    char cmd[1200], err[4096], out[300];
    /* interrupted in the colb reading's second setting (its recommended
     * policy's jobs running), whatever the machine's speed */
    snprintf(out, sizeof out, "%s/rep", dir);
    char *args[] = { "reproduce", "--quick", "fig2", "--out", out, "-j", "2", NULL };
    int st = run_signal_at(args, "colb sigma-theta=1 done", NULL, SIGTERM, err, sizeof err);
    if (st != 143)
        fail_msg("interrupted reproduction: status %d, stderr '%s'", st, err);
    snprintf(cmd, sizeof cmd, "reproduce --quick fig2 --out %s/rep -j 2 --resume", dir);
    if (colb_run(cmd, err, sizeof err))
        fail_msg("%s", err);
    snprintf(cmd, sizeof cmd, "reproduce --quick fig2 --out %s/rep-full -j 2", dir);
    assert_int_equal(colb_run(cmd, err, sizeof err), 0);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/rep-full/fig2", dir);
    snprintf(b, sizeof b, "%s/rep/fig2", dir);
    same_outputs(a, b);
    /* a completed reproduction leaves no checkpoints beside its folder */
    struct stat sb;
    snprintf(cmd, sizeof cmd, "%s/rep.checkpoints", dir);
    assert_int_not_equal(stat(cmd, &sb), 0);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/colb-ckpt-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_resume_every_policy),
        cmocka_unit_test(test_stop_resume_alias),
        cmocka_unit_test(test_stop_resume_logged_data),
        cmocka_unit_test(test_stop_resume_sweep),
        cmocka_unit_test(test_resume_keeps_given_out),
        cmocka_unit_test(test_sigint_saves_and_resumes),
        cmocka_unit_test(test_interrupt_shared_tuned_club),
        cmocka_unit_test(test_data_changed_under_finished_setting),
        cmocka_unit_test(test_experiment_file_edited_during_run),
        cmocka_unit_test(test_sigkill_during_checkpoint_write),
        cmocka_unit_test(test_resume_errors),
        cmocka_unit_test(test_resume_other_build),
        cmocka_unit_test(test_reproduce_resume_other_figure),
        cmocka_unit_test(test_resume_other_kernel),
        cmocka_unit_test(test_reproduce_interrupt_resume),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
