/* bench_binding.c - the C side of the Python binding's overhead benchmark
 * (issue 18; bench/bench_binding.py is the Python side): the cost of one
 * `choose` - colb_policy_begin_round + colb_policy_choose_all - and of a
 * whole round (choose, then colb_policy_observe_all + end_round) for N =
 * 200 users, K = 25 arms, d = 15, the call sequence colb.Policy.choose and
 * observe make. The contexts and rewards are fixed formulas that the
 * Python side computes the same way, so both drive the policy through the
 * same states.
 *
 * Times on a shared machine: after 50 rounds of warm-up, REPS runs of
 * ROUNDS rounds each, and the best run's mean per call is printed; wall-
 * clock by default, the thread's CPU time with --cpu (which other
 * processes disturb less). bench_binding.py also counts instructions with
 * callgrind, which the load of the machine does not change at all.
 *
 * The library: the one linked in (libcolb.a), or with --lib PATH the shared
 * library at PATH, opened with dlopen - the very code the binding loads,
 * since a shared build differs a little (-fPIC, calls between exported
 * functions through the PLT).
 *
 * Usage: bench_binding [--cpu] [--lib PATH] [POLICY [ROUNDS [REPS]]]
 *        (default linucb-ind 200 7)
 * Output: one line, "bench_binding: POLICY N=200 K=25 d=15 choose_us=X
 *         round_us=Y (best of REPS runs of ROUNDS rounds)". */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "colb/colb.h"

#define N 200
#define K 25
#define D 15
#define POOL 16   /* distinct context matrices, used in turn */
#define WARMUP 50

static int use_cpu; /* --cpu: the thread's CPU time */

static double now(void)
{
    struct timespec ts;
    clock_gettime(use_cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_binding: %s: %s\n", what, msg);
    exit(1);
}

/* The calls the benchmark makes, from the linked library or a dlopen'ed one. */
#define API(X)                                                                                     \
    X(colb_policy_params_default) X(colb_policy_params_set) X(colb_policy_params_set_clusters)      \
    X(colb_policy_create) X(colb_policy_free) X(colb_policy_last_error) X(colb_policy_begin_round)   \
    X(colb_policy_choose_all) X(colb_policy_observe_all) X(colb_policy_end_round)
static struct {
#define FIELD(f) __typeof__(&f) f;
    API(FIELD)
#undef FIELD
} api = {
#define LINKED(f) f,
    API(LINKED)
#undef LINKED
};

static void open_library(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        die("dlopen", dlerror());
#define RESOLVE(f)                                                                                 \
    if (!(*(void **)&api.f = dlsym(h, #f)))                                                        \
        die("dlsym", #f);
    API(RESOLVE)
#undef RESOLVE
}

int main(int argc, char **argv)
{
    const char *lib = NULL;
    for (;;) {
        if (argc > 1 && !strcmp(argv[1], "--cpu")) {
            use_cpu = 1;
        } else if (argc > 2 && !strcmp(argv[1], "--lib")) {
            lib = argv[2];
            argv++;
            argc--;
        } else {
            break;
        }
        argv++;
        argc--;
    }
    if (lib)
        open_library(lib);
    const char *name = argc > 1 ? argv[1] : "linucb-ind";
    size_t rounds = argc > 2 ? strtoul(argv[2], NULL, 10) : 200;
    size_t reps = argc > 3 ? strtoul(argv[3], NULL, 10) : 7;
    if (!rounds || !reps)
        die("usage", "bench_binding [--cpu] [--lib PATH] [POLICY [ROUNDS [REPS]]]");
    openblas_set_num_threads(1);
    /* round t: contexts X[t % POOL], rewards Y[t % POOL] */
    static double X[POOL][K * D], Y[POOL][N];
    static size_t arms[N], labels[N];
    for (size_t r = 0; r < POOL; r++) {
        for (size_t i = 0; i < K * D; i++)
            X[r][i] = sin(1.0 + (double)(r * K * D + i)) / sqrt((double)D);
        for (size_t u = 0; u < N; u++)
            Y[r][u] = 0.5 * cos((double)(r * N + u));
    }
    for (size_t u = 0; u < N; u++)
        labels[u] = u % 4;
    colb_policy_params pp;
    api.colb_policy_params_default(&pp);
    char msg[512];
    if (api.colb_policy_params_set(&pp, "users", "200", msg, sizeof msg) ||
        api.colb_policy_params_set(&pp, "dim", "15", msg, sizeof msg) ||
        api.colb_policy_params_set(&pp, "horizon", "100000", msg, sizeof msg) ||
        api.colb_policy_params_set_clusters(&pp, labels, 4))
        die("parameters", msg);
    colb_policy *p = NULL;
    if (api.colb_policy_create(name, &pp, &p, msg, sizeof msg) != COLB_OK)
        die("create", msg);
    double best_choose = INFINITY, best_round = INFINITY;
    size_t t = 0;
    for (size_t rep = 0; rep <= reps; rep++) { /* rep 0: warm-up */
        size_t n = rep ? rounds : WARMUP;
        double choose = 0.0, t0 = now();
        for (size_t i = 0; i < n; i++, t++) {
            double c0 = now();
            if (api.colb_policy_begin_round(p, X[t % POOL], K) || api.colb_policy_choose_all(p, arms))
                die("choose", api.colb_policy_last_error(p));
            choose += now() - c0;
            if (api.colb_policy_observe_all(p, arms, Y[t % POOL]) || api.colb_policy_end_round(p))
                die("observe", api.colb_policy_last_error(p));
        }
        double total = now() - t0;
        if (rep && choose / (double)n < best_choose)
            best_choose = choose / (double)n;
        if (rep && total / (double)n < best_round)
            best_round = total / (double)n;
    }
    printf("bench_binding: %s N=%d K=%d d=%d choose_us=%.2f round_us=%.2f (best of %zu runs of %zu "
           "rounds, %s)\n", name, N, K, D, 1e6 * best_choose, 1e6 * best_round, reps, rounds,
           lib ? lib : "linked libcolb.a");
    api.colb_policy_free(p);
    return 0;
}
