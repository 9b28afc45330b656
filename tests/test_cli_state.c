/* test_cli_state.c - colb serve's state (serve/state.c) on its own, where
 * the live path and a replay of its log must agree although the policy
 * failed (a "fence": the service then refuses writes, and a restart must
 * come back to the same fenced state instead of refusing to start):
 *
 *   fence    with the applier, the live service logs (and counts) the
 *            rewards it accepted before an update of theirs failed; the
 *            replay of that log fences at the same item and accepts the
 *            items after it without updating, like the live service;
 *   chosen   the compact choose records of a policy whose choices leave
 *            no state replay to the live state;
 *   choose   a round whose choice fails part-way (an unknown user slot
 *            here) still gives every user of the round a valid arm, which
 *            the record logged for it holds (not whatever the caller's
 *            array held), so that the record decodes in a replay;
 *   contexts a choose record or a snapshot's window with a context no
 *            request could have sent (NaN, beyond the limits) is refused
 *            as malformed, though its checksum holds (it was read back,
 *            and failed the policy at the reward that used it);
 *   window   a capture whose window was serialised first (by the thread
 *            that writes it, or by a fork()ed child) writes what one
 *            serialised at its write does, and then holds none of the
 *            window's chunks (the child's: once released);
 *   users    the users' table after users that were added and then
 *            taken back (a request refused at --max-users), across the
 *            table's growth: every remaining id at its slot, none of
 *            those taken back, and new ones added after them.
 */
#include "testutil.h"

#include <math.h>

#include "config.h"
#include "decisions.h"
#include "records.h"
#include "state.h"
#include "users.h"

enum { D = 2, K = 2, WINDOW = 16 };

static const double X[K * D] = { 1.0, 0.0, 0.0, 1.0 };

/* A new state; with `start`, in generation 1 (a replay starts it from its
 * log's first record). */
static void init_policy(state *s, int start, const char *policy)
{
    serve_config c;
    serve_config_default(&c);
    snprintf(c.policy, sizeof c.policy, "%s", policy);
    c.pp.dim = D;
    c.decision_window = WINDOW;
    char err[256];
    if (state_init(s, &c, err, sizeof err))
        fail_msg("state_init: %s", err);
    if (start)
        assert_int_equal(state_start(s, 1, WINDOW), 0);
}

static void init(state *s, int start) { init_policy(s, start, "linucb-ind"); }

static void add_users(state *s, size_t n)
{
    static const char *const ids[] = { "a", "b", "c" };
    size_t lens[3] = { 1, 1, 1 }, first, added;
    char why[256];
    assert_true(n <= 3);
    assert_int_equal(state_add_users(s, ids, lens, n, SIZE_MAX, 0, NULL, &first, &added, why, sizeof why), 0);
    assert_int_equal(added, n);
}

/* A log record: its type and payload. */
typedef struct rec {
    uint32_t type;
    unsigned char p[512];
    size_t len;
} rec;

/* A log's first two records: the START of generation 1 and the USERS
 * record of add_users(n). */
static void log_head(rec *log, size_t n)
{
    static const char *const ids[] = { "a", "b", "c" };
    rec_start st = { 1, WINDOW, 0 };
    log[0].type = REC_START;
    log[0].len = rec_start_size();
    rec_start_put(log[0].p, &st);
    log[1].type = REC_USERS;
    log[1].len = rec_users_size(n, n);
    unsigned char *q = rec_users_put(log[1].p, 0, n);
    for (size_t i = 0; i < n; i++)
        q = rec_users_put_id(q, ids[i], 1);
}

static void replay(state *s, const rec *log, size_t n)
{
    char err[512];
    for (size_t i = 0; i < n; i++)
        if (state_apply(s, i + 1, log[i].type, log[i].p, log[i].len, err, sizeof err))
            fail_msg("replaying record %zu: %s", i + 1, err);
}

