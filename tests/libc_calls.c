/*
 * C library functions that allocate by names of the C library's own
 * (__libc_malloc, __libc_calloc, __libc_free, emscripten_builtin_malloc)
 * rather than malloc: localtime (its time zone), newlocale and freelocale,
 * and atexit past its static slots.  Built by emcc with -sMALLOC=none over
 * malloc0, and over dlmalloc: both must link, and print the same.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* More handlers than musl's atexit keeps without allocating (32). */
#define HANDLERS 40

static int handlers_run;

static void count_handler(void)
{
    if (++handlers_run == HANDLERS)
        printf("%d exit handlers ran\n", handlers_run);
}

int main(void)
{
    time_t epoch = 0;
    struct tm *local = localtime(&epoch);
    locale_t locale = newlocale(LC_ALL_MASK, "C", 0);
    int i;
    printf("localtime: %d\n", local ? local->tm_year + 1900 : -1);
    printf("newlocale: %s\n", locale ? "a locale" : "NULL");
    if (locale)
        freelocale(locale);
    for (i = 0; i < HANDLERS; i++)
        if (atexit(count_handler))
            printf("atexit %d failed\n", i);
    return 0;
}
