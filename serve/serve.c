/* serve.c - `colb serve`: options, the state (engine.h), the HTTP front
 * (http.h), and the signals that stop them in order: stop accepting,
 * finish the requests in flight, apply what is queued, take a final
 * snapshot, close. */
#include "serve.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <pthread.h>

#include "config.h"
#include "engine.h"
#include "http.h"
#include "metrics.h"
#include "routes.h"

static int loopback(const char *host)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    static const unsigned char v6[16] = { [15] = 1 };
    return inet_pton(AF_INET6, host, a) == 1 && !memcmp(a, v6, 16);
}

int serve_main(int argc, char **argv)
{
    static serve_config c; /* large (paths); one per process */
    char err[SERVE_ERR_LEN];
    serve_config_default(&c);
    int r = serve_config_parse(&c, argc, argv, err, sizeof err);
    if (r == 1) {
        serve_config_help(stdout);
        return 0;
    }
    if (r < 0) {
        fprintf(stderr, "colb serve: %s\n", err);
        return 2;
    }
    if (c.dump_log) {
        if (engine_dump_log(&c, stdout, err, sizeof err)) {
            fprintf(stderr, "colb serve: %s\n", err);
            return 1;
        }
        return 0;
    }
    static char token[1024];
    if (c.token_file[0] && serve_config_read_token(&c, token, sizeof token, err, sizeof err)) {
        fprintf(stderr, "colb serve: %s\n", err);
        return 2;
    }
    /* signals are taken by this thread alone (sigwait below): block them
     * before any thread starts, so that every thread inherits the mask */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (http_probe(&c, err, sizeof err)) { /* before a new state is made */
        fprintf(stderr, "colb serve: %s\n", err);
        return 1;
    }
    if (!loopback(c.host) && !token[0] && !c.quiet)
        fprintf(stderr, "colb serve: warning: listening on %s, beyond this machine, without --token-file\n", c.host);
    static metrics m;
    metrics_init(&m);
    engine *e;
    int opened = engine_open(&e, &c, &m, err, sizeof err);
    if (opened) {
        fprintf(stderr, "colb serve: %s\n", err);
        return opened == -2 ? 2 : 1;
    }
    routes_ctx rc = { e, &m, { 0 }, token[0] ? token : NULL };
    engine_limits(e, &rc.lim);
    http_server *h;
    unsigned port;
    if (http_start(&h, &c, &rc, &port, err, sizeof err)) {
        fprintf(stderr, "colb serve: %s\n", err);
        engine_stop(e);
        engine_free(e);
        return 1;
    }
    int v6 = strchr(c.host, ':') != NULL;
    printf("colb serve: listening on http://%s%s%s:%u (policy %s, d = %zu, state %s)\n", v6 ? "[" : "", c.host,
           v6 ? "]" : "", port, c.policy, c.pp.dim, c.state_dir);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    if (!c.quiet)
        fprintf(stderr, "colb serve: %s: finishing the requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_quiesce(h);
    if (http_wait_idle(h, (double)c.drain_timeout) && !c.quiet)
        fprintf(stderr, "colb serve: requests still open after %zu s (--drain-timeout) are cut\n", c.drain_timeout);
    int rc2 = engine_stop(e);
    /* the answers of the jobs engine_stop applied (milliseconds); a request
     * still open after the drain, a stalled upload say, is cut */
    http_wait_idle(h, 1.0);
    http_stop(h);
    engine_free(e);
    return rc2 ? 1 : 0;
}
