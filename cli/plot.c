/* plot.c - figures of an experiment with gnuplot.
 *
 * For every reading two plots (each as SVG and PNG): the metric at T
 * against the swept parameter (when the experiment has a sweep), and the
 * metric over rounds at the last sweep value. Each plot leaves three files
 * for a reader beside the images:
 *     NAME.dat   whitespace-separated data, one index block per policy:
 *                x  mean  ci95  low  high      (low/high = mean -/+ ci95;
 *                                               NaN, and no band drawn, where
 *                                               the interval is undefined:
 *                                               one repeat)
 *     NAME.gp    the gnuplot script; `gnuplot NAME.gp` in the folder
 *                re-draws NAME.svg and NAME.png
 * where NAME = FIG-READING-sweep or FIG-READING-time (plot_file_name).
 *
 * gnuplot runs as a child process in the figure's folder (gnuplot.c); the
 * images appear atomically.
 *
 * Colours: the Okabe-Ito palette (colour-blind safe), one fixed colour,
 * point type and dash per policy name in every plot. */
#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gnuplot.h"
#include "say.h"

#define PLOT_W 900
#define PLOT_H 560

/* ---- policy styles ----------------------------------------------------- */

typedef struct pstyle {
    const char *name;
    const char *color;
    int pt, dt;          /* gnuplot point type, dash type */
} pstyle;

static const pstyle STYLES[] = {
    { "oracle", "#000000", 7, 1 },     { "cmlb", "#0072B2", 5, 1 },
    { "club", "#D55E00", 9, 1 },       { "linucb-ind", "#009E73", 13, 1 },
    { "sclb", "#56B4E9", 11, 1 },      { "pmlb", "#CC79A7", 15, 1 },
    { "pooled", "#E69F00", 6, 1 },     { "random", "#999999", 2, 2 },
    { "cohort", "#882255", 7, 1 },     { "recommended", "#882255", 7, 1 },
};

static const char *const OKABE_ITO[] = { "#E69F00", "#56B4E9", "#009E73", "#F0E442",
                                         "#0072B2", "#D55E00", "#CC79A7", "#000000" };

/* The style of a policy: the table above, else a colour chosen by a hash of
 * the name (so still fixed across plots) with a dashed line. */
static pstyle style_of(const char *name)
{
    for (size_t i = 0; i < sizeof STYLES / sizeof STYLES[0]; i++)
        if (!strcmp(STYLES[i].name, name))
            return STYLES[i];
    unsigned long h = 5381;
    for (const char *p = name; *p; p++)
        h = h * 33 + (unsigned char)*p;
    pstyle s = { name, OKABE_ITO[h % 8], 8 + (int)(h / 8 % 4), 3 };
    return s;
}

/* ---- names and strings ------------------------------------------------- */

void plot_file_name(char *out, size_t len, const char *fig, const char *reading, const char *kind)
{
    char f[NAME_LEN], r[NAME_LEN];
    experiment_file_part(f, sizeof f, fig && *fig ? fig : "figure");
    experiment_file_part(r, sizeof r, reading);
    snprintf(out, len, "%s-%s-%s", f, r, kind);
}

/* Axis label of a swept option, with its symbol. */
static const char *sweep_axis_label(const char *key)
{
    static const struct { const char *key, *label; } L[] = {
        { "users", "users N" },
        { "clusters", "clusters L" },
        { "zipf", "Zipf exponent z of cluster sizes" },
        { "dim", "context dimension d" },
        { "arms", "arms per round K" },
        { "horizon", "rounds T" },
        { "noise", "reward noise sd sigma" },
        { "sigma-theta", "spread of user parameters sigma_theta" },
        { "top-users", "most active users kept M" },
        { "alpha", "exploration width alpha" },
        { "lambda", "ridge regulariser lambda" },
        { "delta", "confidence delta" },
        { "cmlb-alpha", "CMLB exponent alpha" },
        { "cmlb-c", "CMLB constant C of T_explore" },
        { "cmlb-gamma", "CMLB threshold gamma" },
        { "cmlb-pstar", "CMLB merge share p*" },
        { "club-alpha", "CLUB exploration alpha" },
        { "club-alpha2", "CLUB edge-deletion constant alpha_2" },
    };
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++)
        if (!strcmp(L[i].key, key))
            return L[i].label;
    return key;
}

static int parse_num(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *s && !*end && errno == 0 && isfinite(*v);
}

