/* test_params.c - parameters by name (colb/params.h): every key of the
 * policy, environment and run tables reads back its default, takes values
 * of its type within its range and refuses the others without changing
 * the struct; which policies read which keys, and which keys the
 * policies of a spec read as it is set; a simulation specified only
 * through keys equals one specified through the struct. */
#include "testutil.h"

typedef colb_status (*set_fn)(void *, const char *, const char *, char *, size_t);
typedef colb_status (*get_fn)(const void *, const char *, char *, size_t);
typedef colb_status (*info_fn)(size_t, colb_param_info *);

typedef struct table {
    const char *name;
    size_t size, count;
    void (*defaults)(void *);
    set_fn set;
    get_fn get;
    info_fn info;
} table;

static void pol_default(void *p) { colb_policy_params_default(p); }
static void env_default(void *p) { colb_env_params_default(p); }
static void sim_default(void *p) { colb_sim_spec_default(p); }

static table tables(int i)
{
    table t[3] = {
        { "policy", colb_policy_params_size(), colb_policy_param_count(), pol_default,
          (set_fn)colb_policy_params_set, (get_fn)colb_policy_params_get, colb_policy_param_info },
        { "env", colb_env_params_size(), colb_env_param_count(), env_default,
          (set_fn)colb_env_params_set, (get_fn)colb_env_params_get, colb_env_param_info },
        { "sim", colb_sim_spec_size(), colb_sim_param_count(), sim_default,
          (set_fn)colb_sim_spec_set, (get_fn)colb_sim_spec_get, colb_sim_param_info },
    };
    return t[i];
}

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(colb_policy_params_size(), sizeof(colb_policy_params));
    assert_int_equal(colb_env_params_size(), sizeof(colb_env_params));
    assert_int_equal(colb_sim_spec_size(), sizeof(colb_sim_spec));
    colb_param_info info;
    assert_status(colb_policy_param_info(colb_policy_param_count(), &info), COLB_ERANGE);
    assert_status(colb_env_param_info(0, NULL), COLB_EINVAL);
    assert_status(colb_sim_param_info(99, &info), COLB_ERANGE);
}

/* Setting a key to its listed default changes nothing; get gives the
 * default back; every key has a help line and a known type. */
static void test_defaults_round_trip(void **state)
{
    (void)state;
    for (int ti = 0; ti < 3; ti++) {
        table t = tables(ti);
        char *a = calloc(1, t.size), *b = calloc(1, t.size), text[64], msg[256];
        t.defaults(a);
        t.defaults(b);
        assert_true(t.count >= 5);
        for (size_t i = 0; i < t.count; i++) {
            colb_param_info in;
            assert_ok(t.info(i, &in));
            assert_non_null(in.key);
            assert_true(strlen(in.help) > 3);
            assert_true(in.type <= COLB_PARAM_BYTES);
            assert_ok(t.get(a, in.key, text, sizeof text));
            if (!in.default_value[0]) { /* required: the default is outside the range */
                assert_true(ti == 0 && (!strcmp(in.key, "users") || !strcmp(in.key, "dim")));
                assert_string_equal(text, "0");
                continue;
            }
            assert_string_equal(text, in.default_value);
            if (t.set(a, in.key, in.default_value, msg, sizeof msg) != COLB_OK)
                fail_msg("%s %s = '%s': %s", t.name, in.key, in.default_value, msg);
            if (memcmp(a, b, t.size))
                fail_msg("%s %s: setting the default changed the struct", t.name, in.key);
            if (in.type == COLB_PARAM_CHOICE)
                assert_true(strchr(in.choices, '|') != NULL);
            if (in.type == COLB_PARAM_INT || in.type == COLB_PARAM_REAL)
                assert_true(in.min <= in.max);
        }
        free(a);
        free(b);
    }
}

/* A bad value leaves the struct as it was and says which key. */
static void refused(table t, const char *key, const char *value, colb_status want)
{
    char *a = calloc(1, t.size), *b = calloc(1, t.size), msg[256] = "";
    t.defaults(a);
    t.defaults(b);
    colb_status st = t.set(a, key, value, msg, sizeof msg);
    if (st != want)
        fail_msg("%s %s = '%s' gave %s, expected %s (%s)", t.name, key, value, colb_status_name(st),
                 colb_status_name(want), msg);
    assert_true(strstr(msg, key) != NULL);
    assert_memory_equal(a, b, t.size);
    free(a);
    free(b);
}

