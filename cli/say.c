/* say.c - diagnostics of one line each (say.h). */
#include "say.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

void say_line(char *out, size_t len, const char *text)
{
    size_t n = 0;
    if (!len)
        return;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        char esc[8];
        if (*c == '\n')
            snprintf(esc, sizeof esc, "\\n");
        else if (*c == '\r')
            snprintf(esc, sizeof esc, "\\r");
        else if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
            snprintf(esc, sizeof esc, "\\x%02x", *c);
        else
            esc[0] = (char)*c, esc[1] = '\0';
        size_t k = strlen(esc);
        if (n + k >= len)
            break;
        memcpy(out + n, esc, k);
        n += k;
    }
    out[n] = '\0';
}

void say(const char *fmt, ...)
{
    char msg[ERR_LEN + 512], line[2 * (ERR_LEN + 512)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    say_line(line, sizeof line, msg);
    fprintf(stderr, "colb: %s\n", line);
}
