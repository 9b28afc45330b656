/* tune.c - hyper-parameter tuning by burn-in simulation (colb/tune.h): the
 * grid search over CLUB's alpha and alpha2 that the paper's Section 6.1
 * describes. */
#include "colb/tune.h"

#include <string.h>

#include "core/util.h"
#include "sim/parallel.h"

typedef struct tune_ctx {
    const colb_sim_spec *spec;      /* burn-in spec, single-threaded */
    const double *alphas, *alpha2s;
    size_t n_alpha2s;
    double *score;
    colb_status *status;
    char (*why)[COLB__ERRLEN];
} tune_ctx;

/* Score grid point g: the mean regret after the burn-in. */
static void tune_task(void *ctx, size_t g)
{
    tune_ctx *c = ctx;
    colb_sim_spec s = *c->spec;
    s.policy.club_own_alpha = 1; /* the published bonus with this alpha */
    s.policy.club_alpha = c->alphas[g / c->n_alpha2s];
    s.policy.club_alpha2 = c->alpha2s[g % c->n_alpha2s];
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

colb_status colb_club_tune(const colb_sim_spec *spec, const double *alphas, size_t n_alphas,
                           const double *alpha2s, size_t n_alpha2s, size_t burn_in_rounds,
                           size_t burn_in_repeats, double *best_alpha, double *best_alpha2,
                           char *msg, size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!spec || !best_alpha || !best_alpha2)
        return colb__say(msg, msg_len, COLB_EINVAL, "club_tune: NULL spec or output");
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
    /* Grid points run in parallel, each a single-threaded simulation, so the
     * scores (and the choice) do not depend on the number of threads. */
    size_t n = n_alphas * n_alpha2s;
    tune_ctx c = { .spec = &s, .alphas = alphas, .alpha2s = alpha2s, .n_alpha2s = n_alpha2s };
    c.score = colb__malloc(n, sizeof(double));
    c.status = colb__calloc(n, sizeof(colb_status));
    c.why = colb__calloc(n, sizeof c.why[0]);
    if (!c.score || !c.status || !c.why) {
        free(c.score);
        free(c.status);
        free(c.why);
        return colb__say(msg, msg_len, COLB_ENOMEM, "club_tune: out of memory");
    }
    s.threads = 1;
    colb__parallel_for(n, spec->threads, tune_task, NULL, &c);
    colb_status st = COLB_OK;
    double best = 0.0, ba = 0.0, ba2 = 0.0;
    for (size_t g = 0; g < n && st == COLB_OK; g++) {
        if (c.status[g] != COLB_OK) {
            st = c.status[g];
            if (msg && msg_len)
                snprintf(msg, msg_len, "club_tune: alpha=%g alpha2=%g: %s", alphas[g / n_alpha2s],
                         alpha2s[g % n_alpha2s], c.why[g]);
        } else if (g == 0 || c.score[g] < best) {
            best = c.score[g];
            ba = alphas[g / n_alpha2s];
            ba2 = alpha2s[g % n_alpha2s];
        }
    }
    free(c.score);
    free(c.status);
    free(c.why);
    if (st != COLB_OK)
        return st;
    *best_alpha = ba;
    *best_alpha2 = ba2;
    return COLB_OK;
}
