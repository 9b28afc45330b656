/* sclb.c - SCLB, Successive Clustering of Linear Bandits (Algorithm 1 of
 * Ghosh, Sankararaman, Ramchandran).
 *
 * Phases i = 1, 2, ... of 2^i rounds; phase i runs a fresh CMLB planned for
 * horizon 2^i with gamma = 3/(N 2^i)^alpha, confidence delta/2^i and size
 * parameter p* = i^{-2}; the last phase is cut to end at T. Every other CMLB
 * parameter (alpha, C, the learners, warm start, the threshold rule) is
 * passed through; an explicit cmlb_gamma is ignored (SCLB sets gamma per
 * phase), while the data-driven threshold, if selected, replaces gamma.
 * SCLB plans by its phases, not by T, so it needs no anytime mode. Users
 * added online join the current phase's CMLB (colb_policy_add_users) and
 * every later phase. */
#include <float.h>
#include <string.h>

#include "learn/diversify.h"
#include "linalg/ridge.h"
#include "policies/cmlb.h"
#include "policies/policy_impl.h"
#include "policies/policy_persist.h"

/* The last phase: 2^(SCLB_PHASES + 1) rounds would not fit in 63 bits. */
#define SCLB_PHASES 62

typedef struct sclb {
    colb_policy *inner;      /* CMLB of the current phase */
    size_t phase;            /* i >= 1 */
    uint64_t phase_end;      /* rounds completed when the phase ends */
} sclb;

/* The gamma of phase i's CMLB begun with `users` users (len = 2^i). */
static double phase_gamma(const colb_policy *p, size_t users, double len)
{
    return p->pp.cmlb_threshold == COLB_THRESHOLD_DATA ? 0.0
                                                       : 3.0 / pow((double)users * len, p->pp.cmlb_alpha);
}

/* The parameters of phase i's CMLB (phase >= 1), begun with `users` users
 * (p->N at its start; users added during the phase join it, its gamma
 * stays). */
static void phase_params(const colb_policy *p, size_t phase, size_t users, colb_policy_params *q)
{
    double len = ldexp(1.0, (int)phase);
    *q = p->pp;
    q->horizon = (size_t)len;
    q->anytime = 0; /* each phase's CMLB knows its horizon */
    q->learner.delta = p->pp.learner.delta / len;
    q->cmlb_pstar = 1.0 / ((double)phase * (double)phase);
    q->cmlb_gamma = phase_gamma(p, users, len);
    q->seed = p->pp.seed + phase;
}

/* The users phase i's CMLB began with: the count from 1 to p->N whose
 * gamma is `gamma` (gamma falls as the count grows: a binary search, then
 * its neighbours, as pow rounds), else p->N (a gamma no count gives). */
static size_t phase_users(const colb_policy *p, size_t phase, double gamma)
{
    double len = ldexp(1.0, (int)phase);
    size_t lo = 1, hi = p->N; /* the first count whose gamma is at most `gamma` */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (phase_gamma(p, mid, len) <= gamma)
            hi = mid;
        else
            lo = mid + 1;
    }
    for (size_t n = lo > 2 ? lo - 2 : 1; n <= lo + 2 && n <= p->N; n++)
        if (phase_gamma(p, n, len) == gamma)
            return n;
    return p->N;
}

static colb_status start_phase(colb_policy *p, sclb *s)
{
    if (s->phase >= SCLB_PHASES) /* 2^63 rounds: the next phase's length would not fit */
        return colb__err(p->err, COLB_ERANGE, "sclb: no phase after phase %zu", s->phase);
    size_t phase = s->phase + 1; /* s changes only once the phase's CMLB is made */
    double len = ldexp(1.0, (int)phase);
    colb_policy_params q;
    phase_params(p, phase, p->N, &q);
    colb_policy *next = NULL;
    char msg[COLB__ERRLEN];
    colb_status st = colb_policy_create("cmlb", &q, &next, msg, sizeof msg);
    if (st != COLB_OK)
        return colb__err(p->err, st, "sclb phase %zu: %s", phase, msg);
    colb_policy_free(s->inner);
    s->inner = next;
    s->phase = phase;
    s->phase_end += (uint64_t)len;
    return COLB_OK;
}

static colb_status sclb_create(colb_policy *p)
{
    sclb *s = calloc(1, sizeof *s);
    if (!s)
        return COLB_ENOMEM;
    p->impl = s;
    return colb__policy_kernel_check(p); /* its phases' CMLBs compute with it */
}

static void sclb_destroy(colb_policy *p)
{
    sclb *s = p->impl;
    colb_policy_free(s->inner);
    free(s);
    p->impl = NULL;
}

static void describe(colb_policy *p, const sclb *s)
{
    snprintf(p->info, sizeof p->info, "phase=%zu %s", s->phase, colb_policy_info(s->inner));
}

static colb_status inner_status(colb_policy *p, const sclb *s, colb_status st)
{
    if (st != COLB_OK)
        colb__err(p->err, st, "sclb phase %zu: %s", s->phase, colb_policy_last_error(s->inner));
    return st;
}

static colb_status sclb_begin(colb_policy *p)
{
    sclb *s = p->impl;
    if (!s->inner || p->rounds >= s->phase_end) {
        colb_status st = start_phase(p, s);
        if (st != COLB_OK)
            return st;
    }
    return inner_status(p, s, colb_policy_begin_round(s->inner, p->X, p->K));
}

static colb_status sclb_choose(colb_policy *p, size_t u, size_t *arm)
{
    sclb *s = p->impl;
    return inner_status(p, s, colb_policy_choose(s->inner, u, arm));
}

