/*
 * fuzz_json — JSON request bodies: the strict entry point (core/json_strict.c) on every
 * input, then the body parser of one endpoint chosen by the first byte ('a' + index in
 * the table below): listing create and patch (with attributes checked against a category
 * tree of every attribute type), user register, profile and login, order create,
 * tracking (ship), confirm (empty body), review, image upload ticket and attach.
 * Input: one selector byte, then the body.
 *
 * Promises checked:
 *   - json_strict_parse: a document with bytes that are not RFC 3629 UTF-8 is malformed;
 *     an accepted one has no U+0000 in any member name or string (strlen = length), no
 *     null but at an allowed path, no nesting deeper than JSON_STRICT_MAX_DEPTH, and
 *     serialising it and parsing that again gives an equal document; a 422 names its
 *     members;
 *   - every endpoint parser: a 422 names at least one field; what it accepts obeys
 *     API.md's limits (lengths in characters, ranges, enumerations, UUIDs, no control
 *     characters in one-line fields, trimmed text).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/http.h"
#include "core/ids.h"
#include "core/json_strict.h"
#include "core/log.h"
#include "core/text.h"
#include "domain/category.h"
#include "domain/image.h"
#include "domain/listing.h"
#include "domain/notify.h"
#include "domain/offer.h"
#include "domain/order.h"
#include "domain/review.h"
#include "domain/saved_search.h"
#include "domain/user.h"
#include "domain/webhook.h"

#define FUZZ_NAME "json"
#include "fuzz_main.h"
#include "fuzz_categories.h"

static arena_t *arena;
static struct category_set *cats;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    arena = arena_create(16384);
    log_init("fuzz", "error");
    cats = fuzz_categories();
    return 0;
}

/* ---- the strict entry point ------------------------------------------------------- */

static void
check_tree(json_object *o, int depth, int top_object)
{
    FUZZ_ASSERT(depth <= JSON_STRICT_MAX_DEPTH + 1, "nesting is bounded");
    if (o == NULL) {
        return;
    }
    if (json_object_is_type(o, json_type_string)) {
        FUZZ_ASSERT(strlen(json_object_get_string(o)) == (size_t)json_object_get_string_len(o), "no U+0000 in a string");
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            json_object *e = json_object_array_get_idx(o, i);
            FUZZ_ASSERT(e != NULL, "no null inside an array");
            check_tree(e, depth + 1, 0);
        }
    } else if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val) {
            FUZZ_ASSERT(val != NULL || (top_object && strcmp(key, "location") == 0), "null only where allowed");
            check_tree(val, depth + 1, 0);
        }
    }
}

static void
check_strict(const char *body, size_t n)
{
    static const char *const nullable[] = {"location", NULL};
    struct json_strict_error err;
    json_object *doc = NULL;
    int rc = json_strict_parse(body, n, nullable, &doc, &err);
    if (!fuzz_utf8_ref((const unsigned char *)body, n)) {
        FUZZ_ASSERT(rc == MK_EMALFORMED, "bytes that are not UTF-8 are malformed JSON");
    }
    if (rc == MK_EMALFORMED) {
        FUZZ_ASSERT(err.message[0] != '\0' && err.offset <= n, "a malformed document says where");
        return;
    }
    if (rc == MK_EVALIDATION) {
        FUZZ_ASSERT(err.nproblems >= 1 && err.nproblems <= JSON_STRICT_MAX_PROBLEMS, "a 422 names members");
        for (size_t i = 0; i < err.nproblems; i++) {
            FUZZ_ASSERT(err.problems[i].path != NULL && err.problems[i].problem != NULL, "each problem has a path");
        }
        json_strict_error_free(&err);
        return;
    }
    FUZZ_ASSERT(rc == MK_OK, "json_strict_parse: OK, 400 or 422");
    check_tree(doc, 0, json_object_is_type(doc, json_type_object));
    /* round trip: what json-c writes of it is strict JSON again, and the same document */
    const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
    json_object *again = NULL;
    int rc2 = json_strict_parse(text, strlen(text), nullable, &again, &err);
    if (rc2 == MK_EVALIDATION) {
        json_strict_error_free(&err);
    }
    FUZZ_ASSERT(rc2 == MK_OK, "an accepted document, written out, is accepted again");
    FUZZ_ASSERT(json_object_equal(doc, again), "and it is the same document");
    json_object_put(again);
    json_object_put(doc);
}

