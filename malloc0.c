/*
 * malloc0 — a boundary-tagged bump allocator for WebAssembly.
 *
 * Every block starts with a 4-byte header that holds its size and flags.
 * Sizes are multiples of the grain (MALLOC0_ALIGN, at least 8), so the three
 * low bits of a tag are free for flags.  A free block that merges (a hole)
 * also ends with a copy of its header (the footer), so that the block after
 * it finds its start:
 *
 *   in use:  +--------+---------------------------------------------+
 *            | header |  payload (aligned to MALLOC0_ALIGN)         |
 *            +--------+---------------------------------------------+
 *   free:    +--------+------------------------------------+--------+
 *            | header |  links (listed holes)              | footer |
 *            +--------+------------------------------------+--------+
 *            ^ block start                                  block end ^
 *
 *   tag = (size ^ TAG_KEY) | flags   (a free block's tags: size | flags)
 *        FREE_BIT   the block is free
 *        MARK_BIT   the block is a mark: its payload is the mark's record
 *                   (struct scope), never handed out; or a gap block;
 *                   with FREE_BIT, a quick block (see Quick lists)
 *        PREV_FREE  the block before this one is a hole: its footer is
 *                   the word before this header
 *
 * TAG_KEY scrambles sizes in the headers that free and the marks accept,
 * so that the small numbers, zeros and repeated bytes that programs store
 * do not read as such headers.
 *
 * Block states, by their header's flags, and the calls that move a block
 * from one to another:
 *
 *   in use     no FREE_BIT, no MARK_BIT    hole      FREE_BIT (+ footer)
 *   quick      FREE_BIT | MARK_BIT, size   mark      MARK_BIT, MARK_BLOCK
 *   gap        MARK_BIT, other sizes       erased    FREE_BIT | MARK_BIT, 0
 *
 *              malloc at the tail        free             malloc, split
 *   fresh -------------------> in use -------> hole --------------> in use
 *     |  free_get_mark           |   ^                ^
 *     +-------------------> mark |   | malloc of      | a scope begins,
 *     |  the tail passes         |   | its size       | memory would grow,
 *     +-------------------> gap  +--------> quick ----+ the tail moves back
 *        others' pages           |   free, MALLOC0_FAST, or into a thread
 *                                |   cache; also claimed (block_claim)
 *                                +--------> beyond the tail, header erased
 *                                    free of the last block (and of the
 *                                    free blocks it then reaches)
 *   everything above a mark --free_to_mark, free_all, free_pop_mark-->
 *   retired: headers chained above the tail, erased as it passes them
 *
 * Invariants (malloc0_check walks them; CHECK in the debug build catches a
 * break where it happens):
 *   - blocks tile heap_start..tail, each a multiple of GRAIN, at least
 *     MIN_BLOCK; PREV_FREE is set exactly after a hole;
 *   - a hole's footer is its header; no two holes are neighbours; the last
 *     block is neither a hole nor quick;
 *   - each hole of MIN_HOLE bytes or more is in one list: its class's, in
 *     the scope whose floor is the highest at or below it; a class's bit
 *     is set exactly when its list is not empty;
 *   - a live mark ends a mark block whose record names it; no merge
 *     crosses a mark block; scopes nest as their floors do;
 *   - retired headers lie above the tail on one chain, from stale_next up
 *     to NO_STALE; memory always holds a tag beyond the tail;
 *   - pages others grew lie inside gap blocks and are never written.
 *
 * The heap is a run of blocks from heap_start to the tail, in linear memory
 * from __heap_base to memory.size * 64 KiB (natively, in the region given to
 * malloc0_init):
 *
 *   __heap_base                base_mark                tail       memory end
 *   | lead | used | free | used | mark | used | free | used |  retired / fresh |
 *   |<---- base_scope's holes ---->|<---- the mark's holes ---->|
 *                                  ^ free_get_mark() == tail after a mark
 *
 * malloc bumps the tail.  free marks a block free and merges it with free
 * neighbours, which it finds in O(1): the header after it, and the footer
 * before it if its own header says the block before is free; a free block
 * that reaches the tail moves the tail back.  No two free blocks are
 * neighbours, and the last block is never free.  free_all and free_to_mark
 * move the tail back to a mark in one step.  A mark is the end of a mark
 * block: since a mark block is never free, no merge can straddle a mark, so
 * the tail can always be set back to one.  free_pop_mark does the same and
 * then takes the mark block away.  A mark taken again at the same tail
 * shares the block, which counts its takes.
 *
 * Memory others grew.  The heap only uses pages its own memory.grow gave
 * it.  Pages that the host or other code grew in between lie in the way of
 * the tail, which passes them with a gap block (never free, never written
 * inside); the heap's first page after them holds a record of the gap:
 *
 *   ... | used | gap block ..........................| used | ...
 *        tail ^  heap's  | others' pages |  record  ^ next block
 *
 * Resets below a gap and pops find the gap ahead again through the mark's
 * record, so that the tail passes it again, in O(1).
 *
 * Threads.  With MALLOC0_THREADS (on when compiled with atomics), each
 * public function runs whole under one lock, so the heap is what the calls
 * one at a time would make of it, and little below knows of threads:
 * memory_grow_for counts the heap's pages from what its own grow returned,
 * as another thread may grow memory at any moment; and in the default
 * profile, thread caches (see their section) serve small mallocs and frees
 * without the lock, swapping a block's tag atomically, which the heap's
 * own changes to tags of blocks in use then do too.
 *
 * Holes.  A free block below the tail is a hole.  The index of holes is
 * the only part the profiles do not share: the tiny profile (MALLOC0_TINY=1)
 * keeps none, and each of the index's entry points does nothing there.
 * Holes of at least MIN_HOLE bytes are kept in segregated lists, one per
 * size class, with a bit set of the classes that are not empty, in the
 * record of the scope that holds them:
 *
 *   classes  ...0 1 0 0 1 1 0     heads[c] -> hole <-> hole <- tails[c]
 *
 * A class spans a quarter of a power of two, and the classes reach the
 * largest block, so every class above a request's own holds only holes that
 * fit it.  malloc takes the best fit among the first FIT_TRIES holes of its
 * own class, else among the first FIT_TRIES of the next class that has any
 * (one bit scan finds it), so that large holes stay whole for the requests
 * only they can serve: freed buffers of megabytes are reused as surely as
 * small blocks.  It splits off the rest as a new hole, and bumps the tail
 * only when no hole fits.  A hole under 16 KiB joins its list at the tail,
 * so that small holes are taken oldest first, when their neighbours have
 * had time to be freed and merge with them; a larger one at the head, so
 * that a buffer freed to be replaced is reused at once.  free unlinks the
 * holes it merges with, in O(1) as the lists are doubly linked.
 *
 * Quick lists (default profile, MALLOC0_FAST=1).  A small block freed in
 * the current scope may skip the merge and the lists: it waits in a stack
 * of its exact size for the next request of that size, looking in use to
 * its neighbours, and merges only at one flush point.  See the section on
 * them for how they stay bounded and give memory back.
 *
 * Scopes.  Marks keep their meaning in time: blocks allocated after a mark
 * must lie above it, or a reset to it would leave them behind.  So each mark
 * opens a scope, whose record in the mark block holds the lists of the holes
 * between it and the next mark; base_scope holds those below the first one.
 * malloc takes holes from the current (innermost) scope's lists only.  A
 * block freed below the current floor is listed with the scope that holds
 * it, found by stepping out through the records' outer links.  Since no
 * merge crosses a mark block, a hole never changes scope.  A reset to a mark
 * releases all of its scope's holes and empties its lists (one store: the
 * mask); popping a mark takes its record away, and the outer scope's lists,
 * kept apart all along, are current again in one step.  An unlink finds the
 * record whose list it empties through the head it reaches: a back link to
 * a head carries HEAD_LINK.
 *
 * Retired tags.  free accepts a header in use, with no flag but maybe
 * PREV_FREE, whose block fits below the tail and ends at the tail or at a
 * header that says the block before it is in use; free_to_mark accepts a
 * mark header whose record names the mark.  So a header in use or of a
 * mark that leaves the layout must leave memory: else an old pointer would
 * pass.  A block freed next to a free one erases its header as they merge,
 * and a block freed at the tail erases its header as the tail moves back
 * over it (the tail may move back further, and a later block cover it).
 * Free tags may linger, as nothing accepts them.
 *
 * A reset retires many blocks at once: their headers stay above the new
 * tail, linked as a chain by their own sizes from stale_next.  Whenever the
 * tail moves up, it erases the headers of that chain that it passes.  Each
 * is erased once, so malloc stays O(1) amortized.  A reset links its
 * retired run to the older chain with a skip tag (a free tag: nothing
 * accepts it) at the old tail; the first chain skips to NO_STALE, above any tail, where every
 * chain ends (on a 64-bit host, where that skip does not fit a tag, a zero
 * tag ends it).  MALLOC0_CHECKS=0 accepts any tag, so it erases none.
 *
 * The hardened heap.  A bug in the program (a write after free, an
 * overflow) can reach the words the allocator keeps in free memory and in
 * records.  Each is checked (TRUST) where the allocator is about to believe
 * it, so that a stray write traps rather than steering the next write:
 *   - a hole it takes, splits or merges lies in the heap, ends below the
 *     tail, its footer equals its header, and its header says hole, not
 *     a quick block or zeros (hole_whole);
 *   - a hole it unlinks is pointed at by what its back link names, and its
 *     next hole points back at it; a head it links under points back;
 *   - a quick block lies in the current scope below the tail, its header
 *     and footer saying its stack's size; a cached block's header, its
 *     cache's size;
 *   - a scope's outer link leads to the record its floor's mark holds, with
 *     a lower floor; a reset's mark ends a mark block, and its record's gap
 *     lies below it and the next gap above; a mark's count of takes agrees
 *     with its check word (a count lowered would end the mark early);
 *   - a gap record's seal (its begin, its address and the record before
 *     it, XORed) matches;
 *   - the retired chain only runs up, and not past the peak tail (calloc
 *     takes memory above it for zero).
 * A check that fails traps: the heap is corrupt and nothing in it can be
 * trusted.  What it cannot see is a whole forged block or record whose
 * words agree, and a block in use given another well-formed header.
 *
 * The file reads bottom up, one layer per section: configuration; threads
 * (the lock, and the public functions that take it); layout constants; the
 * platform (where the heap starts, how memory grows: wasm's memory.grow and
 * gaps, or a native region); state; tags and blocks; the tail; the index of
 * holes and the scopes that hold it; block states; quick lists; blocks in
 * use (release, trim, grow, alloc); thread caches; the public functions;
 * diagnostics
 * (malloc0_check's walk).  Optimization flags choose inlining only (COLD);
 * every option that changes the heap is a MALLOC0_ macro with the same
 * default at every level.
 */
/* malloc0.c defines the API by its plain names, which malloc0.h maps to
 * prefixed ones in native builds (MALLOC0_PREFIX); the figures' struct
 * keeps its name here as stats_t. */
typedef struct malloc0_stats stats_t;
#define MALLOC0_SOURCE
#include "malloc0.h"

/* ---------------------------------------------------------------------------
 * Configuration
 */

/* Payload alignment: 4, 8 or 16.  16 matches clang's max_align_t on wasm32. */
#ifndef MALLOC0_ALIGN
#define MALLOC0_ALIGN 16
#endif

/* MALLOC0_TINY=1 reuses freed memory only at the tail: the smallest code. */
#ifndef MALLOC0_TINY
#define MALLOC0_TINY 0
#endif

/* The optimization level chooses inlining, nothing else.  The compiler
 * inlines the short helpers that run on nearly every call; rare, long ways
 * (growing memory, flushing quick lists, resets, marks, aligned blocks,
 * trimming and moving blocks in realloc, diagnostics) are COLD: kept out
 * of line and compiled for size (minsize) when optimizing for speed, so
 * that -O2 and -O3 grow only the paths that pay for it.  For size (-Os,
 * -Oz) the compiler chooses, but for SHARED helpers: short enough that it
 * would inline each use, used often enough that one copy is smaller (make
 * size), they keep one copy there.  The same calls give the same heap at
 * every level. */
#ifdef __OPTIMIZE_SIZE__
#define COLD
#define SHARED __attribute__((noinline))
#elif __has_attribute(minsize)
#define COLD __attribute__((noinline, cold, minsize))
#define SHARED
#else
#define COLD __attribute__((noinline, cold))
#define SHARED
#endif
/* INLINE helpers are inlined at every level: clang -Oz would call them,
 * for more bytes than their code inlined (make size), and a call per use. */
#define INLINE inline __attribute__((always_inline))

/* MALLOC0_FAST=1 trades code for speed: a fast tail (see tail_take), and
 * in the default profile quick lists (see Quick lists).  Off by default,
 * at every optimization level. */
#ifndef MALLOC0_FAST
#define MALLOC0_FAST 0
#endif

/* MALLOC0_CHECKS=0 leaves out the detection of invalid input: the frees
 * and marks it would reject, and the erasing of retired tags that it needs.
 * Valid programs behave the same; invalid input is undefined. */
#ifndef MALLOC0_CHECKS
#define MALLOC0_CHECKS 1
#endif

/* With MALLOC0_DEBUG, invalid input traps instead of being ignored, and
 * first leaves its reason where the host reads it after the trap; and
 * CHECK(invariant) traps at the line that broke it, which it names.
 * Otherwise a CHECK costs nothing: its condition is never evaluated.
 * TRUST(fact) checks a word the heap is about to believe that a buggy
 * program can write (see "The hardened heap"): it traps in every build
 * with MALLOC0_CHECKS, naming the line in the debug build.  Invalid input
 * is rejected before the heap changes, so its trap first releases the
 * lock of a thread-safe build (release_before_trap), and other threads go
 * on; a broken invariant or a corrupt word breaks the heap (heap_break),
 * and every later call traps too. */
