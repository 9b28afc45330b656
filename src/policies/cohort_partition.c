/* cohort_partition.c - the maintenance of cohort's partition of users
 * (cohort.h), run once per epoch (a round of the simulator; in a service, as
 * many observations as half the users). Steps, in order:
 *
 *  1. the members' score tests against their clusters and the clusters'
 *     spreads;
 *  2. pending splits: a proposed partition of a cluster is validated on
 *     data that arrived after the proposal (fresh data cannot have shaped
 *     the partition): split when the two sides' fresh models differ (Wald,
 *     chi-square level delta); given up once the fresh data equal the data
 *     the proposal used;
 *  3. proposals: 2-means on the members' fits (seeded by the cluster's model
 *     and, in turn, each of the worst-fitting members), on a doubling
 *     schedule of the cluster's data; a partition whose in-sample Wald
 *     statistic exceeds what choosing a partition can draw from noise
 *     (~ 0.64 n + d for n members) splits at once, and its parts are
 *     proposed again in the same epoch;
 *  4. assignment (k-means steps): every user to the cluster of best
 *     predictive score, or to a new cluster of its own when that scores
 *     better - all users in the first epochs and at powers of two, else
 *     only those whose score test rejects their cluster;
 *  5. merges: clusters whose models are not significantly different
 *     (Wald, below the self-normalised bound and the split threshold) -
 *     the changed ones every epoch, all pairs in the first epochs and at
 *     powers of two;
 *  6. shrinkage (spread -> lam_c = R^2 / tau2) and the personal estimates,
 *     with soft centres for users whose assignment is still uncertain.
 *
 * A merge needs W below both the self-normalised bound and the split
 * threshold, so a cluster just split is not merged back by the next epoch's
 * noise (hysteresis). Beyond CANDIDATES clusters a user or a cluster is
 * compared with the CANDIDATES nearest models (Euclidean, O(C d)), so an
 * epoch costs O(N d^2) plus
 * O(N CANDIDATES d^3) in the epochs that check everyone. */
#include <string.h>

#include "linalg/dense.h"
#include "policies/cohort.h"

#define NONE COLB__COHORT_NONE

#define CANDIDATES 16    /* clusters compared per user or cluster beyond this many */
#define EARLY_EPOCHS 16  /* epochs in which every user and pair is checked */
#define PASSES 4         /* k-means passes of assignment per epoch, at most */
#define MOVE_MARGIN 1.0  /* a move must gain this much predictive score (-2 log) */
#define SEL_PER_USER 2.0 /* immediate split: W > SEL_PER_USER n + SEL_PER_DIM d */
#define SEL_PER_DIM 4.0
#define SOFT_GAP 10.0    /* soft centres while own -> alt gains less (-2 log) */
#define SHRINK_SLACK 1.5 /* M_u is rebuilt when the shrinkage moves by more */
#define TWO_MEANS_ITERS 10
#define SAMPLE_MAX 512   /* members a 2-means iteration looks at, at most */

static int is_pow2(uint64_t t) { return t && !(t & (t - 1)); }

/* ---- member lists and slots --------------------------------------------- */

void colb__cohort_link(colb__cohort *h, size_t u, size_t c)
{
    h->label[u] = c;
    h->prev[u] = NONE;
    h->next[u] = h->head[c];
    if (h->head[c] != NONE)
        h->prev[h->head[c]] = u;
    h->head[c] = u;
    h->size[c]++;
}

void colb__cohort_unlink(colb__cohort *h, size_t u)
{
    size_t c = h->label[u];
    if (h->prev[u] != NONE)
        h->next[h->prev[u]] = h->next[u];
    else
        h->head[c] = h->next[u];
    if (h->next[u] != NONE)
        h->prev[h->next[u]] = h->prev[u];
    h->size[c]--;
    h->next[u] = h->prev[u] = NONE;
}

