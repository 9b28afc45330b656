/* state.c - the served state and its deterministic changes (state.h), its
 * snapshot and its JSON views. */
#include "state.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bytes.h"
#include "records.h"

int state_check_options(const serve_config *c, char *err, size_t err_len)
{
    colb_policy_params pp = c->pp;
    char msg[512];
    pp.users = 1; /* set to the first users' number at creation */
    if (colb_policy_params_check(c->policy, &pp, msg, sizeof msg) == COLB_OK)
        return 0;
    snprintf(err, err_len, "policy options: %s", msg);
    return -1;
}

int state_init(state *s, const serve_config *c, char *err, size_t err_len)
{
    memset(s, 0, sizeof *s);
    snprintf(s->policy, sizeof s->policy, "%s", c->policy);
    s->pp = c->pp;
    s->pp.users = 1; /* set to the first users' number at creation */
    s->d = c->pp.dim;
    serve_config_policy_text(c, s->options, sizeof s->options);
    if (state_check_options(c, err, err_len))
        return -1;
    s->next_seq = 1;
    s->users = users_create();
    s->dec = decisions_create(c->decision_window, s->d);
    s->gens = generations_create();
    if (!s->users || !s->dec || !s->gens) {
        char need[32]; /* in --max-memory's units */
        colb_memory_text(need, sizeof need, (double)c->decision_window * (8.0 * (double)s->d + 20.38));
        snprintf(err, err_len, "out of memory for the users and a window of %zu decisions (%s; see "
                 "--decision-window)", c->decision_window, need);
        state_free(s);
        return -1;
    }
    return 0;
}

void state_free(state *s)
{
    colb_policy_free(s->p);
    free(s->policy_buf);
    users_free(s->users);
    decisions_free(s->dec);
    generations_free(s->gens);
    free(s->X);
    free(s->labels);
    free(s->fill_bits);
    free(s->lost);
    memset(s, 0, sizeof *s);
}

int state_add_users(state *s, const char *const *ids, const size_t *lens, size_t n, size_t max_users, size_t K,
                    uint64_t *slots, size_t *first, size_t *added, char *why, size_t why_len)
{
    size_t old = users_count(s->users);
    *first = old;
    *added = 0;
    for (size_t i = 0; i < n; i++) {
        size_t slot = users_find(s->users, ids[i], lens[i]);
        if (slot == USERS_NONE) {
            slot = users_count(s->users);
            if (users_add(s->users, ids[i], lens[i])) {
                users_truncate(s->users, old);
                snprintf(why, why_len, "out of memory for new users");
                return STATE_FULL;
            }
        }
        if (slots)
            slots[i] = slot;
    }
    size_t k = users_count(s->users) - old;
    if (k == 0)
        return 0;
    if (old + k > max_users) {
        users_truncate(s->users, old);
        snprintf(why, why_len, "the server knows %zu users and takes at most %zu (--max-users)", old, max_users);
        return STATE_FULL;
    }
    colb_status st = COLB_OK;
    char msg[512] = "";
    if (K) { /* the rounds they come for, with them: begin_round's check */
        colb_policy_params q = s->pp;
        q.users = old + k;
        st = colb_policy_round_check_for(s->policy, &q, K, msg, sizeof msg);
    }
    if (st == COLB_OK && !s->p) {
        s->pp.users = k;
        st = colb_policy_create(s->policy, &s->pp, &s->p, msg, sizeof msg);
    } else if (st == COLB_OK) {
        st = colb_policy_add_users(s->p, k, NULL);
        if (st != COLB_OK)
            snprintf(msg, sizeof msg, "%s", colb_policy_last_error(s->p));
    }
    if (st != COLB_OK) {
        users_truncate(s->users, old);
        snprintf(why, why_len, "cannot add %zu users: %s", k, msg);
        return STATE_FULL;
    }
    s->round_K = K; /* what state_round_check has passed for these users */
    *added = k;
    return 0;
}

int state_round_check(state *s, size_t K, char *why, size_t why_len)
{
    if (K <= s->round_K)
        return 0;
    char msg[512] = "";
    colb_policy_params q = s->pp;
    q.users = users_count(s->users);
    if (colb_policy_round_check_for(s->policy, &q, K, msg, sizeof msg) != COLB_OK) {
        snprintf(why, why_len, "%s", msg);
        return STATE_FULL;
    }
    s->round_K = K;
    return 0;
}

/* Why the state is fenced after policy p failed. */
static void policy_failed(colb_policy *p, char *why, size_t why_len)
{
    snprintf(why, why_len, "the policy failed: %s; restore the state from a backup or start a new one",
             colb_policy_last_error(p));
}

int state_choose(state *s, size_t K, const double *X, size_t n, const uint64_t *slots, uint32_t *arms,
                 const uint32_t *logged, int chosen, decision_id *first, int *code, char *why,
                 size_t why_len)
{
    if (s->fenced) {
        *code = STATE_FAILED;
        snprintf(why, why_len, "%s", s->fence_msg);
        return -1;
    }
    colb_status st = colb_policy_begin_round(s->p, X, K);
    if (st != COLB_OK) {
        *code = st == COLB_ENOMEM ? STATE_FULL : STATE_FAILED;
        snprintf(why, why_len, "%s", colb_policy_last_error(s->p));
        return -1;
    }
    first->gen = s->gen;
    first->seq = s->next_seq;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t a = 0;
        if (chosen) { /* no choice: the logged arm, its context in row i */
            arms[i] = logged[i];
            decision_id id = { s->gen, s->next_seq + i };
            decisions_put(s->dec, id, slots[i], X + i * s->d);
            users_count_decision(s->users, (size_t)slots[i]);
            continue;
        }
        st = colb_policy_choose(s->p, (size_t)slots[i], &a);
        if (st != COLB_OK) {
            /* the record is logged anyway: the users left get arm 0 (a
             * valid arm, which a replay, fenced at the same user, never
             * uses), not whatever the caller's array held */
            for (size_t k = i; k < n; k++)
                arms[k] = 0;
            rc = 1;
            break;
        }
        arms[i] = (uint32_t)a;
        uint32_t use = logged ? logged[i] : (uint32_t)a;
        if (logged && logged[i] != a)
            s->arm_mismatches++;
        decision_id id = { s->gen, s->next_seq + i };
        decisions_put(s->dec, id, slots[i], X + (size_t)use * s->d);
        users_count_decision(s->users, (size_t)slots[i]);
    }
    colb_status end = colb_policy_end_round(s->p);
    if (rc || end != COLB_OK) {
        s->fenced = 1;
        policy_failed(s->p, s->fence_msg, sizeof s->fence_msg);
        rc = 1;
    }
    s->next_seq += n;
    s->decisions += n;
    return rc;
}

