/* bench_serve.c - load generator for `colb serve` (docs/performance.md,
 * "colb serve"). It starts a server on 127.0.0.1 (an ephemeral port, a
 * temporary state folder, durability on: rewards are answered after their
 * fsync), drives it over keep-alive HTTP/1.1 connections from one epoll
 * loop, and reports requests/s, items/s (decisions or rewards) and p50/p99
 * latency for the single and batch forms of choose and reward at d = 15,
 * K = 25, and of a mix (a choose, then a reward, alternately):
 *
 *   closed loop   every connection sends its next request as soon as the
 *                 answer to the last one arrives: the peak rate;
 *   open loop     requests at a fixed rate (half the peak), latency measured
 *                 from each request's scheduled time, so that a stalled
 *                 server is not hidden by the client waiting for it; on
 *                 keep-alive connections the server has taken in before
 *                 the schedule starts (one GET /healthz each), and counted
 *                 after its first 0.2 s (OPEN_WARMUP_S): the steady load.
 *
 * Usage: bench_serve [--quick] [--seconds S] [--repeats R] [--policy NAME]
 *                    [--users N] [--batch B] [--connections C] [--only FORM]
 *                    [--prestock N] [--warm N] [--open-rate R] [--rewards uniform|linear]
 *                    [--recovery [--recovery-n N]]
 * --warm makes N decisions and rewards them (batch forms) before the forms
 * run: the forms then measure a service that has learned (a policy past
 * its first epochs) rather than a fresh one.
 * --rewards linear gives the rewards a structure the recommended policy
 * can learn: users in 8 groups, each group's reward linear in the chosen
 * context plus noise (uniform, the default: no structure at all, so that the
 * policy's clusters never settle - its most expensive maintenance).
 * --open-rate runs the open loops at R requests/s instead of half of each
 * form's peak (so that servers compared run at the same load).
 * --repeats R runs each form's closed and open loops R times (3): the row
 * gives the best peak and the open loop of the median p99, and a line under
 * it every open loop's p99 and the server's CPU per request in the order
 * they ran (to see which loops a snapshot hit: docs/performance-history.md,
 * phase 38).
 * --prestock makes N decisions before the forms run, so that the reward
 * forms need no chooses between their runs (for a profile of rewards only;
 * mind --decision-window, 4e6 here).
 * --recovery instead measures restarts after SIGKILL: the time to serve
 * again after N/5 and N decisions and rewards (N = 1e6), all in the log or
 * with the default snapshots, and that the restarted model holds every
 * acknowledged one.
 * Then the server's CPU time per request (user + system, from /proc): what a
 * request costs whatever else the machine runs; and the share of the
 * machine's CPUs busy (client, server and kernel; /proc/stat) while the
 * load ran: a machine near 100 % queues requests whatever the server does,
 * and on a VM whose host charges the log's flushes to the same CPU budget
 * (docs/performance.md, "The machine") it is paused as well; and, where
 * the kernel runs DAMON (kdamond threads), their CPU time over each form's
 * open loops, whose bursts stall requests on such a guest. Answers
 * other than 200, and the rewards a batch answer refused, are counted over
 * every repeat and printed after the row.
 * A keep-alive connection the server ends, or no answer for STALL_S seconds
 * while requests are in flight and the server idle (under STALL_CPU of CPU
 * time meanwhile), is a server bug: bench_serve says so and exits 1 (it
 * does not reconnect, which would hide it). A server busy that long (a
 * policy's maintenance on a loaded machine) is waited for up to STALL_MAX.
 * $BENCH_NO_SNAPSHOTS (set) turns the server's snapshots off (but the one
 * every 300 s with changes).
 * Before the server starts, one busy loop per CPU runs for --seconds and the
 * gaps in its clock readings are reported: time the machine's CPUs were
 * taken away (a hypervisor's steal), a floor under the open loop's p99 that
 * no server removes. $BENCH_LAT_TRACE=FILE appends every open-loop request's
 * scheduled time (seconds from the loop's first), latency (ms) and path to
 * FILE, one line each, to see when a tail happened and to which requests,
 * after a line "# start T" per loop (T: its first request's scheduled time
 * on CLOCK_MONOTONIC, the clock the server's own times can be told on).
 * The server binary is $COLB, else build-native/colb, else build/colb;
 * $BENCH_HTTP_THREADS sets its --http-threads (2), $BENCH_STATE_BASE the
 * folder that holds its state folder (/tmp), $BENCH_SERVE_ARGS adds
 * options (e.g. "--wal-segment-bytes 0", to compare one binary both ways). The
 * server it starts is stopped (SIGTERM, then SIGKILL) by its pid. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define D 15
#define K 25
#define STALL_S 10.0    /* no answer for this long, requests in flight ... */
#define STALL_CPU 0.5   /* ... and at most this much server CPU time meanwhile: a stall */
#define STALL_MAX 300.0 /* no answer for this long, however busy: a failure */
#define MAX_REPEATS 16   /* --repeats at most */
#define WINDOW 4000000    /* the server's --decision-window */
#define WINDOW_S "4000000"
#define STOCK_MAX 3600000  /* decisions stocked at most: older ones than the window would expire */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static double rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* ---- the server ------------------------------------------------------------- */

static pid_t server_pid;
static char state_dir[256];

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* SIGINT, SIGTERM: the server goes too (atexit does not run). */
static void on_signal(int sig)
{
    if (server_pid > 0)
        kill(server_pid, SIGKILL);
    _exit(128 + sig);
}

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        for (int i = 0; i < 200; i++) {
            if (waitpid(server_pid, NULL, WNOHANG) == server_pid) {
                server_pid = 0;
                break;
            }
            usleep(50000);
        }
        if (server_pid > 0) {
            kill(server_pid, SIGKILL);
            waitpid(server_pid, NULL, 0);
        }
        server_pid = 0;
    }
    if (state_dir[0])
        nftw(state_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    state_dir[0] = '\0';
}

/* the server's --snapshot-every, --snapshot-replay and --snapshot-log-bytes
 * (its defaults; none at all with $BENCH_NO_SNAPSHOTS, to tell their cost) */
static const char *snapshot_every = "1000000", *snapshot_replay = "10", *snapshot_log = "1G";

