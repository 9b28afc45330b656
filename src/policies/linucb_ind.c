/* linucb_ind.c - LinUCB-Ind: one independent OFUL/LinUCB learner per user,
 * the paper's no-collaboration baseline (Section 6.1); with
 * colb_policy_params.sampling = COLB_SAMPLING_TS every user's learner is a
 * linear Thompson sampler instead (learn/thompson.h, through the bank's
 * colb__users_choose_ts). */
#include "colb/limits.h"
#include "learn/user_bank.h"
#include "policies/bank_persist.h"
#include "policies/policy_impl.h"

static colb_status ind_create(colb_policy *p)
{
    colb__users *b = calloc(1, sizeof *b);
    if (!b)
        return COLB_ENOMEM;
    p->impl = b;
    colb_status st = colb__policy_kernel_check(p);
    if (st != COLB_OK)
        return st;
    st = colb__users_init(b, p->N, p->d, &p->pp.learner);
    if (st == COLB_OK && p->pp.threads > 1)
        st = colb__users_set_threads(b, p->pp.threads);
    return st;
}

static colb_status ind_set_threads(colb_policy *p, size_t threads)
{
    return colb__users_set_threads(p->impl, threads);
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
    if (st == COLB_OK && colb__policy_ts(p))
        st = colb__users_reserve_ts(p->impl, p->K);
    return st == COLB_OK ? st : colb__err(p->err, st, "begin_round: out of memory");
}

static colb_status ind_choose(colb_policy *p, size_t u, size_t *arm)
{
    *arm = colb__policy_ts(p) ? colb__users_choose_ts(p->impl, u, p->X, p->K, &p->ts_rng)
                              : colb__users_choose(p->impl, u, p->X, p->K);
    return COLB_OK;
}

static colb_status ind_choose_all(colb_policy *p, size_t *arms)
{
    if (colb__policy_ts(p))
        colb__users_choose_all_ts(p->impl, p->X, p->K, &p->ts_rng, arms);
    else
        colb__users_choose_all(p->impl, p->X, p->K, arms, p->side);
    return COLB_OK;
}

/* Users are independent, so updating at once equals updating at round end:
 * the bank batches the updates by blocks of 8 users and applies what is left
 * at the end of the round (while p->X still holds the round's contexts). */
static colb_status ind_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    colb__users_update(p->impl, u, p->X + arm * p->d, y);
    return COLB_OK;
}

/* Every user's update at once: recorded and applied by blocks, on the
 * bank's team if it has one (the same arithmetic as ind_observe). */
static colb_status ind_observe_all(colb_policy *p, const size_t *arms, const double *rewards)
{
    colb__users_update_all(p->impl, p->X, arms, rewards);
    return COLB_OK;
}

static colb_status ind_end(colb_policy *p)
{
    colb__users_flush(p->impl);
    return COLB_OK;
}

static colb_status ind_theta(const colb_policy *p, size_t u, double *theta)
{
    colb__users_theta(p->impl, u, theta);
    return COLB_OK;
}

static int ind_all_sane(const colb_policy *p)
{
    return colb__users_all_sane(p->impl);
}

/* Memory budget: one compact model per user. */
static double ind_memory(const colb_policy_params *pp)
{
    return colb__users_bytes(pp->users, pp->dim);
}

static colb_status ind_save(const colb_policy *p, colb__snap_out *w)
{
    colb__users_save(w, "users", p->impl);
    return colb__snap_status(w);
}

static colb_status ind_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g)
{
    colb__users *b = calloc(1, sizeof *b);
    if (!b)
        return COLB_ENOMEM;
    p->impl = b;
    return colb__users_load(in, g, "users", b, p->N, p->d, &p->pp.learner);
}

/* A newcomer gets a fresh learner of its own. */
static colb_status ind_add_users(colb_policy *p, size_t n, const size_t *labels)
{
    (void)labels;
    colb__users *b = p->impl;
    return colb__users_grow(b, p->N + n);
}

const colb__policy_vt colb__policy_linucb_ind = {
    .name = "linucb-ind",
    .create = ind_create,
    .destroy = ind_destroy,
    .begin_round = ind_begin,
    .choose = ind_choose,
    .choose_all = ind_choose_all,
    .observe = ind_observe,
    .observe_all = ind_observe_all,
    .end_round = ind_end,
    /* a UCB choice scores the user's model (its pending updates applied:
     * none in a round without observations, the last round's end flushed
     * them) and writes the round's scratch only */
    .quiet_choices = 1,
    .user_theta = ind_theta,
    .memory = ind_memory,
    .save = ind_save,
    .load = ind_load,
    .add_users = ind_add_users,
    .set_threads = ind_set_threads,
    .all_sane = ind_all_sane,
};
