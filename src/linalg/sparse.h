/* sparse.h - compressed sparse row (CSR) matrices and a truncated SVD / PCA
 * that never densifies the sparse matrix (internal). sparse.c implements the
 * CSR basics, svd.c the SVD. */
#ifndef COLB_SPARSE_H
#define COLB_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "colb/status.h"

/* rows x cols; row i holds col[ptr[i] .. ptr[i+1]) (strictly increasing)
 * and val[...] of the same range. */
typedef struct colb__csr {
    size_t rows, cols, nnz;
    size_t *ptr; /* rows + 1 */
    size_t *col; /* nnz */
    double *val; /* nnz */
} colb__csr;

/* Build a CSR matrix from n triplets (ri[t], ci[t], v[t]), any order;
 * duplicates are summed (explicit zeros are kept). COLB_EINVAL for an index
 * out of range, COLB_ENOMEM. Deterministic: the summation order of
 * duplicates is their order in the input. */
colb_status colb__csr_from_coo(size_t rows, size_t cols, size_t n, const size_t *ri,
                               const size_t *ci, const double *v, colb__csr *out);

/* The sub-matrix of the listed rows (in that order), all columns. */
colb_status colb__csr_select_rows(const colb__csr *a, size_t n, const size_t *rows, colb__csr *out);

/* Release the arrays (a itself is not freed); NULL-safe, idempotent. */
void colb__csr_free(colb__csr *a);

/* Y = A X for column-major X (cols x l, leading dimension ldx) and Y
 * (rows x l, ldy); O(nnz l). */
void colb__csr_mm(const colb__csr *a, size_t l, const double *x, size_t ldx, double *y,
                  size_t ldy);

/* Y = A^T X for column-major X (rows x l, ldx) and Y (cols x l, ldy). */
void colb__csr_mtm(const colb__csr *a, size_t l, const double *x, size_t ldx, double *y,
                   size_t ldy);

/* Parameters of the randomized truncated SVD. */
typedef struct colb__svd_params {
    size_t k;           /* number of singular triplets, 1 <= k <= min(rows, cols) */
    size_t oversample;  /* p: extra random directions (Halko et al. use 5-10) */
    size_t power_iters; /* q: subspace iterations, each re-orthonormalised */
    int center;         /* 1: SVD of A - 1 mu^T, mu = column means (PCA) */
    uint64_t seed;      /* the Gaussian test matrix is stream 0 of this seed */
} colb__svd_params;

/* Top-k singular triplets of A (or of the centred A - 1 mu^T, formed
 * implicitly inside the products; the matrix is never densified) by the
 * randomized range finder with subspace iteration of Halko, Martinsson and
 * Tropp (SIAM Review 53(2), 2011, Alg. 4.4 and 5.1). Outputs (each may be
 * NULL): s[k] decreasing; u (rows x k) and v (cols x k), row-major, with
 * A_c ~ u diag(s) v^T, each column of v having its largest-magnitude entry
 * positive (a deterministic sign); mu[cols] the column means used (zeros
 * when center == 0). A function of the inputs and the seed alone (colb's
 * own fixed-order arithmetic, no BLAS).
 * Errors: COLB_EINVAL, COLB_ERANGE (k), COLB_ENOMEM, COLB_ENUMERIC (the
 * small SVD did not converge, or the products overflowed).
 * Cost: O((2q + 2) nnz l + (rows + cols) l^2) with l = min(k + p, rows, cols). */
colb_status colb__svd_sparse(const colb__csr *a, const colb__svd_params *p, double *s, double *u,
                             double *v, double *mu);

#endif
