/* learner.c - the public single-learner API (colb/learner.h): a ridge bank
 * of one model plus validation and error messages. */
#include "colb/learner.h"

#include <string.h>

#include "core/memory.h"
#include "core/util.h"
#include "linalg/dense.h"
#include "linalg/ridge.h"

struct colb_learner {
    colb__ridge r;
    colb__ridge saved;  /* the state before the update in progress (finite-state guard) */
    double *work;       /* scoring scratch, grown on demand */
    size_t work_len;
    char err[COLB__ERRLEN];
};

void colb_learner_params_default(colb_learner_params *p)
{
    if (!p)
        return;
    p->lambda = 1.0;
    p->width = COLB_WIDTH_OFUL;
    p->alpha = 1.0;
    p->noise = 0.1;
    p->norm_bound = 1.0;
    p->delta = 0.1;
}

const char *colb_learner_params_bad_field(const colb_learner_params *p)
{
    if (!p)
        return "params";
    if (!isfinite(p->lambda) || p->lambda < COLB_LAMBDA_MIN || p->lambda > COLB_LAMBDA_MAX)
        return "lambda";
    if (p->width != COLB_WIDTH_OFUL && p->width != COLB_WIDTH_FIXED)
        return "width";
    if (!isfinite(p->alpha) || p->alpha < 0.0 || p->alpha > COLB_SCALE_MAX)
        return "alpha";
    if (!isfinite(p->noise) || p->noise < 0.0 || p->noise > COLB_SCALE_MAX)
        return "noise";
    if (!isfinite(p->norm_bound) || p->norm_bound < 0.0 || p->norm_bound > COLB_SCALE_MAX)
        return "norm_bound";
    if (!isfinite(p->delta) || p->delta <= 0.0 || p->delta >= 1.0)
        return "delta";
    return NULL;
}

colb_status colb_learner_params_check(const colb_learner_params *p)
{
    if (!p)
        return COLB_EINVAL;
    const char *bad = colb_learner_params_bad_field(p);
    if (!bad)
        return COLB_OK;
    double v = !strcmp(bad, "lambda") ? p->lambda : !strcmp(bad, "alpha") ? p->alpha
             : !strcmp(bad, "noise") ? p->noise : !strcmp(bad, "norm_bound") ? p->norm_bound
             : !strcmp(bad, "delta") ? p->delta : 0.0;
    return isfinite(v) ? COLB_ERANGE : COLB_ENONFIN;
}

/* The reason p is invalid (colb_learner_params_bad_field names the field),
 * into msg: the field, its value and its range. */
static colb_status bad_params(const colb_learner_params *p, colb_status st, char *msg, size_t msg_len)
{
    const char *bad = colb_learner_params_bad_field(p);
    char v[32];
    if (!strcmp(bad, "lambda"))
        return colb__say(msg, msg_len, st, "learner: lambda = %s must be in [%g, %g]", colb__num(v, p->lambda),
                         COLB_LAMBDA_MIN, COLB_LAMBDA_MAX);
    if (!strcmp(bad, "width"))
        return colb__say(msg, msg_len, st, "learner: width = %d is not COLB_WIDTH_OFUL (0) or COLB_WIDTH_FIXED (1)",
                         (int)p->width);
    if (!strcmp(bad, "delta"))
        return colb__say(msg, msg_len, st, "learner: delta = %s must be in (0, 1)", colb__num(v, p->delta));
    double x = !strcmp(bad, "alpha") ? p->alpha : !strcmp(bad, "noise") ? p->noise : p->norm_bound;
    return colb__say(msg, msg_len, st, "learner: %s = %s must be in [0, %g]", bad, colb__num(v, x), COLB_SCALE_MAX);
}

colb_status colb_learner_create_msg(size_t d, const colb_learner_params *p, colb_learner **out, char *msg,
                                    size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "learner: NULL output pointer");
    *out = NULL;
    if (!p)
        return colb__say(msg, msg_len, COLB_EINVAL, "learner: NULL parameters");
    if (d == 0)
        return colb__say(msg, msg_len, COLB_EINVAL, "learner: d = 0; the dimension must be in [1, %u]",
                         COLB_DIM_MAX);
    if (d > COLB_DIM_MAX)
        return colb__say(msg, msg_len, COLB_ERANGE, "learner: d = %zu exceeds COLB_DIM_MAX = %u", d, COLB_DIM_MAX);
    colb_status st = colb_learner_params_check(p);
    if (st != COLB_OK)
        return bad_params(p, st, msg, msg_len);
    /* its state and the guard's copy: 6 d x d arrays (about 48 d^2 bytes,
     * 206G at d = 65536), against the default budget as a policy's are:
     * mallocs that each fit the machine's memory could otherwise all
     * succeed, the first reset then touching more than there is */
    double need = 2 * colb__ridge_bytes(1, d) + (double)sizeof(colb_learner);
    char what[64];
    snprintf(what, sizeof what, "learner: d = %zu", d);
    if ((st = colb__budget_check(need, 0, what, msg, msg_len)) != COLB_OK)
        return st;
    colb_learner *l = calloc(1, sizeof *l);
    if (!l)
        return colb__say(msg, msg_len, COLB_ENOMEM, "learner: out of memory");
    if (colb__ridge_init(&l->r, 1, d, p) != COLB_OK || colb__ridge_init(&l->saved, 1, d, p) != COLB_OK) {
        colb__ridge_free(&l->r);
        free(l);
        return colb__say(msg, msg_len, COLB_ENOMEM, "learner: out of memory for d = %zu", d);
    }
    *out = l;
    return COLB_OK;
}

