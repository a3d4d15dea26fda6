/*
 * Hostile bodies through nginx (issue 18): invalid UTF-8 (overlong, encoded surrogates,
 * above U+10FFFF, escaped lone surrogates), raw control characters, numbers outside the
 * grammar, U+0000 and JSON null, in every member of every write that reads a body. Each
 * must get the 4xx of API.md (400 malformed_json, or 422 naming the member), never a 5xx,
 * and change nothing: no row, no new version, no event.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

TestSuite(hostile, .timeout = 240);

#define ADDRESS                                                                                                        \
    "{\"name\":\"Ada Lovelace\",\"line1\":\"Unter den Linden 1\",\"city\":\"Berlin\",\"postal_code\":\"10117\","       \
    "\"country\":\"DE\"}"

/* A value token put in place of a member's value, and the answer it must get. */
static const struct {
    const char *token;
    long status;
    const char *why;
} BAD[] = {
    {"\"x\xc0\xafy\"", 400, "overlong C0 AF"},
    {"\"x\xe0\x80\xafy\"", 400, "overlong E0 80 AF"},
    {"\"x\xed\xa0\x80y\"", 400, "encoded surrogate ED A0 80"},
    {"\"x\xf4\x90\x80\x80y\"", 400, "above U+10FFFF"},
    {"\"x\xffy\"", 400, "FF"},
    {"\"x\\ud800y\"", 400, "escaped lone surrogate"},
    {"\"x\\udc00y\"", 400, "escaped lone low surrogate"},
    {"\"x\ny\"", 400, "raw LF"},
    {"\"x\ty\"", 400, "raw TAB"},
    {"\"x\ry\"", 400, "raw CR"},
    {"1.", 400, "the number 1."},
    {"01", 400, "the number 01"},
    {"-", 400, "a lone minus"},
    {"\"Nul\\u0000 hidden\"", 422, "U+0000"},
    {"null", 422, "null"},
};

static long long
pg_count(const char *sql, const char *p1)
{
    PGconn *c = itest_pg();
    const char *params[] = {p1};
    PGresult *res = PQexecParams(c, sql, p1 != NULL ? 1 : 0, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    long long v = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(c);
    return v;
}

/*
 * Send method path with body_fmt's one %s replaced by every BAD token in turn; each must
 * get its status, a 422 with field in error.fields. Returns the number of requests.
 */
static int
refuse_all(const char *method, const char *path, const char *const *headers, const char *body_fmt,
           const char *field)
{
    /* Copies: itest_fmt's buffers rotate, and the arguments may be some of them. */
    char *fmt = strdup(body_fmt), *where = strdup(path);
    method = method != NULL ? method : "POST";
    path = where;
    int n = 0;
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        char *body = itest_fmt(fmt, BAD[i].token);
        struct iresp r = itest_http(method, path, headers, body);
        cr_assert_eq(r.status, BAD[i].status, "%s %s, %s in %s: %ld %s", method, path, BAD[i].why, field, r.status,
                     r.body);
        if (BAD[i].status == 400) {
            cr_assert_str_eq(iresp_error_code(&r), "malformed_json", "%s in %s: %s", BAD[i].why, field, r.body);
        } else {
            cr_assert_str_eq(iresp_error_code(&r), "validation_failed");
            json_object *error, *fields, *v;
            cr_assert(json_object_object_get_ex(r.json, "error", &error) &&
                          json_object_object_get_ex(error, "fields", &fields) &&
                          json_object_object_get_ex(fields, field, &v),
                      "%s: the 422 names %s: %s", BAD[i].why, field, r.body);
        }
        iresp_free(&r);
        n++;
    }
    free(fmt);
    free(where);
    return n;
}

/* ---- accounts ---------------------------------------------------------------------------- */

