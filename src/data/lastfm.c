/* lastfm.c - the Last.FM data set (HetRec 2011, hetrec2011-lastfm-2k) as a
 * colb_dataset, following the paper's section 6.2 and the CLUB experiments
 * (Gentile, Li, Zappella 2014, sec. 5):
 *
 *   1. every tag of tags.dat (latin-1) is split into atomic tags (tags.h);
 *   2. each artist of artists.dat gets the bag of the atomic tags of all the
 *      tag assignments (user_taggedartists.dat) naming it, over all users;
 *   3. TF-IDF of the artists x atomic-tags count matrix (tfidf.c), rows of
 *      the artists with at least one atomic tag (the documents);
 *   4. PCA of the documents' TF-IDF vectors (centred, randomized truncated
 *      SVD, svd.c); an artist's features are its scores U_k S_k on the top k
 *      components; artists never tagged get the zero vector (the centre);
 *   5. positives: (user, artist) pairs of user_artists.dat (listened), or of
 *      user_taggedartists.dat on request; docs/data.md says why.
 *
 * Steps 1-4 take a fraction of a second but are cached in a versioned binary
 * file whose layout is documented in docs/data.md (magic "COLBFEAT",
 * parameters, FNV-1a 64 checksums of the three input files, the features,
 * FNV-1a 64 of everything before it). */
#include "colb/dataset.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "colb/file.h"
#include "colb/limits.h"

#include "core/memory.h"
#include "core/util.h"
#include "data/tags.h"
#include "data/textio.h"
#include "data/tfidf.h"
#include "linalg/sparse.h"

#define CACHE_FORMAT 1u      /* layout of the cache file */
#define FEATURES_RECIPE 2u   /* TF-IDF + PCA recipe of steps 2-4 (2: fixed-order SVD, no BLAS) */
#define CACHE_HEADER 128u

void colb_lastfm_params_default(colb_lastfm_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->dim = 25;
    p->seed = 1;
    p->oversample = 25;
    p->power_iters = 20;
    p->positives = COLB_LASTFM_LISTENED;
}

/* ---- helpers ---------------------------------------------------------- */

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s)
        return NULL;
    memcpy(s, dir, a);
    size_t n = a;
    if (a && dir[a - 1] != '/')
        s[n++] = '/';
    memcpy(s + n, name, b + 1);
    return s;
}

/* A file of the data set read into memory with its checksum. */
typedef struct infile {
    char *path;
    char *buf;
    size_t len;
    uint64_t fnv;
} infile;

static colb_status infile_read(infile *f, const char *dir, const char *name, size_t max_memory, char *msg,
                               size_t msg_len)
{
    memset(f, 0, sizeof *f);
    f->path = join_path(dir, name);
    if (!f->path)
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    colb_status s = colb__read_text(f->path, colb__budget(max_memory) / COLB__LOAD_FACTOR, &f->buf, &f->len, msg, msg_len);
    if (s == COLB_OK)
        f->fnv = colb__fnv1a64(COLB__FNV64_INIT, f->buf, f->len);
    return s;
}

static void infile_free(infile *f)
{
    free(f->path);
    free(f->buf);
    memset(f, 0, sizeof *f);
}

/* Iterate the data lines of a hetrec file: skips blank and '#' lines and a
 * header as the first non-blank line; splits on tabs and checks the field
 * count. Returns 1 with fields set, 0 at the end, -1 on error (msg set). */
typedef struct reader {
    colb__lines it;
    const char *path;
    int seen;
} reader;

static void reader_init(reader *r, infile *f)
{
    colb__lines_init(&r->it, f->buf, f->len);
    r->path = f->path;
    r->seen = 0;
}

static int reader_next(reader *r, char **fields, size_t nf, const char *what, colb_status *st,
                       char *msg, size_t msg_len)
{
    char *line;
    while ((line = colb__lines_next(&r->it)) != NULL) {
        if (colb__line_skip(line))
            continue;
        if (!r->seen) {
            r->seen = 1;
            if (!colb__first_field_numeric(line, "\t"))
                continue;
        }
        size_t n = colb__split(line, '\t', fields, nf);
        if (n != nf) {
            *st = colb__say(msg, msg_len, COLB_EPARSE,
                            "%s:%zu: expected %zu tab-separated fields (%s), found %zu", r->path,
                            r->it.lineno, nf, what, n);
            return -1;
        }
        return 1;
    }
    return 0;
}

