/* club.c - "club": CLUB, Online Clustering of Bandits (Gentile, Li, Zappella,
 * ICML 2014, Algorithm 1), the baseline of the paper's Section 6, and its
 * tuning by burn-in (colb/tune.h).
 *
 * Every user i keeps M_i = lambda I + sum x x^T, b_i = sum r x, w_i = M_i^{-1}
 * b_i and T_i (times served). The users are the nodes of a graph, initially
 * complete (or Erdos-Renyi with p = 3 ln(N) / N, as in the CLUB paper's
 * experiments); the clusters are its connected components. Serving user i at
 * step t (t counts every user's steps, from 1), with j-hat the component of i:
 *     M = lambda I + sum_{j in j-hat} (M_j - lambda I),  b = sum_{j in j-hat} b_j,
 *     w = M^{-1} b,
 *     play argmax_x  w^T x + alpha sqrt(x^T M^{-1} x ln(t + 1))  (ties: lowest
 *     index).
 * After the reward: update M_i, b_i, w_i, T_i; delete every edge (i, l) with
 *     ||w_i - w_l|| > CB_i + CB_l,  CB_j = alpha2 sqrt((1 + ln(1 + T_j)) / (1 + T_j));
 * deleted edges never come back, and components are recomputed only when an
 * edge was deleted. This is the published algorithm, not the public Python
 * versions (log10, soft edges, edges that return, squared norms in the
 * bonus); see docs/club.md.
 *
 * Exploration width. The bonus above, alpha sqrt(x^T M^-1 x ln(t + 1)), is
 * used only when colb_policy_params.club_own_alpha = 1 (an override: CLUB
 * then explores with a width of its own). By default CLUB explores like
 * every other colb learner, width * ||x||_{M^-1}, with the learners' width
 * (a fixed alpha, or the OFUL radius of the component's aggregate M), so that
 * comparisons measure the algorithms and not their widths
 * (docs/algorithms.md). With Thompson sampling the arm is the argmax of one
 * draw N(w, s^2 M^-1), s the width (or alpha sqrt(ln(t + 1)) with the
 * override).
 *
 * Speed. The aggregate (M, M^{-1}, b, w) of every component is kept in a
 * ridge bank indexed by component: serving user i is one rank-one
 * (Sherman-Morrison) update of i's model and one of its component's, O(d^2),
 * instead of a sum over the component's members (one step when the
 * component is the user alone: its aggregate is the user's model, see
 * aggregate()). Only a deletion that splits
 * the component forces the parts to be rebuilt from their members
 * (O(|part| d^2 + d^3)); a split happens at most N - 1 times in a run. Split
 * detection is a breadth-first search that stops as soon as the deleted
 * neighbours are reached again (club_graph.c). Per step the cost is then
 * O(K d^2) to score the arms for a component's first user of a round and
 * O(K d) for the next ones (the scores are carried through the component's
 * rank-one updates), plus O(deg(i) d) for the edge tests, which are inherent
 * in the algorithm.
 *
 * Users added online are not supported (colb_policy_add_users gives
 * COLB_EUNSUP): the graph only ever loses edges, and a newcomer has no edges
 * to lose and no principled ones to start with - joined to every user it
 * would merge all the components found so far into one (components are
 * connected components), joined to none it would stay alone forever. */
#include "policies/club.h"

#include <string.h>

#include "policies/club_graph.h"
#include "colb/rng.h"
#include "learn/thompson.h"
#include "linalg/ridge.h"
#include "linalg/soa_kernel.h"
#include "policies/bank_persist.h"
#include "policies/policy_impl.h"

/* Most users a CLUB policy accepts: the graph takes N^2 / 8 bytes (512 MiB
 * at this bound) and the two ridge banks 16 N d^2 bytes. */
#define CLUB_MAX_USERS ((size_t)1 << 16)

/* The users' models defer V's rank-one steps in logs of this many contexts
 * (ridge.h, colb__ridge_defer_v): a serve then reads and writes the user's
 * A but not its V, which takes its contexts 8 at a time; only the refresh
 * and the rebuild of an aggregate read V. Measured on Figure 1(e)'s
 * per-user protocol (1,892 users at d = 25, whose models do not stay in
 * the caches): 5 % less time over 2,000 rounds, 12-18 % over its 10,000
 * (docs/performance-history.md, phase 19). The components' models are few and
 * stay in the caches, and deferring theirs was slower on the synthetic
 * settings. */
#define CLUB_VLOG 8

/* Stream of the policy's seed that draws the random initial graph ("CLUB"). */
#define CLUB_STREAM_GRAPH UINT64_C(0x434c5542)

extern const colb__policy_vt colb__policy_club;

