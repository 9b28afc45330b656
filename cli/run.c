/* run.c - `colb run`: readings x sweep values x policies through the
 * simulator, then the results files and the table. */
#include "run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "colb/tune.h"
#include "data.h"
#include "outdir.h"
#include "width.h"

/* Setting (r, s) of e into *c: reading r with sweep value s (s = 0 without
 * a sweep). 0, or -1 with err set. */
static int setting_config(const experiment *e, size_t r, size_t s, run_config *c, char *err,
                          size_t err_len)
{
    return config_at(&e->cfg[r], s, c, err, err_len);
}

/* err = "reading NAME, sweep KEY=VALUE: why" for setting (r, s) of e, each
 * part only when there is a choice (several readings, a sweep). */
static void setting_error(const experiment *e, size_t r, size_t s, const char *why, char *err,
                          size_t err_len)
{
    const run_config *base = &e->cfg[r];
    int named = e->n_readings > 1, swept = base->n_sweep > 0;
    snprintf(err, err_len, "%s%s%s%s%s%s%s%s", named ? "reading " : "", named ? e->reading[r] : "",
             named && swept ? ", " : "", swept ? "sweep " : "", swept ? base->sweep_key : "",
             swept ? "=" : "", swept ? base->sweep_values[s] : "", named || swept ? ": " : "");
    size_t n = strlen(err);
    if (n < err_len)
        snprintf(err + n, err_len - n, "%s", why);
}

typedef int (*setting_test)(const run_config *c, const char *arg, char *err, size_t err_len);

/* Check every setting of e with `valid` (given `arg`); what `valid`
 * returned for the first failure (-1, or data_check's -2), named by
 * setting_error, in err. */
static int check_settings(const experiment *e, setting_test valid, const char *arg, char *err, size_t err_len)
{
    run_config *c = malloc(sizeof *c);
    char *why = malloc(ERR_LEN);
    int rc = c && why ? 0 : -1;
    if (rc)
        snprintf(err, err_len, "out of memory");
    for (size_t r = 0; r < e->n_readings && !rc; r++) {
        size_t sweeps = e->cfg[r].n_sweep ? e->cfg[r].n_sweep : 1;
        for (size_t s = 0; s < sweeps && !rc; s++)
            if (setting_config(e, r, s, c, why, ERR_LEN) || (rc = valid(c, arg, why, ERR_LEN)) != 0) {
                setting_error(e, r, s, why, err, err_len);
                rc = rc ? rc : -1;
            }
    }
    free(why);
    free(c);
    return rc;
}

int run_check_input(const char *what, const char *path, const char *out, char *err, size_t err_len)
{
    int inside = path && path[0] ? outdir_path_inside(path, out) : 0;
    if (inside)
        snprintf(err, err_len, "%s: %s %s the results folder %s, which a run replaces as a whole (deleting "
                 "it); give another --out", what, path, inside == 2 ? "is" : "lies inside", out);
    return inside ? -1 : 0;
}

/* The inputs of setting c (logged data, the Last.FM folder) lie outside
 * its results folder, and its Last.FM feature cache, where a run writes
 * it, is a colb feature cache or absent, and outside the results folder
 * too (which a run replaces as a whole: a cache there was written and then
 * thrown away) (check_settings's form). */
static int paths_fit(const run_config *c, const char *arg, char *err, size_t err_len)
{
    (void)arg;
    char cache[PATH_LEN + 64], folder[PATH_LEN + 64], why[ERR_LEN];
    if (c->data == DATA_LOGGED)
        return run_check_input("--features", c->features, c->out_dir, err, err_len) ||
               run_check_input("--positives", c->positives, c->out_dir, err, err_len) ? -1 : 0;
    if (c->data != DATA_LASTFM)
        return 0;
    if (!data_lastfm_dir(c, folder, sizeof folder) &&
        run_check_input("Last.FM data", folder, c->out_dir, err, err_len))
        return -1;
    data_cache_path(c, cache, sizeof cache);
    if (outdir_path_inside(cache, c->out_dir)) {
        snprintf(err, err_len, "feature cache: %s lies inside the results folder %s, which a run replaces as a "
                 "whole; give a --feature-cache outside it", cache, c->out_dir);
        return -1;
    }
    if (!outdir_check_file(cache, "colb feature cache", COLB_LASTFM_CACHE_MAGIC, COLB_LASTFM_CACHE_MAGIC_LEN,
                           why, sizeof why))
        return 0;
    snprintf(err, err_len, "feature cache: %s", why);
    return -1;
}

