/* specs.h - the experiment specs embedded from experiments/ at build time. */
#ifndef COLB_CLI_SPECS_H
#define COLB_CLI_SPECS_H

#include <stddef.h>

typedef struct spec_text {
    const char *name;          /* file name without .conf, e.g. "fig1a" */
    const char *text;
} spec_text;

extern const spec_text SPECS[];
extern const size_t N_SPECS;

/* experiments/extra/quality.conf, bench-quality's experiment file unless
 * -c names one. */
extern const char *const QUALITY_SPEC;

#endif
