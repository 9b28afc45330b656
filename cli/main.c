/* main.c - the colb command-line tool: subcommand dispatch, option parsing,
 * exit codes. Built only on the public API (include/colb) plus the CLI's own
 * files.
 *
 * Exit codes: 0 success (also a run stopped by --stop-after, checkpoint
 *             written); 1 the run failed (I/O, data, numerical; also
 *             standard output that could not be written);
 *             2 usage error (unknown option, bad value, bad experiment file). */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "colb/policy.h"

#include "args.h"
#include "checkpoint.h"
#include "experiment.h"
#include "outdir.h"
#include "quality.h"
#include "reproduce.h"
#include "plot.h"
#include "run.h"
#include "serve.h"
#include "say.h"
#include "suggest.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
    fprintf(f,
            "colb %s - collaborative multi-agent linear bandits\n\n"
            "usage: colb run [-c FILE [--readings LIST]] [-j THREADS] [--option VALUE ...]\n"
            "                [--checkpoint FILE] [--stop-after ROUND]\n"
            "       colb run --resume FILE [-j THREADS] [--out DIR] [--checkpoint FILE] [--stop-after ROUND]\n"
            "       colb reproduce [--quick] [--resume] [--out DIR] [-j THREADS] [--data-dir DIR]\n"
            "                      [--readings LIST] [FIGURE ...]\n"
            "       colb bench-quality [-c FILE] [--out DIR] [-j THREADS] [--repeats R] [--quick]\n"
            "       colb serve --state DIR [--listen ADDR:PORT] [--policy NAME --dim d ...]\n"
            "                            serve a policy over HTTP/JSON (colb serve --help)\n"
            "       colb policies        list the policies\n"
            "       colb help | --help   this text (colb help COMMAND: that command's help)\n"
            "       colb --version\n\n"
            "colb run simulates policies on an environment and writes summary.csv,\n"
            "curves.csv, settings.txt and plots of the regret curves into --out DIR\n"
            "(default results/run), replacing a previous results folder as a whole.\n"
            "Every option below is also a key of experiment files (docs/experiments.md);\n"
            "each may be given once. Every command takes an option's value as --option VALUE\n"
            "or --option=VALUE (-c FILE or -cFILE, -j N or -jN). --readings NAME,... runs only those [reading NAME]\n"
            "sections of the experiment file. In brackets: the default, then the range\n"
            "of a number (\"[1; 1e-06..1e+06]\").\n",
            COLB_VERSION_STRING);
    options_help(f);
    fprintf(f, "\ncheckpoints (docs/experiments.md):\n"
               "  %-34s %s\n  %-34s %s\n  %-34s %s\n",
            "--checkpoint FILE", "where a stopped run saves its state (default OUT.checkpoint.colb, beside OUT)",
            "--stop-after ROUND", "stop every job after ROUND rounds, save, exit 0",
            "--resume FILE", "continue a saved run (with -j, --out, --quiet, --checkpoint, --stop-after at most)");
    fprintf(f, "SIGINT/SIGTERM save a checkpoint between rounds and exit 128+signal. Only a colb\n"
               "checkpoint (or an empty file) is replaced; any other file there is refused.\n");
    fprintf(f, "\nexit status: 0 success, 1 run failed, 2 usage error, 130/143 interrupted (checkpoint saved)\n");
}

/* Every option of the environment given on this command line (`seen`; a
 * swept one too) is read by the environment of some setting of e: --zipf
 * with --env personalized would change nothing, and settings.txt would
 * list it as if it did. 0, or -1 with "option '--zipf' is not used by
 * --env personalized, only by clustered; leave it out" in err. Keys set
 * by an experiment file are not refused (a file's top level serves
 * readings of several environments, and a file may be run with another
 * --env); settings.txt marks those no setting read. */
static int check_env_options(const experiment *e, const seen_opts *seen, char *err, size_t err_len)
{
    for (size_t i = 0; i < seen->n; i++) {
        int swept = !strcmp(seen->key[i], "sweep");
        const char *key = swept ? e->cfg[0].sweep_key : seen->key[i], *why = NULL;
        const char *envs = option_envs(key, &why);
        int used = !envs;
        for (size_t r = 0; r < e->n_readings && !used; r++)
            used = config_env_uses(&e->cfg[r], key);
        if (used)
            continue;
        char names[MAX_READINGS * MAX_SWEEP * 16] = "", only[128];
        for (size_t r = 0; r < e->n_readings; r++) {
            char one[MAX_SWEEP * NAME_LEN];
            config_env_names(&e->cfg[r], one, sizeof one);
            if (!strstr(names, one))
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "", one);
        }
        option_envs_text(envs, only, sizeof only);
        snprintf(err, err_len, "option '--%s'%s is not used by --env %s, only by %s%s%s%s; leave it out", key,
                 swept ? " (swept by --sweep)" : "", names, only, why ? " (" : "", why ? why : "",
                 why ? ")" : "");
        return -1;
    }
    return 0;
}

