/* Unit tests of core/ and the pure parts of domain/: no services needed. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/http.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/qstr.h"
#include "core/router.h"
#include "core/server.h"
#include "domain/migrate.h"
#include "domain/category.h"
#include "domain/outbox.h"
#include "domain/search.h"
#include "query/params.h"
#include "store/pg.h"

static arena_t *A;

static void
setup(void)
{
    A = arena_create(4096);
    log_init("test", "error");
}

static void
teardown(void)
{
    arena_destroy(A);
}

TestSuite(core, .init = setup, .fini = teardown);

/* ---- arena ---- */

static int cleanup_order[4];
static int cleanup_n;

static void
record(void *p)
{
    cleanup_order[cleanup_n++] = *(int *)p;
}

Test(core, arena_cleanups_run_newest_first_on_reset)
{
    static int one = 1, two = 2;
    cleanup_n = 0;
    arena_cleanup_add(A, record, &one);
    arena_cleanup_add(A, record, &two);
    arena_reset(A);
    cr_assert_eq(cleanup_n, 2);
    cr_assert_eq(cleanup_order[0], 2);
    cr_assert_eq(cleanup_order[1], 1);
    arena_reset(A);
    cr_assert_eq(cleanup_n, 2, "a cleanup must not run twice");
}

Test(core, arena_large_allocations_and_alignment)
{
    char *big = arena_alloc(A, 100000);
    memset(big, 'x', 100000);
    for (int i = 0; i < 100; i++) {
        void *p = arena_alloc(A, (size_t)i + 1);
        cr_assert_eq((uintptr_t)p % _Alignof(max_align_t), 0);
    }
    cr_assert_str_eq(arena_sprintf(A, "%d-%s", 42, "x"), "42-x");
    cr_assert_str_eq(arena_strndup(A, "abcdef", 3), "abc");
}

/* ---- percent-decoding, query strings, cookies ---- */

Test(core, pct_decode)
{
    char out[64];
    cr_assert_eq(http_pct_decode(out, "a%20b+c", 7, true), 5);
    cr_assert_str_eq(out, "a b c");
    cr_assert_eq(http_pct_decode(out, "a+b", 3, false), 3);
    cr_assert_str_eq(out, "a+b");
    cr_assert_eq(http_pct_decode(out, "%C3%A9", 6, false), 2);
    cr_assert_eq(http_pct_decode(out, "%2", 2, false), -1, "truncated escape");
    cr_assert_eq(http_pct_decode(out, "%", 1, false), -1);
    cr_assert_eq(http_pct_decode(out, "%zz", 3, false), -1, "bad hex");
    cr_assert_eq(http_pct_decode(out, "a%00b", 5, false), -1, "decoded NUL is refused");
}

static int
make_request(struct request *r, const char *method, const char *uri, const char *extra)
{
    static char bufs[8][512];
    static char *env[10];
    int n = 0;
    snprintf(bufs[n], sizeof(bufs[n]), "REQUEST_METHOD=%s", method);
    env[n] = bufs[n];
    n++;
    snprintf(bufs[n], sizeof(bufs[n]), "REQUEST_URI=%s", uri);
    env[n] = bufs[n];
    n++;
    const char *q = strchr(uri, '?');
    snprintf(bufs[n], sizeof(bufs[n]), "QUERY_STRING=%s", q ? q + 1 : "");
    env[n] = bufs[n];
    n++;
    if (extra != NULL) {
        snprintf(bufs[n], sizeof(bufs[n]), "%s", extra);
        env[n] = bufs[n];
        n++;
    }
    env[n] = NULL;
    return http_request_init(r, A, env, NULL, 0);
}

Test(core, request_parses_path_query_and_cookies)
{
    struct request r;
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?q=red%20bike&limit=5&flag&x=a+b",
                              "HTTP_COOKIE=sid=abc123; theme=\"dark\"; empty="),
                 MK_OK);
    cr_assert_str_eq(r.path, "/api/v1/listings");
    cr_assert_str_eq(http_query(&r, "q"), "red bike");
    cr_assert_str_eq(http_query(&r, "limit"), "5");
    cr_assert_str_eq(http_query(&r, "flag"), "");
    cr_assert_str_eq(http_query(&r, "x"), "a b");
    cr_assert_null(http_query(&r, "missing"));
    cr_assert_str_eq(http_cookie(&r, "sid"), "abc123");
    cr_assert_str_eq(http_cookie(&r, "theme"), "dark");
    cr_assert_str_eq(http_cookie(&r, "empty"), "");
    cr_assert_null(http_cookie(&r, "nope"));
}

Test(core, request_bad_escape_is_bad_parameter)
{
    struct request r;
    cr_assert_eq(make_request(&r, "GET", "/x?q=%zz", NULL), MK_EBADPARAM);
    cr_assert_eq(make_request(&r, "GET", "/a%2", NULL), MK_EBADPARAM);
}

Test(core, request_headers_map_to_fastcgi_params)
{
    struct request r;
    make_request(&r, "POST", "/x", "HTTP_IF_MATCH=\"3\"");
    cr_assert_str_eq(http_header(&r, "If-Match"), "\"3\"");
    cr_assert_str_eq(http_header(&r, "if-match"), "\"3\"");
    cr_assert_null(http_header(&r, "If-None-Match"));
}

/* ---- router ---- */

static int h_list(struct request *r) { (void)r; return 1; }
static int h_get(struct request *r) { (void)r; return 2; }
static int h_post(struct request *r) { (void)r; return 3; }

static const struct route test_routes[] = {
    {"GET", "/api/v1/listings", h_list, ROUTE_QUERY},
    {"POST", "/api/v1/listings", h_post, ROUTE_COMMAND},
    {"GET", "/api/v1/listings/{id}", h_get, ROUTE_QUERY},
    {"PATCH", "/api/v1/listings/{id}", h_post, ROUTE_COMMAND},
    {"DELETE", "/api/v1/listings/{id}/images/{image_id}", h_post, ROUTE_COMMAND},
};

/* http_param looks parameters up in an index built once per request (core/http.c): it
 * must answer what a scan of the environment answers, for every name, with prefixes of one
 * another, repeated names (the first wins), an entry without '=' and more parameters than
 * the index's first size. */
Test(core, indexed_parameters_answer_as_the_scan)
{
    char bufs[80][48];
    char *env[81];
    int n = 0;
    const char *fixed[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/x", "HTTP_X=1", "HTTP_X_Y=2", "HTTP_X=again",
                           "NOEQUALS", "EMPTY=", "HTTP_=odd", "=nameless", "CONTENT_TYPE=text/plain",
                           "CONTENT_LENGTH=7", "HTTP_CONTENT_TYPO=typo"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        snprintf(bufs[n], sizeof(bufs[n]), "%s", fixed[i]);
        env[n] = bufs[n];
        n++;
    }
    for (int i = 0; n < 80; i++) {
        snprintf(bufs[n], sizeof(bufs[n]), "HTTP_P%d=v%d", i, i);
        env[n] = bufs[n];
        n++;
    }
    env[n] = NULL;
    struct request r, scan;
    cr_assert_eq(http_request_init(&r, A, env, NULL, 0), MK_OK);
    cr_assert_not_null(r.env_slots);
    scan = r;
    scan.env_slots = NULL;
    const char *names[] = {"HTTP_X", "HTTP_X_Y", "HTTP_X_", "HTTP", "NOEQUALS", "EMPTY", "HTTP_", "", "MISSING",
                           "HTTP_P0", "HTTP_P70", "HTTP_P71", "REQUEST_URI", "HTTP_X=1"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *a = http_param(&r, names[i]), *b = http_param(&scan, names[i]);
        cr_expect(a == b, "%s: indexed %s, scanned %s", names[i], a ? a : "(null)", b ? b : "(null)");
    }
    cr_expect_str_eq(http_param(&r, "HTTP_X"), "1");
    cr_expect_str_eq(http_header(&r, "x-y"), "2");
    cr_expect_null(http_param(&r, "NOEQUALS"));
    /* The two headers that are parameters of their own, in any case; a name of the same
     * length that is neither is a header like any other. */
    cr_expect_str_eq(http_header(&r, "content-type"), "text/plain");
    cr_expect_str_eq(http_header(&r, "CONTENT-LENGTH"), "7");
    cr_expect_str_eq(http_header(&r, "Content-Typo"), "typo");
    cr_expect_null(http_header(&r, "Content-Len"));
}

