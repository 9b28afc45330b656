/* test_cli_codec.c - colb serve's request parsing (serve/codec.c) through
 * its strict JSON reader (serve/json_strict.c): numbers read exactly as
 * strtod reads them, the trees it builds are cJSON's, the request shapes
 * clients send take the fast path, and malformed bodies still get the
 * documented 400 messages (cJSON words them, as before the reader). */
#include "testutil.h"

#include <cjson/cJSON.h>

#include "codec.h"
#include "json_strict.h"

/* json_strict_number(s) is strtod(s), bit for bit. */
static void same_as_strtod(const char *s)
{
    double v, w = strtod(s, NULL);
    if (json_strict_number(s, strlen(s), &v))
        fail_msg("json_strict_number refused \"%s\"", s);
    if (memcmp(&v, &w, sizeof v))
        fail_msg("\"%s\": %.17g, strtod %.17g", s, v, w);
}

static void test_numbers_known(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "0", "-0", "0.0", "-0.0e5", "1", "-1", "0.1", "0.2", "0.30000000000000004", "123456789", "1e22", "1e23",
        "-1e-22", "1e-23", "9007199254740992", "9007199254740993", "9007199254740995", "18446744073709551615",
        "18446744073709551616", "1234567890123456789012", "0.000001", "1.7976931348623157e308",
        "1.7976931348623159e308", "4.9e-324", "2.4703282292062327e-324", "2.2250738585072011e-308", "1e400",
        "-1e-400", "0e99999999999", "1E+2", "1e-0", "3.14159265358979323846264338327950288",
        "0.00000000000000000000000000000000000000001", "8.98846567431158e307", "-0.123457", "1.23457e-05",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        same_as_strtod(ok[i]);
    static const char *const bad[] = { "", "-", "01", "+1", ".5", "1.", "1e", "1e+", "0x10", "1.5.2", "inf", "nan",
                                       "1 ", " 1", "--1", "1e5e" };
    double v;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (json_strict_number(bad[i], strlen(bad[i]), &v) == 0)
            fail_msg("json_strict_number took \"%s\"", bad[i]);
}

/* Random numbers in every shape (fixed seed): the fast path and strtod's
 * fallback agree with strtod. */
static void test_numbers_random(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char s[80];
    for (int t = 0; t < 200000; t++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int n = 0, digits = 1 + (int)(x % 20), frac = (int)((x >> 8) % 20), ex = (int)((x >> 16) % 700) - 350;
        if (x >> 40 & 1)
            s[n++] = '-';
        for (int i = 0; i < digits; i++)
            s[n++] = (char)('0' + (i == 0 && digits > 1 ? 1 + (x >> (24 + i)) % 9 : (x >> (20 + 2 * i)) % 10));
        if (frac) {
            s[n++] = '.';
            for (int i = 0; i < frac; i++)
                s[n++] = (char)('0' + (x >> (3 * i)) % 10);
        }
        if (x >> 41 & 1)
            n += snprintf(s + n, sizeof s - (size_t)n, "e%d", (x >> 42 & 1) ? ex % 30 : ex);
        s[n] = '\0';
        same_as_strtod(s);
    }
}

/* The strict reader builds cJSON's tree (the fuzz harness does this on
 * arbitrary bytes; here, on the shapes of the API). */
static void same_tree(const cJSON *x, const cJSON *y)
{
    for (; x || y; x = x->next, y = y->next) {
        assert_true(x && y);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->valueint, y->valueint);
        assert_memory_equal(&x->valuedouble, &y->valuedouble, sizeof(double));
        assert_true((!x->string && !y->string) || !strcmp(x->string, y->string));
        assert_true((!x->valuestring && !y->valuestring) || !strcmp(x->valuestring, y->valuestring));
        same_tree(x->child, y->child);
    }
}

static const char *const shapes[] = {
    "{\"user\":\"u-1\",\"contexts\":[[0.5,-0.25,1e-3],[1,2,3]]}",
    "{\"user\":\"u-1\",\"contexts_b64\":\"AAAAAAAA8D8AAAAAAAAAQAAAAAAAAAhA\"}",
    " {\"contexts\":[[1,2,3]],\n \"users\":[\"a\",\"b\",\"\xc3\xa9t\xc3\xa9\"]}\r\n",
    "{\"requests\":[{\"user\":\"a\",\"contexts\":[[1,2,3]]},{\"user\":\"b\",\"contexts\":[[4,5,6]]}]}",
    "{\"decision\":\"1-2\",\"reward\":0.75}",
    "{\"rewards\":[{\"decision\":\"1-1\",\"reward\":1},{\"decision\":\"1-2\",\"reward\":-0.5}]}",
    "{\"a\":{},\"a\":[],\"b\":[[],[[]]],\"c\":\"\"}",
};

