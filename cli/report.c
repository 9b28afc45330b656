/* report.c - report.md: for every figure of a reproduction the paper's
 * claim, the settings, the measured numbers (tables of mean +- 95% CI),
 * the plots and a verdict per check and reading. Verdicts come only from
 * the numbers, through check_eval (verdict.c); this file only collects the
 * numbers and lays them out as Markdown. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "markdown.h"
#include "plot.h"
#include "report_settings.h"
#include "width.h"

/* ---- numbers of a reading -------------------------------------------- */

static size_t n_points(const experiment *e, size_t r)
{
    return e->cfg[r].n_sweep ? e->cfg[r].n_sweep : 1;
}

static const char *point_label(const experiment *e, size_t r, size_t s)
{
    return e->cfg[r].n_sweep ? e->cfg[r].sweep_values[s] : "-";
}

/* 1 when readings r and q have the same points: no sweep in either, or the
 * same key swept over the same values in the same order. A check across
 * two readings compares them point by point. */
static int same_points(const experiment *e, size_t r, size_t q)
{
    const run_config *a = &e->cfg[r], *b = &e->cfg[q];
    if (a->n_sweep != b->n_sweep || (a->n_sweep && strcmp(a->sweep_key, b->sweep_key)))
        return 0;
    for (size_t s = 0; s < a->n_sweep; s++)
        if (strcmp(a->sweep_values[s], b->sweep_values[s]))
            return 0;
    return 1;
}

/* Whether check c is made in reading r: A names a policy of reading r
 * ("policy"), or names reading r itself ("policy/reading"). Checks about
 * policies a reading does not run by design are not listed for it. */
static int check_applies(const experiment *e, const check *c, size_t r)
{
    const char *slash = strchr(c->a, '/');
    if (slash)
        return !strcmp(slash + 1, e->reading[r]);
    for (size_t i = 0; i < e->cfg[r].n_policies; i++)
        if (!strcmp(e->cfg[r].policies[i], c->a))
            return 1;
    return 0;
}

/* The paired statistics of A's rows wa against B's rows wb at n points into
 * pp: 0, or -1 when they cannot be paired (rows without per-repeat values,
 * different repeats, fewer than 2, a value that is not finite). */
static int paired_points(const result_row *const *wa, const result_row *const *wb, size_t n, metric m,
                         paired_point *pp)
{
    int rc = 0;
    size_t R = wa[0]->repeats;
    double *d = malloc(2 * (R ? R : 1) * sizeof(double)), *x = d + R;
    if (!d || R < 2)
        rc = -1;
    for (size_t s = 0; s < n && !rc; s++) {
        const double *a = result_repeats(wa[s], m), *b = result_repeats(wb[s], m);
        if (!a || !b || wa[s]->repeats != R || wb[s]->repeats != R) {
            rc = -1;
            break;
        }
        for (size_t j = 0; j < R && !rc; j++) {
            d[j] = a[j] - b[j];
            x[j] = a[j] - b[j] - 0.1 * fabs(b[j]);
            rc = isfinite(d[j]) && isfinite(x[j]) ? 0 : -1;
        }
        if (!rc) {
            colb_mean_ci95(d, R, &pp[s].d_mean, &pp[s].d_half);
            colb_mean_ci95(x, R, &pp[s].e_mean, &pp[s].e_half);
        }
    }
    free(d);
    return rc;
}

