/* policy.c - the generic layer of colb/policy.h: registry, parameter checks,
 * round bookkeeping and validation around the policy implementations. */
#include "policies/policy_impl.h"

#include <float.h>
#include <string.h>

#include "core/memory.h"
#include "linalg/soa_kernel.h"

extern const colb__policy_vt colb__policy_linucb_ind, colb__policy_oracle, colb__policy_random,
    colb__policy_pooled, colb__policy_cmlb, colb__policy_sclb, colb__policy_club,
    colb__policy_pmlb, colb__policy_cohort;
/* fair comparisons: the oracle's other forms, SCLUB, LOCB */
extern const colb__policy_vt colb__policy_oracle_batch, colb__policy_oracle_seq,
    colb__policy_sclub, colb__policy_locb;

/* The recommended policy first. */
static const colb__policy_vt *const registry[] = {
    &colb__policy_cohort, &colb__policy_linucb_ind, &colb__policy_oracle, &colb__policy_random,
    &colb__policy_pooled, &colb__policy_cmlb, &colb__policy_sclb, &colb__policy_club,
    &colb__policy_pmlb, &colb__policy_oracle_batch, &colb__policy_oracle_seq, &colb__policy_sclub,
    &colb__policy_locb,
};
#define N_REGISTRY (sizeof registry / sizeof registry[0])

/* Other names of registered policies. */
static const struct {
    const char *alias, *name;
} aliases[] = { { "recommended", "cohort" } };

const char *const *colb_policy_names(void)
{
    static const char *const names[] = { "cohort", "linucb-ind", "oracle", "random", "pooled",
                                         "cmlb", "sclb", "club", "pmlb", "oracle-batch",
                                         "oracle-seq", "sclub", "locb", NULL };
    return names;
}

int colb_policy_needs_true_clusters(const char *name)
{
    return name && (!strcmp(name, "oracle") || !strcmp(name, "oracle-batch") ||
                    !strcmp(name, "oracle-seq"));
}

const char *colb_policy_resolve(const char *name)
{
    for (size_t i = 0; name && i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(aliases[i].alias, name))
            return aliases[i].name;
    for (size_t i = 0; name && i < N_REGISTRY; i++)
        if (!strcmp(registry[i]->name, name))
            return registry[i]->name;
    return NULL;
}

const char *colb_kernel_path(void)
{
    const colb__soa_kernel *k;
    return colb__soa_pick_kernel(getenv("COLB_KERNEL"), &k) == COLB_OK ? k->name : NULL;
}

static const colb__policy_vt *find_policy(const char *name)
{
    const char *canon = colb_policy_resolve(name);
    for (size_t i = 0; canon && i < N_REGISTRY; i++)
        if (!strcmp(registry[i]->name, canon))
            return registry[i];
    return NULL;
}

void colb_policy_params_default(colb_policy_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    colb_learner_params_default(&p->learner);
    p->seed = 1;
    p->cmlb_alpha = 0.2;
    p->cmlb_C = 0.2;
    p->cmlb_gamma = 0.0;
    p->cmlb_pstar = 0.0;
    p->cmlb_threshold = COLB_THRESHOLD_PAPER;
    p->club_alpha = 1.0;
    p->club_alpha2 = 2.0;
    p->club_graph = COLB_CLUB_COMPLETE;
    p->pmlb_learner = COLB_PMLB_ALB_NORM;
    p->threads = 1;
    /* colb's reading (docs/algorithms.md): group learners pool their users'
     * samples and CMLB's clusters start from their members' data; the
     * paper-literal reading sets both to 0 */
    p->pooled_updates = 1;
    p->cmlb_warm_start = 1;
    p->cohort_delta = 0.1;
    p->cohort_personal = 1;
    p->cohort_soft = 1;
    p->cohort_seeds = 4;
    p->cohort_estimate_noise = 1;
    /* fair comparisons */
    p->diversify = 1;
    p->sampling = COLB_SAMPLING_UCB;
    p->club_own_alpha = 0;
    p->sclub_alpha = 1.0;
    p->sclub_alpha_p = 1.0;
    p->locb_seeds = 20;
    p->locb_gamma = 0.2;
}

