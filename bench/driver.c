/*
 * Benchmark workloads, compiled into the same wasm module as the allocator
 * under test so that timing measures the allocator, not the JS boundary.
 * Each workload returns how many malloc+free pairs it made, or 0 if malloc
 * returned NULL.  bench/run.mjs times them.  Built with -fno-builtin so the
 * compiler keeps every malloc/free call.
 */
typedef __SIZE_TYPE__ size_t;
void *malloc(size_t n);
/* Weak: bump.c and original.c have none, and never run zeroed_buffers. */
__attribute__((weak)) void *calloc(size_t count, size_t each);
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
    MIXED_SHORT = 1000, MIXED_LONG = 4000, MIXED_LONG_ONE_IN = 8, MIXED_MIN = 16, MIXED_MAX_LOG2 = 16,
    PHASE_LIVE = 2000, PHASE_STEPS = 20000, PHASE_KEEP_ONE_IN = 10,
    VECTOR_MAX = 8 << 20, VECTOR_START = 64, TEMPS = 256, TEMP_MIN = 16, TEMP_MAX = 16384, TEMPS_PER_GROWTH = 64,
    LOAD_MIN = 16, LOAD_MAX = 256,
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

static void live_add(size_t n)
{
    live_bytes += n;
    if (live_bytes > peak_live_bytes)
        peak_live_bytes = live_bytes;
}

/* Keeps p, a block of n bytes, in slot i (0 if p is NULL), keeping count
 * of live bytes.  Touches its first and last byte, as a program that fills
 * it would. */
static int keep(unsigned i, void *p, size_t n)
{
    if (!(slots[i] = p))
        return 0;
    TOUCH(slots[i]);
    if (n)
        TOUCH((char *)slots[i] + n - 1);
    slot_sizes[i] = n;
    live_add(n);
    return 1;
}

/* Allocates slot i with n bytes; or with n bytes of zeros. */
static int take(unsigned i, size_t n) { return keep(i, malloc(n), n); }
static int take_zeroed(unsigned i, size_t n) { return keep(i, calloc(n, 1), n); }

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

/*
 * Workloads shaped like real programs: large buffers, mixed sizes with
 * random lifetimes, phases, a structure grown by realloc.  Each counts one
 * pair per malloc+free or realloc.
 */

/* Images, audio, tensors: count live buffers of min_kib to max_kib KiB,
 * each made by make; each step picks one at random and makes its
 * replacement before it frees the old one, as a program that computes a
 * new frame from the old one does. */
static unsigned replace_buffers(unsigned steps, unsigned count, unsigned min_kib, unsigned max_kib,
                                int (*make)(unsigned, size_t))
{
    unsigned done, i;
    start(11);
    for (i = 0; i < count; i++)
        if (!make(i, random_between(min_kib, max_kib) << 10))
            return 0;
    for (done = 0; done < steps; done++) {
        i = random_next() % count;
        if (!make(count, random_between(min_kib, max_kib) << 10))
            return 0;
        give(i);
        slots[i] = slots[count], slot_sizes[i] = slot_sizes[count];
    }
    return done;
}

EXPORT(large_buffers) unsigned large_buffers(unsigned steps, unsigned count, unsigned min_kib, unsigned max_kib)
{
    return replace_buffers(steps, count, min_kib, max_kib, take);
}

/* The same with buffers that start as zeros (calloc): a frame cleared
 * before it is drawn.  A buffer made in memory freed before must be
 * zeroed by the allocator. */
EXPORT(zeroed_buffers) unsigned zeroed_buffers(unsigned steps, unsigned count, unsigned min_kib, unsigned max_kib)
{
    return replace_buffers(steps, count, min_kib, max_kib, take_zeroed);
}

/* 16 bytes to 64 KiB, spread evenly over the powers of two. */
static size_t mixed_size(void)
{
    return random_between(MIXED_MIN, (size_t)1 << random_between(5, MIXED_MAX_LOG2));
}

/* Many blocks of mixed sizes with random lifetimes: 1,000 short-lived ones
 * replaced at random, and 4,000 long-lived ones, one of which is replaced
 * every 8 steps. */