typedef struct club {
    colb__ridge users;   /* N models: M_i, M_i^{-1}, b_i, w_i; count = T_i */
    colb__ridge comps;   /* N slots, first g.n_comp used: the component aggregates */
    colb__club_graph g;
    double *cb;          /* N: CB_j for the current T_j */
    double *cbP;         /* N: cbP[q] = cb[g.perm[q]], for the edge scan's runs */
    uint64_t *fbits;     /* N / 64 rounded up: scratch of mark_deletions */
    size_t *del;         /* N: scratch, neighbours whose edge goes */
    size_t *nb, *sidx;   /* N each: scratch of mark_deletions */
    double *dist;        /* N: likewise */
    double *wP;          /* d x N: the users' w_i transposed, column q holding user
                          * g.perm[q], so that a component's members are adjacent */
    float *wF;           /* d x N: wP rounded to float, for the range scan (mark_deletions) */
    float *wuF;          /* d: scratch, w_u rounded to float */
    uint64_t *ubits;     /* N / 64 rounded up: scratch of mark_deletions */
    size_t *pos;         /* N: pos[u] = q with g.perm[q] = u */
    /* The edge scan's certificates (mark_deletions): per component a pivot
     * point (N x d, first g.n_comp rows used), per position q of perm
     * gP[q] = ||w_l - pivot|| - CB_l (1 - 2 CERT_SLACK), l = perm[q], per
     * component an upper bound of its members' gP and the serves since its
     * pivot was last placed; n_certified counts the edge tests skipped
     * (none in a scan that tests the whole range). */
    double *piv, *gP, *gmax;
    uint64_t *since_pivot;
    uint64_t n_certified;
    size_t *deg;         /* N: edges of each user */
    double *Xt;          /* d x Kp: the round's contexts, transposed, zero padded */
    double *scores;      /* Kp */
    /* Per component, this round's means <w, x_k> and quadratic forms
     * x_k^T A x_k (N x Kp each), valid where stamp[k] == round: computed by
     * the component's first choose of a round and then carried through its
     * rank-one updates (O(K d) each) instead of being recomputed (O(K d^2)). */
    double *cm, *cq, *tk, *ux; /* N Kp, N Kp, Kp, 2 d */
    uint64_t *stamp;     /* N */
    /* A rank-one step the cache has yet to follow (pstamp[k] == round):
     * u = A x (pu, N x d) and c = 1 / (1 + x^T u) (pc, N) of component k's
     * last observe, applied by its next choose of the round - under the
     * per-user protocol, and for a component's last user of a round, there
     * is none, and nothing is spent on it. */
    double *pu, *pc;
    uint64_t *pstamp;
    uint64_t round;      /* begin_round calls so far */
    size_t K_cap, Kp;    /* Kp = K rounded up to a multiple of 8 */
    const colb__soa_kernel *kern; /* scoring kernel, chosen at create */
    uint64_t t;          /* steps so far (choose calls) */
    double alpha, alpha2;
    int naive;
    int own_alpha;       /* club_own_alpha: the published bonus with alpha */
    double *ts_work;     /* colb__ts_work(d): Thompson sampling */
    /* cbT[T] = colb__club_cb(T, alpha2) for T < n_cbT: a serve's new CB is
     * a lookup (its log, square root and division were 1-2 % of a run) */
    double *cbT;
    size_t n_cbT;
    /* p->info's parameters, formatted once (set_info runs at every step
     * that removes edges, and printf's %g was 3 % of a tuning burn-in) */
    char info_head[192];
} club;

double colb__club_cb(uint64_t T, double alpha2)
{
    double n = 1.0 + (double)T;
    return alpha2 * sqrt((1.0 + log(n)) / n);
}

/* Longest table of CB values a policy keeps (512 KiB); counts beyond it
 * are computed at each serve. */
#define CB_TABLE_MAX ((size_t)1 << 16)

/* colb__club_cb(T, c->alpha2), from the table (the same function's values:
 * the same bits), which grows by doubling as counts pass its end; when it
 * cannot grow, computed. */
static double cb_of(club *c, uint64_t T)
{
    if (T >= c->n_cbT && T < CB_TABLE_MAX) {
        size_t n = c->n_cbT ? 2 * c->n_cbT : 1024;
        while (n <= T)
            n *= 2;
        double *t = realloc(c->cbT, n * sizeof(double)); /* n <= CB_TABLE_MAX: T is below it */
        if (t) {
            for (size_t i = c->n_cbT; i < n; i++)
                t[i] = colb__club_cb(i, c->alpha2);
            c->cbT = t;
            c->n_cbT = n;
        }
    }
    return T < c->n_cbT ? c->cbT[T] : colb__club_cb(T, c->alpha2);
}

/* ||a - b||^2 > thr^2 with thr = CB_i + CB_l >= 0: the deletion test without
 * a square root. */
static inline int too_far(const double *a, const double *b, size_t d, double thr)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        double e = a[j] - b[j];
        s += e * e;
    }
    return s > thr * thr;
}

int colb__club_edge_deleted(const double *wi, const double *wl, size_t d, uint64_t Ti,
                            uint64_t Tl, double alpha2)
{
    return too_far(wi, wl, d, colb__club_cb(Ti, alpha2) + colb__club_cb(Tl, alpha2));
}

static colb_status club_check(const colb_policy_params *pp, char *msg, size_t len)
{
    if (!isfinite(pp->club_alpha))
        return colb__say(msg, len, COLB_ENONFIN, "club: club_alpha is %g", pp->club_alpha);
    if (pp->club_alpha < 0.0)
        return colb__say(msg, len, COLB_ERANGE, "club: club_alpha = %g must be >= 0", pp->club_alpha);
    if (!isfinite(pp->club_alpha2))
        return colb__say(msg, len, COLB_ENONFIN, "club: club_alpha2 is %g", pp->club_alpha2);
    if (pp->club_alpha2 <= 0.0)
        return colb__say(msg, len, COLB_ERANGE, "club: club_alpha2 = %g must be > 0", pp->club_alpha2);
    if (pp->users > CLUB_MAX_USERS)
        return colb__say(msg, len, COLB_ERANGE,
                   "club: users = %zu exceeds %zu (the user graph takes N^2/8 bytes)", pp->users,
                   CLUB_MAX_USERS);
    return COLB_OK;
}

static void set_info(colb_policy *p)
{
    club *c = p->impl;
    if (!c->info_head[0]) {
        char w[64];
        if (c->own_alpha)
            snprintf(w, sizeof w, "alpha=%g", c->alpha);
        else if (p->pp.learner.width == COLB_WIDTH_FIXED)
            snprintf(w, sizeof w, "width=fixed:%g", p->pp.learner.alpha);
        else
            snprintf(w, sizeof w, "width=oful");
        snprintf(c->info_head, sizeof c->info_head, "%s alpha2=%g graph=%s", w, c->alpha2,
                 p->pp.club_graph == COLB_CLUB_RANDOM ? "random" : "complete");
    }
    snprintf(p->info, sizeof p->info, "%s components=%zu edges=%llu", c->info_head,
             c->g.n_comp, (unsigned long long)c->g.edges);
}

/* The aggregate of component k, which holds user u: model *i of the bank
 * returned. A component of one user (and on sparse data, such as Last.FM,
 * almost every component ends alone) has that user's model as its
 * aggregate, lambda I + (M_u - lambda I) = M_u and b = b_u, so it is read
 * and updated there: one rank-one step per serve instead of two, and half
 * the memory a step touches. Its slot in comps is then stale and never read
 * (components only split: a singleton stays one). The naive mode keeps its
 * rebuild of every aggregate in comps. */
static const colb__ridge *aggregate(const club *c, size_t u, size_t k, size_t *i)
{
    if (!c->naive && c->g.size[k] == 1) {
        *i = u;
        return &c->users;
    }
    *i = k;
    return &c->comps;
}

