/* test_pmlb.c - PMLB (Algorithm 4) and its ALB-norm personal learner:
 * parameter checks, the phase switch, ALB-norm's epoch schedule and norm
 * bounds on hand-made data, the common estimate against the users' mean,
 * and fixed-seed regret comparisons with LinUCB-Ind and the pooled learner.
 * The tolerances and the measured values behind them are stated at each
 * check; docs/pmlb.md has the full experiment. */
#include "testutil.h"

#include "learn/alb_norm.h"
#include "linalg/ridge.h"

/* ---- parameters ------------------------------------------------------- */

static void base_params(colb_policy_params *pp, size_t N, size_t d, size_t T)
{
    colb_policy_params_default(pp);
    pp->users = N;
    pp->dim = d;
    pp->horizon = T;
}

static void test_invalid_params(void **state)
{
    (void)state;
    colb_policy_params pp;
    base_params(&pp, 4, 3, 100);
    char msg[256];
    assert_ok(colb_policy_params_check("pmlb", &pp, msg, sizeof msg));
    pp.pmlb_learner = COLB_PMLB_LINUCB;
    assert_ok(colb_policy_params_check("pmlb", &pp, msg, sizeof msg));

    pp.pmlb_learner = (colb_pmlb_learner)2;
    assert_status(colb_policy_params_check("pmlb", &pp, msg, sizeof msg), COLB_ERANGE);
    assert_non_null(strstr(msg, "pmlb_learner"));
    colb_policy *p = (colb_policy *)&pp; /* must be reset to NULL on failure */
    assert_status(colb_policy_create("pmlb", &pp, &p, msg, sizeof msg), COLB_ERANGE);
    assert_null(p);
    pp.pmlb_learner = (colb_pmlb_learner)-1;
    assert_status(colb_policy_params_check("pmlb", &pp, NULL, 0), COLB_ERANGE);

    /* generic fields and the learner's are checked too (horizon 0 is valid:
     * unknown, the anytime mode) */
    base_params(&pp, 4, 3, 0);
    assert_ok(colb_policy_params_check("pmlb", &pp, msg, sizeof msg));
    base_params(&pp, 0, 3, 100);
    assert_status(colb_policy_params_check("pmlb", &pp, msg, sizeof msg), COLB_EINVAL);
    base_params(&pp, 4, 3, 100);
    pp.learner.delta = 1.5;
    assert_status(colb_policy_create("pmlb", &pp, &p, msg, sizeof msg), COLB_ERANGE);
    assert_null(p);

    /* pmlb is registered */
    int found = 0;
    for (const char *const *n = colb_policy_names(); *n; n++)
        found |= !strcmp(*n, "pmlb");
    assert_true(found);
}

/* ---- the phases, by hand ---------------------------------------------- */

/* Play `rounds` rounds of env on policy p (shared contexts, batch protocol). */
static void play(colb_env *e, colb_policy *p, size_t rounds, size_t *arms, double *rew)
{
    size_t N = colb_env_users(e), K = colb_env_arms(e);
    for (size_t t = 0; t < rounds; t++) {
        assert_ok(colb_env_next_round(e));
        assert_ok(colb_policy_begin_round(p, colb_env_contexts(e, 0), K));
        assert_ok(colb_policy_choose_all(p, arms));
        for (size_t u = 0; u < N; u++)
            rew[u] = colb_env_reward(e, u, arms[u]);
        assert_ok(colb_policy_observe_all(p, arms, rew));
        assert_ok(colb_policy_end_round(p));
    }
}

static colb_env *personalized_env(size_t N, size_t d, double noise, double sigma_theta,
                                  uint64_t seed)
{
    colb_env_params ep;
    colb_env_params_default(&ep);
    ep.kind = COLB_ENV_PERSONALIZED;
    ep.users = N;
    ep.dim = d;
    ep.arms = 25;
    ep.noise = noise;
    ep.sigma_theta = sigma_theta;
    ep.normalize = 1;
    colb_env *e = NULL;
    assert_ok(colb_env_create(&ep, seed, &e, NULL, 0));
    return e;
}

