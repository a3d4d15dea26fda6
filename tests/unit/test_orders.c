/*
 * Unit tests of the orders rules (no services): shipping addresses and countries, tracking,
 * who may move an order where, ledger journals, the sandbox provider, Idempotency-Key
 * checks and request hashes, keyset cursors, review input and rating rounding.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/cursor.h"
#include "core/errors.h"
#include "core/http.h"
#include "core/log.h"
#include "domain/idempotency.h"
#include "domain/ledger.h"
#include "domain/offer.h"
#include "domain/order.h"
#include "domain/payment.h"
#include "domain/review.h"

static arena_t *A;

static void
setup(void)
{
    A = arena_create(4096);
    log_init("test", "error");
    cr_assert(sodium_init() >= 0);
}

static void
teardown(void)
{
    arena_destroy(A);
}

TestSuite(orders, .init = setup, .fini = teardown);

/* A POST request with body (a JSON object text) parsed; *body receives the object. */
static struct request *
post(const char *text, json_object **body)
{
    static char *env[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/v1/orders", "CONTENT_TYPE=application/json", NULL};
    struct request *r = arena_calloc(A, sizeof(*r));
    char *copy = arena_strdup(A, text);
    cr_assert_eq(http_request_init(r, A, env, copy, strlen(copy)), MK_OK);
    if (body != NULL) {
        cr_assert_eq(http_json_body(r, body), MK_OK, "%s", text);
    }
    return r;
}

static const char *
problem(struct request *r, const char *field)
{
    json_object *v;
    return r->err_fields != NULL && json_object_object_get_ex(r->err_fields, field, &v) ? json_object_get_string(v)
                                                                                        : NULL;
}

#define LISTING "\"listing_id\":\"0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81\""
#define ADDRESS_OK                                                                                                     \
    "{\"name\":\" Ada Lovelace \",\"line1\":\"Unter den Linden 1\",\"city\":\"Berlin\",\"postal_code\":\"10117\","     \
    "\"country\":\"DE\"}"

/* ---- shipping addresses ---------------------------------------------------------------- */

Test(orders, a_valid_order_is_parsed_and_trimmed)
{
    json_object *body;
    struct request *r = post("{" LISTING ",\"shipping_address\":" ADDRESS_OK "}", &body);
    const char *listing, *offer;
    struct order_address ad;
    cr_assert_eq(order_parse_create(r, body, &listing, &offer, &ad), MK_OK);
    cr_assert_str_eq(listing, "0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81");
    cr_assert_str_eq(ad.name, "Ada Lovelace");
    cr_assert_null(ad.line2, "line2 is optional");
    cr_assert_str_eq(ad.country, "DE");

    r = post("{" LISTING ",\"shipping_address\":{\"name\":\"A\",\"line1\":\"B\",\"line2\":null,\"city\":\"C\","
             "\"postal_code\":\"1\",\"country\":\"FR\"}}",
             NULL);
    cr_assert_eq(http_json_body(r, &body), MK_EVALIDATION, "null is not absent (API.md): 422 before the parser");
    r = post("{" LISTING ",\"shipping_address\":{\"name\":\"A\",\"line1\":\"B\",\"line2\":\"Apt 3\",\"city\":\"C\","
             "\"postal_code\":\"1\",\"country\":\"FR\"}}",
             &body);
    cr_assert_eq(order_parse_create(r, body, &listing, &offer, &ad), MK_OK);
    cr_assert_str_eq(ad.line2, "Apt 3");
}

Test(orders, every_address_problem_is_named)
{
    char long_name[120];
    memset(long_name, 'n', 101);
    long_name[101] = '\0';
    char text[1024];
    struct {
        const char *address;
        const char *field;
    } cases[] = {
        {"{\"line1\":\"B\",\"city\":\"C\",\"postal_code\":\"1\",\"country\":\"DE\"}", "shipping_address.name"},
        {"{\"name\":\"  \",\"line1\":\"B\",\"city\":\"C\",\"postal_code\":\"1\",\"country\":\"DE\"}",
         "shipping_address.name"},
        {"{\"name\":\"A\",\"line1\":7,\"city\":\"C\",\"postal_code\":\"1\",\"country\":\"DE\"}",
         "shipping_address.line1"},
        {"{\"name\":\"A\",\"line1\":\"B\",\"line2\":\"\",\"city\":\"C\",\"postal_code\":\"1\",\"country\":\"DE\"}",
         "shipping_address.line2"},
        {"{\"name\":\"A\",\"line1\":\"B\",\"city\":\"C\\nD\",\"postal_code\":\"1\",\"country\":\"DE\"}",
         "shipping_address.city"},
        {"{\"name\":\"A\",\"line1\":\"B\",\"city\":\"C\",\"postal_code\":\"123456789012345678901\",\"country\":\"DE\"}",
         "shipping_address.postal_code"},
        {"{\"name\":\"A\",\"line1\":\"B\",\"city\":\"C\",\"postal_code\":\"1\",\"country\":\"de\"}",
         "shipping_address.country"},
        {"{\"name\":\"A\",\"line1\":\"B\",\"city\":\"C\",\"postal_code\":\"1\",\"country\":\"XX\"}",
         "shipping_address.country"},
        {"{\"name\":\"A\",\"line1\":\"B\",\"city\":\"C\",\"postal_code\":\"1\",\"country\":\"DEU\"}",
         "shipping_address.country"},
        {"{\"name\":\"A\",\"line1\":\"B\",\"city\":\"C\",\"postal_code\":\"1\"}", "shipping_address.country"},
        {"{\"name\":\"A\",\"line1\":\"B\",\"city\":\"C\",\"postal_code\":\"1\",\"country\":\"DE\",\"zip\":\"1\"}",
         "shipping_address.zip"},
        {"\"Berlin\"", "shipping_address"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "{" LISTING ",\"shipping_address\":%s}", cases[i].address);
        json_object *body;
        struct request *r = post(text, &body);
        const char *listing, *offer;
        struct order_address ad;
        cr_assert_eq(order_parse_create(r, body, &listing, &offer, &ad), MK_EVALIDATION, "%zu", i);
        cr_assert_not_null(problem(r, cases[i].field), "%zu: %s", i, cases[i].field);
    }
    snprintf(text, sizeof(text),
             "{" LISTING ",\"shipping_address\":{\"name\":\"%s\",\"line1\":\"B\",\"city\":\"C\",\"postal_code\":\"1\","
             "\"country\":\"DE\"}}",
             long_name);
    json_object *body;
    struct request *r = post(text, &body);
    const char *listing, *offer;
    struct order_address ad;
    cr_assert_eq(order_parse_create(r, body, &listing, &offer, &ad), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "shipping_address.name"), "must be 1 to 100 characters");
}