int colb__cohort_grow_arrays(colb__cohort *h, size_t cap2)
{
    size_t d = h->d, old = h->cap;
    if (colb__realloc_n(&h->size, cap2, sizeof(size_t)) ||
        colb__realloc_n(&h->head, cap2, sizeof(size_t)) ||
        colb__realloc_n(&h->tau2, cap2, sizeof(double)) ||
        colb__realloc_n(&h->shrink, cap2, sizeof(double)) ||
        colb__realloc_n(&h->pending, cap2, 1) || colb__realloc_n(&h->dirty, cap2, 1) ||
        colb__realloc_n(&h->changed, cap2, 1) || colb__realloc_n(&h->stamp, cap2, sizeof(uint64_t)) ||
        colb__realloc_n(&h->qstamp, cap2, sizeof(uint64_t)) ||
        colb__realloc_n(&h->sideth, cap2, 2 * d * sizeof(double)) ||
        colb__realloc_n(&h->prop_count, cap2, sizeof(uint64_t)) ||
        colb__realloc_n(&h->next_try, cap2, sizeof(uint64_t)) ||
        colb__realloc_n(&h->At, cap2, d * d * sizeof(double)) ||
        colb__realloc_n(&h->cand, cap2, sizeof(size_t)) ||
        colb__realloc_n(&h->cdist, cap2, sizeof(double)) ||
        colb__realloc_n(&h->acc, cap2, 2 * sizeof(double)) ||
        colb__realloc_n(&h->round_obs, cap2, sizeof(size_t)))
        return -1; /* the arrays grown so far are merely larger than used */
    for (size_t c = old; c < cap2; c++) {
        h->size[c] = 0;
        h->head[c] = NONE;
        h->tau2[c] = 0.0;
        h->shrink[c] = INFINITY;
        h->pending[c] = h->dirty[c] = h->changed[c] = 0;
        h->stamp[c] = h->qstamp[c] = 0;
        h->prop_count[c] = h->next_try[c] = 0;
        memset(h->sideth + 2 * c * d, 0, 2 * d * sizeof(double));
        h->acc[2 * c] = h->acc[2 * c + 1] = 0.0;
        h->round_obs[c] = 0;
    }
    h->cap = cap2;
    return 0;
}

int colb__cohort_grow_slots(colb__cohort *h, size_t cap2)
{
    if (colb__ridge_grow(&h->c, cap2) != COLB_OK || colb__ridge_grow(&h->f, 2 * cap2) != COLB_OK)
        return -1; /* a bank grown alone is merely larger than used */
    return colb__cohort_grow_arrays(h, cap2);
}

size_t colb__cohort_new_slot(colb__cohort *h)
{
    for (size_t c = 0; c < h->cap; c++)
        if (!h->size[c] && !h->pending[c]) {
            colb__ridge_reset(&h->c, c);
            h->next_try[c] = 0;
            return c;
        }
    size_t c = h->cap;
    if (colb__cohort_grow_slots(h, 2 * h->cap))
        return NONE;
    return c;
}

void colb__cohort_rebuild(colb__cohort *h, size_t c)
{
    colb__ridge_reset(&h->c, c);
    for (size_t u = h->head[c]; u != NONE; u = h->next[u])
        colb__ridge_absorb(&h->c, c, &h->u, u);
    colb__ridge_refresh(&h->c, c);
}

static double rss_diff(colb__cohort *h, size_t u, const double *ta, const double *tb);

static void move_user(colb__cohort *h, size_t u, size_t to)
{
    size_t c = h->label[u], d = h->d;
    if (h->pending[to]) /* the side whose model fits it better */
        h->side[u] = rss_diff(h, u, h->sideth + 2 * to * d, h->sideth + (2 * to + 1) * d) > 0.0;
    colb__cohort_unlink(h, u);
    colb__cohort_link(h, u, to);
    h->dirty[c] = h->dirty[to] = h->changed[c] = h->changed[to] = 1;
    h->moves++;
    if (!h->size[c]) {
        h->nc--;
        h->pending[c] = 0;
    }
}

/* The clusters to compare a model th with: all when few, else the
 * CANDIDATES nearest (ties by index); `skip` excluded. Returns how many,
 * in h->cand. */
static size_t candidates(colb__cohort *h, const double *th, size_t skip)
{
    size_t d = h->d, n = 0;
    for (size_t c = 0; c < h->cap; c++)
        if (h->size[c] && c != skip)
            h->cand[n++] = c;
    if (n <= CANDIDATES)
        return n;
    for (size_t i = 0; i < n; i++) {
        const double *tc = h->c.theta + h->cand[i] * d;
        double s = 0.0;
        for (size_t a = 0; a < d; a++)
            s += (th[a] - tc[a]) * (th[a] - tc[a]);
        h->cdist[i] = s;
    }
    for (size_t i = 0; i < CANDIDATES; i++) { /* partial selection */
        size_t m = i;
        for (size_t j = i + 1; j < n; j++)
            if (h->cdist[j] < h->cdist[m] || (h->cdist[j] == h->cdist[m] && h->cand[j] < h->cand[m]))
                m = j;
        double td = h->cdist[i];
        size_t tc = h->cand[i];
        h->cdist[i] = h->cdist[m];
        h->cand[i] = h->cand[m];
        h->cdist[m] = td;
        h->cand[m] = tc;
    }
    return CANDIDATES;
}