static void test_common_rounds(void **state)
{
    (void)state;
    /* T0 = ceil(sqrt(T)), read back from the info line */
    static const size_t T[] = { 1, 2, 16, 17, 1000, 1024, 1025 };
    static const size_t T0[] = { 1, 2, 4, 5, 32, 32, 33 };
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
        colb_policy_params pp;
        base_params(&pp, 2, 2, T[i]);
        colb_policy *p = NULL;
        assert_ok(colb_policy_create("pmlb", &pp, &p, NULL, 0));
        size_t got = 0;
        assert_int_equal(sscanf(colb_policy_info(p), "common_rounds=%zu", &got), 1);
        assert_int_equal(got, T0[i]);
        colb_policy_free(p);
    }
}

static void test_phase_switch(void **state)
{
    (void)state;
    enum { N = 6, D = 4, T = 100, T0 = 10 };
    for (int learner = 0; learner < 2; learner++) {
        colb_env *e = personalized_env(N, D, 0.1, 0.5, 11);
        colb_policy_params pp;
        base_params(&pp, N, D, T);
        pp.pmlb_learner = (colb_pmlb_learner)learner;
        pp.diversify = 0; /* one arm for everybody in the common phase */
        colb_policy *p = NULL;
        assert_ok(colb_policy_create("pmlb", &pp, &p, NULL, 0));
        size_t arms[N];
        double rew[N], th[D], th0[D];
        assert_non_null(strstr(colb_policy_info(p), "phase=common"));
        /* common phase: one arm for everybody, one estimate for everybody */
        play(e, p, T0 - 1, arms, rew);
        assert_ok(colb_env_next_round(e));
        assert_ok(colb_policy_begin_round(p, colb_env_contexts(e, 0), 25));
        assert_ok(colb_policy_choose_all(p, arms));
        for (size_t u = 1; u < N; u++)
            assert_int_equal(arms[u], arms[0]);
        for (size_t u = 0; u < N; u++)
            rew[u] = colb_env_reward(e, u, arms[u]);
        assert_ok(colb_policy_observe_all(p, arms, rew));
        assert_ok(colb_policy_end_round(p)); /* round T0: the switch */
        assert_non_null(strstr(colb_policy_info(p), "|theta*|="));
        assert_non_null(strstr(colb_policy_info(p), learner ? "linucb" : "alb-norm"));
        /* right after the switch every user's estimate is theta* */
        assert_ok(colb_policy_user_theta(p, 0, th0));
        for (size_t u = 1; u < N; u++) {
            assert_ok(colb_policy_user_theta(p, u, th));
            for (size_t j = 0; j < D; j++)
                assert_true(th[j] == th0[j]);
        }
        /* personal phase: estimates move apart; single choose works too */
        play(e, p, 20, arms, rew);
        assert_ok(colb_policy_user_theta(p, 0, th0));
        assert_ok(colb_policy_user_theta(p, 1, th));
        double diff = 0.0;
        for (size_t j = 0; j < D; j++)
            diff += fabs(th[j] - th0[j]);
        assert_true(diff > 0.0);
        assert_ok(colb_env_next_round(e));
        assert_ok(colb_policy_begin_round(p, colb_env_contexts(e, 0), 25));
        size_t a = 0;
        assert_ok(colb_policy_choose(p, 3, &a));
        assert_true(a < 25);
        assert_ok(colb_policy_observe(p, 3, a, colb_env_reward(e, 3, a)));
        assert_ok(colb_policy_end_round(p));
        size_t ncl = 0;
        assert_status(colb_policy_clusters(p, arms, &ncl), COLB_EUNSUP);
        colb_policy_free(p);
        colb_env_free(e);
    }
}

/* The common phase is the "pooled" policy, also with pooled_updates = 1
 * (weight N, noise R), which changes theta* (less ridge shrinkage). */
