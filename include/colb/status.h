/* colb/status.h - status codes returned by every fallible colb call.
 *
 * Codes are stable numbers generated, with their names and messages, from one
 * X-macro table (the libuv pattern), so the enum and the strings cannot drift.
 * A handle that failed also keeps a message naming the bad argument; see the
 * `*_last_error` call of that handle. */
#ifndef COLB_STATUS_H
#define COLB_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message) */
#define COLB_STATUS_TABLE(X)                                                   \
    X(OK,       0, "success")                                                  \
    X(EINVAL,   1, "invalid argument")                                         \
    X(ENOMEM,   2, "out of memory")                                            \
    X(ENONFIN,  3, "non-finite number (NaN or Inf)")                           \
    X(ERANGE,   4, "parameter out of range")                                   \
    X(ESTATE,   5, "call out of order for the object's state")                 \
    X(EIO,      6, "input/output error")                                       \
    X(EPARSE,   7, "malformed input")                                          \
    X(ENOTFOUND,8, "not found")                                                \
    X(ENUMERIC, 9, "numerical failure (matrix not positive definite)")         \
    X(EUNSUP,  10, "not supported")                                            \
    X(EINTR,   11, "stopped on request (the state is consistent and can be saved)")

typedef enum colb_status {
#define COLB_STATUS_ENUM_(name, value, msg) COLB_##name = value,
    COLB_STATUS_TABLE(COLB_STATUS_ENUM_)
#undef COLB_STATUS_ENUM_
    COLB_STATUS_COUNT_
} colb_status;

/* A static, human-readable message for `s`; never NULL (unknown codes give
 * "unknown status"). The string is owned by the library. */
const char *colb_strerror(colb_status s);

/* The code's symbolic name ("COLB_EINVAL"), static; never NULL. */
const char *colb_status_name(colb_status s);

#ifdef __cplusplus
}
#endif
#endif