/* Every option of the policies given on this command line (`seen`; a swept
 * one too) is read by some policy of some setting of e: --cmlb-alpha with
 * --policies linucb-ind, --alpha with --width oful or --club-burn-in
 * without --club-tune 1 would change nothing, and settings.txt would list
 * it as if it did. 0, or -1 with "--cmlb-alpha is read only by cmlb, sclb,
 * which are not among --policies (linucb-ind); leave it out" in err. As
 * for the environment, keys set by an experiment file are not refused (its
 * top level serves readings of other policies); settings.txt marks those
 * no policy read. */
static int check_policy_options(const experiment *e, const seen_opts *seen, char *err, size_t err_len)
{
    for (size_t i = 0; i < seen->n; i++) {
        int swept = !strcmp(seen->key[i], "sweep");
        const char *key = swept ? e->cfg[0].sweep_key : seen->key[i];
        if (!option_of_policies(key))
            continue;
        int used = 0;
        for (size_t r = 0; r < e->n_readings && !used; r++)
            used = config_policies_use(&e->cfg[r], key);
        if (!used) {
            config_policies_unread(e->cfg, e->n_readings, key, swept, err, err_len);
            return -1;
        }
    }
    return 0;
}

/* No option given on this command line (`seen`) is also the key a reading
 * sweeps: every setting of that reading takes the swept values, so the
 * value given would change nothing while settings.txt listed it as in
 * effect. 0, or -1 with the reason in err. */
static int check_swept_options(const experiment *e, const seen_opts *seen, char *err, size_t err_len)
{
    for (size_t i = 0; i < seen->n; i++)
        for (size_t r = 0; r < e->n_readings && strcmp(seen->key[i], "sweep"); r++)
            if (e->cfg[r].n_sweep && !strcmp(e->cfg[r].sweep_key, seen->key[i])) {
                snprintf(err, err_len, "option '--%s' is swept%s%s (sweep = %s=...), so its value here is not used; "
                         "leave it out or sweep another key", seen->key[i], e->n_readings > 1 ? " in reading " : "",
                         e->n_readings > 1 ? e->reading[r] : "", seen->key[i]);
                return -1;
            }
    return 0;
}

/* 1 when argument `a` of colb run is an option whose value is the next
 * argument, whatever that looks like: -c FILE, -j N, --KEY VALUE (every
 * option takes a value). `--title -c` is the title "-c", as `--title=-c`
 * is; the scans for -c and for --checkpoint, --stop-after, --resume step
 * over such values instead of taking "-c" for the option. */
static int value_follows(const char *a)
{
    return !strcmp(a, "-c") || !strcmp(a, "-j") || (!strncmp(a, "--", 2) && a[2] && !strchr(a, '='));
}

/* 1 when argv[*i] is -c FILE, -cFILE, --config FILE or --config=FILE
 * (*i then at its last argument; *file its FILE, NULL when none follows
 * -c or --config), else 0. */
static int config_arg(int argc, char **argv, int *i, const char **file)
{
    const char *a = argv[*i];
    if (!strncmp(a, "--config=", 9))
        *file = a + 9;
    else if (!strncmp(a, "-c", 2) && a[2])
        *file = a + 2;
    else if (!strcmp(a, "-c") || !strcmp(a, "--config"))
        *file = *i + 1 < argc ? argv[++*i] : NULL;
    else
        return 0;
    return 1;
}

/* Say that colb run has no option --KEY (key[0..len)), with the closest
 * of its options: the keys of experiment files (options.c) and its own
 * --readings, --checkpoint, --stop-after, --resume and --help. */
static void run_unknown(const char *key, size_t len)
{
    static const char *const own[] = { "readings", "checkpoint", "stop-after", "resume", "help" };
    const size_t n_own = sizeof own / sizeof own[0];
    const char *names[ARGS_MAX];
    size_t n = option_names(names, ARGS_MAX - n_own);
    for (size_t i = 0; i < n_own; i++)
        names[n++] = own[i];
    char msg[ERR_LEN];
    suggest_unknown(msg, sizeof msg, "option", "--", key, len, names, n, "colb --help");
    say("%s", msg);
}

/* --readings LIST of colb run: only those readings of the experiment file
 * `cfg` (NULL: none, whose one reading is "default") run. */
