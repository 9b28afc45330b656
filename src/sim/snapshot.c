/* snapshot.c - the public snapshot API of colb/snapshot.h: a writer and a
 * reader of snapshots holding any number of labelled objects (policies,
 * environments, simulations, application bytes), and the single-object
 * save/load calls built on them. The format is persist/snapshot.h's; each
 * object is a top-level group named by its kind ("policy", "env", "sim",
 * "bytes") whose fields the object's own layer writes (docs/format.md). It
 * lives in the simulator's layer because it needs all three kinds. */
#include "colb/snapshot.h"

#include <string.h>

#include "colb/colb.h"
#include "envs/env_persist.h"
#include "persist/snapshot.h"
#include "policies/policy_persist.h"
#include "sim/sim_persist.h"

_Static_assert(COLB_SNAPSHOT_VERSION == COLB__SNAP_VERSION,
               "the public format version (colb/snapshot.h) is the one persist/ writes");

#define LABEL_MAX 255

static const char *const KIND_NAME[] = { "", "policy", "env", "sim", "bytes" };
static const char *const KIND_DESC[] = { "", "a policy", "an environment", "a simulation",
                                         "application bytes" };

void colb_load_options_default(colb_load_options *o)
{
    if (o)
        memset(o, 0, sizeof *o);
}

/* ---- writer --------------------------------------------------------------- */

struct colb_snapshot_writer {
    colb__snap_out w;
    char err[COLB__ERRLEN];
};

enum { SINK_PATH, SINK_STREAM, SINK_BUFFER };

static colb_status writer_open(int sink, const char *path, FILE *f, void *buf, size_t cap,
                               colb_snapshot_writer **out, char *msg, size_t msg_len)
{
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL output pointer");
    *out = NULL;
    colb_snapshot_writer *w = calloc(1, sizeof *w);
    if (!w)
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    colb_status st = sink == SINK_PATH     ? colb__snap_open_path(&w->w, path, w->err, sizeof w->err)
                     : sink == SINK_STREAM ? colb__snap_open_stream(&w->w, f, w->err, sizeof w->err)
                                           : colb__snap_open_buffer(&w->w, buf, cap, w->err, sizeof w->err);
    if (st != COLB_OK) {
        colb__say(msg, msg_len, st, "%s", w->err);
        free(w);
        return st;
    }
    colb__snap_str(&w->w, "writer", "colb " COLB_VERSION_STRING);
    *out = w;
    return COLB_OK;
}

colb_status colb_snapshot_writer_open(const char *path, colb_snapshot_writer **out, char *msg,
                                      size_t msg_len)
{
    return writer_open(SINK_PATH, path, NULL, NULL, 0, out, msg, msg_len);
}

colb_status colb_snapshot_writer_open_stream(FILE *f, colb_snapshot_writer **out, char *msg,
                                             size_t msg_len)
{
    return writer_open(SINK_STREAM, NULL, f, NULL, 0, out, msg, msg_len);
}

colb_status colb_snapshot_writer_open_buffer(void *buf, size_t cap, colb_snapshot_writer **out,
                                             char *msg, size_t msg_len)
{
    return writer_open(SINK_BUFFER, NULL, NULL, buf, cap, out, msg, msg_len);
}

/* Open object group `kind` with its label; 0 when the writer failed. */
static int object_begin(colb_snapshot_writer *w, int kind, const char *label, const void *obj)
{
    if (!w)
        return 0;
    if (!obj)
        colb__snap_fail(&w->w, COLB_EINVAL, "snapshot: NULL %s", KIND_NAME[kind]);
    if (label && strlen(label) > LABEL_MAX)
        colb__snap_fail(&w->w, COLB_EINVAL, "snapshot: label longer than %d bytes", LABEL_MAX);
    if (colb__snap_status(&w->w) != COLB_OK)
        return 0;
    colb__snap_group_begin(&w->w, KIND_NAME[kind]);
    if (label)
        colb__snap_str(&w->w, "label", label);
    return 1;
}

static colb_status object_end(colb_snapshot_writer *w)
{
    colb__snap_group_end(&w->w);
    return colb__snap_status(&w->w);
}

