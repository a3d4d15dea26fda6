#include "core/html.h"

#include <string.h>

#include <sodium.h>

/* Grow-as-you-go output in the arena: the worst case of each function is known up front. */

char *
html_escape(arena_t *a, const char *s)
{
    if (s == NULL) {
        return arena_strdup(a, "");
    }
    char *out = arena_alloc(a, strlen(s) * 6 + 1);   /* "&quot;" is the longest */
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '&': memcpy(o, "&amp;", 5), o += 5; break;
        case '<': memcpy(o, "&lt;", 4), o += 4; break;
        case '>': memcpy(o, "&gt;", 4), o += 4; break;
        case '"': memcpy(o, "&quot;", 6), o += 6; break;
        case '\'': memcpy(o, "&#39;", 5), o += 5; break;
        default:
            if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f) {
                break;   /* not allowed in HTML text */
            }
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return out;
}

char *
html_json_script(arena_t *a, const char *json)
{
    if (json == NULL) {
        return arena_strdup(a, "null");
    }
    char *out = arena_alloc(a, strlen(json) * 6 + 1);   /* one byte may become \u003c */
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)json; *p != '\0'; p++) {
        if (*p == '<' || *p == '>' || *p == '&') {
            o += sprintf(o, "\\u%04x", *p);
        } else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            o += sprintf(o, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029);
            p += 2;
        } else {
            *o++ = (char)*p;
        }
    }
    *o = '\0';
    return out;
}

char *
html_truncate(arena_t *a, const char *s, size_t max_chars)
{
    if (s == NULL) {
        return arena_strdup(a, "");
    }
    size_t chars = 0, i = 0;
    for (; s[i] != '\0'; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {   /* the first byte of a code point */
            if (chars == max_chars) {
                return arena_sprintf(a, "%.*s…", (int)i, s);
            }
            chars++;
        }
    }
    return arena_strdup(a, s);
}

char *
html_csp_hash(arena_t *a, const char *inline_body)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    char b64[sodium_base64_ENCODED_LEN(sizeof(digest), sodium_base64_VARIANT_ORIGINAL)];
    crypto_hash_sha256(digest, (const unsigned char *)inline_body, strlen(inline_body));
    sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_ORIGINAL);
    return arena_sprintf(a, "'sha256-%s'", b64);
}