/* ---- splits ---------------------------------------------------------------- */

/* RSS_u(ta) - RSS_u(tb), up to the common constant. */
static double rss_diff(colb__cohort *h, size_t u, const double *ta, const double *tb)
{
    size_t d = h->d;
    double lam = h->u.p.lambda;
    const double *V = h->u.V + u * d * d, *b = h->u.b + u * d;
    double fa = 0.0, fb = 0.0, *ga = h->work, *gb = ga + d; /* (V - lambda I) t, rows in order */
    for (size_t i = 0; i < d; i++) {
        ga[i] = -lam * ta[i];
        gb[i] = -lam * tb[i];
    }
    h->kern->symv2(V, d, ta, tb, ga, gb);
    for (size_t i = 0; i < d; i++) {
        fa += ta[i] * ga[i] - 2.0 * ta[i] * b[i];
        fb += tb[i] * gb[i] - 2.0 * tb[i] * b[i];
    }
    return fa - fb;
}

/* Side `side`'s model from the members of c on it, every stride-th member
 * of the list only (stride 1: all). */
static void fit_side(colb__cohort *h, size_t c, unsigned char side, size_t stride)
{
    size_t k = 0;
    colb__ridge_reset(&h->s, side);
    for (size_t u = h->head[c]; u != NONE; u = h->next[u], k++)
        if (k % stride == 0 && h->side[u] == side)
            colb__ridge_absorb(&h->s, side, &h->u, u);
    colb__ridge_refresh(&h->s, side);
}

/* 2-means of cluster c's members from the cluster's model and user seed's
 * own fit: sides in h->side, side models in h->s; returns the in-sample
 * Wald statistic of the sides (0 when one side is empty). A cluster of more
 * than SAMPLE_MAX members iterates on every stride-th member only (a
 * deterministic sample of at most SAMPLE_MAX), then puts every member on
 * its side once and fits the sides on all: O(SAMPLE_MAX d^2) per iteration
 * instead of O(|c| d^2), so that a service's large clusters do not stall it. */
static double two_means(colb__cohort *h, size_t c, size_t seed)
{
    size_t d = h->d, stride = (h->size[c] + SAMPLE_MAX - 1) / SAMPLE_MAX;
    colb__ridge_copy_model(&h->s, 0, &h->c, c);
    colb__ridge_copy_model(&h->s, 1, &h->u, seed);
    for (int it = 0; it < TWO_MEANS_ITERS; it++) {
        size_t na = 0, nb = 0, k = 0;
        int changed = it == 0;
        for (size_t u = h->head[c]; u != NONE; u = h->next[u], k++) {
            if (k % stride)
                continue;
            unsigned char s = rss_diff(h, u, h->s.theta, h->s.theta + d) > 0.0;
            changed |= s != h->side[u];
            h->side[u] = s;
            nb += s;
            na += !s;
        }
        if (!na || !nb)
            return 0.0;
        if (!changed)
            break;
        fit_side(h, c, 0, stride);
        fit_side(h, c, 1, stride);
    }
    if (stride > 1) { /* every member on its side of the sample's models */
        size_t na = 0, nb = 0;
        for (size_t u = h->head[c]; u != NONE; u = h->next[u]) {
            unsigned char s = rss_diff(h, u, h->s.theta, h->s.theta + d) > 0.0;
            h->side[u] = s;
            nb += s;
            na += !s;
        }
        if (!na || !nb)
            return 0.0;
    }
    fit_side(h, c, 0, 1);
    fit_side(h, c, 1, 1);
    return colb__cohort_wald(h, &h->s, 0, &h->s, 1);
}

/* Propose a split of c from the best of its seeds (largest in-sample W).
 * Returns the in-sample W of the proposal, or 0 when none was made. */
