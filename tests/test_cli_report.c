/* test_cli_report.c - claims as checks (verdict.c), the verdicts of a
 * hand-built result set (report_check), report.md (report_write) and the
 * gnuplot figures (plot_figure): skipped without gnuplot, one clear error
 * line when gnuplot fails, non-empty SVG and PNG files with the real one. */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gnuplot.h"
#include "plot.h"
#include "report.h"
#include "run.h"
#include "verdict.h"

/* ---- helpers ------------------------------------------------------------ */


static void make_tmpdir(char *out, size_t len)
{
    snprintf(out, len, "/tmp/colb-test-report-XXXXXX");
    assert_non_null(mkdtemp(out));
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[2048];
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            struct stat st;
            if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(p);
            else
                remove(p);
        }
    closedir(d);
    rmdir(dir);
}

/* Number of files in dir whose name ends with `suffix`. */
static int count_suffix(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    size_t k = strlen(suffix);
    while ((de = readdir(d))) {
        size_t m = strlen(de->d_name);
        n += m >= k && !strcmp(de->d_name + m - k, suffix);
    }
    closedir(d);
    return n;
}

static int has_line_count(const char *s, int want)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n == want;
}

#define assert_contains(hay, needle)                                                 \
    do {                                                                              \
        if (!strstr((hay), (needle)))                                                 \
            fail_msg("expected to find '%s' in:\n%.3000s", (needle), (hay));           \
    } while (0)

/* ---- check_parse --------------------------------------------------------- */

static void test_parse_good(void **state)
{
    (void)state;
    check c;
    char err[512];
    assert_int_equal(check_parse("cmlb < linucb-ind | CMLB beats LinUCB-Ind", &c, err, sizeof err), 0);
    assert_int_equal(c.op, OP_LESS);
    assert_string_equal(c.a, "cmlb");
    assert_string_equal(c.b, "linucb-ind");
    assert_string_equal(c.text, "CMLB beats LinUCB-Ind");

    assert_int_equal(check_parse("cmlb<club", &c, err, sizeof err), 0);
    assert_int_equal(c.op, OP_LESS);
    assert_string_equal(c.b, "club");
    assert_string_equal(c.text, "");

    assert_int_equal(check_parse("  pmlb ~ club|competitive", &c, err, sizeof err), 0);
    assert_int_equal(c.op, OP_SIMILAR);
    assert_string_equal(c.a, "pmlb");
    assert_string_equal(c.text, "competitive");

    assert_int_equal(check_parse("cmlb < linucb-ind @last | at large N", &c, err, sizeof err), 0);
    assert_int_equal(c.op, OP_LESS_AT_LAST);
    assert_string_equal(c.b, "linucb-ind");

    assert_int_equal(check_parse("linucb-ind - cmlb decreasing | gap closes", &c, err, sizeof err), 0);
    assert_int_equal(c.op, OP_GAP_DECREASING);
    assert_string_equal(c.a, "linucb-ind");
    assert_string_equal(c.b, "cmlb");

    assert_int_equal(check_parse("a\t<\tb\t@last", &c, err, sizeof err), 0); /* tabs are blanks */
    assert_int_equal(c.op, OP_LESS_AT_LAST);

    /* format and parse again give the same check */
    static const char *const specs[] = { "cmlb < club", "cmlb ~ club", "x - y decreasing" };
    for (size_t i = 0; i < 3; i++) {
        check c1, c2;
        char buf[160];
        assert_int_equal(check_parse(specs[i], &c1, err, sizeof err), 0);
        check_format(&c1, buf, sizeof buf);
        assert_int_equal(check_parse(buf, &c2, err, sizeof err), 0);
        assert_int_equal(c1.op, c2.op);
        assert_string_equal(c1.a, c2.a);
        assert_string_equal(c1.b, c2.b);
    }
}

static void test_parse_bad(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "| only text", "cmlb", "cmlb <", "cmlb > club", "cmlb = club", "CMLB < club",
        "cmlb < club extra", "cmlb ~ club @last", "cmlb < club @lastx", "cmlb - club",
        "cmlb - club decreasingly", "cmlb-club decreasing", "< club", "cmlb << club",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        check c;
        char err[512] = "";
        if (check_parse(bad[i], &c, err, sizeof err) != -1)
            fail_msg("check_parse accepted '%s'", bad[i]);
        if (!strstr(err, "check:") || !has_line_count(err, 0))
            fail_msg("'%s': error '%s' is not one line starting with 'check:'", bad[i], err);
    }
}

/* ---- check_eval ---------------------------------------------------------- */

static verdict eval(const char *spec, const double *ma, const double *ca, const double *mb,
                    const double *cb, size_t n)
{
    check c;
    char err[256], why[512];
    assert_int_equal(check_parse(spec, &c, err, sizeof err), 0);
    why[0] = '\0';
    verdict v = check_eval(&c, ma, ca, mb, cb, NULL, n, why, sizeof why);
    if (!why[0])
        fail_msg("check_eval('%s') gave no reason", spec);
    return v;
}

static void test_eval_less(void **state)
{
    (void)state;
    /* below everywhere, significantly at 2 of 3 > half */
    {
        double ma[] = { 1, 1, 1 }, ca[] = { .1, .1, .5 }, mb[] = { 2, 2, 1.2 }, cb[] = { .1, .1, .1 };
        assert_int_equal(eval("a < b", ma, ca, mb, cb, 3), V_SUPPORTED);
    }
    /* below everywhere, significantly at exactly half (1 of 2): inconclusive */
    {
        double ma[] = { 1, 1 }, ca[] = { .1, .5 }, mb[] = { 2, 1.2 }, cb[] = { .1, .1 };
        assert_int_equal(eval("a < b", ma, ca, mb, cb, 2), V_INCONCLUSIVE);
    }
    /* touching intervals are not significant: mA + cA == mB - cB */
    {
        double ma[] = { 1 }, ca[] = { .5 }, mb[] = { 2 }, cb[] = { .5 };
        assert_int_equal(eval("a < b", ma, ca, mb, cb, 1), V_INCONCLUSIVE);
        double cb2[] = { .25 };
        assert_int_equal(eval("a < b", ma, ca, mb, cb2, 1), V_SUPPORTED);
    }
    /* significantly above at one point, below at the others: not supported */
    {
        double ma[] = { 1, 1, 1, 3 }, ca[] = { .1, .1, .1, .1 }, mb[] = { 2, 2, 2, 2 }, cb[] = { .1, .1, .1, .1 };
        assert_int_equal(eval("a < b", ma, ca, mb, cb, 4), V_NOT_SUPPORTED);
    }
    /* above (not significantly) at exactly half of the points: not supported */
    {
        double ma[] = { 1, 1, 2.1, 2.1 }, ca[] = { .1, .1, 1, 1 }, mb[] = { 2, 2, 2, 2 }, cb[] = { .1, .1, .1, .1 };
        assert_int_equal(eval("a < b", ma, ca, mb, cb, 4), V_NOT_SUPPORTED);
    }
    /* above (not significantly) at 1 of 3: inconclusive */
    {
        double ma[] = { 1, 1, 2.1 }, ca[] = { .1, .1, 1 }, mb[] = { 2, 2, 2 }, cb[] = { .1, .1, .1 };
        assert_int_equal(eval("a < b", ma, ca, mb, cb, 3), V_INCONCLUSIVE);
    }
    /* ties count as "not below" */
    {
        double ma[] = { 2 }, ca[] = { 0 }, mb[] = { 2 }, cb[] = { 0 };
        assert_int_equal(eval("a < b", ma, ca, mb, cb, 1), V_NOT_SUPPORTED);
    }
    /* no points, and NaN numbers: not run */
    {
        double ma[] = { NAN, 1 }, ca[] = { .1, .1 }, mb[] = { 2, 2 }, cb[] = { .1, .1 };
        assert_int_equal(eval("a < b", ma, ca, mb, cb, 0), V_NOT_RUN);
        assert_int_equal(eval("a < b", ma, ca, mb, cb, 2), V_NOT_RUN);
        double ma2[] = { 1, 1 }, cb2[] = { .1, INFINITY };
        assert_int_equal(eval("a < b", ma2, ca, mb, cb2, 2), V_NOT_RUN);
    }
}

