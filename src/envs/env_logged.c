/* env_logged.c - the logged-data environment of colb/dataset.h: rounds of K
 * items drawn from a colb_dataset, rewarded 1 for a user's positives and 0
 * otherwise.
 *
 * Protocols (paper sec. 6.2): SHARED shows the same K uniformly drawn items
 * to every user (the multi-agent protocol of CMLB); PER_USER draws, for each
 * user, one of its positives and K-1 other items (the protocol of CLUB,
 * Gentile, Li and Zappella 2014, sec. 5), so that the best reward of every
 * user with positives is 1.
 *
 * Sampling is O(K) per draw (Floyd's algorithm, "Programming pearls: a
 * sample of brilliance", CACM 30(9), 1987, with its membership test on a
 * bitset of the items, then a Fisher-Yates shuffle so that the order of the
 * arms is uniform too); nothing is O(n_items) per round. Every draw comes from the
 * COLB__STREAM_CONTEXT stream of the seed, users in index order, so the
 * rounds do not depend on what the policy chooses. */
#include "colb/dataset.h"

#include <string.h>

#include "colb/limits.h"
#include "core/rng_inline.h"
#include "data/textio.h"
#include "envs/env_impl.h"
#include "linalg/soa_kernel.h"

typedef struct logged {
    const colb_dataset *ds;
    colb_logged_protocol proto;
    size_t n_items;
    colb_rng rng;
    uint64_t rounds;        /* rounds drawn so far */
    size_t *items;          /* SHARED: K; PER_USER: N x K */
    double *ctx;            /* SHARED: K x d; PER_USER: N x K x d (filled lazily) */
    unsigned char *filled;  /* PER_USER: N flags, contexts of u copied this round */
    uint64_t *seen;         /* n_items bits, clear between draws (sample_distinct) */
    /* SHARED: the data set's positives by item (the users of item i are
     * by_item[item_ptr[i] .. item_ptr[i + 1]), in increasing order), and per
     * user whether this round shows one of its positives (its best reward).
     * Why: the regret of a user who missed needs that best reward, K
     * membership tests per user and round (80 % of the random policy's time
     * on Last.FM's 1,892 users); the round's K items' users are ~5 each. */
    size_t *item_ptr;
    size_t *by_item;
    unsigned char *best;
} logged;

static const colb__env_vt logged_vt;

/* k distinct values of [0, n) in uniformly random order (k <= n). seen:
 * n bits, all clear, and clear again on return: the membership test of
 * Floyd's algorithm (the values drawn so far are below j, so j itself is
 * never among them), O(1) instead of a scan of the k drawn so far. */
static void sample_distinct(colb_rng *rng, size_t n, size_t k, size_t *out, uint64_t *seen)
{
    colb_rng g = *rng, *r = &g; /* a local copy: its state stays in registers */
    size_t cnt = 0;
    for (size_t j = n - k; j < n; j++) {
        size_t t = (size_t)colb__rng_below(r, (uint64_t)j + 1);
        size_t v = seen[t / 64] >> (t % 64) & 1 ? j : t;
        seen[v / 64] |= (uint64_t)1 << (v % 64);
        out[cnt++] = v;
    }
    for (size_t i = 0; i < cnt; i++)
        seen[out[i] / 64] &= ~((uint64_t)1 << (out[i] % 64));
    for (size_t i = k; i > 1; i--) {
        size_t j = (size_t)colb__rng_below(r, i);
        size_t tmp = out[i - 1];
        out[i - 1] = out[j];
        out[j] = tmp;
    }
    *rng = g;
}

static void fill(const logged *g, size_t K, size_t d, const size_t *items, double *ctx)
{
    const double *f = colb_dataset_features(g->ds);
    for (size_t k = 0; k < K; k++)
        memcpy(ctx + k * d, f + items[k] * d, d * sizeof(double));
}

/* SHARED: g->best from the round's items. */
static void mark_best(logged *g, size_t N, size_t K)
{
    memset(g->best, 0, N);
    for (size_t k = 0; k < K; k++)
        for (size_t j = g->item_ptr[g->items[k]]; j < g->item_ptr[g->items[k] + 1]; j++)
            g->best[g->by_item[j]] = 1;
}

