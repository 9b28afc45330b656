/* random_policy.c - "random": every user plays a uniformly random arm (the
 * reference that the Last.FM experiment divides by). Draws from stream 0 of
 * the policy's seed. */
#include "colb/rng.h"
#include "policies/policy_impl.h"

static colb_status rnd_create(colb_policy *p)
{
    colb_rng *r = malloc(sizeof *r);
    if (!r)
        return COLB_ENOMEM;
    colb_rng_seed(r, p->pp.seed, 0);
    p->impl = r;
    return COLB_OK;
}

static void rnd_destroy(colb_policy *p)
{
    free(p->impl);
    p->impl = NULL;
}

static colb_status rnd_choose(colb_policy *p, size_t u, size_t *arm)
{
    (void)u;
    *arm = (size_t)colb_rng_below(p->impl, p->K);
    return COLB_OK;
}

static colb_status rnd_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    (void)p, (void)u, (void)arm, (void)y;
    return COLB_OK;
}

static colb_status rnd_save(const colb_policy *p, colb__snap_out *w)
{
    const colb_rng *r = p->impl;
    colb__snap_u64s(w, "rng", r->s, 4);
    return colb__snap_status(w);
}

static colb_status rnd_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g)
{
    uint64_t s[4];
    colb_status st = colb__snap_get_u64s(in, g, "rng", s, 4);
    if (st != COLB_OK)
        return st;
    colb_rng *r = malloc(sizeof *r);
    if (!r)
        return COLB_ENOMEM;
    p->impl = r;
    if (colb_rng_set_state(r, s) != COLB_OK)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: random policy's generator state is zero");
    return COLB_OK;
}

/* Nothing per user. */
static colb_status rnd_add_users(colb_policy *p, size_t n, const size_t *labels)
{
    (void)p, (void)n, (void)labels;
    return COLB_OK;
}

const colb__policy_vt colb__policy_random = {
    .name = "random",
    .blind = 1,
    .create = rnd_create,
    .destroy = rnd_destroy,
    .choose = rnd_choose,
    .observe = rnd_observe,
    .save = rnd_save,
    .load = rnd_load,
    .add_users = rnd_add_users,
};
