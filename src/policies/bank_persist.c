/* bank_persist.c - snapshots of the learner banks (see bank_persist.h and
 * docs/format.md, "Banks"). A ridge bank is stored model by model in the
 * logical form of colb__ridge_export: one f64 record of
 * colb__ridge_model_len(d) values and two u64 counters per model; the user
 * bank likewise in the form of colb__soa_export (no V: the compact bank has
 * none). */
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

/* How a bank gives model i's logical record; real NULL: the counters only. */
typedef void (*export_fn)(const void *bank, size_t i, double *real, uint64_t *ints);

/* 1 when every value of the record is within COLB__SNAP_MODEL_MAX (so
 * finite); one branch-free pass, which the compiler vectorises. */
static int within(const double *rec, size_t len)
{
    int ok = 1;
    for (size_t j = 0; j < len; j++)
        ok &= fabs(rec[j]) <= COLB__SNAP_MODEL_MAX;
    return ok;
}

/* The group `name` of m models of dimension d: models, dim, theta0 (when
 * not NULL: one prior mean for the bank), real (m records of len values)
 * and counters (nints per model). */
static void save_bank(colb__snap_out *w, const char *name, const void *bank, export_fn f, size_t m,
                      size_t d, size_t len, size_t nints, const double *theta0)
{
    double *rec = colb__malloc(len, sizeof(double));
    if (!rec) {
        colb__snap_fail(w, COLB_ENOMEM, "out of memory saving '%s'", name);
        return;
    }
    uint64_t ints[2];
    colb__snap_group_begin(w, name);
    colb__snap_u64(w, "models", m);
    colb__snap_u64(w, "dim", d);
    if (theta0)
        colb__snap_f64s(w, "theta0", theta0, d);
    if (colb__snap_counting(w)) { /* a size query: the records' sizes alone */
        colb__snap_array_begin(w, "real", COLB__SNAP_F64, (uint64_t)m * len);
        colb__snap_skip(w, COLB__SNAP_F64, (uint64_t)m * len);
        colb__snap_array_end(w);
        colb__snap_array_begin(w, "counters", COLB__SNAP_U64, (uint64_t)m * nints);
        colb__snap_skip(w, COLB__SNAP_U64, (uint64_t)m * nints);
        colb__snap_array_end(w);
        colb__snap_group_end(w);
        free(rec);
        return;
    }
    colb__snap_array_begin(w, "real", COLB__SNAP_F64, (uint64_t)m * len);
    for (size_t i = 0; i < m && colb__snap_status(w) == COLB_OK; i++) {
        double *out = colb__snap_f64_slot(w, len); /* exported in place, else copied from rec */
        f(bank, i, out ? out : rec, ints);
        /* what a load refuses is not written: a model past it is a
         * numerical failure (an ill-conditioned stream at the edges of
         * colb/limits.h broke Sherman-Morrison), not a state to resume */
        if (!within(out ? out : rec, len)) {
            colb__snap_fail(w, COLB_ENUMERIC, "model %zu of bank '%s' holds a value beyond +-1e100 or not "
                            "finite: the policy failed numerically, and its state cannot be saved", i, name);
            break;
        }
        if (!out)
            colb__snap_put_f64s(w, rec, len);
    }
    colb__snap_array_end(w);
    colb__snap_array_begin(w, "counters", COLB__SNAP_U64, (uint64_t)m * nints);
    for (size_t i = 0; i < m && colb__snap_status(w) == COLB_OK; i++) {
        f(bank, i, NULL, ints);
        for (size_t k = 0; k < nints; k++)
            colb__snap_put_u64(w, ints[k]);
    }
    colb__snap_array_end(w);
    colb__snap_group_end(w);
    free(rec);
}

static void ridge_record(const void *bank, size_t i, double *real, uint64_t *ints)
{
    colb__ridge_export(bank, i, real, ints);
}

void colb__ridge_save(colb__snap_out *w, const char *name, const colb__ridge *r, size_t m)
{
    save_bank(w, name, r, ridge_record, m, r->d, colb__ridge_model_len(r->d), 2, NULL);
}

