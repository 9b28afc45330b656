/* dense.h - small dense matrix helpers (internal): quadratic forms,
 * matrix-vector products and the Sherman-Morrison step on d x d row-major
 * matrices, the symmetric positive definite inverse and solve, and the
 * eigenvalues of a symmetric matrix. Hand loops: at the sizes colb uses (d
 * of 5 to 50) a BLAS call costs more in overhead than the d^2 multiply-adds,
 * and LAPACK's O(d^3) routines round as the BLAS kernels they call, which
 * the BLAS picks from the CPU model at run time. Sums run in a fixed order,
 * so results depend on the inputs alone, not on the caller or the CPU. */
#ifndef COLB_DENSE_H
#define COLB_DENSE_H

#include <math.h>
#include <stddef.h>

/* x^T A x (clamped at 0 against rounding). */
static inline double colb__quad(const double *A, const double *x, size_t d)
{
    double q = 0.0;
    for (size_t i = 0; i < d; i++) {
        const double *Ai = A + i * d;
        double s = 0.0;
        for (size_t j = 0; j < d; j++)
            s += Ai[j] * x[j];
        q += x[i] * s;
    }
    return q > 0.0 ? q : 0.0;
}

/* y = A x (y must not alias x). */
static inline void colb__matvec(const double *A, const double *x, size_t d, double *y)
{
    for (size_t i = 0; i < d; i++) {
        const double *Ai = A + i * d;
        double s = 0.0;
        for (size_t j = 0; j < d; j++)
            s += Ai[j] * x[j];
        y[i] = s;
    }
}

/* A <- A - (A x)(A x)^T / (1 + x^T A x): the inverse after adding x x^T to
 * A^{-1} (symmetric A stays symmetric bit for bit: products commute). w
 * holds d doubles: receives A x (the A before the step). Returns x^T A x. */
static inline double colb__sherman_morrison(double *A, const double *x, size_t d, double *w)
{
    colb__matvec(A, x, d, w);
    double s = 0.0;
    for (size_t i = 0; i < d; i++)
        s += x[i] * w[i];
    double c = 1.0 / (1.0 + s);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++)
            A[i * d + j] -= (w[i] * w[j]) * c;
    return s;
}

/* ---- symmetric matrices packed: the upper triangle row by row, (0,0),
 * (0,1), ..., (0,d-1), (1,1), ...: d(d+1)/2 entries (soa_kernel.h's order).
 * Half the memory and traffic of the full form, and the same bits as the
 * full-matrix helpers above on a matrix symmetric bit for bit. */

/* The packed upper triangle of the full symmetric A (d x d) into Ap. */
/* ln det V's growth by a rank-one step of weight w and s = x^T V^-1 x:
 * ln(1 + w s), which is >= 0 exactly. A V^-1 kept by Sherman-Morrison steps
 * can lose its positive definiteness where V is near singular (lambda 1e-6
 * against contexts of 1e6: condition numbers near 1e18), and its computed
 * w s fall below -1: ln det V does not go down, so it grows by 0 there, not
 * by NaN. Every well-conditioned step (w s >= 0) is unchanged. */
static inline double colb__logdet_step(double ws)
{
    return ws > 0.0 ? log1p(ws) : 0.0;
}

static inline void colb__pack_upper(const double *A, size_t d, double *Ap)
{
    for (size_t i = 0, e = 0; i < d; e += d - i, i++)
        for (size_t j = i; j < d; j++)
            Ap[e + j - i] = A[i * d + j];
}

/* The full symmetric d x d A of the packed upper triangle Ap (the inverse
 * of colb__pack_upper; A symmetric bit for bit). */
static inline void colb__unpack_upper(const double *Ap, size_t d, double *A)
{
    for (size_t i = 0, e = 0; i < d; i++)
        for (size_t j = i; j < d; j++, e++)
            A[i * d + j] = A[j * d + i] = Ap[e];
}

/* The inverse of the symmetric positive definite S into out (both d x d,
 * distinct), made exactly symmetric; *logdet (may be NULL) gets ln det S.
 * 0, or -1 when S is not positive definite. O(d^3). */
int colb__spd_inverse(const double *S, size_t d, double *out, double *logdet);

/* Cholesky factor of the symmetric positive definite S into L (lower,
 * row-major, d x d, zeros above; L may be S), and ln det S (logdet may be
 * NULL); 0 or -1. */
int colb__cholesky(const double *S, size_t d, double *L, double *logdet);

/* In place: L (lower, from colb__cholesky; its upper triangle is
 * overwritten) becomes (L L^T)^{-1}, exactly symmetric. LAPACK's dpotri
 * does the same, but OpenBLAS runs it on its threads even at d = 15 and
 * rounds differently with their number: this fixed order keeps results a
 * function of the inputs alone. O(d^3). */
void colb__chol_inverse(double *L, size_t d);

/* tr (L L^T)^{-1}, bit for bit the sum, in order, of the diagonal that
 * colb__chol_inverse(L, d) leaves, without the off-diagonal entries (a
 * third of its work); L (lower, from colb__cholesky) is overwritten. */
double colb__chol_inv_trace(double *L, size_t d);

/* Solve (L L^T) x = b in place, L from colb__cholesky. */
void colb__cholesky_solve(const double *L, size_t d, double *b);

/* n calls colb__cholesky_solve(L[m], d, b[m]) at once, row by row (the
 * same bits; their dependency chains interleaved). */
void colb__cholesky_solve_many(const double *const *L, size_t n, size_t d, double *const *b);

/* In place: the eigenvalues of the symmetric S (d x d, row-major; its lower
 * triangle is read and destroyed) into ev[0..d), increasing: Householder
 * reduction to tridiagonal form, then the implicit QL algorithm (the steps
 * of LAPACK's dsyev, in one fixed order). work: d doubles. 0, or -1 when S
 * holds a NaN or an infinity or QL did not converge. O(d^3); the smallest
 * eigenvalue of V (OFUL's confidence radius, ALB-norm's bound). */
int colb__sym_eigvals(double *S, size_t d, double *ev, double *work);

#endif
