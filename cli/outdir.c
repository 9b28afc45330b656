/* outdir.c - results folders written as one set (outdir.h). */
#define _GNU_SOURCE /* renameat2, nftw */
#include "outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

#define MARKER ".colb-results"

/* parent folder and base name of path (trailing slashes ignored) */
static int split_path(const char *path, char *parent, char *base, size_t len)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    if (n == 0 || n >= len)
        return -1;
    const char *slash = NULL;
    for (size_t i = 0; i < n; i++)
        if (path[i] == '/')
            slash = path + i;
    if (!slash) {
        snprintf(parent, len, ".");
        snprintf(base, len, "%.*s", (int)n, path);
    } else {
        snprintf(parent, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
        snprintf(base, len, "%.*s", (int)(path + n - slash - 1), slash + 1);
    }
    return strcmp(base, ".") && strcmp(base, "..") && *base ? 0 : -1;
}

/* The folder `parent` of `path` exists (made if missing: the outermost
 * folder made into made, PATH_LEN bytes) and is writable. */
static int writable_parent(const char *path, const char *parent, char *made, char *err, size_t err_len)
{
    if (make_dirs_made(parent, made, PATH_LEN, err, err_len))
        return -1;
    if (access(parent, W_OK | X_OK) != 0) {
        snprintf(err, err_len, "%s: cannot write into %s: %s", path, parent, strerror(errno));
        unmake_dirs(parent, made);
        return -1;
    }
    return 0;
}

/* The folder `parent` of `path` could be made and written: it, or the
 * nearest folder above it that exists, is a writable folder. Nothing is
 * created. */
static int creatable_parent(const char *path, const char *parent, char *err, size_t err_len)
{
    char at[PATH_LEN], up[PATH_LEN], base[PATH_LEN];
    struct stat st;
    snprintf(at, sizeof at, "%s", parent);
    while (stat(at, &st) != 0) {
        if (errno != ENOENT || split_path(at, up, base, sizeof up)) {
            snprintf(err, err_len, "%s: %s: %s", path, at, strerror(errno));
            return -1;
        }
        snprintf(at, sizeof at, "%s", up);
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "%s: %s is not a folder", path, at);
        return -1;
    }
    if (access(at, W_OK | X_OK) != 0) {
        snprintf(err, err_len, "%s: cannot write into %s: %s", path, at, strerror(errno));
        return -1;
    }
    return 0;
}

int outdir_make_parent(const char *path, char *made, char *err, size_t err_len)
{
    char parent[PATH_LEN], base[PATH_LEN];
    made[0] = '\0';
    if (!path || strlen(path) >= PATH_LEN || split_path(path, parent, base, sizeof parent)) {
        snprintf(err, err_len, "%s: not a usable file name", path ? path : "(null)");
        return -1;
    }
    return writable_parent(path, parent, made, err, err_len);
}

void outdir_unmake_parent(const char *path, const char *made)
{
    char parent[PATH_LEN], base[PATH_LEN];
    if (made[0] && !split_path(path, parent, base, sizeof parent))
        unmake_dirs(parent, made);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p) != 0 && errno != ENOENT ? -1 : 0;
}

static int remove_tree(const char *path)
{
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* fsync one entry of a results folder being committed: regular files and
 * folders (nftw with FTW_DEPTH gives a folder after its entries); links
 * and anything else are left alone. 0, or the errno of the failure (nftw
 * then stops and returns it). */
static int sync_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if ((flag != FTW_F && flag != FTW_DP) || (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)))
        return 0;
    int fd = open(p, O_RDONLY | O_CLOEXEC | (S_ISDIR(st->st_mode) ? O_DIRECTORY : 0));
    if (fd < 0)
        return errno;
    int e = fsync(fd) != 0 && errno != EINVAL ? errno : 0; /* EINVAL: no fsync on this fs */
    close(fd);
    return e;
}

/* Everything under `path` on disk (its files' data, then each folder's
 * entries): what the temporary folder holds before it is renamed into
 * place, so that a crash after the rename finds complete files: the
 * tool's own files (afile, not synced one by one), gnuplot's pictures and
 * the hard links of outdir_keep_old. 0, or an errno. */
