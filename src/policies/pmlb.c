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
 *      All users are scored in one pass of the SoA kernels (user_bank.h).
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
 * every learner may choose by Thompson sampling (learn/thompson.h).
 *
 * Anytime mode (colb_policy_params.anytime, or horizon 0): T0 follows a
 * doubling schedule. Round t is planned for the horizon P = the smallest
 * P0 2^k >= t, P0 = 4 d^2, and T0(P) = ceil(sqrt(P)) (so the first theta*
 * comes from 2d common rounds, not from one or two); whenever the common rounds
 * played fall short of T0(P), the next rounds are common rounds again
 * (every user plays the common arm, the personal learners wait), and when
 * they have caught up theta* is taken again from the common learner. The
 * personal learners keep their data across such a refinement: their
 * regression targets move from y - <x, theta*_old> to y - <x, theta*_new>
 * exactly (colb__users_rebase: b -= (V - lambda I) delta, V delta solved
 * from A = V^{-1} since the user bank keeps no V), and ALB-norm's
 * bounds grow by |delta| (||psi_new|| <= ||psi_old|| + ||delta||). Common
 * rounds total about 1.4 sqrt(t) by round t (vs sqrt(T) with T known).
 *
 * Users added online join the common learner (its noise scale follows the
 * new N) and get a personal learner, with prior theta* (and ALB-norm's
 * first bound 2S) if the personal phase has begun. */
#include <string.h>

#include "learn/alb_norm.h"
#include "learn/cluster_bank.h"
#include "learn/user_bank.h"
#include "policies/bank_persist.h"
#include "policies/policy_impl.h"

#ifndef COLB_PMLB_SCORE_PSI
#define COLB_PMLB_SCORE_PSI 0
#endif
#ifndef COLB_PMLB_ALB_RESTART
#define COLB_PMLB_ALB_RESTART 0
#endif

