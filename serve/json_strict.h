/* json_strict.h - a fast reader for the JSON of ordinary requests: it
 * builds, in the request's arena, the very cJSON tree cJSON would build
 * (same nodes, order, strings and doubles, bit for bit), without cJSON's
 * allocation per node and strtod per number. It reads strict JSON only:
 * objects, arrays, strings without escapes and numbers of RFC 8259's
 * grammar, at most JSON_STRICT_DEPTH deep; on anything else - an escape,
 * true/false/null, other whitespace, a syntax error - it gives up, and the
 * caller parses the body with cJSON, which then also words the error. The
 * codec (codec.c) checks the tree the same way whichever built it. */
#ifndef COLB_SERVE_JSON_STRICT_H
#define COLB_SERVE_JSON_STRICT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "codec.h"

#define JSON_STRICT_DEPTH 32

/* The value at the start of s (len bytes; leading whitespace skipped), its
 * nodes in arena a (not to be given to cJSON_Delete), *end just after it;
 * or NULL when the text is beyond this reader (or out of memory): then
 * parse it with cJSON_ParseWithLengthOpts, whose tree and *end it would
 * have matched. */
cJSON *json_strict_parse(const char *s, size_t len, arena *a, const char **end);

/* The array of arrays of exactly d numbers each at s (len bytes from its
 * '['), as the strict reader reads it: their numbers row-major in the
 * arena (what json_strict_parse's nodes would hold), *rows arrays (1 to
 * max_rows), *end just after the closing ']'. NULL when the text is not
 * that (an empty array, a row of another length, more than max_rows
 * rows, anything beyond the strict reader) or out of memory: then read it
 * the general way, which words the error. Memory grows with what is read
 * (at most 32 bytes per number read, counting the arena's earlier, smaller
 * copies; 4 kB at least): a short body cannot make
 * it allocate K x d doubles. */
double *json_strict_rows(const char *s, size_t len, size_t d, size_t max_rows, arena *a, size_t *rows,
                         const char **end);

/* The longest number read, in bytes: cJSON's reader copies at most 63 bytes
 * of a number, and json_strict_parse reads what it reads. */
#define JSON_NUMBER_MAX 63

/* A number of RFC 8259's grammar, the n bytes at s (at most 63, as cJSON
 * reads), as strtod reads it (correctly rounded): exact arithmetic when the
 * digits and the power of ten are small enough (Clinger's fast path), else
 * strtod. 0, or -1 when the n bytes are not exactly one such number. */
int json_strict_number(const char *s, size_t n, double *out);

#endif