static void test_common_phase_is_pooled(void **state)
{
    (void)state;
    enum { N = 30, D = 5, T = 64, T0 = 8 };
    double star[2][D];
    for (int pu = 0; pu < 2; pu++) {
        colb_policy_params pp;
        base_params(&pp, N, D, T);
        pp.pooled_updates = pu;
        colb_policy *pm = NULL, *po = NULL;
        assert_ok(colb_policy_create("pmlb", &pp, &pm, NULL, 0));
        assert_ok(colb_policy_create("pooled", &pp, &po, NULL, 0));
        colb_env *e1 = personalized_env(N, D, 0.5, 0.2, 21);
        colb_env *e2 = personalized_env(N, D, 0.5, 0.2, 21);
        size_t arms[N];
        double rew[N], a[D], b[D];
        play(e1, pm, T0, arms, rew);
        play(e2, po, T0, arms, rew);
        assert_ok(colb_policy_user_theta(pm, 7, a));
        assert_ok(colb_policy_user_theta(po, 7, b));
        for (size_t j = 0; j < D; j++) {
            assert_true(a[j] == b[j]);
            star[pu][j] = a[j];
        }
        colb_policy_free(pm);
        colb_policy_free(po);
        colb_env_free(e1);
        colb_env_free(e2);
    }
    double n0 = 0.0, n1 = 0.0;
    for (size_t j = 0; j < D; j++) {
        n0 += star[0][j] * star[0][j];
        n1 += star[1][j] * star[1][j];
    }
    assert_true(n1 > n0); /* weight N: the prior lambda I weighs 1/N as much */
}

/* ||theta* - theta_bar|| after the common phase, averaged over `seeds`. */
static double common_error(size_t N, size_t d, size_t T, double noise, int seeds)
{
    double sum = 0.0;
    size_t T0 = (size_t)ceil(sqrt((double)T));
    for (int s = 0; s < seeds; s++) {
        colb_env *e = personalized_env(N, d, noise, 0.3, 100 + (uint64_t)s);
        colb_policy_params pp;
        base_params(&pp, N, d, T);
        pp.learner.noise = noise;
        colb_policy *p = NULL;
        assert_ok(colb_policy_create("pmlb", &pp, &p, NULL, 0));
        size_t *arms = malloc(N * sizeof *arms);
        double *rew = malloc(N * sizeof *rew), *bar = calloc(d, sizeof *bar);
        double *th = malloc(d * sizeof *th);
        assert_non_null(arms);
        assert_non_null(rew);
        assert_non_null(bar);
        assert_non_null(th);
        for (size_t u = 0; u < N; u++) {
            assert_ok(colb_env_theta(e, u, th));
            for (size_t j = 0; j < d; j++)
                bar[j] += th[j] / (double)N;
        }
        play(e, p, T0, arms, rew);
        assert_ok(colb_policy_user_theta(p, 0, th)); /* = theta* at the switch */
        double err = 0.0;
        for (size_t j = 0; j < d; j++)
            err += (th[j] - bar[j]) * (th[j] - bar[j]);
        sum += sqrt(err);
        free(arms);
        free(rew);
        free(bar);
        free(th);
        colb_policy_free(p);
        colb_env_free(e);
    }
    return sum / seeds;
}

static void test_common_estimate_improves_with_N(void **state)
{
    (void)state;
    /* Noise sigma = 1 (the theory's), d = 3, T = 900 so T0 = 30 rounds,
     * sigma_theta = 0.3 (normalized). The common OFUL sees averaged rewards,
     * noise 1/sqrt(N), so the noise part of ||theta* - theta_bar|| shrinks
     * like 1/sqrt(N) (x0.16 from N = 5 to N = 200), while the ridge bias
     * lambda V^{-1} theta_bar does not shrink with N and sets a floor.
     * Measured (mean over 6 fixed seeds): 0.099 at N = 5, 0.029 at N = 200
     * (ratio 0.29). We assert a ratio below 0.5 and the N = 200 error below
     * 0.06: a factor ~2 of room on both, for a deterministic computation
     * whose only platform dependence is BLAS rounding. */
    double e5 = common_error(5, 3, 900, 1.0, 6);
    double e200 = common_error(200, 3, 900, 1.0, 6);
    print_message("common estimate error: N=5 %.3f, N=200 %.3f\n", e5, e200);
    assert_true(e200 < 0.5 * e5);
    assert_true(e200 < 0.06);
}