static double propose(colb__cohort *h, size_t c)
{
    size_t d = h->d, m = 0, *cand = h->cand;
    /* the `seeds` worst-fitting members with data, worst first */
    for (size_t u = h->head[c]; u != NONE; u = h->next[u]) {
        if (!h->u.count[u])
            continue;
        size_t k = m < h->seeds ? m++ : h->seeds;
        if (k == h->seeds) {
            if (!(h->ns[u] > h->ns[cand[k - 1]]))
                continue;
            k--;
        }
        while (k > 0 && h->ns[cand[k - 1]] < h->ns[u]) {
            cand[k] = cand[k - 1];
            k--;
        }
        cand[k] = u;
    }
    double best = 0.0;
    size_t bi = NONE;
    for (size_t i = 0; i < m; i++) {
        double W = two_means(h, c, cand[i]);
        if (W > best)
            best = W, bi = i;
    }
    if (bi == NONE)
        return 0.0;
    if (bi + 1 != m) /* redo the winner: h->side and h->s hold the last seed's */
        best = two_means(h, c, cand[bi]);
    memcpy(h->sideth + 2 * c * d, h->s.theta, 2 * d * sizeof(double));
    colb__ridge_reset(&h->f, 2 * c);
    colb__ridge_reset(&h->f, 2 * c + 1);
    h->pending[c] = 1;
    h->prop_count[c] = h->c.count[c];
    h->props++;
    return best;
}

/* Carry out c's pending split: side 1 becomes a new cluster. */
static void do_split(colb__cohort *h, size_t c)
{
    h->pending[c] = 0;
    size_t n1 = 0;
    for (size_t u = h->head[c]; u != NONE; u = h->next[u])
        n1 += h->side[u];
    if (!n1 || n1 == h->size[c]) /* everyone on one side by now */
        return;
    size_t c2 = colb__cohort_new_slot(h);
    if (c2 == NONE)
        return;
    for (size_t u = h->head[c], nx; u != NONE; u = nx) {
        nx = h->next[u];
        if (h->side[u]) {
            colb__cohort_unlink(h, u);
            colb__cohort_link(h, u, c2);
        }
    }
    h->nc++;
    h->splits++;
    h->dirty[c] = h->dirty[c2] = h->changed[c] = h->changed[c2] = 1;
    h->next_try[c] = h->next_try[c2] = 0;
    colb__cohort_rebuild(h, c);
    colb__cohort_rebuild(h, c2);
}

/* ---- the epoch ------------------------------------------------------------- */

/* A, theta and ln det V of models idx[0..n) of bank r from their V and b
 * (colb__ridge_add keeps only those), COLB__CHOL_BATCH at a time: a Cholesky
 * factor each (the batch at once: independent chains, interleaved) and the
 * d solves of the identity's columns in one multi-right-hand-side call (the
 * hand-written kernels, soa_kernel.h: LAPACKE's row-major calls cost more
 * than the arithmetic at these sizes). V >= lambda I is positive definite;
 * should a factor fail all the same, that model's old inverse stands (and
 * it stays due). */
void colb__cohort_refresh(colb__cohort *h, colb__ridge *r, const size_t *idx, size_t n)
{
    size_t d = h->d;
    double *X = h->pbuf, ld[COLB__CHOL_BATCH];
    const double *S[COLB__CHOL_BATCH];
    double *L[COLB__CHOL_BATCH];
    int fail[COLB__CHOL_BATCH];
    for (; n > COLB__CHOL_BATCH; idx += COLB__CHOL_BATCH, n -= COLB__CHOL_BATCH)
        colb__cohort_refresh(h, r, idx, COLB__CHOL_BATCH);
    if (!n)
        return;
    for (size_t m = 0; m < n; m++) {
        S[m] = r->V + idx[m] * d * d;
        L[m] = X + (1 + m) * d * d;
    }
    h->kern->cholesky_n(S, n, d, L, ld, fail);
    for (size_t m = 0; m < n; m++) {
        size_t i = idx[m];
        double *A = r->A + i * d * d, *th = r->theta + i * d;
        const double *b = r->b + i * d, *t0 = r->theta0 + i * d;
        if (fail[m])
            continue;
        for (size_t j = 0; j < d; j++)
            for (size_t k = 0; k < d; k++)
                X[j * d + k] = j == k;
        h->kern->chol_solve_n(L[m], d, X, d); /* column k of X: A's column k */
        for (size_t k = 0; k < d; k++)
            for (size_t j = k; j < d; j++) /* the lower triangle, mirrored: exactly symmetric */
                A[j * d + k] = A[k * d + j] = X[j * d + k];
        memset(th, 0, d * sizeof(double));
        h->kern->symv(A, d, b, th); /* colb__matvec's bits */
        for (size_t a = 0; a < d; a++)
            th[a] += t0[a];
        r->logdet[i] = ld[m];
        r->since_refresh[i] = 0;
    }
}

