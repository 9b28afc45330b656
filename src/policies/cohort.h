/* cohort.h - "cohort", colb's recommended collaborative policy (internal):
 * the state shared by its files.
 *
 *   cohort.c            the policy interface: rounds, choices, users added
 *                       online, snapshots;
 *   cohort_stats.c      the statistics: score test of a user against a
 *                       cluster's model, Wald test of two models, predictive
 *                       score of a user under a cluster, spread of a
 *                       cluster's members;
 *   cohort_partition.c  the partition's maintenance: split proposals and
 *                       their validation, assignment, merges, shrinkage and
 *                       the users' personal estimates.
 *
 * The algorithm, its constants and their reasons are in docs/algorithms.md
 * ("cohort"). Users are the models of bank u (V_u = lambda I + G_u, A_u =
 * V_u^-1, b_u); a cluster's model (bank c) pools its members' data:
 * V_c = lambda I + sum G_u, b_c = sum b_u. Every member of cluster c has a
 * personal estimate th_u = m_u + M_u (b_u - G_u m_u), the ridge estimate
 * shrunk toward its centre m_u (the cluster's model, or a mixture of it and
 * the best other cluster while the assignment is uncertain) with strength
 * lam_c = R^2 / tau2_c, where tau2_c is the spread of the members' true
 * parameters around the model (0: no personal part, th_u = m_u). */
#ifndef COLB_COHORT_H
#define COLB_COHORT_H

#include "linalg/ridge.h"
#include "linalg/soa_kernel.h"
#include "policies/policy_impl.h"

#define COLB__COHORT_NONE ((size_t)-1)
#define COLB__COHORT_SEEDS_MAX 64    /* split proposal seeds, at most */
#define COLB__COHORT_SAMPLE_MAX 512  /* members a 2-means iteration looks at, at most */
/* the scratch `work` (doubles): 4 d^2 + 16 d shared by the statistics and
 * choices, then from COLB__COHORT_RSS_AT the constants of a 2-means pass's
 * side test (d^2 + d + 1: cohort_partition.c, rss_prep) */
#define COLB__COHORT_RSS_AT(d) (4 * (d) * (d) + 16 * (d))
#define COLB__COHORT_WORK(d) (COLB__COHORT_RSS_AT(d) + (d) * (d) + (d) + 1)
/* a split proposal's stage (pstage): none; a 2-means pass of a seed's run;
 * the winner's pass over every member of a cluster larger than the sample */
enum { COLB__COHORT_PS_IDLE, COLB__COHORT_PS_PASS, COLB__COHORT_PS_FULL };

