/* club.h - internal hooks into the "club" policy (src/policies/club.c) for the tests
 * and the benchmark. Not part of the public API: the names may change. Every
 * function taking a colb_policy returns COLB_EINVAL (or 0) when the policy is
 * not a CLUB policy. */
#ifndef COLB_CLUB_H
#define COLB_CLUB_H

#include <stddef.h>
#include <stdint.h>

#include "colb/policy.h"

/* Naive mode (benchmark only): rebuild the served user's component aggregate
 * from its members at every choose, O(|component| d^2 + d^3), instead of
 * keeping it up to date by rank-one updates. Decisions are the same up to
 * rounding. Per handle, no global state. Switch before the first round. */
colb_status colb__club_set_naive(colb_policy *p, int naive);

/* T_u: the number of times user u has been served (observed). */
uint64_t colb__club_served(const colb_policy *p, size_t u);

/* Number of edges left in the user graph. */
uint64_t colb__club_edges(const colb_policy *p);

/* 1 if the edge (u, v) is in the graph (0 also for bad arguments). */
int colb__club_has_edge(const colb_policy *p, size_t u, size_t v);

/* Run the edge scan of observe for user u now, with the constant alpha2
 * (not necessarily the policy's), without deleting anything: out[0..return)
 * receives, in increasing order, the neighbours l of u for which the rule
 * ||w_u - w_l|| > CB(T_u) + CB(T_l) holds at the current estimates and
 * counts. out holds N values; (size_t)-1 if out of memory. Exposed to test
 * the blocked kernel against colb__club_edge_deleted: in the policy's own
 * state every remaining edge passes at its own alpha2 (the endpoint served
 * last tested it), so only another alpha2 finds failing edges. */
size_t colb__club_scan(const colb_policy *p, size_t u, double alpha2, size_t *out);

/* Edge tests the policy's scans have skipped so far, each certified by the
 * triangle inequality through its component's pivot (club.c, place_pivot)
 * to pass the test. */
uint64_t colb__club_certified(const colb_policy *p);

/* Recompute from scratch and compare with the incremental state: the graph
 * invariants (colb__club_graph_consistent) and, for every component, the
 * aggregate V = lambda I + sum_j (M_j - lambda I), its inverse, b, w and
 * ln det V rebuilt from the members by Cholesky. *max_rel receives the
 * largest normwise relative difference (max |diff| / max |fresh|) over all of
 * them. COLB_ESTATE if a graph invariant fails, a count differs, the
 * edge scan's copies (CB_j, the transposed w_j and their float copy) differ
 * from their sources,
 * or a certificate's g_j or a component's bound on them is not what the
 * pivot gives,
 * COLB_EUNSUP in naive mode (the aggregates are rebuilt lazily there),
 * COLB_ENOMEM, COLB_ENUMERIC. */
colb_status colb__club_check(const colb_policy *p, double *max_rel);

/* CB_j = alpha2 * sqrt((1 + ln(1 + T_j)) / (1 + T_j)), the confidence bound
 * of the edge-deletion rule (Gentile, Li, Zappella 2014, Algorithm 1). */
double colb__club_cb(uint64_t T, double alpha2);

/* The edge-deletion rule exactly as the policy applies it: 1 iff
 * ||wi - wl|| > CB(Ti) + CB(Tl) (wi, wl: d values). */
int colb__club_edge_deleted(const double *wi, const double *wl, size_t d, uint64_t Ti,
                            uint64_t Tl, double alpha2);

#endif
