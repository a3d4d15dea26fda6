/*
 * fuzz_http — the request as FastCGI hands it over: REQUEST_METHOD, REQUEST_URI (path
 * percent-decoding, query string), QUERY_STRING, HTTP_* headers, cookies, and routing
 * through the real route table (src/routes.c), then the response's serialisation.
 * Input: lines NAME=value (the FastCGI parameters), a blank line, then the body (also
 * fed to http_pct_decode directly).
 *
 * Promises checked:
 *   - a request that initialises cleanly has only RFC 3629 UTF-8 query names and values
 *     (no NUL), at most one parameter per '&'-separated piece;
 *   - cookie names never start with a blank; no name or value holds ';';
 *   - http_header(X) is the HTTP_X parameter (dashes as underscores, upper case);
 *   - router: a match re-spells the path from its pattern and parameters (each one
 *     non-empty, without '/'; a UUID in lower case); a 404 means no pattern of the table
 *     matches; a 405 carries an Allow header without the method asked for;
 *   - http_pct_decode: never longer than its input, no NUL in what it accepts, and the
 *     decoding of a full %XX re-encoding gives the same bytes back;
 *   - the serialised response starts with "Status: " (a 200 with none: nginx's default) and
 *     its header block holds no
 *     control character but the CRLF line ends (no header injection);
 *   - it has a Content-Type line exactly when the answer has a type that the parameter
 *     MARKET_NGINX_CONTENT_TYPE (nginx saying the type itself) does not name.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/http.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/qstr.h"
#include "core/router.h"
#include "routes.h"

#define FUZZ_NAME "http"
#include "fuzz_main.h"

static arena_t *arena;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    arena = arena_create(16384);
    log_init("fuzz", "error");
    return 0;
}

/* Does pattern match path (segment by segment, {x} = one non-empty segment)? */
static int
oracle_match(const char *pattern, const char *path)
{
    while (*pattern != '\0' && *path != '\0') {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');
            size_t seg = strcspn(path, "/");
            if (seg == 0) {
                return 0;
            }
            pattern = close + 1;
            path += seg;
            continue;
        }
        if (*pattern++ != *path++) {
            return 0;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

static void
check_route(struct request *r, int rc)
{
    if (rc >= 0) {
        FUZZ_ASSERT((size_t)rc < routes_count && r->route_index == rc, "the index of the route");
        FUZZ_ASSERT(r->npath_params <= HTTP_MAX_PATH_PARAMS, "path parameters fit");
        const char *method = r->head ? "GET" : r->method;
        FUZZ_ASSERT(strcmp(routes[rc].method, method) == 0, "the route serves the method");
        /* re-spell the path: the pattern with each {param} replaced */
        char *spelt = arena_alloc(r->arena, strlen(r->path) + 1);
        size_t o = 0, k = 0;
        for (const char *p = routes[rc].pattern; *p != '\0';) {
            if (*p == '{') {
                FUZZ_ASSERT(k < r->npath_params, "one value per {param}");
                const char *v = r->path_params[k++];
                FUZZ_ASSERT(*v != '\0' && strchr(v, '/') == NULL, "a parameter is one non-empty segment");
                if (uuid_valid(v)) {
                    FUZZ_ASSERT(strpbrk(v, "ABCDEF") == NULL, "a UUID parameter is folded to lower case");
                }
                FUZZ_ASSERT(o + strlen(v) <= strlen(r->path), "the parameters fit in the path");
                memcpy(spelt + o, v, strlen(v));
                o += strlen(v);
                p = strchr(p, '}') + 1;
            } else {
                FUZZ_ASSERT(o < strlen(r->path) + 1, "the pattern fits in the path");
                spelt[o++] = *p++;
            }
        }
        spelt[o] = '\0';
        FUZZ_ASSERT(k == r->npath_params, "every parameter comes from the pattern");
        FUZZ_ASSERT(strcasecmp(spelt, r->path) == 0, "the route re-spells the path");
        FUZZ_ASSERT(!r->path_folded ? strcmp(spelt, r->path) == 0 : 1, "only a UUID is folded");
    } else if (rc == MK_ENOTFOUND) {
        for (size_t i = 0; i < routes_count; i++) {
            FUZZ_ASSERT(!oracle_match(routes[i].pattern, r->path), "404 only when no pattern matches");
        }
    } else {
        FUZZ_ASSERT(rc == MK_EMETHOD, "router_match: a route, 404 or 405");
        const char *allow = http_response_header(r, "Allow");
        FUZZ_ASSERT(allow != NULL && *allow != '\0', "a 405 has an Allow header");
        const char *method = r->head ? "GET" : r->method;
        char item[64];
        const char *p = allow;
        while (*p != '\0') {
            size_t n = strcspn(p, ",");
            snprintf(item, sizeof(item), "%.*s", (int)n, p);
            FUZZ_ASSERT(strcmp(item, method) != 0, "Allow does not list the method refused");
            p += n;
            while (*p == ',' || *p == ' ') {
                p++;
            }
        }
    }
}

static void
check_pct(const char *body, size_t n)
{
    char *dst = arena_alloc(arena, n + 1);
    for (int plus = 0; plus < 2; plus++) {
        long got = http_pct_decode(dst, body, n, plus);
        if (got < 0) {
            continue;
        }
        FUZZ_ASSERT((size_t)got <= n && strlen(dst) == (size_t)got, "a decoding is no longer, and has no NUL");
        char *enc = arena_alloc(arena, (size_t)got * 3 + 1);
        for (long i = 0; i < got; i++) {
            snprintf(enc + 3 * i, 4, "%%%02X", (unsigned char)dst[i]);
        }
        char *again = arena_alloc(arena, (size_t)got * 3 + 1);
        long back = http_pct_decode(again, enc, (size_t)got * 3, plus);
        FUZZ_ASSERT(back == got && memcmp(again, dst, (size_t)got) == 0, "decode(encode(x)) == x");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = fuzz_strndup(data, size);
    char *env[33];
    size_t nenv = 0;
    char *p = copy, *body = copy + size;
    while (p < copy + size) {
        char *nl = memchr(p, '\n', (size_t)(copy + size - p));
        if (nl == NULL) {
            nl = copy + size;
        }
        *nl = '\0';
        if (p == nl) {
            body = nl + 1 <= copy + size ? nl + 1 : copy + size;
            break;
        }
        if (nenv < 32 && strchr(p, '=') != NULL) {
            env[nenv++] = p;
        }
        p = nl + 1;
    }
    env[nenv] = NULL;
    size_t body_len = (size_t)(copy + size - body);

    struct request r;
    int rc = http_request_init(&r, arena, env, body, body_len);
    FUZZ_ASSERT(rc == MK_OK || rc == MK_EBADPARAM, "http_request_init: OK or 400");
    if (rc == MK_OK) {
        size_t pieces = 1;
        for (const char *c = r.query_string; *c != '\0'; c++) {
            pieces += *c == '&';
        }
        FUZZ_ASSERT(r.nquery <= pieces, "one parameter per piece at most");
        for (size_t i = 0; i < r.nquery; i++) {
            const char *n = r.query[i].name, *v = r.query[i].value;
            FUZZ_ASSERT(fuzz_utf8_ref((const unsigned char *)n, strlen(n)), "query names are UTF-8");
            FUZZ_ASSERT(fuzz_utf8_ref((const unsigned char *)v, strlen(v)), "query values are UTF-8");
        }
        FUZZ_ASSERT(strlen(r.path) <= strcspn(r.raw_uri, "?"), "the path is the decoded part before '?'");
    }
    for (size_t i = 0; i < r.ncookies; i++) {
        FUZZ_ASSERT(r.cookies[i].name[0] != ' ', "cookie names are trimmed");
        FUZZ_ASSERT(strchr(r.cookies[i].name, ';') == NULL && strchr(r.cookies[i].value, ';') == NULL,
                    "cookies split at ';'");
        FUZZ_ASSERT(http_cookie(&r, r.cookies[i].name) != NULL, "a cookie parsed is found by name");
    }
    static const char *const names[] = {"If-Match", "If-None-Match", "Idempotency-Key", "X-Min-Seq", "Cookie",
                                        "Authorization", "Origin", "X-Request-Id"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char key[64] = "HTTP_";
        for (size_t k = 0; names[i][k] != '\0'; k++) {
            key[5 + k] = names[i][k] == '-' ? '_' : (char)toupper((unsigned char)names[i][k]);
        }
        const char *a = http_header(&r, names[i]), *b = http_param(&r, key);
        FUZZ_ASSERT(a == b, "http_header(X) is HTTP_X");
    }
    if (rc == MK_OK) {
        rc = router_match(&r, routes, routes_count);
        check_route(&r, rc);
        if (rc >= 0) {
            rc = http_respond_empty(&r, 204);
        }
    }
    check_pct(body, body_len);

    http_finish(&r, rc);
    size_t out_len;
    char *out = http_serialise(&r, &out_len);
    FUZZ_ASSERT(out_len >= 8 && (memcmp(out, "Status: ", 8) == 0) == (r.status != 200),
                "a response starts with its status, a 200 with none");
    char *end = memmem(out, out_len, "\r\n\r\n", 4);
    FUZZ_ASSERT(end != NULL, "the header block ends with a blank line");
    for (char *c = out; c < end; c++) {
        unsigned char ch = (unsigned char)*c;
        bool crlf = (ch == '\r' && c[1] == '\n') || (ch == '\n' && c > out && c[-1] == '\r');
        FUZZ_ASSERT(crlf || (ch >= 0x20 && ch != 0x7f), "no control character in a response header");
    }
    const char *nginx_type = http_param(&r, "MARKET_NGINX_CONTENT_TYPE");
    bool typed = memcmp(out, "Content-Type: ", 14) == 0 || memmem(out, (size_t)(end - out), "\r\nContent-Type: ", 16);
    FUZZ_ASSERT(typed == (r.out_type != NULL && (nginx_type == NULL || strcmp(nginx_type, r.out_type) != 0)),
                "a Content-Type line unless nginx names the answer's type");
    arena_reset(arena);
    free(copy);
    return 0;
}
