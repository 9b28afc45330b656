/* gnuplot.c - running gnuplot (gnuplot.h): finding the executable, running
 * a script as a child process (fork + exec, no shell, a process group of
 * its own) in a figure's folder with its stderr captured, or on a gnuplot
 * started and warmed up ahead, within a time limit after which the group
 * is killed, and moving the images into place atomically; plus the quoting
 * of strings inside gnuplot scripts. */
#define _GNU_SOURCE /* pipe2 */
#include "gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "options.h"
#include "outdir.h"

/* One character of a double-quoted gnuplot string: '"' and '\\' escaped,
 * a line break as a blank, and a backquote as its octal escape \140 -
 * gnuplot runs the text between two backquotes of a command line as a
 * shell command, inside double quotes too, so a title such as "a `b` c"
 * would run b; the escape is read back as a backquote only after that. */
static void put_char(FILE *f, char c)
{
    if (c == '`') {
        fputs("\\140", f);
        return;
    }
    if (c == '"' || c == '\\')
        fputc('\\', f);
    fputc(c == '\n' ? ' ' : c, f);
}

/* s as a gnuplot double-quoted string literal. */
void gnuplot_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++)
        put_char(f, *s);
    fputc('"', f);
}

/* A title as a gnuplot string, broken onto two balanced lines at a blank
 * when it is longer than `width` characters (the plots are 900 pixels
 * wide). */
void gnuplot_title(FILE *f, const char *s, size_t width)
{
    size_t n = strlen(s), cut = 0, best = (size_t)-1;
    if (n > width) /* the blank nearest the middle */
        for (size_t i = 1; i + 1 < n && i <= width; i++)
            if (s[i] == ' ') {
                size_t d = i > n / 2 ? i - n / 2 : n / 2 - i;
                if (d < best)
                    best = d, cut = i;
            }
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (cut && i == cut) {
            fputs("\\n", f);
            continue;
        }
        put_char(f, s[i]);
    }
    fputc('"', f);
}

/* ---- finding gnuplot --------------------------------------------------- */

static int executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Make `path` absolute (gnuplot runs in another folder). */
static int absolutize(char *path, size_t len)
{
    if (path[0] == '/')
        return 0;
    char cwd[PATH_LEN], tmp[PATH_LEN];
    if (!getcwd(cwd, sizeof cwd))
        return -1;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/%s", cwd, path) >= sizeof tmp || strlen(tmp) >= len)
        return -1;
    snprintf(path, len, "%s", tmp);
    return 0;
}

/* The gnuplot executable: $COLB_GNUPLOT if set (a path, or a name looked up
 * on PATH), else `gnuplot` on PATH. Returns 0 and the absolute path, or -1. */
int gnuplot_find(char *out, size_t len)
{
    const char *name = getenv("COLB_GNUPLOT");
    if (!name || !*name)
        name = "gnuplot";
    if (strchr(name, '/')) {
        if (strlen(name) >= len || !executable(name))
            return -1;
        snprintf(out, len, "%s", name);
        return absolutize(out, len);
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        int w = n ? snprintf(out, len, "%.*s/%s", (int)n, p, name) : snprintf(out, len, "%s", name);
        if (w > 0 && (size_t)w < len && executable(out))
            return absolutize(out, len);
        if (!colon)
            break;
        p = colon + 1;
    }
    return -1;
}

/* ---- running gnuplot --------------------------------------------------- */

int gnuplot_timeout(double *seconds, char *err, size_t err_len)
{
    const char *s = getenv("COLB_GNUPLOT_TIMEOUT");
    *seconds = GNUPLOT_TIMEOUT_DEFAULT;
    if (!s)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || !(v > 0) || v > GNUPLOT_TIMEOUT_MAX) {
        snprintf(err, err_len, "COLB_GNUPLOT_TIMEOUT=%.100s is not a number of seconds in (0, %g] "
                 "(the time gnuplot has to draw a plot; unset: %g)", s, GNUPLOT_TIMEOUT_MAX,
                 GNUPLOT_TIMEOUT_DEFAULT);
        return -1;
    }
    *seconds = v;
    return 0;
}

/* Now in milliseconds on the monotonic clock. */
static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Kill a child started by spawn with everything in its process group
 * (what it started, unless that left the group); the child's own pid
 * when the group is not there. It stays to be reaped. */