static void test_eval_less_at_last(void **state)
{
    (void)state;
    /* A is worse at the first points, significantly better at the last */
    double ma[] = { 5, 5, 1 }, ca[] = { .1, .1, .1 }, mb[] = { 2, 2, 2 }, cb[] = { .1, .1, .1 };
    assert_int_equal(eval("a < b @last", ma, ca, mb, cb, 3), V_SUPPORTED);
    assert_int_equal(eval("a < b", ma, ca, mb, cb, 3), V_NOT_SUPPORTED);
    /* below at the last point but not significantly */
    double ma2[] = { 1, 1, 1.9 }, ca2[] = { .1, .1, .3 };
    assert_int_equal(eval("a < b @last", ma2, ca2, mb, cb, 3), V_INCONCLUSIVE);
    /* above at the last point */
    double ma3[] = { 1, 1, 2.05 }, ca3[] = { .1, .1, .3 };
    assert_int_equal(eval("a < b @last", ma3, ca3, mb, cb, 3), V_NOT_SUPPORTED);
}

static void test_eval_similar(void **state)
{
    (void)state;
    double mb[] = { 100, 100 }, cb[] = { 1, 1 };
    /* exactly 10% above B with separate intervals: within, supported */
    {
        double ma[] = { 110, 100 }, ca[] = { 1, 1 };
        assert_int_equal(eval("a ~ b", ma, ca, mb, cb, 2), V_SUPPORTED);
    }
    /* far above but the intervals overlap: supported */
    {
        double ma[] = { 150, 100 }, ca[] = { 60, 1 };
        assert_int_equal(eval("a ~ b", ma, ca, mb, cb, 2), V_SUPPORTED);
    }
    /* much better is never a failure of "competitive" */
    {
        double ma[] = { 10, 20 }, ca[] = { 1, 1 };
        assert_int_equal(eval("a ~ b", ma, ca, mb, cb, 2), V_SUPPORTED);
    }
    /* whole interval above 110% of B's upper end: not supported */
    {
        double ma[] = { 100, 125 }, ca[] = { 1, 1 }; /* 124 > 1.1 * 101 = 111.1 */
        assert_int_equal(eval("a ~ b", ma, ca, mb, cb, 2), V_NOT_SUPPORTED);
    }
    /* more than 10% above in the mean, separate intervals, but the excess
     * over 10% is not significant: inconclusive */
    {
        double ma[] = { 100, 112 }, ca[] = { 1, 5 }; /* 107 > 101 but 107 < 111.1 */
        assert_int_equal(eval("a ~ b", ma, ca, mb, cb, 2), V_INCONCLUSIVE);
    }
    /* boundary of "not supported": mA - cA == 1.1 (mB + cB) is not above */
    {
        double ma[] = { 100, 112.1 }, ca[] = { 1, 1 }, mb2[] = { 100, 100 }, cb2[] = { 1, 1 };
        /* 111.1 vs 1.1 * 101 = 111.1 (up to rounding): not strictly above */
        verdict v = eval("a ~ b", ma, ca, mb2, cb2, 2);
        assert_true(v == V_INCONCLUSIVE || v == V_NOT_SUPPORTED);
        double ma2[] = { 100, 112.2 };
        assert_int_equal(eval("a ~ b", ma2, ca, mb2, cb2, 2), V_NOT_SUPPORTED);
        double ma3[] = { 100, 112.0 };
        assert_int_equal(eval("a ~ b", ma3, ca, mb2, cb2, 2), V_INCONCLUSIVE);
    }
}

static void test_eval_gap(void **state)
{
    (void)state;
    double mb[] = { 1, 1, 1 }, cb[] = { .1, .1, .1 };
    /* gap 4 -> 1 with small CIs: supported */
    {
        double ma[] = { 5, 3, 2 }, ca[] = { .1, .1, .1 };
        assert_int_equal(eval("a - b decreasing", ma, ca, mb, cb, 3), V_SUPPORTED);
    }
    /* gap 1 -> 4: not supported */
    {
        double ma[] = { 2, 3, 5 }, ca[] = { .1, .1, .1 };
        assert_int_equal(eval("a - b decreasing", ma, ca, mb, cb, 3), V_NOT_SUPPORTED);
    }
    /* gap shrinks, but less than the combined half-widths: inconclusive */
    {
        double ma[] = { 3, 3, 2.5 }, ca[] = { 1, 1, 1 };
        assert_int_equal(eval("a - b decreasing", ma, ca, mb, cb, 3), V_INCONCLUSIVE);
    }
    /* one point is not enough */
    {
        double ma[] = { 5 }, ca[] = { .1 };
        assert_int_equal(eval("a - b decreasing", ma, ca, mb, cb, 1), V_INCONCLUSIVE);
    }
    /* boundary: half-widths sqrt(0.3^2 + 0.4^2) = 0.5 each; gaps 2 -> 1 touch */
    {
        double ma[] = { 3, 2 }, ca[] = { .3, .3 }, mb2[] = { 1, 1 }, cb2[] = { .4, .4 };
        assert_int_equal(eval("a - b decreasing", ma, ca, mb2, cb2, 2), V_INCONCLUSIVE);
        double ma2[] = { 3, 1.9 };
        assert_int_equal(eval("a - b decreasing", ma2, ca, mb2, cb2, 2), V_SUPPORTED);
    }
    assert_string_equal(verdict_name(V_SUPPORTED), "supported");
    assert_string_equal(verdict_name(V_NOT_SUPPORTED), "not supported");
    assert_string_equal(verdict_name(V_INCONCLUSIVE), "inconclusive");
    assert_string_equal(verdict_name(V_NOT_RUN), "not run");
}