static void test_values_by_type(void **state)
{
    (void)state;
    for (int ti = 0; ti < 3; ti++) {
        table t = tables(ti);
        char *a = calloc(1, t.size), text[64], v[64], msg[256];
        t.defaults(a);
        for (size_t i = 0; i < t.count; i++) {
            colb_param_info in;
            assert_ok(t.info(i, &in));
            refused(t, in.key, "", COLB_EINVAL);
            refused(t, in.key, "x1", COLB_EINVAL);
            switch (in.type) {
            case COLB_PARAM_INT:
                snprintf(v, sizeof v, "%.0f", in.max);
                if (in.max < 1e15) { /* exactly representable: read back as written */
                    assert_ok(t.set(a, in.key, v, msg, sizeof msg));
                    assert_ok(t.get(a, in.key, text, sizeof text));
                    assert_string_equal(text, v);
                    snprintf(v, sizeof v, "%.0f", in.max + 1);
                    refused(t, in.key, v, COLB_ERANGE);
                }
                if (in.min >= 1) {
                    snprintf(v, sizeof v, "%.0f", in.min - 1);
                    refused(t, in.key, v, COLB_ERANGE);
                }
                refused(t, in.key, "-1", COLB_EINVAL);
                refused(t, in.key, "+1", COLB_EINVAL);
                refused(t, in.key, "1.5", COLB_EINVAL);
                refused(t, in.key, "0x10", COLB_EINVAL);
                refused(t, in.key, " 1", COLB_EINVAL);
                refused(t, in.key, "1 ", COLB_EINVAL);
                refused(t, in.key, "nan", COLB_ENONFIN);
                refused(t, in.key, "99999999999999999999999", COLB_ERANGE);
                break;
            case COLB_PARAM_REAL:
                snprintf(v, sizeof v, "%.17g", (in.min + in.max) / 2);
                assert_ok(t.set(a, in.key, v, msg, sizeof msg));
                assert_ok(t.get(a, in.key, text, sizeof text));
                assert_true(strtod(text, NULL) == (in.min + in.max) / 2);
                snprintf(v, sizeof v, "%.17g", in.max * 2 + 1);
                refused(t, in.key, v, COLB_ERANGE);
                { /* the message's range reads back as the range (delta's upper bound is not "1") */
                    const char *lb = (t.set(a, in.key, v, msg, sizeof msg), strrchr(msg, '['));
                    char *comma;
                    assert_non_null(lb);
                    if (strtod(lb + 1, &comma) != in.min || *comma != ',' || strtod(comma + 1, NULL) != in.max)
                        fail_msg("%s %s: the range in '%s' is not [%.17g, %.17g]", t.name, in.key, msg, in.min,
                                 in.max);
                }
                snprintf(v, sizeof v, "%.17g", in.min - 1);
                refused(t, in.key, v, COLB_ERANGE);
                refused(t, in.key, "NaN", COLB_ENONFIN);
                refused(t, in.key, "-inf", COLB_ENONFIN);
                refused(t, in.key, "1e999", COLB_ERANGE);
                refused(t, in.key, "0x1p3", COLB_EINVAL);
                refused(t, in.key, ".", COLB_EINVAL);
                refused(t, in.key, "1e", COLB_EINVAL);
                break;
            case COLB_PARAM_BOOL:
                for (int k = 0; k < 6; k++) {
                    static const char *const yes[6] = { "1", "true", "yes", "0", "false", "no" };
                    assert_ok(t.set(a, in.key, yes[k], msg, sizeof msg));
                    assert_ok(t.get(a, in.key, text, sizeof text));
                    assert_string_equal(text, k < 3 ? "1" : "0");
                }
                refused(t, in.key, "2", COLB_EINVAL);
                refused(t, in.key, "True", COLB_EINVAL);
                break;
            case COLB_PARAM_CHOICE: {
                char all[128];
                snprintf(all, sizeof all, "%s", in.choices);
                for (char *c = strtok(all, "|"); c; c = strtok(NULL, "|")) {
                    assert_ok(t.set(a, in.key, c, msg, sizeof msg));
                    assert_ok(t.get(a, in.key, text, sizeof text));
                    assert_string_equal(text, c);
                }
                refused(t, in.key, "0", COLB_EINVAL);
                break;
            }
            case COLB_PARAM_BYTES: {
                static const char *const in_[] = { "512M", "1.5G", "8GB", "1e9", "3k", "0" };
                static const char *const out_[] = { "536870912", "1610612736", "8589934592",
                                                     "1000000000", "3072", "0" };
                for (int k = 0; k < 6; k++) {
                    assert_ok(t.set(a, in.key, in_[k], msg, sizeof msg));
                    assert_ok(t.get(a, in.key, text, sizeof text));
                    assert_string_equal(text, out_[k]);
                }
                refused(t, in.key, "12Q", COLB_EINVAL);
                refused(t, in.key, "-1G", COLB_EINVAL);
                /* beyond COLB_MEMORY_MAX (2^50 bytes), or even 2^64: out of range */
                refused(t, in.key, "1e30", COLB_ERANGE);
                refused(t, in.key, "1025T", COLB_ERANGE);
                break;
            }
            }
        }
        free(a);
    }
}

