/* suggest.c - the closest candidate to a misspelled word, and the message
 * for an unknown one (suggest.h). */
#include "suggest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Optimal string alignment distance, capped at cap + 1 (words are short:
 * option names are < 64 characters). */
static size_t distance(const char *a, const char *b, size_t cap)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63)
        return cap + 1;
    size_t d[64][64];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c)
                c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c)
                c = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < c)
                c = d[i - 2][j - 2] + 1;
            d[i][j] = c;
        }
    return d[n][m];
}

const char *suggest(const char *word, const char *const *candidates, size_t n)
{
    size_t len = strlen(word), cap = len / 3 > 2 ? len / 3 : 2;
    const char *best = NULL;
    size_t best_d = cap + 1, ties = 0;
    for (size_t i = 0; i < n; i++) {
        size_t d = distance(word, candidates[i], cap);
        if (len >= 4 && !strncmp(candidates[i], word, len) && d > 1)
            d = 1; /* a prefix: --cluster for --clusters */
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
            ties = 0;
        } else if (d == best_d) {
            ties++;
        }
    }
    return best && best_d <= cap && !ties ? best : NULL;
}

void suggest_unknown(char *out, size_t len, const char *what, const char *prefix, const char *word,
                     size_t word_len, const char *const *candidates, size_t n, const char *see)
{
    char w[64]; /* longer words are no candidate's misspelling (distance) */
    const char *best = NULL;
    if (word_len < sizeof w) {
        memcpy(w, word, word_len);
        w[word_len] = '\0';
        best = suggest(w, candidates, n);
    }
    snprintf(out, len, "unknown %s '%s%.*s'%s%s%s%s%s%s%s", what, prefix, (int)word_len, word,
             best ? "; did you mean '" : "", best ? prefix : "", best ? best : "", best ? "'?" : "",
             see ? " (see " : "", see ? see : "", see ? ")" : "");
}