static void test_fence_replay(void **cm)
{
    (void)cm;
    /* the live service, with the applier: both rewards accepted and
     * logged, then the first one's update fails (a reward the policy
     * refuses, as a numerical failure would) */
    static state live, again;
    init(&live, 1);
    add_users(&live, 2);
    uint64_t slots[2] = { 0, 1 };
    uint32_t arms[2];
    decision_id first;
    int code;
    char why[256];
    assert_int_equal(state_choose(&live, K, X, 2, slots, arms, NULL, 0, &first, &code, why, sizeof why), 0);
    decision_id id0 = first, id1 = { first.gen, first.seq + 1 };
    const double y0 = NAN, y1 = 1.0;
    uint64_t user;
    const double *x0, *x1;
    assert_int_equal(state_accept_reward(&live, id0, &user, &x0), DEC_PENDING);
    assert_int_equal(state_accept_reward(&live, id1, &user, &x1), DEC_PENDING);
    assert_int_equal(state_policy_update(live.p, 0, x0, y0, why, sizeof why), -1);
    state_fence(&live, why);

    /* its log */
    static rec log[4];
    log_head(log, 2);
    log[2].type = REC_CHOOSE;
    log[2].len = rec_choose_size(2, K, D);
    rec_choose_put(log[2].p, first, K, D, X, 2, slots, arms);
    log[3].type = REC_REWARD;
    log[3].len = rec_reward_size(2);
    rec_reward_put_item(rec_reward_put_item(rec_reward_put(log[3].p, 2), id0, y0), id1, y1);
    for (size_t i = 0; i < 4; i++)
        assert_true(log[i].len <= sizeof log[i].p);

    /* a restart replays it: fenced at the same item, the next accepted */
    init(&again, 0);
    replay(&again, log, 4);
    assert_true(again.fenced);
    assert_int_equal(again.rewards, live.rewards);
    assert_int_equal(again.decisions, live.decisions);
    assert_int_equal(state_accept_reward(&again, id1, &user, &x1), DEC_REWARDED);
    state_free(&live);
    state_free(&again);
}

/* A policy whose choices leave no state (the recommended one) is logged
 * with CHOSEN records: one context a user instead of the round's K. The
 * replay of such a log, its rounds run without choices, ends in the live
 * state: the policy's snapshot byte for byte, the counts, and every pending
 * decision's context. A CHOSEN record of the wrong length is malformed. */
enum { CK = 5, STEPS = 90 };

static unsigned char *policy_image(const state *s, size_t *len)
{
    char msg[256];
    colb_policy_save_buffer(s->p, NULL, 0, len, msg, sizeof msg);
    unsigned char *b = malloc(*len);
    assert_non_null(b);
    assert_int_equal(colb_policy_save_buffer(s->p, b, *len, len, msg, sizeof msg), COLB_OK);
    return b;
}