verdict report_check(const experiment *e, const result_set *rs, const check *c, size_t r,
                     char *why, size_t why_len)
{
    if (!rs || !e || r >= e->n_readings) {
        snprintf(why, why_len, "no results");
        return V_NOT_RUN;
    }
    size_t n = n_points(e, r), reading_of[2] = { r, r };
    double ma[MAX_SWEEP], ca[MAX_SWEEP], mb[MAX_SWEEP], cb[MAX_SWEEP];
    const result_row *rows[2][MAX_SWEEP];
    for (size_t s = 0; s < n; s++) {
        const char *name[2] = { c->a, c->b };
        double *mv[2] = { ma, mb }, *cv[2] = { ca, cb };
        for (int k = 0; k < 2; k++) {
            /* "policy/reading" names a policy of another reading (Last.FM
             * compares CMLB and CLUB, each under its own protocol) */
            char pol[64];
            size_t rk = r;
            snprintf(pol, sizeof pol, "%s", name[k]);
            char *slash = strchr(pol, '/');
            if (slash) {
                *slash = '\0';
                for (rk = 0; rk < e->n_readings && strcmp(e->reading[rk], slash + 1); rk++)
                    ;
                if (rk == e->n_readings) {
                    snprintf(why, why_len, "no reading '%s'", slash + 1);
                    return V_NOT_RUN;
                }
                if (!same_points(e, r, rk)) { /* it paired points by their index, whatever their values */
                    snprintf(why, why_len, "readings %s and %s do not sweep the same values: a check across "
                             "readings compares them at each swept value", e->reading[r], e->reading[rk]);
                    return V_NOT_RUN;
                }
            }
            const result_row *w = result_find(rs, rk, s, pol);
            rows[k][s] = w;
            reading_of[k] = rk;
            if (!w) {
                snprintf(why, why_len, "%s did not run in reading %s", pol, e->reading[rk]);
                return V_NOT_RUN;
            }
            mv[k][s] = result_mean(w, e->metric);
            cv[k][s] = result_ci(w, e->metric);
            if (isfinite(mv[k][s]) && !isfinite(cv[k][s])) {
                snprintf(why, why_len, "%s ran %zu repeat at %s: its 95%% interval is undefined, so the claim "
                         "cannot be judged", pol, w->repeats, point_label(e, r, s));
                return V_INCONCLUSIVE;
            }
            if (!isfinite(mv[k][s])) {
                snprintf(why, why_len, "no %s for %s at %s (%s)",
                         e->metric == METRIC_RATIO ? "ratio to the random policy" : "regret", name[k],
                         point_label(e, r, s),
                         e->metric == METRIC_RATIO
                             ? "did the random policy run? its regret must be > 0 in every repeat"
                             : "no value");
                return V_NOT_RUN;
            }
        }
    }
    /* A and B of one reading ran on the same repeats (the same
     * environments, repeat by repeat): the verdict pairs them */
    paired_point pp[MAX_SWEEP];
    int paired = reading_of[0] == reading_of[1] && paired_points(rows[0], rows[1], n, e->metric, pp) == 0;
    return check_eval(c, ma, ca, mb, cb, paired ? pp : NULL, n, why, why_len);
}

static void check_label(FILE *f, const check *c, int table)
{
    char buf[160];
    check_format(c, buf, sizeof buf);
    if (c->text[0]) {
        md_text(f, c->text);
        fputs(" (", f);
        md_code(f, buf, table);
        fputc(')', f);
    } else {
        md_code(f, buf, table);
    }
}

static void fmt_cell(char *out, size_t len, double mean, double ci, metric m)
{
    if (!isfinite(mean))
        snprintf(out, len, "n/a");
    else if (!isfinite(ci)) /* one repeat: the interval is undefined */
        snprintf(out, len, m == METRIC_RATIO ? "%.3f ± n/a" : "%.4g ± n/a", mean);
    else if (m == METRIC_RATIO)
        snprintf(out, len, "%.3f ± %.3f", mean, ci);
    else
        snprintf(out, len, "%.4g ± %.2g", mean, ci);
}


/* ---- one figure ---------------------------------------------------------- */

