/* data.c - environments of `colb run` (see data.h). */
#include "data.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "colb/dataset.h"
#include "colb/tune.h"
#include "output.h"

#define LASTFM_SUBDIR "hetrec2011-lastfm-2k"

static colb_status make_logged(void *ctx, uint64_t seed, colb_env **out, char *msg, size_t len)
{
    const data_env *d = ctx;
    return colb_env_create_logged(d->ds, d->protocol == 2 ? COLB_LOGGED_PER_USER : COLB_LOGGED_SHARED,
                                  d->K, seed, out, msg, len);
}

static int is_dir(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --data-dir, else $COLB_DATA_DIR/hetrec2011-lastfm-2k, else
 * ../shared/data/hetrec2011-lastfm-2k. */
static int lastfm_dir(const run_config *c, char *out, size_t len)
{
    if (c->data_dir[0]) {
        snprintf(out, len, "%s", c->data_dir);
        return is_dir(out) ? 0 : -1;
    }
    const char *env = getenv("COLB_DATA_DIR");
    if (env && *env) {
        snprintf(out, len, "%s/%s", env, LASTFM_SUBDIR);
        if (is_dir(out))
            return 0;
    }
    snprintf(out, len, "../shared/data/%s", LASTFM_SUBDIR);
    return is_dir(out) ? 0 : -1;
}

int data_env_open(data_env *d, run_config *c, char *err, size_t err_len)
{
    memset(d, 0, sizeof *d);
    if (c->data == DATA_SYNTHETIC) {
        if (!c->learner_noise_set)
            c->sim.policy.learner.noise = c->sim.env.noise;
        c->sim.make_env = NULL;
        return 0;
    }
    colb_dataset *ds = NULL;
    char msg[1024];
    colb_status st;
    if (c->data == DATA_LASTFM) {
        char dir[PATH_LEN + 64], cache[PATH_LEN];
        if (lastfm_dir(c, dir, sizeof dir)) {
            snprintf(err, err_len, "Last.FM data not found (looked for %s; use --data-dir or COLB_DATA_DIR)", dir);
            return -1;
        }
        if (c->feature_cache[0]) {
            snprintf(cache, sizeof cache, "%s", c->feature_cache);
        } else {
            if (make_dirs("results/cache", msg, sizeof msg)) {
                snprintf(err, err_len, "feature cache: %s", msg);
                return -1;
            }
            snprintf(cache, sizeof cache, "results/cache/lastfm-d%zu.colbfeat", c->sim.env.dim);
        }
        st = colb_lastfm_load(dir, c->sim.env.dim, cache, &ds, msg, sizeof msg);
    } else {
        st = colb_dataset_load(c->features, c->positives, &ds, msg, sizeof msg);
    }
    if (st != COLB_OK) {
        snprintf(err, err_len, "%s", msg);
        return -1;
    }
    if (c->top_users && c->top_users < colb_dataset_users(ds)) {
        colb_dataset *top = NULL;
        st = colb_dataset_top_users(ds, c->top_users, &top);
        colb_dataset_free(ds);
        if (st != COLB_OK) {
            snprintf(err, err_len, "top-users: %s", colb_strerror(st));
            return -1;
        }
        ds = top;
    }
    d->ds = ds;
    d->K = c->sim.env.arms;
    /* auto: the CLUB protocol (contexts per user) when every policy is
     * sequential (CLUB, or random), else the shared multi-agent protocol */
    d->protocol = c->protocol;
    if (d->protocol == 0) {
        int all_seq = 1;
        for (size_t i = 0; i < c->n_policies; i++)
            all_seq &= !strcmp(c->policies[i], "club") || !strcmp(c->policies[i], "random");
        d->protocol = all_seq ? 2 : 1;
    }
    if (!c->learner_noise_set)
        c->sim.policy.learner.noise = 0.5; /* 0/1 rewards are 1/2-sub-Gaussian */
    c->sim.make_env = make_logged;
    c->sim.env_ctx = d;
    c->sim.env.users = colb_dataset_users(ds);
    c->sim.env.dim = colb_dataset_dim(ds);
    return 0;
}

void data_env_close(data_env *d)
{
    colb_dataset_free(d->ds);
    d->ds = NULL;
}

int data_tune_club(data_env *d, run_config *c, char *chosen, char *err, size_t err_len)
{
    (void)d; /* c->sim already carries the environment (or its factory) */
    static const double alphas[] = COLB_CLUB_TUNE_ALPHAS, alpha2s[] = COLB_CLUB_TUNE_ALPHA2S;
    double a = 0, a2 = 0;
    char msg[512];
    colb_status st = colb_club_tune(&c->sim, alphas, COLB_CLUB_TUNE_N_ALPHAS, alpha2s,
                                    COLB_CLUB_TUNE_N_ALPHA2S, c->club_burn_in, c->club_tune_repeats,
                                    &a, &a2, msg, sizeof msg);
    if (st != COLB_OK) {
        snprintf(err, err_len, "club tuning: %s", msg);
        return -1;
    }
    c->sim.policy.club_own_alpha = 1;
    c->sim.policy.club_alpha = a;
    c->sim.policy.club_alpha2 = a2;
    snprintf(chosen, 64, "club-alpha=%g club-alpha2=%g", a, a2);
    return 0;
}