typedef struct colb__cohort {
    size_t N, d;
    /* users */
    colb__ridge u;            /* N models */
    double *M;                /* N d^2: (G_u + lamu I)^{-1} while lamu is finite, full and
                               * symmetric bit for bit (the vectorised steps) */
    double *th;               /* N d: personal estimates */
    double *yy;               /* N: sum of squared rewards */
    double *lamu;             /* N: the shrinkage M_u was built with; INFINITY: none */
    double *gap;              /* N: predictive-score gap own -> alt (soft centres) */
    size_t *label, *alt;      /* N: cluster; the best other cluster or NONE */
    size_t *next, *prev;      /* N: the members of each cluster, doubly linked */
    unsigned char *side;      /* N: side of a pending split */
    size_t *oarm;             /* N: this round's observed arm */
    double *oy;               /* N: this round's reward */
    size_t *obs, n_obs;       /* N: the users observed this round, in order */
    double *pieces;           /* 5 N: the score test's pieces against the own cluster */
    double *ns;               /* N: the normalised statistic against the own cluster */
    double *off;              /* N d: centre - cluster model at the user's last centre_of */
    size_t reserved[3];       /* M, th, off: bytes of address space once grown
                               * (colb__grow_bytes; 0: malloc's) */
    /* clusters: slots [0, cap), in use when size > 0 */
    size_t cap, nc;
    colb__ridge c;            /* cap models */
    colb__ridge f;            /* 2 cap: fresh data of the sides of a pending split */
    colb__ridge s;            /* 2 scratch models (2-means) */
    size_t *size, *head;      /* cap */
    double *tau2, *shrink;    /* cap */
    unsigned char *pending, *dirty, *changed; /* cap */
    uint64_t *stamp;          /* cap: the round At was copied in */
    uint64_t *qstamp;         /* cap: the round qc was computed in */
    size_t *round_obs;        /* cap: observations in the round being ended (0 between) */
    double *sideth;           /* 2 cap d: the side models of a pending split */
    uint64_t *prop_count, *next_try; /* cap */
    double *At;               /* cap d^2: this round's diversified copies of A_c (full) */
    size_t *cand;             /* cap scratch */
    double *cdist;            /* cap scratch */
    /* the clusters' models transposed, for the nearest-cluster search
     * (cohort_partition.c's candidates: one contiguous pass of the dist2
     * kernel): tcache (d x tld) holds theta of slot c in column c as of
     * its last copy; the slots whose model may have changed since are
     * listed in tstale[0..n_tstale) (flag tflag), copied at the next
     * search. A cache of c.theta, not state: everything is stale after a
     * load or a growth of the slots. tdist: cap scratch */
    double *tcache, *tdist;
    size_t tld, *tstale, n_tstale;
    unsigned char *tflag;
    /* schedule and counters */
    uint64_t round, epoch, obs_since, obs_total, splits, merges, moves, props;
    uint64_t settled;         /* 1: the last epoch changed nothing (a pending split
                                 does not count: see docs/cohort.md, epoch schedule) */
    uint64_t info_key[6];     /* the counts (and R's bits) p->info was written with
                               * (not state: a cache; UINT64_MAX after create and load) */
    /* an epoch in slices (rounds of few users: a service): sweep = 0 when
     * none runs, else 1 + the next user; sweep_base = splits + merges +
     * moves when it began; acc (2 cap): each cluster's spread sums so far */
    uint64_t sweep, sweep_base;
    double *acc;
    double nsum[2];           /* cohort-estimate-noise in a sweep: its users' RSS and dof so far */
    /* parameters */
    double delta, R;          /* R: the noise scale in force (learner.noise, or its estimate) */
    double R0;                /* learner.noise: R, or the estimate's prior */
    int estimate;             /* cohort_estimate_noise: R re-estimated at every epoch's start */
    double d_log_lambda, two_log_delta; /* d ln lambda, 2 ln(1/delta): the radii's constants */
    int diversify, personal, soft;
    size_t seeds;
    /* 0; tests set 1 to check that reusing a sweep's k-means scores for
     * the member's centre (colb__cohort_sweep) and an epoch's kept scores
     * (pk_* below) change no bit: every score is then computed afresh */
    int recompute_centres;
    /* choosing: the scoring kernel (soa_kernel.h, chosen at create and load)
     * on the round's packed outer products */
    const colb__soa_kernel *kern;
    double *Q;                /* P x Kp: the round's outer products */
    double *Xt;               /* d x Kp: the round's contexts, transposed */
    double *Ap;               /* P: the packed matrix a choice is scored with */
    size_t Kp;                /* K rounded up to a multiple of 8 */
    /* the quadratic forms x_k^T A~_c x_k of this round's diversified copies
     * (valid when qstamp[c] == round): computed at a cluster's second
     * choice of the round, then carried through the copy's rank-one steps
     * in O(K d) (round_scores.h's update), so that a member without a
     * personal part scores in O(K d) */
    double *qc;               /* cap x Kp */
    size_t qc_cap;            /* doubles allocated */
    /* scratch */
    double *scores, *work;    /* scores: Kp; work: COLB__COHORT_WORK(d) */
    double *mean, *tk;        /* Kp each: a member's means, x_k^T A~_c x of a step */
    double *pbuf;             /* COLB__CHOL_BATCH (2 d^2 + 3 d): scratch of pred_scores, the
                               * Wald test and the fresh models' refresh */
    size_t K_cap;
    /* the clusters' steps at a sweep's end, in slices (colb__cohort_sweep):
     * the step under way (0: none; cohort_partition.c's END_*), its cluster
     * cursor, and the work this call may still do (member visits; the
     * epoch at once: unbounded) */
    uint64_t end_step, end_c;
    int64_t budget;
    /* the whole-cluster work of those steps, in slices too (cohort_partition.c,
     * "whole clusters in slices"): a retest under way - cluster rc, the next
     * member rcur (1 + user; 0: none under way), its spread sums so far rsum -
     * and a split being carried out - cluster sc, the new cluster sc2, the
     * next member scur (1 + user; 0: none). at_once: 1 while an epoch runs at
     * once (colb__cohort_maintain), which does that work whole (not state) */
    uint64_t rc, rcur, sc, sc2, scur;
    double rsum[2];
    int at_once;
    /* a split proposal under way, resumable (cohort_partition.c's
     * propose_step): stage (0: none), cluster, seeds pseed[0..pm), the seed
     * being run pi (pm: the winner run again), its 2-means iteration, the
     * pass's cursor (1 + user, or sample index) and counts, the best seed
     * so far and its in-sample W; the sample (stride > 1: every stride-th
     * member), the models the pass assigns with (pold) and the best seed's
     * sample fits (pwin); the passes' sums are h->s */
    uint64_t pstage, pc, pm, pi, pit, pcur, pna, pnb, pchanged, pbi, pstride, pn;
    double pbest;
    size_t *pseed;            /* 64 */
    size_t *psample;          /* SAMPLE_MAX */
    double *pold, *pwin;      /* 2 d each */
    /* a round's observations grouped by cluster (ch_end), in observation
     * order within each: ogrp (N) the users, ostart (cap) each observed
     * cluster's end in ogrp; oxs, oys (N) a group's contexts and rewards */
    size_t *ogrp, *ostart;
    const double **oxs;
    double *oys;
    size_t og_cap, os_cap;    /* users, slots allocated */
    /* the means <th, x_k> of a cluster's member without a personal part
     * scored last in this round (valid when mstamp[c] == round), th in cth:
     * the members at the cluster's model share them, bit for bit */
    double *cmean, *cth;      /* cap x Kp, cap x d */
    uint64_t *mstamp;         /* cap */
    size_t cm_cap, cm_slots;  /* doubles of cmean, slots of cth and mstamp allocated */
    /* the predictive scores of an epoch at once (colb__cohort_maintain),
     * kept for its later k-means passes and its centres, which score the
     * same users against mostly the same clusters with the users' data
     * unchanged: ver (cap) counts the changes of each slot's model or
     * members (colb__cohort_touch, link, unlink); user u's entries i <
     * pkn[u] hold the score pks of cluster pkc (NONE: a cluster of its
     * own) computed at version pkv, valid while ver is unchanged (each
     * score is computed on its own, so a kept one has the bits of a fresh
     * one). Not state: cleared at every epoch; pk_on only within one. */
    uint64_t *ver;
    size_t *pkc;              /* pk_users x COLB__COHORT_PK_SLOTS */
    uint64_t *pkv;
    double *pks;
    unsigned char *pkn;       /* pk_users */
    size_t pk_users;          /* users allocated */
    int pk_on;
    /* a model's refresh from V failed (V not positive definite: inputs near
     * colb/limits.h's edges, ill-conditioned): end_round reports
     * COLB_ENUMERIC, which fences the policy (its state is not used again) */
    int numeric_failed;
} colb__cohort;

