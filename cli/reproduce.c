/* reproduce.c - `colb reproduce`: every experiment of the paper's Section 6
 * (the specs embedded from experiments/), with a progress bar and ETA, CSV
 * results, plots and report.md.
 *
 *   colb reproduce [--quick] [--out DIR] [-j N] [--data-dir DIR] [--readings LIST] [FIGURE ...]
 *
 * The options are read as every subcommand reads them (args.h).
 *
 * --quick applies each spec's [quick] section (fewer repeats, smaller
 * sweeps). A figure whose data set is missing is skipped with a notice and
 * reported as skipped. --readings runs only the named readings of each
 * figure (e.g. the paper-literal ones); a figure with none of them is
 * skipped, and a name no figure to be made has is refused.
 *
 * Checkpoints: each figure's simulations are saved in DIR.checkpoints/
 * FIGURE.colb (beside DIR: DIR itself is replaced as one set only when the
 * reproduction completes, outdir.h) when it completes, and - SIGINT or
 * SIGTERM between rounds - when the run is interrupted. --resume loads them:
 * finished figures and finished settings (cells) are not run again, an
 * interrupted one goes on from where it stopped, and the results equal an
 * uninterrupted run's. A completed reproduction removes its checkpoints. */
#include "reproduce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "checkpoint.h"
#include "experiment.h"
#include "outdir.h"
#include "plot.h"
#include "report.h"
#include "run.h"
#include "specs.h"
#include "say.h"
#include "suggest.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
    fprintf(f, "usage: colb reproduce [--quick] [--resume] [--out DIR] [-j THREADS] [--data-dir DIR]\n"
               "                      [--readings LIST] [FIGURE ...]\n"
               "figures:");
    for (size_t i = 0; i < N_SPECS; i++)
        fprintf(f, " %s", SPECS[i].name);
    fprintf(f, "\n(default: all; results, plots and report.md go to DIR, default results/full\n"
               " or results/quick; --resume continues an interrupted reproduction from the\n"
               " checkpoints in DIR.checkpoints, skipping figures and settings already done;\n"
               " --readings NAME,... runs only those readings of each figure, e.g.\n"
               " paper,multi-agent,club-protocol for the paper-literal ones; a figure with\n"
               " none of them is skipped; values as --out DIR or --out=DIR, -j N or -jN)\n");
}

static const spec_text *find_spec(const char *name)
{
    for (size_t i = 0; i < N_SPECS; i++)
        if (!strcmp(SPECS[i].name, name))
            return &SPECS[i];
    return NULL;
}

/* The commit the tool was built from (make records it), or "unknown". */
static void git_commit(char *out, size_t len)
{
#ifdef COLB_GIT_COMMIT
    snprintf(out, len, "%s", COLB_GIT_COMMIT[0] && COLB_GIT_COMMIT[0] != '-' ? COLB_GIT_COMMIT : "unknown");
#else
    snprintf(out, len, "unknown");
#endif
}

typedef struct job {
    const spec_text *spec;
    experiment *e;
    result_set rs;
    int ran;
    figure_result fr;
    char dir[sizeof ((outdir *)0)->tmp + 96], rel[128];
} job;

/* What a figure's checkpoint records of its run (its tool bytes): the
 * figure's name and the readings run, "fig2 readings=paper,colb". The
 * settings it holds are numbered by their reading's place among those run,
 * so a resume with other --readings would read one reading's settings as
 * another's, or finish without the ones left out and remove the
 * checkpoint with their progress. */
static void checkpoint_identity(const job *jb, char *out, size_t len)
{
    int w = snprintf(out, len, "%s readings=", jb->spec->name);
    for (size_t r = 0; r < jb->e->n_readings && w > 0 && (size_t)w < len; r++)
        w += snprintf(out + w, len - (size_t)w, "%s%s", r ? "," : "", jb->e->reading[r]);
}

/* 0 if the checkpoint `path` (its tool bytes: want, checkpoint_identity)
 * is one of this figure and readings; else -1 and err names the
 * difference. The file's name alone does not say: a checkpoint copied or
 * renamed would otherwise be refused later, by a setting's check, without
 * naming the figure. */
