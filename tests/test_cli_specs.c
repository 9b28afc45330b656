/* test_cli_specs.c - the paper's experiment specs (the files in experiments/, as
 * embedded in the tool) parse and validate, in full and in quick mode, and
 * a bad spec fails with its line number. */
#include "testutil.h"

#include "experiment.h"
#include "run.h"
#include "specs.h"

static void load(experiment *e, const spec_text *sp, int quick)
{
    char err[1024];
    memset(e, 0, sizeof *e);
    config_default(&e->base);
    if (experiment_load_text(e, sp->name, sp->text, err, sizeof err))
        fail_msg("%s", err);
    experiment_finish(e);
    if (quick && experiment_apply_quick(e, err, sizeof err))
        fail_msg("%s --quick: %s", sp->name, err);
    if (run_check_settings(e, err, sizeof err)) /* every reading at every sweep value */
        fail_msg("%s%s: %s", sp->name, quick ? " --quick" : "", err);
}

static void test_every_spec_is_valid(void **state)
{
    (void)state;
    experiment *e = malloc(sizeof *e);
    assert_true(N_SPECS >= 6);
    for (size_t i = 0; i < N_SPECS; i++) {
        for (int quick = 0; quick < 2; quick++) {
            load(e, &SPECS[i], quick);
            /* every spec names its figure, says what the paper claims, runs
             * the paper-literal reading next to another one, and checks claims */
            assert_string_equal(e->figure, SPECS[i].name);
            assert_true(strlen(e->cfg[0].title) > 0 && strlen(e->cfg[0].claim) > 0);
            assert_true(e->n_readings >= 2);
            assert_true(e->n_checks >= 1);
            for (size_t k = 0; k < e->n_checks; k++) {
                /* every policy a check names runs in some reading */
                const char *names[2] = { e->checks[k].a, e->checks[k].b };
                for (int j = 0; j < 2; j++) {
                    char pol[64];
                    snprintf(pol, sizeof pol, "%s", names[j]);
                    pol[strcspn(pol, "/")] = '\0';
                    int found = 0;
                    for (size_t r = 0; r < e->n_readings; r++)
                        for (size_t p = 0; p < e->cfg[r].n_policies; p++)
                            found |= !strcmp(e->cfg[r].policies[p], pol);
                    if (!found)
                        fail_msg("%s: check names '%s', which no reading runs", SPECS[i].name, pol);
                }
            }
            if (quick) /* quick mode is smaller */
                assert_true(e->cfg[0].sim.repeats < 30 || e->cfg[0].sim.horizon < 1000);
        }
    }
    free(e);
}

static void test_bad_spec_line_number(void **state)
{
    (void)state;
    experiment *e = malloc(sizeof *e);
    char err[1024];
    static const struct { const char *text, *want; } bad[] = {
        { "figure = x\nusers = 10\ncheck = cmlb << club\n", "spec:3: check" },
        { "figure = x\nmetric = speed\n", "spec:2: metric" },
        { "figure = x\n[quick]\nrepeats = many\n", "spec:3: repeats" },
        { "figure = x\n[reading a]\nnote = fine\nwidth = wide\n", "spec:4: width" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(e, 0, sizeof *e);
        config_default(&e->base);
        assert_int_not_equal(experiment_load_text(e, "spec", bad[i].text, err, sizeof err), 0);
        if (!strstr(err, bad[i].want))
            fail_msg("case %zu: '%s' does not contain '%s'", i, err, bad[i].want);
    }
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_spec_is_valid),
        cmocka_unit_test(test_bad_spec_line_number),
    };
    return cmocka_run_group_tests_name("specs", tests, NULL, NULL);
}
