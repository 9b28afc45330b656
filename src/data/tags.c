/* tags.c - atomic tags: the splitting of Last.FM tags into lower-case words
 * (tags.h has the exact rule). The CLUB and "gang of bandits" experiments
 * (Gentile, Li, Zappella 2014; Cesa-Bianchi, Gentile, Zappella 2013) and the
 * paper's section 6.2 break tags into such atomic units before TF-IDF. */
#include "data/tags.h"

int colb__tags_is_token_byte(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c >= 0xC0 && c != 0xD7 && c != 0xF7;
}

unsigned char colb__tags_lower(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned char)(c + ('a' - 'A'));
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return (unsigned char)(c + 0x20);
    return c;
}

void colb__tags_begin(colb__tag_iter *it, const char *s, size_t n)
{
    it->p = (const unsigned char *)s;
    it->end = it->p + n;
}

size_t colb__tags_next(colb__tag_iter *it, char *buf)
{
    while (it->p < it->end && !colb__tags_is_token_byte(*it->p))
        it->p++;
    size_t n = 0;
    while (it->p < it->end && colb__tags_is_token_byte(*it->p)) {
        unsigned char c = colb__tags_lower(*it->p++);
        if (c < 0x80) {
            buf[n++] = (char)c;
        } else {
            buf[n++] = (char)(0xC0 | (c >> 6));
            buf[n++] = (char)(0x80 | (c & 0x3F));
        }
    }
    buf[n] = '\0';
    return n;
}