/* Paired repeats: the verdicts judge the per-repeat differences. */
static void test_eval_paired(void **state)
{
    (void)state;
    check c;
    char err[256], why[512];
    /* the intervals overlap (unpaired: inconclusive), the paired
     * difference is well below 0 at every point: supported */
    double ma[] = { 6.2, 6.2 }, ca[] = { 2, 2 }, mb[] = { 7, 7 }, cb[] = { 2, 2 };
    paired_point pp[] = { { -0.8, 0.05, -1.5, 0.05 }, { -0.8, 0.05, -1.5, 0.05 } };
    assert_int_equal(check_parse("a < b", &c, err, sizeof err), 0);
    assert_int_equal(check_eval(&c, ma, ca, mb, cb, NULL, 2, why, sizeof why), V_INCONCLUSIVE);
    assert_int_equal(check_eval(&c, ma, ca, mb, cb, pp, 2, why, sizeof why), V_SUPPORTED);
    assert_contains(why, "paired");
    /* B < A: significantly above, paired: not supported */
    assert_int_equal(check_parse("b < a", &c, err, sizeof err), 0);
    paired_point pq[] = { { 0.8, 0.05, 0.1, 0.05 }, { 0.8, 0.05, 0.1, 0.05 } };
    assert_int_equal(check_eval(&c, mb, cb, ma, ca, NULL, 2, why, sizeof why), V_NOT_SUPPORTED);
    assert_int_equal(check_eval(&c, mb, cb, ma, ca, pq, 2, why, sizeof why), V_NOT_SUPPORTED);
    /* competitive: 7 against 6.2 is 13% above with overlapping intervals
     * (unpaired: supported); paired, B + 10% is significantly exceeded: not
     * supported; an excess over 10% that is not significant: inconclusive */
    assert_int_equal(check_parse("b ~ a", &c, err, sizeof err), 0);
    assert_int_equal(check_eval(&c, mb, cb, ma, ca, NULL, 2, why, sizeof why), V_SUPPORTED);
    assert_int_equal(check_eval(&c, mb, cb, ma, ca, pq, 2, why, sizeof why), V_NOT_SUPPORTED);
    paired_point pr[] = { { 0.8, 0.05, 0.1, 0.2 }, { 0.8, 0.05, 0.1, 0.2 } };
    assert_int_equal(check_eval(&c, mb, cb, ma, ca, pr, 2, why, sizeof why), V_INCONCLUSIVE);
    /* the difference not significant (its spread is wide) while the excess
     * over 10% is (its spread is narrow): not supported - the evidence of
     * being worse wins over the lack of evidence of a difference (it said
     * supported, and "significantly worse by >10% at 2" in the same line) */
    paired_point pw[] = { { 0.8, 2.0, 0.05, 0.01 }, { 0.8, 2.0, 0.05, 0.01 } };
    assert_int_equal(check_eval(&c, mb, cb, ma, ca, pw, 2, why, sizeof why), V_NOT_SUPPORTED);
    assert_contains(why, "significantly worse by >10% at 2");
    /* the gap: -0.8 +- 0.05 -> -0.2 +- 0.05 paired (unpaired +-2.8 each) */
    assert_int_equal(check_parse("a - b decreasing", &c, err, sizeof err), 0);
    paired_point ps[] = { { 0.8, 0.05, 0, 0.1 }, { 0.2, 0.05, 0, 0.1 } };
    double ma3[] = { 7.8, 7.2 };
    assert_int_equal(check_eval(&c, ma3, ca, mb, cb, NULL, 2, why, sizeof why), V_INCONCLUSIVE);
    assert_int_equal(check_eval(&c, ma3, ca, mb, cb, ps, 2, why, sizeof why), V_SUPPORTED);
    /* a paired point that is not finite: the intervals */
    paired_point pn[] = { { -0.8, 0.05, -1.5, 0.05 }, { NAN, 0.05, -1.5, 0.05 } };
    assert_int_equal(check_parse("a < b", &c, err, sizeof err), 0);
    assert_int_equal(check_eval(&c, ma, ca, mb, cb, pn, 2, why, sizeof why), V_INCONCLUSIVE);
}

/* ---- a hand-built result set --------------------------------------------- */

static void set(run_config *c, const char *k, const char *v)
{
    char err[512];
    if (config_set(c, k, v, err, sizeof err))
        fail_msg("config_set(%s, %s): %s", k, v, err);
}

static void add_check(experiment *e, const char *spec)
{
    char err[512];
    if (check_parse(spec, &e->checks[e->n_checks], err, sizeof err))
        fail_msg("%s", err);
    e->n_checks++;
}

/* An experiment with readings r0 (and r1), policies oracle, cmlb,
 * linucb-ind, random, and `sweep` (may be NULL). */
static experiment *make_experiment(const char *fig, const char *sweep, size_t readings)
{
    experiment *e = calloc(1, sizeof *e);
    assert_non_null(e);
    config_default(&e->base);
    set(&e->base, "policies", "oracle,cmlb,linucb-ind,random");
    set(&e->base, "horizon", "200");
    set(&e->base, "repeats", "5");
    set(&e->base, "title", "Regret vs users (test)");
    set(&e->base, "claim", "CMLB beats LinUCB-Ind | and more");
    if (sweep)
        set(&e->base, "sweep", sweep);
    snprintf(e->figure, sizeof e->figure, "%s", fig);
    e->n_readings = readings;
    for (size_t r = 0; r < readings; r++) {
        e->cfg[r] = e->base;
        snprintf(e->reading[r], NAME_LEN, "r%zu", r);
    }
    if (readings > 1) {
        set(&e->cfg[1], "noise", "0.5");
        snprintf(e->reading_note[1], sizeof e->reading_note[1], "noisier rewards");
    }
    return e;
}

static void add_row(result_set *rs, size_t r, size_t s, const char *policy, double mean, double ci,
                    double ratio, size_t K, size_t T)
{
    if (rs->n_rows == rs->cap) {
        rs->cap = rs->cap ? 2 * rs->cap : 16;
        rs->rows = realloc(rs->rows, rs->cap * sizeof *rs->rows);
        assert_non_null(rs->rows);
    }
    result_row *w = &rs->rows[rs->n_rows++];
    memset(w, 0, sizeof *w);
    w->reading = r;
    w->sweep = s;
    snprintf(w->policy, NAME_LEN, "%s", policy);
    w->repeats = 5;
    w->mean = mean;
    w->ci = ci;
    w->has_ratio = !isnan(ratio);
    w->ratio_mean = ratio;
    w->ratio_ci = isnan(ratio) ? NAN : 0.02;
    w->wall = 0.25;
    snprintf(w->info, sizeof w->info, "%s", !strcmp(policy, "cmlb") ? "T_explore=40 clusters=4" : "");
    w->points = K;
    w->round = malloc(K * sizeof(size_t));
    w->cmean = malloc(4 * K * sizeof(double));
    assert_non_null(w->round);
    assert_non_null(w->cmean);
    w->cci = w->cmean + K;
    w->rmean = w->cmean + 2 * K;
    w->rci = w->cmean + 3 * K;
    for (size_t k = 0; k < K; k++) {
        double frac = (double)(k + 1) / (double)K;
        w->round[k] = (size_t)(frac * (double)T);
        w->cmean[k] = mean * sqrt(frac);
        w->cci[k] = ci * sqrt(frac);
        w->rmean[k] = isnan(ratio) ? NAN : ratio;
        w->rci[k] = isnan(ratio) ? NAN : 0.02;
    }
}

/* Reading 0: cmlb significantly below linucb-ind at every point.
 * Reading 1: cmlb significantly above linucb-ind at the last point. */
