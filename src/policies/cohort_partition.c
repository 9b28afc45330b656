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
#include "policies/bank_persist.h"
#include "policies/cohort.h"

#define NONE COLB__COHORT_NONE

#define CANDIDATES 16    /* clusters compared per user or cluster beyond this many */
#define PK_SLOTS COLB__COHORT_PK_SLOTS /* own, CANDIDATES, a cluster of its own */
#define EARLY_EPOCHS 16  /* epochs in which every user and pair is checked */
#define PASSES 4         /* k-means passes of assignment per epoch, at most */
#define MOVE_MARGIN 1.0  /* a move must gain this much predictive score (-2 log) */
#define SEL_PER_USER 2.0 /* immediate split: W > SEL_PER_USER n + SEL_PER_DIM d */
#define SEL_PER_DIM 4.0
#define SOFT_GAP 10.0    /* soft centres while own -> alt gains less (-2 log) */
#define SHRINK_SLACK 1.5 /* M_u is rebuilt when the shrinkage moves by more */
/* A positive personal shrinkage is at least this share of the largest
 * diagonal entry v of the user's V, so that G = V + (lambda_c - lambda) I
 * keeps a condition number below ~d / SHRINK_FLOOR. A smaller lambda_c (a
 * wide spread against contexts of large norm) is a shrinkage rounding
 * cannot carry: G was singular in rounding, its factor "succeeded", and
 * the estimate reached 1e98 (test_cohort test_personal_large_contexts).
 * With lambda_c = 0 (noise scale 0: no shrinkage) G is the data's own
 * Gram matrix, singular until the user has d independent contexts: a
 * factor with a pivot below SHRINK_FLOOR v / 2 is taken as singular (the
 * centre is the estimate, as when the factorisation fails). */
