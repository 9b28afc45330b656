/* colb/cluster.h - MAXIMAL-CLUSTER (Algorithm 3 of Ghosh, Sankararaman,
 * Ramchandran): cluster users by their estimated parameters.
 *
 * Graph G on N users with an edge i ~ j when ||theta_i - theta_j|| <= gamma
 * (or, with per-user radii r, when ||theta_i - theta_j|| <= r_i + r_j); the
 * clusters are the connected components of G, except that every component
 * with fewer than p* N users is merged into one cluster.
 *
 * Squared distances are summed coordinate by coordinate in a fixed order
 * (the same result on every CPU): O(N^2 d) flops, O(N d) extra memory.
 * Squared distances that would overflow (magnitudes beyond 2^499) or
 * underflow (all below 2^-400) are computed on the inputs scaled by a
 * power of two, which changes no comparison unless the inputs span more
 * than 2^1000 in magnitude. */
#ifndef COLB_CLUSTER_H
#define COLB_CLUSTER_H

#include <stddef.h>

#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Cluster N estimates theta (N x d row-major, borrowed). Threshold: gamma
 * >= 0 when radius is NULL, else radius[0..N) >= 0 per user (gamma ignored).
 * pstar in [0, 1]. On success labels[0..N) receives cluster ids in
 * [0, *n_clusters), numbered in order of each cluster's smallest user id.
 * Errors: COLB_EINVAL (NULL, N or d == 0), COLB_ERANGE (d >
 * COLB_DIM_MAX, N d doubles beyond the address space, gamma or a radius
 * negative, pstar outside [0, 1]), COLB_ENONFIN (NaN/Inf in theta, radius,
 * gamma or pstar), COLB_ENOMEM. */
colb_status colb_maximal_cluster(const double *theta, size_t N, size_t d, double gamma,
                                 const double *radius, double pstar, size_t *labels,
                                 size_t *n_clusters);

/* Connected components of a graph given by an edge list (edges[2e], [2e+1]
 * in [0, N)), by union-find; labels as above. Exposed for tests and for
 * users' own graphs. Errors: COLB_EINVAL (labels or n_clusters NULL, N ==
 * 0, edges NULL with n_edges > 0), COLB_ERANGE (an edge's end >= N),
 * COLB_ENOMEM; O(N + n_edges) time, 3 N words of memory. */
colb_status colb_components(size_t N, const size_t *edges, size_t n_edges, size_t *labels,
                            size_t *n_clusters);

/* Merge every cluster smaller than pstar*N into one cluster and renumber
 * (in order of smallest member). labels[0..N) in [0, *n_clusters), with
 * *n_clusters <= N, are updated in place, and *n_clusters. Errors (labels
 * unchanged): COLB_EINVAL (NULL, N == 0), COLB_ENONFIN (pstar NaN or Inf),
 * COLB_ERANGE (pstar outside [0, 1], *n_clusters > N, a label >=
 * *n_clusters), COLB_ENOMEM; O(N) time and memory. */
colb_status colb_merge_small(size_t N, size_t *labels, size_t *n_clusters, double pstar);

#ifdef __cplusplus
}
#endif
#endif