static void test_chosen_replay(void **cm)
{
    (void)cm;
    static state live, again;
    static rec log[2 + 2 * STEPS];
    init_policy(&live, 1, "recommended");
    add_users(&live, 3);
    assert_true(colb_policy_choices_leave_no_state(live.p));
    log_head(log, 3);
    size_t nl = 2;
    double Xr[CK * D];
    decision_id pending = { 0, 0 };
    for (size_t t = 0; t < STEPS; t++) {
        uint64_t slot = t % 3;
        uint32_t arm;
        decision_id id;
        int code;
        char why[256];
        for (size_t i = 0; i < CK * D; i++)
            Xr[i] = sin(1.0 + (double)(t * CK * D + i));
        assert_int_equal(state_choose(&live, CK, Xr, 1, &slot, &arm, NULL, 0, &id, &code, why, sizeof why), 0);
        log[nl].type = REC_CHOSEN;
        log[nl].len = rec_chosen_size(1, D);
        assert_true(log[nl].len < rec_choose_size(1, CK, D));
        rec_chosen_put(log[nl++].p, id, CK, D, Xr, 1, &slot, &arm);
        if (t == STEPS - 1) { /* the last decision stays pending */
            pending = id;
            break;
        }
        const double *x = Xr + arm * D;
        double y = (slot == 1 ? 1.0 : -1.0) * x[0] + 0.5 * x[1];
        int fenced;
        assert_int_equal(state_reward(&live, id, y, &fenced), DEC_PENDING);
        log[nl].type = REC_REWARD;
        log[nl].len = rec_reward_size(1);
        rec_reward_put_item(rec_reward_put(log[nl++].p, 1), id, y);
    }
    init_policy(&again, 0, "recommended");
    replay(&again, log, nl);
    size_t la, lb;
    unsigned char *a = policy_image(&live, &la), *b = policy_image(&again, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    assert_int_equal(again.decisions, live.decisions);
    assert_int_equal(again.rewards, live.rewards);
    uint64_t ua, ub;
    const double *xa, *xb;
    assert_int_equal(state_accept_reward(&live, pending, &ua, &xa), DEC_PENDING);
    assert_int_equal(state_accept_reward(&again, pending, &ub, &xb), DEC_PENDING);
    assert_int_equal(ua, ub);
    assert_memory_equal(xa, xb, D * sizeof(double));
    /* a CHOSEN record read as long as a CHOOSE one, or short, is malformed */
    rec_choose r;
    const rec *c = &log[2];
    assert_int_equal(rec_chosen_get(c->p, c->len, D, &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.K, CK);
    assert_int_not_equal(rec_choose_get(c->p, c->len, D, &r), 0);
    assert_int_not_equal(rec_chosen_get(c->p, c->len - 8, D, &r), 0);
    state_free(&live);
    state_free(&again);
}

static void test_choose_fails_part_way(void **cm)
{
    (void)cm;
    static state s;
    init(&s, 1);
    add_users(&s, 2);
    uint64_t slots[3] = { 0, 7, 1 }; /* slot 7: no such user */
    uint32_t arms[3] = { 0xdeadbeef, 0xdeadbeef, 0xdeadbeef };
    decision_id first;
    int code;
    char why[256];
    assert_int_equal(state_choose(&s, K, X, 3, slots, arms, NULL, 0, &first, &code, why, sizeof why), 1);
    assert_true(s.fenced);
    for (int i = 0; i < 3; i++)
        if (arms[i] >= K)
            fail_msg("user %d of the failed round has arm %u, not one of the %d", i, arms[i], K);
    /* the record the writer logs for it decodes */
    static unsigned char p[512];
    size_t len = rec_choose_size(3, K, D);
    assert_true(len <= sizeof p);
    rec_choose_put(p, first, K, D, X, 3, slots, arms);
    rec_choose r;
    assert_int_equal(rec_choose_get(p, len, D, &r), 0);
    state_free(&s);
}

static void test_contexts_read_back(void **cm)
{
    (void)cm;
    static unsigned char p[512];
    uint64_t slots[1] = { 0 };
    uint32_t arms[1] = { 1 };
    decision_id first = { 1, 1 };
    const double bad[][K * D] = { { 1.0, 0.0, NAN, 1.0 }, { 1.0, 0.0, 0.0, INFINITY }, { 2e6, 0.0, 0.0, 1.0 } };
    size_t len = rec_choose_size(1, K, D);
    rec_choose r;
    rec_choose_put(p, first, K, D, X, 1, slots, arms);
    assert_int_equal(rec_choose_get(p, len, D, &r), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rec_choose_put(p, first, K, D, bad[i], 1, slots, arms);
        if (rec_choose_get(p, len, D, &r) == 0)
            fail_msg("a choose record with context %zu (%g %g %g %g) was read", i, bad[i][0], bad[i][1], bad[i][2],
                     bad[i][3]);
    }
    /* the snapshot's window: one pending decision, its context then NaN */
    decisions *w = decisions_create(WINDOW, D);
    assert_non_null(w);
    decisions_put(w, first, 0, X);
    decisions_image *im = decisions_capture(w, UINT64_MAX);
    unsigned char *blk;
    size_t n;
    char err[256];
    assert_non_null(im);
    assert_int_equal(decisions_image_save(im, 0, &blk, &n), 0);
    decisions *back = decisions_load(blk, n, D, 1, 0, 2, NULL, err, sizeof err);
    assert_non_null(back);
    decisions_free(back);
    double nan = NAN;
    memcpy(blk + n - 8, &nan, 8); /* the context's last value (little-endian hosts) */
    back = decisions_load(blk, n, D, 1, 0, 2, NULL, err, sizeof err);
    if (back)
        fail_msg("a window with a NaN context was loaded");
    assert_non_null(strstr(err, "malformed"));
    free(blk);
    decisions_image_free(im);
    decisions_free(w);
}

/* state_image_write's bytes for im (malloc'd, *len). */
static unsigned char *image_bytes(const state_image *im, size_t *len)
{
    char *buf = NULL, err[256];
    size_t n = 0, written, policy_len;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    if (state_image_write(im, f, &written, &policy_len, err, sizeof err))
        fail_msg("state_image_write: %s", err);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(written, n);
    *len = n;
    return (unsigned char *)buf;
}

/* A capture whose window the snapshot thread serialised first (before the
 * policy's save and the paced write) writes the bytes of one serialised
 * when written, although the writer made decisions in between, and holds
 * none of the window's chunks from then on: the writer puts decisions in
 * place instead of copying chunks (a 4,096-decision chunk at a time). */
static void test_window_serialised_first(void **cm)
{
    (void)cm;
    static state s;
    init(&s, 1);
    add_users(&s, 3);
    uint64_t slots[3] = { 0, 1, 2 };
    uint32_t arms[3];
    decision_id first;
    int code;
    char why[256], err[256];
    for (int r = 0; r < 7; r++) /* 21 decisions, past the window's 16 */
        assert_int_equal(state_choose(&s, K, X, 3, slots, arms, NULL, 0, &first, &code, why, sizeof why), 0);
    state_image *early = state_capture(&s, 0, 0, NULL, err, sizeof err);
    state_image *late = state_capture(&s, 0, 0, NULL, err, sizeof err);
    assert_non_null(early);
    assert_non_null(late);
    assert_int_equal(decisions_shared_chunks(s.dec), 1);
    assert_int_equal(state_image_serialise_window(early), 0);
    assert_int_equal(state_image_serialise_window(early), 0); /* once is enough */
    for (int r = 0; r < 4; r++) /* the writer goes on: late's chunk is copied */
        assert_int_equal(state_choose(&s, K, X, 3, slots, arms, NULL, 0, &first, &code, why, sizeof why), 0);
    size_t le, ll;
    unsigned char *be = image_bytes(early, &le), *bl = image_bytes(late, &ll);
    assert_int_equal(le, ll);
    assert_memory_equal(be, bl, le);
    free(be);
    free(bl);
    state_image_free(late);
    assert_int_equal(decisions_shared_chunks(s.dec), 0); /* early holds none */
    /* a live capture (the writer's own policy and users) has its window
     * serialised all the same (its flags are a copy), which lets the
     * chunks go; its bytes are those of a capture written whole */
    state_image *live = state_capture(&s, 1, 0, NULL, err, sizeof err);
    assert_non_null(live);
    assert_int_equal(decisions_shared_chunks(s.dec), 1);
    assert_int_equal(state_image_serialise_window(live), 0);
    assert_int_equal(decisions_shared_chunks(s.dec), 0);
    state_image *whole = state_capture(&s, 1, 0, NULL, err, sizeof err);
    assert_non_null(whole);
    unsigned char *bw = image_bytes(whole, &ll);
    be = image_bytes(live, &le);
    assert_int_equal(le, ll);
    assert_memory_equal(be, bw, le);
    free(be);
    free(bw);
    state_image_free(whole);
    state_image_free(live);
    state_image_free(early);
    state_free(&s);
}

/* ids "u<i>" */
static size_t uid(char *b, size_t i) { return (size_t)snprintf(b, 32, "u%zu", i); }

static void test_users_truncate(void **cm)
{
    (void)cm;
    users *u = users_create();
    assert_non_null(u);
    char b[32];
    size_t n = 0;
    /* rounds of 1 to 300 new ids of which the last ones are taken back:
     * taken-back batches cross the table's doublings (64, 128, ...) */
    for (size_t round = 0; round < 40; round++) {
        size_t add = 1 + (round * 37) % 300, keep = round % 3 ? add / 2 : 0;
        for (size_t k = 0; k < add; k++)
            assert_int_equal(users_add(u, b, uid(b, 100000 * (round + 1) + k)), 0);
        users_truncate(u, n + keep);
        for (size_t k = 0; k < add; k++) {
            size_t slot = users_find(u, b, uid(b, 100000 * (round + 1) + k));
            if (k < keep ? slot != n + k : slot != USERS_NONE)
                fail_msg("round %zu: id %s at slot %zu, expected %zu", round, b, slot, k < keep ? n + k : USERS_NONE);
        }
        n += keep;
        assert_int_equal(users_count(u), n);
    }
    /* every kept id still at its slot, its text intact */
    for (size_t s = 0; s < n; s++) {
        size_t len;
        const char *id = users_id(u, s, &len);
        assert_int_equal(users_find(u, id, len), s);
    }
    users_free(u);
}

/* The options of a state made before cohort-estimate-noise existed (no
 * such line) resume as that state ran: the noise scale fixed, not today's
 * default; a state that names the key keeps its value. */
static void test_resume_options_before_estimate(void **cm)
{
    (void)cm;
    static const char *const texts[] = { "policy=cohort\ndim=3\nlearner-noise=0.5\n",
                                         "policy=cohort\ndim=3\ncohort-estimate-noise=1\n" };
    for (int i = 0; i < 2; i++) {
        serve_config c;
        serve_config_default(&c);
        snprintf(c.state_dir, sizeof c.state_dir, "/tmp/x");
        char err[256];
        if (serve_config_resume(&c, texts[i], err, sizeof err))
            fail_msg("resume: %s", err);
        assert_string_equal(c.policy, "cohort");
        assert_int_equal(c.pp.cohort_estimate_noise, i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fence_replay),
        cmocka_unit_test(test_choose_fails_part_way),
        cmocka_unit_test(test_chosen_replay),
        cmocka_unit_test(test_contexts_read_back),
        cmocka_unit_test(test_window_serialised_first),
        cmocka_unit_test(test_users_truncate),
        cmocka_unit_test(test_resume_options_before_estimate),
    };
    return cmocka_run_group_tests_name("colb serve state", tests, NULL, NULL);
}
