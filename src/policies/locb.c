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
 * Cost per step, for the c neighbourhoods containing the user (c = S at the
 * start, about S/L once L clusters have separated): c + 1 rank-one updates
 * O(d^2), and scoring O(c K d) - a neighbourhood's means and quadratic
 * forms on the round's arms are computed once per round by the hand-written
 * score_x kernel (O(K d^2)) and carried through its rank-one updates in
 * O(K d) each -; the refinement O(S d), and O(d^3) for each neighbourhood
 * the user leaves or joins. The neighbourhoods' aggregates live in SoA
 * blocks of 8 (linalg/ridge_soa.h): the c steps with the user's sample are
 * one kernel call per block holding any of them, the 8 lanes at once, bit
 * for bit the flat ridge bank's steps. State: flat arrays in the impl
 * struct (a ridge bank of N users, the S aggregates in lanes, an S x N
 * membership matrix and its N x ceil(S/8) lane masks). */
#include <string.h>

#include <xxhash.h>

#include "learn/thompson.h"
#include "linalg/ridge.h"
#include "linalg/ridge_soa.h"
#include "policies/bank_persist.h"
#include "policies/policy_impl.h"

/* Stream of the policy's seed that draws the seed users ("LOCBseed"). */
#define LOCB_STREAM_SEEDS UINT64_C(0x4c4f434273656564)

typedef struct locb {
    colb__ridge users;     /* N: V_i, b_i, theta_i; count = T_i */
    colb__ridge_soa hood;  /* S: the neighbourhoods' aggregates, in lanes */
    size_t S, nblk;        /* nblk = hood.nblk: blocks of 8 neighbourhoods */
    size_t *slot, *who;    /* S: neighbourhood s in lane slot[s]; 8 nblk: the
                              neighbourhood in lane i (>= S: a padding lane) */
    int placed;            /* no join or leave since the lanes were placed */
    double *vtop;          /* 8 nblk: choose's score of each lane, */
    uint32_t *varm;        /* and its arm */
    size_t *seed;          /* S: the seed users */
    unsigned char *member; /* S x N: user i in N_s */
    unsigned char *lanes;  /* N x nblk: bit l of (i, b) = member[who[8 b + l] N + i] */
    unsigned char *final;  /* S: N_s no longer refined */
    size_t n_final;
    size_t n_member;       /* entries of member set: the neighbourhoods' sizes summed */
    double *Fz;            /* S: F(T_seed) as last computed, */
    uint64_t *FzT;         /* S: for T_seed + 1 (0: never) */
    double *zT, *dz;       /* d x S: the seeds' theta transposed (the refinement's
                              distances in one kernel call); S: those distances^2 */
    double gamma;
    double *scores;        /* 3 Kp: a user's own scores, means and forms on the
                              round's arms */
    colb__scratch sc;      /* Thompson sampling: one model's draws and their work
                              (>= colb__ts_work(d)) */
    colb__ridge one;       /* Thompson sampling: a neighbourhood copied out of its lane */
    double *rec;           /* colb__ridge_model_len(d): that copy's record */
} locb;

static double F(double T)
{
    return sqrt((1.0 + log(1.0 + T)) / (1.0 + T));
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
    colb__rsoa_free(&c->hood);
    free(c->seed);
    free(c->member);
    free(c->lanes);
    free(c->slot);
    free(c->who);
    free(c->vtop);
    free(c->varm);
    free(c->final);
    free(c->Fz);
    free(c->FzT);
    free(c->zT);
    free(c->dz);
    free(c->scores);
    colb__scratch_free(&c->sc);
    colb__ridge_free(&c->one);
    free(c->rec);
    free(c);
    p->impl = NULL;
}

/* Column s of zT from the seed's current theta. */
static void sync_seed(locb *c, size_t s, size_t d)
{
    const double *t = c->users.theta + c->seed[s] * d;
    for (size_t k = 0; k < d; k++)
        c->zT[k * c->S + s] = t[k];
}

