/* users.c - user ids to slots (users.h): an open-addressing hash table
 * (XXH3-64 of the id, linear probing, at most half full) over ids stored
 * end to end in one growing text buffer. The hash is seeded at random per
 * table: ids come from clients, and with a known hash a client could pick
 * ids that share a probe run and make every lookup linear. Slots are
 * numbered in order of arrival, so the seed changes no state. */
#include "users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "bytes.h"

struct users {
    size_t n, cap;         /* slots used, allocated */
    uint64_t *off;         /* cap + 1: id i is text[off[i], off[i+1] - 1) (NUL after) */
    uint64_t *hash;        /* cap */
    uint64_t *decisions, *rewards;
    char *text;
    size_t text_len, text_cap;
    size_t *table;         /* tcap: slot + 1, 0 empty */
    size_t tcap;           /* power of two */
    uint64_t seed;         /* of the hash */
};

users *users_create(void)
{
    users *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    if (getrandom(&u->seed, sizeof u->seed, GRND_NONBLOCK) != (ssize_t)sizeof u->seed) {
        struct timespec ts; /* no entropy yet (early boot): still unknown to a client */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        u->seed = XXH3_64bits_withSeed(&ts, sizeof ts, (uint64_t)getpid() ^ (uint64_t)(uintptr_t)u);
    }
    u->off = calloc(1, sizeof *u->off);
    u->tcap = 64;
    u->table = calloc(u->tcap, sizeof *u->table);
    if (!u->off || !u->table) {
        users_free(u);
        return NULL;
    }
    return u;
}

void users_free(users *u)
{
    if (!u)
        return;
    free(u->off);
    free(u->hash);
    free(u->decisions);
    free(u->rewards);
    free(u->text);
    free(u->table);
    free(u);
}

size_t users_count(const users *u) { return u->n; }

static uint64_t hash_of(const users *u, const char *id, size_t len)
{
    return XXH3_64bits_withSeed(id, len, u->seed);
}

size_t users_find(const users *u, const char *id, size_t len)
{
    uint64_t h = hash_of(u, id, len);
    for (size_t i = (size_t)h & (u->tcap - 1);; i = (i + 1) & (u->tcap - 1)) {
        size_t s = u->table[i];
        if (!s)
            return USERS_NONE;
        s--;
        if (u->hash[s] == h && u->off[s + 1] - u->off[s] - 1 == len && !memcmp(u->text + u->off[s], id, len))
            return s;
    }
}

static void insert(users *u, size_t slot)
{
    size_t i = (size_t)u->hash[slot] & (u->tcap - 1);
    while (u->table[i])
        i = (i + 1) & (u->tcap - 1);
    u->table[i] = slot + 1;
}

static int rehash(users *u, size_t tcap)
{
    size_t *t = calloc(tcap, sizeof *t);
    if (!t)
        return -1;
    free(u->table);
    u->table = t;
    u->tcap = tcap;
    for (size_t s = 0; s < u->n; s++)
        insert(u, s);
    return 0;
}

static int grow_slots(users *u, size_t need)
{
    if (need <= u->cap)
        return 0;
    size_t cap = u->cap ? u->cap : 64;
    while (cap < need)
        cap *= 2;
    uint64_t *off = realloc(u->off, (cap + 1) * sizeof *off);
    if (off)
        u->off = off;
    uint64_t *h = realloc(u->hash, cap * sizeof *h);
    if (h)
        u->hash = h;
    uint64_t *d = realloc(u->decisions, cap * sizeof *d);
    if (d)
        u->decisions = d;
    uint64_t *r = realloc(u->rewards, cap * sizeof *r);
    if (r)
        u->rewards = r;
    if (!off || !h || !d || !r)
        return -1;
    u->cap = cap;
    return 0;
}

static int grow_text(users *u, size_t need)
{
    if (need <= u->text_cap)
        return 0;
    size_t cap = u->text_cap ? u->text_cap : 1024;
    while (cap < need)
        cap *= 2;
    char *t = realloc(u->text, cap);
    if (!t)
        return -1;
    u->text = t;
    u->text_cap = cap;
    return 0;
}

