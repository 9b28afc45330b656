/* http.c - the HTTP front on libmicrohttpd (http.h): its access handler
 * reads a request (headers first: route, method, token, Content-Length
 * are checked before any body byte is read), collects the body within
 * --max-body and --request-timeout, and then either answers - at once,
 * or after applying the request's job itself when the writer is idle
 * (engine_run) - or suspends the connection while the writer, or the
 * log's sync, works on the job; the job's completion resumes it. Every
 * answered request is counted in the metrics with its latency. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


#include "clock.h"
#include "mhd.h"
#include "reaper.h"

/* One HTTP thread of --http-loop epoll: a libmicrohttpd daemon in its
 * external epoll mode, on a dup of the shared listening socket, and the
 * thread that runs it (loop_main). */
typedef struct http_loop {
    http_server *h;
    struct MHD_Daemon *d;
    int wake;                     /* eventfd: a connection of d was resumed (wake_loop) */
    _Atomic int woken;            /* wake written since the loop last cleared it */
    MHD_socket quiesced;          /* d's listening socket after quiesce, closed at stop */
    pthread_t t;
    int running;                  /* t started */
} http_loop;

/* A client address's open connections (--max-connections-per-ip under
 * --http-loop epoll, where each daemon would count only its own). */
typedef struct ip_count {
    unsigned char addr[16];
    size_t len;                   /* 4 or 16 */
    size_t n;
} ip_count;

struct http_server {
    struct MHD_Daemon *d;         /* --http-loop poll: the daemon and its thread pool */
    http_loop *loops;             /* --http-loop epoll: one per HTTP thread */
    size_t n_loops;
    _Atomic int stop;             /* the loops' threads end */
    size_t per_ip;                /* --max-connections-per-ip under --http-loop epoll, counted in
                                   * ips; 0 under poll (libmicrohttpd counts there) */
    pthread_mutex_t ip_mu;
    ip_count *ips;
    size_t n_ips, cap_ips;
    routes_ctx rc;
    size_t max_body;
    double request_timeout, idle_timeout;
    reaper *reaper;               /* the connections' deadlines */
    int quiet;
    _Atomic int starting;         /* in MHD_start_daemon: its messages go to start_msg */
    char start_msg[256];
    MHD_socket quiesced;          /* the listen socket after quiesce, closed at stop */
    _Atomic int draining;
    _Atomic long active;          /* requests between their first byte and their completion */
    /* libmicrohttpd's messages on stderr, at most HTTP_LOG_PER_SECOND a second (log_mu) */
    pthread_mutex_t log_mu;
    long log_sec;                 /* the second the lines counted are of */
    unsigned log_lines;           /* lines written in it */
    unsigned long long log_dropped; /* messages not written since the last line */
};

/* libmicrohttpd's messages written on stderr, at most, a second: a client
 * sending malformed requests in a loop makes one each, and must not flood
 * the service's log (colb_http_protocol_errors_total counts them all). */
#define HTTP_LOG_PER_SECOND 10

/* Paths longer than this (percent-decoded) get 414 uri_too_long; the
 * longest valid one, /v1/users/ID, has 10 + --max-id-bytes (4096 at most). */
#define HTTP_PATH_MAX 8192

/* Header bytes, besides the request line, that always fit a connection's
 * memory (http_pool_bytes), in up to HTTP_HEAD_LINES header lines: the
 * memory also holds libmicrohttpd's record of each header (56 bytes in
 * 0.9.75, counted as HTTP_HEAD_LINE_COST). */
#define HTTP_HEAD_ROOM 8192
#define HTTP_HEAD_LINES 128
#define HTTP_HEAD_LINE_COST 64

typedef struct request {
    http_server *h;
    struct MHD_Connection *conn;
    route_id route;
    const char *arg;              /* the user id of /v1/users/ID, in the arena */
    double t0;
    char *body;
    size_t len, cap;
    int too_large, submitted, answered;
    int timed_out;                /* the body outlasted --request-timeout: the rest is dropped */
    int close_after;              /* every answer closes the connection (its framing is doubtful) */
    int bodiless;                 /* its headers announce no body (no Content-Length above 0, not chunked) */
    int deferred;                 /* `early` holds its answer, sent at the request's end */
    answer early;
    int running;                  /* its job runs in this thread (engine_run) */
    int parked;                   /* ... and waits for the log: suspended */
    http_loop *loop;              /* its daemon's loop (--http-loop epoll), or NULL */
    unsigned status;
    arena a;
    job j;
} request;

/* The connection's deadline (reaper.h), now_s() seconds. What a
 * connection waits for, and for how long:
 *   - the next request's headers: --idle-timeout from its opening or its
 *     previous answer (a client trickling them is cut, a silent one is
 *     already closed by libmicrohttpd's timer);
 *   - the body: --request-timeout from the headers gives 408 at its end;
 *     one that has not ended --idle-timeout later is cut;
 *   - none while the server works on the request;
 *   - the answer read within --request-timeout of its queueing. */
static void set_deadline(struct MHD_Connection *conn, double t)
{
    const union MHD_ConnectionInfo *ci = mhd.get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci)
        reaper_set(ci->socket_context, t);
}

