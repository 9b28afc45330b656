/* rng.c - xoshiro256++ with SplitMix64 seeding, and the samplers of
 * colb/rng.h. Reference: https://prng.di.unimi.it/ (Blackman and Vigna). */
#include "colb/rng.h"

#include <math.h>

#include "core/rng_inline.h"
#include "core/util.h"

/* SplitMix64 (Steele, Lea, Flood 2014): the seeding function recommended by
 * the xoshiro authors. */
uint64_t colb__splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void colb_rng_seed(colb_rng *r, uint64_t seed, uint64_t stream)
{
    if (!r)
        return;
    /* Hash the stream id into the seed with one SplitMix64 step of its own so
     * that (seed, stream) and (seed + 1, stream - 1) do not collide; then
     * expand to 256 bits. */
    uint64_t h = stream;
    uint64_t x = seed ^ colb__splitmix64(&h);
    for (int i = 0; i < 4; i++)
        r->s[i] = colb__splitmix64(&x);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1; /* unreachable in practice; the all-zero state is fixed */
}

colb_status colb_rng_set_state(colb_rng *r, const uint64_t state[4])
{
    if (!r || !state || (state[0] | state[1] | state[2] | state[3]) == 0)
        return COLB_EINVAL;
    for (int i = 0; i < 4; i++)
        r->s[i] = state[i];
    return COLB_OK;
}

uint64_t colb_rng_u64(colb_rng *r)
{
    return r ? colb__rng_u64(r) : 0;
}

void colb_rng_jump(colb_rng *r)
{
    static const uint64_t JUMP[] = { 0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                     0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL };
    if (!r)
        return;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 64; b++) {
            if (JUMP[i] & (UINT64_C(1) << b)) {
                s0 ^= r->s[0];
                s1 ^= r->s[1];
                s2 ^= r->s[2];
                s3 ^= r->s[3];
            }
            colb__rng_u64(r);
        }
    r->s[0] = s0;
    r->s[1] = s1;
    r->s[2] = s2;
    r->s[3] = s3;
}

/* Uniform in [0, 1) with 53 random bits (r not NULL). */
static inline double uniform(colb_rng *r)
{
    return (double)(colb__rng_u64(r) >> 11) * 0x1.0p-53;
}

double colb_rng_uniform(colb_rng *r)
{
    return r ? uniform(r) : NAN;
}

uint64_t colb_rng_below(colb_rng *r, uint64_t n)
{
    return r ? colb__rng_below(r, n) : 0;
}

/* The polar method's accepted point: u, and s = u^2 + v^2 in (0, 1). */
static inline double polar_point(colb_rng *r, double *s_out)
{
    double u, v, s;
    do {
        u = 2.0 * uniform(r) - 1.0;
        v = 2.0 * uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    *s_out = s;
    return u;
}

/* N(0, 1) (r not NULL). */
static double normal(colb_rng *r)
{
    double s, u = polar_point(r, &s);
    return u * sqrt(-2.0 * log(s) / s);
}

double colb_rng_normal(colb_rng *r)
{
    return r ? normal(r) : NAN;
}

/* colb_rng_normal n times, in two passes per chunk: the rejection loops
 * first (uniforms only: their mispredicted branches discard little work),
 * then the chunk's logarithms, divisions and square roots, independent of
 * one another (the core overlaps them). The same draws and the same
 * operations on them as n calls, so the same values. */
#define NORMAL_CHUNK 64
void colb_rng_normal_fill(colb_rng *r, double *out, size_t n, double sd)
{
    if (!r || !out)
        return;
    double us[NORMAL_CHUNK], ss[NORMAL_CHUNK];
    for (size_t i0 = 0; i0 < n; i0 += NORMAL_CHUNK) {
        size_t m = n - i0 < NORMAL_CHUNK ? n - i0 : NORMAL_CHUNK;
        for (size_t j = 0; j < m; j++)
            us[j] = polar_point(r, &ss[j]);
        for (size_t j = 0; j < m; j++)
            out[i0 + j] = sd * (us[j] * sqrt(-2.0 * log(ss[j]) / ss[j]));
    }
}

void colb_rng_sphere(colb_rng *r, double *out, size_t d)
{
    if (!r || !out || d == 0)
        return; /* d = 0: the norm would stay 0, the loop below would never end */
    double nrm2;
    do {
        nrm2 = 0.0;
        for (size_t i = 0; i < d; i++) {
            out[i] = normal(r);
            nrm2 += out[i] * out[i];
        }
    } while (nrm2 < 1e-300);
    double inv = 1.0 / sqrt(nrm2);
    for (size_t i = 0; i < d; i++)
        out[i] *= inv;
}

void colb_rng_sample(colb_rng *r, size_t n, size_t k, size_t *work, size_t *out)
{
    if (!r || !work || !out || n == 0)
        return;
    if (k > n)
        k = n;
    for (size_t i = 0; i < n; i++)
        work[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)colb__rng_below(r, n - i);
        size_t t = work[i];
        work[i] = work[j];
        work[j] = t;
        out[i] = work[i];
    }
}
