/* Listings, categories and images through nginx, against the local S3 (Swift). */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <vips/vips.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define PHONE                                                                                                          \
    "{\"title\":\"Pixel 7, barely used\",\"description\":\"With box\",\"category\":\"phones\","                         \
    "\"condition\":\"like_new\",\"price_minor\":32000,\"currency\":\"EUR\","                                           \
    "\"location\":{\"city\":\"Berlin\",\"country\":\"DE\",\"lat\":52.52,\"lon\":13.405},"                             \
    "\"attributes\":{\"brand\":\"Google\",\"storage_gb\":128}"

#define fmt itest_fmt

static const char *
field_problem(const struct iresp *r, const char *field)
{
    return ijson_str(r->json, "error", "fields", field, NULL);
}

/* A listing of u's from PHONE plus extra members (",\"status\":\"draft\"" ...). */
static void
new_listing(struct itest_user *u, const char *extra, char id[40], long long *seq)
{
    struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){u->bearer, NULL},
                                fmt("%s%s}", PHONE, extra != NULL ? extra : ""));
    cr_assert_eq(r.status, 201, "create: %s", r.body);
    snprintf(id, 40, "%s", ijson_str(r.json, "listing", "id", NULL));
    if (seq != NULL) {
        *seq = atoll(iresp_header(&r, "X-Event-Seq"));
    }
    iresp_free(&r);
}

static struct iresp
get_listing(const char *id, long long min_seq, const char *auth)
{
    char seq[64];
    snprintf(seq, sizeof(seq), "X-Min-Seq: %lld", min_seq);
    return itest_http("GET", fmt("/api/v1/listings/%s", id), (const char *const[]){seq, auth, NULL}, NULL);
}

static struct iresp
patch(struct itest_user *u, const char *id, const char *if_match, const char *body)
{
    char im[256];
    snprintf(im, sizeof(im), "If-Match: %s", if_match != NULL ? if_match : "");
    return itest_http("PATCH", fmt("/api/v1/listings/%s", id),
                      (const char *const[]){u->bearer, if_match != NULL ? im : NULL, NULL}, body);
}

/* Numbers come back as the doubles that were sent, from the write and from the read model
 * (the query pool wrote "%.15g": 89.99999999999999 was a 90, 0.30000000000000004 a 0.3). */
