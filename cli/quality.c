/* quality.c - `colb bench-quality`: the quality benchmark of colb's policies.
 *
 *   colb bench-quality [-c FILE] [--out DIR] [-j THREADS] [--repeats R] [--quick]
 *
 * FILE (default experiments/extra/quality.conf, built into the tool) is an
 * experiment file: the policies (adding one to the benchmark is adding its
 * name to the `policies =` line; colb's recommended policy "cohort" is added
 * whenever the library has it) and every setting but the grid, which is
 *     users N in {50, 100, 200, 400} x zipf z in {0, 1, 2, 3}
 *         x noise sigma in {0.1, 0.3, 1}
 * (--quick: N in {20, 40}, z in {0, 2}, sigma in {0.1, 1}, T = 100, 3
 * repeats - a smoke test, not a measurement). Every policy of a setting runs
 * on the same environments (repeats are paired), with the one shared
 * exploration width of the file: experiment files that give a policy a
 * width of its own (--club-alpha, club-tune) or tune widths are refused.
 *
 * For every setting, policy and reference policy R among "oracle",
 * "oracle-batch", "oracle-seq" and "linucb-ind" (those in the list), the
 * ratio regret(policy) / regret(R) is formed per repeat and reported as
 * mean and 95% half-width over the repeats (Student t). Written to DIR
 * (default results/quality), a results folder replaced as one set like colb
 * run's (outdir.h): quality.csv (every number), quality.md (the tables),
 * settings.txt, and quality-ratio.{svg,png} with the .dat and .gp beside
 * them (gnuplot; skipped with a notice without it). */
#include "quality.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "data.h"
#include "experiment.h"
#include "gnuplot.h"
#include "outdir.h"
#include "output.h"
#include "say.h"
#include "run.h"
#include "specs.h"
#include "width.h"

#define EXIT_USAGE 2
#define Q_MAX 8
#define N_REFS 4

typedef struct q_grid {
    size_t n_users, n_zipf, n_noise;
    const char *users[Q_MAX], *zipf[Q_MAX], *noise[Q_MAX];
} q_grid;

static const q_grid FULL = { 4, 4, 3, { "50", "100", "200", "400" }, { "0", "1", "2", "3" },
                             { "0.1", "0.3", "1" } };
static const q_grid QUICK = { 2, 2, 2, { "20", "40" }, { "0", "2" }, { "0.1", "1" } };

static const char *const REFS[N_REFS] = { "oracle", "oracle-batch", "oracle-seq", "linucb-ind" };

/* Policies benchmarked whenever the library has them, listed in the file
 * or not: colb's recommended policy (issue 13; alias "recommended"). */
static const char *const ALWAYS[] = { "cohort" };

typedef struct q_run {
    const q_grid *g;
    const run_config *base;
    size_t P, R, S;           /* policies, repeats, settings */
    int ref[N_REFS];          /* index of each reference among the policies, or -1 */
    double *reg;              /* S x P x R regret at T */
    double *wall;             /* S x P: seconds summed over repeats */
} q_run;

static size_t setting_index(const q_grid *g, size_t in, size_t iz, size_t is)
{
    return (is * g->n_zipf + iz) * g->n_users + in;
}

static double *reg_at(const q_run *q, size_t s, size_t p)
{
    return q->reg + (s * q->P + p) * q->R;
}

/* Mean and half-width of regret(p) / regret(ref) over the repeats, paired
 * (paired_ratio: NaN unless ref's regret is > 0 in every repeat). */
static void ratio(const q_run *q, size_t s, size_t p, size_t ref, double *mean, double *ci)
{
    double work[1024]; /* q->R <= 1024, checked before the run */
    paired_ratio(reg_at(q, s, p), reg_at(q, s, ref), q->R, work, mean, ci);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: colb bench-quality [-c FILE] [--out DIR] [-j THREADS] [--repeats R] [--quick]\n"
               "Every policy of FILE (default experiments/extra/quality.conf, built in) at one shared width\n"
               "over N x z x sigma; regret ratios to the oracles and to LinUCB-Ind, paired by\n"
               "repeat, into DIR (default results/quality): quality.csv, quality.md, a plot.\n"
               "Values as --out DIR or --out=DIR, -j N or -jN.\n");
}