Test(hostile, register_refuses_and_creates_no_user)
{
    char local[96], email[128], email_like[128];
    snprintf(local, sizeof(local), "%s", itest_unique("hostile-reg"));
    snprintf(email, sizeof(email), "%s@example.test", local);
    snprintf(email_like, sizeof(email_like), "%s%%", local);
    refuse_all("POST", "/api/v1/users", NULL,
               itest_fmt("{\"email\":%%s,\"password\":\"Secret-One-26\",\"display_name\":\"Hos\"}"), "email");
    refuse_all("POST", "/api/v1/users", NULL,
               itest_fmt("{\"email\":\"%s\",\"password\":%%s,\"display_name\":\"Hos\"}", email), "password");
    refuse_all("POST", "/api/v1/users", NULL,
               itest_fmt("{\"email\":\"%s\",\"password\":\"Secret-One-26\",\"display_name\":%%s}", email),
               "display_name");
    /* The cases of the issue: nothing is cut at U+0000. */
    struct iresp r = itest_http(
        "POST", "/api/v1/users", NULL,
        itest_fmt("{\"email\":\"%s\",\"password\":\"Secret-One-26\\u0000alpha\",\"display_name\":\"Hos\"}", email));
    cr_assert_eq(r.status, 422, "%s", r.body);
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/users", NULL,
                   itest_fmt("{\"email\":\"%s\\u0000@evil.example\",\"password\":\"Secret-One-26\","
                             "\"display_name\":\"Hos\"}",
                             email));
    cr_assert_eq(r.status, 422, "%s", r.body);
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/users", NULL,
                   itest_fmt("{\"email\":\"%s\",\"email\":\"x%s\",\"password\":\"Secret-One-26\","
                             "\"display_name\":\"Hos\"}",
                             email, email));
    cr_assert_eq(r.status, 400, "a member given twice: %s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "malformed_json");
    iresp_free(&r);
    cr_assert_eq(pg_count("SELECT count(*) FROM users WHERE email LIKE $1", email_like), 0, "no user was made");
}

Test(hostile, login_refuses_and_u0000_never_truncates_a_password)
{
    struct itest_user u;
    itest_user_new(&u, "hostile-login");
    refuse_all("POST", "/api/v1/sessions", NULL, itest_fmt("{\"email\":%%s,\"password\":\"%s\"}", u.password),
               "email");
    refuse_all("POST", "/api/v1/sessions", NULL, itest_fmt("{\"email\":\"%s\",\"password\":%%s}", u.email),
               "password");
    /* The right password with a tail after U+0000 is not the right password. */
    struct iresp r = itest_http("POST", "/api/v1/sessions", NULL,
                                itest_fmt("{\"email\":\"%s\",\"password\":\"%s\\u0000alpha\"}", u.email, u.password));
    cr_assert_eq(r.status, 422, "%s", r.body);
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/sessions", NULL,
                   itest_fmt("{\"email\":\"%s\\u0000@evil.example\",\"password\":\"%s\"}", u.email, u.password));
    cr_assert_eq(r.status, 422, "%s", r.body);
    iresp_free(&r);
    itest_login(&u); /* and the account still works */
}

