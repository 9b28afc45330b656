/* options.c - the option table of `colb run` and experiment files. */
#include "options.h"

#include "colb/tune.h"
#include "suggest.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum kind { K_SIZE, K_DOUBLE, K_U64, K_BOOL, K_STR, K_ENUM, K_POLICIES, K_SWEEP, K_BYTES } kind;

typedef struct option_def {
    const char *name;
    kind k;
    size_t off;              /* offset of the target in run_config */
    double lo, hi;           /* numeric range */
    const char *choices;     /* K_ENUM: "a|b|c" -> 0, 1, 2 */
    const char *group, *help;
} option_def;

#define OFF(f) offsetof(run_config, f)
/* Upper bounds of scales and constants: far above any sensible value, and
 * low enough that every update of the library stays finite (the ranges of
 * colb/learner.h and colb/env.h). */
#define BIG COLB_SCALE_MAX

static const option_def OPTS[] = {
    /* run */
    { "config", K_STR, 0, 0, 0, NULL, "run", "FILE: read an experiment file (see docs/experiments.md)" },
    { "policies", K_POLICIES, 0, 0, 0, NULL, "run", "LIST: comma-separated policy names" },
    { "horizon", K_SIZE, OFF(sim.horizon), 1, 1e9, NULL, "run", "T: rounds" },
    { "repeats", K_SIZE, OFF(sim.repeats), 1, 1e6, NULL, "run", "R: independent repeats" },
    { "seed", K_U64, OFF(sim.seed), 0, 0, NULL, "run", "S: master seed" },
    { "threads", K_SIZE, OFF(sim.threads), 1, COLB_SIM_THREADS_MAX, NULL, "run", "J: worker threads (results do not depend on it)" },
    { "curve-points", K_SIZE, OFF(sim.curve_points), 1, 1e6, NULL, "run", "P: checkpoints of regret curves" },
    { "max-memory", K_BYTES, OFF(max_memory), 0, 0, NULL, "run", "BYTES: memory budget, e.g. 8G or 512M, at most 1024T (default: 80% of the available memory)" },
    { "sweep", K_SWEEP, 0, 0, 0, NULL, "run", "KEY=V1,V2,...: run once per value of option KEY (none: no sweep, as in a reading of a file that sweeps)" },
    { "out", K_STR, OFF(out_dir), 0, PATH_LEN, NULL, "run", "DIR: results folder" },
    { "title", K_STR, OFF(title), 0, 256, NULL, "run", "TEXT: title of the experiment" },
    { "claim", K_STR, OFF(claim), 0, 512, NULL, "run", "TEXT: the paper's claim this experiment tests" },
    { "quiet", K_BOOL, OFF(quiet), 0, 1, NULL, "run", "no table or progress" },
    { "plots", K_BOOL, OFF(plots), 0, 1, NULL, "run", "draw the plots with gnuplot (0 writes their .dat and .gp only, for scripted runs)" },
    /* environment */
    { "env", K_ENUM, 0, 0, 0, "clustered|personalized|lastfm|logged", "environment", "E: kind of environment" },
    { "users", K_SIZE, OFF(sim.env.users), 1, 1u << 31, NULL, "environment", "N: users" },
    { "clusters", K_SIZE, OFF(sim.env.clusters), 1, 1u << 31, NULL, "environment", "L: clusters" },
    { "zipf", K_DOUBLE, OFF(sim.env.zipf), 0, 50, NULL, "environment", "z: cluster l has share ~ l^-z" },
    { "cluster-sizes", K_ENUM, OFF(sim.env.cluster_sizes), 0, 0, "one-each|proportional", "environment",
      "S: users per cluster: one each and the other N - L ~ l^-z, or all N ~ l^-z (the paper's wording; an "
      "empty cluster takes a user from the largest)" },
    { "dim", K_SIZE, OFF(sim.env.dim), 1, 4096, NULL, "environment", "d: context dimension, at most 1000 on Last.FM" },
    { "arms", K_SIZE, OFF(sim.env.arms), 1, 1e6, NULL, "environment", "K: arms per round" },
    { "noise", K_DOUBLE, OFF(sim.env.noise), 0, COLB_SCALE_MAX, NULL, "environment", "sigma: reward noise sd" },
    { "sigma-theta", K_DOUBLE, OFF(sim.env.sigma_theta), 0, COLB_SCALE_MAX, NULL, "environment", "s: personalized spread of theta_u around mu" },
    { "normalize", K_BOOL, OFF(sim.env.normalize), 0, 1, NULL, "environment", "personalized: scale so ||theta|| <= 1" },
    { "data-dir", K_STR, OFF(data_dir), 0, PATH_LEN, NULL, "data", "DIR: data folder: Last.FM is DIR/hetrec2011-lastfm-2k, or DIR itself if it holds artists.dat (default $COLB_DATA_DIR, else ../shared/data)" },
    { "features", K_STR, OFF(features), 0, PATH_LEN, NULL, "data", "FILE: item features" },
    { "positives", K_STR, OFF(positives), 0, PATH_LEN, NULL, "data", "FILE: positive user-item pairs" },
    { "feature-cache", K_STR, OFF(feature_cache), 0, PATH_LEN, NULL, "data", "FILE: Last.FM feature cache (default: results/cache/lastfm-dD.colbfeat, D = --dim)" },
    { "protocol", K_ENUM, OFF(protocol), 0, 0, "auto|shared|per-user", "data", "P: contexts shared by all users or drawn per user" },
    { "top-users", K_SIZE, OFF(top_users), 0, 1u << 31, NULL, "data", "M: keep the M most active users (0: all)" },
    /* learners */
    { "width", K_ENUM, OFF(sim.policy.learner.width), 0, 0, "oful|fixed", "learner", "W: exploration width: OFUL radius or fixed alpha" },
    { "alpha", K_DOUBLE, OFF(sim.policy.learner.alpha), 0, BIG, NULL, "learner", "a: fixed width (LinUCB alpha)" },
    { "lambda", K_DOUBLE, OFF(sim.policy.learner.lambda), COLB_LAMBDA_MIN, COLB_LAMBDA_MAX, NULL, "learner", "l: ridge regulariser" },
    { "delta", K_DOUBLE, OFF(sim.policy.learner.delta), 1e-12, 1 - 1e-12, NULL, "learner", "d: confidence of OFUL(delta)" },
    { "learner-noise", K_DOUBLE, OFF(sim.policy.learner.noise), 0, BIG, NULL, "learner", "R: noise scale in the OFUL radius (default: --noise)" },
    { "norm-bound", K_DOUBLE, OFF(sim.policy.learner.norm_bound), 0, BIG, NULL, "learner", "S: bound on ||theta|| in the OFUL radius" },
    /* CMLB / SCLB */
    { "pooled-updates", K_BOOL, OFF(sim.policy.pooled_updates), 0, 1, NULL, "collaboration", "group learners take an average of n rewards with weight n (1) or weight 1, noise R/sqrt(n) (0, the paper)" },
    { "cmlb-warm-start", K_BOOL, OFF(sim.policy.cmlb_warm_start), 0, 1, NULL, "collaboration", "cluster learners start from pooled individual data" },
    { "anytime", K_BOOL, OFF(sim.policy.anytime), 0, 1, NULL, "collaboration", "CMLB, PMLB plan without the horizon (doubling schedule)" },
    { "cmlb-alpha", K_DOUBLE, OFF(sim.policy.cmlb_alpha), 1e-12, 0.5, NULL, "cmlb", "a: exploration exponent, in (0, 1/2]" },
    { "cmlb-c", K_DOUBLE, OFF(sim.policy.cmlb_C), 0, BIG, NULL, "cmlb", "C: constant of T_explore" },
    { "cmlb-gamma", K_DOUBLE, OFF(sim.policy.cmlb_gamma), 0, BIG, NULL, "cmlb", "g: threshold (0: the --cmlb-threshold rule)" },
    { "cmlb-pstar", K_DOUBLE, OFF(sim.policy.cmlb_pstar), 0, 1, NULL, "cmlb", "p: merge clusters smaller than p*N" },
    { "cmlb-threshold", K_ENUM, OFF(sim.policy.cmlb_threshold), 0, 0, "paper|data", "cmlb", "R: gamma = 3/(NT)^alpha, or from confidence radii" },
    /* CLUB */
    { "club-alpha", K_DOUBLE, OFF(sim.policy.club_alpha), 0, BIG, NULL, "club", "a: exploration" },
    { "club-alpha2", K_DOUBLE, OFF(sim.policy.club_alpha2), 1e-6, BIG, NULL, "club", "a2: edge-deletion constant" },
    { "club-graph", K_ENUM, OFF(sim.policy.club_graph), 0, 0, "complete|random", "club", "G: initial user graph" },
    { "club-tune", K_BOOL, OFF(club_tune), 0, 1, NULL, "club", "grid-search club-alpha, club-alpha2 on a burn-in first" },
    { "club-burn-in", K_SIZE, OFF(club_burn_in), 1, 1e6, NULL, "club", "B: rounds of the tuning burn-in" },
    { "club-tune-repeats", K_SIZE, OFF(club_tune_repeats), 1, 1000, NULL, "club", "R: repeats per grid point of the tuning" },
    /* PMLB */
    { "pmlb-learner", K_ENUM, OFF(sim.policy.pmlb_learner), 0, 0, "alb-norm|linucb", "pmlb", "L: personal learner" },
    /* cohort */
    { "cohort-delta", K_DOUBLE, OFF(sim.policy.cohort_delta), 1e-12, 1 - 1e-12, NULL, "cohort", "d: confidence of its split, merge and outlier tests" },
    { "cohort-personal", K_BOOL, OFF(sim.policy.cohort_personal), 0, 1, NULL, "cohort", "personal estimates shrunk toward the cluster (1) or the cluster's model (0)" },
    { "cohort-soft", K_BOOL, OFF(sim.policy.cohort_soft), 0, 1, NULL, "cohort", "mix the runner-up clusters' models while an assignment is uncertain" },
    { "cohort-seeds", K_SIZE, OFF(sim.policy.cohort_seeds), 1, 64, NULL, "cohort", "S: members tried as seeds of a split proposal" },
    { "cohort-estimate-noise", K_BOOL, OFF(sim.policy.cohort_estimate_noise), 0, 1, NULL, "cohort", "estimate the rewards' noise scale from the users' residuals at every epoch (learner-noise: its prior, worth d observations)" },
    /* fair comparisons: one width for all, diversification, sampling, SCLUB, LOCB */
    { "diversify", K_BOOL, OFF(sim.policy.diversify), 0, 1, NULL, "comparison", "group learners diversify their members' choices within a round (hallucinated updates)" },
    { "sampling", K_ENUM, OFF(sim.policy.sampling), 0, 0, "ucb|ts", "comparison", "S: every learner chooses by UCB or by Thompson sampling" },
    { "club-own-alpha", K_BOOL, OFF(sim.policy.club_own_alpha), 0, 1, NULL, "comparison", "CLUB explores with --club-alpha and its published bonus, not the shared width (an override; --club-alpha turns it on unless it is given, and a given value decides, in either order)" },
    { "tune", K_BOOL, OFF(tune), 0, 1, NULL, "comparison", "tune every policy's fixed width alpha on a burn-in, the same way for all" },
    { "tune-burn-in", K_SIZE, OFF(tune_burn_in), 1, 1e6, NULL, "comparison", "B: rounds of the width tuning's burn-in" },
    { "tune-repeats", K_SIZE, OFF(tune_repeats), 1, 1000, NULL, "comparison", "R: repeats per alpha of the width tuning" },
    { "sclub-alpha", K_DOUBLE, OFF(sim.policy.sclub_alpha), 1e-6, BIG, NULL, "sclub", "a: split/merge constant" },
    { "sclub-alpha-p", K_DOUBLE, OFF(sim.policy.sclub_alpha_p), 1e-6, BIG, NULL, "sclub", "a: user-frequency constant" },
    { "locb-seeds", K_SIZE, OFF(sim.policy.locb_seeds), 1, 1u << 31, NULL, "locb", "S: seed users" },
    { "locb-gamma", K_DOUBLE, OFF(sim.policy.locb_gamma), 1e-6, BIG, NULL, "locb", "g: a seed's neighbourhood is final when F(T_seed) <= g/4" },
};
#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

