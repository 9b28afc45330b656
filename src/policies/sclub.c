/* sclub.c - "sclub": SCLUB, set-based online clustering of bandits with
 * split and merge (Shuai Li, Wei Chen, Shuai Li, Kwong-Sak Leung, "Improved
 * algorithm on online clustering of bandits", IJCAI 2019, arXiv:1902.09162,
 * Algorithm 1 with its Split and Merge procedures), in colb's protocol.
 *
 * Users are served one at a time (step tau = 1, 2, ... counts every served
 * user, as CLUB's t; in colb's rounds users 0..N-1 in order, each update
 * seen before the next choice). Every user i keeps V_i = lambda I + sum x x^T,
 * b_i, theta_i = V_i^-1 b_i and T_i (times served); clusters are disjoint
 * sets of users, initially one set of everybody, each with the aggregate
 * M_j = lambda I + sum_{i in C_j} (V_i - lambda I), b_j, theta_j and
 * T_j = sum_{i in C_j} T_i. Steps come in phases s = 1, 2, ... of 2^s steps
 * (phase s covers tau = 2^s - 1 .. 2^{s+1} - 2). At the start of a phase
 * every user becomes unchecked and every cluster records its pivot
 * (theta~_j, T~_j) = (theta_j, T_j). Serving user i of cluster j:
 *   choose   argmax_x <x, theta_j> + width_j ||x||_{M_j^-1} (colb's shared
 *            width: a fixed alpha or the OFUL radius of M_j; Thompson
 *            sampling draws from N(theta_j, width_j^2 M_j^-1));
 *   update   V_i, b_i, T_i and the aggregate of j;
 *   split    if ||theta_i - theta~_j|| > alpha (F(T_i) + F(T~_j)), or some
 *            l in C_j has |p_i - p_l| > 2 alpha_p F(tau) with p = T / tau,
 *            i leaves C_j and forms the cluster {i} (its pivot: its own
 *            theta_i, T_i); F(T) = sqrt((1 + ln(1 + T)) / (1 + T));
 *   check    i is marked checked; a cluster is checked when all its
 *            members are;
 *   merge    two checked clusters a, b with ||theta_a - theta_b|| <
 *            (alpha / 2) (F(T_a) + F(T_b)) and |p_a - p_b| < alpha_p F(tau),
 *            p_a = T_a / (|C_a| tau), become one (into the lower slot, which
 *            keeps its pivot); repeated while any pair qualifies.
 * docs/algorithms.md lists every reading of the paper made here: the merge
 * pairs re-tested after a step are those involving a cluster the step changed
 * (an untouched pair can only change through tau in its frequency test), a
 * singleton never splits, and the frequency tests, which never fire when
 * every user is served once per round (colb's protocol), are kept exact at
 * O(1) by the global range of the T_i.
 *
 * Cost per step: two rank-one updates O(d^2); scoring O(K d^2) for a
 * cluster's first user of a round (the hand-written score_x kernel on the
 * round's transposed contexts) and O(K d) for the next ones, whose means and
 * quadratic forms are carried through the cluster's rank-one updates
 * (round_scores.h; only clusters of two or more users are kept); the split
 * test O(d) (O(|C_j|) more only when the T_i spread), merge tests O(m d) for
 * the m clusters (a sorted list of the occupied slots) when the served
 * cluster is checked, a split or merge O(d^3).
 * State: flat arrays in the impl struct (two ridge banks of N models). */
#include <string.h>

#include "learn/thompson.h"
#include "linalg/ridge.h"
#include "linalg/round_scores.h"
#include "policies/bank_persist.h"
#include "policies/policy_impl.h"

#define NONE ((size_t)-1)