static void fill(result_set *rs, const experiment *e, size_t K)
{
    memset(rs, 0, sizeof *rs);
    rs->e = e;
    rs->wall = 3.5;
    size_t n = e->cfg[0].n_sweep ? e->cfg[0].n_sweep : 1;
    for (size_t r = 0; r < e->n_readings; r++)
        for (size_t s = 0; s < n; s++) {
            double x = (double)(s + 1);
            add_row(rs, r, s, "oracle", 1.0 * x, 0.1, 0.1, K, 200);
            double cm = r == 0 ? 3.0 * x : (s + 1 == n ? 9.0 * x : 3.0 * x);
            add_row(rs, r, s, "cmlb", cm, 0.2, cm / (10.0 * x), K, 200);
            add_row(rs, r, s, "linucb-ind", 6.0 * x, 0.3, 0.6, K, 200);
            add_row(rs, r, s, "random", 10.0 * x, 0.5, 1.0, K, 200);
        }
    snprintf(rs->tuned[0][0], sizeof rs->tuned[0][0], "club-alpha=0.5,club-alpha2=1");
}

static void test_report_check(void **state)
{
    (void)state;
    experiment *e = make_experiment("figt", "users=10,20,50", 2);
    add_check(e, "cmlb < linucb-ind | CMLB beats LinUCB-Ind");
    add_check(e, "cmlb < club | CMLB beats CLUB");
    add_check(e, "oracle < cmlb @last");
    result_set rs;
    fill(&rs, e, 5);
    char why[512];
    assert_int_equal(report_check(e, &rs, &e->checks[0], 0, why, sizeof why), V_SUPPORTED);
    assert_int_equal(report_check(e, &rs, &e->checks[0], 1, why, sizeof why), V_NOT_SUPPORTED);
    assert_int_equal(report_check(e, &rs, &e->checks[1], 0, why, sizeof why), V_NOT_RUN);
    assert_contains(why, "club");
    assert_int_equal(report_check(e, &rs, &e->checks[2], 1, why, sizeof why), V_SUPPORTED);
    assert_int_equal(report_check(e, NULL, &e->checks[0], 0, why, sizeof why), V_NOT_RUN);
    assert_int_equal(report_check(e, &rs, &e->checks[0], 5, why, sizeof why), V_NOT_RUN);
    /* across readings: judged point by point where both sweep the same
     * values; refused where they do not (points were paired by index,
     * users = 50 against 60) */
    add_check(e, "cmlb/r1 < linucb-ind");
    assert_int_not_equal(report_check(e, &rs, &e->checks[3], 0, why, sizeof why), V_NOT_RUN);
    snprintf(e->cfg[1].sweep_values[2], sizeof e->cfg[1].sweep_values[2], "60");
    assert_int_equal(report_check(e, &rs, &e->checks[3], 0, why, sizeof why), V_NOT_RUN);
    assert_contains(why, "do not sweep the same values");
    snprintf(e->cfg[1].sweep_values[2], sizeof e->cfg[1].sweep_values[2], "50");
    e->n_checks--;

    /* the ratio metric: cmlb/random 0.3 vs linucb-ind 0.6 in reading 0 */
    e->metric = METRIC_RATIO;
    assert_int_equal(report_check(e, &rs, &e->checks[0], 0, why, sizeof why), V_SUPPORTED);
    /* without a random policy there is no ratio: not run */
    for (size_t i = 0; i < rs.n_rows; i++)
        rs.rows[i].ratio_mean = rs.rows[i].ratio_ci = NAN;
    assert_int_equal(report_check(e, &rs, &e->checks[0], 0, why, sizeof why), V_NOT_RUN);
    assert_contains(why, "random");
    result_set_free(&rs);

    /* paired repeats: at every point cmlb's 5 repeats are linucb-ind's less
     * 0.8 (+- 0.01), over a spread of 5 ... 9 that both share; the two
     * intervals (+- 1.96) overlap, the differences do not reach 0 */
    e->metric = METRIC_REGRET;
    memset(&rs, 0, sizeof rs);
    rs.e = e;
    for (size_t r = 0; r < 2; r++)
        for (size_t s = 0; s < 3; s++) {
            static const double lin[5] = { 5, 6, 7, 8, 9 }, jit[5] = { .01, -.01, 0, .005, -.005 };
            add_row(&rs, r, s, "linucb-ind", 7.0, 1.963, NAN, 3, 200);
            add_row(&rs, r, s, "cmlb", 6.2, 1.963, NAN, 3, 200);
            result_row *wl = &rs.rows[rs.n_rows - 2], *wc = &rs.rows[rs.n_rows - 1];
            wl->rep = malloc(10 * sizeof(double));
            wc->rep = malloc(10 * sizeof(double));
            assert_non_null(wl->rep);
            assert_non_null(wc->rep);
            for (size_t j = 0; j < 5; j++) {
                wl->rep[j] = lin[j];
                wc->rep[j] = lin[j] - 0.8 + jit[j];
                wl->rep[5 + j] = wc->rep[5 + j] = NAN;
            }
        }
    assert_int_equal(report_check(e, &rs, &e->checks[0], 0, why, sizeof why), V_SUPPORTED);
    assert_contains(why, "significantly at 3");
    assert_contains(why, "paired");
    /* rows without their repeats: the intervals, which overlap */
    for (size_t i = 0; i < rs.n_rows; i++) {
        free(rs.rows[i].rep);
        rs.rows[i].rep = NULL;
    }
    assert_int_equal(report_check(e, &rs, &e->checks[0], 0, why, sizeof why), V_INCONCLUSIVE);
    result_set_free(&rs);
    free(e);
}

