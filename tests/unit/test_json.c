/* Unit tests of the strict JSON entry point (core/json_strict) and http_json_body. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/errors.h"
#include "core/http.h"
#include "core/json_strict.h"
#include "core/log.h"

/* Parse n bytes; returns the result code and frees what was made. */
static int
parse_n(const char *s, size_t n, const char *const *nullable, struct json_strict_error *err)
{
    json_object *obj = NULL;
    int rc = json_strict_parse(s, n, nullable, &obj, err);
    json_object_put(obj);
    return rc;
}

static int
parse(const char *s)
{
    struct json_strict_error err;
    int rc = parse_n(s, strlen(s), NULL, &err);
    json_strict_error_free(&err);
    return rc;
}

/* The single problem's path of a 422, as a static copy. */
static const char *
problem_path(const char *s, const char *const *nullable)
{
    static char path[128];
    struct json_strict_error err;
    int rc = parse_n(s, strlen(s), nullable, &err);
    cr_assert_eq(rc, MK_EVALIDATION, "%s → %d", s, rc);
    cr_assert_eq(err.nproblems, 1, "%s: %zu problems", s, err.nproblems);
    snprintf(path, sizeof(path), "%s", err.problems[0].path);
    json_strict_error_free(&err);
    return path;
}

Test(json, accepts_rfc_8259)
{
    static const char *const ok[] = {
        "{}", "[]", "{\"a\":1}", " \t\r\n{\"a\" : [1, -2, 0, -0, 1.5, 1e3, 1E+3, 1e-3, 0.5e-2]} \n",
        "{\"s\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00\"}", "{\"t\":true,\"f\":false}",
        "{\"u\":\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbf \x7f\"}", "\"top\"", "12",
        "{\"a\":1,\"A\":2,\"b\":{\"a\":3}}", "{\"e\\u0301\":1,\"\xc3\xa9\":2}",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cr_assert_eq(parse(ok[i]), MK_OK, "%s", ok[i]);
    }
}

Test(json, invalid_utf8_is_malformed)
{
    static const struct {
        const char *bytes;
        const char *why;
    } bad[] = {
        {"\xc0\xaf", "overlong 2-byte (C0 AF)"},
        {"\xc1\xbf", "overlong 2-byte (C1)"},
        {"\xe0\x80\xaf", "overlong 3-byte"},
        {"\xe0\x9f\xbf", "overlong 3-byte below U+0800"},
        {"\xf0\x80\x80\xaf", "overlong 4-byte"},
        {"\xf0\x8f\xbf\xbf", "overlong 4-byte below U+10000"},
        {"\xed\xa0\x80", "encoded high surrogate U+D800"},
        {"\xed\xbf\xbf", "encoded low surrogate U+DFFF"},
        {"\xed\xa0\xbd\xed\xb8\x80", "CESU-8 surrogate pair"},
        {"\xf4\x90\x80\x80", "above U+10FFFF"},
        {"\xf5\x80\x80\x80", "F5 lead byte"},
        {"\xf8\x88\x80\x80\x80", "5-byte form"},
        {"\xff", "FF"},
        {"\xfe", "FE"},
        {"\x80", "stray continuation byte"},
        {"a\xbf", "continuation after ASCII"},
        {"\xc3", "truncated 2-byte"},
        {"\xe2\x82", "truncated 3-byte"},
        {"\xf0\x9f\x98", "truncated 4-byte"},
        {"\xc3\x28", "bad continuation"},
        {"\xe2\x28\xa1", "bad second byte of 3"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"title\":\"x%sy\"}", bad[i].bytes);
        cr_assert_eq(parse(body), MK_EMALFORMED, "value: %s", bad[i].why);
        snprintf(body, sizeof(body), "{\"k%s\":1}", bad[i].bytes);
        cr_assert_eq(parse(body), MK_EMALFORMED, "name: %s", bad[i].why);
        cr_assert(!json_strict_utf8_valid(bad[i].bytes, strlen(bad[i].bytes)), "%s", bad[i].why);
    }
    cr_assert_eq(parse("\xef\xbb\xbf{}"), MK_EMALFORMED, "a byte order mark");
    cr_assert_eq(parse("{\"a\":1}\xc2\xa0"), MK_EMALFORMED, "no-break space is not JSON white space");
    cr_assert(json_strict_utf8_valid("h\xc3\xa9 \xf4\x8f\xbf\xbf", 8));
}