/* ---- ALB-norm on hand-made data --------------------------------------- */

static void test_alb_schedule(void **state)
{
    (void)state;
    /* epoch e ends after tau (2^{e+1} - 1) updates: lengths tau, 2 tau, 4 tau... */
    assert_true(colb__alb_epoch_end(1, 0) == 1);
    assert_true(colb__alb_epoch_end(1, 1) == 3);
    assert_true(colb__alb_epoch_end(1, 2) == 7);
    assert_true(colb__alb_epoch_end(15, 0) == 15);
    assert_true(colb__alb_epoch_end(15, 1) == 45);
    assert_true(colb__alb_epoch_end(15, 5) == 945);
    assert_true(colb__alb_epoch_end(3, 63) == UINT64_MAX);
    assert_true(colb__alb_epoch_end(UINT64_MAX / 2, 1) == UINT64_MAX);
    colb__alb a;
    assert_status(colb__alb_init(&a, 2, 2, 0, 0), COLB_EINVAL);
    colb__alb_free(&a);
    colb__alb_free(&a); /* zeroed: harmless */
}

/* V = diag(1 + n1, 1 + n2) after n1 updates along e1 and n2 along e2
 * (lambda = 1): every quantity of the bound is known in closed form. */
static void test_alb_bound_handmade(void **state)
{
    (void)state;
    const double R = 0.5, delta = 0.1, S1 = 2.0;
    colb_learner_params lp;
    colb_learner_params_default(&lp);
    lp.noise = R;
    lp.delta = delta;
    colb__ridge r;
    assert_ok(colb__ridge_init(&r, 1, 2, &lp));
    const double t0[2] = { 0.5, -0.25 };
    colb__ridge_set_prior(&r, 0, t0);
    colb__alb a;
    assert_ok(colb__alb_init(&a, 1, 2, 4, 0)); /* epochs end at 4, 12, 28 updates */
    colb__alb_start(&a, &r, S1);
    assert_true(r.S[0] == S1);

    /* psi = (0.3, 0), observed without noise: y = <x, t0 + psi> */
    const double e1[2] = { 1, 0 }, e2[2] = { 0, 1 };
    int ended = 0;
    for (int k = 0; k < 3; k++)
        ended += colb__alb_update(&a, &r, 0, k % 2 ? e2 : e1, k % 2 ? t0[1] : t0[0] + 0.3);
    assert_int_equal(ended, 0);
    assert_true(isnan(a.last_bound[0]));
    /* the 4th update ends epoch 0: n1 = 2, n2 = 2 */
    double want_psi1 = 0.3 * 2.0 / 3.0; /* ridge: n1 * 0.3 / (1 + n1) */
    double logdet = 2.0 * log(3.0);
    double beta = R * sqrt(logdet + 2.0 * log(1.0 / delta)) + S1;
    double want = want_psi1 + beta / sqrt(3.0);
    assert_close(colb__ridge_oful_radius(&r, 0), R * sqrt(log(3.0) + log(2.0) + 2.0 * log(1.0 / delta)) + S1,
                 1e-12); /* before the 4th update: V = diag(3, 2) */
    assert_int_equal(colb__alb_update(&a, &r, 0, e2, t0[1]), 1);
    assert_close(a.last_bound[0], want, 1e-12);
    assert_close(colb__alb_min_eig(&a, &r, 0), 3.0, 1e-12);
    /* b = 0.2 + (0.5 sqrt(2 ln 3 + 2 ln 10) + 2) / sqrt 3 = 2.108 > S1: kept */
    assert_true(want > S1);
    assert_true(r.S[0] == S1);
    assert_int_equal(a.epoch[0], 1);
    assert_true(a.epoch_end[0] == 12);

    /* 8 more updates (4 along each axis): epoch 1 ends at 12 with n1 = n2 = 6 */
    for (int k = 0; k < 7; k++)
        assert_int_equal(colb__alb_update(&a, &r, 0, k % 2 ? e2 : e1, k % 2 ? t0[1] : t0[0] + 0.3), 0);
    assert_int_equal(colb__alb_update(&a, &r, 0, e2, t0[1]), 1);
    want_psi1 = 0.3 * 6.0 / 7.0;
    logdet = 2.0 * log(7.0);
    beta = R * sqrt(logdet + 2.0 * log(1.0 / delta)) + S1;
    want = want_psi1 + beta / sqrt(7.0);
    assert_close(a.last_bound[0], want, 1e-12);
    assert_true(want < S1); /* 0.257 + 3.457 / 2.646 = 1.56: the bound tightens */
    assert_close(r.S[0], want, 1e-15);
    assert_int_equal(a.epoch[0], 2);
    assert_true(a.epoch_end[0] == 28);
    assert_true(r.count[0] == 12); /* data kept */
    /* the width in force uses the new S */
    assert_close(colb__ridge_width(&r, 0), R * sqrt(logdet + 2.0 * log(1.0 / delta)) + want, 1e-12);
    colb__alb_free(&a);
    colb__ridge_free(&r);
}

