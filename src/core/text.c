#include "core/text.h"

#include <string.h>

size_t
text_chars(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        n += (*p & 0xC0) != 0x80;
    }
    return n;
}

bool
text_has_control(const char *s, bool multiline)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (multiline && (*p == '\n' || *p == '\r' || *p == '\t')) {
            continue;
        }
        if (*p < 0x20 || *p == 0x7F) {
            return true;
        }
    }
    return false;
}

static bool
is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

char *
text_trim(arena_t *a, const char *s)
{
    while (is_space(*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1])) {
        n--;
    }
    return arena_strndup(a, s, n);
}

const char *
text_check(arena_t *a, const char *s, size_t min, size_t max, bool multiline)
{
    size_t n = text_chars(s);
    if (n < min || n > max) {
        return min > 0 ? arena_sprintf(a, "must be %zu to %zu characters", min, max)
                       : arena_sprintf(a, "must be at most %zu characters", max);
    }
    if (text_has_control(s, multiline)) {
        return multiline ? "must not contain control characters" : "must be one line without control characters";
    }
    return NULL;
}
