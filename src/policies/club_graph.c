/* club_graph.c - the user graph of CLUB as a bit matrix with connected
 * components (see club_graph.h). The only structural change CLUB makes is the
 * deletion of some edges of the user just served, so only that user's
 * component can split, and it can split only if a deleted neighbour is no
 * longer reachable from the user: the search below stops as soon as every
 * deleted neighbour has been reached again. */
#include "policies/club_graph.h"

#include <math.h>
#include <string.h>

#include "core/util.h"

colb_status colb__club_graph_init(colb__club_graph *g, size_t n)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    g->W = (n + 63) / 64;
    g->adj = colb__calloc(n, g->W * sizeof(uint64_t));
    g->comp = colb__malloc(n, sizeof(size_t));
    g->start = colb__malloc(n, sizeof(size_t));
    g->size = colb__malloc(n, sizeof(size_t));
    g->perm = colb__malloc(n, sizeof(size_t));
    g->vis = colb__calloc(g->W, sizeof(uint64_t));
    g->target = colb__calloc(g->W, sizeof(uint64_t));
    g->queue = colb__malloc(n, sizeof(size_t));
    if (!g->adj || !g->comp || !g->start || !g->size || !g->perm || !g->vis || !g->target ||
        !g->queue) {
        colb__club_graph_free(g);
        return COLB_ENOMEM;
    }
    colb__club_graph_components(g);
    return COLB_OK;
}

void colb__club_graph_free(colb__club_graph *g)
{
    if (!g)
        return;
    free(g->adj);
    free(g->comp);
    free(g->start);
    free(g->size);
    free(g->perm);
    free(g->vis);
    free(g->target);
    free(g->queue);
    memset(g, 0, sizeof *g);
}

static inline void set_edge(colb__club_graph *g, size_t u, size_t v)
{
    g->adj[u * g->W + (v >> 6)] |= (uint64_t)1 << (v & 63);
    g->adj[v * g->W + (u >> 6)] |= (uint64_t)1 << (u & 63);
}

void colb__club_graph_complete(colb__club_graph *g)
{
    size_t n = g->n, W = g->W;
    for (size_t u = 0; u < n; u++) {
        uint64_t *row = g->adj + u * W;
        for (size_t w = 0; w < W; w++)
            row[w] = ~(uint64_t)0;
        if (n & 63)
            row[W - 1] = ((uint64_t)1 << (n & 63)) - 1;
        row[u >> 6] &= ~((uint64_t)1 << (u & 63));
    }
    g->edges = (uint64_t)n * (n - 1) / 2;
    colb__club_graph_components(g);
}

void colb__club_graph_random(colb__club_graph *g, double prob, colb_rng *rng)
{
    size_t n = g->n;
    memset(g->adj, 0, n * g->W * sizeof(uint64_t));
    g->edges = 0;
    if (prob >= 1.0) {
        colb__club_graph_complete(g);
        return;
    }
    if (prob > 0.0 && n >= 2) {
        /* Batagelj and Brandes (2005), algorithm G(n,p): walk the lower
         * triangle (v, w), w < v, in row order, jumping over a geometric
         * number of absent edges each time. */
        double lp = log1p(-prob), cap = (double)n * (double)n;
        size_t v = 1;
        uint64_t w = (uint64_t)-1; /* -1: the walk starts before (1, 0) */
        while (v < n) {
            double skip = floor(log1p(-colb_rng_uniform(rng)) / lp);
            if (!(skip < cap))
                skip = cap; /* beyond the last pair anyway */
            w += 1 + (uint64_t)skip;
            while (v < n && w >= v) {
                w -= v;
                v++;
            }
            if (v < n) {
                set_edge(g, v, (size_t)w);
                g->edges++;
            }
        }
    }
    colb__club_graph_components(g);
}

void colb__club_graph_delete(colb__club_graph *g, size_t u, size_t v)
{
    g->adj[u * g->W + (v >> 6)] &= ~((uint64_t)1 << (v & 63));
    g->adj[v * g->W + (u >> 6)] &= ~((uint64_t)1 << (u & 63));
    g->edges--;
}

/* Breadth-first search from s over unvisited users, appending them to
 * queue[tail..); returns the new tail. Marks them in g->vis. */
