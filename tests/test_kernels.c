/* test_kernels.c - the SoA bank (src/linalg/soa_bank.h) and its three
 * kernel paths: each against a direct dense solve, the drift of 10^6
 * Sherman-Morrison updates without V, bit-identical AVX-512 / AVX2 results,
 * the same chosen arms on every path for LinUCB-Ind, CMLB, PMLB, SCLUB and
 * LOCB on fixed-seed instances (selected with COLB_KERNEL, as a user would),
 * deferred updates, the layout-independent model form, COLB_KERNEL errors, the
 * round's carried scores of SCLUB and LOCB (linalg/round_scores.h) against a
 * direct computation and against fresh scoring. Paths the CPU lacks are
 * skipped with a message. */
#include "testutil.h"

#include <lapacke.h>

#include "linalg/dense.h"
#include "linalg/round_scores.h"
#include "linalg/soa_bank.h"
#include "policies/policy_impl.h"

static const char *const paths[] = { "portable", "avx2", "avx512" };

/* colb__argmax over lane l of scores stored K x 8. */
static uint32_t argmax_lane(const double *sc, size_t K, size_t l)
{
    uint32_t best = 0;
    for (size_t k = 1; k < K; k++)
        if (sc[k * 8 + l] > sc[best * 8 + l])
            best = (uint32_t)k;
    return best;
}

/* 1 if the CPU runs kernel `name`. */
static int have(const char *name)
{
    const colb__soa_kernel *k;
    return colb__soa_pick_kernel(name, &k) == COLB_OK;
}

static void test_kernel_names(void **state)
{
    (void)state;
    const colb__soa_kernel *k = NULL;
    assert_status(colb__soa_pick_kernel("sse9", &k), COLB_EINVAL);
    assert_ok(colb__soa_pick_kernel(NULL, &k));
    assert_non_null(k);
    assert_ok(colb__soa_pick_kernel("portable", &k));
    assert_string_equal(k->name, "portable");
    colb_learner_params p;
    colb_learner_params_default(&p);
    colb__soa_bank s;
    assert_status(colb__soa_init(&s, 3, 4, &p, "neon"), COLB_EINVAL);
    colb__soa_free(&s); /* zeroed: harmless */
    /* the policy reports a bad COLB_KERNEL as an error, not a crash */
    setenv("COLB_KERNEL", "bogus", 1);
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = 10;
    pp.dim = 3;
    colb_policy *pol = NULL;
    char msg[256];
    assert_status(colb_policy_create("linucb-ind", &pp, &pol, msg, sizeof msg), COLB_EINVAL);
    assert_null(pol);
    /* every policy that needs the kernel refuses at creation, naming
     * COLB_KERNEL (CMLB said "invalid argument", PMLB "out of memory", and
     * SCLB was created and failed at its first round), and so does a load
     * (cohort's said "invalid argument"); those that need none run */
    size_t labels[10] = { 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 };
    pp.true_cluster = labels;
    pp.n_clusters = 2;
    pp.horizon = 20;
    for (const char *const *n = colb_policy_names(); *n; n++) {
        /* its snapshot, made on the CPU's own path */
        unsetenv("COLB_KERNEL");
        assert_ok(colb_policy_create(*n, &pp, &pol, msg, sizeof msg));
        size_t len = 0;
        colb_policy_save_buffer(pol, NULL, 0, &len, msg, sizeof msg);
        void *snap = malloc(len);
        assert_non_null(snap);
        assert_ok(colb_policy_save_buffer(pol, snap, len, &len, msg, sizeof msg));
        colb_policy_free(pol);
        setenv("COLB_KERNEL", "bogus", 1);
        msg[0] = '\0';
        colb_status st = colb_policy_load_buffer(snap, len, NULL, &pol, msg, sizeof msg);
        free(snap);
        if (st != COLB_OK && (st != COLB_EINVAL || !strstr(msg, "COLB_KERNEL = bogus")))
            fail_msg("%s loaded under COLB_KERNEL=bogus: %s '%s'", *n, colb_status_name(st), msg);
        colb_policy_free(pol);
        msg[0] = '\0';
        st = colb_policy_create(*n, &pp, &pol, msg, sizeof msg);
        if (st != COLB_OK) {
            if (st != COLB_EINVAL || !strstr(msg, "COLB_KERNEL = bogus"))
                fail_msg("%s under COLB_KERNEL=bogus: %s '%s'", *n, colb_status_name(st), msg);
            assert_null(pol);
            continue;
        }
        const double X[6] = { 1, 0, 0, 0, 1, 0 };
        size_t arms[10];
        double y[10] = { 0 };
        if (colb_policy_begin_round(pol, X, 2) != COLB_OK || colb_policy_choose_all(pol, arms) != COLB_OK ||
            colb_policy_observe_all(pol, arms, y) != COLB_OK || colb_policy_end_round(pol) != COLB_OK)
            fail_msg("%s: created under COLB_KERNEL=bogus, then a round failed: %s", *n,
                     colb_policy_last_error(pol));
        colb_policy_free(pol);
    }
    pol = NULL;
    /* colb_kernel_path: the path a policy would use, or NULL */
    assert_null(colb_kernel_path());
    setenv("COLB_KERNEL", "portable", 1);
    assert_string_equal(colb_kernel_path(), "portable");
    unsetenv("COLB_KERNEL");
    assert_ok(colb__soa_pick_kernel(NULL, &k));
    assert_string_equal(colb_kernel_path(), k->name);
    setenv("COLB_KERNEL", "", 1);
    assert_string_equal(colb_kernel_path(), k->name);
    unsetenv("COLB_KERNEL");
}

/* colb__soa_choose_one's score of x (d) for the packed Ap and theta with
 * width wd, in its scalar order: sum_e Ap[e] Q_e in e order (each product
 * rounded), theta . x in order. */
static double lane_score(const double *Ap, const double *th, double wd, const double *x, size_t d)
{
    double q = 0.0, m = 0.0;
    for (size_t row = 0, e = 0; row < d; row++) {
        q += Ap[e++] * (x[row] * x[row]);
        for (size_t c = row + 1; c < d; c++)
            q += Ap[e++] * ((2.0 * x[row]) * x[c]);
    }
    for (size_t j = 0; j < d; j++)
        m += th[j] * x[j];
    return m + wd * sqrt(q > 0.0 ? q : 0.0);
}

/* n models fed random data; every path against a dense solve of each. */
static void test_against_dense(void **state)
{
    (void)state;
    enum { n = 13, d = 6, T = 40, K = 7 };
    colb_learner_params p;
    colb_learner_params_default(&p);
    p.lambda = 0.8;
    static double X[T][K * d], y[T][n], t0[d];
    colb_rng r;
    colb_rng_seed(&r, 99, 0);
    colb_rng_normal_fill(&r, &X[0][0], T * K * d, 1.0);
    colb_rng_normal_fill(&r, &y[0][0], T * n, 1.0);
    colb_rng_normal_fill(&r, t0, d, 0.3);
    for (size_t pi = 0; pi < 3; pi++) {
        if (!have(paths[pi])) {
            print_message("skipped: this CPU has no %s\n", paths[pi]);
            continue;
        }
        colb__soa_bank s;
        assert_ok(colb__soa_init(&s, n, d, &p, paths[pi]));
        colb__soa_set_prior(&s, t0);
        assert_ok(colb__soa_reserve(&s, K));
        static double V[n][d * d], b[n][d];
        memset(V, 0, sizeof V);
        memset(b, 0, sizeof b);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++)
                V[i][j * d + j] = p.lambda;
        for (size_t t = 0; t < T; t++) {
            size_t arms[n];
            assert_ok(colb__soa_prepare(&s, X[t], K));
            colb__soa_choose_all(&s, 0, n, X[t], K, arms, NULL);
            for (size_t i = 0; i < n; i++) {
                /* choose_one scores like the portable kernel */
                double sc[K];
                size_t one = colb__soa_choose_one(&s, i, X[t], K, sc);
                assert_true(one == arms[i] || fabs(sc[one] - sc[arms[i]]) < 1e-12 * fabs(sc[one]));
                /* ... bit for bit (lane_score) */
                double Ap1[d * (d + 1) / 2], th1[d], wd = colb__soa_width(&s, i);
                colb__soa_get_model(&s, i, Ap1, NULL, th1, NULL, NULL);
                for (size_t k = 0; k < K; k++) {
                    double ref = lane_score(Ap1, th1, wd, X[t] + k * d, d);
                    assert_memory_equal(&ref, &sc[k], sizeof ref);
                }
                if ((i + t) % 5 == 0)
                    continue; /* some users not served: partial blocks */
                const double *x = X[t] + arms[i] * d;
                colb__soa_update(&s, i, x, y[t][i], 1.0);
                double pr = 0.0;
                for (size_t j = 0; j < d; j++)
                    pr += x[j] * t0[j];
                for (size_t a = 0; a < d; a++) {
                    b[i][a] += (y[t][i] - pr) * x[a];
                    for (size_t c = 0; c < d; c++)
                        V[i][a * d + c] += x[a] * x[c];
                }
            }
            if (t % 3 == 0) { /* read a model with its update pending */
                double th[d], th2[d];
                colb__soa_theta(&s, 4, th);
                colb__soa_sync(&s, 4);
                colb__soa_theta(&s, 4, th2);
                for (size_t j = 0; j < d; j++)
                    assert_close(th[j], th2[j], 1e-12);
            }
            colb__soa_flush(&s);
        }
        for (size_t i = 0; i < n; i++) {
            double L[d * d], th[d], Ap[d * (d + 1) / 2], Vd[d * d], ld = 0.0, logdet;
            uint64_t cnt;
            memcpy(L, V[i], sizeof L);
            assert_int_equal(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, L, d), 0);
            for (size_t j = 0; j < d; j++)
                ld += 2 * log(L[j * d + j]);
            double ref[d];
            memcpy(ref, b[i], sizeof ref);
            assert_int_equal(LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', d, 1, L, d, ref, 1), 0);
            assert_int_equal(LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', d, L, d), 0);
            colb__soa_get_model(&s, i, Ap, NULL, th, &logdet, &cnt);
            for (size_t a = 0, e = 0; a < d; a++)
                for (size_t c = a; c < d; c++, e++)
                    assert_close(Ap[e], L[c * d + a], 1e-10);
            for (size_t j = 0; j < d; j++)
                assert_close(th[j], ref[j] + t0[j], 1e-10);
            assert_close(logdet, ld, 1e-10);
            assert_ok(colb__soa_V(&s, i, Vd));
            for (size_t j = 0; j < d * d; j++)
                assert_close(Vd[j], V[i][j], 1e-9);
            double work[d * d + 2 * d], ev[d], M[d * d];
            memcpy(M, V[i], sizeof M);
            assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'L', d, M, d, ev), 0);
            assert_close(colb__soa_min_eig_V(&s, i, work), ev[0], 1e-9);
        }
        /* set_model(get_model) is the identity */
        double Ap[d * (d + 1) / 2], bb[d], th[d], ld, th2[d];
        uint64_t cnt;
        colb__soa_get_model(&s, 5, Ap, bb, th, &ld, &cnt);
        colb__soa_set_model(&s, 6, Ap, bb, th, ld, cnt);
        colb__soa_theta(&s, 6, th2);
        assert_memory_equal(th, th2, sizeof th);
        assert_true(s.count[6] == cnt && s.logdet[6] == ld);
        colb__soa_free(&s);
    }
}

/* The kernels directly on one random block: AVX-512 and AVX2 bit-identical,
 * the portable kernel within rounding; d from 1 (the kernels' first-group
 * special cases, below one group of rows) to 15. */
