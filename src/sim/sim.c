/* sim.c - the simulator of colb/sim.h: (policy, repeat) jobs on a pool of
 * threads, each job a pure function of (spec, policy, repeat), run in steps
 * (colb_sim_advance) that can stop between rounds and resume - also from a
 * snapshot (sim_persist.c) - with results identical to one uninterrupted
 * run. Every job runs through one loop (job_advance, sim_job.h), which
 * CLUB's tuning also runs alone (colb__sim_run_job). */
#include "colb/sim.h"

#include <string.h>
#include <time.h>

#include "colb/limits.h"
#include "colb/rng.h"
#include "core/memory.h"
#include "core/util.h"
#include "data/textio.h"
#include "envs/env_impl.h"
#include "policies/policy_impl.h"
#include "sim/parallel.h"
#include "sim/sim_impl.h"

typedef struct job_ctx {
    colb_sim *sim;
    size_t until;
    size_t total, done_before;
    _Atomic size_t finished;  /* jobs finished in this advance */
    colb_status *status;      /* per job */
    char (*msg)[COLB__ERRLEN];
} job_ctx;

void colb_sim_spec_default(colb_sim_spec *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof *s);
    colb_env_params_default(&s->env);
    colb_policy_params_default(&s->policy);
    s->horizon = 1000;
    s->repeats = 30;
    s->seed = 1;
    s->threads = 1;
    s->curve_points = 100;
}

static uint64_t derive(uint64_t seed, uint64_t stream)
{
    colb_rng g;
    colb_rng_seed(&g, seed, stream);
    return colb_rng_u64(&g);
}

static void prefetch_env(void *env)
{
    colb__env_prefetch(env);
}

/* One round under the protocol of colb/sim.h; adds the users' regret to *reg.
 * When `more` (another round follows), the environment draws the next round
 * while the policy chooses for this one (on the policy's threads if it has
 * some: colb__policy_choose_all_with): the same values, drawn earlier.
 * ctx: K d doubles for a user's turn under the per-user protocol
 * (colb__env_contexts_into). */
static colb_status play_round(colb_env *env, colb_policy *pol, size_t N, size_t K, size_t *arms,
                              double *rewards, double *ctx, double *reg, int more)
{
    colb_status st = colb_env_next_round(env);
    if (st != COLB_OK)
        return st;
    double sum = 0.0;
    if (!colb_env_shared_contexts(env)) {
        /* contexts the environment checked once are written straight into
         * the policy's buffer and not checked again */
        double *buf = env->contexts_bounded ? colb__policy_round_buffer(pol, K) : NULL;
        int blind = buf && colb__policy_is_blind(pol); /* nothing to write for it */
        if (blind) /* but defined bytes all the same */
            memset(buf, 0, K * colb_env_dim(env) * sizeof(double));
        for (size_t u = 0; u < N; u++) {
            size_t a;
            colb__policy_prefetch_user(pol, u + 1 < N ? u + 1 : 0); /* the next turn's state */
            double r, g;
            if ((st = blind ? colb__policy_begin_round_bounded(pol, buf, K)
                      : buf ? colb__policy_begin_round_bounded(pol, colb__env_contexts_into(env, u, buf), K)
                          : colb_policy_begin_round(pol, colb__env_contexts_into(env, u, ctx), K)) != COLB_OK ||
                (st = colb_policy_choose(pol, u, &a)) != COLB_OK)
                return st;
            colb__env_outcome(env, u, a, &r, &g);
            if ((st = colb_policy_observe(pol, u, a, r)) != COLB_OK ||
                (st = colb_policy_end_round(pol)) != COLB_OK)
                return st;
            sum += g;
        }
        *reg += sum;
        return COLB_OK;
    }
    if ((st = colb_policy_begin_round(pol, colb_env_contexts(env, 0), K)) != COLB_OK)
        return st;
    if (colb_policy_is_sequential(pol)) {
        for (size_t u = 0; u < N; u++) {
            size_t a;
            double r, g;
            if ((st = colb_policy_choose(pol, u, &a)) != COLB_OK)
                return st;
            colb__env_outcome(env, u, a, &r, &g);
            if ((st = colb_policy_observe(pol, u, a, r)) != COLB_OK)
                return st;
            sum += g;
        }
    } else {
        colb__task side = { more ? prefetch_env : NULL, env };
        if ((st = colb__policy_choose_all_with(pol, arms, &side)) != COLB_OK)
            return st;
        colb__env_outcomes(env, arms, rewards, &sum);
        if ((st = colb_policy_observe_all(pol, arms, rewards)) != COLB_OK)
            return st;
    }
    *reg += sum;
    return colb_policy_end_round(pol);
}

