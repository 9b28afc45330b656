/* main.c - the colb command-line tool: subcommand dispatch, option parsing,
 * exit codes. Built only on the public API (include/colb) plus the CLI's own
 * files.
 *
 * Exit codes: 0 success; 1 the run failed (I/O, data, numerical);
 *             2 usage error (unknown option, bad value, bad experiment file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "experiment.h"
#include "quality.h"
#include "reproduce.h"
#include "run.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
    fprintf(f,
            "colb %s - collaborative multi-agent linear bandits\n\n"
            "usage: colb run [-c FILE] [-j THREADS] [--option VALUE ...]\n"
            "       colb reproduce [--quick] [--out DIR] [-j THREADS] [FIGURE ...]\n"
            "       colb bench-quality [-c FILE] [--out DIR] [-j THREADS] [--quick]\n"
            "       colb policies        list the policies\n"
            "       colb help | --help   this text\n"
            "       colb --version\n\n"
            "colb run simulates policies on an environment and writes summary.csv,\n"
            "curves.csv and settings.txt into --out DIR (default results/run).\n"
            "Every option below is also a key of experiment files (docs/experiments.md).\n",
            COLB_VERSION_STRING);
    options_help(f);
    fprintf(f, "\nexit status: 0 success, 1 run failed, 2 usage error\n");
}

/* Parse `--key value`, `--key=value`, -c FILE, -j N into the experiment;
 * the experiment file (if any) is loaded first, then the other options
 * override it. Returns 0, or EXIT_USAGE with a message printed. */
static int parse_run_args(int argc, char **argv, experiment *e)
{
    const char *cfg = NULL;
    for (int i = 0; i < argc; i++) /* find the experiment file first */
        if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "colb: %s needs a FILE\n", argv[i]);
                return EXIT_USAGE;
            }
            cfg = argv[++i];
        } else if (!strncmp(argv[i], "--config=", 9)) {
            cfg = argv[i] + 9;
        } else if (!strcmp(argv[i], "--")) {
            break;
        }
    char err[1024];
    if (cfg && experiment_load(e, cfg, err, sizeof err)) {
        fprintf(stderr, "colb: %s\n", err);
        return EXIT_USAGE;
    }
    experiment_finish(e);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *key, *val;
        char keybuf[NAME_LEN];
        if (!strcmp(a, "--")) {
            if (i + 1 < argc) {
                fprintf(stderr, "colb: unexpected argument '%s'\n", argv[i + 1]);
                return EXIT_USAGE;
            }
            break;
        }
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            i++;
            continue;
        }
        if (!strncmp(a, "--config=", 9))
            continue;
        if (!strcmp(a, "-j")) {
            key = "threads";
            val = i + 1 < argc ? argv[++i] : NULL;
        } else if (!strncmp(a, "-j", 2) && a[2]) {
            key = "threads";
            val = a + 2;
        } else if (!strncmp(a, "--", 2) && a[2]) {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            if (len >= NAME_LEN) {
                fprintf(stderr, "colb: unknown option '%s'\n", a);
                return EXIT_USAGE;
            }
            memcpy(keybuf, a + 2, len);
            keybuf[len] = '\0';
            key = keybuf;
            if (!option_known(key)) {
                fprintf(stderr, "colb: unknown option '--%s' (see colb --help)\n", key);
                return EXIT_USAGE;
            }
            val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        } else {
            fprintf(stderr, "colb: unexpected argument '%s' (see colb --help)\n", a);
            return EXIT_USAGE;
        }
        if (!val) {
            fprintf(stderr, "colb: option '%s' needs a value\n", a);
            return EXIT_USAGE;
        }
        if (experiment_set(e, key, val, err, sizeof err)) {
            fprintf(stderr, "colb: %s\n", err);
            return EXIT_USAGE;
        }
    }
    for (size_t r = 0; r < e->n_readings; r++)
        if (config_check(&e->cfg[r], err, sizeof err)) {
            fprintf(stderr, "colb: %s\n", err);
            return EXIT_USAGE;
        }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
    experiment *e = calloc(1, sizeof *e);
    if (!e) {
        fprintf(stderr, "colb: out of memory\n");
        return 1;
    }
    config_default(&e->base);
    int rc = parse_run_args(argc, argv, e);
    if (rc) {
        free(e);
        return rc;
    }
    /* Jobs run in parallel threads; BLAS inside them runs single-threaded
     * (results do not depend on it, speed does). */
    openblas_set_num_threads(1);
    progress pg;
    progress_init(&pg, experiment_jobs(e), e->cfg[0].quiet);
    result_set rs;
    char err[1024];
    rc = run_experiment(e, &rs, &pg, err, sizeof err);
    progress_finish(&pg);
    if (rc == 0)
        rc = write_results(&rs, e->cfg[0].out_dir, err, sizeof err);
    if (rc) {
        fprintf(stderr, "colb: %s\n", err);
        result_set_free(&rs);
        free(e);
        return 1;
    }
    if (!e->cfg[0].quiet) {
        print_table(stdout, &rs);
        printf("results: %s/summary.csv, %s/curves.csv\n", e->cfg[0].out_dir, e->cfg[0].out_dir);
    }
    result_set_free(&rs);
    free(e);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "reproduce"))
        return cmd_reproduce(argc - 2, argv + 2);
    if (!strcmp(cmd, "bench-quality"))
        return cmd_bench_quality(argc - 2, argv + 2);
    if (!strcmp(cmd, "policies")) {
        for (const char *const *n = colb_policy_names(); *n; n++)
            puts(*n);
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
    fprintf(stderr, "colb: unknown command '%s' (see colb --help)\n", cmd);
    return EXIT_USAGE;
}
