/* dataset.c - colb_dataset (colb/dataset.h): items with feature vectors and
 * users with sorted lists of positive items (CSR layout), the general
 * two-file text loader and writer (format in docs/data.md), and the choice of
 * the most active users. */
#include "colb/dataset.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <xxhash.h>

#include "colb/limits.h"
#include "core/atomic_file.h"
#include "core/memory.h"
#include "core/util.h"
#include "data/textio.h"

struct colb_dataset {
    size_t n_items, dim, n_users, n_pos;
    uint64_t *item_ids;   /* n_items */
    double *features;     /* n_items * dim, row-major */
    uint64_t *user_ids;   /* n_users */
    size_t *pos_ptr;      /* n_users + 1 */
    size_t *pos_items;    /* n_pos, strictly increasing within a user */
    size_t *item_by_id;   /* item indices sorted by id */
    size_t *user_by_id;   /* user indices sorted by id */
};

/* ---- small helpers ------------------------------------------------------- */


static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Indices 0..n-1 sorted by ids[]; *dup receives the index of an id that
 * occurs twice (or n when all are distinct). NULL on ENOMEM. */
static size_t *sort_by_id(const uint64_t *ids, size_t n, size_t *dup)
{
    colb__pair *t = colb__malloc(n, sizeof *t);
    size_t *order = colb__malloc(n, sizeof *order);
    if (!t || !order) {
        free(t);
        free(order);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        t[i].id = ids[i];
        t[i].idx = i;
    }
    qsort(t, n, sizeof *t, colb__pair_cmp);
    *dup = n;
    for (size_t i = 0; i < n; i++) {
        order[i] = t[i].idx;
        if (i && t[i].id == t[i - 1].id && *dup == n)
            *dup = t[i].idx;
    }
    free(t);
    return order;
}

static int find_by_id(const uint64_t *ids, const size_t *order, size_t n, uint64_t id, size_t *index)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t v = ids[order[mid]];
        if (v < id)
            lo = mid + 1;
        else if (v > id)
            hi = mid;
        else {
            *index = order[mid];
            return 1;
        }
    }
    return 0;
}

/* The id index of n ids (sort_by_id) into *out; a repeated id is an error
 * naming `what`. */
static colb_status index_ids(const uint64_t *ids, size_t n, const char *what, size_t **out,
                             char *msg, size_t msg_len)
{
    size_t dup;
    *out = sort_by_id(ids, n, &dup);
    if (!*out)
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    if (dup != n)
        return colb__say(msg, msg_len, COLB_EINVAL, "duplicate %s id %" PRIu64, what, ids[dup]);
    return COLB_OK;
}

/* ---- creation and access -------------------------------------------------- */

void colb_dataset_free(colb_dataset *ds)
{
    if (!ds)
        return;
    free(ds->item_ids);
    free(ds->features);
    free(ds->user_ids);
    free(ds->pos_ptr);
    free(ds->pos_items);
    free(ds->item_by_id);
    free(ds->user_by_id);
    free(ds);
}