Test(orders, listing_id_and_unknown_members)
{
    json_object *body;
    struct request *r = post("{\"listing_id\":\"nope\",\"shipping_address\":" ADDRESS_OK ",\"qty\":2}", &body);
    const char *listing, *offer;
    struct order_address ad;
    cr_assert_eq(order_parse_create(r, body, &listing, &offer, &ad), MK_EVALIDATION);
    cr_assert_not_null(problem(r, "listing_id"));
    cr_assert_str_eq(problem(r, "qty"), "unknown field");
    r = post("{}", &body);
    cr_assert_eq(order_parse_create(r, body, &listing, &offer, &ad), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "listing_id"), "is required");
    cr_assert_str_eq(problem(r, "shipping_address"), "is required");
}

Test(orders, countries_are_iso_3166_alpha_2_codes_in_use)
{
    const char *good[] = {"DE", "FR", "US", "GB", "AD", "ZW", "XK", "SS", "CW", "AX"};
    const char *bad[] = {"XX", "UK", "EU", "ZZ", "AA", "de", "D", "DEU", "", "D1", "QQ"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        cr_assert(order_country_valid(good[i]), "%s", good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_not(order_country_valid(bad[i]), "%s", bad[i]);
    }
    cr_assert_not(order_country_valid(NULL));
    int n = 0;
    for (char a = 'A'; a <= 'Z'; a++) {
        for (char b = 'A'; b <= 'Z'; b++) {
            char code[3] = {a, b, '\0'};
            n += order_country_valid(code);
        }
    }
    cr_assert_eq(n, 250, "249 assigned codes and XK, got %d", n);
}

Test(orders, tracking_and_empty_bodies)
{
    json_object *body;
    struct order_tracking t;
    struct request *r = post("{\"carrier\":\" DHL \",\"number\":\"00340434161094042557\"}", &body);
    cr_assert_eq(order_parse_tracking(r, body, &t), MK_OK);
    cr_assert_str_eq(t.carrier, "DHL");
    r = post("{\"carrier\":\"DHL\"}", &body);
    cr_assert_eq(order_parse_tracking(r, body, &t), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "number"), "is required");
    r = post("{\"carrier\":\"\",\"number\":\"1\",\"eta\":\"soon\"}", &body);
    cr_assert_eq(order_parse_tracking(r, body, &t), MK_EVALIDATION);
    cr_assert_not_null(problem(r, "carrier"));
    cr_assert_str_eq(problem(r, "eta"), "unknown field");

    r = post("{}", NULL);
    cr_assert_eq(http_json_empty(r), MK_OK);
    r = post("{\"reason\":\"changed my mind\"}", NULL);
    cr_assert_eq(http_json_empty(r), MK_EVALIDATION);
    r = post("", NULL);
    cr_assert_eq(http_json_empty(r), MK_OK, "no body");
}

