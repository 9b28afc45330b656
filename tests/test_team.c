/* test_team.c - the thread team (core/team.h) and what the simulator overlaps
 * on it: every item of a run claimed exactly once and the side task run once,
 * also when the caller is held up and the workers take its range; the
 * environment's round drawn ahead (colb__env_prefetch) equal to the round
 * drawn when it comes, also through a snapshot taken while one is pending;
 * and a LinUCB-Ind simulation on 1, 2 and 3 threads giving, bit for bit, the
 * regret of a plain loop over the public API (which draws nothing ahead);
 * the rounds a repeat's environments share through a tape (env_tape.h)
 * equal to the rounds each draws, and simulations the same with and
 * without them. */
#include "testutil.h"

#include <stdatomic.h>
#include <time.h>

#include "core/team.h"
#include "envs/env_impl.h"
#include "persist/snapshot.h"
#include "sim/sim_impl.h"

/* ---- the team ---------------------------------------------------------- */

typedef struct count_ctx {
    _Atomic int *hits;      /* per item */
    _Atomic int bad_part;   /* a call with part >= size or an empty range */
    size_t size, chunk;
} count_ctx;

static void count_items(void *ctx, size_t i0, size_t i1, size_t part)
{
    count_ctx *c = ctx;
    if (part >= c->size || i0 >= i1 || i1 - i0 > c->chunk)
        atomic_fetch_add(&c->bad_part, 1);
    for (size_t i = i0; i < i1; i++)
        atomic_fetch_add(&c->hits[i], 1);
}

typedef struct side_ctx {
    int runs;
    long sleep_ns;
} side_ctx;

static void side_task(void *ctx)
{
    side_ctx *s = ctx;
    s->runs++;
    if (s->sleep_ns) { /* hold the caller up: the workers take its range */
        struct timespec ts = { 0, s->sleep_ns };
        nanosleep(&ts, NULL);
    }
}

static void test_team_covers_every_item_once(void **state)
{
    (void)state;
    static const size_t ns[] = { 0, 1, 2, 7, 64, 1001 }, chunks[] = { 1, 3, 16 };
    for (size_t size = 2; size <= 3; size++) {
        colb__team *t = NULL;
        assert_ok(colb__team_create(size, &t));
        assert_int_equal(colb__team_size(t), size);
        for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
            for (size_t b = 0; b < sizeof chunks / sizeof chunks[0]; b++)
                for (int slow = 0; slow < 2; slow++) {
                    size_t n = ns[a];
                    count_ctx c = { .size = size, .chunk = chunks[b] };
                    c.hits = calloc(n ? n : 1, sizeof *c.hits);
                    atomic_init(&c.bad_part, 0);
                    side_ctx sc = { 0, slow ? 2000000 : 0 };
                    colb__task side = { side_task, &sc };
                    colb__team_for(t, n, chunks[b], count_items, &c, &side);
                    assert_int_equal(sc.runs, 1);
                    assert_null(side.fn); /* marked done */
                    assert_int_equal(atomic_load(&c.bad_part), 0);
                    for (size_t i = 0; i < n; i++)
                        if (atomic_load(&c.hits[i]) != 1)
                            fail_msg("size %zu, n %zu, chunk %zu: item %zu run %d times", size,
                                     n, chunks[b], i, atomic_load(&c.hits[i]));
                    free(c.hits);
                }
        /* runs back to back, no side task: a worker that wakes late for one
         * run must not run a later one's items twice */
        count_ctx c = { .size = size, .chunk = 2 };
        c.hits = calloc(50, sizeof *c.hits);
        atomic_init(&c.bad_part, 0);
        for (int r = 0; r < 2000; r++)
            colb__team_for(t, 50, 2, count_items, &c, NULL);
        for (size_t i = 0; i < 50; i++)
            assert_int_equal(atomic_load(&c.hits[i]), 2000);
        free(c.hits);
        colb__team_free(t);
    }
    colb__team_free(NULL);
    colb__task_run(NULL); /* harmless */
}

/* ---- the environment's round drawn ahead -------------------------------- */

static void env_params(colb_env_params *ep, colb_env_kind kind)
{
    colb_env_params_default(ep);
    ep->kind = kind;
    ep->users = 37;
    ep->dim = 6;
    ep->arms = 9;
    ep->clusters = 3;
}

