/* tune.c - hyper-parameter tuning by burn-in simulation (colb/tune.h): the
 * grid search over CLUB's alpha and alpha2 that the paper's Section 6.1
 * describes. */
#include "colb/tune.h"

#include <string.h>

#include "util.h"

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
    double best = 0.0, ba = 0.0, ba2 = 0.0;
    int found = 0;
    for (size_t i = 0; i < n_alphas; i++)
        for (size_t j = 0; j < n_alpha2s; j++) {
            s.policy.club_alpha = alphas[i];
            s.policy.club_alpha2 = alpha2s[j];
            colb_sim_result *res = NULL;
            char why[COLB__ERRLEN];
            colb_status st = colb_sim_run(&s, &res, why, sizeof why);
            if (st != COLB_OK) {
                if (msg && msg_len)
                    snprintf(msg, msg_len, "club_tune: alpha=%g alpha2=%g: %s", alphas[i],
                             alpha2s[j], why);
                return st;
            }
            double sum = 0.0;
            for (size_t r = 0; r < s.repeats; r++)
                sum += colb_sim_result_regret(res, 0, r, 0);
            colb_sim_result_free(res);
            double mean = sum / (double)s.repeats;
            if (!found || mean < best) {
                found = 1;
                best = mean;
                ba = alphas[i];
                ba2 = alpha2s[j];
            }
        }
    *best_alpha = ba;
    *best_alpha2 = ba2;
    return COLB_OK;
}