static void test_report_write(void **state)
{
    (void)state;
    char dir[64], path[256];
    make_tmpdir(dir, sizeof dir);
    experiment *e = make_experiment("figt", "users=10,20,50", 2);
    add_check(e, "cmlb < linucb-ind | CMLB beats LinUCB-Ind");
    add_check(e, "cmlb ~ oracle | CMLB is competitive with the oracle");
    set(&e->cfg[1], "policies", "oracle,cmlb,linucb-ind,random,club");
    set(&e->cfg[1], "club-alpha", "0.3"); /* CLUB's own width: flagged */
    /* skipped: its one check of one of its two readings is one "not run" (it
     * counted checks x readings) */
    experiment *e2 = make_experiment("figskip", NULL, 2);
    add_check(e2, "cmlb/r1 < linucb-ind | CMLB beats LinUCB-Ind in r1");
    /* a [quick] value equal to the full run's is not listed as a reduction */
    e->quick_applied = 1;
    e->n_quick = 2;
    static const char *const qk[2][3] = { { "repeats", "4", "4" }, { "horizon", "1000", "500" } };
    for (int i = 0; i < 2; i++) {
        snprintf(e->quick_key[i], sizeof e->quick_key[i], "%s", qk[i][0]);
        snprintf(e->quick_full[i], sizeof e->quick_full[i], "%s", qk[i][1]);
        snprintf(e->quick_val[i], sizeof e->quick_val[i], "%s", qk[i][2]);
    }
    result_set rs;
    fill(&rs, e, 4);
    figure_result figs[2] = {
        { .e = e, .rs = &rs, .dir = "figt", .plots = PLOT_SKIPPED },
        { .e = e2, .rs = NULL, .dir = "figskip", .skipped = 1, .skip_reason = "the Last.FM data set is missing" },
    };
    report_meta meta = { .command = "colb reproduce --quick", .commit = "abc1234", .version = "0.1.0",
                         .date = "2024-01-02T03:04:05Z", .quick = 1, .wall = 12.5 };
    char err[512];
    snprintf(path, sizeof path, "%s/report.md", dir);
    assert_int_equal(report_write(path, figs, 2, &meta, err, sizeof err), 0);
    char *text = slurp(path, NULL);
    assert_non_null(text);
    assert_contains(text, "`colb reproduce --quick`");
    assert_contains(text, "abc1234");
    assert_contains(text, "quick");
    assert_contains(text, "| figure | claim | reading | verdict |");
    /* the rule as applied: a tie is "not below", not "above" */
    assert_contains(text, "not below it (above or equal) at half of the points or more");
    assert_contains(text, "CMLB beats LinUCB-Ind (`cmlb < linucb-ind`) | r0 | **supported** (quick) |");
    assert_contains(text, "CMLB beats LinUCB-Ind (`cmlb < linucb-ind`) | r1 | **not supported** (quick) |");
    /* cmlb is 3x the oracle: significantly more than 10% worse */
    assert_contains(text, "(`cmlb ~ oracle`) | r0 | **not supported** (quick) |");
    assert_contains(text, "not run: the Last.FM data set is missing");
    assert_contains(text, "In all: 1 supported, 3 not supported, 0 inconclusive, 1 not run.");
    assert_contains(text, "not the paper's sizes: horizon `1000` → `500`.");
    /* per figure: claim, table of mean +- ci, settings, notes, tuned, info */
    assert_contains(text, "CMLB beats LinUCB-Ind \\| and more");
    assert_contains(text, "| users | oracle | cmlb | linucb-ind | random |");
    assert_contains(text, "| 10 | 1 ± 0.1 | **3 ± 0.2** | 6 ± 0.3 | 10 ± 0.5 |");
    assert_contains(text, "noisier rewards");
    assert_contains(text, "env = clustered, N = {10, 20, 50} users in L = 4 clusters");
    assert_contains(text, "T = 200 rounds, 5 repeats, noise sigma = 0.1, width = fixed (alpha = 0.25)");
    /* equal footing: the shared width, the reference oracle, the override */
    assert_contains(text, "**Exploration.** Every policy: fixed alpha = 0.25; UCB. The reference `oracle`");
    assert_contains(text, "**Not on equal footing:** club explores with a width of its own "
                          "(OVERRIDE, CLUB's own: club-alpha = 0.3");
    assert_contains(text, "`noise = 0.5");
    assert_contains(text, "club-alpha=0.5,club-alpha2=1");
    assert_contains(text, "T_explore=40 clusters=4");
    assert_contains(text, "gnuplot was not found");
    assert_contains(text, "- **supported**: CMLB beats LinUCB-Ind");
    assert_contains(text, "**Not run:** the Last.FM data set is missing");
    assert_contains(text, "[summary.csv](figt/summary.csv)");
    assert_null(strstr(text, "![")); /* no plots were drawn */
    /* reading 1, last point: linucb-ind 18 +- 0.3 is significantly lowest */
    assert_contains(text, "| 50 | 3 ± 0.1 | 27 ± 0.2 | **18 ± 0.3** | 30 ± 0.5 |");
    free(text);

    /* no bold where the lowest mean is not significantly lowest */
    experiment *e3 = make_experiment("figb", NULL, 1);
    result_set rs3;
    memset(&rs3, 0, sizeof rs3);
    rs3.e = e3;
    add_row(&rs3, 0, 0, "oracle", 1.0, 0.1, NAN, 2, 200);
    add_row(&rs3, 0, 0, "cmlb", 3.0, 0.5, NAN, 2, 200);
    add_row(&rs3, 0, 0, "linucb-ind", 3.4, 0.5, NAN, 2, 200);
    figure_result fb = { .e = e3, .rs = &rs3, .dir = "figb", .plots = PLOT_SKIPPED };
    assert_int_equal(report_write(path, &fb, 1, &meta, err, sizeof err), 0);
    text = slurp(path, NULL);
    assert_non_null(text);
    assert_contains(text, "| 200 | 1 ± 0.1 | 3 ± 0.5 | 3.4 ± 0.5 |");
    free(text);
    result_set_free(&rs3);
    free(e3);
    /* no temporary file left behind */
    assert_int_equal(count_suffix(dir, ".md"), 1);
    assert_int_equal(count_suffix(dir, ".tmp"), 0);

    /* an unwritable path fails with a message */
    err[0] = '\0';
    assert_int_not_equal(report_write("/nonexistent-dir/report.md", figs, 2, &meta, err, sizeof err), 0);
    assert_true(err[0] != '\0');
    result_set_free(&rs);
    free(e);
    free(e2);
    remove_tree(dir);
}

/* ---- plots ------------------------------------------------------------------ */

static int gnuplot_on_path(void)
{
    const char *path = getenv("PATH");
    char p[2048];
    for (const char *s = path ? path : ""; s && *s;) {
        const char *c = strchr(s, ':');
        size_t n = c ? (size_t)(c - s) : strlen(s);
        snprintf(p, sizeof p, "%.*s/gnuplot", (int)n, s);
        if (access(p, X_OK) == 0)
            return 1;
        s = c ? c + 1 : NULL;
    }
    return 0;
}

static void test_plot_skipped(void **state)
{
    (void)state;
    char dir[64], err[512] = "";
    make_tmpdir(dir, sizeof dir);
    experiment *e = make_experiment("figt", "users=10,20,50", 1);
    result_set rs;
    fill(&rs, e, 4);
    setenv("COLB_GNUPLOT", "/nonexistent/bin/gnuplot", 1);
    assert_int_equal(plot_figure(&rs, METRIC_REGRET, dir, "figt", NULL, err, sizeof err), PLOT_SKIPPED);
    assert_int_equal(plot_figure(&rs, METRIC_REGRET, dir, "figt", NULL, err, sizeof err), PLOT_SKIPPED);
    unsetenv("COLB_GNUPLOT");
    assert_int_equal(count_suffix(dir, ".png"), 0);
    assert_int_equal(count_suffix(dir, ".svg"), 0);
    /* the scripts and their data are there to be drawn later, as with
     * --plots 0 (none were written, while the run said "plots ...png") */
    assert_int_equal(count_suffix(dir, ".gp"), 2);
    assert_int_equal(count_suffix(dir, ".dat"), 2);
    result_set_free(&rs);
    free(e);
    remove_tree(dir);
}

/* An executable "gnuplot" shell script with text `script` in folder dir;
 * its path into fake. */
static void write_fake_gnuplot(const char *dir, const char *script, char *fake, size_t fake_len)
{
    snprintf(fake, fake_len, "%s/fake-gnuplot", dir);
    FILE *f = fopen(fake, "w");
    assert_non_null(f);
    fputs(script, f);
    fclose(f);
    assert_int_equal(chmod(fake, 0755), 0);
}

