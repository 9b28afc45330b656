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

const colb__policy_vt colb__policy_random = {
    .name = "random",
    .create = rnd_create,
    .destroy = rnd_destroy,
    .choose = rnd_choose,
    .observe = rnd_observe,
};
