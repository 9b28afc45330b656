/* test_locb.c - LOCB's neighbourhood aggregates (src/policies/locb.c): one
 * aggregate per member set, shared by the neighbourhoods with the same
 * members. After every step of fixed-seed runs with joins and leaves, on
 * every kernel path, each aggregate equals its members' data summed
 * directly (V, b, the count; A V = I; theta = A b) and the sharing follows
 * the member sets exactly (colb__policy_state_check); a snapshot taken
 * mid-run continues as the uninterrupted run; added users regroup the
 * aggregates. Paths the CPU lacks are skipped with a message. Thompson
 * sampling in SCLUB and LOCB with d above K (their draws' work). */
#include "testutil.h"

#include <string.h>

#include <xxhash.h>

#include "linalg/soa_kernel.h"
#include "policies/policy_impl.h"

static const char *const paths[] = { "portable", "avx2", "avx512" };

static int have(const char *name)
{
    const colb__soa_kernel *k;
    return colb__soa_pick_kernel(name, &k) == COLB_OK;
}

enum { N = 48, D = 6, K = 10, S = 12 };

static void make(colb_env **e, colb_policy **p, size_t T, double noise, int ts)
{
    colb_env_params ep;
    colb_env_params_default(&ep);
    ep.users = N;
    ep.dim = D;
    ep.arms = K;
    ep.clusters = 3;
    ep.noise = noise;
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = D;
    pp.horizon = T;
    pp.seed = 11;
    pp.locb_seeds = S;
    if (ts)
        pp.sampling = COLB_SAMPLING_TS;
    char msg[256];
    assert_ok(colb_env_create(&ep, 5, e, msg, sizeof msg));
    assert_ok(colb_policy_create("locb", &pp, p, msg, sizeof msg));
}

/* One round, users served one by one; the aggregates checked after each
 * step: the worst relative error into *worst, the distinct aggregates of
 * the end of the round returned. */
static size_t round_checked(colb_env *e, colb_policy *p, double *worst)
{
    double err;
    size_t nm = 0;
    assert_ok(colb_env_next_round(e));
    assert_ok(colb_policy_begin_round(p, colb_env_contexts(e, 0), K));
    for (size_t u = 0; u < N; u++) {
        size_t a;
        assert_ok(colb_policy_choose(p, u, &a));
        assert_ok(colb_policy_observe(p, u, a, colb_env_reward(e, u, a)));
        assert_ok(colb__policy_state_check(p, &err, &nm));
        if (!(err <= *worst))
            *worst = err;
    }
    assert_ok(colb_policy_end_round(p));
    return nm;
}

/* Every aggregate against a direct sum of its members' data, after every
 * step, on every path: one aggregate at the start (every neighbourhood is
 * everybody), several while the neighbourhoods separate (users leave and
 * join: a shared aggregate is copied, a set that meets another's takes its
 * aggregate), fewer than the S neighbourhoods at the end (seeds of one
 * cluster share). A noisy instance keeps users moving in and out. */
static void test_aggregates_direct(void **state)
{
    (void)state;
    for (size_t pi = 0; pi < 3; pi++) {
        if (!have(paths[pi])) {
            print_message("skipped: this CPU has no %s\n", paths[pi]);
            continue;
        }
        setenv("COLB_KERNEL", paths[pi], 1);
        for (int noisy = 0; noisy < 2; noisy++) {
            enum { T = 120 };
            colb_env *e;
            colb_policy *p;
            make(&e, &p, T, noisy ? 1.0 : 0.1, 0);
            double worst = 0.0, err;
            size_t nm, most = 0, least = S;
            assert_ok(colb__policy_state_check(p, &err, &nm));
            assert_int_equal(nm, 1);
            for (size_t t = 0; t < T; t++) {
                nm = round_checked(e, p, &worst);
                most = nm > most ? nm : most;
                least = t >= T / 2 && nm < least ? nm : least;
            }
            print_message("%s, noise %s: aggregates within %.1e of a direct sum, %zu at most, "
                          "%zu at the end, %s\n", paths[pi], noisy ? "1.0" : "0.1", worst, most, nm,
                          colb_policy_info(p));
            assert_true(worst < 1e-9);
            assert_true(most > 1);  /* neighbourhoods separated */
            assert_true(least < S); /* and some shared again */
            colb_policy_free(p);
            colb_env_free(e);
        }
    }
    unsetenv("COLB_KERNEL");
}

/* The snapshot of p in a malloc'ed buffer. */
static unsigned char *save(const colb_policy *p, size_t *len)
{
    char msg[256];
    assert_status(colb_policy_save_buffer(p, NULL, 0, len, msg, sizeof msg), COLB_ERANGE);
    unsigned char *buf = malloc(*len);
    assert_non_null(buf);
    assert_ok(colb_policy_save_buffer(p, buf, *len, len, msg, sizeof msg));
    return buf;
}

static colb_policy *load(const unsigned char *buf, size_t len)
{
    colb_policy *q;
    char msg[256];
    assert_ok(colb_policy_load_buffer(buf, len, NULL, &q, msg, sizeof msg));
    return q;
}

/* The data of the bytes field `name` (docs/format.md section 2: type 1,
 * name length, count, name padded to 8, data) in a snapshot, or NULL. */