/* ---- the state machine ------------------------------------------------------------------ */

Test(orders, who_may_move_an_order_from_which_state)
{
    const char *B = "buyer", *S = "seller", *X = "stranger";
    const char *states[] = {"paid", "shipped", "delivered", "cancelled"};
    /* expected[action][party][state] */
    const int expected[3][3][4] = {
        /* ship */ {{MK_EFORBIDDEN, MK_EFORBIDDEN, MK_EFORBIDDEN, MK_EFORBIDDEN},
                    {MK_OK, MK_ETRANSITION, MK_ETRANSITION, MK_ETRANSITION},
                    {MK_ENOTFOUND, MK_ENOTFOUND, MK_ENOTFOUND, MK_ENOTFOUND}},
        /* confirm */ {{MK_ETRANSITION, MK_OK, MK_ETRANSITION, MK_ETRANSITION},
                       {MK_EFORBIDDEN, MK_EFORBIDDEN, MK_EFORBIDDEN, MK_EFORBIDDEN},
                       {MK_ENOTFOUND, MK_ENOTFOUND, MK_ENOTFOUND, MK_ENOTFOUND}},
        /* cancel */ {{MK_OK, MK_ETRANSITION, MK_ETRANSITION, MK_ETRANSITION},
                      {MK_OK, MK_ETRANSITION, MK_ETRANSITION, MK_ETRANSITION},
                      {MK_ENOTFOUND, MK_ENOTFOUND, MK_ENOTFOUND, MK_ENOTFOUND}},
    };
    const char *parties[] = {B, S, X};
    for (int a = 0; a < 3; a++) {
        for (int p = 0; p < 3; p++) {
            for (int s = 0; s < 4; s++) {
                int got = order_check((enum order_action)a, parties[p], B, S, states[s]);
                cr_assert_eq(got, expected[a][p][s], "action %d by %s in %s: %d", a, parties[p], states[s], got);
            }
        }
    }
}

/* ---- ledger and payments ---------------------------------------------------------------- */

