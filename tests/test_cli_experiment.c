/* test_cli_experiment.c - experiment files and option values are read
 * strictly (issue 17, defect 4): every malformed line is one error at the
 * right line, long lines are read whole, empty sections are kept,
 * duplicates and out-of-range or non-decimal numbers are refused. */
#include "testutil.h"

#include <dirent.h>
#include <unistd.h>

#include "experiment.h"

static experiment *fresh(void)
{
    experiment *e = calloc(1, sizeof *e);
    assert_non_null(e);
    config_default(&e->base);
    return e;
}

/* Load `text` as spec "x"; returns 0 or -1 with the message in err. */
static int load(experiment *e, const char *text, char *err, size_t len)
{
    return experiment_load_text(e, "x", text, err, len);
}

static void expect_error(const char *text, const char *want)
{
    experiment *e = fresh();
    char err[ERR_LEN];
    if (load(e, text, err, sizeof err) == 0)
        fail_msg("accepted: '%s'", text);
    if (!strstr(err, want))
        fail_msg("'%s': got '%s', want '%s'", text, err, want);
    free(e);
}

static void test_long_lines_are_read_whole(void **state)
{
    (void)state;
    char text[2048], claim[601];
    memset(claim, 'c', 600);
    claim[0] = 'A';
    claim[599] = 'Z';
    claim[600] = '\0';
    snprintf(text, sizeof text, "claim = %.*s\nusers = 10\n", 500, claim); /* a 508-character line */
    experiment *e = fresh();
    char err[ERR_LEN];
    if (load(e, text, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(strlen(e->base.claim), 500);
    assert_int_equal(e->base.sim.env.users, 10);
    free(e);
}

static void test_first_error_stops_with_its_line(void **state)
{
    (void)state;
    /* two bad lines: the first one is reported, with its own reason */
    expect_error("users = 10\nhorizon = ten\nzipf = -1\nnonsense\n", "x:2: horizon");
    expect_error("users = 10\nnonsense line\nhorizon = ten\n", "x:2: expected 'key = value'");
    expect_error("users = 10\n[oops]\nusers = 5\n", "x:2: unknown section [oops]");
    expect_error("[reading a]\n  indented first\n", "x:2:");
    expect_error("[reading a]\nusers = 5\n[reading a]\n", "x:3: reading 'a' is defined twice (first on line 1)");
    expect_error("users = 10\nusers = 12\n", "x:2: 'users' is set twice");
    expect_error("users = 1\n[]\n", "x:2: empty section name");
    /* CR-only line ends (CRLF is fine): one line that would quote the
     * rest of the file, CRs and all, in its error */
    expect_error("users = 10\rhorizon = 5\r", "x:1: expected lines that end in LF or CRLF, found CR");
    expect_error("users = 10\r\nhorizon = 5\rzipf = 1\r\n", "x:2: expected lines that end in LF or CRLF");
}

static void test_empty_sections_are_kept(void **state)
{
    (void)state;
    experiment *e = fresh();
    char err[ERR_LEN];
    if (load(e, "users = 7\n[reading plain]\n[reading other]\nwidth = fixed\n", err, sizeof err))
        fail_msg("%s", err);
    experiment_finish(e);
    assert_int_equal(e->n_readings, 2);
    assert_string_equal(e->reading[0], "plain");
    assert_int_equal(e->cfg[0].sim.env.users, 7);
    assert_int_equal(e->cfg[1].sim.policy.learner.width, COLB_WIDTH_FIXED);
    free(e);
}

static void test_nul_bytes_and_directories(void **state)
{
    (void)state;
    char dir[] = "/tmp/colb-exp-XXXXXX", path[512], err[ERR_LEN];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/nul.conf", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite("users = 10\nhorizon = 5\0 00\n", 1, 27, f);
    fclose(f);
    experiment *e = fresh();
    assert_int_not_equal(experiment_load(e, path, err, sizeof err), 0);
    assert_non_null(strstr(err, ":2: NUL byte"));
    free(e);
    e = fresh();
    assert_int_not_equal(experiment_load(e, dir, err, sizeof err), 0);
    assert_non_null(strstr(err, "is a directory"));
    free(e);
    unlink(path);
    rmdir(dir);
}

static void test_duplicates_are_refused(void **state)
{
    (void)state;
    expect_error("policies = cmlb, club, cmlb\n", "x:1: policies: 'cmlb' is listed twice");
    expect_error("sweep = zipf=1,2,1.0\n", "x:1: sweep: zipf = 1 is listed twice");
    expect_error("sweep = users=10,20,10\n", "sweep: users = 10 is listed twice");
    /* two readings whose plots would be the same files (plot_file_name) */
    expect_error("[reading a/b]\n[reading a_b]\n",
                 "x:2: readings 'a/b' (line 1) and 'a_b' would write the same plot files (as 'a_b'");
    expect_error("users = 4\n[reading fast run]\nusers = 5\n[reading fast:run]\n",
                 "x:4: readings 'fast run' (line 2) and 'fast:run'");
    /* a name that --readings NAME,... would read as two */
    expect_error("users = 4\n[reading a,b]\n", "x:2: reading 'a,b': a reading name has no ','");
    experiment *e = fresh();
    char err[ERR_LEN];
    assert_int_equal(load(e, "[reading a.b]\n[reading a-b]\n[reading A_b]\n", err, sizeof err), 0);
    assert_int_equal(e->n_readings, 3);
    free(e);
}

/* A value of the key that is swept where it applies is used nowhere: a
 * reading's own (under an inherited sweep or its own), a top-level one
 * that every reading sweeps; one that a reading's other sweep uses is
 * fine. */
static void test_swept_values_refused(void **state)
{
    (void)state;
    expect_error("sweep = users=12,24\n[reading d]\nusers = 30\n[reading e]\n",
                 "x:3: 'users' is swept in [reading d] (sweep = users=...), so the value set here is not used");
    expect_error("[reading d]\nnoise = 0.5\nsweep = noise=0.1,1\n", "x:2: 'noise' is swept in [reading d]");
    expect_error("users = 30\nsweep = users=12,24\n", "x:1: 'users' is swept in every reading");
    expect_error("users = 30\nsweep = users=12,24\n[reading a]\n[reading b]\n", "x:1: 'users' is swept in every reading");
    experiment *e = fresh();
    char err[ERR_LEN];
    assert_int_equal(load(e, "users = 30\nsweep = users=12,24\n[reading a]\nsweep = dim=2,3\n[reading b]\n", err,
                          sizeof err), 0);
    free(e);
    e = fresh();
    assert_int_equal(load(e, "sweep = users=12,24\n[reading a]\nsweep = dim=2,3\nusers = 8\n", err, sizeof err), 0);
    free(e);
    /* sweep = none lifts the top level's sweep in a reading, whose own value then holds */
    e = fresh();
    assert_int_equal(load(e, "sweep = users=12,24\n[reading a]\n[reading b]\nsweep = none\nusers = 30\n", err,
                          sizeof err), 0);
    assert_int_equal(e->cfg[0].n_sweep, 2);
    assert_int_equal(e->cfg[1].n_sweep, 0);
    assert_int_equal(e->cfg[1].sim.env.users, 30);
    free(e);
    expect_error("sweep = users\n", "x:1: sweep: expected KEY=V1,V2,... or none, got 'users'");
}

/* a check that names a policy or reading the file does not run would never be
 * judged, and the report would not say so */
static void test_checks_name_what_runs(void **state)
{
    (void)state;
    expect_error("policies = cmlb, linucb-ind\ncheck = cmlb < club\n",
                 "x:2: check: 'club' is not in the policies of any reading");
    expect_error("policies = cmlb\ncheck = cohort < cmlb\n[reading a]\n[reading b]\n",
                 "x:2: check: 'cohort' is not in the policies of any reading");
    expect_error("policies = cmlb, club\ncheck = cmlb/x < club\n[reading a]\n",
                 "x:2: check: 'cmlb/x' names no reading of this file ('x')");
    expect_error("policies = cmlb\ncheck = cmlb/a < club/b\n[reading a]\n[reading b]\npolicies = cmlb\n",
                 "x:2: check: 'club' is not in the policies of reading b");
    experiment *e = fresh();
    char err[ERR_LEN];
    assert_int_equal(load(e,
                          "policies = cmlb\ncheck = cmlb/a < club/b\ncheck = club < random\n"
                          "[reading a]\n[reading b]\npolicies = club, random\n",
                          err, sizeof err),
                     0);
    free(e);
}

static void test_values_are_checked(void **state)
{
    (void)state;
    run_config *c = malloc(sizeof *c);
    config_default(c);
    char err[ERR_LEN];
    static const struct { const char *key, *value; } bad[] = {
        { "title", "two\nlines" }, { "claim", "tab\there" }, { "noise", "0x1p3" }, { "noise", "inf" },
        { "alpha", "1e15" }, { "club-burn-in", "10000000" }, { "lambda", "1e-300" },
        { "club-alpha2", "1e-300" }, { "sigma-theta", "1e7" }, { "max-memory", "lots" },
        /* less than a byte: never 0, the unset budget (the default) */
        { "max-memory", "0" }, { "max-memory", "0.5" }, { "max-memory", "1e-300" }, { "max-memory", "0K" },
        { "max-memory", "1e-4K" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (config_set(c, bad[i].key, bad[i].value, err, sizeof err) == 0)
            fail_msg("%s = '%s' accepted", bad[i].key, bad[i].value);
    /* a number below the smallest double's magnitude reads as its nearest
     * double, as the library's parameters by name (it was "not a number in
     * [0, 1e+06]") */
    assert_int_equal(config_set(c, "noise", "1e-310", err, sizeof err), 0);
    assert_true(c->sim.env.noise == 1e-310);
    assert_int_equal(config_set(c, "noise", "1e-400", err, sizeof err), 0);
    assert_true(c->sim.env.noise == 0.0);
    assert_int_equal(config_set(c, "lambda", "1e-310", err, sizeof err), -1);
    assert_string_equal(err, "lambda: '1e-310' is not a number in [1e-06, 1e+06]");
    /* the range as it reads back: delta's upper bound is 1 - 1e-12, not "1" */
    assert_int_equal(config_set(c, "delta", "1", err, sizeof err), -1);
    assert_string_equal(err, "delta: '1' is not a number in [1e-12, 0.999999999999]");
    assert_int_equal(config_set(c, "max-memory", "0.5", err, sizeof err), -1);
    assert_string_equal(err, "max-memory: '0.5' is less than one byte (a budget such as 8G, 512M or 1e9; "
                             "without the option, 80% of the available memory)");
    assert_int_equal(c->max_memory, 0);
    assert_int_equal(config_set(c, "max-memory", "1.5G", err, sizeof err), 0);
    assert_int_equal(c->max_memory, (size_t)3 << 29);
    assert_int_equal(config_set(c, "max-memory", "1", err, sizeof err), 0);
    assert_int_equal(c->max_memory, 1);
    /* at most 1024T (2^50 bytes): a budget beyond any machine is a typo
     * (and one past 2^64 was "not a byte count") */
    assert_int_equal(config_set(c, "max-memory", "1024T", err, sizeof err), 0);
    assert_true(c->max_memory == (size_t)1 << 50);
    static const char *const huge[] = { "1025T", "1125899906842625", "2e15", "1e20", "16000000T", "1e300" };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        if (config_set(c, "max-memory", huge[i], err, sizeof err) == 0)
            fail_msg("max-memory = '%s' accepted", huge[i]);
        if (!strstr(err, "is more than 1024T (2^50 bytes), beyond any machine's memory") ||
            !strstr(err, huge[i]))
            fail_msg("max-memory = '%s': '%s'", huge[i], err);
    }
    assert_true(c->max_memory == (size_t)1 << 50);
    /* lists say what is wrong with them: an empty item, a long one, too many */
    static const struct { const char *key, *value, *want; } lists[] = {
        { "sweep", "users=10,,20", "sweep: '10,,20' has an empty value" },
        { "policies", "cmlb,", "policies: 'cmlb,' has an empty name" },
        { "sweep", "data-dir=/a,/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
          "sweep: value '/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is longer than 63 "
          "characters" },
        { "sweep", "seed=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33",
          "lists more than 32 values" },
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        if (config_set(c, lists[i].key, lists[i].value, err, sizeof err) == 0)
            fail_msg("%s = '%s' accepted", lists[i].key, lists[i].value);
        if (!strstr(err, lists[i].want))
            fail_msg("%s = '%s': got '%s', want '%s'", lists[i].key, lists[i].value, err, lists[i].want);
    }
    free(c);
}

/* settings.txt holds the shortest text that reads back as the same double */
static void test_shortest_doubles(void **state)
{
    (void)state;
    run_config *c = malloc(sizeof *c);
    config_default(c);
    char err[ERR_LEN], *text = NULL;
    size_t len = 0;
    assert_int_equal(config_set(c, "noise", "0.1", err, sizeof err), 0);
    assert_int_equal(config_set(c, "zipf", "0.30000000000000004", err, sizeof err), 0);
    assert_int_equal(config_set(c, "lambda", "50", err, sizeof err), 0);
    FILE *f = open_memstream(&text, &len);
    config_dump(f, "r", c);
    fclose(f);
    assert_non_null(strstr(text, "\nnoise = 0.1\n"));
    assert_non_null(strstr(text, "\nzipf = 0.30000000000000004\n"));
    assert_non_null(strstr(text, "\ndelta = 0.4\n"));
    assert_non_null(strstr(text, "\nlambda = 50\n")); /* %.1g wrote 5e+01 */
    free(text);
    /* and so do range messages: "[0, 50]", not "[0, 5e+01]" */
    assert_int_not_equal(config_set(c, "zipf", "50.1", err, sizeof err), 0);
    if (!strstr(err, "is not a number in [0, 50]"))
        fail_msg("zipf = 50.1: '%s'", err);
    free(c);
}

/* The fuzzer's experiment seeds named after a figure are that figure's
 * experiments/FIGURE.conf as it is now (its keys and its checks' current
 * syntax and text, which a stale copy misses), and load as specs. */
static void test_fuzz_seeds_are_the_experiments(void **state)
{
    (void)state;
    DIR *d = opendir("experiments");
    if (!d)
        fail_msg("no experiments/ (run from the repository root)");
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".conf"))
            continue;
        char conf[512], seed[512];
        snprintf(conf, sizeof conf, "experiments/%s", de->d_name);
        snprintf(seed, sizeof seed, "tests/fuzz/corpus/experiment/%.*s", (int)(len - 5), de->d_name);
        size_t a_len = 0, b_len = 0;
        char *a = slurp(conf, &a_len), *b = slurp(seed, &b_len);
        assert_non_null(a);
        if (!b)
            fail_msg("no seed %s for %s", seed, conf);
        if (a_len != b_len || memcmp(a, b, a_len))
            fail_msg("%s is not %s as it is now: copy it (cp %s %s)", seed, conf, conf, seed);
        experiment *e = fresh();
        char err[ERR_LEN];
        if (load(e, b, err, sizeof err))
            fail_msg("%s: %s", seed, err);
        assert_true(e->n_checks > 0);
        free(e);
        free(a);
        free(b);
        n++;
    }
    closedir(d);
    assert_true(n >= 6);
}