static enum MHD_Result send_answer(request *q, answer *ans, int close_after)
{
    set_deadline(q->conn, now_s() + q->h->request_timeout);
    struct MHD_Response *r = mhd.create_response_from_buffer(ans->len, ans->body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(ans->body);
        return MHD_NO;
    }
    mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            ans->content_type ? ans->content_type : "application/json");
    if (ans->allow)
        mhd.add_response_header(r, MHD_HTTP_HEADER_ALLOW, ans->allow);
    if (ans->status == 401)
        mhd.add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"colb\"");
    if (ans->retry_after) {
        char s[16];
        snprintf(s, sizeof s, "%d", ans->retry_after);
        mhd.add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, s);
    }
    if (close_after || q->close_after)
        mhd.add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = mhd.queue_response(q->conn, ans->status, r);
    mhd.destroy_response(r);
    if (ret == MHD_YES) { /* else the connection is closed unanswered, and counted so */
        q->status = ans->status;
        q->answered = 1;
    }
    return ret;
}

static enum MHD_Result send_error(request *q, unsigned status, const char *code, const char *msg, int close_after)
{
    answer ans;
    routes_error(&ans, status, code, msg);
    return send_answer(q, &ans, close_after);
}

/* An answer decided from the headers alone (401, 404, 405, 414, 417) that
 * need not end the connection. libmicrohttpd (0.9.75) takes an answer queued
 * before the request's end as the end of the connection: it discards the
 * rest of the request and closes the connection after the answer, which
 * dropped the requests pipelined behind it. A request without a body has
 * nothing to discard: its answer waits for the request's end (the next
 * call, at once) and the connection is kept. One with a body is answered
 * at once, and its connection closed: its body, unread, could otherwise
 * be taken for the next request. */
static enum MHD_Result send_early(request *q, answer *ans)
{
    if (!q->bodiless)
        return send_answer(q, ans, 0);
    q->early = *ans;
    q->deferred = 1;
    return MHD_YES;
}

static enum MHD_Result send_early_error(request *q, unsigned status, const char *code, const char *msg)
{
    answer ans;
    routes_error(&ans, status, code, msg);
    return send_early(q, &ans);
}

/* Wake loop l (its eventfd), once until it next clears `woken`: a group
 * commit resumes many connections of a loop at once. */
static void wake_loop(http_loop *l)
{
    uint64_t one = 1;
    if (l && !atomic_exchange(&l->woken, 1) && write(l->wake, &one, sizeof one) < 0) {
        /* EAGAIN only: the counter is full, the loop is woken already */
    }
}

/* Resume q's connection, from any thread. Under --http-loop epoll its
 * loop is woken too: libmicrohttpd's own signal may be taken in by a
 * MHD_run already past its resume step, which would leave the connection
 * waiting for the loop's next timeout (loop_main). q may be freed by its
 * thread as soon as it is resumed: its loop is read before. */
static void resume(request *q)
{
    http_loop *l = q->loop;
    mhd.resume_connection(q->conn);
    wake_loop(l);
}

/* The writer (or the log's syncer) finished the request's job. A job run
 * in the request's own thread and not parked is answered by that thread
 * when engine_run returns. */
static void job_done(job *j)
{
    request *q = j->ctx;
    if (!q->parked && q->running) /* parked: from another thread, which must not read q->running */
        return;
    resume(q);
}

/* The job run in this thread waits for the log's sync: suspend the
 * connection until job_done resumes it (from the syncer). */
static void job_park(job *j)
{
    request *q = j->ctx;
    q->parked = 1;
    mhd.suspend_connection(q->conn);
}

/* What a request's headers say of its body's framing (libmicrohttpd
 * 0.9.75 reads the first Content-Length and the first Transfer-Encoding
 * only, and any Transfer-Encoding but "chunked" as a body that ends when
 * the connection does). It also keeps a header whose name has blanks
 * before the colon ("Content-Length : 5" under the name "Content-Length ")
 * and glues a folded line (obs-fold: a line that starts with a blank) to
 * the header before it, the name included ("Content-Length:", " 5" becomes
 * "Content-Length5"), so that either would leave the framing header
 * unseen and the body read as the next request (request smuggling behind a
 * proxy that reads them otherwise). RFC 9112 (5.1, 5.2) asks for a 400:
 * a name that is not a token, or that extends a framing header's name. */
typedef struct framing {
    const char *length;           /* the first Content-Length */
    int lengths_differ;           /* another one says otherwise */
    const char *coding;           /* a Transfer-Encoding that is not "chunked" */
    int chunked;
    const char *bad_name;         /* the first header name that is not a token, or extends a framing one */
    const char *expect;           /* the first Expect that is neither "100-continue" nor empty */
} framing;

/* 1 when s is an HTTP token (RFC 9110, 5.6.2) of at least one byte. */
static int is_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch && strchr("!#$%&'*+-.^_`|~", ch))))
            return 0;
    }
    return 1;
}

/* The first len - 1 bytes of s into out, NUL-terminated, each byte that is
 * not printable ASCII as '?' (a header's name or value in a message). */
static void printable(const char *s, char *out, size_t len)
{
    size_t n = 0;
    for (; *s && n < len - 1; s++)
        out[n++] = *s >= ' ' && *s <= '~' ? *s : '?';
    out[n] = '\0';
}

