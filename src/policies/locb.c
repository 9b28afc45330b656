/* locb.c - "locb": LOCB, local clustering in contextual bandits (Yikun Ban,
 * Jingrui He, "Local clustering in contextual multi-armed bandits", The Web
 * Conference 2021, arXiv:2103.00063; the authors' code
 * github.com/banyikun/LOCB, LOCB.py), in colb's protocol.
 *
 * Users are served one at a time (users 0..N-1 in order within a colb round,
 * each update seen before the next choice, as CLUB). Every user i keeps its
 * own ridge model V_i = lambda I + sum x x^T, b_i, theta_i and T_i (times
 * served). S seed users are drawn at random (distinct, from the policy's own
 * stream); seed s owns a neighbourhood N_s, initially every user, and the
 * aggregate M_s = lambda I + sum_{i in N_s} (V_i - lambda I), b_s, theta_s.
 * Neighbourhoods overlap. Serving user i:
 *   choose   among the neighbourhoods that contain i, the one whose best arm
 *            has the highest score <x, theta_s> + width_s ||x||_{M_s^-1}
 *            plays that arm (colb's shared width: a fixed alpha or the OFUL
 *            radius of M_s; Thompson sampling: the highest sampled score); a
 *            user in no neighbourhood plays by its own model;
 *   update   V_i, b_i, T_i and every aggregate M_s with i in N_s;
 *   refine   for every seed s whose neighbourhood is not final: i leaves N_s
 *            when ||theta_i - theta_seed|| > F(T_i) + F(T_seed), and joins it
 *            when the distance is below that (its whole data leave or join
 *            the aggregate); F(T) = sqrt((1 + ln(1 + T)) / (1 + T)). N_s
 *            becomes final once F(T_seed) <= gamma / 4.
 * The reported clusters (colb_policy_clusters) are the classes of users
 * with the same set of neighbourhoods; users in none are alone.
 * docs/algorithms.md lists the readings of the paper and of the authors'
 * code made here (seed draw, exploration width, the threshold F).
 *
 * One aggregate per member set: M_s is a function of N_s alone (the sum
 * of its members' data), so neighbourhoods with the same members - all of
 * them at the start, the seeds of one cluster once it has separated -
 * share one aggregate, kept once and updated once per step. (In exact
 * arithmetic this is the algorithm itself; in floating point the shared
 * aggregate is one of the roundings that separate copies would have
 * reached, so a near-tie may resolve otherwise than with copies.) A
 * neighbourhood whose set changes moves to the aggregate of its new set if
 * one exists, else changes its own in place, or a copy of the shared one.
 *
 * Cost per step, for the g distinct aggregates of the neighbourhoods
 * containing the user (1 at the start, about 1 once the clusters have
 * separated, at most S): g + 1 rank-one updates O(d^2), and scoring O(g K d)
 * - an aggregate's means and quadratic forms on the round's arms are
 * computed once per round by the hand-written score_x kernel (O(K d^2)) and
 * carried through its rank-one updates in O(K d) each (round_scores.h) -;
 * the refinement O(S d), and O(d^3 + N) for each neighbourhood the user
 * leaves or joins (its whole data leave or join the aggregate; N to find
 * the aggregate of its new set). State: flat arrays in the impl struct (a
 * ridge bank of N users, one of up to S aggregates, an S x N membership
 * matrix). */
#include <string.h>

#include <xxhash.h>

#include "learn/thompson.h"
#include "linalg/ridge.h"
#include "linalg/round_scores.h"
#include "policies/bank_persist.h"
#include "policies/policy_impl.h"

#define NONE ((size_t)-1)

/* 1 -+ 2^-50: dz <= thr^2 (1 - 2^-50) gives sqrt(dz) < thr and dz >=
 * thr^2 (1 + 2^-50) gives sqrt(dz) > thr, whatever the roundings of thr^2,
 * of the product and of the square root (each within 2^-53 relative). */
#define SURE_BELOW (1.0 - 0x1p-50)
#define SURE_ABOVE (1.0 + 0x1p-50)

/* Stream of the policy's seed that draws the seed users ("LOCBseed"). */
#define LOCB_STREAM_SEEDS UINT64_C(0x4c4f434273656564)