/* Every key that a shipped experiment file sets (but in [quick]) is read,
 * as `reads` tells, in some reading it applies to (a top-level key: any
 * reading; a key of [reading R]: R); `sweep` stands for the swept option
 * when map_sweep. Fails naming the file, the key and `whose` otherwise. */
static void shipped_keys_are_read(int (*reads)(const run_config *, const char *), int map_sweep,
                                  const char *whose)
{
    FILE *p = popen("ls experiments/*.conf experiments/extra/*.conf 2>/dev/null", "r");
    assert_non_null(p);
    char list[8192];
    size_t got = fread(list, 1, sizeof list - 1, p);
    list[got] = '\0';
    pclose(p);
    int files = 0;
    for (char *path = strtok(list, "\n"); path; path = strtok(NULL, "\n"), files++) {
        experiment *e = fresh();
        char err[ERR_LEN];
        if (experiment_load(e, path, err, sizeof err))
            fail_msg("%s", err);
        experiment_finish(e);
        char *text = slurp(path, NULL), section[NAME_LEN + 16] = "";
        assert_non_null(text);
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            if (l[0] == '[') {
                snprintf(section, sizeof section, "%.*s", (int)strcspn(l + 1, "]"), l + 1);
                continue;
            }
            char key[NAME_LEN];
            snprintf(key, sizeof key, "%.*s", (int)strcspn(l, " \t="), l);
            if (!option_known(key) || !strcmp(section, "quick"))
                continue;
            if (map_sweep && !strcmp(key, "sweep")) /* the swept option is read as the option itself */
                snprintf(key, sizeof key, "%s", e->cfg[0].sweep_key);
            int used = 0;
            for (size_t r = 0; r < e->n_readings && !used; r++)
                if (!section[0] || !strcmp(section + 8, e->reading[r]))
                    used = reads(&e->cfg[r], key);
            if (!used)
                fail_msg("%s: '%s' (in %s) is read by the %s of none of its readings", path, key,
                         section[0] ? section : "the top level", whose);
        }
        free(text);
        free(e);
    }
    assert_true(files >= 14);
}

