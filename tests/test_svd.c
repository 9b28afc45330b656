/* test_svd.c - the randomized truncated SVD / PCA of a sparse matrix
 * (src/linalg/svd.c) against a dense LAPACK dgesdd of the same (explicitly
 * centred) matrix: singular values to 1e-8 relative, leading left and right
 * subspaces to 1e-8 in the Frobenius norm of the projector difference;
 * the same bits on every kernel path. */
#include "testutil.h"

#include <lapacke.h>

#include "linalg/soa_kernel.h"
#include "linalg/sparse.h"

enum { M = 150, N = 90, R = 8 };

/* A sparse test matrix with a clear spectral gap: sum_{j<R} s_j x_j y_j^T
 * with sparse Gaussian x_j, y_j and s_j = 10 * 0.7^j, plus sparse noise of
 * size 1e-3 on 5% of the entries. Returns the CSR matrix and the dense
 * column-major copy. */
static void make_matrix(uint64_t seed, colb__csr *a, double *dense)
{
    colb_rng r;
    colb_rng_seed(&r, seed, 77);
    memset(dense, 0, sizeof(double) * M * N);
    static double x[R][M], y[R][N];
    for (int j = 0; j < R; j++) {
        for (int i = 0; i < M; i++)
            x[j][i] = colb_rng_uniform(&r) < 0.3 ? colb_rng_normal(&r) : 0.0;
        for (int i = 0; i < N; i++)
            y[j][i] = colb_rng_uniform(&r) < 0.3 ? colb_rng_normal(&r) : 0.0;
        double s = 10.0 * pow(0.7, j);
        for (int c = 0; c < N; c++)
            for (int i = 0; i < M; i++)
                dense[i + c * M] += s * x[j][i] * y[j][c];
    }
    for (int c = 0; c < N; c++)
        for (int i = 0; i < M; i++)
            if (colb_rng_uniform(&r) < 0.05)
                dense[i + c * M] += 1e-3 * colb_rng_normal(&r);
    static size_t ri[M * N], ci[M * N];
    static double v[M * N];
    size_t n = 0;
    for (int i = 0; i < M; i++)
        for (int c = 0; c < N; c++)
            if (dense[i + c * M] != 0.0) {
                ri[n] = (size_t)i;
                ci[n] = (size_t)c;
                v[n] = dense[i + c * M];
                n++;
            }
    assert_ok(colb__csr_from_coo(M, N, n, ri, ci, v, a));
    assert_true(a->nnz < (size_t)(M * N)); /* genuinely sparse */
}

/* ||P_a - P_b||_F for the spans of the first k columns of row-major a, b
 * (rows x ka / rows x kb, orthonormal columns), formed explicitly. */
static double proj_diff(size_t rows, const double *a, size_t lda, const double *b, size_t ldb,
                        size_t k)
{
    double ss = 0.0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < rows; j++) {
            double pa = 0.0, pb = 0.0;
            for (size_t c = 0; c < k; c++) {
                pa += a[i * lda + c] * a[j * lda + c];
                pb += b[i * ldb + c] * b[j * ldb + c];
            }
            ss += (pa - pb) * (pa - pb);
        }
    return sqrt(ss);
}

