/* checkpoint.c - checkpoints of colb's runs (see checkpoint.h). */
#include "checkpoint.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "outdir.h"
#include "output.h"

/* The signal caught (the only state a handler may touch). The simulator's
 * worker threads poll it too (interrupt_requested), which a volatile
 * sig_atomic_t does not allow (a data race: ThreadSanitizer reports it); a
 * lock-free atomic is safe both in the handler and across threads. */
static _Atomic int caught;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the signal flag must be lock-free to be set in a handler");

static void on_signal(int sig)
{
    atomic_store_explicit(&caught, sig, memory_order_relaxed);
}

void interrupt_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second signal kills as usual */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int interrupt_requested(void *ctx)
{
    (void)ctx;
    return atomic_load_explicit(&caught, memory_order_relaxed) != 0;
}

int interrupt_signal(void) { return atomic_load_explicit(&caught, memory_order_relaxed); }

void session_init(run_session *s)
{
    memset(s, 0, sizeof *s);
}

void session_free(run_session *s)
{
    for (size_t i = 0; i < s->n_sims; i++)
        colb_sim_free(s->sims[i]);
    colb_snapshot_reader_free(s->resume);
    colb_dataset_free(s->dataset);
    memset(s, 0, sizeof *s);
}

static void label_of(char *out, size_t len, size_t ri, size_t si)
{
    snprintf(out, len, "setting %zu %zu", ri, si);
}

/* The resumed checkpoint's object for setting (ri, si), or (size_t)-1. */
static size_t find(const run_session *s, size_t ri, size_t si)
{
    char want[64];
    label_of(want, sizeof want, ri, si);
    size_t n = strlen(want);
    for (size_t i = 0; s->resume && i < colb_snapshot_reader_count(s->resume); i++) {
        const char *l = colb_snapshot_reader_label(s->resume, i);
        if (colb_snapshot_reader_kind(s->resume, i) == COLB_SNAPSHOT_SIM && !strncmp(l, want, n) &&
            (l[n] == '\0' || l[n] == ' '))
            return i;
    }
    return (size_t)-1;
}

int session_sim(run_session *s, size_t ri, size_t si, run_config *c, const void *dataset,
                int create, char *tuned, colb_sim **out, int *have, char *err, size_t err_len)
{
    *out = NULL;
    size_t i = find(s, ri, si);
    *have = i != (size_t)-1;
    if (!*have) {
        if (!create)
            return 0;
        char msg[512];
        if (colb_sim_create(&c->sim, out, msg, sizeof msg) != COLB_OK) {
            snprintf(err, err_len, "%s", msg);
            return -1;
        }
        return 0;
    }
    /* "setting R S tuned=A,A2 club-alpha=.. club-alpha2=..": the exact
     * constants first, then the text shown in summary.csv */
    const char *l = colb_snapshot_reader_label(s->resume, i), *t = strstr(l, " tuned=");
    /* "setting R S data=F ...": run on the data set of fingerprint F; its
     * finished jobs hold results of that data set only, so another one
     * (the files edited since) is refused as for running jobs */
    const char *dp = strstr(l, " data=");
    if (dp) {
        unsigned long long fp = 0;
        uint64_t now = dataset ? colb_dataset_fingerprint(dataset) : 0;
        if (sscanf(dp, " data=%16llx", &fp) != 1) {
            snprintf(err, err_len, "checkpoint: malformed setting label '%s'", l);
            return -1;
        }
        if (!dataset || (uint64_t)fp != now) {
            snprintf(err, err_len, "the checkpoint does not fit this run (a setting it holds was "
                     "run on another data set (fingerprint %016llx, this one is %016llx): the data "
                     "files changed since); remove it or run without --resume", fp,
                     (unsigned long long)now);
            return -1;
        }
    }
    if (t) {
        double a, a2;
        int n = 0;
        if (sscanf(t, " tuned=%lf,%lf %n", &a, &a2, &n) != 2 || n == 0) {
            snprintf(err, err_len, "checkpoint: malformed setting label '%s'", l);
            return -1;
        }
        c->sim.policy.club_own_alpha = 1; /* as data_tune_club sets them */
        c->sim.policy.club_alpha = a;
        c->sim.policy.club_alpha2 = a2;
        snprintf(tuned, 64, "%s", t + n);
    }
    colb_status st = colb_snapshot_get_sim(s->resume, i, &c->sim, out);
    if (st == COLB_EINVAL) { /* the stored spec differs from this run's */
        snprintf(err, err_len, "the checkpoint does not fit this run (%s); remove it or run "
                 "without --resume", colb_snapshot_reader_last_error(s->resume));
        return -1;
    }
    if (st != COLB_OK) { /* its values: no run of colb wrote them so */
        snprintf(err, err_len, "the checkpoint is damaged (%s: %s); remove it or run without --resume",
                 colb_strerror(st), colb_snapshot_reader_last_error(s->resume));
        return -1;
    }
    return 0;
}

