/* gnuplot.h - the gnuplot driver of the plots (plot.c): where gnuplot is,
 * running a script, and quoting strings for scripts. */
#ifndef COLB_CLI_GNUPLOT_H
#define COLB_CLI_GNUPLOT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* The gnuplot executable: $COLB_GNUPLOT if set (a path, or a name looked up
 * on PATH), else `gnuplot` on PATH. Returns 0 and the absolute path in out,
 * or -1. */
int gnuplot_find(char *out, size_t len);

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

/* End w unused (killed and reaped, by its pid); nothing when w->pid is 0. */
void gnuplot_stop(gnuplot_warm *w);

/* Run the script NAME.gp in folder dir with `exe` - on warm if it is
 * started (it is used up), else a gnuplot of its own; it writes NAME.svg
 * and NAME.png under temporary names (the script reads them from the
 * variables svgfile and pngfile), which are renamed into place only when
 * gnuplot exits with status 0 and both are non-empty. Returns 0, or -1
 * with err set to the telling line of gnuplot's stderr. */
int gnuplot_draw(const char *exe, const char *dir, const char *name, gnuplot_warm *warm,
                 char *err, size_t err_len);

/* s as a gnuplot double-quoted string literal (line breaks as blanks; a
 * backquote as \140, so that gnuplot runs no command named in s). */
void gnuplot_string(FILE *f, const char *s);

/* A title as a gnuplot string, broken onto two balanced lines at a blank
 * when it is longer than `width` characters. */
void gnuplot_title(FILE *f, const char *s, size_t width);

#endif
