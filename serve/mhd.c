/* mhd.c - libmicrohttpd loaded at run time (mhd.h says why). */
#include "mhd.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Debian 12's libmicrohttpd12 (0.9.75); the unversioned name of a -dev
 * package as a fallback (another build of the same ABI). */
static const char *const LIB_NAMES[] = { "libmicrohttpd.so.12", "libmicrohttpd.so" };

mhd_api mhd;
static int loaded; /* 1 when every function was found */
static char why[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* One symbol into *slot (a function pointer's storage); 0 or -1. */
static int sym(void *lib, const char *name, void *slot)
{
    void *f = dlsym(lib, name);
    if (!f) {
        snprintf(why, sizeof why, "libmicrohttpd has no %s (a version older than 0.9.75?)", name);
        return -1;
    }
    memcpy(slot, &f, sizeof f); /* a data pointer to a function pointer, as POSIX dlsym allows */
    return 0;
}

static void load(void)
{
    void *lib = NULL;
    /* $COLB_LIBMICROHTTPD: another file of the library (tests: a missing one) */
    const char *own = getenv("COLB_LIBMICROHTTPD");
    size_t n = own && *own ? 1 : sizeof LIB_NAMES / sizeof LIB_NAMES[0];
    char first[160] = ""; /* the first name's failure: the one to fix */
    for (size_t i = 0; i < n && !lib; i++) {
        lib = dlopen(own && *own ? own : LIB_NAMES[i], RTLD_NOW | RTLD_LOCAL);
        const char *e = lib ? NULL : dlerror();
        if (!lib && !first[0])
            snprintf(first, sizeof first, "%s", e ? e : "not found");
    }
    if (!lib) {
        snprintf(why, sizeof why, "libmicrohttpd cannot be loaded (Debian: apt-get install libmicrohttpd12): %s",
                 first);
        return;
    }
#define SYM(f) sym(lib, "MHD_" #f, &mhd.f)
    if (SYM(start_daemon) || SYM(stop_daemon) || SYM(quiesce_daemon) || SYM(get_daemon_info) ||
        SYM(get_connection_info) || SYM(get_connection_values) || SYM(lookup_connection_value) ||
        SYM(suspend_connection) || SYM(resume_connection) || SYM(create_response_from_buffer) ||
        SYM(add_response_header) || SYM(queue_response) || SYM(destroy_response) || SYM(http_unescape) || SYM(run) || SYM(get_timeout))
        return;
#undef SYM
    loaded = 1;
}

int mhd_load(char *err, size_t err_len)
{
    pthread_once(&once, load);
    if (!loaded && err && err_len)
        snprintf(err, err_len, "%s", why);
    return loaded ? 0 : -1;
}