/* What a round shows: contexts, every user's reward and regret on every arm. */
static void same_round(colb_env *a, colb_env *b)
{
    size_t N = colb_env_users(a), K = colb_env_arms(a), d = colb_env_dim(a);
    assert_memory_equal(colb_env_contexts(a, 0), colb_env_contexts(b, 0), K * d * sizeof(double));
    for (size_t u = 0; u < N; u++)
        for (size_t k = 0; k < K; k++) {
            double ra = colb_env_reward(a, u, k), rb = colb_env_reward(b, u, k);
            double ga = colb_env_regret(a, u, k), gb = colb_env_regret(b, u, k);
            assert_memory_equal(&ra, &rb, sizeof ra);
            assert_memory_equal(&ga, &gb, sizeof ga);
        }
}

/* n environments of kind, all made from seed 11. */
static void same_envs(colb_env_kind kind, colb_env **e, size_t n)
{
    char msg[256];
    colb_env_params ep;
    env_params(&ep, kind);
    for (size_t i = 0; i < n; i++)
        if (colb_env_create(&ep, 11, &e[i], msg, sizeof msg) != COLB_OK)
            fail_msg("env: %s", msg);
}

static void test_env_prefetch_same_rounds(void **state)
{
    (void)state;
    colb_env_kind kinds[] = { COLB_ENV_CLUSTERED, COLB_ENV_PERSONALIZED };
    for (size_t q = 0; q < 2; q++) {
        colb_env *e[2];
        same_envs(kinds[q], e, 2);
        colb_env *plain = e[0], *ahead = e[1];
        for (int t = 0; t < 40; t++) {
            assert_ok(colb_env_next_round(plain));
            assert_ok(colb_env_next_round(ahead));
            same_round(plain, ahead);
            /* drawn ahead in most rounds (twice in some: the second is a
             * no-op), and a round's outcomes in one call */
            if (t % 3)
                colb__env_prefetch(ahead);
            if (t % 5 == 1)
                colb__env_prefetch(ahead);
            same_round(plain, ahead); /* the current round is untouched */
            size_t N = colb_env_users(plain), K = colb_env_arms(plain);
            size_t arms[37];
            double y[37], reg = 0.0, ref = 0.0;
            for (size_t u = 0; u < N; u++) {
                arms[u] = (u * 7 + (size_t)t) % K;
                ref += colb_env_regret(plain, u, arms[u]);
            }
            colb__env_outcomes(ahead, arms, y, &reg);
            assert_memory_equal(&reg, &ref, sizeof reg);
            for (size_t u = 0; u < N; u++) {
                double r = colb_env_reward(plain, u, arms[u]);
                assert_memory_equal(&y[u], &r, sizeof r);
            }
            arms[3] = K; /* out of range: NaN, as colb_env_reward says */
            colb__env_outcomes(ahead, arms, y, &reg);
            assert_true(isnan(y[3]) && isnan(reg));
        }
        assert_int_equal(colb_env_rounds(plain), colb_env_rounds(ahead));
        colb_env_free(plain);
        colb_env_free(ahead);
    }
}

/* Three environments of one seed, two of them on a tape of 25 rounds: the
 * first draws and records, the second replays (a round drawn ahead at
 * times), then the second runs ahead and records, the first replays; past
 * the tape's end both draw from the streams the tape left them in. Every
 * round equals the plain environment's. */
static void test_env_tape_same_rounds(void **state)
{
    (void)state;
    colb_env_kind kinds[] = { COLB_ENV_CLUSTERED, COLB_ENV_PERSONALIZED };
    for (size_t q = 0; q < 2; q++) {
        colb_env *e[3];
        same_envs(kinds[q], e, 3);
        colb_env *plain = e[0], *a = e[1], *b = e[2];
        size_t seg[COLB__TAPE_SEGS], w;
        assert_int_equal(colb__env_tape_shape(a, seg, &w), 1);
        colb__tape *tape = colb__tape_create(25, seg, w);
        assert_non_null(tape);
        colb__env_attach_tape(a, tape);
        colb__env_attach_tape(b, tape);
        colb__tape_release(tape); /* the environments hold it */
        colb_env *order[40]; /* who draws round t first */
        for (int t = 0; t < 40; t++)
            order[t] = t < 12 || t >= 25 ? a : b;
        for (int t = 0; t < 40; t++) {
            colb_env *first = order[t], *second = first == a ? b : a;
            assert_ok(colb_env_next_round(plain));
            assert_ok(colb_env_next_round(first));
            if (t % 4 == 1)
                colb__env_prefetch(second);
            assert_ok(colb_env_next_round(second));
            same_round(plain, first);
            same_round(plain, second);
            if (t == 11) { /* a drew rounds 0-11, b replayed them */
                assert_true(colb__env_take_tape_seconds(a) > 0.0);
                assert_true(colb__env_take_tape_seconds(b) == 0.0);
            }
        }
        assert_true(colb__env_take_tape_seconds(b) > 0.0); /* rounds 12-24 */
        colb_env_free(plain);
        colb_env_free(a);
        colb_env_free(b);
    }
}

