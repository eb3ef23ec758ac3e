/* Test-only exports: the stats struct lives here, outside the heap, so that
 * reading it never allocates. */
#include "../malloc0.h"

static struct malloc0_stats last_stats;

struct malloc0_stats *test_stats(void)
{
    malloc0_stats(&last_stats);
    return &last_stats;
}

/* malloc0_stats' verdict on the heap. */
int test_stats_verdict(void)
{
    return malloc0_stats(&last_stats);
}
