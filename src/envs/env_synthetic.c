/* env_synthetic.c - the paper's synthetic environments (Section 6.1 and 6.3):
 * linear rewards <theta_u, x> + N(0, sigma^2) with contexts i.i.d. N(0, I/d).
 *
 * Clustered: cluster sizes from colb_cluster_sizes (shares ~ l^{-z}); users
 * are assigned to clusters by a random permutation (so user ids carry no
 * information); each cluster's theta is uniform on the unit sphere.
 * Personalized: mu ~ N(0, I) and theta_u ~ N(mu, sigma_theta^2 I) (the paper,
 * where ||theta|| is about sqrt(d)); with `normalize`, everything is scaled
 * by 1/sqrt(d) (mu ~ N(0, I/d), theta_u ~ N(mu, sigma_theta^2 I/d), so
 * ||mu|| ~ 1 and ||theta_u - mu|| ~ sigma_theta) and each theta_u is then
 * projected onto the unit ball, matching the theory's ||theta|| <= 1.
 *
 * Randomness: thetas from stream COLB__STREAM_THETA, contexts from
 * COLB__STREAM_CONTEXT, noise from COLB__STREAM_NOISE (one value per user per
 * round, drawn whatever the users play: paired comparisons). A round can be
 * drawn ahead (colb__env_prefetch: the simulator does it while the policy
 * chooses) into a second set of buffers: the same streams in the same
 * order, so the same values. With a tape (env_tape.h) a round another
 * environment of the same seed has drawn is copied from it, the streams
 * set to their states after it. */
#include "envs/env_impl.h"

#include <string.h>

#include "linalg/soa_kernel.h"

typedef struct synth {
    size_t G;          /* number of distinct parameter vectors (L or N) */
    size_t *group;     /* N: row of theta used by user u */
    double *theta;     /* G x d */
    double *X;         /* K x d contexts of the round */
    double *mean;      /* G x K expected rewards of the round */
    double *best;      /* G: best expected reward of the round */
    double *noise;     /* N: this round's noise */
    double *Xt;        /* d x Kp: X transposed, zero padded (the means' scratch) */
    const colb__soa_kernel *kern;
    colb_rng ctx_rng, noise_rng;
    /* the next round drawn ahead (allocated at the first prefetch): its X,
     * mean, best, noise, valid when `ahead`; the streams' states before it
     * (what a snapshot saves, so that a loaded run draws it again) */
    double *X2, *mean2, *best2, *noise2;
    int ahead;
    colb_rng ctx_rng0, noise_rng0;
    colb__tape *tape;  /* the repeat's shared rounds, or NULL */
    uint64_t drawn;    /* rounds drawn or taken from the tape since it came */
} synth;

static void synth_destroy(colb_env *e)
{
    synth *s = e->impl;
    if (!s)
        return;
    free(s->group);
    free(s->theta);
    free(s->X);
    free(s->mean);
    free(s->best);
    free(s->noise);
    free(s->Xt);
    free(s->X2);
    free(s->mean2);
    free(s->best2);
    free(s->noise2);
    colb__tape_release(s->tape);
    free(s);
    e->impl = NULL;
}

/* Draw a round from the streams into X, noise and compute its mean, best. */
static void draw_round(colb_env *e, synth *s, double *X, double *noise, double *mean, double *best)
{
    size_t K = e->K, d = e->d;
    colb_rng_normal_fill(&s->ctx_rng, X, K * d, 1.0 / sqrt((double)d));
    colb_rng_normal_fill(&s->noise_rng, noise, e->N, e->p.noise);
    /* mean = Theta X^T by the kernel's colsum, not a DGEMM: each sum in one
     * fixed order, the same bits on every kernel path, so the rewards do not
     * depend on the BLAS's kernel choice (which follows the CPU model) */
    size_t Kp = colb__soa_padded(K);
    colb__soa_transpose(X, K, d, Kp, s->Xt);
    for (size_t g = 0; g < s->G; g++)
        s->kern->colsum(s->Xt, Kp, s->theta + g * d, d, K, mean + g * K);
    for (size_t g = 0; g < s->G; g++) {
        const double *m = mean + g * K;
        best[g] = m[colb__argmax(m, K)];
    }
}

