/* cohort.c - "cohort" (alias "recommended"), colb's collaborative policy:
 * anytime adaptive clustering with personalisation (docs/algorithms.md,
 * "cohort"; state and files in cohort.h).
 *
 * All users start in one cluster. A cluster's model pools its members'
 * data; every member plays by its personal estimate, the cluster's model
 * corrected by the member's own data with an empirical-Bayes shrinkage that
 * vanishes for a cluster of identical users and weakens as members spread
 * (cohort_partition.c). Exploration: the cluster's width times
 * sqrt(x^T A~_c x + x^T M_u x), where A~_c is a per-round copy of the
 * cluster's inverse that every member's choice updates with the chosen
 * context (no reward: the members of a cluster served in one round spread
 * over the arms the round has not yet covered) and M_u the uncertainty of
 * the personal part. Observations update the user's and the cluster's
 * models at once (O(d^2)); the partition is maintained once per epoch, an
 * epoch being a round of the simulator or, when rounds serve few users, as
 * many observations as half the users (so that a service pays O(d^2) per
 * decision amortised). No horizon, no phase lengths; users may be added
 * at any time. */
#include "policies/cohort.h"

#include <float.h>
#include <string.h>

#include "core/memory.h"
#include "linalg/dense.h"
#include "policies/bank_persist.h"

#define NONE COLB__COHORT_NONE
#define INITIAL_SLOTS 8
/* An epoch ends once the observations since the last one reach N/2 (every
 * round of the simulator) while the partition is moving (the last epoch
 * split, merged or moved something); once it has settled, when they also
 * reach 1/EPOCH_SHARE of all observations so far - a geometric schedule,
 * about EPOCH_SHARE ln T epochs in T rounds - or as soon as a split step
 * would act (a pending split decided, a proposal due; checked every N/2
 * observations, colb__cohort_splits_due), so that splits are found as
 * early as with an epoch per round. Between epochs the pooled models, the
 * members' personal estimates (about the centres their last epoch gave
 * them) and the choices follow every observation. Measured (docs/cohort.md):
 * 64 keeps regret within 0-5 % of an epoch per round at sigma = 1 and
 * equal at sigma = 0.1; 16 lost up to 8 % at sigma = 1. */
#define EPOCH_SHARE 64
/* Observations of one cluster in a round from which its pooled model is
 * refreshed from V once instead of stepped per observation (a refresh costs
 * a few rank-one steps; nothing reads the model before the round's end). */
#define BATCH_OBS 8

extern const colb__policy_vt colb__policy_cohort;

static colb_status ch_check(const colb_policy_params *pp, char *msg, size_t len)
{
    const char *bad = NULL;
    if (!(pp->cohort_delta > 0.0 && pp->cohort_delta < 1.0))
        bad = "cohort delta must be in (0, 1)";
    else if (pp->cohort_seeds < 1 || pp->cohort_seeds > COLB__COHORT_SEEDS_MAX)
        bad = "cohort seeds must be in [1, 64]";
    if (!bad)
        return COLB_OK;
    if (msg && len)
        snprintf(msg, len, "%s", bad);
    return COLB_ERANGE;
}

/* The bytes of a user's arrays beside its model (grow_users: M_u, th,
 * off, 16 words and a flag; a round's grouped observations, ch_begin's
 * ogrp, oxs, oys; a save's order, side and alt) and of a cluster slot's
 * beside its models (colb__cohort_grow_arrays: A~_c, the side models, the
 * transposed cache, 16 words and 4 flags; ch_begin's cth, mstamp, ostart;
 * a save's pend), in dimension d. */
#define USER_BYTES(d) (8 * ((d) * (d) + 2 * (d) + 22) + 1)
#define SLOT_BYTES(d) (8 * ((d) * (d) + 4 * (d) + 19) + 4)

/* The cluster slots at their worst: INITIAL_SLOTS, which cohort starts
 * with, or a cluster per user and the growth beyond (colb__cohort_new_slot
 * grows the slots by an eighth, at least 8, when all are taken: up to N - 1
 * + max((N - 1) / 8, 8) slots for N clusters). */
static double ch_slots(const colb_policy_params *pp)
{
    double N = (double)pp->users;
    return pp->users <= INITIAL_SLOTS ? (double)INITIAL_SLOTS : N + (N / 8 > 8 ? N / 8 : 8);
}

/* The cluster slots beyond one a user (ch_slots), each with a model (V, A),
 * two fresh models and its arrays (SLOT_BYTES). *banks: their models'
 * bytes (a load reserves those per bank). */
static double ch_extra_slots(const colb_policy_params *pp, double *banks)
{
    double d = (double)pp->dim, n = ch_slots(pp) - (double)pp->users;
    *banks = n * 3 * (2 * d * d + 3 * d + 5) * 8;
    return *banks + n * SLOT_BYTES(d);
}

/* Users' models and arrays (USER_BYTES), the cluster banks at their worst
 * (a cluster per user, and the slots beyond: ch_extra_slots) with
 * their fresh models and arrays (SLOT_BYTES), an epoch's kept predictive
 * scores (COLB__COHORT_PK_SLOTS entries of 25 bytes, for at most
 * COLB__COHORT_PK_MAX_USERS users), and what every policy holds whatever
 * N: the split sides' bank (2 models), the scratch `work`, the batched
 * Cholesky factors `pbuf` (COLB__CHOL_BATCH of 2 d^2), the packed `Ap`,
 * the proposal's `pold`, `pwin`, seeds and sample (at N = 2 these and the
 * slots beyond N are 67 of the 91 d x d matrices: at d = 4096, 9 of 12
 * GB). A round's scratch, which scales with K: ch_round_memory. */
