/* test_learner.c - the ridge / OFUL / LinUCB learner against direct dense
 * linear algebra (LAPACKE), its drift after 10^6 updates, its regret on a
 * fixed single-user instance, and input validation. */
#include "testutil.h"

#include <lapacke.h>

enum { D = 7 };

/* Solve (lambda I + sum w x x^T) theta = sum w (y - <x,t0>) x directly. */
static void dense_reference(size_t d, double lambda, size_t n, const double *X, const double *y,
                            const double *w, const double *t0, double *V, double *theta, double *logdet)
{
    double *b = calloc(d, sizeof(double));
    memset(V, 0, d * d * sizeof(double));
    for (size_t j = 0; j < d; j++)
        V[j * d + j] = lambda;
    for (size_t s = 0; s < n; s++) {
        const double *x = X + s * d;
        double r = y[s];
        for (size_t j = 0; j < d; j++)
            r -= (t0 ? t0[j] : 0.0) * x[j];
        for (size_t i = 0; i < d; i++) {
            b[i] += w[s] * r * x[i];
            for (size_t j = 0; j < d; j++)
                V[i * d + j] += w[s] * x[i] * x[j];
        }
    }
    double *L = malloc(d * d * sizeof(double));
    memcpy(L, V, d * d * sizeof(double));
    assert_int_equal(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, L, (lapack_int)d), 0);
    *logdet = 0;
    for (size_t j = 0; j < d; j++)
        *logdet += 2 * log(L[j * d + j]);
    memcpy(theta, b, d * sizeof(double));
    assert_int_equal(LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, 1, L, (lapack_int)d, theta, 1), 0);
    for (size_t j = 0; j < d; j++)
        theta[j] += t0 ? t0[j] : 0.0;
    free(L);
    free(b);
}

static void test_against_dense_solve(void **state)
{
    (void)state;
    colb_rng r;
    colb_rng_seed(&r, 7, 0);
    enum { N = 300 };
    double X[N * D], y[N], w[N], t0[D];
    colb_rng_normal_fill(&r, X, N * D, 1.0);
    colb_rng_normal_fill(&r, y, N, 1.0);
    colb_rng_normal_fill(&r, t0, D, 0.5);
    for (int i = 0; i < N; i++)
        w[i] = 0.25 + 3 * colb_rng_uniform(&r);
    for (int with_prior = 0; with_prior < 2; with_prior++) {
        colb_learner_params p;
        colb_learner_params_default(&p);
        p.lambda = 0.7;
        p.noise = 0.3;
        p.norm_bound = 1.5;
        p.delta = 0.05;
        colb_learner *l;
        assert_ok(colb_learner_create(D, &p, &l));
        if (with_prior)
            assert_ok(colb_learner_set_prior(l, t0));
        for (int i = 0; i < N; i++)
            assert_ok(colb_learner_update(l, X + i * D, y[i], w[i]));
        double V[D * D], th_ref[D], ld_ref, th[D], A[D * D];
        dense_reference(D, p.lambda, N, X, y, w, with_prior ? t0 : NULL, V, th_ref, &ld_ref);
        assert_ok(colb_learner_theta(l, th));
        for (int j = 0; j < D; j++)
            assert_close(th[j], th_ref[j], 1e-10);
        assert_close(colb_learner_logdet(l), ld_ref, 1e-10);
        /* A V = I */
        assert_ok(colb_learner_vinv(l, A));
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++) {
                double s = 0;
                for (int k = 0; k < D; k++)
                    s += A[i * D + k] * V[k * D + j];
                assert_close(s, i == j ? 1.0 : 0.0, 1e-10);
            }
        /* OFUL width: R sqrt(2 ln(det(V)^1/2 lambda^-d/2 / delta)) + sqrt(lambda) S */
        double beta = p.noise * sqrt(2 * (0.5 * ld_ref - 0.5 * D * log(p.lambda) + log(1 / p.delta))) +
                      sqrt(p.lambda) * p.norm_bound;
        assert_close(colb_learner_width(l), beta, 1e-12);
        /* scores of 9 arms = <x, theta> + beta ||x||_{V^-1} */
        double C[9 * D], sc[9];
        colb_rng_normal_fill(&r, C, 9 * D, 1.0);
        assert_ok(colb_learner_scores(l, C, 9, sc));
        size_t best = 0, arm;
        double bestv = -INFINITY;
        for (int k = 0; k < 9; k++) {
            const double *x = C + k * D;
            double m = 0, q = 0;
            for (int i = 0; i < D; i++) {
                m += x[i] * th_ref[i];
                for (int j = 0; j < D; j++)
                    q += x[i] * A[i * D + j] * x[j];
            }
            double want = m + beta * sqrt(q);
            assert_close(sc[k], want, 1e-10);
            if (want > bestv) {
                bestv = want;
                best = (size_t)k;
            }
        }
        assert_ok(colb_learner_choose(l, C, 9, &arm));
        assert_int_equal(arm, best);
        /* fixed width: alpha */
        colb_learner_free(l);
    }
}