colb_status colb_policy_params_check(const char *name, const colb_policy_params *p, char *msg,
                                     size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!name)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL policy name");
    const colb__policy_vt *vt = find_policy(name);
    if (!vt)
        return colb__say(msg, msg_len, COLB_ENOTFOUND, "unknown policy '%s'", name);
    if (!p)
        return colb__say(msg, msg_len, COLB_EINVAL, "%s: NULL parameters", name);
    if (p->users == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "%s: users must be >= 1", name);
    if (p->dim == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "%s: dim must be >= 1", name);
    if (p->dim > COLB_DIM_MAX)
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: dim = %zu exceeds %u", name, p->dim, COLB_DIM_MAX);
    if (p->dim > COLB_MODEL_DIM_MAX && strcmp(vt->name, "random")) /* the SoA banks' bound */
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: dim = %zu exceeds %u, the largest d of its d x d models",
                         name, p->dim, COLB_MODEL_DIM_MAX);
    /* the scale constants of every policy, generic so that no update can
     * overflow (colb/limits.h); each policy checks its own lower bounds */
    const double scales[7] = { p->cmlb_C, p->cmlb_gamma, p->club_alpha, p->club_alpha2,
                               p->sclub_alpha, p->sclub_alpha_p, p->locb_gamma };
    static const char *const scale_names[7] = { "cmlb_C", "cmlb_gamma", "club_alpha", "club_alpha2",
                                                "sclub_alpha", "sclub_alpha_p", "locb_gamma" };
    for (int i = 0; i < 7; i++)
        if (isfinite(scales[i]) && fabs(scales[i]) > COLB_SCALE_MAX)
            return colb__say(msg, msg_len, COLB_ERANGE, "%s: %s = %g exceeds %g", name, scale_names[i],
                             scales[i], COLB_SCALE_MAX);
    if ((p->pooled_updates != 0 && p->pooled_updates != 1) ||
        (p->cmlb_warm_start != 0 && p->cmlb_warm_start != 1) || (p->anytime != 0 && p->anytime != 1))
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: pooled_updates, cmlb_warm_start and anytime must be 0 or 1", name);
    if ((p->diversify != 0 && p->diversify != 1) || (p->club_own_alpha != 0 && p->club_own_alpha != 1))
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: diversify and club_own_alpha must be 0 or 1", name);
    if (p->sampling != COLB_SAMPLING_UCB && p->sampling != COLB_SAMPLING_TS)
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: sampling = %d is not COLB_SAMPLING_UCB (0) or "
                         "COLB_SAMPLING_TS (1)", name, (int)p->sampling);
    /* the other policies' choices too: every policy saves every field
     * (docs/format.md, 4.1) and its load refuses one out of range */
    if (p->cmlb_threshold != COLB_THRESHOLD_PAPER && p->cmlb_threshold != COLB_THRESHOLD_DATA)
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: cmlb_threshold = %d is not COLB_THRESHOLD_PAPER (0) or "
                         "COLB_THRESHOLD_DATA (1)", name, (int)p->cmlb_threshold);
    if (p->club_graph != COLB_CLUB_COMPLETE && p->club_graph != COLB_CLUB_RANDOM)
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: club_graph = %d is not COLB_CLUB_COMPLETE (0) or "
                         "COLB_CLUB_RANDOM (1)", name, (int)p->club_graph);
    if (p->pmlb_learner != COLB_PMLB_ALB_NORM && p->pmlb_learner != COLB_PMLB_LINUCB)
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: pmlb_learner = %d is not COLB_PMLB_ALB_NORM (0) or "
                         "COLB_PMLB_LINUCB (1)", name, (int)p->pmlb_learner);
    if (p->cohort_personal != 0 && p->cohort_personal != 1)
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: cohort_personal = %d must be 0 or 1", name,
                         p->cohort_personal);
    if (p->cohort_soft != 0 && p->cohort_soft != 1)
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: cohort_soft = %d must be 0 or 1", name, p->cohort_soft);
    if (p->cohort_estimate_noise != 0 && p->cohort_estimate_noise != 1)
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: cohort_estimate_noise = %d must be 0 or 1", name,
                         p->cohort_estimate_noise);
    colb_status st = colb_learner_params_check(&p->learner);
    if (st != COLB_OK) {
        if (msg && msg_len)
            snprintf(msg, msg_len, "%s: learner parameter '%s' out of range", name,
                     colb_learner_params_bad_field(&p->learner));
        return st;
    }
    st = colb__budget_range(p->max_memory, name, msg, msg_len);
    if (st != COLB_OK)
        return st;
    if (p->threads > COLB_POLICY_THREADS_MAX) /* for every policy, as policy.h says */
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: threads = %zu exceeds %u", name, p->threads,
                         COLB_POLICY_THREADS_MAX);
    /* given true clusters are kept, saved and checked on load by every
     * policy, the ones that do not use them too */
    for (size_t u = 0; p->true_cluster && u < p->users; u++)
        if (p->true_cluster[u] >= p->n_clusters)
            return colb__say(msg, msg_len, COLB_ERANGE, "%s: user %zu has cluster %zu >= n_clusters %zu", name, u,
                             p->true_cluster[u], p->n_clusters);
    return vt->check ? vt->check(p, msg, msg_len) : COLB_OK;
}