/* A round's segments on a tape of N users, G parameter groups, K arms of
 * dimension d: X, noise, mean, best; and the two streams' states after it
 * (8 words). */
static void segs_of(size_t N, size_t G, size_t K, size_t d, size_t seg[COLB__TAPE_SEGS])
{
    seg[0] = K * d;
    seg[1] = N;
    seg[2] = G * K;
    seg[3] = G;
}

static void tape_segs(const colb_env *e, const synth *s, size_t seg[COLB__TAPE_SEGS])
{
    segs_of(e->N, s->G, e->K, e->d, seg);
}

int colb__env_params_tape_shape(const colb_env_params *p, size_t seg[COLB__TAPE_SEGS], size_t *words)
{
    if (!p || (p->kind != COLB_ENV_CLUSTERED && p->kind != COLB_ENV_PERSONALIZED))
        return 0;
    segs_of(p->users, p->kind == COLB_ENV_CLUSTERED ? p->clusters : p->users, p->arms, p->dim, seg);
    *words = 8;
    return 1;
}

/* draw_round, or the round from the tape when another environment of the
 * repeat has drawn it (then recorded when this one draws it first; its
 * time counted in e->tape_draw_s). */
static void next_of(colb_env *e, synth *s, double *X, double *noise, double *mean, double *best)
{
    if (!s->tape) {
        draw_round(e, s, X, noise, mean, best);
        return;
    }
    double *const out[COLB__TAPE_SEGS] = { X, noise, mean, best };
    uint64_t w[8];
    size_t t = (size_t)s->drawn++;
    if (colb__tape_get(s->tape, t, out, w)) {
        memcpy(s->ctx_rng.s, w, sizeof s->ctx_rng.s);
        memcpy(s->noise_rng.s, w + 4, sizeof s->noise_rng.s);
        return;
    }
    double t0 = colb__now_s();
    draw_round(e, s, X, noise, mean, best);
    memcpy(w, s->ctx_rng.s, sizeof s->ctx_rng.s);
    memcpy(w + 4, s->noise_rng.s, sizeof s->noise_rng.s);
    colb__tape_put(s->tape, t, (const double *const *)out, w);
    e->tape_draw_s += colb__now_s() - t0;
}

static int synth_tape_shape(const colb_env *e, size_t seg[COLB__TAPE_SEGS], size_t *words)
{
    tape_segs(e, e->impl, seg);
    *words = 8;
    return 1;
}

static void synth_attach_tape(colb_env *e, colb__tape *t)
{
    synth *s = e->impl;
    size_t seg[COLB__TAPE_SEGS];
    tape_segs(e, s, seg);
    if (s->tape || e->rounds || s->ahead || !colb__tape_fits(t, seg, 8))
        return; /* only from the first round */
    colb__tape_retain(t);
    s->tape = t;
    s->drawn = 0;
}

static void swap(double **a, double **b)
{
    double *t = *a;
    *a = *b;
    *b = t;
}

static colb_status synth_next_round(colb_env *e)
{
    synth *s = e->impl;
    if (!s->ahead) {
        next_of(e, s, s->X, s->noise, s->mean, s->best);
        return COLB_OK;
    }
    swap(&s->X, &s->X2);
    swap(&s->noise, &s->noise2);
    swap(&s->mean, &s->mean2);
    swap(&s->best, &s->best2);
    s->ahead = 0;
    return COLB_OK;
}

/* The next round into the spare buffers (allocated here; out of memory: no
 * prefetch, the round is drawn when it comes). */
