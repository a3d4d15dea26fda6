/*
 * Hostile input at the edge (issue 18), through nginx: the errors nginx makes itself are
 * JSON with X-Request-Id (raw HTTP/1.1 requests, since a client library would refuse or
 * repair them), routing picks the most specific pattern and answers 405 with the
 * resource's Allow, query strings are UTF-8 with decimal numbers (errors name the
 * parameter), and UUIDs in paths work in any case, reads included.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define fmt itest_fmt

/* The API's error shape, an X-Request-Id of nginx's form, and no HTML. */
static void
assert_api_error(const struct iresp *r, long status, const char *code, const char *what)
{
    cr_assert_eq(r->status, status, "%s: %ld %s", what, r->status, r->body);
    cr_assert_not_null(r->json, "%s: not JSON: %s", what, r->body);
    cr_assert_str_eq(iresp_error_code(r), code, "%s: %s", what, r->body);
    cr_assert_not_null(ijson_str(r->json, "error", "message", NULL), "%s", what);
    cr_assert_null(strstr(r->body, "<html"), "%s", what);
    const char *ct = iresp_header(r, "Content-Type");
    cr_assert(ct != NULL && strncmp(ct, "application/json", 16) == 0, "%s: Content-Type %s", what, ct ? ct : "-");
    const char *id = iresp_header(r, "X-Request-Id");
    cr_assert_not_null(id, "%s: no X-Request-Id", what);
    cr_assert_eq(strlen(id), 32, "%s: X-Request-Id %s", what, id);
    for (const char *p = id; *p; p++) {
        cr_assert(isxdigit((unsigned char)*p), "%s: X-Request-Id %s", what, id);
    }
}

static const char *
tls_base(void)
{
    return itest_env("MARKET_TEST_BASE_URL");
}

static const char *
plain_base(void)
{
    return itest_env("MARKET_TEST_HTTP_URL");
}

/* A request of n copies of ch, NUL-terminated (the caller frees). */
static char *
filled(size_t n, char ch)
{
    char *s = malloc(n + 1);
    memset(s, ch, n);
    s[n] = '\0';
    return s;
}

static struct iresp
raw(const char *base, const char *request)
{
    return itest_raw(base, request, strlen(request));
}

/* ---- nginx's own errors --------------------------------------------------------------- */

Test(hostile_edge, bad_requests_are_json_400_on_both_ports)
{
    static const char *const requests[] = {
        "GET /api/v1/a b c HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /api/v1/listings/a%00b HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /api/v1/%zz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /../../etc/passwd HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /api/v1/../../../x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "get /api/v1/listings HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /api/v1/listings HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET /api/v1/listings HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
        "GET /api/v1/listings HTTP/2.0\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /api/v1/listings HTTP/3.0\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /api/v1/listings HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\nConnection: close\r\n\r\n",
        "POST /api/v1/listings HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\nConnection: close\r\n\r\n",
        /* an unknown transfer coding is 501 for nginx; a 5xx is never the client's doing */
        "POST /api/v1/listings HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n",
        "POST /api/v1/listings HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/json\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    };
    const char *bases[] = {tls_base(), plain_base()};
    for (size_t b = 0; b < 2; b++) {
        for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
            struct iresp r = raw(bases[b], requests[i]);
            assert_api_error(&r, 400, "bad_parameter", fmt("%s %.40s", bases[b], requests[i]));
            iresp_free(&r);
        }
    }
}