/* ---- data of one plot -------------------------------------------------- */

typedef struct plot_spec {
    char name[2 * NAME_LEN + 16];       /* file name without extension */
    char title[512], xlabel[128], ylabel[128];
    int logx;
    int xtics_kind;                     /* 0 auto, 1 at the values, 2 labels at indices */
    size_t n_x;
    const char *const *labels;          /* xtics_kind 2 */
    double x[MAX_SWEEP];                /* xtics_kind 1 */
    double xlo, xhi;                    /* x range when xlo < xhi */
    int logy;                           /* log y axis from ylo up */
    double ylo;
    int time;                           /* 1: curves over rounds */
    size_t points;                      /* time: points per curve */
} plot_spec;

/* Write the gnuplot script of a plot whose data has n_pol index blocks;
 * band[i]: block i has a 95% interval somewhere (else no band is drawn). */
static int write_script(const char *dir, const plot_spec *ps, const char *const *pol, const int *band,
                        size_t n_pol, char *err, size_t err_len)
{
    char path[2 * PATH_LEN];
    snprintf(path, sizeof path, "%s/%s.gp", dir, ps->name);
    afile a;
    if (afile_open(&a, path, err, err_len))
        return -1;
    FILE *f = a.f;
    fprintf(f, "# %s.gp - written by colb %s. Re-draw %s.svg and %s.png with:\n#     gnuplot %s.gp\n",
            ps->name, COLB_VERSION_STRING, ps->name, ps->name, ps->name);
    fprintf(f, "# Data: %s.dat, one index block per policy; columns x mean ci95 low high.\n\n",
            ps->name);
    fprintf(f, "if (!exists(\"svgfile\")) svgfile = \"%s.svg\"\n", ps->name);
    fprintf(f, "if (!exists(\"pngfile\")) pngfile = \"%s.png\"\n", ps->name);
    fprintf(f, "data = \"%s.dat\"\n\n", ps->name);
    fprintf(f, "set encoding utf8\nset title ");
    gnuplot_title(f, ps->title, 72);
    fprintf(f, "\nset xlabel ");
    gnuplot_string(f, ps->xlabel);
    fprintf(f, "\nset ylabel ");
    gnuplot_string(f, ps->ylabel);
    fprintf(f, "\nset key outside right top vertical Left reverse samplen 3 spacing 1.3\n");
    fprintf(f, "set border 3 lw 1.2\nset tics nomirror out\nset grid lt 1 lc rgb \"#e4e4e4\" lw 1\n");
    if (ps->logy)
        fprintf(f, "set logscale y\nset yrange [%.6g:*]\nylo = %.6g\n", ps->ylo, ps->ylo);
    else
        fprintf(f, "set yrange [0:*]\n");
    fprintf(f, "set format y \"%%g\"\n");
    fprintf(f, "set style fill transparent solid 0.15 noborder\n");
    if (ps->logx)
        fprintf(f, "set logscale x\n");
    if (ps->xtics_kind == 1) {
        fprintf(f, "set xtics (");
        for (size_t i = 0; i < ps->n_x; i++)
            fprintf(f, "%s%.10g", i ? ", " : "", ps->x[i]);
        fprintf(f, ")\n");
    } else if (ps->xtics_kind == 2) {
        fprintf(f, "set xtics (");
        for (size_t i = 0; i < ps->n_x; i++) {
            fprintf(f, "%s", i ? ", " : "");
            gnuplot_string(f, ps->labels[i]);
            fprintf(f, " %zu", i);
        }
        fprintf(f, ")\nset xrange [-0.3:%g]\n", (double)ps->n_x - 0.7);
    }
    if (ps->xlo < ps->xhi)
        fprintf(f, "set xrange [%.10g:%.10g]\n", ps->xlo, ps->xhi);
    if (ps->time)
        fprintf(f, "set xrange [0:*]\nset autoscale xfixmax\n");
    fprintf(f, "\nset terminal svg size %d,%d font \"Sans,14\" noenhanced background rgb \"white\"\n",
            PLOT_W, PLOT_H);
    fprintf(f, "set title font \",16\"\nset output svgfile\n");
    fprintf(f, "\nplot \\\n");
    /* bands first, then the lines on top */
    for (size_t i = 0; i < n_pol; i++) {
        pstyle st = style_of(pol[i]);
        if (!band[i])
            continue;
        fprintf(f, "    data index %zu using 1:%s:5 with filledcurves lc rgb \"%s\" notitle, \\\n", i,
                ps->logy ? "($4 > ylo ? $4 : ylo)" : "4", st.color);
    }
    /* Curves over rounds: the full line, markers on every step-th point
     * staggered between policies so that they do not hide each other, and
     * the key entry from an empty plot (1/0) with line and marker. */
    size_t step = ps->points >= 12 ? ps->points / 6 : 1;
    for (size_t i = 0; i < n_pol; i++) {
        pstyle st = style_of(pol[i]);
        if (ps->time) {
            size_t start = step > 1 ? (step / 2 + i * step / n_pol) % step : 0;
            fprintf(f, "    data index %zu using 1:2 with lines lc rgb \"%s\" lw 2 dt %d notitle, \\\n", i,
                    st.color, st.dt);
            fprintf(f, "    data index %zu every %zu::%zu using 1:2 with points lc rgb \"%s\" pt %d ps 1.1 notitle, \\\n",
                    i, step, start, st.color, st.pt);
            fprintf(f, "    1/0 with linespoints lc rgb \"%s\" lw 2 dt %d pt %d ps 1.1 title ", st.color, st.dt, st.pt);
        } else {
            fprintf(f, "    data index %zu using 1:2 with linespoints lc rgb \"%s\" lw 2 dt %d pt %d ps 1.1 title ",
                    i, st.color, st.dt, st.pt);
        }
        gnuplot_string(f, pol[i]);
        fprintf(f, "%s\n", i + 1 < n_pol ? ", \\" : "");
    }
    fprintf(f, "set terminal pngcairo size %d,%d font \"Sans,12\" noenhanced background rgb \"white\"\n",
            PLOT_W, PLOT_H);
    fprintf(f, "set title font \",14\"\nset output pngfile\nreplot\nset output\n");
    return afile_commit(&a, err, err_len);
}

