/* bank_persist.c - snapshots of the learner banks (see bank_persist.h and
 * docs/format.md, "Banks"). A ridge bank is stored model by model in the
 * logical form of colb__ridge_export: one f64 record of
 * colb__ridge_model_len(d) values and two u64 counters per model. */
#include "policies/bank_persist.h"

#include <limits.h>
#include <string.h>

/* Bytes colb__ridge_init allocates for n models of dimension d. */
static double ridge_bytes(size_t n, size_t d)
{
    double dd = (double)d;
    return 8.0 * ((double)n * (2.0 * dd * dd + 3.0 * dd + 5.0) + dd * dd + dd);
}

static colb_status reserve(colb__snap_in *in, double bytes, const char *what)
{
    return colb__snap_reserve(in, bytes >= 1.8e19 ? UINT64_MAX : (uint64_t)bytes, what);
}

void colb__ridge_save(colb__snap_out *w, const char *name, const colb__ridge *r, size_t m)
{
    size_t d = r->d, len = colb__ridge_model_len(d);
    double *rec = colb__malloc(len, sizeof(double));
    if (!rec) {
        colb__snap_fail(w, COLB_ENOMEM, "out of memory saving '%s'", name);
        return;
    }
    colb__snap_group_begin(w, name);
    colb__snap_u64(w, "models", m);
    colb__snap_u64(w, "dim", d);
    colb__snap_array_begin(w, "real", COLB__SNAP_F64, (uint64_t)m * len);
    for (size_t i = 0; i < m && colb__snap_status(w) == COLB_OK; i++) {
        uint64_t ints[2];
        colb__ridge_export(r, i, rec, ints);
        colb__snap_put_f64s(w, rec, len);
    }
    colb__snap_array_end(w);
    colb__snap_array_begin(w, "counters", COLB__SNAP_U64, (uint64_t)m * 2);
    for (size_t i = 0; i < m && colb__snap_status(w) == COLB_OK; i++) {
        uint64_t ints[2];
        colb__ridge_export(r, i, NULL, ints);
        colb__snap_put_u64(w, ints[0]);
        colb__snap_put_u64(w, ints[1]);
    }
    colb__snap_array_end(w);
    colb__snap_group_end(w);
    free(rec);
}

colb_status colb__ridge_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                             colb__ridge *r, size_t n, size_t d, const colb_learner_params *p,
                             size_t *m_out)
{
    memset(r, 0, sizeof *r);
    colb__snap_group rg;
    colb_status st = colb__snap_get_group(in, g, name, &rg);
    size_t m = 0, dim = 0;
    if (st == COLB_OK)
        st = colb__snap_get_size(in, &rg, "models", m_out ? 0 : n, n, &m);
    if (st == COLB_OK)
        st = colb__snap_get_size(in, &rg, "dim", d, d, &dim);
    if (st != COLB_OK)
        return st;
    if (d == 0 || d > COLB__SNAP_DIM_MAX)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: bank '%s' has dimension %zu", rg.path, d);
    size_t len = colb__ridge_model_len(d);
    colb__snap_field real, ints;
    if ((st = colb__snap_field_of(in, &rg, "real", COLB__SNAP_F64, (uint64_t)m * len, &real)) ||
        (st = colb__snap_field_of(in, &rg, "counters", COLB__SNAP_U64, (uint64_t)m * 2, &ints)) ||
        (st = reserve(in, ridge_bytes(n, d), rg.path)))
        return st;
    if (colb__ridge_init_from(r, n, d, p, m) != COLB_OK)
        return colb__snap_error(in, COLB_ENOMEM, "out of memory for bank '%s'", rg.path);
    double *rec = colb__malloc(len, sizeof(double));
    if (!rec)
        return colb__snap_error(in, COLB_ENOMEM, "out of memory for bank '%s'", rg.path);
    for (size_t i = 0; i < m && st == COLB_OK; i++) {
        colb__snap_f64_copy(&real, (uint64_t)i * len, len, rec);
        uint64_t c[2] = { colb__snap_u64_at(&ints, 2 * (uint64_t)i),
                          colb__snap_u64_at(&ints, 2 * (uint64_t)i + 1) };
        if (!colb__finite(rec, len))
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: model %zu of bank '%s' holds a NaN "
                                  "or infinity", i, rg.path);
        else
            colb__ridge_import(r, i, rec, c);
    }
    free(rec);
    if (st == COLB_OK && m_out)
        *m_out = m;
    return st;
}

void colb__users_save(colb__snap_out *w, const char *name, const colb__users *b)
{
    colb__ridge_save(w, name, &b->r, b->r.n);
}

colb_status colb__users_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                             colb__users *b, size_t N, size_t d, const colb_learner_params *p)
{
    memset(b, 0, sizeof *b);
    return colb__ridge_load(in, g, name, &b->r, N, d, p, NULL);
}

void colb__clusters_save(colb__snap_out *w, const char *name, const colb__clusters *c)
{
    colb__snap_group_begin(w, name);
    colb__snap_u64(w, "groups", c->G);
    colb__snap_u64(w, "pooled", (uint64_t)c->pooled);
    colb__snap_sizes(w, "labels", c->label, c->N);
    colb__ridge_save(w, "models", &c->r, c->G);
    colb__snap_group_end(w);
}