dec_status state_accept_reward(state *s, decision_id id, uint64_t *user, const double **x)
{
    dec_status ds = decisions_find(s->dec, id, user, x);
    if (ds == DEC_UNKNOWN) { /* not in the window: expired if it was made here */
        int made = generations_made(s->gens, id, s->next_seq);
        if (made == GEN_MADE || (made == GEN_UNRECORDED && decisions_passed(s->dec, id.seq, s->next_seq)))
            ds = DEC_EXPIRED;
    }
    if (ds != DEC_PENDING)
        return ds;
    decisions_mark_rewarded(s->dec, id);
    users_count_reward(s->users, (size_t)*user);
    s->rewards++;
    return DEC_PENDING;
}

int state_policy_update(colb_policy *p, uint64_t user, const double *x, double y, char *why, size_t why_len)
{
    if (colb_policy_update(p, (size_t)user, x, y) == COLB_OK)
        return 0;
    policy_failed(p, why, why_len);
    return -1;
}

void state_fence(state *s, const char *why)
{
    s->fenced = 1;
    snprintf(s->fence_msg, sizeof s->fence_msg, "%s", why);
}

dec_status state_reward(state *s, decision_id id, double y, int *fenced)
{
    uint64_t user;
    const double *x;
    *fenced = 0;
    dec_status ds = state_accept_reward(s, id, &user, &x);
    if (ds == DEC_PENDING && state_policy_update(s->p, user, x, y, s->fence_msg, sizeof s->fence_msg))
        s->fenced = *fenced = 1;
    return ds;
}

int state_start(state *s, uint32_t gen, size_t window)
{
    decisions *d = decisions_resize(s->dec, window, s->next_seq);
    if (!d)
        return -1;
    s->dec = d;
    if (generations_start(s->gens, gen, s->next_seq))
        return -1;
    s->gen = gen;
    return 0;
}

static double *scratch_X(state *s, size_t n)
{
    if (n > s->X_cap) {
        double *x = realloc(s->X, n * sizeof *x);
        if (!x)
            return NULL;
        s->X = x;
        s->X_cap = n;
    }
    return s->X;
}

/* A reason into err; -1. */
static int __attribute__((format(printf, 3, 4))) failf(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}
#define FAIL(...) failf(err, err_len, __VA_ARGS__)

static int apply_users(state *s, uint64_t lsn, const unsigned char *p, size_t len, char *err, size_t err_len)
{
    rec_users r;
    if (rec_users_get(p, len, &r))
        return FAIL("log record %llu (users) is malformed", (unsigned long long)lsn);
    const char **ids = malloc(r.n * sizeof *ids);
    size_t *lens = malloc(r.n * sizeof *lens), pos = 0, first, added;
    if (!ids || !lens) {
        free(ids);
        free(lens);
        return FAIL("out of memory");
    }
    for (size_t i = 0; i < r.n; i++)
        ids[i] = rec_users_id(&r, &pos, &lens[i]);
    char why[512];
    int rc = state_add_users(s, ids, lens, r.n, SIZE_MAX, 0, NULL, &first, &added, why, sizeof why);
    free(ids);
    free(lens);
    if (rc)
        return FAIL("replaying log record %llu: %s%s", (unsigned long long)lsn, why,
                    strstr(why, "budget") ? " (a state whose policy needs more than --max-memory does not "
                    "start: give a larger one)" : "");
    if (first != r.first_slot || added != r.n)
        return FAIL("log record %llu adds users at slot %llu, but the state has %zu users (or knows some of "
                    "them): the log does not fit the snapshot", (unsigned long long)lsn,
                    (unsigned long long)r.first_slot, first);
    return 0;
}

/* A CHOOSE record, or a CHOSEN one (chosen: its round replayed without
 * choices, state_choose). */
static int apply_choose(state *s, uint64_t lsn, const unsigned char *p, size_t len, int chosen, char *err,
                        size_t err_len)
{
    rec_choose r;
    if (chosen ? rec_chosen_get(p, len, s->d, &r) : rec_choose_get(p, len, s->d, &r))
        return FAIL("log record %llu (%s) is malformed", (unsigned long long)lsn, chosen ? "chosen" : "choose");
    if (r.first.seq != s->next_seq || r.first.gen != s->gen)
        return FAIL("log record %llu makes decision %u-%llu, but the state is at %u-%llu: the log does not fit "
                    "the snapshot", (unsigned long long)lsn, (unsigned)r.first.gen, (unsigned long long)r.first.seq,
                    (unsigned)s->gen, (unsigned long long)s->next_seq);
    uint64_t *slots = malloc(r.n * sizeof *slots);
    uint32_t *logged = malloc(r.n * sizeof *logged), *arms = malloc(r.n * sizeof *arms);
    size_t K = rec_choose_rows(&r);
    double *X = scratch_X(s, K * s->d);
    int rc = 0;
    if (!slots || !logged || !arms || !X) {
        rc = FAIL("out of memory");
    } else {
        for (size_t i = 0; i < r.n && !rc; i++) {
            slots[i] = rec_choose_slot(&r, i);
            logged[i] = rec_choose_arm(&r, i);
            if (slots[i] >= users_count(s->users))
                rc = FAIL("log record %llu serves user slot %llu of %zu", (unsigned long long)lsn,
                          (unsigned long long)slots[i], users_count(s->users));
        }
        rec_choose_contexts(&r, X);
        decision_id first;
        int code;
        char why[512];
        if (!rc && state_choose(s, K, X, r.n, slots, arms, logged, chosen, &first, &code, why, sizeof why) < 0)
            rc = FAIL("replaying log record %llu: %s%s", (unsigned long long)lsn, why,
                      code == STATE_FULL ? " (a state whose policy and rounds need more than --max-memory does not "
                      "start: give a larger one)" : "");
    }
    free(slots);
    free(logged);
    free(arms);
    return rc;
}