/* 1 when key starts with name (case-insensitively) and is longer. */
static int extends(const char *key, const char *name)
{
    size_t n = strlen(name);
    return !strncasecmp(key, name, n) && key[n];
}

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    framing *f = cls;
    if (!value)
        value = "";
    if (!f->bad_name && (!is_token(key) || extends(key, MHD_HTTP_HEADER_CONTENT_LENGTH) ||
                         extends(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)))
        f->bad_name = key;
    if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        if (!f->length)
            f->length = value;
        else if (strcmp(f->length, value))
            f->lengths_differ = 1;
    } else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        if (strcasecmp(value, "chunked"))
            f->coding = f->coding ? f->coding : value;
        else
            f->chunked = 1;
    } else if (!strcasecmp(key, MHD_HTTP_HEADER_EXPECT) && value[0] && strcasecmp(value, "100-continue")) {
        f->expect = f->expect ? f->expect : value;
    }
    return MHD_YES;
}

/* Headers are in: decide whether to read the body at all. */
static enum MHD_Result first_call(request *q, const char *url, const char *method)
{
    http_server *h = q->h;
    const char *arg;
    q->route = routes_match(url, &arg);
    if (atomic_load(&h->draining)) {
        if (q->route == R_HEALTH) { /* its own form of 503 (docs/serve.md) */
            answer ans;
            routes_unavailable(&ans, "the server is shutting down");
            return send_answer(q, &ans, 1);
        }
        return send_error(q, 503, "stopping", "the server is shutting down", 1);
    }
    /* a body whose end is in doubt: answered, and the connection closed
     * (RFC 9112, 6.3: what follows could be read as another request) */
    framing f = { 0 };
    mhd.get_connection_values(q->conn, MHD_HEADER_KIND, framing_header, &f);
    if (f.bad_name) {
        char msg[160], name[41];
        printable(f.bad_name, name, sizeof name);
        snprintf(msg, sizeof msg, "malformed header name '%s' (blanks before the colon, or a line folded onto it)",
                 name);
        return send_error(q, 400, "bad_request", msg, 1);
    }
    if (f.lengths_differ)
        return send_error(q, 400, "bad_request", "Content-Length given twice with different values", 1);
    if (f.coding) {
        char msg[128];
        snprintf(msg, sizeof msg, "Transfer-Encoding '%.40s' is not supported (only chunked)", f.coding);
        return send_error(q, 400, "bad_request", msg, 1);
    }
    q->close_after = f.chunked && f.length; /* the length is ignored: the chunks frame the body */
    /* a request without a body keeps its connection even with "Expect:
     * 100-continue": libmicrohttpd 0.9.75 sends it a "100 Continue" (its
     * answer is not queued yet), which RFC 9110 (10.1.1) allows, and its
     * answer follows at its end (on_request ignores the empty call before) */
    q->bodiless = !f.chunked && (!f.length || (f.length[0] && !f.length[strspn(f.length, "0")]));
    /* an expectation this server cannot meet (RFC 9110, 10.1.1): 417 */
    if (f.expect) {
        char msg[128], v[41];
        printable(f.expect, v, sizeof v);
        snprintf(msg, sizeof msg, "Expect '%s' is not supported (only 100-continue)", v);
        return send_early_error(q, 417, "expectation_failed", msg);
    }
    if (strlen(url) > HTTP_PATH_MAX) {
        char msg[96];
        snprintf(msg, sizeof msg, "the path is longer than %d bytes", HTTP_PATH_MAX);
        return send_early_error(q, 414, "uri_too_long", msg);
    }
    /* the token before anything about the route: without it a client learns
     * nothing, not even which paths and methods exist */
    if (routes_needs_token(q->route) &&
        !routes_token_ok(&h->rc, mhd.lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)))
        return send_early_error(q, 401, "unauthorized", "missing or wrong bearer token (Authorization: Bearer TOKEN)");
    if (q->route == R_OTHER)
        return send_early_error(q, 404, "not_found", "no such route (see docs/serve.md)");
    if (!routes_method_ok(q->route, method)) {
        answer ans;
        char msg[96];
        snprintf(msg, sizeof msg, "method %.16s not allowed here; use %s", method, routes_allow(q->route));
        routes_error(&ans, 405, "method_not_allowed", msg);
        ans.allow = routes_allow(q->route);
        return send_early(q, &ans);
    }
    if (arg) {
        size_t n = strlen(arg);
        char *c = arena_alloc(&q->a, n + 1);
        if (!c)
            return send_error(q, 503, "out_of_memory", "out of memory", 1);
        memcpy(c, arg, n + 1);
        q->arg = c;
    }
    const char *cl = mhd.lookup_connection_value(q->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (*end == '\0' && n > h->max_body) {
            char msg[128];
            snprintf(msg, sizeof msg, "the body has %llu bytes; at most %zu (--max-body)", n, h->max_body);
            return send_error(q, 413, "too_large", msg, 1);
        }
        if (*end == '\0' && n > 0) {
            q->body = malloc((size_t)n + 1);
            q->cap = q->body ? (size_t)n + 1 : 0;
        }
    }
    return MHD_YES;
}

