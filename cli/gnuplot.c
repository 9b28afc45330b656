/* gnuplot.c - running gnuplot (gnuplot.h): finding the executable, running
 * a script as a child process (fork + exec, no shell) in a figure's folder
 * with its stderr captured, and moving the images into place atomically;
 * plus the quoting of strings inside gnuplot scripts. */
#include "gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "options.h"

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

/* Run `gnuplot -e ASSIGN SCRIPT` in folder dir. 0, or -1 with err set. */
static int run_gnuplot(const char *exe, const char *dir, const char *script, const char *assign,
                       char *err, size_t err_len)
{
    int fd[2];
    if (pipe(fd) != 0) {
        snprintf(err, err_len, "gnuplot: pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        snprintf(err, err_len, "gnuplot: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) { /* child: only async-signal-safe calls */
        /* a process group of its own: a Ctrl-C at the terminal is colb's to
         * handle (it stops a run at its next checkpoint), not a plot's end
         * that would fail a run whose computation is done */
        setpgid(0, 0);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
        }
        dup2(fd[1], STDERR_FILENO);
        close(fd[0]);
        if (chdir(dir) != 0) {
            static const char m[] = "cannot enter the figure folder\n";
            ssize_t w = write(STDERR_FILENO, m, sizeof m - 1);
            (void)w;
            _exit(126);
        }
        char *argv[] = { (char *)exe, (char *)"-e", (char *)assign, (char *)script, NULL };
        execv(exe, argv);
        static const char m[] = "cannot execute gnuplot\n";
        ssize_t w = write(STDERR_FILENO, m, sizeof m - 1);
        (void)w;
        _exit(127);
    }
    close(fd[1]);
    char buf[8192];
    size_t n = 0;
    for (;;) {
        char chunk[1024];
        ssize_t got = read(fd[0], chunk, sizeof chunk);
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
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, err_len, "gnuplot: waitpid: %s", strerror(errno));
            return -1;
        }
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
    return -1;
}

static int nonempty_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* Run the script NAME.gp in dir and move NAME.svg/.png into place. */
int gnuplot_draw(const char *exe, const char *dir, const char *name, char *err, size_t err_len)
{
    char script[256], assign[640], tmp[2][256], tmp_path[2][PATH_LEN + 256], final[2][PATH_LEN + 256];
    static const char *const ext[2] = { "svg", "png" };
    long pid = (long)getpid();
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
    int rc = run_gnuplot(exe, dir, script, assign, err, err_len);
    for (int i = 0; i < 2 && rc == 0; i++)
        if (!nonempty_file(tmp_path[i])) {
            snprintf(err, err_len, "gnuplot wrote no %s for %s/%s", ext[i], dir, script);
            rc = -1;
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