/* The options of the environment and data groups that only some kinds of
 * environment read (the others are read by every kind: env, arms), by
 * their names in --env, with why the others do not when it is not plain. */
static const struct env_only {
    const char *name, *envs, *why;
} ENV_ONLY[] = {
    { "users", "clustered|personalized", "a data set has its own users; --top-users keeps the most active" },
    { "clusters", "clustered", NULL },
    { "zipf", "clustered", NULL },
    { "cluster-sizes", "clustered", NULL },
    { "dim", "clustered|personalized|lastfm", "the features file gives d" },
    { "noise", "clustered|personalized", "logged rewards are 0 or 1; the learners' noise scale is --learner-noise" },
    { "sigma-theta", "personalized", NULL },
    { "normalize", "personalized", NULL },
    { "data-dir", "lastfm", NULL },
    { "feature-cache", "lastfm", NULL },
    { "features", "logged", NULL },
    { "positives", "logged", NULL },
    { "protocol", "lastfm|logged", NULL },
    { "top-users", "lastfm|logged", NULL },
};

static const option_def *find(const char *key)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (!strcmp(OPTS[i].name, key))
            return &OPTS[i];
    return NULL;
}

int option_known(const char *key) { return find(key) != NULL; }

const char *option_name(const char *key)
{
    const option_def *o = find(key);
    return o ? o->name : NULL;
}

int option_given_once(seen_opts *s, const char *key, const char *as, char *err, size_t err_len)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->key[i], key)) {
            int n = (int)strcspn(as, "="), m = (int)strcspn(s->as[i], "=");
            int same = n == m && !strncmp(as, s->as[i], (size_t)n);
            snprintf(err, err_len, "option '%.*s' is given twice%s%.*s%s; give each option once", n, as,
                     same ? "" : " (first as '", same ? 0 : m, s->as[i], same ? "" : "')");
            return -1;
        }
    if (s->n < sizeof s->key / sizeof s->key[0]) {
        s->key[s->n] = key;
        s->as[s->n++] = as;
    }
    return 0;
}

size_t option_names(const char **names, size_t max)
{
    size_t n = 0;
    for (; n < N_OPTS && n < max; n++)
        names[n] = OPTS[n].name;
    return n;
}

int option_is_flag(const char *key)
{
    (void)key;
    return 0; /* every option takes a value; booleans take 0/1 */
}