/* Score tests of every member of c against c, and c's spread by the method
 * of moments: tau2 = max(0, sum_u (stat_u^2 - R^2 e_u)) / sum_u h_u over the
 * members with data, since E[stat_u^2] = R^2 e_u + tau2 h_u when the
 * members' parameters spread with variance tau2 per coordinate. */
static void test_members(colb__cohort *h, size_t c)
{
    /* the cluster's part once, in work clear of the centre (maintain) */
    double num = 0.0, den = 0.0, *pre = h->work + 9 * h->d + 2 * h->d * h->d;
    colb__cohort_score_prep(h, &h->c, c, pre);
    for (size_t u = h->head[c]; u != NONE; u = h->next[u]) {
        double *st = h->pieces + 5 * u;
        colb__cohort_score_test(h, &h->u, u, &h->c, c, 0.0, st, pre);
        if (h->u.count[u]) {
            num += st[0] - h->R * h->R * st[1];
            den += st[2];
        }
    }
    h->tau2[c] = h->size[c] > 1 && den > 0.0 && num > 0.0 ? num / den : 0.0;
    for (size_t u = h->head[c]; u != NONE; u = h->next[u])
        h->ns[u] = colb__cohort_stat_with(h->pieces + 5 * u, h->tau2[c]);
}

/* One user's k-means step: to the cluster of best predictive score, or to
 * a new cluster of its own, when that gains MOVE_MARGIN; records its
 * runner-up and gap. The new cluster is returned in *to. 1 when it moved.
 * sc (CANDIDATES + 2) receives the scores of u's cluster and of the
 * candidates left in h->cand, *n_cand how many candidates: what centre_of
 * would compute next if u stays (see colb__cohort_sweep). */
static int assign_one(colb__cohort *h, size_t u, size_t *to, double *sc, size_t *n_cand)
{
    size_t c = h->label[u], n = candidates(h, h->th + u * h->d, c), list[CANDIDATES + 2];
    *n_cand = n; /* sc: own, the candidates, a cluster of its own */
    list[0] = c;
    memcpy(list + 1, h->cand, n * sizeof(size_t));
    list[n + 1] = NONE;
    colb__cohort_pred_scores(h, u, list, n + 1 + (h->size[c] > 1), sc);
    double s0 = sc[0], bs = s0, second = INFINITY;
    size_t best = c, alt = NONE;
    for (size_t i = 0; i < n; i++) {
        size_t c2 = h->cand[i];
        double s2 = sc[i + 1];
        if (s2 < bs) {
            second = bs, alt = best, bs = s2, best = c2;
        } else if (s2 < second) {
            second = s2, alt = c2;
        }
    }
    if (h->size[c] > 1) { /* a cluster of its own */
        double sn = sc[n + 1];
        if (sn < bs)
            second = bs, alt = best, bs = sn, best = NONE;
    }
    if (best == c || bs > s0 - MOVE_MARGIN) {
        h->alt[u] = best == c ? alt : best;
        h->gap[u] = (best == c ? second : bs) - s0;
        return 0;
    }
    if (best == NONE) {
        best = colb__cohort_new_slot(h);
        if (best == NONE)
            return 0;
        h->nc++;
    }
    move_user(h, u, best);
    h->alt[u] = c;
    h->gap[u] = s0 - bs;
    *to = best;
    return 1;
}

/* Assignment: k-means passes on the predictive score. */
static void assign(colb__cohort *h, int full)
{
    size_t N = h->N, to, n;
    double sc[CANDIDATES + 2];
    for (int pass = 0; pass < PASSES; pass++) {
        size_t moved = 0;
        memset(h->dirty, 0, h->cap);
        for (size_t u = 0; u < N; u++)
            if (full || h->ns[u] > 1.0)
                moved += (size_t)assign_one(h, u, &to, sc, &n);
        for (size_t c = 0; c < h->cap; c++)
            if (h->dirty[c] && h->size[c]) {
                colb__cohort_rebuild(h, c);
                test_members(h, c);
            }
        if (!moved)
            break;
    }
}

static void merge(colb__cohort *h, size_t c, size_t c2)
{
    for (size_t u = h->head[c2], nx; u != NONE; u = nx) {
        nx = h->next[u];
        colb__cohort_unlink(h, u);
        colb__cohort_link(h, u, c);
    }
    h->pending[c2] = h->pending[c] = 0;
    h->nc--;
    h->merges++;
    h->changed[c] = 1;
    h->next_try[c] = 0;
    colb__cohort_rebuild(h, c);
}

