/* memory.c - the default memory budget (colb/limits.h) and the check every
 * allocating entry point makes against a budget before it allocates. */
#define _GNU_SOURCE /* mremap */
#include "core/memory.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* A number of bytes from the first line of `path` ("max" or a count); 0 if
 * it cannot be read or is "max". */
static size_t read_limit(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[64];
    unsigned long long v = 0;
    if (fgets(line, sizeof line, f) && strncmp(line, "max", 3) != 0 && sscanf(line, "%llu", &v) != 1)
        v = 0;
    fclose(f);
    return (size_t)v;
}

/* MemAvailable of /proc/meminfo in bytes, or 0. */
static size_t mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f)
        return 0;
    char line[128];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            break;
    fclose(f);
    return (size_t)kb * 1024;
}

/* The least the default budget ever is: what fits it fits every default
 * budget, without reading /proc. */
#define BUDGET_FLOOR ((size_t)64 << 20)

size_t colb_memory_budget_default(void)
{
    size_t avail = mem_available();
    if (!avail) {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        avail = pages > 0 && size > 0 ? (size_t)pages * (size_t)size : (size_t)1 << 32;
    }
    size_t cg = read_limit("/sys/fs/cgroup/memory.max");
    if (cg && cg < avail)
        avail = cg;
    size_t budget = avail / 5 * 4;
    return budget < BUDGET_FLOOR ? BUDGET_FLOOR : budget;
}

size_t colb__budget(size_t max_memory)
{
    return max_memory ? max_memory : colb_memory_budget_default();
}

colb_status colb_memory_text(char *out, size_t len, double bytes)
{
    if (!out || !len)
        return COLB_EINVAL;
    out[0] = '\0'; /* what a refused size leaves: nothing that reads as one */
    if (!isfinite(bytes))
        return COLB_ENONFIN;
    if (bytes < 0)
        return COLB_ERANGE;
    static const char unit[] = " KMGT";
    int u = 0;
    if (bytes < 1024.0)
        bytes = round(bytes) + 0.0; /* whole bytes (1023.7 is 1K; + 0.0: -0 is 0) */
    while (bytes >= 1024.0 && u < 4) { /* T at most: the suffixes of a budget */
        bytes /= 1024.0;
        u++;
    }
    if (u)
        snprintf(out, len, "%.4g%c", bytes, unit[u]);
    else
        snprintf(out, len, "%.0f %s", bytes, bytes == 1.0 ? "byte" : "bytes");
    return COLB_OK;
}

colb_status colb__budget_range(size_t max_memory, const char *what, char *msg, size_t msg_len)
{
    if ((double)max_memory <= COLB_MEMORY_MAX)
        return COLB_OK;
    return colb__say(msg, msg_len, COLB_ERANGE, "%s: max_memory = %zu bytes is more than 1024T (2^50 bytes, "
                     "COLB_MEMORY_MAX), beyond any machine's memory", what, max_memory);
}

colb_status colb__budget_check(double need, size_t max_memory, const char *what, char *msg,
                               size_t msg_len)
{
    colb_status st = colb__budget_range(max_memory, what, msg, msg_len);
    if (st != COLB_OK)
        return st;
    /* below the default's floor: no /proc/meminfo read (~10 us, the most
     * of a job of a few rounds, which checks its policy and environment) */
    if (!max_memory && need <= (double)BUDGET_FLOOR)
        return COLB_OK;
    size_t budget = colb__budget(max_memory);
    if (need <= (double)budget)
        return COLB_OK;
    char a[32], b[32];
    colb_memory_text(a, sizeof a, need);
    colb_memory_text(b, sizeof b, (double)budget);
    return colb__say(msg, msg_len, COLB_ENOMEM, "%s needs about %s of memory, more than the budget of %s%s",
                     what, a, b, max_memory ? "" : " (80% of the available memory)");
}

void colb__advise_huge(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t page = 4096;
    if (!p || bytes < ((size_t)8 << 20))
        return;
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), e = ((uintptr_t)p + bytes) & ~(page - 1);
    (void)madvise((void *)a, e - a, MADV_HUGEPAGE); /* the whole pages inside the array */
#else
    (void)p;
    (void)bytes;
#endif
}

/* The smallest reservation of colb__grow_bytes, and the size from which
 * an array leaves malloc for one (a smaller array is cheap to move: at
 * most 256 pages). */
#define GROW_RESERVE_MIN ((size_t)256 << 20)
#ifdef MREMAP_MAYMOVE
#define GROW_MAPPED_MIN ((size_t)1 << 20)
#else
#define GROW_MAPPED_MIN ((size_t)-1) /* no mremap (not Linux): realloc throughout */
#endif

static size_t page_up(size_t bytes)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    return bytes > (size_t)-1 - page ? 0 : (bytes + page - 1) / page * page;
}

/* p's mapping of `reserved` bytes grown to `bytes` (moved if need be;
 * its first `used` bytes kept), or a new one when reserved is 0;
 * MAP_FAILED if not possible. */
static void *map_more(void *p, size_t reserved, size_t used, size_t bytes)
{
#ifdef MREMAP_MAYMOVE
    if (reserved) {
        void *q = mremap(p, reserved, bytes, MREMAP_MAYMOVE);
        if (q != MAP_FAILED || errno != EFAULT)
            return q;
        /* the mapping is no longer one area (a madvise on part of it,
         * e.g. colb__advise_huge, split it): a new one and a copy */
    }
    void *q = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (q != MAP_FAILED && reserved) {
        memcpy(q, p, used);
        munmap(p, reserved);
    }
    return q;
#else
    (void)p;
    (void)reserved;
    (void)used;
    (void)bytes;
    return MAP_FAILED;
#endif
}

int colb__grow_bytes(void *pp, size_t *reserved, size_t used, size_t bytes)
{
    void *p;
    memcpy(&p, pp, sizeof p); /* pp is a T **, not a void ** */
    if (*reserved && bytes <= *reserved)
        return 0;
    if (!*reserved && bytes < GROW_MAPPED_MIN) {
        void *q = realloc(p, bytes ? bytes : 1);
        if (!q)
            return -1;
        memcpy(pp, &q, sizeof q);
        return 0;
    }
    size_t exact = page_up(bytes ? bytes : 1), want = bytes <= (size_t)-1 / 8 ? page_up(4 * bytes) : exact;
    if (want < GROW_RESERVE_MIN)
        want = GROW_RESERVE_MIN;
    /* a process limited in address space (ulimit -v) spends none on room
     * to grow: the exact size, moved at each growth as realloc would */
    struct rlimit as;
    if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
        want = exact;
    if (!exact) /* want is exact or larger */
        return -1;
    /* the generous size first, then the exact one (strict overcommit
     * counts MAP_NORESERVE mappings too) */
    void *q = map_more(p, *reserved, used, want);
    if (q == MAP_FAILED && want != exact)
        q = map_more(p, *reserved, used, want = exact);
    if (q == MAP_FAILED)
        return -1;
    if (!*reserved) {
        if (used)
            memcpy(q, p, used);
        free(p);
    }
    memcpy(pp, &q, sizeof q);
    *reserved = want; /* the size that was mapped */
    return 0;
}

void colb__grow_free(void *p, size_t reserved)
{
    if (reserved)
        munmap(p, reserved);
    else
        free(p);
}