static void test_unknown_and_null(void **state)
{
    (void)state;
    colb_policy_params pp;
    colb_env_params ep;
    colb_sim_spec s;
    char msg[256], text[32];
    colb_policy_params_default(&pp);
    colb_env_params_default(&ep);
    colb_sim_spec_default(&s);
    assert_status(colb_policy_params_set(&pp, "lamda", "1", msg, sizeof msg), COLB_ENOTFOUND);
    assert_non_null(strstr(msg, "unknown policy parameter 'lamda'"));
    assert_status(colb_env_params_set(&ep, "lambda", "1", msg, sizeof msg), COLB_ENOTFOUND);
    assert_status(colb_sim_spec_set(&s, "nope", "1", msg, sizeof msg), COLB_ENOTFOUND);
    assert_non_null(strstr(msg, "unknown simulation parameter 'nope'"));
    assert_status(colb_policy_params_set(NULL, "lambda", "1", msg, sizeof msg), COLB_EINVAL);
    assert_status(colb_policy_params_set(&pp, "lambda", NULL, msg, sizeof msg), COLB_EINVAL);
    assert_status(colb_policy_params_set(&pp, NULL, "1", NULL, 0), COLB_ENOTFOUND); /* colb/params.h */
    assert_status(colb_policy_params_set(&pp, NULL, "1", msg, sizeof msg), COLB_ENOTFOUND);
    assert_non_null(strstr(msg, "'(null)'"));
    assert_status(colb_env_params_set(&ep, NULL, "1", msg, sizeof msg), COLB_ENOTFOUND);
    assert_status(colb_sim_spec_set(&s, NULL, "1", msg, sizeof msg), COLB_ENOTFOUND);
    assert_status(colb_policy_params_get(&pp, NULL, text, sizeof text), COLB_ENOTFOUND);
    assert_status(colb_sim_spec_get(&s, NULL, text, sizeof text), COLB_ENOTFOUND);
    assert_status(colb_policy_params_get(&pp, "lambda", NULL, 0), COLB_EINVAL);
    assert_status(colb_policy_params_get(&pp, "nope", text, sizeof text), COLB_ENOTFOUND);
    assert_status(colb_env_params_get(NULL, "users", text, sizeof text), COLB_EINVAL);
    assert_status(colb_sim_spec_get(&s, "nope", text, sizeof text), COLB_ENOTFOUND);
    assert_status(colb_sim_spec_set_policies(&s, NULL, 2), COLB_EINVAL);
    assert_status(colb_policy_params_set_clusters(&pp, NULL, 3), COLB_EINVAL);
    assert_status(colb_sim_spec_set(NULL, "users", "1", msg, sizeof msg), COLB_EINVAL);
    /* the fillers are NULL-harmless, as colb_load_options_default and
     * colb_lastfm_params_default are (these four dereferenced it) */
    colb_policy_params_default(NULL);
    colb_learner_params_default(NULL);
    colb_env_params_default(NULL);
    colb_sim_spec_default(NULL);
}

/* Which policy reads which key: spot checks of the table against the
 * policies' code, and every key read by at least one policy. */
