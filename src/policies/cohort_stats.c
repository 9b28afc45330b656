/* cohort_stats.c - the statistics behind cohort's partition (cohort.h):
 *
 *  - the score test of a user's data against a cluster's model: under "u
 *    shares the cluster's parameter", b_u - G_u theta is the user's noise
 *    martingale sum_s x_s eps_s, whose V_u^-1 norm the self-normalised bound
 *    of Abbasi-Yadkori, Pal, Szepesvari (2011, Theorem 1) - the noise part of
 *    the OFUL radius - controls at every time; the cluster model's own
 *    error enters in quadrature (Gaussian approximation), its ridge bias by
 *    a plug-in estimate, and an allowed spread tau2 of true parameters adds
 *    its expectation tau2 tr(G V^-1 G);
 *  - the Wald test of two models (splits, merges), with the ridge bias of
 *    both estimates corrected by their pooled estimate;
 *  - the predictive score of a user under a cluster (Bayesian ridge with
 *    known noise R, the user's own data left out of its own cluster), the
 *    criterion of assignment;
 *  - the spread of a cluster's members around its model (method of
 *    moments), which sets the shrinkage of the personal estimates. */
#include "policies/cohort.h"

#include <string.h>

#include "linalg/dense.h"

#define NONE_PAIR ((size_t)-1)

/* Spread term's weight in the score test's threshold: the statistic's
 * expectation under a spread tau2 is tau2 h; 2 h leaves room for its
 * fluctuation before a member of a broad population counts as an outlier. */
#define SPREAD_WEIGHT 2.0

double colb__cohort_noise_radius(const colb__cohort *h, const colb__ridge *r, size_t i)
{
    double arg = r->logdet[i] - h->d_log_lambda + h->two_log_delta;
    return h->R * sqrt(arg > 0.0 ? arg : 0.0); /* every model's r->noise is learner.noise: R unless estimated */
}

/* S = G_u + eps I (eps = 1e-6 lambda), the matrix of user u's least-squares
 * fit, from V_u = G_u + lambda I. */
static void ls_factor_input(const colb__cohort *h, size_t u, double *S)
{
    size_t d = h->d;
    double lam = h->u.p.lambda, eps = 1e-6 * lam;
    memcpy(S, h->u.V + u * d * d, d * d * sizeof(double));
    for (size_t a = 0; a < d; a++)
        S[a * d + a] -= lam - eps;
}

/* User u's least-squares RSS and degrees of freedom into sums, from th =
 * S^-1 b_u (colb__cholesky_solve's) and tr = tr S^-1 (chol_inv_trace_n's),
 * S ls_factor_input's. */
static void ls_terms(const colb__cohort *h, size_t u, const double *th, double tr, double sums[2])
{
    size_t d = h->d;
    double eps = 1e-6 * h->u.p.lambda, r = h->yy[u];
    const double *b = h->u.b + u * d;
    for (size_t a = 0; a < d; a++)
        r -= (b[a] + eps * th[a]) * th[a];
    /* degrees of freedom n - tr H, tr H = d - eps tr (G + eps I)^-1: n - d
     * when G_u has full rank, n - rank when its contexts span fewer
     * dimensions (logged features), where n - d counted too few */
    sums[0] += r > 0.0 ? r : 0.0;
    sums[1] += (double)h->u.count[u] - (double)d + eps * tr;
}

/* Why the users' own fits: a user's least-squares fit is unbiased whatever
 * the clusters are, so its residuals measure the noise alone, not a
 * cluster's misfit. A user with n_u >= d + 2 rewards contributes th =
 * (G_u + eps I)^-1 b_u (eps = 1e-6 lambda: a G_u singular in some
 * direction, as logged features can make it, stays solvable), RSS_u = yy_u
 * - b_u^T th - eps |th|^2 with n_u - tr H degrees of freedom (n_u - d at
 * full rank, n_u - rank below). One with fewer
 * (every user in the first d + 1 rounds of a simulation) has no
 * least-squares residual: it contributes its ridge fit th = A_u b_u, whose
 * residuals' expectation is sigma^2 (n_u - d + lambda^2 tr A_u^2) (the
 * trace of (I - H)^2, H = X A_u X^T) plus the shrinkage's bias lambda^2
 * th*^T A_u G_u A_u th*, of which lambda^2 th^T A_u th is taken out: in
 * A_u's eigenbasis th = (1 - lambda a) th* on average, so this is the bias
 * with th* replaced by th in one factor and by its de-shrunk th / (1 -
 * lambda a) in the other - still short of it (and the estimate high then,
 * which delays splits rather than making false ones), as the residuals of
 * n <= d rewards cannot tell noise from signal without a prior on th*.
 * Measured against the alternatives (the degrees of freedom n_u - tr H;
 * the bias with th in both factors; ridge residuals up to 2 d rewards; none,
 * learner.noise until round d + 2): each lost more somewhere
 * (docs/cohort.md, "The noise scale, estimated"). learner.noise R0 enters as
 * a prior worth d residuals. */