/* Rebuild component k's aggregate from its members: O(|k| d^2 + d^3). */
static colb_status rebuild(club *c, size_t k)
{
    colb__ridge_reset(&c->comps, k);
    const size_t *mem = c->g.perm + c->g.start[k];
    for (size_t q = 0; q < c->g.size[k]; q++) {
        /* the member's deferred contexts into its V first, in place (absorb
         * would add them to a copy, and again at the next rebuild) */
        colb__ridge_sync_v(&c->users, mem[q]);
        colb__ridge_absorb(&c->comps, k, &c->users, mem[q]);
    }
    return colb__ridge_refresh(&c->comps, k);
}

static void club_destroy(colb_policy *p)
{
    club *c = p->impl;
    if (!c)
        return;
    colb__ridge_free(&c->users);
    colb__ridge_free(&c->comps);
    colb__club_graph_free(&c->g);
    free(c->cb);
    free(c->cbP);
    free(c->fbits);
    free(c->del);
    free(c->nb);
    free(c->sidx);
    free(c->dist);
    free(c->wP);
    free(c->wF);
    free(c->wuF);
    free(c->ubits);
    free(c->pos);
    free(c->piv);
    free(c->gP);
    free(c->gmax);
    free(c->since_pivot);
    free(c->deg);
    free(c->Xt);
    free(c->scores);
    free(c->cm);
    free(c->cq);
    free(c->tk);
    free(c->ux);
    free(c->stamp);
    free(c->pu);
    free(c->pc);
    free(c->pstamp);
    free(c->ts_work);
    free(c->cbT);
    free(c);
    p->impl = NULL;
}

/* What create and load share: the parameters, the kernel and the per-user
 * scratch (cb, del, the edge scan's arrays; wP, pos and deg are set by
 * sync_order once the graph is known).
 * COLB_EINVAL / COLB_EUNSUP (COLB_KERNEL), COLB_ENOMEM. */
static colb_status club_setup(colb_policy *p, club *c)
{
    size_t N = p->N, d = p->d;
    c->alpha = p->pp.club_alpha;
    c->alpha2 = p->pp.club_alpha2;
    c->own_alpha = p->pp.club_own_alpha;
    colb_status st = colb__soa_pick_kernel(getenv("COLB_KERNEL"), &c->kern);
    if (st != COLB_OK)
        return st;
    if (colb__policy_ts(p) && !(c->ts_work = colb__malloc(colb__ts_work(d), sizeof(double))))
        return COLB_ENOMEM;
    c->cb = colb__malloc(N, sizeof(double));
    c->cbP = colb__malloc(N, sizeof(double));
    c->fbits = colb__malloc(N / 64 + 1, sizeof(uint64_t));
    c->del = colb__malloc(N, sizeof(size_t));
    c->nb = colb__malloc(N, sizeof(size_t));
    c->sidx = colb__malloc(N, sizeof(size_t));
    c->dist = colb__malloc(N, sizeof(double));
    c->wP = colb__malloc(N, d * sizeof(double));
    c->wF = colb__malloc(N, d * sizeof(float));
    c->wuF = colb__malloc(d, sizeof(float));
    c->ubits = colb__malloc(N / 64 + 1, sizeof(uint64_t));
    c->pos = colb__malloc(N, sizeof(size_t));
    c->deg = colb__malloc(N, sizeof(size_t));
    c->stamp = colb__calloc(N, sizeof(uint64_t));
    c->pu = colb__malloc(N, d * sizeof(double));
    c->pc = colb__malloc(N, sizeof(double));
    c->pstamp = colb__calloc(N, sizeof(uint64_t));
    c->ux = colb__malloc(2 * d, sizeof(double));
    c->piv = colb__malloc(N, d * sizeof(double));
    c->gP = colb__malloc(N, sizeof(double));
    c->gmax = colb__malloc(N, sizeof(double));
    c->since_pivot = colb__malloc(N, sizeof(uint64_t));
    return c->cb && c->cbP && c->fbits && c->del && c->wP && c->wF && c->wuF && c->ubits &&
                   c->nb && c->sidx && c->dist &&
                   c->pos && c->deg && c->stamp && c->pu && c->pc && c->pstamp && c->ux &&
                   c->piv && c->gP && c->gmax && c->since_pivot
               ? COLB_OK : COLB_ENOMEM;
}

/* u's estimate into column q of wP and wF. */
static void put_column(club *c, size_t d, size_t u, size_t q)
{
    size_t N = c->g.n;
    for (size_t j = 0; j < d; j++) {
        double w = c->users.theta[u * d + j];
        c->wP[j * N + q] = w;
        c->wF[j * N + q] = colb__to_f32(w);
    }
}

/* Bring wP, wF and pos in line with the graph's order for perm[q0 .. q1):
 * after create or load (the whole range) and after a split (the old
 * component's range, inside which split reordered its parts).
 * O((q1 - q0) d). */
static void sync_order(club *c, size_t d, size_t q0, size_t q1)
{
    for (size_t q = q0; q < q1; q++) {
        size_t u = c->g.perm[q];
        c->pos[u] = q;
        c->cbP[q] = c->cb[u];
        put_column(c, d, u, q);
    }
}

/* The certificates of the edge scan. By the triangle inequality, with any
 * point z,
 *     ||w_u - w_l|| <= ||w_u - z|| + ||w_l - z||,
 * so the edge (u, l) passes the test (no deletion) whenever
 *     ||w_u - z|| + ||w_l - z|| <= CB_u + CB_l,
 * i.e. g_l <= h_u with g_l = ||w_l - z|| - CB_l and h_u = CB_u - ||w_u - z||.
 * With z a pivot near the component's estimates (the mean of its members'
 * w when it was placed) and g_l kept up to date as l is served (w_l and CB_l
 * change only then), a step tests only the neighbours whose g_l exceeds
 * h_u, and none when the component's largest g does not: in a converged
 * cluster almost every step (measured on Figure 1(d)'s colb reading at
 * N = 400: 97 % of the scans certified whole, 99.8 % of the edges, when a
 * range was tested whole from 2/7 of it; from 1/14 (RANGE_DEN) a range
 * test counts all of u's edges as tested, so fewer count as skipped).
 * The certificate must never skip an edge the exact test would delete, in
 * floating point: both sides are shrunk by the relative slack CERT_SLACK =
 * 1e-9, which exceeds the rounding of the norms (about (d + 3) 2^-53
 * relative, d < 10^6) and of the test's own sum, so a certified edge is
 * one whose computed squared distance is below its computed threshold by a
 * margin; deletions are then the same bit for bit as testing every edge. A
 * stale pivot only costs time: the pivot is placed again once a scan could
 * not certify its whole component and the component has had as many serves
 * as members since its last placing (O(|C| d), amortised O(d) per serve). */