void colb__cohort_personal(colb__cohort *h, size_t u, const double *centre)
{
    size_t d = h->d, c = h->label[u];
    double lam = h->u.p.lambda, lc = h->shrink[c];
    double *M = h->M + u * (d * (d + 1) / 2), *thu = h->th + u * d, *r = h->work, *z = r + d;
    const double *V = h->u.V + u * d * d, *b = h->u.b + u * d;
    if (!isfinite(lc)) {
        h->lamu[u] = INFINITY;
        memcpy(thu, centre, d * sizeof(double));
        return;
    }
    if (!isfinite(h->lamu[u]) || lc > SHRINK_SLACK * h->lamu[u] || h->lamu[u] > SHRINK_SLACK * lc) {
        double *G = h->work + 3 * d;
        memcpy(G, V, d * d * sizeof(double));
        for (size_t a = 0; a < d; a++)
            G[a * d + a] += lc - lam;
        double *Mf = G + d * d; /* clear of the centre (maintain's work + 8 d + 2 d^2) */
        if (h->kern->cholesky(G, d, Mf, NULL)) { /* colb__spd_inverse's bits */
            h->lamu[u] = INFINITY;
            memcpy(thu, centre, d * sizeof(double));
            return;
        }
        h->kern->chol_inverse(Mf, d);
        colb__pack_upper(Mf, d, M);
        h->lamu[u] = lc;
    }
    /* th = centre + M (b - G centre): r = b + lambda centre - V centre,
     * V's columns (= rows) in order (the kernel adds V (-centre)) */
    double *nc = z + d;
    for (size_t a = 0; a < d; a++) {
        r[a] = b[a] + lam * centre[a];
        nc[a] = -centre[a];
    }
    h->kern->symv(V, d, nc, r);
    colb__packed_symv(M, r, d, z);
    for (size_t a = 0; a < d; a++)
        thu[a] = centre[a] + z[a];
}

/* The centre of user u: its cluster's model or, while the assignment is
 * uncertain (the best other cluster scored within SOFT_GAP when last
 * checked, or its cluster changed in this epoch), the mixture of
 * the candidate clusters' models weighted by their predictive scores
 * (softmax of -score/2, the posterior under the scores' model). `known`:
 * NULL, or those scores (own, then n_known candidates in h->cand) as
 * assign_one has just computed them with nothing changed since. */
static const double *centre_of(colb__cohort *h, size_t u, double *out, const double *known,
                               size_t n_known)
{
    size_t d = h->d, c = h->label[u];
    const double *tc = h->c.theta + c * d;
    /* a user alone in its cluster: the model is its own data, not a centre
     * to mix with others' */
    if (!h->soft || h->nc < 2 || h->size[c] < 2 || !(h->gap[u] < SOFT_GAP || h->changed[c]))
        return tc;
    size_t n = n_known, list[CANDIDATES + 1];
    double scores[CANDIDATES + 1], best = INFINITY; /* own, the candidates */
    const double *sc = known;
    if (!known) {
        n = candidates(h, h->th + u * d, c);
        list[0] = c;
        memcpy(list + 1, h->cand, n * sizeof(size_t));
        colb__cohort_pred_scores(h, u, list, n + 1, scores);
        sc = scores;
    }
    double s0 = sc[0];
    for (size_t i = 0; i < n; i++) {
        h->cdist[i] = sc[i + 1] - s0;
        if (h->cdist[i] < best)
            best = h->cdist[i];
    }
    h->gap[u] = best;
    if (!(best < SOFT_GAP) || !isfinite(s0))
        return tc;
    /* weights relative to the best score, so that none overflows */
    double ref = best < 0.0 ? best : 0.0, wsum = exp(0.5 * ref);
    for (size_t k = 0; k < d; k++)
        out[k] = wsum * tc[k];
    for (size_t i = 0; i < n; i++) {
        double w = exp(-0.5 * (h->cdist[i] - ref));
        const double *ta = h->c.theta + h->cand[i] * d;
        wsum += w;
        for (size_t k = 0; k < d; k++)
            out[k] += w * ta[k];
    }
    for (size_t k = 0; k < d; k++)
        out[k] /= wsum;
    return out;
}

enum { KEEP, SPLIT, GIVE_UP };