typedef struct locb {
    colb__ridge users;     /* N: V_i, b_i, theta_i; count = T_i */
    colb__ridge hood;      /* S slots: the distinct aggregates */
    size_t S;
    size_t *agg;           /* S: neighbourhood s's aggregate (a slot of hood) */
    size_t *refs;          /* S: neighbourhoods per slot (0: a free slot) */
    size_t *rep;           /* S: a neighbourhood of slot a (whose member row is a's set) */
    uint64_t *hash;        /* S: XXH3 of slot a's member set */
    uint64_t *mark;        /* S: slot a was stepped / scored at call mark[a] */
    uint64_t calls;        /* choose and observe calls so far */
    size_t *seed;          /* S: the seed users */
    unsigned char *member; /* S x N: user i in N_s */
    unsigned char *mt;     /* N x S: the same transposed (a user's row contiguous) */
    int fz_stale;          /* Fz not computed yet (create, load) */
    unsigned char *final;  /* S: N_s no longer refined */
    size_t n_final;
    size_t n_member;       /* entries of member set: the neighbourhoods' sizes summed */
    double *Fz;            /* S: F(T_seed), recomputed when the seed is served */
    size_t Sp;             /* S rounded up to 8: zT's columns, dz's length */
    double *zT, *dz;       /* d x Sp: the seeds' theta transposed (the refinement's
                              distances in one kernel call); S: those distances^2 */
    double gamma;
    double *Ftab;          /* Flen: F(T) for T < Flen (F_of) */
    size_t Flen;
    colb__round_scores rs; /* the aggregates' scores on the round's arms */
    colb__scratch sc;      /* Thompson sampling: one model's draws and their work
                              (colb__ts_work(d)) */
} locb;

static double F(double T)
{
    return sqrt((1.0 + log(1.0 + T)) / (1.0 + T));
}

/* F(T) through a table of F(0..Flen) grown on demand (doubling, up to
 * FTAB_MAX entries; beyond, or without memory, computed): a user's F is
 * needed at each of its steps, and T only grows. */
#define FTAB_MAX ((size_t)1 << 16)
static double F_of(locb *c, uint64_t T)
{
    if (T < c->Flen)
        return c->Ftab[T];
    if (T >= FTAB_MAX)
        return F((double)T);
    size_t len = c->Flen ? c->Flen : 256;
    while (len <= T)
        len *= 2;
    if (colb__realloc_n(&c->Ftab, len, sizeof(double)))
        return F((double)T);
    for (size_t t = c->Flen; t < len; t++)
        c->Ftab[t] = F((double)t);
    c->Flen = len;
    return c->Ftab[T];
}

static colb_status locb_check(const colb_policy_params *pp, char *msg, size_t len)
{
    if (pp->locb_seeds == 0)
        return colb__say(msg, len, COLB_ERANGE, "locb: locb_seeds must be >= 1");
    if (!isfinite(pp->locb_gamma) || pp->locb_gamma <= 0.0)
        return colb__say(msg, len, isfinite(pp->locb_gamma) ? COLB_ERANGE : COLB_ENONFIN,
                         "locb: locb_gamma = %g must be > 0", pp->locb_gamma);
    return COLB_OK;
}

static void set_info(colb_policy *p)
{
    const locb *c = p->impl;
    snprintf(p->info, sizeof p->info, "seeds=%zu final=%zu mean_neighbourhood=%.1f", c->S,
             c->n_final, (double)c->n_member / (double)c->S);
}

static void locb_destroy(colb_policy *p)
{
    locb *c = p->impl;
    if (!c)
        return;
    colb__ridge_free(&c->users);
    colb__ridge_free(&c->hood);
    free(c->agg);
    free(c->refs);
    free(c->rep);
    free(c->hash);
    free(c->mark);
    free(c->seed);
    free(c->member);
    free(c->final);
    free(c->Fz);
    free(c->mt);
    free(c->Ftab);
    free(c->zT);
    free(c->dz);
    colb__rs_free(&c->rs);
    colb__scratch_free(&c->sc);
    free(c);
    p->impl = NULL;
}

/* Column s of zT from the seed's current theta. */
static void sync_seed(locb *c, size_t s, size_t d)
{
    const double *t = c->users.theta + c->seed[s] * d;
    for (size_t k = 0; k < d; k++)
        c->zT[k * c->Sp + s] = t[k];
}

/* mt from member (create, load, add_users). */
static void transpose_members(locb *c, size_t N)
{
    for (size_t s = 0; s < c->S; s++)
        for (size_t i = 0; i < N; i++)
            c->mt[i * c->S + s] = c->member[s * N + i];
}