static int field_u64(reader *r, char **fields, size_t j, const char *name, uint64_t lo,
                     uint64_t hi, uint64_t *v, colb_status *st, char *msg, size_t msg_len)
{
    if (colb__parse_u64(fields[j], v) != 0 || *v < lo || *v > hi) {
        char q[48];
        size_t n = strlen(fields[j]);
        snprintf(q, sizeof q, "%.40s%s", fields[j], n > 40 ? "..." : "");
        if (hi == UINT64_MAX)
            *st = colb__say(msg, msg_len, COLB_EPARSE,
                            "%s:%zu: expected a non-negative integer %s in field %zu, found '%s'",
                            r->path, r->it.lineno, name, j + 1, q);
        else
            *st = colb__say(msg, msg_len, COLB_EPARSE,
                            "%s:%zu: expected an integer %s in [%" PRIu64 ", %" PRIu64
                            "] in field %zu, found '%s'",
                            r->path, r->it.lineno, name, lo, hi, j + 1, q);
        return -1;
    }
    return 0;
}

/* Sort (id, idx) pairs and report a duplicate id by its line. */
static colb_status sorted_index(const char *path, const uint64_t *ids, const size_t *lines,
                                size_t n, const char *what, colb__pair **out, char *msg,
                                size_t msg_len)
{
    colb__pair *t = colb__malloc(n, sizeof *t);
    if (!t)
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        t[i].id = ids[i];
        t[i].idx = i;
    }
    qsort(t, n, sizeof *t, colb__pair_cmp);
    size_t worst = SIZE_MAX, first = 0;
    for (size_t i = 1; i < n; i++)
        if (t[i].id == t[i - 1].id && (worst == SIZE_MAX || lines[t[i].idx] < lines[worst])) {
            worst = t[i].idx;
            first = t[i - 1].idx;
        }
    if (worst != SIZE_MAX) {
        free(t);
        return colb__say(msg, msg_len, COLB_EPARSE,
                         "%s:%zu: expected a new %s id, found %" PRIu64 " again (first on line %zu)",
                         path, lines[worst], what, ids[worst], lines[first]);
    }
    *out = t;
    return COLB_OK;
}

/* ---- artists.dat ---------------------------------------------------------- */

typedef struct artists {
    size_t n;
    uint64_t *ids;  /* file order */
    colb__pair *index;  /* sorted by id */
} artists;

static void artists_free(artists *a)
{
    free(a->ids);
    free(a->index);
    memset(a, 0, sizeof *a);
}

static colb_status parse_artists(infile *f, artists *a, char *msg, size_t msg_len)
{
    memset(a, 0, sizeof *a);
    size_t cap = colb__count_data_lines(f->buf, f->len);
    size_t *lines = colb__malloc(cap, sizeof *lines);
    a->ids = colb__malloc(cap, sizeof *a->ids);
    colb_status st = COLB_OK;
    if (!lines || !a->ids) {
        st = colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
        goto out;
    }
    reader r;
    reader_init(&r, f);
    char *fl[4];
    int k;
    while ((k = reader_next(&r, fl, 4, "id, name, url, pictureURL", &st, msg, msg_len)) == 1) {
        uint64_t id;
        if (field_u64(&r, fl, 0, "artist id", 0, UINT64_MAX, &id, &st, msg, msg_len) != 0)
            goto out;
        lines[a->n] = r.it.lineno;
        a->ids[a->n++] = id;
    }
    if (k < 0)
        goto out;
    if (a->n == 0) {
        st = colb__say(msg, msg_len, COLB_EPARSE, "%s:%zu: expected at least one artist, found none",
                       f->path, r.it.lineno ? r.it.lineno : 1);
        goto out;
    }
    st = sorted_index(f->path, a->ids, lines, a->n, "artist", &a->index, msg, msg_len);
out:
    free(lines);
    if (st != COLB_OK)
        artists_free(a);
    return st;
}

/* ---- vocabulary of atomic tags --------------------------------------------- */

typedef struct vocab {
    char *chars;   /* NUL-terminated terms, back to back */
    size_t len, cap;
    size_t *off;   /* term -> offset in chars */
    size_t n, cap_off;
    size_t *slot;  /* hash table of term ids (SIZE_MAX = empty) */
    size_t mask;
} vocab;

static void vocab_free(vocab *v)
{
    free(v->chars);
    free(v->off);
    free(v->slot);
    memset(v, 0, sizeof *v);
}

static size_t vocab_find_slot(const vocab *v, const char *s, size_t n, uint64_t h)
{
    size_t i = (size_t)h & v->mask;
    while (v->slot[i] != SIZE_MAX) {
        const char *t = v->chars + v->off[v->slot[i]];
        if (strlen(t) == n && memcmp(t, s, n) == 0)
            break;
        i = (i + 1) & v->mask;
    }
    return i;
}