Test(hostile, profile_patch_refuses_and_changes_nothing)
{
    struct itest_user u;
    itest_user_new(&u, "hostile-profile");
    const char *const auth[] = {u.bearer, NULL};
    long long events = pg_count("SELECT count(*) FROM outbox WHERE aggregate_id = $1::uuid", u.id);
    refuse_all("PATCH", "/api/v1/users/me", auth, "{\"display_name\":%s}", "display_name");
    refuse_all("PATCH", "/api/v1/users/me", auth, "{\"bio\":%s}", "bio");
    refuse_all("PATCH", "/api/v1/users/me", auth,
               "{\"location\":{\"city\":%s,\"country\":\"DE\",\"lat\":52.5,\"lon\":13.4}}", "location.city");
    refuse_all("PATCH", "/api/v1/users/me", auth,
               "{\"location\":{\"city\":\"Berlin\",\"country\":\"DE\",\"lat\":%s,\"lon\":13.4}}", "location.lat");
    cr_assert_eq(pg_count("SELECT count(*) FROM outbox WHERE aggregate_id = $1::uuid", u.id), events,
                 "no event was written");
    struct iresp r = itest_http("GET", "/api/v1/users/me", auth, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(ijson_str(r.json, "user", "display_name", NULL), u.name);
    cr_assert_str_eq(ijson_str(r.json, "user", "bio", NULL), "");
    iresp_free(&r);
    /* API.md allows null for the location alone. */
    r = itest_http("PATCH", "/api/v1/users/me", auth, "{\"location\":null}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
}

/* ---- listings ---------------------------------------------------------------------------- */

#define LISTING_FMT(title, category, condition, price, currency, city, brand, status)                                   \
    "{\"title\":" title ",\"description\":\"With box\",\"category\":" category ",\"condition\":" condition            \
    ",\"price_minor\":" price ",\"currency\":" currency ",\"location\":{\"city\":" city                               \
    ",\"country\":\"DE\",\"lat\":52.52,\"lon\":13.405},\"attributes\":{\"brand\":" brand ",\"storage_gb\":128}"      \
    ",\"status\":" status "}"
#define T "\"Pixel 7, barely used\""
#define C "\"phones\""
#define K "\"like_new\""
#define P "32000"
#define E "\"EUR\""
#define Y "\"Berlin\""
#define B "\"Google\""
#define S "\"active\""

Test(hostile, listing_create_refuses_and_creates_nothing)
{
    struct itest_user u;
    itest_user_new(&u, "hostile-seller");
    const char *const auth[] = {u.bearer, NULL};
    static const struct {
        const char *fmt;
        const char *field;
    } members[] = {
        {LISTING_FMT("%s", C, K, P, E, Y, B, S), "title"},
        {LISTING_FMT(T, "%s", K, P, E, Y, B, S), "category"},
        {LISTING_FMT(T, C, "%s", P, E, Y, B, S), "condition"},
        {LISTING_FMT(T, C, K, "%s", E, Y, B, S), "price_minor"},
        {LISTING_FMT(T, C, K, P, "%s", Y, B, S), "currency"},
        {LISTING_FMT(T, C, K, P, E, "%s", B, S), "location.city"},
        {LISTING_FMT(T, C, K, P, E, Y, "%s", S), "attributes.brand"},
        {LISTING_FMT(T, C, K, P, E, Y, B, "%s"), "status"},
    };
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        refuse_all("POST", "/api/v1/listings", auth, members[i].fmt, members[i].field);
    }
    struct iresp r = itest_http("POST", "/api/v1/listings", auth,
                                itest_fmt("{\"location\":null,%s", LISTING_FMT(T, C, K, P, E, Y, B, S) + 1));
    cr_assert_eq(r.status, 400, "location given twice: %ld %s", r.status, r.body);
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/listings", auth,
                   itest_fmt("{\"price_minor\":12,%s", LISTING_FMT(T, C, K, "1", E, Y, B, S) + 1));
    cr_assert_eq(r.status, 400, "price given twice");
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/listings", auth, LISTING_FMT(T, C, K, "123456789012345678901234567890", E, Y, B, S));
    cr_assert_eq(r.status, 422, "a price beyond 64 bits is not clamped: %s", r.body);
    iresp_free(&r);
    /* A number attribute that a double or PostgreSQL's numeric (jsonb) cannot keep, or that jsonb
     * would give back as an integer beyond 64 bits (1e19: the projector could not apply it): the
     * attribute's 422, not a field-less one from the database. */
    static const char *const unkept[] = {"0e-16384", "1e-400", "0.0e-16383", "0e99999999999", "1e19", "-1e300"};
    for (size_t i = 0; i < sizeof(unkept) / sizeof(unkept[0]); i++) {
        r = itest_http("POST", "/api/v1/listings", auth,
                       itest_fmt("{\"title\":\"ThinkPad X1\",\"category\":\"laptops\",\"condition\":\"good\","
                                 "\"price_minor\":50000,\"currency\":\"EUR\",\"location\":{\"city\":\"Berlin\","
                                 "\"country\":\"DE\",\"lat\":52.52,\"lon\":13.405},\"attributes\":{\"brand\":\"Lenovo\",\"screen_in\":%s}}",
                                 unkept[i]));
        cr_assert_eq(r.status, 422, "%s: %ld %s", unkept[i], r.status, r.body);
        json_object *error, *fields, *v;
        cr_assert(json_object_object_get_ex(r.json, "error", &error) &&
                      json_object_object_get_ex(error, "fields", &fields) &&
                      json_object_object_get_ex(fields, "attributes.screen_in", &v),
                  "%s: the 422 names attributes.screen_in: %s", unkept[i], r.body);
        iresp_free(&r);
    }
    cr_assert_eq(pg_count("SELECT count(*) FROM listings WHERE seller_id = $1::uuid", u.id), 0, "no listing was made");
    /* The body itself is fine. */
    r = itest_http("POST", "/api/v1/listings", auth, LISTING_FMT(T, C, K, P, E, Y, B, S));
    cr_assert_eq(r.status, 201, "%s", r.body);
    iresp_free(&r);
}

