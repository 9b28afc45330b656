/* config.c - the options of `colb serve` (config.h): one table gives each
 * service, limit and durability option's name, kind, target, range,
 * default and help line; the policy options are the library's public
 * listing of policy parameters (colb/params.h: the keys, checks, defaults
 * and help of `colb run` and Python), so every policy parameter can be
 * set, and the parser, --help and the canonical policy text cannot
 * disagree. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "applier.h" /* APPLIER_* */
#include "args.h" /* the command line read as every subcommand reads it */
#include "decisions.h" /* DECISIONS_WINDOW_MAX */
#include "options.h" /* the tool's strict parsers of numbers, byte counts and choices */

typedef enum kind { K_SIZE, K_DOUBLE, K_BOOL, K_ENUM, K_STR, K_BYTES, K_LISTEN, K_POLICY, K_FLAG } kind;

typedef struct opt {
    const char *name;
    kind k;
    size_t off;             /* offset in serve_config */
    double lo, hi;
    const char *choices;    /* K_ENUM: "a|b" -> 0, 1 */
    const char *group, *help;
} opt;

#define C(f) offsetof(serve_config, f)

static const opt OPTS[] = {
    { "listen", K_LISTEN, 0, 0, 0, NULL, "service", "ADDR:PORT: address to listen on (port 0: any free port, printed at start)" },
    { "state", K_STR, C(state_dir), 0, SERVE_PATH_LEN, NULL, "service", "DIR: the state folder, required (created if missing, else resumed)" },
    { "token-file", K_STR, C(token_file), 0, SERVE_PATH_LEN, NULL, "service", "FILE: require 'Authorization: Bearer TOKEN' with TOKEN read from FILE" },
    { "http-threads", K_SIZE, C(http_threads), 1, 64, NULL, "service", "T: threads serving HTTP (parsing runs there; one writer applies)" },
    { "http-loop", K_ENUM, C(http_loop), 0, 0, "poll|epoll", "service", "how the HTTP threads wait for their connections: epoll = one libmicrohttpd daemon per thread on epoll, its cost per wake-up independent of the idle connections; poll = libmicrohttpd's thread pool on poll(), a cost per wake-up linear in the thread's connections (docs/serve.md)" },
    { "apply-queue", K_SIZE, C(apply_queue), 0, 1e8, NULL, "service", "U: rewards whose policy updates a second thread runs while the writer checks and logs the next ones (a reward is answered once logged durably; a choose or a read first waits for the updates before it); 0: the writer runs them itself" },
    { "applier-class", K_ENUM, C(applier_class), 0, 0, "normal|idle|batches", "service", "the applier thread's scheduling class: normal = SCHED_OTHER; idle = SCHED_IDLE (it runs only on a core nothing else wants, so a burst of updates never delays the answers; back in the default class while the writer waits for it), for machines with idle time between bursts - under sustained load the updates fall behind and the writer runs them itself; batches = idle while it runs a reward batch's updates (a request of more than 8 rewards), normal for single rewards. The idle classes need a process that may leave SCHED_IDLE again (root, CAP_SYS_NICE, or ulimit -e 20 or more), else normal (docs/serve.md)" },
    { "request-slice", K_SIZE, C(request_slice_us), 0, 100000, NULL, "service", "US: the time slice the kernel's scheduler (EEVDF, Linux 6.12 or later) gives the threads that answer requests (HTTP, writer, log syncer; 0 = the kernel's default; the kernel raises a value below 100 to 100): a short one lets them take a core from background work (the applier, snapshots) sooner; older kernels ignore it" },
    { "dump-log", K_FLAG, C(dump_log), 0, 1, NULL, "service", "print the state folder's log as JSON lines and exit (no server)" },
    { "quiet", K_BOOL, C(quiet), 0, 1, NULL, "service", "no operational messages on stderr" },
    /* policy */
    { "policy", K_POLICY, 0, 0, 0, NULL, "policy", "NAME: the policy served (colb policies; not club or the oracles)" },
    /* ... then every key of colb_policy_param_info but users and max-memory */
    /* limits */
    { "max-body", K_BYTES, C(max_body), 64, 1e9, NULL, "limits", "BYTES: largest request body (413 beyond)" },
    { "max-contexts", K_SIZE, C(max_contexts), 1, 1e6, NULL, "limits", "K: most contexts in one round (400 beyond)" },
    { "max-batch", K_SIZE, C(max_batch), 1, 1e7, NULL, "limits", "B: most users or rewards or rounds in one request (400 beyond)" },
    { "max-users", K_SIZE, C(max_users), 1, 1e10, NULL, "limits", "N: most users (507 beyond; the memory budget may stop sooner)" },
    { "max-id-bytes", K_SIZE, C(max_id_bytes), 1, 4096, NULL, "limits", "n: longest user id in bytes (400 beyond)" },
    { "decision-window", K_SIZE, C(decision_window), 1, DECISIONS_WINDOW_MAX, NULL, "limits", "W: the last W decisions can be rewarded (older: 409 expired)" },
    { "max-connections", K_SIZE, C(max_connections), 1, 1e6, NULL, "limits", "C: open connections (more wait in the kernel's queue)" },
    { "max-connections-per-ip", K_SIZE, C(max_connections_per_ip), 0, 1e6, NULL, "limits", "C: open connections per client address (0: no limit)" },
    { "idle-timeout", K_SIZE, C(idle_timeout), 1, 86400, NULL, "limits", "S: seconds a connection may stay silent before it is closed, or take from its opening or previous answer to the end of a request's headers" },
    { "request-timeout", K_SIZE, C(request_timeout), 1, 86400, NULL, "limits", "S: seconds to send one request's body (408 beyond; cut if still arriving --idle-timeout later) or to read an answer" },
    { "max-queue", K_SIZE, C(max_queue), 1, 1e8, NULL, "limits", "Q: requests waiting for the writer (503 beyond)" },
    { "max-memory", K_BYTES, C(pp.max_memory), 1, COLB_MEMORY_MAX, NULL, "limits", "BYTES: the policy's memory budget, at most 1024T (default: 80% of the available memory; 507 user_limit beyond)" },
    /* durability */
    { "commit-wait", K_SIZE, C(commit_wait_us), 0, 1e6, NULL, "durability", "US: microseconds a group commit waits for more rewards before its fsync" },
    { "commit-interval", K_SIZE, C(commit_interval_us), 0, 1e6, NULL, "durability", "US: least microseconds between two group commits' fsyncs; rewards arriving meanwhile join the next one (0: none)" },
    { "sync-decisions", K_BOOL, C(sync_decisions), 0, 1, NULL, "durability", "answer a choose only after its log record is fsynced too" },
    { "compact-choose", K_BOOL, C(compact_choose), 0, 1, NULL, "durability", "log a round of a policy whose choices leave no state (the recommended one) with each user's chosen context only, a CHOSEN record that a replay runs without choices; 0 = every round with its K contexts, as colb before it wrote them (a log older colb reads; a replay that chooses again and counts arm mismatches)" },
    { "snapshot-every", K_SIZE, C(snapshot_every), 1, 1e12, NULL, "durability", "R: snapshot after R rewards" },
    { "snapshot-replay", K_DOUBLE, C(snapshot_replay), 0, 86400, NULL, "durability", "S: snapshot once the writer has spent S seconds applying requests since the last one: bounds the log replay of a restart, whatever a request costs the policy (0: off)" },
    { "snapshot-interval", K_SIZE, C(snapshot_interval), 1, 1e9, NULL, "durability", "S: snapshot after S seconds with changes" },
    { "snapshot-log-bytes", K_BYTES, C(snapshot_log_bytes), 4096, 0, NULL, "durability", "BYTES: snapshot when the log has grown by this much" },
    { "background-write-rate", K_BYTES, C(background_write_rate), 0, 0, NULL, "durability", "BYTES: the most a second that snapshots and the log's preallocated segments are written, the two together, their writeback started 1M at a time, so that the group commits' fdatasyncs (which acknowledge rewards) do not queue behind them; 0: as fast as the disk takes them" },
    { "wal-segment-bytes", K_BYTES, C(wal_segment_bytes), 0, 17179869184.0, NULL, "durability", "BYTES: log segments preallocated at this size (zeros written ahead, or an old segment reused), so that a group commit's fdatasync needs no journal commit; 0: segments grow as written (at least 64K)" },
    { "snapshot-fork", K_ENUM, C(snapshot_fork), 0, 0, "0|1|auto", "durability", "how a snapshot freezes the state: 1 = a fork()ed child process holds the state as it was and writes it (the writer pauses for the fork, ~2 ms per 100 MB of the process, then for a copy-on-write fault per page it changes while the child runs); 0 = the policy is copied into a buffer, by the applier in the log's order (chooses and reads wait ~0.35 ms per MB of the policy, rewards do not; without an applier the writer pauses for it); auto = fork when the policy's part of the last snapshot took 64 MB or more (before the first: its size counted)" },
    { "snapshot-stall", K_SIZE, C(snapshot_stall), 1, 86400, NULL, "durability", "S: a snapshot's child process that makes no progress for S seconds (uses no CPU time, its file does not grow: stuck in the kernel or on a lock) is killed and the snapshot counted as failed; the next one retries" },
    { "repair-log", K_BOOL, C(repair_log), 0, 1, NULL, "durability", "at start, end the log where a segment's records stop before the next segment's first - what a power cut leaves when a segment's unsynced tail is lost (never an acknowledged record) - and move the later segments to DIR/dropped; likewise at a damaged record that whole records follow (its bytes from there kept in DIR/dropped); without it such a log is refused" },
    { "window-log-bytes", K_BYTES, C(window_log_bytes), 0, 0, NULL, "durability", "BYTES: a snapshot leaves the decisions made in the last BYTES of the log to the log (their rewarded flags only: a restart reads their contexts from the log's choose records, which are kept), instead of writing their contexts again each time; 0: every pending decision in the snapshot" },
    { "archive-log", K_BOOL, C(archive_log), 0, 1, NULL, "durability", "keep log segments a snapshot made obsolete in DIR/archive" },
    { "drain-timeout", K_SIZE, C(drain_timeout), 0, 3600, NULL, "durability", "S: seconds SIGTERM waits for requests in flight (a second signal cuts the wait short)" },
};
#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