void config_default(run_config *c)
{
    memset(c, 0, sizeof *c);
    colb_sim_spec_default(&c->sim);
    c->sim.threads = 1;
    c->sim.repeats = 30;
    c->sim.policy.learner.delta = 0.4; /* the paper's CMLB delta (Section 6.1) */
    c->club_burn_in = COLB_CLUB_TUNE_ROUNDS;
    c->club_tune_repeats = COLB_CLUB_TUNE_REPEATS;
    /* one exploration width for every policy, chosen from measurements
     * (docs/results.md, "The default width"): fixed alpha = 0.25 */
    c->sim.policy.learner.width = COLB_WIDTH_FIXED;
    c->sim.policy.learner.alpha = 0.25;
    c->tune_burn_in = COLB_CLUB_TUNE_ROUNDS;
    c->tune_repeats = COLB_CLUB_TUNE_REPEATS;
    c->plots = 1;
    snprintf(c->policies[0], NAME_LEN, "oracle");
    snprintf(c->policies[1], NAME_LEN, "cmlb");
    snprintf(c->policies[2], NAME_LEN, "linucb-ind");
    c->n_policies = 3;
    snprintf(c->out_dir, PATH_LEN, "results/run");
}

/* The end of the plain decimal number at the start of s: [+-] digits
 * [. digits] [e [+-] digits] with at least one digit before the exponent
 * (no hex, inf or nan, which strtod would take); NULL if there is none. */
static const char *decimal_end(const char *s)
{
    size_t digits = 0;
    if (*s == '+' || *s == '-')
        s++;
    for (; *s >= '0' && *s <= '9'; s++)
        digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            digits++;
    if (!digits)
        return NULL;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return NULL;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return s;
}

/* strtod of the plain decimal number at the start of s (decimal_end);
 * *end after it. -1 when there is none or it overflows. A number below the
 * smallest double's magnitude reads as its nearest double (subnormal, or
 * 0), as the library's parameters by name do (param_table.c). */
static int decimal_value(const char *s, double *v, char **end)
{
    const char *num_end = s ? decimal_end(s) : NULL;
    if (!num_end)
        return -1;
    *v = strtod(s, end);
    return *end == num_end && isfinite(*v) ? 0 : -1;
}

/* The shortest text of v that reads back as v: %.Ng for the least N in
 * 1..17 that round-trips through strtod (0.1, not 0.10000000000000001);
 * an integer below 10^5 in its digits (50, not %.1g's 5e+01). */
static void shortest_double(char *out, size_t len, double v)
{
    if (fabs(v) < 1e5 && v == (double)(long)v) { /* fabs first: (long) of NaN is undefined */
        snprintf(out, len, "%ld", (long)v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, len, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;
    if (decimal_value(s, &v, &end) || *end || v < lo || v > hi)
        return -1;
    *out = v == 0.0 ? 0.0 : v; /* -0 is 0: one value, written "0" */
    return 0;
}

void bytes_fraction_error(const char *dashes, const char *name, const char *value, char *err, size_t err_len)
{
    snprintf(err, err_len, "%s%s: '%s' is not a whole number of bytes (a unit missing? %sG, %sM: powers of 1024)",
             dashes, name, value, value, value);
}

int parse_bytes(const char *s, size_t *out)
{
    char *end;
    double v;
    if (decimal_value(s, &v, &end))
        return -1;
    double unit = 1.0;
    switch (*end) {
    case 'k': case 'K': unit = 1024.0; end++; break;
    case 'm': case 'M': unit = 1024.0 * 1024; end++; break;
    case 'g': case 'G': unit = 1024.0 * 1024 * 1024; end++; break;
    case 't': case 'T': unit = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (unit > 1.0 && (*end == 'B' || *end == 'b'))
        end++;
    if (*end || v < 0)
        return -1;
    if (v * unit >= 18446744073709551615.0)
        return -3; /* beyond a size_t */
    if (v * unit > 0 && v * unit < 1)
        return -2; /* a fraction of a byte: not 0 (which may mean "not set") */
    if (unit == 1.0 && v != floor(v))
        return -4; /* "1.5": a unit missing, not 1 byte */
    *out = (size_t)(v * unit);
    return 0;
}

int parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
    if (!s || *s < '0' || *s > '9') /* strtoull would skip blanks and take a sign */
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno == ERANGE || v < lo || v > hi)
        return -1;
    *out = (size_t)v;
    return 0;
}

int text_is_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 9;
        if (n == 9)
            return 0;
        unsigned cp = n == 0 ? c : c & (0x3fu >> n);
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i] & 0x3fu);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        p += n + 1;
    }
    return 1;
}

int option_choice_index(const char *choices, const char *v)
{
    size_t n = strlen(v);
    int idx = 0;
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n))
            return idx;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

/* Split "a,b,c" into at most max items of NAME_LEN (spaces trimmed).
 * 0, or -1 with err saying why: an empty item, one too long, too many
 * (`key` is the option, `noun` what it lists). */
