/* fuzz_experiment.c - libFuzzer harness: experiment files (cli/ini.c and
 * cli/experiment.c) and the checks a run makes on what they set. Seed
 * corpus: tests/fuzz/corpus/experiment/. */
#include <stdint.h>
#include <stdlib.h>

#include "experiment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    experiment *e = calloc(1, sizeof *e);
    if (!e)
        return 0;
    char err[ERR_LEN];
    config_default(&e->base);
    if (experiment_load_mem(e, "fuzz", (const char *)data, size, err, sizeof err) == 0) {
        experiment_finish(e);
        for (size_t r = 0; r < e->n_readings; r++)
            config_check(&e->cfg[r], err, sizeof err);
        experiment_apply_quick(e, err, sizeof err);
    }
    free(e);
    return 0;
}