typedef struct sclub {
    colb__ridge users;     /* N: V_i, b_i, theta_i; count = T_i */
    colb__ridge clus;      /* N slots: the clusters' aggregates; count = T_j */
    size_t *cl;            /* N: each user's cluster slot */
    size_t *nxt, *prv;     /* N: the members of a cluster, a doubly linked list */
    size_t *head, *tail;   /* N slots */
    size_t *size;          /* N slots: members (0: the slot is free) */
    size_t *n_checked;     /* N slots: members checked in this phase */
    unsigned char *checked;/* N: checked in this phase */
    double *pivot;         /* N slots x d: theta~ at the phase start */
    uint64_t *pivot_T;     /* N slots: T~ */
    uint64_t tau;          /* steps so far */
    uint64_t phase_end;    /* last step of the current phase */
    unsigned phase;
    uint64_t T_min, T_max; /* range of the users' T_i */
    size_t at_min;         /* users with T_i == T_min */
    size_t *live;          /* the n_clusters occupied slots, increasing */
    double *Fc, *Fp;       /* N slots: F(T_j) and F(T~_j) as last computed, */
    uint64_t *FcT, *FpT;   /* for T + 1 (0: never), recomputed when T moves */
    size_t n_clusters, splits, merges;
    double alpha, alpha_p;
    colb__round_scores rs; /* the clusters' scores on the round's arms */
    colb__scratch sc;      /* Thompson sampling: its draws' scores and work
                              (colb__ts_work(d)) */
} sclub;

/* Bytes per user of the arrays beside the banks (alloc_arrays) and of the
 * round's score cache's bookkeeping. */
#define SCLUB_USER_BYTES(d) (8.0 * (double)(d) + 121 + 24)

static double F(double T)
{
    return sqrt((1.0 + log(1.0 + T)) / (1.0 + T));
}

/* F(T) through slot k's entry of a cache (v, tag): a log and a root only
 * when T changed since the last call (the same bits either way). */
static double F_cached(double *v, uint64_t *tag, size_t k, uint64_t T)
{
    if (tag[k] != T + 1) {
        v[k] = F((double)T);
        tag[k] = T + 1;
    }
    return v[k];
}

static colb_status sclub_check(const colb_policy_params *pp, char *msg, size_t len)
{
    if (!isfinite(pp->sclub_alpha) || pp->sclub_alpha <= 0.0)
        return colb__say(msg, len, isfinite(pp->sclub_alpha) ? COLB_ERANGE : COLB_ENONFIN,
                         "sclub: sclub_alpha = %g must be > 0", pp->sclub_alpha);
    if (!isfinite(pp->sclub_alpha_p) || pp->sclub_alpha_p <= 0.0)
        return colb__say(msg, len, isfinite(pp->sclub_alpha_p) ? COLB_ERANGE : COLB_ENONFIN,
                         "sclub: sclub_alpha_p = %g must be > 0", pp->sclub_alpha_p);
    return COLB_OK;
}

static void set_info(colb_policy *p)
{
    const sclub *s = p->impl;
    snprintf(p->info, sizeof p->info, "phase=%u clusters=%zu splits=%zu merges=%zu", s->phase,
             s->n_clusters, s->splits, s->merges);
}

static void sclub_destroy(colb_policy *p)
{
    sclub *s = p->impl;
    if (!s)
        return;
    colb__ridge_free(&s->users);
    colb__ridge_free(&s->clus);
    free(s->cl);
    free(s->nxt);
    free(s->prv);
    free(s->head);
    free(s->tail);
    free(s->size);
    free(s->n_checked);
    free(s->checked);
    free(s->pivot);
    free(s->pivot_T);
    free(s->live);
    free(s->Fc);
    free(s->Fp);
    free(s->FcT);
    free(s->FpT);
    colb__rs_free(&s->rs);
    colb__scratch_free(&s->sc);
    free(s);
    p->impl = NULL;
}