static void paths_agree_on_a_block(size_t d)
{
    enum { DMAX = 15, K = 25, PMAX = DMAX * (DMAX + 1) / 2 };
    size_t P = d * (d + 1) / 2;
    colb_learner_params p;
    colb_learner_params_default(&p);
    colb_rng r;
    colb_rng_seed(&r, 5, 5);
    double X[K * DMAX], sc[3][K * 8];
    colb_rng_normal_fill(&r, X, K * d, 1.0 / sqrt((double)d));
    double A[3][PMAX * 8], th[3][DMAX * 8];
    int ran[3] = { 0 };
    for (size_t pi = 0; pi < 3; pi++) {
        if (!have(paths[pi]))
            continue;
        colb__soa_bank s;
        assert_ok(colb__soa_init(&s, 8, d, &p, paths[pi]));
        assert_ok(colb__soa_prepare(&s, X, K));
        colb_rng rr;
        colb_rng_seed(&rr, 11, 0);
        for (int t = 0; t < 200; t++) {
            for (size_t i = 0; i < 8; i++)
                colb__soa_update(&s, i, X + colb_rng_below(&rr, K) * d, colb_rng_normal(&rr), 1.0);
        }
        double width[8];
        uint32_t best[8];
        for (size_t l = 0; l < 8; l++)
            width[l] = colb__soa_width(&s, l);
        s.kern->choose(s.A, s.theta, width, s.Q, X, d, K, best, sc[pi]);
        for (size_t l = 0; l < 8; l++)
            assert_int_equal(best[l], argmax_lane(sc[pi], K, l));
        memcpy(A[pi], s.A, P * 8 * sizeof(double));
        memcpy(th[pi], s.theta, d * 8 * sizeof(double));
        ran[pi] = 1;
        colb__soa_free(&s);
    }
    if (ran[1] && ran[2]) {
        assert_memory_equal(A[1], A[2], P * 8 * sizeof(double));
        assert_memory_equal(th[1], th[2], d * 8 * sizeof(double));
        assert_memory_equal(sc[1], sc[2], sizeof sc[1]);
    } else {
        print_message("skipped: AVX2 against AVX-512 needs both\n");
    }
    for (size_t pi = 1; pi < 3; pi++) {
        if (!ran[pi])
            continue;
        for (size_t j = 0; j < P * 8; j++)
            assert_close(A[pi][j], A[0][j], 1e-12);
        for (size_t j = 0; j < K * 8; j++)
            assert_close(sc[pi][j], sc[0][j], 1e-12);
    }
}

static void test_paths_agree_on_a_block(void **state)
{
    (void)state;
    const size_t dims[] = { 1, 3, 5, 15 };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        paths_agree_on_a_block(dims[i]);
}

/* colb__soa_choose_one (the kernel's score_lane) on every path, bit for bit
 * the scalar loop, at the sizes where its passes differ: d = 1 .. 520, K from
 * 1 to 70 (a pass of 32 arms, then 8, 16 or 24; padded arms ignored), each
 * model of a block (the lane stride), the argmax the scalar loop's. */
static void test_choose_one_every_path(void **state)
{
    (void)state;
    enum { n = 11, KMAX = 70, DMAX = 520 };
    /* d = 200: passes of 16 arms; 512: of 8; 520: score_one's scalar loop */
    const size_t dims[] = { 1, 2, 6, 15, 25, 200, 512, 520 }, Ks[] = { 1, 3, 8, 25, 32, 33, 57, 70 };
    static double X[KMAX * DMAX], y[n], Ap[DMAX * (DMAX + 1) / 2], th[DMAX];
    colb_learner_params p;
    colb_learner_params_default(&p);
    colb_rng r;
    colb_rng_seed(&r, 2027, 0);
    for (size_t pi = 0; pi < 3; pi++) {
        if (!have(paths[pi]))
            continue;
        for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
            size_t d = dims[di];
            colb__soa_bank s;
            assert_ok(colb__soa_init(&s, n, d, &p, paths[pi]));
            for (size_t t = 0; t < 4; t++) { /* some data, so that A is not diagonal */
                colb_rng_normal_fill(&r, X, n * d, 1.0);
                colb_rng_normal_fill(&r, y, n, 1.0);
                for (size_t i = 0; i < n; i++)
                    colb__soa_update(&s, i, X + i * d, y[i], 1.0);
                colb__soa_flush(&s);
            }
            for (size_t ki = 0; ki < sizeof Ks / sizeof Ks[0]; ki++) {
                size_t K = Ks[ki];
                if (d > 64 && K != 3 && K != 33) /* the large sizes: a pass and a part (time) */
                    continue;
                colb_rng_normal_fill(&r, X, K * d, 1.0);
                for (size_t i = 0; i < n; i++) {
                    double sc[KMAX], wd = colb__soa_width(&s, i);
                    colb__soa_get_model(&s, i, Ap, NULL, th, NULL, NULL);
                    size_t one = colb__soa_choose_one(&s, i, X, K, sc), best = 0;
                    for (size_t k = 0; k < K; k++) {
                        double ref = lane_score(Ap, th, wd, X + k * d, d);
                        if (memcmp(&ref, &sc[k], sizeof ref))
                            fail_msg("%s, d = %zu, K = %zu, model %zu, arm %zu: %.17g against %.17g",
                                     paths[pi], d, K, i, k, sc[k], ref);
                        if (k > 0 && ref > sc[best])
                            best = k;
                    }
                    assert_int_equal(one, best);
                }
            }
            colb__soa_free(&s);
        }
    }
}

/* score_x (one model scored from the transposed contexts, the upper triangle
 * of A read in place with a row stride) against x^T A x summed directly:
 * every path within rounding of it, AVX2 and AVX-512 bit-identical, the
 * argmax that of the scores, the padding columns ignored; score_mq on
 * score_x's means and forms gives score_x's scores bit for bit, a negative
 * form counting as 0. */
static void test_score_x(void **state)
{
    (void)state;
    static const size_t dims[] = { 1, 3, 8, 15, 17, 25 }, arms[] = { 1, 7, 13, 25, 33 };
    colb_rng r;
    colb_rng_seed(&r, 9, 9);
    for (size_t di = 0; di < 6; di++)
        for (size_t ki = 0; ki < 5; ki++) {
            size_t d = dims[di], K = arms[ki], Kp = (K + 7) / 8 * 8, lda = d + 3;
            double *X = malloc(K * d * sizeof(double)), *Xt = malloc(d * Kp * sizeof(double));
            double *A = malloc(d * lda * sizeof(double)), th[32], sc[3][40];
            colb_rng_normal_fill(&r, X, K * d, 1.0);
            colb_rng_normal_fill(&r, th, d, 1.0);
            for (size_t i = 0; i < d; i++) /* symmetric, diagonally dominant */
                for (size_t j = 0; j < lda; j++)
                    A[i * lda + j] = j >= d ? NAN : (i == j ? 2.0 : 0.0);
            for (size_t i = 0; i < d; i++)
                for (size_t j = i + 1; j < d; j++)
                    A[i * lda + j] = A[j * lda + i] = 0.5 * colb_rng_normal(&r) / (double)d;
            colb__soa_transpose(X, K, d, Kp, Xt);
            size_t best[3];
            int ran[3] = { 0 };
            for (size_t pi = 0; pi < 3; pi++) {
                const colb__soa_kernel *k;
                if (colb__soa_pick_kernel(paths[pi], &k) != COLB_OK)
                    continue;
                double mq[2][40], sm[40];
                for (size_t a = 0; a < 40; a++) /* what the kernel leaves unwritten stays NaN */
                    sc[pi][a] = mq[0][a] = mq[1][a] = NAN;
                best[pi] = k->score_x(A, lda, th, 0.7, 1.3, Xt, d, K, Kp, sc[pi],
                                      pi != 2 ? mq[0] : NULL, pi != 2 ? mq[1] : NULL);
                assert_int_equal(best[pi], colb__soa_argmax(sc[pi], K));
                for (size_t a = K; a < Kp; a++) /* the zero columns: +0 on every path */
                    assert_true(sc[pi][a] == 0.0 && !signbit(sc[pi][a]) &&
                                (pi == 2 || (mq[0][a] == 0.0 && !signbit(mq[0][a]) && mq[1][a] == 0.0 &&
                                             !signbit(mq[1][a]))));
                if (pi != 2) { /* the optional means and quadratic forms */
                    for (size_t a = 0; a < K; a++) {
                        double q = mq[1][a] > 0.0 ? mq[1][a] : 0.0;
                        assert_close(sc[pi][a], mq[0][a] + 0.7 * sqrt(q * 1.3), 1e-14);
                    }
                    /* score_mq on them: score_x's own scores, bit for bit */
                    assert_int_equal(k->score_mq(mq[0], mq[1], 0.7, 1.3, K, Kp, sm), best[pi]);
                    assert_memory_equal(sm, sc[pi], K * sizeof(double));
                    mq[1][K - 1] = -1.0; /* a negative form counts as 0 */
                    k->score_mq(mq[0], mq[1], 0.7, 1.3, K, Kp, sm);
                    assert_true(sm[K - 1] == mq[0][K - 1]);
                }
                if (pi != 2) { /* scores NULL: the same means and forms alone */
                    double mq3[2][40];
                    assert_int_equal(k->score_x(A, lda, th, 0.7, 1.3, Xt, d, K, Kp, NULL, mq3[0],
                                                mq3[1]), 0);
                    assert_memory_equal(mq3[0], mq[0], Kp * sizeof(double));
                    /* (mq[1][K - 1] was set to -1 above) */
                    assert_memory_equal(mq3[1], mq[1], (K - 1) * sizeof(double));
                }
                if (pi == 2) { /* avx512's score_mq: avx2's bits, which avx512's score_x has */
                    const colb__soa_kernel *k2;
                    assert_ok(colb__soa_pick_kernel("avx2", &k2));
                    double mq2[2][40], s2[40];
                    k2->score_x(A, lda, th, 0.7, 1.3, Xt, d, K, Kp, s2, mq2[0], mq2[1]);
                    assert_int_equal(k->score_mq(mq2[0], mq2[1], 0.7, 1.3, K, Kp, sm), best[pi]);
                    assert_memory_equal(sm, sc[pi], K * sizeof(double));
                }
                for (size_t a = 0; a < K; a++) {
                    double q = 0.0, m = 0.0;
                    for (size_t i = 0; i < d; i++) {
                        m += th[i] * X[a * d + i];
                        for (size_t j = 0; j < d; j++)
                            q += X[a * d + i] * A[i * lda + j] * X[a * d + j];
                    }
                    assert_close(sc[pi][a], m + 0.7 * sqrt(q * 1.3), 1e-12);
                }
                ran[pi] = 1;
            }
            if (ran[1] && ran[2]) {
                assert_memory_equal(sc[1], sc[2], K * sizeof(double));
                assert_int_equal(best[1], best[2]);
            }
            free(X);
            free(Xt);
            free(A);
        }
}

/* The kernels whose contract is "the same bits as the scalar code" (outer,
 * dist2, dist2_idx, colsum, rank1_sub, ridge_step, ridge_step2) on every path against the
 * portable one, for several d (masked tails, overlapping rows, d < 8, rows
 * of 5 vectors), ridge steps with V and without (a deferred V). */