void colb__cohort_noise_terms(colb__cohort *h, size_t u, double sums[2])
{
    size_t d = h->d;
    double lam = h->u.p.lambda, r = h->yy[u];
    if (!h->u.count[u])
        return;
    const double *b = h->u.b + u * d;
    if (h->u.count[u] < (uint64_t)d + 2) { /* the ridge fit's residuals */
        const double *tr = h->u.theta + u * d, *A = h->u.A + u * d * d;
        double f = (double)h->u.count[u] - (double)d;
        for (size_t a = 0; a < d; a++) {
            double at = 0.0;
            for (size_t c = 0; c < d; c++) {
                at += A[a * d + c] * tr[c];
                f += lam * lam * A[a * d + c] * A[a * d + c];
            }
            r -= (b[a] + lam * tr[a] + lam * lam * at) * tr[a];
        }
        sums[0] += r > 0.0 ? r : 0.0;
        sums[1] += f > 0.0 ? f : 0.0;
        return;
    }
    double *L = h->work, *th = L + d * d;
    ls_factor_input(h, u, L);
    if (colb__cholesky(L, d, L, NULL))
        return; /* G_u + eps I not positive definite (rounding): no residual from u */
    memcpy(th, b, d * sizeof(double));
    colb__cholesky_solve(L, d, th);
    double tr;
    h->kern->chol_inv_trace_n(&L, 1, d, &tr);
    ls_terms(h, u, th, tr, sums);
}

double colb__cohort_noise_of(const colb__cohort *h, const double sums[2])
{
    return sqrt(((double)h->d * h->R0 * h->R0 + sums[0]) / ((double)h->d + sums[1]));
}

/* noise_terms of every user, in order; the least-squares users' fits
 * COLB__CHOL_BATCH at a time (chol_fit_n: each colb__cholesky,
 * colb__cholesky_solve and colb__chol_inv_trace's bits), in h->pbuf: S, L
 * and th of each. */
double colb__cohort_noise_estimate(colb__cohort *h)
{
    size_t d = h->d, dd = d * d, N = h->N;
    uint64_t full = (uint64_t)d + 2;
    double sums[2] = { 0.0, 0.0 };
    for (size_t u0 = 0; u0 < N;) {
        const double *S[COLB__CHOL_BATCH];
        double *L[COLB__CHOL_BATCH], *th[COLB__CHOL_BATCH], tr[COLB__CHOL_BATCH];
        int fail[COLB__CHOL_BATCH];
        size_t n = 0, u1 = u0; /* [u0, u1): up to a batch of least-squares users */
        for (; u1 < N && n < COLB__CHOL_BATCH; u1++) {
            if (h->u.count[u1] < full)
                continue;
            double *s = h->pbuf + n * (2 * dd + d);
            ls_factor_input(h, u1, s);
            S[n] = s;
            L[n] = s + dd;
            th[n] = s + 2 * dd;
            memcpy(th[n++], h->u.b + u1 * d, d * sizeof(double));
        }
        if (n)
            h->kern->chol_fit_n(S, n, d, L, th, NULL, tr, fail);
        for (size_t u = u0, m = 0; u < u1; u++) {
            if (h->u.count[u] < full) {
                colb__cohort_noise_terms(h, u, sums); /* none, or the ridge fit's */
            } else {
                if (!fail[m])
                    ls_terms(h, u, th[m], tr[m], sums);
                m++;
            }
        }
        u0 = u1;
    }
    return colb__cohort_noise_of(h, sums);
}