static void test_tree_shapes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        arena a = { 0 };
        const char *end = NULL, *cend = NULL;
        size_t n = strlen(shapes[i]);
        cJSON *t = json_strict_parse(shapes[i], n, &a, &end);
        if (!t)
            fail_msg("the strict reader gave up on %s", shapes[i]);
        cJSON *c = cJSON_ParseWithLengthOpts(shapes[i], n, &cend, 0);
        assert_non_null(c);
        assert_ptr_equal(end, cend);
        same_tree(t, c);
        cJSON_Delete(c);
        arena_free(&a);
    }
    /* beyond it: left to cJSON */
    static const char *const beyond[] = {
        "{\"user\":\"a\\u0041\"}", "{\"x\":true}", "{\"x\":null}", "{\"x\":01}", "\xef\xbb\xbf{}", "{\"a\":1,}",
        "{\"a\"\x0b:1}", "[1.5.2]", "{\"a\":1", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    };
    for (size_t i = 0; i < sizeof beyond / sizeof beyond[0]; i++) {
        arena a = { 0 };
        const char *end;
        if (json_strict_parse(beyond[i], strlen(beyond[i]), &a, &end))
            fail_msg("the strict reader took %s", beyond[i]);
        arena_free(&a);
    }
}

static const codec_limits LIM = { 3, 8, 16, 32 };

static void test_choose_json(void **state)
{
    (void)state;
    const char *body = "{\"user\":\"u-1\",\"contexts\":[[0.1,-2.5e-3,7],[1e2,0,-0.0]]}";
    arena a = { 0 };
    choose_req q;
    char err[768];
    assert_int_equal(codec_parse_choose(body, strlen(body), 0, &LIM, &a, &q, err, sizeof err), 0);
    assert_int_equal(q.rounds[0].K, 2);
    const double want[6] = { 0.1, -2.5e-3, 7, 1e2, 0, -0.0 };
    assert_memory_equal(q.rounds[0].X, want, sizeof want);
    assert_string_equal(q.rounds[0].users[0], "u-1");
    arena_free(&a);
    const char *rb = "{\"rewards\":[{\"decision\":\"3-17\",\"reward\":0.3},{\"reward\":-1,\"decision\":\"3-18\"}]}";
    reward_req r;
    assert_int_equal(codec_parse_reward(rb, strlen(rb), 1, &LIM, &a, &r, err, sizeof err), 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.items[0].id.gen, 3);
    assert_int_equal(r.items[1].id.seq, 18);
    assert_true(r.items[0].y == 0.3 && r.items[1].y == -1);
    arena_free(&a);
}

/* A body of K empty rows costs no K x d doubles: at d = 2^20 and K = 1024
 * (8 GiB of contexts), within an address space of 1 GiB more than now, the
 * answer names the short row (the codec used to allocate the contexts
 * first: "out of memory"). In a child, whose limit ends with it. */
static void test_choose_no_amplification(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (limit_address_space((size_t)1 << 30))
            _exit(3);
        static char body[8192];
        size_t n = (size_t)snprintf(body, sizeof body, "{\"user\":\"a\",\"contexts\":[[]");
        for (int k = 1; k < 1024; k++)
            n += (size_t)snprintf(body + n, sizeof body - n, ",[]");
        snprintf(body + n, sizeof body - n, "]}");
        const codec_limits lim = { (size_t)1 << 20, 1024, 16, 32 };
        arena a = { 0 };
        choose_req q;
        char err[768];
        int rc = codec_parse_choose(body, strlen(body), 0, &lim, &a, &q, err, sizeof err);
        _exit(rc && strstr(err, "contexts[0] has 0 numbers") ? 0 : (fprintf(stderr, "%s\n", err), 1));
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        fail_msg("1024 empty rows at d = 2^20: status %d (0: the short row named)", st);
}

/* Malformed bodies: 400 with the message cJSON's path gave before the
 * strict reader (the same texts, checked against the codec without it). */
