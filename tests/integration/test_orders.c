/*
 * Orders, payments, the ledger and reviews through nginx: purchases and their idempotency
 * (also under concurrency), the state machine by every party, private reads and lists,
 * balances, the ledger's invariants (checked after every test), reviews and the ratings the
 * projector derives from them, including after a replay and a rebuild.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

#define ADDRESS                                                                                                        \
    "{\"name\":\"Ada Lovelace\",\"line1\":\"Unter den Linden 1\",\"city\":\"Berlin\",\"postal_code\":\"10117\","       \
    "\"country\":\"DE\"}"
#define SHIP_BODY "{\"carrier\":\"DHL\",\"number\":\"00340434161094042557\"}"

/* ---- PostgreSQL ------------------------------------------------------------------------- */

TestSuite(orders, .fini = itest_assert_ledger_balanced, .timeout = 300);

/* ---- API helpers -------------------------------------------------------------------------- */

static void
new_listing_priced(struct itest_user *seller, long long price, const char *currency, const char *extra, char id[40],
                   long long *seq)
{
    char *body = itest_fmt("{\"title\":\"Pixel 7, barely used\",\"description\":\"With box\",\"category\":\"phones\","
                     "\"condition\":\"like_new\",\"price_minor\":%lld,\"currency\":\"%s\","
                     "\"location\":{\"city\":\"Berlin\",\"country\":\"DE\",\"lat\":52.52,\"lon\":13.405},"
                     "\"attributes\":{\"brand\":\"Google\",\"storage_gb\":128}%s}",
                     price, currency, extra != NULL ? extra : "");
    struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){seller->bearer, NULL}, body);
    cr_assert_eq(r.status, 201, "create listing: %s", r.body);
    snprintf(id, 40, "%s", ijson_str(r.json, "listing", "id", NULL));
    if (seq != NULL) {
        *seq = atoll(iresp_header(&r, "X-Event-Seq"));
    }
    iresp_free(&r);
}

static void
new_listing(struct itest_user *seller, char id[40])
{
    new_listing_priced(seller, 32000, "EUR", NULL, id, NULL);
}

static char *
order_json(const char *listing_id)
{
    return itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":" ADDRESS "}", listing_id);
}

/* POST /orders by u with key (NULL: a fresh one) and body (NULL: the listing with ADDRESS). */
static struct iresp
buy_with(struct itest_user *u, const char *key, const char *body)
{
    char k[320];
    snprintf(k, sizeof(k), "Idempotency-Key: %s", key != NULL ? key : itest_unique("key"));
    return itest_http("POST", "/api/v1/orders", (const char *const[]){u->bearer, k, NULL}, body);
}

static struct iresp
buy(struct itest_user *u, const char *listing_id, const char *key)
{
    return buy_with(u, key, order_json(listing_id));
}

/* Buy and expect 201; id receives the order id, *seq (may be NULL) its X-Event-Seq. */
static void
buy_ok(struct itest_user *u, const char *listing_id, char id[40], long long *seq)
{
    struct iresp r = buy(u, listing_id, NULL);
    cr_assert_eq(r.status, 201, "buy: %ld %s", r.status, r.body);
    snprintf(id, 40, "%s", ijson_str(r.json, "order", "id", NULL));
    if (seq != NULL) {
        *seq = atoll(iresp_header(&r, "X-Event-Seq"));
    }
    iresp_free(&r);
}

static struct iresp
act(struct itest_user *u, const char *order_id, const char *action, const char *body)
{
    return itest_http("POST", itest_fmt("/api/v1/orders/%s/%s", order_id, action), (const char *const[]){u->bearer, NULL},
                      body);
}

static void
act_ok(struct itest_user *u, const char *order_id, const char *action, const char *body, long long *seq)
{
    struct iresp r = act(u, order_id, action, body);
    cr_assert_eq(r.status, 200, "%s: %ld %s", action, r.status, r.body);
    if (seq != NULL) {
        *seq = atoll(iresp_header(&r, "X-Event-Seq"));
    }
    iresp_free(&r);
}

static struct iresp
get_as(struct itest_user *u, const char *path)
{
    return itest_http("GET", path, (const char *const[]){u != NULL ? u->bearer : NULL, NULL}, NULL);
}

/* An order of seller's new listing, bought by buyer, brought to state. */
struct deal {
    char listing[40];
    char order[40];
};

static void
deal_in_state(struct itest_user *seller, struct itest_user *buyer, const char *state, struct deal *d)
{
    new_listing(seller, d->listing);
    buy_ok(buyer, d->listing, d->order, NULL);
    if (strcmp(state, "shipped") == 0 || strcmp(state, "delivered") == 0) {
        act_ok(seller, d->order, "ship", SHIP_BODY, NULL);
    }
    if (strcmp(state, "delivered") == 0) {
        act_ok(buyer, d->order, "confirm", NULL, NULL);
    }
    if (strcmp(state, "cancelled") == 0) {
        act_ok(buyer, d->order, "cancel", NULL, NULL);
    }
}

static const char *
order_status(struct itest_user *u, const char *order_id)
{
    static char status[32];
    struct iresp r = get_as(u, itest_fmt("/api/v1/orders/%s", order_id));
    cr_assert_eq(r.status, 200, "%s", r.body);
    snprintf(status, sizeof(status), "%s", ijson_str(r.json, "order", "status", NULL));
    iresp_free(&r);
    return status;
}

static struct iresp
get_listing(const char *id, long long min_seq)
{
    return itest_http("GET", itest_fmt("/api/v1/listings/%s", id),
                      (const char *const[]){itest_fmt("X-Min-Seq: %lld", min_seq), NULL}, NULL);
}

/* The balances of u as "CUR:available:held," in currency order. */
static char *
balances(struct itest_user *u)
{
    static char out[512];
    struct iresp r = get_as(u, "/api/v1/users/me/balance");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(iresp_header(&r, "Cache-Control"), "private, no-store");
    json_object *list = json_object_object_get(r.json, "balances");
    cr_assert(json_object_is_type(list, json_type_array), "%s", r.body);
    out[0] = '\0';
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *b = json_object_array_get_idx(list, i);
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s:%lld:%lld,", ijson_str(b, "currency", NULL),
                 ijson_int(b, "available_minor", NULL), ijson_int(b, "held_minor", NULL));
    }
    iresp_free(&r);
    return out;
}

/* ---- concurrency -------------------------------------------------------------------------- */

struct shot {
    char auth[128];
    char key[320];
    const char *headers[3];
    char body[1024];
    long status;
    char *resp;
    bool replayed;
};

static pthread_barrier_t gate;

static void *
fire(void *arg)
{
    struct shot *s = arg;
    pthread_barrier_wait(&gate);
    struct iresp r = itest_http("POST", "/api/v1/orders", s->headers, s->body);
    s->status = r.status;
    s->resp = strdup(r.body);
    s->replayed = strstr(r.headers, "\nidempotent-replayed: true") != NULL;
    iresp_free(&r);
    return NULL;
}

