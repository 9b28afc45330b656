/* atomic_file.c - temporary file, fsync, rename, fsync of the folder (see
 * atomic_file.h). The temporary is "PATH.tmp.PID.N" opened with O_EXCL, N
 * taken from the clock and bumped on collision, so concurrent writers of
 * the same target never share a temporary; a target name longer than
 * TMP_BASE_MAX bytes is cut to that in the temporary's name, which would
 * otherwise pass the file system's NAME_MAX (255) where the target does not.
 * A writer killed before its commit or abort (SIGKILL, power loss) leaves
 * its temporary behind: the next write of the same target removes those of
 * writers that no longer exist (remove_stale). */
#include "core/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "colb/file.h"
#include "core/util.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ".tmp." PID "." N adds at most 5 + 7 + 1 + 20 bytes: 180 + 33 < 255 */
#define TMP_BASE_MAX 180

/* The temporary's name for `path` and attempt k, in out[n]. */
static void tmp_name(char *out, size_t n, const char *path, unsigned long long k)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    size_t base_len = strlen(path + dir_len);
    int keep = base_len > TMP_BASE_MAX ? TMP_BASE_MAX : (int)base_len;
    snprintf(out, n, "%.*s%.*s.tmp.%ld.%llu", (int)dir_len, path, keep, path + dir_len, (long)getpid(), k);
}

/* The decimal number of digits [s, s + n) as written by "%ld" / "%llu" (no
 * sign, no leading zero unless it is "0"), in *v; 0 if it is not one or
 * passes `max`. */
static int parse_dec(const char *s, size_t n, unsigned long long max, unsigned long long *v)
{
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
        return 0;
    unsigned long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (max - d) / 10)
            return 0;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}

/* Remove the temporaries of `path` that writers killed before their commit
 * or abort left behind: regular files of its folder named exactly as
 * tmp_name names them, whose PID is no process of this host (kill(pid, 0)
 * fails with ESRCH). A live writer's temporary (its PID exists, whoever it
 * is now) is never touched. Best effort: a folder that cannot be read, or
 * a file that cannot be removed, is left as it is. O(entries of the folder). */
static void remove_stale(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    size_t base_len = strlen(path + dir_len);
    size_t keep = base_len > TMP_BASE_MAX ? TMP_BASE_MAX : base_len;
    char dir[4096];
    if (base_len == 0 || dir_len >= sizeof dir)
        return;
    if (dir_len)
        snprintf(dir, sizeof dir, "%.*s", (int)dir_len, path);
    else
        snprintf(dir, sizeof dir, ".");
    DIR *d = opendir(dir);
    if (!d)
        return;
    const char *base = path + dir_len;
    pid_t self = getpid();
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        size_t len = strlen(n);
        /* BASE ".tmp." PID "." N */
        if (len <= keep + 5 || memcmp(n, base, keep) || memcmp(n + keep, ".tmp.", 5))
            continue;
        const char *p = n + keep + 5, *dot = strchr(p, '.');
        unsigned long long pid, k;
        if (!dot || !parse_dec(p, (size_t)(dot - p), (unsigned long long)INT32_MAX, &pid) || pid < 1 ||
            !parse_dec(dot + 1, strlen(dot + 1), ~0ULL, &k) || (pid_t)pid == self)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive (or not ours to signal: EPERM), or unknown */
        char full[4096 + 256];
        struct stat st;
        snprintf(full, sizeof full, "%.*s%s", (int)dir_len, path, n);
        if (lstat(full, &st) == 0 && S_ISREG(st.st_mode))
            (void)unlink(full);
    }
    closedir(d);
}

colb_status colb__afile_open(colb__afile *a, const char *path, char *msg, size_t msg_len)
{
    memset(a, 0, sizeof *a);
    if (!path || !*path)
        return colb__say(msg, msg_len, COLB_EINVAL, "the path to write is empty");
    size_t n = strlen(path) + 64;
    a->path = dup_str(path);
    a->tmp = malloc(n);
    if (!a->path || !a->tmp) {
        colb__afile_abort(a);
        return colb__say(msg, msg_len, COLB_ENOMEM, "out of memory");
    }
    remove_stale(path);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long salt = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 20);
    for (int attempt = 0; attempt < 100; attempt++) {
        tmp_name(a->tmp, n, path, salt + (unsigned long long)attempt);
        a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (a->fd >= 0 || errno != EEXIST)
            break;
    }
    a->live = a->created = a->fd >= 0;
    /* a replaced file keeps its permissions (a snapshot made private stays so) */
    struct stat old;
    if (a->live && stat(path, &old) == 0 && S_ISREG(old.st_mode))
        (void)fchmod(a->fd, old.st_mode & 0777);
    if (!a->live) {
        int e = errno;
        colb__say(msg, msg_len, COLB_EIO, "cannot write '%s': %s", path, strerror(e));
        colb__afile_abort(a);
        return COLB_EIO;
    }
    return COLB_OK;
}