/* ---- the endpoints ---------------------------------------------------------------- */

/* A one-line text field: trimmed, min..max characters, no control character. */
static void
check_line(const char *s, size_t min, size_t max, bool multiline, const char *what)
{
    if (s == NULL) {
        return;
    }
    size_t n = strlen(s), chars = text_chars(s);
    FUZZ_ASSERT(chars >= min && chars <= max, what);
    FUZZ_ASSERT(!text_has_control(s, multiline), what);
    FUZZ_ASSERT(n == 0 || (!isspace((unsigned char)s[0]) && !isspace((unsigned char)s[n - 1])), what);
}

static void
check_listing(struct request *r, json_object *body, bool partial)
{
    struct listing_input in;
    int rc = listing_parse(r, body, partial, &in);
    if (rc != MK_OK) {
        return;
    }
    static const char *const conditions[] = {"new", "like_new", "good", "fair", "poor"};
    FUZZ_ASSERT(partial || (in.title != NULL && in.category != NULL && in.condition != NULL && in.has_price &&
                            in.currency != NULL),
                "a new listing has every required member");
    check_line(in.title, LISTING_TITLE_MIN, LISTING_TITLE_MAX, false, "title: 3..120 characters, one line");
    check_line(in.description, 0, LISTING_DESCRIPTION_MAX, true, "description: at most 5000 characters");
    FUZZ_ASSERT(!in.has_price || (in.price_minor >= 1 && in.price_minor <= LISTING_PRICE_MAX), "price in range");
    FUZZ_ASSERT(in.currency == NULL || (strlen(in.currency) == 3 && isupper((unsigned char)in.currency[0]) &&
                                        isupper((unsigned char)in.currency[1]) && isupper((unsigned char)in.currency[2])),
                "currency: three upper-case letters");
    if (in.condition != NULL) {
        bool known = false;
        for (size_t i = 0; i < 5; i++) {
            known = known || strcmp(in.condition, conditions[i]) == 0;
        }
        FUZZ_ASSERT(known, "a known condition");
    }
    FUZZ_ASSERT(in.status == NULL || strcmp(in.status, "draft") == 0 || strcmp(in.status, "active") == 0,
                "status: draft or active");
    FUZZ_ASSERT(in.attributes == NULL || json_object_is_type(in.attributes, json_type_object), "attributes: an object");
    if (in.category != NULL) {
        r->err_fields = NULL;
        json_object *attrs = in.attributes != NULL ? in.attributes : http_json_own(r, json_object_new_object());
        int vrc = category_validate_attributes(cats, in.category, attrs, r);
        FUZZ_ASSERT(vrc == MK_OK || r->err_fields != NULL, "an attribute refused is named");
    }
}

