/*
 * malloc0 — a tiny, fast memory allocator for WebAssembly, with mass reset
 * and marks.  MIT licence.
 *
 * Copy malloc0.h and malloc0.c into your project and build with clang:
 *
 *     clang --target=wasm32 -nostdlib -Oz -fno-builtin -c malloc0.c
 *
 * or --target=wasm64 for a 64-bit memory (memory64).  No libc is needed.
 * The heap starts at the linker's __heap_base and grows with memory.grow up
 * to the host's maximum.  Compiled with atomics (-matomics, or emscripten's
 * -pthread), every function is safe to call from any thread (see Threads).
 *
 * Memory shared with the host and other code.  The heap's memory is linear
 * memory from __heap_base to its end when malloc0 first needs memory (its
 * first allocation or mark), and every run of pages malloc0's own
 * memory.grow returns after that.  The host, or a second allocator in the
 * module, may grow memory at any time and use the pages its own grow
 * returned: malloc0 never hands them out, reads or writes them; the heap
 * passes them with a block that is never free.  Nothing else may write the
 * heap's memory.  Memory grown by others before malloc0 first needs memory
 * is taken as the heap's: grow it after the first allocation.  An imported
 * memory must be zero above __heap_base, as a new WebAssembly.Memory is.
 *
 * emscripten: build with -sMALLOC=none and add malloc0.c (emcc -fno-builtin
 * -c malloc0.c).  malloc0 then also defines the names the runtime and its
 * C library allocate by, as emscripten's allocators do
 * (emscripten_builtin_malloc for thread stacks, __libc_malloc for
 * localtime, ...).  There is then no sbrk: the heap is memory from
 * __heap_base up, and after each memory.grow malloc0 calls
 * emscripten_notify_memory_growth, so that the runtime's views of memory
 * (HEAPU8, ...) are renewed.  When memory cannot grow (the module's
 * maximum, or no -sALLOW_MEMORY_GROWTH), malloc0 does as emscripten's own
 * allocators do, through the runtime's emscripten_resize_heap: malloc
 * returns NULL, or, under -sABORTING_MALLOC (the default without
 * -sALLOW_MEMORY_GROWTH), the runtime aborts with "OOM".  With
 * -sABORTING_MALLOC=0 malloc returns NULL there too, to the runtime's own
 * mallocs as well, which use what they get without a check: a NULL thread
 * stack in pthread_create covers memory from address 0, the heap's
 * included.
 *
 * memory64 (--target=wasm64): pointers and size_t are 64 bits, tags stay 32
 * bits, so a block holds less than 2 GiB: malloc(n) with n within 20 bytes
 * of 2 GiB or more returns NULL.  Others may grow at most 2 GiB between two
 * of malloc0's grows; beyond that, malloc0 stops growing (NULL).
 *
 * Configuration (define with -D when compiling malloc0.c):
 *   MALLOC0_CHECKS=0  leaves out the detection of invalid input (the rows
 *                   marked "ignored" and "trap" in the table below), for
 *                   programs that only free what they allocated and reset
 *                   only to live marks.  Valid programs behave the same:
 *                   OOM and overflow still give NULL, free stays O(1).
 *                   Such invalid input is then undefined.  Default 1.
 *   MALLOC0_ALIGN   4, 8 or 16 (default 16, clang's alignof(max_align_t) on
 *                   wasm32).  Smaller alignments use less memory per block.
 *   MALLOC0_TINY=1  the tiny profile: freed memory is reused only when it
 *                   reaches the tail (stacks, levels, free_all), for the
 *                   smallest code.  The default profile also reuses holes
 *                   freed in any order, through segregated free lists.
 *   MALLOC0_FAST    1 trades code for speed: a fast tail (one compare and
 *                   two stores for a block at the tail) and, in the default
 *                   profile, quick lists: up to 64 small blocks (up to 256
 *                   bytes) freed in the innermost scope wait unmerged in
 *                   stacks of their exact size, for the next request of
 *                   that size: malloc and free then touch no neighbour
 *                   (the block realloc moves from merges at once).
 *                   They all merge at once when memory would have to grow,
 *                   a scope begins or the tail moves back, so a heap whose
 *                   blocks are all freed is empty.
 *                   Default 0.  The optimization level chooses inlining
 *                   only: the same calls give the same heap at -O2 and at
 *                   -Oz, for every setting.
 *   MALLOC0_DEBUG   trap (wasm `unreachable`) on every invalid input listed
 *                   below, instead of ignoring it, and where one of the
 *                   heap's invariants breaks (after merges, splits,
 *                   unlinks, allocations, resets and pops), after leaving
 *                   the reason for malloc0_trap_reason (below).
 *   MALLOC0_THREADS 1: thread-safe (see Threads).  Default 1 when compiled
 *                   with atomics (clang -matomics, emscripten -pthread),
 *                   else 0: no lock.  Natively, 1 makes a build whose
 *                   waiting threads spin, for tests (ThreadSanitizer).
 *   MALLOC0_THREAD_CACHES=0  a thread-safe build without thread caches
 *                   (see Threads): every call takes the lock, for 900
 *                   to 1,800 bytes less code (make size) and none of the
 *                   caches' static data.  Default 1.
 *   MALLOC0_PREFIX  native builds: a prefix for every name (see below).
 *
 * Build malloc0.c with -fno-builtin (or at least -fno-builtin-malloc and
 * -fno-builtin-free): clang otherwise treats the names malloc and free as the
 * libc functions it knows and may rewrite code around them.
 *
 * Threads.  A module whose instances share one memory, one per thread:
 *
 *     clang --target=wasm32 -nostdlib -O2 -fno-builtin -matomics -mbulk-memory \
 *       -Wl,--no-entry -Wl,--shared-memory -Wl,--import-memory \
 *       -Wl,--max-memory=N -Wl,--export=malloc ... -o app.wasm malloc0.c app.c
 *
 * (wasm-ld refuses to link objects built without atomics into it, so every
 * object takes -matomics -mbulk-memory.)  Every thread instantiates the
 * module over the same WebAssembly.Memory({ initial, maximum: N / 65536,
 * shared: true }); the first instance initializes the static data.  Each
 * thread needs a C stack of its own (the __stack_pointer global) for C code
 * that uses one, as in any threaded wasm program; emscripten and wasi-libc
 * set them up.  malloc0 reads it (it writes nothing there): a thread's
 * stack picks its thread cache (below).
 *   - Each public function runs whole under one lock, a word in linear
 *     memory: the heap is the same as if the calls had come one by one, in
 *     the order the lock gave them.  A block may be freed by any thread.
 *   - Thread caches (the default profile in wasm; not MALLOC0_TINY,
 *     MALLOC0_FAST or MALLOC0_THREAD_CACHES=0): malloc and free of the
 *     blocks of requests of up to 256 bytes first try one of 8 caches, the
 *     one the calling thread's stack picks, each with a lock of its own: a
 *     free keeps the block there (up to 32 of each size, and a 64th of the
 *     heap or 64 KiB, whichever is more), and a malloc of that size takes
 *     it back without the heap's lock.  A cache another thread holds, or
 *     that cannot serve the call, sends it to the heap.  Cached blocks are
 *     free: a second free of one is ignored (the debug build traps), and
 *     they are released to the heap before memory grows, and before marks,
 *     resets, malloc0_stats and malloc0_check, which take every cache
 *     first.  Until then they serve only their size, and the tail stays
 *     above them.
 *   - A thread that finds the lock held spins.  After malloc0_threads_may_wait(1)
 *     (below) it waits (memory.atomic.wait32) after a short spin, and the
 *     release wakes it.  A browser's main thread may not wait: leave it at 0
 *     wherever that thread calls malloc0.  emscripten: built with -pthread
 *     and -sMALLOC=none, malloc0 waits through emscripten_futex_wait, which
 *     spins on the main thread itself.
 *   - Memory others grow, another thread included, at any time: as above,
 *     malloc0 uses only pages its own memory.grow returned.
 *   - Marks and scopes are the heap's, one stack for all threads.  A mark
 *     is the tail when free_get_mark takes it: every block allocated before
 *     it, by any thread, lies below the mark, and no reset or pop to the
 *     mark releases it; every block allocated after it, by any thread, lies
 *     above the mark, and a reset or pop to it releases them all.  So reset
 *     when the threads are done with what they allocated since the mark (a
 *     level that workers loaded, freed when they are idle): a reset while
 *     another thread still uses such a block releases it under that thread.
 *   - The debug build's trap on invalid input comes before the heap
 *     changes and releases the lock: other threads go on, and
 *     malloc0_trap_reason gives the reason of the last trap in any thread.
 *     A trap of the hardened heap, or of a broken invariant in the debug
 *     build, leaves the heap done for, and the lock broken: every later
 *     call, in any thread, traps, and threads waiting for the lock wake
 *     and trap, rather than waiting for it forever.
 *   - Cost: code for the lock and the caches (make size, README); atomic
 *     read-modify-writes, which the single-threaded build does without
 *     (bench/RESULTS.md): two per call that takes the lock (to take it and
 *     give it back), and with caches up to two more in free and realloc
 *     (to claim the block, and to tell the block after it that it is
 *     free); two and an atomic store for a call a cache serves; up to
 *     17.5 KiB of static data for the caches (33.5 KiB with
 *     MALLOC0_ALIGN 4 or 8).
 *
 * Memory cost: a block in use carries one 4-byte tag, its header before the
 * payload; a block's size is its request plus 4, rounded up to the grain:
 * MALLOC0_ALIGN, or 8 at MALLOC0_ALIGN 4 (a header keeps three flags below
 * the size).  So at MALLOC0_ALIGN 16, 0-12 bytes take 16, 13-28 take 32.
 * A free block also keeps its size at its end, in memory that is free
 * anyway.  A mark costs one mark block until it is popped, which holds its
 * scope's free lists: 936 bytes in wasm32 and 1848 in wasm64 (944 and 1856
 * at MALLOC0_ALIGN 16); in the tiny profile 24 bytes (32 at MALLOC0_ALIGN
 * 16, and in wasm64).  Pages others grew cost the heap up to one request's
 * size below them (the block that did not fit there) and at most 32 bytes
 * after them.
 *
 * Invalid input has defined behaviour and never corrupts the heap (with
 * MALLOC0_CHECKS=0, the rows "ignored" and "trap" are undefined instead):
 *
 *   input                                         release      MALLOC0_DEBUG
 *   malloc(n) with n too large for a block:
 *     within 28 bytes of 4 GiB or more (wasm64:
 *     of 2 GiB), or more than memory can hold     NULL         NULL
 *   malloc(n) beyond the host's memory maximum    NULL         NULL
 *   calloc(n, m) with n * m overflowing           NULL         NULL
 *   free(NULL)                                    no-op        no-op
 *   free(p), p not returned by malloc, interior,
 *     misaligned, outside the heap, already freed,
 *     released by free_all/free_to_mark, or a mark  ignored      trap
 *   realloc(p, n) or malloc_usable_size(p), such p NULL / 0     trap
 *   free_to_mark(m), m beyond the tail, or NULL   no-op        no-op
 *   free_to_mark(m), m not a live mark            ignored      trap
 *   free_pop_mark(NULL)                           no-op        no-op
 *   free_pop_mark(m), m not a live mark (popped,
 *     ended by a pop or reset below it, below the
 *     base mark, made up)                         ignored      trap
 *   a write into a freed block (after free or
 *     a reset): its tags, its links, a small
 *     block's link with MALLOC0_FAST              trap         trap
 *   an overflow into the tags after a block
 *     (a freed block's size, the flag that says
 *     the block before is free)                   trap         trap
 *   a write into a mark's record (its scope's
 *     links, lists and count of takes), a gap's
 *     record, or a retired header above the end
 *     of the heap                                 trap         trap
 *
 * The last three rows are the hardened heap: a bug in the program must not
 * turn into a write that an attacker chooses.  Before the allocator trusts
 * a word that a buggy program can write (a free block's header and footer,
 * which must agree, say free and lie inside the heap; the links of a
 * list, whose neighbours must point back at it; a quick block's tags; a
 * record's links, which must lead to a record its mark holds, and its count
 * of takes, which must agree with its check word; a gap record's seal; the
 * retired chain, which only runs up), it checks it, and traps, in every
 * build with checks (wasm `unreachable`, natively SIGILL): the heap is
 * corrupt, nothing in it can be trusted, and in a thread-safe build every
 * later call traps too.
 * Such a trap happens at the operation that reads the word, which may come
 * long after the write.
 * Natively, a corrupted link may instead end the program with SIGSEGV, a
 * read outside mapped memory, before its check; never with a write.
 * tests/attacks.test.mjs and the fuzzer's attacks (tests/native/model.c)
 * write such values one word at a time, the fuzzer several in one run.
 * Not detected: a forged free block whose words all agree (header, footer,
 * links that point back, written by a program that knows the layout); the
 * header of a block in use rewritten as a well-formed header of another
 * size (the key is no secret), which that block's free and realloc then
 * believe; a record rewritten whole, such as a count of takes with a check
 * word to match (small values or flipped bits written into both do not).
 *
 * "Detected" means: the pointer must be the start of a block that is in use
 * now, as its header says, and the word where that block ends must be the
 * end of the heap or the next block's header, which says the block before
 * it is in use; a mark must end a mark block whose record names the mark.
 * Headers that the allocator retires (on merges, on frees at the end, after
 * mass resets, on pops) are erased, so an old pointer or mark never passes:
 * double frees, frees of released blocks and stale marks are always caught.
 * Sizes in headers are scrambled with a fixed key, so zeros, small
 * numbers, small negative numbers, repeated bytes and addresses do not read
 * as headers (tests/forged_pointers.test.mjs frees 1.9 million interior
 * pointers over such data and random words: none passes).  A payload that
 * the program itself filled with a scrambled header before an interior
 * pointer and another one a block's length further on is the one thing the
 * check cannot tell from a block: freeing such a pointer is undefined.
 */