static double ch_memory(const colb_policy_params *pp)
{
    double N = (double)pp->users, d = (double)pp->dim, banks;
    double kept = pp->users < COLB__COHORT_PK_MAX_USERS ? N : (double)COLB__COHORT_PK_MAX_USERS;
    return 4 * colb__ridge_bytes(pp->users, pp->dim) + N * (USER_BYTES(d) + SLOT_BYTES(d)) +
           kept * (25 * COLB__COHORT_PK_SLOTS) + ch_extra_slots(pp, &banks) + colb__ridge_bytes(2, pp->dim) +
           8 * (COLB__COHORT_WORK(d) + COLB__CHOL_BATCH * (2 * d * d + 3 * d) + d * (d + 1) / 2 + 4 * d +
                COLB__COHORT_SEEDS_MAX + COLB__COHORT_SAMPLE_MAX);
}

/* What ch_begin allocates for rounds of K arms (kept for later rounds)
 * beyond colb__policy_round_bytes, which counts the packed outer products
 * (d (d + 1) / 2 per arm): the scores, means and steps (3 Kp doubles, Kp =
 * K rounded up to 8), the outer products' padding to Kp, the contexts
 * transposed (Kp d), and each cluster slot's quadratic forms qc and means
 * cmean (2 Kp), the slots at their worst, as in ch_memory. */
static double ch_round_memory(const colb_policy_params *pp, size_t K)
{
    double d = (double)pp->dim, Kp = (double)colb__soa_padded(K);
    return 8 * (Kp * (3 + d + 2 * ch_slots(pp)) + (Kp - (double)K) * d * (d + 1) / 2);
}

/* Per-user arrays, grown to n users (the new entries are set by the
 * caller); 0 or -1, the arrays grown so far only larger than used. A
 * growth of the N users' (add_users) keeps the personal matrices and
 * vectors in place (colb__grow_bytes, as the ridge banks'). */
static int grow_users(colb__cohort *h, size_t n)
{
    size_t d = h->d;
    double **grown[3] = { &h->M, &h->th, &h->off };
    for (size_t k = 0; k < 3; k++) {
        size_t per = (k ? d : d * d) * sizeof(double);
        if (*grown[k] ? colb__grow_n(grown[k], &h->reserved[k], h->N, n, per)
                      : colb__realloc_n(grown[k], n, per)) /* created or loaded: malloc's */
            return -1;
    }
    return colb__realloc_n(&h->yy, n, sizeof(double)) ||
           colb__realloc_n(&h->lamu, n, sizeof(double)) ||
           colb__realloc_n(&h->gap, n, sizeof(double)) ||
           colb__realloc_n(&h->label, n, sizeof(size_t)) ||
           colb__realloc_n(&h->alt, n, sizeof(size_t)) ||
           colb__realloc_n(&h->next, n, sizeof(size_t)) ||
           colb__realloc_n(&h->prev, n, sizeof(size_t)) || colb__realloc_n(&h->side, n, 1) ||
           colb__realloc_n(&h->oarm, n, sizeof(size_t)) ||
           colb__realloc_n(&h->oy, n, sizeof(double)) ||
           colb__realloc_n(&h->obs, n, sizeof(size_t)) ||
           colb__realloc_n(&h->pieces, n, 5 * sizeof(double)) ||
           colb__realloc_n(&h->ns, n, sizeof(double))
               ? -1
               : 0;
}

/* New users [from, to): no data, in cluster c. */
static void init_users(colb__cohort *h, size_t from, size_t to, size_t c)
{
    size_t d = h->d;
    for (size_t u = from; u < to; u++) {
        h->yy[u] = 0.0;
        h->lamu[u] = INFINITY;
        h->gap[u] = INFINITY;
        h->alt[u] = NONE;
        h->side[u] = 0;
        h->ns[u] = 0.0;
        memset(h->M + u * d * d, 0, d * d * sizeof(double)); /* saved even when unused */
        memset(h->off + u * d, 0, d * sizeof(double));
        memcpy(h->th + u * d, h->c.theta + c * d, d * sizeof(double));
        colb__cohort_link(h, u, c);
    }
}

/* What create and load share: the parameters and the scoring kernel.
 * COLB_EINVAL / COLB_EUNSUP (COLB_KERNEL), COLB_ENOMEM. */
static colb_status setup(colb__cohort *h, const colb_policy_params *pp)
{
    h->delta = pp->cohort_delta;
    h->R = h->R0 = pp->learner.noise;
    h->estimate = pp->cohort_estimate_noise;
    h->personal = pp->cohort_personal;
    h->soft = pp->cohort_soft;
    h->seeds = pp->cohort_seeds;
    h->diversify = 1;
    h->info_key[0] = UINT64_MAX; /* p->info not written yet */
    h->d_log_lambda = (double)h->d * log(pp->learner.lambda);
    h->two_log_delta = 2.0 * log(1.0 / h->delta);
    colb_status st = colb__soa_pick_kernel(getenv("COLB_KERNEL"), &h->kern);
    if (st != COLB_OK)
        return st;
    h->Ap = colb__malloc(h->d * (h->d + 1) / 2, sizeof(double));
    h->pseed = colb__malloc(COLB__COHORT_SEEDS_MAX, sizeof(size_t));
    h->psample = colb__malloc(COLB__COHORT_SAMPLE_MAX, sizeof(size_t));
    h->pold = colb__calloc(4 * h->d, sizeof(double)); /* saved even when idle */
    h->pwin = h->pold ? h->pold + 2 * h->d : NULL;
    return h->Ap && h->pseed && h->psample && h->pold ? COLB_OK : COLB_ENOMEM;
}

/* The error of a failed setup or allocation at create or load. */
static colb_status setup_error(colb_policy *p, colb_status st)
{
    if (st == COLB_EINVAL || st == COLB_EUNSUP)
        return colb__err(p->err, st, "COLB_KERNEL = %s is not a kernel this CPU runs",
                         getenv("COLB_KERNEL"));
    return colb__err(p->err, st, "out of memory for cohort's %zu users", p->N);
}