Test(listings, numbers_read_back_as_the_doubles_sent)
{
    struct itest_user u;
    itest_user_new(&u, "numbers");
    const double lat = 89.99999999999999, lon = 13.123456789012345, screen = 0.1 + 0.2;
    struct iresp r = itest_http(
        "POST", "/api/v1/listings", (const char *const[]){u.bearer, NULL},
        "{\"title\":\"Polar laptop\",\"category\":\"laptops\",\"condition\":\"good\",\"price_minor\":5000,"
        "\"currency\":\"EUR\",\"location\":{\"city\":\"North\",\"country\":\"NO\",\"lat\":89.99999999999999,"
        "\"lon\":13.123456789012345},\"attributes\":{\"brand\":\"A\",\"screen_in\":0.30000000000000004}}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    char id[64];
    snprintf(id, sizeof(id), "%s", ijson_str(r.json, "listing", "id", NULL));
    long long seq = atoll(iresp_header(&r, "X-Event-Seq"));
    cr_assert(ijson_double(r.json, "listing", "location", "lat", NULL) == lat, "written: %s", r.body);
    cr_assert(ijson_double(r.json, "listing", "location", "lon", NULL) == lon, "written: %s", r.body);
    cr_assert(ijson_double(r.json, "listing", "attributes", "screen_in", NULL) == screen, "written: %s", r.body);
    iresp_free(&r);
    r = get_listing(id, seq, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(ijson_double(r.json, "listing", "location", "lat", NULL) == lat, "read: %s", r.body);
    cr_assert(ijson_double(r.json, "listing", "location", "lon", NULL) == lon, "read: %s", r.body);
    cr_assert(ijson_double(r.json, "listing", "attributes", "screen_in", NULL) == screen, "read: %s", r.body);
    iresp_free(&r);
    r = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){u.bearer, NULL},
                   "{\"location\":{\"city\":\"North\",\"country\":\"NO\",\"lat\":89.99999999999999,"
                   "\"lon\":13.123456789012345}}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(ijson_double(r.json, "user", "location", "lat", NULL) == lat, "profile: %s", r.body);
    cr_assert(ijson_double(r.json, "user", "location", "lon", NULL) == lon, "profile: %s", r.body);
    iresp_free(&r);
}

/* ---- categories ------------------------------------------------------------------------ */

Test(listings, categories_are_a_tree_with_attribute_schemas)
{
    struct iresp r = itest_http("GET", "/api/v1/categories", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_object *cats = json_object_object_get(r.json, "categories");
    const char *want[] = {"electronics", "phones", "laptops", "clothing", "furniture", "books", "sports", "toys"};
    for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
        bool found = false;
        for (size_t i = 0; i < json_object_array_length(cats); i++) {
            json_object *c = json_object_array_get_idx(cats, i);
            if (strcmp(ijson_str(c, "slug", NULL), want[w]) == 0) {
                found = true;
                if (strcmp(want[w], "phones") == 0) {
                    cr_assert_str_eq(ijson_str(c, "parent", NULL), "electronics");
                    json_object *attrs = json_object_object_get(c, "attributes");
                    cr_assert_gt(json_object_array_length(attrs), 0);
                    json_object *a0 = json_object_array_get_idx(attrs, 0);
                    cr_assert_not_null(ijson_str(a0, "name", NULL));
                    cr_assert_not_null(ijson_str(a0, "type", NULL));
                    cr_assert(json_object_object_get_ex(a0, "required", NULL));
                }
            }
        }
        cr_assert(found, "category %s", want[w]);
    }
    char inm[128];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", iresp_header(&r, "ETag"));
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/categories", (const char *const[]){inm, NULL}, NULL);
    cr_assert_eq(r.status, 304);
    iresp_free(&r);
}

/* ---- create and validation --------------------------------------------------------------- */

Test(listings, create_returns_the_listing_and_the_read_model_serves_it)
{
    struct itest_user u;
    itest_user_new(&u, "Creator");
    struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){u.bearer, NULL}, PHONE "}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(iresp_header(&r, "ETag"), "\"1\"");
    cr_assert_not_null(iresp_header(&r, "X-Event-Seq"));
    cr_assert_not_null(iresp_header(&r, "Location"));
    json_object *l = json_object_object_get(r.json, "listing");
    cr_assert_str_eq(ijson_str(l, "seller_id", NULL), u.id);
    cr_assert_str_eq(ijson_str(l, "status", NULL), "active");
    cr_assert_eq(ijson_int(l, "version", NULL), 1);
    cr_assert_eq(ijson_int(l, "price_minor", NULL), 32000);
    cr_assert_eq(ijson_int(l, "attributes", "storage_gb", NULL), 128);
    cr_assert_eq(json_object_array_length(json_object_object_get(l, "images")), 0);
    char id[40];
    snprintf(id, sizeof(id), "%s", ijson_str(l, "id", NULL));
    long long seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);

    r = get_listing(id, seq, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(iresp_header(&r, "X-Read-Stale"));
    l = json_object_object_get(r.json, "listing");
    cr_assert_str_eq(ijson_str(l, "title", NULL), "Pixel 7, barely used");
    cr_assert_str_eq(ijson_str(l, "seller", "id", NULL), u.id);
    cr_assert_str_eq(ijson_str(l, "seller", "display_name", NULL), "Creator");
    cr_assert(json_object_object_get_ex(json_object_object_get(l, "seller"), "rating", NULL));
    cr_assert_eq(ijson_int(l, "favorites", NULL), 0);
    cr_assert_null(strstr(r.body, "category_path"), "internal members stay internal");
    cr_assert_null(strstr(r.body, "\"geo\""));
    const char *etag = iresp_header(&r, "ETag");
    cr_assert(strncmp(etag, "\"1-", 3) == 0, "the ETag starts with the version: %s", etag);
    char inm[128];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    iresp_free(&r);
    r = itest_http("GET", fmt("/api/v1/listings/%s", id), (const char *const[]){inm, NULL}, NULL);
    cr_assert_eq(r.status, 304);
    iresp_free(&r);

    /* The seller's public profile counts the active listing. */
    r = itest_http("GET", fmt("/api/v1/users/%s", u.id), (const char *const[]){fmt("X-Min-Seq: %lld", seq), NULL},
                   NULL);
    cr_assert_eq(ijson_int(r.json, "user", "active_listings", NULL), 1, "%s", r.body);
    iresp_free(&r);
}

