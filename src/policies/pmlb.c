/* pmlb.c - PMLB, Personalized Multi-agent Linear Bandits (Algorithm 4 of
 * Ghosh, Sankararaman, Ramchandran, "Collaborative learning and
 * personalization in multi-agent stochastic linear bandits"; Section 5,
 * Theorem 3).
 *
 *   1. Common phase, rounds 1..T0 with T0 = ceil(sqrt(T)): one OFUL(delta)
 *      for everybody; every user plays its arm; it is updated once per round
 *      with the average reward of the users observed (weight 1 and noise
 *      scale R/sqrt(N); weight N with pooled_updates: the cluster bank with
 *      one group). theta* = its estimate after round T0 (an estimate of
 *      theta_bar, the mean of the users' parameters).
 *   2. Personal phase, rounds T0+1..: every user runs its own learner on the
 *      shifted reward y - <x, theta*>, i.e. learns psi_u = theta_u - theta*.
 *      It is a ridge model with prior mean theta0 = theta*, so that
 *      theta_hat_u = theta* + psi_hat_u and the user chooses
 *      argmax <x, theta* + psi_hat_u> + width_u ||x||_{V_u^{-1}}
 *      (see docs/pmlb.md for why not by psi_hat_u alone). The learner is
 *        COLB_PMLB_ALB_NORM: ALB-norm (src/learn/alb_norm.h), epochs of doubling
 *            length starting at d updates, first norm bound 2 S (S =
 *            colb_learner_params.norm_bound bounds ||theta_u||, so
 *            ||theta_u - theta_bar|| <= 2 S), data kept across epochs;
 *        COLB_PMLB_LINUCB: the plain learner with the same prior (what the
 *            paper's experiments ran, Section 6.3).
 *      All users are scored in one batched call (two DGEMMs per block).
 *
 * Compile-time alternatives (off by default; used for docs/pmlb.md):
 *   COLB_PMLB_SCORE_PSI=1   choose by psi_hat_u alone (the literal reading of
 *                           Algorithm 4, line 11);
 *   COLB_PMLB_ALB_RESTART=1 ALB-norm forgets a user's data at each epoch start
 *                           (a fresh OFUL per epoch).
 * colb_policy_params.pooled_updates = 1 makes the common OFUL take the
 * round's average with weight N and noise R (the ridge estimate on all N
 * samples, i.e. an effective lambda/N) instead of weight 1 and noise
 * R/sqrt(N) (see cluster_bank.h). The common OFUL diversifies its users'
 * choices within rounds (colb_policy_params.diversify, learn/diversify.h);
 * every learner may choose by Thompson sampling (learn/thompson.h). */
#include <string.h>

#include "learn/alb_norm.h"
#include "learn/cluster_bank.h"
#include "learn/thompson.h"
#include "learn/user_bank.h"
#include "policies/policy_impl.h"

#ifndef COLB_PMLB_SCORE_PSI
#define COLB_PMLB_SCORE_PSI 0
#endif
#ifndef COLB_PMLB_ALB_RESTART
#define COLB_PMLB_ALB_RESTART 0
#endif

typedef struct pmlb {
    size_t T0;               /* rounds of the common phase */
    int personal;            /* 0: common phase, 1: personal phase */
    int use_alb;             /* pmlb_learner == COLB_PMLB_ALB_NORM */
    int epoch_ended;         /* an ALB-norm epoch ended this round */
    colb__clusters common;   /* one group: the common OFUL */
    colb__users users;       /* personal learners (prior mean theta*) */
    colb__alb alb;           /* ALB-norm schedule over users.r */
    double *theta_star;      /* d: the common estimate at the end of phase 1 */
} pmlb;

/* ceil(sqrt(T)) in integers, exact and overflow-free for every size_t. */
static size_t ceil_sqrt(size_t T)
{
    if (T <= 1)
        return T;
    size_t s = (size_t)sqrt((double)T); /* within one of floor(sqrt(T)) */
    while (s > 1 && s > T / s)
        s--;
    while (s + 1 <= T / (s + 1))
        s++; /* now s = floor(sqrt(T)) */
    return s * s == T ? s : s + 1;
}

