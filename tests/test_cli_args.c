/* test_cli_args.c - the command line as every subcommand reads it
 * (cli/args.h): `--key value` and `--key=value`, `-j N` and `-jN`, flags,
 * `--`, an option given twice, and the one message for an unknown word
 * with the closest candidate (cli/suggest.h). */
#include "testutil.h"

#include "args.h"
#include "suggest.h"

static const arg_opt OPTS[] = { { "out", NULL, 0 },    { "threads", "-j", 0 }, { "quick", NULL, 1 },
                                { "repeats", NULL, 0 }, { "help", "-h", 1 } };
#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

/* Read argv (NULL-ended) to its end or its first error: the options and
 * operands as "name=value" / "name" / "'operand'" joined by spaces into
 * out, the error (if any) into err. Returns args_next's last answer. */
static int read_all(char **argv, char *out, size_t len, char *err, size_t err_len)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    arg_reader r;
    args_init(&r, argc, argv, OPTS, N_OPTS, "colb x --help");
    const arg_opt *o;
    const char *v;
    int got;
    out[0] = err[0] = '\0';
    while ((got = args_next(&r, &o, &v, err, err_len)) > 0) {
        size_t n = strlen(out);
        if (!o)
            snprintf(out + n, len - n, "%s'%s'", n ? " " : "", v);
        else if (v)
            snprintf(out + n, len - n, "%s%s=%s", n ? " " : "", o->name, v);
        else
            snprintf(out + n, len - n, "%s%s", n ? " " : "", o->name);
    }
    return got;
}

/* Both forms of a value, short options joined or apart, flags, operands,
 * and "--" give the same reading; a value is the next argument whatever
 * it looks like. */
static void test_forms(void **state)
{
    (void)state;
    char out[512], err[512];
    char *a[] = { "--out=d", "-j4", "--quick", "fig1", "--repeats", "3", NULL };
    assert_int_equal(read_all(a, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "out=d threads=4 quick 'fig1' repeats=3");
    char *b[] = { "--out", "d", "-j", "4", "--quick", "fig1", "--repeats=3", NULL };
    assert_int_equal(read_all(b, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "out=d threads=4 quick 'fig1' repeats=3");
    /* the value after '=' may hold '='; a value that looks like an option is a value */
    char *c[] = { "--out=a=b", "--threads", "--quick", NULL };
    assert_int_equal(read_all(c, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "out=a=b threads=--quick");
    /* "--" ends the options; "-" alone is an operand */
    char *d[] = { "-", "--", "--quick", "-j", NULL };
    assert_int_equal(read_all(d, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "'-' '--quick' '-j'");
    char *e[] = { "-h", NULL };
    assert_int_equal(read_all(e, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "help");
}

/* Each usage error is one line naming the argument as given. */
static void test_errors(void **state)
{
    (void)state;
    static const struct { const char *argv[4], *want; } cases[] = {
        { { "--quik" }, "unknown option '--quik'; did you mean '--quick'? (see colb x --help)" },
        { { "--repeat=3" }, "unknown option '--repeat'; did you mean '--repeats'? (see colb x --help)" },
        { { "--xyzzy" }, "unknown option '--xyzzy' (see colb x --help)" },
        { { "-x" }, "unknown option '-x' (see colb x --help)" },
        { { "-hx" }, "unknown option '-hx' (see colb x --help)" },
        { { "--quick=1" }, "option '--quick' takes no value" },
        { { "--out" }, "option '--out' needs a value" },
        { { "--out=" }, "option '--out' needs a value" }, /* empty: no option takes one */
        { { "--out", "" }, "option '--out' needs a value" }, /* empty, apart: it was taken */
        { { "-j", "" }, "option '-j' needs a value" },
        { { "--repeats", "2", "-j" }, "option '-j' needs a value" },
        { { "-j1", "-j", "2" }, "option '-j' is given twice; give each option once" },
        { { "--threads=1", "-j2" }, "option '-j' is given twice (first as '--threads'); give each option once" },
        { { "--quick", "--quick" }, "option '--quick' is given twice; give each option once" },
    };
    char out[512], err[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[5] = { NULL };
        for (size_t k = 0; k < 4 && cases[i].argv[k]; k++)
            argv[k] = (char *)cases[i].argv[k];
        int got = read_all(argv, out, sizeof out, err, sizeof err);
        if (got != -1 || strcmp(err, cases[i].want))
            fail_msg("case %zu: %d '%s' (want '%s')", i, got, err, cases[i].want);
    }
}

/* suggest_unknown: the prefix before the word and the suggestion, the
 * word cut at its length, no clause without a close candidate or a SEE. */
static void test_unknown_message(void **state)
{
    (void)state;
    static const char *const names[] = { "horizon", "repeats", "seed" };
    char msg[256];
    suggest_unknown(msg, sizeof msg, "option", "--", "horizn=5", 6, names, 3, "colb --help");
    assert_string_equal(msg, "unknown option '--horizn'; did you mean '--horizon'? (see colb --help)");
    suggest_unknown(msg, sizeof msg, "option", "", "sed", 3, names, 3, NULL);
    assert_string_equal(msg, "unknown option 'sed'; did you mean 'seed'?");
    suggest_unknown(msg, sizeof msg, "figure", "", "xyzzy", 5, names, 3, "colb reproduce --help");
    assert_string_equal(msg, "unknown figure 'xyzzy' (see colb reproduce --help)");
    char word[200];
    memset(word, 'h', sizeof word - 1);
    word[sizeof word - 1] = '\0';
    suggest_unknown(msg, sizeof msg, "option", "--", word, strlen(word), names, 3, NULL);
    assert_non_null(strstr(msg, "hhhh'"));
    assert_null(strstr(msg, "did you mean"));
    suggest_unknown(msg, 10, "option", "--", "horizn", 6, names, 3, NULL); /* cut to fit */
    assert_string_equal(msg, "unknown o");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_unknown_message),
    };
    return cmocka_run_group_tests_name("command line", tests, NULL, NULL);
}
