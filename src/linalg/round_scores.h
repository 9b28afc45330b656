/* round_scores.h - one round's UCB scores of the models of a ridge bank,
 * kept up to date through the models' rank-one updates (internal).
 *
 * For the policies that serve users one at a time and score a few shared
 * models many times per round on the same K contexts (SCLUB's clusters,
 * LOCB's neighbourhoods): a model's means m_k = <theta, x_k> and quadratic
 * forms q_k = x_k^T A x_k (A = V^{-1}) are computed by the hand-written
 * single-model kernel (soa_kernel.h score_x: from the round's contexts
 * transposed, the upper triangle of A read in place; no BLAS call, whose
 * overhead dominates at d = 15, K = 25) at the model's first use in the
 * round, O(K d^2), and then carried through its rank-one (Sherman-Morrison)
 * updates in O(K d) each:
 *     A' = A - c u u^T,  theta' = theta + g u
 *         (u = A x, s = x^T u, c = w / (1 + w s), g = c (y - <x, theta>))
 *     q'_k = q_k - c (x_k^T u)^2,   m'_k = m_k + g (x_k^T u)
 * instead of being recomputed. The carried m_k and q_k differ from a fresh
 * computation by rounding only (colb__rs_check measures it). A model whose A
 * is changed otherwise (refreshed from V, absorbed, split, reset) must be
 * forgotten (colb__rs_forget); an update that ends in the bank's periodic
 * refresh forgets its model by itself.
 *
 * The cached values live in a pool of entries handed out per round to the
 * models the caller asks to keep (memory: 16 Kp bytes per kept model of the
 * round, not per model of the bank), plus 24 bytes per model. */
#ifndef COLB_ROUND_SCORES_H
#define COLB_ROUND_SCORES_H

#include <stddef.h>
#include <stdint.h>

#include "linalg/ridge.h"
#include "linalg/soa_kernel.h"

typedef struct colb__round_scores {
    const colb__soa_kernel *kern; /* chosen at init (COLB_KERNEL or the CPU's best) */
    size_t n, d;                  /* models tracked, dimension */
    size_t K, Kp, K_cap;          /* the round's arms; Kp = K rounded up to 8 */
    double *Xt;                   /* d x Kp: the round's contexts transposed, zero padded */
    double *scores;               /* Kp: the scores of the last colb__rs_choose */
    double *tk;                   /* Kp: x_k^T u of an update */
    double *tmp;                  /* 2 Kp: means and forms of a model not kept */
    double *u;                    /* 2 d: the rank-one steps' A x */
    uint64_t round;               /* colb__rs_begin calls so far */
    uint64_t *stamp;              /* n: model i's entry is valid when stamp[i] == round */
    uint64_t *owner;              /* n: ent[i] is model i's entry when owner[i] == round */
    size_t *ent;                  /* n */
    double *pool;                 /* entries of 2 Kp doubles: means, then forms */
    size_t pool_len, used;        /* doubles allocated, entries handed out this round */
    int off;                      /* tests: keep nothing (every choose scores afresh) */
} colb__round_scores;

/* Track n models of dimension d. The kernel is the one COLB_KERNEL names
 * (COLB_EINVAL for an unknown name, COLB_EUNSUP when this CPU lacks it) or
 * the CPU's best; COLB_ENOMEM. On error the struct is safe to free. */
colb_status colb__rs_init(colb__round_scores *rs, size_t n, size_t d);
void colb__rs_free(colb__round_scores *rs);

/* Track n >= rs->n models (users added online); the new ones hold nothing.
 * COLB_ENOMEM leaves rs as it was. */
colb_status colb__rs_grow(colb__round_scores *rs, size_t n);

/* A new round on the K x d contexts X (copied, transposed): every cached
 * value is stale. COLB_ENOMEM. O(K d). */
colb_status colb__rs_begin(colb__round_scores *rs, const double *X, size_t K);

/* Scores of model i of r on the round's arms, into rs->scores[0..K):
 *     scores[k] = m_k + width * sqrt(max(q_k, 0) * scale)
 * (as score_x computes them on the kernel's path: cached or fresh, the same
 * m_k and q_k give the same bits), and their argmax (ties to the lowest k, a NaN score never wins). From the
 * cache when model i holds this round's values; else computed by score_x
 * (O(K d^2)) and, when keep is set, kept for the next calls (keep the models
 * that will be scored again this round). r must be the bank whose model i
 * the cache follows. */
size_t colb__rs_choose(colb__round_scores *rs, const colb__ridge *r, size_t i, double width,
                       double scale, int keep);

/* Scores of model i of a bank the cache does not follow (r and i are not
 * the tracked ones: e.g. a user's own model), as colb__rs_choose computes
 * them afresh; nothing is kept. O(K d^2). */
size_t colb__rs_score(colb__round_scores *rs, const colb__ridge *r, size_t i, double width,
                      double scale);

/* colb__ridge_update(r, i, x, y, w), the cached values of model i carried
 * through it (O(K d) more). */
void colb__rs_update(colb__round_scores *rs, colb__ridge *r, size_t i, const double *x, double y,
                     double w);

/* colb__ridge_update2(r0, i0, r, i, x, y, w): two models in one interleaved
 * step (the same bits as two colb__ridge_update), model i of r tracked and
 * its cached values carried, model i0 of r0 too when track0 is set (r0 is
 * then the tracked bank, e.g. two neighbourhoods of one user) - else it is
 * a model the cache does not follow (e.g. the served user's own). */
void colb__rs_update2(colb__round_scores *rs, colb__ridge *r0, size_t i0, int track0,
                      colb__ridge *r, size_t i, const double *x, double y, double w);

/* Model i's A or theta changed otherwise than by colb__rs_update: drop its
 * cached values (it is scored afresh at its next use). O(1). */
static inline void colb__rs_forget(colb__round_scores *rs, size_t i)
{
    rs->stamp[i] = 0;
}

/* Tests: recompute the means and quadratic forms of every model holding this
 * round's values directly (plain loops over the full A and theta of r) and
 * give the largest relative difference, max_k |cached - fresh| / max_k
 * |fresh| per model and kind (0 when nothing is cached). COLB_EINVAL for a
 * NULL argument. O(n + cached K d^2). */
colb_status colb__rs_check(const colb__round_scores *rs, const colb__ridge *r, double *max_rel);

/* Tests: models cached this round, and the number of them now valid. */
size_t colb__rs_cached(const colb__round_scores *rs);

#endif