static void check_against_dense(int center, size_t k, size_t p, size_t q, uint64_t seed)
{
    colb__csr a;
    static double dense[M * N], ref_u[M * N], ref_vt[N * N], ref_s[N];
    make_matrix(3, &a, dense);
    if (center)
        for (int c = 0; c < N; c++) {
            double mu = 0.0;
            for (int i = 0; i < M; i++)
                mu += dense[i + c * M];
            mu /= M;
            for (int i = 0; i < M; i++)
                dense[i + c * M] -= mu;
        }
    /* dense reference: A = U S V^T, U M x N, VT N x N, column-major */
    assert_int_equal(LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', M, N, dense, M, ref_s, ref_u, M,
                                    ref_vt, N),
                     0);
    /* the test needs a gap after k: check the matrix is as intended */
    assert_true(ref_s[k] < 0.8 * ref_s[k - 1]);

    double s[N], u[M * N], v[N * N], mu[N];
    colb__svd_params sp = { .k = k, .oversample = p, .power_iters = q, .center = center,
                            .seed = seed };
    assert_ok(colb__svd_sparse(&a, &sp, s, u, v, mu));
    for (size_t j = 0; j < k; j++) {
        if (!(fabs(s[j] - ref_s[j]) <= 1e-8 * ref_s[j]))
            fail_msg("center %d: s[%zu] = %.17g, dense %.17g", center, j, s[j], ref_s[j]);
        if (j > 0)
            assert_true(s[j] <= s[j - 1]);
    }
    /* reference bases as row-major M x k and N x k */
    static double ur[M * N], vr[N * N];
    for (int i = 0; i < M; i++)
        for (size_t j = 0; j < k; j++)
            ur[i * k + j] = ref_u[i + j * M];
    for (int i = 0; i < N; i++)
        for (size_t j = 0; j < k; j++)
            vr[i * k + j] = ref_vt[j + (size_t)i * N];
    double du = proj_diff(M, u, k, ur, k, k), dv = proj_diff(N, v, k, vr, k, k);
    if (!(du <= 1e-8 && dv <= 1e-8))
        fail_msg("center %d: projector differences U %.3g, V %.3g", center, du, dv);
    /* every singular vector individually too (the values are distinct) and
     * the sign rule: the largest |v| entry is positive */
    for (size_t j = 0; j < k; j++) {
        double dot = 0.0;
        size_t big = 0;
        for (int i = 0; i < N; i++) {
            dot += v[i * k + j] * vr[i * k + j];
            if (fabs(v[i * k + j]) > fabs(v[big * k + j]))
                big = (size_t)i;
        }
        assert_true(fabs(fabs(dot) - 1.0) < 1e-12);
        assert_true(v[big * k + j] > 0.0);
    }
    /* mu: column means or zeros */
    for (int c = 0; c < N; c++) {
        double m = 0.0;
        for (size_t t = 0; t < a.nnz; t++)
            m += a.col[t] == (size_t)c ? a.val[t] : 0.0;
        assert_close(mu[c], center ? m / M : 0.0, 1e-14);
    }
    colb__csr_free(&a);
}

static void test_uncentred_vs_dense(void **state)
{
    (void)state;
    check_against_dense(0, 5, 10, 4, 1);
}

static void test_centred_vs_dense(void **state)
{
    (void)state;
    check_against_dense(1, 5, 10, 4, 1);
    check_against_dense(1, 5, 10, 4, 987654321); /* another seed */
    check_against_dense(1, 3, 10, 4, 2);
}

static void test_deterministic(void **state)
{
    (void)state;
    colb__csr a;
    static double dense[M * N];
    make_matrix(3, &a, dense);
    double s1[4], s2[4], u1[M * 4], u2[M * 4], v1[N * 4], v2[N * 4];
    colb__svd_params sp = { .k = 4, .oversample = 10, .power_iters = 4, .center = 1, .seed = 5 };
    assert_ok(colb__svd_sparse(&a, &sp, s1, u1, v1, NULL));
    assert_ok(colb__svd_sparse(&a, &sp, s2, u2, v2, NULL));
    assert_memory_equal(s1, s2, sizeof s1);
    assert_memory_equal(u1, u2, sizeof u1);
    assert_memory_equal(v1, v2, sizeof v1);
    /* outputs are optional */
    assert_ok(colb__svd_sparse(&a, &sp, NULL, NULL, NULL, NULL));
    colb__csr_free(&a);
}

/* The same bits on every kernel path the CPU runs (COLB_KERNEL, as a user
 * would select it): the SVD's dense steps are the kernels' syr_n and colsum,
 * bit for bit the scalar loops, and the rest is scalar code in one order. So
 * Last.FM's features do not depend on the machine. */