/* The banks and arrays of h for N users and `slots` cluster slots. */
static colb_status alloc_state(colb__cohort *h, const colb_policy_params *pp, size_t N, size_t slots)
{
    size_t d = h->d;
    h->N = N;
    h->cap = 0;
    colb_status st = setup(h, pp);
    if (st != COLB_OK)
        return st;
    if (colb__ridge_init(&h->u, N, d, &pp->learner) != COLB_OK ||
        colb__ridge_init(&h->c, 0, d, &pp->learner) != COLB_OK ||
        colb__ridge_init(&h->f, 0, d, &pp->learner) != COLB_OK ||
        colb__ridge_init(&h->s, 2, d, &pp->learner) != COLB_OK || grow_users(h, N) ||
        !(h->work = colb__malloc(COLB__COHORT_WORK(d), sizeof(double))) ||
        !(h->pbuf = colb__malloc(COLB__CHOL_BATCH * (2 * d * d + 3 * d), sizeof(double))))
        return COLB_ENOMEM;
    return colb__cohort_grow_slots(h, slots) ? COLB_ENOMEM : COLB_OK;
}

static colb_status ch_create(colb_policy *p)
{
    colb__cohort *h = calloc(1, sizeof *h);
    if (!h)
        return COLB_ENOMEM;
    p->impl = h;
    h->d = p->d;
    colb_status st = alloc_state(h, &p->pp, p->N, INITIAL_SLOTS);
    if (st != COLB_OK)
        return setup_error(p, st);
    init_users(h, 0, p->N, 0); /* everyone starts in one cluster */
    h->nc = 1;
    return COLB_OK;
}

static void ch_destroy(colb_policy *p)
{
    colb__cohort *h = p->impl;
    colb__ridge_free(&h->u);
    colb__ridge_free(&h->c);
    colb__ridge_free(&h->f);
    colb__ridge_free(&h->s);
    double *grown[3] = { h->M, h->th, h->off };
    for (size_t k = 0; k < 3; k++)
        colb__grow_free(grown[k], h->reserved[k]);
    void *arr[] = { h->yy, h->lamu, h->gap, h->label, h->alt, h->next, h->prev,
                    h->side, h->oarm, h->oy, h->obs, h->pieces, h->ns, h->size, h->head, h->tau2,
                    h->shrink, h->pending, h->dirty, h->changed, h->stamp, h->sideth,
                    h->prop_count, h->next_try, h->At, h->cand, h->cdist, h->scores, h->work,
                    h->Q, h->Xt, h->Ap, h->acc, h->pbuf, h->qc, h->mean, h->tk, h->round_obs, h->qstamp,
                    h->pseed, h->psample, h->pold, h->ogrp, h->ostart, h->oxs, h->oys, h->cmean,
                    h->cth, h->mstamp, h->tcache, h->tdist, h->tstale, h->tflag, h->ver,
                    h->pkc, h->pkv, h->pks, h->pkn };
    for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
        free(arr[i]);
    free(h);
    p->impl = NULL;
}

static colb_status ch_begin(colb_policy *p)
{
    colb__cohort *h = p->impl;
    size_t K = p->K, d = p->d, Kp = colb__soa_padded(K);
    if (K > h->K_cap) { /* scratch: on failure the arrays grown so far are only larger */
        if (colb__realloc_n(&h->scores, Kp, sizeof(double)) ||
            colb__realloc_n(&h->mean, Kp, sizeof(double)) ||
            colb__realloc_n(&h->tk, Kp, sizeof(double)) ||
            colb__realloc_n(&h->Q, Kp, d * (d + 1) / 2 * sizeof(double)) ||
            colb__realloc_n(&h->Xt, Kp, d * sizeof(double)))
            return colb__err(p->err, COLB_ENOMEM, "begin_round: out of memory for K = %zu", K);
        h->K_cap = K;
    }
    if (h->cap * Kp > h->qc_cap) { /* slots are added at the end of rounds only */
        if (colb__realloc_n(&h->qc, h->cap, Kp * sizeof(double)))
            return colb__err(p->err, COLB_ENOMEM, "begin_round: out of memory for K = %zu", K);
        h->qc_cap = h->cap * Kp;
    }
    if (h->cap * Kp > h->cm_cap) {
        if (colb__realloc_n(&h->cmean, h->cap, Kp * sizeof(double)))
            return colb__err(p->err, COLB_ENOMEM, "begin_round: out of memory for K = %zu", K);
        h->cm_cap = h->cap * Kp;
    }
    if (h->cap > h->cm_slots) {
        if (colb__realloc_n(&h->cth, h->cap, d * sizeof(double)) ||
            colb__realloc_n(&h->mstamp, h->cap, sizeof(uint64_t)))
            return colb__err(p->err, COLB_ENOMEM, "begin_round: out of memory for %zu clusters", h->cap);
        for (size_t c = h->cm_slots; c < h->cap; c++)
            h->mstamp[c] = 0;
        h->cm_slots = h->cap;
    }
    if (h->N > h->og_cap) { /* users are added between rounds only */
        if (colb__realloc_n(&h->ogrp, h->N, sizeof(size_t)) ||
            colb__realloc_n(&h->oxs, h->N, sizeof(double *)) ||
            colb__realloc_n(&h->oys, h->N, sizeof(double)))
            return colb__err(p->err, COLB_ENOMEM, "begin_round: out of memory for %zu users", h->N);
        h->og_cap = h->N;
    }
    if (h->cap > h->os_cap) {
        if (colb__realloc_n(&h->ostart, h->cap, sizeof(size_t)))
            return colb__err(p->err, COLB_ENOMEM, "begin_round: out of memory for %zu clusters", h->cap);
        h->os_cap = h->cap;
    }
    h->Kp = Kp;
    if (K > 1) /* one arm (colb_policy_update's round): nothing to score */
        h->kern->outer(p->X, K, d, Kp, h->Q, h->Xt);
    h->round++; /* invalidates every diversified copy (stamp) */
    h->n_obs = 0;
    return COLB_OK;
}

