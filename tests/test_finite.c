/* test_finite.c - no non-finite state is ever returned as success (issue
 * 17, defect 5): contexts, rewards and weights are checked against the
 * ranges of colb/limits.h at the API boundary before any state changes,
 * and a state that turns non-finite anyway is reported as COLB_ENUMERIC. */
#include "testutil.h"

#include "learn/cluster_bank.h"
#include "learn/user_bank.h"
#include "policies/policy_impl.h"

enum { N = 6, D = 3, K = 4 };

static colb_policy *make(const char *name)
{
    static const size_t labels[N] = { 0, 0, 0, 1, 1, 1 };
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = D;
    pp.horizon = 50;
    pp.true_cluster = labels;
    pp.n_clusters = 2;
    colb_policy *p = NULL;
    char msg[256];
    if (colb_policy_create(name, &pp, &p, msg, sizeof msg) != COLB_OK)
        fail_msg("%s: %s", name, msg);
    return p;
}

/* One round on contexts X with reward y for everyone; the first failing
 * status. */
static colb_status round_with(colb_policy *p, const double *X, double y)
{
    size_t arms[N];
    double r[N];
    colb_status st = colb_policy_begin_round(p, X, K);
    if (st != COLB_OK)
        return st;
    if ((st = colb_policy_choose_all(p, arms)) != COLB_OK)
        return st;
    for (size_t u = 0; u < N; u++)
        r[u] = y;
    if ((st = colb_policy_observe_all(p, arms, r)) != COLB_OK) {
        colb_policy_end_round(p);
        return st;
    }
    return colb_policy_end_round(p);
}

static int thetas_finite(const colb_policy *p)
{
    double th[D];
    for (size_t u = 0; u < N; u++)
        if (colb_policy_user_theta(p, u, th) == COLB_OK && !colb__finite(th, D))
            return 0;
    return 1;
}

static void test_policies_refuse_huge_contexts(void **state)
{
    (void)state;
    double X[K * D], big[K * D];
    for (int i = 0; i < K * D; i++) {
        X[i] = 0.1 * (i % 5) - 0.2;
        big[i] = (i % 2 ? 1e200 : -1e200);
    }
    for (const char *const *name = colb_policy_names(); *name; name++) {
        colb_policy *p = make(*name);
        for (int t = 0; t < 20; t++)
            assert_ok(round_with(p, X, 0.5));
        colb_status st = round_with(p, big, 1.0);
        if (st != COLB_ERANGE)
            fail_msg("%s: contexts of 1e200 gave %s", *name, colb_status_name(st));
        if (!thetas_finite(p))
            fail_msg("%s: non-finite estimate after huge contexts", *name);
        assert_status(round_with(p, X, 1e300), COLB_ERANGE); /* huge reward */
        assert_ok(round_with(p, X, 0.5)); /* and the policy goes on */
        assert_true(thetas_finite(p));
        colb_policy_free(p);
    }
}

