/*
 * Benchmark workloads, compiled into the same wasm module as the allocator
 * under test so that timing measures the allocator, not the JS boundary.
 * Each workload returns how many malloc+free pairs it made, or 0 if malloc
 * returned NULL.  bench/run.mjs times them.  Built with -fno-builtin so the
 * compiler keeps every malloc/free call.
 */
typedef __SIZE_TYPE__ size_t;
void *malloc(size_t n);
void free(void *p);
void *realloc(void *p, size_t n);
void *free_get_mark(void);
void free_to_mark(void *mark);
void free_pop_mark(void *mark);

#define EXPORT(name) __attribute__((export_name(#name)))
#define TOUCH(p) (*(volatile char *)(p) = 1)

enum {
    LIFO_DEPTH = 32, LIFO_MAX = 256,
    FIFO_LIVE = 1000, FIFO_MAX = 512,
    SHUFFLE_COUNT = 2000, SHUFFLE_MAX = 2000,
    STEADY_LIVE = 10000, STEADY_MIN = 8, STEADY_MAX = 64,
    CHURN_KEPT_ONE_IN = 64, CHURN_YOUNG = 64, CHURN_MAX = 256,
    LEVEL_BLOCKS = 1000, LEVEL_MAX = 512,
    STRING_BYTES = 1 << 20, APPEND_MAX = 32,
    ENTITIES = 2000, ENTITY_MIN = 16, ENTITY_MAX = 216,
    SCRATCH = 50, SCRATCH_MIN = 16, SCRATCH_MAX = 516, SPAWNS = 5, FRAME_SETTLED = 500,
    SCALING_MAX_LIVE = 1000000,
};

static unsigned random_state;
static size_t live_bytes, peak_live_bytes;
static void *slots[SCALING_MAX_LIVE];
static size_t slot_sizes[SCALING_MAX_LIVE];

static unsigned random_next(void)
{
    random_state ^= random_state << 13;
    random_state ^= random_state >> 17;
    random_state ^= random_state << 5;
    return random_state;
}

static size_t random_between(size_t low, size_t high)
{
    return low + random_next() % (high - low + 1);
}

static void start(unsigned seed)
{
    random_state = seed;
    live_bytes = peak_live_bytes = 0;
}

/* Allocates slot i with n bytes, keeping count of live bytes. */
static int take(unsigned i, size_t n)
{
    if (!(slots[i] = malloc(n)))
        return 0;
    TOUCH(slots[i]);
    slot_sizes[i] = n;
    live_bytes += n;
    if (live_bytes > peak_live_bytes)
        peak_live_bytes = live_bytes;
    return 1;
}

static void give(unsigned i)
{
    free(slots[i]);
    live_bytes -= slot_sizes[i];
}

EXPORT(peak_live) size_t peak_live(void) { return peak_live_bytes; }

/* Memory at frame FRAME_SETTLED of frame_loop, to tell growth from start-up. */
static size_t settled_bytes;
EXPORT(settled_memory) size_t settled_memory(void) { return settled_bytes; }
EXPORT(heap_base) size_t heap_base(void)
{
    extern unsigned char __heap_base;
    return (size_t)&__heap_base;
}

/* Nested stacks of 1 to 32 blocks of 1-256 bytes, freed newest first. */
EXPORT(lifo) unsigned lifo(unsigned pairs)
{
    unsigned done = 0;
    start(1);
    while (done < pairs) {
        unsigned depth = random_between(1, LIFO_DEPTH), i;
        for (i = 0; i < depth; i++)
            if (!take(i, random_between(1, LIFO_MAX)))
                return 0;
        while (i--)
            give(i);
        done += depth;
    }
    return done;
}

