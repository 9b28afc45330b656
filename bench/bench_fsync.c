/* bench_fsync.c - the disk's own group-commit latency, without colb serve:
 * how long a record appended at a fixed rate waits until an fdatasync that
 * started after it returns. This is the floor under the durable answer of
 * `POST /v1/reward` (docs/serve.md, "Durability"), measured the way the
 * log writes: records appended in place over a preallocated file of zeros
 * (so that fdatasync flushes data blocks only), one writer, and S syncer
 * threads, each starting an fdatasync whenever records are waiting and
 * fewer than S are in flight (S = 1 is colb's group commit; S > 1 overlaps
 * them, which `docs/performance.md` reports as slower on ext4 here), and
 * an fdatasync starting at least I µs after the previous one started (colb
 * serve's --commit-interval; 0: at once).
 *
 * Usage: bench_fsync [--rate R] [--seconds T] [--syncers S[,S...]]
 *                    [--intervals I[,I...]] [--record-bytes B] [DIR]
 *   R records a second (16000: about half the reward form's peak), T
 *   seconds per run (4), syncer counts (1,2), intervals in µs (0), B bytes
 *   a record (64), DIR
 *   the folder of the scratch file (/tmp; the file is removed).
 * It prints, for each S and I, the fdatasyncs a second and the wait's p50, p90,
 * p99, p99.9 and maximum (from the record's scheduled time to the end of the first
 * fdatasync that covers it), and how many waits were over 5 ms. Wall-clock
 * numbers on a shared machine: alternate and repeat. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    int max_inflight;
    double interval;     /* the least time between two fdatasyncs' starts (s) */
    double last_start;   /* when the last one started (mu) */
    size_t n;            /* records of the run */
    double *written;     /* each record's scheduled time (then its wait) */
    double *durable;     /* the end of the first fdatasync covering it (mu) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t appended;     /* records written so far (mu) */
    size_t covered;      /* records some started fdatasync covers (mu) */
    size_t done;         /* records below it all have their end (mu) */
    int inflight;        /* fdatasyncs running (mu) */
    int stop;            /* the writer has finished (mu) */
    size_t syncs;        /* fdatasyncs started (mu) */
    int failed;          /* an fdatasync failed: errno (mu) */
} run;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_fsync: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void *syncer(void *arg)
{
    run *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->stop && !(r->appended > r->covered && r->inflight < r->max_inflight))
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->appended == r->covered) /* stopped, nothing left */
            break;
        if (r->inflight >= r->max_inflight) {
            pthread_cond_wait(&r->cv, &r->mu);
            continue;
        }
        double wait = r->last_start + r->interval - now_s();
        if (wait > 0.0) { /* paced: records gather until the interval is over */
            pthread_mutex_unlock(&r->mu);
            struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&r->mu);
            continue;
        }
        r->last_start = now_s();
        size_t upto = r->appended;
        r->covered = upto;
        r->inflight++;
        r->syncs++;
        pthread_mutex_unlock(&r->mu);
        int rc = fdatasync(r->fd), err = errno;
        double t = now_s();
        pthread_mutex_lock(&r->mu);
        r->inflight--;
        if (rc != 0)
            r->failed = err;
        /* an fdatasync that started later may have returned first: each
         * record keeps the first end that covers it */
        for (size_t i = r->done; i < upto; i++)
            if (r->durable[i] == 0.0 || t < r->durable[i])
                r->durable[i] = t;
        while (r->done < upto && r->durable[r->done] != 0.0)
            r->done++;
        pthread_cond_broadcast(&r->cv);
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Preallocates the scratch file with zeros written (not fallocate: unwritten
 * extents would make each first write a metadata change) and syncs it. */
