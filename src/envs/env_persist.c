/* env_persist.c - the generic part of an environment's snapshot (see
 * env_persist.h): kind, parameters (from a table, like the policies'),
 * seed, round count and true clusters around the environment's own
 * save/restore hooks (env_impl.h). Loading re-creates the environment from
 * its parameters and seed - which draws nothing but the users' parameters,
 * then overwritten by the saved ones - and restores the rest. */
#include "envs/env_persist.h"

#include <stddef.h>
#include <string.h>

#include "envs/env_impl.h"
#include "persist/snap_table.h"

/* Not stored, on purpose: max_memory (a limit of the process that loads,
 * given by colb_load_options). */
#if defined(__LP64__)
_Static_assert(sizeof(colb_env_params) == 80,
               "colb_env_params changed: add the new field to PARAMS in env_persist.c, then "
               "update this size");
#endif
_Static_assert(sizeof(colb_env_kind) == sizeof(int), "enums are stored as int");

#define P(n, t, f) { n, t, offsetof(colb_env_params, f) }
static const colb__snap_param PARAMS[] = {
    P("kind", 'i', kind), P("users", 'z', users), P("clusters", 'z', clusters),
    P("zipf", 'd', zipf), P("dim", 'z', dim), P("arms", 'z', arms), P("noise", 'd', noise),
    P("sigma_theta", 'd', sigma_theta), P("normalize", 'i', normalize), P("cluster_sizes", 'i', cluster_sizes),
};
#undef P
#define N_PARAMS (sizeof PARAMS / sizeof PARAMS[0])

void colb__env_params_save(colb__snap_out *w, const char *name, const colb_env_params *p)
{
    colb__snap_params_save(w, name, p, PARAMS, N_PARAMS);
}

colb_status colb__env_params_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                  colb_env_params *p)
{
    colb_env_params_default(p);
    return colb__snap_params_load(in, g, name, p, PARAMS, N_PARAMS);
}

const char *colb__env_params_diff(const colb_env_params *a, const colb_env_params *b)
{
    return colb__snap_params_diff(a, b, PARAMS, N_PARAMS);
}

colb_status colb__env_save_fields(colb__snap_out *w, const colb_env *e)
{
    if (!e->vt->save)
        return colb__snap_fail(w, COLB_EUNSUP, "environment '%s' cannot be saved", e->vt->name);
    colb__snap_str(w, "kind", e->vt->name);
    colb__env_params_save(w, "params", &e->p);
    colb__snap_u64(w, "seed", e->seed);
    colb__snap_u64(w, "rounds", e->rounds);
    if (e->labels) {
        colb__snap_u64(w, "n_clusters", e->n_clusters);
        colb__snap_sizes(w, "labels", e->labels, e->N);
    }
    colb__snap_group_begin(w, "state");
    colb_status st = e->vt->save(e, w);
    if (st != COLB_OK)
        return colb__snap_fail(w, st, "saving environment '%s' failed", e->vt->name);
    colb__snap_group_end(w);
    return colb__snap_status(w);
}

colb_status colb__env_restore_fields(colb__snap_in *in, const colb__snap_group *g, colb_env *e)
{
    char kind[32];
    colb_env_params p;
    uint64_t seed = 0;
    colb__snap_group sg;
    colb_status st = colb__snap_get_str(in, g, "kind", kind, sizeof kind);
    if (st == COLB_OK && strcmp(kind, e->vt->name))
        return colb__snap_error(in, COLB_EINVAL, "snapshot holds a %s environment, not a %s one",
                                kind, e->vt->name);
    if (st == COLB_OK)
        st = colb__env_params_load(in, g, "params", &p);
    const char *bad = st == COLB_OK ? colb__env_params_diff(&p, &e->p) : NULL;
    if (bad)
        return colb__snap_error(in, COLB_EINVAL, "snapshot's environment differs in '%s'", bad);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "seed", &seed);
    if (st == COLB_OK && seed != e->seed)
        return colb__snap_error(in, COLB_EINVAL, "snapshot's environment has seed %llu, not %llu",
                                (unsigned long long)seed, (unsigned long long)e->seed);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "rounds", &e->rounds);
    if (st == COLB_OK && e->rounds == UINT64_MAX) /* its next round would be round 0 again */
        return colb__snap_error(in, COLB_EPARSE, "snapshot's environment has played %llu rounds, the most a count "
                                "holds; no next round is possible", (unsigned long long)e->rounds);
    if (st == COLB_OK && e->labels) {
        size_t L = 0;
        st = colb__snap_get_size(in, g, "n_clusters", e->n_clusters, e->n_clusters, &L);
        if (st == COLB_OK)
            st = colb__snap_get_sizes(in, g, "labels", e->labels, e->N, L);
    }
    if (st == COLB_OK)
        st = colb__snap_get_group(in, g, "state", &sg);
    if (st == COLB_OK && !e->vt->restore)
        st = colb__snap_error(in, COLB_EUNSUP, "environment '%s' cannot be restored", e->vt->name);
    if (st == COLB_OK)
        st = e->vt->restore(e, in, &sg);
    return st;
}