/* ---- the simulator: LinUCB-Ind on a team, the next round drawn meanwhile -- */

enum { SIM_N = 203, SIM_T = 90 };

static void sim_spec(colb_sim_spec *s, size_t threads)
{
    static const char *const ind[] = { "linucb-ind" };
    colb_sim_spec_default(s);
    s->env.kind = COLB_ENV_CLUSTERED;
    s->env.users = SIM_N; /* 26 blocks of 8, the last partial */
    s->env.dim = 7;
    s->env.arms = 11;
    s->env.clusters = 3;
    s->policies = ind;
    s->n_policies = 1;
    s->horizon = SIM_T;
    s->repeats = 1;
    s->seed = 29;
    s->threads = threads;
    s->curve_points = SIM_T; /* every round */
}

/* The per-user cumulative regret after every round, through the public
 * calls only (one thread, nothing drawn ahead), as the simulator sums it. */
static void plain_curve(double *curve)
{
    colb_sim_spec s;
    sim_spec(&s, 1);
    char msg[COLB__ERRLEN];
    colb_env *env = NULL;
    assert_ok(colb__sim_make_env(&s, 0, &env, msg));
    size_t N = colb_env_users(env), K = colb_env_arms(env), labels[SIM_N], arms[SIM_N];
    double y[SIM_N], reg = 0.0;
    colb_policy_params pp;
    colb__sim_job_params(&s, "linucb-ind", 0, 1, env, labels, &pp);
    assert_int_equal(pp.threads, 1);
    colb_policy *pol = NULL;
    assert_ok(colb_policy_create("linucb-ind", &pp, &pol, msg, sizeof msg));
    for (size_t t = 0; t < SIM_T; t++) {
        assert_ok(colb_env_next_round(env));
        assert_ok(colb_policy_begin_round(pol, colb_env_contexts(env, 0), K));
        assert_ok(colb_policy_choose_all(pol, arms));
        double sum = 0.0;
        for (size_t u = 0; u < N; u++) {
            y[u] = colb_env_reward(env, u, arms[u]);
            sum += colb_env_regret(env, u, arms[u]);
        }
        for (size_t u = 0; u < N; u++)
            assert_ok(colb_policy_observe(pol, u, arms[u], y[u]));
        assert_ok(colb_policy_end_round(pol));
        reg += sum;
        curve[t] = reg / (double)N;
    }
    colb_policy_free(pol);
    colb_env_free(env);
}

static void same_curve(const colb_sim_result *r, const double *curve, const char *what)
{
    assert_int_equal(colb_sim_result_points(r), SIM_T);
    for (size_t k = 0; k < SIM_T; k++) {
        double x = colb_sim_result_regret(r, 0, 0, k);
        if (memcmp(&x, &curve[k], sizeof x))
            fail_msg("%s: round %zu: %.17g, the plain loop %.17g", what, k + 1, x, curve[k]);
    }
}

static int stop_after(void *ctx)
{
    int *left = ctx;
    return __atomic_sub_fetch(left, 1, __ATOMIC_SEQ_CST) < 0;
}

