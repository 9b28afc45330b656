/* test_cli_metrics.c - colb serve's Prometheus text (serve/metrics.c) on
 * its own: a histogram's _sum is written exactly, in seconds to the
 * nanosecond or as a whole count, however large it grows. */
#include "testutil.h"

#include "metrics.h"

/* The value of the line that starts with `series ` in text, or "". */
static void value_of(const char *text, const char *series, char *out, size_t len)
{
    char want[256];
    snprintf(want, sizeof want, "\n%s ", series);
    const char *at = strstr(text, want);
    out[0] = '\0';
    if (at) {
        at += strlen(want);
        snprintf(out, len, "%.*s", (int)strcspn(at, "\n"), at);
    }
}

/* A sum of 1,234,567,890.123456789 s (a long-running service's fsyncs)
 * kept every nanosecond; it was written "1.23456789e+09" (%.9g). A count
 * histogram's sum of 10^9 + 1 waiters is that integer, not "1e+09"; small
 * sums read as before. */
static void test_sums_exact(void **state)
{
    (void)state;
    static metrics m;
    metrics_init(&m);
    metrics_observe(&m.fsync_seconds, 0.5);
    atomic_store(&m.fsync_seconds.sum_ns, UINT64_C(1234567890123456789));
    metrics_observe_count(&m.commit_batch, UINT64_C(1000000001));
    metrics_observe(&m.snapshot_pause, 0.25);
    metrics_observe(&m.snapshot_seconds, 0.0);
    metrics_request(&m, R_CHOOSE, 200, 0.000123);
    metrics_request(&m, R_CHOOSE, 200, 3.0);
    size_t len = 0;
    char *text = metrics_render(&m, &len);
    assert_non_null(text);
    static const struct {
        const char *series, *value;
    } want[] = {
        { "colb_wal_fsync_seconds_sum", "1234567890.123456789" },
        { "colb_wal_fsync_seconds_count", "1" },
        { "colb_wal_group_commit_size_sum", "1000000001" },
        { "colb_snapshot_pause_seconds_sum", "0.25" },
        { "colb_snapshot_write_seconds_sum", "0" },
        { "colb_http_request_duration_seconds_sum{route=\"choose\"}", "3.000123" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char v[64];
        value_of(text, want[i].series, v, sizeof v);
        if (strcmp(v, want[i].value))
            fail_msg("%s: '%s', not '%s'", want[i].series, v, want[i].value);
        char *end;
        double d = strtod(v, &end); /* a number as Prometheus reads it */
        assert_true(*end == '\0' && d >= 0);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_exact),
    };
    return cmocka_run_group_tests_name("serve metrics", tests, NULL, NULL);
}