/* The settings of one grid point. */
static int point_config(const q_run *q, size_t in, size_t iz, size_t is, run_config *c, char *err,
                        size_t err_len)
{
    *c = *q->base;
    if (config_set(c, "users", q->g->users[in], err, err_len) ||
        config_set(c, "zipf", q->g->zipf[iz], err, err_len) ||
        config_set(c, "noise", q->g->noise[is], err, err_len))
        return -1;
    return config_check(c, err, err_len);
}

/* 0 when the settings of every grid point are valid (config_check), else
 * -1 with "FILE: at the grid's N=20 z=0 sigma=0.1: reason" in err: a
 * file's clusters above the grid's smallest N is the file's error, found
 * before any work. */
static int check_grid(const q_run *q, const char *cfg, char *err, size_t err_len)
{
    const q_grid *g = q->g;
    run_config *c = malloc(sizeof *c);
    char why[512];
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t is = 0; is < g->n_noise && !rc; is++)
        for (size_t iz = 0; iz < g->n_zipf && !rc; iz++)
            for (size_t in = 0; in < g->n_users && !rc; in++)
                if (point_config(q, in, iz, is, c, why, sizeof why)) {
                    snprintf(err, err_len, "%s: at the grid's N=%s z=%s sigma=%s: %s", cfg, g->users[in],
                             g->zipf[iz], g->noise[is], why);
                    rc = -1;
                }
    free(c);
    return rc;
}

static int run_grid(q_run *q, progress *pg, char *err, size_t err_len)
{
    const q_grid *g = q->g;
    run_config *c = malloc(sizeof *c);
    const char *names[MAX_POLICIES];
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t p = 0; p < q->P; p++)
        names[p] = q->base->policies[p];
    int rc = 0;
    for (size_t is = 0; is < g->n_noise && !rc; is++)
        for (size_t iz = 0; iz < g->n_zipf && !rc; iz++)
            for (size_t in = 0; in < g->n_users && !rc; in++) {
                size_t s = setting_index(g, in, iz, is);
                data_env data;
                if (point_config(q, in, iz, is, c, err, err_len) ||
                    data_env_open(&data, c, err, err_len)) {
                    rc = -1;
                    break;
                }
                snprintf(pg->label, sizeof pg->label, "N=%s z=%s sigma=%s", g->users[in], g->zipf[iz],
                         g->noise[is]);
                if (!pg->enabled) /* no progress bar: one line per setting */
                    say("quality %s (%zu of %zu)", pg->label, s + 1, q->S);
                c->sim.policies = names;
                c->sim.n_policies = q->P;
                c->sim.curve_points = 1;
                c->sim.progress = progress_update;
                c->sim.progress_ctx = pg;
                colb_sim_result *res = NULL;
                char msg[512];
                if (colb_sim_run(&c->sim, &res, msg, sizeof msg) != COLB_OK) {
                    snprintf(err, err_len, "N=%s z=%s sigma=%s: %s", g->users[in], g->zipf[iz],
                             g->noise[is], msg);
                    rc = -1;
                } else {
                    for (size_t p = 0; p < q->P; p++) {
                        q->wall[s * q->P + p] = 0.0;
                        for (size_t r = 0; r < q->R; r++) {
                            reg_at(q, s, p)[r] = colb_sim_result_regret(res, p, r, 0);
                            q->wall[s * q->P + p] += colb_sim_result_wall(res, p, r);
                        }
                    }
                    colb_sim_result_free(res);
                    pg->done_before += q->P * q->R;
                }
                data_env_close(&data);
            }
    free(c);
    return rc;
}

static void csv_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.10g", v);
    else
        fputs(",", f);
}

