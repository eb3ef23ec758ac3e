/*
 * Native threads over one heap (MALLOC0_THREADS=1), built with
 * ThreadSanitizer: every thread runs random operations with a shadow of its
 * own live blocks, each block filled with a byte of its own and checked
 * whole when it leaves; some blocks are handed to the next thread, which
 * checks and frees them.  After the threads join: no two live blocks
 * overlap, malloc0_check holds and counts them, and freeing them all leaves
 * the heap empty.  Usage: threads [threads [operations per thread]].
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../malloc0.h"

#define REGION_BYTES (64u << 20)
#define MAX_THREADS 16
#define LIVE 256
#define HANDED 64
#define DEFAULT_THREADS 4
#define DEFAULT_OPERATIONS 100000

struct block {
    unsigned char *p;
    size_t size;
    unsigned char fill;
};

struct thread {
    pthread_t id;
    int number;
    unsigned operations;
    uint32_t state;
    struct block live[LIVE];
    int count;
    pthread_mutex_t inbox_lock; /* guards what the thread before hands over */
    struct block inbox[HANDED];
    int inbox_count;
    int failures;
};

static _Alignas(16) unsigned char region[REGION_BYTES];
static struct thread threads[MAX_THREADS];
static int thread_count;

static uint32_t next_random(struct thread *self)
{
    self->state ^= self->state << 13;
    self->state ^= self->state >> 17;
    self->state ^= self->state << 5;
    return self->state;
}

static void fail(struct thread *self, const char *what, const void *p)
{
    fprintf(stderr, "FAIL: thread %d: %s (%p)\n", self->number, what, p);
    self->failures++;
}

static void check_block(struct thread *self, const struct block *b, const char *what)
{
    size_t i;
    for (i = 0; i < b->size; i++)
        if (b->p[i] != b->fill) {
            fail(self, what, b->p);
            return;
        }
}

/* Mostly small blocks, some up to 4 KiB, a few up to 256 KiB. */
static size_t random_size(struct thread *self)
{
    uint32_t roll = next_random(self) % 100;
    if (roll < 70)
        return next_random(self) % 129;
    if (roll < 95)
        return next_random(self) % 4097;
    return next_random(self) % 262145;
}

static void track(struct thread *self, unsigned char *p, size_t size)
{
    struct block *b;
    if (!p)
        return;
    if ((uintptr_t)p % 16 || p < region || p + size > region + REGION_BYTES)
        fail(self, "a block misaligned or outside the region", p);
    b = &self->live[self->count++];
    b->p = p;
    b->size = size;
    b->fill = (unsigned char)(next_random(self) | 1);
    memset(p, b->fill, size);
}

static struct block take(struct thread *self, int index)
{
    struct block b = self->live[index];
    self->live[index] = self->live[--self->count];
    return b;
}

static void hand_over(struct thread *self, int index)
{
    struct thread *next = &threads[(self->number + 1) % thread_count];
    pthread_mutex_lock(&next->inbox_lock);
    if (next->inbox_count < HANDED)
        next->inbox[next->inbox_count++] = take(self, index);
    pthread_mutex_unlock(&next->inbox_lock);
}

static void receive(struct thread *self)
{
    pthread_mutex_lock(&self->inbox_lock);
    while (self->inbox_count) {
        struct block b = self->inbox[--self->inbox_count];
        check_block(self, &b, "a block handed over changed");
        m0_free(b.p);
    }
    pthread_mutex_unlock(&self->inbox_lock);
}

