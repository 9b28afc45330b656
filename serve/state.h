/* state.h - the served state and every change to it, deterministic: the
 * policy, the users, the window of decisions, the counters. The writer
 * thread changes it live, recovery changes it by replaying log records
 * (state_apply), and both go through the same functions, so that the state
 * a replay rebuilds is the state the live server had, bit for bit.
 *
 * The mapping of colb's rounds onto requests (docs/serve.md, "Consistency
 * model"):
 *   - the users of a request seen for the first time are added first, in
 *     order of first appearance, by one colb_policy_add_users call (the
 *     policy is created with them when it has no users yet);
 *   - each round of a choose request is a round of the policy:
 *     begin_round(contexts), choose for each of its users in order,
 *     end_round - without observations;
 *   - each reward is colb_policy_update(user, chosen context, reward): a
 *     one-user round with the one context the decision chose. */
#ifndef COLB_SERVE_STATE_H
#define COLB_SERVE_STATE_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "colb/colb.h"
#include "codec.h"
#include "config.h"
#include "decisions.h"
#include "generations.h"
#include "users.h"

typedef struct state {
    char policy[SERVE_NAME_LEN];
    colb_policy_params pp;
    char options[SERVE_OPTS_LEN]; /* serve_config_policy_text of the run that created it */
    size_t d;
    colb_policy *p;               /* NULL until the first user arrives */
    users *users;
    decisions *dec;
    generations *gens;            /* which generation made which decision numbers */
    uint64_t lsn;                 /* the last log record applied */
    uint32_t gen;                 /* the generation (start) the state is in */
    uint64_t next_seq;            /* the next decision's number (from 1) */
    uint64_t decisions, rewards;
    uint64_t arm_mismatches;      /* replayed rounds that chose another arm than logged */
    int fenced;                   /* the policy failed numerically: no more changes */
    char fence_msg[256];
    size_t round_K;               /* the most arms passed for the users known (0: none) */
    double *X;                    /* scratch: decoded contexts */
    size_t X_cap;
    size_t *labels;               /* scratch: clusters */
    size_t labels_cap;
    void *policy_buf;             /* the policy's last capture (state_capture) */
    size_t policy_cap;
    /* decisions the loaded snapshot left to the log (state_fill) */
    decisions_ref fill;           /* fill.lsn 0: none (left) */
    uint64_t fill_seq;            /* the decision the next choose record must make */
    uint64_t *fill_bits;          /* their rewarded flags */
    int fill_gap;                 /* records of them were lost (state_fill_lost): the next choose may skip */
    struct { uint32_t gen; uint64_t from, to; } *lost; /* decisions from..to - 1 lost with them */
    size_t n_lost;
    uint64_t lost_stretches;      /* state_fill_lost calls */
    uint64_t lost_decisions, lost_rewards; /* lost; rewards of lost ones the replay could not apply */
    char kernel[16];              /* the kernel path (colb_kernel_path) the loaded snapshot was written
                                     on; "" when not recorded (a state from before it was) */
} state;

/* A new, empty state for the policy of c. 0, or -1 with err. */
int state_init(state *s, const serve_config *c, char *err, size_t err_len);

/* 0 when c's policy takes c's policy options (as state_init checks them),
 * else -1 with "policy options: ..." in err. */
int state_check_options(const serve_config *c, char *err, size_t err_len);
void state_free(state *s);

/* Status of a change that did not happen (the HTTP status to answer). */
#define STATE_FULL 507     /* user limit or memory budget */
#define STATE_FAILED 500   /* the policy failed numerically */

/* Add the ids among ids[0..n) not known yet (each once, in order),
 * creating the policy with them if it has no users. K > 0: they come for
 * rounds of up to K arms, which must fit the memory budget with them (the
 * check colb_policy_begin_round will make: colb_policy_round_check_for,
 * before the policy changes); 0 (a replay): no round checked. All or
 * nothing: on failure nothing is added and *why says why. 0 (*added new
 * users from slot *first; slots, unless NULL, gets the slot of every id),
 * or STATE_FULL. */
int state_add_users(state *s, const char *const *ids, const size_t *lens, size_t n, size_t max_users, size_t K,
                    uint64_t *slots, size_t *first, size_t *added, char *why, size_t why_len);

/* 0 when rounds of up to K arms fit the policy's memory budget with the
 * users known (the check colb_policy_begin_round makes:
 * colb_policy_round_check_for, on the state's parameters, so also before
 * the policy exists), else STATE_FULL with *why. Changes nothing a
 * snapshot or a replay sees (only round_K): a request is checked before
 * its users are added (and state_add_users checks its new users with its
 * rounds). O(1); the budget is checked again only for a K above any
 * passed since users were last added. */
