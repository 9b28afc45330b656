/* report_settings.h - an experiment's settings in words (report.md). */
#ifndef COLB_CLI_REPORT_SETTINGS_H
#define COLB_CLI_REPORT_SETTINGS_H

#include <stdio.h>

#include "experiment.h"

/* One line describing the settings shared by the readings of e, the swept
 * values in braces, and the policies of every reading. */
void report_settings_line(FILE *f, const experiment *e);

/* "Settings of this reading: `key = value`, ..." for the settings in which
 * reading c differs from the base b; nothing when none differ. */
void report_reading_diff(FILE *f, const run_config *b, const run_config *c);

#endif
