/* say.h - the tool's diagnostics: one line on stderr, "colb: " first. */
#ifndef COLB_CLI_SAY_H
#define COLB_CLI_SAY_H

#include <stddef.h>

/* The printf-style message as text of one line into out (len bytes,
 * truncated to fit): a control character - a line break or a CR in a value
 * quoted back from the command line, an experiment file or a data file - is
 * written as \n, \r or \xNN (a tab stays a tab), so that it neither ends
 * the line nor moves the terminal's cursor. */
void say_line(char *out, size_t len, const char *text);

/* Print "colb: MESSAGE\n" on stderr, MESSAGE as one line (say_line). */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