static int
endpoint(struct request *r, json_object *body, int which)
{
    switch (which) {
    case 1:
        check_listing(r, body, false);
        return MK_OK;
    case 2:
        check_listing(r, body, true);
        return MK_OK;
    case 3: {
        struct user_register in;
        int rc = user_parse_register(r, body, &in);
        if (rc == MK_OK) {
            FUZZ_ASSERT(in.email != NULL && strchr(in.email, '@') != NULL && strlen(in.email) <= USER_EMAIL_MAX,
                        "email: an address of at most 254 bytes");
            FUZZ_ASSERT(user_password_problem(in.password) == NULL, "password: 10..128 characters");
            FUZZ_ASSERT(in.display_name != NULL, "display_name is required");
            check_line(in.display_name, 1, USER_NAME_MAX, false, "display_name: 1..60 characters, one line");
        }
        return rc;
    }
    case 4: {
        struct user_patch p;
        bool any;
        int rc = user_parse_profile(r, body, &p, &any);
        if (rc == MK_OK) {
            check_line(p.display_name, 1, USER_NAME_MAX, false, "display_name: 1..60 characters, one line");
            check_line(p.bio, 0, USER_BIO_MAX, true, "bio: at most 500 characters");
            FUZZ_ASSERT(any || (p.display_name == NULL && p.bio == NULL && !p.set_location), "any: a member sent");
        }
        return rc;
    }
    case 5: {
        const char *key, *password;
        int rc = user_parse_login(r, body, &key, &password);
        if (rc == MK_OK) {
            FUZZ_ASSERT(key != NULL && password != NULL, "login: a key and a password");
        }
        return rc;
    }
    case 6: {
        const char *listing, *offer;
        struct order_address a;
        int rc = order_parse_create(r, body, &listing, &offer, &a);
        if (rc == MK_OK) {
            FUZZ_ASSERT((listing != NULL) != (offer != NULL), "listing_id or offer_id, exactly one");
            FUZZ_ASSERT(uuid_valid(listing != NULL ? listing : offer), "listing_id / offer_id: a UUID");
            FUZZ_ASSERT(a.name != NULL && a.line1 != NULL && a.city != NULL && a.postal_code != NULL && a.country != NULL,
                        "an address has its required members");
            check_line(a.name, 1, ORDER_NAME_MAX, false, "name: 1..100 characters");
            check_line(a.line1, 1, ORDER_LINE_MAX, false, "line1: 1..200 characters");
            check_line(a.line2, 1, ORDER_LINE_MAX, false, "line2: 1..200 characters");
            check_line(a.city, 1, ORDER_CITY_MAX, false, "city: 1..100 characters");
            check_line(a.postal_code, 1, ORDER_POSTAL_MAX, false, "postal_code: 1..20 characters");
            FUZZ_ASSERT(order_country_valid(a.country), "country: ISO 3166-1 alpha-2");
        }
        return rc;
    }
    case 7: {
        struct order_tracking t;
        int rc = order_parse_tracking(r, body, &t);
        if (rc == MK_OK) {
            FUZZ_ASSERT(t.carrier != NULL && t.number != NULL, "tracking: carrier and number");
            check_line(t.carrier, 1, ORDER_CARRIER_MAX, false, "carrier: 1..50 characters");
            check_line(t.number, 1, ORDER_TRACKING_MAX, false, "number: 1..100 characters");
        }
        return rc;
    }
    case 8: {
        struct review_input in;
        int rc = review_parse(r, body, &in);
        if (rc == MK_OK) {
            FUZZ_ASSERT(in.rating >= REVIEW_RATING_MIN && in.rating <= REVIEW_RATING_MAX, "rating: 1..5");
            check_line(in.comment, 0, REVIEW_COMMENT_MAX, true, "comment: at most 2000 characters");
        }
        return rc;
    }
    case 9: {
        const char *ct;
        long long size;
        int rc = image_parse_upload(r, body, &ct, &size);
        if (rc == MK_OK) {
            FUZZ_ASSERT(image_content_type_ok(ct), "content_type: jpeg, png or webp");
            FUZZ_ASSERT(size >= 1 && size <= LISTING_IMAGE_MAX_BYTES, "size_bytes: 1..10 MiB");
        }
        return rc;
    }
    case 10: {
        const char *key;
        int rc = image_parse_attach(r, body, &key);
        if (rc == MK_OK) {
            FUZZ_ASSERT(key != NULL, "attach: a key");
        }
        return rc;
    }
    case 12: {
        long long amount;
        int rc = offer_parse_amount(r, body, &amount);
        if (rc == MK_OK) {
            FUZZ_ASSERT(amount >= 1 && amount <= LISTING_PRICE_MAX, "amount_minor: 1..100000000");
        }
        return rc;
    }
    case 13: {
        json_object *ids;
        int rc = notify_parse_read(r, body, &ids);
        if (rc == MK_OK && ids != NULL) {
            size_t n = json_object_array_length(ids);
            FUZZ_ASSERT(n >= 1 && n <= NOTIFY_READ_MAX_IDS, "read: 1..500 ids");
            for (size_t i = 0; i < n; i++) {
                const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
                FUZZ_ASSERT(uuid_valid(id), "read: every id a UUID");
                for (const char *c = id; *c != '\0'; c++) {
                    FUZZ_ASSERT(!(*c >= 'A' && *c <= 'Z'), "read: ids in lower case");
                }
            }
        } else if (rc == MK_OK) {
            json_object *all;
            FUZZ_ASSERT(json_object_object_get_ex(body, "all", &all) && json_object_get_boolean(all), "read: all: true");
        }
        return rc;
    }
    case 14: {
        struct saved_search_body in;
        int rc = saved_search_parse_body(r, body, cats, "fuzz-secret-fuzz-secret-fuzz-secret!", &in);
        if (rc == MK_OK) {
            check_line(in.name, 1, 100, false, "saved search name: 1..100 characters, one line");
            FUZZ_ASSERT(in.query != NULL && strlen(in.query) <= 2000, "saved search query: at most 2000 bytes");
            FUZZ_ASSERT(in.index.anchors != NULL && in.index.anchors[0] == '{', "saved search: anchors as a text[]");
        }
        return rc;
    }
    case 15: {
        struct webhook_input in;
        int rc = webhook_parse(r, body, &in);
        if (rc == MK_OK) {
            FUZZ_ASSERT(in.url != NULL && in.url[0] != '\0' && strlen(in.url) <= 2000, "webhook url: 1..2000 bytes");
            FUZZ_ASSERT(!text_has_control(in.url, false), "webhook url: no control characters");
            FUZZ_ASSERT(in.nevents >= 1, "webhook: at least one event");
            for (size_t i = 0; i < in.nevents; i++) {
                FUZZ_ASSERT(notify_type_valid(in.events[i]), "webhook: events are notification types");
                for (size_t k = 0; k < i; k++) {
                    FUZZ_ASSERT(strcmp(in.events[i], in.events[k]) != 0, "webhook: events distinct");
                }
            }
        }
        return rc;
    }
    default:
        return MK_OK;
    }
}