static void test_weight_equals_repeats(void **state)
{
    (void)state;
    colb_learner_params p;
    colb_learner_params_default(&p);
    colb_learner *a, *b;
    assert_ok(colb_learner_create(3, &p, &a));
    assert_ok(colb_learner_create(3, &p, &b));
    const double x[3] = { 0.3, -1.0, 0.5 }, x2[3] = { 1, 2, 3 };
    assert_ok(colb_learner_update(a, x, 0.7, 3.0));
    for (int i = 0; i < 3; i++)
        assert_ok(colb_learner_update(b, x, 0.7, 1.0));
    assert_ok(colb_learner_update(a, x2, -0.2, 1.0));
    assert_ok(colb_learner_update(b, x2, -0.2, 1.0));
    double ta[3], tb[3];
    colb_learner_theta(a, ta);
    colb_learner_theta(b, tb);
    for (int j = 0; j < 3; j++)
        assert_close(ta[j], tb[j], 1e-12);
    assert_close(colb_learner_logdet(a), colb_learner_logdet(b), 1e-12);
    colb_learner_free(a);
    colb_learner_free(b);
}

static void test_copy_reset_ties_fixed(void **state)
{
    (void)state;
    colb_learner_params p;
    colb_learner_params_default(&p);
    p.width = COLB_WIDTH_FIXED;
    p.alpha = 0.5;
    colb_learner *l, *c;
    assert_ok(colb_learner_create(2, &p, &l));
    assert_close(colb_learner_width(l), 0.5, 0);
    /* a fresh learner scores identical arms identically: lowest index wins */
    const double X[8] = { 0, 0, 1, 1, 1, 1, -1, 0 };
    size_t arm;
    assert_ok(colb_learner_choose(l, X, 4, &arm));
    assert_int_equal(arm, 1);
    const double x[2] = { 1, 0 };
    assert_ok(colb_learner_update(l, x, 1.0, 1.0));
    assert_ok(colb_learner_copy(l, &c));
    double tl[2], tc[2];
    colb_learner_theta(l, tl);
    colb_learner_theta(c, tc);
    assert_true(tl[0] == tc[0] && tl[1] == tc[1]);
    assert_int_equal(colb_learner_count(c), 1);
    assert_ok(colb_learner_update(c, x, 1.0, 1.0)); /* independent copies */
    assert_int_equal(colb_learner_count(l), 1);
    colb_learner_reset(l);
    assert_int_equal(colb_learner_count(l), 0);
    colb_learner_theta(l, tl);
    assert_true(tl[0] == 0 && tl[1] == 0);
    assert_close(colb_learner_logdet(l), 2 * log(p.lambda), 0);
    /* a prior can be set again after a reset, and not while holding data */
    const double t0[2] = { 0.25, -0.5 };
    assert_ok(colb_learner_set_prior(l, t0));
    colb_learner_theta(l, tl);
    assert_true(tl[0] == 0.25 && tl[1] == -0.5);
    assert_status(colb_learner_set_prior(c, t0), COLB_ESTATE);
    /* a prior beyond COLB_SCALE_MAX (1e308 made every score inf) is refused
     * and leaves the prior as it was; at the bound the scores stay finite */
    colb_learner_reset(l);
    const double big[2] = { 0.25, 1e308 }, edge[2] = { -COLB_SCALE_MAX, COLB_SCALE_MAX };
    const double Xb[2] = { COLB_CONTEXT_MAX, COLB_CONTEXT_MAX };
    double sc;
    assert_status(colb_learner_set_prior(l, big), COLB_ERANGE);
    assert_non_null(strstr(colb_learner_last_error(l), "theta0 entry 1"));
    assert_status(colb_learner_set_prior(l, (const double[]){ -1.1e6, 0 }), COLB_ERANGE);
    colb_learner_theta(l, tl);
    assert_true(tl[0] == 0.25 && tl[1] == -0.5);
    assert_ok(colb_learner_set_prior(l, edge));
    assert_ok(colb_learner_update(l, Xb, COLB_REWARD_MAX, COLB_WEIGHT_MAX));
    assert_ok(colb_learner_scores(l, Xb, 1, &sc));
    assert_true(isfinite(sc));
    colb_learner_free(l);
    colb_learner_free(c);
}

