/*
 * malloc0 — a boundary-tagged bump allocator for WebAssembly.
 *
 * A block is a payload framed by two 4-byte tags that both hold the block's
 * size.  The size is a multiple of MALLOC0_ALIGN (at least 4), so the two
 * low bits of a tag are free for flags:
 *
 *        block start                                  block start + size
 *        |                                                           |
 *        v                                                           v
 *        +--------+--------------------------------------+--------+
 *        | header |  payload (aligned to MALLOC0_ALIGN)  | footer |
 *        +--------+--------------------------------------+--------+
 *          size|flags                         header ^ FOOTER_KEY
 *
 *        flags: FREE_BIT  the block is free
 *               MARK_BIT  the block is a mark: tags only, never handed out
 *        a zero tag reads as "in use, size 0": what lies before the heap
 *        and what the allocator erased
 *
 * The heap is a run of blocks from heap_start to the tail, in linear memory
 * from __heap_base to memory.size * 64 KiB:
 *
 *   __heap_base                base_mark                tail       memory end
 *   | lead | used | free | used | mark | used | used |   retired / fresh     |
 *                                      ^ free_get_mark() == tail after a mark
 *
 * malloc bumps the tail.  free marks a block free and merges it with free
 * neighbours, which it finds in O(1) through the header after it and the
 * footer before it; a free block that reaches the tail moves the tail back.
 * free_all and free_to_mark move the tail back to a mark in one step.  A
 * mark is the end of a mark block: since a mark block is never free, no
 * merge can straddle a mark, so the tail can always be set back to one.
 *
 * Retired tags.  free and free_to_mark accept only in-use and mark tags, so
 * such a tag that leaves the layout must leave memory.  A block freed next
 * to a free one erases its header as they merge (one store); a freed header
 * at the new tail is overwritten by the next block or by a reset's link;
 * free headers may linger, as nothing accepts them.  A reset retires many
 * blocks at once: their headers stay above the new tail, linked as a chain
 * by their own sizes from stale_next.  Whenever the tail moves up, it erases
 * the headers of that chain that it passes.  Each header is erased once, so
 * malloc stays O(1) amortized.  A reset links its retired run to the older
 * chain with a skip tag (a plain size) at the old tail; the first chain
 * skips to NO_STALE, above any tail, where every chain ends.
 */
#include "malloc0.h"

/* ---------------------------------------------------------------------------
 * Configuration
 */

/* Payload alignment: 4, 8 or 16.  16 matches clang's max_align_t on wasm32. */
#ifndef MALLOC0_ALIGN
#define MALLOC0_ALIGN 16
#endif

/* With MALLOC0_DEBUG, invalid input traps instead of being ignored. */
#ifdef MALLOC0_DEBUG
#define reject_input() __builtin_trap()
#else
#define reject_input() ((void)0)
#endif

/* ---------------------------------------------------------------------------
 * Layout constants
 */

typedef __UINTPTR_TYPE__ uintptr_t;
/* Tags alias whatever the program stored in that memory before. */
typedef __UINT32_TYPE__ __attribute__((__may_alias__)) tag_t;

#define ALIGN ((uintptr_t)MALLOC0_ALIGN)
#define TAG_BYTES ((uintptr_t)sizeof(tag_t))
#define TAGS_PER_BLOCK_BYTES (2 * TAG_BYTES)
#define FREE_BIT ((tag_t)1)
#define MARK_BIT ((tag_t)2)
#define FLAG_BITS (FREE_BIT | MARK_BIT)
/* The smallest block: two tags, rounded up to the alignment. */
#define MIN_BLOCK (ALIGN > TAGS_PER_BLOCK_BYTES ? ALIGN : TAGS_PER_BLOCK_BYTES)
#define MARK_TAG ((tag_t)MIN_BLOCK | MARK_BIT)
/*
 * A footer is its header with the size bits inverted.  At MALLOC0_ALIGN 4 a
 * footer and the next header share an alignment, so a footer read as a
 * header must be impossible: inverted, a size reads as more than the heap
 * holds.  The flags keep their place in both tags.
 */
#define FOOTER_KEY (~FLAG_BITS)
#define PAGE_SHIFT 16
/* Memory grows by at least 1 / 2^GROW_SHIFT of its current size. */
#define GROW_SHIFT 3
/* Where the chain of retired headers ends: above any tail. */
#define NO_STALE (~(uintptr_t)FLAG_BITS)
/* What memory.grow returns when the host refuses. */
#define GROW_FAILED (~(uintptr_t)0)