static void test_learner_refuses_huge_weights(void **state)
{
    (void)state;
    colb_learner_params lp;
    colb_learner_params_default(&lp);
    colb_learner *l = NULL;
    assert_ok(colb_learner_create(D, &lp, &l));
    const double x[D] = { 0.5, -0.25, 1.0 };
    assert_ok(colb_learner_update(l, x, 1.0, 1.0));
    double before[D], after[D];
    assert_ok(colb_learner_theta(l, before));
    assert_status(colb_learner_update(l, x, 1.0, 1e308), COLB_ERANGE);
    const double huge[D] = { 1e200, 0, 0 };
    assert_status(colb_learner_update(l, huge, 1.0, 1.0), COLB_ERANGE);
    assert_status(colb_learner_update(l, x, 1e300, 1.0), COLB_ERANGE);
    /* a value just past its bound is said exactly, not as the bound */
    const double past[D] = { 0, COLB_CONTEXT_MAX * (1 + 1e-12), 0 };
    assert_status(colb_learner_update(l, past, 1.0, 1.0), COLB_ERANGE);
    assert_string_equal(colb_learner_last_error(l), "update: context entry 1 is 1000000.0000010001, beyond +-1e+06");
    assert_ok(colb_learner_theta(l, after));
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(colb_learner_count(l), 1);
    /* The extremes of the ranges: no overflow, but the same huge vector
     * again and again makes V so ill-conditioned that Sherman-Morrison's
     * rounding can break down; the guard then undoes the update and says
     * so. Either way the state is finite and the count tells the truth. */
    const double edge[D] = { COLB_CONTEXT_MAX, -COLB_CONTEXT_MAX, COLB_CONTEXT_MAX };
    uint64_t ok = 1, undone = 0;
    for (int i = 0; i < 100; i++) {
        colb_status st = colb_learner_update(l, edge, i % 2 ? COLB_REWARD_MAX : -COLB_REWARD_MAX, COLB_WEIGHT_MAX);
        if (st != COLB_OK && st != COLB_ENUMERIC)
            fail_msg("update %d: %s", i, colb_status_name(st));
        ok += st == COLB_OK;
        undone += st == COLB_ENUMERIC;
        assert_ok(colb_learner_theta(l, after));
        assert_true(colb__finite(after, D));
        assert_true(isfinite(colb_learner_width(l)));
    }
    assert_int_equal(colb_learner_count(l), ok);
    assert_true(ok > 1);
    print_message("extreme updates: %llu applied, %llu undone by the guard\n", (unsigned long long)ok - 1,
                  (unsigned long long)undone);
    colb_learner_free(l);
    lp.lambda = 1e-300;
    assert_status(colb_learner_create(D, &lp, &l), COLB_ERANGE);
}

/* A state that turns non-finite, or finite beyond what exact arithmetic
 * can reach within colb/limits.h (COLB__THETA_MAX; here: poked), is
 * reported, never OK. */
static void test_guard_reports_numeric_failure(void **state)
{
    (void)state;
    double X[K * D];
    for (int i = 0; i < K * D; i++)
        X[i] = 0.1 * (i % 5) - 0.2;
    colb_policy *p = make("linucb-ind");
    assert_ok(round_with(p, X, 0.5));
    colb__users *b = p->impl;
    b->s.theta[2] = 1e70; /* user 2: block 0, entry 0, lane 2 (soa_bank.h) */
    assert_status(round_with(p, X, 0.5), COLB_ENUMERIC);
    assert_non_null(strstr(colb_policy_last_error(p), "user 2"));
    colb_policy_free(p);
    p = make("linucb-ind");
    assert_ok(round_with(p, X, 0.5));
    b = p->impl;
    b->s.theta[2] = NAN;
    assert_status(round_with(p, X, 0.5), COLB_ENUMERIC);
    assert_non_null(strstr(colb_policy_last_error(p), "user 2"));
    assert_status(colb_policy_begin_round(p, X, K), COLB_ENUMERIC);
    /* nor does anything else work on the fenced state (a save of it used
     * to succeed, with bytes that a load refuses) */
    size_t len;
    char msg[256];
    assert_status(colb_policy_add_users(p, 1, NULL), COLB_ENUMERIC);
    assert_status(colb_policy_save_buffer(p, NULL, 0, &len, msg, sizeof msg), COLB_ENUMERIC);
    assert_status(colb_policy_set_max_memory(p, 1 << 20), COLB_ENUMERIC);
    double th[D];
    size_t labels[N], nc;
    assert_status(colb_policy_user_theta(p, 0, th), COLB_ENUMERIC);
    assert_status(colb_policy_clusters(p, labels, &nc), COLB_ENUMERIC);
    colb_policy_free(p);
    /* the grouped policies check their groups' models at once
     * (vt->all_sane): group 1's poked estimate names its first user */
    static const char *const grouped[] = { "oracle", "oracle-batch", "oracle-seq", "pooled" };
    for (size_t i = 0; i < 4; i++) {
        p = make(grouped[i]);
        assert_ok(round_with(p, X, 0.5));
        colb__clusters *c = p->impl;
        size_t g = c->G > 1 ? 1 : 0;
        c->r.theta[g * D + 1] = i % 2 ? NAN : -1e70;
        if (round_with(p, X, 0.5) != COLB_ENUMERIC)
            fail_msg("%s: a %s estimate was not reported", grouped[i], i % 2 ? "NaN" : "-1e70");
        assert_non_null(strstr(colb_policy_last_error(p), g ? "user 3" : "user 0"));
        colb_policy_free(p);
    }
    /* the policies of users served one by one check each observed user's
     * estimate in place (vt->user_theta_ref) */
    static const char *const seq[] = { "club", "locb", "sclub", "oracle-seq" };
    for (size_t i = 0; i < 4; i++) {
        p = make(seq[i]);
        assert_non_null(p->vt->user_theta_ref);
        assert_ok(round_with(p, X, 0.5));
        ((double *)p->vt->user_theta_ref(p, 4))[D - 1] = i % 2 ? NAN : 1e70;
        assert_ok(colb_policy_begin_round(p, X, K));
        colb_status st = COLB_OK;
        for (size_t u = 3; u < N && st == COLB_OK; u++) {
            size_t arm;
            assert_ok(colb_policy_choose(p, u, &arm));
            st = colb_policy_observe(p, u, arm, 0.5);
        }
        if (st != COLB_ENUMERIC)
            fail_msg("%s: a %s estimate was not reported", seq[i], i % 2 ? "NaN" : "1e70");
        /* oracle-seq: user 3's group model is user 4's */
        assert_non_null(strstr(colb_policy_last_error(p), i == 3 ? "user 3" : "user 4"));
        colb_policy_free(p);
    }
}

