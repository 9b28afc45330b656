/* snap_read.c - the snapshot reader (snapshot.h; format in docs/format.md).
 *
 * Hostile input: the reader trusts nothing in the file. Opening reads at
 * most the memory budget, then checks, in this order, the size, the magic,
 * the format version, the trailer's length and the XXH3-64 checksum, and
 * walks every field header (type, name, count within the remaining bytes,
 * zero padding, balanced groups, bounded depth) before any object looks a
 * field up. After that every getter checks the field's type and count
 * against what the loader expects, and loaders check every dimension
 * against the file (a dimension is believed only when the arrays it implies
 * are present) and reserve memory against the budget before allocating. */
#include "persist/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "colb/limits.h"

static const unsigned char MAGIC[8] = { 0x89, 'C', 'O', 'L', 'B', '\r', '\n', 0x1a };

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

colb_status colb__snap_error(colb__snap_in *in, colb_status st, const char *fmt, ...)
{
    if (in->msg && in->msg_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(in->msg, in->msg_len, fmt, ap);
        va_end(ap);
    }
    return st;
}

colb_status colb__snap_reserve(colb__snap_in *in, uint64_t bytes, const char *what)
{
    if (bytes > in->budget) {
        char a[32], b[32];
        colb_memory_text(a, sizeof a, (double)bytes);
        colb_memory_text(b, sizeof b, (double)in->budget);
        return colb__snap_error(in, COLB_ENOMEM, "snapshot: %s needs %s, more than the %s left of the "
                                "memory budget", what, a, b);
    }
    in->budget -= (size_t)bytes;
    return COLB_OK;
}

/* ---- one field header -------------------------------------------------- */

static size_t pad8(uint64_t n) { return (size_t)((8 - n % 8) % 8); }

static int zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static size_t elem_size(int type)
{
    return type == COLB__SNAP_BYTES ? 1 : type == COLB__SNAP_U64 || type == COLB__SNAP_F64 ? 8 : 0;
}

/* Parse the field at p (p < end, 8-aligned from the file start). On success
 * fills f (sub left empty for groups), sets *next past it and returns NULL;
 * else returns what is wrong. */
