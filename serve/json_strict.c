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
 * server's CPU time (docs/performance-history.md, "colb serve"). */
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

/* The number of RFC 8259's grammar at the start of s..end, read in one
 * pass into *out; its length, or 0 when there is none or it is longer than
 * 63 bytes (cJSON reads at most 63). */
static size_t scan_number(const char *s, const char *end, double *out)
{
    const char *p = s;
#define DIGIT (p < end && *p >= '0' && *p <= '9')
    int neg = p < end && *p == '-';
    p += neg;
    if (!DIGIT)
        return 0;
    /* the significant digits as an integer m and a power of ten: m 10^x */
    uint64_t m = 0;
    int digits = 0;      /* in m, leading zeros not counted; 20: more than m holds */
    long x = 0;
    if (*p == '0') {
        p++;
    } else {
        for (; DIGIT; p++) {
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                digits++;
            } else {
                digits = 20;
            }
        }
    }
    if (p < end && *p == '.') {
        p++;
        if (!DIGIT)
            return 0;
        for (; DIGIT; p++) {
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                digits += m != 0;
                x--;
            } else {
                digits = 20;
            }
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = p < end && *p == '-';
        p += p < end && (*p == '-' || *p == '+');
        if (!DIGIT)
            return 0;
        long ex = 0;
        for (; DIGIT; p++) /* bounded by cutting it off: the number has at most 63 bytes */
            if (ex < 100000)
                ex = ex * 10 + (*p - '0');
        x += eneg ? -ex : ex;
    }
#undef DIGIT
    size_t n = (size_t)(p - s);
    if (n > JSON_NUMBER_MAX)
        return 0;
    /* Clinger's fast path: m and 10^|x| are exact doubles, so one IEEE
     * multiplication or division rounds the exact value once - the
     * correctly rounded result, as strtod's */
    if (digits <= 19 && m <= (uint64_t)1 << 53 && x >= -22 && x <= 22) {
        double v = x < 0 ? (double)m / P10[-x] : (double)m * P10[x];
        *out = neg ? -v : v;
    } else if (m == 0 && digits <= 19) { /* zero, whatever the exponent */
        *out = neg ? -0.0 : 0.0;
    } else {
        char buf[64];
        memcpy(buf, s, n);
        buf[n] = '\0';
        *out = strtod(buf, NULL);
    }
    return n;
}

int json_strict_number(const char *s, size_t n, double *out)
{
    double v;
    if (n == 0 || scan_number(s, s + n, &v) != n)
        return -1;
    *out = v;
    return 0;
}

/* Bytes cJSON's number reader takes (it hands "0123456789+-eE." to strtod). */
static int number_byte(char c)
{
    return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'e' || c == 'E' || c == '.';
}

static cJSON *value(reader *r, int depth);

static cJSON *number(reader *r)
{
    double v;
    size_t n = scan_number(r->p, r->end, &v);
    /* where another byte cJSON's reader takes follows ("01", "1.5."), it
     * reads otherwise */
    if (n == 0 || (r->p + n < r->end && number_byte(r->p[n])))
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

/* Room for number i in *x (cap numbers, at most max in all): doubled
 * when full, so that what is allocated grows with what was read (8 bytes
 * a number, twice at most, and the arena keeps the earlier copies, as much
 * again: 32 bytes a number read at most, 4 kB at least). 0, or -1. */
static int room(arena *a, double **x, size_t *cap, size_t i, size_t max)
{
    if (i < *cap)
        return 0;
    size_t want = *cap ? 2 * *cap : 512;
    if (want > max)
        want = max;
    double *nx = arena_alloc(a, want * sizeof *nx);
    if (!nx)
        return -1;
    if (i)
        memcpy(nx, *x, i * sizeof *nx);
    *x = nx;
    *cap = want;
    return 0;
}

double *json_strict_rows(const char *s, size_t len, size_t d, size_t max_rows, arena *a, size_t *rows,
                         const char **end)
{
    reader r = { s, s + len, a };
    if (d == 0 || max_rows == 0 || max_rows > SIZE_MAX / sizeof(double) / d || r.p >= r.end || *r.p != '[')
        return NULL;
    r.p++;
    skip_ws(&r);
    double *x = NULL;
    size_t K = 0, i = 0, cap = 0; /* rows, numbers read, room (numbers) */
    for (;;) {
        if (K == max_rows || r.p >= r.end || *r.p != '[')
            return NULL;
        r.p++;
        skip_ws(&r);
        for (size_t j = 0;;) { /* the row's numbers, as number() reads them */
            if (room(a, &x, &cap, i, max_rows * d))
                return NULL;
            size_t n = scan_number(r.p, r.end, &x[i]);
            if (n == 0 || (r.p + n < r.end && number_byte(r.p[n])))
                return NULL;
            r.p += n;
            i++;
            j++;
            skip_ws(&r);
            if (r.p < r.end && *r.p == ',' && j < d) {
                r.p++;
                skip_ws(&r);
                continue;
            }
            if (r.p < r.end && *r.p == ']' && j == d) {
                r.p++;
                break;
            }
            return NULL;
        }
        K++;
        skip_ws(&r);
        if (r.p < r.end && *r.p == ',') {
            r.p++;
            skip_ws(&r);
            continue;
        }
        if (r.p < r.end && *r.p == ']') {
            r.p++;
            *rows = K;
            *end = r.p;
            return x;
        }
        return NULL;
    }
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
