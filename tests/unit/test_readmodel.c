/* readmodel_to_json walks BSON straight into json-c objects; it must give the JSON that
 * libbson's relaxed extended JSON text parsed by json-c gives (readmodel_to_json_text), byte
 * for byte, for every document the read model holds, and fall back to the text for the rest. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <bson/bson.h>
#include <json-c/json.h>

#include "query/readmodel.h"

static void
setup(void)
{
    json_c_set_serialization_double_format("%.15g", JSON_C_OPTION_GLOBAL);   /* as worker.c */
}

TestSuite(readmodel_json, .init = setup);

/* Both conversions of doc, serialized; asserts they are equal and returns whether the
 * direct one was taken (its objects differ from the text's only in where they came from). */
static void
same_json(const bson_t *doc)
{
    json_object *direct = readmodel_to_json(doc);
    json_object *text = readmodel_to_json_text(doc);
    const char *a = direct != NULL ? json_object_to_json_string_ext(direct, JSON_C_TO_STRING_PLAIN) : "(null)";
    const char *b = text != NULL ? json_object_to_json_string_ext(text, JSON_C_TO_STRING_PLAIN) : "(null)";
    cr_expect_str_eq(a, b, "direct %s\n  text %s", a, b);
    json_object_put(direct);
    json_object_put(text);
}

Test(readmodel_json, a_listing_document)
{
    bson_t *doc = BCON_NEW("_id", BCON_UTF8("3f0c9a4e-1111-4222-8333-444455556666"), "title", BCON_UTF8("Oak lamp \"vintage\" \\ é ✓ \t\n"),
                           "price_minor", BCON_INT64(12500), "version", BCON_INT32(3), "lat", BCON_DOUBLE(52.52),
                           "lon", BCON_DOUBLE(13.405), "whole", BCON_DOUBLE(2.0), "neg0", BCON_DOUBLE(-0.0),
                           "tiny", BCON_DOUBLE(5e-324), "huge", BCON_DOUBLE(DBL_MAX), "third", BCON_DOUBLE(1.0 / 3.0),
                           "big", BCON_INT64(INT64_MAX), "small", BCON_INT64(INT64_MIN), "i32", BCON_INT32(INT32_MIN),
                           "ok", BCON_BOOL(true), "no", BCON_BOOL(false), "nothing", BCON_NULL,
                           "location", "{", "city", BCON_UTF8("Köln"), "geo", "[", BCON_DOUBLE(6.96), BCON_DOUBLE(50.94), "]", "}",
                           "images", "[", "{", "key", BCON_UTF8("a/b.jpg"), "w", BCON_INT32(640), "}", "{", "}", "]",
                           "empty", "[", "]", "nested", "{", "a", "{", "b", "[", "[", BCON_NULL, "]", "]", "}", "}",
                           "control", BCON_UTF8("\x01\x1f</script>\xe2\x80\xa8"));
    same_json(doc);
    bson_destroy(doc);
}

Test(readmodel_json, a_string_with_an_embedded_nul)
{
    bson_t doc = BSON_INITIALIZER;
    bson_append_utf8(&doc, "s", -1, "a\0b", 3);
    same_json(&doc);
    bson_destroy(&doc);
}

Test(readmodel_json, types_without_a_plain_json_value_go_through_the_text)
{
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, "5f1e2d3c4b5a697887766554");
    bson_t *doc = BCON_NEW("n", BCON_INT32(1), "when", BCON_DATE_TIME(1764000000123), "oid", BCON_OID(&oid),
                           "inner", "{", "nan", BCON_DOUBLE(NAN), "}", "inf", BCON_DOUBLE(INFINITY));
    same_json(doc);
    json_object *o = readmodel_to_json(doc);
    cr_assert_not_null(o);
    json_object *when;
    cr_assert(json_object_object_get_ex(o, "when", &when));
    cr_expect(json_object_is_type(when, json_type_object), "a date is relaxed extended JSON's {\"$date\": ...}");
    json_object_put(o);
    bson_destroy(doc);
}

Test(readmodel_json, a_string_that_is_not_utf8_is_refused_like_the_text)
{
    bson_t doc = BSON_INITIALIZER;
    bson_append_utf8(&doc, "bad", -1, "\xff\xfe", 2);
    json_object *direct = readmodel_to_json(&doc);
    json_object *text = readmodel_to_json_text(&doc);
    cr_expect_eq(direct == NULL, text == NULL);
    json_object_put(direct);
    json_object_put(text);
    bson_destroy(&doc);
}