int run_check_outputs(const experiment *e, char *err, size_t err_len)
{
    return check_settings(e, paths_fit, NULL, err, err_len); /* every setting: a swept path or dim too */
}

static int setting_valid(const run_config *c, const char *arg, char *err, size_t err_len)
{
    (void)arg;
    return config_check(c, err, err_len);
}

int run_check_settings(const experiment *e, char *err, size_t err_len)
{
    return check_settings(e, setting_valid, NULL, err, err_len);
}

static int data_valid(const run_config *c, const char *arg, char *err, size_t err_len)
{
    (void)arg;
    return data_check(c, err, err_len);
}

int run_check_data(const experiment *e, char *err, size_t err_len)
{
    return check_settings(e, data_valid, NULL, err, err_len);
}

/* The checkpoint `arg` is not setting c's Last.FM feature cache. */
static int not_the_cache(const run_config *c, const char *arg, char *err, size_t err_len)
{
    char cache[PATH_LEN + 64];
    if (c->data != DATA_LASTFM)
        return 0;
    data_cache_path(c, cache, sizeof cache);
    if (outdir_path_inside(arg, cache) != 2)
        return 0;
    snprintf(err, err_len, "checkpoint: %s is also the Last.FM feature cache (--feature-cache); give them "
             "different files", arg);
    return -1;
}

int run_check_checkpoint(const experiment *e, const char *path, char *err, size_t err_len)
{
    return check_settings(e, not_the_cache, path, err, err_len);
}

int run_check_memory(const experiment *e, char *err, size_t err_len)
{
    run_config *c = malloc(sizeof *c);
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t r = 0; r < e->n_readings && !rc; r++) {
        const run_config *base = &e->cfg[r];
        size_t sweeps = base->n_sweep ? base->n_sweep : 1;
        for (size_t s = 0; s < sweeps && !rc; s++) {
            if (setting_config(e, r, s, c, err, err_len)) {
                rc = -1;
                break;
            }
            if (c->data != DATA_SYNTHETIC)
                continue; /* data sets are checked when they are loaded */
            const char *names[MAX_POLICIES];
            for (size_t i = 0; i < c->n_policies; i++)
                names[i] = c->policies[i];
            c->sim.policies = names;
            c->sim.n_policies = c->n_policies;
            c->sim.max_memory = c->max_memory;
            double need;
            size_t budget = c->max_memory ? c->max_memory : colb_memory_budget_default();
            if (colb_sim_memory(&c->sim, &need) == COLB_OK && need > (double)budget) {
                char a[32], b[32]; /* in --max-memory's units */
                colb_memory_text(a, sizeof a, need);
                colb_memory_text(b, sizeof b, (double)budget);
                snprintf(err, err_len,
                         "users = %zu, dim = %zu, arms = %zu, horizon = %zu, repeats = %zu, curve-points = %zu, "
                         "threads = %zu: the run needs about %s of memory, more than the budget of %s (--max-memory%s)",
                         c->sim.env.users, c->sim.env.dim, c->sim.env.arms, c->sim.horizon, c->sim.repeats,
                         c->sim.curve_points, c->sim.threads, a, b,
                         c->max_memory ? "" : "; default: 80% of the available memory");
                rc = -1;
            }
        }
    }
    free(c);
    return rc;
}

size_t experiment_jobs(const experiment *e)
{
    /* The jobs that will run: settings x policies x repeats, less the
     * policies whose signature repeats (see run_setting). */
    size_t n = 0, n_sigs = 0, cap = 0;
    char **sigs = NULL;
    run_config *c = malloc(sizeof *c);
    char err[256];
    for (size_t r = 0; c && r < e->n_readings; r++) {
        const run_config *base = &e->cfg[r];
        size_t sweeps = base->n_sweep ? base->n_sweep : 1;
        for (size_t s = 0; s < sweeps; s++) {
            config_at(base, s, c, err, sizeof err); /* every value was checked before */
            for (size_t i = 0; i < c->n_policies; i++) {
                char *sig = config_signature(c, c->policies[i]);
                size_t j = 0;
                while (sig && j < n_sigs && strcmp(sigs[j], sig))
                    j++;
                if (sig && j < n_sigs && strcmp(c->policies[i], "random")) {
                    free(sig);
                    continue;
                }
                n += c->sim.repeats;
                if (sig && n_sigs == cap) {
                    cap = cap ? 2 * cap : 64;
                    char **ns = realloc(sigs, cap * sizeof *ns);
                    if (!ns) {
                        free(sig);
                        continue;
                    }
                    sigs = ns;
                }
                if (sig)
                    sigs[n_sigs++] = sig;
            }
        }
    }
    for (size_t j = 0; j < n_sigs; j++)
        free(sigs[j]);
    free(sigs);
    free(c);
    return n;
}

