/* svd.c - truncated SVD / PCA of a sparse CSR matrix without densifying it
 * (sparse.h): the randomized range finder with subspace iteration of Halko,
 * Martinsson and Tropp, "Finding structure with randomness", SIAM Review
 * 53(2), 2011, Algorithm 4.4 (power iterations, re-orthonormalised after
 * every product: CholeskyQR2 when it is accurate, else Householder QR; see
 * orth) followed by Algorithm 5.1 (the SVD of the small matrix B = Q^T A, by
 * a QR step and one-sided Jacobi on its l x l factor; see small_svd).
 * Products with A^T use an explicit CSR transpose built once, so both
 * products are row-wise gathers over the row-major dense block.
 *
 * Centring (PCA) is implicit: A_c = A - 1 mu^T is never formed; its products
 * are A_c X = A X - 1 (mu^T X) and A_c^T Y = A^T Y - mu (1^T Y), which keeps
 * the cost at O(nnz) per product column.
 *
 * Dense blocks are row-major (rows x l). Every operation is colb's own, with
 * each sum in one fixed order (the dense ones through the kernels' syr_n and
 * colsum, the same bits on every path), not BLAS or LAPACK: their rounding
 * follows the kernels the BLAS picks from the CPU model at run time, and
 * Last.FM's features, which feed every Figure 1(e) policy, would then differ
 * in their last bits from one machine to the next. The accuracy of the k-th
 * singular value decays like (sigma_{l+1} / sigma_k)^(2q+1) (Halko et al.,
 * Cor. 10.10), so a clear gap after the l = k + p leading values gives
 * results to rounding error; see tests/test_svd.c and docs/data.md for
 * measured errors. */
#include "linalg/sparse.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "colb/rng.h"
#include "core/util.h"
#include "linalg/dense.h"
#include "linalg/soa_kernel.h"

#define ROWS_PER_SYR 64 /* rows per syr_n call of gram() */

/* G (l x l) = X^T X of the row-major m x l block x: the rank-one steps of
 * its rows in order (each entry summed over the rows in order). */
static void gram(const colb__soa_kernel *kern, size_t m, size_t l, const double *x, double *G)
{
    const double *rows[ROWS_PER_SYR];
    memset(G, 0, l * l * sizeof(double));
    for (size_t r0 = 0; r0 < m; r0 += ROWS_PER_SYR) {
        size_t n = m - r0 < ROWS_PER_SYR ? m - r0 : ROWS_PER_SYR;
        for (size_t i = 0; i < n; i++)
            rows[i] = x + (r0 + i) * l;
        kern->syr_n(G, rows, n, l);
    }
}

/* In place, row by row: x (m x l, row-major) <- x T, T l x l row-major;
 * tmp holds l doubles. */
static void times(const colb__soa_kernel *kern, size_t m, size_t l, double *x, const double *T,
                  double *tmp)
{
    for (size_t r = 0; r < m; r++) {
        kern->colsum(T, l, x + r * l, l, l, tmp);
        memcpy(x + r * l, tmp, l * sizeof(double));
    }
}

/* Column c >= j of the row-major m x l block x <- H_j x_c for c = j..l-1,
 * H_j = I - 2 v_j v_j^T / vv the reflection of column j of v (rows j..m). */
static void reflect(size_t m, size_t l, double *x, const double *v, size_t j, double vv)
{
    for (size_t c = j; c < l; c++) {
        double t = 0.0;
        for (size_t i = j; i < m; i++)
            t += v[i * l + j] * x[i * l + c];
        t *= 2.0 / vv;
        for (size_t i = j; i < m; i++)
            x[i * l + c] -= t * v[i * l + j];
    }
}

/* Householder QR of the row-major m x l block x (m >= l) in place: x
 * becomes Q (orthonormal columns), R (l x l, upper, row-major) its factor.
 * v (m x l) receives the reflectors. Unconditionally stable; O(m l^2). */