static void anchor(char *out, size_t len, const char *name)
{
    size_t n = 0;
    for (; *name && n + 1 < len; name++) {
        char ch = *name;
        out[n++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ? ch : '-';
    }
    out[n] = '\0';
}

static const char *fig_name(const figure_result *fr)
{
    return fr->e && fr->e->figure[0] ? fr->e->figure : "figure";
}

/* A link target: the figure folder (relative to the report) / file. */
static void rel_path(char *out, size_t len, const char *dir, const char *file)
{
    if (!dir || !*dir || !strcmp(dir, "."))
        snprintf(out, len, "%s", file);
    else
        snprintf(out, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", file);
}

static int file_exists(const char *report_dir, const char *rel)
{
    char p[2 * PATH_LEN + 8];
    int w = rel[0] == '/' || !report_dir[0] ? snprintf(p, sizeof p, "%s", rel)
                                            : snprintf(p, sizeof p, "%s/%s", report_dir, rel);
    return w > 0 && (size_t)w < sizeof p && access(p, R_OK) == 0;
}

static void reading_plots(FILE *f, const figure_result *fr, size_t r, const char *report_dir)
{
    const experiment *e = fr->e;
    if (fr->plots == PLOT_SKIPPED) {
        fputs("_Plots not drawn: gnuplot was not found (the numbers are in the CSV files; `gnuplot NAME.gp` in "
              "this folder draws each plot)._\n\n", f);
        return;
    }
    if (fr->plots == PLOT_TIMED_OUT) {
        fputs("_Plots not drawn: gnuplot did not finish within its time limit (`COLB_GNUPLOT_TIMEOUT`) "
              "and was stopped; `gnuplot NAME.gp` in this folder draws each plot._\n\n", f);
        return;
    }
    if (fr->plots == PLOT_FAILED) {
        fputs("_Plots not drawn: gnuplot failed (its message is in the run's output); `gnuplot NAME.gp` in "
              "this folder draws each plot._\n\n", f);
        return;
    }
    if (fr->plots < 0) {
        fputs("_Plots failed (see the messages of the run)._\n\n", f);
        return;
    }
    if (fr->plots == 0)
        return;
    static const char *const kinds[2] = { "sweep", "time" };
    static const char *const what[2] = { "against the swept parameter", "over rounds" };
    for (int k = e->cfg[r].n_sweep ? 0 : 1; k < 2; k++) {
        char name[2 * NAME_LEN + 16], file[2 * NAME_LEN + 24], png[PATH_LEN + 160], svg[PATH_LEN + 160];
        plot_file_name(name, sizeof name, fig_name(fr), e->reading[r], kinds[k]);
        snprintf(file, sizeof file, "%s.png", name);
        rel_path(png, sizeof png, fr->dir, file);
        snprintf(file, sizeof file, "%s.svg", name);
        rel_path(svg, sizeof svg, fr->dir, file);
        if (!file_exists(report_dir, png))
            continue;
        fprintf(f, "![%s, reading %s, %s](%s)  \n", fig_name(fr), e->reading[r], what[k], png);
        fprintf(f, "[SVG](%s) · %s\n\n", svg, what[k]);
    }
}

static void reading_table(FILE *f, const figure_result *fr, size_t r)
{
    const experiment *e = fr->e;
    const result_set *rs = fr->rs;
    const run_config *c = &e->cfg[r];
    metric m = e->metric;
    const char *pol[MAX_POLICIES];
    size_t P = result_reading_policies(rs, r, pol);
    if (!P) {
        fputs("_No results for this reading._\n\n", f);
        return;
    }
    size_t n = n_points(e, r);
    fprintf(f, "%s at T (mean ± 95%% CI over %zu repeats; bold: the lowest mean apart from the "
               "oracles, only where its interval lies below every other policy's):\n\n",
            m == METRIC_RATIO ? "Cumulative regret / the random policy's" : "Average cumulative regret per user",
            c->sim.repeats);
    fputs("| ", f);
    md_text(f, c->n_sweep ? c->sweep_key : "T");
    for (size_t i = 0; i < P; i++) {
        fputs(" | ", f);
        md_text(f, pol[i]);
    }
    fputs(" |\n|---", f);
    for (size_t i = 0; i < P; i++)
        fputs("|---:", f);
    fputs("|\n", f);
    for (size_t s = 0; s < n; s++) {
        fputs("| ", f);
        if (c->n_sweep)
            md_text(f, point_label(e, r, s));
        else
            fprintf(f, "%zu", c->sim.horizon);
        size_t best = P;
        for (size_t i = 0; i < P; i++) {
            const result_row *w = result_find(rs, r, s, pol[i]);
            if (!w || colb_policy_needs_true_clusters(pol[i]) || !isfinite(result_mean(w, m)))
                continue;
            if (best == P || result_mean(w, m) < result_mean(result_find(rs, r, s, pol[best]), m))
                best = i;
        }
        /* "best" only when it is: significantly below every other non-oracle */
        for (size_t i = 0; best < P && i < P; i++) {
            const result_row *w = result_find(rs, r, s, pol[i]), *b = result_find(rs, r, s, pol[best]);
            if (i == best || !w || colb_policy_needs_true_clusters(pol[i]) || !isfinite(result_mean(w, m)))
                continue;
            if (!(result_mean(b, m) + result_ci(b, m) < result_mean(w, m) - result_ci(w, m)))
                best = P;
        }
        for (size_t i = 0; i < P; i++) {
            const result_row *w = result_find(rs, r, s, pol[i]);
            char cell[96];
            if (!w)
                snprintf(cell, sizeof cell, "—");
            else
                fmt_cell(cell, sizeof cell, result_mean(w, m), result_ci(w, m), m);
            fprintf(f, i == best ? " | **%s**" : " | %s", cell);
        }
        fputs(" |\n", f);
    }
    fputc('\n', f);

    fputs("Wall time per policy (seconds, summed over repeats and sweep points):", f);
    for (size_t i = 0; i < P; i++) {
        double t = 0.0;
        for (size_t s = 0; s < n; s++) {
            const result_row *w = result_find(rs, r, s, pol[i]);
            if (w)
                t += w->wall;
        }
        fprintf(f, "%s %s %.2f", i ? "," : "", pol[i], t);
    }
    fputs(".\n\n", f);

    size_t tuned = 0;
    for (size_t s = 0; s < n && s < MAX_SWEEP; s++) {
        if (!rs->tuned[r][s][0])
            continue;
        fputs(tuned++ ? "; " : "CLUB's tuned parameters: ", f);
        if (c->n_sweep) {
            md_text(f, c->sweep_key);
            fputs(" = ", f);
            md_text(f, point_label(e, r, s));
            fputs(": ", f);
        }
        md_code(f, rs->tuned[r][s], 0);
    }
    if (tuned)
        fputs(".\n\n", f);

    size_t info = 0;
    for (size_t i = 0; i < P; i++) {
        const result_row *w = result_find(rs, r, n - 1, pol[i]);
        if (!w || !w->info[0])
            continue;
        if (!info++) {
            fputs("What the policies report at the end of repeat 1", f);
            if (c->n_sweep) {
                fputs(" (", f);
                md_text(f, c->sweep_key);
                fputs(" = ", f);
                md_text(f, point_label(e, r, n - 1));
                fputc(')', f);
            }
            fputs(":\n\n", f);
        }
        fprintf(f, "- %s: ", pol[i]);
        md_code(f, w->info, 0);
        fputc('\n', f);
    }
    if (info)
        fputc('\n', f);
}

/* How the policies of a reading explore, which oracle is the reference, and
 * a warning when some policy explores with a width of its own. */
static void reading_footing(FILE *f, const run_config *c)
{
    char shared[256], own[512];
    width_shared(c, shared, sizeof shared);
    fputs("**Exploration.** ", f);
    size_t n_over = 0;
    for (size_t i = 0; i < c->n_policies; i++)
        n_over += width_is_override(c, c->policies[i]) != 0;
    fputs(n_over ? "The other policies: " : "Every policy: ", f);
    md_text(f, shared);
    fputs(".", f);
    for (size_t i = 0; i < c->n_policies; i++) {
        if (!width_is_override(c, c->policies[i]))
            continue;
        width_describe(c, c->policies[i], own, sizeof own);
        fputs(" **Not on equal footing:** ", f);
        md_text(f, c->policies[i]);
        fputs(" explores with a width of its own (", f);
        md_text(f, own);
        fputs("), so its differences to the others mix algorithm and exploration width.", f);
    }
    for (size_t i = 0; i < c->n_policies; i++)
        if (!strcmp(c->policies[i], "oracle")) {
            fputs(c->sim.policy.diversify
                      ? " The reference `oracle` knows the true clusters (one learner each) and "
                        "diversifies its members' choices within a round."
                      : " The reference `oracle` knows the true clusters (one learner each); all "
                        "members of a cluster play its arm in a round (no diversification).",
                  f);
            break;
        }
    fputs("\n\n", f);
}

static void figure_section(FILE *f, const figure_result *fr, const char *report_dir)
{
    const experiment *e = fr->e;
    const run_config *c0 = &e->cfg[0];
    char a[NAME_LEN];
    anchor(a, sizeof a, fig_name(fr));
    fprintf(f, "<a id=\"%s\"></a>\n\n## %s", a, fig_name(fr));
    if (c0->title[0]) {
        fputs(": ", f);
        md_text(f, c0->title);
    }
    fputs("\n\n", f);
    if (c0->claim[0]) {
        fputs("**The paper's claim.** ", f);
        md_text(f, c0->claim);
        fputs("\n\n", f);
    }
    if (fr->skipped || !fr->rs) {
        fputs("**Not run:** ", f);
        md_text(f, fr->skip_reason[0] ? fr->skip_reason : "no results");
        fputs("\n\n", f);
        return;
    }
    if (e->quick_applied && e->n_quick) {
        fputs("**Quick mode: the verdicts below come from reduced runs**, not the paper's sizes:", f);
        for (size_t i = 0, listed = 0; i < e->n_quick; i++) {
            if (!strcmp(e->quick_full[i], e->quick_val[i]))
                continue; /* a [quick] value equal to the full run's reduces nothing */
            fprintf(f, "%s ", listed++ ? "," : "");
            md_text(f, e->quick_key[i]);
            fputs(" ", f);
            md_code(f, e->quick_full[i], 0);
            fputs(" → ", f);
            md_code(f, e->quick_val[i], 0);
        }
        fputs(".\n\n", f);
    }
    if (e->n_left_out) {
        fputs("**Readings left out** (`--readings`):", f);
        for (size_t i = 0; i < e->n_left_out; i++) {
            fputs(i ? ", " : " ", f);
            md_text(f, e->left_out[i]);
        }
        fputs(". Their settings were not run, and checks comparing with them are not run.\n\n", f);
    }
    fputs("**Settings.** ", f);
    report_settings_line(f, e);
    fprintf(f, " Metric: %s. Results: ",
            e->metric == METRIC_RATIO ? "cumulative regret divided by the random policy's (paired by repeat)"
                                      : "average cumulative regret per user");
    static const char *const files[3] = { "summary.csv", "curves.csv", "settings.txt" };
    for (int i = 0; i < 3; i++) {
        char p[PATH_LEN + 32];
        rel_path(p, sizeof p, fr->dir, files[i]);
        fprintf(f, "%s[%s](%s)", i ? ", " : "", files[i], p);
    }
    fprintf(f, "; wall time %.1f s.\n\n", fr->rs->wall);

    for (size_t r = 0; r < e->n_readings; r++) {
        if (e->n_readings > 1 || strcmp(e->reading[r], "default")) {
            fputs("### Reading ", f);
            md_text(f, e->reading[r]);
            fputs("\n\n", f);
        }
        if (e->reading_note[r][0]) {
            md_text(f, e->reading_note[r]);
            fputs("\n\n", f);
        }
        report_reading_diff(f, &e->base, &e->cfg[r]);
        reading_footing(f, &e->cfg[r]);
        reading_plots(f, fr, r, report_dir);
        reading_table(f, fr, r);
        if (e->n_checks)
            fputs("Checks:\n\n", f);
        for (size_t i = 0; i < e->n_checks; i++) {
            const check *c = &e->checks[i];
            char why[512];
            if (!check_applies(e, c, r))
                continue;
            verdict v = report_check(e, fr->rs, c, r, why, sizeof why);
            fprintf(f, "- **%s**: ", verdict_name(v));
            check_label(f, c, 0);
            fprintf(f, ". A = %s, compared with the reference B = %s%s: ", c->a, c->b,
                    e->quick_applied ? " (quick mode: reduced runs)" : "");
            md_text(f, why);
            fputs(".\n", f);
        }
        if (e->n_checks)
            fputc('\n', f);
    }
}

/* ---- the report ---------------------------------------------------------- */

static const char *or_unknown(const char *s)
{
    return s && *s ? s : "unknown";
}

static void summary(FILE *f, const figure_result *figs, size_t n)
{
    size_t count[4] = { 0, 0, 0, 0 };
    fputs("## Summary\n\n| figure | claim | reading | verdict |\n|---|---|---|---|\n", f);
    for (size_t i = 0; i < n; i++) {
        const figure_result *fr = &figs[i];
        const experiment *e = fr->e;
        char a[NAME_LEN];
        anchor(a, sizeof a, fig_name(fr));
        if (!e)
            continue;
        if (fr->skipped || !fr->rs) {
            fprintf(f, "| [%s](#%s) | ", fig_name(fr), a);
            if (e->n_checks)
                for (size_t k = 0; k < e->n_checks; k++) {
                    fputs(k ? "; " : "", f);
                    check_label(f, &e->checks[k], 1);
                }
            else
                md_text(f, e->cfg[0].claim);
            fputs(" | — | not run: ", f);
            md_text(f, fr->skip_reason[0] ? fr->skip_reason : "no results");
            fputs(" |\n", f);
            for (size_t k = 0; k < e->n_checks; k++) /* the (check, reading) pairs it would have judged */
                for (size_t r = 0; r < e->n_readings; r++)
                    count[V_NOT_RUN] += check_applies(e, &e->checks[k], r);
            continue;
        }
        if (!e->n_checks) {
            fprintf(f, "| [%s](#%s) | ", fig_name(fr), a);
            md_text(f, e->cfg[0].claim[0] ? e->cfg[0].claim : "(no claim)");
            fputs(" | — | no check defined |\n", f);
        }
        for (size_t k = 0; k < e->n_checks; k++)
            for (size_t r = 0; r < e->n_readings; r++) {
                char why[512];
                if (!check_applies(e, &e->checks[k], r))
                    continue;
                verdict v = report_check(e, fr->rs, &e->checks[k], r, why, sizeof why);
                count[v]++;
                fprintf(f, "| [%s](#%s) | ", fig_name(fr), a);
                check_label(f, &e->checks[k], 1);
                fputs(" | ", f);
                md_text(f, e->reading[r]);
                fprintf(f, " | **%s**%s |\n", verdict_name(v), e->quick_applied ? " (quick)" : "");
            }
    }
    fprintf(f, "\nIn all: %zu supported, %zu not supported, %zu inconclusive, %zu not run.\n\n",
            count[V_SUPPORTED], count[V_NOT_SUPPORTED], count[V_INCONCLUSIVE], count[V_NOT_RUN]);
}

int report_write(const char *path, const figure_result *figs, size_t n, const report_meta *meta,
                 char *err, size_t err_len)
{
    char report_dir[PATH_LEN];
    const char *slash = strrchr(path, '/');
    snprintf(report_dir, sizeof report_dir, "%.*s", slash ? (int)(slash - path) : 0, path);
    if (slash && slash == path)
        snprintf(report_dir, sizeof report_dir, "/");

    afile a;
    if (afile_open(&a, path, err, err_len))
        return -1;
    FILE *f = a.f;
    report_meta none = { 0 };
    if (!meta)
        meta = &none;
    fputs("# colb: reproduction of the paper's experiments\n\n", f);
    fputs("| | |\n|---|---|\n", f);
    fputs("| command | ", f);
    md_code(f, or_unknown(meta->command), 1);
    fprintf(f, " |\n| version | %s |\n| commit | ", or_unknown(meta->version));
    md_code(f, or_unknown(meta->commit), 1);
    fprintf(f, " |\n| date | %s |\n", or_unknown(meta->date));
    fprintf(f, "| mode | %s |\n", meta->quick ? "quick (reduced sizes: a smoke test of the claims, not a "
                                                "faithful reproduction)"
                                              : "full");
    fprintf(f, "| wall time | %.1f s |\n\n", meta->wall);
    fputs("Each claim of the paper is a check on the measured numbers, made separately for every "
          "reading (variant) of a figure. Two policies of a reading ran on the same repeats, so A is "
          "significantly below B when the 95% interval (Student t) of the mean of the per-repeat "
          "differences A - B lies below 0; without per-repeat numbers (across readings), when "
          "mA + cA < mB - cB for means m and 95% half-widths c. `A < B` is **supported** when A is below B at every sweep "
          "point and significantly so at more than half of them, **not supported** when A is "
          "significantly above B somewhere or not below it (above or equal) at half of the points or more, and "
          "**inconclusive** otherwise; `@last` applies the rule at the last point only. `A ~ B` "
          "(competitive) is supported when at every point A is within 10% of B, not significantly "
          "different from it, or lower. `A - B decreasing` compares the gap at the first and the last point. "
          "Verdicts are computed from the numbers only.\n\n",
          f);
    summary(f, figs, n);
    for (size_t i = 0; i < n; i++)
        if (figs[i].e)
            figure_section(f, &figs[i], report_dir);
    return afile_commit(&a, err, err_len);
}