/* ---- memory budget (issue 17) ------------------------------------------- */

colb_status colb__policy_cache_check(const colb_policy *p, double *max_rel, size_t *n_cached)
{
    if (!p || !max_rel || !n_cached)
        return COLB_EINVAL;
    return p->vt->cache_check ? p->vt->cache_check(p, max_rel, n_cached) : COLB_EUNSUP;
}

colb_status colb__policy_state_check(const colb_policy *p, double *max_rel, size_t *n_models)
{
    if (!p || !max_rel || !n_models)
        return COLB_EINVAL;
    return p->vt->state_check ? p->vt->state_check(p, max_rel, n_models) : COLB_EUNSUP;
}

colb_status colb__policy_cache_off(colb_policy *p, int off)
{
    if (!p)
        return COLB_EINVAL;
    if (!p->vt->cache_off)
        return COLB_EUNSUP;
    p->vt->cache_off(p, off);
    return COLB_OK;
}

colb_status colb_policy_memory(const char *name, const colb_policy_params *pp, double *bytes)
{
    const colb__policy_vt *vt = find_policy(name);
    if (!vt)
        return COLB_ENOTFOUND;
    if (!pp || !bytes)
        return COLB_EINVAL;
    double N = (double)pp->users;
    *bytes = sizeof(colb_policy) + N * (2 * sizeof(size_t) + 1) + (pp->true_cluster ? N * sizeof(size_t) : 0) +
             (vt->memory ? vt->memory(pp) : 0);
    return COLB_OK;
}

double colb__policy_round_bytes(size_t dim, size_t K)
{
    double d = (double)dim, k = (double)K;
    /* ... and the scoring blocks' packed outer products, d (d + 1) / 2 per
     * arm (colb__soa_reserve): at d = 200, K = 1000 they are 161 MB, which
     * the terms before left out beyond K = 128 */
    return 8 * (k * d + 64 * (d * d + d + d * k) + k + d * k + 256 * k + d * (d + 1) / 2 * k);
}

double colb__policy_round_bytes_for(const colb__policy_vt *vt, const colb_policy_params *pp, size_t K)
{
    return colb__policy_round_bytes(pp->dim, K) + (vt->round_memory ? vt->round_memory(pp, K) : 0.0);
}

/* COLB_OK when K arms of a round in dimension `dim` fit the budget
 * max_memory: the contexts and the scoring scratch of a block of models.
 * It does not depend on the users. */
static colb_status round_budget(size_t dim, size_t K, size_t max_memory, char *msg, size_t msg_len)
{
    char what[96];
    snprintf(what, sizeof what, "begin_round with K = %zu arms of dimension %zu", K, dim);
    return colb__budget_check(colb__policy_round_bytes(dim, K), max_memory, what, msg, msg_len);
}

/* The budget check of a round of K arms by policy vt with parameters pp
 * (pp->users users): under a budget the caller set, the policy's memory and
 * the round's together; under the default one, the round's alone (the
 * memory available when it comes, which the policy already takes from).
 * The round's: colb__policy_round_bytes_for (the policy's own scratch for
 * K arms with it). */
static colb_status round_with_policy(const colb__policy_vt *vt, const colb_policy_params *pp, size_t K, char *msg,
                                     size_t msg_len)
{
    if (!pp->max_memory && !vt->round_memory)
        return round_budget(pp->dim, K, 0, msg, msg_len);
    double pol = 0.0;
    if (pp->max_memory)
        colb_policy_memory(vt->name, pp, &pol);
    char what[192];
    snprintf(what, sizeof what, "begin_round with K = %zu arms of dimension %zu and policy '%s' with users = %zu",
             K, pp->dim, vt->name, pp->users);
    return colb__budget_check(pol + colb__policy_round_bytes_for(vt, pp, K), pp->max_memory, what, msg, msg_len);
}

static colb_status round_memory(colb_policy *p, size_t K)
{
    return round_with_policy(p->vt, &p->pp, K, p->err, COLB__ERRLEN);
}

