/* outdir.h - a results folder written as one set (issue 17, defect 2).
 *
 * A run writes into a fresh temporary folder beside its --out folder
 * (".NAME.tmp.XXXXXX" in the same parent) and only a complete set of
 * results replaces --out, in one atomic rename (RENAME_EXCHANGE, falling
 * back to two renames with recovery); the previous folder stays in place
 * until then and is removed after. A run stopped at any point leaves either
 * the previous folder or the complete new one; its temporary folder is
 * removed by the next run on the same --out. Durable too: every file and
 * folder of the new set is fsynced before the rename, the parent folder
 * after it. An exclusive lock (flock on ".NAME.lock" beside --out) keeps
 * two colb processes from writing the same folder. An existing --out is
 * replaced only when it is a colb results folder (it holds the marker file
 * .colb-results, or it is empty) so that a mistyped --out never deletes
 * someone's files.
 *
 *   outdir o;
 *   if (outdir_open(&o, "results/run", err, len))  ...  validated, locked
 *   ... write files into o.tmp ...
 *   outdir_commit(&o, err, len)  (or outdir_abort(&o) on failure)
 */
#ifndef COLB_CLI_OUTDIR_H
#define COLB_CLI_OUTDIR_H

#include <stddef.h>

#include "options.h"

typedef struct outdir {
    char final[PATH_LEN];        /* --out as given */
    char tmp[2 * PATH_LEN + 32]; /* the folder being written */
    char lock[2 * PATH_LEN + 32];
    char parent[PATH_LEN];       /* final's folder */
    char made[PATH_LEN];         /* the outermost folder open created for it, or "" */
    int lock_fd, locked;
} outdir;

/* Validate `path` as a results folder (creating missing parents), take its
 * lock, remove what killed runs left beside it, and create o->tmp. Returns
 * 0, or -1 with "PATH: reason" (errno text where there is one) in err; the
 * parents it created are removed again on failure, and by outdir_abort. */
int outdir_open(outdir *o, const char *path, char *err, size_t err_len);

/* Hard-link into o->tmp every entry of the previous folder that o->tmp
 * does not have (a run that redoes part of a folder keeps the rest). */
int outdir_keep_old(outdir *o, char *err, size_t err_len);

/* Put o->tmp in place of o->final, remove the previous folder, release the
 * lock. On failure the previous folder is left as it was. */
int outdir_commit(outdir *o, char *err, size_t err_len);

/* Remove o->tmp, release the lock, and remove the parents outdir_open
 * created while they are empty (failed runs). Harmless after commit or on
 * a zeroed outdir. */
void outdir_abort(outdir *o);

/* 1 when `path` names something inside folder `dir` (by their text, each
 * made absolute and normalised: no "." or empty parts, ".." taken back), 2
 * when it names `dir` itself, 0 otherwise. */
int outdir_path_inside(const char *path, const char *dir);

/* `path` made absolute (from the working folder) and normalised by its
 * text as above, into out (len bytes). 0, or -1 when too long. */
int outdir_normal_path(const char *path, char *out, size_t len);

/* Validate, before any work, a file the run will write outside its results
 * folder (a feature cache, a checkpoint): it is missing, or a regular file
 * that is empty or starts with the magic_len (<= 16) bytes of `magic`, that
 * is a file of the kind colb writes there (`what`, for messages: "colb
 * feature cache"). A folder, a device, a FIFO (never opened) or someone
 * else's file is refused. Its folder exists and is writable, or the
 * nearest folder above it that exists is writable (nothing is created
 * here: outdir_make_parent does, when the file is written). 0, or -1 with
 * "PATH: reason" in err. */
int outdir_check_file(const char *path, const char *what, const void *magic, size_t magic_len, char *err,
                      size_t err_len);

/* Create the missing folders above the file `path` (mkdir -p of its
 * folder), the outermost one created into made (PATH_LEN bytes, "" when
 * none; for unmake_dirs). 0, or -1 with err. */
int outdir_make_parent(const char *path, char *made, char *err, size_t err_len);

/* Undo outdir_make_parent(path, made) while its folders are empty (the
 * file could not be written). */
void outdir_unmake_parent(const char *path, const char *made);

#endif