int state_round_check(state *s, size_t K, char *why, size_t why_len);

/* One round: contexts X (K x d) for the users of slots[0..n). arms[i]
 * receives each user's arm; when `logged` is given (replay), the decisions
 * record the logged arms (a replay on another machine may round
 * differently; the log is the truth) and mismatches are counted. chosen
 * (replaying a CHOSEN record, with logged): X holds n contexts, user i's
 * chosen one in row i (K is n), and the round runs without choices - what
 * the live round left, for a policy whose choices leave no state. *first
 * receives the first decision id. 0; -1 when the round could not start
 * (nothing changed: *why, status in *code); 1 when it ran but fenced the
 * policy (log it anyway). */
int state_choose(state *s, size_t K, const double *X, size_t n, const uint64_t *slots, uint32_t *arms,
                 const uint32_t *logged, int chosen, decision_id *first, int *code, char *why,
                 size_t why_len);

/* Apply reward y to decision id: state_accept_reward, then
 * state_policy_update. DEC_PENDING when applied (*fenced set if the update
 * fenced the policy); otherwise the decision's status, nothing changed. */
dec_status state_reward(state *s, decision_id id, double y, int *fenced);

/* The bookkeeping part of a reward for decision id: if it is pending, mark
 * it rewarded and count it; *user and *x (the chosen context, d values in
 * the window, valid until the next choose) receive what the policy's
 * update needs. DEC_PENDING when accepted; otherwise the decision's
 * status, nothing changed. */
dec_status state_accept_reward(state *s, decision_id id, uint64_t *user, const double **x);

/* The policy's update for an accepted reward (any thread that holds the
 * policy alone). 0, or -1 with why: the policy is then unusable
 * (state_fence). */
int state_policy_update(colb_policy *p, uint64_t user, const double *x, double y, char *why, size_t why_len);

/* Fence the state: no more changes, why says what failed. */
void state_fence(state *s, const char *why);

/* A new generation with a decision window of `window`. 0, or -1 (out of
 * memory). */
int state_start(state *s, uint32_t gen, size_t window);

/* Replay one log record. 0, or -1 with err (the log does not fit the state:
 * corruption, or a colb that behaves differently). */
int state_apply(state *s, uint64_t lsn, uint32_t type, const unsigned char *payload, size_t len, char *err,
                size_t err_len);

/* After state_load of a snapshot that left decisions to the log
 * (s->fill.lsn > 0): the log records from s->fill.lsn to s->lsn, in order,
 * each given to state_fill (a choose record puts its decisions in the
 * window again; the others changed nothing the snapshot lacks), then
 * state_fill_done (their rewarded flags; an error if the log did not make
 * all of them). 0, or -1 with err. */
int state_fill(state *s, uint64_t lsn, uint32_t type, const unsigned char *payload, size_t len, char *err,
               size_t err_len);
int state_fill_done(state *s, char *err, size_t err_len);
/* Between those: records were lost (damaged, and skipped by --repair-log:
 * wal.h WAL_LOST). The decisions they made are
 * lost (counted in s->lost_decisions): the window does not hold them (a
 * reward answers expired_decision), and the replay of a reward for one
 * after the snapshot skips it (s->lost_rewards). */
void state_fill_lost(state *s);

/* The state as a snapshot (colb snapshot format: the policy and the blocks
 * serve.meta, serve.options, serve.users, serve.decisions,
 * serve.generations and, when ref is given, serve.window_log;
 * docs/serve.md),
 * in two steps so that the writer pauses only for the first:
 *   state_capture (the writer, between requests): the state as it is now -
 *     the policy saved into the state's buffer s->policy_buf
 *     (colb_policy_save_buffer; valid until the next capture, which must
 *     wait until this one is serialised; with defer set, later, by
 *     state_image_save_policy), the users, the counters and
 *     the generations' record (16 bytes a generation) copied, the
 *     decision window shared (decisions_capture: the rewarded flags
 *     copied, the rest copy-on-write). Costs the size of the policy and of
 *     the users, not of the window. NULL with err (out of memory; a policy
 *     that cannot be saved).
 *     live: the capture refers to the state's policy and users
 *     themselves instead of copying them (it takes the window as above
 *     all the same) - to be written where they do not change: by the
 *     fork()ed child of snapshotter_fork, or while the writer is stopped.
 *     Costs O(W / 64).
 *   state_image_write (any thread, while the writer goes on): the
 *     snapshot of a capture written to f (flushed, not synced; *len: its
 *     bytes; *policy_len, unless NULL: the policy's part, *len less the
 *     other blocks, within their headers' few hundred bytes). 0, or -1
 *     with err. */
