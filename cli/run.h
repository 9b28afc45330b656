/* run.h - running an experiment (all readings x sweep values x policies)
 * and writing its results: summary.csv, curves.csv, settings.txt. */
#ifndef COLB_CLI_RUN_H
#define COLB_CLI_RUN_H

#include "checkpoint.h"
#include "experiment.h"
#include "output.h"

typedef struct result_row {
    size_t reading, sweep;           /* indices into the experiment */
    char policy[NAME_LEN];
    size_t repeats;
    double mean, ci;                 /* average cumulative regret per user at T */
    int has_ratio;                   /* a "random" policy ran in the same setting */
    double ratio_mean, ratio_ci;     /* regret / random's regret, paired by repeat */
    double wall;                     /* seconds, summed over repeats */
    char info[256];                  /* policy info at the end of repeat 1 */
    char *signature;                 /* config_signature of the setting */
    size_t points;
    size_t *round;                   /* points */
    double *cmean, *cci, *rmean, *rci; /* curves of regret and of ratio */
    double *rep;                     /* per repeat at T: repeats regrets, then repeats
                                      * ratios (NaN where undefined); NULL if unknown.
                                      * Rows of one setting share their repeats'
                                      * environments: the verdicts pair them. */
    char tuned_width[32];            /* "alpha=..." when tune = 1 chose the width */
} result_row;

/* What the data set of one setting gave the run (settings.txt records it:
 * no option sets these for a data set). */
typedef struct data_used {
    int set;                         /* 0: synthetic users, nothing from data */
    size_t users, dim, items;        /* after --top-users; dim of the features */
    int protocol;                    /* the protocol used: 1 shared, 2 per-user */
} data_used;

typedef struct result_set {
    const experiment *e;
    result_row *rows;
    size_t n_rows, cap;
    double wall;                     /* whole experiment, seconds */
    char tuned[MAX_READINGS][MAX_SWEEP][64]; /* "club-alpha=..,club-alpha2=.." if tuned */
    data_used data[MAX_READINGS][MAX_SWEEP]; /* per setting, filled as it runs */
} result_set;

/* The files a run writes outside its results folder (the Last.FM feature
 * cache) can be written, and the files it reads (logged data, the Last.FM
 * folder) lie outside that folder, which a run replaces as a whole; 0, or
 * -1 with err set. */
int run_check_outputs(const experiment *e, char *err, size_t err_len);

/* An input `path` (what: "--config", say) does not lie inside the results
 * folder `out`, which a run replaces as a whole (deleting it); 0, or -1
 * with err set. */
int run_check_input(const char *what, const char *path, const char *out, char *err, size_t err_len);

/* The checkpoint file `path` is no setting's Last.FM feature cache; 0, or
 * -1 with err named as by run_check_settings. */
int run_check_checkpoint(const experiment *e, const char *path, char *err, size_t err_len);

/* The data set of every setting of e is there (data_check), before any
 * work; 0, or what data_check returned (-1, -2) with err named as by
 * run_check_settings. */
int run_check_data(const experiment *e, char *err, size_t err_len);

/* Every setting of e (each reading at each sweep value) passes
 * config_check: called before any work, so that a bad sweep value stops
 * the run before the settings ahead of it have run. 0, or -1 with err =
 * "reading NAME, sweep KEY=VALUE: reason" (each part only when the
 * experiment has several readings, a sweep). */
int run_check_settings(const experiment *e, char *err, size_t err_len);

/* Every synthetic setting of e fits the memory budget (--max-memory):
 * checked before any work. 0, or -1 with the inputs and the estimate in err. */
int run_check_memory(const experiment *e, char *err, size_t err_len);

/* Total number of (policy, repeat) jobs of an experiment, for progress. */
size_t experiment_jobs(const experiment *e);

/* Run every reading and sweep value. err gets one line on failure (-1).
 * With a session (checkpoint.h; may be NULL) the run can resume from a
 * checkpoint, stops at ss->stop_after or on a signal between rounds, and
 * returns 1 when it stopped before the end (ss->paused): the settings
 * reached are then in ss, ready for session_write. */
int run_experiment(const experiment *e, result_set *rs, progress *pg, run_session *ss, char *err,
                   size_t err_len);

/* summary.csv, curves.csv and settings.txt in dir (created), atomically. */
int write_results(const result_set *rs, const char *dir, char *err, size_t err_len);

/* One-screen table: rows = readings x sweep values, columns = policies. */
void print_table(FILE *f, const result_set *rs);

void result_set_free(result_set *rs);

/* The policies of reading r in order of first appearance (names point into
 * rs, at most MAX_POLICIES); returns how many. */
size_t result_reading_policies(const result_set *rs, size_t r, const char *names[MAX_POLICIES]);

/* The row of policy `policy` at (reading r, sweep index s), or NULL. */
const result_row *result_find(const result_set *rs, size_t r, size_t s, const char *policy);

/* The row's mean and 95% half-width of metric m (NaN with one repeat: the
 * interval is undefined, printed as n/a and written as an empty field). */
double result_mean(const result_row *w, metric m);
double result_ci(const result_row *w, metric m);

/* The row's per-repeat values of metric m at T (w->repeats of them), or
 * NULL when the row does not keep them. */
const double *result_repeats(const result_row *w, metric m);

/* The ratio of x to base, paired by repeat: the mean and the 95% half-width
 * (Student t, n - 1 degrees of freedom) of the n per-repeat ratios
 * x[j] / base[j], formed in work (n doubles). The ratio is defined only when
 * every base[j] is finite and > 0: otherwise *mean and *ci are NaN (one
 * undefined ratio leaves no mean over all the repeats; averaging the others
 * would report a ratio of fewer repeats than the run has). *ci is NaN when
 * n < 2. */
void paired_ratio(const double *x, const double *base, size_t n, double *work, double *mean,
                  double *ci);


#endif