colb_status colb__env_load_fields(colb__snap_in *in, const colb__snap_group *g,
                                  const colb_dataset *ds, colb_env **out)
{
    *out = NULL;
    char kind[32], why[256];
    colb_env_params p;
    uint64_t seed = 0;
    colb_status st = colb__snap_get_str(in, g, "kind", kind, sizeof kind);
    if (st == COLB_OK)
        st = colb__env_params_load(in, g, "params", &p);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "seed", &seed);
    if (st != COLB_OK)
        return st;
    colb_env *e = NULL;
    if (!strcmp(kind, "synthetic")) {
        if (colb_env_params_check(&p, why, sizeof why) != COLB_OK)
            return colb__snap_error(in, COLB_EPARSE, "snapshot: bad environment parameters: %s", why);
        /* what colb_env_create allocates: users, parameters, one round */
        double G = p.kind == COLB_ENV_CLUSTERED ? (double)p.clusters : (double)p.users;
        double bytes = 8.0 * (4.0 * (double)p.users + G * (double)p.dim + (double)p.arms * (double)p.dim +
                              G * (double)p.arms + G);
        st = colb__snap_reserve(in, bytes > 1.8e19 ? UINT64_MAX : (uint64_t)bytes, "the environment");
        /* the arrays the users and groups imply are in the file before any
         * is made and drawn (format.md: a dimension is believed only once
         * the arrays it implies are there) */
        colb__snap_group sg;
        colb__snap_field f;
        if (st == COLB_OK && (st = colb__snap_get_group(in, g, "state", &sg)) == COLB_OK &&
            (st = colb__snap_field_of(in, &sg, "group", COLB__SNAP_U64, p.users, &f)) == COLB_OK)
            st = colb__snap_field_of(in, &sg, "theta", COLB__SNAP_F64, (uint64_t)G * p.dim, &f);
        if (st == COLB_OK && colb_env_create(&p, seed, &e, why, sizeof why) != COLB_OK)
            st = colb__snap_error(in, COLB_ENOMEM, "creating the environment failed: %s", why);
    } else if (!strcmp(kind, "logged")) {
        colb__snap_group sg;
        size_t proto = 0;
        if (!ds)
            return colb__snap_error(in, COLB_EINVAL, "snapshot holds a logged-data environment: "
                                    "loading it needs its data set (colb_load_options.dataset)");
        if ((st = colb__snap_get_group(in, g, "state", &sg)) != COLB_OK ||
            (st = colb__snap_get_size(in, &sg, "protocol", 0, 1, &proto)) != COLB_OK)
            return st;
        size_t rows = proto == COLB_LOGGED_SHARED ? 1 : colb_dataset_users(ds);
        double bytes = (double)rows * (double)p.arms * (8.0 + 8.0 * (double)colb_dataset_dim(ds));
        st = colb__snap_reserve(in, bytes > 1.8e19 ? UINT64_MAX : (uint64_t)bytes, "the environment");
        if (st == COLB_OK && colb_env_create_logged(ds, (colb_logged_protocol)proto, p.arms, seed,
                                                    &e, why, sizeof why) != COLB_OK)
            st = colb__snap_error(in, COLB_EINVAL, "snapshot's environment does not fit the data "
                                  "set: %s", why);
    } else {
        return colb__snap_error(in, COLB_EUNSUP, "snapshot holds a '%s' environment, which this "
                                "colb does not have", kind);
    }
    if (st == COLB_OK)
        st = colb__env_restore_fields(in, g, e);
    if (st != COLB_OK) {
        colb_env_free(e);
        return st;
    }
    *out = e;
    return COLB_OK;
}