#define SHRINK_FLOOR 1e-9
#define TWO_MEANS_ITERS 10
#define SAMPLE_MAX COLB__COHORT_SAMPLE_MAX
#define MERGE_AHEAD 4    /* merge tests computed ahead (one colb__cohort_wald_n batch) */

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
    h->ver[c]++;
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
    h->ver[c]++;
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
        colb__realloc_n(&h->round_obs, cap2, sizeof(size_t)) ||
        colb__realloc_n(&h->tdist, cap2, sizeof(double)) ||
        colb__realloc_n(&h->tstale, cap2, sizeof(size_t)) || colb__realloc_n(&h->tflag, cap2, 1) ||
        colb__realloc_n(&h->tcache, d * ((cap2 + 7) / 8 * 8), sizeof(double)) ||
        colb__realloc_n(&h->ver, cap2, sizeof(uint64_t)))
        return -1; /* the arrays grown so far are merely larger than used */
    /* the cache's columns move with its new leading dimension: all stale */
    h->tld = (cap2 + 7) / 8 * 8;
    memset(h->tcache, 0, d * h->tld * sizeof(double));
    h->n_tstale = 0;
    for (size_t c = 0; c < cap2; c++) {
        h->tflag[c] = 1;
        h->tstale[h->n_tstale++] = c;
    }
    for (size_t c = old; c < cap2; c++) {
        h->size[c] = 0;
        h->head[c] = NONE;
        h->tau2[c] = 0.0;
        h->shrink[c] = INFINITY;
        h->pending[c] = h->dirty[c] = h->changed[c] = 0;
        h->stamp[c] = h->qstamp[c] = h->ver[c] = 0;
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

void colb__cohort_touch(colb__cohort *h, size_t c)
{
    h->ver[c]++;
    if (!h->tflag[c]) {
        h->tflag[c] = 1;
        h->tstale[h->n_tstale++] = c;
    }
}

int colb__cohort_cache_ok(const colb__cohort *h)
{
    for (size_t c = 0; c < h->cap; c++)
        for (size_t a = 0; a < h->d && !h->tflag[c]; a++)
            if (memcmp(h->tcache + a * h->tld + c, h->c.theta + c * h->d + a, sizeof(double)))
                return 0;
    return 1;
}

size_t colb__cohort_new_slot(colb__cohort *h)
{
    for (size_t c = 0; c < h->cap; c++)
        if (!h->size[c] && !h->pending[c]) {
            colb__ridge_reset(&h->c, c);
            colb__cohort_touch(h, c);
            h->next_try[c] = 0;
            return c;
        }
    /* grown by an eighth (at least 8 slots): a growth copies the banks
     * (realloc) and sets up the new slots, so its call's time grows with
     * the slots added; doubling made single calls of a service with
     * thousands of clusters take 15 ms, an eighth at most 4 ms (the copies'
     * total, about 8 times the final banks, is spread over the run) */
    size_t c = h->cap;
    if (colb__cohort_grow_slots(h, h->cap + (h->cap / 8 > 8 ? h->cap / 8 : 8)))
        return NONE;
    return c;
}

/* colb__ridge_refresh, its failure kept (numeric_failed). */
static void refresh(colb__cohort *h, colb__ridge *r, size_t i)
{
    if (colb__ridge_refresh(r, i) != COLB_OK)
        h->numeric_failed = 1;
}

void colb__cohort_rebuild(colb__cohort *h, size_t c)
{
    colb__ridge_reset(&h->c, c);
    for (size_t u = h->head[c]; u != NONE; u = h->next[u])
        colb__ridge_absorb(&h->c, c, &h->u, u);
    refresh(h, &h->c, c);
    colb__cohort_touch(h, c);
}

static void rss_prep(const colb__cohort *h, const double *ta, const double *tb, double *q);
static double rss_diff(const colb__cohort *h, size_t u, const double *q);

static void move_user(colb__cohort *h, size_t u, size_t to)
{
    size_t c = h->label[u], d = h->d;
    if (h->pending[to]) { /* the side whose model fits it better */
        double *q = h->work + COLB__COHORT_RSS_AT(d);
        rss_prep(h, h->sideth + 2 * to * d, h->sideth + (2 * to + 1) * d, q);
        h->side[u] = rss_diff(h, u, q) > 0.0;
    }
    colb__cohort_unlink(h, u);
    colb__cohort_link(h, u, to);
    h->dirty[c] = h->dirty[to] = h->changed[c] = h->changed[to] = 1;
    h->moves++;
    if (!h->size[c]) {
        h->nc--;
        h->pending[c] = 0;
    }
}

/* Keep cluster c at squared distance s among the m <= CANDIDATES nearest so
 * far, sorted (slots come in increasing order: a tie keeps the one kept). */
static size_t keep_nearest(colb__cohort *h, size_t m, size_t c, double s)
{
    if (m == CANDIDATES && !(s < h->cdist[m - 1]))
        return m;
    size_t i = m < CANDIDATES ? m++ : m - 1;
    for (; i > 0 && s < h->cdist[i - 1]; i--) {
        h->cdist[i] = h->cdist[i - 1];
        h->cand[i] = h->cand[i - 1];
    }
    h->cdist[i] = s;
    h->cand[i] = c;
    return m;
}

/* The clusters to compare a model th with: all when few, else the
 * CANDIDATES nearest (ties by index), nearest first; `skip` excluded.
 * Returns how many, in h->cand (their distances in h->cdist). The
 * distances of all slots in one pass of the dist2 kernel over the
 * transposed cache (soa_kernel.h: each sum in the order of its
 * coordinates, products rounded - the scalar loop's bits - vectorised
 * across clusters, contiguous loads), the stale columns copied first;
 * then one pass that keeps the nearest so far sorted. A service's
 * partition of thousands of small clusters calls this for every user it
 * checks: with the scalar loop over the slots (a branch on each slot's use
 * and 8 clusters' sums at a time) it was a third of a service's time. */
static size_t candidates(colb__cohort *h, const double *th, size_t skip)
{
    size_t d = h->d, n = 0, m = 0, ld = h->tld;
    for (size_t c = 0; c < h->cap && n <= CANDIDATES; c++)
        n += h->size[c] && c != skip;
    if (n <= CANDIDATES) {
        n = 0;
        for (size_t c = 0; c < h->cap; c++)
            if (h->size[c] && c != skip)
                h->cand[n++] = c;
        return n;
    }
    for (size_t i = 0; i < h->n_tstale; i++) {
        size_t c = h->tstale[i];
        const double *t = h->c.theta + c * d;
        for (size_t a = 0; a < d; a++)
            h->tcache[a * ld + c] = t[a];
        h->tflag[c] = 0;
    }
    h->n_tstale = 0;
    /* the slots up to the last in use (new clusters take the lowest free
     * slot: the empty ones gather at the end after a growth) */
    size_t hi = h->cap;
    while (!h->size[hi - 1])
        hi--;
    const double *dist = h->tdist;
    const size_t *size = h->size;
    h->kern->dist2(h->tcache, ld, th, d, hi, h->tdist);
    double thr = INFINITY; /* the farthest kept once CANDIDATES are (NaN: never kept then) */
    for (size_t c = 0; c < hi; c++) /* the test on the distance first: rarely passed */
        if ((m < CANDIDATES || dist[c] < thr) && size[c] && c != skip) {
            m = keep_nearest(h, m, c, dist[c]);
            if (m == CANDIDATES)
                thr = h->cdist[m - 1];
        }
    return CANDIDATES;
}

/* ---- splits ---------------------------------------------------------------- */

/* The constants of rss_diff for the models ta, tb, in q (d^2 + d + 1
 * doubles: work from COLB__COHORT_RSS_AT). With G = V - lambda I a
 * member's Gram matrix, RSS_u(ta) - RSS_u(tb) = ta'G ta - tb'G tb - 2
 * (ta - tb)'b = (ta - tb)'G (ta + tb) - 2 (ta - tb)'b for a symmetric V,
 * so q = the d x d matrix (ta - tb)(ta + tb)', then -2 (ta - tb), then
 * -lambda (ta - tb)'(ta + tb). O(d^2) once a pass instead of two symv's a
 * member. */
static void rss_prep(const colb__cohort *h, const double *ta, const double *tb, double *q)
{
    size_t d = h->d;
    double ds = 0.0;
    for (size_t i = 0; i < d; i++) {
        double di = ta[i] - tb[i];
        for (size_t j = 0; j < d; j++)
            q[i * d + j] = di * (ta[j] + tb[j]);
        q[d * d + i] = -2.0 * di;
        ds += q[i * d + i];
    }
    q[d * d + d] = -h->u.p.lambda * ds;
}

/* RSS_u(ta) - RSS_u(tb), up to the common constant, from rss_prep's q: two
 * contiguous dot products (only its sign is used: a member's side). A
 * member without data is an exact tie (side 0): its V is lambda I, whose
 * terms would cancel only up to rounding. */
static double rss_diff(const colb__cohort *h, size_t u, const double *q)
{
    size_t d = h->d;
    if (!h->u.count[u])
        return 0.0;
    return h->kern->dot(h->u.V + u * d * d, q, d * d) + h->kern->dot(h->u.b + u * d, q + d * d, d) +
           q[d * d + d];
}

/* ---- split proposals, in slices ------------------------------------------- */

/* A proposal is 2-means of cluster c's members, run from the cluster's
 * model and, in turn, each seed's own fit (the `seeds` worst-fitting
 * members): a run alternates a pass that puts each member on the side of
 * the model it fits better and sums each side's data, and a refit of the
 * sides from their sums, until no member changes side or TWO_MEANS_ITERS
 * passes. The seed whose sides differ most (in-sample Wald statistic W)
 * wins. A cluster of more than SAMPLE_MAX members runs on every stride-th
 * member only (a deterministic sample): O(SAMPLE_MAX d^2) per pass instead
 * of O(|c| d^2); the winner alone is then given one pass over every member
 * and its sides fitted on all of them. (Before, every seed got that full
 * pass and the winner was chosen on it: the same result for clusters of
 * up to SAMPLE_MAX members, four full passes fewer on larger ones.)
 *
 * The work is resumable at any member: its state is h->p* and the sums in
 * h->s, saved in snapshots, so that a service runs a proposal over many
 * calls (colb__cohort_sweep's budget) and a restart continues it where it
 * stood. Between calls the members' data may grow; newcomers prepended to
 * the list by colb_policy_add_users are left out of a pass under way. */
#define PS_IDLE COLB__COHORT_PS_IDLE
#define PS_PASS COLB__COHORT_PS_PASS
#define PS_FULL COLB__COHORT_PS_FULL

/* A pass of the run under way: the sides' sums reset; a run's first pass
 * counts as a change (its models are not fits, so it always refits). */
static void pass_start(colb__cohort *h, uint64_t stage)
{
    colb__ridge_reset(&h->s, 0);
    colb__ridge_reset(&h->s, 1);
    h->pstage = stage;
    h->pcur = 0;
    h->pna = h->pnb = 0;
    h->pchanged = stage == PS_PASS && h->pit == 0;
}

/* The run of seed pi (pi == pm: the winner's again), from the cluster's
 * model and the seed's own fit. */
static void run_start(colb__cohort *h)
{
    size_t d = h->d, seed = h->pseed[h->pi < h->pm ? h->pi : h->pbi];
    memcpy(h->pold, h->c.theta + h->pc * d, d * sizeof(double));
    memcpy(h->pold + d, h->u.theta + seed * d, d * sizeof(double));
    h->pit = 0;
    pass_start(h, PS_PASS);
}

/* One member of a pass: to the side whose model fits it better (q:
 * rss_prep's constants of the two), its data into that side's sums. */
static void pass_visit(colb__cohort *h, size_t u, const double *q)
{
    unsigned char s = rss_diff(h, u, q) > 0.0;
    h->pchanged |= s != h->side[u];
    h->side[u] = s;
    h->pnb += s;
    h->pna += !s;
    colb__ridge_absorb(&h->s, s, &h->u, u);
}

/* The pass under way while the budget lasts; 1 when it is complete. The
 * cursor pcur is the next sample index, or 1 + the next member (0: the
 * list's head). */
static int pass_run(colb__cohort *h)
{
    const double *t = h->pstage == PS_FULL ? h->pwin : h->pold;
    double *q = h->work + COLB__COHORT_RSS_AT(h->d); /* again each call: work is shared */
    rss_prep(h, t, t + h->d, q);
    if (h->pstage == PS_PASS && h->pstride > 1) {
        for (; h->pcur < h->pn; h->pcur++, h->budget--) {
            if (h->budget <= 0)
                return 0;
            pass_visit(h, h->psample[h->pcur], q);
        }
        return 1;
    }
    for (size_t u = h->pcur ? h->pcur - 1 : h->head[h->pc]; u != NONE; u = h->next[u], h->budget--) {
        if (h->budget <= 0) {
            h->pcur = u + 1;
            return 0;
        }
        pass_visit(h, u, q);
    }
    return 1;
}

/* Start a proposal for c: its seeds (the `seeds` worst-fitting members with
 * data, worst first) and sample. 0 when it has no seed. */
static int propose_start(colb__cohort *h, size_t c)
{
    size_t m = 0, *cand = h->pseed;
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
    h->budget -= (int64_t)(h->size[c] / 16 + 1);
    if (!m)
        return 0;
    h->pc = c;
    h->pm = m;
    h->pi = 0;
    h->pbi = NONE;
    h->pbest = 0.0;
    h->pstride = (h->size[c] + SAMPLE_MAX - 1) / SAMPLE_MAX;
    h->pn = 0;
    if (h->pstride > 1) {
        size_t k = 0;
        for (size_t u = h->head[c]; u != NONE; u = h->next[u], k++)
            if (k % h->pstride == 0)
                h->psample[h->pn++] = u;
    }
    run_start(h);
    return 1;
}

/* The proposal's end: a pending split of sides h->side, side models h->s,
 * when W > 0. */
static int propose_end(colb__cohort *h, double W, double *out)
{
    size_t c = h->pc, d = h->d;
    h->pstage = PS_IDLE;
    *out = W;
    if (W <= 0.0)
        return 1;
    memcpy(h->sideth + 2 * c * d, h->s.theta, 2 * d * sizeof(double));
    colb__ridge_reset(&h->f, 2 * c);
    colb__ridge_reset(&h->f, 2 * c + 1);
    h->pending[c] = 1;
    h->prop_count[c] = h->c.count[c];
    h->props++;
    return 1;
}

/* Propose a split of c, or go on with the proposal under way, while the
 * budget lasts. 1 when the proposal is complete: *W its in-sample W, 0
 * when none was made. */
static int propose_step(colb__cohort *h, size_t c, double *W)
{
    size_t d = h->d;
    if (h->pstage == PS_IDLE && !propose_start(h, c)) {
        *W = 0.0;
        return 1;
    }
    for (;;) {
        if (!pass_run(h))
            return 0;
        int final = h->pstage == PS_FULL || h->pi == h->pm;
        h->budget -= 2 * (int64_t)d; /* the refits: O(d^3) each */
        double w = 0.0;
        if (h->pna && h->pnb) {
            refresh(h, &h->s, 0);
            refresh(h, &h->s, 1);
            if (h->pstage == PS_PASS && h->pchanged && ++h->pit < TWO_MEANS_ITERS) {
                memcpy(h->pold, h->s.theta, 2 * d * sizeof(double));
                pass_start(h, PS_PASS);
                continue;
            }
            w = colb__cohort_wald(h, &h->s, 0, &h->s, 1);
        }
        if (final)
            return propose_end(h, w, W);
        if (w > h->pbest) { /* a seed's run ended */
            h->pbest = w;
            h->pbi = h->pi;
            memcpy(h->pwin, h->s.theta, 2 * d * sizeof(double));
        }
        if (++h->pi < h->pm) {
            run_start(h);
        } else if (h->pbi == NONE) {
            return propose_end(h, 0.0, W);
        } else if (h->pstride > 1) {
            pass_start(h, PS_FULL);
        } else if (h->pbi + 1 == h->pm) { /* h->side and h->s hold the winner's */
            return propose_end(h, h->pbest, W);
        } else {
            run_start(h); /* the winner again: h->side holds the last seed's sides */
        }
    }
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
 * lower triangles of the d solves of the identity's columns, two factors
 * at a time (the hand-written kernels, soa_kernel.h chol_solve_eye:
 * LAPACKE's row-major calls cost more than the arithmetic at these
 * sizes). V >= lambda I is positive definite; should a factor fail all the
 * same, that model's old inverse stands (and it stays due). */
void colb__cohort_refresh(colb__cohort *h, colb__ridge *r, const size_t *idx, size_t n)
{
    size_t d = h->d;
    double *X = h->pbuf, ld[COLB__CHOL_BATCH];
    const double *S[COLB__CHOL_BATCH];
    double *L[COLB__CHOL_BATCH];
    int fail[COLB__CHOL_BATCH];
    if (n > COLB__CHOL_BATCH) { /* even batches: 10 as 5 + 5, every one of them in lanes */
        size_t parts = (n + COLB__CHOL_BATCH - 1) / COLB__CHOL_BATCH;
        for (; parts > 1; parts--) {
            size_t k = (n + parts - 1) / parts;
            colb__cohort_refresh(h, r, idx, k);
            idx += k;
            n -= k;
        }
    }
    if (!n)
        return;
    for (size_t m = 0; m < n; m++) {
        S[m] = r->V + idx[m] * d * d;
        L[m] = X + (1 + m) * d * d;
    }
    h->kern->cholesky_n(S, n, d, L, ld, fail);
    const double *Lok[COLB__CHOL_BATCH];
    double *Aok[COLB__CHOL_BATCH];
    size_t nok = 0;
    for (size_t m = 0; m < n; m++)
        if (!fail[m]) {
            Lok[nok] = L[m];
            Aok[nok++] = r->A + idx[m] * d * d;
        }
    h->kern->chol_solve_eye(Lok, nok, d, Aok); /* the lower triangles of the A */
    for (size_t m = 0; m < n; m++) {
        size_t i = idx[m];
        double *A = r->A + i * d * d, *th = r->theta + i * d;
        const double *b = r->b + i * d, *t0 = r->theta0 + i * d;
        if (fail[m]) { /* the single refresh, with its jitter (ridge.h) */
            refresh(h, r, i);
            continue;
        }
        for (size_t k = 0; k < d; k++)
            for (size_t j = k + 1; j < d; j++) /* mirrored: exactly symmetric */
                A[k * d + j] = A[j * d + k];
        h->kern->colsum(A, d, b, d, d, th); /* symv from 0: colb__matvec's bits */
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
/* Member u's score test against its cluster c (pre: c's part,
 * colb__cohort_score_prep), its statistics into pieces, its terms of c's
 * spread added to sums. */
static void member_test(colb__cohort *h, size_t c, size_t u, const double *pre, double sums[2])
{
    double *st = h->pieces + 5 * u;
    colb__cohort_score_test(h, &h->u, u, &h->c, c, 0.0, st, pre);
    if (h->u.count[u]) {
        sums[0] += st[0] - h->R * h->R * st[1];
        sums[1] += st[2];
    }
}

/* c's spread from its sums, and its members' normalised statistics. */
static void members_tested(colb__cohort *h, size_t c, const double sums[2])
{
    double num = sums[0], den = sums[1];
    h->tau2[c] = h->size[c] > 1 && den > 0.0 && num > 0.0 ? num / den : 0.0;
    for (size_t u = h->head[c]; u != NONE; u = h->next[u])
        h->ns[u] = colb__cohort_stat_with(h->pieces + 5 * u, h->tau2[c]);
}

/* The work the test's cluster part takes, clear of the centre (maintain). */
static double *test_pre(colb__cohort *h)
{
    return h->work + 9 * h->d + 2 * h->d * h->d;
}

static void test_members(colb__cohort *h, size_t c)
{
    double sums[2] = { 0.0, 0.0 }, *pre = test_pre(h);
    colb__cohort_score_prep(h, &h->c, c, pre);
    for (size_t u = h->head[c]; u != NONE; u = h->next[u])
        member_test(h, c, u, pre, sums);
    members_tested(h, c, sums);
}

/* The slot of u's kept score of cluster c (NONE: a cluster of its own) at
 * its current version, or pkn[u] when none is kept. */
static size_t kept_slot(const colb__cohort *h, size_t u, size_t c)
{
    const size_t *kc = h->pkc + u * PK_SLOTS;
    const uint64_t *kv = h->pkv + u * PK_SLOTS;
    uint64_t v = c == NONE ? 0 : h->ver[c];
    size_t j = 0;
    while (j < h->pkn[u] && !(kc[j] == c && kv[j] == v))
        j++;
    return j;
}

/* u's kept scores become sc[i] of list[i], i < n, at the clusters' versions. */
static void kept_store(colb__cohort *h, size_t u, const size_t *list, const double *sc, size_t n)
{
    size_t *kc = h->pkc + u * PK_SLOTS;
    uint64_t *kv = h->pkv + u * PK_SLOTS;
    double *ks = h->pks + u * PK_SLOTS;
    for (size_t i = 0; i < n; i++) {
        kc[i] = list[i];
        kv[i] = list[i] == NONE ? 0 : h->ver[list[i]];
        ks[i] = sc[i];
    }
    h->pkn[u] = (unsigned char)n;
}

/* colb__cohort_pred_scores through the epoch's kept scores (colb__cohort's
 * pk_*; when on): the clusters of list[0..n) (n <= PK_SLOTS) whose score
 * for u is kept at their current version are taken from it, the others
 * computed together, and u's entries then hold this list's scores. */
static void pred_scores_kept(colb__cohort *h, size_t u, const size_t *list, size_t n, double *out)
{
    if (!h->pk_on) {
        colb__cohort_pred_scores(h, u, list, n, out);
        return;
    }
    size_t miss[PK_SLOTS], at[PK_SLOTS], m = 0;
    double fresh[PK_SLOTS];
    for (size_t i = 0; i < n; i++) {
        size_t j = kept_slot(h, u, list[i]);
        if (j < h->pkn[u]) {
            out[i] = h->pks[u * PK_SLOTS + j];
        } else {
            miss[m] = list[i];
            at[m++] = i;
        }
    }
    if (m)
        colb__cohort_pred_scores(h, u, miss, m, fresh);
    for (size_t i = 0; i < m; i++)
        out[at[i]] = fresh[i];
    kept_store(h, u, list, out, n);
}

/* The lists of assign_one for users from u0 on (those a pass of `full`
 * visits), users taken until their scores missing from the kept ones make
 * a batch of factorisations (COLB__CHOL_BATCH) or AHEAD_USERS are taken:
 * the missing scores computed together (colb__cohort_pred_scores_of, whose
 * lanes factor a batch at once where each user alone has two or three),
 * and kept, so that each user's assign_one finds them. Ahead of time, but
 * not a guess: a score is kept with its cluster's version, and a user's
 * assign_one that comes after a move of another user (which changes the
 * versions of the clusters it touches) computes those afresh - every score
 * it reads is the one it would have computed. Returns the first user not
 * taken. Only while the kept scores are on (pk_on). */
#define AHEAD_USERS 8

static size_t scores_ahead(colb__cohort *h, size_t u0, int full)
{
    size_t N = h->N, users[AHEAD_USERS], nu = 0, v = u0;
    size_t list[AHEAD_USERS][PK_SLOTS], nl[AHEAD_USERS];
    size_t pu[AHEAD_USERS * PK_SLOTS], pc[AHEAD_USERS * PK_SLOTS], np = 0;
    double score[AHEAD_USERS * PK_SLOTS];
    for (; v < N && nu < AHEAD_USERS && np < COLB__CHOL_BATCH; v++) {
        if (!(full || h->ns[v] > 1.0))
            continue;
        size_t c = h->label[v], n = candidates(h, h->th + v * h->d, c), *l = list[nu];
        l[0] = c; /* assign_one's list */
        memcpy(l + 1, h->cand, n * sizeof(size_t));
        l[n + 1] = NONE;
        n += 1 + (h->size[c] > 1);
        for (size_t i = 0; i < n; i++)
            if (kept_slot(h, v, l[i]) == h->pkn[v]) {
                pu[np] = v;
                pc[np++] = l[i];
            }
        users[nu] = v;
        nl[nu++] = n;
    }
    if (!np)
        return v;
    colb__cohort_pred_scores_of(h, pu, 1, pc, np, score);
    for (size_t i = 0, p = 0; i < nu; i++) { /* each user's list kept as pred_scores_kept keeps it */
        size_t w = users[i];
        double sc[PK_SLOTS];
        for (size_t e = 0; e < nl[i]; e++)
            sc[e] = p < np && pu[p] == w && pc[p] == list[i][e] ? score[p++]
                                                                 : h->pks[w * PK_SLOTS + kept_slot(h, w, list[i][e])];
        kept_store(h, w, list[i], sc, nl[i]);
    }
    return v;
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
    pred_scores_kept(h, u, list, n + 1 + (h->size[c] > 1), sc);
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
        for (size_t u = 0, ahead = 0; u < N; u++) {
            if (!(full || h->ns[u] > 1.0))
                continue;
            if (h->pk_on && u >= ahead)
                ahead = scores_ahead(h, u, full);
            moved += (size_t)assign_one(h, u, &to, sc, &n);
        }
        for (size_t c = 0; c < h->cap; c++)
            if (h->dirty[c] && h->size[c]) {
                colb__cohort_rebuild(h, c);
                test_members(h, c);
            }
        if (!moved)
            break;
    }
}

/* c2's members into c, and the counts and flags of a merge (the models
 * are the caller's). */
static void merge_members(colb__cohort *h, size_t c, size_t c2)
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
}

static void merge(colb__cohort *h, size_t c, size_t c2)
{
    merge_members(h, c, c2);
    colb__cohort_rebuild(h, c);
}

/* u's shrinkage now into *lc (its cluster's, raised to SHRINK_FLOOR times
 * V's largest diagonal entry, *vmax) and whether M_u must be rebuilt for it
 * (lc finite and lamu[u] not within SHRINK_SLACK of it; INFINITY: no
 * personal part). */
static int personal_stale(const colb__cohort *h, size_t u, double *lc, double *vmax)
{
    size_t d = h->d;
    const double *V = h->u.V + u * d * d;
    double l = h->shrink[h->label[u]], vm = 0.0;
    *lc = l;
    *vmax = 0.0;
    if (!isfinite(l))
        return 0;
    for (size_t a = 0; a < d; a++)
        vm = V[a * d + a] > vm ? V[a * d + a] : vm;
    if (l > 0.0 && l < SHRINK_FLOOR * vm)
        l = SHRINK_FLOOR * vm;
    *lc = l;
    *vmax = vm;
    return !isfinite(h->lamu[u]) || l > SHRINK_SLACK * h->lamu[u] || h->lamu[u] > SHRINK_SLACK * l;
}

/* M of users us[0..n) (n <= COLB__CHOL_BATCH) rebuilt for their
 * shrinkages lc[] (personal_stale's, with V's largest diagonal entries
 * vmax[]): M_u = (V_u + (lc - lambda) I)^{-1} (colb__spd_inverse's bits,
 * the n inverses at once: spd_inverse_n), lamu[u] = lc; a user whose
 * factor fails or has a pivot below SHRINK_FLOOR vmax / 2 gets lamu[u] =
 * INFINITY (its estimate is then its centre). scratch: 2 n d^2 doubles. */
static void rebuild_personal(colb__cohort *h, const size_t *us, const double *lc, const double *vmax,
                             size_t n, double *scratch)
{
    size_t d = h->d, dd = d * d;
    double lam = h->u.p.lambda, dmin2[COLB__CHOL_BATCH];
    const double *G[COLB__CHOL_BATCH] = { 0 };
    double *X[COLB__CHOL_BATCH] = { 0 };
    int fail[COLB__CHOL_BATCH];
    for (size_t m = 0; m < n; m++) {
        double *g = scratch + 2 * m * dd;
        memcpy(g, h->u.V + us[m] * dd, dd * sizeof(double));
        for (size_t a = 0; a < d; a++)
            g[a * d + a] += lc[m] - lam;
        G[m] = g;
        X[m] = g + dd;
    }
    h->kern->spd_inverse_n(G, n, d, X, dmin2, fail);
    for (size_t m = 0; m < n; m++) {
        size_t u = us[m];
        if (fail[m] || dmin2[m] < 0.5 * SHRINK_FLOOR * vmax[m]) { /* singular */
            h->lamu[u] = INFINITY;
            continue;
        }
        memcpy(h->M + u * dd, X[m], dd * sizeof(double)); /* exactly symmetric */
        h->lamu[u] = lc[m];
    }
}

void colb__cohort_personal_rebuilds(colb__cohort *h, const size_t *us, size_t n)
{
    size_t b[COLB__CHOL_BATCH], nb = 0;
    double lc[COLB__CHOL_BATCH], vmax[COLB__CHOL_BATCH];
    for (size_t i = 0; i <= n; i++) {
        if (i < n) {
            size_t u = us ? us[i] : i;
            if (personal_stale(h, u, &lc[nb], &vmax[nb]))
                b[nb++] = u;
        }
        if (nb == COLB__CHOL_BATCH || (i == n && nb)) {
            rebuild_personal(h, b, lc, vmax, nb, h->pbuf);
            nb = 0;
        }
    }
}

void colb__cohort_personal(colb__cohort *h, size_t u, const double *centre)
{
    double lc, vmax;
    if (personal_stale(h, u, &lc, &vmax)) /* scratch clear of the centre (maintain's work + 8 d + 2 d^2) */
        rebuild_personal(h, &u, &lc, &vmax, 1, h->work + 3 * h->d);
    colb__cohort_personal_from(h, u, centre);
}

void colb__cohort_personal_from(colb__cohort *h, size_t u, const double *centre)
{
    size_t d = h->d;
    double lam = h->u.p.lambda;
    double *M = h->M + u * d * d, *thu = h->th + u * d, *r = h->work, *z = r + d;
    const double *V = h->u.V + u * d * d, *b = h->u.b + u * d;
    /* no personal part: none for the cluster (personal_stale's lc is then
     * infinite), or a rebuild that failed (singular, or a shrinkage raised
     * to infinity by an overflowed V, which computed th from that M) */
    if (!isfinite(h->shrink[h->label[u]]) || !isfinite(h->lamu[u])) {
        h->lamu[u] = INFINITY;
        memcpy(thu, centre, d * sizeof(double));
        return;
    }
    /* th = centre + M (b - G centre): r = b + lambda centre - V centre,
     * V's columns (= rows) in order (the kernel adds V (-centre)) */
    double *nc = z + d;
    for (size_t a = 0; a < d; a++) {
        r[a] = b[a] + lam * centre[a];
        nc[a] = -centre[a];
    }
    h->kern->symv(V, d, nc, r);
    /* z = M r (colb__matvec's sums: colsum is symv from 0 without first
     * storing the zeros) */
    h->kern->colsum(M, d, r, d, d, z);
    for (size_t a = 0; a < d; a++)
        thu[a] = centre[a] + z[a];
}

/* Scores that a k-means step of u computed for clusters it is not a
 * member of, still valid (those clusters, their sizes and u's data
 * unchanged since): the clusters pc[0..n) and their scores ps. */
typedef struct score_pool {
    size_t n, pc[CANDIDATES];
    double ps[CANDIDATES];
} score_pool;

/* The centre of user u: its cluster's model or, while the assignment is
 * uncertain (the best other cluster scored within SOFT_GAP when last
 * checked, or its cluster changed in this epoch), the mixture of
 * the candidate clusters' models weighted by their predictive scores
 * (softmax of -score/2, the posterior under the scores' model). `known`:
 * NULL, or those scores (own, then n_known candidates in h->cand) as
 * assign_one has just computed them with nothing changed since. pool
 * (may be NULL): scores of other clusters still valid, taken instead of
 * computing them again (pred_scores computes each cluster's score on its
 * own: the same bits). */
static const double *centre_of(colb__cohort *h, size_t u, double *out, const double *known,
                               size_t n_known, const score_pool *pool)
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
        /* the scores not in the pool, computed together, then put in place */
        size_t m = 0, at[CANDIDATES + 1];
        double fresh[CANDIDATES + 1];
        n = candidates(h, h->th + u * d, c);
        list[m] = c;
        at[m++] = 0;
        for (size_t i = 0; i < n; i++) {
            size_t j = 0;
            while (pool && j < pool->n && pool->pc[j] != h->cand[i])
                j++;
            if (pool && j < pool->n) {
                scores[i + 1] = pool->ps[j];
            } else {
                list[m] = h->cand[i];
                at[m++] = i + 1;
            }
        }
        pred_scores_kept(h, u, list, m, fresh);
        for (size_t i = 0; i < m; i++)
            scores[at[i]] = fresh[i];
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

/* The verdicts on the pending splits of clusters cs[0..n) (n <=
 * COLB__WALD_BATCH) from their sides' fresh models, whose inverses are
 * refreshed first, all in one batch (and the Wald tests in another):
 * SPLIT when the sides differ, GIVE_UP once the fresh data equal the data
 * the proposal used, else KEEP. */
static void pending_verdicts(colb__cohort *h, const size_t *cs, size_t n, int *verdict)
{
    size_t idx[2 * COLB__WALD_BATCH] = { 0 }, i0s[COLB__WALD_BATCH], i1s[COLB__WALD_BATCH], nr = 0;
    double W[COLB__WALD_BATCH];
    for (size_t m = 0; m < n; m++) {
        for (size_t i = 2 * cs[m]; i < 2 * cs[m] + 2; i++)
            if (h->f.since_refresh[i])
                idx[nr++] = i;
        i0s[m] = 2 * cs[m];
        i1s[m] = 2 * cs[m] + 1;
    }
    colb__cohort_refresh(h, &h->f, idx, nr);
    colb__cohort_wald_pairs(h, &h->f, i0s, &h->f, i1s, n, W);
    for (size_t m = 0; m < n; m++) {
        size_t c = cs[m];
        verdict[m] = W[m] > colb__cohort_chi_thr(h) ? SPLIT
                     : h->f.count[2 * c] + h->f.count[2 * c + 1] >= h->prop_count[c] ? GIVE_UP
                                                                                     : KEEP;
    }
}

/* The verdict on c's pending split (pending_verdicts). */
static int pending_verdict(colb__cohort *h, size_t c)
{
    int v;
    pending_verdicts(h, &c, 1, &v);
    return v;
}

/* Whether step 3 would propose a split of c. */
static int proposal_due(const colb__cohort *h, size_t c)
{
    return h->size[c] >= 2 && !h->pending[c] && h->c.count[c] >= h->next_try[c];
}

/* The O(1) checks first: a proposal due, or a pending split whose fresh
 * data have reached the proposal's (its verdict is SPLIT or GIVE_UP,
 * either way not KEEP); only then the pending splits' Wald tests. (The
 * fresh models a test refreshes are refreshed by the epoch's verdict
 * otherwise, from the same V and b: the same bits.) */
int colb__cohort_splits_due(colb__cohort *h)
{
    for (size_t c = 0; c < h->cap; c++)
        if (h->size[c] && (proposal_due(h, c) ||
                           (h->pending[c] &&
                            h->f.count[2 * c] + h->f.count[2 * c + 1] >= h->prop_count[c])))
            return 1;
    /* the tests of COLB__WALD_BATCH pending splits at a time (every cluster
     * has one pending most of the time): their factors are then batched,
     * in lanes on AVX-512; the answer is that of testing one at a time up
     * to the first verdict that is not KEEP */
    size_t cs[COLB__WALD_BATCH], n = 0;
    for (size_t c = 0; c <= h->cap; c++) {
        if (c < h->cap && !(h->size[c] && h->pending[c]))
            continue;
        if (c < h->cap)
            cs[n++] = c;
        if (n == COLB__WALD_BATCH || (c == h->cap && n)) {
            int v[COLB__WALD_BATCH];
            pending_verdicts(h, cs, n, v);
            for (size_t m = 0; m < n; m++)
                if (v[m] != KEEP)
                    return 1;
            n = 0;
        }
    }
    return 0;
}

/* u's personal estimate about its centre (centre_of), the centre's offset
 * from u's cluster model kept for the observations before the next epoch
 * (colb__cohort_centre); current: M_u is (colb__cohort_personal_rebuilds
 * ran since the shrinkage and u's data last changed). */
static void personal_about(colb__cohort *h, size_t u, const double *centre, int current)
{
    size_t d = h->d;
    const double *tc = h->c.theta + h->label[u] * d;
    double *off = h->off + u * d;
    for (size_t k = 0; k < d; k++)
        off[k] = centre == tc ? 0.0 : centre[k] - tc[k];
    if (current)
        colb__cohort_personal_from(h, u, centre);
    else
        colb__cohort_personal(h, u, centre);
}

const double *colb__cohort_centre(colb__cohort *h, size_t u, double *out)
{
    size_t d = h->d;
    const double *tc = h->c.theta + h->label[u] * d, *off = h->off + u * d;
    if (h->kern->bounded(off, d, 0.0)) /* every |off_k| <= 0: no offset (NaN: one) */
        return tc;
    for (size_t k = 0; k < d; k++)
        out[k] = tc[k] + off[k];
    return out;
}

/* The clusters' steps of an epoch, in slices: each runs over the cluster
 * slots from h->end_c while h->budget lasts (a unit of work is about one
 * member visited by a 2-means pass, O(d^2): a dot product of its V; a
 * member's score test is TEST_UNITS of them), and returns 1 when complete.
 * A cluster's pending verdict and its merge tests are done whole; a
 * retest, a split and a merge go by members (whole clusters in slices,
 * below), and a proposal may stop at any member (propose_step). The epoch at once (colb__cohort_maintain)
 * runs the same steps in the same order with an unbounded budget, each
 * cluster's work whole (a merge's retest right after it; in slices
 * END_MERGE_TEST retests the merged clusters after the merges). */
enum { END_NONE, END_PENDING, END_TEST, END_PROPOSE, END_RETEST, END_MERGE, END_MERGE_TEST };

static void end_next(colb__cohort *h, uint64_t step)
{
    h->end_step = step;
    h->end_c = 0;
}

/* ---- whole clusters in slices ---------------------------------------------- */

/* In an epoch in slices, the work that visits every member of a cluster -
 * a retest (score tests and spread), the carrying out of a split, a merge
 * - does not run whole in one call either: with clusters of thousands it
 * was the only work of a service's call above 2 ms of CPU (a retest of
 * 10,000 members 3.7 ms, a merge and its retest 5.9 ms, a split's two
 * rebuilds 2.3 ms; docs/cohort.md §3). A retest visits the members while
 * the budget lasts (a unit a member) and resumes at the next call, the
 * cluster's part of the test taken from its model as it stands at each
 * slice; a split moves its side-1 members to the new cluster a slice at a
 * time, each member's data out of one pooled model and into the other
 * (O(d^2), as a member that moves in a sweep), both refreshed at the
 * slice's end; a merge adds the second cluster's pooled model to the first
 * (O(d^2 + members) instead of a rebuild) and leaves the first's retest to
 * END_MERGE_TEST, after the merges. Between two slices the partition and
 * the pooled models agree: a moved member is in the new cluster and in its
 * model, the others in the old. The cursors and sums are state (saved in
 * snapshots). The epoch at once (the simulator's rounds: at_once) keeps
 * test_members, do_split and merge, the same bits as before. */

/* c's model refreshed from its V (no data: the prior exactly, as
 * move_pooled leaves a cluster without data). */
static void pooled_refresh(colb__cohort *h, size_t c)
{
    if (h->c.count[c])
        refresh(h, &h->c, c);
    else
        colb__ridge_reset(&h->c, c);
    colb__cohort_touch(h, c);
}

/* Start a retest of c (run by retest_run). */
static void retest_start(colb__cohort *h, size_t c)
{
    h->rc = c;
    h->rcur = 1 + h->head[c];
    h->rsum[0] = h->rsum[1] = 0.0;
}

/* The units of a member's score test in a retest (and of the cluster's
 * part): measured, ~0.6 us against ~0.1 us a 2-means visit (d = 15,
 * bench_updates' service load). At one unit a member the retests after a
 * sweep cost 5 times the proposals' CPU a call. */
#define TEST_UNITS 6

/* The retest under way while the budget lasts (test_members' steps); 1 when
 * it is complete: c's spread and its members' normalised statistics set. */
static int retest_run(colb__cohort *h)
{
    size_t c = h->rc;
    double *pre = test_pre(h);
    colb__cohort_score_prep(h, &h->c, c, pre);
    h->budget -= TEST_UNITS;
    for (size_t u = h->rcur - 1; u != NONE; u = h->next[u], h->budget -= TEST_UNITS) {
        if (h->budget <= 0) {
            h->rcur = 1 + u;
            return 0;
        }
        member_test(h, c, u, pre, h->rsum);
    }
    members_tested(h, c, h->rsum); /* O(1) a member */
    h->budget -= (int64_t)(h->size[c] / 16);
    h->rcur = 0;
    return 1;
}

/* The split under way while the budget lasts (and at least until the new
 * cluster has a member, so that its slot is never free between calls); 1
 * when every member has been visited. */
static int split_run(colb__cohort *h)
{
    size_t c = h->sc, c2 = h->sc2, u = h->scur - 1, seen = 0;
    while (u != NONE && (h->budget > 0 || !h->size[c2])) {
        size_t nx = h->next[u];
        if (h->side[u]) {
            colb__cohort_unlink(h, u);
            colb__cohort_link(h, u, c2);
            colb__ridge_unabsorb(&h->c, c, &h->u, u);
            colb__ridge_absorb(&h->c, c2, &h->u, u);
            h->budget -= 2;
        } else if (++seen % 16 == 0) {
            h->budget--;
        }
        u = nx;
    }
    pooled_refresh(h, c);
    pooled_refresh(h, c2);
    h->budget -= 2 * (int64_t)h->d;
    h->scur = u == NONE ? 0 : 1 + u;
    return u == NONE;
}

/* Start carrying out c's pending split (do_split's decisions; the moves by
 * split_run): side 1 becomes a new cluster. */
static void split_start(colb__cohort *h, size_t c)
{
    h->pending[c] = 0;
    size_t n1 = 0;
    for (size_t u = h->head[c]; u != NONE; u = h->next[u])
        n1 += h->side[u];
    h->budget -= (int64_t)(h->size[c] / 16 + 1);
    if (!n1 || n1 == h->size[c]) /* everyone on one side by now */
        return;
    size_t c2 = colb__cohort_new_slot(h);
    if (c2 == NONE)
        return;
    h->nc++;
    h->splits++;
    h->dirty[c] = h->dirty[c2] = h->changed[c] = h->changed[c2] = 1;
    h->next_try[c] = h->next_try[c2] = 0;
    h->sc = c;
    h->sc2 = c2;
    h->scur = 1 + h->head[c];
    split_run(h); /* its first slice now: the new slot has a member from the start */
}

void colb__cohort_users_joined(colb__cohort *h, size_t from, size_t to)
{
    if (!h->rcur || from >= to || h->label[from] != h->rc)
        return;
    double *pre = test_pre(h);
    colb__cohort_score_prep(h, &h->c, h->rc, pre);
    for (size_t u = from; u < to; u++) /* no data: nothing added to the sums */
        member_test(h, h->rc, u, pre, h->rsum);
}

/* Merge c2 into c by their pooled models; c's retest waits for
 * END_MERGE_TEST (its dirty flag). */
static void merge_pooled(colb__cohort *h, size_t c, size_t c2)
{
    colb__ridge_absorb(&h->c, c, &h->c, c2);
    merge_members(h, c, c2);
    h->dirty[c] = 1;
    colb__ridge_reset(&h->c, c2);
    colb__cohort_touch(h, c2);
    pooled_refresh(h, c);
}

/* The whole-cluster work under way, while the budget lasts; 1 when none
 * is left. */
static int parts_run(colb__cohort *h)
{
    if (h->scur && !split_run(h))
        return 0;
    return !h->rcur || retest_run(h);
}

/* Steps 2 and 3: pending splits; the retests of the clusters they changed;
 * proposals (an overwhelming one splits at once, the changed clusters are
 * retested and the proposals rescanned: the parts may split again). Ends
 * at END_MERGE. A retest clears the cluster's dirty flag: a cluster split
 * early in the epoch is not retested after every later split (the same
 * members, model and data: the same bits in the epoch at once). */
static int split_steps(colb__cohort *h)
{
    int64_t d = (int64_t)h->d;
    while (h->budget > 0) {
        size_t c = h->end_c;
        if (h->scur || h->rcur) { /* a split or retest under way first */
            if (!parts_run(h))
                return 0;
            continue;
        }
        if (h->end_step == END_PENDING) {
            if (c == h->cap) {
                end_next(h, END_TEST);
                continue;
            }
            h->end_c++;
            if (!h->pending[c])
                continue;
            h->budget -= 2 * d;
            int v = pending_verdict(h, c);
            if (v == SPLIT && !h->at_once) {
                split_start(h, c);
            } else if (v == SPLIT) {
                h->budget -= 3 * (int64_t)h->size[c];
                do_split(h, c);
            } else if (v == GIVE_UP) {
                h->pending[c] = 0;
                h->next_try[c] = h->c.count[c];
            }
        } else if (h->end_step == END_TEST || h->end_step == END_RETEST) {
            if (c == h->cap) {
                end_next(h, END_PROPOSE);
                continue;
            }
            h->end_c++;
            if (h->dirty[c] && h->size[c] && !h->at_once) {
                retest_start(h, c);
            } else if (h->dirty[c] && h->size[c]) {
                h->budget -= (int64_t)h->size[c];
                test_members(h, c);
            }
            h->dirty[c] = 0; /* tested: a retest gives the same until c changes */
        } else if (h->end_step == END_PROPOSE) {
            if (c == h->cap) {
                end_next(h, END_MERGE);
                return 1;
            }
            double W;
            if (h->pstage == PS_IDLE && !proposal_due(h, c)) {
                h->end_c++;
                continue;
            }
            if (!propose_step(h, c, &W))
                return 0;
            h->end_c++;
            if (W <= 0.0) {
                h->next_try[c] = 2 * h->c.count[c] + 1;
            } else if (W > SEL_PER_USER * (double)h->size[c] + SEL_PER_DIM * (double)h->d) {
                if (h->at_once) {
                    h->budget -= 3 * (int64_t)h->size[c];
                    do_split(h, c);
                } else {
                    split_start(h, c);
                }
                end_next(h, END_RETEST);
            }
        } else {
            return 1;
        }
    }
    return h->end_step == END_MERGE;
}

/* Step 5: merges (the changed clusters, or every one when `all`). */
static int merge_steps(colb__cohort *h, int all)
{
    for (; h->end_c < h->cap; h->end_c++) {
        size_t c = h->end_c;
        if (!h->size[c] || (!all && !h->changed[c]))
            continue;
        if (h->budget <= 0)
            return 0;
        size_t n = candidates(h, h->c.theta + c * h->d, c);
        h->budget -= (int64_t)(n * h->d);
        /* the Wald statistics of the candidates a batch at a time (their
         * factorisations interleaved: colb__cohort_wald_n), those after a
         * merge again with c's new model; Ws[i] valid for i < done */
        double Ws[CANDIDATES];
        size_t done = 0;
        for (size_t i = 0; i < n && h->size[c]; i++) {
            size_t c2 = h->cand[i];
            if (!h->size[c2])
                continue;
            if (i >= done) {
                size_t m = 0, idx[MERGE_AHEAD];
                for (done = i; done < n && m < MERGE_AHEAD; done++)
                    if (h->size[h->cand[done]])
                        idx[m++] = h->cand[done];
                double w[MERGE_AHEAD];
                colb__cohort_wald_n(h, &h->c, c, &h->c, idx, m, w);
                for (size_t j = i, k = 0; j < done; j++)
                    if (h->size[h->cand[j]])
                        Ws[j] = w[k++];
            }
            /* merge when the self-normalised bound cannot separate them
             * AND neither could the split test: a merge threshold above the
             * split threshold would undo a fresh split in the same epoch
             * (measured: 1,537 splits and 1,505 merges in 1,000 rounds at
             * sigma = 1, sigma_theta = 0.3; 51 and 1 with this rule, regret
             * within 2%) */
            double W = Ws[i];
            double thr = colb__cohort_oful_thr(h, &h->c, c, &h->c, c2);
            if (thr > colb__cohort_chi_thr(h))
                thr = colb__cohort_chi_thr(h);
            if (W <= thr && !h->at_once) {
                h->budget -= (int64_t)(h->size[c2] / 16 + 2 * h->d);
                merge_pooled(h, c, c2);
                done = i + 1;
            } else if (W <= thr) {
                h->budget -= 3 * (int64_t)(h->size[c] + h->size[c2]);
                merge(h, c, c2);
                test_members(h, c);
                done = i + 1; /* c changed: the statistics after i are stale */
            }
        }
    }
    return 1;
}

/* Step 5's retests in slices: the clusters merges changed (dirty). 1 when
 * complete. */
static int merge_tests(colb__cohort *h)
{
    while (h->budget > 0) {
        if (h->rcur) {
            if (!retest_run(h))
                return 0;
            continue;
        }
        if (h->end_c == h->cap)
            return 1;
        size_t c = h->end_c++;
        if (h->dirty[c] && h->size[c])
            retest_start(h, c);
        h->dirty[c] = 0;
    }
    return !h->rcur && h->end_c == h->cap;
}

static void set_shrinkage(colb__cohort *h)
{
    for (size_t c = 0; c < h->cap; c++)
        if (h->size[c])
            h->shrink[c] = h->personal && h->tau2[c] > 0.0 ? h->R * h->R / h->tau2[c] : INFINITY;
}

/* The epoch's kept scores, empty, for every user: 1, or 0 when they do
 * not fit (COLB__COHORT_PK_MAX_USERS, or out of memory: the scores are
 * then computed each time, the same values). */
static int keep_scores(colb__cohort *h)
{
    if (h->N == 0 || h->N > COLB__COHORT_PK_MAX_USERS)
        return 0;
    if (h->pk_users < h->N) {
        if (colb__realloc_n(&h->pkc, h->N, PK_SLOTS * sizeof(size_t)) ||
            colb__realloc_n(&h->pkv, h->N, PK_SLOTS * sizeof(uint64_t)) ||
            colb__realloc_n(&h->pks, h->N, PK_SLOTS * sizeof(double)) ||
            colb__realloc_n(&h->pkn, h->N, 1))
            return 0; /* the arrays grown so far are merely larger: pk_users stands */
        h->pk_users = h->N;
    }
    memset(h->pkn, 0, h->N);
    return 1;
}

void colb__cohort_maintain(colb__cohort *h)
{
    size_t cap = h->cap, N = h->N;
    int early = h->epoch < EARLY_EPOCHS || is_pow2(h->epoch);
    if (h->estimate) { /* and a later sweep starts from this R, not from older sums */
        h->R = colb__cohort_noise_estimate(h);
        h->nsum[0] = h->nsum[1] = 0.0;
    }
    memset(h->dirty, 0, cap);
    memset(h->changed, 0, cap);
    /* 1. members against their clusters, spreads */
    for (size_t c = 0; c < h->cap; c++)
        if (h->size[c])
            test_members(h, c);
    h->budget = INT64_MAX;
    h->at_once = 1;
    h->pk_on = !h->recompute_centres && keep_scores(h);
    end_next(h, END_PENDING);
    split_steps(h);
    /* 4. assignment */
    assign(h, early);
    end_next(h, END_MERGE);
    merge_steps(h, early);
    end_next(h, END_NONE);
    /* 6. shrinkage and personal estimates (the personal models the new
     * shrinkages make stale rebuilt first, 8 at a time) */
    set_shrinkage(h);
    colb__cohort_personal_rebuilds(h, NULL, N);
    double *centre = h->work + 8 * h->d + 2 * h->d * h->d; /* clear of pred_score's */
    for (size_t u = 0; u < N; u++)
        personal_about(h, u, centre_of(h, u, centre, NULL, 0, NULL), 1);
    h->pk_on = 0;
    h->at_once = 0;
}

/* A member moving in a sweep: the two pooled models change by its data
 * alone (O(d^3)), not by a rebuild from every member. */
static void move_pooled(colb__cohort *h, size_t u, size_t from, size_t to)
{
    colb__ridge_unabsorb(&h->c, from, &h->u, u);
    colb__ridge_absorb(&h->c, to, &h->u, u);
    /* a cluster left without data (its members have none yet: a service's
     * users before their first reward) is its prior exactly, not the
     * rounding the subtraction left - with a small lambda and large
     * contexts that rounding is no longer positive definite */
    if (h->size[from] && h->c.count[from])
        refresh(h, &h->c, from);
    else
        colb__ridge_reset(&h->c, from);
    refresh(h, &h->c, to);
    colb__cohort_touch(h, from);
    colb__cohort_touch(h, to);
}

int colb__cohort_sweep(colb__cohort *h, size_t n, size_t units)
{
    size_t N = h->N, d = h->d, to;
    int early = h->epoch < EARLY_EPOCHS || is_pow2(h->epoch);
    double *pre = h->work + 9 * d + 2 * d * d, *centre = h->work + 8 * d + 2 * d * d;
    double sc[CANDIDATES + 2];
    h->budget = (int64_t)units;
    if (h->end_step)
        goto clusters;
    if (!h->sweep) { /* a new epoch */
        /* R from the last sweep's sums (none yet: R stands), so that the
         * whole epoch - its members' spreads and its clusters' steps - uses
         * one R, as an epoch at once does */
        if (h->estimate && h->nsum[1] > 0.0)
            h->R = colb__cohort_noise_of(h, h->nsum);
        h->nsum[0] = h->nsum[1] = 0.0;
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
        /* the noise estimate's sums as the sweep goes (an epoch at once
         * sums every user at its start: one call of a service's rounds
         * would pay O(N d^3)); R changes at the next sweep's start */
        if (h->estimate)
            colb__cohort_noise_terms(h, u, h->nsum);
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
        score_pool pool = { 0 };
        if (early || h->ns[u] > 1.0) {
            if (assign_one(h, u, &to, sc, &n_known)) {
                /* the candidates' scores but those of the two clusters
                 * it left and joined stay valid for its centre */
                for (size_t i = 0; i < n_known && !h->recompute_centres; i++)
                    if (h->cand[i] != to) {
                        pool.pc[pool.n] = h->cand[i];
                        pool.ps[pool.n++] = sc[i + 1];
                    }
                move_pooled(h, u, c, to);
            } else if (!h->recompute_centres) {
                known = sc;
            }
        }
        personal_about(h, u, centre_of(h, u, centre, known, n_known, &pool), 0);
    }
    if (h->sweep <= N)
        return 0;
    /* the clusters' steps, in slices of the same budget */
    for (size_t c = 0; c < h->cap; c++)
        if (h->size[c]) {
            double num = h->acc[2 * c], den = h->acc[2 * c + 1];
            h->tau2[c] = h->size[c] > 1 && den > 0.0 && num > 0.0 ? num / den : 0.0;
        }
    memset(h->dirty, 0, h->cap);
    end_next(h, END_PENDING);
clusters:
    if (h->end_step < END_MERGE && !split_steps(h))
        return 0;
    if (h->end_step == END_MERGE) {
        if (!merge_steps(h, early))
            return 0;
        end_next(h, END_MERGE_TEST);
    }
    if (!merge_tests(h))
        return 0;
    set_shrinkage(h);
    end_next(h, END_NONE);
    h->sweep = 0;
    return 1;
}

/* ---- the clusters' steps in snapshots ------------------------------------- */

#define END_FIELDS 14

/* The members a retest under way has visited: those before its cursor in
 * its cluster's member list (0 when none is under way). */
static size_t retest_visited(const colb__cohort *h)
{
    size_t n = 0;
    for (size_t u = h->rcur ? h->head[h->rc] : NONE; u != NONE && u != h->rcur - 1; u = h->next[u])
        n++;
    return n;
}

void colb__cohort_save_steps(const colb__cohort *h, colb__snap_out *w)
{
    size_t d = h->d;
    int on = h->pstage != PS_IDLE;
    const uint64_t e[END_FIELDS] = { h->end_step, h->end_c, h->pstage, h->pc, h->pm, h->pi, h->pit,
                                     h->pcur, h->pna, h->pnb, h->pchanged,
                                     h->pbi == NONE ? 0 : h->pbi + 1, h->pstride, h->pn };
    colb__snap_u64s(w, "end_state", e, END_FIELDS);
    colb__snap_sizes(w, "proposal_seeds", h->pseed, on ? h->pm : 0);
    colb__snap_sizes(w, "proposal_sample", h->psample, on ? h->pn : 0);
    double *v = h->work; /* the best W, the pass's models, the best seed's */
    v[0] = h->pbest;
    memcpy(v + 1, h->pold, 4 * d * sizeof(double));
    colb__snap_f64s(w, "proposal_models", v, 1 + 4 * d);
    colb__snap_bytes(w, "end_dirty", h->dirty, h->end_step ? h->cap : 0);
    colb__ridge_save(w, "proposal_sums", &h->s, 2);
    /* a retest or a split under way (whole clusters in slices); at rest 0 */
    const uint64_t parts[5] = { h->rcur, h->rcur ? h->rc : 0, h->scur, h->scur ? h->sc : 0,
                                h->scur ? h->sc2 : 0 };
    colb__snap_u64s(w, "end_parts", parts, 5);
    colb__snap_f64s(w, "end_part_sums", h->rcur ? h->rsum : (const double[2]){ 0.0, 0.0 }, 2);
    /* the retest's statistics of the members it has visited, in member
     * order (its last slice reads them all) */
    colb__snap_array_begin(w, "end_part_pieces", COLB__SNAP_F64, 5 * (uint64_t)retest_visited(h));
    for (size_t u = h->rcur ? h->head[h->rc] : NONE; u != NONE && u != h->rcur - 1; u = h->next[u])
        colb__snap_put_f64s(w, h->pieces + 5 * u, 5);
    colb__snap_array_end(w);
}

/* The retest or split under way (end_parts, end_part_sums, and the
 * statistics of the members a retest has visited, end_part_pieces; absent in older
 * snapshots: none), checked against the loaded state: a retest only in the
 * steps that retest, of a cluster with members, at one of them; a split only
 * in the steps that split, from a cluster with members to another with
 * members, at a member of the first; never both, nor with a proposal. */
static colb_status load_parts(colb__cohort *h, colb__snap_in *in, const colb__snap_group *g)
{
    uint64_t e[5];
    colb__snap_field f;
    colb_status st;
    h->rcur = h->scur = 0;
    if (colb__snap_find(g, "end_parts", &f) != COLB_OK)
        return COLB_OK;
    if ((st = colb__snap_get_u64s(in, g, "end_parts", e, 5)) ||
        (st = colb__snap_get_f64s(in, g, "end_part_sums", h->rsum, 2, 0)))
        return st;
    uint64_t N = h->N, cap = h->cap, step = h->end_step;
    int bad = (e[0] && e[2]) || ((e[0] || e[2]) && h->pstage != PS_IDLE);
    if (!bad && e[0])
        bad = (step != END_TEST && step != END_RETEST && step != END_MERGE_TEST) || e[1] >= cap ||
              !h->size[e[1]] || e[0] - 1 >= N || h->label[e[0] - 1] != e[1];
    else if (!bad)
        bad = e[1] || h->rsum[0] != 0.0 || h->rsum[1] != 0.0;
    if (!bad && e[2])
        bad = (step != END_PENDING && step != END_RETEST) || e[3] >= cap || e[4] >= cap || e[3] == e[4] ||
              !h->size[e[3]] || !h->size[e[4]] || e[2] - 1 >= N || h->label[e[2] - 1] != e[3];
    else if (!bad)
        bad = e[3] || e[4];
    if (bad)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: %s.end_parts is not a retest or split "
                                "under way in cohort's epoch", g->path);
    h->rcur = e[0], h->rc = e[1], h->scur = e[2], h->sc = e[3], h->sc2 = e[4];
    /* the visited members' statistics (the cursor is one of c's members, so
     * the walk ends) */
    size_t nv = retest_visited(h);
    double *pc = nv ? colb__malloc(5 * nv, sizeof(double)) : NULL;
    if (nv && !pc)
        return colb__snap_error(in, COLB_ENOMEM, "out of memory loading cohort");
    st = colb__snap_get_f64s(in, g, "end_part_pieces", pc, 5 * nv, 0);
    for (size_t u = nv ? h->head[h->rc] : NONE, i = 0; st == COLB_OK && i < nv; u = h->next[u], i++)
        memcpy(h->pieces + 5 * u, pc + 5 * i, 5 * sizeof(double));
    free(pc);
    return st;
}

colb_status colb__cohort_load_steps(colb__cohort *h, colb__snap_in *in, const colb__snap_group *g,
                                    const colb_learner_params *lp)
{
    size_t d = h->d, N = h->N;
    uint64_t e[END_FIELDS];
    colb__snap_field f;
    if (colb__snap_find(g, "end_state", &f) != COLB_OK) /* older snapshots: none under way */
        return COLB_OK;
    colb_status st = colb__snap_get_u64s(in, g, "end_state", e, END_FIELDS);
    if (st != COLB_OK)
        return st;
    h->end_step = e[0], h->end_c = e[1], h->pstage = e[2], h->pc = e[3], h->pm = e[4];
    h->pi = e[5], h->pit = e[6], h->pcur = e[7], h->pna = e[8], h->pnb = e[9];
    h->pchanged = e[10], h->pbi = e[11] ? e[11] - 1 : NONE, h->pstride = e[12], h->pn = e[13];
    int on = h->pstage != PS_IDLE;
    /* what the steps index with: cursors within the slots, users and
     * sample, a proposal only in the proposals' step of a sweep, on a
     * cluster with members */
    int bad = h->end_step > END_MERGE_TEST || (h->end_step && !h->sweep) || h->end_c > h->cap ||
              h->pstage > PS_FULL;
    if (!bad && on)
        bad = h->end_step != END_PROPOSE || h->pc != h->end_c || h->pc >= h->cap ||
              !h->size[h->pc] || h->pm < 1 || h->pm > h->seeds || h->pi > h->pm ||
              (h->pstage == PS_PASS && h->pit >= TWO_MEANS_ITERS) || h->pchanged > 1 || h->pstride < 1 ||
              h->pn > SAMPLE_MAX || (h->pstride > 1) != (h->pn > 0) ||
              (h->pbi != NONE && h->pbi >= h->pm) ||
              ((h->pi == h->pm || h->pstage == PS_FULL) && h->pbi == NONE) ||
              (h->pstage == PS_FULL && h->pstride < 2) || h->pna > N || h->pnb > N ||
              (h->pstage == PS_PASS && h->pstride > 1 ? h->pcur > h->pn
                                                       : h->pcur && (h->pcur - 1 >= N ||
                                                                     h->label[h->pcur - 1] != h->pc));
    if (bad)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: %s.end_state is not a state of cohort's "
                                "epoch", g->path);
    if ((st = colb__snap_get_sizes(in, g, "proposal_seeds", h->pseed, on ? h->pm : 0, N)) ||
        (st = colb__snap_get_sizes(in, g, "proposal_sample", h->psample, on ? h->pn : 0, N)) ||
        (st = colb__snap_get_f64s(in, g, "proposal_models", h->work, 1 + 4 * d, 1)))
        return st;
    /* the best W may be infinite (a noise scale R of 0), the models not */
    if (isnan(h->work[0]) || !colb__finite(h->work + 1, 4 * d))
        return colb__snap_error(in, COLB_EPARSE, "snapshot: %s.proposal_models holds a NaN or "
                                "infinity", g->path);
    colb__snap_field fd;
    size_t nd = h->end_step ? h->cap : 0;
    if ((st = colb__snap_field_of(in, g, "end_dirty", COLB__SNAP_BYTES, nd, &fd)))
        return st;
    for (size_t c = 0; c < nd; c++) {
        if (fd.data[c] > 1)
            return colb__snap_error(in, COLB_EPARSE, "snapshot: %s.end_dirty holds %u", g->path,
                                    fd.data[c]);
        h->dirty[c] = fd.data[c];
    }
    for (size_t i = 0; i < (on ? h->pn : 0); i++)
        if (h->label[h->psample[i]] != h->pc)
            return colb__snap_error(in, COLB_EPARSE, "snapshot: %s.proposal_sample lists a user "
                                    "of another cluster", g->path);
    h->pbest = h->work[0];
    memcpy(h->pold, h->work + 1, 4 * d * sizeof(double));
    colb__ridge_free(&h->s);
    if ((st = colb__ridge_load(in, g, "proposal_sums", &h->s, 2, d, lp, NULL)))
        return st;
    return load_parts(h, in, g);
}
