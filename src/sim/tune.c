/* tune.c - hyper-parameter tuning by burn-in simulation (colb/tune.h): the
 * grid search over CLUB's alpha and alpha2 that the paper's Section 6.1
 * describes, and the same search over the shared exploration width of any
 * one policy (run for every policy of a run, or for none).
 *
 * Pruning (exact): a grid point's score is a mean of cumulative regrets,
 * which never decrease round after round (every round's regret is >= 0 in
 * the synthetic environments, and adding non-negative doubles never lowers
 * a rounded sum). So while a point runs, (sum of its finished repeats +
 * the running repeat's regret so far) / repeats is a lower bound of its
 * score, in floating point too; once it exceeds the least score of a
 * finished point, the point cannot be chosen (not even on a tie: ties go to
 * the lower bound's equal, never to a larger value) and it is stopped. The
 * choice is the same as without pruning, whatever the thread count or the
 * order in which points finish; only the work differs. Environments given
 * by make_env (whose regret could be negative) are not pruned. */
#include "colb/tune.h"

#include <pthread.h>
#include <string.h>

#include "core/memory.h"
#include "core/util.h"
#include "envs/env_impl.h"
#include "sim/parallel.h"
#include "sim/sim_job.h"

typedef struct tune_ctx tune_ctx;
struct tune_ctx {
    const colb_sim_spec *spec;      /* burn-in spec, single-threaded */
    const char *policy;             /* the one policy tuned */
    void (*apply)(const tune_ctx *c, size_t g, colb_sim_spec *s); /* grid point g */
    const double *alphas, *alpha2s;
    size_t n_alpha2s;
    double *score;
    colb_status *status;
    unsigned char *pruned;
    char (*why)[COLB__ERRLEN];
    int prune;                      /* pruning allowed (built-in environment) */
    colb__tape **tapes;             /* per burn-in repeat: its rounds, shared by the points (or NULL) */
    pthread_mutex_t lock;
    int have_best;
    double best;                    /* least score of a finished point */
};

/* CLUB's grid: (alpha, alpha2) pairs, alpha outer, with its published bonus. */
static void apply_club(const tune_ctx *c, size_t g, colb_sim_spec *s)
{
    s->policy.club_own_alpha = 1;
    s->policy.club_alpha = c->alphas[g / c->n_alpha2s];
    s->policy.club_alpha2 = c->alpha2s[g % c->n_alpha2s];
}

/* The shared width: a fixed alpha for the policy's learners (CLUB's too). */
static void apply_width(const tune_ctx *c, size_t g, colb_sim_spec *s)
{
    s->policy.learner.width = COLB_WIDTH_FIXED;
    s->policy.learner.alpha = c->alphas[g];
    s->policy.club_own_alpha = 0;
}

typedef struct bound_ctx {
    tune_ctx *c;
    double done;                    /* sum of the point's finished repeats */
} bound_ctx;

/* 1 when the point can no longer have the least score. */
static int hopeless(void *ctx, double regret)
{
    bound_ctx *b = ctx;
    tune_ctx *c = b->c;
    double lb = (b->done + regret) / (double)c->spec->repeats;
    pthread_mutex_lock(&c->lock);
    int out = c->have_best && lb > c->best;
    pthread_mutex_unlock(&c->lock);
    return out;
}

/* Score grid point g: the mean regret after the burn-in (or prune it). */
static void tune_task(void *ctx, size_t g)
{
    tune_ctx *c = ctx;
    colb_sim_spec s = *c->spec;
    c->apply(c, g, &s);
    bound_ctx b = { c, 0.0 };
    for (size_t r = 0; r < s.repeats; r++) {
        colb__job_run run = { .hopeless = c->prune ? hopeless : NULL, .hopeless_ctx = &b,
                              .tape = c->tapes ? c->tapes[r] : NULL };
        double regret = 0.0;
        c->status[g] = colb__sim_run_job(&s, c->policy, r, &run, &regret, c->why[g]);
        if (c->status[g] != COLB_OK)
            return;
        if (run.stopped) {
            c->pruned[g] = 1;
            return;
        }
        b.done += regret; /* the same sum, in the same order, as the score */
    }
    c->score[g] = b.done / (double)s.repeats;
    pthread_mutex_lock(&c->lock);
    if (!c->have_best || c->score[g] < c->best) {
        c->best = c->score[g];
        c->have_best = 1;
    }
    pthread_mutex_unlock(&c->lock);
}

/* Every value of v[0..n) finite and >= 0 (> 0 when `positive`). */
static colb_status check_grid(const char *who, const char *what, const double *v, size_t n,
                              int positive, char *msg, size_t msg_len)
{
    if (!v || n == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "%s: empty %s grid", who, what);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return colb__say(msg, msg_len, COLB_ENONFIN, "%s: %s %g in the grid", who, what, v[i]);
        if (positive ? v[i] <= 0.0 : v[i] < 0.0)
            return colb__say(msg, msg_len, COLB_ERANGE, "%s: %s %g %s 0 in the grid", who, what, v[i],
                             positive ? "<=" : "<");
    }
    return COLB_OK;
}