/* A queue of 1,000 live blocks of 1-512 bytes: the oldest goes first. */
EXPORT(fifo) unsigned fifo(unsigned pairs)
{
    unsigned done;
    start(2);
    for (done = 0; done < pairs; done++) {
        unsigned i = done % FIFO_LIVE;
        if (done >= FIFO_LIVE)
            give(i);
        if (!take(i, random_between(1, FIFO_MAX)))
            return 0;
    }
    return done;
}

/* 2,000 blocks of 0-2,000 bytes, freed in a shuffled order, again. */
EXPORT(random_free) unsigned random_free(unsigned pairs)
{
    unsigned done = 0, i;
    start(3);
    while (done < pairs) {
        for (i = 0; i < SHUFFLE_COUNT; i++)
            if (!take(i, random_between(0, SHUFFLE_MAX)))
                return 0;
        for (i = SHUFFLE_COUNT; i > 1; i--) {
            unsigned j = random_next() % i;
            void *p = slots[i - 1];
            size_t n = slot_sizes[i - 1];
            slots[i - 1] = slots[j], slot_sizes[i - 1] = slot_sizes[j];
            slots[j] = p, slot_sizes[j] = n;
        }
        for (i = 0; i < SHUFFLE_COUNT; i++)
            give(i);
        done += SHUFFLE_COUNT;
    }
    return done;
}

static unsigned prepared_live;

/* Allocates live blocks of 8-64 bytes for the workloads below; not timed. */
EXPORT(prepare) int prepare(unsigned live)
{
    unsigned i;
    start(4);
    if (live > SCALING_MAX_LIVE)
        return 0;
    for (i = 0; i < live; i++)
        if (!take(i, random_between(STEADY_MIN, STEADY_MAX)))
            return 0;
    prepared_live = live;
    return 1;
}

/* Each step frees a random live block and allocates one in its place.
 * Past 10^5 live blocks its random accesses outgrow the caches: the floor
 * shows what that costs any allocator. */
EXPORT(replace_random) unsigned replace_random(unsigned pairs)
{
    unsigned done;
    for (done = 0; done < pairs; done++) {
        unsigned i = random_next() % prepared_live;
        give(i);
        if (!take(i, random_between(STEADY_MIN, STEADY_MAX)))
            return 0;
    }
    return done;
}

/* Steady state: 10,000 live blocks of 8-64 bytes, random replacement. */
EXPORT(steady) unsigned steady(unsigned pairs)
{
    return prepare(STEADY_LIVE) ? replace_random(pairs) : 0;
}

/* O(1) at the tail: nested stacks on top of the live blocks. */
EXPORT(stacks_on_top) unsigned stacks_on_top(unsigned pairs)
{
    void *stack[LIFO_DEPTH];
    unsigned done, i;
    for (done = 0; done < pairs; done += LIFO_DEPTH) {
        for (i = 0; i < LIFO_DEPTH; i++)
            if (!(stack[i] = malloc(random_between(STEADY_MIN, STEADY_MAX))))
                return 0;
        while (i--)
            free(stack[i]);
    }
    return done;
}

/* O(1) at the tail: a hole, then the block above it, whose free reaches
 * the tail and must take the hole back with it in one step. */
EXPORT(hole_then_tail) unsigned hole_then_tail(unsigned pairs)
{
    unsigned done;
    for (done = 0; done < pairs; done += 2) {
        void *lower = malloc(random_between(STEADY_MIN, STEADY_MAX));
        void *upper = malloc(random_between(STEADY_MIN, STEADY_MAX));
        if (!lower || !upper)
            return 0;
        free(lower);
        free(upper);
    }
    return done;
}

/* One allocation in 64 lives forever; the others die soon, in random
 * order among the 64 youngest.  Slot CHURN_YOUNG holds each new block
 * until it is kept or takes a young one's place. */