Test(orders, every_journal_balances_and_names_its_accounts)
{
    struct ledger_move m = {
        .order_id = "o",
        .provider = "sandbox",
        .buyer_id = "b0000000-0000-4000-8000-000000000000",
        .seller_id = "50000000-0000-4000-8000-000000000000",
        .amount_minor = 32000,
        .currency = "EUR",
    };
    struct ledger_entry e[LEDGER_MAX_ENTRIES];
    size_t n = ledger_entries_for(A, LEDGER_PAYMENT, &m, e);
    cr_assert_eq(n, 4);
    cr_assert(ledger_balanced(e, n));
    cr_assert_str_eq(e[0].account, "provider:sandbox");
    cr_assert_eq(e[0].amount_minor, -32000);
    cr_assert_str_eq(e[1].account, "buyer:b0000000-0000-4000-8000-000000000000");
    cr_assert_str_eq(e[3].account, "seller:50000000-0000-4000-8000-000000000000:escrow");
    cr_assert_eq(e[3].amount_minor, 32000);

    n = ledger_entries_for(A, LEDGER_RELEASE, &m, e);
    cr_assert_eq(n, 2);
    cr_assert(ledger_balanced(e, n));
    cr_assert_str_eq(e[0].account, "seller:50000000-0000-4000-8000-000000000000:escrow");
    cr_assert_eq(e[0].amount_minor, -32000);
    cr_assert_str_eq(e[1].account, "seller:50000000-0000-4000-8000-000000000000:available");

    n = ledger_entries_for(A, LEDGER_REFUND, &m, e);
    cr_assert_eq(n, 4);
    cr_assert(ledger_balanced(e, n));
    cr_assert_str_eq(e[3].account, "provider:sandbox");
    cr_assert_eq(e[3].amount_minor, 32000);

    /* Payment then refund leaves every account where it was. */
    struct ledger_entry all[8];
    size_t k = ledger_entries_for(A, LEDGER_PAYMENT, &m, all);
    k += ledger_entries_for(A, LEDGER_REFUND, &m, all + k);
    const char *accounts[] = {"provider:sandbox", "buyer:b0000000-0000-4000-8000-000000000000",
                              "seller:50000000-0000-4000-8000-000000000000:escrow"};
    for (size_t i = 0; i < 3; i++) {
        long long sum = 0;
        for (size_t j = 0; j < k; j++) {
            sum += strcmp(all[j].account, accounts[i]) == 0 ? all[j].amount_minor : 0;
        }
        cr_assert_eq(sum, 0, "%s", accounts[i]);
    }

    struct ledger_entry bad[] = {{"a", 5}, {"b", -4}};
    cr_assert_not(ledger_balanced(bad, 2));
    struct ledger_entry zero[] = {{"a", 0}, {"b", 0}};
    cr_assert_not(ledger_balanced(zero, 2), "zero entries are refused");
    cr_assert_not(ledger_balanced(NULL, 0));
    cr_assert_str_eq(ledger_kind_name(LEDGER_REFUND), "refund");
}

Test(orders, the_sandbox_provider_approves_with_stable_references)
{
    const struct payment_provider *pp = payment_default();
    cr_assert_str_eq(pp->name, "sandbox");
    cr_assert_eq(payment_find("sandbox"), pp);
    cr_assert_null(payment_find("stripe"));
    struct payment_charge c = {"0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81", "b", 1999, "EUR"};
    const char *ref1, *ref2, *refund;
    cr_assert_eq(pp->charge(pp, A, &c, &ref1), MK_OK);
    cr_assert_eq(pp->charge(pp, A, &c, &ref2), MK_OK);
    cr_assert_str_eq(ref1, ref2, "a charge is idempotent on the order id");
    cr_assert_eq(strncmp(ref1, "sbx_ch_", 7), 0, "%s", ref1);
    cr_assert_eq(strlen(ref1), 7 + 32);
    c.order_id = "another order";
    cr_assert_eq(pp->charge(pp, A, &c, &ref2), MK_OK);
    cr_assert_str_neq(ref1, ref2);
    cr_assert_eq(pp->refund(pp, A, ref1, 1999, "EUR", &refund), MK_OK);
    cr_assert_eq(strncmp(refund, "sbx_re_", 7), 0);
    c.amount_minor = 0;
    cr_assert_eq(pp->charge(pp, A, &c, &ref2), MK_EVALIDATION);
    cr_assert_eq(pp->refund(pp, A, "not ours", 1999, "EUR", &refund), MK_EVALIDATION);
}

/* ---- idempotency ------------------------------------------------------------------------ */