/* ---- the figure ------------------------------------------------------- */

static void metric_at(const result_row *w, metric m, size_t k, int time, double *mean, double *ci)
{
    if (m == METRIC_RATIO) {
        *mean = time ? w->rmean[k] : w->ratio_mean;
        *ci = time ? w->rci[k] : w->ratio_ci;
    } else {
        *mean = time ? w->cmean[k] : w->mean;
        *ci = time ? w->cci[k] : w->ci;
    }
}

/* One line of a .dat file: x, mean and the interval (NaN when undefined:
 * no band, rather than a band of width 0). */
static void dat_line(FILE *f, const char *x, double mean, double ci)
{
    if (isfinite(ci))
        fprintf(f, "%s %.10g %.10g %.10g %.10g\n", x, mean, ci, mean - ci, mean + ci);
    else
        fprintf(f, "%s %.10g NaN NaN NaN\n", x, mean);
}

/* The x-axis note on the bands; repeats 0: the axis sweeps them. */
static void band_note(char *out, size_t len, const char *what, size_t repeats)
{
    if (repeats == 0)
        snprintf(out, len, "%s   (bands: 95%% confidence intervals; none at 1 repeat)", what);
    else if (repeats < 2)
        snprintf(out, len, "%s   (no bands: 1 repeat, the 95%% interval is undefined)", what);
    else
        snprintf(out, len, "%s   (bands: 95%% confidence intervals, %zu repeats)", what, repeats);
}

/* One item of a title, appended to out: `label` (its joiner included, "N="
 * or "noise ") and the value v, or, when `key` is the one the plot's x
 * axis sweeps, the swept values (c's), "N=50,100,200". */
static void title_item(char *out, size_t len, const run_config *c, const char *key, int swept_axis,
                       const char *label, const char *v)
{
    size_t at = strlen(out);
    if (at)
        snprintf(out + at, len - at, ", ");
    at = strlen(out);
    snprintf(out + at, len - at, "%s", label);
    if (!(swept_axis && c->n_sweep && !strcmp(c->sweep_key, key))) {
        at = strlen(out);
        snprintf(out + at, len - at, "%s", v);
        return;
    }
    for (size_t s = 0; s < c->n_sweep; s++) {
        at = strlen(out);
        snprintf(out + at, len - at, "%s%s", s ? "," : "", c->sweep_values[s]);
    }
}

/* A title from the settings, for runs without a `title`: those of c (a
 * setting of the plotted reading); swept_axis: the plot's x axis is the
 * sweep, whose values its key's item lists. */