static colb_status ch_choose(colb_policy *p, size_t u, size_t *arm)
{
    colb__cohort *h = p->impl;
    const colb__soa_kernel *kn = h->kern;
    size_t d = p->d, K = p->K, Kp = h->Kp, c = h->label[u];
    if (K == 1) { /* the only arm; the round's diversified copy is read by
                   * this round's choices alone, which have no other arm */
        *arm = 0;
        return COLB_OK;
    }
    double *At = h->At + c * d * d, *qc = h->qc + c * Kp; /* At full: the vectorised step */
    double width = h->estimate && h->c.p.width != COLB_WIDTH_FIXED /* the OFUL radius (learner.delta), estimated R */
                       ? colb__ridge_oful_radius_with(&h->c, c, h->R)
                       : colb__ridge_width(&h->c, c);
    int first = h->stamp[c] != h->round;
    if (first) {
        memcpy(At, h->c.A + c * d * d, d * d * sizeof(double));
        h->stamp[c] = h->round;
    }
    /* scores[k] = <th_u, x_k> + width_c sqrt(x_k^T (A_c + M_u) x_k) by the
     * hand-written kernels (soa_kernel.h): with a personal part, or for the
     * cluster's first member of the round (a service's rounds have one), the
     * packed upper triangle of A~_c (+ M_u) on the round's outer products;
     * else from the carried forms of A~_c, computed at the cluster's second
     * member */
    int direct = first || isfinite(h->lamu[u]);
    if (!direct && h->qstamp[c] != h->round) {
        kn->score_x(At, d, h->c.theta + c * d, 0.0, 1.0, h->Xt, d, K, Kp, NULL, h->mean, qc);
        h->qstamp[c] = h->round;
    }
    if (direct) {
        kn->pack_add(At, isfinite(h->lamu[u]) ? h->M + u * d * d : NULL, d, h->Ap);
        *arm = kn->score1(h->Ap, h->th + u * d, width, 1.0, h->Q, h->Xt, d, K, Kp, h->scores);
    } else {
        /* <th_u, x_k>: the last member's when th_u is the same (the
         * cluster's model, for most members) */
        const double *th = h->th + u * d;
        double *mean = h->cmean + c * Kp;
        if (h->mstamp[c] != h->round || memcmp(h->cth + c * d, th, d * sizeof(double))) {
            kn->colsum(h->Xt, Kp, th, d, K, mean);
            for (size_t k = K; k < Kp; k++) /* the padding score_mq reads */
                mean[k] = 0.0;
            memcpy(h->cth + c * d, th, d * sizeof(double));
            h->mstamp[c] = h->round;
        }
        *arm = kn->score_mq(mean, qc, width, 1.0, K, Kp, h->scores);
    }
    if (h->diversify) {
        /* the full-matrix step (the packed one's bits on the upper
         * triangle); work = A~_c x before it and s = x^T work: the
         * forms follow as q_k -= (x_k^T work)^2 / (1 + s) */
        double s = kn->sm_step(At, p->X + *arm * d, d, h->work);
        if (h->qstamp[c] != h->round)
            return COLB_OK;
        double cs = 1.0 / (1.0 + s);
        kn->colsum(h->Xt, Kp, h->work, d, K, h->tk);
        for (size_t k = 0; k < K; k++)
            qc[k] -= cs * h->tk[k] * h->tk[k];
    }
    return COLB_OK;
}

static colb_status ch_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    colb__cohort *h = p->impl;
    h->oarm[u] = arm;
    h->oy[u] = y;
    h->obs[h->n_obs++] = u;
    return COLB_OK;
}

/* A service's next epoch, while the partition moves, is due for certain
 * once N/2 observations have come since the last (ch_end's window). Its
 * sweep then starts at the last epoch's end and visits PACE_USERS users
 * every PACE_OBS observations, reaching the last user after 2N/3 of them,
 * and the clusters' steps that follow run on PACED_UNITS units a user of a
 * round's slice (2 n + 1) where a burst's have SLICE_UNITS. The two paces
 * make the epoch's CPU per observation about even: the sweep's users (16
 * candidate clusters' predictive scores each) at 3/2 a reward, and the
 * clusters' steps at 3/4 of a burst's budget, which had cost twice the
 * sweep's per observation, so that a service's applier fell behind its
 * rewards there (docs/cohort.md §3, "in slices").
 * The epoch is as long as with a sweep of 2 n + 1 users a round begun at
 * the window (4 users a reward when rewards and choose rounds alternate),
 * so each user's step comes as often: a service simulated through the
 * library, the same regret. The first epoch (users without data before
 * it) and those of a settled partition (known to be due only at the
 * window) keep the burst. */
#define PACE_USERS 3
#define PACE_OBS 2
#define SLICE_UNITS 32
#define PACED_UNITS 24

static int paced_sweep(const colb__cohort *h)
{
    return !h->settled && h->epoch > 0;
}

/* The bookkeeping of an ended epoch: settled when it split, merged and
 * moved nothing (counters at its start: before). */
static void end_epoch(colb__cohort *h, uint64_t before)
{
    h->settled = h->splits + h->merges + h->moves == before;
    h->epoch++;
    h->obs_since = 0;
}

/* What an observation of user u changes besides its model (its last one:
 * oarm, oy): the sum of squared rewards and M_u. */
static void user_steps(colb__cohort *h, const colb_policy *p, size_t u)
{
    size_t d = h->d;
    double y = h->oy[u];
    h->yy[u] += y * y;
    if (isfinite(h->lamu[u])) /* M_u full: the vectorised step (the packed
                               * scalar step's bits on the upper triangle) */
        h->kern->sm_step(h->M + u * d * d, p->X + h->oarm[u] * d, d, h->work);
}