int users_add(users *u, const char *id, size_t len)
{
    if (grow_slots(u, u->n + 1) || grow_text(u, u->text_len + len + 1))
        return -1;
    if (2 * (u->n + 1) > u->tcap && rehash(u, 2 * u->tcap))
        return -1;
    size_t s = u->n;
    memcpy(u->text + u->text_len, id, len);
    u->text[u->text_len + len] = '\0';
    u->text_len += len + 1;
    u->off[s + 1] = u->text_len;
    u->hash[s] = hash_of(u, id, len);
    u->decisions[s] = u->rewards[s] = 0;
    u->n++;
    insert(u, s);
    return 0;
}

/* The table entries of slots n and above cleared in place (undoing needs
 * no memory). In linear probing an emptied cell breaks the probe chain of
 * any key placed after it; every key that stays has a smaller slot, so was
 * placed before those removed (rehash places the keys in slot order too),
 * and its chain never passed their cells. O(slots removed): it rebuilt the
 * whole table, O(users), which a client refused at --max-users cost the
 * writer on every new id. */
void users_truncate(users *u, size_t n)
{
    for (; u->n > n; u->n--) {
        size_t s = u->n - 1, i = (size_t)u->hash[s] & (u->tcap - 1);
        while (u->table[i] != s + 1)
            i = (i + 1) & (u->tcap - 1);
        u->table[i] = 0;
    }
    u->text_len = u->off[u->n];
}

const char *users_id(const users *u, size_t slot, size_t *len)
{
    if (len)
        *len = u->off[slot + 1] - u->off[slot] - 1;
    return u->text + u->off[slot];
}

void users_count_decision(users *u, size_t slot) { u->decisions[slot]++; }
void users_count_reward(users *u, size_t slot) { u->rewards[slot]++; }
uint64_t users_decisions(const users *u, size_t slot) { return u->decisions[slot]; }
uint64_t users_rewards(const users *u, size_t slot) { return u->rewards[slot]; }

/* Block layout: u64 n, then n x (u32 length, the id's bytes), then
 * n x u64 decisions, n x u64 rewards. */
int users_save(const users *u, unsigned char **out, size_t *len)
{
    size_t n = u->n, bytes = 8 + 4 * n + (u->text_len - n) + 16 * n;
    unsigned char *b = malloc(bytes ? bytes : 1), *p = b;
    if (!b)
        return -1;
    put_u64(p, n);
    p += 8;
    for (size_t s = 0; s < n; s++) {
        size_t l;
        const char *id = users_id(u, s, &l);
        put_u32(p, (uint32_t)l);
        memcpy(p + 4, id, l);
        p += 4 + l;
    }
    for (size_t s = 0; s < n; s++, p += 8)
        put_u64(p, u->decisions[s]);
    for (size_t s = 0; s < n; s++, p += 8)
        put_u64(p, u->rewards[s]);
    *out = b;
    *len = (size_t)(p - b);
    return 0;
}

int users_load(users *u, const unsigned char *p, size_t n, char *err, size_t err_len)
{
    const unsigned char *end = p + n;
    if (n < 8)
        goto bad;
    uint64_t count = get_u64(p);
    p += 8;
    if (count > (uint64_t)(end - p) / 20) /* each user takes at least 4 + 16 bytes */
        goto bad;
    users_truncate(u, 0);
    for (uint64_t s = 0; s < count; s++) {
        if (end - p < 4)
            goto bad;
        uint32_t l = get_u32(p);
        if (l == 0 || (uint64_t)(end - p - 4) < l || memchr(p + 4, '\0', l))
            goto bad;
        if (users_find(u, (const char *)p + 4, l) != USERS_NONE) {
            snprintf(err, err_len, "snapshot: block serve.users lists a user id twice");
            return -1;
        }
        if (users_add(u, (const char *)p + 4, l)) {
            snprintf(err, err_len, "out of memory loading %llu users", (unsigned long long)count);
            return -1;
        }
        p += 4 + l;
    }
    if ((uint64_t)(end - p) != 16 * count)
        goto bad;
    for (uint64_t s = 0; s < count; s++, p += 8)
        u->decisions[s] = get_u64(p);
    for (uint64_t s = 0; s < count; s++, p += 8)
        u->rewards[s] = get_u64(p);
    return 0;
bad:
    snprintf(err, err_len, "snapshot: block serve.users is malformed");
    return -1;
}