static void test_same_bits_every_path(void **state)
{
    (void)state;
    colb__csr a;
    static double dense[M * N];
    make_matrix(7, &a, dense);
    enum { K = 5 };
    static const char *paths[] = { "portable", "avx2", "avx512" };
    double s0[K], u0[M * K], v0[N * K], s1[K], u1[M * K], v1[N * K];
    colb__svd_params sp = { .k = K, .oversample = 10, .power_iters = 4, .center = 1, .seed = 3 };
    int ran = 0;
    for (size_t i = 0; i < 3; i++) {
        const colb__soa_kernel *k;
        if (colb__soa_pick_kernel(paths[i], &k) != COLB_OK)
            continue; /* a path this CPU cannot run */
        setenv("COLB_KERNEL", paths[i], 1);
        assert_ok(colb__svd_sparse(&a, &sp, ran ? s1 : s0, ran ? u1 : u0, ran ? v1 : v0, NULL));
        if (ran) {
            assert_memory_equal(s0, s1, sizeof s0);
            assert_memory_equal(u0, u1, sizeof u0);
            assert_memory_equal(v0, v1, sizeof v0);
        }
        ran++;
    }
    unsetenv("COLB_KERNEL");
    assert_true(ran >= 1);
    colb__csr_free(&a);
}

static void test_exact_low_rank(void **state)
{
    (void)state;
    /* rank 2 (4 x 3) with l = min(m, n): Householder fallback path; exact */
    const size_t ri[] = { 0, 0, 1, 2, 2, 3 };
    const size_t ci[] = { 0, 1, 2, 0, 1, 2 };
    const double v[] = { 3, 4, 2, 3, 4, 2 };
    /* rows (3,4,0), (0,0,2), (3,4,0), (0,0,2): singular values 5 sqrt 2, 2 sqrt 2, 0 */
    colb__csr a;
    assert_ok(colb__csr_from_coo(4, 3, 6, ri, ci, v, &a));
    double s[3];
    colb__svd_params sp = { .k = 3, .oversample = 10, .power_iters = 2, .center = 0, .seed = 9 };
    assert_ok(colb__svd_sparse(&a, &sp, s, NULL, NULL, NULL));
    assert_close(s[0], 5 * sqrt(2.0), 1e-14);
    assert_close(s[1], 2 * sqrt(2.0), 1e-14);
    assert_true(fabs(s[2]) < 1e-13);
    colb__csr_free(&a);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    const size_t ri[] = { 0 }, ci[] = { 1 };
    const double v[] = { 1 };
    colb__csr a;
    assert_ok(colb__csr_from_coo(3, 2, 1, ri, ci, v, &a));
    colb__svd_params sp = { .k = 0, .oversample = 10, .power_iters = 4, .center = 1, .seed = 1 };
    double s[3];
    assert_status(colb__svd_sparse(&a, &sp, s, NULL, NULL, NULL), COLB_ERANGE);
    sp.k = 3;
    assert_status(colb__svd_sparse(&a, &sp, s, NULL, NULL, NULL), COLB_ERANGE);
    sp.k = 2;
    assert_ok(colb__svd_sparse(&a, &sp, s, NULL, NULL, NULL));
    assert_status(colb__svd_sparse(NULL, &sp, s, NULL, NULL, NULL), COLB_EINVAL);
    assert_status(colb__svd_sparse(&a, NULL, s, NULL, NULL, NULL), COLB_EINVAL);
    a.val[0] = NAN;
    assert_status(colb__svd_sparse(&a, &sp, s, NULL, NULL, NULL), COLB_ENONFIN);
    colb__csr_free(&a);
    /* finite entries whose products overflow: an error, not NaN outputs */
    const size_t r2[] = { 0, 1, 2, 0 }, c2[] = { 0, 1, 0, 1 };
    const double v2[] = { 1e300, -1e300, 1e300, 1e300 };
    assert_ok(colb__csr_from_coo(3, 2, 4, r2, c2, v2, &a));
    sp.k = 1;
    sp.center = 0;
    assert_status(colb__svd_sparse(&a, &sp, s, NULL, NULL, NULL), COLB_ENUMERIC);
    colb__csr_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uncentred_vs_dense),
        cmocka_unit_test(test_centred_vs_dense),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_same_bits_every_path),
        cmocka_unit_test(test_exact_low_rank),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests_name("svd", tests, NULL, NULL);
}
