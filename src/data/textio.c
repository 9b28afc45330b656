/* textio.c - strict text-file reading for the data loaders (see textio.h;
 * their files are written through core/atomic_file.h). FNV-1a: Fowler, Noll
 * and Vo, IETF draft draft-eastlake-fnv (64-bit offset basis
 * 0xcbf29ce484222325, prime 0x100000001b3). */
#include "data/textio.h"

#include "core/memory.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

int colb__pair_cmp(const void *a, const void *b)
{
    const colb__pair *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

size_t colb__pair_find(const colb__pair *t, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].id < id)
            lo = mid + 1;
        else if (t[mid].id > id)
            hi = mid;
        else
            return t[mid].idx;
    }
    return SIZE_MAX;
}

size_t colb__count_data_lines(const char *buf, size_t len)
{
    size_t n = 0;
    for (const char *p = buf, *end = buf + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
        if (e > p && e[-1] == '\r')
            e--;
        int skip = *p == '#';
        if (!skip) { /* blanks only: colb__line_skip's blank line */
            skip = 1;
            for (const char *c = p; c < e && skip; c++)
                skip = *c == ' ' || *c == '\t';
        }
        n += !skip;
        p = nl ? nl + 1 : end;
    }
    return n ? n : 1;
}

uint64_t colb__fnv1a64(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

colb_status colb__read_file(const char *path, size_t max_bytes, char **buf, size_t *len, char *msg,
                            size_t msg_len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return colb__say(msg, msg_len, COLB_EIO, "cannot open '%s': %s", path, strerror(errno));
    char lim[32];
    colb_memory_text(lim, sizeof lim, (double)max_bytes);
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return colb__say(msg, msg_len, COLB_EIO, "cannot read '%s': it is a folder", path);
    }
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max_bytes) {
        fclose(f);
        char has[32];
        colb_memory_text(has, sizeof has, (double)st.st_size);
        return colb__say(msg, msg_len, COLB_ENOMEM,
                         "'%s' has %s (%lld bytes), more than the %s a data file may have under the memory budget",
                         path, has, (long long)st.st_size, lim);
    }
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    if (!b) {
        fclose(f);
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory reading '%s'", path);
    }
    for (;;) {
        if (n > max_bytes) {
            free(b);
            fclose(f);
            return colb__say(msg, msg_len, COLB_ENOMEM,
                             "'%s' has more than the %s a data file may have under the memory budget (is it "
                             "a device or an endless pipe?)",
                             path, lim);
        }
        if (cap - n < 2) {
            if (cap > ((size_t)-1) / 2) {
                free(b);
                fclose(f);
                return colb__say(msg, msg_len, COLB_ENOMEM, "'%s' is too large", path);
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                fclose(f);
                return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory reading '%s'", path);
            }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        free(b);
        fclose(f);
        return colb__say(msg, msg_len, COLB_EIO, "cannot read '%s': %s", path, strerror(e));
    }
    fclose(f);
    b[n] = '\0';
    *buf = b;
    *len = n;
    return COLB_OK;
}

colb_status colb__read_text(const char *path, size_t max_bytes, char **buf, size_t *len, char *msg,
                            size_t msg_len)
{
    colb_status s = colb__read_file(path, max_bytes, buf, len, msg, msg_len);
    if (s != COLB_OK)
        return s;
    const char *b = *buf, *nul = memchr(b, '\0', *len);
    if (nul) {
        size_t line = 1;
        for (const char *p = b; (p = memchr(p, '\n', (size_t)(nul - p))) != NULL; p++)
            line++;
        s = colb__say(msg, msg_len, COLB_EPARSE, "%s:%zu: expected text, found a NUL byte (a binary file?)",
                      path, line);
    } else if (*len && !memchr(b, '\n', *len) && memchr(b, '\r', *len)) {
        s = colb__say(msg, msg_len, COLB_EPARSE,
                      "%s:1: expected lines that end in LF or CRLF, found CR alone (convert the line ends)",
                      path);
    }
    if (s != COLB_OK) {
        free(*buf);
        *buf = NULL;
        *len = 0;
    }
    return s;
}

void colb__lines_init(colb__lines *it, char *buf, size_t len)
{
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) {
        buf += 3;
        len -= 3;
    }
    it->p = buf;
    it->end = buf + len;
    it->lineno = 0;
}

char *colb__lines_next(colb__lines *it)
{
    if (it->p >= it->end)
        return NULL;
    char *s = it->p;
    char *nl = memchr(s, '\n', (size_t)(it->end - s));
    char *e = nl ? nl : it->end;
    it->p = nl ? nl + 1 : it->end;
    if (e > s && e[-1] == '\r')
        e--;
    *e = '\0';
    it->lineno++;
    return s;
}

int colb__line_skip(const char *line)
{
    if (line[0] == '#')
        return 1;
    for (const char *c = line; *c; c++)
        if (*c != ' ' && *c != '\t')
            return 0;
    return 1;
}

size_t colb__split(char *line, char sep, char **fields, size_t max_fields)
{
    size_t n = 0;
    char *s = line;
    for (;;) {
        char *e = strchr(s, sep);
        if (n < max_fields)
            fields[n] = s;
        n++;
        if (!e)
            break;
        *e = '\0';
        s = e + 1;
    }
    return n;
}

static const char *skip_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

int colb__parse_u64(const char *s, uint64_t *v)
{
    s = skip_blank(s);
    if (*s < '0' || *s > '9')
        return -1;
    uint64_t x = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = 10 * x + d;
    }
    s = skip_blank(s);
    if (*s)
        return -1;
    *v = x;
    return 0;
}

int colb__parse_double(const char *s, double *v)
{
    s = skip_blank(s);
    if (!*s)
        return -1;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s)
        return -1;
    if (*skip_blank(end))
        return -1;
    *v = x;
    /* ERANGE on underflow gives a usable (subnormal or zero) value; on
     * overflow strtod returns +-HUGE_VAL, caught here as infinite. */
    return isfinite(x) ? 0 : 1;
}

int colb__first_field_numeric(const char *line, const char *seps)
{
    const char *s = skip_blank(line);
    if (strchr(seps, *s)) /* an empty first field: data, which the id's parse refuses */
        return 1;
    if (*s == '+' || *s == '-')
        s++;
    if (*s == '.')
        s++;
    return *s >= '0' && *s <= '9';
}