size_t colb__sim_points(const colb_sim_spec *s)
{
    size_t cp = s->curve_points ? s->curve_points : 100;
    return cp < s->horizon ? cp : s->horizon;
}

double colb__sim_tape_bytes(const colb_sim_spec *s)
{
    size_t seg[COLB__TAPE_SEGS], w;
    if (s->n_policies < 2 || s->make_env || !colb__env_params_tape_shape(&s->env, seg, &w))
        return 0.0;
    double b = colb__tape_bytes(s->horizon, seg, w);
    return b <= COLB__TAPE_MAX_BYTES ? b : 0.0;
}

/* colb_sim_memory with repeats' shared rounds (a run to T) of `tape` bytes
 * each (0: none), one tape per thread at most: a repeat's tape lives while
 * one of its jobs runs or until its last job has started, and jobs start in
 * order, so the repeats with a live tape are those of the running jobs (the
 * one whose jobs are still starting has one running, or a thread about to
 * start one). */
static colb_status sim_memory(const colb_sim_spec *s, double tape, double *bytes)
{
    if (!s || !bytes || (s->n_policies && !s->policies))
        return COLB_EINVAL;
    double P = (double)s->n_policies, R = (double)s->repeats;
    double K = (double)colb__sim_points(s);
    double jobs = P * R;
    double results = K * 8 + jobs * (K * 8 + 8 + 512) + jobs * (sizeof(colb_status) + COLB__ERRLEN);
    double env = 0.0, pol = 0.0;
    colb_env_params ep = s->env;
    if (s->make_env)
        env = (double)s->env_bytes;
    else
        colb_env_memory(&ep, &env);
    colb_policy_params pp = s->policy;
    pp.users = s->env.users;
    pp.dim = s->env.dim;
    pp.horizon = s->horizon;
    pp.n_clusters = s->env.clusters;
    for (size_t i = 0; i < s->n_policies; i++) { /* each with its round of K arms */
        double b;
        colb_status st = colb_policy_memory(s->policies[i], &pp, &b);
        if (st != COLB_OK)
            return st;
        b += colb__policy_round_bytes_for(colb__policy_find(s->policies[i]), &pp, s->env.arms);
        if (b > pol)
            pol = b;
    }
    double threads = (double)(s->threads > 1 ? s->threads : 1);
    if (threads > jobs)
        threads = jobs;
    /* labels, arms, rewards */
    double per_job = env + pol + 24.0 * (double)s->env.users;
    double R_live = threads < R ? threads : R;
    *bytes = results + threads * per_job + R_live * tape;
    return COLB_OK;
}

/* The bytes of one repeat's tape as the run of s makes it:
 * colb__sim_tape_bytes(s) when the run fits its budget with its tapes,
 * else 0 - the tapes are an optimisation: without them every job draws its
 * repeat's rounds itself, the same values. */
static double sim_tape_in_budget(const colb_sim_spec *s)
{
    double tape = colb__sim_tape_bytes(s), need;
    if (tape > 0.0 && sim_memory(s, tape, &need) == COLB_OK &&
        colb__budget_check(need, s->max_memory, "the run", NULL, 0) == COLB_OK)
        return tape;
    return 0.0;
}

colb_status colb_sim_memory(const colb_sim_spec *s, double *bytes)
{
    if (!s)
        return COLB_EINVAL;
    return sim_memory(s, sim_tape_in_budget(s), bytes);
}

colb_status colb__sim_make_env(const colb_sim_spec *s, size_t r, colb_env **out, char *msg)
{
    uint64_t env_seed = derive(s->seed, 0x10000000ULL + r);
    if (!s->make_env)
        return colb_env_create(&s->env, env_seed, out, msg, COLB__ERRLEN);
    /* the application's code: an environment on COLB_OK, a reason
     * otherwise, is not taken on trust */
    *out = NULL;
    msg[0] = '\0';
    colb_status st = s->make_env(s->env_ctx, env_seed, out, msg, COLB__ERRLEN);
    if (st == COLB_OK && !*out)
        return colb__err(msg, COLB_EINVAL, "the environment factory (make_env) returned COLB_OK without "
                         "an environment");
    if (st != COLB_OK) {
        *out = NULL; /* not the caller's to free */
        if (!msg[0])
            colb__err(msg, st, "the environment factory (make_env) failed: %s", colb_strerror(st));
    }
    return st;
}

