/* records.h - the payloads of the write-ahead log's records (the framing,
 * checksums and segments are wal.h's; the layouts are tabled in
 * docs/serve.md). Every change of the served state is one record, written
 * by the one writer thread in the order it applied them, so that applying
 * the records again in log order rebuilds the state bit for bit:
 *
 *   START   a server generation begins (a start of colb serve), with the
 *           decision window in force from then on;
 *   USERS   users seen for the first time, in slot order;
 *   CHOOSE  one round: its contexts, its users (slots), the arms chosen and
 *           the first decision number (the round's users get consecutive
 *           numbers);
 *   CHOSEN  the same round of a policy whose choices leave no state
 *           (colb_policy_choices_leave_no_state), with the chosen contexts
 *           only, one a user: a replay runs the round without choices;
 *   REWARD  rewards applied, each to a pending decision, in order.
 *
 * Decoders check every length against the payload and return -1 on a
 * malformed one; the decoded structs point into the payload. */
#ifndef COLB_SERVE_RECORDS_H
#define COLB_SERVE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

enum { REC_START = 1, REC_USERS = 2, REC_CHOOSE = 3, REC_REWARD = 4, REC_CHOSEN = 5 };

typedef struct rec_start {
    uint32_t gen;
    uint64_t window;
    uint64_t unix_ms;        /* informational */
} rec_start;

typedef struct rec_users {
    uint64_t first_slot;
    size_t n;
    const unsigned char *ids; /* n x (u32 length, bytes) */
} rec_users;

typedef struct rec_choose {
    decision_id first;       /* the first user's decision; the others follow */
    size_t K, n, d;
    int chosen;              /* a CHOSEN record: X holds n contexts, user i's in row i */
    const unsigned char *slots, *arms, *X; /* n u64, n u32, K*d (CHOSEN: n*d) f64 */
} rec_choose;

typedef struct rec_reward {
    size_t n;
    const unsigned char *items; /* n x (u64 seq, u32 gen, u32 0, f64 reward) */
} rec_reward;

/* Sizes and encoders (p has the size's bytes). */
size_t rec_start_size(void);
void rec_start_put(unsigned char *p, const rec_start *r);
size_t rec_users_size(size_t n, size_t id_bytes);
/* the header; then the ids one by one with rec_users_put_id */
unsigned char *rec_users_put(unsigned char *p, uint64_t first_slot, size_t n);
unsigned char *rec_users_put_id(unsigned char *p, const char *id, size_t len);
size_t rec_choose_size(size_t n, size_t K, size_t d);
void rec_choose_put(unsigned char *p, decision_id first, size_t K, size_t d, const double *X, size_t n,
                    const uint64_t *slots, const uint32_t *arms);
/* CHOSEN: as CHOOSE, but the contexts of the arms chosen, arms[i]'s for
 * user i, in place of the round's K */
size_t rec_chosen_size(size_t n, size_t d);
void rec_chosen_put(unsigned char *p, decision_id first, size_t K, size_t d, const double *X, size_t n,
                    const uint64_t *slots, const uint32_t *arms);
size_t rec_reward_size(size_t n);
unsigned char *rec_reward_put(unsigned char *p, size_t n);
unsigned char *rec_reward_put_item(unsigned char *p, decision_id id, double y);

/* Decoders. */
int rec_start_get(const unsigned char *p, size_t len, rec_start *r);
int rec_users_get(const unsigned char *p, size_t len, rec_users *r);
/* the next id of a users record: *pos starts at 0 */
const char *rec_users_id(const rec_users *r, size_t *pos, size_t *len);
/* -1 also for a context no request could send (NaN, Inf, beyond
 * COLB_CONTEXT_MAX), though the record's checksum holds */
int rec_choose_get(const unsigned char *p, size_t len, size_t d, rec_choose *r);
int rec_chosen_get(const unsigned char *p, size_t len, size_t d, rec_choose *r);
uint64_t rec_choose_slot(const rec_choose *r, size_t i);
uint32_t rec_choose_arm(const rec_choose *r, size_t i);
/* how many contexts the record holds: K (CHOSEN: n, one a user) */
size_t rec_choose_rows(const rec_choose *r);
/* the record's contexts: rec_choose_rows x d */
void rec_choose_contexts(const rec_choose *r, double *X);
/* the record's context in row `row` (d values): an arm's for CHOOSE, a
 * user's for CHOSEN */
void rec_choose_context(const rec_choose *r, size_t row, double *x);
/* the context user i was given (d values), CHOOSE or CHOSEN */
void rec_choose_user_context(const rec_choose *r, size_t i, double *x);
int rec_reward_get(const unsigned char *p, size_t len, rec_reward *r);
void rec_reward_item(const rec_reward *r, size_t i, decision_id *id, double *y);

#endif
