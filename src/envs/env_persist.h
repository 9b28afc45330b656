/* env_persist.h - snapshots of environments (internal; the public calls are
 * in colb/snapshot.h, the format in docs/format.md "Environment"). */
#ifndef COLB_ENV_PERSIST_H
#define COLB_ENV_PERSIST_H

#include "colb/dataset.h"
#include "colb/env.h"
#include "persist/snapshot.h"

/* The fields of e (kind, parameters, seed, rounds, true clusters, state)
 * in the writer's current group. */
colb_status colb__env_save_fields(colb__snap_out *w, const colb_env *e);

/* Overwrite the state of e, created from the same parameters and seed as
 * the saved environment (a simulation re-creates it from its spec), with
 * group g. COLB_EINVAL when e is not that environment (kind, parameters or
 * seed differ); on any error e must be freed. */
colb_status colb__env_restore_fields(colb__snap_in *in, const colb__snap_group *g, colb_env *e);

/* Build an environment from group g: a synthetic one from its stored
 * parameters and seed, a logged-data one over `ds` (required, checked by
 * fingerprint). On error *out is NULL. */
colb_status colb__env_load_fields(colb__snap_in *in, const colb__snap_group *g,
                                  const colb_dataset *ds, colb_env **out);

/* colb_env_params as a group and back (absent fields keep their defaults);
 * the first differing field's name or NULL. */
void colb__env_params_save(colb__snap_out *w, const char *name, const colb_env_params *p);
colb_status colb__env_params_load(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                  colb_env_params *p);
const char *colb__env_params_diff(const colb_env_params *a, const colb_env_params *b);

#endif