colb_status colb_snapshot_put_policy(colb_snapshot_writer *w, const char *label,
                                     const colb_policy *p)
{
    if (!object_begin(w, COLB_SNAPSHOT_POLICY, label, p))
        return w ? colb__snap_status(&w->w) : COLB_EINVAL;
    colb__policy_save_fields(&w->w, p);
    return object_end(w);
}

colb_status colb_snapshot_put_env(colb_snapshot_writer *w, const char *label, const colb_env *e)
{
    if (!object_begin(w, COLB_SNAPSHOT_ENV, label, e))
        return w ? colb__snap_status(&w->w) : COLB_EINVAL;
    colb__env_save_fields(&w->w, e);
    return object_end(w);
}

colb_status colb_snapshot_put_sim(colb_snapshot_writer *w, const char *label, const colb_sim *sim)
{
    if (!object_begin(w, COLB_SNAPSHOT_SIM, label, sim))
        return w ? colb__snap_status(&w->w) : COLB_EINVAL;
    colb__sim_save_fields(&w->w, sim);
    return object_end(w);
}

colb_status colb_snapshot_put_saved(colb_snapshot_writer *w, const char *label, const void *buf,
                                    size_t len)
{
    if (!w || !buf)
        return w ? colb__snap_fail(&w->w, COLB_EINVAL, "snapshot: NULL saved object") : COLB_EINVAL;
    if (colb__snap_status(&w->w) != COLB_OK)
        return colb__snap_status(&w->w);
    colb__snap_in in;
    char why[COLB__ERRLEN];
    colb_status st = colb__snap_in_buffer(&in, buf, len, 0, why, sizeof why);
    if (st != COLB_OK)
        return colb__snap_fail(&w->w, st, "snapshot: the saved object: %s", why);
    colb__snap_group top = colb__snap_top(&in), obj = { 0 };
    const unsigned char *cur = NULL;
    colb__snap_field f;
    int kind = 0, objects = 0;
    while (colb__snap_next(&top, &cur, &f))
        if (f.type == COLB__SNAP_GROUP) {
            objects++;
            obj = f.sub;
            for (kind = 1; kind <= 4 && strcmp(f.name, KIND_NAME[kind]); kind++)
                ;
        }
    if (in.version != COLB__SNAP_VERSION)
        st = colb__snap_fail(&w->w, COLB_EUNSUP, "snapshot: the saved object is of format version %u, not %u",
                             (unsigned)in.version, COLB__SNAP_VERSION);
    else if (objects != 1 || kind > 4)
        st = colb__snap_fail(&w->w, COLB_EPARSE, "snapshot: the saved bytes hold %d objects of known kinds, "
                             "not one", kind > 4 ? 0 : objects);
    if (st == COLB_OK && object_begin(w, kind, label, buf)) {
        colb__snap_raw(&w->w, obj.p, (size_t)(obj.end - obj.p));
        st = object_end(w);
    }
    colb__snap_in_close(&in);
    return st == COLB_OK ? colb__snap_status(&w->w) : st;
}

colb_status colb_snapshot_put_bytes(colb_snapshot_writer *w, const char *label, const void *data,
                                    size_t len)
{
    if (!object_begin(w, COLB_SNAPSHOT_BYTES, label, data || !len ? "" : NULL))
        return w ? colb__snap_status(&w->w) : COLB_EINVAL;
    colb__snap_bytes(&w->w, "data", data, len);
    return object_end(w);
}

colb_status colb_snapshot_writer_commit(colb_snapshot_writer *w, size_t *len, char *msg,
                                        size_t msg_len)
{
    if (!w)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL snapshot writer");
    colb_status st = colb__snap_close(&w->w, len);
    if (st != COLB_OK)
        colb__say(msg, msg_len, st, "%s", w->err);
    free(w);
    return st;
}

void colb_snapshot_writer_abort(colb_snapshot_writer *w)
{
    if (!w)
        return;
    colb__snap_abort(&w->w);
    free(w);
}

const char *colb_snapshot_writer_last_error(const colb_snapshot_writer *w)
{
    return w ? w->err : "";
}

