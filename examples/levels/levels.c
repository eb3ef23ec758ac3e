/*
 * A game-style session over marks, with both idioms of malloc0.h:
 *
 *   - a level loop: each world takes one level mark, and free_to_mark ends
 *     every level however many blocks it made; the mark stays for the next;
 *   - a scratch scope per frame: each frame takes a mark, works in scratch
 *     blocks and pops it, while entities are spawned and despawned with
 *     malloc and free beside it.  Popping the frame's mark gives the holes
 *     of the entities despawned during the frame back to the level.
 *
 * A world lives in a world scope, popped when the world ends, and the
 * session in a session scope, popped at the end: the heap is empty again.
 * After each level it reports the heap's figures to JS through the
 * imported function report.
 */
#include "../../malloc0.h"

#define WORLD_CHUNKS 64
#define WORLD_CHUNK_BYTES 2048
#define ENTITY_MAX_BYTES 512
#define ENTITIES_AT_START 500
#define FRAMES_PER_LEVEL 200
#define SCRATCH_PER_FRAME 20
#define SCRATCH_MAX_BYTES 1024
#define DESPAWNS_PER_FRAME 4

struct entity {
    struct entity *next;
    unsigned hit_points;
    unsigned char data[];
};

/* Supplied by the host: one line of figures per level. */
__attribute__((import_name("report"))) void report(unsigned world, unsigned level, size_t in_use,
                                                   size_t blocks, size_t tail, size_t memory,
                                                   size_t marks, size_t peak);

static unsigned random_state = 12345;

static unsigned random_below(unsigned n)
{
    random_state = random_state * 1103515245u + 12345u;
    return (random_state >> 8) % n;
}

static int load_world(void)
{
    int i;
    for (i = 0; i < WORLD_CHUNKS; i++)
        if (!malloc(WORLD_CHUNK_BYTES))
            return 0;
    return 1;
}

/* Adds an entity at the front of the list; 0 if out of memory. */
static int spawn(struct entity **alive)
{
    struct entity *e = malloc(sizeof *e + random_below(ENTITY_MAX_BYTES));
    if (!e)
        return 0;
    e->hit_points = 1 + random_below(3);
    e->next = *alive;
    *alive = e;
    return 1;
}

/* Frees the entities whose hit points run out; returns how many died. */
static unsigned despawn(struct entity **alive)
{
    unsigned died = 0;
    while (*alive && died < DESPAWNS_PER_FRAME) {
        struct entity *e = *alive;
        if (--e->hit_points) {
            alive = &e->next;
            continue;
        }
        *alive = e->next;
        free(e);
        died++;
    }
    return died;
}

/* One frame: scratch work in a scope of its own, entities dying during it,
 * and as many spawned after it (inside the scope they would go with it). */
static int play_frame(struct entity **alive)
{
    void *frame = free_get_mark();
    unsigned i, died;
    if (!frame)
        return 0;
    for (i = 0; i < SCRATCH_PER_FRAME; i++)
        if (!malloc(1 + random_below(SCRATCH_MAX_BYTES)))
            return 0;
    died = despawn(alive);
    free_pop_mark(frame);
    for (i = 0; i < died; i++)
        if (!spawn(alive))
            return 0;
    return 1;
}

static int play_level(void)
{
    struct entity *alive = 0;
    int i;
    for (i = 0; i < ENTITIES_AT_START; i++)
        if (!spawn(&alive))
            return 0;
    for (i = 0; i < FRAMES_PER_LEVEL; i++)
        if (!play_frame(&alive))
            return 0;
    return 1;
}

static void report_stats(unsigned world, unsigned level)
{
    struct malloc0_stats s;
    malloc0_stats(&s);
    report(world, level, s.bytes_in_use, s.blocks_in_use, s.tail, s.memory_size, s.marks,
           s.peak_tail);
}

/* Plays levels_per_world levels in each of worlds worlds; 0 if out of memory. */
__attribute__((export_name("play"))) int play(unsigned worlds, unsigned levels_per_world)
{
    void *session = free_get_mark();
    unsigned world, level;
    if (!session)
        return 0;
    for (world = 1; world <= worlds; world++) {
        void *world_mark = free_get_mark(), *level_mark;
        if (!world_mark || !load_world() || !(level_mark = free_get_mark()))
            return 0;
        for (level = 1; level <= levels_per_world; level++) {
            if (!play_level())
                return 0;
            free_to_mark(level_mark);
            report_stats(world, level);
        }
        free_pop_mark(world_mark); /* ends the level mark above it too */
    }
    free_pop_mark(session);
    report_stats(0, 0);
    return 1;
}