EXPORT(churn) unsigned churn(unsigned pairs)
{
    unsigned done, young = 0;
    start(6);
    for (done = 0; done < pairs; done++) {
        if (!take(CHURN_YOUNG, random_between(1, CHURN_MAX)))
            return 0;
        if (done % CHURN_KEPT_ONE_IN == 0)
            continue;
        if (young == CHURN_YOUNG) {
            unsigned i = random_next() % CHURN_YOUNG;
            give(i);
            slots[i] = slots[CHURN_YOUNG], slot_sizes[i] = slot_sizes[CHURN_YOUNG];
        } else {
            slots[young] = slots[CHURN_YOUNG], slot_sizes[young++] = slot_sizes[CHURN_YOUNG];
        }
    }
    return done;
}

/* A string built by small appends up to 1 MiB, one realloc per append
 * (counted as a pair), then freed; again. */
EXPORT(string_builder) unsigned string_builder(unsigned pairs)
{
    unsigned done = 0;
    start(10);
    while (done < pairs) {
        char *s = 0;
        size_t length = 0;
        while (length < STRING_BYTES && done < pairs) {
            size_t append = random_between(1, APPEND_MAX);
            if (!(s = realloc(s, length + append)))
                return 0;
            s[length] = (char)append;
            length += append;
            done++;
        }
        if (length > peak_live_bytes)
            peak_live_bytes = length;
        free(s);
    }
    return done;
}

/* Frees SPAWNS random entities of frame_loop's world into dead[]. */
static void despawn(unsigned *dead)
{
    unsigned k;
    for (k = 0; k < SPAWNS; k++) {
        unsigned i;
        do
            i = random_next() % ENTITIES;
        while (!slots[i]);
        give(i);
        slots[i] = 0;
        dead[k] = i;
    }
}

/* A game loop: a world of 2,000 entities of 16-216 bytes, and per frame 50
 * scratch blocks of 16-516 bytes with 5 entities despawned (during the
 * frame on odd frames, after it on even ones) and 5 spawned after it.  With
 * marks, each frame is a scratch scope that free_pop_mark ends; without,
 * the scratch blocks are freed one by one. */
EXPORT(frame_loop) unsigned frame_loop(unsigned frames)
{
    unsigned done = 0, frame, i, dead[SPAWNS];
    start(8);
    for (i = 0; i < ENTITIES; i++)
        if (!take(i, random_between(ENTITY_MIN, ENTITY_MAX)))
            return 0;
    for (frame = 1; frame <= frames; frame++) {
#ifdef HAVE_MARKS
        void *scope = free_get_mark();
        if (!scope)
            return 0;
#endif
        for (i = ENTITIES; i < ENTITIES + SCRATCH; i++)
            if (!take(i, random_between(SCRATCH_MIN, SCRATCH_MAX)))
                return 0;
        if (frame % 2)
            despawn(dead);
#ifdef HAVE_MARKS
        free_pop_mark(scope);
        for (i = ENTITIES; i < ENTITIES + SCRATCH; i++)
            live_bytes -= slot_sizes[i];
#else
        for (i = ENTITIES; i < ENTITIES + SCRATCH; i++)
            give(i);
#endif
        if (!(frame % 2))
            despawn(dead);
        for (i = 0; i < SPAWNS; i++)
            if (!take(dead[i], random_between(ENTITY_MIN, ENTITY_MAX)))
                return 0;
        done += SCRATCH + SPAWNS;
        if (frame == FRAME_SETTLED)
            settled_bytes = __builtin_wasm_memory_size(0) << 16;
    }
    return done;
}

#ifdef HAVE_MARKS
/* A game-level loop: take a mark, allocate a level, free it in one call. */
EXPORT(marks) unsigned marks(unsigned pairs)
{
    unsigned done = 0, i;
    start(7);
    while (done < pairs) {
        void *level = free_get_mark();
        if (!level)
            return 0;
        for (i = 0; i < LEVEL_BLOCKS; i++)
            if (!take(i, random_between(1, LEVEL_MAX)))
                return 0;
        free_to_mark(level);
        live_bytes = 0;
        done += LEVEL_BLOCKS;
    }
    return done;
}
#endif