/* Send every shot at the same moment, each from its own thread (own curl handle). */
static void
fire_all(struct shot *shots, int n)
{
    pthread_t *t = calloc((size_t)n, sizeof(*t));
    pthread_barrier_init(&gate, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        shots[i].headers[0] = shots[i].auth;
        shots[i].headers[1] = shots[i].key;
        shots[i].headers[2] = NULL;
        cr_assert_eq(pthread_create(&t[i], NULL, fire, &shots[i]), 0);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
    }
    pthread_barrier_destroy(&gate);
    free(t);
}

static const char *
error_code_of(const char *body)
{
    static char code[64];
    json_object *j = json_tokener_parse(body);
    const char *c = ijson_str(j, "error", "code", NULL);
    snprintf(code, sizeof(code), "%s", c != NULL ? c : "");
    json_object_put(j);
    return code;
}

#define BUYERS 30
#define ROUNDS 10

Test(orders, thirty_buyers_at_once_exactly_one_wins)
{
    struct itest_user seller, buyers[BUYERS];
    itest_user_new(&seller, "CrowdedSeller");
    for (int i = 0; i < BUYERS; i++) {
        itest_user_new(&buyers[i], "EagerBuyer");
    }
    for (int round = 0; round < ROUNDS; round++) {
        char listing[40];
        new_listing(&seller, listing);
        struct shot shots[BUYERS];
        memset(shots, 0, sizeof(shots));
        for (int i = 0; i < BUYERS; i++) {
            snprintf(shots[i].auth, sizeof(shots[i].auth), "%s", buyers[i].bearer);
            snprintf(shots[i].key, sizeof(shots[i].key), "Idempotency-Key: %s", itest_unique("crowd"));
            snprintf(shots[i].body, sizeof(shots[i].body), "%s", order_json(listing));
        }
        fire_all(shots, BUYERS);
        int won = 0, lost = 0;
        for (int i = 0; i < BUYERS; i++) {
            if (shots[i].status == 201) {
                won++;
            } else if (shots[i].status == 409 && strcmp(error_code_of(shots[i].resp), "listing_not_available") == 0) {
                lost++;
            } else {
                cr_assert_fail("round %d buyer %d: %ld %s", round, i, shots[i].status, shots[i].resp);
            }
            free(shots[i].resp);
        }
        cr_assert_eq(won, 1, "round %d: %d winners", round, won);
        cr_assert_eq(lost, BUYERS - 1, "round %d", round);
        cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE listing_id = $1::uuid", listing, NULL), 1);
        cr_assert_eq(itest_pg_num("SELECT count(*) FROM listings WHERE id = $1::uuid AND status = 'sold'", listing, NULL), 1);
        cr_assert_eq(itest_pg_num("SELECT count(*) FROM ledger_entries l JOIN orders o ON o.id = l.order_id "
                            "WHERE o.listing_id = $1::uuid",
                            listing, NULL),
                     4, "one payment journal");
    }
}

Test(orders, one_key_sent_ten_times_at_once_makes_one_order)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "Seller");
    itest_user_new(&buyer, "DoubleClicker");
    for (int round = 0; round < 3; round++) {
        char listing[40], key[128];
        new_listing(&seller, listing);
        snprintf(key, sizeof(key), "%s", itest_unique("same-key"));
        struct shot shots[10];
        memset(shots, 0, sizeof(shots));
        for (int i = 0; i < 10; i++) {
            snprintf(shots[i].auth, sizeof(shots[i].auth), "%s", buyer.bearer);
            snprintf(shots[i].key, sizeof(shots[i].key), "Idempotency-Key: %s", key);
            snprintf(shots[i].body, sizeof(shots[i].body), "%s", order_json(listing));
        }
        fire_all(shots, 10);
        int originals = 0;
        for (int i = 0; i < 10; i++) {
            cr_assert_eq(shots[i].status, 201, "shot %d: %ld %s", i, shots[i].status, shots[i].resp);
            cr_assert_str_eq(shots[i].resp, shots[0].resp, "every answer is the same bytes");
            originals += !shots[i].replayed;
        }
        cr_assert_eq(originals, 1, "one answer is the original, the others replays");
        for (int i = 0; i < 10; i++) {
            free(shots[i].resp);
        }
        cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE listing_id = $1::uuid", listing, NULL), 1);
        cr_assert_eq(itest_pg_num("SELECT count(*) FROM idempotency_keys WHERE user_id = $1::uuid AND key = $2", buyer.id,
                            key),
                     1);
    }

    /* The same key with two different bodies at once: one order; the other body is refused. */
    char l1[40], key[128];
    new_listing(&seller, l1);
    snprintf(key, sizeof(key), "%s", itest_unique("mixed"));
    struct shot shots[10];
    memset(shots, 0, sizeof(shots));
    for (int i = 0; i < 10; i++) {
        snprintf(shots[i].auth, sizeof(shots[i].auth), "%s", buyer.bearer);
        snprintf(shots[i].key, sizeof(shots[i].key), "Idempotency-Key: %s", key);
        snprintf(shots[i].body, sizeof(shots[i].body),
                 "{\"listing_id\":\"%s\",\"shipping_address\":{\"name\":\"Name %d\",\"line1\":\"L\",\"city\":\"C\","
                 "\"postal_code\":\"1\",\"country\":\"FR\"}}",
                 l1, i % 2);
    }
    fire_all(shots, 10);
    int created = 0, refused = 0;
    for (int i = 0; i < 10; i++) {
        if (shots[i].status == 201) {
            created++;
        } else {
            cr_assert_eq(shots[i].status, 422, "%ld %s", shots[i].status, shots[i].resp);
            cr_assert_str_eq(error_code_of(shots[i].resp), "idempotency_key_reused");
            refused++;
        }
        free(shots[i].resp);
    }
    cr_assert_eq(created, 5, "the five of the first body");
    cr_assert_eq(refused, 5);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE listing_id = $1::uuid", l1, NULL), 1);
}

/* ---- purchases ---------------------------------------------------------------------------- */

