/* testutil.h - helpers shared by the test programs (cmocka). */
#ifndef COLB_TESTUTIL_H
#define COLB_TESTUTIL_H

#include <malloc.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "colb/colb.h"

/* assert |a - b| <= tol * max(1, |b|) with a readable message */
#define assert_close(a, b, tol)                                                       \
    do {                                                                               \
        double a_ = (a), b_ = (b), t_ = (tol) * (fabs(b_) > 1.0 ? fabs(b_) : 1.0);     \
        if (!(fabs(a_ - b_) <= t_))                                                    \
            fail_msg("%s = %.17g, expected %.17g (tol %g)", #a, a_, b_, (double)(tol)); \
    } while (0)

/* Limit this process's address space to what it maps now plus `extra`
 * bytes (setrlimit RLIMIT_AS): a test that forks a child to check that a
 * call allocates no more than its input warrants. 0, or -1. */
static inline int limit_address_space(size_t extra)
{
    long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    int ok = f && fscanf(f, "%ld", &pages) == 1;
    if (f)
        fclose(f);
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (rlim_t)extra;
    return ok && setrlimit(RLIMIT_AS, &rl) == 0 ? 0 : -1;
}

#define assert_ok(expr)                                                               \
    do {                                                                               \
        colb_status s_ = (expr);                                                       \
        if (s_ != COLB_OK)                                                             \
            fail_msg("%s returned %s", #expr, colb_status_name(s_));                   \
    } while (0)

#define assert_status(expr, want)                                                     \
    do {                                                                               \
        colb_status s_ = (expr);                                                       \
        if (s_ != (want))                                                              \
            fail_msg("%s returned %s, expected %s", #expr, colb_status_name(s_),       \
                     colb_status_name(want));                                          \
    } while (0)

/* The contents of a file, NUL-terminated (caller frees), its length in
 * *len (may be NULL); NULL if it cannot be read. */
static inline char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc(n > 0 ? (size_t)n + 1 : 1);
    size_t got = b && n > 0 ? fread(b, 1, (size_t)n, f) : 0;
    if (b)
        b[got] = '\0';
    fclose(f);
    if (len)
        *len = got;
    return b;
}

/* Write n bytes to path (created or replaced). 0, or -1. */
static inline int spit(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Copy file `from` to `to`. 0, or -1. */
static inline int copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *b = slurp(from, &n);
    int rc = b ? spit(to, b, n) : -1;
    free(b);
    return rc;
}

/* The long statistical tier runs only when COLB_LONG is set. */
/* Remove the temporary folder dir (mkdtemp's) and all it holds; fails the
 * test if it cannot. */
static inline void remove_dir(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The bytes malloc holds now: in use in its arenas and mapped on their own
 * (glibc's malloc; the sanitizers' do not count here). */
static inline double malloc_held(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
}

static inline int long_tier(void)
{
    const char *e = getenv("COLB_LONG");
    return e && *e && strcmp(e, "0") != 0;
}

/* The colb tool under test: $COLB, else build/colb. */
static inline const char *colb_bin(void)
{
    const char *b = getenv("COLB");
    return b && *b ? b : "build/colb";
}

/* The Last.FM folder ($COLB_DATA_DIR/hetrec2011-lastfm-2k, else under
 * ../shared/data) into dir; skip() the test, saying so, when it is absent. */
static inline void lastfm_test_dir(char *dir, size_t len)
{
    const char *root = getenv("COLB_DATA_DIR");
    snprintf(dir, len, "%s/hetrec2011-lastfm-2k", root && *root ? root : "../shared/data");
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/artists.dat", dir);
    FILE *f = fopen(probe, "r");
    if (!f) {
        print_message("Last.FM data not found at %s (set COLB_DATA_DIR): skipped\n", dir);
        skip();
    }
    fclose(f);
}

/* Run `colb ARGS` (stdout discarded), its stderr (the first len - 1 bytes)
 * into err; returns the exit code, -1 when it did not exit. */
static inline int colb_run(const char *args, char *err, size_t len)
{
    char cmd[2 * 4096 + 32]; /* the tool's path and arguments, each up to 4 KiB */
    snprintf(cmd, sizeof cmd, "%s %s 2>&1 >/dev/null", colb_bin(), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(err, 1, len - 1, p);
    err[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
