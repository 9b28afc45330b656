/* svd.c - truncated SVD / PCA of a sparse CSR matrix without densifying it
 * (sparse.h): the randomized range finder with subspace iteration of Halko,
 * Martinsson and Tropp, "Finding structure with randomness", SIAM Review
 * 53(2), 2011, Algorithm 4.4 (power iterations, re-orthonormalised by QR
 * after every product) followed by Algorithm 5.1 (the SVD of the small
 * matrix B = Q^T A).
 *
 * Centring (PCA) is implicit: A_c = A - 1 mu^T is never formed; its products
 * are A_c X = A X - 1 (mu^T X) and A_c^T Y = A^T Y - mu (1^T Y), which keeps
 * the cost at O(nnz) per product column.
 *
 * Dense blocks are column-major (LAPACK's order); outputs are converted to
 * row-major at the end. The accuracy of the k-th singular value decays like
 * (sigma_{l+1} / sigma_k)^(2q+1) (Halko et al., Cor. 10.10), so a clear gap
 * after the l = k + p leading values gives results to rounding error; see
 * tests/test_svd.c and docs/data.md for measured errors. */
#include "sparse.h"

#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "colb/rng.h"
#include "util.h"

/* Orthonormalise the columns of the m x l column-major block x in place. */
static colb_status orth(size_t m, size_t l, double *x, double *tau)
{
    lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, (lapack_int)m, (lapack_int)l, x,
                                     (lapack_int)m, tau);
    if (info != 0)
        return info < 0 ? COLB_EINVAL : COLB_ENUMERIC;
    info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, (lapack_int)m, (lapack_int)l, (lapack_int)l, x,
                          (lapack_int)m, tau);
    if (info != 0)
        return info < 0 ? COLB_EINVAL : COLB_ENUMERIC;
    return COLB_OK;
}

/* y (m x l) = A_c x (n x l). */
static void prod(const colb__csr *a, const double *mu, size_t l, const double *x, double *y)
{
    size_t m = a->rows, n = a->cols;
    colb__csr_mm(a, l, x, n, y, m);
    if (!mu)
        return;
    for (size_t c = 0; c < l; c++) {
        double w = 0.0;
        for (size_t j = 0; j < n; j++)
            w += mu[j] * x[j + c * n];
        for (size_t i = 0; i < m; i++)
            y[i + c * m] -= w;
    }
}

/* z (n x l) = A_c^T y (m x l). */
static void prod_t(const colb__csr *a, const double *mu, size_t l, const double *y, double *z)
{
    size_t m = a->rows, n = a->cols;
    colb__csr_mtm(a, l, y, m, z, n);
    if (!mu)
        return;
    for (size_t c = 0; c < l; c++) {
        double w = 0.0;
        for (size_t i = 0; i < m; i++)
            w += y[i + c * m];
        for (size_t j = 0; j < n; j++)
            z[j + c * n] -= mu[j] * w;
    }
}

colb_status colb__svd_sparse(const colb__csr *a, const colb__svd_params *p, double *s, double *u,
                             double *v, double *mu)
{
    if (!a || !p || !a->ptr || a->rows == 0 || a->cols == 0)
        return COLB_EINVAL;
    size_t m = a->rows, n = a->cols, mn = m < n ? m : n;
    if (p->k == 0 || p->k > mn)
        return COLB_ERANGE;
    if (m > (size_t)INT32_MAX || n > (size_t)INT32_MAX)
        return COLB_ERANGE;
    for (size_t t = 0; t < a->nnz; t++)
        if (!isfinite(a->val[t]))
            return COLB_ENONFIN;
    size_t k = p->k;
    size_t l = p->oversample > mn - k ? mn : k + p->oversample;

    double *mean = colb__calloc(n, sizeof(double));
    double *Z = colb__malloc(n * l, sizeof(double));  /* n x l */
    double *Q = colb__malloc(m * l, sizeof(double));  /* m x l */
    double *W = colb__malloc(n * l, sizeof(double));  /* n x l */
    double *Vt = colb__malloc(l * l, sizeof(double)); /* l x l */
    double *S = colb__malloc(l, sizeof(double));
    double *tau = colb__malloc(l, sizeof(double));
    double *Uk = u ? colb__malloc(m * k, sizeof(double)) : NULL;
    colb_status st = COLB_ENOMEM;
    if (!mean || !Z || !Q || !W || !Vt || !S || !tau || (u && !Uk))
        goto out;

    const double *cm = NULL;
    if (p->center) {
        for (size_t i = 0; i < m; i++)
            for (size_t t = a->ptr[i]; t < a->ptr[i + 1]; t++)
                mean[a->col[t]] += a->val[t];
        for (size_t j = 0; j < n; j++)
            mean[j] /= (double)m;
        cm = mean;
    }

    /* Gaussian test matrix Omega (n x l), then Y = A_c Omega. */
    colb_rng r;
    colb_rng_seed(&r, p->seed, 0);
    colb_rng_normal_fill(&r, Z, n * l, 1.0);
    prod(a, cm, l, Z, Q);
    if ((st = orth(m, l, Q, tau)) != COLB_OK)
        goto out;
    for (size_t it = 0; it < p->power_iters; it++) {
        prod_t(a, cm, l, Q, Z);
        if ((st = orth(n, l, Z, tau)) != COLB_OK)
            goto out;
        prod(a, cm, l, Z, Q);
        if ((st = orth(m, l, Q, tau)) != COLB_OK)
            goto out;
    }
    /* B^T = A_c^T Q (n x l) = W S Vt, so A_c ~ Q B = (Q Vt^T) S W^T. */
    prod_t(a, cm, l, Q, Z);
    lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'S', (lapack_int)n, (lapack_int)l, Z,
                                     (lapack_int)n, S, W, (lapack_int)n, Vt, (lapack_int)l);
    if (info != 0) {
        st = info < 0 ? COLB_EINVAL : COLB_ENUMERIC;
        goto out;
    }
    /* Deterministic signs: the largest-magnitude entry of each right
     * singular vector is positive (ties to the lowest index). */
    for (size_t j = 0; j < k; j++) {
        double *wj = W + j * n;
        size_t best = 0;
        for (size_t i = 1; i < n; i++)
            if (fabs(wj[i]) > fabs(wj[best]))
                best = i;
        if (wj[best] < 0.0) {
            for (size_t i = 0; i < n; i++)
                wj[i] = -wj[i];
            for (size_t c = 0; c < l; c++)
                Vt[j + c * l] = -Vt[j + c * l];
        }
    }
    if (s)
        memcpy(s, S, k * sizeof(double));
    if (u) {
        /* U_k = Q (Vt[0..k, :])^T, m x k column-major. */
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)l, 1.0, Q,
                    (int)m, Vt, (int)l, 0.0, Uk, (int)m);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < k; j++)
                u[i * k + j] = Uk[i + j * m];
    }
    if (v)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < k; j++)
                v[i * k + j] = W[i + j * n];
    if (mu)
        memcpy(mu, mean, n * sizeof(double));
    st = COLB_OK;
out:
    free(mean);
    free(Z);
    free(Q);
    free(W);
    free(Vt);
    free(S);
    free(tau);
    free(Uk);
    return st;
}