static int vocab_grow_table(vocab *v)
{
    size_t n = v->mask ? 2 * (v->mask + 1) : 1024;
    size_t *slot = colb__malloc(n, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < n; i++)
        slot[i] = SIZE_MAX;
    free(v->slot);
    v->slot = slot;
    v->mask = n - 1;
    for (size_t t = 0; t < v->n; t++) {
        const char *s = v->chars + v->off[t];
        size_t len = strlen(s);
        size_t i = vocab_find_slot(v, s, len, colb__fnv1a64(COLB__FNV64_INIT, s, len));
        v->slot[i] = t;
    }
    return 0;
}

/* Id of term s[0..n), added when new; SIZE_MAX on ENOMEM. */
static size_t vocab_intern(vocab *v, const char *s, size_t n)
{
    if (2 * (v->n + 1) > v->mask + 1 && vocab_grow_table(v) != 0)
        return SIZE_MAX;
    uint64_t h = colb__fnv1a64(COLB__FNV64_INIT, s, n);
    size_t i = vocab_find_slot(v, s, n, h);
    if (v->slot[i] != SIZE_MAX)
        return v->slot[i];
    if (v->len + n + 1 > v->cap) {
        size_t cap = v->cap ? v->cap : 4096;
        while (v->len + n + 1 > cap)
            cap *= 2;
        char *c = realloc(v->chars, cap);
        if (!c)
            return SIZE_MAX;
        v->chars = c;
        v->cap = cap;
    }
    if (v->n == v->cap_off) {
        size_t cap = v->cap_off ? 2 * v->cap_off : 1024;
        size_t *o = realloc(v->off, cap * sizeof *o);
        if (!o)
            return SIZE_MAX;
        v->off = o;
        v->cap_off = cap;
    }
    memcpy(v->chars + v->len, s, n);
    v->chars[v->len + n] = '\0';
    v->off[v->n] = v->len;
    v->len += n + 1;
    v->slot[i] = v->n;
    return v->n++;
}

/* ---- tags.dat: tag id -> list of term ids ---------------------------------- */

typedef struct tagset {
    size_t n;
    uint64_t *ids;
    colb__pair *index;
    size_t *ptr;    /* n + 1 */
    size_t *terms;  /* term ids of tag t: terms[ptr[t] .. ptr[t+1]) */
} tagset;

static void tagset_free(tagset *t)
{
    free(t->ids);
    free(t->index);
    free(t->ptr);
    free(t->terms);
    memset(t, 0, sizeof *t);
}

static colb_status parse_tags(infile *f, vocab *v, tagset *t, char *msg, size_t msg_len)
{
    memset(t, 0, sizeof *t);
    size_t cap = colb__count_data_lines(f->buf, f->len);
    size_t *lines = colb__malloc(cap, sizeof *lines);
    t->ids = colb__malloc(cap, sizeof *t->ids);
    t->ptr = colb__malloc(cap + 1, sizeof *t->ptr);
    /* a tag of n bytes has at most n/2 + 1 tokens: the terms fit in len */
    t->terms = colb__malloc(f->len + 1, sizeof *t->terms);
    char *tok = colb__malloc(2 * f->len + 2, 1);
    colb_status st = COLB_OK;
    if (!lines || !t->ids || !t->ptr || !t->terms || !tok) {
        st = colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
        goto out;
    }
    t->ptr[0] = 0;
    reader r;
    reader_init(&r, f);
    char *fl[2];
    int k;
    while ((k = reader_next(&r, fl, 2, "tagID, tagValue", &st, msg, msg_len)) == 1) {
        uint64_t id;
        if (field_u64(&r, fl, 0, "tag id", 0, UINT64_MAX, &id, &st, msg, msg_len) != 0)
            goto out;
        size_t w = t->ptr[t->n];
        colb__tag_iter ti;
        colb__tags_begin(&ti, fl[1], strlen(fl[1]));
        size_t n;
        while ((n = colb__tags_next(&ti, tok)) > 0) {
            size_t term = vocab_intern(v, tok, n);
            if (term == SIZE_MAX) {
                st = colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
                goto out;
            }
            t->terms[w++] = term;
        }
        lines[t->n] = r.it.lineno;
        t->ids[t->n++] = id;
        t->ptr[t->n] = w;
    }
    if (k < 0)
        goto out;
    if (t->n == 0) {
        st = colb__say(msg, msg_len, COLB_EPARSE, "%s:%zu: expected at least one tag, found none",
                       f->path, r.it.lineno ? r.it.lineno : 1);
        goto out;
    }
    st = sorted_index(f->path, t->ids, lines, t->n, "tag", &t->index, msg, msg_len);
out:
    free(lines);
    free(tok);
    if (st != COLB_OK)
        tagset_free(t);
    return st;
}