static colb_status sclb_choose_all(colb_policy *p, size_t *arms)
{
    sclb *s = p->impl;
    return inner_status(p, s, colb_policy_choose_all(s->inner, arms));
}

static colb_status sclb_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    sclb *s = p->impl;
    return inner_status(p, s, colb_policy_observe(s->inner, u, arm, y));
}

static colb_status sclb_end(colb_policy *p)
{
    sclb *s = p->impl;
    colb_status st = inner_status(p, s, colb_policy_end_round(s->inner));
    describe(p, s);
    return st;
}

static colb_status sclb_theta(const colb_policy *p, size_t u, double *theta)
{
    const sclb *s = p->impl;
    if (!s->inner) {
        memset(theta, 0, p->d * sizeof(double));
        return COLB_OK;
    }
    return colb_policy_user_theta(s->inner, u, theta);
}

static colb_status sclb_clusters(const colb_policy *p, size_t *labels, size_t *n)
{
    const sclb *s = p->impl;
    if (!s->inner) {
        for (size_t u = 0; u < p->N; u++)
            labels[u] = u;
        *n = p->N;
        return COLB_OK;
    }
    return colb_policy_clusters(s->inner, labels, n);
}

extern const colb__policy_vt colb__policy_cmlb;

static colb_status sclb_save(const colb_policy *p, colb__snap_out *w)
{
    const sclb *s = p->impl;
    colb__snap_u64(w, "phase", s->phase);
    colb__snap_u64(w, "phase_end", s->phase_end);
    if (s->inner) {
        colb__snap_group_begin(w, "inner");
        colb__policy_save_fields(w, s->inner);
        colb__snap_group_end(w);
    }
    return colb__snap_status(w);
}

static colb_status sclb_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g)
{
    sclb *s = calloc(1, sizeof *s);
    if (!s)
        return COLB_ENOMEM;
    p->impl = s;
    colb__snap_group ig;
    colb_status st = colb__snap_get_size(in, g, "phase", 0, SCLB_PHASES, &s->phase);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "phase_end", &s->phase_end);
    /* phases 1..i have lengths 2, 4, ..., 2^i */
    if (st == COLB_OK && s->phase_end != (((uint64_t)1 << (s->phase + 1)) - 2))
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: sclb phase %zu cannot end at round %llu",
                              s->phase, (unsigned long long)s->phase_end);
    if (st != COLB_OK || s->phase == 0)
        return st;
    if ((st = colb__snap_get_group(in, g, "inner", &ig)) != COLB_OK ||
        (st = colb__policy_load_fields(in, &ig, &s->inner)) != COLB_OK)
        return st;
    if (s->inner->vt != &colb__policy_cmlb || s->inner->N != p->N || s->inner->d != p->d)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: sclb's inner policy is not a CMLB of "
                                "its %zu users", p->N);
    /* what start_phase gives the phase's CMLB, bit for bit (another gamma,
     * delta or horizon would run another algorithm than SCLB's), for the
     * users it began with (those added since have joined it) */
    colb_policy_params q;
    phase_params(p, s->phase, phase_users(p, s->phase, s->inner->pp.cmlb_gamma), &q);
    const char *diff = colb__policy_params_diff(&s->inner->pp, &q);
    if (diff)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: sclb's phase %zu CMLB has another %s than "
                                "the phase's", s->phase, diff);
    return COLB_OK;
}

static colb_status sclb_add_users(colb_policy *p, size_t n, const size_t *labels)
{
    sclb *s = p->impl;
    if (!s->inner)
        return COLB_OK;
    colb_status st = colb_policy_add_users(s->inner, n, labels);
    return inner_status(p, s, st);
}

/* CMLB's parameters, and a delta whose every phase's share, delta / 2^i
 * up to phase SCLB_PHASES, is still positive (a subnormal delta would pass
 * at create and fail at some phase's start). */
static colb_status sclb_check(const colb_policy_params *pp, char *msg, size_t len)
{
    if (pp->learner.delta > 0.0 && !(ldexp(pp->learner.delta, -SCLB_PHASES) > 0.0))
        return colb__say(msg, len, COLB_ERANGE,
                         "sclb: delta = %g is too small: phase %d would plan with delta / 2^%d = 0 (at least %g)",
                         pp->learner.delta, SCLB_PHASES, SCLB_PHASES, ldexp(DBL_TRUE_MIN, SCLB_PHASES));
    return colb__policy_cmlb.check(pp, msg, len);
}

/* Memory budget: the CMLB of the current phase, and the next one while it
 * is made. */
static double sclb_memory(const colb_policy_params *pp)
{
    return 2 * (2 * colb__ridge_bytes(pp->users, pp->dim) + (double)pp->users * 64 +
                (pp->diversify ? colb__div_bytes(pp->users, pp->dim, pp->users) : 0.0));
}

const colb__policy_vt colb__policy_sclb = {
    .name = "sclb",
    .quiet_choices = 1, /* its phase's CMLB's choices, and phases counted in rounds */
    .check = sclb_check,
    .create = sclb_create,
    .destroy = sclb_destroy,
    .begin_round = sclb_begin,
    .choose = sclb_choose,
    .choose_all = sclb_choose_all,
    .observe = sclb_observe,
    .end_round = sclb_end,
    .user_theta = sclb_theta,
    .clusters = sclb_clusters,
    .memory = sclb_memory,
    .save = sclb_save,
    .load = sclb_load,
    .add_users = sclb_add_users,
};

size_t colb__sclb_phase(const colb_policy *p)
{
    return ((const sclb *)p->impl)->phase;
}

const colb_policy *colb__sclb_inner(const colb_policy *p)
{
    return ((const sclb *)p->impl)->inner;
}