/* SHARED: the inverted index item -> users of g->item_ptr, g->by_item. */
static int index_by_item(logged *g, size_t N)
{
    const size_t *pos;
    size_t n = g->n_items, nnz = colb_dataset_n_positives(g->ds);
    g->item_ptr = colb__calloc(n + 1, sizeof(size_t));
    g->by_item = colb__malloc(nnz ? nnz : 1, sizeof(size_t));
    g->best = colb__calloc(N ? N : 1, 1);
    if (!g->item_ptr || !g->by_item || !g->best)
        return -1;
    for (size_t u = 0; u < N; u++) /* counts at item_ptr[i + 1] */
        for (size_t c = colb_dataset_positives(g->ds, u, &pos), j = 0; j < c; j++)
            g->item_ptr[pos[j] + 1]++;
    for (size_t i = 0; i < n; i++)
        g->item_ptr[i + 1] += g->item_ptr[i];
    for (size_t u = 0; u < N; u++) /* item_ptr[i] runs ahead to item i's end, then back */
        for (size_t c = colb_dataset_positives(g->ds, u, &pos), j = 0; j < c; j++)
            g->by_item[g->item_ptr[pos[j]]++] = u;
    for (size_t i = n; i > 0; i--)
        g->item_ptr[i] = g->item_ptr[i - 1];
    g->item_ptr[0] = 0;
    return 0;
}

static colb_status logged_next_round(colb_env *e)
{
    logged *g = e->impl;
    size_t K = e->K;
    if (g->proto == COLB_LOGGED_SHARED) {
        sample_distinct(&g->rng, g->n_items, K, g->items, g->seen);
        fill(g, K, e->d, g->items, g->ctx);
        mark_best(g, e->N, K);
    } else {
        for (size_t u = 0; u < e->N; u++) {
            size_t *it = g->items + u * K;
            const size_t *pos;
            size_t np = colb_dataset_positives(g->ds, u, &pos);
            if (np == 0) {
                sample_distinct(&g->rng, g->n_items, K, it, g->seen);
                continue;
            }
            size_t p = pos[colb__rng_below(&g->rng, np)];
            /* K-1 distinct items of the n_items-1 others, then p in a
             * uniformly random slot. */
            sample_distinct(&g->rng, g->n_items - 1, K - 1, it, g->seen);
            for (size_t k = 0; k + 1 < K; k++)
                it[k] += it[k] >= p;
            size_t slot = (size_t)colb__rng_below(&g->rng, K);
            it[K - 1] = it[slot];
            it[slot] = p;
        }
        memset(g->filled, 0, e->N);
    }
    g->rounds++;
    return COLB_OK;
}

static const double *logged_contexts(colb_env *e, size_t u)
{
    logged *g = e->impl;
    if (g->rounds == 0)
        return NULL;
    if (g->proto == COLB_LOGGED_SHARED)
        return g->ctx;
    double *c = g->ctx + u * e->K * e->d;
    if (!g->filled[u]) {
        fill(g, e->K, e->d, g->items + u * e->K, c);
        g->filled[u] = 1;
    }
    return c;
}

static const double *logged_contexts_into(colb_env *e, size_t u, double *buf)
{
    logged *g = e->impl;
    if (g->rounds == 0 || g->proto == COLB_LOGGED_SHARED || g->filled[u])
        return logged_contexts(e, u); /* a block already built, or the shared one */
    fill(g, e->K, e->d, g->items + u * e->K, buf);
    if (u + 1 < e->N) { /* the next turn's rows, random in the data set: fetched meanwhile */
        const double *f = colb_dataset_features(g->ds);
        const size_t *next = g->items + (u + 1) * e->K, *pos;
        for (size_t k = 0; k < e->K; k++)
            colb__prefetch(f + next[k] * e->d, e->d * sizeof(double), 0);
        /* and its positives, which the outcome's binary search reads: last
         * touched a whole round of turns ago, out of the caches by now */
        size_t np = colb_dataset_positives(g->ds, u + 1, &pos);
        colb__prefetch(pos, np * sizeof *pos, 0);
    }
    return buf;
}

