/* snapshot.h - colb's snapshot format, the writer and the reader (internal).
 * The format is specified in docs/format.md; this header is its API for the
 * layers that save themselves (policies, environments, the simulator).
 *
 * A snapshot is a 16-byte header (magic, format version, flags), a sequence
 * of named fields, and a 16-byte trailer (total length, XXH3-64 checksum of
 * everything before the checksum). A field is a typed array - bytes, u64 or
 * f64, all little-endian - or a group of fields (nested; begin and end
 * markers, so that a writer can stream without knowing sizes in advance).
 * Objects serialize themselves as groups of named fields, which is what lets
 * a later colb read older files (a field it misses takes its default) or
 * refuse them by the format version.
 *
 * Writer: errors are sticky. Every colb__snap_* put after a failure is a
 * no-op and colb__snap_status() returns the first error, so a save function
 * writes its fields and returns colb__snap_status(w) once at the end.
 *
 * Reader: the whole input is in memory (read from a path or a stream, or
 * the caller's buffer), its length, magic, version and checksum are verified
 * and its field structure is walked once before anything is looked up; every
 * getter checks the field's type and count and names the field in the error
 * message. Loaders call colb__snap_reserve before allocating memory that is
 * not backed by the file's own arrays (a memory budget). */
#ifndef COLB_SNAPSHOT_IMPL_H
#define COLB_SNAPSHOT_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "colb/status.h"
#include "core/util.h"
#include "core/atomic_file.h"

/* The format version this colb writes, and the oldest it reads. A reader
 * refuses newer versions with COLB_EUNSUP (docs/format.md, "Versions").
 * Version 2: the user bank in its compact form (no V); version 1 files
 * still load (bank_persist.c converts their user banks). */
#define COLB__SNAP_VERSION 2u
#define COLB__SNAP_OLDEST 1u

#define COLB__SNAP_HEADER 16u
#define COLB__SNAP_TRAILER 16u
#define COLB__SNAP_NAME_MAX 64u   /* longest field name */
#define COLB__SNAP_DEPTH_MAX 16   /* deepest nesting of groups */

/* Field types (docs/format.md). */
enum { COLB__SNAP_BYTES = 1, COLB__SNAP_U64 = 2, COLB__SNAP_F64 = 3, COLB__SNAP_GROUP = 4,
       COLB__SNAP_END = 5 };

/* ---- writer --------------------------------------------------------------- */

typedef struct XXH3_state_s colb__xxh3_state;

typedef struct colb__snap_out {
    int sink;                   /* SINK_* of snap_write.c */
    colb__afile af;             /* path: the temporary file */
    FILE *f;                    /* stream */
    unsigned char *dst;         /* caller's buffer */
    size_t cap;
    unsigned char *stage;       /* staging area, flushed to the sink: own, or in dst */
    size_t stage_len, stage_cap;
    unsigned char *own;         /* the writer's staging buffer */
    uint64_t total;             /* bytes produced so far */
    colb__xxh3_state *xx;       /* running checksum */
    int depth;                  /* open groups */
    uint64_t arr_left;          /* values still due in the array being written */
    int arr_type;
    colb_status st;             /* first error */
    char *msg;
    size_t msg_len;
} colb__snap_out;

/* Open a writer on a path (written to a temporary file in the same folder,
 * renamed over PATH by colb__snap_close: an existing PATH is never damaged),
 * a stream, or the caller's buffer of cap bytes (overflow is reported by
 * colb__snap_close as COLB_ERANGE with the needed size). Errors go to msg. */
colb_status colb__snap_open_path(colb__snap_out *w, const char *path, char *msg, size_t msg_len);
colb_status colb__snap_open_stream(colb__snap_out *w, FILE *f, char *msg, size_t msg_len);
colb_status colb__snap_open_buffer(colb__snap_out *w, void *buf, size_t cap, char *msg,
                                   size_t msg_len);

/* 1 for a writer opened on a buffer of none (NULL, 0): a size query, whose
 * bytes are only counted. A saver may then colb__snap_skip an array's
 * values instead of computing them (what it would check in them goes
 * unchecked: the size does not depend on them). */
int colb__snap_counting(const colb__snap_out *w);

/* n values of the array being written (type COLB__SNAP_F64, U64 or BYTES),
 * counted and not written: only while colb__snap_counting (else
 * COLB_ESTATE). */
