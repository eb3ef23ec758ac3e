/*
 * The shadow model (see model.h).  It knows malloc0 only through its API
 * and what malloc0.h promises: block sizes (request + 4 rounded up to the
 * grain, the alignment but at least 8), marks as points in time, and which
 * inputs must leave the heap unchanged.
 */
#define _POSIX_C_SOURCE 200809L
#include "model.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../malloc0.h"

#ifndef MODEL_REGION_BYTES
#define MODEL_REGION_BYTES (16 << 20)
#endif
#ifndef MALLOC0_ALIGN
#define MALLOC0_ALIGN 16
#endif
/* With MALLOC0_CHECKS=0 invalid input is undefined: the model makes none. */
#ifndef MALLOC0_CHECKS
#define MALLOC0_CHECKS 1
#endif

#define HEADER 4
#define GRAIN (MALLOC0_ALIGN > 8 ? MALLOC0_ALIGN : 8)
#define MAX_BLOCKS 512
#define MAX_MARKS 64
#define RECENT 16
#define VERIFY_EVERY 16
#define MAX_ALIGN_LOG2 16
#define EINVAL_CODE 28
#define ENOMEM_CODE 48
#define UNWRITTEN_ONE_IN 4

/* byte: the block's fill, or 0 for a block left as malloc handed it over
 * (a program need not write all it allocates: old tags stay inside). */
struct block {
    unsigned char *p;
    size_t size;
    unsigned char byte;
    unsigned long serial;
};

/* A live mark: taken takes times (free_get_mark at the same tail gives the
 * same mark), at point in the allocation count. */
struct mark {
    void *value;
    unsigned long point;
    unsigned long takes;
};

static _Alignas(16) unsigned char region[MODEL_REGION_BYTES];
static struct block blocks[MAX_BLOCKS];
static size_t block_count;
static unsigned long serial, base_point;
/* Live marks from the oldest; those below base_entry (the base mark's entry,
 * or -1 for the heap start) are shielded: not live while it stands. */
static struct mark marks[MAX_MARKS];
static size_t mark_count;
static long base_entry;
static void *released[RECENT], *stale_marks[RECENT];
static size_t released_size[RECENT];
static unsigned released_at, stale_at;
static uintptr_t heap_base;

/* The input, read a byte at a time; zeros once it runs out. */
static const uint8_t *input, *input_end;

static unsigned next_byte(void) { return input < input_end ? *input++ : 0; }

static void fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "model: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    abort();
}

static struct malloc0_stats stats(void)
{
    struct malloc0_stats s;
    m0_malloc0_stats(&s);
    return s;
}

static size_t block_bytes(size_t n)
{
    return (n + HEADER + GRAIN - 1) / GRAIN * GRAIN;
}

/* Sizes: mostly small, some up to 1 KiB, a few up to 64 KiB, one in 256 a
 * large buffer of 16 KiB to 4 MiB. */
#define LARGE_SIZES 0x3f
#define LARGE_STEP_LOG2 14
static size_t next_size(void)
{
    unsigned high = next_byte(), low = next_byte();
    switch (high >> 6) {
    case 3:
        if ((high & 0x3f) >= LARGE_SIZES)
            return (size_t)(low + 1) << LARGE_STEP_LOG2;
        return ((size_t)(high & 0x3f) << 8 | low) * 4;
    case 2: return (size_t)low << 2 | (high & 3);
    default: return low;
    }
}

/* The model's own loops over blocks of megabytes, left out of libFuzzer's
 * comparison tracing (clang), would otherwise take most of a fuzz run. */
#ifdef __clang__
#define UNTRACED __attribute__((no_sanitize("coverage"), noinline))
#else
#define UNTRACED
#endif

/* The first of the n bytes at p that is not byte, or n: a word at a time. */
UNTRACED static size_t first_other(const unsigned char *p, size_t n, unsigned char byte)
{
    uint64_t pattern = 0x0101010101010101u * byte, word;
    size_t i = 0;
    for (; i + sizeof word <= n; i += sizeof word) {
        memcpy(&word, p + i, sizeof word);
        if (word != pattern)
            break;
    }
    while (i < n && p[i] == byte)
        i++;
    return i;
}