/* The per-user and per-slot arrays for N users (the banks apart). */
static colb_status alloc_arrays(sclub *s, size_t N, size_t d)
{
    s->cl = colb__calloc(N, sizeof(size_t));
    s->nxt = colb__malloc(N, sizeof(size_t));
    s->prv = colb__malloc(N, sizeof(size_t));
    s->head = colb__malloc(N, sizeof(size_t));
    s->tail = colb__malloc(N, sizeof(size_t));
    s->size = colb__calloc(N, sizeof(size_t));
    s->n_checked = colb__calloc(N, sizeof(size_t));
    s->checked = colb__calloc(N, 1);
    s->pivot = colb__calloc(N, d * sizeof(double));
    s->pivot_T = colb__calloc(N, sizeof(uint64_t));
    s->live = colb__malloc(N, sizeof(size_t));
    s->Fc = colb__malloc(N, sizeof(double));
    s->Fp = colb__malloc(N, sizeof(double));
    s->FcT = colb__calloc(N, sizeof(uint64_t));
    s->FpT = colb__calloc(N, sizeof(uint64_t));
    return s->cl && s->nxt && s->prv && s->head && s->tail && s->size && s->n_checked &&
                   s->checked && s->pivot && s->pivot_T && s->live && s->Fc && s->Fp && s->FcT &&
                   s->FpT ? COLB_OK : COLB_ENOMEM;
}

/* Slot k becomes occupied: into the sorted list of live slots. O(m). */
static void live_insert(sclub *s, size_t k)
{
    size_t q = s->n_clusters++;
    for (; q > 0 && s->live[q - 1] > k; q--)
        s->live[q] = s->live[q - 1];
    s->live[q] = k;
}

/* Slot k is free again. O(m). */
static void live_remove(sclub *s, size_t k)
{
    size_t q = 0;
    while (s->live[q] != k)
        q++;
    for (s->n_clusters--; q < s->n_clusters; q++)
        s->live[q] = s->live[q + 1];
}

/* The round's score cache for the N slots; COLB_KERNEL errors reported. */
static colb_status init_scores(colb_policy *p, sclub *s)
{
    colb_status st = colb__rs_init(&s->rs, p->N, p->d);
    if (st == COLB_EINVAL || st == COLB_EUNSUP)
        return colb__err(p->err, st, "COLB_KERNEL = %s is not a kernel this CPU runs",
                         getenv("COLB_KERNEL"));
    return st == COLB_OK ? st : colb__err(p->err, st, "out of memory for N = %zu users", p->N);
}

/* Append user u to the member list of slot j. */
static void list_append(sclub *s, size_t j, size_t u)
{
    s->nxt[u] = NONE;
    s->prv[u] = s->tail[j];
    if (s->tail[j] != NONE)
        s->nxt[s->tail[j]] = u;
    else
        s->head[j] = u;
    s->tail[j] = u;
    s->size[j]++;
}

/* The range of the T_i and how many users are at its low end. */
static void count_range(sclub *s, size_t N)
{
    s->T_min = UINT64_MAX;
    s->T_max = 0;
    s->at_min = 0;
    for (size_t l = 0; l < N; l++) {
        uint64_t T = s->users.count[l];
        if (T > s->T_max)
            s->T_max = T;
        if (T < s->T_min) {
            s->T_min = T;
            s->at_min = 1;
        } else if (T == s->T_min) {
            s->at_min++;
        }
    }
}

static colb_status sclub_create(colb_policy *p)
{
    size_t N = p->N, d = p->d;
    sclub *s = calloc(1, sizeof *s);
    if (!s)
        return colb__err(p->err, COLB_ENOMEM, "out of memory");
    p->impl = s;
    s->alpha = p->pp.sclub_alpha;
    s->alpha_p = p->pp.sclub_alpha_p;
    colb_status st = init_scores(p, s);
    if (st != COLB_OK)
        return st;
    if (alloc_arrays(s, N, d) != COLB_OK ||
        colb__ridge_init(&s->users, N, d, &p->pp.learner) != COLB_OK ||
        colb__ridge_init(&s->clus, N, d, &p->pp.learner) != COLB_OK)
        return colb__err(p->err, COLB_ENOMEM, "out of memory for N = %zu users", N);
    /* one cluster (slot 0) of everybody, users in order */
    for (size_t u = 0; u < N; u++)
        s->head[u] = s->tail[u] = NONE;
    for (size_t u = 0; u < N; u++)
        list_append(s, 0, u);
    live_insert(s, 0);
    s->at_min = N;
    set_info(p);
    return COLB_OK;
}

