/* experiment.h - an experiment: base settings plus named readings (variants)
 * of them, loaded from an experiment file and/or the command line.
 *
 * File format (INI, parsed by libinih; see docs/experiments.md):
 *   # comment                      ; also a comment
 *   key = value                    top-level keys: the base settings; every
 *                                  key is a long option of `colb run`
 *   [reading NAME]                 a variant: the base plus these keys
 *   key = value
 * Without [reading] sections the experiment has one reading, "default". */
#ifndef COLB_CLI_EXPERIMENT_H
#define COLB_CLI_EXPERIMENT_H

#include "options.h"

#define MAX_READINGS 8

typedef struct experiment {
    run_config base;
    size_t n_readings;
    char reading[MAX_READINGS][NAME_LEN];
    run_config cfg[MAX_READINGS];
} experiment;

/* Load `path` into e (e->base must hold the defaults). On failure returns
 * non-zero and writes "PATH:LINE: reason" (or "PATH: reason") into err. */
int experiment_load(experiment *e, const char *path, char *err, size_t err_len);

/* Apply key=value to the base and to every reading. */
int experiment_set(experiment *e, const char *key, const char *value, char *err, size_t err_len);

/* Make sure there is at least one reading ("default" = the base). */
void experiment_finish(experiment *e);

#endif
