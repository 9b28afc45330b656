/* codec.c - request bodies parsed with cJSON and checked field by field
 * (codec.h); answers written. cJSON was chosen over jansson by measuring
 * both on colb's request shapes (docs/performance-history.md, "colb serve"): it
 * parses them 1.4 to 3.6 times faster and builds answers 1.8 times faster.
 * The answers on the hot paths (decisions) are plain appends to a buffer:
 * their keys are fixed and their values are numbers and colb's own decision
 * ids, which need no escaping, and a cJSON tree per decision would cost
 * more than the decision itself. */
#include "codec.h"

#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bytes.h"
#include "colb/limits.h"
#include "json_strict.h"

/* ---- arena ----------------------------------------------------------------- */

struct arena_block {
    arena_block *next;
    size_t used, cap;
    _Alignas(8) unsigned char data[];
};

void *arena_alloc(arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        if (cap > SIZE_MAX - sizeof *b)
            return NULL;
        arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->cap = cap;
        nb->next = b;
        a->head = b = nb;
        a->bytes += cap;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

/* A request's tree beyond this many bytes is given back to the system when
 * freed (malloc_trim): a huge body's (a 64-byte node per JSON value: up to
 * 32 bytes per byte of body) would otherwise stay resident in malloc's
 * heap. Below it the blocks stay in the heap for the next requests, which
 * then take them without page faults (giving back every large request's
 * blocks cost choose/batch 5-30 % of its server time in bench_serve). */
#define ARENA_TRIM ((size_t)64 << 20)

void arena_free(arena *a)
{
    for (arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    if (a->bytes >= ARENA_TRIM)
        malloc_trim(0);
    a->head = NULL;
    a->bytes = 0;
}

/* from's blocks moved into a (from left empty): what was allocated in
 * from lives as long as a's. */
static void arena_adopt(arena *a, arena *from)
{
    arena_block *b = from->head;
    if (!b)
        return;
    while (b->next)
        b = b->next;
    b->next = a->head;
    a->head = from->head;
    a->bytes += from->bytes;
    from->head = NULL;
    from->bytes = 0;
}

/* ---- text buffer ------------------------------------------------------------ */

static int sbuf_reserve(sbuf *b, size_t n)
{
    if (b->oom)
        return -1;
    if (b->cap - b->len > n)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len <= n)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void sbuf_put(sbuf *b, const char *s, size_t n)
{
    if (sbuf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sbuf_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        sbuf_put(b, small, (size_t)n);
        return;
    }
    if (sbuf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *sbuf_take(sbuf *b, size_t *len)
{
    char *p = b->oom ? NULL : b->p;
    if (b->oom)
        free(b->p);
    else if (!p && (p = malloc(1)))
        p[0] = '\0';
    if (len)
        *len = p ? b->len : 0;
    memset(b, 0, sizeof *b);
    return p;
}

/* ---- checks --------------------------------------------------------------- */

/* A reason into err; -1. */
static int __attribute__((format(printf, 3, 4))) errf(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -1;
}
#define ERR(...) errf(err, err_len, __VA_ARGS__)

/* The length (1 to 4) of the valid UTF-8 character at u, of the n bytes
 * there; 0 when the bytes are not one (overlong, a surrogate, beyond
 * U+10FFFF, cut short). */
static size_t utf8_char(const unsigned char *u, size_t n)
{
    static const unsigned least[4] = { 0, 0x80, 0x800, 0x10000 };
    unsigned c = u[0];
    size_t k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 4;
    if (k == 4)
        return 0;
    unsigned cp = k == 0 ? c : k == 1 ? c & 0x1F : k == 2 ? c & 0x0F : c & 0x07;
    for (size_t j = 1; j <= k; j++) {
        if (j >= n || (u[j] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (u[j] & 0x3F);
    }
    if (cp < least[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k + 1;
}

int codec_check_user_id(const char *s, size_t n, size_t max, char *err, size_t err_len)
{
    if (n == 0)
        return ERR("user id is empty");
    if (n > max)
        return ERR("user id is %zu bytes long; at most %zu", n, max);
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c < 0x20 || c == 0x7f)
            return ERR("user id has a control character (byte %zu)", i);
        size_t k = utf8_char(u + i, n - i);
        if (!k)
            return ERR("user id is not valid UTF-8 (byte %zu)", i);
        if (k == 2 && c == 0xC2 && u[i + 1] < 0xA0) /* U+0080-U+009F, the C1 controls */
            return ERR("user id has a control character (byte %zu)", i);
        i += k;
    }
    return 0;
}

int codec_parse_decision(const char *s, size_t n, decision_id *out)
{
    const char *dash = memchr(s, '-', n);
    if (!dash || dash == s || dash == s + n - 1)
        return -1;
    unsigned long long g = 0;
    uint64_t q = 0;
    for (const char *p = s; p < dash; p++) {
        if (*p < '0' || *p > '9' || (p == s && *p == '0' && dash - s > 1) || g > 429496729ull)
            return -1;
        g = g * 10 + (unsigned)(*p - '0');
    }
    for (const char *p = dash + 1; p < s + n; p++) {
        if (*p < '0' || *p > '9' || (p == dash + 1 && *p == '0'))
            return -1;
        unsigned dgt = (unsigned)(*p - '0');
        if (q > UINT64_MAX / 10 || (q == UINT64_MAX / 10 && dgt > UINT64_MAX % 10))
            return -1; /* q * 10 + dgt > UINT64_MAX */
        q = q * 10 + dgt;
    }
    if (g > 0xFFFFFFFFull || q == 0)
        return -1;
    out->gen = (uint32_t)g;
    out->seq = q;
    return 0;
}

/* ---- parsing ----------------------------------------------------------------- */

/* A tree cJSON built (owned) is freed node by node into malloc's heaps;
 * after a large body's (1 MB and more: rare, cJSON reads only bodies with
 * escapes) they are trimmed, so that its memory (some 80 bytes per JSON
 * value) goes back to the system. */
static void release(cJSON *root, int owned, size_t len)
{
    if (!owned)
        return;
    cJSON_Delete(root);
    if (len >= ((size_t)1 << 20))
        malloc_trim(0);
}

/* The offset of the first number outside strings in body[0..len) that is
 * not of RFC 8259's grammar, or -1. cJSON, which parses what the strict
 * reader leaves, hands any run of "0123456789+-eE." to strtod, so it reads
 * "01" and "1." as numbers; the strict reader's grammar refuses them. */
static long loose_number(const char *body, size_t len, int *too_long)
{
    int in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i;
            while (j < len && body[j] && strchr("0123456789+-eE.", body[j]))
                j++;
            double v;
            if (json_strict_number(body + i, j - i, &v) != 0) {
                *too_long = j - i > JSON_NUMBER_MAX;
                return (long)i;
            }
            i = j - 1;
        }
    }
    return -1;
}

/* The body as a JSON object, or NULL with err; *owned: 1 when cJSON built
 * it (free with cJSON_Delete), 0 when json_strict_parse built it in the
 * arena (the same tree). Refused before either sees them: NUL bytes (cJSON
 * strings would end there) and the escape \u0000 (likewise). Refused
 * after: anything but whitespace after the value. */
static cJSON *parse_object(const char *body, size_t len, arena *a, int *owned, char *err, size_t err_len)
{
    if (len == 0)
        return ERR("empty body; expected a JSON object"), NULL;
    if (memchr(body, '\0', len))
        return ERR("the body has a NUL byte"), NULL;
    int escapes = memchr(body, '\\', len) != NULL; /* none: no \u0000, and the strict reader may do */
    for (const char *p = body; escapes && (p = memchr(p, 'u', (size_t)(body + len - p))) != NULL; p++) {
        if (p + 5 > body + len || memcmp(p, "u0000", 5))
            continue;
        size_t bs = 0;
        while (p - bs > body && p[-1 - (ptrdiff_t)bs] == '\\')
            bs++;
        if (bs % 2 == 1)
            return ERR("a string has the escape \\u0000 (NUL), which colb does not accept"), NULL;
    }
    const char *end = NULL;
    cJSON *root = escapes ? NULL : json_strict_parse(body, len, a, &end);
    *owned = !root;
    if (!root)
        root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) {
        size_t at = end && end >= body && end <= body + len ? (size_t)(end - body) : 0;
        return ERR("malformed JSON at byte %zu", at), NULL;
    }
    while (end < body + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != body + len) {
        release(root, *owned, len);
        return ERR("malformed JSON: text after the value at byte %zu", (size_t)(end - body)), NULL;
    }
    int too_long = 0;
    long bad = *owned ? loose_number(body, len, &too_long) : -1;
    if (bad >= 0) {
        release(root, *owned, len);
        if (too_long)
            return ERR("the number at byte %ld has more than %d characters (numbers are read up to %d: "
                       "write fewer digits, or an exponent)", bad, JSON_NUMBER_MAX, JSON_NUMBER_MAX), NULL;
        return ERR("malformed JSON: the number at byte %ld is not JSON's (a leading zero, or no digit "
                   "after the point or in the exponent)", bad), NULL;
    }
    if (!cJSON_IsObject(root)) {
        release(root, *owned, len);
        return ERR("the body must be a JSON object"), NULL;
    }
    return root;
}

/* Every member of object o is one of `keys` (NULL-terminated), at most
 * once; `where` names o in messages. */
static int check_keys(const cJSON *o, const char *const *keys, const char *where, char *err, size_t err_len)
{
    unsigned seen = 0;
    for (const cJSON *m = o->child; m; m = m->next) {
        size_t k = 0;
        while (keys[k] && strcmp(keys[k], m->string))
            k++;
        if (!keys[k]) {
            char list[128] = "";
            for (size_t j = 0; keys[j]; j++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"", j ? ", " : "", keys[j]);
            char name[40]; /* printable ASCII of the name only: messages are plain text */
            size_t j = 0;
            for (const char *c = m->string; *c && j + 1 < sizeof name; c++)
                name[j++] = *c >= 0x20 && *c < 0x7f ? *c : '?';
            name[j] = '\0';
            return ERR("%s: unknown field \"%s\" (expected %s)", where, name, list);
        }
        if (seen >> k & 1)
            return ERR("%s: field \"%s\" is given twice", where, keys[k]);
        seen |= 1u << k;
    }
    return 0;
}

/* Item parsers in a loop name their item "\x01" (formatting "users[%zu]"
 * for every item would cost more than parsing it); on failure the message
 * gets the real name here. Returns -1. */
#define ITEM "\x01"
static int name_item(char *err, size_t err_len, const char *list, size_t i)
{
    if (err[0] != ITEM[0])
        return -1;
    char rest[768];
    snprintf(rest, sizeof rest, "%s", err + 1);
    snprintf(err, err_len, "%s[%zu]%s", list, i, rest);
    return -1;
}

/* A user id member: copied into the arena. */
static int get_user(const cJSON *v, const char *where, const codec_limits *lim, arena *a, const char **id,
                    size_t *n, char *err, size_t err_len)
{
    if (!v)
        return ERR("%s: missing field \"user\"", where);
    if (!cJSON_IsString(v))
        return ERR("%s: \"user\" must be a string", where);
    size_t len = strlen(v->valuestring);
    char why[160];
    if (codec_check_user_id(v->valuestring, len, lim->max_id_bytes, why, sizeof why))
        return ERR("%s: %s", where, why);
    char *c = arena_alloc(a, len + 1);
    if (!c)
        return ERR("out of memory");
    memcpy(c, v->valuestring, len + 1);
    *id = c;
    *n = len;
    return 0;
}

/* Strict base64 (RFC 4648, standard alphabet, padded): n characters to
 * out (3n/4 bytes at most); the number of bytes, or -1. Hand-written (20
 * lines): none of colb's libraries offers a decoder. */
/* The value of each base64 character, -1 for the others. */
static const signed char B64[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* Not inlined: inlined into contexts_b64 it kept its output's index in a
 * vector register (spilled), 15 % slower on a 25 x 15 body. */
static long __attribute__((noinline)) b64_decode(const char *s, size_t n, unsigned char *out)
{
    if (n % 4)
        return -1;
    size_t o = 0, i = 0;
    for (; i + 4 < n; i += 4) { /* every quad but the last has no padding */
        int v0 = B64[(unsigned char)s[i]], v1 = B64[(unsigned char)s[i + 1]];
        int v2 = B64[(unsigned char)s[i + 2]], v3 = B64[(unsigned char)s[i + 3]];
        if ((v0 | v1 | v2 | v3) < 0)
            return -1;
        unsigned w = (unsigned)v0 << 18 | (unsigned)v1 << 12 | (unsigned)v2 << 6 | (unsigned)v3;
        out[o] = (unsigned char)(w >> 16);
        out[o + 1] = (unsigned char)(w >> 8);
        out[o + 2] = (unsigned char)w;
        o += 3;
    }
    for (; i < n; i += 4) {
        int pad = (s[i + 3] == '=') + (s[i + 2] == '=' && s[i + 3] == '=');
        if (pad && i + 4 != n)
            return -1;
        int v0 = B64[(unsigned char)s[i]], v1 = B64[(unsigned char)s[i + 1]];
        int v2 = pad == 2 ? 0 : B64[(unsigned char)s[i + 2]], v3 = pad ? 0 : B64[(unsigned char)s[i + 3]];
        if ((v0 | v1 | v2 | v3) < 0)
            return -1;
        unsigned w = (unsigned)v0 << 18 | (unsigned)v1 << 12 | (unsigned)v2 << 6 | (unsigned)v3;
        out[o++] = (unsigned char)(w >> 16);
        if (pad < 2)
            out[o++] = (unsigned char)(w >> 8);
        if (pad < 1)
            out[o++] = (unsigned char)w;
    }
    return (long)o;
}

/* "contexts_b64": the K x d contexts as little-endian IEEE doubles,
 * row-major, in base64 - exact, and parsed without a number parser. */
static int contexts_b64(const char *s, size_t n, const char *where, const codec_limits *lim, arena *a,
                        choose_round *r, char *err, size_t err_len)
{
    unsigned char *raw = arena_alloc(a, n / 4 * 3 + 3);
    if (!raw)
        return ERR("out of memory");
    long bytes = b64_decode(s, n, raw);
    size_t row = 8 * lim->dim;
    if (bytes < 0)
        return ERR("%s: \"contexts_b64\" is not base64 (standard alphabet, padded)", where);
    if (bytes == 0 || (size_t)bytes % row)
        return ERR("%s: \"contexts_b64\" has %ld bytes; expected K x %zu doubles (a multiple of %zu bytes, K >= 1)",
                   where, bytes, lim->dim, row);
    size_t K = (size_t)bytes / row;
    if (K > lim->max_contexts)
        return ERR("%s: %zu contexts; at most %zu (--max-contexts)", where, K, lim->max_contexts);
    double *X = arena_alloc(a, K * lim->dim * sizeof(double));
    if (!X)
        return ERR("out of memory");
    for (size_t i = 0; i < K * lim->dim; i++) {
        double val = get_f64(raw + 8 * i);
        if (!isfinite(val))
            return ERR("%s: contexts_b64: context %zu, entry %zu is not finite", where, i / lim->dim, i % lim->dim);
        if (fabs(val) > COLB_CONTEXT_MAX)
            return ERR("%s: contexts_b64: context %zu, entry %zu = %.17g is beyond +-%g", where, i / lim->dim,
                       i % lim->dim, val, COLB_CONTEXT_MAX);
        X[i] = val;
    }
    r->K = K;
    r->X = X;
    return 0;
}

static int get_contexts_b64(const cJSON *v, const char *where, const codec_limits *lim, arena *a, choose_round *r,
                            char *err, size_t err_len)
{
    if (!cJSON_IsString(v))
        return ERR("%s: \"contexts_b64\" must be a string (base64 of K x %zu little-endian doubles)", where, lim->dim);
    return contexts_b64(v->valuestring, strlen(v->valuestring), where, lim, a, r, err, err_len);
}

/* "contexts": K arrays of d finite numbers within COLB_CONTEXT_MAX (or
 * "contexts_b64", b64 non-NULL: get_contexts_b64). */
static int get_contexts(const cJSON *v, const cJSON *b64, const char *where, const codec_limits *lim, arena *a,
                        choose_round *r, char *err, size_t err_len)
{
    if (v && b64)
        return ERR("%s: give \"contexts\" or \"contexts_b64\", not both", where);
    if (b64)
        return get_contexts_b64(b64, where, lim, a, r, err, err_len);
    if (!v)
        return ERR("%s: missing field \"contexts\"", where);
    if (!cJSON_IsArray(v))
        return ERR("%s: \"contexts\" must be an array of arrays of %zu numbers", where, lim->dim);
    size_t K = 0, n = 0;
    for (const cJSON *row = v->child; row; row = row->next, K++)
        for (const cJSON *x = cJSON_IsArray(row) ? row->child : NULL; x; x = x->next)
            n++;
    if (K == 0)
        return ERR("%s: \"contexts\" is empty; give at least one context", where);
    if (K > lim->max_contexts)
        return ERR("%s: %zu contexts; at most %zu (--max-contexts)", where, K, lim->max_contexts);
    /* K x d numbers are there before K x d doubles are allocated (a body of
     * K empty rows must not cost K d 8 bytes); else the loop below finds
     * what is wrong (its writes stay within K x d either way) */
    double *X = n == K * lim->dim ? arena_alloc(a, K * lim->dim * sizeof(double)) : NULL;
    if (!X && n == K * lim->dim)
        return ERR("out of memory");
    size_t k = 0;
    for (const cJSON *row = v->child; row; row = row->next, k++) {
        if (!cJSON_IsArray(row))
            return ERR("%s: contexts[%zu] must be an array of %zu numbers", where, k, lim->dim);
        size_t j = 0;
        for (const cJSON *x = row->child; x; x = x->next, j++) {
            if (j >= lim->dim)
                return ERR("%s: contexts[%zu] has more than %zu numbers (the dimension)", where, k, lim->dim);
            if (!cJSON_IsNumber(x))
                return ERR("%s: contexts[%zu][%zu] is not a number", where, k, j);
            double val = x->valuedouble;
            if (!isfinite(val))
                return ERR("%s: contexts[%zu][%zu] is too large to be a finite number", where, k, j);
            if (fabs(val) > COLB_CONTEXT_MAX)
                return ERR("%s: contexts[%zu][%zu] = %.17g is beyond +-%g", where, k, j, val, COLB_CONTEXT_MAX);
            if (X)
                X[k * lim->dim + j] = val;
        }
        if (j != lim->dim)
            return ERR("%s: contexts[%zu] has %zu numbers; the dimension is %zu", where, k, j, lim->dim);
    }
    if (!X) /* not reached: the count of numbers differed from K x d */
        return ERR("%s: \"contexts\" must hold %zu numbers per context", where, lim->dim);
    r->K = K;
    r->X = X;
    return 0;
}

/* FNV-1a of n bytes: the duplicate check's hash (it needs no more). */
static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

/* The users of a shared round: distinct ids. */
static int get_users(const cJSON *v, const codec_limits *lim, arena *a, choose_round *r, char *err, size_t err_len)
{
    if (!v)
        return ERR("missing field \"users\" (with \"contexts\"), or give \"requests\"");
    if (!cJSON_IsArray(v))
        return ERR("\"users\" must be an array of user ids");
    size_t n = 0;
    for (const cJSON *u = v->child; u; u = u->next)
        n++;
    if (n == 0)
        return ERR("\"users\" is empty");
    if (n > lim->max_batch)
        return ERR("%zu users; at most %zu per request (--max-batch)", n, lim->max_batch);
    /* a hash set of the ids (open addressing, at most half full): a
     * duplicate is refused in O(n) rather than after a sort */
    size_t tcap = 16;
    while (tcap < 2 * n)
        tcap *= 2;
    r->users = arena_alloc(a, n * sizeof *r->users);
    r->user_len = arena_alloc(a, n * sizeof *r->user_len);
    size_t *table = arena_alloc(a, tcap * sizeof *table); /* index + 1, 0 empty */
    if (!r->users || !r->user_len || !table)
        return ERR("out of memory");
    memset(table, 0, tcap * sizeof *table);
    size_t i = 0;
    for (const cJSON *u = v->child; u; u = u->next, i++) {
        if (!cJSON_IsString(u))
            return ERR("users[%zu] must be a string", i);
        size_t len = strlen(u->valuestring);
        char why[160];
        if (codec_check_user_id(u->valuestring, len, lim->max_id_bytes, why, sizeof why))
            return ERR("users[%zu]: %s", i, why);
        char *c = arena_alloc(a, len + 1);
        if (!c)
            return ERR("out of memory");
        memcpy(c, u->valuestring, len + 1);
        r->users[i] = c;
        r->user_len[i] = len;
    }
    for (i = 0; i < n; i++) { /* after every id is checked, as the messages' order has it */
        size_t k = (size_t)fnv1a(r->users[i], r->user_len[i]) & (tcap - 1);
        for (; table[k]; k = (k + 1) & (tcap - 1))
            if (r->user_len[table[k] - 1] == r->user_len[i] &&
                !memcmp(r->users[table[k] - 1], r->users[i], r->user_len[i]))
                return ERR("user \"%.64s\" is listed twice; a round serves a user once", r->users[i]);
        table[k] = i + 1;
    }
    r->n_users = n;
    return 0;
}

/* One {"user", "contexts"} object as a round of one user. */
static int get_single(const cJSON *o, const char *where, const codec_limits *lim, arena *a, choose_round *r,
                      char *err, size_t err_len)
{
    static const char *const keys[] = { "user", "contexts", "contexts_b64", NULL };
    if (!cJSON_IsObject(o))
        return ERR("%s must be an object {\"user\", \"contexts\"}", where);
    if (check_keys(o, keys, where, err, err_len))
        return -1;
    r->users = arena_alloc(a, sizeof *r->users);
    r->user_len = arena_alloc(a, sizeof *r->user_len);
    if (!r->users || !r->user_len)
        return ERR("out of memory");
    r->n_users = 1;
    if (get_user(cJSON_GetObjectItemCaseSensitive(o, "user"), where, lim, a, &r->users[0], &r->user_len[0], err,
                 err_len))
        return -1;
    return get_contexts(cJSON_GetObjectItemCaseSensitive(o, "contexts"),
                        cJSON_GetObjectItemCaseSensitive(o, "contexts_b64"), where, lim, a, r, err, err_len);
}

static int parse_choose(const cJSON *root, int batch, const codec_limits *lim, arena *a, choose_req *out, char *err,
                        size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (!batch) {
        out->rounds = arena_alloc(a, sizeof *out->rounds);
        if (!out->rounds)
            return ERR("out of memory");
        memset(out->rounds, 0, sizeof *out->rounds);
        out->n_rounds = out->n_decisions = 1;
        return get_single(root, "request", lim, a, out->rounds, err, err_len);
    }
    static const char *const keys[] = { "contexts", "contexts_b64", "users", "requests", NULL };
    if (check_keys(root, keys, "request", err, err_len))
        return -1;
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(root, "requests");
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(root, "contexts");
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(root, "contexts_b64");
    const cJSON *users = cJSON_GetObjectItemCaseSensitive(root, "users");
    if (req && (ctx || b64 || users))
        return ERR("give either \"contexts\" and \"users\" (one round) or \"requests\" (a round each), not both");
    if (!req) {
        if (!ctx && !b64 && !users)
            return ERR("expected \"contexts\" and \"users\" (one round), or \"requests\" (a round each)");
        out->rounds = arena_alloc(a, sizeof *out->rounds);
        if (!out->rounds)
            return ERR("out of memory");
        memset(out->rounds, 0, sizeof *out->rounds);
        out->n_rounds = 1;
        if (get_contexts(ctx, b64, "request", lim, a, out->rounds, err, err_len) ||
            get_users(users, lim, a, out->rounds, err, err_len))
            return -1;
        out->n_decisions = out->rounds->n_users;
        return 0;
    }
    if (!cJSON_IsArray(req))
        return ERR("\"requests\" must be an array of {\"user\", \"contexts\"} objects");
    size_t n = 0;
    for (const cJSON *o = req->child; o; o = o->next)
        n++;
    if (n == 0)
        return ERR("\"requests\" is empty");
    if (n > lim->max_batch)
        return ERR("%zu requests; at most %zu per request (--max-batch)", n, lim->max_batch);
    out->rounds = arena_alloc(a, n * sizeof *out->rounds);
    if (!out->rounds)
        return ERR("out of memory");
    memset(out->rounds, 0, n * sizeof *out->rounds);
    size_t i = 0;
    for (const cJSON *o = req->child; o; o = o->next, i++)
        if (get_single(o, ITEM, lim, a, &out->rounds[i], err, err_len))
            return name_item(err, err_len, "requests", i);
    out->n_rounds = out->n_decisions = n;
    return 0;
}

/* The strict reader's whitespace (json_strict.c). */
static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && is_ws(*p))
        p++;
    return p;
}

/* A string without escapes or NUL at *p (its opening quote): its bytes
 * and length, *p after its closing quote; NULL otherwise. */
static const char *plain_string(const char **p, const char *end, size_t *n)
{
    if (*p >= end || **p != '"')
        return NULL;
    const char *s = *p + 1, *q = memchr(s, '"', (size_t)(end - s));
    if (!q || memchr(s, '\\', (size_t)(q - s)) || memchr(s, '\0', (size_t)(q - s)))
        return NULL;
    *n = (size_t)(q - s);
    *p = q + 1;
    return s;
}

/* The fast path of POST /v1/choose: the body read straight into the
 * request, without a tree (on 25 contexts of 15 numbers the tree - 400
 * nodes of 64 bytes, allocated, filled, then walked - was 40 % of the
 * body's parsing: 6.6 against 3.9 us). It takes only what the general
 * path (parse_object, then parse_choose) accepts, with the same result:
 * the strict reader's grammar (json_strict.h: its whitespace, strings
 * without escapes or NUL, its numbers, read by the same code), the
 * members "user" and one of "contexts" or "contexts_b64", each once, and
 * every check of get_user and get_contexts passed. Anything else, an
 * error included, it leaves to the general path, which reads the body
 * again and words the error (tests/test_cli_codec.c and the fuzz harness
 * fuzz_request.c compare the two). 0 with *out filled; 1: not taken (a
 * may hold some of it). */
static int choose_fast(const char *body, size_t len, const codec_limits *lim, arena *a, choose_req *out)
{
    const char *p = skip_ws(body, body + len), *end = body + len;
    const char *user = NULL, *b64 = NULL;
    size_t user_n = 0, b64_n = 0, K = 0;
    double *X = NULL;
    if (p >= end || *p != '{')
        return 1;
    p = skip_ws(p + 1, end);
    for (;;) {
        size_t kn;
        const char *k = plain_string(&p, end, &kn);
        if (!k)
            return 1;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return 1;
        p = skip_ws(p + 1, end);
        if (kn == 4 && !memcmp(k, "user", 4)) {
            if (user || !(user = plain_string(&p, end, &user_n)))
                return 1;
        } else if (kn == 8 && !memcmp(k, "contexts", 8)) {
            if (X || b64 || !(X = json_strict_rows(p, (size_t)(end - p), lim->dim, lim->max_contexts, a, &K, &p)))
                return 1;
        } else if (kn == 12 && !memcmp(k, "contexts_b64", 12)) {
            if (X || b64 || !(b64 = plain_string(&p, end, &b64_n)))
                return 1;
        } else {
            return 1;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p >= end || *p != '}' || skip_ws(p + 1, end) != end)
            return 1;
        break;
    }
    if (!user || (!X && !b64))
        return 1;
    char why[160];
    if (codec_check_user_id(user, user_n, lim->max_id_bytes, why, sizeof why))
        return 1;
    for (size_t i = 0; X && i < K * lim->dim; i++)
        if (!isfinite(X[i]) || fabs(X[i]) > COLB_CONTEXT_MAX)
            return 1;
    choose_round *r = arena_alloc(a, sizeof *r);
    char *id = arena_alloc(a, user_n + 1);
    if (!r || !id)
        return 1;
    memset(r, 0, sizeof *r);
    r->users = arena_alloc(a, sizeof *r->users);
    r->user_len = arena_alloc(a, sizeof *r->user_len);
    if (!r->users || !r->user_len)
        return 1;
    memcpy(id, user, user_n);
    id[user_n] = '\0';
    r->users[0] = id;
    r->user_len[0] = user_n;
    r->n_users = 1;
    if (X) {
        r->K = K;
        r->X = X;
    } else if (contexts_b64(b64, b64_n, "request", lim, a, r, why, sizeof why)) {
        return 1;
    }
    memset(out, 0, sizeof *out);
    out->rounds = r;
    out->n_rounds = out->n_decisions = 1;
    return 0;
}

int codec_parse_choose(const char *body, size_t len, int batch, const codec_limits *lim, arena *a,
                       choose_req *out, char *err, size_t err_len)
{
    if (!batch) {
        /* in an arena of its own, freed when the fast path gives up: a
         * body left to the general path costs its tree alone */
        arena fa = { 0 };
        int r = choose_fast(body, len, lim, &fa, out);
        if (r == 0) {
            arena_adopt(a, &fa);
            return 0;
        }
        arena_free(&fa);
    }
    int owned;
    cJSON *root = parse_object(body, len, a, &owned, err, err_len);
    if (!root)
        return -1;
    int r = parse_choose(root, batch, lim, a, out, err, err_len);
    release(root, owned, len);
    return r;
}

static int get_reward(const cJSON *o, const char *where, reward_item *it, char *err, size_t err_len)
{
    static const char *const keys[] = { "decision", "reward", NULL };
    if (!cJSON_IsObject(o))
        return ERR("%s must be an object {\"decision\", \"reward\"}", where);
    if (check_keys(o, keys, where, err, err_len))
        return -1;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "decision");
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(o, "reward");
    if (!d)
        return ERR("%s: missing field \"decision\"", where);
    if (!cJSON_IsString(d))
        return ERR("%s: \"decision\" must be a string (the id POST /v1/choose returned)", where);
    if (codec_parse_decision(d->valuestring, strlen(d->valuestring), &it->id))
        return ERR("%s: \"decision\" is not a decision id (GEN-SEQ, as POST /v1/choose returns)", where);
    if (!y)
        return ERR("%s: missing field \"reward\"", where);
    if (!cJSON_IsNumber(y))
        return ERR("%s: \"reward\" must be a number", where);
    if (!isfinite(y->valuedouble))
        return ERR("%s: \"reward\" is too large to be a finite number", where);
    if (fabs(y->valuedouble) > COLB_REWARD_MAX)
        return ERR("%s: \"reward\" = %.17g is beyond +-%g", where, y->valuedouble, COLB_REWARD_MAX);
    it->y = y->valuedouble;
    return 0;
}

static int parse_reward(const cJSON *root, int batch, const codec_limits *lim, arena *a, reward_req *out, char *err,
                        size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (!batch) {
        out->items = arena_alloc(a, sizeof *out->items);
        if (!out->items)
            return ERR("out of memory");
        out->n = 1;
        return get_reward(root, "request", out->items, err, err_len);
    }
    static const char *const keys[] = { "rewards", NULL };
    if (check_keys(root, keys, "request", err, err_len))
        return -1;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "rewards");
    if (!list)
        return ERR("missing field \"rewards\"");
    if (!cJSON_IsArray(list))
        return ERR("\"rewards\" must be an array of {\"decision\", \"reward\"} objects");
    size_t n = 0;
    for (const cJSON *o = list->child; o; o = o->next)
        n++;
    if (n == 0)
        return ERR("\"rewards\" is empty");
    if (n > lim->max_batch)
        return ERR("%zu rewards; at most %zu per request (--max-batch)", n, lim->max_batch);
    out->items = arena_alloc(a, n * sizeof *out->items);
    if (!out->items)
        return ERR("out of memory");
    size_t i = 0;
    for (const cJSON *o = list->child; o; o = o->next, i++)
        if (get_reward(o, ITEM, &out->items[i], err, err_len))
            return name_item(err, err_len, "rewards", i);
    out->n = n;
    return 0;
}