int session_keep(run_session *s, colb_sim *sim, size_t ri, size_t si, const run_config *c,
                 const void *dataset, const char *tuned, char *err, size_t err_len)
{
    if (s->n_sims == MAX_SETTINGS) {
        colb_sim_free(sim);
        snprintf(err, err_len, "more than %d settings to checkpoint", MAX_SETTINGS);
        return -1;
    }
    char *l = s->labels[s->n_sims];
    label_of(l, sizeof s->labels[0], ri, si);
    if (dataset)
        snprintf(l + strlen(l), sizeof s->labels[0] - strlen(l), " data=%016llx",
                 (unsigned long long)colb_dataset_fingerprint(dataset));
    if (tuned && tuned[0])
        snprintf(l + strlen(l), sizeof s->labels[0] - strlen(l), " tuned=%.17g,%.17g %s",
                 c->sim.policy.club_alpha, c->sim.policy.club_alpha2, tuned);
    s->sims[s->n_sims++] = sim;
    return 0;
}

#define BUILD_LABEL "colb build"

/* This build of colb, as a checkpoint records it: the version, the build
 * flags and a hash (XXH3-64, as colb's other hashes) of the running
 * executable's bytes, so that a rebuilt or another colb is told apart even
 * at the same version. */
static void build_identity(char *out, size_t len)
{
    XXH3_state_t *st = XXH3_createState();
    FILE *f = st ? fopen("/proc/self/exe", "rb") : NULL;
    int ok = f && XXH3_64bits_reset(st) == XXH_OK;
    unsigned char buf[65536];
    size_t n, total = 0;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        ok = XXH3_64bits_update(st, buf, n) == XXH_OK;
        total += n;
    }
    ok = ok && !ferror(f) && total > 0;
    unsigned long long h = ok ? (unsigned long long)XXH3_64bits_digest(st) : 0ULL;
    if (f)
        fclose(f);
    XXH3_freeState(st);
    snprintf(out, len, "colb %s, built with %s, executable %016llx", COLB_VERSION_STRING, COLB_BUILD_FLAGS, h);
}

#define KERNEL_LABEL "colb kernel"

/* The kernel path this process computes with (colb_kernel_path), or what
 * COLB_KERNEL names when this CPU cannot run it. */
static void kernel_identity(char *out, size_t len)
{
    const char *k = colb_kernel_path(), *env = getenv("COLB_KERNEL");
    if (k)
        snprintf(out, len, "%s", k);
    else
        snprintf(out, len, "COLB_KERNEL=%.64s (not a kernel this CPU runs)", env ? env : "");
}