/* readmodel_listing_item writes a listing's JSON text from its BSON; it must be the text of
 * readmodel_listing_json's object (with distance_km last) as http.c serializes it. */
static void
same_item(const bson_t *doc, const double *km)
{
    json_object *item = readmodel_listing_json(doc);
    if (km != NULL) {
        json_object_object_add(item, "distance_km", json_object_new_double(*km));
    }
    json_object *page = json_object_new_array(), *ref = json_object_new_array();
    json_object_array_add(page, readmodel_listing_item(doc, km));
    json_object_array_add(ref, item);
    int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
    const char *a = json_object_to_json_string_ext(page, flags);
    const char *b = json_object_to_json_string_ext(ref, flags);
    cr_expect_str_eq(a, b, "item %s\n   ref %s", a, b);
    json_object_put(page);
    json_object_put(ref);
}

Test(readmodel_json, a_listing_item_written_from_bson_is_the_json_c_text)
{
    double km = 12.346, zero = 0, whole = 3;
    bson_t *doc = BCON_NEW("_id", BCON_UTF8("x"), "keywords", "[", BCON_UTF8("oak"), "]", "id", BCON_UTF8("3f0c9a4e-1111-4222-8333-444455556666"),
                           "seller_id", BCON_UTF8("s"), "title", BCON_UTF8("Oak lamp \"vintage\" \\ / é ✓ \t\n\r\b\f\x01\x1f\x7f</script>\xe2\x80\xa8"),
                           "price_minor", BCON_INT64(INT64_MAX), "version", BCON_INT32(INT32_MIN), "currency", BCON_UTF8(""),
                           "location", "{", "lat", BCON_DOUBLE(52.52), "lon", BCON_DOUBLE(-0.0), "city", BCON_UTF8("Köln"),
                           "x", BCON_DOUBLE(2.0), "t", BCON_DOUBLE(1.0 / 3.0), "big", BCON_DOUBLE(1e300), "tiny", BCON_DOUBLE(5e-324), "}",
                           "attributes", "{", "size", BCON_UTF8("M"), "ok", BCON_BOOL(true), "no", BCON_BOOL(false), "n", BCON_NULL,
                           "e", "{", "}", "a", "[", "]", "k\"ey/\x01", BCON_INT32(7), "min", BCON_INT64(INT64_MIN), "neg", BCON_INT32(-10), "}",
                           "images", "[", "{", "key", BCON_UTF8("a/b.jpg"), "w", BCON_INT32(640), "}", "{", "}", "[", BCON_NULL, "]", "]",
                           "status", BCON_UTF8("active"), "created_at", BCON_UTF8("2026-11-28T00:00:00Z"),
                           "seller", "{", "id", BCON_UTF8("s"), "rating", "{", "avg", BCON_DOUBLE(4.5), "count", BCON_INT64(3), "}", "}",
                           "favorites", BCON_INT64(0), "views", BCON_INT32(12), "created_us", BCON_INT64(1764000000000000), "id", BCON_UTF8("second"));
    same_item(doc, NULL);
    same_item(doc, &km);
    same_item(doc, &whole);
    bson_destroy(doc);
    /* No shown member at all; then only a distance. */
    bson_t *bare = BCON_NEW("_id", BCON_UTF8("x"), "keywords", "[", "]");
    same_item(bare, NULL);
    same_item(bare, &zero);
    bson_destroy(bare);
    /* A string with a NUL. */
    bson_t nul = BSON_INITIALIZER;
    bson_append_utf8(&nul, "title", -1, "a\0b", 3);
    same_item(&nul, &km);
    bson_destroy(&nul);
    /* Every byte below 0x80 in a title and a key. */
    char all[128], key[8];
    for (int i = 0; i < 127; i++) {
        all[i] = (char)(i + 1);
    }
    all[127] = 0;
    bson_t bytes = BSON_INITIALIZER, attrs;
    bson_append_utf8(&bytes, "title", -1, all, 127);
    bson_append_document_begin(&bytes, "attributes", -1, &attrs);
    for (int i = 1; i < 128; i += 9) {
        snprintf(key, sizeof(key), "k%c", (char)i);
        bson_append_int32(&attrs, key, -1, i);
    }
    bson_append_document_end(&bytes, &attrs);
    same_item(&bytes, NULL);
    bson_destroy(&bytes);
}