_Static_assert(MALLOC0_ALIGN == 4 || MALLOC0_ALIGN == 8 || MALLOC0_ALIGN == 16,
               "MALLOC0_ALIGN must be 4, 8 or 16");
_Static_assert(ALIGN > FLAG_BITS, "flags live in the low bits of sizes");
_Static_assert(MIN_BLOCK % ALIGN == 0, "blocks keep payloads aligned");
_Static_assert(((TAGS_PER_BLOCK_BYTES + ALIGN - 1) & ~(ALIGN - 1)) == MIN_BLOCK,
               "a mark block is an empty block");

/*
 * wasm-ld aligns __heap_base to 16.  The first header sits HEAP_LEAD bytes
 * above it, so that payloads are aligned and a zero word (the lead) reads as
 * an in-use footer before the first block: nothing merges below the heap.
 */
extern unsigned char __heap_base;
#define HEAP_LEAD (MIN_BLOCK - TAG_BYTES)
#define HEAP_START ((uintptr_t)&__heap_base + HEAP_LEAD)

/* ---------------------------------------------------------------------------
 * State
 */

static uintptr_t heap_tail = HEAP_START;
static uintptr_t base_mark = HEAP_START;
static uintptr_t peak_tail = HEAP_START;
static uintptr_t stale_next = NO_STALE;

/* ---------------------------------------------------------------------------
 * Tags and blocks
 */

static tag_t *tag_at(uintptr_t address) { return (tag_t *)address; }

static uintptr_t tag_size(tag_t tag) { return tag & ~FLAG_BITS; }

static tag_t *footer_of(uintptr_t block, tag_t header)
{
    return tag_at(block + tag_size(header) - TAG_BYTES);
}

static void block_set(uintptr_t block, tag_t tag)
{
    *tag_at(block) = tag;
    *footer_of(block, tag) = tag ^ FOOTER_KEY;
}

/* Is this an address where a payload could start? */
static int payload_aligned(uintptr_t address) { return (address & (ALIGN - 1)) == 0; }

/* Is block the start of a block in use now?  Nothing is read before the
 * address is known to lie inside the heap. */
static int block_in_use(uintptr_t block)
{
    tag_t header;
    if (block - HEAP_START >= heap_tail - HEAP_START || !payload_aligned(block + TAG_BYTES))
        return 0;
    header = *tag_at(block);
    if ((header & FLAG_BITS) || header < MIN_BLOCK || header > heap_tail - block)
        return 0;
    return *footer_of(block, header) == (header ^ FOOTER_KEY);
}

/* ---------------------------------------------------------------------------
 * Memory and the tail
 */

/* Makes linear memory reach beyond end (so that a tag fits at the tail),
 * growing it by an eighth or by what is needed, whichever is larger, and by
 * exactly what is needed if the host refuses the larger step. */
static int memory_reach(uintptr_t end)
{
    uintptr_t pages = __builtin_wasm_memory_size(0);
    uintptr_t needed = (end >> PAGE_SHIFT) + 1;
    uintptr_t step = pages >> GROW_SHIFT;
    if (needed <= pages)
        return 1;
    needed -= pages;
    if (step > needed && __builtin_wasm_memory_grow(0, step) != GROW_FAILED)
        return 1;
    return __builtin_wasm_memory_grow(0, needed) != GROW_FAILED;
}

/* Erases the retired headers below end, following their chain. */
static void stale_erase_below(uintptr_t end)
{
    while (stale_next < end) {
        tag_t tag = *tag_at(stale_next);
        *tag_at(stale_next) = 0;
        stale_next += tag_size(tag);
    }
}

/* Moves the tail up to end, or returns 0 with nothing changed. */
static int tail_extend(uintptr_t end)
{
    if (!memory_reach(end))
        return 0;
    stale_erase_below(end);
    if (end > peak_tail)
        peak_tail = end;
    heap_tail = end;
    return 1;
}

/* Moves the tail down to mark, retiring every block above it.  Memory
 * always reaches past the tail, so the link fits there. */
static void tail_reset(uintptr_t mark)
{
    if (stale_next != heap_tail)
        *tag_at(heap_tail) = stale_next - heap_tail;
    stale_next = mark;
    heap_tail = mark;
}

/* Appends a block for n payload bytes with flags at the tail; returns its
 * payload, or 0 with nothing changed. */
