/* config.c - the options of `colb serve` (config.h): one table gives each
 * option's name, kind, target, range, default and help line, so the
 * parser, --help and the canonical policy text cannot disagree. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "options.h" /* the tool's strict parsers of numbers, byte counts and choices */

typedef enum kind { K_SIZE, K_DOUBLE, K_U64, K_BOOL, K_ENUM, K_STR, K_BYTES, K_LISTEN, K_POLICY, K_FLAG } kind;

typedef struct opt {
    const char *name;
    kind k;
    int policy;             /* 1: a policy parameter, at offset `off` of colb_policy_params */
    size_t off;             /* offset in serve_config (or in colb_policy_params) */
    double lo, hi;
    const char *choices;    /* K_ENUM: "a|b" -> 0, 1 */
    const char *group, *help;
} opt;

#define C(f) offsetof(serve_config, f)
#define P(f) offsetof(colb_policy_params, f)

static const opt OPTS[] = {
    { "listen", K_LISTEN, 0, 0, 0, 0, NULL, "service", "ADDR:PORT: address to listen on (port 0: any free port, printed at start)" },
    { "state", K_STR, 0, C(state_dir), 0, SERVE_PATH_LEN, NULL, "service", "DIR: the state folder, required (created if missing, else resumed)" },
    { "token-file", K_STR, 0, C(token_file), 0, SERVE_PATH_LEN, NULL, "service", "FILE: require 'Authorization: Bearer TOKEN' with TOKEN read from FILE" },
    { "http-threads", K_SIZE, 0, C(http_threads), 1, 64, NULL, "service", "T: threads serving HTTP (parsing runs there; one writer applies)" },
    { "dump-log", K_FLAG, 0, C(dump_log), 0, 1, NULL, "service", "print the state folder's log as JSON lines and exit (no server)" },
    { "quiet", K_BOOL, 0, C(quiet), 0, 1, NULL, "service", "no operational messages on stderr" },
    /* policy */
    { "policy", K_POLICY, 0, 0, 0, 0, NULL, "policy", "NAME: the policy served (colb policies; not club or the oracles)" },
    { "dim", K_SIZE, 1, P(dim), 1, 1024, NULL, "policy", "d: context dimension (required for a new state)" },
    { "horizon", K_SIZE, 1, P(horizon), 0, 1e12, NULL, "policy", "T: planned rounds (0: unknown, anytime schedules)" },
    { "seed", K_U64, 1, P(seed), 0, 0, NULL, "policy", "S: the policy's seed" },
    { "width", K_ENUM, 1, P(learner.width), 0, 0, "oful|fixed", "policy", "W: exploration width: OFUL radius or fixed alpha" },
    { "alpha", K_DOUBLE, 1, P(learner.alpha), 0, COLB_SCALE_MAX, NULL, "policy", "a: fixed width (LinUCB alpha)" },
    { "lambda", K_DOUBLE, 1, P(learner.lambda), COLB_LAMBDA_MIN, COLB_LAMBDA_MAX, NULL, "policy", "l: ridge regulariser" },
    { "delta", K_DOUBLE, 1, P(learner.delta), 1e-12, 1 - 1e-12, NULL, "policy", "d: confidence of OFUL(delta)" },
    { "learner-noise", K_DOUBLE, 1, P(learner.noise), 0, COLB_SCALE_MAX, NULL, "policy", "R: noise scale in the OFUL radius" },
    { "norm-bound", K_DOUBLE, 1, P(learner.norm_bound), 0, COLB_SCALE_MAX, NULL, "policy", "S: bound on ||theta|| in the OFUL radius" },
    { "pooled-updates", K_BOOL, 1, P(pooled_updates), 0, 1, NULL, "policy", "group learners weigh an average of n rewards by n" },
    { "anytime", K_BOOL, 1, P(anytime), 0, 1, NULL, "policy", "CMLB, PMLB plan without the horizon" },
    { "cmlb-alpha", K_DOUBLE, 1, P(cmlb_alpha), 1e-12, 0.5, NULL, "policy", "a: CMLB's exploration exponent, in (0, 1/2]" },
    { "cmlb-c", K_DOUBLE, 1, P(cmlb_C), 0, COLB_SCALE_MAX, NULL, "policy", "C: CMLB's constant of T_explore" },
    { "cmlb-gamma", K_DOUBLE, 1, P(cmlb_gamma), 0, COLB_SCALE_MAX, NULL, "policy", "g: CMLB's threshold (0: the --cmlb-threshold rule)" },
    { "cmlb-pstar", K_DOUBLE, 1, P(cmlb_pstar), 0, 1, NULL, "policy", "p: CMLB merges clusters smaller than p*N" },
    { "cmlb-threshold", K_ENUM, 1, P(cmlb_threshold), 0, 0, "paper|data", "policy", "R: CMLB's threshold rule" },
    { "cmlb-warm-start", K_BOOL, 1, P(cmlb_warm_start), 0, 1, NULL, "policy", "CMLB's cluster learners start from pooled data" },
    { "pmlb-learner", K_ENUM, 1, P(pmlb_learner), 0, 0, "alb-norm|linucb", "policy", "L: PMLB's personal learner" },
    { "cohort-delta", K_DOUBLE, 1, P(cohort_delta), 1e-12, 1 - 1e-12, NULL, "policy", "d: cohort's confidence of its split, merge and outlier tests" },
    { "cohort-personal", K_BOOL, 1, P(cohort_personal), 0, 1, NULL, "policy", "cohort: personal estimates shrunk toward the cluster (1) or the cluster's model (0)" },
    { "cohort-soft", K_BOOL, 1, P(cohort_soft), 0, 1, NULL, "policy", "cohort mixes the runner-up clusters' models while an assignment is uncertain" },
    { "cohort-seeds", K_SIZE, 1, P(cohort_seeds), 1, 64, NULL, "policy", "S: cohort's members tried as seeds of a split proposal" },
    /* limits */
    { "max-body", K_BYTES, 0, C(max_body), 64, 1e9, NULL, "limits", "BYTES: largest request body (413 beyond)" },
    { "max-contexts", K_SIZE, 0, C(max_contexts), 1, 1e6, NULL, "limits", "K: most contexts in one round (400 beyond)" },
    { "max-batch", K_SIZE, 0, C(max_batch), 1, 1e7, NULL, "limits", "B: most users or rewards in one request (400 beyond)" },
    { "max-users", K_SIZE, 0, C(max_users), 1, 1e10, NULL, "limits", "N: most users (507 beyond; the memory budget may stop sooner)" },
    { "max-id-bytes", K_SIZE, 0, C(max_id_bytes), 1, 4096, NULL, "limits", "n: longest user id in bytes (400 beyond)" },
    { "decision-window", K_SIZE, 0, C(decision_window), 1, 1e9, NULL, "limits", "W: the last W decisions can be rewarded (older: 409 expired)" },
    { "max-connections", K_SIZE, 0, C(max_connections), 1, 1e6, NULL, "limits", "C: open connections (more are refused)" },
    { "max-connections-per-ip", K_SIZE, 0, C(max_connections_per_ip), 0, 1e6, NULL, "limits", "C: open connections per client address (0: no limit)" },
    { "idle-timeout", K_SIZE, 0, C(idle_timeout), 1, 86400, NULL, "limits", "S: seconds a connection may stay silent before it is closed" },
    { "request-timeout", K_SIZE, 0, C(request_timeout), 1, 86400, NULL, "limits", "S: seconds to send one request's body (408 beyond)" },
    { "max-queue", K_SIZE, 0, C(max_queue), 1, 1e8, NULL, "limits", "Q: requests waiting for the writer (503 beyond)" },
    { "max-memory", K_BYTES, 0, C(max_memory), 0, 0, NULL, "limits", "BYTES: the policy's memory budget (default: 80% of the available memory)" },
    /* durability */
    { "commit-wait", K_SIZE, 0, C(commit_wait_us), 0, 1e6, NULL, "durability", "US: microseconds a group commit waits for more rewards before its fsync" },
    { "sync-decisions", K_BOOL, 0, C(sync_decisions), 0, 1, NULL, "durability", "answer a choose only after its log record is fsynced too" },
    { "snapshot-every", K_SIZE, 0, C(snapshot_every), 1, 1e12, NULL, "durability", "R: snapshot after R rewards" },
    { "snapshot-interval", K_SIZE, 0, C(snapshot_interval), 1, 1e9, NULL, "durability", "S: snapshot after S seconds with changes" },
    { "snapshot-log-bytes", K_BYTES, 0, C(snapshot_log_bytes), 4096, 0, NULL, "durability", "BYTES: snapshot when the log has grown by this much" },
    { "archive-log", K_BOOL, 0, C(archive_log), 0, 1, NULL, "durability", "keep log segments a snapshot made obsolete in DIR/archive" },
    { "drain-timeout", K_SIZE, 0, C(drain_timeout), 0, 3600, NULL, "durability", "S: seconds SIGTERM waits for requests in flight" },
};
#define N_OPTS (sizeof OPTS / sizeof OPTS[0])
_Static_assert(N_OPTS <= 64, "the `given` bit set holds 64 options");

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
    c->commit_wait_us = 0;
    c->snapshot_every = 1000000;
    c->snapshot_interval = 300;
    c->snapshot_log_bytes = (size_t)1 << 30;
    c->drain_timeout = 10;
}