FILE *colb__afile_stream(colb__afile *a)
{
    if (!a->f && a->live)
        a->f = open_memstream(&a->buf, &a->buf_len);
    return a->f;
}

colb_status colb__afile_write(colb__afile *a, const void *p, size_t n, char *msg, size_t msg_len)
{
    const unsigned char *c = p;
    while (n > 0) {
        ssize_t k = write(a->fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            return colb__say(msg, msg_len, COLB_EIO, "writing '%s' failed: %s", a->path, strerror(e));
        }
        c += k;
        n -= (size_t)k;
    }
    return COLB_OK;
}

/* fsync the folder holding `path` so that the rename itself is durable. */
static int sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return ENAMETOOLONG;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int e = fsync(fd) != 0 && errno != EINVAL ? errno : 0; /* EINVAL: no fsync on this fs */
    close(fd);
    return e;
}

colb_status colb__afile_commit(colb__afile *a, char *msg, size_t msg_len)
{
    colb_status st = COLB_OK;
    if (a->f) { /* the stream's text, collected in memory, goes first */
        int bad = ferror(a->f) != 0;
        bad |= fclose(a->f) != 0;
        a->f = NULL;
        if (bad) /* a memory stream fails only for want of memory */
            st = colb__say(msg, msg_len, COLB_ENOMEM, "writing '%s' failed: out of memory", a->path);
        else
            st = colb__afile_write(a, a->buf, a->buf_len, msg, msg_len);
        free(a->buf);
        a->buf = NULL;
    }
    if (st == COLB_OK && fsync(a->fd) != 0 && errno != EINVAL)
        st = colb__say(msg, msg_len, COLB_EIO, "writing '%s' failed: fsync: %s", a->path, strerror(errno));
    if (close(a->fd) != 0 && st == COLB_OK)
        st = colb__say(msg, msg_len, COLB_EIO, "writing '%s' failed: %s", a->path, strerror(errno));
    a->live = 0;
    if (st == COLB_OK && rename(a->tmp, a->path) != 0)
        st = colb__say(msg, msg_len, COLB_EIO, "cannot replace '%s': %s", a->path, strerror(errno));
    if (st != COLB_OK) {
        colb__afile_abort(a);
        return st;
    }
    int e = sync_folder(a->path);
    a->created = 0; /* renamed: nothing to remove any more */
    if (e)
        st = colb__say(msg, msg_len, COLB_EIO, "'%s' written, but syncing its folder failed: %s",
                       a->path, strerror(e));
    colb__afile_abort(a);
    return st;
}

void colb__afile_abort(colb__afile *a)
{
    if (!a)
        return;
    if (a->f)
        fclose(a->f);
    free(a->buf);
    a->f = NULL;
    a->buf = NULL;
    if (a->live)
        close(a->fd);
    a->live = 0;
    if (a->created && a->tmp)
        unlink(a->tmp);
    a->created = 0;
    free(a->tmp);
    free(a->path);
    a->tmp = a->path = NULL;
}

colb_status colb_file_write(const char *path, const void *data, size_t len, char *msg, size_t msg_len)
{
    if (msg && msg_len)
        msg[0] = '\0';
    if (!path || (!data && len))
        return colb__say(msg, msg_len, COLB_EINVAL, "colb_file_write: %s is NULL", path ? "data" : "path");
    colb__afile a;
    colb_status st = colb__afile_open(&a, path, msg, msg_len);
    if (st == COLB_OK && len)
        st = colb__afile_write(&a, data, len, msg, msg_len);
    if (st != COLB_OK) {
        colb__afile_abort(&a);
        return st;
    }
    return colb__afile_commit(&a, msg, msg_len);
}