/* ---- one aggregate per member set ---------------------------------- */

static uint64_t set_hash(const locb *c, size_t s, size_t N)
{
    return XXH3_64bits(c->member + s * N, N);
}

/* The slot other than `skip` whose set is neighbourhood s's (hash h), or
 * NONE. O(S + N). */
static size_t find_set(const locb *c, size_t s, uint64_t h, size_t skip, size_t N)
{
    for (size_t b = 0; b < c->S; b++)
        if (c->refs[b] && b != skip && c->hash[b] == h &&
            !memcmp(c->member + c->rep[b] * N, c->member + s * N, N))
            return b;
    return NONE;
}

/* Slot i holds neighbourhood i's aggregate (create, load, add_users): the
 * neighbourhoods with the same set share the slot of the first of them
 * (the others' copies are dropped: they are the same aggregate). */
static void group(locb *c, size_t N)
{
    for (size_t s = 0; s < c->S; s++) {
        uint64_t h = set_hash(c, s, N);
        size_t b = find_set(c, s, h, NONE, N);
        if (b == NONE) {
            b = s;
            c->rep[s] = s;
            c->hash[s] = h;
        }
        c->agg[s] = b;
        c->refs[b]++;
        colb__rs_forget(&c->rs, s);
    }
}

/* The arrays of the grouping (S set); 0 or COLB_ENOMEM. */
static colb_status alloc_groups(locb *c)
{
    c->agg = colb__malloc(c->S, sizeof(size_t));
    c->refs = colb__calloc(c->S, sizeof(size_t));
    c->rep = colb__malloc(c->S, sizeof(size_t));
    c->hash = colb__malloc(c->S, sizeof(uint64_t));
    c->mark = colb__calloc(c->S, sizeof(uint64_t));
    return c->agg && c->refs && c->rep && c->hash && c->mark ? COLB_OK : COLB_ENOMEM;
}

/* User u has just joined (join) or left neighbourhood s (its member row
 * already says so): s moves to the aggregate of its new set, or changes
 * its own (its only user's) in place, or a copy of the one it shared;
 * COLB_ENUMERIC when that aggregate is not positive definite. */
static colb_status change_set(locb *c, size_t s, size_t u, int join, size_t N)
{
    size_t a = c->agg[s];
    if (c->refs[a] > 1 && c->rep[a] == s) /* a's set is described by another member */
        for (size_t q = 0; q < c->S && c->rep[a] == s; q++)
            if (q != s && c->agg[q] == a)
                c->rep[a] = q;
    uint64_t h = set_hash(c, s, N);
    size_t b = find_set(c, s, h, a, N);
    if (b != NONE) { /* the new set has its aggregate already */
        c->refs[a]--;
        c->agg[s] = b;
        c->refs[b]++;
        return COLB_OK;
    }
    if (c->refs[a] > 1) { /* a stays with the others: s gets a copy */
        size_t f = 0;
        while (c->refs[f]) /* a free slot exists: S slots, a serves two */
            f++;
        colb__ridge_copy_model(&c->hood, f, &c->hood, a);
        c->refs[a]--;
        a = c->agg[s] = f;
        c->refs[f] = 1;
    }
    c->rep[a] = s;
    c->hash[a] = h;
    if (join)
        colb__ridge_absorb(&c->hood, a, &c->users, u);
    else
        colb__ridge_unabsorb(&c->hood, a, &c->users, u);
    colb__rs_forget(&c->rs, a);
    return colb__ridge_refresh(&c->hood, a);
}