static const opt *find(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (strlen(OPTS[i].name) == len && !strncmp(OPTS[i].name, name, len))
            return &OPTS[i];
    return NULL;
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

static int set_option(serve_config *c, const opt *o, const char *v, char *err, size_t err_len)
{
    char *base = o->policy ? (char *)&c->pp : (char *)c;
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
    case K_U64:
        if (parse_u64(v, &u)) {
            snprintf(err, err_len, "--%s: '%s' is not a non-negative integer", o->name, v);
            return -1;
        }
        *(uint64_t *)(base + o->off) = (uint64_t)u;
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
    case K_BYTES:
        if (parse_bytes(v, &z) || (double)z < o->lo || (o->hi > 0 && (double)z > o->hi)) {
            snprintf(err, err_len, "--%s: '%s' is not a byte count such as 64M or 1G%s", o->name, v,
                     o->lo > 0 ? " (within the option's range)" : "");
            return -1;
        }
        *(size_t *)(base + o->off) = z;
        return 0;
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
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return 1;
        if (strncmp(a, "--", 2) || !a[2]) {
            snprintf(err, err_len, "unexpected argument '%s' (see colb serve --help)", a);
            return -1;
        }
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const opt *o = find(a + 2, len);
        if (!o) {
            snprintf(err, err_len, "unknown option '%.*s' (see colb serve --help)", (int)(len + 2), a);
            return -1;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (o->k == K_FLAG && v) {
            snprintf(err, err_len, "--%s takes no value", o->name);
            return -1;
        }
        if (o->k != K_FLAG && !v) {
            if (i + 1 >= argc) {
                snprintf(err, err_len, "option '--%s' needs a value", o->name);
                return -1;
            }
            v = argv[++i];
        }
        if (set_option(c, o, v, err, err_len))
            return -1;
        if (o->policy)
            c->given |= 1ull << (o - OPTS);
    }
    if (!c->state_dir[0]) {
        snprintf(err, err_len, "--state DIR is required (the folder that holds the log and snapshots)");
        return -1;
    }
    return 0;
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
               "SIGTERM/SIGINT finish the requests in flight, take a snapshot and exit 0.\n");
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
        const char *base = o->policy ? (const char *)&d.pp : (const char *)&d;
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
        case K_U64: snprintf(def, sizeof def, "%llu", (unsigned long long)*(const uint64_t *)(base + o->off)); break;
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
        if (!strcmp(o->name, "dim"))
            def[0] = '\0';
        fprintf(f, "  %-30s %s%s%s%s\n", lhs, text, def[0] ? " [" : "", def, def[0] ? "]" : "");
    }
    fprintf(f, "\nlimits also fixed by the library (colb/limits.h): |context entry| <= %g, |reward| <= %g.\n"
               "exit status: 0 stopped by SIGTERM/SIGINT (final snapshot taken), 1 failure (state,\n"
               "log, port), 2 usage error.\n", COLB_CONTEXT_MAX, COLB_REWARD_MAX);
}