static int keep_readings(experiment *e, const char *list, const char *cfg, char *err, size_t err_len)
{
    char buf[MAX_READINGS * NAME_LEN], names[MAX_READINGS * (NAME_LEN + 2)];
    const char *want[MAX_READINGS];
    size_t n;
    if (reading_list_parse(list, buf, want, &n, err, err_len))
        return -1;
    experiment_reading_names(e, names, sizeof names);
    for (size_t k = 0; k < n; k++)
        if (!experiment_has_reading(e, want[k])) {
            snprintf(err, err_len, "--readings: %s%s has no reading '%.100s' (its readings: %s)",
                     cfg ? "the experiment file " : "a run without an experiment file", cfg ? cfg : "",
                     want[k], names);
            return -1;
        }
    experiment_keep_readings(e, want, n);
    return 0;
}

/* Parse `--key value`, `--key=value`, -c FILE, -j N into the experiment;
 * the experiment file (if any) is loaded first, then the other options
 * override it. Each option may be given once, from argv[own] on (the
 * arguments before it come from a checkpoint: those given with --resume
 * override them). Returns 0, or EXIT_USAGE with a message printed. */
static int parse_run_args(int argc, char **argv, int own, experiment *e, const char *cfg_text,
                          char **read_text)
{
    const char *cfg = NULL, *readings = NULL;
    char err[ERR_LEN];
    seen_opts seen = { .n = 0 };
    for (int i = 0; i < argc; i++) { /* find the experiment file first */
        int at = i;
        const char *file;
        if (config_arg(argc, argv, &i, &file)) {
            if (!file || !strcmp(argv[at], "--config=")) { /* -c '' is a file name, refused as empty */
                say("%s needs a FILE", argv[at]);
                return EXIT_USAGE;
            }
            if (at >= own && option_given_once(&seen, "config", argv[at], err, sizeof err)) {
                say("%s", err);
                return EXIT_USAGE;
            }
            cfg = file;
        } else if (!strcmp(argv[i], "--")) {
            break;
        } else if (value_follows(argv[i])) {
            i++; /* its value, even "-c" */
        }
    }
    if (cfg && (cfg_text ? experiment_load_text(e, cfg, cfg_text, err, sizeof err)
                         : experiment_load_keep(e, cfg, read_text, err, sizeof err))) {
        say("%s", err);
        return EXIT_USAGE;
    }
    experiment_finish(e);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *key, *val;
        int at = i;
        char keybuf[NAME_LEN];
        if (!strcmp(a, "--")) {
            if (i + 1 < argc) {
                say("unexpected argument '%s'", argv[i + 1]);
                return EXIT_USAGE;
            }
            break;
        }
        const char *file;
        if (config_arg(argc, argv, &i, &file))
            continue;
        if (!strcmp(a, "-j")) {
            key = "threads";
            val = i + 1 < argc ? argv[++i] : NULL;
        } else if (!strncmp(a, "-j", 2) && a[2]) {
            key = "threads";
            val = a + 2;
        } else if (!strncmp(a, "--", 2) && a[2]) {
            const char *joined;
            size_t len;
            args_split(a, &len, &joined);
            if (len >= NAME_LEN) {
                run_unknown(a + 2, len);
                return EXIT_USAGE;
            }
            memcpy(keybuf, a + 2, len);
            keybuf[len] = '\0';
            key = keybuf;
            if (!strcmp(key, "readings")) { /* the experiment's, not an option of a setting */
                readings = joined ? joined : (i + 1 < argc ? argv[++i] : NULL);
                if (!readings) {
                    say("option '%s' needs a value", a);
                    return EXIT_USAGE;
                }
                if (at >= own && option_given_once(&seen, "readings", a, err, sizeof err)) {
                    say("%s", err);
                    return EXIT_USAGE;
                }
                continue;
            }
            if (!strcmp(key, "help")) { /* --help alone was taken before: this is --help=... */
                say("option '--help' takes no value");
                return EXIT_USAGE;
            }
            if (!option_known(key)) {
                run_unknown(key, len);
                return EXIT_USAGE;
            }
            val = joined ? joined : (i + 1 < argc ? argv[++i] : NULL);
        } else if (a[0] == '-' && a[1]) {
            char msg[ERR_LEN];
            suggest_unknown(msg, sizeof msg, "option", "", a, strlen(a), NULL, 0, "colb --help");
            say("%s", msg);
            return EXIT_USAGE;
        } else {
            say("unexpected argument '%s' (see colb --help)", a);
            return EXIT_USAGE;
        }
        if (!val) {
            say("option '%s' needs a value", a);
            return EXIT_USAGE;
        }
        if (at >= own && option_given_once(&seen, option_name(key), a[1] == 'j' ? "-j" : a, err, sizeof err)) {
            say("%s", err);
            return EXIT_USAGE;
        }
        if (experiment_set(e, key, val, err, sizeof err)) {
            say("%s", err);
            return EXIT_USAGE;
        }
    }
    if (readings && keep_readings(e, readings, cfg, err, sizeof err)) {
        say("%s", err);
        return EXIT_USAGE;
    }
    if (check_swept_options(e, &seen, err, sizeof err) || check_env_options(e, &seen, err, sizeof err) ||
        run_check_settings(e, err, sizeof err) || /* every sweep value too, before any work */
        check_policy_options(e, &seen, err, sizeof err)) {
        say("%s", err);
        return EXIT_USAGE;
    }
    return 0;
}

