/* cohort.c - "cohort" (research version 2). */
#include <stdio.h>
#include <string.h>

#include <lapacke.h>

#include "linalg/ridge.h"
#include "policies/policy_impl.h"

#define NONE ((size_t)-1)

typedef struct cohort {
    size_t N, d, cap;
    colb__ridge u;        /* N user models (ridge lambda) */
    colb__ridge c;        /* cap + 2 cluster models; the last two are scratch */
    colb__ridge f;        /* 2 cap: fresh data of the two sides of a pending split */
    double *M;            /* N d^2: (G_u + lam_c I)^-1 */
    double *th;           /* N d: personalised estimates */
    double *yy;           /* N: sum of squared rewards */
    double *lamu;         /* N: the lam_c of M_u (INFINITY: no personal part) */
    size_t *label, *size; /* N, cap */
    unsigned char *dirty, *changed; /* cap */
    double *tau2, *shrink; /* cap */
    unsigned char *pending; /* cap */
    double *sideth;       /* 2 cap d: the side models of a pending split */
    uint64_t *prop_count; /* cap: cluster count at the proposal */
    uint64_t *next_try;   /* cap: count at which to propose next */
    unsigned char *side;  /* N */
    double *At;           /* cap d^2 */
    unsigned char *touched; /* cap */
    size_t *oarm;
    double *oy;
    double *s;            /* N: normalised statistic against own cluster */
    size_t *tmp;          /* N */
    double *scores, *work;
    size_t K_cap;
    double delta, R, q_spread, kappa, sel_a, sel_b;
    int diversify, oracle, personal, assign;
    double margin, new_lam, alpha_new;
    int soft;
    size_t seeds;
    double *ctr, *sc;
    uint64_t t;
    size_t nc, splits, merges, moves, props;
} cohort;

static double envd(const char *k, double def)
{
    const char *v = getenv(k);
    return v && *v ? atof(v) : def;
}

/* ---- small dense helpers ------------------------------------------------- */

static double quad(const double *A, const double *x, size_t d)
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

static void matvec(const double *A, const double *x, size_t d, double *y)
{
    for (size_t i = 0; i < d; i++) {
        const double *Ai = A + i * d;
        double s = 0.0;
        for (size_t j = 0; j < d; j++)
            s += Ai[j] * x[j];
        y[i] = s;
    }
}

/* A <- A - (A x)(A x)^T / (1 + x^T A x) */
static void sm(double *A, const double *x, size_t d, double *w)
{
    matvec(A, x, d, w);
    double s = 0.0;
    for (size_t i = 0; i < d; i++)
        s += x[i] * w[i];
    double c = 1.0 / (1.0 + s);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++)
            A[i * d + j] -= (w[i] * w[j]) * c;
}

/* Inverse of the symmetric positive definite S (d x d) into out; 0 or -1. */
static int spd_inverse(const double *S, size_t d, double *out)
{
    memcpy(out, S, d * d * sizeof(double));
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, out, (lapack_int)d) != 0 ||
        LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, out, (lapack_int)d) != 0)
        return -1;
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k < j; k++)
            out[k * d + j] = out[j * d + k];
    return 0;
}

/* ---- create / destroy ---------------------------------------------------- */