static colb_status locb_create(colb_policy *p)
{
    size_t N = p->N, d = p->d;
    locb *c = calloc(1, sizeof *c);
    if (!c)
        return colb__err(p->err, COLB_ENOMEM, "out of memory");
    p->impl = c;
    c->S = p->pp.locb_seeds < N ? p->pp.locb_seeds : N;
    c->gamma = p->pp.locb_gamma;
    c->seed = colb__malloc(c->S, sizeof(size_t));
    c->member = colb__malloc(c->S, N);
    c->final = colb__calloc(c->S, 1);
    c->Fz = colb__malloc(c->S, sizeof(double));
    c->mt = colb__malloc(c->S, N);
    c->Sp = (c->S + 7) / 8 * 8; /* padding columns zero: whole vectors in dist2 */
    c->zT = colb__calloc(c->Sp, d * sizeof(double));
    c->dz = colb__malloc(c->Sp, sizeof(double));
    size_t *tmp = colb__malloc(N, sizeof(size_t));
    if (!c->seed || !c->member || !c->final || !c->Fz || !c->mt || !c->zT || !c->dz || !tmp ||
        alloc_groups(c) != COLB_OK ||
        colb__ridge_init(&c->users, N, d, &p->pp.learner) != COLB_OK ||
        colb__ridge_init(&c->hood, c->S, d, &p->pp.learner) != COLB_OK) {
        free(tmp);
        return colb__err(p->err, COLB_ENOMEM, "out of memory for N = %zu users", N);
    }
    colb_rng rng;
    colb_rng_seed(&rng, p->pp.seed, LOCB_STREAM_SEEDS);
    colb_rng_sample(&rng, N, c->S, tmp, c->seed);
    free(tmp);
    for (size_t s = 0; s < c->S; s++)
        sync_seed(c, s, d);
    memset(c->member, 1, c->S * N); /* every neighbourhood starts as everybody */
    memset(c->mt, 1, c->S * N);
    c->fz_stale = 1;
    c->n_member = c->S * N;
    colb_status st = colb__rs_init(&c->rs, c->S, d);
    if (st == COLB_EINVAL || st == COLB_EUNSUP)
        return colb__err(p->err, st, "COLB_KERNEL = %s is not a kernel this CPU runs",
                         getenv("COLB_KERNEL"));
    if (st != COLB_OK)
        return colb__err(p->err, st, "out of memory for N = %zu users", N);
    group(c, N); /* one aggregate: every neighbourhood is everybody */
    set_info(p);
    return COLB_OK;
}

static colb_status locb_begin(colb_policy *p)
{
    locb *c = p->impl;
    colb_status st = colb__rs_begin(&c->rs, p->X, p->K);
    if (st == COLB_OK && colb__policy_ts(p))
        st = colb__scratch_reserve_n(&c->sc, p->K, 1, colb__ts_work(p->d));
    return st == COLB_OK ? st : colb__err(p->err, st, "begin_round: out of memory for K = %zu", p->K);
}

/* The best arm of model i of bank r on the round's contexts; *top receives
 * its score. A neighbourhood (r = hood) is scored through the round's cache
 * (rs), a user's own model afresh; Thompson draws are fresh every time. */
static size_t best(colb_policy *p, locb *c, const colb__ridge *r, size_t i, double *top)
{
    if (colb__policy_ts(p)) {
        colb__ts_scores(r, i, NULL, colb__ridge_width(r, i), p->X, p->K, &p->ts_rng, c->sc.scores,
                        c->sc.work);
        size_t a = colb__argmax(c->sc.scores, p->K);
        *top = c->sc.scores[a];
        return a;
    }
    double w = colb__ridge_width(r, i);
    size_t a = r == &c->hood ? colb__rs_choose(&c->rs, r, i, w, 1.0, 1)
                             : colb__rs_score(&c->rs, r, i, w, 1.0);
    *top = c->rs.scores[a];
    return a;
}

static colb_status locb_choose(colb_policy *p, size_t u, size_t *arm)
{
    locb *c = p->impl;
    int found = 0, ts = colb__policy_ts(p);
    double top = 0.0, v;
    const unsigned char *mu = c->mt + u * c->S;
    c->calls++;
    for (size_t s = 0; s < c->S; s++) {
        if (!mu[s])
            continue;
        size_t g = c->agg[s];
        if (!ts) { /* an aggregate met before in this call scores the same: never
                      strictly better (Thompson sampling draws for each) */
            if (c->mark[g] == c->calls)
                continue;
            c->mark[g] = c->calls;
        }
        size_t a = best(p, c, &c->hood, g, &v);
        if (!found || v > top) { /* ties: the first neighbourhood */
            found = 1;
            top = v;
            *arm = a;
        }
    }
    if (!found)
        *arm = best(p, c, &c->users, u, &v);
    return COLB_OK;
}