static const char *dec_text(dec_status d)
{
    return d == DEC_UNKNOWN ? "unknown" : d == DEC_EXPIRED ? "expired" : d == DEC_REWARDED ? "rewarded already" : "pending";
}

/* ---- decisions lost with damaged records (state_fill_lost) --------------------- */

/* The decisions from s->fill_seq to below `to` were made by lost records:
 * lost (state_fill_lost). 0, or -1 when out of memory. */
static int lose(state *s, uint64_t to)
{
    void *l = realloc(s->lost, (s->n_lost + 1) * sizeof *s->lost);
    if (!l)
        return -1;
    s->lost = l;
    s->lost[s->n_lost].gen = s->fill.gen;
    s->lost[s->n_lost].from = s->fill_seq;
    s->lost[s->n_lost].to = to;
    s->n_lost++;
    s->lost_decisions += to - s->fill_seq;
    s->fill_seq = to;
    s->fill_gap = 0;
    return 0;
}

/* 1 when decision id was lost (state_fill_lost). */
static int was_lost(const state *s, decision_id id)
{
    for (size_t i = 0; i < s->n_lost; i++)
        if (s->lost[i].gen == id.gen && id.seq >= s->lost[i].from && id.seq < s->lost[i].to)
            return 1;
    return 0;
}

static int apply_reward(state *s, uint64_t lsn, const unsigned char *p, size_t len, char *err, size_t err_len)
{
    rec_reward r;
    if (rec_reward_get(p, len, &r))
        return FAIL("log record %llu (reward) is malformed", (unsigned long long)lsn);
    for (size_t i = 0; i < r.n; i++) {
        decision_id id;
        double y;
        int fenced;
        rec_reward_item(&r, i, &id, &y);
        /* Once fenced, the items after the failed update are accepted
         * without an update: with the applier, the live service logged
         * (and counted) them before the failure showed, and applied none. */
        uint64_t user;
        const double *x;
        dec_status ds = s->fenced ? state_accept_reward(s, id, &user, &x) : state_reward(s, id, y, &fenced);
        if ((ds == DEC_EXPIRED || ds == DEC_UNKNOWN) && was_lost(s, id)) { /* its context went with a damaged record */
            s->lost_rewards++;
            continue;
        }
        if (ds != DEC_PENDING)
            return FAIL("log record %llu rewards decision %u-%llu, which is %s here: the log does not fit the "
                        "snapshot", (unsigned long long)lsn, (unsigned)id.gen, (unsigned long long)id.seq, dec_text(ds));
    }
    return 0;
}

int state_apply(state *s, uint64_t lsn, uint32_t type, const unsigned char *p, size_t len, char *err,
                size_t err_len)
{
    int rc;
    if (lsn != s->lsn + 1)
        return FAIL("log record %llu follows record %llu", (unsigned long long)lsn, (unsigned long long)s->lsn);
    switch (type) {
    case REC_START: {
        rec_start r;
        if (rec_start_get(p, len, &r) || r.gen <= s->gen)
            return FAIL("log record %llu (start) is malformed", (unsigned long long)lsn);
        rc = state_start(s, r.gen, (size_t)r.window) ? FAIL("out of memory for a window of %llu decisions",
                                                            (unsigned long long)r.window) : 0;
        break;
    }
    case REC_USERS: rc = apply_users(s, lsn, p, len, err, err_len); break;
    case REC_CHOOSE: rc = apply_choose(s, lsn, p, len, 0, err, err_len); break;
    case REC_CHOSEN: rc = apply_choose(s, lsn, p, len, 1, err, err_len); break;
    case REC_REWARD: rc = apply_reward(s, lsn, p, len, err, err_len); break;
    default: return FAIL("log record %llu has unknown type %u (written by a newer colb?)", (unsigned long long)lsn, type);
    }
    if (rc == 0)
        s->lsn = lsn;
    return rc;
}

/* ---- decisions left to the log ------------------------------------------------ */

void state_fill_lost(state *s)
{
    s->fill_gap = 1;
    s->lost_stretches++;
}

int state_fill(state *s, uint64_t lsn, uint32_t type, const unsigned char *p, size_t len, char *err,
               size_t err_len)
{
    if (type == REC_START)
        return FAIL("log record %llu starts a generation among the records the snapshot refers to: the log does "
                    "not fit the snapshot", (unsigned long long)lsn);
    if (type != REC_CHOOSE && type != REC_CHOSEN)
        return 0; /* users and rewards: in the snapshot already */
    rec_choose r;
    if (type == REC_CHOOSE ? rec_choose_get(p, len, s->d, &r) : rec_chosen_get(p, len, s->d, &r))
        return FAIL("log record %llu (%s) is malformed", (unsigned long long)lsn,
                    type == REC_CHOOSE ? "choose" : "chosen");
    if (s->fill_gap && r.first.gen == s->fill.gen && r.first.seq > s->fill_seq && r.first.seq < s->fill.next_seq &&
        lose(s, r.first.seq))
        return FAIL("out of memory");
    if (r.first.gen != s->fill.gen || r.first.seq != s->fill_seq || r.n > s->fill.next_seq - s->fill_seq)
        return FAIL("log record %llu makes decisions %u-%llu.., but the snapshot's window goes on with %u-%llu: "
                    "the log does not fit the snapshot", (unsigned long long)lsn, (unsigned)r.first.gen,
                    (unsigned long long)r.first.seq, (unsigned)s->fill.gen, (unsigned long long)s->fill_seq);
    double *x = scratch_X(s, s->d);
    if (!x)
        return FAIL("out of memory");
    for (size_t i = 0; i < r.n; i++) {
        uint64_t slot = rec_choose_slot(&r, i);
        if (slot >= users_count(s->users))
            return FAIL("log record %llu serves user slot %llu of %zu", (unsigned long long)lsn,
                        (unsigned long long)slot, users_count(s->users));
        rec_choose_user_context(&r, i, x);
        decision_id id = { r.first.gen, r.first.seq + i };
        decisions_put(s->dec, id, slot, x);
    }
    s->fill_seq += r.n;
    s->fill_gap = 0;
    return 0;
}

