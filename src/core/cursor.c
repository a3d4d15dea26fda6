#include "core/cursor.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"

#define CURSOR_VERSION 1
#define CURSOR_VERSION_JSON 2
#define CURSOR_MAX_TEXT 1024
#define CURSOR_MAC_BYTES 16
#define CURSOR_RAW_BYTES (1 + 8 + 16 + CURSOR_MAC_BYTES)

/* The HMAC state keyed with the last secret seen (a process uses one, the configuration's):
 * hashing the secret and the HMAC's two pad blocks were four of a MAC's six SHA-256 blocks,
 * and a browse page makes one cursor. A longer or another secret is keyed afresh. Per thread,
 * so that a worker running several threads shares nothing. */
static _Thread_local struct {
    char secret[128];
    crypto_auth_hmacsha256_state st;
} keyed;

static void
keyed_state(const char *secret, crypto_auth_hmacsha256_state *st)
{
    size_t n = strlen(secret);
    if (n < sizeof(keyed.secret) && keyed.secret[0] != '\0' && strcmp(keyed.secret, secret) == 0) {
        *st = keyed.st;
        return;
    }
    unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
    crypto_hash_sha256(key, (const unsigned char *)secret, n);
    crypto_auth_hmacsha256_init(st, key, sizeof(key));
    if (n > 0 && n < sizeof(keyed.secret)) {
        memcpy(keyed.secret, secret, n + 1);
        keyed.st = *st;
    }
}

static void
mac_of(const char *secret, const char *scope, const unsigned char *raw, size_t len, unsigned char out[CURSOR_MAC_BYTES])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    keyed_state(secret, &st);
    crypto_auth_hmacsha256_update(&st, raw, len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)scope, strlen(scope));
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, mac, CURSOR_MAC_BYTES);
}

static int
hex_nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* The 16 bytes of a canonical UUID string (validated by the caller). */
static void
uuid_bytes(const char *id, unsigned char out[16])
{
    size_t n = 0;
    for (const char *p = id; *p != '\0' && n < 16; p++) {
        if (*p == '-') {
            continue;
        }
        out[n++] = (unsigned char)(hex_nibble(p[0]) << 4 | hex_nibble(p[1]));
        p++;
    }
}