void colb__snap_skip(colb__snap_out *w, int type, uint64_t n);

/* Write the trailer and commit (path: fsync, rename, fsync of the folder;
 * stream: fflush). *len (may be NULL) receives the snapshot's size, also on
 * COLB_ERANGE. On any error nothing is left behind (the temporary is
 * removed) and the writer is closed. */
colb_status colb__snap_close(colb__snap_out *w, size_t *len);

/* Give up: remove the temporary file, free the writer's memory. Harmless
 * after colb__snap_close. */
void colb__snap_abort(colb__snap_out *w);

colb_status colb__snap_status(const colb__snap_out *w);

/* Record an error (the first one sticks); returns the writer's status. */
colb_status colb__snap_fail(colb__snap_out *w, colb_status st, const char *fmt, ...)
    COLB__PRINTF(3, 4);

void colb__snap_group_begin(colb__snap_out *w, const char *name);
void colb__snap_group_end(colb__snap_out *w);
void colb__snap_u64(colb__snap_out *w, const char *name, uint64_t v);
void colb__snap_f64(colb__snap_out *w, const char *name, double v);
void colb__snap_u64s(colb__snap_out *w, const char *name, const uint64_t *v, size_t n);
void colb__snap_sizes(colb__snap_out *w, const char *name, const size_t *v, size_t n);
void colb__snap_f64s(colb__snap_out *w, const char *name, const double *v, size_t n);
void colb__snap_bytes(colb__snap_out *w, const char *name, const void *p, size_t n);
void colb__snap_str(colb__snap_out *w, const char *name, const char *s);

/* An array written piece by piece: announce the type and total count, put
 * exactly that many values, end. (How a bank writes one array over all its
 * models in its own logical order.) */
void colb__snap_array_begin(colb__snap_out *w, const char *name, int type, uint64_t count);
void colb__snap_put_f64s(colb__snap_out *w, const double *v, size_t n);
/* Room for the next n values of the F64 array being written, for the caller
 * to fill before its next call on w (they count as put): a pointer into the
 * stage, which saves a copy; NULL when they do not fit in one stage, on a
 * big-endian host or after an error - then colb__snap_put_f64s them. */
double *colb__snap_f64_slot(colb__snap_out *w, size_t n);
void colb__snap_put_u64(colb__snap_out *w, uint64_t v);
void colb__snap_array_end(colb__snap_out *w);

/* Fields encoded already (whole fields, balanced groups: another
 * snapshot's), n a multiple of 8, copied as they are. */
void colb__snap_raw(colb__snap_out *w, const void *p, size_t n);

/* ---- reader --------------------------------------------------------------- */

/* A span of fields (the top level or a group's content) and its dotted path
 * for messages. */
typedef struct colb__snap_group {
    const unsigned char *p, *end;
    char path[96];
} colb__snap_group;

typedef struct colb__snap_field {
    char name[COLB__SNAP_NAME_MAX + 1];
    int type;
    uint64_t count;                 /* values (bytes for BYTES) */
    const unsigned char *data;      /* count values, little-endian */
    colb__snap_group sub;           /* GROUP: its content */
} colb__snap_field;

typedef struct colb__snap_in {
    const unsigned char *buf;       /* the whole snapshot */
    size_t len;
    unsigned char *owned;           /* buf when read from a path or stream */
    uint32_t version;
    size_t budget;                  /* bytes the loaded objects may still take */
    const void *dataset;            /* colb_dataset for logged environments, or NULL */
    char *msg;
    size_t msg_len;
} colb__snap_in;

/* Default memory budget of a load (8 GiB). */
#define COLB__SNAP_BUDGET ((size_t)8 << 30)

/* Open a snapshot: read all of it (path or stream: at most `budget` bytes),
 * verify size, magic, version, checksum and field structure. budget 0 means
 * COLB__SNAP_BUDGET. Errors: COLB_EIO (cannot read; errno text), COLB_EPARSE
 * (truncated, corrupt, not a snapshot), COLB_EUNSUP (newer format),
 * COLB_ENOMEM (over the budget). On error nothing is held. */
colb_status colb__snap_in_path(colb__snap_in *in, const char *path, size_t budget, char *msg,
                               size_t msg_len);
colb_status colb__snap_in_stream(colb__snap_in *in, FILE *f, size_t budget, char *msg,
                                 size_t msg_len);
