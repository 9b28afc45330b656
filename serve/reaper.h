/* reaper.h - deadlines of the HTTP connections, enforced by one thread.
 *
 * libmicrohttpd's own timer (--idle-timeout) closes a connection only
 * after that long without a byte: a client that trickles its headers or
 * its body, a byte every few seconds, would hold its connection - one of
 * --max-connections - for ever. The HTTP front gives each connection a
 * deadline for what it waits for (the next request's headers, a body, the
 * reading of an answer; none while the server works on the request) and
 * this thread shuts down, every tick, the socket of each connection past
 * its deadline: libmicrohttpd then sees the end of the stream and closes
 * the connection itself. Only shutdown(), never close(): the socket stays
 * libmicrohttpd's until it closes it, after it removed the record
 * (reaper_remove), so a number reused by a new socket is never touched. */
#ifndef COLB_SERVE_REAPER_H
#define COLB_SERVE_REAPER_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct reaper reaper;
typedef struct reaper_conn reaper_conn;

/* No deadline (the server works on the connection's request). */
#define REAPER_NEVER 1e300

/* Start the thread, checking every tick_s seconds; every connection it
 * shuts down adds one to *cut (relaxed). 0, or -1 (out of memory, no
 * thread) with *out NULL. */
int reaper_start(reaper **out, double tick_s, _Atomic uint64_t *cut);

/* Watch socket fd with a deadline (now_s() seconds, clock.h). NULL when
 * out of memory: the connection is then left to libmicrohttpd's timer. */
reaper_conn *reaper_add(reaper *r, int fd, double deadline);

/* A new deadline for c (REAPER_NEVER: none). Any thread; NULL harmless. */
void reaper_set(reaper_conn *c, double deadline);

/* Stop watching c, before its socket is closed; frees c. NULL harmless. */
void reaper_remove(reaper *r, reaper_conn *c);

/* Stop the thread and free r with any record left. NULL harmless. */
void reaper_stop(reaper *r);

#endif