static colb_status locb_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    locb *c = p->impl;
    size_t N = p->N, d = p->d;
    const double *x = p->X + arm * d;
    /* the user and the aggregates of its neighbourhoods (each once), two
     * models per interleaved step (the user's own with the first), each
     * aggregate's cached scores carried */
    size_t wait = NONE;
    int user_done = 0;
    unsigned char *mu = c->mt + u * c->S;
    c->calls++;
    for (size_t s = 0; s < c->S; s++) {
        size_t g = c->agg[s];
        if (!mu[s] || c->mark[g] == c->calls)
            continue;
        c->mark[g] = c->calls;
        if (!user_done) {
            colb__rs_update2(&c->rs, &c->users, u, 0, &c->hood, g, x, y, 1.0);
            user_done = 1;
        } else if (wait == NONE) {
            wait = g;
        } else {
            colb__rs_update2(&c->rs, &c->hood, wait, 1, &c->hood, g, x, y, 1.0);
            wait = NONE;
        }
    }
    if (!user_done)
        colb__ridge_update(&c->users, u, x, y, 1.0);
    else if (wait != NONE)
        colb__rs_update(&c->rs, &c->hood, wait, x, y, 1.0);
    /* the seeds' estimates and F(T_seed): they move only when the seed is
     * served (F of every seed at the first call after create or load) */
    int fresh = c->fz_stale;
    for (size_t s = 0; s < c->S; s++)
        if (c->seed[s] == u || fresh) {
            sync_seed(c, s, d);
            c->Fz[s] = F_of(c, c->users.count[c->seed[s]]);
        }
    c->fz_stale = 0;
    if (c->n_final == c->S)
        return COLB_OK;
    const double *tu = c->users.theta + u * d;
    double Fu = F_of(c, c->users.count[u]);
    int changed = 0;
    /* ||theta_u - theta_seed||^2 for every seed at once, each summed over k
     * in order as the scalar loop: the same bits */
    c->rs.kern->dist2(c->zT, c->Sp, tu, d, c->Sp, c->dz);
    for (size_t s = 0; s < c->S; s++) {
        /* u leaves N_s when dist = sqrt(dz) > thr (not the seed itself) and
         * joins it when dist < thr. When dz is off thr^2 by more than the
         * roundings can bridge (2^-50 relative) the answer is "neither"
         * without the square root: the common case, tested branch-free */
        double thr = Fu + c->Fz[s], t2 = thr * thr, dz = c->dz[s];
        int in = mu[s];
        double lim = in ? t2 * SURE_BELOW : t2 * SURE_ABOVE;
        if (c->final[s] | (in ? dz <= lim : dz >= lim))
            continue;
        double dist = sqrt(dz);
        int leave = in && dist > thr && u != c->seed[s], join = !in && dist < thr;
        if (leave || join) {
            mu[s] = c->member[s * N + u] = (unsigned char)join;
            c->n_member += join ? 1 : (size_t)-1;
            changed = 1;
            colb_status st = change_set(c, s, u, join, N);
            if (st != COLB_OK)
                return colb__err(p->err, st, "observe: neighbourhood %zu not positive definite", s);
        }
    }
    /* N_s is final once F(T_seed) <= gamma / 4, after the test of the call
     * that moved F(T_seed) */
    for (size_t s = 0; s < c->S; s++)
        if ((c->seed[s] == u || fresh) && !c->final[s] && c->Fz[s] <= c->gamma / 4.0) {
            c->final[s] = 1;
            c->n_final++;
            changed = 1;
        }
    if (changed)
        set_info(p);
    return COLB_OK;
}

static const double *locb_theta_ref(const colb_policy *p, size_t u)
{
    const locb *c = p->impl;
    return c->users.theta + u * p->d;
}

static colb_status locb_theta(const colb_policy *p, size_t u, double *theta)
{
    memcpy(theta, locb_theta_ref(p, u), p->d * sizeof(double));
    return COLB_OK;
}

/* Users with the same set of neighbourhoods share a label (labels in order
 * of first appearance); O(N m S) for m labels. */
static colb_status locb_clusters(const colb_policy *p, size_t *labels, size_t *n)
{
    const locb *c = p->impl;
    size_t N = p->N, m = 0;
    size_t *rep = colb__malloc(N, sizeof(size_t)); /* a user of each label */
    if (!rep)
        return COLB_ENOMEM;
    for (size_t u = 0; u < N; u++) {
        int any = 0;
        for (size_t s = 0; s < c->S && !any; s++)
            any = c->member[s * N + u];
        size_t l = m;
        for (size_t q = 0; any && q < m && l == m; q++) {
            size_t v = rep[q], s = 0;
            while (s < c->S && c->member[s * N + u] == c->member[s * N + v])
                s++;
            if (s == c->S)
                l = q;
        }
        if (l == m)
            rep[m++] = u;
        labels[u] = l;
    }
    free(rep);
    *n = m;
    return COLB_OK;
}