colb_status colb__clusters_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                colb__clusters *c, size_t N, size_t d,
                                const colb_learner_params *p)
{
    memset(c, 0, sizeof *c);
    colb__snap_group cg, mg;
    size_t G = 0, pooled = 0;
    colb_status st = colb__snap_get_group(in, g, name, &cg);
    if (st == COLB_OK)
        st = colb__snap_get_size(in, &cg, "pooled", 0, 1, &pooled);
    if (st == COLB_OK) /* G is believed once its models are found in the file */
        st = colb__snap_get_size(in, &cg, "groups", 1, SIZE_MAX, &G);
    if (st == COLB_OK)
        st = colb__snap_get_group(in, &cg, "models", &mg);
    if (st == COLB_OK) {
        size_t m = 0;
        st = colb__snap_get_size(in, &mg, "models", G, G, &m);
    }
    if (st == COLB_OK && (d == 0 || d > COLB__SNAP_DIM_MAX))
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: bank '%s' has dimension %zu", cg.path, d);
    if (st == COLB_OK) {
        colb__snap_field real;
        st = colb__snap_field_of(in, &mg, "real", COLB__SNAP_F64,
                                 (uint64_t)G * colb__ridge_model_len(d), &real);
    }
    size_t *labels = NULL;
    if (st == COLB_OK && (st = reserve(in, 8.0 * (double)N + 32.0 * (double)G, cg.path)) == COLB_OK) {
        labels = colb__malloc(N, sizeof(size_t));
        st = labels ? colb__snap_get_sizes(in, &cg, "labels", labels, N, G)
                    : colb__snap_error(in, COLB_ENOMEM, "out of memory for '%s'", cg.path);
    }
    if (st == COLB_OK && colb__clusters_init(c, N, d, p, labels, G, (int)pooled) != COLB_OK)
        st = colb__snap_error(in, COLB_ENOMEM, "out of memory for '%s'", cg.path);
    free(labels);
    if (st != COLB_OK)
        return st;
    /* replace the fresh models by the saved ones (same shape) */
    colb__ridge saved;
    st = colb__ridge_load(in, &cg, "models", &saved, G, d, p, NULL);
    if (st == COLB_OK) {
        colb__ridge_free(&c->r);
        c->r = saved;
    } else {
        colb__ridge_free(&saved);
    }
    return st;
}

void colb__alb_save(colb__snap_out *w, const char *name, const colb__alb *a)
{
    colb__snap_group_begin(w, name);
    colb__snap_u64(w, "tau", a->tau);
    colb__snap_u64(w, "restart", (uint64_t)a->restart);
    colb__snap_u64s(w, "steps", a->steps, a->n);
    colb__snap_u64s(w, "epoch_end", a->epoch_end, a->n);
    colb__snap_array_begin(w, "epoch", COLB__SNAP_U64, a->n);
    for (size_t i = 0; i < a->n; i++)
        colb__snap_put_u64(w, a->epoch[i]);
    colb__snap_array_end(w);
    colb__snap_f64s(w, "last_bound", a->last_bound, a->n);
    colb__snap_group_end(w);
}

colb_status colb__alb_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                           colb__alb *a, size_t n, size_t d)
{
    memset(a, 0, sizeof *a);
    colb__snap_group ag;
    colb__snap_field f;
    uint64_t tau = 0;
    size_t restart = 0;
    colb_status st = colb__snap_get_group(in, g, name, &ag);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, &ag, "tau", &tau);
    if (st == COLB_OK && tau == 0)
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: '%s.tau' is 0", ag.path);
    if (st == COLB_OK)
        st = colb__snap_get_size(in, &ag, "restart", 0, 1, &restart);
    if (st == COLB_OK) /* n is believed once the arrays are there */
        st = colb__snap_field_of(in, &ag, "epoch", COLB__SNAP_U64, n, &f);
    if (st == COLB_OK)
        st = reserve(in, 36.0 * (double)n + 8.0 * (4.0 * (double)d * (double)d), ag.path);
    if (st == COLB_OK && colb__alb_init(a, n, d, tau, (int)restart) != COLB_OK)
        st = colb__snap_error(in, COLB_ENOMEM, "out of memory for '%s'", ag.path);
    if (st == COLB_OK)
        st = colb__snap_get_u64s(in, &ag, "steps", a->steps, n);
    if (st == COLB_OK)
        st = colb__snap_get_u64s(in, &ag, "epoch_end", a->epoch_end, n);
    if (st == COLB_OK)
        st = colb__snap_get_f64s(in, &ag, "last_bound", a->last_bound, n, 1);
    for (size_t i = 0; st == COLB_OK && i < n; i++) {
        uint64_t e = colb__snap_u64_at(&f, i);
        if (e > UINT_MAX)
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: '%s.epoch'[%zu] = %llu is too large",
                                  ag.path, i, (unsigned long long)e);
        else
            a->epoch[i] = (unsigned)e;
    }
    return st;
}