/* colb_learner_get_params gives the parameters in force: the noise scale
 * and norm bound set since creation (it gave the creation's, while the
 * width was computed from the new ones), also in a copy and after a reset. */
static void test_params_in_force(void **state)
{
    (void)state;
    colb_learner_params p, q;
    colb_learner_params_default(&p);
    colb_learner *l, *c;
    assert_ok(colb_learner_create(3, &p, &l));
    assert_ok(colb_learner_set_noise(l, 0.7));
    assert_ok(colb_learner_set_norm_bound(l, 3.0));
    colb_learner_get_params(l, &q);
    assert_true(q.noise == 0.7 && q.norm_bound == 3.0);
    assert_true(q.lambda == p.lambda && q.delta == p.delta && q.width == p.width && q.alpha == p.alpha);
    /* the OFUL radius of a fresh learner: R sqrt(2 ln(1 / delta)) + sqrt(lambda) S */
    assert_close(colb_learner_width(l), 0.7 * sqrt(2 * log(1 / p.delta)) + 3.0, 1e-12);
    assert_ok(colb_learner_copy(l, &c));
    colb_learner_get_params(c, &q);
    assert_true(q.noise == 0.7 && q.norm_bound == 3.0);
    colb_learner_reset(l);
    colb_learner_get_params(l, &q);
    assert_true(q.noise == 0.7 && q.norm_bound == 3.0);
    assert_close(colb_learner_width(l), 0.7 * sqrt(2 * log(1 / p.delta)) + 3.0, 1e-12);
    colb_learner_free(l);
    colb_learner_free(c);
}

/* The drift guard: after 10^6 Sherman-Morrison updates (d = 15) V^{-1},
 * theta and ln det V agree with a fresh Cholesky factorisation of the
 * accumulated V within 1e-8 relative. */