const result_row *result_find(const result_set *rs, size_t r, size_t s, const char *policy)
{
    for (size_t i = 0; i < rs->n_rows; i++) {
        const result_row *w = &rs->rows[i];
        if (w->reading == r && w->sweep == s && !strcmp(w->policy, policy))
            return w;
    }
    return NULL;
}

double result_mean(const result_row *w, metric m)
{
    return m == METRIC_RATIO ? w->ratio_mean : w->mean;
}

double result_ci(const result_row *w, metric m)
{
    return m == METRIC_RATIO ? w->ratio_ci : w->ci;
}

const double *result_repeats(const result_row *w, metric m)
{
    if (!w->rep)
        return NULL;
    return m == METRIC_RATIO ? w->rep + w->repeats : w->rep;
}

/* The name of the results' setting column: the key that every reading
 * with a sweep sweeps, or "setting" when none sweeps, when they sweep
 * different keys, or when the key is "repeats", which names a column of
 * its own (*mixed set in the last two cases: each row's label says its
 * key). */
static const char *sweep_column(const experiment *e, int *mixed)
{
    const char *key = NULL;
    *mixed = 0;
    for (size_t r = 0; r < e->n_readings; r++)
        if (e->cfg[r].n_sweep) {
            if (key && strcmp(key, e->cfg[r].sweep_key))
                *mixed = 1;
            key = key ? key : e->cfg[r].sweep_key;
        }
    if (key && !strcmp(key, "repeats"))
        *mixed = 1; /* a second "repeats" column would trip CSV readers */
    return key && !*mixed ? key : "setting";
}

/* The label of sweep index s of reading r in the setting column: its value,
 * KEY=VALUE when the readings sweep different keys, "-" without a sweep. */
static const char *sweep_label(const experiment *e, size_t r, size_t s, int mixed, char *buf, size_t len)
{
    const run_config *c = &e->cfg[r];
    if (!c->n_sweep)
        return "-";
    if (!mixed)
        return c->sweep_values[s];
    snprintf(buf, len, "%s=%s", c->sweep_key, c->sweep_values[s]);
    return buf;
}

static result_row *new_row(result_set *rs)
{
    if (rs->n_rows == rs->cap) {
        size_t cap = rs->cap ? 2 * rs->cap : 16;
        result_row *nr = realloc(rs->rows, cap * sizeof *nr);
        if (!nr)
            return NULL;
        rs->rows = nr;
        rs->cap = cap;
    }
    result_row *r = &rs->rows[rs->n_rows++];
    memset(r, 0, sizeof *r);
    return r;
}

void result_set_free(result_set *rs)
{
    for (size_t i = 0; i < rs->n_rows; i++) {
        free(rs->rows[i].signature);
        free(rs->rows[i].round);
        free(rs->rows[i].cmean); /* cci, rmean, rci live in the same block */
        free(rs->rows[i].rep);
    }
    free(rs->rows);
    memset(rs, 0, sizeof *rs);
}

size_t result_reading_policies(const result_set *rs, size_t r, const char *names[MAX_POLICIES])
{
    size_t n = 0;
    for (size_t i = 0; i < rs->n_rows && n < MAX_POLICIES; i++) {
        const result_row *w = &rs->rows[i];
        if (w->reading != r)
            continue;
        size_t j = 0;
        while (j < n && strcmp(names[j], w->policy))
            j++;
        if (j == n)
            names[n++] = w->policy;
    }
    return n;
}

void paired_ratio(const double *x, const double *base, size_t n, double *work, double *mean,
                  double *ci)
{
    for (size_t j = 0; j < n; j++) {
        if (!(base[j] > 0.0) || !isfinite(base[j])) {
            *mean = *ci = NAN;
            return;
        }
        work[j] = x[j] / base[j];
    }
    if (!n) {
        *mean = *ci = NAN;
        return;
    }
    colb_mean_ci95(work, n, mean, ci);
}

/* The summary of policy i of a simulator result into `row`; rnd: the
 * random policy's index in res, or (size_t)-1. */