/* The verdict on c's pending split from the sides' fresh models (their
 * inverses refreshed first): SPLIT when they differ, GIVE_UP once the fresh
 * data equal the data the proposal used, else KEEP. */
static int pending_verdict(colb__cohort *h, size_t c)
{
    size_t idx[2], n = 0;
    for (size_t i = 2 * c; i < 2 * c + 2; i++)
        if (h->f.since_refresh[i])
            idx[n++] = i;
    colb__cohort_refresh(h, &h->f, idx, n);
    if (colb__cohort_wald(h, &h->f, 2 * c, &h->f, 2 * c + 1) > colb__cohort_chi_thr(h))
        return SPLIT;
    return h->f.count[2 * c] + h->f.count[2 * c + 1] >= h->prop_count[c] ? GIVE_UP : KEEP;
}

/* Whether step 3 would propose a split of c. */
static int proposal_due(const colb__cohort *h, size_t c)
{
    return h->size[c] >= 2 && !h->pending[c] && h->c.count[c] >= h->next_try[c];
}

int colb__cohort_splits_due(colb__cohort *h)
{
    for (size_t c = 0; c < h->cap; c++)
        if (h->size[c] && ((h->pending[c] && pending_verdict(h, c) != KEEP) || proposal_due(h, c)))
            return 1;
    return 0;
}

/* u's personal estimate about its centre (centre_of), the centre's offset
 * from u's cluster model kept for the observations before the next epoch
 * (colb__cohort_centre). */
static void personal_about(colb__cohort *h, size_t u, const double *centre)
{
    size_t d = h->d;
    const double *tc = h->c.theta + h->label[u] * d;
    double *off = h->off + u * d;
    for (size_t k = 0; k < d; k++)
        off[k] = centre == tc ? 0.0 : centre[k] - tc[k];
    colb__cohort_personal(h, u, centre);
}

const double *colb__cohort_centre(colb__cohort *h, size_t u, double *out)
{
    size_t d = h->d;
    const double *tc = h->c.theta + h->label[u] * d, *off = h->off + u * d;
    int any = 0;
    for (size_t k = 0; k < d; k++)
        any |= off[k] != 0.0;
    if (!any)
        return tc;
    for (size_t k = 0; k < d; k++)
        out[k] = tc[k] + off[k];
    return out;
}

/* Steps 2 and 3 of an epoch: pending splits, proposals. */
static void split_steps(colb__cohort *h)
{
    /* 2. pending splits */
    for (size_t c = 0; c < h->cap; c++) {
        if (!h->pending[c])
            continue;
        int v = pending_verdict(h, c);
        if (v == SPLIT) {
            do_split(h, c);
        } else if (v == GIVE_UP) {
            h->pending[c] = 0;
            h->next_try[c] = h->c.count[c];
        }
    }
    for (size_t c = 0; c < h->cap; c++)
        if (h->dirty[c] && h->size[c])
            test_members(h, c);
    /* 3. proposals; an overwhelming one splits at once and its parts are
     * proposed again */
    for (size_t c = 0; c < h->cap; c++) {
        if (!proposal_due(h, c))
            continue;
        double W = propose(h, c);
        if (W <= 0.0) {
            h->next_try[c] = 2 * h->c.count[c] + 1;
            continue;
        }
        if (W > SEL_PER_USER * (double)h->size[c] + SEL_PER_DIM * (double)h->d) {
            do_split(h, c);
            for (size_t c2 = 0; c2 < h->cap; c2++)
                if (h->dirty[c2] && h->size[c2])
                    test_members(h, c2);
            c = (size_t)-1; /* rescan: the parts may split again */
        }
    }
}

/* Step 5: merges (the changed clusters, or every one when `all`). */
static void merge_step(colb__cohort *h, int all)
{
    /* 5. merges */
    for (size_t c = 0; c < h->cap; c++) {
        if (!h->size[c] || (!all && !h->changed[c]))
            continue;
        size_t n = candidates(h, h->c.theta + c * h->d, c);
        for (size_t i = 0; i < n && h->size[c]; i++) {
            size_t c2 = h->cand[i];
            if (!h->size[c2])
                continue;
            /* merge when the self-normalised bound cannot separate them
             * AND neither could the split test: a merge threshold above the
             * split threshold would undo a fresh split in the same epoch
             * (measured: 1,537 splits and 1,505 merges in 1,000 rounds at
             * sigma = 1, sigma_theta = 0.3; 51 and 1 with this rule, regret
             * within 2%) */
            double W = colb__cohort_wald(h, &h->c, c, &h->c, c2);
            double thr = colb__cohort_oful_thr(h, &h->c, c, &h->c, c2);
            if (thr > colb__cohort_chi_thr(h))
                thr = colb__cohort_chi_thr(h);
            if (W <= thr) {
                merge(h, c, c2);
                test_members(h, c);
            }
        }
    }
}

