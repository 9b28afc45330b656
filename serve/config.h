/* config.h - the options of `colb serve`: where it listens and keeps its
 * state, the policy it serves, its limits and its durability settings
 * (docs/serve.md lists them all; `colb serve --help` prints them with their
 * defaults). */
#ifndef COLB_SERVE_CONFIG_H
#define COLB_SERVE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "colb/colb.h"

#define SERVE_PATH_LEN 4096
#define SERVE_ERR_LEN (SERVE_PATH_LEN + 512)
#define SERVE_NAME_LEN 64
/* the canonical text of the policy options (serve_config_policy_text) */
#define SERVE_OPTS_LEN 4096
/* the most policy keys (colb_policy_param_count) colb serve takes */
#define SERVE_MAX_PKEYS 128

/* --http-loop: libmicrohttpd's thread pool on poll(), or a daemon per
 * HTTP thread on epoll run by colb's loop (http.c) */
enum { HTTP_LOOP_POLL, HTTP_LOOP_EPOLL };

typedef struct serve_config {
    /* where */
    char host[SERVE_NAME_LEN];      /* numeric IPv4 or IPv6 address */
    unsigned port;                  /* 0: an ephemeral port */
    char state_dir[SERVE_PATH_LEN];
    char token_file[SERVE_PATH_LEN];
    /* the policy: name and parameters, and which of them the command line
     * gave (on resume, the others are taken from the state) */
    char policy[SERVE_NAME_LEN];
    colb_policy_params pp;          /* pp.max_memory: --max-memory (a limit of the service, not stored) */
    unsigned char given_pp[SERVE_MAX_PKEYS]; /* 1: policy key i (colb_policy_param_info) was given */
    int policy_given;
    /* limits */
    size_t http_threads;
    int http_loop;                  /* HTTP_LOOP_* (--http-loop): how the HTTP threads wait for their connections */
    size_t max_connections;
    size_t max_connections_per_ip;  /* 0: no limit */
    size_t idle_timeout;            /* seconds without traffic on a connection */
    size_t request_timeout;         /* seconds to receive one request's body */
    size_t max_body;                /* bytes */
    size_t max_contexts;            /* K per round */
    size_t max_batch;               /* users or rewards per request */
    size_t max_users;
    size_t max_id_bytes;
    size_t decision_window;         /* decisions that can still be rewarded */
    size_t max_queue;               /* requests waiting for the writer */
    size_t apply_queue;             /* updates run by the applier thread (0: by the writer) */
    int applier_class;              /* APPLIER_* (applier.h): the applier thread's class (--applier-class) */
    size_t request_slice_us;        /* the request threads' time slice (0: the kernel's default) */
    /* durability */
    size_t commit_wait_us;          /* group commit: extra wait before an fsync */
    size_t commit_interval_us;      /* group commit: least time between two fsyncs' starts */
    int sync_decisions;             /* 1: a choose is answered after its fsync too */
    int compact_choose;             /* 1: CHOSEN records when the policy's choices leave no state */
    size_t snapshot_every;          /* rewards between snapshots */
    size_t snapshot_interval;       /* seconds between snapshots (if anything changed) */
    double snapshot_replay;         /* seconds of the writer's work between snapshots (0: off) */
    size_t snapshot_log_bytes;      /* log bytes that trigger a snapshot */
    size_t window_log_bytes;        /* the log's end a snapshot leaves decisions to */
    size_t wal_segment_bytes;       /* preallocated size of a log segment (0: not preallocated) */
    size_t background_write_rate;   /* bytes/s of snapshots and spare segments together at most (0: no limit) */
    int archive_log;                /* 1: keep old log segments in DIR/archive */
    int snapshot_fork;              /* 1: snapshots written by a fork()ed child; 0: captured; SNAPSHOT_FORK_AUTO */
    size_t snapshot_stall;          /* seconds a snapshot's child may make no progress before it is killed */
    int repair_log;                 /* 1: a segment whose records stop early ends the log (WAL_CUT_GAP) */
    size_t drain_timeout;           /* seconds SIGTERM waits for requests in flight */
    /* what to do */
    int dump_log;                   /* print the log as JSON lines and exit */
    int quiet;                      /* no operational lines on stderr */
} serve_config;

/* --snapshot-fork auto: fork when the last snapshot's policy took at least
 * this much (before the first, the policy's size counted: engine.c,
 * snapshot_way).
 * A capture pauses the writer ~0.5 ms per MB, and after a fork the server
 * takes a copy-on-write (or write-protect) fault for each page it writes
 * next, 20,000-30,000 of them in the half second after each snapshot of
 * bench_serve's reward form: the faults cost the tail more than a pause
 * under ~64 MB (snapshots of 45 MB: open loops' p99 12.8-14.7 ms by
 * capture, 20.6-43.4 ms by fork), less above (114 MB: 36.6-45.7 against
 * 30.7-33.0 ms; docs/performance-history.md, phase 38). A capture only
 * into a buffer whose pages are in place: when a new one is needed, the
 * snapshotter touches it and the snapshot waits for it. */
#define SNAPSHOT_FORK_AUTO 2
#define SNAPSHOT_FORK_MIN_BYTES (64.0 * 1048576)

/* Defaults (the policy "recommended" when the library has it, else
 * linucb-ind). */
void serve_config_default(serve_config *c);

/* Parse argv (after "serve"), read as every subcommand reads its options
 * (cli/args.h: --key VALUE or --key=VALUE, an unknown option told with the
 * closest name). Returns 0, 1 when --help is asked for (exit 0), or -1 with
 * a one-line reason in err (a usage error). */
int serve_config_parse(serve_config *c, int argc, char **argv, char *err, size_t err_len);

/* Print the usage, options, defaults and limits. */
void serve_config_help(FILE *f);

/* The policy options as canonical text, "key=value" lines (the keys and
 * values of colb/params.h, in its order), the policy name first: what the
 * state folder records, and what a resume compares. */
void serve_config_policy_text(const serve_config *c, char *out, size_t len);

/* Resume: take the policy options stored in `text` (serve_config_policy_text of
 * the run that created the state) for every option not given; an option
 * given with another value than the stored one is an error naming both.
 * Returns 0 or -1 with err. */
int serve_config_resume(serve_config *c, const char *text, char *err, size_t err_len);

/* 1 if policy key `name` (e.g. "dim") was given on the command line. */
int serve_config_given(const serve_config *c, const char *name);

/* Read the bearer token of --token-file into tok (at most len - 1 bytes,
 * trailing newline dropped). 0, or -1 with err (unreadable, empty, too
 * long, control characters). */
int serve_config_read_token(const serve_config *c, char *tok, size_t len, char *err, size_t err_len);

#endif