/* No shipped experiment file sets an option that the environment of no
 * reading it applies to reads: colb run refuses such an option on the
 * command line, and tolerates it in files only for readings of several
 * environments. */
static void test_experiments_set_only_options_their_env_reads(void **state)
{
    (void)state;
    shipped_keys_are_read(config_env_uses, 0, "environment");
}

/* No shipped experiment file sets an option that no policy of the readings
 * it applies to reads, as they set it (config_policies_use): colb run
 * refuses such an option on the command line, and tolerates it in files
 * only because a file's top level serves readings of other policies.
 * (diversify-pmlb.conf set delta = 0.4, which neither PMLB with LinUCB
 * learners nor the pooled learner reads on the fixed width, and which is
 * the default anyway.) */
static void test_experiments_set_only_options_their_policies_read(void **state)
{
    (void)state;
    shipped_keys_are_read(config_policies_use, 1, "policies");
}

/* Which policies read an option, as set (config_policies_use): the
 * library's table, the width's options by the width in force, the
 * tunings' by the tuning, one setting of a sweep sufficing. */
static void test_options_the_policies_read(void **state)
{
    (void)state;
    static const struct {
        const char *set, *key;
        int used;
    } cases[] = {
        { "policies=linucb-ind", "cmlb-alpha", 0 },
        { "policies=linucb-ind,sclb", "cmlb-alpha", 1 },
        { "policies=recommended", "cohort-seeds", 1 }, /* an alias reads what its policy reads */
        { "policies=random", "lambda", 0 },
        { "policies=random", "users", 1 },             /* not an option of the policies */
        { "policies=linucb-ind", "alpha", 1 },
        { "policies=linucb-ind width=oful", "alpha", 0 },
        { "policies=linucb-ind width=oful", "delta", 1 },
        { "policies=linucb-ind", "delta", 0 },
        { "policies=linucb-ind sampling=ts", "delta", 0 }, /* Thompson draws scale with the width */
        { "policies=linucb-ind sampling=ts width=oful", "norm-bound", 1 },
        { "policies=cmlb", "delta", 1 },               /* T_explore */
        { "policies=cmlb", "learner-noise", 0 },
        { "policies=cmlb cmlb-threshold=data", "learner-noise", 1 },
        { "policies=cmlb cmlb-threshold=data cmlb-gamma=0.1", "norm-bound", 0 },
        { "policies=cmlb cmlb-gamma=0.1", "cmlb-threshold", 0 },
        { "policies=sclb cmlb-gamma=0.1", "cmlb-threshold", 1 },
        { "policies=pmlb", "norm-bound", 1 },          /* ALB-norm's bounds */
        { "policies=pmlb pmlb-learner=linucb", "norm-bound", 0 },
        { "policies=cohort", "learner-noise", 1 },
        { "policies=cohort", "sampling", 0 },
        { "policies=linucb-ind tune=1", "alpha", 0 },
        { "policies=linucb-ind tune=1 width=oful", "delta", 0 },
        { "policies=linucb-ind tune=1", "tune-repeats", 1 },
        { "policies=linucb-ind", "tune-repeats", 0 },
        { "policies=club", "alpha", 1 },
        { "policies=club club-alpha=0.3", "alpha", 0 },
        { "policies=club club-alpha=0.3", "club-alpha", 1 },
        { "policies=club club-own-alpha=0", "club-alpha", 0 },
        { "policies=club club-tune=1", "club-alpha2", 0 },
        { "policies=club club-tune=1", "club-burn-in", 1 },
        { "policies=club", "club-burn-in", 0 },
        { "policies=linucb-ind width=oful sweep=width=oful,fixed", "alpha", 1 },
        { "policies=club sweep=club-tune=0,1", "club-tune-repeats", 1 },
        { "policies=linucb-ind sweep=cmlb-alpha=0.1,0.2", "cmlb-alpha", 0 },
    };
    run_config *c = malloc(sizeof *c);
    assert_non_null(c);
    char err[ERR_LEN];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config_default(c);
        char set[256];
        snprintf(set, sizeof set, "%s", cases[i].set);
        for (char *save = NULL, *kv = strtok_r(set, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(kv, '=');
            *eq = '\0';
            if (config_set(c, kv, eq + 1, err, sizeof err))
                fail_msg("%s: %s", cases[i].set, err);
        }
        if (config_policies_use(c, cases[i].key) != cases[i].used)
            fail_msg("%s: %s %s, want %s", cases[i].set, cases[i].key,
                     cases[i].used ? "not read" : "read", cases[i].used ? "read" : "not read");
    }
    free(c);
}