Test(readmodel_json, a_listing_item_with_what_the_text_cannot_write_takes_the_json_c_path)
{
    double km = 1.5;
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, "5f1e2d3c4b5a697887766554");
    bson_t *docs[] = {
        BCON_NEW("id", BCON_UTF8("a"), "created_at", BCON_DATE_TIME(1764000000123)),
        BCON_NEW("id", BCON_UTF8("a"), "seller", "{", "id", BCON_OID(&oid), "}"),
        BCON_NEW("id", BCON_UTF8("a"), "location", "{", "lat", BCON_DOUBLE(NAN), "}"),
        BCON_NEW("id", BCON_UTF8("a"), "attributes", "{", "k", BCON_INT32(1), "j", BCON_INT32(2), "k", BCON_INT32(3), "}"),
        BCON_NEW("id", BCON_UTF8("a"), "images", "[", "{", "w", BCON_INT32(1), "w", BCON_UTF8("again"), "}", "]"),
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        same_item(docs[i], NULL);
        same_item(docs[i], &km);
        bson_destroy(docs[i]);
    }
    bson_t bad = BSON_INITIALIZER;
    bson_append_utf8(&bad, "title", -1, "\xff\xfe", 2);
    same_item(&bad, &km);
    bson_destroy(&bad);
}

/* Escapes at every offset of an 8-byte word, next to multi-byte UTF-8; documents with more
 * keys than the writer keeps, repeated before and past them. */
Test(readmodel_json, escapes_at_every_offset_and_keys_repeated_past_the_kept_ones)
{
    static const char *const specials[] = {"\"", "\\", "\n", "\x01", "\x1f", "é", "✓", " ", "\x7f"};
    for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
        for (size_t at = 0; at < 24; at++) {
            char s[64];
            snprintf(s, sizeof(s), "%.*s%s%.*s", (int)at, "abcdefghijklmnopqrstuvwxyz", specials[k], (int)(24 - at),
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
            bson_t *doc = BCON_NEW("id", BCON_UTF8("a"), "title", BCON_UTF8(s), "description", BCON_UTF8(s + at / 2));
            same_item(doc, NULL);
            bson_destroy(doc);
        }
    }
    for (int repeat = -1; repeat < 24; repeat++) {
        bson_t doc = BSON_INITIALIZER, attrs;
        bson_append_utf8(&doc, "id", -1, "a", -1);
        bson_append_document_begin(&doc, "attributes", -1, &attrs);
        for (int i = 0; i < 24; i++) {
            char key[16];
            /* member i repeats member i - repeat's key (or none when repeat < 1) */
            snprintf(key, sizeof(key), "k%d", repeat >= 1 && i == 23 ? 23 - repeat : i);
            bson_append_int32(&attrs, key, -1, i);
        }
        bson_append_document_end(&doc, &attrs);
        same_item(&doc, NULL);
        bson_destroy(&doc);
    }
}

/* The writer scans sixteen bytes at a time, the last sixteen of a string at once, and after
 * a byte above ASCII only for escapes: an escape, a multi-byte character or a byte that is not
 * UTF-8 at every offset of strings of 0 to 40 bytes, alone or after a multi-byte character. */
Test(readmodel_json, strings_of_every_length_with_what_they_ask_for_at_every_offset)
{
    static const char *const specials[] = {"\"", "\\", "\n", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x9c\x93", "\xff", "\xc3"};
    static const char *const before[] = {"", "\xc3\xa9", "\""};
    const char *fill = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (size_t b = 0; b < sizeof(before) / sizeof(before[0]); b++) {
        for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
            for (size_t n = 0; n <= 40; n++) {
                for (size_t at = 0; at <= n; at++) {
                    char s[96];
                    int len = snprintf(s, sizeof(s), "%s%.*s%s%.*s", before[b], (int)at, fill, specials[k],
                                       (int)(n - at), fill + 26);
                    bson_t doc = BSON_INITIALIZER, attrs;
                    bson_append_utf8(&doc, "id", -1, "a", -1);
                    bson_append_utf8(&doc, "title", -1, s, len);
                    bson_append_document_begin(&doc, "attributes", -1, &attrs);
                    bson_append_int32(&attrs, s, -1, 1);   /* the same bytes as a key */
                    bson_append_document_end(&doc, &attrs);
                    same_item(&doc, NULL);
                    bson_destroy(&doc);
                }
            }
        }
    }
}