/* Scores kept per user by the epoch's cache: its own cluster, the
 * candidates (cohort_partition.c's CANDIDATES) and a cluster of its own;
 * kept for at most COLB__COHORT_PK_MAX_USERS users (25 bytes an entry: 90
 * MB; beyond, the scores are computed each time, the same values). */
#define COLB__COHORT_PK_SLOTS 18
#define COLB__COHORT_PK_MAX_USERS 200000

/* ---- cohort_stats.c ---- */

/* Noise part of the OFUL radius of model i: R sqrt(2 ln(1/delta) +
 * ln det V - d ln lambda). */
double colb__cohort_noise_radius(const colb__cohort *h, const colb__ridge *r, size_t i);

/* The noise scale estimated from the residuals of the users' own fits
 * (cohort-estimate-noise): sqrt((d R0^2 + sum_u RSS_u) / (d + sum_u
 * dof_u)), least squares for users with d + 2 rewards or more, ridge below.
 * noise_terms adds user u's RSS_u and dof_u to sums (h->work[0, d^2 + d)
 * its scratch; O(d^3)); noise_of is the estimate of such sums; noise_estimate
 * sums every user's at once (an epoch run whole; a sweep in slices sums its
 * users as it visits them: colb__cohort_sweep). */
void colb__cohort_noise_terms(colb__cohort *h, size_t u, double sums[2]);
double colb__cohort_noise_of(const colb__cohort *h, const double sums[2]);
double colb__cohort_noise_estimate(colb__cohort *h);

/* The score test's part that depends on model j of bank cb only (pre: d + 1
 * doubles): A_j th_j and rho_j^2. O(d^2). */
void colb__cohort_score_prep(colb__cohort *h, const colb__ridge *cb, size_t j, double *pre);