/* Start a server on a new state folder, or (again) on the last one. */
static int start_server(const char *colb, const char *policy)
{
    if (!state_dir[0]) {
        const char *base = getenv("BENCH_STATE_BASE");
        if ((size_t)snprintf(state_dir, sizeof state_dir, "%s/colb-bench-serve-XXXXXX", base && *base ? base : "/tmp") >=
                sizeof state_dir || !mkdtemp(state_dir)) {
            state_dir[0] = '\0';
            return -1;
        }
    }
    char st[sizeof state_dir + 8];
    snprintf(st, sizeof st, "%s/state", state_dir);
    int fds[2];
    if (pipe(fds))
        return -1;
    server_pid = fork();
    if (server_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        char *argv[64] = { (char *)colb, "serve", "--listen", "127.0.0.1:0", "--state", st, "--dim", "15",
                           "--policy", (char *)policy, "--quiet", getenv("BENCH_VERBOSE") ? "0" : "1",
                           "--decision-window", WINDOW_S, "--max-connections", "4096", "--snapshot-every",
                           (char *)snapshot_every, "--snapshot-replay", (char *)snapshot_replay,
                           "--snapshot-log-bytes", (char *)snapshot_log, "--http-threads",
                           getenv("BENCH_HTTP_THREADS") ? getenv("BENCH_HTTP_THREADS") : "2" };
        int argc = 24;
        static char extra[1024]; /* $BENCH_SERVE_ARGS: more options, split at spaces */
        snprintf(extra, sizeof extra, "%s", getenv("BENCH_SERVE_ARGS") ? getenv("BENCH_SERVE_ARGS") : "");
        for (char *t = strtok(extra, " "); t && argc < 63; t = strtok(NULL, " "))
            argv[argc++] = t;
        argv[argc] = NULL;
        execv(colb, argv);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[512];
    int port = -1;
    if (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "127.0.0.1:");
        if (p)
            port = atoi(p + 10);
    }
    if (f)
        fclose(f);
    return port;
}

/* ---- an HTTP/1.1 client on epoll -------------------------------------------- */

typedef struct conn {
    int fd, busy;
    size_t n;                /* requests answered on this connection */
    int last_status;         /* of the last answer on it */
    char last[160];          /* its body's start */
    char *out;
    size_t out_len, out_off, out_cap;
    char *in;
    size_t in_len, in_cap;
    double t0;
    size_t tag;              /* the request in flight: next_tag when it was sent */
    const char *path;        /* and its path (static) */
} conn;

/* A next_fn may tag its request (next_tag); the resp_fn of its answer
 * reads the tag in resp_tag. */
static size_t next_tag, resp_tag;

typedef struct load load;
/* Write the next request's body into *body (len); 0 when there is none. */
typedef int (*next_fn)(load *L, const char **path, char **body, size_t *len);
typedef void (*resp_fn)(load *L, int status, const char *body, size_t len);

struct load {
    int port, nconn, ep;
    conn *c;
    next_fn next;
    resp_fn resp;
    double rate;             /* 0: closed loop */
    double seconds;
    double warm;             /* an open loop's first seconds, run and not counted */
    /* the server's CPU time and the machine's busy and total ticks when the
     * counted part began */
    double cpu0;
    unsigned long long busy0, all0;
    int counting;
    /* results */
    double *lat, *sched; /* latency, and the request's scheduled time and path (for $BENCH_LAT_TRACE) */
    const char **paths;
    size_t nlat, cap, errors, done;
    double elapsed;
    /* request scratch */
    char *body;
    size_t body_cap;
};