int state_fill_done(state *s, char *err, size_t err_len)
{
    if (s->fill_gap && s->fill_seq < s->fill.next_seq && lose(s, s->fill.next_seq))
        return FAIL("out of memory");
    if (s->fill_seq != s->fill.next_seq)
        return FAIL("the log makes decisions up to %llu, but the snapshot left decisions up to %llu to it: log "
                    "segments are missing, or the snapshot is not of this log", (unsigned long long)s->fill_seq - 1,
                    (unsigned long long)s->fill.next_seq - 1);
    decisions_ref_mark(s->dec, &s->fill, s->fill_bits);
    free(s->fill_bits);
    s->fill_bits = NULL;
    s->fill.lsn = 0;
    return 0;
}

/* ---- snapshots ---------------------------------------------------------------- */

struct state_image {
    const void *policy;           /* colb_policy_save_buffer's bytes (the state's policy_buf); NULL
                                     before the first user or in a live capture */
    size_t policy_len;
    const colb_policy *live;      /* a live capture's policy and users (the state's own) */
    const users *live_users;
    /* a deferred capture's policy: saved by state_image_save_policy in
     * another thread, which sets saved (2: failed, why in policy_err) */
    state *owner;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int deferred, saved;
    double save_seconds;          /* how long that took */
    char policy_err[SERVE_ERR_LEN];
    char meta[512];
    char options[SERVE_OPTS_LEN];
    unsigned char *users;         /* block serve.users */
    size_t users_len;
    unsigned char *gens;          /* block serve.generations */
    size_t gens_len;
    decisions_image *dec;         /* the window, shared until saved (NULL once serialised) */
    decisions_ref ref;            /* its decisions left to the log (ref.lsn 0: none) */
    uint64_t lsn;                 /* the last record the state holds */
    /* the window's blocks serve.decisions and serve.window_log, once
     * state_image_serialise_window made them (NULL before; a fork()ed
     * child gets them from the server: state_image_adopt_window) */
    unsigned char *dec_block, *ref_block;
    size_t dec_len, ref_len;
};

/* The decisions a snapshot of im holds are those numbered below this: the
 * later ones are left to the log (serve.window_log). */
static uint64_t held_below(const state_image *im) { return im->ref.lsn ? im->ref.seq_from : UINT64_MAX; }

int state_image_log_range(const state_image *im, uint64_t *from, uint64_t *to)
{
    *from = im->ref.lsn ? im->ref.lsn : im->lsn;
    *to = im->lsn;
    return im->lsn != 0;
}

void state_image_free(state_image *im)
{
    if (!im)
        return;
    free(im->users);
    free(im->gens);
    decisions_image_free(im->dec);
    free(im->dec_block);
    free(im->ref_block);
    if (im->deferred) {
        pthread_mutex_destroy(&im->mu);
        pthread_cond_destroy(&im->cv);
    }
    free(im);
}

void state_adopt_buffer(state *s, void *buf, size_t len)
{
    if (len <= s->policy_cap) {
        free(buf);
        return;
    }
    free(s->policy_buf);
    s->policy_buf = buf;
    s->policy_cap = len;
}

/* The policy into the state's buffer (kept from one capture to the next:
 * a fresh one would cost a page fault per 4 kB), grown to the exact size
 * when it is too small; its bytes in *out, *out_len. 0, or -1 with err. */
static int save_policy(state *s, const void **out, size_t *out_len, char *err, size_t err_len)
{
    size_t need = 0;
    char msg[512] = "";
    colb_status st = COLB_OK;
    for (int attempt = 0; attempt < 2; attempt++) {
        st = colb_policy_save_buffer(s->p, s->policy_buf, s->policy_cap, &need, msg, sizeof msg);
        if (st == COLB_OK) {
            *out = s->policy_buf;
            *out_len = need;
            return 0;
        }
        if (st != COLB_ERANGE)
            break;
        free(s->policy_buf);
        s->policy_cap = state_buffer_size(need);
        if (!(s->policy_buf = malloc(s->policy_cap))) {
            s->policy_cap = 0;
            st = COLB_ENOMEM;
            break;
        }
    }
    if (st == COLB_ENOMEM)
        return FAIL("out of memory capturing the policy (%zu bytes)", need);
    return FAIL("capturing the policy: %s", msg);
}

state_image *state_capture(state *s, int live, int defer, const decisions_ref *ref, char *err, size_t err_len)
{
    state_image *im = calloc(1, sizeof *im);
    if (!im) {
        FAIL("out of memory capturing the state");
        return NULL;
    }
    if (ref)
        im->ref = *ref;
    im->lsn = s->lsn;
    /* format 2: decisions left to the log (serve.window_log), which a
     * reader of format 1 would not put back */
    const char *kernel = colb_kernel_path(); /* NULL: none this CPU runs, no policy either */
    snprintf(im->meta, sizeof im->meta, "format=%d\nlsn=%llu\ngen=%u\nnext_seq=%llu\ndecisions=%llu\nrewards=%llu\n"
             "%s%s%s", im->ref.lsn ? 2 : 1, (unsigned long long)s->lsn, (unsigned)s->gen,
             (unsigned long long)s->next_seq, (unsigned long long)s->decisions, (unsigned long long)s->rewards,
             kernel ? "kernel=" : "", kernel ? kernel : "", kernel ? "\n" : "");
    snprintf(im->options, sizeof im->options, "%s", s->options);
    if ((!live && users_save(s->users, &im->users, &im->users_len)) ||
        generations_save(s->gens, &im->gens, &im->gens_len) || !(im->dec = decisions_capture(s->dec, held_below(im)))) {
        state_image_free(im);
        FAIL("out of memory capturing the state");
        return NULL;
    }
    if (live) {
        im->live = s->p;
        im->live_users = s->users;
        return im;
    }
    if (s->p && defer) {
        im->owner = s;
        im->deferred = 1;
        pthread_mutex_init(&im->mu, NULL);
        pthread_cond_init(&im->cv, NULL);
    } else if (s->p && save_policy(s, &im->policy, &im->policy_len, err, err_len)) {
        state_image_free(im);
        return NULL;
    }
    return im;
}