Test(orders, idempotency_keys_and_request_hashes)
{
    char k255[300];
    memset(k255, 'k', 255);
    k255[255] = '\0';
    cr_assert_null(idem_key_problem("6f1c2d3e-aaaa-bbbb-cccc-1234567890ab"));
    cr_assert_null(idem_key_problem("a"));
    cr_assert_null(idem_key_problem(k255));
    cr_assert_null(idem_key_problem("order 7 of cart #3"));
    k255[255] = 'k';
    k255[256] = '\0';
    cr_assert_not_null(idem_key_problem(k255), "256 characters");
    cr_assert_not_null(idem_key_problem(""));
    cr_assert_not_null(idem_key_problem(NULL));
    cr_assert_not_null(idem_key_problem(" padded"));
    cr_assert_not_null(idem_key_problem("tab\there"));
    cr_assert_not_null(idem_key_problem("caf\xc3\xa9"));

    char h1[IDEM_HASH_HEX + 1], h2[IDEM_HASH_HEX + 1], h3[IDEM_HASH_HEX + 1];
    idem_request_hash("POST", "/api/v1/orders", "{\"a\":1}", 7, h1);
    idem_request_hash("POST", "/api/v1/orders", "{\"a\":1}", 7, h2);
    cr_assert_str_eq(h1, h2);
    cr_assert_eq(strlen(h1), 64);
    idem_request_hash("POST", "/api/v1/orders", "{\"a\":2}", 7, h3);
    cr_assert_str_neq(h1, h3, "another body");
    idem_request_hash("PUT", "/api/v1/orders", "{\"a\":1}", 7, h3);
    cr_assert_str_neq(h1, h3, "another method");
    /* Moving bytes between parts changes the hash (each part is length-prefixed). */
    idem_request_hash("POST", "/api/v1/orders{", "\"a\":1}", 6, h3);
    cr_assert_str_neq(h1, h3);
    /* SHA-256 of the parts as specified: 8-byte big-endian lengths, then the bytes. */
    unsigned char buf[64], d[32];
    size_t n = 0;
    const char *parts[] = {"GET", "/", ""};
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(parts[i]);
        memset(buf + n, 0, 7);
        buf[n + 7] = (unsigned char)len;
        memcpy(buf + n + 8, parts[i], len);
        n += 8 + len;
    }
    crypto_hash_sha256(d, buf, n);
    char want[65];
    sodium_bin2hex(want, sizeof(want), d, sizeof(d));
    idem_request_hash("GET", "/", NULL, 0, h3);
    cr_assert_str_eq(h3, want);
}

/* ---- cursors ---------------------------------------------------------------------------- */

Test(orders, cursors_round_trip_and_refuse_tampering)
{
    const char *id = "0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81";
    long long key = 1795273855449358LL;
    char *c = cursor_encode(A, "secret", "orders:buyer:u1", key, id);
    long long k;
    char got[UUID_STR_LEN + 1];
    cr_assert_eq(cursor_decode("secret", "orders:buyer:u1", c, &k, got), MK_OK);
    cr_assert_eq(k, key);
    cr_assert_str_eq(got, id);
    cr_assert_eq(cursor_decode("secret", "orders:seller:u1", c, &k, got), MK_EBADPARAM, "another list");
    cr_assert_eq(cursor_decode("secret", "orders:buyer:u2", c, &k, got), MK_EBADPARAM, "another user");
    cr_assert_eq(cursor_decode("other", "orders:buyer:u1", c, &k, got), MK_EBADPARAM, "another secret");
    /* Every single-character edit is refused. */
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t len = strlen(c);
    char *t = arena_strdup(A, c);
    for (size_t i = 0; i < len; i++) {
        for (const char *ch = alphabet; *ch != '\0'; ch++) {
            if (*ch == c[i]) {
                continue;
            }
            t[i] = *ch;
            cr_assert_eq(cursor_decode("secret", "orders:buyer:u1", t, &k, got), MK_EBADPARAM, "%s", t);
        }
        t[i] = c[i];
    }
    cr_assert_eq(cursor_decode("secret", "orders:buyer:u1", "", &k, got), MK_EBADPARAM);
    cr_assert_eq(cursor_decode("secret", "orders:buyer:u1", "not a cursor", &k, got), MK_EBADPARAM);
    t = arena_sprintf(A, "%s=", c);
    cr_assert_eq(cursor_decode("secret", "orders:buyer:u1", t, &k, got), MK_EBADPARAM, "padding");
    /* Negative and zero keys survive. */
    c = cursor_encode(A, "secret", "s", -5, id);
    cr_assert_eq(cursor_decode("secret", "s", c, &k, got), MK_OK);
    cr_assert_eq(k, -5);
}

/* The MAC as cursor.c made it before its keyed state was kept: HMAC-SHA-256 keyed with the
 * SHA-256 of the secret, over the 25 raw bytes and the scope, cut to 16 bytes. */
