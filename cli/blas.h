/* blas.h - BLAS on one thread for the tool's runs (cli/blas.c). */
#ifndef COLB_CLI_BLAS_H
#define COLB_CLI_BLAS_H

/* Make BLAS run single-threaded inside colb's own threads (results do not
 * depend on it, speed does) and stop OpenBLAS's idle worker threads, which
 * otherwise busy-wait for a while after the library loads. Call once, before
 * the work. */
void blas_single_thread(void);

#endif