static void take_chunk(request *q, const char *data, size_t n)
{
    http_server *h = q->h;
    if (q->too_large)
        return;
    if (q->len + n > h->max_body) {
        q->too_large = 1;
        free(q->body);
        q->body = NULL;
        q->len = q->cap = 0;
        return;
    }
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap ? q->cap : 4096;
        while (cap < q->len + n + 1)
            cap *= 2;
        char *b = realloc(q->body, cap);
        if (!b) {
            q->too_large = 1; /* answered as too large for this server's memory */
            return;
        }
        q->body = b;
        q->cap = cap;
    }
    memcpy(q->body + q->len, data, n);
    q->len += n;
}

/* The loop whose daemon holds conn (--http-loop epoll), or NULL. */
static http_loop *loop_of(const http_server *h, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = h->n_loops ? mhd.get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON) : NULL;
    for (size_t i = 0; ci && i < h->n_loops; i++)
        if (h->loops[i].d == ci->daemon)
            return &h->loops[i];
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    http_server *h = cls;
    request *q = *con_cls;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q)
            return MHD_NO;
        q->h = h;
        q->conn = conn;
        q->loop = loop_of(h, conn);
        q->t0 = now_s();
        *con_cls = q;
        atomic_fetch_add(&h->active, 1);
        set_deadline(conn, q->t0 + h->request_timeout + h->idle_timeout);
        return first_call(q, url, method);
    }
    if (q->answered) { /* an early answer: drop what else arrives */
        *upload_size = 0;
        return MHD_YES;
    }
    /* no byte: libmicrohttpd 0.9.75 makes this call, where no answer can be
     * queued, to a request without a body that got a "100 Continue" when
     * bytes of the next one are already in; the request's end comes next */
    if (upload && !*upload_size)
        return MHD_YES;
    if (*upload_size) {
        /* libmicrohttpd takes an answer only before a body or after all of
         * it: a body that outlasts --request-timeout is dropped from then
         * on (nothing more is kept) and answered 408 at its end */
        if (!q->timed_out && now_s() - q->t0 > h->request_timeout) {
            q->timed_out = 1;
            free(q->body);
            q->body = NULL;
            q->len = q->cap = 0;
        }
        if (!q->timed_out)
            take_chunk(q, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    answer ans;
    if (q->deferred) { /* a request without a body, answered from its headers */
        q->deferred = 0;
        return send_answer(q, &q->early, 0);
    }
    if (q->submitted) { /* resumed: the job is done */
        routes_finish(q->route, &q->j, &ans);
        return send_answer(q, &ans, 0);
    }
    if (q->timed_out)
        return send_error(q, 408, "timeout", "the body took longer than --request-timeout", 1);
    if (q->too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "the body is larger than %zu bytes (--max-body)", h->max_body);
        return send_error(q, 413, "too_large", msg, 1);
    }
    set_deadline(conn, REAPER_NEVER); /* the server's turn */
    if (!routes_prepare(&h->rc, q->route, q->arg, q->body ? q->body : "", q->len, &q->a, &q->j, &ans))
        return send_answer(q, &ans, 0);
    q->j.done = job_done;
    q->j.ctx = q;
    q->submitted = 1;
    /* at once in this thread when the writer is idle; else queued */
    q->j.park = job_park;
    q->running = 1;
    int ran = engine_run(h->rc.e, &q->j);
    q->running = 0;
    if (ran) {
        if (q->parked)
            return MHD_YES; /* the syncer resumes it */
        routes_finish(q->route, &q->j, &ans);
        return send_answer(q, &ans, 0);
    }
    q->j.park = NULL;
    mhd.suspend_connection(conn); /* before the job can finish: resume needs a suspended connection */
    if (engine_submit(h->rc.e, &q->j))
        resume(q); /* refused: the answer is in the job */
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    http_server *h = cls;
    request *q = *con_cls;
    set_deadline(conn, now_s() + h->idle_timeout); /* the next request's headers */
    if (!q)
        return;
    /* requests answered: one that libmicrohttpd answered itself (a malformed
     * chunked body) is a protocol error, counted there, and one the client
     * left before its answer is neither */
    if (q->answered)
        metrics_request(h->rc.m, q->route, q->status, now_s() - q->t0);
    if (q->deferred) /* the connection ended before the request did */
        free(q->early.body);
    free(q->body);
    free(q->j.body);
    arena_free(&q->a);
    free(q);
    *con_cls = NULL;
    atomic_fetch_sub(&h->active, 1);
}

/* An address's bytes (4 for IPv4, 16 for IPv6, a v4-mapped one as its
 * IPv4 address); 0 for another family. */
static size_t ip_key(const struct sockaddr *a, unsigned char key[16])
{
    static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (a && a->sa_family == AF_INET) {
        memcpy(key, &((const struct sockaddr_in *)(const void *)a)->sin_addr, 4);
        return 4;
    }
    if (a && a->sa_family == AF_INET6) {
        const unsigned char *b = ((const struct sockaddr_in6 *)(const void *)a)->sin6_addr.s6_addr;
        if (!memcmp(b, v4mapped, 12)) {
            memcpy(key, b + 12, 4);
            return 4;
        }
        memcpy(key, b, 16);
        return 16;
    }
    return 0;
}

