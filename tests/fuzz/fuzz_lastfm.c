/* fuzz_lastfm.c - libFuzzer harness: the Last.FM loader
 * (colb_lastfm_load_ex, src/data/lastfm.c, tags.c, tfidf.c) on four files
 * separated by 0xFE: artists.dat, tags.dat, user_taggedartists.dat,
 * user_artists.dat. Features of dimension 2, no cache. Seed corpus:
 * tests/fuzz/corpus/lastfm/. */
#include "colb/dataset.h"
#include "fuzz_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[4] = { "artists.dat", "tags.dat", "user_taggedartists.dat",
                                          "user_artists.dat" };
    for (int i = 0; i < 4; i++)
        fuzz_write_part(data, size, i, names[i]);
    colb_lastfm_params p;
    colb_lastfm_params_default(&p);
    p.dim = 2;
    p.oversample = 2;
    p.power_iters = 2;
    p.max_memory = (size_t)256 << 20;
    colb_dataset *ds = NULL;
    char msg[1024];
    if (colb_lastfm_load_ex(fuzz_dir(), &p, NULL, &ds, NULL, msg, sizeof msg) == COLB_OK)
        colb_dataset_free(ds);
    return 0;
}