static colb_status sclub_begin(colb_policy *p)
{
    sclub *s = p->impl;
    colb_status st = colb__rs_begin(&s->rs, p->X, p->K);
    if (st == COLB_OK && colb__policy_ts(p))
        st = colb__scratch_reserve_n(&s->sc, p->K, 1, colb__ts_work(p->d));
    return st == COLB_OK ? st : colb__err(p->err, st, "begin_round: out of memory for K = %zu", p->K);
}

/* A new phase: every user unchecked, every cluster's pivot recorded. */
static void start_phase(sclub *s, size_t N, size_t d)
{
    s->phase++;
    s->phase_end = ((uint64_t)2 << s->phase) - 2; /* 2^{s+1} - 2 */
    memset(s->checked, 0, N);
    for (size_t j = 0; j < N; j++) {
        s->n_checked[j] = 0;
        if (!s->size[j])
            continue;
        memcpy(s->pivot + j * d, s->clus.theta + j * d, d * sizeof(double));
        s->pivot_T[j] = s->clus.count[j];
    }
}

static colb_status sclub_choose(colb_policy *p, size_t u, size_t *arm)
{
    sclub *s = p->impl;
    if (++s->tau > s->phase_end) {
        start_phase(s, p->N, p->d);
        set_info(p);
    }
    size_t j = s->cl[u];
    if (colb__policy_ts(p)) /* the draws are fresh per choose: nothing to keep */
        *arm = colb__ts_choose(&s->clus, j, NULL, p->X, p->K, &p->ts_rng, s->sc.scores, s->sc.work);
    else /* a cluster of one is scored once per round: not kept */
        *arm = colb__rs_choose(&s->rs, &s->clus, j, colb__ridge_width(&s->clus, j), 1.0,
                               s->size[j] > 1);
    return COLB_OK;
}

/* ||a - b|| for d values. */
static double dist(const double *a, const double *b, size_t d)
{
    double q = 0.0;
    for (size_t k = 0; k < d; k++)
        q += (a[k] - b[k]) * (a[k] - b[k]);
    return sqrt(q);
}

/* The frequency part of the split test: is there l in C_j with
 * |T_u - T_l| > thr? The global range of the T_i answers "no" in O(1)
 * unless the counts spread (they never do when every user is served each
 * round); then the members are scanned. */
static int freq_split(const sclub *s, size_t u, size_t j, double thr)
{
    double Tu = (double)s->users.count[u];
    if (Tu - (double)s->T_min <= thr && (double)s->T_max - Tu <= thr)
        return 0;
    for (size_t l = s->head[j]; l != NONE; l = s->nxt[l])
        if (fabs(Tu - (double)s->users.count[l]) > thr)
            return 1;
    return 0;
}

/* Keep the global range of the T_i after T_u grew by one. */
static void count_served(sclub *s, size_t u, size_t N)
{
    uint64_t Tu = s->users.count[u];
    if (Tu > s->T_max)
        s->T_max = Tu;
    if (Tu - 1 == s->T_min && --s->at_min == 0) {
        s->T_min = UINT64_MAX;
        for (size_t l = 0; l < N; l++)
            if (s->users.count[l] < s->T_min) {
                s->T_min = s->users.count[l];
                s->at_min = 1;
            } else if (s->users.count[l] == s->T_min) {
                s->at_min++;
            }
    }
}

static void list_remove(sclub *s, size_t j, size_t u)
{
    if (s->prv[u] != NONE)
        s->nxt[s->prv[u]] = s->nxt[u];
    else
        s->head[j] = s->nxt[u];
    if (s->nxt[u] != NONE)
        s->prv[s->nxt[u]] = s->prv[u];
    else
        s->tail[j] = s->prv[u];
    s->nxt[u] = s->prv[u] = NONE;
}