/* The argument checks of colb_policy_round_check and _for. */
static colb_status round_args(const char *fn, const colb_policy_params *pp, size_t K, char *msg, size_t msg_len)
{
    if (!pp)
        return colb__say(msg, msg_len, COLB_EINVAL, "%s: NULL parameters", fn);
    if (pp->dim == 0 || K == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "%s: %s = 0", fn, K ? "dim" : "K");
    if (K > ((size_t)1 << 40) / pp->dim)
        return colb__say(msg, msg_len, COLB_ERANGE, "%s: K = %zu arms is too large", fn, K);
    return COLB_OK;
}

colb_status colb_policy_round_check(const colb_policy_params *pp, size_t K, char *msg, size_t msg_len)
{
    colb_status st = round_args("round_check", pp, K, msg, msg_len);
    return st != COLB_OK ? st : round_budget(pp->dim, K, pp->max_memory, msg, msg_len);
}

colb_status colb_policy_round_check_for(const char *name, const colb_policy_params *pp, size_t K, char *msg,
                                        size_t msg_len)
{
    if (!name)
        return colb__say(msg, msg_len, COLB_EINVAL, "round_check_for: NULL policy name");
    const colb__policy_vt *vt = find_policy(name);
    if (!vt)
        return colb__say(msg, msg_len, COLB_ENOTFOUND, "round_check_for: unknown policy '%s'", name);
    colb_status st = round_args("round_check_for", pp, K, msg, msg_len);
    if (st == COLB_OK)
        st = colb__budget_range(pp->max_memory, "round_check_for", msg, msg_len);
    return st != COLB_OK ? st : round_with_policy(vt, pp, K, msg, msg_len);
}

colb_status colb__policy_alloc_rounds(colb_policy *p)
{
    p->chosen = colb__malloc(p->N, sizeof(size_t));
    p->observed = colb__calloc(p->N, 1);
    p->served = colb__malloc(p->N, sizeof(size_t));
    p->X_guard = colb__malloc(p->d, sizeof(double));
    colb__soa_pick_kernel(NULL, &p->check_kern);
    if (!p->chosen || !p->observed || !p->served || !p->X_guard)
        return COLB_ENOMEM;
    for (size_t u = 0; u < p->N; u++)
        p->chosen[u] = COLB__NO_ARM;
    return COLB_OK;
}

colb_policy *colb__policy_alloc(const colb__policy_vt *vt, const colb_policy_params *pp)
{
    colb_policy *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->vt = vt;
    p->pp = *pp;
    p->N = pp->users;
    p->d = pp->dim;
    if (pp->true_cluster) {
        p->labels = colb__malloc(p->N, sizeof(size_t));
        if (p->labels)
            memcpy(p->labels, pp->true_cluster, p->N * sizeof(size_t));
    }
    p->pp.true_cluster = p->labels;
    colb_rng_seed(&p->ts_rng, pp->seed, COLB__STREAM_TS);
    if ((pp->true_cluster && !p->labels) || colb__policy_alloc_rounds(p) != COLB_OK) {
        colb_policy_free(p);
        return NULL;
    }
    return p;
}

const colb__policy_vt *colb__policy_find(const char *name) { return find_policy(name); }

colb_status colb__policy_kernel_check(colb_policy *p)
{
    const colb__soa_kernel *k;
    const char *name = getenv("COLB_KERNEL");
    colb_status st = colb__soa_pick_kernel(name, &k);
    if (st != COLB_OK)
        return colb__err(p->err, st, "COLB_KERNEL = %s is not a kernel this CPU runs (avx512, avx2 or "
                         "portable; unset: the fastest)", name ? name : "");
    return COLB_OK;
}

colb_status colb__policy_set_threads(colb_policy *p, size_t threads)
{
    colb_policy_params q = p->pp;
    q.threads = threads;
    if (p->vt->check && p->vt->check(&q, NULL, 0) != COLB_OK)
        return COLB_ERANGE;
    colb_status st = p->vt->set_threads ? p->vt->set_threads(p, threads) : COLB_OK;
    if (st == COLB_OK)
        p->pp.threads = threads;
    return st;
}

