/* memory.h - memory estimates against a budget (internal; colb/limits.h).
 * Estimates are doubles so that products of sizes cannot wrap around. */
#ifndef COLB_MEMORY_H
#define COLB_MEMORY_H

#include <stddef.h>

#include "colb/limits.h"
#include "core/util.h"

/* max_memory, or the default budget when it is 0. */
size_t colb__budget(size_t max_memory);

/* "1.5 GiB" */
void colb__bytes_text(char *out, size_t len, double bytes);

/* COLB_OK when `need` bytes fit the budget, else COLB_ENOMEM with
 * "WHAT needs about X of memory, more than the budget of Y" in msg. */
colb_status colb__budget_check(double need, size_t max_memory, const char *what, char *msg,
                               size_t msg_len);

#endif
