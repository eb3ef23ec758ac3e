/* The cost of the benchmark loop itself: an allocator that does nothing.
 * Every block is the same scratch buffer. */
typedef __SIZE_TYPE__ size_t;

#define SCRATCH_BYTES 4096

static char scratch[SCRATCH_BYTES];

void *malloc(size_t n) { return (void)n, scratch; }
void free(void *p) { (void)p; }