static void operate(struct thread *self)
{
    uint32_t roll = next_random(self) % 100;
    if (self->count < LIVE && roll < (self->count < LIVE / 2 ? 50u : 30u)) {
        size_t size = random_size(self);
        uint32_t kind = next_random(self) % 10;
        unsigned char *p;
        if (kind < 8) {
            p = m0_malloc(size);
        } else if (kind < 9) {
            size_t i;
            p = m0_calloc(1, size);
            for (i = 0; p && i < size; i++)
                if (p[i]) {
                    fail(self, "calloc's block is not zero", p);
                    break;
                }
        } else {
            p = m0_aligned_alloc((size_t)16 << next_random(self) % 9, size);
        }
        track(self, p, size);
    } else if (self->count && roll < 80) {
        struct block b = take(self, (int)(next_random(self) % (unsigned)self->count));
        check_block(self, &b, "a block changed before free");
        m0_free(b.p);
    } else if (self->count && roll < 90) {
        int index = (int)(next_random(self) % (unsigned)self->count);
        struct block b = take(self, index);
        size_t size = random_size(self);
        unsigned char *p;
        check_block(self, &b, "a block changed before realloc");
        p = m0_realloc(b.p, size);
        if (!p) {
            self->live[self->count++] = b;
            return;
        }
        b.p = p;
        b.size = b.size < size ? b.size : size;
        check_block(self, &b, "realloc did not keep the block's bytes");
        track(self, p, size);
    } else if (self->count && thread_count > 1) {
        hand_over(self, (int)(next_random(self) % (unsigned)self->count));
    }
}

static void *run(void *arg)
{
    struct thread *self = arg;
    unsigned step;
    for (step = 1; step <= self->operations; step++) {
        operate(self);
        if (step % 16 == 0)
            receive(self);
    }
    return 0;
}

static int by_address(const void *a, const void *b)
{
    const struct block *x = a, *y = b;
    return x->p < y->p ? -1 : x->p > y->p;
}

int main(int argc, char **argv)
{
    static struct block all[MAX_THREADS * (LIVE + HANDED)];
    static struct thread joined = {.number = -1}; /* the checks after the join */
    struct malloc0_stats stats;
    int i, j, n = 0, failures = 0;
    unsigned operations = argc > 2 ? (unsigned)atoi(argv[2]) : DEFAULT_OPERATIONS;
    thread_count = argc > 1 ? atoi(argv[1]) : DEFAULT_THREADS;
    if (thread_count < 1 || thread_count > MAX_THREADS)
        return fprintf(stderr, "threads: 1 to %d\n", MAX_THREADS), 2;
    m0_malloc0_init(region, sizeof region);
    for (i = 0; i < thread_count; i++) {
        threads[i].number = i;
        threads[i].operations = operations;
        threads[i].state = 2654435761u * (uint32_t)(i + 1);
        pthread_mutex_init(&threads[i].inbox_lock, 0);
    }
    for (i = 0; i < thread_count; i++)
        pthread_create(&threads[i].id, 0, run, &threads[i]);
    for (i = 0; i < thread_count; i++)
        pthread_join(threads[i].id, 0);
    for (i = 0; i < thread_count; i++) {
        struct thread *t = &threads[i];
        failures += t->failures;
        for (j = 0; j < t->count; j++)
            all[n++] = t->live[j];
        for (j = 0; j < t->inbox_count; j++)
            all[n++] = t->inbox[j];
    }
    qsort(all, (size_t)n, sizeof *all, by_address);
    for (i = 0; i < n; i++) {
        if (i && all[i - 1].p + (all[i - 1].size ? all[i - 1].size : 1) > all[i].p)
            fprintf(stderr, "FAIL: live blocks %p and %p overlap\n", (void *)all[i - 1].p, (void *)all[i].p), failures++;
        check_block(&joined, &all[i], "a live block changed by the end");
    }
    failures += joined.failures;
    if (!m0_malloc0_stats(&stats) || stats.blocks_in_use != (size_t)n)
        fprintf(stderr, "FAIL: malloc0_stats: %zu blocks in use, %d live\n", stats.blocks_in_use, n), failures++;
    for (i = 0; i < n; i++)
        m0_free(all[i].p);
    if (!m0_malloc0_stats(&stats) || stats.bytes_in_use || stats.tail != stats.heap_base)
        fprintf(stderr, "FAIL: every block freed, yet the heap is not empty\n"), failures++;
    printf("threads: %d threads, %u operations each, %d blocks live at the end: %s\n", thread_count, operations, n,
           failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
