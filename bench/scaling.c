/*
 * O(1) check: the cost of a malloc+free pair must not depend on how many
 * blocks are live.  setup() allocates the live blocks; the timed loops then
 * run on top of them.  Driven by bench/scaling.mjs.
 */
#include "../malloc0.h"

#define MIN_SIZE 16
#define SIZE_SPREAD 48

static unsigned random_state = 2463534242u;

/* xorshift32: sizes vary, the same sequence every run. */
static size_t random_size(void)
{
    random_state ^= random_state << 13;
    random_state ^= random_state >> 17;
    random_state ^= random_state << 5;
    return MIN_SIZE + random_state % SIZE_SPREAD;
}

__attribute__((export_name("setup"))) int setup(unsigned live)
{
    while (live--)
        if (!malloc(random_size()))
            return 0;
    return 1;
}

/* Nested stacks: allocate depth blocks, free them newest first. */
__attribute__((export_name("lifo"))) int lifo(unsigned pairs)
{
    enum { DEPTH = 32 };
    void *stack[DEPTH];
    unsigned done, i;
    for (done = 0; done < pairs; done += DEPTH) {
        for (i = 0; i < DEPTH; i++)
            if (!(stack[i] = malloc(random_size())))
                return 0;
        while (i--)
            free(stack[i]);
    }
    return 1;
}

/* A hole, then the block above it: freeing the second reaches the tail and
 * must take the hole back with it in one step. */
__attribute__((export_name("tail_reach"))) int tail_reach(unsigned pairs)
{
    unsigned done;
    for (done = 0; done < pairs; done += 2) {
        void *lower = malloc(random_size());
        void *upper = malloc(random_size());
        if (!lower || !upper)
            return 0;
        free(lower);
        free(upper);
    }
    return 1;
}