Test(json, escaped_surrogates_must_pair)
{
    cr_assert_eq(parse("{\"a\":\"\\ud800\"}"), MK_EMALFORMED, "lone high surrogate");
    cr_assert_eq(parse("{\"a\":\"\\uDBFF x\"}"), MK_EMALFORMED, "high surrogate then text");
    cr_assert_eq(parse("{\"a\":\"\\udc00\"}"), MK_EMALFORMED, "lone low surrogate");
    cr_assert_eq(parse("{\"a\":\"\\ud800\\u0041\"}"), MK_EMALFORMED, "high surrogate then a non-surrogate");
    cr_assert_eq(parse("{\"a\":\"\\ud800\\ud800\"}"), MK_EMALFORMED, "two high surrogates");
    cr_assert_eq(parse("{\"a\":\"\\udc00\\ud800\"}"), MK_EMALFORMED, "reversed pair");
    cr_assert_eq(parse("{\"\\ud800\":1}"), MK_EMALFORMED, "in a member name");
    cr_assert_eq(parse("{\"a\":\"\\ud83d\\ude00\"}"), MK_OK, "a proper pair");
    cr_assert_eq(parse("{\"a\":\"\\u12\"}"), MK_EMALFORMED, "short \\u");
    cr_assert_eq(parse("{\"a\":\"\\u12G4\"}"), MK_EMALFORMED, "not hex");
    cr_assert_eq(parse("{\"a\":\"\\x41\"}"), MK_EMALFORMED, "unknown escape");
    cr_assert_eq(parse("{\"a\":\"\\'\"}"), MK_EMALFORMED, "\\' is not JSON");
}

Test(json, raw_control_characters_are_malformed)
{
    for (int c = 0x01; c < 0x20; c++) {
        char body[32];
        snprintf(body, sizeof(body), "{\"a\":\"x%cy\"}", c);
        cr_assert_eq(parse(body), MK_EMALFORMED, "raw 0x%02X in a value", c);
        snprintf(body, sizeof(body), "{\"a%cb\":1}", c);
        cr_assert_eq(parse(body), MK_EMALFORMED, "raw 0x%02X in a name", c);
    }
    static const char nul_inside[] = "{\"a\":\"x\0y\"}";
    struct json_strict_error err;
    cr_assert_eq(parse_n(nul_inside, sizeof(nul_inside) - 1, NULL, &err), MK_EMALFORMED, "a raw NUL byte");
    static const char nul_outside[] = "{\"a\":1}\0";
    cr_assert_eq(parse_n(nul_outside, sizeof(nul_outside) - 1, NULL, &err), MK_EMALFORMED, "a NUL after the document");
    cr_assert_eq(parse("{\"a\":\"tab\\tnew\\nline\\r\"}"), MK_OK, "escaped they are fine");
}

Test(json, numbers_follow_the_grammar)
{
    static const char *const bad[] = {"1.", "01", "-", "-01", ".5", "+1", "1e", "1e+", "1.e3", "0x10", "1_000",
                                      "NaN", "Infinity", "-Infinity", "--1", "1..2", "00", "1 2", "- 1", "1.5.2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char body[48];
        snprintf(body, sizeof(body), "{\"n\":%s}", bad[i]);
        cr_assert_eq(parse(body), MK_EMALFORMED, "%s", body);
        snprintf(body, sizeof(body), "[%s]", bad[i]);
        cr_assert_eq(parse(body), MK_EMALFORMED, "%s", body);
    }
    cr_assert_eq(parse("1."), MK_EMALFORMED, "a bare top-level 1.");
    cr_assert_eq(parse("-"), MK_EMALFORMED);
}

