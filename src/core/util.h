/* util.h - small internal helpers shared by the library's files: error
 * messages, finiteness checks, allocation. Internal: colb__ prefix. */
#ifndef COLB_UTIL_H
#define COLB_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "colb/status.h"

#define COLB__ERRLEN 256

#if defined(__GNUC__)
#define COLB__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define COLB__PRINTF(a, b)
#endif

/* Write a formatted message into `buf` (COLB__ERRLEN bytes) and return `s`,
 * so that error paths read `return colb__err(h->err, COLB_ERANGE, "...")`. */
static inline COLB__PRINTF(3, 4) colb_status colb__err(char *buf, colb_status s, const char *fmt, ...)
{
    if (buf) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, COLB__ERRLEN, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* Write a formatted reason into msg (len bytes; msg may be NULL) and return
 * `s`: the error path of calls that report through a caller's buffer. */
static inline COLB__PRINTF(4, 5) colb_status colb__say(char *msg, size_t len, colb_status s,
                                                       const char *fmt, ...)
{
    if (msg && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, len, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* v as the shortest %.Ng (N in 1..17) that reads back as v, in out (32
 * bytes or more); returns out. For messages that set a value beside its
 * bound: %g printed 1e6 (1 + 1e-12) as "1e+06, beyond +-1e+06". */
static inline char *colb__num(char *out, double v)
{
    if (fabs(v) < 1e5 && v == (double)(long)v && !(v == 0.0 && signbit(v))) { /* 50, not %.1g's 5e+01 (fabs first: (long) of NaN is undefined; -0 keeps its sign) */
        snprintf(out, 32, "%ld", (long)v);
        return out;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return out;
}

/* 1 when all n values are finite. */
static inline int colb__finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* The largest |entry| of an estimate that is not a numerical failure:
 * within colb/limits.h's ranges ||theta|| stays below 1e61 in exact
 * arithmetic, so an entry beyond this bound is rounding gone wrong, a
 * state as unusable as a NaN (policy.c, guard). */
#define COLB__THETA_MAX 1e64

/* 1 when all n values are within [-COLB__THETA_MAX, COLB__THETA_MAX]
 * (NaN is not). */
static inline int colb__theta_sane(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(x[i]) <= COLB__THETA_MAX))
            return 0;
    return 1;
}

/* Overflow-checked calloc of n*size bytes (NULL on overflow or failure). */
static inline void *colb__calloc(size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

/* Overflow-checked malloc of n*size bytes. */
static inline void *colb__malloc(size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return NULL;
    return malloc(n && size ? n * size : 1);
}

/* Overflow-checked realloc of the array *pp to n elements of size bytes;
 * 0 on success, -1 (and *pp unchanged) on failure. */
static inline int colb__realloc_n(void *pp, size_t n, size_t size)
{
    void *old, *q; /* memcpy: pp is a T **, not a void ** */
    if (size && n > (size_t)-1 / size)
        return -1;
    memcpy(&old, pp, sizeof old);
    q = realloc(old, n && size ? n * size : 1);
    if (!q)
        return -1;
    memcpy(pp, &q, sizeof q);
    return 0;
}

/* Index of the largest of v[0..n) (ties to the lowest index; NaN never wins). */
static inline size_t colb__argmax(const double *v, size_t n)
{
    size_t best = 0;
    for (size_t k = 1; k < n; k++)
        if (v[k] > v[best])
            best = k;
    return best;
}

/* Seconds of the monotonic clock (job and phase timings). */
static inline double colb__now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Ask for every cache line of the n bytes at a (a hint; no effect on any
 * value), for writing when write is nonzero: what a later step will read
 * out of the caches, fetched while the current one computes. */
static inline void colb__prefetch(const void *a, size_t n, int write)
{
    uintptr_t p = (uintptr_t)a, end = p + n;
    for (p &= ~(uintptr_t)63; p < end; p += 64) {
        if (write)
            __builtin_prefetch((const void *)p, 1, 3);
        else
            __builtin_prefetch((const void *)p, 0, 3);
    }
}

/* Index of the lowest set bit of x != 0, and the number of set bits. */
static inline unsigned colb__ctz64(uint64_t x)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned k = 0;
    while (!(x & 1u)) {
        x >>= 1;
        k++;
    }
    return k;
#endif
}

static inline unsigned colb__popcount64(uint64_t x)
{
#if defined(__GNUC__)
    return (unsigned)__builtin_popcountll(x);
#else
    unsigned k = 0;
    for (; x; x &= x - 1)
        k++;
    return k;
#endif
}

/* One step of SplitMix64 (Steele, Lea, Flood 2014) on state *x (rng.c). */
uint64_t colb__splitmix64(uint64_t *x);

#endif