/* User u leaves cluster j for a new cluster of its own; returns its slot. */
static colb_status split(colb_policy *p, sclub *s, size_t u, size_t j, size_t *out)
{
    size_t d = p->d, k = 0;
    while (s->size[k]) /* the lowest free slot (one exists: j has >= 2 members) */
        k++;
    list_remove(s, j, u);
    s->size[j]--;
    s->n_checked[j] -= s->checked[u];
    colb__ridge_unabsorb(&s->clus, j, &s->users, u);
    colb__rs_forget(&s->rs, j);
    colb__rs_forget(&s->rs, k);
    colb_status st = colb__ridge_refresh(&s->clus, j);
    if (st != COLB_OK)
        return colb__err(p->err, st, "observe: cluster aggregate not positive definite after a split");
    colb__ridge_copy_model(&s->clus, k, &s->users, u);
    s->head[k] = s->tail[k] = u;
    s->size[k] = 1;
    s->n_checked[k] = s->checked[u];
    memcpy(s->pivot + k * d, s->users.theta + u * d, d * sizeof(double));
    s->pivot_T[k] = s->users.count[u];
    s->cl[u] = k;
    live_insert(s, k);
    s->splits++;
    *out = k;
    return COLB_OK;
}

/* Merge clusters a < b into a. */
static colb_status merge(colb_policy *p, sclub *s, size_t a, size_t b)
{
    for (size_t l = s->head[b]; l != NONE; l = s->nxt[l])
        s->cl[l] = a;
    s->nxt[s->tail[a]] = s->head[b];
    s->prv[s->head[b]] = s->tail[a];
    s->tail[a] = s->tail[b];
    s->head[b] = s->tail[b] = NONE;
    s->size[a] += s->size[b];
    s->n_checked[a] += s->n_checked[b];
    s->size[b] = s->n_checked[b] = 0;
    colb__ridge_absorb(&s->clus, a, &s->clus, b);
    colb__ridge_reset(&s->clus, b);
    colb__rs_forget(&s->rs, a);
    colb__rs_forget(&s->rs, b);
    live_remove(s, b);
    s->merges++;
    colb_status st = colb__ridge_refresh(&s->clus, a);
    return st == COLB_OK ? st : colb__err(p->err, st, "observe: cluster aggregate not positive definite after a merge");
}

static int is_checked(const sclub *s, size_t j)
{
    return s->size[j] && s->n_checked[j] == s->size[j];
}

/* Merge checked cluster j with every checked cluster that qualifies,
 * repeatedly (the merged cluster is tested again). Ftau = F(tau). */
static colb_status merge_from(colb_policy *p, sclub *s, size_t j, double Ftau)
{
    size_t d = p->d;
    double tau = (double)s->tau, fthr = s->alpha_p * Ftau * tau;
    int again = 1;
    while (again && is_checked(s, j)) {
        again = 0;
        double Tj = (double)s->clus.count[j], Fj = F_cached(s->Fc, s->FcT, j, s->clus.count[j]);
        double pj = Tj / (double)s->size[j];
        for (size_t q = 0; q < s->n_clusters && !again; q++) {
            size_t k = s->live[q];
            if (k == j || !is_checked(s, k))
                continue;
            double Tk = (double)s->clus.count[k];
            if (dist(s->clus.theta + j * d, s->clus.theta + k * d, d) <
                    0.5 * s->alpha * (Fj + F_cached(s->Fc, s->FcT, k, s->clus.count[k])) &&
                fabs(pj - Tk / (double)s->size[k]) < fthr) {
                size_t a = j < k ? j : k, b = j < k ? k : j;
                colb_status st = merge(p, s, a, b);
                if (st != COLB_OK)
                    return st;
                j = a;
                again = 1;
            }
        }
    }
    return COLB_OK;
}