/* ---- reader --------------------------------------------------------------- */

typedef struct object {
    colb_snapshot_kind kind;
    char label[LABEL_MAX + 1];
    colb__snap_group g;
} object;

struct colb_snapshot_reader {
    colb__snap_in in;
    object *obj;
    size_t n;
    char err[COLB__ERRLEN];
};

/* List the top-level objects. */
static colb_status index_objects(colb_snapshot_reader *r)
{
    colb__snap_group top = colb__snap_top(&r->in);
    const unsigned char *cur = NULL;
    colb__snap_field f;
    size_t n = 0;
    while (colb__snap_next(&top, &cur, &f))
        n += f.type == COLB__SNAP_GROUP;
    colb_status st = colb__snap_reserve(&r->in, (uint64_t)n * sizeof(object), "the object list");
    if (st != COLB_OK)
        return st;
    r->obj = colb__calloc(n, sizeof(object));
    if (!r->obj)
        return colb__snap_error(&r->in, COLB_ENOMEM, "out of memory");
    cur = NULL;
    while (colb__snap_next(&top, &cur, &f)) {
        if (f.type != COLB__SNAP_GROUP)
            continue; /* "writer" and fields of later versions */
        object *o = &r->obj[r->n++];
        o->kind = COLB_SNAPSHOT_UNKNOWN;
        for (int k = COLB_SNAPSHOT_POLICY; k <= COLB_SNAPSHOT_BYTES; k++)
            if (!strcmp(f.name, KIND_NAME[k]))
                o->kind = (colb_snapshot_kind)k;
        o->g = f.sub;
        colb__snap_field lf;
        if (colb__snap_find(&o->g, "label", &lf) == COLB_OK &&
            (st = colb__snap_get_str(&r->in, &o->g, "label", o->label, sizeof o->label)) != COLB_OK)
            return st;
    }
    return COLB_OK;
}

enum { SRC_PATH, SRC_STREAM, SRC_BUFFER };

static colb_status reader_open(int src, const char *path, FILE *f, const void *buf, size_t len,
                               const colb_load_options *opts, colb_snapshot_reader **out,
                               char *msg, size_t msg_len)
{
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL output pointer");
    *out = NULL;
    colb_snapshot_reader *r = calloc(1, sizeof *r);
    if (!r)
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    size_t budget = opts && opts->memory_budget ? opts->memory_budget : COLB_LOAD_BUDGET_DEFAULT;
    colb_status st = src == SRC_PATH     ? colb__snap_in_path(&r->in, path, budget, r->err, sizeof r->err)
                     : src == SRC_STREAM ? colb__snap_in_stream(&r->in, f, budget, r->err, sizeof r->err)
                                         : colb__snap_in_buffer(&r->in, buf, len, budget, r->err, sizeof r->err);
    if (st == COLB_OK) {
        r->in.dataset = opts ? opts->dataset : NULL;
        st = index_objects(r);
    }
    if (st != COLB_OK) {
        colb__say(msg, msg_len, st, "%s", r->err);
        colb_snapshot_reader_free(r);
        return st;
    }
    *out = r;
    return COLB_OK;
}

colb_status colb_snapshot_reader_open(const char *path, const colb_load_options *opts,
                                      colb_snapshot_reader **out, char *msg, size_t msg_len)
{
    return reader_open(SRC_PATH, path, NULL, NULL, 0, opts, out, msg, msg_len);
}

colb_status colb_snapshot_reader_open_stream(FILE *f, const colb_load_options *opts,
                                             colb_snapshot_reader **out, char *msg, size_t msg_len)
{
    return reader_open(SRC_STREAM, NULL, f, NULL, 0, opts, out, msg, msg_len);
}

colb_status colb_snapshot_reader_open_buffer(const void *buf, size_t len,
                                             const colb_load_options *opts,
                                             colb_snapshot_reader **out, char *msg, size_t msg_len)
{
    return reader_open(SRC_BUFFER, NULL, NULL, buf, len, opts, out, msg, msg_len);
}

void colb_snapshot_reader_free(colb_snapshot_reader *r)
{
    if (!r)
        return;
    colb__snap_in_close(&r->in);
    free(r->obj);
    free(r);
}