typedef struct pmlb {
    size_t T0;               /* rounds of the common phase (planned for `plan`) */
    int personal;            /* the round is a personal round (else common) */
    int started;             /* theta* taken: the personal learners are in use */
    int anytime;             /* plan by the doubling schedule, not T */
    uint64_t plan;           /* the horizon planned for: T or a power of two */
    uint64_t common_done;    /* common rounds played */
    int use_alb;             /* pmlb_learner == COLB_PMLB_ALB_NORM */
    int epoch_ended;         /* an ALB-norm epoch ended this round */
    colb__clusters common;   /* one group: the common OFUL */
    colb__users users;       /* personal learners (prior mean theta*) */
    colb__alb alb;           /* ALB-norm schedule over the users */
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
    int n = m->anytime ? snprintf(p->info, sizeof p->info, "anytime plan=%llu ",
                                  (unsigned long long)m->plan) : 0;
    if (!m->personal) {
        snprintf(p->info + n, sizeof p->info - (size_t)n, "common_rounds=%zu phase=common", m->T0);
        return;
    }
    double nrm = 0.0;
    for (size_t j = 0; j < p->d; j++)
        nrm += m->theta_star[j] * m->theta_star[j];
    n += snprintf(p->info + n, sizeof p->info - (size_t)n, "common_rounds=%zu |theta*|=%.3g learner=%s",
                  m->T0, sqrt(nrm), m->use_alb ? "alb-norm" : "linucb");
    if (!m->use_alb || n < 0 || (size_t)n >= sizeof p->info)
        return;
    double sumS = 0.0, maxS = 0.0;
    unsigned maxe = 0;
    for (size_t u = 0; u < p->N; u++) {
        double S = m->users.s.S[u];
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
    colb_status kst = colb__policy_kernel_check(p);
    if (kst != COLB_OK)
        return kst;
    m->anytime = colb__anytime(&p->pp);
    /* anytime: the first plan P0 = 4 d^2 (T0 = 2d), so that the first theta*
     * rests on twice as many common rounds as it has coordinates */
    m->plan = m->anytime ? 4 * (uint64_t)p->d * p->d : p->pp.horizon;
    m->T0 = ceil_sqrt((size_t)m->plan);
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
    if (st == COLB_OK && m->personal && colb__policy_ts(p))
        st = colb__users_reserve_ts(&m->users, p->K);
    return st == COLB_OK ? st : colb__err(p->err, st, "begin_round: out of memory");
}

static colb_status pmlb_choose(colb_policy *p, size_t u, size_t *arm)
{
    pmlb *m = p->impl;
    if (!m->personal)
        *arm = colb__clusters_choose(&m->common, u, p->X, p->K);
    else if (colb__policy_ts(p))
        *arm = colb__users_choose_ts(&m->users, u, p->X, p->K, &p->ts_rng);
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
        colb__users_choose_all_ts(&m->users, p->X, p->K, &p->ts_rng, arms);
    else
        colb__users_choose_all(&m->users, p->X, p->K, arms, NULL);
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
        m->epoch_ended |= colb__alb_update_users(&m->alb, &m->users, u, x, y);
    else
        colb__users_update(&m->users, u, x, y);
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
    colb__users_set_prior(&m->users, m->theta_star);
#endif
    if (m->use_alb)
        colb__alb_start_users(&m->alb, &m->users, 2.0 * p->pp.learner.norm_bound);
    m->personal = 1;
    m->started = 1;
    describe(p, m);
    return COLB_OK;
}

/* Anytime mode, after more common rounds: theta* from the common learner
 * again, the personal learners re-expressed against it. */
static colb_status refine_personal(colb_policy *p, pmlb *m)
{
    size_t d = p->d;
    double *delta = colb__malloc(d, sizeof(double));
    if (!delta)
        return colb__err(p->err, COLB_ENOMEM, "pmlb: out of memory");
    double nrm = 0.0;
    for (size_t j = 0; j < d; j++) {
        delta[j] = m->common.r.theta[j] - m->theta_star[j];
        nrm += delta[j] * delta[j];
    }
    nrm = sqrt(nrm);
    colb_status st = colb__users_rebase(&m->users, delta, !COLB_PMLB_SCORE_PSI);
    free(delta);
    if (st != COLB_OK)
        return colb__err(p->err, st, "pmlb: re-expressing the personal learners against the new "
                         "theta*: %s", colb_strerror(st));
    if (m->use_alb)
        for (size_t u = 0; u < p->N; u++)
            m->users.s.S[u] += nrm;
    memcpy(m->theta_star, m->common.r.theta, d * sizeof(double));
    m->personal = 1;
    describe(p, m);
    return COLB_OK;
}

static colb_status pmlb_end(colb_policy *p)
{
    pmlb *m = p->impl;
    if (m->personal) {
        colb__users_flush(&m->users);
        if (m->epoch_ended)
            describe(p, m);
        if (!m->anytime)
            return COLB_OK;
    } else {
        colb__clusters_end(&m->common, p->X);
        m->common_done++;
    }
    if (m->anytime) {
        uint64_t t = p->rounds + 1; /* completes now */
        while (m->plan <= t && m->plan < ((uint64_t)1 << 62))
            m->plan *= 2;
        m->T0 = ceil_sqrt((size_t)m->plan);
    }
    int next_personal = m->common_done >= m->T0;
    if (!m->personal && next_personal)
        return m->started ? refine_personal(p, m) : start_personal(p, m);
    if (m->personal && !next_personal) { /* anytime: more common rounds due */
        m->personal = 0;
        describe(p, m);
    }
    return COLB_OK;
}

static colb_status pmlb_theta(const colb_policy *p, size_t u, double *theta)
{
    const pmlb *m = p->impl;
    if (!m->started) {
        memcpy(theta, m->common.r.theta, p->d * sizeof(double));
        return COLB_OK;
    }
    colb__users_theta(&m->users, u, theta);
#if COLB_PMLB_SCORE_PSI
    for (size_t j = 0; j < p->d; j++)
        theta[j] += m->theta_star[j];
#endif
    return COLB_OK;
}

/* The guard's check without a copy per user: the common model before the
 * personal phase, the users' bank after (-1, "cannot tell", when the
 * estimates add theta_star: a sum of finite values may overflow). */
static int pmlb_all_sane(const colb_policy *p)
{
    const pmlb *m = p->impl;
    if (!m->started)
        return colb__theta_sane(m->common.r.theta, p->d);
    return COLB_PMLB_SCORE_PSI ? -1 : colb__users_all_sane(&m->users);
}

/* Memory budget: a model per user, the common model, ALB-norm's state. */
static double pmlb_memory(const colb_policy_params *pp)
{
    return colb__users_bytes(pp->users, pp->dim) + colb__ridge_bytes(1, pp->dim) + (double)pp->users * 64 +
           (pp->diversify ? colb__div_bytes(1, pp->dim, pp->users) : 0.0);
}

static colb_status pmlb_save(const colb_policy *p, colb__snap_out *w)
{
    const pmlb *m = p->impl;
    colb__snap_u64(w, "T0", m->T0);
    colb__snap_u64(w, "personal", (uint64_t)m->personal);
    colb__snap_u64(w, "started", (uint64_t)m->started);
    colb__snap_u64(w, "plan", m->plan);
    colb__snap_u64(w, "common_done", m->common_done);
    colb__snap_f64s(w, "theta_star", m->theta_star, p->d);
    colb__clusters_save(w, "common", &m->common);
    colb__users_save(w, "users", &m->users);
    if (m->use_alb)
        colb__alb_save(w, "alb", &m->alb);
    return colb__snap_status(w);
}

static colb_status pmlb_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g)
{
    pmlb *m = calloc(1, sizeof *m);
    if (!m)
        return COLB_ENOMEM;
    p->impl = m;
    m->anytime = colb__anytime(&p->pp);
    m->use_alb = p->pp.pmlb_learner == COLB_PMLB_ALB_NORM;
    size_t personal = 0, started = 0;
    colb_status st = colb__snap_get_size(in, g, "T0", 0, SIZE_MAX, &m->T0);
    if (st == COLB_OK)
        st = colb__snap_get_size(in, g, "personal", 0, 1, &personal);
    if (st == COLB_OK)
        st = colb__snap_get_size(in, g, "started", personal, 1, &started);
    size_t plan = 1;
    if (st == COLB_OK) /* the doubling loop needs a plan >= 1 */
        st = colb__snap_get_size(in, g, "plan", 1, SIZE_MAX, &plan);
    m->plan = plan;
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "common_done", &m->common_done);
    m->personal = (int)personal;
    m->started = (int)started;
    if (st == COLB_OK && !(m->theta_star = colb__calloc(p->d, sizeof(double))))
        st = COLB_ENOMEM;
    if (st == COLB_OK)
        st = colb__snap_get_f64s_within(in, g, "theta_star", m->theta_star, p->d, COLB__SNAP_MODEL_MAX);
    if (st == COLB_OK)
        st = colb__clusters_load(in, g, "common", &m->common, p->N, p->d, &p->pp.learner);
    if (st == COLB_OK && m->common.G != 1)
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: pmlb's common learner has %zu groups",
                              m->common.G);
    if (st == COLB_OK)
        st = colb__clusters_set_mode(&m->common, p->pp.diversify,
                                     colb__policy_ts(p) ? &p->ts_rng : NULL);
    if (st == COLB_OK)
        st = colb__users_load(in, g, "users", &m->users, p->N, p->d, &p->pp.learner);
    if (st == COLB_OK && m->use_alb)
        st = colb__alb_load(in, g, "alb", &m->alb, p->N, p->d);
    return st;
}

