/* snapshot_fixtures.h - the small data set and simulation spec shared by
 * tests/test_snapshot.c and the fuzz harness tests/fuzz/fuzz_snapshot.c: the
 * fuzzer's seed corpus (test_snapshot --write-corpus) is written with them,
 * so that its logged-data environments (checked by the data set's
 * fingerprint) and its simulation (checked against the spec) load in the
 * harness. */
#ifndef COLB_SNAPSHOT_FIXTURES_H
#define COLB_SNAPSHOT_FIXTURES_H

#include "colb/colb.h"

enum { FIX_USERS = 12, FIX_DIM = 4, FIX_ITEMS = 30 };

/* FIX_ITEMS items in dimension FIX_DIM, FIX_USERS users with a few
 * positives each (user 3 has none). NULL on failure; the caller frees. */
static inline colb_dataset *fixture_dataset(void)
{
    uint64_t item_ids[FIX_ITEMS], user_ids[FIX_USERS];
    double feat[FIX_ITEMS * FIX_DIM];
    size_t ptr[FIX_USERS + 1], items[FIX_USERS * 5], n = 0;
    colb_rng r;
    colb_rng_seed(&r, 7, 0);
    for (size_t i = 0; i < FIX_ITEMS; i++) {
        item_ids[i] = 100 + 3 * i;
        for (size_t j = 0; j < FIX_DIM; j++)
            feat[i * FIX_DIM + j] = colb_rng_normal(&r) / 2.0;
    }
    for (size_t u = 0; u < FIX_USERS; u++) {
        user_ids[u] = 10 + u;
        ptr[u] = n;
        for (size_t k = 0; u != 3 && k < 1 + u % 5; k++)
            items[n++] = (size_t)colb_rng_below(&r, FIX_ITEMS);
    }
    ptr[FIX_USERS] = n;
    colb_dataset *ds = NULL;
    colb_dataset_create(FIX_ITEMS, FIX_DIM, item_ids, feat, FIX_USERS, user_ids, ptr, items, &ds,
                        NULL, 0);
    return ds;
}

/* A small clustered simulation of the n policies `names` (borrowed). */
static inline void fixture_sim_spec(colb_sim_spec *s, const char *const *names, size_t n)
{
    colb_sim_spec_default(s);
    s->env.users = 15;
    s->env.clusters = 3;
    s->env.dim = 4;
    s->env.arms = 8;
    s->policy.learner.noise = 0.1;
    s->policies = names;
    s->n_policies = n;
    s->horizon = 120;
    s->repeats = 3;
    s->seed = 11;
    s->curve_points = 25;
}

/* The seed corpus's simulation: cmlb and random, one repeat of 30 rounds. */
static inline void fixture_corpus_spec(colb_sim_spec *s)
{
    static const char *const names[] = { "cmlb", "random" };
    fixture_sim_spec(s, names, 2);
    s->repeats = 1;
    s->horizon = 30;
    /* the corpus was written with the defaults of the time: the paper's
     * averaged updates and fresh cluster learners */
    s->policy.pooled_updates = 0;
    s->policy.cmlb_warm_start = 0;
}

#endif