static void householder(size_t m, size_t l, double *x, double *R, double *v)
{
    double *vn = R + l * l; /* l: ||v_j||^2 (R is followed by l doubles of work) */
    memset(v, 0, m * l * sizeof(double));
    for (size_t j = 0; j < l; j++) {
        double nrm = 0.0;
        for (size_t i = j; i < m; i++)
            nrm += x[i * l + j] * x[i * l + j];
        nrm = sqrt(nrm);
        double alpha = x[j * l + j] > 0.0 ? -nrm : nrm, vv = 0.0;
        for (size_t i = j; i < m; i++)
            v[i * l + j] = x[i * l + j] - (i == j ? alpha : 0.0);
        for (size_t i = j; i < m; i++)
            vv += v[i * l + j] * v[i * l + j];
        vn[j] = vv;
        if (vv != 0.0)
            reflect(m, l, x, v, j, vv);
        for (size_t c = 0; c < l; c++)
            R[j * l + c] = c < j ? 0.0 : x[j * l + c];
    }
    /* Q = H_0 ... H_{l-1} [I; 0], the reflectors applied last to first */
    for (size_t i = 0; i < m; i++)
        for (size_t c = 0; c < l; c++)
            x[i * l + c] = i == c;
    for (size_t j = l; j-- > 0;)
        if (vn[j] != 0.0)
            reflect(m, l, x, v, j, vn[j]);
}

/* Orthonormalise the columns of the row-major m x l block x in place (same
 * span), x = Q R with R (l x l, upper, row-major; may be NULL). Fast path:
 * CholeskyQR2 (Fukaya, Nakatsukasa, Yanagisawa and Yamamoto 2014: two passes
 * of G = X^T X = L L^T, X = X L^{-T}), accepted only when the result is
 * orthonormal to 1e-12 in every entry of Q^T Q - I; otherwise
 * (ill-conditioned or rank-deficient x) Householder QR of the saved input.
 * work holds 2 m l + 4 l^2 + 2 l doubles. */
static void orth(const colb__soa_kernel *kern, size_t m, size_t l, double *x, double *R,
                 double *work)
{
    double *save = work, *G = save + m * l, *Ti = G + l * l, *Rp = Ti + l * l, *Ra = Rp + l * l;
    double *tmp = Ra + l * l, *hv = tmp + 2 * l; /* hv: m l (the reflectors) */
    memcpy(save, x, m * l * sizeof(double));
    int ok = 1;
    for (size_t i = 0; i < l * l; i++)
        Ra[i] = i % (l + 1) == 0;
    for (int pass = 0; pass < 2 && ok; pass++) {
        gram(kern, m, l, x, G);
        if (colb__cholesky(G, l, G, NULL)) { /* G = L L^T, L lower */
            ok = 0;
            break;
        }
        /* Ti = L^{-T} (upper): column j of L^{-1} by forward substitution,
         * stored as row j of Ti */
        for (size_t j = 0; j < l; j++)
            for (size_t i = 0; i < l; i++) {
                double t = i == j ? 1.0 : 0.0;
                for (size_t k = j; k < i; k++)
                    t -= G[i * l + k] * Ti[j * l + k];
                Ti[j * l + i] = i < j ? 0.0 : t / G[i * l + i];
            }
        times(kern, m, l, x, Ti, tmp);
        /* Ra <- L^T Ra: x0 = x_now (L_2^T L_1^T) */
        for (size_t i = 0; i < l; i++)
            for (size_t j = 0; j < l; j++) {
                double t = 0.0;
                for (size_t k = i; k <= j; k++)
                    t += G[k * l + i] * Ra[k * l + j];
                Rp[i * l + j] = t;
            }
        memcpy(Ra, Rp, l * l * sizeof(double));
    }
    if (ok) {
        gram(kern, m, l, x, G);
        for (size_t i = 0; i < l * l && ok; i++)
            if (!(fabs(G[i] - (i % (l + 1) == 0 ? 1.0 : 0.0)) <= 1e-12))
                ok = 0;
    }
    if (ok) {
        if (R)
            memcpy(R, Ra, l * l * sizeof(double));
        return;
    }
    memcpy(x, save, m * l * sizeof(double));
    householder(m, l, x, Rp, hv); /* Rp is followed by Ra: l doubles of work */
    if (R)
        memcpy(R, Rp, l * l * sizeof(double));
}

/* The SVD of the l x l row-major R by one-sided Jacobi (Hestenes; Demmel and
 * Veselic 1992): plane rotations of pairs of columns (p, q), p < q in order,
 * until every pair is orthogonal to DBL_EPSILON relative, R V = U S. Out:
 * sv[l] decreasing, U and V (l x l, row-major, columns the singular
 * vectors; a zero singular value has a zero U column), sorted alike (ties
 * keep the index order). R is destroyed; perm: l sizes. 0, or -1 when the
 * sweeps did not converge. */
