/*
 * text.h — checks of user-supplied text: lengths in characters (UTF-8 code points, which
 * is what API.md's limits count), control characters, trimming. Input is valid UTF-8
 * (the JSON parser validates it).
 */
#ifndef MK_TEXT_H
#define MK_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"

/* Number of code points in the UTF-8 string s. */
size_t text_chars(const char *s);

/* True when s (valid UTF-8) holds a control character (C0, DEL or C1: U+0080..U+009F); tabs
 * and newlines count as control characters unless multiline, and so do U+2028 and U+2029 (line
 * and paragraph separators). */
bool text_has_control(const char *s, bool multiline);

/* A copy of s without leading and trailing white space (Unicode's White_Space: ASCII's six,
 * U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), in the
 * arena. s is UTF-8. */
char *text_trim(arena_t *a, const char *s);

/* How many of the n bytes at s (UTF-8) are white space (text_trim's) from the start: n when
 * they are all blank. */
size_t text_space_prefix(const char *s, size_t n);

/*
 * The common check of a free-text field: trimmed length between min and max characters,
 * no control characters (newlines allowed when multiline). Returns NULL when fine, else a
 * problem phrase for a 422 ("must be 1 to 60 characters") in static storage or the arena.
 */
const char *text_check(arena_t *a, const char *s, size_t min, size_t max, bool multiline);

#endif