Test(orders, buying_needs_a_key_and_a_valid_body)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "Seller");
    itest_user_new(&buyer, "Buyer");
    char listing[40], draft[40], deleted[40];
    new_listing(&seller, listing);
    new_listing_priced(&seller, 500, "EUR", ",\"status\":\"draft\"", draft, NULL);
    new_listing(&seller, deleted);
    struct iresp r = itest_http("DELETE", itest_fmt("/api/v1/listings/%s", deleted),
                                (const char *const[]){seller.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    iresp_free(&r);

    r = itest_http("POST", "/api/v1/orders", (const char *const[]){"Idempotency-Key: k", NULL}, order_json(listing));
    cr_assert_eq(r.status, 401, "%s", r.body);
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/orders", (const char *const[]){buyer.bearer, NULL}, order_json(listing));
    cr_assert_eq(r.status, 428, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "precondition_required");
    iresp_free(&r);
    char long_key[300];
    memset(long_key, 'k', 256);
    long_key[256] = '\0';
    r = buy(&buyer, listing, long_key);
    cr_assert_eq(r.status, 400, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "bad_parameter");
    iresp_free(&r);
    long_key[255] = '\0';
    struct {
        const char *body;
        const char *field;
    } bad[] = {
        {itest_fmt("{\"listing_id\":\"%s\"}", listing), "shipping_address"},
        {itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":{\"name\":\"A\",\"line1\":\"B\",\"city\":\"C\","
             "\"postal_code\":\"1\",\"country\":\"XX\"}}",
             listing),
         "shipping_address.country"},
        {itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":{\"line1\":\"B\",\"city\":\"C\",\"postal_code\":\"1\","
             "\"country\":\"DE\"}}",
             listing),
         "shipping_address.name"},
        {itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":" ADDRESS ",\"quantity\":2}", listing), "quantity"},
        {"{\"listing_id\":\"42\",\"shipping_address\":" ADDRESS "}", "listing_id"},
        {order_json("0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81"), "listing_id"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *body = strdup(bad[i].body);
        r = buy_with(&buyer, NULL, body);
        cr_assert_eq(r.status, 422, "%zu: %ld %s", i, r.status, r.body);
        cr_assert_str_eq(iresp_error_code(&r), "validation_failed");
        cr_assert_not_null(ijson_str(r.json, "error", "fields", bad[i].field, NULL), "%zu: %s", i, r.body);
        iresp_free(&r);
        free(body);
    }
    r = buy(&seller, listing, NULL);
    cr_assert_eq(r.status, 403, "own listing: %s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "forbidden");
    iresp_free(&r);
    r = buy(&seller, draft, NULL);
    cr_assert_eq(r.status, 403, "own draft: %s", r.body);
    iresp_free(&r);
    /* API.md: 409 listing_not_available whenever the listing is not active, a draft or a
     * deleted one of someone else's included, the same for both (a draft is not named). */
    const char *absent[] = {draft, deleted};
    for (size_t i = 0; i < 2; i++) {
        r = buy(&buyer, absent[i], NULL);
        cr_assert_eq(r.status, 409, "%s: %ld %s", i == 0 ? "draft" : "deleted", r.status, r.body);
        cr_assert_str_eq(iresp_error_code(&r), "listing_not_available");
        cr_assert_str_eq(ijson_str(r.json, "error", "message", NULL), "the listing is not available");
        iresp_free(&r);
    }
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE seller_id = $1::uuid", seller.id, NULL), 0);
    /* A 255-character key is fine. */
    r = buy(&buyer, listing, long_key);
    cr_assert_eq(r.status, 201, "%s", r.body);
    iresp_free(&r);
}

Test(orders, a_purchase_sells_the_listing_and_holds_the_price_in_escrow)
{
    struct itest_user seller, buyer, late;
    itest_user_new(&seller, "EscrowSeller");
    itest_user_new(&buyer, "EscrowBuyer");
    itest_user_new(&late, "LateBuyer");
    char listing[40];
    long long seq;
    new_listing_priced(&seller, 32000, "EUR", NULL, listing, &seq);
    struct iresp r = get_listing(listing, seq);
    cr_assert_str_eq(ijson_str(r.json, "listing", "status", NULL), "active");
    iresp_free(&r);
    cr_assert_str_eq(balances(&seller), "");

    r = buy(&buyer, listing, NULL);
    cr_assert_eq(r.status, 201, "%s", r.body);
    json_object *o = json_object_object_get(r.json, "order");
    char id[40];
    snprintf(id, sizeof(id), "%s", ijson_str(o, "id", NULL));
    cr_assert_str_eq(ijson_str(o, "status", NULL), "paid");
    cr_assert_str_eq(ijson_str(o, "listing_id", NULL), listing);
    cr_assert_str_eq(ijson_str(o, "buyer_id", NULL), buyer.id);
    cr_assert_str_eq(ijson_str(o, "seller_id", NULL), seller.id);
    cr_assert_eq(ijson_int(o, "amount_minor", NULL), 32000);
    cr_assert_str_eq(ijson_str(o, "currency", NULL), "EUR");
    cr_assert_str_eq(ijson_str(o, "shipping_address", "name", NULL), "Ada Lovelace");
    cr_assert_str_eq(ijson_str(o, "shipping_address", "country", NULL), "DE");
    json_object *line2 = NULL;
    cr_assert(json_object_object_get_ex(json_object_object_get(o, "shipping_address"), "line2", &line2));
    cr_assert_null(line2, "line2 is null when absent");
    json_object *tracking = NULL;
    cr_assert(json_object_object_get_ex(o, "tracking", &tracking));
    cr_assert_null(tracking);
    const char *created = ijson_str(o, "created_at", NULL);
    cr_assert(created != NULL && strlen(created) == 20 && created[10] == 'T' && created[19] == 'Z', "%s", created);
    cr_assert_str_eq(iresp_header(&r, "Location"), itest_fmt("/api/v1/orders/%s", id));
    cr_assert_str_eq(iresp_header(&r, "Cache-Control"), "no-store");
    cr_assert_null(iresp_header(&r, "Idempotent-Replayed"));
    seq = atoll(iresp_header(&r, "X-Event-Seq"));
    cr_assert_gt(seq, 0);
    iresp_free(&r);

    /* The read model shows it sold (X-Min-Seq), and the seller's active listings drop it. */
    r = get_listing(listing, seq);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(iresp_header(&r, "X-Read-Stale"), "the sale reached the read model within the wait");
    cr_assert_str_eq(ijson_str(r.json, "listing", "status", NULL), "sold");
    cr_assert_eq(ijson_int(r.json, "listing", "version", NULL), 2);
    iresp_free(&r);
    r = itest_http("GET", itest_fmt("/api/v1/users/%s/listings", seller.id), NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(strstr(r.body, listing), "a sold listing is not browsed");
    iresp_free(&r);

    /* PostgreSQL: the payment, the journal, the escrow. */
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE id = $1::uuid AND status = 'paid' AND "
                        "payment_provider = 'sandbox' AND payment_ref LIKE 'sbx_ch_%'",
                        id, NULL),
                 1);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM ledger_entries WHERE order_id = $1::uuid AND kind = 'payment'", id,
                        NULL),
                 4);
    cr_assert_eq(itest_pg_num("SELECT count(DISTINCT journal_id) FROM ledger_entries WHERE order_id = $1::uuid", id, NULL),
                 1);
    cr_assert_eq(itest_pg_num("SELECT sum(amount_minor) FROM ledger_entries WHERE order_id = $1::uuid AND account = $2", id,
                        itest_fmt("seller:%s:escrow", seller.id)),
                 32000);
    cr_assert_eq(itest_pg_num("SELECT sum(amount_minor) FROM ledger_entries WHERE order_id = $1::uuid AND account = $2", id,
                        itest_fmt("buyer:%s", buyer.id)),
                 0);
    cr_assert_eq(itest_pg_num("SELECT sum(amount_minor) FROM ledger_entries WHERE order_id = $1::uuid AND account = "
                        "'provider:sandbox'",
                        id, NULL),
                 -32000);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM outbox WHERE aggregate_id = $1::uuid AND event_type = 'order.created' "
                        "AND NOT payload ? 'shipping_address'",
                        id, NULL),
                 1, "the event carries no address");
    cr_assert_str_eq(balances(&seller), "EUR:0:32000,");
    cr_assert_str_eq(balances(&buyer), "");

    /* Too late. */
    r = buy(&late, listing, NULL);
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "listing_not_available");
    iresp_free(&r);
    /* The seller cannot edit or delete what is sold. */
    r = itest_http("DELETE", itest_fmt("/api/v1/listings/%s", listing), (const char *const[]){seller.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 409, "%s", r.body);
    iresp_free(&r);
}