void colb__sim_job_params(const colb_sim_spec *s, const char *name, size_t r, size_t jobs,
                          const colb_env *env, size_t *labels, colb_policy_params *pp)
{
    size_t L = 0;
    *pp = s->policy;
    pp->users = colb_env_users(env);
    pp->dim = colb_env_dim(env);
    pp->horizon = s->horizon;
    pp->max_memory = s->max_memory;
    /* threads the jobs leave idle go to the policies (LinUCB-Ind splits its
     * users over them); decisions do not depend on it */
    size_t th = s->threads > 1 ? s->threads : 1;
    jobs = jobs ? jobs : 1;
    pp->threads = th > jobs ? th / jobs : 1;
    if (pp->threads > COLB_POLICY_THREADS_MAX)
        pp->threads = COLB_POLICY_THREADS_MAX;
    /* the policy's stream is named by its name, not by its list position;
     * an alias draws the stream of the policy it names */
    const char *canon = colb_policy_resolve(name);
    if (!canon)
        canon = name;
    pp->seed = derive(s->seed ^ colb__fnv1a64(COLB__FNV64_INIT, canon, strlen(canon)),
                      0x20000000ULL + r);
    if (colb_env_true_clusters(env, labels, &L) == COLB_OK) {
        pp->true_cluster = labels;
        pp->n_clusters = L;
    } else {
        pp->true_cluster = NULL;
        pp->n_clusters = 0;
    }
}

/* Create a NEW job's environment and policy (it becomes LIVE). */
static colb_status job_start(const colb_sim_spec *s, const char *name, size_t r, size_t jobs,
                             colb__sim_job *job, char *msg)
{
    colb_env *env = NULL;
    colb_status st = colb__sim_make_env(s, r, &env, msg);
    if (st != COLB_OK)
        return st;
    size_t N = colb_env_users(env);
    colb_policy_params pp;
    size_t *labels = colb__malloc(N, sizeof(size_t));
    if (!labels) {
        colb_env_free(env);
        return colb__err(msg, COLB_ENOMEM, "out of memory");
    }
    colb__sim_job_params(s, name, r, jobs, env, labels, &pp);
    colb_policy *pol = NULL;
    st = colb_policy_create(name, &pp, &pol, msg, COLB__ERRLEN);
    free(labels);
    if (st != COLB_OK) {
        colb_env_free(env);
        return st;
    }
    job->env = env;
    job->pol = pol;
    job->state = COLB__JOB_LIVE;
    return COLB_OK;
}

/* Play a LIVE job's rounds t+1 .. run->until, recording the checkpoints
 * they pass: the one loop of every job. Stops early with COLB_EINTR when
 * s->stop asks (before every round but the call's first), or when
 * run->hopeless does. On a round's error the job stays at its last complete
 * round. */
static colb_status job_advance(const colb_sim_spec *s, const char *name, colb__sim_job *job,
                               colb__job_run *run, char *msg)
{
    size_t N = colb_env_users(job->env), K = colb_env_arms(job->env);
    size_t *arms = colb__malloc(N, sizeof(size_t));
    double *rewards = colb__malloc(N, sizeof(double));
    double *ctx = colb__malloc(K * colb_env_dim(job->env), sizeof(double)); /* a turn's contexts (per-user protocol) */
    if (!arms || !rewards || !ctx) {
        free(arms);
        free(rewards);
        free(ctx);
        return colb__err(msg, COLB_ENOMEM, "out of memory");
    }
    colb_status st = COLB_OK;
    size_t k = 0, until = run->until < s->horizon ? run->until : s->horizon;
    while (k < run->points && run->point_round[k] <= job->t)
        k++;
    run->stopped = 0;
    uint64_t first = job->t + 1; /* stop was asked just before it */
    for (uint64_t t = first; t <= until; t++) {
        if (t > first && s->stop && s->stop(s->stop_ctx)) {
            st = COLB_EINTR;
            break;
        }
        if ((st = play_round(job->env, job->pol, N, K, arms, rewards, ctx, &job->reg, t < until)) !=
            COLB_OK) {
            colb__err(msg, st, "%s, round %llu: %s", name, (unsigned long long)t,
                      colb_policy_last_error(job->pol));
            break;
        }
        job->t = t;
        while (k < run->points && run->point_round[k] == t)
            run->curve[k++] = job->reg / (double)N;
        if (run->hopeless && t < s->horizon &&
            run->hopeless(run->hopeless_ctx, job->reg / (double)N)) {
            run->stopped = 1;
            break;
        }
    }
    free(arms);
    free(rewards);
    free(ctx);
    return st;
}