/* Policy key i of colb/params.h into *info if colb serve takes it as an
 * option: all but users (added online) and max-memory (--max-memory, a
 * limit of the service, not of the state). */
static int served_key(size_t i, colb_param_info *info)
{
    return i < SERVE_MAX_PKEYS && colb_policy_param_info(i, info) == COLB_OK && strcmp(info->key, "users") &&
           strcmp(info->key, "max-memory");
}

/* The index of policy key name[0..len) among colb serve's options, or -1. */
static long policy_key(const char *name, size_t len)
{
    colb_param_info info;
    for (size_t i = 0; i < colb_policy_param_count(); i++)
        if (served_key(i, &info) && strlen(info.key) == len && !strncmp(info.key, name, len))
            return (long)i;
    return -1;
}

/* colb's recommended policy, under its registered name (the state records
 * that name, so that it resumes as the same policy whatever "recommended"
 * means in a later colb). */
static const char *default_policy(void)
{
    const char *r = colb_policy_resolve("recommended");
    return r ? r : "linucb-ind";
}

void serve_config_default(serve_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 8765;
    snprintf(c->policy, sizeof c->policy, "%s", default_policy());
    colb_policy_params_default(&c->pp);
    c->pp.users = 1;
    c->http_threads = 2;
    c->http_loop = HTTP_LOOP_EPOLL;
    c->max_connections = 1024;
    c->idle_timeout = 30;
    c->request_timeout = 60;
    c->max_body = (size_t)16 << 20;
    c->max_contexts = 1024;
    c->max_batch = 100000;
    c->max_users = 10000000;
    c->max_id_bytes = 256;
    c->decision_window = (size_t)1 << 20;
    c->max_queue = 65536;
    c->apply_queue = 4096;
    c->applier_class = APPLIER_BATCHES;
    c->request_slice_us = 100;
    c->commit_wait_us = 0;
    c->compact_choose = 1;
    c->commit_interval_us = 1000; /* docs/serve.md, "Durability": flush storms on a small VM */
    c->snapshot_every = 1000000;
    c->snapshot_interval = 300;
    c->snapshot_replay = 10;
    c->snapshot_log_bytes = (size_t)1 << 30;
    c->window_log_bytes = (size_t)256 << 20;
    c->wal_segment_bytes = (size_t)64 << 20;
    c->background_write_rate = (size_t)64 << 20; /* serve/writeback.h: 100M/s kept a flush's p99 at 2 ms here */
    c->snapshot_fork = SNAPSHOT_FORK_AUTO;
    c->snapshot_stall = 60;
    c->drain_timeout = 10;
}