static void test_alb_restart(void **state)
{
    (void)state;
    colb_learner_params lp;
    colb_learner_params_default(&lp);
    colb__ridge r;
    assert_ok(colb__ridge_init(&r, 2, 3, &lp));
    const double t0[3] = { 0.1, 0.2, 0.3 };
    colb__ridge_set_prior(&r, 1, t0);
    colb__alb a;
    assert_ok(colb__alb_init(&a, 2, 3, 2, 1));
    colb__alb_start(&a, &r, 1.5);
    const double x[3] = { 0.5, -0.5, 0.25 };
    assert_int_equal(colb__alb_update(&a, &r, 1, x, 3.0), 0);
    assert_true(r.count[1] == 1);
    assert_int_equal(colb__alb_update(&a, &r, 1, x, 3.0), 1);
    /* fresh OFUL: no data, V = lambda I, theta = prior; S and the prior kept */
    assert_true(r.count[1] == 0);
    assert_true(a.steps[1] == 2);
    for (size_t j = 0; j < 3; j++) {
        assert_true(r.theta[3 + j] == t0[j]);
        assert_true(r.b[3 + j] == 0.0);
        for (size_t k = 0; k < 3; k++)
            assert_true(r.V[9 + 3 * j + k] == (j == k ? lp.lambda : 0.0));
    }
    /* one direction only: lambda_min(V) = lambda, so b >= S and S stays */
    assert_true(a.last_bound[1] > 1.5);
    assert_true(r.S[1] == 1.5);
    /* model 0 untouched */
    assert_true(r.count[0] == 0 && a.steps[0] == 0 && a.epoch[0] == 0);
    colb__alb_free(&a);
    colb__ridge_free(&r);
}

/* ---- regret on the personalized environment --------------------------- */

typedef struct regret_run {
    double final[3][8];   /* [policy][repeat] regret at T */
    double at_T0[3][8];   /* regret at round T0 */
} regret_run;

enum { RN = 50, RD = 8, RT = 400, RT0 = 20, RREP = 6 };

/* pmlb (learner), linucb-ind, pooled on the normalized personalized model. */
static void run_regret(double sigma_theta, colb_width width, colb_pmlb_learner learner,
                       regret_run *out)
{
    static const char *const pol[] = { "pmlb", "linucb-ind", "pooled" };
    colb_sim_spec s;
    colb_sim_spec_default(&s);
    s.env.kind = COLB_ENV_PERSONALIZED;
    s.env.users = RN;
    s.env.dim = RD;
    s.env.arms = 25;
    s.env.noise = 0.1;
    s.env.sigma_theta = sigma_theta;
    s.env.normalize = 1;
    s.horizon = RT;
    s.repeats = RREP;
    s.seed = 5;
    s.threads = 1;
    s.curve_points = RT;
    s.policy.learner.width = width;
    s.policy.learner.noise = 0.1;
    s.policy.learner.norm_bound = 1.0;
    s.policy.learner.delta = 0.4;
    s.policy.learner.alpha = 1.0;
    s.policy.pmlb_learner = learner;
    s.policies = pol;
    s.n_policies = 3;
    colb_sim_result *res = NULL;
    char msg[256];
    colb_status st = colb_sim_run(&s, &res, msg, sizeof msg);
    if (st != COLB_OK)
        fail_msg("colb_sim_run: %s", msg);
    assert_int_equal(colb_sim_result_point_round(res, RT0 - 1), RT0);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < RREP; j++) {
            out->final[i][j] = colb_sim_result_regret(res, i, j, RT - 1);
            out->at_T0[i][j] = colb_sim_result_regret(res, i, j, RT0 - 1);
        }
    colb_sim_result_free(res);
}