unsigned colb_snapshot_reader_version(const colb_snapshot_reader *r) { return r ? r->in.version : 0; }
size_t colb_snapshot_reader_count(const colb_snapshot_reader *r) { return r ? r->n : 0; }

colb_snapshot_kind colb_snapshot_reader_kind(const colb_snapshot_reader *r, size_t i)
{
    return r && i < r->n ? r->obj[i].kind : COLB_SNAPSHOT_UNKNOWN;
}

const char *colb_snapshot_reader_label(const colb_snapshot_reader *r, size_t i)
{
    return r && i < r->n ? r->obj[i].label : "";
}

const char *colb_snapshot_reader_last_error(const colb_snapshot_reader *r)
{
    return r ? r->err : "";
}

/* Object i, which must be of `kind`. */
static const object *object_of(colb_snapshot_reader *r, size_t i, int kind, colb_status *st)
{
    *st = COLB_OK;
    if (!r) {
        *st = COLB_EINVAL;
        return NULL;
    }
    r->err[0] = '\0';
    if (i >= r->n) {
        *st = colb__snap_error(&r->in, COLB_EINVAL, "snapshot has %zu objects, no object %zu", r->n, i);
        return NULL;
    }
    if ((int)r->obj[i].kind != kind) {
        *st = r->obj[i].kind == COLB_SNAPSHOT_UNKNOWN
                  ? colb__snap_error(&r->in, COLB_EUNSUP, "snapshot object %zu is of a kind this colb "
                                     "does not know (written by a newer colb)", i)
                  : colb__snap_error(&r->in, COLB_EINVAL, "snapshot object %zu is %s, not %s", i,
                                     KIND_DESC[r->obj[i].kind], KIND_DESC[kind]);
        return NULL;
    }
    return &r->obj[i];
}

/* A get that failed built nothing: what it reserved of r's budget before
 * failing goes back (the built objects of successful gets keep theirs). */
static colb_status keep_budget(colb_snapshot_reader *r, size_t budget, colb_status st)
{
    if (st != COLB_OK)
        r->in.budget = budget;
    return st;
}

colb_status colb_snapshot_get_policy(colb_snapshot_reader *r, size_t i, colb_policy **out)
{
    colb_status st;
    if (out)
        *out = NULL;
    const object *o = object_of(r, i, COLB_SNAPSHOT_POLICY, &st);
    if (!o || !out)
        return o ? COLB_EINVAL : st;
    size_t budget = r->in.budget;
    return keep_budget(r, budget, colb__policy_load_fields(&r->in, &o->g, out));
}

colb_status colb_snapshot_get_env(colb_snapshot_reader *r, size_t i, colb_env **out)
{
    colb_status st;
    if (out)
        *out = NULL;
    const object *o = object_of(r, i, COLB_SNAPSHOT_ENV, &st);
    if (!o || !out)
        return o ? COLB_EINVAL : st;
    size_t budget = r->in.budget;
    return keep_budget(r, budget, colb__env_load_fields(&r->in, &o->g, r->in.dataset, out));
}

colb_status colb_snapshot_get_sim(colb_snapshot_reader *r, size_t i, const colb_sim_spec *spec,
                                  colb_sim **out)
{
    colb_status st;
    if (out)
        *out = NULL;
    const object *o = object_of(r, i, COLB_SNAPSHOT_SIM, &st);
    if (!o || !out || !spec)
        return o ? colb__snap_error(&r->in, COLB_EINVAL, "NULL spec or output") : st;
    size_t budget = r->in.budget;
    return keep_budget(r, budget, colb__sim_load_fields(&r->in, &o->g, spec, out));
}

colb_status colb_snapshot_get_bytes(colb_snapshot_reader *r, size_t i, const void **data,
                                    size_t *len)
{
    colb_status st;
    const object *o = object_of(r, i, COLB_SNAPSHOT_BYTES, &st);
    if (!o || !data || !len)
        return o ? COLB_EINVAL : st;
    colb__snap_field f;
    if (colb__snap_find(&o->g, "data", &f) != COLB_OK || f.type != COLB__SNAP_BYTES)
        return colb__snap_error(&r->in, COLB_EPARSE, "snapshot: bytes object %zu has no data", i);
    *data = f.data;
    *len = (size_t)f.count;
    return COLB_OK;
}