/* --club-alpha turns CLUB's own width on unless --club-own-alpha is given;
 * given, club-own-alpha decides, in either order, from the file or the
 * command line (the results of `--club-alpha X --club-own-alpha 0` and of
 * the other order were different); the tunings that contradict an explicit
 * choice are usage errors. */
static void test_club_own_alpha_in_any_order(void **state)
{
    (void)state;
    static const char *const runs[][4] = {
        /* options in order (NULL ends), then the club-own-alpha wanted */
        { "club-alpha=0.3", "club-own-alpha=0", NULL, "0" },
        { "club-own-alpha=0", "club-alpha=0.3", NULL, "0" },
        { "club-alpha=0.3", "club-own-alpha=1", NULL, "1" },
        { "club-own-alpha=1", "club-alpha=0.3", NULL, "1" },
        { "club-alpha=0.3", NULL, NULL, "1" },
        { "club-own-alpha=1", NULL, NULL, "1" },
        { "club-alpha2=3", NULL, NULL, "0" },
    };
    run_config *c = malloc(sizeof *c);
    assert_non_null(c);
    char err[ERR_LEN], v[64];
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        config_default(c);
        for (size_t k = 0; k < 3 && runs[i][k]; k++) {
            char key[64];
            const char *eq = strchr(runs[i][k], '=');
            snprintf(key, sizeof key, "%.*s", (int)(eq - runs[i][k]), runs[i][k]);
            assert_int_equal(config_set(c, key, eq + 1, err, sizeof err), 0);
        }
        config_get(c, "club-own-alpha", v, sizeof v);
        if (strcmp(v, runs[i][3]))
            fail_msg("%s, %s: club-own-alpha = %s, want %s", runs[i][0], runs[i][1] ? runs[i][1] : "-", v,
                     runs[i][3]);
        assert_int_equal(config_check(c, err, sizeof err), 0);
    }
    /* the file says one thing, the command line (applied after) another */
    experiment *e = fresh();
    assert_int_equal(load(e, "club-own-alpha = 0\n[reading a]\nclub-alpha = 2\n", err, sizeof err), 0);
    experiment_finish(e);
    config_get(&e->cfg[0], "club-own-alpha", v, sizeof v);
    assert_string_equal(v, "0");
    free(e);
    e = fresh();
    assert_int_equal(load(e, "club-alpha = 2\n", err, sizeof err), 0);
    experiment_finish(e);
    assert_int_equal(experiment_set(e, "club-own-alpha", "0", err, sizeof err), 0);
    config_get(&e->cfg[0], "club-own-alpha", v, sizeof v);
    assert_string_equal(v, "0");
    free(e);
    /* contradictions */
    config_default(c);
    assert_int_equal(config_set(c, "club-own-alpha", "0", err, sizeof err), 0);
    assert_int_equal(config_set(c, "club-tune", "1", err, sizeof err), 0);
    assert_int_equal(config_check(c, err, sizeof err), -1);
    assert_non_null(strstr(err, "club-tune = 1 tunes CLUB's own alpha; club-own-alpha = 0"));
    config_default(c);
    assert_int_equal(config_set(c, "club-alpha", "0.3", err, sizeof err), 0);
    assert_int_equal(config_set(c, "tune", "1", err, sizeof err), 0);
    assert_int_equal(config_check(c, err, sizeof err), -1);
    assert_non_null(strstr(err, "club-own-alpha = 1 (set by club-alpha) gives CLUB its own: choose one"));
    assert_int_equal(config_set(c, "club-own-alpha", "0", err, sizeof err), 0);
    assert_int_equal(config_check(c, err, sizeof err), 0);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_lines_are_read_whole),
        cmocka_unit_test(test_first_error_stops_with_its_line),
        cmocka_unit_test(test_empty_sections_are_kept),
        cmocka_unit_test(test_nul_bytes_and_directories),
        cmocka_unit_test(test_duplicates_are_refused),
        cmocka_unit_test(test_swept_values_refused),
        cmocka_unit_test(test_values_are_checked),
        cmocka_unit_test(test_checks_name_what_runs),
        cmocka_unit_test(test_shortest_doubles),
        cmocka_unit_test(test_fuzz_seeds_are_the_experiments),
        cmocka_unit_test(test_club_own_alpha_in_any_order),
        cmocka_unit_test(test_experiments_set_only_options_their_env_reads),
        cmocka_unit_test(test_experiments_set_only_options_their_policies_read),
        cmocka_unit_test(test_options_the_policies_read),
    };
    return cmocka_run_group_tests_name("experiment files", tests, NULL, NULL);
}
