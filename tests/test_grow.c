/* test_grow.c - arrays that grow without moving (colb__grow_bytes) and the
 * ridge bank that uses them: contents kept through every kind of growth,
 * and a bank grown in steps equal, model for model, to one made whole. */
#include "testutil.h"

#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include "core/memory.h"
#include "linalg/ridge.h"

/* bytes [from, to) of p hold the pattern of their offsets */
static void fill(unsigned char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        p[i] = (unsigned char)(i * 131 + (i >> 12));
}

static int filled(const unsigned char *p, size_t to)
{
    for (size_t i = 0; i < to; i++)
        if (p[i] != (unsigned char)(i * 131 + (i >> 12)))
            return 0;
    return 1;
}

/* From malloc's below 1 MiB, into a mapping, in place inside it, and moved
 * again beyond it: the contents stay, the pointer only changes where the
 * contract says it may. */
static void test_grow_bytes_keeps_contents(void **state)
{
    (void)state;
    size_t reserved = 0, used = 1000;
    unsigned char *p = malloc(used);
    assert_non_null(p);
    fill(p, 0, used);

    assert_int_equal(colb__grow_bytes(&p, &reserved, used, 200000), 0); /* small: realloc */
    assert_int_equal(reserved, 0);
    assert_true(filled(p, used));
    fill(p, used, 200000);
    used = 200000;

    assert_int_equal(colb__grow_bytes(&p, &reserved, used, 3u << 20), 0); /* into a mapping */
    struct rlimit as;
    int limited = getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY;
    assert_true(reserved >= (limited ? (size_t)3 << 20 : (size_t)256 << 20)); /* room, unless limited */
    assert_true(filled(p, used));
    fill(p, used, 3u << 20);
    used = 3u << 20;

    unsigned char *at = p;
    size_t res = reserved;
    assert_int_equal(colb__grow_bytes(&p, &reserved, used, reserved), 0); /* in place, to the end */
    assert_ptr_equal(p, at);
    assert_int_equal(reserved, res);
    assert_true(filled(p, used));
    if (reserved > used)
        p[reserved - 1] = 7; /* the whole reservation is writable */

    size_t big = reserved + 4096;
    assert_int_equal(colb__grow_bytes(&p, &reserved, used, big), 0); /* beyond: moved, kept */
    assert_true(reserved >= (limited ? big : 4 * big - 4096));
    assert_true(filled(p, used));
    p[big - 1] = 7;
    colb__grow_free(p, reserved);
    colb__grow_free(NULL, 0);
}

/* A bank of d = 15 grown from 3 models to 1,200 in steps (its V and A
 * cross 1 MiB on the way and leave malloc), with updates of the models
 * present between the steps, equals, model for model and bit for bit, a
 * bank of 1,200 made at once that had the same updates. */
static void test_ridge_grown_in_steps(void **state)
{
    (void)state;
    const size_t d = 15, N = 1200, len = colb__ridge_model_len(15);
    colb_learner_params lp;
    colb_learner_params_default(&lp);
    colb__ridge grown, whole;
    assert_ok(colb__ridge_init(&grown, 3, d, &lp));
    assert_ok(colb__ridge_init(&whole, N, d, &lp));
    double x[15];
    uint64_t s = 88172645463325252ULL;
    for (size_t n = 3; n <= N; n += n < N - 150 ? 150 : N - n) {
        if (n > grown.n) {
            assert_ok(colb__ridge_grow(&grown, n));
        }
        for (size_t t = 0; t < 2 * n; t++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            size_t i = (size_t)(s % n);
            for (size_t j = 0; j < d; j++)
                x[j] = (double)((s >> (j + 3)) % 1000) / 1000.0 - 0.5;
            double y = (double)(s % 7) / 7.0;
            colb__ridge_update(&grown, i, x, y, 1.0);
            colb__ridge_update(&whole, i, x, y, 1.0);
        }
        if (n == N)
            break;
    }
    assert_true(grown.reserved[0] > 0 && grown.reserved[1] > 0); /* V and A left malloc */
    double *a = malloc(2 * len * sizeof(double));
    assert_non_null(a);
    uint64_t ia[2], ib[2];
    for (size_t i = 0; i < N; i++) {
        colb__ridge_export(&grown, i, a, ia);
        colb__ridge_export(&whole, i, a + len, ib);
        if (memcmp(a, a + len, len * sizeof(double)) || memcmp(ia, ib, sizeof ia))
            fail_msg("model %zu differs between the grown bank and the whole one", i);
    }
    free(a);
    colb__ridge_free(&grown);
    colb__ridge_free(&whole);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_bytes_keeps_contents),
        cmocka_unit_test(test_ridge_grown_in_steps),
    };
    return cmocka_run_group_tests_name("grow", tests, NULL, NULL);
}
