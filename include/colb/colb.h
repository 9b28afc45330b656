/* colb/colb.h - umbrella header: include this to use the whole library.
 *
 * colb: collaborative (multi-agent) stochastic linear bandits. Conventions:
 * every fallible call returns a colb_status (colb/status.h); handles are
 * opaque, made by *_create and released by *_free (NULL harmless); arrays are
 * flat and row-major; the caller owns what it passes in unless a function
 * says it copies or takes it. No global mutable state: distinct handles may
 * be used from distinct threads. */
#ifndef COLB_H
#define COLB_H

#include "colb/status.h"
#include "colb/limits.h"
#include "colb/rng.h"
#include "colb/learner.h"
#include "colb/env.h"
#include "colb/policy.h"
#include "colb/sim.h"
#include "colb/tune.h"
#include "colb/cluster.h"
#include "colb/dataset.h"
#include "colb/snapshot.h"
#include "colb/file.h"
#include "colb/params.h"

#define COLB_VERSION_STRING "0.1.0"

#endif