static void synth_prefetch(colb_env *e)
{
    synth *s = e->impl;
    if (s->ahead)
        return;
    if (!s->X2) {
        s->X2 = colb__malloc(e->K, e->d * sizeof(double));
        s->mean2 = colb__malloc(s->G, e->K * sizeof(double));
        s->best2 = colb__malloc(s->G, sizeof(double));
        s->noise2 = colb__malloc(e->N, sizeof(double));
        if (!s->X2 || !s->mean2 || !s->best2 || !s->noise2) {
            free(s->X2);
            free(s->mean2);
            free(s->best2);
            free(s->noise2);
            s->X2 = s->mean2 = s->best2 = s->noise2 = NULL;
            return;
        }
    }
    s->ctx_rng0 = s->ctx_rng;
    s->noise_rng0 = s->noise_rng;
    next_of(e, s, s->X2, s->noise2, s->mean2, s->best2);
    s->ahead = 1;
}

static const double *synth_contexts(colb_env *e, size_t u)
{
    (void)u;
    return ((synth *)e->impl)->X;
}

static double synth_reward(const colb_env *e, size_t u, size_t k)
{
    const synth *s = e->impl;
    return s->mean[s->group[u] * e->K + k] + s->noise[u];
}

static double synth_regret(const colb_env *e, size_t u, size_t k)
{
    const synth *s = e->impl;
    size_t g = s->group[u];
    return s->best[g] - s->mean[g * e->K + k];
}

/* synth_reward and synth_regret of every user in one loop (the same sums). */
static void synth_outcomes(const colb_env *e, const size_t *arms, double *rewards, double *regret)
{
    const synth *s = e->impl;
    size_t K = e->K;
    double sum = 0.0;
    for (size_t u = 0; u < e->N; u++) {
        size_t g = s->group[u];
        if (arms[u] >= K) { /* as colb_env_reward, colb_env_regret */
            rewards[u] = NAN;
            sum += NAN;
            continue;
        }
        double m = s->mean[g * K + arms[u]];
        rewards[u] = m + s->noise[u];
        sum += s->best[g] - m;
    }
    *regret = sum;
}

static colb_status synth_theta(const colb_env *e, size_t u, double *theta)
{
    const synth *s = e->impl;
    memcpy(theta, s->theta + s->group[u] * e->d, e->d * sizeof(double));
    return COLB_OK;
}

/* Everything but the parameters: the users' parameters and their map, the
 * current round, the two streams (the theta stream is used up at creation;
 * a round drawn ahead is not saved: the streams as they were before it). */
static colb_status synth_save(const colb_env *e, colb__snap_out *w)
{
    const synth *s = e->impl;
    colb__snap_u64(w, "groups", s->G);
    colb__snap_sizes(w, "group", s->group, e->N);
    colb__snap_f64s(w, "theta", s->theta, s->G * e->d);
    colb__snap_f64s(w, "contexts", s->X, e->K * e->d);
    colb__snap_f64s(w, "mean", s->mean, s->G * e->K);
    colb__snap_f64s(w, "best", s->best, s->G);
    colb__snap_f64s(w, "noise", s->noise, e->N);
    colb__snap_u64s(w, "context_rng", (s->ahead ? &s->ctx_rng0 : &s->ctx_rng)->s, 4);
    colb__snap_u64s(w, "noise_rng", (s->ahead ? &s->noise_rng0 : &s->noise_rng)->s, 4);
    return colb__snap_status(w);
}

/* The round's means and best means, which a snapshot holds, are those its
 * parameters and contexts give (draw_round's sums, the same bits on every
 * path): the regret is best - mean, so values that do not follow would
 * make it negative. Before the first round they are the zeros
 * colb_env_create left (X may hold draw_personalized's scratch). COLB_EPARSE
 * otherwise, COLB_ENOMEM. */