static void test_used(void **state)
{
    (void)state;
    assert_int_equal(colb_policy_param_used("linucb-ind", "lambda"), 1);
    assert_int_equal(colb_policy_param_used("linucb-ind", "club-alpha"), 0);
    assert_int_equal(colb_policy_param_used("random", "seed"), 1);
    assert_int_equal(colb_policy_param_used("random", "lambda"), 0);
    assert_int_equal(colb_policy_param_used("club", "lambda"), 1);
    assert_int_equal(colb_policy_param_used("club", "width"), 1); /* the shared width */
    assert_int_equal(colb_policy_param_used("club", "club-own-alpha"), 1);
    assert_int_equal(colb_policy_param_used("oracle", "diversify"), 1);
    assert_int_equal(colb_policy_param_used("oracle-batch", "diversify"), 0);
    assert_int_equal(colb_policy_param_used("random", "sampling"), 0);
    assert_int_equal(colb_policy_param_used("sclub", "sclub-alpha"), 1);
    assert_int_equal(colb_policy_param_used("locb", "locb-seeds"), 1);
    assert_int_equal(colb_policy_param_used("locb", "sclub-alpha"), 0);
    assert_int_equal(colb_policy_param_used("club", "club-graph"), 1);
    assert_int_equal(colb_policy_param_used("sclb", "cmlb-alpha"), 1);
    /* an alias reads what its policy reads (it answered 0 for cohort's keys) */
    assert_int_equal(colb_policy_param_used("recommended", "cohort-delta"), 1);
    assert_int_equal(colb_policy_param_used("recommended", "cmlb-alpha"), 0);
    for (size_t i = 0; i < colb_policy_param_count(); i++) {
        colb_param_info in;
        assert_ok(colb_policy_param_info(i, &in));
        assert_int_equal(colb_policy_param_used("recommended", in.key),
                         colb_policy_param_used("cohort", in.key));
    }
    /* the environments' keys: each kind reads its own */
    assert_int_equal(colb_env_param_used("clustered", "zipf"), 1);
    assert_int_equal(colb_env_param_used("personalized", "zipf"), 0);
    assert_int_equal(colb_env_param_used("personalized", "clusters"), 0);
    assert_int_equal(colb_env_param_used("clustered", "sigma-theta"), 0);
    assert_int_equal(colb_env_param_used("clustered", "normalize"), 0);
    assert_int_equal(colb_env_param_used("personalized", "normalize"), 1);
    assert_int_equal(colb_env_param_used("personalized", "users"), 1);
    assert_int_equal(colb_env_param_used("clustered", "max-memory"), 1);
    assert_int_equal(colb_env_param_used("clustered", "nope"), -1);
    assert_int_equal(colb_env_param_used("logged", "users"), -1);
    assert_int_equal(colb_policy_param_used("sclb", "cmlb-gamma"), 0);
    assert_int_equal(colb_policy_param_used("pmlb", "pmlb-learner"), 1);
    assert_int_equal(colb_policy_param_used("nope", "lambda"), -1);
    assert_int_equal(colb_policy_param_used("cmlb", "nope"), -1);
    assert_int_equal(colb_policy_param_used(NULL, NULL), -1);
    const char *const *names = colb_policy_names();
    for (size_t i = 0; i < colb_policy_param_count(); i++) {
        colb_param_info in;
        assert_ok(colb_policy_param_info(i, &in));
        int any = 0;
        for (size_t j = 0; names[j]; j++) {
            int u = colb_policy_param_used(names[j], in.key);
            assert_true(u == 0 || u == 1);
            any |= u;
        }
        if (!any)
            fail_msg("no policy reads '%s'", in.key);
    }
    for (size_t j = 0; names[j]; j++) {
        assert_int_equal(colb_policy_param_used(names[j], "users"), 1);
        assert_int_equal(colb_policy_param_used(names[j], "dim"), 1);
    }
}

