/* policy_persist.c - the generic part of a policy's snapshot (see
 * policy_persist.h): name, parameters, round count, info line, the
 * oracle's labels and the Thompson draws' generator, around the policy's own save/load hooks
 * (policy_impl.h). The parameters are stored field by field from a table,
 * so that a field added later is simply absent from older files and takes
 * its default (docs/format.md, "Versions"). */
#include "policies/policy_persist.h"

#include <stddef.h>
#include <string.h>

#include "persist/snap_table.h"
#include "policies/bank_persist.h"
#include "policies/policy_impl.h"

/* A new field of colb_policy_params must get a row in PARAMS below (and its
 * default must reproduce the behaviour of files that lack it); this check
 * fails the build until the table has been looked at. Not stored, on
 * purpose: true_cluster (stored as the policy's labels), max_memory (a
 * limit of the process that loads: colb_policy_set_max_memory) and threads
 * (the loading process's; decisions do not depend on them). */
#if defined(__LP64__)
_Static_assert(sizeof(colb_policy_params) == 264,
               "colb_policy_params changed: add the new field to PARAMS in policy_persist.c, "
               "then update this size");
#endif
_Static_assert(sizeof(colb_width) == sizeof(int) && sizeof(colb_threshold) == sizeof(int) &&
               sizeof(colb_club_graph) == sizeof(int) && sizeof(colb_pmlb_learner) == sizeof(int) &&
               sizeof(colb_sampling) == sizeof(int),
               "enums are stored as int");

#define P(n, t, f) { n, t, offsetof(colb_policy_params, f) }
static const colb__snap_param PARAMS[] = {
    P("users", 'z', users), P("dim", 'z', dim), P("horizon", 'z', horizon),
    P("learner.lambda", 'd', learner.lambda), P("learner.width", 'i', learner.width),
    P("learner.alpha", 'd', learner.alpha), P("learner.noise", 'd', learner.noise),
    P("learner.norm_bound", 'd', learner.norm_bound), P("learner.delta", 'd', learner.delta),
    P("seed", 'u', seed), P("pooled_updates", 'i', pooled_updates),
    P("cmlb_alpha", 'd', cmlb_alpha), P("cmlb_C", 'd', cmlb_C), P("cmlb_gamma", 'd', cmlb_gamma),
    P("cmlb_pstar", 'd', cmlb_pstar), P("cmlb_threshold", 'i', cmlb_threshold),
    P("cmlb_warm_start", 'i', cmlb_warm_start), P("club_alpha", 'd', club_alpha),
    P("club_alpha2", 'd', club_alpha2), P("club_graph", 'i', club_graph),
    P("pmlb_learner", 'i', pmlb_learner), P("n_clusters", 'z', n_clusters),
    P("anytime", 'i', anytime), P("cohort_delta", 'd', cohort_delta),
    P("cohort_personal", 'i', cohort_personal), P("cohort_soft", 'i', cohort_soft),
    P("cohort_seeds", 'z', cohort_seeds), P("cohort_estimate_noise", 'i', cohort_estimate_noise),
    /* fair comparisons */
    P("diversify", 'i', diversify), P("sampling", 'i', sampling),
    P("club_own_alpha", 'i', club_own_alpha), P("sclub_alpha", 'd', sclub_alpha),
    P("sclub_alpha_p", 'd', sclub_alpha_p), P("locb_seeds", 'z', locb_seeds),
    P("locb_gamma", 'd', locb_gamma),
};
#undef P
#define N_PARAMS (sizeof PARAMS / sizeof PARAMS[0])

void colb__policy_params_save(colb__snap_out *w, const char *name, const colb_policy_params *pp)
{
    colb__snap_params_save(w, name, pp, PARAMS, N_PARAMS);
}

colb_status colb__policy_params_load(colb__snap_in *in, const colb__snap_group *g,
                                     const char *name, int has_cohort, colb_policy_params *pp)
{
    colb_policy_params_default(pp);
    if (has_cohort) /* written before cohort estimated its noise scale: R fixed */
        pp->cohort_estimate_noise = 0;
    colb_status st = colb__snap_params_load(in, g, name, pp, PARAMS, N_PARAMS);
    pp->true_cluster = NULL;
    return st;
}

const char *colb__policy_params_diff(const colb_policy_params *a, const colb_policy_params *b)
{
    return colb__snap_params_diff(a, b, PARAMS, N_PARAMS);
}

