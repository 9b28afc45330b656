/* tags.h - splitting Last.FM tags into atomic tags (internal).
 *
 * Input: a tag as bytes in ISO-8859-1 (latin-1), the encoding of the HetRec
 * 2011 tags.dat. The exact rule (tokenizer version COLB__TAGS_VERSION):
 *   - token bytes: ASCII letters and digits [A-Za-z0-9], and the latin-1
 *     letters 0xC0-0xFF except 0xD7 (multiplication sign) and 0xF7 (division
 *     sign);
 *   - every other byte separates tokens: ASCII whitespace, punctuation and
 *     control bytes, and the latin-1 bytes 0x80-0xBF (controls, symbols, the
 *     no-break space; this includes the ordinal indicators 0xAA, 0xBA and the
 *     micro sign 0xB5, which are treated as symbols);
 *   - lower-casing: A-Z -> a-z; latin-1 capitals 0xC0-0xDE (except 0xD7) ->
 *     the byte + 0x20, their small forms; 0xDF (sharp s) and 0xFF (y with
 *     diaeresis) have no single-byte capital and stay as they are;
 *   - empty tokens are dropped; a token's occurrences are all kept (a tag
 *     "rock rock" gives "rock" twice);
 *   - output tokens are UTF-8: each latin-1 byte >= 0x80 becomes the two
 *     bytes 0xC0|(b>>6), 0x80|(b&0x3F), so printed vocabulary terms are
 *     readable; a token of n input bytes has at most 2n output bytes.
 * Examples: "Hip-Hop" -> "hip", "hop"; "80's" -> "80", "s";
 * "die \xC4rzte" -> "die", "\xC3\xA4rzte" ("ärzte"). */
#ifndef COLB_TAGS_H
#define COLB_TAGS_H

#include <stddef.h>

/* Bumped whenever the rule above changes (it is part of the feature cache
 * key of colb_lastfm_load). */
#define COLB__TAGS_VERSION 1

/* 1 when latin-1 byte c belongs to tokens. */
int colb__tags_is_token_byte(unsigned char c);

/* The lower-case form of latin-1 byte c (c itself when it has none). */
unsigned char colb__tags_lower(unsigned char c);

typedef struct colb__tag_iter {
    const unsigned char *p, *end;
} colb__tag_iter;

/* Iterate over the atomic tags of the n bytes at s. */
void colb__tags_begin(colb__tag_iter *it, const char *s, size_t n);

/* Write the next token, UTF-8 and NUL-terminated, into buf, which must hold
 * 2 n + 1 bytes for an input of n bytes; returns its length in bytes, or 0
 * when there are no more tokens. */
size_t colb__tags_next(colb__tag_iter *it, char *buf);

#endif
