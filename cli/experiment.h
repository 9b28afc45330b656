/* experiment.h - an experiment: base settings plus named readings (variants)
 * of them, loaded from an experiment file and/or the command line.
 *
 * File format (INI, read by ini.c; see docs/experiments.md):
 *   # comment                      ; also a comment
 *   key = value                    top-level keys: the base settings; every
 *                                  key is a long option of `colb run`
 *   [reading NAME]                 a variant: the base plus these keys
 *   key = value
 *   [quick]                        overrides for `colb reproduce --quick`
 * Lines may be of any length; ';' after a blank starts a comment; a line
 * that starts with whitespace continues the previous `note`, `title` or
 * `claim`. A key set twice in one section, a reading defined twice (or
 * two whose names have the same form in file names, experiment_file_part),
 * and anything else malformed is an error at its line; reading stops there.
 * Top-level keys that are not options: figure, metric, check (repeatable),
 * and `note` inside a reading. Without [reading] sections the experiment has
 * one reading, "default". */
#ifndef COLB_CLI_EXPERIMENT_H
#define COLB_CLI_EXPERIMENT_H

#include "options.h"
#include "verdict.h"

#define MAX_READINGS 8
#define MAX_CHECKS 8
#define MAX_QUICK 16
#define QUICK_VAL_LEN 256

typedef enum metric { METRIC_REGRET = 0, METRIC_RATIO = 1 } metric;

typedef struct experiment {
    run_config base;
    size_t n_readings;
    char reading[MAX_READINGS][NAME_LEN];
    char reading_note[MAX_READINGS][1024]; /* `note = ...` of a reading section */
    run_config cfg[MAX_READINGS];
    /* reproduction metadata (top-level keys of experiment files) */
    char figure[NAME_LEN];            /* figure = fig1a */
    metric metric;                    /* metric = regret | ratio */
    check checks[MAX_CHECKS];         /* check = ... (repeatable) */
    size_t n_checks;
    /* [quick] section: overrides applied in quick mode */
    char quick_key[MAX_QUICK][NAME_LEN], quick_val[MAX_QUICK][QUICK_VAL_LEN];
    size_t n_quick;
    /* set by experiment_apply_quick: the full-size value of each [quick]
     * key, so that reports can say how much smaller a quick run is */
    int quick_applied;
    char quick_full[MAX_QUICK][QUICK_VAL_LEN];
    /* the readings of the file that --readings left out (experiment_keep_readings) */
    size_t n_left_out;
    char left_out[MAX_READINGS][NAME_LEN];
    char source[PATH_LEN];            /* the file experiment_load_keep read, else "" */
} experiment;

/* The form of `name` in file names (a reading's plots, plot.h): every
 * character but [A-Za-z0-9._-] becomes '_'; into out (len bytes,
 * truncated). No two readings of a loaded experiment have the same form:
 * experiment_load refuses the second (their plots would overwrite each
 * other's). */
void experiment_file_part(char *out, size_t len, const char *name);

/* Load `path` into e (e->base must hold the defaults). On failure returns
 * non-zero and writes "PATH:LINE: reason" (or "PATH: reason") into err. */
int experiment_load(experiment *e, const char *path, char *err, size_t err_len);

/* experiment_load, handing back in *text the file's text as it was read
 * (NUL-terminated, caller frees; NULL when it could not be read), so that
 * what the run used can be saved with it (a checkpoint) and not read again. */
int experiment_load_keep(experiment *e, const char *path, char **text, char *err, size_t err_len);

/* Apply key=value to the base and to every reading. */
int experiment_set(experiment *e, const char *key, const char *value, char *err, size_t err_len);

/* Load from text (an embedded spec); `name` is used in messages. */
int experiment_load_text(experiment *e, const char *name, const char *text, char *err, size_t err_len);

/* Load from len bytes of text (NUL bytes included: they are errors). */
int experiment_load_mem(experiment *e, const char *name, const char *text, size_t len, char *err,
                        size_t err_len);

/* Apply the [quick] overrides. */
int experiment_apply_quick(experiment *e, char *err, size_t err_len);

/* Make sure there is at least one reading ("default" = the base). */
void experiment_finish(experiment *e);

/* --readings LIST: split the comma-separated reading names of `list` into
 * names[0..*n) (pointers into buf, which holds a copy of list; at most
 * MAX_READINGS names, none empty, none twice). Returns 0, or -1 with err
 * set. */
int reading_list_parse(const char *list, char buf[MAX_READINGS * NAME_LEN], const char *names[MAX_READINGS],
                       size_t *n, char *err, size_t err_len);

/* 1 if e (after experiment_finish) has a reading called `name`. */
int experiment_has_reading(const experiment *e, const char *name);

/* Keep only the readings of e named in names[0..n), in the file's order;
 * the others are dropped with their settings and listed in e->left_out.
 * Returns how many readings are kept (0: e has none of the names, and is
 * left as it was). */
size_t experiment_keep_readings(experiment *e, const char *const *names, size_t n);

/* "a, b, c": the names of e's readings, for messages. */
void experiment_reading_names(const experiment *e, char *out, size_t len);

#endif