static int summarize(result_row *row, const colb_sim_result *res, size_t i, size_t rnd)
{
    size_t R = colb_sim_result_repeats(res), K = colb_sim_result_points(res);
    double *x = malloc(3 * R * sizeof(double));
    row->repeats = R;
    row->points = K;
    row->has_ratio = rnd != (size_t)-1;
    row->round = malloc(K * sizeof(size_t));
    row->cmean = malloc(4 * K * sizeof(double));
    row->rep = malloc(2 * R * sizeof(double));
    if (!x || !row->round || !row->cmean || !row->rep) {
        free(x);
        return -1;
    }
    double *y = x + R, *work = x + 2 * R;
    row->cci = row->cmean + K;
    row->rmean = row->cmean + 2 * K;
    row->rci = row->cmean + 3 * K;
    for (size_t k = 0; k < K; k++) {
        row->round[k] = colb_sim_result_point_round(res, k);
        for (size_t j = 0; j < R; j++) {
            x[j] = colb_sim_result_regret(res, i, j, k);
            y[j] = row->has_ratio ? colb_sim_result_regret(res, rnd, j, k) : NAN;
        }
        colb_mean_ci95(x, R, &row->cmean[k], &row->cci[k]);
        paired_ratio(x, y, R, work, &row->rmean[k], &row->rci[k]);
        if (k == K - 1) { /* at T, per repeat, for paired verdicts */
            memcpy(row->rep, x, R * sizeof(double));
            for (size_t j = 0; j < R; j++)
                row->rep[R + j] = isfinite(row->rmean[k]) ? work[j] : NAN;
        }
    }
    free(x);
    row->mean = row->cmean[K - 1];
    row->ci = row->cci[K - 1];
    row->ratio_mean = row->rmean[K - 1];
    row->ratio_ci = row->rci[K - 1];
    row->wall = 0.0;
    for (size_t j = 0; j < R; j++)
        row->wall += colb_sim_result_wall(res, i, j);
    snprintf(row->info, sizeof row->info, "%s", colb_sim_result_info(res, i, 0));
    return 0;
}

/* A deep copy of row `from` (a cached run) into `to`. */
static int copy_row(result_row *to, const result_row *from)
{
    size_t K = from->points;
    *to = *from;
    to->round = malloc(K * sizeof(size_t));
    to->cmean = malloc(4 * K * sizeof(double));
    to->rep = from->rep ? malloc(2 * from->repeats * sizeof(double)) : NULL;
    to->signature = NULL;
    if (!to->round || !to->cmean || (from->rep && !to->rep))
        return -1;
    if (from->rep)
        memcpy(to->rep, from->rep, 2 * from->repeats * sizeof(double));
    memcpy(to->round, from->round, K * sizeof(size_t));
    memcpy(to->cmean, from->cmean, 4 * K * sizeof(double));
    to->cci = to->cmean + K;
    to->rmean = to->cmean + 2 * K;
    to->rci = to->cmean + 3 * K;
    return 0;
}

/* Row `row` takes the numbers of an earlier run with the same signature,
 * keeping its own place and signature. */
static int copy_cached(result_row *row, const result_row *from)
{
    char *keep = row->signature;
    size_t r0 = row->reading, s0 = row->sweep;
    int rc = copy_row(row, from);
    row->signature = keep;
    row->reading = r0;
    row->sweep = s0;
    return rc;
}

/* The end of a setting: its jobs counted in the progress, rc (nonzero: out
 * of memory) said in err. */
static int setting_done(progress *pg, size_t jobs, int rc, char *err, size_t err_len)
{
    if (pg) {
        pg->done_before += jobs;
        progress_step(pg, pg->label);
    }
    if (rc)
        snprintf(err, err_len, "out of memory");
    return rc;
}

/* tune = 1: every simulated policy but random gets its fixed width alpha by
 * the same burn-in tuning (colb_width_tune), then runs with it; a random
 * policy of the setting runs beside each so that ratios stay paired. Rows
 * [first, first + n_policies) of rs are filled. Such a setting runs whole:
 * an interruption (the spec's stop) returns 1 with nothing kept, and a
 * resumed run starts the setting over (results are the same). */