/* A "gnuplot" that fails like the real one: one clear error line, no
 * images, the figure's later plots not drawn (their .dat and .gp written);
 * not a failure of the run (PLOT_FAILED: the results stay). */
static void test_plot_gnuplot_fails(void **state)
{
    (void)state;
    char dir[64], fake[128], err[1024] = "";
    make_tmpdir(dir, sizeof dir);
    write_fake_gnuplot(dir, "#!/bin/sh\necho 'plot data index 0 using 1:2' >&2\necho '     ^' >&2\n"
          "echo '\"x.gp\" line 3: undefined variable: foo' >&2\necho 'closing remark' >&2\n"
          "echo '' >&2\nexit 1\n", fake, sizeof fake);
    experiment *e = make_experiment("figt", "users=10,20,50", 1);
    result_set rs;
    fill(&rs, e, 4);
    setenv("COLB_GNUPLOT", fake, 1);
    int rc = plot_figure(&rs, METRIC_REGRET, dir, "figt", NULL, err, sizeof err);
    unsetenv("COLB_GNUPLOT");
    assert_int_equal(rc, PLOT_FAILED);
    assert_contains(err, "undefined variable: foo");
    assert_contains(err, "gnuplot failed");
    assert_null(strchr(err, '\n'));
    assert_int_equal(count_suffix(dir, ".png"), 0);
    assert_int_equal(count_suffix(dir, ".svg"), 0);
    /* the scripts and data of both plots stay for the reader */
    assert_int_equal(count_suffix(dir, ".gp"), 2);
    assert_int_equal(count_suffix(dir, ".dat"), 2);
    result_set_free(&rs);
    free(e);
    remove_tree(dir);
}

/* --plots 0: the data and the scripts of both plots, gnuplot never run
 * (a "gnuplot" that would fail is on $COLB_GNUPLOT), no images. */
static void test_plot_data_only(void **state)
{
    (void)state;
    char dir[64], err[512] = "";
    make_tmpdir(dir, sizeof dir);
    experiment *e = make_experiment("figt", "users=10,20,50", 1);
    set(&e->cfg[0], "plots", "0");
    result_set rs;
    fill(&rs, e, 4);
    setenv("COLB_GNUPLOT", "/bin/false", 1);
    int rc = plot_figure(&rs, METRIC_REGRET, dir, "figt", NULL, err, sizeof err);
    unsetenv("COLB_GNUPLOT");
    assert_int_equal(rc, 2);
    assert_int_equal(count_suffix(dir, ".gp"), 2);
    assert_int_equal(count_suffix(dir, ".dat"), 2);
    assert_int_equal(count_suffix(dir, ".png"), 0);
    assert_int_equal(count_suffix(dir, ".svg"), 0);
    result_set_free(&rs);
    free(e);
    remove_tree(dir);
}

/* One repeat: the 95% interval is undefined, and the plots say so - NaN
 * in the data, no band drawn, "no bands" on the axis - instead of a band of
 * width 0. */
static void test_plot_one_repeat(void **state)
{
    (void)state;
    char dir[64], p[256], err[512] = "";
    make_tmpdir(dir, sizeof dir);
    experiment *e = make_experiment("fig1r", "users=10,20", 1);
    set(&e->cfg[0], "plots", "0");
    set(&e->cfg[0], "repeats", "1");
    result_set rs;
    memset(&rs, 0, sizeof rs);
    rs.e = e;
    for (size_t s = 0; s < 2; s++) {
        add_row(&rs, 0, s, "cmlb", 3.0 + (double)s, NAN, NAN, 4, 200);
        add_row(&rs, 0, s, "linucb-ind", 6.0 + (double)s, NAN, NAN, 4, 200);
    }
    assert_int_equal(plot_figure(&rs, METRIC_REGRET, dir, "fig1r", NULL, err, sizeof err), 2);
    static const char *const names[] = { "fig1r-r0-sweep", "fig1r-r0-time" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s.dat", dir, names[i]);
        char *dat = slurp(p, NULL);
        assert_non_null(dat);
        assert_contains(dat, " NaN NaN NaN\n");
        assert_null(strstr(dat, " 0 "));
        free(dat);
        snprintf(p, sizeof p, "%s/%s.gp", dir, names[i]);
        char *gp = slurp(p, NULL);
        assert_non_null(gp);
        assert_null(strstr(gp, "filledcurves"));
        assert_contains(gp, "no bands: 1 repeat");
        assert_null(strstr(gp, "bands: 95%"));
        free(gp);
    }
    result_set_free(&rs);
    free(e);
    remove_tree(dir);
}

static void assert_png(const char *path)
{
    size_t n = 0;
    char *b = slurp(path, &n);
    if (!b)
        fail_msg("%s was not written", path);
    if (n < 100 || memcmp(b, "\x89PNG\r\n\x1a\n", 8) != 0)
        fail_msg("%s is not a PNG (%zu bytes)", path, n);
    free(b);
}

static void assert_svg(const char *path)
{
    size_t n = 0;
    char *b = slurp(path, &n);
    if (!b)
        fail_msg("%s was not written", path);
    if (n < 100 || !strstr(b, "<svg"))
        fail_msg("%s is not an SVG (%zu bytes)", path, n);
    free(b);
}

