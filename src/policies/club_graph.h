/* club_graph.h - the user graph of CLUB (internal): an undirected graph over
 * n users stored as a bit matrix, its connected components, and the one
 * mutation CLUB needs - deleting edges of one user and splitting that user's
 * component if it fell apart (Gentile, Li, Zappella 2014, Algorithm 1).
 *
 * Storage: row u of `adj` is a bitset of W = ceil(n / 64) words, bit v set
 * iff the edge (u, v) exists (symmetric, no self-loops). n^2 / 8 bytes: 12.5
 * MB for n = 10^4, and a complete graph costs no more than a sparse one.
 * Components are numbered 0..n_comp-1; component c's members are
 * perm[start[c] .. start[c] + size[c]) in a fixed (breadth-first) order.
 * Components only ever split (edges are never added), and a split keeps the
 * number of the part that holds the served user and numbers the other parts
 * n_comp, n_comp + 1, ...; each part's members stay inside the old
 * component's range of perm, so the ranges nest. */
#ifndef COLB_CLUB_GRAPH_H
#define COLB_CLUB_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "colb/rng.h"
#include "colb/status.h"
#include "core/util.h"

typedef struct colb__club_graph {
    size_t n, W;
    uint64_t *adj;       /* n x W bit rows */
    uint64_t edges;      /* number of undirected edges */
    size_t n_comp;
    size_t *comp;        /* n: component of each user */
    size_t *start, *size;/* n (first n_comp used): range of each component in perm */
    size_t *perm;        /* n: users grouped by component */
    /* scratch of split and components */
    uint64_t *vis, *target; /* W each */
    size_t *queue;       /* n */
} colb__club_graph;

/* Allocate a graph on n >= 1 users with no edges (every user its own
 * component). COLB_ENOMEM on failure (the graph is then safe to free). */
colb_status colb__club_graph_init(colb__club_graph *g, size_t n);
void colb__club_graph_free(colb__club_graph *g);

/* Make the graph complete (one component). O(n^2 / 64). */
void colb__club_graph_complete(colb__club_graph *g);

/* Make the graph Erdos-Renyi G(n, prob): each of the n(n-1)/2 edges present
 * independently with probability prob, drawn from `rng` by geometric skips
 * (Batagelj and Brandes 2005), O(n + edges); then compute the components. */
void colb__club_graph_random(colb__club_graph *g, double prob, colb_rng *rng);

/* Recompute the components from the edges by breadth-first search from each
 * user in index order. O(n^2 / 64). */
void colb__club_graph_components(colb__club_graph *g);

static inline int colb__club_graph_has_edge(const colb__club_graph *g, size_t u, size_t v)
{
    return (int)((g->adj[u * g->W + (v >> 6)] >> (v & 63)) & 1u);
}

/* Delete the edge (u, v), which must exist. Components are not updated:
 * call colb__club_graph_split afterwards. */
void colb__club_graph_delete(colb__club_graph *g, size_t u, size_t v);

/* After the edges (u, nbr[k]), k < m, were deleted (m >= 1, nbr distinct,
 * all in u's component), split u's component into its connected parts.
 * Returns the number of new components (0 when it is still connected); they
 * are numbered old n_comp .. n_comp - 1 and u keeps its number.
 * Cost: a breadth-first search from u over the component that stops as soon
 * as every nbr[k] is reached - O(W) per visited user, usually a handful of
 * users in a dense graph - and, if the component did split, one search of
 * the whole component, O(|component| W). */
size_t colb__club_graph_split(colb__club_graph *g, size_t u, const size_t *nbr, size_t m);

/* Check a graph loaded from a snapshot: n_comp in [1, n], every label below
 * n_comp, the ranges start/size tile [0, n) and hold exactly the members of
 * their component in perm, no bit beyond n, no edge leaving its component,
 * no self-loop, every edge in both rows, and every component connected -
 * the invariants split and rebuild rely on (for memory safety too: split
 * writes a component's search into its range of perm). O(n W + edges) time,
 * O(n) memory. Sets edges from the bit count. 1 if all hold, 0 if not, -1
 * if out of memory. */
int colb__club_graph_check_loaded(colb__club_graph *g);

/* Verify the invariants from scratch (for tests): adjacency symmetric with
 * no self-loops, `edges` equal to the bit count, comp/perm/start/size
 * consistent, and the components equal to the connected components of the
 * graph. 1 if all hold, 0 if not, -1 if out of memory. */
int colb__club_graph_consistent(const colb__club_graph *g);

#endif