Test(orders, a_retry_replays_the_answer_byte_for_byte)
{
    struct itest_user seller, buyer, other;
    itest_user_new(&seller, "Seller");
    itest_user_new(&buyer, "RetryingBuyer");
    itest_user_new(&other, "OtherBuyer");
    char listing[40], listing2[40], key[128];
    new_listing(&seller, listing);
    new_listing(&seller, listing2);
    snprintf(key, sizeof(key), "%s", itest_unique("retry"));
    struct iresp first = buy(&buyer, listing, key);
    cr_assert_eq(first.status, 201, "%s", first.body);
    char location[128], seq[32];
    snprintf(location, sizeof(location), "%s", iresp_header(&first, "Location"));
    snprintf(seq, sizeof(seq), "%s", iresp_header(&first, "X-Event-Seq"));
    for (int i = 0; i < 3; i++) {
        struct iresp again = buy(&buyer, listing, key);
        cr_assert_eq(again.status, first.status);
        cr_assert_eq(again.len, first.len);
        cr_assert_eq(memcmp(again.body, first.body, first.len), 0, "%s\n%s", again.body, first.body);
        cr_assert_str_eq(iresp_header(&again, "Idempotent-Replayed"), "true");
        cr_assert_str_eq(iresp_header(&again, "Location"), location);
        cr_assert_str_eq(iresp_header(&again, "X-Event-Seq"), seq);
        iresp_free(&again);
    }
    /* The same key with another body, or for another listing: refused. */
    struct iresp r = buy_with(&buyer, key,
                              itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":{\"name\":\"Someone Else\","
                                  "\"line1\":\"L\",\"city\":\"C\",\"postal_code\":\"1\",\"country\":\"DE\"}}",
                                  listing));
    cr_assert_eq(r.status, 422, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "idempotency_key_reused");
    cr_assert_null(ijson_str(r.json, "error", "fields", NULL));
    iresp_free(&r);
    r = buy(&buyer, listing2, key);
    cr_assert_eq(r.status, 422, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "idempotency_key_reused");
    iresp_free(&r);
    /* Keys belong to their user: another buyer may use the same one. */
    r = buy(&other, listing2, key);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_null(iresp_header(&r, "Idempotent-Replayed"));
    iresp_free(&r);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE listing_id = $1::uuid", listing, NULL), 1);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE buyer_id = $1::uuid", buyer.id, NULL), 1);
    iresp_free(&first);
}

Test(orders, refusals_are_replayed_and_expired_keys_are_new)
{
    struct itest_user seller, first, second, third;
    itest_user_new(&seller, "Seller");
    itest_user_new(&first, "First");
    itest_user_new(&second, "Second");
    itest_user_new(&third, "Third");
    char listing[40], order1[40], k2[128], k3[128];
    new_listing(&seller, listing);
    buy_ok(&first, listing, order1, NULL);
    snprintf(k2, sizeof(k2), "%s", itest_unique("k2"));
    struct iresp refused = buy(&second, listing, k2);
    cr_assert_eq(refused.status, 409, "%s", refused.body);
    /* The listing is on sale again, but the key's answer stays what it was. */
    act_ok(&first, order1, "cancel", NULL, NULL);
    struct iresp r = buy(&second, listing, k2);
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(r.body, refused.body);
    cr_assert_str_eq(iresp_header(&r, "Idempotent-Replayed"), "true");
    iresp_free(&r);
    iresp_free(&refused);
    /* A new key buys it. */
    snprintf(k3, sizeof(k3), "%s", itest_unique("k3"));
    r = buy(&second, listing, k3);
    cr_assert_eq(r.status, 201, "%s", r.body);
    char order2[40];
    snprintf(order2, sizeof(order2), "%s", ijson_str(r.json, "order", "id", NULL));
    iresp_free(&r);
    act_ok(&second, order2, "cancel", NULL, NULL);

    /* 25 hours later the key is new again: a second order, not a replay. */
    itest_pg_run("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1::uuid AND key = $2",
           second.id, k3);
    r = buy(&second, listing, k3);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_null(iresp_header(&r, "Idempotent-Replayed"));
    cr_assert_str_neq(ijson_str(r.json, "order", "id", NULL), order2);
    iresp_free(&r);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE listing_id = $1::uuid", listing, NULL), 3);

    /* Expired records are swept after a purchase. */
    itest_pg_run("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = $1::uuid AND key = $2",
           second.id, k2);
    char other[40], o3[40];
    new_listing(&seller, other);
    buy_ok(&third, other, o3, NULL);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM idempotency_keys WHERE user_id = $1::uuid AND key = $2", second.id, k2),
                 0, "the expired record was swept");
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM idempotency_keys WHERE created_at <= now() - interval '24 hours'", NULL,
                        NULL),
                 0);
}

/* ---- the state machine -------------------------------------------------------------------- */