/* A page written as one text (readmodel_page_*) is the text json-c writes for the object
 * {"items": [readmodel_listing_json of each, distance_km last], "next_cursor": cursor}. */
static void
same_page(bson_t **docs, size_t n, const double *km, json_object *cursor)
{
    struct readmodel_text t;
    readmodel_page_begin(&t, n > 8 ? 1 : n);   /* a long page outgrows its first allocation */
    json_object *ref = json_object_new_object(), *items = json_object_new_array();
    json_object_object_add(ref, "items", items);
    for (size_t i = 0; i < n; i++) {
        readmodel_page_item(&t, i, docs[i], km);
        json_object *item = readmodel_listing_json(docs[i]);
        if (km != NULL) {
            json_object_object_add(item, "distance_km", json_object_new_double(*km));
        }
        json_object_array_add(items, item);
    }
    json_object_object_add(ref, "next_cursor", json_object_get(cursor));
    cr_assert(readmodel_page_end(&t, cursor));
    const char *b = json_object_to_json_string_ext(ref, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    cr_assert_eq(strlen(t.p), t.len, "the text is NUL-terminated");
    cr_expect_str_eq(t.p, b, "page %s\n  ref %s", t.p, b);
    free(t.p);
    json_object_put(ref);
}

Test(readmodel_json, a_page_written_as_one_text_is_the_json_c_text)
{
    double km = 7.25;
    bson_oid_t oid;
    bson_oid_init_from_string(&oid, "5f1e2d3c4b5a697887766554");
    bson_t *docs[] = {
        BCON_NEW("_id", BCON_UTF8("x"), "id", BCON_UTF8("a"), "title", BCON_UTF8("Lamp \"oak\" / é"), "price_minor",
                 BCON_INT64(4500), "location", "{", "lat", BCON_DOUBLE(51.52469), "lon", BCON_DOUBLE(-0.16459), "}",
                 "seller", "{", "rating", "{", "average", BCON_DOUBLE(4.333333333333333), "count", BCON_INT32(3), "}", "}"),
        BCON_NEW("id", BCON_UTF8("b"), "created_at", BCON_DATE_TIME(1764000000123)),   /* the json-c path */
        BCON_NEW("id", BCON_UTF8("c"), "seller", "{", "id", BCON_OID(&oid), "}", "views", BCON_INT32(2)),
        BCON_NEW("_id", BCON_UTF8("y")),
    };
    size_t n = sizeof(docs) / sizeof(docs[0]);
    json_object *cursor = json_object_new_string("eyJrIjpbMSwiYSJdfQ.c2ln\"/");
    for (size_t k = 0; k <= n; k++) {
        same_page(docs, k, NULL, NULL);
        same_page(docs, k, &km, cursor);
    }
    /* Past the first allocation (sized for the given count) the text grows. */
    bson_t *many[64];
    for (size_t i = 0; i < 64; i++) {
        many[i] = docs[i % n];
    }
    same_page(many, 64, &km, cursor);
    json_object_put(cursor);
    for (size_t i = 0; i < n; i++) {
        bson_destroy(docs[i]);
    }
}

/* ---- JSON to BSON (the projector's documents) -------------------------------------------- */

/* readmodel_append_json and the text path give the same bytes for the JSON text. */
static void
same_bson(const char *text)
{
    json_object *v = json_tokener_parse(text);
    bson_t a = BSON_INITIALIZER, b = BSON_INITIALIZER;
    bool oa = readmodel_append_json(&a, "v", v), ob = readmodel_append_json_text(&b, "v", v);
    cr_assert_eq(oa, ob, "%s", text);
    char *ja = bson_as_canonical_extended_json(&a, NULL), *jb = bson_as_canonical_extended_json(&b, NULL);
    cr_assert(a.len == b.len && memcmp(bson_get_data(&a), bson_get_data(&b), a.len) == 0, "%s: %s against %s", text,
              ja, jb);
    bson_free(ja);
    bson_free(jb);
    bson_destroy(&a);
    bson_destroy(&b);
    json_object_put(v);
}

Test(readmodel_json, json_to_bson_as_libbson_reads_the_text)
{
    static const char *const cases[] = {
        "null", "true", "false", "0", "-1", "2147483647", "2147483648", "-2147483648", "-2147483649",
        "9007199254740993", "9223372036854775806", "52.52", "13.405", "0.1", "1.0", "-0.0", "1e300", "1.5e-7",
        "52.520008123456789", "\"\"", "\"caf\\u00e9 \\\"q\\\" \\n \\t \\/\"",
        "\"\\ud83d\\ude00 emoji\"", "[]", "{}", "[1, 2.5, \"x\", null, [true, {}]]",
        "{\"a\": {\"b\": [1, {\"c\": null}]}, \"d.e\": 1, \"\": 2}",
        "{\"id\": \"3f1c\", \"price_minor\": 1500, \"location\": {\"lat\": 52.52, \"lon\": 13.405, \"city\": \"Berlin\"},"
        " \"attributes\": {\"size\": \"M\", \"year\": 1999}, \"category_path\": [\"home\", \"home/lamps\"]}",
        /* what libbson reads otherwise: through the text, as before */
        "{\"$date\": 1700000000000}", "{\"x\": {\"$numberLong\": \"5\"}}", "{\"$oid\": \"0123456789abcdef01234567\"}",
        "{\"$unknown\": 1}", "\"a\\u0000b\"", "{\"k\": \"a\\u0000b\"}",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        same_bson(cases[i]);
    }
    /* A whole number beyond int64 (jsonb's numeric writes 1e19 so; json-c keeps it as uint64,
     * which libbson's reader refuses): a double, and the document is appended; the event that
     * carried it was skipped before (beyond uint64 json-c clamps: the largest double below). */
    static const struct {
        const char *text;
        double want;
    } beyond[] = {{"{\"a\": {\"screen_in\": 10000000000000000000}}", 1e19},
                  {"{\"a\": {\"screen_in\": 123456789012345678901234567890}}", 18446744073709551615.0}};
    for (size_t i = 0; i < sizeof(beyond) / sizeof(beyond[0]); i++) {
        json_object *v = json_tokener_parse(beyond[i].text);
        bson_t a = BSON_INITIALIZER;
        cr_assert(readmodel_append_json(&a, "v", v), "%s", beyond[i].text);
        bson_iter_t it;
        cr_assert(bson_iter_init(&it, &a) && bson_iter_find_descendant(&it, "v.a.screen_in", &it));
        cr_assert(BSON_ITER_HOLDS_DOUBLE(&it) && bson_iter_double(&it) == beyond[i].want, "%s", beyond[i].text);
        bson_destroy(&a);
        json_object_put(v);
    }
    same_bson("9223372036854775807");   /* int64's largest stays an int64 */

    /* generated documents of numbers around the int32 and double boundaries */
    srand(42);
    for (int i = 0; i < 2000; i++) {
        char text[512];
        long long big = ((long long)rand() << 31 | rand()) * (rand() % 2 ? 1 : -1);
        snprintf(text, sizeof(text), "{\"i\": %d, \"l\": %lld, \"d\": %.*g, \"s\": [\"w%d\", %d.%d], \"n\": null}",
                 rand() - RAND_MAX / 2, big >> (rand() % 40), 1 + rand() % 17, (rand() - RAND_MAX / 2) / 977.0, i,
                 rand() % 1000, rand() % 1000);
        same_bson(text);
    }
}

/* The members a listing shows are found by each key's length and first byte, then its bytes
 * (find_shown): the same members as a strcmp of every key with every name (what it replaced),
 * next to keys that share a name's first byte, length, prefix or all but its last byte. */
Test(readmodel_json, shown_members_are_those_strcmp_finds)
{
    const char *keys[] = {"i", "idx", "iD", "di", "id", "id", "seller", "seller_i", "seller_idx", "seller_id", "sellerXid",
                          "title ", "Title", "titlf", "title", "view", "views2", "viewz", "views", "favorite", "favorites",
                          "price", "price_minor", "price_minot", "location", "locatio", "images", "image", "status", "statuses",
                          "created_at", "created_us", "updated_at", "updated_a", "version", "currency", "condition",
                          "category", "categorz", "description", "attributes", "seller", "", "x"};
    bson_t doc = BSON_INITIALIZER;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        bson_append_int32(&doc, keys[i], -1, (int32_t)i);
    }
    /* The reference: for each shown name in order, the first member strcmp finds. */
    bson_t ref = BSON_INITIALIZER;
    for (const char *const *f = readmodel_listing_fields(); *f != NULL; f++) {
        bson_iter_t it;
        cr_assert(bson_iter_init(&it, &doc));
        while (bson_iter_next(&it)) {
            if (strcmp(bson_iter_key(&it), *f) == 0) {
                bson_append_iter(&ref, *f, -1, &it);
                break;
            }
        }
    }
    json_object *got = readmodel_listing_json(&doc), *want = readmodel_to_json(&ref);
    cr_assert_str_eq(json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN),
                     json_object_to_json_string_ext(want, JSON_C_TO_STRING_PLAIN));
    json_object_put(got);
    json_object_put(want);
    same_item(&doc, NULL);   /* and the text written from the BSON is json-c's of it */
    bson_destroy(&doc);
    bson_destroy(&ref);
}

