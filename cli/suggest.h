/* suggest.h - "did you mean --X?" for misspelled options, commands and
 * figure names: the closest candidate by edit distance, and the one-line
 * message every subcommand gives for an unknown word. */
#ifndef COLB_CLI_SUGGEST_H
#define COLB_CLI_SUGGEST_H

#include <stddef.h>

/* The candidate closest to `word` (optimal-string-alignment distance:
 * insertions, deletions, substitutions and swaps of neighbours, each 1),
 * if it is within max(2, strlen(word) / 3) edits and unique at that
 * distance; else NULL. A candidate that starts with `word` (a prefix of
 * four or more characters) also counts as close. */
const char *suggest(const char *word, const char *const *candidates, size_t n);

/* The message for an unknown word, into out (len bytes, cut if it must
 * be): "unknown WHAT 'PREFIX WORD'; did you mean 'PREFIX BEST'? (see SEE)"
 * with BEST = suggest(WORD, candidates, n), e.g. "unknown option
 * '--horizn'; did you mean '--horizon'? (see colb --help)". WORD is
 * word[0..word_len) (the name of "--horizn=5"); prefix ("--" for option
 * names kept without their dashes, or "") is written before it and before
 * BEST; the "did you mean" clause is left out when no candidate is close,
 * the "(see SEE)" one when see is NULL. Every subcommand tells an unknown
 * option, command or figure with it, so all say it the same way. */
void suggest_unknown(char *out, size_t len, const char *what, const char *prefix, const char *word,
                     size_t word_len, const char *const *candidates, size_t n, const char *see);

#endif
