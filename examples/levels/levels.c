/*
 * A game-style session over marks: a world is loaded once per world scope,
 * each level allocates its entities in a level scope, and one free_to_mark
 * ends the level however many blocks it made.  After each level it reports
 * the heap's figures to JS through the imported function report.
 */
#include "../../malloc0.h"

#define WORLD_CHUNKS 64
#define WORLD_CHUNK_BYTES 2048
#define ENTITY_MAX_BYTES 512
#define ENTITIES_PER_LEVEL 2000

struct entity {
    struct entity *next;
    unsigned hit_points;
    unsigned char data[];
};

/* Supplied by the host: one line of figures per level. */
__attribute__((import_name("report"))) void report(unsigned world, unsigned level, size_t in_use,
                                                   size_t blocks, size_t tail, size_t memory);

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

/* Spawns entities, some of which die during play (freed at once). */
static int play_level(void)
{
    struct entity *alive = 0;
    int i;
    for (i = 0; i < ENTITIES_PER_LEVEL; i++) {
        struct entity *e = malloc(sizeof *e + random_below(ENTITY_MAX_BYTES));
        if (!e)
            return 0;
        e->hit_points = random_below(3);
        e->next = alive;
        alive = e;
        if (!e->hit_points) {
            alive = e->next;
            free(e);
        }
    }
    return 1;
}

static void report_stats(unsigned world, unsigned level)
{
    struct malloc0_stats s;
    malloc0_stats(&s);
    report(world, level, s.bytes_in_use, s.blocks_in_use, s.tail, s.memory_size);
}

/* Plays levels_per_world levels in each of worlds worlds; 0 if out of memory. */
__attribute__((export_name("play"))) int play(unsigned worlds, unsigned levels_per_world)
{
    void *session = free_get_mark();
    unsigned world, level;
    for (world = 1; world <= worlds; world++) {
        void *world_mark;
        if (!load_world() || !(world_mark = free_get_mark()))
            return 0;
        for (level = 1; level <= levels_per_world; level++) {
            void *level_mark = free_get_mark();
            if (!level_mark || !play_level())
                return 0;
            free_to_mark(level_mark);
            report_stats(world, level);
        }
        free_to_mark(world_mark);
        free_to_mark(session);
    }
    report_stats(0, 0);
    return 1;
}