/* The value of policy option o in c as text that reads back exactly. */
static void value_text(const serve_config *c, const opt *o, char *out, size_t len)
{
    const char *base = (const char *)&c->pp;
    switch (o->k) {
    case K_SIZE: snprintf(out, len, "%zu", *(const size_t *)(base + o->off)); break;
    case K_U64: snprintf(out, len, "%llu", (unsigned long long)*(const uint64_t *)(base + o->off)); break;
    case K_DOUBLE: snprintf(out, len, "%.17g", *(const double *)(base + o->off)); break;
    case K_BOOL:
    case K_ENUM: snprintf(out, len, "%d", *(const int *)(base + o->off)); break;
    default: out[0] = '\0';
    }
}

void serve_config_policy_text(const serve_config *c, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "policy=%s\n", c->policy);
    char v[64];
    for (size_t i = 0; i < N_OPTS && n < len; i++)
        if (OPTS[i].policy) {
            value_text(c, &OPTS[i], v, sizeof v);
            n += (size_t)snprintf(out + n, len - n, "%s=%s\n", OPTS[i].name, v);
        }
}

/* Set policy option o in c from its canonical text. */
static int set_canonical(serve_config *c, const opt *o, const char *v)
{
    char *base = (char *)&c->pp;
    unsigned long long u;
    double d;
    switch (o->k) {
    case K_SIZE: if (parse_u64(v, &u)) return -1; *(size_t *)(base + o->off) = (size_t)u; return 0;
    case K_U64: if (parse_u64(v, &u)) return -1; *(uint64_t *)(base + o->off) = (uint64_t)u; return 0;
    case K_DOUBLE: if (parse_double(v, -HUGE_VAL, HUGE_VAL, &d)) return -1; *(double *)(base + o->off) = d; return 0;
    case K_BOOL:
    case K_ENUM: if (parse_u64(v, &u) || u > 16) return -1; *(int *)(base + o->off) = (int)u; return 0;
    default: return -1;
    }
}

