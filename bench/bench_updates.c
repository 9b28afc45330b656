/* bench_updates.c - what a policy costs the way a service feeds it: for
 * each user in turn, a choice round of one user among K = 25 contexts
 * (begin_round, choose, end_round: a choose request) and then
 * colb_policy_update with the chosen context (a reward request), d = 15.
 * The thread's CPU time of every call is recorded (a shared machine
 * disturbs it less than wall-clock time), less the cost of reading the
 * clock (measured at the start): each kind's mean, and over all
 * calls the p99, p99.9 and the largest, and the calls above 1 ms and 5 ms
 * - the tail a service's requests see when a call carries a policy's
 * periodic work (cohort's epochs run in the ends of both kinds of round:
 * docs/cohort.md §3).
 *
 * Two loads:
 *   serve      bench_serve's: contexts from 64 fixed sets uniform in
 *              [-1, 1], rewards uniform on [0, 1] whatever the context (no
 *              linear structure: cohort's worst case, thousands of small
 *              clusters);
 *   clustered  4 groups of users with unit-norm parameters, contexts
 *              N(0, 1/d), rewards linear plus noise 0.1.
 *
 * On this machine a thread's CPU time also counts some of the host's
 * stalls (a busy loop's CPU clock jumped by over 1 ms 26 times in 20 s,
 * once by 5.2 ms: docs/performance.md, "The recommended policy"), so one
 * run cannot tell a slow call of the policy from a stall. The calls
 * are deterministic: --runs R runs each load R times, each in a process of
 * its own (forked: what a fresh process pays, such as the first touch of
 * memory, is in every run), and adds a row of each call's least time over
 * the R runs ("least of R"), in which a call is slow only if it was slow
 * every time - the policy's own work.
 *
 * Usage: bench_updates [--quick] [--policy NAME] [--users N] [--steps S]
 *                      [--load serve|clustered] [--runs R]
 *        (defaults: recommended, N = 10,000, 150,000 updates per load,
 *        both loads, one run; --quick: N = 2,000, 30,000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "colb/colb.h"

enum { D = 15, K = 25, SETS = 64 };

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* What one cpu_now costs (the least of many back-to-back pairs: on a
 * paravirtualised guest a thread CPU clock read is a system call of
 * ~1 us), taken off every call's time. */
