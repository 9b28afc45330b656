/* tune.c - hyper-parameter tuning by burn-in simulation (colb/tune.h): the
 * grid search over CLUB's alpha and alpha2 that the paper's Section 6.1
 * describes, and the same search over the shared exploration width of any
 * one policy (run for every policy of a run, or for none). */
#include "colb/tune.h"

#include <string.h>

#include "core/util.h"
#include "sim/parallel.h"

typedef struct tune_ctx tune_ctx;
struct tune_ctx {
    const colb_sim_spec *spec;      /* burn-in spec, single-threaded */
    void (*apply)(const tune_ctx *c, size_t g, colb_sim_spec *s); /* grid point g */
    const double *alphas, *alpha2s;
    size_t n_alpha2s;
    double *score;
    colb_status *status;
    char (*why)[COLB__ERRLEN];
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

/* Score grid point g: the mean regret after the burn-in. */
static void tune_task(void *ctx, size_t g)
{
    tune_ctx *c = ctx;
    colb_sim_spec s = *c->spec;
    c->apply(c, g, &s);
    colb_sim_result *res = NULL;
    c->status[g] = colb_sim_run(&s, &res, c->why[g], sizeof c->why[g]);
    if (c->status[g] != COLB_OK)
        return;
    double sum = 0.0;
    for (size_t r = 0; r < s.repeats; r++)
        sum += colb_sim_result_regret(res, 0, r, 0);
    colb_sim_result_free(res);
    c->score[g] = sum / (double)s.repeats;
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

/* Run the n grid points of c (c->spec is the caller's spec) for `policy` on
 * the burn-in; *best receives the point of least score (ties: the first).
 * On a failing point, *failed is its index and msg says why. */
static colb_status run_grid(tune_ctx *c, size_t n, const char *policy, size_t burn_in_rounds,
                            size_t burn_in_repeats, uint64_t seed_xor, size_t *best, size_t *failed,
                            char *msg, size_t msg_len)
{
    const colb_sim_spec *spec = c->spec;
    const char *names[1] = { policy };
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
    c->spec = &s;
    c->score = colb__malloc(n, sizeof(double));
    c->status = colb__calloc(n, sizeof(colb_status));
    c->why = colb__calloc(n, sizeof c->why[0]);
    colb_status st = COLB_OK;
    if (!c->score || !c->status || !c->why) {
        st = colb__say(msg, msg_len, COLB_ENOMEM, "tune: out of memory");
    } else {
        colb__parallel_for(n, spec->threads, tune_task, NULL, c);
        for (size_t g = 0; g < n && st == COLB_OK; g++) {
            if (c->status[g] != COLB_OK) {
                st = c->status[g];
                *failed = g;
                if (msg && msg_len)
                    snprintf(msg, msg_len, "%s", c->why[g]);
            } else if (g == 0 || c->score[g] < c->score[*best]) {
                *best = g;
            }
        }
    }
    free(c->score);
    free(c->status);
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
    colb_status st = check_grid("club_tune", "alpha", alphas, n_alphas, 0, msg, msg_len);
    if (st == COLB_OK)
        st = check_grid("club_tune", "alpha2", alpha2s, n_alpha2s, 1, msg, msg_len);
    if (st != COLB_OK)
        return st;
    tune_ctx c = { .spec = spec, .apply = apply_club, .alphas = alphas, .alpha2s = alpha2s,
                   .n_alpha2s = n_alpha2s };
    size_t best = 0, failed = 0;
    char why[COLB__ERRLEN] = "";
    st = run_grid(&c, n_alphas * n_alpha2s, "club", burn_in_rounds, burn_in_repeats,
                  COLB_CLUB_TUNE_SEED_XOR, &best, &failed, why, sizeof why);
    if (st != COLB_OK) {
        if (st == COLB_ENOMEM)
            return colb__say(msg, msg_len, st, "club_tune: out of memory");
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
    colb_status st = check_grid("width_tune", "alpha", alphas, n_alphas, 0, msg, msg_len);
    if (st != COLB_OK)
        return st;
    tune_ctx c = { .spec = spec, .apply = apply_width, .alphas = alphas, .n_alpha2s = 1 };
    size_t best = 0, failed = 0;
    char why[COLB__ERRLEN] = "";
    st = run_grid(&c, n_alphas, policy, burn_in_rounds, burn_in_repeats, COLB_WIDTH_TUNE_SEED_XOR,
                  &best, &failed, why, sizeof why);
    if (st != COLB_OK) {
        if (st == COLB_ENOMEM)
            return colb__say(msg, msg_len, st, "width_tune: out of memory");
        return colb__say(msg, msg_len, st, "width_tune(%s): alpha=%g: %s", policy, alphas[failed], why);
    }
    *best_alpha = alphas[best];
    return COLB_OK;
}
