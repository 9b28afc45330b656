/* test_cli_budget.c - sizes that drive allocations are checked against the
 * memory budget before anything is allocated (issue 17, defect 1): a huge
 * --users fails at once with the estimate, a data file that never ends
 * (/dev/zero) ends with an error, and the library's create calls say what
 * they would need. The binary is $COLB (set by make). */
#include "testutil.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Run a shell command with a 20 s limit; stderr into err; exit status
 * (124 when the limit ended it). */
static int sh(const char *cmd, char *err, size_t len)
{
    char full[4096];
    snprintf(full, sizeof full, "timeout -s KILL 20 %s 2>&1 >/dev/null", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = fread(err, 1, len - 1, p);
    err[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void test_huge_users_fail_fast(void **state)
{
    (void)state;
    char cmd[1024], err[4096];
    snprintf(cmd, sizeof cmd, "%s run --users 2147483648 --horizon 10 --repeats 1 --quiet 1 --out /tmp/colb-budget-never",
             colb_bin());
    double t0 = now();
    int rc = sh(cmd, err, sizeof err);
    double t = now() - t0;
    assert_int_equal(rc, 1);
    if (t >= 1.0)
        fail_msg("took %.2f s", t);
    if (!strstr(err, "users = 2147483648") || !strstr(err, "needs about") || !strstr(err, "budget"))
        fail_msg("message without the input and the estimate: '%s'", err);
    /* --max-memory lowers the budget */
    snprintf(cmd, sizeof cmd, "%s run --users 2000 --policies club --max-memory 4M --quiet 1 --out /tmp/colb-budget-never",
             colb_bin());
    assert_int_equal(sh(cmd, err, sizeof err), 1);
    if (!strstr(err, "needs about ") || !strstr(err, "more than the budget of 4M (--max-memory)\n"))
        fail_msg("--max-memory 4M: the budget in the units of the option: '%s'", err);
}

/* Sizes in messages about memory are written as a budget is given (K, M,
 * G, T: powers of 1024), and such a text reads back as a budget within its
 * 4 digits. */
static void test_memory_text(void **state)
{
    (void)state;
    static const struct {
        double bytes;
        const char *text;
    } cases[] = {
        { 0, "0 bytes" }, { 1, "1 byte" }, { 300, "300 bytes" }, { 1023, "1023 bytes" }, { 1024, "1K" }, { 1536, "1.5K" },
        { 4194304, "4M" }, { 20.0 * 1073741824.0, "20G" }, { 19833277235.2, "18.47G" },
        { 1125899906842624.0, "1024T" }, { 1152921504606846976.0, "1.049e+06T" },
        { 1073741823.0, "1024M" },
    };
    char out[32], msg[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        colb_memory_text(out, sizeof out, cases[i].bytes);
        if (strcmp(out, cases[i].text))
            fail_msg("%.17g bytes: '%s', not '%s'", cases[i].bytes, out, cases[i].text);
        colb_env_params ep;
        colb_env_params_default(&ep);
        if (cases[i].bytes < 1024 || cases[i].bytes > COLB_MEMORY_MAX)
            continue;
        assert_ok(colb_env_params_set(&ep, "max-memory", out, msg, sizeof msg));
        assert_true(fabs((double)ep.max_memory - cases[i].bytes) <= 5e-4 * cases[i].bytes);
    }
    colb_memory_text(out, 4, 20.0 * 1073741824.0 * 1000); /* cut, ended */
    assert_string_equal(out, "19.");
    /* no size to write: refused, out left empty (it was "-5 bytes", "nan
     * bytes", "infT"); sizes below 1K in whole bytes (1.5 was "2 bytes",
     * 1023.7 "1024 bytes") */
    static const struct {
        double bytes;
        colb_status st;
        const char *text;
    } odd[] = {
        { -5, COLB_ERANGE, "" }, { -1e-300, COLB_ERANGE, "" }, { NAN, COLB_ENONFIN, "" },
        { INFINITY, COLB_ENONFIN, "" }, { -INFINITY, COLB_ENONFIN, "" }, { -0.0, COLB_OK, "0 bytes" },
        { 0.4, COLB_OK, "0 bytes" }, { 1.4, COLB_OK, "1 byte" }, { 1023.7, COLB_OK, "1K" },
    };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        snprintf(out, sizeof out, "stale");
        colb_status st = colb_memory_text(out, sizeof out, odd[i].bytes);
        if (st != odd[i].st || strcmp(out, odd[i].text))
            fail_msg("%g bytes: %s '%s', not %s '%s'", odd[i].bytes, colb_status_name(st), out,
                     colb_status_name(odd[i].st), odd[i].text);
    }
    assert_status(colb_memory_text(NULL, 0, 1.0), COLB_EINVAL);
    assert_status(colb_memory_text(out, 0, 1.0), COLB_EINVAL);
}

static void test_endless_data_file_ends(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-budget-XXXXXX", cmd[2048], err[4096], p[600];
    assert_non_null(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/features.tsv", dir);
    assert_int_equal(symlink("/dev/zero", p), 0);
    snprintf(p, sizeof p, "%s/positives.tsv", dir);
    FILE *f = fopen(p, "w");
    fputs("1\t1\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "%s run --env logged --features %s/features.tsv --positives %s --policies linucb-ind --quiet 1 --max-memory 1G "
             "--out %s/out",
             colb_bin(), dir, p, dir);
    double t0 = now();
    int rc = sh(cmd, err, sizeof err);
    double t = now() - t0;
    if (rc != 1 || t > 10.0)
        fail_msg("exit %d after %.1f s: '%s'", rc, t, err);
    assert_non_null(strstr(err, "features.tsv"));
    assert_non_null(strstr(err, "memory budget"));
    /* a budget that would not end it is not the first remedy */
    assert_non_null(strstr(err, "(is it a device or an endless pipe?); if it is neither, give a larger --max-memory\n"));
}

static void test_library_estimates(void **state)
{
    (void)state;
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = (size_t)1 << 31;
    pp.dim = 15;
    pp.horizon = 10;
    pp.max_memory = (size_t)1 << 30;
    colb_policy *p = NULL;
    char msg[512];
    assert_status(colb_policy_create("linucb-ind", &pp, &p, msg, sizeof msg), COLB_ENOMEM);
    assert_null(p);
    assert_non_null(strstr(msg, "users = 2147483648"));
    assert_non_null(strstr(msg, "needs about"));
    if (!strstr(msg, "more than the budget of 1G")) /* the units of max-memory, not GiB or GB */
        fail_msg("'%s'", msg);
    double b;
    assert_ok(colb_policy_memory("club", &pp, &b));
    assert_true(b > 5e17); /* the N^2/8 graph */
    pp.users = 100;
    pp.max_memory = 0;
    assert_ok(colb_policy_create("linucb-ind", &pp, &p, msg, sizeof msg));
    colb_policy_free(p);

    colb_sim_spec s;
    colb_sim_spec_default(&s);
    const char *names[] = { "linucb-ind" };
    s.policies = names;
    s.n_policies = 1;
    s.repeats = 1000000;
    s.curve_points = 1000;
    s.horizon = 1000;
    s.max_memory = (size_t)1 << 30;
    colb_sim_result *r = NULL;
    double t0 = now();
    assert_status(colb_sim_run(&s, &r, msg, sizeof msg), COLB_ENOMEM);
    assert_true(now() - t0 < 1.0);
    assert_non_null(strstr(msg, "1000000 repeats"));

    colb_env_params ep;
    colb_env_params_default(&ep);
    ep.users = (size_t)1 << 31;
    ep.max_memory = (size_t)1 << 30;
    colb_env *e = NULL;
    assert_status(colb_env_create(&ep, 1, &e, msg, sizeof msg), COLB_ENOMEM);
    assert_non_null(strstr(msg, "users = 2147483648"));
}

/* Features wider than the budget allows are refused before allocation. */
static void test_wide_features(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-budget-XXXXXX", fp[600], pp_[600], msg[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(fp, sizeof fp, "%s/f.tsv", dir);
    snprintf(pp_, sizeof pp_, "%s/p.tsv", dir);
    FILE *f = fopen(fp, "w");
    for (int i = 1; i <= 300; i++) {
        fprintf(f, "%d", i);
        for (int j = 0; j < 4000; j++)
            fputs("\t0", f);
        fputc('\n', f);
    }
    fclose(f);
    f = fopen(pp_, "w");
    fputs("7\t1\n", f);
    fclose(f);
    colb_dataset *ds = NULL;
    /* 300 x 4000 doubles = 9.6 MB from a 2.4 MB file: over a 4 MiB budget
     * (the file alone is more than budget / 16), within 64 MiB */
    assert_status(colb_dataset_load_ex(fp, pp_, (size_t)4 << 20, &ds, msg, sizeof msg), COLB_ENOMEM);
    if (!strstr(msg, "f.tsv") || !strstr(msg, "memory budget"))
        fail_msg("%s", msg);
    assert_ok(colb_dataset_load_ex(fp, pp_, (size_t)64 << 20, &ds, msg, sizeof msg));
    assert_int_equal(colb_dataset_dim(ds), 4000);
    colb_dataset_free(ds);
}

/* Every message of colb run about the memory budget names --max-memory,
 * the option that raises it: the library's too (a data file beyond its
 * share, a data set or a run over logged data beyond the budget, a run
 * that --stop-after would keep whole), as colb run's own estimate of a
 * synthetic run always did. */
static void test_budget_messages_name_the_option(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-budget-XXXXXX", p[600], args[2048], err[4096];
    assert_non_null(mkdtemp(dir));
    /* a features file of 96K: more than 1M / 16 */
    snprintf(p, sizeof p, "%s/wide.tsv", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    for (int i = 1; i <= 200; i++) {
        fprintf(f, "%d", i);
        for (int j = 0; j < 120; j++)
            fputs("\t0.5", f);
        fputc('\n', f);
    }
    fclose(f);
    /* 10 items of d = 30 and 3000 users: small files, a run of about 40M */
    snprintf(p, sizeof p, "%s/items.tsv", dir);
    f = fopen(p, "w");
    assert_non_null(f);
    for (int i = 1; i <= 10; i++) {
        fprintf(f, "%d", i);
        for (int j = 0; j < 30; j++)
            fprintf(f, "\t%d", (i + j) % 3);
        fputc('\n', f);
    }
    fclose(f);
    snprintf(p, sizeof p, "%s/clicks.tsv", dir);
    f = fopen(p, "w");
    assert_non_null(f);
    for (int u = 1; u <= 3000; u++)
        fprintf(f, "%d\t%d\n", u, 1 + u % 10);
    fclose(f);
    struct {
        const char *args, *says;
    } cases[] = {
        { "--env logged --features %s/wide.tsv --positives %s/clicks.tsv --max-memory 1M", "a data file may have" },
        { "--env logged --features %s/items.tsv --positives %s/clicks.tsv --arms 5 --max-memory 8M", "the run (users = 3000" },
        { "--users 200 --repeats 200 --max-memory 20M --stop-after 2 --checkpoint %s/c.colb", "stopping at round 2" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char fmt[1024];
        snprintf(fmt, sizeof fmt, "run --policies linucb-ind --horizon 10 --quiet 1 --out %%s/out %s", cases[i].args);
        snprintf(args, sizeof args, fmt, dir, dir, dir);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 1 || !strstr(err, cases[i].says) || !strstr(err, "budget") || !strstr(err, "--max-memory") ||
            strchr(err, '\n') != err + strlen(err) - 1)
            fail_msg("colb %s: exit %d, '%s'", args, rc, err);
    }
    remove_dir(dir);
}

/* The Last.FM data set beyond the budget: its message names --max-memory. */
static void test_lastfm_budget_names_the_option(void **state)
{
    (void)state;
    char data[4096], args[4600], err[4096];
    lastfm_test_dir(data, sizeof data);
    char dir[] = "/tmp/colb-budget-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(args, sizeof args, "run --env lastfm --data-dir %s --policies linucb-ind --horizon 10 --repeats 1 "
             "--quiet 1 --max-memory 100M --feature-cache %s/cache.colbfeat --out %s/out", data, dir, dir);
    int rc = colb_run(args, err, sizeof err);
    if (rc != 1 || !strstr(err, "Last.FM") || !strstr(err, "budget of 100M") || !strstr(err, "--max-memory"))
        fail_msg("exit %d, '%s'", rc, err);
    remove_dir(dir);
}

/* A run that fits --max-memory only without the tapes of its repeats'
 * shared rounds (about 420K without, 7.4M with) runs without them, to the
 * same curves as within a budget that holds them. It was refused: "the run
 * needs about 7.429M of memory, more than the budget of 1M". */
static void test_run_without_tapes_over_budget(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-budget-XXXXXX", args[2048], err[4096], p[600];
    assert_non_null(mkdtemp(dir));
    static const char *const budget[2] = { "1M", "1G" };
    char *curves[2];
    size_t len[2];
    for (size_t i = 0; i < 2; i++) {
        snprintf(args, sizeof args, "run --users 100 --clusters 2 --dim 10 --arms 10 --horizon 2000 --repeats 2 "
                 "--threads 2 --policies pooled,random,linucb-ind --curve-points 20 --max-memory %s --quiet 1 "
                 "--plots 0 --out %s/out%zu", budget[i], dir, i);
        int rc = colb_run(args, err, sizeof err);
        if (rc != 0)
            fail_msg("--max-memory %s: exit %d, '%s'", budget[i], rc, err);
        snprintf(p, sizeof p, "%s/out%zu/curves.csv", dir, i);
        assert_non_null(curves[i] = slurp(p, &len[i]));
    }
    assert_int_equal(len[0], len[1]);
    assert_memory_equal(curves[0], curves[1], len[0]);
    free(curves[0]);
    free(curves[1]);
    remove_dir(dir);
}

/* A job whose policy and environment need little reads no /proc/meminfo:
 * what fits the default budget's floor (64M) fits every default budget.
 * Each check used to read it (and to look for the cgroup's limit): three
 * reads per job, ten times the run's own work for jobs of a few rounds
 * (50,000 repeats of 2 rounds: 6.1 s, now 0.6 s). Counted under strace;
 * skipped where strace is missing or may not trace. */
static void test_small_jobs_read_no_meminfo(void **state)
{
    (void)state;
    if (system("strace -V >/dev/null 2>&1") != 0) {
        print_message("strace not found (./scripts/install-deps installs it): skipped\n");
        skip();
    }
    if (system("strace -f -qq -o /dev/null true >/dev/null 2>&1") != 0) { /* strace alone: colb's failure fails */
        print_message("strace cannot trace here: skipped\n");
        skip();
    }
    char dir[] = "/tmp/colb-budget-XXXXXX", trace[600], cmd[2048], line[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(trace, sizeof trace, "%s/trace", dir);
    /* LeakSanitizer cannot run under ptrace: off in a sanitizer build */
    snprintf(cmd, sizeof cmd, "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" "
             "strace -f -qq -e trace=open,openat -o %s %s run --policies linucb-ind,random --users 2 "
             "--clusters 1 --dim 2 --arms 2 --horizon 2 --curve-points 1 --repeats 200 --quiet 1 --plots 0 "
             "--out %s/out >/dev/null 2>&1", trace, colb_bin(), dir);
    int rc = system(cmd);
    FILE *f = fopen(trace, "r");
    assert_int_equal(rc, 0);
    assert_non_null(f);
    size_t reads = 0;
    while (fgets(line, sizeof line, f))
        reads += strstr(line, "/proc/meminfo") != NULL;
    fclose(f);
    if (reads > 8) /* the run's own checks, not 400 jobs' */
        fail_msg("%zu reads of /proc/meminfo for 400 jobs of 2 rounds", reads);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_huge_users_fail_fast),
        cmocka_unit_test(test_endless_data_file_ends),
        cmocka_unit_test(test_library_estimates),
        cmocka_unit_test(test_wide_features),
        cmocka_unit_test(test_memory_text),
        cmocka_unit_test(test_small_jobs_read_no_meminfo),
        cmocka_unit_test(test_budget_messages_name_the_option),
        cmocka_unit_test(test_lastfm_budget_names_the_option),
        cmocka_unit_test(test_run_without_tapes_over_budget),
    };
    return cmocka_run_group_tests_name("memory budget", tests, NULL, NULL);
}