static void
mac_reference(const char *secret, const char *scope, const unsigned char *raw, unsigned char out[16])
{
    unsigned char key[crypto_auth_hmacsha256_KEYBYTES], mac[crypto_auth_hmacsha256_BYTES];
    crypto_hash_sha256(key, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, sizeof(key));
    crypto_auth_hmacsha256_update(&st, raw, 25);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)scope, strlen(scope));
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, mac, 16);
}

Test(orders, cursor_macs_stay_those_of_each_secret_when_secrets_alternate)
{
    /* Secrets that share a prefix, an empty one, and one longer than the kept copy. */
    char longer[300];
    memset(longer, 'k', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    const char *secrets[] = {"secret", "secret2", "secre", "", longer, "secret", longer, "secret2", "secret"};
    const char *id = "0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81";
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        char *c = cursor_encode(A, secrets[i], "listings", (long long)i, id);
        unsigned char raw[41], want[16];
        size_t rawlen = 0;
        cr_assert_eq(sodium_base642bin(raw, sizeof(raw), c, strlen(c), NULL, &rawlen, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
        cr_assert_eq(rawlen, sizeof(raw));
        mac_reference(secrets[i], "listings", raw, want);
        cr_assert_eq(memcmp(raw + 25, want, 16), 0, "secret %zu", i);
        long long k;
        char got[UUID_STR_LEN + 1];
        cr_assert_eq(cursor_decode(secrets[i], "listings", c, &k, got), MK_OK, "secret %zu", i);
        const char *other = secrets[(i + 1) % (sizeof(secrets) / sizeof(secrets[0]))];
        if (strcmp(other, secrets[i]) != 0) {
            cr_assert_eq(cursor_decode(other, "listings", c, &k, got), MK_EBADPARAM, "secret %zu", i);
        }
        cr_assert_eq(cursor_decode(secrets[i], "listings", c, &k, got), MK_OK, "secret %zu again", i);
    }
}

/* ---- reviews ---------------------------------------------------------------------------- */

Test(orders, review_input_rules)
{
    json_object *body;
    struct review_input in;
    struct request *r = post("{\"rating\":5,\"comment\":\" Great seller\\nfast \"}", &body);
    cr_assert_eq(review_parse(r, body, &in), MK_OK);
    cr_assert_eq(in.rating, 5);
    cr_assert_str_eq(in.comment, "Great seller\nfast", "trimmed, lines kept");
    r = post("{\"rating\":1}", &body);
    cr_assert_eq(review_parse(r, body, &in), MK_OK);
    cr_assert_str_eq(in.comment, "", "the default comment");
    r = post("{\"rating\":3,\"comment\":null}", NULL);
    cr_assert_eq(http_json_body(r, &body), MK_EVALIDATION, "null is not absent (API.md)");

    const char *bad_ratings[] = {"0", "6", "-1", "4.5", "\"5\"", "true", "5.0"};
    for (size_t i = 0; i < sizeof(bad_ratings) / sizeof(bad_ratings[0]); i++) {
        char text[64];
        snprintf(text, sizeof(text), "{\"rating\":%s}", bad_ratings[i]);
        r = post(text, &body);
        cr_assert_eq(review_parse(r, body, &in), MK_EVALIDATION, "%s", bad_ratings[i]);
        cr_assert_str_eq(problem(r, "rating"), "must be an integer from 1 to 5", "%s", bad_ratings[i]);
    }
    r = post("{\"comment\":\"no rating\"}", &body);
    cr_assert_eq(review_parse(r, body, &in), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "rating"), "is required");

    /* 2000 characters (counted as characters, not bytes) pass; 2001 do not. */
    char *text = arena_alloc(A, 2 * 2001 + 64);
    strcpy(text, "{\"rating\":4,\"comment\":\"");
    for (int i = 0; i < 2000; i++) {
        strcat(text, "\xc3\xa9");
    }
    strcat(text, "\"}");
    r = post(text, &body);
    cr_assert_eq(review_parse(r, body, &in), MK_OK);
    text[strlen(text) - 2] = '\0';
    strcat(text, "x\"}");
    r = post(text, &body);
    cr_assert_eq(review_parse(r, body, &in), MK_EVALIDATION);
    cr_assert_not_null(problem(r, "comment"));
    r = post("{\"rating\":4,\"stars\":4}", &body);
    cr_assert_eq(review_parse(r, body, &in), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "stars"), "unknown field");
}