static colb_status sclub_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    sclub *s = p->impl;
    size_t d = p->d, j = s->cl[u];
    const double *x = p->X + arm * d;
    /* the user and its cluster in one interleaved step, the cluster's
     * cached scores carried */
    colb__rs_update2(&s->rs, &s->users, u, 0, &s->clus, j, x, y, 1.0);
    count_served(s, u, p->N);

    /* split */
    double Tu = (double)s->users.count[u], tau = (double)(s->tau ? s->tau : 1), Ftau = F(tau);
    size_t home = j, before = s->splits + s->merges;
    if (s->size[j] > 1 &&
        (dist(s->users.theta + u * d, s->pivot + j * d, d) >
             s->alpha * (F(Tu) + F_cached(s->Fp, s->FpT, j, s->pivot_T[j])) ||
         freq_split(s, u, j, 2.0 * s->alpha_p * Ftau * tau))) {
        colb_status st = split(p, s, u, j, &home);
        if (st != COLB_OK) {
            set_info(p);
            return st;
        }
    }
    /* check */
    if (!s->checked[u]) {
        s->checked[u] = 1;
        s->n_checked[home]++;
    }
    /* merge: the clusters this step changed */
    colb_status st = merge_from(p, s, home, Ftau);
    if (st == COLB_OK && home != j && s->size[j])
        st = merge_from(p, s, j, Ftau);
    if (s->splits + s->merges != before || st != COLB_OK) /* info: only what changed */
        set_info(p);
    return st;
}

static const double *sclub_theta_ref(const colb_policy *p, size_t u)
{
    const sclub *s = p->impl;
    return s->users.theta + u * p->d;
}

static colb_status sclub_theta(const colb_policy *p, size_t u, double *theta)
{
    memcpy(theta, sclub_theta_ref(p, u), p->d * sizeof(double));
    return COLB_OK;
}

/* Labels 0, 1, ... in the order of the clusters' slots. */
static colb_status sclub_clusters(const colb_policy *p, size_t *labels, size_t *n)
{
    const sclub *s = p->impl;
    size_t m = 0;
    for (size_t j = 0; j < p->N; j++) {
        if (!s->size[j])
            continue;
        for (size_t l = s->head[j]; l != NONE; l = s->nxt[l])
            labels[l] = m;
        m++;
    }
    *n = m;
    return COLB_OK;
}

/* Memory budget: two banks of N models, per-user and per-slot arrays (the
 * round's cache of scores holds 16 Kp bytes per cluster of two or more users
 * served in the round, on top). */
static double sclub_memory(const colb_policy_params *pp)
{
    return 2 * colb__ridge_bytes(pp->users, pp->dim) + (double)pp->users * SCLUB_USER_BYTES(pp->dim);
}

/* The banks (every slot), each user's slot and the slots' member lists as
 * one order of the users (slot by slot, each list in order), the checked
 * marks, pivots and counters. */
static colb_status sclub_save(const colb_policy *p, colb__snap_out *w)
{
    const sclub *s = p->impl;
    size_t N = p->N, m = 0;
    size_t *tmp = colb__malloc(N, sizeof(size_t));
    if (!tmp)
        return colb__snap_fail(w, COLB_ENOMEM, "sclub: out of memory saving %zu users", N);
    colb__snap_u64(w, "tau", s->tau);
    colb__snap_u64(w, "phase", s->phase);
    colb__snap_u64(w, "splits", s->splits);
    colb__snap_u64(w, "merges", s->merges);
    colb__ridge_save(w, "users", &s->users, N);
    colb__ridge_save(w, "clusters", &s->clus, N);
    colb__snap_sizes(w, "slot", s->cl, N);
    for (size_t j = 0; j < N; j++)
        for (size_t l = s->size[j] ? s->head[j] : NONE; l != NONE; l = s->nxt[l])
            tmp[m++] = l;
    colb__snap_sizes(w, "order", tmp, N);
    for (size_t u = 0; u < N; u++)
        tmp[u] = s->checked[u];
    colb__snap_sizes(w, "checked", tmp, N);
    colb__snap_f64s(w, "pivot", s->pivot, N * p->d);
    colb__snap_u64s(w, "pivot_T", s->pivot_T, N);
    free(tmp);
    return colb__snap_status(w);
}