Test(core, router_matches_and_captures)
{
    struct request r;
    make_request(&r, "GET", "/api/v1/listings/abc", NULL);
    cr_assert_eq(router_match(&r, test_routes, 5), 2);
    cr_assert_str_eq(http_path_param(&r, "id"), "abc");
    make_request(&r, "DELETE", "/api/v1/listings/L1/images/I2", NULL);
    cr_assert_eq(router_match(&r, test_routes, 5), 4);
    cr_assert_str_eq(http_path_param(&r, "id"), "L1");
    cr_assert_str_eq(http_path_param(&r, "image_id"), "I2");
    make_request(&r, "HEAD", "/api/v1/listings", NULL);
    cr_assert_eq(router_match(&r, test_routes, 5), 0, "HEAD is routed as GET");
}

Test(core, router_not_found_and_method_not_allowed)
{
    struct request r;
    make_request(&r, "GET", "/api/v1/nothing", NULL);
    cr_assert_eq(router_match(&r, test_routes, 5), MK_ENOTFOUND);
    make_request(&r, "GET", "/api/v1/listings/", NULL);
    cr_assert_eq(router_match(&r, test_routes, 5), MK_ENOTFOUND, "an empty segment does not match {id}");
    make_request(&r, "GET", "/api/v1/listings/a/b", NULL);
    cr_assert_eq(router_match(&r, test_routes, 5), MK_ENOTFOUND);
    make_request(&r, "PUT", "/api/v1/listings/x", NULL);
    cr_assert_eq(router_match(&r, test_routes, 5), MK_EMETHOD);
    cr_assert_str_eq(http_response_header(&r, "Allow"), "GET, HEAD, PATCH");
}

/* Rows of one resource share their pattern's string, which the router compares by pointer
 * before by text (README, "Tenth pass"): the same answers with every pattern a copy of its
 * own (equal text, distinct pointers), for each method on paths of every shape. */
Test(core, router_answers_alike_with_shared_or_copied_patterns)
{
    static const char *const texts[] = {"/api/v1/listings", "/api/v1/listings/{id}", "/api/v1/users/me",
                                        "/api/v1/users/{id}", "/api/v1/listings/{id}/images/{image_id}",
                                        "/api/v1/listings/{id}/images/uploads"};
    static const char *const methods[] = {"GET", "POST", "PATCH", "DELETE", "HEAD", "PUT"};
    enum { NROWS = 12 };
    struct route shared[NROWS], copied[NROWS];
    char copies[NROWS][64];
    for (int i = 0; i < NROWS; i++) {
        /* each pattern twice, its rows apart and side by side, with methods in turn */
        const char *pattern = texts[(i < 6 ? i : 11 - i) % 6];
        snprintf(copies[i], sizeof(copies[i]), "%s", pattern);
        shared[i] = (struct route){methods[i % 4], pattern, h_get, ROUTE_QUERY};
        copied[i] = shared[i];
        copied[i].pattern = copies[i];
    }
    const char *paths[] = {"/api/v1/listings", "/api/v1/listings/L1", "/api/v1/users/me", "/api/v1/users/U1",
                           "/api/v1/listings/L1/images/I2", "/api/v1/listings/L1/images/uploads",
                           "/api/v1/nothing", "/api/v1/listings/"};
    for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
        for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
            struct request a, b;
            make_request(&a, methods[m], paths[p], NULL);
            make_request(&b, methods[m], paths[p], NULL);
            int ia = router_match(&a, shared, NROWS), ib = router_match(&b, copied, NROWS);
            cr_assert_eq(ia, ib, "%s %s", methods[m], paths[p]);
            const char *allow_a = http_response_header(&a, "Allow"), *allow_b = http_response_header(&b, "Allow");
            cr_assert_str_eq(allow_a != NULL ? allow_a : "-", allow_b != NULL ? allow_b : "-", "%s %s", methods[m],
                             paths[p]);
            const char *id_a = http_path_param(&a, "id"), *id_b = http_path_param(&b, "id");
            cr_assert_str_eq(id_a != NULL ? id_a : "-", id_b != NULL ? id_b : "-", "%s %s", methods[m], paths[p]);
        }
    }
}

/* The routes that share a prefix with a {param} in the real table (issue 18). */
static const struct route overlap_routes[] = {
    {"DELETE", "/api/v1/listings/{id}/images/{image_id}", h_post, ROUTE_COMMAND},
    {"POST", "/api/v1/listings/{id}/images/uploads", h_post, ROUTE_COMMAND},
    {"POST", "/api/v1/listings/{id}/images", h_post, ROUTE_COMMAND},
    {"GET", "/api/v1/users/{id}", h_get, ROUTE_QUERY},
    {"GET", "/api/v1/users/me", h_get, ROUTE_QUERY},
    {"PATCH", "/api/v1/users/me", h_post, ROUTE_COMMAND},
    {"GET", "/api/v1/users/{id}/reviews", h_list, ROUTE_QUERY},
    {"GET", "/api/v1/users/me/favorites", h_list, ROUTE_QUERY},
    {"DELETE", "/api/v1/items/{a}/x", h_post, ROUTE_COMMAND},
    {"GET", "/api/v1/items/{b}/x", h_get, ROUTE_QUERY},
};
#define NOVERLAP (sizeof(overlap_routes) / sizeof(overlap_routes[0]))

Test(core, router_literal_segments_win_over_params_whatever_the_order)
{
    struct request r;
    make_request(&r, "POST", "/api/v1/listings/L1/images/uploads", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), 1);
    make_request(&r, "DELETE", "/api/v1/listings/L1/images/uploads", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), MK_EMETHOD,
                 "DELETE .../images/uploads is not an image removal");
    cr_assert_str_eq(http_response_header(&r, "Allow"), "POST");
    const char *others[] = {"GET", "PUT", "PATCH", "HEAD"};
    for (size_t i = 0; i < 4; i++) {
        make_request(&r, others[i], "/api/v1/listings/L1/images/uploads", NULL);
        cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), MK_EMETHOD, "%s", others[i]);
        cr_assert_str_eq(http_response_header(&r, "Allow"), "POST", "%s", others[i]);
    }
    make_request(&r, "DELETE", "/api/v1/listings/L1/images/I2", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), 0);
    cr_assert_str_eq(http_path_param(&r, "image_id"), "I2");
    make_request(&r, "GET", "/api/v1/listings/L1/images/I2", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), MK_EMETHOD);
    cr_assert_str_eq(http_response_header(&r, "Allow"), "DELETE");

    /* /users/me is listed after /users/{id} here, and still wins */
    make_request(&r, "GET", "/api/v1/users/me", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), 4);
    make_request(&r, "DELETE", "/api/v1/users/me", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), MK_EMETHOD);
    cr_assert_str_eq(http_response_header(&r, "Allow"), "GET, HEAD, PATCH");
    make_request(&r, "PATCH", "/api/v1/users/someone", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), MK_EMETHOD);
    cr_assert_str_eq(http_response_header(&r, "Allow"), "GET, HEAD");
    make_request(&r, "GET", "/api/v1/users/me/reviews", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), 6, "no literal route: the {id} one");
    make_request(&r, "POST", "/api/v1/users/me/favorites", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), MK_EMETHOD);
    cr_assert_str_eq(http_response_header(&r, "Allow"), "GET, HEAD");

    /* the same resource under two parameter names is one resource */
    make_request(&r, "PUT", "/api/v1/items/7/x", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), MK_EMETHOD);
    cr_assert_str_eq(http_response_header(&r, "Allow"), "DELETE, GET, HEAD");
    make_request(&r, "GET", "/api/v1/items/7/x", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), 9);
    cr_assert_str_eq(http_path_param(&r, "b"), "7");
}