colb_status colb_policy_create(const char *name, const colb_policy_params *pp, colb_policy **out,
                               char *msg, size_t msg_len)
{
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL output pointer");
    *out = NULL;
    colb_status st = colb_policy_params_check(name, pp, msg, msg_len);
    if (st != COLB_OK)
        return st;
    double need = 0.0; /* the name and parameters were checked above */
    colb_policy_memory(name, pp, &need);
    char what[160];
    snprintf(what, sizeof what, "policy '%s' with users = %zu, dim = %zu", name, pp->users, pp->dim);
    st = colb__budget_check(need, pp->max_memory, what, msg, msg_len);
    if (st != COLB_OK)
        return st;
    colb_policy *p = colb__policy_alloc(find_policy(name), pp);
    if (!p)
        return colb__say(msg, msg_len, COLB_ENOMEM, "%s: out of memory", name);
    st = p->vt->create(p);
    if (st != COLB_OK) {
        if (msg && msg_len)
            snprintf(msg, msg_len, "%s: %s", name, p->err[0] ? p->err : colb_strerror(st));
        colb_policy_free(p);
        return st;
    }
    *out = p;
    return COLB_OK;
}

void colb_policy_free(colb_policy *p)
{
    if (!p)
        return;
    if (p->impl && p->vt->destroy)
        p->vt->destroy(p);
    free(p->X);
    free(p->chosen);
    free(p->observed);
    free(p->X_guard);
    free(p->served);
    free(p->labels);
    free(p);
}

const char *colb_policy_name(const colb_policy *p) { return p ? p->vt->name : ""; }
int colb_policy_is_sequential(const colb_policy *p) { return p ? p->vt->sequential : 0; }
int colb__policy_is_blind(const colb_policy *p) { return p ? p->vt->blind : 0; }

int colb_policy_choices_leave_no_state(const colb_policy *p)
{
    return p && p->vt->quiet_choices && !colb__policy_ts(p);
}
uint64_t colb_policy_rounds(const colb_policy *p) { return p ? p->rounds : 0; }
const char *colb_policy_info(const colb_policy *p) { return p ? p->info : ""; }
const char *colb_policy_last_error(const colb_policy *p) { return p ? p->err : ""; }

/* What every begin_round checks first: the handle's state and K. */
static colb_status round_ok(colb_policy *p, const double *X, size_t K)
{
    if (p->in_round)
        return colb__err(p->err, COLB_ESTATE, "begin_round: round %llu is still open",
                         (unsigned long long)p->rounds + 1);
    if (!X)
        return colb__err(p->err, COLB_EINVAL, "begin_round: contexts X is NULL");
    if (K == 0)
        return colb__err(p->err, COLB_EINVAL, "begin_round: K = 0 arms");
    if (K > ((size_t)1 << 40) / p->d)
        return colb__err(p->err, COLB_ERANGE, "begin_round: K = %zu arms is too large", K);
    if (p->failed)
        return colb__err(p->err, COLB_ENUMERIC, "begin_round: the policy's state became non-finite in round "
                         "%llu; create a new one", (unsigned long long)p->rounds + 1);
    return COLB_OK;
}

/* p->X grown to K arms (its contents are lost when it grows). */
static colb_status grow_X(colb_policy *p, size_t K)
{
    if (K <= p->X_cap)
        return COLB_OK;
    colb_status st = round_memory(p, K);
    if (st != COLB_OK)
        return st;
    double *nx = colb__malloc(K * p->d, sizeof(double));
    if (!nx)
        return colb__err(p->err, COLB_ENOMEM, "begin_round: out of memory for K = %zu", K);
    free(p->X);
    p->X = nx;
    p->X_cap = K;
    return COLB_OK;
}

/* The round opens on contexts that passed the checks: X copied in (unless
 * it is p->X already), then the policy's own begin_round. */
static colb_status open_round(colb_policy *p, const double *X, size_t K)
{
    colb_status st = grow_X(p, K);
    if (st != COLB_OK)
        return st;
    if (X != p->X)
        memcpy(p->X, X, K * p->d * sizeof(double));
    p->K = K;
    p->in_round = 1;
    if (p->vt->begin_round) {
        st = p->vt->begin_round(p);
        if (st != COLB_OK) {
            p->in_round = 0;
            return st;
        }
    }
    return COLB_OK;
}

colb_status colb_policy_begin_round(colb_policy *p, const double *X, size_t K)
{
    if (!p)
        return COLB_EINVAL;
    colb_status st = round_ok(p, X, K);
    if (st != COLB_OK)
        return st;
    if (!p->check_kern->bounded(X, K * p->d, COLB_CONTEXT_MAX)) {
        for (size_t i = 0; i < K * p->d; i++)
            if (!isfinite(X[i]))
                return colb__err(p->err, COLB_ENONFIN, "begin_round: context %zu, entry %zu is %g (NaN or Inf)",
                                 i / p->d, i % p->d, X[i]);
        for (size_t i = 0; i < K * p->d; i++)
            if (fabs(X[i]) > COLB_CONTEXT_MAX)
                return colb__err(p->err, COLB_ERANGE,
                                 "begin_round: context %zu, entry %zu is %s, beyond +-%g", i / p->d,
                                 i % p->d, colb__num((char[32]){ 0 }, X[i]), COLB_CONTEXT_MAX);
    }
    return open_round(p, X, K);
}

