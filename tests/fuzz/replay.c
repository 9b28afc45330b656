/* replay.c - runs a libFuzzer harness (LLVMFuzzerTestOneInput) on every
 * file of its corpus, tests/fuzz/corpus/NAME/ (the seeds and every input
 * that once crashed it), as part of the normal test suite: built with the
 * ordinary compiler (and with the sanitizers by `make sanitize`). */
#include "testutil.h"

#include <dirent.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void test_corpus(void **state)
{
    (void)state;
    const char *dir = "tests/fuzz/corpus/" FUZZ_NAME;
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("no corpus %s (run from the repository root)", dir);
    struct dirent *de;
    size_t n = 0;
    char path[1024];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len = 0;
        char *buf = slurp(path, &len);
        assert_non_null(buf);
        LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
        free(buf);
        n++;
    }
    closedir(d);
    assert_true(n > 0);
    print_message("%s: %zu inputs replayed\n", FUZZ_NAME, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_corpus) };
    return cmocka_run_group_tests_name("fuzz replay " FUZZ_NAME, tests, NULL, NULL);
}
