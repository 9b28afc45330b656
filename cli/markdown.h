/* markdown.h - escaping text for GitHub-flavoured Markdown (the report). */
#ifndef COLB_CLI_MARKDOWN_H
#define COLB_CLI_MARKDOWN_H

#include <stdio.h>

/* Text inside a table cell or a line: '|' escaped, line breaks as spaces. */
void md_text(FILE *f, const char *s);

/* Inline code: backticks inside become quotes; in a table cell (table = 1)
 * '|' is escaped, as GitHub's tables require even inside code. */
void md_code(FILE *f, const char *s, int table);

#endif
