/* metrics.c - counters and histograms (metrics.h) and their Prometheus text
 * format (version 0.0.4: # HELP, # TYPE, cumulative `_bucket{le=...}`,
 * `_sum`, `_count`). */
#define _GNU_SOURCE /* open_memstream */
#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double BOUNDS[METRICS_BUCKETS] = { 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3,
                                                25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1.0, 2.5, 10.0 };
static const unsigned CODES[METRICS_CODES] = { 200, 400, 401, 404, 405, 408, 409, 413, 414, 415, 429, 500, 503, 507, 411, 417 };
static const char *const ROUTES[R_COUNT] = { "choose", "choose_batch", "reward", "reward_batch", "stats",
                                             "user", "healthz", "metrics", "other" };

void metrics_init(metrics *m)
{
    memset(m, 0, sizeof *m);
}

const char *metrics_route_name(route_id r) { return r < R_COUNT ? ROUTES[r] : "other"; }

void metrics_observe(histogram *h, double v)
{
    size_t b = 0;
    while (b < METRICS_BUCKETS && v > BOUNDS[b])
        b++;
    atomic_fetch_add_explicit(&h->count[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint64_t)(v > 0 ? v * 1e9 : 0), memory_order_relaxed);
}

void metrics_observe_count(histogram *h, uint64_t k)
{
    size_t b = 0; /* against the bounds in counts, rounded: 1, 2, 5, ... (no rounding of k x the unit) */
    while (b < METRICS_BUCKETS && (double)k > floor(BOUNDS[b] / METRICS_COUNT_UNIT + 0.5))
        b++;
    atomic_fetch_add_explicit(&h->count[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, k * (uint64_t)(METRICS_COUNT_UNIT * 1e9 + 0.5), memory_order_relaxed);
}

void metrics_request(metrics *m, route_id r, unsigned code, double seconds)
{
    size_t c = 0;
    while (c < METRICS_CODES && CODES[c] != code)
        c++;
    if (r >= R_COUNT)
        r = R_OTHER;
    atomic_fetch_add_explicit(&m->requests[r][c], 1, memory_order_relaxed);
    metrics_observe(&m->latency[r], seconds);
}

static uint64_t get(const _Atomic uint64_t *v) { return atomic_load_explicit(v, memory_order_relaxed); }

static void series(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, (unsigned long long)v);
}

/* A histogram's sum, `ns` nanoseconds in units of `unit_ns` each, written
 * exactly: a whole number of units (a count histogram's), else seconds to
 * the nanosecond. It was %.9g of a double: nine digits, so that a sum of
 * 10^6 s moved in steps of a millisecond (a rate over a minute off by a
 * tenth of it) and a count above 10^9 was written "1e+09". */
static void put_sum(FILE *f, uint64_t ns, uint64_t unit_ns)
{
    uint64_t q = ns / unit_ns, r = ns % unit_ns;
    if (r == 0) {
        fprintf(f, "%llu", (unsigned long long)q);
    } else if (unit_ns == 1000000000u) {
        int digits = 9; /* of the fraction, its trailing zeros dropped (r > 0) */
        for (; r % 10 == 0; r /= 10)
            digits--;
        fprintf(f, "%llu.%0*llu", (unsigned long long)q, digits, (unsigned long long)r);
    } else {
        fprintf(f, "%.17g", (double)ns / (double)unit_ns);
    }
}

/* A histogram's lines; `labels` is "" or `key="value"`; scale multiplies
 * the bounds and sum (1 / METRICS_COUNT_UNIT turns a count histogram back
 * into counts). */
static void hist(FILE *f, const char *name, const char *labels, const histogram *h, double scale)
{
    uint64_t cum = 0;
    for (size_t b = 0; b <= METRICS_BUCKETS; b++) {
        cum += get(&h->count[b]);
        if (b < METRICS_BUCKETS)
            fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, *labels ? "," : "", BOUNDS[b] * scale,
                    (unsigned long long)cum);
        else
            fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, *labels ? "," : "",
                    (unsigned long long)cum);
    }
    fprintf(f, "%s_sum%s%s%s ", name, *labels ? "{" : "", labels, *labels ? "}" : "");
    put_sum(f, get(&h->sum_ns), (uint64_t)(1e9 / scale + 0.5)); /* 1e9, or the count unit's 50,000 */
    fputc('\n', f);
    fprintf(f, "%s_count%s%s%s %llu\n", name, *labels ? "{" : "", labels, *labels ? "}" : "",
            (unsigned long long)cum);
}

