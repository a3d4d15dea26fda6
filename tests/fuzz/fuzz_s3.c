/*
 * fuzz_s3 — SigV4 pre-signing (store/s3_presign.c): the endpoint's parsing
 * (http[s]://host[:port], IPv6 literals, default ports), the bucket and key encoding, and
 * the checks of every signed field. The key of an image is made by the server, but the
 * content type and size of an upload come from the client, and the endpoint, region and
 * credentials from the configuration file.
 * Input: a 21-byte header (flags: path style, content type given, content length given;
 * expires; now; content length), then the fields method, endpoint, region, bucket, key,
 * access key, secret key and content type, one per line.
 *
 * Promises checked for a URL that is made:
 *   - it is printable ASCII without blanks (everything outside A-Z a-z 0-9 -_.~ and the
 *     key's '/' is percent-encoded), with the endpoint's scheme;
 *   - its host is the endpoint's host in lower case (bucket. in front in virtual-host
 *     style), with the port unless it is the scheme's default;
 *   - its path decodes to /bucket/key (path style) or /key;
 *   - its query carries X-Amz-Expires, the signed headers, and ends with a 64-hex
 *     X-Amz-Signature that changes with the secret; signing is deterministic.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/errors.h"
#include "core/http.h"
#include "core/log.h"
#include "store/s3_presign.h"

#define FUZZ_NAME "s3"
#include "fuzz_main.h"

static arena_t *arena;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    arena = arena_create(16384);
    log_init("fuzz", "error");
    return 0;
}

static uint64_t
be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void
check_url(const struct s3_presign *p, const char *url)
{
    for (const char *c = url; *c != '\0'; c++) {
        FUZZ_ASSERT(*c > 0x20 && *c < 0x7f, "the URL is printable ASCII without blanks");
    }
    const char *sep = strstr(p->endpoint, "://");
    bool https = sep - p->endpoint == 5;
    FUZZ_ASSERT(strncmp(url, https ? "https://" : "http://", https ? 8 : 7) == 0, "the endpoint's scheme");
    const char *host = url + (https ? 8 : 7);
    const char *path = strchr(host, '/');
    const char *query = strchr(url, '?');
    FUZZ_ASSERT(path != NULL && query != NULL && path < query, "scheme://host/path?query");

    /* host: the endpoint's, lower case, without a default port */
    const char *auth = sep + 3;
    size_t alen = strlen(auth);
    while (alen > 0 && auth[alen - 1] == '/') {
        alen--;
    }
    char *expect = arena_strndup(arena, auth, alen);
    for (char *c = expect; *c != '\0'; c++) {
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    }
    const char *dflt = https ? ":443" : ":80";
    size_t dlen = strlen(dflt);
    size_t elen = strlen(expect);
    const char *close = strrchr(expect, ']');
    const char *colon = strrchr(expect, ':');
    if (colon != NULL && (close == NULL || colon > close)) {
        /* a port: strip leading zeros as a number would, and drop the default */
        long port = strtol(colon + 1, NULL, 10);
        expect[colon - expect] = '\0';
        if (port != (https ? 443 : 80)) {
            expect = arena_sprintf(arena, "%s:%ld", expect, port);
        }
        elen = strlen(expect);
    }
    (void)dlen;
    if (!p->path_style) {
        expect = arena_sprintf(arena, "%s.%s", p->bucket, expect);
        elen = strlen(expect);
    }
    FUZZ_ASSERT((size_t)(path - host) == elen && memcmp(host, expect, elen) == 0, "the endpoint's host");

    /* path: decodes to /bucket/key or /key */
    size_t plen = (size_t)(query - path);
    char *decoded = arena_alloc(arena, plen + 1);
    FUZZ_ASSERT(http_pct_decode(decoded, path, plen, false) >= 0, "the path decodes");
    char *want = p->path_style ? arena_sprintf(arena, "/%s/%s", p->bucket, p->key) : arena_sprintf(arena, "/%s", p->key);
    FUZZ_ASSERT(strcmp(decoded, want) == 0, "the path is the bucket and the key");

    char *exp = arena_sprintf(arena, "&X-Amz-Expires=%d&", p->expires_s);
    FUZZ_ASSERT(strstr(query, exp) != NULL, "X-Amz-Expires");
    FUZZ_ASSERT(strstr(query, p->content_type != NULL ? "content-type" : "X-Amz") != NULL, "signed headers");
    const char *sig = strstr(query, "&X-Amz-Signature=");
    FUZZ_ASSERT(sig != NULL && strlen(sig) == 17 + 64 && strspn(sig + 17, "0123456789abcdef") == 64,
                "ends with a 64-hex signature");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 21) {
        return 0;
    }
    uint8_t flags = data[0];
    char *s = fuzz_strndup(data + 21, size - 21);
    char *f[8];
    fuzz_fields(s, '\n', f, 8);
    struct s3_presign p = {
        .method = f[0],
        .endpoint = f[1],
        .path_style = flags & 1,
        .region = f[2],
        .bucket = f[3],
        .key = f[4],
        .access_key = f[5],
        .secret_key = f[6],
        .now = (long long)(be(data + 5, 8) % 300000000000ULL),
        .expires_s = (int)(be(data + 1, 4) % 700000),
        .content_type = flags & 2 ? f[7] : NULL,
        .content_length = flags & 4 ? (long long)(be(data + 13, 8) >> 1) : -1,
    };
    char *url;
    int rc = s3_presign_url(arena, &p, &url);
    FUZZ_ASSERT(rc == MK_OK || rc == MK_EBADPARAM, "OK or a bad parameter");
    if (rc == MK_OK) {
        check_url(&p, url);
        char *again;
        FUZZ_ASSERT(s3_presign_url(arena, &p, &again) == MK_OK && strcmp(url, again) == 0, "deterministic");
        struct s3_presign other = p;
        other.secret_key = arena_sprintf(arena, "%sx", p.secret_key);
        FUZZ_ASSERT(s3_presign_url(arena, &other, &again) == MK_OK && strcmp(url, again) != 0,
                    "another secret, another signature");
    } else {
        FUZZ_ASSERT(url == NULL, "no URL on failure");
    }
    arena_reset(arena);
    free(s);
    return 0;
}
