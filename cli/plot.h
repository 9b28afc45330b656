/* plot.h - figures with gnuplot (SVG and PNG) from an experiment's results.
 * Without gnuplot, once gnuplot has not finished a plot within its time
 * limit (gnuplot_timeout), or when it fails on one, the plots are written
 * as data and scripts only with a one-line notice (the results stand); with
 * the option plots = 0 only their data and scripts are written. */
#ifndef COLB_CLI_PLOT_H
#define COLB_CLI_PLOT_H

#include "gnuplot.h"
#include "run.h"

#define PLOT_SKIPPED (-2)
#define PLOT_TIMED_OUT (-3)
#define PLOT_FAILED (-4)

/* Plots of figure `fig` into `dir` (which exists): for each reading, the
 * metric against the swept parameter with 95% bands (when there is a
 * sweep), and the metric over rounds at the last sweep value. Returns the
 * number of plots written (with plots = 0 in the first reading's settings:
 * their .dat and .gp only, gnuplot not run), PLOT_SKIPPED when gnuplot is not available
 * ($COLB_GNUPLOT, else `gnuplot` on PATH; a notice goes to stderr, and the
 * .dat and .gp are written as with plots = 0), PLOT_TIMED_OUT when a
 * gnuplot did not finish a plot within gnuplot_timeout() seconds, in this
 * call or an earlier one of the process (it was killed with its process
 * group; one line on stderr says so, and from there on the .dat and .gp
 * are written as with plots = 0, the images already drawn kept),
 * PLOT_FAILED the same way when gnuplot failed on a plot (its telling line
 * on stderr), or -1 with err set (a file that could not be written). The
 * first plot is drawn on warm when it is a started gnuplot (gnuplot.h;
 * NULL: none). */
int plot_figure(const result_set *rs, metric m, const char *dir, const char *fig,
                gnuplot_warm *warm, char *err, size_t err_len);

/* The file name (without folder and extension) of a plot of figure `fig`,
 * reading `reading`, kind "sweep" or "time": FIG-READING-KIND, with any
 * character other than [A-Za-z0-9._-] replaced by '_'. The report links
 * the images by this name. */
void plot_file_name(char *out, size_t len, const char *fig, const char *reading, const char *kind);

#endif
