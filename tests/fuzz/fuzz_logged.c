/* fuzz_logged.c - libFuzzer harness: the logged-data loader
 * (colb_dataset_load_ex, src/data/dataset.c). Input: the features file,
 * 0xFE, the positives file. Seed corpus: tests/fuzz/corpus/logged/. */
#include "colb/dataset.h"
#include "fuzz_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_write_part(data, size, 0, "features.tsv");
    fuzz_write_part(data, size, 1, "positives.tsv");
    char f[256], p[256], msg[1024];
    snprintf(f, sizeof f, "%s/features.tsv", fuzz_dir());
    snprintf(p, sizeof p, "%s/positives.tsv", fuzz_dir());
    colb_dataset *ds = NULL;
    if (colb_dataset_load_ex(f, p, (size_t)256 << 20, &ds, msg, sizeof msg) == COLB_OK) {
        colb_dataset *top = NULL;
        if (colb_dataset_top_users(ds, 1, &top) == COLB_OK)
            colb_dataset_free(top);
        colb_dataset_free(ds);
    }
    return 0;
}