/* A LIVE job at the horizon: its policy's info line into info (len bytes),
 * env and policy freed, DONE. */
static void job_finish(colb__sim_job *job, char *info, size_t len)
{
    if (info && len)
        snprintf(info, len, "%s", colb_policy_info(job->pol));
    colb_policy_free(job->pol);
    colb_env_free(job->env);
    job->pol = NULL;
    job->env = NULL;
    job->state = COLB__JOB_DONE;
}

colb_status colb__sim_run_job(const colb_sim_spec *s, const char *name, size_t r,
                              colb__job_run *run, double *regret, char *msg)
{
    colb__sim_job job = { 0 };
    colb_status st = s->stop && s->stop(s->stop_ctx) ? COLB_EINTR : COLB_OK;
    run->until = s->horizon;
    if (st == COLB_OK && (st = job_start(s, name, r, 1, &job, msg)) == COLB_OK) {
        colb__env_attach_tape(job.env, run->tape);
        st = job_advance(s, name, &job, run, msg);
    }
    if (st == COLB_OK)
        *regret = job.reg / (double)colb_env_users(job.env);
    else if (st == COLB_EINTR)
        colb__err(msg, st, "stopped on request at round %llu of %zu (repeat %zu)", (unsigned long long)job.t,
                  s->horizon, r + 1);
    colb_policy_free(job.pol);
    colb_env_free(job.env);
    return st;
}

/* The new job of repeat r, with environment env, shares its rounds with
 * the other jobs of r through the repeat's tape: made by the first job of r
 * to start when others are still to come, dropped here when the last has
 * started. Only for jobs run to the horizon in one go (jobs advanced in
 * steps stay alive between steps, and so would every repeat's tape); jobs
 * run repeat-major, so a tape per thread at most is alive at a time. Only
 * a tape colb_sim_memory counted (sim->tape_bytes: of an environment made
 * from the spec's parameters, not by a factory) is made. */
static void share_rounds(colb_sim *sim, size_t r, colb_env *env, int to_horizon)
{
    size_t seg[COLB__TAPE_SEGS], w;
    if (!sim->share_rounds || !sim->tapes)
        return;
    pthread_mutex_lock(&sim->tape_lock);
    int shape = to_horizon && colb__env_tape_shape(env, seg, &w);
    if (shape && !sim->tapes[r] && sim->to_start[r] > 1 &&
        colb__tape_bytes(sim->s.horizon, seg, w) <= sim->tape_bytes)
        sim->tapes[r] = colb__tape_create(sim->s.horizon, seg, w); /* NULL: no sharing */
    if (shape && sim->tapes[r])
        colb__env_attach_tape(env, sim->tapes[r]);
    if (sim->to_start[r] && --sim->to_start[r] == 0) {
        colb__tape_release(sim->tapes[r]);
        sim->tapes[r] = NULL;
    }
    pthread_mutex_unlock(&sim->tape_lock);
}

void colb__sim_share_rounds(colb_sim *sim, int on)
{
    if (sim)
        sim->share_rounds = on;
}

/* Run job (i, r) of c->sim to round c->until (at most T), or until stop
 * asks. Its time leaves out the rounds it drew for its repeat's tape,
 * which the repeat's other jobs replay: every job is timed without the
 * environment's draws, whichever drew them. */
