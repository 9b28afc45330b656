/* suggest.h - "did you mean --X?" for misspelled options, commands and
 * figure names: the closest candidate by edit distance. */
#ifndef COLB_CLI_SUGGEST_H
#define COLB_CLI_SUGGEST_H

#include <stddef.h>

/* The candidate closest to `word` (optimal-string-alignment distance:
 * insertions, deletions, substitutions and swaps of neighbours, each 1),
 * if it is within max(2, strlen(word) / 3) edits and unique at that
 * distance; else NULL. A candidate that starts with `word` (a prefix of
 * four or more characters) also counts as close. */
const char *suggest(const char *word, const char *const *candidates, size_t n);

#endif