static void test_exact_kernels(void **state)
{
    (void)state;
    const colb__soa_kernel *ref = &colb__soa_kernel_portable;
    static const size_t dims[] = { 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 25, 31, 33, 40, 57, 64 };
    colb_rng r;
    colb_rng_seed(&r, 8, 8);
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
        size_t d = dims[di], K = 13, ld = 16, P = d * (d + 1) / 2, n = 37;
        double *X = malloc(K * d * sizeof(double)), *Q[2], *Xt[2], *wT = malloc(d * n * sizeof(double));
        double wu[64], out[2][64], x[64];
        size_t idx[21];
        colb_rng_normal_fill(&r, X, K * d, 1.0);
        colb_rng_normal_fill(&r, wT, d * n, 1.0);
        colb_rng_normal_fill(&r, wu, d, 1.0);
        colb_rng_normal_fill(&r, x, d, 0.5);
        for (size_t q = 0; q < 21; q++)
            idx[q] = (q * 7 + 3) % n;
        for (int i = 0; i < 2; i++) {
            Q[i] = malloc(P * ld * sizeof(double));
            Xt[i] = malloc(d * ld * sizeof(double));
        }
        for (size_t pi = 1; pi < 3; pi++) {
            const colb__soa_kernel *k;
            if (colb__soa_pick_kernel(paths[pi], &k) != COLB_OK)
                continue;
            ref->outer(X, K, d, ld, Q[0], Xt[0]);
            k->outer(X, K, d, ld, Q[1], Xt[1]);
            assert_memory_equal(Q[0], Q[1], P * ld * sizeof(double));
            assert_memory_equal(Xt[0], Xt[1], d * ld * sizeof(double));
            /* transpose: every K against ld = K, K rounded up to 8, K + 3
             * (masked rows and columns, padding zeroed over stale values) */
            for (size_t kk = 1; kk <= K; kk++)
                for (size_t v = 0; v < 3; v++) {
                    size_t ldq = v == 0 ? kk : v == 1 ? (kk + 7) / 8 * 8 : kk + 3;
                    double T[2][64 * 16];
                    for (size_t e = 0; e < d * ldq; e++)
                        T[0][e] = T[1][e] = -1.0;
                    ref->transpose(X, kk, d, ldq, T[0]);
                    k->transpose(X, kk, d, ldq, T[1]);
                    assert_memory_equal(T[0], T[1], d * ldq * sizeof(double));
                }
            /* score_ms: the scalar loop's bits (means and forms of any
             * sign, a zero, a NaN form) and its argmax */
            {
                double mq[2][16], sc[2][16];
                colb_rng_normal_fill(&r, mq[0], 16, 1.0);
                colb_rng_normal_fill(&r, mq[1], 16, 1.0);
                mq[1][3] = 0.0;
                mq[1][5] = NAN;
                size_t a0 = ref->score_ms(mq[0], mq[1], 0.7, 1.3, 13, 16, sc[0]);
                size_t a1 = k->score_ms(mq[0], mq[1], 0.7, 1.3, 13, 16, sc[1]);
                assert_int_equal(a0, a1);
                for (size_t e = 0; e < 16; e++) {
                    double want = mq[0][e] + 0.7 * sqrt((mq[1][e] > 0.0 ? mq[1][e] : 0.0) * 1.3);
                    assert_memory_equal(&sc[1][e], &want, sizeof want);
                }
            }
            /* dist2 and dist2_idx on every length (whole and masked blocks
             * of 8 and 32): the scalar loop's bits, nothing written past */
            for (size_t m = 0; m <= n; m++) {
                for (int i = 0; i < 2; i++)
                    for (size_t e = 0; e < 64; e++)
                        out[i][e] = -1.0;
                ref->dist2(wT, n, wu, d, m, out[0]);
                k->dist2(wT, n, wu, d, m, out[1]);
                assert_memory_equal(out[0], out[1], 64 * sizeof(double));
                if (m > 21)
                    continue;
                ref->dist2_idx(wT, n, wu, d, idx, m, out[0]);
                k->dist2_idx(wT, n, wu, d, idx, m, out[1]);
                assert_memory_equal(out[0], out[1], 64 * sizeof(double));
            }
            /* far_bits on n distances (some ties, a NaN) for every length:
             * the scalar rule's bits, high bits clear */
            {
                double dist[64], cb[64], cbu = 0.25;
                uint64_t fb[2][2];
                ref->dist2(wT, n, wu, d, n, dist);
                for (size_t i = 0; i < n; i++) {
                    cb[i] = sqrt(dist[i]) * (0.5 + 0.05 * (double)(i % 21)) - cbu;
                    if (i % 5 == 0) { /* exactly at the threshold: not far */
                        double t = cbu + cb[i];
                        dist[i] = t * t;
                    }
                }
                dist[7] = NAN;
                for (size_t m = 0; m <= n; m++) {
                    memset(fb, 0xa5, sizeof fb);
                    ref->far_bits(dist, cb, cbu, m, fb[0]);
                    k->far_bits(dist, cb, cbu, m, fb[1]);
                    size_t words = (m + 63) / 64, set = 0;
                    assert_memory_equal(fb[0], fb[1], words * sizeof(uint64_t));
                    for (size_t i = 0; i < words * 64; i++) {
                        double t = i < m ? cbu + cb[i] : 0.0;
                        int want = i < m && dist[i] > t * t;
                        assert_int_equal((int)(fb[1][i / 64] >> (i % 64) & 1), want);
                        set += (size_t)want;
                    }
                    if (m == n) /* both outcomes and ties were exercised */
                        assert_true(set > n / 4 && set < n - n / 4);
                }
            }
            /* above_bits on the same values (a NaN, ties at h) for every
             * length and three thresholds: the scalar rule's bits and count */
            {
                double v[64];
                uint64_t ab[2][2];
                ref->dist2(wT, n, wu, d, n, v);
                v[7] = NAN;
                const double hs[3] = { -INFINITY, v[3], v[n / 2] };
                for (size_t hi = 0; hi < 3; hi++)
                    for (size_t m = 0; m <= n; m++) {
                        memset(ab, 0xa5, sizeof ab);
                        size_t c0 = ref->above_bits(v, m, hs[hi], ab[0]);
                        size_t c1 = k->above_bits(v, m, hs[hi], ab[1]);
                        size_t words = (m + 63) / 64, set = 0;
                        assert_memory_equal(ab[0], ab[1], words * sizeof(uint64_t));
                        for (size_t i = 0; i < words * 64; i++) {
                            int want = i < m && v[i] > hs[hi];
                            assert_int_equal((int)(ab[1][i / 64] >> (i % 64) & 1), want);
                            set += (size_t)want;
                        }
                        assert_int_equal(c0, set);
                        assert_int_equal(c1, set);
                    }
            }
            /* bounded: every length, a NaN, an infinity or one entry beyond
             * the bound at each position fails, on every path alike */
            for (size_t m = 0; m <= n; m++) {
                assert_int_equal(k->bounded(wT, m, 10.0), ref->bounded(wT, m, 10.0));
                assert_true(ref->bounded(wT, m, 10.0));
                for (size_t at = 0; at < m; at++) {
                    static const double bad[] = { NAN, INFINITY, -INFINITY, -10.5 };
                    for (int b = 0; b < 4; b++) {
                        double keep = wT[at];
                        wT[at] = bad[b];
                        assert_false(k->bounded(wT, m, 10.0));
                        assert_false(ref->bounded(wT, m, 10.0));
                        wT[at] = keep;
                    }
                }
            }
            /* colsum over the transposed contexts (every n <= ld) and over a
             * symmetric matrix, then rank1_sub on it */
            for (size_t m = 1; m <= ld; m++) {
                ref->colsum(Xt[0], ld, wu, d, m, out[0]);
                k->colsum(Xt[0], ld, wu, d, m, out[1]);
                assert_memory_equal(out[0], out[1], m * sizeof(double));
            }
            {
                double *S[2] = { malloc(d * d * sizeof(double)), malloc(d * d * sizeof(double)) };
                for (size_t i = 0; i < d; i++)
                    for (size_t j = 0; j <= i; j++)
                        S[0][i * d + j] = S[0][j * d + i] = wT[(i * 7 + j) % (d * n)];
                memcpy(S[1], S[0], d * d * sizeof(double));
                ref->colsum(S[0], d, wu, d, d, out[0]);
                k->colsum(S[1], d, wu, d, d, out[1]);
                assert_memory_equal(out[0], out[1], d * sizeof(double));
                for (size_t i = 0; i < d; i++) { /* the row sums, by symmetry */
                    double t = 0.0;
                    for (size_t j = 0; j < d; j++)
                        t += S[0][i * d + j] * wu[j];
                    assert_memory_equal(&t, &out[0][i], sizeof t);
                }
                ref->rank1_sub(S[0], out[0], 0.37, d);
                k->rank1_sub(S[1], out[0], 0.37, d);
                assert_memory_equal(S[0], S[1], d * d * sizeof(double));
                for (size_t i = 0; i < d; i++)
                    for (size_t j = 0; j < i; j++)
                        assert_memory_equal(&S[1][i * d + j], &S[1][j * d + i], sizeof(double));
                free(S[0]);
                free(S[1]);
            }
            /* two models (A symmetric bit for bit), ridge_step and ridge_step2 */
            double *M[3][2][5], u[128], s0[2], s1[2];
            for (int c = 0; c < 3; c++)
                for (int m = 0; m < 2; m++) {
                    M[c][m][0] = calloc(d * d, sizeof(double));
                    M[c][m][1] = calloc(d * d, sizeof(double));
                    for (int v = 2; v < 5; v++)
                        M[c][m][v] = calloc(d, sizeof(double));
                    for (size_t j = 0; j < d; j++) {
                        M[c][m][0][j * d + j] = 1.0 / (1.0 + (double)m);
                        M[c][m][1][j * d + j] = 1.0 + (double)m;
                        M[c][m][4][j] = 0.1 * (double)j;
                    }
                }
            /* ridge_step2 with one observation for both models (CLUB) on
             * even steps, with two (cohort's pairs of users) on odd ones */
            double x2[64];
            for (int t = 0; t < 20; t++) {
                x[t % d] += 0.3;
                for (size_t j = 0; j < d; j++)
                    x2[j] = t % 2 ? x[(j + 1) % d] - 0.2 : x[j];
                const double *const xs[2] = { x, x2 }, ys[2] = { 0.7, t % 2 ? -0.4 : 0.7 };
                /* every third step without model 0's V (CLUB's users defer it) */
                double *V0[3] = { M[0][0][1], M[1][0][1], M[2][0][1] };
                if (t % 3 == 2)
                    for (int c = 0; c < 3; c++)
                        M[c][0][1] = NULL;
                for (int m = 0; m < 2; m++) {
                    s0[m] = ref->ridge_step(M[0][m][0], M[0][m][1], M[0][m][2], M[0][m][3], M[0][m][4],
                                            xs[m], ys[m], 1.5, d, u);
                    s1[m] = k->ridge_step(M[1][m][0], M[1][m][1], M[1][m][2], M[1][m][3], M[1][m][4],
                                          xs[m], ys[m], 1.5, d, u);
                }
                assert_memory_equal(s0, s1, sizeof s0);
                k->ridge_step2(M[2], xs, ys, 1.5, d, u, s1);
                assert_memory_equal(s0, s1, sizeof s0);
                for (int c = 0; c < 3; c++)
                    M[c][0][1] = V0[c];
            }
            for (int c = 1; c < 3; c++)
                for (int m = 0; m < 2; m++) {
                    assert_memory_equal(M[0][m][0], M[c][m][0], d * d * sizeof(double));
                    assert_memory_equal(M[0][m][1], M[c][m][1], d * d * sizeof(double));
                    for (int v = 2; v < 4; v++)
                        assert_memory_equal(M[0][m][v], M[c][m][v], d * sizeof(double));
                }
            for (int c = 0; c < 3; c++)
                for (int m = 0; m < 2; m++)
                    for (int v = 0; v < 5; v++)
                        free(M[c][m][v]);
        }
        for (int i = 0; i < 2; i++) {
            free(Q[i]);
            free(Xt[i]);
        }
        free(X);
        free(wT);
    }
}