static const char *parse(const unsigned char *p, const unsigned char *end, colb__snap_field *f,
                         const unsigned char **next)
{
    size_t left = (size_t)(end - p);
    if (left < 16)
        return "truncated field header";
    uint32_t type = le32(p), nl = le32(p + 4);
    uint64_t count = le64(p + 8);
    memset(f, 0, sizeof *f);
    f->type = (int)type;
    f->count = count;
    if (type == COLB__SNAP_END) {
        if (nl != 0 || count != 0)
            return "malformed group end";
        *next = p + 16;
        return NULL;
    }
    if (type < COLB__SNAP_BYTES || type > COLB__SNAP_GROUP)
        return "unknown field type";
    if (nl == 0 || nl > COLB__SNAP_NAME_MAX)
        return "bad field name length";
    size_t hdr = 16 + nl + pad8(nl);
    if (hdr > left)
        return "truncated field name";
    for (uint32_t i = 0; i < nl; i++) {
        unsigned char c = p[16 + i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return "bad character in a field name";
    }
    if (!zero(p + 16 + nl, pad8(nl)))
        return "non-zero padding";
    memcpy(f->name, p + 16, nl);
    f->name[nl] = '\0';
    if (type == COLB__SNAP_GROUP) {
        if (count != 0)
            return "malformed group header";
        f->data = p + hdr;
        *next = p + hdr;
        return NULL;
    }
    size_t es = elem_size((int)type);
    if (count > (uint64_t)(left - hdr) / es)
        return "field longer than the snapshot";
    size_t n = (size_t)count * es;
    if (pad8(n) > left - hdr - n)
        return "truncated field padding";
    if (!zero(p + hdr + n, pad8(n)))
        return "non-zero padding";
    f->data = p + hdr;
    *next = p + hdr + n + pad8(n);
    return NULL;
}

/* The end of the group whose content starts at p: the position of its END
 * marker (structure already validated). */
static const unsigned char *group_end(const unsigned char *p, const unsigned char *end)
{
    int depth = 0;
    while (p < end) {
        colb__snap_field f;
        const unsigned char *next;
        if (parse(p, end, &f, &next))
            return end;
        if (f.type == COLB__SNAP_END) {
            if (depth == 0)
                return p;
            depth--;
        } else if (f.type == COLB__SNAP_GROUP) {
            depth++;
        }
        p = next;
    }
    return end;
}

/* Walk every field of the content once: the structural check. */
static colb_status validate(colb__snap_in *in, const unsigned char *p, const unsigned char *end)
{
    int depth = 0;
    while (p < end) {
        colb__snap_field f;
        const unsigned char *next;
        const char *why = parse(p, end, &f, &next);
        if (why)
            return colb__snap_error(in, COLB_EPARSE, "snapshot corrupt at byte %zu: %s",
                                    (size_t)(p - in->buf), why);
        if (f.type == COLB__SNAP_GROUP && ++depth > COLB__SNAP_DEPTH_MAX)
            return colb__snap_error(in, COLB_EPARSE, "snapshot corrupt at byte %zu: groups nested "
                                    "deeper than %d", (size_t)(p - in->buf), COLB__SNAP_DEPTH_MAX);
        if (f.type == COLB__SNAP_END && --depth < 0)
            return colb__snap_error(in, COLB_EPARSE, "snapshot corrupt at byte %zu: group end "
                                    "without a group", (size_t)(p - in->buf));
        p = next;
    }
    if (depth != 0)
        return colb__snap_error(in, COLB_EPARSE, "snapshot corrupt: %d group(s) not closed", depth);
    return COLB_OK;
}

/* ---- opening ------------------------------------------------------------ */

static colb_status verify(colb__snap_in *in)
{
    const unsigned char *b = in->buf;
    size_t n = in->len;
    if (n < COLB__SNAP_HEADER + COLB__SNAP_TRAILER)
        return colb__snap_error(in, COLB_EPARSE, "snapshot truncated: %zu bytes, a snapshot has at "
                                "least %u", n, COLB__SNAP_HEADER + COLB__SNAP_TRAILER);
    if (memcmp(b, MAGIC, sizeof MAGIC) != 0)
        return colb__snap_error(in, COLB_EPARSE, "not a colb snapshot (bad magic number)");
    in->version = le32(b + 8);
    if (in->version > COLB__SNAP_VERSION)
        return colb__snap_error(in, COLB_EUNSUP, "snapshot format version %u is newer than this "
                                "colb reads (%u..%u); use a newer colb", in->version,
                                COLB__SNAP_OLDEST, COLB__SNAP_VERSION);
    if (in->version < COLB__SNAP_OLDEST)
        return colb__snap_error(in, COLB_EUNSUP, "snapshot format version %u is not one this colb "
                                "reads (%u..%u)", in->version, COLB__SNAP_OLDEST, COLB__SNAP_VERSION);
    if (le32(b + 12) != 0)
        return colb__snap_error(in, COLB_EUNSUP, "snapshot uses flags 0x%x this colb does not know",
                                le32(b + 12));
    /* the length is in the trailer only: a file cut short (or with bytes
     * added) ends with other bytes, whose "length" means nothing, so it is
     * not quoted */
    uint64_t total = le64(b + n - 16);
    if (total != n)
        return colb__snap_error(in, COLB_EPARSE, "snapshot truncated or extended: it has %zu bytes and "
                                "does not end with the trailer of a snapshot of that length", n);
    if (n % 8)
        return colb__snap_error(in, COLB_EPARSE, "snapshot corrupt: %zu bytes is not a multiple of 8", n);
    uint64_t want = le64(b + n - 8), got = XXH3_64bits(b, n - 8);
    if (want != got)
        return colb__snap_error(in, COLB_EPARSE, "snapshot corrupt: checksum mismatch (stored "
                                "%016llx, computed %016llx)", (unsigned long long)want,
                                (unsigned long long)got);
    return validate(in, b + COLB__SNAP_HEADER, b + n - COLB__SNAP_TRAILER);
}

static void init(colb__snap_in *in, size_t budget, char *msg, size_t msg_len)
{
    memset(in, 0, sizeof *in);
    in->budget = budget ? budget : COLB__SNAP_BUDGET;
    in->msg = msg;
    in->msg_len = msg_len;
    if (msg && msg_len)
        msg[0] = '\0';
}

static colb_status finish_open(colb__snap_in *in)
{
    colb_status st = verify(in);
    if (st != COLB_OK)
        colb__snap_in_close(in);
    return st;
}

colb_status colb__snap_in_buffer(colb__snap_in *in, const void *buf, size_t len, size_t budget,
                                 char *msg, size_t msg_len)
{
    init(in, budget, msg, msg_len);
    if (!buf && len)
        return colb__snap_error(in, COLB_EINVAL, "snapshot buffer is NULL");
    in->buf = buf ? buf : (const unsigned char *)"";
    in->len = len;
    return finish_open(in);
}

colb_status colb__snap_in_stream(colb__snap_in *in, FILE *f, size_t budget, char *msg,
                                 size_t msg_len)
{
    init(in, budget, msg, msg_len);
    if (!f)
        return colb__snap_error(in, COLB_EINVAL, "snapshot stream is NULL");
    size_t cap = 1 << 16, n = 0;
    unsigned char *b = malloc(cap);
    while (b) {
        if (n == cap) {
            if (cap >= in->budget) {
                free(b);
                char a[32];
                colb_memory_text(a, sizeof a, (double)in->budget);
                return colb__snap_error(in, COLB_ENOMEM, "snapshot stream is longer than the "
                                        "memory budget (%s)", a);
            }
            size_t nc = cap > in->budget / 2 ? in->budget : 2 * cap;
            unsigned char *nb = realloc(b, nc);
            if (!nb) { /* out of memory, not a short stream */
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap = nc;
        }
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (k == 0) {
            if (ferror(f)) {
                free(b);
                return colb__snap_error(in, COLB_EIO, "reading the snapshot stream failed: %s",
                                        strerror(errno));
            }
            break;
        }
    }
    if (!b)
        return colb__snap_error(in, COLB_ENOMEM, "out of memory reading the snapshot stream");
    in->owned = b;
    in->buf = b;
    in->len = n;
    in->budget -= n < in->budget ? n : in->budget;
    return finish_open(in);
}

colb_status colb__snap_in_path(colb__snap_in *in, const char *path, size_t budget, char *msg,
                               size_t msg_len)
{
    init(in, budget, msg, msg_len);
    if (!path)
        return colb__snap_error(in, COLB_EINVAL, "snapshot path is NULL");
    /* O_NONBLOCK: a FIFO is refused below, not waited on in open */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return colb__snap_error(in, COLB_EIO, "cannot open snapshot '%s': %s", path, strerror(e));
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return colb__snap_error(in, COLB_EIO, "snapshot '%s' is not a regular file", path);
    }
    if ((uint64_t)sb.st_size > in->budget) {
        fclose(f);
        char a[32], b[32];
        colb_memory_text(a, sizeof a, (double)sb.st_size);
        colb_memory_text(b, sizeof b, (double)in->budget);
        return colb__snap_error(in, COLB_ENOMEM, "snapshot '%s' has %s, more than the memory budget of %s",
                                path, a, b);
    }
    size_t n = (size_t)sb.st_size;
    unsigned char *b = malloc(n ? n : 1);
    if (!b) {
        fclose(f);
        return colb__snap_error(in, COLB_ENOMEM, "out of memory reading snapshot '%s'", path);
    }
    size_t got = fread(b, 1, n, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != n) {
        free(b);
        return colb__snap_error(in, COLB_EIO, "reading snapshot '%s' failed%s", path,
                                bad ? "" : " (it changed while being read)");
    }
    in->owned = b;
    in->buf = b;
    in->len = n;
    in->budget -= n;
    colb_status st = finish_open(in);
    if (st != COLB_OK && in->msg && in->msg_len) { /* name the file */
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", in->msg);
        snprintf(in->msg, in->msg_len, "%s: %s", path, tmp);
    }
    return st;
}

void colb__snap_in_close(colb__snap_in *in)
{
    if (!in)
        return;
    free(in->owned);
    in->owned = NULL;
    in->buf = NULL;
    in->len = 0;
}

colb__snap_group colb__snap_top(const colb__snap_in *in)
{
    colb__snap_group g;
    memset(&g, 0, sizeof g);
    if (in->buf && in->len >= COLB__SNAP_HEADER + COLB__SNAP_TRAILER) {
        g.p = in->buf + COLB__SNAP_HEADER;
        g.end = in->buf + in->len - COLB__SNAP_TRAILER;
    }
    return g;
}

/* ---- lookups -------------------------------------------------------------- */

void colb__snap_subpath(char *out, size_t len, const char *parent, const char *name)
{
    /* "parent.name", cut to len - 1 bytes (a message, not a key) */
    size_t n = 0;
    for (const char *s = parent; s && *s && n + 1 < len; s++)
        out[n++] = *s;
    if (parent && *parent && n + 1 < len)
        out[n++] = '.';
    for (const char *s = name; s && *s && n + 1 < len; s++)
        out[n++] = *s;
    if (len)
        out[n] = '\0';
}

int colb__snap_next(const colb__snap_group *g, const unsigned char **cursor, colb__snap_field *f)
{
    const unsigned char *p = *cursor ? *cursor : g->p;
    if (!p || p >= g->end)
        return 0;
    const unsigned char *next;
    if (parse(p, g->end, f, &next) || f->type == COLB__SNAP_END)
        return 0;
    if (f->type == COLB__SNAP_GROUP) {
        f->sub.p = next;
        f->sub.end = group_end(next, g->end);
        colb__snap_subpath(f->sub.path, sizeof f->sub.path, g->path, f->name);
        next = f->sub.end < g->end ? f->sub.end + 16 : g->end; /* past the END marker */
    }
    *cursor = next;
    return 1;
}

colb_status colb__snap_find(const colb__snap_group *g, const char *name, colb__snap_field *f)
{
    const unsigned char *cur = NULL;
    while (colb__snap_next(g, &cur, f))
        if (!strcmp(f->name, name))
            return COLB_OK;
    return COLB_ENOTFOUND;
}

static const char *type_name(int t)
{
    return t == COLB__SNAP_BYTES ? "bytes" : t == COLB__SNAP_U64 ? "u64" : t == COLB__SNAP_F64 ? "f64"
           : t == COLB__SNAP_GROUP ? "group" : "?";
}

colb_status colb__snap_field_of(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                int type, uint64_t count, colb__snap_field *f)
{
    char path[160];
    colb__snap_subpath(path, sizeof path, g->path, name);
    if (colb__snap_find(g, name, f) != COLB_OK)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: field '%s' is missing", path);
    if (f->type != type)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: field '%s' is %s, expected %s", path,
                                type_name(f->type), type_name(type));
    if (type != COLB__SNAP_GROUP && f->count != count)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: field '%s' has %llu values, expected %llu",
                                path, (unsigned long long)f->count, (unsigned long long)count);
    return COLB_OK;
}

