/* dense.c - the O(d^3) factorisations of dense.h. The Cholesky factor and
 * its solves are hand loops: for d <= 64 they are several times faster than
 * LAPACKE's dpotrf/dpotrs, whose per-call overhead (argument checks, layout
 * transposition of row-major input) dominates at these sizes; the inverse
 * uses LAPACK's dpotri on that factor. */
#include "linalg/dense.h"

#include <math.h>
#include <string.h>

#include <lapacke.h>

int colb__cholesky(const double *S, size_t d, double *L, double *logdet)
{
    /* ln det S = ln prod_j L_jj^2: the product of the pivots, kept as
     * mantissa * 2^ex (renormalised before it could overflow or underflow),
     * and one log at the end instead of d */
    double pm = 1.0;
    int ex = 0;
    for (size_t j = 0; j < d; j++) {
        double *Lj = L + j * d;
        for (size_t k = 0; k <= j; k++) {
            const double *Lk = L + k * d;
            double s = S[j * d + k];
            for (size_t m = 0; m < k; m++)
                s -= Lj[m] * Lk[m];
            if (k == j) {
                if (!(s > 0.0))
                    return -1;
                Lj[j] = sqrt(s);
                pm *= s;
                if (pm > 0x1p500 || pm < 0x1p-500) {
                    int e;
                    pm = frexp(pm, &e);
                    ex += e;
                }
            } else {
                Lj[k] = s / Lk[k];
            }
        }
        for (size_t k = j + 1; k < d; k++)
            Lj[k] = 0.0;
    }
    if (logdet)
        *logdet = log(pm) + (double)ex * M_LN2;
    return 0;
}

void colb__cholesky_solve(const double *L, size_t d, double *b)
{
    for (size_t i = 0; i < d; i++) { /* L y = b */
        const double *Li = L + i * d;
        double s = b[i];
        for (size_t k = 0; k < i; k++)
            s -= Li[k] * b[k];
        b[i] = s / Li[i];
    }
    for (size_t i = d; i-- > 0;) { /* L^T x = y */
        double s = b[i];
        for (size_t k = i + 1; k < d; k++)
            s -= L[k * d + i] * b[k];
        b[i] = s / L[i * d + i];
    }
}

void colb__chol_inverse(double *L, size_t d)
{
    /* W = L^{-1} (lower), kept transposed in the upper triangle:
     * L[j d + i] = W_ij for i >= j */
    for (size_t j = 0; j < d; j++) {
        L[j * d + j] = 1.0 / L[j * d + j];
        for (size_t i = j + 1; i < d; i++) {
            double s = 0.0;
            for (size_t k = j; k < i; k++)
                s += L[i * d + k] * (k == j ? L[j * d + j] : L[j * d + k]);
            L[j * d + i] = -s / L[i * d + i];
        }
    }
    /* (L L^T)^{-1} = W^T W: row i of its lower triangle from rows >= i of
     * W, the diagonal last (it reads W_ii), then mirrored */
    for (size_t i = 0; i < d; i++) {
        for (size_t j = 0; j <= i; j++) {
            double s = 0.0;
            for (size_t k = i; k < d; k++)
                s += L[i * d + k] * L[j * d + k];
            if (j < i)
                L[i * d + j] = s;
            else
                L[i * d + i] = s;
        }
    }
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < i; j++)
            L[j * d + i] = L[i * d + j];
}

int colb__spd_inverse(const double *S, size_t d, double *out, double *logdet)
{
    if (colb__cholesky(S, d, out, logdet))
        return -1;
    colb__chol_inverse(out, d);
    return 0;
}

void colb__cholesky_solve_many(const double *const *L, size_t n, size_t d, double *const *b)
{
    for (size_t i = 0; i < d; i++) /* L y = b */
        for (size_t m = 0; m < n; m++) {
            const double *Li = L[m] + i * d;
            double s = b[m][i];
            for (size_t k = 0; k < i; k++)
                s -= Li[k] * b[m][k];
            b[m][i] = s / Li[i];
        }
    for (size_t i = d; i-- > 0;) /* L^T x = y */
        for (size_t m = 0; m < n; m++) {
            double s = b[m][i];
            for (size_t k = i + 1; k < d; k++)
                s -= L[m][k * d + i] * b[m][k];
            b[m][i] = s / L[m][i * d + i];
        }
}