/* Keys reach the fields they name. */
static void test_fields(void **state)
{
    (void)state;
    colb_policy_params pp;
    colb_sim_spec s;
    char msg[256];
    colb_policy_params_default(&pp);
    assert_ok(colb_policy_params_set(&pp, "lambda", "0.25", msg, sizeof msg));
    assert_ok(colb_policy_params_set(&pp, "width", "fixed", msg, sizeof msg));
    assert_ok(colb_policy_params_set(&pp, "cmlb-c", "3", msg, sizeof msg));
    assert_ok(colb_policy_params_set(&pp, "club-graph", "random", msg, sizeof msg));
    assert_ok(colb_policy_params_set(&pp, "seed", "18446744073709551615", msg, sizeof msg));
    assert_true(pp.learner.lambda == 0.25 && pp.learner.width == COLB_WIDTH_FIXED);
    assert_true(pp.cmlb_C == 3.0 && pp.club_graph == COLB_CLUB_RANDOM && pp.seed == UINT64_MAX);
    size_t labels[3] = { 0, 1, 1 };
    assert_ok(colb_policy_params_set_clusters(&pp, labels, 2));
    assert_true(pp.true_cluster == labels && pp.n_clusters == 2);
    assert_ok(colb_policy_params_set_clusters(&pp, NULL, 0));
    assert_true(pp.true_cluster == NULL && pp.n_clusters == 0);

    colb_sim_spec_default(&s);
    assert_ok(colb_sim_spec_set(&s, "users", "7", msg, sizeof msg));
    assert_ok(colb_sim_spec_set(&s, "seed", "9", msg, sizeof msg));
    assert_ok(colb_sim_spec_set(&s, "env", "personalized", msg, sizeof msg));
    assert_ok(colb_sim_spec_set(&s, "lambda", "2", msg, sizeof msg));
    assert_ok(colb_sim_spec_set(&s, "max-memory", "1G", msg, sizeof msg));
    assert_true(s.env.users == 7 && s.policy.users == 0 && s.seed == 9 && s.policy.seed == 1);
    assert_true(s.env.kind == COLB_ENV_PERSONALIZED && s.policy.learner.lambda == 2.0);
    assert_true(s.max_memory == (size_t)1 << 30 && s.env.max_memory == 0 && s.policy.max_memory == 0);
    assert_status(colb_sim_spec_set(&s, "lambda", "0", msg, sizeof msg), COLB_ERANGE);
    assert_non_null(strstr(msg, "policy parameter lambda"));
    /* a budget is at most COLB_MEMORY_MAX (1024T), past 2^64 bytes too */
    assert_ok(colb_sim_spec_set(&s, "max-memory", "1024T", msg, sizeof msg));
    assert_true((double)s.max_memory == COLB_MEMORY_MAX);
    assert_status(colb_sim_spec_set(&s, "max-memory", "1025T", msg, sizeof msg), COLB_ERANGE);
    assert_non_null(strstr(msg, "is more than 1024T"));
    assert_status(colb_sim_spec_set(&s, "max-memory", "1e20", msg, sizeof msg), COLB_ERANGE);
    assert_status(colb_policy_params_set(&pp, "max-memory", "2000T", msg, sizeof msg), COLB_ERANGE);
    assert_true((double)s.max_memory == COLB_MEMORY_MAX);
    /* a fraction of a byte without a unit is refused (it was cut: "1.5"
     * set a budget of 1 byte, likely meant as 1.5G); with a unit the bytes
     * are rounded down */
    pp.max_memory = 7;
    assert_status(colb_policy_params_set(&pp, "max-memory", "1.5", msg, sizeof msg), COLB_EINVAL);
    assert_non_null(strstr(msg, "'1.5' is not a whole number of bytes"));
    assert_status(colb_policy_params_set(&pp, "max-memory", "1023.9", msg, sizeof msg), COLB_EINVAL);
    assert_int_equal(pp.max_memory, 7);
    assert_ok(colb_policy_params_set(&pp, "max-memory", "1.5K", msg, sizeof msg));
    assert_int_equal(pp.max_memory, 1536);
    assert_ok(colb_policy_params_set(&pp, "max-memory", "1.3K", msg, sizeof msg));
    assert_int_equal(pp.max_memory, 1331);
    assert_ok(colb_policy_params_set(&pp, "max-memory", "2e3", msg, sizeof msg));
    assert_int_equal(pp.max_memory, 2000);
}

/* A spec made through keys runs exactly as the same spec made through
 * the struct's fields. */
static void test_sim_by_keys(void **state)
{
    (void)state;
    static const char *const names[] = { "linucb-ind", "cmlb" };
    static const char *const kv[][2] = { { "users", "12" }, { "clusters", "2" }, { "dim", "3" },
                                         { "arms", "4" }, { "horizon", "30" }, { "repeats", "2" },
                                         { "seed", "5" }, { "curve-points", "3" },
                                         { "lambda", "0.5" }, { "cmlb-c", "0.3" } };
    colb_sim_spec a, b;
    char msg[256];
    colb_sim_spec_default(&a);
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        assert_ok(colb_sim_spec_set(&a, kv[i][0], kv[i][1], msg, sizeof msg));
    assert_ok(colb_sim_spec_set_policies(&a, names, 2));
    colb_sim_spec_default(&b);
    b.env.users = 12;
    b.env.clusters = 2;
    b.env.dim = 3;
    b.env.arms = 4;
    b.horizon = 30;
    b.repeats = 2;
    b.seed = 5;
    b.curve_points = 3;
    b.policy.learner.lambda = 0.5;
    b.policy.cmlb_C = 0.3;
    b.policies = names;
    b.n_policies = 2;
    colb_sim_result *ra = NULL, *rb = NULL;
    assert_ok(colb_sim_run(&a, &ra, msg, sizeof msg));
    assert_ok(colb_sim_run(&b, &rb, msg, sizeof msg));
    for (size_t i = 0; i < 2; i++)
        for (size_t r = 0; r < 2; r++)
            for (size_t k = 0; k < 3; k++)
                assert_true(colb_sim_result_regret(ra, i, r, k) == colb_sim_result_regret(rb, i, r, k));
    colb_sim_result_free(ra);
    colb_sim_result_free(rb);
}

/* Which keys the policies of a spec read as it is set
 * (colb_sim_spec_param_read): the width's keys by the width in force, the
 * OFUL radius's by width = oful, CMLB's threshold, CLUB's own width and
 * the tunings; errors. */