static size_t bfs(colb__club_graph *g, size_t s, size_t tail)
{
    size_t W = g->W, head = tail;
    g->vis[s >> 6] |= (uint64_t)1 << (s & 63);
    g->queue[tail++] = s;
    while (head < tail) {
        const uint64_t *row = g->adj + g->queue[head++] * W;
        for (size_t w = 0; w < W; w++) {
            uint64_t nb = row[w] & ~g->vis[w];
            if (!nb)
                continue;
            g->vis[w] |= nb;
            for (; nb; nb &= nb - 1)
                g->queue[tail++] = w * 64 + colb__ctz64(nb);
        }
    }
    return tail;
}

void colb__club_graph_components(colb__club_graph *g)
{
    memset(g->vis, 0, g->W * sizeof(uint64_t));
    size_t tail = 0;
    g->n_comp = 0;
    for (size_t s = 0; s < g->n; s++) {
        if ((g->vis[s >> 6] >> (s & 63)) & 1u)
            continue;
        size_t c = g->n_comp++, t0 = tail;
        tail = bfs(g, s, tail);
        g->start[c] = t0;
        g->size[c] = tail - t0;
        for (size_t k = t0; k < tail; k++) {
            g->perm[k] = g->queue[k];
            g->comp[g->queue[k]] = c;
        }
    }
}

size_t colb__club_graph_split(colb__club_graph *g, size_t u, const size_t *nbr, size_t m)
{
    size_t W = g->W, c = g->comp[u];
    memset(g->vis, 0, W * sizeof(uint64_t));
    for (size_t k = 0; k < m; k++)
        g->target[nbr[k] >> 6] |= (uint64_t)1 << (nbr[k] & 63);
    size_t left = m; /* deleted neighbours not reached yet */

    /* Phase 1: search from u until every deleted neighbour is reached. */
    size_t head = 0, tail = 0;
    g->vis[u >> 6] |= (uint64_t)1 << (u & 63);
    g->queue[tail++] = u;
    while (head < tail && left > 0) {
        const uint64_t *row = g->adj + g->queue[head++] * W;
        for (size_t w = 0; w < W; w++) {
            uint64_t nb = row[w] & ~g->vis[w];
            if (!nb)
                continue;
            g->vis[w] |= nb;
            uint64_t hit = nb & g->target[w];
            if (hit) {
                left -= colb__popcount64(hit);
                g->target[w] &= ~hit;
            }
            for (; nb; nb &= nb - 1)
                g->queue[tail++] = w * 64 + colb__ctz64(nb);
        }
    }
    if (left == 0)
        return 0; /* still connected; target is all zero again */
    memset(g->target, 0, W * sizeof(uint64_t));

    /* Phase 2: the search from u is exhausted, so queue[0..tail) is u's part.
     * Every other user of the component is reachable from u in the old
     * graph, so from u or a deleted neighbour in the new one: the searches
     * from the unreached neighbours find the other parts. */
    size_t part0 = tail, n_old = g->n_comp, base = g->start[c];
    for (size_t k = 0; k < m; k++) {
        size_t s = nbr[k];
        if ((g->vis[s >> 6] >> (s & 63)) & 1u)
            continue;
        size_t t0 = tail;
        tail = bfs(g, s, tail);
        size_t nc = g->n_comp++;
        g->start[nc] = base + t0;
        g->size[nc] = tail - t0;
        for (size_t q = t0; q < tail; q++)
            g->comp[g->queue[q]] = nc;
    }
    g->size[c] = part0;
    memcpy(g->perm + base, g->queue, tail * sizeof(size_t));
    return g->n_comp - n_old;
}

int colb__club_graph_consistent(const colb__club_graph *g)
{
    size_t n = g->n, W = g->W;
    uint64_t bits = 0;
    for (size_t u = 0; u < n; u++) {
        if (colb__club_graph_has_edge(g, u, u))
            return 0;
        for (size_t w = 0; w < W; w++) {
            uint64_t row = g->adj[u * W + w];
            if (w == W - 1 && (n & 63) && (row >> (n & 63)))
                return 0; /* bits beyond n */
            bits += colb__popcount64(row);
            for (; row; row &= row - 1) {
                size_t v = w * 64 + colb__ctz64(row);
                if (!colb__club_graph_has_edge(g, v, u) || g->comp[v] != g->comp[u])
                    return 0; /* asymmetric, or an edge between components */
            }
        }
    }
    if (bits != 2 * g->edges)
        return 0;
    /* perm is a permutation, ranges tile [0, n), labels match the ranges */
    size_t total = 0;
    unsigned char *seen = colb__calloc(n, 1);
    colb__club_graph h;
    if (!seen || colb__club_graph_init(&h, n) != COLB_OK) {
        free(seen);
        return -1;
    }
    int ok = g->n_comp >= 1 && g->n_comp <= n;
    for (size_t c = 0; ok && c < g->n_comp; c++) {
        ok = g->size[c] >= 1 && g->start[c] + g->size[c] <= n;
        for (size_t k = g->start[c]; ok && k < g->start[c] + g->size[c]; k++) {
            size_t v = g->perm[k];
            ok = v < n && !seen[v] && g->comp[v] == c;
            if (ok)
                seen[v] = 1;
        }
        total += g->size[c];
    }
    ok = ok && total == n;
    if (ok) {
        /* the same partition as the connected components from scratch: every
         * fresh component lies in one old component and the counts match
         * (edges never cross old components, checked above) */
        memcpy(h.adj, g->adj, n * W * sizeof(uint64_t));
        colb__club_graph_components(&h);
        ok = h.n_comp == g->n_comp;
        for (size_t c = 0; ok && c < h.n_comp; c++) {
            size_t first = g->comp[h.perm[h.start[c]]];
            for (size_t k = h.start[c]; ok && k < h.start[c] + h.size[c]; k++)
                ok = g->comp[h.perm[k]] == first;
        }
    }
    free(seen);
    colb__club_graph_free(&h);
    return ok;
}

