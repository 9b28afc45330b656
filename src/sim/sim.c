/* sim.c - the simulator of colb/sim.h: (policy, repeat) jobs on a pool of
 * threads, each job a pure function of (spec, policy, repeat). */
#include "colb/sim.h"

#include <string.h>
#include <time.h>

#include "colb/rng.h"
#include "core/util.h"
#include "data/textio.h"
#include "sim/parallel.h"

struct colb_sim_result {
    size_t P, R, K;          /* policies, repeats, checkpoints */
    size_t *point_round;     /* K */
    double *regret;          /* P x R x K */
    double *wall;            /* P x R */
    char (*info)[512];       /* P x R */
};

typedef struct job_ctx {
    const colb_sim_spec *s;
    colb_sim_result *res;
    size_t total;
    colb_status *status;     /* per job */
    char (*msg)[COLB__ERRLEN];
} job_ctx;

void colb_sim_spec_default(colb_sim_spec *s)
{
    memset(s, 0, sizeof *s);
    colb_env_params_default(&s->env);
    colb_policy_params_default(&s->policy);
    s->horizon = 1000;
    s->repeats = 30;
    s->seed = 1;
    s->threads = 1;
    s->curve_points = 100;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t derive(uint64_t seed, uint64_t stream)
{
    colb_rng g;
    colb_rng_seed(&g, seed, stream);
    return colb_rng_u64(&g);
}

/* One round under the protocol of colb/sim.h; adds the users' regret to *reg. */
static colb_status play_round(colb_env *env, colb_policy *pol, size_t N, size_t K, size_t *arms,
                              double *rewards, double *reg)
{
    colb_status st = colb_env_next_round(env);
    if (st != COLB_OK)
        return st;
    double sum = 0.0;
    if (!colb_env_shared_contexts(env)) {
        for (size_t u = 0; u < N; u++) {
            size_t a;
            if ((st = colb_policy_begin_round(pol, colb_env_contexts(env, u), K)) != COLB_OK ||
                (st = colb_policy_choose(pol, u, &a)) != COLB_OK ||
                (st = colb_policy_observe(pol, u, a, colb_env_reward(env, u, a))) != COLB_OK ||
                (st = colb_policy_end_round(pol)) != COLB_OK)
                return st;
            sum += colb_env_regret(env, u, a);
        }
        *reg += sum;
        return COLB_OK;
    }
    if ((st = colb_policy_begin_round(pol, colb_env_contexts(env, 0), K)) != COLB_OK)
        return st;
    if (colb_policy_is_sequential(pol)) {
        for (size_t u = 0; u < N; u++) {
            size_t a;
            if ((st = colb_policy_choose(pol, u, &a)) != COLB_OK ||
                (st = colb_policy_observe(pol, u, a, colb_env_reward(env, u, a))) != COLB_OK)
                return st;
            sum += colb_env_regret(env, u, a);
        }
    } else {
        if ((st = colb_policy_choose_all(pol, arms)) != COLB_OK)
            return st;
        for (size_t u = 0; u < N; u++) {
            rewards[u] = colb_env_reward(env, u, arms[u]);
            sum += colb_env_regret(env, u, arms[u]);
        }
        if ((st = colb_policy_observe_all(pol, arms, rewards)) != COLB_OK)
            return st;
    }
    *reg += sum;
    return colb_policy_end_round(pol);
}

static colb_status run_job(job_ctx *c, size_t i, size_t r, char *msg)
{
    const colb_sim_spec *s = c->s;
    colb_sim_result *res = c->res;
    double t0 = now_s();
    uint64_t env_seed = derive(s->seed, 0x10000000ULL + r);
    colb_env *env = NULL;
    colb_policy *pol = NULL;
    size_t *labels = NULL, *arms = NULL;
    double *rewards = NULL;
    colb_status st;
    if (s->make_env)
        st = s->make_env(s->env_ctx, env_seed, &env, msg, COLB__ERRLEN);
    else
        st = colb_env_create(&s->env, env_seed, &env, msg, COLB__ERRLEN);
    if (st != COLB_OK)
        goto out;
    size_t N = colb_env_users(env), K = colb_env_arms(env);
    colb_policy_params pp = s->policy;
    pp.users = N;
    pp.dim = colb_env_dim(env);
    pp.horizon = s->horizon;
    /* the policy's stream is named by its name, not by its list position */
    pp.seed = derive(s->seed ^ colb__fnv1a64(COLB__FNV64_INIT, s->policies[i], strlen(s->policies[i])),
                     0x20000000ULL + r);
    labels = colb__malloc(N, sizeof(size_t));
    arms = colb__malloc(N, sizeof(size_t));
    rewards = colb__malloc(N, sizeof(double));
    if (!labels || !arms || !rewards) {
        st = colb__err(msg, COLB_ENOMEM, "out of memory");
        goto out;
    }
    size_t L = 0;
    if (colb_env_true_clusters(env, labels, &L) == COLB_OK) {
        pp.true_cluster = labels;
        pp.n_clusters = L;
    } else {
        pp.true_cluster = NULL;
        pp.n_clusters = 0;
    }
    if ((st = colb_policy_create(s->policies[i], &pp, &pol, msg, COLB__ERRLEN)) != COLB_OK)
        goto out;
    double reg = 0.0;
    size_t k = 0;
    double *curve = res->regret + (i * res->R + r) * res->K;
    for (size_t t = 1; t <= s->horizon; t++) {
        if ((st = play_round(env, pol, N, K, arms, rewards, &reg)) != COLB_OK) {
            colb__err(msg, st, "%s, round %zu: %s", s->policies[i], t, colb_policy_last_error(pol));
            goto out;
        }
        while (k < res->K && res->point_round[k] == t)
            curve[k++] = reg / (double)N;
    }
    snprintf(res->info[i * res->R + r], sizeof res->info[0], "%s", colb_policy_info(pol));
out:
    colb_policy_free(pol);
    colb_env_free(env);
    free(labels);
    free(arms);
    free(rewards);
    res->wall[i * res->R + r] = now_s() - t0;
    return st;
}

/* Job j of the parallel loop. Jobs run repeat-major so that early progress
 * covers all policies. */
static void job_task(void *ctx, size_t j)
{
    job_ctx *c = ctx;
    size_t P = c->res->P, r = j / P, i = j % P;
    c->status[j] = run_job(c, i, r, c->msg[j]);
}

static void job_done(void *ctx, size_t done)
{
    job_ctx *c = ctx;
    if (c->s->progress)
        c->s->progress(c->s->progress_ctx, done, c->total);
}

void colb_sim_result_free(colb_sim_result *r)
{
    if (!r)
        return;
    free(r->point_round);
    free(r->regret);
    free(r->wall);
    free(r->info);
    free(r);
}

colb_status colb_sim_run(const colb_sim_spec *s, colb_sim_result **out, char *msg, size_t msg_len)
{
    if (!out)
        return COLB_EINVAL;
    *out = NULL;
    if (!s || !s->policies || s->n_policies == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "no policies to run");
    if (s->horizon == 0 || s->repeats == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "horizon and repeats must be >= 1");
    for (size_t i = 0; i < s->n_policies; i++) {
        /* validate names and parameters once, before any work */
        colb_policy_params pp = s->policy;
        pp.users = s->make_env ? 1 : s->env.users;
        pp.dim = s->make_env ? 1 : s->env.dim;
        pp.horizon = s->horizon;
        if (colb_policy_needs_true_clusters(s->policies[i])) {
            if (s->make_env || s->env.kind != COLB_ENV_CLUSTERED) {
                if (msg && msg_len)
                    snprintf(msg, msg_len, "%s: needs an environment with true clusters", s->policies[i]);
                return COLB_EINVAL;
            }
            continue; /* the labels come from the environment */
        }
        colb_status st = colb_policy_params_check(s->policies[i], &pp, msg, msg_len);
        if (st != COLB_OK)
            return st;
    }
    if (!s->make_env) {
        colb_status st = colb_env_params_check(&s->env, msg, msg_len);
        if (st != COLB_OK)
            return st;
    }
    colb_sim_result *res = calloc(1, sizeof *res);
    if (!res)
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    res->P = s->n_policies;
    res->R = s->repeats;
    size_t cp = s->curve_points ? s->curve_points : 100;
    res->K = cp < s->horizon ? cp : s->horizon;
    size_t jobs = res->P * res->R;
    res->point_round = colb__malloc(res->K, sizeof(size_t));
    res->regret = colb__calloc(jobs, res->K * sizeof(double));
    res->wall = colb__calloc(jobs, sizeof(double));
    res->info = colb__calloc(jobs, sizeof res->info[0]);
    job_ctx c = { .s = s, .res = res, .total = jobs };
    c.status = colb__calloc(jobs, sizeof(colb_status));
    c.msg = colb__calloc(jobs, sizeof c.msg[0]);
    if (!res->point_round || !res->regret || !res->wall || !res->info || !c.status || !c.msg) {
        free(c.status);
        free(c.msg);
        colb_sim_result_free(res);
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < res->K; k++) /* ceil((k+1) T / K): the last is T */
        res->point_round[k] = ((k + 1) * s->horizon + res->K - 1) / res->K;
    colb__parallel_for(jobs, s->threads, job_task, job_done, &c);
    colb_status st = COLB_OK;
    for (size_t j = 0; j < jobs && st == COLB_OK; j++)
        if (c.status[j] != COLB_OK) {
            st = c.status[j];
            if (msg && msg_len)
                snprintf(msg, msg_len, "%s (repeat %zu): %s", s->policies[j % res->P],
                         j / res->P + 1, c.msg[j][0] ? c.msg[j] : colb_strerror(st));
        }
    free(c.status);
    free(c.msg);
    if (st != COLB_OK) {
        colb_sim_result_free(res);
        return st;
    }
    *out = res;
    return COLB_OK;
}

size_t colb_sim_result_policies(const colb_sim_result *r) { return r ? r->P : 0; }
size_t colb_sim_result_repeats(const colb_sim_result *r) { return r ? r->R : 0; }
size_t colb_sim_result_points(const colb_sim_result *r) { return r ? r->K : 0; }

size_t colb_sim_result_point_round(const colb_sim_result *r, size_t k)
{
    return r && k < r->K ? r->point_round[k] : 0;
}

double colb_sim_result_regret(const colb_sim_result *r, size_t i, size_t j, size_t k)
{
    if (!r || i >= r->P || j >= r->R || k >= r->K)
        return NAN;
    return r->regret[(i * r->R + j) * r->K + k];
}

double colb_sim_result_wall(const colb_sim_result *r, size_t i, size_t j)
{
    return r && i < r->P && j < r->R ? r->wall[i * r->R + j] : NAN;
}

const char *colb_sim_result_info(const colb_sim_result *r, size_t i, size_t j)
{
    return r && i < r->P && j < r->R ? r->info[i * r->R + j] : "";
}

/* Two-sided 97.5% quantile of Student's t with nu degrees of freedom:
 * exact table to 30, then the Cornish-Fisher expansion (error < 1e-4). */
static double t975(size_t nu)
{
    static const double tab[31] = { 0, 12.706204736, 4.302652730, 3.182446305, 2.776445105,
        2.570581836, 2.446911851, 2.364624252, 2.306004135, 2.262157163, 2.228138852,
        2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546, 2.119905299,
        2.109815578, 2.100922040, 2.093024054, 2.085963447, 2.079613845, 2.073873068,
        2.068657610, 2.063898562, 2.059538553, 2.055529439, 2.051830516, 2.048407142,
        2.045229642, 2.042272456 };
    if (nu <= 30)
        return tab[nu];
    double z = 1.959963985, n = (double)nu, z3 = z * z * z, z5 = z3 * z * z;
    return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n);
}

void colb_mean_ci95(const double *x, size_t n, double *mean, double *half)
{
    double m = 0.0, v = 0.0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    m = n ? m / (double)n : NAN;
    for (size_t i = 0; i < n; i++)
        v += (x[i] - m) * (x[i] - m);
    if (mean)
        *mean = m;
    if (half)
        *half = n >= 2 ? t975(n - 1) * sqrt(v / (double)(n - 1) / (double)n) : 0.0;
}
