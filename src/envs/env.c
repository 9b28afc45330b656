/* env.c - the generic layer of colb/env.h: parameters, dispatch, and the
 * cluster-size rule of the clustered model. */
#include "envs/env_impl.h"

#include <string.h>

#include "core/memory.h"

void colb_env_params_default(colb_env_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->kind = COLB_ENV_CLUSTERED;
    p->users = 100;
    p->clusters = 4;
    p->zipf = 0.0;
    p->dim = 15;
    p->arms = 25;
    p->noise = 0.1;
    p->sigma_theta = 0.1;
    p->normalize = 0;
    p->cluster_sizes = COLB_SIZES_ONE_EACH;
}

colb_status colb_env_params_check(const colb_env_params *p, char *msg, size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!p)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL environment parameters");
    if (p->kind != COLB_ENV_CLUSTERED && p->kind != COLB_ENV_PERSONALIZED)
        return colb__say(msg, msg_len, COLB_EINVAL, "env kind must be clustered or personalized");
    if (p->users == 0 || p->users > ((size_t)1 << 31))
        return colb__say(msg, msg_len, COLB_ERANGE, "users must be in [1, 2^31]");
    if (p->dim == 0 || p->dim > 4096)
        return colb__say(msg, msg_len, COLB_ERANGE, "dim must be in [1, 4096]");
    if (p->arms == 0 || p->arms > 1000000)
        return colb__say(msg, msg_len, COLB_ERANGE, "arms must be in [1, 10^6]");
    if (p->kind == COLB_ENV_CLUSTERED && (p->clusters == 0 || p->clusters > p->users))
        return colb__say(msg, msg_len, COLB_ERANGE, "clusters must be in [1, users]");
    /* NaN/Inf is COLB_ENONFIN, a finite value outside the range COLB_ERANGE
     * (colb/limits.h) */
    if (!isfinite(p->zipf) || p->zipf < 0.0 || p->zipf > COLB_ZIPF_MAX)
        return colb__say(msg, msg_len, isfinite(p->zipf) ? COLB_ERANGE : COLB_ENONFIN,
                         "zipf = %g must be in [0, %g]", p->zipf, COLB_ZIPF_MAX);
    if (!isfinite(p->noise) || p->noise < 0.0 || p->noise > COLB_SCALE_MAX)
        return colb__say(msg, msg_len, isfinite(p->noise) ? COLB_ERANGE : COLB_ENONFIN,
                         "noise = %g must be in [0, %g]", p->noise, COLB_SCALE_MAX);
    if (!isfinite(p->sigma_theta) || p->sigma_theta < 0.0 || p->sigma_theta > COLB_SCALE_MAX)
        return colb__say(msg, msg_len, isfinite(p->sigma_theta) ? COLB_ERANGE : COLB_ENONFIN,
                         "sigma_theta = %g must be in [0, %g]", p->sigma_theta, COLB_SCALE_MAX);
    if (p->normalize != 0 && p->normalize != 1) /* not a count of anything: refused, not read as 1 */
        return colb__say(msg, msg_len, COLB_ERANGE, "normalize = %d must be 0 or 1", p->normalize);
    if (p->cluster_sizes != COLB_SIZES_ONE_EACH && p->cluster_sizes != COLB_SIZES_PROPORTIONAL)
        return colb__say(msg, msg_len, COLB_ERANGE, "cluster_sizes = %d is not COLB_SIZES_ONE_EACH (0) or "
                         "COLB_SIZES_PROPORTIONAL (1)", p->cluster_sizes);
    double need;
    colb_env_memory(p, &need);
    char what[128];
    snprintf(what, sizeof what, "an environment with users = %zu, dim = %zu, arms = %zu", p->users, p->dim,
             p->arms);
    return colb__budget_check(need, p->max_memory, what, msg, msg_len);
}

