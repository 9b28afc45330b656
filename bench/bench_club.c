/* bench_club.c - steps per second of CLUB with incremental component
 * aggregates (the library's mode) against the naive mode that rebuilds the
 * served user's component aggregate from its members at every step, as the
 * public Python implementations do.
 *
 * Setting: the paper's synthetic data (Section 6.1): d = 15, K = 25 shared
 * contexts per round, L = 4 balanced clusters, sigma = 0.1, users served
 * round-robin (the simulator's sequential protocol), CLUB with the default
 * alpha = 1, alpha2 = 2 from the complete graph and from the random graph
 * (p = 3 ln(N)/N). The clock (thread CPU time) covers the policy calls only
 * (begin_round, choose, observe, end_round), not the environment.
 * Both modes see the same environment and, up to rounding, make the same
 * decisions: the regret column shows it. OpenBLAS runs single-threaded.
 *
 * Usage: bench_club [rounds_at_N100 [rounds_at_N1000]]   (default 1000 60;
 * about 20 s, most of it the naive mode at N = 1000)
 * Built and run by `make bench` (build-native/bench/bench_club). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "policies/club.h"
#include "colb/colb.h"

/* CPU time of this thread: the machines we benchmark on are shared, and
 * wall-clock rates there measure the neighbours as much as the code. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct run_out {
    double seconds, regret;
    size_t comps;
    unsigned long long edges;
} run_out;

static int run(size_t N, size_t T, int naive, colb_club_graph graph, run_out *o)
{
    const size_t d = 15, K = 25;
    char msg[256];
    colb_env_params ep;
    colb_env_params_default(&ep);
    ep.users = N;
    ep.clusters = 4;
    ep.dim = d;
    ep.arms = K;
    ep.noise = 0.1;
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = d;
    pp.horizon = T;
    pp.club_graph = graph;
    pp.seed = 17;
    colb_env *e = NULL;
    colb_policy *p = NULL;
    colb_status st = colb_env_create(&ep, 2021, &e, msg, sizeof msg);
    if (st == COLB_OK)
        st = colb_policy_create("club", &pp, &p, msg, sizeof msg);
    if (st == COLB_OK)
        st = colb__club_set_naive(p, naive);
    /* the round's rewards and regrets of every (user, arm), read before the
     * clock starts: the timer sees the policy's calls alone */
    double sec = 0.0, reg = 0.0, *rw = malloc(N * K * sizeof *rw), *rg = malloc(N * K * sizeof *rg);
    size_t *arm = malloc(N * sizeof *arm);
    if (!rw || !rg || !arm)
        st = COLB_ENOMEM;
    for (size_t t = 0; t < T && st == COLB_OK; t++) {
        if ((st = colb_env_next_round(e)) != COLB_OK)
            break;
        for (size_t i = 0; i < N * K; i++) {
            rw[i] = colb_env_reward(e, i / K, i % K);
            rg[i] = colb_env_regret(e, i / K, i % K);
        }
        double t0 = now_s();
        st = colb_policy_begin_round(p, colb_env_contexts(e, 0), K);
        for (size_t u = 0; u < N && st == COLB_OK; u++) {
            st = colb_policy_choose(p, u, &arm[u]);
            if (st == COLB_OK)
                st = colb_policy_observe(p, u, arm[u], rw[u * K + arm[u]]);
        }
        if (st == COLB_OK)
            st = colb_policy_end_round(p);
        sec += now_s() - t0;
        for (size_t u = 0; u < N && st == COLB_OK; u++)
            reg += rg[u * K + arm[u]];
    }
    free(rw);
    free(rg);
    free(arm);
    if (st != COLB_OK) {
        fprintf(stderr, "bench_club: N=%zu: %s (%s)\n", N, colb_strerror(st),
                p ? colb_policy_last_error(p) : msg);
    } else {
        size_t *labels = malloc(N * sizeof *labels);
        o->comps = 0;
        if (labels)
            colb_policy_clusters(p, labels, &o->comps);
        free(labels);
        o->edges = (unsigned long long)colb__club_edges(p);
        o->seconds = sec;
        o->regret = reg / (double)N;
    }
    colb_policy_free(p);
    colb_env_free(e);
    return st == COLB_OK ? 0 : 1;
}

static size_t arg(int argc, char **argv, int i, size_t def)
{
    if (argc <= i)
        return def;
    char *end;
    unsigned long v = strtoul(argv[i], &end, 10);
    if (*end || v == 0) {
        fprintf(stderr, "usage: bench_club [rounds_at_N100 [rounds_at_N1000]]\n");
        exit(2);
    }
    return (size_t)v;
}

int main(int argc, char **argv)
{
    openblas_set_num_threads(1); /* the environment's small DGEMMs: no idle spinning threads */
    const size_t Ns[2] = { 100, 1000 };
    size_t rounds[2] = { arg(argc, argv, 1, 1000), arg(argc, argv, 2, 60) };
    printf("CLUB steps per CPU second: d=15 K=25 L=4 sigma=0.1 alpha=1 alpha2=2, round-robin\n");
    printf("%6s %8s %6s %8s | %12s %12s | %8s | %5s %8s | %9s %9s\n", "N", "graph", "rounds",
           "steps", "incremental", "naive", "speedup", "comps", "edges", "regret/N", "(naive)");
    for (int g = 0; g < 2; g++)
        for (int i = 0; i < 2; i++) {
            colb_club_graph graph = g ? COLB_CLUB_RANDOM : COLB_CLUB_COMPLETE;
            run_out inc, nai;
            if (run(Ns[i], rounds[i], 0, graph, &inc) || run(Ns[i], rounds[i], 1, graph, &nai))
                return 1;
            double steps = (double)(Ns[i] * rounds[i]);
            printf("%6zu %8s %6zu %8.0f | %12.0f %12.0f | %7.1fx | %5zu %8llu | %9.3f %9.3f\n",
                   Ns[i], g ? "random" : "complete", rounds[i], steps, steps / inc.seconds,
                   steps / nai.seconds, nai.seconds / inc.seconds, inc.comps, inc.edges,
                   inc.regret, nai.regret);
            fflush(stdout);
        }
    return 0;
}
