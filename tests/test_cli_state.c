/* test_cli_state.c - colb serve's state (serve/state.c) on its own, where
 * the live path and a replay of its log must agree although the policy
 * failed (a "fence": the service then refuses writes, and a restart must
 * come back to the same fenced state instead of refusing to start):
 *
 *   fence    with the applier, the live service logs (and counts) the
 *            rewards it accepted before an update of theirs failed; the
 *            replay of that log fences at the same item and accepts the
 *            items after it without updating, like the live service;
 *   choose   a round whose choice fails part-way (an unknown user slot
 *            here) still gives every user of the round a valid arm, which
 *            the record logged for it holds (not whatever the caller's
 *            array held), so that the record decodes in a replay;
 *   contexts a choose record or a snapshot's window with a context no
 *            request could have sent (NaN, beyond the limits) is refused
 *            as malformed, though its checksum holds (it was read back,
 *            and failed the policy at the reward that used it);
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
static void init(state *s, int start)
{
    serve_config c;
    serve_config_default(&c);
    snprintf(c.policy, sizeof c.policy, "linucb-ind");
    c.pp.dim = D;
    c.decision_window = WINDOW;
    char err[256];
    if (state_init(s, &c, err, sizeof err))
        fail_msg("state_init: %s", err);
    if (start)
        assert_int_equal(state_start(s, 1, WINDOW), 0);
}

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
    assert_int_equal(state_choose(&live, K, X, 2, slots, arms, NULL, &first, &code, why, sizeof why), 0);
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
    rec_start st = { 1, WINDOW, 0 };
    log[0].type = REC_START;
    log[0].len = rec_start_size();
    rec_start_put(log[0].p, &st);
    log[1].type = REC_USERS;
    log[1].len = rec_users_size(2, 2);
    rec_users_put_id(rec_users_put_id(rec_users_put(log[1].p, 0, 2), "a", 1), "b", 1);
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
    assert_int_equal(state_choose(&s, K, X, 3, slots, arms, NULL, &first, &code, why, sizeof why), 1);
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
    decisions_image *im = decisions_capture(w, 0);
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
        cmocka_unit_test(test_contexts_read_back),
        cmocka_unit_test(test_users_truncate),
        cmocka_unit_test(test_resume_options_before_estimate),
    };
    return cmocka_run_group_tests_name("colb serve state", tests, NULL, NULL);
}
