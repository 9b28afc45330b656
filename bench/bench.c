/* bench.c - colb's speed on this machine, next to its floating-point ceiling
 * measured in the same run. Sections (docs/performance.md is written from
 * this output):
 *
 *   1. The ceiling: DGEMM 1000^3 on one thread of every installed Debian BLAS
 *      (bench/dlblas.h); the best is "the machine's DGEMM peak", against
 *      which every flop rate below is given.
 *   2. The SoA kernels (src/linalg/soa_kernel_*.c), each path this CPU runs:
 *      choose (a block of 8 users on K = 25 arms), update (a block's rank-one
 *      step), score1 and score_x (one model on K arms) and score_lane (one
 *      model of a block, products rounded), GFLOP/s and % of the peak.
 *      Flops: choose 8 K (2P + 2d) (the quadratic form <A, x x^T> and the
 *      mean), update 8 (2 d^2 + 2P + 8d), score1 K (2P + 2d), score_x K (2P
 *      + 5d), score_lane K (3P + 3d); P = d(d+1)/2.
 *   3. Policies, N = 200, d = 15, K = 25, one thread, decisions per second
 *      of the policy calls (begin_round, choose_all or choose + observe,
 *      end_round; the environment's contexts precomputed), per kernel path;
 *      then the clustering policies with rewards linear in 5 groups' models
 *      (their cost follows the partition's movement).
 *   4. Bytes per user (the bank's arrays; and the process's peak RSS growth
 *      when a 10^6-user LinUCB-Ind policy runs a round).
 *   5. LinUCB-Ind scaling with N (200 ... 10^6) on 1 and 2 threads, and with
 *      d (5 ... 50), decisions per second.
 *   6. MAXIMAL-CLUSTER (colb_maximal_cluster: CMLB's clustering call at the
 *      end of its exploration, SCLB's at each phase), N = 10,000 ... 50,000
 *      estimates in 35 groups, d = 15, per-user radii: ms per call, best of
 *      3 (1 at N = 50,000) - an O(N^2 d) call that a service pays once.
 * Times are this thread's CPU time (1 thread) or wall time (2 threads), best
 * of 3: the machine is shared, and the neighbours' load shows in wall time.
 *
 * Usage: bench [--quick] [--section S]   (make bench builds it with -O3
 * -march=native; --section S runs section S alone, after section 1, the
 * ceilings, when S quotes them: 2 and 5; --quick: N = 10,000 alone in 6) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#include "colb/colb.h"
#include "dlblas.h"
#include "linalg/soa_bank.h"

static const char *const PATHS[] = { "avx512", "avx2", "portable" };
#define N_PATHS 3

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int have_path(const char *name)
{
    const colb__soa_kernel *k;
    return colb__soa_pick_kernel(name, &k) == COLB_OK;
}

/* The FMA peak of one core: 16 independent chains of vector FMAs (enough to
 * cover the latency of two FMA units), flops counted as 2 per lane. Needs
 * the build's -march=native; 0 without AVX2/AVX-512. */
static double fma_peak(double sec, const char **isa)
{
#if defined(__AVX512F__)
    *isa = "AVX-512";
    __m512d acc[16], m = _mm512_set1_pd(0.999999), a = _mm512_set1_pd(1e-9);
    for (int i = 0; i < 16; i++)
        acc[i] = _mm512_set1_pd((double)i);
    const double lanes = 8;
#define VFMA _mm512_fmadd_pd
#elif defined(__AVX2__) && defined(__FMA__)
    *isa = "AVX2";
    __m256d acc[16], m = _mm256_set1_pd(0.999999), a = _mm256_set1_pd(1e-9);
    for (int i = 0; i < 16; i++)
        acc[i] = _mm256_set1_pd((double)i);
    const double lanes = 4;
#define VFMA _mm256_fmadd_pd
#else
    *isa = "none";
    (void)sec;
    return 0.0;
#endif
#ifdef VFMA
    double best = 0.0;
    for (int rep = 0; rep < 3; rep++) {
        size_t n = 0;
        double t0 = dlblas_cpu_now(), t;
        /* the clock read at most every ~0.5 ms: a thread-CPU clock read is a
         * system call here (1.3 us), 12 % of a read every 4096 iterations */
        do {
            for (int it = 0; it < 262144; it++) {
                _Pragma("GCC unroll 16")
                for (int i = 0; i < 16; i++)
                    acc[i] = VFMA(acc[i], m, a);
            }
            n += 262144;
        } while ((t = dlblas_cpu_now() - t0) < sec);
        double g = (double)n * 16.0 * lanes * 2.0 / t / 1e9;
        best = g > best ? g : best;
    }
    /* every chain is observed: with acc[0] alone, the compiler dropped the
     * other 15 as dead code and one latency-bound chain was counted as 16
     * (twice the real peak on this machine) */
    double sink[8], total = 0.0;
    for (int i = 0; i < 16; i++) {
        memcpy(sink, &acc[i], sizeof(double) * (size_t)lanes);
        total += sink[0];
    }
    if (total == 12345.0)
        printf("!");
    return best;
#undef VFMA
#endif
}