static colb_status sclub_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g)
{
    size_t N = p->N, d = p->d, phase = 0;
    sclub *s = calloc(1, sizeof *s);
    if (!s)
        return COLB_ENOMEM;
    p->impl = s;
    s->alpha = p->pp.sclub_alpha;
    s->alpha_p = p->pp.sclub_alpha_p;
    /* the banks first: their arrays in the file vouch for N and d */
    colb_status st = colb__ridge_load(in, g, "users", &s->users, N, d, &p->pp.learner, NULL);
    if (st == COLB_OK)
        st = colb__ridge_load(in, g, "clusters", &s->clus, N, d, &p->pp.learner, NULL);
    if (st == COLB_OK)
        st = colb__snap_reserve(in, (uint64_t)((double)N * SCLUB_USER_BYTES(d)), "sclub's users");
    if (st == COLB_OK && alloc_arrays(s, N, d) != COLB_OK)
        st = colb__snap_error(in, COLB_ENOMEM, "out of memory for sclub's %zu users", N);
    if (st == COLB_OK) {
        colb_status kst = colb__rs_init(&s->rs, N, d);
        if (kst == COLB_EINVAL || kst == COLB_EUNSUP)
            st = colb__snap_error(in, kst, "COLB_KERNEL = %s is not a kernel this CPU runs",
                                  getenv("COLB_KERNEL"));
        else if (kst != COLB_OK)
            st = colb__snap_error(in, COLB_ENOMEM, "out of memory for sclub's %zu users", N);
    }
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "tau", &s->tau);
    if (st == COLB_OK) /* phase_end = 2^(phase+1) - 2, and the next phase's, must not overflow */
        st = colb__snap_get_size(in, g, "phase", 0, 61, &phase);
    if (st == COLB_OK && s->tau > ((uint64_t)2 << phase) - 2) /* a phase ends at its step 2^(phase+1) - 2 */
        st = colb__snap_error(in, COLB_EPARSE, "sclub: step tau = %llu is past the end of phase %zu",
                              (unsigned long long)s->tau, phase);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "splits", &s->splits);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "merges", &s->merges);
    if (st == COLB_OK)
        st = colb__snap_get_sizes(in, g, "slot", s->cl, N, N);
    if (st == COLB_OK) /* the checked marks, through nxt as scratch */
        st = colb__snap_get_sizes(in, g, "checked", s->nxt, N, 2);
    for (size_t u = 0; st == COLB_OK && u < N; u++)
        s->checked[u] = (unsigned char)s->nxt[u];
    size_t *order = st == COLB_OK ? colb__malloc(N, sizeof(size_t)) : NULL;
    if (st == COLB_OK && !order)
        st = colb__snap_error(in, COLB_ENOMEM, "out of memory for sclub's %zu users", N);
    if (st == COLB_OK)
        st = colb__snap_get_sizes(in, g, "order", order, N, N);
    if (st == COLB_OK)
        st = colb__snap_get_f64s_within(in, g, "pivot", s->pivot, N * d, COLB__SNAP_MODEL_MAX);
    if (st == COLB_OK)
        st = colb__snap_get_u64s(in, g, "pivot_T", s->pivot_T, N);
    /* order must be a permutation of the users, each slot's users together
     * (n_checked and size serve as marks of users and slots seen) */
    for (size_t q = 0; st == COLB_OK && q < N; q++) {
        size_t u = order[q], j = s->cl[u];
        if (s->n_checked[u]++)
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: sclub's order repeats user %zu", u);
        else if (q && j != s->cl[order[q - 1]] && s->size[j])
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: sclub's slot %zu is not contiguous "
                                  "in its order", j);
        s->size[j] = 1;
    }
    if (st != COLB_OK) {
        free(order);
        return st;
    }
    for (size_t j = 0; j < N; j++) {
        s->head[j] = s->tail[j] = NONE;
        s->size[j] = s->n_checked[j] = 0;
    }
    for (size_t q = 0; q < N; q++) {
        size_t u = order[q];
        list_append(s, s->cl[u], u);
        s->n_checked[s->cl[u]] += s->checked[u];
    }
    free(order);
    for (size_t j = 0; j < N; j++)
        if (s->size[j])
            s->live[s->n_clusters++] = j;
    s->phase = (unsigned)phase;
    s->phase_end = phase ? ((uint64_t)2 << phase) - 2 : 0;
    count_range(s, N);
    set_info(p);
    return COLB_OK;
}