static void set_shrinkage(colb__cohort *h)
{
    for (size_t c = 0; c < h->cap; c++)
        if (h->size[c])
            h->shrink[c] = h->personal && h->tau2[c] > 0.0 ? h->R * h->R / h->tau2[c] : INFINITY;
}

void colb__cohort_maintain(colb__cohort *h)
{
    size_t cap = h->cap, N = h->N;
    int early = h->epoch < EARLY_EPOCHS || is_pow2(h->epoch);
    memset(h->dirty, 0, cap);
    memset(h->changed, 0, cap);
    /* 1. members against their clusters, spreads */
    for (size_t c = 0; c < h->cap; c++)
        if (h->size[c])
            test_members(h, c);
    split_steps(h);
    /* 4. assignment */
    assign(h, early);
    merge_step(h, early);
    /* 6. shrinkage and personal estimates */
    set_shrinkage(h);
    double *centre = h->work + 8 * h->d + 2 * h->d * h->d; /* clear of pred_score's */
    for (size_t u = 0; u < N; u++)
        personal_about(h, u, centre_of(h, u, centre, NULL, 0));
}

/* A member moving in a sweep: the two pooled models change by its data
 * alone (O(d^3)), not by a rebuild from every member. */
static void move_pooled(colb__cohort *h, size_t u, size_t from, size_t to)
{
    colb__ridge_unabsorb(&h->c, from, &h->u, u);
    colb__ridge_absorb(&h->c, to, &h->u, u);
    if (h->size[from])
        colb__ridge_refresh(&h->c, from);
    else
        colb__ridge_reset(&h->c, from);
    colb__ridge_refresh(&h->c, to);
}

int colb__cohort_sweep(colb__cohort *h, size_t n)
{
    size_t N = h->N, d = h->d, to;
    int early = h->epoch < EARLY_EPOCHS || is_pow2(h->epoch);
    double *pre = h->work + 9 * d + 2 * d * d, *centre = h->work + 8 * d + 2 * d * d;
    double sc[CANDIDATES + 2];
    if (!h->sweep) { /* a new epoch */
        memset(h->dirty, 0, h->cap);
        memset(h->changed, 0, h->cap);
        for (size_t c = 0; c < 2 * h->cap; c++)
            h->acc[c] = 0.0;
        h->sweep = 1;
        h->sweep_base = h->splits + h->merges + h->moves;
    }
    for (; n > 0 && h->sweep <= N; n--, h->sweep++) {
        size_t u = h->sweep - 1, c = h->label[u];
        double *st = h->pieces + 5 * u;
        colb__cohort_score_prep(h, &h->c, c, pre);
        colb__cohort_score_test(h, &h->u, u, &h->c, c, 0.0, st, pre);
        if (h->u.count[u]) {
            h->acc[2 * c] += st[0] - h->R * h->R * st[1];
            h->acc[2 * c + 1] += st[2];
        }
        h->ns[u] = colb__cohort_stat_with(st, h->tau2[c]);
        /* a member that stays keeps the scores of its k-means step for its
         * centre: the same clusters, unchanged, so the same bits (pred_scores
         * computes each cluster's score on its own) at half the cost */
        const double *known = NULL;
        size_t n_known = 0;
        if (early || h->ns[u] > 1.0) {
            if (assign_one(h, u, &to, sc, &n_known))
                move_pooled(h, u, c, to);
            else if (!h->recompute_centres)
                known = sc;
        }
        personal_about(h, u, centre_of(h, u, centre, known, n_known));
    }
    if (h->sweep <= N)
        return 0;
    /* the clusters' steps */
    for (size_t c = 0; c < h->cap; c++)
        if (h->size[c]) {
            double num = h->acc[2 * c], den = h->acc[2 * c + 1];
            h->tau2[c] = h->size[c] > 1 && den > 0.0 && num > 0.0 ? num / den : 0.0;
        }
    memset(h->dirty, 0, h->cap);
    split_steps(h);
    merge_step(h, early);
    set_shrinkage(h);
    h->sweep = 0;
    return 1;
}
