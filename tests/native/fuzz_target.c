/*
 * libFuzzer target: each input is a sequence of operations for the shadow
 * model (model.h), run over a fresh heap.  At exit it reports how many
 * operations ran in all.
 */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

/* Attacks on the heap (model.c), in builds without sanitizers: after one,
 * the heap may read through a corrupted link before its check traps, which
 * a sanitizer would report although no write follows. */
#ifndef MODEL_ATTACKS
#define MODEL_ATTACKS 0
#endif

static unsigned long long total_operations;

static void report(void)
{
    unsigned long made, trapped;
    model_attack_counts(&made, &trapped);
    fprintf(stderr, "fuzz: %llu operations\n", total_operations);
    if (MODEL_ATTACKS)
        fprintf(stderr, "fuzz: %lu attacks on the heap: %lu trapped, the others harmed no live block\n", made, trapped);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    model_attacks(MODEL_ATTACKS);
    atexit(report);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    total_operations += model_run(data, size);
    return 0;
}
