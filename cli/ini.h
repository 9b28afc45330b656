/* ini.h - a strict reader of experiment files (the INI dialect of
 * docs/experiments.md). Why not libinih: Debian's libinih is built with its
 * defaults (INI_MAX_LINE 200, INI_STOP_ON_FIRST_ERROR 0,
 * INI_CALL_HANDLER_ON_NEW_SECTION 0; see /usr/include/ini.h), so long lines
 * are split silently, parsing goes on after an error and empty sections are
 * never reported; and even a vendored copy built with the right options
 * reads with fgets, which cannot see NUL bytes, and splits lines longer than
 * its maximum without saying so. The dialect is five line forms, so a
 * reader of our own that stops at the first malformed line is smaller than
 * the checks a configured inih would still need around it.
 *
 * The dialect, line by line (LF or CRLF; an optional UTF-8 BOM first):
 *   blank line                 skipped
 *   # text    or   ; text      a comment (first non-blank character)
 *   [name]                     a section (name trimmed, not empty)
 *   key = value                an entry (key and value trimmed; in the
 *                              value, ';' after a blank starts a comment)
 *   <blank>more text           indented: continues the previous entry of
 *                              the section (the handler sees the same key
 *                              again with the continuation as its value)
 * Anything else is an error at its line. NUL bytes are errors, and so is a
 * CR anywhere but before the LF (CR-only line ends). */
#ifndef COLB_CLI_INI_H
#define COLB_CLI_INI_H

#include <stddef.h>

/* Called once per section header (name == NULL, value == NULL) and once per
 * entry or continuation line (`line` is its number). Returns 0 to go on, non-zero to stop (then it
 * has written a reason into err). */
typedef int (*ini_handler)(void *user, size_t line, const char *section, const char *name,
                           const char *value, int continuation, char *err, size_t err_len);

/* Parse text[0..len) (need not be NUL-terminated). Returns 0, or the
 * 1-based number of the first bad line, with a reason in err. */
size_t ini_parse(const char *text, size_t len, ini_handler h, void *user, char *err, size_t err_len);

/* Read an experiment file: a regular file of at most max_bytes. Returns 0
 * and a NUL-terminated copy in *text (caller frees), or -1 with
 * "PATH: reason" in err. */
int ini_read_file(const char *path, size_t max_bytes, char **text, size_t *len, char *err,
                  size_t err_len);

#endif