static const char *trap_reason; /* set only by the debug build's traps */
#ifdef MALLOC0_DEBUG
#define reject_input(why) (release_before_trap(), trap_reason = (why), __builtin_trap())
#define break_for(why) (trap_reason = (why), heap_break())
#define CHECK_STRING(text) #text
#define CHECK_LINE(line) CHECK_STRING(line)
#define CHECK(invariant) \
    ((invariant) ? (void)0 : break_for("malloc0.c:" CHECK_LINE(__LINE__) ": broken: " #invariant))
#define TRUST(fact) \
    (!MALLOC0_CHECKS || (fact) ? (void)0 : break_for("malloc0.c:" CHECK_LINE(__LINE__) ": corrupt: " #fact))
#else
#define reject_input(why) ((void)(why))
#define CHECK(invariant) ((void)(0 && (invariant)))
#define TRUST(fact) (!MALLOC0_CHECKS || (fact) ? (void)0 : heap_break())
#endif
#define NOT_A_BLOCK ": the pointer is not a block in use (interior, misaligned, outside the heap, freed," \
    " released by a reset, or a mark)"
#define NOT_A_MARK ": the mark is not live (made up, below the base mark, popped," \
    " or released by a reset or pop below it)"

/* MALLOC0_THREADS=1: every public function is safe to call from any
 * thread (see Threads).  On by default where clang compiles wasm for
 * threads: with atomics (-matomics, or emscripten's -pthread). */
#ifndef MALLOC0_THREADS
#ifdef __wasm_atomics__
#define MALLOC0_THREADS 1
#else
#define MALLOC0_THREADS 0
#endif
#endif
#if MALLOC0_THREADS && defined(__wasm__) && !defined(__wasm_atomics__)
#error "MALLOC0_THREADS=1 needs atomics: compile with -matomics"
#endif

/* Thread caches (see their section): the thread-safe default profile's, in
 * wasm, unless MALLOC0_THREAD_CACHES=0 leaves them out (the lock alone: less
 * code and static data).  The tiny profile has no index to flush them into,
 * MALLOC0_FAST its own quick lists, and native builds (ThreadSanitizer's)
 * keep the lock. */
#ifndef MALLOC0_THREAD_CACHES
#define MALLOC0_THREAD_CACHES 1
#endif
#if MALLOC0_THREADS && MALLOC0_THREAD_CACHES && defined(__wasm__) && !MALLOC0_TINY && !MALLOC0_FAST
#define CACHE 1
#else
#define CACHE 0
#endif

/* ---------------------------------------------------------------------------
 * Threads
 *
 * With MALLOC0_THREADS, each public function runs whole under one lock, a
 * word in linear memory.  The functions the rest of the file defines by the
 * API's names are then static, held_malloc and so on, which call each other
 * without taking the lock again; the public names are the wrappers here.
 * Without it, API(name) is the name itself, and the build has no lock.
 *
 * The lock is free, held, or held and waited for.  A thread that finds it
 * held spins, as the holder usually leaves within a malloc's time; after
 * LOCK_SPINS reads it waits, where it may: memory.atomic.wait32 where the
 * host allows it (malloc0_threads_may_wait), emscripten_futex_wait under
 * emscripten (which spins on a browser's main thread itself).  Elsewhere it
 * spins on.  A release wakes one waiter if the lock says there may be one.
 * A trap that leaves the heap broken leaves the lock broken too, and wakes
 * every waiter: whoever finds it so traps, rather than waiting forever for
 * a holder that will never release it.
 */
#if MALLOC0_THREADS

#define API(name) held_##name

/* The public functions with a result, and those without: (type, name,
 * parameters, arguments, what they take).  They take the heap's lock; the
 * whole heap's (marks, diagnostics) take the thread caches' too; the cached
 * ones (malloc, free) try their thread's cache first. */
#define API_RETURNING(X) \
    X(void *, malloc, (size_t n), (n), cached) \
    X(void *, calloc, (size_t count, size_t each), (count, each), heap) \
    X(void *, realloc, (void *p, size_t n), (p, n), heap) \
    X(void *, aligned_alloc, (size_t align, size_t n), (align, n), heap) \
    X(void *, memalign, (size_t align, size_t n), (align, n), heap) \
    X(int, posix_memalign, (void **out, size_t align, size_t n), (out, align, n), heap) \
    X(size_t, malloc_usable_size, (void *p), (p), heap) \
    X(void *, free_get_mark, (void), (), whole) \
    X(int, malloc0_stats, (stats_t *stats), (stats), whole) \
    X(int, malloc0_check, (void), (), whole)
#ifdef __wasm__
#define API_NATIVE(X)
#else
#define API_NATIVE(X) X(void, malloc0_init, (void *region, size_t bytes), (region, bytes), whole)
#endif
#define API_VOID(X) \
    X(void, free, (void *p), (p), cached) \
    X(void, free_all, (void), (), whole) \
    X(void, free_all_mark, (void), (), whole) \
    X(void, free_to_mark, (void *mark), (mark), whole) \
    X(void, free_pop_mark, (void *mark), (mark), whole) \
    API_NATIVE(X)

#define HELD_DECLARE(type, name, parameters, arguments, takes) static type held_##name parameters;
API_RETURNING(HELD_DECLARE)
API_VOID(HELD_DECLARE)

#define LOCK_FREE 0
#define LOCK_HELD 1
#define LOCK_WAITED 2
#define LOCK_BROKEN 3
/* A wake count that wakes every waiter. */
#define WAKE_ALL 0x7fffffff
/* Reads of a held lock before a thread that may block waits: some
 * microseconds, longer than a call holds it while the heap's words come
 * over from the other core.  With 64 reads, two threads on two cores went
 * to sleep and woke each other so often that some runs did a third of what
 * others did (bench/threads.c).  Where threads outnumber the cores, the
 * longer spins cost nothing measured: the thread tests (up to 8 threads on
 * 2 cores) took 51-70 s with either count. */
#define LOCK_SPINS 1024
static int heap_lock, lock_may_wait;

static int lock_swap(int state) { return __atomic_exchange_n(&heap_lock, state, __ATOMIC_ACQ_REL); }
static int lock_state(void) { return __atomic_load_n(&heap_lock, __ATOMIC_RELAXED); }
static int lock_try(void)
{
    int expected = LOCK_FREE;
    return __atomic_compare_exchange_n(&heap_lock, &expected, LOCK_HELD, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

#if defined(__EMSCRIPTEN__)
int emscripten_futex_wait(volatile void *address, __UINT32_TYPE__ value, double milliseconds);
int emscripten_futex_wake(volatile void *address, int count);
static int lock_may_block(void) { return 1; }
static void lock_wait(void) { emscripten_futex_wait(&heap_lock, LOCK_WAITED, __builtin_inf()); }
static void lock_wake(int count) { emscripten_futex_wake(&heap_lock, count); }
#elif defined(__wasm__)
/* memory.atomic.wait32 traps where the host may not block (a browser's main
 * thread), so a thread waits only where the host said it may. */
static int lock_may_block(void) { return __atomic_load_n(&lock_may_wait, __ATOMIC_RELAXED); }
static void lock_wait(void) { __builtin_wasm_memory_atomic_wait32(&heap_lock, LOCK_WAITED, -1); }
static void lock_wake(int count) { __builtin_wasm_memory_atomic_notify(&heap_lock, (unsigned)count); }
#else
/* Natively (the tests' build) a thread spins. */
static int lock_may_block(void) { return 0; }
static void lock_wait(void) {}
static void lock_wake(int count) { (void)count; }
#endif

/* The heap is broken: so is the lock, for good, and every waiter wakes to
 * find it so. */
static __attribute__((noinline, cold, noreturn)) void heap_break(void)
{
    __atomic_store_n(&heap_lock, LOCK_BROKEN, __ATOMIC_RELEASE);
    lock_wake(WAKE_ALL);
    __builtin_trap();
}

/* A free lock is taken at the first read.  A held one is read again, as
 * reads leave the holder's release nothing to wake; after LOCK_SPINS reads,
 * a thread that may block marks the lock waited for and waits, and then
 * holds it so marked, as others may wait behind it.  (The count may wrap
 * in a thread that spins on.)  A broken lock traps, marked broken again if
 * the mark overwrote it.  Out of line, as lock_drop: every public function
 * shares one copy, at every level. */
static __attribute__((noinline)) void lock_take(void)
{
    unsigned spins = 0;
    int state;
    for (;;) {
        state = lock_state();
        if (state == LOCK_FREE && lock_try())
            return;
        if (state == LOCK_BROKEN)
            heap_break();
        if (++spins > LOCK_SPINS && lock_may_block())
            break;
    }
    while ((state = lock_swap(LOCK_WAITED)) != LOCK_FREE) {
        if (state == LOCK_BROKEN)
            heap_break();
        lock_wait();
    }
}

static __attribute__((noinline)) void lock_drop(void)
{
    if (lock_swap(LOCK_FREE) == LOCK_WAITED)
        lock_wake(1);
}

void malloc0_threads_may_wait(int may_wait) { __atomic_store_n(&lock_may_wait, may_wait, __ATOMIC_RELAXED); }

/* The whole heap's functions first take every thread cache, then the lock,
 * and flush the caches: marks and scopes, and the diagnostics, then see no
 * block waiting in one.  Caches are always taken before the lock, and a
 * holder of the lock only tries them, so no two threads wait for each
 * other.  With caches, the cached functions' locked ways are named
 * locked_malloc and locked_free, which the cached ways call. */
static void caches_take(void);
static void caches_drop(void);
static int caches_flush(int held);
/* Whether the thread that holds the lock holds the caches too: written by
 * that thread only. */
static int caches_held;
static void take_heap(void) { lock_take(); }
static void drop_heap(void) { lock_drop(); }
static void take_whole(void)
{
    caches_take();
    lock_take();
    caches_held = 1;
    caches_flush(1);
}
static void drop_whole(void)
{
    caches_held = 0;
    lock_drop();
    caches_drop();
}
#define take_cached take_heap
#define drop_cached drop_heap
#define PUBLIC_heap(name) name
#define PUBLIC_whole(name) name
#define STORAGE_heap
#define STORAGE_whole
#if CACHE
#define PUBLIC_cached(name) locked_##name
#define STORAGE_cached static
#else
#define PUBLIC_cached(name) name
#define STORAGE_cached
#endif

#define LOCKED_RETURNING(type, name, parameters, arguments, takes) \
    STORAGE_##takes type PUBLIC_##takes(name) parameters \
    { \
        type result; \
        take_##takes(); \
        result = held_##name arguments; \
        drop_##takes(); \
        return result; \
    }
#define LOCKED_VOID(type, name, parameters, arguments, takes) \
    STORAGE_##takes type PUBLIC_##takes(name) parameters \
    { \
        take_##takes(); \
        held_##name arguments; \
        drop_##takes(); \
    }
API_RETURNING(LOCKED_RETURNING)
API_VOID(LOCKED_VOID)

#define release_before_trap() (caches_held ? drop_whole() : drop_heap())

#else

#define API(name) name
#define release_before_trap() ((void)0)
#define heap_break() __builtin_trap()

#endif

/* ---------------------------------------------------------------------------
 * Layout constants
 */

typedef __UINTPTR_TYPE__ uintptr_t;
/* Tags alias whatever the program stored in that memory before. */
typedef __UINT32_TYPE__ __attribute__((__may_alias__)) tag_t;
/* Links hold addresses in payloads and records: they alias what was there
 * before, and at MALLOC0_ALIGN 4 are only as aligned as a tag. */
typedef uintptr_t __attribute__((__may_alias__, __aligned__(sizeof(tag_t)))) link_t;

#define ALIGN ((uintptr_t)MALLOC0_ALIGN)
#define TAG_BYTES ((uintptr_t)sizeof(tag_t))
#define FREE_BIT ((tag_t)1)
#define MARK_BIT ((tag_t)2)
#define PREV_FREE ((tag_t)4)
#define FLAG_BITS (FREE_BIT | MARK_BIT | PREV_FREE)
/* A tag that left the layout: the flags of a quick block, with no size. */
#define ERASED_TAG (FREE_BIT | MARK_BIT)
/* Block sizes are multiples of the grain: the alignment, but at least 8 so
 * that three flag bits fit below the size (MALLOC0_ALIGN 4 rounds sizes to
 * 8, no more than two 4-byte tags on each block would cost). */
#define GRAIN (ALIGN > FLAG_BITS ? ALIGN : FLAG_BITS + 1)
/* bytes rounded up to whole grains: what a block of them takes. */
#define GRAIN_ROUND(bytes) (((bytes) + GRAIN - 1) & ~(GRAIN - 1))
/* The block whose payload holds payload bytes: they and the header. */
#define BLOCK_FOR(payload) GRAIN_ROUND(TAG_BYTES + (payload))
/* The smallest block, one grain: room for a free block's two tags.  So any
 * rest of a split or a trim, a multiple of the grain, is a block. */
#define MIN_BLOCK GRAIN
/*
 * Sizes in tags are XORed with TAG_KEY: zeros, small numbers, small
 * negative numbers and repeated bytes, which programs store often, read as
 * no block that fits in the heap, so an interior pointer almost never sits
 * after a word that passes for a header (a zero tag reads as a size that
 * is no multiple of 16, or of more than 2 GiB).  The flags keep their place.
 */
#define TAG_KEY (MALLOC0_CHECKS ? (tag_t)0x9e3779b8 : 0)
#define PAGE_SHIFT 16
/* Memory grows by at least 1 / 2^GROW_SHIFT of the heap's size. */
#define GROW_SHIFT 6
/* How far past the tail MALLOC0_FAST's fast tail reaches (see tail_take). */
#define STALE_AHEAD 4096
/* Where the chain of retired headers ends: above any tail, and an address
 * where a block could start, so that a skip tag reaches it. */
#define NO_STALE (~(uintptr_t)(TAG_BYTES - 1))
/*
 * The largest block.  In wasm32 a tag holds any size memory can.  A 64-bit
 * build keeps 32-bit tags and takes blocks below 2 GiB, so that a gap block
 * (over at most MAX_GAP_PAGES of others' pages, and the block that did not
 * fit before them) still fits in a tag.
 */
#define WIDE_ADDRESSES (sizeof(uintptr_t) > sizeof(tag_t))
#define MAX_BLOCK (WIDE_ADDRESSES ? (uintptr_t)1 << 31 : (uintptr_t)(tag_t)~FLAG_BITS)
#define MAX_GAP_PAGES (WIDE_ADDRESSES ? (MAX_BLOCK >> PAGE_SHIFT) - 1 : ~(uintptr_t)0)
/* The largest request: its block, a header and a grain of rounding more,
 * is at most MAX_BLOCK, and never 0 (as a size that wrapped would be). */
#define MAX_REQUEST (MAX_BLOCK - (TAG_BYTES + GRAIN))
/* What memory.grow returns when the host refuses. */
#define GROW_FAILED (~(uintptr_t)0)

_Static_assert(MALLOC0_ALIGN == 4 || MALLOC0_ALIGN == 8 || MALLOC0_ALIGN == 16,
               "MALLOC0_ALIGN must be 4, 8 or 16");
_Static_assert(GRAIN > FLAG_BITS && GRAIN % ALIGN == 0, "flags live in the low bits of sizes");
_Static_assert(!(TAG_KEY & FLAG_BITS), "the key leaves the flags alone");

/* A mark block: a header and its mark's record (struct scope, below). */
#define MARK_BLOCK BLOCK_FOR(RECORD_BYTES)

/*
 * The heap starts 16-aligned: at __heap_base in wasm (wasm-ld aligns it),
 * in a region given to malloc0_init natively.  The first header sits
 * HEAP_LEAD bytes above that, so that payloads are aligned and every block
 * starts 4 bytes past a multiple of 8, as NO_STALE does.  The first block's
 * header never says PREV_FREE: nothing below the heap is read.
 */
#define HEAP_ALIGN 16
#define HEAP_LEAD (GRAIN - TAG_BYTES)

_Static_assert(NO_STALE % (FLAG_BITS + 1) == HEAP_LEAD % (FLAG_BITS + 1), "the chain's end is on the grid");
_Static_assert(HEAP_ALIGN % MALLOC0_ALIGN == 0, "the heap start keeps payloads aligned");

/* ---------------------------------------------------------------------------
 * The platform: where the heap starts, and how its memory grows
 */

#ifdef __wasm__

extern unsigned char __heap_base;
#define HEAP_START ((uintptr_t)&__heap_base + HEAP_LEAD)
#define INITIAL_HEAP_START HEAP_START

/*
 * The heap owns linear memory below page heap_pages: what memory held when
 * the heap first needed it, and the pages its own memory.grow returned
 * since.  Pages that others grew in between are not the heap's: they form a
 * gap.  The heap's first page after a gap starts with the gap's record, in
 * a chain from first_gap up.  Whenever the tail reaches a gap it passes it
 * with a gap block, from the tail to just after the record: tagged MARK_BIT
 * with a size no mark block has, never free, never handed out, and nothing
 * is ever written inside it but its tags.  gap_passed is the last gap below
 * the tail; a mark's record keeps it, so that a reset finds the next gap
 * ahead in O(1).  A record lies in the heap's memory, where a program's
 * stray write can reach it: its seal (its begin, its address and the
 * record before it, XORed) is checked before the heap goes by it (TRUST).
 */
struct gap {
    link_t begin; /* the first byte that is not the heap's */
    link_t next;  /* the next gap up, or 0 */
    link_t seal;  /* gap_seal(this record, the record before it) */
};

#define FIRST_GAP ((link_t)&first_gap)

static struct gap first_gap;
static struct gap *gap_passed = &first_gap, *gap_last = &first_gap;

static link_t gap_seal(struct gap *gap, struct gap *before)
{
    return gap->begin ^ (link_t)gap ^ (link_t)before;
}

/* The end of a gap's block: the first block start after the record, which
 * starts a page. */
static uintptr_t gap_end(struct gap *gap)
{
    return (uintptr_t)gap + BLOCK_FOR(sizeof *gap) - TAG_BYTES;
}

/* Records the memory from begin to at as a gap, whose record starts the
 * heap's memory at at: a page fresh from memory.grow, so its next link is
 * already 0. */
static void gap_add(uintptr_t at, uintptr_t begin)
{
    struct gap *gap = (struct gap *)at;
    gap->begin = begin;
    gap->seal = gap_seal(gap, gap_last);
    gap_last->next = (uintptr_t)gap;
    gap_last = gap;
}

static uintptr_t memory_end(void) { return __builtin_wasm_memory_size(0) << PAGE_SHIFT; }

/* What the runtime around the module needs from the heap. */
#if defined(__EMSCRIPTEN__) || defined(__wasi__)
/* The C library's own objects call its allocator by these names, which its
 * allocators define beside malloc (wasi-libc's setlocale, newlocale,
 * freelocale and atexit; emscripten's musl also for localtime's time
 * zone): with them here, no part of those allocators is linked, and under
 * emscripten's -sMALLOC=none a program that calls those functions links.
 * Only there: a module linked with --export-all would export them, 240
 * bytes of code. */
void *__libc_malloc(size_t n) { return malloc(n); }
void *__libc_calloc(size_t count, size_t each) { return calloc(count, each); }
void __libc_free(void *p) { free(p); }
#endif

#if defined(__EMSCRIPTEN__)

/*
 * emscripten's runtime keeps views of memory in JS: after each grow,
 * emscripten_notify_memory_growth renews them (in the runtime's library,
 * and imported by standalone builds).  memory.grow itself, not the
 * runtime's emscripten_resize_heap, which says only whether memory grew:
 * malloc0 must know which pages its own grow returned.  With -sMALLOC=none
 * there is no sbrk: the heap is all memory from __heap_base up, as in any
 * other wasm module.
 */
void emscripten_notify_memory_growth(__SIZE_TYPE__ memory_index);
static void memory_grown(void) { emscripten_notify_memory_growth(0); }

/*
 * memory.grow refused the pages a block needs: the runtime has the last
 * word, as it has over its own allocators' sbrk.  Asked for memory as
 * large as the refused grow would have made it, emscripten_resize_heap
 * aborts under -sABORTING_MALLOC (the default without
 * -sALLOW_MEMORY_GROWTH), as emmalloc and dlmalloc then do, and otherwise
 * refuses too, and malloc returns NULL.  The runtime relies on that abort:
 * pthread_create and the JS glue use what their mallocs return without a
 * check, and a NULL thread stack covers memory from address 0, the heap's
 * included.  A size past the address space asks for all of it.
 */
int emscripten_resize_heap(__SIZE_TYPE__ bytes);
static void memory_refused(uintptr_t needed)
{
    uintptr_t pages = __builtin_wasm_memory_size(0) + needed;
    (void)emscripten_resize_heap(pages > ~(uintptr_t)0 >> PAGE_SHIFT ? ~(uintptr_t)0 : pages << PAGE_SHIFT);
}

/* emscripten's runtime allocates by these names too (thread stacks and
 * TLS, localtime's time zone, mmap), and its dynamic linking reallocs by
 * __libc_realloc: its allocators define them all. */
void *emscripten_builtin_malloc(size_t n) { return malloc(n); }
void *emscripten_builtin_calloc(size_t count, size_t each) { return calloc(count, each); }
void *emscripten_builtin_realloc(void *p, size_t n) { return realloc(p, n); }
void *emscripten_builtin_memalign(size_t align, size_t n) { return memalign(align, n); }
void emscripten_builtin_free(void *p) { free(p); }
void *__libc_realloc(void *p, size_t n) { return realloc(p, n); }

#else

static void memory_grown(void) {}
static void memory_refused(uintptr_t needed) { (void)needed; }

#endif

static uintptr_t memory_grow(uintptr_t pages)
{
    uintptr_t old = __builtin_wasm_memory_grow(0, pages);
    if (old != GROW_FAILED)
        memory_grown();
    return old;
}

static uintptr_t heap_pages;

/* How many pages memory holds after a grow by pages that returned first:
 * memory.size, unless another thread may have grown it since. */
static uintptr_t memory_grown_to(uintptr_t first, uintptr_t pages)
{
    return MALLOC0_THREADS ? first + pages : __builtin_wasm_memory_size(0);
}

/* Does the heap's memory hold a block ending at end, and a tag beyond? */
static int memory_holds(uintptr_t end) { return (end + TAG_BYTES - 1) >> PAGE_SHIFT < heap_pages; }

/*
 * Grows memory so that it holds a block ending at end, by a 64th of the
 * heap or by what is needed, whichever is larger, and by exactly what is
 * needed if the host refuses the larger step: steps in proportion to the
 * heap keep memory.grow calls logarithmic in the heap's size and the slack
 * under a 64th of it.  If others grew memory since, the new pages lie
 * after a gap, and the caller finds it ahead.  Returns 0 if the host
 * refuses.  The first call only learns what memory holds.
 */
static int memory_grow_for(uintptr_t end)
{
    uintptr_t needed = ((end + TAG_BYTES - 1) >> PAGE_SHIFT) + 1 - heap_pages;
    uintptr_t step = (end - HEAP_START) >> (PAGE_SHIFT + GROW_SHIFT), first;
    if (!heap_pages) {
        heap_pages = __builtin_wasm_memory_size(0);
        return 1;
    }
    if (step <= needed || (first = memory_grow(step)) == GROW_FAILED)
        first = memory_grow(step = needed);
    if (first == GROW_FAILED) {
        memory_refused(needed);
        return 0;
    }
    if (first - heap_pages > MAX_GAP_PAGES)
        return 0;
    if (first != heap_pages)
        gap_add(first << PAGE_SHIFT, heap_pages << PAGE_SHIFT);
    heap_pages = memory_grown_to(first, step);
    return 1;
}

/* The next gap above the tail, or 0: none after the last, else a record
 * sealed as the one after the gap passed.  Every move of the tail asks.
 * Without checks, the next link alone answers, as it does in a sound heap. */
static INLINE struct gap *gap_ahead(void)
{
    struct gap *gap;
    if (MALLOC0_CHECKS && gap_passed == gap_last)
        return 0;
    gap = (struct gap *)gap_passed->next;
    TRUST(gap && gap->seal == gap_seal(gap, gap_passed));
    return gap;
}

/* The highest end of a block at the tail that memory holds, with a tag
 * beyond, short of the gap ahead.  With all 4 GiB of wasm32 the shift wraps
 * to 0, and the subtraction back to the last word: still the right end. */
static uintptr_t memory_reach(void)
{
    struct gap *gap = gap_ahead();
    return (gap ? gap->begin : heap_pages << PAGE_SHIFT) - TAG_BYTES;
}

/* If a gap is in the way of size more bytes at tail (and a tag beyond),
 * the size of the gap block that passes it, from tail; else 0. */
static uintptr_t gap_in_way(uintptr_t tail, uintptr_t size)
{
    struct gap *gap = gap_ahead();
    if (gap && size + TAG_BYTES > gap->begin - tail)
        return gap_end(gap) - tail;
    return 0;
}

/* The gap ahead now lies below the tail, under its gap block.  tail_move
 * calls it just after gap_in_way checked the record, and writes nothing
 * between but tags of blocks, none inside a record. */
static void gap_pass(void) { gap_passed = (struct gap *)gap_passed->next; }

/* A reset to mark, taken when passed was the last gap below the tail (0:
 * first_gap, as base_scope says): the mark's record says so, so it is
 * checked (TRUST): below the mark, and the gap after it above. */
static void gaps_reset(link_t passed, uintptr_t mark)
{
    struct gap *ahead;
    gap_passed = passed ? (struct gap *)passed : &first_gap;
    ahead = gap_ahead();
    TRUST(passed < mark && (!ahead || ahead->begin > mark));
}
static link_t gaps_now(void) { return (link_t)gap_passed; }
static link_t gap_after(link_t gap) { return ((struct gap *)gap)->next; }

/* Does a gap block from block to end pass the gap next in the chain? */
static int gap_block_consistent(uintptr_t block, uintptr_t end, link_t *next)
{
    struct gap *gap = (struct gap *)*next;
    if (!gap || end != gap_end(gap) || block >= gap->begin)
        return 0;
    *next = gap->next;
    return 1;
}

#else

/* Natively, until malloc0_init the heap lies in an empty region of two
 * words, the lead and one at the tail: every allocation fails, and what a
 * reset writes at the tail stays inside it. */
static tag_t empty_region[2];
#define INITIAL_HEAP_START ((uintptr_t)&empty_region[1])
static uintptr_t heap_start = INITIAL_HEAP_START, region_end = INITIAL_HEAP_START;
#define HEAP_START heap_start

#define FIRST_GAP ((link_t)0)

static uintptr_t memory_end(void) { return region_end; }

/* A native region does not grow: it holds end and a tag beyond, or not. */
static uintptr_t memory_reach(void) { return region_end - TAG_BYTES; }
static int memory_holds(uintptr_t end) { return end <= memory_reach(); }
static int memory_grow_for(uintptr_t end) { return (void)end, 0; }
static uintptr_t gap_in_way(uintptr_t tail, uintptr_t size) { return (void)tail, (void)size, 0; }
static void gap_pass(void) {}
static void gaps_reset(link_t passed, uintptr_t mark) { (void)passed, (void)mark; }
static link_t gaps_now(void) { return 0; }
static link_t gap_after(link_t gap) { return (void)gap, 0; }
static int gap_block_consistent(uintptr_t block, uintptr_t end, link_t *next)
{
    return (void)block, (void)end, (void)next, 0;
}

static void heap_open(void);

/* The region, from its first aligned address, holds the heap; heap_open
 * (with the core's state) makes it empty. */
void API(malloc0_init)(void *region, size_t bytes)
{
    uintptr_t start = ((uintptr_t)region + HEAP_ALIGN - 1) & ~(uintptr_t)(HEAP_ALIGN - 1);
    heap_start = region_end = start + HEAP_LEAD; /* too small for a block: every allocation fails */
    if (bytes > heap_start - (uintptr_t)region)
        region_end = (uintptr_t)region + bytes;
    heap_open();
}

#endif

/* ---------------------------------------------------------------------------
 * State
 */

static uintptr_t heap_tail = INITIAL_HEAP_START;
static uintptr_t base_mark = INITIAL_HEAP_START;
static uintptr_t peak_tail = INITIAL_HEAP_START;
static uintptr_t tail_limit = INITIAL_HEAP_START;
static uintptr_t stale_next = NO_STALE;

/* ---------------------------------------------------------------------------
 * Tags and blocks
 */

static tag_t *tag_at(uintptr_t address) { return (tag_t *)address; }

/* A tag that leaves the layout is erased (ERASED_TAG), so that no check
 * takes it for a block. */
static void tag_erase(uintptr_t address)
{
    if (MALLOC0_CHECKS)
        *tag_at(address) = ERASED_TAG;
}

/*
 * Free tags keep plain sizes: nothing accepts them, and merges and the free
 * lists read them without the key (a key on them would cost 50 bytes of
 * code).  tag_size reads any tag; the paths that know a tag's state read it
 * as used_size (in use, mark, gap) or free_size (hole, quick) does.
 */
static tag_t key_for(tag_t flags) { return flags & FREE_BIT ? 0 : TAG_KEY; }
static tag_t tag_make(uintptr_t size, tag_t flags) { return ((tag_t)size ^ key_for(flags)) | flags; }
static tag_t tag_size(tag_t tag) { return (tag ^ key_for(tag)) & ~FLAG_BITS; }
static tag_t used_size(tag_t tag) { return (tag ^ TAG_KEY) & ~FLAG_BITS; }
static tag_t free_size(tag_t tag) { return tag & ~FLAG_BITS; }

/* The size a tag in use or a mark's says; with thread caches, also a tag
 * claimed in use (see block_claim), which is a quick block's. */
static tag_t held_size(tag_t tag) { return CACHE ? tag_size(tag) : used_size(tag); }

/* The size of a block in use or a mark block. */
static tag_t block_size(uintptr_t block) { return held_size(*tag_at(block)); }

static void header_set(uintptr_t block, uintptr_t size, tag_t flags)
{
    *tag_at(block) = tag_make(size, flags);
}

/* A block in use takes size bytes, with the flags it had. */
static SHARED void header_resize(uintptr_t block, uintptr_t size)
{
    header_set(block, size, *tag_at(block) & FLAG_BITS);
}

/* A hole: its header, and the same tag as its footer.  No free block lies
 * before a hole, so neither says PREV_FREE. */
static void free_block_set(uintptr_t block, uintptr_t size)
{
    tag_t tag = tag_make(size, FREE_BIT);
    *tag_at(block) = tag;
    *tag_at(block + size - TAG_BYTES) = tag;
}

/* Quick lists (see their section): MALLOC0_FAST's, in the default profile.
 * Thread caches tag their blocks as quick blocks. */
#define QUICK (MALLOC0_FAST && !MALLOC0_TINY)
#define QUICK_TAGS (QUICK || CACHE)

/* Is tag a hole's (see kind_of)?  A quick block's tag also says FREE_BIT,
 * with MARK_BIT; without quick lists, no tag in the layout does. */
static int hole_tag(tag_t tag) { return QUICK_TAGS ? (tag & (FREE_BIT | MARK_BIT)) == FREE_BIT : (tag & FREE_BIT) != 0; }

/* Does a block start at an address in the heap, below the tail?  The
 * one test that comes before any read of a block a caller or a link names. */
static int in_heap(uintptr_t block) { return block - HEAP_START < heap_tail - HEAP_START; }

/* Does block hold a hole the heap may trust: inside the heap, ending below
 * the tail, its header saying hole and its footer equal to it?  Nothing is
 * read before the address is known to lie inside the heap.  Equal tags
 * alone do not make a hole: a zero header after a zero word passes as a
 * hole of size 0, and a quick block's tags agree as a hole's do, so a
 * PREV_FREE bit forged after zeroed data or a stacked quick block would
 * merge it and move the tail into a live block. */
static INLINE int hole_whole(uintptr_t block)
{
    tag_t header;
    if (!in_heap(block))
        return 0;
    header = *tag_at(block);
    return hole_tag(header) && free_size(header) < heap_tail - block &&
           *tag_at(block + free_size(header) - TAG_BYTES) == header;
}

/* Is block a whole hole, and does the block after it know it is free? */
static int free_block_whole(uintptr_t block)
{
    return hole_whole(block) && (*tag_at(block + free_size(*tag_at(block))) & PREV_FREE);
}

/* Tells the block at block whether the block before it is free.  With
 * thread caches, in one atomic step: the block may be in use, and a thread
 * that holds no lock may be swapping its tag (see Thread caches). */
static void prev_free_set(uintptr_t block)
{
    if (CACHE)
        __atomic_fetch_or(tag_at(block), PREV_FREE, __ATOMIC_RELAXED);
    else
        *tag_at(block) |= PREV_FREE;
}
static void prev_free_clear(uintptr_t block)
{
    if (CACHE)
        __atomic_fetch_and(tag_at(block), ~PREV_FREE, __ATOMIC_RELAXED);
    else
        *tag_at(block) &= ~PREV_FREE;
}

/* Is this an address where a payload could start? */
static int payload_aligned(uintptr_t address) { return (address & (ALIGN - 1)) == 0; }

/* Could a block of size bytes start at block (below the tail)?  Sizes are
 * multiples of the grain, so one that is not 0 is at least MIN_BLOCK. */
static INLINE int block_fits(uintptr_t block, uintptr_t size)
{
    return size && !(size & (GRAIN - 1)) && size <= heap_tail - block;
}

/* Is block the start of a block in use now: a header in use that fits,
 * followed by the tail or by a header that fits and says the block before
 * it is in use?  Nothing is read before the address is known to lie inside
 * the heap. */
static int block_in_use(uintptr_t block)
{
    tag_t header, next;
    if (!in_heap(block) || !payload_aligned(block + TAG_BYTES))
        return 0;
    header = *tag_at(block);
    if ((header & (FREE_BIT | MARK_BIT)) || !block_fits(block, used_size(header)))
        return 0;
    block += used_size(header);
    if (block == heap_tail)
        return 1;
    next = *tag_at(block);
    return !(next & PREV_FREE) && block_fits(block, tag_size(next));
}

/* ---------------------------------------------------------------------------
 * The tail
 */

/*
 * Links of the retired chain are tags.  In wasm32 an address fits in one, so
 * the first chain's link to NO_STALE is a plain skip like the others; on a
 * 64-bit host it does not fit, and a zero tag ends the chain instead.
 */
static tag_t stale_link(uintptr_t next, uintptr_t at)
{
    return WIDE_ADDRESSES && next == NO_STALE ? 0 : tag_make(next - at, FREE_BIT);
}
static uintptr_t stale_step(uintptr_t at, tag_t tag)
{
    return WIDE_ADDRESSES && !tag ? NO_STALE : at + tag_size(tag);
}

/* Erases the retired blocks' headers below end, following their chain. */
static void stale_erase_below(uintptr_t end)
{
    while (MALLOC0_CHECKS && stale_next < end) {
        uintptr_t next = stale_step(stale_next, *tag_at(stale_next));
        TRUST(next > stale_next && (next <= peak_tail || next == NO_STALE));
        tag_erase(stale_next);
        stale_next = next;
    }
}

/* Moves the tail up by size bytes, past any gaps in the way, growing memory
 * if needed; returns where the bytes start, or 0 with nothing changed but
 * gaps passed. */
static uintptr_t tail_move(uintptr_t size)
{
    for (;;) {
        uintptr_t block = heap_tail, span = gap_in_way(block, size), end = block + (span ? span : size);
        if (size > NO_STALE - block)
            return 0;
        if (!span && !memory_holds(end)) {
            if (!memory_grow_for(end))
                return 0;
            continue;
        }
        stale_erase_below(end);
        if (end > peak_tail)
            peak_tail = end;
        heap_tail = end;
        if (!span)
            return block;
        header_set(block, span, MARK_BIT);
        gap_pass();
    }
}

/* How far the tail could move up with nothing else to do: the fast tail's
 * limit never passes it (tail_limit_safe). */
static uintptr_t tail_reach(void)
{
    uintptr_t end = memory_reach();
    return MALLOC0_CHECKS && stale_next < end ? stale_next : end;
}

/* MALLOC0_FAST's long way: tail_move, then the limit renewed, at most
 * STALE_AHEAD bytes past the tail, with the retired headers below it
 * erased now: else, after a reset, each block that the tail moves over
 * a retired header would take the long way.  After a move that failed,
 * memory may not hold the tail's tag (a native heap without a region), so
 * the limit is the tail. */
static COLD uintptr_t tail_take_far(uintptr_t size)
{
    uintptr_t block = tail_move(size), reach;
    tail_limit = heap_tail;
    if (block) {
        reach = memory_reach();
        tail_limit = reach - heap_tail > STALE_AHEAD ? heap_tail + STALE_AHEAD : reach;
        stale_erase_below(tail_limit);
    }
    return block;
}

/* With MALLOC0_FAST, the tail moves up by size bytes at once while its end
 * stays at or below tail_limit: memory holds it with a tag beyond, no gap
 * is in the way and no retired header lies below it.  Every other move
 * renews the limit; a reset lowers it to the tail, which sends the next
 * take the long way.  Without, every move is tail_move's, the way malloc
 * usually takes: not COLD. */
static uintptr_t tail_take(uintptr_t size)
{
    uintptr_t block;
    if (!MALLOC0_FAST)
        return tail_move(size);
    block = heap_tail;
    if (size <= tail_limit - block) {
        heap_tail = block + size;
        if (heap_tail > peak_tail)
            peak_tail = heap_tail;
        return block;
    }
    return tail_take_far(size);
}

/* Moves the tail down to mark and chains the headers above it as retired.
 * Memory always reaches past the tail, so the link fits there. */
static void tail_reset(uintptr_t mark)
{
    if (MALLOC0_CHECKS) {
        if (stale_next != heap_tail)
            *tag_at(heap_tail) = stale_link(stale_next, heap_tail);
        stale_next = mark;
    }
    heap_tail = tail_limit = mark;
}

/* The size of the block for n payload bytes, or 0 if no block can be that
 * large.  Whether one fits is for a hole or the tail to say: a hole serves
 * any request it fits, at any address. */
static tag_t block_size_for(uintptr_t n)
{
    return n <= MAX_REQUEST ? (tag_t)BLOCK_FOR(n) : 0;
}

/* Appends a block of size bytes with flags at the tail; returns it, or 0
 * with nothing changed. */
static INLINE uintptr_t block_append(tag_t size, tag_t flags)
{
    uintptr_t block = tail_take(size);
    if (block)
        header_set(block, size, flags);
    return block;
}

static void *payload_of(uintptr_t block) { return block ? (void *)(block + TAG_BYTES) : 0; }
/* The block whose payload p would be. */
static uintptr_t block_at(void *p) { return (uintptr_t)p - TAG_BYTES; }

/* ---------------------------------------------------------------------------
 * Holes
 */

/*
 * The index of holes is the one place where the profiles differ: the tiny
 * profile keeps none (INDEX is 0), so that each of the index's entry points
 * (add, remove, find, search, switching scopes, the check) does nothing.
 */
#define INDEX (!MALLOC0_TINY)

struct scope;
static struct scope *record_before(uintptr_t mark);
static struct scope *scope_of_mark(uintptr_t mark);
static int mark_block_ends_at(uintptr_t mark);

/* Masks alias whatever the payload held before, and at MALLOC0_ALIGN 4 a
 * payload is only as aligned as a tag. */
typedef __UINT64_TYPE__ __attribute__((__may_alias__, __aligned__(sizeof(tag_t)))) class_mask_t;

/* A listed hole holds two links in its payload: the next hole in its class,
 * and the address of the link that points to it (a head or a next link).
 * In wasm32 that is 16 bytes; with 8-byte links, 24 and up. */
#define MIN_HOLE GRAIN_ROUND(2 * TAG_BYTES + 2 * sizeof(link_t))
#define CLASS_SPLIT_LOG2 2
#define SMALLEST_CLASS_LOG2 4
/* Four classes for every power of two a tag's size can have; without the
 * index, one that no list uses. */
#define CLASS_COUNT (INDEX ? (8 * sizeof(tag_t) - SMALLEST_CLASS_LOG2) << CLASS_SPLIT_LOG2 : 1)
#define MASK_BITS (8 * sizeof(class_mask_t))
#define MASK_WORDS ((CLASS_COUNT + MASK_BITS - 1) / MASK_BITS)
/* How many holes of its own class a request looks at for the best fit. */
#define FIT_TRIES 8
/* Holes under 2^FIFO_BELOW_LOG2 bytes (16 KiB) are taken oldest first. */
#define FIFO_BELOW_LOG2 14
#define FIFO_CLASSES ((FIFO_BELOW_LOG2 - SMALLEST_CLASS_LOG2) << CLASS_SPLIT_LOG2)
/* A link to a list's head or tail carries this bit: links are tag-aligned. */
#define HEAD_LINK ((link_t)1)

_Static_assert(MIN_HOLE >= 1 << SMALLEST_CLASS_LOG2, "no hole is below class 0");
_Static_assert(MIN_HOLE % GRAIN == 0, "holes are blocks");
_Static_assert(MASK_WORDS * MASK_BITS > CLASS_COUNT && MASK_WORDS <= 2,
               "one mask bit per class, and a word for the class after the last");
_Static_assert(HEAD_LINK < sizeof(tag_t), "links leave the head bit free");

/* The set of classes whose lists are not empty: one bit per class. */
typedef struct {
    class_mask_t words[MASK_WORDS];
} class_set;

static int class_in(const class_set *set, unsigned class)
{
    return set->words[class / MASK_BITS] >> class % MASK_BITS & 1;
}
static void class_add(class_set *set, unsigned class)
{
    set->words[class / MASK_BITS] |= (class_mask_t)1 << class % MASK_BITS;
}
static void class_remove(class_set *set, unsigned class)
{
    set->words[class / MASK_BITS] &= ~((class_mask_t)1 << class % MASK_BITS);
}

/* No hole at all: malloc goes straight to the tail, as in a stack. */
static int class_set_empty(const class_set *set)
{
    class_mask_t any = 0;
    unsigned word;
    for (word = 0; word < MASK_WORDS; word++)
        any |= set->words[word];
    return !any;
}

/* The first class above class in set, or CLASS_COUNT if none: a bit scan
 * in the word that holds the next class, and in the word after it if that
 * has none (two words at most). */
static unsigned class_above(const class_set *set, unsigned class)
{
    unsigned word = ++class / MASK_BITS;
    class_mask_t bits = set->words[word] >> class % MASK_BITS;
    if (bits)
        return class + (unsigned)__builtin_ctzll(bits);
    if (++word < MASK_WORDS && (bits = set->words[word]))
        return (unsigned)(word * MASK_BITS) + (unsigned)__builtin_ctzll(bits);
    return CLASS_COUNT;
}

/*
 * A scope's record: the payload of its mark block, or base_scope for the
 * heap below the first mark.  Its lists hold the holes between its floor
 * and the next mark; a head counts only while its class's bit is set.
 * The index (classes and heads) comes last: the tiny profile's mark blocks
 * end before it.
 */
struct scope {
    tag_t takes;       /* free_get_mark calls on this mark, less pops */
    tag_t takes_check; /* TAG_KEY - takes * TAKES_SPREAD (see takes_add) */
    link_t floor;      /* where the scope starts: its mark (base_scope: 0) */
    link_t outer;      /* the record of the scope around this one */
    link_t gaps;       /* the last gap passed below the mark (0: none) */
    class_set classes; /* the classes whose lists are not empty */
    link_t heads[CLASS_COUNT];
    link_t tails[CLASS_COUNT];
};

#define RECORD_BYTES (INDEX ? sizeof(struct scope) : __builtin_offsetof(struct scope, classes))

/* All zeros, so that the record lies in .bss: with one word set, all of
 * it (896 bytes of list heads and tails) would be in a module's data.  Its
 * floor is 0, below any block; a mark at the heap start counts on it, and
 * its takes count nothing. */
static struct scope base_scope;
/* The scope that blocks are allocated in. */
static struct scope *scope_now = &base_scope;

static link_t *hole_next(uintptr_t block) { return (link_t *)(block + TAG_BYTES); }
static link_t *hole_back(uintptr_t block) { return hole_next(block) + 1; }

static tag_t hole_size(uintptr_t block) { return free_size(*tag_at(block)); }
static int hole_listed(tag_t size) { return INDEX && size >= MIN_HOLE; }

/* Size classes: four per power of two, from MIN_HOLE up to the largest
 * block, so that every class but a request's own holds only holes that all
 * fit it, or none that does.  A request smaller than any hole (a block of
 * one grain, where MIN_HOLE is larger) asks in the first class. */
static SHARED unsigned hole_class(tag_t size)
{
    unsigned log2;
    if (MIN_HOLE > MIN_BLOCK && size < MIN_HOLE)
        size = MIN_HOLE;
    log2 = 31 - (unsigned)__builtin_clz(size);
    return (log2 - SMALLEST_CLASS_LOG2) << CLASS_SPLIT_LOG2 |
           (size >> (log2 - CLASS_SPLIT_LOG2) & ((1 << CLASS_SPLIT_LOG2) - 1));
}

/* A list ends in a link, carrying HEAD_LINK, to where a hole would lie
 * whose back link is the list's tail: so the last hole's next links back
 * the way a hole does. */
static link_t list_end(link_t *tail) { return ((link_t)tail - (link_t)hole_back(0)) | HEAD_LINK; }

/* The word that links back to what lies before next: next's back link, or
 * at the end of a list, its tail. */
static link_t *back_of(link_t next) { return hole_back(next & ~HEAD_LINK); }

/* Does next link back to back? */
static int links_back(link_t next, link_t back) { return *back_of(next) == back; }

/* Links a hole last in its class if it is under 16 KiB, else first (see
 * the design).  A list's head and tail are its scope's, and an empty list
 * starts as head and tail linked to each other, and its class's bit set:
 * a link into a list that has holes leaves the bit set alone. */
static void hole_link(uintptr_t block, struct scope *scope)
{
    unsigned class = hole_class(hole_size(block));
    class_set *classes = &scope->classes;
    link_t *head = &scope->heads[class], back = (link_t)head | HEAD_LINK, next;
    link_t *tail = &scope->tails[class], *before;
    if (!class_in(classes, class)) {
        *head = list_end(tail);
        *tail = back;
        class_add(classes, class);
    }
    if (class < FIFO_CLASSES)
        back = *tail;
    before = (link_t *)(back & ~HEAD_LINK);
    next = *before;
    TRUST(links_back(next, back));
    *back_of(next) = (link_t)hole_next(block);
    *hole_next(block) = next;
    *hole_back(block) = back;
    *before = block;
}

/* Unlinks a listed hole of size bytes.  A hole that was first and last in
 * its class leaves it empty: its back link finds the head, and the head,
 * through the hole's class, its scope's record. */
static void hole_unlink(uintptr_t block, tag_t size)
{
    link_t next = *hole_next(block);
    link_t back = *hole_back(block);
    link_t before = back & ~HEAD_LINK;
    TRUST(*(link_t *)before == block && links_back(next, (link_t)hole_next(block)));
    *(link_t *)before = next;
    *back_of(next) = back;
    if (back & next & HEAD_LINK) {
        unsigned class = hole_class(size);
        struct scope *scope = (struct scope *)(before - class * sizeof(link_t) -
                                               __builtin_offsetof(struct scope, heads));
        class_remove(&scope->classes, class);
    }
}

/* The scope around scope.  Records lie in mark blocks, which a program's
 * overflow can reach, so the link is checked (TRUST): it must lead to a
 * record that its floor's mark holds (or base_scope), lower down. */
static struct scope *scope_outer(struct scope *scope)
{
    struct scope *outer = (struct scope *)scope->outer;
    TRUST(scope_of_mark(outer->floor) == outer && outer->floor < scope->floor);
    return outer;
}

/* The scope whose floor is the highest at or below block: the current one
 * unless block lies below the current floor, then one of the scopes around
 * it.  O(1) above the floor, else O(number of scopes above block). */
static struct scope *scope_holding(uintptr_t block)
{
    struct scope *scope = scope_now;
    while (block < scope->floor)
        scope = scope_outer(scope);
    return scope;
}

static void hole_add(uintptr_t block)
{
    if (hole_listed(hole_size(block)))
        hole_link(block, scope_holding(block));
}

static void hole_remove(uintptr_t block)
{
    tag_t size;
    TRUST(hole_whole(block));
    size = hole_size(block);
    if (hole_listed(size))
        hole_unlink(block, size);
}

/* Unlinks a hole that fits size bytes, splits it to that size and tags it
 * in use; returns it.  A rest, a multiple of the grain and so a block of
 * its own, stays free before the next block; without one, the next block's
 * header learns that the block before it is in use. */
static uintptr_t hole_use(uintptr_t block, tag_t size)
{
    uintptr_t rest;
    hole_remove(block);
    rest = hole_size(block) - size;
    if (rest) {
        free_block_set(block + size, rest);
        CHECK(free_block_whole(block + size));
        hole_add(block + size);
    } else {
        prev_free_clear(block + size);
    }
    header_set(block, size, 0);
    return block;
}

/* The best fit for size bytes among the first tries holes of scope's class
 * (the smallest that fits; an exact fit ends the walk), or 0.  Out of
 * line: inlined at each of its three calls, the walk costs 900 bytes at
 * -O2.  The caller passes the current scope, as it has read it already. */
static __attribute__((noinline)) uintptr_t hole_fit_in(const struct scope *scope, unsigned class, tag_t size,
                                                       uintptr_t tries)
{
    uintptr_t block, best = 0, best_size = ~(uintptr_t)0;
    if (!class_in(&scope->classes, class))
        return 0;
    for (block = scope->heads[class]; !(block & HEAD_LINK) && tries--; block = *hole_next(block)) {
        uintptr_t have = hole_size(block);
        if (have >= size && have < best_size) {
            best = block;
            best_size = have;
            if (have == size)
                break;
        }
    }
    return best;
}

/* A hole for a block of size bytes, or 0: the best fit among FIT_TRIES
 * holes of the request's class, else among FIT_TRIES of the smallest
 * larger class that has any (all of whose holes fit).  O(FIT_TRIES): a bit
 * scan and two bounded walks.  Inlined in block_alloc, its one caller:
 * every malloc that finds no quick block asks it first. */
static INLINE uintptr_t hole_find(tag_t size)
{
    struct scope *scope = scope_now;
    uintptr_t block;
    unsigned class;
    if (!INDEX || class_set_empty(&scope->classes))
        return 0;
    class = hole_class(size);
    block = hole_fit_in(scope, class, size, FIT_TRIES);
    if (!block && (class = class_above(&scope->classes, class)) < CLASS_COUNT)
        block = hole_fit_in(scope, class, size, FIT_TRIES);
    return block;
}

/* When memory has run out: any hole of the request's own class that fits
 * (every larger class is empty, or hole_find would have found one).
 * O(holes in that class), on the way to NULL only. */
static uintptr_t hole_search(tag_t size)
{
    return INDEX ? hole_fit_in(scope_now, hole_class(size), size, ~(uintptr_t)0) : 0;
}

/* Makes scope current: blocks allocated from now on come from its holes
 * or the tail, both above its floor, so that resetting to its mark releases
 * them all.  Its lists, and those of the scopes around it, stay as they
 * are: they are kept apart, so nothing is relisted. */
static void scope_enter(struct scope *scope)
{
    scope_now = scope;
}

/* A scope whose holes were all released: empty lists, made current. */
static void scope_empty(struct scope *scope)
{
    scope_enter(scope);
    if (INDEX)
        scope->classes = (class_set){0};
}

/* Does one scope's list of class hold only free holes of that class that lie
 * between floor and ceiling, linked both ways?  Counts them down in listed. */
static int hole_list_consistent(struct scope *scope, unsigned class, uintptr_t floor,
                                uintptr_t ceiling, uintptr_t *listed)
{
    uintptr_t back = (uintptr_t)&scope->heads[class] | HEAD_LINK, block;
    link_t end;
    if (!class_in(&scope->classes, class))
        return 1;
    end = list_end(&scope->tails[class]);
    for (block = scope->heads[class]; !(block & HEAD_LINK); block = *hole_next(block)) {
        tag_t tag = *tag_at(block);
        if (!(*listed)-- || block < floor || block >= ceiling || !hole_tag(tag) ||
            !hole_listed(free_size(tag)) || hole_class(free_size(tag)) != class ||
            *hole_back(block) != back)
            return 0;
        back = (uintptr_t)hole_next(block);
    }
    return !(back & HEAD_LINK) && block == end && links_back(end, back);
}

/* Do the scopes' lists, from the current one out, hold exactly the listed
 * holes, each once, in its class and in its scope, with one scope for each
 * of the heap's marks? */
static int holes_consistent(uintptr_t listed, uintptr_t marks)
{
    struct scope *scope = scope_now;
    uintptr_t ceiling = heap_tail;
    unsigned class;
    if (!INDEX)
        return listed == 0;
    if (base_scope.floor)
        return 0;
    for (;;) {
        uintptr_t floor = scope == &base_scope ? HEAP_START : scope->floor;
        if (scope != &base_scope && (scope != record_before(floor) || !mark_block_ends_at(floor)))
            return 0;
        for (class = 0; class < CLASS_COUNT; class++)
            if (!hole_list_consistent(scope, class, floor, ceiling, &listed))
                return 0;
        if (scope == &base_scope)
            break;
        if (!marks--)
            return 0;
        ceiling = floor - MARK_BLOCK;
        scope = (struct scope *)scope->outer;
    }
    return listed == 0 && marks == 0;
}

/* A new scope inside the current one, from floor up. */
static void scope_begin(struct scope *scope, uintptr_t floor)
{
    scope->takes = 0;
    scope->takes_check = TAG_KEY;
    scope->floor = floor;
    scope->outer = (uintptr_t)scope_now;
    scope_empty(scope);
}

/* The scope ends: the one around it is current again, holes and all. */
static void scope_end(struct scope *scope) { scope_enter(scope_outer(scope)); }

/* ---------------------------------------------------------------------------
 * Block states
 */

/*
 * What state a block is in, by its header (the design comment draws the
 * calls that move a block between them).  The paths that know which states
 * can occur test single flags instead (hole_tag, block_in_use).
 *
 *   state     FREE_BIT  MARK_BIT  size             footer
 *   in use    -         -         the block's      -
 *   hole      x         -         the block's      the header
 *   quick     x         x         the block's      the header (a hint)
 *   erased    x         x         none (ERASED_TAG, above the tail or inside
 *                                 a block)
 *   mark      -         x         MARK_BLOCK       -
 *   gap       -         x         any other        -
 *
 * PREV_FREE says that a hole lies before the block.  Every state but the
 * hole looks in use to the block after it; a quick block's footer is read
 * only as a hint that the tail has reached one (quick_tail_check).
 */
enum kind { KIND_IN_USE, KIND_HOLE, KIND_QUICK, KIND_ERASED, KIND_MARK, KIND_GAP };

static enum kind kind_of(tag_t tag)
{
    switch (tag & (FREE_BIT | MARK_BIT)) {
    case 0:
        return KIND_IN_USE;
    case FREE_BIT:
        return KIND_HOLE;
    case MARK_BIT:
        return tag_size(tag) == MARK_BLOCK ? KIND_MARK : KIND_GAP;
    default:
        return (tag & ~PREV_FREE) == ERASED_TAG ? KIND_ERASED : KIND_QUICK;
    }
}

/* ---------------------------------------------------------------------------
 * Quick lists
 */

/*
 * A small block freed above the current floor, and not the last block,
 * skips the merge and the free lists: its header (and its footer, a hint
 * for the tail) is tagged FREE_BIT | MARK_BIT and it is pushed on a stack
 * of its exact size, linked through its payload; the next request of that
 * size pops it in O(1).  To its
 * neighbours a quick block looks in use: the block after it does not say
 * PREV_FREE and no merge takes it, so keeping and taking one touch no
 * neighbour, and the merges never ask about it.  Quick blocks merge at one
 * flush point, which releases them all as plain frees: when memory would
 * have to grow (so that any request they fit can use them), when a scope
 * begins (they would lie in the scope around it), and when the tail moves
 * back (one may lie just below it; so a heap whose blocks are all freed is
 * empty).  A reset forgets them with the rest of its blocks.  The stacks
 * hold at most QUICK_LIMIT blocks (which bounds a flush) and a 64th of the
 * heap's bytes (what waits unmerged).  A block next to a hole larger than a
 * quick block merges with it instead, so that such holes stay whole for
 * the requests they alone can serve.
 */
#define QUICK_FLAGS (FREE_BIT | MARK_BIT)
/* The largest quick block. */
#define QUICK_MAX 256
#define QUICK_LIMIT 64
#define QUICK_SHARE_SHIFT 6
/* One stack per grain up to QUICK_MAX; one unused without quick lists. */
#define QUICK_CLASSES (QUICK ? QUICK_MAX / GRAIN : 1)
/* The smallest block that holds a header, a link and a footer. */
#define QUICK_MIN GRAIN_ROUND(2 * TAG_BYTES + sizeof(link_t))

static link_t quick_heads[QUICK_CLASSES];
static uintptr_t quick_count, quick_bytes;

static link_t *quick_head(uintptr_t size) { return &quick_heads[size / GRAIN - 1]; }

static void block_release_shared(uintptr_t block);
static int caches_flush(int held);

/* Is block a quick block of size bytes in the current scope, below the
 * tail (a flush may leave one last), its header and footer agreeing?
 * Links in the stacks lie in freed payloads, which a program can write
 * after free. */
static int quick_sound(uintptr_t block, uintptr_t size)
{
    tag_t tag = tag_make(size, QUICK_FLAGS);
    return in_heap(block) && block >= scope_now->floor && size <= heap_tail - block &&
           (*tag_at(block) & ~PREV_FREE) == tag && *tag_at(block + size - TAG_BYTES) == tag;
}

/* The quick block for size bytes, tagged in use, or 0. */
static uintptr_t quick_take(uintptr_t size)
{
    link_t *head;
    uintptr_t block;
    if (!QUICK || size > QUICK_MAX || !(block = *(head = quick_head(size))))
        return 0;
    TRUST(quick_sound(block, size));
    *head = *hole_next(block);
    quick_count--;
    quick_bytes -= size;
    header_set(block, size, *tag_at(block) & PREV_FREE);
    return block;
}

/* Is a hole larger than a quick block next to block?  Then block merges
 * with it, so that requests larger than a quick block find it whole. */
static int next_to_large_hole(uintptr_t block, tag_t header, uintptr_t end)
{
    tag_t after = *tag_at(end);
    return ((header & PREV_FREE) && free_size(*tag_at(block - TAG_BYTES)) > QUICK_MAX) ||
           (hole_tag(after) && free_size(after) > QUICK_MAX);
}

/* Pushes a freed block on its stack if it may wait there; 1 if it did. */
static int quick_keep(uintptr_t block)
{
    tag_t header = *tag_at(block);
    uintptr_t size = used_size(header), end = block + size;
    link_t *head;
    if (!QUICK || end == heap_tail || size > QUICK_MAX || size < QUICK_MIN || quick_count == QUICK_LIMIT ||
        quick_bytes + size > (heap_tail - HEAP_START) >> QUICK_SHARE_SHIFT ||
        block < scope_now->floor || next_to_large_hole(block, header, end))
        return 0;
    head = quick_head(size);
    *hole_next(block) = *head;
    *head = block;
    quick_count++;
    quick_bytes += size;
    *tag_at(block) = tag_make(size, QUICK_FLAGS) | (header & PREV_FREE);
    *tag_at(end - TAG_BYTES) = tag_make(size, QUICK_FLAGS);
    return 1;
}


/* The flush point: releases every quick block as a plain free, merging
 * with its neighbours.  The stacks are emptied first, so that a release
 * that moves the tail back finds nothing more to flush. */
static COLD void quick_flush(void)
{
    unsigned class;
    quick_count = quick_bytes = 0;
    for (class = 0; QUICK && class < QUICK_CLASSES; class++) {
        uintptr_t block = quick_heads[class];
        quick_heads[class] = 0;
        while (block) {
            uintptr_t next = *hole_next(block), size = (class + 1) * GRAIN;
            TRUST(quick_sound(block, size));
            header_set(block, size, *tag_at(block) & PREV_FREE);
            block_release_shared(block);
            block = next;
        }
    }
}

/* The tail moved back: if the block below it may be quick (its last word
 * reads as a quick block's footer), flush, so that the tail comes down to
 * the next block in use.  A payload that only looks like a footer costs a
 * flush, nothing else.  That word may be a block's in use, which another
 * thread may be writing: any value it reads is right, as only the heap,
 * under the lock, writes a quick block's footer, so ThreadSanitizer is told
 * not to watch this read. */
static __attribute__((no_sanitize("thread"))) void quick_tail_check(void)
{
    tag_t last;
    if (!QUICK || !quick_count)
        return;
    last = *tag_at(heap_tail - TAG_BYTES);
    if ((last & FLAG_BITS) == QUICK_FLAGS && free_size(last) <= QUICK_MAX)
        quick_flush();
}

/* Releases the quick blocks, or those of the thread caches that are not
 * in use (and so may leave some); 0 if there were none. */
static int quick_release(void)
{
    if (QUICK && quick_count) {
        quick_flush();
        return 1;
    }
    return caches_flush(0);
}

/* A reset released the scope's blocks, quick ones too. */
static void quick_forget(void)
{
    unsigned class;
    for (class = 0; QUICK && class < QUICK_CLASSES; class++)
        quick_heads[class] = 0;
    quick_count = quick_bytes = 0;
}

/* Are the stacks exactly the quick blocks walked (quick of them), each of
 * its stack's size, in the current scope? */
static int quick_consistent(uintptr_t quick)
{
    unsigned class;
    uintptr_t block, listed = 0, bytes = 0;
    for (class = 0; QUICK && class < QUICK_CLASSES; class++)
        for (block = quick_heads[class]; block; block = *hole_next(block), bytes += (class + 1) * GRAIN)
            if (++listed > quick || kind_of(*tag_at(block)) != KIND_QUICK ||
                hole_size(block) != (class + 1) * GRAIN || block < scope_now->floor || !in_heap(block))
                return 0;
    return listed == quick && quick == quick_count && bytes == quick_bytes;
}

/* ---------------------------------------------------------------------------
 * Blocks in use
 */

/* Frees a block in use (or a mark block): merges it with the holes next to
 * it, then gives it back to the tail or keeps it as a hole.  The tail is
 * read before the erase: a tag's store may alias any word, so a read after
 * it would load the tail again, which free's check has just read.  Inlined
 * in free, which nearly every malloc pairs with: called there at -Oz, it
 * made LIFO pairs cost 1.4 times the -O2 build's.  Its other callers share
 * one copy, block_release_shared. */
static INLINE void block_release(uintptr_t block)
{
    tag_t header = *tag_at(block), next;
    uintptr_t end = block + held_size(header), tail = heap_tail;
    tag_erase(block); /* rewritten below, unless it leaves the layout */
    if (header & PREV_FREE) {
        block -= free_size(*tag_at(block - TAG_BYTES));
        hole_remove(block);
    }
    if (end == tail) {
        heap_tail = block;
        quick_tail_check();
        return;
    }
    next = *tag_at(end);
    if (hole_tag(next)) {
        hole_remove(end);
        end += free_size(next);
    } else {
        prev_free_set(end);
    }
    free_block_set(block, end - block);
    CHECK(free_block_whole(block) && !hole_tag(*tag_at(end)));
    hole_add(block);
}

/* block_release for its other callers: realloc's trims and moves, aligned
 * blocks, flushes of quick lists and thread caches, pops, and free itself
 * in a build with thread caches.  Each does more than a call's worth of
 * work besides, and at -Oz a copy in each would cost the whole body again. */
static SHARED void block_release_shared(uintptr_t block) { block_release(block); }

/* Shrinks a block in use to size bytes, releasing the rest, if any, as a
 * block of its own. */
static COLD void block_trim(uintptr_t block, tag_t size)
{
    uintptr_t rest = block_size(block) - size;
    if (!rest)
        return;
    header_resize(block, size);
    header_set(block + size, rest, 0);
    block_release_shared(block + size);
}

/* Grows a block in use to size bytes in place, into the tail or into the
 * free block after it; returns 0 with nothing changed if neither has room. */
static int block_grow(uintptr_t block, tag_t size)
{
    uintptr_t end = block + block_size(block);
    tag_t next;
    if (end == heap_tail) {
        uintptr_t taken = tail_take(size - block_size(block));
        if (taken != end) {
            if (taken) /* past a gap: not in place after all */
                heap_tail = taken;
            return 0;
        }
        header_resize(block, size);
        return 1;
    }
    next = *tag_at(end);
    if (!hole_tag(next) || block_size(block) + free_size(next) < size)
        return 0;
    hole_remove(end);
    end += free_size(next);
    prev_free_clear(end);
    header_resize(block, end - block);
    block_trim(block, size);
    return 1;
}

/* Frees a block, as free does: onto a quick stack, or released.  Inlined
 * in free, its one caller: at -O2 a call more per free costs the fast
 * profile a third of its LIFO time.  Thread caches take most frees before
 * this one (the heap's lock costs more than a call), so it shares
 * block_release's copy there. */
static INLINE void block_free(uintptr_t block)
{
    if (quick_keep(block))
        return;
    if (CACHE)
        block_release_shared(block);
    else
        block_release(block);
}

/* With thread caches, the heap claims a block in use before it frees or
 * resizes it: in one atomic step its tag becomes a quick block's, which a
 * cache's free of the same block (another thread's, which holds no lock)
 * then rejects; 0 if such a free took it first.  A claimed block is read as
 * tag_size reads it, keeps its claim as it is resized, and is released or
 * given back in use (block_unclaim, which returns result). */
static int tag_swap(uintptr_t block, tag_t from, tag_t to)
{
    return __atomic_compare_exchange_n(tag_at(block), &from, to, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}
/* Swaps header, a tag in use, for the quick tag of its size, with its
 * PREV_FREE; 0 if the tag is no longer header. */
static int tag_claim(uintptr_t block, tag_t header)
{
    return tag_swap(block, header, tag_make(used_size(header), QUICK_FLAGS) | (header & PREV_FREE));
}
static int block_claim(uintptr_t block)
{
    tag_t header = *tag_at(block);
    return !CACHE || (!(header & (FREE_BIT | MARK_BIT)) && tag_claim(block, header));
}
static void *block_unclaim(uintptr_t block, void *result)
{
    if (CACHE)
        header_set(block, block_size(block), *tag_at(block) & PREV_FREE);
    return result;
}

/* A block of size bytes in use: a quick block or a hole if one fits, else
 * at the tail (after the quick blocks are released and merged, if memory
 * would have to grow, as a hole may then fit: the loop asks again once,
 * as the flush empties the stacks), else any hole that fits. */
static uintptr_t block_alloc(tag_t size)
{
    uintptr_t block = quick_take(size), hole;
    if (!block) {
        while (!(hole = hole_find(size)) && QUICK_TAGS && !memory_holds(heap_tail + size) && quick_release())
            ;
        if (!hole && !(block = block_append(size, 0)))
            hole = hole_search(size);
        if (hole)
            block = hole_use(hole, size);
    }
    CHECK(!block || (block_in_use(block) && used_size(*tag_at(block)) >= size));
    return block;
}

/* Is p a pointer malloc returned, whose block is in use?  0 for NULL and
 * for anything else (which traps in the debug build, for the reason why).
 * Inlined in free, which every malloc pairs with; the other public
 * functions share one copy at every level (block_of_shared): inlined in
 * realloc and malloc_usable_size, it costs 170 bytes at -O2, for a call
 * less.  A yes rather than the block: free then tests no address for 0. */
static INLINE int block_known(void *p, const char *why)
{
    if (!MALLOC0_CHECKS)
        return p != 0;
    if (block_in_use(block_at(p)))
        return 1;
    if (p)
        reject_input(why);
    return 0;
}

/* The block of a pointer that block_known knows, else 0. */
static __attribute__((noinline)) uintptr_t block_of_shared(void *p, const char *why)
{
    return block_known(p, why) ? block_at(p) : 0;
}

/*
 * Zeroing and copying whole words.  With bulk memory they are memory.fill
 * and memory.copy; without it, plain loops that clang must not turn into
 * calls to memset or memcpy, which a module without libc lacks.  They
 * take the last word if the bytes are not a multiple of 8, then 8 bytes a
 * step: word by word, calloc of a reused block zeroed at half the speed
 * (zeroed_buffers in bench/driver.c took a third longer), and realloc_growth
 * took an eighth longer.  A copy is of a payload, always a word more than a
 * multiple of 8 bytes (blocks are multiples of the grain).
 */
#if defined(__wasm__) && !defined(__wasm_bulk_memory__)
typedef __UINT64_TYPE__ __attribute__((__may_alias__, __aligned__(sizeof(tag_t)))) wide_t;
#define WIDE_BYTES ((uintptr_t)sizeof(wide_t))
_Static_assert(GRAIN % WIDE_BYTES == 0, "a payload is a word more than a multiple of 8 bytes");
__attribute__((no_builtin("memset"))) static void words_zero(uintptr_t to, uintptr_t bytes)
{
    if (bytes % WIDE_BYTES) {
        bytes -= TAG_BYTES;
        *tag_at(to + bytes) = 0;
    }
    for (; bytes; bytes -= WIDE_BYTES, to += WIDE_BYTES)
        *(wide_t *)to = 0;
}
__attribute__((no_builtin("memcpy"))) static void words_copy(uintptr_t to, uintptr_t from, uintptr_t bytes)
{
    bytes -= TAG_BYTES;
    *tag_at(to + bytes) = *tag_at(from + bytes);
    for (; bytes; bytes -= WIDE_BYTES, to += WIDE_BYTES, from += WIDE_BYTES)
        *(wide_t *)to = *(wide_t *)from;
}
#else
static void words_zero(uintptr_t to, uintptr_t bytes) { __builtin_memset((void *)to, 0, bytes); }
static void words_copy(uintptr_t to, uintptr_t from, uintptr_t bytes)
{
    __builtin_memcpy((void *)to, (const void *)from, bytes);
}
#endif

static uintptr_t round_to_word(uintptr_t bytes) { return (bytes + TAG_BYTES - 1) & ~(TAG_BYTES - 1); }

/* ---------------------------------------------------------------------------
 * Thread caches
 *
 * With the heap's lock, two threads on two cores do less than one: each
 * call waits for the lock, and the heap's words move from core to core.  So
 * a thread-safe build keeps CACHE_SLOTS caches of small blocks, each behind
 * a lock of its own that a thread only tries.  A thread's calls go to the
 * cache its stack picks (threads have stacks of their own), and a cache
 * that another thread holds, or that cannot serve the call, sends it to the
 * heap's lock.  A cache keeps, for each block size that requests of up to
 * CACHE_REQUEST_MAX bytes take, up to CACHE_DEPTH freed blocks in an array
 * of its own (no link lies in a freed payload): free pushes, malloc of that
 * size pops.
 *
 * A cached block is a quick block to the heap: the free that caches it
 * swaps its tag from in use to quick in one atomic step, as the heap's
 * claim does (block_claim), so that of two frees of one block only one
 * takes it; malloc swaps it back.  Neither holds the heap's lock, so the
 * heap sets and clears PREV_FREE atomically too, and nothing else writes
 * the tag of a block in use.  As in a quick list, a cached block lies in
 * the current scope and below the tail, and a cache holds at most a 64th of
 * the heap (or CACHE_SHARE_MIN bytes while the heap is small: a 64th of a
 * heap of a few pages would be a handful of blocks, and most frees would
 * take the heap's lock).  Caches are flushed (their blocks released) when
 * memory would have to grow (the caches that the holder of the heap's lock
 * can take), and before anything that takes the whole heap (marks, resets,
 * malloc0_stats, malloc0_check), which takes every cache first.  Unlike
 * quick lists, not when the tail comes down to a cached block: that would
 * empty every cache for one block, and on the threaded workload
 * (bench/threads.c) a fifth of the mallocs would find their cache empty,
 * against a tenth.  Nor is a block refused for lying next to a hole larger
 * than a quick block: there each refusal takes the lock, which two threads
 * then wait for; what the blocks in caches keep apart is bounded by their
 * share, and released with it.
 */
#if CACHE
#define CACHE_SLOTS_LOG2 3
#define CACHE_SLOTS (1 << CACHE_SLOTS_LOG2)
/* Blocks of each size a cache keeps.  A free that finds its stack full,
 * and a malloc that finds it empty, take the heap's lock and the heap's
 * lines from the other core: with 16, two threads of bench/threads.c took
 * it for 134,000 mallocs and as many frees a round of 2 million pairs
 * each, most for full stacks; with 32 (and CACHE_SHARE_MIN 64 KiB), for
 * 24,000-36,000, and did 37 pairs per microsecond against 29 (medians of
 * paired runs), for 8.5 KiB more static data. */
#define CACHE_DEPTH 32
/* Stacks a thread's calls start on lie in one 64 KiB run of addresses (the
 * smallest thread stack emscripten gives); the run picks the cache. */
#define CACHE_STACK_SHIFT 16
#define CACHE_SPREAD 0x9e3779b1u
/* Requests of up to 256 bytes are small: the threaded workload's, and what
 * programs call small.  The largest block a cache keeps is theirs. */
#define CACHE_REQUEST_MAX 256
#define CACHE_MAX BLOCK_FOR(CACHE_REQUEST_MAX)
#define CACHE_CLASSES (CACHE_MAX / GRAIN)
#define CACHE_LINE 64
/* On a small heap, a cache may hold this much all the same: memory grows
 * only after the caches that can be taken are released.  With 16 KiB, the
 * deeper stacks above would be cut short by it. */
#define CACHE_SHARE_MIN 65536

struct cache {
    int lock;
    uintptr_t bytes;
    unsigned char counts[CACHE_CLASSES];
    uintptr_t blocks[CACHE_CLASSES][CACHE_DEPTH];
} __attribute__((aligned(CACHE_LINE)));

static struct cache caches[CACHE_SLOTS];

static int cache_try(struct cache *cache)
{
    int expected = LOCK_FREE;
    return __atomic_compare_exchange_n(&cache->lock, &expected, LOCK_HELD, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
static void cache_drop(struct cache *cache) { __atomic_store_n(&cache->lock, LOCK_FREE, __ATOMIC_RELEASE); }

/* The calling thread's cache.  A broken heap traps here, as at the lock. */
static struct cache *cache_mine(void)
{
    tag_t run = (tag_t)((uintptr_t)__builtin_frame_address(0) >> CACHE_STACK_SHIFT);
    if (lock_state() == LOCK_BROKEN)
        heap_break();
    return &caches[run * CACHE_SPREAD >> (8 * sizeof(tag_t) - CACHE_SLOTS_LOG2)];
}

static unsigned cache_class(uintptr_t size) { return (unsigned)(size / GRAIN) - 1; }
static tag_t tag_read(uintptr_t block) { return __atomic_load_n(tag_at(block), __ATOMIC_RELAXED); }
/* Is tag a cached block's of size bytes, with or without PREV_FREE? */
static int tag_claimed(tag_t tag, uintptr_t size) { return (tag & ~PREV_FREE) == tag_make(size, QUICK_FLAGS); }
/* The tail as the heap's lock holder last moved it. */
static uintptr_t tail_seen(void) { return __atomic_load_n(&heap_tail, __ATOMIC_RELAXED); }

/* The most bytes a cache may hold: a 64th of the heap, or CACHE_SHARE_MIN. */
static uintptr_t cache_share(void)
{
    uintptr_t share = (tail_seen() - HEAP_START) >> QUICK_SHARE_SHIFT;
    return share > CACHE_SHARE_MIN ? share : CACHE_SHARE_MIN;
}

/* Is a block of size bytes below the tail, and not the last?  The tail,
 * which other threads move, never comes down below a block in use. */
static int cache_below_tail(uintptr_t block, uintptr_t size)
{
    return block + size < tail_seen();
}

/* The size of the block a free names if a cache may keep it: a small block
 * in use (as block_in_use checks it), not the last; else 0.  Asked before
 * the cache is taken, so that a free it refuses takes one lock, not two;
 * the size and the tail first, which refuse large blocks and the last at
 * once.  Without checks, free trusts its pointer (MALLOC0_CHECKS=0), and
 * so does the cache: block_in_use reads the header after the block, often
 * another thread's, and in paired runs of bench/threads.c that read alone
 * cost two threads nearly a third of their throughput. */
static uintptr_t cache_fit(uintptr_t block)
{
    uintptr_t size;
    if (!in_heap(block))
        return 0;
    size = used_size(tag_read(block));
    if (size > CACHE_MAX || !cache_below_tail(block, size) || (MALLOC0_CHECKS && !block_in_use(block)))
        return 0;
    return size;
}

/* Keeps a block that cache_fit found of size bytes in the cache, if it has
 * room; 1 if it did.  What a whole-heap call may have changed since
 * cache_fit asked is asked again now that the cache is taken, as none can
 * run: a reset may have left the block above the tail, a mark below the
 * current scope.  The swap fails if the tag changed meanwhile (a free of
 * the same block took it first, or its PREV_FREE changed): then the heap
 * decides. */
static int cache_keep(struct cache *cache, uintptr_t block, uintptr_t size)
{
    unsigned class = cache_class(size);
    tag_t header = tag_read(block);
    if (cache->counts[class] == CACHE_DEPTH || !cache_below_tail(block, size) || block < scope_now->floor ||
        cache->bytes + size > cache_share() ||
        (header & ~PREV_FREE) != tag_make(size, 0) || !tag_claim(block, header))
        return 0;
    cache->blocks[class][cache->counts[class]++] = block;
    cache->bytes += size;
    return 1;
}

/* A cached block of size bytes, tagged in use again (its tag may only have
 * gained or lost PREV_FREE since it was cached: anything else is a write to
 * freed memory, TRUST), or 0. */
static uintptr_t cache_take(struct cache *cache, uintptr_t size)
{
    unsigned class = cache_class(size);
    uintptr_t block;
    tag_t header;
    if (!cache->counts[class])
        return 0;
    block = cache->blocks[class][--cache->counts[class]];
    cache->bytes -= size;
    do {
        header = tag_read(block);
        TRUST(tag_claimed(header, size));
    } while (!tag_swap(block, header, tag_make(size, 0) | (header & PREV_FREE)));
    return block;
}

/* Releases the blocks of the caches it can take (all of them, taken, if
 * held); 1 if there were any.  The caller holds the heap's lock. */
static COLD SHARED int caches_flush(int held)
{
    struct cache *cache;
    int released = 0;
    for (cache = caches; cache < caches + CACHE_SLOTS; cache++) {
        unsigned class;
        if (!held && !cache_try(cache))
            continue;
        for (class = 0; class < CACHE_CLASSES; class++)
            while (cache->counts[class]) {
                uintptr_t block = cache->blocks[class][--cache->counts[class]];
                TRUST(tag_claimed(*tag_at(block), (class + 1) * GRAIN));
                block_release_shared(block);
                released = 1;
            }
        cache->bytes = 0;
        if (!held)
            cache_drop(cache);
    }
    return released;
}

/* Takes every cache, waiting for each in turn (a holder leaves at once), or
 * traps if the heap broke meanwhile; and gives them back. */
static COLD void caches_take(void)
{
    struct cache *cache;
    for (cache = caches; cache < caches + CACHE_SLOTS; cache++)
        while (!cache_try(cache))
            if (lock_state() == LOCK_BROKEN)
                heap_break();
}
static COLD void caches_drop(void)
{
    struct cache *cache;
    for (cache = caches; cache < caches + CACHE_SLOTS; cache++)
        cache_drop(cache);
}

/* A cache whose stack for the size looks empty is not taken: a thread
 * that holds it may push one meanwhile, and the call goes to the heap. */
void *malloc(size_t n)
{
    struct cache *cache;
    uintptr_t size = block_size_for(n), block;
    if (size <= CACHE_MAX && size && (cache = cache_mine())->counts[cache_class(size)] && cache_try(cache)) {
        block = cache_take(cache, size);
        cache_drop(cache);
        if (block)
            return payload_of(block);
    }
    return locked_malloc(n);
}

void free(void *p)
{
    uintptr_t block = block_at(p), size = cache_fit(block);
    struct cache *cache;
    if (size && cache_try(cache = cache_mine())) {
        int kept = cache_keep(cache, block, size);
        cache_drop(cache);
        if (kept)
            return;
    }
    locked_free(p);
}
#else
#if MALLOC0_THREADS
static void caches_take(void) {}
static void caches_drop(void) {}
#endif
static int caches_flush(int held) { return (void)held, 0; }
#endif

/* ---------------------------------------------------------------------------
 * Public functions
 */

void *API(malloc)(size_t n)
{
    tag_t size = block_size_for(n);
    return size ? payload_of(block_alloc(size)) : 0;
}

void API(free)(void *p)
{
    uintptr_t block = block_at(p);
    if (block_known(p, "free" NOT_A_BLOCK) && block_claim(block))
        block_free(block);
}

/*
 * count * each in *n; 1 if it exceeds the largest block (as any product
 * that overflows does).  A 32-bit size_t multiplies in 64 bits.  A 64-bit
 * one would need a 128-bit multiply, in wasm64 a runtime library function
 * that malloc0 does without: two factors below 2^32 cannot overflow, and
 * only a larger one takes a division.
 */
static int product_too_large(size_t count, size_t each, size_t *n)
{
    __UINT64_TYPE__ wide = (__UINT64_TYPE__)count * each;
    *n = (size_t)wide;
    if (sizeof(size_t) < sizeof wide)
        return wide > MAX_BLOCK;
    return (count | each) >> 4 * sizeof(size_t) && each && count > MAX_BLOCK / each;
}

/*
 * Memory above the highest tail so far is zero as memory.grow (or the host)
 * made it, but for one word at that tail: a reset may write a link of the
 * retired chain there, which the tail erases (not to zero) as it passes.
 * Resets and marks only move the tail down, so the bound holds after them.
 */
void *API(calloc)(size_t count, size_t each)
{
    size_t n;
    uintptr_t fresh = peak_tail + TAG_BYTES, payload, end;
    if (product_too_large(count, each, &n))
        return 0;
    payload = (uintptr_t)API(malloc)(n);
    end = payload + round_to_word(n);
    if (payload && payload < fresh)
        words_zero(payload, (end < fresh ? end : fresh) - payload);
    return (void *)payload;
}

/* Moves a block in use to a new one of n bytes, which has room for all of
 * its payload; returns the new payload, or 0 with the block untouched.  The
 * old block is released, never kept quick: its neighbours may merge with
 * it for the larger blocks the program is moving to.  Out of line: the
 * copy outweighs a call. */
static COLD void *block_move(uintptr_t block, size_t n, tag_t have)
{
    void *moved;
    if (!(moved = API(malloc)(n)))
        return 0;
    words_copy((uintptr_t)moved, block + TAG_BYTES, have - TAG_BYTES);
    block_release_shared(block);
    return moved;
}

void *API(realloc)(void *p, size_t n)
{
    uintptr_t block;
    tag_t size, have;
    void *moved;
    if (!p)
        return API(malloc)(n);
    if (!(block = block_of_shared(p, "realloc" NOT_A_BLOCK)) || !(size = block_size_for(n)) || !block_claim(block))
        return 0;
    have = block_size(block);
    if (size <= have) {
        block_trim(block, size);
        return block_unclaim(block, p);
    }
    if (block_grow(block, size))
        return block_unclaim(block, p);
    moved = block_move(block, n, have);
    return moved ? moved : block_unclaim(block, 0);
}

/*
 * An aligned block is cut from a larger one: the lead before the aligned
 * payload becomes a free block of its own (a lead too small for a block
 * grows by one alignment step), and so does the rest after it.
 */
static COLD void *aligned_block(size_t align, size_t n)
{
    tag_t size = block_size_for(n);
    uintptr_t block, lead;
    void *padded;
    if (align <= ALIGN)
        return API(malloc)(n);
    if (!size || n > NO_STALE - align - MIN_BLOCK || !(padded = API(malloc)(n + align + MIN_BLOCK)))
        return 0;
    block = block_at(padded);
    lead = -(block + TAG_BYTES) & (align - 1);
    if (lead && lead < MIN_BLOCK)
        lead += align;
    if (lead) {
        header_set(block + lead, block_size(block) - lead, 0);
        header_resize(block, lead);
        block_release_shared(block);
        block += lead;
    }
    block_trim(block, size);
    return payload_of(block);
}

static int alignment_valid(size_t align)
{
    return align && !(align & (align - 1)) && align <= MALLOC0_MAX_ALIGN;
}

COLD void *API(aligned_alloc)(size_t align, size_t n)
{
    return alignment_valid(align) ? aligned_block(align, n) : 0;
}

void *API(memalign)(size_t align, size_t n) { return API(aligned_alloc)(align, n); }

int API(posix_memalign)(void **out, size_t align, size_t n)
{
    void *p;
    if (!alignment_valid(align) || align % sizeof(void *))
        return MALLOC0_EINVAL;
    if (!(p = aligned_block(align, n)))
        return MALLOC0_ENOMEM;
    *out = p;
    return 0;
}

size_t API(malloc_usable_size)(void *p)
{
    uintptr_t block = block_of_shared(p, "malloc_usable_size" NOT_A_BLOCK);
    return block ? block_size(block) - TAG_BYTES : 0;
}

/* The record in the mark block that ends at mark. */
static struct scope *record_before(uintptr_t mark) { return (struct scope *)(mark - MARK_BLOCK + TAG_BYTES); }

/* The record of the mark that ends at mark; the heap start (and base_scope's
 * floor, 0) has base_scope. */
static struct scope *scope_of_mark(uintptr_t mark)
{
    return mark <= HEAP_START ? &base_scope : record_before(mark);
}

/* Is the block that ends at mark a mark block whose record names it? */
static int mark_block_ends_at(uintptr_t mark)
{
    return (*tag_at(mark - MARK_BLOCK) & ~PREV_FREE) == tag_make(MARK_BLOCK, MARK_BIT) &&
           record_before(mark)->floor == mark;
}

/* Moves the tail down to mark, retiring every block above it, and makes
 * mark's scope current with its holes, all released, forgotten; returns
 * the scope's record. */
static COLD struct scope *reset_to(uintptr_t mark)
{
    struct scope *scope = scope_of_mark(mark);
    TRUST(mark == HEAP_START || mark_block_ends_at(mark));
    quick_forget();
    tail_reset(mark);
    gaps_reset(scope->gaps, mark);
    scope_empty(scope);
    CHECK(heap_tail == mark && (scope == &base_scope || scope->floor == mark));
    return scope;
}

/* An empty heap at HEAP_START, with no retired headers, as a wasm module
 * starts: where malloc0_init starts a native heap (wasm builds leave it out). */
static __attribute__((unused)) void heap_open(void)
{
    heap_tail = base_mark = peak_tail = tail_limit = HEAP_START;
    stale_next = NO_STALE;
    scope_now = &base_scope;
    scope_empty(&base_scope);
    quick_forget();
}

COLD void API(free_all)(void) { reset_to(base_mark); }

/* How many times a mark is taken: free_pop_mark ends the mark when the
 * count comes down to 0, releasing the blocks below it if it is the base
 * mark.  A count that a stray write lowered would end it early, so the
 * count keeps a check word, TAG_KEY - takes * TAKES_SPREAD; it is checked
 * (TRUST) where it counts down.  Being linear, the check word follows each
 * take without reading the count; the odd, bit-rich factor means that a
 * count moved by a few units or one bit wants a check word changed in many
 * bits, which a second stray write of a small value or one bit does not
 * give it. */
#define TAKES_SPREAD ((tag_t)0x85ebca6b)
static int takes_whole(struct scope *scope) { return scope->takes * TAKES_SPREAD + scope->takes_check == TAG_KEY; }
static int takes_live(struct scope *scope) { return scope->takes && takes_whole(scope); }
static void takes_add(struct scope *scope, tag_t n)
{
    scope->takes += n;
    scope->takes_check -= n * TAKES_SPREAD;
}

/* A mark that the tail already sits on, the innermost, is taken once more
 * (at the heap start, base_scope's takes count nothing); else a new mark
 * block at the tail opens a scope inside the current one. */
COLD void *API(free_get_mark)(void)
{
    uintptr_t block;
    struct scope *scope;
    quick_flush(); /* they would be in the scope around the new one */
    if (heap_tail != HEAP_START && heap_tail != scope_now->floor) {
        if (!(block = block_append(MARK_BLOCK, MARK_BIT)))
            return 0;
        scope = (struct scope *)(block + TAG_BYTES);
        scope->gaps = gaps_now();
        scope_begin(scope, heap_tail);
    }
    takes_add(scope_now, 1);
    return (void *)heap_tail;
}

COLD void API(free_all_mark)(void)
{
    void *mark = API(free_get_mark)();
    if (mark)
        base_mark = (uintptr_t)mark;
}

/* Is mark (below the tail) the base mark or the end of a live mark block? */
static int mark_is_live(uintptr_t mark)
{
    if (!MALLOC0_CHECKS || mark == base_mark)
        return 1;
    if (mark < base_mark || mark - base_mark < MARK_BLOCK || !payload_aligned(mark + TAG_BYTES))
        return 0;
    return mark_block_ends_at(mark);
}

COLD void API(free_to_mark)(void *mark)
{
    uintptr_t address = (uintptr_t)mark;
    if (address >= heap_tail || !mark)
        return;
    if (!mark_is_live(address)) {
        reject_input("free_to_mark" NOT_A_MARK);
        return;
    }
    reset_to(address);
}

/* Releases the scope's blocks, then ends one take of its mark; at the last
 * one the mark block goes and the scope around it is current again. */
COLD void API(free_pop_mark)(void *mark)
{
    uintptr_t address = (uintptr_t)mark;
    struct scope *scope;
    if (!mark)
        return;
    if (address > heap_tail || !mark_is_live(address)) {
        reject_input("free_pop_mark" NOT_A_MARK);
        return;
    }
    scope = reset_to(address);
    if (address == HEAP_START)
        return;
    TRUST(takes_whole(scope));
    takes_add(scope, (tag_t)-1);
    if (scope->takes)
        return;
    if (address == base_mark)
        base_mark = HEAP_START;
    scope_end(scope);
    block_release_shared(address - MARK_BLOCK); /* the last block: the tail moves back */
    CHECK(heap_tail <= address - MARK_BLOCK);
}

const char *malloc0_trap_reason(void)
{
    const char *why = trap_reason;
    trap_reason = 0;
    return why;
}

/* ---------------------------------------------------------------------------
 * Diagnostics
 */

/* Does the fast tail's limit hold: at the tail, or above it but no higher
 * than the tail may reach with nothing else to do? */
static int tail_limit_safe(void)
{
    return !MALLOC0_FAST || tail_limit == heap_tail || (tail_limit > heap_tail && tail_limit <= tail_reach());
}

/* Walks the blocks, adding up stats and counting the holes that must be
 * listed and the quick blocks; returns 1 if every tag is consistent and
 * every mark taken. */
static int heap_walk(stats_t *stats, uintptr_t *listed, uintptr_t *quick)
{
    uintptr_t block = HEAP_START;
    int base_found = base_mark == HEAP_START;
    tag_t previous = 0;
    link_t gap = gap_after(FIRST_GAP);
    stats->heap_base = HEAP_START;
    stats->tail = heap_tail;
    stats->base_mark = base_mark;
    stats->peak_tail = peak_tail;
    stats->memory_size = memory_end();
    stats->bytes_in_use = stats->blocks_in_use = stats->bytes_free = 0;
    stats->marks = 0;
    stats->scope_floor = HEAP_START;
    *listed = *quick = 0;
    while (block < heap_tail) {
        tag_t tag = *tag_at(block), size = tag_size(tag);
        enum kind kind = kind_of(tag);
        if (!block_fits(block, size) || !(tag & PREV_FREE) != !hole_tag(previous))
            return 0;
        switch (kind) {
        case KIND_HOLE:
        case KIND_QUICK:
            if (kind == KIND_HOLE ? !free_block_whole(block) || hole_tag(previous) : !QUICK)
                return 0;
            stats->bytes_free += size;
            *listed += kind == KIND_HOLE && hole_listed(size);
            *quick += kind == KIND_QUICK;
            break;
        case KIND_GAP:
            if (!gap_block_consistent(block, block + size, &gap))
                return 0;
            break;
        case KIND_MARK:
            if (!mark_block_ends_at(block + size) || !takes_live(record_before(block + size)))
                return 0;
            stats->marks++;
            stats->scope_floor = block + size;
            break;
        case KIND_IN_USE:
            stats->bytes_in_use += size;
            stats->blocks_in_use++;
            break;
        case KIND_ERASED:
            return 0;
        }
        previous = tag;
        block += size;
        base_found |= block == base_mark && kind == KIND_MARK;
    }
    return base_found && !(previous & FREE_BIT) && heap_tail <= peak_tail &&
           stale_next >= heap_tail && gap == gap_after(gaps_now()) &&
           scope_now->floor <= heap_tail && tail_limit_safe();
}

/* Does the chain of retired headers run up from stale_next to NO_STALE? */
static int stale_chain_consistent(void)
{
    uintptr_t link = stale_next;
    while (link != NO_STALE) {
        uintptr_t next;
        if (link > peak_tail)
            return 0;
        next = stale_step(link, *tag_at(link));
        if (next <= link)
            return 0;
        link = next;
    }
    return 1;
}

COLD int API(malloc0_stats)(stats_t *stats)
{
    uintptr_t listed, quick;
    return heap_walk(stats, &listed, &quick) && holes_consistent(listed, stats->marks) &&
           quick_consistent(quick) && stale_chain_consistent();
}

COLD int API(malloc0_check)(void)
{
    stats_t stats;
    return API(malloc0_stats)(&stats);
}