colb_status colb_dataset_create(size_t n_items, size_t dim, const uint64_t *item_ids,
                                const double *features, size_t n_users, const uint64_t *user_ids,
                                const size_t *pos_ptr, const size_t *pos_items,
                                colb_dataset **out, char *msg, size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL output pointer");
    *out = NULL;
    if (!item_ids || !features || !user_ids || !pos_ptr)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL array argument");
    if (n_items == 0 || dim == 0 || n_users == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "n_items, dim and n_users must be >= 1");
    if (dim > COLB_DIM_MAX) /* as every policy's dim (colb/limits.h) */
        return colb__say(msg, msg_len, COLB_ERANGE, "dim = %zu exceeds %u", dim, COLB_DIM_MAX);
    if (n_items > SIZE_MAX / dim / sizeof(double))
        return colb__say(msg, msg_len, COLB_ENOMEM, "n_items * dim is too large");
    if (pos_ptr[0] != 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "pos_ptr[0] must be 0");
    for (size_t u = 0; u < n_users; u++)
        if (pos_ptr[u + 1] < pos_ptr[u])
            return colb__say(msg, msg_len, COLB_EINVAL, "pos_ptr decreases at user index %zu", u);
    size_t P = pos_ptr[n_users];
    if (P && !pos_items)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL pos_items");
    for (size_t j = 0; j < P; j++)
        if (pos_items[j] >= n_items)
            return colb__say(msg, msg_len, COLB_EINVAL,
                             "pos_items[%zu] = %zu is not an item index (n_items = %zu)", j,
                             pos_items[j], n_items);
    for (size_t i = 0; i < n_items; i++) {
        const double *x = features + i * dim;
        if (!colb__finite(x, dim))
            return colb__say(msg, msg_len, COLB_ENONFIN,
                             "features of item index %zu (id %" PRIu64 ") are not finite", i,
                             item_ids[i]);
        for (size_t j = 0; j < dim; j++) /* every context a policy takes is within it */
            if (fabs(x[j]) > COLB_CONTEXT_MAX)
                return colb__say(msg, msg_len, COLB_ERANGE,
                                 "feature %zu of item index %zu (id %" PRIu64 ") is %s, beyond +-%g",
                                 j, i, item_ids[i], colb__num((char[32]){ 0 }, x[j]), COLB_CONTEXT_MAX);
    }

    colb_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    ds->n_items = n_items;
    ds->dim = dim;
    ds->n_users = n_users;
    ds->item_ids = colb__malloc(n_items, sizeof(uint64_t));
    ds->features = colb__malloc(n_items * dim, sizeof(double));
    ds->user_ids = colb__malloc(n_users, sizeof(uint64_t));
    ds->pos_ptr = colb__malloc(n_users + 1, sizeof(size_t));
    ds->pos_items = colb__malloc(P, sizeof(size_t));
    if (!ds->item_ids || !ds->features || !ds->user_ids || !ds->pos_ptr || !ds->pos_items) {
        colb_dataset_free(ds);
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    }
    memcpy(ds->item_ids, item_ids, n_items * sizeof(uint64_t));
    memcpy(ds->features, features, n_items * dim * sizeof(double));
    memcpy(ds->user_ids, user_ids, n_users * sizeof(uint64_t));

    /* Sort and merge each user's positives. */
    size_t w = 0;
    ds->pos_ptr[0] = 0;
    for (size_t u = 0; u < n_users; u++) {
        size_t b = w, n = pos_ptr[u + 1] - pos_ptr[u];
        if (n) /* pos_items may be NULL when there are no positives at all */
            memcpy(ds->pos_items + b, pos_items + pos_ptr[u], n * sizeof(size_t));
        qsort(ds->pos_items + b, n, sizeof(size_t), cmp_size);
        for (size_t j = 0; j < n; j++)
            if (j == 0 || ds->pos_items[b + j] != ds->pos_items[w - 1])
                ds->pos_items[w++] = ds->pos_items[b + j];
        ds->pos_ptr[u + 1] = w;
    }
    ds->n_pos = w;

    colb_status st = index_ids(item_ids, n_items, "item", &ds->item_by_id, msg, msg_len);
    if (st == COLB_OK)
        st = index_ids(user_ids, n_users, "user", &ds->user_by_id, msg, msg_len);
    if (st != COLB_OK) {
        colb_dataset_free(ds);
        return st;
    }
    *out = ds;
    return COLB_OK;
}

size_t colb_dataset_users(const colb_dataset *ds) { return ds ? ds->n_users : 0; }
size_t colb_dataset_items(const colb_dataset *ds) { return ds ? ds->n_items : 0; }
size_t colb_dataset_dim(const colb_dataset *ds) { return ds ? ds->dim : 0; }
size_t colb_dataset_n_positives(const colb_dataset *ds) { return ds ? ds->n_pos : 0; }
const double *colb_dataset_features(const colb_dataset *ds) { return ds ? ds->features : NULL; }

size_t colb_dataset_positives(const colb_dataset *ds, size_t u, const size_t **items)
{
    if (!ds || u >= ds->n_users) {
        if (items)
            *items = NULL;
        return 0;
    }
    if (items)
        *items = ds->pos_items + ds->pos_ptr[u];
    return ds->pos_ptr[u + 1] - ds->pos_ptr[u];
}

int colb_dataset_is_positive(const colb_dataset *ds, size_t u, size_t i)
{
    if (!ds || u >= ds->n_users || i >= ds->n_items)
        return 0;
    size_t lo = ds->pos_ptr[u], hi = ds->pos_ptr[u + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t v = ds->pos_items[mid];
        if (v < i)
            lo = mid + 1;
        else if (v > i)
            hi = mid;
        else
            return 1;
    }
    return 0;
}

