/* generations.h - which generation made which decision numbers. A
 * decision id is GEN-SEQ; the numbers go on from one generation to the
 * next (a start continues from the state's next number), so generation g
 * made exactly the numbers from the state's next number at its start to
 * the next generation's first. An id whose number its generation did not
 * make was never made here (unknown_decision), however old; one it made
 * that the window no longer holds has expired (expired_decision).
 *
 * The record keeps one entry per generation that made decisions (and the
 * current one): O(generations) memory, O(log generations) per look-up.
 * A state written by a colb serve that did not record its generations
 * (no block serve.generations) starts the record where its snapshot
 * stood: for the numbers below that, which generation made which is not
 * known (GEN_UNRECORDED). Owned by the writer thread. */
#ifndef COLB_SERVE_GENERATIONS_H
#define COLB_SERVE_GENERATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

typedef struct generations generations;

/* An empty record (no generation yet); NULL when out of memory. */
generations *generations_create(void);
void generations_free(generations *g);

/* Generation gen (above every recorded one) starts, its first decision
 * numbered next_seq. A previous generation that made no decision is
 * dropped from the record. 0, or -1 when out of memory (g unchanged). */
int generations_start(generations *g, uint32_t gen, uint64_t next_seq);

enum { GEN_NOT_MADE = 0, GEN_MADE = 1, GEN_UNRECORDED = 2 };

/* Whether generation id.gen made decision number id.seq, the state's next
 * number being next_seq: GEN_MADE, GEN_NOT_MADE, or GEN_UNRECORDED for a
 * number below the record's start of a generation that may have made it
 * (1 to the one the record started in). */
int generations_made(const generations *g, decision_id id, uint64_t next_seq);

/* Start the record of a state loaded from a snapshot without one: the
 * state in generation gen (0: none yet) with next_seq its next decision
 * number. 0, or -1 when out of memory. */
int generations_unrecorded(generations *g, uint32_t gen, uint64_t next_seq);

/* The block "serve.generations" of a snapshot (docs/serve.md): malloc'd
 * bytes in *out; 0 or -1 (out of memory). */
int generations_save(const generations *g, unsigned char **out, size_t *len);

/* Replace g's content with a saved block, checked against the state's
 * generation gen and next decision number next_seq. 0, or -1 with err
 * (malformed, or out of memory). */
int generations_load(generations *g, const unsigned char *p, size_t n, uint32_t gen, uint64_t next_seq, char *err,
                     size_t err_len);

#endif