colb_status colb__snap_get_group(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                 colb__snap_group *sub)
{
    colb__snap_field f;
    colb_status st = colb__snap_field_of(in, g, name, COLB__SNAP_GROUP, 0, &f);
    if (st == COLB_OK)
        *sub = f.sub;
    return st;
}

uint64_t colb__snap_u64_at(const colb__snap_field *f, uint64_t i) { return le64(f->data + 8 * i); }

double colb__snap_f64_at(const colb__snap_field *f, uint64_t i)
{
    uint64_t u = le64(f->data + 8 * i);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

void colb__snap_f64_copy(const colb__snap_field *f, uint64_t first, size_t n, double *out)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n)
        memcpy(out, f->data + 8 * first, n * sizeof(double));
#else
    for (size_t i = 0; i < n; i++)
        out[i] = colb__snap_f64_at(f, first + i);
#endif
}

colb_status colb__snap_get_u64(colb__snap_in *in, const colb__snap_group *g, const char *name,
                               uint64_t *v)
{
    colb__snap_field f;
    colb_status st = colb__snap_field_of(in, g, name, COLB__SNAP_U64, 1, &f);
    if (st == COLB_OK)
        *v = colb__snap_u64_at(&f, 0);
    return st;
}

colb_status colb__snap_get_size(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                size_t lo, size_t hi, size_t *v)
{
    uint64_t u;
    colb_status st = colb__snap_get_u64(in, g, name, &u);
    if (st != COLB_OK)
        return st;
    if (u < lo || u > hi) {
        char path[160];
        colb__snap_subpath(path, sizeof path, g->path, name);
        return colb__snap_error(in, COLB_EPARSE, "snapshot: field '%s' = %llu is outside [%zu, %zu]",
                                path, (unsigned long long)u, lo, hi);
    }
    *v = (size_t)u;
    return COLB_OK;
}