int session_write(const run_session *s, const char *path, const char *label, const void *bytes,
                  size_t len, char *err, size_t err_len)
{
    colb_snapshot_writer *w = NULL;
    char msg[512], build[256], kernel[128], made[PATH_LEN];
    build_identity(build, sizeof build);
    kernel_identity(kernel, sizeof kernel);
    if (outdir_make_parent(path, made, err, err_len)) /* checked before the run, made only now */
        return -1;
    colb_status st = colb_snapshot_writer_open(path, &w, msg, sizeof msg);
    if (st == COLB_OK)
        st = colb_snapshot_put_bytes(w, label, bytes, len);
    if (st == COLB_OK)
        st = colb_snapshot_put_bytes(w, BUILD_LABEL, build, strlen(build));
    if (st == COLB_OK)
        st = colb_snapshot_put_bytes(w, KERNEL_LABEL, kernel, strlen(kernel));
    for (size_t i = 0; i < s->n_sims && st == COLB_OK; i++)
        st = colb_snapshot_put_sim(w, s->labels[i], s->sims[i]);
    if (st == COLB_OK && colb_snapshot_writer_commit(w, NULL, err, err_len) == COLB_OK)
        return 0;
    if (st != COLB_OK && w) {
        snprintf(err, err_len, "%s", colb_snapshot_writer_last_error(w));
        colb_snapshot_writer_abort(w);
    } else if (st != COLB_OK) {
        snprintf(err, err_len, "%s", msg);
    }
    outdir_unmake_parent(path, made);
    return -1;
}

int session_open(run_session *s, const char *path, const char *label, const void **bytes,
                 size_t *len, char *err, size_t err_len)
{
    char msg[512];
    if (colb_snapshot_reader_open(path, NULL, &s->resume, msg, sizeof msg) != COLB_OK) {
        snprintf(err, err_len, "%s", msg);
        return -1;
    }
    size_t at = (size_t)-1, built = (size_t)-1, kern = (size_t)-1;
    for (size_t i = 0; i < colb_snapshot_reader_count(s->resume); i++)
        if (colb_snapshot_reader_kind(s->resume, i) == COLB_SNAPSHOT_BYTES) {
            const char *l = colb_snapshot_reader_label(s->resume, i);
            if (!strcmp(l, label) && at == (size_t)-1)
                at = i;
            if (!strcmp(l, BUILD_LABEL) && built == (size_t)-1)
                built = i;
            if (!strcmp(l, KERNEL_LABEL) && kern == (size_t)-1)
                kern = i;
        }
    if (at == (size_t)-1) {
        snprintf(err, err_len, "%s is a colb snapshot but not a checkpoint of %s", path, label);
        return -1;
    }
    /* a run goes on with the build that started it: another one (a new
     * version, a rebuild) may compute differently, and the resumed results
     * would be those of neither */
    char want[256], have[256] = "";
    const void *b = NULL;
    size_t n = 0;
    build_identity(want, sizeof want);
    if (built != (size_t)-1 && colb_snapshot_get_bytes(s->resume, built, &b, &n) == COLB_OK)
        snprintf(have, sizeof have, "%.*s", (int)(n < sizeof have ? n : sizeof have - 1), (const char *)b);
    if (strcmp(have, want)) {
        snprintf(err, err_len, "%s was written by another build of colb (%s; this is %s): resume it "
                 "with that build, or start the run again", path,
                 have[0] ? have : "before builds were recorded", want);
        return -1;
    }
    /* and with the kernel path it started on: the portable kernel rounds
     * differently from the SIMD ones, which can flip a near tie between
     * arms. A checkpoint without the record comes from a build before it,
     * refused above unless the build could not be told apart (no hash of
     * the executable): then it resumes as it did. */
    if (kern != (size_t)-1) {
        char now[128], then[128] = "";
        kernel_identity(now, sizeof now);
        if (colb_snapshot_get_bytes(s->resume, kern, &b, &n) == COLB_OK)
            snprintf(then, sizeof then, "%.*s", (int)(n < sizeof then ? n : sizeof then - 1), (const char *)b);
        for (char *c = then; *c; c++) /* one line, whatever the file holds */
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
        if (strcmp(then, now)) {
            int named = !strcmp(then, "avx512") || !strcmp(then, "avx2") || !strcmp(then, "portable");
            snprintf(err, err_len, "%s was written on kernel path %s and this run's is %s (COLB_KERNEL): "
                     "results may differ by near-tie flips; resume it with %s%s, or start the run again",
                     path, then, now, named ? "COLB_KERNEL=" : "that kernel path", named ? then : "");
            return -1;
        }
    }
    return colb_snapshot_get_bytes(s->resume, at, bytes, len) == COLB_OK ? 0 : -1;
}