static void kill_group(pid_t pid)
{
    if (kill(-pid, SIGKILL) != 0)
        kill(pid, SIGKILL);
}

/* The line of gnuplot's stderr that says what went wrong: the one naming
 * the script line ("NAME.gp" line 12: ...), else the last non-empty one. */
static void gnuplot_reason(const char *text, char *out, size_t len)
{
    const char *best = NULL, *last = NULL;
    size_t best_n = 0, last_n = 0;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (q < p + n && (*q == ' ' || *q == '\t'))
            q++;
        size_t m = n - (size_t)(q - p);
        if (m && !(m == 1 && *q == '^')) {
            last = q, last_n = m;
            for (size_t i = 0; i + 7 <= m; i++)
                if (!memcmp(q + i, "\" line ", 7)) {
                    best = q, best_n = m;
                    break;
                }
        }
        p += n + (e != NULL);
    }
    if (!best)
        best = last, best_n = last_n;
    if (best)
        snprintf(out, len, "%.*s", (int)best_n, best);
    else
        snprintf(out, len, "no message");
}

/* Start exe with argv in folder dir (NULL: this one), its stderr on a pipe
 * (*err_fd) and its stdin on another (*in_fd) or /dev/null (in_fd NULL).
 * The pipes are close-on-exec: a gnuplot started later (or any other
 * child) holds no end of them - one holding a started gnuplot's stdin
 * would keep it from ever reading its end - and the child keeps only its
 * stdin, stdout and stderr. The child's pid, or -1 with err set. */
