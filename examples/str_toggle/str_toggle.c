/* Toggles the case of ASCII letters in a NUL-terminated string, in place.
 * JS allocates the string with malloc, calls this, reads it back, frees it. */
#define CASE_BIT 0x20

static int is_ascii_letter(char c)
{
    char lower = (char)(c | CASE_BIT);
    return lower >= 'a' && lower <= 'z';
}

__attribute__((export_name("str_toggle"))) char *str_toggle(char *s)
{
    char *c;
    for (c = s; *c; c++)
        if (is_ascii_letter(*c))
            *c ^= CASE_BIT;
    return s;
}
