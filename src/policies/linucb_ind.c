/* linucb_ind.c - LinUCB-Ind: one independent OFUL/LinUCB learner per user,
 * the paper's no-collaboration baseline (Section 6.1); with
 * colb_policy_params.sampling = COLB_SAMPLING_TS every user's learner is a
 * linear Thompson sampler instead (learn/thompson.h). */
#include "learn/thompson.h"
#include "learn/user_bank.h"
#include "policies/policy_impl.h"

#include <string.h>

static colb_status ind_create(colb_policy *p)
{
    colb__users *b = calloc(1, sizeof *b);
    if (!b)
        return COLB_ENOMEM;
    p->impl = b;
    return colb__users_init(b, p->N, p->d, &p->pp.learner);
}

static void ind_destroy(colb_policy *p)
{
    colb__users_free(p->impl);
    free(p->impl);
    p->impl = NULL;
}

static colb_status ind_begin(colb_policy *p)
{
    colb_status st = colb__users_reserve(p->impl, p->K);
    return st == COLB_OK ? st : colb__err(p->err, st, "begin_round: out of memory");
}

static colb_status ind_choose(colb_policy *p, size_t u, size_t *arm)
{
    colb__users *b = p->impl;
    *arm = colb__policy_ts(p) ? colb__ts_choose(&b->r, u, NULL, p->X, p->K, &p->ts_rng, b->s.scores,
                                                b->s.work)
                              : colb__users_choose(b, u, p->X, p->K);
    return COLB_OK;
}

static colb_status ind_choose_all(colb_policy *p, size_t *arms)
{
    colb__users *b = p->impl;
    if (colb__policy_ts(p))
        colb__ts_choose_all(&b->r, p->X, p->K, &p->ts_rng, arms, b->s.scores, b->s.work);
    else
        colb__users_choose_all(b, p->X, p->K, arms);
    return COLB_OK;
}

/* Users are independent, so updating at once equals updating at round end. */
static colb_status ind_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    colb__users *b = p->impl;
    colb__ridge_update(&b->r, u, p->X + arm * p->d, y, 1.0);
    return COLB_OK;
}

static colb_status ind_theta(const colb_policy *p, size_t u, double *theta)
{
    const colb__users *b = p->impl;
    memcpy(theta, b->r.theta + u * p->d, p->d * sizeof(double));
    return COLB_OK;
}

const colb__policy_vt colb__policy_linucb_ind = {
    .name = "linucb-ind",
    .create = ind_create,
    .destroy = ind_destroy,
    .begin_round = ind_begin,
    .choose = ind_choose,
    .choose_all = ind_choose_all,
    .observe = ind_observe,
    .user_theta = ind_theta,
};