static colb_status ch_end(colb_policy *p)
{
    colb__cohort *h = p->impl;
    size_t d = p->d;
    /* a cluster observed BATCH_OBS times or more in the round takes the
     * data alone and one refresh from V at the end (O(d^3) once instead of
     * a rank-one step of A per observation); nothing reads its A or theta
     * before */
    size_t *nr = h->round_obs, *seen = h->cand, ns = 0; /* cand: cap scratch, free until the maintenance */
    for (size_t i = 0; i < h->n_obs; i++) { /* the observed clusters, in order of first observation */
        size_t c = h->label[h->obs[i]];
        if (!nr[c]++)
            seen[ns++] = c;
    }
    for (size_t j = 0, at = 0; j < ns; j++) { /* the observations grouped by cluster */
        h->ostart[seen[j]] = at;
        at += nr[seen[j]];
    }
    /* each observation's user steps (and its cluster's, unbatched); the
     * batched clusters' users two at a time (their steps' dependency chains
     * interleaved: the same bits), so one user's steps may follow a later
     * user's - each user's own steps stay in order */
    size_t held = NONE; /* a batched user whose step waits for a partner */
    for (size_t i = 0; i < h->n_obs; i++) {
        size_t u = h->obs[i], c = h->label[u];
        const double *x = p->X + h->oarm[u] * d;
        double y = h->oy[u];
        h->ogrp[h->ostart[c]++] = u; /* ostart[c] ends at the group's end */
        colb__cohort_touch(h, c); /* its model changes (below when batched) */
        if (nr[c] < BATCH_OBS) {
            colb__ridge_update2(&h->u, u, &h->c, c, x, y, 1.0); /* both at once, same bits */
            user_steps(h, p, u);
        } else if (held == NONE) {
            held = u;
        } else if (held == u) { /* the same user again: in order */
            colb__ridge_update(&h->u, u, x, y, 1.0);
            user_steps(h, p, u);
        } else {
            colb__ridge_update_pair(&h->u, held, p->X + h->oarm[held] * d, h->oy[held], u, x, y, 1.0);
            user_steps(h, p, held);
            user_steps(h, p, u);
            held = NONE;
        }
    }
    if (held != NONE) {
        colb__ridge_update(&h->u, held, p->X + h->oarm[held] * d, h->oy[held], 1.0);
        user_steps(h, p, held);
    }
    /* the data that only V and b take: a batched cluster's pooled model and
     * the fresh models of a pending split's sides (factored when the split
     * is tested), each the group's contexts in observation order (the bits
     * of one colb__ridge_add per observation) */
    size_t nb = 0, *batch = seen; /* overwrites seen behind j */
    for (size_t j = 0; j < ns; j++) {
        size_t c = seen[j], n = nr[c], *g = h->ogrp + h->ostart[c] - n;
        nr[c] = 0;
        if (n < BATCH_OBS && !h->pending[c])
            continue;
        for (int side = n >= BATCH_OBS ? -1 : 0; side < 2 && (side < 0 || h->pending[c]); side++) {
            size_t m = 0; /* side -1: every member's observation, for the cluster */
            for (size_t k = 0; k < n; k++)
                if (side < 0 || h->side[g[k]] == side) {
                    h->oxs[m] = p->X + h->oarm[g[k]] * d;
                    h->oys[m++] = h->oy[g[k]];
                }
            if (side < 0)
                colb__ridge_add_n(&h->c, c, h->oxs, h->oys, m);
            else if (m)
                colb__ridge_add_n(&h->f, 2 * c + (size_t)side, h->oxs, h->oys, m);
        }
        if (n >= BATCH_OBS)
            batch[nb++] = c;
    }
    colb__cohort_refresh(h, &h->c, batch, nb);
    h->obs_since += h->n_obs;
    h->obs_total += h->n_obs;
    int window = 2 * h->obs_since >= h->N;
    int due = window && (!h->settled || EPOCH_SHARE * h->obs_since >= h->obs_total);
    /* a settled partition between its scheduled epochs: an epoch as soon as
     * a pending split would be decided or a proposal is due, checked once
     * per N/2 observations (every round of the simulator) */
    if (window && !due && !h->sweep &&
        2 * h->obs_since / h->N != 2 * (h->obs_since - h->n_obs) / h->N)
        due = colb__cohort_splits_due(h);
    if (!h->sweep && due && 2 * h->n_obs >= h->N) { /* a round of many users: the epoch at once */
        uint64_t before = h->splits + h->merges + h->moves;
        colb__cohort_maintain(h);
        end_epoch(h, before);
    } else {
        /* between epochs only the observed users' estimates move; a round
         * of few users (a service) runs a due epoch in slices of 2 n + 1
         * users, so that no call pays for all N users at once and the
         * sweep ends within N/2 observations, then the clusters' steps in
         * slices of SLICE_UNITS (2 n + 1) units - or, paced (paced_sweep),
         * 3/2 of a user an observation from the last epoch's end, then
         * PACED_UNITS (2 n + 1) units a round */
        double *centre = h->work + 8 * d + 2 * d * d; /* clear of personal's */
        colb__cohort_personal_rebuilds(h, h->obs, h->n_obs);
        for (size_t i = 0; i < h->n_obs; i++) {
            size_t u = h->obs[i];
            colb__cohort_personal_from(h, u, colb__cohort_centre(h, u, centre));
        }
        size_t slice = 2 * h->n_obs + 1, users = slice;
        int paced = paced_sweep(h);
        size_t units = slice * (paced ? PACED_UNITS : SLICE_UNITS);
        if (paced) {
            uint64_t goal = (PACE_USERS * h->obs_since + PACE_OBS - 1) / PACE_OBS,
                     done = h->sweep ? h->sweep - 1 : 0;
            users = goal > done ? (size_t)(goal - done) : 0;
        }
        if ((h->sweep || due || (paced && users)) && colb__cohort_sweep(h, users, units))
            end_epoch(h, h->sweep_base);
    }
    h->n_obs = 0;
    /* the info line, formatted again only when a count changed (a service's
     * rounds mostly change none; formatting was a microsecond a call) */
    uint64_t key[6] = { h->nc, h->splits, h->merges, h->moves, h->epoch, 0 };
    memcpy(&key[5], &h->R, sizeof h->R);
    if (memcmp(key, h->info_key, sizeof key)) {
        int n = snprintf(p->info, sizeof p->info,
                         "clusters=%zu splits=%llu merges=%llu moves=%llu epochs=%llu", h->nc,
                         (unsigned long long)h->splits, (unsigned long long)h->merges,
                         (unsigned long long)h->moves, (unsigned long long)h->epoch);
        if (h->estimate && n > 0 && (size_t)n < sizeof p->info) /* the estimated noise scale in force */
            snprintf(p->info + n, sizeof p->info - (size_t)n, " noise=%.4g", h->R);
        memcpy(h->info_key, key, sizeof key);
    }
    if (h->numeric_failed)
        return colb__err(p->err, COLB_ENUMERIC, "end_round: a cluster model's V is no longer positive definite "
                         "(numerical failure); the policy can no longer be used");
    return COLB_OK;
}