static int sync_tree(const char *path)
{
    int rc = nftw(path, sync_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc > 0 ? rc : rc < 0 ? (errno ? errno : EIO) : 0;
}

/* fsync the folder `dir` (its entries: a rename in it). 0, or an errno. */
static int sync_dir(const char *dir)
{
    struct stat st;
    return stat(dir, &st) == 0 ? sync_entry(dir, &st, FTW_DP, NULL) : errno;
}

/* A folder colb may replace: it has the marker, or is empty. */
static int replaceable(const char *dir)
{
    char p[PATH_LEN + 32];
    snprintf(p, sizeof p, "%s/" MARKER, dir);
    if (access(p, F_OK) == 0)
        return 1;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    int empty = 1;
    while (empty && (de = readdir(d)))
        empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
    closedir(d);
    return empty;
}

/* Remove what killed runs on this folder left beside it (we hold the lock,
 * so no one else is writing them): temporary folders, and an old folder
 * put aside by an interrupted two-rename commit, which goes back in place
 * when the final folder is missing. */
static void clean_stale(const char *parent, const char *base, const char *final)
{
    DIR *d = opendir(parent);
    if (!d)
        return;
    char tmp_prefix[PATH_LEN + 16], old_prefix[PATH_LEN + 16], p[2 * PATH_LEN + 32];
    snprintf(tmp_prefix, sizeof tmp_prefix, ".%s.tmp.", base);
    snprintf(old_prefix, sizeof old_prefix, ".%s.old.", base);
    struct dirent *de;
    struct stat st;
    int have_final = lstat(final, &st) == 0;
    while ((de = readdir(d))) {
        int is_tmp = !strncmp(de->d_name, tmp_prefix, strlen(tmp_prefix));
        int is_old = !strncmp(de->d_name, old_prefix, strlen(old_prefix));
        if (!is_tmp && !is_old)
            continue;
        snprintf(p, sizeof p, "%s/%s", parent, de->d_name);
        if (is_old && !have_final && rename(p, final) == 0) {
            have_final = 1;
            continue;
        }
        remove_tree(p);
    }
    closedir(d);
}

static int take_lock(outdir *o, char *err, size_t err_len)
{
    for (int tries = 0; tries < 5; tries++) {
        int fd = open(o->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(err, err_len, "%s: cannot create the lock file: %s", o->lock, strerror(errno));
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                snprintf(err, err_len, "%s: another colb process is writing this folder (lock %s)", o->final,
                         o->lock);
            else
                snprintf(err, err_len, "%s: cannot lock: %s", o->lock, strerror(e));
            return -1;
        }
        /* the holder before us may have removed the file: lock the file
         * that is at the path now */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(o->lock, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            o->lock_fd = fd;
            o->locked = 1;
            return 0;
        }
        close(fd);
    }
    snprintf(err, err_len, "%s: cannot lock (the lock file keeps changing)", o->lock);
    return -1;
}

static void release_lock(outdir *o)
{
    if (o->locked) {
        unlink(o->lock);
        close(o->lock_fd);
    }
    o->locked = 0;
}

int outdir_open(outdir *o, const char *path, char *err, size_t err_len)
{
    memset(o, 0, sizeof *o);
    char parent[PATH_LEN], base[PATH_LEN];
    if (!path || strlen(path) >= PATH_LEN || split_path(path, parent, base, sizeof parent)) {
        snprintf(err, err_len, "%s: not a usable results folder name (or longer than %d bytes)",
                 path ? path : "(null)", PATH_LEN - 1);
        return -1;
    }
    snprintf(o->final, sizeof o->final, "%s", path);
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            snprintf(err, err_len, "%s: exists and is not a folder", path);
            return -1;
        }
        if (!replaceable(path)) {
            snprintf(err, err_len,
                     "%s: not a colb results folder (no " MARKER " file, not empty); choose another --out",
                     path);
            return -1;
        }
    } else if (errno != ENOENT) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (writable_parent(path, parent, o->made, err, err_len))
        return -1;
    snprintf(o->parent, sizeof o->parent, "%s", parent);
    snprintf(o->lock, sizeof o->lock, "%s/.%s.lock", parent, base);
    if (take_lock(o, err, err_len)) {
        unmake_dirs(o->parent, o->made);
        return -1;
    }
    clean_stale(parent, base, o->final);
    snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp.XXXXXX", parent, base);
    if (!mkdtemp(o->tmp)) {
        snprintf(err, err_len, "%s: cannot create a folder in %s: %s", path, parent, strerror(errno));
        o->tmp[0] = '\0';
        release_lock(o);
        unmake_dirs(o->parent, o->made);
        return -1;
    }
    chmod(o->tmp, 0755); /* mkdtemp's 0700 is too strict for results */
    return 0;
}