colb_status colb__policy_begin_round_bounded(colb_policy *p, const double *X, size_t K)
{
    if (!p)
        return COLB_EINVAL;
    colb_status st = round_ok(p, X, K);
    return st != COLB_OK ? st : open_round(p, X, K);
}

double *colb__policy_round_buffer(colb_policy *p, size_t K)
{
    if (!p || p->in_round || K == 0 || K > ((size_t)1 << 40) / p->d)
        return NULL;
    return grow_X(p, K) == COLB_OK ? p->X : NULL;
}

colb_status colb_policy_choose(colb_policy *p, size_t u, size_t *arm)
{
    if (!p)
        return COLB_EINVAL;
    if (!arm)
        return colb__err(p->err, COLB_EINVAL, "choose: arm is NULL");
    if (!p->in_round)
        return colb__err(p->err, COLB_ESTATE, "choose: no open round (call begin_round)");
    if (p->failed)
        return colb__err(p->err, COLB_ENUMERIC, "choose: the policy's state became non-finite; create a new one");
    if (u >= p->N)
        return colb__err(p->err, COLB_ERANGE, "choose: user %zu out of range [0, %zu)", u, p->N);
    if (p->chosen[u] == COLB__NO_ARM) {
        size_t a = 0;
        colb_status st = p->vt->choose(p, u, &a);
        if (st != COLB_OK)
            return st;
        p->chosen[u] = a;
        p->served[p->n_served++] = u;
    }
    *arm = p->chosen[u];
    return COLB_OK;
}

static colb_status choose_all(colb_policy *p, size_t *arms)
{
    if (!p->in_round)
        return colb__err(p->err, COLB_ESTATE, "choose_all: no open round (call begin_round)");
    int fresh = 1;
    for (size_t u = 0; u < p->N && fresh; u++)
        fresh = p->chosen[u] == COLB__NO_ARM;
    if (fresh && p->vt->choose_all && !p->vt->sequential) {
        colb_status st = p->vt->choose_all(p, arms);
        if (st != COLB_OK)
            return st;
        memcpy(p->chosen, arms, p->N * sizeof(size_t));
        p->served_all = 1;
        return COLB_OK;
    }
    for (size_t u = 0; u < p->N; u++) {
        colb_status st = colb_policy_choose(p, u, &arms[u]);
        if (st != COLB_OK)
            return st;
    }
    return COLB_OK;
}

void colb__policy_prefetch_user(const colb_policy *p, size_t u)
{
    if (p && u < p->N && p->vt->prefetch_user)
        p->vt->prefetch_user(p, u);
}

colb_status colb__policy_choose_all_with(colb_policy *p, size_t *arms, colb__task *side)
{
    colb_status st = COLB_EINVAL;
    if (p && !arms)
        st = colb__err(p->err, COLB_EINVAL, "choose_all: arms is NULL");
    else if (p) {
        p->side = side;
        st = choose_all(p, arms);
        p->side = NULL;
    }
    colb__task_run(side); /* if the policy did not */
    return st;
}

colb_status colb_policy_choose_all(colb_policy *p, size_t *arms)
{
    return colb__policy_choose_all_with(p, arms, NULL);
}

/* The checks of one observation; messages start with `call` (observe, or
 * observe_all for an entry of its arrays). */
static colb_status check_observe(colb_policy *p, const char *call, size_t u, size_t arm, double y)
{
    if (!p->in_round)
        return colb__err(p->err, COLB_ESTATE, "%s: no open round", call);
    if (p->failed)
        return colb__err(p->err, COLB_ENUMERIC, "%s: the policy's state became non-finite; create a new one", call);
    if (u >= p->N)
        return colb__err(p->err, COLB_ERANGE, "%s: user %zu out of range [0, %zu)", call, u, p->N);
    if (arm >= p->K)
        return colb__err(p->err, COLB_ERANGE, "%s: arm %zu out of range [0, %zu)", call, arm, p->K);
    if (p->chosen[u] == COLB__NO_ARM)
        return colb__err(p->err, COLB_ESTATE, "%s: user %zu was not served this round", call, u);
    if (p->observed[u])
        return colb__err(p->err, COLB_ESTATE, "%s: user %zu already observed this round", call, u);
    if (arm != p->chosen[u])
        return colb__err(p->err, COLB_EINVAL, "%s: user %zu was served arm %zu, not %zu", call, u,
                         p->chosen[u], arm);
    if (!isfinite(y))
        return colb__err(p->err, COLB_ENONFIN, "%s: reward of user %zu is %g", call, u, y);
    if (fabs(y) > COLB_REWARD_MAX)
        return colb__err(p->err, COLB_ERANGE, "%s: reward of user %zu is %s, beyond +-%g", call, u,
                         colb__num((char[32]){ 0 }, y), COLB_REWARD_MAX);
    return COLB_OK;
}