static void test_plot_gnuplot(void **state)
{
    (void)state;
    unsetenv("COLB_GNUPLOT");
    if (!gnuplot_on_path())
        skip();
    char dir[64], sub[128], p[256], err[1024] = "";
    make_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/figt", dir);
    assert_int_equal(mkdir(sub, 0777), 0);
    experiment *e = make_experiment("figt", "users=10,20,50,100,200", 2);
    result_set rs;
    fill(&rs, e, 50);
    int rc = plot_figure(&rs, METRIC_REGRET, sub, "figt", NULL, err, sizeof err);
    if (rc != 4)
        fail_msg("plot_figure returned %d (%s)", rc, err);
    static const char *const names[] = { "figt-r0-sweep", "figt-r0-time", "figt-r1-sweep", "figt-r1-time" };
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s.png", sub, names[i]);
        assert_png(p);
        snprintf(p, sizeof p, "%s/%s.svg", sub, names[i]);
        assert_svg(p);
        snprintf(p, sizeof p, "%s/%s.gp", sub, names[i]);
        assert_int_equal(access(p, R_OK), 0);
        snprintf(p, sizeof p, "%s/%s.dat", sub, names[i]);
        char *dat = slurp(p, NULL);
        assert_non_null(dat);
        assert_contains(dat, "# linucb-ind");
        free(dat);
    }
    /* the sweep plot uses a log x axis (200 / 10 >= 20) with ticks at the values */
    snprintf(p, sizeof p, "%s/figt-r0-sweep.gp", sub);
    char *gp = slurp(p, NULL);
    assert_contains(gp, "set logscale x");
    assert_contains(gp, "set xtics (10, 20, 50, 100, 200)");
    assert_contains(gp, "#0072B2"); /* cmlb's colour */
    /* the means span 1 ... 50: a log y axis */
    assert_contains(gp, "set logscale y");
    free(gp);
    assert_int_equal(count_suffix(sub, ".tmp"), 0);

    /* the report links the plots relative to itself */
    figure_result fr = { .e = e, .rs = &rs, .dir = "figt", .plots = rc };
    snprintf(p, sizeof p, "%s/report.md", dir);
    assert_int_equal(report_write(p, &fr, 1, NULL, err, sizeof err), 0);
    char *text = slurp(p, NULL);
    assert_contains(text, "(figt/figt-r0-sweep.png)");
    assert_contains(text, "(figt/figt-r1-time.svg)");
    free(text);
    result_set_free(&rs);
    free(e);

    /* no sweep: only the plot over rounds; the ratio metric */
    e = make_experiment("fig one", NULL, 1);
    set(&e->cfg[0], "title", "A long title that would not fit on one line of a plot nine hundred pixels wide");
    fill(&rs, e, 20);
    rc = plot_figure(&rs, METRIC_RATIO, sub, "fig one", NULL, err, sizeof err);
    if (rc != 1)
        fail_msg("plot_figure returned %d (%s)", rc, err);
    snprintf(p, sizeof p, "%s/fig_one-r0-time.png", sub);
    assert_png(p);
    snprintf(p, sizeof p, "%s/fig_one-r0-time.gp", sub);
    gp = slurp(p, NULL);
    assert_contains(gp, "set title \"A long title that would not fit on one line\\nof a plot");
    assert_contains(gp, "set yrange [0:*]");
    free(gp);
    result_set_free(&rs);
    free(e);

    /* a sweep over words: the values become tick labels */
    e = make_experiment("figw", "width=oful,fixed", 1);
    fill(&rs, e, 10);
    rc = plot_figure(&rs, METRIC_REGRET, sub, "figw", NULL, err, sizeof err);
    if (rc != 2)
        fail_msg("plot_figure returned %d (%s)", rc, err);
    snprintf(p, sizeof p, "%s/figw-r0-sweep.png", sub);
    assert_png(p);
    snprintf(p, sizeof p, "%s/figw-r0-sweep.gp", sub);
    gp = slurp(p, NULL);
    assert_contains(gp, "set xtics (\"oful\" 0, \"fixed\" 1)");
    assert_null(strstr(gp, "logscale")); /* means 1 ... 20, words on x */
    free(gp);
    result_set_free(&rs);
    free(e);
    if (!getenv("COLB_KEEP_PLOTS"))
        remove_tree(dir);
    else
        fprintf(stderr, "plots kept in %s\n", dir);
}

/* A gnuplot started ahead (colb run's): the first plot drawn on it and the
 * next on one of their own, the same files as without it; a folder whose
 * name needs quoting (a quote, a blank) and one that a gnuplot command line
 * cannot carry (a backquote: its plot on a fresh gnuplot); an unused one
 * stopped (with its process group) and reaped. */
static void test_plot_warm(void **state)
{
    (void)state;
    unsetenv("COLB_GNUPLOT");
    if (!gnuplot_on_path())
        skip();
    char dir[64], sub[160], p[256], exe[PATH_LEN], err[1024] = "";
    make_tmpdir(dir, sizeof dir);
    assert_int_equal(gnuplot_find(exe, sizeof exe), 0);
    static const char *const subs[] = { "it's a figure", "tick`s" };
    for (size_t k = 0; k < 2; k++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[k]);
        assert_int_equal(mkdir(sub, 0777), 0);
        experiment *e = make_experiment("figt", "users=10,20,50", 2);
        result_set rs;
        fill(&rs, e, 20);
        gnuplot_warm gw;
        gnuplot_start(exe, &gw);
        assert_true(gw.pid > 0);
        int rc = plot_figure(&rs, METRIC_REGRET, sub, "figt", &gw, err, sizeof err);
        if (rc != 4)
            fail_msg("plot_figure returned %d (%s)", rc, err);
        assert_int_equal(gw.pid, 0); /* used up (or, for the backquote, stopped) */
        static const char *const names[] = { "figt-r0-sweep", "figt-r0-time", "figt-r1-sweep",
                                             "figt-r1-time" };
        for (size_t i = 0; i < 4; i++) {
            snprintf(p, sizeof p, "%s/%s.png", sub, names[i]);
            assert_png(p);
            snprintf(p, sizeof p, "%s/%s.svg", sub, names[i]);
            assert_svg(p);
        }
        assert_int_equal(count_suffix(sub, ".tmp"), 0);
        result_set_free(&rs);
        free(e);
    }
    gnuplot_warm gw;
    gnuplot_start(exe, &gw);
    pid_t pid = gw.pid;
    assert_true(pid > 0);
    gnuplot_stop(&gw);
    assert_int_equal(gw.pid, 0);
    assert_int_equal(kill(pid, 0), -1); /* reaped: no such process */
    gnuplot_stop(&gw); /* nothing */
    remove_tree(dir);
}

/* A started "gnuplot" that fails: the same one-line error as a fresh one's. */
static void test_plot_warm_fails(void **state)
{
    (void)state;
    char dir[64], fake[128], err[1024] = "";
    make_tmpdir(dir, sizeof dir);
    write_fake_gnuplot(dir, "#!/bin/sh\nwhile read -r l; do case \"$l\" in load*) break;; esac; done\n"
          "echo '\"x.gp\" line 3: undefined variable: foo' >&2\nexit 1\n", fake, sizeof fake);
    experiment *e = make_experiment("figt", NULL, 1);
    result_set rs;
    fill(&rs, e, 4);
    gnuplot_warm gw;
    gnuplot_start(fake, &gw);
    assert_true(gw.pid > 0);
    int rc = plot_figure(&rs, METRIC_REGRET, dir, "figt", &gw, err, sizeof err);
    assert_int_equal(rc, PLOT_FAILED);
    assert_int_equal(gw.pid, 0);
    assert_contains(err, "gnuplot failed");
    assert_contains(err, "undefined variable: foo");
    assert_int_equal(count_suffix(dir, ".png"), 0);
    assert_int_equal(count_suffix(dir, ".svg"), 0);
    result_set_free(&rs);
    free(e);
    remove_tree(dir);
}

/* Two gnuplots started at once: a plot drawn on the first ends though the
 * second is still there. Their pipes were inherited by every child started
 * after them, so the second gnuplot held the first one's stdin open, which
 * then never read its end: the draw waited for ever. The "gnuplot" reads
 * its stdin to its end and draws nothing; the draws run in a child process
 * that an alarm ends after 20 s. */