/* --checkpoint, --stop-after and --resume: how `colb run` stops and goes
 * on (checkpoint.h). They are taken out of argv; the rest is the run's
 * command line, saved in the checkpoint so that --resume re-creates it. */
typedef struct run_control {
    const char *checkpoint, *resume;
    size_t stop_after;
    int argc;
    char **argv;          /* the remaining arguments */
} run_control;

static int take_control(int argc, char **argv, run_control *rc)
{
    memset(rc, 0, sizeof *rc);
    rc->argv = calloc((size_t)argc + 1, sizeof(char *));
    if (!rc->argv)
        return 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int which = !strncmp(a, "--checkpoint", 12) ? 1 : !strncmp(a, "--stop-after", 12) ? 2
                    : !strncmp(a, "--resume", 8) ? 3 : 0;
        size_t n = which == 3 ? 8 : 12;
        if (!strcmp(a, "--")) { /* the rest is not options */
            while (i < argc)
                rc->argv[rc->argc++] = argv[i++];
            break;
        }
        if (!which || (a[n] != '\0' && a[n] != '=')) {
            rc->argv[rc->argc++] = argv[i];
            if (value_follows(a) && i + 1 < argc) /* its value, whatever it is: --title --resume */
                rc->argv[rc->argc++] = argv[++i];
            continue;
        }
        v = a[n] == '=' ? a + n + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!v || !*v) {
            say("%.*s needs a value", (int)n, a);
            return EXIT_USAGE;
        }
        if ((which == 1 && rc->checkpoint) || (which == 2 && rc->stop_after) || (which == 3 && rc->resume)) {
            say("option '%.*s' is given twice; give each option once", (int)n, a);
            return EXIT_USAGE;
        }
        if (which == 1)
            rc->checkpoint = v;
        else if (which == 3)
            rc->resume = v;
        else if (parse_size(v, 1, (size_t)1e12, &rc->stop_after)) {
            say("--stop-after: '%s' is not a round in [1, 1e12]", v);
            return EXIT_USAGE;
        }
    }
    return 0;
}

#define RUN_MAGIC "colb-run-2"

/* The command line and the experiment file's text (`cfg_text`, as the run
 * read it at its start; NULL: none), NUL-separated: magic, the checkpoint's
 * path when colb chose it (`named`, absolute and normalised: outdir.h; ""
 * when --checkpoint gave it: a run that completes removes a checkpoint it
 * resumed from only when colb named it, also after resumes into another
 * --out), file name, file text, then the arguments. */
static char *encode_run(const run_control *rc, const char *named, const char *cfg_text, size_t *len)
{
    const char *cfg = "";
    for (int i = 0; i < rc->argc && strcmp(rc->argv[i], "--"); i++) {
        const char *file;
        if (config_arg(rc->argc, rc->argv, &i, &file))
            cfg = file ? file : "";
        else if (value_follows(rc->argv[i]))
            i++;
    }
    size_t text = cfg_text ? strlen(cfg_text) : 0;
    size_t n = sizeof RUN_MAGIC + strlen(named) + strlen(cfg) + 3;
    for (int i = 0; i < rc->argc; i++)
        n += strlen(rc->argv[i]) + 1;
    char *b = malloc(n + text), *p = b;
    if (!b)
        return NULL;
    p += sprintf(p, "%s", RUN_MAGIC) + 1;
    p += sprintf(p, "%s", named) + 1;
    p += sprintf(p, "%s", cfg) + 1;
    memcpy(p, cfg_text ? cfg_text : "", text);
    p += text;
    *p++ = '\0';
    for (int i = 0; i < rc->argc; i++)
        p += sprintf(p, "%s", rc->argv[i]) + 1;
    *len = (size_t)(p - b);
    return b;
}

/* The saved command line back: the arguments (pointing into a copy owned
 * by *keep), the checkpoint's name if colb chose it (else ""), the
 * experiment file's text. */
