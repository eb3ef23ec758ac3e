/*
 * libFuzzer target: each input is a sequence of operations for the shadow
 * model (model.h), run over a fresh heap.  At exit it reports how many
 * operations ran in all.
 */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

static unsigned long long total_operations;

static void report(void) { fprintf(stderr, "fuzz: %llu operations\n", total_operations); }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    atexit(report);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    total_operations += model_run(data, size);
    return 0;
}
