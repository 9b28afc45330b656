/* colb/rng.h - seedable random numbers with independent streams.
 *
 * The generator is xoshiro256++ (Blackman and Vigna, "Scrambled linear
 * pseudorandom number generators", 2021): 256 bits of state, period 2^256-1,
 * passes BigCrush and PractRand. A stream is the state obtained by hashing
 * (seed, stream id) with SplitMix64; every simulation draws from a stream
 * named by what it simulates (setting, repeat, role), never by a thread id,
 * which is what makes results independent of the number of threads.
 *
 * colb_rng is a small value type, not an opaque handle: it lives inside other
 * objects or on the stack and costs no allocation. Treat its fields as
 * private. One generator must not be used by two threads at once.
 *
 * These calls cannot fail, so they return draws, not a status. A NULL
 * generator (or a NULL output array) is no crash: the call draws nothing
 * and writes nothing, the integer draws return 0 and the real draws NaN
 * (which shows in any result it reaches). colb_rng_set_state alone
 * reports it, as COLB_EINVAL. */
#ifndef COLB_RNG_H
#define COLB_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct colb_rng {
    uint64_t s[4];      /* xoshiro256++ state (private) */
} colb_rng;

/* Seed `r` as stream `stream` of master seed `seed`. Distinct (seed, stream)
 * pairs give statistically independent sequences. Never fails (NULL r:
 * nothing happens). */
void colb_rng_seed(colb_rng *r, uint64_t seed, uint64_t stream);

/* Set the raw 256-bit state (for known-answer tests); the state must not be
 * all zero. Returns COLB_EINVAL on NULL or an all-zero state. */
colb_status colb_rng_set_state(colb_rng *r, const uint64_t state[4]);

/* Advance by 2^128 draws (the reference jump function): gives 2^128
 * non-overlapping subsequences of one seeded state. NULL r: nothing happens. */
void colb_rng_jump(colb_rng *r);

/* Next 64 random bits (0 for NULL r). */
uint64_t colb_rng_u64(colb_rng *r);

/* Uniform double in [0, 1) with 53 random bits (NaN for NULL r). */
double colb_rng_uniform(colb_rng *r);

/* Uniform integer in [0, n) without modulo bias (Lemire's multiply-and-reject
 * method). Returns 0 when n == 0 (or r is NULL). */
uint64_t colb_rng_below(colb_rng *r, uint64_t n);

/* Standard normal N(0, 1) by the Marsaglia polar method. The second variate of
 * each pair is discarded so that the generator carries no hidden cached value:
 * copying a colb_rng copies its whole future. NaN for NULL r. */
double colb_rng_normal(colb_rng *r);

/* Fill out[0..n) with i.i.d. N(0, sd^2). NULL r or out: nothing written. */
void colb_rng_normal_fill(colb_rng *r, double *out, size_t n, double sd);

/* A point uniform on the unit sphere S^{d-1} in R^d (normalised Gaussian),
 * into out[0..d). d = 0 (no sphere), NULL r or NULL out write nothing and
 * draw nothing. */
void colb_rng_sphere(colb_rng *r, double *out, size_t d);

/* Draw k distinct indices from [0, n) uniformly (partial Fisher-Yates on
 * `work`, which must hold n size_t and is overwritten); out[0..k) receives
 * them. k > n is taken as k = n (every index, in random order): out[0..n)
 * is written and out[n..k) left as it was. NULL r, work or out (or n = 0):
 * nothing written, nothing drawn. */
void colb_rng_sample(colb_rng *r, size_t n, size_t k, size_t *work, size_t *out);

#ifdef __cplusplus
}
#endif
#endif
