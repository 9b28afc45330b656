/* sim_persist.c - snapshots of simulations (see sim_persist.h): the spec's
 * stored fields, then one group per (policy, repeat) job with its round,
 * accumulated regret, curve so far and wall time, plus - while it runs -
 * its environment and policy, or - once finished - its final info line.
 * Loading checks the caller's spec against the stored one, re-creates each
 * running job's environment from the spec (so that a data set or any other
 * factory environment is recognised by its own restore check) and loads its
 * policy, which must be the policy the spec would have created. */
#include "sim/sim_persist.h"

#include <string.h>

#include "envs/env_persist.h"
#include "policies/policy_impl.h"
#include "policies/policy_persist.h"
#include "sim/sim_impl.h"

colb_status colb__sim_save_fields(colb__snap_out *w, const colb_sim *sim)
{
    const colb_sim_spec *s = &sim->s;
    const colb_sim_result *res = sim->res;
    colb__snap_u64(w, "horizon", s->horizon);
    colb__snap_u64(w, "repeats", s->repeats);
    colb__snap_u64(w, "seed", s->seed);
    colb__snap_u64(w, "curve_points", s->curve_points);
    colb__snap_u64(w, "custom_env", s->make_env != NULL);
    for (size_t i = 0; i < s->n_policies; i++)
        colb__snap_str(w, "policy", s->policies[i]);
    if (!s->make_env)
        colb__env_params_save(w, "env_params", &s->env);
    colb__policy_params_save(w, "policy_params", &s->policy);
    colb__snap_group_begin(w, "jobs");
    for (size_t i = 0; i < res->P; i++)
        for (size_t r = 0; r < res->R; r++) {
            size_t j = i * res->R + r, k = 0;
            const colb__sim_job *job = &sim->jobs[j];
            while (k < res->K && res->point_round[k] <= job->t)
                k++;
            colb__snap_group_begin(w, "job");
            colb__snap_u64(w, "state", (uint64_t)job->state);
            colb__snap_u64(w, "rounds", job->t);
            colb__snap_f64(w, "regret_sum", job->reg);
            colb__snap_f64s(w, "curve", res->regret + j * res->K, k);
            colb__snap_f64(w, "wall", res->wall[j]);
            if (job->state == COLB__JOB_DONE)
                colb__snap_str(w, "info", res->info[j]);
            if (job->state == COLB__JOB_LIVE) {
                colb__snap_group_begin(w, "env");
                colb__env_save_fields(w, job->env);
                colb__snap_group_end(w);
                colb__snap_group_begin(w, "policy");
                colb__policy_save_fields(w, job->pol);
                colb__snap_group_end(w);
            }
            colb__snap_group_end(w);
        }
    colb__snap_group_end(w);
    return colb__snap_status(w);
}

