/* test_cli_params.c - the library's parameters by name (colb/params.h)
 * agree with the options of `colb run` (cli/options.c): every key of the
 * policy, environment and run tables is an option of the same name, and
 * for values at and beyond its range both accept or both refuse, and
 * store the same value; and a run's result signature (which lets readings
 * share a policy's run) follows the library's list of the keys each policy
 * reads. */
#include "testutil.h"

#include "options.h"

/* Values worth trying for a key: its default, its ends, inside, outside,
 * its choices, and malformed text. */
static size_t probes(const colb_param_info *in, char v[][48])
{
    size_t n = 0;
    snprintf(v[n++], 48, "%s", in->default_value[0] ? in->default_value : "1");
    static const char *const junk[] = { "abc", "", "nan", "1e999", "-1", "2.5", "0", "1", "true" };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        snprintf(v[n++], 48, "%s", junk[i]);
    if (in->type == COLB_PARAM_INT || in->type == COLB_PARAM_REAL) {
        const char *f = in->type == COLB_PARAM_INT ? "%.0f" : "%.17g";
        double pts[5] = { in->min, in->max, (in->min + in->max) / 2, in->min - 1, in->max * 2 + 1 };
        for (int i = 0; i < 5; i++)
            if (in->type == COLB_PARAM_REAL || fabs(pts[i]) < 1e15)
                snprintf(v[n++], 48, f, pts[i]);
    }
    if (in->type == COLB_PARAM_CHOICE) {
        char all[128];
        snprintf(all, sizeof all, "%s", in->choices);
        for (char *c = strtok(all, "|"); c; c = strtok(NULL, "|"))
            snprintf(v[n++], 48, "%s", c);
    }
    if (in->type == COLB_PARAM_BYTES) {
        snprintf(v[n++], 48, "512M");
        snprintf(v[n++], 48, "8GB");
        snprintf(v[n++], 48, "12Q");
        snprintf(v[n++], 48, "0.5"); /* less than a byte: refused, not read as 0 */
        snprintf(v[n++], 48, "1e-300");
        snprintf(v[n++], 48, "1024T"); /* COLB_MEMORY_MAX, and beyond it */
        snprintf(v[n++], 48, "1025T");
        snprintf(v[n++], 48, "1e20");
    }
    return n;
}

static void agree(const colb_param_info *in)
{
    if (!option_known(in->key))
        fail_msg("'%s' is a library key but not an option of colb run", in->key);
    char v[32][48], cli_text[64], lib_text[64], err[512], msg[256];
    size_t n = probes(in, v);
    run_config *c = malloc(sizeof *c);
    assert_non_null(c);
    for (size_t i = 0; i < n; i++) {
        config_default(c);
        colb_sim_spec s;
        colb_sim_spec_default(&s);
        int cli_ok = config_set(c, in->key, v[i], err, sizeof err) == 0;
        int lib_ok = colb_sim_spec_set(&s, in->key, v[i], msg, sizeof msg) == COLB_OK;
        /* a budget of 0 is the library's "default budget"; colb run refuses
         * it (leaving --max-memory out gives the default) */
        if (!strcmp(in->key, "max-memory") && !strcmp(v[i], "0") && !cli_ok && lib_ok)
            continue;
        if (cli_ok != lib_ok)
            fail_msg("%s = '%s': colb run %s it (%s), the library %s it (%s)", in->key, v[i],
                     cli_ok ? "takes" : "refuses", cli_ok ? "" : err, lib_ok ? "takes" : "refuses",
                     lib_ok ? "" : msg);
        if (!cli_ok)
            continue;
        config_get(c, in->key, cli_text, sizeof cli_text);
        assert_ok(colb_sim_spec_get(&s, in->key, lib_text, sizeof lib_text));
        if (strcmp(cli_text, lib_text))
            fail_msg("%s = '%s': colb run stores %s, the library %s", in->key, v[i], cli_text, lib_text);
    }
    if (in->type == COLB_PARAM_BYTES) { /* a fraction of a byte is never read as 0 (the default) */
        colb_sim_spec s;
        colb_sim_spec_default(&s);
        config_default(c);
        if (config_set(c, in->key, "0.5", err, sizeof err) == 0 ||
            colb_sim_spec_set(&s, in->key, "0.5", msg, sizeof msg) != COLB_ERANGE)
            fail_msg("%s = '0.5' taken (%s)", in->key, msg);
        assert_non_null(strstr(msg, "'0.5' is less than one byte (0 means the default)"));
        /* a fraction of a byte without a unit: refused by both (it was 1
         * byte), and by colb serve's parser of byte counts (parse_bytes) */
        config_default(c);
        colb_sim_spec_default(&s);
        if (config_set(c, in->key, "1.5", err, sizeof err) == 0 ||
            colb_sim_spec_set(&s, in->key, "1.5", msg, sizeof msg) != COLB_EINVAL)
            fail_msg("%s = '1.5' taken (%s)", in->key, msg);
        assert_non_null(strstr(err, "'1.5' is not a whole number of bytes"));
        size_t z = 7;
        assert_int_equal(parse_bytes("1.5", &z), -4);
        assert_int_equal(z, 7);
        assert_int_equal(parse_bytes("1.5K", &z), 0);
        assert_int_equal(z, 1536);
        assert_int_equal(parse_bytes("1e3", &z), 0);
        assert_int_equal(z, 1000);
    }
    free(c);
}

