/* json_strict.c - the strict JSON reader of json_strict.h. It mirrors
 * cJSON 1.7's parser (parse_value, parse_object, parse_array, parse_string,
 * parse_number) on the subset it accepts, so that the tree is the one
 * cJSON builds: a string's bytes copied as they are, an object's members
 * and an array's items in order (duplicates kept), the first child's prev
 * pointing at the last, a number's valuedouble what strtod gives for its
 * text and its valueint clamped as cJSON clamps it. The fuzz harness
 * tests/fuzz/fuzz_json.c checks this against cJSON on arbitrary input.
 *
 * Why by hand: on a choose with JSON contexts (375 numbers at d = 15,
 * K = 25) cJSON's malloc per node and strtod per number were most of the
 * server's CPU time (docs/performance.md, "colb serve"). */
#include "json_strict.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct reader {
    const char *p, *end;
    arena *a;
} reader;

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void skip_ws(reader *r)
{
    while (r->p < r->end && is_ws(*r->p))
        r->p++;
}

static cJSON *node(reader *r)
{
    cJSON *n = arena_alloc(r->a, sizeof *n);
    if (n)
        memset(n, 0, sizeof *n);
    return n;
}

/* A string without escapes at r->p (the opening quote), copied into the
 * arena; NULL on an escape, a NUL byte or no closing quote. */
static char *string(reader *r)
{
    const char *s = r->p + 1, *q = memchr(s, '"', (size_t)(r->end - s));
    if (!q)
        return NULL;
    size_t n = (size_t)(q - s); /* memchr: a base64 context string is thousands of bytes */
    if (memchr(s, '\\', n) || memchr(s, '\0', n))
        return NULL;
    char *c = arena_alloc(r->a, n + 1);
    if (!c)
        return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    r->p = q + 1;
    return c;
}

/* Exact powers of ten: every one up to 1e22 is a double. */
static const double P10[23] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* The length of the number of RFC 8259's grammar at s (n bytes there), 0
 * when there is none. */
static size_t number_length(const char *s, size_t n)
{
    size_t i = 0;
#define DIGIT(k) ((k) < n && s[k] >= '0' && s[k] <= '9')
    if (i < n && s[i] == '-')
        i++;
    if (!DIGIT(i))
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (DIGIT(i))
            i++;
    if (i < n && s[i] == '.') {
        if (!DIGIT(i + 1))
            return 0;
        i++;
        while (DIGIT(i))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (!DIGIT(j))
            return 0;
        while (DIGIT(j))
            j++;
        i = j;
    }
#undef DIGIT
    return i;
}

int json_strict_number(const char *s, size_t n, double *out)
{
    if (n == 0 || n > 63 || number_length(s, n) != n)
        return -1;
    const char *p = s, *e = s + n;
    int neg = *p == '-';
    p += neg;
    /* the significant digits as an integer m and a power of ten: m 10^x */
    uint64_t m = 0;
    int digits = 0;      /* in m, leading zeros not counted */
    long x = 0;
    for (; p < e && *p >= '0' && *p <= '9'; p++) {
        if (digits < 19) {
            m = m * 10 + (uint64_t)(*p - '0');
            digits += m != 0;
        } else {
            digits = 20; /* more than m holds: strtod */
        }
    }
    if (p < e && *p == '.')
        for (p++; p < e && *p >= '0' && *p <= '9'; p++) {
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                digits += m != 0;
                x--;
            } else {
                digits = 20;
            }
        }
    if (p < e) { /* the exponent: at most 62 digits, so it is bounded by cutting it off */
        p++;
        int eneg = *p == '-';
        p += *p == '-' || *p == '+';
        long ex = 0;
        for (; p < e; p++)
            if (ex < 100000)
                ex = ex * 10 + (*p - '0');
        x += eneg ? -ex : ex;
    }
    /* Clinger's fast path: m and 10^|x| are exact doubles, so one IEEE
     * multiplication or division rounds the exact value once - the
     * correctly rounded result, as strtod's */
    if (digits <= 19 && m <= (uint64_t)1 << 53 && x >= -22 && x <= 22) {
        double v = x < 0 ? (double)m / P10[-x] : (double)m * P10[x];
        *out = neg ? -v : v;
        return 0;
    }
    if (m == 0 && digits <= 19) { /* zero, whatever the exponent */
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    char buf[64];
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return 0;
}

static cJSON *value(reader *r, int depth);

static cJSON *number(reader *r)
{
    size_t n = number_length(r->p, (size_t)(r->end - r->p));
    double v;
    /* cJSON takes every byte of "0123456789+-eE." (at most 63) to strtod:
     * where another follows the number ("01", "1.5.") it reads otherwise */
    if (n == 0 || (r->p + n < r->end && memchr("0123456789+-eE.", r->p[n], 15)) || json_strict_number(r->p, n, &v))
        return NULL;
    cJSON *it = node(r);
    if (!it)
        return NULL;
    it->type = cJSON_Number;
    it->valuedouble = v;
    it->valueint = v >= INT_MAX ? INT_MAX : v <= (double)INT_MIN ? INT_MIN : (int)v;
    r->p += n;
    return it;
}

/* The items of an array or the members of an object (keys: 1), r->p at
 * the opening bracket. */
static cJSON *container(reader *r, int depth, int keys)
{
    cJSON *it = node(r);
    if (!it || depth >= JSON_STRICT_DEPTH)
        return NULL;
    it->type = keys ? cJSON_Object : cJSON_Array;
    char close = keys ? '}' : ']';
    r->p++;
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return it;
    }
    cJSON *head = NULL, *last = NULL;
    for (;;) {
        char *key = NULL;
        if (keys) {
            if (r->p >= r->end || *r->p != '"' || !(key = string(r)))
                return NULL;
            skip_ws(r);
            if (r->p >= r->end || *r->p != ':')
                return NULL;
            r->p++;
            skip_ws(r);
        }
        cJSON *v = value(r, depth + 1);
        if (!v)
            return NULL;
        v->string = key;
        if (last) {
            last->next = v;
            v->prev = last;
        } else {
            head = v;
        }
        last = v;
        skip_ws(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            skip_ws(r);
            continue;
        }
        if (r->p >= r->end || *r->p != close)
            return NULL;
        r->p++;
        head->prev = last;
        it->child = head;
        return it;
    }
}

static cJSON *value(reader *r, int depth)
{
    if (r->p >= r->end)
        return NULL;
    char c = *r->p;
    if (c == '"') {
        cJSON *it = node(r);
        if (!it || !(it->valuestring = string(r)))
            return NULL;
        it->type = cJSON_String;
        return it;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return number(r);
    if (c == '[' || c == '{')
        return container(r, depth, c == '{');
    return NULL; /* true, false, null or not JSON: cJSON's */
}

cJSON *json_strict_parse(const char *s, size_t len, arena *a, const char **end)
{
    reader r = { s, s + len, a };
    skip_ws(&r);
    cJSON *root = value(&r, 0);
    if (root)
        *end = r.p;
    return root;
}
