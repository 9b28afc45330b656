/* bench.c - throughput of colb's kernels next to the machine's DGEMM rate.
 *
 *   1. DGEMM 1000 x 1000 x 1000 (OpenBLAS), single-threaded and with all
 *      threads: the floating-point ceiling.
 *   2. One learner: choose (K = 25 arms) + update, decisions per second for
 *      d in {5, 15, 25, 50, 100}.
 *   3. Many users sharing a round's contexts: user-decisions per second of
 *      LinUCB-Ind and CMLB at N in {100, 1000, 10000}, d = 15, K = 25.
 * Flops per decision are counted as the issue tracker specifies:
 * 2 K d^2 + 2 K d + 2 d^2 (scores, means, update). Single-threaded figures
 * are compared with the single-threaded DGEMM rate, since the simulator runs
 * one job per thread.
 *
 * Usage: bench [--quick]     (make bench builds it with -march=native) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "colb/colb.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double dgemm_gflops(int n, int threads)
{
    openblas_set_num_threads(threads);
    double *A = malloc((size_t)n * n * sizeof(double)), *B = malloc((size_t)n * n * sizeof(double)),
           *C = malloc((size_t)n * n * sizeof(double));
    colb_rng r;
    colb_rng_seed(&r, 1, 0);
    colb_rng_normal_fill(&r, A, (size_t)n * n, 1.0);
    colb_rng_normal_fill(&r, B, (size_t)n * n, 1.0);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A, n, B, n, 0.0, C, n);
        double g = 2.0 * n * n * (double)n / (now() - t0) / 1e9;
        if (g > best)
            best = g;
    }
    free(A);
    free(B);
    free(C);
    openblas_set_num_threads(1);
    return best;
}

static double flops_per_decision(double d, double K)
{
    return 2 * K * d * d + 2 * K * d + 2 * d * d;
}

/* One learner: decisions per second at dimension d. */
static double bench_learner(size_t d, size_t K, double seconds)
{
    colb_learner_params p;
    colb_learner_params_default(&p);
    colb_learner *l;
    if (colb_learner_create(d, &p, &l) != COLB_OK)
        return 0;
    enum { NCTX = 64 };
    double *X = malloc(NCTX * K * d * sizeof(double));
    colb_rng r;
    colb_rng_seed(&r, 2, d);
    colb_rng_normal_fill(&r, X, NCTX * K * d, 1.0 / sqrt((double)d));
    size_t n = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < 256; i++, n++) {
            const double *Xi = X + (n % NCTX) * K * d;
            size_t a;
            colb_learner_choose(l, Xi, K, &a);
            colb_learner_update(l, Xi + a * d, 0.1 * (double)(n % 7), 1.0);
        }
        t = now() - t0;
    } while (t < seconds);
    free(X);
    colb_learner_free(l);
    return (double)n / t;
}

/* A multi-user policy: user-decisions per second (choose_all + observe_all). */
static double bench_policy(const char *name, size_t N, size_t d, size_t K, double seconds,
                           size_t *rounds_out)
{
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = d;
    pp.horizon = 1000;
    pp.cmlb_C = 0.002; /* CMLB: a short individual phase (3 to 17 rounds), then cluster learners */
    colb_policy *p;
    char msg[256];
    if (colb_policy_create(name, &pp, &p, msg, sizeof msg) != COLB_OK) {
        fprintf(stderr, "bench: %s\n", msg);
        return 0;
    }
    enum { NCTX = 16 };
    double *X = malloc(NCTX * K * d * sizeof(double)), *y = malloc(N * sizeof(double));
    size_t *arms = malloc(N * sizeof(size_t));
    colb_rng r;
    colb_rng_seed(&r, 3, N);
    colb_rng_normal_fill(&r, X, NCTX * K * d, 1.0 / sqrt((double)d));
    colb_rng_normal_fill(&r, y, N, 1.0);
    size_t rounds = 0;
    double t0 = now(), t;
    do {
        const double *Xr = X + (rounds % NCTX) * K * d;
        colb_policy_begin_round(p, Xr, K);
        colb_policy_choose_all(p, arms);
        colb_policy_observe_all(p, arms, y);
        colb_policy_end_round(p);
        rounds++;
        t = now() - t0;
    } while (t < seconds && rounds < 1000);
    *rounds_out = rounds;
    free(X);
    free(y);
    free(arms);
    colb_policy_free(p);
    return (double)rounds * (double)N / t;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    double sec = quick ? 0.2 : 1.0;
    double g1 = dgemm_gflops(1000, 1), gall = dgemm_gflops(1000, 2);
    printf("colb %s bench\n", COLB_VERSION_STRING);
    printf("DGEMM 1000x1000: %.2f GFLOP/s on 1 thread, %.2f GFLOP/s on 2 threads\n\n", g1, gall);

    printf("One learner, K = 25 arms, choose + update:\n");
    printf("%5s %16s %12s %14s\n", "d", "decisions/s", "GFLOP/s", "of 1-thr DGEMM");
    const size_t dims[] = { 5, 15, 25, 50, 100 };
    for (size_t i = 0; i < 5; i++) {
        double r = bench_learner(dims[i], 25, sec);
        double gf = r * flops_per_decision((double)dims[i], 25) / 1e9;
        printf("%5zu %16.0f %12.2f %13.1f%%\n", dims[i], r, gf, 100 * gf / g1);
    }

    printf("\nMany users, d = 15, K = 25, one thread (choose_all + observe_all per round):\n");
    printf("%-11s %7s %7s %18s %12s %14s\n", "policy", "N", "rounds", "user-decisions/s", "GFLOP/s",
           "of 1-thr DGEMM");
    const size_t Ns[] = { 100, 1000, 10000 };
    const char *pols[] = { "linucb-ind", "cmlb" };
    for (size_t pi = 0; pi < 2; pi++)
        for (size_t i = 0; i < 3; i++) {
            size_t rounds = 0;
            double r = bench_policy(pols[pi], Ns[i], 15, 25, sec, &rounds);
            double gf = r * flops_per_decision(15, 25) / 1e9;
            printf("%-11s %7zu %7zu %18.0f %12.2f %13.1f%%\n", pols[pi], Ns[i], rounds, r, gf, 100 * gf / g1);
        }
    printf("\n(CMLB's GFLOP/s uses the same nominal count; after clustering it does far less work\n"
           " per user, so its figure is an equivalent rate, not a measured flop rate.)\n");
    return 0;
}