static colb_status pmlb_check(const colb_policy_params *pp, char *msg, size_t len)
{
    int v = (int)pp->pmlb_learner;
    if (v == COLB_PMLB_ALB_NORM || v == COLB_PMLB_LINUCB)
        return COLB_OK;
    if (msg && len)
        snprintf(msg, len, "pmlb: pmlb_learner = %d must be COLB_PMLB_ALB_NORM (0) or "
                           "COLB_PMLB_LINUCB (1)", v);
    return COLB_ERANGE;
}

static void pmlb_destroy(colb_policy *p)
{
    pmlb *m = p->impl;
    if (!m)
        return;
    colb__clusters_free(&m->common);
    colb__users_free(&m->users);
    colb__alb_free(&m->alb);
    free(m->theta_star);
    free(m);
    p->impl = NULL;
}

static void describe(colb_policy *p, const pmlb *m)
{
    if (!m->personal) {
        snprintf(p->info, sizeof p->info, "common_rounds=%zu phase=common", m->T0);
        return;
    }
    double nrm = 0.0;
    for (size_t j = 0; j < p->d; j++)
        nrm += m->theta_star[j] * m->theta_star[j];
    int n = snprintf(p->info, sizeof p->info, "common_rounds=%zu |theta*|=%.3g learner=%s",
                     m->T0, sqrt(nrm), m->use_alb ? "alb-norm" : "linucb");
    if (!m->use_alb || n < 0 || (size_t)n >= sizeof p->info)
        return;
    double sumS = 0.0, maxS = 0.0;
    unsigned maxe = 0;
    for (size_t u = 0; u < p->N; u++) {
        double S = m->users.r.S[u];
        sumS += S;
        maxS = S > maxS ? S : maxS;
        maxe = m->alb.epoch[u] > maxe ? m->alb.epoch[u] : maxe;
    }
    snprintf(p->info + n, sizeof p->info - (size_t)n, " mean_S=%.3g max_S=%.3g max_epoch=%u",
             sumS / (double)p->N, maxS, maxe);
}

static colb_status pmlb_create(colb_policy *p)
{
    pmlb *m = calloc(1, sizeof *m);
    if (!m)
        return COLB_ENOMEM;
    p->impl = m;
    m->T0 = ceil_sqrt(p->pp.horizon);
    m->use_alb = p->pp.pmlb_learner == COLB_PMLB_ALB_NORM;
    size_t *zero = colb__calloc(p->N, sizeof(size_t));
    m->theta_star = colb__calloc(p->d, sizeof(double));
    colb_status st = zero && m->theta_star ? COLB_OK : COLB_ENOMEM;
    if (st == COLB_OK)
        st = colb__clusters_init(&m->common, p->N, p->d, &p->pp.learner, zero, 1,
                                 p->pp.pooled_updates != 0);
    if (st == COLB_OK)
        st = colb__clusters_set_mode(&m->common, p->pp.diversify,
                                     colb__policy_ts(p) ? &p->ts_rng : NULL);
    if (st == COLB_OK)
        st = colb__users_init(&m->users, p->N, p->d, &p->pp.learner);
    if (st == COLB_OK && m->use_alb)
        st = colb__alb_init(&m->alb, p->N, p->d, (uint64_t)p->d, COLB_PMLB_ALB_RESTART);
    free(zero);
    if (st != COLB_OK)
        return colb__err(p->err, st, "out of memory for %zu users of dimension %zu", p->N, p->d);
    describe(p, m);
    return COLB_OK;
}

static colb_status pmlb_begin(colb_policy *p)
{
    pmlb *m = p->impl;
    m->epoch_ended = 0;
    colb_status st = m->personal ? colb__users_reserve(&m->users, p->K)
                                 : colb__clusters_reserve(&m->common, p->K);
    return st == COLB_OK ? st : colb__err(p->err, st, "begin_round: out of memory");
}