colb_status colb_env_memory(const colb_env_params *p, double *bytes)
{
    if (!p || !bytes)
        return COLB_EINVAL;
    /* env_synthetic.c: labels, groups and noise per user; a parameter and
     * K means per group (a cluster, or a user when personalized); the
     * contexts; a second noise, means and contexts for a round drawn ahead */
    double N = (double)p->users, d = (double)p->dim, K = (double)p->arms;
    double G = p->kind == COLB_ENV_CLUSTERED ? (double)p->clusters : N;
    *bytes = sizeof(colb_env) + 32 * N + G * 8 * (d + 2 * K + 3) + 16 * K * d;
    return COLB_OK;
}

colb_status colb_cluster_sizes(size_t N, size_t L, double z, size_t *sizes)
{
    return colb_cluster_sizes_rule(N, L, z, COLB_SIZES_ONE_EACH, sizes);
}

colb_status colb_cluster_sizes_rule(size_t N, size_t L, double z, int rule, size_t *sizes)
{
    if (!sizes || L == 0 || L > N)
        return COLB_EINVAL;
    if (!isfinite(z))
        return COLB_ENONFIN;
    /* z: the range colb_env_params_check takes; N: the shares below are
     * computed in doubles, exact up to 2^53 */
    if (z < 0.0 || z > COLB_ZIPF_MAX || N > ((size_t)1 << 53) ||
        (rule != COLB_SIZES_ONE_EACH && rule != COLB_SIZES_PROPORTIONAL))
        return COLB_ERANGE;
    /* ONE_EACH: every cluster gets one user and the other N - L are shared
     * out in proportion to l^{-z}; PROPORTIONAL: all N are. Both by largest
     * remainders (ties to the smaller l), so the sizes sum to N exactly. */
    size_t base = rule == COLB_SIZES_ONE_EACH ? 1 : 0;
    double tot = 0.0;
    for (size_t l = 0; l < L; l++)
        tot += pow((double)(l + 1), -z);
    size_t rest = N - base * L, given = 0;
    double *frac = colb__malloc(L, sizeof(double));
    if (!frac)
        return COLB_ENOMEM;
    for (size_t l = 0; l < L; l++) {
        double q = (double)rest * pow((double)(l + 1), -z) / tot;
        double fl = floor(q);
        size_t f = (size_t)fl;
        if (f > rest - given)
            f = rest - given; /* rounding guard, in integers */
        sizes[l] = base + f;
        frac[l] = q - fl;
        given += f;
    }
    while (given < rest) { /* fewer than L users are left */
        size_t best = 0;
        for (size_t l = 1; l < L; l++)
            if (frac[l] > frac[best])
                best = l;
        sizes[best]++;
        frac[best] = -1.0;
        given++;
    }
    free(frac);
    /* PROPORTIONAL: a cluster rounding left empty takes a user from the
     * largest (the first of equals), which has two or more as L <= N */
    for (size_t l = 0; l < L; l++)
        if (sizes[l] == 0) {
            size_t big = 0;
            for (size_t k = 1; k < L; k++)
                if (sizes[k] > sizes[big])
                    big = k;
            sizes[big]--;
            sizes[l] = 1;
        }
    return COLB_OK;
}

colb_env *colb__env_alloc(const colb__env_vt *vt, const colb_env_params *p, size_t N, size_t d,
                          size_t K, int shared, uint64_t seed)
{
    colb_env *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->vt = vt;
    e->p = *p;
    e->N = N;
    e->d = d;
    e->K = K;
    e->shared = shared;
    e->seed = seed;
    return e;
}

void colb_env_free(colb_env *e)
{
    if (!e)
        return;
    if (e->vt && e->vt->destroy)
        e->vt->destroy(e);
    free(e->labels);
    free(e);
}

size_t colb_env_users(const colb_env *e) { return e ? e->N : 0; }
size_t colb_env_dim(const colb_env *e) { return e ? e->d : 0; }
size_t colb_env_arms(const colb_env *e) { return e ? e->K : 0; }
int colb_env_shared_contexts(const colb_env *e) { return e ? e->shared : 0; }

