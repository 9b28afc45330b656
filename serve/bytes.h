/* bytes.h - little-endian integers and doubles in byte buffers: the
 * encoding of every binary structure `colb serve` writes (log records, the
 * state's blocks in a snapshot; docs/serve.md), independent of the host's
 * byte order. */
#ifndef COLB_SERVE_BYTES_H
#define COLB_SERVE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void put_u64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8); /* the same bytes, in one store */
#else
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
#endif
}

static inline void put_f64(unsigned char *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(p, u);
}

static inline uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, p, 8);
#else
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
#endif
    return v;
}

static inline double get_f64(const unsigned char *p)
{
    uint64_t u = get_u64(p);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* 1 when the n f64 values at p are finite and within +-bound: what a
 * request could have sent. A record or block passes its checksum, so this
 * fails only for bytes written on purpose (or by a colb that wrote
 * garbage): a context read back into the window would fail the policy at
 * the reward that uses it, and again at every restart. */
static inline int get_f64s_within(const unsigned char *p, size_t n, double bound)
{
    for (size_t i = 0; i < n; i++) {
        double v = get_f64(p + 8 * i);
        if (!(v >= -bound && v <= bound)) /* NaN too */
            return 0;
    }
    return 1;
}

#endif