static void
new_listing(struct itest_user *u, char id[40])
{
    struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){u->bearer, NULL},
                                LISTING_FMT(T, C, K, P, E, Y, B, S));
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(id, 40, "%s", ijson_str(r.json, "listing", "id", NULL));
    iresp_free(&r);
}

/* One-line text has no C1 control (a terminal's CSI, NEL) and no line or paragraph separator;
 * a value of Unicode's white space alone is blank, in a body and in a search. */
Test(hostile, one_line_text_refuses_c1_controls_separators_and_unicode_blanks)
{
    struct itest_user u;
    itest_user_new(&u, "hostile-c1");
    const char *const auth[] = {u.bearer, NULL};
    static const char *const not_one_line[] = {"\"Bob\\u009b[31mx\"", "\"Bob\\u0085x\"", "\"Bob\\u2028x\"",
                                               "\"Bob\\u2029x\""};
    for (size_t i = 0; i < sizeof(not_one_line) / sizeof(not_one_line[0]); i++) {
        const char *v = not_one_line[i];
        struct {
            const char *method, *path, *body, *field;
        } cases[] = {
            {"PATCH", "/api/v1/users/me", itest_fmt("{\"display_name\":%s}", v), "display_name"},
            {"POST", "/api/v1/listings", LISTING_FMT("%s", C, K, P, E, Y, B, S), "title"},
            {"POST", "/api/v1/listings", LISTING_FMT(T, C, K, P, E, "%s", B, S), "location.city"},
            {"POST", "/api/v1/listings", LISTING_FMT(T, C, K, P, E, Y, "%s", S), "attributes.brand"},
        };
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
            const char *body = strstr(cases[k].body, "%s") != NULL ? itest_fmt(cases[k].body, v) : cases[k].body;
            struct iresp r = itest_http(cases[k].method, cases[k].path, auth, body);
            cr_assert_eq(r.status, 422, "%s in %s: %ld %s", v, cases[k].field, r.status, r.body);
            json_object *error, *fields, *f;
            cr_assert(json_object_object_get_ex(r.json, "error", &error) &&
                          json_object_object_get_ex(error, "fields", &fields) &&
                          json_object_object_get_ex(fields, cases[k].field, &f),
                      "%s: the 422 names %s: %s", v, cases[k].field, r.body);
            iresp_free(&r);
        }
    }
    struct iresp r = itest_http("POST", "/api/v1/listings", auth, LISTING_FMT(T, C, K, P, E, Y, "\"\\u00a0\\u3000\"", S));
    cr_assert_eq(r.status, 422, "a brand of no-break and ideographic spaces: %ld %s", r.status, r.body);
    cr_assert_not_null(strstr(r.body, "attributes.brand"), "%s", r.body);
    iresp_free(&r);
    cr_assert_eq(pg_count("SELECT count(*) FROM listings WHERE seller_id = $1::uuid", u.id), 0, "no listing was made");
    r = itest_http("GET", "/api/v1/users/me", auth, NULL);
    cr_assert_str_eq(ijson_str(r.json, "user", "display_name", NULL), u.name, "the name did not change");
    iresp_free(&r);
    static const char *const blank_searches[] = {"/api/v1/listings?q=%E3%80%80", "/api/v1/listings?q=%E2%80%A8%C2%A0",
                                                 "/api/v1/listings?category=phones&attr.brand=%C2%A0",
                                                 "/api/v1/listings?category=phones&attr.brand=%E3%80%80"};
    for (size_t i = 0; i < sizeof(blank_searches) / sizeof(blank_searches[0]); i++) {
        r = itest_http("GET", blank_searches[i], NULL, NULL);
        cr_assert_eq(r.status, 400, "%s: %ld %s", blank_searches[i], r.status, r.body);
        cr_assert_str_eq(iresp_error_code(&r), "bad_parameter", "%s", blank_searches[i]);
        iresp_free(&r);
    }
}

/* A write that takes no body checks what it is sent as every body is checked: malformed JSON is
 * a 400 and a member a 422 naming it, on every such route, before anything else; none and {}
 * go on (to the 401 here: no credentials). Until 2026-11-30 the favourites, the DELETEs and a
 * webhook delivery's retry ignored their body. */