Test(json, huge_numbers_are_422_not_clamped)
{
    cr_assert_str_eq(problem_path("{\"price_minor\":123456789012345678901234567890}", NULL), "price_minor");
    cr_assert_str_eq(problem_path("{\"n\":9223372036854775808}", NULL), "n");
    cr_assert_str_eq(problem_path("{\"n\":-9223372036854775809}", NULL), "n");
    cr_assert_str_eq(problem_path("{\"n\":18446744073709551615}", NULL), "n");
    cr_assert_str_eq(problem_path("{\"loc\":{\"lat\":1e400}}", NULL), "loc.lat");
    cr_assert_str_eq(problem_path("{\"n\":-1E309}", NULL), "n");
    cr_assert_eq(parse("{\"n\":9223372036854775807,\"m\":-9223372036854775808}"), MK_OK, "the int64 limits");
    cr_assert_eq(parse("{\"n\":1e308,\"m\":1e-300,\"z\":0.000000000000000000000000001}"), MK_OK);
    /* So near zero that a double loses it (0 or a subnormal): what the read model would keep is
     * not what was sent. */
    cr_assert_str_eq(problem_path("{\"m\":1e-400}", NULL), "m");
    cr_assert_str_eq(problem_path("{\"m\":-2e-308}", NULL), "m");
    cr_assert_eq(parse("{\"n\":2.2250738585072014e-308,\"m\":0e400,\"z\":-0.0}"), MK_OK, "DBL_MIN, a zero");
    /* A long number is handled whatever its length. */
    char body[2100] = "{\"n\":1.";
    memset(body + 7, '5', 2000);
    strcpy(body + 2007, "}");
    cr_assert_eq(parse(body), MK_OK);
}

/* PostgreSQL's numeric, where a listing's attributes are kept as jsonb, holds at most 16,383
 * digits after the point ("value overflows numeric format" beyond): such a number is the
 * member's 422 here, not a field-less one after a round trip to the database. */
Test(json, numbers_postgresql_cannot_keep_are_422)
{
    cr_assert_str_eq(problem_path("{\"a\":{\"size_eu\":0e-16384}}", NULL), "a.size_eu");
    cr_assert_str_eq(problem_path("{\"a\":0.0e-16383}", NULL), "a");
    cr_assert_str_eq(problem_path("{\"a\":1.5e-99999999999999999999}", NULL), "a");
    cr_assert_str_eq(problem_path("{\"a\":0e16384}", NULL), "a");
    cr_assert_str_eq(problem_path("{\"a\":0e99999999999999999999}", NULL), "a");
    cr_assert_eq(parse("{\"a\":0e-16383,\"b\":0e16383,\"c\":1E-5}"), MK_OK, "at the limits");
    /* 1.000…0 with 16,384 zeros is 1 to a double, and too many digits for numeric; with an
     * exponent that moves them back in front of the point, it is not. */
    static char body[16500];
    size_t n = (size_t)snprintf(body, sizeof(body), "{\"a\":1.");
    memset(body + n, '0', 16384);
    strcpy(body + n + 16384, "}");
    cr_assert_str_eq(problem_path(body, NULL), "a");
    strcpy(body + n + 16384, "e1}");
    cr_assert_eq(parse(body), MK_OK);
}

