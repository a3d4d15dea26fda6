/*
 * fuzz_cursor — the opaque keyset cursors of core/cursor.c (GET /orders, reviews: the
 * binary form; browse and favourites: the JSON form) as a client sends them back.
 * Input: a selector byte, then either the cursor text, or the material of one.
 *
 *   0: the rest is a cursor text: both decoders must refuse it unless it is, byte for
 *      byte, the encoding of what they decoded (one spelling; a forged MAC is refused);
 *   1: the rest gives a key (8 bytes) and a UUID (16 bytes) and a position: encode, then
 *      decode gives the same key and the UUID in lower case; the same cursor for another
 *      scope or another secret is refused; any one character changed is refused;
 *   2: the rest is a JSON text: when it is a strict JSON array of two or more items, its
 *      JSON cursor decodes to the same array (as text), and any one character changed is
 *      refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/errors.h"
#include "core/json_strict.h"
#include "core/log.h"

#define FUZZ_NAME "cursor"
#include "fuzz_main.h"

static arena_t *arena;
static const char *const SECRET = "fuzz-cursor-secret";
static const char *const SCOPE = "orders:buyer:6f1c1a52-1111-4111-8111-111111111111";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    arena = arena_create(16384);
    log_init("fuzz", "error");
    return 0;
}

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The text with character at pos replaced by another base64url character. */
static char *
tampered(const char *text, size_t pos, unsigned char how)
{
    char *t = arena_strdup(arena, text);
    size_t n = strlen(t);
    pos %= n;
    char c = B64URL[how % 64];
    if (c == t[pos]) {
        c = B64URL[(how + 1) % 64];
    }
    t[pos] = c;
    return t;
}

static void
decode_text(const char *text)
{
    long long key;
    char id[UUID_STR_LEN + 1];
    if (cursor_decode(SECRET, SCOPE, text, &key, id) == MK_OK) {
        /* only possible for a cursor we made: it must re-encode to the same text */
        char *again = cursor_encode(arena, SECRET, SCOPE, key, id);
        FUZZ_ASSERT(strcmp(again, text) == 0, "a cursor that decodes re-encodes the same");
    }
    json_object *k;
    if (cursor_decode_json(arena, SECRET, SCOPE, text, &k) == MK_OK) {
        FUZZ_ASSERT(json_object_is_type(k, json_type_array) && json_object_array_length(k) >= 2,
                    "a JSON cursor is an array of two or more");
        char *again = cursor_encode_json(arena, SECRET, SCOPE, k);
        FUZZ_ASSERT(strcmp(again, text) == 0, "a JSON cursor that decodes re-encodes the same");
    }
}

static void
round_trip(const uint8_t *d, size_t n)
{
    uint8_t m[27] = {0};
    memcpy(m, d, n < sizeof(m) ? n : sizeof(m));
    long long key = 0;
    for (int i = 0; i < 8; i++) {
        key = (long long)((unsigned long long)key << 8 | m[i]);
    }
    char id[UUID_STR_LEN + 1];
    snprintf(id, sizeof(id), "%02X%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", m[8], m[9], m[10],
             m[11], m[12], m[13], m[14], m[15], m[16], m[17], m[18], m[19], m[20], m[21], m[22], m[23]);
    char *text = cursor_encode(arena, SECRET, SCOPE, key, id);
    long long key2;
    char id2[UUID_STR_LEN + 1];
    FUZZ_ASSERT(cursor_decode(SECRET, SCOPE, text, &key2, id2) == MK_OK, "a cursor made decodes");
    FUZZ_ASSERT(key2 == key && strcasecmp(id2, id) == 0, "to the same key and id");
    FUZZ_ASSERT(strpbrk(id2, "ABCDEF") == NULL, "the id in lower case");
    FUZZ_ASSERT(cursor_decode(SECRET, "orders:seller:6f1c1a52-1111-4111-8111-111111111111", text, &key2, id2) ==
                    MK_EBADPARAM,
                "another list's cursor is refused");
    FUZZ_ASSERT(cursor_decode("another-secret", SCOPE, text, &key2, id2) == MK_EBADPARAM,
                "a cursor of another secret is refused");
    size_t pos = (size_t)m[24] << 8 | m[25];
    FUZZ_ASSERT(cursor_decode(SECRET, SCOPE, tampered(text, pos, m[26]), &key2, id2) == MK_EBADPARAM,
                "an edited cursor is refused");
    json_object *k;
    FUZZ_ASSERT(cursor_decode_json(arena, SECRET, SCOPE, text, &k) == MK_EBADPARAM, "the forms are not confused");
}

static void
round_trip_json(const uint8_t *d, size_t n)
{
    if (n < 2) {
        return;
    }
    size_t pos = (size_t)d[0] << 8 | d[1];
    /* keys are made by the server from values it holds: strict JSON (json-c's lenient
     * reader takes "1e" for a number it then writes otherwise) */
    json_object *key = NULL;
    struct json_strict_error err;
    int rc = json_strict_parse((const char *)d + 2, n - 2, NULL, &key, &err);
    if (rc == MK_EVALIDATION) {
        json_strict_error_free(&err);
    }
    if (rc != MK_OK || key == NULL || !json_object_is_type(key, json_type_array) || json_object_array_length(key) < 2) {
        json_object_put(key);
        return;
    }
    char *text = cursor_encode_json(arena, SECRET, SCOPE, key);
    json_object *back;
    if (strlen(text) > 1024) {
        /* longer than a cursor may be: refused, whoever made it */
        FUZZ_ASSERT(cursor_decode_json(arena, SECRET, SCOPE, text, &back) == MK_EBADPARAM, "over 1024: refused");
    } else {
        FUZZ_ASSERT(cursor_decode_json(arena, SECRET, SCOPE, text, &back) == MK_OK, "a JSON cursor made decodes");
        /* the same text: what the cursor carries */
        char *k1 = arena_strdup(arena, json_object_to_json_string_ext(key, JSON_C_TO_STRING_PLAIN));
        FUZZ_ASSERT(strcmp(k1, json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN)) == 0,
                    "to the same key");
        FUZZ_ASSERT(cursor_decode_json(arena, SECRET, "search:1:sort=newest", text, &back) == MK_EBADPARAM,
                    "a cursor of other parameters is refused");
        FUZZ_ASSERT(cursor_decode_json(arena, SECRET, SCOPE, tampered(text, pos, d[0] ^ d[1]), &back) == MK_EBADPARAM,
                    "an edited JSON cursor is refused");
    }
    json_object_put(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0: {
        char *text = fuzz_strndup(data + 1, size - 1);
        decode_text(text);
        free(text);
        break;
    }
    case 1:
        round_trip(data + 1, size - 1);
        break;
    default:
        round_trip_json(data + 1, size - 1);
        break;
    }
    arena_reset(arena);
    return 0;
}