static void settings_title(char *out, size_t len, const run_config *c, int swept_axis)
{
    const colb_env_params *p = &c->sim.env;
    char v[8][48];
    snprintf(v[0], sizeof v[0], "%zu", p->users);
    snprintf(v[1], sizeof v[1], "%zu", p->clusters);
    snprintf(v[2], sizeof v[2], "%g", p->zipf);
    snprintf(v[3], sizeof v[3], "%zu", p->dim);
    snprintf(v[4], sizeof v[4], "%zu", p->arms);
    snprintf(v[5], sizeof v[5], "%zu", c->sim.horizon);
    snprintf(v[6], sizeof v[6], "%g", p->noise);
    snprintf(v[7], sizeof v[7], "%g", p->sigma_theta);
    out[0] = '\0';
    char items[256] = "";
    if (c->data == DATA_SYNTHETIC) {
        int clustered = p->kind == COLB_ENV_CLUSTERED;
        title_item(items, sizeof items, c, "users", swept_axis, "N=", v[0]);
        if (clustered) {
            title_item(items, sizeof items, c, "clusters", swept_axis, "L=", v[1]);
            title_item(items, sizeof items, c, "zipf", swept_axis, "z=", v[2]);
        } else {
            title_item(items, sizeof items, c, "sigma-theta", swept_axis, "spread ", v[7]);
        }
        title_item(items, sizeof items, c, "dim", swept_axis, "d=", v[3]);
        title_item(items, sizeof items, c, "arms", swept_axis, "K=", v[4]);
        title_item(items, sizeof items, c, "horizon", swept_axis, "T=", v[5]);
        title_item(items, sizeof items, c, "noise", swept_axis, "noise ", v[6]);
        snprintf(out, len, "%s users: %s", clustered ? "clustered" : "personalized", items);
    } else {
        title_item(items, sizeof items, c, "arms", swept_axis, "K=", v[4]);
        title_item(items, sizeof items, c, "horizon", swept_axis, "T=", v[5]);
        snprintf(out, len, "%s data: %s", c->data == DATA_LASTFM ? "Last.FM" : "logged", items);
    }
}

/* The title of a plot of reading r: the run's title, or the figure's name,
 * or (colb run without a title) its settings at sweep point s - or, for
 * the sweep plot (s = (size_t)-1), with the swept values. */
static void plot_title(char *out, size_t len, const result_set *rs, size_t r, size_t s, const char *fig,
                       const char *extra)
{
    const experiment *e = rs->e;
    const run_config *c = &e->cfg[r];
    char from_settings[320] = "", err[256];
    run_config *at = malloc(sizeof *at);
    if (at) {
        if (s == (size_t)-1 || config_at(c, s, at, err, sizeof err))
            *at = *c; /* the sweep plot: its title lists the swept values (a failure is not
                       * reached: every value was checked before the run) */
        settings_title(from_settings, sizeof from_settings, at, s == (size_t)-1);
        free(at);
    }
    const char *t = c->title[0] ? c->title : fig && !strcmp(fig, "run") ? from_settings : fig;
    int show_reading = e->n_readings > 1 || strcmp(e->reading[r], "default");
    snprintf(out, len, "%s%s%s%s", t, show_reading ? " \xe2\x80\x94 " : "", show_reading ? e->reading[r] : "",
             extra);
}

/* One plot of reading r: the sweep plot (time = 0) or the curves at sweep
 * point s_last (time = 1), drawn on warm if it is started. Returns 1 if
 * drawn, 0 if there was nothing to draw, PLOT_TIMED_OUT or PLOT_FAILED
 * (its .dat and .gp written, gnuplot stopped or failed; err says so), -1 on
 * error. */
