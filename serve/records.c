/* records.c - encoding and decoding of the log's record payloads
 * (records.h), little-endian (bytes.h). */
#include "records.h"

#include <string.h>

#include "bytes.h"
#include "colb/limits.h"

/* START: u32 gen, u32 0, u64 window, u64 unix_ms */
size_t rec_start_size(void) { return 24; }

void rec_start_put(unsigned char *p, const rec_start *r)
{
    put_u32(p, r->gen);
    put_u32(p + 4, 0);
    put_u64(p + 8, r->window);
    put_u64(p + 16, r->unix_ms);
}

int rec_start_get(const unsigned char *p, size_t len, rec_start *r)
{
    if (len != 24 || get_u32(p + 4) != 0)
        return -1;
    r->gen = get_u32(p);
    r->window = get_u64(p + 8);
    r->unix_ms = get_u64(p + 16);
    return r->window ? 0 : -1;
}

/* USERS: u64 first_slot, u64 n, then n x (u32 length, bytes) */
size_t rec_users_size(size_t n, size_t id_bytes) { return 16 + 4 * n + id_bytes; }

unsigned char *rec_users_put(unsigned char *p, uint64_t first_slot, size_t n)
{
    put_u64(p, first_slot);
    put_u64(p + 8, n);
    return p + 16;
}

unsigned char *rec_users_put_id(unsigned char *p, const char *id, size_t len)
{
    put_u32(p, (uint32_t)len);
    memcpy(p + 4, id, len);
    return p + 4 + len;
}

int rec_users_get(const unsigned char *p, size_t len, rec_users *r)
{
    if (len < 16)
        return -1;
    r->first_slot = get_u64(p);
    uint64_t n = get_u64(p + 8);
    if (n == 0 || n > (len - 16) / 5)
        return -1;
    const unsigned char *q = p + 16, *end = p + len;
    for (uint64_t i = 0; i < n; i++) {
        if (end - q < 4)
            return -1;
        uint32_t l = get_u32(q);
        if (l == 0 || (size_t)(end - q - 4) < l || memchr(q + 4, '\0', l))
            return -1;
        q += 4 + l;
    }
    if (q != end)
        return -1;
    r->n = (size_t)n;
    r->ids = p + 16;
    return 0;
}

const char *rec_users_id(const rec_users *r, size_t *pos, size_t *len)
{
    const unsigned char *q = r->ids + *pos;
    *len = get_u32(q);
    *pos += 4 + *len;
    return (const char *)q + 4;
}

/* CHOOSE: u64 first seq, u32 gen, u32 K, u64 n, n x u64 slot,
 * n x u32 arm, 4 zero bytes when n is odd, K*d x f64 contexts */
size_t rec_choose_size(size_t n, size_t K, size_t d) { return 24 + 8 * n + 4 * n + 4 * (n & 1) + 8 * K * d; }

/* CHOOSE's and CHOSEN's header, slots and arms; returns where the contexts go */
static unsigned char *choose_head(unsigned char *p, decision_id first, size_t K, size_t n, const uint64_t *slots,
                                  const uint32_t *arms)
{
    put_u64(p, first.seq);
    put_u32(p + 8, first.gen);
    put_u32(p + 12, (uint32_t)K);
    put_u64(p + 16, n);
    p += 24;
    for (size_t i = 0; i < n; i++, p += 8)
        put_u64(p, slots[i]);
    for (size_t i = 0; i < n; i++, p += 4)
        put_u32(p, arms[i]);
    if (n & 1) {
        put_u32(p, 0);
        p += 4;
    }
    return p;
}

void rec_choose_put(unsigned char *p, decision_id first, size_t K, size_t d, const double *X, size_t n,
                    const uint64_t *slots, const uint32_t *arms)
{
    p = choose_head(p, first, K, n, slots, arms);
    for (size_t i = 0; i < K * d; i++, p += 8)
        put_f64(p, X[i]);
}

/* CHOSEN: CHOOSE's layout with n x d f64 contexts, user i's (the context of
 * its arm) in row i */
