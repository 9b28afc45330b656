/* test_club.c - CLUB (Gentile, Li, Zappella 2014): parameter checks, the
 * edge-deletion rule at its threshold, the round-robin protocol, incremental
 * component aggregates against a from-scratch recomputation after every
 * step, convergence to the true clusters, regret against LinUCB-Ind, the
 * random initial graph, and the burn-in tuner. Small fixed-seed instances:
 * the file runs in about a second (a few under the sanitizers). */
#include "testutil.h"

#include "policies/club.h"
#include "colb/tune.h"

static colb_policy *make_club(size_t N, size_t d, double alpha, double alpha2, colb_club_graph g,
                              uint64_t seed)
{
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = d;
    pp.horizon = 100;
    pp.club_own_alpha = 1; /* the published bonus alpha sqrt(x'M^-1x ln(t+1)) */
    pp.club_alpha = alpha;
    pp.club_alpha2 = alpha2;
    pp.club_graph = g;
    pp.seed = seed;
    colb_policy *p = NULL;
    char msg[256];
    colb_status st = colb_policy_create("club", &pp, &p, msg, sizeof msg);
    if (st != COLB_OK)
        fail_msg("colb_policy_create(club): %s: %s", colb_status_name(st), msg);
    return p;
}

static colb_env *make_env(size_t N, size_t L, size_t d, size_t K, double noise, uint64_t seed)
{
    colb_env_params ep;
    colb_env_params_default(&ep);
    ep.users = N;
    ep.clusters = L;
    ep.dim = d;
    ep.arms = K;
    ep.noise = noise;
    colb_env *e = NULL;
    char msg[256];
    colb_status st = colb_env_create(&ep, seed, &e, msg, sizeof msg);
    if (st != COLB_OK)
        fail_msg("colb_env_create: %s: %s", colb_status_name(st), msg);
    return e;
}

/* One round of the simulator's sequential protocol (sim.c): users 0..N-1 in
 * order, each chosen then observed at once. Returns the round's regret. */
static double play_round(colb_policy *p, colb_env *e, size_t *arms)
{
    size_t N = colb_env_users(e), K = colb_env_arms(e);
    assert_ok(colb_env_next_round(e));
    assert_ok(colb_policy_begin_round(p, colb_env_contexts(e, 0), K));
    double reg = 0.0;
    for (size_t u = 0; u < N; u++) {
        size_t a;
        assert_ok(colb_policy_choose(p, u, &a));
        assert_ok(colb_policy_observe(p, u, a, colb_env_reward(e, u, a)));
        reg += colb_env_regret(e, u, a);
        if (arms)
            arms[u] = a;
    }
    assert_ok(colb_policy_end_round(p));
    return reg;
}

/* 1 if labels a and b (N each) describe the same partition. */
static int same_partition(const size_t *a, const size_t *b, size_t N)
{
    for (size_t u = 0; u < N; u++)
        for (size_t v = u + 1; v < N; v++)
            if ((a[u] == a[v]) != (b[u] == b[v]))
                return 0;
    return 1;
}