static int write_csv(const q_run *q, const char *dir, char *err, size_t err_len)
{
    char path[sizeof ((outdir *)0)->tmp + 32];
    snprintf(path, sizeof path, "%s/quality.csv", dir);
    afile a;
    if (afile_open(&a, path, err, err_len))
        return -1;
    fputs("users,zipf,noise,policy,repeats,regret_mean,regret_ci95", a.f);
    for (size_t k = 0; k < N_REFS; k++)
        if (q->ref[k] >= 0)
            fprintf(a.f, ",ratio_%s_mean,ratio_%s_ci95", REFS[k], REFS[k]);
    fputs(",wall_s\n", a.f);
    const q_grid *g = q->g;
    for (size_t is = 0; is < g->n_noise; is++)
        for (size_t iz = 0; iz < g->n_zipf; iz++)
            for (size_t in = 0; in < g->n_users; in++) {
                size_t s = setting_index(g, in, iz, is);
                for (size_t p = 0; p < q->P; p++) {
                    double m, h;
                    colb_mean_ci95(reg_at(q, s, p), q->R, &m, &h);
                    fprintf(a.f, "%s,%s,%s,%s,%zu", g->users[in], g->zipf[iz], g->noise[is],
                            q->base->policies[p], q->R);
                    csv_num(a.f, m);
                    csv_num(a.f, h);
                    for (size_t k = 0; k < N_REFS; k++)
                        if (q->ref[k] >= 0) {
                            ratio(q, s, p, (size_t)q->ref[k], &m, &h);
                            csv_num(a.f, m);
                            csv_num(a.f, h);
                        }
                    fprintf(a.f, ",%.4f\n", q->wall[s * q->P + p]);
                }
            }
    return afile_commit(&a, err, err_len);
}

/* Geometric mean, minimum and maximum over the (N, z) settings of noise
 * index is of the mean ratio of p to reference ref. */
static void ratio_summary(const q_run *q, size_t is, size_t p, size_t ref, double *gm, double *lo,
                          double *hi)
{
    double sl = 0.0;
    size_t n = 0;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t iz = 0; iz < q->g->n_zipf; iz++)
        for (size_t in = 0; in < q->g->n_users; in++) {
            double m, h;
            ratio(q, setting_index(q->g, in, iz, is), p, ref, &m, &h);
            if (!(m > 0.0))
                continue;
            sl += log(m);
            n++;
            *lo = fmin(*lo, m);
            *hi = fmax(*hi, m);
        }
    *gm = n ? exp(sl / (double)n) : NAN;
}

