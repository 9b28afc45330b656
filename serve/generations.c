/* generations.c - the record of which generation made which decision
 * numbers (generations.h): the first number of each generation that made
 * decisions, and of the current one, in order; generation gen[i] made the
 * numbers first[i] to first[i + 1] - 1 (the last: up to the state's next
 * number - 1). Both columns rise strictly, except that the current
 * generation's first number may equal the state's next (none made yet). */
#include "generations.h"

#include <stdio.h>
#include <stdlib.h>

#include "bytes.h"

struct generations {
    size_t n, cap;
    uint32_t *gen;         /* n, rising */
    uint64_t *first;       /* n, rising */
    uint64_t before;       /* numbers below it: not recorded (0: none) ... */
    uint32_t before_gen;   /* ... made by generations 1 to before_gen */
};

generations *generations_create(void) { return calloc(1, sizeof(generations)); }

void generations_free(generations *g)
{
    if (!g)
        return;
    free(g->gen);
    free(g->first);
    free(g);
}

/* Room for n entries. 0, or -1 (out of memory). */
static int reserve(generations *g, size_t n)
{
    if (n <= g->cap)
        return 0;
    size_t cap = g->cap ? 2 * g->cap : 8;
    while (cap < n)
        cap *= 2;
    uint32_t *gen = realloc(g->gen, cap * sizeof *gen);
    if (!gen)
        return -1;
    g->gen = gen;
    uint64_t *first = realloc(g->first, cap * sizeof *first);
    if (!first)
        return -1;
    g->first = first;
    g->cap = cap;
    return 0;
}

int generations_start(generations *g, uint32_t gen, uint64_t next_seq)
{
    if (g->n && g->first[g->n - 1] == next_seq) { /* the last one made nothing: forget it */
        g->gen[g->n - 1] = gen;
        return 0;
    }
    if (reserve(g, g->n + 1))
        return -1;
    g->gen[g->n] = gen;
    g->first[g->n] = next_seq;
    g->n++;
    return 0;
}

int generations_made(const generations *g, decision_id id, uint64_t next_seq)
{
    if (id.gen == 0 || id.seq == 0 || id.seq >= next_seq)
        return GEN_NOT_MADE;
    if (id.seq < g->before)
        return id.gen <= g->before_gen ? GEN_UNRECORDED : GEN_NOT_MADE;
    size_t lo = 0, hi = g->n; /* the entry of id.gen, if any: in [lo, hi) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->gen[mid] < id.gen)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == g->n || g->gen[lo] != id.gen)
        return GEN_NOT_MADE;
    uint64_t end = lo + 1 < g->n ? g->first[lo + 1] : next_seq;
    return id.seq >= g->first[lo] && id.seq < end ? GEN_MADE : GEN_NOT_MADE;
}

int generations_unrecorded(generations *g, uint32_t gen, uint64_t next_seq)
{
    g->n = 0;
    g->before = g->before_gen = 0;
    if (gen == 0) /* a new state: nothing made */
        return 0;
    if (next_seq > 1) {
        g->before = next_seq;
        g->before_gen = gen;
    }
    return generations_start(g, gen, next_seq); /* what gen makes from here on is recorded */
}

/* Block layout: u64 before (0: every number recorded), u32 before_gen,
 * u32 0, u64 n, then n x (u32 generation, u32 0, u64 its first number). */
int generations_save(const generations *g, unsigned char **out, size_t *len)
{
    size_t bytes = 24 + 16 * g->n;
    unsigned char *b = calloc(1, bytes);
    if (!b)
        return -1;
    put_u64(b, g->before);
    put_u32(b + 8, g->before_gen);
    put_u64(b + 16, g->n);
    for (size_t i = 0; i < g->n; i++) {
        put_u32(b + 24 + 16 * i, g->gen[i]);
        put_u64(b + 24 + 16 * i + 8, g->first[i]);
    }
    *out = b;
    *len = bytes;
    return 0;
}

int generations_load(generations *g, const unsigned char *p, size_t n, uint32_t gen, uint64_t next_seq, char *err,
                     size_t err_len)
{
    uint64_t count = n >= 24 ? get_u64(p + 16) : 0;
    uint64_t before = n >= 24 ? get_u64(p) : 0;
    uint32_t before_gen = n >= 24 ? get_u32(p + 8) : 0;
    if (n < 24 || get_u32(p + 12) != 0 || count != (n - 24) / 16 || (n - 24) % 16 ||
        (before == 0) != (before_gen == 0) || before > next_seq || (count == 0) != (gen == 0))
        goto bad;
    for (uint64_t i = 0; i < count; i++) {
        const unsigned char *e = p + 24 + 16 * i;
        uint32_t gi = get_u32(e);
        uint64_t fi = get_u64(e + 8);
        /* rising; every generation but the last made decisions; the first
         * starts where the unrecorded numbers end, in a later generation */
        if (get_u32(e + 4) != 0 || gi == 0 || fi == 0 || fi > next_seq ||
            (i > 0 && (gi <= get_u32(e - 16) || fi <= get_u64(e - 8))) ||
            (i == 0 && before && (fi < before || gi < before_gen)) || (i + 1 == count && gi != gen))
            goto bad;
    }
    if (reserve(g, (size_t)count)) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        g->gen[i] = get_u32(p + 24 + 16 * i);
        g->first[i] = get_u64(p + 24 + 16 * i + 8);
    }
    g->n = (size_t)count;
    g->before = before;
    g->before_gen = before_gen;
    return 0;
bad:
    snprintf(err, err_len, "block serve.generations is malformed");
    return -1;
}