/* Newcomers start as clusters of their own (no data: nothing to pool), not
 * checked; the merge test joins them to a cluster once they are served. */
static colb_status sclub_add_users(colb_policy *p, size_t n, const size_t *labels)
{
    (void)labels;
    sclub *s = p->impl;
    size_t N = p->N, M = N + n, d = p->d;
    if (colb__realloc_n(&s->cl, M, sizeof(size_t)) || colb__realloc_n(&s->nxt, M, sizeof(size_t)) ||
        colb__realloc_n(&s->prv, M, sizeof(size_t)) || colb__realloc_n(&s->head, M, sizeof(size_t)) ||
        colb__realloc_n(&s->tail, M, sizeof(size_t)) || colb__realloc_n(&s->size, M, sizeof(size_t)) ||
        colb__realloc_n(&s->n_checked, M, sizeof(size_t)) || colb__realloc_n(&s->checked, M, 1) ||
        colb__realloc_n(&s->pivot, M, d * sizeof(double)) ||
        colb__realloc_n(&s->pivot_T, M, sizeof(uint64_t)) || colb__realloc_n(&s->live, M, sizeof(size_t)) ||
        colb__realloc_n(&s->Fc, M, sizeof(double)) || colb__realloc_n(&s->Fp, M, sizeof(double)) ||
        colb__realloc_n(&s->FcT, M, sizeof(uint64_t)) || colb__realloc_n(&s->FpT, M, sizeof(uint64_t)) ||
        colb__ridge_grow(&s->users, M) != COLB_OK || colb__ridge_grow(&s->clus, M) != COLB_OK ||
        colb__rs_grow(&s->rs, M) != COLB_OK)
        return COLB_ENOMEM; /* arrays already grown are only larger: the policy is intact */
    for (size_t j = N; j < M; j++) { /* new slots, as sclub_create leaves them (a
                                        slot below N may take a newcomer instead,
                                        and every slot is saved) */
        s->head[j] = s->tail[j] = NONE;
        s->size[j] = s->n_checked[j] = 0;
        s->FcT[j] = s->FpT[j] = 0;
        s->Fc[j] = s->Fp[j] = 0.0;
        memset(s->pivot + j * d, 0, d * sizeof(double));
        s->pivot_T[j] = 0;
    }
    for (size_t u = N; u < M; u++) {
        size_t k = 0;
        while (s->size[k]) /* the lowest free slot (N + n slots for N + n users) */
            k++;
        colb__ridge_reset(&s->clus, k);
        colb__ridge_reset(&s->users, u);
        colb__rs_forget(&s->rs, k);
        s->checked[u] = 0;
        s->cl[u] = k;
        list_append(s, k, u);
        memcpy(s->pivot + k * d, s->clus.theta + k * d, d * sizeof(double));
        s->pivot_T[k] = 0;
        live_insert(s, k);
    }
    count_range(s, M);
    set_info(p);
    return COLB_OK;
}

/* The round's carried scores against a direct computation (tests). */
static colb_status sclub_cache_check(const colb_policy *p, double *max_rel, size_t *n_cached)
{
    const sclub *s = p->impl;
    *n_cached = colb__rs_cached(&s->rs);
    return colb__rs_check(&s->rs, &s->clus, max_rel);
}

static void sclub_cache_off(colb_policy *p, int off)
{
    sclub *s = p->impl;
    s->rs.off = off != 0;
}

const colb__policy_vt colb__policy_sclub = {
    .name = "sclub",
    .sequential = 1,
    .check = sclub_check,
    .create = sclub_create,
    .destroy = sclub_destroy,
    .begin_round = sclub_begin,
    .choose = sclub_choose,
    .observe = sclub_observe,
    .user_theta = sclub_theta,
    .user_theta_ref = sclub_theta_ref,
    .clusters = sclub_clusters,
    .memory = sclub_memory,
    .save = sclub_save,
    .load = sclub_load,
    .add_users = sclub_add_users,
    .cache_check = sclub_cache_check,
    .cache_off = sclub_cache_off,
};