colb_status colb_learner_create(size_t d, const colb_learner_params *p, colb_learner **out)
{
    return colb_learner_create_msg(d, p, out, NULL, 0);
}

void colb_learner_free(colb_learner *l)
{
    if (!l)
        return;
    colb__ridge_free(&l->r);
    colb__ridge_free(&l->saved);
    free(l->work);
    free(l);
}

colb_status colb_learner_copy(const colb_learner *src, colb_learner **out)
{
    if (!src || !out)
        return COLB_EINVAL;
    colb_status st = colb_learner_create(src->r.d, &src->r.p, out);
    if (st != COLB_OK)
        return st;
    colb__ridge_copy_model(&(*out)->r, 0, &src->r, 0);
    return COLB_OK;
}

void colb_learner_reset(colb_learner *l)
{
    if (l)
        colb__ridge_reset(&l->r, 0);
}

colb_status colb_learner_set_prior(colb_learner *l, const double *theta0)
{
    if (!l)
        return COLB_EINVAL;
    if (l->r.count[0] != 0)
        return colb__err(l->err, COLB_ESTATE, "set_prior: the learner already holds data; reset it first");
    if (theta0 && !colb__finite(theta0, l->r.d))
        return colb__err(l->err, COLB_ENONFIN, "set_prior: theta0 has a NaN or Inf entry");
    for (size_t j = 0; theta0 && j < l->r.d; j++)
        if (fabs(theta0[j]) > COLB_SCALE_MAX)
            return colb__err(l->err, COLB_ERANGE, "set_prior: theta0 entry %zu is %s, beyond +-%g", j,
                             colb__num((char[32]){ 0 }, theta0[j]), COLB_SCALE_MAX);
    colb__ridge_set_prior(&l->r, 0, theta0);
    return COLB_OK;
}

colb_status colb_learner_set_norm_bound(colb_learner *l, double S)
{
    if (!l)
        return COLB_EINVAL;
    if (!isfinite(S) || S < 0.0 || S > COLB_SCALE_MAX)
        return colb__err(l->err, isfinite(S) ? COLB_ERANGE : COLB_ENONFIN,
                         "norm bound S = %g: must be in [0, %g]", S, COLB_SCALE_MAX);
    l->r.S[0] = S;
    return COLB_OK;
}

colb_status colb_learner_set_noise(colb_learner *l, double R)
{
    if (!l)
        return COLB_EINVAL;
    if (!isfinite(R) || R < 0.0 || R > COLB_SCALE_MAX)
        return colb__err(l->err, isfinite(R) ? COLB_ERANGE : COLB_ENONFIN,
                         "noise R = %g: must be in [0, %g]", R, COLB_SCALE_MAX);
    l->r.noise[0] = R;
    return COLB_OK;
}

colb_status colb_learner_update(colb_learner *l, const double *x, double y, double w)
{
    if (!l)
        return COLB_EINVAL;
    if (!x)
        return colb__err(l->err, COLB_EINVAL, "update: x is NULL");
    if (!colb__finite(x, l->r.d))
        return colb__err(l->err, COLB_ENONFIN, "update: context x has a NaN or Inf entry");
    if (!isfinite(y))
        return colb__err(l->err, COLB_ENONFIN, "update: reward y is %g", y);
    if (!isfinite(w))
        return colb__err(l->err, COLB_ENONFIN, "update: weight w is %g", w);
    if (w <= 0.0 || w > COLB_WEIGHT_MAX)
        return colb__err(l->err, COLB_ERANGE, "update: weight w = %g must be in (0, %g]", w, COLB_WEIGHT_MAX);
    if (fabs(y) > COLB_REWARD_MAX)
        return colb__err(l->err, COLB_ERANGE, "update: reward y = %s is beyond +-%g", colb__num((char[32]){ 0 }, y),
                         COLB_REWARD_MAX);
    for (size_t j = 0; j < l->r.d; j++)
        if (fabs(x[j]) > COLB_CONTEXT_MAX)
            return colb__err(l->err, COLB_ERANGE, "update: context entry %zu is %s, beyond +-%g", j,
                             colb__num((char[32]){ 0 }, x[j]), COLB_CONTEXT_MAX);
    /* the finite-state guard: a numerical failure restores the state */
    colb__ridge_copy_model(&l->saved, 0, &l->r, 0);
    colb__ridge_update(&l->r, 0, x, y, w);
    size_t d = l->r.d;
    if (!colb__finite(l->r.theta, d) || !isfinite(l->r.logdet[0]) || !colb__finite(l->r.A, d * d)) {
        colb__ridge_copy_model(&l->r, 0, &l->saved, 0);
        return colb__err(l->err, COLB_ENUMERIC, "update: the estimate became non-finite; the update was undone");
    }
    return COLB_OK;
}