/* colb__sym_eigvals (tridiagonal reduction and implicit QL) against
 * LAPACK's dsyev: random symmetric matrices, indefinite and positive
 * definite, d = 1 to 50, and special cases (diagonal, repeated eigenvalues,
 * zero, rank one); every eigenvalue within 1e-12 of the largest |eigenvalue|
 * (both are backward stable: their errors are a few ulps of ||S||). A NaN or
 * an infinity fails. */
/* cholesky_n and chol_fit_n with a different matrix in every lane, on every
 * path against colb__cholesky, colb__cholesky_solve and colb__chol_inv_trace
 * bit for bit (fail, L, ln det, the solution, the trace), d = 1..17 and n =
 * 1..8 (AVX-512's lanes for 4 <= n <= 8, d <= 16, its column kernel and
 * the scalar code elsewhere): well-conditioned, near-singular, scaled by
 * powers of two whose pivots' product leaves [2^-500, 2^500] (ln det's
 * exponent term nonzero: an FMA contracted there, as clang's default
 * -ffp-contract=on did in the ISA files, changes its last bit), with
 * subnormal entries, and failing ones (a NaN or infinite entry, a negative
 * or zero pivot) between them. */
static void chol_lane_matrix(colb_rng *r, double *S, size_t d, int kind)
{
    double G[17 * 17], D[17];
    size_t rank = kind == 1 && d > 1 ? d - 1 : d;
    colb_rng_normal_fill(r, G, d * d, 1.0);
    for (size_t i = 0; i < d; i++)
        D[i] = kind == 2   ? ldexp(1.0, (int)colb_rng_below(r, 600) - 300)
               : kind == 3 ? ldexp(1.0, 250 + (int)colb_rng_below(r, 100))
               : kind == 4 ? ldexp(1.0, -500 - (int)colb_rng_below(r, 40))
                           : 1.0;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j <= i; j++) {
            double s = 0.0;
            for (size_t k = 0; k < rank; k++)
                s += G[i * d + k] * G[j * d + k];
            if (i == j)
                s += kind == 1 ? 1e-12 * colb_rng_uniform(r) : 1e-3;
            s *= D[i] * D[j];
            if (kind == 5)
                s *= 0x1p-1060; /* subnormal */
            S[i * d + j] = S[j * d + i] = s;
        }
    size_t i = (size_t)colb_rng_below(r, d), j = (size_t)colb_rng_below(r, i + 1);
    if (kind == 6)
        S[i * d + j] = S[j * d + i] = colb_rng_below(r, 2) ? NAN : INFINITY;
    else if (kind == 7)
        S[i * d + i] = -S[i * d + i];
    else if (kind == 8)
        S[i * d + i] = colb_rng_below(r, 2) ? 0.0 : -0.0;
}

static void test_chol_lanes_distinct(void **state)
{
    (void)state;
    enum { DM = 17 };
    colb_rng r;
    colb_rng_seed(&r, 31, 7);
    double *S[8], *L[8], *Lr[8], *th[8], *b0[8], ld[8], ldr[8], tr[8], trr;
    int fail[8], failr[8], ex_seen = 0;
    for (int m = 0; m < 8; m++) {
        S[m] = malloc(DM * DM * sizeof(double));
        L[m] = malloc(DM * DM * sizeof(double));
        Lr[m] = malloc(DM * DM * sizeof(double));
        th[m] = malloc(DM * sizeof(double));
        b0[m] = malloc(DM * sizeof(double));
    }
    for (size_t pi = 0; pi < 3; pi++) {
        const colb__soa_kernel *k;
        if (colb__soa_pick_kernel(paths[pi], &k) != COLB_OK)
            continue;
        for (int rep = 0; rep < 3; rep++)
            for (size_t d = 1; d <= DM; d++)
                for (size_t n = 1; n <= 8; n++) {
                    for (size_t m = 0; m < n; m++) {
                        /* mostly positive definite, one kind in 12 each else */
                        int kind = (int)colb_rng_below(&r, 12);
                        chol_lane_matrix(&r, S[m], d, kind > 8 ? 0 : kind);
                        colb_rng_normal_fill(&r, b0[m], d, 1.0);
                        memcpy(th[m], b0[m], d * sizeof(double));
                        failr[m] = colb__cholesky(S[m], d, Lr[m], &ldr[m]);
                        if (!failr[m] && (ldr[m] > 347.0 || ldr[m] < -347.0))
                            ex_seen = 1; /* |ln det| > 500 ln 2 */
                    }
                    k->cholesky_n((const double *const *)S, n, d, L, ld, fail);
                    for (size_t m = 0; m < n; m++) {
                        assert_int_equal(fail[m], failr[m]);
                        if (failr[m])
                            continue;
                        assert_memory_equal(L[m], Lr[m], d * d * sizeof(double));
                        assert_memory_equal(&ld[m], &ldr[m], sizeof(double));
                    }
                    k->chol_fit_n((const double *const *)S, n, d, L, th, ld, tr, fail);
                    for (size_t m = 0; m < n; m++) {
                        assert_int_equal(fail[m], failr[m]);
                        if (failr[m])
                            continue;
                        assert_memory_equal(&ld[m], &ldr[m], sizeof(double));
                        colb__cholesky_solve(Lr[m], d, b0[m]);
                        trr = colb__chol_inv_trace(Lr[m], d);
                        assert_memory_equal(th[m], b0[m], d * sizeof(double));
                        assert_memory_equal(&tr[m], &trr, sizeof(double));
                    }
                    /* the inverses: colb__spd_inverse's, and the factor's
                     * least squared pivot */
                    k->spd_inverse_n((const double *const *)S, n, d, L, tr, fail);
                    for (size_t m = 0; m < n; m++) {
                        assert_int_equal(fail[m], failr[m]);
                        if (failr[m])
                            continue;
                        assert_int_equal(colb__cholesky(S[m], d, Lr[m], NULL), 0);
                        double lo = INFINITY;
                        for (size_t a = 0; a < d; a++)
                            lo = fmin(lo, Lr[m][a * d + a] * Lr[m][a * d + a]);
                        assert_int_equal(colb__spd_inverse(S[m], d, Lr[m], NULL), 0);
                        assert_memory_equal(L[m], Lr[m], d * d * sizeof(double));
                        assert_memory_equal(&tr[m], &lo, sizeof(double));
                    }
                }
    }
    assert_true(ex_seen);
    for (int m = 0; m < 8; m++)
        free(S[m]), free(L[m]), free(Lr[m]), free(th[m]), free(b0[m]);
}

static void test_sym_eigvals(void **state)
{
    (void)state;
    static const size_t dims[] = { 1, 2, 3, 8, 15, 16, 25, 50 };
    colb_rng r;
    colb_rng_seed(&r, 11, 3);
    for (size_t di = 0; di < 8; di++) {
        size_t d = dims[di];
        double *S = malloc(d * d * sizeof(double)), *M = malloc(d * d * sizeof(double));
        double *G = malloc(d * d * sizeof(double)), ev[50], ref[50], w[50];
        for (int kind = 0; kind < 6; kind++) {
            colb_rng_normal_fill(&r, G, d * d, 1.0);
            for (size_t i = 0; i < d; i++)
                for (size_t j = 0; j <= i; j++) {
                    double v;
                    if (kind == 0) /* indefinite */
                        v = G[i * d + j] + G[j * d + i];
                    else if (kind == 1) { /* V-like: lambda I + G G^T */
                        v = i == j ? 1.0 : 0.0;
                        for (size_t k = 0; k < d; k++)
                            v += G[i * d + k] * G[j * d + k];
                    } else if (kind == 2) /* diagonal, one value repeated */
                        v = i == j ? (i % 2 ? 2.0 : G[i]) : 0.0;
                    else if (kind == 3) /* identity */
                        v = i == j;
                    else if (kind == 4) /* zero */
                        v = 0.0;
                    else /* rank one, eigenvalues ||g||^2 and zeros */
                        v = G[i] * G[j];
                    S[i * d + j] = S[j * d + i] = v;
                }
            memcpy(M, S, d * d * sizeof(double));
            assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'L', (lapack_int)d, M,
                                           (lapack_int)d, ref), 0);
            double big = fabs(ref[0]) > fabs(ref[d - 1]) ? fabs(ref[0]) : fabs(ref[d - 1]);
            memcpy(M, S, d * d * sizeof(double));
            assert_int_equal(colb__sym_eigvals(M, d, ev, w), 0);
            for (size_t i = 0; i < d; i++) {
                assert_true(fabs(ev[i] - ref[i]) <= 1e-12 * (big > 1.0 ? big : 1.0));
                if (i)
                    assert_true(ev[i - 1] <= ev[i]);
            }
        }
        memcpy(M, S, d * d * sizeof(double));
        M[d * d - 1] = NAN;
        assert_int_equal(colb__sym_eigvals(M, d, ev, w), -1);
        memcpy(M, S, d * d * sizeof(double));
        M[0] = INFINITY;
        assert_int_equal(colb__sym_eigvals(M, d, ev, w), -1);
        free(S);
        free(M);
        free(G);
    }
}

/* The dense helpers (symv, symv2, coldot, cholesky, cholesky_n, chol_solve_eye,
 * sm_step, syr, syr_n, chol_inverse, chol_inv_trace_n, pack_add, axpy, dot) on every
 * path against the scalar code of dense.h / dense.c they replace, bit for
 * bit, on symmetric positive definite matrices of several d (masked tails,
 * d < 8, two vectors and more); and a matrix that is not positive definite. */