/* cohort refreshes its cluster models from V by Cholesky factorisations;
 * on one context of +-1e6, again and again, with lambda = 1e-3 (within
 * colb/limits.h) one failed. It used to be ignored: the model kept the
 * prior's A beside a V holding data, its later Sherman-Morrison steps grew
 * it past 1e100, and a save that succeeded wrote a snapshot that a load
 * refused. Now the factorisation takes a jitter (ridge.h), a refresh that
 * fails anyway fences the policy (COLB_ENUMERIC from the round), and a
 * state that the stream's rounding carried past what a load takes is not
 * saved (COLB_ENUMERIC from the save): every save that succeeds loads.
 * (The sequence: rounds of choose_all or one-by-one choices, some users
 * chosen and not observed.) */
/* CMLB's warm start rebuilds each user's V from its A (the bank keeps A
 * alone). One context at COLB_CONTEXT_MAX with lambda at COLB_LAMBDA_MIN
 * cancels A to rounding, so that V cannot be rebuilt: that user brings no
 * data to its cluster, and the policy goes on (its clustering used to fail
 * with COLB_ENUMERIC at the end of the individual phase, the policy fenced
 * for good, on inputs within colb/limits.h). SCLB starts from CMLB's
 * clustering. */
static void test_warm_start_without_a_user_matrix(void **state)
{
    (void)state;
    static const char *const names[] = { "cmlb", "sclb" };
    for (size_t k = 0; k < 2; k++) {
        colb_policy_params pp;
        colb_policy_params_default(&pp);
        pp.users = 2;
        pp.dim = 1;
        pp.horizon = 100;
        pp.learner.lambda = COLB_LAMBDA_MIN;
        colb_policy *p = NULL;
        char msg[256];
        if (colb_policy_create(names[k], &pp, &p, msg, sizeof msg) != COLB_OK)
            fail_msg("%s: %s", names[k], msg);
        double x = COLB_CONTEXT_MAX;
        for (int t = 0; t < 20; t++) {
            assert_ok(colb_policy_begin_round(p, &x, 1));
            size_t arm;
            if (t == 0) {
                assert_ok(colb_policy_choose(p, 0, &arm));
                assert_ok(colb_policy_observe(p, 0, arm, 1.0));
            }
            if (colb_policy_end_round(p) != COLB_OK)
                fail_msg("%s, round %d: %s", names[k], t, colb_policy_last_error(p));
        }
        static unsigned char buf[1 << 16]; /* and its state can be kept */
        size_t len = 0;
        if (colb_policy_save_buffer(p, buf, sizeof buf, &len, msg, sizeof msg) != COLB_OK || len == 0)
            fail_msg("%s: save: %s", names[k], msg);
        colb_policy_free(p);
    }
}

