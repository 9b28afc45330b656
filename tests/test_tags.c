/* test_tags.c - atomic tag splitting (src/data/tags.h): hand-made tags with
 * ASCII punctuation, whitespace and latin-1 bytes; the byte classes and the
 * lower-casing table against the documented rule. */
#include "testutil.h"

#include "data/tags.h"

/* Split `in` (n bytes) and compare with the NULL-terminated list want. */
static void check_split_n(const char *in, size_t n, const char *const *want)
{
    char buf[512];
    assert_true(2 * n + 1 <= sizeof buf);
    colb__tag_iter it;
    colb__tags_begin(&it, in, n);
    size_t k = 0, len;
    while ((len = colb__tags_next(&it, buf)) > 0) {
        if (!want[k])
            fail_msg("input '%s': extra token '%s'", in, buf);
        if (strcmp(buf, want[k]) != 0)
            fail_msg("input '%s': token %zu is '%s', expected '%s'", in, k, buf, want[k]);
        assert_int_equal(len, strlen(want[k]));
        k++;
    }
    if (want[k])
        fail_msg("input '%s': missing token '%s'", in, want[k]);
    assert_int_equal(colb__tags_next(&it, buf), 0); /* stays at the end */
}

#define CHECK(in, ...)                                                                         \
    do {                                                                                       \
        static const char *const w_[] = { __VA_ARGS__, NULL };                                 \
        check_split_n((in), strlen(in), w_);                                                   \
    } while (0)

#define CHECK_NONE(in)                                                                         \
    do {                                                                                       \
        static const char *const w_[] = { NULL };                                              \
        check_split_n((in), strlen(in), w_);                                                   \
    } while (0)

static void test_ascii(void **state)
{
    (void)state;
    CHECK("metal", "metal");
    CHECK("Alternative Metal", "alternative", "metal");
    CHECK("Hip-Hop", "hip", "hop");
    CHECK("80's", "80", "s");
    CHECK("  rock  n' roll!! ", "rock", "n", "roll");
    CHECK("UPPER_case\tTAB\nnewline", "upper", "case", "tab", "newline");
    CHECK("90s", "90s");
    CHECK("a/b\\c|d", "a", "b", "c", "d");
    CHECK("rock rock", "rock", "rock"); /* occurrences are kept */
    CHECK("(female vocalists)", "female", "vocalists");
    CHECK_NONE("");
    CHECK_NONE("!!! <> :-)");
}

static void test_ascii_digits_in_symbols(void **state)
{
    (void)state;
    CHECK("<3", "3");
    CHECK("..a..", "a");
    CHECK("x", "x");
}

static void test_latin1(void **state)
{
    (void)state;
    /* real tags of tags.dat (latin-1), printed as UTF-8 */
    CHECK("die \xC4rzte", "die", "\xC3\xA4rzte");     /* Ä -> ä */
    CHECK("rock fran\xE7\x61is", "rock", "fran\xC3\xA7\x61is");
    CHECK("espa\xF1ol", "espa\xC3\xB1ol");
    CHECK("fu\xDF\x62\x61ll", "fu\xC3\x9f\x62\x61ll");  /* ß stays ß */
    CHECK("d\xFCsseldorf", "d\xC3\xBCsseldorf");
    CHECK("CAF\xC9", "caf\xC3\xA9");                   /* É -> é */
    CHECK("\xDE", "\xC3\xBE");                         /* Þ -> þ */
    CHECK("\xFF", "\xC3\xBF");                         /* ÿ has no latin-1 capital */
    CHECK("a\xD7" "b", "a", "b");                      /* × separates */
    CHECK("x\xF7y", "x", "y");                         /* ÷ separates */
    CHECK("no\xA0" "break", "no", "break");            /* no-break space */
    CHECK("\xB5s \xAA\xBA", "s");                      /* µ ª º are symbols here */
}

static void test_latin1_controls(void **state)
{
    (void)state;
    static const char *const none[] = { NULL };
    check_split_n("\x80\x9F\xBF", 3, none);
}

static void test_length_is_respected(void **state)
{
    (void)state;
    static const char *const w[] = { "ab", NULL };
    check_split_n("ab cd", 2, w);
    static const char *const w2[] = { "a", "b", NULL };
    check_split_n("a\0b", 3, w2); /* an embedded NUL separates */
}

static void test_byte_classes(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        int want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   (c >= 0xC0 && c != 0xD7 && c != 0xF7);
        if (colb__tags_is_token_byte((unsigned char)c) != want)
            fail_msg("byte 0x%02X: token class %d, expected %d", c,
                     colb__tags_is_token_byte((unsigned char)c), want);
        int low = c;
        if (c >= 'A' && c <= 'Z')
            low = c + 32;
        else if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
            low = c + 32;
        assert_int_equal(colb__tags_lower((unsigned char)c), low);
    }
}

static void test_utf8_bound(void **state)
{
    (void)state;
    /* 100 latin-1 letters give 200 bytes of UTF-8: the documented bound */
    char in[100], out[201];
    memset(in, 0xE9, sizeof in);
    colb__tag_iter it;
    colb__tags_begin(&it, in, sizeof in);
    assert_int_equal(colb__tags_next(&it, out), 200);
    for (int i = 0; i < 200; i += 2) {
        assert_int_equal((unsigned char)out[i], 0xC3);
        assert_int_equal((unsigned char)out[i + 1], 0xA9);
    }
    assert_int_equal(out[200], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_ascii_digits_in_symbols),
        cmocka_unit_test(test_latin1),
        cmocka_unit_test(test_latin1_controls),
        cmocka_unit_test(test_length_is_respected),
        cmocka_unit_test(test_byte_classes),
        cmocka_unit_test(test_utf8_bound),
    };
    return cmocka_run_group_tests_name("tags", tests, NULL, NULL);
}
