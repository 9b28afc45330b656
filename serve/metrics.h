/* metrics.h - counters, gauges and latency histograms of `colb serve`,
 * updated from any thread (relaxed atomics) and rendered in the Prometheus
 * text format for GET /metrics (docs/serve.md lists every series). */
#ifndef COLB_SERVE_METRICS_H
#define COLB_SERVE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The routes, as labels of the request series. */
typedef enum route_id {
    R_CHOOSE = 0, R_CHOOSE_BATCH, R_REWARD, R_REWARD_BATCH, R_STATS, R_USER, R_HEALTH, R_METRICS,
    R_OTHER, R_COUNT
} route_id;

/* The status codes the server answers with (a label); others count as "other". */
#define METRICS_CODES 16

/* Histogram buckets (seconds): 50 us to 10 s, then +Inf. */
#define METRICS_BUCKETS 16

/* A count kept in a histogram of the latencies' buckets as count x
 * METRICS_COUNT_UNIT (metrics_observe_count), so that the buckets (50 us,
 * 100 us, 250 us, ...) read 1, 2, 5, 10, ... 200,000 (it was x 1e-6:
 * every group commit of up to 50 requests fell in the first bucket). */
#define METRICS_COUNT_UNIT 50e-6

typedef struct histogram {
    _Atomic uint64_t count[METRICS_BUCKETS + 1];
    _Atomic uint64_t sum_ns;
} histogram;

typedef struct metrics {
    _Atomic uint64_t requests[R_COUNT][METRICS_CODES + 1];
    histogram latency[R_COUNT];
    /* the model (set by the writer) */
    _Atomic uint64_t decisions, rewards, users, conflicts_unknown, conflicts_expired, conflicts_rewarded;
    /* the log */
    _Atomic uint64_t wal_bytes, wal_records, fsyncs, group_commit_waiters, rotations;
    histogram fsync_seconds;
    histogram commit_batch;   /* waiters per fsync, observed in units of METRICS_COUNT_UNIT */
    /* snapshots */
    _Atomic uint64_t snapshots, snapshot_failures, snapshot_bytes, snapshot_lsn;
    _Atomic uint64_t snapshot_policy_bytes; /* the policy's part of the last one */
    _Atomic uint64_t snapshot_forks; /* snapshots whose state a fork()ed child held */
    histogram snapshot_seconds; /* serialising a capture and writing it (in the background) */
    histogram snapshot_pause;   /* the writer's pause to capture the state */
    histogram snapshot_policy;  /* a capture's policy saved by the applier (chooses and reads wait) */
    /* the writer */
    _Atomic uint64_t queue_depth, overloaded, writer_batches, inline_jobs;
    _Atomic uint64_t apply_depth; /* rewards logged whose updates have not run yet */
    _Atomic uint64_t inline_updates; /* updates run in a request's own thread (applier_run_or_push) */
    _Atomic uint64_t idle_updates;   /* updates the applier thread ran in SCHED_IDLE (applier.h) */
    /* HTTP */
    _Atomic uint64_t http_protocol_errors; /* malformed requests libmicrohttpd answered itself */
    _Atomic uint64_t http_timed_out; /* connections cut at their deadline (reaper.h) */
    _Atomic uint64_t max_connections;      /* connections held at once (set at start) */
} metrics;

void metrics_init(metrics *m);

/* Count one answered request on route r with HTTP status code, taking
 * `seconds` from its first byte to its answer. */
void metrics_request(metrics *m, route_id r, unsigned code, double seconds);

/* Add one observation to a histogram (seconds). */
void metrics_observe(histogram *h, double value);

/* Add a count k to a count histogram (in units of METRICS_COUNT_UNIT). */
void metrics_observe_count(histogram *h, uint64_t k);

/* The Prometheus text exposition (caller frees; NULL when out of memory). */
char *metrics_render(const metrics *m, size_t *len);

/* The route's label text. */
const char *metrics_route_name(route_id r);

#endif
