/* http.h - the HTTP front of `colb serve` on libmicrohttpd: its threads
 * (each a daemon of its own on epoll, run by colb's loop; or, with
 * --http-loop poll, libmicrohttpd's thread pool on poll()) accept
 * connections, read each request's headers and body within the limits,
 * check the bearer token, and pass complete requests to the routes
 * (routes.h). A request is applied in its thread
 * when the writer is idle (engine_run); one queued for the writer, or
 * waiting for the log's sync, is suspended (it holds no thread) and
 * resumed when its job is done. */
#ifndef COLB_SERVE_HTTP_H
#define COLB_SERVE_HTTP_H

#include <signal.h>

#include "config.h"
#include "routes.h"

typedef struct http_server http_server;

/* Whether c->host:c->port can be listened on (a port in use, an address
 * not of this machine) and libmicrohttpd can be loaded (mhd.h), checked
 * before the state is opened or made: 0, or -1 with err. (Another process
 * may still take the port before http_start.) */
int http_probe(const serve_config *c, char *err, size_t err_len);

/* Listen on c->host:c->port. *bound_port receives the port (useful with
 * port 0). 0, or -1 with err. */
int http_start(http_server **out, const serve_config *c, const routes_ctx *rc, unsigned *bound_port, char *err,
               size_t err_len);

/* Stop accepting connections; requests that arrive on open connections
 * from now on are answered 503 and the connection closed. */
void http_quiesce(http_server *h);

/* Wait until no request is in flight, at most `seconds`; 0 if none is
 * left, -1 on timeout, -2 when one of the signals in `cut` (blocked in the
 * calling thread; NULL: none) arrived meanwhile (it is consumed). */
int http_wait_idle(http_server *h, double seconds, const sigset_t *cut);

/* Close every connection and stop the threads; frees h. NULL harmless. */
void http_stop(http_server *h);

#endif