/* Hard-link (copy where links are refused) src into dst, entry by entry,
 * skipping names dst already has. */
static int link_tree(const char *src, const char *dst, char *err, size_t err_len)
{
    DIR *d = opendir(src);
    if (!d) {
        snprintf(err, err_len, "%s: %s", src, strerror(errno));
        return -1;
    }
    struct dirent *de;
    int rc = 0;
    char *a = malloc(PATH_LEN * 2), *b = malloc(PATH_LEN * 2);
    while (rc == 0 && a && b && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, MARKER))
            continue;
        snprintf(a, 2 * PATH_LEN, "%s/%s", src, de->d_name);
        snprintf(b, 2 * PATH_LEN, "%s/%s", dst, de->d_name);
        struct stat st, sb;
        if (lstat(a, &st) != 0)
            continue;
        int exists = lstat(b, &sb) == 0;
        if (S_ISDIR(st.st_mode)) {
            if (exists)
                continue; /* the new run made it: the new one wins whole */
            if (mkdir(b, st.st_mode & 07777) != 0 || link_tree(a, b, err, err_len) != 0)
                rc = -1;
        } else if (!exists && link(a, b) != 0) {
            snprintf(err, err_len, "%s: cannot keep it in the new folder: %s", a, strerror(errno));
            rc = -1;
        }
    }
    if (!a || !b) {
        snprintf(err, err_len, "out of memory");
        rc = -1;
    }
    free(a);
    free(b);
    closedir(d);
    return rc;
}

int outdir_keep_old(outdir *o, char *err, size_t err_len)
{
    struct stat st;
    if (stat(o->final, &st) != 0)
        return 0;
    return link_tree(o->final, o->tmp, err, err_len);
}

/* Write the marker that makes the folder replaceable by a later run. */
static int write_marker(const outdir *o, char *err, size_t err_len)
{
    char p[sizeof o->tmp + 32];
    snprintf(p, sizeof p, "%s/" MARKER, o->tmp);
    afile a;
    if (afile_open(&a, p, err, err_len))
        return -1;
    fprintf(a.f, "colb %s results folder; a later run with this --out replaces it whole\n",
            COLB_VERSION_STRING);
    return afile_commit(&a, err, err_len);
}

int outdir_commit(outdir *o, char *err, size_t err_len)
{
    if (write_marker(o, err, err_len)) {
        outdir_abort(o);
        return -1;
    }
    int e = sync_tree(o->tmp);
    if (e) {
        snprintf(err, err_len, "%s: cannot write the results to disk (fsync): %s", o->final, strerror(e));
        outdir_abort(o);
        return -1;
    }
    char parent[PATH_LEN], base[PATH_LEN], old[sizeof o->tmp] = "";
    split_path(o->final, parent, base, sizeof parent); /* valid: outdir_open checked it */
    struct stat st;
    if (lstat(o->final, &st) != 0) {
        if (rename(o->tmp, o->final) != 0) {
            snprintf(err, err_len, "%s: cannot move the results into place: %s", o->final, strerror(errno));
            outdir_abort(o);
            return -1;
        }
    } else if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->final, RENAME_EXCHANGE) == 0) {
        snprintf(old, sizeof old, "%s", o->tmp); /* the previous folder, now under the temporary name */
    } else {
        /* no RENAME_EXCHANGE on this file system: put the old folder aside
         * (outdir_open of a later run puts it back if we stop between the
         * two renames), then move the new one in */
        snprintf(old, sizeof old, "%s", o->tmp);
        char *t = strstr(old + strlen(old) - 11, ".tmp.");
        if (t)
            memcpy(t, ".old.", 5);
        if (rename(o->final, old) != 0 || rename(o->tmp, o->final) != 0) {
            snprintf(err, err_len, "%s: cannot move the results into place: %s", o->final, strerror(errno));
            rename(old, o->final);
            outdir_abort(o);
            return -1;
        }
    }
    /* the rename is durable once the parent folder is synced: only then
     * does the previous folder go */
    e = sync_dir(parent);
    if (old[0])
        remove_tree(old);
    o->tmp[0] = '\0';
    o->made[0] = '\0'; /* the folders hold the results now */
    release_lock(o);
    if (e) {
        snprintf(err, err_len, "%s: the results are in place, but syncing %s failed (the rename may "
                 "not survive a crash): %s", o->final, parent, strerror(e));
        return -1;
    }
    return 0;
}

