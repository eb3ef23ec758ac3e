/*
 * An ordinary C program for wasm32-wasi: stdio, strdup, qsort over strings,
 * and a chained hash table of 100,000 entries whose buckets grow by realloc;
 * it sets its locale and says goodbye through atexit, which wasi-libc's
 * own code allocates for.
 * It prints a checksum, which must not depend on the allocator: the Makefile
 * builds it with wasi-libc's dlmalloc and with malloc0 in its place.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORD_COUNT 100000
#define WORD_BYTES 16
#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u
#define FIRST_BUCKETS 8
#define MAX_LOAD 2

struct entry {
    char *word;
    unsigned count;
    struct entry *next;
};

static struct entry **buckets;
static size_t bucket_count, entry_count;

static unsigned hash(const char *s)
{
    unsigned h = FNV_OFFSET;
    while (*s)
        h = (h ^ (unsigned char)*s++) * FNV_PRIME;
    return h;
}

/* Doubles the buckets with realloc and moves every entry to its new chain. */
static int grow(void)
{
    size_t old = bucket_count, i;
    size_t count = old ? 2 * old : FIRST_BUCKETS;
    struct entry *all = NULL, *e;
    struct entry **more = realloc(buckets, count * sizeof *more);
    if (!more)
        return 0;
    for (i = 0; i < old; i++)
        while ((e = more[i])) {
            more[i] = e->next;
            e->next = all;
            all = e;
        }
    memset(more, 0, count * sizeof *more);
    buckets = more;
    bucket_count = count;
    while ((e = all)) {
        all = e->next;
        e->next = buckets[hash(e->word) % count];
        buckets[hash(e->word) % count] = e;
    }
    return 1;
}

static struct entry *count_word(const char *word)
{
    struct entry *e;
    if (entry_count >= MAX_LOAD * bucket_count && !grow())
        return NULL;
    for (e = buckets[hash(word) % bucket_count]; e; e = e->next)
        if (!strcmp(e->word, word)) {
            e->count++;
            return e;
        }
    if (!(e = malloc(sizeof *e)) || !(e->word = strdup(word)))
        return NULL;
    e->count = 1;
    e->next = buckets[hash(word) % bucket_count];
    buckets[hash(word) % bucket_count] = e;
    entry_count++;
    return e;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void goodbye(void) { printf("goodbye from atexit\n"); }

/* setlocale, newlocale and atexit: wasi-libc allocates for them through
 * __libc_malloc, __libc_calloc and __libc_free. */
static int set_locale(void)
{
    locale_t utf8 = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
    if (!utf8 || !setlocale(LC_ALL, "C.UTF-8") || atexit(goodbye))
        return 0;
    printf("locale: %s\n", setlocale(LC_CTYPE, NULL));
    freelocale(utf8);
    return 1;
}

int main(void)
{
    char word[WORD_BYTES];
    char **sorted;
    unsigned long checksum = 0;
    size_t i, slot = 0;
    unsigned seed = 12345;
    if (!set_locale() || !grow())
        return 1;
    for (i = 0; i < 2 * WORD_COUNT; i++) {
        seed = seed * 1103515245u + 12345u;
        snprintf(word, sizeof word, "w%u", (seed >> 8) % (WORD_COUNT + WORD_COUNT / 2));
        if (!count_word(word))
            return 1;
    }
    if (!(sorted = calloc(entry_count, sizeof *sorted)))
        return 1;
    for (i = 0; i < bucket_count; i++) {
        struct entry *e;
        for (e = buckets[i]; e; e = e->next)
            sorted[slot++] = e->word;
    }
    qsort(sorted, entry_count, sizeof *sorted, by_text);
    for (i = 0; i < entry_count; i++)
        checksum = checksum * 31 + hash(sorted[i]) + i;
    printf("words: %zu distinct of %d, buckets: %zu\n", entry_count, 2 * WORD_COUNT, bucket_count);
    printf("first: %s, last: %s\n", sorted[0], sorted[entry_count - 1]);
    printf("checksum: %lu\n", checksum);
    for (i = 0; i < bucket_count; i++)
        while (buckets[i]) {
            struct entry *e = buckets[i];
            buckets[i] = e->next;
            free(e->word);
            free(e);
        }
    free(sorted);
    free(buckets);
    return 0;
}
