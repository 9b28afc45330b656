/* test_rng.c - xoshiro256++ and SplitMix64 known answers; streams; moments of
 * the samplers. */
#include "testutil.h"

#include <signal.h>
#include <unistd.h>

#include "core/util.h"

static void test_xoshiro_known_answers(void **state)
{
    (void)state;
    /* Outputs of the reference xoshiro256plusplus.c from state {1, 2, 3, 4}. */
    static const uint64_t want[10] = {
        41943041ULL, 58720359ULL, 3588806011781223ULL, 3591011842654386ULL,
        9228616714210784205ULL, 9973669472204895162ULL, 14011001112246962877ULL,
        12406186145184390807ULL, 15849039046786891736ULL, 10450023813501588000ULL };
    const uint64_t s[4] = { 1, 2, 3, 4 };
    colb_rng r;
    assert_ok(colb_rng_set_state(&r, s));
    for (int i = 0; i < 10; i++)
        assert_true(colb_rng_u64(&r) == want[i]);
    const uint64_t zero[4] = { 0, 0, 0, 0 };
    assert_status(colb_rng_set_state(&r, zero), COLB_EINVAL);
}

static void test_splitmix_known_answers(void **state)
{
    (void)state;
    /* Reference SplitMix64 outputs for seed 1234567. */
    static const uint64_t want[5] = { 6457827717110365317ULL, 3203168211198807973ULL,
                                      9817491932198370423ULL, 4593380528125082431ULL,
                                      16408922859458223821ULL };
    uint64_t x = 1234567;
    for (int i = 0; i < 5; i++)
        assert_true(colb__splitmix64(&x) == want[i]);
}

static void test_streams_distinct_and_reproducible(void **state)
{
    (void)state;
    colb_rng a, b, c;
    colb_rng_seed(&a, 42, 0);
    colb_rng_seed(&b, 42, 0);
    colb_rng_seed(&c, 42, 1);
    int same_ab = 1, same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = colb_rng_u64(&a), y = colb_rng_u64(&b), z = colb_rng_u64(&c);
        same_ab &= x == y;
        same_ac += x == z;
    }
    assert_true(same_ab);
    assert_int_equal(same_ac, 0);
    /* (seed, stream) and (seed+1, stream-1) are different streams */
    colb_rng_seed(&a, 7, 3);
    colb_rng_seed(&b, 8, 2);
    assert_true(colb_rng_u64(&a) != colb_rng_u64(&b));
    /* jump changes the sequence and is deterministic */
    colb_rng_seed(&a, 1, 1);
    b = a;
    colb_rng_jump(&a);
    colb_rng_jump(&b);
    assert_true(colb_rng_u64(&a) == colb_rng_u64(&b));
}

static void test_uniform_and_below(void **state)
{
    (void)state;
    colb_rng r;
    colb_rng_seed(&r, 2024, 5);
    const int n = 200000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double u = colb_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        s += u;
        s2 += u * u;
    }
    /* mean 1/2 (sd of the mean 0.29/sqrt(n) = 6.5e-4; 5 sd), var 1/12 */
    assert_true(fabs(s / n - 0.5) < 5 * 6.5e-4);
    assert_true(fabs(s2 / n - (s / n) * (s / n) - 1.0 / 12) < 2e-3);

    /* below(7): chi-square over 7 cells, 6 dof: 99.99% quantile is 27.9 */
    long cnt[7] = { 0 };
    for (int i = 0; i < 70000; i++) {
        uint64_t k = colb_rng_below(&r, 7);
        assert_true(k < 7);
        cnt[k]++;
    }
    double chi = 0;
    for (int k = 0; k < 7; k++)
        chi += (cnt[k] - 10000.0) * (cnt[k] - 10000.0) / 10000.0;
    assert_true(chi < 27.9);
    assert_true(colb_rng_below(&r, 0) == 0);
    assert_true(colb_rng_below(&r, 1) == 0);
    /* a bound just above 2^63 exercises the rejection branch */
    uint64_t big = (UINT64_C(1) << 63) + 12345;
    for (int i = 0; i < 1000; i++)
        assert_true(colb_rng_below(&r, big) < big);
}