Test(orders, ratings_average_to_one_decimal_rounding_half_up)
{
    double avg;
    cr_assert_not(review_average(0, 0, &avg));
    cr_assert(review_average(9, 2, &avg));
    cr_assert_float_eq(avg, 4.5, 1e-12);
    cr_assert(review_average(13, 3, &avg)); /* 4.333… */
    cr_assert_float_eq(avg, 4.3, 1e-12);
    cr_assert(review_average(14, 3, &avg)); /* 4.666… */
    cr_assert_float_eq(avg, 4.7, 1e-12);
    cr_assert(review_average(89, 20, &avg)); /* 4.45 exactly → 4.5 */
    cr_assert_float_eq(avg, 4.5, 1e-12);
    cr_assert(review_average(5, 1, &avg));
    cr_assert_float_eq(avg, 5.0, 1e-12);
    cr_assert(review_average(1, 1, &avg));
    cr_assert_float_eq(avg, 1.0, 1e-12);
    /* Printed as JSON the way the API shows it. */
    json_c_set_serialization_double_format("%.15g", JSON_C_OPTION_GLOBAL);
    cr_assert(review_average(13, 3, &avg));
    json_object *o = json_object_new_double(avg);
    cr_assert_str_eq(json_object_to_json_string(o), "4.3");
    json_object_put(o);
}

/* The JSON form of core/cursor.h (browse and favourites): bound to its scope, one spelling. */
Test(orders, json_cursors_round_trip_and_refuse_edits)
{
    json_object *key = json_tokener_parse("[\"12.5000000000000000\", 7, \"id-1\"]");
    char *c = cursor_encode_json(A, "secret", "search:1:sort=newest", key);
    json_object *back;
    cr_assert_eq(cursor_decode_json(A, "secret", "search:1:sort=newest", c, &back), MK_OK);
    cr_assert_str_eq(json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN),
                     json_object_to_json_string_ext(key, JSON_C_TO_STRING_PLAIN));
    cr_assert_eq(cursor_decode_json(A, "secret", "search:2:sort=newest", c, &back), MK_EBADPARAM, "another scope");
    cr_assert_eq(cursor_decode_json(A, "other", "search:1:sort=newest", c, &back), MK_EBADPARAM, "another secret");
    char *edited = arena_strdup(A, c);
    size_t mid = strlen(edited) / 2;
    edited[mid] = edited[mid] == 'A' ? 'B' : 'A';
    cr_assert_eq(cursor_decode_json(A, "secret", "search:1:sort=newest", edited, &back), MK_EBADPARAM, "edited");
    cr_assert_eq(cursor_decode_json(A, "secret", "search:1:sort=newest", "", &back), MK_EBADPARAM);
    cr_assert_eq(cursor_decode_json(A, "secret", "search:1:sort=newest", "!!", &back), MK_EBADPARAM);
    /* the other form is not this form */
    char *t = cursor_encode(A, "secret", "search:1:sort=newest", 5, "00000000-0000-4000-8000-000000000000");
    cr_assert_eq(cursor_decode_json(A, "secret", "search:1:sort=newest", t, &back), MK_EBADPARAM);
    json_object_put(key);
}

/* ---- offers ------------------------------------------------------------------------------ */

Test(orders, buying_with_an_offer_id_instead_of_a_listing_id)
{
    json_object *body;
    const char *listing, *offer;
    struct order_address ad;
    struct request *r = post("{\"offer_id\":\"0B5C8F1E-6D2A-4C8E-9F1A-3E4D5C6B7A81\",\"shipping_address\":" ADDRESS_OK "}",
                             &body);
    cr_assert_eq(order_parse_create(r, body, &listing, &offer, &ad), MK_OK);
    cr_assert_null(listing);
    cr_assert_str_eq(offer, "0B5C8F1E-6D2A-4C8E-9F1A-3E4D5C6B7A81");
    r = post("{" LISTING ",\"offer_id\":\"0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81\",\"shipping_address\":" ADDRESS_OK "}",
             &body);
    cr_assert_eq(order_parse_create(r, body, &listing, &offer, &ad), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "offer_id"), "give listing_id or offer_id, not both");
    r = post("{\"offer_id\":42,\"shipping_address\":" ADDRESS_OK "}", &body);
    cr_assert_eq(order_parse_create(r, body, &listing, &offer, &ad), MK_EVALIDATION);
    cr_assert_not_null(problem(r, "offer_id"));
    cr_assert_null(problem(r, "listing_id"), "a bad offer_id is not a missing listing_id");
}

