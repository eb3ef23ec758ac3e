/*
 * Threads over one heap: emscripten -pthread with malloc0 as the allocator
 * (-sMALLOC=none).  Each thread keeps a ring of blocks of varied sizes,
 * replacing one at a time, filled with its own byte and checked before it
 * is freed; half of its last blocks go to the next thread, which checks and
 * frees them.  Each thread prints what it did and exits; main prints once
 * all have joined.  Built over dlmalloc and emmalloc too, it prints the same
 * lines (in an order the threads choose).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define ROUNDS 50000
#define KEPT 64
#define HANDED (KEPT / 2)

struct thread {
    pthread_t id;
    int number;
    unsigned char *handed[HANDED]; /* from the thread before */
    size_t handed_size[HANDED];
    int bad;
};

static struct thread threads[THREADS];
static pthread_barrier_t handed_over;

static size_t size_for(int round, int number) { return 1 + (size_t)(round * 2654435761u + number * 40503u) % 4000; }

static int intact(const unsigned char *p, size_t n, unsigned char fill)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != fill)
            return 0;
    return 1;
}

static void *work(void *arg)
{
    struct thread *self = arg, *next = &threads[(self->number + 1) % THREADS];
    unsigned char *kept[KEPT] = {0};
    size_t sizes[KEPT] = {0}, bytes = 0;
    unsigned char fill = (unsigned char)(self->number + 1);
    for (int round = 0; round < ROUNDS; round++) {
        int slot = round % KEPT;
        if (kept[slot]) {
            self->bad += !intact(kept[slot], sizes[slot], fill);
            free(kept[slot]);
        }
        sizes[slot] = size_for(round, self->number);
        if (!(kept[slot] = malloc(sizes[slot]))) {
            printf("thread %d: malloc(%zu) returned NULL\n", self->number, sizes[slot]);
            return 0;
        }
        memset(kept[slot], fill, sizes[slot]);
        bytes += sizes[slot];
    }
    for (int i = 0; i < HANDED; i++) {
        next->handed[i] = kept[i];
        next->handed_size[i] = sizes[i];
    }
    pthread_barrier_wait(&handed_over);
    for (int i = 0; i < HANDED; i++) {
        unsigned char before = (unsigned char)((self->number + THREADS - 1) % THREADS + 1);
        self->bad += !intact(self->handed[i], self->handed_size[i], before);
        free(self->handed[i]);
    }
    for (int i = HANDED; i < KEPT; i++) {
        self->bad += !intact(kept[i], sizes[i], fill);
        free(kept[i]);
    }
    printf("thread %d: %d blocks, %zu bytes, %d freed by thread %d, %d changed\n", self->number, ROUNDS, bytes,
           HANDED, next->number, self->bad);
    return 0;
}

int main(void)
{
    pthread_barrier_init(&handed_over, 0, THREADS);
    for (int i = 0; i < THREADS; i++) {
        threads[i].number = i;
        pthread_create(&threads[i].id, 0, work, &threads[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i].id, 0);
    printf("all %d threads joined\n", THREADS);
    return 0;
}