/* ---- 2. kernels ---- */

typedef struct kres {
    double choose, update, score1, score_x, score_lane; /* GFLOP/s */
} kres;

/* Kernel calls between two reads of the thread-CPU clock (a system call
 * here, 1.3 us: read every 64 calls it was 8-9 % of an update batch). */
#define CALLS 1024

static kres bench_kernels(const colb__soa_kernel *k, size_t d, size_t K, double sec)
{
    size_t P = d * (d + 1) / 2, Kp = (K + 7) / 8 * 8;
    double *A = malloc(P * 8 * sizeof(double)), *th = calloc(d * 8, sizeof(double)),
           *b = calloc(d * 8, sizeof(double)), *X = malloc(K * d * sizeof(double)),
           *Q = malloc(P * K * sizeof(double)), *Qp = malloc(P * Kp * sizeof(double)),
           *Xt = malloc(d * Kp * sizeof(double)), *xs = malloc(d * 8 * sizeof(double)),
           *work = malloc(d * 8 * sizeof(double)), *sc = malloc(Kp * sizeof(double)),
           *Af = calloc(d * d, sizeof(double));
    colb_rng r;
    colb_rng_seed(&r, 4, d);
    colb_rng_normal_fill(&r, X, K * d, 1.0 / sqrt((double)d));
    colb_rng_normal_fill(&r, xs, d * 8, 1.0 / sqrt((double)d));
    for (size_t i = 0, e = 0; i < d; i++)
        for (size_t j = i; j < d; j++, e++)
            for (size_t l = 0; l < 8; l++)
                A[e * 8 + l] = i == j ? 1.0 : 0.0;
    for (size_t i = 0; i < d; i++)
        Af[i * d + i] = 1.0;
    colb__soa_outer(X, K, d, K, Q, Xt); /* Xt overwritten below */
    colb__soa_outer(X, K, d, Kp, Qp, Xt);
    double width[8] = { 1, 1, 1, 1, 1, 1, 1, 1 }, y[8] = { 0 }, w[8], ry[8] = { 0 }, ws[8];
    uint32_t best[8];
    kres o = { 0, 0, 0, 0, 0 };
    for (int rep = 0; rep < 3; rep++) {
        size_t n = 0;
        double t0 = dlblas_cpu_now(), t;
        do {
            for (int i = 0; i < CALLS; i++, n++) {
                width[n % 8] = 1.0 + 1e-12 * (double)(n % 5);
                k->choose(A, th, width, Q, X, d, K, best, NULL);
            }
        } while ((t = dlblas_cpu_now() - t0) < sec);
        double g = (double)n * 8.0 * (double)K * (2.0 * (double)P + 2.0 * (double)d) / t / 1e9;
        o.choose = g > o.choose ? g : o.choose;
        /* updates with weight ~0 keep A well conditioned over any count */
        for (size_t l = 0; l < 8; l++)
            w[l] = 1e-9;
        n = 0;
        t0 = dlblas_cpu_now();
        do {
            for (int i = 0; i < CALLS; i++, n++)
                k->update(A, b, th, ws, xs, y, w, ry, d, work);
        } while ((t = dlblas_cpu_now() - t0) < sec);
        g = (double)n * 8.0 * (2.0 * (double)(d * d) + 2.0 * (double)P + 9.0 * (double)d) / t / 1e9;
        o.update = g > o.update ? g : o.update;
        n = 0;
        t0 = dlblas_cpu_now();
        size_t sink = 0;
        do {
            for (int i = 0; i < CALLS; i++, n++)
                sink += k->score1(A, xs, 1.0, 1.0 + 1e-12 * (double)(n % 3), Qp, Xt, d, K, Kp, sc);
        } while ((t = dlblas_cpu_now() - t0) < sec);
        g = (double)n * (double)K * (2.0 * (double)P + 2.0 * (double)d) / t / 1e9;
        o.score1 = g > o.score1 ? g : o.score1;
        /* score_x on a full d x d A (the identity: its upper triangle read) */
        n = 0;
        t0 = dlblas_cpu_now();
        do {
            for (int i = 0; i < CALLS; i++, n++)
                sink += k->score_x(Af, d, xs, 1.0, 1.0 + 1e-12 * (double)(n % 3), Xt, d, K, Kp, sc, NULL, NULL);
        } while ((t = dlblas_cpu_now() - t0) < sec);
        /* per arm: the off-diagonal terms 2 (P - d), each diagonal row 5
         * (fmadd(x, fmadd(e, x, t + t))), the mean 2 d */
        g = (double)n * (double)K * (2.0 * (double)P + 5.0 * (double)d) / t / 1e9;
        o.score_x = g > o.score_x ? g : o.score_x;
        /* score_lane on model 0 of the block (stride 8), Xt as above: per
         * arm 3 (P - d) for the off-diagonal terms (two products rounded and
         * a sum), 4 d for the diagonal ones and 2 x, 2 d for the mean; no
         * FMA, so at most half the FMA peak's flop rate */
        n = 0;
        t0 = dlblas_cpu_now();
        do {
            for (int i = 0; i < CALLS; i++, n++) {
                k->score_lane(A, th, 1.0 + 1e-12 * (double)(n % 3), Xt, d, Kp, sc);
                sink += sc[n % K] > 0.0;
            }
        } while ((t = dlblas_cpu_now() - t0) < sec);
        g = (double)n * (double)K * (3.0 * (double)P + 3.0 * (double)d) / t / 1e9;
        o.score_lane = g > o.score_lane ? g : o.score_lane;
        if (sink == (size_t)-1)
            printf("!");
    }
    free(A), free(th), free(b), free(X), free(Q), free(Qp), free(Xt), free(xs), free(work), free(sc), free(Af);
    return o;
}