/* The head of the bank group `name` in g: the group (*bg), models in
 * [lo, hi] (*m), dim == d, and the arrays real (m records of
 * len_of(d) values) and counters (nints per model) in the file. */
static colb_status bank_head(colb__snap_in *in, const colb__snap_group *g, const char *name,
                             size_t lo, size_t hi, size_t d, size_t (*len_of)(size_t), size_t nints,
                             colb__snap_group *bg, size_t *m, colb__snap_field *real,
                             colb__snap_field *ints)
{
    size_t dim = 0;
    colb_status st = colb__snap_get_group(in, g, name, bg);
    if (st == COLB_OK)
        st = colb__snap_get_size(in, bg, "models", lo, hi, m);
    if (st == COLB_OK)
        st = colb__snap_get_size(in, bg, "dim", d, d, &dim);
    if (st != COLB_OK)
        return st;
    if (d == 0 || d > COLB__SNAP_DIM_MAX)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: bank '%s' has dimension %zu", bg->path, d);
    if ((st = colb__snap_field_of(in, bg, "real", COLB__SNAP_F64, (uint64_t)*m * len_of(d), real)))
        return st;
    return colb__snap_field_of(in, bg, "counters", COLB__SNAP_U64, (uint64_t)*m * nints, ints);
}

/* Model i's record (len values, finite) and counters into a bank; returns
 * NULL, or what is wrong with the record. */
typedef const char *(*import_fn)(void *bank, size_t i, double *real, const uint64_t *ints);

/* Models [0, m) of a bank from the arrays bank_head found; every record
 * (logical form, either bank's: its last two values are the noise scale R
 * and the norm bound S) finite, within COLB__SNAP_MODEL_MAX, R, S >= 0. */
static colb_status load_records(colb__snap_in *in, const char *path, const colb__snap_field *real,
                                const colb__snap_field *ints, size_t m, size_t len, size_t nints,
                                void *bank, import_fn f)
{
    colb_status st = COLB_OK;
    double *rec = colb__malloc(len, sizeof(double));
    if (!rec)
        return colb__snap_error(in, COLB_ENOMEM, "out of memory for bank '%s'", path);
    for (size_t i = 0; i < m && st == COLB_OK; i++) {
        uint64_t c[2];
        colb__snap_f64_copy(real, (uint64_t)i * len, len, rec);
        for (size_t k = 0; k < nints; k++)
            c[k] = colb__snap_u64_at(ints, nints * (uint64_t)i + k);
        const char *bad = !colb__finite(rec, len) ? "holds a NaN or infinity"
                        : !within(rec, len) ? "holds a value beyond +-1e100 (no learner's state)"
                        : rec[len - 2] < 0.0 || rec[len - 1] < 0.0 ? "has a negative noise scale or norm bound"
                        : f(bank, i, rec, c);
        if (bad)
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: model %zu of bank '%s' %s", i, path, bad);
    }
    free(rec);
    return st;
}

static const char *ridge_import(void *bank, size_t i, double *real, const uint64_t *ints)
{
    colb__ridge_import(bank, i, real, ints);
    return NULL;
}

colb_status colb__ridge_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                             colb__ridge *r, size_t n, size_t d, const colb_learner_params *p,
                             size_t *m_out)
{
    memset(r, 0, sizeof *r);
    colb__snap_group rg;
    colb__snap_field real, ints;
    size_t m = 0;
    colb_status st = bank_head(in, g, name, m_out ? 0 : n, n, d, colb__ridge_model_len, 2, &rg, &m,
                               &real, &ints);
    if (st == COLB_OK)
        st = reserve(in, ridge_bytes(n, d), rg.path);
    if (st != COLB_OK)
        return st;
    if (colb__ridge_init_from(r, n, d, p, m) != COLB_OK)
        return colb__snap_error(in, COLB_ENOMEM, "out of memory for bank '%s'", rg.path);
    st = load_records(in, rg.path, &real, &ints, m, colb__ridge_model_len(d), 2, r, ridge_import);
    if (st == COLB_OK && m_out)
        *m_out = m;
    return st;
}