Test(hostile_edge, plain_http_to_the_tls_port_is_json_400)
{
    char base[256];
    snprintf(base, sizeof(base), "http://%s", strstr(tls_base(), "://") + 3);
    struct iresp r = raw(base, "GET /api/v1/listings HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert_api_error(&r, 400, "bad_parameter", "plain HTTP to the TLS port");
    iresp_free(&r);
}

Test(hostile_edge, over_long_request_line_is_json_414)
{
    char *a = filled(9000, 'a');
    const char *bases[] = {tls_base(), plain_base()};
    for (size_t b = 0; b < 2; b++) {
        char *req = NULL;
        cr_assert(asprintf(&req, "GET /api/v1/listings?q=%s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                           a) > 0);
        struct iresp r = raw(bases[b], req);
        assert_api_error(&r, 414, "payload_too_large", bases[b]);
        iresp_free(&r);
        free(req);
    }
    free(a);
}

Test(hostile_edge, over_large_headers_and_cookies_are_json_431)
{
    char *a = filled(9000, 'a');
    char *req[3] = {NULL, NULL, NULL};
    cr_assert(asprintf(&req[0], "GET /api/v1/listings HTTP/1.1\r\nHost: localhost\r\nCookie: sid=%s\r\n"
                                "Connection: close\r\n\r\n", a) > 0);
    cr_assert(asprintf(&req[1], "GET /api/v1/listings HTTP/1.1\r\nHost: localhost\r\nX-Junk: %s\r\n"
                                "Connection: close\r\n\r\n", a) > 0);
    /* many headers under 8 KiB each, over 32 KiB together */
    char *many = calloc(1, 6 * 7000);
    for (int i = 0; i < 5; i++) {
        char *line = NULL;
        cr_assert(asprintf(&line, "X-Junk-%d: %.6900s\r\n", i, a) > 0);
        strcat(many, line);
        free(line);
    }
    cr_assert(asprintf(&req[2], "GET /api/v1/listings HTTP/1.1\r\nHost: localhost\r\n%sConnection: close\r\n\r\n", many) > 0);
    for (size_t i = 0; i < 3; i++) {
        struct iresp r = raw(tls_base(), req[i]);
        assert_api_error(&r, 431, "payload_too_large", fmt("case %zu", i));
        iresp_free(&r);
        free(req[i]);
    }
    free(many);
    free(a);
}

Test(hostile_edge, trace_is_json_405_with_the_resources_allow)
{
    static const struct {
        const char *path;
        const char *allow;
    } cases[] = {
        {"/api/v1/listings", "GET, HEAD, POST"},
        {"/api/v1/users/me", "GET, HEAD, PATCH"},
        {"/api/v1/listings/00000000-0000-4000-8000-000000000000/images/uploads", "POST"},
        {"/healthz", "GET, HEAD"},
        {"/media/listings/x.jpg", "GET, HEAD"},
        /* the web client's files, nginx's alone (a 404 until 2026-11-30) */
        {"/", "GET, HEAD"},
        {"/?from=mail", "GET, HEAD"},
        {"/favicon.svg", "GET, HEAD"},
        {"/assets/app.js", "GET, HEAD"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct iresp r = raw(tls_base(), fmt("TRACE %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                                             cases[i].path));
        assert_api_error(&r, 405, "method_not_allowed", cases[i].path);
        cr_assert_str_eq(iresp_header(&r, "Allow"), cases[i].allow, "%s", cases[i].path);
        iresp_free(&r);
        r = itest_http("TRACE", cases[i].path, NULL, NULL);   /* HTTP/2 */
        assert_api_error(&r, 405, "method_not_allowed", fmt("h2 %s", cases[i].path));
        cr_assert_str_eq(iresp_header(&r, "Allow"), cases[i].allow, "h2 %s", cases[i].path);
        iresp_free(&r);
    }
    struct iresp r = raw(plain_base(), "TRACE /api/v1/listings HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert_api_error(&r, 405, "method_not_allowed", "plain HTTP TRACE");
    cr_assert_str_eq(iresp_header(&r, "Allow"), "GET, HEAD, POST");
    iresp_free(&r);
    r = raw(tls_base(), "TRACE /nowhere HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    assert_api_error(&r, 404, "not_found", "TRACE of no resource");
    iresp_free(&r);
    /* Other methods on the web client's files: 405 with its Allow; /index.html is no resource
     * (nor is an asset that does not exist: 404 whatever the method). */
    r = itest_http("GET", "/", NULL, NULL);
    cr_assert_eq(r.status, 200);
    const char *href = strstr(r.body, "/assets/");
    cr_assert_not_null(href, "the page links an asset: %s", r.body);
    char asset[128];
    snprintf(asset, sizeof(asset), "%.*s", (int)strcspn(href, "\"'"), href);
    iresp_free(&r);
    static const char *const methods[] = {"POST", "DELETE", "PUT", "OPTIONS"};
    const char *const files[] = {"/", "/favicon.svg", asset};
    for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
        for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
            r = itest_http(methods[m], files[f], NULL, NULL);
            assert_api_error(&r, 405, "method_not_allowed", fmt("%s %s", methods[m], files[f]));
            cr_assert_str_eq(iresp_header(&r, "Allow"), "GET, HEAD", "%s %s", methods[m], files[f]);
            iresp_free(&r);
        }
        r = itest_http(methods[m], "/index.html", NULL, NULL);
        assert_api_error(&r, 404, "not_found", fmt("%s /index.html", methods[m]));
        iresp_free(&r);
    }
    /* A path of no resource is a JSON 404 whatever its extension says. */
    static const char *const nowhere[] = {"/index.html", "/nothing.css", "/x.js", "/a.svg", "/b.png"};
    for (size_t i = 0; i < sizeof(nowhere) / sizeof(nowhere[0]); i++) {
        r = itest_http("GET", nowhere[i], NULL, NULL);
        assert_api_error(&r, 404, "not_found", nowhere[i]);
        iresp_free(&r);
    }
}

Test(hostile_edge, bad_paths_over_http2_are_json_400)
{
    static const char *const paths[] = {"/api/v1/listings/a%00b", "/api/v1/%zz", "/%2e%2e/%2e%2e/etc/passwd"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct iresp r = itest_http("GET", paths[i], NULL, NULL);
        assert_api_error(&r, 400, "bad_parameter", paths[i]);
        iresp_free(&r);
    }
}

Test(hostile_edge, media_and_internal_pages)
{
    struct iresp r = itest_http("POST", "/media/listings/x.jpg", NULL, "{}");
    assert_api_error(&r, 405, "method_not_allowed", "POST /media/");
    cr_assert_str_eq(iresp_header(&r, "Allow"), "GET, HEAD");
    iresp_free(&r);
    r = itest_http("GET", "/media/listings/no-such-object.jpg", NULL, NULL);
    assert_api_error(&r, 404, "not_found", "a missing object, typed JSON (not image/jpeg)");
    iresp_free(&r);
    r = itest_http("GET", "/_marketd/error/400", NULL, NULL);
    assert_api_error(&r, 404, "not_found", "an error page asked for directly");
    iresp_free(&r);
}

/* ---- routing ----------------------------------------------------------------------------- */

Test(hostile_edge, literal_segments_win_and_allow_is_the_resources)
{
    struct itest_user u;
    itest_user_new(&u, "edge-routing");
    const char *uploads = "/api/v1/listings/00000000-0000-4000-8000-000000000000/images/uploads";
    static const char *const methods[] = {"GET", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        struct iresp r = itest_http(methods[i], uploads, (const char *const[]){u.bearer, NULL},
                                    strcmp(methods[i], "GET") == 0 ? NULL : "{}");
        assert_api_error(&r, 405, "method_not_allowed", methods[i]);
        cr_assert_str_eq(iresp_header(&r, "Allow"), "POST", "%s: not POST, DELETE", methods[i]);
        iresp_free(&r);
    }
    struct iresp r = itest_http("DELETE", "/api/v1/users/me", (const char *const[]){u.bearer, NULL}, NULL);
    assert_api_error(&r, 405, "method_not_allowed", "DELETE /users/me");
    cr_assert_str_eq(iresp_header(&r, "Allow"), "GET, HEAD, PATCH");
    iresp_free(&r);
    r = itest_http("OPTIONS", "/api/v1/listings", NULL, NULL);
    assert_api_error(&r, 405, "method_not_allowed", "OPTIONS /listings");
    cr_assert_str_eq(iresp_header(&r, "Allow"), "GET, HEAD, POST");
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/listings/00000000-0000-4000-8000-000000000000/images/"
                          "00000000-0000-4000-8000-000000000001", NULL, NULL);
    assert_api_error(&r, 405, "method_not_allowed", "GET an image");
    cr_assert_str_eq(iresp_header(&r, "Allow"), "DELETE");
    iresp_free(&r);
}

/* ---- query strings ------------------------------------------------------------------------ */

/* A 400 bad_parameter whose message names param first ("param: ..."). */
static void
assert_names(const char *path, const char *auth, const char *param)
{
    struct iresp r = itest_http("GET", path, (const char *const[]){auth, NULL}, NULL);
    assert_api_error(&r, 400, "bad_parameter", path);
    const char *msg = ijson_str(r.json, "error", "message", NULL);
    size_t n = strlen(param);
    cr_assert(strncmp(msg, param, n) == 0 && msg[n] == ':', "%s: the message should name %s: %s", path, param, msg);
    iresp_free(&r);
}

Test(hostile_edge, query_strings_are_utf8_and_errors_name_the_parameter)
{
    struct itest_user u;
    itest_user_new(&u, "edge-params");
    assert_names("/api/v1/listings?q=%FF", NULL, "q");
    assert_names("/api/v1/listings?q=%FF&cursor=abc", NULL, "q");
    assert_names("/api/v1/listings?cursor=abc&q=caf%C3", NULL, "q");
    assert_names("/api/v1/listings?q=%ED%A0%80", NULL, "q");           /* a surrogate */
    assert_names("/api/v1/listings?q=%C0%AF", NULL, "q");              /* overlong */
    assert_names("/api/v1/listings?q=%F4%90%80%80", NULL, "q");        /* above U+10FFFF */
    assert_names("/api/v1/listings?category=%FFbooks", NULL, "category");
    assert_names("/api/v1/listings?q=a%00b", NULL, "q");
    assert_names(fmt("/api/v1/users/%s/reviews?cursor=%%FE", u.id), NULL, "cursor");
    assert_names("/api/v1/users/me/favorites?cursor=%C3%28", u.bearer, "cursor");
    assert_names("/api/v1/orders?role=%FFbuyer", u.bearer, "role");
    struct iresp r = itest_http("GET", "/api/v1/listings?q=caf%C3%A9+cr%C3%A8me", NULL, NULL);
    cr_assert_eq(r.status, 200, "valid UTF-8 is fine: %s", r.body);
    iresp_free(&r);
}

Test(hostile_edge, numbers_in_parameters_are_decimal_only)
{
    struct itest_user u;
    itest_user_new(&u, "edge-numbers");
    static const struct {
        const char *query;
        const char *param;
    } browse[] = {
        {"near=0x1,0", "near"},           {"near=0,0x1", "near"},          {"near=inf,0", "near"},
        {"near=nan,0", "near"},           {"near=%2B1,0", "near"},         {"near=%201,0", "near"},
        {"near=1,0&radius_km=0x10", "radius_km"}, {"near=1,0&radius_km=infinity", "radius_km"},
        {"near=1,0&radius_km=%2B5", "radius_km"}, {"min_price=0x10", "min_price"},
        {"min_price=%2B10", "min_price"}, {"max_price=1e3", "max_price"},  {"max_price=%2010", "max_price"},
        {"limit=0x10", "limit"},          {"limit=%2B10", "limit"},        {"limit=10.0", "limit"},
    };
    for (size_t i = 0; i < sizeof(browse) / sizeof(browse[0]); i++) {
        assert_names(fmt("/api/v1/listings?%s", browse[i].query), NULL, browse[i].param);
    }
    assert_names(fmt("/api/v1/users/%s/listings?limit=0x5", u.id), NULL, "limit");
    assert_names(fmt("/api/v1/users/%s/reviews?limit=%%2B5", u.id), NULL, "limit");
    assert_names("/api/v1/users/me/favorites?limit=0x5", u.bearer, "limit");
    assert_names("/api/v1/orders?limit=%205", u.bearer, "limit");
    struct iresp r = itest_http("GET", "/api/v1/listings?near=52.52,13.405&radius_km=2.5&min_price=0&limit=05", NULL,
                                NULL);
    cr_assert_eq(r.status, 200, "decimal numbers are fine: %s", r.body);
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/listings/00000000-0000-4000-8000-000000000000",
                   (const char *const[]){"X-Min-Seq: 0x10", NULL}, NULL);
    assert_api_error(&r, 400, "bad_parameter", "X-Min-Seq in hex");
    iresp_free(&r);
}

/* ---- UUIDs in any case ---------------------------------------------------------------------- */

static char *
upper(const char *s)
{
    char *u = strdup(s);
    for (char *p = u; *p; p++) {
        *p = (char)toupper((unsigned char)*p);
    }
    return u;
}

Test(hostile_edge, uuids_in_paths_work_in_any_case_on_reads_too)
{
    struct itest_user u;
    itest_user_new(&u, "edge-uuids");
    struct iresp r = itest_http(
        "POST", "/api/v1/listings", (const char *const[]){u.bearer, NULL},
        fmt("{\"title\":\"Edge case lamp %s\",\"description\":\"d\",\"category\":\"furniture\",\"condition\":\"good\","
            "\"price_minor\":1500,\"currency\":\"EUR\",\"location\":{\"city\":\"Berlin\",\"country\":\"DE\","
            "\"lat\":52.52,\"lon\":13.405},\"attributes\":{}}",
            itest_unique("e")));
    cr_assert_eq(r.status, 201, "%s", r.body);
    char id[40];
    snprintf(id, sizeof(id), "%s", ijson_str(r.json, "listing", "id", NULL));
    long long seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    char *uid = upper(id), *uuser = upper(u.id);
    char min_seq[64];
    snprintf(min_seq, sizeof(min_seq), "X-Min-Seq: %lld", seq);

    r = itest_http("GET", fmt("/api/v1/listings/%s", uid), (const char *const[]){min_seq, NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(ijson_str(r.json, "listing", "id", NULL), id, "answered in lower case");
    cr_assert_null(iresp_header(&r, "X-Read-Stale"));
    iresp_free(&r);
    r = itest_http("GET", fmt("/api/v1/users/%s", uuser), (const char *const[]){min_seq, NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(ijson_str(r.json, "user", "id", NULL), u.id);
    iresp_free(&r);
    r = itest_http("GET", fmt("/api/v1/users/%s/reviews", uuser), NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);

    /* the seller's page and browse by seller= find it in either case (lists are eventually
     * consistent: poll) */
    const char *lists[] = {fmt("/api/v1/users/%s/listings", uuser), fmt("/api/v1/listings?seller=%s", uuser)};
    for (size_t i = 0; i < 2; i++) {
        bool found = false;
        double deadline = itest_now_ms() + 5000;
        while (!found && itest_now_ms() < deadline) {
            r = itest_http("GET", lists[i], (const char *const[]){u.bearer, NULL}, NULL);
            cr_assert_eq(r.status, 200, "%s: %s", lists[i], r.body);
            found = strstr(r.body, id) != NULL;
            iresp_free(&r);
        }
        cr_assert(found, "%s lists the listing", lists[i]);
    }

    /* writes in upper case too, and then the read in upper case sees the new version */
    r = itest_http("PATCH", fmt("/api/v1/listings/%s", uid), (const char *const[]){u.bearer, "If-Match: *", NULL},
                   "{\"price_minor\":1400}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    snprintf(min_seq, sizeof(min_seq), "X-Min-Seq: %s", iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    r = itest_http("GET", fmt("/api/v1/listings/%s", uid), (const char *const[]){min_seq, NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(ijson_int(r.json, "listing", "price_minor", NULL), 1400);
    iresp_free(&r);

    /* nginx keys its page cache by the URI as sent and the projector purges the lower-case
     * one: an upper-case URI is never cached, so it cannot go stale */
    for (int i = 0; i < 3; i++) {
        r = itest_http("GET", fmt("/api/v1/listings/%s", uid), NULL, NULL);
        cr_assert_eq(r.status, 200, "%s", r.body);
        const char *cs = iresp_header(&r, "X-Cache-Status");
        cr_assert(cs == NULL || strcmp(cs, "HIT") != 0, "an upper-case URI is not served from the cache");
        iresp_free(&r);
    }
    free(uid);
    free(uuser);
}