Test(orders, every_transition_from_every_state_by_every_party)
{
    struct itest_user seller, buyer, stranger;
    itest_user_new(&seller, "MachineSeller");
    itest_user_new(&buyer, "MachineBuyer");
    itest_user_new(&stranger, "Stranger");
    const char *states[] = {"paid", "shipped", "delivered", "cancelled"};
    const char *actions[] = {"ship", "confirm", "cancel"};
    struct itest_user *parties[] = {&buyer, &seller, &stranger};
    const char *party_names[] = {"buyer", "seller", "stranger"};
    /* expected[action][party][state]; 200 moves to after[action] */
    const int expected[3][3][4] = {
        {{403, 403, 403, 403}, {200, 409, 409, 409}, {404, 404, 404, 404}},
        {{409, 200, 409, 409}, {403, 403, 403, 403}, {404, 404, 404, 404}},
        {{200, 409, 409, 409}, {200, 409, 409, 409}, {404, 404, 404, 404}},
    };
    const char *after[] = {"shipped", "delivered", "cancelled"};
    for (int a = 0; a < 3; a++) {
        for (int p = 0; p < 3; p++) {
            for (int s = 0; s < 4; s++) {
                struct deal d;
                deal_in_state(&seller, &buyer, states[s], &d);
                struct iresp r = act(parties[p], d.order, actions[a], a == 0 ? SHIP_BODY : NULL);
                int want = expected[a][p][s];
                cr_assert_eq(r.status, want, "%s by the %s of a %s order: %ld %s", actions[a], party_names[p],
                             states[s], r.status, r.body);
                if (want == 200) {
                    cr_assert_str_eq(ijson_str(r.json, "order", "status", NULL), after[a]);
                    cr_assert_not_null(iresp_header(&r, "X-Event-Seq"));
                    if (a == 0) {
                        cr_assert_str_eq(ijson_str(r.json, "order", "tracking", "carrier", NULL), "DHL");
                    }
                } else {
                    const char *code = want == 403 ? "forbidden" : want == 404 ? "not_found" : "invalid_transition";
                    cr_assert_str_eq(iresp_error_code(&r), code, "%s", r.body);
                    cr_assert_str_eq(order_status(&buyer, d.order), states[s], "a refusal changes nothing");
                }
                iresp_free(&r);
            }
        }
    }
    /* A second identical transition is a wrong state. */
    struct deal d;
    deal_in_state(&seller, &buyer, "paid", &d);
    act_ok(&seller, d.order, "ship", SHIP_BODY, NULL);
    struct iresp r = act(&seller, d.order, "ship", SHIP_BODY);
    cr_assert_eq(r.status, 409, "%s", r.body);
    iresp_free(&r);
    /* Bodies: ship needs its tracking; confirm and cancel take none. */
    deal_in_state(&seller, &buyer, "paid", &d);
    r = act(&seller, d.order, "ship", "{\"carrier\":\"DHL\"}");
    cr_assert_eq(r.status, 422, "%s", r.body);
    cr_assert_not_null(ijson_str(r.json, "error", "fields", "number", NULL));
    iresp_free(&r);
    r = act(&seller, d.order, "ship", NULL);
    cr_assert_eq(r.status, 400, "%s", r.body);
    iresp_free(&r);
    r = act(&buyer, d.order, "cancel", "{\"reason\":\"x\"}");
    cr_assert_eq(r.status, 422, "%s", r.body);
    iresp_free(&r);
    act_ok(&buyer, d.order, "cancel", "{}", NULL);
    /* Unknown and malformed order ids. */
    r = act(&buyer, "0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81", "cancel", NULL);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    r = act(&buyer, "not-an-id", "confirm", NULL);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    r = itest_http("POST", itest_fmt("/api/v1/orders/%s/cancel", d.order), NULL, NULL);
    cr_assert_eq(r.status, 401, "%s", r.body);
    iresp_free(&r);
}

Test(orders, a_cancelled_order_puts_the_listing_back_on_sale)
{
    struct itest_user seller, buyer, next;
    itest_user_new(&seller, "RelistSeller");
    itest_user_new(&buyer, "FickleBuyer");
    itest_user_new(&next, "NextBuyer");
    char listing[40], order[40];
    long long seq;
    new_listing(&seller, listing);
    buy_ok(&buyer, listing, order, &seq);
    struct iresp r = get_listing(listing, seq);
    cr_assert_str_eq(ijson_str(r.json, "listing", "status", NULL), "sold");
    iresp_free(&r);
    act_ok(&seller, order, "cancel", NULL, &seq);
    r = get_listing(listing, seq);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(iresp_header(&r, "X-Read-Stale"));
    cr_assert_str_eq(ijson_str(r.json, "listing", "status", NULL), "active");
    cr_assert_eq(ijson_int(r.json, "listing", "version", NULL), 3, "a new version");
    iresp_free(&r);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE id = $1::uuid AND refund_ref LIKE 'sbx_re_%'", order, NULL),
                 1);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM ledger_entries WHERE order_id = $1::uuid AND kind = 'refund'", order,
                        NULL),
                 4);
    cr_assert_eq(itest_pg_num("SELECT coalesce(sum(amount_minor), 0) FROM ledger_entries WHERE order_id = $1::uuid", order,
                        NULL),
                 0);
    /* It can be bought again. */
    char again[40];
    buy_ok(&next, listing, again, &seq);
    r = get_listing(listing, seq);
    cr_assert_str_eq(ijson_str(r.json, "listing", "status", NULL), "sold");
    cr_assert_eq(ijson_int(r.json, "listing", "version", NULL), 4);
    iresp_free(&r);
}

/* ---- reads -------------------------------------------------------------------------------- */

Test(orders, an_order_is_visible_to_its_buyer_and_seller_only)
{
    struct itest_user seller, buyer, stranger;
    itest_user_new(&seller, "Seller");
    itest_user_new(&buyer, "Buyer");
    itest_user_new(&stranger, "Nosy");
    struct deal d;
    deal_in_state(&seller, &buyer, "shipped", &d);
    struct iresp r = get_as(&buyer, itest_fmt("/api/v1/orders/%s", d.order));
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(iresp_header(&r, "Cache-Control"), "private, no-store");
    cr_assert_str_eq(ijson_str(r.json, "order", "tracking", "number", NULL), "00340434161094042557");
    cr_assert_str_eq(ijson_str(r.json, "order", "shipping_address", "city", NULL), "Berlin");
    iresp_free(&r);
    r = get_as(&seller, itest_fmt("/api/v1/orders/%s", d.order));
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
    r = get_as(&stranger, itest_fmt("/api/v1/orders/%s", d.order));
    cr_assert_eq(r.status, 404, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "not_found");
    char body404[512];
    snprintf(body404, sizeof(body404), "%s", r.body);
    iresp_free(&r);
    r = get_as(&stranger, "/api/v1/orders/0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81");
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(r.body, body404, "someone else's order looks exactly like no order");
    iresp_free(&r);
    r = get_as(&buyer, "/api/v1/orders/nope");
    cr_assert_eq(r.status, 404);
    iresp_free(&r);
    r = get_as(NULL, itest_fmt("/api/v1/orders/%s", d.order));
    cr_assert_eq(r.status, 401);
    iresp_free(&r);
}

/* The ids of a page of GET path, appended to ids ("a,b,"); returns next_cursor (static) or NULL. */
static const char *
page(struct itest_user *u, const char *path, char *ids, size_t cap, int *count)
{
    static char next[256];
    struct iresp r = get_as(u, path);
    cr_assert_eq(r.status, 200, "%s: %s", path, r.body);
    json_object *items = json_object_object_get(r.json, "items");
    *count = (int)json_object_array_length(items);
    for (int i = 0; i < *count; i++) {
        snprintf(ids + strlen(ids), cap - strlen(ids), "%s,",
                 ijson_str(json_object_array_get_idx(items, (size_t)i), "id", NULL));
    }
    const char *c = ijson_str(r.json, "next_cursor", NULL);
    cr_assert(c != NULL || json_object_object_get_ex(r.json, "next_cursor", NULL), "next_cursor is always present");
    snprintf(next, sizeof(next), "%s", c != NULL ? c : "");
    iresp_free(&r);
    return c != NULL ? next : NULL;
}

static int
list_count(struct itest_user *u, const char *query)
{
    struct iresp r = get_as(u, itest_fmt("/api/v1/orders%s", query));
    cr_assert_eq(r.status, 200, "%s", r.body);
    int n = (int)json_object_array_length(json_object_object_get(r.json, "items"));
    iresp_free(&r);
    return n;
}