static void test_normal_moments(void **state)
{
    (void)state;
    colb_rng r;
    colb_rng_seed(&r, 99, 0);
    const int n = 400000;
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
    for (int i = 0; i < n; i++) {
        double z = colb_rng_normal(&r);
        m1 += z;
        m2 += z * z;
        m3 += z * z * z;
        m4 += z * z * z * z;
    }
    m1 /= n; m2 /= n; m3 /= n; m4 /= n;
    /* standard errors: mean 1/sqrt(n)=1.6e-3, var sqrt(2/n)=2.2e-3,
     * skew sqrt(15/n)=6.1e-3, kurt sqrt(96/n)=1.5e-2; tolerance 5 se */
    assert_true(fabs(m1) < 8e-3);
    assert_true(fabs(m2 - 1) < 1.1e-2);
    assert_true(fabs(m3) < 3.1e-2);
    assert_true(fabs(m4 - 3) < 7.7e-2);
}

/* colb_rng_normal_fill (drawn in chunks, two passes each) gives the values
 * of sd * colb_rng_normal, one call per value, bit for bit, and leaves the
 * stream where those calls leave it; lengths around the chunk's 64. */
static void test_normal_fill_is_normal(void **state)
{
    (void)state;
    static const size_t ns[] = { 0, 1, 63, 64, 65, 200 };
    double a[200], b[200];
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        colb_rng r0, r1;
        colb_rng_seed(&r0, 5, t);
        r1 = r0;
        for (size_t i = 0; i < ns[t]; i++)
            a[i] = 0.3 * colb_rng_normal(&r0);
        colb_rng_normal_fill(&r1, b, ns[t], 0.3);
        assert_memory_equal(a, b, ns[t] * sizeof(double));
        assert_true(colb_rng_u64(&r0) == colb_rng_u64(&r1));
    }
}

static void test_sphere(void **state)
{
    (void)state;
    colb_rng r;
    colb_rng_seed(&r, 5, 5);
    enum { D = 15, N = 100000 };
    double x[D], mean[D] = { 0 }, m2[D] = { 0 };
    for (int i = 0; i < N; i++) {
        colb_rng_sphere(&r, x, D);
        double nrm = 0;
        for (int j = 0; j < D; j++) {
            nrm += x[j] * x[j];
            mean[j] += x[j];
            m2[j] += x[j] * x[j];
        }
        assert_close(nrm, 1.0, 1e-12);
    }
    /* E x_j = 0, E x_j^2 = 1/D; sd of coordinate mean = sqrt(1/(D N)) = 8.2e-4 */
    for (int j = 0; j < D; j++) {
        assert_true(fabs(mean[j] / N) < 5 * 8.2e-4);
        assert_true(fabs(m2[j] / N - 1.0 / D) < 3e-3);
    }
}

static void test_sample_distinct(void **state)
{
    (void)state;
    colb_rng r;
    colb_rng_seed(&r, 11, 0);
    size_t work[50], out[20];
    long hits[50] = { 0 };
    for (int rep = 0; rep < 5000; rep++) {
        colb_rng_sample(&r, 50, 20, work, out);
        int seen[50] = { 0 };
        for (int i = 0; i < 20; i++) {
            assert_true(out[i] < 50);
            assert_int_equal(seen[out[i]], 0);
            seen[out[i]] = 1;
            hits[out[i]]++;
        }
    }
    /* each index is drawn with probability 20/50: 2000 of 5000, sd 34.6 */
    for (int i = 0; i < 50; i++)
        assert_true(labs(hits[i] - 2000) < 5 * 35);
}

/* The sphere of dimension 0: nothing written, nothing drawn. */
static int sphere_d0(void)
{
    colb_rng r, r2;
    colb_rng_seed(&r, 3, 1);
    r2 = r;
    double x[2] = { 7.0, 7.0 };
    colb_rng_sphere(&r, x, 0);
    if (x[0] != 7.0 || x[1] != 7.0)
        return 1;
    if (colb_rng_u64(&r) != colb_rng_u64(&r2))
        return 2;
    return 0;
}

