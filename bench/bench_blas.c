/* bench_blas.c - which Debian BLAS is fastest on this machine at the sizes
 * colb still hands to BLAS, next to the 1000^3 DGEMM peak. Each installed
 * library (bench/dlblas.h: OpenBLAS, BLIS serial/pthread, reference) is
 * opened at run time and timed single-threaded on thread CPU time, best of
 * 5; no environment variable is read or set (each library picks its kernels
 * for this CPU by itself).
 *
 * Shapes (m x n x k, C = A B):
 *   1000 x 1000 x 1000   the machine's DGEMM peak
 *   960 x 25 x 15        the previous LinUCB-Ind scoring block (64 users x d
 *                        rows of A against K = 25 contexts), for comparison
 *   200 x 25 x 15        the personalized environment's means (N x K)
 *   10 x 25 x 15         the clustered environment's means (L x K)
 *   15 x 25 x 15         one model against a round's contexts
 * Usage: bench_blas      (built and run by `make bench`) */
#include "dlblas.h"

int main(void)
{
    if (dlblas_open_all() == 0) {
        printf("bench_blas: no BLAS library found\n");
        return 0;
    }
    static const int shapes[][4] = { /* m, n, k, calls per timing */
        { 1000, 1000, 1000, 2 }, { 960, 25, 15, 2000 }, { 200, 25, 15, 10000 },
        { 10, 25, 15, 50000 }, { 15, 25, 15, 50000 },
    };
    printf("BLAS libraries, DGEMM GFLOP/s on one thread (thread CPU time, best of 5):\n\n");
    printf("| library | kernels | 1000^3 | 960x25x15 | 200x25x15 | 10x25x15 | 15x25x15 |\n");
    printf("|---|---|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < N_DLBLAS; i++) {
        const dlblas *b = &DLBLAS[i];
        if (!b->h)
            continue;
        printf("| %s | %s |", b->name, b->kernel);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            printf(" %.2f |", dlblas_gflops(b, shapes[s][0], shapes[s][1], shapes[s][2],
                                            shapes[s][3], 5));
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