static int decode_run(const void *bytes, size_t len, char **keep, run_control *rc,
                      const char **named, const char **cfg_text)
{
    char *b = malloc(len + 1);
    if (!b)
        return -1;
    memcpy(b, bytes, len);
    b[len] = '\0';
    *keep = b;
    char *end = b + len, *p = b;
    if (strcmp(p, RUN_MAGIC))
        return -1;
    p += strlen(p) + 1;
    if (p >= end)
        return -1;
    *named = p;
    p += strlen(p) + 1;
    if (p >= end)
        return -1;
    p += strlen(p) + 1; /* the file name, also in the arguments */
    if (p > end)
        return -1;
    *cfg_text = p;
    p += strlen(p) + 1;
    free(rc->argv);
    rc->argv = calloc(len + 1, sizeof(char *));
    rc->argc = 0;
    if (!rc->argv)
        return -1;
    for (; p < end; p += strlen(p) + 1)
        rc->argv[rc->argc++] = p;
    return 0;
}

/* The file a stopped or interrupted run writes its checkpoint to, checked
 * before any work (outdir_check_file): missing, or a colb checkpoint (a
 * snapshot) that it may replace; not inside the results folder `out`. */
static int check_checkpoint(const char *path, const char *out, char *err, size_t err_len)
{
    char why[ERR_LEN - 32]; /* room for the prefix */
    /* inside --out it would be written into the previous results folder
     * (or a folder that is none), which a complete run replaces */
    int inside = outdir_path_inside(path, out);
    if (inside == 2) { /* a stopped run would put a file where the folder goes */
        snprintf(err, err_len, "checkpoint: %s is the results folder (--out) itself; give a "
                 "--checkpoint beside it", path);
        return -1;
    }
    if (inside) {
        snprintf(err, err_len, "checkpoint: %s lies inside the results folder %s, which only a "
                 "complete run writes; give a --checkpoint outside it", path, out);
        return -1;
    }
    if (!outdir_check_file(path, "colb checkpoint", COLB_SNAPSHOT_MAGIC, COLB_SNAPSHOT_MAGIC_LEN, why,
                           sizeof why))
        return 0;
    snprintf(err, err_len, "checkpoint: %s", why);
    return -1;
}

/* 1 when colb run's arguments ask for help: -h or --help as an option,
 * not as another option's value (`--title --help` is a title). */
static int run_asks_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
        if (value_follows(argv[i]))
            i++;
    }
    return 0;
}

/* A message of the library about the memory budget (a data file, a data
 * set or the run beyond it: the library knows no options) ends saying
 * which option raises the budget, as colb run's own estimate does. */
static void budget_hint(char *err, size_t err_len)
{
    size_t n = strlen(err);
    if (strstr(err, "budget") && !strstr(err, "--max-memory") && n < err_len)
        snprintf(err + n, err_len - n, "; %s a larger --max-memory",
                 strstr(err, "endless pipe?") ? "if it is neither, give" : "give");
}