/* Validate a K x d context array and make the scratch hold the scoring work
 * plus `extra` doubles. */
static colb_status prepare_scoring(colb_learner *l, const double *X, size_t K, size_t extra)
{
    if (!X)
        return colb__err(l->err, COLB_EINVAL, "contexts X is NULL");
    if (K == 0)
        return colb__err(l->err, COLB_EINVAL, "K = 0 arms");
    size_t d = l->r.d;
    if (K > (size_t)-1 / d / 64)
        return colb__err(l->err, COLB_ERANGE, "K = %zu arms is too large", K);
    if (!colb__finite(X, K * d))
        return colb__err(l->err, COLB_ENONFIN, "contexts X have a NaN or Inf entry");
    for (size_t i = 0; i < K * d; i++)
        if (fabs(X[i]) > COLB_CONTEXT_MAX)
            return colb__err(l->err, COLB_ERANGE, "context %zu, entry %zu is %s, beyond +-%g", i / d, i % d,
                             colb__num((char[32]){ 0 }, X[i]), COLB_CONTEXT_MAX);
    size_t need = colb__ridge_scores_work(d, K) + extra;
    if (need > l->work_len) {
        double *w = colb__malloc(need, sizeof(double));
        if (!w)
            return colb__err(l->err, COLB_ENOMEM, "out of memory for K = %zu arms", K);
        free(l->work);
        l->work = w;
        l->work_len = need;
    }
    return COLB_OK;
}

colb_status colb_learner_scores(colb_learner *l, const double *X, size_t K, double *scores)
{
    if (!l)
        return COLB_EINVAL;
    if (!scores)
        return colb__err(l->err, COLB_EINVAL, "scores: output is NULL");
    colb_status st = prepare_scoring(l, X, K, 0);
    if (st != COLB_OK)
        return st;
    colb__ridge_scores(&l->r, 0, X, K, scores, l->work);
    return COLB_OK;
}

colb_status colb_learner_choose(colb_learner *l, const double *X, size_t K, size_t *arm)
{
    if (!l)
        return COLB_EINVAL;
    if (!arm)
        return colb__err(l->err, COLB_EINVAL, "choose: arm is NULL");
    colb_status st = prepare_scoring(l, X, K, K);
    if (st != COLB_OK)
        return st;
    double *sc = l->work + colb__ridge_scores_work(l->r.d, K);
    colb__ridge_scores(&l->r, 0, X, K, sc, l->work);
    *arm = colb__argmax(sc, K);
    return COLB_OK;
}

colb_status colb_learner_theta(const colb_learner *l, double *theta)
{
    if (!l || !theta)
        return COLB_EINVAL;
    memcpy(theta, l->r.theta, l->r.d * sizeof(double));
    return COLB_OK;
}

colb_status colb_learner_vinv(const colb_learner *l, double *vinv)
{
    if (!l || !vinv)
        return COLB_EINVAL;
    memcpy(vinv, l->r.A, l->r.d * l->r.d * sizeof(double));
    return COLB_OK;
}

double colb_learner_logdet(const colb_learner *l) { return l ? l->r.logdet[0] : NAN; }
double colb_learner_width(const colb_learner *l) { return l ? colb__ridge_width(&l->r, 0) : NAN; }
size_t colb_learner_dim(const colb_learner *l) { return l ? l->r.d : 0; }
uint64_t colb_learner_count(const colb_learner *l) { return l ? l->r.count[0] : 0; }

void colb_learner_get_params(const colb_learner *l, colb_learner_params *p)
{
    if (!l || !p)
        return;
    *p = l->r.p;
    p->noise = l->r.noise[0]; /* as set_noise and set_norm_bound left them */
    p->norm_bound = l->r.S[0];
}

double colb_learner_min_eig(const colb_learner *l)
{
    if (!l)
        return NAN;
    size_t d = l->r.d;
    double *M = colb__malloc(d * d + 2 * d, sizeof(double));
    if (!M)
        return NAN;
    memcpy(M, l->r.V, d * d * sizeof(double));
    double *ev = M + d * d;
    double r = colb__sym_eigvals(M, d, ev, ev + d) == 0 ? ev[0] : NAN;
    free(M);
    return r;
}

const char *colb_learner_last_error(const colb_learner *l)
{
    return l ? l->err : "";
}