#define CERT_SLACK 1e-9
#define CERT_SHRINK (1.0 - 2.0 * CERT_SLACK)

static double pivot_dist(const club *c, size_t d, size_t q, const double *z)
{
    size_t N = c->g.n;
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        double e = c->wP[j * N + q] - z[j];
        s += e * e;
    }
    return sqrt(s);
}

/* Place component k's pivot at its members' mean and recompute their g.
 * O(|k| d). */
static void place_pivot(club *c, size_t d, size_t k)
{
    size_t N = c->g.n, s0 = c->g.start[k], n = c->g.size[k];
    double *z = c->piv + k * d, gm = -INFINITY;
    for (size_t j = 0; j < d; j++) {
        const double *row = c->wP + j * N + s0;
        double sum = 0.0;
        for (size_t q = 0; q < n; q++)
            sum += row[q];
        z[j] = sum / (double)n;
    }
    for (size_t q = s0; q < s0 + n; q++) {
        double gq = pivot_dist(c, d, q, z) - c->cb[c->g.perm[q]] * CERT_SHRINK;
        c->gP[q] = gq;
        if (!(gq <= gm))
            gm = gq; /* a NaN sticks: nothing is certified */
    }
    c->gmax[k] = gm;
    c->since_pivot[k] = 0;
}

/* User u was served (w_u, CB_u and its wP column are new): its g, and the
 * bound of its component. Returns h_u = CB_u (1 - 2 CERT_SLACK) - r_u. */
static double regauge(club *c, size_t d, size_t u)
{
    size_t k = c->g.comp[u], q = c->pos[u];
    double r = pivot_dist(c, d, q, c->piv + k * d), gq = r - c->cb[u] * CERT_SHRINK;
    c->gP[q] = gq;
    if (!(gq <= c->gmax[k]))
        c->gmax[k] = gq;
    c->since_pivot[k]++;
    return c->cb[u] * CERT_SHRINK - r;
}

/* deg[u] from the adjacency rows. O(N W). */
static void count_degrees(club *c)
{
    const colb__club_graph *g = &c->g;
    for (size_t u = 0; u < g->n; u++) {
        size_t k = 0;
        for (size_t w = 0; w < g->W; w++)
            k += colb__popcount64(g->adj[u * g->W + w]);
        c->deg[u] = k;
    }
}

static colb_status club_create(colb_policy *p)
{
    size_t N = p->N, d = p->d;
    club *c = calloc(1, sizeof *c);
    if (!c)
        return colb__err(p->err, COLB_ENOMEM, "out of memory");
    p->impl = c;
    colb_status kst = club_setup(p, c);
    if (kst == COLB_EINVAL || kst == COLB_EUNSUP)
        return colb__err(p->err, kst, "COLB_KERNEL = %s is not a kernel this CPU runs",
                         getenv("COLB_KERNEL"));
    if (kst != COLB_OK ||
        colb__ridge_init(&c->users, N, d, &p->pp.learner) != COLB_OK ||
        colb__ridge_defer_v(&c->users, CLUB_VLOG) != COLB_OK ||
        colb__ridge_init(&c->comps, N, d, &p->pp.learner) != COLB_OK ||
        colb__club_graph_init(&c->g, N) != COLB_OK)
        return colb__err(p->err, COLB_ENOMEM, "out of memory for N = %zu users", N);
    if (p->pp.club_graph == COLB_CLUB_RANDOM) {
        colb_rng rng;
        colb_rng_seed(&rng, p->pp.seed, CLUB_STREAM_GRAPH);
        double prob = N > 1 ? 3.0 * log((double)N) / (double)N : 0.0;
        colb__club_graph_random(&c->g, prob, &rng);
    } else {
        colb__club_graph_complete(&c->g);
    }
    double cb0 = colb__club_cb(0, c->alpha2);
    for (size_t u = 0; u < N; u++)
        c->cb[u] = cb0;
    sync_order(c, d, 0, N);
    count_degrees(c);
    for (size_t k = 0; k < c->g.n_comp; k++)
        place_pivot(c, d, k);
    /* no data yet: every aggregate is lambda I (ridge_init reset them all) */
    set_info(p);
    return COLB_OK;
}

static colb_status club_begin(colb_policy *p)
{
    club *c = p->impl;
    size_t K = p->K, d = p->d, Kp = colb__soa_padded(K);
    if (K > c->K_cap) { /* scratch: on failure the arrays grown so far are only larger */
        if (colb__realloc_n(&c->Xt, Kp, d * sizeof(double)) ||
            colb__realloc_n(&c->scores, Kp, sizeof(double)) ||
            colb__realloc_n(&c->tk, Kp, sizeof(double)) ||
            colb__realloc_n(&c->cm, p->N, Kp * sizeof(double)) ||
            colb__realloc_n(&c->cq, p->N, Kp * sizeof(double)))
            return colb__err(p->err, COLB_ENOMEM, "begin_round: out of memory for K = %zu", K);
        c->K_cap = K;
    }
    c->Kp = Kp;
    c->round++; /* every cached score is stale */
    c->kern->transpose(p->X, K, d, Kp, c->Xt);
    return COLB_OK;
}

