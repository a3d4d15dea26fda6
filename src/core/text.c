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
        /* C1's controls, U+0080..U+009F (NEL, CSI ...), in UTF-8 (s is valid UTF-8: a 0xC2
         * is a lead byte with its continuation next). */
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            return true;
        }
        /* U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR end a line as \n does. */
        if (!multiline && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
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

/* The length in bytes of the white-space character that the n bytes at p are exactly (0: they
 * are not one). A UTF-8 lead byte is never a continuation byte, so the last one to three bytes
 * of a text are tested the same way as its first. */
static size_t
space_len(const unsigned char *p, size_t n)
{
    switch (n) {
    case 1:
        return is_space((char)p[0]) ? 1 : 0;
    case 2: /* U+0085, U+00A0 */
        return p[0] == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0) ? 2 : 0;
    case 3:
        if (p[0] == 0xE2 && p[1] == 0x80) { /* U+2000..U+200A, U+2028, U+2029, U+202F */
            return (p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF ? 3 : 0;
        }
        return (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80) ||   /* U+1680 */
                       (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F) || /* U+205F */
                       (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)    /* U+3000 */
                   ? 3
                   : 0;
    default:
        return 0;
    }
}

/* The length of the white-space character that starts (at_end: ends) the n bytes at p, or 0. */
static size_t
space_edge(const unsigned char *p, size_t n, bool at_end)
{
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        if (space_len(at_end ? p + n - k : p, k) == k) {
            return k;
        }
    }
    return 0;
}

size_t
text_space_prefix(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t at = 0, k;
    while ((k = space_edge(p + at, n - at, false)) > 0) {
        at += k;
    }
    return at;
}

char *
text_trim(arena_t *a, const char *s)
{
    size_t n = strlen(s), k = text_space_prefix(s, n);
    const unsigned char *p = (const unsigned char *)s + k;
    n -= k;
    while ((k = space_edge(p, n, true)) > 0) {
        n -= k;
    }
    return arena_strndup(a, (const char *)p, n);
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