static int split_list(const char *v, char (*items)[NAME_LEN], size_t max, size_t *n, const char *key,
                      const char *noun, char *err, size_t err_len)
{
    *n = 0;
    const char *p = v;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (*n >= max) {
            snprintf(err, err_len, "%s: '%s' lists more than %zu %ss", key, v, max, noun);
            return -1;
        }
        if (len == 0) {
            snprintf(err, err_len, "%s: '%s' has an empty %s", key, v, noun);
            return -1;
        }
        if (len >= NAME_LEN) {
            snprintf(err, err_len, "%s: %s '%.*s' is longer than %d characters", key, noun, (int)len, p,
                     NAME_LEN - 1);
            return -1;
        }
        memcpy(items[*n], p, len);
        items[*n][len] = '\0';
        (*n)++;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static void option_value(const option_def *o, const run_config *c, char *out, size_t len);

int config_at(const run_config *base, size_t s, run_config *out, char *err, size_t err_len)
{
    *out = *base;
    return base->n_sweep ? config_set(out, base->sweep_key, base->sweep_values[s], err, err_len) : 0;
}

int config_set(run_config *c, const char *key, const char *value, char *err, size_t err_len)
{
    const option_def *o = find(key);
    if (!o) {
        const char *names[N_OPTS];
        size_t n = option_names(names, N_OPTS);
        suggest_unknown(err, err_len, "option", "", key, strlen(key), names, n, NULL);
        return -1;
    }
    if (!value) {
        snprintf(err, err_len, "option '%s' needs a value", key);
        return -1;
    }
    char *base = (char *)c;
    switch (o->k) {
    case K_SIZE: {
        size_t v;
        if (parse_size(value, (size_t)o->lo, (size_t)o->hi, &v)) {
            snprintf(err, err_len, "%s: '%s' is not an integer in [%.0f, %.0f]", key, value, o->lo, o->hi);
            return -1;
        }
        *(size_t *)(base + o->off) = v;
        return 0;
    }
    case K_U64: {
        size_t v;
        if (parse_size(value, 0, SIZE_MAX, &v)) {
            snprintf(err, err_len, "%s: '%s' is not a non-negative integer", key, value);
            return -1;
        }
        *(uint64_t *)(base + o->off) = (uint64_t)v;
        return 0;
    }
    case K_DOUBLE: {
        double v;
        if (parse_double(value, o->lo, o->hi, &v)) {
            char lo[32], hi[32]; /* exact: 1 - 1e-12 is not "1" */
            shortest_double(lo, sizeof lo, o->lo);
            shortest_double(hi, sizeof hi, o->hi);
            snprintf(err, err_len, "%s: '%s' is not a number in [%s, %s]", key, value, lo, hi);
            return -1;
        }
        *(double *)(base + o->off) = v;
        if (!strcmp(key, "learner-noise"))
            c->learner_noise_set = 1;
        /* CLUB's own width, an override: --club-alpha turns it on unless
         * --club-own-alpha is given, wherever and in whatever order */
        if (!strcmp(key, "club-alpha") && !c->club_own_alpha_set)
            c->sim.policy.club_own_alpha = 1;
        return 0;
    }
    case K_BOOL: {
        int v = !strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes")   ? 1
                : !strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no") ? 0
                                                                                         : -1;
        if (v < 0) {
            snprintf(err, err_len, "%s: '%s' is not a boolean (0/1, true/false, yes/no)", key, value);
            return -1;
        }
        *(int *)(base + o->off) = v;
        if (!strcmp(key, "club-own-alpha"))
            c->club_own_alpha_set = 1;
        return 0;
    }
    case K_STR:
        if (!strcmp(key, "config")) {
            snprintf(err, err_len, "'config' cannot be set inside an experiment file");
            return -1;
        }
        if (strlen(value) >= (size_t)o->hi) {
            snprintf(err, err_len, "%s: value too long (%zu characters, at most %.0f)", key, strlen(value),
                     o->hi - 1);
            return -1;
        }
        for (const char *q = value; *q; q++) {
            if ((unsigned char)*q < 0x20 || *q == 0x7f) {
                snprintf(err, err_len, "%s: control character 0x%02x (%s) in the value", key,
                         (unsigned)(unsigned char)*q, *q == '\n' ? "a line break" : *q == '\t' ? "a tab" : "not text");
                return -1;
            }
            /* what settings.txt could not give back: an experiment file
             * trims its values and reads ';' there as a comment */
            if (*q == ';' && (q == value || q[-1] == ' ')) {
                snprintf(err, err_len, "%s: '%s' has a ';' %s, which experiment files (and settings.txt) read as "
                         "a comment", key, value, q == value ? "first" : "after a blank");
                return -1;
            }
        }
        if (value[0] == ' ' || (value[0] && value[strlen(value) - 1] == ' ')) {
            snprintf(err, err_len, "%s: '%s' begins or ends with a blank, which experiment files (and settings.txt) "
                     "drop", key, value);
            return -1;
        }
        if (!strcmp(key, "out") && !value[0]) { /* --out= or --out '': no folder, not the default */
            snprintf(err, err_len, "out: an empty folder name (leave the option out for results/run)");
            return -1;
        }
        if ((!strcmp(key, "title") || !strcmp(key, "claim")) && !text_is_utf8(value)) {
            snprintf(err, err_len, "%s: the text is not UTF-8 (plots and reports carry it as UTF-8 text)", key);
            return -1;
        }
        snprintf(base + o->off, (size_t)o->hi, "%s", value);
        if (!strcmp(key, "out")) { /* DIR/ is DIR: what lies beside it (DIR.checkpoint.colb) stays outside */
            char *d = base + o->off;
            for (size_t n = strlen(d); n > 1 && d[n - 1] == '/'; n--)
                d[n - 1] = '\0';
        }
        return 0;
    case K_BYTES: {
        size_t v;
        int bad = parse_bytes(value, &v);
        if (bad == -3)
            v = SIZE_MAX, bad = 0; /* more than the bound below */
        if (bad == -1) {
            snprintf(err, err_len, "%s: '%s' is not a byte count such as 8G, 512M or 1e9", key, value);
            return -1;
        }
        if (bad == -4) {
            bytes_fraction_error("", key, value, err, err_len);
            return -1;
        }
        if (bad || v == 0) { /* 0 is the unset budget: the default, which is to leave the option out */
            snprintf(err, err_len, "%s: '%s' is less than one byte (a budget such as 8G, 512M or 1e9; "
                     "without the option, 80%% of the available memory)", key, value);
            return -1;
        }
        if ((double)v > COLB_MEMORY_MAX) { /* a typo: no machine has it, and the budget would stop nothing */
            snprintf(err, err_len, "%s: '%s' is more than 1024T (2^50 bytes), beyond any machine's memory "
                     "(a budget such as 8G, 512M or 1e9)", key, value);
            return -1;
        }
        *(size_t *)(base + o->off) = v;
        return 0;
    }
    case K_ENUM: {
        int v = option_choice_index(o->choices, value);
        if (v < 0) {
            snprintf(err, err_len, "%s: '%s' is not one of %s", key, value, o->choices);
            return -1;
        }
        if (!strcmp(key, "env")) {
            c->data = v <= 1 ? DATA_SYNTHETIC : v == 2 ? DATA_LASTFM : DATA_LOGGED;
            c->sim.env.kind = v == 1 ? COLB_ENV_PERSONALIZED : COLB_ENV_CLUSTERED;
        } else {
            *(int *)(base + o->off) = v;
        }
        return 0;
    }
    case K_POLICIES: {
        char items[MAX_POLICIES][NAME_LEN];
        size_t n;
        if (split_list(value, items, MAX_POLICIES, &n, "policies", "name", err, err_len))
            return -1;
        const char *const *known = colb_policy_names();
        for (size_t i = 0; i < n; i++) {
            int ok = colb_policy_resolve(items[i]) != NULL;
            if (!ok) {
                char list[256] = "";
                for (size_t j = 0; known[j]; j++)
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "", known[j]);
                snprintf(err, err_len, "policies: unknown policy '%s' (known: %s)", items[i], list);
                return -1;
            }
            for (size_t j = 0; j < i; j++)
                if (!strcmp(items[j], items[i])) {
                    snprintf(err, err_len, "policies: '%s' is listed twice", items[i]);
                    return -1;
                } else if (!strcmp(colb_policy_resolve(items[j]), colb_policy_resolve(items[i]))) {
                    snprintf(err, err_len, "policies: '%s' and '%s' are the same policy (%s); list it once",
                             items[j], items[i], colb_policy_resolve(items[i]));
                    return -1;
                }
        }
        memcpy(c->policies, items, sizeof items);
        c->n_policies = n;
        return 0;
    }
    case K_SWEEP: {
        if (!strcmp(value, "none")) { /* a reading's way out of the top level's sweep */
            c->n_sweep = 0;
            c->sweep_key[0] = '\0';
            return 0;
        }
        const char *eq = strchr(value, '=');
        if (!eq || eq == value || (size_t)(eq - value) >= NAME_LEN) {
            snprintf(err, err_len, "sweep: expected KEY=V1,V2,... or none, got '%s'", value);
            return -1;
        }
        char k[NAME_LEN];
        memcpy(k, value, (size_t)(eq - value));
        k[eq - value] = '\0';
        const option_def *t = find(k);
        if (!t || t->k == K_SWEEP || t->k == K_POLICIES || t->k == K_BYTES ||
            (!strcmp(t->group, "run") && strcmp(k, "horizon") && strcmp(k, "repeats") && strcmp(k, "seed") &&
             strcmp(k, "curve-points"))) {
            snprintf(err, err_len, "sweep: '%s' is not an option that can be swept", k);
            return -1;
        }
        char vals[MAX_SWEEP][NAME_LEN], canon[MAX_SWEEP][NAME_LEN];
        size_t n;
        if (split_list(eq + 1, vals, MAX_SWEEP, &n, "sweep", "value", err, err_len))
            return -1;
        /* every value must be valid for the option, and no two the same
         * setting: try each on a scratch copy and compare the settings */
        run_config *tmp = malloc(sizeof *tmp);
        if (!tmp) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            *tmp = *c;
            if (config_set(tmp, k, vals[i], err, err_len)) {
                free(tmp);
                return -1;
            }
            option_value(t, tmp, canon[i], sizeof canon[i]);
            for (size_t j = 0; j < i; j++)
                if (!strcmp(canon[j], canon[i])) {
                    snprintf(err, err_len, "sweep: %s = %s is listed twice ('%s' and '%s')", k, canon[i],
                             vals[j], vals[i]);
                    free(tmp);
                    return -1;
                }
        }
        free(tmp);
        memcpy(c->sweep_values, vals, sizeof vals);
        snprintf(c->sweep_key, NAME_LEN, "%s", k);
        c->n_sweep = n;
        return 0;
    }
    }
    return -1;
}

