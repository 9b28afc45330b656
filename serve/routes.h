/* routes.h - the HTTP API of `colb serve` (docs/serve.md): which route a
 * method and path name, and what each route does with a request: parse and
 * check it (codec.h) into a job for the writer (engine.h), or answer at
 * once; and the answer of a finished job. Independent of the HTTP library
 * (http.c carries the bytes). */
#ifndef COLB_SERVE_ROUTES_H
#define COLB_SERVE_ROUTES_H

#include <stddef.h>

#include "codec.h"
#include "engine.h"
#include "metrics.h"

typedef struct answer {
    unsigned status;
    char *body;               /* malloc'd; NULL: none */
    size_t len;
    const char *content_type; /* static */
    const char *allow;        /* 405: the methods allowed */
    int retry_after;          /* seconds (503), 0: none */
} answer;

typedef struct routes_ctx {
    engine *e;
    metrics *m;
    codec_limits lim;
    const char *token;        /* bearer token, or NULL */
} routes_ctx;

/* The route of a path (the user id of /v1/users/ID in *arg, pointing into
 * path); R_OTHER when none. */
route_id routes_match(const char *path, const char **arg);

/* 1 if route r takes method (else a 405 with routes_allow(r)). */
int routes_method_ok(route_id r, const char *method);
const char *routes_allow(route_id r);

/* 1 if route r needs the bearer token (all but /healthz). */
int routes_needs_token(route_id r);

/* 1 if the Authorization header value matches the token (in constant time). */
int routes_token_ok(const routes_ctx *c, const char *authorization);

/* A request on route r whose body (len bytes) has arrived: either fill
 * *ans (return 0), or fill job j - its memory in arena a - for the writer
 * (return 1: submit it with engine_submit; the answer comes from
 * routes_finish once j->done is called). */
int routes_prepare(const routes_ctx *c, route_id r, const char *arg, const char *body, size_t len, arena *a,
                   job *j, answer *ans);

/* The answer of a finished job. */
void routes_finish(route_id r, const job *j, answer *ans);

/* /healthz's answer when the service takes no writes: 503
 * {"status":"unavailable","reason": why}. */
void routes_unavailable(answer *ans, const char *why);

/* An error answer {"error", "code"}. */
void routes_error(answer *ans, unsigned status, const char *code, const char *msg);

#endif