static colb_status check_means(colb_env *e, synth *s, colb__snap_in *in)
{
    size_t K = e->K, d = e->d, Kp = colb__soa_padded(K);
    double *m = colb__calloc(Kp, sizeof(double));
    if (!m)
        return COLB_ENOMEM;
    colb__soa_transpose(s->X, K, d, Kp, s->Xt);
    colb_status st = COLB_OK;
    for (size_t g = 0; g < s->G && st == COLB_OK; g++) {
        if (e->rounds > 0)
            s->kern->colsum(s->Xt, Kp, s->theta + g * d, d, K, m);
        int same = (e->rounds > 0 ? m[colb__argmax(m, K)] : 0.0) == s->best[g];
        for (size_t k = 0; k < K; k++)
            same &= m[k] == s->mean[g * K + k];
        if (!same)
            st = colb__snap_error(in, COLB_EPARSE, "snapshot: the environment's means of group %zu do not "
                                  "follow from its parameters and the round's contexts", g);
    }
    free(m);
    return st;
}

static colb_status synth_restore(colb_env *e, colb__snap_in *in, const colb__snap_group *g)
{
    synth *s = e->impl;
    size_t G = 0;
    uint64_t rc[4], rn[4];
    colb_status st = colb__snap_get_size(in, g, "groups", s->G, s->G, &G);
    if (st == COLB_OK)
        st = colb__snap_get_sizes(in, g, "group", s->group, e->N, s->G);
    /* on the unit sphere or in the unit ball, rounding aside; the paper's
     * personalized users' are Gaussian, held within the bound of a model's
     * state, which keeps their means finite */
    double tmax = e->p.kind == COLB_ENV_CLUSTERED || e->p.normalize ? 1.0 + 1e-9 : COLB__SNAP_MODEL_MAX;
    if (st == COLB_OK)
        st = colb__snap_get_f64s_within(in, g, "theta", s->theta, s->G * e->d, tmax);
    if (st == COLB_OK)
        st = colb__snap_get_f64s_within(in, g, "contexts", s->X, e->K * e->d, COLB_CONTEXT_MAX);
    if (st == COLB_OK)
        st = colb__snap_get_f64s(in, g, "mean", s->mean, s->G * e->K, 0);
    if (st == COLB_OK)
        st = colb__snap_get_f64s(in, g, "best", s->best, s->G, 0);
    if (st == COLB_OK)
        st = colb__snap_get_f64s(in, g, "noise", s->noise, e->N, 0);
    if (st == COLB_OK)
        st = colb__snap_get_u64s(in, g, "context_rng", rc, 4);
    if (st == COLB_OK)
        st = colb__snap_get_u64s(in, g, "noise_rng", rn, 4);
    s->ahead = 0;
    if (st == COLB_OK && (colb_rng_set_state(&s->ctx_rng, rc) != COLB_OK ||
                          colb_rng_set_state(&s->noise_rng, rn) != COLB_OK))
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: an environment stream's state is zero");
    if (st == COLB_OK && e->labels && memcmp(e->labels, s->group, e->N * sizeof(size_t)))
        st = colb__snap_error(in, COLB_EPARSE, "snapshot: the users' clusters differ from their "
                              "parameter groups");
    if (st == COLB_OK)
        st = check_means(e, s, in);
    return st;
}

static const colb__env_vt synth_vt = {
    .name = "synthetic",
    .next_round = synth_next_round,
    .prefetch = synth_prefetch,
    .outcomes = synth_outcomes,
    .contexts = synth_contexts,
    .reward = synth_reward,
    .regret = synth_regret,
    .theta = synth_theta,
    .destroy = synth_destroy,
    .save = synth_save,
    .restore = synth_restore,
    .tape_shape = synth_tape_shape,
    .attach_tape = synth_attach_tape,
};

