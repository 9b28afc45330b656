/* fuzz_wal.c - libFuzzer harness: colb serve's log reader (serve/wal.c,
 * wal_read) and its record decoders (serve/records.c), on one log segment
 * (docs/serve.md, "Log segment"). Input: one mode byte, then the segment's
 * records (a valid 32-byte header for first lsn 1 is written before them)
 * or, with mode bit 2, the whole file as it is. Mode bit 0 sets each
 * record's checksum and bit 1 its lsn (where its length field fits), so
 * that mutations reach the decoders instead of stopping at the checksum.
 * Every record read is decoded as serve's replay would (d = 3) and the
 * decoders' answers are checked against the payload's bounds (a violation
 * aborts). Seeds: tests/fuzz/corpus/wal/ (segments of a short colb serve
 * run, without their header). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "bytes.h"
#include "fuzz_split.h"
#include "records.h"
#include "wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define D 3

static void check(int ok)
{
    if (!ok)
        abort();
}

static int visit(void *ctx, uint64_t lsn, uint32_t type, const unsigned char *p, size_t len, char *err,
                 size_t err_len)
{
    (void)err;
    (void)err_len;
    uint64_t *n = ctx;
    check(lsn == *n + 1);
    *n = lsn;
    if (type == REC_START) {
        rec_start r;
        rec_start_get(p, len, &r);
    } else if (type == REC_USERS) {
        rec_users r;
        if (rec_users_get(p, len, &r) == 0) {
            size_t pos = 0;
            for (size_t i = 0; i < r.n; i++) {
                size_t l;
                const char *id = rec_users_id(&r, &pos, &l);
                check(id >= (const char *)p && id + l <= (const char *)p + len);
            }
        }
    } else if (type == REC_CHOOSE || type == REC_CHOSEN) {
        rec_choose r;
        if ((type == REC_CHOOSE ? rec_choose_get(p, len, D, &r) : rec_chosen_get(p, len, D, &r)) == 0) {
            double x[D];
            check(r.K >= 1 && r.n >= 1 && r.chosen == (type == REC_CHOSEN));
            for (size_t i = 0; i < r.n; i++) {
                (void)rec_choose_slot(&r, i);
                uint32_t a = rec_choose_arm(&r, i);
                check(a < r.K);
                rec_choose_user_context(&r, i, x);
            }
        }
    } else if (type == REC_REWARD) {
        rec_reward r;
        if (rec_reward_get(p, len, &r) == 0)
            for (size_t i = 0; i < r.n; i++) {
                decision_id id;
                double y;
                rec_reward_item(&r, i, &id, &y);
            }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int mode = data[0];
    data++;
    size--;
    size_t hl = (mode & 4) ? 0 : 32, n = hl + size;
    unsigned char *b = malloc(n ? n : 1);
    if (!b)
        return 0;
    if (hl) {
        static const unsigned char magic[8] = { 0x89, 'C', 'W', 'A', 'L', '\r', '\n', 0x1a };
        memcpy(b, magic, 8);
        put_u32(b + 8, 1);
        put_u32(b + 12, 0);
        put_u64(b + 16, 1);
        put_u64(b + 24, XXH3_64bits(b, 24));
    }
    memcpy(b + hl, data, size);
    uint64_t lsn = 1;
    for (size_t off = hl; off + 24 <= n; lsn++) {
        size_t len = get_u32(b + off);
        if (len > n - off - 24)
            break;
        if (mode & 2)
            put_u64(b + off + 8, lsn);
        if (mode & 1)
            put_u64(b + off + 16 + len, XXH3_64bits(b + off, 16 + len));
        off += 24 + len;
    }
    char path[256];
    snprintf(path, sizeof path, "%s/wal-00000000000000000001.log", fuzz_dir());
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n) {
        if (f)
            fclose(f);
        free(b);
        abort();
    }
    fclose(f);
    free(b);
    uint64_t seen = 0, last;
    char note[4400], err[4400];
    /* no WAL_REPAIR: the file is read, never changed */
    int rc = wal_read(fuzz_dir(), 0, 0, 0, visit, &seen, &last, note, sizeof note, err, sizeof err);
    check(rc == 0 ? last == seen : err[0] != '\0');
    unlink(path);
    return 0;
}