colb_status colb_env_next_round(colb_env *e)
{
    if (!e)
        return COLB_EINVAL;
    colb_status st = e->vt->next_round(e);
    /* the finite-state guard: what the round shows must be finite (and is,
     * for parameters within colb/limits.h) */
    if (st == COLB_OK && e->shared && !colb__finite(e->vt->contexts(e, 0), e->K * e->d))
        return COLB_ENUMERIC;
    if (st == COLB_OK)
        e->rounds++;
    return st;
}

int colb__env_tape_shape(const colb_env *e, size_t seg[COLB__TAPE_SEGS], size_t *words)
{
    return e && e->vt->tape_shape ? e->vt->tape_shape(e, seg, words) : 0;
}

void colb__env_attach_tape(colb_env *e, colb__tape *t)
{
    if (e && t && e->vt->attach_tape)
        e->vt->attach_tape(e, t);
}

double colb__env_take_tape_seconds(colb_env *e)
{
    if (!e)
        return 0.0;
    double s = e->tape_draw_s;
    e->tape_draw_s = 0.0;
    return s;
}

void colb__env_prefetch(colb_env *e)
{
    if (e && e->vt->prefetch)
        e->vt->prefetch(e);
}

void colb__env_outcomes(const colb_env *e, const size_t *arms, double *rewards, double *regret)
{
    if (e->vt->outcomes) {
        e->vt->outcomes(e, arms, rewards, regret);
        return;
    }
    double sum = 0.0;
    for (size_t u = 0; u < e->N; u++) {
        double g;
        colb__env_outcome(e, u, arms[u], rewards + u, &g);
        sum += g;
    }
    *regret = sum;
}

void colb__env_outcome(const colb_env *e, size_t u, size_t k, double *reward, double *regret)
{
    if (e && u < e->N && k < e->K && e->vt->outcome) {
        e->vt->outcome(e, u, k, reward, regret);
        return;
    }
    *reward = colb_env_reward(e, u, k);
    *regret = colb_env_regret(e, u, k);
}

uint64_t colb_env_rounds(const colb_env *e) { return e ? e->rounds : 0; }

/* Before the first round there are no contexts: NULL for every kind (a
 * synthetic environment's buffer is then all zeros, which a caller could
 * take for a round). */
const double *colb_env_contexts(colb_env *e, size_t u)
{
    return e && u < e->N && e->rounds ? e->vt->contexts(e, u) : NULL;
}

const double *colb__env_contexts_into(colb_env *e, size_t u, double *buf)
{
    if (!e || u >= e->N || !e->rounds)
        return NULL;
    return e->vt->contexts_into ? e->vt->contexts_into(e, u, buf) : e->vt->contexts(e, u);
}

double colb_env_reward(const colb_env *e, size_t u, size_t k)
{
    return e && u < e->N && k < e->K && e->rounds ? e->vt->reward(e, u, k) : NAN;
}

double colb_env_regret(const colb_env *e, size_t u, size_t k)
{
    return e && u < e->N && k < e->K && e->rounds ? e->vt->regret(e, u, k) : NAN;
}

colb_status colb_env_true_clusters(const colb_env *e, size_t *labels, size_t *n_clusters)
{
    if (!e || !labels || !n_clusters)
        return COLB_EINVAL;
    if (!e->labels)
        return COLB_EUNSUP;
    memcpy(labels, e->labels, e->N * sizeof(size_t));
    *n_clusters = e->n_clusters;
    return COLB_OK;
}

colb_status colb_env_theta(const colb_env *e, size_t u, double *theta)
{
    if (!e || !theta)
        return COLB_EINVAL;
    if (u >= e->N)
        return COLB_ERANGE;
    if (!e->vt->theta)
        return COLB_EUNSUP;
    return e->vt->theta(e, u, theta);
}