static void test_dense_kernels(void **state)
{
    (void)state;
    static const size_t dims[] = { 1, 3, 8, 9, 12, 15, 16, 17, 25, 70 };
    colb_rng r;
    colb_rng_seed(&r, 9, 9);
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
        size_t d = dims[di];
        double *G = malloc(d * d * sizeof(double)), *S = calloc(d * d, sizeof(double));
        double *L0 = malloc(d * d * sizeof(double)), *L1 = malloc(d * d * sizeof(double));
        double *B0 = malloc(d * (d + 3) * sizeof(double)), *B1 = malloc(d * (d + 3) * sizeof(double));
        double *A0 = malloc(d * d * sizeof(double)), *A1 = malloc(d * d * sizeof(double));
        double x[80], y0[80], y1[160], u[80], ld0, ld1;
        colb_rng_normal_fill(&r, G, d * d, 1.0);
        colb_rng_normal_fill(&r, x, d, 1.0);
        for (size_t i = 0; i < d; i++) /* S = G G^T + I, mirrored: symmetric bit for bit */
            for (size_t j = 0; j <= i; j++) {
                double s = i == j ? 1.0 : 0.0;
                for (size_t k = 0; k < d; k++)
                    s += G[i * d + k] * G[j * d + k];
                S[i * d + j] = S[j * d + i] = s;
            }
        /* colb__spd_inverse (colb's own inverse from the factor, no LAPACK
         * dpotri): exactly symmetric, S times it the identity, and LAPACK's
         * inverse within rounding */
        assert_int_equal(colb__spd_inverse(S, d, A0, &ld0), 0);
        memcpy(A1, S, d * d * sizeof(double));
        assert_int_equal(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, A1, (lapack_int)d), 0);
        assert_int_equal(LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, A1, (lapack_int)d), 0);
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j <= i; j++) {
                double e = 0.0;
                for (size_t k = 0; k < d; k++)
                    e += S[i * d + k] * A0[k * d + j];
                assert_close(e, i == j ? 1.0 : 0.0, 1e-9);
                assert_memory_equal(&A0[i * d + j], &A0[j * d + i], sizeof(double));
                assert_close(A0[i * d + j], A1[i * d + j], 1e-10);
            }
        assert_int_equal(colb__cholesky(S, d, L0, &ld0), 0);
        for (size_t pi = 0; pi < 3; pi++) {
            const colb__soa_kernel *k;
            if (colb__soa_pick_kernel(paths[pi], &k) != COLB_OK)
                continue;
            /* symv from y = 0 is colb__matvec; from y = b, b + A x in row order */
            memset(y1, 0, sizeof y1);
            k->symv(S, d, x, y1);
            colb__matvec(S, x, d, y0);
            assert_memory_equal(y0, y1, d * sizeof(double));
            for (size_t a = 0; a < d; a++) {
                y0[a] = y1[a] = 0.5 - (double)a;
                for (size_t j = 0; j < d; j++)
                    y0[a] += S[a * d + j] * x[j];
            }
            k->symv(S, d, x, y1);
            assert_memory_equal(y0, y1, d * sizeof(double));
            { /* symv2: two symv at once; pack_add: colb__pack_upper (+ M's
               * upper triangle, M full) */
                double p0[80] = { 0 }, p1[80] = { 0 }, q0[80] = { 0 }, q1[80] = { 0 };
                k->symv(S, d, x, p0);
                k->symv(S, d, G, q0);
                k->symv2(S, d, x, G, p1, q1);
                assert_memory_equal(p0, p1, d * sizeof(double));
                assert_memory_equal(q0, q1, d * sizeof(double));
                size_t P = d * (d + 1) / 2;
                double *Ap0 = malloc(P * sizeof(double)), *Ap1 = malloc(P * sizeof(double));
                colb__pack_upper(S, d, Ap0);
                k->pack_add(S, NULL, d, Ap1);
                assert_memory_equal(Ap0, Ap1, P * sizeof(double));
                for (size_t i = 0, e = 0; i < d; i++) /* G's upper triangle added */
                    for (size_t j = i; j < d; j++, e++)
                        Ap0[e] += G[i * d + j];
                k->pack_add(S, G, d, Ap1);
                assert_memory_equal(Ap0, Ap1, P * sizeof(double));
                free(Ap0), free(Ap1);
            }
            { /* axpy: the scalar loop's bits, for d, d^2 and d^2 - 1 entries
               * (tails of every length), a = 1, -1 (exact: y + x, y - x) and
               * a rounded product */
                static const double as[] = { 1.0, -1.0, 0.37 };
                double *y2 = malloc(d * d * sizeof(double)), *y3 = malloc(d * d * sizeof(double));
                size_t ns[3] = { d, d * d, d * d - 1 };
                for (size_t ai = 0; ai < 3; ai++)
                    for (size_t ni = 0; ni < 3; ni++) {
                        memcpy(y2, S, d * d * sizeof(double));
                        memcpy(y3, S, d * d * sizeof(double));
                        for (size_t i = 0; i < ns[ni]; i++)
                            y2[i] += as[ai] * G[i];
                        k->axpy(y3, G, as[ai], ns[ni]);
                        assert_memory_equal(y2, y3, d * d * sizeof(double));
                    }
                for (size_t i = 0; i < d * d; i++) { /* 1 and -1: the sum and difference */
                    y2[i] = S[i] + G[i];
                    y3[i] = S[i];
                }
                k->axpy(y3, G, 1.0, d * d);
                assert_memory_equal(y2, y3, d * d * sizeof(double));
                for (size_t i = 0; i < d * d; i++)
                    y2[i] = S[i] - G[i];
                memcpy(y3, S, d * d * sizeof(double));
                k->axpy(y3, G, -1.0, d * d);
                assert_memory_equal(y2, y3, d * d * sizeof(double));
                free(y2), free(y3);
            }
            { /* dot: its 32 partial sums folded pairwise, bit for bit, for
               * d, d^2 and d^2 - 1 entries (every tail) and none; close to
               * the sum in order */
                size_t ns[4] = { d, d * d, d * d - 1, 0 };
                for (size_t ni = 0; ni < 4; ni++) {
                    double acc[32] = { 0.0 }, plain = 0.0, mag = 0.0;
                    for (size_t i = 0; i < ns[ni]; i++) {
                        acc[i % 32] += S[i] * G[i];
                        plain += S[i] * G[i];
                        mag += fabs(S[i] * G[i]);
                    }
                    for (size_t w = 16; w > 0; w /= 2)
                        for (size_t j = 0; j < w; j++)
                            acc[j] += acc[j + w];
                    double got = k->dot(S, G, ns[ni]);
                    assert_memory_equal(&acc[0], &got, sizeof got);
                    assert_true(fabs(got - plain) <= 1e-14 * (double)ns[ni] * mag);
                }
            }
            for (size_t a = 0; a < d; a++) { /* coldot: the rows of S .* G G^T's */
                y0[a] = 0.0;
                for (size_t j = 0; j < d; j++)
                    y0[a] += S[a * d + j] * S[j * d + a];
            }
            k->coldot(S, S, d, y1);
            assert_memory_equal(y0, y1, d * sizeof(double));
            assert_int_equal(k->cholesky(S, d, L1, &ld1), 0);
            assert_memory_equal(L0, L1, d * d * sizeof(double));
            assert_memory_equal(&ld0, &ld1, sizeof ld0);
            { /* cholesky_n: S, a matrix that fails, S again, 3 and 8 of them
               * (a batch's every slot) */
                double *Sb = malloc(d * d * sizeof(double)), *Lb[8], ldb[8];
                int fail[8];
                memcpy(Sb, S, d * d * sizeof(double));
                Sb[(d - 1) * d + d - 1] = -1.0;
                const double *Ss[8];
                for (int m = 0; m < 8; m++) {
                    Ss[m] = m % 4 == 1 ? Sb : S;
                    Lb[m] = malloc(d * d * sizeof(double));
                }
                for (size_t nn = 3; nn <= 8; nn += nn == 3 ? 1 : 4) { /* 3, 4, 8 */
                    k->cholesky_n(Ss, nn, d, Lb, ldb, fail);
                    for (size_t m = 0; m < nn; m++) {
                        assert_int_equal(fail[m], m % 4 == 1 ? -1 : 0);
                        if (m % 4 == 1)
                            continue;
                        assert_memory_equal(L0, Lb[m], d * d * sizeof(double));
                        assert_memory_equal(&ld0, &ldb[m], sizeof ld0);
                    }
                }
                /* chol_fit_n: colb__cholesky_solve and colb__chol_inv_trace
                 * of each factor, a right-hand side of its own each; with
                 * the trace (and no ln det) and without it (with ln det) */
                double *th[8], tr[8], *b0 = malloc(d * sizeof(double)), tr0;
                for (int m = 0; m < 8; m++)
                    th[m] = malloc(d * sizeof(double));
                for (size_t nn = 1; nn <= 16; nn++) {
                    size_t n1 = nn <= 8 ? nn : nn - 8;
                    int trace = nn <= 8;
                    for (size_t m = 0; m < n1; m++)
                        for (size_t i = 0; i < d; i++)
                            th[m][i] = G[i] + (double)m;
                    k->chol_fit_n(Ss, n1, d, Lb, th, trace ? NULL : ldb, trace ? tr : NULL, fail);
                    for (size_t m = 0; m < n1; m++) {
                        assert_int_equal(fail[m], m % 4 == 1 ? -1 : 0);
                        if (m % 4 == 1)
                            continue;
                        memcpy(L1, L0, d * d * sizeof(double));
                        for (size_t i = 0; i < d; i++)
                            b0[i] = G[i] + (double)m;
                        colb__cholesky_solve(L1, d, b0);
                        tr0 = colb__chol_inv_trace(L1, d);
                        assert_memory_equal(b0, th[m], d * sizeof(double));
                        if (trace)
                            assert_memory_equal(&tr0, &tr[m], sizeof tr0);
                        else
                            assert_memory_equal(&ld0, &ldb[m], sizeof ld0);
                    }
                }
                for (int m = 0; m < 8; m++)
                    free(Lb[m]), free(th[m]);
                free(b0);
                free(Sb);
            }
            { /* colb__cholesky_solve_many: two right-hand sides, two factors */
                const double *Ls[2] = { L0, L0 };
                double *bs[2] = { y1, y1 + d };
                for (size_t i = 0; i < d; i++)
                    y0[i] = y1[i] = G[i], y1[d + i] = x[i];
                colb__cholesky_solve(L0, d, y0);
                colb__cholesky_solve_many(Ls, 2, d, bs);
                assert_memory_equal(y0, y1, d * sizeof(double));
                for (size_t i = 0; i < d; i++)
                    y0[i] = x[i];
                colb__cholesky_solve(L0, d, y0);
                assert_memory_equal(y0, y1 + d, d * sizeof(double));
            }
            { /* chol_solve_eye: the identity's columns solved one by one, on
               * the lower triangle (X starts as garbage: nothing is read
               * before it is written); one factor, a pair, a pair and one,
               * the pair of two different factors (S's, and S + 2 I's) */
                double *S2 = malloc(d * d * sizeof(double)), *L2 = malloc(d * d * sizeof(double));
                double *R[2] = { malloc(d * d * sizeof(double)), malloc(d * d * sizeof(double)) };
                memcpy(S2, S, d * d * sizeof(double));
                for (size_t i = 0; i < d; i++)
                    S2[i * d + i] += 2.0;
                assert_int_equal(colb__cholesky(S2, d, L2, NULL), 0);
                const double *Lr[2] = { L0, L2 };
                for (int f = 0; f < 2; f++)
                    for (size_t c = 0; c < d; c++) {
                        for (size_t i = 0; i < d; i++)
                            y0[i] = i == c;
                        colb__cholesky_solve(Lr[f], d, y0);
                        for (size_t i = 0; i < d; i++)
                            R[f][i * d + c] = y0[i];
                    }
                for (size_t n = 1; n <= 3; n++) {
                    double *Bs[3];
                    const double *Ls[3] = { L0, L2, L0 };
                    for (size_t m = 0; m < n; m++) {
                        Bs[m] = malloc(d * d * sizeof(double));
                        for (size_t i = 0; i < d * d; i++)
                            Bs[m][i] = i % 3 ? NAN : -1e300;
                    }
                    k->chol_solve_eye(Ls, n, d, Bs);
                    for (size_t m = 0; m < n; m++) {
                        for (size_t i = 0; i < d; i++)
                            assert_memory_equal(R[m % 2] + i * d, Bs[m] + i * d, (i + 1) * sizeof(double));
                        free(Bs[m]);
                    }
                }
                free(S2), free(L2), free(R[0]), free(R[1]);
            }
            /* sm_step: 5 steps on the inverse of S */
            assert_int_equal(colb__spd_inverse(S, d, A0, NULL), 0);
            memcpy(A1, A0, d * d * sizeof(double));
            for (int t = 0; t < 5; t++) {
                x[(size_t)t % d] += 0.25;
                double s0 = colb__sherman_morrison(A0, x, d, u);
                double s1 = k->sm_step(A1, x, d, u);
                assert_memory_equal(&s0, &s1, sizeof s0);
            }
            assert_memory_equal(A0, A1, d * d * sizeof(double));
            /* syr: V += x x^T as the scalar loop */
            memcpy(B0, S, d * d * sizeof(double));
            memcpy(B1, S, d * d * sizeof(double));
            for (size_t a = 0; a < d; a++)
                for (size_t j = 0; j < d; j++)
                    B0[a * d + j] += x[a] * x[j];
            k->syr(B1, x, d);
            assert_memory_equal(B0, B1, d * d * sizeof(double));
            /* syr_n: 0, 1 and 3 contexts (rows of G, then x), as that many syr */
            for (size_t nn = 0; nn <= 3; nn += 1 + (nn == 1)) {
                const double *xs[3] = { G, G + (d > 1 ? d : 0), x };
                memcpy(B0, S, d * d * sizeof(double));
                memcpy(B1, S, d * d * sizeof(double));
                for (size_t m = 0; m < nn; m++)
                    for (size_t a = 0; a < d; a++)
                        for (size_t j = 0; j < d; j++)
                            B0[a * d + j] += xs[m][a] * xs[m][j];
                k->syr_n(B1, xs, nn, d);
                assert_memory_equal(B0, B1, d * d * sizeof(double));
            }
            /* chol_inverse: colb__chol_inverse on the factor of S, the
             * upper triangle not read (NaN there) */
            memcpy(B0, L0, d * d * sizeof(double));
            memcpy(B1, L0, d * d * sizeof(double));
            for (size_t i = 0; i < d; i++)
                for (size_t j = i + 1; j < d; j++)
                    B1[i * d + j] = NAN;
            colb__chol_inverse(B0, d);
            k->chol_inverse(B1, d);
            assert_memory_equal(B0, B1, d * d * sizeof(double));
            /* chol_inv_trace: that inverse's diagonal summed in order, on
             * the scalar path and this one */
            double t0 = 0.0, t1, t2;
            for (size_t a = 0; a < d; a++)
                t0 += B0[a * d + a];
            memcpy(B1, L0, d * d * sizeof(double));
            for (size_t i = 0; i < d; i++)
                for (size_t j = i + 1; j < d; j++)
                    B1[i * d + j] = NAN;
            memcpy(A1, L0, d * d * sizeof(double));
            double *Ls[2] = { B1, A1 }, tn[2];
            k->chol_inv_trace_n(Ls, 2, d, tn); /* two at once, then one */
            t1 = tn[1];
            memcpy(B1, L0, d * d * sizeof(double));
            k->chol_inv_trace_n(Ls, 1, d, tn + 1);
            memcpy(A1, L0, d * d * sizeof(double));
            t2 = colb__chol_inv_trace(A1, d);
            assert_memory_equal(&t0, &tn[0], sizeof(double));
            assert_memory_equal(&t0, &t1, sizeof(double));
            assert_memory_equal(&t0, &tn[1], sizeof(double));
            assert_memory_equal(&t0, &t2, sizeof(double));
            /* not positive definite */
            memcpy(B1, S, d * d * sizeof(double));
            B1[(d - 1) * d + d - 1] = -1.0;
            assert_int_equal(k->cholesky(B1, d, L1, NULL), -1);
        }
        free(G), free(S), free(L0), free(L1), free(B0), free(B1), free(A0), free(A1);
    }
}

