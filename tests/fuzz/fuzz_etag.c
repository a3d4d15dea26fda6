/*
 * fuzz_etag — entity-tag lists from clients: If-None-Match against a tag
 * (http_etag_match, core/http.c: 304s of GETs) and If-Match of a listing change
 * (listing_if_match on http_if_match, domain/listing.c and core/http.c: 412s of PATCH and
 * DELETE).
 * Input: a line with an entity tag (our form: a quoted string, maybe "V-hash"), then the
 * header value.
 *
 * Promises checked:
 *   - http_etag_match: true only for "*" or a list that holds the tag (as a quoted
 *     string, W/ ignored); true for every tag of a well-formed list (checked against a
 *     reference parser of RFC 9110's #entity-tag); a tag always matches itself and W/ of
 *     itself;
 *   - listing_if_match: "*" (between blanks) matches every version; any other value that
 *     matches a version is a well-formed list (the reference parser's, empty elements
 *     allowed) holding a tag "V" or "V-…" for that version, and matches no version whose
 *     text it does not hold; the canonical forms "V", W/"V", "V-x" and lists holding one
 *     of them match V; the same list with junk after it matches nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/http.h"
#include "core/log.h"
#include "domain/listing.h"

#define FUZZ_NAME "etag"
#include "fuzz_main.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    log_init("fuzz", "error");
    return 0;
}

/* RFC 9110: entity-tag = [ W/ ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text;
 * a list is tags separated by commas and optional white space. Fills tags (pointers to
 * the opening quote, lengths including both quotes); returns the count, or -1 when the
 * list is not well formed. */
static int
ref_list(const char *s, const char **tags, size_t *lens, int max)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (strncmp(p, "W/", 2) == 0) {
            p += 2;
        }
        if (*p != '"') {
            return -1;
        }
        const char *q = p + 1;
        while (*q != '\0' && *q != '"') {
            unsigned char c = (unsigned char)*q;
            if (!(c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80)) {
                return -1;
            }
            q++;
        }
        if (*q != '"' || n == max) {
            return -1;
        }
        tags[n] = p;
        lens[n] = (size_t)(q + 1 - p);
        n++;
        p = q + 1;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '\0') {
            return n;
        }
        if (*p != ',') {
            return -1;
        }
        p++;
    }
}

static void
check_if_none_match(const char *tag, const char *inm)
{
    bool m = http_etag_match(inm, tag);
    if (m && strchr(inm, '*') == NULL) {
        FUZZ_ASSERT(strstr(inm, tag) != NULL, "a match only for a list that holds the tag");
    }
    FUZZ_ASSERT(!http_etag_match(NULL, tag) && !http_etag_match(inm, NULL), "no header, no match");
    size_t tl = strlen(tag);
    if (tl >= 2 && tag[0] == '"' && memchr(tag + 1, '"', tl - 1) == tag + tl - 1) {
        char *weak = malloc(strlen(tag) + 3);
        sprintf(weak, "W/%s", tag);
        FUZZ_ASSERT(http_etag_match(tag, tag) && http_etag_match(weak, tag), "a tag matches itself, W/ ignored");
        free(weak);
    }
    const char *tags[64];
    size_t lens[64];
    int n = ref_list(inm, tags, lens, 64);
    for (int i = 0; i < n; i++) {
        char *one = strndup(tags[i], lens[i]);
        FUZZ_ASSERT(http_etag_match(inm, one), "every tag of a well-formed list matches");
        free(one);
    }
}

/* Whether s holds, as a tag of its own, "V" or "V-... for version v. */
static bool
holds_version(const char *s, long long v)
{
    char a[32], b[32];
    snprintf(a, sizeof(a), "\"%lld\"", v);
    snprintf(b, sizeof(b), "\"%lld-", v);
    return strstr(s, a) != NULL || strstr(s, b) != NULL;
}

static void
check_if_match(const char *value, long long v)
{
    const char *p = value + strspn(value, " \t");
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }
    bool star = n == 1 && p[0] == '*';
    bool m = listing_if_match(value, v);
    if (star) {
        FUZZ_ASSERT(m && listing_if_match(value, 1), "* matches every version");
        return;
    }
    if (!m) {
        return;
    }
    FUZZ_ASSERT(holds_version(value, v), "a match holds the version's tag");
    /* the list is well formed once its empty elements are dropped */
    char *list = malloc(strlen(value) + 1), *o = list;
    bool in_tag = false, need_comma = false;
    for (const char *c = value; *c != '\0'; c++) {
        if (*c == '"') {
            in_tag = !in_tag;
        }
        if (!in_tag && *c == ',' ) {
            if (need_comma) {
                *o++ = ',';
            }
            need_comma = false;
            continue;
        }
        if (!in_tag && *c == '"') {
            need_comma = true;
        }
        *o++ = *c;
    }
    *o = '\0';
    while (o > list && (o[-1] == ' ' || o[-1] == '\t' || o[-1] == ',')) {
        *--o = '\0';
    }
    static const char *tags[4096];   /* as many as an input can hold ("" and a comma each) */
    static size_t lens[4096];
    FUZZ_ASSERT(ref_list(list, tags, lens, 4096) >= 1, "a match is a well-formed list");
    free(list);
    FUZZ_ASSERT(v == INT64_MAX || !listing_if_match(value, v + 1) || holds_version(value, v + 1),
                "no match for a version the value does not hold");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    char *f[2];
    fuzz_fields(s, '\n', f, 2);
    check_if_none_match(f[0], f[1]);
    check_if_none_match(f[0], f[0]);
    long long in_v = strtoll(f[0] + strspn(f[0], " \t\"W/"), NULL, 10);
    in_v = in_v >= 1 ? in_v : 1;
    check_if_match(f[1], in_v);
    check_if_match(f[0], in_v);

    /* the canonical forms of a version taken from the input's bytes */
    unsigned long long u = 0;
    for (size_t i = 0; i < size && i < 8; i++) {
        u = u << 8 | data[i];
    }
    long long v = (long long)(u % (unsigned long long)INT64_MAX) + 1;
    char buf[96];
    static const char *const forms[] = {"\"%lld\"", "W/\"%lld\"", "\"%lld-abc\"", "  \"%lld\"", "\"x\", \"%lld\"",
                                        "\"%lld\",W/\"y\" ,"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        snprintf(buf, sizeof(buf), forms[i], v);
        FUZZ_ASSERT(listing_if_match(buf, v), "a canonical If-Match");
        strcat(buf, "x");
        FUZZ_ASSERT(!listing_if_match(buf, v), "junk after the list");
    }
    free(s);
    return 0;
}