int config_check(const run_config *c, char *err, size_t err_len)
{
    if (c->data == DATA_SYNTHETIC) {
        if (c->sim.env.kind == COLB_ENV_CLUSTERED && c->sim.env.clusters > c->sim.env.users) {
            snprintf(err, err_len, "clusters (%zu) must not exceed users (%zu)", c->sim.env.clusters,
                     c->sim.env.users);
            return -1;
        }
    }
    if (c->data == DATA_LASTFM && c->sim.env.dim > COLB_LASTFM_DIM_MAX) {
        snprintf(err, err_len, "--dim %zu: Last.FM's features are at most %u principal components (--env lastfm)",
                 c->sim.env.dim, COLB_LASTFM_DIM_MAX);
        return -1;
    }
    if (c->data == DATA_LOGGED && (!c->features[0] || !c->positives[0])) {
        snprintf(err, err_len, "env logged needs --features FILE and --positives FILE");
        return -1;
    }
    if (c->tune && c->club_tune) {
        snprintf(err, err_len, "tune = 1 tunes every policy's width; club-tune = 1 tunes CLUB alone "
                               "(the paper's protocol): choose one");
        return -1;
    }
    /* CLUB's own width (an explicit club-own-alpha decides it) and the
     * tunings that would decide otherwise are a contradiction, not an
     * override: tune = 1 gave CLUB the shared width, club-tune = 1 its own,
     * whatever club-own-alpha said */
    if (c->club_own_alpha_set && c->club_tune && !c->sim.policy.club_own_alpha) {
        snprintf(err, err_len, "club-tune = 1 tunes CLUB's own alpha; club-own-alpha = 0 keeps CLUB "
                               "on the shared width: choose one");
        return -1;
    }
    if (c->tune && c->sim.policy.club_own_alpha) {
        snprintf(err, err_len, "tune = 1 gives every policy, CLUB included, the same tuned width; "
                 "club-own-alpha = 1%s gives CLUB its own: choose one",
                 c->club_own_alpha_set ? "" : " (set by club-alpha)");
        return -1;
    }
    for (size_t i = 0; i < c->n_policies; i++)
        if (colb_policy_needs_true_clusters(c->policies[i]) &&
            (c->data != DATA_SYNTHETIC || c->sim.env.kind != COLB_ENV_CLUSTERED)) {
            /* the default list names oracle: say so to a run that gave none */
            int dflt = c->n_policies == 3 && !strcmp(c->policies[0], "oracle") &&
                       !strcmp(c->policies[1], "cmlb") && !strcmp(c->policies[2], "linucb-ind");
            snprintf(err, err_len, "policy '%s' needs --env clustered (true clusters)%s", c->policies[i],
                     dflt ? "; it is one of the default --policies oracle,cmlb,linucb-ind: give --policies "
                            "without it (e.g. --policies cmlb,linucb-ind)" : "");
            return -1;
        }
    return 0;
}

/* The value of option o in c as text. */
static void option_value(const option_def *o, const run_config *c, char *out, size_t len)
{
    const char *base = (const char *)c;
    size_t n = 0;
    out[0] = '\0';
    switch (o->k) {
    case K_SIZE: snprintf(out, len, "%zu", *(const size_t *)(base + o->off)); break;
    case K_U64: snprintf(out, len, "%llu", (unsigned long long)*(const uint64_t *)(base + o->off)); break;
    case K_DOUBLE: shortest_double(out, len, *(const double *)(base + o->off)); break;
    case K_BYTES: snprintf(out, len, "%zu", *(const size_t *)(base + o->off)); break;
    case K_BOOL: snprintf(out, len, "%d", *(const int *)(base + o->off)); break;
    case K_STR: snprintf(out, len, "%s", base + o->off); break;
    case K_ENUM: {
        int v = !strcmp(o->name, "env")
                    ? (c->data == DATA_LASTFM ? 2 : c->data == DATA_LOGGED ? 3
                       : c->sim.env.kind == COLB_ENV_PERSONALIZED ? 1 : 0)
                    : *(const int *)(base + o->off);
        const char *p = o->choices;
        for (int k = 0; k < v && strchr(p, '|'); k++)
            p = strchr(p, '|') + 1;
        snprintf(out, len, "%.*s", (int)(strchr(p, '|') ? (size_t)(strchr(p, '|') - p) : strlen(p)), p);
        break;
    }
    case K_POLICIES:
        for (size_t j = 0; j < c->n_policies && n < len; j++)
            n += (size_t)snprintf(out + n, len - n, "%s%s", j ? "," : "", c->policies[j]);
        break;
    case K_SWEEP:
        if (c->n_sweep) {
            n += (size_t)snprintf(out + n, len - n, "%s=", c->sweep_key);
            for (size_t j = 0; j < c->n_sweep && n < len; j++)
                n += (size_t)snprintf(out + n, len - n, "%s%s", j ? "," : "", c->sweep_values[j]);
        }
        break;
    }
}

const char *option_envs(const char *key, const char **why)
{
    for (size_t i = 0; i < sizeof ENV_ONLY / sizeof ENV_ONLY[0]; i++)
        if (!strcmp(ENV_ONLY[i].name, key)) {
            if (why)
                *why = ENV_ONLY[i].why;
            return ENV_ONLY[i].envs;
        }
    if (why)
        *why = NULL;
    return NULL;
}

void option_envs_text(const char *envs, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *e = envs; *e && n + 3 < len; e++) {
        if (*e == '|')
            out[n++] = ',', out[n++] = ' ';
        else
            out[n++] = *e;
    }
    out[n] = '\0';
}

/* The kinds of environment the settings of c run on: its env, or every
 * value of a sweep over env. Their names into names[] (at most MAX_SWEEP);
 * returns how many. */
static size_t setting_envs(const run_config *c, const char *names[MAX_SWEEP], char own[NAME_LEN])
{
    if (c->n_sweep && !strcmp(c->sweep_key, "env")) {
        for (size_t s = 0; s < c->n_sweep; s++)
            names[s] = c->sweep_values[s];
        return c->n_sweep;
    }
    config_get(c, "env", own, NAME_LEN);
    names[0] = own;
    return 1;
}

int config_env_uses(const run_config *c, const char *key)
{
    const char *envs = option_envs(key, NULL), *names[MAX_SWEEP];
    char own[NAME_LEN];
    if (!envs)
        return 1;
    size_t n = setting_envs(c, names, own);
    for (size_t s = 0; s < n; s++)
        if (option_choice_index(envs, names[s]) >= 0)
            return 1;
    return 0;
}