static void verify(const struct block *b)
{
    size_t at = b->byte ? first_other(b->p, b->size, b->byte) : b->size;
    if (at < b->size)
        fail("block %p+%zu overwritten at byte %zu", (void *)b->p, b->size, at);
}

static void verify_all(void)
{
    size_t i;
    for (i = 0; i < block_count; i++)
        verify(&blocks[i]);
}

static long find(const void *p)
{
    size_t i;
    for (i = 0; i < block_count; i++)
        if (blocks[i].p == p)
            return (long)i;
    return -1;
}

/* A new block: inside the region, aligned, overlapping no live block. */
static void add(void *p, size_t size, size_t align, unsigned long block_serial)
{
    unsigned char *at = p;
    size_t span = size ? size : 1, i;
    if (block_count == MAX_BLOCKS)
        fail("model full");
    if (at < region || at + span > region + sizeof region)
        fail("block %p+%zu outside the region", p, size);
    if ((uintptr_t)at % align)
        fail("block %p not aligned to %zu", p, align);
    for (i = 0; i < block_count; i++) {
        const struct block *b = &blocks[i];
        if (at < b->p + (b->size ? b->size : 1) && b->p < at + span)
            fail("block %p+%zu overlaps %p+%zu", p, size, (void *)b->p, b->size);
    }
    blocks[block_count].p = at;
    blocks[block_count].size = size;
    blocks[block_count].serial = block_serial;
    blocks[block_count].byte = block_serial % UNWRITTEN_ONE_IN ? (unsigned char)(1 + block_serial % 255) : 0;
    if (blocks[block_count].byte)
        memset(at, blocks[block_count].byte, size);
    block_count++;
}

static void remember_released(void *p, size_t size)
{
    released_size[released_at % RECENT] = size;
    released[released_at++ % RECENT] = p;
}

static void forget(size_t i)
{
    verify(&blocks[i]);
    remember_released(blocks[i].p, blocks[i].size);
    blocks[i] = blocks[--block_count];
}

/* Forgets every block allocated after point, as a reset to it must. */
static void release_after(unsigned long point)
{
    size_t i = 0;
    while (i < block_count)
        if (blocks[i].serial > point)
            forget(i);
        else
            i++;
}

static void retire_marks_from(size_t first)
{
    while (mark_count > first)
        stale_marks[stale_at++ % RECENT] = marks[--mark_count].value;
}

/* The heap's own figures against the model's. */
static void agree(void)
{
    struct malloc0_stats s = stats();
    uintptr_t top = mark_count ? (uintptr_t)marks[mark_count - 1].value : s.heap_base;
    size_t bytes = 0, above = 0, i;
    for (i = 0; i < block_count; i++) {
        bytes += block_bytes(blocks[i].size);
        above += (uintptr_t)blocks[i].p > top;
    }
    if (s.blocks_in_use != block_count)
        fail("%zu blocks in use, the model has %zu", s.blocks_in_use, block_count);
    if (s.bytes_in_use < bytes || s.bytes_in_use > bytes + (MALLOC0_ALIGN == 4 ? 4 : 0) * block_count)
        fail("%zu bytes in use, the model's blocks need %zu", s.bytes_in_use, bytes);
    /* Freed memory goes back: with nothing in use above the innermost mark,
     * the tail is back at it. */
    if (!above && s.tail != top)
        fail("nothing is in use above %#zx, but the tail is at %#zx", (size_t)top, (size_t)s.tail);
}