#define NPARSERS 16

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    int which = (int)((unsigned char)(data[0] - 'a') % NPARSERS);
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    check_strict(body, n);

    static const char *const paths[NPARSERS] = {
        "/api/v1/strict",  "/api/v1/listings",  "/api/v1/listings/x", "/api/v1/users",
        "/api/v1/users/me", "/api/v1/sessions", "/api/v1/orders",     "/api/v1/orders/x/ship",
        "/api/v1/orders/x/review", "/api/v1/listings/x/images/uploads", "/api/v1/listings/x/images",
        "/api/v1/orders/x/confirm", "/api/v1/offers/x/counter", "/api/v1/users/me/notifications/read",
        "/api/v1/users/me/saved-searches", "/api/v1/users/me/webhooks"};
    char *uri = arena_sprintf(arena, "REQUEST_URI=%s", paths[which]);
    char *env[] = {"REQUEST_METHOD=POST", uri, "CONTENT_TYPE=application/json", NULL};
    struct request r;
    if (http_request_init(&r, arena, env, body, n) != MK_OK) {
        abort();
    }
    json_object *doc;
    int rc;
    if (which == 11) {
        rc = http_json_empty(&r);   /* POST .../confirm: no body, or an empty object */
        FUZZ_ASSERT(rc != MK_OK || n == 0 || r.err_fields == NULL, "confirm: accepted means no problem");
    } else if ((rc = (which == 0 || which == 4) ? http_json_body_nullable(&r, (const char *const[]){"location", NULL}, &doc)
                                                : http_json_body(&r, &doc)) == MK_OK) {
        FUZZ_ASSERT(json_object_is_type(doc, json_type_object), "a body is an object");
        rc = endpoint(&r, doc, which);
        if (rc == MK_EVALIDATION) {
            FUZZ_ASSERT(r.err_fields != NULL && json_object_object_length(r.err_fields) >= 1, "a 422 names its fields");
        } else {
            FUZZ_ASSERT(rc == MK_OK, "a body parser: OK or 422");
        }
    } else {
        FUZZ_ASSERT(rc == MK_EMALFORMED || rc == MK_EVALIDATION, "a bad body: 400 or 422");
    }
    http_finish(&r, rc);
    arena_reset(arena);
    return 0;
}
