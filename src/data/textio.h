/* textio.h - strict text-file reading shared by the data loaders (internal):
 * whole-file reads, line iteration (LF or CRLF), field splitting, checked
 * number parsing, FNV-1a 64 checksums. Files are written through
 * core/atomic_file.h (temporary, fsync, rename).
 *
 * Error messages follow "FILE:LINE: what was expected" and are written into
 * caller buffers (msg, msg_len), which may be NULL/0. */
#ifndef COLB_TEXTIO_H
#define COLB_TEXTIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "colb/status.h"
#include "core/util.h"

/* Error messages go through colb__say (util.h). */

/* An (id, index) pair ordered by id, then index: sorted tables for id
 * lookups, and (user id, item index) lists of positives. */
typedef struct colb__pair {
    uint64_t id;
    size_t idx;
} colb__pair;

/* qsort comparator of colb__pair. */
int colb__pair_cmp(const void *a, const void *b);

/* The idx of `id` in the sorted table t[0..n), or SIZE_MAX. */
size_t colb__pair_find(const colb__pair *t, size_t n, uint64_t id);

/* A dataset from items and (user id, item index) pairs (sorted here; users
 * by increasing id, duplicates merged): the last step of every loader. */
struct colb_dataset;
colb_status colb__dataset_from_pairs(size_t n_items, size_t dim, const uint64_t *item_ids,
                                     const double *features, colb__pair *pairs, size_t np,
                                     struct colb_dataset **out, char *msg, size_t msg_len);

/* Number of the lines of a text buffer that colb__line_skip does not skip
 * (at least 1): an upper bound on its records, the header included, that
 * blank and comment lines do not raise (tables sized by all lines broke
 * the loaders' bound of 16 bytes of memory per byte of input). */
size_t colb__count_data_lines(const char *buf, size_t len);

/* FNV-1a 64 (Fowler, Noll, Vo) of n bytes, continuing from h; start with
 * COLB__FNV64_INIT. */
#define COLB__FNV64_INIT UINT64_C(0xcbf29ce484222325)
uint64_t colb__fnv1a64(uint64_t h, const void *data, size_t n);

/* Read the whole file into a fresh NUL-terminated buffer (*buf, caller frees;
 * *len bytes without the NUL), refusing files of more than max_bytes (a
 * regular file by its size, before reading; anything else - a pipe, a
 * device such as /dev/zero - once that many bytes have come). COLB_EIO with
 * "cannot open 'path': strerror", a read error or a folder; COLB_ENOMEM for
 * a file over the bound ("'path' is larger than ..."). */
colb_status colb__read_file(const char *path, size_t max_bytes, char **buf, size_t *len, char *msg,
                            size_t msg_len);

/* colb__read_file of a text file for the line readers below: also
 * COLB_EPARSE with "PATH:LINE: ..." for a NUL byte (the line readers would
 * end the line there and drop the rest of it unread) and for a file whose
 * lines end in CR alone (it would read as one line). */
colb_status colb__read_text(const char *path, size_t max_bytes, char **buf, size_t *len, char *msg,
                            size_t msg_len);

/* The loaders need at most this many bytes of memory per byte of input
 * (buffers, per-line tables, parsed values): a data file may have at most
 * budget / COLB__LOAD_FACTOR bytes. */
#define COLB__LOAD_FACTOR 16

/* Line iteration over a buffer of text that may be modified in place. */
typedef struct colb__lines {
    char *p, *end;
    size_t lineno; /* number of the line last returned, 1-based */
} colb__lines;

/* Lines of buf[0..len), after a UTF-8 byte order mark if the buffer starts
 * with one (an editor's mark, not text: a first data line behind it would
 * otherwise not read as one and be taken for a header). */
void colb__lines_init(colb__lines *it, char *buf, size_t len);

/* Next line, NUL-terminated in place, without its '\n' and an optional '\r'
 * before it. Returns NULL at the end of the buffer. */
char *colb__lines_next(colb__lines *it);

/* 1 when the line is blank (spaces, tabs only) or starts with '#'. */
int colb__line_skip(const char *line);

/* Split `line` in place on `sep`; stores at most max_fields pointers in
 * fields[] and returns the total number of fields (which may exceed
 * max_fields; then the extra ones are not stored). */
size_t colb__split(char *line, char sep, char **fields, size_t max_fields);

/* Parse a non-negative decimal integer (digits only, optional surrounding
 * spaces/tabs, no sign) that fits in uint64. Returns 0 on success. */
int colb__parse_u64(const char *s, uint64_t *v);

/* Parse a floating-point number with strtod (whole field, optional
 * surrounding spaces/tabs). Returns 0 on success, 1 when the number is NaN
 * or infinite (*v set anyway), -1 when it is not a number. */
int colb__parse_double(const char *s, double *v);

/* 1 when the text of `line` before the first of the characters `seps`
 * reads as a number (an optional sign, then a digit, or a point and a
 * digit; or it is empty): a data line, whose id the caller then parses
 * (and refuses when it is not a non-negative integer below 2^64), rather
 * than a header. */
int colb__first_field_numeric(const char *line, const char *seps);

#endif