double colb__cohort_stat_with(const double st[5], double tau2)
{
    double thr = sqrt(st[3] + SPREAD_WEIGHT * tau2 * st[2]) + st[4];
    return thr > 0.0 ? sqrt(st[0]) / thr : INFINITY;
}

void colb__cohort_score_prep(colb__cohort *h, const colb__ridge *cb, size_t j, double *pre)
{
    size_t d = cb->d;
    h->kern->colsum(cb->A + j * d * d, d, cb->theta + j * d, d, d, pre); /* colb__matvec's bits */
    double rho_j = colb__cohort_noise_radius(h, cb, j);
    pre[d] = rho_j * rho_j;
}

double colb__cohort_score_test(colb__cohort *h, const colb__ridge *from, size_t i,
                               const colb__ridge *cb, size_t j, double tau2, double st[5],
                               const double *pre)
{
    size_t d = from->d;
    double lam = from->p.lambda;
    const double *V = from->V + i * d * d, *A = from->A + i * d * d, *b = from->b + i * d;
    const double *th = cb->theta + j * d, *Aj = cb->A + j * d * d;
    double *r = h->work, *z = r + d;
    if (!pre) {
        colb__cohort_score_prep(h, cb, j, z + d);
        pre = z + d;
    }
    const double *q = pre; /* A_j th_j: the ridge bias of th_j is lambda G A_j th_j */
    /* r = b - (V - lambda I) th, z = (V - lambda I) q and tau = tr(G A_j) =
     * <V, A_j> - lambda tr(A_j): V th, V q and the row sums of V .* A_j, each
     * summed along the row in order (the kernels vectorise across rows: V and
     * A_j are symmetric bit for bit), then tau's sum over the rows in order */
    const colb__soa_kernel *kn = h->kern;
    double *s = r + 4 * d, *ta = s + d, tau = 0.0, trA = 0.0, trV = 0.0;
    for (size_t a = 0; a < d; a++) {
        s[a] = 0.0;
        z[a] = -lam * q[a];
    }
    kn->symv2(V, d, th, q, s, z);
    kn->coldot(V, Aj, d, ta);
    for (size_t a = 0; a < d; a++) {
        r[a] = b[a] - s[a] + lam * th[a];
        tau += ta[a];
    }
    for (size_t a = 0; a < d; a++) {
        tau -= lam * Aj[a * d + a];
        trA += A[a * d + a];
        trV += V[a * d + a];
    }
    if (tau < 0.0)
        tau = 0.0;
    /* r^T A r and z^T A z (A = V^-1) */
    double qr = 0.0, qz = 0.0;
    for (size_t a = 0; a < d; a++)
        s[a] = ta[a] = 0.0;
    kn->symv2(A, d, r, z, s, ta);
    for (size_t a = 0; a < d; a++) {
        qr += r[a] * s[a];
        qz += z[a] * ta[a];
    }
    double pieces[5];
    double *p = st ? st : pieces;
    p[0] = qr > 0.0 ? qr : 0.0;
    p[1] = (double)d - lam * trA;                /* tr(V^-1 G) */
    p[2] = (trV - (double)d * lam) - lam * p[1]; /* tr(G V^-1 G) */
    p[4] = lam * sqrt(qz > 0.0 ? qz : 0.0);
    double rho_i = colb__cohort_noise_radius(h, from, i);
    p[3] = rho_i * rho_i + tau * pre[d];
    return colb__cohort_stat_with(p, tau2);
}

double colb__cohort_wald(colb__cohort *h, const colb__ridge *b0, size_t i0, const colb__ridge *b1,
                         size_t i1)
{
    double W;
    colb__cohort_wald_pairs(h, b0, &i0, b1, &i1, 1, &W);
    return W;
}

void colb__cohort_wald_n(colb__cohort *h, const colb__ridge *b0, size_t i0, const colb__ridge *b1,
                         const size_t *i1s, size_t n, double *out)
{
    size_t i0s[COLB__WALD_BATCH];
    for (size_t m = 0; m < COLB__WALD_BATCH; m++)
        i0s[m] = i0;
    for (size_t m0 = 0; m0 < n; m0 += COLB__WALD_BATCH)
        colb__cohort_wald_pairs(h, b0, i0s, b1, i1s + m0,
                                n - m0 < COLB__WALD_BATCH ? n - m0 : COLB__WALD_BATCH, out + m0);
}