/* ---- the user bank (compact: linalg/soa_bank.h) -----------------------
 * Format version >= 2 stores the bank's logical form (docs/format.md, "User
 * bank"): models, dim, theta0 (one prior mean), one record of
 * colb__soa_model_len(d) values and one counter per model. A version-1
 * file stored the users as a ridge bank (V, A, b, theta, theta0, ...):
 * user_import_v1 converts its records (V and since_refresh are dropped,
 * every theta0 must be the same). */

static void user_record(const void *bank, size_t i, double *real, uint64_t *ints)
{
    if (real)
        colb__soa_export(bank, i, real, ints);
    else
        colb__soa_get_model(bank, i, NULL, NULL, NULL, NULL, ints);
}

void colb__users_save(colb__snap_out *w, const char *name, const colb__users *b)
{
    const colb__soa_bank *s = &b->s;
    save_bank(w, name, s, user_record, s->n, s->d, colb__soa_model_len(s->d), 1, s->theta0);
}

static const char *user_import(void *bank, size_t i, double *real, const uint64_t *ints)
{
    colb__soa_import(bank, i, real, ints[0]);
    return NULL;
}

/* A version-1 record (a ridge bank's: V, A, b, theta, theta0 (d each),
 * logdet, R, S; counters count, since_refresh) into the compact bank: the
 * same values without V and theta0, in the same order; the theta0 of
 * every model must be the bank's one (model 0's). */
static const char *user_import_v1(void *bank, size_t i, double *real, const uint64_t *ints)
{
    colb__soa_bank *s = bank;
    size_t d = s->d, t = d * (d + 1) / 2;
    const double *t0 = real + 2 * t + 2 * d;
    for (size_t j = 0; j < d; j++)
        if (fabs(t0[j]) > COLB__SNAP_PRIOR_MAX)
            return "has a prior mean beyond +-1e61 (no learner's)";
    if (i == 0)
        memcpy(s->theta0, t0, d * sizeof(double));
    else if (memcmp(s->theta0, t0, d * sizeof(double)))
        return "has another prior mean than model 0 (a user bank has one)";
    memmove(real + 2 * t + 2 * d, real + 2 * t + 3 * d, 3 * sizeof(double)); /* drop theta0 */
    colb__soa_import(s, i, real + t, ints[0]);
    return NULL;
}

colb_status colb__users_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                             colb__users *b, size_t N, size_t d, const colb_learner_params *p)
{
    memset(b, 0, sizeof *b);
    int v1 = in->version < 2; /* stored as a ridge bank */
    size_t (*len_of)(size_t) = v1 ? colb__ridge_model_len : colb__soa_model_len;
    size_t nints = v1 ? 2 : 1, m = 0;
    colb__snap_group ug;
    colb__snap_field real, ints;
    colb_status st = bank_head(in, g, name, N, N, d, len_of, nints, &ug, &m, &real, &ints);
    if (st == COLB_OK)
        st = reserve(in, colb__users_bytes(N, d), ug.path);
    if (st != COLB_OK)
        return st;
    st = colb__users_init(b, N, d, p);
    if (st == COLB_EINVAL || st == COLB_EUNSUP)
        return colb__snap_error(in, st, "COLB_KERNEL = %s is not a kernel this CPU runs (avx512, avx2 or "
                                "portable; unset: the fastest)", getenv("COLB_KERNEL"));
    if (st != COLB_OK)
        return colb__snap_error(in, COLB_ENOMEM, "out of memory for bank '%s'", ug.path);
    if (!v1 && (st = colb__snap_get_f64s_within(in, &ug, "theta0", b->s.theta0, d, COLB__SNAP_PRIOR_MAX)) != COLB_OK)
        return st;
    st = load_records(in, ug.path, &real, &ints, N, len_of(d), nints, &b->s, v1 ? user_import_v1 : user_import);
    /* the spare lanes of the last block were reset before theta0 was read:
     * again with it, as the saved policy kept them (users added later start
     * from the prior mean, not from 0) */
    for (size_t i = N; st == COLB_OK && i < b->s.nblk * COLB__SOA_W; i++)
        colb__soa_reset(&b->s, i);
    return st;
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
