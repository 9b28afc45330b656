/* data.c - environments of `colb run` (see data.h). */
#include "data.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "colb/dataset.h"
#include "colb/tune.h"
#include "outdir.h"
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

void data_cache_path(const run_config *c, char *out, size_t len)
{
    if (c->feature_cache[0])
        snprintf(out, len, "%s", c->feature_cache);
    else
        snprintf(out, len, "results/cache/lastfm-d%zu.colbfeat", c->sim.env.dim);
}

int data_lastfm_dir(const run_config *c, char *out, size_t len)
{
    const char *env = getenv("COLB_DATA_DIR");
    const char *root = c->data_dir[0] ? c->data_dir : env && *env ? env : "../shared/data";
    char probe[PATH_LEN + 64];
    snprintf(probe, sizeof probe, "%s/artists.dat", root);
    struct stat st;
    int there = stat(probe, &st) == 0;
    if (there && S_ISREG(st.st_mode)) {
        snprintf(out, len, "%s", root);
        return 0;
    }
    snprintf(out, len, "%s/%s", root, LASTFM_SUBDIR);
    if (is_dir(out))
        return 0;
    if (!there)
        return -1;
    snprintf(out, len, "%s", probe); /* a folder, a device: there, but no file of the data set */
    return S_ISDIR(st.st_mode) ? -2 : -3;
}

static void lastfm_missing(const char *dir, char *err, size_t err_len)
{
    snprintf(err, err_len,
             "Last.FM data not found (looked for %s, and for artists.dat in its parent; set the data "
             "folder with --data-dir or COLB_DATA_DIR)",
             dir);
}

/* data_lastfm_dir's answer as the reason of a refusal; -2 (the data is
 * missing: a figure of colb reproduce is skipped) or -1. */
static int lastfm_unusable(int why, const char *path, char *err, size_t err_len)
{
    if (why == -1) {
        lastfm_missing(path, err, err_len);
        return -2;
    }
    snprintf(err, err_len, "Last.FM data: %s is %s", path,
             why == -2 ? "a folder, not a file" : "not a regular file (a device or a pipe?)");
    return -1;
}

int data_check(const run_config *c, char *err, size_t err_len)
{
    if (c->data == DATA_SYNTHETIC)
        return 0;
    /* loaded and dropped: what the files hold (a malformed line, fewer items
     * than --arms) must stop a sweep before its first setting runs, not after
     * (a Last.FM load from its feature cache takes ~0.1 s) */
    run_config *tmp = malloc(sizeof *tmp);
    if (!tmp) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    *tmp = *c;
    data_env d;
    int rc = data_env_open(&d, tmp, err, err_len);
    if (!rc)
        data_env_close(&d);
    free(tmp);
    return rc;
}

int data_env_open(data_env *d, run_config *c, char *err, size_t err_len)
{
    memset(d, 0, sizeof *d);
    c->sim.max_memory = c->max_memory;
    if (c->data == DATA_SYNTHETIC) {
        if (!c->learner_noise_set)
            c->sim.policy.learner.noise = c->sim.env.noise;
        c->sim.make_env = NULL;
        return 0;
    }
    colb_dataset *ds = NULL;
    char msg[ERR_LEN];
    colb_status st;
    if (c->data == DATA_LASTFM) {
        char dir[PATH_LEN + 64], cache[PATH_LEN];
        int why = data_lastfm_dir(c, dir, sizeof dir);
        if (why)
            return lastfm_unusable(why, dir, err, err_len);
        data_cache_path(c, cache, sizeof cache);
        if (outdir_check_file(cache, "colb feature cache", COLB_LASTFM_CACHE_MAGIC,
                              COLB_LASTFM_CACHE_MAGIC_LEN, msg, sizeof msg)) {
            snprintf(err, err_len, "feature cache: %s", msg);
            return -1;
        }
        colb_lastfm_params lp;
        colb_lastfm_params_default(&lp);
        lp.dim = c->sim.env.dim;
        lp.max_memory = c->max_memory;
        char made[PATH_LEN];
        if (outdir_make_parent(cache, made, msg, sizeof msg)) {
            snprintf(err, err_len, "feature cache: %s", msg);
            return -1;
        }
        st = colb_lastfm_load_ex(dir, &lp, cache, &ds, NULL, msg, sizeof msg);
        if (st != COLB_OK)
            outdir_unmake_parent(cache, made);
    } else {
        st = colb_dataset_load_ex(c->features, c->positives, c->max_memory, &ds, msg, sizeof msg);
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
    for (size_t i = 0; i < c->n_policies; i++) /* else its jobs would fail as they start */
        if (strcmp(c->policies[i], "random") && colb_dataset_dim(ds) > COLB_MODEL_DIM_MAX) {
            snprintf(err, err_len, "the data set's features have %zu dimensions; policy '%s' keeps d x d "
                     "matrices and takes at most %u (only random takes more)", colb_dataset_dim(ds),
                     c->policies[i], COLB_MODEL_DIM_MAX);
            colb_dataset_free(ds);
            return -1;
        }
    if (c->sim.env.arms > colb_dataset_items(ds)) { /* else every job would fail as it starts */
        snprintf(err, err_len, "--arms %zu: the data set has %zu items (arms K must be in [1, %zu])", c->sim.env.arms,
                 colb_dataset_items(ds), colb_dataset_items(ds));
        colb_dataset_free(ds);
        return -1;
    }
    d->ds = ds;
    d->K = c->sim.env.arms;
    d->protocol = config_protocol(c);
    if (!c->learner_noise_set)
        c->sim.policy.learner.noise = 0.5; /* 0/1 rewards are 1/2-sub-Gaussian */
    c->sim.make_env = make_logged;
    c->sim.env_ctx = d;
    c->sim.env.users = colb_dataset_users(ds);
    c->sim.env.dim = colb_dataset_dim(ds);
    /* one environment: the items and contexts shown per round (per user
     * under the CLUB protocol); under the shared one, its positives by item
     * and a flag per user */
    double rows = d->protocol == 2 ? (double)c->sim.env.users : 1.0;
    double env_bytes = rows * (double)d->K * (8.0 + 8.0 * (double)c->sim.env.dim) + (double)c->sim.env.users;
    if (d->protocol != 2)
        env_bytes += 8.0 * (double)(colb_dataset_items(ds) + 1 + colb_dataset_n_positives(ds)) +
                     (double)c->sim.env.users;
    c->sim.env_bytes = env_bytes < 1e18 ? (size_t)env_bytes : (size_t)1e18;
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
    if (st == COLB_EINTR)
        return 1;
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