/* readmodel_double_pair(doc, parent, a, .., b, ..) against readmodel_double of "parent.a" and
 * of "parent.b" for each of docs (destroyed): the same values, bit for bit (each left as it
 * was where absent), and true exactly when both are numbers. */
static void
expect_pair_as_paths(bson_t **docs, size_t n, const char *parent, const char *a, const char *b)
{
    char path_a[64], path_b[64];
    snprintf(path_a, sizeof(path_a), "%s.%s", parent, a);
    snprintf(path_b, sizeof(path_b), "%s.%s", parent, b);
    for (size_t i = 0; i < n; i++) {
        double got_a = -1, got_b = -2, want_a = -1, want_b = -2;
        bool want_both = readmodel_double(docs[i], path_a, &want_a);
        want_both = readmodel_double(docs[i], path_b, &want_b) && want_both;
        bool both = readmodel_double_pair(docs[i], parent, a, &got_a, b, &got_b);
        cr_expect(memcmp(&got_a, &want_a, sizeof(got_a)) == 0 && memcmp(&got_b, &want_b, sizeof(got_b)) == 0,
                  "%s doc %zu: %g %g, want %g %g", parent, i, got_a, got_b, want_a, want_b);
        cr_expect(both == want_both, "%s doc %zu: both numbers %d, want %d", parent, i, both, want_both);
        bson_destroy(docs[i]);
    }
}