static colb_status club_choose(colb_policy *p, size_t u, size_t *arm)
{
    club *c = p->impl;
    size_t d = p->d, k = c->g.comp[u];
    if (c->naive) {
        colb_status st = rebuild(c, k);
        if (st != COLB_OK)
            return colb__err(p->err, st, "choose: aggregate of component %zu not positive definite",
                             k);
    }
    c->t++; /* t of the paper: this step's number, counting every user's */
    size_t ai;
    const colb__ridge *ag = aggregate(c, u, k, &ai);
    /* the published bonus alpha sqrt(q ln(t + 1)) (club_own_alpha), or the
     * shared width: width * sqrt(q) */
    double a = c->own_alpha ? c->alpha : colb__ridge_width(ag, ai);
    double lt = c->own_alpha ? log((double)c->t + 1.0) : 1.0;
    if (colb__policy_ts(p)) {
        /* the draw falls back to V when A's factorisation fails: a user's
         * model (a component of one) holds its deferred contexts first
         * (ridge.h; a loaded policy had them in V, and drew otherwise) */
        if (ag == &c->users)
            colb__ridge_sync_v(&c->users, ai);
        colb__ts_scores(ag, ai, NULL, a * sqrt(lt), p->X, p->K, &p->ts_rng, c->scores,
                        c->ts_work);
        *arm = colb__argmax(c->scores, p->K);
        return COLB_OK;
    }
    /* scores[k] = w^T x_k + a sqrt(x_k^T A x_k lt). The means and quadratic
     * forms come from the hand-written single-model kernel on the round's
     * transposed contexts (soa_kernel.h; no table of outer products, which
     * the per-user protocol would pay per decision) for the component's first
     * user of the round, and for the next ones from that cache, brought up
     * to date with the last observe's rank-one step (O(K d), see pu). */
    size_t K = p->K, Kp = c->Kp;
    double *m = c->cm + k * Kp, *q = c->cq + k * Kp;
    if (c->naive || c->stamp[k] != c->round) {
        c->kern->score_x(ag->A + ai * d * d, d, ag->theta + ai * d, 0.0, 1.0, c->Xt, d, K, Kp,
                         NULL, m, q); /* means and forms only: scored below */
        c->stamp[k] = c->round;
        c->pstamp[k] = 0; /* a step before a rebuild or refresh: nothing to follow */
    } else if (c->pstamp[k] == c->round) { /* A' = A - c u u^T, w' = the updated w */
        c->kern->colsum(c->Xt, Kp, c->pu + k * d, d, K, c->tk); /* x_k^T u */
        for (size_t i = 0; i < K; i++)
            q[i] -= c->pc[k] * c->tk[i] * c->tk[i];
        c->kern->colsum(c->Xt, Kp, ag->theta + ai * d, d, K, m); /* <w', x_k> */
        c->pstamp[k] = 0;
    }
    *arm = c->kern->score_ms(m, q, a, lt, K, Kp, c->scores); /* the scalar loop's bits */
    return COLB_OK;
}

/* The edge scan tests a whole component's range (of wF, in float) when u
 * has at least this share of it as neighbours (and as many members are
 * not certified), and gathers the neighbours' columns of wP otherwise.
 * With AVX-512 at d = 15 a distance cost 2.1 ns in a run of wP and 7.5 ns
 * gathered, hence 2/7 then; the float run is cheaper, and on the paper
 * reading's CLUB at N = 400 (10 repeats and the tuning, user CPU, three
 * alternated runs) 1/14 took Figure 1(d) 5.07-5.32 s and 1(c) 4.28-4.30 s
 * against 5.42-5.84 and 4.55-4.64 with 2/7 (1/7: 5.09-5.34, 4.25-4.51). */
#define RANGE_NUM 1
#define RANGE_DEN 14

/* l into the increasing del[0..m) (by insertion: m, the edges that go in
 * one step, is small); returns m + 1. */
static size_t insert_sorted(size_t *del, size_t m, size_t l)
{
    size_t i = m;
    for (; i > 0 && del[i - 1] > l; i--)
        del[i] = del[i - 1];
    del[i] = l;
    return m + 1;
}

/* The exact tests of the listed neighbours nb[0..ns) of u (their columns
 * sidx of wP), gathered: those that fail go into del[0..m); returns the
 * new m. */
static size_t test_listed(const club *c, const double *wu, size_t d, const double *cb, double cbu,
                          const size_t *nb, const size_t *sidx, size_t ns, size_t *del, size_t m)
{
    c->kern->dist2_idx(c->wP, c->g.n, wu, d, sidx, ns, c->dist);
    for (size_t q = 0; q < ns; q++) {
        double thr = cbu + cb[nb[q]];
        if (c->dist[q] > thr * thr)
            m = insert_sorted(del, m, nb[q]);
    }
    return m;
}

/* Test every edge (u, l) of the graph with the bounds cb[0..N): del[0..m)
 * receives the l whose edge fails, in increasing order; returns m. Edges
 * certified by g_l <= h (see place_pivot; h = -INFINITY certifies none, for
 * bounds other than the policy's own) are not tested: *tested receives the
 * number of edges that were.
 * O(deg(u) d), in a dense graph the main cost of a step, when nothing is
 * certified; O(1) when the component's bound certifies every member. Edges
 * never leave a component, and wP holds the users' estimates transposed in
 * the order of the components' ranges of perm: when u is joined to a good
 * share of its component and few members are certified, the whole range
 * is tested together, lanes along the users - contiguous, independent,
 * vectorised - on wF, the estimates rounded to float (the kernel's far_f32:
 * half the bytes of wP, twice the lanes), and the neighbours are picked
 * out; otherwise the uncertified neighbours' columns are gathered, 8 at a
 * time (dist2_idx). far_f32 decides only where a margin over float's
 * rounding makes its answer the exact one (colb__far_f32_bounds); the
 * members it leaves unsure (a distance within about 1e-6 of its threshold,
 * a NaN, a value beyond float's range) go to dist2_idx, whose distances are
 * summed over j = 0..d-1 in the same order as too_far. So the outcome is
 * too_far's, bit for bit. Measured on Figure 1(d)'s paper reading at N =
 * 400 (30 repeats and the tuning): 13.3-13.6 -> 11.9-12.1 s with AVX-512
 * against dist2 on wP. */