static void
uuid_text(const unsigned char b[16], char out[UUID_STR_LEN + 1])
{
    snprintf(out, UUID_STR_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static void
raw_of(const char *secret, const char *scope, long long key, const unsigned char id[16],
       unsigned char raw[CURSOR_RAW_BYTES])
{
    raw[0] = CURSOR_VERSION;
    uint64_t k = (uint64_t)key;
    for (int i = 0; i < 8; i++) {
        raw[1 + i] = (unsigned char)(k >> (56 - 8 * i));
    }
    memcpy(raw + 9, id, 16);
    mac_of(secret, scope, raw, 25, raw + 25);
}

char *
cursor_encode(arena_t *a, const char *secret, const char *scope, long long key, const char *id)
{
    unsigned char idb[16], raw[CURSOR_RAW_BYTES];
    uuid_bytes(id, idb);
    raw_of(secret, scope, key, idb, raw);
    size_t len = sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = arena_alloc(a, len);
    sodium_bin2base64(out, len, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

int
cursor_decode(const char *secret, const char *scope, const char *text, long long *key, char id[UUID_STR_LEN + 1])
{
    unsigned char raw[CURSOR_RAW_BYTES];
    size_t rawlen = 0;
    size_t tlen = strlen(text);
    char again[sodium_base64_ENCODED_LEN(CURSOR_RAW_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    if (tlen != sizeof(again) - 1 ||
        sodium_base642bin(raw, sizeof(raw), text, tlen, NULL, &rawlen, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        rawlen != sizeof(raw) || raw[0] != CURSOR_VERSION) {
        return MK_EBADPARAM;
    }
    /* One spelling only: the unused low bits of the last character must be zero. */
    sodium_bin2base64(again, sizeof(again), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    unsigned char mac[CURSOR_MAC_BYTES];
    mac_of(secret, scope, raw, 25, mac);
    if (strcmp(again, text) != 0 || sodium_memcmp(mac, raw + 25, CURSOR_MAC_BYTES) != 0) {
        return MK_EBADPARAM;
    }
    uint64_t k = 0;
    for (int i = 0; i < 8; i++) {
        k = k << 8 | raw[1 + i];
    }
    *key = (long long)k;
    uuid_text(raw + 9, id);
    return MK_OK;
}

static void
destroy_json(void *o)
{
    json_object_put(o);
}

char *
cursor_encode_json(arena_t *a, const char *secret, const char *scope, json_object *key)
{
    const char *json = json_object_to_json_string_ext(key, JSON_C_TO_STRING_PLAIN);
    size_t jlen = strlen(json), rawlen = 1 + jlen + CURSOR_MAC_BYTES;
    unsigned char *raw = arena_alloc(a, rawlen);
    raw[0] = CURSOR_VERSION_JSON;
    memcpy(raw + 1, json, jlen);
    mac_of(secret, scope, raw, 1 + jlen, raw + 1 + jlen);
    size_t len = sodium_base64_ENCODED_LEN(rawlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = arena_alloc(a, len);
    sodium_bin2base64(out, len, raw, rawlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return out;
}

int
cursor_decode_json(arena_t *a, const char *secret, const char *scope, const char *text, json_object **key)
{
    size_t tlen = strlen(text), rawlen = 0;
    *key = NULL;
    if (tlen == 0 || tlen > CURSOR_MAX_TEXT) {
        return MK_EBADPARAM;
    }
    unsigned char *raw = arena_alloc(a, tlen);
    if (sodium_base642bin(raw, tlen, text, tlen, NULL, &rawlen, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        rawlen < 1 + 2 + CURSOR_MAC_BYTES || raw[0] != CURSOR_VERSION_JSON) {
        return MK_EBADPARAM;
    }
    /* One spelling only, as above; then the MAC. */
    size_t alen = sodium_base64_ENCODED_LEN(rawlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *again = arena_alloc(a, alen);
    sodium_bin2base64(again, alen, raw, rawlen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    unsigned char mac[CURSOR_MAC_BYTES];
    mac_of(secret, scope, raw, rawlen - CURSOR_MAC_BYTES, mac);
    if (strcmp(again, text) != 0 || sodium_memcmp(mac, raw + rawlen - CURSOR_MAC_BYTES, CURSOR_MAC_BYTES) != 0) {
        return MK_EBADPARAM;
    }
    char *json = arena_strndup(a, (const char *)raw + 1, rawlen - 1 - CURSOR_MAC_BYTES);
    json_object *k = json_tokener_parse(json);
    if (k == NULL || !json_object_is_type(k, json_type_array) || json_object_array_length(k) < 2) {
        json_object_put(k);
        return MK_EBADPARAM;
    }
    arena_cleanup_add(a, destroy_json, k);
    *key = k;
    return MK_OK;
}

char *
cursor_make(arena_t *a, const char *secret, const char *scope, json_object *key)
{
    json_object *k0 = json_object_array_get_idx(key, 0), *k1 = json_object_array_get_idx(key, 1);
    const char *id = json_object_get_string(k1);
    if (json_object_array_length(key) == 2 && json_object_is_type(k0, json_type_int) &&
        json_object_is_type(k1, json_type_string) && uuid_valid(id) &&
        strspn(id, "0123456789abcdef-") == UUID_STR_LEN) {   /* lower case: it decodes the same */
        return cursor_encode(a, secret, scope, json_object_get_int64(k0), id);
    }
    return cursor_encode_json(a, secret, scope, key);
}

int
cursor_read(arena_t *a, const char *secret, const char *scope, const char *text, json_object **key)
{
    long long k;
    char id[UUID_STR_LEN + 1];
    if (cursor_decode(secret, scope, text, &k, id) == MK_OK) {
        *key = json_object_new_array();
        json_object_array_add(*key, json_object_new_int64(k));
        json_object_array_add(*key, json_object_new_string(id));
        arena_cleanup_add(a, destroy_json, *key);
        return MK_OK;
    }
    return cursor_decode_json(a, secret, scope, text, key);
}