static colb_status ch_theta(const colb_policy *p, size_t u, double *theta)
{
    const colb__cohort *h = p->impl;
    memcpy(theta, h->th + u * p->d, p->d * sizeof(double));
    return COLB_OK;
}

/* Every user's estimate finite and within COLB__THETA_MAX (the end-of-round guard's whole-bank check,
 * policy.c): the N x d estimates at once. */
static int ch_all_sane(const colb_policy *p)
{
    const colb__cohort *h = p->impl;
    return h->kern->bounded(h->th, h->N * h->d, COLB__THETA_MAX);
}

static colb_status ch_clusters(const colb_policy *p, size_t *labels, size_t *n)
{
    const colb__cohort *h = p->impl;
    size_t *map = colb__malloc(h->cap, sizeof(size_t));
    if (!map)
        return COLB_ENOMEM;
    size_t k = 0;
    for (size_t c = 0; c < h->cap; c++)
        map[c] = h->size[c] ? k++ : NONE;
    for (size_t u = 0; u < p->N; u++)
        labels[u] = map[h->label[u]];
    *n = k;
    free(map);
    return COLB_OK;
}

/* ---- snapshots ------------------------------------------------------------ */

/* The members of every cluster in list order (list order decides the
 * order of sums: it is state), clusters one after another. */
static void member_order(const colb__cohort *h, size_t *order)
{
    size_t k = 0;
    for (size_t c = 0; c < h->cap; c++)
        for (size_t u = h->head[c]; u != NONE; u = h->next[u])
            order[k++] = u;
}

/* The users' M_u from the file's full matrices (their upper triangles,
 * mirrored: symmetric bit for bit), within COLB__SNAP_MODEL_MAX (M_u =
 * (G_u + lambda_c I)^-1, lambda_c floored: colb makes none beyond 1e30). */
static colb_status load_personal_inverse(colb__snap_in *in, const colb__snap_group *g,
                                         colb__cohort *h)
{
    size_t N = h->N, d = h->d;
    colb__snap_field f;
    colb_status st = colb__snap_field_of(in, g, "personal_inverse", COLB__SNAP_F64,
                                         (uint64_t)N * d * d, &f);
    for (size_t u = 0; u < N && st == COLB_OK; u++) {
        colb__snap_f64_copy(&f, (uint64_t)u * d * d, d * d, h->work);
        for (size_t k = 0; k < d * d; k++)
            if (!(fabs(h->work[k]) <= COLB__SNAP_MODEL_MAX)) /* NaN too */
                return colb__snap_error(in, COLB_EPARSE, "snapshot: %s.personal_inverse[%zu] = %s is "
                                        "beyond +-%g", g->path, u * d * d + k,
                                        colb__num((char[32]){ 0 }, h->work[k]), COLB__SNAP_MODEL_MAX);
        colb__pack_upper(h->work, d, h->work + d * d);
        colb__unpack_upper(h->work + d * d, d, h->M + u * d * d);
    }
    return st;
}

static colb_status ch_save(const colb_policy *p, colb__snap_out *w)
{
    const colb__cohort *h = p->impl;
    size_t N = h->N, d = h->d, cap = h->cap;
    size_t *order = colb__malloc(N, sizeof(size_t)), *side = colb__malloc(N, sizeof(size_t)),
           *pend = colb__malloc(cap, sizeof(size_t));
    if (!order || !side || !pend) {
        free(order);
        free(side);
        free(pend);
        return colb__snap_fail(w, COLB_ENOMEM, "out of memory saving cohort");
    }
    member_order(h, order);
    for (size_t u = 0; u < N; u++)
        side[u] = h->side[u];
    size_t *alt = colb__malloc(N, sizeof(size_t)); /* runner-up + 1, 0 for none */
    if (!alt) {
        free(order);
        free(side);
        free(pend);
        return colb__snap_fail(w, COLB_ENOMEM, "out of memory saving cohort");
    }
    for (size_t u = 0; u < N; u++)
        alt[u] = h->alt[u] == NONE ? 0 : h->alt[u] + 1;
    for (size_t c = 0; c < cap; c++)
        pend[c] = h->pending[c];
    colb__snap_u64(w, "slots", cap);
    colb__snap_u64(w, "round", h->round);
    colb__snap_u64(w, "epoch", h->epoch);
    colb__snap_u64(w, "obs_since", h->obs_since);
    colb__snap_u64(w, "obs_total", h->obs_total);
    colb__snap_u64(w, "settled", h->settled);
    colb__snap_u64(w, "sweep", h->sweep);
    colb__snap_u64(w, "sweep_base", h->sweep_base);
    colb__snap_u64s(w, "counters", (const uint64_t[]){ h->splits, h->merges, h->moves, h->props }, 4);
    if (h->estimate) {
        colb__snap_f64s(w, "noise_scale", &h->R, 1);
        colb__snap_f64s(w, "noise_sums", h->nsum, 2); /* a sweep's so far */
    }
    colb__ridge_save(w, "users", &h->u, N);
    colb__ridge_save(w, "clusters", &h->c, cap);
    colb__ridge_save(w, "fresh", &h->f, 2 * cap);
    /* M_u full and symmetric bit for bit, as the file holds it (d x d per user) */
    colb__snap_f64s(w, "personal_inverse", h->M, N * d * d);
    colb__snap_f64s(w, "personal", h->th, N * d);
    colb__snap_f64s(w, "yy", h->yy, N);
    colb__snap_f64s(w, "shrink_of_user", h->lamu, N);
    colb__snap_f64s(w, "gap", h->gap, N);
    colb__snap_sizes(w, "label", h->label, N);
    colb__snap_sizes(w, "alt", alt, N);
    colb__snap_sizes(w, "side", side, N);
    colb__snap_sizes(w, "order", order, N);
    colb__snap_sizes(w, "size", h->size, cap);
    colb__snap_f64s(w, "spread", h->tau2, cap);
    colb__snap_f64s(w, "shrink", h->shrink, cap);
    colb__snap_f64s(w, "sweep_sums", h->acc, 2 * cap);
    colb__snap_sizes(w, "pending", pend, cap);
    colb__snap_f64s(w, "side_models", h->sideth, 2 * cap * d);
    colb__snap_u64s(w, "proposal_count", h->prop_count, cap);
    colb__snap_u64s(w, "next_try", h->next_try, cap);
    /* what an epoch in slices carries from one round to the next: the
     * members' normalised statistics (the seeds of split proposals, the
     * filter of reassignment) and the clusters changed so far */
    colb__snap_f64s(w, "normalised_stat", h->ns, N);
    colb__snap_f64s(w, "centre_offset", h->off, N * d);
    for (size_t c = 0; c < cap; c++)
        pend[c] = h->changed[c];
    colb__snap_sizes(w, "changed", pend, cap);
    colb__cohort_save_steps(h, w);
    free(order);
    free(side);
    free(pend);
    free(alt);
    return colb__snap_status(w);
}