static const size_t *shown(const colb_env *e, size_t u)
{
    const logged *g = e->impl;
    if (g->rounds == 0)
        return NULL;
    return g->proto == COLB_LOGGED_SHARED ? g->items : g->items + u * e->K;
}

static double logged_reward(const colb_env *e, size_t u, size_t k)
{
    const logged *g = e->impl;
    const size_t *it = shown(e, u);
    if (!it)
        return NAN;
    return colb_dataset_is_positive(g->ds, u, it[k]) ? 1.0 : 0.0;
}

/* The regret of user u for an item that is (rk) or is not one of its
 * positives. */
static double regret_of(const colb_env *e, size_t u, int rk)
{
    const logged *g = e->impl;
    if (rk)
        return 0.0;
    if (g->proto == COLB_LOGGED_PER_USER) { /* one positive is shown when u has any */
        const size_t *pos;
        return colb_dataset_positives(g->ds, u, &pos) > 0 ? 1.0 : 0.0;
    }
    return g->best[u] ? 1.0 : 0.0;
}

static double logged_regret(const colb_env *e, size_t u, size_t k)
{
    const logged *g = e->impl;
    const size_t *it = shown(e, u);
    if (!it)
        return NAN;
    return regret_of(e, u, colb_dataset_is_positive(g->ds, u, it[k]));
}

static void logged_outcome(const colb_env *e, size_t u, size_t k, double *reward,
                           double *regret)
{
    const logged *g = e->impl;
    const size_t *it = shown(e, u);
    if (!it) {
        *reward = *regret = NAN;
        return;
    }
    int rk = colb_dataset_is_positive(g->ds, u, it[k]);
    *reward = rk ? 1.0 : 0.0;
    *regret = regret_of(e, u, rk);
}

static void logged_destroy(colb_env *e)
{
    logged *g = e->impl;
    if (!g)
        return;
    free(g->items);
    free(g->ctx);
    free(g->filled);
    free(g->seen);
    free(g->item_ptr);
    free(g->by_item);
    free(g->best);
    free(g);
    e->impl = NULL;
}

/* The data set by fingerprint (not its content), the protocol, the stream
 * and the items shown this round; the contexts are copied again from the
 * data set on demand. */
static colb_status logged_save(const colb_env *e, colb__snap_out *w)
{
    const logged *g = e->impl;
    size_t rows = g->proto == COLB_LOGGED_SHARED ? 1 : e->N;
    colb__snap_u64(w, "dataset", colb_dataset_fingerprint(g->ds));
    colb__snap_u64(w, "protocol", (uint64_t)g->proto);
    colb__snap_u64(w, "rounds", g->rounds);
    colb__snap_u64s(w, "rng", g->rng.s, 4);
    if (g->rounds)
        colb__snap_sizes(w, "items", g->items, rows * e->K);
    return colb__snap_status(w);
}

static colb_status logged_restore(colb_env *e, colb__snap_in *in, const colb__snap_group *gr)
{
    logged *g = e->impl;
    size_t rows = g->proto == COLB_LOGGED_SHARED ? 1 : e->N, proto = 0;
    uint64_t fp = 0, r[4];
    colb_status st = colb__snap_get_u64(in, gr, "dataset", &fp);
    if (st == COLB_OK && fp != colb_dataset_fingerprint(g->ds))
        return colb__snap_error(in, COLB_EINVAL, "snapshot was taken on another data set "
                                "(fingerprint %016llx, this one is %016llx)", (unsigned long long)fp,
                                (unsigned long long)colb_dataset_fingerprint(g->ds));
    if (st == COLB_OK)
        st = colb__snap_get_size(in, gr, "protocol", g->proto, g->proto, &proto);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, gr, "rounds", &g->rounds);
    /* the environment's own count (read before, and never above 2^64 - 2):
     * the two advance together, and a count of its own that wrapped to 0
     * at the next round would leave the round without contexts */
    if (st == COLB_OK && g->rounds != e->rounds)
        st = colb__snap_error(in, COLB_EPARSE, "snapshot's data set environment has played %llu rounds, but the "
                              "environment %llu", (unsigned long long)g->rounds, (unsigned long long)e->rounds);
    if (st == COLB_OK)
        st = colb__snap_get_u64s(in, gr, "rng", r, 4);
    if (st == COLB_OK && colb_rng_set_state(&g->rng, r) != COLB_OK)
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: the environment's stream state is zero");
    if (st == COLB_OK && g->rounds)
        st = colb__snap_get_sizes(in, gr, "items", g->items, rows * e->K, g->n_items);
    if (st != COLB_OK || !g->rounds)
        return st;
    if (g->proto == COLB_LOGGED_SHARED) {
        fill(g, e->K, e->d, g->items, g->ctx);
        mark_best(g, e->N, e->K);
    } else {
        memset(g->filled, 0, e->N);
    }
    return COLB_OK;
}