/* A whole decimal integer (no sign). Real numbers, byte counts and choices
 * use the tool's strict parsers (cli/options.h). */
static int parse_u64(const char *s, unsigned long long *v)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return *end || errno == ERANGE ? -1 : 0;
}

/* "HOST:PORT", "[V6]:PORT" or ":PORT" (loopback); the host must be a
 * numeric address (no name lookups). */
static int parse_listen(serve_config *c, const char *v, char *err, size_t err_len)
{
    const char *colon = strrchr(v, ':');
    if (!colon) {
        snprintf(err, err_len, "--listen: '%s' is not ADDR:PORT (e.g. 127.0.0.1:8765)", v);
        return -1;
    }
    char host[SERVE_NAME_LEN];
    size_t hl = (size_t)(colon - v);
    if (hl >= sizeof host) {
        snprintf(err, err_len, "--listen: address too long");
        return -1;
    }
    memcpy(host, v, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    if (!host[0])
        snprintf(host, sizeof host, "127.0.0.1");
    unsigned char a[16];
    unsigned long long port;
    if (inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1) {
        snprintf(err, err_len, "--listen: '%s' is not a numeric IPv4 or IPv6 address", host);
        return -1;
    }
    if (parse_u64(colon + 1, &port) || port > 65535) {
        snprintf(err, err_len, "--listen: '%s' is not a port in [0, 65535]", colon + 1);
        return -1;
    }
    snprintf(c->host, sizeof c->host, "%s", host);
    c->port = (unsigned)port;
    return 0;
}

/* A byte count as the options write it: "1024T", "16G", "64K" when it is
 * a whole number of the largest such unit, else in bytes. */
static void bytes_text(double b, char *out, size_t len)
{
    static const char units[] = "TGMK";
    for (int i = 0; units[i]; i++) {
        double u = 1.0;
        for (int k = i; k < 4; k++)
            u *= 1024.0;
        if (b >= u && b / u == (double)(unsigned long long)(b / u)) {
            snprintf(out, len, "%.0f%c", b / u, units[i]);
            return;
        }
    }
    snprintf(out, len, "%.0f", b);
}

static int set_option(serve_config *c, const opt *o, const char *v, char *err, size_t err_len)
{
    char *base = (char *)c;
    unsigned long long u;
    double d;
    size_t z;
    switch (o->k) {
    case K_SIZE:
        if (parse_u64(v, &u) || (double)u < o->lo || (double)u > o->hi) {
            snprintf(err, err_len, "--%s: '%s' is not an integer in [%.0f, %.0f]", o->name, v, o->lo, o->hi);
            return -1;
        }
        *(size_t *)(base + o->off) = (size_t)u;
        return 0;
    case K_DOUBLE:
        if (parse_double(v, o->lo, o->hi, &d)) {
            snprintf(err, err_len, "--%s: '%s' is not a number in [%g, %g]", o->name, v, o->lo, o->hi);
            return -1;
        }
        *(double *)(base + o->off) = d;
        return 0;
    case K_BOOL: {
        int b = !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") ? 1
                : !strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") ? 0 : -1;
        if (b < 0) {
            snprintf(err, err_len, "--%s: '%s' is not a boolean (0/1, true/false, yes/no)", o->name, v);
            return -1;
        }
        *(int *)(base + o->off) = b;
        return 0;
    }
    case K_ENUM: {
        int e = option_choice_index(o->choices, v);
        if (e < 0) {
            snprintf(err, err_len, "--%s: '%s' is not one of %s", o->name, v, o->choices);
            return -1;
        }
        *(int *)(base + o->off) = e;
        return 0;
    }
    case K_STR:
        if (!*v || strlen(v) >= (size_t)o->hi) {
            snprintf(err, err_len, "--%s: the value is empty or too long", o->name);
            return -1;
        }
        snprintf(base + o->off, (size_t)o->hi, "%s", v);
        return 0;
    case K_BYTES: {
        int bad = parse_bytes(v, &z);
        if (bad == -3) /* 2^64 bytes or more: beyond any bound below */
            z = SIZE_MAX, bad = 0;
        if (bad == -1) {
            snprintf(err, err_len, "--%s: '%s' is not a byte count such as 64M or 1G", o->name, v);
            return -1;
        }
        if (bad == -4) {
            bytes_fraction_error("--", o->name, v, err, err_len);
            return -1;
        }
        if (bad || (double)z < o->lo) { /* -2: more than 0, less than one byte */
            char least[32];
            bytes_text(o->lo, least, sizeof least);
            if (o->lo == 1) /* the budget: 0 is the default, which is to leave the option out (as colb run) */
                snprintf(err, err_len, "--%s: '%s' is less than one byte (a budget such as 8G, 512M or 1e9; without "
                         "the option, 80%% of the available memory)", o->name, v);
            else
                snprintf(err, err_len, "--%s: '%s' is less than %s, the least it takes", o->name, v, least);
            return -1;
        }
        if (o->hi > 0 && (double)z > o->hi) {
            char most[32];
            bytes_text(o->hi, most, sizeof most);
            if (o->hi == COLB_MEMORY_MAX) /* a typo, as colb run --max-memory says: the budget would stop nothing */
                snprintf(err, err_len, "--%s: '%s' is more than %s (2^50 bytes), beyond any machine's memory (a "
                         "budget such as 8G, 512M or 1e9)", o->name, v, most);
            else
                snprintf(err, err_len, "--%s: '%s' is more than %s, the most it takes", o->name, v, most);
            return -1;
        }
        *(size_t *)(base + o->off) = z;
        return 0;
    }
    case K_LISTEN:
        return parse_listen(c, v, err, err_len);
    case K_POLICY: {
        const char *name = colb_policy_resolve(v); /* an alias: its registered name */
        if (!name || strlen(name) >= sizeof c->policy) {
            char list[512] = "";
            for (const char *const *n = colb_policy_names(); *n; n++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "", *n);
            snprintf(err, err_len, "--policy: unknown policy '%s' (known: %s)", v, list);
            return -1;
        }
        int oracle = !strncmp(name, "oracle", 6); /* oracle, oracle-batch, oracle-seq */
        if (!strcmp(name, "club") || oracle) {
            snprintf(err, err_len, "--policy: %s cannot serve: colb serve adds users on first sight, and %s",
                     name, oracle ? "the oracle needs every user's true cluster"
                                  : "CLUB's user graph cannot take users online");
            return -1;
        }
        snprintf(c->policy, sizeof c->policy, "%s", name);
        c->policy_given = 1;
        return 0;
    }
    case K_FLAG:
        *(int *)(base + o->off) = 1;
        return 0;
    }
    return -1;
}

int serve_config_parse(serve_config *c, int argc, char **argv, char *err, size_t err_len)
{
    if (colb_policy_param_count() > SERVE_MAX_PKEYS) { /* a library newer than this tool's tables */
        snprintf(err, err_len, "the library lists %zu policy parameters; colb serve takes at most %d "
                 "(raise SERVE_MAX_PKEYS in serve/config.h)", colb_policy_param_count(), SERVE_MAX_PKEYS);
        return -1;
    }
    /* the reader's table: the options above, the policy keys, --help */
    _Static_assert(N_OPTS + SERVE_MAX_PKEYS + 1 <= ARGS_MAX, "colb serve has more options than args.h reads");
    arg_opt list[N_OPTS + SERVE_MAX_PKEYS + 1];
    size_t pkey[SERVE_MAX_PKEYS], n = 0, n_pkeys = 0; /* list[N_OPTS + j] is policy key pkey[j] */
    colb_param_info info;
    for (size_t i = 0; i < N_OPTS; i++)
        list[n++] = (arg_opt){ OPTS[i].name, NULL, OPTS[i].k == K_FLAG };
    for (size_t i = 0; i < colb_policy_param_count(); i++)
        if (served_key(i, &info)) {
            pkey[n_pkeys++] = i;
            list[n++] = (arg_opt){ info.key, NULL, 0 };
        }
    list[n++] = (arg_opt){ "help", "-h", 1 };
    arg_reader ar;
    const arg_opt *a;
    const char *v;
    int got;
    args_init(&ar, argc, argv, list, n, "colb serve --help");
    while ((got = args_next(&ar, &a, &v, err, err_len)) > 0) {
        if (!a) {
            snprintf(err, err_len, "unexpected argument '%s' (see colb serve --help)", v);
            return -1;
        }
        size_t k = (size_t)(a - list);
        if (k == n - 1)
            return 1; /* --help */
        if (k < N_OPTS) {
            if (set_option(c, &OPTS[k], v, err, err_len))
                return -1;
            continue;
        }
        /* checked by the library, as `colb run` and Python check it */
        char msg[256];
        size_t key = pkey[k - N_OPTS];
        colb_policy_param_info(key, &info);
        if (colb_policy_params_set(&c->pp, info.key, v, msg, sizeof msg) != COLB_OK) {
            snprintf(err, err_len, "--%s: %s", info.key, msg);
            return -1;
        }
        c->given_pp[key] = 1;
    }
    if (got < 0)
        return -1;
    if (!c->state_dir[0]) {
        snprintf(err, err_len, "--state DIR is required (the folder that holds the log and snapshots)");
        return -1;
    }
    if (c->wal_segment_bytes > 0 && c->wal_segment_bytes < 65536) {
        snprintf(err, err_len, "--wal-segment-bytes: %zu is too small (0, or at least 64K)", c->wal_segment_bytes);
        return -1;
    }
    return 0;
}

/* The policy keys of --help: colb/params.h's type, help and default. */
static void policy_help(FILE *f)
{
    colb_param_info info;
    for (size_t i = 0; i < colb_policy_param_count(); i++) {
        if (!served_key(i, &info))
            continue;
        char lhs[80];
        snprintf(lhs, sizeof lhs, "--%s %s", info.key,
                 info.type == COLB_PARAM_CHOICE ? info.choices : info.type == COLB_PARAM_BOOL ? "0|1"
                 : info.type == COLB_PARAM_REAL ? "x" : "n");
        int dim = !strcmp(info.key, "dim");
        fprintf(f, "  %-30s %s%s%s%s%s\n", lhs, info.help, dim ? " (required for a new state)" : "",
                info.default_value[0] ? " [" : "", info.default_value, info.default_value[0] ? "]" : "");
    }
}

void serve_config_help(FILE *f)
{
    serve_config d;
    serve_config_default(&d);
    fprintf(f, "usage: colb serve --state DIR [--listen ADDR:PORT] [--policy NAME --dim d [policy options]]\n"
               "                  [limits] [durability options]\n"
               "       colb serve --state DIR --dump-log\n\n"
               "Serves a policy over HTTP/JSON (docs/serve.md): POST /v1/choose, /v1/choose/batch,\n"
               "/v1/reward, /v1/reward/batch; GET /v1/stats, /v1/users/ID, /healthz, /metrics.\n"
               "A reward is answered once its log record is on disk. A new DIR is created with the\n"
               "policy given; an existing DIR resumes (policy options given must match it).\n"
               "SIGTERM/SIGINT/SIGHUP finish the requests in flight, take a snapshot and exit 0.\n"
               "Options take their value as --key VALUE or --key=VALUE.\n");
    const char *group = "";
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt *o = &OPTS[i];
        if (strcmp(group, o->group)) {
            group = o->group;
            fprintf(f, "\n%s options:\n", group);
        }
        const char *colon = strstr(o->help, ": ");
        int has_arg = o->k != K_FLAG && colon;
        const char *text = has_arg ? colon + 2 : o->help;
        char lhs[80], def[96] = "";
        if (o->k == K_ENUM)
            snprintf(lhs, sizeof lhs, "--%s %s", o->name, o->choices);
        else if (o->k == K_BOOL)
            snprintf(lhs, sizeof lhs, "--%s 0|1", o->name);
        else if (has_arg)
            snprintf(lhs, sizeof lhs, "--%s %.*s", o->name, (int)(colon - o->help), o->help);
        else
            snprintf(lhs, sizeof lhs, "--%s", o->name);
        const char *base = (const char *)&d;
        switch (o->k) {
        case K_SIZE: snprintf(def, sizeof def, "%zu", *(const size_t *)(base + o->off)); break;
        case K_BYTES: {
            size_t v = *(const size_t *)(base + o->off);
            if (v == 0)
                snprintf(def, sizeof def, "auto");
            else if (v % (1u << 20) == 0)
                snprintf(def, sizeof def, "%zuM", v >> 20);
            else
                snprintf(def, sizeof def, "%zu", v);
            break;
        }
        case K_DOUBLE: snprintf(def, sizeof def, "%g", *(const double *)(base + o->off)); break;
        case K_BOOL: snprintf(def, sizeof def, "%d", *(const int *)(base + o->off)); break;
        case K_ENUM: {
            int e = *(const int *)(base + o->off);
            const char *p = o->choices;
            for (int k = 0; k < e && strchr(p, '|'); k++)
                p = strchr(p, '|') + 1;
            snprintf(def, sizeof def, "%.*s", (int)(strchr(p, '|') ? (size_t)(strchr(p, '|') - p) : strlen(p)), p);
            break;
        }
        case K_LISTEN: snprintf(def, sizeof def, "%s:%u", d.host, d.port); break;
        case K_POLICY: snprintf(def, sizeof def, "%s", d.policy); break;
        default: break;
        }
        fprintf(f, "  %-30s %s%s%s%s\n", lhs, text, def[0] ? " [" : "", def, def[0] ? "]" : "");
        if (o->k == K_POLICY)
            policy_help(f);
    }
    fprintf(f, "\nlimits also fixed by the library (colb/limits.h): |context entry| <= %g, |reward| <= %g.\n"
               "exit status: 0 stopped by SIGTERM/SIGINT/SIGHUP (final snapshot taken; none once read-only),\n"
               "1 failure (state, log, port, final snapshot), 2 usage error (options, options that do not\n"
               "match the state, a --token-file that gives no token: missing, unreadable, empty).\n", COLB_CONTEXT_MAX, COLB_REWARD_MAX);
}

