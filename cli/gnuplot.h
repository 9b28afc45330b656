/* gnuplot.h - the gnuplot driver of the plots (plot.c): where gnuplot is,
 * running a script within a time limit, and quoting strings for scripts. */
#ifndef COLB_CLI_GNUPLOT_H
#define COLB_CLI_GNUPLOT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* The gnuplot executable: $COLB_GNUPLOT if set (a path, or a name looked up
 * on PATH), else `gnuplot` on PATH. Returns 0 and the absolute path in out,
 * or -1. */
int gnuplot_find(char *out, size_t len);

/* The seconds a gnuplot has to draw one plot: $COLB_GNUPLOT_TIMEOUT if set
 * (a number in (0, GNUPLOT_TIMEOUT_MAX]), else GNUPLOT_TIMEOUT_DEFAULT.
 * Returns 0 and the seconds in *seconds, or -1 with err set (one line
 * naming the variable) when the variable is not such a number. */
#define GNUPLOT_TIMEOUT_DEFAULT 30.0
#define GNUPLOT_TIMEOUT_MAX 86400.0
int gnuplot_timeout(double *seconds, char *err, size_t err_len);

/* gnuplot_draw's returns when gnuplot did not finish within the timeout,
 * and when it ran and failed (an exit status other than 0, a signal, or
 * an image it did not write). */
#define GNUPLOT_TIMED_OUT (-2)
#define GNUPLOT_FAILED (-3)

/* A gnuplot started before its script exists, so that its start and its
 * PNG terminal's (fonts, cairo: two thirds of a plot's ~60 ms on this
 * project's machine) overlap the computation: it waits for commands on its
 * stdin (in), its stderr on err. pid 0: none. */
typedef struct gnuplot_warm {
    pid_t pid;
    int in, err;
} gnuplot_warm;

/* Start `exe` into w and have it draw a PNG to /dev/null; best effort
 * (w->pid 0 when it could not start: gnuplot_draw then runs its own). */
void gnuplot_start(const char *exe, gnuplot_warm *w);

/* End w unused: killed with its process group (whatever it started too)
 * and reaped; nothing when w->pid is 0. */
void gnuplot_stop(gnuplot_warm *w);

/* Run the script NAME.gp in folder dir with `exe` - on warm if it is
 * started (it is used up), else a gnuplot of its own; it writes NAME.svg
 * and NAME.png under temporary names (the script reads them from the
 * variables svgfile and pngfile), which are renamed into place only when
 * gnuplot exits with status 0 and both are non-empty. gnuplot has
 * gnuplot_timeout() seconds to finish (its stderr read to its end, its
 * exit waited for); one still running then is killed with its process
 * group (each gnuplot runs in one of its own) and reaped. Returns 0,
 * GNUPLOT_TIMED_OUT with err set to one line saying so, GNUPLOT_FAILED
 * with err set to the telling line of gnuplot's stderr (or why it could
 * not be started), or -1 with err set (a path too long, an image that
 * could not be moved into place). The temporary images are
 * removed on failure; NAME.gp and the data it reads are left alone. */
int gnuplot_draw(const char *exe, const char *dir, const char *name, gnuplot_warm *warm,
                 char *err, size_t err_len);

/* s as a gnuplot double-quoted string literal (line breaks as blanks; a
 * backquote as \140, so that gnuplot runs no command named in s). */
void gnuplot_string(FILE *f, const char *s);

/* A title as a gnuplot string, broken onto two balanced lines at a blank
 * when it is longer than `width` characters. */
void gnuplot_title(FILE *f, const char *s, size_t width);

#endif