/* ---- user_taggedartists.dat ------------------------------------------------ */


/* One call reads the assignments: with tg != NULL it collects the (artist,
 * term) triplets; with pairs != NULL the (user, artist) pairs. */
static colb_status parse_assignments(infile *f, const artists *a, const tagset *tg,
                                     size_t **ri, size_t **ci, size_t *n_trip, colb__pair **pairs,
                                     size_t *n_pairs, colb_lastfm_info *info, char *msg,
                                     size_t msg_len)
{
    size_t cap = colb__count_data_lines(f->buf, f->len);
    size_t tcap = 0;
    size_t *R = NULL, *C = NULL;
    colb__pair *P = NULL;
    colb_status st = COLB_OK;
    if (tg) {
        tcap = 4 * cap + 16;
        R = colb__malloc(tcap, sizeof *R);
        C = colb__malloc(tcap, sizeof *C);
    }
    if (pairs)
        P = colb__malloc(cap, sizeof *P);
    if ((tg && (!R || !C)) || (pairs && !P)) {
        st = colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
        goto out;
    }
    size_t nt = 0, np = 0;
    reader r;
    reader_init(&r, f);
    char *fl[6];
    int k;
    info->n_assignments = info->n_skipped = 0;
    while ((k = reader_next(&r, fl, 6, "userID, artistID, tagID, day, month, year", &st, msg,
                            msg_len)) == 1) {
        uint64_t user, artist, tag, day, month, year;
        if (field_u64(&r, fl, 0, "user id", 0, UINT64_MAX, &user, &st, msg, msg_len) ||
            field_u64(&r, fl, 1, "artist id", 0, UINT64_MAX, &artist, &st, msg, msg_len) ||
            field_u64(&r, fl, 2, "tag id", 0, UINT64_MAX, &tag, &st, msg, msg_len) ||
            field_u64(&r, fl, 3, "day", 1, 31, &day, &st, msg, msg_len) ||
            field_u64(&r, fl, 4, "month", 1, 12, &month, &st, msg, msg_len) ||
            field_u64(&r, fl, 5, "year", 0, UINT64_MAX, &year, &st, msg, msg_len))
            goto out;
        info->n_assignments++;
        size_t t = SIZE_MAX;
        if (tg) {
            t = colb__pair_find(tg->index, tg->n, tag);
            if (t == SIZE_MAX) {
                st = colb__say(msg, msg_len, COLB_EPARSE,
                               "%s:%zu: expected a tag id listed in tags.dat, found unknown id %" PRIu64,
                               f->path, r.it.lineno, tag);
                goto out;
            }
        }
        size_t ai = colb__pair_find(a->index, a->n, artist);
        if (ai == SIZE_MAX) {
            info->n_skipped++; /* 390 artists of the real data are not in artists.dat */
            continue;
        }
        if (tg) {
            size_t nterm = tg->ptr[t + 1] - tg->ptr[t];
            if (nt + nterm > tcap) {
                while (nt + nterm > tcap)
                    tcap *= 2;
                size_t *R2 = realloc(R, tcap * sizeof *R);
                if (R2)
                    R = R2;
                size_t *C2 = R2 ? realloc(C, tcap * sizeof *C) : NULL;
                if (!R2 || !C2) {
                    st = colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
                    goto out;
                }
                C = C2;
            }
            for (size_t j = tg->ptr[t]; j < tg->ptr[t + 1]; j++) {
                R[nt] = ai;
                C[nt] = tg->terms[j];
                nt++;
            }
        }
        if (pairs) {
            P[np].id = user;
            P[np].idx = ai;
            np++;
        }
    }
    if (k < 0)
        goto out;
    if (info->n_assignments == 0) {
        st = colb__say(msg, msg_len, COLB_EPARSE,
                       "%s:%zu: expected at least one tag assignment, found none", f->path,
                       r.it.lineno ? r.it.lineno : 1);
        goto out;
    }
    if (tg) {
        *ri = R;
        *ci = C;
        *n_trip = nt;
        R = C = NULL;
    }
    if (pairs) {
        *pairs = P;
        *n_pairs = np;
        P = NULL;
    }
out:
    free(R);
    free(C);
    free(P);
    return st;
}

/* ---- user_artists.dat ------------------------------------------------------ */

