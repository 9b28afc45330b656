/* atomic_file.h - atomic, durable replacement of a file (internal; the
 * public colb_file_write of colb/file.h is one call of it). It lives in
 * core so that every layer writes files through it: snapshots (persist),
 * the Last.FM feature cache and colb_dataset_write (data).
 *
 * The new content goes to a temporary file in the same folder (so that the
 * rename cannot cross file systems); committing fsyncs it, renames it over
 * the target and fsyncs the folder, so that after a crash the target holds
 * either its old content or the complete new one, never a mix. A failed
 * write (full disk, quota, I/O error) removes the temporary and leaves the
 * target as it was; the message carries the system's reason (errno text). */
#ifndef COLB_ATOMIC_FILE_H
#define COLB_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "colb/status.h"

typedef struct colb__afile {
    int fd;
    int live;          /* 1 while fd is open (a zeroed afile is closed) */
    int created;       /* 1 while the temporary exists and is ours */
    char *path, *tmp;  /* target and temporary names (owned) */
    FILE *f;           /* colb__afile_stream's stream, or NULL */
    char *buf;         /* its text (open_memstream) */
    size_t buf_len;
} colb__afile;

/* Create the temporary next to `path` (the permissions of the file it
 * replaces, else 0666 less the umask, like fopen). First removes the
 * temporaries of `path` left by writers that no longer exist (killed
 * before their commit; same host assumed: a PID is looked up on this one).
 * COLB_EIO with "PATH: reason" on failure, COLB_ENOMEM. */
colb_status colb__afile_open(colb__afile *a, const char *path, char *msg, size_t msg_len);

/* Append n bytes (retrying short writes and EINTR). COLB_EIO naming the
 * target and the reason ("No space left on device") on failure. */
colb_status colb__afile_write(colb__afile *a, const void *p, size_t n, char *msg, size_t msg_len);

/* A stdio stream for text written with fprintf (owned by a). It collects
 * the text in memory (open_memstream), which commit writes to the
 * temporary, so that a write error is reported with its own reason ("File
 * too large"), not a stream's sticky error flag; cost: the text's size in
 * memory until commit. Once it exists, write through it only (not
 * colb__afile_write). NULL when it cannot be made; the afile stays usable. */
FILE *colb__afile_stream(colb__afile *a);

/* fsync, close, rename over the target, fsync the folder. On a failure up
 * to the rename the temporary is removed and the target is untouched; if
 * only the folder's fsync fails, the target holds the new content but the
 * rename may not survive a crash: COLB_EIO says "written, but syncing its
 * folder failed". Closes `a` either way. */
colb_status colb__afile_commit(colb__afile *a, char *msg, size_t msg_len);

/* Close and remove the temporary; harmless on a closed or zeroed afile. */
void colb__afile_abort(colb__afile *a);

#endif