/* COLB__WALD_BATCH pairs at a time, each pair's W with the arithmetic of
 * the one-pair form: the pooled systems (S tp = b0 + b1) factored and
 * solved together, then the systems of A0 + A1 (chol_fit_n: on AVX-512 one
 * per vector lane, the factor never leaving the lanes). A pair's scratch in
 * h->pbuf, 2 d^2 + 3 d (the buffer holds COLB__CHOL_BATCH of them): R1
 * holds S, then A0 + A1; R2 is the factors' scratch, and D = A0 - A1 in
 * between; then tp (S^-1 (b0 + b1)), diff and tq ((A0 + A1)^-1 diff). */
#define WALD_BATCH COLB__WALD_BATCH
void colb__cohort_wald_pairs(colb__cohort *h, const colb__ridge *b0, const size_t *i0s,
                             const colb__ridge *b1, const size_t *i1s, size_t n, double *out)
{
    size_t d = h->d, dd = d * d, room = 2 * dd + 3 * d;
    double lam = b0->p.lambda;
    for (size_t m0 = 0; m0 < n; m0 += WALD_BATCH) {
        size_t nb = n - m0 < WALD_BATCH ? n - m0 : WALD_BATCH, nf = 0, fi[WALD_BATCH];
        const double *Ss[WALD_BATCH];
        double *Ls[WALD_BATCH], *ths[WALD_BATCH];
        int fail[WALD_BATCH];
        for (size_t m = 0; m < nb; m++) {
            size_t i0 = i0s[m0 + m], i1 = i1s[m0 + m];
            double *S = h->pbuf + m * room, *tp = S + 2 * dd;
            out[m0 + m] = 0.0;
            fi[m] = NONE_PAIR;
            if (!b0->count[i0] || !b1->count[i1])
                continue;
            /* pooled estimate: under a common theta, E[t0 - t1] = -lambda (A0 - A1) theta */
            /* the sums by the axpy kernel (1 x exact: the plain sums' bits) */
            memcpy(S, b0->V + i0 * dd, dd * sizeof(double));
            h->kern->axpy(S, b1->V + i1 * dd, 1.0, dd);
            for (size_t a = 0; a < d; a++)
                S[a * d + a] -= lam;
            for (size_t a = 0; a < d; a++)
                tp[a] = b0->b[i0 * d + a] + b1->b[i1 * d + a];
            fi[m] = nf;
            Ss[nf] = S;
            Ls[nf] = S + dd;
            ths[nf++] = tp;
        }
        h->kern->chol_fit_n(Ss, nf, d, Ls, ths, NULL, NULL, fail);
        size_t ng = 0, gi[WALD_BATCH];
        for (size_t m = 0; m < nb; m++) {
            if (fi[m] == NONE_PAIR || fail[fi[m]])
                continue;
            size_t i0 = i0s[m0 + m], i1 = i1s[m0 + m];
            const double *A0 = b0->A + i0 * dd, *A1 = b1->A + i1 * dd;
            double *S2 = h->pbuf + m * room, *D = S2 + dd, *tp = D + dd, *diff = tp + d, *tq = diff + d;
            /* (A0 - A1) tp, the difference formed first */
            memcpy(D, A0, dd * sizeof(double)); /* A0 + (-1) A1: A0 - A1 exactly */
            h->kern->axpy(D, A1, -1.0, dd);
            h->kern->colsum(D, d, tp, d, d, diff); /* symv from 0 */
            for (size_t a = 0; a < d; a++)
                diff[a] = b0->theta[i0 * d + a] - b1->theta[i1 * d + a] + lam * diff[a];
            memcpy(tq, diff, d * sizeof(double));
            memcpy(S2, A0, dd * sizeof(double));
            h->kern->axpy(S2, A1, 1.0, dd);
            gi[ng] = m;
            Ss[ng] = S2;
            Ls[ng] = D;
            ths[ng++] = tq;
        }
        h->kern->chol_fit_n(Ss, ng, d, Ls, ths, NULL, NULL, fail);
        for (size_t g = 0; g < ng; g++) {
            if (fail[g])
                continue;
            const double *diff = h->pbuf + gi[g] * room + 2 * dd + d, *tq = diff + d;
            double W = 0.0;
            for (size_t a = 0; a < d; a++)
                W += diff[a] * tq[a];
            out[m0 + gi[g]] = W / (h->R * h->R);
        }
    }
}