void state_image_save_policy(state_image *im, int failed)
{
    char why[SERVE_ERR_LEN] = "";
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = -1;
    if (failed)
        snprintf(why, sizeof why, "the policy failed numerically before the snapshot");
    else
        rc = save_policy(im->owner, &im->policy, &im->policy_len, why, sizeof why);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_mutex_lock(&im->mu);
    im->save_seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    snprintf(im->policy_err, sizeof im->policy_err, "%s", why);
    im->saved = rc ? 2 : 1;
    pthread_cond_broadcast(&im->cv);
    pthread_mutex_unlock(&im->mu);
}

int state_image_await_policy(state_image *im, double *seconds)
{
    *seconds = -1;
    if (!im->deferred)
        return 0;
    pthread_mutex_lock(&im->mu);
    while (!im->saved)
        pthread_cond_wait(&im->cv, &im->mu);
    *seconds = im->save_seconds;
    int rc = im->saved == 1 ? 0 : -1;
    pthread_mutex_unlock(&im->mu);
    return rc;
}

/* The window's blocks of im (serve.decisions; serve.window_log when the
 * capture leaves decisions to the log, else *rb NULL): 0, or -1 when out
 * of memory (nothing to free then). */
static int window_blocks(const state_image *im, unsigned char **db, size_t *dl, unsigned char **rb, size_t *rl)
{
    decisions_ref ref = im->ref;
    *db = *rb = NULL;
    *dl = *rl = 0;
    if (decisions_image_save(im->dec, held_below(im), db, dl) ||
        (ref.lsn && decisions_image_save_ref(im->dec, &ref, rb, rl))) {
        free(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

int state_image_serialise_window(state_image *im)
{
    if (!im->dec || im->dec_block)
        return 0;
    if (window_blocks(im, &im->dec_block, &im->dec_len, &im->ref_block, &im->ref_len))
        return -1;
    decisions_image_free(im->dec); /* the chunks go back to the writer */
    im->dec = NULL;
    return 0;
}

int state_image_window(const state_image *im, const unsigned char **dec, size_t *dec_len, const unsigned char **ref,
                       size_t *ref_len)
{
    *dec = im->dec_block;
    *dec_len = im->dec_len;
    *ref = im->ref_block;
    *ref_len = im->ref_len;
    return im->dec_block ? 0 : -1;
}

void state_image_adopt_window(state_image *im, unsigned char *dec, size_t dec_len, unsigned char *ref, size_t ref_len)
{
    im->dec = NULL; /* a fork()ed child's copy: the chunks are not in its memory */
    im->dec_block = dec;
    im->dec_len = dec_len;
    im->ref_block = ref;
    im->ref_len = ref_len;
}

int state_image_write(const state_image *im, FILE *f, size_t *len, size_t *policy_len, char *err, size_t err_len)
{
    if (im->deferred && im->saved != 1) /* state_image_await_policy first */
        return FAIL("%s", im->saved ? im->policy_err : "the policy was not captured");
    if (!im->dec && !im->dec_block)
        return FAIL("the decision window was not captured");
    char msg[512];
    unsigned char *ub = NULL;
    size_t ul = 0;
    if (im->live_users && users_save(im->live_users, &ub, &ul))
        return FAIL("out of memory serialising the users");
    /* the window's blocks: serialised already (state_image_serialise_window), or now */
    const unsigned char *dbk = im->dec_block, *rbk = im->ref_block;
    unsigned char *db = NULL, *rb = NULL;
    size_t dl = im->dec_len, rl = im->ref_len;
    if (!dbk) {
        if (window_blocks(im, &db, &dl, &rb, &rl)) {
            free(ub);
            return FAIL("out of memory serialising the decision window");
        }
        dbk = db;
        rbk = rb;
    }
    colb_snapshot_writer *w = NULL;
    colb_status st = colb_snapshot_writer_open_stream(f, &w, msg, sizeof msg);
    if (st == COLB_OK) {
        /* the policy as it was captured: its saved fields copied as they
         * are (colb_snapshot_put_saved), or the live one's (a fork()ed
         * child, or a stopped writer) */
        if (im->live)
            colb_snapshot_put_policy(w, "policy", im->live);
        else if (im->policy)
            colb_snapshot_put_saved(w, "policy", im->policy, im->policy_len);
        colb_snapshot_put_bytes(w, "serve.meta", im->meta, strlen(im->meta));
        colb_snapshot_put_bytes(w, "serve.options", im->options, strlen(im->options));
        if (im->live_users)
            colb_snapshot_put_bytes(w, "serve.users", ub, ul);
        else
            colb_snapshot_put_bytes(w, "serve.users", im->users, im->users_len);
        colb_snapshot_put_bytes(w, "serve.decisions", dbk, dl);
        colb_snapshot_put_bytes(w, "serve.generations", im->gens, im->gens_len);
        if (rbk)
            colb_snapshot_put_bytes(w, "serve.window_log", rbk, rl);
        st = colb_snapshot_writer_commit(w, len, msg, sizeof msg);
        size_t rest = strlen(im->meta) + strlen(im->options) + (im->live_users ? ul : im->users_len) + dl +
                      im->gens_len + rl;
        if (st == COLB_OK && policy_len)
            *policy_len = *len > rest ? *len - rest : 0;
    }
    free(ub);
    free(db);
    free(rb);
    return st == COLB_OK ? 0 : FAIL("%s", msg);
}

/* Block serve.meta (docs/serve.md): key=value lines, each ending in a
 * newline, each key once. The keys this colb reads; another is skipped (a
 * later colb may add one, as kernel was added). */
enum { M_FORMAT, M_LSN, M_GEN, M_NEXT, M_DEC, M_REW, M_KEYS };
static const char *const META_KEYS[M_KEYS] = { "format", "lsn", "gen", "next_seq", "decisions", "rewards" };

typedef struct meta {
    uint64_t v[M_KEYS];   /* by META_KEYS */
    int seen[M_KEYS];
    char kernel[16];      /* "" when absent */
} meta;

/* Parse the n bytes at p into *m. 0, or -1 with why (the first thing
 * wrong: a line, a key given twice, a value that is not a decimal number
 * of at most 20 digits below 2^64, a kernel that is not a name). */
static int meta_parse(const char *p, size_t n, meta *m, char *why, size_t why_len)
{
    memset(m, 0, sizeof *m);
    for (const char *end = p + n; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eq = nl ? memchr(p, '=', (size_t)(nl - p)) : NULL;
        size_t kl = eq ? (size_t)(eq - p) : 0, vl = eq ? (size_t)(nl - eq - 1) : 0;
        const char *eol = nl ? nl : end;
        if (!nl || !kl || kl != strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_") ||
            memchr(p, '\0', (size_t)(eol - p))) {
            snprintf(why, why_len, "line \"%.*s\" is not key=value and a newline", (int)(eol - p > 40 ? 40 : eol - p),
                     p);
            return -1;
        }
        const char *v = eq + 1;
        int k = -1;
        for (int i = 0; i < M_KEYS; i++)
            if (strlen(META_KEYS[i]) == kl && !memcmp(p, META_KEYS[i], kl))
                k = i;
        int is_kernel = kl == 6 && !memcmp(p, "kernel", 6);
        if ((k >= 0 && m->seen[k]) || (is_kernel && m->kernel[0])) {
            snprintf(why, why_len, "key %.*s is given twice", (int)kl, p);
            return -1;
        }
        if (k >= 0) {
            uint64_t u = 0;
            int ok = vl >= 1 && vl <= 20 && strspn(v, "0123456789") >= vl;
            for (size_t i = 0; ok && i < vl; i++) {
                unsigned dgt = (unsigned)(v[i] - '0');
                ok = u <= (UINT64_MAX - dgt) / 10;
                u = u * 10 + dgt;
            }
            if (!ok) {
                snprintf(why, why_len, "%.*s=%.*s is not a number (decimal digits, below 2^64)", (int)kl, p,
                         (int)(vl > 24 ? 24 : vl), v);
                return -1;
            }
            m->v[k] = u;
            m->seen[k] = 1;
        } else if (is_kernel) {
            if (vl == 0 || vl >= sizeof m->kernel || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") < vl) {
                snprintf(why, why_len, "kernel=%.*s is not a kernel path's name", (int)(vl > 24 ? 24 : vl), v);
                return -1;
            }
            memcpy(m->kernel, v, vl);
            m->kernel[vl] = '\0';
        }
        p = nl + 1;
    }
    return 0;
}

/* Whether the values of a parsed serve.meta hold together (format 1 or 2
 * aside): 0, or -1 with why. */
static int meta_check(const meta *m, char *why, size_t why_len)
{
    const uint64_t *v = m->v;
    for (int i = 0; i < M_KEYS; i++)
        if (!m->seen[i])
            return snprintf(why, why_len, "it has no %s", META_KEYS[i]), -1;
    if (v[M_FORMAT] < 1)
        return snprintf(why, why_len, "format=%llu is no state format (1 or 2)", (unsigned long long)v[M_FORMAT]),
               -1;
    if (v[M_GEN] > UINT32_MAX)
        return snprintf(why, why_len, "gen=%llu is beyond 2^32 - 1", (unsigned long long)v[M_GEN]), -1;
    if (v[M_NEXT] == 0 || v[M_DEC] != v[M_NEXT] - 1)
        return snprintf(why, why_len, "decisions=%llu with next_seq=%llu: decisions are numbered from 1, so "
                        "next_seq is decisions + 1", (unsigned long long)v[M_DEC], (unsigned long long)v[M_NEXT]),
               -1;
    if (v[M_REW] > v[M_DEC])
        return snprintf(why, why_len, "rewards=%llu, more than decisions=%llu", (unsigned long long)v[M_REW],
                        (unsigned long long)v[M_DEC]),
               -1;
    if (v[M_GEN] > v[M_LSN] || (v[M_LSN] > 0 && v[M_GEN] == 0) || (v[M_LSN] == 0 && v[M_DEC] > 0))
        return snprintf(why, why_len, "gen=%llu and decisions=%llu at lsn=%llu: each generation starts with a log "
                        "record of its own, and gen 1 with record 1 (lsn 0, gen 0: a new state, which has made no "
                        "decision)", (unsigned long long)v[M_GEN], (unsigned long long)v[M_DEC],
                        (unsigned long long)v[M_LSN]),
               -1;
    return 0;
}

/* The memory budget of loading the snapshot at path (docs/serve.md,
 * "Memory at a start"): the file, which the reader holds whole while the
 * policy is built from it, plus twice the policy's budget (max_memory:
 * --max-memory, or 0 for the default budget) and 64M. Twice: the library
 * reserves some of a policy's arrays twice while it loads them (cohort's
 * load reserves 1.2 times its estimate for thousands of users, more for a
 * few); 64M for the reader's own. Whether the state fits the budget is
 * state_load's check, on the policy's estimate, as colb_policy_add_users
 * checks it live; this budget only bounds what a hostile file can make the
 * load allocate, and never refuses a state that fits (the library's
 * default for a load, 8 GiB in all, refused one of 4 GiB or so). */
static size_t load_budget(const char *path, size_t max_memory)
{
    struct stat sb;
    size_t file = stat(path, &sb) == 0 && sb.st_size > 0 ? (size_t)sb.st_size : 0;
    size_t b = max_memory ? max_memory : colb_memory_budget_default(), extra = (size_t)64 << 20;
    if (b > (SIZE_MAX - extra) / 2 || file > SIZE_MAX - extra - 2 * b)
        return SIZE_MAX;
    return file + 2 * b + extra;
}

int state_load(state *s, const char *dir, serve_config *c, state_window_fn window, void *ctx, char *err,
               size_t err_len)
{
    char path[4200], msg[1024];
    memset(s, 0, sizeof *s);
    snprintf(path, sizeof path, "%s/snapshot.colb", dir);
    colb_snapshot_reader *r = NULL;
    colb_load_options lo;
    colb_load_options_default(&lo);
    lo.memory_budget = load_budget(path, c->pp.max_memory);
    if (colb_snapshot_reader_open(path, &lo, &r, msg, sizeof msg) != COLB_OK)
        return FAIL("%s", msg);
    /* meta, options, users, decisions; window_log, generations (optional) */
    enum { NB = 6 };
    const void *blk[NB] = { NULL };
    size_t bl[NB] = { 0 }, pol = (size_t)-1;
    static const char *const names[NB] = { "serve.meta", "serve.options", "serve.users", "serve.decisions",
                                           "serve.window_log", "serve.generations" };
    int rc = 0;
    for (size_t i = 0; i < colb_snapshot_reader_count(r) && !rc; i++) {
        const char *label = colb_snapshot_reader_label(r, i);
        if (!strcmp(label, "policy") && colb_snapshot_reader_kind(r, i) == COLB_SNAPSHOT_POLICY)
            pol = i;
        for (int k = 0; k < NB; k++)
            if (!strcmp(label, names[k]) && colb_snapshot_get_bytes(r, i, &blk[k], &bl[k]) != COLB_OK)
                rc = FAIL("%s: %s", path, colb_snapshot_reader_last_error(r));
    }
    if (!rc && (!blk[0] || !blk[1] || !blk[2] || !blk[3]))
        rc = FAIL("%s is not a state of colb serve (a block is missing)", path);
    char opts[SERVE_OPTS_LEN];
    if (!rc && bl[1] >= sizeof opts)
        rc = FAIL("%s: block serve.options is malformed", path);
    if (!rc) {
        memcpy(opts, blk[1], bl[1]);
        opts[bl[1]] = '\0';
        rc = serve_config_resume(c, opts, err, err_len) ? -2 : 0; /* a usage error */
    }
    if (!rc)
        rc = state_init(s, c, err, err_len);
    meta mt;
    char mwhy[256];
    int mrc = rc ? 0 : meta_parse(blk[0], bl[0], &mt, mwhy, sizeof mwhy);
    if (!rc && mt.seen[M_FORMAT] && mt.v[M_FORMAT] > 2) /* before all else: a later format may differ in it */
        rc = FAIL("%s was written by a newer colb serve (state format %llu; this one reads 1 and 2)", path,
                  (unsigned long long)mt.v[M_FORMAT]);
    if (!rc && (mrc || meta_check(&mt, mwhy, sizeof mwhy)))
        rc = FAIL("%s: block serve.meta is malformed: %s", path, mwhy);
    uint64_t format = rc ? 1 : mt.v[M_FORMAT];
    if (!rc) {
        snprintf(s->kernel, sizeof s->kernel, "%s", mt.kernel); /* "": not recorded */
        s->lsn = mt.v[M_LSN];
        s->gen = (uint32_t)mt.v[M_GEN];
        s->next_seq = mt.v[M_NEXT];
        s->decisions = mt.v[M_DEC];
        s->rewards = mt.v[M_REW];
        rc = users_load(s->users, blk[2], bl[2], err, err_len);
    }
    if (!rc) { /* the users' counts add up to serve.meta's: every reward is counted for its user, every
                * decision too (but those of a round the policy failed part-way, after the failure) */
        uint64_t nd = 0, nr = 0;
        for (size_t u = 0; u < users_count(s->users); u++)
            nd += users_decisions(s->users, u), nr += users_rewards(s->users, u);
        if (nr != s->rewards || nd > s->decisions)
            rc = FAIL("%s: block serve.meta says decisions=%llu and rewards=%llu, but block serve.users counts "
                      "%llu decisions and %llu rewards", path, (unsigned long long)s->decisions,
                      (unsigned long long)s->rewards, (unsigned long long)nd, (unsigned long long)nr);
    }
    size_t stored = 0; /* the snapshot's window (which its window_log block is checked against) */
    if (!rc) {
        char why[256];
        size_t want = 0;
        if (window && bl[3] >= 8) {
            uint64_t W = get_u64(blk[3]);
            want = window(ctx, s->lsn, W > SIZE_MAX ? SIZE_MAX : (size_t)W);
        }
        decisions *d = decisions_load(blk[3], bl[3], s->d, users_count(s->users), want, s->next_seq, &stored, why,
                                      sizeof why);
        if (!d)
            rc = FAIL("%s: %s", path, why);
        else {
            decisions_free(s->dec);
            s->dec = d;
        }
    }
    if (!rc && blk[5]) {
        char why[256];
        if (generations_load(s->gens, blk[5], bl[5], s->gen, s->next_seq, why, sizeof why))
            rc = FAIL("%s: %s", path, why);
    } else if (!rc && generations_unrecorded(s->gens, s->gen, s->next_seq)) {
        /* a state of a colb serve that did not record its generations:
         * the record starts here (generations.h) */
        rc = FAIL("out of memory");
    }
    if (!rc && (blk[4] != NULL) != (format == 2))
        rc = FAIL("%s: block serve.window_log %s with state format %llu", path, blk[4] ? "present" : "missing",
                  (unsigned long long)format);
    if (!rc && blk[4]) {
        char why[256];
        if (decisions_ref_load(blk[4], bl[4], stored, s->next_seq, &s->fill, &s->fill_bits, why, sizeof why))
            rc = FAIL("%s: %s", path, why);
        else if (s->fill.lsn > s->lsn || s->fill.gen != s->gen)
            rc = FAIL("%s: block serve.window_log is malformed", path);
        s->fill_seq = s->fill.seq_from;
    }
    /* the budget (--max-memory) bounds the state as colb_policy_add_users
     * bounded it live, on the policy's estimate for its users: a state
     * that fits loads, one that does not is refused as its replay would be */
    if (!rc && pol != (size_t)-1 && c->pp.max_memory) {
        /* with a round of one arm, every reward's (colb_policy_update): a
         * state whose rewards would be refused does not start either */
        colb_policy_params q = s->pp;
        q.users = users_count(s->users);
        q.max_memory = c->pp.max_memory;
        char why[512];
        if (colb_policy_round_check_for(s->policy, &q, 1, why, sizeof why) == COLB_ENOMEM)
            rc = FAIL("%s: the state's policy (%s, %zu users, d = %zu) with a round of one arm, every reward's, is "
                      "beyond --max-memory: %s: a state that needs more than the budget does not start (give a "
                      "larger --max-memory)", path, s->policy, q.users, s->d, why);
    }
    colb_status pst = COLB_OK;
    if (!rc && pol != (size_t)-1 && (pst = colb_snapshot_get_policy(r, pol, &s->p)) != COLB_OK)
        rc = FAIL("%s: %s%s", path, colb_snapshot_reader_last_error(r),
                  pst == COLB_ENOMEM ? " (the load's budget: the snapshot's size, twice the policy's budget "
                  "(--max-memory, or the default one) and 64M)" : "");
    if (!rc && (s->p ? colb_policy_users(s->p) : 0) != users_count(s->users))
        rc = FAIL("%s: the policy has %zu users, the user list %zu", path, s->p ? colb_policy_users(s->p) : 0,
                  users_count(s->users));
    if (!rc && s->p && strcmp(colb_policy_name(s->p), s->policy))
        rc = FAIL("%s: holds policy '%s', its options say '%s'", path, colb_policy_name(s->p), s->policy);
    /* the snapshot does not hold the budget (a limit of the process): this
     * one's, for the users the log's replay and the service add */
    if (!rc && s->p)
        colb_policy_set_max_memory(s->p, s->pp.max_memory);
    colb_snapshot_reader_free(r);
    if (rc && s->users)
        state_free(s);
    return rc < 0 ? rc : rc ? -1 : 0;
}

/* ---- JSON views -------------------------------------------------------------- */

/* The policy's clusters in s->labels; the number of clusters, or 0 when
 * the policy does not cluster (each user on its own). */
static size_t clusters(state *s, int *have)
{
    size_t N = users_count(s->users), nc = 0;
    *have = 0;
    if (!s->p || N == 0)
        return 0;
    if (N > s->labels_cap) {
        size_t *l = realloc(s->labels, N * sizeof *l);
        if (!l)
            return 0;
        s->labels = l;
        s->labels_cap = N;
    }
    if (colb_policy_clusters(s->p, s->labels, &nc) != COLB_OK)
        return 0;
    *have = 1;
    return nc;
}

char *state_stats_json(state *s, int refusing, size_t *len)
{
    int have;
    size_t nc = clusters(s, &have), N = users_count(s->users);
    sbuf b = { 0 };
    sbuf_put(&b, "{\"policy\":", 10);
    codec_put_string(&b, s->policy, strlen(s->policy));
    sbuf_printf(&b, ",\"dim\":%zu,\"users\":%zu,\"clusters\":%zu,\"clustered\":%s,\"decisions\":%" PRIu64
                ",\"rewards\":%" PRIu64 ",\"rounds\":%" PRIu64 ",\"generation\":%u,\"lsn\":%" PRIu64
                ",\"decision_window\":%zu,\"healthy\":%s,\"info\":", s->d, N, have ? nc : N, have ? "true" : "false",
                s->decisions, s->rewards, s->p ? colb_policy_rounds(s->p) : 0, (unsigned)s->gen, s->lsn,
                decisions_window(s->dec), s->fenced || refusing ? "false" : "true");
    const char *info = s->p ? colb_policy_info(s->p) : "";
    codec_put_string(&b, info, strlen(info));
    sbuf_put(&b, "}", 1);
    return sbuf_take(&b, len);
}

int state_user_json(state *s, const char *id, size_t n, char **body, size_t *len)
{
    size_t slot = users_find(s->users, id, n);
    *body = NULL;
    if (slot == USERS_NONE)
        return 404;
    double *theta = scratch_X(s, s->d);
    if (!theta)
        return 500;
    /* COLB_EUNSUP: no estimate (random); COLB_ENUMERIC: none to trust (the
     * policy failed numerically) */
    colb_status st = colb_policy_user_theta(s->p, slot, theta);
    if (st != COLB_OK && st != COLB_EUNSUP && st != COLB_ENUMERIC)
        return 500;
    int have;
    clusters(s, &have);
    sbuf b = { 0 };
    sbuf_put(&b, "{\"user\":", 8);
    codec_put_string(&b, id, n);
    sbuf_printf(&b, ",\"slot\":%zu,\"decisions\":%" PRIu64 ",\"rewards\":%" PRIu64 ",\"cluster\":", slot,
                users_decisions(s->users, slot), users_rewards(s->users, slot));
    if (have)
        sbuf_printf(&b, "%zu", s->labels[slot]);
    else
        sbuf_put(&b, "null", 4);
    if (st == COLB_OK) {
        sbuf_put(&b, ",\"theta\":[", 10);
        for (size_t j = 0; j < s->d; j++) {
            if (j)
                sbuf_put(&b, ",", 1);
            codec_put_double(&b, theta[j]);
        }
        sbuf_put(&b, "]}", 2);
    } else {
        sbuf_put(&b, ",\"theta\":null}", 14);
    }
    *body = sbuf_take(&b, len);
    return *body ? 200 : 500;
}
