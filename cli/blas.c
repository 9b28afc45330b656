/* blas.c - BLAS on one thread for the tool's runs (blas.h).
 *
 * colb runs its jobs and a policy's users on threads of its own, so BLAS
 * runs single-threaded inside them. openblas_set_num_threads(1) alone does
 * not stop the worker threads OpenBLAS (the pthread build) starts when it
 * loads: each busy-waits (sched_yield) for about 2^28 cycles before it
 * sleeps, i.e. the first ~0.1 s of every process, competing with colb's
 * threads on a 2-core machine. Measured on LinUCB-Ind, N = 2,000, T = 1000,
 * two threads (docs/performance.md, phase 5): 0.38 s with it, 0.30 s
 * without. blas_thread_shutdown_ (exported by OpenBLAS's pthread and OpenMP
 * builds, not declared in its headers; the call its fork handler makes)
 * joins them; it is looked up as a weak symbol, so a BLAS without it links
 * and runs as before. OpenBLAS starts its threads again only for a
 * multi-threaded call, which one thread never makes. */
#include "blas.h"

#include <cblas.h>

extern int blas_thread_shutdown_(void) __attribute__((weak));

void blas_single_thread(void)
{
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_)
        blas_thread_shutdown_();
}