static int reads(colb_sim_spec *s, const char *policies, const char *key, unsigned tuned)
{
    static char buf[128];
    static const char *names[8];
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", policies);
    for (char *w = strtok(buf, " "); w && n < 8; w = strtok(NULL, " "))
        names[n++] = w;
    assert_int_equal(colb_sim_spec_set_policies(s, names, n), COLB_OK);
    return colb_sim_spec_param_read(s, key, tuned);
}

static void set_key(colb_sim_spec *s, const char *key, const char *value)
{
    assert_int_equal(colb_sim_spec_set(s, key, value, NULL, 0), COLB_OK);
}

static void test_sim_reads(void **state)
{
    (void)state;
    colb_sim_spec s;
    colb_sim_spec_default(&s);
    /* the width: oful reads the radius's keys, not alpha */
    set_key(&s, "width", "oful");
    assert_int_equal(reads(&s, "linucb-ind", "width", 0), 1);
    assert_int_equal(reads(&s, "linucb-ind", "alpha", 0), 0);
    assert_int_equal(reads(&s, "linucb-ind", "delta", 0), 1);
    assert_int_equal(reads(&s, "linucb-ind", "learner-noise", 0), 1);
    assert_int_equal(reads(&s, "linucb-ind", "norm-bound", 0), 1);
    assert_int_equal(reads(&s, "linucb-ind", "lambda", 0), 1);
    /* fixed: alpha, not the radius (but CMLB's T_explore reads delta,
     * cohort's tests the noise) */
    set_key(&s, "width", "fixed");
    assert_int_equal(reads(&s, "linucb-ind", "alpha", 0), 1);
    assert_int_equal(reads(&s, "linucb-ind", "delta", 0), 0);
    assert_int_equal(reads(&s, "linucb-ind", "learner-noise", 0), 0);
    assert_int_equal(reads(&s, "linucb-ind", "norm-bound", 0), 0);
    assert_int_equal(reads(&s, "linucb-ind cmlb", "delta", 0), 1);
    assert_int_equal(reads(&s, "cohort", "learner-noise", 0), 1);
    assert_int_equal(reads(&s, "recommended", "learner-noise", 0), 1); /* an alias */
    assert_int_equal(reads(&s, "cohort", "norm-bound", 0), 0);
    /* the width tuned: no policy reads the shared width's keys */
    assert_int_equal(reads(&s, "linucb-ind", "width", COLB_TUNED_WIDTH), 0);
    assert_int_equal(reads(&s, "linucb-ind", "alpha", COLB_TUNED_WIDTH), 0);
    set_key(&s, "width", "oful");
    assert_int_equal(reads(&s, "linucb-ind", "delta", COLB_TUNED_WIDTH), 0);
    /* CMLB's threshold: cmlb-threshold only without a cmlb-gamma of its
     * own; the data threshold's radii read the noise */
    set_key(&s, "width", "fixed");
    set_key(&s, "cmlb-gamma", "0.5");
    assert_int_equal(reads(&s, "cmlb", "cmlb-threshold", 0), 0);
    assert_int_equal(reads(&s, "cmlb sclb", "cmlb-threshold", 0), 1);
    set_key(&s, "cmlb-gamma", "0");
    set_key(&s, "cmlb-threshold", "data");
    assert_int_equal(reads(&s, "cmlb", "cmlb-threshold", 0), 1);
    assert_int_equal(reads(&s, "cmlb", "norm-bound", 0), 1);
    set_key(&s, "cmlb-threshold", "paper");
    assert_int_equal(reads(&s, "cmlb", "norm-bound", 0), 0);
    /* PMLB's ALB-norm bounds */
    set_key(&s, "pmlb-learner", "alb-norm");
    assert_int_equal(reads(&s, "pmlb", "learner-noise", 0), 1);
    set_key(&s, "pmlb-learner", "linucb");
    assert_int_equal(reads(&s, "pmlb", "learner-noise", 0), 0);
    assert_int_equal(reads(&s, "pmlb", "cmlb-alpha", 0), 0); /* not pmlb's key */
    /* CLUB on the shared width, on its own, tuned */
    assert_int_equal(reads(&s, "club", "alpha", 0), 1);
    assert_int_equal(reads(&s, "club", "club-alpha", 0), 0);
    assert_int_equal(reads(&s, "club", "club-alpha2", 0), 1);
    set_key(&s, "club-own-alpha", "1");
    assert_int_equal(reads(&s, "club", "alpha", 0), 0);
    assert_int_equal(reads(&s, "club", "width", 0), 0);
    assert_int_equal(reads(&s, "club linucb-ind", "width", 0), 1);
    assert_int_equal(reads(&s, "club", "club-alpha", 0), 1);
    assert_int_equal(reads(&s, "club", "club-alpha", COLB_TUNED_CLUB), 0);
    assert_int_equal(reads(&s, "club", "club-alpha2", COLB_TUNED_CLUB), 0);
    /* the policies' own keys, every policy or none of them */
    assert_int_equal(reads(&s, "random", "lambda", 0), 0);
    assert_int_equal(reads(&s, "random linucb-ind", "lambda", 0), 1);
    assert_int_equal(reads(&s, "", "lambda", 0), 0);
    /* errors */
    assert_int_equal(reads(&s, "linucb-ind", "nope", 0), -1);
    assert_int_equal(reads(&s, "linucb-ind", "repeats", 0), -1); /* the run's key */
    assert_int_equal(reads(&s, "linucb-ind", "zipf", 0), -1);    /* the environment's */
    assert_int_equal(reads(&s, "linucb-ind nope", "lambda", 0), -1);
    assert_int_equal(reads(&s, "linucb-ind", "lambda", 4u), -1);
    assert_int_equal(reads(&s, "linucb-ind", NULL, 0), -1);
    assert_int_equal(colb_sim_spec_param_read(NULL, "lambda", 0), -1);
    s.policies = NULL;
    s.n_policies = 1;
    assert_int_equal(colb_sim_spec_param_read(&s, "lambda", 0), -1);
}

