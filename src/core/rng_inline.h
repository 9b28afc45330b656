/* rng_inline.h - the generator's step and bounded draw of colb/rng.h as
 * inline functions, for the library's inner loops (a logged round's
 * sampling draws ~50 integers per user turn). Why: colb_rng_below and
 * colb_rng_u64 are calls into rng.c that load and store the 256-bit state
 * each time; inlined on a local copy of the generator, the state stays in
 * registers across a loop. The same values as the public functions, which
 * are these. Internal: colb__ prefix. */
#ifndef COLB_RNG_INLINE_H
#define COLB_RNG_INLINE_H

#include <stdint.h>

#include "colb/rng.h"

static inline uint64_t colb__rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256++'s step (https://prng.di.unimi.it/, Blackman and Vigna). */
static inline uint64_t colb__rng_u64(colb_rng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = colb__rotl64(s[0] + s[3], 23) + s[0];
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = colb__rotl64(s[3], 45);
    return result;
}

/* Uniform in [0, n), 0 when n == 0: Lemire, "Fast random integer generation
 * in an interval", ACM TOMACS 2019 - the high word of a 128-bit product,
 * rejecting the few low words that would bias it. */
static inline uint64_t colb__rng_below(colb_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    unsigned __int128 m = (unsigned __int128)colb__rng_u64(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t thresh = (0 - n) % n;
        while (lo < thresh) {
            m = (unsigned __int128)colb__rng_u64(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

#endif