/* Everything that later code trusts: labels and alternates below the slot
 * count, members listed once each in their own cluster, sizes matching,
 * pending and side flags 0 or 1. */
static colb_status ch_load(colb_policy *p, colb__snap_in *in, const colb__snap_group *g)
{
    colb__cohort *h = calloc(1, sizeof *h);
    if (!h)
        return COLB_ENOMEM;
    p->impl = h;
    size_t N = p->N, d = p->d, cap = 0;
    h->d = d;
    h->N = N;
    uint64_t cnt[4];
    colb_status st = colb__snap_get_size(in, g, "slots", 1, 2 * N + INITIAL_SLOTS, &cap);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "round", &h->round);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "epoch", &h->epoch);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "obs_since", &h->obs_since);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "obs_total", &h->obs_total);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "settled", &h->settled);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "sweep", &h->sweep);
    if (st == COLB_OK)
        st = colb__snap_get_u64(in, g, "sweep_base", &h->sweep_base);
    if (st == COLB_OK && h->sweep > (uint64_t)N + 1)
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: cohort's sweep is at user %llu of %zu",
                              (unsigned long long)h->sweep, N);
    if (st == COLB_OK && h->settled > 1)
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: cohort's settled flag %llu is not 0 or 1",
                              (unsigned long long)h->settled);
    if (st == COLB_OK)
        st = colb__snap_get_u64s(in, g, "counters", cnt, 4);
    if (st != COLB_OK)
        return st;
    h->splits = cnt[0], h->merges = cnt[1], h->moves = cnt[2], h->props = cnt[3];
    /* the state besides its three learner banks: colb__ridge_load reserves
     * each bank's own bytes as it reads it (ch_memory counts them too) */
    double banks;
    ch_extra_slots(&p->pp, &banks);
    double arrays = ch_memory(&p->pp) - 4 * colb__ridge_bytes(p->pp.users, p->pp.dim) - banks;
    if ((st = colb__snap_reserve(in, (uint64_t)arrays, "cohort's state")) != COLB_OK)
        return st;
    const colb_policy_params *pp = &p->pp;
    if ((st = setup(h, pp)) != COLB_OK)
        return setup_error(p, st);
    if (h->estimate) { /* the estimate in force since the last epoch's start */
        if ((st = colb__snap_get_f64s_within(in, g, "noise_scale", &h->R, 1, COLB__SNAP_MODEL_MAX)) != COLB_OK)
            return st;
        if (h->R < 0.0)
            return colb__snap_error(in, COLB_EPARSE, "snapshot: cohort's noise scale %s is negative",
                                    colb__num((char[32]){ 0 }, h->R));
        if ((st = colb__snap_get_f64s_within(in, g, "noise_sums", h->nsum, 2, COLB__SNAP_MODEL_MAX)) != COLB_OK)
            return st;
        if (h->nsum[0] < 0.0 || h->nsum[1] < 0.0)
            return colb__snap_error(in, COLB_EPARSE, "snapshot: cohort's noise sums are negative");
    }
    if ((st = colb__ridge_load(in, g, "users", &h->u, N, d, &pp->learner, NULL)) ||
        (st = colb__ridge_load(in, g, "clusters", &h->c, cap, d, &pp->learner, NULL)) ||
        (st = colb__ridge_load(in, g, "fresh", &h->f, 2 * cap, d, &pp->learner, NULL)))
        return st;
    if (colb__ridge_init(&h->s, 2, d, &pp->learner) != COLB_OK || grow_users(h, N) ||
        colb__cohort_grow_arrays(h, cap) || !(h->work = colb__malloc(COLB__COHORT_WORK(d), sizeof(double))) ||
        !(h->pbuf = colb__malloc(COLB__CHOL_BATCH * (2 * d * d + 3 * d), sizeof(double))))
        return colb__snap_error(in, COLB_ENOMEM, "out of memory for cohort's %zu users", N);
    size_t *order = colb__malloc(N, sizeof(size_t)), *tmp = colb__malloc(N > cap ? N : cap, sizeof(size_t));
    if (!order || !tmp) {
        free(order);
        free(tmp);
        return colb__snap_error(in, COLB_ENOMEM, "out of memory for cohort's %zu users", N);
    }
    if ((st = load_personal_inverse(in, g, h)) ||
        (st = colb__snap_get_f64s(in, g, "personal", h->th, N * d, 0)) ||
        (st = colb__snap_get_f64s(in, g, "yy", h->yy, N, 0)) ||
        (st = colb__snap_get_f64s(in, g, "shrink_of_user", h->lamu, N, 1)) ||
        (st = colb__snap_get_f64s(in, g, "gap", h->gap, N, 1)) ||
        (st = colb__snap_get_sizes(in, g, "label", h->label, N, cap)) ||
        (st = colb__snap_get_sizes(in, g, "alt", h->alt, N, cap + 1)) ||
        (st = colb__snap_get_sizes(in, g, "side", tmp, N, 2)) ||
        (st = colb__snap_get_sizes(in, g, "order", order, N, N)) ||
        (st = colb__snap_get_f64s(in, g, "spread", h->tau2, cap, 0)) ||
        (st = colb__snap_get_f64s(in, g, "shrink", h->shrink, cap, 1)) ||
        (st = colb__snap_get_f64s(in, g, "sweep_sums", h->acc, 2 * cap, 0)) ||
        (st = colb__snap_get_f64s(in, g, "side_models", h->sideth, 2 * cap * d, 0)) ||
        (st = colb__snap_get_u64s(in, g, "proposal_count", h->prop_count, cap)) ||
        (st = colb__snap_get_u64s(in, g, "next_try", h->next_try, cap)))
        goto out;
    for (size_t u = 0; u < N; u++) {
        h->side[u] = (unsigned char)tmp[u];
        h->alt[u] = h->alt[u] ? h->alt[u] - 1 : NONE;
        if (isnan(h->lamu[u]) || h->lamu[u] < 0.0) {
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: cohort's user %zu has a bad shrinkage", u);
            goto out;
        }
    }
    if ((st = colb__snap_get_sizes(in, g, "pending", tmp, cap, 2)) ||
        (st = colb__snap_get_sizes(in, g, "size", h->size, cap, N + 1)))
        goto out;
    for (size_t c = 0; c < cap; c++)
        h->pending[c] = (unsigned char)tmp[c];
    /* an epoch in slices' carried state (absent from older snapshots: none) */
    colb__snap_field fld;
    for (size_t u = 0; u < N; u++)
        h->ns[u] = 0.0;
    memset(h->off, 0, N * d * sizeof(double)); /* older snapshots: hard centres */
    if ((colb__snap_find(g, "normalised_stat", &fld) == COLB_OK &&
         (st = colb__snap_get_f64s(in, g, "normalised_stat", h->ns, N, 1))) ||
        (colb__snap_find(g, "centre_offset", &fld) == COLB_OK &&
         (st = colb__snap_get_f64s(in, g, "centre_offset", h->off, N * d, 0))))
        goto out;
    if (colb__snap_find(g, "changed", &fld) == COLB_OK) {
        if ((st = colb__snap_get_sizes(in, g, "changed", tmp, cap, 2)))
            goto out;
        for (size_t c = 0; c < cap; c++)
            h->changed[c] = (unsigned char)tmp[c];
    }
    /* the member lists, rebuilt from `order`: every user once, the clusters'
     * runs in slot order with the saved sizes and matching labels */
    memset(tmp, 0, (N > cap ? N : cap) * sizeof(size_t));
    size_t k = 0;
    for (size_t c = 0; c < cap && st == COLB_OK; c++) {
        size_t n = h->size[c];
        h->size[c] = 0;
        h->head[c] = NONE;
        if (n > N - k) {
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: cohort's cluster sizes exceed %zu users", N);
            break;
        }
        h->nc += n > 0;
        for (size_t i = n; i-- > 0;) { /* linking prepends: walk the run backwards */
            size_t u = order[k + i];
            if (tmp[u]++ || h->label[u] != c) {
                st = colb__snap_error(in, COLB_EPARSE, "snapshot: cohort's user %zu is listed twice "
                                      "or in a cluster other than its label", u);
                break;
            }
            colb__cohort_link(h, u, c);
        }
        k += n;
    }
    if (st == COLB_OK && k != N)
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: cohort's clusters hold %zu of %zu users", k, N);
    if (st == COLB_OK)
        st = colb__cohort_load_steps(h, in, g, &pp->learner);