/* The entry of key in h->ips, or NULL (h->ip_mu held). */
static ip_count *ip_find(http_server *h, const unsigned char *key, size_t len)
{
    for (size_t i = 0; i < h->n_ips; i++)
        if (h->ips[i].len == len && !memcmp(h->ips[i].addr, key, len))
            return &h->ips[i];
    return NULL;
}

/* --max-connections-per-ip under --http-loop epoll (the accept policy of
 * every daemon): a connection is refused, closed at once, when its
 * address holds the limit already. Counted when libmicrohttpd has set a
 * connection up (ip_count_move), not here: a connection refused after
 * this call (--max-connections) is never counted. Two daemons accepting
 * from one address at the same moment may both pass at the limit, so an
 * address may hold up to --http-threads - 1 more. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    http_server *h = cls;
    unsigned char key[16];
    size_t len = ip_key(addr, key);
    if (!h->per_ip || !len)
        return MHD_YES;
    pthread_mutex_lock(&h->ip_mu);
    const ip_count *e = ip_find(h, key, len);
    int ok = !e || e->n < h->per_ip;
    pthread_mutex_unlock(&h->ip_mu);
    return ok ? MHD_YES : MHD_NO;
}

/* Room for one more address in h->ips (h->ip_mu held): 0, or -1 without
 * memory (the connection is then not counted). */
static int ips_grow(http_server *h)
{
    size_t cap = h->cap_ips ? 2 * h->cap_ips : 16;
    ip_count *n = realloc(h->ips, cap * sizeof *n);
    if (!n)
        return -1;
    h->ips = n;
    h->cap_ips = cap;
    return 0;
}

/* conn's address holds one connection more (+1) or less (-1). */
static void ip_count_move(http_server *h, struct MHD_Connection *conn, int by)
{
    const union MHD_ConnectionInfo *ci = mhd.get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    unsigned char key[16];
    size_t len = ci ? ip_key(ci->client_addr, key) : 0;
    if (!len)
        return;
    pthread_mutex_lock(&h->ip_mu);
    ip_count *e = ip_find(h, key, len);
    if (!e && by > 0 && (h->n_ips < h->cap_ips || !ips_grow(h))) {
        e = &h->ips[h->n_ips++];
        memcpy(e->addr, key, len);
        e->len = len;
        e->n = 0;
    }
    if (e && by > 0) {
        e->n++;
    } else if (e && --e->n == 0) {
        *e = h->ips[--h->n_ips];
    }
    pthread_mutex_unlock(&h->ip_mu);
}

/* A connection opened or closed (MHD_OPTION_NOTIFY_CONNECTION): watched
 * from its opening, its first headers due within --idle-timeout, until
 * libmicrohttpd closes its socket, which it does after this call; and,
 * under --http-loop epoll with --max-connections-per-ip, counted for its
 * address. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    http_server *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = mhd.get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? reaper_add(h->reaper, ci->connect_fd, now_s() + h->idle_timeout) : NULL;
        if (h->per_ip)
            ip_count_move(h, conn, 1);
    } else {
        reaper_remove(h->reaper, *socket_context);
        *socket_context = NULL;
        if (h->per_ip)
            ip_count_move(h, conn, -1);
    }
}

/* libmicrohttpd's message beginning a malformed request's answer of its
 * own (0.9.75: daemon/connection.c, transmit_error_response_len) - one per
 * such request; other messages may come with it (a bad Content-Length is
 * said first) or alone (a connection that failed). */
static const char MHD_OWN_ANSWER[] = "Error processing request (HTTP response code is ";

/* s as one line of the service's log into out (len bytes, cut if it
 * must be): a backslash and every control character escaped (\n, \r,
 * \t, \xHH), trailing whitespace dropped. */
