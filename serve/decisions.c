/* decisions.c - the window of decisions (decisions.h) as flat arrays
 * indexed by sequence number mod W. calloc'd, so the pages of a large
 * window cost memory only once decisions reach them. */
#include "decisions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"

struct decisions {
    size_t W, d;
    uint64_t *seq;         /* W: the decision in the slot, 0 for none */
    uint32_t *gen;         /* W */
    unsigned char *rewarded; /* W */
    uint64_t *user;        /* W */
    double *x;             /* W x d */
};

decisions *decisions_create(size_t window, size_t d)
{
    decisions *r = calloc(1, sizeof *r);
    if (!r || window == 0 || d == 0 || window > SIZE_MAX / 8 / d) {
        free(r);
        return NULL;
    }
    r->W = window;
    r->d = d;
    r->seq = calloc(window, sizeof *r->seq);
    r->gen = calloc(window, sizeof *r->gen);
    r->rewarded = calloc(window, 1);
    r->user = calloc(window, sizeof *r->user);
    r->x = calloc(window * d, sizeof *r->x);
    if (!r->seq || !r->gen || !r->rewarded || !r->user || !r->x) {
        decisions_free(r);
        return NULL;
    }
    return r;
}

void decisions_free(decisions *r)
{
    if (!r)
        return;
    free(r->seq);
    free(r->gen);
    free(r->rewarded);
    free(r->user);
    free(r->x);
    free(r);
}

size_t decisions_window(const decisions *r) { return r->W; }

void decisions_put(decisions *r, decision_id id, uint64_t user, const double *x)
{
    size_t s = (size_t)(id.seq % r->W);
    r->seq[s] = id.seq;
    r->gen[s] = id.gen;
    r->rewarded[s] = 0;
    r->user[s] = user;
    memcpy(r->x + s * r->d, x, r->d * sizeof(double));
}

dec_status decisions_find(const decisions *r, decision_id id, uint64_t next_seq, uint64_t *user,
                          const double **x)
{
    size_t s = (size_t)(id.seq % r->W);
    if (r->seq[s] == id.seq && r->gen[s] == id.gen) {
        if (r->rewarded[s])
            return DEC_REWARDED;
        *user = r->user[s];
        *x = r->x + s * r->d;
        return DEC_PENDING;
    }
    /* not in its slot: made and since pushed out, or never made here */
    if (id.seq < next_seq && next_seq - id.seq > r->W && r->seq[s] > id.seq)
        return DEC_EXPIRED;
    return DEC_UNKNOWN;
}

void decisions_mark_rewarded(decisions *r, decision_id id)
{
    size_t s = (size_t)(id.seq % r->W);
    if (r->seq[s] == id.seq && r->gen[s] == id.gen)
        r->rewarded[s] = 1;
}

decisions *decisions_resize(decisions *r, size_t window, uint64_t next_seq)
{
    if (window == r->W)
        return r;
    decisions *n = decisions_create(window, r->d);
    if (!n)
        return NULL;
    /* the newest min(W, window) decisions, oldest first, so that later ones win */
    uint64_t keep = window < r->W ? window : r->W;
    uint64_t first = next_seq > keep ? next_seq - keep : 1;
    for (uint64_t q = first; q < next_seq; q++) {
        size_t s = (size_t)(q % r->W);
        if (r->seq[s] != q)
            continue;
        decision_id id = { r->gen[s], q };
        decisions_put(n, id, r->user[s], r->x + s * r->d);
        n->rewarded[q % window] = r->rewarded[s];
    }
    decisions_free(r);
    return n;
}

/* Block layout: u64 W, u64 d, u64 count, then count entries, oldest
 * first: u64 seq, u32 gen, u32 rewarded (0 or 1), u64 user, and d x f64
 * context when not rewarded. */
int decisions_save(const decisions *r, unsigned char **out, size_t *len)
{
    size_t count = 0, bytes = 24;
    for (size_t s = 0; s < r->W; s++)
        if (r->seq[s]) {
            count++;
            bytes += 24 + (r->rewarded[s] ? 0 : 8 * r->d);
        }
    unsigned char *b = malloc(bytes), *p = b;
    if (!b)
        return -1;
    put_u64(p, r->W);
    put_u64(p + 8, r->d);
    put_u64(p + 16, count);
    p += 24;
    /* in sequence order, starting after the newest slot */
    uint64_t newest = 0;
    for (size_t s = 0; s < r->W; s++)
        newest = r->seq[s] > newest ? r->seq[s] : newest;
    for (size_t i = 1; i <= r->W; i++) {
        size_t s = (size_t)((newest + i) % r->W);
        if (!r->seq[s])
            continue;
        put_u64(p, r->seq[s]);
        put_u32(p + 8, r->gen[s]);
        put_u32(p + 12, r->rewarded[s]);
        put_u64(p + 16, r->user[s]);
        p += 24;
        if (!r->rewarded[s])
            for (size_t j = 0; j < r->d; j++, p += 8)
                put_f64(p, r->x[s * r->d + j]);
    }
    *out = b;
    *len = (size_t)(p - b);
    return 0;
}

decisions *decisions_load(const unsigned char *p, size_t n, size_t d, char *err, size_t err_len)
{
    const unsigned char *end = p + n;
    if (n < 24 || get_u64(p + 8) != d || get_u64(p) == 0 || get_u64(p) > ((uint64_t)1 << 40) ||
        get_u64(p + 16) > get_u64(p) || get_u64(p + 16) > (n - 24) / 24) {
        snprintf(err, err_len, "snapshot: block serve.decisions is malformed");
        return NULL;
    }
    uint64_t count = get_u64(p + 16);
    decisions *r = decisions_create((size_t)get_u64(p), d);
    if (!r) {
        snprintf(err, err_len, "out of memory for a window of %llu decisions", (unsigned long long)get_u64(p));
        return NULL;
    }
    p += 24;
    uint64_t last = 0;
    for (uint64_t i = 0; i < count; i++) {
        if (end - p < 24)
            goto bad;
        decision_id id = { get_u32(p + 8), get_u64(p) };
        uint32_t rewarded = get_u32(p + 12);
        uint64_t user = get_u64(p + 16);
        p += 24;
        if (id.seq <= last || rewarded > 1 || (!rewarded && (size_t)(end - p) < 8 * d))
            goto bad;
        last = id.seq;
        size_t s = (size_t)(id.seq % r->W);
        r->seq[s] = id.seq;
        r->gen[s] = id.gen;
        r->rewarded[s] = (unsigned char)rewarded;
        r->user[s] = user;
        if (!rewarded)
            for (size_t j = 0; j < d; j++, p += 8)
                r->x[s * d + j] = get_f64(p);
    }
    if (p != end)
        goto bad;
    return r;
bad:
    decisions_free(r);
    snprintf(err, err_len, "snapshot: block serve.decisions is malformed");
    return NULL;
}