static void test_plot_warm_two(void **state)
{
    (void)state;
    char dir[64], fake[128];
    make_tmpdir(dir, sizeof dir);
    write_fake_gnuplot(dir, "#!/bin/sh\nexec cat >/dev/null\n", fake, sizeof fake);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        char err[1024] = "";
        gnuplot_warm a, b;
        gnuplot_start(fake, &a);
        gnuplot_start(fake, &b);
        int rc = a.pid > 0 && b.pid > 0 ? gnuplot_draw(fake, dir, "x", &a, err, sizeof err) : 0;
        gnuplot_stop(&b);
        _exit(rc == GNUPLOT_FAILED && strstr(err, "it wrote no svg") ? 0 : 1);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("the draw on the first gnuplot: %s %d", WIFEXITED(st) ? "exit" : "signal",
                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    remove_tree(dir);
}

/* The lines of file path (0 when it is not there). */
static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    while (f && (c = getc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

/* Whether process pid has ended (no such process, or a zombie: killed,
 * waiting for a parent that may never reap it), within 2 s. */
static int ended(long pid)
{
    char path[64], s[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(path, "r");
        if (!f)
            return 1;
        size_t n = fread(s, 1, sizeof s - 1, f);
        fclose(f);
        s[n] = '\0';
        const char *q = strrchr(s, ')');
        if (!q || (q[1] == ' ' && q[2] == 'Z'))
            return 1;
        usleep(10000);
    }
    return 0;
}

/* A "gnuplot" that hangs (it starts a child and sleeps, never reading its
 * script nor ending): plot_figure waits COLB_GNUPLOT_TIMEOUT seconds, kills
 * it with its child (its process group), says so in one line and returns
 * PLOT_TIMED_OUT, the .dat and .gp written and no image; the later plots
 * are not drawn, and a later plot_figure of the process runs no gnuplot; a
 * started gnuplot that hangs is stopped the same way. It waited for ever
 * (its stderr read to its end, then its exit). The plots run in a child
 * process that an alarm ends after 20 s (the flag that gnuplot timed out
 * stays in that process). */
static void test_plot_gnuplot_hangs(void **state)
{
    (void)state;
    char dir[64], fake[128], p[256];
    make_tmpdir(dir, sizeof dir);
    write_fake_gnuplot(dir, "#!/bin/sh\necho $$ >> \"$0.starts\"\nsleep 1000 &\necho $! >> \"$0.kids\"\nexec sleep 1000\n",
                       fake, sizeof fake);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        setenv("COLB_GNUPLOT", fake, 1);
        setenv("COLB_GNUPLOT_TIMEOUT", "0.3", 1);
        char err[1024] = "", starts[160];
        snprintf(starts, sizeof starts, "%s.starts", fake);
        experiment *e = make_experiment("figt", "users=10,20,50", 1);
        result_set rs;
        fill(&rs, e, 4);
        time_t t0 = time(NULL);
        int rc = plot_figure(&rs, METRIC_REGRET, dir, "figt", NULL, err, sizeof err);
        if (rc != PLOT_TIMED_OUT || !strstr(err, "gnuplot did not finish") || !strstr(err, "within 0.3 s") ||
            strchr(err, '\n'))
            _exit(10);
        if (count_lines(starts) != 1) /* the sweep plot's only: the time plot not drawn */
            _exit(11);
        if (plot_figure(&rs, METRIC_REGRET, dir, "figt", NULL, err, sizeof err) != PLOT_TIMED_OUT ||
            count_lines(starts) != 1)
            _exit(12);
        gnuplot_warm gw;
        gnuplot_start(fake, &gw);
        if (gw.pid <= 0 || gnuplot_draw(fake, dir, "figt-r0-time", &gw, err, sizeof err) != GNUPLOT_TIMED_OUT ||
            gw.pid != 0 || !strstr(err, "figt-r0-time.gp within 0.3 s"))
            _exit(13);
        _exit(time(NULL) - t0 < 10 ? 0 : 14);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("plots on a gnuplot that hangs: %s %d", WIFEXITED(st) ? "exit" : "signal",
                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    assert_int_equal(count_suffix(dir, ".gp"), 2);
    assert_int_equal(count_suffix(dir, ".dat"), 2);
    assert_int_equal(count_suffix(dir, ".png"), 0);
    assert_int_equal(count_suffix(dir, ".svg"), 0);
    /* every gnuplot's child was killed with it */
    snprintf(p, sizeof p, "%s.kids", fake);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    long kid;
    int kids = 0;
    while (fscanf(f, "%ld", &kid) == 1) {
        if (!ended(kid))
            fail_msg("the hung gnuplot's child %ld still runs", kid);
        kids++;
    }
    fclose(f);
    assert_int_equal(kids, 2);
    remove_tree(dir);
}

/* A title (or a reading's name) is text, never a command: gnuplot runs
 * whatever stands between two backquotes of a script line, inside double
 * quotes too, so the scripts write a backquote as \140. The title shows the
 * backquotes, and the command in them is not run. */
static void test_plot_title_runs_nothing(void **state)
{
    (void)state;
    char dir[64], p[256], title[256], err[1024] = "";
    make_tmpdir(dir, sizeof dir);
    experiment *e = make_experiment("figq", NULL, 1);
    snprintf(e->reading[0], NAME_LEN, "r`touch %.40s/ran-r`", dir);
    snprintf(title, sizeof title, "a `touch %s/ran` b", dir);
    set(&e->cfg[0], "title", title);
    set(&e->cfg[0], "plots", "0");
    result_set rs;
    fill(&rs, e, 10);
    assert_int_equal(plot_figure(&rs, METRIC_REGRET, dir, "figq", NULL, err, sizeof err), 1);
    snprintf(p, sizeof p, "%s/figq-r_touch__tmp_%s_ran-r_-time.gp", dir, dir + 5);
    char *gp = slurp(p, NULL);
    if (!gp)
        fail_msg("%s was not written", p);
    assert_null(strchr(gp, '`'));
    assert_contains(gp, "a \\140touch ");
    free(gp);
    unsetenv("COLB_GNUPLOT");
    if (gnuplot_on_path()) {
        set(&e->cfg[0], "plots", "1");
        result_set_free(&rs);
        fill(&rs, e, 10);
        int rc = plot_figure(&rs, METRIC_REGRET, dir, "figq", NULL, err, sizeof err);
        if (rc != 1)
            fail_msg("plot_figure returned %d (%s)", rc, err);
        snprintf(p, sizeof p, "%s/ran", dir);
        assert_int_not_equal(access(p, F_OK), 0);
        snprintf(p, sizeof p, "%s/ran-r", dir);
        assert_int_not_equal(access(p, F_OK), 0);
        snprintf(p, sizeof p, "%s/figq-r_touch__tmp_%s_ran-r_-time.svg", dir, dir + 5);
        char *svg = slurp(p, NULL);
        assert_non_null(svg);
        assert_contains(svg, "a `touch ");
        free(svg);
    }
    result_set_free(&rs);
    free(e);
    remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_eval_less),
        cmocka_unit_test(test_eval_less_at_last),
        cmocka_unit_test(test_eval_similar),
        cmocka_unit_test(test_eval_gap),
        cmocka_unit_test(test_eval_paired),
        cmocka_unit_test(test_report_check),
        cmocka_unit_test(test_report_write),
        cmocka_unit_test(test_plot_skipped),
        cmocka_unit_test(test_plot_gnuplot_fails),
        cmocka_unit_test(test_plot_warm),
        cmocka_unit_test(test_plot_warm_fails),
        cmocka_unit_test(test_plot_warm_two),
        cmocka_unit_test(test_plot_gnuplot_hangs),
        cmocka_unit_test(test_plot_data_only),
        cmocka_unit_test(test_plot_one_repeat),
        cmocka_unit_test(test_plot_gnuplot),
        cmocka_unit_test(test_plot_title_runs_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
