/* output.h - result files, the stdout table and the progress bar. */
#ifndef COLB_CLI_OUTPUT_H
#define COLB_CLI_OUTPUT_H

#include <stdio.h>

#include "options.h"

/* A file written atomically: opened as PATH.tmp.PID, renamed onto PATH by
 * afile_commit (which reports errno text: "No space left on device");
 * afile_abort removes the temporary. */
typedef struct afile {
    FILE *f;
    char path[PATH_LEN], tmp[PATH_LEN + 32];
} afile;

int afile_open(afile *a, const char *path, char *err, size_t err_len);
int afile_commit(afile *a, char *err, size_t err_len);
void afile_abort(afile *a);

/* mkdir -p; returns 0 or -1 with err set. */
int make_dirs(const char *path, char *err, size_t err_len);

/* Progress bar on stderr when it is a terminal (silent otherwise). */
typedef struct progress {
    int enabled;
    double t0;
    size_t done_before, total;   /* jobs of earlier settings, all jobs */
    char label[96];
} progress;

void progress_init(progress *p, size_t total, int quiet);
void progress_update(void *ctx, size_t done, size_t total_in_setting);
void progress_finish(progress *p);

double wall_now(void);

#endif
