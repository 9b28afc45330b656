/* output.c - atomic files, directories, progress bar. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int afile_open(afile *a, const char *path, char *err, size_t err_len)
{
    memset(a, 0, sizeof *a);
    if (strlen(path) >= sizeof a->path) {
        snprintf(err, err_len, "%s: path too long", path);
        return -1;
    }
    snprintf(a->path, sizeof a->path, "%s", path);
    a->f = open_memstream(&a->text, &a->len);
    if (!a->f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* PATH as a new file (a fresh inode: a name hard-linked from an older
 * folder is unlinked, never written through) holding the n bytes at text.
 * 0, or -1 with errno. No fsync: the staged folder is synced whole before
 * it is put in place (outdir_commit). */
static int write_whole(const char *path, const char *text, size_t n)
{
    if (unlink(path) != 0 && errno != ENOENT)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    while (n > 0) {
        ssize_t w = write(fd, text, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            close(fd);
            errno = e;
            return -1;
        }
        text += w;
        n -= (size_t)w;
    }
    return close(fd);
}

int afile_commit(afile *a, char *err, size_t err_len)
{
    int bad = ferror(a->f) != 0;
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    int rc = 0;
    if (bad) { /* a stream in memory fails only for want of memory */
        snprintf(err, err_len, "%s: cannot write: out of memory", a->path);
        rc = -1;
    } else if (write_whole(a->path, a->text, a->len) != 0) {
        snprintf(err, err_len, "%s: cannot write: %s", a->path, strerror(errno));
        rc = -1;
    }
    free(a->text);
    a->text = NULL;
    return rc;
}

void afile_abort(afile *a)
{
    if (a->f)
        fclose(a->f);
    a->f = NULL;
    free(a->text);
    a->text = NULL;
}

int make_dirs(const char *path, char *err, size_t err_len)
{
    return make_dirs_made(path, NULL, 0, err, err_len);
}

int make_dirs_made(const char *path, char *made, size_t made_len, char *err, size_t err_len)
{
    char buf[PATH_LEN];
    if (made && made_len)
        made[0] = '\0';
    if (strlen(path) >= sizeof buf) {
        snprintf(err, err_len, "%s: path too long", path);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) == 0) {
                if (made && made_len && !made[0])
                    snprintf(made, made_len, "%s", buf);
            } else if (errno != EEXIST) {
                snprintf(err, err_len, "%s: %s", buf, strerror(errno));
                unmake_dirs(path, made);
                return -1;
            }
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_len, "%s: not a directory", path);
        return -1;
    }
    return 0;
}

void unmake_dirs(const char *path, const char *made)
{
    if (!made || !made[0] || strncmp(path, made, strlen(made)))
        return;
    char buf[PATH_LEN];
    snprintf(buf, sizeof buf, "%s", path);
    for (size_t n = strlen(buf); n >= strlen(made); n = strlen(buf)) {
        while (n > 1 && buf[n - 1] == '/') /* "a/b/" is "a/b" */
            buf[--n] = '\0';
        if (rmdir(buf) != 0 && errno != ENOENT)
            return; /* not empty: something was put there since */
        if (n <= strlen(made))
            return;
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf)
            return;
        *slash = '\0';
    }
}

double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_init(progress *p, size_t total, int quiet)
{
    memset(p, 0, sizeof *p);
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->lines = !quiet && !p->enabled;
    p->total = total;
    p->t0 = wall_now();
}

void progress_update(void *ctx, size_t done, size_t total_in_setting)
{
    progress *p = ctx;
    (void)total_in_setting;
    if (!p->enabled || p->total == 0)
        return;
    size_t all = p->done_before + done;
    double frac = (double)all / (double)p->total, el = wall_now() - p->t0;
    double eta = frac > 0 ? el * (1 - frac) / frac : 0;
    int width = 30, fill = (int)(frac * width + 0.5);
    fprintf(stderr, "\r%-28.28s [", p->label);
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %3.0f%%  %5.0fs elapsed, ETA %5.0fs ", 100 * frac, el, eta);
    fflush(stderr);
}

void progress_step(progress *p, const char *what)
{
    if (!p->lines || p->total == 0)
        return;
    double frac = (double)p->done_before / (double)p->total, el = wall_now() - p->t0;
    if (frac > 1)
        frac = 1;
    if (frac > 0)
        fprintf(stderr, "colb: %3.0f%% %s done; %.0f s elapsed, ETA %.0f s\n", 100 * frac, what, el,
                el * (1 - frac) / frac);
    else
        fprintf(stderr, "colb: %s done; %.0f s elapsed\n", what, el);
    fflush(stderr);
}

void progress_finish(progress *p)
{
    if (p->enabled)
        fprintf(stderr, "\r%*s\r", 100, "");
}