void config_env_names(const run_config *c, char *out, size_t len)
{
    const char *names[MAX_SWEEP];
    char own[NAME_LEN];
    size_t n = setting_envs(c, names, own), at = 0;
    out[0] = '\0';
    for (size_t s = 0; s < n && at < len; s++)
        at += (size_t)snprintf(out + at, len - at, "%s%s", s ? ", " : "", names[s]);
}

/* ---- the options of the policies: which policies read them ----------- */

/* 1 for an option of the policies: the learners', the collaboration's, one
 * policy's, the tunings' (every group but run, environment and data). */
static int of_policies(const option_def *o)
{
    return strcmp(o->group, "run") && strcmp(o->group, "environment") && strcmp(o->group, "data");
}

int option_of_policies(const char *key)
{
    const option_def *o = find(key);
    return o && of_policies(o);
}

/* 1 when policy `policy` (a registered name) reads option o under some
 * settings: the library's table (colb_policy_param_used) for its keys, and
 * the tunings, the tool's own, for the policies they tune. */
static int policy_may_read(const char *policy, const option_def *o)
{
    const char *n = o->name;
    if (!strcmp(n, "tune") || !strcmp(n, "tune-burn-in") || !strcmp(n, "tune-repeats"))
        return strcmp(policy, "random") != 0; /* random has no width to tune */
    if (!strcmp(n, "club-tune") || !strcmp(n, "club-burn-in") || !strcmp(n, "club-tune-repeats"))
        return !strcmp(policy, "club");
    return colb_policy_param_used(policy, n) != 0; /* -1, a key the library lacks: taken as read */
}

/* 1 for the tool's own options of the policies: the tunings. */
static int of_tunings(const char *n)
{
    return !strcmp(n, "tune") || !strcmp(n, "tune-burn-in") || !strcmp(n, "tune-repeats") ||
           !strcmp(n, "club-tune") || !strcmp(n, "club-burn-in") || !strcmp(n, "club-tune-repeats");
}

/* Whether some policy of the one setting c (no sweep applied) reads option
 * o as set there. The library's keys as the library says
 * (colb_sim_spec_param_read: the shared width only when it is in force, the
 * OFUL radius's keys only with width = oful, ..., with the tunings of c);
 * -1, which it cannot tell, is taken as read. The tunings, the tool's own:
 * by the policies they tune (policy_may_read), their burn-ins and repeats
 * only with that tuning on. */
static int setting_reads(const run_config *c, const option_def *o)
{
    const char *n = o->name;
    if (of_tunings(n)) {
        if ((!strcmp(n, "tune-burn-in") || !strcmp(n, "tune-repeats")) && !c->tune)
            return 0;
        if ((!strcmp(n, "club-burn-in") || !strcmp(n, "club-tune-repeats")) && !c->club_tune)
            return 0;
        for (size_t p = 0; p < c->n_policies; p++) {
            const char *policy = colb_policy_resolve(c->policies[p]);
            if (policy_may_read(policy ? policy : c->policies[p], o))
                return 1;
        }
        return 0;
    }
    const char *names[MAX_POLICIES];
    colb_sim_spec s = c->sim;
    for (size_t p = 0; p < c->n_policies; p++)
        names[p] = c->policies[p];
    s.policies = names;
    s.n_policies = c->n_policies;
    unsigned tuned = (c->tune ? COLB_TUNED_WIDTH : 0u) | (c->club_tune ? COLB_TUNED_CLUB : 0u);
    return colb_sim_spec_param_read(&s, n, tuned) != 0;
}

/* Which policies read option `name`, and under which settings, for --help
 * (setting_reads, colb_sim_spec_param_read), where a plain list
 * (option_policies_text) would not say it all. */
static const struct read_by {
    const char *name, *text;
} READ_BY[] = {
    { "width", "every policy but random; not with --tune 1, nor club on its own width" },
    { "alpha", "every policy but random with --width fixed; not with --tune 1, nor club on its own width" },
    { "delta", "every policy but random with --width oful; cmlb, sclb, pmlb (alb-norm) with either width" },
    { "learner-noise", "every policy but random with --width oful; cohort, pmlb (alb-norm), cmlb, sclb "
                       "(--cmlb-threshold data) with either width" },
    { "norm-bound", "every policy but random with --width oful; pmlb (alb-norm), cmlb, sclb "
                    "(--cmlb-threshold data) with either width" },
    { "cmlb-threshold", "sclb, and cmlb with --cmlb-gamma 0" },
    { "club-alpha", "club on its own width, not with --club-tune 1" },
    { "club-alpha2", "club, not with --club-tune 1" },
    { "club-burn-in", "club with --club-tune 1" },
    { "club-tune-repeats", "club with --club-tune 1" },
    { "tune-burn-in", "every policy but random, with --tune 1" },
    { "tune-repeats", "every policy but random, with --tune 1" },
};

void option_policies_text(const char *key, char *out, size_t len)
{
    const option_def *o = find(key);
    const char *const *names = colb_policy_names();
    char yes[256] = "", no[256] = "";
    size_t n_yes = 0, n_no = 0;
    out[0] = '\0';
    if (!o || !of_policies(o))
        return;
    for (size_t i = 0; names[i]; i++) {
        int r = policy_may_read(names[i], o);
        char *list = r ? yes : no;
        snprintf(list + strlen(list), 256 - strlen(list), "%s%s", list[0] ? ", " : "", names[i]);
        *(r ? &n_yes : &n_no) += 1;
    }
    if (!n_no)
        snprintf(out, len, "every policy");
    else if (n_no == 2 && n_no < n_yes) /* "every policy but cohort and random" */
        snprintf(out, len, "every policy but %.*s and %s", (int)strcspn(no, ","), no, strchr(no, ',') + 2);
    else if (n_no == 1 && n_yes > 1)
        snprintf(out, len, "every policy but %s", no);
    else
        snprintf(out, len, "%s", yes);
}

int config_policies_use(const run_config *c, const char *key)
{
    const option_def *o = find(key);
    if (!o || !of_policies(o))
        return 1;
    size_t n = c->n_sweep ? c->n_sweep : 1;
    run_config *s = c->n_sweep ? malloc(sizeof *s) : NULL;
    if (c->n_sweep && !s)
        return 1; /* cannot tell: not refused */
    int used = 0;
    char err[ERR_LEN];
    for (size_t v = 0; v < n && !used; v++) {
        const run_config *at = c;
        if (s) { /* the setting at the v-th swept value */
            *s = *c;
            if (config_set(s, c->sweep_key, c->sweep_values[v], err, sizeof err)) {
                used = 1;
                break;
            }
            at = s;
        }
        used = setting_reads(at, o);
    }
    free(s);
    return used;
}

/* Why no policy of setting c reads option o, when one of them may under
 * other settings (policy_may_read): the text after "--KEY" in the message
 * of config_policies_unread. */