static void log_escape(const char *s, char *out, size_t len)
{
    size_t n = strlen(s), o = 0;
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < n && o + 5 < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\\' || ch == '\n' || ch == '\r' || ch == '\t') {
            out[o++] = '\\';
            out[o++] = ch == '\\' ? '\\' : ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't';
        } else if (ch < 0x20 || ch == 0x7f) {
            o += (size_t)snprintf(out + o, len - o, "\\x%02x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o < len ? o : len - 1] = '\0';
}

/* libmicrohttpd's messages (MHD_OPTION_EXTERNAL_LOGGER): while it starts,
 * the first one is kept for the start's error line; from then on each is
 * one line of the service's log on stderr (`colb serve: http: ...`,
 * escaped; none with --quiet), at most HTTP_LOG_PER_SECOND a second (the
 * next line written says how many were not), and the malformed requests
 * it answered itself are counted (colb_http_protocol_errors_total). Called
 * from any of its threads. */
static void on_log(void *cls, const char *fmt, va_list ap)
{
    http_server *h = cls;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (h->starting) { /* the first one says why a start failed: in its one error line */
        if (!h->start_msg[0]) {
            snprintf(h->start_msg, sizeof h->start_msg, "%.*s", (int)sizeof h->start_msg - 1, msg);
            h->start_msg[strcspn(h->start_msg, "\n")] = '\0';
        }
        return;
    }
    if (!strncmp(msg, MHD_OWN_ANSWER, sizeof MHD_OWN_ANSWER - 1))
        atomic_fetch_add_explicit(&h->rc.m->http_protocol_errors, 1, memory_order_relaxed);
    if (h->quiet)
        return;
    char line[2048];
    log_escape(msg, line, sizeof line);
    long sec = (long)now_s();
    pthread_mutex_lock(&h->log_mu);
    if (sec != h->log_sec) {
        h->log_sec = sec;
        h->log_lines = 0;
    }
    if (h->log_lines >= HTTP_LOG_PER_SECOND) {
        h->log_dropped++;
    } else {
        h->log_lines++;
        if (h->log_dropped)
            fprintf(stderr, "colb serve: http: %s (and %llu earlier messages of libmicrohttpd not shown: at most %d a "
                    "second)\n", line, h->log_dropped, HTTP_LOG_PER_SECOND);
        else
            fprintf(stderr, "colb serve: http: %s\n", line);
        h->log_dropped = 0;
    }
    pthread_mutex_unlock(&h->log_mu);
}

/* The request's path with its percent-escapes decoded, as libmicrohttpd
 * decodes them, except that a %00 must not end the path: decoded to a NUL
 * it cut /v1/users/alice%00x to the user "alice" and /v1/stats%00 to
 * /v1/stats. It becomes DEL (0x7f), a control character that no route
 * and no user id accepts (404, 400). */
static size_t unescape_path(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    size_t n = mhd.http_unescape(s);
    for (char *p = s; (p = memchr(p, '\0', (size_t)(s + n - p))) != NULL; p++)
        *p = 0x7f;
    return n;
}

/* c->host:c->port as a socket address (a4 or a6 filled; *v6 set for the
 * latter). The address, or NULL with err. */
static const struct sockaddr *listen_addr(const serve_config *c, struct sockaddr_in *a4, struct sockaddr_in6 *a6,
                                          socklen_t *len, int *v6, char *err, size_t err_len)
{
    memset(a4, 0, sizeof *a4);
    memset(a6, 0, sizeof *a6);
    *v6 = 0;
    if (inet_pton(AF_INET, c->host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)c->port);
        *len = sizeof *a4;
        return (const struct sockaddr *)a4;
    }
    if (inet_pton(AF_INET6, c->host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)c->port);
        *len = sizeof *a6;
        *v6 = 1;
        return (const struct sockaddr *)a6;
    }
    snprintf(err, err_len, "--listen: '%s' is not a numeric address", c->host);
    return NULL;
}