typedef struct state_image state_image;
/* A capture buffer's size for a policy of `bytes`: an eighth of slack, so
 * that a growing policy does not need a new buffer at every snapshot. */
static inline size_t state_buffer_size(size_t bytes) { return bytes + bytes / 8; }
/* buf (len bytes, malloc'd, its pages touched: snapshotter_take_buffer)
 * as the capture buffer when larger than the one in place, which is
 * freed; else buf is freed. Writer, while no capture is being written. */
void state_adopt_buffer(state *s, void *buf, size_t len);
state_image *state_capture(state *s, int live, int defer, const decisions_ref *ref, char *err, size_t err_len);
/* A capture taken with defer set leaves its policy out: this saves it into
 * the state's buffer, from the thread that holds the policy at the point
 * of the log the capture was taken at (the applier's call, queued behind
 * the updates logged before the capture: applier_push_call), so that the
 * writer's pause excludes it; failed: the policy is broken (an update
 * failed), the capture then fails. state_image_await_policy waits for it
 * (*seconds: how long the save took; -1 for a capture not deferred): 0,
 * or -1 when the save failed (state_image_write then says why). */
void state_image_save_policy(state_image *im, int failed);
int state_image_await_policy(state_image *im, double *seconds);
/* The log records to sync before a snapshot of im is in place: from its
 * decisions left to the log (if any) to its last record, so that a power
 * cut never leaves the log ending before a snapshot's lsn (a choose is not
 * synced when answered); *from to *to, 0 when none (an empty log). */
int state_image_log_range(const state_image *im, uint64_t *from, uint64_t *to);
/* Serialise the window of a capture now, so that its hold on the window's
 * chunks can end before the rest is written: until then the writer copies
 * each chunk it puts a decision into (a chunk of 4,096 decisions at d = 15
 * is 573 kB), and a snapshot's paced write can last seconds
 * (docs/serve.md, "Snapshots"). Done by the server's snapshot thread for
 * every capture, a fork()ed child's too: the child does not inherit the
 * window's chunks (decisions.c), and gets the blocks made here
 * (state_image_window, state_image_adopt_window). 0, or -1 when out of
 * memory (the capture is kept whole: a write in this process serialises
 * it then, a child's fails). */
int state_image_serialise_window(state_image *im);
/* The window's blocks serialised (serve.decisions; serve.window_log, or
 * NULL and 0): 0, or -1 when they are not. Owned by im. */
int state_image_window(const state_image *im, const unsigned char **dec, size_t *dec_len, const unsigned char **ref,
                       size_t *ref_len);
/* In a fork()ed child: the window's blocks as the server serialised them
 * (malloc'd, im's from now on), in place of the chunks it cannot read. */
void state_image_adopt_window(state_image *im, unsigned char *dec, size_t dec_len, unsigned char *ref, size_t ref_len);
int state_image_write(const state_image *im, FILE *f, size_t *len, size_t *policy_len, char *err, size_t err_len);
void state_image_free(state_image *im);

/* The decision window a loaded state needs right after its snapshot,
 * which covers the log up to lsn and recorded a window of `stored`
 * decisions: the snapshot's decisions are loaded into a window of that
 * size when it is smaller (the newest ones, as state_start's resize keeps
 * them; the larger one is never allocated). 0, or at least `stored`: the
 * stored one. */
typedef size_t (*state_window_fn)(void *ctx, uint64_t lsn, size_t stored);

/* Build the state from DIR/snapshot.colb. Its policy options are resolved
 * against c first (serve_config_resume: options c gives must match the stored
 * ones; the others are taken from the state); s->kernel receives the kernel
 * path the snapshot was written on. window (NULL: the stored window) says
 * which window to load the decisions into. 0, or -1 with err (-2: the
 * options given do not match). */
int state_load(state *s, const char *dir, serve_config *c, state_window_fn window, void *ctx, char *err,
               size_t err_len);

/* GET /v1/stats and GET /v1/users/ID bodies (malloc'd JSON). stats:
 * "healthy" is false when the state is fenced or `refusing` (the service
 * refuses writes: its log failed). user: 404 when the id is unknown
 * (*body NULL). */
char *state_stats_json(state *s, int refusing, size_t *len);
int state_user_json(state *s, const char *id, size_t n, char **body, size_t *len);

#endif