static int run_tuned(result_set *rs, size_t first, run_config *c, const char **names, size_t n_sim,
                     const size_t *sim_of, const long *cached_from, progress *pg, run_session *ss,
                     char *err, size_t err_len)
{
    static const double alphas[] = COLB_WIDTH_TUNE_ALPHAS;
    int has_random = 0;
    for (size_t k = 0; k < n_sim; k++)
        has_random |= !strcmp(names[k], "random");
    int rc = 0;
    for (size_t i = 0; i < c->n_policies && !rc; i++) {
        result_row *row = &rs->rows[first + i];
        if (cached_from[i] >= 0) {
            rc = copy_cached(row, &rs->rows[cached_from[i]]);
            continue;
        }
        const char *pol = names[sim_of[i]];
        colb_sim_spec s = c->sim;
        char msg[512];
        double a = 0.0;
        colb_status st = COLB_OK;
        const char *stage = "";
        if (strcmp(pol, "random")) {
            stage = "width tuning: ";
            st = colb_width_tune(&c->sim, pol, alphas, COLB_WIDTH_TUNE_N_ALPHAS, c->tune_burn_in,
                                 c->tune_repeats, &a, msg, sizeof msg);
            s.policy.learner.width = COLB_WIDTH_FIXED;
            s.policy.learner.alpha = a;
            s.policy.club_own_alpha = 0;
        }
        const char *pair[2] = { pol, "random" };
        int with_random = has_random && strcmp(pol, "random");
        s.policies = pair;
        s.n_policies = with_random ? 2 : 1;
        colb_sim_result *res = NULL;
        if (st == COLB_OK) {
            stage = "";
            st = colb_sim_run(&s, &res, msg, sizeof msg);
        }
        if (st == COLB_EINTR && ss) { /* this setting starts over on resume */
            ss->paused = 1;
            ss->paused_horizon = c->sim.horizon;
            return 1;
        }
        if (st != COLB_OK) {
            snprintf(err, err_len, "%s%s", stage, msg);
            return -1;
        }
        rc = summarize(row, res, 0, with_random || !strcmp(pol, "random") ? (with_random ? 1 : 0)
                                                                         : (size_t)-1);
        if (strcmp(pol, "random"))
            snprintf(row->tuned_width, sizeof row->tuned_width, "alpha=%g", a);
        colb_sim_result_free(res);
    }
    return setting_done(pg, n_sim * c->sim.repeats, rc, err, err_len);
}

/* Run one setting: the policies whose signature was seen before are copied
 * from the earlier row, the others go through the simulator together. */
static int run_setting(result_set *rs, size_t ri, size_t si, run_config *c, data_env *data,
                       progress *pg, run_session *ss, char *err, size_t err_len)
{
    size_t P = c->n_policies, first = rs->n_rows;
    const char *names[MAX_POLICIES];
    size_t sim_of[MAX_POLICIES], n_sim = 0, rnd_sim = (size_t)-1;
    long cached_from[MAX_POLICIES];
    for (size_t i = 0; i < P; i++) {
        result_row *row = new_row(rs);
        char *sig = row ? config_signature(c, c->policies[i]) : NULL;
        if (!sig) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        row->reading = ri;
        row->sweep = si;
        snprintf(row->policy, NAME_LEN, "%s", c->policies[i]);
        row->signature = sig;
        cached_from[i] = -1;
        for (size_t j = 0; j < first && strcmp(c->policies[i], "random"); j++)
            if (rs->rows[j].signature && !strcmp(rs->rows[j].signature, sig))
                cached_from[i] = (long)j;
        if (cached_from[i] < 0) {
            sim_of[i] = n_sim;
            names[n_sim++] = c->policies[i];
            if (!strcmp(c->policies[i], "random"))
                rnd_sim = sim_of[i];
        }
    }
    /* a setting saved in the resumed checkpoint comes back with its CLUB
     * constants: no tuning again */
    colb_sim *sim = NULL;
    int saved = 0;
    c->sim.policies = names;
    c->sim.n_policies = n_sim;
    if (ss) {
        c->sim.stop = interrupt_requested;
        if (n_sim && session_sim(ss, ri, si, c, data->ds, 0, rs->tuned[ri][si], &sim, &saved, err, err_len))
            return -1;
    }
    if (c->club_tune) {
        for (size_t i = 0; i < P; i++)
            if (!strcmp(c->policies[i], "club")) {
                if (cached_from[i] >= 0) {
                    const result_row *src = &rs->rows[cached_from[i]];
                    memmove(rs->tuned[ri][si], rs->tuned[src->reading][src->sweep], sizeof rs->tuned[ri][si]);
                } else if (!saved) {
                    int t = data_tune_club(data, c, rs->tuned[ri][si], err, err_len);
                    if (t > 0 && ss) { /* interrupted: this setting starts over on resume */
                        ss->paused = 1;
                        ss->paused_horizon = c->sim.horizon;
                        return 1;
                    }
                    if (t)
                        return -1;
                }
            }
    }
    if (c->tune)
        return run_tuned(rs, first, c, names, n_sim, sim_of, cached_from, pg, ss, err, err_len);
    const colb_sim_result *res = NULL;
    if (n_sim) {
        char msg[512];
        if (!sim && (ss ? session_sim(ss, ri, si, c, data->ds, 1, rs->tuned[ri][si], &sim, &saved, err, err_len)
                        : colb_sim_create(&c->sim, &sim, err, err_len) != COLB_OK))
            return -1;
        colb_status st = colb_sim_advance(sim, ss ? ss->stop_after : 0, msg, sizeof msg);
        if (st != COLB_OK && st != COLB_EINTR) {
            colb_sim_free(sim);
            snprintf(err, err_len, "%s", msg);
            return -1;
        }
        int done = colb_sim_finished(sim);
        if (ss && !done) {
            ss->paused = 1;
            ss->paused_round = colb_sim_round(sim);
            ss->paused_horizon = c->sim.horizon;
            for (size_t i = 0; i < n_sim; i++)
                for (size_t r = 0; r < c->sim.repeats; r++)
                    if (colb_sim_job_round(sim, i, r) > ss->paused_max)
                        ss->paused_max = colb_sim_job_round(sim, i, r);
        }
        /* CLUB's tuned constants go with the simulation only when it runs
         * CLUB: a setting whose CLUB row is an earlier setting's shares the
         * text of its constants, not the constants (its spec has none) */
        int runs_club = 0;
        for (size_t i = 0; i < n_sim; i++)
            runs_club |= !strcmp(names[i], "club");
        if (ss && session_keep(ss, sim, ri, si, c, data->ds, runs_club ? rs->tuned[ri][si] : NULL, err,
                               err_len))
            return -1;
        if (!done)
            return ss ? 1 : -1;
        res = colb_sim_results(sim);
    }
    int rc = 0;
    for (size_t i = 0; i < P && !rc; i++) {
        result_row *row = &rs->rows[first + i];
        if (cached_from[i] >= 0) {
            rc = copy_cached(row, &rs->rows[cached_from[i]]);
        } else {
            rc = summarize(row, res, sim_of[i], rnd_sim);
        }
    }
    if (!ss)
        colb_sim_free(sim); /* else the session keeps it for checkpoints */
    return setting_done(pg, n_sim * c->sim.repeats, rc, err, err_len);
}

