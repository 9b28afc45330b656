/* sim_persist.h - snapshots of simulations (internal; the public calls are
 * in colb/snapshot.h, the format in docs/format.md "Simulation"). */
#ifndef COLB_SIM_PERSIST_H
#define COLB_SIM_PERSIST_H

#include "colb/sim.h"
#include "persist/snapshot.h"

/* The fields of sim (spec, curves, and every started job's environment and
 * policy) in the writer's current group. Not while colb_sim_advance runs. */
colb_status colb__sim_save_fields(colb__snap_out *w, const colb_sim *sim);

/* A simulation from group g for `spec`, which must describe the same
 * simulation (COLB_EINVAL naming the first difference). */
colb_status colb__sim_load_fields(colb__snap_in *in, const colb__snap_group *g,
                                  const colb_sim_spec *spec, colb_sim **out);

#endif