static void draw_clustered(colb_env *e, synth *s, colb_rng *r, const size_t *sizes)
{
    size_t N = e->N, d = e->d, u = 0;
    for (size_t l = 0; l < s->G; l++) {
        colb_rng_sphere(r, s->theta + l * d, d);
        for (size_t j = 0; j < sizes[l]; j++)
            e->labels[u++] = l;
    }
    for (size_t i = N; i-- > 1;) { /* Fisher-Yates: random user -> cluster map */
        size_t j = (size_t)colb_rng_below(r, i + 1), t = e->labels[i];
        e->labels[i] = e->labels[j];
        e->labels[j] = t;
    }
    memcpy(s->group, e->labels, N * sizeof(size_t));
}

static void draw_personalized(colb_env *e, synth *s, colb_rng *r)
{
    size_t N = e->N, d = e->d;
    double scale = e->p.normalize ? 1.0 / sqrt((double)d) : 1.0;
    double *mu = s->X; /* scratch: X is K x d >= d */
    colb_rng_normal_fill(r, mu, d, scale);
    for (size_t u = 0; u < N; u++) {
        double *th = s->theta + u * d, nrm = 0.0;
        for (size_t j = 0; j < d; j++) {
            th[j] = mu[j] + e->p.sigma_theta * scale * colb_rng_normal(r);
            nrm += th[j] * th[j];
        }
        if (e->p.normalize && nrm > 1.0)
            for (size_t j = 0; j < d; j++)
                th[j] /= sqrt(nrm);
        s->group[u] = u;
    }
}

colb_status colb_env_create(const colb_env_params *p, uint64_t seed, colb_env **out, char *msg,
                            size_t msg_len)
{
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL output pointer");
    *out = NULL;
    colb_status st = colb_env_params_check(p, msg, msg_len);
    if (st != COLB_OK)
        return st;
    size_t N = p->users, d = p->dim, K = p->arms;
    int clustered = p->kind == COLB_ENV_CLUSTERED;
    colb_env *e = colb__env_alloc(&synth_vt, p, N, d, K, 1, seed);
    synth *s = calloc(1, sizeof *s);
    size_t *sizes = clustered ? colb__malloc(p->clusters, sizeof(size_t)) : NULL;
    if (!e || !s || (clustered && !sizes)) {
        free(e);
        free(s);
        free(sizes);
        goto nomem;
    }
    e->impl = s;
    s->G = clustered ? p->clusters : N;
    s->group = colb__malloc(N, sizeof(size_t));
    s->theta = colb__malloc(s->G, d * sizeof(double));
    /* zeroed: a snapshot taken before the first round holds defined bytes */
    s->X = colb__calloc(K > 1 ? K : 1, d * sizeof(double));
    s->mean = colb__calloc(s->G, K * sizeof(double));
    s->best = colb__calloc(s->G, sizeof(double));
    s->noise = colb__calloc(N, sizeof(double));
    s->Xt = colb__malloc(colb__soa_padded(K), d * sizeof(double));
    /* colsum is the same bits on every path: an unusable COLB_KERNEL falls
     * back to the best path this CPU runs */
    s->kern = colb__soa_env_kernel();
    if (clustered)
        e->labels = colb__malloc(N, sizeof(size_t));
    if (!s->group || !s->theta || !s->X || !s->mean || !s->best || !s->noise || !s->Xt ||
        (clustered && !e->labels)) {
        free(sizes);
        colb_env_free(e);
        goto nomem;
    }
    colb_rng r;
    colb_rng_seed(&r, seed, COLB__STREAM_THETA);
    colb_rng_seed(&s->ctx_rng, seed, COLB__STREAM_CONTEXT);
    colb_rng_seed(&s->noise_rng, seed, COLB__STREAM_NOISE);
    if (clustered) {
        colb_cluster_sizes_rule(N, p->clusters, p->zipf, p->cluster_sizes, sizes);
        e->n_clusters = p->clusters;
        draw_clustered(e, s, &r, sizes);
        free(sizes);
    } else {
        draw_personalized(e, s, &r);
    }
    *out = e;
    return COLB_OK;
nomem:
    if (msg && msg_len)
        snprintf(msg, msg_len, "out of memory for %zu users", N);
    return COLB_ENOMEM;
}