Test(orders, lists_by_role_in_keyset_pages)
{
    struct itest_user s1, s2, buyer, middle;
    itest_user_new(&s1, "SellerOne");
    itest_user_new(&s2, "SellerTwo");
    itest_user_new(&buyer, "Collector");
    itest_user_new(&middle, "Trader");
    char l[40], o[6][40], mine[40];
    for (int i = 0; i < 3; i++) {
        new_listing(&s1, l);
        buy_ok(&buyer, l, o[i], NULL);
    }
    new_listing(&s2, l);
    buy_ok(&buyer, l, o[3], NULL);
    new_listing(&middle, l);
    buy_ok(&buyer, l, o[4], NULL);
    new_listing(&s1, l);
    buy_ok(&middle, l, mine, NULL);

    cr_assert_eq(list_count(&buyer, "?role=buyer"), 5);
    cr_assert_eq(list_count(&buyer, "?role=seller"), 0);
    cr_assert_eq(list_count(&buyer, ""), 5);
    cr_assert_eq(list_count(&s1, "?role=seller"), 4);
    cr_assert_eq(list_count(&middle, ""), 2);
    cr_assert_eq(list_count(&middle, "?role=buyer"), 1);
    cr_assert_eq(list_count(&middle, "?role=seller"), 1);

    /* Newest first, in pages of 2 that add up to the whole list. */
    char all[512] = "", paged[512] = "";
    int n;
    cr_assert_null(page(&buyer, "/api/v1/orders?role=buyer", all, sizeof(all), &n));
    cr_assert_eq(n, 5);
    cr_assert_eq(strncmp(all, o[4], 36), 0, "the newest first: %s", all);
    const char *cursor = page(&buyer, "/api/v1/orders?role=buyer&limit=2", paged, sizeof(paged), &n);
    cr_assert_eq(n, 2);
    cr_assert_not_null(cursor);
    char first_cursor[256];
    snprintf(first_cursor, sizeof(first_cursor), "%s", cursor);
    cursor = page(&buyer, itest_fmt("/api/v1/orders?role=buyer&limit=2&cursor=%s", first_cursor), paged, sizeof(paged), &n);
    cr_assert_eq(n, 2);
    cursor = page(&buyer, itest_fmt("/api/v1/orders?limit=2&role=buyer&cursor=%s", cursor), paged, sizeof(paged), &n);
    cr_assert_eq(n, 1);
    cr_assert_null(cursor, "the last page has no next cursor");
    cr_assert_str_eq(paged, all);

    /* Bad parameters. */
    char tampered[256];
    snprintf(tampered, sizeof(tampered), "%s", first_cursor);
    tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
    const char *bad[] = {
        itest_fmt("?role=buyer&cursor=%s", tampered),
        itest_fmt("?role=seller&cursor=%s", first_cursor),
        itest_fmt("?cursor=%s", first_cursor),
        "?cursor=abc",
        "?limit=0",
        "?limit=101",
        "?limit=ten",
        "?role=admin",
        "?role=buyer&role=seller",
        "?status=paid",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct iresp r = get_as(&buyer, itest_fmt("/api/v1/orders%s", bad[i]));
        cr_assert_eq(r.status, 400, "%s: %ld %s", bad[i], r.status, r.body);
        cr_assert_str_eq(iresp_error_code(&r), "bad_parameter");
        iresp_free(&r);
    }
    /* Another user's cursor is not theirs. */
    struct iresp r = get_as(&middle, itest_fmt("/api/v1/orders?role=buyer&cursor=%s", first_cursor));
    cr_assert_eq(r.status, 400, "%s", r.body);
    iresp_free(&r);
    r = get_as(NULL, "/api/v1/orders");
    cr_assert_eq(r.status, 401);
    iresp_free(&r);
}

Test(orders, balances_follow_sale_delivery_and_cancel)
{
    struct itest_user seller, buyer, again;
    itest_user_new(&seller, "BalanceSeller");
    itest_user_new(&buyer, "BalanceBuyer");
    itest_user_new(&again, "SecondChance");
    char l1[40], l2[40], l3[40], o1[40], o2[40], o3[40];
    new_listing_priced(&seller, 32000, "EUR", NULL, l1, NULL);
    new_listing_priced(&seller, 1500, "USD", NULL, l2, NULL);
    new_listing_priced(&seller, 700, "EUR", NULL, l3, NULL);
    cr_assert_str_eq(balances(&seller), "");
    buy_ok(&buyer, l1, o1, NULL);
    buy_ok(&buyer, l2, o2, NULL);
    buy_ok(&buyer, l3, o3, NULL);
    cr_assert_str_eq(balances(&seller), "EUR:0:32700,USD:0:1500,");
    act_ok(&seller, o1, "ship", SHIP_BODY, NULL);
    cr_assert_str_eq(balances(&seller), "EUR:0:32700,USD:0:1500,", "shipped is still held");
    act_ok(&buyer, o1, "confirm", NULL, NULL);
    cr_assert_str_eq(balances(&seller), "EUR:32000:700,USD:0:1500,");
    act_ok(&buyer, o2, "cancel", NULL, NULL);
    act_ok(&seller, o3, "cancel", NULL, NULL);
    cr_assert_str_eq(balances(&seller), "EUR:32000:0,USD:0:0,");
    cr_assert_str_eq(balances(&buyer), "", "a buyer has no proceeds");
    cr_assert_eq(itest_pg_num("SELECT sum(amount_minor) FROM ledger_entries WHERE account = $1", itest_fmt("buyer:%s", buyer.id),
                        NULL),
                 0, "the buyer's funding account nets to zero");
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM ledger_entries WHERE order_id = $1::uuid AND kind = 'release'", o1, NULL),
                 2);
    /* A sale of the relisted item is held again. */
    char o4[40];
    buy_ok(&again, l2, o4, NULL);
    cr_assert_str_eq(balances(&seller), "EUR:32000:0,USD:0:1500,");
}

