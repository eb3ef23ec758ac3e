/* The reference for pure allocation speed: a bump allocator that never
 * frees.  Aligned to 16 like malloc0's default. */
typedef __SIZE_TYPE__ size_t;
typedef __UINTPTR_TYPE__ uintptr_t;

#define ALIGN 16
#define PAGE_SHIFT 16
#define GROW_SHIFT 3

extern unsigned char __heap_base;
static uintptr_t bump_tail = (uintptr_t)&__heap_base;
static uintptr_t last_block;

/* Grows memory by the need or an eighth of the heap, like malloc0. */
static int memory_reach(uintptr_t end)
{
    uintptr_t pages = __builtin_wasm_memory_size(0);
    uintptr_t needed = ((end - 1) >> PAGE_SHIFT) + 1;
    uintptr_t step = (end - (uintptr_t)&__heap_base) >> (PAGE_SHIFT + GROW_SHIFT);
    if (needed <= pages)
        return 1;
    needed -= pages;
    return __builtin_wasm_memory_grow(0, step > needed ? step : needed) != (size_t)-1;
}

void *malloc(size_t n)
{
    uintptr_t p = bump_tail;
    uintptr_t end = p + ((n + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
    if (end < p || !memory_reach(end))
        return 0;
    bump_tail = end;
    last_block = p;
    return (void *)p;
}

void free(void *p) { (void)p; }

/* In place when p is the last block, as any bump allocator can do; else a
 * new block with everything from p up to the old tail copied (the old size
 * is unknown, but that range holds it). */
void *realloc(void *p, size_t n)
{
    uintptr_t from = (uintptr_t)p, old_tail = bump_tail, i;
    char *to;
    if (from && from == last_block) {
        uintptr_t end = from + ((n + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
        if (end < from || !memory_reach(end))
            return 0;
        bump_tail = end;
        return p;
    }
    if (!(to = malloc(n)))
        return 0;
    for (i = 0; from && i < n && from + i < old_tail; i++)
        to[i] = ((char *)p)[i];
    return to;
}
