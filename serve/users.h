/* users.h - the users `colb serve` knows: each application user id maps
 * to a slot, the policy's user index (slots are handed out in order of
 * first sight, 0, 1, 2, ...), with counts of its decisions and rewards.
 * Owned by the writer thread. */
#ifndef COLB_SERVE_USERS_H
#define COLB_SERVE_USERS_H

#include <stddef.h>
#include <stdint.h>

#define USERS_NONE ((size_t)-1)

typedef struct users users;

users *users_create(void);
void users_free(users *u);

size_t users_count(const users *u);

/* The slot of id (len bytes), or USERS_NONE. O(1) expected. */
size_t users_find(const users *u, const char *id, size_t len);

/* Give id (not known) the next slot. 0, or -1 when out of memory. */
int users_add(users *u, const char *id, size_t len);

/* Forget the users of slots n and above (undoes users_add). */
void users_truncate(users *u, size_t n);

/* The id of a slot (NUL-terminated, owned by u) and its length. */
const char *users_id(const users *u, size_t slot, size_t *len);

/* Per-user counts. */
void users_count_decision(users *u, size_t slot);
void users_count_reward(users *u, size_t slot);
uint64_t users_decisions(const users *u, size_t slot);
uint64_t users_rewards(const users *u, size_t slot);

/* The block "serve.users" of a snapshot (docs/serve.md): malloc'd bytes in
 * *out; 0 or -1 (out of memory). */
int users_save(const users *u, unsigned char **out, size_t *len);

/* Replace u's content with a saved block. 0, or -1 with err (malformed). */
int users_load(users *u, const unsigned char *p, size_t n, char *err, size_t err_len);

#endif