Test(listings, every_limit_is_a_422_naming_its_field)
{
    struct itest_user u;
    itest_user_new(&u, "Limits");
    const char *auth[] = {u.bearer, NULL};
    char t121[200], d5001[5100];
    memset(t121, 't', 121);
    t121[121] = '\0';
    memset(d5001, 'd', 5001);
    d5001[5001] = '\0';
    const char *base = "\"category\":\"books\",\"condition\":\"good\",\"price_minor\":500,\"currency\":\"EUR\","
                       "\"location\":{\"city\":\"Paris\",\"country\":\"FR\",\"lat\":48.85,\"lon\":2.35},"
                       "\"attributes\":{\"author\":\"Hugo\"}";
    struct {
        const char *body;
        const char *field;
    } bad[] = {
        {fmt("{\"title\":\"ab\",%s}", base), "title"},
        {fmt("{\"title\":\"%s\",%s}", t121, base), "title"},
        {fmt("{%s}", base), "title"},
        {fmt("{\"title\":\"Les Miserables\",\"description\":\"%s\",%s}", d5001, base), "description"},
        {"{\"title\":\"Les Miserables\",\"category\":\"books\",\"condition\":\"mint\",\"price_minor\":500,"
         "\"currency\":\"EUR\",\"location\":{\"city\":\"Paris\",\"country\":\"FR\",\"lat\":48.85,\"lon\":2.35},"
         "\"attributes\":{\"author\":\"Hugo\"}}",
         "condition"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *body = strdup(bad[i].body);
        struct iresp r = itest_http("POST", "/api/v1/listings", auth, body);
        cr_assert_eq(r.status, 422, "%zu → %ld %.300s", i, r.status, r.body);
        cr_assert_not_null(field_problem(&r, bad[i].field), "%zu: %.300s", i, r.body);
        iresp_free(&r);
        free(body);
    }
    /* Numbers, currency and location, one member at a time. */
    const char *swaps[][2] = {
        {"\"price_minor\":0", "price_minor"},         {"\"price_minor\":100000001", "price_minor"},
        {"\"price_minor\":12.5", "price_minor"},      {"\"price_minor\":\"500\"", "price_minor"},
        {"\"currency\":\"eur\"", "currency"},         {"\"currency\":\"EURO\"", "currency"},
        {"\"location\":{\"city\":\"Paris\",\"country\":\"FR\",\"lat\":90.1,\"lon\":2}", "location.lat"},
        {"\"location\":{\"city\":\"Paris\",\"country\":\"FR\",\"lat\":1,\"lon\":-180.5}", "location.lon"},
        {"\"location\":{\"city\":\"Paris\",\"lat\":1,\"lon\":2}", "location.country"},
        {"\"location\":{\"country\":\"FR\",\"lat\":1,\"lon\":2}", "location.city"},
        {"\"status\":\"sold\"", "status"},             {"\"colour\":\"red\"", "colour"},
    };
    static const char *const members[] = {
        "\"title\":\"Les Miserables\"", "\"category\":\"books\"", "\"condition\":\"good\"",
        "\"price_minor\":500",            "\"currency\":\"EUR\"",
        "\"location\":{\"city\":\"Paris\",\"country\":\"FR\",\"lat\":48.85,\"lon\":2.35}",
        "\"attributes\":{\"author\":\"Hugo\"}",
    };
    for (size_t i = 0; i < sizeof(swaps) / sizeof(swaps[0]); i++) {
        /* The valid body with the swapped member in place of its own (a name given twice is 400). */
        size_t name_len = strcspn(swaps[i][0] + 1, "\"") + 2;
        char text[1024] = "{";
        for (size_t m = 0; m < sizeof(members) / sizeof(members[0]); m++) {
            if (strncmp(members[m], swaps[i][0], name_len) != 0) {
                strcat(text, members[m]);
                strcat(text, ",");
            }
        }
        strcat(text, swaps[i][0]);
        strcat(text, "}");
        char *body = strdup(text);
        struct iresp r = itest_http("POST", "/api/v1/listings", auth, body);
        cr_assert_eq(r.status, 422, "%s → %ld %.300s", swaps[i][0], r.status, r.body);
        cr_assert_not_null(field_problem(&r, swaps[i][1]), "%s: %.300s", swaps[i][0], r.body);
        iresp_free(&r);
        free(body);
    }
    /* The bounds themselves are accepted. */
    struct iresp r = itest_http("POST", "/api/v1/listings", auth,
                                fmt("{\"title\":\"abc\",\"category\":\"books\",\"condition\":\"poor\","
                                    "\"price_minor\":100000000,\"currency\":\"CHF\",\"location\":{\"city\":\"Z\","
                                    "\"country\":\"CH\",\"lat\":-90,\"lon\":180},\"attributes\":{\"author\":\"A\"}}"));
    cr_assert_eq(r.status, 201, "%s", r.body);
    iresp_free(&r);
}

Test(listings, attributes_are_checked_against_the_category_schema)
{
    struct itest_user u;
    itest_user_new(&u, "Attrs");
    const char *auth[] = {u.bearer, NULL};
    const char *head = "{\"title\":\"A thing\",\"condition\":\"good\",\"price_minor\":100,\"currency\":\"EUR\","
                       "\"location\":{\"city\":\"Rome\",\"country\":\"IT\",\"lat\":41.9,\"lon\":12.5},";
    struct {
        const char *tail;
        const char *field;
    } bad[] = {
        {"\"category\":\"phones\",\"attributes\":{\"brand\":\"X\",\"storage_gb\":\"128\"}}", "attributes.storage_gb"},
        {"\"category\":\"phones\",\"attributes\":{\"brand\":\"X\",\"storage_gb\":12.5}}", "attributes.storage_gb"},
        {"\"category\":\"phones\",\"attributes\":{\"brand\":\"X\"}}", "attributes.storage_gb"},
        {"\"category\":\"phones\",\"attributes\":{\"brand\":\"X\",\"storage_gb\":64,\"unlocked\":\"yes\"}}",
         "attributes.unlocked"},
        {"\"category\":\"phones\",\"attributes\":{\"brand\":\"X\",\"storage_gb\":64,\"warp\":1}}", "attributes.warp"},
        {"\"category\":\"laptops\",\"attributes\":{\"brand\":\"X\",\"screen_in\":\"big\"}}", "attributes.screen_in"},
        {"\"category\":\"laptops\",\"attributes\":{\"brand\":\"X\",\"os\":\"dos\"}}", "attributes.os"},
        {"\"category\":\"laptops\",\"attributes\":[1]}", "attributes"},
        {"\"category\":\"spaceships\",\"attributes\":{}}", "category"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *body = strdup(fmt("%s%s", head, bad[i].tail));
        struct iresp r = itest_http("POST", "/api/v1/listings", auth, body);
        cr_assert_eq(r.status, 422, "%s → %ld %s", bad[i].tail, r.status, r.body);
        cr_assert_not_null(field_problem(&r, bad[i].field), "%s: %s", bad[i].tail, r.body);
        iresp_free(&r);
        free(body);
    }
    /* Several problems are all reported at once. */
    struct iresp r = itest_http("POST", "/api/v1/listings", auth,
                                fmt("%s\"category\":\"laptops\",\"attributes\":{\"ram_gb\":\"8\",\"os\":\"dos\","
                                    "\"warp\":true}}",
                                    head));
    cr_assert_eq(r.status, 422);
    cr_assert_not_null(field_problem(&r, "attributes.ram_gb"));
    cr_assert_not_null(field_problem(&r, "attributes.os"));
    cr_assert_not_null(field_problem(&r, "attributes.warp"));
    cr_assert_not_null(field_problem(&r, "attributes.brand"), "missing required (inherited from electronics)");
    iresp_free(&r);
    /* More than 30 attributes. */
    char many[4096] = "";
    for (int i = 0; i < 31; i++) {
        strcat(many, fmt("%s\"a%d\":1", i ? "," : "", i));
    }
    r = itest_http("POST", "/api/v1/listings", auth, fmt("%s\"category\":\"toys\",\"attributes\":{%s}}", head, many));
    cr_assert_eq(r.status, 422);
    cr_assert_not_null(field_problem(&r, "attributes"), "%s", r.body);
    iresp_free(&r);
    /* Each type accepted. */
    r = itest_http("POST", "/api/v1/listings", auth,
                   fmt("%s\"category\":\"laptops\",\"attributes\":{\"brand\":\"Lenovo\",\"screen_in\":14,"
                       "\"ram_gb\":16,\"os\":\"linux\"}}",
                       head));
    cr_assert_eq(r.status, 201, "%s", r.body);
    iresp_free(&r);
}

/* ---- changes ------------------------------------------------------------------------------ */

Test(listings, if_match_matrix)
{
    struct itest_user u, other;
    itest_user_new(&u, "Matrix");
    itest_user_new(&other, "Intruder");
    char id[40];
    new_listing(&u, NULL, id, NULL);

    struct iresp r = patch(&u, id, NULL, "{\"price_minor\":31000}");
    cr_assert_eq(r.status, 428, "no If-Match");
    cr_assert_str_eq(iresp_error_code(&r), "precondition_required");
    iresp_free(&r);
    r = patch(&u, id, "\"7\"", "{\"price_minor\":31000}");
    cr_assert_eq(r.status, 412, "stale");
    cr_assert_str_eq(iresp_error_code(&r), "precondition_failed");
    iresp_free(&r);
    r = patch(&u, id, "garbage", "{\"price_minor\":31000}");
    cr_assert_eq(r.status, 412, "unparsable");
    iresp_free(&r);
    r = patch(&other, id, "\"1\"", "{\"price_minor\":1}");
    cr_assert_eq(r.status, 403, "not the seller");
    cr_assert_str_eq(iresp_error_code(&r), "forbidden");
    iresp_free(&r);
    r = patch(&u, id, "\"1\"", "{\"price_minor\":31000,\"title\":\"Pixel 7, like new\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(iresp_header(&r, "ETag"), "\"2\"");
    cr_assert_eq(ijson_int(r.json, "listing", "version", NULL), 2);
    cr_assert_eq(ijson_int(r.json, "listing", "price_minor", NULL), 31000);
    long long seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    r = patch(&u, id, "\"1\"", "{\"price_minor\":30000}");
    cr_assert_eq(r.status, 412, "the old version is stale now");
    iresp_free(&r);
    /* A read's ETag ("V-hash") and a weak tag work as If-Match too. */
    r = get_listing(id, seq, NULL);
    char etag[128];
    snprintf(etag, sizeof(etag), "%s", iresp_header(&r, "ETag"));
    cr_assert_eq(ijson_int(r.json, "listing", "price_minor", NULL), 31000);
    iresp_free(&r);
    r = patch(&u, id, etag, "{\"price_minor\":30500}");
    cr_assert_eq(r.status, 200, "If-Match with the read's ETag %s: %s", etag, r.body);
    iresp_free(&r);
    /* A list matches when any of its tags names the version, in any place; a value that is
     * not a list of entity tags matches nothing (RFC 9110 §13.1.1). */
    r = patch(&u, id, "\"9\"garbage, \"3\"", "{\"price_minor\":30000}");
    cr_assert_eq(r.status, 412, "junk in the list: %s", r.body);
    iresp_free(&r);
    r = patch(&u, id, "\"3\"garbage", "{\"price_minor\":30000}");
    cr_assert_eq(r.status, 412, "junk after the tag: %s", r.body);
    iresp_free(&r);
    r = patch(&u, id, "\"9\", W/\"3\"", "{\"price_minor\":30000}");
    cr_assert_eq(r.status, 200, "the version second in the list: %s", r.body);
    iresp_free(&r);
    /* Validation of a patch, and attributes against a new category. */
    r = patch(&u, id, "\"4\"", "{\"category\":\"books\"}");
    cr_assert_eq(r.status, 422, "phone attributes do not fit books: %s", r.body);
    cr_assert_not_null(field_problem(&r, "attributes.author"));
    iresp_free(&r);
    r = patch(&u, id, "\"4\"", "{\"category\":\"books\",\"attributes\":{\"author\":\"Eco\"}}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);

    /* Reserved, sold and deleted listings cannot change (orders set the first two). */
    PGconn *pg = itest_pg();
    const char *states[] = {"reserved", "sold"};
    for (int i = 0; i < 2; i++) {
        const char *params[] = {id, states[i]};
        PQclear(PQexecParams(pg, "UPDATE listings SET status = $2 WHERE id = $1::uuid", 2, NULL, params, NULL, NULL, 0));
        r = patch(&u, id, "\"5\"", "{\"price_minor\":1000}");
        cr_assert_eq(r.status, 409, "%s: %ld", states[i], r.status);
        cr_assert_str_eq(iresp_error_code(&r), "invalid_transition");
        iresp_free(&r);
        r = itest_http("DELETE", fmt("/api/v1/listings/%s", id), (const char *const[]){u.bearer, NULL}, NULL);
        cr_assert_eq(r.status, 409, "delete when %s", states[i]);
        iresp_free(&r);
    }
    const char *params[] = {id, "active"};
    PQclear(PQexecParams(pg, "UPDATE listings SET status = $2 WHERE id = $1::uuid", 2, NULL, params, NULL, NULL, 0));
    PQfinish(pg);
    r = itest_http("DELETE", fmt("/api/v1/listings/%s", id), (const char *const[]){other.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 403, "another user's DELETE");
    iresp_free(&r);
    r = itest_http("DELETE", fmt("/api/v1/listings/%s", id), (const char *const[]){u.bearer, "If-Match: \"1\"", NULL},
                   NULL);
    cr_assert_eq(r.status, 412, "DELETE honours If-Match when given");
    iresp_free(&r);
    r = itest_http("DELETE", fmt("/api/v1/listings/%s", id), (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 204);
    seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    r = patch(&u, id, "\"6\"", "{\"price_minor\":1000}");
    cr_assert_eq(r.status, 409, "a deleted listing cannot change");
    iresp_free(&r);
    r = get_listing(id, seq, NULL);
    cr_assert_eq(r.status, 404, "deleted → 404");
    iresp_free(&r);
    r = itest_http("DELETE", fmt("/api/v1/listings/%s", id), (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 404, "deleting twice");
    iresp_free(&r);
}

Test(listings, drafts_are_the_sellers_alone_until_activated)
{
    struct itest_user u, other;
    itest_user_new(&u, "Drafter");
    itest_user_new(&other, "Peeker");
    char id[40];
    long long seq;
    new_listing(&u, ",\"status\":\"draft\"", id, &seq);
    struct iresp r = get_listing(id, seq, u.bearer);
    cr_assert_eq(r.status, 200, "the seller sees the draft: %s", r.body);
    cr_assert_str_eq(ijson_str(r.json, "listing", "status", NULL), "draft");
    iresp_free(&r);
    r = get_listing(id, seq, NULL);
    cr_assert_eq(r.status, 404, "anonymous");
    iresp_free(&r);
    r = get_listing(id, seq, other.bearer);
    cr_assert_eq(r.status, 404, "another user");
    iresp_free(&r);
    r = patch(&u, id, "\"1\"", "{\"status\":\"active\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    r = get_listing(id, seq, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(ijson_str(r.json, "listing", "status", NULL), "active");
    iresp_free(&r);
    r = patch(&u, id, "\"2\"", "{\"status\":\"draft\"}");
    cr_assert_eq(r.status, 200, "and back");
    iresp_free(&r);
}

Test(listings, seller_name_changes_reach_their_listings)
{
    struct itest_user u;
    itest_user_new(&u, "Renamer");
    char a[40], b[40];
    new_listing(&u, NULL, a, NULL);
    new_listing(&u, NULL, b, NULL);
    struct iresp w = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){u.bearer, NULL},
                                "{\"display_name\":\"Renamed Seller\"}");
    cr_assert_eq(w.status, 200);
    long long seq = atoll(iresp_header(&w, "X-Event-Seq"));
    iresp_free(&w);
    const char *ids[] = {a, b};
    for (int i = 0; i < 2; i++) {
        struct iresp r = get_listing(ids[i], seq, NULL);
        cr_assert_eq(r.status, 200);
        cr_assert_null(iresp_header(&r, "X-Read-Stale"), "X-Min-Seq covers the seller's rename");
        cr_assert_str_eq(ijson_str(r.json, "listing", "seller", "display_name", NULL), "Renamed Seller");
        iresp_free(&r);
    }
}

Test(listings, unknown_and_malformed_ids_are_404)
{
    struct itest_user u;
    itest_user_new(&u, "Lost");
    struct iresp r = itest_http("GET", "/api/v1/listings/00000000-0000-4000-8000-000000000000", NULL, NULL);
    cr_assert_eq(r.status, 404);
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/listings/nope", NULL, NULL);
    cr_assert_eq(r.status, 404);
    iresp_free(&r);
    r = patch(&u, "00000000-0000-4000-8000-000000000000", "\"1\"", "{\"price_minor\":5}");
    cr_assert_eq(r.status, 404);
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/listings", NULL, PHONE "}");
    cr_assert_eq(r.status, 401, "creating needs a session");
    iresp_free(&r);
}

/* ---- images --------------------------------------------------------------------------------- */

/* A PNG of w x h made with libvips (no files needed). *out is g_malloc-ed: g_free it. */
static size_t
make_png(int w, int h, unsigned char **out)
{
    static bool inited;
    if (!inited) {
        cr_assert_eq(VIPS_INIT("test_listings"), 0);
        inited = true;
    }
    VipsImage *img = NULL;
    void *buf = NULL;
    size_t len = 0;
    cr_assert_eq(vips_xyz(&img, w, h, NULL), 0);   /* two bands of coordinates: a gradient */
    VipsImage *u8 = NULL;
    cr_assert_eq(vips_cast_uchar(img, &u8, NULL), 0);
    cr_assert_eq(vips_pngsave_buffer(u8, &buf, &len, NULL), 0);
    g_object_unref(img);
    g_object_unref(u8);
    *out = buf;
    return len;
}

struct ticket {
    char key[256];
    char url[2048];
    char content_type[64];
    char content_length[32];
};

static long
ask_upload(struct itest_user *u, const char *listing, const char *type, size_t size, struct ticket *t)
{
    struct iresp r = itest_http("POST", fmt("/api/v1/listings/%s/images/uploads", listing),
                                (const char *const[]){u->bearer, NULL},
                                fmt("{\"content_type\":\"%s\",\"size_bytes\":%zu}", type, size));
    long status = r.status;
    if (status == 201) {
        snprintf(t->key, sizeof(t->key), "%s", ijson_str(r.json, "key", NULL));
        snprintf(t->url, sizeof(t->url), "%s", ijson_str(r.json, "upload_url", NULL));
        snprintf(t->content_type, sizeof(t->content_type), "%s", ijson_str(r.json, "headers", "Content-Type", NULL));
        snprintf(t->content_length, sizeof(t->content_length), "%s",
                 ijson_str(r.json, "headers", "Content-Length", NULL));
        cr_assert_str_eq(ijson_str(r.json, "method", NULL), "PUT");
        cr_assert_not_null(ijson_str(r.json, "expires_at", NULL));
        cr_assert(strncmp(t->key, fmt("listings/%s/", listing), 10 + strlen(listing)) == 0, "%s", t->key);
    }
    iresp_free(&r);
    return status;
}

/* PUT bytes to a pre-signed URL with the given Content-Type; the HTTP status. */
static long
put_object(const char *url, const char *content_type, const void *bytes, size_t len)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, fmt("Content-Type: %s", content_type));
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, bytes);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    /* upload URLs point at nginx on the public origin (HTTPS, the stack's self-signed
     * certificate), which passes them to the store: see nginx/marketd-locations.conf.in */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    fclose(devnull);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static struct iresp
attach(struct itest_user *u, const char *listing, const char *key)
{
    return itest_http("POST", fmt("/api/v1/listings/%s/images", listing), (const char *const[]){u->bearer, NULL},
                      fmt("{\"key\":\"%s\"}", key));
}

/* Upload and attach a w x h PNG; returns the image id (static). */
static const char *
add_png(struct itest_user *u, const char *listing, int w, int h)
{
    static char image_id[40];
    unsigned char *png;
    size_t n = make_png(w, h, &png);
    struct ticket t;
    cr_assert_eq(ask_upload(u, listing, "image/png", n, &t), 201);
    cr_assert_eq(put_object(t.url, t.content_type, png, n), 200);
    g_free(png);
    struct iresp r = attach(u, listing, t.key);
    cr_assert_eq(r.status, 201, "attach: %s", r.body);
    snprintf(image_id, sizeof(image_id), "%s", ijson_str(r.json, "image", "id", NULL));
    iresp_free(&r);
    return image_id;
}

struct image_probe {
    const char *listing;
    const char *image_id;
    json_object *found;    /* the image as the read model shows it, once thumbnailed */
    int count;             /* images of the listing */
};

static bool
image_state(void *arg)
{
    struct image_probe *p = arg;
    struct iresp r = itest_http("GET", fmt("/api/v1/listings/%s", p->listing), NULL, NULL);
    json_object *images = json_object_object_get(json_object_object_get(r.json, "listing"), "images");
    p->count = (int)json_object_array_length(images);
    json_object_put(p->found);
    p->found = NULL;
    for (int i = 0; i < p->count; i++) {
        json_object *img = json_object_array_get_idx(images, i);
        if (strcmp(ijson_str(img, "id", NULL), p->image_id) == 0 && ijson_str(img, "thumb_url", NULL) != NULL) {
            p->found = json_object_get(img);
        }
    }
    iresp_free(&r);
    return p->found != NULL;
}

static bool
image_gone(void *arg)
{
    image_state(arg);
    return ((struct image_probe *)arg)->count == 0;
}

/* GET url (a /media/ URL through nginx): the status. */
static long
fetch_status(const char *url)
{
    struct iresp r = itest_http("GET", url, NULL, NULL);
    long s = r.status;
    iresp_free(&r);
    return s;
}

struct gone_probe {
    const char *url;
};

static bool
object_gone(void *arg)
{
    return fetch_status(((struct gone_probe *)arg)->url) == 404;
}

Test(listings, upload_attach_and_thumbnail)
{
    struct itest_user u;
    itest_user_new(&u, "Photographer");
    char id[40];
    new_listing(&u, NULL, id, NULL);
    unsigned char *png;
    size_t n = make_png(800, 600, &png);
    struct ticket t;
    cr_assert_eq(ask_upload(&u, id, "image/png", n, &t), 201);
    cr_assert_str_eq(t.content_type, "image/png");
    cr_assert_eq((size_t)atoll(t.content_length), n);

    /* The signature binds type and length: the endpoint refuses anything else. */
    cr_assert_eq(put_object(t.url, "image/jpeg", png, n), 403, "another content type");
    cr_assert_eq(put_object(t.url, "image/png", png, n - 1), 403, "another length");
    struct iresp r = attach(&u, id, t.key);
    cr_assert_eq(r.status, 422, "nothing uploaded yet: %s", r.body);
    cr_assert_not_null(field_problem(&r, "key"));
    iresp_free(&r);

    cr_assert_eq(put_object(t.url, t.content_type, png, n), 200, "exactly the returned headers");
    g_free(png);
    r = attach(&u, id, t.key);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(iresp_header(&r, "ETag"), "\"2\"", "attaching bumps the listing's version");
    cr_assert_not_null(iresp_header(&r, "X-Event-Seq"));
    const char *image_id = ijson_str(r.json, "image", "id", NULL);
    cr_assert(json_object_is_type(json_object_object_get(json_object_object_get(r.json, "image"), "thumb_url"),
                                  json_type_null),
              "thumb_url is null until the projector made it");
    char url[1024];
    snprintf(url, sizeof(url), "%s", ijson_str(r.json, "image", "url", NULL));
    struct image_probe p = {id, strdup(image_id), NULL, 0};
    iresp_free(&r);
    r = attach(&u, id, t.key);
    cr_assert(r.status == 422 || r.status == 409, "attaching twice: %ld", r.status);
    iresp_free(&r);

    cr_assert(itest_poll(10000, image_state, &p), "the thumbnail appears");
    cr_assert_eq(ijson_int(p.found, "width", NULL), 800);
    cr_assert_eq(ijson_int(p.found, "height", NULL), 600);
    cr_assert_str_eq(ijson_str(p.found, "url", NULL), url);
    char thumb[1024];
    snprintf(thumb, sizeof(thumb), "%s", ijson_str(p.found, "thumb_url", NULL));
    cr_assert_eq(fetch_status(url), 200, "the image is served under /media/");
    struct iresp th = itest_http("GET", thumb, NULL, NULL);
    cr_assert_eq(th.status, 200, "the thumbnail is served: %s", thumb);
    cr_assert_str_eq(iresp_header(&th, "Content-Type"), "image/jpeg");
    cr_assert(th.len > 100 && th.len < 100000);
    iresp_free(&th);

    /* Removing the image removes it from the listing and both objects from the bucket. */
    r = itest_http("DELETE", fmt("/api/v1/listings/%s/images/%s", id, p.image_id),
                   (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    iresp_free(&r);
    cr_assert(itest_poll(10000, image_gone, &p), "the image leaves the read model");
    struct gone_probe g1 = {url}, g2 = {thumb};
    cr_assert(itest_poll(10000, object_gone, &g1), "the object is deleted");
    cr_assert(itest_poll(10000, object_gone, &g2), "the thumbnail is deleted");
    r = itest_http("DELETE", fmt("/api/v1/listings/%s/images/%s", id, p.image_id),
                   (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 404, "removing twice");
    iresp_free(&r);
    json_object_put(p.found);
    free((void *)p.image_id);
}

Test(listings, a_text_file_sent_as_jpeg_is_removed_by_the_projector)
{
    struct itest_user u;
    itest_user_new(&u, "Trickster");
    char id[40];
    new_listing(&u, NULL, id, NULL);
    const char *text = "this is plain text pretending to be a JPEG photo of a phone";
    size_t n = strlen(text);
    struct ticket t;
    cr_assert_eq(ask_upload(&u, id, "image/jpeg", n, &t), 201);
    cr_assert_eq(put_object(t.url, "image/jpeg", text, n), 200);
    struct iresp r = attach(&u, id, t.key);
    cr_assert_eq(r.status, 201, "type and size match what was announced: %s", r.body);
    char url[1024];
    snprintf(url, sizeof(url), "%s", ijson_str(r.json, "image", "url", NULL));
    struct image_probe p = {id, ijson_str(r.json, "image", "id", NULL), NULL, 1};
    cr_assert(itest_poll(10000, image_gone, &p), "the projector drops what does not decode");
    iresp_free(&r);
    struct gone_probe g = {url};
    cr_assert(itest_poll(10000, object_gone, &g), "and deletes it from the bucket");
    PGconn *pg = itest_pg();
    const char *params[] = {id};
    PGresult *res = PQexecParams(pg, "SELECT count(*) FROM listing_images WHERE listing_id = $1::uuid", 1, NULL,
                                 params, NULL, NULL, 0);
    cr_assert_str_eq(PQgetvalue(res, 0, 0), "0", "and from the write model");
    PQclear(res);
    PQfinish(pg);
}

Test(listings, upload_rules)
{
    struct itest_user u, other;
    itest_user_new(&u, "Uploader");
    itest_user_new(&other, "Stranger");
    char id[40], id2[40];
    new_listing(&u, NULL, id, NULL);
    new_listing(&u, NULL, id2, NULL);
    struct ticket t;
    struct iresp r = itest_http("POST", fmt("/api/v1/listings/%s/images/uploads", id),
                                (const char *const[]){u.bearer, NULL}, "{\"content_type\":\"image/gif\",\"size_bytes\":10}");
    cr_assert_eq(r.status, 422);
    cr_assert_not_null(field_problem(&r, "content_type"));
    iresp_free(&r);
    r = itest_http("POST", fmt("/api/v1/listings/%s/images/uploads", id), (const char *const[]){u.bearer, NULL},
                   "{\"content_type\":\"image/png\",\"size_bytes\":10485761}");
    cr_assert_eq(r.status, 422, "over 10 MiB");
    cr_assert_not_null(field_problem(&r, "size_bytes"));
    iresp_free(&r);
    cr_assert_eq(ask_upload(&other, id, "image/png", 100, &t), 403, "not the seller");
    cr_assert_eq(ask_upload(&u, id, "image/png", 100, &t), 201);
    r = attach(&u, id2, t.key);
    cr_assert_eq(r.status, 422, "a key of another listing");
    iresp_free(&r);
    r = attach(&u, id, "listings/nope/never-issued.png");
    cr_assert_eq(r.status, 422, "a key never issued");
    iresp_free(&r);
    r = attach(&other, id, t.key);
    cr_assert_eq(r.status, 403, "another user's attach");
    iresp_free(&r);

    /* At most 10 images. */
    for (int i = 0; i < 10; i++) {
        add_png(&u, id2, 16, 16);
    }
    cr_assert_eq(ask_upload(&u, id2, "image/png", 100, &t), 422, "an 11th image");
}

static void
restart_swift(void)
{
    itest_stack("start", "swift");
}

Test(listings, s3_down_fails_image_endpoints_only, .fini = restart_swift)
{
    struct itest_user u;
    itest_user_new(&u, "Offline");
    char id[40];
    new_listing(&u, NULL, id, NULL);
    itest_stack("stop", "swift");
    struct ticket t;
    cr_assert_eq(ask_upload(&u, id, "image/png", 100, &t), 503, "upload tickets need the store");
    struct iresp r = itest_http("DELETE", fmt("/api/v1/listings/%s/images/00000000-0000-4000-8000-000000000000", id),
                                (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 503);
    cr_assert_not_null(iresp_header(&r, "Retry-After"));
    iresp_free(&r);
    /* Listing writes without images go on. */
    char other[40];
    new_listing(&u, NULL, other, NULL);
    r = patch(&u, id, "\"1\"", "{\"price_minor\":999}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
    itest_stack("start", "swift");
}

static void
restart_swift_and_projector(void)
{
    itest_stack("start", "swift");
    itest_stack("start", "projector");
}

struct listing_probe {
    const char *id;
};

static bool
listing_served(void *arg)
{
    struct iresp r = itest_http("GET", fmt("/api/v1/listings/%s", ((struct listing_probe *)arg)->id), NULL, NULL);
    long status = r.status;
    iresp_free(&r);
    return status == 200;
}

/* Thumbnails are made off the projector's critical path: with S3 unreachable an attached image
 * stays pending while every other event is projected at once, and once S3 is back the image is
 * thumbnailed without anybody's help. */
Test(listings, a_pending_image_never_holds_back_other_events, .fini = restart_swift_and_projector)
{
    struct itest_user u;
    itest_user_new(&u, "Patient");
    char id[40];
    new_listing(&u, NULL, id, NULL);
    itest_stack("stop", "projector");   /* nothing may thumbnail the image before S3 goes */
    struct image_probe p = {id, strdup(add_png(&u, id, 64, 48)), NULL, 0};
    itest_stack("stop", "swift");
    itest_stack("start", "projector");

    char other[40];
    new_listing(&u, NULL, other, NULL);
    struct listing_probe lp = {other};
    cr_assert(itest_poll(10000, listing_served, &lp), "a new listing waits behind an image S3 cannot serve");
    cr_assert_not(image_state(&p), "no thumbnail without S3");
    cr_assert_eq(p.count, 1, "the listing shows its pending image");

    itest_stack("start", "swift");
    cr_assert(itest_poll(30000, image_state, &p), "the thumbnail is made once S3 is back");
    cr_assert_eq(ijson_int(p.found, "width", NULL), 64);
    json_object_put(p.found);
    free((void *)p.image_id);
}

static void
start_projector(void)
{
    itest_stack("start", "projector");
}

struct projected_probe {
    const char *id;
    long long seq;
};

/* The listing is in the read model at seq or later (X-Min-Seq answered without X-Read-Stale). */
static bool
projected_at(void *arg)
{
    struct projected_probe *pp = arg;
    struct iresp r = get_listing(pp->id, pp->seq, NULL);
    bool ok = r.status == 200 && iresp_header(&r, "X-Read-Stale") == NULL;
    iresp_free(&r);
    return ok;
}

/* The projector looks a seller up once per batch for the listings it embeds them in; a rename
 * within the same batch must reach the listings applied after it as well as those before. */
Test(listings, a_rename_within_one_batch_reaches_every_listing, .fini = start_projector)
{
    struct itest_user u;
    itest_user_new(&u, "Batcher");
    char before[40], after[40];
    long long seq;
    itest_stack("stop", "projector");   /* the three events below are then read in one batch */
    new_listing(&u, NULL, before, NULL);
    struct iresp w = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){u.bearer, NULL},
                                "{\"display_name\":\"Batch Renamed\"}");
    cr_assert_eq(w.status, 200);
    iresp_free(&w);
    new_listing(&u, NULL, after, &seq);
    itest_stack("start", "projector");
    struct projected_probe pp = {after, seq};
    cr_assert(itest_poll(20000, projected_at, &pp), "the projector caught up");
    const char *ids[] = {before, after};
    for (int i = 0; i < 2; i++) {   /* applied in order: every earlier event is in too */
        struct iresp r = get_listing(ids[i], 1, NULL);
        cr_assert_eq(r.status, 200);
        cr_assert_str_eq(ijson_str(r.json, "listing", "seller", "display_name", NULL), "Batch Renamed", "%s listing",
                         i == 0 ? "the earlier" : "the later");
        iresp_free(&r);
    }
}