int serve_config_resume(serve_config *c, const char *text, char *err, size_t err_len)
{
    serve_config stored = *c;
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
        const opt *o = find(line, strlen(line));
        if (!o || !o->policy) /* an option of a later colb: not ours to judge */
            continue;
        if (set_canonical(&stored, o, eq + 1))
            goto bad;
    }
    if (c->policy_given && strcmp(c->policy, stored.policy)) {
        snprintf(err, err_len, "%s serves policy '%s', not '%s' (omit --policy to resume it, or use "
                 "another --state)", c->state_dir, stored.policy, c->policy);
        return -1;
    }
    char a[64], b[64];
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt *o = &OPTS[i];
        if (!o->policy)
            continue;
        value_text(c, o, a, sizeof a);
        value_text(&stored, o, b, sizeof b);
        if ((c->given >> i & 1) && strcmp(a, b)) {
            snprintf(err, err_len, "%s was created with --%s %s; the command line gives %s (omit it to "
                     "resume, or use another --state)", c->state_dir, o->name, b, a);
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
    const opt *o = find(name, strlen(name));
    return o && o->policy && (c->given >> (o - OPTS) & 1);
}

int serve_config_read_token(const serve_config *c, char *tok, size_t len, char *err, size_t err_len)
{
    FILE *f = fopen(c->token_file, "rb");
    if (!f) {
        snprintf(err, err_len, "--token-file %s: %s", c->token_file, strerror(errno));
        return -1;
    }
    size_t n = fread(tok, 1, len - 1, f);
    int more = fgetc(f) != EOF;
    fclose(f);
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