/* Every grid point runs the same burn-in repeats: their rounds are drawn
 * once, by the first point to reach each, and replayed by the others
 * (env_tape.h; the same values). NULL when the environment's rounds are
 * not shared, when the tapes of every repeat (all made at once) would take
 * more than `room` bytes (what the budget leaves), or out of memory: each
 * point draws its own. */
static colb__tape **burn_in_tapes(const colb_sim_spec *s, double room)
{
    /* the shape is the same for every repeat: one environment tells it */
    colb_env *env = NULL;
    size_t seg[COLB__TAPE_SEGS], w;
    double bytes = 0.0;
    char msg[COLB__ERRLEN];
    int shared = colb__sim_make_env(s, 0, &env, msg) == COLB_OK && colb__env_tape_shape(env, seg, &w) &&
                 (bytes = colb__tape_bytes(s->horizon, seg, w)) <= COLB__TAPE_MAX_BYTES &&
                 (double)s->repeats * bytes <= room;
    colb_env_free(env);
    colb__tape **t = shared ? colb__calloc(s->repeats, sizeof *t) : NULL;
    for (size_t r = 0; t && r < s->repeats; r++)
        t[r] = colb__tape_create(s->horizon, seg, w); /* NULL: that repeat draws its own */
    return t;
}

static void free_tapes(colb__tape **t, size_t n)
{
    for (size_t r = 0; t && r < n; r++)
        colb__tape_release(t[r]);
    free(t);
}

/* Run the n grid points of c (c->spec is the caller's spec) for c->policy on
 * the burn-in; *best receives the point of least score (ties: the first).
 * On a failing point, *failed is its index and msg says why. Every point's
 * spec is checked as colb_sim_run checks it before any work. */
static colb_status run_grid(tune_ctx *c, size_t n, size_t burn_in_rounds, size_t burn_in_repeats,
                            uint64_t seed_xor, size_t *best, size_t *failed, char *msg,
                            size_t msg_len)
{
    const colb_sim_spec *spec = c->spec;
    const char *names[1] = { c->policy };
    colb_sim_spec s = *spec;
    s.policies = names;
    s.n_policies = 1;
    s.horizon = burn_in_rounds ? burn_in_rounds : COLB_CLUB_TUNE_ROUNDS;
    s.repeats = burn_in_repeats ? burn_in_repeats : COLB_CLUB_TUNE_REPEATS;
    s.seed = spec->seed ^ seed_xor;
    s.curve_points = 1;
    s.progress = NULL;
    s.progress_ctx = NULL;
    /* Grid points run in parallel, each a single-threaded simulation, so the
     * scores (and the choice) do not depend on the number of threads. */
    s.threads = 1;
    for (size_t g = 0; g < n; g++) {
        colb_sim_spec sg = s;
        c->apply(c, g, &sg);
        colb_status st = colb__sim_check_spec(&sg, msg, msg_len);
        if (st != COLB_OK) {
            *failed = g;
            return st;
        }
    }
    /* the points run min(threads, n) at a time, each a simulation of one
     * thread that holds an environment and a policy: the checks above
     * counted one */
    size_t at_once = spec->threads > 1 ? spec->threads : 1;
    at_once = at_once < n ? at_once : n;
    colb_sim_spec s0 = s;
    c->apply(c, 0, &s0);
    double one = 0.0;
    colb_sim_memory(&s0, &one);
    double need = (double)at_once * one + (double)n * (sizeof(double) + sizeof(colb_status) + 1 + COLB__ERRLEN);
    char what[256];
    snprintf(what, sizeof what, "the burn-in of %zu grid points, %zu at a time (threads; users = %zu, dim = %zu, "
             "%zu repeats)", n, at_once, s.env.users, s.env.dim, s.repeats);
    colb_status bst = colb__budget_check(need, spec->max_memory, what, msg, msg_len);
    if (bst != COLB_OK) {
        *failed = n;
        return bst;
    }
    double room = (double)colb__budget(spec->max_memory) - need;
    c->spec = &s;
    c->prune = s.make_env == NULL;
    c->score = colb__malloc(n, sizeof(double));
    c->status = colb__calloc(n, sizeof(colb_status));
    c->pruned = colb__calloc(n, 1);
    c->why = colb__calloc(n, sizeof c->why[0]);
    colb_status st = COLB_OK;
    int found = 0;
    if (!c->score || !c->status || !c->pruned || !c->why) {
        st = COLB_ENOMEM;
        *failed = n;
    } else {
        pthread_mutex_init(&c->lock, NULL);
        c->tapes = n > 1 ? burn_in_tapes(&s, room) : NULL;
        colb__parallel_for(n, spec->threads, tune_task, NULL, c);
        free_tapes(c->tapes, s.repeats);
        c->tapes = NULL;
        pthread_mutex_destroy(&c->lock);
        for (size_t g = 0; g < n && st == COLB_OK; g++) {
            if (c->status[g] != COLB_OK) {
                st = c->status[g];
                *failed = g;
                if (msg && msg_len)
                    snprintf(msg, msg_len, "%s", c->why[g]);
            } else if (!c->pruned[g] && (!found || c->score[g] < c->score[*best])) {
                found = 1;
                *best = g;
            }
        }
    }
    free(c->score);
    free(c->status);
    free(c->pruned);
    free(c->why);
    c->spec = spec;
    return st;
}