static size_t mark_deletions(const club *c, size_t u, size_t d, const double *cb,
                             const double *cbP, double h, size_t *del, size_t *tested)
{
    const colb__club_graph *g = &c->g;
    const double *wu = c->users.theta + u * d;
    double cbu = cb[u];
    size_t N = g->n, m = 0, k = g->comp[u], s0 = g->start[k], n = g->size[k];
    size_t *nb = c->nb, *sidx = c->sidx, ns = 0;
    *tested = 0;
    if (c->deg[u] == 0 || c->gmax[k] <= h)
        return 0;
    if (c->deg[u] * RANGE_DEN >= n * RANGE_NUM) {
        const size_t *mem = g->perm + s0;
        /* the members not certified: counted first (their bits in fbits),
         * listed if few */
        size_t nc = h > -INFINITY ? c->kern->above_bits(c->gP + s0, n, h, c->fbits) : n;
        if (nc * RANGE_DEN >= n * RANGE_NUM) {
            /* the tests vectorised on the float copies (far_f32: what the
             * exact test says wherever a margin makes that certain), then
             * only the far members looked up in u's row; the few unsure
             * ones are tested exactly below */
            double k6[6];
            colb__far_f32_bounds(wu, d, c->wuF, k6);
            c->kern->far_f32(c->wF + s0, N, c->wuF, d, n, cbP + s0, cbu, k6, c->fbits, c->ubits);
            for (size_t w = 0; w < (n + 63) / 64; w++) {
                for (uint64_t bits = c->fbits[w]; bits; bits &= bits - 1) {
                    size_t l = mem[w * 64 + colb__ctz64(bits)];
                    if (colb__club_graph_has_edge(g, u, l))
                        m = insert_sorted(del, m, l);
                }
                for (uint64_t bits = c->ubits[w]; bits; bits &= bits - 1) {
                    size_t q = s0 + w * 64 + colb__ctz64(bits), l = g->perm[q];
                    if (colb__club_graph_has_edge(g, u, l)) {
                        nb[ns] = l;
                        sidx[ns++] = q;
                    }
                }
            }
            m = test_listed(c, wu, d, cb, cbu, nb, sidx, ns, del, m);
            *tested = c->deg[u];
            return m;
        }
        for (size_t w = 0; w < (n + 63) / 64; w++) /* the uncertified neighbours */
            for (uint64_t bits = c->fbits[w]; bits; bits &= bits - 1) {
                size_t q = s0 + w * 64 + colb__ctz64(bits), l = g->perm[q];
                if (colb__club_graph_has_edge(g, u, l)) {
                    nb[ns] = l;
                    sidx[ns++] = q;
                }
            }
    } else {
        const uint64_t *row = g->adj + u * g->W;
        for (size_t w = 0; w < g->W; w++) /* the neighbours in increasing order */
            for (uint64_t bits = row[w]; bits; bits &= bits - 1) {
                size_t l = w * 64 + colb__ctz64(bits);
                if (c->gP[c->pos[l]] <= h)
                    continue; /* certified (never with h = -INFINITY) */
                nb[ns] = l;
                sidx[ns++] = c->pos[l];
            }
    }
    *tested = ns;
    return test_listed(c, wu, d, cb, cbu, nb, sidx, ns, del, m);
}

static colb_status club_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    club *c = p->impl;
    colb__club_graph *g = &c->g;
    size_t d = p->d, k = g->comp[u];
    const double *x = p->X + arm * d;
    size_t ai;
    const colb__ridge *ag = aggregate(c, u, k, &ai);
    int cached = !c->naive && c->stamp[k] == c->round;
    /* the aggregate's rank-one step leaves u = A x in ux (ux + d for the
     * component's, after the user's) and returns s = x^T u */
    const double *ux = c->ux;
    double s2[2];
    if (c->naive || ag == &c->users) { /* the naive mode's aggregates are rebuilt */
        s2[1] = colb__ridge_update_u(&c->users, u, x, y, 1.0, c->ux);
    } else { /* the user and its component in one interleaved kernel call */
        colb__ridge_update2_u(&c->users, u, &c->comps, k, x, y, 1.0, c->ux, s2);
        ux += d;
    }
    if (cached && ag->since_refresh[ai] == 0) {
        c->stamp[k] = 0; /* A was recomputed from V: score afresh */
    } else if (cached) { /* for the cache to follow, at the next choose (see pu) */
        memcpy(c->pu + k * d, ux, d * sizeof(double));
        c->pc[k] = 1.0 / (1.0 + s2[1]);
        c->pstamp[k] = c->round;
    }
    c->cb[u] = cb_of(c, c->users.count[u]);
    c->cbP[c->pos[u]] = c->cb[u];
    /* A user without edges has none to test and never gets one back; it is
     * alone in its component, whose range of wP is its own column, so
     * nothing reads its column, certificate or pivot again (a split
     * rewrites the columns of the range it reorders, a load all of them):
     * they are left as they are, which spares the per-user protocol's
     * lone users d strided stores and loads a turn. */
    if (c->deg[u] == 0)
        return COLB_OK;
    put_column(c, d, u, c->pos[u]);

    /* the edges of u that fail the test */
    double h = regauge(c, d, u);
    size_t tested, m = mark_deletions(c, u, d, c->cb, c->cbP, h, c->del, &tested);
    c->n_certified += c->deg[u] - tested;
    if (c->deg[u] > 0 && !(c->gmax[k] <= h) && m == 0 && c->since_pivot[k] >= g->size[k])
        place_pivot(c, d, k); /* it no longer certifies the whole component */
    if (m == 0)
        return COLB_OK;
    size_t base = g->start[k], old_size = g->size[k];
    for (size_t q = 0; q < m; q++) {
        colb__club_graph_delete(g, u, c->del[q]);
        c->deg[c->del[q]]--;
    }
    c->deg[u] -= m;
    size_t first_new = g->n_comp, n_new = colb__club_graph_split(g, u, c->del, m);
    if (n_new > 0) { /* split reordered the old range of perm: new pivots too */
        sync_order(c, d, base, base + old_size);
        place_pivot(c, d, k);
        for (size_t q = first_new; q < g->n_comp; q++)
            place_pivot(c, d, q);
    }
    if (n_new > 0 && !c->naive) {
        c->stamp[k] = 0; /* the parts' models are rebuilt: no cached scores */
        for (size_t q = first_new; q < g->n_comp; q++)
            c->stamp[q] = 0;
        /* a part of one user has that user's model as its aggregate */
        colb_status st = g->size[k] > 1 ? rebuild(c, k) : COLB_OK;
        for (size_t q = first_new; q < g->n_comp && st == COLB_OK; q++)
            if (g->size[q] > 1)
                st = rebuild(c, q);
        if (st != COLB_OK) {
            set_info(p);
            return colb__err(p->err, st, "observe: a component aggregate is not positive definite");
        }
    }
    set_info(p);
    return COLB_OK;
}

static const double *club_theta_ref(const colb_policy *p, size_t u)
{
    const club *c = p->impl;
    return c->users.theta + u * p->d;
}

static colb_status club_theta(const colb_policy *p, size_t u, double *theta)
{
    memcpy(theta, club_theta_ref(p, u), p->d * sizeof(double));
    return COLB_OK;
}

static colb_status club_clusters(const colb_policy *p, size_t *labels, size_t *n)
{
    const club *c = p->impl;
    memcpy(labels, c->g.comp, p->N * sizeof(size_t));
    *n = c->g.n_comp;
    return COLB_OK;
}