static colb_status parse_listened(infile *f, const artists *a, colb__pair **pairs, size_t *n_pairs,
                                  char *msg, size_t msg_len)
{
    colb__pair *P = colb__malloc(colb__count_data_lines(f->buf, f->len), sizeof *P);
    if (!P)
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    colb_status st = COLB_OK;
    size_t np = 0, lines = 0;
    reader r;
    reader_init(&r, f);
    char *fl[3];
    int k;
    while ((k = reader_next(&r, fl, 3, "userID, artistID, weight", &st, msg, msg_len)) == 1) {
        uint64_t user, artist, weight;
        if (field_u64(&r, fl, 0, "user id", 0, UINT64_MAX, &user, &st, msg, msg_len) ||
            field_u64(&r, fl, 1, "artist id", 0, UINT64_MAX, &artist, &st, msg, msg_len) ||
            field_u64(&r, fl, 2, "weight (listening count)", 0, UINT64_MAX, &weight, &st, msg,
                      msg_len))
            goto out;
        lines++;
        size_t ai = colb__pair_find(a->index, a->n, artist);
        if (ai == SIZE_MAX) {
            st = colb__say(msg, msg_len, COLB_EPARSE,
                           "%s:%zu: expected an artist id listed in artists.dat, found unknown id %" PRIu64,
                           f->path, r.it.lineno, artist);
            goto out;
        }
        if (weight == 0)
            continue; /* never listened: not a positive */
        P[np].id = user;
        P[np].idx = ai;
        np++;
    }
    if (k < 0)
        goto out;
    if (lines == 0)
        st = colb__say(msg, msg_len, COLB_EPARSE,
                       "%s:%zu: expected at least one (user, artist, weight) line, found none",
                       f->path, r.it.lineno ? r.it.lineno : 1);
out:
    if (st != COLB_OK) {
        free(P);
        return st;
    }
    *pairs = P;
    *n_pairs = np;
    return COLB_OK;
}

/* ---- features: atomic tags -> TF-IDF -> PCA scores -------------------------- */

typedef struct term_ref {
    const char *s;
    size_t id;
} term_ref;

static int cmp_term(const void *a, const void *b)
{
    return strcmp(((const term_ref *)a)->s, ((const term_ref *)b)->s);
}

/* features (n_artists x dim) from the triplets (artist, term); ci is
 * renumbered to the sorted vocabulary; fills info's n_docs, n_terms and
 * explained. */
static colb_status build_features(size_t n_artists, const vocab *v, size_t *ri, size_t *ci,
                                  size_t nt, const colb_lastfm_params *p, double *features,
                                  colb_lastfm_info *info, char *msg, size_t msg_len)
{
    colb_status st = COLB_ENOMEM;
    size_t *map = colb__malloc(v->n, sizeof *map);
    term_ref *refs = colb__malloc(v->n, sizeof *refs);
    double *ones = colb__malloc(nt, sizeof *ones);
    size_t *docs = colb__malloc(n_artists, sizeof *docs);
    double *s = NULL, *u = NULL, *mu = NULL;
    colb__csr a = { 0 }, d = { 0 };
    if (!map || !refs || !ones || !docs)
        goto out;
    /* Vocabulary: terms assigned to at least one known artist, in byte order
     * of their UTF-8 spelling (independent of file order). */
    for (size_t t = 0; t < v->n; t++)
        map[t] = 0;
    for (size_t j = 0; j < nt; j++)
        map[ci[j]] = 1;
    size_t nterms = 0;
    for (size_t t = 0; t < v->n; t++)
        if (map[t]) {
            refs[nterms].s = v->chars + v->off[t];
            refs[nterms].id = t;
            nterms++;
        }
    qsort(refs, nterms, sizeof *refs, cmp_term);
    for (size_t j = 0; j < nterms; j++)
        map[refs[j].id] = j;
    for (size_t j = 0; j < nt; j++) {
        ci[j] = map[ci[j]];
        ones[j] = 1.0;
    }
    if (nterms == 0) {
        st = colb__say(msg, msg_len, COLB_EPARSE,
                       "no atomic tag is assigned to an artist of artists.dat: cannot build features");
        goto out;
    }
    st = colb__csr_from_coo(n_artists, nterms, nt, ri, ci, ones, &a);
    if (st != COLB_OK)
        goto out;
    size_t ndocs = 0;
    st = colb__tfidf(&a, NULL, &ndocs);
    if (st != COLB_OK)
        goto out;
    size_t nd = 0;
    for (size_t i = 0; i < n_artists; i++)
        if (a.ptr[i + 1] > a.ptr[i])
            docs[nd++] = i;
    size_t mn = nd < nterms ? nd : nterms;
    if (p->dim > mn) {
        st = colb__say(msg, msg_len, COLB_ERANGE,
                       "dim = %zu exceeds min(tagged artists, atomic tags) = min(%zu, %zu)", p->dim,
                       nd, nterms);
        goto out;
    }
    st = colb__csr_select_rows(&a, nd, docs, &d);
    if (st != COLB_OK)
        goto out;
    s = colb__malloc(p->dim, sizeof *s);
    u = colb__malloc(nd, p->dim * sizeof *u);
    mu = colb__malloc(nterms, sizeof *mu);
    st = COLB_ENOMEM;
    if (!s || !u || !mu)
        goto out;
    colb__svd_params sp = { .k = p->dim,
                            .oversample = p->oversample,
                            .power_iters = p->power_iters,
                            .center = 1,
                            .seed = p->seed };
    st = colb__svd_sparse(&d, &sp, s, u, NULL, mu);
    if (st != COLB_OK) {
        colb__say(msg, msg_len, st, "truncated SVD of the %zu x %zu TF-IDF matrix failed: %s", nd,
                  nterms, colb_strerror(st));
        goto out;
    }
    memset(features, 0, n_artists * p->dim * sizeof(double));
    for (size_t r = 0; r < nd; r++)
        for (size_t j = 0; j < p->dim; j++)
            features[docs[r] * p->dim + j] = u[r * p->dim + j] * s[j];
    /* ||A_c||_F^2 = sum_i ||a_i||^2 - nd ||mu||^2 */
    double tot = 0.0, mu2 = 0.0, cap = 0.0;
    for (size_t t = 0; t < d.nnz; t++)
        tot += d.val[t] * d.val[t];
    for (size_t j = 0; j < nterms; j++)
        mu2 += mu[j] * mu[j];
    tot -= (double)nd * mu2;
    for (size_t j = 0; j < p->dim; j++)
        cap += s[j] * s[j];
    info->n_docs = nd;
    info->n_terms = nterms;
    info->explained = tot > 0.0 ? cap / tot : 0.0;
    st = COLB_OK;
out:
    if (st == COLB_ENOMEM && msg && msg_len && !msg[0])
        colb__say(msg, msg_len, st, "out of memory building Last.FM features");
    free(map);
    free(refs);
    free(ones);
    free(docs);
    free(s);
    free(u);
    free(mu);
    colb__csr_free(&a);
    colb__csr_free(&d);
    return st;
}