static colb_status ch_create(colb_policy *p)
{
    cohort *h = calloc(1, sizeof *h);
    if (!h)
        return COLB_ENOMEM;
    p->impl = h;
    size_t N = p->N, d = p->d;
    h->N = N;
    h->d = d;
    h->cap = N;
    h->delta = envd("COHORT_DELTA", p->pp.learner.delta);
    h->R = p->pp.learner.noise;
    h->q_spread = envd("COHORT_Q", 2.0);
    h->kappa = envd("COHORT_KAPPA", 0.0);
    h->sel_a = envd("COHORT_SELA", 2.0);
    h->assign = (int)envd("COHORT_ASSIGN", 1);
    h->margin = envd("COHORT_MARGIN", 1.0);
    h->soft = (int)envd("COHORT_SOFT", 0);
    h->seeds = (size_t)envd("COHORT_SEEDS", 1);
    h->ctr = colb__calloc(d, sizeof(double));
    h->sc = colb__calloc(N + 2, sizeof(double));
    h->alpha_new = envd("COHORT_ALPHA", 1.0);
    h->new_lam = envd("COHORT_NEWLAM", 0) ? h->R * h->R * (double)d /
                 (p->pp.learner.norm_bound * p->pp.learner.norm_bound) : 0.0;
    h->sel_b = envd("COHORT_SELB", 4.0);
    h->diversify = (int)envd("COHORT_DIV", 1);
    h->personal = (int)envd("COHORT_PERSONAL", 1);
    colb_status st = colb__ridge_init(&h->u, N, d, &p->pp.learner);
    if (st == COLB_OK)
        st = colb__ridge_init(&h->c, N + 2, d, &p->pp.learner);
    if (st == COLB_OK)
        st = colb__ridge_init(&h->f, 2 * N, d, &p->pp.learner);
    if (st != COLB_OK)
        return st;
    h->M = colb__calloc(N, d * d * sizeof(double));
    h->th = colb__calloc(N, d * sizeof(double));
    h->yy = colb__calloc(N, sizeof(double));
    h->lamu = colb__malloc(N, sizeof(double));
    h->label = colb__calloc(N, sizeof(size_t));
    h->size = colb__calloc(N, sizeof(size_t));
    h->dirty = colb__calloc(N, 1);
    h->changed = colb__calloc(N, 1);
    h->tau2 = colb__calloc(N, sizeof(double));
    h->shrink = colb__malloc(N, sizeof(double));
    h->pending = colb__calloc(N, 1);
    h->sideth = colb__calloc(2 * N, d * sizeof(double));
    h->prop_count = colb__calloc(N, sizeof(uint64_t));
    h->next_try = colb__calloc(N, sizeof(uint64_t));
    h->side = colb__calloc(N, 1);
    h->At = colb__malloc(N, d * d * sizeof(double));
    h->touched = colb__calloc(N, 1);
    h->oarm = colb__malloc(N, sizeof(size_t));
    h->oy = colb__malloc(N, sizeof(double));
    h->s = colb__calloc(N, sizeof(double));
    h->tmp = colb__calloc(N, sizeof(size_t));
    h->work = colb__malloc(10 * d * d + 12 * d, sizeof(double));
    if (!h->M || !h->th || !h->yy || !h->lamu || !h->label || !h->size || !h->dirty || !h->changed || !h->tau2 ||
        !h->shrink || !h->pending || !h->sideth || !h->prop_count || !h->next_try || !h->side ||
        !h->At || !h->touched || !h->oarm || !h->oy || !h->s || !h->tmp || !h->work)
        return COLB_ENOMEM;
    for (size_t u = 0; u < N; u++) {
        h->oarm[u] = NONE;
        h->lamu[u] = INFINITY;
        h->shrink[u] = INFINITY;
    }
    h->size[0] = N;
    h->nc = 1;
    if (getenv("COHORT_ORACLE") && p->pp.true_cluster) {
        memset(h->size, 0, N * sizeof(size_t));
        h->nc = p->pp.n_clusters;
        for (size_t u = 0; u < N; u++) {
            h->label[u] = p->pp.true_cluster[u];
            h->size[h->label[u]]++;
        }
        h->oracle = 1;
    }
    return COLB_OK;
}

static void ch_destroy(colb_policy *p)
{
    cohort *h = p->impl;
    colb__ridge_free(&h->u);
    colb__ridge_free(&h->c);
    colb__ridge_free(&h->f);
    void *arr[] = { h->ctr, h->sc, h->M, h->th, h->yy, h->lamu, h->label, h->size, h->dirty, h->changed, h->tau2, h->shrink,
                    h->pending, h->sideth, h->prop_count, h->next_try, h->side, h->At,
                    h->touched, h->oarm, h->oy, h->s, h->tmp, h->scores, h->work };
    for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
        free(arr[i]);
    free(h);
    p->impl = NULL;
}

/* ---- the round ----------------------------------------------------------- */

static colb_status ch_begin(colb_policy *p)
{
    cohort *h = p->impl;
    if (p->K > h->K_cap) {
        double *s = colb__malloc(p->K, sizeof(double));
        if (!s)
            return colb__err(p->err, COLB_ENOMEM, "begin_round: out of memory");
        free(h->scores);
        h->scores = s;
        h->K_cap = p->K;
    }
    memset(h->touched, 0, h->cap);
    return COLB_OK;
}

static colb_status ch_choose(colb_policy *p, size_t u, size_t *arm)
{
    cohort *h = p->impl;
    size_t d = p->d, c = h->label[u];
    double *At = h->At + c * d * d;
    if (!h->touched[c]) {
        memcpy(At, h->c.A + c * d * d, d * d * sizeof(double));
        h->touched[c] = 1;
    }
    const double *th = h->th + u * d, *M = h->M + u * d * d;
    int pers = isfinite(h->lamu[u]);
    double wdt = colb__ridge_width(&h->c, c);
    for (size_t k = 0; k < p->K; k++) {
        const double *x = p->X + k * d;
        double m = 0.0;
        for (size_t i = 0; i < d; i++)
            m += x[i] * th[i];
        double q = quad(At, x, d) + (pers ? quad(M, x, d) : 0.0);
        h->scores[k] = m + wdt * sqrt(q);
    }
    *arm = colb__argmax(h->scores, p->K);
    if (h->diversify)
        sm(At, p->X + *arm * d, d, h->work);
    return COLB_OK;
}

static colb_status ch_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    cohort *h = p->impl;
    h->oarm[u] = arm;
    h->oy[u] = y;
    return COLB_OK;
}

/* ---- statistics ---------------------------------------------------------- */

static double noise_radius(const cohort *h, const colb__ridge *r, size_t i)
{
    double arg = r->logdet[i] - (double)r->d * log(r->p.lambda) + 2.0 * log(1.0 / h->delta);
    return r->noise[i] * sqrt(arg > 0.0 ? arg : 0.0);
}

/* Score test of the data of model i of bank `from` (V, b) against the
 * parameter of model j of bank cb. Returns stat / thr, where
 *   stat = ||b - G th_j||_{V^{-1}},  G = V - lambda I,
 *   thr  = sqrt(rho_i^2 + tau rho_j^2 + q tau2 h) + lambda ||G A_j th_j||_{V^{-1}},
 * tau = tr(G A_j), h = tr(G V^-1 G), tau2 a spread of true parameters
 * around th_j (0: strict). stat2/e/hh out (may be NULL): stat^2, tr(V^-1 G),
 * h. */
