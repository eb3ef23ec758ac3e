/* The first malloc0, for the LIFO comparison (bench/run.mjs runs it on
 * lifo only: it never reuses memory below the tail and has no realloc).
 * Its layout: a size word and a flag word before the payload, a size word
 * after it, sizes rounded to 4; no check that memory.grow succeeded.  free
 * marks the block free and, when it is the last one, moves the tail back
 * over it and over every free block below, one step per block. */
typedef __SIZE_TYPE__ size_t;
typedef __UINTPTR_TYPE__ uintptr_t;

#define WORD ((uintptr_t)sizeof(size_t))
#define ROUND 4
#define PAGE_SHIFT 16
#define USED 0xbf82583au
#define FREE 0xab34d705u

extern unsigned char __heap_base;
static uintptr_t tail = (uintptr_t)&__heap_base;

static size_t *word_at(uintptr_t address) { return (size_t *)address; }

void *malloc(size_t n)
{
    uintptr_t payload, end, memory = __builtin_wasm_memory_size(0) << PAGE_SHIFT;
    n = (n + ROUND - 1) & ~(size_t)(ROUND - 1);
    end = tail + n + 3 * WORD;
    if (end > memory)
        __builtin_wasm_memory_grow(0, (end >> PAGE_SHIFT) - (memory >> PAGE_SHIFT) + 1);
    *word_at(tail) = n;
    *word_at(tail + WORD) = USED;
    payload = tail + 2 * WORD;
    *word_at(payload + n) = n;
    tail = payload + n + WORD;
    return (void *)payload;
}

void free(void *p)
{
    uintptr_t block = (uintptr_t)p - 2 * WORD;
    if (!p || *word_at(block + WORD) != USED)
        return;
    *word_at(block + WORD) = FREE;
    if ((uintptr_t)p + *word_at(block) + WORD != tail)
        return;
    tail = block;
    while (block > (uintptr_t)&__heap_base) {
        uintptr_t before = block - *word_at(block - WORD) - 3 * WORD;
        if (*word_at(before + WORD) != FREE)
            break;
        tail = block = before;
    }
}

void *realloc(void *p, size_t n) { return (void)p, (void)n, (void *)0; }