Test(orders, the_ledger_refuses_unbalanced_journals_and_edits)
{
    PGconn *c = itest_pg();
    PGresult *res = PQexec(c, "BEGIN; INSERT INTO ledger_entries (journal_id, kind, account, currency, amount_minor) "
                              "VALUES ('00000000-0000-4000-8000-000000000001', 'payment', 'provider:sandbox', 'EUR', "
                              "-100)");
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    PQclear(res);
    res = PQexec(c, "COMMIT");
    cr_assert_neq(PQresultStatus(res), PGRES_COMMAND_OK, "an unbalanced journal cannot commit");
    cr_assert_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23514");
    PQclear(res);
    /* Balanced in sum but across two currencies: refused too. */
    res = PQexec(c, "BEGIN; INSERT INTO ledger_entries (journal_id, kind, account, currency, amount_minor) VALUES "
                    "('00000000-0000-4000-8000-000000000002', 'payment', 'provider:sandbox', 'EUR', -100), "
                    "('00000000-0000-4000-8000-000000000002', 'payment', 'provider:sandbox', 'USD', 100)");
    PQclear(res);
    res = PQexec(c, "COMMIT");
    cr_assert_neq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    /* A balanced journal commits; nothing can change or remove an entry afterwards. */
    res = PQexec(c, "BEGIN; INSERT INTO ledger_entries (journal_id, kind, account, currency, amount_minor) VALUES "
                    "('00000000-0000-4000-8000-000000000003', 'payment', 'provider:sandbox', 'XTS', -1), "
                    "('00000000-0000-4000-8000-000000000003', 'payment', 'provider:test', 'XTS', 1); COMMIT");
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    PQclear(res);
    const char *edits[] = {
        "UPDATE ledger_entries SET amount_minor = 5 WHERE journal_id = '00000000-0000-4000-8000-000000000003'",
        "DELETE FROM ledger_entries WHERE journal_id = '00000000-0000-4000-8000-000000000003'",
        "TRUNCATE ledger_entries",
        "INSERT INTO ledger_entries (journal_id, kind, account, currency, amount_minor) VALUES "
        "('00000000-0000-4000-8000-000000000004', 'payment', 'somebody', 'EUR', 0)",
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        res = PQexec(c, edits[i]);
        cr_assert_neq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", edits[i]);
        PQclear(res);
    }
    PQfinish(c);
}

/* ---- reviews ------------------------------------------------------------------------------ */

static struct iresp
review(struct itest_user *u, const char *order_id, const char *body)
{
    return itest_http("POST", itest_fmt("/api/v1/orders/%s/review", order_id), (const char *const[]){u->bearer, NULL},
                      body);
}

Test(orders, review_rules)
{
    struct itest_user seller, buyer, stranger;
    itest_user_new(&seller, "ReviewedSeller");
    itest_user_new(&buyer, "ReviewingBuyer");
    itest_user_new(&stranger, "Stranger");
    const char *states[] = {"paid", "shipped", "cancelled"};
    for (size_t i = 0; i < 3; i++) {
        struct deal d;
        deal_in_state(&seller, &buyer, states[i], &d);
        struct iresp r = review(&buyer, d.order, "{\"rating\":5}");
        cr_assert_eq(r.status, 409, "%s: %s", states[i], r.body);
        cr_assert_str_eq(iresp_error_code(&r), "invalid_transition");
        iresp_free(&r);
    }
    struct deal d;
    deal_in_state(&seller, &buyer, "delivered", &d);
    struct iresp r = review(&seller, d.order, "{\"rating\":5}");
    cr_assert_eq(r.status, 403, "%s", r.body);
    iresp_free(&r);
    r = review(&stranger, d.order, "{\"rating\":5}");
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    r = review(&buyer, "0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81", "{\"rating\":5}");
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    char *long_comment = malloc(2100);
    memset(long_comment, 'c', 2001);
    long_comment[2001] = '\0';
    const char *bad[] = {"{\"rating\":0}", "{\"rating\":6}", "{\"rating\":4.5}", "{\"rating\":\"5\"}", "{}",
                         "{\"rating\":5,\"title\":\"x\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = review(&buyer, d.order, bad[i]);
        cr_assert_eq(r.status, 422, "%s: %s", bad[i], r.body);
        cr_assert_str_eq(iresp_error_code(&r), "validation_failed");
        iresp_free(&r);
    }
    r = review(&buyer, d.order, itest_fmt("{\"rating\":5,\"comment\":\"%s\"}", long_comment));
    cr_assert_eq(r.status, 422, "%s", r.body);
    cr_assert_not_null(ijson_str(r.json, "error", "fields", "comment", NULL));
    iresp_free(&r);
    long_comment[2000] = '\0';
    r = review(&buyer, d.order, itest_fmt("{\"rating\":5,\"comment\":\"%s\"}", long_comment));
    cr_assert_eq(r.status, 201, "2000 characters are fine: %.200s", r.body);
    cr_assert_not_null(iresp_header(&r, "X-Event-Seq"));
    json_object *rv = json_object_object_get(r.json, "review");
    cr_assert_str_eq(ijson_str(rv, "order_id", NULL), d.order);
    cr_assert_str_eq(ijson_str(rv, "reviewer", "id", NULL), buyer.id);
    cr_assert_str_eq(ijson_str(rv, "reviewer", "display_name", NULL), "ReviewingBuyer");
    cr_assert_eq(ijson_int(rv, "rating", NULL), 5);
    cr_assert_not_null(ijson_str(rv, "created_at", NULL));
    iresp_free(&r);
    free(long_comment);
    r = review(&buyer, d.order, "{\"rating\":1,\"comment\":\"changed my mind\"}");
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "already_reviewed");
    iresp_free(&r);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM reviews WHERE order_id = $1::uuid", d.order, NULL), 1);
    /* Without a comment, the comment is "". */
    deal_in_state(&seller, &buyer, "delivered", &d);
    r = review(&buyer, d.order, "{\"rating\":3}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(ijson_str(r.json, "review", "comment", NULL), "");
    iresp_free(&r);
}

/* "average/count" of a rating object, e.g. "4.3/3" or "null/0". */
static char *
rating_of(json_object *rating)
{
    static char out[64];
    json_object *avg = json_object_object_get(rating, "average");
    if (avg == NULL || json_object_is_type(avg, json_type_null)) {
        snprintf(out, sizeof(out), "null/%lld", ijson_int(rating, "count", NULL));
    } else {
        snprintf(out, sizeof(out), "%.1f/%lld", json_object_get_double(avg), ijson_int(rating, "count", NULL));
    }
    return out;
}

