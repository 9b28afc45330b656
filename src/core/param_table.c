/* param_table.c - parameters by name (see param_table.h): the strict
 * readers of int, real, bool, choice and byte-count values and the writer
 * that formats a field so that it reads back to the same value. */
#include "core/param_table.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "colb/limits.h"

static const char *const TYPE_NAME[] = { "int", "real", "bool", "choice", "bytes" };

const colb__param *colb__param_find(const colb__param *t, size_t n, const char *key)
{
    for (size_t i = 0; key && i < n; i++)
        if (!strcmp(t[i].key, key))
            return &t[i];
    return NULL;
}

colb_status colb__param_unknown(const char *what, const char *key, char *msg, size_t msg_len)
{
    return colb__say(msg, msg_len, COLB_ENOTFOUND, "unknown %s '%s'", what, key ? key : "(null)");
}

/* The end of the plain decimal number at the start of s: [+-] digits
 * [. digits] [e [+-] digits], at least one digit before the exponent; NULL
 * if there is none (so no hex, inf or nan, which strtod would take). */
static const char *decimal_end(const char *s)
{
    size_t digits = 0;
    if (*s == '+' || *s == '-')
        s++;
    for (; *s >= '0' && *s <= '9'; s++)
        digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            digits++;
    if (!digits)
        return NULL;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return NULL;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return s;
}

/* The decimal number at the start of s in *v, *end after it; -1 if there
 * is none, -2 if it overflows a double. */
static int read_decimal(const char *s, double *v, const char **end)
{
    const char *e = decimal_end(s);
    if (!e)
        return -1;
    char *stop;
    errno = 0;
    *v = strtod(s, &stop);
    *end = stop;
    if (stop != e)
        return -1;
    return isfinite(*v) ? 0 : -2; /* overflow gives HUGE_VAL; underflow a tiny value */
}

/* "nan", "inf", "infinity" in any case, with an optional sign. */
static int non_finite_text(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    char low[9];
    size_t n = 0;
    for (; s[n] && n < sizeof low - 1; n++)
        low[n] = (char)(s[n] >= 'A' && s[n] <= 'Z' ? s[n] - 'A' + 'a' : s[n]);
    low[n] = '\0';
    return !s[n] && (!strcmp(low, "nan") || !strcmp(low, "inf") || !strcmp(low, "infinity"));
}

/* An unsigned decimal integer (digits only) in *v; -1 if malformed, -2 if
 * beyond 2^64 - 1. */
static int read_integer(const char *s, uint64_t *v)
{
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t x = 0;
    int over = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned dgt = (unsigned)(*s - '0');
        over |= x > (UINT64_MAX - dgt) / 10;
        x = 10 * x + dgt;
    }
    *v = x;
    return *s ? -1 : over ? -2 : 0;
}

/* Index of v in "a|b|c", or -1. */
static int choice_index(const char *choices, const char *v)
{
    size_t n = strlen(v);
    int idx = 0;
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n))
            return idx;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

/* A byte count: a decimal number, an optional K/M/G/T (powers of 1024) and
 * an optional B after it. -1 when s is not one, -2 for more than 0 and
 * less than one byte (never rounded to 0, the default budget), -3 for
 * 2^64 bytes or more, -4 for a fraction of a byte without a unit ("1.5",
 * most likely 1.5G or 1.5M: never cut to 1 byte). With a unit the bytes
 * are rounded down ("1.3K" is 1331). */