/* Per neighbourhood beside the banks: its member row and column (2 N
 * bytes), seed, final flag, F(T_seed), distance, the score cache's 24
 * bytes, the grouping's 40 bytes, and the seed's theta transposed (8 d). */
#define PER_HOOD(N, d) (2.0 * (double)(N) + 97 + 8.0 * (double)(d))

/* Memory budget: two banks (N users, S <= N aggregate slots), the S x N
 * membership matrix, the round's cache of the aggregates' scores (its 16 Kp
 * bytes per aggregate come with the round's K, on top). */
static double locb_memory(const colb_policy_params *pp)
{
    size_t S = pp->locb_seeds < pp->users ? pp->locb_seeds : pp->users;
    return colb__ridge_bytes(pp->users, pp->dim) + colb__ridge_bytes(S, pp->dim) +
           (double)S * PER_HOOD(pp->users, pp->dim) + 8.0 * (double)FTAB_MAX;
}

/* Slot s := neighbourhood s's aggregate for every s (through a copy of
 * the bank), every slot then its own: save, add_users. COLB_ENOMEM. */
static colb_status spread(const locb *c, colb__ridge *out, const colb_learner_params *lp)
{
    if (colb__ridge_init(out, c->S, c->hood.d, lp) != COLB_OK)
        return COLB_ENOMEM;
    for (size_t s = 0; s < c->S; s++)
        colb__ridge_copy_model(out, s, &c->hood, c->agg[s]);
    return COLB_OK;
}

/* The banks, the seeds, the membership matrix (one 0/1 per entry) and
 * which neighbourhoods are final. The neighbourhoods are stored one model
 * each, as the format has it (those sharing an aggregate: equal copies). */
static colb_status locb_save(const colb_policy *p, colb__snap_out *w)
{
    const locb *c = p->impl;
    colb__ridge hoods;
    colb__ridge_save(w, "users", &c->users, p->N);
    if (spread(c, &hoods, &p->pp.learner) != COLB_OK) {
        colb__snap_fail(w, COLB_ENOMEM, "out of memory saving locb's neighbourhoods");
        return colb__snap_status(w);
    }
    colb__ridge_save(w, "neighbourhoods", &hoods, c->S);
    colb__ridge_free(&hoods);
    colb__snap_sizes(w, "seeds", c->seed, c->S);
    colb__snap_bytes(w, "member", c->member, c->S * p->N);
    colb__snap_bytes(w, "final", c->final, c->S);
    return colb__snap_status(w);
}

/* A 0/1 byte array of n entries. */
static colb_status get_flags(colb__snap_in *in, const colb__snap_group *g, const char *name,
                             unsigned char *out, size_t n)
{
    colb__snap_field f;
    colb_status st = colb__snap_field_of(in, g, name, COLB__SNAP_BYTES, n, &f);
    if (st != COLB_OK)
        return st;
    memcpy(out, f.data, n);
    for (size_t i = 0; i < n; i++)
        if (out[i] > 1)
            return colb__snap_error(in, COLB_EPARSE, "snapshot: locb's %s holds %u", name, out[i]);
    return COLB_OK;
}