colb_status colb__snap_get_f64(colb__snap_in *in, const colb__snap_group *g, const char *name,
                               int allow_nonfinite, double *v)
{
    return colb__snap_get_f64s(in, g, name, v, 1, allow_nonfinite);
}

colb_status colb__snap_get_u64s(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                uint64_t *v, size_t n)
{
    colb__snap_field f;
    colb_status st = colb__snap_field_of(in, g, name, COLB__SNAP_U64, n, &f);
    for (size_t i = 0; st == COLB_OK && i < n; i++)
        v[i] = colb__snap_u64_at(&f, i);
    return st;
}

colb_status colb__snap_get_sizes(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                 size_t *v, size_t n, size_t bound)
{
    colb__snap_field f;
    colb_status st = colb__snap_field_of(in, g, name, COLB__SNAP_U64, n, &f);
    for (size_t i = 0; st == COLB_OK && i < n; i++) {
        uint64_t u = colb__snap_u64_at(&f, i);
        if (u >= bound) {
            char path[160];
            colb__snap_subpath(path, sizeof path, g->path, name);
            return colb__snap_error(in, COLB_EPARSE, "snapshot: field '%s'[%zu] = %llu is not below %zu",
                                    path, i, (unsigned long long)u, bound);
        }
        v[i] = (size_t)u;
    }
    return st;
}