Test(hostile, writes_without_a_body_refuse_one_in_shape)
{
#define ID "00000000-0000-4000-8000-0000000000aa"
    static const char *const routes[][2] = {
        {"DELETE", "/api/v1/sessions/current"},
        {"DELETE", "/api/v1/listings/" ID},
        {"DELETE", "/api/v1/listings/" ID "/images/" ID},
        {"POST", "/api/v1/listings/" ID "/favorite"},
        {"DELETE", "/api/v1/listings/" ID "/favorite"},
        {"POST", "/api/v1/orders/" ID "/confirm"},
        {"POST", "/api/v1/orders/" ID "/cancel"},
        {"DELETE", "/api/v1/users/me/saved-searches/" ID},
        {"DELETE", "/api/v1/users/me/webhooks/" ID},
        {"POST", "/api/v1/users/me/webhooks/" ID "/deliveries/" ID "/retry"},
        {"POST", "/api/v1/offers/" ID "/accept"},
        {"POST", "/api/v1/offers/" ID "/decline"},
        {"POST", "/api/v1/offers/" ID "/withdraw"},
    };
#undef ID
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const char *method = routes[i][0], *path = routes[i][1];
        struct iresp r = itest_http(method, path, NULL, "{");
        cr_assert_eq(r.status, 400, "%s %s with {: %ld %s", method, path, r.status, r.body);
        cr_assert_str_eq(iresp_error_code(&r), "malformed_json", "%s %s", method, path);
        iresp_free(&r);
        r = itest_http(method, path, NULL, "{\"bogus\":1}");
        cr_assert_eq(r.status, 422, "%s %s with a member: %ld %s", method, path, r.status, r.body);
        cr_assert_not_null(strstr(r.body, "\"bogus\""), "%s %s: the 422 names the member: %s", method, path, r.body);
        iresp_free(&r);
        r = itest_http(method, path, NULL, "{}");
        cr_assert_eq(r.status, 401, "%s %s with {}: %ld %s", method, path, r.status, r.body);
        iresp_free(&r);
    }
}

Test(hostile, listing_patch_refuses_without_a_new_version_or_event)
{
    struct itest_user u;
    itest_user_new(&u, "hostile-patch");
    char id[40];
    new_listing(&u, id);
    const char *const auth[] = {u.bearer, "If-Match: \"1\"", NULL};
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/listings/%s", id);
    long long events = pg_count("SELECT count(*) FROM outbox WHERE aggregate_id = $1::uuid", id);
    static const struct {
        const char *fmt;
        const char *field;
    } members[] = {
        {"{\"title\":%s}", "title"},
        {"{\"description\":%s}", "description"},
        {"{\"category\":%s}", "category"},
        {"{\"condition\":%s}", "condition"},
        {"{\"price_minor\":%s}", "price_minor"},
        {"{\"currency\":%s}", "currency"},
        {"{\"location\":%s}", "location"},
        {"{\"attributes\":{\"brand\":%s,\"storage_gb\":64}}", "attributes.brand"},
        {"{\"attributes\":%s}", "attributes"},
        {"{\"status\":%s}", "status"},
    };
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        refuse_all("PATCH", path, auth, members[i].fmt, members[i].field);
    }
    cr_assert_eq(pg_count("SELECT version FROM listings WHERE id = $1::uuid", id), 1, "the version did not bump");
    cr_assert_eq(pg_count("SELECT count(*) FROM outbox WHERE aggregate_id = $1::uuid", id), events,
                 "no event was written");
    cr_assert_eq(pg_count("SELECT count(*) FROM listings WHERE id = $1::uuid AND title = 'Pixel 7, barely used' "
                          "AND status = 'active' AND description = 'With box'",
                          id),
                 1);
}

Test(hostile, image_attach_refuses)
{
    struct itest_user u;
    itest_user_new(&u, "hostile-attach");
    char id[40];
    new_listing(&u, id);
    const char *const auth[] = {u.bearer, NULL};
    refuse_all("POST", itest_fmt("/api/v1/listings/%s/images", id), auth, "{\"key\":%s}", "key");
    refuse_all("POST", itest_fmt("/api/v1/listings/%s/images/uploads", id), auth,
               "{\"content_type\":%s,\"size_bytes\":1000}", "content_type");
    cr_assert_eq(pg_count("SELECT count(*) FROM listing_images WHERE listing_id = $1::uuid", id), 0);
}

/* ---- orders and reviews ------------------------------------------------------------------ */

static struct iresp
buy(struct itest_user *u, const char *body)
{
    const char *key = itest_fmt("Idempotency-Key: %s", itest_unique("hostile-key"));
    return itest_http("POST", "/api/v1/orders", (const char *const[]){u->bearer, key, NULL}, body);
}