static int write_md(const q_run *q, const char *dir, const char *cmd, double wall, char *err,
                    size_t err_len)
{
    char path[sizeof ((outdir *)0)->tmp + 32], shared[256];
    snprintf(path, sizeof path, "%s/quality.md", dir);
    afile a;
    if (afile_open(&a, path, err, err_len))
        return -1;
    FILE *f = a.f;
    const q_grid *g = q->g;
    const run_config *b = q->base;
    width_shared(b, shared, sizeof shared);
    fprintf(f, "# colb quality benchmark\n\n`%s` (colb %s, %.0f s)\n\n", cmd, COLB_VERSION_STRING, wall);
    fprintf(f, "Clustered users, L = %zu clusters of sizes ~ i^-z, d = %zu, K = %zu, T = %zu rounds, "
               "%zu repeat%s (paired: every policy of a setting sees the same users, contexts and "
               "noise), seed %llu. Every policy explores the same way: %s. Group learners %s "
               "their users' samples%s. Grid: N in {",
            b->sim.env.clusters, b->sim.env.dim, b->sim.env.arms, b->sim.horizon, q->R, q->R == 1 ? "" : "s",
            (unsigned long long)b->sim.seed, shared, b->sim.policy.pooled_updates ? "pool" : "average",
            b->sim.policy.diversify ? ", members diversified within rounds" : "");
    for (size_t i = 0; i < g->n_users; i++)
        fprintf(f, "%s%s", i ? ", " : "", g->users[i]);
    fputs("} x z in {", f);
    for (size_t i = 0; i < g->n_zipf; i++)
        fprintf(f, "%s%s", i ? ", " : "", g->zipf[i]);
    fputs("} x sigma in {", f);
    for (size_t i = 0; i < g->n_noise; i++)
        fprintf(f, "%s%s", i ? ", " : "", g->noise[i]);
    static const char *const what[N_REFS] = {
        "known clusters, diversified within rounds: the reference", "known clusters, one arm per cluster and round",
        "known clusters, users served one after another with immediate updates", "no collaboration"
    };
    fputs("}.\n\nA ratio is regret(policy) / regret(reference) per repeat, then mean ± 95% "
          "half-width over repeats (Student t). References:", f);
    for (size_t k = 0, n = 0; k < N_REFS; k++)
        if (q->ref[k] >= 0)
            fprintf(f, "%s `%s` (%s)", n++ ? "," : "", REFS[k], what[k]);
    fputs(".\n\n", f);

    for (size_t is = 0; is < g->n_noise; is++) {
        fprintf(f, "## sigma = %s: geometric mean over the %zu (N, z) settings [min, max]\n\n",
                g->noise[is], g->n_users * g->n_zipf);
        fputs("| policy |", f);
        for (size_t k = 0; k < N_REFS; k++)
            if (q->ref[k] >= 0)
                fprintf(f, " / %s |", REFS[k]);
        fputs("\n|---|", f);
        for (size_t k = 0; k < N_REFS; k++)
            if (q->ref[k] >= 0)
                fputs("---:|", f);
        fputc('\n', f);
        for (size_t p = 0; p < q->P; p++) {
            fprintf(f, "| %s |", b->policies[p]);
            for (size_t k = 0; k < N_REFS; k++)
                if (q->ref[k] >= 0) {
                    double gm, lo, hi;
                    ratio_summary(q, is, p, (size_t)q->ref[k], &gm, &lo, &hi);
                    fprintf(f, " %.3g [%.3g, %.3g] |", gm, lo, hi);
                }
            fputc('\n', f);
        }
        fputc('\n', f);
    }
    for (size_t k = 0; k < N_REFS; k++) {
        if (q->ref[k] < 0 || (k != 0 && k != N_REFS - 1))
            continue; /* per-setting tables: to the oracle and to LinUCB-Ind */
        for (size_t is = 0; is < g->n_noise; is++)
            for (size_t iz = 0; iz < g->n_zipf; iz++) {
                fprintf(f, "### regret / %s's, sigma = %s, z = %s\n\n| policy |", REFS[k],
                        g->noise[is], g->zipf[iz]);
                for (size_t in = 0; in < g->n_users; in++)
                    fprintf(f, " N = %s |", g->users[in]);
                fputs("\n|---|", f);
                for (size_t in = 0; in < g->n_users; in++)
                    fputs("---:|", f);
                fputc('\n', f);
                for (size_t p = 0; p < q->P; p++) {
                    fprintf(f, "| %s |", b->policies[p]);
                    for (size_t in = 0; in < g->n_users; in++) {
                        double m, h;
                        ratio(q, setting_index(g, in, iz, is), p, (size_t)q->ref[k], &m, &h);
                        if (!isfinite(m))
                            fputs(" n/a |", f);
                        else if (!isfinite(h)) /* one repeat: the interval is undefined */
                            fprintf(f, " %.3g ± n/a |", m);
                        else
                            fprintf(f, " %.3g ± %.2g |", m, h);
                    }
                    fputc('\n', f);
                }
                fputc('\n', f);
            }
    }
    fputs("Regret at T (per user, mean over repeats) and CPU seconds are in quality.csv.\n", f);
    return afile_commit(&a, err, err_len);
}

/* quality-ratio: per sigma, the geometric mean over z of the ratio to the
 * last reference present (LinUCB-Ind when it ran), against N. Returns 1
 * drawn, 0 skipped (no gnuplot, or gnuplot stopped at its time limit or
 * failed: one line on stderr, the .dat and .gp kept), -1 error. */
