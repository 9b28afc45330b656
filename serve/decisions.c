/* decisions.c - the window of decisions (decisions.h): slot s = sequence
 * number mod W, in chunks of DECISIONS_CHUNK slots, each one allocation
 * (zero pages mapped on demand, so the pages of a large window cost memory
 * only once decisions reach them) with a reference count: 1 while only the
 * window holds it, more while snapshot captures hold it too. The writer
 * changes a chunk only while it holds it alone, copying it first
 * otherwise; a capture only reads, and drops its references when saved. So
 * the writer never waits for a snapshot and a capture never sees a change
 * (no locks; the counts' acquire/release order the capture's reads before
 * the writer's next write to a chunk it got back).
 *
 * Chunks are slots of one private anonymous mapping, the window's slab,
 * in transparent huge pages where the kernel allows them (MADV_HUGEPAGE)
 * and left out of fork()ed children (MADV_DONTFORK: a snapshot's fork
 * costs the policy's memory, not the window's; the server serialises a
 * capture's window itself and hands it to the child, serve/snapshotter.c).
 * Huge pages, because on a guest like this one (docs/performance.md, "The
 * machine") the kernel's DAMON daemon walks the page tables of sampled
 * pages: with the window in 4 kB pages it took 50-100 ms of CPU every half
 * second under a choose/batch load at W = 4e6, and stalled requests as
 * long; in huge pages a third as much (performance-history.md, phase 42).
 * The slab has room for half as many chunks again, the copies the writer
 * makes of chunks a capture holds; a freed slot is kept for the next copy
 * (freed memory is faulted in again at a cost here). Beyond that, or
 * when the mapping cannot be made, a chunk is a mapping of its own, or an
 * ordinary allocation. */
#define _GNU_SOURCE /* MAP_ANONYMOUS */
#include "decisions.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bytes.h"
#include "colb/limits.h"

typedef struct slab slab;

typedef struct chunk {
    atomic_size_t refs;
    size_t bytes;          /* the allocation's, header included */
    slab *a;               /* its slab (a slot of it), or NULL: */
    int mapped;            /* 1: mmap'd on its own, 0: calloc'd */
    size_t n;              /* slots */
    uint64_t *seq;         /* n: the decision in the slot, 0 for none */
    uint64_t *user;        /* n */
    double *x;             /* n x d */
    uint32_t *gen;         /* n */
} chunk;

/* Words of a chunk's pass bits (a bit a slot). */
#define PASS_WORDS (DECISIONS_CHUNK / 64)

struct decisions {
    size_t W, d, nc;
    chunk **ch;            /* nc */
    /* What a capture needs (decisions_capture's below): per chunk, a lower
     * bound of the numbers its slots hold (lo, 0: none known), set when a
     * pass of puts has covered every slot of the chunk - then each holds a
     * number at least the pass's first (pass_first), since puts come in
     * increasing order and a slot's number only grows. pass_count slots of
     * the pass are put so far, pass_bits says which. A put out of order
     * (not seen: the writer numbers decisions in order) sets unordered,
     * and captures take every chunk from then on. */
    uint64_t *lo, *pass_first, *pass_bits;
    uint32_t *pass_count;
    uint64_t last_put;
    int unordered;
    slab *slab;            /* the chunks' (NULL: each its own) */
    uint64_t *rewarded;    /* W bits */
    uint64_t *spare;       /* W bits for the first capture's copy (NULL once taken),
                            * written at creation so that its pages are in place: a new
                            * one cost the first snapshot's pause 3.5 ms at W = 4e6, a
                            * page fault a page on this guest (the next captures reuse
                            * what the last one freed) */
};

struct decisions_image {
    size_t W, d, nc;
    uint64_t below;        /* the capture holds the decisions numbered below this */
    chunk **ch;            /* nc references; NULL for a chunk without such a decision */
    uint64_t *rewarded;    /* a copy of the window's flags */
};

