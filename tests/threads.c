/* Test-only exports for the thread tests: each block's bytes follow a
 * pattern of its own key, written and checked in wasm so that millions of
 * operations stay fast.  No function here uses the C stack, which every
 * thread's instance would share. */
#include "../malloc0.h"

typedef __UINT32_TYPE__ word_t;
typedef word_t __attribute__((__may_alias__)) alias_word_t;

#define WORD ((size_t)sizeof(word_t))
#define SPREAD 0x9e3779b1u

static word_t pattern_word(word_t key, size_t offset) { return key ^ (word_t)(offset * SPREAD); }

/* The pattern's byte at offset. */
static unsigned char pattern_byte(word_t key, size_t offset)
{
    return (unsigned char)(pattern_word(key, offset & ~(WORD - 1)) >> 8 * (offset & (WORD - 1)));
}

/* Writes key's pattern over n bytes at p (p is word-aligned). */
void pattern_fill(unsigned char *p, size_t n, word_t key)
{
    size_t at = 0;
    for (; at + WORD <= n; at += WORD)
        *(alias_word_t *)(p + at) = pattern_word(key, at);
    for (; at < n; at++)
        p[at] = pattern_byte(key, at);
}

/* 0 if the n bytes at p hold key's pattern, else 1 + the first offset that
 * does not. */
size_t pattern_check(const unsigned char *p, size_t n, word_t key)
{
    size_t at = 0;
    for (; at + WORD <= n; at += WORD)
        if (*(const alias_word_t *)(p + at) != pattern_word(key, at))
            break;
    for (; at < n; at++)
        if (p[at] != pattern_byte(key, at))
            return at + 1;
    return 0;
}

/* 0 if the n bytes at p are zero, else 1 + the first offset that is not. */
size_t zero_check(const unsigned char *p, size_t n)
{
    size_t at;
    for (at = 0; at < n; at++)
        if (p[at])
            return at + 1;
    return 0;
}