/* COLB_EINVAL naming the first stored field in which the spec differs. */
static colb_status check_spec(colb__snap_in *in, const colb__snap_group *g, const colb_sim_spec *s)
{
    static const char *const keys[] = { "horizon", "repeats", "seed", "curve_points", "custom_env" };
    uint64_t want[5] = { s->horizon, s->repeats, s->seed, colb__sim_points(s), s->make_env != NULL };
    for (int k = 0; k < 5; k++) {
        uint64_t v = 0;
        colb_status st = colb__snap_get_u64(in, g, keys[k], &v);
        if (st != COLB_OK)
            return st;
        if (k == 3) { /* the curves' points as run: 0 and 100, or 500 and T = 300, are the same */
            colb_sim_spec t = *s;
            t.curve_points = (size_t)(v < SIZE_MAX ? v : SIZE_MAX);
            v = colb__sim_points(&t);
        }
        if (v != want[k])
            return colb__snap_error(in, COLB_EINVAL, "the snapshot's simulation has %s = %llu, the "
                                    "spec %llu", keys[k], (unsigned long long)v,
                                    (unsigned long long)want[k]);
    }
    const unsigned char *cur = NULL;
    colb__snap_field f;
    size_t n = 0;
    int has_cohort = 0;
    while (colb__snap_next(g, &cur, &f))
        if (!strcmp(f.name, "policy")) {
            /* by registry name: a spec may name a policy by an alias
             * ("recommended") that the saved spec did not, or the reverse */
            char saved[64];
            const char *a = NULL, *b = NULL;
            if (f.type == COLB__SNAP_BYTES && n < s->n_policies && f.count < sizeof saved) {
                memcpy(saved, f.data, (size_t)f.count);
                saved[f.count] = '\0';
                a = colb_policy_resolve(saved);
                b = colb_policy_resolve(s->policies[n]);
                if (!a || !b) { /* a name this colb does not know: as spelt */
                    a = saved;
                    b = s->policies[n];
                }
            }
            if (!a || strcmp(a, b))
                return colb__snap_error(in, COLB_EINVAL, "the snapshot's simulation runs other "
                                        "policies than the spec");
            has_cohort |= !strcmp(a, "cohort");
            n++;
        }
    if (n != s->n_policies)
        return colb__snap_error(in, COLB_EINVAL, "the snapshot's simulation runs %zu policies, the "
                                "spec %zu", n, s->n_policies);
    colb_policy_params pp;
    colb_status st = colb__policy_params_load(in, g, "policy_params", has_cohort, &pp);
    const char *bad = st == COLB_OK ? colb__policy_params_diff(&pp, &s->policy) : NULL;
    if (bad)
        return colb__snap_error(in, COLB_EINVAL, "the snapshot's simulation has another policy "
                                "parameter '%s' than the spec", bad);
    if (st == COLB_OK && !s->make_env) {
        colb_env_params ep;
        st = colb__env_params_load(in, g, "env_params", &ep);
        bad = st == COLB_OK ? colb__env_params_diff(&ep, &s->env) : NULL;
        if (bad)
            return colb__snap_error(in, COLB_EINVAL, "the snapshot's simulation has another "
                                    "environment parameter '%s' than the spec", bad);
    }
    return st;
}

/* Job (i, r) from group jg into sim. */
static colb_status load_job(colb__snap_in *in, const colb__snap_group *jg, colb_sim *sim, size_t i,
                            size_t r)
{
    colb_sim_result *res = sim->res;
    size_t j = i * res->R + r, state = 0, k = 0;
    colb__sim_job *job = &sim->jobs[j];
    uint64_t T = sim->s.horizon;
    colb_status st = colb__snap_get_size(in, jg, "state", 0, 2, &state);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, jg, "rounds", &job->t);
    if (st == COLB_OK && (job->t > T || (state == COLB__JOB_DONE) != (job->t == T) ||
                          (state == COLB__JOB_NEW && job->t != 0)))
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: job %zu is in state %zu at round %llu of "
                              "%llu", j, state, (unsigned long long)job->t, (unsigned long long)T);
    if (st == COLB_OK)
        st = colb__snap_get_f64(in, jg, "regret_sum", 0, &job->reg);
    while (k < res->K && res->point_round[k] <= job->t)
        k++;
    if (st == COLB_OK)
        st = colb__snap_get_f64s(in, jg, "curve", res->regret + j * res->K, k, 0);
    /* regret is never negative (colb_env_regret): the sum and its curve
     * (the sum per user, N >= 1, at the points passed) only grow */
    const double *cv = res->regret + j * res->K;
    for (size_t q = 0; st == COLB_OK && q <= k; q++) {
        double prev = q ? cv[q - 1] : 0.0, next = q < k ? cv[q] : job->reg;
        if (!(next >= prev))
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: job %zu's regret falls (%s: %.17g after %.17g)", j,
                                  q < k ? "its curve" : "its sum against its curve", next, prev);
    }
    if (st == COLB_OK)
        st = colb__snap_get_f64(in, jg, "wall", 0, &res->wall[j]);
    if (st == COLB_OK && state == COLB__JOB_DONE)
        st = colb__snap_get_str(in, jg, "info", res->info[j], sizeof res->info[0]);
    if (st == COLB_OK && state != COLB__JOB_NEW && sim->to_start && sim->to_start[r])
        sim->to_start[r]--; /* started before: it never takes its repeat's tape */
    if (st != COLB_OK || state != COLB__JOB_LIVE) {
        job->state = (int)state;
        return st;
    }
    colb__snap_group eg, pg;
    char msg[COLB__ERRLEN] = "";
    if ((st = colb__snap_get_group(in, jg, "env", &eg)) != COLB_OK ||
        (st = colb__snap_get_group(in, jg, "policy", &pg)) != COLB_OK)
        return st;
    if ((st = colb__sim_make_env(&sim->s, r, &job->env, msg)) != COLB_OK)
        return colb__snap_error(in, st, "re-creating the environment of repeat %zu failed: %s",
                                r + 1, msg);
    job->state = COLB__JOB_LIVE; /* from here on colb_sim_free releases env and policy */
    if ((st = colb__env_restore_fields(in, &eg, job->env)) != COLB_OK ||
        (st = colb__policy_load_fields(in, &pg, &job->pol)) != COLB_OK)
        return st;
    size_t N = colb_env_users(job->env);
    size_t *labels = colb__malloc(N, sizeof(size_t));
    if (!labels)
        return colb__snap_error(in, COLB_ENOMEM, "out of memory");
    colb_policy_params want;
    colb__sim_job_params(&sim->s, sim->s.policies[i], r, res->P * res->R, job->env, labels, &want);
    const colb_policy_params *got = &job->pol->pp;
    /* the spec may name the policy by an alias ("recommended"); the saved
     * policy has its registry name */
    const char *canon = colb_policy_resolve(sim->s.policies[i]);
    const char *bad = strcmp(colb_policy_name(job->pol), canon ? canon : sim->s.policies[i]) ? "name"
                      : colb__policy_params_diff(got, &want);
    if (!bad && want.true_cluster &&
        (!got->true_cluster || memcmp(got->true_cluster, want.true_cluster, N * sizeof(size_t))))
        bad = "true clusters";
    free(labels);
    if (bad)
        return colb__snap_error(in, COLB_EINVAL, "snapshot: the policy of job %zu (%s, repeat %zu) "
                                "is not the one the spec makes (it differs in '%s')", j,
                                sim->s.policies[i], r + 1, bad);
    /* threads are the running process's, not state: as the spec gives them */
    if ((st = colb__policy_set_threads(job->pol, want.threads)) != COLB_OK)
        return colb__snap_error(in, st, "out of memory for the threads of job %zu", j);
    return COLB_OK;
}