static pid_t spawn(const char *exe, char *const argv[], const char *dir, int *in_fd, int *err_fd,
                   char *err, size_t err_len)
{
    int fd[2], in[2] = { -1, -1 };
    if (pipe2(fd, O_CLOEXEC) != 0) {
        snprintf(err, err_len, "gnuplot: pipe: %s", strerror(errno));
        return -1;
    }
    if (in_fd && pipe2(in, O_CLOEXEC) != 0) {
        snprintf(err, err_len, "gnuplot: pipe: %s", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid > 0) /* as the child does: its group exists before any kill_group */
        setpgid(pid, pid);
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        if (in_fd)
            close(in[0]), close(in[1]);
        snprintf(err, err_len, "gnuplot: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) { /* child: only async-signal-safe calls */
        /* a process group of its own: a Ctrl-C at the terminal is colb's to
         * handle (it stops a run at its next checkpoint), not a plot's end
         * that would fail a run whose computation is done */
        setpgid(0, 0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC); /* dup2's copies are not */
        if (null >= 0) {
            dup2(in_fd ? in[0] : null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
        }
        dup2(fd[1], STDERR_FILENO);
        close(fd[0]);
        if (in_fd)
            close(in[1]);
        if (dir && chdir(dir) != 0) {
            static const char m[] = "cannot enter the figure folder\n";
            ssize_t w = write(STDERR_FILENO, m, sizeof m - 1);
            (void)w;
            _exit(126);
        }
        execv(exe, argv);
        static const char m[] = "cannot execute gnuplot\n";
        ssize_t w = write(STDERR_FILENO, m, sizeof m - 1);
        (void)w;
        _exit(127);
    }
    close(fd[1]);
    *err_fd = fd[0];
    if (in_fd) {
        close(in[0]);
        *in_fd = in[1];
    }
    return pid;
}

/* Read the child's stderr to its end (the last 8 kB kept), wait for it,
 * both within `limit` seconds: a child still running then is killed with
 * its process group and reaped. 0 when it exited with status 0,
 * GNUPLOT_TIMED_OUT with err set, GNUPLOT_FAILED with err set from the
 * telling line of its stderr when it exited otherwise, -1 (err set) when
 * it could not be waited for. */
static int finish(pid_t pid, int err_fd, double limit, const char *dir, const char *script, char *err,
                  size_t err_len)
{
    char buf[8192];
    size_t n = 0;
    long long deadline = now_ms() + (long long)ceil(limit * 1000);
    int status, exited = 0, timed_out = 0;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        /* a tick of at most 0.1 s: an exited gnuplot whose stderr another
         * process it started still holds is seen by its exit */
        struct pollfd pfd = { .fd = err_fd, .events = POLLIN };
        int ready = poll(&pfd, 1, left < 100 ? (int)left : 100);
        if (ready == 0 && waitpid(pid, &status, WNOHANG) == pid) {
            exited = 1;
            break;
        }
        if (ready <= 0)
            continue; /* the tick, or EINTR */
        char chunk[1024];
        ssize_t got = read(err_fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        /* keep the last part: the error comes at the end */
        size_t g = (size_t)got;
        if (n + g > sizeof buf - 1) {
            size_t drop = n + g - (sizeof buf - 1);
            if (drop > n)
                drop = n;
            memmove(buf, buf + drop, n - drop);
            n -= drop;
        }
        if (g > sizeof buf - 1 - n)
            g = sizeof buf - 1 - n;
        memcpy(buf + n, chunk, g);
        n += g;
    }
    buf[n] = '\0';
    close(err_fd);
    /* its stderr closed: gnuplot is exiting (or closed it and went on) */
    for (int nap = 1; !exited && !timed_out; nap = nap < 64 ? 2 * nap : nap) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            exited = 1;
        else if (w < 0 && errno != EINTR) {
            snprintf(err, err_len, "gnuplot: waitpid: %s", strerror(errno));
            return -1;
        } else if (now_ms() >= deadline)
            timed_out = 1;
        else if (w == 0)
            nanosleep(&(struct timespec){ 0, nap * 100000L }, NULL); /* 0.1 to 6.4 ms */
    }
    if (timed_out) {
        kill_group(pid);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        snprintf(err, err_len, "gnuplot did not finish %s/%s within %g s and was stopped "
                 "(COLB_GNUPLOT_TIMEOUT sets the limit)", dir, script, limit);
        return GNUPLOT_TIMED_OUT;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char why[512];
    gnuplot_reason(buf, why, sizeof why);
    if (WIFEXITED(status))
        snprintf(err, err_len, "gnuplot failed on %s/%s (exit %d): %s", dir, script, WEXITSTATUS(status), why);
    else
        snprintf(err, err_len, "gnuplot failed on %s/%s (signal %d): %s", dir, script,
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0, why);
    return GNUPLOT_FAILED;
}

/* Run `gnuplot -e ASSIGN SCRIPT` in folder dir within `limit` seconds. 0,
 * or GNUPLOT_TIMED_OUT, GNUPLOT_FAILED or -1 with err set (finish). */
static int run_gnuplot(const char *exe, const char *dir, const char *script, const char *assign,
                       double limit, char *err, size_t err_len)
{
    char *argv[] = { (char *)exe, (char *)"-e", (char *)assign, (char *)script, NULL };
    int err_fd;
    pid_t pid = spawn(exe, argv, dir, NULL, &err_fd, err, err_len);
    /* a gnuplot that could not be started (no pipe, no fork: the
     * machine's limits) fails as one that ran: the results stand */
    return pid < 0 ? GNUPLOT_FAILED : finish(pid, err_fd, limit, dir, script, err, err_len);
}

/* The warm-up: the PNG terminal's first plot (its fonts, cairo) drawn to
 * /dev/null, quietly (a key, an empty range or a small canvas would warn
 * on stderr, which is read for the reason of a failure); `reset` leaves
 * the terminal to the script. */
static const char warm_up[] = "set terminal pngcairo size 900,560 font \"Sans,12\"\n"
                              "set output \"/dev/null\"\nunset key\nset yrange [0:1]\nplot 0.5\n"
                              "set output\nreset\n";

/* write(2) of all of buf to a pipe whose reader may be gone: EPIPE rather
 * than colb's death by SIGPIPE (blocked meanwhile, and a pending one taken
 * back). 0 or -1. */
static int pipe_write(int fd, const char *buf, size_t n)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    int rc = 0;
    while (n && rc == 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = -1;
            break;
        }
        buf += w, n -= (size_t)w;
    }
    if (rc) {
        struct timespec zero = { 0, 0 };
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void gnuplot_start(const char *exe, gnuplot_warm *w)
{
    char err[256];
    char *argv[] = { (char *)exe, NULL };
    w->pid = spawn(exe, argv, NULL, &w->in, &w->err, err, sizeof err);
    if (w->pid > 0 && pipe_write(w->in, warm_up, sizeof warm_up - 1))
        gnuplot_stop(w);
    if (w->pid < 0)
        w->pid = 0;
}

void gnuplot_stop(gnuplot_warm *w)
{
    if (w->pid <= 0)
        return;
    kill_group(w->pid);
    close(w->in);
    close(w->err);
    while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    w->pid = 0;
}

/* s as a gnuplot single-quoted string (no escapes there; a quote doubled),
 * or -1 when s holds a character that a command line cannot carry safely
 * (a line break, or a backquote: gnuplot would run the text between two
 * as a shell command). */
static int put_quoted(char *out, size_t len, const char *s)
{
    size_t n = 0;
    if (len < 3)
        return -1;
    out[n++] = '\'';
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r' || *s == '`' || n + 4 > len)
            return -1;
        if (*s == '\'')
            out[n++] = '\'';
        out[n++] = *s;
    }
    out[n++] = '\'';
    out[n] = '\0';
    return 0;
}

/* Run SCRIPT in dir on the started gnuplot w (used up): the commands of
 * `cd DIR; ASSIGN; load SCRIPT` on its stdin (DIR made absolute), then its
 * end, within `limit` seconds. 0, GNUPLOT_TIMED_OUT, GNUPLOT_FAILED or -1 with err set, or
 * 1 when w could not take them (dir not quotable, or w gone: no plot
 * drawn, w stopped, err untouched). */
static int run_warm(gnuplot_warm *w, const char *dir, const char *script, const char *assign,
                    double limit, char *err, size_t err_len)
{
    char adir[3 * PATH_LEN + 64], qdir[2 * sizeof adir + 8], cmd[sizeof qdir + 1024];
    /* absolute: gnuplot's `cd` reads a leading "~/" as $HOME (a relative
     * folder named "~" is not), and a relative path from its own working
     * folder */
    int n = outdir_normal_path(dir, adir, sizeof adir) || put_quoted(qdir, sizeof qdir, adir)
            ? -1
            : snprintf(cmd, sizeof cmd, "cd %s\n%s\nload '%s'\n", qdir, assign, script);
    if (n < 0 || (size_t)n >= sizeof cmd || pipe_write(w->in, cmd, (size_t)n)) {
        gnuplot_stop(w);
        return 1;
    }
    close(w->in);
    pid_t pid = w->pid;
    w->pid = 0;
    return finish(pid, w->err, limit, dir, script, err, err_len);
}

static int nonempty_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* Run the script NAME.gp in dir and move NAME.svg/.png into place. */
int gnuplot_draw(const char *exe, const char *dir, const char *name, gnuplot_warm *warm,
                 char *err, size_t err_len)
{
    char script[256], assign[640], tmp[2][256], tmp_path[2][PATH_LEN + 256], final[2][PATH_LEN + 256];
    static const char *const ext[2] = { "svg", "png" };
    long pid = (long)getpid();
    double limit;
    if (gnuplot_timeout(&limit, err, err_len))
        return -1;
    snprintf(script, sizeof script, "%s.gp", name);
    for (int i = 0; i < 2; i++) {
        snprintf(tmp[i], sizeof tmp[i], "%s.%s.tmp.%ld", name, ext[i], pid);
        int w1 = snprintf(tmp_path[i], sizeof tmp_path[i], "%s/%s", dir, tmp[i]);
        int w2 = snprintf(final[i], sizeof final[i], "%s/%s.%s", dir, name, ext[i]);
        if (w1 < 0 || w2 < 0 || (size_t)w1 >= sizeof tmp_path[i] || (size_t)w2 >= sizeof final[i]) {
            snprintf(err, err_len, "%s: path too long", dir);
            return -1;
        }
    }
    snprintf(assign, sizeof assign, "svgfile='%s'; pngfile='%s'", tmp[0], tmp[1]);
    int rc = warm && warm->pid > 0 ? run_warm(warm, dir, script, assign, limit, err, err_len) : 1;
    if (rc == 1)
        rc = run_gnuplot(exe, dir, script, assign, limit, err, err_len);
    for (int i = 0; i < 2 && rc == 0; i++)
        if (!nonempty_file(tmp_path[i])) {
            snprintf(err, err_len, "gnuplot failed on %s/%s: it wrote no %s", dir, script, ext[i]);
            rc = GNUPLOT_FAILED;
        }
    for (int i = 0; i < 2 && rc == 0; i++)
        if (rename(tmp_path[i], final[i]) != 0) {
            snprintf(err, err_len, "%s: %s", final[i], strerror(errno));
            rc = -1;
        }
    if (rc)
        for (int i = 0; i < 2; i++)
            remove(tmp_path[i]);
    return rc;
}