/* Score test of the data (V, b) of model i of bank `from` against the
 * parameter of model j of bank cb, with tau2 the spread of true parameters
 * around it (0: strict). Returns stat / thr with
 *   stat = ||b - G th_j||_{V^-1},  G = V - lambda I,
 *   thr  = sqrt(rho_i^2 + tau rho_j^2 + q tau2 h) + lambda ||G A_j th_j||_{V^-1},
 * tau = tr(G A_j), h = tr(G V^-1 G). Pieces (may be NULL): st[0] = stat^2,
 * st[1] = e = tr(V^-1 G), st[2] = h, st[3] = the base rho_i^2 + tau rho_j^2,
 * st[4] = the bias term. pre: colb__cohort_score_prep(cb, j), or NULL (then
 * computed here). O(d^2): one pass over V_i and A_j, one over A_i. */
double colb__cohort_score_test(colb__cohort *h, const colb__ridge *from, size_t i,
                               const colb__ridge *cb, size_t j, double tau2, double st[5],
                               const double *pre);

/* The normalised statistic from the pieces of colb__cohort_score_test for
 * another tau2. */
double colb__cohort_stat_with(const double st[5], double tau2);

/* Wald statistic of two models having the same parameter, with the ridge
 * bias corrected by their pooled estimate:
 *   W = (t0 - t1 + lambda (A0 - A1) t_p)^T (A0 + A1)^{-1} (...) / R^2.
 * 0 when either model holds no data. O(d^3). */
double colb__cohort_wald(colb__cohort *h, const colb__ridge *b0, size_t i0, const colb__ridge *b1,
                         size_t i1);

/* colb__cohort_wald(h, b0, i0, b1, i1s[m]) into out[m] for m < n, the same
 * values; the pairs' factorisations run interleaved (faster than n calls).
 * Uses h->pbuf. */
void colb__cohort_wald_n(colb__cohort *h, const colb__ridge *b0, size_t i0, const colb__ridge *b1,
                         const size_t *i1s, size_t n, double *out);

/* colb__cohort_wald(h, b0, i0s[m], b1, i1s[m]) into out[m] for m < n, the
 * same values, COLB__WALD_BATCH pairs' factorisations at a time. Uses
 * h->pbuf. */
#define COLB__WALD_BATCH COLB__CHOL_BATCH
void colb__cohort_wald_pairs(colb__cohort *h, const colb__ridge *b0, const size_t *i0s,
                             const colb__ridge *b1, const size_t *i1s, size_t n, double *out);

/* Thresholds of W: the chi-square quantile of d degrees of freedom at level
 * delta (Laurent-Massart), and the self-normalised bound 2 ln(1/delta) +
 * ln det V - d ln lambda of the model with more data. */
double colb__cohort_chi_thr(const colb__cohort *h);
double colb__cohort_oful_thr(const colb__cohort *h, const colb__ridge *b0, size_t i0,
                             const colb__ridge *b1, size_t i1);

/* -2 log of the predictive probability of user u's data under cluster c
 * (NONE: a new cluster), u's own data left out of its own cluster, plus -2
 * log of the Chinese-restaurant prior (the cluster's size, or 1 for a new
 * cluster). O(d^3). */
double colb__cohort_pred_score(colb__cohort *h, size_t u, size_t c);

/* colb__cohort_pred_score(h, u, cs[m]) into out[m] for m < n, the same
 * values; the clusters' factorisations run interleaved (faster than n
 * calls). Uses h->pbuf. */
void colb__cohort_pred_scores(colb__cohort *h, size_t u, const size_t *cs, size_t n, double *out);

/* The same for n (user, cluster) pairs: out[m] = colb__cohort_pred_score(h,
 * us[m us_step], cs[m]) (us_step 0: every pair's user is us[0]), the
 * factorisations of COLB__CHOL_BATCH pairs at a time, whoever their users. */
void colb__cohort_pred_scores_of(colb__cohort *h, const size_t *us, size_t us_step, const size_t *cs,
                                 size_t n, double *out);

/* ---- cohort_partition.c ---- */

/* Member lists. */
void colb__cohort_link(colb__cohort *h, size_t u, size_t c);
void colb__cohort_unlink(colb__cohort *h, size_t u);

/* Grow the cluster slots to cap2 > h->cap: the banks c and f and the
 * per-cluster arrays (grow_arrays: the arrays only, new slots empty); 0, or
 * -1 when out of memory (what was grown is only larger than used). */