colb_status colb__snap_get_f64s(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                double *v, size_t n, int allow_nonfinite)
{
    colb__snap_field f;
    colb_status st = colb__snap_field_of(in, g, name, COLB__SNAP_F64, n, &f);
    if (st != COLB_OK)
        return st;
    colb__snap_f64_copy(&f, 0, n, v);
    if (!allow_nonfinite && !colb__finite(v, n)) {
        char path[160];
        colb__snap_subpath(path, sizeof path, g->path, name);
        return colb__snap_error(in, COLB_EPARSE, "snapshot: field '%s' holds a NaN or infinity", path);
    }
    return COLB_OK;
}

colb_status colb__snap_get_f64s_within(colb__snap_in *in, const colb__snap_group *g, const char *name,
                                       double *v, size_t n, double bound)
{
    colb_status st = colb__snap_get_f64s(in, g, name, v, n, 0);
    for (size_t i = 0; st == COLB_OK && i < n; i++)
        if (fabs(v[i]) > bound) {
            char path[160];
            colb__snap_subpath(path, sizeof path, g->path, name);
            return colb__snap_error(in, COLB_EPARSE, "snapshot: field '%s'[%zu] = %s is beyond +-%g", path,
                                    i, colb__num((char[32]){ 0 }, v[i]), bound);
        }
    return st;
}

colb_status colb__snap_get_str(colb__snap_in *in, const colb__snap_group *g, const char *name,
                               char *buf, size_t cap)
{
    char path[160];
    colb__snap_subpath(path, sizeof path, g->path, name);
    colb__snap_field f;
    if (colb__snap_find(g, name, &f) != COLB_OK || f.type != COLB__SNAP_BYTES)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: text field '%s' is missing", path);
    if (f.count >= cap)
        return colb__snap_error(in, COLB_EPARSE, "snapshot: text field '%s' is %llu bytes, at most "
                                "%zu allowed", path, (unsigned long long)f.count, cap - 1);
    if (memchr(f.data, 0, (size_t)f.count))
        return colb__snap_error(in, COLB_EPARSE, "snapshot: text field '%s' holds a NUL byte", path);
    memcpy(buf, f.data, (size_t)f.count);
    buf[f.count] = '\0';
    return COLB_OK;
}

uint64_t colb__snap_hash(const void *p, size_t n);