static int cmd_run(int argc, char **argv)
{
    if (run_asks_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    run_control ctl;
    int rc = take_control(argc, argv, &ctl);
    experiment *e = calloc(1, sizeof *e);
    run_session ss;
    session_init(&ss);
    char *saved_cmd = NULL, *cmd = NULL, *read_text = NULL; /* the experiment file as read */
    const char *cfg_text = NULL, *saved_named = ""; /* a resumed checkpoint's name, if colb chose it */
    const void *saved_bytes = NULL; /* the resumed run's command, owned by ss */
    size_t saved_len = 0;
    int own = 0; /* ctl.argv[own..] are this command line's (before: a checkpoint's) */
    char err[ERR_LEN], ckpt[PATH_LEN + 32];
    if (!rc && !e)
        rc = 1;
    if (!rc && ctl.resume) {
        /* the saved command line, then what may be changed on resuming */
        for (int i = 0; i < ctl.argc && !rc; i++) {
            const char *a = ctl.argv[i];
            int with_value = !strcmp(a, "--out") || !strcmp(a, "-j") || !strcmp(a, "--threads") ||
                             !strcmp(a, "--quiet");
            if (with_value)
                i++;
            else if (strncmp(a, "--out=", 6) && strncmp(a, "--threads=", 10) &&
                     strncmp(a, "--quiet=", 8) && strncmp(a, "-j", 2))
                rc = EXIT_USAGE;
        }
        if (rc) {
            fprintf(stderr, "colb: --resume takes the run's settings from the checkpoint; only "
                            "--out, -j, --quiet, --checkpoint and --stop-after may be given with it\n");
        } else if (session_open(&ss, ctl.resume, "colb run", &saved_bytes, &saved_len, err, sizeof err)) {
            say("%s", err);
            rc = 1;
        } else {
            run_control saved = ctl;
            saved.argv = NULL;
            if (decode_run(saved_bytes, saved_len, &saved_cmd, &saved, &saved_named, &cfg_text)) {
                say("%s is not a checkpoint of colb run", ctl.resume);
                rc = 1;
            } else {
                /* saved arguments, then the extra ones: before a saved
                 * "--" (the last of them: nothing may follow it) */
                if (saved.argc && !strcmp(saved.argv[saved.argc - 1], "--"))
                    saved.argc--;
                char **all = calloc((size_t)(saved.argc + ctl.argc) + 1, sizeof(char *));
                if (all) {
                    memcpy(all, saved.argv, (size_t)saved.argc * sizeof(char *));
                    memcpy(all + saved.argc, ctl.argv, (size_t)ctl.argc * sizeof(char *));
                }
                free(ctl.argv);
                free(saved.argv);
                ctl.argv = all;
                ctl.argc += saved.argc;
                own = saved.argc; /* the extra arguments override the saved ones */
                rc = all ? 0 : 1;
            }
        }
    }
    if (!rc) {
        config_default(&e->base);
        rc = parse_run_args(ctl.argc, ctl.argv, own, e, cfg_text, &read_text);
    }
    for (size_t r = 0; !rc && ctl.stop_after && r < e->n_readings; r++)
        if (e->cfg[r].tune) { /* a tuned setting runs whole (run.c, run_tuned) */
            fprintf(stderr, "colb: --stop-after cannot stop a run with tune = 1 (each setting "
                            "is tuned and run whole)\n");
            rc = EXIT_USAGE;
        }
    if (rc) {
        session_free(&ss);
        free(ctl.argv);
        free(saved_cmd);
        free(read_text);
        free(e);
        return rc;
    }
    /* the resumed file is the one colb named: the same path, however spelt
     * (relative or absolute, "./", "//"), and --checkpoint does not name it
     * now (the file is then the user's, as a stop would record it) */
    char resumed_abs[PATH_LEN + 2], given_abs[PATH_LEN + 2];
    int resumed_named = ctl.resume && saved_named[0] &&
                        !outdir_normal_path(ctl.resume, resumed_abs, sizeof resumed_abs) &&
                        !strcmp(saved_named, resumed_abs) &&
                        !(ctl.checkpoint && !outdir_normal_path(ctl.checkpoint, given_abs, sizeof given_abs) &&
                          !strcmp(given_abs, resumed_abs));
    snprintf(ckpt, sizeof ckpt, "%s", ctl.checkpoint ? ctl.checkpoint : ctl.resume ? ctl.resume : "");
    /* the default checkpoint lies beside the results folder, outside the
     * set that outdir.h swaps in only when the run completes */
    if (!ckpt[0])
        snprintf(ckpt, sizeof ckpt, "%s.checkpoint.colb", e->cfg[0].out_dir);
    /* Every output path and data set is checked (and the results folder
     * locked) before any work: a bad --out or a missing data set of the
     * last sweep value fails now, not after the computation, and the
     * checkpoint a stop or a signal may write never replaces a file that
     * is not a colb checkpoint. */
    outdir od;
    int bad = run_check_input("--config", e->source, e->cfg[0].out_dir, err, sizeof err) ||
              run_check_outputs(e, err, sizeof err) || run_check_memory(e, err, sizeof err) ||
              outdir_open(&od, e->cfg[0].out_dir, err, sizeof err);
    /* the data last: a Last.FM check makes its feature cache */
    if (!bad && (check_checkpoint(ckpt, e->cfg[0].out_dir, err, sizeof err) ||
                 run_check_checkpoint(e, ckpt, err, sizeof err) || run_check_data(e, err, sizeof err))) {
        outdir_abort(&od);
        bad = 1;
    }
    if (bad) {
        budget_hint(err, sizeof err);
        say("%s", err);
        session_free(&ss);
        free(ctl.argv);
        free(saved_cmd);
        free(read_text);
        free(e);
        return 1;
    }
    interrupt_install();
    ss.stop_after = ctl.stop_after;
    /* gnuplot started now, so that its start-up overlaps the computation
     * (gnuplot.h); without it plot_figure says so */
    gnuplot_warm gw = { 0 };
    char gexe[PATH_LEN];
    if (e->cfg[0].plots && !gnuplot_find(gexe, sizeof gexe))
        gnuplot_start(gexe, &gw);
    progress pg;
    progress_init(&pg, experiment_jobs(e), e->cfg[0].quiet);
    result_set rs;
    rc = run_experiment(e, &rs, &pg, &ss, err, sizeof err);
    progress_finish(&pg);
    if (rc == 1) { /* stopped: save everything reached, say how to go on */
        size_t len = 0;
        gnuplot_stop(&gw);
        outdir_abort(&od); /* the previous results stay as they were */
        /* the command line as this run took it: a resumed run's is the
         * saved one and then the options given with --resume, so that
         * resuming this checkpoint goes on into the same --out */
        /* colb chose ckpt unless --checkpoint named it or the resumed file is not colb's choice */
        char abs[PATH_LEN + 2];
        int named = !ctl.checkpoint && (!ctl.resume || resumed_named) && !outdir_normal_path(ckpt, abs, sizeof abs);
        if (!(cmd = encode_run(&ctl, named ? abs : "", ctl.resume ? cfg_text : read_text, &len)))
            rc = -1, snprintf(err, sizeof err, "out of memory");
        if (rc == 1 && session_write(&ss, ckpt, "colb run", cmd, len, err, sizeof err))
            rc = -1;
        if (rc == 1) {
            int sig = interrupt_signal();
            if (sig)
                fprintf(stderr, "colb: interrupted (%s) with jobs at rounds %zu to %zu of %zu; "
                                "checkpoint written to %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
                        ss.paused_round, ss.paused_max, ss.paused_horizon, ckpt);
            else
                say("stopped at round %zu of %zu; checkpoint written to %s",
                        ss.paused_round, ss.paused_horizon, ckpt);
            say("resume with: colb run --resume %s", ckpt);
            rc = sig ? 128 + sig : 0;
        } else {
            say("stopped, but the checkpoint could not be written: %s", err);
            rc = 1;
        }
        result_set_free(&rs);
        session_free(&ss);
        free(ctl.argv);
        free(cmd);
        free(saved_cmd);
        free(read_text);
        free(e);
        return rc;
    }
    session_free(&ss);
    if (rc == 0)
        rc = write_results(&rs, od.tmp, err, sizeof err);
    /* the regret curves (and the metric against the swept option) as PNG
     * and SVG beside the CSVs; without gnuplot a notice, not a failure */
    int plotted = rc == 0 ? plot_figure(&rs, METRIC_REGRET, od.tmp, "run", &gw, err, sizeof err) : 0;
    gnuplot_stop(&gw);
    if (plotted == -1)
        rc = -1;
    if (rc == 0)
        rc = outdir_commit(&od, err, sizeof err);
    if (rc == 0 && ctl.stop_after)
        say("--stop-after %zu: every setting ended by then; the run is complete",
                ctl.stop_after);
    /* the checkpoint this run resumed from is used up when colb named it
     * (OUT.checkpoint.colb of the run that first wrote it, whatever --out
     * the resumes gave since); one named with --checkpoint stays */
    if (rc == 0 && ctl.resume && resumed_named)
        remove(ctl.resume);
    free(ctl.argv);
    free(saved_cmd);
    free(read_text);
    if (rc) {
        outdir_abort(&od);
        budget_hint(err, sizeof err);
        say("%s", err);
        result_set_free(&rs);
        free(e);
        return 1;
    }
    if (!e->cfg[0].quiet) {
        print_table(stdout, &rs);
        printf("results: %s/summary.csv, %s/curves.csv, plots %s/run-*.%s\n", e->cfg[0].out_dir,
               e->cfg[0].out_dir, e->cfg[0].out_dir,
               plotted == PLOT_SKIPPED     ? "gp (gnuplot not found: draw with gnuplot)"
               : plotted == PLOT_TIMED_OUT ? "gp (gnuplot timed out: draw with gnuplot)"
               : plotted == PLOT_FAILED    ? "gp (gnuplot failed: draw with gnuplot)"
               : e->cfg[0].plots           ? "png"
                                           : "gp (--plots 0: draw with gnuplot)");
    }
    result_set_free(&rs);
    free(e);
    return 0;
}

/* 0, or 1 after one line when COLB_KERNEL names a kernel path that is
 * unknown or that this CPU cannot run: every policy would fail to be made
 * (a run's jobs with "invalid argument", a service's first choose). */
static int kernel_unusable(void)
{
    if (colb_kernel_path())
        return 0;
    say("COLB_KERNEL=%s is not a kernel path this CPU runs (avx512, avx2 or portable; unset: the fastest)",
        getenv("COLB_KERNEL"));
    return 1;
}

/* 0, or 1 after one line when COLB_GNUPLOT_TIMEOUT is set to anything but
 * a number of seconds gnuplot_timeout takes: refused before any work, not
 * found when the plots are drawn, after the computation. */
static int gnuplot_timeout_unusable(void)
{
    double seconds;
    char err[256];
    if (gnuplot_timeout(&seconds, err, sizeof err) == 0)
        return 0;
    say("%s", err);
    return 1;
}

/* The simulating commands keep what they free for their next jobs. Every
 * job allocates its policy's banks and every repeat its environment's tape
 * (0.1-8 MB each) and frees them when done; glibc's defaults serve blocks of
 * that size with mmap, or give the top of the heap back, so the next job's
 * first touch of each page is a page fault - on this paravirtualised machine
 * about 5 us each. Measured on `colb reproduce fig2 -j 2`: 297,000 page
 * faults and 62.5 s of CPU with the defaults, 36,000 and 59.4 s with these
 * (the results are the same: where memory comes from changes no value).
 * Blocks above 32 MB (a 10^6-user bank) are still mapped, and handed back,
 * on their own. */
static void keep_freed_memory(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        say("no command: colb run, reproduce, bench-quality, serve or policies (colb --help says more)");
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    int computes = !strcmp(cmd, "run") || !strcmp(cmd, "reproduce") || !strcmp(cmd, "bench-quality") ||
                   !strcmp(cmd, "serve");
    if (!strcmp(cmd, "run")) /* help computes nothing */
        computes = !run_asks_help(argc - 2, argv + 2);
    for (int i = 2; i < argc && computes && strcmp(cmd, "run"); i++)
        computes = strcmp(argv[i], "--help") && strcmp(argv[i], "-h");
    if (computes && kernel_unusable())
        return EXIT_USAGE;
    if (computes && strcmp(cmd, "serve") && gnuplot_timeout_unusable()) /* the commands that plot */
        return EXIT_USAGE;
    if (computes && strcmp(cmd, "serve"))
        keep_freed_memory();
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "reproduce"))
        return cmd_reproduce(argc - 2, argv + 2);
    if (!strcmp(cmd, "bench-quality"))
        return cmd_bench_quality(argc - 2, argv + 2);
    if (!strcmp(cmd, "serve"))
        return serve_main(argc - 2, argv + 2);
    int lists = !strcmp(cmd, "policies"), helps = !strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
                                                  !strcmp(cmd, "-h"),
        versions = !strcmp(cmd, "--version") || !strcmp(cmd, "version");
    if ((lists || helps || versions) && argc > 2) { /* they take nothing: a typo, a missing command */
        if (lists && argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
            usage(stdout);
            return 0;
        }
        static const char *const with_help[] = { "run", "reproduce", "bench-quality", "serve", "policies" };
        int named = 0; /* colb help CMD: colb CMD --help */
        for (size_t i = 0; helps && i < sizeof with_help / sizeof with_help[0]; i++)
            named |= !strcmp(argv[2], with_help[i]);
        if (named && argc == 3) {
            char *again[] = { argv[0], argv[2], "--help", NULL };
            return dispatch(3, again);
        }
        if (helps)
            say("unexpected argument '%s': colb %s takes a command (run, reproduce, bench-quality, serve, "
                "policies) or nothing", argv[2 + named], cmd);
        else
            say("unexpected argument '%s': colb %s takes none (see colb --help)", argv[2], cmd);
        return EXIT_USAGE;
    }
    if (lists) {
        for (const char *const *n = colb_policy_names(); *n; n++)
            printf("%s%s\n", *n, n == colb_policy_names() ? " (recommended)" : "");
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("colb %s\n", COLB_VERSION_STRING);
        return 0;
    }
    static const char *const cmds[] = { "run", "reproduce", "bench-quality", "serve", "policies", "help", "version" };
    char msg[ERR_LEN];
    suggest_unknown(msg, sizeof msg, "command", "", cmd, strlen(cmd), cmds, sizeof cmds / sizeof cmds[0],
                    "colb --help");
    say("%s", msg);
    return EXIT_USAGE;
}

/* A command whose output could not be written (a full disk, a closed
 * stdout) failed, whatever it computed: `colb policies > FILE` on a full
 * disk leaves a cut list, and must not exit 0. */
int main(int argc, char **argv)
{
    /* colb waits for the children it starts (gnuplot, colb serve's
     * snapshot writers) by their pids; a SIGCHLD ignored by whoever started
     * colb (kept across exec) has the kernel reap them unasked, and those
     * waits fail with ECHILD (colb run lost its results at the plot) */
    signal(SIGCHLD, SIG_DFL);
    int rc = dispatch(argc, argv);
    int bad = ferror(stdout) != 0, e = 0;
    if (fflush(stdout) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        say("cannot write to standard output%s%s", e ? ": " : "", e ? strerror(e) : "");
        if (rc == 0)
            rc = 1;
    }
    return rc;
}