static double score_test(const cohort *h, const colb__ridge *from, size_t i, const colb__ridge *cb,
                         size_t j, double tau2, double *stat2, double *e, double *hh)
{
    size_t d = from->d;
    double lam = from->p.lambda;
    double *w = h->work;
    const double *V = from->V + i * d * d, *A = from->A + i * d * d, *b = from->b + i * d;
    const double *th = cb->theta + j * d, *Aj = cb->A + j * d * d;
    double *r = w, *q = w + d, *z = w + 2 * d;
    for (size_t a = 0; a < d; a++) {
        const double *Va = V + a * d;
        double s = 0.0;
        for (size_t k = 0; k < d; k++)
            s += Va[k] * th[k];
        r[a] = b[a] - s + lam * th[a];
    }
    double st2 = quad(A, r, d);
    double tau = 0.0, trA = 0.0, trV = 0.0;
    for (size_t k = 0; k < d * d; k++)
        tau += V[k] * Aj[k];
    for (size_t a = 0; a < d; a++) {
        tau -= lam * Aj[a * d + a];
        trA += A[a * d + a];
        trV += V[a * d + a];
    }
    if (tau < 0.0)
        tau = 0.0;
    double ee = (double)d - lam * trA;       /* tr(A G) */
    double h_ = (trV - (double)d * lam) - lam * ee; /* tr(G A G) */
    matvec(Aj, th, d, q);
    for (size_t a = 0; a < d; a++) {
        const double *Va = V + a * d;
        double s = -lam * q[a];
        for (size_t k = 0; k < d; k++)
            s += Va[k] * q[k];
        z[a] = s;
    }
    double bias = lam * sqrt(quad(A, z, d));
    double rho_i = noise_radius(h, from, i), rho_j = noise_radius(h, cb, j);
    double thr = sqrt(rho_i * rho_i + tau * rho_j * rho_j + h->q_spread * tau2 * h_) + bias;
    if (stat2)
        *stat2 = st2;
    if (e)
        *e = ee;
    if (hh)
        *hh = h_;
    return sqrt(st2) / thr;
}

/* The spread (variance per coordinate) of the true parameters of cluster
 * c's members around its model, by the method of moments. */
static double spread(cohort *h, size_t c)
{
    double num = 0.0, den = 0.0;
    for (size_t u = 0; u < h->N; u++) {
        if (h->label[u] != c || !h->u.count[u])
            continue;
        double st2, e, hh;
        score_test(h, &h->u, u, &h->c, c, 0.0, &st2, &e, &hh);
        num += st2 - h->R * h->R * e;
        den += hh;
    }
    return den > 0.0 && num > 0.0 ? num / den : 0.0;
}

static void rebuild(cohort *h, size_t c)
{
    colb__ridge_reset(&h->c, c);
    for (size_t u = 0; u < h->N; u++)
        if (h->label[u] == c)
            colb__ridge_absorb(&h->c, c, &h->u, u);
    colb__ridge_refresh(&h->c, c);
}

static void fit_side(cohort *h, size_t slot, size_t c, unsigned s)
{
    colb__ridge_reset(&h->c, slot);
    for (size_t u = 0; u < h->N; u++)
        if (h->label[u] == c && h->side[u] == s)
            colb__ridge_absorb(&h->c, slot, &h->u, u);
    colb__ridge_refresh(&h->c, slot);
}

/* RSS_u(a) - RSS_u(b) up to the common constant. */
static double rss_diff(const cohort *h, size_t u, const double *ta, const double *tb)
{
    size_t d = h->d;
    double lam = h->u.p.lambda;
    const double *V = h->u.V + u * d * d, *b = h->u.b + u * d;
    double fa = 0, fb = 0;
    for (size_t i = 0; i < d; i++) {
        const double *Vi = V + i * d;
        double ga = -lam * ta[i], gb = -lam * tb[i];
        for (size_t k = 0; k < d; k++) {
            ga += Vi[k] * ta[k];
            gb += Vi[k] * tb[k];
        }
        fa += ta[i] * ga - 2.0 * ta[i] * b[i];
        fb += tb[i] * gb - 2.0 * tb[i] * b[i];
    }
    return fa - fb;
}

static size_t new_slot(cohort *h)
{
    for (size_t c = 0; c < h->cap; c++)
        if (h->size[c] == 0 && !h->pending[c])
            return c;
    return NONE;
}

/* ---- splits -------------------------------------------------------------- */

/* Propose a split of cluster c (2-means on the members' fits, seeded by
 * the cluster model and the worst-fitting member); 1 if proposed. */
/* 2-means of cluster c's members from the seed model `seed` (bank/slot),
 * leaving the sides in h->side and their models in the scratch slots;
 * returns the in-sample Wald statistic between the sides (0: degenerate). */
