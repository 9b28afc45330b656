/* fuzz_snapshot.c - libFuzzer harness for the snapshot loader
 * (colb/snapshot.h, docs/format.md). Seeds: tests/fuzz/corpus/snapshot/,
 * written by `build/tests/test_snapshot --write-corpus DIR`.
 *
 * Most inputs get a valid trailer (length and XXH3-64 checksum) before they
 * are loaded, so that mutations reach the parser and the objects' loaders
 * instead of stopping at the checksum; every eighth input is loaded as it
 * is. Whatever loads is then run for a few rounds and freed, so that state
 * a loader accepted is also exercised. Loads run under a 64 MiB budget. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "colb/colb.h"
#include "persist/snapshot.h"
#include "policies/policy_impl.h"
#include "snapshot_fixtures.h"

/* The data set of the seed corpus's logged-data environments, made once. */
static colb_dataset *dataset(void)
{
    static colb_dataset *ds;
    if (!ds)
        ds = fixture_dataset();
    return ds;
}

/* Two rounds of a loaded policy on made-up contexts. */
static void exercise(colb_policy *p)
{
    size_t N = colb_policy_users(p), d = p->d, K = 3;
    if (N > 4096 || d > 64)
        return;
    double *X = calloc(K * d, sizeof(double)), *y = calloc(N, sizeof(double));
    size_t *arms = calloc(N, sizeof(size_t));
    for (size_t i = 0; X && i < K * d; i++)
        X[i] = (double)((i * 37) % 11) / 10.0 - 0.5;
    for (int t = 0; X && y && arms && t < 2; t++) {
        if (colb_policy_begin_round(p, X, K) != COLB_OK)
            break;
        if (colb_policy_choose_all(p, arms) == COLB_OK)
            colb_policy_observe_all(p, arms, y);
        colb_policy_end_round(p);
    }
    free(X);
    free(y);
    free(arms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > ((size_t)1 << 22))
        return 0;
    size_t n = size & ~(size_t)7;
    unsigned char *b = malloc(n ? n : 1);
    if (!b)
        return 0;
    memcpy(b, data, n);
    if (n >= 32 && (data[size - 1] & 7) != 0) { /* a valid trailer */
        uint64_t v = n;
        for (int i = 0; i < 8; i++)
            b[n - 16 + (size_t)i] = (unsigned char)(v >> (8 * i));
        v = colb__snap_hash(b, n - 8);
        for (int i = 0; i < 8; i++)
            b[n - 8 + (size_t)i] = (unsigned char)(v >> (8 * i));
    }
    colb_load_options o;
    colb_load_options_default(&o);
    o.memory_budget = (size_t)64 << 20;
    o.dataset = dataset();
    colb_snapshot_reader *r = NULL;
    if (colb_snapshot_reader_open_buffer(b, n, &o, &r, NULL, 0) == COLB_OK) {
        colb_sim_spec s;
        fixture_corpus_spec(&s);
        for (size_t i = 0; i < colb_snapshot_reader_count(r) && i < 8; i++) {
            colb_policy *p = NULL;
            colb_env *e = NULL;
            colb_sim *sim = NULL;
            switch (colb_snapshot_reader_kind(r, i)) {
            case COLB_SNAPSHOT_POLICY:
                if (colb_snapshot_get_policy(r, i, &p) == COLB_OK)
                    exercise(p);
                break;
            case COLB_SNAPSHOT_ENV:
                if (colb_snapshot_get_env(r, i, &e) == COLB_OK)
                    colb_env_next_round(e);
                break;
            case COLB_SNAPSHOT_SIM:
                if (colb_snapshot_get_sim(r, i, &s, &sim) == COLB_OK)
                    colb_sim_advance(sim, 0, NULL, 0);
                break;
            default: {
                const void *bytes;
                size_t len;
                colb_snapshot_get_bytes(r, i, &bytes, &len);
            }
            }
            colb_policy_free(p);
            colb_env_free(e);
            colb_sim_free(sim);
        }
        colb_snapshot_reader_free(r);
    }
    free(b);
    return 0;
}