/* The finite-state guard: after an update, the estimates of the users it
 * touched (u, or every user observed this round when u is COLB__NO_ARM)
 * must be finite. Inputs within colb/limits.h cannot make them otherwise;
 * this catches a numerical failure, which is reported as COLB_ENUMERIC and
 * fences the policy (its state cannot be trusted, and is not restored). */
static colb_status guard(colb_policy *p, size_t u, const char *call)
{
    if (!p->vt->user_theta)
        return COLB_OK;
    double *th = p->X_guard;
    /* every user, or (a round of users served one by one) only those */
    int listed = u == COLB__NO_ARM && !p->served_all;
    size_t n = u != COLB__NO_ARM ? 1 : listed ? p->n_served : p->N;
    /* a round of many users: a whole-bank check first (vectorised, O(N d));
     * the per-user scan below then runs only to name a user that failed. A
     * round of few users (a service's update) checks just them. */
    if (u == COLB__NO_ARM && 8 * n >= p->N && p->vt->all_sane && p->vt->all_sane(p) == 1)
        return COLB_OK;
    for (size_t i = 0; i < n; i++) {
        size_t v = u != COLB__NO_ARM ? u : listed ? p->served[i] : i;
        if (u == COLB__NO_ARM && !p->observed[v])
            continue;
        const double *t = p->vt->user_theta_ref ? p->vt->user_theta_ref(p, v)
                          : p->vt->user_theta(p, v, th) == COLB_OK ? th : NULL;
        if (t && !p->check_kern->bounded(t, p->d, COLB__THETA_MAX)) {
            p->failed = 1;
            return colb__err(p->err, COLB_ENUMERIC, "%s: the estimate of user %zu became non-finite or beyond %g "
                             "in round %llu (numerical failure); the policy can no longer be used", call, v,
                             COLB__THETA_MAX, (unsigned long long)p->rounds + 1);
        }
    }
    return COLB_OK;
}

/* A policy's own numerical failure (an update or maintenance step that
 * returns COLB_ENUMERIC, e.g. an aggregate no longer positive definite)
 * fences it as the guard does: its state may be half-changed, and every
 * later call says so instead of working on it. */
static colb_status fence(colb_policy *p, colb_status st)
{
    if (st == COLB_ENUMERIC)
        p->failed = 1;
    return st;
}

colb_status colb_policy_observe(colb_policy *p, size_t u, size_t arm, double y)
{
    if (!p)
        return COLB_EINVAL;
    colb_status st = check_observe(p, "observe", u, arm, y);
    if (st != COLB_OK)
        return st;
    st = fence(p, p->vt->observe(p, u, arm, y));
    if (st == COLB_OK)
        p->observed[u] = 1;
    if (st == COLB_OK && p->vt->sequential)
        st = guard(p, u, "observe");
    return st;
}

colb_status colb_policy_observe_all(colb_policy *p, const size_t *arms, const double *rewards)
{
    if (!p)
        return COLB_EINVAL;
    if (!arms || !rewards)
        return colb__err(p->err, COLB_EINVAL, "observe_all: NULL arms or rewards");
    /* check_observe in full for the first user (the round's state), then
     * its per-user conditions in one pass; a user that fails one gets
     * check_observe's message */
    colb_status st = COLB_OK;
    for (size_t u = 0; u < p->N && st == COLB_OK; u++) {
        size_t a = arms[u];
        double y = rewards[u];
        if (u == 0 || a >= p->K || a != p->chosen[u] || p->observed[u] ||
            !(fabs(y) <= COLB_REWARD_MAX))
            st = check_observe(p, "observe_all", u, a, y);
    }
    if (st != COLB_OK)
        return st;
    p->unguarded = 1; /* no observe guarded: end_round checks, sequential or not */
    if (p->vt->observe_all) {
        if ((st = fence(p, p->vt->observe_all(p, arms, rewards))) != COLB_OK)
            return st;
        memset(p->observed, 1, p->N);
        return COLB_OK;
    }
    for (size_t u = 0; u < p->N; u++) {
        if ((st = fence(p, p->vt->observe(p, u, arms[u], rewards[u]))) != COLB_OK)
            return st;
        p->observed[u] = 1;
    }
    return COLB_OK;
}

