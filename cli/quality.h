/* quality.h - `colb bench-quality`: every policy at equal width over the grid
 * N x z x sigma of clustered users, regret ratios to the oracles and to
 * LinUCB-Ind with 95% intervals paired by repeat, a table and a plot. */
#ifndef COLB_CLI_QUALITY_H
#define COLB_CLI_QUALITY_H

int cmd_bench_quality(int argc, char **argv);

#endif