/* The window's slab (see above): slots of slot_bytes, handed out from
 * `next` on, then from the freed ones. refs: the window's one, and one a
 * slot in use. */
struct slab {
    atomic_size_t refs;
    void *map;             /* the mapping: map_bytes */
    size_t map_bytes;
    unsigned char *slots;  /* 2 MB aligned within it */
    size_t slot_bytes, n_slots, next;
    size_t *freed, n_freed; /* n_slots */
    pthread_mutex_t mu;    /* next, freed: the writer takes, a capture's thread gives back */
};

#define HUGE_PAGE ((size_t)2 << 20)

static slab *slab_new(size_t n_slots, size_t slot_bytes)
{
    slab *a = n_slots <= (SIZE_MAX - HUGE_PAGE) / slot_bytes ? calloc(1, sizeof *a) : NULL;
    if (!a || !(a->freed = malloc(n_slots * sizeof *a->freed))) {
        free(a);
        return NULL;
    }
    a->map_bytes = n_slots * slot_bytes + HUGE_PAGE;
    a->map = mmap(NULL, a->map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (a->map == MAP_FAILED) {
        free(a->freed);
        free(a);
        return NULL;
    }
    /* either may fail (huge pages turned off, an old kernel): the slab
     * works without, at the costs above */
    madvise(a->map, a->map_bytes, MADV_DONTFORK);
#ifdef MADV_HUGEPAGE
    madvise(a->map, a->map_bytes, MADV_HUGEPAGE);
#endif
    a->slots = (unsigned char *)(((uintptr_t)a->map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    a->slot_bytes = slot_bytes;
    a->n_slots = n_slots;
    pthread_mutex_init(&a->mu, NULL);
    atomic_init(&a->refs, 1);
    return a;
}

static void slab_unref(slab *a)
{
    if (a && atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1) {
        munmap(a->map, a->map_bytes);
        pthread_mutex_destroy(&a->mu);
        free(a->freed);
        free(a);
    }
}

/* A slot of a (its contents as it was left: zero when never used), or
 * NULL when all are in use. */
static void *slab_take(slab *a)
{
    void *p = NULL;
    pthread_mutex_lock(&a->mu);
    if (a->n_freed)
        p = a->slots + a->freed[--a->n_freed] * a->slot_bytes;
    else if (a->next < a->n_slots)
        p = a->slots + a->next++ * a->slot_bytes;
    pthread_mutex_unlock(&a->mu);
    if (p)
        atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
    return p;
}

static void slab_give(slab *a, void *p)
{
    pthread_mutex_lock(&a->mu);
    a->freed[a->n_freed++] = (size_t)((unsigned char *)p - a->slots) / a->slot_bytes;
    pthread_mutex_unlock(&a->mu);
    slab_unref(a);
}

static size_t chunk_bytes(size_t n, size_t d) { return sizeof(chunk) + n * (8 + 8 + 8 * d + 4); }

static void chunk_layout(chunk *k, size_t n, size_t d)
{
    k->n = n;
    k->seq = (uint64_t *)(k + 1);
    k->user = k->seq + n;
    k->x = (double *)(k->user + n);
    k->gen = (uint32_t *)(k->x + n * d);
}

/* A chunk of n slots, from slab a when it has room (a slot never used
 * is zero; a chunk made for a copy is written over whole), else one of
 * its own, zeroed; NULL when out of memory. */
static chunk *chunk_new(slab *a, size_t n, size_t d)
{
    size_t bytes = chunk_bytes(n, d);
    chunk *k = a ? slab_take(a) : NULL;
    int mapped = 1;
    if (!k) {
        a = NULL;
        k = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (k != MAP_FAILED) {
            madvise(k, bytes, MADV_DONTFORK);
        } else {
            mapped = 0;
            if (!(k = calloc(1, bytes)))
                return NULL;
        }
    }
    k->bytes = bytes;
    k->a = a;
    k->mapped = mapped;
    chunk_layout(k, n, d);
    atomic_init(&k->refs, 1);
    return k;
}

static void chunk_drop(chunk *k)
{
    if (k && atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1) {
        if (k->a)
            slab_give(k->a, k);
        else if (k->mapped)
            munmap(k, k->bytes);
        else
            free(k);
    }
}

/* Chunk c of r, held by r alone (copied first when a capture shares it;
 * without the memory for a copy, wait for the captures to let go). */
static chunk *writable(decisions *r, size_t c)
{
    chunk *k = r->ch[c];
    while (atomic_load_explicit(&k->refs, memory_order_acquire) > 1) {
        chunk *own = chunk_new(r->slab, k->n, r->d);
        if (own) {
            memcpy(own + 1, k + 1, chunk_bytes(k->n, r->d) - sizeof *k);
            chunk_drop(k);
            return r->ch[c] = own;
        }
        sched_yield();
    }
    return k;
}

decisions *decisions_create(size_t window, size_t d)
{
    decisions *r = calloc(1, sizeof *r);
    if (!r || window == 0 || d == 0 || window > SIZE_MAX / 8 / d / 2) {
        free(r);
        return NULL;
    }
    r->W = window;
    r->d = d;
    r->nc = (window + DECISIONS_CHUNK - 1) / DECISIONS_CHUNK;
    size_t words = (window + 63) / 64;
    r->ch = calloc(r->nc, sizeof *r->ch);
    r->rewarded = calloc(words, sizeof *r->rewarded);
    r->spare = malloc(words * sizeof *r->spare);
    r->lo = calloc(r->nc, sizeof *r->lo);
    r->pass_first = calloc(r->nc, sizeof *r->pass_first);
    r->pass_bits = calloc(r->nc * PASS_WORDS, sizeof *r->pass_bits);
    r->pass_count = calloc(r->nc, sizeof *r->pass_count);
    if (!r->ch || !r->rewarded || !r->spare || !r->lo || !r->pass_first || !r->pass_bits || !r->pass_count) {
        decisions_free(r);
        return NULL;
    }
    memcpy(r->spare, r->rewarded, words * sizeof *r->spare);
    r->slab = slab_new(r->nc + r->nc / 2 + 1, chunk_bytes(DECISIONS_CHUNK, d));
    for (size_t c = 0; c < r->nc; c++) {
        size_t n = c + 1 < r->nc ? DECISIONS_CHUNK : window - c * DECISIONS_CHUNK;
        if (!(r->ch[c] = chunk_new(r->slab, n, d))) {
            decisions_free(r);
            return NULL;
        }
    }
    return r;
}

void decisions_free(decisions *r)
{
    if (!r)
        return;
    for (size_t c = 0; r->ch && c < r->nc; c++)
        chunk_drop(r->ch[c]);
    slab_unref(r->slab); /* the captures still holding chunks hold it too */
    free(r->ch);
    free(r->rewarded);
    free(r->spare);
    free(r->lo);
    free(r->pass_first);
    free(r->pass_bits);
    free(r->pass_count);
    free(r);
}

size_t decisions_window(const decisions *r) { return r->W; }

static int bit(const uint64_t *b, size_t s) { return (int)(b[s / 64] >> (s % 64) & 1); }

static void set_bit(uint64_t *b, size_t s, int v)
{
    uint64_t m = (uint64_t)1 << (s % 64);
    b[s / 64] = v ? b[s / 64] | m : b[s / 64] & ~m;
}

/* A put of number seq into slot o of chunk c, for the chunk's lower bound
 * (struct decisions). */
static void count_pass(decisions *r, size_t c, size_t o, uint64_t seq)
{
    if (seq <= r->last_put)
        r->unordered = 1;
    r->last_put = seq;
    uint64_t *bits = r->pass_bits + c * PASS_WORDS, m = (uint64_t)1 << (o % 64);
    if (!r->pass_first[c])
        r->pass_first[c] = seq;
    if (bits[o / 64] & m)
        return;
    bits[o / 64] |= m;
    if (++r->pass_count[c] == r->ch[c]->n) { /* every slot holds this pass's numbers or later */
        r->lo[c] = r->pass_first[c];
        r->pass_first[c] = 0;
        r->pass_count[c] = 0;
        memset(bits, 0, PASS_WORDS * sizeof *bits);
    }
}

void decisions_put(decisions *r, decision_id id, uint64_t user, const double *x)
{
    size_t s = (size_t)(id.seq % r->W), o = s % DECISIONS_CHUNK;
    count_pass(r, s / DECISIONS_CHUNK, o, id.seq);
    chunk *k = writable(r, s / DECISIONS_CHUNK);
    k->seq[o] = id.seq;
    k->gen[o] = id.gen;
    k->user[o] = user;
    memcpy(k->x + o * r->d, x, r->d * sizeof(double));
    set_bit(r->rewarded, s, 0);
}

dec_status decisions_find(const decisions *r, decision_id id, uint64_t *user, const double **x)
{
    size_t s = (size_t)(id.seq % r->W), o = s % DECISIONS_CHUNK;
    const chunk *k = r->ch[s / DECISIONS_CHUNK];
    if (k->seq[o] != id.seq || k->gen[o] != id.gen)
        return DEC_UNKNOWN;
    if (bit(r->rewarded, s))
        return DEC_REWARDED;
    *user = k->user[o];
    *x = k->x + o * r->d;
    return DEC_PENDING;
}

int decisions_passed(const decisions *r, uint64_t seq, uint64_t next_seq)
{
    size_t s = (size_t)(seq % r->W), o = s % DECISIONS_CHUNK;
    return seq < next_seq && next_seq - seq > r->W && r->ch[s / DECISIONS_CHUNK]->seq[o] > seq;
}

void decisions_mark_rewarded(decisions *r, decision_id id)
{
    size_t s = (size_t)(id.seq % r->W), o = s % DECISIONS_CHUNK;
    const chunk *k = r->ch[s / DECISIONS_CHUNK];
    if (k->seq[o] == id.seq && k->gen[o] == id.gen)
        set_bit(r->rewarded, s, 1);
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
        size_t s = (size_t)(q % r->W), o = s % DECISIONS_CHUNK;
        const chunk *k = r->ch[s / DECISIONS_CHUNK];
        if (k->seq[o] != q)
            continue;
        decision_id id = { k->gen[o], q };
        decisions_put(n, id, k->user[o], k->x + o * r->d);
        set_bit(n->rewarded, (size_t)(q % window), bit(r->rewarded, s));
    }
    decisions_free(r);
    return n;
}

decisions_image *decisions_capture(decisions *r, uint64_t below)
{
    decisions_image *im = calloc(1, sizeof *im);
    size_t words = (r->W + 63) / 64;
    if (!im || !(im->ch = malloc(r->nc * sizeof *im->ch)) ||
        !(im->rewarded = r->spare ? r->spare : malloc(words * sizeof *im->rewarded))) {
        if (im)
            free(im->ch);
        free(im);
        return NULL;
    }
    r->spare = NULL; /* the image's now */
    im->W = r->W;
    im->d = r->d;
    im->nc = r->nc;
    im->below = below;
    memcpy(im->rewarded, r->rewarded, words * sizeof *im->rewarded);
    for (size_t c = 0; c < r->nc; c++) {
        if (!r->unordered && r->lo[c] >= below) { /* its decisions all numbered `below` or later: none saved */
            im->ch[c] = NULL;
            continue;
        }
        atomic_fetch_add_explicit(&r->ch[c]->refs, 1, memory_order_relaxed);
        im->ch[c] = r->ch[c];
    }
    return im;
}

const void *decisions_chunk_memory(const decisions *r, size_t c, size_t *bytes)
{
    *bytes = r->ch[c]->bytes;
    return r->ch[c];
}

size_t decisions_shared_chunks(const decisions *r)
{
    size_t n = 0;
    for (size_t c = 0; c < r->nc; c++)
        n += atomic_load_explicit(&r->ch[c]->refs, memory_order_acquire) > 1;
    return n;
}

void decisions_image_free(decisions_image *im)
{
    if (!im)
        return;
    for (size_t c = 0; c < im->nc; c++)
        if (im->ch[c])
            chunk_drop(im->ch[c]);
    free(im->ch);
    free(im->rewarded);
    free(im);
}

/* Block layout: u64 W, u64 d, u64 count, then count entries, oldest
 * first: u64 seq, u32 gen, u32 rewarded (0 or 1), u64 user, and d x f64
 * context when not rewarded. */
int decisions_image_save(const decisions_image *im, uint64_t below, unsigned char **out, size_t *len)
{
    if (below > im->below)
        return -1;
    size_t count = 0, bytes = 24;
    uint64_t newest = 0;
    for (size_t c = 0; c < im->nc; c++) {
        const chunk *k = im->ch[c];
        for (size_t o = 0; k && o < k->n; o++) {
            uint64_t q = k->seq[o];
            if (q && q < below) {
                count++;
                bytes += 24 + (bit(im->rewarded, c * DECISIONS_CHUNK + o) ? 0 : 8 * im->d);
                newest = q > newest ? q : newest;
            }
        }
    }
    unsigned char *b = malloc(bytes), *p = b;
    if (!b)
        return -1;
    put_u64(p, im->W);
    put_u64(p + 8, im->d);
    put_u64(p + 16, count);
    p += 24;
    /* in sequence order, starting after the newest slot */
    for (size_t i = 1; count && i <= im->W; i++) {
        size_t s = (size_t)((newest + i) % im->W), o = s % DECISIONS_CHUNK;
        const chunk *k = im->ch[s / DECISIONS_CHUNK];
        if (!k || !k->seq[o] || k->seq[o] >= below)
            continue;
        int rewarded = bit(im->rewarded, s);
        put_u64(p, k->seq[o]);
        put_u32(p + 8, k->gen[o]);
        put_u32(p + 12, (uint32_t)rewarded);
        put_u64(p + 16, k->user[o]);
        p += 24;
        if (!rewarded)
            for (size_t j = 0; j < im->d; j++, p += 8)
                put_f64(p, k->x[o * im->d + j]);
    }
    *out = b;
    *len = (size_t)(p - b);
    return 0;
}

decisions *decisions_load(const unsigned char *p, size_t n, size_t d, uint64_t users, size_t window,
                          uint64_t next_seq, size_t *stored, char *err, size_t err_len)
{
    const unsigned char *end = p + n;
    if (n < 24 || get_u64(p + 8) != d || get_u64(p) == 0 || get_u64(p) > DECISIONS_WINDOW_MAX ||
        get_u64(p + 16) > get_u64(p) || get_u64(p + 16) > (n - 24) / 24) {
        snprintf(err, err_len, "snapshot: block serve.decisions is malformed");
        return NULL;
    }
    uint64_t count = get_u64(p + 16), W = get_u64(p);
    if (stored)
        *stored = (size_t)W;
    /* a smaller window: the newest `window` decisions only, as
     * decisions_resize keeps them (the older ones are read and skipped) */
    uint64_t keep_from = 0;
    if (window > 0 && window < W) {
        W = window;
        keep_from = next_seq > W ? next_seq - W : 0;
    }
    decisions *r = decisions_create((size_t)W, d);
    if (!r) {
        snprintf(err, err_len, "out of memory for a window of %llu decisions", (unsigned long long)W);
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
        if (id.seq <= last || rewarded > 1 || user >= users || (!rewarded && (size_t)(end - p) < 8 * d))
            goto bad;
        last = id.seq;
        if (id.seq < keep_from) {
            p += rewarded ? 0 : 8 * d;
            continue;
        }
        size_t s = (size_t)(id.seq % r->W), o = s % DECISIONS_CHUNK;
        chunk *k = r->ch[s / DECISIONS_CHUNK];
        k->seq[o] = id.seq;
        k->gen[o] = id.gen;
        k->user[o] = user;
        set_bit(r->rewarded, s, (int)rewarded);
        if (!rewarded && !get_f64s_within(p, d, COLB_CONTEXT_MAX))
            goto bad;
        if (!rewarded)
            for (size_t j = 0; j < d; j++, p += 8)
                k->x[o * d + j] = get_f64(p);
    }
    if (p != end)
        goto bad;
    return r;
bad:
    decisions_free(r);
    snprintf(err, err_len, "snapshot: block serve.decisions is malformed");
    return NULL;
}

/* Block layout: u64 lsn, u64 seq_from, u64 bits_from, u64 next_seq, u32
 * gen, u32 zero, then the rewarded flags of decisions bits_from ..
 * next_seq - 1, 64 to a little-endian u64. */
int decisions_image_save_ref(const decisions_image *im, decisions_ref *ref, unsigned char **out, size_t *len)
{
    ref->bits_from = ref->next_seq - ref->seq_from > im->W ? ref->next_seq - im->W : ref->seq_from;
    size_t nb = (size_t)(ref->next_seq - ref->bits_from), words = (nb + 63) / 64;
    unsigned char *b = calloc(1, 40 + 8 * words);
    if (!b)
        return -1;
    put_u64(b, ref->lsn);
    put_u64(b + 8, ref->seq_from);
    put_u64(b + 16, ref->bits_from);
    put_u64(b + 24, ref->next_seq);
    put_u32(b + 32, ref->gen);
    for (size_t w = 0; w < words; w++) {
        uint64_t v = 0;
        for (size_t i = 64 * w; i < nb && i < 64 * w + 64; i++)
            v |= (uint64_t)bit(im->rewarded, (size_t)((ref->bits_from + i) % im->W)) << (i % 64);
        put_u64(b + 40 + 8 * w, v);
    }
    *out = b;
    *len = 40 + 8 * words;
    return 0;
}

int decisions_ref_load(const unsigned char *p, size_t n, size_t W, uint64_t next_seq, decisions_ref *ref,
                       uint64_t **bits, char *err, size_t err_len)
{
    *bits = NULL;
    if (n < 40)
        goto bad;
    ref->lsn = get_u64(p);
    ref->seq_from = get_u64(p + 8);
    ref->bits_from = get_u64(p + 16);
    ref->next_seq = get_u64(p + 24);
    ref->gen = get_u32(p + 32);
    uint64_t want = ref->next_seq - ref->seq_from > W ? ref->next_seq - W : ref->seq_from;
    if (ref->lsn == 0 || ref->seq_from == 0 || ref->seq_from > ref->next_seq || ref->next_seq != next_seq ||
        ref->bits_from != want || get_u32(p + 36) != 0)
        goto bad;
    size_t words = (size_t)((ref->next_seq - ref->bits_from + 63) / 64);
    if ((n - 40) / 8 != words || (n - 40) % 8)
        goto bad;
    if (!(*bits = malloc((words ? words : 1) * sizeof **bits))) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t w = 0; w < words; w++)
        (*bits)[w] = get_u64(p + 40 + 8 * w);
    return 0;
bad:
    snprintf(err, err_len, "snapshot: block serve.window_log is malformed");
    return -1;
}

void decisions_ref_mark(decisions *r, const decisions_ref *ref, const uint64_t *bits)
{
    for (uint64_t q = ref->bits_from; q < ref->next_seq; q++) {
        uint64_t i = q - ref->bits_from;
        if (bits[i / 64] >> (i % 64) & 1) {
            decision_id id = { ref->gen, q };
            decisions_mark_rewarded(r, id);
        }
    }
}