char *metrics_render(const metrics *m, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    fprintf(f, "# HELP colb_http_requests_total HTTP requests answered, by route and status code.\n"
               "# TYPE colb_http_requests_total counter\n");
    for (int r = 0; r < R_COUNT; r++)
        for (int c = 0; c <= METRICS_CODES; c++) {
            uint64_t v = get(&m->requests[r][c]);
            if (!v)
                continue;
            if (c < METRICS_CODES)
                fprintf(f, "colb_http_requests_total{route=\"%s\",code=\"%u\"} %llu\n", ROUTES[r], CODES[c],
                        (unsigned long long)v);
            else
                fprintf(f, "colb_http_requests_total{route=\"%s\",code=\"other\"} %llu\n", ROUTES[r],
                        (unsigned long long)v);
        }
    fprintf(f, "# HELP colb_http_request_duration_seconds Time from a request's arrival to its answer "
               "(rewards: until durable).\n# TYPE colb_http_request_duration_seconds histogram\n");
    char lab[64];
    for (int r = 0; r < R_COUNT; r++) {
        uint64_t any = 0;
        for (int b = 0; b <= METRICS_BUCKETS; b++)
            any += get(&m->latency[r].count[b]);
        if (!any)
            continue;
        snprintf(lab, sizeof lab, "route=\"%s\"", ROUTES[r]);
        hist(f, "colb_http_request_duration_seconds", lab, &m->latency[r], 1.0);
    }
    series(f, "colb_http_protocol_errors_total", "counter",
           "Malformed requests libmicrohttpd answered itself (not in colb_http_requests_total).",
           get(&m->http_protocol_errors));
    series(f, "colb_http_connections_timed_out_total", "counter",
           "Connections closed at a deadline: headers, a body or the reading of an answer too slow.",
           get(&m->http_timed_out));
    series(f, "colb_http_max_connections", "gauge",
           "Connections held at once: --max-connections, or fewer when the open-files limit holds fewer.",
           get(&m->max_connections));
    series(f, "colb_decisions_total", "counter", "Decisions made (one per user per round).", get(&m->decisions));
    series(f, "colb_rewards_total", "counter", "Rewards applied to the model.", get(&m->rewards));
    series(f, "colb_users", "gauge", "Users known.", get(&m->users));
    fprintf(f, "# HELP colb_reward_conflicts_total Rewards refused with 409, by reason.\n"
               "# TYPE colb_reward_conflicts_total counter\n"
               "colb_reward_conflicts_total{reason=\"unknown_decision\"} %llu\n"
               "colb_reward_conflicts_total{reason=\"expired_decision\"} %llu\n"
               "colb_reward_conflicts_total{reason=\"already_rewarded\"} %llu\n",
            (unsigned long long)get(&m->conflicts_unknown), (unsigned long long)get(&m->conflicts_expired),
            (unsigned long long)get(&m->conflicts_rewarded));
    series(f, "colb_wal_bytes_total", "counter", "Bytes appended to the write-ahead log.", get(&m->wal_bytes));
    series(f, "colb_wal_records_total", "counter", "Records appended to the write-ahead log.", get(&m->wal_records));
    series(f, "colb_wal_fsyncs_total", "counter", "fdatasync calls of the log (group commits).", get(&m->fsyncs));
    series(f, "colb_wal_rotations_total", "counter", "Log segments started.", get(&m->rotations));
    fprintf(f, "# HELP colb_wal_fsync_seconds Duration of one fdatasync of the log.\n"
               "# TYPE colb_wal_fsync_seconds histogram\n");
    hist(f, "colb_wal_fsync_seconds", "", &m->fsync_seconds, 1.0);
    fprintf(f, "# HELP colb_wal_group_commit_size Requests answered by one fdatasync.\n"
               "# TYPE colb_wal_group_commit_size histogram\n");
    hist(f, "colb_wal_group_commit_size", "", &m->commit_batch, 1.0 / METRICS_COUNT_UNIT);
    series(f, "colb_snapshots_total", "counter", "Snapshots written.", get(&m->snapshots));
    series(f, "colb_snapshot_failures_total", "counter", "Snapshots that could not be written.",
           get(&m->snapshot_failures));
    series(f, "colb_snapshot_forks_total", "counter",
           "Snapshots whose state a fork()ed child held (the others were captured by the writer).",
           get(&m->snapshot_forks));
    series(f, "colb_snapshot_bytes", "gauge", "Size of the last snapshot.", get(&m->snapshot_bytes));
    series(f, "colb_snapshot_policy_bytes", "gauge", "Size of the policy's part of the last snapshot.",
           get(&m->snapshot_policy_bytes));
    series(f, "colb_snapshot_lsn", "gauge", "Log sequence number the last snapshot covers.", get(&m->snapshot_lsn));
    fprintf(f, "# HELP colb_snapshot_pause_seconds Time the writer spends freezing the state for a snapshot, by fork or by a capture (requests wait; a capture's policy is saved later, colb_snapshot_policy_seconds).\n"
               "# TYPE colb_snapshot_pause_seconds histogram\n");
    hist(f, "colb_snapshot_pause_seconds", "", &m->snapshot_pause, 1.0);
    fprintf(f, "# HELP colb_snapshot_policy_seconds Time the applier spends saving the policy of a captured snapshot, in log order (chooses and reads wait; rewards do not).\n"
               "# TYPE colb_snapshot_policy_seconds histogram\n");
    hist(f, "colb_snapshot_policy_seconds", "", &m->snapshot_policy, 1.0);
    fprintf(f, "# HELP colb_snapshot_write_seconds Time to serialise and write a snapshot durably (in the background, at --background-write-rate).\n"
               "# TYPE colb_snapshot_write_seconds histogram\n");
    hist(f, "colb_snapshot_write_seconds", "", &m->snapshot_seconds, 1.0);
    series(f, "colb_queue_depth", "gauge", "Requests waiting for the writer.", get(&m->queue_depth));
    series(f, "colb_overloaded_total", "counter", "Requests refused with 503 because the queue was full.",
           get(&m->overloaded));
    series(f, "colb_writer_batches_total", "counter", "Batches of requests the writer applied.",
           get(&m->writer_batches));
    series(f, "colb_inline_requests_total", "counter",
           "Requests applied in their HTTP thread, the writer being idle (of the batches above).",
           get(&m->inline_jobs));
    series(f, "colb_apply_queue_depth", "gauge", "Rewards logged whose policy updates have not run yet.",
           get(&m->apply_depth));
    series(f, "colb_inline_updates_total", "counter",
           "Reward updates run in their request's HTTP thread, the applier being idle.", get(&m->inline_updates));
    series(f, "colb_applier_idle_updates_total", "counter",
           "Reward updates the applier thread ran in SCHED_IDLE (--applier-class idle or batches).",
           get(&m->idle_updates));
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}
