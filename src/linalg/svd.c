/* svd.c - truncated SVD / PCA of a sparse CSR matrix without densifying it
 * (sparse.h): the randomized range finder with subspace iteration of Halko,
 * Martinsson and Tropp, "Finding structure with randomness", SIAM Review
 * 53(2), 2011, Algorithm 4.4 (power iterations, re-orthonormalised after
 * every product: CholeskyQR2 when it is accurate, else Householder QR; see
 * orth) followed by Algorithm 5.1 (the SVD of the small matrix B = Q^T A).
 * Products with A^T use an explicit CSR transpose built once, so both
 * products are row-wise gathers over a row-major copy of the dense block.
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
#include "linalg/sparse.h"

#include <math.h>
#include <string.h>

#include <cblas.h>
#include <lapacke.h>

#include "colb/rng.h"
#include "core/util.h"

/* Orthonormalise the columns of the m x l column-major block x in place
 * (same span). Fast path: CholeskyQR2 (Fukaya, Nakatsukasa, Yanagisawa and
 * Yamamoto 2014: two passes of G = X^T X, G = R^T R, X = X R^{-1}, all
 * BLAS-3), accepted only when the result is orthonormal to 1e-12 in every
 * entry of Q^T Q - I; otherwise (ill-conditioned or rank-deficient x)
 * Householder QR (LAPACK dgeqrf + dorgqr) of the saved input. work holds
 * m*l + l*l + l doubles. */
static colb_status orth(size_t m, size_t l, double *x, double *work)
{
    double *save = work, *G = work + m * l, *tau = G + l * l;
    const int M = (int)m, L = (int)l;
    memcpy(save, x, m * l * sizeof(double));
    int ok = 1;
    for (int pass = 0; pass < 2 && ok; pass++) {
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, L, M, 1.0, x, M, 0.0, G, L);
        if (LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'U', L, G, L) != 0) {
            ok = 0;
            break;
        }
        cblas_dtrsm(CblasColMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, M, L, 1.0,
                    G, L, x, M);
    }
    if (ok) {
        cblas_dsyrk(CblasColMajor, CblasUpper, CblasTrans, L, M, 1.0, x, M, 0.0, G, L);
        for (size_t j = 0; j < l && ok; j++)
            for (size_t i = 0; i <= j; i++)
                if (!(fabs(G[i + j * l] - (i == j ? 1.0 : 0.0)) <= 1e-12)) {
                    ok = 0;
                    break;
                }
    }
    if (ok)
        return COLB_OK;
    memcpy(x, save, m * l * sizeof(double));
    lapack_int info = LAPACKE_dgeqrf(LAPACK_COL_MAJOR, M, L, x, M, tau);
    if (info != 0)
        return info < 0 ? COLB_EINVAL : COLB_ENUMERIC;
    info = LAPACKE_dorgqr(LAPACK_COL_MAJOR, M, L, L, x, M, tau);
    if (info != 0)
        return info < 0 ? COLB_EINVAL : COLB_ENUMERIC;
    return COLB_OK;
}

/* y (rows x l, column-major) = B x for B = A or A^T stored as CSR b
 * (rows x cols), minus the centring term: y[:, c] -= shift * (w . x[:, c])
 * when w != NULL (shift == NULL: a scalar 1, i.e. "1 (mu^T x)"), or
 * y[:, c] -= shift * (1^T x[:, c]) when w == NULL and shift != NULL.
 * xr (cols x l) and acc (l) are scratch: x is first copied row-major so
 * that the inner loop runs over contiguous memory. */
static void spmm(const colb__csr *b, size_t l, const double *x, double *y, const double *w,
                 const double *shift, double *xr, double *acc)
{
    size_t rows = b->rows, cols = b->cols;
    for (size_t c = 0; c < l; c++)
        for (size_t j = 0; j < cols; j++)
            xr[j * l + c] = x[j + c * cols];
    for (size_t i = 0; i < rows; i++) {
        for (size_t c = 0; c < l; c++)
            acc[c] = 0.0;
        for (size_t t = b->ptr[i]; t < b->ptr[i + 1]; t++) {
            const double a = b->val[t], *xj = xr + b->col[t] * l;
            for (size_t c = 0; c < l; c++)
                acc[c] += a * xj[c];
        }
        for (size_t c = 0; c < l; c++)
            y[i + c * rows] = acc[c];
    }
    if (!w && !shift)
        return;
    for (size_t c = 0; c < l; c++) {
        double dot = 0.0;
        const double *xc = x + c * cols;
        if (w)
            for (size_t j = 0; j < cols; j++)
                dot += w[j] * xc[j];
        else
            for (size_t j = 0; j < cols; j++)
                dot += xc[j];
        double *yc = y + c * rows;
        if (shift)
            for (size_t i = 0; i < rows; i++)
                yc[i] -= shift[i] * dot;
        else
            for (size_t i = 0; i < rows; i++)
                yc[i] -= dot;
    }
}