/* 10^6 Sherman-Morrison updates of 8 models (one block) without V or any
 * refresh, against a direct solve: relative error of A < 1e-10 and of theta
 * < 1e-9 (measured 3e-14 / 5e-14 at d = 15, contexts of covariance I/d). */
static void test_drift_1e6(void **state)
{
    (void)state;
    enum { d = 15, L = 8 };
    const size_t n = 1000000;
    colb_learner_params p;
    colb_learner_params_default(&p);
    for (size_t pi = 0; pi < 3; pi++) {
        if (!have(paths[pi]))
            continue;
        colb__soa_bank s;
        assert_ok(colb__soa_init(&s, L, d, &p, paths[pi]));
        colb_rng r;
        colb_rng_seed(&r, 2024, 1);
        static double V[L][d * d], b[L][d], x[L][d];
        memset(V, 0, sizeof V);
        memset(b, 0, sizeof b);
        for (size_t l = 0; l < L; l++)
            for (size_t j = 0; j < d; j++)
                V[l][j * d + j] = 1.0;
        for (size_t t = 0; t < n; t++) {
            for (size_t l = 0; l < L; l++) {
                for (size_t j = 0; j < d; j++) /* uniform, variance 1/d (cheaper than normal) */
                    x[l][j] = (colb_rng_uniform(&r) - 0.5) * sqrt(12.0 / d);
                double y = 0.2 * (colb_rng_uniform(&r) - 0.5) + x[l][0];
                colb__soa_update(&s, l, x[l], y, 1.0); /* the 8th applies the block */
                if (l != 3 && l != 0)
                    continue; /* reference sums for two models only (time) */
                for (size_t i = 0; i < d; i++) {
                    b[l][i] += y * x[l][i];
                    for (size_t j = 0; j < d; j++)
                        V[l][i * d + j] += x[l][i] * x[l][j];
                }
            }
        }
        for (size_t l = 0; l < L; l += 3) {
            double Lc[d * d], ref[d], Ap[d * (d + 1) / 2], th[d], ld = 0.0, logdet;
            memcpy(Lc, V[l], sizeof Lc);
            assert_int_equal(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, Lc, d), 0);
            for (size_t j = 0; j < d; j++)
                ld += 2 * log(Lc[j * d + j]);
            memcpy(ref, b[l], sizeof ref);
            assert_int_equal(LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', d, 1, Lc, d, ref, 1), 0);
            assert_int_equal(LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', d, Lc, d), 0);
            colb__soa_get_model(&s, l, Ap, NULL, th, &logdet, NULL);
            double na = 0, nd = 0, nt = 0, ntd = 0;
            for (size_t i = 0, e = 0; i < d; i++)
                for (size_t j = i; j < d; j++, e++) {
                    double f = i == j ? 1.0 : 2.0, ref_ij = Lc[j * d + i];
                    na += f * ref_ij * ref_ij;
                    nd += f * (Ap[e] - ref_ij) * (Ap[e] - ref_ij);
                }
            for (size_t i = 0; i < d; i++) {
                nt += ref[i] * ref[i];
                ntd += (th[i] - ref[i]) * (th[i] - ref[i]);
            }
            print_message("%s drift after 1e6 updates, model %zu: |dA|/|A| = %.2e, "
                          "|dtheta|/|theta| = %.2e\n", paths[pi], l, sqrt(nd / na), sqrt(ntd / nt));
            assert_true(sqrt(nd / na) < 1e-10);
            assert_true(sqrt(ntd / nt) < 1e-9);
            assert_close(logdet, ld, 1e-10);
            if (l == 3)
                break;
        }
        colb__soa_free(&s);
    }
}

/* Arms chosen by `policy` on a fixed-seed clustered instance with kernel
 * `path` (through COLB_KERNEL, read when the policy is created). */
static void run_arms(const char *policy, const char *path, size_t N, size_t T, size_t threads,
                     size_t *arms, double *theta_end)
{
    setenv("COLB_KERNEL", path, 1);
    colb_env_params ep;
    colb_env_params_default(&ep);
    ep.users = N;
    ep.dim = 15;
    ep.arms = 25;
    ep.clusters = 4;
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = 15;
    pp.horizon = T;
    pp.seed = 3;
    pp.threads = threads;
    colb_env *e;
    colb_policy *pol;
    char msg[256];
    assert_ok(colb_env_create(&ep, 77, &e, msg, sizeof msg));
    assert_ok(colb_policy_create(policy, &pp, &pol, msg, sizeof msg));
    double *y = malloc(N * sizeof(double));
    for (size_t t = 0; t < T; t++) {
        assert_ok(colb_env_next_round(e));
        assert_ok(colb_policy_begin_round(pol, colb_env_contexts(e, 0), 25));
        assert_ok(colb_policy_choose_all(pol, arms + t * N));
        for (size_t u = 0; u < N; u++)
            y[u] = colb_env_reward(e, u, arms[t * N + u]);
        assert_ok(colb_policy_observe_all(pol, arms + t * N, y));
        assert_ok(colb_policy_end_round(pol));
    }
    assert_ok(colb_policy_user_theta(pol, N - 1, theta_end));
    free(y);
    colb_policy_free(pol);
    colb_env_free(e);
    unsetenv("COLB_KERNEL");
}

/* Every path chooses the same arms as the portable one, all rounds, all
 * users (a rounding flip of a near-tie would show up here). */
static void test_same_arms_every_path(void **state)
{
    (void)state;
    enum { N = 61, T = 300 };
    const char *pols[] = { "linucb-ind", "cmlb", "pmlb", "sclub", "locb" };
    size_t *ref = malloc(N * T * sizeof(size_t)), *got = malloc(N * T * sizeof(size_t));
    for (size_t q = 0; q < 5; q++) {
        double th0[15], th[15];
        run_arms(pols[q], "portable", N, T, 1, ref, th0);
        for (size_t pi = 1; pi < 3; pi++) {
            if (!have(paths[pi])) {
                print_message("skipped: this CPU has no %s\n", paths[pi]);
                continue;
            }
            run_arms(pols[q], paths[pi], N, T, 1, got, th);
            size_t diff = 0;
            for (size_t j = 0; j < N * T; j++)
                diff += got[j] != ref[j];
            if (diff)
                print_message("%s, %s: %zu of %d decisions differ\n", pols[q], paths[pi], diff,
                              N * T);
            assert_int_equal(diff, 0);
            for (size_t j = 0; j < 15; j++)
                assert_close(th[j], th0[j], 1e-9);
        }
    }
    free(ref);
    free(got);
}

/* SCLUB and LOCB carry their clusters' / neighbourhoods' means and
 * quadratic forms on the round's arms through the round's rank-one updates
 * (linalg/round_scores.h). On every path, on a fixed-seed clustered
 * instance served user by user: after every step the carried values equal a
 * direct computation from the models (plain loops over the full A and
 * theta; relative 1e-9), the cache was in use, and every decision equals the
 * one of the same policy scoring every model afresh by the kernel at each
 * choose. */
static void test_round_cache_every_path(void **state)
{
    (void)state;
    enum { N = 40, T = 150, K = 25, D = 15 };
    const char *pols[] = { "sclub", "locb" };
    for (size_t pi = 0; pi < 3; pi++) {
        if (!have(paths[pi])) {
            print_message("skipped: this CPU has no %s\n", paths[pi]);
            continue;
        }
        setenv("COLB_KERNEL", paths[pi], 1);
        for (size_t q = 0; q < 2; q++) {
            colb_env_params ep;
            colb_env_params_default(&ep);
            ep.users = N;
            ep.dim = D;
            ep.arms = K;
            ep.clusters = 4;
            colb_policy_params pp;
            colb_policy_params_default(&pp);
            pp.users = N;
            pp.dim = D;
            pp.horizon = T;
            pp.seed = 5;
            colb_env *e;
            colb_policy *pol, *ref;
            char msg[256];
            assert_ok(colb_env_create(&ep, 31, &e, msg, sizeof msg));
            assert_ok(colb_policy_create(pols[q], &pp, &pol, msg, sizeof msg));
            assert_ok(colb_policy_create(pols[q], &pp, &ref, msg, sizeof msg));
            assert_ok(colb__policy_cache_off(ref, 1));
            double worst = 0.0, err;
            size_t diff = 0, cached = 0, n;
            for (size_t t = 0; t < T; t++) {
                assert_ok(colb_env_next_round(e));
                assert_ok(colb_policy_begin_round(pol, colb_env_contexts(e, 0), K));
                assert_ok(colb_policy_begin_round(ref, colb_env_contexts(e, 0), K));
                for (size_t u = 0; u < N; u++) {
                    size_t a, b;
                    assert_ok(colb_policy_choose(pol, u, &a));
                    assert_ok(colb_policy_choose(ref, u, &b));
                    diff += a != b;
                    assert_ok(colb_policy_observe(pol, u, a, colb_env_reward(e, u, a)));
                    assert_ok(colb_policy_observe(ref, u, b, colb_env_reward(e, u, b)));
                    assert_ok(colb__policy_cache_check(pol, &err, &n));
                    if (!(err <= worst))
                        worst = err;
                    cached += n;
                    assert_ok(colb__policy_cache_check(ref, &err, &n));
                    assert_int_equal(n, 0); /* the reference carries nothing */
                }
                assert_ok(colb_policy_end_round(pol));
                assert_ok(colb_policy_end_round(ref));
            }
            print_message("%s, %s: carried scores within %.1e of a direct computation, "
                          "%zu of %d decisions differ from fresh scoring\n", pols[q], paths[pi],
                          worst, diff, N * T);
            assert_true(worst < 1e-9);
            assert_true(cached >= (size_t)N * T / 2); /* the cache did the work */
            assert_int_equal(diff, 0);
            colb_policy_free(pol);
            colb_policy_free(ref);
            colb_env_free(e);
        }
        unsetenv("COLB_KERNEL");
    }
}

/* The carried values against a direct computation fail when they are wrong:
 * a quadratic form nudged by 1e-6 is found. */
static void test_round_cache_check_fails(void **state)
{
    (void)state;
    enum { K = 9, D = 4 };
    colb_learner_params lp;
    colb_learner_params_default(&lp);
    colb__ridge r;
    colb__round_scores rs;
    assert_ok(colb__ridge_init(&r, 3, D, &lp));
    assert_ok(colb__rs_init(&rs, 3, D));
    double X[K * D];
    for (size_t i = 0; i < K * D; i++)
        X[i] = sin(1.0 + (double)i);
    assert_ok(colb__rs_begin(&rs, X, K));
    double err;
    assert_ok(colb__rs_check(&rs, &r, &err));
    assert_true(err == 0.0); /* nothing cached */
    size_t a = colb__rs_choose(&rs, &r, 1, 0.5, 1.0, 1);
    assert_int_equal(colb__rs_cached(&rs), 1);
    for (size_t t = 0; t < 20; t++) {
        colb__rs_update(&rs, &r, 1, X + ((a + t) % K) * D, 0.3, 1.0);
        a = colb__rs_choose(&rs, &r, 1, 0.5, 1.0, 1);
        assert_ok(colb__rs_check(&rs, &r, &err));
        assert_true(err < 1e-12);
        double direct[K]; /* the scores from the model by plain loops */
        const double *A = r.A + D * D, *th = r.theta + D;
        for (size_t k = 0; k < K; k++) {
            double m = 0.0, q = 0.0;
            for (size_t i = 0; i < D; i++) {
                m += th[i] * X[k * D + i];
                for (size_t j = 0; j < D; j++)
                    q += X[k * D + i] * A[i * D + j] * X[k * D + j];
            }
            direct[k] = m + 0.5 * sqrt(q);
            assert_close(rs.scores[k], direct[k], 1e-12);
        }
        assert_int_equal(a, colb__argmax(direct, K));
    }
    rs.pool[rs.ent[1] * 2 * rs.Kp + rs.Kp + 2] *= 1.0 + 1e-6; /* q_2 */
    assert_ok(colb__rs_check(&rs, &r, &err));
    assert_true(err > 1e-7);
    colb__rs_forget(&rs, 1);
    assert_int_equal(colb__rs_cached(&rs), 0);
    colb__rs_free(&rs);
    colb__ridge_free(&r);
}

/* colb__ridge_add_n is n colb__ridge_add calls, bit for bit (a prior mean,
 * 0, 1 and 7 contexts), and the refresh after it the same on every path. */
static void test_ridge_add_n(void **state)
{
    (void)state;
    enum { D = 15, N = 7 };
    colb_learner_params lp;
    colb_learner_params_default(&lp);
    double X[N * D], y[N], t0[D];
    for (size_t i = 0; i < N * D; i++)
        X[i] = sin(0.3 + 1.7 * (double)i);
    for (size_t i = 0; i < N; i++)
        y[i] = cos((double)i);
    for (size_t i = 0; i < D; i++)
        t0[i] = 0.1 * (double)i - 0.5;
    const double *xs[N];
    for (size_t i = 0; i < N; i++)
        xs[i] = X + i * D;
    for (size_t pi = 0; pi < 3; pi++) {
        if (!have(paths[pi]))
            continue;
        setenv("COLB_KERNEL", paths[pi], 1);
        for (size_t n = 0; n <= N; n += n ? N - 1 : 1) {
            colb__ridge r;
            assert_ok(colb__ridge_init(&r, 2, D, &lp));
            for (size_t m = 0; m < 2; m++)
                colb__ridge_set_prior(&r, m, t0);
            for (size_t i = 0; i < n; i++)
                colb__ridge_add(&r, 0, xs[i], y[i]);
            colb__ridge_add_n(&r, 1, xs, y, n);
            assert_memory_equal(r.V, r.V + D * D, D * D * sizeof(double));
            assert_memory_equal(r.b, r.b + D, D * sizeof(double));
            assert_int_equal(r.count[0], r.count[1]);
            assert_int_equal(r.since_refresh[0], r.since_refresh[1]);
            assert_ok(colb__ridge_refresh(&r, 1));
            double ld = 0.0, *Ai = malloc(D * D * sizeof(double));
            assert_int_equal(colb__spd_inverse(r.V + D * D, D, Ai, &ld), 0);
            assert_memory_equal(Ai, r.A + D * D, D * D * sizeof(double)); /* dense.c's bits */
            assert_true(ld == r.logdet[1]);
            free(Ai);
            colb__ridge_free(&r);
        }
        unsetenv("COLB_KERNEL");
    }
}

/* A bank that defers V (colb__ridge_defer_v) is the same bank bit for bit:
 * the same steps (unit and other weights, single, with another bank, in
 * pairs), adds, absorbs, copies and a refresh after 4,096 steps give the
 * same V, A, b, theta, log-determinants and exports, with contexts still
 * in the logs, on every path and at sizes that take each kernel's
 * register, masked and two-call forms. */
static void test_ridge_deferred_v(void **state)
{
    (void)state;
    static const size_t dims[] = { 5, 15, 25, 70 };
    colb_learner_params lp;
    colb_learner_params_default(&lp);
    for (size_t pi = 0; pi < 3; pi++) {
        if (!have(paths[pi]))
            continue;
        setenv("COLB_KERNEL", paths[pi], 1);
        for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
            size_t d = dims[di], T = d > 30 ? 600 : 5300, len = colb__ridge_model_len(d);
            colb__ridge a, b, a2, b2;
            assert_ok(colb__ridge_init(&a, 4, d, &lp));
            assert_ok(colb__ridge_init(&b, 4, d, &lp));
            assert_ok(colb__ridge_init(&a2, 1, d, &lp));
            assert_ok(colb__ridge_init(&b2, 1, d, &lp));
            assert_int_equal(colb__ridge_defer_v(&b, 1), COLB_EINVAL);
            assert_ok(colb__ridge_defer_v(&b, 5));
            assert_ok(colb__ridge_defer_v(&b2, 3));
            double *x = malloc((d + 1) * sizeof(double)), *u = malloc(2 * d * sizeof(double));
            double *ea = malloc(len * sizeof(double)), *eb = malloc(len * sizeof(double));
            double *Va = malloc(d * d * sizeof(double)), *Vb = malloc(d * d * sizeof(double));
            uint64_t ia[2], ib[2];
            double s2[2];
            for (size_t t = 0; t < T; t++) {
                for (size_t j = 0; j <= d; j++) /* x + 1 is a pair's second context */
                    x[j] = sin(0.7 * (double)(t * d + j) + 0.1) / sqrt((double)d);
                double y = cos(0.3 * (double)t);
                size_t i = t % 10 < 9 ? 0 : t % 3, op = t % 11;
                if (op == 3) {
                    colb__ridge_update2_u(&a, i, &a2, 0, x, y, 1.0, u, s2);
                    colb__ridge_update2_u(&b, i, &b2, 0, x, y, 1.0, u, s2);
                } else if (op == 5) {
                    colb__ridge_update_pair(&a, 1, x, y, 2, x + 1, -y, 1.0);
                    colb__ridge_update_pair(&b, 1, x, y, 2, x + 1, -y, 1.0);
                } else if (op == 7 && t % 4 == 0) {
                    colb__ridge_update(&a, i, x, y, 0.5); /* not deferred */
                    colb__ridge_update(&b, i, x, y, 0.5);
                } else if (op == 9 && t % 13 == 0) {
                    colb__ridge_add(&a, 3, x, y);
                    colb__ridge_add(&b, 3, x, y);
                } else if (op == 10 && t % 17 == 0) { /* pooled data, refreshed */
                    colb__ridge_absorb(&a, 3, &a, 1);
                    colb__ridge_absorb(&b, 3, &b, 1);
                    colb__ridge_absorb(&a2, 0, &a, 2);
                    colb__ridge_absorb(&b2, 0, &b, 2);
                    assert_int_equal(colb__ridge_refresh(&a, 3), colb__ridge_refresh(&b, 3));
                } else {
                    colb__ridge_update_u(&a, i, x, y, 1.0, u);
                    colb__ridge_update_u(&b, i, x, y, 1.0, u);
                }
                colb__ridge_prefetch(&b, i);
            }
            colb__ridge_copy_model(&a, 2, &a, 0);
            colb__ridge_copy_model(&b, 2, &b, 0);
            for (size_t i = 0; i < 4; i++) { /* the logs are not empty here */
                colb__ridge_export(&a, i, ea, ia);
                colb__ridge_export(&b, i, eb, ib);
                assert_memory_equal(ea, eb, len * sizeof(double));
                assert_memory_equal(ia, ib, sizeof ia);
                colb__ridge_v(&b, i, Vb);
                colb__ridge_v(&a, i, Va);
                assert_memory_equal(Va, Vb, d * d * sizeof(double));
            }
            assert_true(b.vlen[0] > 0 || b.vlen[1] > 0 || b.vlen[2] > 0);
            assert_true(d > 30 || a.since_refresh[0] < a.count[0]); /* a refresh came */
            for (size_t i = 0; i < 4; i++)
                colb__ridge_sync_v(&b, i);
            colb__ridge_sync_v(&b2, 0);
            assert_memory_equal(a.V, b.V, 4 * d * d * sizeof(double));
            assert_memory_equal(a.A, b.A, 4 * d * d * sizeof(double));
            assert_memory_equal(a.theta, b.theta, 4 * d * sizeof(double));
            assert_memory_equal(a.logdet, b.logdet, 4 * sizeof(double));
            assert_memory_equal(a2.V, b2.V, d * d * sizeof(double));
            assert_memory_equal(a2.A, b2.A, d * d * sizeof(double));
            assert_ok(colb__ridge_grow(&b, 6)); /* the logs grow with the bank */
            colb__ridge_update(&b, 5, x, 1.0, 1.0);
            assert_int_equal(b.vlen[5], 1);
            free(x);
            free(u);
            free(ea);
            free(eb);
            free(Va);
            free(Vb);
            colb__ridge_free(&a);
            colb__ridge_free(&b);
            colb__ridge_free(&a2);
            colb__ridge_free(&b2);
        }
        unsetenv("COLB_KERNEL");
    }
}