static double wald_stat(cohort *h, const colb__ridge *b0, size_t i0, const colb__ridge *b1, size_t i1);
static double two_means(cohort *h, size_t c, const colb__ridge *sb, size_t seed)
{
    size_t d = h->d, A = h->cap, B = h->cap + 1;
    colb__ridge_copy_model(&h->c, A, &h->c, c);
    colb__ridge_copy_model(&h->c, B, sb, seed);
    size_t na = 0, nb = 0;
    for (int it = 0; it < 10; it++) {
        na = nb = 0;
        int changed = it == 0;
        for (size_t u = 0; u < h->N; u++) {
            if (h->label[u] != c)
                continue;
            unsigned s = rss_diff(h, u, h->c.theta + A * d, h->c.theta + B * d) > 0.0;
            changed |= s != h->side[u];
            h->side[u] = (unsigned char)s;
            if (s)
                nb++;
            else
                na++;
        }
        if (!na || !nb)
            return 0.0;
        if (!changed)
            break;
        fit_side(h, A, c, 0);
        fit_side(h, B, c, 1);
    }
    fit_side(h, A, c, 0);
    fit_side(h, B, c, 1);
    return wald_stat(h, &h->c, A, &h->c, B);
}

/* Propose a split of cluster c: 2-means seeded by the cluster model and,
 * in turn, each of the `seeds` worst-fitting members; the partition with
 * the largest in-sample Wald statistic is kept. 1 if proposed. */
static int propose(cohort *h, size_t c)
{
    size_t d = h->d, A = h->cap, B = h->cap + 1;
    if (h->size[c] < 2)
        return 0;
    size_t m = 0, *cand = h->tmp;
    for (size_t u = 0; u < h->N; u++) /* the worst `seeds` members, by h->s */
        if (h->label[u] == c && h->u.count[u]) {
            size_t k = m < h->seeds ? m++ : m;
            if (k == h->seeds && h->s[u] <= h->s[cand[k - 1]])
                continue;
            if (k == h->seeds)
                k--;
            while (k > 0 && h->s[cand[k - 1]] < h->s[u]) {
                cand[k] = cand[k - 1];
                k--;
            }
            cand[k] = u;
        }
    if (!m)
        return 0;
    double best = 0.0;
    size_t bi = NONE;
    for (size_t i = 0; i < m; i++) {
        double W = two_means(h, c, &h->u, cand[i]);
        if (W > best)
            best = W, bi = i;
    }
    if (bi == NONE || two_means(h, c, &h->u, cand[bi]) <= 0.0)
        return 0;
    memcpy(h->sideth + 2 * c * d, h->c.theta + A * d, d * sizeof(double));
    memcpy(h->sideth + (2 * c + 1) * d, h->c.theta + B * d, d * sizeof(double));
    colb__ridge_reset(&h->f, 2 * c);
    colb__ridge_reset(&h->f, 2 * c + 1);
    h->pending[c] = 1;
    h->prop_count[c] = h->c.count[c];
    h->props++;
    return 1;
}

/* Wald test of two models i0 (bank b0) and i1 (bank b1) having the same
 * parameter: W = (t0 - t1)^T (A0 + A1)^{-1} (t0 - t1) / R^2 against the
 * chi-square quantile of d degrees of freedom at level delta
 * (Laurent-Massart bound). 1: significantly different. */
static double wald_stat(cohort *h, const colb__ridge *b0, size_t i0, const colb__ridge *b1, size_t i1)
{
    size_t d = h->d;
    if (!b0->count[i0] || !b1->count[i1])
        return 0.0;
    double lam = b0->p.lambda;
    double *S = h->work + 3 * d, *Si = S + d * d, *diff = Si + d * d, *tp = diff + d, *bp = tp + d;
    const double *A0 = b0->A + i0 * d * d, *A1 = b1->A + i1 * d * d;
    /* pooled estimate, for the ridge bias correction: under a common theta,
     * E[t0 - t1] = -lambda (A0 - A1) theta */
    for (size_t k = 0; k < d * d; k++)
        S[k] = b0->V[i0 * d * d + k] + b1->V[i1 * d * d + k];
    for (size_t a = 0; a < d; a++) {
        S[a * d + a] -= lam;
        bp[a] = b0->b[i0 * d + a] + b1->b[i1 * d + a];
    }
    if (spd_inverse(S, d, Si))
        return 0.0;
    matvec(Si, bp, d, tp);
    for (size_t a = 0; a < d; a++) {
        double s = 0.0;
        for (size_t k = 0; k < d; k++)
            s += (A0[a * d + k] - A1[a * d + k]) * tp[k];
        diff[a] = b0->theta[i0 * d + a] - b1->theta[i1 * d + a] + lam * s;
    }
    for (size_t k = 0; k < d * d; k++)
        S[k] = A0[k] + A1[k];
    if (spd_inverse(S, d, Si))
        return 0.0;
    return quad(Si, diff, d) / (h->R * h->R);
}

/* Thresholds of W: the chi-square quantile of d degrees of freedom at
 * level delta (Laurent-Massart), and the self-normalised (adaptive-design)
 * bound 2 ln(1/delta) + ln det V - d ln lambda of the model with more data. */
static double chi_thr(const cohort *h)
{
    double l = log(1.0 / h->delta), dd = (double)h->d;
    return dd + 2.0 * sqrt(dd * l) + 2.0 * l;
}