/* The lane masks of every user from the membership matrix. */
static void sync_lanes(locb *c, size_t N)
{
    memset(c->lanes, 0, N * c->nblk);
    for (size_t s = 0; s < c->S; s++) {
        size_t b = c->slot[s] / 8, l = c->slot[s] % 8;
        for (size_t i = 0; i < N; i++)
            c->lanes[i * c->nblk + b] |= (unsigned char)(c->member[s * N + i] << l);
    }
}

/* Neighbourhood s in lane s (create, load). */
static void place_in_order(locb *c)
{
    for (size_t i = 0; i < c->nblk * 8; i++) {
        c->who[i] = i;
        if (i < c->S)
            c->slot[i] = i;
    }
    c->placed = 0;
}


/* Lanes for the neighbourhoods such that those with the same member set
 * share a block where they fit (a user's steps and scores then touch as
 * few blocks as the clusters allow; once the neighbourhoods have settled,
 * about one per cluster): the groups of equal sets (by hash), largest
 * first (ties: the group of the lowest hash), each into the first block
 * with room for all of it, else lane by lane into the roomiest blocks.
 * Placement changes no bit of any result (every lane computes alone); it
 * is redone at the first round after a join or a leave. O(S N + S^2).
 * COLB_ENOMEM leaves the lanes as they were. */
