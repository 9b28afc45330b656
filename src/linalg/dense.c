/* dense.c - the O(d^3) factorisations of dense.h. The Cholesky factor, its
 * solves and inverse and the symmetric eigenvalues are hand loops: for d <=
 * 64 they are several times faster than LAPACKE's dpotrf/dpotrs, whose
 * per-call overhead (argument checks, layout transposition of row-major
 * input) dominates at these sizes, and their fixed order keeps results a
 * function of the inputs alone (LAPACK rounds as the BLAS kernels the CPU
 * model selects, and OpenBLAS's dpotri as its thread count). */
#include "linalg/dense.h"

#include <float.h>
#include <math.h>
#include <string.h>

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

/* W = L^{-1} (lower), kept transposed in the upper triangle:
 * L[j d + i] = W_ij for i >= j */
static void chol_w(double *L, size_t d)
{
    for (size_t j = 0; j < d; j++) {
        L[j * d + j] = 1.0 / L[j * d + j];
        for (size_t i = j + 1; i < d; i++) {
            double s = 0.0;
            for (size_t k = j; k < i; k++)
                s += L[i * d + k] * (k == j ? L[j * d + j] : L[j * d + k]);
            L[j * d + i] = -s / L[i * d + i];
        }
    }
}

void colb__chol_inverse(double *L, size_t d)
{
    chol_w(L, d);
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

double colb__chol_inv_trace(double *L, size_t d)
{
    chol_w(L, d);
    double tr = 0.0;
    for (size_t i = 0; i < d; i++) { /* chol_inverse's diagonal entry i */
        double s = 0.0;
        for (size_t k = i; k < d; k++)
            s += L[i * d + k] * L[i * d + k];
        tr += s;
    }
    return tr;
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

/* In place: S (d x d, row-major, symmetric) to tridiagonal form by
 * Householder reflections, last row first (Householder's reduction as in
 * Martin, Reinsch and Wilkinson's tred2, without the transformations):
 * diag[0..d) the diagonal, off[i] (i >= 1) the entry (i, i - 1); off[0] = 0.
 * Each reflection reads the rows above it from S's lower triangle. */
static void tridiagonal(double *S, size_t d, double *diag, double *off)
{
    for (size_t i = d; i-- > 1;) {
        size_t l = i - 1;
        double *Si = S + i * d, h = 0.0;
        if (l > 0) {
            double scale = 0.0;
            for (size_t k = 0; k <= l; k++)
                scale += fabs(Si[k]);
            if (scale == 0.0) {
                off[i] = Si[l];
            } else {
                for (size_t k = 0; k <= l; k++) { /* scaled against under/overflow */
                    Si[k] /= scale;
                    h += Si[k] * Si[k];
                }
                double f = Si[l], g = f >= 0.0 ? -sqrt(h) : sqrt(h);
                off[i] = scale * g;
                h -= f * g;
                Si[l] = f - g; /* u = the reflection's vector, in row i */
                /* p = A u / h into off[0..l], then K = u^T p / 2h */
                f = 0.0;
                for (size_t j = 0; j <= l; j++) {
                    double t = 0.0;
                    for (size_t k = 0; k <= j; k++)
                        t += S[j * d + k] * Si[k];
                    for (size_t k = j + 1; k <= l; k++)
                        t += S[k * d + j] * Si[k];
                    off[j] = t / h;
                    f += off[j] * Si[j];
                }
                double hh = f / (h + h);
                /* q = p - K u; A -= q u^T + u q^T (lower triangle) */
                for (size_t j = 0; j <= l; j++) {
                    double uj = Si[j], qj = off[j] - hh * uj;
                    off[j] = qj;
                    for (size_t k = 0; k <= j; k++)
                        S[j * d + k] -= uj * off[k] + qj * Si[k];
                }
            }
        } else {
            off[i] = Si[l];
        }
    }
    off[0] = 0.0;
    for (size_t i = 0; i < d; i++)
        diag[i] = S[i * d + i];
}

/* sqrt(a^2 + b^2) without destructive underflow or overflow. */
static double hypot2(double a, double b)
{
    a = fabs(a);
    b = fabs(b);
    if (a > b)
        return a * sqrt(1.0 + (b / a) * (b / a));
    return b == 0.0 ? 0.0 : b * sqrt(1.0 + (a / b) * (a / b));
}

/* The eigenvalues of the symmetric tridiagonal (diag, off: off[i] the entry
 * (i, i - 1)) into diag, unsorted, by the implicit QL algorithm with Wilkinson's
 * shifts (Bowdler, Martin, Reinsch and Wilkinson's tql1); off is destroyed.
 * 0, or -1 after 30 iterations on one eigenvalue. O(d^2). */
static int tridiagonal_ql(double *diag, double *off, size_t d)
{
    for (size_t i = 1; i < d; i++)
        off[i - 1] = off[i];
    off[d - 1] = 0.0;
    for (size_t l = 0; l < d; l++) {
        for (int iter = 0;; iter++) {
            size_t m = l; /* the first negligible off-diagonal from l on */
            for (; m + 1 < d; m++)
                if (fabs(off[m]) <= DBL_EPSILON * (fabs(diag[m]) + fabs(diag[m + 1])))
                    break;
            if (m == l)
                break;
            if (iter == 30)
                return -1;
            double g = (diag[l + 1] - diag[l]) / (2.0 * off[l]), r = hypot2(g, 1.0);
            g = diag[m] - diag[l] + off[l] / (g + (g >= 0.0 ? r : -r));
            double s = 1.0, c = 1.0, p = 0.0;
            int deflated = 0;
            for (size_t i = m; i-- > l;) {
                double f = s * off[i], b = c * off[i];
                off[i + 1] = r = hypot2(f, g);
                if (r == 0.0) { /* underflow: split here and start again */
                    diag[i + 1] -= p;
                    off[m] = 0.0;
                    deflated = 1;
                    break;
                }
                s = f / r;
                c = g / r;
                g = diag[i + 1] - p;
                r = (diag[i] - g) * s + 2.0 * c * b;
                p = s * r;
                diag[i + 1] = g + p;
                g = c * r - b;
            }
            if (deflated)
                continue;
            diag[l] -= p;
            off[l] = g;
            off[m] = 0.0;
        }
    }
    return 0;
}

int colb__sym_eigvals(double *S, size_t d, double *ev, double *off)
{
    for (size_t i = 0; i < d * d; i++)
        if (!isfinite(S[i]))
            return -1;
    if (d == 0)
        return 0;
    tridiagonal(S, d, ev, off);
    if (tridiagonal_ql(ev, off, d))
        return -1;
    for (size_t i = 1; i < d; i++) { /* sorted by insertion */
        double v = ev[i];
        size_t j = i;
        for (; j > 0 && ev[j - 1] > v; j--)
            ev[j] = ev[j - 1];
        ev[j] = v;
    }
    return 0;
}
