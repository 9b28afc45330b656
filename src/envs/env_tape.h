/* env_tape.h - one repeat's rounds, drawn once and replayed by every
 * environment of that repeat (internal).
 *
 * The simulator plays each repeat once per policy, on environments made from
 * the same seed; a synthetic environment's rounds do not depend on what is
 * played (its streams are drawn in a fixed order, colb/env.h), so the jobs
 * of one repeat can share them. The first environment to reach round t
 * draws it and records it here; the others copy it (about 8 KB at N = 400,
 * against 775 normal draws and the round's means: ~8 us). A round is its
 * values as drawn, so every result is bit for bit that of environments that
 * draw each round themselves. Thread-safe: the jobs of a repeat run on
 * several threads; a round, once recorded, never changes. */
#ifndef COLB_ENV_TAPE_H
#define COLB_ENV_TAPE_H

#include <stddef.h>
#include <stdint.h>

#define COLB__TAPE_SEGS 4

/* The most bytes a tape is made with (T rounds of an environment: 8 MB at
 * N = 400, d = 15, K = 25, T = 1000); beyond, its users draw their own.
 * The simulator's memory estimate counts its tapes (colb_sim_memory); it
 * makes none when the run fits its memory budget only without them. */
#define COLB__TAPE_MAX_BYTES (64.0 * 1024 * 1024)

typedef struct colb__tape colb__tape;

/* The bytes a tape of `rounds` rounds of the segments seg[0..COLB__TAPE_SEGS)
 * (doubles each) and `words` 64-bit words takes. */
double colb__tape_bytes(size_t rounds, const size_t seg[COLB__TAPE_SEGS], size_t words);

/* An empty tape for `rounds` rounds of that shape, one reference held by
 * the caller; NULL when out of memory. */
colb__tape *colb__tape_create(size_t rounds, const size_t seg[COLB__TAPE_SEGS], size_t words);

/* 1 when the tape has the shape (its environments must agree). */
int colb__tape_fits(const colb__tape *t, const size_t seg[COLB__TAPE_SEGS], size_t words);

/* Another reference; colb__tape_release drops one and frees the tape with
 * the last. NULL harmless. */
void colb__tape_retain(colb__tape *t);
void colb__tape_release(colb__tape *t);

/* Round `round` (from 0) into out[i] (seg[i] doubles each) and words, when
 * recorded: 1; else 0 and nothing written. */
int colb__tape_get(colb__tape *t, size_t round, double *const out[COLB__TAPE_SEGS], uint64_t *words);

/* Record round `round` from in[i] and words if it is the next one the tape
 * lacks (another environment may have recorded it meanwhile: then nothing;
 * a round past the tape's end: nothing). */
void colb__tape_put(colb__tape *t, size_t round, const double *const in[COLB__TAPE_SEGS],
                    const uint64_t *words);

#endif
