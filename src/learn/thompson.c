/* thompson.c - linear Thompson sampling over a ridge bank (see thompson.h;
 * Agrawal and Goyal, ICML 2013, Algorithm 1 with the scale v = the learner's
 * exploration width). */
#include "learn/thompson.h"

#include <string.h>

#include "linalg/dense.h"

size_t colb__ts_work(size_t d)
{
    return d * d + 2 * d;
}

/* Lower Cholesky factor of the d x d matrix M into L (row-major, upper part
 * zeroed); 0 on success. colb's own (dense.h), not LAPACK's dpotrf, which
 * OpenBLAS runs on its threads from d = 100 on, rounding differently with
 * their number. */
static int cholesky(const double *M, size_t d, double *L)
{
    return colb__cholesky(M, d, L, NULL);
}

void colb__ts_draw(const double *A, const double *V, const double *theta, size_t d, double scale,
                   const double *X, size_t K, colb_rng *rng, double *out, double *work)
{
    double *L = work, *z = L + d * d, *th = z + d;
    for (size_t j = 0; j < d; j++)
        z[j] = colb_rng_normal(rng);
    if (cholesky(A, d, L) == 0) {
        for (size_t j = 0; j < d; j++) { /* theta + v L z */
            double s = 0.0;
            for (size_t k = 0; k <= j; k++)
                s += L[j * d + k] * z[k];
            th[j] = theta[j] + scale * s;
        }
    } else if (V && cholesky(V, d, L) == 0) {
        for (size_t j = d; j-- > 0;) { /* L^T y = z, then theta + v y */
            double s = z[j];
            for (size_t k = j + 1; k < d; k++)
                s -= L[k * d + j] * th[k];
            th[j] = s / L[j * d + j];
        }
        for (size_t j = 0; j < d; j++)
            th[j] = theta[j] + scale * th[j];
    } else {
        memcpy(th, theta, d * sizeof(double)); /* no positive definite factor: the mean */
    }
    for (size_t k = 0; k < K; k++) {
        const double *x = X + k * d;
        double s = 0.0;
        for (size_t j = 0; j < d; j++)
            s += x[j] * th[j];
        out[k] = s;
    }
}

void colb__ts_scores(const colb__ridge *r, size_t i, const double *A, double scale,
                     const double *X, size_t K, colb_rng *rng, double *out, double *work)
{
    size_t d = r->d;
    colb__ts_draw(A ? A : r->A + i * d * d, r->V + i * d * d, r->theta + i * d, d, scale, X, K, rng,
                  out, work);
}

size_t colb__ts_choose(const colb__ridge *r, size_t i, const double *A, const double *X, size_t K,
                       colb_rng *rng, double *scores, double *work)
{
    colb__ts_scores(r, i, A, colb__ridge_width(r, i), X, K, rng, scores, work);
    return colb__argmax(scores, K);
}

void colb__ts_choose_all(const colb__ridge *r, const double *X, size_t K, colb_rng *rng,
                         size_t *arms, double *scores, double *work)
{
    for (size_t i = 0; i < r->n; i++)
        arms[i] = colb__ts_choose(r, i, NULL, X, K, rng, scores, work);
}