colb_status colb__policy_save_fields(colb__snap_out *w, const colb_policy *p)
{
    if (colb__snap_status(w) != COLB_OK)
        return colb__snap_status(w);
    if (p->in_round)
        return colb__snap_fail(w, COLB_ESTATE, "%s: cannot save during round %llu; save between "
                               "end_round and begin_round", p->vt->name,
                               (unsigned long long)p->rounds + 1);
    if (p->failed) /* its state cannot be trusted, and a load would refuse it */
        return colb__snap_fail(w, COLB_ENUMERIC, "%s: the policy failed numerically; it cannot be saved",
                               p->vt->name);
    if (!p->vt->save)
        return colb__snap_fail(w, COLB_EUNSUP, "policy '%s' cannot be saved (no save hook)",
                               p->vt->name);
    colb__snap_str(w, "name", p->vt->name);
    colb__policy_params_save(w, "params", &p->pp);
    colb__snap_u64(w, "rounds", p->rounds);
    colb__snap_str(w, "info", p->info);
    if (p->labels)
        colb__snap_sizes(w, "labels", p->labels, p->N);
    if (colb__policy_ts(p)) /* where the Thompson draws go on */
        colb__snap_u64s(w, "ts_rng", p->ts_rng.s, 4);
    colb__snap_group_begin(w, "state");
    colb_status st = p->vt->save(p, w);
    if (st != COLB_OK)
        return colb__snap_fail(w, st, "%s: saving its state failed: %s", p->vt->name,
                               colb_strerror(st));
    colb__snap_group_end(w);
    return colb__snap_status(w);
}

colb_status colb__policy_load_fields(colb__snap_in *in, const colb__snap_group *g,
                                     colb_policy **out)
{
    *out = NULL;
    char name[64], why[256];
    colb_policy_params pp;
    colb_status st = colb__snap_get_str(in, g, "name", name, sizeof name);
    if (st != COLB_OK)
        return st;
    const colb__policy_vt *vt = colb__policy_find(name);
    if (!vt)
        return colb__snap_error(in, COLB_EUNSUP, "snapshot holds policy '%s', which this colb does "
                                "not have", name);
    if (!vt->load)
        return colb__snap_error(in, COLB_EUNSUP, "policy '%s' cannot be loaded (no load hook)", name);
    if ((st = colb__policy_params_load(in, g, "params", !strcmp(name, "cohort"), &pp)) != COLB_OK)
        return st;
    size_t N = pp.users, d = pp.dim;
    if (N == 0 || d == 0 || d > COLB__SNAP_DIM_MAX || N > ((size_t)1 << 40))
        return colb__snap_error(in, COLB_EPARSE, "snapshot: policy '%s' has %zu users of dimension "
                                "%zu", name, N, d);
    /* chosen, observed, labels: 17 bytes per user, the rest is the state's */
    if ((st = colb__snap_reserve(in, 17 * (uint64_t)N, "the policy's users")) != COLB_OK)
        return st;
    size_t *labels = NULL;
    colb__snap_field lf;
    if (colb__snap_find(g, "labels", &lf) == COLB_OK) {
        labels = colb__malloc(N, sizeof(size_t));
        if (!labels)
            return colb__snap_error(in, COLB_ENOMEM, "out of memory for %zu labels", N);
        st = colb__snap_get_sizes(in, g, "labels", labels, N, pp.n_clusters ? pp.n_clusters : 1);
        pp.true_cluster = labels;
    }
    if (st == COLB_OK && colb_policy_params_check(name, &pp, why, sizeof why) != COLB_OK)
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: bad parameters: %s", why);
    colb_policy *p = NULL;
    if (st == COLB_OK && !(p = calloc(1, sizeof *p)))
        st = colb__snap_error(in, COLB_ENOMEM, "out of memory for policy '%s'", name);
    if (st != COLB_OK) {
        free(labels);
        return st;
    }
    p->vt = vt;
    p->pp = pp;
    p->N = N;
    p->d = d;
    p->labels = labels; /* taken */
    colb_rng_seed(&p->ts_rng, pp.seed, COLB__STREAM_TS);
    colb__snap_group sg;
    st = colb__snap_get_u64(in, g, "rounds", &p->rounds);
    if (st == COLB_OK && colb__snap_find(g, "ts_rng", &lf) == COLB_OK) {
        uint64_t rs[4];
        st = colb__snap_get_u64s(in, g, "ts_rng", rs, 4);
        if (st == COLB_OK && colb_rng_set_state(&p->ts_rng, rs) != COLB_OK)
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: policy '%s': ts_rng is not a "
                                  "generator state", name);
    }
    if (st == COLB_OK)
        st = colb__snap_get_str(in, g, "info", p->info, sizeof p->info);
    if (st == COLB_OK)
        st = colb__snap_get_group(in, g, "state", &sg);
    /* the state first: its arrays in the file are what vouch for N */
    if (st == COLB_OK && (st = vt->load(p, in, &sg)) != COLB_OK && in->msg && in->msg_len &&
        !in->msg[0])
        colb__snap_error(in, st, "snapshot: policy '%s': %s", name, p->err[0] ? p->err : colb_strerror(st));
    if (st == COLB_OK && colb__policy_alloc_rounds(p) != COLB_OK)
        st = colb__snap_error(in, COLB_ENOMEM, "out of memory for policy '%s'", name);
    if (st != COLB_OK) {
        colb_policy_free(p);
        return st;
    }
    *out = p;
    return COLB_OK;
}