/* True clusters out of range are refused by every policy at creation,
 * not only by the oracles that use them: the others keep and save them,
 * and a load refuses such a snapshot (a policy used to write one). */
static void test_labels_in_range(void **state)
{
    (void)state;
    static const size_t labels[4] = { 0, 1, 2, 3 };
    for (const char *const *n = colb_policy_names(); *n; n++) {
        colb_policy_params pp;
        colb_policy_params_default(&pp);
        pp.users = 4;
        pp.dim = 2;
        pp.horizon = 10;
        assert_ok(colb_policy_params_set_clusters(&pp, labels, 2));
        colb_policy *p = NULL;
        char msg[256];
        colb_status st = colb_policy_create(*n, &pp, &p, msg, sizeof msg);
        if (st != COLB_ERANGE || p || !strstr(msg, "user 2 has cluster 2 >= n_clusters 2"))
            fail_msg("%s: labels beyond n_clusters: %s '%s'", *n, colb_status_name(st), msg);
    }
}

/* A simulation of one LinUCB-Ind repeat of 2 rounds, the rest default. */
static void small_sim_spec(colb_sim_spec *s)
{
    static const char *pol[] = { "linucb-ind" };
    colb_sim_spec_default(s);
    s->policies = pol;
    s->n_policies = 1;
    s->horizon = 2;
    s->repeats = 1;
}

/* More threads than COLB_POLICY_THREADS_MAX are refused by every policy
 * (only linucb-ind, which uses them, refused them). */
static void test_threads_bound(void **state)
{
    (void)state;
    for (const char *const *n = colb_policy_names(); *n; n++) {
        colb_policy_params pp;
        colb_policy_params_default(&pp);
        pp.users = 4;
        pp.dim = 2;
        pp.threads = COLB_POLICY_THREADS_MAX + 1;
        char msg[256];
        colb_status st = colb_policy_params_check(*n, &pp, msg, sizeof msg);
        if (st != COLB_ERANGE || !strstr(msg, "threads = 257 exceeds 256"))
            fail_msg("%s: threads 257: %s '%s'", *n, colb_status_name(st), msg);
    }
    /* a simulation's threads: at most COLB_SIM_THREADS_MAX, the bound of
     * its "threads" key, for the struct too (it took any number) */
    colb_sim_spec s;
    small_sim_spec(&s);
    char msg[256];
    assert_ok(colb_sim_spec_set(&s, "threads", "1024", msg, sizeof msg));
    assert_int_equal(s.threads, COLB_SIM_THREADS_MAX);
    assert_status(colb_sim_spec_set(&s, "threads", "1025", msg, sizeof msg), COLB_ERANGE);
    colb_sim *sim = NULL;
    assert_ok(colb_sim_create(&s, &sim, msg, sizeof msg));
    colb_sim_free(sim);
    s.threads = COLB_SIM_THREADS_MAX + 1;
    assert_status(colb_sim_create(&s, &sim, msg, sizeof msg), COLB_ERANGE);
    assert_string_equal(msg, "threads = 1025 exceeds 1024");
    assert_null(sim);
    colb_sim_result *r = NULL;
    assert_status(colb_sim_run(&s, &r, msg, sizeof msg), COLB_ERANGE);
    double a, a2;
    assert_status(colb_club_tune(&s, NULL, 0, NULL, 0, 2, 1, &a, &a2, msg, sizeof msg), COLB_ERANGE);
    assert_non_null(strstr(msg, "threads = 1025 exceeds 1024"));
    assert_status(colb_width_tune(&s, "linucb-ind", NULL, 0, 2, 1, &a, msg, sizeof msg), COLB_ERANGE);
    assert_non_null(strstr(msg, "threads = 1025 exceeds 1024"));
    s.threads = SIZE_MAX;
    assert_status(colb_sim_run(&s, &r, msg, sizeof msg), COLB_ERANGE);
}

