/* The cost of the benchmark loop itself: an allocator that does nothing.
 * Every block is the same scratch buffer, large enough for the largest
 * block a workload asks for (a large buffer's 25 MiB). */
typedef __SIZE_TYPE__ size_t;

#define SCRATCH_BYTES ((32 << 20) + 64)

static char scratch[SCRATCH_BYTES];

void *malloc(size_t n) { return (void)n, scratch; }
void *calloc(size_t count, size_t each) { return (void)count, (void)each, scratch; }
void free(void *p) { (void)p; }
void *realloc(void *p, size_t n) { return (void)p, (void)n, scratch; }