Test(json, nesting_is_bounded)
{
    char deep[256] = "";
    for (int i = 0; i < JSON_STRICT_MAX_DEPTH; i++) {
        strcat(deep, "[");
    }
    for (int i = 0; i < JSON_STRICT_MAX_DEPTH; i++) {
        strcat(deep, "]");
    }
    cr_assert_eq(parse(deep), MK_OK, "%d levels", JSON_STRICT_MAX_DEPTH);
    char deeper[256] = "[";
    strcat(deeper, deep);
    strcat(deeper, "]");
    cr_assert_eq(parse(deeper), MK_EMALFORMED, "%d levels", JSON_STRICT_MAX_DEPTH + 1);
    /* Far deeper than the stack would like: refused at the limit, without recursion past it. */
    size_t n = 60000;
    char *huge = malloc(n + 1);
    memset(huge, '[', n);
    huge[n] = '\0';
    cr_assert_eq(parse(huge), MK_EMALFORMED);
    memset(huge, '{', 1);
    for (size_t i = 1; i + 5 < n; i += 5) {
        memcpy(huge + i, "\"a\":{", 5);
    }
    cr_assert_eq(parse(huge), MK_EMALFORMED);
    free(huge);
}

Test(json, grammar)
{
    static const char *const bad[] = {
        "",           " ",           "{",           "}",          "{\"a\"}",    "{\"a\":}",      "{\"a\":1,}",
        "[1,]",       "[,1]",        "{,}",         "{\"a\" 1}",  "{a:1}",      "{'a':1}",       "{\"a\":'x'}",
        "{\"a\":tru}", "{\"a\":True}", "{\"a\":nul}", "{\"a\":nulls}", "{} {}",   "{}x",           "{\"a\":1}]",
        "[1 2]",      "{\"a\":1 \"b\":2}", "\"abc",  "{\"a\":\"x}", "{\"a\":1}\f", "\v{}",         "{\"a\":undefined}",
        "/*c*/{}",    "{}//",        "{\"a\":\"\\\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(parse(bad[i]), MK_EMALFORMED, "%s", bad[i]);
    }
}

Test(json, duplicate_member_names_are_malformed)
{
    struct json_strict_error err;
    const char *dup = "{\"title\":\"a\",\"price_minor\":1,\"title\":\"b\"}";
    cr_assert_eq(parse_n(dup, strlen(dup), NULL, &err), MK_EMALFORMED);
    cr_assert_not_null(strstr(err.message, "\"title\""), "%s", err.message);
    cr_assert_eq(parse("{\"a\":1,\"\\u0061\":2}"), MK_EMALFORMED, "names compare after unescaping");
    cr_assert_eq(parse("{\"o\":{\"x\":1,\"x\":2}}"), MK_EMALFORMED, "in a nested object");
    cr_assert_eq(parse("[{\"x\":1},{\"x\":2,\"y\":{\"x\":3}}]"), MK_OK, "the same name in different objects");
    cr_assert_eq(parse("{\"x\":{\"x\":{\"x\":1}},\"y\":1}"), MK_OK);
    cr_assert_eq(parse("{\"\":1,\"\":2}"), MK_EMALFORMED, "empty names too");
    cr_assert_eq(parse("{\"ab\":1,\"a\":2,\"abc\":3}"), MK_OK, "prefixes are different names");
}

Test(json, u0000_is_422_naming_the_member)
{
    cr_assert_str_eq(problem_path("{\"title\":\"Nul\\u0000 hidden\"}", NULL), "title");
    cr_assert_str_eq(problem_path("{\"password\":\"Secret-One-26\\u0000alpha\"}", NULL), "password");
    cr_assert_str_eq(problem_path("{\"shipping_address\":{\"city\":\"\\u0000\"}}", NULL), "shipping_address.city");
    cr_assert_str_eq(problem_path("{\"ids\":[\"a\",\"b\\u0000\"]}", NULL), "ids[1]");
    cr_assert_str_eq(problem_path("{\"attributes\":{\"col\\u0000or\":\"red\"}}", NULL), "attributes.col\\u0000or");
    cr_assert_str_eq(problem_path("{\"a\\u0000\":1}", NULL), "a\\u0000");
    struct json_strict_error err;
    const char *two = "{\"email\":\"x@example.org\\u0000@evil.example\",\"display_name\":\"\\u0000\"}";
    cr_assert_eq(parse_n(two, strlen(two), NULL, &err), MK_EVALIDATION);
    cr_assert_eq(err.nproblems, 2, "every such member is named");
    cr_assert_str_eq(err.problems[0].path, "email");
    cr_assert_str_eq(err.problems[1].path, "display_name");
    json_strict_error_free(&err);
    cr_assert_eq(parse("{\"a\":\"\\u0001\"}"), MK_OK, "other escaped controls are the field rules' business");
}