static double mean_of(const double *x)
{
    double m, h;
    colb_mean_ci95(x, RREP, &m, &h);
    return m;
}

static void test_regret_sigma0(void **state)
{
    (void)state;
    /* sigma_theta = 0: every user has theta = mu. N = 50, d = 8, K = 25,
     * T = 400 (T0 = 20), noise 0.1, 6 repeats. Measured (mean regret/user):
     *   fixed alpha = 1:  pmlb 9.01, linucb-ind 7.88, pooled 7.14
     *   OFUL, S = 1:      pmlb (ALB) 13.42, linucb-ind 11.69, pooled 7.74
     * PMLB does NOT beat LinUCB-Ind here (nor at N = 100, T = 1000, d = 15,
     * noise 0.1 or 1: docs/pmlb.md). Its common phase is the pooled learner
     * (checked bit for bit below), but the personal learners start with
     * V = lambda I and pay LinUCB-Ind's exploration again, and the prior mean
     * theta* (weight lambda = 1) is soon outweighed by the user's own data.
     * We assert what holds: the common phase is exactly the pooled learner,
     * and PMLB stays within 1.4x of LinUCB-Ind (measured 1.14 and 1.15). */
    static const colb_width widths[2] = { COLB_WIDTH_FIXED, COLB_WIDTH_OFUL };
    for (int w = 0; w < 2; w++) {
        regret_run r;
        run_regret(0.0, widths[w], COLB_PMLB_ALB_NORM, &r);
        for (size_t j = 0; j < RREP; j++)
            assert_true(r.at_T0[0][j] == r.at_T0[2][j]);
        double pm = mean_of(r.final[0]), ind = mean_of(r.final[1]), pool = mean_of(r.final[2]);
        print_message("sigma_theta=0 %s: pmlb %.2f linucb-ind %.2f pooled %.2f\n",
                      w ? "oful" : "fixed", pm, ind, pool);
        assert_true(pm < 1.4 * ind);
    }
}

static void test_regret_sigma0_paper_setting(void **state)
{
    (void)state;
    /* Where PMLB does beat LinUCB-Ind at sigma_theta = 0: the paper's
     * unnormalized model (||theta|| ~ sqrt(d), so the signal dwarfs the
     * exploration bonus and a good prior mean pays), with pooled_updates = 1
     * so that theta* is the ridge estimate on all N T0 samples (nearly
     * unshrunk; with the default weight-1 updates theta* ~ theta_bar / 3 at
     * T0 = 32, d = 15 and PMLB loses, docs/pmlb.md). N = 60, d = 15, K = 25,
     * T = 1000, noise 0.1, fixed alpha = 1, 6 repeats, no diversification
     * (the group learners play one arm per round, as in the paper). Measured:
     * pmlb 14.46, linucb-ind 21.87, pooled 12.08 (ratio 0.66). We assert
     * pmlb < 0.8 x linucb-ind and pmlb < 1.5 x pooled. */
    static const char *const pol[] = { "pmlb", "linucb-ind", "pooled" };
    colb_sim_spec s;
    colb_sim_spec_default(&s);
    s.env.kind = COLB_ENV_PERSONALIZED;
    s.env.users = 60;
    s.env.dim = 15;
    s.env.arms = 25;
    s.env.noise = 0.1;
    s.env.sigma_theta = 0.0;
    s.env.normalize = 0;
    s.horizon = 1000;
    s.repeats = 6;
    s.seed = 5;
    s.curve_points = 10;
    s.policy.learner.width = COLB_WIDTH_FIXED;
    s.policy.learner.alpha = 1.0;
    s.policy.pooled_updates = 1;
    s.policy.diversify = 0;
    s.policies = pol;
    s.n_policies = 3;
    colb_sim_result *res = NULL;
    char msg[256];
    if (colb_sim_run(&s, &res, msg, sizeof msg) != COLB_OK)
        fail_msg("colb_sim_run: %s", msg);
    double m[3];
    for (size_t i = 0; i < 3; i++) {
        double x[6], h;
        for (size_t j = 0; j < 6; j++)
            x[j] = colb_sim_result_regret(res, i, j, 9);
        colb_mean_ci95(x, 6, &m[i], &h);
    }
    colb_sim_result_free(res);
    print_message("paper setting, sigma_theta=0, pooled_updates=1: pmlb %.2f linucb-ind %.2f "
                  "pooled %.2f\n", m[0], m[1], m[2]);
    assert_true(m[0] < 0.8 * m[1]);
    assert_true(m[0] < 1.5 * m[2]);
}

