/* param_table.h - parameters by name over a struct (internal; the public
 * face is colb/params.h): a table of typed keys, each with the offset of
 * its field, its range and a line of help, and one strict reader and
 * writer of values as text for every table (policies, environments, runs). */
#ifndef COLB_PARAM_TABLE_H
#define COLB_PARAM_TABLE_H

#include <stddef.h>

#include "colb/params.h"
#include "core/util.h"

typedef struct colb__param {
    const char *key;
    colb_param_type type;
    char store;           /* the field's C type: 'z' size_t, 'u' uint64_t,
                             'd' double, 'i' int (bool, choice: the index) */
    size_t off;           /* offsetof the field in its struct */
    double lo, hi;        /* int, real: inclusive range */
    const char *choices;  /* choice: "a|b|c" */
    const char *help;
    const char *uses;     /* policies: which read the key (policy_params.c) */
} colb__param;

/* The row of `key` in t[0..n), or NULL. */
const colb__param *colb__param_find(const colb__param *t, size_t n, const char *key);

/* The public calls of colb/params.h over a table t[0..n): set key (what
 * names the table in messages: "policy parameter"), get key, and the info
 * of row i with the defaults read from `defaults`. */
colb_status colb__params_set(const colb__param *t, size_t n, void *base, const char *key,
                             const char *value, const char *what, char *msg, size_t msg_len);
colb_status colb__params_get(const colb__param *t, size_t n, const void *base, const char *key,
                             char *value, size_t len);
colb_status colb__params_info(const colb__param *t, size_t n, size_t i, const void *defaults,
                              colb_param_info *info);

/* The error of an unknown key: COLB_ENOTFOUND, "unknown WHAT 'KEY'". */
colb_status colb__param_unknown(const char *what, const char *key, char *msg, size_t msg_len);

#endif