/* Memory budget: models of users and components, the user graph as a
 * bit matrix (N^2 / 8 bytes), per-user vectors. */
static double club_memory(const colb_policy_params *pp)
{
    double N = (double)pp->users, d = (double)pp->dim;
    return 2 * colb__ridge_bytes(pp->users, pp->dim) + N * (N / 8 + 8) + N * (28 * d + 113) +
           N * (CLUB_VLOG * d * 8 + 1) + (double)CB_TABLE_MAX * sizeof(double);
}

static colb_status club_save(const colb_policy *p, colb__snap_out *w)
{
    const club *c = p->impl;
    const colb__club_graph *g = &c->g;
    colb__snap_u64(w, "t", c->t);
    colb__snap_u64(w, "naive", (uint64_t)c->naive);
    colb__ridge_save(w, "users", &c->users, p->N);
    colb__ridge_save(w, "components", &c->comps, g->n_comp);
    colb__snap_group_begin(w, "graph");
    colb__snap_u64s(w, "adjacency", g->adj, g->n * g->W);
    colb__snap_sizes(w, "comp", g->comp, g->n);
    colb__snap_sizes(w, "start", g->start, g->n_comp);
    colb__snap_sizes(w, "size", g->size, g->n_comp);
    colb__snap_sizes(w, "perm", g->perm, g->n);
    colb__snap_group_end(w);
    return colb__snap_status(w);
}

static colb_status club_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *gr)
{
    size_t N = p->N, d = p->d, naive = 0, nc = 0;
    club *c = calloc(1, sizeof *c);
    if (!c)
        return COLB_ENOMEM;
    p->impl = c;
    colb__snap_group gg;
    colb__snap_field adj;
    size_t W = (N + 63) / 64;
    colb_status st = colb__snap_get_u64(in, gr, "t", &c->t);
    if (st == COLB_OK)
        st = colb__snap_get_size(in, gr, "naive", 0, 1, &naive);
    if (st == COLB_OK)
        st = colb__snap_get_group(in, gr, "graph", &gg);
    if (st == COLB_OK) /* N is believed: the N^2/8-byte matrix is in the file */
        st = colb__snap_field_of(in, &gg, "adjacency", COLB__SNAP_U64, (uint64_t)N * W, &adj);
    if (st == COLB_OK)
        st = colb__snap_reserve(in, 8 * ((uint64_t)N * (W + 7) + 2 * W), "club's graph");
    if (st == COLB_OK && colb__club_graph_init(&c->g, N) != COLB_OK)
        st = colb__snap_error(in, COLB_ENOMEM, "out of memory for club's %zu users", N);
    if (st == COLB_OK)
        st = colb__ridge_load(in, gr, "users", &c->users, N, d, &p->pp.learner, NULL);
    if (st == COLB_OK && colb__ridge_defer_v(&c->users, CLUB_VLOG) != COLB_OK)
        st = colb__snap_error(in, COLB_ENOMEM, "out of memory for club's %zu users", N);
    if (st == COLB_OK)
        st = colb__ridge_load(in, gr, "components", &c->comps, N, d, &p->pp.learner, &nc);
    /* d is believed now (the users' models are in the file): the scratch */
    if (st == COLB_OK)
        st = colb__snap_reserve(in, 8 * (uint64_t)N * (12 + 4 * d) + 4 * (uint64_t)N * d,
                                "club's scratch");
    if (st == COLB_OK) {
        colb_status kst = club_setup(p, c);
        if (kst == COLB_EINVAL || kst == COLB_EUNSUP)
            st = colb__snap_error(in, kst, "COLB_KERNEL = %s is not a kernel this CPU runs",
                                  getenv("COLB_KERNEL"));
        else if (kst != COLB_OK)
            st = colb__snap_error(in, COLB_ENOMEM, "out of memory for club's %zu users", N);
    }
    colb__club_graph *g = &c->g;
    if (st == COLB_OK) {
        g->n_comp = nc;
        st = colb__snap_get_u64s(in, &gg, "adjacency", g->adj, N * W);
    }
    if (st == COLB_OK)
        st = colb__snap_get_sizes(in, &gg, "comp", g->comp, N, N);
    if (st == COLB_OK)
        st = colb__snap_get_sizes(in, &gg, "start", g->start, nc, N);
    if (st == COLB_OK)
        st = colb__snap_get_sizes(in, &gg, "size", g->size, nc, N + 1);
    if (st == COLB_OK)
        st = colb__snap_get_sizes(in, &gg, "perm", g->perm, N, N);
    if (st == COLB_OK) {
        int ok = colb__club_graph_check_loaded(g);
        if (ok < 0)
            st = colb__snap_error(in, COLB_ENOMEM, "out of memory checking club's graph");
        else if (!ok)
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: club's graph is inconsistent");
    }
    if (st != COLB_OK)
        return st;
    c->naive = (int)naive;
    for (size_t u = 0; u < N; u++) /* what observe keeps, from the loaded users */
        c->cb[u] = colb__club_cb(c->users.count[u], c->alpha2);
    sync_order(c, d, 0, N);
    count_degrees(c);
    for (size_t k = 0; k < c->g.n_comp; k++)
        place_pivot(c, d, k);
    return COLB_OK;
}

/* The per-user protocol serves users one after another; on Last.FM (1,892
 * users, d = 25) they end in ~1,870 components, so each step reads and
 * writes a user's model and its component's (A, and V when it is due: 5-20
 * KB), out of the caches by its turn. Fetched during the previous user's
 * turn instead. */
static void club_prefetch_user(const colb_policy *p, size_t u)
{
    const club *c = p->impl;
    size_t d = p->d, k = c->g.comp[u];
    colb__ridge_prefetch(&c->users, u);
    /* u's columns of wP and wF, which observe writes (and reads back at
     * once, regauge): d lines each, a row apart; not for a user without
     * edges */
    for (size_t j = 0, q = c->pos[u]; c->deg[u] && j < d; j++) {
        colb__prefetch(c->wP + j * c->g.n + q, sizeof(double), 1);
        colb__prefetch(c->wF + j * c->g.n + q, sizeof(float), 1);
    }
    if (!c->naive && c->g.size[k] == 1)
        return; /* the user's model is its component's aggregate */
    colb__ridge_prefetch(&c->comps, k);
}

