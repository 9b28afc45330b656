/* output.h - result files, the stdout table and the progress bar. */
#ifndef COLB_CLI_OUTPUT_H
#define COLB_CLI_OUTPUT_H

#include <stdio.h>

#include "options.h"

/* A file of a results folder being staged (outdir.h): its text goes to a
 * stream in memory (a.f), which afile_commit writes to PATH whole, as a
 * new file (errno text in err: "No space left on device"). afile_abort
 * drops the text; nothing reaches the disk before the commit. Atomicity and
 * durability are the folder's: outdir_commit fsyncs the staged folder
 * whole and renames it into place, and an aborted one is removed whole, so
 * the file needs neither a temporary of its own nor an fsync. Every
 * afile's PATH lies inside a staged folder. */
typedef struct afile {
    FILE *f;
    char path[PATH_LEN];
    char *text;
    size_t len;
} afile;

int afile_open(afile *a, const char *path, char *err, size_t err_len);
int afile_commit(afile *a, char *err, size_t err_len);
void afile_abort(afile *a);

/* mkdir -p; returns 0 or -1 with err set. */
int make_dirs(const char *path, char *err, size_t err_len);

/* make_dirs, and the first (outermost) folder it created into made
 * (made_len bytes; "" when none was missing), for unmake_dirs; a failure
 * removes what it created. */
int make_dirs_made(const char *path, char *made, size_t made_len, char *err, size_t err_len);

/* Remove path and its parents up to `made` (as make_dirs_made returned it)
 * while they are empty: what a failed run created and left unused. */
void unmake_dirs(const char *path, const char *made);

/* Progress on stderr: one bar with the ETA of the whole run when stderr is
 * a terminal; otherwise one line per finished step (setting), with the
 * elapsed time and the ETA of the whole run. Nothing when quiet. */
typedef struct progress {
    int enabled;                 /* the bar */
    int lines;                   /* a line per step */
    double t0;
    size_t done_before, total;   /* jobs of earlier settings, all jobs */
    char label[96];
    char prefix[32];             /* e.g. the figure of colb reproduce */
} progress;

void progress_init(progress *p, size_t total, int quiet);
void progress_update(void *ctx, size_t done, size_t total_in_setting);
void progress_finish(progress *p);

/* A step (one setting: a reading at one sweep value) has finished; its
 * jobs are counted in done_before. Prints the line when lines is set. */
void progress_step(progress *p, const char *what);

double wall_now(void);

#endif