static colb_status place(locb *c, size_t N)
{
    size_t S = c->S, nb = c->nblk, nslot = nb * 8;
    uint64_t *sig = colb__malloc(S, sizeof(uint64_t));
    size_t *tmp = colb__malloc(4 * S + nb + 2 * nslot, sizeof(size_t));
    if (!sig || !tmp) {
        free(sig);
        free(tmp);
        return COLB_ENOMEM;
    }
    size_t *order = tmp, *gst = order + S, *glen = gst + S, *nw = glen + S, *room = nw + S;
    size_t *from = room + nb, *who = from + nslot;
    for (size_t s = 0; s < S; s++) {
        sig[s] = XXH3_64bits(c->member + s * N, N);
        size_t j = s; /* insertion sort by (hash, index): S is small */
        while (j > 0 && sig[order[j - 1]] > sig[s]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = s;
    }
    size_t ng = 0; /* the runs of equal hashes: groups */
    for (size_t q = 0; q < S; q++) {
        if (q == 0 || sig[order[q]] != sig[order[q - 1]]) {
            gst[ng] = q;
            glen[ng++] = 0;
        }
        glen[ng - 1]++;
    }
    for (size_t b = 0; b < nb; b++)
        room[b] = 8;
    for (size_t done = 0; done < ng; done++) {
        size_t g = 0;
        for (size_t q = 1; q < ng; q++)
            if (glen[q] > glen[g])
                g = q;
        size_t fit = nb;
        for (size_t b = 0; b < nb && fit == nb; b++)
            if (room[b] >= glen[g])
                fit = b;
        for (size_t q = gst[g]; q < gst[g] + glen[g]; q++) {
            size_t b = fit;
            if (b == nb) /* no block holds the whole group: the roomiest */
                for (size_t e = 0, r = 0; e < nb; e++)
                    if (room[e] > r) {
                        r = room[e];
                        b = e;
                    }
            nw[order[q]] = b * 8 + (8 - room[b]);
            room[b]--;
        }
        glen[g] = 0; /* placed */
    }
    int same = 1;
    for (size_t s = 0; s < S; s++)
        same &= nw[s] == c->slot[s];
    colb_status st = COLB_OK;
    if (!same) {
        /* from[i]: the lane whose model lane i receives; the padding lanes
         * fill the lanes left, in order */
        for (size_t i = 0; i < nslot; i++)
            from[i] = (size_t)-1;
        for (size_t s = 0; s < S; s++)
            from[nw[s]] = c->slot[s];
        for (size_t i = 0, pad = 0; i < nslot; i++) {
            if (from[i] != (size_t)-1)
                continue;
            while (c->who[pad] < S)
                pad++;
            from[i] = pad++;
        }
        st = colb__rsoa_move(&c->hood, from);
        if (st == COLB_OK) {
            for (size_t i = 0; i < nslot; i++)
                who[i] = c->who[from[i]];
            memcpy(c->who, who, nslot * sizeof(size_t));
            for (size_t s = 0; s < S; s++)
                c->slot[s] = nw[s];
            sync_lanes(c, N);
        }
    }
    if (st == COLB_OK)
        c->placed = 1;
    free(sig);
    free(tmp);
    return st;
}

/* The arrays beside the banks (S, nblk and N set); 0 or COLB_ENOMEM. */
static colb_status alloc_rest(locb *c, size_t N, size_t d)
{
    size_t S = c->S;
    c->seed = colb__malloc(S, sizeof(size_t));
    c->member = colb__malloc(S, N);
    c->lanes = colb__calloc(N, c->nblk);
    c->final = colb__calloc(S, 1);
    c->Fz = colb__malloc(S, sizeof(double));
    c->FzT = colb__calloc(S, sizeof(uint64_t));
    c->zT = colb__malloc(S, d * sizeof(double));
    c->dz = colb__malloc(S, sizeof(double));
    c->rec = colb__malloc(colb__ridge_model_len(d), sizeof(double));
    c->slot = colb__malloc(S, sizeof(size_t));
    c->who = colb__malloc(c->nblk * 8, sizeof(size_t));
    c->vtop = colb__malloc(c->nblk * 8, sizeof(double));
    c->varm = colb__malloc(c->nblk * 8, sizeof(uint32_t));
    if (!c->seed || !c->member || !c->lanes || !c->final || !c->Fz || !c->FzT || !c->zT ||
        !c->dz || !c->rec || !c->slot || !c->who || !c->vtop || !c->varm)
        return COLB_ENOMEM;
    place_in_order(c);
    return COLB_OK;
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
    colb_status st = colb__rsoa_init(&c->hood, c->S, d, &p->pp.learner);
    if (st == COLB_EINVAL || st == COLB_EUNSUP)
        return colb__err(p->err, st, "COLB_KERNEL = %s is not a kernel this CPU runs",
                         getenv("COLB_KERNEL"));
    c->nblk = c->hood.nblk;
    size_t *tmp = colb__malloc(N, sizeof(size_t));
    if (st != COLB_OK || !tmp || alloc_rest(c, N, d) != COLB_OK ||
        colb__ridge_init(&c->users, N, d, &p->pp.learner) != COLB_OK ||
        colb__ridge_init(&c->one, 1, d, &p->pp.learner) != COLB_OK) {
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
    c->n_member = c->S * N;
    sync_lanes(c, N);
    set_info(p);
    return COLB_OK;
}

static colb_status locb_begin(colb_policy *p)
{
    locb *c = p->impl;
    colb_status st = c->placed ? COLB_OK : place(c, p->N);
    if (st == COLB_OK)
        st = colb__rsoa_begin(&c->hood, p->X, p->K);
    if (st == COLB_OK && colb__realloc_n(&c->scores, c->hood.Kp, 3 * sizeof(double)))
        st = COLB_ENOMEM;
    if (st == COLB_OK && colb__policy_ts(p))
        st = colb__scratch_reserve(&c->sc, p->d, p->K, 1);
    return st == COLB_OK ? st : colb__err(p->err, st, "begin_round: out of memory for K = %zu", p->K);
}

/* Thompson sampling: the best arm of model i of r (a fresh draw) and its
 * score in *top. */
static size_t ts_best(colb_policy *p, locb *c, const colb__ridge *r, size_t i, double *top)
{
    colb__ts_scores(r, i, NULL, colb__ridge_width(r, i), p->X, p->K, &p->ts_rng, c->sc.scores,
                    c->sc.work);
    size_t a = colb__argmax(c->sc.scores, p->K);
    *top = c->sc.scores[a];
    return a;
}

static colb_status locb_choose(colb_policy *p, size_t u, size_t *arm)
{
    locb *c = p->impl;
    size_t N = p->N;
    int found = 0, ts = colb__policy_ts(p);
    double top = 0.0, v;
    if (!ts) /* the lanes of u's neighbourhoods scored a block at a time, from
                the carried values */
        for (size_t bk = 0; bk < c->nblk; bk++) {
            unsigned mk = c->lanes[u * c->nblk + bk];
            if (mk)
                colb__rsoa_choose(&c->hood, bk, mk, 1.0, c->varm + bk * 8, c->vtop + bk * 8);
        }
    for (size_t s = 0; s < c->S; s++) { /* neighbourhoods in order */
        if (!c->member[s * N + u])
            continue;
        size_t i = c->slot[s], a;
        if (ts) { /* the neighbourhood copied out of its lane, drawn afresh */
            uint64_t ints[2];
            colb__rsoa_export(&c->hood, i, c->rec, ints);
            colb__ridge_import(&c->one, 0, c->rec, ints);
            a = ts_best(p, c, &c->one, 0, &v);
        } else {
            a = c->varm[i];
            v = c->vtop[i];
        }
        if (!found || v > top) { /* ties: the first neighbourhood */
            found = 1;
            top = v;
            *arm = a;
        }
    }
    if (found)
        return COLB_OK;
    if (ts) {
        *arm = ts_best(p, c, &c->users, u, &top);
    } else { /* the user's own model, scored afresh */
        const colb__ridge_soa *h = &c->hood;
        size_t d = p->d;
        *arm = h->kern->score_x(c->users.A + u * d * d, d, c->users.theta + u * d,
                                colb__ridge_width(&c->users, u), 1.0, h->Xt, d, h->K, h->Kp,
                                c->scores, c->scores + h->Kp, c->scores + 2 * h->Kp);
    }
    return COLB_OK;
}

static colb_status locb_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    locb *c = p->impl;
    size_t N = p->N, d = p->d;
    const double *x = p->X + arm * d;
    /* the user, then its neighbourhoods: every block's lanes in one step
     * (each neighbourhood's carried scores moved with it) */
    colb__ridge_update(&c->users, u, x, y, 1.0);
    for (size_t bk = 0; bk < c->nblk; bk++) {
        unsigned mk = c->lanes[u * c->nblk + bk];
        if (mk)
            colb__rsoa_step(&c->hood, bk, mk, x, y, 1.0);
    }
    for (size_t s = 0; s < c->S; s++)
        if (c->seed[s] == u)
            sync_seed(c, s, d);
    if (c->n_final == c->S)
        return COLB_OK;
    const double *tu = c->users.theta + u * d;
    double Fu = F((double)c->users.count[u]);
    int changed = 0;
    /* ||theta_u - theta_seed||^2 for every seed at once, each summed over k
     * in order as the scalar loop: the same bits */
    c->hood.kern->dist2(c->zT, c->S, tu, d, c->S, c->dz);
    for (size_t s = 0; s < c->S; s++) {
        if (c->final[s])
            continue;
        size_t z = c->seed[s];
        uint64_t Tz = c->users.count[z];
        if (c->FzT[s] != Tz + 1) { /* the seed was served: F(T_seed) moved */
            c->Fz[s] = F((double)Tz);
            c->FzT[s] = Tz + 1;
        }
        double Fz = c->Fz[s], dist = sqrt(c->dz[s]), thr = Fu + Fz;
        unsigned char *m = &c->member[s * N + u];
        int leave = *m && dist > thr && u != z, join = !*m && dist < thr;
        if (leave || join) {
            *m = (unsigned char)join;
            c->lanes[u * c->nblk + c->slot[s] / 8] ^= (unsigned char)(1u << (c->slot[s] % 8));
            c->n_member += join ? 1 : (size_t)-1;
            changed = 1;
            c->placed = 0;
            colb_status st = colb__rsoa_absorb(&c->hood, c->slot[s], &c->users, u, join ? 1 : -1);
            if (st != COLB_OK)
                return colb__err(p->err, st, "observe: neighbourhood %zu not positive definite", s);
        }
        if (Fz <= c->gamma / 4.0) {
            c->final[s] = 1;
            c->n_final++;
            changed = 1;
        }
    }
    if (changed)
        set_info(p);
    return COLB_OK;
}

static colb_status locb_theta(const colb_policy *p, size_t u, double *theta)
{
    const locb *c = p->impl;
    memcpy(theta, c->users.theta + u * p->d, p->d * sizeof(double));
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

/* Memory budget: the users' bank, the neighbourhoods in lanes (S <= N;
 * their carried scores, 16 Kp bytes each, come with the round's K, on
 * top), the S x N membership matrix and its lane masks. */
static double locb_memory(const colb_policy_params *pp)
{
    size_t S = pp->locb_seeds < pp->users ? pp->locb_seeds : pp->users;
    double nblk = (double)((S + 7) / 8);
    return colb__ridge_bytes(pp->users, pp->dim) + colb__rsoa_bytes(S, pp->dim, 0) +
           (double)S * ((double)pp->users + 33 + 8.0 * (double)pp->dim) + nblk * (double)pp->users;
}

/* The banks, the seeds, the membership matrix (one 0/1 per entry) and
 * which neighbourhoods are final. The neighbourhoods are stored as a ridge
 * bank (the same records: ridge_soa.h keeps the flat bank's models). */
static colb_status locb_save(const colb_policy *p, colb__snap_out *w)
{
    const locb *c = p->impl;
    colb__ridge_save(w, "users", &c->users, p->N);
    colb__rsoa_save(w, "neighbourhoods", &c->hood, c->slot, c->S);
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
        st = colb__rsoa_load(in, g, "neighbourhoods", &c->hood, S, d, &p->pp.learner, &S);
    if (st == COLB_OK && S == 0)
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: locb has no neighbourhoods");
    c->S = S;
    c->nblk = c->hood.nblk;
    /* in the file, neighbourhood s is model s: here in lane s */
    if (st == COLB_OK)
        st = colb__snap_reserve(in, (uint64_t)S * (N + 33 + 8 * d) + (uint64_t)c->nblk * N,
                                "locb's neighbourhoods");
    if (st == COLB_OK && (alloc_rest(c, N, d) != COLB_OK ||
                          colb__ridge_init(&c->one, 1, d, &p->pp.learner) != COLB_OK))
        st = colb__snap_error(in, COLB_ENOMEM, "out of memory for locb's %zu users", N);
    if (st == COLB_OK)
        st = colb__snap_get_sizes(in, g, "seeds", c->seed, S, N);
    if (st == COLB_OK)
        st = get_flags(in, g, "member", c->member, S * N);
    if (st == COLB_OK)
        st = get_flags(in, g, "final", c->final, S);
    if (st != COLB_OK)
        return st;
    for (size_t k = 0; k < S; k++)
        c->n_final += c->final[k];
    for (size_t k = 0; k < S * N; k++)
        c->n_member += c->member[k];
    for (size_t s = 0; s < S; s++)
        sync_seed(c, s, d);
    sync_lanes(c, N);
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
    unsigned char *member = colb__malloc(c->S, M), *lanes = colb__malloc(M, c->nblk);
    if (!member || !lanes || colb__ridge_grow(&c->users, M) != COLB_OK) {
        free(member);
        free(lanes);
        return COLB_ENOMEM;
    }
    for (size_t k = 0; k < c->S; k++) {
        memcpy(member + k * M, c->member + k * N, N);
        memset(member + k * M + N, !c->final[k], n);
        c->n_member += c->final[k] ? 0 : n;
    }
    free(c->member);
    c->member = member;
    free(c->lanes);
    c->lanes = lanes;
    sync_lanes(c, M);
    for (size_t u = N; u < M; u++)
        colb__ridge_reset(&c->users, u);
    set_info(p);
    return COLB_OK;
}

/* The round's carried scores against a direct computation (tests). */
static colb_status locb_cache_check(const colb_policy *p, double *max_rel, size_t *n_cached)
{
    const locb *c = p->impl;
    colb__rsoa_check(&c->hood, max_rel, n_cached);
    return COLB_OK;
}

static void locb_cache_off(colb_policy *p, int off)
{
    locb *c = p->impl;
    c->hood.off = off != 0;
}

const colb__policy_vt colb__policy_locb = {
    .name = "locb",
    .sequential = 1,
    .check = locb_check,
    .create = locb_create,
    .destroy = locb_destroy,
    .begin_round = locb_begin,
    .choose = locb_choose,
    .observe = locb_observe,
    .user_theta = locb_theta,
    .clusters = locb_clusters,
    .memory = locb_memory,
    .save = locb_save,
    .load = locb_load,
    .add_users = locb_add_users,
    .cache_check = locb_cache_check,
    .cache_off = locb_cache_off,
};
