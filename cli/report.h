/* report.h - report.md: the paper's claims next to the measured numbers and
 * plots, with a verdict per claim and reading computed from the numbers. */
#ifndef COLB_CLI_REPORT_H
#define COLB_CLI_REPORT_H

#include "run.h"

typedef struct figure_result {
    const experiment *e;
    const result_set *rs;      /* NULL when skipped */
    const char *dir;           /* the figure's folder, relative to the report */
    int plots;                 /* plots written, or PLOT_SKIPPED, PLOT_TIMED_OUT, PLOT_FAILED */
    int skipped;               /* 1: not run (skip_reason says why) */
    char skip_reason[256];
} figure_result;

typedef struct report_meta {
    const char *command;       /* the command line that produced the report */
    const char *commit;        /* source commit, or "unknown" */
    const char *version;
    const char *date;          /* UTC, ISO 8601 */
    int quick;
    double wall;               /* seconds, all figures */
} report_meta;

/* Write the report to `path` atomically. */
int report_write(const char *path, const figure_result *figs, size_t n, const report_meta *meta,
                 char *err, size_t err_len);

/* The verdict of check c of experiment e for reading r, with a sentence. */
verdict report_check(const experiment *e, const result_set *rs, const check *c, size_t r,
                     char *why, size_t why_len);

#endif
