/* test_policy_update.c - colb_policy_update (one observation as a one-user
 * round with one context) and rounds that serve few users: for every
 * policy, an update changes the state exactly as begin_round(x, 1) /
 * choose / observe / end_round do; bad arguments leave the policy
 * unchanged; a round that served a few users leaves none of them marked
 * chosen or observed for the next one (end_round resets only those). */
#include "testutil.h"

#define N 12
#define D 4
#define K 5

static size_t labels[N];

static colb_policy *make(const char *name, uint64_t seed)
{
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = D;
    pp.horizon = 200;
    pp.seed = seed;
    for (size_t u = 0; u < N; u++)
        labels[u] = u % 3;
    if (!strncmp(name, "oracle", 6)) { /* every oracle form */
        pp.true_cluster = labels;
        pp.n_clusters = 3;
    }
    colb_policy *p = NULL;
    char msg[256];
    if (colb_policy_create(name, &pp, &p, msg, sizeof msg) != COLB_OK)
        fail_msg("%s: %s", name, msg);
    return p;
}

static void contexts(colb_rng *r, double *X, size_t k)
{
    for (size_t i = 0; i < k * D; i++)
        X[i] = colb_rng_uniform(r) * 2 - 1;
}

/* Some full and partial rounds, so that the policies have state. */
static void warm_up(colb_policy *p, colb_rng *r)
{
    double X[K * D];
    size_t arms[N];
    double y[N];
    for (int t = 0; t < 6; t++) {
        contexts(r, X, K);
        assert_ok(colb_policy_begin_round(p, X, K));
        if (t % 2 == 0) {
            assert_ok(colb_policy_choose_all(p, arms));
            for (size_t u = 0; u < N; u++)
                y[u] = colb_rng_uniform(r);
            assert_ok(colb_policy_observe_all(p, arms, y));
        } else {
            for (size_t u = (size_t)t; u < N; u += 5) {
                assert_ok(colb_policy_choose(p, u, &arms[u]));
                assert_ok(colb_policy_observe(p, u, arms[u], colb_rng_uniform(r)));
            }
        }
        assert_ok(colb_policy_end_round(p));
    }
}

/* The policy's bytes (its snapshot) for comparisons; caller frees. */
static unsigned char *bytes_of(const colb_policy *p, size_t *len)
{
    char msg[256];
    assert_status(colb_policy_save_buffer(p, NULL, 0, len, msg, sizeof msg), COLB_ERANGE);
    unsigned char *b = malloc(*len);
    assert_non_null(b);
    assert_ok(colb_policy_save_buffer(p, b, *len, len, msg, sizeof msg));
    return b;
}

static void assert_same(const colb_policy *a, const colb_policy *b, const char *what)
{
    size_t la, lb;
    unsigned char *ba = bytes_of(a, &la), *bb = bytes_of(b, &lb);
    if (la != lb || memcmp(ba, bb, la))
        fail_msg("%s: %s: states differ", colb_policy_name(a), what);
    free(ba);
    free(bb);
}

static void test_update_is_a_one_user_round(void **state)
{
    (void)state;
    for (const char *const *name = colb_policy_names(); *name; name++) {
        colb_policy *a = make(*name, 7), *b = make(*name, 7);
        colb_rng ra_, rb_, *ra = &ra_, *rb = &rb_;
        colb_rng_seed(ra, 3, 0);
        colb_rng_seed(rb, 3, 0);
        warm_up(a, ra);
        warm_up(b, rb);
        for (int i = 0; i < 20; i++) {
            double x[D];
            contexts(ra, x, 1);
            size_t u = (size_t)(i * 7) % N;
            double y = 0.25 * i - 2;
            uint64_t before = colb_policy_rounds(a);
            assert_ok(colb_policy_update(a, u, x, y));
            assert_int_equal(colb_policy_rounds(a), before + 1);
            size_t arm;
            assert_ok(colb_policy_begin_round(b, x, 1));
            assert_ok(colb_policy_choose(b, u, &arm));
            assert_int_equal(arm, 0);
            assert_ok(colb_policy_observe(b, u, arm, y));
            assert_ok(colb_policy_end_round(b));
        }
        assert_same(a, b, "update against the four calls");
        colb_policy_free(a);
        colb_policy_free(b);
    }
}