size_t rec_chosen_size(size_t n, size_t d) { return rec_choose_size(n, n, d); }

void rec_chosen_put(unsigned char *p, decision_id first, size_t K, size_t d, const double *X, size_t n,
                    const uint64_t *slots, const uint32_t *arms)
{
    p = choose_head(p, first, K, n, slots, arms);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++, p += 8)
            put_f64(p, X[arms[i] * d + j]);
}

static int choose_get(const unsigned char *p, size_t len, size_t d, int chosen, rec_choose *r)
{
    if (len < 24)
        return -1;
    r->first.seq = get_u64(p);
    r->first.gen = get_u32(p + 8);
    uint64_t K = get_u32(p + 12), n = get_u64(p + 16), rows = chosen ? n : K;
    if (K == 0 || n == 0 || n > len / 12 || rows * d > len / 8 || rec_choose_size((size_t)n, (size_t)rows, d) != len)
        return -1;
    r->K = (size_t)K;
    r->n = (size_t)n;
    r->d = d;
    r->chosen = chosen;
    r->slots = p + 24;
    r->arms = r->slots + 8 * n;
    r->X = r->arms + 4 * n + 4 * (n & 1);
    for (size_t i = 0; i < r->n; i++)
        if (rec_choose_arm(r, i) >= K)
            return -1;
    return get_f64s_within(r->X, (size_t)rows * d, COLB_CONTEXT_MAX) ? 0 : -1;
}

int rec_choose_get(const unsigned char *p, size_t len, size_t d, rec_choose *r) { return choose_get(p, len, d, 0, r); }
int rec_chosen_get(const unsigned char *p, size_t len, size_t d, rec_choose *r) { return choose_get(p, len, d, 1, r); }

uint64_t rec_choose_slot(const rec_choose *r, size_t i) { return get_u64(r->slots + 8 * i); }
uint32_t rec_choose_arm(const rec_choose *r, size_t i) { return get_u32(r->arms + 4 * i); }

void rec_choose_context(const rec_choose *r, size_t row, double *x)
{
    for (size_t j = 0; j < r->d; j++)
        x[j] = get_f64(r->X + 8 * (row * r->d + j));
}

void rec_choose_user_context(const rec_choose *r, size_t i, double *x)
{
    rec_choose_context(r, r->chosen ? i : rec_choose_arm(r, i), x);
}

size_t rec_choose_rows(const rec_choose *r) { return r->chosen ? r->n : r->K; }

void rec_choose_contexts(const rec_choose *r, double *X)
{
    for (size_t i = 0; i < rec_choose_rows(r) * r->d; i++)
        X[i] = get_f64(r->X + 8 * i);
}

/* REWARD: u64 n, then n x (u64 seq, u32 gen, u32 0, f64 reward) */
size_t rec_reward_size(size_t n) { return 8 + 24 * n; }

unsigned char *rec_reward_put(unsigned char *p, size_t n)
{
    put_u64(p, n);
    return p + 8;
}

unsigned char *rec_reward_put_item(unsigned char *p, decision_id id, double y)
{
    put_u64(p, id.seq);
    put_u32(p + 8, id.gen);
    put_u32(p + 12, 0);
    put_f64(p + 16, y);
    return p + 24;
}

int rec_reward_get(const unsigned char *p, size_t len, rec_reward *r)
{
    if (len < 8)
        return -1;
    uint64_t n = get_u64(p);
    if (n == 0 || n > (len - 8) / 24 || rec_reward_size((size_t)n) != len)
        return -1;
    r->n = (size_t)n;
    r->items = p + 8;
    return 0; /* a reward no request could send fails the policy's update, which fences the state as live */
}

void rec_reward_item(const rec_reward *r, size_t i, decision_id *id, double *y)
{
    const unsigned char *q = r->items + 24 * i;
    id->seq = get_u64(q);
    id->gen = get_u32(q + 8);
    *y = get_f64(q + 16);
}
