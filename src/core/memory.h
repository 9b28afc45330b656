/* memory.h - memory estimates against a budget (internal; colb/limits.h).
 * Estimates are doubles so that products of sizes cannot wrap around. */
#ifndef COLB_MEMORY_H
#define COLB_MEMORY_H

#include <stddef.h>

#include "colb/limits.h"
#include "core/util.h"

/* max_memory, or the default budget when it is 0. */
size_t colb__budget(size_t max_memory);

/* COLB_OK when a budget given by the caller (max_memory; 0: the default)
 * is at most COLB_MEMORY_MAX, as every byte parameter of colb/params.h
 * is; else COLB_ERANGE with "WHAT: max_memory = N bytes is more than
 * 1024T ..." in msg. */
colb_status colb__budget_range(size_t max_memory, const char *what, char *msg, size_t msg_len);

/* COLB_OK when `need` bytes fit the budget, else COLB_ENOMEM with
 * "WHAT needs about X of memory, more than the budget of Y" in msg (and
 * COLB_ERANGE for a budget beyond COLB_MEMORY_MAX: colb__budget_range). */
colb_status colb__budget_check(double need, size_t max_memory, const char *what, char *msg,
                               size_t msg_len);

/* Ask the kernel to back the array p[0..bytes) with transparent huge pages
 * when it is large (8 MiB or more; else nothing). Why: the per-user banks
 * of 10^6 users hold a gigabyte that their reset touches first, one page
 * fault per 4 KiB page (300,000 at d = 15, half a run of 3 rounds on this
 * machine's paravirtualised guest), and each round scores every user
 * through one TLB entry per 4 KiB; with 2 MiB pages both shrink 512-fold
 * (docs/performance.md, "Memory per user"). Advisory only: no effect where
 * the system's THP setting is "never" (or already "always"), never an
 * error, no change to any result. */
void colb__advise_huge(void *p, size_t bytes);

/* Arrays that grow without moving: a service's per-user banks, grown as
 * users arrive. *pp is an array of `used` valid bytes, malloc's while
 * *reserved is 0, else *reserved bytes of address space that this call
 * mapped. Makes room for `bytes` (>= used), keeping the contents: below
 * 1 MiB by realloc; from there the array moves once into a mapping of
 * four times `bytes` and at least 256 MiB (MAP_NORESERVE: only the pages
 * written are backed), in which later growths take place without moving
 * it, and beyond which it moves again, into four times the size (in a
 * process limited in address space, RLIMIT_AS: the exact size, moved at
 * each growth as realloc moves it). 0, or -1 with *pp and *reserved
 * unchanged. Why: realloc moves a large array on nearly every growth, and
 * on a paravirtualised guest the first pass over moved 4 KiB pages costs
 * ~5 us a page (36 MB: 47 ms against 1.2 ms), which a service paid at its
 * first snapshot after its users arrived (docs/performance.md, "colb
 * serve"). */
int colb__grow_bytes(void *pp, size_t *reserved, size_t used, size_t bytes);

/* colb__grow_bytes for an array of elements of `size` bytes: used_n of
 * them valid, room for n; -1 also when n * size would wrap. */
static inline int colb__grow_n(void *pp, size_t *reserved, size_t used_n, size_t n, size_t size)
{
    if (size && n > (size_t)-1 / size)
        return -1;
    return colb__grow_bytes(pp, reserved, used_n * size, n * size);
}

/* Free an array of colb__grow_bytes (NULL harmless). */
void colb__grow_free(void *p, size_t reserved);

#endif
