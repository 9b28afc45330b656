/* fuzz_split.h - the harnesses of multi-file parsers take one input made of
 * files separated by the byte 0xFE (rare in text), written to a temporary
 * folder made once per process. */
#ifndef COLB_FUZZ_SPLIT_H
#define COLB_FUZZ_SPLIT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The temporary folder of this process (created on first use). */
static inline const char *fuzz_dir(void)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/colb-fuzz-XXXXXX");
        if (!mkdtemp(dir))
            abort();
    }
    return dir;
}

/* Write part i of data (parts separated by 0xFE; missing parts are empty)
 * to fuzz_dir()/name. */
static inline void fuzz_write_part(const uint8_t *data, size_t size, int i, const char *name)
{
    size_t start = 0;
    for (int k = 0; k < i && start <= size; k++) {
        const uint8_t *sep = start < size ? memchr(data + start, 0xFE, size - start) : NULL;
        start = sep ? (size_t)(sep - data) + 1 : size + 1;
    }
    size_t end = start;
    if (start <= size) {
        const uint8_t *sep = start < size ? memchr(data + start, 0xFE, size - start) : NULL;
        end = sep ? (size_t)(sep - data) : size;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (start < end)
        fwrite(data + start, 1, end - start, f);
    fclose(f);
}

#endif
