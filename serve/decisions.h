/* decisions.h - the decisions that can still be rewarded: the last W
 * decisions (the window), each with its user and the context of the arm
 * chosen, which is what the reward's update needs. Decision number s lives
 * in slot s mod W until decision s + W takes the slot over; a reward for
 * it after that is "expired". Owned by the writer thread.
 *
 * Snapshots (decisions_capture) take the window as it is without copying
 * it: the slots live in chunks of DECISIONS_CHUNK decisions shared, by
 * reference count, between the window and the captures still being
 * written; the writer copies a shared chunk before it changes it (copy on
 * write, one chunk at a time, as the ring reaches it). The rewarded flags,
 * which change anywhere in the window, are a bitmap copied whole by a
 * capture (W / 8 bytes). */
#ifndef COLB_SERVE_DECISIONS_H
#define COLB_SERVE_DECISIONS_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

typedef enum dec_status {
    DEC_PENDING = 0,   /* known, not rewarded yet */
    DEC_UNKNOWN,       /* never made here (or made by a generation whose log was lost in a crash) */
    DEC_EXPIRED,       /* made here, and no longer in the window */
    DEC_REWARDED       /* rewarded already */
} dec_status;

typedef struct decisions decisions;

/* A window of W >= 1 decisions in dimension d; NULL when out of memory
 * (W (8 d + 20) bytes, in pages touched as decisions reach them, and up to
 * half as much again for the copies of chunks that captures hold; W / 4
 * for the rewarded flags and their copy for a first capture, W / 7,700
 * for what a capture needs). */
decisions *decisions_create(size_t window, size_t d);
void decisions_free(decisions *r);
size_t decisions_window(const decisions *r);

/* Record decision `id` of user `user` with chosen context x (d values). */
void decisions_put(decisions *r, decision_id id, uint64_t user, const double *x);

/* The state of decision id in the window: DEC_PENDING (then its user and
 * context, valid until the next put), DEC_REWARDED, or DEC_UNKNOWN when
 * the window does not hold it - whether it was made here and has expired
 * is for the generations' record to say (generations.h). */
dec_status decisions_find(const decisions *r, decision_id id, uint64_t *user, const double **x);

/* 1 when decision number seq, if it was made, has left the window at
 * next_seq: it is older than the window and its slot holds a later
 * decision. How a number whose generation is not recorded (a state from
 * an older colb serve, GEN_UNRECORDED) is told expired from unknown. */
int decisions_passed(const decisions *r, uint64_t seq, uint64_t next_seq);

/* Mark a pending decision rewarded. */
void decisions_mark_rewarded(decisions *r, decision_id id);

/* A window of another size with the same recent decisions (those that fit);
 * NULL when out of memory (r is kept then). Frees r on success. */
decisions *decisions_resize(decisions *r, size_t window, uint64_t next_seq);

/* Decisions per chunk (the last chunk of a window may hold fewer). */
#define DECISIONS_CHUNK 4096

/* The window as it is now, for a snapshot written by another thread: the
 * chunks are shared (not copied), the rewarded flags copied. Cost O(W / 64)
 * (the flags) + O(W / DECISIONS_CHUNK). NULL when out of memory. Any thread
 * may save and free a capture while the writer goes on with the window,
 * but not a fork()ed child: the chunks are not in its memory.
 * below: the capture is for the decisions numbered below it (UINT64_MAX:
 * all; a snapshot leaves the later ones to the log): it shares only the
 * chunks that may hold one, so the writer copies no other chunk. A chunk
 * is known to hold none once every one of its slots was put since the
 * first put numbered `below` or later (decisions are numbered in order);
 * with a window of W decisions and a log that keeps more than the last
 * 2 W decisions, no chunk is shared. */
typedef struct decisions_image decisions_image;
decisions_image *decisions_capture(decisions *r, uint64_t below);
void decisions_image_free(decisions_image *im);
/* How many of the window's chunks a capture still shares (the writer
 * copies each of them before it puts a decision into it). Writer. */
size_t decisions_shared_chunks(const decisions *r);
/* Chunk c's memory (its bytes in *bytes): for the tests, which check
 * that a fork()ed child does not inherit it. */
const void *decisions_chunk_memory(const decisions *r, size_t c, size_t *bytes);

/* The block "serve.decisions" of a snapshot (docs/serve.md) of a capture,
 * its decisions numbered below `below` only (UINT64_MAX: all); -1 when out
 * of memory, or when below is above the capture's (which may not hold
 * those decisions). */
int decisions_image_save(const decisions_image *im, uint64_t below, unsigned char **out, size_t *len);

/* Decisions a snapshot leaves to the log (docs/serve.md, "the window in
 * the log"): those numbered from seq_from to next_seq - 1, all of
 * generation gen, made by the log's records from lsn on. The snapshot holds
 * their rewarded flags (from bits_from = max(seq_from, next_seq - W): the
 * older ones have left the window); a restart reads their users and
 * contexts from the log's choose records. */
typedef struct decisions_ref {
    uint64_t lsn;          /* 0: none (the snapshot holds every decision) */
    uint64_t seq_from, bits_from, next_seq;
    uint32_t gen;
} decisions_ref;

/* The block "serve.window_log" of a capture for ref (ref->bits_from set
 * here); -1 when out of memory. */
int decisions_image_save_ref(const decisions_image *im, decisions_ref *ref, unsigned char **out, size_t *len);
/* ref and its rewarded flags (*bits, malloc'd, words of 64) from a saved
 * block, checked against a window of W decisions at next_seq; -1 with err. */
int decisions_ref_load(const unsigned char *p, size_t n, size_t W, uint64_t next_seq, decisions_ref *ref,
                       uint64_t **bits, char *err, size_t err_len);
/* After ref's decisions were put again (from the log), their rewarded flags. */
void decisions_ref_mark(decisions *r, const decisions_ref *ref, const uint64_t *bits);
/* The largest window (--decision-window's bound): a saved block that
 * claims more is malformed, not a window to allocate. */
#define DECISIONS_WINDOW_MAX 1000000000u

/* A window from a saved block of a state of `users` users (each
 * decision's user is a slot below it) whose next decision is numbered
 * next_seq; *stored (unless NULL) receives the block's window W. With
 * `window` 0 or at least W, the window is W, as saved. With a smaller one
 * it is of that size and holds what decisions_resize(window, next_seq)
 * of the saved one would - the decisions numbered from next_seq - window
 * on - without the W-decision window ever being allocated. NULL with err
 * (malformed, or out of memory). */
decisions *decisions_load(const unsigned char *p, size_t n, size_t d, uint64_t users, size_t window,
                          uint64_t next_seq, size_t *stored, char *err, size_t err_len);

#endif