int codec_parse_reward(const char *body, size_t len, int batch, const codec_limits *lim, arena *a,
                       reward_req *out, char *err, size_t err_len)
{
    int owned;
    cJSON *root = parse_object(body, len, a, &owned, err, err_len);
    if (!root)
        return -1;
    int r = parse_reward(root, batch, lim, a, out, err, err_len);
    release(root, owned, len);
    return r;
}

/* ---- answers ---------------------------------------------------------------- */

/* v in decimal at w; the end. By hand: printf's machinery costs more than
 * a decision (docs/performance-history.md). */
static char *fmt_u64(char *w, uint64_t v)
{
    char t[20];
    size_t n = sizeof t;
    do {
        t[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(w, t + n, sizeof t - n);
    return w + (sizeof t - n);
}

/* "GEN-SEQ" with quotes at w (at most 33 bytes); the end. */
static char *fmt_decision(char *w, decision_id id)
{
    *w++ = '"';
    w = fmt_u64(w, id.gen);
    *w++ = '-';
    w = fmt_u64(w, id.seq);
    *w++ = '"';
    return w;
}

void codec_put_decision(sbuf *b, decision_id id)
{
    char t[40];
    sbuf_put(b, t, (size_t)(fmt_decision(t, id) - t));
}

void codec_put_decisions(sbuf *b, const decision_id *ids, const uint32_t *arms, size_t n)
{
    /* {"decision":"GEN-SEQ","arm":ARM}, at most 12 + 33 + 7 + 10 + 1 bytes
     * and a comma each: one reservation, then plain stores */
    if (n > (SIZE_MAX - 1) / 64 || sbuf_reserve(b, 64 * n))
        return;
    char *w = b->p + b->len;
    for (size_t i = 0; i < n; i++) {
        if (i)
            *w++ = ',';
        memcpy(w, "{\"decision\":", 12);
        w = fmt_decision(w + 12, ids[i]);
        memcpy(w, ",\"arm\":", 7);
        w = fmt_u64(w + 7, arms[i]);
        *w++ = '}';
    }
    b->len = (size_t)(w - b->p);
    b->p[b->len] = '\0';
}

void codec_put_string(sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    sbuf_put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        sbuf_put(b, s + run, i - run);
        char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
        if (c == '"' || c == '\\')
            e[1] = (char)c;
        sbuf_put(b, e, c == '"' || c == '\\' ? 2 : 6);
        run = i + 1;
    }
    sbuf_put(b, s + run, n - run);
    sbuf_put(b, "\"", 1);
}

void codec_put_double(sbuf *b, double v)
{
    if (isfinite(v))
        sbuf_printf(b, "%.17g", v);
    else
        sbuf_put(b, "null", 4);
}

char *codec_error(const char *code, const char *msg, size_t *len)
{
    /* a message quotes what the client sent (a user id, a method), perhaps
     * cut within a character: each byte that does not begin a valid UTF-8
     * character becomes '?', so that the answer is UTF-8 */
    sbuf text = { 0 };
    size_t n = strlen(msg), run = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_char((const unsigned char *)msg + i, n - i);
        if (k) {
            i += k;
            continue;
        }
        sbuf_put(&text, msg + run, i - run);
        sbuf_put(&text, "?", 1);
        run = ++i;
    }
    sbuf_put(&text, msg + run, n - run);
    sbuf b = { 0 };
    sbuf_put(&b, "{\"error\":", 9);
    codec_put_string(&b, text.p ? text.p : "", text.p ? text.len : 0);
    free(text.p);
    sbuf_put(&b, ",\"code\":", 8);
    codec_put_string(&b, code, strlen(code));
    sbuf_put(&b, "}", 1);
    return sbuf_take(&b, len);
}