static int one_plot(const char *exe, const result_set *rs, metric m, const char *dir, const char *fig,
                    size_t r, int time, gnuplot_warm *warm, char *err,
                    size_t err_len) /* exe NULL: no drawing */
{
    const experiment *e = rs->e;
    const run_config *c = &e->cfg[r];
    size_t n_sweep = c->n_sweep ? c->n_sweep : 1;
    size_t s_last = n_sweep - 1;
    const char *pol_all[MAX_POLICIES];
    size_t n_all = result_reading_policies(rs, r, pol_all);

    plot_spec *ps = calloc(1, sizeof *ps);
    if (!ps) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    plot_file_name(ps->name, sizeof ps->name, fig, e->reading[r], time ? "time" : "sweep");
    ps->time = time;
    const char *what = m == METRIC_RATIO ? "regret / random policy's regret" : "cumulative regret per user";
    int all_num = 1, all_pos = 1;
    double lo = INFINITY, hi = -INFINITY;
    if (!time) {
        for (size_t s = 0; s < n_sweep; s++) {
            double v;
            if (!parse_num(c->sweep_values[s], &v)) {
                all_num = 0;
                break;
            }
            ps->x[s] = v;
            all_pos &= v > 0;
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
        ps->n_x = n_sweep;
        ps->logx = all_num && all_pos && hi >= 20 * lo;
        if (all_num) { /* a margin of 4% of the axis on each side */
            if (ps->logx) {
                double q = pow(hi / lo, 0.04);
                ps->xlo = lo / q, ps->xhi = hi * q;
            } else if (hi > lo) {
                ps->xlo = lo - 0.04 * (hi - lo), ps->xhi = hi + 0.04 * (hi - lo);
            } else {
                double h = lo != 0 ? 0.1 * fabs(lo) : 1.0;
                ps->xlo = lo - h, ps->xhi = hi + h;
            }
        }
        if (!all_num) {
            ps->xtics_kind = 2;
            for (size_t s = 0; s < n_sweep; s++)
                ps->x[s] = (double)s;
        } else {
            /* ticks at the values unless two would crowd each other */
            double min_gap = INFINITY;
            for (size_t s = 0; s < n_sweep; s++) /* the values may come in any order */
                for (size_t t = s + 1; t < n_sweep; t++) {
                    double a = ps->logx ? log(ps->x[s]) : ps->x[s], b = ps->logx ? log(ps->x[t]) : ps->x[t];
                    min_gap = fmin(min_gap, fabs(b - a));
                }
            double span = ps->logx ? log(hi) - log(lo) : hi - lo;
            ps->xtics_kind = n_sweep <= 16 && (n_sweep < 2 || min_gap >= span / 14) ? 1 : 0;
        }
        band_note(ps->xlabel, sizeof ps->xlabel, sweep_axis_label(c->sweep_key),
                  strcmp(c->sweep_key, "repeats") ? c->sim.repeats : 0);
        if (m == METRIC_RATIO || !strcmp(c->sweep_key, "horizon"))
            snprintf(ps->ylabel, sizeof ps->ylabel, "%s at T", what);
        else
            snprintf(ps->ylabel, sizeof ps->ylabel, "%s at T = %zu", what, c->sim.horizon);
        plot_title(ps->title, sizeof ps->title, rs, r, (size_t)-1, fig, "");
    } else {
        band_note(ps->xlabel, sizeof ps->xlabel, "rounds t", c->sim.repeats);
        snprintf(ps->ylabel, sizeof ps->ylabel, "%s", what);
        char extra[160] = "";
        if (c->n_sweep)
            snprintf(extra, sizeof extra, " (%s = %s)", c->sweep_key, c->sweep_values[s_last]);
        plot_title(ps->title, sizeof ps->title, rs, r, s_last, fig, extra);
    }
    const char *labels[MAX_SWEEP];
    for (size_t s = 0; s < n_sweep; s++)
        labels[s] = c->n_sweep ? c->sweep_values[s] : "-";
    ps->labels = labels;

    /* the data: one block per policy that has at least one finite value */
    char path[2 * PATH_LEN];
    snprintf(path, sizeof path, "%s/%s.dat", dir, ps->name);
    afile a;
    if (afile_open(&a, path, err, err_len)) {
        free(ps);
        return -1;
    }
    fprintf(a.f, "# %s.dat - %s, written by colb %s\n", ps->name, ps->title, COLB_VERSION_STRING);
    fprintf(a.f, "# x = %s; y = %s; one index block per policy\n", ps->xlabel, ps->ylabel);
    fprintf(a.f, "# x mean ci95 low high\n");
    const char *pol[MAX_POLICIES];
    int band[MAX_POLICIES];
    size_t n_pol = 0;
    double ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < n_all; i++) {
        size_t written = 0;
        int has_band = 0;
        char x[64];
        if (time) {
            const result_row *w = result_find(rs, r, s_last, pol_all[i]);
            for (size_t k = 0; w && k < w->points; k++) {
                double mean, ci;
                metric_at(w, m, k, 1, &mean, &ci);
                if (!isfinite(mean))
                    continue;
                if (!written)
                    fprintf(a.f, "%s# %s\n", n_pol ? "\n\n" : "", pol_all[i]);
                snprintf(x, sizeof x, "%zu", w->round[k]);
                dat_line(a.f, x, mean, ci);
                has_band |= isfinite(ci);
                written++;
                if (w->points > ps->points)
                    ps->points = w->points;
            }
        } else {
            for (size_t s = 0; s < n_sweep; s++) {
                const result_row *w = result_find(rs, r, s, pol_all[i]);
                double mean, ci;
                if (!w)
                    continue;
                metric_at(w, m, 0, 0, &mean, &ci);
                if (!isfinite(mean))
                    continue;
                ymin = fmin(ymin, mean);
                ymax = fmax(ymax, mean);
                if (!written)
                    fprintf(a.f, "%s# %s\n", n_pol ? "\n\n" : "", pol_all[i]);
                snprintf(x, sizeof x, "%.10g", ps->x[s]);
                dat_line(a.f, x, mean, ci);
                has_band |= isfinite(ci);
                written++;
            }
        }
        if (written) {
            band[n_pol] = has_band;
            pol[n_pol++] = pol_all[i];
        }
    }
    /* Sweep plots whose means span a factor of 30 or more (one policy far
     * above the rest) get a log y axis, so that the others stay readable;
     * bands that reach below half the smallest mean are cut there. */
    if (!time && ymin > 0 && ymax >= 30 * ymin) {
        ps->logy = 1;
        ps->ylo = ymin / 2;
        size_t n = strlen(ps->ylabel);
        snprintf(ps->ylabel + n, sizeof ps->ylabel - n, " (log scale)");
    }
    if (n_pol == 0) {
        afile_abort(&a);
        free(ps);
        return 0;
    }
    int rc = afile_commit(&a, err, err_len) || write_script(dir, ps, pol, band, n_pol, err, err_len)
             ? -1
             : exe ? gnuplot_draw(exe, dir, ps->name, warm, err, err_len) : 0;
    free(ps);
    return rc == GNUPLOT_TIMED_OUT ? PLOT_TIMED_OUT : rc == GNUPLOT_FAILED ? PLOT_FAILED : rc ? -1 : 1;
}