void serve_config_policy_text(const serve_config *c, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "policy=%s\n", c->policy);
    colb_param_info info;
    char v[64];
    for (size_t i = 0; i < colb_policy_param_count() && n < len; i++)
        if (served_key(i, &info) && colb_policy_params_get(&c->pp, info.key, v, sizeof v) == COLB_OK)
            n += (size_t)snprintf(out + n, len - n, "%s=%s\n", info.key, v);
}

/* Set stored key `key` from the text of a state: the library's reading,
 * or a choice by its index (how states of colb serve before the public
 * listing wrote them). */
static int set_stored(colb_policy_params *pp, const char *key, const char *v)
{
    if (colb_policy_params_set(pp, key, v, NULL, 0) == COLB_OK)
        return 0;
    long i = policy_key(key, strlen(key));
    colb_param_info info;
    unsigned long long u;
    if (i < 0 || colb_policy_param_info((size_t)i, &info) != COLB_OK || info.type != COLB_PARAM_CHOICE ||
        parse_u64(v, &u))
        return -1;
    const char *p = info.choices;
    for (; u > 0 && p; u--)
        p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL;
    char name[64];
    if (!p || snprintf(name, sizeof name, "%.*s", (int)strcspn(p, "|"), p) >= (int)sizeof name)
        return -1;
    return colb_policy_params_set(pp, key, name, NULL, 0) == COLB_OK ? 0 : -1;
}