static int read_bytes(const char *s, size_t *out)
{
    double v;
    const char *end;
    if (read_decimal(s, &v, &end))
        return -1;
    double unit = 1.0;
    switch (*end) {
    case 'k': case 'K': unit = 1024.0; break;
    case 'm': case 'M': unit = 1024.0 * 1024; break;
    case 'g': case 'G': unit = 1024.0 * 1024 * 1024; break;
    case 't': case 'T': unit = 1024.0 * 1024 * 1024 * 1024; break;
    default: break;
    }
    if (unit > 1.0 && (*++end == 'B' || *end == 'b'))
        end++;
    if (*end || v < 0)
        return -1;
    if (v * unit >= (double)SIZE_MAX)
        return -3; /* beyond a size_t: more than COLB_MEMORY_MAX */
    if (v * unit > 0 && v * unit < 1)
        return -2; /* a fraction of a byte, not 0 (the default budget) */
    if (unit == 1.0 && v != floor(v))
        return -4;
    *out = (size_t)(v * unit);
    return 0;
}

/* Parse `value` as row e's type and range and store it in the struct at
 * base; on error base is unchanged and msg says why, naming `what` and the
 * key. */
static colb_status param_set(const colb__param *e, void *base, const char *value, const char *what,
                             char *msg, size_t msg_len)
{
    if (!base || !value)
        return colb__say(msg, msg_len, COLB_EINVAL, "%s %s: NULL %s", what, e->key,
                         base ? "value" : "parameters");
    char *at = (char *)base + e->off;
    if ((e->type == COLB_PARAM_INT || e->type == COLB_PARAM_REAL) && non_finite_text(value))
        return colb__say(msg, msg_len, COLB_ENONFIN, "%s %s: '%s' is not a finite number", what,
                         e->key, value);
    switch (e->type) {
    case COLB_PARAM_INT: {
        uint64_t v;
        int rc = read_integer(value, &v);
        if (rc == -1)
            return colb__say(msg, msg_len, COLB_EINVAL, "%s %s: '%s' is not a non-negative integer",
                             what, e->key, value);
        if (rc || (double)v < e->lo || (double)v > e->hi || (e->store == 'z' && v > SIZE_MAX))
            return colb__say(msg, msg_len, COLB_ERANGE, "%s %s: %s is not in [%.17g, %.17g]", what,
                             e->key, value, e->lo, e->hi);
        if (e->store == 'z')
            *(size_t *)at = (size_t)v;
        else
            *(uint64_t *)at = v;
        return COLB_OK;
    }
    case COLB_PARAM_REAL: {
        double v;
        const char *end;
        int rc = read_decimal(value, &v, &end);
        if (rc == -1 || (!rc && *end))
            return colb__say(msg, msg_len, COLB_EINVAL, "%s %s: '%s' is not a decimal number", what,
                             e->key, value);
        if (rc || v < e->lo || v > e->hi) {
            char lo[32], hi[32]; /* exact: 1 - 1e-12 is not "1" */
            return colb__say(msg, msg_len, COLB_ERANGE, "%s %s: %s is not in [%s, %s]", what, e->key, value,
                             colb__num(lo, e->lo), colb__num(hi, e->hi));
        }
        *(double *)at = v;
        return COLB_OK;
    }
    case COLB_PARAM_BOOL: {
        int v = !strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes")   ? 1
                : !strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no") ? 0
                                                                                         : -1;
        if (v < 0)
            return colb__say(msg, msg_len, COLB_EINVAL, "%s %s: '%s' is not a boolean (0/1, "
                             "true/false, yes/no)", what, e->key, value);
        *(int *)at = v;
        return COLB_OK;
    }
    case COLB_PARAM_CHOICE: {
        int v = choice_index(e->choices, value);
        if (v < 0)
            return colb__say(msg, msg_len, COLB_EINVAL, "%s %s: '%s' is not one of %s", what, e->key,
                             value, e->choices);
        *(int *)at = v;
        return COLB_OK;
    }
    case COLB_PARAM_BYTES: {
        size_t v;
        int bad = read_bytes(value, &v);
        if (bad == -2)
            return colb__say(msg, msg_len, COLB_ERANGE, "%s %s: '%s' is less than one byte (0 "
                             "means the default)", what, e->key, value);
        if (bad == -1)
            return colb__say(msg, msg_len, COLB_EINVAL, "%s %s: '%s' is not a byte count such as "
                             "8G, 512M or 1e9", what, e->key, value);
        if (bad == -4)
            return colb__say(msg, msg_len, COLB_EINVAL, "%s %s: '%s' is not a whole number of bytes "
                             "(a unit missing? %sG, %sM: powers of 1024)", what, e->key, value, value, value);
        if (bad == -3 || (double)v > COLB_MEMORY_MAX)
            return colb__say(msg, msg_len, COLB_ERANGE, "%s %s: '%s' is more than 1024T (2^50 bytes, "
                             "COLB_MEMORY_MAX), beyond any machine's memory", what, e->key, value);
        *(size_t *)at = v;
        return COLB_OK;
    }
    }
    return colb__say(msg, msg_len, COLB_EINVAL, "%s %s: unknown type", what, e->key);
}