static void unread_why(const run_config *c, const option_def *o, char *out, size_t len)
{
    const colb_policy_params *pp = &c->sim.policy;
    const char *n = o->name;
    const char *own = "club on its own width (--club-alpha, --club-own-alpha 1 or --club-tune 1)";
    char width[256];
    if (c->tune)
        snprintf(width, sizeof width, "--tune 1 fixes the width");
    else if (pp->learner.width == COLB_WIDTH_FIXED)
        snprintf(width, sizeof width, "--width is fixed");
    else
        snprintf(width, sizeof width, "the width is oful, but the policy that could read it is %s", own);
    if (!strcmp(n, "tune-burn-in") || !strcmp(n, "tune-repeats"))
        snprintf(out, len, "is read only with --tune 1 (the width tuning)");
    else if (!strcmp(n, "club-burn-in") || !strcmp(n, "club-tune-repeats"))
        snprintf(out, len, "is read only with --club-tune 1 (CLUB's tuning)");
    else if ((!strcmp(n, "width") || !strcmp(n, "alpha")) && c->tune)
        snprintf(out, len, "is not read with --tune 1 (the tuning gives every policy a fixed width and "
                           "chooses its alpha)");
    else if (!strcmp(n, "alpha") && pp->learner.width == COLB_WIDTH_OFUL)
        snprintf(out, len, "is the fixed width, read only with --width fixed, and --width is oful");
    else if (!strcmp(n, "width") || !strcmp(n, "alpha"))
        snprintf(out, len, "is not read by %s, the only policy here with a width", own);
    else if (!strcmp(n, "delta"))
        snprintf(out, len, "is read only in the OFUL radius (--width oful) and by cmlb, sclb and pmlb with "
                           "--pmlb-learner alb-norm; here %s", width);
    else if (!strcmp(n, "learner-noise"))
        snprintf(out, len, "is read only in the OFUL radius (--width oful) and by cohort, by cmlb and sclb with "
                           "--cmlb-threshold data and by pmlb with --pmlb-learner alb-norm; here %s", width);
    else if (!strcmp(n, "norm-bound"))
        snprintf(out, len, "is read only in the OFUL radius (--width oful) and by cmlb and sclb with "
                           "--cmlb-threshold data and by pmlb with --pmlb-learner alb-norm; here %s", width);
    else if (!strcmp(n, "cmlb-threshold"))
        snprintf(out, len, "is read by sclb, and by cmlb only with --cmlb-gamma 0; here cmlb's threshold is "
                           "--cmlb-gamma %g", pp->cmlb_gamma);
    else if ((!strcmp(n, "club-alpha") || !strcmp(n, "club-alpha2")) && c->club_tune)
        snprintf(out, len, "is not read with --club-tune 1 (the tuning chooses club-alpha and club-alpha2)");
    else if (!strcmp(n, "club-alpha"))
        snprintf(out, len, "is not read with --club-own-alpha 0 (club explores with the shared width)");
    else
        snprintf(out, len, "is not read by the policies of this run");
}

void config_policies_unread(const run_config *cfg, size_t n_cfg, const char *key, int swept, char *err,
                            size_t err_len)
{
    const option_def *o = find(key);
    char names[MAX_POLICIES * NAME_LEN * 2] = "", readers[512], why[1024];
    const run_config *first = NULL; /* the first setting with a policy that may read it */
    run_config *s = malloc(sizeof *s);
    size_t n_names = 0;
    if (!o || !s) {
        free(s);
        snprintf(err, err_len, "--%s is not read by the policies of this run; leave it out", key);
        return;
    }
    for (size_t r = 0; r < n_cfg; r++)
        for (size_t i = 0; i < cfg[r].n_policies; i++) {
            const char *p = cfg[r].policies[i];
            int seen = 0;
            for (size_t q = 0; q < r && !seen; q++)
                for (size_t j = 0; j < cfg[q].n_policies && !seen; j++)
                    seen = !strcmp(cfg[q].policies[j], p);
            for (size_t j = 0; j < i && !seen; j++)
                seen = !strcmp(cfg[r].policies[j], p);
            if (seen)
                continue;
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", n_names++ ? ", " : "", p);
            if (!first && policy_may_read(colb_policy_resolve(p) ? colb_policy_resolve(p) : p, o))
                first = &cfg[r];
        }
    const char *as = swept ? " (swept by --sweep)" : "";
    const char *where = n_cfg > 1 ? "the policies of the readings" : "--policies";
    option_policies_text(key, readers, sizeof readers);
    if (!first) {
        if (!strncmp(readers, "every policy but ", 17))
            snprintf(err, err_len, "--%s%s is read by %s, and %s (%s) has no other; leave it out", key, as,
                     readers, where, names);
        else
            snprintf(err, err_len, "--%s%s is read only by %s, which %s not among %s (%s); leave it out", key,
                     as, readers, strchr(readers, ',') ? "are" : "is", where, names);
    } else {
        *s = *first; /* its first swept value: the settings that matter here are not swept */
        char e2[ERR_LEN];
        if (first->n_sweep)
            config_set(s, first->sweep_key, first->sweep_values[0], e2, sizeof e2);
        unread_why(s, o, why, sizeof why);
        snprintf(err, err_len, "--%s%s %s; leave it out", key, as, why);
    }
    free(s);
}

/* A bound of a number's range for --help: whole numbers below 10^6 as
 * such (50, not 5e+01), the others as they read back exactly (1e+06). */
static void help_number(char *out, size_t len, double v)
{
    if (v == floor(v) && fabs(v) < 1e6)
        snprintf(out, len, "%.0f", v);
    else
        shortest_double(out, len, v);
}

/* Every option with its help and, in brackets, its default (the value of
 * config_default; none for options without one, or whose help says it) and
 * the range of a number ("[1; 1e-06..1e+06]"). */
void options_help(FILE *f)
{
    run_config *d = malloc(sizeof *d);
    if (d)
        config_default(d);
    const char *group = "";
    for (size_t i = 0; i < N_OPTS; i++) {
        const option_def *o = &OPTS[i];
        if (strcmp(group, o->group)) {
            group = o->group;
            fprintf(f, "\n%s options:\n", group);
        }
        /* "ARG: text" (or "personalized: text"): ARG one word, not a
         * colon inside the text ("(learner-noise: its prior, ...)") */
        const char *sp = strchr(o->help, ':');
        if (sp && (sp[1] != ' ' || memchr(o->help, ' ', (size_t)(sp - o->help))))
            sp = NULL;
        const char *text = sp ? sp + 2 : o->help;
        char lhs[64], def[PATH_LEN + 64] = "";
        if (o->k == K_ENUM)
            snprintf(lhs, sizeof lhs, "--%s %s", o->name, o->choices);
        else if (o->k == K_BOOL)
            snprintf(lhs, sizeof lhs, "--%s 0|1", o->name);
        else if (sp)
            snprintf(lhs, sizeof lhs, "--%s %.*s", o->name, (int)(sp - o->help), o->help);
        else
            snprintf(lhs, sizeof lhs, "--%s", o->name);
        if (d && !strstr(text, "default"))
            option_value(o, d, def, sizeof def);
        const char *envs = option_envs(o->name, NULL);
        char list[256], only[512] = "";
        if (envs) { /* " (env clustered, personalized only)" */
            option_envs_text(envs, list, sizeof list);
            snprintf(only, sizeof only, " (env %s only)", list);
        } else if (of_policies(o)) { /* " (cmlb, sclb only)", " (every policy but random)" */
            const char *by = NULL;
            for (size_t w = 0; w < sizeof READ_BY / sizeof READ_BY[0]; w++)
                if (!strcmp(READ_BY[w].name, o->name))
                    by = READ_BY[w].text;
            option_policies_text(o->name, list, sizeof list);
            snprintf(only, sizeof only, " (%s%s)", by ? by : list, by || !strncmp(list, "every ", 6) ? "" : " only");
        }
        char range[80] = ""; /* the accepted values of a number: "1e-06..1e+06" */
        if (o->k == K_DOUBLE || o->k == K_SIZE) {
            char lo[32], hi[32];
            help_number(lo, sizeof lo, o->lo);
            help_number(hi, sizeof hi, o->hi);
            snprintf(range, sizeof range, "%s..%s", lo, hi);
        }
        if (def[0] || range[0])
            fprintf(f, "  %-34s %s%s [%s%s%s]\n", lhs, text, only, def, def[0] && range[0] ? "; " : "", range);
        else
            fprintf(f, "  %-34s %s%s\n", lhs, text, only);
    }
    free(d);
}