static void test_accuracy_after_1e6_updates(void **state)
{
    (void)state;
    enum { d = 15 };
    const size_t n = 1000000;
    colb_learner_params p;
    colb_learner_params_default(&p);
    colb_learner *l;
    assert_ok(colb_learner_create(d, &p, &l));
    colb_rng r;
    colb_rng_seed(&r, 2024, 1);
    double x[d], theta_true[d], V[d * d] = { 0 }, b[d] = { 0 };
    colb_rng_sphere(&r, theta_true, d);
    for (int j = 0; j < d; j++)
        V[j * d + j] = 1.0;
    for (size_t s = 0; s < n; s++) {
        colb_rng_normal_fill(&r, x, d, 1.0 / sqrt(d));
        double y = 0.1 * colb_rng_normal(&r);
        for (int j = 0; j < d; j++)
            y += theta_true[j] * x[j];
        assert_ok(colb_learner_update(l, x, y, 1.0));
        for (int i = 0; i < d; i++) {
            b[i] += y * x[i];
            for (int j = 0; j < d; j++)
                V[i * d + j] += x[i] * x[j];
        }
    }
    double L[d * d], Ainv[d * d], A[d * d], th[d], ref[d];
    memcpy(L, V, sizeof L);
    assert_int_equal(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', d, L, d), 0);
    double ld = 0;
    for (int j = 0; j < d; j++)
        ld += 2 * log(L[j * d + j]);
    memcpy(ref, b, sizeof ref);
    assert_int_equal(LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', d, 1, L, d, ref, 1), 0);
    memcpy(Ainv, L, sizeof L);
    assert_int_equal(LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', d, Ainv, d), 0);
    assert_ok(colb_learner_vinv(l, A));
    assert_ok(colb_learner_theta(l, th));
    double na = 0, nd = 0, nt = 0, ntd = 0;
    for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) {
            double ref_ij = i >= j ? Ainv[i * d + j] : Ainv[j * d + i];
            na += ref_ij * ref_ij;
            nd += (A[i * d + j] - ref_ij) * (A[i * d + j] - ref_ij);
        }
        nt += ref[i] * ref[i];
        ntd += (th[i] - ref[i]) * (th[i] - ref[i]);
    }
    print_message("drift after 1e6 updates: |dA|/|A| = %.2e, |dtheta|/|theta| = %.2e\n",
                  sqrt(nd / na), sqrt(ntd / nt));
    assert_true(sqrt(nd / na) < 1e-8);
    assert_true(sqrt(ntd / nt) < 1e-8);
    assert_close(colb_learner_logdet(l), ld, 1e-8);
    colb_learner_free(l);
}

/* OFUL on one user: d = 15, K = 25, contexts N(0, I/d), noise 0.1, T = 5000. */
static void test_oful_regret(void **state)
{
    (void)state;
    enum { d = 15, K = 25, T = 5000 };
    colb_learner_params p;
    colb_learner_params_default(&p);
    p.noise = 0.1;
    colb_learner *l;
    assert_ok(colb_learner_create(d, &p, &l));
    colb_rng r, pick;
    colb_rng_seed(&r, 31337, 0);
    colb_rng_seed(&pick, 31337, 1);
    double theta[d], X[K * d], reg_first = 0, reg_second = 0, reg_random = 0;
    colb_rng_sphere(&r, theta, d);
    for (int t = 0; t < T; t++) {
        colb_rng_normal_fill(&r, X, K * d, 1.0 / sqrt(d));
        double mean[K], best = -INFINITY;
        for (int k = 0; k < K; k++) {
            mean[k] = 0;
            for (int j = 0; j < d; j++)
                mean[k] += theta[j] * X[k * d + j];
            if (mean[k] > best)
                best = mean[k];
        }
        size_t a;
        assert_ok(colb_learner_choose(l, X, K, &a));
        assert_ok(colb_learner_update(l, X + a * d, mean[a] + 0.1 * colb_rng_normal(&r), 1.0));
        *(t < T / 2 ? &reg_first : &reg_second) += best - mean[a];
        reg_random += best - mean[colb_rng_below(&pick, K)];
    }
    print_message("OFUL regret: first half %.1f, second half %.1f, random %.1f\n", reg_first,
                  reg_second, reg_random);
    assert_true(reg_first + reg_second < 0.1 * reg_random);
    assert_true(reg_second < reg_first);
    colb_learner_free(l);
}

static void test_invalid_inputs(void **state)
{
    (void)state;
    colb_learner_params p;
    colb_learner_params_default(&p);
    colb_learner *l = (colb_learner *)&p; /* must be reset to NULL on failure */
    assert_status(colb_learner_create(0, &p, &l), COLB_EINVAL);
    assert_null(l);
    assert_status(colb_learner_create(3, NULL, &l), COLB_EINVAL);
    assert_status(colb_learner_create(3, &p, NULL), COLB_EINVAL);
    colb_learner_params q = p;
    q.lambda = 0;
    assert_status(colb_learner_create(3, &q, &l), COLB_ERANGE);
    q.lambda = -1;
    assert_status(colb_learner_params_check(&q), COLB_ERANGE);
    assert_string_equal(colb_learner_params_bad_field(&q), "lambda");
    q = p;
    q.delta = 1.0;
    assert_status(colb_learner_create(3, &q, &l), COLB_ERANGE);
    q.delta = 0.0;
    assert_status(colb_learner_create(3, &q, &l), COLB_ERANGE);
    q.delta = NAN;
    assert_status(colb_learner_create(3, &q, &l), COLB_ENONFIN);
    q = p;
    q.alpha = -0.1;
    assert_status(colb_learner_params_check(&q), COLB_ERANGE);
    q = p;
    q.noise = INFINITY;
    assert_status(colb_learner_params_check(&q), COLB_ENONFIN);
    q = p;
    q.width = (colb_width)7;
    assert_status(colb_learner_params_check(&q), COLB_ERANGE);

    assert_ok(colb_learner_create(3, &p, &l));
    const double x[3] = { 1, 2, 3 }, bad[3] = { 1, NAN, 3 }, inf[3] = { INFINITY, 0, 0 };
    assert_ok(colb_learner_update(l, x, 1.0, 1.0));
    double before[3], after[3], ld = colb_learner_logdet(l);
    colb_learner_theta(l, before);
    assert_status(colb_learner_update(l, bad, 1.0, 1.0), COLB_ENONFIN);
    assert_status(colb_learner_update(l, inf, 1.0, 1.0), COLB_ENONFIN);
    assert_status(colb_learner_update(l, x, NAN, 1.0), COLB_ENONFIN);
    assert_status(colb_learner_update(l, x, 1.0, 0.0), COLB_ERANGE);
    assert_status(colb_learner_update(l, x, 1.0, -2.0), COLB_ERANGE);
    assert_status(colb_learner_update(l, x, 1.0, NAN), COLB_ENONFIN);
    assert_status(colb_learner_update(l, NULL, 1.0, 1.0), COLB_EINVAL);
    assert_true(strlen(colb_learner_last_error(l)) > 0);
    colb_learner_theta(l, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(colb_learner_count(l), 1);
    assert_true(colb_learner_logdet(l) == ld);
    size_t arm;
    double sc[2];
    const double X[6] = { 1, 0, 0, 0, NAN, 0 };
    assert_status(colb_learner_choose(l, X, 0, &arm), COLB_EINVAL);
    assert_status(colb_learner_choose(l, X, 2, &arm), COLB_ENONFIN);
    assert_status(colb_learner_choose(l, NULL, 2, &arm), COLB_EINVAL);
    assert_status(colb_learner_choose(l, X, 1, NULL), COLB_EINVAL);
    assert_status(colb_learner_scores(l, X, 1, NULL), COLB_EINVAL);
    /* the errors colb/learner.h lists beyond NULL and NaN */
    const double far[3] = { 2e6, 0, 0 };
    assert_status(colb_learner_scores(l, far, 1, sc), COLB_ERANGE);
    assert_status(colb_learner_scores(l, X, SIZE_MAX / 2, sc), COLB_ERANGE);
    colb_learner *wide = (colb_learner *)l;
    assert_status(colb_learner_create((size_t)COLB_DIM_MAX + 1, &p, &wide), COLB_ERANGE);
    assert_null(wide);
    assert_ok(colb_learner_scores(l, X, 1, sc));
    assert_status(colb_learner_set_norm_bound(l, -1), COLB_ERANGE);
    assert_status(colb_learner_set_norm_bound(l, 2e6), COLB_ERANGE);
    assert_status(colb_learner_set_norm_bound(l, NAN), COLB_ENONFIN); /* as colb/learner.h says */
    assert_status(colb_learner_set_norm_bound(NULL, 1), COLB_EINVAL);
    assert_status(colb_learner_set_noise(l, INFINITY), COLB_ENONFIN);
    assert_status(colb_learner_set_noise(l, NAN), COLB_ENONFIN);
    assert_status(colb_learner_set_prior(l, x), COLB_ESTATE);
    colb_learner_free(l);
    colb_learner_free(NULL);
    assert_string_equal(colb_strerror(COLB_ERANGE), "parameter out of range");
    assert_string_equal(colb_status_name(COLB_ENONFIN), "COLB_ENONFIN");
    assert_string_equal(colb_strerror((colb_status)999), "unknown status");
}

/* colb_learner_create_msg says why a learner was not made, as the other
 * create functions do: the bad argument with its value and range, or the
 * memory estimate against the budget; "" on success; a NULL msg is
 * harmless. colb_learner_create could only return the status (a failed
 * create leaves no learner to hold a message). */
static void test_create_messages(void **state)
{
    (void)state;
    colb_learner_params p, q;
    colb_learner_params_default(&p);
    colb_learner *l = (colb_learner *)&p; /* reset to NULL on failure */
    char msg[256];
    assert_status(colb_learner_create_msg(0, &p, &l, msg, sizeof msg), COLB_EINVAL);
    assert_null(l);
    assert_string_equal(msg, "learner: d = 0; the dimension must be in [1, 65536]");
    assert_status(colb_learner_create_msg((size_t)COLB_DIM_MAX + 1, &p, &l, msg, sizeof msg), COLB_ERANGE);
    assert_string_equal(msg, "learner: d = 65537 exceeds COLB_DIM_MAX = 65536");
    assert_status(colb_learner_create_msg(3, NULL, &l, msg, sizeof msg), COLB_EINVAL);
    assert_string_equal(msg, "learner: NULL parameters");
    assert_status(colb_learner_create_msg(3, &p, NULL, msg, sizeof msg), COLB_EINVAL);
    assert_string_equal(msg, "learner: NULL output pointer");
    q = p;
    q.lambda = 0;
    assert_status(colb_learner_create_msg(3, &q, &l, msg, sizeof msg), COLB_ERANGE);
    assert_string_equal(msg, "learner: lambda = 0 must be in [1e-06, 1e+06]");
    q = p;
    q.width = (colb_width)7;
    assert_status(colb_learner_create_msg(3, &q, &l, msg, sizeof msg), COLB_ERANGE);
    assert_string_equal(msg, "learner: width = 7 is not COLB_WIDTH_OFUL (0) or COLB_WIDTH_FIXED (1)");
    q = p;
    q.alpha = -0.5;
    assert_status(colb_learner_create_msg(3, &q, &l, msg, sizeof msg), COLB_ERANGE);
    assert_string_equal(msg, "learner: alpha = -0.5 must be in [0, 1e+06]");
    q = p;
    q.noise = INFINITY;
    assert_status(colb_learner_create_msg(3, &q, &l, msg, sizeof msg), COLB_ENONFIN);
    assert_string_equal(msg, "learner: noise = inf must be in [0, 1e+06]");
    q = p;
    q.norm_bound = 2e6;
    assert_status(colb_learner_create_msg(3, &q, &l, msg, sizeof msg), COLB_ERANGE);
    assert_string_equal(msg, "learner: norm_bound = 2e+06 must be in [0, 1e+06]");
    q = p;
    q.delta = 1.0;
    assert_status(colb_learner_create_msg(3, &q, &l, msg, sizeof msg), COLB_ERANGE);
    assert_string_equal(msg, "learner: delta = 1 must be in (0, 1)");
    assert_status(colb_learner_create_msg(3, &q, &l, NULL, 0), COLB_ERANGE);
    assert_status(colb_learner_create(3, &q, &l), COLB_ERANGE); /* the same status without a message */
    assert_null(l);
    /* beyond the default budget (48 d^2 bytes: 192G at d = 65536), unless
     * the machine holds it: refused before anything is allocated */
    double d = COLB_DIM_MAX;
    if (48.0 * d * d > (double)colb_memory_budget_default()) {
        assert_status(colb_learner_create_msg(COLB_DIM_MAX, &p, &l, msg, sizeof msg), COLB_ENOMEM);
        if (strncmp(msg, "learner: d = 65536 needs about ", 31) || !strstr(msg, "more than the budget of"))
            fail_msg("'%s'", msg);
        assert_null(l);
    }
    snprintf(msg, sizeof msg, "stale");
    assert_ok(colb_learner_create_msg(3, &p, &l, msg, sizeof msg));
    assert_string_equal(msg, "");
    assert_int_equal(colb_learner_dim(l), 3);
    colb_learner_free(l);
}

/* VmPeak of this process in kB (0 when unknown): the most address space
 * it has held, reserved blocks counted even when never touched. */
static long vm_peak_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmPeak: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* A learner whose six d x d arrays (48 d^2 bytes) exceed the default
 * memory budget is refused before anything is allocated. It was not
 * checked: each d x d malloc fits the machine (d^2 doubles: half its
 * memory here) and succeeds, and once all had, the reset would touch more
 * memory than there is. In a child whose address space holds 2.5 such
 * arrays (so that no version of the call can get as far as touching
 * them), the refusal must come before the reservations: VmPeak stays. */
static void test_huge_dim_refused_first(void **state)
{
    (void)state;
    double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    double dd = floor(sqrt(ram / 16.0));
    size_t d = dd > COLB_DIM_MAX ? COLB_DIM_MAX : (size_t)dd;
    double block = 8.0 * (double)d * (double)d;
    if (48.0 * (double)d * (double)d <= (double)colb_memory_budget_default())
        skip(); /* a machine that holds it */
    colb_learner_params lp;
    colb_learner_params_default(&lp);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (limit_address_space((size_t)(2.5 * block)))
            _exit(10);
        colb_learner *l = NULL;
        long before = vm_peak_kb();
        colb_status st = colb_learner_create(d, &lp, &l);
        long grew = vm_peak_kb() - before;
        _exit(st != COLB_ENOMEM || l ? 1 : grew > (256L << 10) ? 2 : 0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        fail_msg("d = %zu: %s", d, !WIFEXITED(st) ? "the child died" : WEXITSTATUS(st) == 1 ? "not COLB_ENOMEM"
                 : WEXITSTATUS(st) == 2 ? "refused only after reserving its arrays (no budget check)"
                 : "no address-space limit");
    /* within the budget: created as before */
    colb_learner *l = NULL;
    assert_ok(colb_learner_create(1024, &lp, &l));
    colb_learner *c = NULL;
    assert_ok(colb_learner_copy(l, &c));
    colb_learner_free(c);
    colb_learner_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_dense_solve),
        cmocka_unit_test(test_weight_equals_repeats),
        cmocka_unit_test(test_copy_reset_ties_fixed),
        cmocka_unit_test(test_params_in_force),
        cmocka_unit_test(test_accuracy_after_1e6_updates),
        cmocka_unit_test(test_oful_regret),
        cmocka_unit_test(test_invalid_inputs),
        cmocka_unit_test(test_create_messages),
        cmocka_unit_test(test_huge_dim_refused_first),
    };
    return cmocka_run_group_tests_name("learner", tests, NULL, NULL);
}