Test(hostile, orders_ship_and_reviews_refuse_and_change_nothing)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "hostile-os");
    itest_user_new(&buyer, "hostile-ob");
    char listing[40];
    new_listing(&seller, listing);
    static const struct {
        const char *fmt;
        const char *field;
    } members[] = {
        {"{\"listing_id\":%s,\"shipping_address\":" ADDRESS "}", "listing_id"},
        {"{\"listing_id\":\"%%s\",\"shipping_address\":%s}", "shipping_address"},
        {"{\"listing_id\":\"%%s\",\"shipping_address\":{\"name\":%s,\"line1\":\"L1\",\"city\":\"Berlin\","
         "\"postal_code\":\"10117\",\"country\":\"DE\"}}",
         "shipping_address.name"},
        {"{\"listing_id\":\"%%s\",\"shipping_address\":{\"name\":\"Ada\",\"line1\":\"L1\",\"line2\":%s,"
         "\"city\":\"Berlin\",\"postal_code\":\"10117\",\"country\":\"DE\"}}",
         "shipping_address.line2"},
        {"{\"listing_id\":\"%%s\",\"shipping_address\":{\"name\":\"Ada\",\"line1\":\"L1\",\"city\":%s,"
         "\"postal_code\":\"10117\",\"country\":\"DE\"}}",
         "shipping_address.city"},
    };
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        /* %%s becomes %s (the listing id) after the token went in: two rounds of formatting. */
        for (size_t b = 0; b < sizeof(BAD) / sizeof(BAD[0]); b++) {
            char *once = itest_fmt(members[i].fmt, BAD[b].token);
            char *body = strstr(once, "%s") != NULL ? itest_fmt(once, listing) : once;
            struct iresp r = buy(&buyer, body);
            cr_assert_eq(r.status, BAD[b].status, "order, %s in %s: %ld %s", BAD[b].why, members[i].field, r.status,
                         r.body);
            if (BAD[b].status == 422) {
                cr_assert_not_null(strstr(r.body, itest_fmt("\"%s\"", members[i].field)), "%s: %s", members[i].field,
                                   r.body);
            }
            iresp_free(&r);
        }
    }
    cr_assert_eq(pg_count("SELECT count(*) FROM orders WHERE listing_id = $1::uuid", listing), 0, "no order");
    cr_assert_eq(pg_count("SELECT count(*) FROM listings WHERE id = $1::uuid AND status = 'active'", listing), 1);

    /* A paid order: the tracking body. */
    struct iresp r = buy(&buyer, itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":" ADDRESS "}", listing));
    cr_assert_eq(r.status, 201, "%s", r.body);
    char order[40];
    snprintf(order, sizeof(order), "%s", ijson_str(r.json, "order", "id", NULL));
    iresp_free(&r);
    const char *const seller_auth[] = {seller.bearer, NULL};
    char ship[96], review[96];
    snprintf(ship, sizeof(ship), "/api/v1/orders/%s/ship", order);
    snprintf(review, sizeof(review), "/api/v1/orders/%s/review", order);
    refuse_all("POST", ship, seller_auth, "{\"carrier\":%s,\"number\":\"00340434161094042557\"}", "carrier");
    refuse_all("POST", ship, seller_auth, "{\"carrier\":\"DHL\",\"number\":%s}", "number");
    cr_assert_eq(pg_count("SELECT count(*) FROM orders WHERE id = $1::uuid AND status = 'paid'", order), 1);

    /* Delivered: the review body. */
    r = itest_http("POST", ship, seller_auth, "{\"carrier\":\"DHL\",\"number\":\"00340434161094042557\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
    const char *const buyer_auth[] = {buyer.bearer, NULL};
    r = itest_http("POST", itest_fmt("/api/v1/orders/%s/confirm", order), buyer_auth, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
    refuse_all("POST", review, buyer_auth, "{\"rating\":5,\"comment\":%s}", "comment");
    refuse_all("POST", review, buyer_auth, "{\"rating\":%s,\"comment\":\"Fine\"}", "rating");
    cr_assert_eq(pg_count("SELECT count(*) FROM reviews WHERE order_id = $1::uuid", order), 0, "no review");
    r = itest_http("POST", review, buyer_auth, "{\"rating\":5,\"comment\":\"Fine\"}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    iresp_free(&r);
}