Test(core, router_folds_uuid_parameters_to_lower_case)
{
    struct request r;
    make_request(&r, "DELETE", "/api/v1/listings/0F1E2D3C-4B5A-4978-8A6B-5C4D3E2F1A0B/images/ABCDEF01-2345-4678-89AB-CDEF01234567",
                 NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), 0);
    cr_assert_str_eq(http_path_param(&r, "id"), "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b");
    cr_assert_str_eq(http_path_param(&r, "image_id"), "abcdef01-2345-4678-89ab-cdef01234567");
    cr_assert(r.path_folded);
    make_request(&r, "GET", "/api/v1/users/0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), 3);
    cr_assert_not(r.path_folded, "already lower case");
    make_request(&r, "GET", "/api/v1/users/NotAUuid", NULL);
    cr_assert_eq(router_match(&r, overlap_routes, NOVERLAP), 3);
    cr_assert_str_eq(http_path_param(&r, "id"), "NotAUuid", "only UUIDs are folded");
}

/* ---- query-string values: UTF-8 and decimal numbers ---- */

Test(core, utf8_validation_follows_rfc3629)
{
    static const char *const good[] = {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                                       "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF", "\xED\x9F\xBF", "\xC2\x80"};
    static const char *const bad[] = {
        "\xFF",             "\xC3",              "caf\xC3",           "\xC3\x28",
        "\xC0\xAF",         "\xC1\xBF",          "\xE0\x80\xAF",      "\xE0\x9F\xBF", /* overlong */
        "\xED\xA0\x80",     "\xED\xBF\xBF",      /* surrogates */
        "\xF4\x90\x80\x80", "\xF5\x80\x80\x80",  /* above U+10FFFF */
        "\xF0\x80\x80\xAF", "\x80",              "\xE2\x82",          "\xF0\x9F\x98",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cr_assert(qstr_utf8_valid(good[i], strlen(good[i])), "good #%zu", i);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_not(qstr_utf8_valid(bad[i], strlen(bad[i])), "bad #%zu", i);
    }
}

Test(core, numbers_in_parameters_are_decimal_only)
{
    long long n = 42;
    cr_assert(qstr_int("0", 0, 10, &n) && n == 0);
    cr_assert(qstr_int("007", 0, 10, &n) && n == 7);
    cr_assert(qstr_int("-3", -5, 10, &n) && n == -3);
    static const char *const bad_ints[] = {"", "+5", " 5", "5 ", "0x5", "5e0", "5.0", "1O", "-", "--1",
                                           "99999999999999999999", "11", "\t1", "5\n"};
    for (size_t i = 0; i < sizeof(bad_ints) / sizeof(bad_ints[0]); i++) {
        n = 42;
        cr_assert_not(qstr_int(bad_ints[i], 0, 10, &n), "\"%s\"", bad_ints[i]);
        cr_assert_eq(n, 42, "untouched on failure");
    }
    double d = 0;
    cr_assert(qstr_decimal("52.52", -90, 90, &d) && d == 52.52);
    cr_assert(qstr_decimal("-0.5", -90, 90, &d) && d == -0.5);
    cr_assert(qstr_decimal("1e-7", -90, 90, &d) && d == 1e-7);
    cr_assert(qstr_decimal("2E1", -90, 90, &d) && d == 20);
    cr_assert(qstr_decimal("1e-400", -90, 90, &d) && d == 0, "an underflow is zero");
    static const char *const bad_nums[] = {"0x1",  "0x10", "0X1p3", "inf", "-inf", "nan", "NaN", "infinity",
                                           "+1",   " 1",   "1 ",    "1.",  ".5",   "1e",  "1e+", "1,5",
                                           "1e400", "",    "-",     "1..2", "١",   "91",  "-90.0001"};
    for (size_t i = 0; i < sizeof(bad_nums) / sizeof(bad_nums[0]); i++) {
        cr_assert_not(qstr_decimal(bad_nums[i], -90, 90, &d), "\"%s\"", bad_nums[i]);
    }
}

Test(core, query_strings_must_be_utf8_and_errors_name_the_parameter)
{
    struct request r;
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?category=books&q=caf%C3%A9", NULL), MK_OK);
    cr_assert_str_eq(http_query(&r, "q"), "caf\xC3\xA9");
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?category=books&q=caf%C3&cursor=x", NULL), MK_EBADPARAM);
    cr_assert_str_eq(r.err_message, "q: must be valid UTF-8");
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?q=%ED%A0%80", NULL), MK_EBADPARAM, "a surrogate");
    cr_assert_str_eq(r.err_message, "q: must be valid UTF-8");
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?q=%C0%AF", NULL), MK_EBADPARAM, "overlong");
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?q=\xFF", NULL), MK_EBADPARAM, "a raw byte");
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?a%FFb=1", NULL), MK_EBADPARAM);
    cr_assert_str_eq(r.err_message, "a%FFb: must be valid UTF-8", "a bad name is shown as sent");
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?limit=5&cursor=%zz", NULL), MK_EBADPARAM);
    cr_assert_str_eq(r.err_message, "cursor: has a bad percent-escape (or an encoded NUL)");
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?q=a%00b", NULL), MK_EBADPARAM);
    cr_assert_str_eq(r.err_message, "q: has a bad percent-escape (or an encoded NUL)");
    /* the message is rendered as valid JSON */
    make_request(&r, "GET", "/x?%C3%28=1", NULL);
    http_finish(&r, MK_EBADPARAM);
    json_object *doc = http_json_own(&r, json_tokener_parse(arena_strndup(A, r.out, r.out_len)));
    cr_assert_not_null(doc, "%.*s", (int)r.out_len, r.out);
}

Test(core, list_limit_is_decimal_only)
{
    struct request r;
    int limit = 0;
    make_request(&r, "GET", "/api/v1/orders?limit=7", NULL);
    cr_assert_eq(query_limit(&r, &limit), MK_OK);
    cr_assert_eq(limit, 7);
    static const char *const bad[] = {"%2B5", "0x5", "%205", "5%20", "5e0", "0", "101", "1.0", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        make_request(&r, "GET", arena_sprintf(A, "/api/v1/orders?limit=%s", bad[i]), NULL);
        cr_assert_eq(query_limit(&r, &limit), MK_EBADPARAM, "limit=%s", bad[i]);
        cr_assert(strncmp(r.err_message, "limit: ", 7) == 0);
    }
}