/* A memory budget is at most COLB_MEMORY_MAX (1024T) wherever the library
 * takes one, as colb_policy_set_max_memory and the text values have it:
 * the struct fields took any size_t (SIZE_MAX: no budget at all). */
static void test_budget_bound(void **state)
{
    (void)state;
    const size_t over = (size_t)COLB_MEMORY_MAX + 1;
    char msg[256];
    for (const char *const *n = colb_policy_names(); *n; n++) {
        colb_policy_params pp;
        colb_policy_params_default(&pp);
        pp.users = 4;
        pp.dim = 2;
        size_t labels[4] = { 0, 1, 0, 1 };
        pp.true_cluster = labels;
        pp.n_clusters = 2;
        pp.max_memory = (size_t)COLB_MEMORY_MAX;
        assert_ok(colb_policy_params_check(*n, &pp, msg, sizeof msg));
        pp.max_memory = over;
        colb_status st = colb_policy_params_check(*n, &pp, msg, sizeof msg);
        if (st != COLB_ERANGE || !strstr(msg, "is more than 1024T"))
            fail_msg("%s: max_memory 2^50 + 1: %s '%s'", *n, colb_status_name(st), msg);
        colb_policy *p = NULL;
        assert_status(colb_policy_create(*n, &pp, &p, msg, sizeof msg), COLB_ERANGE);
        assert_null(p);
        assert_status(colb_policy_round_check(&pp, 1, msg, sizeof msg), COLB_ERANGE);
    }
    colb_env_params ep;
    colb_env_params_default(&ep);
    ep.max_memory = SIZE_MAX;
    assert_status(colb_env_params_check(&ep, msg, sizeof msg), COLB_ERANGE);
    assert_non_null(strstr(msg, "is more than 1024T"));
    colb_env *e = NULL;
    assert_status(colb_env_create(&ep, 1, &e, msg, sizeof msg), COLB_ERANGE);
    colb_sim_spec s;
    small_sim_spec(&s);
    s.max_memory = over;
    colb_sim_result *r = NULL;
    assert_status(colb_sim_run(&s, &r, msg, sizeof msg), COLB_ERANGE);
    assert_non_null(strstr(msg, "is more than 1024T"));
    colb_dataset *ds = NULL;
    assert_status(colb_dataset_load_ex("/nonexistent/f", "/nonexistent/p", over, &ds, msg, sizeof msg), COLB_ERANGE);
    colb_lastfm_params lp;
    colb_lastfm_params_default(&lp);
    lp.max_memory = over;
    assert_status(colb_lastfm_load_ex("/nonexistent", &lp, NULL, &ds, NULL, msg, sizeof msg), COLB_ERANGE);
    assert_null(ds);
}

/* d beyond the models' bound is a range error for every policy that keeps
 * d x d models, before any allocation (it was "out of memory" from the
 * SoA bank's create, for a few MB); random takes any d up to COLB_DIM_MAX. */
static void test_model_dim_bound(void **state)
{
    (void)state;
    for (const char *const *n = colb_policy_names(); *n; n++) {
        colb_policy_params pp;
        colb_policy_params_default(&pp);
        pp.users = 1;
        pp.dim = COLB_MODEL_DIM_MAX + 1;
        char msg[256];
        colb_status st = colb_policy_params_check(*n, &pp, msg, sizeof msg);
        colb_policy *p = NULL;
        if (!strcmp(*n, "random")) {
            pp.dim = COLB_DIM_MAX;
            assert_ok(colb_policy_create(*n, &pp, &p, msg, sizeof msg));
            colb_policy_free(p);
        } else if (st != COLB_ERANGE || !strstr(msg, "dim = 4097 exceeds 4096") ||
                   colb_policy_create(*n, &pp, &p, msg, sizeof msg) != COLB_ERANGE) {
            fail_msg("%s: dim 4097: %s '%s'", *n, colb_status_name(st), msg);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_dim_bound),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_defaults_round_trip),
        cmocka_unit_test(test_values_by_type),
        cmocka_unit_test(test_unknown_and_null),
        cmocka_unit_test(test_used),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_sim_by_keys),
        cmocka_unit_test(test_sim_reads),
        cmocka_unit_test(test_labels_in_range),
        cmocka_unit_test(test_threads_bound),
        cmocka_unit_test(test_budget_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
