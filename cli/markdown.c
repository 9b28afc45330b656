/* markdown.c - text and inline code inside report.md (markdown.h). */
#include "markdown.h"

/* Text inside a table cell or a line: '|' escaped, line breaks as spaces. */
void md_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

/* Inline code: backticks inside become quotes; in a table cell (table = 1)
 * '|' is escaped, as GitHub's tables require even inside code. */
void md_code(FILE *f, const char *s, int table)
{
    fputc('`', f);
    for (; *s; s++) {
        if (*s == '|' && table)
            fputc('\\', f);
        fputc(*s == '`' ? '\'' : *s == '\n' ? ' ' : *s, f);
    }
    fputc('`', f);
}