static colb_status run_job(job_ctx *c, size_t i, size_t r, char *msg)
{
    colb_sim *sim = c->sim;
    const colb_sim_spec *s = &sim->s;
    colb_sim_result *res = sim->res;
    size_t j = i * res->R + r;
    colb__sim_job *job = &sim->jobs[j];
    if (job->state == COLB__JOB_DONE)
        return COLB_OK;
    if (s->stop && s->stop(s->stop_ctx))
        return COLB_EINTR;
    double t0 = colb__now_s();
    colb_status st = COLB_OK;
    if (job->state == COLB__JOB_NEW && (st = job_start(s, s->policies[i], r, c->total, job, msg)) == COLB_OK)
        share_rounds(sim, r, job->env, c->until >= s->horizon);
    colb__job_run run = { .until = c->until, .curve = res->regret + j * res->K,
                          .point_round = res->point_round, .points = res->K };
    if (st == COLB_OK)
        st = job_advance(s, s->policies[i], job, &run, msg);
    double shared = colb__env_take_tape_seconds(job->env);
    if (st == COLB_OK && job->t == s->horizon) {
        job_finish(job, res->info[j], sizeof res->info[0]);
        c->finished++;
    }
    res->wall[j] += colb__now_s() - t0 - shared;
    return st;
}

/* Job j of the parallel loop. Jobs run repeat-major so that early progress
 * covers all policies. */
static void job_task(void *ctx, size_t j)
{
    job_ctx *c = ctx;
    size_t P = c->sim->res->P, r = j / P, i = j % P;
    c->status[j] = run_job(c, i, r, c->msg[j]);
}