static void test_cohort_failed_refresh_is_reported(void **state)
{
    (void)state;
    enum { NU = 9, DD = 8 };
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = NU;
    pp.dim = DD;
    pp.learner.lambda = 1e-3;
    colb_policy *p = NULL;
    char msg[256];
    assert_ok(colb_policy_create("cohort", &pp, &p, msg, sizeof msg));
    static const double x[DD] = { 1e6, -1e6, -1e6, -1e6, -1e6, 1e6, -1e6, -1e6 };
    static unsigned char buf[1 << 20];
    colb_status st = COLB_OK;
    for (int t = 0; t < 200 && st == COLB_OK; t++) {
        size_t arms[NU], arm;
        double r[NU] = { 0 };
        st = colb_policy_begin_round(p, x, 1);
        if (st == COLB_OK && t % 3 == 0) {
            st = colb_policy_choose_all(p, arms);
            if (st == COLB_OK && t % 2 == 0)
                st = colb_policy_observe_all(p, arms, r);
        } else {
            for (size_t u = 0; u < NU && st == COLB_OK; u++)
                if ((st = colb_policy_choose(p, u, &arm)) == COLB_OK && (u + (size_t)t) % 2 == 0)
                    st = colb_policy_observe(p, u, arm, 0.0);
        }
        colb_status end = colb_policy_end_round(p);
        st = st != COLB_OK ? st : end;
        if (st != COLB_OK)
            break;
        size_t len;
        colb_policy *q = NULL;
        colb_status saved = colb_policy_save_buffer(p, buf, sizeof buf, &len, msg, sizeof msg);
        if (saved == COLB_ENUMERIC) { /* past what a load takes: not written */
            assert_non_null(strstr(msg, "failed numerically"));
            break;
        }
        assert_ok(saved);
        if (colb_policy_load_buffer(buf, len, NULL, &q, msg, sizeof msg) != COLB_OK)
            fail_msg("after round %d: a save that succeeded does not load: %s", t + 1, msg);
        colb_policy_free(q);
    }
    if (st != COLB_OK) {
        assert_int_equal(st, COLB_ENUMERIC);
        assert_status(colb_policy_begin_round(p, x, 1), COLB_ENUMERIC);
    }
    colb_policy_free(p);
}

/* sclb with a subnormal delta (4.9e-324): create accepted it, and every
 * begin_round then failed at the phase's CMLB (delta / 2^i = 0) while
 * counting the phase up, and a save wrote a state that a load refused.
 * Now create refuses it (and a phase that fails to start no longer counts
 * itself: sclb.c start_phase), while a tiny delta that every phase can
 * halve is taken. */
static void test_sclb_tiny_delta(void **state)
{
    (void)state;
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = D;
    pp.learner.delta = 4.9e-324;
    colb_policy *p = NULL;
    char msg[256];
    assert_int_equal(colb_policy_create("sclb", &pp, &p, msg, sizeof msg), COLB_ERANGE);
    assert_non_null(strstr(msg, "delta"));
    pp.learner.delta = 1e-280; /* 1e-280 / 2^62 is positive */
    assert_int_equal(colb_policy_create("sclb", &pp, &p, msg, sizeof msg), COLB_OK);
    double X[K * D];
    for (int i = 0; i < K * D; i++)
        X[i] = 0.1 * (i % 5) - 0.2;
    assert_ok(round_with(p, X, 0.5));
    colb_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policies_refuse_huge_contexts),
        cmocka_unit_test(test_learner_refuses_huge_weights),
        cmocka_unit_test(test_guard_reports_numeric_failure),
        cmocka_unit_test(test_sclb_tiny_delta),
        cmocka_unit_test(test_cohort_failed_refresh_is_reported),
        cmocka_unit_test(test_warm_start_without_a_user_matrix),
    };
    return cmocka_run_group_tests_name("finite state", tests, NULL, NULL);
}