static double oful_thr(const cohort *h, const colb__ridge *b0, size_t i0, const colb__ridge *b1, size_t i1)
{
    double ld = b0->logdet[i0] > b1->logdet[i1] ? b0->logdet[i0] : b1->logdet[i1];
    return 2.0 * log(1.0 / h->delta) + ld - (double)h->d * log(b0->p.lambda);
}

static int wald_differ(cohort *h, const colb__ridge *b0, size_t i0, const colb__ridge *b1, size_t i1,
                       int strict)
{
    double W = wald_stat(h, b0, i0, b1, i1);
    int mode = (int)envd("COHORT_WMODE", 3); /* 0 oful both, 1 chi both, 2 split oful merge chi, 3 split chi merge oful */
    double thr = (mode == 1 || (mode == 2 && !strict) || (mode == 3 && strict)) ? chi_thr(h)
                                                                                  : oful_thr(h, b0, i0, b1, i1);
    return W > thr;
}

static void do_split(cohort *h, size_t c)
{
    size_t c2 = new_slot(h);
    h->pending[c] = 0;
    if (c2 == NONE)
        return;
    for (size_t u = 0; u < h->N; u++)
        if (h->label[u] == c && h->side[u]) {
            h->label[u] = c2;
            h->size[c]--;
            h->size[c2]++;
        }
    if (!h->size[c2] || !h->size[c]) { /* everyone moved one way meanwhile */
        for (size_t u = 0; u < h->N; u++)
            if (h->label[u] == c2)
                h->label[u] = c;
        h->size[c] += h->size[c2];
        h->size[c2] = 0;
        return;
    }
    h->nc++;
    h->splits++;
    h->dirty[c] = h->dirty[c2] = 1;
    h->changed[c] = h->changed[c2] = 1;
    h->next_try[c2] = 0;
    h->next_try[c] = 0;
    rebuild(h, c);
    rebuild(h, c2);
}

/* ---- predictive assignment ------------------------------------------- */

/* -2 log of the predictive probability of user u's data under cluster c
 * (c == NONE: a new cluster), Bayesian ridge with prior N(0, R^2/lambda I)
 * and known noise R, leaving u's own data out of its own cluster, plus
 * -2 log of the Chinese-restaurant prior (n_c, or 1 for a new cluster):
 *   theta' = V'^{-1} b' (the cluster without u), r = b_u - G_u theta',
 *   score = (RSS_u(theta') - r^T (V' + G_u)^{-1} r) / R^2
 *           + ln det(V' + G_u) - ln det V' - 2 ln n'.  O(d^3). */
static double pred_score(cohort *h, size_t u, size_t c)
{
    size_t d = h->d;
    double lam = h->u.p.lambda;
    double *Vp = h->work + 4 * d * d, *M = Vp + d * d, *tp = M + d * d, *r = tp + d, *z = r + d;
    const double *Vu = h->u.V + u * d * d, *bu = h->u.b + u * d;
    double n = 1.0;
    if (c == NONE) {
        /* a new cluster: prior N(0, S^2/d I), i.e. ridge R^2 d / S^2 */
        double l0 = h->new_lam > 0.0 ? h->new_lam : lam;
        memset(Vp, 0, d * d * sizeof(double));
        for (size_t a = 0; a < d; a++)
            Vp[a * d + a] = l0;
        memset(tp, 0, d * sizeof(double));
        n = h->alpha_new;
    } else {
        const double *Vc = h->c.V + c * d * d, *bc = h->c.b + c * d;
        int own = h->label[u] == c;
        n = (double)h->size[c] - (own ? 1.0 : 0.0);
        if (n <= 0.0)
            return pred_score(h, u, NONE);
        for (size_t k = 0; k < d * d; k++)
            Vp[k] = Vc[k] - (own ? Vu[k] : 0.0);
        for (size_t a = 0; a < d; a++) {
            if (own)
                Vp[a * d + a] += lam;
            tp[a] = bc[a] - (own ? bu[a] : 0.0);
        }
    }
    /* factor V', theta' = V'^-1 b' */
    memcpy(M, Vp, d * d * sizeof(double));
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, M, (lapack_int)d) != 0)
        return INFINITY;
    double ld0 = 0.0;
    for (size_t a = 0; a < d; a++)
        ld0 += 2.0 * log(M[a * d + a]);
    if (c != NONE && LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, 1, M, (lapack_int)d, tp, 1) != 0)
        return INFINITY;
    /* r = b_u - G_u theta', RSS */
    double rss = h->yy[u];
    for (size_t a = 0; a < d; a++) {
        const double *Va = Vu + a * d;
        double s = -lam * tp[a];
        for (size_t k = 0; k < d; k++)
            s += Va[k] * tp[k];
        r[a] = bu[a] - s;
        rss += tp[a] * s - 2.0 * tp[a] * bu[a];
    }
    /* M = V' + G_u */
    for (size_t k = 0; k < d * d; k++)
        M[k] = Vp[k] + Vu[k];
    for (size_t a = 0; a < d; a++)
        M[a * d + a] -= lam;
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, M, (lapack_int)d) != 0)
        return INFINITY;
    double ld1 = 0.0;
    for (size_t a = 0; a < d; a++)
        ld1 += 2.0 * log(M[a * d + a]);
    memcpy(z, r, d * sizeof(double));
    if (LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)d, 1, M, (lapack_int)d, z, 1) != 0)
        return INFINITY;
    double q = 0.0;
    for (size_t a = 0; a < d; a++)
        q += r[a] * z[a];
    return (rss - q) / (h->R * h->R) + ld1 - ld0 - 2.0 * log(n);
}