static unsigned char *field(unsigned char *buf, size_t len, const char *name, uint64_t count)
{
    uint32_t n = (uint32_t)strlen(name), type = 1;
    for (size_t o = 16; o + 16 + n <= len; o += 8)
        if (!memcmp(buf + o, &type, 4) && !memcmp(buf + o + 4, &n, 4) &&
            !memcmp(buf + o + 8, &count, 8) && !memcmp(buf + o + 16, name, n))
            return buf + o + 16 + (n + 7) / 8 * 8;
    return NULL;
}

/* The check finds a wrong aggregate: a snapshot whose membership matrix
 * says that a user with data left a neighbourhood while the stored
 * aggregate still holds that user's data (the checksum made right again)
 * loads, and its check reports the aggregate off its members' sum. The
 * snapshot as saved checks clean. */
static void test_state_check_fails(void **state)
{
    (void)state;
    colb_env *e;
    colb_policy *p;
    make(&e, &p, 40, 0.1, 0);
    double worst = 0.0, err;
    size_t nm, len;
    for (size_t t = 0; t < 10; t++)
        round_checked(e, p, &worst);
    assert_true(worst < 1e-9);
    unsigned char *buf = save(p, &len);
    colb_policy *q = load(buf, len);
    assert_ok(colb__policy_state_check(q, &err, &nm));
    assert_true(err < 1e-9);
    colb_policy_free(q);
    unsigned char *m = field(buf, len, "member", (uint64_t)S * N);
    assert_non_null(m);
    size_t s = 0, i = 0;
    while (s < S && !m[s * N + i]) /* a membership to drop: (s, i) */
        if (++i == N) {
            i = 0;
            s++;
        }
    assert_true(s < S);
    m[s * N + i] = 0;
    uint64_t sum = XXH3_64bits(buf, len - 8);
    memcpy(buf + len - 8, &sum, 8);
    q = load(buf, len);
    assert_ok(colb__policy_state_check(q, &err, &nm));
    print_message("neighbourhood %zu without user %zu: the check reports %.3g\n", s, i, err);
    assert_true(err > 1e-3);
    colb_policy_free(q);
    free(buf);
    colb_policy_free(p);
    colb_env_free(e);
}

/* A snapshot taken mid-run loads with the same sharing (the check clean,
 * as many aggregates) and saves again byte for byte (shared aggregates are
 * stored as equal copies); users added online join the neighbourhoods
 * still being refined and the aggregates regroup, still checking clean.
 * (test_snapshot.c continues every policy from its snapshots.) */
static void test_snapshot_and_added_users(void **state)
{
    (void)state;
    for (int ts = 0; ts < 2; ts++) {
        colb_env *e;
        colb_policy *p;
        make(&e, &p, 60, 0.5, ts);
        double worst = 0.0, err;
        size_t nm, nm2, len, len2;
        for (size_t t = 0; t < 25; t++)
            round_checked(e, p, &worst);
        assert_true(worst < 1e-9);
        assert_ok(colb__policy_state_check(p, &err, &nm));
        unsigned char *buf = save(p, &len);
        colb_policy *q = load(buf, len);
        assert_ok(colb__policy_state_check(q, &err, &nm2));
        assert_true(err < 1e-9);
        assert_int_equal(nm, nm2);
        unsigned char *buf2 = save(q, &len2);
        assert_int_equal(len, len2);
        assert_memory_equal(buf, buf2, len);
        assert_ok(colb_policy_add_users(q, 5, NULL));
        assert_ok(colb__policy_state_check(q, &err, &nm2));
        assert_true(err < 1e-9);
        free(buf);
        free(buf2);
        colb_policy_free(q);
        colb_policy_free(p);
        colb_env_free(e);
    }
}

/* Thompson sampling in SCLUB and LOCB with d above K: a draw's work
 * (colb__ts_work(d), O(d^2)) is larger than the scores' (O(d K)); the
 * scratch once held only the latter, and a draw wrote past its end (caught
 * by AddressSanitizer: make sanitize). */
static void test_thompson_d_above_k(void **state)
{
    (void)state;
    enum { TN = 10, TD = 12, TK = 3 };
    const char *names[] = { "sclub", "locb" };
    for (size_t n = 0; n < 2; n++) {
        colb_policy_params pp;
        colb_policy_params_default(&pp);
        pp.users = TN;
        pp.dim = TD;
        pp.horizon = 50;
        pp.sampling = COLB_SAMPLING_TS;
        colb_policy *p = NULL;
        char msg[256];
        if (colb_policy_create(names[n], &pp, &p, msg, sizeof msg) != COLB_OK)
            fail_msg("%s: %s", names[n], msg);
        double X[TK * TD];
        colb_rng g;
        colb_rng_seed(&g, 3, 3);
        for (int t = 0; t < 20; t++) {
            colb_rng_normal_fill(&g, X, TK * TD, 0.3);
            assert_ok(colb_policy_begin_round(p, X, TK));
            for (size_t u = 0; u < TN; u++) {
                size_t arm;
                assert_ok(colb_policy_choose(p, u, &arm));
                assert_true(arm < TK);
                assert_ok(colb_policy_observe(p, u, arm, X[arm * TD] + 0.1 * colb_rng_normal(&g)));
            }
            assert_ok(colb_policy_end_round(p));
        }
        colb_policy_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aggregates_direct),
        cmocka_unit_test(test_state_check_fails),
        cmocka_unit_test(test_snapshot_and_added_users),
        cmocka_unit_test(test_thompson_d_above_k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