static colb_status pmlb_choose(colb_policy *p, size_t u, size_t *arm)
{
    pmlb *m = p->impl;
    if (!m->personal)
        *arm = colb__clusters_choose(&m->common, u, p->X, p->K);
    else if (colb__policy_ts(p))
        *arm = colb__ts_choose(&m->users.r, u, NULL, p->X, p->K, &p->ts_rng, m->users.s.scores,
                               m->users.s.work);
    else
        *arm = colb__users_choose(&m->users, u, p->X, p->K);
    return COLB_OK;
}

static colb_status pmlb_choose_all(colb_policy *p, size_t *arms)
{
    pmlb *m = p->impl;
    if (!m->personal)
        colb__clusters_choose_all(&m->common, p->X, p->K, arms);
    else if (colb__policy_ts(p))
        colb__ts_choose_all(&m->users.r, p->X, p->K, &p->ts_rng, arms, m->users.s.scores,
                            m->users.s.work);
    else
        colb__users_choose_all(&m->users, p->X, p->K, arms);
    return COLB_OK;
}

/* Personal learners are independent, so they are updated at once. */
static colb_status pmlb_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    pmlb *m = p->impl;
    if (!m->personal) {
        colb__clusters_observe(&m->common, u, arm, y);
        return COLB_OK;
    }
    const double *x = p->X + arm * p->d;
#if COLB_PMLB_SCORE_PSI
    for (size_t j = 0; j < p->d; j++) /* the prior is zero: shift by hand */
        y -= x[j] * m->theta_star[j];
#endif
    if (m->use_alb)
        m->epoch_ended |= colb__alb_update(&m->alb, &m->users.r, u, x, y);
    else
        colb__ridge_update(&m->users.r, u, x, y, 1.0);
    return COLB_OK;
}

/* End of the common phase: theta* and the personal learners' start. */
static colb_status start_personal(colb_policy *p, pmlb *m)
{
    colb_status st = colb__users_reserve(&m->users, p->K);
    if (st != COLB_OK)
        return colb__err(p->err, st, "pmlb: out of memory for the personal phase");
    memcpy(m->theta_star, m->common.r.theta, p->d * sizeof(double));
#if !COLB_PMLB_SCORE_PSI
    for (size_t u = 0; u < p->N; u++)
        colb__ridge_set_prior(&m->users.r, u, m->theta_star);
#endif
    if (m->use_alb)
        colb__alb_start(&m->alb, &m->users.r, 2.0 * p->pp.learner.norm_bound);
    m->personal = 1;
    describe(p, m);
    return COLB_OK;
}

static colb_status pmlb_end(colb_policy *p)
{
    pmlb *m = p->impl;
    if (m->personal) {
        if (m->epoch_ended)
            describe(p, m);
        return COLB_OK;
    }
    colb__clusters_end(&m->common, p->X);
    return p->rounds + 1 >= m->T0 ? start_personal(p, m) : COLB_OK;
}

static colb_status pmlb_theta(const colb_policy *p, size_t u, double *theta)
{
    const pmlb *m = p->impl;
    if (!m->personal) {
        memcpy(theta, m->common.r.theta, p->d * sizeof(double));
        return COLB_OK;
    }
    memcpy(theta, m->users.r.theta + u * p->d, p->d * sizeof(double));
#if COLB_PMLB_SCORE_PSI
    for (size_t j = 0; j < p->d; j++)
        theta[j] += m->theta_star[j];
#endif
    return COLB_OK;
}

const colb__policy_vt colb__policy_pmlb = {
    .name = "pmlb",
    .check = pmlb_check,
    .create = pmlb_create,
    .destroy = pmlb_destroy,
    .begin_round = pmlb_begin,
    .choose = pmlb_choose,
    .choose_all = pmlb_choose_all,
    .observe = pmlb_observe,
    .end_round = pmlb_end,
    .user_theta = pmlb_theta,
};