static void job_done(void *ctx, size_t done)
{
    (void)done;
    job_ctx *c = ctx;
    if (c->sim->s.progress)
        c->sim->s.progress(c->sim->s.progress_ctx, c->done_before + c->finished, c->total);
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

/* Check the spec before any work (as colb_sim_run always did). */
colb_status colb__sim_check_spec(const colb_sim_spec *s, char *msg, size_t msg_len)
{
    if (!s)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL simulation spec");
    if (!s->policies || s->n_policies == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "no policies to run");
    if (s->horizon == 0 || s->repeats == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "horizon and repeats must be >= 1");
    if (s->horizon > COLB_HORIZON_MAX) /* the curves' rounds, (k + 1) T / K, stay exact below it */
        return colb__say(msg, msg_len, COLB_ERANGE, "horizon T = %zu exceeds %u", s->horizon, COLB_HORIZON_MAX);
    if (s->threads > COLB_SIM_THREADS_MAX)
        return colb__say(msg, msg_len, COLB_ERANGE, "threads = %zu exceeds %u", s->threads, COLB_SIM_THREADS_MAX);
    colb_status rst = colb__budget_range(s->max_memory, "the run", msg, msg_len);
    if (rst != COLB_OK)
        return rst;
    for (size_t i = 0; i < s->n_policies; i++) {
        /* validate names and parameters once, before any work */
        colb_policy_params pp = s->policy;
        pp.users = s->make_env ? 1 : s->env.users;
        pp.dim = s->make_env ? 1 : s->env.dim;
        pp.horizon = s->horizon;
        if (colb_policy_needs_true_clusters(s->policies[i])) {
            /* the labels come from each repeat's environment: a synthetic
             * one has them when it is clustered; a factory's are known
             * only once made, and a job whose environment has none fails
             * as it starts (colb_policy_create's reason). The other fields
             * are checked here, on one user's label. */
            static const size_t one_label = 0;
            if (!s->make_env && s->env.kind != COLB_ENV_CLUSTERED) {
                if (msg && msg_len)
                    snprintf(msg, msg_len, "%s: needs an environment with true clusters", s->policies[i]);
                return COLB_EINVAL;
            }
            pp.users = 1;
            pp.true_cluster = &one_label;
            pp.n_clusters = 1;
        }
        colb_status st = colb_policy_params_check(s->policies[i], &pp, msg, msg_len);
        if (st != COLB_OK)
            return st;
    }
    double need; /* without the tapes: a run they do not fit goes without them */
    colb_status mst = sim_memory(s, 0.0, &need);
    if (mst != COLB_OK)
        return colb__say(msg, msg_len, mst, "cannot estimate the memory of the run");
    char what[256];
    snprintf(what, sizeof what,
             "the run (users = %zu, dim = %zu, arms = %zu; %zu policies x %zu repeats x %zu curve points; %zu threads; "
             "T = %zu)", s->env.users, s->env.dim, s->env.arms, s->n_policies, s->repeats,
             colb__sim_points(s), s->threads ? s->threads : 1, s->horizon);
    if ((mst = colb__budget_check(need, s->max_memory, what, msg, msg_len)) != COLB_OK)
        return mst;
    if (!s->make_env) {
        colb_status st = colb_env_params_check(&s->env, msg, msg_len);
        if (st != COLB_OK)
            return st;
    }
    return COLB_OK;
}

void colb_sim_free(colb_sim *sim)
{
    if (!sim)
        return;
    size_t jobs = sim->res ? sim->res->P * sim->res->R : 0;
    for (size_t j = 0; sim->jobs && j < jobs; j++) {
        colb_policy_free(sim->jobs[j].pol);
        colb_env_free(sim->jobs[j].env);
    }
    for (size_t i = 0; sim->names && i < sim->s.n_policies; i++)
        free(sim->names[i]);
    if (sim->tapes) {
        for (size_t r = 0; r < sim->s.repeats; r++)
            colb__tape_release(sim->tapes[r]);
        pthread_mutex_destroy(&sim->tape_lock);
    }
    free(sim->tapes);
    free(sim->to_start);
    free(sim->names);
    free(sim->jobs);
    colb_sim_result_free(sim->res);
    free(sim);
}

colb_status colb__sim_alloc(const colb_sim_spec *s, colb_sim **out, char *msg, size_t msg_len)
{
    *out = NULL;
    colb_sim *sim = calloc(1, sizeof *sim);
    colb_sim_result *res = calloc(1, sizeof *res);
    if (!sim || !res) {
        free(sim);
        free(res);
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    }
    sim->s = *s;
    sim->res = res;
    res->P = s->n_policies;
    res->R = s->repeats;
    res->K = colb__sim_points(s);
    size_t jobs = res->P * res->R;
    res->point_round = colb__malloc(res->K, sizeof(size_t));
    res->regret = colb__calloc(jobs, res->K * sizeof(double));
    res->wall = colb__calloc(jobs, sizeof(double));
    res->info = colb__calloc(jobs, sizeof res->info[0]);
    sim->jobs = colb__calloc(jobs, sizeof *sim->jobs);
    sim->names = colb__calloc(res->P, sizeof(char *));
    int ok = res->point_round && res->regret && res->wall && res->info && sim->jobs && sim->names;
    for (size_t i = 0; ok && i < res->P; i++) {
        size_t n = strlen(s->policies[i]) + 1;
        ok = (sim->names[i] = malloc(n)) != NULL;
        if (ok)
            memcpy(sim->names[i], s->policies[i], n);
    }
    if (!ok) {
        colb_sim_free(sim);
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    }
    sim->s.policies = (const char *const *)sim->names;
    /* the shared rounds are an optimisation: without room for their tapes
     * in the budget, memory for their bookkeeping, or a mutex, every job
     * draws its own */
    sim->share_rounds = 1;
    sim->tape_bytes = sim_tape_in_budget(s);
    sim->tapes = colb__calloc(res->R, sizeof *sim->tapes);
    sim->to_start = colb__malloc(res->R, sizeof *sim->to_start);
    if (!sim->tapes || !sim->to_start || pthread_mutex_init(&sim->tape_lock, NULL)) {
        free(sim->tapes);
        free(sim->to_start);
        sim->tapes = NULL;
        sim->to_start = NULL;
    }
    for (size_t r = 0; sim->to_start && r < res->R; r++)
        sim->to_start[r] = res->P;
    for (size_t k = 0; k < res->K; k++) /* ceil((k+1) T / K): the last is T */
        res->point_round[k] = ((k + 1) * s->horizon + res->K - 1) / res->K;
    *out = sim;
    return COLB_OK;
}

colb_status colb_sim_create(const colb_sim_spec *s, colb_sim **out, char *msg, size_t msg_len)
{
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL output pointer");
    *out = NULL;
    if (msg && msg_len)
        msg[0] = '\0';
    colb_status st = colb__sim_check_spec(s, msg, msg_len);
    return st != COLB_OK ? st : colb__sim_alloc(s, out, msg, msg_len);
}

/* COLB_EINTR, with where the unfinished jobs stopped: jobs run in turn
 * (fewer threads than jobs) stop at different rounds, those not started at
 * round 0, so the least round alone (colb_sim_round) would say "round 0"
 * of a run that reached later rounds. */
static colb_status stopped(const colb_sim *sim, char *msg, size_t msg_len)
{
    size_t jobs = sim->res->P * sim->res->R, lo = SIZE_MAX, hi = 0, open = 0;
    for (size_t j = 0; j < jobs; j++)
        if (sim->jobs[j].state != COLB__JOB_DONE) {
            size_t t = (size_t)sim->jobs[j].t;
            open++;
            lo = t < lo ? t : lo;
            hi = t > hi ? t : hi;
        }
    if (open && lo == hi)
        return colb__say(msg, msg_len, COLB_EINTR, "stopped on request at round %zu of %zu (%zu of %zu jobs "
                         "unfinished)", lo, sim->s.horizon, open, jobs);
    return colb__say(msg, msg_len, COLB_EINTR, "stopped on request at rounds %zu to %zu of %zu (%zu of %zu jobs "
                     "unfinished)", open ? lo : sim->s.horizon, hi, sim->s.horizon, open, jobs);
}

colb_status colb_sim_advance(colb_sim *sim, size_t until, char *msg, size_t msg_len)
{
    if (!sim)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL simulation");
    colb_sim_result *res = sim->res;
    size_t jobs = res->P * res->R, done = 0;
    for (size_t j = 0; j < jobs; j++)
        done += sim->jobs[j].state == COLB__JOB_DONE;
    job_ctx c = { .sim = sim, .until = until ? until : sim->s.horizon, .total = jobs,
                  .done_before = done };
    if (c.until < sim->s.horizon && jobs > done) {
        /* stopped before T, every unfinished job keeps its environment and
         * policy: all of them at once, where a run to T holds one per
         * thread (colb_sim_memory); checked before any job runs */
        colb_sim_spec all = sim->s;
        all.threads = jobs - done;
        double need;
        char what[256];
        colb_status mst = sim_memory(&all, 0.0, &need); /* no tapes: none is made before T */
        if (mst != COLB_OK)
            return colb__say(msg, msg_len, mst, "cannot estimate the memory of the run");
        snprintf(what, sizeof what,
                 "stopping at round %zu of %zu, the run (users = %zu, dim = %zu; %zu jobs, each keeping its "
                 "environment and policy until resumed)",
                 c.until, sim->s.horizon, sim->s.env.users, sim->s.env.dim, jobs - done);
        if ((mst = colb__budget_check(need, sim->s.max_memory, what, msg, msg_len)) != COLB_OK)
            return mst;
    }
    c.status = colb__calloc(jobs, sizeof(colb_status));
    c.msg = colb__calloc(jobs, sizeof c.msg[0]);
    if (!c.status || !c.msg) {
        free(c.status);
        free(c.msg);
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    }
    colb__parallel_for(jobs, sim->s.threads, job_task, job_done, &c);
    colb_status st = COLB_OK;
    for (size_t j = 0; j < jobs && st == COLB_OK; j++)
        if (c.status[j] != COLB_OK && c.status[j] != COLB_EINTR) {
            st = c.status[j];
            if (msg && msg_len)
                snprintf(msg, msg_len, "%s (repeat %zu): %s", sim->s.policies[j % res->P],
                         j / res->P + 1, c.msg[j][0] ? c.msg[j] : colb_strerror(st));
        }
    for (size_t j = 0; j < jobs && st == COLB_OK; j++)
        if (c.status[j] == COLB_EINTR)
            st = stopped(sim, msg, msg_len);
    free(c.status);
    free(c.msg);
    return st;
}

int colb_sim_finished(const colb_sim *sim)
{
    if (!sim)
        return 0;
    for (size_t j = 0; j < sim->res->P * sim->res->R; j++)
        if (sim->jobs[j].state != COLB__JOB_DONE)
            return 0;
    return 1;
}

size_t colb_sim_job_round(const colb_sim *sim, size_t i, size_t r)
{
    if (!sim || i >= sim->res->P || r >= sim->res->R)
        return 0;
    return (size_t)sim->jobs[i * sim->res->R + r].t;
}

size_t colb_sim_round(const colb_sim *sim)
{
    if (!sim)
        return 0;
    uint64_t m = UINT64_MAX;
    for (size_t j = 0; j < sim->res->P * sim->res->R; j++)
        if (sim->jobs[j].t < m)
            m = sim->jobs[j].t;
    return (size_t)m;
}

const colb_sim_result *colb_sim_results(const colb_sim *sim) { return sim ? sim->res : NULL; }
const colb_sim_spec *colb_sim_spec_of(const colb_sim *sim) { return sim ? &sim->s : NULL; }

colb_status colb_sim_run(const colb_sim_spec *s, colb_sim_result **out, char *msg, size_t msg_len)
{
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL output pointer");
    *out = NULL;
    colb_sim *sim = NULL;
    colb_status st = colb_sim_create(s, &sim, msg, msg_len);
    if (st == COLB_OK)
        st = colb_sim_advance(sim, 0, msg, msg_len);
    if (st == COLB_OK) {
        *out = sim->res;
        sim->res = NULL; /* detached: the jobs are all done */
        free(sim->jobs);
        sim->jobs = NULL;
    }
    colb_sim_free(sim);
    return st;
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
 * a table to 100 (computed by bisection on the t distribution's function,
 * the regularised incomplete beta; to 9 decimals), then the Cornish-Fisher
 * expansion to 1/nu^4 (relative error below 4e-11 from 101 on; the
 * two-term expansion it replaces was off by 4e-5 at 31, which the CSV
 * files' ten digits showed). */
static double t975(size_t nu)
{
    static const double tab[101] = { 0, 12.706204736, 4.302652730, 3.182446305, 2.776445105,
        2.570581836, 2.446911851, 2.364624252, 2.306004135, 2.262157163, 2.228138852,
        2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546, 2.119905299,
        2.109815578, 2.100922040, 2.093024054, 2.085963447, 2.079613845, 2.073873068,
        2.068657610, 2.063898562, 2.059538553, 2.055529439, 2.051830516, 2.048407142,
        2.045229642, 2.042272456,
        2.039513446, 2.036933343, 2.034515297, 2.032244509, 2.030107928, 2.028094001,
        2.026192463, 2.024394164, 2.022690920, 2.021075390, 2.019540970, 2.018081703,
        2.016692199, 2.015367574, 2.014103389, 2.012895599, 2.011740514, 2.010634758,
        2.009575237, 2.008559112, 2.007583770, 2.006646805, 2.005745995, 2.004879288,
        2.004044783, 2.003240719, 2.002465459, 2.001717484, 2.000995378, 2.000297822,
        1.999623585, 1.998971517, 1.998340543, 1.997729654, 1.997137908, 1.996564419,
        1.996008354, 1.995468931, 1.994945415, 1.994437112, 1.993943368, 1.993463567,
        1.992997126, 1.992543495, 1.992102154, 1.991672610, 1.991254395, 1.990847069,
        1.990450210, 1.990063421, 1.989686323, 1.989318557, 1.988959780, 1.988609667,
        1.988267907, 1.987934206, 1.987608282, 1.987289865, 1.986978700, 1.986674541,
        1.986377154, 1.986086317, 1.985801814, 1.985523442, 1.985251004, 1.984984312,
        1.984723186, 1.984467455, 1.984216952, 1.983971519 };
    if (nu <= 100)
        return tab[nu];
    double z = 1.959963984540054, n = (double)nu, z2 = z * z;
    double g1 = (z2 + 1) * z / 4, g2 = ((5 * z2 + 16) * z2 + 3) * z / 96,
           g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384,
           g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
    return z + (g1 + (g2 + (g3 + g4 / n) / n) / n) / n;
}

/* The mean of x[0..n) / scale and the sum of its squared deviations. */
static void mean_dev(const double *x, size_t n, double scale, double *mean, double *dev)
{
    double m = 0.0, v = 0.0;
    for (size_t i = 0; i < n; i++)
        m += x[i] / scale;
    m = n ? m / (double)n : NAN;
    for (size_t i = 0; i < n; i++)
        v += (x[i] / scale - m) * (x[i] / scale - m);
    *mean = m;
    *dev = v;
}

void colb_mean_ci95(const double *x, size_t n, double *mean, double *half)
{
    double m, v, scale = 1.0;
    if (!x)
        n = 0; /* no values: NaN, as for n = 0 */
    mean_dev(x, n, 1.0, &m, &v);
    if (n && !(isfinite(m) && isfinite(v)) && colb__finite(x, n)) {
        /* finite values whose sum or squares overflow (1e308 twice): again
         * on x scaled by the power of two of the largest |x| (exact, and
         * only then: the usual sums keep their bits) */
        double big = 0.0;
        for (size_t i = 0; i < n; i++)
            big = fabs(x[i]) > big ? fabs(x[i]) : big;
        scale = ldexp(1.0, ilogb(big));
        mean_dev(x, n, scale, &m, &v);
    }
    if (mean)
        *mean = m * scale;
    if (half)
        *half = n >= 2 ? t975(n - 1) * sqrt(v / (double)(n - 1) / (double)n) * scale : NAN;
}