static int sample_k_over_n(void)
{
    colb_rng r, r2;
    colb_rng_seed(&r, 3, 2);
    /* k > n draws every index once, as k = n does, and writes nothing past
     * out[n) nor past work[n) */
    enum { n = 5, k = 8, G = 4 };
    const size_t mark = (size_t)0xC01BC01B;
    for (int rep = 0; rep < 200; rep++) {
        size_t work[n + G], out[k + G], work2[n], out2[n];
        for (int i = 0; i < n + G; i++)
            work[i] = mark;
        for (int i = 0; i < k + G; i++)
            out[i] = mark;
        r2 = r;
        colb_rng_sample(&r, n, k, work, out);
        colb_rng_sample(&r2, n, n, work2, out2);
        int seen[n] = { 0 };
        for (int i = 0; i < n; i++) {
            if (out[i] >= n || seen[out[i]]++)
                return 3;
            if (out[i] != out2[i])
                return 4;
        }
        for (int i = n; i < k + G; i++)
            if (out[i] != mark)
                return 5;
        for (int i = n; i < n + G; i++)
            if (work[i] != mark)
                return 6;
        if (colb_rng_u64(&r) != colb_rng_u64(&r2))
            return 7;
    }
    /* n = 0: nothing to draw, nothing written */
    size_t none = mark;
    colb_rng_sample(&r, 0, 3, NULL, &none);
    if (none != mark)
        return 8;
    return 0;
}

/* check() in a child bounded by alarm(): an endless loop or a write out of
 * bounds fails the test, not the whole run; its exit code names the failed
 * check. */
static void in_child(int (*check)(void), const char *what)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* a fault ends the child (cmocka's handlers would go on testing in it) */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        signal(SIGILL, SIG_DFL);
        signal(SIGFPE, SIG_DFL);
        alarm(10);
        _exit(check());
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (WIFSIGNALED(st))
        fail_msg("%s: killed by signal %d (%s)", what, WTERMSIG(st),
                 WTERMSIG(st) == SIGALRM ? "it never returned" : "a write out of bounds");
    if (WEXITSTATUS(st))
        fail_msg("%s: check %d failed", what, WEXITSTATUS(st));
}

static void test_sphere_d0(void **state)
{
    (void)state;
    in_child(sphere_d0, "colb_rng_sphere with d = 0");
}

static void test_sample_k_over_n(void **state)
{
    (void)state;
    in_child(sample_k_over_n, "colb_rng_sample with k > n");
}

/* A NULL generator or output array (colb/rng.h): no crash, nothing drawn
 * or written; the integer draws give 0, the real draws NaN; set_state says
 * COLB_EINVAL. Every call used to dereference it. */
static int null_arguments(void)
{
    colb_rng_seed(NULL, 1, 2);
    colb_rng_jump(NULL);
    if (colb_rng_u64(NULL) != 0 || colb_rng_below(NULL, 10) != 0)
        return 1;
    if (!isnan(colb_rng_uniform(NULL)) || !isnan(colb_rng_normal(NULL)))
        return 2;
    double out[3] = { 7, 7, 7 };
    size_t work[4], idx[2] = { 9, 9 };
    colb_rng r, before;
    colb_rng_seed(&r, 3, 4);
    before = r;
    colb_rng_normal_fill(NULL, out, 3, 1.0);
    colb_rng_sphere(NULL, out, 3);
    colb_rng_sample(NULL, 4, 2, work, idx);
    if (out[0] != 7 || out[1] != 7 || out[2] != 7 || idx[0] != 9 || idx[1] != 9)
        return 3;
    colb_rng_normal_fill(&r, NULL, 3, 1.0);
    colb_rng_sphere(&r, NULL, 3);
    colb_rng_sample(&r, 4, 2, NULL, idx);
    colb_rng_sample(&r, 4, 2, work, NULL);
    if (memcmp(&r, &before, sizeof r) || idx[0] != 9)
        return 4; /* nothing drawn */
    const uint64_t s[4] = { 1, 2, 3, 4 };
    if (colb_rng_set_state(NULL, s) != COLB_EINVAL || colb_rng_set_state(&r, NULL) != COLB_EINVAL)
        return 5;
    return 0;
}

static void test_null_arguments(void **state)
{
    (void)state;
    in_child(null_arguments, "colb_rng calls with NULL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xoshiro_known_answers),
        cmocka_unit_test(test_splitmix_known_answers),
        cmocka_unit_test(test_streams_distinct_and_reproducible),
        cmocka_unit_test(test_uniform_and_below),
        cmocka_unit_test(test_normal_moments),
        cmocka_unit_test(test_normal_fill_is_normal),
        cmocka_unit_test(test_sphere),
        cmocka_unit_test(test_sample_distinct),
        cmocka_unit_test(test_sphere_d0),
        cmocka_unit_test(test_sample_k_over_n),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
