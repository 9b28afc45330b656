/* ini.c - the strict experiment-file reader of ini.h. */
#include "ini.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int blank(char c) { return c == ' ' || c == '\t'; }

/* Trim blanks on both ends of s[0..*n): returns the new start. */
static char *trim(char *s, size_t *n)
{
    while (*n && blank(*s))
        s++, (*n)--;
    while (*n && blank(s[*n - 1]))
        (*n)--;
    s[*n] = '\0';
    return s;
}

size_t ini_parse(const char *text, size_t len, ini_handler h, void *user, char *err, size_t err_len)
{
    char *buf = malloc(len + 1);
    char *section = calloc(1, len + 1), *key = calloc(1, len + 1);
    size_t bad = 0, line = 0;
    if (!buf || !section || !key) {
        snprintf(err, err_len, "out of memory");
        bad = 1;
        goto out;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    size_t pos = 0;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        pos = 3;
    int have_key = 0;
    while (pos < len) {
        line++;
        char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);
        if (memchr(s, '\0', n)) {
            snprintf(err, err_len, "NUL byte in the line (not a text file?)");
            bad = line;
            goto out;
        }
        if (n && s[n - 1] == '\r')
            n--;
        if (memchr(s, '\r', n)) { /* CR-only line ends: the whole file would be one line */
            snprintf(err, err_len, "expected lines that end in LF or CRLF, found CR inside the line "
                                   "(convert the line ends)");
            bad = line;
            goto out;
        }
        s[n] = '\0';
        int indented = n && blank(s[0]);
        size_t m = n;
        char *t = trim(s, &m);
        if (m == 0 || t[0] == '#' || t[0] == ';')
            continue;
        if (indented && t[0] != '[') {
            if (!have_key) {
                snprintf(err, err_len, "indented line continues no 'key = value' line");
                bad = line;
                goto out;
            }
            if (h(user, line, section, key, t, 1, err, err_len)) {
                bad = line;
                goto out;
            }
            continue;
        }
        if (t[0] == '[') {
            char *close = strchr(t, ']');
            size_t rest = close ? strspn(close + 1, " \t") : 0;
            if (!close || (close[1 + rest] && close[1 + rest] != ';' && close[1 + rest] != '#')) {
                snprintf(err, err_len, "expected '[section]' alone on the line");
                bad = line;
                goto out;
            }
            size_t k = (size_t)(close - t - 1);
            char *name = trim(t + 1, &k);
            if (!k) {
                snprintf(err, err_len, "empty section name '[]'");
                bad = line;
                goto out;
            }
            memmove(section, name, k + 1);
            have_key = 0;
            if (h(user, line, section, NULL, NULL, 0, err, err_len)) {
                bad = line;
                goto out;
            }
            continue;
        }
        char *eq = strchr(t, '=');
        if (!eq) {
            snprintf(err, err_len, "expected 'key = value', '[section]' or a comment, found '%.60s%s'", t,
                     strlen(t) > 60 ? "..." : "");
            bad = line;
            goto out;
        }
        size_t kn = (size_t)(eq - t);
        char *k = trim(t, &kn);
        if (!kn) {
            snprintf(err, err_len, "missing key before '='");
            bad = line;
            goto out;
        }
        char *v = eq + 1;
        for (char *c = v; *c; c++) /* an inline comment: ';' at the start or after a blank */
            if (*c == ';' && (c == v || blank(c[-1]))) {
                *c = '\0';
                break;
            }
        size_t vn = strlen(v);
        v = trim(v, &vn);
        memmove(key, k, kn + 1);
        have_key = 1;
        if (h(user, line, section, key, v, 0, err, err_len)) {
            bad = line;
            goto out;
        }
    }
out:
    free(buf);
    free(section);
    free(key);
    return bad;
}

int ini_read_file(const char *path, size_t max_bytes, char **text, size_t *len, char *err, size_t err_len)
{
    *text = NULL;
    *len = 0;
    if (!path[0]) {
        snprintf(err, err_len, "experiment file: an empty file name");
        return -1;
    }
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    const char *why = fstat(fd, &st) != 0 ? strerror(errno)
                      : S_ISDIR(st.st_mode) ? "is a directory, not an experiment file"
                      : !S_ISREG(st.st_mode) ? "not a regular file"
                                             : NULL;
    if (why) {
        snprintf(err, err_len, "%s: %s", path, why);
        close(fd);
        return -1;
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        snprintf(err, err_len, "%s: %lld bytes, more than the %zu an experiment file may have", path,
                 (long long)st.st_size, max_bytes);
        close(fd);
        return -1;
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *b = malloc(n + 1);
    if (!b) {
        snprintf(err, err_len, "%s: out of memory", path);
        close(fd);
        return -1;
    }
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, err_len, "%s: %s", path, strerror(errno));
            free(b);
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    b[got] = '\0';
    *text = b;
    *len = got;
    return 0;
}
