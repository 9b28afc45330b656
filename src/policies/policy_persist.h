/* policy_persist.h - snapshots of policies (internal; the public calls are
 * in colb/snapshot.h, the format in docs/format.md "Policy"). */
#ifndef COLB_POLICY_PERSIST_H
#define COLB_POLICY_PERSIST_H

#include "colb/policy.h"
#include "persist/snapshot.h"

/* The fields of policy p (name, parameters, rounds, info, labels, state) in
 * the writer's current group. COLB_ESTATE when a round is open, COLB_EUNSUP
 * without a save hook; errors are also recorded in w. */
colb_status colb__policy_save_fields(colb__snap_out *w, const colb_policy *p);

/* Build a policy from the fields of group g (written by
 * colb__policy_save_fields). On error *out is NULL and in->msg says why. */
colb_status colb__policy_load_fields(colb__snap_in *in, const colb__snap_group *g,
                                     colb_policy **out);

/* colb_policy_params as the group `name` (every field but the borrowed
 * true_cluster pointer), and back: absent fields keep their defaults, but
 * for params of a cohort policy (has_cohort) an absent
 * cohort_estimate_noise is 0, what the snapshots written before it existed
 * ran with. */
void colb__policy_params_save(colb__snap_out *w, const char *name, const colb_policy_params *pp);
colb_status colb__policy_params_load(colb__snap_in *in, const colb__snap_group *g,
                                     const char *name, int has_cohort, colb_policy_params *pp);

/* The name of the first stored field in which a and b differ, or NULL. */
const char *colb__policy_params_diff(const colb_policy_params *a, const colb_policy_params *b);

#endif