Test(orders, offer_amounts_are_json_integers)
{
    const char *bad[] = {"{\"amount_minor\":0}", "{\"amount_minor\":-5}", "{\"amount_minor\":1.5}",
                         "{\"amount_minor\":\"5\"}", "{\"amount_minor\":100000001}", "{}",
                         "{\"amount_minor\":5,\"x\":1}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_object *body;
        long long amount;
        struct request *r = post(bad[i], &body);
        cr_assert_eq(offer_parse_amount(r, body, &amount), MK_EVALIDATION, "%s", bad[i]);
    }
    json_object *body;
    long long amount;
    struct request *r = post("{\"amount_minor\":4999}", &body);
    cr_assert_eq(offer_parse_amount(r, body, &amount), MK_OK);
    cr_assert_eq(amount, 4999);
}

Test(orders, who_may_move_an_offer_and_when)
{
    struct offer o = {.buyer_id = "b", .seller_id = "s", .status = "open", .turn = "seller"};
    /* Not a party: 404 before anything else, even for an accept on a sold listing. */
    cr_assert_eq(offer_check(OFFER_ACCEPT, "x", &o, "sold"), MK_ENOTFOUND);
    /* In turn. */
    cr_assert_eq(offer_check(OFFER_ACCEPT, "s", &o, "active"), MK_OK);
    cr_assert_eq(offer_check(OFFER_COUNTER, "s", &o, "active"), MK_OK);
    cr_assert_eq(offer_check(OFFER_DECLINE, "s", &o, "active"), MK_OK);
    cr_assert_eq(offer_check(OFFER_ACCEPT, "b", &o, "active"), MK_EFORBIDDEN);
    cr_assert_eq(offer_check(OFFER_WITHDRAW, "b", &o, "active"), MK_OK, "the buyer withdraws in any turn");
    cr_assert_eq(offer_check(OFFER_WITHDRAW, "s", &o, "active"), MK_EFORBIDDEN);
    /* An accept on a listing that is not active: listing_not_available whatever the offer's state. */
    cr_assert_eq(offer_check(OFFER_ACCEPT, "s", &o, "reserved"), MK_ENOTAVAILABLE);
    cr_assert_eq(offer_check(OFFER_ACCEPT, "b", &o, "reserved"), MK_ENOTAVAILABLE);
    cr_assert_eq(offer_check(OFFER_COUNTER, "s", &o, "draft"), MK_ENOTAVAILABLE);
    cr_assert_eq(offer_check(OFFER_DECLINE, "s", &o, "draft"), MK_OK, "declining needs no active listing");
    o.status = "declined";
    o.turn = NULL;
    cr_assert_eq(offer_check(OFFER_ACCEPT, "s", &o, "reserved"), MK_ENOTAVAILABLE);
    cr_assert_eq(offer_check(OFFER_ACCEPT, "s", &o, "active"), MK_ETRANSITION);
    cr_assert_eq(offer_check(OFFER_COUNTER, "b", &o, "active"), MK_ETRANSITION);
    cr_assert_eq(offer_check(OFFER_WITHDRAW, "b", &o, "active"), MK_ETRANSITION);
    /* Open but past its time: as good as expired. */
    o.status = "open";
    o.turn = "buyer";
    o.overdue = true;
    cr_assert_eq(offer_check(OFFER_ACCEPT, "b", &o, "active"), MK_ETRANSITION);
    cr_assert_eq(offer_check(OFFER_WITHDRAW, "b", &o, "active"), MK_ETRANSITION);
    cr_assert(offer_status_valid("completed"));
    cr_assert(!offer_status_valid("pending"));
}