void config_get(const run_config *c, const char *key, char *out, size_t len)
{
    const option_def *o = find(key);
    if (o)
        option_value(o, c, out, len);
    else if (len)
        out[0] = '\0';
}

/* 1 when key is c's swept option or one of varied[0..n). */
static int varies(const run_config *c, const char *key, const char *const *varied, size_t n)
{
    if (c->n_sweep && !strcmp(c->sweep_key, key))
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(varied[i], key))
            return 1;
    return 0;
}

/* config_dump; with policies = 0, an option that no policy reads is
 * written as a setting (config_dump_values), and so is every value, the
 * swept option's too (what the report compares readings by). With
 * policies = 1 (settings.txt) only what is in effect at every setting is
 * written as a setting: the options that vary by setting (the sweep's,
 * `varied`, why_varied says who sets them), a learner noise that follows a
 * varying noise, and an unset memory budget are comments. */
static void dump(FILE *f, const char *reading, const run_config *c, int policies, const char *const *varied,
                 size_t n_varied, const char *why_varied)
{
    fprintf(f, "[reading %s]\n", reading);
    char v[PATH_LEN + 64], envs[MAX_SWEEP * NAME_LEN];
    config_env_names(c, envs, sizeof envs);
    int noise_varies = varies(c, "noise", varied, n_varied) || varies(c, "env", varied, n_varied);
    for (size_t i = 0; i < N_OPTS; i++) {
        const char *name = OPTS[i].name;
        if (!strcmp(name, "config"))
            continue;
        option_value(&OPTS[i], c, v, sizeof v);
        /* the noise scale the learners use: unless given, the reward noise
         * of synthetic users, 1/2 for 0/1 rewards (cli/data.c) */
        int derived = !strcmp(name, "learner-noise") && !c->learner_noise_set;
        if (derived)
            shortest_double(v, sizeof v, c->data == DATA_SYNTHETIC ? c->sim.env.noise : 0.5);
        if (!config_env_uses(c, name))
            fprintf(f, "# %s = %s (not used by env %s)\n", name, v, envs);
        else if (policies && !config_policies_use(c, name))
            fprintf(f, "# %s = %s (not read by the policies of this reading)\n", name, v);
        else if (policies && varies(c, name, varied, n_varied))
            fprintf(f, "# %s = %s (%s)\n", name, v,
                    c->n_sweep && !strcmp(c->sweep_key, name) ? "swept: see sweep" : why_varied);
        else if (policies && derived && noise_varies)
            fprintf(f, "# %s = %s (not set: the noise of each setting, 1/2 on data sets)\n", name, v);
        else if (policies && !strcmp(name, "max-memory") && !c->max_memory)
            fprintf(f, "# %s = (not set: 80%% of the available memory)\n", name);
        else if (policies && !strcmp(name, "sweep") && !c->n_sweep)
            fprintf(f, "# %s = (none)\n", name);
        else if (policies && !strcmp(name, "club-own-alpha") && !c->club_own_alpha_set)
            fprintf(f, "# %s = %s (not set: club-alpha turns it on, club-tune tunes it)\n", name, v);
        else /* in effect */
            fprintf(f, "%s = %s\n", name, v);
    }
}

void config_dump(FILE *f, const char *reading, const run_config *c) { dump(f, reading, c, 1, NULL, 0, ""); }

void config_dump_varied(FILE *f, const char *reading, const run_config *c, const char *const *varied, size_t n,
                        const char *why)
{
    dump(f, reading, c, 1, varied, n, why);
}

void config_dump_values(FILE *f, const char *reading, const run_config *c) { dump(f, reading, c, 0, NULL, 0, ""); }

/* Whether the results of `policy` can depend on option o (see
 * config_signature): the run's length and seeds, the environment and data,
 * and the policy's own keys as the library lists them
 * (colb_policy_param_used); the CLI's own options (tuning) for the
 * learners they tune. */
static int policy_uses(const char *policy, const option_def *o)
{
    const char *g = o->group, *n = o->name;
    if (colb_policy_resolve(policy))
        policy = colb_policy_resolve(policy); /* an alias uses what its policy uses */
    if (!strcmp(g, "run"))
        return !strcmp(n, "horizon") || !strcmp(n, "repeats") || !strcmp(n, "seed") ||
               !strcmp(n, "curve-points");
    if (!strcmp(g, "environment") || !strcmp(g, "data"))
        return 1;
    if (!strcmp(policy, "random"))
        return 0;
    int used = colb_policy_param_used(policy, n);
    if (used >= 0)
        return used;
    /* the CLI's own: tuning, of every learner or (club-tune...) of one */
    return !strcmp(g, "learner") || !strcmp(g, "comparison") || !strcmp(g, policy);
}

/* Append a, b and c to the text *out (*n bytes of *cap), growing it; -1
 * (and *out freed) when out of memory. */
static int sig_append(char **out, size_t *n, size_t *cap, const char *a, const char *b, const char *c)
{
    size_t k = strlen(a) + strlen(b) + strlen(c);
    if (*n + k + 1 > *cap) {
        size_t want = 2 * (*n + k + 1);
        char *grown = realloc(*out, want);
        if (!grown) {
            free(*out);
            *out = NULL;
            return -1;
        }
        *out = grown;
        *cap = want;
    }
    *n += (size_t)sprintf(*out + *n, "%s%s%s", a, b, c);
    return 0;
}

int config_protocol(const run_config *c)
{
    if (c->protocol)
        return c->protocol;
    int all_seq = 1;
    for (size_t i = 0; i < c->n_policies; i++)
        all_seq &= !strcmp(c->policies[i], "club") || !strcmp(c->policies[i], "random");
    return all_seq ? 2 : 1;
}

char *config_signature(const run_config *c, const char *policy)
{
    size_t n = 0, cap = 0;
    char *out = NULL, v[PATH_LEN + 64];
    if (sig_append(&out, &n, &cap, policy, "", ""))
        return NULL;
    for (size_t i = 0; i < N_OPTS; i++)
        if (policy_uses(policy, &OPTS[i])) {
            option_value(&OPTS[i], c, v, sizeof v);
            if (sig_append(&out, &n, &cap, ";", OPTS[i].name, "=") || sig_append(&out, &n, &cap, v, "", ""))
                return NULL;
        }
    /* What the setting's other policies decide: the protocol that auto
     * resolves to on a data set, and whether random runs beside (a row's
     * ratios are paired with that setting's random runs; a row copied from
     * a setting without them would have none) */
    int with_random = 0;
    for (size_t i = 0; i < c->n_policies; i++)
        with_random |= !strcmp(c->policies[i], "random");
    snprintf(v, sizeof v, ";protocol-used=%d;with-random=%d", c->data != DATA_SYNTHETIC ? config_protocol(c) : 0,
             with_random);
    return sig_append(&out, &n, &cap, v, "", "") ? NULL : out;
}