static colb_status locb_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g)
{
    size_t N = p->N, d = p->d;
    locb *c = calloc(1, sizeof *c);
    if (!c)
        return COLB_ENOMEM;
    p->impl = c;
    c->gamma = p->pp.locb_gamma;
    /* the banks first: their arrays in the file vouch for N, S and d */
    colb_status st = colb__ridge_load(in, g, "users", &c->users, N, d, &p->pp.learner, NULL);
    /* S seeds were drawn from the users of create: fewer than now after
     * users added online */
    size_t S = p->pp.locb_seeds < N ? p->pp.locb_seeds : N;
    if (st == COLB_OK)
        st = colb__ridge_load(in, g, "neighbourhoods", &c->hood, S, d, &p->pp.learner, &S);
    if (st == COLB_OK && S == 0)
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: locb has no neighbourhoods");
    c->S = S;
    if (st == COLB_OK)
        st = colb__snap_reserve(in, (uint64_t)PER_HOOD(N, d) * S, "locb's neighbourhoods");
    if (st == COLB_OK) {
        c->seed = colb__malloc(S, sizeof(size_t));
        c->member = colb__malloc(S, N);
        c->final = colb__calloc(S, 1);
        c->Fz = colb__malloc(S, sizeof(double));
        c->mt = colb__malloc(S, N);
        c->Sp = (S + 7) / 8 * 8;
        c->zT = colb__calloc(c->Sp, d * sizeof(double));
        c->dz = colb__malloc(c->Sp, sizeof(double));
        if (!c->seed || !c->member || !c->final || !c->Fz || !c->mt || !c->zT || !c->dz ||
            alloc_groups(c) != COLB_OK)
            st = colb__snap_error(in, COLB_ENOMEM, "out of memory for locb's %zu users", N);
    }
    if (st == COLB_OK)
        st = colb__snap_get_sizes(in, g, "seeds", c->seed, S, N);
    if (st == COLB_OK)
        st = get_flags(in, g, "member", c->member, S * N);
    if (st == COLB_OK)
        st = get_flags(in, g, "final", c->final, S);
    if (st == COLB_OK) {
        colb_status kst = colb__rs_init(&c->rs, S, d);
        if (kst == COLB_EINVAL || kst == COLB_EUNSUP)
            st = colb__snap_error(in, kst, "COLB_KERNEL = %s is not a kernel this CPU runs",
                                  getenv("COLB_KERNEL"));
        else if (kst != COLB_OK)
            st = colb__snap_error(in, COLB_ENOMEM, "out of memory for locb's %zu users", N);
    }
    if (st != COLB_OK)
        return st;
    for (size_t k = 0; k < S; k++)
        c->n_final += c->final[k];
    for (size_t k = 0; k < S * N; k++)
        c->n_member += c->member[k];
    for (size_t s = 0; s < S; s++)
        sync_seed(c, s, d);
    group(c, N); /* model s in slot s: equal sets share the first's */
    transpose_members(c, N);
    c->fz_stale = 1;
    set_info(p);
    return COLB_OK;
}

/* Newcomers get models of their own and join every neighbourhood still
 * being refined (as every user did at the start; without data, joining
 * leaves the aggregate as it is); the refinement then keeps or drops them. */
static colb_status locb_add_users(colb_policy *p, size_t n, const size_t *labels)
{
    (void)labels;
    locb *c = p->impl;
    size_t N = p->N, M = N + n;
    unsigned char *member = colb__malloc(c->S, M), *mt = colb__malloc(c->S, M);
    colb__ridge hoods;
    if (!member || !mt || spread(c, &hoods, &p->pp.learner) != COLB_OK) {
        free(member);
        free(mt);
        return COLB_ENOMEM;
    }
    if (colb__ridge_grow(&c->users, M) != COLB_OK) {
        free(member);
        free(mt);
        colb__ridge_free(&hoods);
        return COLB_ENOMEM;
    }
    for (size_t k = 0; k < c->S; k++) {
        memcpy(member + k * M, c->member + k * N, N);
        memset(member + k * M + N, !c->final[k], n);
        c->n_member += c->final[k] ? 0 : n;
    }
    free(c->member);
    c->member = member;
    free(c->mt);
    c->mt = mt;
    transpose_members(c, M);
    for (size_t u = N; u < M; u++)
        colb__ridge_reset(&c->users, u);
    /* a final and a refined neighbourhood that shared an aggregate now
     * differ by the newcomers: regroup from one copy each */
    colb__ridge_free(&c->hood);
    c->hood = hoods;
    memset(c->refs, 0, c->S * sizeof(size_t));
    group(c, M);
    set_info(p);
    return COLB_OK;
}

/* The round's carried scores against a direct computation (tests). */
static colb_status locb_cache_check(const colb_policy *p, double *max_rel, size_t *n_cached)
{
    const locb *c = p->impl;
    *n_cached = colb__rs_cached(&c->rs);
    return colb__rs_check(&c->rs, &c->hood, max_rel);
}

static void locb_cache_off(colb_policy *p, int off)
{
    locb *c = p->impl;
    c->rs.off = off != 0;
}

/* Largest |a - b| over n entries against the largest |b| (1 when that is
 * smaller), NaN counted as infinite. */
static double rel_diff(const double *a, const double *b, size_t n)
{
    double e = 0.0, m = 1.0;
    for (size_t i = 0; i < n; i++) {
        double t = fabs(a[i] - b[i]);
        if (!(t <= e))
            e = t;
        if (fabs(b[i]) > m)
            m = fabs(b[i]);
    }
    return e / m;
}