/* ---- 3. and 5. policies ---- */

static double linear_reward(const double *theta, const double *x, size_t d, double eps)
{
    double s = eps;
    for (size_t j = 0; j < d; j++)
        s += theta[j] * x[j];
    return s;
}

/* Decisions per second of `name` with N users of dimension d (K arms),
 * `threads` threads inside the policy, on `rounds` rounds (at least `sec`
 * seconds, best of `reps`). Sequential policies are served user by user.
 * Rewards: `clusters` = 0, random (independent of the arm: a clustering
 * policy keeps everyone in one cluster); else linear, y = <theta_g, x> +
 * 0.1 noise with user u in group g = u % clusters (theta_g random, norm
 * about 1): the partition of a clustering policy moves, as in a run. */
static double bench_policy_rewards(const char *name, size_t N, size_t d, size_t K,
                                   size_t threads, size_t rounds, double sec, int reps,
                                   size_t clusters)
{
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = d;
    pp.horizon = 1000;
    pp.threads = threads;
    enum { NCTX = 16 };
    double *X = malloc(NCTX * K * d * sizeof(double)), *y = malloc(N * sizeof(double));
    size_t *arms = malloc(N * sizeof(size_t)), *labels = malloc(N * sizeof(size_t));
    if (!X || !y || !arms || !labels)
        return 0.0;
    for (size_t u = 0; u < N; u++)
        labels[u] = u % 10;
    pp.true_cluster = labels;
    pp.n_clusters = 10;
    colb_rng r;
    colb_rng_seed(&r, 3, N);
    colb_rng_normal_fill(&r, X, NCTX * K * d, 1.0 / sqrt((double)d));
    colb_rng_normal_fill(&r, y, N, 1.0);
    enum { NNOISE = 4096 };
    double *theta = malloc((clusters ? clusters : 1) * d * sizeof(double)),
           *noise = malloc(NNOISE * sizeof(double));
    if (!theta || !noise)
        return 0.0;
    colb_rng_normal_fill(&r, theta, (clusters ? clusters : 1) * d, 1.0 / sqrt((double)d));
    colb_rng_normal_fill(&r, noise, NNOISE, 0.1);
    size_t ni = 0;
    double best = 0.0;
    for (int rep = 0; rep < reps; rep++) {
        colb_policy *p;
        char msg[256];
        if (colb_policy_create(name, &pp, &p, msg, sizeof msg) != COLB_OK) {
            fprintf(stderr, "bench: %s: %s\n", name, msg);
            break;
        }
        int seq = colb_policy_is_sequential(p);
        size_t done = 0;
        double t0 = threads > 1 ? wall_now() : dlblas_cpu_now(), t;
        do {
            const double *Xr = X + (done % NCTX) * K * d;
            colb_policy_begin_round(p, Xr, K);
            if (seq) {
                for (size_t u = 0; u < N; u++) {
                    size_t a;
                    colb_policy_choose(p, u, &a);
                    if (clusters)
                        y[u] = linear_reward(theta + u % clusters * d, Xr + a * d, d,
                                             noise[ni++ % NNOISE]);
                    colb_policy_observe(p, u, a, y[u]);
                }
            } else {
                colb_policy_choose_all(p, arms);
                for (size_t u = 0; u < N && clusters; u++)
                    y[u] = linear_reward(theta + u % clusters * d, Xr + arms[u] * d, d,
                                         noise[ni++ % NNOISE]);
                colb_policy_observe_all(p, arms, y);
            }
            colb_policy_end_round(p);
            done++;
            t = (threads > 1 ? wall_now() : dlblas_cpu_now()) - t0;
        } while (done < rounds || t < sec);
        colb_policy_free(p);
        double rate = (double)done * (double)N / t;
        best = rate > best ? rate : best;
    }
    free(X);
    free(y);
    free(arms);
    free(labels);
    free(theta);
    free(noise);
    return best;
}