static int write_plot(const q_run *q, const char *dir, char *err, size_t err_len)
{
    size_t k = N_REFS - 1;
    while (k > 0 && q->ref[k] < 0)
        k--;
    int ref = q->ref[k]; /* one is there: cmd_bench_quality refuses a file without */
    char exe[PATH_LEN], path[sizeof ((outdir *)0)->tmp + 32];
    if (gnuplot_find(exe, sizeof exe)) {
        say("gnuplot not found: the quality plot is skipped");
        return 0;
    }
    const q_grid *g = q->g;
    afile a;
    snprintf(path, sizeof path, "%s/quality-ratio.dat", dir);
    if (afile_open(&a, path, err, err_len))
        return -1;
    fprintf(a.f, "# one index block per (sigma, policy): N, geometric mean over z of regret / %s's\n",
            REFS[k]);
    for (size_t is = 0; is < g->n_noise; is++)
        for (size_t p = 0; p < q->P; p++) {
            fprintf(a.f, "# sigma = %s, %s\n", g->noise[is], q->base->policies[p]);
            for (size_t in = 0; in < g->n_users; in++) {
                double sl = 0.0;
                size_t n = 0;
                for (size_t iz = 0; iz < g->n_zipf; iz++) {
                    double m, h;
                    ratio(q, setting_index(g, in, iz, is), p, (size_t)ref, &m, &h);
                    if (m > 0.0) {
                        sl += log(m);
                        n++;
                    }
                }
                fprintf(a.f, "%s %.6g\n", g->users[in], n ? exp(sl / (double)n) : NAN);
            }
            fputs("\n\n", a.f);
        }
    if (afile_commit(&a, err, err_len))
        return -1;
    snprintf(path, sizeof path, "%s/quality-ratio.gp", dir);
    if (afile_open(&a, path, err, err_len))
        return -1;
    FILE *f = a.f;
    fprintf(f, "# quality-ratio.gp - written by colb %s; `gnuplot quality-ratio.gp` re-draws the plot.\n",
            COLB_VERSION_STRING);
    fputs("if (!exists(\"svgfile\")) svgfile = \"quality-ratio.svg\"\n"
          "if (!exists(\"pngfile\")) pngfile = \"quality-ratio.png\"\n"
          "set encoding utf8\nset logscale xy\nset format y \"%g\"\nset tics nomirror out\n"
          "set border 3\nset grid lt 1 lc rgb \"#e4e4e4\"\nset key outside right top Left reverse\n"
          "set xlabel \"users N\"\n",
          f);
    fprintf(f, "set ylabel \"regret / %s's (geometric mean over z)\"\n", REFS[k]);
    fprintf(f, "set xrange [%g:%g]\nset xtics (", atof(g->users[0]) / 1.15,
            atof(g->users[g->n_users - 1]) * 1.15);
    for (size_t in = 0; in < g->n_users; in++)
        fprintf(f, "%s%s", in ? ", " : "", g->users[in]);
    fputs(")\n", f);
    for (int png = 0; png < 2; png++) {
        fprintf(f, png ? "set terminal pngcairo size 1500,520 font \"Sans,11\" noenhanced\nset output pngfile\n"
                       : "set terminal svg size 1500,520 font \"Sans,13\" noenhanced\nset output svgfile\n");
        fprintf(f, "set multiplot layout 1,%zu\n", g->n_noise);
        for (size_t is = 0; is < g->n_noise; is++) {
            fprintf(f, "set title \"sigma = %s\"\n%s", g->noise[is], is + 1 < g->n_noise ? "unset key\n" : "set key\n");
            fputs("plot \\\n", f);
            /* Okabe-Ito, then darker tones; a dash type per cycle of colours */
            static const char *const col[] = { "#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2",
                                               "#D55E00", "#CC79A7", "#999999", "#8B4513", "#4B0082",
                                               "#2F4F4F", "#B8860B" };
            for (size_t p = 0; p < q->P; p++) {
                fprintf(f, "    \"quality-ratio.dat\" index %zu using 1:2 with linespoints lw 2 "
                           "lc rgb \"%s\" dt %zu pt %zu title ",
                        is * q->P + p, col[p % 12], 1 + p / 12, 1 + p % 13);
                gnuplot_string(f, q->base->policies[p]);
                fputs(p + 1 < q->P ? ", \\\n" : "\n", f);
            }
        }
        fputs("unset multiplot\nset output\n", f);
    }
    if (afile_commit(&a, err, err_len))
        return -1;
    int rc = gnuplot_draw(exe, dir, "quality-ratio", NULL, err, err_len);
    if (rc == GNUPLOT_TIMED_OUT || rc == GNUPLOT_FAILED) {
        say("%s; the quality plot is skipped (gnuplot quality-ratio.gp draws it)", err);
        return 0;
    }
    return rc ? -1 : 1;
}