static const colb__env_vt logged_vt = {
    .name = "logged",
    .next_round = logged_next_round,
    .contexts = logged_contexts,
    .contexts_into = logged_contexts_into,
    .reward = logged_reward,
    .regret = logged_regret,
    .outcome = logged_outcome,
    .theta = NULL,
    .destroy = logged_destroy,
    .save = logged_save,
    .restore = logged_restore,
};

colb_status colb_env_create_logged(const colb_dataset *ds, colb_logged_protocol proto, size_t K,
                                   uint64_t seed, colb_env **out, char *msg, size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL output pointer");
    *out = NULL;
    if (!ds)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL dataset");
    if (proto != COLB_LOGGED_SHARED && proto != COLB_LOGGED_PER_USER)
        return colb__say(msg, msg_len, COLB_EINVAL, "protocol must be shared or per-user");
    size_t n = colb_dataset_items(ds), N = colb_dataset_users(ds), d = colb_dataset_dim(ds);
    if (K == 0 || K > n)
        return colb__say(msg, msg_len, COLB_ERANGE, "arms K must be in [1, n_items = %zu]", n);
    size_t rows = proto == COLB_LOGGED_SHARED ? 1 : N;
    if (K > SIZE_MAX / d || rows > SIZE_MAX / (K * d))
        return colb__say(msg, msg_len, COLB_ENOMEM, "contexts too large");

    colb_env_params p;
    colb_env_params_default(&p);
    p.kind = COLB_ENV_LOGGED;
    p.users = N;
    p.clusters = 1;
    p.dim = d;
    p.arms = K;
    p.noise = 0.0;
    colb_env *e = colb__env_alloc(&logged_vt, &p, N, d, K, proto == COLB_LOGGED_SHARED, seed);
    logged *g = calloc(1, sizeof *g);
    if (!e || !g) {
        free(g);
        colb_env_free(e);
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    }
    e->impl = g;
    g->ds = ds;
    g->proto = proto;
    g->n_items = n;
    colb_rng_seed(&g->rng, seed, COLB__STREAM_CONTEXT);
    /* every context is a row of the feature table: checked here once, the
     * simulator's per-user turns need not check each (policy_impl.h) */
    const colb__soa_kernel *kern;
    colb__soa_pick_kernel(NULL, &kern);
    e->contexts_bounded = kern->bounded(colb_dataset_features(ds), n * d, COLB_CONTEXT_MAX);
    g->items = colb__malloc(rows * K, sizeof(size_t));
    g->ctx = colb__malloc(rows * K * d, sizeof(double));
    if (proto == COLB_LOGGED_PER_USER)
        g->filled = colb__calloc(N, 1);
    g->seen = colb__calloc(n / 64 + 1, sizeof(uint64_t));
    if (!g->items || !g->ctx || !g->seen || (proto == COLB_LOGGED_PER_USER && !g->filled) ||
        (proto == COLB_LOGGED_SHARED && index_by_item(g, N) != 0)) {
        colb_env_free(e);
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    }
    *out = e;
    return COLB_OK;
}

const size_t *colb_env_logged_items(const colb_env *e, size_t u)
{
    if (!e || e->vt != &logged_vt || u >= e->N)
        return NULL;
    return shown(e, u);
}
