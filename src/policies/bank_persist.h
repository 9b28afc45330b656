/* bank_persist.h - snapshots of the learner banks (internal): the ridge
 * bank (linalg/ridge.h), one learner per user (learn/user_bank.h), one per
 * group (learn/cluster_bank.h) and ALB-norm's schedule (learn/alb_norm.h).
 *
 * This file is the one place that knows how banks look in a snapshot
 * (docs/format.md, "Banks"); how a model looks in memory is known only to
 * colb__ridge_export / colb__ridge_import (ridge.c) and colb__soa_export /
 * colb__soa_import (soa_bank.c, the user bank's), so that a new in-memory
 * layout changes neither the format nor this file. The banks sit
 * in layers below src/persist/ (linalg, learn) and cannot include it, which
 * is why their writers live here, with the policies that use them.
 *
 * Every loader checks the group against the expected dimensions, reserves
 * the memory it is about to allocate (colb__snap_reserve), allocates, then
 * fills; on error the bank is left zeroed or allocated-but-partial, and its
 * usual free function releases it. */
#ifndef COLB_BANK_PERSIST_H
#define COLB_BANK_PERSIST_H

#include "learn/alb_norm.h"
#include "learn/cluster_bank.h"
#include "learn/user_bank.h"
#include "linalg/ridge.h"
#include "persist/snapshot.h"

/* Largest dimension a snapshot may declare (memory for d^2 per model is
 * then still computed without overflow). */
#define COLB__SNAP_DIM_MAX ((size_t)1 << 16)

/* Models [0, m) of r as the group `name`. */
void colb__ridge_save(colb__snap_out *w, const char *name, const colb__ridge *r, size_t m);

/* Allocate r with n models of dimension d and parameters p and fill models
 * [0, m) from the group `name` (the rest stay reset). m is read from the
 * group; it must be n when m_out is NULL, else at most n (*m_out gets it). */
colb_status colb__ridge_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                             colb__ridge *r, size_t n, size_t d, const colb_learner_params *p,
                             size_t *m_out);

/* The user bank (all its N models, and its one prior mean) as the group
 * `name`; load reads it back, or a version-1 file's ridge bank of users. */
void colb__users_save(colb__snap_out *w, const char *name, const colb__users *b);
colb_status colb__users_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                             colb__users *b, size_t N, size_t d, const colb_learner_params *p);

/* Between rounds only (the round's arms and sums are not saved). */
void colb__clusters_save(colb__snap_out *w, const char *name, const colb__clusters *c);
colb_status colb__clusters_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                colb__clusters *c, size_t N, size_t d,
                                const colb_learner_params *p);

void colb__alb_save(colb__snap_out *w, const char *name, const colb__alb *a);
colb_status colb__alb_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                           colb__alb *a, size_t n, size_t d);

#endif