static void test_invalid_parameters(void **state)
{
    (void)state;
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = 4;
    pp.dim = 3;
    pp.horizon = 10;
    char msg[256];
    colb_policy *p = (colb_policy *)&pp; /* must be reset to NULL on error */
    assert_ok(colb_policy_params_check("club", &pp, msg, sizeof msg));

    struct { double a, a2; colb_status want; const char *field; } bad[] = {
        { -0.1, 2.0, COLB_ERANGE, "club_alpha" },
        { NAN, 2.0, COLB_ENONFIN, "club_alpha" },
        { INFINITY, 2.0, COLB_ENONFIN, "club_alpha" },
        { 1.0, 0.0, COLB_ERANGE, "club_alpha2" },
        { 1.0, -1.0, COLB_ERANGE, "club_alpha2" },
        { 1.0, NAN, COLB_ENONFIN, "club_alpha2" },
        { 1.0, -INFINITY, COLB_ENONFIN, "club_alpha2" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        colb_policy_params q = pp;
        q.club_alpha = bad[i].a;
        q.club_alpha2 = bad[i].a2;
        msg[0] = '\0';
        assert_status(colb_policy_create("club", &q, &p, msg, sizeof msg), bad[i].want);
        assert_null(p);
        assert_non_null(strstr(msg, bad[i].field));
        assert_status(colb_policy_params_check("club", &q, NULL, 0), bad[i].want);
    }
    colb_policy_params q = pp;
    q.club_graph = (colb_club_graph)7;
    assert_status(colb_policy_create("club", &q, &p, msg, sizeof msg), COLB_ERANGE);
    q = pp;
    q.users = ((size_t)1 << 16) + 1; /* the graph would take N^2/8 bytes */
    assert_status(colb_policy_params_check("club", &q, msg, sizeof msg), COLB_ERANGE);
    /* the boundary values are valid: alpha = 0 (greedy), tiny alpha2 */
    q = pp;
    q.club_alpha = 0.0;
    q.club_alpha2 = 1e-300;
    assert_ok(colb_policy_create("club", &q, &p, msg, sizeof msg));
    assert_true(colb_policy_is_sequential(p));
    assert_string_equal(colb_policy_name(p), "club");
    colb_policy_free(p);
    /* the hooks refuse other policies */
    assert_ok(colb_policy_create("linucb-ind", &pp, &p, msg, sizeof msg));
    assert_status(colb__club_set_naive(p, 1), COLB_EINVAL);
    double e;
    assert_status(colb__club_check(p, &e), COLB_EINVAL);
    colb_policy_free(p);
}

static void test_edge_rule_hand_cases(void **state)
{
    (void)state;
    /* CB(0) = alpha2; CB(1) = alpha2 sqrt((1 + ln 2) / 2); CB(T) -> 0 */
    assert_close(colb__club_cb(0, 2.0), 2.0, 1e-15);
    assert_close(colb__club_cb(1, 1.0), sqrt((1.0 + log(2.0)) / 2.0), 1e-15);
    assert_close(colb__club_cb(99, 3.0), 3.0 * sqrt((1.0 + log(100.0)) / 100.0), 1e-15);
    assert_true(colb__club_cb(1000000, 1.0) < 0.004);

    /* two users, d = 3: distance exactly at the threshold is kept (the rule
     * is a strict >), one ulp beyond is deleted */
    double thr = colb__club_cb(5, 0.7) + colb__club_cb(9, 0.7);
    double wi[3] = { 0.0, 0.0, 0.0 }, wl[3] = { 0.0, 0.0, 0.0 };
    wi[1] = thr;
    assert_false(colb__club_edge_deleted(wi, wl, 3, 5, 9, 0.7));
    wi[1] = nextafter(thr, INFINITY);
    assert_true(colb__club_edge_deleted(wi, wl, 3, 5, 9, 0.7));
    wi[1] = 0.5 * thr;
    wl[1] = -0.5 * thr * (1.0 - 1e-9);
    assert_false(colb__club_edge_deleted(wi, wl, 3, 5, 9, 0.7));
    wl[1] = -0.5 * thr * (1.0 + 1e-9);
    assert_true(colb__club_edge_deleted(wi, wl, 3, 5, 9, 0.7));
    /* symmetric in the two users */
    assert_true(colb__club_edge_deleted(wl, wi, 3, 9, 5, 0.7));
}

/* The same rule through the policy: N = 2, d = 1, lambda = 1, one arm x = 1.
 * Serving user 0 once with reward y gives M_0 = 2, w_0 = y / 2, T_0 = 1, while
 * user 1 keeps w_1 = 0, T_1 = 0: the edge goes iff |y| / 2 > CB(1) + CB(0). */
static void test_edge_rule_in_policy(void **state)
{
    (void)state;
    const double alpha2 = 1.0, x = 1.0;
    double thr = colb__club_cb(1, alpha2) + colb__club_cb(0, alpha2);
    for (int beyond = 0; beyond <= 1; beyond++) {
        colb_policy *p = make_club(2, 1, 1.0, alpha2, COLB_CLUB_COMPLETE, 1);
        assert_int_equal(colb__club_edges(p), 1);
        double y = 2.0 * (beyond ? nextafter(thr, INFINITY) : thr);
        size_t a, labels[2], n = 0;
        assert_ok(colb_policy_begin_round(p, &x, 1));
        assert_ok(colb_policy_choose(p, 0, &a));
        assert_int_equal(a, 0);
        assert_ok(colb_policy_observe(p, 0, 0, y));
        assert_ok(colb_policy_end_round(p));
        double w0, w1;
        assert_ok(colb_policy_user_theta(p, 0, &w0));
        assert_ok(colb_policy_user_theta(p, 1, &w1));
        assert_true(w0 == y / 2.0); /* exact: A = 1/2 by Sherman-Morrison */
        assert_true(w1 == 0.0);
        assert_int_equal(colb__club_served(p, 0), 1);
        assert_int_equal(colb__club_served(p, 1), 0);
        assert_ok(colb_policy_clusters(p, labels, &n));
        assert_int_equal(n, beyond ? 2 : 1);
        assert_int_equal(labels[0] == labels[1], !beyond);
        assert_int_equal(colb__club_edges(p), beyond ? 0 : 1);
        assert_non_null(strstr(colb_policy_info(p), beyond ? "components=2 edges=0"
                                                           : "components=1 edges=1"));
        double err;
        assert_ok(colb__club_check(p, &err));
        assert_true(err < 1e-12);
        colb_policy_free(p);
    }
}

/* The edge scan of observe (blocks of 64 users for dense words of the
 * adjacency row, one by one for sparse ones) agrees with the rule applied
 * edge by edge. N = 70: word 0 of each row is dense, word 1 (6 users)
 * sparse. The policy runs with a large alpha2 (the graph stays complete);
 * the scan is then asked with smaller constants, for which many edges fail. */
static void test_edge_scan_matches_rule(void **state)
{
    (void)state;
    enum { N = 70, D = 4, K = 6, T = 20 };
    colb_env *e = make_env(N, 2, D, K, 0.3, 31);
    colb_policy *p = make_club(N, D, 0.3, 50.0, COLB_CLUB_COMPLETE, 2);
    size_t out[N], failing = 0, tested = 0;
    double w[N][D];
    for (size_t t = 0; t < T; t++) {
        play_round(p, e, NULL);
        if (t % 4 != 3)
            continue;
        assert_int_equal(colb__club_edges(p), N * (N - 1) / 2);
        for (size_t u = 0; u < N; u++)
            assert_ok(colb_policy_user_theta(p, u, w[u]));
        static const double alpha2s[] = { 0.05, 0.2, 0.5, 1.0 };
        for (size_t a = 0; a < 4; a++)
            for (size_t u = 0; u < N; u++) {
                size_t m = colb__club_scan(p, u, alpha2s[a], out), q = 0;
                for (size_t v = 0; v < N; v++) {
                    if (!colb__club_has_edge(p, u, v))
                        continue;
                    tested++;
                    if (!colb__club_edge_deleted(w[u], w[v], D, colb__club_served(p, u),
                                                 colb__club_served(p, v), alpha2s[a]))
                        continue;
                    failing++;
                    if (q >= m || out[q] != v)
                        fail_msg("round %zu, alpha2 %g, user %zu: the scan misses the "
                                 "failing edge to %zu", t, alpha2s[a], u, v);
                    q++;
                }
                assert_int_equal(q, m); /* and lists nothing else */
            }
    }
    if (!(failing > tested / 10 && failing < tested - tested / 10))
        fail_msg("%zu of %zu edges failing: not a discriminating case", failing, tested);
    colb_policy_free(p);
    colb_env_free(e);
}

/* Every observe deletes exactly the edges of the served user that fail the
 * rule at the new estimates, whether the scan tested them or certified them
 * through the component's pivot (triangle inequality): two clusters of 30
 * users, d = 5, alpha2 chosen so that edges go between the clusters while
 * most steps are certified; the certificates' state is checked too. */
static void test_certified_scan_matches_rule(void **state)
{
    (void)state;
    enum { N = 60, D = 5, K = 8, T = 150 };
    const double alpha2 = 0.6;
    colb_env *e = make_env(N, 2, D, K, 0.1, 41);
    colb_policy *p = make_club(N, D, 0.3, alpha2, COLB_CLUB_COMPLETE, 4);
    static double w[N][D];
    static unsigned char before[N];
    size_t deleted = 0;
    for (size_t t = 0; t < T; t++) {
        assert_ok(colb_env_next_round(e));
        assert_ok(colb_policy_begin_round(p, colb_env_contexts(e, 0), K));
        for (size_t u = 0; u < N; u++) {
            size_t a;
            for (size_t v = 0; v < N; v++)
                before[v] = (unsigned char)colb__club_has_edge(p, u, v);
            assert_ok(colb_policy_choose(p, u, &a));
            assert_ok(colb_policy_observe(p, u, a, colb_env_reward(e, u, a)));
            for (size_t v = 0; v < N; v++)
                assert_ok(colb_policy_user_theta(p, v, w[v]));
            for (size_t v = 0; v < N; v++) {
                if (!before[v])
                    continue;
                int gone = colb__club_edge_deleted(w[u], w[v], D, colb__club_served(p, u),
                                                   colb__club_served(p, v), alpha2);
                if (gone != !colb__club_has_edge(p, u, v))
                    fail_msg("round %zu, user %zu, edge to %zu: rule says %s, the policy %s", t,
                             u, v, gone ? "delete" : "keep", gone ? "kept it" : "deleted it");
                deleted += (size_t)gone;
            }
            if (u % 7 == 0) {
                double err;
                assert_ok(colb__club_check(p, &err));
            }
        }
        assert_ok(colb_policy_end_round(p));
    }
    uint64_t cert = colb__club_certified(p);
    /* a discriminating run: edges went, and most tests were certified */
    if (deleted < 100 || cert < (uint64_t)T * N * 10)
        fail_msg("%zu edges deleted, %llu tests certified: not a discriminating case", deleted,
                 (unsigned long long)cert);
    colb_policy_free(p);
    colb_env_free(e);
}

static void test_round_robin_serves_every_user(void **state)
{
    (void)state;
    const size_t T = 30;
    for (size_t N = 1; N <= 7; N += 6) {
        colb_env *e = make_env(N, 1, 4, 6, 0.1, 11);
        colb_policy *p = make_club(N, 4, 0.5, 1.0, COLB_CLUB_COMPLETE, 3);
        for (size_t t = 0; t < T; t++)
            play_round(p, e, NULL);
        assert_int_equal(colb_policy_rounds(p), T);
        for (size_t u = 0; u < N; u++)
            assert_int_equal(colb__club_served(p, u), T);
        colb_policy_free(p);
        colb_env_free(e);
    }
    /* the simulator drives CLUB sequentially too: it runs and is exact */
    colb_sim_spec s;
    colb_sim_spec_default(&s);
    static const char *const names[] = { "club" };
    s.env.users = 5;
    s.env.clusters = 1;
    s.env.dim = 3;
    s.env.arms = 4;
    s.policies = names;
    s.n_policies = 1;
    s.horizon = 20;
    s.repeats = 1;
    colb_sim_result *r = NULL;
    char msg[256];
    assert_ok(colb_sim_run(&s, &r, msg, sizeof msg));
    assert_true(isfinite(colb_sim_result_regret(r, 0, 0, 0)));
    colb_sim_result_free(r);
}

/* The incremental aggregates equal a rebuild from the members after every
 * step of runs with many deletions and splits; the naive mode (rebuild at
 * every step) makes the same decisions. */
static void test_aggregates_match_scratch(void **state)
{
    (void)state;
    enum { N = 12, D = 3, K = 8, L = 3, T = 120 };
    for (int g = 0; g < 2; g++) {
        colb_club_graph graph = g ? COLB_CLUB_RANDOM : COLB_CLUB_COMPLETE;
        colb_env *e = make_env(N, L, D, K, 0.3, 5 + (uint64_t)g);
        colb_env *e2 = make_env(N, L, D, K, 0.3, 5 + (uint64_t)g);
        colb_policy *p = make_club(N, D, 0.3, 0.3, graph, 9);
        colb_policy *q = make_club(N, D, 0.3, 0.3, graph, 9);
        assert_ok(colb__club_set_naive(q, 1));
        double e_naive;
        assert_status(colb__club_check(q, &e_naive), COLB_EUNSUP);
        double worst = 0.0;
        size_t splits = 0, comps = 0, n = 0, labels[N];
        assert_ok(colb_policy_clusters(p, labels, &comps));
        for (size_t t = 0; t < T; t++) {
            assert_ok(colb_env_next_round(e));
            assert_ok(colb_env_next_round(e2));
            assert_ok(colb_policy_begin_round(p, colb_env_contexts(e, 0), K));
            assert_ok(colb_policy_begin_round(q, colb_env_contexts(e2, 0), K));
            for (size_t u = 0; u < N; u++) {
                size_t a, b;
                assert_ok(colb_policy_choose(p, u, &a));
                assert_ok(colb_policy_choose(q, u, &b));
                assert_int_equal(a, b);
                assert_ok(colb_policy_observe(p, u, a, colb_env_reward(e, u, a)));
                assert_ok(colb_policy_observe(q, u, b, colb_env_reward(e2, u, b)));
                double err = 1.0;
                assert_ok(colb__club_check(p, &err));
                if (err > worst)
                    worst = err;
                assert_ok(colb_policy_clusters(p, labels, &n));
                splits += n - comps;
                comps = n;
            }
            assert_ok(colb_policy_end_round(p));
            assert_ok(colb_policy_end_round(q));
        }
        if (worst > 1e-9)
            fail_msg("graph %d: incremental aggregates differ by %g (relative)", g, worst);
        /* the run did exercise splits and rebuilds, and components of one
         * user (whose aggregate is the user's own model) */
        assert_true(splits >= 2);
        size_t members[N] = { 0 }, alone = 0;
        for (size_t u = 0; u < N; u++)
            members[labels[u]]++;
        for (size_t k = 0; k < n; k++)
            alone += members[k] == 1;
        assert_true(alone >= 1);
        size_t lq[N], nq = 0;
        assert_ok(colb_policy_clusters(q, lq, &nq));
        assert_int_equal(nq, n);
        assert_true(same_partition(labels, lq, N));
        /* switching back to incremental mode rebuilds the aggregates */
        assert_ok(colb__club_set_naive(q, 0));
        assert_ok(colb__club_check(q, &e_naive));
        assert_true(e_naive < 1e-9);
        colb_policy_free(p);
        colb_policy_free(q);
        colb_env_free(e);
        colb_env_free(e2);
    }
}

/* Two well-separated clusters of 10 users (d = 5, sigma = 0.1): after 300
 * rounds CLUB's components from the complete graph are exactly the true
 * clusters, and from the random graph they never mix clusters. */
static void test_components_converge(void **state)
{
    (void)state;
    enum { N = 20, L = 2, D = 5, K = 10, T = 300 };
    for (int g = 0; g < 2; g++) {
        colb_env *e = make_env(N, L, D, K, 0.1, 2024);
        colb_policy *p = make_club(N, D, 0.2, 0.5, g ? COLB_CLUB_RANDOM : COLB_CLUB_COMPLETE, 4);
        for (size_t t = 0; t < T; t++)
            play_round(p, e, NULL);
        size_t truth[N], got[N], nt = 0, ng = 0;
        assert_ok(colb_env_true_clusters(e, truth, &nt));
        assert_ok(colb_policy_clusters(p, got, &ng));
        assert_int_equal(nt, L);
        if (g == 0 && (ng != L || !same_partition(truth, got, N)))
            fail_msg("complete graph: %zu components (%s), not the %d true clusters", ng,
                     colb_policy_info(p), L);
        /* The sparse random start (p = 0.45 here) may leave a true cluster
         * disconnected once a few of its edges went, and edges never come
         * back; what must hold is that no component mixes true clusters. */
        for (size_t u = 0; u < N; u++)
            for (size_t v = 0; v < N; v++)
                if (got[u] == got[v] && truth[u] != truth[v])
                    fail_msg("graph %d: users %zu and %zu of different clusters share a "
                             "component (%s)", g, u, v, colb_policy_info(p));
        for (size_t u = 0; u < N; u++)
            assert_true(got[u] < ng);
        /* the users' own estimates are near their true parameters */
        double th[D], w[D], dist = 0.0;
        assert_ok(colb_env_theta(e, 0, th));
        assert_ok(colb_policy_user_theta(p, 0, w));
        for (size_t j = 0; j < D; j++)
            dist += (th[j] - w[j]) * (th[j] - w[j]);
        assert_true(sqrt(dist) < 0.3);
        colb_policy_free(p);
        colb_env_free(e);
    }
}

/* The same instance through the simulator, 3 repeats of 300 rounds: CLUB's
 * user-averaged regret is below half of LinUCB-Ind's (measured: about 1.9
 * against 6.6). */
static void test_regret_beats_linucb_ind(void **state)
{
    (void)state;
    colb_sim_spec s;
    colb_sim_spec_default(&s);
    static const char *const names[] = { "club", "linucb-ind" };
    s.env.users = 20;
    s.env.clusters = 2;
    s.env.dim = 5;
    s.env.arms = 10;
    s.env.noise = 0.1;
    s.policies = names;
    s.n_policies = 2;
    s.horizon = 300;
    s.repeats = 3;
    s.seed = 7;
    s.curve_points = 1;
    s.policy.club_own_alpha = 1;
    s.policy.club_alpha = 0.2;
    s.policy.club_alpha2 = 0.5;
    colb_sim_result *r = NULL;
    char msg[256];
    assert_ok(colb_sim_run(&s, &r, msg, sizeof msg));
    double club = 0.0, ind = 0.0;
    for (size_t j = 0; j < 3; j++) {
        club += colb_sim_result_regret(r, 0, j, 0) / 3.0;
        ind += colb_sim_result_regret(r, 1, j, 0) / 3.0;
    }
    colb_sim_result_free(r);
    if (!(club < 0.5 * ind))
        fail_msg("CLUB regret %g is not below half of LinUCB-Ind's %g", club, ind);
}

/* Erdos-Renyi start: p = 3 ln(N) / N, reproducible from the seed. */
static void test_random_graph(void **state)
{
    (void)state;
    const size_t N = 200;
    colb_policy *a = make_club(N, 2, 1.0, 2.0, COLB_CLUB_RANDOM, 77);
    colb_policy *b = make_club(N, 2, 1.0, 2.0, COLB_CLUB_RANDOM, 77);
    colb_policy *c = make_club(N, 2, 1.0, 2.0, COLB_CLUB_RANDOM, 78);
    colb_policy *full = make_club(N, 2, 1.0, 2.0, COLB_CLUB_COMPLETE, 77);
    double pr = 3.0 * log((double)N) / (double)N, pairs = N * (N - 1) / 2.0;
    double mean = pr * pairs, sd = sqrt(pairs * pr * (1.0 - pr)); /* 1582, 38 */
    double ea = (double)colb__club_edges(a);
    assert_true(fabs(ea - mean) < 5.0 * sd);
    assert_int_equal(colb__club_edges(a), colb__club_edges(b));
    assert_true(colb__club_edges(a) != colb__club_edges(c));
    assert_int_equal(colb__club_edges(full), N * (N - 1) / 2);
    double err;
    assert_ok(colb__club_check(a, &err)); /* graph invariants, components */
    assert_ok(colb__club_check(full, &err));
    size_t la[200], lb[200], na = 0, nb = 0;
    assert_ok(colb_policy_clusters(a, la, &na));
    assert_ok(colb_policy_clusters(b, lb, &nb));
    assert_int_equal(na, nb);
    assert_true(same_partition(la, lb, N));
    assert_non_null(strstr(colb_policy_info(a), "graph=random"));
    colb_policy_free(a);
    colb_policy_free(b);
    colb_policy_free(c);
    colb_policy_free(full);
}

static void test_tune(void **state)
{
    (void)state;
    colb_sim_spec s;
    colb_sim_spec_default(&s);
    s.env.users = 8;
    s.env.clusters = 2;
    s.env.dim = 3;
    s.env.arms = 5;
    s.seed = 3;
    const double al[] = { 0.05, 0.5 }, al2[] = { 0.3, 3.0 };
    double a = -1, a2 = -1, b = -1, b2 = -1;
    char msg[256];
    assert_ok(colb_club_tune(&s, al, 2, al2, 2, 60, 2, &a, &a2, msg, sizeof msg));
    assert_true(a == al[0] || a == al[1]);
    assert_true(a2 == al2[0] || a2 == al2[1]);
    s.threads = 2; /* results do not depend on the number of threads */
    assert_ok(colb_club_tune(&s, al, 2, al2, 2, 60, 2, &b, &b2, msg, sizeof msg));
    assert_true(a == b && a2 == b2);
    /* a one-point grid returns that point */
    assert_ok(colb_club_tune(&s, al + 1, 1, al2, 1, 10, 1, &b, &b2, msg, sizeof msg));
    assert_true(b == al[1] && b2 == al2[0]);
    /* the default grid constants compile as initialisers */
    static const double da[] = COLB_CLUB_TUNE_ALPHAS, da2[] = COLB_CLUB_TUNE_ALPHA2S;
    assert_int_equal(sizeof da / sizeof da[0], COLB_CLUB_TUNE_N_ALPHAS);
    assert_int_equal(sizeof da2 / sizeof da2[0], COLB_CLUB_TUNE_N_ALPHA2S);
    /* NULL grids of length 0 are the default grid */
    assert_ok(colb_club_tune(&s, da, COLB_CLUB_TUNE_N_ALPHAS, da2, COLB_CLUB_TUNE_N_ALPHA2S, 8, 1,
                             &a, &a2, msg, sizeof msg));
    assert_ok(colb_club_tune(&s, NULL, 0, NULL, 0, 8, 1, &b, &b2, msg, sizeof msg));
    assert_true(a == b && a2 == b2);
    assert_status(colb_club_tune(&s, NULL, 1, NULL, 0, 8, 1, &b, &b2, msg, sizeof msg), COLB_EINVAL);
    /* a grid whose number of points overflows a size_t (2^33 x 2^31 wrapped
     * to 0 points) is refused before either grid is read */
    assert_status(colb_club_tune(&s, al, (size_t)1 << 33, al2, (size_t)1 << 31, 8, 1, &b, &b2, msg,
                                 sizeof msg),
                  COLB_ERANGE);
    assert_non_null(strstr(msg, "too large"));
    /* bad arguments: outputs untouched */
    const double nan_grid[] = { NAN }, neg[] = { -1.0 }, zero[] = { 0.0 };
    b = 42;
    assert_status(colb_club_tune(&s, nan_grid, 1, al2, 2, 10, 1, &b, &b2, msg, sizeof msg),
                  COLB_ENONFIN);
    assert_status(colb_club_tune(&s, neg, 1, al2, 2, 10, 1, &b, &b2, msg, sizeof msg),
                  COLB_ERANGE);
    assert_status(colb_club_tune(&s, al, 2, zero, 1, 10, 1, &b, &b2, msg, sizeof msg),
                  COLB_ERANGE);
    assert_status(colb_club_tune(&s, al, 0, al2, 2, 10, 1, &b, &b2, msg, sizeof msg),
                  COLB_EINVAL);
    assert_status(colb_club_tune(NULL, al, 2, al2, 2, 10, 1, &b, &b2, msg, sizeof msg),
                  COLB_EINVAL);
    assert_true(b == 42);
}

/* A tuning runs min(threads, grid points) points at once, each holding an
 * environment and a policy: that is what its budget check counts. It
 * counted one (each point's spec is a one-thread run), so -j 4 took four
 * times the memory the budget was checked for. */
static void test_tune_budget(void **state)
{
    (void)state;
    colb_sim_spec s;
    colb_sim_spec_default(&s);
    s.env.users = 3000;
    s.env.clusters = 3;
    s.env.dim = 10;
    s.env.arms = 5;
    const char *pol[] = { "linucb-ind" };
    colb_sim_spec one = s;
    one.policies = pol;
    one.n_policies = 1;
    one.horizon = 4;
    one.repeats = 1;
    one.curve_points = 1;
    one.threads = 1;
    double need = 0;
    assert_ok(colb_sim_memory(&one, &need));
    s.max_memory = (size_t)(2.5 * need);
    const double al[] = { 0.1, 0.2, 0.4, 0.8 };
    double a = -1;
    char msg[512];
    s.threads = 1;
    if (colb_width_tune(&s, "linucb-ind", al, 4, 4, 1, &a, msg, sizeof msg) != COLB_OK)
        fail_msg("one point at a time: %s", msg);
    s.threads = 2;
    assert_ok(colb_width_tune(&s, "linucb-ind", al, 4, 4, 1, &a, msg, sizeof msg));
    s.threads = 4;
    a = -1;
    assert_status(colb_width_tune(&s, "linucb-ind", al, 4, 4, 1, &a, msg, sizeof msg), COLB_ENOMEM);
    if (!strstr(msg, "width_tune(linucb-ind): the burn-in of 4 grid points, 4 at a time") || !strstr(msg, "budget"))
        fail_msg("'%s'", msg);
    assert_true(a == -1);
    double b2 = -1;
    const double al2[] = { 1.0 };
    const char *club[] = { "club" };
    one.policies = club;
    assert_ok(colb_sim_memory(&one, &need));
    s.max_memory = (size_t)(2.5 * need);
    assert_status(colb_club_tune(&s, al, 4, al2, 1, 4, 1, &a, &b2, msg, sizeof msg), COLB_ENOMEM);
    assert_non_null(strstr(msg, "club_tune: the burn-in of 4 grid points, 4 at a time"));
}

/* The pruned grid search (tune.c) chooses what an exhaustive one chooses:
 * every point of the default grid scored by colb_sim_run, the least score
 * (first in grid order on a tie), on 1 and 2 threads. */
static void test_tune_equals_exhaustive(void **state)
{
    (void)state;
    colb_sim_spec s;
    colb_sim_spec_default(&s);
    s.env.users = 12;
    s.env.clusters = 3;
    s.env.dim = 4;
    s.env.arms = 6;
    s.seed = 11;
    static const double al[] = COLB_CLUB_TUNE_ALPHAS, al2[] = COLB_CLUB_TUNE_ALPHA2S;
    enum { NA = COLB_CLUB_TUNE_N_ALPHAS, NA2 = COLB_CLUB_TUNE_N_ALPHA2S, ROUNDS = 80, REPS = 2 };
    const char *names[] = { "club" };
    colb_sim_spec e = s;
    e.policies = names;
    e.n_policies = 1;
    e.horizon = ROUNDS;
    e.repeats = REPS;
    e.seed = s.seed ^ COLB_CLUB_TUNE_SEED_XOR;
    e.curve_points = 1;
    double best = 0.0, ba = -1, ba2 = -1;
    char msg[256];
    for (size_t g = 0; g < NA * NA2; g++) {
        e.policy.club_alpha = al[g / NA2];
        e.policy.club_alpha2 = al2[g % NA2];
        colb_sim_result *res;
        assert_ok(colb_sim_run(&e, &res, msg, sizeof msg));
        double sum = 0.0;
        for (size_t r = 0; r < REPS; r++)
            sum += colb_sim_result_regret(res, 0, r, 0);
        colb_sim_result_free(res);
        if (g == 0 || sum / REPS < best) {
            best = sum / REPS;
            ba = al[g / NA2];
            ba2 = al2[g % NA2];
        }
    }
    for (size_t th = 1; th <= 2; th++) {
        double a = -1, a2 = -1;
        s.threads = th;
        assert_ok(colb_club_tune(&s, al, NA, al2, NA2, ROUNDS, REPS, &a, &a2, msg, sizeof msg));
        assert_true(a == ba && a2 == ba2);
    }
}

/* Arms of club with Thompson sampling over T rounds of one user on
 * contexts of +-1e6 drawn from (seed), with lambda = 1e-6; saved and loaded
 * before round `cut` (none: -1). */
static void ts_arms(uint64_t seed, int cut, size_t *arms, int T)
{
    enum { D = 5, K = 7 };
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = 1;
    pp.dim = D;
    pp.horizon = (size_t)T;
    pp.learner.lambda = 1e-6;
    pp.sampling = COLB_SAMPLING_TS;
    colb_policy *p = NULL;
    char msg[256];
    assert_ok(colb_policy_create("club", &pp, &p, msg, sizeof msg));
    colb_rng r;
    colb_rng_seed(&r, seed, 0);
    static unsigned char buf[1 << 16];
    for (int t = 0; t < T; t++) {
        if (t == cut) {
            size_t len;
            colb_policy *q = NULL;
            assert_ok(colb_policy_save_buffer(p, buf, sizeof buf, &len, msg, sizeof msg));
            assert_ok(colb_policy_load_buffer(buf, len, NULL, &q, msg, sizeof msg));
            colb_policy_free(p);
            p = q;
        }
        double X[K * D];
        for (int i = 0; i < K * D; i++)
            X[i] = colb_rng_below(&r, 2) ? 1e6 : -1e6;
        assert_ok(colb_policy_begin_round(p, X, K));
        assert_ok(colb_policy_choose(p, 0, &arms[t]));
        assert_ok(colb_policy_observe(p, 0, arms[t], 0.0));
        assert_ok(colb_policy_end_round(p));
    }
    colb_policy_free(p);
}

/* A saved and loaded club continues bit for bit under Thompson sampling
 * too: on contexts so extreme that A's factorisation fails, the draw falls
 * back to V, which held a user's deferred contexts only after a load (the
 * run without one drew from a V without them, and chose other arms). */
static void test_ts_save_load_continues(void **state)
{
    (void)state;
    enum { T = 40 };
    for (uint64_t seed = 1; seed <= 4; seed++) {
        size_t a[T], b[T];
        ts_arms(seed, -1, a, T);
        for (int cut = 1; cut < 8; cut++) {
            ts_arms(seed, cut, b, T);
            for (int t = 0; t < T; t++)
                if (a[t] != b[t])
                    fail_msg("seed %llu, saved and loaded before round %d: round %d plays arm %zu, %zu without",
                             (unsigned long long)seed, cut, t, b[t], a[t]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_parameters),
        cmocka_unit_test(test_tune_equals_exhaustive),
        cmocka_unit_test(test_edge_rule_hand_cases),
        cmocka_unit_test(test_edge_rule_in_policy),
        cmocka_unit_test(test_edge_scan_matches_rule),
        cmocka_unit_test(test_certified_scan_matches_rule),
        cmocka_unit_test(test_round_robin_serves_every_user),
        cmocka_unit_test(test_aggregates_match_scratch),
        cmocka_unit_test(test_components_converge),
        cmocka_unit_test(test_regret_beats_linucb_ind),
        cmocka_unit_test(test_random_graph),
        cmocka_unit_test(test_tune),
        cmocka_unit_test(test_tune_budget),
        cmocka_unit_test(test_ts_save_load_continues),
    };
    return cmocka_run_group_tests_name("club", tests, NULL, NULL);
}