int colb__cohort_grow_slots(colb__cohort *h, size_t cap2);
int colb__cohort_grow_arrays(colb__cohort *h, size_t cap2);

/* Slot c's model (c.theta) may have changed: its copy in the transposed
 * cache is refreshed before the next nearest-cluster search. Every change
 * of a cluster's model must be followed by this call. O(1). */
void colb__cohort_touch(colb__cohort *h, size_t c);

/* 1 when the transposed cache holds c.theta of every slot not listed as
 * stale, bit for bit (tests). O(C d). */
int colb__cohort_cache_ok(const colb__cohort *h);

/* A free cluster slot (growing the banks when needed), or NONE when out of
 * memory. */
size_t colb__cohort_new_slot(colb__cohort *h);

/* Cluster c's model from its members' data. */
void colb__cohort_rebuild(colb__cohort *h, size_t c);

/* The maintenance of an epoch: validation of pending splits, proposals,
 * assignment, merges, shrinkage and the personal estimates. */
void colb__cohort_maintain(colb__cohort *h);
/* A, theta and ln det V of models idx[0..n) of bank r (its own h's banks)
 * recomputed from their V and b, COLB__CHOL_BATCH at a time with the
 * hand-written kernels. O(n d^3). */
void colb__cohort_refresh(colb__cohort *h, colb__ridge *r, const size_t *idx, size_t n);
/* 1 when an epoch's split steps would act now: a pending split whose
 * sides' fresh models differ or whose fresh data have reached the
 * proposal's, or a cluster due for a proposal. O(d^3) per pending split
 * with fresh data since its last refresh (which this performs), O(1) per
 * other cluster. */
int colb__cohort_splits_due(colb__cohort *h);
/* The epoch in slices, for rounds that serve few users: each call examines
 * the next `users` users of the sweep (score test, spread sums, assignment,
 * personal estimate; O(users (d^2 + C d^3))); after the last user the
 * clusters' steps (spreads, pending splits, proposals, merges) run in
 * slices of `units` units of about O(d^2) a call, a cluster's retest, split
 * or merge too (cohort_partition.c, "whole clusters in slices"). Starts a
 * sweep when none runs. Returns 1 when the epoch ended. */
int colb__cohort_sweep(colb__cohort *h, size_t users, size_t units);

/* Users [from, to) just linked to one cluster (colb_policy_add_users'
 * newcomers, at the head of its member list): when a retest in slices is
 * under way in that cluster they are before its cursor, counted as
 * visited, so their score tests are taken now (its last slice reads every
 * member's statistics, and a snapshot writes the visited members'). O((to
 * - from) d^2) then, else O(1). */
void colb__cohort_users_joined(colb__cohort *h, size_t from, size_t to);

/* The clusters' steps under way at a sweep's end and a split proposal in
 * progress, as fields of the open group (save), or read back from group g
 * after everything else (load; absent in older snapshots: none). Load
 * checks every cursor and index against the loaded state: COLB_EPARSE. */
void colb__cohort_save_steps(const colb__cohort *h, colb__snap_out *w);
colb_status colb__cohort_load_steps(colb__cohort *h, colb__snap_in *in, const colb__snap_group *g,
                                    const colb_learner_params *lp);

/* Personal estimate of user u from its centre (O(d^2), plus O(d^3) when
 * M_u must be rebuilt for a new shrinkage). */
void colb__cohort_personal(colb__cohort *h, size_t u, const double *centre);

/* The personal models M_u of users us[0..n) (NULL: users 0..n-1) that
 * their shrinkage has made stale rebuilt, COLB__CHOL_BATCH at a time (the
 * same bits as colb__cohort_personal's one at a time). Uses h->pbuf. */
void colb__cohort_personal_rebuilds(colb__cohort *h, const size_t *us, size_t n);

/* colb__cohort_personal for a user whose M_u is current: after
 * colb__cohort_personal_rebuilds, with neither its data nor its cluster's
 * shrinkage changed since (O(d^2)). The same bits as colb__cohort_personal
 * but where the shrinkage overflows to infinity (V's diagonal infinite):
 * th_u is then the centre, where it was computed from that M (NaN). */
void colb__cohort_personal_from(colb__cohort *h, size_t u, const double *centre);

/* The centre of u between epochs: its cluster's model plus the offset its
 * last epoch gave it (a soft centre's pull toward the runner-up clusters;
 * none for most users: then the model itself). out (d): room for the sum. */
const double *colb__cohort_centre(colb__cohort *h, size_t u, double *out);

#endif