static int connect_one(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(0x7f000001);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void grow(char **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 8192;
    while (c < need)
        c *= 2;
    *p = realloc(*p, c);
    *cap = c;
}

static int send_next(load *L, conn *c, double t0)
{
    const char *path;
    char *body;
    size_t len;
    next_tag = 0;
    if (!L->next(L, &path, &body, &len))
        return 0;
    c->tag = next_tag;
    c->path = path;
    grow(&c->out, &c->out_cap, len + 256);
    int h = snprintf(c->out, 256, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n", path, len);
    memcpy(c->out + h, body, len);
    c->out_len = (size_t)h + len;
    c->out_off = 0;
    c->busy = 1;
    c->t0 = t0;
    /* written at once; only what the socket does not take waits for
     * EPOLLOUT (the client shares the server's cores: two epoll_ctl calls
     * and a wake-up per request were a fifth of its system calls) */
    ssize_t w = write(c->fd, c->out, c->out_len);
    if (w > 0)
        c->out_off = (size_t)w;
    if (c->out_off < c->out_len) {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
        epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
    return 1;
}

/* A complete response at the start of c->in: its total length, status and
 * body; 0 when incomplete. */
static size_t parse_response(conn *c, int *status, const char **body, size_t *blen)
{
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end)
        return 0;
    *status = atoi(c->in + 9);
    size_t cl = 0;
    char *p = memmem(c->in, (size_t)(end - c->in), "Content-Length:", 15);
    if (!p)
        p = memmem(c->in, (size_t)(end - c->in), "content-length:", 15);
    if (p)
        cl = (size_t)strtoull(p + 15, NULL, 10);
    size_t total = (size_t)(end + 4 - c->in) + cl;
    if (c->in_len < total)
        return 0;
    *body = end + 4;
    *blen = cl;
    return total;
}

static double server_cpu(void);
static void machine_cpu(unsigned long long *busy, unsigned long long *all);

/* L's connections, on one epoll set. */
static void connect_all(load *L)
{
    L->ep = epoll_create1(0);
    L->c = calloc((size_t)L->nconn, sizeof *L->c);
    for (int i = 0; i < L->nconn; i++) {
        L->c[i].fd = connect_one(L->port);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &L->c[i] };
        epoll_ctl(L->ep, EPOLL_CTL_ADD, L->c[i].fd, &ev);
    }
}

/* One GET /healthz on each of L's connections, every answer read: the
 * server has accepted them all and holds them as idle keep-alive
 * connections, as a service's clients' pools are, before an open loop's
 * schedule starts, so that accepting them is no part of the load. */
static void ready_all(load *L)
{
    static const char get[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    int waiting = L->nconn;
    for (int i = 0; i < L->nconn; i++)
        if (write(L->c[i].fd, get, sizeof get - 1) != (ssize_t)(sizeof get - 1)) {
            fprintf(stderr, "bench_serve: a warm-up request could not be sent: %s\n", strerror(errno));
            exit(1);
        }
    double t_end = now_s() + 10.0;
    struct epoll_event evs[256];
    while (waiting > 0) {
        if (now_s() > t_end) {
            fprintf(stderr, "bench_serve: %d of %d warm-up requests unanswered after 10 s\n", waiting, L->nconn);
            exit(1);
        }
        struct timespec to = { 0, 100000000 };
        int n = epoll_pwait2(L->ep, evs, 256, &to, NULL);
        for (int k = 0; k < n; k++) {
            conn *c = evs[k].data.ptr;
            grow(&c->in, &c->in_cap, c->in_len + 4096);
            ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
            if (r <= 0 && (r == 0 || (errno != EAGAIN && errno != EINTR))) {
                fprintf(stderr, "bench_serve: the server closed a connection during the warm-up\n");
                exit(1);
            }
            if (r > 0)
                c->in_len += (size_t)r;
            int status;
            const char *body;
            size_t blen, total = parse_response(c, &status, &body, &blen);
            if (total) {
                if (status != 200) {
                    fprintf(stderr, "bench_serve: GET /healthz answered %d during the warm-up\n", status);
                    exit(1);
                }
                memmove(c->in, c->in + total, c->in_len - total);
                c->in_len -= total;
                waiting--;
            }
        }
    }
}

static void run(load *L)
{
    if (!L->c)
        connect_all(L);
    double t_begin = now_s(), t_count = t_begin + L->warm, t_end = t_count + L->seconds, next_at = t_begin,
           last = t_count;
    int more = 1, busy = 0;
    double answered = t_begin; /* the last answer, or the start */
    double mark_t = 0, mark_cpu = 0; /* no answer since mark_t; the server's CPU time then */
    struct epoll_event evs[256];
    /* the open loop sends every request scheduled before t_end, also those
     * still waiting for a free connection at t_end: the most delayed ones,
     * which leaving out would flatter the tail */
    while (busy || (more && (L->rate > 0 ? next_at < t_end : now_s() < t_end))) {
        double t = now_s();
        if (!L->counting && t >= t_count) {
            L->counting = 1;
            L->cpu0 = server_cpu();
            machine_cpu(&L->busy0, &L->all0);
        }
        for (int i = 0; i < L->nconn && more && (L->rate > 0 ? next_at < t_end : t < t_end); i++) {
            conn *c = &L->c[i];
            if (c->busy)
                continue;
            if (L->rate > 0) {
                if (t < next_at)
                    break;
                more = send_next(L, c, next_at);
                next_at += 1.0 / L->rate;
            } else {
                more = send_next(L, c, t);
            }
            busy += more;
        }
        /* wait for answers, or until the next request is due (open loop:
         * a timeout in nanoseconds, so that the client does not spin); with
         * every connection in flight nothing can be sent before an answer
         * comes, so then wait for one: a client spinning meanwhile would take
         * a core from a server that is behind */
        double wait = L->rate > 0 && more && busy < L->nconn ? next_at - now_s() : 0.1;
        if (wait < 0)
            wait = 0;
        struct timespec to = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };
        int n = epoll_pwait2(L->ep, evs, 256, &to, NULL);
        if (busy && now_s() - answered > STALL_S / 2) { /* silent: is the server working? */
            double t_now = now_s(), cpu = server_cpu();
            if (mark_t < answered) {
                mark_t = t_now;
                mark_cpu = cpu;
            } else if (t_now - mark_t > STALL_S && cpu - mark_cpu < STALL_CPU) {
                fprintf(stderr, "bench_serve: the server answered nothing for %.0f s with %d requests in flight "
                        "and used %.2f s of CPU meanwhile (%zu answered before); a stalled server\n",
                        t_now - answered, busy, cpu - mark_cpu, L->done);
                exit(1);
            } else if (t_now - mark_t > STALL_S) {
                mark_t = t_now; /* busy: look again later */
                mark_cpu = cpu;
            }
            if (t_now - answered > STALL_MAX) {
                fprintf(stderr, "bench_serve: the server answered nothing for %.0f s with %d requests in flight "
                        "(%zu answered before)\n", t_now - answered, busy, L->done);
                exit(1);
            }
        }
        for (int k = 0; k < n; k++) {
            conn *c = evs[k].data.ptr;
            if ((evs[k].events & EPOLLOUT) && c->out_off < c->out_len) {
                ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
                if (w > 0)
                    c->out_off += (size_t)w;
                if (c->out_off == c->out_len) {
                    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                    epoll_ctl(L->ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                for (;;) {
                    grow(&c->in, &c->in_cap, c->in_len + 65536);
                    size_t room = c->in_cap - c->in_len;
                    ssize_t r = read(c->fd, c->in + c->in_len, room);
                    if (r <= 0) {
                        if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                            /* the server ended a keep-alive connection that
                             * asked for nothing of the kind: a server bug */
                            fprintf(stderr, "bench_serve: the server closed a keep-alive connection (%s; %zu "
                                    "answered on it, %zu in all, %s; the last answer: %d %s)\n",
                                    r == 0 ? "end of stream" : strerror(errno), c->n, L->done,
                                    c->busy ? "a request in flight" : "none in flight", c->last_status, c->last);
                            exit(1);
                        }
                        break;
                    }
                    c->in_len += (size_t)r;
                    if ((size_t)r < room)
                        break; /* drained (level-triggered: more data reports again), not read to EAGAIN */
                }
                int status;
                const char *body;
                size_t blen, total;
                while (c->busy && (total = parse_response(c, &status, &body, &blen)) > 0) {
                    double done = now_s();
                    int counted = c->t0 >= t_count; /* not a request of the warm-up */
                    if (counted && L->nlat == L->cap) {
                        L->cap = L->cap ? 2 * L->cap : 1 << 16;
                        L->lat = realloc(L->lat, L->cap * sizeof *L->lat);
                        L->sched = realloc(L->sched, L->cap * sizeof *L->sched);
                        L->paths = realloc(L->paths, L->cap * sizeof *L->paths);
                    }
                    if (counted) {
                        L->sched[L->nlat] = c->t0;
                        L->paths[L->nlat] = c->path;
                        L->lat[L->nlat++] = done - c->t0;
                        last = done;
                    }
                    answered = done;
                    if (status != 200)
                        L->errors++;
                    c->last_status = status;
                    snprintf(c->last, sizeof c->last, "%.*s", (int)(blen < 150 ? blen : 150), body);
                    resp_tag = c->tag;
                    if (L->resp)
                        L->resp(L, status, body, blen);
                    memmove(c->in, c->in + total, c->in_len - total);
                    c->in_len -= total;
                    c->busy = 0;
                    c->n++;
                    busy--;
                    L->done += counted;
                }
            }
        }
    }
    L->elapsed = last - t_count;
    for (int i = 0; i < L->nconn; i++) {
        close(L->c[i].fd);
        free(L->c[i].out);
        free(L->c[i].in);
    }
    free(L->c);
    close(L->ep);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(load *L, double p)
{
    if (!L->nlat)
        return 0;
    qsort(L->lat, L->nlat, sizeof *L->lat, cmp_d);
    size_t i = (size_t)(p * (double)(L->nlat - 1) + 0.5);
    return L->lat[i];
}

/* ---- the requests ------------------------------------------------------------ */

static size_t n_users = 10000, batch = 1000;
static char *ctx_pool[64];
static size_t ctx_len[64];
static double ctx_num[64][K * D]; /* the same contexts as numbers */
/* --rewards linear: user u belongs to group u % GROUPS, whose reward is
 * <theta_g, x> + N(0, NOISE^2), theta_g uniform on the unit sphere; the
 * rewards are drawn when a stocked decision's answer arrives (dec_y).
 * Uniform (the default): a reward uniform on [0, 1] whatever the context,
 * drawn when it is sent. */
#define GROUPS 8
#define NOISE 0.1
static int linear_rewards;
static double theta_g[GROUPS][D];
static double *dec_y;
static uint64_t *dec_seq;    /* decisions made, to reward */
static unsigned dec_gen;
static size_t n_dec, dec_cap, dec_next;
static size_t user_next;
static char *body_buf;
static size_t body_cap;

static char *b64_pool[64];
static size_t b64_len[64];

static char *b64_encode(const unsigned char *p, size_t n, size_t *len)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *s = malloc(4 * ((n + 2) / 3) + 3), *w = s;
    *w++ = '"';
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *w++ = a[v >> 18];
        *w++ = a[(v >> 12) & 63];
        *w++ = i + 1 < n ? a[(v >> 6) & 63] : '=';
        *w++ = i + 2 < n ? a[v & 63] : '=';
    }
    *w++ = '"';
    *w = '\0';
    *len = (size_t)(w - s);
    return s;
}

static void make_contexts(void)
{
    for (int p = 0; p < 64; p++) {
        char *s = malloc(K * D * 24 + 16), *w = s;
        *w++ = '[';
        for (int k = 0; k < K; k++) {
            *w++ = k ? ',' : '[';
            if (k)
                *w++ = '[';
            for (int j = 0; j < D; j++)
                w += sprintf(w, "%s%.6g", j ? "," : "", rnd() * 2 - 1);
            *w++ = ']';
        }
        *w++ = ']';
        *w = '\0';
        ctx_pool[p] = s;
        ctx_len[p] = (size_t)(w - s);
        unsigned char raw[K * D * 8];
        const char *q = s;
        for (int i = 0; i < K * D; i++) { /* the same numbers, as little-endian doubles */
            while (*q == '[' || *q == ',' || *q == ']')
                q++;
            double v = strtod(q, (char **)&q);
            ctx_num[p][i] = v;
            uint64_t u;
            memcpy(&u, &v, 8);
            for (int b = 0; b < 8; b++)
                raw[8 * i + b] = (unsigned char)(u >> (8 * b));
        }
        b64_pool[p] = b64_encode(raw, sizeof raw, &b64_len[p]);
    }
}

static int use_b64;

static double gauss(void)
{
    double u = rnd(), v = rnd();
    return sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

static void make_thetas(void)
{
    for (int g = 0; g < GROUPS; g++) {
        double n = 0;
        for (int j = 0; j < D; j++) {
            theta_g[g][j] = gauss();
            n += theta_g[g][j] * theta_g[g][j];
        }
        for (int j = 0; j < D; j++)
            theta_g[g][j] /= sqrt(n);
    }
}

/* The batch bodies (below): for each, its contexts (a pool index) and its
 * first user, so that an answer's decisions can be given their rewards. */
static int *batch_ctx;
static size_t *batch_start;

/* Take the decision ids out of an answer. */
static void record_decisions(load *L, int status, const char *body, size_t len)
{
    (void)L;
    if (status != 200)
        return;
    const char *p = body, *end = body + len;
    size_t first = n_dec;
    while ((p = memmem(p, (size_t)(end - p), "\"decision\":\"", 12))) {
        p += 12;
        unsigned g = (unsigned)strtoul(p, (char **)&p, 10);
        uint64_t s = strtoull(p + 1, (char **)&p, 10);
        if (n_dec == dec_cap) {
            dec_cap = dec_cap ? 2 * dec_cap : 1 << 16;
            dec_seq = realloc(dec_seq, dec_cap * sizeof *dec_seq);
            if (linear_rewards)
                dec_y = realloc(dec_y, dec_cap * sizeof *dec_y);
        }
        dec_gen = g;
        if (linear_rewards) {
            const char *a = memmem(p, (size_t)(end - p), "\"arm\":", 6);
            size_t i = resp_tag, j = n_dec - first, u = (batch_start[i] + j) % n_users;
            int arm = a ? atoi(a + 6) : 0;
            const double *x = ctx_num[batch_ctx[i]] + (size_t)(arm < 0 || arm >= K ? 0 : arm) * D;
            double y = NOISE * gauss();
            for (int k = 0; k < D; k++)
                y += theta_g[u % GROUPS][k] * x[k];
            dec_y[n_dec] = y;
        }
        dec_seq[n_dec++] = s;
    }
}

static int next_choose(load *L, const char **path, char **body, size_t *len)
{
    (void)L;
    int p = (int)(rnd() * 64);
    const char *ctx = use_b64 ? b64_pool[p] : ctx_pool[p];
    size_t cl = use_b64 ? b64_len[p] : ctx_len[p];
    grow(&body_buf, &body_cap, cl + 128);
    int h = sprintf(body_buf, "{\"user\":\"user-%zu\",\"contexts%s\":", user_next++ % n_users, use_b64 ? "_b64" : "");
    memcpy(body_buf + h, ctx, cl);
    memcpy(body_buf + h + cl, "}", 2);
    *path = "/v1/choose";
    *body = body_buf;
    *len = (size_t)h + cl + 1;
    return 1;
}

/* Batch bodies are built once (the client must not spend the machine's
 * cores formatting ids): n_users / batch of them (64 times as many with
 * --rewards linear), cycled. */
static char **batch_pool;
static size_t *batch_len, n_batch_pool, batch_next;

static int make_choose_batch(load *L, const char **path, char **body, size_t *len);

static int next_choose_batch(load *L, const char **path, char **body, size_t *len)
{
    if (!batch_pool) {
        n_batch_pool = n_users / batch ? n_users / batch : 1;
        if (linear_rewards) /* a user sees 64 sets of contexts, not always one: its data span every direction */
            n_batch_pool *= 64;
        batch_pool = calloc(n_batch_pool, sizeof *batch_pool);
        batch_len = calloc(n_batch_pool, sizeof *batch_len);
        batch_ctx = calloc(n_batch_pool, sizeof *batch_ctx);
        batch_start = calloc(n_batch_pool, sizeof *batch_start);
        for (size_t i = 0; i < n_batch_pool; i++) {
            batch_start[i] = user_next % n_users;
            batch_ctx[i] = make_choose_batch(L, path, body, len);
            batch_pool[i] = malloc(*len);
            memcpy(batch_pool[i], *body, *len);
            batch_len[i] = *len;
        }
    }
    size_t i = batch_next++ % n_batch_pool;
    next_tag = i;
    *path = "/v1/choose/batch";
    *body = batch_pool[i];
    *len = batch_len[i];
    return 1;
}

static int make_choose_batch(load *L, const char **path, char **body, size_t *len)
{
    (void)L;
    int p = (int)(rnd() * 64);
    grow(&body_buf, &body_cap, ctx_len[p] + b64_len[p] + batch * 24 + 64);
    char *w = body_buf;
    w += sprintf(w, "{\"contexts_b64\":");
    memcpy(w, b64_pool[p], b64_len[p]);
    w += b64_len[p];
    w += sprintf(w, ",\"users\":[");
    size_t start = user_next % n_users;
    for (size_t i = 0; i < batch; i++)
        w += sprintf(w, "%s\"user-%zu\"", i ? "," : "", (start + i) % n_users);
    user_next += batch;
    w += sprintf(w, "]}");
    *path = "/v1/choose/batch";
    *body = body_buf;
    *len = (size_t)(w - body_buf);
    return p; /* its contexts */
}

/* The reward of stocked decision i. */
static double reward_of(size_t i)
{
    return linear_rewards ? dec_y[i] : rnd();
}

static int next_reward(load *L, const char **path, char **body, size_t *len)
{
    (void)L;
    if (dec_next >= n_dec)
        return 0;
    grow(&body_buf, &body_cap, 128);
    size_t i = dec_next++;
    *len = (size_t)sprintf(body_buf, "{\"decision\":\"%u-%llu\",\"reward\":%.6g}", dec_gen,
                           (unsigned long long)dec_seq[i], reward_of(i));
    *path = "/v1/reward";
    *body = body_buf;
    return 1;
}

/* A service's usual traffic: a choose (JSON), then a reward of a stocked
 * decision, alternately - each choose waits for the updates of the rewards
 * before it (docs/serve.md, "Consistency model"). */
static int next_mixed(load *L, const char **path, char **body, size_t *len)
{
    static unsigned long n;
    return n++ % 2 ? next_reward(L, path, body, len) : next_choose(L, path, body, len);
}

static int next_reward_batch(load *L, const char **path, char **body, size_t *len)
{
    (void)L;
    if (dec_next + batch > n_dec)
        return 0;
    grow(&body_buf, &body_cap, batch * 64 + 32);
    char *w = body_buf;
    w += sprintf(w, "{\"rewards\":[");
    for (size_t i = 0; i < batch; i++, dec_next++)
        w += sprintf(w, "%s{\"decision\":\"%u-%llu\",\"reward\":%.6g}", i ? "," : "", dec_gen,
                     (unsigned long long)dec_seq[dec_next], reward_of(dec_next));
    w += sprintf(w, "]}");
    *path = "/v1/reward/batch";
    *body = body_buf;
    *len = (size_t)(w - body_buf);
    return 1;
}

/* Count the refused rewards of a batch answer ({"conflicts":[{"index":...}]})
 * as errors: a reward form must measure applied rewards. */
static void record_conflicts(load *L, int status, const char *body, size_t len)
{
    const char *p = body, *end = body + len;
    while (status == 200 && (p = memmem(p, (size_t)(end - p), "\"index\":", 8))) {
        L->errors++;
        p += 8;
    }
}

/* Make sure at least n unrewarded decisions are at hand (batch chooses),
 * at most STOCK_MAX: a reward run that uses them up ends early (its rate is
 * taken up to its last answer). */
static size_t stock_left; /* batches of decisions stock() still sends */

static int next_stock(load *L, const char **path, char **body, size_t *len)
{
    if (!stock_left)
        return 0;
    stock_left--;
    return next_choose_batch(L, path, body, len);
}

static void stock(int port, size_t n)
{
    if (n > STOCK_MAX)
        n = STOCK_MAX;
    size_t fresh = 1; /* a batch at least: its ids tell how many decisions the server has made */
    do { /* a closed loop for just as many batches as needed */
        size_t have = n_dec - dec_next, need = have < n ? (n - have + batch - 1) / batch : 0;
        load L = { .port = port, .nconn = 2, .next = next_stock, .resp = record_decisions, .seconds = 1e9 };
        stock_left = need > fresh ? need : fresh;
        fresh = 0;
        run(&L);
        free(L.lat);
        free(L.sched);
        /* drop the decisions the window is about to push out (made
         * before other forms' chooses, or before this top-up) */
        while (dec_next < n_dec && dec_seq[dec_next] + WINDOW / 20 * 19 < dec_seq[n_dec - 1])
            dec_next++;
    } while (n_dec - dec_next < n);
}

typedef struct result {
    double rps, dps, p50, p99, cpu_us; /* cpu_us: the server's CPU time per request */
    double busy;                       /* the machine's CPUs busy meanwhile, % */
    size_t errors;
} result;

/* The machine's CPU time so far, busy and in all (jiffies over every CPU,
 * the first line of /proc/stat; idle and iowait are not busy, steal is
 * not available). 0 and 0 when unreadable. */
static void machine_cpu(unsigned long long *busy, unsigned long long *all)
{
    unsigned long long v[8] = { 0 };
    *busy = *all = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &v[6], &v[7]);
    fclose(f);
    if (n != 8)
        return;
    *busy = v[0] + v[1] + v[2] + v[5] + v[6]; /* user nice system irq softirq */
    *all = *busy + v[3] + v[4] + v[7];        /* + idle iowait steal */
}

/* Process pid's CPU time so far (user + system), seconds; 0 when unreadable. */
static double proc_cpu(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The server's CPU time so far (user + system), seconds. */
static double server_cpu(void) { return proc_cpu((long)server_pid); }

/* The CPU time so far of the kernel's DAMON threads (kdamond.*), seconds;
 * -1 when there are none. On the guests colb is measured on they walk the
 * page tables of sampled pages, in bursts that stall requests
 * (docs/performance.md, "The machine"): printed beside each form's loops. */
static double damon_cpu(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    double sum = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[300], comm[32] = "";
        long pid = strtol(e->d_name, NULL, 10);
        if (pid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%ld/comm", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        int got = fgets(comm, sizeof comm, f) != NULL;
        fclose(f);
        if (got && !strncmp(comm, "kdamond", 7))
            sum = (sum < 0 ? 0 : sum) + proc_cpu(pid);
    }
    closedir(d);
    return sum;
}

/* An open loop's first 0.2 s run but are not counted (latencies, rate,
 * CPU): its load starts from nothing at full rate, and its first ~25-50 ms
 * were answered in 8-14 ms (median) however the server was prepared - its
 * connections taken in, a pause of 0.3 s before - a start, not the steady
 * load at that rate which the open loop measures (docs/performance.md,
 * "colb serve"). */
#define OPEN_WARMUP_S 0.2

static result measure(int port, next_fn next, resp_fn resp, int conns, double seconds, double rate, size_t per)
{
    load L = { .port = port, .nconn = conns, .next = next, .resp = resp, .seconds = seconds, .rate = rate };
    unsigned long long b1, a1;
    if (rate > 0) { /* taken in by the server before the schedule starts */
        connect_all(&L);
        ready_all(&L);
        L.warm = OPEN_WARMUP_S;
    }
    run(&L);
    double cpu = server_cpu() - L.cpu0;
    machine_cpu(&b1, &a1);
    unsigned long long b0 = L.busy0, a0 = L.all0;
    const char *trace = getenv("BENCH_LAT_TRACE");
    if (trace && rate > 0) { /* each open-loop request: its scheduled time (s from the first), latency (ms), path */
        FILE *f = fopen(trace, "a");
        if (f && L.nlat)
            fprintf(f, "# start %.6f\n", L.sched[0]);
        for (size_t i = 0; f && i < L.nlat; i++)
            fprintf(f, "%.6f %.3f %s\n", L.sched[i] - L.sched[0], L.lat[i] * 1e3, L.paths[i]);
        if (f)
            fclose(f);
    }
    result r = { (double)L.done / L.elapsed, (double)(L.done * per) / L.elapsed, pct(&L, 0.5), pct(&L, 0.99),
                 L.done ? cpu / (double)L.done * 1e6 : 0,
                 a1 > a0 ? 100.0 * (double)(b1 - b0) / (double)(a1 - a0) : 0, L.errors };
    free(L.lat);
    free(L.sched);
    free(L.paths);
    return r;
}

static void row(const char *form, const char *mode, int conns, result r, size_t per)
{
    printf("| %-13s | %-22s | %4d | %10.0f | %12.0f | %7.3f | %7.3f | %9.1f | %5.0f |", form, mode, conns, r.rps,
           per > 1 ? r.dps : r.rps, r.p50 * 1e3, r.p99 * 1e3, r.cpu_us, r.busy);
    if (r.errors)
        printf(" %zu answers other than 200 or rewards refused", r.errors);
    printf("\n");
    fflush(stdout);
}

/* ---- the machine's own stalls ------------------------------------------------ */

/* One busy loop per CPU for a while, each reading the clock: a gap between
 * two readings is time its CPU was taken away (by the hypervisor, when the
 * machine is a virtual one: steal). No server runs meanwhile. Such gaps
 * bound the open loop's p99 from below, whatever the server does: a request
 * that arrives in one waits it out, and so do those queued behind it. */
#define GAP_S 0.0005 /* a gap counted: half a millisecond without the CPU */

typedef struct stall_probe {
    double seconds, longest, total;
    size_t gaps;
} stall_probe;

static void *stall_loop(void *arg)
{
    stall_probe *p = arg;
    double t0 = now_s(), prev = t0, t;
    while ((t = now_s()) - t0 < p->seconds) {
        if (t - prev > GAP_S) {
            p->gaps++;
            p->total += t - prev;
            if (t - prev > p->longest)
                p->longest = t - prev;
        }
        prev = t;
    }
    return NULL;
}

static void report_stalls(double seconds)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    ncpu = ncpu < 1 ? 1 : ncpu > 64 ? 64 : ncpu;
    stall_probe p[64] = { { 0 } };
    pthread_t th[64];
    long started = 0;
    for (long i = 0; i < ncpu; i++) {
        p[i].seconds = seconds;
        if (pthread_create(&th[i], NULL, stall_loop, &p[i]) == 0)
            started++;
        else
            break;
    }
    stall_probe all = { 0 };
    for (long i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        all.gaps += p[i].gaps;
        all.total += p[i].total;
        if (p[i].longest > all.longest)
            all.longest = p[i].longest;
    }
    if (!started)
        return;
    printf("The machine's own stalls (busy loops on all %ld CPUs for %.0f s, no server): %zu gaps of over %.1f ms, "
           "%.1f per CPU-second, the longest %.2f ms, %.2f %% of the time.\n\n", started, seconds, all.gaps,
           GAP_S * 1e3, (double)all.gaps / (seconds * (double)started), all.longest * 1e3,
           100.0 * all.total / (seconds * (double)started));
    fflush(stdout);
}

/* ---- recovery (--recovery) ---------------------------------------------------- */

/* GET path (Connection: close) into buf (cap bytes, NUL-terminated). 0 or -1. */
static int get_body(int port, const char *path, char *buf, size_t cap)
{
    int fd = connect_one(port);
    if (fd < 0)
        return -1;
    fcntl(fd, F_SETFL, 0);
    char req[256];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    size_t n = 0;
    ssize_t r;
    if (write(fd, req, (size_t)rl) != rl) {
        close(fd);
        return -1;
    }
    while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    buf[n] = '\0';
    return 0;
}

/* GET /v1/stats: the decisions and rewards in the model. */
static int get_stats(int port, unsigned long long *dec, unsigned long long *rew)
{
    char buf[8192];
    if (get_body(port, "/v1/stats", buf, sizeof buf))
        return -1;
    const char *d = strstr(buf, "\"decisions\":"), *w = strstr(buf, "\"rewards\":");
    if (!d || !w)
        return -1;
    *dec = strtoull(d + 12, NULL, 10);
    *rew = strtoull(w + 10, NULL, 10);
    return 0;
}

/* A histogram of /metrics: count, sum and cumulative buckets. */
typedef struct hist {
    double count, sum;
    double le[40], cum[40];
    int nb;
} hist;

static int hist_read(const char *buf, const char *name, hist *h)
{
    char ckey[128], skey[128], key[128];
    snprintf(ckey, sizeof ckey, "%s_count ", name);
    snprintf(skey, sizeof skey, "%s_sum ", name);
    const char *c = strstr(buf, ckey), *t = strstr(buf, skey);
    if (!c || !t)
        return -1;
    h->count = atof(c + strlen(ckey));
    h->sum = atof(t + strlen(skey));
    h->nb = 0;
    snprintf(key, sizeof key, "%s_bucket{le=\"", name);
    for (const char *b = buf; h->nb < 40 && (b = strstr(b, key)); b++) {
        const char *v = strchr(b, '}');
        if (!v)
            break;
        h->le[h->nb] = strncmp(b + strlen(key), "+Inf", 4) ? atof(b + strlen(key)) : 1e300;
        h->cum[h->nb++] = atof(v + 1);
    }
    return 0;
}

/* The upper bound of the histogram bucket that holds the q-quantile of
 * the observations made between `before` and `now` (0 if none). */
static double hist_quantile(const hist *now, const hist *before, double q)
{
    double n = now->count - before->count;
    for (int b = 0; n > 0 && b < now->nb && b < before->nb; b++)
        if (now->cum[b] - before->cum[b] >= q * n)
            return now->le[b];
    return 0;
}

/* ... of the longest of them. */
static double hist_longest(const hist *now, const hist *before) { return hist_quantile(now, before, 1.0); }

/* The snapshots the server has taken (the writer's pauses for them) and
 * its group commits (their fdatasync). */
typedef struct snaps {
    hist pause, fsync, write, policy;
    double bytes; /* the last snapshot's */
} snaps;

static int get_snaps(int port, snaps *s)
{
    static char buf[1 << 16];
    if (get_body(port, "/metrics", buf, sizeof buf))
        return -1;
    const char *b = strstr(buf, "\ncolb_snapshot_bytes ");
    s->bytes = b ? atof(b + 21) : 0;
    /* a server before colb_snapshot_policy_seconds has none: no saves */
    if (hist_read(buf, "colb_snapshot_policy_seconds", &s->policy))
        memset(&s->policy, 0, sizeof s->policy);
    return hist_read(buf, "colb_snapshot_pause_seconds", &s->pause) ||
           hist_read(buf, "colb_snapshot_write_seconds", &s->write) ||
           hist_read(buf, "colb_wal_fsync_seconds", &s->fsync) ? -1 : 0;
}

/* After a row: the snapshots taken since *before and the writer's pauses
 * for them, the group commits and their fdatasync (in all; the histogram
 * bound of the longest). */
static void snaps_note(int port, snaps *before)
{
    snaps now;
    if (get_snaps(port, &now))
        return;
    double n = now.pause.count - before->pause.count, nf = now.fsync.count - before->fsync.count;
    double np = now.policy.count - before->policy.count;
    if (n > 0)
        printf("  (%.0f snapshot(s) meanwhile: the writer paused %.1f ms in all, the longest pause <= %g ms; "
               "%.0f policy saved by the applier in %.1f ms in all; written in %.2f s in all, the last %.1f MB)\n", n,
               1e3 * (now.pause.sum - before->pause.sum), 1e3 * hist_longest(&now.pause, &before->pause), np,
               1e3 * (now.policy.sum - before->policy.sum), now.write.sum - before->write.sum, now.bytes / 1e6);
    if (nf > 0)
        printf("  (%.0f group commits, %.2f ms per fdatasync on average, p50 <= %g ms, p99 <= %g ms, the longest "
               "<= %g ms)\n", nf, 1e3 * (now.fsync.sum - before->fsync.sum) / nf,
               1e3 * hist_quantile(&now.fsync, &before->fsync, 0.5), 1e3 * hist_quantile(&now.fsync, &before->fsync, 0.99),
               1e3 * hist_longest(&now.fsync, &before->fsync));
    *before = now;
}

static double log_bytes;

static int sum_log(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    /* the segments (not the spare or recycled one); preallocated ones count
     * at their file size: BENCH_SERVE_ARGS="--wal-segment-bytes 0" for the
     * bytes written */
    if (flag == FTW_F && strstr(p, "/wal-") && !strstr(p, ".tmp"))
        log_bytes += (double)st->st_size;
    return 0;
}

/* n decisions (batch chooses), all rewarded (batch rewards), then SIGKILL
 * once every answer is in, and a restart on the same folder: the time from
 * the restart to the port's line (recovery: snapshot load, log replay, the
 * new generation's fsynced START record), and whether the restarted model
 * has every acknowledged decision and reward. */
static int recovery(const char *colb, const char *policy, size_t n, const char *snapshots)
{
    int port = start_server(colb, policy);
    if (port <= 0)
        return -1;
    n_dec = dec_next = 0;
    stock(port, n);
    load L = { .port = port, .nconn = 16, .next = next_reward_batch, .seconds = 1e9 };
    run(&L);
    free(L.lat);
    free(L.sched);
    unsigned long long d0, r0, d1 = 0, r1 = 0;
    if (L.errors || get_stats(port, &d0, &r0))
        return -1;
    usleep(500000);
    kill(server_pid, SIGKILL);
    waitpid(server_pid, NULL, 0);
    log_bytes = 0;
    nftw(state_dir, sum_log, 16, FTW_PHYS);
    double t0 = now_s();
    port = start_server(colb, policy);
    double t = now_s() - t0;
    if (port <= 0 || get_stats(port, &d1, &r1))
        return -1;
    printf("| %10llu | %10llu | %-34s | %8.1f | %9.3f | %s |\n", d0, r0, snapshots, log_bytes / 1e6, t,
           d1 == d0 && r1 == r0 ? "yes" : "NO");
    fflush(stdout);
    stop_server();
    return d1 == d0 && r1 == r0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    double seconds = 3;
    int repeats = 3, conns = 16;
    const char *policy = "recommended", *only = NULL;
    int recover = 0;
    size_t recovery_n = 1000000, prestock = 0, warm = 0;
    double open_rate = 0; /* --open-rate: the open loop's rate (requests/s) instead of half the peak */
    if (getenv("BENCH_NO_SNAPSHOTS"))
        snapshot_every = "1000000000000", snapshot_replay = "0", snapshot_log = "1000000000000";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            seconds = 1, repeats = 1;
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--policy") && i + 1 < argc)
            policy = argv[++i];
        else if (!strcmp(argv[i], "--users") && i + 1 < argc)
            n_users = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc)
            conns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--prestock") && i + 1 < argc)
            prestock = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--warm") && i + 1 < argc)
            warm = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--open-rate") && i + 1 < argc)
            open_rate = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rewards") && i + 1 < argc && (!strcmp(argv[i + 1], "uniform") ||
                                                                   !strcmp(argv[i + 1], "linear")))
            linear_rewards = !strcmp(argv[++i], "linear");
        else if (!strcmp(argv[i], "--recovery"))
            recover = 1;
        else if (!strcmp(argv[i], "--recovery-n") && i + 1 < argc)
            recovery_n = (size_t)atol(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_serve [--quick] [--seconds S] [--repeats R] [--policy NAME] [--users N] "
                    "[--batch B] [--connections C] [--only FORM] [--prestock N] [--warm N] [--open-rate R] "
                    "[--rewards uniform|linear] [--recovery [--recovery-n N]]\n");
            return 2;
        }
    }
    if (repeats < 1 || repeats > MAX_REPEATS) {
        fprintf(stderr, "bench_serve: --repeats %d is not in [1, %d]\n", repeats, MAX_REPEATS);
        return 2;
    }
    const char *colb = getenv("COLB");
    if (!colb || !*colb)
        colb = access("build-native/colb", X_OK) == 0 ? "build-native/colb" : "build/colb";
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    make_contexts();
    if (linear_rewards)
        make_thetas();
    atexit(stop_server);
    if (recover) {
        printf("colb serve recovery (%s, d = %d, K = %d, %zu users, batches of %zu; SIGKILL once every answer is in, "
               "restart on the same --state)\n\n| decisions  |  rewards   | snapshots | log MB | restart s | "
               "all acknowledged in the model |\n|---:|---:|---|---:|---:|---|\n", policy, D, K, n_users, batch);
        const struct { size_t n; const char *every, *replay, *what; } runs[] = {
            { recovery_n / 5, "1000000000", "0", "none: all in the log" },
            { recovery_n, "1000000000", "0", "none: all in the log" },
            { recovery_n, "1000000", "10", "the defaults (1e6 rewards, 10 s)" },
        };
        for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
            snapshot_every = runs[r].every;
            snapshot_replay = runs[r].replay;
            if (recovery(colb, policy, runs[r].n, runs[r].what)) {
                fprintf(stderr, "bench_serve: the recovery run of %zu decisions failed\n", runs[r].n);
                return 1;
            }
        }
        return 0;
    }
    report_stalls(seconds);
    int port = start_server(colb, policy);
    if (port <= 0) {
        fprintf(stderr, "bench_serve: could not start %s serve\n", colb);
        return 1;
    }
    printf("colb serve load (%s, d = %d, K = %d, %zu users, batches of %zu, rewards %s, durability on, %d x %.0f s: "
           "the best peak, the open loop's median p99; client and server share this machine's cores; items/s: "
           "decisions/s, rewards/s for the reward forms, requests/s for mixed)\n\n", policy, D,
           K, n_users, batch,
           linear_rewards ? "linear in 8 groups of users" : "uniform", repeats, seconds);
    printf("| %-13s | %-22s | %4s | %10s | %12s | %7s | %7s | %9s | %5s |\n", "form", "load", "conn", "requests/s",
           "items/s", "p50 ms", "p99 ms", "server CPU us/request", "machine busy %");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    /* every user seen once, so that single chooses measure the steady state */
    user_next = 0;
    measure(port, next_choose_batch, record_decisions, 1, 0.01 + (double)n_users / 1e5, 0, batch);
    if (warm) { /* a service that has learned: warm decisions made and rewarded */
        double t0 = now_s();
        stock(port, warm);
        result w = measure(port, next_reward_batch, record_conflicts, 4, 1e9, 0, batch);
        fprintf(stderr, "bench_serve: warmed up with %zu rewarded decisions in %.1f s (%zu refused)\n",
                warm, now_s() - t0, w.errors);
    }
    if (prestock) { /* the reward forms' decisions made up front, so that a profile of them shows no chooses */
        stock(port, prestock);
        fprintf(stderr, "bench_serve: %zu decisions stocked\n", n_dec - dec_next);
    }
    /* a reward is answered after an fsync of a few ms; its throughput is
     * the requests in flight per fsync: many connections */
    struct { const char *form; next_fn next; int conns; size_t per; int reward, b64; } forms[] = {
        { "choose (JSON)", next_choose, conns, 1, 0, 0 },
        { "choose (b64)", next_choose, conns, 1, 0, 1 },
        { "reward", next_reward, 16 * conns, 1, 1, 0 },
        { "choose/batch", next_choose_batch, 4, batch, 0, 1 },
        { "reward/batch", next_reward_batch, 16, batch, 1, 0 },
        { "mixed", next_mixed, 16 * conns, 1, 1, 0 },
    };
    snaps sn;
    memset(&sn, 0, sizeof sn);
    get_snaps(port, &sn);
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        if (only && strcmp(only, forms[f].form))
            continue;
        use_b64 = forms[f].b64;
        result best = { 0 };
        size_t err = 0;
        for (int r = 0; r < repeats; r++) {
            /* decisions for the run: a guess the first time (a run that uses
             * them up ends early, its rate taken up to its last answer), then
             * what the best run used and a third more - not millions more,
             * which would sit unrewarded in the window and make every
             * snapshot the server takes meanwhile that much larger */
            if (forms[f].reward)
                stock(port, best.rps > 0 ? (size_t)(1.3 * best.rps * (double)forms[f].per * seconds) + forms[f].per
                                         : (size_t)(seconds * (forms[f].per > 1 ? 2e5 : 6e4)));
            result x = measure(port, forms[f].next, forms[f].reward ? record_conflicts : NULL, forms[f].conns, seconds,
                               0, forms[f].per);
            err += x.errors;
            if (x.rps > best.rps)
                best = x;
        }
        best.errors = err; /* over every repeat */
        err = 0;
        row(forms[f].form, "closed loop (peak)", forms[f].conns, best, forms[f].per);
        snaps_note(port, &sn);
        /* half the peak (or --open-rate), open loop: the repeat of the median
         * p99 (the upper one of an even count), not the best, which would
         * report the luckiest run's tail */
        double rate = open_rate > 0 ? open_rate : best.rps / 2;
        double damon0 = damon_cpu();
        result runs[MAX_REPEATS];
        for (int r = 0; r < repeats; r++) {
            if (forms[f].reward)
                stock(port, (size_t)((seconds + OPEN_WARMUP_S) * rate * (double)forms[f].per * 1.1) + forms[f].per);
            runs[r] = measure(port, forms[f].next, forms[f].reward ? record_conflicts : NULL, forms[f].conns, seconds,
                              rate, forms[f].per);
            err += runs[r].errors;
        }
        result order[MAX_REPEATS]; /* as they ran */
        memcpy(order, runs, sizeof order);
        for (int a = 1; a < repeats; a++) /* insertion sort by p99: a few repeats */
            for (int b = a; b > 0 && runs[b].p99 < runs[b - 1].p99; b--) {
                result tmp = runs[b];
                runs[b] = runs[b - 1];
                runs[b - 1] = tmp;
            }
        result half = runs[repeats / 2];
        half.errors = err;
        char mode[48];
        snprintf(mode, sizeof mode, "open loop, %.0f/s", rate);
        row(forms[f].form, mode, forms[f].conns, half, forms[f].per);
        if (repeats > 1) { /* the median hides how far the runs are apart */
            printf("  (p99 of each open-loop run in order, ms:");
            for (int r = 0; r < repeats; r++)
                printf(" %.2f", 1e3 * order[r].p99);
            printf("; the server's CPU us/request:");
            for (int r = 0; r < repeats; r++)
                printf(" %.1f", order[r].cpu_us);
            printf(")\n");
        }
        double damon = damon_cpu();
        if (damon0 >= 0 && damon >= damon0)
            printf("  (the kernel's DAMON threads used %.0f ms of CPU over the open loops)\n", 1e3 * (damon - damon0));
        snaps_note(port, &sn);
    }
    static char stats[4096]; /* what the policy made of the load */
    if (!get_body(port, "/v1/stats", stats, sizeof stats)) {
        const char *c = strstr(stats, "\"clusters\":");
        printf("\n(the policy at the end: %ld clusters)\n", c ? atol(c + 11) : -1L);
    }
    return 0;
}