static char *
profile_rating(const char *user_id, long long min_seq)
{
    struct iresp r =
        itest_http("GET", itest_fmt("/api/v1/users/%s", user_id), (const char *const[]){itest_fmt("X-Min-Seq: %lld", min_seq), NULL},
                   NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(iresp_header(&r, "X-Read-Stale"), "the rating reached the profile within the wait");
    char *out = rating_of(json_object_object_get(json_object_object_get(r.json, "user"), "rating"));
    iresp_free(&r);
    return out;
}

static char *
listing_rating(const char *listing_id, long long min_seq)
{
    struct iresp r = get_listing(listing_id, min_seq);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(iresp_header(&r, "X-Read-Stale"));
    char *out = rating_of(json_object_object_get(json_object_object_get(json_object_object_get(r.json, "listing"),
                                                                          "seller"),
                                                   "rating"));
    iresp_free(&r);
    return out;
}

/* Canonical JSON of the read model's rating documents of a seller (sellers.rating, each
 * listing's seller.rating, each review without seq), sorted by _id. */
static char *
rating_snapshot(const char *seller_id)
{
    char *out = NULL;
    struct {
        const char *coll;
        const char *field;
        bson_t *projection;
    } parts[] = {
        {"sellers", "_id", BCON_NEW("rating", BCON_INT32(1))},
        {"listings", "seller_id", BCON_NEW("seller.rating", BCON_INT32(1))},
        {"reviews", "seller_id", BCON_NEW("seq", BCON_INT32(0))},
    };
    for (size_t i = 0; i < 3; i++) {
        bson_t *filter = BCON_NEW(parts[i].field, BCON_UTF8(seller_id));
        itest_dump(&out, parts[i].coll, filter, parts[i].projection);
        bson_destroy(filter);
        bson_destroy(parts[i].projection);
    }
    return out;
}

struct names_wait {
    const char *seller_id;
    const char *want;
};

static bool
reviewer_names_are(void *arg)
{
    struct names_wait *w = arg;
    struct iresp r = itest_http("GET", itest_fmt("/api/v1/users/%s/reviews", w->seller_id), NULL, NULL);
    json_object *items = json_object_object_get(r.json, "items");
    bool ok = r.status == 200 && json_object_array_length(items) > 0;
    for (size_t i = 0; ok && i < json_object_array_length(items); i++) {
        const char *name = ijson_str(json_object_array_get_idx(items, i), "reviewer", "display_name", NULL);
        ok = name != NULL && strcmp(name, w->want) == 0;
    }
    iresp_free(&r);
    return ok;
}

Test(orders, ratings_reach_the_profile_and_every_listing_and_survive_replays)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "RatedSeller");
    itest_user_new(&buyer, "HappyBuyer");
    char on_sale[40];
    long long seq;
    new_listing_priced(&seller, 999, "EUR", NULL, on_sale, &seq);
    cr_assert_str_eq(listing_rating(on_sale, seq), "null/0");

    const int ratings[] = {4, 5, 4};
    const char *want[] = {"4.0/1", "4.5/2", "4.3/3"};
    char reviews[3][40];
    for (int i = 0; i < 3; i++) {
        struct deal d;
        deal_in_state(&seller, &buyer, "delivered", &d);
        struct iresp r = review(&buyer, d.order, itest_fmt("{\"rating\":%d,\"comment\":\"review %d\"}", ratings[i], i));
        cr_assert_eq(r.status, 201, "%s", r.body);
        seq = atoll(iresp_header(&r, "X-Event-Seq"));
        snprintf(reviews[i], sizeof(reviews[i]), "%s", ijson_str(r.json, "review", "id", NULL));
        iresp_free(&r);
        cr_assert_str_eq(profile_rating(seller.id, seq), want[i]);
        cr_assert_str_eq(listing_rating(on_sale, seq), want[i], "the listing embeds the rating");
        cr_assert_str_eq(listing_rating(d.listing, seq), want[i], "sold listings too");
    }

    /* The list: newest first, in pages, with opaque cursors. */
    struct iresp r = itest_http("GET", itest_fmt("/api/v1/users/%s/reviews", seller.id), NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_object *items = json_object_object_get(r.json, "items");
    cr_assert_eq(json_object_array_length(items), 3, "%s", r.body);
    for (int i = 0; i < 3; i++) {
        json_object *it = json_object_array_get_idx(items, (size_t)i);
        cr_assert_str_eq(ijson_str(it, "id", NULL), reviews[2 - i]);
        cr_assert_eq(ijson_int(it, "rating", NULL), ratings[2 - i]);
        cr_assert_str_eq(ijson_str(it, "comment", NULL), itest_fmt("review %d", 2 - i));
        cr_assert_str_eq(ijson_str(it, "reviewer", "id", NULL), buyer.id);
        cr_assert_str_eq(ijson_str(it, "reviewer", "display_name", NULL), "HappyBuyer");
        cr_assert_not_null(ijson_str(it, "order_id", NULL));
        cr_assert_not_null(ijson_str(it, "created_at", NULL));
    }
    json_object *nc = NULL;
    cr_assert(json_object_object_get_ex(r.json, "next_cursor", &nc) && nc == NULL);
    iresp_free(&r);
    char ids[256] = "";
    int n;
    const char *cursor = page(NULL, itest_fmt("/api/v1/users/%s/reviews?limit=2", seller.id), ids, sizeof(ids), &n);
    cr_assert_eq(n, 2);
    cr_assert_not_null(cursor);
    char c1[256];
    snprintf(c1, sizeof(c1), "%s", cursor);
    cursor = page(NULL, itest_fmt("/api/v1/users/%s/reviews?limit=2&cursor=%s", seller.id, c1), ids, sizeof(ids), &n);
    cr_assert_eq(n, 1);
    cr_assert_null(cursor);
    cr_assert_str_eq(ids, itest_fmt("%s,%s,%s,", reviews[2], reviews[1], reviews[0]));
    c1[3] = c1[3] == 'x' ? 'y' : 'x';
    r = itest_http("GET", itest_fmt("/api/v1/users/%s/reviews?cursor=%s", seller.id, c1), NULL, NULL);
    cr_assert_eq(r.status, 400, "%s", r.body);
    iresp_free(&r);
    r = itest_http("GET", itest_fmt("/api/v1/users/%s/reviews?sort=best", seller.id), NULL, NULL);
    cr_assert_eq(r.status, 400, "%s", r.body);
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/users/0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81/reviews", NULL, NULL);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    r = itest_http("GET", itest_fmt("/api/v1/users/%s/reviews", buyer.id), NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_eq(json_object_array_length(json_object_object_get(r.json, "items")), 0, "reviews received, not given");
    iresp_free(&r);

    /* A reviewer's new name reaches their reviews. */
    r = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){buyer.bearer, NULL},
                   "{\"display_name\":\"Renamed Buyer\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
    struct names_wait nw = {seller.id, "Renamed Buyer"};
    cr_assert(itest_poll(5000, reviewer_names_are, &nw), "the reviews show the new name");

    /* The same review event applied twice counts once. */
    PGconn *c = itest_pg();
    const char *params[] = {reviews[1]};
    PGresult *res = PQexecParams(c,
                                 "INSERT INTO outbox (aggregate_type, aggregate_id, aggregate_version, event_type, payload) "
                                 "SELECT aggregate_type, aggregate_id, aggregate_version, event_type, payload FROM outbox "
                                 "WHERE aggregate_id = $1::uuid AND event_type = 'review.created' RETURNING seq",
                                 1, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    cr_assert_eq(PQntuples(res), 1);
    seq = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(c);
    cr_assert_str_eq(profile_rating(seller.id, seq), "4.3/3");
    cr_assert_str_eq(listing_rating(on_sale, seq), "4.3/3");

    /* A rebuild of the read model from the outbox gives the same ratings and reviews. */
    char *before = rating_snapshot(seller.id);
    cr_assert_not_null(strstr(before, "\"count\" : { \"$numberLong\" : \"3\" }"), "%s", before);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s --role projector --rebuild --config %s >/dev/null 2>&1",
             itest_env("MARKET_TEST_MARKETD"), itest_env("MARKET_TEST_CONFIG"));
    cr_assert_eq(system(cmd), 0, "marketd --rebuild failed");
    itest_assert_read_model_complete(0);
    char *after_rebuild = rating_snapshot(seller.id);
    cr_assert_str_eq(after_rebuild, before, "the rebuilt ratings differ");
    free(before);
    free(after_rebuild);
}
