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
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


#include "clock.h"
#include "mhd.h"
#include "reaper.h"

struct http_server {
    struct MHD_Daemon *d;
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

/* The writer (or the log's syncer) finished the request's job. A job run
 * in the request's own thread and not parked is answered by that thread
 * when engine_run returns. */
static void job_done(job *j)
{
    request *q = j->ctx;
    if (!q->parked && q->running) /* parked: from another thread, which must not read q->running */
        return;
    mhd.resume_connection(q->conn);
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
        mhd.resume_connection(conn); /* refused: the answer is in the job */
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

/* A connection opened or closed (MHD_OPTION_NOTIFY_CONNECTION): watched
 * from its opening, its first headers due within --idle-timeout, until
 * libmicrohttpd closes its socket, which it does after this call. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    http_server *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = mhd.get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? reaper_add(h->reaper, ci->connect_fd, now_s() + h->idle_timeout) : NULL;
    } else {
        reaper_remove(h->reaper, *socket_context);
        *socket_context = NULL;
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
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    socklen_t sa_len;
    int v6;
    /* poll(), not epoll: libmicrohttpd's epoll loop (0.9.75, and its master
     * of 2025) drains events with `while (num_events == MAX_EVENTS (128))
     * epoll_wait(..., timeout)`, so when exactly 128, 256, ... events are
     * ready the next epoll_wait blocks for the whole idle timeout with the
     * collected connections unprocessed, and the timeout sweep, which runs
     * before them, then closes them as idle: every client stalls 30 s and
     * sees its keep-alive connection end after a 200. It happens whenever
     * ~128 connections per HTTP thread are ready at once (a group commit
     * resumes them together). poll() has no such loop; its cost per wakeup
     * is linear in the connections of a thread, small at --max-connections. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    const struct sockaddr *sa = listen_addr(c, &a4, &a6, &sa_len, &v6, err, err_len);
    /* deadlines checked four times within the shorter timeout, at least every second */
    double tick = (c->idle_timeout < c->request_timeout ? c->idle_timeout : c->request_timeout) / 4.0;
    if (sa && reaper_start(&h->reaper, tick < 1.0 ? tick : 1.0, &rc->m->http_timed_out) != 0)
        snprintf(err, err_len, "out of memory, or no thread for the connections' deadlines");
    if (!sa || !h->reaper) {
        pthread_mutex_destroy(&h->log_mu);
        free(h);
        return -1;
    }
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
        reaper_stop(h->reaper);
        pthread_mutex_destroy(&h->log_mu);
        free(h);
        return -1;
    }
    const union MHD_DaemonInfo *info = mhd.get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = info ? info->port : c->port;
    *out = h;
    return 0;
}

void http_quiesce(http_server *h)
{
    atomic_store(&h->draining, 1);
    if (h->quiesced == MHD_INVALID_SOCKET) {
        h->quiesced = mhd.quiesce_daemon(h->d);
        /* No longer accepted, the socket would still complete the
         * handshakes of new connections, which then waited for the whole
         * drain to be reset unanswered: shut down (not closed - a
         * libmicrohttpd thread may still hold it until MHD_stop_daemon),
         * it refuses them at once, and resets those in its queue. */
        if (h->quiesced != MHD_INVALID_SOCKET)
            shutdown(h->quiesced, SHUT_RDWR);
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
    mhd.stop_daemon(h->d); /* every connection closed: none left to watch */
    reaper_stop(h->reaper);
    if (h->quiesced != MHD_INVALID_SOCKET)
        close(h->quiesced);
    pthread_mutex_destroy(&h->log_mu);
    free(h);
}