int colb__club_graph_check_loaded(colb__club_graph *g)
{
    size_t n = g->n, W = g->W, nc = g->n_comp;
    if (nc < 1 || nc > n)
        return 0;
    for (size_t u = 0; u < n; u++)
        if (g->comp[u] >= nc || g->perm[u] >= n)
            return 0;
    size_t *owner = colb__malloc(n, sizeof(size_t));
    uint64_t *mask = colb__calloc(W, sizeof(uint64_t));
    int ok = owner && mask;
    for (size_t k = 0; ok && k < n; k++)
        owner[k] = (size_t)-1;
    for (size_t c = 0; ok && c < nc; c++) { /* the ranges tile [0, n) */
        ok = g->size[c] >= 1 && g->start[c] < n && g->size[c] <= n - g->start[c];
        for (size_t k = g->start[c]; ok && k < g->start[c] + g->size[c]; k++) {
            ok = owner[k] == (size_t)-1 && g->comp[g->perm[k]] == c;
            owner[k] = c;
        }
    }
    for (size_t k = 0; ok && k < n; k++)
        ok = owner[k] != (size_t)-1;
    /* perm hits every user once: n slots, each holding a user whose label
     * is the slot's component; count the labels to rule out repeats */
    for (size_t c = 0; ok && c < nc; c++)
        owner[c] = 0;
    for (size_t u = 0; ok && u < n; u++)
        owner[g->comp[u]]++;
    for (size_t c = 0; ok && c < nc; c++)
        ok = owner[c] == g->size[c];
    for (size_t k = 0; ok && k < n; k++) { /* and no user twice */
        size_t v = g->perm[k];
        ok = !((mask[v >> 6] >> (v & 63)) & 1u);
        mask[v >> 6] |= (uint64_t)1 << (v & 63);
    }
    uint64_t bits = 0;
    for (size_t c = 0; ok && c < nc; c++) { /* edges stay inside components */
        const size_t *mem = g->perm + g->start[c];
        memset(mask, 0, W * sizeof(uint64_t));
        for (size_t q = 0; q < g->size[c]; q++)
            mask[mem[q] >> 6] |= (uint64_t)1 << (mem[q] & 63);
        for (size_t q = 0; ok && q < g->size[c]; q++) {
            const uint64_t *row = g->adj + mem[q] * W;
            for (size_t w = 0; ok && w < W; w++) {
                ok = !(row[w] & ~mask[w]);
                bits += colb__popcount64(row[w]);
            }
        }
    }
    free(owner);
    free(mask);
    if (!owner || !mask)
        return -1;
    /* what split assumes: symmetric edges, no self-loops, and every
     * component connected (a search from one member reaches them all) */
    for (size_t u = 0; ok && u < n; u++) {
        const uint64_t *row = g->adj + u * W;
        ok = !colb__club_graph_has_edge(g, u, u);
        for (size_t w = 0; ok && w < W; w++)
            for (uint64_t b = row[w]; ok && b; b &= b - 1)
                ok = colb__club_graph_has_edge(g, w * 64 + colb__ctz64(b), u);
    }
    for (size_t c = 0; ok && c < nc; c++) {
        memset(g->vis, 0, W * sizeof(uint64_t));
        ok = bfs(g, g->perm[g->start[c]], 0) == g->size[c];
    }
    g->edges = bits / 2;
    return ok;
}