/* ---- maintenance --------------------------------------------------------- */

static void move_user(cohort *h, size_t u, size_t to)
{
    size_t c = h->label[u];
    if (h->pending[to]) /* side by fit to the side models */
        h->side[u] = rss_diff(h, u, h->sideth + 2 * to * h->d, h->sideth + (2 * to + 1) * h->d) > 0.0;
    h->label[u] = to;
    h->size[c]--;
    h->size[to]++;
    h->dirty[c] = h->dirty[to] = 1;
    h->changed[c] = h->changed[to] = 1;
    h->moves++;
    if (!h->size[c]) {
        h->nc--;
        h->pending[c] = 0;
    }
}

static int is_pow2(uint64_t t) { return t && !(t & (t - 1)); }

static void maintain(colb_policy *p)
{
    cohort *h = p->impl;
    size_t N = h->N, cap = h->cap;
    memset(h->dirty, 0, cap);
    memset(h->changed, 0, cap);
    /* spreads */
    for (size_t c = 0; c < cap; c++)
        h->tau2[c] = h->size[c] > 1 ? spread(h, c) : 0.0;
    /* 1. pending splits: accept on fresh evidence, or give up after as much
     * fresh data as the proposal used */
    for (size_t c = 0; c < cap; c++) {
        if (!h->pending[c])
            continue;
        if (wald_differ(h, &h->f, 2 * c, &h->f, 2 * c + 1, 1))
            do_split(h, c);
        else if (h->f.count[2 * c] + h->f.count[2 * c + 1] >= h->prop_count[c])
            h->pending[c] = 0, h->next_try[c] = h->c.count[c];
    }
    /* 2. users against their clusters */
    for (size_t u = 0; u < N; u++)
        h->s[u] = score_test(h, &h->u, u, &h->c, h->label[u], h->tau2[h->label[u]], NULL, NULL, NULL);
    /* 3. proposals */
    for (size_t c = 0; c < cap; c++)
        if (h->size[c] >= 2 && !h->pending[c] && h->c.count[c] >= h->next_try[c]) {
            if (!propose(h, c)) {
                h->next_try[c] = 2 * h->c.count[c] + 1;
                continue;
            }
            /* overwhelming in-sample evidence, beyond what choosing the
             * partition can produce from noise (~ 0.64 n + d), splits at
             * once; the parts are proposed again in this pass */
            double W = wald_stat(h, &h->c, h->cap, &h->c, h->cap + 1);
            if (W > h->sel_a * (double)h->size[c] + h->sel_b * (double)h->d) {
                do_split(h, c);
                c = (size_t)-1; /* restart the scan: new clusters to consider */
            }
        }
    /* 4. users to their best cluster (k-means steps on the strict
     * statistic): unhappy ones always, all of them in the first rounds and
     * at powers of two; unhappy users that fit nowhere go alone */
    int full = h->t < 16 || is_pow2(h->t);
    int passes = (int)envd("COHORT_PASSES", 4);
    for (int pass = 0; pass < passes; pass++) {
        size_t moved = 0;
        memset(h->dirty, 0, cap);
        for (size_t u = 0; u < N; u++) {
            size_t c = h->label[u], best = c;
            double s = score_test(h, &h->u, u, &h->c, c, h->tau2[c], NULL, NULL, NULL);
            if (!full && s <= 1.0)
                continue;
            if (h->assign == 1) {
                double s0 = pred_score(h, u, c), bs = s0;
                for (size_t c2 = 0; c2 < cap; c2++) {
                    if (!h->size[c2] || c2 == c)
                        continue;
                    double s2 = pred_score(h, u, c2);
                    if (s2 < bs)
                        bs = s2, best = c2;
                }
                if (h->size[c] > 1 && pred_score(h, u, NONE) < bs)
                    best = NONE, bs = pred_score(h, u, NONE);
                if (best == c || bs > s0 - h->margin)
                    continue;
                if (best == NONE) {
                    best = new_slot(h);
                    if (best == NONE)
                        continue;
                    h->nc++;
                    h->next_try[best] = 0;
                }
            } else {
            double s0 = score_test(h, &h->u, u, &h->c, c, 0.0, NULL, NULL, NULL), bs = s0;
            for (size_t c2 = 0; c2 < cap; c2++) {
                if (!h->size[c2] || c2 == c)
                    continue;
                double s2 = score_test(h, &h->u, u, &h->c, c2, 0.0, NULL, NULL, NULL);
                if (s2 < bs)
                    bs = s2, best = c2;
            }
            if (best == c && s > 1.0 && h->size[c] > 1) {
                best = new_slot(h);
                if (best == NONE)
                    continue;
                h->nc++;
                h->next_try[best] = 0;
            } else if (best == c || bs > 0.8 * s0) {
                continue;
            }
            }
            move_user(h, u, best);
            moved++;
        }
        for (size_t c = 0; c < cap; c++)
            if (h->dirty[c] && h->size[c]) {
                rebuild(h, c);
                h->tau2[c] = h->size[c] > 1 ? spread(h, c) : 0.0;
            }
        if (!moved)
            break;
    }
    /* every cluster that changed this round is checked for merges */
    for (size_t c = 0; c < cap; c++)
        h->dirty[c] |= h->changed[c];
    /* 5. merges: changed clusters against all, everyone at powers of two */
    int all = h->t < 16 || is_pow2(h->t);
    for (size_t c = 0; c < cap; c++) {
        if (!h->size[c] || (!all && !h->dirty[c]))
            continue;
        for (size_t c2 = 0; c2 < cap && h->size[c]; c2++) {
            if (c2 == c || !h->size[c2])
                continue;
            if (!wald_differ(h, &h->c, c, &h->c, c2, 0)) {
                for (size_t u = 0; u < N; u++)
                    if (h->label[u] == c2)
                        h->label[u] = c;
                h->size[c] += h->size[c2];
                h->size[c2] = 0;
                h->pending[c2] = h->pending[c] = 0;
                h->nc--;
                h->merges++;
                h->dirty[c] = 1;
                h->next_try[c] = 0;
                rebuild(h, c);
            }
        }
    }
    /* 6. shrinkage and personal estimates */
    size_t d = h->d;
    double lam = h->u.p.lambda, *G = h->work + 3 * d, *r = G + d * d, *z = r + d;
    for (size_t c = 0; c < cap; c++) {
        if (!h->size[c])
            continue;
        double t2 = h->size[c] > 1 ? spread(h, c) : 0.0;
        h->tau2[c] = t2;
        h->shrink[c] = h->personal && t2 > 0.0 ? h->R * h->R / t2 : INFINITY;
    }
    for (size_t u = 0; u < N; u++) {
        size_t c = h->label[u];
        double lc = h->shrink[c];
        double *M = h->M + u * d * d, *thu = h->th + u * d;
        const double *V = h->u.V + u * d * d, *thc = h->c.theta + c * d, *b = h->u.b + u * d;
        if (h->soft && h->nc > 1) { /* posterior-weighted centre over the clusters */
            double best = INFINITY;
            size_t k = 0;
            for (size_t c2 = 0; c2 < cap; c2++) {
                if (!h->size[c2])
                    continue;
                h->sc[k] = pred_score(h, u, c2);
                if (h->sc[k] < best)
                    best = h->sc[k];
                k++;
            }
            double wsum = 0.0;
            memset(h->ctr, 0, d * sizeof(double));
            k = 0;
            for (size_t c2 = 0; c2 < cap; c2++) {
                if (!h->size[c2])
                    continue;
                double w = exp(-0.5 * (h->sc[k++] - best));
                wsum += w;
                for (size_t a = 0; a < d; a++)
                    h->ctr[a] += w * h->c.theta[c2 * d + a];
            }
            for (size_t a = 0; a < d; a++)
                h->ctr[a] /= wsum;
            thc = h->ctr;
        }
        if (!isfinite(lc)) {
            h->lamu[u] = INFINITY;
            memcpy(thu, thc, d * sizeof(double));
            continue;
        }
        if (!isfinite(h->lamu[u]) || lc > 1.5 * h->lamu[u] || h->lamu[u] > 1.5 * lc) {
            memcpy(G, V, d * d * sizeof(double));
            for (size_t a = 0; a < d; a++)
                G[a * d + a] += lc - lam;
            if (spd_inverse(G, d, M)) {
                h->lamu[u] = INFINITY;
                memcpy(thu, thc, d * sizeof(double));
                continue;
            }
            h->lamu[u] = lc;
        }
        /* theta_u = theta_c + M (b - G theta_c) */
        for (size_t a = 0; a < d; a++) {
            const double *Va = V + a * d;
            double s = 0.0;
            for (size_t k = 0; k < d; k++)
                s += Va[k] * thc[k];
            r[a] = b[a] - s + lam * thc[a];
        }
        matvec(M, r, d, z);
        for (size_t a = 0; a < d; a++)
            thu[a] = thc[a] + z[a];
    }
}

