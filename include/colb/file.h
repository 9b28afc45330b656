/* colb/file.h - writing a file atomically and durably, the way colb writes
 * its snapshots (docs/format.md, section 10), for an application's own files
 * beside colb's: the CSV files of the Python package, for example.
 *
 * colb_file_write replaces the file at `path` with the len bytes at `data`.
 * They go to a temporary file PATH.tmp.PID.N in the same folder (created
 * with O_EXCL, so concurrent writers of one path never share one), which is
 * fsynced, closed and renamed over PATH; then the folder is fsynced. A
 * reader of PATH sees its old content or the whole new one, never a part,
 * also after a crash or a power loss. A replaced file keeps its
 * permissions; a new one gets 0666 less the umask. A symbolic link at PATH
 * is replaced by the file, as rename(2) replaces it (its target stays as it
 * was): pass the link's target to write through it. Before writing, the
 * temporaries of PATH that writers killed before their rename left behind
 * (their PID is no running process of this host) are removed; those of
 * running processes are left alone.
 *
 * Errors: COLB_EINVAL (path NULL or empty, data NULL with len > 0);
 * COLB_ENOMEM; COLB_EIO with the system's reason ("writing 'PATH' failed:
 * No space left on device", "cannot replace 'PATH': Is a directory"): PATH
 * is then as it was and no temporary is left - except for "'PATH' written,
 * but syncing its folder failed: ...", where PATH holds the new content but
 * its rename may not survive a crash. Messages go to msg (msg_len bytes;
 * msg may be NULL).
 *
 * Thread safety: any number of threads may write distinct paths, or the
 * same path, at once (the last rename wins). Cost: O(len), two fsyncs and
 * one scan of the folder's entries. */
#ifndef COLB_FILE_H
#define COLB_FILE_H

#include <stddef.h>

#include "colb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

colb_status colb_file_write(const char *path, const void *data, size_t len, char *msg, size_t msg_len);

#ifdef __cplusplus
}
#endif
#endif