static void test_update_errors_leave_policy_unchanged(void **state)
{
    (void)state;
    colb_policy *p = make("linucb-ind", 1), *q = make("linucb-ind", 1);
    colb_rng r1, r2, *r = &r1, *s = &r2;
    colb_rng_seed(r, 5, 0);
    colb_rng_seed(s, 5, 0);
    warm_up(p, r);
    warm_up(q, s);
    double x[D] = { 0.1, 0.2, 0.3, 0.4 }, bad[D] = { 0.1, NAN, 0.3, 0.4 }, big[D] = { 0, 0, 2e6, 0 };
    assert_status(colb_policy_update(NULL, 0, x, 1), COLB_EINVAL);
    assert_status(colb_policy_update(p, 0, NULL, 1), COLB_EINVAL);
    assert_status(colb_policy_update(p, N, x, 1), COLB_ERANGE);
    assert_status(colb_policy_update(p, 0, x, NAN), COLB_ENONFIN);
    assert_status(colb_policy_update(p, 0, x, INFINITY), COLB_ENONFIN);
    assert_status(colb_policy_update(p, 0, x, 2e9), COLB_ERANGE);
    assert_status(colb_policy_update(p, 0, bad, 1), COLB_ENONFIN);
    assert_status(colb_policy_update(p, 0, big, 1), COLB_ERANGE);
    assert_non_null(strstr(colb_policy_last_error(p), "beyond"));
    /* the message names the call made (it said "begin_round:") */
    assert_true(!strncmp(colb_policy_last_error(p), "update: ", 8));
    double X[K * D];
    contexts(r, X, K);
    assert_ok(colb_policy_begin_round(p, X, K));
    assert_status(colb_policy_update(p, 0, x, 1), COLB_ESTATE);
    assert_ok(colb_policy_end_round(p));
    assert_ok(colb_policy_begin_round(q, X, K));
    assert_ok(colb_policy_end_round(q));
    assert_same(p, q, "failed updates");
    colb_policy_free(p);
    colb_policy_free(q);
}

/* After a round that served users 3 and 8, the next round chooses for them
 * afresh and accepts their observations: the same as a policy loaded from
 * a snapshot between the rounds (whose bookkeeping is new). */
static void test_partial_rounds_reset_their_users(void **state)
{
    (void)state;
    for (const char *const *name = colb_policy_names(); *name; name++) {
        colb_policy *p = make(*name, 11);
        colb_rng r_, *r = &r_;
        colb_rng_seed(r, 9, 0);
        warm_up(p, r);
        double X[K * D];
        size_t arm;
        contexts(r, X, K);
        assert_ok(colb_policy_begin_round(p, X, K));
        assert_ok(colb_policy_choose(p, 3, &arm));
        assert_ok(colb_policy_observe(p, 3, arm, 0.5));
        assert_ok(colb_policy_choose(p, 8, &arm)); /* chosen, never observed */
        assert_ok(colb_policy_end_round(p));
        size_t len;
        unsigned char *b = bytes_of(p, &len);
        colb_policy *q = NULL;
        char msg[256];
        assert_ok(colb_policy_load_buffer(b, len, NULL, &q, msg, sizeof msg));
        free(b);
        for (int t = 0; t < 3; t++) {
            contexts(r, X, K);
            size_t ap, aq;
            assert_ok(colb_policy_begin_round(p, X, K));
            assert_ok(colb_policy_begin_round(q, X, K));
            for (size_t u = 3; u <= 8; u += 5) {
                assert_ok(colb_policy_choose(p, u, &ap));
                assert_ok(colb_policy_choose(q, u, &aq));
                assert_int_equal(ap, aq);
                assert_ok(colb_policy_observe(p, u, ap, 0.1 * t));
                assert_ok(colb_policy_observe(q, u, aq, 0.1 * t));
            }
            assert_ok(colb_policy_end_round(p));
            assert_ok(colb_policy_end_round(q));
        }
        assert_same(p, q, "partial rounds against a fresh load");
        colb_policy_free(p);
        colb_policy_free(q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_is_a_one_user_round),
        cmocka_unit_test(test_update_errors_leave_policy_unchanged),
        cmocka_unit_test(test_partial_rounds_reset_their_users),
    };
    return cmocka_run_group_tests_name("policy update", tests, NULL, NULL);
}