static void test_policy_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < colb_policy_param_count(); i++) {
        colb_param_info in;
        assert_ok(colb_policy_param_info(i, &in));
        agree(&in);
    }
}

static void test_env_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < colb_env_param_count(); i++) {
        colb_param_info in;
        assert_ok(colb_env_param_info(i, &in));
        if (strcmp(in.key, "env")) {
            agree(&in);
            continue;
        }
        /* the tool's env also names data sets (lastfm, logged), which are
         * not environment parameters: compare the library's choices */
        run_config *c = malloc(sizeof *c);
        assert_non_null(c);
        char err[512], msg[256];
        for (int k = 0; k < 2; k++) {
            static const char *const kinds[] = { "clustered", "personalized" };
            config_default(c);
            colb_env_params p;
            colb_env_params_default(&p);
            assert_int_equal(config_set(c, "env", kinds[k], err, sizeof err), 0);
            assert_ok(colb_env_params_set(&p, "env", kinds[k], msg, sizeof msg));
            assert_int_equal(c->sim.env.kind, p.kind);
        }
        free(c);
    }
}

/* The library's colb_env_param_used and the tool's table of options read
 * by some kinds of environment only (option_envs) say the same for every
 * key and both synthetic kinds: simulate() in Python refuses what colb run
 * refuses. */
static void test_env_keys_used(void **state)
{
    (void)state;
    static const char *const kinds[] = { "clustered", "personalized" };
    for (size_t i = 0; i < colb_env_param_count(); i++) {
        colb_param_info in;
        assert_ok(colb_env_param_info(i, &in));
        const char *envs = option_envs(in.key, NULL);
        for (int k = 0; k < 2; k++) {
            int tool = !envs || option_choice_index(envs, kinds[k]) >= 0;
            if (colb_env_param_used(kinds[k], in.key) != tool)
                fail_msg("key '%s', env %s: the library says %d, the tool %d", in.key, kinds[k],
                         colb_env_param_used(kinds[k], in.key), tool);
        }
    }
    assert_int_equal(colb_env_param_used("lastfm", "users"), -1);
    assert_int_equal(colb_env_param_used("clustered", "nope"), -1);
    assert_int_equal(colb_env_param_used(NULL, "users"), -1);
    assert_int_equal(colb_env_param_used("clustered", NULL), -1);
}

static void test_run_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < colb_sim_param_count(); i++) {
        colb_param_info in;
        assert_ok(colb_sim_param_info(i, &in));
        agree(&in);
    }
}

/* A valid value of key `in` other than `now`, or "" if none is known. */
static void other_value(const colb_param_info *in, const char *now, char *v, size_t len)
{
    v[0] = 0;
    if (in->type == COLB_PARAM_BOOL) {
        snprintf(v, len, "%s", strcmp(now, "1") ? "1" : "0");
    } else if (in->type == COLB_PARAM_CHOICE) {
        char all[128];
        snprintf(all, sizeof all, "%s", in->choices);
        for (char *c = strtok(all, "|"); c && !v[0]; c = strtok(NULL, "|"))
            if (strcmp(c, now))
                snprintf(v, len, "%s", c);
    } else if (in->type == COLB_PARAM_INT || in->type == COLB_PARAM_REAL) {
        double x = in->max > in->min + 2 ? in->min + 2 : (in->min + in->max) / 2;
        snprintf(v, len, in->type == COLB_PARAM_INT ? "%.0f" : "%.17g", x);
        if (!strcmp(v, now))
            snprintf(v, len, in->type == COLB_PARAM_INT ? "%.0f" : "%.17g", in->min + 1);
    }
}

/* For every policy and every policy key that is an option of colb run
 * (but users, dim, seed and horizon, which are the run's and the
 * environment's), another value changes the policy's result signature
 * exactly when the library says the policy reads the key: never a shared
 * result for settings a policy tells apart. */
static void test_signature_follows_uses(void **state)
{
    (void)state;
    run_config *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    char v[64], err[512];
    assert_true(a && b);
    size_t checked = 0;
    for (const char *const *name = colb_policy_names(); *name; name++)
        for (size_t i = 0; i < colb_policy_param_count(); i++) {
            colb_param_info in;
            assert_ok(colb_policy_param_info(i, &in));
            if (!strcmp(in.key, "users") || !strcmp(in.key, "dim") || !strcmp(in.key, "seed") ||
                !strcmp(in.key, "horizon") || !option_known(in.key))
                continue;
            char now[64];
            config_default(a);
            config_default(b);
            config_get(a, in.key, now, sizeof now);
            other_value(&in, now, v, sizeof v);
            if (!v[0] || config_set(b, in.key, v, err, sizeof err))
                continue;
            char *sa = config_signature(a, *name), *sb = config_signature(b, *name);
            assert_true(sa && sb);
            int differs = strcmp(sa, sb) != 0, used = colb_policy_param_used(*name, in.key);
            if (differs != used)
                fail_msg("%s, %s = %s: the signature %s, the library says the key is %s", *name, in.key, v,
                         differs ? "changes" : "stays", used ? "read" : "ignored");
            free(sa);
            free(sb);
            checked++;
        }
    assert_true(checked > 100);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_keys),
        cmocka_unit_test(test_env_keys),
        cmocka_unit_test(test_env_keys_used),
        cmocka_unit_test(test_run_keys),
        cmocka_unit_test(test_signature_follows_uses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