int run_experiment(const experiment *e, result_set *rs, progress *pg, run_session *ss, char *err,
                   size_t err_len)
{
    memset(rs, 0, sizeof *rs);
    rs->e = e;
    double t0 = wall_now();
    run_config *c = malloc(sizeof *c);
    if (!c) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t ri = 0; ri < e->n_readings && !rc; ri++) {
        const run_config *base = &e->cfg[ri];
        size_t sweeps = base->n_sweep ? base->n_sweep : 1;
        for (size_t si = 0; si < sweeps && !rc; si++) {
            if (config_at(base, si, c, err, err_len)) {
                rc = -1;
                break;
            }
            if (config_check(c, err, err_len)) {
                rc = -1;
                break;
            }
            data_env data;
            if (data_env_open(&data, c, err, err_len)) {
                rc = -1;
                break;
            }
            if (data.ds) {
                data_used *u = &rs->data[ri][si];
                u->set = 1;
                u->users = c->sim.env.users;
                u->dim = c->sim.env.dim;
                u->items = colb_dataset_items(data.ds);
                u->protocol = data.protocol;
            }
            if (pg) {
                /* "[FIGURE] [READING] [KEY=VALUE]", or "run" when all are absent */
                const char *rd = e->n_readings > 1 ? e->reading[ri] : "";
                char kv[96] = "";
                if (base->n_sweep)
                    snprintf(kv, sizeof kv, "%s=%s", base->sweep_key, base->sweep_values[si]);
                int n = snprintf(pg->label, sizeof pg->label, "%s%s%s%s%s", pg->prefix,
                                 pg->prefix[0] && (rd[0] || kv[0]) ? " " : "", rd,
                                 rd[0] && kv[0] ? " " : "", pg->prefix[0] || rd[0] || kv[0] ? kv : "run");
                if (n >= (int)sizeof pg->label) /* a progress line's label: cut, marked */
                    memcpy(pg->label + sizeof pg->label - 4, "...", 4);
                c->sim.progress = progress_update;
                c->sim.progress_ctx = pg;
            }
            rc = run_setting(rs, ri, si, c, &data, pg, ss, err, err_len);
            if (rc == 1) { /* the stopped jobs' environments read the data set */
                ss->dataset = data.ds;
                data.ds = NULL;
            }
            data_env_close(&data);
        }
    }
    free(c);
    rs->wall = wall_now() - t0;
    return rc;
}

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* What the data sets of reading ri gave its settings, as comments (a
 * reader of settings.txt skips them; the options above stay the reading's):
 * "# users = 1892 (from the data)", with ", at top-users=10" when a sweep
 * makes several settings, and the protocol when `auto` chose it. Nothing
 * for synthetic users. */
static void data_used_dump(FILE *f, const result_set *rs, size_t ri)
{
    const run_config *c = &rs->e->cfg[ri];
    size_t sweeps = c->n_sweep ? c->n_sweep : 1;
    int header = 0;
    for (size_t si = 0; si < sweeps; si++) {
        const data_used *u = &rs->data[ri][si];
        if (!u->set)
            continue;
        if (!header++)
            fputs("# what the run took from the data set (recorded here, not options)\n", f);
        char at[2 * NAME_LEN + 8] = "", proto[NAME_LEN];
        if (c->n_sweep)
            snprintf(at, sizeof at, ", at %s=%s", c->sweep_key, c->sweep_values[si]);
        fprintf(f, "# users = %zu (from the data%s)\n", u->users, at);
        fprintf(f, "# dim = %zu (from the data%s)\n", u->dim, at);
        fprintf(f, "# items = %zu (from the data%s)\n", u->items, at);
        if (c->n_sweep && !strcmp(c->sweep_key, "protocol"))
            snprintf(proto, sizeof proto, "%s", c->sweep_values[si]);
        else
            config_get(c, "protocol", proto, sizeof proto);
        if (!strcmp(proto, "auto"))
            fprintf(f, "# protocol = %s (auto chose it%s)\n", u->protocol == 2 ? "per-user" : "shared", at);
    }
}

static void csv_num(FILE *f, double v)
{
    if (isnan(v))
        fputs("", f);
    else
        fprintf(f, "%.10g", v);
}

int write_results(const result_set *rs, const char *dir, char *err, size_t err_len)
{
    const experiment *e = rs->e;
    int mixed;
    const char *skey = sweep_column(e, &mixed);
    char lab[2 * NAME_LEN + 2];
    if (make_dirs(dir, err, err_len))
        return -1;
    char path[PATH_LEN + 32];
    afile a;
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    if (afile_open(&a, path, err, err_len))
        return -1;
    fprintf(a.f, "reading,%s,policy,repeats,regret_mean,regret_ci95,ratio_random_mean,ratio_random_ci95,wall_s,tuned,info\n", skey);
    for (size_t i = 0; i < rs->n_rows; i++) {
        const result_row *r = &rs->rows[i];
        csv_field(a.f, e->reading[r->reading]);
        fputc(',', a.f);
        csv_field(a.f, sweep_label(e, r->reading, r->sweep, mixed, lab, sizeof lab));
        fprintf(a.f, ",%s,%zu,%.10g,", r->policy, r->repeats, r->mean);
        csv_num(a.f, r->ci);
        fputc(',', a.f);
        csv_num(a.f, r->ratio_mean);
        fputc(',', a.f);
        csv_num(a.f, r->ratio_ci);
        fprintf(a.f, ",%.4f,", r->wall);
        csv_field(a.f, r->tuned_width[0] ? r->tuned_width
                       : !strcmp(r->policy, "club") ? rs->tuned[r->reading][r->sweep] : "");
        fputc(',', a.f);
        csv_field(a.f, r->info);
        fputc('\n', a.f);
    }
    if (afile_commit(&a, err, err_len))
        return -1;

    snprintf(path, sizeof path, "%s/curves.csv", dir);
    if (afile_open(&a, path, err, err_len))
        return -1;
    fprintf(a.f, "reading,%s,policy,round,regret_mean,regret_ci95,ratio_random_mean,ratio_random_ci95\n", skey);
    for (size_t i = 0; i < rs->n_rows; i++) {
        const result_row *r = &rs->rows[i];
        for (size_t k = 0; k < r->points; k++) {
            csv_field(a.f, e->reading[r->reading]);
            fputc(',', a.f);
            csv_field(a.f, sweep_label(e, r->reading, r->sweep, mixed, lab, sizeof lab));
            fprintf(a.f, ",%s,%zu,%.10g,", r->policy, r->round[k], r->cmean[k]);
            csv_num(a.f, r->cci[k]);
            fputc(',', a.f);
            csv_num(a.f, r->rmean[k]);
            fputc(',', a.f);
            csv_num(a.f, r->rci[k]);
            fputc('\n', a.f);
        }
    }
    if (afile_commit(&a, err, err_len))
        return -1;

    snprintf(path, sizeof path, "%s/settings.txt", dir);
    if (afile_open(&a, path, err, err_len))
        return -1;
    fprintf(a.f, "# colb %s, built with: %s\n", COLB_VERSION_STRING, COLB_BUILD_FLAGS);
    fprintf(a.f, "# wall time %.3f s\n", rs->wall);
    for (size_t ri = 0; ri < e->n_readings; ri++) {
        config_dump(a.f, e->reading[ri], &e->cfg[ri]);
        data_used_dump(a.f, rs, ri);
        fprintf(a.f, "# how each policy explores (width.POLICY)\n");
        width_dump(a.f, &e->cfg[ri]);
    }
    return afile_commit(&a, err, err_len);
}

/* Rows [i, j) of one setting (same reading and sweep index). */
static size_t setting_end(const result_set *rs, size_t i)
{
    size_t j = i;
    while (j < rs->n_rows && rs->rows[j].reading == rs->rows[i].reading &&
           rs->rows[j].sweep == rs->rows[i].sweep)
        j++;
    return j;
}

static int same_policies(const result_set *rs, size_t a, size_t b)
{
    size_t ea = setting_end(rs, a), eb = setting_end(rs, b);
    if (ea - a != eb - b)
        return 0;
    for (size_t k = 0; k < ea - a; k++)
        if (strcmp(rs->rows[a + k].policy, rs->rows[b + k].policy))
            return 0;
    return 1;
}

static void table(FILE *f, const result_set *rs, int ratio)
{
    const experiment *e = rs->e;
    int mixed, one_T = 1, one_R = 1;
    const char *skey = sweep_column(e, &mixed);
    char lab[2 * NAME_LEN + 2];
    const result_row *r0 = rs->n_rows ? &rs->rows[0] : NULL;
    if (!r0 || !r0->points)
        return;
    for (size_t i = 1; i < rs->n_rows; i++) { /* a swept horizon or repeats, or readings that differ */
        const result_row *q = &rs->rows[i];
        one_T &= q->points && q->round[q->points - 1] == r0->round[r0->points - 1];
        one_R &= q->repeats == r0->repeats;
    }
    /* the setting column as wide as its widest label (repeats=30, horizon=1000;
     * 8 at least): cut, the labels of a sweep of repeats were all "repeats=" */
    int wide = 8;
    for (size_t i = 0; i < rs->n_rows; i++) {
        const result_row *q = &rs->rows[i];
        int n = (int)strlen(sweep_label(e, q->reading, q->sweep, mixed, lab, sizeof lab));
        wide = n > wide ? n : wide;
    }
    const char *what = ratio ? "cumulative regret / random policy's" : "cumulative regret";
    if (one_T)
        fprintf(f, "%s per user at T = %zu", what, r0->round[r0->points - 1]);
    else
        fprintf(f, "%s per user at each setting's horizon T", what);
    if (one_R)
        fprintf(f, " (mean +- 95%% CI over %zu repeats)\n", r0->repeats);
    else
        fprintf(f, " (mean +- 95%% CI over each setting's repeats)\n");
    size_t header = (size_t)-1;
    for (size_t i = 0; i < rs->n_rows; i = setting_end(rs, i)) {
        if (header == (size_t)-1 || !same_policies(rs, header, i)) {
            header = i;
            fprintf(f, "%-12s %-*s", "reading", wide, strcmp(skey, "setting") ? skey : "");
            for (size_t k = i; k < setting_end(rs, i); k++)
                fprintf(f, " %17s", rs->rows[k].policy);
            fputc('\n', f);
        }
        const result_row *r = &rs->rows[i];
        fprintf(f, "%-12.12s %-*s", e->reading[r->reading], wide,
                sweep_label(e, r->reading, r->sweep, mixed, lab, sizeof lab));
        for (size_t k = i; k < setting_end(rs, i); k++) {
            const result_row *q = &rs->rows[k];
            char cell[64];
            double ci = ratio ? q->ratio_ci : q->ci;
            if (!isfinite(ci)) /* one repeat: no interval */
                snprintf(cell, sizeof cell, ratio ? "%.3f +- n/a" : "%.2f +- n/a", ratio ? q->ratio_mean : q->mean);
            else if (ratio)
                snprintf(cell, sizeof cell, "%.3f +- %.3f", q->ratio_mean, ci);
            else
                snprintf(cell, sizeof cell, "%.2f +- %.2f", q->mean, ci);
            fprintf(f, " %17s", cell);
        }
        fputc('\n', f);
    }
}

void print_table(FILE *f, const result_set *rs)
{
    const run_config *c0 = &rs->e->cfg[0];
    if (c0->title[0])
        fprintf(f, "%s\n", c0->title);
    table(f, rs, 0);
    if (rs->n_rows && rs->rows[0].has_ratio && c0->data != DATA_SYNTHETIC)
        table(f, rs, 1);
    fprintf(f, "wall time: %.1f s\n", rs->wall);
}