uint64_t colb_dataset_item_id(const colb_dataset *ds, size_t i)
{
    return ds && i < ds->n_items ? ds->item_ids[i] : UINT64_MAX;
}

uint64_t colb_dataset_user_id(const colb_dataset *ds, size_t u)
{
    return ds && u < ds->n_users ? ds->user_ids[u] : UINT64_MAX;
}

colb_status colb_dataset_item_index(const colb_dataset *ds, uint64_t id, size_t *index)
{
    if (!ds || !index)
        return COLB_EINVAL;
    return find_by_id(ds->item_ids, ds->item_by_id, ds->n_items, id, index) ? COLB_OK
                                                                           : COLB_ENOTFOUND;
}

colb_status colb_dataset_user_index(const colb_dataset *ds, uint64_t id, size_t *index)
{
    if (!ds || !index)
        return COLB_EINVAL;
    return find_by_id(ds->user_ids, ds->user_by_id, ds->n_users, id, index) ? COLB_OK
                                                                           : COLB_ENOTFOUND;
}

typedef struct user_rank {
    size_t count;
    uint64_t id;
    size_t u;
} user_rank;

static int cmp_rank(const void *a, const void *b)
{
    const user_rank *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

colb_status colb_dataset_top_users(const colb_dataset *ds, size_t M, colb_dataset **out)
{
    if (!out)
        return COLB_EINVAL;
    *out = NULL;
    if (!ds)
        return COLB_EINVAL;
    if (M == 0 || M > ds->n_users)
        return COLB_ERANGE;
    user_rank *r = colb__malloc(ds->n_users, sizeof *r);
    uint64_t *ids = colb__malloc(M, sizeof *ids);
    size_t *ptr = colb__malloc(M + 1, sizeof *ptr);
    if (!r || !ids || !ptr) {
        free(r);
        free(ids);
        free(ptr);
        return COLB_ENOMEM;
    }
    for (size_t u = 0; u < ds->n_users; u++) {
        r[u].count = ds->pos_ptr[u + 1] - ds->pos_ptr[u];
        r[u].id = ds->user_ids[u];
        r[u].u = u;
    }
    qsort(r, ds->n_users, sizeof *r, cmp_rank);
    ptr[0] = 0;
    for (size_t m = 0; m < M; m++) {
        ids[m] = r[m].id;
        ptr[m + 1] = ptr[m] + r[m].count;
    }
    size_t *items = colb__malloc(ptr[M], sizeof *items);
    colb_status s = COLB_ENOMEM;
    if (items) {
        for (size_t m = 0; m < M; m++)
            memcpy(items + ptr[m], ds->pos_items + ds->pos_ptr[r[m].u], r[m].count * sizeof(size_t));
        s = colb_dataset_create(ds->n_items, ds->dim, ds->item_ids, ds->features, M, ids, ptr, items,
                                out, NULL, 0);
    }
    free(items);
    free(r);
    free(ids);
    free(ptr);
    return s;
}

/* ---- the general text format ------------------------------------------- */

/* An open-addressing map from ids to indices, sized once for at most `cap`
 * keys (load factor <= 1/2). */
typedef struct idmap {
    uint64_t *keys;
    size_t *vals; /* SIZE_MAX = empty */
    size_t mask;
} idmap;

static int idmap_init(idmap *m, size_t cap)
{
    size_t n = 16;
    while (n < 2 * cap + 1)
        n *= 2;
    m->mask = n - 1;
    m->keys = colb__malloc(n, sizeof(uint64_t));
    m->vals = colb__malloc(n, sizeof(size_t));
    if (!m->keys || !m->vals) {
        free(m->keys);
        free(m->vals);
        m->keys = NULL;
        m->vals = NULL;
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        m->vals[i] = SIZE_MAX;
    return 0;
}

static void idmap_free(idmap *m)
{
    free(m->keys);
    free(m->vals);
}

static size_t idmap_slot(const idmap *m, uint64_t key)
{
    uint64_t h = key;
    h = (h ^ (h >> 33)) * UINT64_C(0xff51afd7ed558ccd);
    h = (h ^ (h >> 33)) * UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    size_t i = (size_t)h & m->mask;
    while (m->vals[i] != SIZE_MAX && m->keys[i] != key)
        i = (i + 1) & m->mask;
    return i;
}

/* Value for key, or SIZE_MAX. */
static size_t idmap_get(const idmap *m, uint64_t key)
{
    return m->vals[idmap_slot(m, key)];
}

/* Insert; returns the existing value when the key was present, else SIZE_MAX. */
static size_t idmap_put(idmap *m, uint64_t key, size_t val)
{
    size_t i = idmap_slot(m, key);
    if (m->vals[i] != SIZE_MAX)
        return m->vals[i];
    m->keys[i] = key;
    m->vals[i] = val;
    return SIZE_MAX;
}

static char detect_sep(const char *line)
{
    if (strchr(line, '\t'))
        return '\t';
    if (strchr(line, ','))
        return ',';
    return '\t';
}

/* Copy at most 40 characters of s for quoting in a message. */
static const char *quote(const char *s, char buf[48])
{
    size_t n = strlen(s);
    if (n > 40) {
        memcpy(buf, s, 37);
        memcpy(buf + 37, "...", 4);
    } else {
        memcpy(buf, s, n + 1);
    }
    return buf;
}

typedef struct feat_file {
    size_t n, dim;
    uint64_t *ids;
    double *x;
    idmap map;
} feat_file;

static void feat_file_free(feat_file *f)
{
    free(f->ids);
    free(f->x);
    idmap_free(&f->map);
    memset(f, 0, sizeof *f);
}

static colb_status parse_features(const char *path, size_t max_memory, feat_file *f, char *msg,
                                  size_t msg_len)
{
    memset(f, 0, sizeof *f);
    char *buf;
    size_t len;
    colb_status s = colb__read_text(path, colb__budget(max_memory) / COLB__LOAD_FACTOR, &buf, &len, msg,
                                    msg_len);
    if (s != COLB_OK)
        return s;
    size_t max_lines = colb__count_data_lines(buf, len);
    char **fields = NULL;
    size_t cap_rows = max_lines;
    size_t *first_line = colb__malloc(max_lines, sizeof(size_t)); /* line of each item */
    f->ids = colb__malloc(max_lines, sizeof(uint64_t));
    if (!first_line || !f->ids || idmap_init(&f->map, max_lines) != 0) {
        s = colb__say(msg, msg_len, COLB_ENOMEM, "out of memory reading '%s'", path);
        goto done;
    }

    colb__lines it;
    colb__lines_init(&it, buf, len);
    char *line, sep = 0;
    int seen_content = 0;
    char qb[48];
    while ((line = colb__lines_next(&it)) != NULL) {
        if (colb__line_skip(line))
            continue;
        if (!seen_content) {
            seen_content = 1;
            if (!colb__first_field_numeric(line, "\t,"))
                continue; /* header */
        }
        if (!sep) {
            sep = detect_sep(line);
            size_t nf = 1;
            for (const char *c = line; *c; c++)
                nf += *c == sep;
            if (nf < 2) {
                s = colb__say(msg, msg_len, COLB_EPARSE,
                              "%s:%zu: expected an item id followed by at least one feature "
                              "(tab- or comma-separated), found 1 field (d = 0)",
                              path, it.lineno);
                goto done;
            }
            f->dim = nf - 1;
            if (f->dim > COLB_DIM_MAX) { /* as colb_dataset_create, before any row is allocated */
                s = colb__say(msg, msg_len, COLB_EPARSE,
                              "%s:%zu: expected at most %u features per item (colb/limits.h), found %zu",
                              path, it.lineno, COLB_DIM_MAX, f->dim);
                goto done;
            }
            /* a row of d features takes at least 2 (d + 1) bytes of the
             * file, which bounds the rows to allocate */
            if (cap_rows > len / (2 * nf) + 1)
                cap_rows = len / (2 * nf) + 1;
            char what[320];
            snprintf(what, sizeof what, "'%.200s' (%zu features per item, up to %zu items)", path, f->dim,
                     cap_rows);
            s = colb__budget_check((double)cap_rows * (double)f->dim * 8.0 + (double)nf * 8.0 + (double)len,
                                   max_memory, what, msg, msg_len);
            if (s != COLB_OK)
                goto done;
            fields = colb__malloc(nf, sizeof(char *));
            f->x = colb__malloc(cap_rows, f->dim * sizeof(double));
            if (!fields || !f->x || f->dim > SIZE_MAX / sizeof(double)) {
                s = colb__say(msg, msg_len, COLB_ENOMEM, "out of memory reading '%s'", path);
                goto done;
            }
        }
        size_t nf = colb__split(line, sep, fields, f->dim + 1);
        if (nf != f->dim + 1) {
            s = colb__say(msg, msg_len, COLB_EPARSE,
                          "%s:%zu: expected %zu %s-separated fields (item id and %zu features, as "
                          "on line %zu), found %zu",
                          path, it.lineno, f->dim + 1, sep == '\t' ? "tab" : "comma", f->dim,
                          f->n ? first_line[0] : it.lineno, nf);
            goto done;
        }
        uint64_t id;
        if (colb__parse_u64(fields[0], &id) != 0) {
            s = colb__say(msg, msg_len, COLB_EPARSE,
                          "%s:%zu: expected a non-negative integer item id in field 1, found '%s'",
                          path, it.lineno, quote(fields[0], qb));
            goto done;
        }
        double *x = f->x + f->n * f->dim;
        for (size_t j = 0; j < f->dim; j++) {
            int r = colb__parse_double(fields[j + 1], &x[j]);
            if (r < 0) {
                s = colb__say(msg, msg_len, COLB_EPARSE,
                              "%s:%zu: expected a number in field %zu (feature %zu), found '%s'",
                              path, it.lineno, j + 2, j + 1, quote(fields[j + 1], qb));
                goto done;
            }
            if (r > 0) {
                s = colb__say(msg, msg_len, COLB_EPARSE,
                              "%s:%zu: expected a finite number in field %zu (feature %zu), "
                              "found '%s'",
                              path, it.lineno, j + 2, j + 1, quote(fields[j + 1], qb));
                goto done;
            }
            if (fabs(x[j]) > COLB_CONTEXT_MAX) { /* every context a policy takes is within it */
                s = colb__say(msg, msg_len, COLB_EPARSE,
                              "%s:%zu: expected a number within +-%g in field %zu (feature %zu), "
                              "found '%s'",
                              path, it.lineno, COLB_CONTEXT_MAX, j + 2, j + 1, quote(fields[j + 1], qb));
                goto done;
            }
        }
        size_t prev = idmap_put(&f->map, id, f->n);
        if (prev != SIZE_MAX) {
            s = colb__say(msg, msg_len, COLB_EPARSE,
                          "%s:%zu: expected a new item id, found %" PRIu64
                          " again (first on line %zu)",
                          path, it.lineno, id, first_line[prev]);
            goto done;
        }
        f->ids[f->n] = id;
        first_line[f->n] = it.lineno;
        f->n++;
    }
    if (f->n == 0)
        s = colb__say(msg, msg_len, COLB_EPARSE,
                      "%s:%zu: expected at least one data line (item id and features), found none",
                      path, it.lineno ? it.lineno : 1);
done:
    free(first_line);
    free(fields);
    free(buf);
    if (s != COLB_OK)
        feat_file_free(f);
    return s;
}

static colb_status parse_positives(const char *path, const char *fpath, const feat_file *f,
                                   size_t max_memory, colb__pair **pairs, size_t *n_pairs, char *msg,
                                   size_t msg_len)
{
    *pairs = NULL;
    *n_pairs = 0;
    char *buf;
    size_t len;
    colb_status s = colb__read_text(path, colb__budget(max_memory) / COLB__LOAD_FACTOR, &buf, &len, msg,
                                    msg_len);
    if (s != COLB_OK)
        return s;
    colb__pair *pr = colb__malloc(colb__count_data_lines(buf, len), sizeof *pr);
    if (!pr) {
        free(buf);
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory reading '%s'", path);
    }
    size_t n = 0;
    colb__lines it;
    colb__lines_init(&it, buf, len);
    char *line, sep = 0, qb[48];
    int seen_content = 0;
    while ((line = colb__lines_next(&it)) != NULL) {
        if (colb__line_skip(line))
            continue;
        if (!seen_content) {
            seen_content = 1;
            if (!colb__first_field_numeric(line, "\t,"))
                continue;
        }
        if (!sep)
            sep = detect_sep(line);
        char *fl[2];
        size_t nf = colb__split(line, sep, fl, 2);
        if (nf != 2) {
            s = colb__say(msg, msg_len, COLB_EPARSE,
                          "%s:%zu: expected 2 %s-separated fields (user id, item id), found %zu",
                          path, it.lineno, sep == '\t' ? "tab" : "comma", nf);
            break;
        }
        uint64_t uid, iid;
        if (colb__parse_u64(fl[0], &uid) != 0) {
            s = colb__say(msg, msg_len, COLB_EPARSE,
                          "%s:%zu: expected a non-negative integer user id in field 1, found '%s'",
                          path, it.lineno, quote(fl[0], qb));
            break;
        }
        if (colb__parse_u64(fl[1], &iid) != 0) {
            s = colb__say(msg, msg_len, COLB_EPARSE,
                          "%s:%zu: expected a non-negative integer item id in field 2, found '%s'",
                          path, it.lineno, quote(fl[1], qb));
            break;
        }
        size_t idx = idmap_get(&f->map, iid);
        if (idx == SIZE_MAX) {
            s = colb__say(msg, msg_len, COLB_EPARSE,
                          "%s:%zu: expected an item id listed in '%s', found unknown id %" PRIu64,
                          path, it.lineno, fpath, iid);
            break;
        }
        pr[n].id = uid;
        pr[n].idx = idx;
        n++;
    }
    if (s == COLB_OK && n == 0)
        s = colb__say(msg, msg_len, COLB_EPARSE,
                      "%s:%zu: expected at least one data line (user id, item id), found none",
                      path, it.lineno ? it.lineno : 1);
    free(buf);
    if (s != COLB_OK) {
        free(pr);
        return s;
    }
    *pairs = pr;
    *n_pairs = n;
    return COLB_OK;
}

colb_status colb__dataset_from_pairs(size_t n_items, size_t dim, const uint64_t *item_ids,
                                     const double *features, colb__pair *pairs, size_t np,
                                     colb_dataset **out, char *msg, size_t msg_len)
{
    /* Users by increasing id, their items sorted (create merges duplicates). */
    qsort(pairs, np, sizeof *pairs, colb__pair_cmp);
    size_t n_users = 0;
    for (size_t j = 0; j < np; j++)
        n_users += j == 0 || pairs[j].id != pairs[j - 1].id;
    uint64_t *uids = colb__malloc(n_users, sizeof *uids);
    size_t *ptr = colb__malloc(n_users + 1, sizeof *ptr);
    size_t *items = colb__malloc(np, sizeof *items);
    colb_status s;
    if (!uids || !ptr || !items) {
        s = colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    } else {
        size_t u = 0;
        ptr[0] = 0;
        for (size_t j = 0; j < np; j++) {
            if (j > 0 && pairs[j].id != pairs[j - 1].id)
                ptr[++u] = j;
            uids[u] = pairs[j].id;
            items[j] = pairs[j].idx;
        }
        ptr[n_users] = np;
        s = colb_dataset_create(n_items, dim, item_ids, features, n_users, uids, ptr, items, out,
                                msg, msg_len);
    }
    free(uids);
    free(ptr);
    free(items);
    return s;
}

colb_status colb_dataset_load(const char *features_path, const char *positives_path,
                              colb_dataset **out, char *msg, size_t msg_len)
{
    return colb_dataset_load_ex(features_path, positives_path, 0, out, msg, msg_len);
}

colb_status colb_dataset_load_ex(const char *features_path, const char *positives_path,
                                 size_t max_memory, colb_dataset **out, char *msg, size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL output pointer");
    *out = NULL;
    if (!features_path || !positives_path)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL path");
    colb_status bs = colb__budget_range(max_memory, "dataset_load", msg, msg_len);
    if (bs != COLB_OK)
        return bs;
    feat_file f;
    colb_status s = parse_features(features_path, max_memory, &f, msg, msg_len);
    if (s != COLB_OK)
        return s;
    colb__pair *pr;
    size_t n;
    s = parse_positives(positives_path, features_path, &f, max_memory, &pr, &n, msg, msg_len);
    if (s != COLB_OK) {
        feat_file_free(&f);
        return s;
    }
    s = colb__dataset_from_pairs(f.n, f.dim, f.ids, f.x, pr, n, out, msg, msg_len);
    free(pr);
    feat_file_free(&f);
    return s;
}

/* A text file written through the atomic writer (core/atomic_file.h):
 * its stream in t->f. */
static colb_status text_file_open(colb__afile *t, const char *path, char *msg, size_t msg_len)
{
    colb_status s = colb__afile_open(t, path, msg, msg_len);
    if (s == COLB_OK && !colb__afile_stream(t)) {
        colb__afile_abort(t);
        s = colb__say(msg, msg_len, COLB_ENOMEM, "out of memory writing '%s'", path);
    }
    return s;
}

colb_status colb_dataset_write(const colb_dataset *ds, const char *features_path,
                               const char *positives_path, char *msg, size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!ds || !features_path || !positives_path)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL argument");
    /* both temporaries first: a folder that cannot take one of them fails
     * the call before either file is replaced */
    colb__afile t, tp;
    colb_status s = text_file_open(&t, features_path, msg, msg_len);
    if (s != COLB_OK)
        return s;
    s = text_file_open(&tp, positives_path, msg, msg_len);
    if (s != COLB_OK) {
        colb__afile_abort(&t);
        return s;
    }
    fputs("item_id", t.f);
    for (size_t j = 0; j < ds->dim; j++)
        fprintf(t.f, "\tf%zu", j + 1);
    fputc('\n', t.f);
    for (size_t i = 0; i < ds->n_items; i++) {
        fprintf(t.f, "%" PRIu64, ds->item_ids[i]);
        const double *x = ds->features + i * ds->dim;
        for (size_t j = 0; j < ds->dim; j++)
            fprintf(t.f, "\t%.17g", x[j]);
        fputc('\n', t.f);
    }
    fputs("user_id\titem_id\n", tp.f);
    for (size_t u = 0; u < ds->n_users; u++)
        for (size_t j = ds->pos_ptr[u]; j < ds->pos_ptr[u + 1]; j++)
            fprintf(tp.f, "%" PRIu64 "\t%" PRIu64 "\n", ds->user_ids[u],
                    ds->item_ids[ds->pos_items[j]]);
    s = colb__afile_commit(&t, msg, msg_len);
    if (s != COLB_OK) {
        colb__afile_abort(&tp);
        return s;
    }
    return colb__afile_commit(&tp, msg, msg_len);
}

/* ---- fingerprint ---------------------------------------------------------- */

static void hash_u64s(XXH3_state_t *h, const uint64_t *v, size_t n)
{
    unsigned char b[8 * 64];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < 64 && i < n; k++, i++)
            for (int j = 0; j < 8; j++)
                b[8 * k + (size_t)j] = (unsigned char)(v[i] >> (8 * j));
        XXH3_64bits_update(h, b, 8 * k);
    }
}