/* readmodel_double_pair gives what readmodel_double gives for each dotted path. */
Test(readmodel_json, a_pair_of_numbers_is_what_each_dotted_path_gives)
{
    bson_t *docs[] = {
        BCON_NEW("id", BCON_UTF8("a"), "location", "{", "lat", BCON_DOUBLE(52.52), "lon", BCON_DOUBLE(13.405), "}"),
        BCON_NEW("location", "{", "lon", BCON_INT32(7), "city", BCON_UTF8("x"), "lat", BCON_INT64(-3), "}"),
        BCON_NEW("location", "{", "lat", BCON_DOUBLE(1), "lat", BCON_DOUBLE(2), "lon", BCON_UTF8("4"), "lon", BCON_DOUBLE(5), "}"),
        BCON_NEW("location", "{", "lat", BCON_NULL, "}", "location", "{", "lat", BCON_DOUBLE(9), "lon", BCON_DOUBLE(9), "}"),
        BCON_NEW("location", BCON_UTF8("52,13"), "location", "{", "lat", BCON_DOUBLE(9), "}"),
        BCON_NEW("location", "[", BCON_DOUBLE(1), BCON_DOUBLE(2), "]"),
        BCON_NEW("Location", "{", "lat", BCON_DOUBLE(1), "}", "place", "{", "LAT", BCON_DOUBLE(1), "}"),
        BCON_NEW("location", "{", "lat", BCON_BOOL(true), "lon", BCON_DOUBLE(-0.0), "}"),
        BCON_NEW("x", BCON_INT32(1)),
    };
    expect_pair_as_paths(docs, sizeof(docs) / sizeof(docs[0]), "location", "lat", "lon");
}

/* A dotted parent (the similar items' GeoJSON point): the same as each dotted path. */
Test(readmodel_json, a_pair_under_a_dotted_parent_is_what_each_dotted_path_gives)
{
    bson_t *docs[] = {
        BCON_NEW("geo", "{", "type", BCON_UTF8("Point"), "coordinates", "[", BCON_DOUBLE(13.4), BCON_DOUBLE(52.5), "]", "}"),
        BCON_NEW("geo", "{", "coordinates", "[", BCON_INT32(7), "]", "}"),
        BCON_NEW("geo", "{", "coordinates", "[", BCON_NULL, BCON_DOUBLE(1), "]", "}"),
        BCON_NEW("geo", BCON_NULL),
        BCON_NEW("x", BCON_INT32(1)),
    };
    expect_pair_as_paths(docs, sizeof(docs) / sizeof(docs[0]), "geo.coordinates", "0", "1");
}