static void test_sim_threads_match_plain_loop(void **state)
{
    (void)state;
    double curve[SIM_T];
    plain_curve(curve);
    char msg[512], what[64];
    for (size_t th = 1; th <= 3; th++) {
        colb_sim_spec s;
        sim_spec(&s, th);
        colb_sim_result *r = NULL;
        assert_ok(colb_sim_run(&s, &r, msg, sizeof msg));
        snprintf(what, sizeof what, "%zu threads", th);
        same_curve(r, curve, what);
        colb_sim_result_free(r);

        /* stopped between rounds with the next one drawn ahead, saved,
         * loaded (on 2 threads), finished: the same curve */
        int left = 37;
        s.stop = stop_after;
        s.stop_ctx = &left;
        colb_sim *sim = NULL;
        assert_ok(colb_sim_create(&s, &sim, msg, sizeof msg));
        assert_status(colb_sim_advance(sim, 0, msg, sizeof msg), COLB_EINTR);
        size_t cut = colb_sim_round(sim);
        assert_true(cut > 0 && cut < SIM_T);
        size_t len = 0;
        assert_status(colb_sim_save_buffer(sim, NULL, 0, &len, msg, sizeof msg), COLB_ERANGE);
        unsigned char *buf = malloc(len);
        assert_ok(colb_sim_save_buffer(sim, buf, len, &len, msg, sizeof msg));
        /* the stopped simulation itself also resumes (its round drawn ahead
         * is used) */
        s.stop = NULL;
        sim->s.stop = NULL;
        assert_ok(colb_sim_advance(sim, 0, msg, sizeof msg));
        snprintf(what, sizeof what, "%zu threads, stopped at %zu, resumed", th, cut);
        same_curve(colb_sim_results(sim), curve, what);
        colb_sim_free(sim);
        s.threads = 2;
        if (colb_sim_load_buffer(buf, len, &s, NULL, &sim, msg, sizeof msg) != COLB_OK)
            fail_msg("sim load: %s", msg);
        assert_int_equal(colb_sim_round(sim), cut);
        assert_ok(colb_sim_advance(sim, 0, msg, sizeof msg));
        snprintf(what, sizeof what, "%zu threads, stopped at %zu, saved, loaded", th, cut);
        same_curve(colb_sim_results(sim), curve, what);
        colb_sim_free(sim);
        free(buf);
    }
}

/* Four policies, three repeats, on 1 and 2 threads, clustered and
 * personalized users: the same regrets and end states with the repeats'
 * rounds shared as with every job drawing its own. */
static void test_sim_shared_rounds_same_results(void **state)
{
    (void)state;
    static const char *const pols[] = { "linucb-ind", "oracle", "random", "cmlb" };
    static const char *const pols_p[] = { "linucb-ind", "random", "cmlb" }; /* the oracle needs clusters */
    colb_env_kind kinds[] = { COLB_ENV_CLUSTERED, COLB_ENV_PERSONALIZED };
    char msg[512];
    for (size_t q = 0; q < 2; q++)
        for (size_t th = 1; th <= 2; th++) {
            colb_sim_result *res[2] = { NULL, NULL };
            for (int share = 0; share < 2; share++) {
                colb_sim_spec s;
                sim_spec(&s, th);
                s.env.kind = kinds[q];
                s.env.sigma_theta = 0.5;
                s.policies = q == 0 ? pols : pols_p;
                s.n_policies = q == 0 ? 4 : 3;
                s.repeats = 3;
                colb_sim *sim = NULL;
                if (colb_sim_create(&s, &sim, msg, sizeof msg) != COLB_OK)
                    fail_msg("sim: %s", msg);
                colb__sim_share_rounds(sim, share);
                assert_ok(colb_sim_advance(sim, 0, msg, sizeof msg));
                assert_int_equal(colb_sim_finished(sim), 1);
                res[share] = sim->res;
                sim->res = NULL;
                colb_sim_free(sim);
            }
            size_t P = colb_sim_result_policies(res[0]), K = colb_sim_result_points(res[0]);
            for (size_t i = 0; i < P; i++)
                for (size_t r = 0; r < 3; r++) {
                    for (size_t k = 0; k < K; k++) {
                        double x = colb_sim_result_regret(res[0], i, r, k), y = colb_sim_result_regret(res[1], i, r, k);
                        if (memcmp(&x, &y, sizeof x))
                            fail_msg("kind %zu, %zu threads, policy %zu, repeat %zu, point %zu: %.17g shared, %.17g not",
                                     q, th, i, r, k, y, x);
                    }
                    assert_string_equal(colb_sim_result_info(res[0], i, r), colb_sim_result_info(res[1], i, r));
                }
            colb_sim_result_free(res[0]);
            colb_sim_result_free(res[1]);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_team_covers_every_item_once),
        cmocka_unit_test(test_env_prefetch_same_rounds),
        cmocka_unit_test(test_sim_threads_match_plain_loop),
        cmocka_unit_test(test_env_tape_same_rounds),
        cmocka_unit_test(test_sim_shared_rounds_same_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