double colb__cohort_chi_thr(const colb__cohort *h)
{
    double l = log(1.0 / h->delta), dd = (double)h->d;
    return dd + 2.0 * sqrt(dd * l) + 2.0 * l;
}

double colb__cohort_oful_thr(const colb__cohort *h, const colb__ridge *b0, size_t i0,
                             const colb__ridge *b1, size_t i1)
{
    double ld = b0->logdet[i0] > b1->logdet[i1] ? b0->logdet[i0] : b1->logdet[i1];
    return 2.0 * log(1.0 / h->delta) + ld - (double)h->d * log(b0->p.lambda);
}

/*   theta' = V'^{-1} b' (the cluster without u; a new cluster: V' = lambda
 *            I, b' = 0), r = b_u - G_u theta',
 *   score  = (RSS_u(theta') - r^T (V' + G_u)^{-1} r) / R^2
 *            + ln det(V' + G_u) - ln det V' - 2 ln n',
 * the Gaussian -2 log p(y_u | cluster) up to terms common to all clusters,
 * from sufficient statistics (RSS_u(t) = yy_u - 2 t.b_u + t^T G_u t). */
double colb__cohort_pred_score(colb__cohort *h, size_t u, size_t c)
{
    double out;
    colb__cohort_pred_scores(h, u, &c, 1, &out);
    return out;
}

/* The scores of COLB__CHOL_BATCH clusters at a time: their factorisations
 * and solves are independent latency-bound chains, run interleaved
 * (soa_kernel.h cholesky_n, dense.h colb__cholesky_solve_many); each score
 * is computed with the arithmetic of the one-cluster form. */
void colb__cohort_pred_scores(colb__cohort *h, size_t u, const size_t *cs, size_t n, double *out)
{
    colb__cohort_pred_scores_of(h, &u, 0, cs, n, out);
}

/* With theta' in tp: z = G_u theta' (by V_u's columns, = rows), r = b_u -
 * z, and RSS_u(theta') up to its constant, returned. */
static double pred_rss(const colb__cohort *h, size_t u, const double *tp, double *r, double *z)
{
    size_t d = h->d;
    double lam = h->u.p.lambda;
    const double *Vu = h->u.V + u * d * d, *bu = h->u.b + u * d;
    for (size_t a = 0; a < d; a++)
        z[a] = -lam * tp[a];
    h->kern->symv(Vu, d, tp, z);
    double rss = h->yy[u];
    for (size_t a = 0; a < d; a++) {
        r[a] = bu[a] - z[a];
        rss += tp[a] * z[a] - 2.0 * tp[a] * bu[a];
    }
    return rss;
}