colb_status colb__sim_load_fields(colb__snap_in *in, const colb__snap_group *g,
                                  const colb_sim_spec *spec, colb_sim **out)
{
    *out = NULL;
    char msg[COLB__ERRLEN];
    colb_sim *sim = NULL;
    colb__snap_group jobs;
    colb_status st = check_spec(in, g, spec);
    if (st == COLB_OK)
        st = colb__snap_get_group(in, g, "jobs", &jobs);
    if (st != COLB_OK)
        return st;
    /* the jobs are in the file: P x R groups of a few fields each */
    size_t n_jobs = spec->n_policies * spec->repeats, found = 0;
    const unsigned char *cur = NULL;
    colb__snap_field f;
    while (colb__snap_next(&jobs, &cur, &f))
        found++;
    if (found != n_jobs)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: %zu jobs, the spec has %zu", found, n_jobs);
    size_t K = colb__sim_points(spec);
    if ((st = colb__snap_reserve(in, (uint64_t)n_jobs * (8 * K + 600), "the simulation")) != COLB_OK)
        return st;
    if ((st = colb_sim_create(spec, &sim, msg, sizeof msg)) != COLB_OK)
        return colb__snap_error(in, st, "the simulation spec is invalid: %s", msg);
    cur = NULL;
    for (size_t i = 0; i < sim->res->P && st == COLB_OK; i++)
        for (size_t r = 0; r < sim->res->R && st == COLB_OK; r++) {
            if (!colb__snap_next(&jobs, &cur, &f) || f.type != COLB__SNAP_GROUP || strcmp(f.name, "job"))
                st = colb__snap_error(in, COLB_EPARSE, "snapshot: job %zu is not a 'job' group",
                                      i * sim->res->R + r);
            else
                st = load_job(in, &f.sub, sim, i, r);
        }
    if (st != COLB_OK) {
        colb_sim_free(sim);
        return st;
    }
    *out = sim;
    return COLB_OK;
}
