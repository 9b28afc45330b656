/* tune.c - hyper-parameter tuning by burn-in simulation (colb/tune.h): the
 * grid search over CLUB's alpha and alpha2 that the paper's Section 6.1
 * describes.
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

#include "core/util.h"
#include "sim/parallel.h"
#include "sim/sim_job.h"

typedef struct tune_ctx {
    const colb_sim_spec *spec;      /* burn-in spec, single-threaded */
    const double *alphas, *alpha2s;
    size_t n_alpha2s;
    double *score;
    colb_status *status;
    unsigned char *pruned;
    char (*why)[COLB__ERRLEN];
    int prune;                      /* pruning allowed (built-in environment) */
    pthread_mutex_t lock;
    int have_best;
    double best;                    /* least score of a finished point */
} tune_ctx;

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
    s.policy.club_alpha = c->alphas[g / c->n_alpha2s];
    s.policy.club_alpha2 = c->alpha2s[g % c->n_alpha2s];
    bound_ctx b = { c, 0.0 };
    for (size_t r = 0; r < s.repeats; r++) {
        colb__job_run run = { .hopeless = c->prune ? hopeless : NULL, .hopeless_ctx = &b };
        double regret = 0.0;
        c->status[g] = colb__sim_run_job(&s, "club", r, &run, &regret, c->why[g]);
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

colb_status colb_club_tune(const colb_sim_spec *spec, const double *alphas, size_t n_alphas,
                           const double *alpha2s, size_t n_alpha2s, size_t burn_in_rounds,
                           size_t burn_in_repeats, double *best_alpha, double *best_alpha2,
                           char *msg, size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!spec || !best_alpha || !best_alpha2)
        return colb__say(msg, msg_len, COLB_EINVAL, "club_tune: NULL spec or output");
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
    if (!alphas || n_alphas == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "club_tune: empty alpha grid");
    if (!alpha2s || n_alpha2s == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "club_tune: empty alpha2 grid");
    for (size_t i = 0; i < n_alphas; i++) {
        if (!isfinite(alphas[i]))
            return colb__say(msg, msg_len, COLB_ENONFIN, "club_tune: alpha %g in the grid", alphas[i]);
        if (alphas[i] < 0.0)
            return colb__say(msg, msg_len, COLB_ERANGE, "club_tune: alpha %g < 0 in the grid",
                       alphas[i]);
    }
    for (size_t j = 0; j < n_alpha2s; j++) {
        if (!isfinite(alpha2s[j]))
            return colb__say(msg, msg_len, COLB_ENONFIN, "club_tune: alpha2 %g in the grid",
                       alpha2s[j]);
        if (alpha2s[j] <= 0.0)
            return colb__say(msg, msg_len, COLB_ERANGE, "club_tune: alpha2 %g <= 0 in the grid",
                       alpha2s[j]);
    }
    static const char *const names[] = { "club" };
    colb_sim_spec s = *spec;
    s.policies = names;
    s.n_policies = 1;
    s.horizon = burn_in_rounds ? burn_in_rounds : COLB_CLUB_TUNE_ROUNDS;
    s.repeats = burn_in_repeats ? burn_in_repeats : COLB_CLUB_TUNE_REPEATS;
    s.seed = spec->seed ^ COLB_CLUB_TUNE_SEED_XOR;
    s.curve_points = 1;
    s.progress = NULL;
    s.progress_ctx = NULL;
    s.threads = 1;
    { /* what colb_sim_run checks before running */
        colb_policy_params pp = s.policy;
        pp.users = s.make_env ? 1 : s.env.users;
        pp.dim = s.make_env ? 1 : s.env.dim;
        pp.horizon = s.horizon;
        for (size_t g = 0; g < n_alphas * n_alpha2s; g++) {
            pp.club_alpha = alphas[g / n_alpha2s];
            pp.club_alpha2 = alpha2s[g % n_alpha2s];
            colb_status st = colb_policy_params_check("club", &pp, msg, msg_len);
            if (st != COLB_OK)
                return st;
        }
        colb_status st = s.make_env ? COLB_OK : colb_env_params_check(&s.env, msg, msg_len);
        if (st != COLB_OK)
            return st;
    }
    /* Grid points run in parallel, each a single-threaded simulation, so the
     * scores (and the choice) do not depend on the number of threads. */
    size_t n = n_alphas * n_alpha2s;
    tune_ctx c = { .spec = &s, .alphas = alphas, .alpha2s = alpha2s, .n_alpha2s = n_alpha2s,
                   .prune = s.make_env == NULL };
    c.score = colb__malloc(n, sizeof(double));
    c.status = colb__calloc(n, sizeof(colb_status));
    c.pruned = colb__calloc(n, 1);
    c.why = colb__calloc(n, sizeof c.why[0]);
    if (!c.score || !c.status || !c.pruned || !c.why) {
        free(c.score);
        free(c.status);
        free(c.pruned);
        free(c.why);
        return colb__say(msg, msg_len, COLB_ENOMEM, "club_tune: out of memory");
    }
    pthread_mutex_init(&c.lock, NULL);
    colb__parallel_for(n, spec->threads, tune_task, NULL, &c);
    pthread_mutex_destroy(&c.lock);
    colb_status st = COLB_OK;
    double best = 0.0, ba = 0.0, ba2 = 0.0;
    int found = 0;
    for (size_t g = 0; g < n && st == COLB_OK; g++) {
        if (c.status[g] != COLB_OK) {
            st = c.status[g];
            if (msg && msg_len)
                snprintf(msg, msg_len, "club_tune: alpha=%g alpha2=%g: %s", alphas[g / n_alpha2s],
                         alpha2s[g % n_alpha2s], c.why[g]);
        } else if (!c.pruned[g] && (!found || c.score[g] < best)) {
            found = 1;
            best = c.score[g];
            ba = alphas[g / n_alpha2s];
            ba2 = alpha2s[g % n_alpha2s];
        }
    }
    free(c.score);
    free(c.status);
    free(c.pruned);
    free(c.why);
    if (st != COLB_OK)
        return st;
    *best_alpha = ba;
    *best_alpha2 = ba2;
    return COLB_OK;
}
