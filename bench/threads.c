/*
 * The threaded workload: small blocks, each thread allocating and freeing
 * its own, and one block in HAND_ONE_IN handed to the next thread, which
 * frees it.  Built by emcc with -pthread over malloc0 (-sMALLOC=none),
 * emmalloc and dlmalloc; bench/run.mjs runs it with 1 and 2 threads.
 * Usage: threads THREADS PAIRS_PER_THREAD; prints the total throughput in
 * malloc+free pairs per microsecond, timed from when every thread is ready
 * to when the last one is done.
 */
#include <emscripten.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_THREADS 8
#define LIVE 256
#define MIN_SIZE 8
#define MAX_SIZE 256
#define HAND_ONE_IN 16
#define QUEUE 1024 /* a power of two */

struct thread {
    pthread_t id;
    int number;
    unsigned pairs;
    /* Blocks handed over by the thread before: one writer, one reader. */
    void *queue[QUEUE];
    _Atomic unsigned written, read;
} __attribute__((aligned(64)));

static struct thread threads[MAX_THREADS];
static int thread_count;
static pthread_barrier_t ready;
static double started;

static void free_received(struct thread *self)
{
    unsigned read = atomic_load_explicit(&self->read, memory_order_relaxed);
    unsigned written = atomic_load_explicit(&self->written, memory_order_acquire);
    for (; read != written; read++)
        free(self->queue[read % QUEUE]);
    atomic_store_explicit(&self->read, read, memory_order_release);
}

/* Hands p to the next thread, or frees it here if its queue is full. */
static void hand_over(struct thread *self, void *p)
{
    struct thread *next = &threads[(self->number + 1) % thread_count];
    unsigned written = atomic_load_explicit(&next->written, memory_order_relaxed);
    if (thread_count == 1 || written - atomic_load_explicit(&next->read, memory_order_acquire) == QUEUE) {
        free(p);
        return;
    }
    next->queue[written % QUEUE] = p;
    atomic_store_explicit(&next->written, written + 1, memory_order_release);
}

static void *work(void *arg)
{
    struct thread *self = arg;
    void *live[LIVE] = {0};
    unsigned state = 2654435761u * (unsigned)(self->number + 1), i;
    pthread_barrier_wait(&ready);
    if (self->number == 0)
        started = emscripten_get_now();
    for (i = 0; i < self->pairs; i++) {
        unsigned slot = i % LIVE;
        state ^= state << 13, state ^= state >> 17, state ^= state << 5;
        if (live[slot]) {
            if (state % HAND_ONE_IN == 0)
                hand_over(self, live[slot]);
            else
                free(live[slot]);
        }
        if (!(live[slot] = malloc(MIN_SIZE + state % (MAX_SIZE - MIN_SIZE))))
            abort();
        *(volatile char *)live[slot] = 1;
        if (i % 64 == 0)
            free_received(self);
    }
    for (i = 0; i < LIVE; i++)
        free(live[i]);
    pthread_barrier_wait(&ready); /* no more hand-overs */
    free_received(self);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned pairs = argc > 2 ? (unsigned)atoi(argv[2]) : 1000000;
    int i;
    thread_count = argc > 1 ? atoi(argv[1]) : 1;
    if (thread_count < 1 || thread_count > MAX_THREADS)
        return 2;
    pthread_barrier_init(&ready, 0, (unsigned)thread_count);
    for (i = 0; i < thread_count; i++) {
        threads[i].number = i;
        threads[i].pairs = pairs;
        pthread_create(&threads[i].id, 0, work, &threads[i]);
    }
    for (i = 0; i < thread_count; i++)
        pthread_join(threads[i].id, 0);
    printf("%.2f\n", (double)pairs * thread_count / ((emscripten_get_now() - started) * 1000));
    return 0;
}