/* The transpose of a as CSR (columns in increasing order within a row). */
static colb_status transpose(const colb__csr *a, colb__csr *t)
{
    memset(t, 0, sizeof *t);
    t->ptr = colb__calloc(a->cols + 1, sizeof(size_t));
    t->col = colb__malloc(a->nnz, sizeof(size_t));
    t->val = colb__malloc(a->nnz, sizeof(double));
    if (!t->ptr || !t->col || !t->val) {
        colb__csr_free(t);
        return COLB_ENOMEM;
    }
    for (size_t k = 0; k < a->nnz; k++)
        t->ptr[a->col[k] + 1]++;
    for (size_t j = 0; j < a->cols; j++)
        t->ptr[j + 1] += t->ptr[j];
    size_t *next = colb__malloc(a->cols, sizeof(size_t));
    if (!next) {
        colb__csr_free(t);
        return COLB_ENOMEM;
    }
    memcpy(next, t->ptr, a->cols * sizeof(size_t));
    for (size_t i = 0; i < a->rows; i++)
        for (size_t k = a->ptr[i]; k < a->ptr[i + 1]; k++) {
            size_t d = next[a->col[k]]++;
            t->col[d] = i;
            t->val[d] = a->val[k];
        }
    free(next);
    t->rows = a->cols;
    t->cols = a->rows;
    t->nnz = a->nnz;
    return COLB_OK;
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
    double *work = colb__malloc((m > n ? m : n) * l + l * l + l, sizeof(double));
    double *Uk = u ? colb__malloc(m * k, sizeof(double)) : NULL;
    double *xr = colb__malloc(m > n ? m : n, l * sizeof(double));
    double *acc = colb__malloc(l, sizeof(double));
    double *ones = colb__malloc(m, sizeof(double));
    colb__csr at = { 0 };
    colb_status st = COLB_ENOMEM;
    if (!mean || !Z || !Q || !W || !Vt || !S || !work || (u && !Uk) || !xr || !acc || !ones)
        goto out;
    if ((st = transpose(a, &at)) != COLB_OK)
        goto out;
    for (size_t i = 0; i < m; i++)
        ones[i] = 1.0;

    const double *cm = NULL;
    if (p->center) {
        for (size_t i = 0; i < m; i++)
            for (size_t t = a->ptr[i]; t < a->ptr[i + 1]; t++)
                mean[a->col[t]] += a->val[t];
        for (size_t j = 0; j < n; j++)
            mean[j] /= (double)m;
        cm = mean;
    }
    /* A_c x = A x - 1 (mu^T x);  A_c^T y = A^T y - mu (1^T y). */
#define PROD(x, y) spmm(a, l, (x), (y), cm, cm ? ones : NULL, xr, acc)
#define PROD_T(y, z) spmm(&at, l, (y), (z), NULL, cm, xr, acc)

    /* Gaussian test matrix Omega (n x l), then Y = A_c Omega. */
    colb_rng r;
    colb_rng_seed(&r, p->seed, 0);
    colb_rng_normal_fill(&r, Z, n * l, 1.0);
    PROD(Z, Q);
    if ((st = orth(m, l, Q, work)) != COLB_OK)
        goto out;
    for (size_t it = 0; it < p->power_iters; it++) {
        PROD_T(Q, Z);
        if ((st = orth(n, l, Z, work)) != COLB_OK)
            goto out;
        PROD(Z, Q);
        if ((st = orth(m, l, Q, work)) != COLB_OK)
            goto out;
    }
    /* B^T = A_c^T Q (n x l) = W S Vt, so A_c ~ Q B = (Q Vt^T) S W^T. */
    PROD_T(Q, Z);
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
    free(work);
    free(Uk);
    free(xr);
    free(acc);
    free(ones);
    colb__csr_free(&at);
    return st;
#undef PROD
#undef PROD_T
}
