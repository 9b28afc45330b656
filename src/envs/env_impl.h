/* env_impl.h - the interface every environment implements (internal); see
 * colb/env.h for the contract and env.c for the generic layer. */
#ifndef COLB_ENV_IMPL_H
#define COLB_ENV_IMPL_H

#include "colb/env.h"
#include "colb/rng.h"
#include "core/util.h"
#include "envs/env_tape.h"
#include "persist/snapshot.h"

/* Stream ids of an environment's randomness under its master seed. */
enum { COLB__STREAM_THETA = 1, COLB__STREAM_CONTEXT = 2, COLB__STREAM_NOISE = 3 };

typedef struct colb__env_vt {
    const char *name;
    colb_status (*next_round)(colb_env *e);
    /* May be NULL: see colb__env_prefetch. */
    void (*prefetch)(colb_env *e);
    /* May be NULL: see colb__env_outcomes. */
    void (*outcomes)(const colb_env *e, const size_t *arms, double *rewards, double *regret);
    /* May be NULL: see colb__env_outcome. */
    void (*outcome)(const colb_env *e, size_t u, size_t k, double *reward, double *regret);
    const double *(*contexts)(colb_env *e, size_t u);
    /* May be NULL: see colb__env_contexts_into. */
    const double *(*contexts_into)(colb_env *e, size_t u, double *buf);
    double (*reward)(const colb_env *e, size_t u, size_t k);
    double (*regret)(const colb_env *e, size_t u, size_t k);
    colb_status (*theta)(const colb_env *e, size_t u, double *theta); /* may be NULL */
    void (*destroy)(colb_env *e);

    /* Persistence (src/envs/env_persist.c, docs/format.md "Environment").
     * save: the impl's state as named fields into w (the generic layer
     * writes kind, parameters, seed, round count and true clusters). restore:
     * overwrite the state of e - freshly created from the same parameters
     * and seed - with the fields of g, checking every count and index; on
     * error e may be half-restored and is freed by the caller. */
    colb_status (*save)(const colb_env *e, colb__snap_out *w);
    colb_status (*restore)(colb_env *e, colb__snap_in *in, const colb__snap_group *g);

    /* Both NULL, or both set: see colb__env_tape_shape, colb__env_attach_tape. */
    int (*tape_shape)(const colb_env *e, size_t seg[COLB__TAPE_SEGS], size_t *words);
    void (*attach_tape)(colb_env *e, colb__tape *t);
} colb__env_vt;

struct colb_env {
    const colb__env_vt *vt;
    colb_env_params p;
    size_t N, d, K;
    int shared;              /* contexts shared by all users of a round */
    int contexts_bounded;    /* every context it shows is finite and within
                              * COLB_CONTEXT_MAX: checked once, at creation
                              * (the logged environment's feature table) */
    size_t *labels;          /* true clusters or NULL */
    size_t n_clusters;
    void *impl;
    uint64_t seed;           /* master seed it was created with */
    uint64_t rounds;         /* rounds drawn (colb_env_next_round) */
    double tape_draw_s;      /* seconds spent drawing rounds that went to a tape */
};

/* Draw the next round's randomness ahead, so that the next
 * colb_env_next_round has less to do; what it shows is the same (the same
 * streams in the same order). Safe on another thread while the caller
 * touches anything but e (the simulator runs it while the policy chooses).
 * A snapshot taken with a round drawn ahead saves the streams as they were
 * before it. A no-op for environments that cannot (vt->prefetch NULL) or
 * have drawn ahead already, and when out of memory. */
void colb__env_prefetch(colb_env *e);

/* The round's outcomes for arms[u] of every user u: rewards[u] =
 * colb_env_reward(e, u, arms[u]) and *regret = the sum of
 * colb_env_regret(e, u, arms[u]) over u = 0..N-1 added in that order (the
 * same bits; an arm >= K gives NaN, as those do), in one loop where the
 * environment has one (vt->outcomes). */
void colb__env_outcomes(const colb_env *e, const size_t *arms, double *rewards, double *regret);

/* *reward = colb_env_reward(e, u, k) and *regret = colb_env_regret(e, u, k),
 * the same bits, in one call where the environment has one (vt->outcome:
 * the logged one looks the item up once for both). */
void colb__env_outcome(const colb_env *e, size_t u, size_t k, double *reward, double *regret);

/* User u's contexts of the current round (K x d) for one turn of the
 * per-user protocol: the same values as colb_env_contexts(e, u), written
 * into buf (K d doubles, the caller's) by environments that build a user's
 * contexts on demand (vt->contexts_into), else colb_env_contexts(e, u).
 * Valid until the next call with the same buf, or the next round. Why: the
 * simulator reuses one buffer for every user, which the caches hold, where
 * colb_env_contexts must keep every user's block of the round (9.5 MB on
 * Last.FM's 1,892 users, cold when written); the environment's state is
 * not changed. */
const double *colb__env_contexts_into(colb_env *e, size_t u, double *buf);

/* The shape of one of e's rounds on a tape (env_tape.h): 1, or 0 when its
 * rounds are not shared (environments whose rounds are drawn per user turn,
 * or that do not implement it). */
int colb__env_tape_shape(const colb_env *e, size_t seg[COLB__TAPE_SEGS], size_t *words);

/* The shape colb__env_tape_shape gives for the environment
 * colb_env_create(p) makes, from the parameters alone (the simulator's
 * memory estimate counts its tapes by it): 1, or 0 for a kind it does not
 * make. p is not checked beyond its kind. */
int colb__env_params_tape_shape(const colb_env_params *p, size_t seg[COLB__TAPE_SEGS], size_t *words);

/* From its next round on, e takes the rounds t holds (the same values it
 * would draw) and records those it draws first; e keeps a reference until
 * it is freed. t must fit e's shape, and come from environments made from
 * the same parameters and seed, before any of e's rounds. No-op when e's
 * rounds are not shared. */
void colb__env_attach_tape(colb_env *e, colb__tape *t);

/* Seconds e spent drawing rounds for its tape since the last call (0 when
 * it has none): what the simulator leaves out of a job's time, since the
 * repeat's other jobs then replay them. */
double colb__env_take_tape_seconds(colb_env *e);

/* Allocate a colb_env with the generic fields set (impl NULL). */
colb_env *colb__env_alloc(const colb__env_vt *vt, const colb_env_params *p, size_t N, size_t d,
                          size_t K, int shared, uint64_t seed);

#endif