static int small_svd(double *R, size_t l, double *sv, double *U, double *V, size_t *perm)
{
    for (size_t i = 0; i < l * l; i++)
        V[i] = i % (l + 1) == 0;
    int done = 0;
    for (int sweep = 0; sweep < 100 && !done; sweep++) {
        done = 1;
        for (size_t p = 0; p < l; p++)
            for (size_t q = p + 1; q < l; q++) {
                double a = 0.0, b = 0.0, g = 0.0;
                for (size_t i = 0; i < l; i++) {
                    a += R[i * l + p] * R[i * l + p];
                    b += R[i * l + q] * R[i * l + q];
                    g += R[i * l + p] * R[i * l + q];
                }
                double ab = sqrt(a) * sqrt(b);
                /* orthogonal to working precision, or a column at the
                 * underflow level (its g is then a subnormal rounding
                 * artefact that no rotation can remove) */
                if (!(fabs(g) > DBL_EPSILON * ab) || ab < DBL_MIN)
                    continue;
                done = 0;
                double zeta = (b - a) / (2.0 * g), t;
                if (fabs(zeta) > 0x1p500)
                    t = 0.5 / zeta;
                else
                    t = (zeta >= 0.0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1.0 + zeta * zeta));
                double c = 1.0 / sqrt(1.0 + t * t), s = c * t;
                for (size_t i = 0; i < l; i++) {
                    double rp = R[i * l + p], rq = R[i * l + q];
                    R[i * l + p] = c * rp - s * rq;
                    R[i * l + q] = s * rp + c * rq;
                    double vp = V[i * l + p], vq = V[i * l + q];
                    V[i * l + p] = c * vp - s * vq;
                    V[i * l + q] = s * vp + c * vq;
                }
            }
    }
    if (!done)
        return -1;
    for (size_t j = 0; j < l; j++) { /* sorted by insertion, decreasing */
        double nrm = 0.0;
        for (size_t i = 0; i < l; i++)
            nrm += R[i * l + j] * R[i * l + j];
        nrm = sqrt(nrm);
        size_t k = j;
        for (; k > 0 && sv[k - 1] < nrm; k--) {
            sv[k] = sv[k - 1];
            perm[k] = perm[k - 1];
        }
        sv[k] = nrm;
        perm[k] = j;
    }
    for (size_t i = 0; i < l; i++) /* U: R's columns normalised, in the sorted order */
        for (size_t j = 0; j < l; j++)
            U[i * l + j] = sv[j] > 0.0 ? R[i * l + perm[j]] / sv[j] : 0.0;
    for (size_t i = 0; i < l; i++) { /* V's columns in that order, row by row through R */
        for (size_t j = 0; j < l; j++)
            R[i * l + j] = V[i * l + perm[j]];
        memcpy(V + i * l, R + i * l, l * sizeof(double));
    }
    return 0;
}

/* y (rows x l, row-major) = B x for B = A or A^T stored as CSR b
 * (rows x cols) and x (cols x l, row-major), minus the centring term:
 * y[:, c] -= shift * (w . x[:, c]) when w != NULL (shift == NULL: a scalar
 * 1, i.e. "1 (mu^T x)"), or y[:, c] -= shift * (1^T x[:, c]) when w == NULL
 * and shift != NULL. dot (l) is scratch. Each sum in index order. */