static int checkpoint_of(const char *path, const void *bytes, size_t len, const char *want, char *err,
                         size_t err_len)
{
    if (len == strlen(want) && !memcmp(bytes, want, len))
        return 0;
    char had[256];
    size_t n = len < sizeof had - 1 ? len : sizeof had - 1;
    for (size_t i = 0; i < n; i++) { /* shown on one line, whatever the file holds */
        unsigned char c = ((const unsigned char *)bytes)[i];
        had[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    had[n] = '\0';
    const char *rw = strstr(want, " readings="), *rh = strstr(had, " readings=");
    int fig = (int)(rw - want), hfig = rh ? (int)(rh - had) : (int)n;
    if (hfig == fig && !memcmp(had, want, (size_t)fig))
        snprintf(err, err_len, "%s is a checkpoint of %.*s run with the readings %s%s, and this run's are %s: "
                 "resume with the same --readings, or remove it", path, fig, want, rh ? rh + 10 : "(not recorded)",
                 len > n ? "..." : "", rw + 10);
    else
        snprintf(err, err_len, "%s is a checkpoint of figure '%.*s%s', not of %.*s: remove it or run without "
                 "--resume", path, hfig, had, !rh && len > n ? "..." : "", fig, want);
    return -1;
}

/* Remove the checkpoints of a completed reproduction, and their folder when
 * nothing else is in it. A skipped figure's (its data set is missing, or
 * --readings left all its readings out) is kept: it may be another run's. */
static void remove_checkpoints(const char *dir, const job *jobs, size_t n)
{
    char path[PATH_LEN + 128];
    for (size_t j = 0; j < n; j++) {
        if (jobs[j].fr.skipped)
            continue;
        snprintf(path, sizeof path, "%s/%s.colb", dir, jobs[j].spec->name);
        remove(path);
    }
    rmdir(dir);
}

int cmd_reproduce(int argc, char **argv)
{
    int quick = 0, resume = 0;
    const char *out = NULL, *threads = "2", *data_dir = NULL, *readings = NULL;
    const char *want[64];
    size_t n_want = 0;
    char why[ERR_LEN];
    static const arg_opt opts[] = { { "quick", NULL, 1 },    { "resume", NULL, 1 },   { "out", NULL, 0 },
                                    { "threads", "-j", 0 },  { "data-dir", NULL, 0 }, { "readings", NULL, 0 },
                                    { "help", "-h", 1 } };
    arg_reader ar;
    const arg_opt *o;
    const char *v;
    int got;
    args_init(&ar, argc, argv, opts, sizeof opts / sizeof opts[0], "colb reproduce --help");
    while ((got = args_next(&ar, &o, &v, why, sizeof why)) > 0) {
        if (!o) { /* a figure */
            if (!find_spec(v)) {
                const char *names[64];
                size_t n = 0;
                for (size_t k = 0; k < N_SPECS && n < 64; k++)
                    names[n++] = SPECS[k].name;
                suggest_unknown(why, sizeof why, "figure", "", v, strlen(v), names, n, "colb reproduce --help");
                say("%s", why);
                return EXIT_USAGE;
            }
            for (size_t k = 0; k < n_want; k++)
                if (!strcmp(want[k], v)) {
                    say("figure '%s' is named twice (see colb reproduce --help)", v);
                    return EXIT_USAGE;
                }
            if (n_want < 64)
                want[n_want++] = v;
        } else if (!strcmp(o->name, "help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o->name, "quick")) {
            quick = 1;
        } else if (!strcmp(o->name, "resume")) {
            resume = 1;
        } else if (!strcmp(o->name, "out")) {
            out = v;
        } else if (!strcmp(o->name, "data-dir")) {
            data_dir = v;
        } else if (!strcmp(o->name, "readings")) {
            readings = v;
        } else {
            threads = v;
        }
    }
    if (got < 0) {
        say("%s", why);
        return EXIT_USAGE;
    }
    char rbuf[MAX_READINGS * NAME_LEN];
    const char *rnames[MAX_READINGS];
    size_t n_rnames = 0;
    if (readings && reading_list_parse(readings, rbuf, rnames, &n_rnames, why, sizeof why)) {
        say("%s", why);
        return EXIT_USAGE;
    }
    if (!out)
        out = quick ? "results/quick" : "results/full";
    /* DIR/ is DIR: the checkpoints beside it (DIR.checkpoints) stay outside */
    char out_buf[PATH_LEN];
    size_t out_n = strlen(out);
    while (out_n > 1 && out[out_n - 1] == '/')
        out_n--;
    if (out_n < sizeof out_buf) {
        memcpy(out_buf, out, out_n);
        out_buf[out_n] = '\0';
        out = out_buf;
    }
    size_t n_jobs = n_want ? n_want : N_SPECS;
    job *jobs = calloc(n_jobs, sizeof *jobs);
    if (!jobs) {
        say("out of memory");
        return 1;
    }
    char err[ERR_LEN];
    int rc = 0, found[MAX_READINGS] = { 0 };
    outdir od;
    memset(&od, 0, sizeof od);
    size_t total = 0;
    /* Load and validate every spec before running anything. */
    for (size_t j = 0; j < n_jobs && !rc; j++) {
        job *jb = &jobs[j];
        jb->spec = n_want ? find_spec(want[j]) : &SPECS[j];
        jb->e = calloc(1, sizeof *jb->e);
        if (!jb->e) {
            snprintf(err, sizeof err, "out of memory");
            rc = 1;
            break;
        }
        config_default(&jb->e->base);
        if (experiment_load_text(jb->e, jb->spec->name, jb->spec->text, err, sizeof err)) {
            rc = 1;
            break;
        }
        experiment_finish(jb->e);
        for (size_t k = 0; k < n_rnames; k++)
            found[k] |= experiment_has_reading(jb->e, rnames[k]);
        if (n_rnames && !experiment_keep_readings(jb->e, rnames, n_rnames)) {
            char names[MAX_READINGS * (NAME_LEN + 2)];
            experiment_reading_names(jb->e, names, sizeof names);
            if (n_want) { /* asked for by name: it must be made */
                snprintf(err, sizeof err, "%s cannot be made with --readings %.200s: its readings are %.200s",
                         jb->spec->name, readings, names);
                rc = EXIT_USAGE;
                break;
            }
            jb->fr.skipped = 1;
            snprintf(jb->fr.skip_reason, sizeof jb->fr.skip_reason,
                     "none of its readings (%.150s) is among --readings", names);
            continue;
        }
        snprintf(jb->rel, sizeof jb->rel, "%s", jb->spec->name);
        snprintf(jb->dir, sizeof jb->dir, "%s/%s", out, jb->rel); /* as recorded in settings.txt */
        if ((quick && experiment_apply_quick(jb->e, err, sizeof err)) ||
            experiment_set(jb->e, "threads", threads, err, sizeof err) ||
            experiment_set(jb->e, "out", jb->dir, err, sizeof err) ||
            (data_dir && experiment_set(jb->e, "data-dir", data_dir, err, sizeof err))) {
            rc = EXIT_USAGE;
            break;
        }
        if (run_check_settings(jb->e, err, sizeof err))
            rc = EXIT_USAGE;
        if (!rc && (run_check_outputs(jb->e, err, sizeof err) || run_check_memory(jb->e, err, sizeof err)))
            rc = 1;
        total += experiment_jobs(jb->e);
    }
    for (size_t k = 0; k < n_rnames && !rc; k++)
        if (!found[k]) { /* the figures' readings, each once, in order */
            char all[512] = "";
            for (size_t j = 0; j < n_jobs; j++)
                for (size_t r = 0; r < jobs[j].e->n_readings + jobs[j].e->n_left_out; r++) {
                    const experiment *x = jobs[j].e;
                    const char *nm = r < x->n_readings ? x->reading[r] : x->left_out[r - x->n_readings];
                    char pat[NAME_LEN + 4];
                    snprintf(pat, sizeof pat, " %s,", nm);
                    size_t at = strlen(all);
                    if (!strstr(all, pat) && at + strlen(pat) < sizeof all)
                        snprintf(all + at, sizeof all - at, "%s", pat);
                }
            if (all[0])
                all[strlen(all) - 1] = '\0';
            snprintf(err, sizeof err, "--readings: no figure to be made has a reading '%.100s' (their readings:%s)",
                     rnames[k], all);
            rc = EXIT_USAGE;
        }
    /* The whole of --out is one set (outdir.h): figures and report are
     * written into a temporary folder that replaces --out at the end. */
    if (!rc && outdir_open(&od, out, err, sizeof err))
        rc = 1;
    char ckdir[PATH_LEN + 16];
    snprintf(ckdir, sizeof ckdir, "%s.checkpoints", out);
    /* a figure's checkpoint (below) is resumed from and replaced only when
     * it is a colb checkpoint (outdir_check_file; a missing one is made
     * with its folder when a figure stops) */
    for (size_t j = 0; j < n_jobs && !rc; j++) {
        char ckpt[sizeof ckdir + 80];
        struct stat st;
        snprintf(ckpt, sizeof ckpt, "%s/%s.colb", ckdir, jobs[j].spec->name);
        if (stat(ckpt, &st) == 0 && outdir_check_file(ckpt, "colb checkpoint", COLB_SNAPSHOT_MAGIC,
                                                      COLB_SNAPSHOT_MAGIC_LEN, err, sizeof err))
            rc = 1;
    }
    /* the data sets, last (a Last.FM check makes its feature cache), before
     * any work: a figure whose data set is not there at all is skipped,
     * unless asked for by name, which must be made; any other fault (a
     * damaged file) stops the run now, with nothing run and --out as it
     * was */
    for (size_t j = 0; j < n_jobs && !rc; j++) {
        job *jb = &jobs[j];
        int dc = jb->fr.skipped ? 0 : run_check_data(jb->e, err, sizeof err);
        if (dc == -2 && !n_want) {
            say("%s skipped: %s", jb->spec->name, err);
            jb->fr.skipped = 1;
            snprintf(jb->fr.skip_reason, sizeof jb->fr.skip_reason, "%.200s", err);
            total -= experiment_jobs(jb->e);
        } else if (dc) {
            char data[ERR_LEN];
            snprintf(data, sizeof data, "%s", err);
            snprintf(err, sizeof err, "%s cannot be made: %.*s", jb->spec->name, ERR_LEN - 128, data);
            rc = 1;
        }
    }
    for (size_t j = 0; j < n_jobs && !rc; j++)
        snprintf(jobs[j].dir, sizeof jobs[j].dir, "%s/%s", od.tmp, jobs[j].rel);
    interrupt_install();
    progress pg;
    progress_init(&pg, total, 0);
    double t0 = wall_now();
    for (size_t j = 0; j < n_jobs && !rc; j++) {
        job *jb = &jobs[j];
        jb->fr.e = jb->e;
        jb->fr.dir = jb->rel;
        if (jb->fr.skipped) /* by --readings */
            continue;
        if (!pg.enabled)
            say("running %s", jb->spec->name);
        snprintf(pg.prefix, sizeof pg.prefix, "%s", jb->spec->name);
        size_t before = pg.done_before;
        /* checkpoints lie beside --out (OUT.checkpoints/FIG.colb), outside
         * the set that replaces --out only when the reproduction completes */
        char ckpt[sizeof ckdir + 80];
        snprintf(ckpt, sizeof ckpt, "%s/%s.colb", ckdir, jb->spec->name);
        run_session ss;
        session_init(&ss);
        const void *bytes;
        size_t blen;
        char ident[64 + MAX_READINGS * (NAME_LEN + 1)];
        checkpoint_identity(jb, ident, sizeof ident);
        if (resume && access(ckpt, F_OK) == 0) {
            if (session_open(&ss, ckpt, "colb reproduce", &bytes, &blen, err, sizeof err) ||
                checkpoint_of(ckpt, bytes, blen, ident, err, sizeof err)) {
                session_free(&ss);
                rc = 1;
                break;
            }
        }
        int r = run_experiment(jb->e, &jb->rs, &pg, &ss, err, sizeof err);
        pg.done_before = before + experiment_jobs(jb->e);
        /* the figure's simulations, done or stopped: what --resume reads.
         * A figure stopped before any setting was kept (in the first one's
         * CLUB tuning) still gets its checkpoint, as colb run's does: the
         * message below says one was written, and --resume then starts the
         * figure over */
        if ((r == 1 || (r == 0 && ss.n_sims)) &&
            (make_dirs(ckdir, err, sizeof err) ||
             session_write(&ss, ckpt, "colb reproduce", ident, strlen(ident), err, sizeof err)))
            r = -1;
        size_t stopped_lo = ss.paused_round, stopped_hi = ss.paused_max, T = ss.paused_horizon;
        session_free(&ss);
        if (r == 1) {
            progress_finish(&pg);
            int sig = interrupt_signal();
            char again[1024] = "colb reproduce --resume";
            for (int i = 0; i < argc; i++)
                if (strcmp(argv[i], "--resume"))
                    snprintf(again + strlen(again), sizeof again - strlen(again), " %s", argv[i]);
            fprintf(stderr, "colb: interrupted in %s with jobs at rounds %zu to %zu of %zu; "
                            "checkpoint written to %s\ncolb: resume with: %s\n", jb->spec->name,
                    stopped_lo, stopped_hi, T, ckpt, again);
            result_set_free(&jb->rs);
            rc = sig ? 128 + sig : 1;
            break;
        }
        if (r) {
            /* a data set gone since the checks above skips the figure as
             * a missing one does, unless it was asked for by name: anything
             * else stops, and --out stays as it was */
            if (!n_want && jb->e->cfg[0].data != DATA_SYNTHETIC && strstr(err, "not found")) {
                progress_finish(&pg);
                say("%s skipped: %s", jb->spec->name, err);
                jb->fr.skipped = 1;
                snprintf(jb->fr.skip_reason, sizeof jb->fr.skip_reason, "%.200s", err);
                result_set_free(&jb->rs);
                continue;
            }
            rc = 1;
            break;
        }
        jb->ran = 1;
        jb->fr.rs = &jb->rs;
        if (write_results(&jb->rs, jb->dir, err, sizeof err)) {
            rc = 1;
            break;
        }
        progress_finish(&pg);
        jb->fr.plots = plot_figure(&jb->rs, jb->e->metric, jb->dir, jb->spec->name, NULL, err, sizeof err);
        if (jb->fr.plots == -1) {
            rc = 1;
            break;
        }
    }
    progress_finish(&pg);
    if (!rc) {
        figure_result *frs = calloc(n_jobs, sizeof *frs);
        char cmd[1024] = "colb reproduce", commit[64], date[64], path[sizeof od.tmp + 16];
        for (int i = 0; i < argc; i++)
            snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " %s", argv[i]);
        git_commit(commit, sizeof commit);
        time_t now = time(NULL);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
        report_meta meta = { .command = cmd, .commit = commit, .version = COLB_VERSION_STRING,
                             .date = date, .quick = quick, .wall = wall_now() - t0 };
        for (size_t j = 0; frs && j < n_jobs; j++)
            frs[j] = jobs[j].fr;
        snprintf(path, sizeof path, "%s/report.md", od.tmp);
        if (!frs || report_write(path, frs, n_jobs, &meta, err, sizeof err) ||
            (n_want && outdir_keep_old(&od, err, sizeof err)) || outdir_commit(&od, err, sizeof err))
            rc = 1;
        else {
            printf("report: %s/report.md (%.1f s)\n", out, meta.wall);
            remove_checkpoints(ckdir, jobs, n_jobs); /* the reproduction is complete */
        }
        free(frs);
    }
    outdir_abort(&od);
    /* A figure named on the command line that cannot be made is a failure
     * (above: nothing is replaced); without names every figure is attempted
     * and a skipped one (its data set is missing) is only a notice and a
     * line of the report. */
    if (rc && rc < 128) /* 128 + signal: already said */
        say("%s", err);
    for (size_t j = 0; j < n_jobs; j++) {
        if (jobs[j].ran)
            result_set_free(&jobs[j].rs);
        free(jobs[j].e);
    }
    free(jobs);
    return rc;
}