static void hash_sizes(XXH3_state_t *h, const size_t *v, size_t n)
{
    uint64_t buf[64];
    for (size_t i = 0; i < n; i += 64) {
        size_t k = n - i < 64 ? n - i : 64;
        for (size_t j = 0; j < k; j++)
            buf[j] = v[i + j];
        hash_u64s(h, buf, k);
    }
}

uint64_t colb_dataset_fingerprint(const colb_dataset *ds)
{
    if (!ds)
        return 0;
    XXH3_state_t *h = XXH3_createState();
    if (!h || XXH3_64bits_reset(h) != XXH_OK) {
        XXH3_freeState(h);
        return 0;
    }
    uint64_t dims[4] = { ds->n_items, ds->dim, ds->n_users, ds->n_pos };
    hash_u64s(h, dims, 4);
    hash_u64s(h, ds->item_ids, ds->n_items);
    hash_u64s(h, ds->user_ids, ds->n_users);
    size_t nf = ds->n_items * ds->dim;
    for (size_t i = 0; i < nf; i += 64) { /* doubles by their bit patterns */
        uint64_t buf[64];
        size_t k = nf - i < 64 ? nf - i : 64;
        memcpy(buf, ds->features + i, k * sizeof(double));
        hash_u64s(h, buf, k);
    }
    hash_sizes(h, ds->pos_ptr, ds->n_users + 1);
    hash_sizes(h, ds->pos_items, ds->n_pos);
    uint64_t v = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return v;
}