int http_probe(const serve_config *c, char *err, size_t err_len)
{
    if (mhd_load(err, err_len))
        return -1;
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    socklen_t len;
    int v6;
    const struct sockaddr *sa = listen_addr(c, &a4, &a6, &len, &v6, err, err_len);
    if (!sa)
        return -1;
    /* port 0 too: any port will do, but the address must be this machine's */
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    /* SO_REUSEADDR as libmicrohttpd sets it: a port whose last connections
     * linger in TIME_WAIT is free to it */
    int ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 && bind(fd, sa, len) == 0;
    if (!ok)
        snprintf(err, err_len, "cannot listen on %s:%u: %s", c->host, c->port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

/* Each connection's memory (libmicrohttpd's pool, which holds the request
 * line and the headers while they are read, and is cleared between
 * requests: the smaller, the cheaper): room for the longest valid request
 * line (GET /v1/users/ID with every byte of the id percent-encoded) and
 * HTTP_HEAD_ROOM bytes of headers in HTTP_HEAD_LINES lines. A request line or
 * headers beyond it get libmicrohttpd's own 414 or 431. */
static size_t http_pool_bytes(const serve_config *c)
{
    size_t need = 3 * c->max_id_bytes + HTTP_HEAD_ROOM + HTTP_HEAD_LINES * HTTP_HEAD_LINE_COST +
                  4096; /* + the line's rest, libmicrohttpd's own */
    return (need + 4095) / 4096 * 4096;
}

/* One HTTP thread of --http-loop epoll. It waits on its daemon's epoll
 * descriptor and its own eventfd (wake_loop) for at most the time
 * MHD_get_timeout gives (0 while a connection has data libmicrohttpd has
 * not read), then runs the daemon once (MHD_run: every epoll_wait inside
 * it has a zero timeout, so libmicrohttpd's loop that waits out its
 * timeout when exactly 128 events are ready never waits). The eventfd is
 * cleared before MHD_run, which then runs the resumes signalled before;
 * one signalled later wakes the next wait. libmicrohttpd's own signal of
 * a resume is not enough: a MHD_run past its resume step clears it with
 * the resume left for its next call, which would then come only at the
 * timeout. */
static void *loop_main(void *arg)
{
    http_loop *l = arg;
    prctl(PR_SET_NAME, "colb-http"); /* as ps and top show it */
    const union MHD_DaemonInfo *di = mhd.get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
    struct pollfd w[2] = { { di ? di->epoll_fd : -1, POLLIN, 0 }, { l->wake, POLLIN, 0 } };
    while (!atomic_load(&l->h->stop)) {
        MHD_UNSIGNED_LONG_LONG to = 0;
        int ms = mhd.get_timeout(l->d, &to) == MHD_YES ? (to < 1000 ? (int)to : 1000) : 1000;
        w[1].revents = 0;
        if (ms > 0 && poll(w, 2, ms) < 0 && errno != EINTR)
            break; /* cannot happen with valid descriptors */
        uint64_t n;
        if (w[1].revents & POLLIN) {
            if (read(l->wake, &n, sizeof n) < 0) {
                /* EAGAIN: nothing written since */
            }
            /* after the read: a wake that found `woken` set before this
             * store had resumed before it, hence before MHD_run below; one
             * after it writes again (cleared before the read instead, a
             * wake between the two would leave `woken` set and the
             * counter empty, and every later wake unwritten) */
            atomic_store(&l->woken, 0);
        }
        mhd.run(l->d);
    }
    return NULL;
}

/* The listening socket of --http-loop epoll, bound and listening,
 * non-blocking (its daemons share it: each has a dup); -1 with the reason
 * in err. As libmicrohttpd's own: SO_REUSEADDR, IPv6 only for an IPv6
 * address, a backlog of 1024. */
static int listen_socket(const serve_config *c, const struct sockaddr *sa, socklen_t len, int v6, char *err,
                         size_t err_len)
{
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        (!v6 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0) && bind(fd, sa, len) == 0 &&
        listen(fd, 1024) == 0)
        return fd;
    snprintf(err, err_len, "cannot listen on %s:%u: %s", c->host, c->port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Stop the loops' threads and daemons (any of them started). */
static void loops_stop(http_server *h)
{
    atomic_store(&h->stop, 1);
    for (size_t i = 0; i < h->n_loops; i++)
        if (h->loops[i].running) {
            atomic_store(&h->loops[i].woken, 0);
            wake_loop(&h->loops[i]);
            pthread_join(h->loops[i].t, NULL);
        }
    for (size_t i = 0; i < h->n_loops; i++) {
        http_loop *l = &h->loops[i];
        if (l->d)
            mhd.stop_daemon(l->d); /* every connection closed: none left to watch */
        if (l->quiesced != MHD_INVALID_SOCKET)
            close(l->quiesced);
        if (l->wake >= 0)
            close(l->wake);
    }
}

/* --http-loop epoll: --http-threads daemons on one listening socket, each
 * run by a thread of its own (loop_main). 0, or -1 with the reason in err
 * (everything started so far stopped). */
static int start_loops(http_server *h, const serve_config *c, const struct sockaddr *sa, socklen_t sa_len, int v6,
                       unsigned *bound_port, char *err, size_t err_len)
{
    int lfd = listen_socket(c, sa, sa_len, v6, err, err_len);
    if (lfd < 0)
        return -1;
    struct sockaddr_storage bound;
    socklen_t bl = sizeof bound;
    if (getsockname(lfd, (struct sockaddr *)&bound, &bl) != 0)
        memset(&bound, 0, sizeof bound);
    *bound_port = ntohs(v6 ? ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);
    h->loops = calloc(c->http_threads, sizeof *h->loops);
    h->n_loops = h->loops ? c->http_threads : 0;
    h->per_ip = c->max_connections_per_ip;
    /* the connection limit shared out as libmicrohttpd's thread pool
     * shares it: each daemon a part, the first ones one more */
    size_t n = h->n_loops, per = n ? c->max_connections / n : 0, extra = n ? c->max_connections % n : 0;
    int rc = h->loops ? 0 : -1;
    if (rc)
        snprintf(err, err_len, "out of memory");
    for (size_t i = 0; i < n; i++) {
        h->loops[i].h = h;
        h->loops[i].quiesced = MHD_INVALID_SOCKET;
        h->loops[i].wake = -1;
    }
    h->starting = 1;
    for (size_t i = 0; i < n && !rc; i++) {
        http_loop *l = &h->loops[i];
        int fd = dup(lfd);
        l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
        l->d = fd < 0 || l->wake < 0 ? NULL
                                      : mhd.start_daemon(flags, 0, on_accept, h, on_request, h,
                                                         MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
                                                         MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                                                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)(per + (i < extra)),
                                                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->idle_timeout,
                                                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                                         MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                                                         MHD_OPTION_UNESCAPE_CALLBACK, unescape_path, NULL,
                                                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, http_pool_bytes(c),
                                                         MHD_OPTION_END);
        if (!l->d) {
            if (fd >= 0)
                close(fd); /* libmicrohttpd closes it only once started */
            snprintf(err, err_len, "cannot serve on %s:%u: %s", c->host, c->port,
                     h->start_msg[0] ? h->start_msg : "out of descriptors or memory");
            rc = -1;
        }
    }
    h->starting = 0; /* from now on its messages go to stderr */
    for (size_t i = 0; i < n && !rc; i++) {
        if (pthread_create(&h->loops[i].t, NULL, loop_main, &h->loops[i]) != 0) {
            snprintf(err, err_len, "cannot start an HTTP thread");
            rc = -1;
        } else {
            h->loops[i].running = 1;
        }
    }
    close(lfd); /* each daemon holds a dup */
    if (rc)
        loops_stop(h);
    return rc;
}

/* What http_start set up before it failed (its reaper, if started; no
 * daemon or loop runs), undone; returns -1. */
static int start_failed(http_server *h)
{
    reaper_stop(h->reaper);
    pthread_mutex_destroy(&h->ip_mu);
    pthread_mutex_destroy(&h->log_mu);
    free(h->loops);
    free(h);
    return -1;
}

int http_start(http_server **out, const serve_config *c, const routes_ctx *rc, unsigned *bound_port, char *err,
               size_t err_len)
{
    *out = NULL;
    if (mhd_load(err, err_len))
        return -1;
    http_server *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    h->rc = *rc;
    h->max_body = c->max_body;
    h->request_timeout = (double)c->request_timeout;
    h->idle_timeout = (double)c->idle_timeout;
    h->quiet = c->quiet;
    h->quiesced = MHD_INVALID_SOCKET;
    h->log_sec = -1;
    pthread_mutex_init(&h->log_mu, NULL);
    pthread_mutex_init(&h->ip_mu, NULL);
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    socklen_t sa_len;
    int v6;
    const struct sockaddr *sa = listen_addr(c, &a4, &a6, &sa_len, &v6, err, err_len);
    /* deadlines checked four times within the shorter timeout, at least every second */
    double tick = (c->idle_timeout < c->request_timeout ? c->idle_timeout : c->request_timeout) / 4.0;
    if (sa && reaper_start(&h->reaper, tick < 1.0 ? tick : 1.0, &rc->m->http_timed_out) != 0)
        snprintf(err, err_len, "out of memory, or no thread for the connections' deadlines");
    if (!sa || !h->reaper)
        return start_failed(h);
    if (c->http_loop == HTTP_LOOP_EPOLL) {
        if (start_loops(h, c, sa, sa_len, v6, bound_port, err, err_len) != 0)
            return start_failed(h);
        *out = h;
        return 0;
    }
    /* --http-loop poll: libmicrohttpd's thread pool, each thread polling
     * its connections with poll() (a cost per wakeup linear in them).
     * Not libmicrohttpd's own epoll thread: its loop (0.9.75, and its
     * master of 2025) drains events with `while (num_events == MAX_EVENTS
     * (128)) epoll_wait(..., timeout)`, so when exactly 128, 256, ...
     * events are ready the next epoll_wait blocks for the whole idle
     * timeout with the collected connections unprocessed, and the timeout
     * sweep, which runs before them, then closes them as idle: every
     * client stalls 30 s and sees its keep-alive connection end after a
     * 200. It happens whenever ~128 connections per HTTP thread are ready
     * at once (a group commit resumes them together). --http-loop epoll
     * runs libmicrohttpd's epoll without a timeout (loop_main). */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    h->starting = 1;
    h->d = mhd.start_daemon(flags, (uint16_t)c->port, NULL, NULL, on_request, h,
                            MHD_OPTION_EXTERNAL_LOGGER, on_log, h, /* first: it applies from here on */
                            MHD_OPTION_SOCK_ADDR, sa,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->http_threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)c->max_connections_per_ip,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->idle_timeout,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                            MHD_OPTION_UNESCAPE_CALLBACK, unescape_path, NULL,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, http_pool_bytes(c),
                            MHD_OPTION_END);
    h->starting = 0; /* from now on its messages go to stderr */
    if (!h->d) {
        snprintf(err, err_len, "cannot listen on %s:%u: %s", c->host, c->port,
                 h->start_msg[0] ? h->start_msg : "address in use, or not an address of this machine?");
        return start_failed(h);
    }
    const union MHD_DaemonInfo *info = mhd.get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = info ? info->port : c->port;
    *out = h;
    return 0;
}

/* No longer accepted, the listening socket would still complete the
 * handshakes of new connections, which then waited for the whole drain to
 * be reset unanswered: shut down (not closed - a libmicrohttpd thread may
 * still hold it until MHD_stop_daemon), it refuses them at once, and
 * resets those in its queue. */
static void quiesce_one(struct MHD_Daemon *d, MHD_socket *kept)
{
    if (*kept == MHD_INVALID_SOCKET) {
        *kept = mhd.quiesce_daemon(d);
        if (*kept != MHD_INVALID_SOCKET)
            shutdown(*kept, SHUT_RDWR);
    }
}

void http_quiesce(http_server *h)
{
    atomic_store(&h->draining, 1);
    if (!h->n_loops)
        quiesce_one(h->d, &h->quiesced);
    for (size_t i = 0; i < h->n_loops; i++) { /* dups of one socket: the first shutdown does it */
        quiesce_one(h->loops[i].d, &h->loops[i].quiesced);
        wake_loop(&h->loops[i]); /* its listening socket leaves its epoll set at its next run */
    }
}

int http_wait_idle(http_server *h, double seconds, const sigset_t *cut)
{
    double until = now_s() + seconds;
    while (atomic_load(&h->active) > 0) {
        if (now_s() >= until)
            return -1;
        struct timespec ts = { 0, 5000000 };
        if (!cut)
            nanosleep(&ts, NULL);
        else if (sigtimedwait(cut, NULL, &ts) > 0) /* 5 ms, or less when a signal comes */
            return -2;
    }
    return 0;
}

void http_stop(http_server *h)
{
    if (!h)
        return;
    if (h->n_loops)
        loops_stop(h);
    else
        mhd.stop_daemon(h->d); /* every connection closed: none left to watch */
    reaper_stop(h->reaper);
    if (h->quiesced != MHD_INVALID_SOCKET)
        close(h->quiesced);
    pthread_mutex_destroy(&h->ip_mu);
    pthread_mutex_destroy(&h->log_mu);
    free(h->loops);
    free(h->ips);
    free(h);
}