colb_status colb_club_tune(const colb_sim_spec *spec, const double *alphas, size_t n_alphas,
                           const double *alpha2s, size_t n_alpha2s, size_t burn_in_rounds,
                           size_t burn_in_repeats, double *best_alpha, double *best_alpha2,
                           char *msg, size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!spec || !best_alpha || !best_alpha2)
        return colb__say(msg, msg_len, COLB_EINVAL, "club_tune: NULL spec or output");
    if (spec->threads > COLB_SIM_THREADS_MAX) /* the grid's points run on them */
        return colb__say(msg, msg_len, COLB_ERANGE, "club_tune: threads = %zu exceeds %u", spec->threads,
                         COLB_SIM_THREADS_MAX);
    static const double default_alphas[] = COLB_CLUB_TUNE_ALPHAS,
                        default_alpha2s[] = COLB_CLUB_TUNE_ALPHA2S;
    if (!alphas && n_alphas == 0) {
        alphas = default_alphas;
        n_alphas = COLB_CLUB_TUNE_N_ALPHAS;
    }
    if (!alpha2s && n_alpha2s == 0) {
        alpha2s = default_alpha2s;
        n_alpha2s = COLB_CLUB_TUNE_N_ALPHA2S;
    }
    if (n_alpha2s && n_alphas > SIZE_MAX / n_alpha2s) /* the points are counted in a size_t */
        return colb__say(msg, msg_len, COLB_ERANGE, "club_tune: a grid of %zu x %zu points is too large",
                         n_alphas, n_alpha2s);
    colb_status st = check_grid("club_tune", "alpha", alphas, n_alphas, 0, msg, msg_len);
    if (st == COLB_OK)
        st = check_grid("club_tune", "alpha2", alpha2s, n_alpha2s, 1, msg, msg_len);
    if (st != COLB_OK)
        return st;
    tune_ctx c = { .spec = spec, .policy = "club", .apply = apply_club, .alphas = alphas,
                   .alpha2s = alpha2s, .n_alpha2s = n_alpha2s };
    size_t best = 0, failed = 0;
    char why[COLB__ERRLEN] = "";
    st = run_grid(&c, n_alphas * n_alpha2s, burn_in_rounds, burn_in_repeats,
                  COLB_CLUB_TUNE_SEED_XOR, &best, &failed, why, sizeof why);
    if (st != COLB_OK) {
        if (failed == n_alphas * n_alpha2s) /* the whole grid's */
            return colb__say(msg, msg_len, st, "club_tune: %s", why[0] ? why : "out of memory");
        return colb__say(msg, msg_len, st, "club_tune: alpha=%g alpha2=%g: %s",
                         alphas[failed / n_alpha2s], alpha2s[failed % n_alpha2s], why);
    }
    *best_alpha = alphas[best / n_alpha2s];
    *best_alpha2 = alpha2s[best % n_alpha2s];
    return COLB_OK;
}

colb_status colb_width_tune(const colb_sim_spec *spec, const char *policy, const double *alphas,
                            size_t n_alphas, size_t burn_in_rounds, size_t burn_in_repeats,
                            double *best_alpha, char *msg, size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!spec || !policy || !best_alpha)
        return colb__say(msg, msg_len, COLB_EINVAL, "width_tune: NULL spec, policy or output");
    if (spec->threads > COLB_SIM_THREADS_MAX) /* the grid's points run on them */
        return colb__say(msg, msg_len, COLB_ERANGE, "width_tune: threads = %zu exceeds %u", spec->threads,
                         COLB_SIM_THREADS_MAX);
    static const double default_alphas[] = COLB_WIDTH_TUNE_ALPHAS;
    if (!alphas && n_alphas == 0) {
        alphas = default_alphas;
        n_alphas = COLB_WIDTH_TUNE_N_ALPHAS;
    }
    colb_status st = check_grid("width_tune", "alpha", alphas, n_alphas, 0, msg, msg_len);
    if (st != COLB_OK)
        return st;
    tune_ctx c = { .spec = spec, .policy = policy, .apply = apply_width, .alphas = alphas,
                   .n_alpha2s = 1 };
    size_t best = 0, failed = 0;
    char why[COLB__ERRLEN] = "";
    st = run_grid(&c, n_alphas, burn_in_rounds, burn_in_repeats, COLB_WIDTH_TUNE_SEED_XOR, &best,
                  &failed, why, sizeof why);
    if (st != COLB_OK) {
        if (failed == n_alphas) /* the whole grid's */
            return colb__say(msg, msg_len, st, "width_tune(%s): %s", policy, why[0] ? why : "out of memory");
        return colb__say(msg, msg_len, st, "width_tune(%s): alpha=%g: %s", policy, alphas[failed], why);
    }
    *best_alpha = alphas[best];
    return COLB_OK;
}