/* Runs an input that malloc0.h says must change nothing. */
#define UNCHANGED(call)                                                                  \
    do {                                                                                 \
        struct malloc0_stats before = stats(), after;                                    \
        call;                                                                            \
        after = stats();                                                                 \
        if (memcmp(&before, &after, sizeof before))                                      \
            fail("%s changed the heap", #call);                                          \
    } while (0)

static struct block *pick(void) { return block_count ? &blocks[next_byte() % block_count] : NULL; }

/* Allocating operations wait while the model has no room for three more. */
static int model_full(void) { return block_count + 3 > MAX_BLOCKS; }

static void op_malloc(void)
{
    size_t n = next_size();
    void *p;
    if (model_full())
        return;
    if ((p = m0_malloc(n)))
        add(p, n, MALLOC0_ALIGN, ++serial);
}

static void op_calloc(void)
{
    size_t count = 1 + next_byte() % 8, each = next_size() / 8, i;
    unsigned char *p;
    if (model_full() || !(p = m0_calloc(count, each)))
        return;
    if ((i = first_other(p, count * each, 0)) < count * each)
        fail("calloc(%zu, %zu) byte %zu is %d", count, each, i, p[i]);
    add(p, count * each, MALLOC0_ALIGN, ++serial);
}

/* In place, a block keeps its place in time; moved, it is a new one. */
static void op_realloc(void)
{
    struct block *b = pick(), old;
    size_t n = next_size(), i;
    unsigned char *q;
    if (!b)
        return;
    old = *b;
    verify(b);
    if (!(q = m0_realloc(b->p, n))) {
        verify(b);
        return;
    }
    for (i = 0; old.byte && i < old.size && i < n; i++)
        if (q[i] != old.byte)
            fail("realloc(%p, %zu) lost byte %zu", (void *)old.p, n, i);
    *b = blocks[--block_count];
    add(q, n, MALLOC0_ALIGN, q == old.p ? old.serial : ++serial);
    if (q != old.p)
        remember_released(old.p, old.size);
}

static void op_free(void)
{
    struct block *b = pick();
    if (b) {
        void *p = b->p;
        forget((size_t)(b - blocks));
        m0_free(p);
    }
}

/* The newest block first: frees that reach the tail. */
static void op_free_newest(void)
{
    size_t i, newest = 0;
    void *p;
    if (!block_count)
        return;
    for (i = 1; i < block_count; i++)
        if (blocks[i].serial > blocks[newest].serial)
            newest = i;
    p = blocks[newest].p;
    forget(newest);
    m0_free(p);
}

static void op_aligned(void)
{
    size_t align = (size_t)1 << next_byte() % (MAX_ALIGN_LOG2 + 1), n = next_size();
    int use_memalign = next_byte() & 1;
    void *p;
    if (model_full())
        return;
    if ((p = use_memalign ? m0_memalign(align, n) : m0_aligned_alloc(align, n)))
        add(p, n, align, ++serial);
}

static void op_posix_memalign(void)
{
    size_t align = (size_t)1 << next_byte() % (MAX_ALIGN_LOG2 + 2), n = next_size();
    void *p = NULL;
    int valid = align % sizeof(void *) == 0 && align <= MALLOC0_MAX_ALIGN, result;
    if (model_full())
        return;
    result = m0_posix_memalign(&p, align, n);
    if (!valid && result != EINVAL_CODE)
        fail("posix_memalign(%zu) gave %d, not EINVAL", align, result);
    if (valid && result == 0)
        add(p, n, align, ++serial);
    else if (valid && result != ENOMEM_CODE)
        fail("posix_memalign(%zu, %zu) gave %d", align, n, result);
}

/* A take of the mark at the tail: the newest mark once more, or a new one. */
static void take_mark(void *mark)
{
    if (mark_count && marks[mark_count - 1].value == mark) {
        marks[mark_count - 1].takes++;
        return;
    }
    marks[mark_count].value = mark;
    marks[mark_count].point = serial;
    marks[mark_count++].takes = 1;
}

static size_t first_live_mark(void) { return base_entry < 0 ? 0 : (size_t)base_entry; }

/* A live mark's index, or -1 if none is live. */
static long pick_mark(void)
{
    size_t first = first_live_mark();
    return mark_count > first ? (long)(first + next_byte() % (mark_count - first)) : -1;
}

static void op_get_mark(void)
{
    void *mark;
    if (mark_count == MAX_MARKS)
        return;
    if ((mark = m0_free_get_mark()))
        take_mark(mark);
}

static void op_to_mark(void)
{
    long i = pick_mark();
    if (i < 0)
        return;
    release_after(marks[i].point);
    retire_marks_from((size_t)i + 1);
    m0_free_to_mark(marks[i].value);
}

/* Ends one take of a mark after releasing its scope; the mark at the heap
 * start has no block and stays. */
static void op_pop_mark(void)
{
    long i = pick_mark();
    void *mark;
    if (i < 0)
        return;
    mark = marks[i].value;
    release_after(marks[i].point);
    retire_marks_from((size_t)i + 1);
    if ((uintptr_t)mark != heap_base && !--marks[i].takes) {
        retire_marks_from((size_t)i);
        if (i == base_entry) {
            base_entry = -1;
            base_point = 0;
        }
    }
    m0_free_pop_mark(mark);
}

static void op_free_all(void)
{
    release_after(base_point);
    retire_marks_from(first_live_mark() + (base_entry >= 0));
    m0_free_all();
}

static void op_free_all_mark(void)
{
    struct malloc0_stats s;
    if (mark_count == MAX_MARKS)
        return;
    m0_free_all_mark();
    s = stats();
    if (s.base_mark != s.tail)
        return; /* no room for the mark block */
    if (s.tail == s.heap_base) {
        base_point = serial;
        return;
    }
    take_mark((void *)s.tail);
    base_entry = (long)mark_count - 1;
    base_point = marks[base_entry].point;
}

static void op_usable_size(void)
{
    struct block *b = pick();
    size_t usable;
    if (!b)
        return;
    usable = m0_malloc_usable_size(b->p);
    if (usable < b->size || usable >= b->size + GRAIN)
        fail("usable size %zu for %zu bytes", usable, b->size);
    verify(b);
    if (b->byte)
        memset(b->p + b->size, b->byte, usable - b->size);
    b->size = usable; /* all of it is the block's: the model checks it so */
}

/* Invalid frees: each must leave the heap as it was. */
static void op_bad_free(void)
{
    struct block *b = pick();
    unsigned kind = next_byte() % 8;
    uintptr_t offset = (uintptr_t)(next_byte() << 8 | next_byte()) * 16;
    unsigned char *p;
    if (!MALLOC0_CHECKS)
        return;
    switch (kind) {
    case 0: p = b ? b->p + 1 + next_byte() % (b->size + 1) : NULL; break;
    case 1: p = released[next_byte() % RECENT]; break;
    case 2: p = region + offset % sizeof region; break;
    case 3: p = region + sizeof region + offset; break;
    case 4: p = (unsigned char *)(uintptr_t)-(intptr_t)(offset + 16); break;
    case 5: p = b ? b->p - 4 : NULL; break; /* its header */
    case 6: p = b ? b->p + block_bytes(b->size) - 4 : NULL; break; /* the next header */
    default: p = b ? b->p - MALLOC0_ALIGN : NULL; break;
    }
    if (!p || find(p) >= 0)
        return; /* NULL, or a block in use again: not invalid */
    UNCHANGED(m0_free(p));
    UNCHANGED(m0_realloc(p, 10));
    UNCHANGED(m0_malloc_usable_size(p));
}

/* Three blocks, the first freed: it is free, its footer lies just before
 * the middle one's header, and a pointer to that header must not pass for
 * a block (the footer read as one). */
static void op_footer_probe(void)
{
    size_t n = next_size();
    unsigned char *three[3];
    int i;
    if (model_full())
        return;
    for (i = 0; i < 3; i++) {
        if (!(three[i] = m0_malloc(n)))
            return;
        add(three[i], n, MALLOC0_ALIGN, ++serial);
    }
    forget((size_t)find(three[0]));
    m0_free(three[0]);
    if (MALLOC0_CHECKS && find(three[1] - HEADER) < 0)
        UNCHANGED(m0_free(three[1] - HEADER));
}

/* Marks that are not live: released, made up, a block's address, or below
 * the base mark. */
static void op_bad_mark(void)
{
    struct block *b = pick();
    unsigned kind = next_byte() % 4;
    void *mark;
    size_t i;
    if (!MALLOC0_CHECKS)
        return;
    switch (kind) {
    case 0: mark = stale_marks[next_byte() % RECENT]; break;
    case 1: mark = region + (size_t)(next_byte() << 8 | next_byte()) * 4 % sizeof region; break;
    case 2: mark = first_live_mark() ? marks[next_byte() % first_live_mark()].value : NULL; break;
    default: mark = b ? b->p : NULL; break;
    }
    if (!mark || (uintptr_t)mark == stats().base_mark)
        return;
    for (i = first_live_mark(); i < mark_count; i++)
        if (marks[i].value == mark)
            return; /* live again: not invalid */
    UNCHANGED(m0_free_to_mark(mark));
    UNCHANGED(m0_free_pop_mark(mark));
}

/* Sizes nothing can hold: NULL, and nothing changes. */
static void op_impossible(void)
{
    struct block *b = pick();
    size_t huge = (size_t)-1 - next_byte();
    UNCHANGED(if (m0_malloc(huge)) fail("malloc(%zu) succeeded", huge));
    UNCHANGED(if (m0_calloc(huge / 2, 3)) fail("calloc overflow succeeded"));
    UNCHANGED(if (m0_aligned_alloc(4096, huge)) fail("aligned_alloc(%zu) succeeded", huge));
    if (b)
        UNCHANGED(if (m0_realloc(b->p, huge)) fail("realloc(%zu) succeeded", huge));
}

/*
 * Attacks (model_attacks(1), as the fuzz target runs): now and then one
 * word of freed memory (the tags and links of a recently freed block, or
 * the header after it) or of a live mark's block is overwritten with a
 * value an attacker would choose.  From then on the heap may be corrupt:
 * each operation must trap (natively SIGILL, or SIGSEGV or SIGBUS for a
 * read outside mapped memory), or leave every live block's bytes as they
 * were and hand out no block that overlaps one.  A trap ends the input.
 * malloc0_check, the heap's figures and invalid input are no longer asked.
 */
#define ATTACK_ONE_IN 64
#define TAG_KEY 0x9e3779b8u
static int attacks_on, attacked;
static unsigned long attacks_made, attacks_trapped;
static sigjmp_buf trap_exit;
static const int trap_signals[] = {SIGILL, SIGTRAP, SIGSEGV, SIGBUS};
#define TRAP_SIGNALS (sizeof trap_signals / sizeof trap_signals[0])
static uintptr_t mark_block;

/* A trap after an attack ends the input; one before any is a failure. */
static void on_trap(int signal)
{
    static const char message[] = "model: the heap trapped, unattacked\n";
    (void)signal;
    if (attacked)
        siglongjmp(trap_exit, 1);
    if (write(STDERR_FILENO, message, sizeof message - 1) < 0)
        _exit(1);
    abort();
}

void model_attacks(int on)
{
    struct sigaction action;
    size_t i;
    attacks_on = on;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_trap;
    sigemptyset(&action.sa_mask);
    for (i = 0; on && i < TRAP_SIGNALS; i++)
        sigaction(trap_signals[i], &action, NULL);
}

void model_attack_counts(unsigned long *made, unsigned long *trapped)
{
    *made = attacks_made;
    *trapped = attacks_trapped;
}

/* Does address lie in a live block (header, payload or slack)? */
static int in_live_block(uintptr_t address)
{
    size_t i;
    for (i = 0; i < block_count; i++) {
        uintptr_t start = (uintptr_t)blocks[i].p - HEADER;
        if (address - start < block_bytes(blocks[i].size))
            return 1;
    }
    return 0;
}

/* What an attacker writes over the word v at at. */
static uint32_t attack_value(uintptr_t at, uint32_t v)
{
    const struct block *b = pick();
    uintptr_t live = b ? (uintptr_t)b->p : heap_base;
    uint32_t span = (uint32_t)block_bytes(b ? b->size : 0);
    switch (next_byte() % 12) {
    case 0: return 0;
    case 1: return 1;
    case 2: return v ^ 1; /* FREE_BIT */
    case 3: return v ^ 2; /* MARK_BIT */
    case 4: return v ^ 4; /* PREV_FREE */
    case 5: return v + GRAIN;
    case 6: return v - GRAIN;
    case 7: return (uint32_t)live;
    case 8: return (uint32_t)(live - HEADER);
    case 9: return (uint32_t)at;
    case 10: return span | 1;
    default: return span ^ TAG_KEY;
    }
}

static void op_attack(void)
{
    unsigned where = next_byte(), word = next_byte();
    uintptr_t at;
    if (!attacks_on || next_byte() % ATTACK_ONE_IN)
        return;
    if (where & 1 && mark_count) {
        uintptr_t mark = (uintptr_t)marks[next_byte() % mark_count].value;
        if (mark == heap_base)
            return; /* the heap start's mark has no block */
        at = mark - mark_block + HEADER * (word % (mark_block / HEADER));
    } else {
        unsigned k = next_byte() % RECENT;
        uintptr_t block = (uintptr_t)released[k] - HEADER;
        size_t bytes;
        if (!released[k])
            return;
        bytes = block_bytes(released_size[k]);
        switch (word % 4) {
        case 0: at = block + HEADER * (word / 4 % 4); break; /* header, links */
        case 1: at = block + bytes - HEADER; break;             /* footer */
        case 2: at = block + bytes; break;                      /* the header after it */
        default: at = block + HEADER * (word / 4 % (bytes / HEADER)); break;
        }
    }
    if (at < (uintptr_t)region || at + HEADER > (uintptr_t)region + sizeof region || in_live_block(at))
        return;
    *(uint32_t *)at = attack_value(at, *(uint32_t *)at);
    attacked = 1;
    attacks_made++;
}

static void (*const operations[])(void) = {
    op_malloc, op_malloc, op_malloc, op_calloc, op_realloc, op_free, op_free, op_free_newest,
    op_aligned, op_posix_memalign, op_get_mark, op_to_mark, op_pop_mark, op_pop_mark, op_free_all,
    op_free_all_mark,
    op_usable_size, op_bad_free, op_bad_mark, op_impossible, op_footer_probe, op_attack,
};
/* After an attack, valid calls only (malloc0.h promises nothing of invalid
 * input on a heap a program has already corrupted), and none that the
 * model follows through the heap's figures (they walk the heap) or that
 * asks about a block in use (the heap may now refuse it: ignored). */
static int valid_call(void (*operation)(void))
{
    return operation != op_bad_free && operation != op_bad_mark && operation != op_impossible &&
           operation != op_footer_probe && operation != op_free_all_mark && operation != op_usable_size;
}
#define OPERATION_COUNT (sizeof operations / sizeof operations[0])

/* malloc0_init wants a zero region.  Neither malloc0 nor the model writes
 * above the highest tail but for one tag there, so only that much of the
 * last run's region needs zeroing again. */
static size_t dirty = sizeof region;

/* The size of a mark block, learnt once from a heap. */
static void learn_mark_block(void)
{
    uintptr_t tail;
    m0_malloc0_init(region, sizeof region);
    m0_malloc(1);
    tail = stats().tail;
    m0_free_get_mark();
    mark_block = stats().tail - tail;
}

static void start_heap(void)
{
    if (!mark_block)
        learn_mark_block();
    memset(region, 0, dirty);
    m0_malloc0_init(region, sizeof region);
    heap_base = stats().heap_base;
    block_count = mark_count = 0;
    base_entry = -1;
    serial = base_point = 0;
    released_at = stale_at = 0;
    memset(released, 0, sizeof released);
    memset(stale_marks, 0, sizeof stale_marks);
}

size_t model_run(const uint8_t *bytes, size_t length)
{
    volatile size_t done = 0;
    input = bytes;
    input_end = bytes + length;
    start_heap();
    if (attacks_on && sigsetjmp(trap_exit, 1)) {
        attacks_trapped++;
        attacked = 0;
        dirty = sizeof region;
        return done;
    }
    while (input < input_end) {
        void (*operation)(void) = operations[next_byte() % OPERATION_COUNT];
        if (attacked && !valid_call(operation))
            continue;
        operation();
        done++;
        if (attacked) {
            verify_all();
            continue;
        }
        if (!m0_malloc0_check())
            fail("malloc0_check failed");
        if (done % VERIFY_EVERY == 0) {
            agree();
            verify_all();
        }
    }
    verify_all();
    if (attacked) {
        attacked = 0;
        dirty = sizeof region;
        return done;
    }
    agree();
    dirty = stats().peak_tail + HEADER - (uintptr_t)region;
    if (dirty > sizeof region)
        dirty = sizeof region;
    return done;
}