int serve_config_resume(serve_config *c, const char *text, char *err, size_t err_len)
{
    /* the state's options: the library's defaults (what a key the text
     * does not name was when the state was made), then the text */
    serve_config stored = *c;
    colb_policy_params_default(&stored.pp);
    stored.pp.users = c->pp.users;
    /* a default that changed: states made before the key existed ran
     * cohort with its noise scale fixed (the policy's snapshot says so too) */
    stored.pp.cohort_estimate_noise = 0;
    char line[SERVE_OPTS_LEN];
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n >= sizeof line)
            goto bad;
        memcpy(line, p, n);
        line[n] = '\0';
        p += n + (nl ? 1 : 0);
        char *eq = strchr(line, '=');
        if (!eq)
            goto bad;
        *eq = '\0';
        if (!strcmp(line, "policy")) {
            snprintf(stored.policy, sizeof stored.policy, "%s", eq + 1);
            continue;
        }
        if (policy_key(line, strlen(line)) < 0) /* a key of a later colb: not ours to judge */
            continue;
        if (set_stored(&stored.pp, line, eq + 1))
            goto bad;
    }
    if (c->policy_given && strcmp(c->policy, stored.policy)) {
        snprintf(err, err_len, "%s serves policy '%s', not '%s' (omit --policy to resume it, or use "
                 "another --state)", c->state_dir, stored.policy, c->policy);
        return -1;
    }
    char a[64], b[64];
    colb_param_info info;
    for (size_t i = 0; i < colb_policy_param_count(); i++) {
        if (!served_key(i, &info) || !c->given_pp[i])
            continue;
        colb_policy_params_get(&c->pp, info.key, a, sizeof a);
        colb_policy_params_get(&stored.pp, info.key, b, sizeof b);
        if (strcmp(a, b)) {
            snprintf(err, err_len, "%s was created with --%s %s; the command line gives %s (omit it to "
                     "resume, or use another --state)", c->state_dir, info.key, b, a);
            return -1;
        }
    }
    snprintf(c->policy, sizeof c->policy, "%s", stored.policy);
    size_t mem = c->pp.max_memory;
    c->pp = stored.pp;
    c->pp.max_memory = mem;
    return 0;