colb_status colb_policy_end_round(colb_policy *p)
{
    if (!p)
        return COLB_EINVAL;
    if (!p->in_round)
        return colb__err(p->err, COLB_ESTATE, "end_round: no open round");
    /* a fenced policy's round (its observe failed) is closed, and says so */
    colb_status st = p->failed ? colb__err(p->err, COLB_ENUMERIC, "end_round: the policy failed numerically; "
                                           "the round is closed, and the policy can no longer be used")
                               : fence(p, p->vt->end_round ? p->vt->end_round(p) : COLB_OK);
    /* a sequential policy's observes were guarded one by one (unless they
     * came through observe_all); without an end_round nothing has changed
     * since (a round of CLUB's 1,892 Last.FM users: 5 % of its time went
     * to checking them all again) */
    if (st == COLB_OK && (p->vt->end_round || !p->vt->sequential || p->unguarded))
        st = guard(p, COLB__NO_ARM, "end_round");
    p->unguarded = 0;
    if (p->served_all || p->n_served > p->N / 8) {
        for (size_t u = 0; u < p->N; u++)
            p->chosen[u] = COLB__NO_ARM;
        memset(p->observed, 0, p->N);
    } else { /* only the users served one by one have entries to clear */
        for (size_t i = 0; i < p->n_served; i++) {
            p->chosen[p->served[i]] = COLB__NO_ARM;
            p->observed[p->served[i]] = 0;
        }
    }
    p->n_served = 0;
    p->served_all = 0;
    p->in_round = 0;
    p->rounds++;
    return st;
}

colb_status colb_policy_user_theta(const colb_policy *p, size_t u, double *theta)
{
    if (!p || !theta)
        return COLB_EINVAL;
    if (u >= p->N)
        return COLB_ERANGE;
    if (p->failed) /* its state cannot be trusted: a failed split can leave it half changed */
        return COLB_ENUMERIC;
    if (!p->vt->user_theta)
        return COLB_EUNSUP;
    return p->vt->user_theta(p, u, theta);
}

colb_status colb_policy_clusters(const colb_policy *p, size_t *labels, size_t *n_clusters)
{
    if (!p || !labels || !n_clusters)
        return COLB_EINVAL;
    if (p->failed)
        return COLB_ENUMERIC;
    if (!p->vt->clusters)
        return COLB_EUNSUP;
    return p->vt->clusters(p, labels, n_clusters);
}

/* ---- one observation outside a round (issue 16) ------------------------- */

colb_status colb_policy_update(colb_policy *p, size_t u, const double *x, double y)
{
    if (!p)
        return COLB_EINVAL;
    if (!x)
        return colb__err(p->err, COLB_EINVAL, "update: context x is NULL");
    if (p->in_round)
        return colb__err(p->err, COLB_ESTATE, "update: round %llu is open; update between rounds",
                         (unsigned long long)p->rounds + 1);
    if (u >= p->N)
        return colb__err(p->err, COLB_ERANGE, "update: user %zu out of range [0, %zu)", u, p->N);
    if (!isfinite(y))
        return colb__err(p->err, COLB_ENONFIN, "update: reward of user %zu is %g", u, y);
    if (fabs(y) > COLB_REWARD_MAX)
        return colb__err(p->err, COLB_ERANGE, "update: reward of user %zu is %s, beyond +-%g", u,
                         colb__num((char[32]){ 0 }, y), COLB_REWARD_MAX);
    colb_status st = colb_policy_begin_round(p, x, 1); /* checks x; nothing changes on error */
    if (st != COLB_OK) { /* its message names the call made: this one */
        static const char from[] = "begin_round: ", to[] = "update: ";
        if (!strncmp(p->err, from, sizeof from - 1)) {
            memcpy(p->err, to, sizeof to - 1);
            memmove(p->err + sizeof to - 1, p->err + sizeof from - 1, strlen(p->err + sizeof from - 1) + 1);
        }
        return st;
    }
    size_t arm = 0;
    st = colb_policy_choose(p, u, &arm);
    if (st == COLB_OK)
        st = colb_policy_observe(p, u, arm, y);
    colb_status end = colb_policy_end_round(p);
    return st != COLB_OK ? st : end;
}
