/* width.h - how each policy of a run explores, in words: settings.txt lists
 * it for every policy, and the report names the policies that do not
 * explore like the others (an override: not an equal-footing comparison). */
#ifndef COLB_CLI_WIDTH_H
#define COLB_CLI_WIDTH_H

#include <stddef.h>
#include <stdio.h>

#include "options.h"

/* 1 when `policy` explores with a width of its own under c rather than the
 * shared one: CLUB with club-own-alpha (set by --club-alpha) or club-tune. */
int width_is_override(const run_config *c, const char *policy);

/* The shared exploration of c in a few words ("fixed alpha = 0.25, UCB"). */
void width_shared(const run_config *c, char *out, size_t len);

/* How `policy` explores under c, one line. */
void width_describe(const run_config *c, const char *policy, char *out, size_t len);

/* The comment lines "# width.POLICY = ..." for every policy of c
 * (settings.txt, which reads back as an experiment file): one per policy,
 * or, when the settings of c's sweep make it explore differently, one per
 * setting ending "(at KEY=VALUE)". */
void width_dump(FILE *f, const run_config *c);

#endif
