/*
 * A shadow model of malloc0 for native runs.  model_run decodes bytes into
 * operations (malloc, calloc, realloc, aligned allocation, free, marks,
 * resets, and every invalid input malloc0.h lists), runs each against a
 * fresh malloc0 heap and against an independent record of the live blocks,
 * and aborts with a message at the first disagreement: a block out of the
 * region, misaligned or overlapping another, a byte pattern overwritten, an
 * invalid input that changed the heap, or malloc0_check failing.
 *
 * The random-operations test feeds it seeded random bytes; the fuzzer feeds
 * it libFuzzer's.
 */
#ifndef MODEL_H
#define MODEL_H

#include <stddef.h>
#include <stdint.h>

/* Runs the operations in bytes over a fresh heap; returns how many ran. */
size_t model_run(const uint8_t *bytes, size_t length);

/* With on, model_run also attacks the heap now and then (see model.c);
 * the counts say how many attacks it made and how many ended in a trap. */
void model_attacks(int on);
void model_attack_counts(unsigned long *made, unsigned long *trapped);

#endif
