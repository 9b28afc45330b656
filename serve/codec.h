/* codec.h - the JSON of `colb serve`: request bodies parsed (with cJSON)
 * and checked into plain structs, and the answers written. Every check of
 * a request's shape and numbers happens here, before the writer sees it,
 * so that a request the writer applies cannot fail half-way. The request
 * shapes are specified in docs/serve.md. */
#ifndef COLB_SERVE_CODEC_H
#define COLB_SERVE_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* ---- memory of one request ----------------------------------------------- */

/* A bump allocator: everything parsed from one request lives in it and is
 * freed at once with the request. */
typedef struct arena_block arena_block;
typedef struct arena {
    arena_block *head;
    size_t bytes;            /* in its blocks */
} arena;

/* n bytes, 8-aligned; NULL when out of memory. */
void *arena_alloc(arena *a, size_t n);
void arena_free(arena *a);

/* ---- a growing text buffer ----------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;             /* an append failed: the text is incomplete */
} sbuf;

void sbuf_put(sbuf *b, const char *s, size_t n);
void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text (NUL-terminated, caller frees) and its length; NULL after an
 * allocation failure (the buffer is freed either way). */
char *sbuf_take(sbuf *b, size_t *len);

/* ---- requests ----------------------------------------------------------- */

typedef struct codec_limits {
    size_t dim;          /* d: every context has exactly d numbers */
    size_t max_contexts; /* K per round */
    size_t max_batch;    /* users, rounds or rewards per request */
    size_t max_id_bytes; /* user ids: 1 to this many bytes of UTF-8 */
} codec_limits;

/* One round: K contexts (K x d, row-major) shared by n_users users. */
typedef struct choose_round {
    size_t K;
    double *X;
    size_t n_users;
    const char **users;  /* NUL-terminated ids, in the arena */
    size_t *user_len;
} choose_round;

/* POST /v1/choose (one round, one user) or /v1/choose/batch: one round
 * whose users share the contexts ({"contexts", "users"}), or one round per
 * item ({"requests": [{"user", "contexts"}, ...]}). */
typedef struct choose_req {
    size_t n_rounds;
    choose_round *rounds;
    size_t n_decisions;  /* users over all rounds */
} choose_req;

/* A decision id, "GEN-SEQ": the server generation that made it and its
 * sequence number. */
typedef struct decision_id {
    uint32_t gen;
    uint64_t seq;
} decision_id;

typedef struct reward_item {
    decision_id id;
    double y;
} reward_item;

/* POST /v1/reward (one) or /v1/reward/batch ({"rewards": [...]}). */
typedef struct reward_req {
    size_t n;
    reward_item *items;
} reward_req;

/* Parse and check a body of len bytes (any bytes; need not be
 * NUL-terminated). Return 0, or -1 with a one-line reason in err (the 400
 * message) and nothing to free but the arena. */
int codec_parse_choose(const char *body, size_t len, int batch, const codec_limits *lim, arena *a,
                       choose_req *out, char *err, size_t err_len);
int codec_parse_reward(const char *body, size_t len, int batch, const codec_limits *lim, arena *a,
                       reward_req *out, char *err, size_t err_len);

/* "GEN-SEQ" (decimal, no sign, no leading zeros, GEN < 2^32, SEQ >= 1) of
 * n bytes; 0 or -1. */
int codec_parse_decision(const char *s, size_t n, decision_id *out);

/* A user id as the API accepts it (also a path segment of GET
 * /v1/users/ID): 1 to max bytes of UTF-8 without control characters.
 * 0, or -1 with a reason in err. */
int codec_check_user_id(const char *s, size_t n, size_t max, char *err, size_t err_len);

/* ---- answers ------------------------------------------------------------ */

/* "GEN-SEQ" with quotes, appended to b. */
void codec_put_decision(sbuf *b, decision_id id);

/* n answers {"decision": ids[i], "arm": arms[i]}, comma-separated,
 * appended to b. */
void codec_put_decisions(sbuf *b, const decision_id *ids, const uint32_t *arms, size_t n);

/* A JSON string (quoted, escaped), appended to b. */
void codec_put_string(sbuf *b, const char *s, size_t n);

/* A double that reads back exactly (%.17g; JSON has no NaN or Inf, which
 * are written as null). */
void codec_put_double(sbuf *b, double v);

/* {"error": msg, "code": code} (caller frees), its length in *len. */
char *codec_error(const char *code, const char *msg, size_t *len);

#endif