/* ---- one object per file ---------------------------------------------------- */

typedef colb_status (*put_fn)(colb_snapshot_writer *w, const void *obj);

static colb_status put_policy(colb_snapshot_writer *w, const void *o) { return colb_snapshot_put_policy(w, NULL, o); }
static colb_status put_env(colb_snapshot_writer *w, const void *o) { return colb_snapshot_put_env(w, NULL, o); }
static colb_status put_sim(colb_snapshot_writer *w, const void *o) { return colb_snapshot_put_sim(w, NULL, o); }

static colb_status save_one(int sink, const char *path, FILE *f, void *buf, size_t cap,
                            size_t *len, put_fn put, const void *obj, char *msg, size_t msg_len)
{
    if (!obj)
        return colb__say(msg, msg_len, COLB_EINVAL, "nothing to save (NULL)");
    if (sink == SINK_BUFFER && !len)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL length output");
    colb_snapshot_writer *w = NULL;
    colb_status st = writer_open(sink, path, f, buf, cap, &w, msg, msg_len);
    if (st != COLB_OK)
        return st;
    if ((st = put(w, obj)) != COLB_OK) {
        colb__say(msg, msg_len, st, "%s", w->err);
        colb_snapshot_writer_abort(w);
        return st;
    }
    return colb_snapshot_writer_commit(w, len, msg, msg_len);
}

/* Open, check that the snapshot holds exactly one object of `kind`, build it. */
static colb_status load_one(int src, const char *path, FILE *f, const void *buf, size_t len,
                            const colb_load_options *opts, int kind, const colb_sim_spec *spec,
                            void *out, char *msg, size_t msg_len)
{
    colb_snapshot_reader *r = NULL;
    void *null = NULL;
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL output pointer");
    memcpy(out, &null, sizeof null); /* out is a T **: NULL on every error */
    colb_status st = reader_open(src, path, f, buf, len, opts, &r, msg, msg_len);
    if (st != COLB_OK)
        return st;
    if (r->n != 1) {
        st = colb__say(msg, msg_len, COLB_EINVAL, "snapshot holds %zu objects, not just %s "
                       "(use colb_snapshot_reader_open)", r->n, KIND_DESC[kind]);
    } else if (kind == COLB_SNAPSHOT_POLICY) {
        st = colb_snapshot_get_policy(r, 0, out);
    } else if (kind == COLB_SNAPSHOT_ENV) {
        st = colb_snapshot_get_env(r, 0, out);
    } else {
        st = colb_snapshot_get_sim(r, 0, spec, out);
    }
    if (st != COLB_OK && r->err[0])
        colb__say(msg, msg_len, st, "%s%s%s", path ? path : "", path ? ": " : "", r->err);
    colb_snapshot_reader_free(r);
    return st;
}

colb_status colb_policy_save(const colb_policy *p, const char *path, char *msg, size_t msg_len)
{
    return save_one(SINK_PATH, path, NULL, NULL, 0, NULL, put_policy, p, msg, msg_len);
}

colb_status colb_policy_save_stream(const colb_policy *p, FILE *f, char *msg, size_t msg_len)
{
    return save_one(SINK_STREAM, NULL, f, NULL, 0, NULL, put_policy, p, msg, msg_len);
}

colb_status colb_policy_save_buffer(const colb_policy *p, void *buf, size_t cap, size_t *len,
                                    char *msg, size_t msg_len)
{
    return save_one(SINK_BUFFER, NULL, NULL, buf, cap, len, put_policy, p, msg, msg_len);
}

colb_status colb_policy_load(const char *path, const colb_load_options *opts, colb_policy **out,
                             char *msg, size_t msg_len)
{
    return load_one(SRC_PATH, path, NULL, NULL, 0, opts, COLB_SNAPSHOT_POLICY, NULL, out, msg, msg_len);
}