out:
    free(order);
    free(tmp);
    return st;
}

/* Newcomers join the largest cluster (the predictive score's choice for a
 * user without data: the prior favours large clusters). */
static colb_status ch_add_users(colb_policy *p, size_t n, const size_t *labels)
{
    (void)labels;
    colb__cohort *h = p->impl;
    size_t N = h->N;
    if (colb__ridge_grow(&h->u, N + n) != COLB_OK)
        return COLB_ENOMEM;
    if (grow_users(h, N + n)) {
        h->u.n = N; /* the bank was only appended to */
        return COLB_ENOMEM;
    }
    size_t big = 0;
    for (size_t c = 1; c < h->cap; c++)
        if (h->size[c] > h->size[big])
            big = c;
    init_users(h, N, N + n, big);
    h->N = N + n;
    colb__cohort_users_joined(h, N, N + n);
    return COLB_OK;
}

const colb__policy_vt colb__policy_cohort = {
    .name = "cohort",
    /* a choice reads the state and writes the round's scratch only (the
     * diversified copy A~_c, stamps of this round); the epoch's slices run
     * at end_round whatever was chosen */
    .quiet_choices = 1,
    .check = ch_check,
    .create = ch_create,
    .destroy = ch_destroy,
    .begin_round = ch_begin,
    .choose = ch_choose,
    .observe = ch_observe,
    .end_round = ch_end,
    .user_theta = ch_theta,
    .all_sane = ch_all_sane,
    .clusters = ch_clusters,
    .memory = ch_memory,
    .round_memory = ch_round_memory,
    .save = ch_save,
    .load = ch_load,
    .add_users = ch_add_users,
};