/* Row e's field of the struct at base as text (see colb/params.h). */
static void param_get(const colb__param *e, const void *base, char *out, size_t len)
{
    if (!out || !len)
        return;
    const char *at = (const char *)base + e->off;
    switch (e->store) {
    case 'z': snprintf(out, len, "%zu", *(const size_t *)at); return;
    case 'u': snprintf(out, len, "%llu", (unsigned long long)*(const uint64_t *)at); return;
    case 'd': {
        char num[32];
        snprintf(out, len, "%s", colb__num(num, *(const double *)at));
        return;
    }
    default: break;
    }
    int v = *(const int *)at;
    if (e->type != COLB_PARAM_CHOICE) {
        snprintf(out, len, "%d", v);
        return;
    }
    const char *p = e->choices;
    for (int k = 0; k < v && strchr(p, '|'); k++)
        p = strchr(p, '|') + 1;
    const char *bar = strchr(p, '|');
    snprintf(out, len, "%.*s", (int)(bar ? (size_t)(bar - p) : strlen(p)), p);
}

static void param_info(const colb__param *e, const void *defaults, colb_param_info *info)
{
    memset(info, 0, sizeof *info);
    info->key = e->key;
    info->type = e->type;
    info->type_name = TYPE_NAME[e->type];
    info->choices = e->type == COLB_PARAM_CHOICE ? e->choices : "";
    if (e->type == COLB_PARAM_INT || e->type == COLB_PARAM_REAL) {
        info->min = e->lo;
        info->max = e->hi;
    }
    param_get(e, defaults, info->default_value, sizeof info->default_value);
    /* a default the key's range excludes means "must be given" (a policy's
     * users and dim are 0 until set) */
    if (e->type == COLB_PARAM_INT || e->type == COLB_PARAM_REAL) {
        double v = strtod(info->default_value, NULL);
        if (v < e->lo || v > e->hi)
            info->default_value[0] = '\0';
    }
    info->help = e->help;
}

colb_status colb__params_set(const colb__param *t, size_t n, void *base, const char *key,
                             const char *value, const char *what, char *msg, size_t msg_len)
{
    const colb__param *e = colb__param_find(t, n, key);
    if (!e)
        return colb__param_unknown(what, key, msg, msg_len);
    return param_set(e, base, value, what, msg, msg_len);
}

colb_status colb__params_get(const colb__param *t, size_t n, const void *base, const char *key,
                             char *value, size_t len)
{
    if (!base || !value)
        return COLB_EINVAL;
    const colb__param *e = colb__param_find(t, n, key);
    if (!e)
        return COLB_ENOTFOUND;
    param_get(e, base, value, len);
    return COLB_OK;
}

colb_status colb__params_info(const colb__param *t, size_t n, size_t i, const void *defaults,
                              colb_param_info *info)
{
    if (!info)
        return COLB_EINVAL;
    if (i >= n)
        return COLB_ERANGE;
    param_info(&t[i], defaults, info);
    return COLB_OK;
}