colb_status colb_policy_load_stream(FILE *f, const colb_load_options *opts, colb_policy **out,
                                    char *msg, size_t msg_len)
{
    return load_one(SRC_STREAM, NULL, f, NULL, 0, opts, COLB_SNAPSHOT_POLICY, NULL, out, msg, msg_len);
}

colb_status colb_policy_load_buffer(const void *buf, size_t len, const colb_load_options *opts,
                                    colb_policy **out, char *msg, size_t msg_len)
{
    return load_one(SRC_BUFFER, NULL, NULL, buf, len, opts, COLB_SNAPSHOT_POLICY, NULL, out, msg,
                    msg_len);
}

colb_status colb_env_save(const colb_env *e, const char *path, char *msg, size_t msg_len)
{
    return save_one(SINK_PATH, path, NULL, NULL, 0, NULL, put_env, e, msg, msg_len);
}

colb_status colb_env_save_stream(const colb_env *e, FILE *f, char *msg, size_t msg_len)
{
    return save_one(SINK_STREAM, NULL, f, NULL, 0, NULL, put_env, e, msg, msg_len);
}

colb_status colb_env_save_buffer(const colb_env *e, void *buf, size_t cap, size_t *len, char *msg,
                                 size_t msg_len)
{
    return save_one(SINK_BUFFER, NULL, NULL, buf, cap, len, put_env, e, msg, msg_len);
}

colb_status colb_env_load(const char *path, const colb_load_options *opts, colb_env **out,
                          char *msg, size_t msg_len)
{
    return load_one(SRC_PATH, path, NULL, NULL, 0, opts, COLB_SNAPSHOT_ENV, NULL, out, msg, msg_len);
}

colb_status colb_env_load_stream(FILE *f, const colb_load_options *opts, colb_env **out, char *msg,
                                 size_t msg_len)
{
    return load_one(SRC_STREAM, NULL, f, NULL, 0, opts, COLB_SNAPSHOT_ENV, NULL, out, msg, msg_len);
}

colb_status colb_env_load_buffer(const void *buf, size_t len, const colb_load_options *opts,
                                 colb_env **out, char *msg, size_t msg_len)
{
    return load_one(SRC_BUFFER, NULL, NULL, buf, len, opts, COLB_SNAPSHOT_ENV, NULL, out, msg, msg_len);
}

colb_status colb_sim_save(const colb_sim *sim, const char *path, char *msg, size_t msg_len)
{
    return save_one(SINK_PATH, path, NULL, NULL, 0, NULL, put_sim, sim, msg, msg_len);
}

colb_status colb_sim_save_stream(const colb_sim *sim, FILE *f, char *msg, size_t msg_len)
{
    return save_one(SINK_STREAM, NULL, f, NULL, 0, NULL, put_sim, sim, msg, msg_len);
}

colb_status colb_sim_save_buffer(const colb_sim *sim, void *buf, size_t cap, size_t *len,
                                 char *msg, size_t msg_len)
{
    return save_one(SINK_BUFFER, NULL, NULL, buf, cap, len, put_sim, sim, msg, msg_len);
}

colb_status colb_sim_load(const char *path, const colb_sim_spec *spec,
                          const colb_load_options *opts, colb_sim **out, char *msg, size_t msg_len)
{
    return load_one(SRC_PATH, path, NULL, NULL, 0, opts, COLB_SNAPSHOT_SIM, spec, out, msg, msg_len);
}

colb_status colb_sim_load_stream(FILE *f, const colb_sim_spec *spec, const colb_load_options *opts,
                                 colb_sim **out, char *msg, size_t msg_len)
{
    return load_one(SRC_STREAM, NULL, f, NULL, 0, opts, COLB_SNAPSHOT_SIM, spec, out, msg, msg_len);
}

colb_status colb_sim_load_buffer(const void *buf, size_t len, const colb_sim_spec *spec,
                                 const colb_load_options *opts, colb_sim **out, char *msg,
                                 size_t msg_len)
{
    return load_one(SRC_BUFFER, NULL, NULL, buf, len, opts, COLB_SNAPSHOT_SIM, spec, out, msg,
                    msg_len);
}