EXPORT(mixed_lifetimes) unsigned mixed_lifetimes(unsigned pairs)
{
    unsigned done, i;
    start(12);
    for (i = 0; i < MIXED_SHORT + MIXED_LONG; i++)
        if (!take(i, mixed_size()))
            return 0;
    for (done = 0; done < pairs; done++) {
        i = done % MIXED_LONG_ONE_IN ? random_next() % MIXED_SHORT : MIXED_SHORT + random_next() % MIXED_LONG;
        give(i);
        if (!take(i, mixed_size()))
            return 0;
    }
    return done;
}

/* Phases of a program, each with its own sizes (parsing, building a
 * structure, rendering, ...): 2,000 live blocks replaced at random; at the
 * end of a phase all but one block in 10 are freed, and those survivors
 * live on through the next 10 phases. */
EXPORT(phases) unsigned phases(unsigned pairs)
{
    static const unsigned short phase_min[] = {16, 1024, 64, 16384, 256}, phase_max[] = {256, 8192, 512, 65535, 4096};
    unsigned done = 0, phase, i, step;
    start(13);
    for (phase = 0; done < pairs; phase++) {
        unsigned kind = phase % (sizeof phase_min / sizeof *phase_min), first = PHASE_LIVE * (phase % PHASE_KEEP_ONE_IN);
        size_t low = phase_min[kind], high = phase_max[kind];
        if (phase >= PHASE_KEEP_ONE_IN)
            for (i = first; i < first + PHASE_LIVE; i += PHASE_KEEP_ONE_IN)
                give(i);
        for (i = first; i < first + PHASE_LIVE; i++)
            if (!take(i, random_between(low, high)))
                return 0;
        for (step = 0; step < PHASE_STEPS && done < pairs; step++, done++) {
            i = first + random_next() % PHASE_LIVE;
            give(i);
            if (!take(i, random_between(low, high)))
                return 0;
        }
        for (i = first; i < first + PHASE_LIVE; i++)
            if (i % PHASE_KEEP_ONE_IN)
                give(i);
        done += PHASE_LIVE;
    }
    return done;
}

/* Loading a data set: a parser's small records, 16 to 256 bytes, made one
 * after another into memory that grows all the way (what each allocator's
 * growth costs shows), then all freed in the order they were made, as a
 * document or a level is torn down.  At most SCALING_MAX_LIVE records. */
EXPORT(bulk_load) unsigned bulk_load(unsigned records)
{
    unsigned i;
    start(15);
    if (records > SCALING_MAX_LIVE)
        records = SCALING_MAX_LIVE;
    for (i = 0; i < records; i++)
        if (!take(i, random_between(LOAD_MIN, LOAD_MAX)))
            return 0;
    for (i = 0; i < records; i++)
        give(i);
    return records;
}

/* A long-lived vector grown by realloc to half again its size, from 64
 * bytes to 8 MiB, beside short-lived temporaries of 16 bytes to 16 KiB
 * (a ring of 256, 64 replaced between two growths); then it is freed and
 * built again. */
EXPORT(realloc_growth) unsigned realloc_growth(unsigned pairs)
{
    unsigned done = 0, ring = 0, i;
    start(14);
    for (i = 0; i < TEMPS; i++)
        if (!take(i, random_between(TEMP_MIN, TEMP_MAX)))
            return 0;
    while (done < pairs) {
        char *vector = 0;
        size_t length = 0, capacity;
        for (capacity = VECTOR_START; capacity <= VECTOR_MAX && done < pairs; capacity += capacity / 2) {
            if (!(vector = realloc(vector, capacity)))
                return 0;
            live_add(capacity - length);
            vector[capacity - 1] = 1;
            length = capacity;
            done++;
            for (i = 0; i < TEMPS_PER_GROWTH; i++, done++, ring = (ring + 1) % TEMPS) {
                give(ring);
                if (!take(ring, random_between(TEMP_MIN, TEMP_MAX)))
                    return 0;
            }
        }
        free(vector);
        live_bytes -= length;
    }
    return done;
}