int plot_figure(const result_set *rs, metric m, const char *dir, const char *fig,
                gnuplot_warm *warm, char *err, size_t err_len)
{
    /* The notice is printed once per process: a run of many figures
     * without gnuplot says it once; once gnuplot has timed out, no later
     * plot waits for it again; once it has failed, no later plot of this
     * figure runs it again (a gnuplot that cannot draw one of colb's plots
     * - a terminal it lacks, a broken font setup - draws none: one line
     * says so, not one per plot). (The CLI is single-threaded here.) */
    static int noticed, timed_out;
    const experiment *e = rs->e;
    char exe[PATH_LEN];
    int draw = e->cfg[0].plots; /* 0: the data and scripts only (gnuplot NAME.gp draws them) */
    int missing = draw && gnuplot_find(exe, sizeof exe);
    if (missing) { /* as --plots 0: the scripts can be drawn later, elsewhere */
        if (!noticed)
            fprintf(stderr, "colb: gnuplot not found; writing the plots' data and gnuplot scripts only "
                            "(gnuplot NAME.gp draws them)\n");
        noticed = 1;
        draw = 0;
    }
    int late = draw && timed_out ? PLOT_TIMED_OUT : 0; /* or PLOT_FAILED: not drawn from there on */
    if (late)
        draw = 0;
    int plots = 0;
    for (size_t r = 0; r < e->n_readings; r++) {
        for (int time = e->cfg[r].n_sweep ? 0 : 1; time <= 1; time++) {
            int k = one_plot(draw ? exe : NULL, rs, m, dir, fig, r, time, warm, err, err_len);
            if (k == PLOT_TIMED_OUT || k == PLOT_FAILED) { /* as without gnuplot from here on */
                say("%s; writing the plots' data and gnuplot scripts only (gnuplot NAME.gp draws them)",
                    err);
                timed_out |= k == PLOT_TIMED_OUT;
                late = k;
                draw = 0;
                k = 0;
            }
            if (k < 0)
                return -1;
            plots += k;
        }
    }
    return missing ? PLOT_SKIPPED : late ? late : plots;
}
