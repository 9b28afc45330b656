/* bench_snapshot.c - how long saving and loading a policy takes: LinUCB-Ind
 * with N = 10^5 users in dimension d = 15 (the target: save + load
 * under one second), after a few rounds so that every model holds data.
 *
 * For each way (a buffer in memory; a file: temporary, fsync, rename, fsync
 * of the folder, then read back; a stream) it prints the best of `reps`
 * timings of save and of load, the snapshot's size and the policy's
 * in-memory state, and checks that the loaded policy saves to the same
 * bytes. Wall-clock numbers on a shared machine: repeat, take the best.
 *
 * Usage: bench_snapshot [--quick] [--cpu] [DIR]   (DIR for the file:
 *        default /tmp; --quick: N = 10^4; --cpu: the process's CPU time,
 *        which a busy machine disturbs less than wall-clock time, and which
 *        leaves out the wait for the disk in fsync) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "colb/colb.h"

static int use_cpu; /* --cpu: process CPU time instead of wall-clock time */

static double now(void)
{
    struct timespec ts;
    clock_gettime(use_cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_snapshot: %s: %s\n", what, msg);
    exit(1);
}

int main(int argc, char **argv)
{
    size_t N = 100000, d = 15, K = 25, rounds = 2, reps = 5;
    const char *dir = "/tmp";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            N = 10000;
        else if (!strcmp(argv[i], "--cpu"))
            use_cpu = 1;
        else
            dir = argv[i];
    }
    openblas_set_num_threads(1);
    colb_policy_params pp;
    colb_policy_params_default(&pp);
    pp.users = N;
    pp.dim = d;
    colb_policy *p = NULL;
    char msg[512], path[1024];
    if (colb_policy_create("linucb-ind", &pp, &p, msg, sizeof msg) != COLB_OK)
        die("create", msg);
    double *X = malloc(K * d * sizeof(double)), *y = malloc(N * sizeof(double));
    size_t *arms = malloc(N * sizeof(size_t));
    colb_rng r;
    colb_rng_seed(&r, 1, 1);
    for (size_t t = 0; t < rounds; t++) {
        colb_rng_normal_fill(&r, X, K * d, 1.0 / 4.0);
        colb_policy_begin_round(p, X, K);
        colb_policy_choose_all(p, arms);
        for (size_t u = 0; u < N; u++)
            y[u] = colb_rng_normal(&r);
        colb_policy_observe_all(p, arms, y);
        colb_policy_end_round(p);
    }
    size_t len = 0;
    colb_policy_save_buffer(p, NULL, 0, &len, msg, sizeof msg);
    unsigned char *buf = malloc(len), *again = malloc(len);
    double memory = 0.0; /* the policy's estimate: its compact user bank and round arrays */
    colb_policy_memory("linucb-ind", &pp, &memory);
    printf("LinUCB-Ind N=%zu d=%zu: snapshot %.1f MB, the policy in memory %.1f MB\n", N, d,
           (double)len / 1e6, memory / 1e6);

    double best[3][2] = { { 1e9, 1e9 }, { 1e9, 1e9 }, { 1e9, 1e9 } };
    snprintf(path, sizeof path, "%s/bench_snapshot.%ld.colb", dir, (long)getpid());
    for (size_t rep = 0; rep < reps; rep++) {
        colb_policy *q = NULL;
        size_t got;
        /* buffer */
        double t0 = now();
        if (colb_policy_save_buffer(p, buf, len, &got, msg, sizeof msg) != COLB_OK)
            die("save to buffer", msg);
        double t1 = now();
        if (colb_policy_load_buffer(buf, len, NULL, &q, msg, sizeof msg) != COLB_OK)
            die("load from buffer", msg);
        double t2 = now();
        best[0][0] = t1 - t0 < best[0][0] ? t1 - t0 : best[0][0];
        best[0][1] = t2 - t1 < best[0][1] ? t2 - t1 : best[0][1];
        if (rep == 0) { /* the loaded policy is the saved one */
            colb_policy_save_buffer(q, again, len, &got, msg, sizeof msg);
            if (got != len || memcmp(buf, again, len))
                die("check", "the loaded policy saves to other bytes");
        }
        colb_policy_free(q);
        /* file: atomic and durable */
        t0 = now();
        if (colb_policy_save(p, path, msg, sizeof msg) != COLB_OK)
            die("save to file", msg);
        t1 = now();
        if (colb_policy_load(path, NULL, &q, msg, sizeof msg) != COLB_OK)
            die("load from file", msg);
        t2 = now();
        best[1][0] = t1 - t0 < best[1][0] ? t1 - t0 : best[1][0];
        best[1][1] = t2 - t1 < best[1][1] ? t2 - t1 : best[1][1];
        colb_policy_free(q);
        /* stream (no fsync: the caller's stream) */
        FILE *f = fopen(path, "w+b");
        t0 = now();
        if (!f || colb_policy_save_stream(p, f, msg, sizeof msg) != COLB_OK)
            die("save to stream", msg);
        t1 = now();
        rewind(f);
        if (colb_policy_load_stream(f, NULL, &q, msg, sizeof msg) != COLB_OK)
            die("load from stream", msg);
        t2 = now();
        fclose(f);
        best[2][0] = t1 - t0 < best[2][0] ? t1 - t0 : best[2][0];
        best[2][1] = t2 - t1 < best[2][1] ? t2 - t1 : best[2][1];
        colb_policy_free(q);
    }
    unlink(path);
    static const char *const way[] = { "buffer", "file (fsync)", "stream" };
    printf("%-14s %10s %10s %10s   (best of %zu, %s seconds)\n", "", "save", "load", "save+load", reps,
           use_cpu ? "CPU" : "wall-clock");
    for (int w = 0; w < 3; w++)
        printf("%-14s %10.3f %10.3f %10.3f\n", way[w], best[w][0], best[w][1], best[w][0] + best[w][1]);
    colb_policy_free(p);
    free(X);
    free(y);
    free(arms);
    free(buf);
    free(again);
    return 0;
}
