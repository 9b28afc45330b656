/* fuzz_servestate.c - libFuzzer harness: colb serve's state loader
 * (serve/state.c, state_load) on the serve.* blocks of a snapshot
 * (docs/serve.md, "Snapshot"): serve.meta, serve.options, serve.users,
 * serve.decisions, serve.window_log and serve.generations. The input is
 * the blocks, and the harness writes them into a valid snapshot file
 * (colb's snapshot writer: the file's checksum is right, so mutations
 * reach the blocks' readers instead of stopping at it):
 *
 *   byte 0        mode: bit 0 adds a policy (linucb-ind, d = 3, as many
 *                 users as serve.users's first u64 says when 1 to 64);
 *   bytes 1-12    six u16 lengths, one per block in the order above
 *                 (0xFFFF: the block is absent);
 *   then          the blocks' bytes, back to back (cut at the input's end).
 *
 * A state that loads is then used as colb serve uses it after a load: a
 * new generation started on a small window, rewards for decisions about
 * the window looked up, the stats and every user's JSON view, and a
 * capture written out (to /dev/null). The decisions are loaded into a
 * window of 64 (--decision-window 64: the recorded window is never
 * allocated, whatever its size). Seeds: tests/fuzz/corpus/servestate/
 * (the blocks of states of a short colb serve run with linucb-ind at
 * d = 3: a new state, one resumed with pending and rewarded decisions,
 * one with decisions left to the log, and regression inputs). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "config.h"
#include "decisions.h"
#include "fuzz_split.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { NB = 6 };
static const char *const NAMES[NB] = { "serve.meta", "serve.options", "serve.users", "serve.decisions",
                                       "serve.window_log", "serve.generations" };

static void check(int ok)
{
    if (!ok)
        abort();
}

/* The state loaded, used as the engine uses it after a load. */
static void exercise(state *s)
{
    if (!s->fill.lsn && s->gen < UINT32_MAX && state_start(s, s->gen + 1, 64) != 0)
        return;
    /* rewards for the last 80 numbers, of generations 0 to 4 and the
     * last 4: pending, rewarded, expired and unknown ids */
    for (uint64_t k = 0; k < 80; k++)
        for (uint64_t g = 0; g <= s->gen && g < 12; g++) {
            decision_id id = { (uint32_t)(g <= 4 ? g : s->gen - (g - 5)), s->next_seq > k ? s->next_seq - k : k };
            uint64_t user;
            const double *x;
            if (state_accept_reward(s, id, &user, &x) == DEC_PENDING)
                check(user < users_count(s->users) && x != NULL);
        }
    size_t len;
    char *j = state_stats_json(s, 0, &len);
    free(j);
    for (size_t u = 0; u < users_count(s->users) && u < 64; u++) {
        size_t n;
        const char *id = users_id(s->users, u, &n);
        char *body = NULL;
        size_t blen;
        check(id != NULL);
        state_user_json(s, id, n, &body, &blen);
        free(body);
    }
    char err[4400];
    state_image *im = state_capture(s, 0, 0, NULL, err, sizeof err);
    if (im) {
        FILE *f = fopen("/dev/null", "wb");
        if (f) {
            state_image_write(im, f, &len, NULL, err, sizeof err);
            fclose(f);
        }
        state_image_free(im);
    }
}

/* The window to load a snapshot's decisions into (state_window_fn): 64. */
static size_t window_64(void *ctx, uint64_t lsn, size_t stored)
{
    (void)ctx;
    (void)lsn;
    (void)stored;
    return 64;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 + 2 * NB || size > ((size_t)1 << 20))
        return 0;
    int mode = data[0];
    const uint8_t *p = data + 1 + 2 * NB, *end = data + size;
    const uint8_t *blk[NB] = { NULL };
    size_t bl[NB] = { 0 };
    for (int k = 0; k < NB; k++) {
        size_t n = (size_t)data[1 + 2 * k] | (size_t)data[2 + 2 * k] << 8;
        if (n == 0xFFFF)
            continue;
        if (n > (size_t)(end - p))
            n = (size_t)(end - p);
        blk[k] = p;
        bl[k] = n;
        p += n;
    }
    /* the window is loaded at 64 decisions whatever the snapshot records
     * (up to 10^9, DECISIONS_WINDOW_MAX: more is refused), as colb serve
     * loads it for a smaller --decision-window: the recorded size is never
     * allocated; 64 x d context entries beyond 2^24 (d beyond 2^18: not a
     * dimension the options take) would be */
    if (blk[3] && bl[3] >= 16 && get_u64(blk[3] + 8) > ((uint64_t)1 << 18))
        return 0;
    char path[256], msg[512];
    snprintf(path, sizeof path, "%s/snapshot.colb", fuzz_dir());
    colb_snapshot_writer *w = NULL;
    if (colb_snapshot_writer_open(path, &w, msg, sizeof msg) != COLB_OK)
        abort();
    colb_policy *pol = NULL;
    if ((mode & 1) && blk[2] && bl[2] >= 8 && get_u64(blk[2]) >= 1 && get_u64(blk[2]) <= 64) {
        colb_policy_params pp;
        colb_policy_params_default(&pp);
        pp.users = (size_t)get_u64(blk[2]);
        pp.dim = 3;
        if (colb_policy_create("linucb-ind", &pp, &pol, msg, sizeof msg) != COLB_OK)
            abort();
        colb_snapshot_put_policy(w, "policy", pol);
        colb_policy_free(pol);
    }
    for (int k = 0; k < NB; k++)
        if (blk[k])
            colb_snapshot_put_bytes(w, NAMES[k], bl[k] ? blk[k] : (const uint8_t *)"", bl[k]);
    if (colb_snapshot_writer_commit(w, NULL, msg, sizeof msg) != COLB_OK)
        abort();

    serve_config c;
    serve_config_default(&c);
    snprintf(c.state_dir, sizeof c.state_dir, "%s", fuzz_dir());
    c.decision_window = 64;
    c.quiet = 1;
    state s;
    char err[SERVE_ERR_LEN];
    err[0] = '\0';
    int rc = state_load(&s, fuzz_dir(), &c, window_64, NULL, err, sizeof err);
    if (rc == 0) {
        check(users_count(s.users) == (s.p ? colb_policy_users(s.p) : 0));
        exercise(&s);
        state_free(&s);
    } else {
        check(err[0] != '\0'); /* a failed load says why */
    }
    return 0;
}