static const struct category_set *
browse_categories(void)
{
    static struct category_set *set;
    if (set == NULL) {
        cr_assert_eq(category_parse_json("{\"categories\":[{\"slug\":\"books\",\"name\":\"Books\",\"parent\":null,"
                                         "\"attributes\":[{\"name\":\"pages\",\"type\":\"integer\",\"required\":false}]}]}",
                                         &set, NULL, 0),
                     MK_OK);
    }
    return set;
}

Test(core, browse_numbers_are_decimal_only_and_errors_name_them)
{
    struct request r;
    struct search_query q;
    static const struct {
        const char *query;
        const char *param;
    } bad[] = {
        {"near=0x1,0", "near"},          {"near=0,0x1", "near"},         {"near=inf,0", "near"},
        {"near=nan,nan", "near"},        {"near=%2B1,2", "near"},        {"near=%201,2", "near"},
        {"near=1,2&radius_km=0x10", "radius_km"}, {"near=1,2&radius_km=1e9", "radius_km"},
        {"near=1,2&radius_km=infinity", "radius_km"}, {"min_price=%2B100", "min_price"},
        {"min_price=0x64", "min_price"},  {"max_price=1e3", "max_price"}, {"max_price=%20100", "max_price"},
        {"limit=0x10", "limit"},          {"limit=%2B10", "limit"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(make_request(&r, "GET", arena_sprintf(A, "/api/v1/listings?%s", bad[i].query), NULL), MK_OK);
        cr_assert_eq(search_parse(&r, browse_categories(), "k", &q), MK_EBADPARAM, "%s", bad[i].query);
        size_t pl = strlen(bad[i].param);
        cr_assert(strncmp(r.err_message, bad[i].param, pl) == 0 && r.err_message[pl] == ':', "%s: %s", bad[i].query,
                  r.err_message);
    }
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?near=52.5,-13.4e0&radius_km=2.5&min_price=0&limit=007", NULL),
                 MK_OK);
    cr_assert_eq(search_parse(&r, browse_categories(), "k", &q), MK_OK, "%s", r.err_message);
    cr_assert(q.near && q.lat == 52.5 && q.lon == -13.4 && q.radius_km == 2.5 && q.limit == 7);
}

Test(core, browse_seller_uuid_in_any_case)
{
    struct request r;
    struct search_query q, lower;
    make_request(&r, "GET", "/api/v1/listings?seller=0F1E2D3C-4B5A-4978-8A6B-5C4D3E2F1A0B", NULL);
    cr_assert_eq(search_parse(&r, browse_categories(), "k", &q), MK_OK);
    cr_assert_str_eq(q.seller, "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b");
    make_request(&r, "GET", "/api/v1/listings?seller=0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", NULL);
    cr_assert_eq(search_parse(&r, browse_categories(), "k", &lower), MK_OK);
    cr_assert_str_eq(q.canonical, lower.canonical, "one canonical query (cursors, caches) in either case");
}

/* Found by tests/fuzz/fuzz_qstr.c: the canonical query (page-cache key, cursor binding)
 * must tell a search for "ab&seller=<id>" from a search filtered by seller. */
Test(core, browse_canonical_query_is_unambiguous)
{
    struct request r;
    struct search_query words, filtered;
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?q=ab%26seller%3D0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", NULL),
                 MK_OK);
    cr_assert_eq(search_parse(&r, browse_categories(), "k", &words), MK_OK, "%s", r.err_message);
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?q=ab&seller=0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", NULL),
                 MK_OK);
    cr_assert_eq(search_parse(&r, browse_categories(), "k", &filtered), MK_OK, "%s", r.err_message);
    cr_assert_str_neq(words.canonical, filtered.canonical);
    cr_assert_str_eq(words.canonical, "sort=relevance&q=ab%26seller%3D0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b");
    cr_assert_eq(make_request(&r, "GET", "/api/v1/listings?q=50%25%20off", NULL), MK_OK);
    cr_assert_eq(search_parse(&r, browse_categories(), "k", &words), MK_OK, "%s", r.err_message);
    cr_assert_str_eq(words.canonical, "sort=relevance&q=50%25 off");
}

/* ---- error rendering ---- */

static json_object *
render(struct request *r, int rc, size_t *len)
{
    http_finish(r, rc);
    char *out = http_serialise(r, len);
    char *end = memmem(out, *len, "\r\n\r\n", 4);
    cr_assert_not_null(end);
    /* the serialised response is not NUL-terminated: copy the body out */
    char *body = arena_strndup(r->arena, end + 4, *len - (size_t)(end + 4 - out));
    return http_json_own(r, json_tokener_parse(body));
}

Test(core, errors_have_the_api_shape)
{
    struct request r;
    size_t len;
    make_request(&r, "GET", "/x", NULL);
    http_fail(&r, MK_ENOTFOUND, "no such listing");
    json_object *doc = render(&r, MK_ENOTFOUND, &len);
    cr_assert_eq(r.status, 404);
    json_object *err = json_object_object_get(doc, "error");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(err, "code")), "not_found");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(err, "message")), "no such listing");
    cr_assert_null(json_object_object_get(err, "fields"), "fields only for 422");
}

Test(core, validation_errors_list_fields)
{
    struct request r;
    size_t len;
    make_request(&r, "POST", "/x", NULL);
    http_field_error(&r, "price_minor", "must be a positive integer");
    http_field_error(&r, "title", "too short");
    json_object *doc = render(&r, MK_EVALIDATION, &len);
    cr_assert_eq(r.status, 422);
    json_object *fields = json_object_object_get(json_object_object_get(doc, "error"), "fields");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(fields, "price_minor")),
                     "must be a positive integer");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(fields, "title")), "too short");
}

Test(core, internal_errors_never_leak_details)
{
    struct request r;
    size_t len;
    make_request(&r, "GET", "/x", NULL);
    http_fail(&r, MK_EINTERNAL, "ERROR: relation \"users\" does not exist");
    json_object *doc = render(&r, MK_EINTERNAL, &len);
    cr_assert_eq(r.status, 500);
    const char *msg = json_object_get_string(json_object_object_get(json_object_object_get(doc, "error"), "message"));
    cr_assert_null(strstr(msg, "relation"));
    cr_assert_str_eq(msg, "internal error");
}

Test(core, unavailable_and_rate_limited_carry_retry_after)
{
    struct request r;
    size_t len;
    make_request(&r, "GET", "/x", NULL);
    render(&r, MK_EUNAVAILABLE, &len);
    cr_assert_eq(r.status, 503);
    cr_assert_not_null(http_response_header(&r, "Retry-After"));
    make_request(&r, "GET", "/x", NULL);
    render(&r, MK_ERATELIMITED, &len);
    cr_assert_eq(r.status, 429);
    cr_assert_not_null(http_response_header(&r, "Retry-After"));
}

