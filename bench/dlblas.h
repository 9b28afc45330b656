/* dlblas.h - the Debian BLAS libraries installed on this machine, opened at
 * run time (dlopen with RTLD_DEEPBIND, so two libraries in one process each
 * use their own symbols) and timed through their Fortran dgemm_ (for the
 * benchmarks only; the library links OpenBLAS). No environment variable is
 * read or set: each library runs the kernels it picks for this CPU by itself.
 * Included by bench.c and bench_blas.c. */
#ifndef COLB_BENCH_DLBLAS_H
#define COLB_BENCH_DLBLAS_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*dgemm_fn)(const char *ta, const char *tb, const int *m, const int *n, const int *k,
                         const double *alpha, const double *a, const int *lda, const double *b,
                         const int *ldb, const double *beta, double *c, const int *ldc);

typedef struct dlblas {
    const char *name, *path;
    void *h;
    dgemm_fn dgemm;
    char kernel[64]; /* the kernel set the library picked, when it says */
} dlblas;

/* Candidate libraries (Debian paths); those not installed are skipped. */
static dlblas DLBLAS[] = {
    { "OpenBLAS 0.3 (pthread)", "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0", NULL, NULL, "" },
    { "BLIS 0.9 (serial)", "/usr/lib/x86_64-linux-gnu/blis-serial/libblis.so.4", NULL, NULL, "" },
    { "BLIS 0.9 (pthread)", "/usr/lib/x86_64-linux-gnu/blis-pthread/libblis.so.4", NULL, NULL, "" },
    { "reference BLAS 3.11", "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", NULL, NULL, "" },
};
#define N_DLBLAS (sizeof DLBLAS / sizeof DLBLAS[0])

/* Open every installed candidate; returns how many opened. */
static size_t dlblas_open_all(void)
{
    size_t n = 0;
    for (size_t i = 0; i < N_DLBLAS; i++) {
        dlblas *b = &DLBLAS[i];
        b->h = dlopen(b->path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
        if (!b->h)
            continue;
        b->dgemm = (dgemm_fn)(void (*)(void))dlsym(b->h, "dgemm_");
        if (!b->dgemm) {
            dlclose(b->h);
            b->h = NULL;
            continue;
        }
        char *(*core)(void) = (char *(*)(void))(void (*)(void))dlsym(b->h, "openblas_get_corename");
        void (*nth)(int) = (void (*)(int))(void (*)(void))dlsym(b->h, "openblas_set_num_threads");
        int (*arch)(void) = (int (*)(void))(void (*)(void))dlsym(b->h, "bli_arch_query_id");
        const char *(*archs)(int) = (const char *(*)(int))(void (*)(void))dlsym(b->h, "bli_arch_string");
        if (nth)
            nth(1); /* single-threaded, as inside colb's simulations */
        if (core)
            snprintf(b->kernel, sizeof b->kernel, "%s", core());
        else if (arch && archs)
            snprintf(b->kernel, sizeof b->kernel, "%s", archs(arch()));
        else
            snprintf(b->kernel, sizeof b->kernel, "-");
        n++;
    }
    return n;
}

static double dlblas_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* GFLOP/s of C (m x n) = A (m x k) B (k x n), column-major, on this thread's
 * CPU time: the best of `reps` timings of `calls` calls each. */
static double dlblas_gflops(const dlblas *b, int m, int n, int k, int calls, int reps)
{
    double *A = malloc((size_t)m * k * sizeof(double)), *B = malloc((size_t)k * n * sizeof(double)),
           *C = malloc((size_t)m * n * sizeof(double));
    if (!A || !B || !C) {
        free(A);
        free(B);
        free(C);
        return 0.0;
    }
    for (size_t i = 0; i < (size_t)m * k; i++)
        A[i] = 1.0 / (double)(1 + i % 13);
    for (size_t i = 0; i < (size_t)k * n; i++)
        B[i] = 1.0 / (double)(1 + i % 7);
    double one = 1.0, zero = 0.0, best = 0.0;
    b->dgemm("N", "N", &m, &n, &k, &one, A, &m, B, &k, &zero, C, &m);
    for (int r = 0; r < reps; r++) {
        double t0 = dlblas_cpu_now();
        for (int c = 0; c < calls; c++)
            b->dgemm("N", "N", &m, &n, &k, &one, A, &m, B, &k, &zero, C, &m);
        double t = dlblas_cpu_now() - t0;
        double g = t > 0 ? 2.0 * m * n * (double)k * calls / t / 1e9 : 0.0;
        if (g > best)
            best = g;
    }
    free(A);
    free(B);
    free(C);
    return best;
}

#endif