void outdir_abort(outdir *o)
{
    if (o->tmp[0])
        remove_tree(o->tmp);
    o->tmp[0] = '\0';
    release_lock(o);
    unmake_dirs(o->parent, o->made);
    o->made[0] = '\0';
}

/* What st (not a regular file) is, for a message. */
static const char *file_kind(const struct stat *st)
{
    if (S_ISDIR(st->st_mode))
        return "a folder";
    if (S_ISFIFO(st->st_mode))
        return "a FIFO";
    if (S_ISSOCK(st->st_mode))
        return "a socket";
    return S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "a device" : "a special file";
}

int outdir_check_file(const char *path, const char *what, const void *magic, size_t magic_len, char *err,
                      size_t err_len)
{
    char parent[PATH_LEN], base[PATH_LEN];
    struct stat st;
    if (!path || strlen(path) >= PATH_LEN || split_path(path, parent, base, sizeof parent)) {
        snprintf(err, err_len, "%s: not a usable file name", path ? path : "(null)");
        return -1;
    }
    if (stat(path, &st) != 0) {
        if (errno != ENOENT) {
            snprintf(err, err_len, "%s: %s", path, strerror(errno));
            return -1;
        }
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_len, "%s: is %s, not a %s", path, file_kind(&st), what);
        return -1;
    } else if (st.st_size > 0) {
        /* O_NONBLOCK: should the path have become a FIFO since, open must not wait */
        unsigned char head[16];
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, err_len, "%s: cannot read it to check that it is a %s: %s", path, what, strerror(errno));
            return -1;
        }
        ssize_t got = magic_len <= sizeof head ? read(fd, head, magic_len) : -1;
        close(fd);
        if (got != (ssize_t)magic_len || memcmp(head, magic, magic_len) != 0) {
            snprintf(err, err_len, "%s: exists and is not a %s (colb replaces only its own files)",
                     path, what);
            return -1;
        }
    }
    return creatable_parent(path, parent, err, err_len);
}

/* `path` made absolute (from the working folder) and normalised by its
 * text: no "." or empty parts, ".." taken back. 0, or -1 when too long. */
static int normal_path(const char *path, char *out, size_t len)
{
    char buf[2 * PATH_LEN + 2];
    if (path[0] == '/')
        snprintf(buf, sizeof buf, "%s", path);
    else if (getcwd(buf, PATH_LEN))
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "/%s", path);
    else
        return -1;
    size_t n = 0;
    for (char *part = strtok(buf, "/"); part; part = strtok(NULL, "/")) {
        if (!strcmp(part, "."))
            continue;
        if (!strcmp(part, "..")) {
            while (n > 0 && out[n - 1] != '/')
                n--;
            n = n > 0 ? n - 1 : 0;
            continue;
        }
        if (n + strlen(part) + 2 > len)
            return -1;
        out[n++] = '/';
        memcpy(out + n, part, strlen(part));
        n += strlen(part);
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
    return 0;
}

int outdir_normal_path(const char *path, char *out, size_t len) { return normal_path(path, out, len); }

int outdir_path_inside(const char *path, const char *dir)
{
    char p[PATH_LEN + 2], d[PATH_LEN + 2];
    if (normal_path(path, p, sizeof p) || normal_path(dir, d, sizeof d))
        return 0;
    size_t n = strlen(d);
    if (!strcmp(p, d))
        return 2;
    return !strcmp(d, "/") || (!strncmp(p, d, n) && p[n] == '/');
}