Test(core, every_code_maps_to_its_status)
{
    static const struct { int rc, status; const char *code; } cases[] = {
        {MK_EMALFORMED, 400, "malformed_json"}, {MK_EBADPARAM, 400, "bad_parameter"},
        {MK_EUNAUTH, 401, "unauthenticated"}, {MK_ECREDENTIALS, 401, "invalid_credentials"},
        {MK_EFORBIDDEN, 403, "forbidden"}, {MK_ENOTFOUND, 404, "not_found"},
        {MK_EMETHOD, 405, "method_not_allowed"}, {MK_ECONFLICT, 409, "conflict"},
        {MK_EEMAILTAKEN, 409, "email_taken"}, {MK_ENOTAVAILABLE, 409, "listing_not_available"},
        {MK_ETRANSITION, 409, "invalid_transition"}, {MK_EREVIEWED, 409, "already_reviewed"},
        {MK_EPRECONDITION, 412, "precondition_failed"}, {MK_ETOOLARGE, 413, "payload_too_large"},
        {MK_EMEDIATYPE, 415, "unsupported_media_type"}, {MK_EVALIDATION, 422, "validation_failed"},
        {MK_EIDEMREUSED, 422, "idempotency_key_reused"}, {MK_EPRECONDREQ, 428, "precondition_required"},
        {MK_ERATELIMITED, 429, "rate_limited"}, {MK_EUNAVAILABLE, 503, "unavailable"},
        {MK_EINTERNAL, 500, "internal"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(errors_http_status(cases[i].rc), cases[i].status, "rc %d", cases[i].rc);
        cr_assert_str_eq(errors_api_code(cases[i].rc), cases[i].code);
    }
}

/* ---- JSON bodies ---- */

static int
body_request(struct request *r, const char *body)
{
    static char *env[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", NULL};
    http_request_init(r, A, env, body, strlen(body));
    json_object *obj;
    return http_json_body(r, &obj);
}

Test(core, json_bodies)
{
    struct request r;
    cr_assert_eq(body_request(&r, "{\"a\": 1}"), MK_OK);
    cr_assert_eq(body_request(&r, "{\"a\": 1}  \n"), MK_OK);
    cr_assert_eq(body_request(&r, "{\"a\": 1"), MK_EMALFORMED);
    cr_assert_eq(body_request(&r, "{\"a\": 1} x"), MK_EMALFORMED, "trailing garbage");
    cr_assert_eq(body_request(&r, "{'a': 1}"), MK_EMALFORMED, "strict JSON only");
    cr_assert_eq(body_request(&r, "{\"a\": NaN}"), MK_EMALFORMED, "no NaN in JSON");
    cr_assert_eq(body_request(&r, "{\"a\": Infinity}"), MK_EMALFORMED);
    cr_assert_eq(body_request(&r, "{\"a\": 1.5e3, \"b\": true, \"d\": \"it's NaN\"}"), MK_OK);
    cr_assert_eq(body_request(&r, "{\"c\": null}"), MK_EVALIDATION, "null is not absent");
    cr_assert_eq(body_request(&r, "{\"a\": \"q\\\"'x\"}"), MK_OK, "escaped quote inside a string");
    cr_assert_eq(body_request(&r, "{\"a\": \"\xff\"}"), MK_EMALFORMED, "invalid UTF-8");
    cr_assert_eq(body_request(&r, "[1,2]"), MK_EVALIDATION, "not an object");
    cr_assert_eq(body_request(&r, ""), MK_EMALFORMED);
}

Test(core, unknown_fields_are_rejected)
{
    struct request r;
    static const char *const allowed[] = {"title", "price_minor", NULL};
    body_request(&r, "{\"title\":\"x\",\"prise_minor\":5}");
    json_object *obj = json_tokener_parse("{\"title\":\"x\",\"prise_minor\":5}");
    http_json_own(&r, obj);
    cr_assert_eq(http_json_only(&r, obj, allowed), MK_EVALIDATION);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(r.err_fields, "prise_minor")), "unknown field");
}

/* ---- server boundary: content type and size ---- */

static int s_handler_calls;
static int s_handler(struct request *r) { s_handler_calls++; return http_respond_empty(r, 204); }
static const struct route s_routes[] = {
    {"POST", "/things", s_handler, ROUTE_COMMAND},
    {"GET", "/things", s_handler, ROUTE_QUERY},
};

static int
serve(int role, const char *method, const char *ctype, const char *body, long content_length)
{
    char m[64], ct[128];
    snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
    snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", ctype);
    char *env[] = {m, "REQUEST_URI=/things", ct, NULL};
    struct server s = {.routes = s_routes, .nroutes = 2, .role = role, .arena = A};
    char *out;
    size_t len;
    server_handle(&s, env, body, strlen(body), content_length, &out, &len);
    return strncmp(out, "Status: ", 8) == 0 ? atoi(out + strlen("Status: ")) : 200;
}

/* A 200 is written without a Status line (nginx's default for FastCGI is "200 OK", and a
 * cached page's header lines are parsed again on every hit); every other status keeps its
 * line, first. */
Test(core, a_200_has_no_status_line_and_others_keep_theirs)
{
    static const int statuses[] = {200, 201, 204, 304, 404, 503};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        struct request r;
        make_request(&r, "GET", "/x", NULL);
        cr_assert_eq(http_respond_raw(&r, statuses[i], "application/json", "{}", 2), MK_OK);
        http_finish(&r, MK_OK);
        size_t len;
        char *out = http_serialise(&r, &len);
        out = arena_strndup(r.arena, out, len); /* counted, not NUL-terminated */
        if (statuses[i] == 200) {
            cr_assert_null(strstr(out, "Status:"), "%s", out);
            const char *first = "Content-Type: application/json\r\nContent-Length: 2\r\n";
            cr_assert(strncmp(out, first, strlen(first)) == 0, "%s", out);
        } else {
            char line[32];
            snprintf(line, sizeof(line), "Status: %d ", statuses[i]);
            cr_assert(strncmp(out, line, strlen(line)) == 0, "%s", out);
        }
    }
}

/* nginx says the Content-Type of the cached catalogue's JSON answers and asks for none of
 * ours (MARKET_NGINX_CONTENT_TYPE: nginx/marketd-cached-json-headers.conf; README,
 * "Twenty-third pass"): the line is left out for that type, at any status, and kept for any
 * other type and where nginx does not ask. */