static double clock_cost(void)
{
    double best = INFINITY;
    for (int i = 0; i < 1000; i++) {
        double a = cpu_now(), b = cpu_now();
        best = b - a < best ? b - a : best;
    }
    return best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A table row of the calls' times t[0, 2 steps) (a choice round's at even
 * indices, an update's at odd ones; sorted here). */
static void row(const char *policy, const char *load, size_t N, long steps, double *t, const char *state)
{
    long n = 2 * steps, over1 = 0, over5 = 0;
    double total[2] = { 0.0, 0.0 };
    for (long i = 0; i < n; i++) {
        total[i % 2] += t[i];
        over1 += t[i] > 1e-3;
        over5 += t[i] > 5e-3;
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    printf("| %s | %s | %zu | %ld | %.1f | %.1f | %.0f | %.0f | %.2f | %ld | %ld | %s |\n", policy, load, N,
           steps, total[0] / (double)steps * 1e6, total[1] / (double)steps * 1e6, t[n * 99 / 100] * 1e6,
           t[n * 999 / 1000] * 1e6, t[n - 1] * 1e3, over1, over5, state);
}

/* One load: `steps` one-user rounds; prints a table row. tc: what a clock
 * read costs (clock_cost). out (NULL, or 2 steps doubles) receives each
 * call's time, in call order. 0 or -1. */
static int run(const char *policy, const char *load, size_t N, long steps, double tc, double *out)
{
    int structured = !strcmp(load, "clustered");
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = D;
    pp.seed = 3;
    colb_policy *p = NULL;
    char msg[256];
    if (colb_policy_create(policy, &pp, &p, msg, sizeof msg)) {
        fprintf(stderr, "bench_updates: %s\n", msg);
        return -1;
    }
    colb_rng r;
    colb_rng_seed(&r, 1, 7);
    static double sets[SETS][K * D], X[K * D], th[4][D];
    for (int s = 0; s < SETS; s++)
        for (int i = 0; i < K * D; i++)
            sets[s][i] = 2.0 * colb_rng_uniform(&r) - 1.0;
    for (int g = 0; g < 4; g++) {
        double n2 = 0.0;
        colb_rng_normal_fill(&r, th[g], D, 1.0);
        for (int j = 0; j < D; j++)
            n2 += th[g][j] * th[g][j];
        for (int j = 0; j < D; j++)
            th[g][j] /= sqrt(n2);
    }
    double *t = malloc(2 * (size_t)steps * sizeof *t);
    if (!t) {
        colb_policy_free(p);
        return -1;
    }
    for (long s = 0; s < steps; s++) {
        size_t u = (size_t)s % N, arm;
        const double *x = X;
        double y;
        if (structured)
            colb_rng_normal_fill(&r, X, K * D, 1.0 / sqrt((double)D));
        else
            x = sets[(int)(colb_rng_uniform(&r) * SETS)];
        double t0 = cpu_now();
        if (colb_policy_begin_round(p, x, K) || colb_policy_choose(p, u, &arm) ||
            colb_policy_end_round(p))
            goto fail;
        double t1 = cpu_now();
        t[2 * s] = t1 - t0 - tc > 0.0 ? t1 - t0 - tc : 0.0;
        if (structured) {
            y = 0.1 * colb_rng_normal(&r);
            for (int j = 0; j < D; j++)
                y += th[u % 4][j] * x[arm * D + j];
        } else {
            y = colb_rng_uniform(&r);
        }
        double t2 = cpu_now();
        if (colb_policy_update(p, u, x + arm * D, y))
            goto fail;
        double t3 = cpu_now();
        t[2 * s + 1] = t3 - t2 - tc > 0.0 ? t3 - t2 - tc : 0.0;
    }
    if (out)
        memcpy(out, t, 2 * (size_t)steps * sizeof *t);
    row(policy, load, N, steps, t, colb_policy_info(p));
    free(t);
    colb_policy_free(p);
    return 0;
fail:
    fprintf(stderr, "bench_updates: %s\n", colb_policy_last_error(p));
    free(t);
    colb_policy_free(p);
    return -1;
}

int main(int argc, char **argv)
{
    const char *policy = "recommended", *load = NULL;
    size_t N = 10000;
    long steps = 150000, runs = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            N = 2000;
            steps = 30000;
        } else if (!strcmp(argv[i], "--policy") && i + 1 < argc) {
            policy = argv[++i];
        } else if (!strcmp(argv[i], "--users") && i + 1 < argc) {
            N = (size_t)atol(argv[++i]);
        } else if (!strcmp(argv[i], "--steps") && i + 1 < argc) {
            steps = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            runs = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--load") && i + 1 < argc &&
                   (!strcmp(argv[i + 1], "serve") || !strcmp(argv[i + 1], "clustered"))) {
            load = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_updates [--quick] [--policy NAME] [--users N] [--steps S] "
                            "[--load serve|clustered] [--runs R]\n");
            return 2;
        }
    }
    if (N < 1 || steps < 1 || runs < 1) {
        fprintf(stderr, "bench_updates: --users, --steps and --runs must be at least 1\n");
        return 2;
    }
    double tc = clock_cost();
    printf("## A service's calls: one-user choice rounds and updates, d = %d, K = %d; thread CPU time per "
           "call, less a clock read's %.2f us\n\n", D, K, tc * 1e6);
    printf("| policy | load | users | rounds | choose mean us | update mean us | p99 us | p99.9 us | max ms | "
           "> 1 ms | > 5 ms | state at the end |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    static const char *loads[2] = { "serve", "clustered" };
    size_t bytes = 2 * (size_t)steps * sizeof(double);
    double *least = runs > 1 ? malloc(bytes) : NULL, *one = NULL; /* one: a child's times */
    if (runs > 1 && (!least || (one = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                                           -1, 0)) == MAP_FAILED)) {
        fprintf(stderr, "bench_updates: out of memory\n");
        return 1;
    }
    int rc = 0;
    for (int l = 0; l < 2 && !rc; l++) {
        if (load && strcmp(load, loads[l]))
            continue;
        if (runs == 1) {
            rc = run(policy, loads[l], N, steps, tc, NULL);
            continue;
        }
        for (long i = 0; i < 2 * steps; i++)
            least[i] = INFINITY;
        for (long r = 0; r < runs && !rc; r++) {
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) {
                int st = run(policy, loads[l], N, steps, tc, one);
                fflush(stdout);
                _exit(st ? 1 : 0);
            }
            int status = 0;
            rc = pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status);
            for (long i = 0; !rc && i < 2 * steps; i++)
                least[i] = one[i] < least[i] ? one[i] : least[i];
        }
        if (!rc) {
            char what[48];
            snprintf(what, sizeof what, "least of %ld runs", runs);
            row(policy, loads[l], N, steps, least, what);
        }
    }
    free(least);
    if (one)
        munmap(one, bytes);
    return rc;
}