const colb__policy_vt colb__policy_club = {
    .name = "club",
    .sequential = 1,
    .check = club_check,
    .create = club_create,
    .destroy = club_destroy,
    .begin_round = club_begin,
    .choose = club_choose,
    .observe = club_observe,
    .user_theta = club_theta,
    .user_theta_ref = club_theta_ref,
    .clusters = club_clusters,
    .prefetch_user = club_prefetch_user,
    .memory = club_memory,
    .save = club_save,
    .load = club_load,
};

/* ---- internal hooks (club.h) ---- */

static club *as_club(const colb_policy *p)
{
    return p && p->vt == &colb__policy_club ? p->impl : NULL;
}

colb_status colb__club_set_naive(colb_policy *p, int naive)
{
    club *c = as_club(p);
    if (!c)
        return COLB_EINVAL;
    if (c->naive && !naive) /* back to incremental: bring the aggregates up to date */
        for (size_t k = 0; k < c->g.n_comp; k++) {
            colb_status st = rebuild(c, k);
            if (st != COLB_OK)
                return st;
        }
    c->naive = naive != 0;
    return COLB_OK;
}

uint64_t colb__club_served(const colb_policy *p, size_t u)
{
    const club *c = as_club(p);
    return c && u < p->N ? c->users.count[u] : 0;
}

uint64_t colb__club_certified(const colb_policy *p)
{
    const club *c = as_club(p);
    return c ? c->n_certified : 0;
}

uint64_t colb__club_edges(const colb_policy *p)
{
    const club *c = as_club(p);
    return c ? c->g.edges : 0;
}

int colb__club_has_edge(const colb_policy *p, size_t u, size_t v)
{
    const club *c = as_club(p);
    return c && u < p->N && v < p->N ? colb__club_graph_has_edge(&c->g, u, v) : 0;
}

size_t colb__club_scan(const colb_policy *p, size_t u, double alpha2, size_t *out)
{
    const club *c = as_club(p);
    if (!c || u >= p->N || !out)
        return 0;
    double *cb = colb__malloc(2 * p->N, sizeof(double)), *cbP = cb + p->N;
    if (!cb)
        return (size_t)-1;
    for (size_t v = 0; v < p->N; v++)
        cb[v] = colb__club_cb(c->users.count[v], alpha2);
    for (size_t q = 0; q < p->N; q++)
        cbP[q] = cb[c->g.perm[q]];
    size_t tested, m = mark_deletions(c, u, p->d, cb, cbP, -INFINITY, out, &tested);
    free(cb);
    return m;
}

/* max |a - b| / max |b| over n values (0 when both are all zero). */
static double rel_diff(const double *a, const double *b, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t j = 0; j < n; j++) {
        double e = fabs(a[j] - b[j]), s = fabs(b[j]);
        if (!(e <= num))
            num = e; /* also catches NaN */
        if (s > den)
            den = s;
    }
    return num == 0.0 ? 0.0 : (den > 0.0 ? num / den : INFINITY);
}

colb_status colb__club_check(const colb_policy *p, double *max_rel)
{
    const club *c = as_club(p);
    if (!c || !max_rel)
        return COLB_EINVAL;
    if (c->naive)
        return COLB_EUNSUP;
    int ok = colb__club_graph_consistent(&c->g);
    if (ok < 0)
        return COLB_ENOMEM;
    if (!ok)
        return COLB_ESTATE;
    size_t d = p->d, dd = d * d;
    for (size_t u = 0; u < p->N; u++) { /* the copies the edge scan reads */
        if (c->cb[u] != colb__club_cb(c->users.count[u], c->alpha2) || c->pos[u] >= p->N ||
            c->g.perm[c->pos[u]] != u || c->cbP[c->pos[u]] != c->cb[u])
            return COLB_ESTATE;
        size_t nbrs = 0;
        for (size_t v = 0; v < p->N; v++)
            nbrs += (size_t)colb__club_graph_has_edge(&c->g, u, v);
        if (c->deg[u] != nbrs)
            return COLB_ESTATE;
        if (nbrs == 0)
            continue; /* a user without edges: nothing kept for the scan (club_observe) */
        for (size_t j = 0; j < d; j++) /* u's columns of wP and of its float copy wF */
            if (c->wP[j * p->N + c->pos[u]] != c->users.theta[u * d + j] ||
                c->wF[j * p->N + c->pos[u]] != colb__to_f32(c->users.theta[u * d + j]))
                return COLB_ESTATE;
        /* the certificate: g_u from the pivot, under its component's bound */
        size_t k = c->g.comp[u], q = c->pos[u];
        double g = pivot_dist(c, d, q, c->piv + k * d) - c->cb[u] * CERT_SHRINK;
        if (!(c->gP[q] == g && g <= c->gmax[k]))
            return COLB_ESTATE;
    }
    colb__ridge fresh;
    if (colb__ridge_init(&fresh, 1, d, &p->pp.learner) != COLB_OK)
        return COLB_ENOMEM;
    colb_status st = COLB_OK;
    double worst = 0.0;
    for (size_t k = 0; k < c->g.n_comp && st == COLB_OK; k++) {
        colb__ridge_reset(&fresh, 0);
        const size_t *mem = c->g.perm + c->g.start[k];
        uint64_t served = 0;
        for (size_t q = 0; q < c->g.size[k]; q++) {
            colb__ridge_absorb(&fresh, 0, &c->users, mem[q]);
            served += c->users.count[mem[q]];
        }
        if ((st = colb__ridge_refresh(&fresh, 0)) != COLB_OK)
            break;
        size_t i;
        const colb__ridge *ag = aggregate(c, mem[0], k, &i);
        if (served != ag->count[i]) {
            st = COLB_ESTATE;
            break;
        }
        colb__ridge_v(ag, i, fresh.work); /* fresh's refresh is done with its work */
        double e[5] = {
            rel_diff(fresh.work, fresh.V, dd),
            rel_diff(ag->A + i * dd, fresh.A, dd),
            rel_diff(ag->b + i * d, fresh.b, d),
            rel_diff(ag->theta + i * d, fresh.theta, d),
            rel_diff(ag->logdet + i, fresh.logdet, 1),
        };
        for (int j = 0; j < 5; j++)
            if (!(e[j] <= worst))
                worst = e[j];
    }
    colb__ridge_free(&fresh);
    *max_rel = worst;
    return st;
}
