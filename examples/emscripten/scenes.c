/*
 * An ordinary emscripten program, built three ways: over emscripten's
 * dlmalloc, over emmalloc, and with malloc0 in their place (-sMALLOC=none).
 * main() builds a linked list and grows memory past its initial size with
 * 64 blocks of 1 MiB; JS then loads and ends scenes through exported
 * functions (with malloc0, a scene is a scratch scope that free_pop_mark
 * ends; with the others, its blocks are freed one by one) and fills the
 * heap until malloc returns NULL.  Every build prints the same lines.
 */
#include <emscripten.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef WITH_MALLOC0
#include "../../malloc0.h"
#endif

#define LIST_NODES 10000
#define BIG_BLOCKS 64
#define BIG_BLOCK_BYTES (1 << 20)
#define SCENE_MAX_BYTES 2000

struct node {
    struct node *next;
    unsigned value;
};

static unsigned random_state = 2024;

static unsigned random_below(unsigned n)
{
    random_state = random_state * 1103515245u + 12345u;
    return (random_state >> 8) % n;
}

/* A list of LIST_NODES nodes, summed and freed. */
static void list_demo(void)
{
    struct node *head = NULL;
    unsigned long long sum = 0;
    int i;
    for (i = 0; i < LIST_NODES; i++) {
        struct node *n = malloc(sizeof *n);
        if (!n)
            abort();
        n->value = random_below(1000);
        n->next = head;
        head = n;
    }
    while (head) {
        struct node *next = head->next;
        sum += head->value;
        free(head);
        head = next;
    }
    printf("list: %d nodes, sum %llu\n", LIST_NODES, sum);
}

/* Memory grows past its initial size; every block keeps its bytes. */
static void growth_demo(void)
{
    unsigned char *blocks[BIG_BLOCKS];
    unsigned long long sum = 0;
    int i;
    for (i = 0; i < BIG_BLOCKS; i++) {
        if (!(blocks[i] = malloc(BIG_BLOCK_BYTES)))
            abort();
        memset(blocks[i], i + 1, BIG_BLOCK_BYTES);
    }
    for (i = 0; i < BIG_BLOCKS; i++) {
        sum += blocks[i][0] + blocks[i][BIG_BLOCK_BYTES - 1];
        free(blocks[i]);
    }
    printf("growth: %d blocks of 1 MiB, checksum %llu\n", BIG_BLOCKS, sum);
}

int main(void)
{
    list_demo();
    growth_demo();
    return 0;
}

/* A scene: blocks of random sizes, kept until scene_end. */
static void **scene_blocks;
static int scene_count;
#ifdef WITH_MALLOC0
static void *scene_mark;
#endif

EMSCRIPTEN_KEEPALIVE int scene_load(int blocks)
{
    unsigned long long sum = 0;
    int i;
#ifdef WITH_MALLOC0
    scene_mark = free_get_mark();
#endif
    scene_blocks = malloc(blocks * sizeof *scene_blocks);
    for (i = 0; i < blocks; i++) {
        unsigned size = 1 + random_below(SCENE_MAX_BYTES);
        unsigned char *p = malloc(size);
        if (!p)
            return -1;
        memset(p, (unsigned char)i, size);
        sum += p[size - 1];
        scene_blocks[i] = p;
    }
    scene_count = blocks;
    printf("scene: %d blocks, checksum %llu\n", blocks, sum);
    return blocks;
}

EMSCRIPTEN_KEEPALIVE void scene_end(void)
{
#ifdef WITH_MALLOC0
    free_pop_mark(scene_mark);
#else
    int i;
    for (i = 0; i < scene_count; i++)
        free(scene_blocks[i]);
    free(scene_blocks);
#endif
    printf("scene ended\n");
}

/* Allocates blocks of kib KiB until malloc returns NULL, then frees them:
 * how many fit under the memory's maximum. */
EMSCRIPTEN_KEEPALIVE int fill_until_null(int kib)
{
    void *first = NULL, **last = &first;
    int count = 0;
    void **p;
    while ((p = malloc((size_t)kib << 10))) {
        *last = p;
        last = p;
        *p = NULL;
        count++;
    }
    while (first) {
        void *next = *(void **)first;
        free(first);
        first = next;
    }
    printf("filled: %d blocks of %d KiB before NULL\n", count, kib);
    return count;
}