static void spmm(const colb__csr *b, size_t l, const double *x, double *y, const double *w,
                 const double *shift, double *dot)
{
    size_t rows = b->rows, cols = b->cols;
    for (size_t i = 0; i < rows; i++) {
        double *yi = y + i * l;
        for (size_t c = 0; c < l; c++)
            yi[c] = 0.0;
        for (size_t t = b->ptr[i]; t < b->ptr[i + 1]; t++) {
            const double a = b->val[t], *xj = x + b->col[t] * l;
            for (size_t c = 0; c < l; c++)
                yi[c] += a * xj[c];
        }
    }
    if (!w && !shift)
        return;
    for (size_t c = 0; c < l; c++)
        dot[c] = 0.0;
    for (size_t j = 0; j < cols; j++)
        for (size_t c = 0; c < l; c++)
            dot[c] += (w ? w[j] * x[j * l + c] : x[j * l + c]);
    for (size_t i = 0; i < rows; i++)
        for (size_t c = 0; c < l; c++)
            y[i * l + c] -= (shift ? shift[i] * dot[c] : dot[c]);
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
    const colb__soa_kernel *kern = colb__soa_env_kernel(); /* syr_n, colsum: the same bits on every path */
    size_t k = p->k, mx = m > n ? m : n;
    size_t l = p->oversample > mn - k ? mn : k + p->oversample;

    double *mean = colb__calloc(n, sizeof(double));
    double *Z = colb__malloc(n * l, sizeof(double)); /* n x l */
    double *Q = colb__malloc(m * l, sizeof(double)); /* m x l */
    double *R = colb__malloc(4 * l * l + 2 * l, sizeof(double));
    double *work = colb__malloc(2 * mx * l + 4 * l * l + 2 * l, sizeof(double));
    double *ones = colb__malloc(m, sizeof(double));
    size_t *perm = colb__malloc(l, sizeof(size_t));
    colb__csr at = { 0 };
    colb_status st = COLB_ENOMEM;
    if (!mean || !Z || !Q || !R || !work || !ones || !perm)
        goto out;
    double *S = R + l * l, *Ur = S + l, *Vr = Ur + l * l, *dot = Vr + l * l;
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
#define PROD(x, y) spmm(a, l, (x), (y), cm, cm ? ones : NULL, dot)
#define PROD_T(y, z) spmm(&at, l, (y), (z), NULL, cm, dot)

    /* Gaussian test matrix Omega (n x l; stream 0 of the seed fills it
     * column by column), then Y = A_c Omega. */
    colb_rng r;
    colb_rng_seed(&r, p->seed, 0);
    colb_rng_normal_fill(&r, work, n * l, 1.0);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < l; c++)
            Z[i * l + c] = work[i + c * n];
    PROD(Z, Q);
    orth(kern, m, l, Q, NULL, work);
    for (size_t it = 0; it < p->power_iters; it++) {
        PROD_T(Q, Z);
        orth(kern, n, l, Z, NULL, work);
        PROD(Z, Q);
        orth(kern, m, l, Q, NULL, work);
    }
    /* B^T = A_c^T Q (n x l) = Z = Qz R, R = Ur S Vr^T: B^T = (Qz Ur) S Vr^T,
     * so A_c ~ Q B = (Q Vr) S (Qz Ur)^T. */
    PROD_T(Q, Z);
    orth(kern, n, l, Z, R, work);
    if (small_svd(R, l, S, Ur, Vr, perm) || !colb__finite(S, l)) { /* overflow in the products */ /* overflow in the products */
        st = COLB_ENUMERIC;
        goto out;
    }
    times(kern, n, l, Z, Ur, dot); /* Z = W = Qz Ur: the right singular vectors */
    /* Deterministic signs: the largest-magnitude entry of each right
     * singular vector is positive (ties to the lowest index). */
    for (size_t j = 0; j < k; j++) {
        size_t best = 0;
        for (size_t i = 1; i < n; i++)
            if (fabs(Z[i * l + j]) > fabs(Z[best * l + j]))
                best = i;
        if (Z[best * l + j] < 0.0) {
            for (size_t i = 0; i < n; i++)
                Z[i * l + j] = -Z[i * l + j];
            for (size_t c = 0; c < l; c++)
                Vr[c * l + j] = -Vr[c * l + j];
        }
    }
    if (s)
        memcpy(s, S, k * sizeof(double));
    if (u) /* U_k = Q Vr[:, 0..k): row i of u is row i of Q times Vr */
        for (size_t i = 0; i < m; i++)
            kern->colsum(Vr, l, Q + i * l, l, k, u + i * k);
    if (v)
        for (size_t i = 0; i < n; i++)
            memcpy(v + i * k, Z + i * l, k * sizeof(double));
    if (mu)
        memcpy(mu, mean, n * sizeof(double));
    st = COLB_OK;
out:
    free(mean);
    free(Z);
    free(Q);
    free(R);
    free(work);
    free(ones);
    free(perm);
    colb__csr_free(&at);
    return st;
#undef PROD
#undef PROD_T
}