static int scratch_file(const char *dir, size_t bytes, char *path, size_t path_len)
{
    snprintf(path, path_len, "%s/bench_fsync.XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        die(path);
    static char zeros[1 << 20];
    for (size_t off = 0; off < bytes; off += sizeof zeros)
        if (pwrite(fd, zeros, sizeof zeros, (off_t)off) != (ssize_t)sizeof zeros) {
            unlink(path);
            die("writing the scratch file");
        }
    if (fsync(fd) != 0) {
        unlink(path);
        die("fsync of the scratch file");
    }
    return fd;
}

static void one_run(int fd, int syncers, double interval_us, double rate, double seconds, size_t rec_bytes)
{
    run r = { .fd = fd, .max_inflight = syncers, .interval = 1e-6 * interval_us };
    r.n = (size_t)(rate * seconds);
    r.written = calloc(r.n, sizeof *r.written);
    r.durable = calloc(r.n, sizeof *r.durable);
    char *rec = malloc(rec_bytes);
    if (!r.written || !r.durable || !rec)
        die("memory");
    memset(rec, 0x5a, rec_bytes);
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    pthread_t th[16];
    for (int i = 0; i < syncers; i++)
        if ((errno = pthread_create(&th[i], NULL, syncer, &r)) != 0)
            die("pthread_create");

    double t0 = now_s();
    for (size_t i = 0; i < r.n; i++) {
        double due = t0 + (double)i / rate;
        struct timespec ts = { (time_t)due, (long)((due - (double)(time_t)due) * 1e9) };
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        if (pwrite(fd, rec, rec_bytes, (off_t)(i * rec_bytes)) != (ssize_t)rec_bytes)
            die("pwrite");
        pthread_mutex_lock(&r.mu);
        /* the wait counts from the record's scheduled time, as bench_serve's
         * open loop counts a request's: a writer running late, or a pwrite
         * held on a page under writeback, is part of it */
        r.written[i] = due;
        r.appended = i + 1;
        pthread_cond_broadcast(&r.cv);
        pthread_mutex_unlock(&r.mu);
    }
    pthread_mutex_lock(&r.mu);
    r.stop = 1;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
    for (int i = 0; i < syncers; i++)
        pthread_join(th[i], NULL);
    double elapsed = now_s() - t0;
    if (r.failed) {
        errno = r.failed;
        die("fdatasync");
    }

    size_t over = 0;
    for (size_t i = 0; i < r.n; i++) {
        r.written[i] = 1e3 * (r.durable[i] - r.written[i]); /* the wait, ms */
        over += r.written[i] > 5.0;
    }
    qsort(r.written, r.n, sizeof *r.written, by_value);
    const double *w = r.written;
    size_t n = r.n;
    printf("| %d | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %zu |\n", syncers, interval_us,
           (double)n / elapsed, (double)r.syncs / elapsed, w[n / 2], w[n * 9 / 10], w[n * 99 / 100],
           w[n * 999 / 1000], w[n - 1], over);
    fflush(stdout);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    free(r.written);
    free(r.durable);
    free(rec);
}

/* A comma-separated list of whole numbers in [lo, hi] into out (at most
 * max); the count, or 0 when malformed. */
static int parse_list(const char *s, long lo, long hi, long *out, int max)
{
    int n = 0;
    while (*s) {
        char *end;
        long k = strtol(s, &end, 10);
        if (end == s || k < lo || k > hi || n == max || (*end && *end != ','))
            return 0;
        out[n++] = k;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

int main(int argc, char **argv)
{
    double rate = 16000, seconds = 4;
    size_t rec_bytes = 64;
    const char *dir = "/tmp", *list = "1,2", *ilist = "0";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--rate") && has)
            rate = atof(argv[++i]);
        else if (!strcmp(a, "--seconds") && has)
            seconds = atof(argv[++i]);
        else if (!strcmp(a, "--syncers") && has)
            list = argv[++i];
        else if (!strcmp(a, "--intervals") && has)
            ilist = argv[++i];
        else if (!strcmp(a, "--record-bytes") && has)
            rec_bytes = (size_t)atol(argv[++i]);
        else if (a[0] != '-')
            dir = a;
        else {
            int help = !strcmp(a, "--help") || !strcmp(a, "-h");
            fprintf(help ? stdout : stderr, "usage: bench_fsync [--rate R] [--seconds T] [--syncers S[,S...]] "
                                            "[--intervals I[,I...]] [--record-bytes B] [DIR]\n");
            return help ? 0 : 2;
        }
    }
    if (!(rate >= 1 && rate <= 1e6) || !(seconds > 0 && seconds <= 600) || rec_bytes < 1 ||
        rec_bytes > 65536 || rate * seconds < 1000) {
        fprintf(stderr, "bench_fsync: need 1 <= rate <= 1e6, 0 < seconds <= 600, 1 <= record bytes <= "
                        "65536 and at least 1000 records (rate x seconds)\n");
        return 2;
    }
    long syncers[16], intervals[16];
    int ns = parse_list(list, 1, 16, syncers, 16), ni = parse_list(ilist, 0, 1000000, intervals, 16);
    if (!ns || !ni) {
        fprintf(stderr, "bench_fsync: --syncers takes counts from 1 to 16 and --intervals µs from 0 to "
                        "1000000, comma-separated, at most 16 of each\n");
        return 2;
    }
    size_t bytes = ((size_t)(rate * seconds) * rec_bytes / (1 << 20) + 1) << 20;
    char path[4096];
    int fd = scratch_file(dir, bytes, path, sizeof path);
    printf("records of %zu bytes at %.0f a second for %.1f s, appended over a preallocated file in %s; "
           "the wait from a record's write to the end of the first fdatasync covering it (ms)\n\n",
           rec_bytes, rate, seconds, dir);
    printf("| syncers | interval µs | records/s | fdatasyncs/s | p50 | p90 | p99 | p99.9 | max | waits > 5 ms |\n");
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < ns; k++)
        for (int j = 0; j < ni; j++)
            one_run(fd, (int)syncers[k], (double)intervals[j], rate, seconds, rec_bytes);
    close(fd);
    unlink(path);
    return 0;
}