int cmd_bench_quality(int argc, char **argv)
{
    /* without -c the built-in copy of experiments/extra/quality.conf: from any directory */
    const char *cfg = "experiments/extra/quality.conf (built in)", *out = "results/quality", *threads = "2";
    int own_cfg = 0;
    const char *repeats = NULL;
    int quick = 0;
    char why[ERR_LEN];
    static const arg_opt opts[] = { { "config", "-c", 0 }, { "out", NULL, 0 },   { "threads", "-j", 0 },
                                    { "repeats", NULL, 0 }, { "quick", NULL, 1 }, { "help", "-h", 1 } };
    arg_reader ar;
    const arg_opt *o;
    const char *v;
    int got;
    args_init(&ar, argc, argv, opts, sizeof opts / sizeof opts[0], "colb bench-quality --help");
    while ((got = args_next(&ar, &o, &v, why, sizeof why)) > 0) {
        if (!o) {
            say("unexpected argument '%s' (see colb bench-quality --help)", v);
            return EXIT_USAGE;
        } else if (!strcmp(o->name, "help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o->name, "quick")) {
            quick = 1;
        } else if (!strcmp(o->name, "out")) {
            out = v;
        } else if (!strcmp(o->name, "repeats")) {
            repeats = v;
        } else if (!strcmp(o->name, "threads")) {
            threads = v;
        } else {
            cfg = v, own_cfg = 1;
        }
    }
    if (got < 0) {
        say("%s", why);
        return EXIT_USAGE;
    }
    experiment *e = calloc(1, sizeof *e);
    char err[1024];
    if (!e) {
        say("out of memory");
        return 1;
    }
    config_default(&e->base);
    int bad = own_cfg ? experiment_load(e, cfg, err, sizeof err)
                      : experiment_load_text(e, cfg, QUALITY_SPEC, err, sizeof err);
    int rc = bad ? EXIT_USAGE : 0;
    if (!rc) {
        experiment_finish(e);
        if ((quick && (experiment_set(e, "horizon", "100", err, sizeof err) ||
                       experiment_set(e, "repeats", "3", err, sizeof err))) ||
            experiment_set(e, "threads", threads, err, sizeof err) ||
            (repeats && experiment_set(e, "repeats", repeats, err, sizeof err)))
            rc = EXIT_USAGE;
    }
    run_config *b = &e->cfg[0];
    if (!rc && (e->n_readings > 1 || b->n_sweep || b->data != DATA_SYNTHETIC ||
                b->sim.env.kind != COLB_ENV_CLUSTERED)) {
        snprintf(err, sizeof err, "%s: the quality benchmark takes one reading of clustered users "
                                  "without a sweep (the grid is its own)", cfg);
        rc = EXIT_USAGE;
    }
    for (size_t p = 0; !rc && p < b->n_policies; p++)
        if (width_is_override(b, b->policies[p]) || b->tune) {
            snprintf(err, sizeof err, "%s: every policy must explore with the shared width "
                                      "(no club-alpha, club-tune or tune)", cfg);
            rc = EXIT_USAGE;
        }
    /* colb's recommended policy is always benchmarked once the library has it,
     * whether or not the file lists it (it lands after this file was written) */
    for (size_t k = 0; !rc && k < sizeof ALWAYS / sizeof ALWAYS[0]; k++) {
        int known = 0, listed = 0;
        for (const char *const *n = colb_policy_names(); *n; n++)
            known |= !strcmp(*n, ALWAYS[k]);
        for (size_t p = 0; p < b->n_policies; p++)
            listed |= !strcmp(b->policies[p], ALWAYS[k]) || !strcmp(b->policies[p], "recommended");
        if (known && !listed && b->n_policies < MAX_POLICIES)
            snprintf(b->policies[b->n_policies++], NAME_LEN, "%s", ALWAYS[k]);
    }
    q_run q = { .g = quick ? &QUICK : &FULL, .base = b, .P = b->n_policies, .R = b->sim.repeats };
    q.S = q.g->n_users * q.g->n_zipf * q.g->n_noise;
    int any_ref = 0;
    for (size_t k = 0; k < N_REFS; k++) {
        q.ref[k] = -1;
        for (size_t p = 0; p < q.P; p++)
            if (!strcmp(b->policies[p], REFS[k]))
                q.ref[k] = (int)p;
        any_ref |= q.ref[k] >= 0;
    }
    if (!rc && !any_ref) {
        snprintf(err, sizeof err, "%s: the policies include none of the references oracle, oracle-batch, oracle-seq, "
                 "linucb-ind: every number of the benchmark is a ratio to one of them; add one", cfg);
        rc = EXIT_USAGE;
    }
    if (!rc && q.R > 1024) {
        snprintf(err, sizeof err, "repeats: %zu is more than the quality benchmark's 1024 (--repeats, or repeats in "
                 "its experiment file)", q.R);
        rc = EXIT_USAGE;
    }
    if (!rc && check_grid(&q, cfg, err, sizeof err))
        rc = EXIT_USAGE;
    if (!rc) {
        q.reg = calloc(q.S * q.P * q.R, sizeof(double));
        q.wall = calloc(q.S * q.P, sizeof(double));
        if (!q.reg || !q.wall) {
            snprintf(err, sizeof err, "out of memory");
            rc = 1;
        }
    }
    /* --out is a results folder like colb run's (outdir.h): checked and
     * locked before any work, written as a temporary folder that replaces
     * it whole at the end; a folder colb did not make is never touched */
    outdir od;
    memset(&od, 0, sizeof od);
    if (!rc && outdir_open(&od, out, err, sizeof err))
        rc = 1;
    const char *dir = od.tmp;
    if (!rc) {
        progress pg;
        progress_init(&pg, q.S * q.P * q.R, 0);
        double t0 = wall_now();
        rc = run_grid(&q, &pg, err, sizeof err) ? 1 : 0;
        progress_finish(&pg);
        char cmd[1024] = "colb bench-quality", path[sizeof ((outdir *)0)->tmp + 32];
        for (int i = 0; i < argc; i++)
            snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " %s", argv[i]);
        if (!rc && (write_csv(&q, dir, err, sizeof err) ||
                    write_md(&q, dir, cmd, wall_now() - t0, err, sizeof err)))
            rc = 1;
        afile a;
        snprintf(path, sizeof path, "%s/settings.txt", dir);
        if (!rc && afile_open(&a, path, err, sizeof err) == 0) {
            fprintf(a.f, "# %s (colb %s, built with: %s)\n", cmd, COLB_VERSION_STRING, COLB_BUILD_FLAGS);
            static const char *const grid[] = { "users", "zipf", "noise" };
            config_dump_varied(a.f, "quality", b, grid, 3, "set by the grid: see quality.csv");
            fputs("# how each policy explores (width.POLICY)\n", a.f);
            width_dump(a.f, b);
            rc = afile_commit(&a, err, sizeof err) ? 1 : 0;
        } else if (!rc) {
            rc = 1;
        }
        if (!rc && write_plot(&q, dir, err, sizeof err) < 0)
            rc = 1;
        if (!rc && outdir_commit(&od, err, sizeof err))
            rc = 1;
        if (!rc)
            printf("quality: %s/quality.md, %s/quality.csv (%.1f s)\n", out, out, wall_now() - t0);
    }
    outdir_abort(&od); /* after a failure: the previous folder stays as it was */
    if (rc)
        say("%s", err);
    free(q.reg);
    free(q.wall);
    free(e);
    return rc;
}
