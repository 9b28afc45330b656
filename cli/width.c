/* width.c - the exploration of every policy of a run, in words (width.h). */
#include "width.h"

#include <stdlib.h>
#include <string.h>

int width_is_override(const run_config *c, const char *policy)
{
    return !strcmp(policy, "club") && (c->club_tune || c->sim.policy.club_own_alpha);
}

void width_shared(const run_config *c, char *out, size_t len)
{
    const colb_learner_params *l = &c->sim.policy.learner;
    const char *smp = c->sim.policy.sampling == COLB_SAMPLING_TS ? "Thompson sampling (scale = the width)"
                                                                  : "UCB";
    if (c->tune)
        snprintf(out, len, "fixed alpha tuned per setting on a %zu-round burn-in x %zu repeats "
                           "over {0.05, 0.1, 0.25, 0.5, 1}, the same for every policy; %s",
                 c->tune_burn_in, c->tune_repeats, smp);
    else if (l->width == COLB_WIDTH_FIXED)
        snprintf(out, len, "fixed alpha = %g; %s", l->alpha, smp);
    else if (c->learner_noise_set || c->data != DATA_SYNTHETIC) /* data sets: 0/1 rewards */
        snprintf(out, len, "OFUL radius (R = %g, S = %g, delta = %g, lambda = %g); %s",
                 c->learner_noise_set ? l->noise : 0.5, l->norm_bound, l->delta, l->lambda, smp);
    else
        snprintf(out, len, "OFUL radius (R = the reward noise, S = %g, delta = %g, lambda = %g); %s",
                 l->norm_bound, l->delta, l->lambda, smp);
}

/* How a policy serves the users of a round, for the policies that have a say. */
static const char *round_mode(const run_config *c, const char *policy)
{
    if (!strcmp(policy, "oracle-batch"))
        return "; groups play one arm per round";
    if (!strcmp(policy, "cohort") || !strcmp(policy, "recommended"))
        return c->sim.policy.sampling == COLB_SAMPLING_TS
                   ? "; by UCB all the same (cohort has no Thompson sampling); cluster members "
                     "diversified within rounds (always)"
                   : "; cluster members diversified within rounds (always)";
    if (!strcmp(policy, "oracle-seq") || !strcmp(policy, "club") || !strcmp(policy, "sclub") ||
        !strcmp(policy, "locb"))
        return "; users served one after another, updates at once";
    if (!strcmp(policy, "oracle") || !strcmp(policy, "pooled") || !strcmp(policy, "cmlb") ||
        !strcmp(policy, "sclb") || !strcmp(policy, "pmlb"))
        return c->sim.policy.diversify ? "; group members diversified within rounds"
                                       : "; groups play one arm per round";
    return "";
}

void width_describe(const run_config *c, const char *policy, char *out, size_t len)
{
    if (!strcmp(policy, "random")) {
        snprintf(out, len, "none (uniformly random arms)");
        return;
    }
    if (width_is_override(c, policy)) {
        if (c->club_tune)
            snprintf(out, len, "OVERRIDE, CLUB's own: alpha and alpha2 tuned alone on a %zu-round "
                               "burn-in (the paper's protocol), bonus alpha sqrt(x'M^-1x ln(t+1))%s",
                     c->club_burn_in, round_mode(c, policy));
        else
            snprintf(out, len, "OVERRIDE, CLUB's own: club-alpha = %g, bonus alpha "
                               "sqrt(x'M^-1x ln(t+1))%s",
                     c->sim.policy.club_alpha, round_mode(c, policy));
        return;
    }
    char shared[256];
    width_shared(c, shared, sizeof shared);
    snprintf(out, len, "%s%s", shared, round_mode(c, policy));
}

/* How `policy` explores in setting s of the reading whose base is c (its
 * swept value set: a sweep of club-alpha or club-tune makes CLUB's width
 * its own, one of width or alpha changes the shared one). */
static void describe_setting(const run_config *c, run_config *tmp, size_t s, const char *policy, char *out,
                             size_t len)
{
    char err[256];
    if (config_at(c, s, tmp, err, sizeof err))
        *tmp = *c; /* not reached: every value was checked before the run */
    width_describe(tmp, policy, out, len);
}

void width_dump(FILE *f, const run_config *c)
{
    char line[512], other[512];
    run_config *tmp = malloc(sizeof *tmp);
    size_t n = c->n_sweep ? c->n_sweep : 1;
    for (size_t i = 0; i < c->n_policies; i++) {
        const char *pol = c->policies[i];
        if (!tmp) { /* out of memory: the base's, as given */
            width_describe(c, pol, line, sizeof line);
            fprintf(f, "# width.%s = %s\n", pol, line);
            continue;
        }
        describe_setting(c, tmp, 0, pol, line, sizeof line);
        int same = 1;
        for (size_t s = 1; s < n && same; s++) {
            describe_setting(c, tmp, s, pol, other, sizeof other);
            same = !strcmp(line, other);
        }
        if (same) {
            fprintf(f, "# width.%s = %s\n", pol, line);
            continue;
        }
        for (size_t s = 0; s < n; s++) { /* the settings explore differently: one line each */
            describe_setting(c, tmp, s, pol, line, sizeof line);
            fprintf(f, "# width.%s = %s (at %s=%s)\n", pol, line, c->sweep_key, c->sweep_values[s]);
        }
    }
    free(tmp);
}