static void *block_append(uintptr_t n, tag_t flags)
{
    uintptr_t block = heap_tail;
    tag_t size;
    /* The one overflow check: past it, neither the rounding nor the new
     * tail can wrap around. */
    if (n > NO_STALE - (TAGS_PER_BLOCK_BYTES + ALIGN) - block)
        return 0;
    size = (n + TAGS_PER_BLOCK_BYTES + ALIGN - 1) & ~(ALIGN - 1);
    if (!tail_extend(block + size))
        return 0;
    block_set(block, size | flags);
    return (void *)(block + TAG_BYTES);
}

/* ---------------------------------------------------------------------------
 * Public functions
 */

void *malloc(size_t n) { return block_append(n, 0); }

void free(void *p)
{
    uintptr_t block = (uintptr_t)p - TAG_BYTES;
    uintptr_t end;
    tag_t neighbour;
    if (!p)
        return;
    if (!block_in_use(block)) {
        reject_input();
        return;
    }
    end = block + *tag_at(block);
    neighbour = *tag_at(block - TAG_BYTES) ^ FOOTER_KEY;
    if (neighbour & FREE_BIT) {
        *tag_at(block) = 0;
        block -= tag_size(neighbour);
    }
    if (end == heap_tail) {
        heap_tail = block;
        return;
    }
    neighbour = *tag_at(end);
    if (neighbour & FREE_BIT)
        end += tag_size(neighbour);
    block_set(block, (tag_t)(end - block) | FREE_BIT);
}

void free_all(void) { tail_reset(base_mark); }

void *free_get_mark(void)
{
    if (heap_tail != base_mark && *tag_at(heap_tail - TAG_BYTES) != (MARK_TAG ^ FOOTER_KEY) &&
        !block_append(0, MARK_BIT))
        return 0;
    return (void *)heap_tail;
}

void free_all_mark(void)
{
    void *mark = free_get_mark();
    if (mark)
        base_mark = (uintptr_t)mark;
}

/* Is mark (below the tail) the base mark or the end of a live mark block? */
static int mark_is_live(uintptr_t mark)
{
    if (mark == base_mark)
        return 1;
    if (mark < base_mark || !payload_aligned(mark + TAG_BYTES))
        return 0;
    return *tag_at(mark - TAG_BYTES) == (MARK_TAG ^ FOOTER_KEY) &&
           *tag_at(mark - MIN_BLOCK) == MARK_TAG;
}

void free_to_mark(void *mark)
{
    uintptr_t address = (uintptr_t)mark;
    if (address >= heap_tail)
        return;
    if (!mark_is_live(address)) {
        reject_input();
        return;
    }
    tail_reset(address);
}

/* ---------------------------------------------------------------------------
 * Diagnostics
 */

/* Walks the blocks, adding up stats; returns 1 if every tag is consistent. */
static int heap_walk(struct malloc0_stats *stats)
{
    uintptr_t block = HEAP_START;
    int base_found = base_mark == HEAP_START;
    tag_t previous = 0;
    stats->heap_base = HEAP_START;
    stats->tail = heap_tail;
    stats->base_mark = base_mark;
    stats->peak_tail = peak_tail;
    stats->memory_size = __builtin_wasm_memory_size(0) << PAGE_SHIFT;
    stats->bytes_in_use = stats->blocks_in_use = stats->bytes_free = 0;
    while (block < heap_tail) {
        tag_t tag = *tag_at(block);
        uintptr_t size = tag_size(tag);
        if (size < MIN_BLOCK || size % ALIGN || size > heap_tail - block ||
            *footer_of(block, tag) != (tag ^ FOOTER_KEY) || (tag & FLAG_BITS) == FLAG_BITS ||
            ((tag & MARK_BIT) && size != MIN_BLOCK) || (tag & previous & FREE_BIT))
            return 0;
        if (tag & FREE_BIT) {
            stats->bytes_free += size;
        } else if (!(tag & MARK_BIT)) {
            stats->bytes_in_use += size;
            stats->blocks_in_use++;
        }
        previous = tag;
        block += size;
        base_found |= block == base_mark && (tag & MARK_BIT);
    }
    return base_found && !(previous & FREE_BIT) && heap_tail <= peak_tail &&
           stale_next >= heap_tail;
}

void malloc0_stats(struct malloc0_stats *stats) { heap_walk(stats); }

int malloc0_check(void)
{
    struct malloc0_stats stats;
    uintptr_t link = stale_next;
    if (!heap_walk(&stats))
        return 0;
    while (link != NO_STALE) {
        tag_t tag;
        if (link > peak_tail)
            return 0;
        tag = *tag_at(link);
        if (!tag_size(tag) || tag_size(tag) > NO_STALE - link)
            return 0;
        link += tag_size(tag);
    }
    return 1;
}