static void test_regret_large_sigma(void **state)
{
    (void)state;
    /* sigma_theta = 1 (normalized: ||theta_u - mu|| ~ 1, no shared
     * structure). Same setting as above. Measured:
     *   fixed alpha = 1:  pmlb 13.05, linucb-ind 7.90, pooled 71.1
     *   OFUL, ALB-norm:   pmlb 20.37, linucb-ind 11.33, pooled 71.7
     *   OFUL, LinUCB:     pmlb 16.49
     * The degradation is bounded by what PMLB pays on top of LinUCB-Ind:
     * T0 rounds of a common model (about the pooled learner's regret over
     * those rounds: 7.3-7.5) plus a second exploration start. We assert
     * pmlb < 2.5 x linucb-ind (measured 1.65, 1.80, 1.46), pmlb <
     * 1.5 (linucb-ind + pooled regret at T0) (measured 0.86, 1.08, 0.87 of
     * the sum), and pmlb < pooled / 2.5 (personalization matters: measured
     * 5.4x, 3.5x, 4.3x). PMLB adapts to the structure: its regret at
     * sigma_theta = 0 is below 0.85 x its regret at sigma_theta = 1
     * (measured 0.69, 0.66, 0.75). */
    static const colb_width widths[2] = { COLB_WIDTH_FIXED, COLB_WIDTH_OFUL };
    for (int w = 0; w < 2; w++) {
        for (int l = 0; l < 2; l++) {
            if (widths[w] == COLB_WIDTH_FIXED && l == 1)
                continue; /* with a fixed width the two learners coincide (docs/pmlb.md) */
            regret_run big, zero;
            run_regret(1.0, widths[w], (colb_pmlb_learner)l, &big);
            run_regret(0.0, widths[w], (colb_pmlb_learner)l, &zero);
            double pm = mean_of(big.final[0]), ind = mean_of(big.final[1]);
            double pool = mean_of(big.final[2]), pool0 = mean_of(big.at_T0[2]);
            double pm0 = mean_of(zero.final[0]);
            print_message("sigma_theta=1 %s %s: pmlb %.2f linucb-ind %.2f pooled %.2f "
                          "(pooled at T0 %.2f); pmlb at sigma_theta=0 %.2f\n",
                          w ? "oful" : "fixed", l ? "linucb" : "alb-norm", pm, ind, pool, pool0, pm0);
            assert_true(pm < 2.5 * ind);
            assert_true(pm < 1.5 * (ind + pool0));
            assert_true(pm < pool / 2.5);
            assert_true(pm0 < 0.85 * pm);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_params),
        cmocka_unit_test(test_common_rounds),
        cmocka_unit_test(test_phase_switch),
        cmocka_unit_test(test_common_phase_is_pooled),
        cmocka_unit_test(test_alb_schedule),
        cmocka_unit_test(test_alb_bound_handmade),
        cmocka_unit_test(test_alb_restart),
        cmocka_unit_test(test_common_estimate_improves_with_N),
        cmocka_unit_test(test_regret_sigma0),
        cmocka_unit_test(test_regret_sigma0_paper_setting),
        cmocka_unit_test(test_regret_large_sigma),
    };
    return cmocka_run_group_tests_name("pmlb", tests, NULL, NULL);
}