/* ---- the cache file ------------------------------------------------------ */

static void put_u32(unsigned char *b, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(x >> (8 * i));
}

static void put_u64(unsigned char *b, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(x >> (8 * i));
}

static uint64_t get_u64(const unsigned char *b)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = (x << 8) | b[i];
    return x;
}

static void put_f64(unsigned char *b, double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    put_u64(b, u);
}

static double get_f64(const unsigned char *b)
{
    uint64_t u = get_u64(b);
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

typedef struct cache_key {
    uint64_t dim, seed, oversample, power_iters, n_items;
    uint64_t fnv[3]; /* artists.dat, tags.dat, user_taggedartists.dat */
} cache_key;

static size_t cache_size(const cache_key *k)
{
    return CACHE_HEADER + 8 * (size_t)k->n_items * (1 + (size_t)k->dim) + 8;
}

static void cache_header(unsigned char *b, const cache_key *k, const colb_lastfm_info *info)
{
    memset(b, 0, CACHE_HEADER);
    memcpy(b, COLB_LASTFM_CACHE_MAGIC, COLB_LASTFM_CACHE_MAGIC_LEN);
    put_u32(b + 8, CACHE_FORMAT);
    put_u32(b + 12, COLB__TAGS_VERSION);
    put_u32(b + 16, FEATURES_RECIPE);
    put_u32(b + 20, 0);
    put_u64(b + 24, k->dim);
    put_u64(b + 32, k->seed);
    put_u64(b + 40, k->oversample);
    put_u64(b + 48, k->power_iters);
    put_u64(b + 56, k->n_items);
    put_u64(b + 64, k->fnv[0]);
    put_u64(b + 72, k->fnv[1]);
    put_u64(b + 80, k->fnv[2]);
    if (info) {
        put_u64(b + 88, info->n_assignments);
        put_u64(b + 96, info->n_skipped);
        put_u64(b + 104, info->n_docs);
        put_u64(b + 112, info->n_terms);
        put_f64(b + 120, info->explained);
    }
}

/* A cache path that may be read and replaced: missing, or a regular file
 * that is empty or starts with the cache's magic. A folder, a device, a
 * FIFO (never opened: reading it would wait for a writer) or someone
 * else's file is refused with COLB_EIO. */
static colb_status cache_usable(const char *path, char *msg, size_t msg_len)
{
    struct stat st;
    if (stat(path, &st) != 0) /* missing (folders too: cache_write says so) */
        return errno == ENOENT ? COLB_OK
                               : colb__say(msg, msg_len, COLB_EIO, "feature cache '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return colb__say(msg, msg_len, COLB_EIO,
                         "feature cache '%s' exists and is not a regular file (a folder, a device or a "
                         "FIFO): not read, not replaced",
                         path);
    if (st.st_size == 0)
        return COLB_OK;
    unsigned char head[COLB_LASTFM_CACHE_MAGIC_LEN];
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a FIFO since stat: no wait */
    if (fd < 0)
        return colb__say(msg, msg_len, COLB_EIO, "cannot open '%s': %s", path, strerror(errno));
    ssize_t got = read(fd, head, sizeof head);
    close(fd);
    if (got != (ssize_t)sizeof head || memcmp(head, COLB_LASTFM_CACHE_MAGIC, sizeof head) != 0)
        return colb__say(msg, msg_len, COLB_EIO,
                         "'%s' exists and is not a colb feature cache (no " COLB_LASTFM_CACHE_MAGIC
                         " magic): not replaced",
                         path);
    return COLB_OK;
}

/* 1 and the features/ids/stats when the cache is valid for key k. */
static int cache_read(const char *path, const cache_key *k, const uint64_t *ids, double *features,
                      colb_lastfm_info *info)
{
    char *buf;
    size_t len;
    if (colb__read_file(path, cache_size(k), &buf, &len, NULL, 0) != COLB_OK)
        return 0;
    const unsigned char *b = (const unsigned char *)buf;
    unsigned char want[CACHE_HEADER];
    cache_header(want, k, NULL);
    int ok = len == cache_size(k) && memcmp(b, want, 88) == 0 &&
             get_u64(b + len - 8) == colb__fnv1a64(COLB__FNV64_INIT, b, len - 8);
    if (ok) {
        const unsigned char *pi = b + CACHE_HEADER;
        for (size_t i = 0; i < k->n_items && ok; i++)
            ok = get_u64(pi + 8 * i) == ids[i];
    }
    if (ok) {
        const unsigned char *pf = b + CACHE_HEADER + 8 * k->n_items;
        size_t nf = (size_t)k->n_items * k->dim;
        for (size_t j = 0; j < nf; j++) {
            features[j] = get_f64(pf + 8 * j);
            if (!(fabs(features[j]) <= COLB_CONTEXT_MAX)) /* NaN, Inf, or more than a context can be */
                ok = 0;
        }
        info->n_assignments = get_u64(b + 88);
        info->n_skipped = get_u64(b + 96);
        info->n_docs = get_u64(b + 104);
        info->n_terms = get_u64(b + 112);
        info->explained = get_f64(b + 120);
    }
    free(buf);
    return ok;
}

static colb_status cache_write(const char *path, const cache_key *k, const uint64_t *ids,
                               const double *features, const colb_lastfm_info *info, char *msg,
                               size_t msg_len)
{
    size_t len = cache_size(k);
    unsigned char *b = malloc(len);
    if (!b)
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory writing the cache");
    cache_header(b, k, info);
    unsigned char *pi = b + CACHE_HEADER;
    for (size_t i = 0; i < k->n_items; i++)
        put_u64(pi + 8 * i, ids[i]);
    unsigned char *pf = pi + 8 * k->n_items;
    for (size_t j = 0; j < (size_t)k->n_items * k->dim; j++)
        put_f64(pf + 8 * j, features[j]);
    put_u64(b + len - 8, colb__fnv1a64(COLB__FNV64_INIT, b, len - 8));
    colb_status st = colb_file_write(path, b, len, msg, msg_len);
    free(b);
    return st;
}

/* ---- the loader ------------------------------------------------------------ */

static colb_status make_dataset(const artists *a, size_t dim, const double *features,
                                colb__pair *P, size_t np, colb_dataset **out, char *msg,
                                size_t msg_len)
{
    if (np == 0)
        return colb__say(msg, msg_len, COLB_EPARSE, "no positive (user, artist) pair found");
    return colb__dataset_from_pairs(a->n, dim, a->ids, features, P, np, out, msg, msg_len);
}

colb_status colb_lastfm_load_ex(const char *dir, const colb_lastfm_params *p,
                                const char *cache_path, colb_dataset **out,
                                colb_lastfm_info *info, char *msg, size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!out)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL output pointer");
    *out = NULL;
    if (!dir || !p)
        return colb__say(msg, msg_len, COLB_EINVAL, "NULL directory or parameters");
    if (p->dim == 0 || p->dim > COLB_LASTFM_DIM_MAX)
        return colb__say(msg, msg_len, COLB_ERANGE, "dim must be in [1, %u], got %zu", COLB_LASTFM_DIM_MAX, p->dim);
    if (p->oversample > 1000 || p->power_iters > 1000)
        return colb__say(msg, msg_len, COLB_ERANGE,
                         "oversample and power_iters must be in [0, 1000], got %zu and %zu",
                         p->oversample, p->power_iters);
    if (p->positives != COLB_LASTFM_LISTENED && p->positives != COLB_LASTFM_TAGGED)
        return colb__say(msg, msg_len, COLB_EINVAL, "positives must be listened or tagged");
    colb_status bs = colb__budget_range(p->max_memory, "lastfm_load", msg, msg_len);
    if (bs != COLB_OK)
        return bs;
    if (cache_path) {
        colb_status cs = cache_usable(cache_path, msg, msg_len);
        if (cs != COLB_OK)
            return cs;
    }
    colb_lastfm_info inf_local, *inf = info ? info : &inf_local;
    memset(inf, 0, sizeof *inf);

    infile fa, ft, fu, fl;
    memset(&ft, 0, sizeof ft);
    memset(&fu, 0, sizeof fu);
    memset(&fl, 0, sizeof fl);
    artists a = { 0 };
    vocab v = { 0 };
    tagset tg = { 0 };
    size_t *ri = NULL, *ci = NULL, nt = 0, np = 0;
    colb__pair *P = NULL;
    double *features = NULL;
    size_t mm = p->max_memory;
    colb_status st = infile_read(&fa, dir, "artists.dat", mm, msg, msg_len);
    if (st == COLB_OK)
        st = infile_read(&ft, dir, "tags.dat", mm, msg, msg_len);
    if (st == COLB_OK)
        st = infile_read(&fu, dir, "user_taggedartists.dat", mm, msg, msg_len);
    if (st == COLB_OK && p->positives == COLB_LASTFM_LISTENED)
        st = infile_read(&fl, dir, "user_artists.dat", mm, msg, msg_len);
    if (st == COLB_OK) {
        double in = (double)fa.len + (double)ft.len + (double)fu.len + (double)fl.len;
        char what[320];
        snprintf(what, sizeof what, "Last.FM in '%.200s' (%.0f bytes of files, dim = %zu)", dir, in, p->dim);
        st = colb__budget_check(in * COLB__LOAD_FACTOR, mm, what, msg, msg_len);
    }
    if (st == COLB_OK)
        st = parse_artists(&fa, &a, msg, msg_len);
    if (st != COLB_OK)
        goto out;
    features = colb__malloc(a.n, p->dim * sizeof(double));
    if (!features) {
        st = colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
        goto out;
    }
    cache_key key = { .dim = p->dim,
                      .seed = p->seed,
                      .oversample = p->oversample,
                      .power_iters = p->power_iters,
                      .n_items = a.n,
                      .fnv = { fa.fnv, ft.fnv, fu.fnv } };
    int hit = cache_path && cache_read(cache_path, &key, a.ids, features, inf);
    if (!hit) {
        st = parse_tags(&ft, &v, &tg, msg, msg_len);
        if (st != COLB_OK)
            goto out;
        st = parse_assignments(&fu, &a, &tg, &ri, &ci, &nt,
                               p->positives == COLB_LASTFM_TAGGED ? &P : NULL, &np, inf, msg,
                               msg_len);
        if (st != COLB_OK)
            goto out;
        st = build_features(a.n, &v, ri, ci, nt, p, features, inf, msg, msg_len);
        if (st != COLB_OK)
            goto out;
        if (cache_path) {
            st = cache_write(cache_path, &key, a.ids, features, inf, msg, msg_len);
            if (st != COLB_OK)
                goto out;
            inf->cache_written = 1;
        }
    } else {
        inf->cache_hit = 1;
        if (p->positives == COLB_LASTFM_TAGGED) {
            colb_lastfm_info tmp = *inf;
            st = parse_assignments(&fu, &a, NULL, NULL, NULL, NULL, &P, &np, &tmp, msg, msg_len);
            if (st != COLB_OK)
                goto out;
        }
    }
    if (p->positives == COLB_LASTFM_LISTENED) {
        st = parse_listened(&fl, &a, &P, &np, msg, msg_len);
        if (st != COLB_OK)
            goto out;
    }
    st = make_dataset(&a, p->dim, features, P, np, out, msg, msg_len);
out:
    infile_free(&fa);
    infile_free(&ft);
    infile_free(&fu);
    infile_free(&fl);
    artists_free(&a);
    vocab_free(&v);
    tagset_free(&tg);
    free(ri);
    free(ci);
    free(P);
    free(features);
    return st;
}

colb_status colb_lastfm_load(const char *dir, size_t dim, const char *cache_path,
                             colb_dataset **out, char *msg, size_t msg_len)
{
    colb_lastfm_params p;
    colb_lastfm_params_default(&p);
    p.dim = dim;
    return colb_lastfm_load_ex(dir, &p, cache_path, out, NULL, msg, msg_len);
}
