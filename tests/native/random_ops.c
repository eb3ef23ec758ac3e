/*
 * Native random-operations test: seeded random bytes through the shadow
 * model (model.h), for the build's profile and alignment.  Built with
 * sanitizers by clang, plainly by gcc, and run under valgrind; see the
 * Makefile.  Usage: random_ops [seeds [attacks]]; with attacks, the model
 * also attacks the heap now and then (model.c): for builds without
 * sanitizers, which would report the reads a corrupted link leads to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../malloc0.h"
#include "model.h"

#define DEFAULT_SEEDS 6
#define BYTES_PER_SEED 300000

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

/* Before malloc0_init, and over a region too small for a block, every
 * allocation fails and nothing crashes. */
static void test_without_a_region(void)
{
    static _Alignas(16) unsigned char tiny[8];
    expect(!m0_malloc(1) && !m0_calloc(1, 1) && !m0_aligned_alloc(64, 1), "no region: NULL");
#ifndef MALLOC0_CHECKS
    m0_free((void *)tiny); /* invalid input: undefined with MALLOC0_CHECKS=0 */
    m0_free_to_mark((void *)tiny);
#endif
    m0_free_to_mark(m0_free_get_mark()); /* the empty heap's base mark */
    m0_free_pop_mark(m0_free_get_mark());
    m0_free_all();
    m0_free_all_mark();
    expect(m0_malloc0_check(), "no region: consistent");
    m0_malloc0_init(tiny, sizeof tiny);
    expect(!m0_malloc(0) && !m0_aligned_alloc(16, 0), "tiny region: NULL");
    expect(m0_malloc0_check(), "tiny region: consistent");
}

int main(int argc, char **argv)
{
    static uint8_t bytes[BYTES_PER_SEED];
    int seeds = argc > 1 ? atoi(argv[1]) : DEFAULT_SEEDS, seed;
    size_t operations = 0, i;
    unsigned long made, trapped;
    test_without_a_region();
    model_attacks(argc > 2 && !strcmp(argv[2], "attacks"));
    for (seed = 1; seed <= seeds; seed++) {
        uint32_t state = 2654435761u * (uint32_t)seed;
        for (i = 0; i < sizeof bytes; i++) {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            bytes[i] = (uint8_t)(state >> 24);
        }
        operations += model_run(bytes, sizeof bytes);
    }
    model_attack_counts(&made, &trapped);
    printf("native random operations: %zu operations over %d seeds, %lu attacks on the heap (%lu trapped)\n",
           operations, seeds, made, trapped);
    printf("native: %d passed, %d failed\n", seeds + 1 - (failures > 0), failures > 0);
    return failures > 0;
}