/* The caller's buffer is borrowed (not copied) and must outlive the reader. */
colb_status colb__snap_in_buffer(colb__snap_in *in, const void *buf, size_t len, size_t budget,
                                 char *msg, size_t msg_len);
void colb__snap_in_close(colb__snap_in *in);

/* The top level: the fields between header and trailer. */
colb__snap_group colb__snap_top(const colb__snap_in *in);

/* Write an error naming the snapshot's problem into the reader's message
 * buffer and return st. */
colb_status colb__snap_error(colb__snap_in *in, colb_status st, const char *fmt, ...)
    COLB__PRINTF(3, 4);

/* Take `bytes` from the memory budget before allocating them; COLB_ENOMEM
 * naming `what` when they do not fit. */
colb_status colb__snap_reserve(colb__snap_in *in, uint64_t bytes, const char *what);

/* Iterate over the fields of g: *cursor starts NULL; returns 1 and fills f
 * while there is a field, else 0. END markers are not returned. */
int colb__snap_next(const colb__snap_group *g, const unsigned char **cursor, colb__snap_field *f);

/* The field `name` of g: COLB_OK, or COLB_ENOTFOUND (no message written:
 * an optional field). */
colb_status colb__snap_find(const colb__snap_group *g, const char *name, colb__snap_field *f);

/* Required fields: COLB_EPARSE with a message naming g.path + name when
 * missing, of another type, or of another count. */
colb_status colb__snap_field_of(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                int type, uint64_t count, colb__snap_field *f);
colb_status colb__snap_get_group(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                 colb__snap_group *sub);
colb_status colb__snap_get_u64(colb__snap_in *in, const colb__snap_group *g, const char *name,
                               uint64_t *v);
/* A u64 in [lo, hi] stored into a size_t. */
colb_status colb__snap_get_size(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                size_t lo, size_t hi, size_t *v);
/* A double; finite unless allow_nonfinite. */
colb_status colb__snap_get_f64(colb__snap_in *in, const colb__snap_group *g, const char *name,
                               int allow_nonfinite, double *v);
colb_status colb__snap_get_u64s(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                uint64_t *v, size_t n);
/* n sizes, each < bound. */
colb_status colb__snap_get_sizes(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                 size_t *v, size_t n, size_t bound);
colb_status colb__snap_get_f64s(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                double *v, size_t n, int allow_nonfinite);
/* n doubles, each within +-bound (so finite): COLB_EPARSE naming the field,
 * the index and the value otherwise. */
colb_status colb__snap_get_f64s_within(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                       double *v, size_t n, double bound);

/* The largest magnitude of any value of a learner's state in a snapshot (V,
 * V^-1, b, theta, the prior mean, ln det V; a policy's copies of
 * estimates). Inputs within the ranges of colb/limits.h keep every one
 * below 1e61, so a larger value is no state colb made (the file is corrupt
 * or crafted); and from a state within 1e100 no score (|x| <= 1e6, d <=
 * 2^16) and no next update's products overflow. */
#define COLB__SNAP_MODEL_MAX 1e100
/* The largest magnitude of a prior mean theta0 in a snapshot: one given is
 * within +-1e6 (colb/limits.h); PMLB's is its global estimate, below 1e61.
 * (Within 1e100 only, the next updates could carry a state past
 * COLB__SNAP_MODEL_MAX: saved, and then refused.) */
#define COLB__SNAP_PRIOR_MAX 1e61
/* A string of at most cap - 1 bytes without NUL bytes, NUL-terminated. */
colb_status colb__snap_get_str(colb__snap_in *in, const colb__snap_group *g, const char *name,
                               char *buf, size_t cap);

/* Raw little-endian access to a validated field's values. */
uint64_t colb__snap_u64_at(const colb__snap_field *f, uint64_t i);
double colb__snap_f64_at(const colb__snap_field *f, uint64_t i);
void colb__snap_f64_copy(const colb__snap_field *f, uint64_t first, size_t n, double *out);

/* A sub-group path "parent.name" for messages. */
void colb__snap_subpath(char *out, size_t len, const char *parent, const char *name);

/* XXH3-64 of n bytes (seed 0): the checksum of docs/format.md. */
uint64_t colb__snap_hash(const void *p, size_t n);

#endif