/* LinUCB-Ind on 1, 2 and 3 threads: the same arms and estimates, bit for bit
 * (users are independent; each block is computed by one thread). */
static void test_threads_same_results(void **state)
{
    (void)state;
    enum { N = 101, T = 120 };
    size_t *ref = malloc(N * T * sizeof(size_t)), *got = malloc(N * T * sizeof(size_t));
    double th0[15], th[15];
    run_arms("linucb-ind", "", N, T, 1, ref, th0);
    for (size_t threads = 2; threads <= 3; threads++) {
        run_arms("linucb-ind", "", N, T, threads, got, th);
        assert_memory_equal(got, ref, N * T * sizeof(size_t));
        assert_memory_equal(th, th0, sizeof th);
    }
    free(ref);
    free(got);
}

/* colb__soa_all_sane on every path: 1 for a fed bank, -1 while an update
 * is pending, 0 once one model's theta is not finite, or finite beyond
 * COLB__THETA_MAX - in a whole block or in the live lanes of the partial
 * last one (n = 13, blocks of COLB__SOA_W = 8). */
static void test_all_sane(void **state)
{
    (void)state;
    enum { n = 13, d = 5 };
    colb_learner_params p;
    colb_learner_params_default(&p);
    double x[d] = { 0.3, -0.2, 0.5, 0.1, -0.4 };
    for (size_t pi = 0; pi < 3; pi++) {
        if (!have(paths[pi]))
            continue;
        for (size_t bad = 0; bad < 2 * n; bad += 11) { /* user 0 (full block), 11 (partial one) */
            double poke = bad < n ? NAN : -2 * COLB__THETA_MAX; /* user 22 % 13 = 9: partial block */
            colb__soa_bank s;
            assert_ok(colb__soa_init(&s, n, d, &p, paths[pi]));
            for (size_t i = 0; i < n; i++)
                colb__soa_update(&s, i, x, 0.5, 1.0);
            colb__soa_flush(&s);
            assert_int_equal(colb__soa_all_sane(&s), 1);
            colb__soa_update(&s, 3, x, 0.5, 1.0);
            assert_int_equal(colb__soa_all_sane(&s), -1);
            colb__soa_flush(&s);
            assert_int_equal(colb__soa_all_sane(&s), 1);
            double t[d];
            size_t W = COLB__SOA_W, u = bad % n; /* coordinate 2 of model u */
            s.theta[(u / W) * d * W + 2 * W + u % W] = poke;
            colb__soa_theta(&s, u, t);
            assert_true(isnan(poke) ? isnan(t[2]) : t[2] == poke);
            assert_int_equal(colb__soa_all_sane(&s), 0);
            colb__soa_free(&s);
        }
    }
}

