/* mhd.h - libmicrohttpd, loaded when the first server starts rather than
 * linked with colb. Linked, it brought GnuTLS, whose constructor runs at
 * every process start: about 5 ms for every colb command (`colb --version`
 * 7.0 ms against 2.0 ms for the same program without it, 2026-12-05), 12 %
 * of a whole `colb run` of LinUCB-Ind at N = 200; only `colb serve` uses
 * it. The header still gives the types and constants, and each pointer's
 * type is its function's own prototype. */
#ifndef COLB_SERVE_MHD_H
#define COLB_SERVE_MHD_H

#include <stddef.h>

#include <microhttpd.h>

typedef struct {
    __typeof__(MHD_start_daemon) *start_daemon;
    __typeof__(MHD_stop_daemon) *stop_daemon;
    __typeof__(MHD_quiesce_daemon) *quiesce_daemon;
    __typeof__(MHD_get_daemon_info) *get_daemon_info;
    __typeof__(MHD_get_connection_info) *get_connection_info;
    __typeof__(MHD_get_connection_values) *get_connection_values;
    __typeof__(MHD_lookup_connection_value) *lookup_connection_value;
    __typeof__(MHD_suspend_connection) *suspend_connection;
    __typeof__(MHD_resume_connection) *resume_connection;
    __typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
    __typeof__(MHD_add_response_header) *add_response_header;
    __typeof__(MHD_queue_response) *queue_response;
    __typeof__(MHD_destroy_response) *destroy_response;
    __typeof__(MHD_http_unescape) *http_unescape;
    __typeof__(MHD_run) *run;
    __typeof__(MHD_get_timeout) *get_timeout;
} mhd_api;

/* Load libmicrohttpd's functions into mhd once per process (any thread;
 * the library stays loaded). 0, or -1 with the reason in err (err_len
 * bytes). */
int mhd_load(char *err, size_t err_len);

/* The functions, filled by the first successful mhd_load and never written
 * again: read them only after a mhd_load that returned 0 (in its thread, or
 * in a thread started after it). */
extern mhd_api mhd;

#endif
