/* snap_table.h - a parameter struct as a snapshot group, driven by a table
 * of its fields (internal): how colb_policy_params and colb_env_params are
 * stored (docs/format.md §4.1, §6). A field missing from a file keeps the
 * default already in the struct, which is how a later colb adds parameters
 * without a new format version. */
#ifndef COLB_SNAP_TABLE_H
#define COLB_SNAP_TABLE_H

#include <stddef.h>

#include "persist/snapshot.h"

typedef struct colb__snap_param {
    const char *name;
    char type;     /* 'z' size_t, 'u' uint64_t, 'd' double, 'i' int or enum: stored as u64 or f64 */
    size_t off;    /* offsetof in the struct */
} colb__snap_param;

void colb__snap_params_save(colb__snap_out *w, const char *name, const void *base,
                            const colb__snap_param *t, size_t n);

/* Fill the fields found in group `name` of g into base (others untouched):
 * doubles as stored (the struct's own check judges them), integers range
 * checked for their C type. */
colb_status colb__snap_params_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                   void *base, const colb__snap_param *t, size_t n);

/* The name of the first field that differs between a and b, or NULL. */
const char *colb__snap_params_diff(const void *a, const void *b, const colb__snap_param *t,
                                   size_t n);

#endif