Test(json, null_is_not_absent)
{
    cr_assert_str_eq(problem_path("{\"title\":null}", NULL), "title");
    cr_assert_str_eq(problem_path("{\"location\":{\"city\":null}}", NULL), "location.city");
    cr_assert_str_eq(problem_path("{\"a\":[1,null]}", NULL), "a[1]");
    static const char *const nullable[] = {"location", NULL};
    struct json_strict_error err;
    json_object *obj;
    cr_assert_eq(json_strict_parse("{\"location\":null}", 17, nullable, &obj, &err), MK_OK);
    json_object *v = (json_object *)1;
    cr_assert(json_object_object_get_ex(obj, "location", &v), "present");
    cr_assert_null(v, "and null");
    json_object_put(obj);
    cr_assert_str_eq(problem_path("{\"location\":{\"lat\":null}}", nullable), "location.lat",
                     "only the named path may be null");
    cr_assert_str_eq(problem_path("{\"bio\":null,\"location\":null}", nullable), "bio");
    cr_assert_eq(parse("null"), MK_OK, "a null document is the caller's to judge");
}

Test(json, strings_keep_their_length)
{
    struct json_strict_error err;
    json_object *obj;
    const char *s = "{\"t\":\"a\\u00e9\\ud83d\\ude00\\n\"}";
    cr_assert_eq(json_strict_parse(s, strlen(s), NULL, &obj, &err), MK_OK);
    json_object *t = json_object_object_get(obj, "t");
    cr_assert_eq(json_object_get_string_len(t), 1 + 2 + 4 + 1);
    cr_assert_eq(strlen(json_object_get_string(t)), (size_t)json_object_get_string_len(t));
    cr_assert_str_eq(json_object_get_string(t), "a\xc3\xa9\xf0\x9f\x98\x80\n");
    json_object_put(obj);
}

/* ---- through http_json_body, as handlers see it ---- */

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

static json_object *
finish(struct request *r, int rc)
{
    http_finish(r, rc);
    json_object *doc = json_tokener_parse(r->out);
    cr_assert_not_null(doc, "%.*s", (int)r->out_len, r->out);
    return http_json_own(r, doc);
}

Test(json_body, malformed_is_400_and_members_are_422, .init = setup, .fini = teardown)
{
    static char *env[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/x", NULL};
    struct request r;
    json_object *body;
    const char *bad = "{\"title\":\"\xc0\xaf\"}";
    http_request_init(&r, A, env, bad, strlen(bad));
    int rc = http_json_body(&r, &body);
    cr_assert_eq(rc, MK_EMALFORMED);
    json_object *doc = finish(&r, rc);
    cr_assert_eq(r.status, 400);
    json_object *err = json_object_object_get(doc, "error");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(err, "code")), "malformed_json");

    arena_reset(A);
    const char *nul = "{\"title\":\"Nul\\u0000 hidden\",\"status\":null}";
    http_request_init(&r, A, env, nul, strlen(nul));
    rc = http_json_body(&r, &body);
    cr_assert_eq(rc, MK_EVALIDATION);
    doc = finish(&r, rc);
    cr_assert_eq(r.status, 422);
    json_object *fields = json_object_object_get(json_object_object_get(doc, "error"), "fields");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(fields, "title")), "must not contain U+0000");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(fields, "status")), "must not be null");

    arena_reset(A);
    static const char *const nullable[] = {"location", NULL};
    const char *loc = "{\"location\":null}";
    http_request_init(&r, A, env, loc, strlen(loc));
    cr_assert_eq(http_json_body_nullable(&r, nullable, &body), MK_OK);
    cr_assert_eq(http_json_body(&r, &body), MK_EVALIDATION, "null only where allowed");
}