/* Tests: the grouping's structure (slots' references, representatives,
 * hashes, equal sets sharing exactly, the transposed membership) and every
 * aggregate against its members' data summed directly: V, b and the count
 * (relative differences), A V = I, theta = A b. O(S^2 N + S N d^2 + S d^3). */
static colb_status locb_state_check(const colb_policy *p, double *max_rel, size_t *n_models)
{
    const locb *c = p->impl;
    size_t N = p->N, d = p->d, S = c->S, used = 0, nref = 0;
    double lam = c->users.p.lambda, worst = 0.0;
    int bad = 0;
    for (size_t a = 0; a < S; a++) {
        if (!c->refs[a])
            continue;
        used++;
        nref += c->refs[a];
        bad |= c->agg[c->rep[a]] != a || c->hash[a] != set_hash(c, c->rep[a], N);
    }
    bad |= nref != S;
    for (size_t s = 0; s < S && !bad; s++) {
        bad |= !c->refs[c->agg[s]];
        for (size_t q = 0; q < s; q++)
            bad |= (c->agg[q] == c->agg[s]) != !memcmp(c->member + q * N, c->member + s * N, N);
        for (size_t i = 0; i < N; i++)
            bad |= c->mt[i * S + s] != c->member[s * N + i];
    }
    double *V = colb__malloc(3 * d * d + 2 * d, sizeof(double));
    if (!V)
        return COLB_ENOMEM;
    double *AV = V + d * d, *I = AV + d * d, *b = I + d * d, *th = b + d;
    for (size_t j = 0; j < d * d; j++)
        I[j] = j % (d + 1) == 0;
    for (size_t s = 0; s < S && !bad; s++) {
        size_t a = c->agg[s];
        if (c->rep[a] != s)
            continue; /* each aggregate once */
        uint64_t cnt = 0;
        for (size_t j = 0; j < d * d; j++)
            V[j] = lam * I[j];
        memset(b, 0, d * sizeof(double));
        for (size_t i = 0; i < N; i++) {
            if (!c->member[s * N + i])
                continue;
            for (size_t j = 0; j < d * d; j++)
                V[j] += c->users.V[i * d * d + j] - lam * I[j];
            for (size_t j = 0; j < d; j++)
                b[j] += c->users.b[i * d + j];
            cnt += c->users.count[i];
        }
        double cd = (double)cnt, ca = (double)c->hood.count[a];
        const double *A = c->hood.A + a * d * d;
        for (size_t j = 0; j < d; j++) {
            th[j] = c->hood.theta0[a * d + j];
            for (size_t k = 0; k < d; k++) {
                double t = 0.0;
                for (size_t l = 0; l < d; l++)
                    t += A[j * d + l] * V[l * d + k];
                AV[j * d + k] = t;
                th[j] += A[j * d + k] * c->hood.b[a * d + k];
            }
        }
        double e[5] = { rel_diff(c->hood.V + a * d * d, V, d * d), rel_diff(c->hood.b + a * d, b, d),
                        rel_diff(AV, I, d * d), rel_diff(c->hood.theta + a * d, th, d),
                        rel_diff(&ca, &cd, 1) };
        for (size_t k = 0; k < 5; k++)
            if (!(e[k] <= worst))
                worst = e[k];
    }
    free(V);
    *max_rel = bad ? INFINITY : worst;
    *n_models = used;
    return COLB_OK;
}

const colb__policy_vt colb__policy_locb = {
    .name = "locb",
    .sequential = 1,
    /* a UCB choice scores aggregates through the round's cache (rs, stale
     * at the next begin_round) or a user's model afresh; calls and mark only
     * tell, within one call, the aggregates met already (marks stay below
     * calls, and neither is saved: a load starts both at 0) */
    .quiet_choices = 1,
    .check = locb_check,
    .create = locb_create,
    .destroy = locb_destroy,
    .begin_round = locb_begin,
    .choose = locb_choose,
    .observe = locb_observe,
    .user_theta = locb_theta,
    .user_theta_ref = locb_theta_ref,
    .clusters = locb_clusters,
    .memory = locb_memory,
    .save = locb_save,
    .load = locb_load,
    .add_users = locb_add_users,
    .cache_check = locb_cache_check,
    .cache_off = locb_cache_off,
    .state_check = locb_state_check,
};