static void test_choose_malformed(void **state)
{
    (void)state;
    static const struct { const char *body, *msg; } cases[] = {
        { "{\"user\":\"a\",\"contexts\":[[1,2,]]}", "malformed JSON at byte 29" },
        { "{\"user\":\"a\",\"contexts\":[[1,2,3]]} x", "malformed JSON: text after the value at byte 34" },
        { "{\"user\":\"a\",\"contexts\":[[1e999,2,3]]}", "request: contexts[0][0] is too large to be a finite number" },
        { "{\"user\":\"a\",\"contexts\":[[1,2]]}", "request: contexts[0] has 2 numbers; the dimension is 3" },
        { "{\"user\":\"a\",\"contexts\":[[1,2,\"3\"]]}", "request: contexts[0][2] is not a number" },
        { "{\"user\":\"a\",\"contexts\":[[1,2,3]],\"user\":\"b\"}", "request: field \"user\" is given twice" },
        { "{\"user\":\"a\",\"contexts\":[[1,2,3]]", "malformed JSON at byte 31" },
        { "[1,2,3]", "the body must be a JSON object" },
        { "{\"user\":\"a\",\"contexts\":[[1,2,3e]]}", "malformed JSON at byte 30" },
        { "{\"user\":\"\",\"contexts\":[[1,2,3]]}", "request: user id is empty" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arena a = { 0 };
        choose_req q;
        char err[768] = "";
        if (codec_parse_choose(cases[i].body, strlen(cases[i].body), 0, &LIM, &a, &q, err, sizeof err) == 0)
            fail_msg("accepted %s", cases[i].body);
        if (strcmp(err, cases[i].msg))
            fail_msg("%s: \"%s\", expected \"%s\"", cases[i].body, err, cases[i].msg);
        arena_free(&a);
    }
}

/* A single choose parsed as body and as "\f" + body: the form feed, which
 * the strict reader does not take as whitespace, sends the second to
 * cJSON's tree and the codec's general checks, the first (when it is of
 * the usual shape) to the fast path, which reads the body without a tree.
 * Both must accept the same bodies with the same request. */
static void same_choose(const char *body, size_t len, const codec_limits *lim)
{
    char *ff = malloc(len + 1);
    assert_non_null(ff);
    ff[0] = '\f';
    memcpy(ff + 1, body, len);
    arena a = { 0 }, b = { 0 };
    choose_req q, r;
    char err[768], err2[768];
    int x = codec_parse_choose(body, len, 0, lim, &a, &q, err, sizeof err);
    int y = codec_parse_choose(ff, len + 1, 0, lim, &b, &r, err2, sizeof err2);
    if (x != y)
        fail_msg("%.*s: %s (%s) but with a form feed first %s (%s)", (int)len, body, x ? "refused" : "accepted",
                 x ? err : "", y ? "refused" : "accepted", y ? err2 : "");
    if (x == 0) {
        assert_int_equal(q.n_rounds, 1);
        assert_int_equal(r.n_rounds, 1);
        assert_int_equal(q.n_decisions, r.n_decisions);
        const choose_round *u = q.rounds, *v = r.rounds;
        assert_int_equal(u->K, v->K);
        assert_memory_equal(u->X, v->X, u->K * lim->dim * sizeof(double));
        assert_int_equal(u->n_users, 1);
        assert_int_equal(v->n_users, 1);
        assert_int_equal(u->user_len[0], v->user_len[0]);
        assert_memory_equal(u->users[0], v->users[0], u->user_len[0] + 1);
    }
    arena_free(&a);
    arena_free(&b);
    free(ff);
}

/* Base64 (standard, padded) of n bytes at out; its length. */
static size_t b64(const unsigned char *in, size_t n, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned w = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = al[w >> 18 & 63];
        out[o++] = al[w >> 12 & 63];
        out[o++] = i + 1 < n ? al[w >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? al[w & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static size_t pick(uint64_t *y, size_t n)
{
    *y = *y * 6364136223846793005ull + 1442695040888963407ull;
    return (size_t)(*y >> 33) % n;
}

/* The fast path of single chooses (codec.c, choose_fast) against the
 * general path: request-shaped bodies (whitespace, key orders, base64,
 * numbers of every form and range, user ids of every kind, members
 * repeated or unknown), then each with one byte changed, inserted or
 * removed; fixed seed. */
static void test_choose_fast(void **state)
{
    (void)state;
    static const char *const nums[] = { "0", "-0", "1", "-1.5", "0.25", "1e3", "-2.5E-3", "1e6", "-1e6", "1000000.1",
                                        "1e7", "1e999", "-1e-999", "123456789012345678901234", "0.1e1", "5e+0",
                                        "0.123457", "-0.0012345",
                                        /* 63 characters, read; 67, refused (loose_number's "more than 63") */
                                        "1.0000000000000000000000000000000000000000000000000000000000001",
                                        "0.00000000000000000000000000000000000000000000000000000000000000001",
                                        /* not JSON's: refused by both paths */
                                        "NaN", "Infinity", "-Infinity", "01", "1.", ".5", "+1", "-" };
    static const char *const fine[] = { "0.123457", "-0.0012345", "1", "0.25", "-1.5", "1e3", "-0.987654" };
    static const double vals[] = { 1, -2.5, 0, 1e6, 1e7, 0.1, -0.0, 1e300 };
    static const char *const ws[] = { "", "", "", " ", "\n", " \r\n\t" };
    static const char *const ids[] = { "u-1", "\xc3\xa9t\xc3\xa9", "a b", "", "x\x01", "\xff", "q\"", "\\u0041" };
    static const char muts[] = "\"\\,[]{}: \f0-.eE1x\xc3tu"; /* and its NUL */
    const codec_limits lim = { 3, 4, 16, 32 };
    uint64_t x = 0x243F6A8885A308D3ull, y = 1;
#define PICK(arr) (arr[pick(&y, sizeof arr / sizeof arr[0])])
    char body[8192], mut[8193], ctx[4096], usr[64];
    for (int t = 0; t < 20000; t++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const char *w = PICK(ws);
        int K = 1 + (int)(x % 5), d = (x >> 3) % 8 ? 3 : 2 + (int)(x >> 6 & 1) * 2;
        size_t c = 0, n = 0;
        if ((x >> 7) % 4 == 0) { /* contexts_b64, of K x d doubles (d != 3: a wrong count) */
            unsigned char raw[8 * 5 * 4 + 1];
            for (int i = 0; i < K * d; i++) {
                double v = (x >> 11) % 4 ? PICK(vals) : (x >> 13) % 2 ? INFINITY : NAN;
                memcpy(raw + 8 * i, &v, 8);
            }
            c += (size_t)snprintf(ctx, sizeof ctx, "\"contexts_b64\"%s:%s\"", w, w);
            c += b64(raw, (size_t)(8 * K * d) + ((x >> 15) % 8 == 0), ctx + c);
            c += (size_t)snprintf(ctx + c, sizeof ctx - c, "\"");
        } else {
            c += (size_t)snprintf(ctx, sizeof ctx, "\"contexts\"%s:%s[", w, w);
            for (int k = 0; k < K; k++) {
                c += (size_t)snprintf(ctx + c, sizeof ctx - c, "%s%s[", k ? "," : "", k ? PICK(ws) : "");
                for (int j = 0; j < d; j++)
                    c += (size_t)snprintf(ctx + c, sizeof ctx - c, "%s%s%s", j ? "," : "", PICK(ws),
                                          (x >> 11) % 4 ? PICK(fine) : PICK(nums));
                c += (size_t)snprintf(ctx + c, sizeof ctx - c, "%s]", PICK(ws));
            }
            c += (size_t)snprintf(ctx + c, sizeof ctx - c, "]");
        }
        snprintf(usr, sizeof usr, "\"user\"%s:%s\"%s\"", w, w, (x >> 17) % 4 ? "u-1" : PICK(ids));
        int user_first = (x >> 19) & 1;
        n += (size_t)snprintf(body + n, sizeof body - n, "%s{%s%s%s,%s%s", PICK(ws), w, user_first ? usr : ctx, w, w,
                              user_first ? ctx : usr);
        if ((x >> 20) % 16 == 0) /* a member again, or an unknown one */
            n += (size_t)snprintf(body + n, sizeof body - n, ",%s", (x >> 24) & 1 ? "\"contexts\":[[1,2,3]]"
                                                                   : (x >> 25) & 1 ? "\"user\":\"v\"" : "\"x\":1");
        n += (size_t)snprintf(body + n, sizeof body - n, "%s}%s", w, PICK(ws));
        same_choose(body, n, &lim);
        /* one byte changed, inserted or removed */
        size_t at = pick(&y, n), mn = at;
        char m = PICK(muts);
        int how = (int)pick(&y, 3), skip = how != 1;
        memcpy(mut, body, at);
        if (how < 2)
            mut[mn++] = m;
        memcpy(mut + mn, body + at + skip, n - at - (size_t)skip);
        mn += n - at - (size_t)skip;
        same_choose(mut, mn, &lim);
    }
#undef PICK
    /* the shape clients send takes the fast path: the contexts, and no
     * tree, in one arena block (the tree of 25 x 15 numbers took two) */
    const codec_limits big = { 15, 100, 16, 256 };
    sbuf b = { 0 };
    sbuf_put(&b, "{\"user\":\"alice\",\"contexts\":[", 28);
    for (int k = 0; k < 25; k++)
        for (int j = 0; j < 15; j++)
            sbuf_printf(&b, "%s%.6g%s", j ? "," : k ? ",[" : "[", (k * 15 + j) * 0.0137 - 1.7, j == 14 ? "]" : "");
    sbuf_put(&b, "]}", 2);
    size_t blen;
    char *big_body = sbuf_take(&b, &blen);
    arena a = { 0 };
    choose_req q;
    char err[768];
    assert_int_equal(codec_parse_choose(big_body, blen, 0, &big, &a, &q, err, sizeof err), 0);
    assert_int_equal(q.rounds[0].K, 25);
    assert_int_equal(a.bytes, 16384);
    arena_free(&a);
    same_choose(big_body, blen, &big);
    free(big_body);
}

/* A shared round's users: distinct (a hash set), with the duplicate named. */
static void test_batch_users(void **state)
{
    (void)state;
    codec_limits lim = LIM;
    lim.max_batch = 5000;
    sbuf b = { 0 };
    const char *head = "{\"contexts\":[[1,2,3]],\"users\":[";
    sbuf_put(&b, head, strlen(head));
    for (int i = 0; i < 4000; i++)
        sbuf_printf(&b, "%s\"u%d\"", i ? "," : "", i);
    size_t ok_len = b.len;
    sbuf_put(&b, ",\"u1234\"]}", 10);
    char *dup = sbuf_take(&b, NULL);
    arena a = { 0 };
    choose_req q;
    char err[768];
    assert_int_equal(codec_parse_choose(dup, strlen(dup), 1, &lim, &a, &q, err, sizeof err), -1);
    assert_string_equal(err, "user \"u1234\" is listed twice; a round serves a user once");
    arena_free(&a);
    memcpy(dup + ok_len, "]}", 3);
    assert_int_equal(codec_parse_choose(dup, strlen(dup), 1, &lim, &a, &q, err, sizeof err), 0);
    assert_int_equal(q.n_decisions, 4000);
    assert_string_equal(q.rounds[0].users[3999], "u3999");
    arena_free(&a);
    free(dup);
}

/* Decision ids "GEN-SEQ": every SEQ in 1..2^64 - 1 and GEN in 0..2^32 - 1,
 * nothing beyond (in particular the last values below each power-of-ten
 * boundary of the overflow guard). */
static void test_decision_ids(void **state)
{
    (void)state;
    char s[64];
    decision_id id;
    for (uint64_t q = UINT64_MAX - 30;; q++) { /* the top of the range, UINT64_MAX included */
        snprintf(s, sizeof s, "7-%llu", (unsigned long long)q);
        if (codec_parse_decision(s, strlen(s), &id))
            fail_msg("refused %s", s);
        assert_int_equal(id.gen, 7);
        assert_true(id.seq == q);
        if (q == UINT64_MAX)
            break;
    }
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (int t = 0; t < 100000; t++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t q = (x >> (x % 64)) | 1; /* every magnitude */
        uint32_t g = (uint32_t)(x >> 11);
        snprintf(s, sizeof s, "%u-%llu", (unsigned)g, (unsigned long long)q);
        assert_int_equal(codec_parse_decision(s, strlen(s), &id), 0);
        assert_int_equal(id.gen, g);
        assert_true(id.seq == q);
    }
    static const char *const ok[] = { "0-1", "1-1", "4294967295-1", "4294967295-18446744073709551615",
                                      "1-1844674407370955161", "1-1844674407370955162", "1-9999999999999999999" };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (codec_parse_decision(ok[i], strlen(ok[i]), &id))
            fail_msg("refused %s", ok[i]);
    static const char *const bad[] = {
        "1-18446744073709551616", "1-18446744073709551619", "1-18446744073709551620", "1-18446744073709551700",
        "1-18446744073709552000", "1-18446744073709561615", "1-19999999999999999999", "1-99999999999999999999",
        "1-184467440737095516150", "1-100000000000000000000", "4294967296-1", "9999999999-1", "1-0", "1-01",
        "01-1", "-1", "1-", "1", "", "1--1", "1-1-", "+1-1", "1-+1", "1-1 ", "1- 1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (codec_parse_decision(bad[i], strlen(bad[i]), &id) == 0)
            fail_msg("took %s", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_known), cmocka_unit_test(test_numbers_random),
        cmocka_unit_test(test_tree_shapes),   cmocka_unit_test(test_choose_json),
        cmocka_unit_test(test_choose_no_amplification),
        cmocka_unit_test(test_choose_malformed), cmocka_unit_test(test_choose_fast),
        cmocka_unit_test(test_batch_users),
        cmocka_unit_test(test_decision_ids),
    };
    return cmocka_run_group_tests_name("colb serve codec", tests, NULL, NULL);
}