/* The arm a scoring kernel returns is colb__soa_argmax's on its scores
 * (the vector paths find it in two passes: the largest value that is not
 * NaN, then its first index): scores drawn from a few values so that ties,
 * +0 and -0, infinities and NaNs (first, last, everywhere) come up, for
 * every K up to 40 (tails of each length), through score_mq with zero
 * forms (the scores are the means). */
static void test_argmax(void **state)
{
    (void)state;
    static const double vals[] = { -1.0, 0.0, -0.0, 2.0, 2.0, 3.5, INFINITY, -INFINITY, NAN };
    colb_rng r;
    colb_rng_seed(&r, 4, 4);
    double mean[48], quad[48] = { 0 }, sc[48];
    for (size_t pi = 0; pi < 3; pi++) {
        const colb__soa_kernel *k;
        if (colb__soa_pick_kernel(paths[pi], &k) != COLB_OK)
            continue;
        for (size_t K = 1; K <= 40; K++) {
            size_t Kp = (K + 7) / 8 * 8;
            for (int rep = 0; rep < 200; rep++) {
                size_t nv = rep % 4 == 0 ? 9 : rep % 4 == 1 ? 8 : 3 + (size_t)rep % 6;
                for (size_t i = 0; i < Kp; i++)
                    mean[i] = vals[(size_t)(colb_rng_uniform(&r) * (double)nv)];
                if (rep % 7 == 0)
                    mean[0] = NAN;
                if (rep % 5 == 0)
                    mean[K - 1] = 9.0;
                size_t a = k->score_mq(mean, quad, 0.7, 1.3, K, Kp, sc);
                assert_int_equal(a, colb__soa_argmax(sc, K));
                for (size_t i = 0; i < K; i++) /* and the scores are the means */
                    assert_true(sc[i] == mean[i] || (isnan(sc[i]) && isnan(mean[i])));
            }
        }
    }
}

/* far_f32 (CLUB's edge tests on float copies) with colb__far_f32_bounds,
 * on every path: a member it calls far fails the exact test in double
 * (sum_j (wu_j - w_j)^2 > t * t) and one it keeps passes it, for members
 * at random distances, at relative distances 1e-12 .. 1e-4 from their
 * threshold (either side), equal to u, with a NaN, beyond float's range,
 * with float-overflowing squares, and subnormal-scale differences; t = 0,
 * t tiny and t < 0 (with estimates of 1e3) included. Members 1e-4 or more
 * from their threshold in ordinary ranges are all decided (none left
 * unsure: float's rounding at d = 64 is below 1e-5 relative), and unused
 * bits are clear. Lengths cover whole and partial words and vectors. */
static void test_far_f32_exact(void **state)
{
    (void)state;
    static const size_t dims[] = { 1, 2, 7, 15, 16, 25, 64 };
    static const double cbus[] = { 0.1, 0.0, 1e-30 };
    static const double rel[] = { -1e-4, -1e-9, -1e-12, 0.0, 1e-12, 1e-9, 1e-6, 1e-4 };
    enum { NMAX = 150, LD = NMAX + 5 };
    colb_rng r;
    colb_rng_seed(&r, 32, 32);
    double *w = malloc(64 * LD * sizeof(double)), cb[NMAX], wu[64], k6[6];
    float *wF = malloc(64 * LD * sizeof(float)), wuF[64];
    int *clean = malloc(NMAX * sizeof(int));
    size_t decided = 0, checked = 0;
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
        for (size_t ci = 0; ci < 3; ci++) {
            size_t d = dims[di];
            double cbu = cbus[ci];
            colb_rng_normal_fill(&r, wu, d, 1.0);
            for (size_t i = 0; i < NMAX; i++) {
                double v[64], D2 = 0.0;
                colb_rng_normal_fill(&r, v, d, 1.0);
                size_t kind = i % 8;
                double s = kind == 1 ? 0.05 : kind == 5 ? 1e-40 : 1.0;
                for (size_t j = 0; j < d; j++)
                    w[j * LD + i] = kind == 6 ? wu[j] : kind == 7 ? 1e30 * (1.0 + v[j]) : wu[j] + s * v[j];
                if (kind == 3)
                    w[(i % d) * LD + i] = NAN;
                if (kind == 4)
                    w[(i % d) * LD + i] = 1e45;
                for (size_t j = 0; j < d; j++) {
                    double e = wu[j] - w[j * LD + i];
                    D2 += e * e;
                }
                /* the threshold t = cbu + cb[i]: at a chosen relative
                 * distance from the member's (kinds 0, 2: a random one
                 * within +-50 %) */
                double D = sqrt(D2), f = kind == 2 ? 1.0 + rel[(i / 8) % 8]
                                     : 0.5 + colb_rng_uniform(&r);
                double t = isfinite(D) ? D * f : 1.0;
                cb[i] = t > cbu ? t - cbu : 0.0;
                double tt = cbu + cb[i];
                clean[i] = (kind <= 2) && isfinite(D) && D > 1e-3 && fabs(D / tt - 1.0) >= 1e-4;
            }
            for (size_t j = 0; j < d; j++)
                for (size_t i = 0; i < NMAX; i++)
                    wF[j * LD + i] = colb__to_f32(w[j * LD + i]);
            colb__far_f32_bounds(wu, d, wuF, k6);
            for (size_t pi = 0; pi < 3; pi++) {
                const colb__soa_kernel *k;
                if (colb__soa_pick_kernel(paths[pi], &k) != COLB_OK)
                    continue;
                for (size_t n = 0; n <= NMAX; n += n < 20 ? 1 : 13) {
                    uint64_t far[4], uns[4];
                    memset(far, 0xa5, sizeof far);
                    memset(uns, 0xa5, sizeof uns);
                    k->far_f32(wF, LD, wuF, d, n, cb, cbu, k6, far, uns);
                    for (size_t i = 0; i < (n + 63) / 64 * 64; i++) {
                        int fb = (int)(far[i / 64] >> (i % 64) & 1), ub = (int)(uns[i / 64] >> (i % 64) & 1);
                        if (i >= n) {
                            if (fb || ub)
                                fail_msg("%s, d %zu, n %zu: bit %zu set past the end", paths[pi], d, n, i);
                            continue;
                        }
                        double D2 = 0.0, t = cbu + cb[i];
                        for (size_t j = 0; j < d; j++) {
                            double e = wu[j] - w[j * LD + i];
                            D2 += e * e;
                        }
                        int exact = D2 > t * t;
                        checked++;
                        if (fb && ub)
                            fail_msg("%s, d %zu: member %zu both far and unsure", paths[pi], d, i);
                        if ((fb && !exact) || (!fb && !ub && exact))
                            fail_msg("%s, d %zu, cbu %g: member %zu (kind %zu) %s, the exact test says %s "
                                     "(D2 %.17g, t %.17g)", paths[pi], d, cbu, i, i % 8, fb ? "far" : "kept",
                                     exact ? "far" : "keep", D2, t);
                        if (clean[i] && ub)
                            fail_msg("%s, d %zu: member %zu, %g of its threshold, left unsure", paths[pi], d,
                                     i, sqrt(D2) / t);
                        decided += (size_t)!ub;
                    }
                }
            }
        }
    if (!(decided > checked / 4)) /* kinds 0 and 1 and half of kind 2, at least */
        fail_msg("%zu of %zu decided", decided, checked);
    /* a negative threshold (the bounds assume t >= 0): never far unless the
     * exact test says so; large estimates make the bound's constant term
     * as large as |t| (w_u = 1e3 (1, ..., 1), members 5e-5 away) */
    {
        enum { D4 = 4, N4 = 40 };
        double w4[D4 * N4], u4[D4], cb4[N4], e4[D4];
        float f4[D4 * N4], uf4[D4];
        for (size_t j = 0; j < D4; j++)
            u4[j] = 1e3;
        for (size_t i = 0; i < N4; i++) {
            colb_rng_normal_fill(&r, e4, D4, 2.5e-5);
            for (size_t j = 0; j < D4; j++)
                w4[j * N4 + i] = u4[j] + e4[j];
            cb4[i] = -1e-3 * (double)(i + 1) / N4; /* t from -2.5e-5 to -1e-3, cbu = 0 */
        }
        for (size_t e = 0; e < D4 * N4; e++)
            f4[e] = colb__to_f32(w4[e]);
        colb__far_f32_bounds(u4, D4, uf4, k6);
        for (size_t pi = 0; pi < 3; pi++) {
            const colb__soa_kernel *k;
            if (colb__soa_pick_kernel(paths[pi], &k) != COLB_OK)
                continue;
            uint64_t far[1], uns[1];
            k->far_f32(f4, N4, uf4, D4, N4, cb4, 0.0, k6, far, uns);
            for (size_t i = 0; i < N4; i++) {
                double D2 = 0.0, t = 0.0 + cb4[i];
                for (size_t j = 0; j < D4; j++) {
                    double e = u4[j] - w4[j * N4 + i];
                    D2 += e * e;
                }
                int fb = (int)(far[0] >> i & 1), ub = (int)(uns[0] >> i & 1), exact = D2 > t * t;
                if ((fb && !exact) || (!fb && !ub && exact))
                    fail_msg("%s, t %g < 0: member %zu %s, the exact test says %s", paths[pi], t, i,
                             fb ? "far" : "kept", exact ? "far" : "keep");
            }
        }
    }
    free(w);
    free(wF);
    free(clean);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argmax),
        cmocka_unit_test(test_kernel_names),
        cmocka_unit_test(test_against_dense),
        cmocka_unit_test(test_paths_agree_on_a_block),
        cmocka_unit_test(test_choose_one_every_path),
        cmocka_unit_test(test_exact_kernels),
        cmocka_unit_test(test_far_f32_exact),
        cmocka_unit_test(test_dense_kernels),
        cmocka_unit_test(test_chol_lanes_distinct),
        cmocka_unit_test(test_sym_eigvals),
        cmocka_unit_test(test_score_x),
        cmocka_unit_test(test_drift_1e6),
        cmocka_unit_test(test_same_arms_every_path),
        cmocka_unit_test(test_threads_same_results),
        cmocka_unit_test(test_all_sane),
        cmocka_unit_test(test_round_cache_every_path),
        cmocka_unit_test(test_ridge_add_n),
        cmocka_unit_test(test_ridge_deferred_v),
        cmocka_unit_test(test_round_cache_check_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