static colb_status pmlb_add_users(colb_policy *p, size_t n, const size_t *labels)
{
    (void)labels;
    pmlb *m = p->impl;
    size_t N = p->N;
    size_t *zero = colb__calloc(n, sizeof(size_t));
    colb_status st = zero ? colb__users_grow(&m->users, N + n) : COLB_ENOMEM;
    if (st == COLB_OK && m->use_alb && (st = colb__alb_grow(&m->alb, N + n)) != COLB_OK)
        colb__users_shrink(&m->users, N); /* undo */
    if (st == COLB_OK && (st = colb__clusters_add_users(&m->common, n, zero)) != COLB_OK) {
        colb__users_shrink(&m->users, N);
        if (m->use_alb)
            m->alb.n = N;
    }
    free(zero);
    if (st != COLB_OK || !m->started)
        return st;
    /* the bank's prior mean is already theta* (one for all users) */
    if (m->use_alb)
        for (size_t u = N; u < N + n; u++)
            m->users.s.S[u] = 2.0 * p->pp.learner.norm_bound;
    return COLB_OK;
}

const colb__policy_vt colb__policy_pmlb = {
    .name = "pmlb",
    /* a UCB choice scores the common learner or the user's model, as CMLB's;
     * the phases are counted in rounds, not in choices */
    .quiet_choices = 1,
    .create = pmlb_create,
    .destroy = pmlb_destroy,
    .begin_round = pmlb_begin,
    .choose = pmlb_choose,
    .choose_all = pmlb_choose_all,
    .observe = pmlb_observe,
    .end_round = pmlb_end,
    .user_theta = pmlb_theta,
    .all_sane = pmlb_all_sane,
    .memory = pmlb_memory,
    .save = pmlb_save,
    .load = pmlb_load,
    .add_users = pmlb_add_users,
};