static double bench_policy(const char *name, size_t N, size_t d, size_t K, size_t threads,
                           size_t rounds, double sec, int reps)
{
    return bench_policy_rewards(name, N, d, K, threads, rounds, sec, reps, 0);
}

/* One row of section 3: `name` on every kernel path; rewards as
 * bench_policy_rewards (clusters 0: random). */
static void policy_row(const char *name, size_t clusters, double sec)
{
    if (clusters)
        printf("| %s, clustered rewards (%zu groups, noise 0.1) |", name, clusters);
    else
        printf("| %s |", name);
    for (int pi = 0; pi < N_PATHS; pi++) {
        if (!have_path(PATHS[pi])) {
            printf(" - |");
            continue;
        }
        setenv("COLB_KERNEL", PATHS[pi], 1);
        printf(" %.0f |", bench_policy_rewards(name, 200, 15, 25, 1, 1000, sec, 3, clusters));
        fflush(stdout);
    }
    printf("\n");
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Section 1: the ceilings, DGEMM of every BLAS found and the FMA peak
 * (*fpeak). Returns the DGEMM peak (GFLOP/s; 1 when no BLAS was found). */
static double section_ceiling(int quick, double sec, double *fpeak)
{
    double peak = 0.0;
    dlblas_open_all();
    const char *peak_lib = "none";
    printf("## 1. The ceiling: DGEMM 1000^3, one thread (thread CPU time, best of 3)\n\n");
    printf("| BLAS | kernels | GFLOP/s |\n|---|---|---:|\n");
    for (size_t i = 0; i < N_DLBLAS; i++) {
        if (!DLBLAS[i].h)
            continue;
        double g = dlblas_gflops(&DLBLAS[i], 1000, 1000, 1000, 1, quick ? 1 : 3);
        printf("| %s | %s | %.2f |\n", DLBLAS[i].name, DLBLAS[i].kernel, g);
        if (g > peak) {
            peak = g;
            peak_lib = DLBLAS[i].name;
        }
    }
    const char *isa = "none";
    *fpeak = fma_peak(sec, &isa);
    printf("\nmachine DGEMM peak (one thread): %.2f GFLOP/s (%s)\n", peak, peak_lib);
    printf("FMA peak (%s, 16 independent chains, one thread): %.2f GFLOP/s\n\n", isa, *fpeak);
    return peak > 0.0 ? peak : 1.0;
}

/* Section 2: the SoA kernels on every path, against both ceilings. */
static void section_kernels(double peak, double fpeak, double sec)
{
    /* both ceilings: Debian's OpenBLAS runs its Haswell (AVX2) kernels on this
     * AVX-512 CPU, so its DGEMM is ~0.6 of what the machine's FMA units give
     * a DGEMM with AVX-512 kernels; the FMA peak is the machine's own */
    printf("## 2. SoA kernels, d = 15, K = 25, one thread (GFLOP/s; %% of the DGEMM peak above; "
           "%% of the FMA peak)\n\n");
    printf("| path | choose (block of 8) | update (block of 8) | score1 (one model) | score_x (one "
           "model, no table) | score_lane (one model of a block, products rounded) |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    for (int pi = 0; pi < N_PATHS; pi++) {
        const colb__soa_kernel *k;
        if (colb__soa_pick_kernel(PATHS[pi], &k) != COLB_OK) {
            printf("| %s | (not on this CPU) | | | | |\n", PATHS[pi]);
            continue;
        }
        kres o = bench_kernels(k, 15, 25, sec);
        double f = fpeak > 0 ? 100 / fpeak : 0.0;
        printf("| %s | %.2f (%.0f%%; %.0f%%) | %.2f (%.0f%%; %.0f%%) | %.2f (%.0f%%; %.0f%%) | %.2f "
               "(%.0f%%; %.0f%%) | %.2f (%.0f%%; %.0f%%) |\n",
               PATHS[pi], o.choose, 100 * o.choose / peak, f * o.choose, o.update, 100 * o.update / peak,
               f * o.update, o.score1, 100 * o.score1 / peak, f * o.score1, o.score_x, 100 * o.score_x / peak,
               f * o.score_x, o.score_lane, 100 * o.score_lane / peak, f * o.score_lane);
        fflush(stdout);
    }
}

/* Section 3: every policy's decisions/s on every kernel path. */
static void section_policies(double sec)
{
    static const char *const pols[] = { "cohort", "linucb-ind", "cmlb", "pmlb", "club",
                                        "oracle", "pooled", "sclb", "random" };
    printf("\n## 3. Policies, N = 200, d = 15, K = 25, one thread: decisions/s (policy calls "
           "only)\n\n| policy |");
    for (int pi = 0; pi < N_PATHS; pi++)
        printf(" %s |", PATHS[pi]);
    printf("\n|---|---:|---:|---:|\n");
    for (size_t q = 0; q < sizeof pols / sizeof pols[0]; q++)
        policy_row(pols[q], 0, sec);
    /* clustering policies whose cost follows the partition's movement */
    policy_row("cohort", 5, sec);
    policy_row("club", 5, sec);
    policy_row("locb", 5, sec);
    unsetenv("COLB_KERNEL");
}

static const size_t DIMS[] = { 5, 10, 15, 25, 50 };
#define N_DIMS (sizeof DIMS / sizeof DIMS[0])

/* Section 4: bytes per user, and the peak RSS of a million users. */
static void section_memory(int quick)
{
    printf("\n## 4. Bytes per user (LinUCB-Ind's bank: packed A, b, theta, ln det V, "
           "count, R, S, a pending update)\n\n| d | bytes/user |\n|---:|---:|\n");
    for (size_t i = 0; i < N_DIMS; i++)
        printf("| %zu | %zu |\n", DIMS[i], colb__soa_bytes_per_model(DIMS[i]));
    long rss0 = max_rss_kb();
    size_t bigN = quick ? 100000 : 1000000;
    double big = bench_policy("linucb-ind", bigN, 15, 25, 1, 2, 0.0, 1);
    long rss1 = max_rss_kb();
    printf("\nLinUCB-Ind with N = %zu, d = 15: peak RSS grew by %.0f MB (%.0f bytes/user: the bank, the "
           "policy layer's and this benchmark's per-user arrays, less what earlier sections freed); %.0f "
           "decisions/s\n", bigN,
           (double)(rss1 - rss0) / 1024.0, (double)(rss1 - rss0) * 1024.0 / (double)bigN, big);
}

/* Section 5: LinUCB-Ind's scaling with N and threads, and with d against
 * the DGEMM peak. */
static void section_scaling(int quick, double sec, double peak)
{
    printf("\n## 5. LinUCB-Ind scaling, d = 15, K = 25: decisions/s\n\n");
    printf("| N | 1 thread | 2 threads |\n|---:|---:|---:|\n");
    static const size_t Ns[] = { 200, 2000, 20000, 200000, 1000000 };
    for (size_t i = 0; i < 5; i++) {
        if (quick && Ns[i] > 20000)
            break;
        size_t rounds = Ns[i] >= 200000 ? 3 : 20;
        double r1 = bench_policy("linucb-ind", Ns[i], 15, 25, 1, rounds, sec, 3);
        double r2 = bench_policy("linucb-ind", Ns[i], 15, 25, 2, rounds, sec, 3);
        printf("| %zu | %.0f | %.0f |\n", Ns[i], r1, r2);
        fflush(stdout);
    }
    printf("\n| d | decisions/s (N = 2000, 1 thread) | GFLOP/s (choose + update) | of peak |\n"
           "|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < N_DIMS; i++) {
        double d = (double)DIMS[i], P = d * (d + 1) / 2;
        double r = bench_policy("linucb-ind", 2000, DIMS[i], 25, 1, 20, sec, 3);
        double g = r * (25.0 * (2 * P + 2 * d) + 2 * d * d + 2 * P + 8 * d) / 1e9;
        printf("| %zu | %.0f | %.2f | %.0f%% |\n", DIMS[i], r, g, 100 * g / peak);
        fflush(stdout);
    }
}

static void section_clustering(int quick)
{
    printf("\n## 6. MAXIMAL-CLUSTER, d = 15, 35 groups, per-user radii: ms per call "
           "(thread CPU time)\n\n| N | ms | clusters |\n|---:|---:|---:|\n");
    static const size_t Ns[] = { 10000, 20000, 50000 };
    enum { d = 15, G = 35 };
    for (size_t t = 0; t < sizeof Ns / sizeof Ns[0] && !(quick && t > 0); t++) {
        size_t N = Ns[t], n = 0, *labels = malloc(N * sizeof(size_t));
        double *theta = malloc(N * d * sizeof(double)), *radius = malloc(N * sizeof(double)), centre[G * d];
        if (!labels || !theta || !radius) {
            fprintf(stderr, "bench: out of memory\n");
            exit(1);
        }
        colb_rng r;
        colb_rng_seed(&r, 6, 0);
        colb_rng_normal_fill(&r, centre, G * d, 0.3);
        for (size_t i = 0; i < N; i++) {
            for (size_t j = 0; j < d; j++)
                theta[i * d + j] = centre[(i % G) * d + j] + 0.01 * (colb_rng_uniform(&r) - 0.5);
            radius[i] = 0.01 + 0.02 * colb_rng_uniform(&r);
        }
        double best = 1e300;
        for (int rep = 0; rep < (N >= 50000 ? 1 : 3); rep++) {
            double t0 = dlblas_cpu_now();
            if (colb_maximal_cluster(theta, N, d, 0.0, radius, 0.0, labels, &n) != COLB_OK) {
                fprintf(stderr, "bench: colb_maximal_cluster failed\n");
                exit(1);
            }
            double el = dlblas_cpu_now() - t0;
            best = el < best ? el : best;
        }
        printf("| %zu | %.1f | %zu |\n", N, 1e3 * best, n);
        fflush(stdout);
        free(labels);
        free(theta);
        free(radius);
    }
}

int main(int argc, char **argv)
{
    int quick = 0, sect = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--section") && i + 1 < argc && atoi(argv[i + 1]) >= 1 &&
                 atoi(argv[i + 1]) <= 6)
            sect = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench [--quick] [--section 1-6]\n");
            return 2;
        }
    }
    double sec = quick ? 0.05 : 0.3;
    printf("colb %s bench (%s)\n\n", COLB_VERSION_STRING, COLB_BUILD_FLAGS);
    /* sections 2 and 5 quote the ceiling: measured (and printed) first */
    double fpeak = 0.0, peak = 1.0;
    if (sect == 0 || sect == 1 || sect == 2 || sect == 5)
        peak = section_ceiling(quick, sec, &fpeak);
    if (sect == 0 || sect == 2)
        section_kernels(peak, fpeak, sec);
    if (sect == 0 || sect == 3)
        section_policies(sec);
    if (sect == 0 || sect == 4)
        section_memory(quick);
    if (sect == 0 || sect == 5)
        section_scaling(quick, sec, peak);
    if (sect == 0 || sect == 6)
        section_clustering(quick);
    return 0;
}
