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
#include <sys/resource.h>

#include "config.h"
#include "engine.h"
#include "http.h"
#include "metrics.h"
#include "routes.h"
#include "thread_sched.h"

static int loopback(const char *host)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    static const unsigned char v6[16] = { [15] = 1 };
    return inet_pton(AF_INET6, host, a) == 1 && !memcmp(a, v6, 16);
}

/* Descriptors the server keeps for itself besides its connections: stdio,
 * the state folder's lock, the log's segment and the next one, the folder
 * opened for their fsync, a snapshot's file and its child's pipe, the
 * segment being copied by a repair, the listening socket, and slack (a
 * library's own) - plus each HTTP thread's own: libmicrohttpd's wakeup
 * (an eventfd, or a pipe's two) and, under --http-loop epoll, its epoll
 * descriptor, its dup of the listening socket and colb's eventfd, in
 * fds_reserved. */
#define SERVE_FDS_RESERVED 32

static size_t fds_reserved(const serve_config *c)
{
    return SERVE_FDS_RESERVED + 4 * c->http_threads;
}

/* Fit --max-connections to the open-files limit (RLIMIT_NOFILE), before
 * anything is opened: when its soft limit holds fewer descriptors than the
 * connections and the reserve, raise it toward the hard limit (as redis
 * does); when the hard limit holds fewer too, lower c->max_connections to
 * what it holds - its connections then wait in the kernel's queue, and the
 * log and the snapshots keep their descriptors - and say so in note (else
 * left empty). 0, or -1 with err when it cannot hold the reserve and one
 * connection. */
static int fit_open_files(serve_config *c, char *note, size_t note_len, char *err, size_t err_len)
{
    note[0] = '\0';
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0; /* unknown: nothing to fit */
    rlim_t reserved = (rlim_t)fds_reserved(c), need = (rlim_t)c->max_connections + reserved;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return 0;
    struct rlimit up = { rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max, rl.rlim_max };
    if (up.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &up) == 0)
        rl.rlim_cur = up.rlim_cur;
    if (rl.rlim_cur >= need)
        return 0;
    char hard[32] = "unlimited";
    if (rl.rlim_max != RLIM_INFINITY)
        snprintf(hard, sizeof hard, "%llu", (unsigned long long)rl.rlim_max);
    if (rl.rlim_cur <= reserved) {
        snprintf(err, err_len, "the open-files limit (ulimit -n %llu, hard limit %s) is too low: the server keeps %llu "
                 "descriptors for its log, snapshots, listening socket and threads, and needs one more per "
                 "connection (%llu for --max-connections %zu)", (unsigned long long)rl.rlim_cur, hard,
                 (unsigned long long)reserved, (unsigned long long)need, c->max_connections);
        return -1;
    }
    size_t held = (size_t)(rl.rlim_cur - reserved);
    snprintf(note, note_len, "the open-files limit (ulimit -n %llu, hard limit %s) holds %zu connections at once, "
             "not --max-connections %zu (%llu descriptors are kept for the log, snapshots, listening socket and "
             "threads); more wait in the kernel's queue; raise the limit to %llu to hold them all",
             (unsigned long long)rl.rlim_cur, hard, held, c->max_connections, (unsigned long long)reserved,
             (unsigned long long)need);
    c->max_connections = held;
    return 0;
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
    sigaddset(&set, SIGHUP); /* the terminal closed: stop as for SIGTERM, not at once */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    char note[512];
    if (fit_open_files(&c, note, sizeof note, err, sizeof err)) { /* before a new state is made */
        fprintf(stderr, "colb serve: %s\n", err);
        return 1;
    }
    if (note[0] && !c.quiet)
        fprintf(stderr, "colb serve: warning: %s\n", note);
    if (http_probe(&c, err, sizeof err)) { /* before a new state is made */
        fprintf(stderr, "colb serve: %s\n", err);
        return 1;
    }
    if (!loopback(c.host) && !token[0] && !c.quiet)
        fprintf(stderr, "colb serve: warning: listening on %s, beyond this machine, without --token-file\n", c.host);
    /* the request threads' slice, inherited by every thread started from
     * here on; the background ones go back to the default (thread_sched.h) */
    if (c.request_slice_us)
        thread_sched_slice((unsigned)c.request_slice_us);
    static metrics m;
    metrics_init(&m);
    atomic_store_explicit(&m.max_connections, c.max_connections, memory_order_relaxed);
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
        fprintf(stderr, "colb serve: %s: finishing the requests in flight\n", sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGTERM");
    http_quiesce(h);
    engine_hurry(e); /* the rewards in flight synced at once, not at --commit-interval's pace */
    /* a second signal cuts the drain short (an operator who will not wait
     * for --drain-timeout); the final snapshot is still taken */
    int drained = http_wait_idle(h, (double)c.drain_timeout, &set);
    if (drained == -2 && !c.quiet)
        fprintf(stderr, "colb serve: a second signal: the requests still open are cut\n");
    else if (drained && !c.quiet)
        fprintf(stderr, "colb serve: requests still open after %zu s (--drain-timeout) are cut\n", c.drain_timeout);
    int rc2 = engine_stop(e);
    /* the answers of the jobs engine_stop applied (milliseconds); a request
     * still open after the drain, a stalled upload say, is cut */
    http_wait_idle(h, 1.0, NULL);
    http_stop(h);
    engine_free(e);
    return rc2 ? 1 : 0;
}