#ifndef MALLOC0_H
#define MALLOC0_H

#ifdef __cplusplus
extern "C" {
#endif

typedef __SIZE_TYPE__ size_t;

/*
 * Native builds (tests, fuzzing, embedded targets) link next to a libc:
 * compile malloc0.c with -DMALLOC0_PREFIX=m0_ and every function below is
 * named m0_malloc, m0_free, ...; callers include malloc0.h with the same
 * define.  In wasm builds the names are plain.
 */
#ifdef MALLOC0_PREFIX
#define MALLOC0_JOIN(prefix, name) prefix##name
#define MALLOC0_EXPAND(prefix, name) MALLOC0_JOIN(prefix, name)
#define MALLOC0_NAME(name) MALLOC0_EXPAND(MALLOC0_PREFIX, name)
#else
#define MALLOC0_NAME(name) name
#endif

#ifndef __wasm__
/*
 * Native builds only: hands malloc0 a region of memory to manage (in wasm
 * the heap is linear memory above __heap_base).  The region must be zero,
 * as a static array or fresh mmap is: calloc relies on it.  Calling it again
 * forgets the old heap and starts anew.  Until the first call, every
 * allocation returns NULL.  A region too small for a block leaves every
 * allocation failing.
 */
void MALLOC0_NAME(malloc0_init)(void *region, size_t bytes);
#endif

/*
 * Allocates n bytes aligned to MALLOC0_ALIGN.  O(1) amortized (see
 * free_all).  malloc(0) returns a unique non-NULL pointer.  A free block
 * that holds n bytes serves the request, wherever it lies and whatever its
 * size (default profile; in the current scope, see free_get_mark); else the
 * block goes at the end of the heap.  The fit: free blocks are kept in size
 * classes, four for every power of two up to the largest block; malloc
 * takes the smallest that fits among the first 8 of the request's own
 * class, else the smallest among the first 8 of the next class that has
 * any (all of which fit): a bit scan and at most 16 blocks looked at.
 * Returns NULL, with the heap unchanged, when n cannot be a block (see the
 * table above) or when memory.grow fails because the host's maximum is
 * reached.  Before it returns NULL for lack of memory, malloc searches all
 * the free blocks of n's class: that path is O(free blocks of the class).
 * Memory grows by a 64th of the heap's size at a time, or by what is
 * needed if more, or by exactly what is needed when that is all the host
 * still allows: memory.grow calls stay logarithmic in the heap's size, and
 * the slack under 1.6% of it.  V8 makes each grow of an unshared memory
 * costly once memory is large, and may collect the whole JS heap at each:
 * beside a JS heap of 120 MiB, each grow takes milliseconds, so that
 * loading 70 MiB of records takes over a second, and several for an
 * allocator that grows memory by each need (bulk_load and
 * bulk_load_js_heap in bench/RESULTS.md).  The heap keeps one tag (4
 * bytes) of memory beyond its last block, so a block never ends exactly at
 * the memory's end.
 *
 * Fragmentation.  No allocator that never moves a block can bound the
 * memory a heap needs beyond its live bytes by less than Robson's
 * M (log2(n) / 2 + 1), for at most M bytes live in blocks of sizes up to n
 * times apart; a fit like this one (the smallest fitting block, roughly)
 * has no better proven bound.  Measured (tests/fragmentation.test.mjs,
 * memory over the most bytes live at once): large buffers of 0.5-2.5 MiB
 * replaced at random, 1.21-1.23 (dlmalloc 1.22); sizes doubling from 64 B
 * to 64 KiB while every other block is freed, 2.19-2.37; an adversary
 * that sees addresses (after Robson; n = 1024, bound 6), 6.12.  The tiny
 * profile reuses memory only at the tail: a program that frees in any
 * other order grows the heap until it runs out (NULL).
 */
void *MALLOC0_NAME(malloc)(size_t n);

/*
 * Frees a block returned by malloc.  O(1): the block merges with free
 * neighbours at once, and a free block that reaches the end of the heap
 * gives its memory back to the end (the "tail"); with MALLOC0_FAST, the
 * small blocks kept waiting (at most 64) then merge too, as plain frees: a
 * bounded amount of work.  A block freed below the innermost mark (default
 * profile) is listed with the scope that holds it, found by stepping out
 * one scope at a time: O(number of marks above the block), O(1) when no
 * mark is.  free(NULL) does nothing; an invalid
 * pointer is ignored (see the table above).
 */
void MALLOC0_NAME(free)(void *p);

/*
 * Releases every block allocated after the base mark at once.  O(1).
 * Initially the base mark is the start of the heap.  Pointers released this
 * way must not be used again; freeing one is detected and ignored.
 *
 * malloc is O(1) amortized rather than worst-case because of this: a reset
 * leaves the retired blocks' tags in memory, and the next allocations that
 * reuse that memory erase them, one store for each tag they cover.
 */
void MALLOC0_NAME(free_all)(void);

/*
 * Takes a mark at the current tail, as free_get_mark does, and makes it the
 * base mark: what was allocated so far survives free_all.  O(1).  Marks
 * below the new base mark are not live while it stands.  If the heap cannot
 * grow for the mark block, the base mark stays where it was.  Its address
 * is malloc0_stats' base_mark, for free_pop_mark.
 */
void MALLOC0_NAME(free_all_mark)(void);

/*
 * Returns the current tail as a mark and opens a scope there.  O(1)
 * (with MALLOC0_FAST, after merging at most 64 waiting blocks).
 * Marks nest like a stack (session, world, level, frame).  Returns NULL if
 * the heap cannot grow for the mark block (free_to_mark(NULL) and
 * free_pop_mark(NULL) do nothing).  When the tail already is a mark (nothing
 * was allocated since it was taken or reset to), that mark is returned and
 * counts as taken once more: each take is ended by one free_pop_mark.  A
 * mark costs a mark block (see "Memory cost" above) until its last take is
 * popped; at an empty heap the mark is the heap start, which needs none.
 *
 * A mark is used in one of two ways:
 *
 *   level loop, a mark that stays:       scratch scope, a mark that ends:
 *     level = free_get_mark();             for (;;) {
 *     for (;;) {                               frame = free_get_mark();
 *         play();                              scratch_work();
 *         free_to_mark(level);                 free_pop_mark(frame);
 *     }                                        spawn_and_despawn();
 *                                          }
 *
 * A scope is kept apart from the memory below its mark: until it ends,
 * blocks come from above the mark only, so that a reset releases all of
 * them, and holes freed below the mark (default profile) wait in the lists
 * of the scope that holds them.  free_pop_mark ends the scope and gives them
 * back at once; a mark that only free_to_mark ever sees keeps them waiting
 * for as long as it lives.  free_all_mark sets the base mark the same way.
 */
void *MALLOC0_NAME(free_get_mark)(void);

/*
 * Releases every block allocated after free_get_mark returned mark; the
 * mark stays live and can be reset to any number of times.  O(1).  Marks
 * taken after mark end.  A mark at or beyond the tail does nothing (all
 * after it is free already).  A mark that is not live — made up, below the
 * base mark, popped, or ended by a reset or pop below it — is ignored (see
 * the table above).
 */
void MALLOC0_NAME(free_to_mark)(void *mark);

/*
 * Releases every block allocated after mark, as free_to_mark does, and ends
 * one take of mark.  At its last take the mark ends: its mark block leaves
 * the heap (the tail moves back over it, and over a free block before it),
 * the mark is stale from then on, and the scope around it is current again
 * with the holes freed in it, as if the scope had never been opened.  Marks
 * taken after mark end too.  Popping the base mark (its last take: the one
 * free_all_mark made) returns the base mark to the heap start, and marks
 * below it are live again.  Popping the heap start, when it is the base
 * mark, is free_all.  O(1).  A mark that is not live is ignored (see the
 * table above).
 */
void MALLOC0_NAME(free_pop_mark)(void *mark);

/*
 * Allocates count * each bytes, all zero.  O(1) apart from the zeroing.
 * NULL when the product overflows, or as for malloc.  Only memory that may
 * have held data is zeroed: memory above the highest tail so far is still
 * as memory.grow made it (zero; an imported memory must be zero above
 * __heap_base, as a new WebAssembly.Memory is).  Reused memory is always
 * zeroed, after free_all and marks too.
 */
void *MALLOC0_NAME(calloc)(size_t count, size_t each);

/*
 * Resizes the block at p to n bytes, keeping the first min(old, n) bytes.
 * realloc(NULL, n) is malloc(n).  realloc(p, 0) shrinks p to an empty block
 * and returns p: it never frees behind the caller's back, and never returns
 * NULL for a valid p.  Shrinking is in place, and the rest becomes free.
 * Growing is in place when p is the last block (the tail moves, memory grows
 * if needed) or when the block after it is free and large enough; otherwise
 * the block moves (allocate, copy, free).  O(1) apart from the copy.  On
 * failure, or for an invalid p (which traps in the debug build), returns
 * NULL and leaves p untouched.
 */
void *MALLOC0_NAME(realloc)(void *p, size_t n);

/* The largest alignment aligned_alloc, memalign and posix_memalign take. */
#define MALLOC0_MAX_ALIGN 65536
/* posix_memalign's errors, as wasi-libc numbers them (errno.h not needed). */
#define MALLOC0_EINVAL 28
#define MALLOC0_ENOMEM 48

/*
 * Allocates n bytes aligned to align, a power of two up to
 * MALLOC0_MAX_ALIGN; NULL for any other align, or as for malloc.  O(1).
 * The padding before an aligned block is not lost: it becomes a free block
 * (or joins the free block before it), and so does any excess after it.
 * The block is freed with free and resized with realloc (which keeps only
 * MALLOC0_ALIGN alignment if it moves the block).
 */
void *MALLOC0_NAME(aligned_alloc)(size_t align, size_t n);

/* The same as aligned_alloc. */
void *MALLOC0_NAME(memalign)(size_t align, size_t n);

/*
 * Stores in *out a block of n bytes aligned to align and returns 0.  Returns
 * MALLOC0_EINVAL (28), *out untouched, unless align is a power of two, a
 * multiple of sizeof(void *) and at most MALLOC0_MAX_ALIGN; MALLOC0_ENOMEM
 * (48) when memory runs out.
 */
int MALLOC0_NAME(posix_memalign)(void **out, size_t align, size_t n);

/*
 * The number of bytes the block at p can hold: at least what was asked for,
 * all of them usable.  0 for NULL and for an invalid p (a trap in the debug
 * build).  O(1).
 */
size_t MALLOC0_NAME(malloc_usable_size)(void *p);

/* Figures about the heap, filled by malloc0_stats.  Addresses are offsets
 * into linear memory; sizes are in bytes and include the 4-byte header. */
struct malloc0_stats {
    size_t heap_base;     /* address of the first block */
    size_t tail;          /* end of the last block: the next malloc goes here */
    size_t base_mark;     /* where free_all resets the tail to */
    size_t peak_tail;     /* highest tail so far */
    size_t memory_size;   /* linear memory size: memory.size * 65536 */
    size_t bytes_in_use;  /* sum of the sizes of blocks in use */
    size_t blocks_in_use; /* number of blocks in use */
    size_t bytes_free;    /* sum of the sizes of free blocks below the tail */
    size_t marks;         /* marks not yet popped (a mark taken twice at one
                           * tail counts once): a scope a program forgot to
                           * end shows here */
    size_t scope_floor;   /* the innermost mark, heap_base if none: blocks
                           * are allocated above it */
};

/* Fills *stats, and returns what malloc0_check would: 1 if the heap is
 * consistent; 0 if not, and then the figures stop where the walk found the
 * first inconsistent tag.  O(n) in the number of blocks: for tests and
 * debugging. */
int MALLOC0_NAME(malloc0_stats)(struct malloc0_stats *stats);

/*
 * Walks every block from the heap base to the tail, the free lists and the
 * retired tags above it, and returns 1 if every tag is consistent (sizes,
 * matching tags, no two adjacent free blocks, base mark on a block
 * boundary, each listed hole where its tags say), 0 otherwise.  O(n): for
 * tests and debugging.
 */
int MALLOC0_NAME(malloc0_check)(void);

/*
 * Why the debug build last trapped, as a NUL-terminated string that names
 * the function and the input ("free: the pointer is not a block in use
 * (...)") or the line and the invariant that broke; NULL if it did not, and
 * in other builds.  Each reason is returned once.  The trap leaves the
 * instance usable for this call: a host catches the trap (in JS a
 * WebAssembly.RuntimeError), then calls it.  Export it with
 * -Wl,--export=malloc0_trap_reason; examples/lib/malloc0.mjs then turns it
 * into the message of the error it throws.
 */
const char *MALLOC0_NAME(malloc0_trap_reason)(void);

/*
 * Thread-safe builds (MALLOC0_THREADS): may a thread that finds the heap's
 * lock held wait for it (memory.atomic.wait32) after spinning briefly?  0,
 * the default: it spins until the lock is free.  The setting holds for
 * every thread, so call it with 1 only when no thread that calls malloc0 is
 * one that may not wait (a browser's main thread, where a wait traps): in
 * Node, or in a browser whose page's own thread never calls malloc0.  Under
 * emscripten the runtime knows which thread may wait, and this changes
 * nothing.
 */
void MALLOC0_NAME(malloc0_threads_may_wait)(int may_wait);

/* malloc0.c defines every function by its plain name: in native builds,
 * these names stand there for the prefixed ones. */
#if defined(MALLOC0_PREFIX) && defined(MALLOC0_SOURCE)
#define malloc0_init MALLOC0_NAME(malloc0_init)
#define malloc MALLOC0_NAME(malloc)
#define free MALLOC0_NAME(free)
#define free_all MALLOC0_NAME(free_all)
#define free_all_mark MALLOC0_NAME(free_all_mark)
#define free_get_mark MALLOC0_NAME(free_get_mark)
#define free_to_mark MALLOC0_NAME(free_to_mark)
#define free_pop_mark MALLOC0_NAME(free_pop_mark)
#define calloc MALLOC0_NAME(calloc)
#define realloc MALLOC0_NAME(realloc)
#define aligned_alloc MALLOC0_NAME(aligned_alloc)
#define memalign MALLOC0_NAME(memalign)
#define posix_memalign MALLOC0_NAME(posix_memalign)
#define malloc_usable_size MALLOC0_NAME(malloc_usable_size)
#define malloc0_stats MALLOC0_NAME(malloc0_stats)
#define malloc0_check MALLOC0_NAME(malloc0_check)
#define malloc0_trap_reason MALLOC0_NAME(malloc0_trap_reason)
#define malloc0_threads_may_wait MALLOC0_NAME(malloc0_threads_may_wait)
#endif

#ifdef __cplusplus
}
#endif

#endif /* MALLOC0_H */