static colb_status ch_end(colb_policy *p)
{
    cohort *h = p->impl;
    size_t d = p->d;
    for (size_t u = 0; u < p->N; u++) {
        if (h->oarm[u] == NONE)
            continue;
        const double *x = p->X + h->oarm[u] * d;
        size_t c = h->label[u];
        colb__ridge_update(&h->u, u, x, h->oy[u], 1.0);
        h->yy[u] += h->oy[u] * h->oy[u];
        colb__ridge_update(&h->c, c, x, h->oy[u], 1.0);
        if (isfinite(h->lamu[u]))
            sm(h->M + u * d * d, x, d, h->work);
        if (h->pending[c])
            colb__ridge_update(&h->f, 2 * c + h->side[u], x, h->oy[u], 1.0);
        h->oarm[u] = NONE;
    }
    if (!h->oracle)
        maintain(p);
    else
        for (size_t u = 0; u < p->N; u++)
            memcpy(h->th + u * d, h->c.theta + h->label[u] * d, d * sizeof(double));
    h->t++;
    snprintf(p->info, sizeof p->info, "clusters=%zu splits=%zu merges=%zu moves=%zu props=%zu",
             h->nc, h->splits, h->merges, h->moves, h->props);
    if (getenv("COHORT_TRACE") && p->pp.true_cluster && (h->t <= 30 || h->t % 50 == 0)) {
        size_t L = p->pp.n_clusters, ok = 0, comp = 0;
        size_t *cnt = calloc(h->cap * L, sizeof(size_t));
        for (size_t u = 0; u < p->N; u++)
            cnt[h->label[u] * L + p->pp.true_cluster[u]]++;
        for (size_t c = 0; c < h->cap; c++) {
            size_t m = 0;
            for (size_t l = 0; l < L; l++)
                if (cnt[c * L + l] > m)
                    m = cnt[c * L + l];
            ok += m;
        }
        for (size_t l = 0; l < L; l++) {
            size_t m = 0;
            for (size_t c = 0; c < h->cap; c++)
                if (cnt[c * L + l] > m)
                    m = cnt[c * L + l];
            comp += m;
        }
        double mt = 0;
        for (size_t c = 0; c < h->cap; c++)
            if (h->size[c] && h->tau2[c] > mt)
                mt = h->tau2[c];
        fprintf(stderr, "t=%llu nc=%zu purity=%.2f complete=%.2f %s maxtau2=%.3g\n",
                (unsigned long long)h->t, h->nc, (double)ok / p->N, (double)comp / p->N, p->info, mt);
        if (getenv("COHORT_HALVES") && h->oracle) {
            for (size_t c = 0; c < h->cap; c++) {
                if (h->size[c] < 4)
                    continue;
                for (size_t u = 0; u < p->N; u++)
                    h->side[u] = (unsigned char)(u & 1);
                fit_side(h, h->cap, c, 0);
                fit_side(h, h->cap + 1, c, 1);
                fprintf(stderr, "  t=%llu cluster %zu size %zu halves W=%.1f oful=%.1f chi=%.1f\n",
                        (unsigned long long)h->t, c, h->size[c],
                        wald_stat(h, &h->c, h->cap, &h->c, h->cap + 1),
                        oful_thr(h, &h->c, h->cap, &h->c, h->cap + 1), chi_thr(h));
            }
        }
        if (getenv("COHORT_PAIRS") && h->t == (uint64_t)atoi(getenv("COHORT_PAIRS"))) {
            for (size_t c = 0; c < h->cap; c++) {
                if (!h->size[c])
                    continue;
                size_t mj = 0;
                for (size_t l = 0; l < L; l++)
                    if (cnt[c * L + l] > cnt[c * L + mj])
                        mj = l;
                fprintf(stderr, "  cluster %zu size %zu major %zu count %llu\n", c, h->size[c], mj,
                        (unsigned long long)h->c.count[c]);
                for (size_t u = 0; u < p->N; u++)
                    if (h->label[u] == c && p->pp.true_cluster[u] != mj) {
                        fprintf(stderr, "     wrong user %zu (true %zu, n=%llu): own s0=%.2f s=%.2f;", u,
                                p->pp.true_cluster[u], (unsigned long long)h->u.count[u],
                                score_test(h, &h->u, u, &h->c, c, 0.0, NULL, NULL, NULL),
                                score_test(h, &h->u, u, &h->c, c, h->tau2[c], NULL, NULL, NULL));
                        for (size_t c3 = 0; c3 < h->cap; c3++)
                            if (h->size[c3] && c3 != c)
                                fprintf(stderr, " c%zu:%.2f", c3, score_test(h, &h->u, u, &h->c, c3, 0.0, NULL, NULL, NULL));
                        fprintf(stderr, "\n");
                    }
                for (size_t c2 = c + 1; c2 < h->cap; c2++)
                    if (h->size[c2])
                        fprintf(stderr, "    vs %zu: W=%.1f oful=%.1f\n", c2,
                                wald_stat(h, &h->c, c, &h->c, c2), oful_thr(h, &h->c, c, &h->c, c2));
            }
        }
        free(cnt);
    }
    return COLB_OK;
}

static colb_status ch_theta(const colb_policy *p, size_t u, double *theta)
{
    const cohort *h = p->impl;
    memcpy(theta, h->th + u * p->d, p->d * sizeof(double));
    return COLB_OK;
}

static colb_status ch_clusters(const colb_policy *p, size_t *labels, size_t *n)
{
    const cohort *h = p->impl;
    size_t *map = colb__malloc(h->cap, sizeof(size_t));
    if (!map)
        return COLB_ENOMEM;
    size_t k = 0;
    for (size_t c = 0; c < h->cap; c++)
        map[c] = h->size[c] ? k++ : NONE;
    for (size_t u = 0; u < p->N; u++)
        labels[u] = map[h->label[u]];
    *n = k;
    free(map);
    return COLB_OK;
}

const colb__policy_vt colb__policy_cohort = {
    .name = "cohort",
    .create = ch_create,
    .destroy = ch_destroy,
    .begin_round = ch_begin,
    .choose = ch_choose,
    .observe = ch_observe,
    .end_round = ch_end,
    .user_theta = ch_theta,
    .clusters = ch_clusters,
};
