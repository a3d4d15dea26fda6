/*
 * json_strict.h — the one entry point for JSON that comes from outside (request bodies).
 *
 * A first pass over the bytes enforces RFC 8259 grammar and RFC 3629 UTF-8 before json-c
 * builds the tree: only the four JSON white-space characters, the literals true, false and
 * null, numbers as the grammar spells them (no "1.", "01", "-", ".5", "+1", NaN), strings
 * without raw control characters, with only the eight short escapes and \uXXXX (a high
 * surrogate escape must be followed by a low one, a low one must not stand alone), raw
 * bytes that are well-formed UTF-8 (no overlong forms such as C0 AF, no encoded
 * surrogates ED A0 80, nothing above U+10FFFF, no stray continuation bytes), no byte order
 * mark, nesting at most JSON_STRICT_MAX_DEPTH deep, one document and white space after it,
 * and no member name twice in one object (names compared after unescaping).
 * Any of these is "malformed" (400 malformed_json).
 *
 * Then problems that belong to a member (422, naming the member by its path, "title",
 * "location.city", "ids[2]"): a string value or member name holding U+0000 (strings are
 * handed on as C strings; after this check strlen() of a value equals its length), a
 * JSON null where the caller did not allow one, and a number json-c cannot hold (an
 * integer outside the 64-bit range, or one that overflows a double).
 */
#ifndef MK_JSON_STRICT_H
#define MK_JSON_STRICT_H

#include <stddef.h>

#include <json-c/json.h>

#define JSON_STRICT_MAX_DEPTH 32
#define JSON_STRICT_MAX_PROBLEMS 16

struct json_strict_problem {
    char *path;          /* the member, malloc'd */
    const char *problem; /* a phrase for a 422 ("must not contain U+0000"), static */
};

struct json_strict_error {
    char message[160];   /* what is malformed and at which byte offset */
    size_t offset;
    struct json_strict_problem problems[JSON_STRICT_MAX_PROBLEMS];
    size_t nproblems;
};

/*
 * Parse n bytes of s (need not be NUL-terminated). nullable lists the member paths where
 * null is allowed (NULL-terminated; NULL for none). Returns MK_OK with *out (the caller
 * owns it: json_object_put; NULL for a document that is null itself), MK_EMALFORMED with
 * err->message, or MK_EVALIDATION with err->problems (the caller frees them with
 * json_strict_error_free). err may be reused after json_strict_error_free.
 */
int json_strict_parse(const char *s, size_t n, const char *const *nullable, json_object **out,
                      struct json_strict_error *err);

/* Free the paths of err's problems. */
void json_strict_error_free(struct json_strict_error *err);

/* True when the n bytes at s are well-formed UTF-8 (RFC 3629). */
int json_strict_utf8_valid(const char *s, size_t n);

#endif
