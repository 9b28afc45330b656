/* env_impl.h - the interface every environment implements (internal); see
 * colb/env.h for the contract and env.c for the generic layer. */
#ifndef COLB_ENV_IMPL_H
#define COLB_ENV_IMPL_H

#include "colb/env.h"
#include "colb/rng.h"
#include "core/util.h"

/* Stream ids of an environment's randomness under its master seed. */
enum { COLB__STREAM_THETA = 1, COLB__STREAM_CONTEXT = 2, COLB__STREAM_NOISE = 3 };

typedef struct colb__env_vt {
    const char *name;
    colb_status (*next_round)(colb_env *e);
    const double *(*contexts)(colb_env *e, size_t u);
    double (*reward)(const colb_env *e, size_t u, size_t k);
    double (*regret)(const colb_env *e, size_t u, size_t k);
    colb_status (*theta)(const colb_env *e, size_t u, double *theta); /* may be NULL */
    void (*destroy)(colb_env *e);
} colb__env_vt;

struct colb_env {
    const colb__env_vt *vt;
    colb_env_params p;
    size_t N, d, K;
    int shared;              /* contexts shared by all users of a round */
    size_t *labels;          /* true clusters or NULL */
    size_t n_clusters;
    void *impl;
};

/* Allocate a colb_env with the generic fields set (impl NULL). */
colb_env *colb__env_alloc(const colb__env_vt *vt, const colb_env_params *p, size_t N, size_t d,
                          size_t K, int shared);

#endif