void colb__cohort_pred_scores_of(colb__cohort *h, const size_t *us, size_t us_step, const size_t *cs,
                                 size_t n, double *out)
{
    enum { NEW, OTHER, OWN };
    size_t d = h->d, st = 2 * d * d + 3 * d;
    double lam = h->u.p.lambda;
    for (size_t m0 = 0; m0 < n; m0 += COLB__CHOL_BATCH) {
        size_t nb = n - m0 < COLB__CHOL_BATCH ? n - m0 : COLB__CHOL_BATCH, nf = 0;
        const double *S[COLB__CHOL_BATCH], *Minv[COLB__CHOL_BATCH];
        double *Lf[COLB__CHOL_BATCH], *bs[COLB__CHOL_BATCH], ldf[COLB__CHOL_BATCH];
        double cnt[COLB__CHOL_BATCH], ld0[COLB__CHOL_BATCH], ld1[COLB__CHOL_BATCH];
        int fail[COLB__CHOL_BATCH], kind[COLB__CHOL_BATCH];
        size_t fi[COLB__CHOL_BATCH];
        /* V' and theta' = V'^{-1} b' with ln det V', and what (V' + G_u)^{-1}
         * r and ln det(V' + G_u) need: the banks keep A and ln det of V_c
         * (another cluster's V', and own cluster's V' + G_u) and of V_u (a
         * new cluster's V' + G_u), so one factorisation at most, and one
         * system solved with it, whose right-hand side is known before:
         * own cluster's b' (for theta'), another's r (theta' its model) -
         * chol_fit_n, the batch's systems at once */
        for (size_t m = 0; m < nb; m++) {
            size_t c = cs[m0 + m], u = us[(m0 + m) * us_step];
            const double *Vu = h->u.V + u * d * d, *bu = h->u.b + u * d;
            double *Vp = h->pbuf + m * st, *tp = Vp + 2 * d * d, *r = tp + d, *z = r + d;
            int own = c != COLB__COHORT_NONE && h->label[u] == c;
            if (own && h->size[c] <= 1)
                c = COLB__COHORT_NONE; /* alone: its cluster without it is a new one */
            cnt[m] = 1.0;
            Minv[m] = NULL; /* (V' + G_u)^{-1} when a bank has it */
            if (c == COLB__COHORT_NONE) {
                kind[m] = NEW;
                memset(tp, 0, d * sizeof(double));
                ld0[m] = (double)d * log(lam);
                ld1[m] = h->u.logdet[u];
                Minv[m] = h->u.A + u * d * d;
                continue;
            }
            const double *Vc = h->c.V + c * d * d;
            if (!own) { /* V' + G_u = V_c + V_u - lambda I, factored */
                kind[m] = OTHER;
                cnt[m] = (double)h->size[c];
                memcpy(tp, h->c.theta + c * d, d * sizeof(double));
                ld0[m] = h->c.logdet[c];
                memcpy(Vp, Vc, d * d * sizeof(double)); /* Vc + 1 Vu: Vc + Vu exactly */
                h->kern->axpy(Vp, Vu, 1.0, d * d);
                for (size_t a = 0; a < d; a++)
                    Vp[a * d + a] -= lam;
                out[m0 + m] = pred_rss(h, u, tp, r, z); /* finished below */
                memcpy(z, r, d * sizeof(double));      /* z = (V_c + G_u)^{-1} r */
                bs[nf] = z;
            } else { /* V' = V_c - V_u + lambda I, factored; theta' solved */
                const double *bc = h->c.b + c * d;
                kind[m] = OWN;
                cnt[m] = (double)h->size[c] - 1.0;
                memcpy(Vp, Vc, d * d * sizeof(double)); /* Vc + (-1) Vu: Vc - Vu exactly */
                h->kern->axpy(Vp, Vu, -1.0, d * d);
                for (size_t a = 0; a < d; a++) {
                    Vp[a * d + a] += lam;
                    tp[a] = bc[a] - bu[a];
                }
                ld1[m] = h->c.logdet[c];
                Minv[m] = h->c.A + c * d * d;
                bs[nf] = tp;
            }
            S[nf] = Vp;
            Lf[nf] = Vp + d * d;
            fi[m] = nf++;
        }
        if (nf)
            h->kern->chol_fit_n(S, nf, d, Lf, bs, ldf, NULL, fail);
        for (size_t m = 0; m < nb; m++) {
            if (kind[m] != NEW && fail[fi[m]]) {
                out[m0 + m] = INFINITY;
                continue;
            }
            if (kind[m] == OWN)
                ld0[m] = ldf[fi[m]];
            else if (kind[m] == OTHER)
                ld1[m] = ldf[fi[m]];
            double *tp = h->pbuf + m * st + 2 * d * d;
            if (kind[m] != OTHER) /* theta' 0 or solved: r and RSS_u(theta') */
                out[m0 + m] = pred_rss(h, us[(m0 + m) * us_step], tp, tp + d, tp + 2 * d);
        }
        for (size_t m = 0; m < nb; m++) {
            if (kind[m] != NEW && fail[fi[m]])
                continue;
            double *r = h->pbuf + m * st + 2 * d * d + d, *z = r + d, q = 0.0;
            if (Minv[m]) { /* colb__quad's bits */
                h->kern->colsum(Minv[m], d, r, d, d, z); /* symv from 0 */
                for (size_t a = 0; a < d; a++)
                    q += r[a] * z[a];
                q = q > 0.0 ? q : 0.0;
            } else {
                for (size_t a = 0; a < d; a++)
                    q += r[a] * z[a];
            }
            out[m0 + m] = (out[m0 + m] - q) / (h->R * h->R) + ld1[m] - ld0[m] - 2.0 * log(cnt[m]);
        }
    }
}