bad:
    snprintf(err, err_len, "%s: the stored policy options are malformed", c->state_dir);
    return -1;
}

int serve_config_given(const serve_config *c, const char *name)
{
    long i = policy_key(name, strlen(name));
    return i >= 0 && c->given_pp[i];
}

int serve_config_read_token(const serve_config *c, char *tok, size_t len, char *err, size_t err_len)
{
    FILE *f = fopen(c->token_file, "rb");
    if (!f) {
        snprintf(err, err_len, "--token-file %s: %s", c->token_file, strerror(errno));
        return -1;
    }
    size_t n = fread(tok, 1, len - 1, f);
    int more = fgetc(f) != EOF, failed = ferror(f), e = errno;
    fclose(f);
    if (failed) { /* a folder (EISDIR), an I/O error: not an empty token */
        snprintf(err, err_len, "--token-file %s: cannot read it: %s", c->token_file, strerror(e));
        return -1;
    }
    tok[n] = '\0';
    while (n && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
        tok[--n] = '\0';
    if (more || n == 0) {
        snprintf(err, err_len, "--token-file %s: the token is %s", c->token_file, more ? "too long" : "empty");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)tok[i] <= 0x20 || tok[i] == 0x7f) {
            snprintf(err, err_len, "--token-file %s: the token has a space or control character",
                     c->token_file);
            return -1;
        }
    return 0;
}