Test(core, a_type_nginx_says_is_not_written_again)
{
    static const struct {
        const char *param, *type;
        int status;
        bool written;
    } cases[] = {
        {NULL, "application/json", 200, true},
        {"MARKET_NGINX_CONTENT_TYPE=application/json", "application/json", 200, false},
        {"MARKET_NGINX_CONTENT_TYPE=application/json", "application/json", 404, false},
        {"MARKET_NGINX_CONTENT_TYPE=application/json", "text/html; charset=utf-8", 200, true},
        {"MARKET_NGINX_CONTENT_TYPE=", "application/json", 200, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct request r;
        make_request(&r, "GET", "/x", cases[i].param);
        cr_assert_eq(http_respond_raw(&r, cases[i].status, cases[i].type, "{}", 2), MK_OK);
        http_finish(&r, MK_OK);
        size_t len;
        char *out = http_serialise(&r, &len);
        out = arena_strndup(r.arena, out, len);
        cr_assert_eq(strstr(out, "Content-Type:") != NULL, cases[i].written, "case %zu:\n%s", i, out);
        cr_assert_not_null(strstr(out, "Content-Length: 2\r\n"), "case %zu:\n%s", i, out);
    }
}

Test(core, server_checks_content_type_size_and_role)
{
    s_handler_calls = 0;
    cr_assert_eq(serve(ROUTE_COMMAND, "POST", "application/json", "{}", 2), 204);
    cr_assert_eq(serve(ROUTE_COMMAND, "POST", "application/json; charset=utf-8", "{}", 2), 204);
    cr_assert_eq(serve(ROUTE_COMMAND, "POST", "text/plain", "{}", 2), 415);
    cr_assert_eq(serve(ROUTE_COMMAND, "POST", "application/jsonx", "{}", 2), 415);
    cr_assert_eq(serve(ROUTE_COMMAND, "POST", "application/json", "", 70000), 413);
    cr_assert_eq(serve(ROUTE_QUERY, "POST", "application/json", "{}", 2), 500, "misrouted write");
    cr_assert_eq(serve(ROUTE_QUERY, "DELETE", "", "", 0), 405);
    cr_assert_eq(s_handler_calls, 2);
}

/* ---- configuration ---- */

Test(core, config_file_then_environment)
{
    char path[] = "/tmp/marketd-test-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "# comment\nquery_workers = 3\n  mongo_db = \"shop\"\ns3_path_style = false\n\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct config c;
    char err[256];
    config_defaults(&c);
    char *env[] = {"MARKET_QUERY_WORKERS=5", "MARKET_VAR=/ignored", "OTHER=1", NULL};
    cr_assert_eq(config_load(&c, path, env, err, sizeof(err)), MK_OK, "%s", err);
    cr_assert_eq(c.query_workers, 5, "the environment wins over the file");
    cr_assert_str_eq(c.mongo_db, "shop");
    cr_assert_eq(c.s3_path_style, false);
    cr_assert_eq(c.command_workers, 4, "defaults stay");
    config_free(&c);
    unlink(path);
}

Test(core, config_errors_name_key_and_line)
{
    char path[] = "/tmp/marketd-test-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "query_workers = 3\nquery_wrokers = 4\n";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct config c;
    char err[256];
    config_defaults(&c);
    cr_assert_neq(config_load(&c, path, NULL, err, sizeof(err)), MK_OK);
    cr_assert_not_null(strstr(err, ":2:"), "%s", err);
    cr_assert_not_null(strstr(err, "query_wrokers"), "%s", err);
    config_free(&c);
    config_defaults(&c);
    char *env[] = {"MARKET_QUERY_WORKERS=lots", NULL};
    cr_assert_neq(config_load(&c, NULL, env, err, sizeof(err)), MK_OK);
    cr_assert_not_null(strstr(err, "MARKET_QUERY_WORKERS"), "%s", err);
    config_free(&c);
    config_defaults(&c);
    cr_assert_neq(config_set(&c, "command_listen", "nowhere", err, sizeof(err)), 1);
    cr_assert_neq(config_load(&c, NULL, NULL, err, sizeof(err)), MK_OK, "listen must be unix: or host:port");
    config_free(&c);
    unlink(path);
}

/* ---- ids, migrations, outbox order ---- */

Test(core, uuids)
{
    char u[UUID_STR_LEN + 1], v[UUID_STR_LEN + 1];
    uuid_new(u);
    uuid_new(v);
    cr_assert(uuid_valid(u));
    cr_assert_str_neq(u, v);
    cr_assert_eq(u[14], '4', "version 4");
    cr_assert(!uuid_valid("not-a-uuid"));
    cr_assert(!uuid_valid("0123456789abcdef0123456789abcdef0123"));
    cr_assert(uuid_valid("0123ABCD-0123-4567-89ab-0123456789ab"));
    cr_assert(!uuid_valid("0123ABCD-0123-4567-89ab-0123456789abc"), "one byte too many");
    cr_assert(!uuid_valid("0123ABCD-0123-4567-89ab-0123456789a"), "one byte short");
    cr_assert(!uuid_valid(NULL));
}

/* uuid_valid as it was (isxdigit after a strlen): the rewrite must agree with it on every input. */
static bool
uuid_valid_reference(const char *s)
{
    if (s == NULL || strlen(s) != UUID_STR_LEN) {
        return false;
    }
    for (int i = 0; i < UUID_STR_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return false;
            }
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

Test(core, uuid_valid_agrees_with_isxdigit_on_every_byte_and_length)
{
    char u[48];
    /* Every byte value at every position of a valid UUID, in both cases. */
    for (int upper = 0; upper < 2; upper++) {
        for (int pos = 0; pos < UUID_STR_LEN + 2; pos++) {
            for (int b = 0; b < 256; b++) {
                uuid_new(u);
                for (int i = 0; upper && i < UUID_STR_LEN; i++) {
                    u[i] = u[i] >= 'a' && u[i] <= 'f' ? (char)(u[i] - 'a' + 'A') : u[i];
                }
                u[UUID_STR_LEN + 1] = '\0';
                u[UUID_STR_LEN + 2] = '\0';
                u[pos] = (char)b;
                cr_assert_eq(uuid_valid(u), uuid_valid_reference(u), "byte %d at %d: \"%s\"", b, pos, u);
            }
        }
    }
    /* Random strings of 30 to 40 bytes, mostly UUID-shaped (a third of those of 36 bytes are
     * valid), with hex digits, dashes and their neighbours out of place. */
    static const char alphabet[] = "0123456789abcdefABCDEF-gG@`/:_ \x80\xe1";
    unsigned long x = 88172645463325252UL;
    int valid = 0;
    for (int n = 0; n < 20000; n++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = 30 + x % 11;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            bool dash = i == 8 || i == 13 || i == 18 || i == 23;
            u[i] = x % 32 != 0 ? (dash ? '-' : "0123456789abcdefABCDEF"[x / 32 % 22]) : alphabet[x / 32 % (sizeof(alphabet) - 1)];
        }
        u[len] = '\0';
        valid += uuid_valid_reference(u);
        cr_assert_eq(uuid_valid(u), uuid_valid_reference(u), "\"%s\"", u);
    }
    cr_assert_gt(valid, 300, "valid ones among them: %d", valid);
}

Test(core, migration_names)
{
    cr_assert_eq(migrate_number("001_outbox.sql"), 1);
    cr_assert_eq(migrate_number("120_x.sql"), 120);
    cr_assert_eq(migrate_number("outbox.sql"), -1);
    cr_assert_eq(migrate_number("001outbox.sql"), -1);
    cr_assert_eq(migrate_number("001_outbox.sql~"), -1);
}

Test(core, outbox_positions_order_by_txid_then_seq)
{
    struct outbox_pos a = {"100", 7}, b = {"100", 8}, c = {"99", 50}, d = {"1000", 1};
    cr_assert_lt(outbox_pos_cmp(&a, &b), 0);
    cr_assert_lt(outbox_pos_cmp(&c, &a), 0, "a lower txid comes first even with a higher seq");
    cr_assert_gt(outbox_pos_cmp(&d, &a), 0, "numeric, not lexical, txid order");
    cr_assert_eq(outbox_pos_cmp(&a, &a), 0);
}

/* ---- metrics ---- */

Test(core, metrics_segments_render_prometheus_text)
{
    char dir[] = "/tmp/marketd-metrics-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    struct metrics_segment *m = metrics_open(dir, "query", true, true);
    cr_assert_not_null(m);
    metrics_observe(m, 1, 200, 1500);
    metrics_observe(m, 1, 404, 20000);
    metrics_observe(m, -1, 404, 100);
    char *text = metrics_render(A, dir, test_routes, 5);
    cr_assert_not_null(strstr(text, "market_http_requests_total{role=\"query\",method=\"POST\",route=\"/api/v1/listings\",status=\"200\"} 1"), "%s", text);
    cr_assert_not_null(strstr(text, "route=\"unmatched\",status=\"404\"} 1"));
    cr_assert_not_null(strstr(text, "le=\"+Inf\"} 2"));
    cr_assert_not_null(strstr(text, "market_pool_workers_alive{role=\"query\"}"));
    char path[256];
    snprintf(path, sizeof(path), "%s/metrics-query.shm", dir);
    unlink(path);
    rmdir(dir);
}

/* ---- nginx cache outcomes from the access log ---- */

#include "projector/cachestats.h"

Test(core, cache_outcomes_are_counted_from_new_log_lines)
{
    static struct metrics_segment m;
    memset(&m, 0, sizeof(m));
    char path[] = "/tmp/market-cachestats-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char *old = "{\"cache\":\"HIT\"}\n";
    cr_assert_eq(write(fd, old, strlen(old)), (ssize_t)strlen(old));
    struct cachestats cs;
    cachestats_init(&cs, path);
    cachestats_poll(&cs, &m);   /* starts at the end: the old line is not counted */
    const char *lines = "{\"uri\":\"/a\",\"cache\":\"HIT\",\"ua\":\"x\"}\n{\"cache\":\"MISS\"}\n{\"cache\":\"\"}\n"
                        "{\"cache\":\"BYPASS\"}\n{\"cache\":\"HI";
    cr_assert_eq(write(fd, lines, strlen(lines)), (ssize_t)strlen(lines));
    cachestats_poll(&cs, &m);
    cr_assert_eq(m.nginx_cache[0], 1, "HIT");
    cr_assert_eq(m.nginx_cache[1], 1, "MISS");
    cr_assert_eq(m.nginx_cache[2], 1, "BYPASS");
    const char *rest = "T\"}\n";
    cr_assert_eq(write(fd, rest, strlen(rest)), (ssize_t)strlen(rest));
    cachestats_poll(&cs, &m);
    cr_assert_eq(m.nginx_cache[0], 2, "a line written in two parts counts once");
    /* Rotation: a new file is read from its start. */
    close(fd);
    unlink(path);
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    const char *fresh = "{\"cache\":\"STALE\"}\n";
    cr_assert_eq(write(fd, fresh, strlen(fresh)), (ssize_t)strlen(fresh));
    cachestats_poll(&cs, &m);
    cr_assert_eq(m.nginx_cache[4], 1, "STALE after rotation");
    cr_assert_eq(m.nginx_cache[0], 2);
    close(fd);
    unlink(path);
    cachestats_close(&cs);
}

/* search_words keeps each word once, in the order of first appearance: by hash for the
 * projector's max (256), by comparing with every earlier word for a max beyond its table.
 * Both give the same words, for texts full of repeats (and of words sharing a hash slot). */
Test(core, search_words_dedup_by_hash_equals_by_comparison)
{
    static const char *const vocab[] = {"lamp", "Lamps", "oak", "tisch", "Caf\xc3\xa9", "cafe", "x", "a1", "b2",
                                        "red", "reds", "glass", "class", "ss", "bass", "\xd0\xbc\xd0\xb8\xd1\x80"};
    arena_t *a = arena_create(4096);
    srand(7);
    for (int round = 0; round < 500; round++) {
        char text[8192] = "";
        size_t len = 0;
        int words = rand() % 300;
        for (int i = 0; i < words && len < sizeof(text) - 64; i++) {
            if (rand() % 3 == 0) {
                len += (size_t)snprintf(text + len, sizeof(text) - len, "w%d ", rand() % 400);
            } else {
                len += (size_t)snprintf(text + len, sizeof(text) - len, "%s, ",
                                        vocab[rand() % (sizeof(vocab) / sizeof(vocab[0]))]);
            }
        }
        const char *hashed[256], *compared[1000];
        size_t nh = search_words(a, text, hashed, 256);
        size_t nc = search_words(a, text, compared, 1000);
        if (nc > 256) {
            nc = 256;   /* the hashed call stops at its max */
        }
        cr_assert_eq(nh, nc, "%s", text);
        for (size_t i = 0; i < nh; i++) {
            cr_assert_str_eq(hashed[i], compared[i], "word %zu of %s", i, text);
        }
        arena_reset(a);
    }
    arena_destroy(a);
}

/* The field a failed constraint names: every column a client writes has one, so that a value a
 * parser let through by mistake is a 422 naming it (the saved search's name, the offer's amount,
 * the webhook's URL had none: a field-less 422). */
Test(core, constraints_name_the_fields_clients_write)
{
    static const char *const cases[][4] = {
        {"saved_searches", NULL, "saved_searches_name_check", "name"},
        {"saved_searches", NULL, "saved_searches_query_check", "query"},
        {"webhooks", NULL, "webhooks_url_check", "url"},
        {"offers", NULL, "offers_amount_minor_check", "amount_minor"},
        {"offer_moves", NULL, "offer_moves_amount_minor_check", "amount_minor"},
        {"listings", NULL, "listings_title_check", "title"},
        {"listings", NULL, "listings_city_check", "location.city"},
        {"orders", NULL, "orders_ship_country_check", "shipping_address.country"},
        {"listings", "price_minor", NULL, "price_minor"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *f = pg_constraint_field(cases[i][0], cases[i][1], cases[i][2]);
        cr_assert(f != NULL && strcmp(f, cases[i][3]) == 0, "%s: %s", cases[i][2] ? cases[i][2] : cases[i][1], f);
    }
    cr_assert_null(pg_constraint_field("ledger_entries", NULL, "ledger_entries_account_check"), "server-fed");
    cr_assert_null(pg_constraint_field("listings", NULL, "listings_unrelated"), "no suffix");
    cr_assert_null(pg_constraint_field("users", NULL, NULL));
}

/* The words of a text, joined by '|'. */
static const char *
words_of(arena_t *a, const char *text)
{
    const char *w[32];
    size_t n = search_words(a, text, w, 32);
    char *out = arena_alloc(a, strlen(text) + 33), *o = out;
    *o = '\0';
    for (size_t i = 0; i < n; i++) {
        o += sprintf(o, "%s%s", i > 0 ? "|" : "", w[i]);
    }
    return out;
}

/* Punctuation and spaces beyond ASCII separate words as a comma does; letters of any script
 * stay in their word. */
Test(core, search_words_split_at_unicode_punctuation_and_spaces)
{
    arena_t *a = arena_create(4096);
    cr_assert_str_eq(words_of(a, "\u201cLamp\u201d \u2013 oak\u2026"), "lamp|oak");
    cr_assert_str_eq(words_of(a, "desk\u00a0lamp\u3000red\u3001blue\u3002"), "desk|lamp|red|blue");
    cr_assert_str_eq(words_of(a, "\ufeffchair\u2028table\u2e3awood"), "chair|table|wood");
    cr_assert_str_eq(words_of(a, "\u3000\u2028\u2003"), "");
    cr_assert_str_eq(words_of(a, "\u043c\u0438\u0440 \u6905\u5b50 caf\u00e9"), "\u043c\u0438\u0440|\u6905\u5b50|cafe");
    cr_assert_str_eq(words_of(a, "x\u2074y"), "x\u2074y", "a superscript is not punctuation");
    arena_destroy(a);
}

/* ---- the access log line, written with copies (issue 15) ---- */

/* The line as log_access_line wrote it with snprintf before, after its "ts" value. */
static void
access_line_reference(char *out, size_t cap, int pid, const char *request_id, const struct log_access *a)
{
    char path[1024], method[32], route[256], rid[4096];
    log_json_escape(path, sizeof(path), a->path);
    log_json_escape(method, sizeof(method), a->method);
    log_json_escape(route, sizeof(route), a->route);
    log_json_escape(rid, sizeof(rid), request_id);
    snprintf(out, cap,
             "\",\"level\":\"info\",\"role\":\"query\",\"pid\":%d,\"request_id\":\"%s\",\"msg\":\"access\",\"method\":\"%s\","
             "\"path\":\"%s\",\"route\":\"%s\",\"status\":%d,\"latency_ms\":%.3f,\"bytes\":%zu}\n",
             pid, rid, method, path, route, a->status, (double)a->latency_us / 1000.0, a->bytes_out);
}

Test(core, access_line_reads_as_the_formatted_one)
{
    char longpath[3000];
    memset(longpath, 'p', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    memcpy(longpath, "/a\"b\\c\n\x01", 8);
    const struct log_access cases[] = {
        {"GET", "/api/v1/listings/x?y=1", "/api/v1/listings/{id}", 200, 0, 931},
        {"POST", "/api/v1/orders", "-", 404, 999, 0},
        {"GET\"\x7f", longpath, "/r\t", -1, 1000, 18446744073709551615ULL},
        {"A-METHOD-NAME-FAR-LONGER-THAN-THIRTY-TWO-BYTES", "/\xc3\xa9", longpath, 503, 1234567, 12},
        {NULL, NULL, NULL, 200, 4294967296123ULL, 1},
    };
    char file[] = "/tmp/market-accessline-XXXXXX";
    int fd = mkstemp(file);
    cr_assert_geq(fd, 0);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    log_init("query", "info");
    log_set_request_id("rid-\"1\"");
    time_t before = time(NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        log_access_line(&cases[i]);
    }
    time_t after = time(NULL);
    log_set_request_id(NULL);
    dup2(saved, STDERR_FILENO);
    close(saved);
    FILE *f = fdopen(fd, "r");
    rewind(f);
    static char line[8192], want[8192];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_not_null(fgets(line, sizeof(line), f), "line %zu", i);
        cr_assert_eq(strncmp(line, "{\"ts\":\"", 7), 0);
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        const char *rest = strptime(line + 7, "%Y-%m-%dT%H:%M:%S", &tm);
        cr_assert_not_null(rest, "%s", line);
        cr_assert(rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9' && rest[2] >= '0' && rest[2] <= '9' &&
                      rest[3] >= '0' && rest[3] <= '9' && rest[4] == 'Z',
                  "%s", line);
        time_t t = timegm(&tm);
        cr_assert(t >= before && t <= after, "the time of the line: %s", line);
        access_line_reference(want, sizeof(want), (int)getpid(), "rid-\"1\"", &cases[i]);
        cr_assert_str_eq(rest + 5, want);
    }
    cr_assert_null(fgets(line, sizeof(line), f));
    fclose(f);
    unlink(file);
}

/* ---- Redis commands written as RESP with copies (issue 15) ---- */

#include <hiredis/hiredis.h>

#include "store/redis.h"

Test(core, redis_commands_are_written_as_hiredis_formats_them)
{
    static char big[5000];
    memset(big, 'b', sizeof(big));
    const char *get[] = {"GET", "cache:listing:0b7e6d1c-6f3e-4e38-9a55-5c2b2f3f6f11"};
    const char *pfadd[] = {"PFADD", "views:x:20261129", "0123456789abcdef0123456789abcdef"};
    const char *bin[] = {"SET", "k\r\n\0key", "", big};
    const size_t binlen[] = {3, 8, 0, sizeof(big)};
    const char *one[] = {"PING"};
    const struct redis_argv cmds[] = {{2, get, NULL}, {3, pfadd, NULL}, {4, bin, binlen}, {1, one, NULL}};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        size_t lens[4];
        for (int a = 0; a < cmds[i].argc; a++) {
            lens[a] = cmds[i].argvlen != NULL ? cmds[i].argvlen[a] : strlen(cmds[i].argv[a]);
        }
        char *want;
        long long wlen = redisFormatCommandArgv(&want, cmds[i].argc, cmds[i].argv, lens);
        cr_assert_gt(wlen, 0);
        size_t bound = redis_resp_bound(&cmds[i]);
        char *got = malloc(bound);
        size_t glen = redis_resp_write(got, &cmds[i]);
        cr_assert_leq(glen, bound);
        cr_assert_eq(glen, (size_t)wlen, "command %zu", i);
        cr_assert_eq(memcmp(got, want, glen), 0, "command %zu", i);
        free(got);
        redisFreeCommand(want);
    }
}

/* log_json_escape copies runs of plain bytes at once: the same output, truncation included,
 * as escaping byte by byte. */
static size_t
escape_bytewise(char *buf, size_t cap, const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        size_t len;
        if (ch == '"' || ch == '\\') {
            len = (size_t)snprintf(esc, sizeof(esc), "\\%c", ch);
        } else if (ch == '\n' || ch == '\t' || ch == '\r') {
            len = (size_t)snprintf(esc, sizeof(esc), "\\%c", ch == '\n' ? 'n' : ch == '\t' ? 't' : 'r');
        } else if (ch < 0x20 || ch == 0x7f) {
            len = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", ch);
        } else {
            esc[0] = (char)ch;
            len = 1;
        }
        if (n + len >= cap) {
            break;
        }
        memcpy(buf + n, esc, len);
        n += len;
    }
    buf[n] = '\0';
    return n;
}

Test(core, json_escape_by_runs_equals_bytewise)
{
    static const char alphabet[] = "ab/?=\"\\\n\t\r\x01\x1f\x7f\x80\xc3\xa9 z";
    srand(11);
    for (int round = 0; round < 20000; round++) {
        char in[64];
        int len = rand() % 60;
        for (int i = 0; i < len; i++) {
            in[i] = alphabet[rand() % (sizeof(alphabet) - 1)];
        }
        in[len] = '\0';
        size_t cap = 1 + (size_t)(rand() % 80);
        char got[128], want[128];
        memset(got, 'X', sizeof(got));
        size_t gn = log_json_escape(got, cap, in), wn = escape_bytewise(want, cap, in);
        cr_assert_eq(gn, wn, "round %d cap %zu", round, cap);
        cr_assert_str_eq(got, want, "round %d cap %zu", round, cap);
    }
}

/* The table of plain bytes (README, "Tenth pass") against the byte-by-byte rules: every byte
 * value alone, and between plain text, at every capacity up to past the escaped length. */
Test(core, json_escape_agrees_with_bytewise_on_every_byte)
{
    for (int ch = 1; ch < 256; ch++) {
        char in[8] = {'a', (char)ch, 'z', '\0'};
        for (int start = 0; start < 2; start++) {
            for (size_t cap = 1; cap < 12; cap++) {
                char got[16], want[16];
                memset(got, 'X', sizeof(got));
                size_t gn = log_json_escape(got, cap, in + start), wn = escape_bytewise(want, cap, in + start);
                cr_assert_eq(gn, wn, "byte 0x%02x cap %zu", ch, cap);
                cr_assert_str_eq(got, want, "byte 0x%02x cap %zu", ch, cap);
            }
        }
    }
}

Test(core, arena_concat_and_decimal_as_sprintf)
{
    cr_assert_str_eq(arena_concat(A, "cache:listing:", "0b7e", NULL), "cache:listing:0b7e");
    cr_assert_str_eq(arena_concat(A, "", NULL), "");
    cr_assert_str_eq(arena_concat(A, NULL), "");
    cr_assert_str_eq(arena_concat(A, "a", "", "b", ":", "c", NULL), "ab:c");
    const long long nums[] = {0, 5, -5, 10, 999, -1000, 2147483647LL, -2147483648LL, 9223372036854775807LL,
                              -9223372036854775807LL - 1};
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        char want[32];
        snprintf(want, sizeof(want), "%lld", nums[i]);
        cr_assert_str_eq(arena_decimal(A, nums[i]), want);
    }
}
