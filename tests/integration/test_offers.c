/*
 * Offers through nginx (issue 11): every move from every state by every party, amount bounds,
 * one open offer per buyer, accepts racing accepts and purchases, reserved listings refusing
 * other buyers and edits, buying at the offer's amount with idempotent replays, the read
 * model's `reserved`, keyset lists, bad bodies; and in the offer_timers suite, with short
 * TTLs, expiries and lapses (also across a restart of every marketd process) and purchases
 * racing a lapse. The ledger must sum to zero after every test.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "itest.h"
#include "projector/projections.h"
#include "store/pg.h"

#define PRICE 10000
#define ADDRESS                                                                                                        \
    "{\"name\":\"Ada Lovelace\",\"line1\":\"Unter den Linden 1\",\"city\":\"Berlin\",\"postal_code\":\"10117\","       \
    "\"country\":\"DE\"}"
#define SHORT_TTL_S "4"

TestSuite(offers, .fini = itest_assert_ledger_balanced, .timeout = 600);

/* ---- helpers ------------------------------------------------------------------------------- */


/* A new active listing of seller at price (title "<word> lamp" when word is not NULL). */
static void
new_listing_titled(struct itest_user *seller, long long price, const char *word, char id[40])
{
    char *body = itest_fmt("{\"title\":\"%s lamp\",\"category\":\"furniture\",\"condition\":\"good\","
                           "\"price_minor\":%lld,\"currency\":\"EUR\","
                           "\"location\":{\"city\":\"Berlin\",\"country\":\"DE\",\"lat\":52.52,\"lon\":13.405}}",
                           word != NULL ? word : "Brass", price);
    struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){seller->bearer, NULL}, body);
    cr_assert_eq(r.status, 201, "create listing: %s", r.body);
    snprintf(id, 40, "%s", ijson_str(r.json, "listing", "id", NULL));
    iresp_free(&r);
}

static void
new_listing(struct itest_user *seller, char id[40])
{
    new_listing_titled(seller, PRICE, NULL, id);
}

static struct iresp
post_as(struct itest_user *u, const char *path, const char *body)
{
    return itest_http("POST", path, (const char *const[]){u != NULL ? u->bearer : NULL, NULL}, body);
}

static struct iresp
get_as(struct itest_user *u, const char *path)
{
    return itest_http("GET", path, (const char *const[]){u != NULL ? u->bearer : NULL, NULL}, NULL);
}

static struct iresp
offer_on(struct itest_user *u, const char *listing, const char *body)
{
    return post_as(u, itest_fmt("/api/v1/listings/%s/offers", listing), body);
}

static void
make_offer(struct itest_user *u, const char *listing, long long amount, char id[40])
{
    struct iresp r = offer_on(u, listing, itest_fmt("{\"amount_minor\":%lld}", amount));
    cr_assert_eq(r.status, 201, "make an offer: %ld %s", r.status, r.body);
    cr_assert_not_null(iresp_header(&r, "X-Event-Seq"));
    cr_assert_str_eq(ijson_str(r.json, "offer", "status", NULL), "open");
    cr_assert_str_eq(ijson_str(r.json, "offer", "turn", NULL), "seller");
    snprintf(id, 40, "%s", ijson_str(r.json, "offer", "id", NULL));
    cr_assert_str_eq(iresp_header(&r, "Location"), itest_fmt("/api/v1/offers/%s", id));
    iresp_free(&r);
}

static struct iresp
move(struct itest_user *u, const char *offer, const char *action, const char *body)
{
    return post_as(u, itest_fmt("/api/v1/offers/%s/%s", offer, action), body);
}

static void
move_ok(struct itest_user *u, const char *offer, const char *action, const char *body)
{
    struct iresp r = move(u, offer, action, body);
    cr_assert_eq(r.status, 200, "%s: %ld %s", action, r.status, r.body);
    cr_assert_not_null(iresp_header(&r, "X-Event-Seq"), "%s answers X-Event-Seq", action);
    iresp_free(&r);
}

/* The offer as u reads it (200 expected); the caller frees. */
static struct iresp
read_offer(struct itest_user *u, const char *offer)
{
    struct iresp r = get_as(u, itest_fmt("/api/v1/offers/%s", offer));
    cr_assert_eq(r.status, 200, "GET offer: %ld %s", r.status, r.body);
    return r;
}

static const char *
offer_status(struct itest_user *u, const char *offer)
{
    static char status[32];
    struct iresp r = read_offer(u, offer);
    snprintf(status, sizeof(status), "%s", ijson_str(r.json, "offer", "status", NULL));
    iresp_free(&r);
    return status;
}

static const char *
listing_status_pg(const char *listing)
{
    static char status[32];
    PGconn *c = itest_pg();
    const char *params[] = {listing};
    PGresult *res = PQexecParams(c, "SELECT status FROM listings WHERE id = $1::uuid", 1, NULL, params, NULL, NULL, 0);
    cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s", PQerrorMessage(c));
    snprintf(status, sizeof(status), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(c);
    return status;
}

static char *
order_with(const char *member, const char *id)
{
    return itest_fmt("{\"%s\":\"%s\",\"shipping_address\":" ADDRESS "}", member, id);
}

static struct iresp
buy(struct itest_user *u, const char *key, const char *body)
{
    char k[320];
    snprintf(k, sizeof(k), "Idempotency-Key: %s", key != NULL ? key : itest_unique("key"));
    return itest_http("POST", "/api/v1/orders", (const char *const[]){u->bearer, k, NULL}, body);
}

static long long
count_events(const char *aggregate, const char *type, const char *by)
{
    if (by == NULL) {
        return itest_pg_num("SELECT count(*) FROM outbox WHERE aggregate_id = $1::uuid AND event_type = $2", aggregate,
                            type);
    }
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM outbox WHERE aggregate_id = $1::uuid AND event_type = $2 AND payload->>'by' = '%s'",
             by);
    return itest_pg_num(sql, aggregate, type);
}

/* ---- the state machine ----------------------------------------------------------------------- */

enum { OPEN_SELLER, OPEN_BUYER, ACCEPTED, DECLINED, WITHDRAWN, EXPIRED, COMPLETED, NSTATES };
static const char *const STATE_NAMES[] = {"open (seller's turn)", "open (buyer's turn)", "accepted", "declined",
                                          "withdrawn", "expired", "completed"};
static const char *const STATE_STATUS[] = {"open", "open", "accepted", "declined", "withdrawn", "expired", "completed"};

struct timeout_arg {
    struct itest_user *u;
    const char *offer;
    const char *status;
};

static bool
offer_reached(void *arg)
{
    struct timeout_arg *t = arg;
    struct iresp r = get_as(t->u, itest_fmt("/api/v1/offers/%s", t->offer));
    bool ok = r.status == 200 && strcmp(ijson_str(r.json, "offer", "status", NULL), t->status) == 0;
    iresp_free(&r);
    return ok;
}

/* Poll until u sees offer in status (at most timeout_ms). */
static void
await_offer(struct itest_user *u, const char *offer, const char *status, int timeout_ms)
{
    struct timeout_arg t = {u, offer, status};
    cr_assert(itest_poll(timeout_ms, offer_reached, &t), "offer %s did not become %s in %d ms (it is %s)", offer,
              status, timeout_ms, offer_status(u, offer));
}

/* A new listing of seller with an offer of buyer (8000), brought to state. */
static void
offer_in_state(struct itest_user *seller, struct itest_user *buyer, int state, char listing[40], char offer[40])
{
    new_listing(seller, listing);
    make_offer(buyer, listing, 8000, offer);
    switch (state) {
    case OPEN_BUYER: move_ok(seller, offer, "counter", "{\"amount_minor\":9000}"); break;
    case ACCEPTED: move_ok(seller, offer, "accept", NULL); break;
    case DECLINED: move_ok(seller, offer, "decline", NULL); break;
    case WITHDRAWN: move_ok(buyer, offer, "withdraw", NULL); break;
    case EXPIRED:
        /* Its time is up now: the timers (any projector process) apply it within a second or so. */
        itest_pg_run("UPDATE offers SET expires_at = now() - interval '1 second' WHERE id = $1::uuid", offer, NULL);
        await_offer(buyer, offer, "expired", 65000);
        break;
    case COMPLETED: {
        move_ok(seller, offer, "accept", NULL);
        struct iresp r = buy(buyer, NULL, order_with("offer_id", offer));
        cr_assert_eq(r.status, 201, "%s", r.body);
        iresp_free(&r);
        break;
    }
    default: break;
    }
}

Test(offers, every_move_from_every_state_by_every_party)
{
    struct itest_user seller, buyer, stranger;
    itest_user_new(&seller, "OfferSeller");
    itest_user_new(&buyer, "OfferBuyer");
    itest_user_new(&stranger, "Stranger");
    const char *actions[] = {"counter", "accept", "decline", "withdraw"};
    struct itest_user *parties[] = {&buyer, &seller, &stranger};
    const char *party_names[] = {"buyer", "seller", "stranger"};
    /* expected[action][party][state]; 0 = 409 listing_not_available, 1 = 409 invalid_transition */
    const int expected[4][3][NSTATES] = {
        /* counter */
        {{403, 200, 1, 1, 1, 1, 1}, {200, 403, 1, 1, 1, 1, 1}, {404, 404, 404, 404, 404, 404, 404}},
        /* accept: an accept on a listing that is not active is listing_not_available whatever the offer's state */
        {{403, 200, 0, 1, 1, 1, 0}, {200, 403, 0, 1, 1, 1, 0}, {404, 404, 404, 404, 404, 404, 404}},
        /* decline */
        {{403, 200, 1, 1, 1, 1, 1}, {200, 403, 1, 1, 1, 1, 1}, {404, 404, 404, 404, 404, 404, 404}},
        /* withdraw: the buyer, while open */
        {{200, 200, 1, 1, 1, 1, 1}, {403, 403, 403, 403, 403, 403, 403}, {404, 404, 404, 404, 404, 404, 404}},
    };
    const char *after[] = {"open", "accepted", "declined", "withdrawn"};
    for (int s = 0; s < NSTATES; s++) {
        for (int a = 0; a < 4; a++) {
            for (int p = 0; p < 3; p++) {
                char listing[40], offer[40];
                offer_in_state(&seller, &buyer, s, listing, offer);
                const char *body = a == 0 ? "{\"amount_minor\":8500}" : NULL;
                struct iresp r = move(parties[p], offer, actions[a], body);
                int want = expected[a][p][s];
                long status = want <= 1 ? 409 : want;
                cr_assert_eq(r.status, status, "%s by the %s of a %s offer: %ld %s", actions[a], party_names[p],
                             STATE_NAMES[s], r.status, r.body);
                if (want == 200) {
                    cr_assert_str_eq(ijson_str(r.json, "offer", "status", NULL), after[a]);
                    cr_assert_not_null(iresp_header(&r, "X-Event-Seq"));
                    json_object *history = json_object_object_get(json_object_object_get(r.json, "offer"), "history");
                    json_object *last = json_object_array_get_idx(history, json_object_array_length(history) - 1);
                    cr_assert_str_eq(ijson_str(last, "action", NULL), actions[a]);
                    cr_assert_str_eq(ijson_str(last, "by", NULL), party_names[p]);
                    if (a == 0) {
                        cr_assert_eq(ijson_int(r.json, "offer", "amount_minor", NULL), 8500);
                        cr_assert_str_eq(ijson_str(r.json, "offer", "turn", NULL), p == 0 ? "seller" : "buyer");
                    } else {
                        cr_assert_null(json_object_object_get(json_object_object_get(r.json, "offer"), "turn"));
                    }
                } else {
                    const char *code = want == 0   ? "listing_not_available"
                                       : want == 1 ? "invalid_transition"
                                       : want == 403 ? "forbidden"
                                                     : "not_found";
                    cr_assert_str_eq(iresp_error_code(&r), code, "%s by the %s of a %s offer: %s", actions[a],
                                     party_names[p], STATE_NAMES[s], r.body);
                    cr_assert_str_eq(offer_status(&buyer, offer), STATE_STATUS[s], "a refusal changes nothing");
                }
                iresp_free(&r);
            }
        }
    }
    /* Unknown and malformed offer ids; no session. */
    struct iresp r = move(&buyer, "0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81", "withdraw", NULL);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    r = move(&buyer, "not-an-id", "accept", NULL);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    r = move(NULL, "0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81", "accept", NULL);
    cr_assert_eq(r.status, 401, "%s", r.body);
    iresp_free(&r);
}

Test(offers, events_and_history_of_a_negotiation)
{
    struct itest_user seller, buyer, other;
    itest_user_new(&seller, "Haggler");
    itest_user_new(&buyer, "Bidder");
    itest_user_new(&other, "OtherBidder");
    char listing[40], offer[40], second[40];
    new_listing(&seller, listing);
    make_offer(&buyer, listing, 7000, offer);
    make_offer(&other, listing, 6000, second);
    move_ok(&seller, offer, "counter", "{\"amount_minor\":9500}");
    move_ok(&buyer, offer, "counter", "{\"amount_minor\":9000}");
    move_ok(&seller, offer, "accept", NULL);
    struct iresp r = read_offer(&seller, offer);
    json_object *o = json_object_object_get(r.json, "offer");
    cr_assert_str_eq(ijson_str(o, "status", NULL), "accepted");
    cr_assert_eq(ijson_int(o, "amount_minor", NULL), 9000);
    cr_assert_str_eq(ijson_str(o, "currency", NULL), "EUR");
    cr_assert_str_eq(ijson_str(o, "seller_id", NULL), seller.id);
    cr_assert_str_eq(ijson_str(o, "buyer_id", NULL), buyer.id);
    cr_assert_not_null(ijson_str(o, "reserved_until", NULL));
    cr_assert_str_eq(ijson_str(o, "reserved_until", NULL), ijson_str(o, "expires_at", NULL));
    const char *moves[][3] = {{"buyer", "offer", "7000"}, {"seller", "counter", "9500"}, {"buyer", "counter", "9000"},
                              {"seller", "accept", "9000"}};
    json_object *history = json_object_object_get(o, "history");
    cr_assert_eq(json_object_array_length(history), 4, "%s", r.body);
    for (size_t i = 0; i < 4; i++) {
        json_object *m = json_object_array_get_idx(history, i);
        cr_assert_str_eq(ijson_str(m, "by", NULL), moves[i][0]);
        cr_assert_str_eq(ijson_str(m, "action", NULL), moves[i][1]);
        cr_assert_eq(ijson_int(m, "amount_minor", NULL), atoll(moves[i][2]));
        cr_assert_not_null(ijson_str(m, "at", NULL));
    }
    iresp_free(&r);
    /* The other open offer was declined by the accept. */
    r = read_offer(&other, second);
    cr_assert_str_eq(ijson_str(r.json, "offer", "status", NULL), "declined");
    iresp_free(&r);
    /* The events, with the names and members the notifications read. */
    cr_assert_eq(count_events(offer, "offer.created", "buyer"), 1);
    cr_assert_eq(count_events(offer, "offer.countered", "seller"), 1);
    cr_assert_eq(count_events(offer, "offer.countered", "buyer"), 1);
    cr_assert_eq(count_events(offer, "offer.accepted", "seller"), 1);
    cr_assert_eq(count_events(second, "offer.declined", "system"), 1);
    cr_assert_eq(count_events(listing, "listing.reserved", NULL), 1);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM outbox WHERE event_type = 'listing.reserved' AND "
                              "aggregate_id = $1::uuid AND payload->>'offer_id' = $2 AND payload->>'buyer_id' IS NOT NULL "
                              "AND payload->>'reserved_until' IS NOT NULL AND payload->>'listing_id' = aggregate_id::text AND "
                              "(payload->>'version')::bigint = aggregate_version AND payload->>'status' = 'reserved'",
                              listing, offer),
                 1);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM outbox WHERE aggregate_id = $1::uuid AND event_type LIKE 'offer.%' "
                              "AND payload ?& array['offer_id','listing_id','buyer_id','seller_id','amount_minor',"
                              "'currency','by']",
                              offer, NULL),
                 4, "created, countered twice, accepted: each with the members notifications read");
    /* The history is append-only. */
    PGconn *c = itest_pg();
    PGresult *res = PQexec(c, "UPDATE offer_moves SET amount_minor = 1");
    cr_assert_neq(PQresultStatus(res), PGRES_COMMAND_OK, "offer_moves must refuse updates");
    PQclear(res);
    PQfinish(c);
}

/* ---- amounts, one open offer, availability --------------------------------------------------- */

Test(offers, amounts_must_be_from_one_to_the_price_minus_one)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "BoundSeller");
    itest_user_new(&buyer, "BoundBuyer");
    char listing[40], offer[40];
    new_listing(&seller, listing);
    const char *bad[] = {"0", "-1", "10000", "10001", "100000001", "1.5", "1e3", "\"5000\"", "true"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct iresp r = offer_on(&buyer, listing, itest_fmt("{\"amount_minor\":%s}", bad[i]));
        cr_assert_eq(r.status, 422, "%s: %ld %s", bad[i], r.status, r.body);
        cr_assert_not_null(ijson_str(r.json, "error", "fields", "amount_minor", NULL), "%s", r.body);
        iresp_free(&r);
    }
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM offers WHERE listing_id = $1::uuid", listing, NULL), 0);
    make_offer(&buyer, listing, PRICE - 1, offer);
    move_ok(&buyer, offer, "withdraw", NULL);
    make_offer(&buyer, listing, 1, offer);
    /* Counters obey the same bounds. */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct iresp r = move(&seller, offer, "counter", itest_fmt("{\"amount_minor\":%s}", bad[i]));
        cr_assert_eq(r.status, 422, "%s: %ld %s", bad[i], r.status, r.body);
        cr_assert_not_null(ijson_str(r.json, "error", "fields", "amount_minor", NULL), "%s", r.body);
        iresp_free(&r);
    }
    move_ok(&seller, offer, "counter", "{\"amount_minor\":9999}");
    move_ok(&buyer, offer, "counter", "{\"amount_minor\":1}");
    /* A listing priced 1 takes no offer at all. */
    char cheap[40];
    new_listing_titled(&seller, 1, NULL, cheap);
    struct iresp r = offer_on(&buyer, cheap, "{\"amount_minor\":1}");
    cr_assert_eq(r.status, 422, "%s", r.body);
    iresp_free(&r);
}

Test(offers, one_open_offer_per_buyer_and_only_on_active_listings)
{
    struct itest_user seller, buyer, other;
    itest_user_new(&seller, "OneSeller");
    itest_user_new(&buyer, "OneBuyer");
    itest_user_new(&other, "TwoBuyer");
    char listing[40], offer[40], second[40];
    new_listing(&seller, listing);
    make_offer(&buyer, listing, 5000, offer);
    struct iresp r = offer_on(&buyer, listing, "{\"amount_minor\":6000}");
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "conflict");
    iresp_free(&r);
    make_offer(&other, listing, 6000, second);   /* another buyer may */
    move_ok(&seller, offer, "decline", NULL);
    make_offer(&buyer, listing, 6500, offer);    /* once it has ended, a new one */
    /* Own listing: 403; unknown, draft, deleted: 404; sold or reserved: 409. */
    r = offer_on(&seller, listing, "{\"amount_minor\":100}");
    cr_assert_eq(r.status, 403, "%s", r.body);
    iresp_free(&r);
    r = offer_on(&buyer, "0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81", "{\"amount_minor\":100}");
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    char draft[40];
    new_listing(&seller, draft);
    r = itest_http("PATCH", itest_fmt("/api/v1/listings/%s", draft),
                   (const char *const[]){seller.bearer, "If-Match: \"1\"", NULL}, "{\"status\":\"draft\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
    r = offer_on(&buyer, draft, "{\"amount_minor\":100}");
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    char gone[40], gone_offer[40];
    new_listing(&seller, gone);
    make_offer(&buyer, gone, 100, gone_offer);
    r = itest_http("DELETE", itest_fmt("/api/v1/listings/%s", gone), (const char *const[]){seller.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    iresp_free(&r);
    cr_assert_str_eq(offer_status(&buyer, gone_offer), "declined", "a deleted listing's open offers end");
    cr_assert_eq(count_events(gone_offer, "offer.declined", "system"), 1);
    r = offer_on(&other, gone, "{\"amount_minor\":100}");
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    move_ok(&seller, second, "accept", NULL);   /* reserved for other; offer was declined with it */
    cr_assert_str_eq(offer_status(&buyer, offer), "declined");
    r = offer_on(&buyer, listing, "{\"amount_minor\":7000}");
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "listing_not_available");
    iresp_free(&r);
    /* A sale at the listing's price ends the open offers too. */
    char sold[40], sold_offer[40];
    new_listing(&seller, sold);
    make_offer(&buyer, sold, 100, sold_offer);
    r = buy(&other, NULL, order_with("listing_id", sold));
    cr_assert_eq(r.status, 201, "%s", r.body);
    iresp_free(&r);
    cr_assert_str_eq(offer_status(&buyer, sold_offer), "declined");
    r = offer_on(&buyer, sold, "{\"amount_minor\":100}");
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "listing_not_available");
    iresp_free(&r);
}

/* ---- concurrency ----------------------------------------------------------------------------- */

struct shot {
    char path[160];
    char auth[128];
    char key[320];
    char body[1024];
    long status;
    char code[64];
};

static pthread_barrier_t gate;

static void *
fire(void *arg)
{
    struct shot *s = arg;
    const char *headers[] = {s->auth, s->key[0] != '\0' ? s->key : NULL, NULL};
    pthread_barrier_wait(&gate);
    struct iresp r = itest_http("POST", s->path, headers, s->body[0] != '\0' ? s->body : NULL);
    s->status = r.status;
    snprintf(s->code, sizeof(s->code), "%s", iresp_error_code(&r));
    iresp_free(&r);
    return NULL;
}

/* Send every shot at the same moment, each from its own thread. */
static void
fire_all(struct shot *shots, int n)
{
    pthread_t t[64];
    cr_assert(n <= 64);
    pthread_barrier_init(&gate, NULL, (unsigned)n);
    for (int i = 0; i < n; i++) {
        cr_assert_eq(pthread_create(&t[i], NULL, fire, &shots[i]), 0);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
    }
    pthread_barrier_destroy(&gate);
}

static void
aim(struct shot *s, struct itest_user *u, const char *path, const char *body, bool keyed)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->path, sizeof(s->path), "%s", path);
    snprintf(s->auth, sizeof(s->auth), "%s", u->bearer);
    snprintf(s->body, sizeof(s->body), "%s", body != NULL ? body : "");
    if (keyed) {
        snprintf(s->key, sizeof(s->key), "Idempotency-Key: %s", itest_unique("race"));
    }
}

#define BIDDERS 8
#define ROUNDS 6

Test(offers, accepts_racing_on_one_listing_exactly_one_wins)
{
    struct itest_user seller, bidders[BIDDERS];
    itest_user_new(&seller, "RacedSeller");
    for (int i = 0; i < BIDDERS; i++) {
        itest_user_new(&bidders[i], "RacingBidder");
    }
    for (int round = 0; round < ROUNDS; round++) {
        char listing[40], offers[BIDDERS][40];
        new_listing(&seller, listing);
        struct shot shots[BIDDERS];
        for (int i = 0; i < BIDDERS; i++) {
            make_offer(&bidders[i], listing, 5000 + i, offers[i]);
            /* Half are the buyers' to accept (the seller countered), half the seller's. */
            bool buyers_turn = i % 2 == 1;
            if (buyers_turn) {
                move_ok(&seller, offers[i], "counter", "{\"amount_minor\":9000}");
            }
            aim(&shots[i], buyers_turn ? &bidders[i] : &seller, itest_fmt("/api/v1/offers/%s/accept", offers[i]), NULL,
                false);
        }
        fire_all(shots, BIDDERS);
        int won = -1;
        for (int i = 0; i < BIDDERS; i++) {
            if (shots[i].status == 200) {
                cr_assert_eq(won, -1, "round %d: two accepts won (%d and %d)", round, won, i);
                won = i;
            } else {
                cr_assert_eq(shots[i].status, 409, "round %d accept %d: %ld %s", round, i, shots[i].status,
                             shots[i].code);
                cr_assert_str_eq(shots[i].code, "listing_not_available", "round %d accept %d", round, i);
            }
        }
        cr_assert_neq(won, -1, "round %d: nobody won", round);
        cr_assert_str_eq(listing_status_pg(listing), "reserved");
        cr_assert_eq(itest_pg_num("SELECT count(*) FROM offers WHERE listing_id = $1::uuid AND status = 'accepted'",
                                  listing, NULL),
                     1);
        cr_assert_eq(itest_pg_num("SELECT count(*) FROM offers WHERE listing_id = $1::uuid AND status = 'declined'",
                                  listing, NULL),
                     BIDDERS - 1);
        cr_assert_eq(count_events(listing, "listing.reserved", NULL), 1, "round %d", round);
    }
}

#define CROWD 10

Test(offers, accepts_racing_buy_now_exactly_one_wins)
{
    struct itest_user seller, bidder, crowd[CROWD];
    itest_user_new(&seller, "BusySeller");
    itest_user_new(&bidder, "Negotiator");
    for (int i = 0; i < CROWD; i++) {
        itest_user_new(&crowd[i], "BuyNow");
    }
    int accepts_won = 0, buys_won = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char listing[40], offer[40];
        new_listing(&seller, listing);
        make_offer(&bidder, listing, 7000, offer);
        /* Odd rounds: one buyer against the accept, so that either side can win. */
        int nbuy = round % 2 == 1 ? 1 : CROWD;
        struct shot shots[CROWD + 1];
        aim(&shots[0], &seller, itest_fmt("/api/v1/offers/%s/accept", offer), NULL, false);
        for (int i = 0; i < nbuy; i++) {
            aim(&shots[i + 1], &crowd[i], "/api/v1/orders", order_with("listing_id", listing), true);
        }
        fire_all(shots, nbuy + 1);
        int winners = 0;
        for (int i = 0; i <= nbuy; i++) {
            if (shots[i].status == 200 || shots[i].status == 201) {
                winners++;
            } else {
                cr_assert_eq(shots[i].status, 409, "round %d shot %d: %ld %s", round, i, shots[i].status,
                             shots[i].code);
                cr_assert_str_eq(shots[i].code, "listing_not_available", "round %d shot %d", round, i);
            }
        }
        cr_assert_eq(winners, 1, "round %d: %d winners", round, winners);
        cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE listing_id = $1::uuid", listing, NULL),
                     shots[0].status == 200 ? 0 : 1);
        if (shots[0].status == 200) {
            accepts_won++;
            cr_assert_str_eq(listing_status_pg(listing), "reserved");
        } else {
            buys_won++;
            cr_assert_str_eq(listing_status_pg(listing), "sold");
            cr_assert_str_eq(offer_status(&bidder, offer), "declined");
        }
    }
    cr_log_info("accept won %d rounds, buy-now %d", accepts_won, buys_won);
}

/* ---- reserved listings and buying with an offer ----------------------------------------------- */

struct browse_arg {
    const char *word;
    size_t want;
    struct itest_user *u;
};

static bool
browse_count_is(void *arg)
{
    struct browse_arg *b = arg;
    struct iresp r = get_as(b->u, itest_fmt("/api/v1/listings?q=%s", b->word));
    json_object *items = json_object_object_get(r.json, "items");
    bool ok = r.status == 200 && json_object_array_length(items) == b->want;
    iresp_free(&r);
    return ok;
}

Test(offers, a_reserved_listing_refuses_other_buyers_and_edits_and_sells_at_the_offer_amount)
{
    struct itest_user seller, buyer, other;
    itest_user_new(&seller, "ReservingSeller");
    itest_user_new(&buyer, "ReservedFor");
    itest_user_new(&other, "TooLate");
    const char *word = itest_word('o');
    char listing[40], offer[40], word_copy[24];
    snprintf(word_copy, sizeof(word_copy), "%s", word);
    new_listing_titled(&seller, PRICE, word_copy, listing);
    struct browse_arg shown = {word_copy, 1, &other}, hidden = {word_copy, 0, &other};
    cr_assert(itest_poll(10000, browse_count_is, &shown), "the active listing is browsable");
    make_offer(&buyer, listing, 7500, offer);
    struct iresp r = move(&seller, offer, "accept", NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    long long seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    /* The read model shows it reserved, and browse no longer finds it. */
    r = itest_http("GET", itest_fmt("/api/v1/listings/%s", listing),
                   (const char *const[]){itest_fmt("X-Min-Seq: %lld", seq), NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(ijson_str(r.json, "listing", "status", NULL), "reserved", "%s", r.body);
    cr_assert_null(iresp_header(&r, "X-Read-Stale"));
    cr_assert_null(json_object_object_get(json_object_object_get(r.json, "listing"), "offer_id"),
                   "the event's extra members stay out of the listing");
    long long version = ijson_int(r.json, "listing", "version", NULL);
    iresp_free(&r);
    cr_assert(itest_poll(10000, browse_count_is, &hidden), "a reserved listing leaves browse");
    /* Other buyers, the seller's edits and deletion are refused. */
    r = buy(&other, NULL, order_with("listing_id", listing));
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "listing_not_available");
    iresp_free(&r);
    r = buy(&other, NULL, order_with("offer_id", offer));
    cr_assert_eq(r.status, 422, "a stranger's offer is no offer: %s", r.body);
    cr_assert_not_null(ijson_str(r.json, "error", "fields", "offer_id", NULL));
    iresp_free(&r);
    r = buy(&seller, NULL, order_with("offer_id", offer));
    cr_assert_eq(r.status, 403, "%s", r.body);
    iresp_free(&r);
    r = itest_http("PATCH", itest_fmt("/api/v1/listings/%s", listing),
                   (const char *const[]){seller.bearer, itest_fmt("If-Match: \"%lld\"", version), NULL},
                   "{\"price_minor\":500}");
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "invalid_transition");
    iresp_free(&r);
    r = itest_http("DELETE", itest_fmt("/api/v1/listings/%s", listing), (const char *const[]){seller.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 409, "%s", r.body);
    iresp_free(&r);
    r = offer_on(&other, listing, "{\"amount_minor\":9000}");
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "listing_not_available");
    iresp_free(&r);
    /* The buyer buys at the accepted amount; a retry replays; another body under the key is refused. */
    const char *key = itest_unique("offer-buy");
    char key_copy[128], first[4096];
    snprintf(key_copy, sizeof(key_copy), "%s", key);
    r = buy(&buyer, key_copy, order_with("offer_id", offer));
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_eq(ijson_int(r.json, "order", "amount_minor", NULL), 7500);
    cr_assert_str_eq(ijson_str(r.json, "order", "listing_id", NULL), listing);
    char order_id[40];
    snprintf(order_id, sizeof(order_id), "%s", ijson_str(r.json, "order", "id", NULL));
    snprintf(first, sizeof(first), "%s", r.body);
    seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    r = buy(&buyer, key_copy, order_with("offer_id", offer));
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(r.body, first, "the replay is byte for byte");
    cr_assert_str_eq(iresp_header(&r, "Idempotent-Replayed"), "true");
    iresp_free(&r);
    r = buy(&buyer, key_copy, order_with("listing_id", listing));
    cr_assert_eq(r.status, 422, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "idempotency_key_reused");
    iresp_free(&r);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE listing_id = $1::uuid", listing, NULL), 1);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE offer_id = $1::uuid", offer, NULL), 1);
    cr_assert_eq(itest_pg_num("SELECT sum(amount_minor) FROM ledger_entries WHERE order_id = $1::uuid AND "
                              "account LIKE 'seller:%:escrow'",
                              order_id, NULL),
                 7500, "the escrow holds the accepted amount");
    cr_assert_str_eq(offer_status(&buyer, offer), "completed");
    cr_assert_str_eq(listing_status_pg(listing), "sold");
    cr_assert_eq(count_events(offer, "offer.completed", "buyer"), 1);
    r = itest_http("GET", itest_fmt("/api/v1/listings/%s", listing),
                   (const char *const[]){itest_fmt("X-Min-Seq: %lld", seq), NULL}, NULL);
    cr_assert_str_eq(ijson_str(r.json, "listing", "status", NULL), "sold", "%s", r.body);
    iresp_free(&r);
    /* Buying with it again: the offer is completed. */
    r = buy(&buyer, NULL, order_with("offer_id", offer));
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "invalid_transition");
    iresp_free(&r);
}

Test(offers, the_reserved_buyer_may_buy_by_listing_id_at_the_offer_amount)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "ListingIdSeller");
    itest_user_new(&buyer, "ListingIdBuyer");
    char listing[40], offer[40], declined_listing[40], declined[40];
    new_listing(&seller, listing);
    make_offer(&buyer, listing, 4200, offer);
    move_ok(&seller, offer, "accept", NULL);
    struct iresp r = buy(&buyer, NULL, order_with("listing_id", listing));
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_eq(ijson_int(r.json, "order", "amount_minor", NULL), 4200);
    iresp_free(&r);
    cr_assert_str_eq(offer_status(&buyer, offer), "completed");
    /* A declined offer buys nothing. */
    new_listing(&seller, declined_listing);
    make_offer(&buyer, declined_listing, 4200, declined);
    move_ok(&seller, declined, "decline", NULL);
    r = buy(&buyer, NULL, order_with("offer_id", declined));
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "invalid_transition");
    iresp_free(&r);
}

/* ---- lists ----------------------------------------------------------------------------------- */

/* Every page of path (limit 2) as u: the ids in order; checks each item with check. */
static size_t
walk(struct itest_user *u, const char *path, char ids[][40], size_t max)
{
    size_t n = 0;
    char cursor[256] = "";
    for (int page = 0; page < 50; page++) {
        const char *sep = strchr(path, '?') != NULL ? "&" : "?";
        struct iresp r = get_as(u, cursor[0] != '\0' ? itest_fmt("%s%slimit=2&cursor=%s", path, sep, cursor)
                                                     : itest_fmt("%s%slimit=2", path, sep));
        cr_assert_eq(r.status, 200, "%s: %s", path, r.body);
        cr_assert_str_eq(iresp_header(&r, "Cache-Control"), "private, no-store");
        json_object *items = json_object_object_get(r.json, "items");
        cr_assert(json_object_array_length(items) <= 2);
        for (size_t i = 0; i < json_object_array_length(items); i++) {
            cr_assert(n < max);
            snprintf(ids[n++], 40, "%s", ijson_str(json_object_array_get_idx(items, i), "id", NULL));
        }
        const char *next = ijson_str(r.json, "next_cursor", NULL);
        snprintf(cursor, sizeof(cursor), "%s", next != NULL ? next : "");
        iresp_free(&r);
        if (cursor[0] == '\0') {
            return n;
        }
    }
    cr_assert_fail("too many pages");
    return n;
}

Test(offers, keyset_lists_by_role_and_status)
{
    struct itest_user me, seller, bidder;
    itest_user_new(&me, "Lister");
    itest_user_new(&seller, "ListSeller");
    itest_user_new(&bidder, "ListBidder");
    char made[5][40], got[2][40], listing[40], mine[40];
    for (int i = 0; i < 5; i++) {
        new_listing(&seller, listing);
        make_offer(&me, listing, 1000 + i, made[i]);
    }
    move_ok(&me, made[1], "withdraw", NULL);
    move_ok(&seller, made[3], "decline", NULL);
    new_listing(&me, mine);
    make_offer(&bidder, mine, 3000, got[0]);
    new_listing(&me, listing);
    make_offer(&bidder, listing, 3000, got[1]);
    char ids[16][40];
    size_t n = walk(&me, "/api/v1/offers?role=buyer", ids, 16);
    cr_assert_eq(n, 5);
    for (int i = 0; i < 5; i++) {
        cr_assert_str_eq(ids[i], made[4 - i], "newest first");
    }
    n = walk(&me, "/api/v1/offers?role=seller", ids, 16);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(ids[0], got[1]);
    cr_assert_str_eq(ids[1], got[0]);
    n = walk(&me, "/api/v1/offers", ids, 16);
    cr_assert_eq(n, 7);
    n = walk(&me, "/api/v1/offers?role=buyer&status=open", ids, 16);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(ids[0], made[4]);
    cr_assert_str_eq(ids[1], made[2]);
    cr_assert_str_eq(ids[2], made[0]);
    n = walk(&me, "/api/v1/offers?status=withdrawn", ids, 16);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(ids[0], made[1]);
    n = walk(&seller, "/api/v1/offers?role=seller&status=declined", ids, 16);
    cr_assert(n >= 1);
    /* Bad parameters, and a cursor of another list. */
    const char *bad[] = {"role=owner", "status=pending", "limit=0", "limit=101", "limit=ten", "colour=red",
                         "role=buyer&role=seller", "cursor=abc", "status=open%00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct iresp r = get_as(&me, itest_fmt("/api/v1/offers?%s", bad[i]));
        cr_assert_eq(r.status, 400, "%s: %ld %s", bad[i], r.status, r.body);
        cr_assert_str_eq(iresp_error_code(&r), "bad_parameter");
        iresp_free(&r);
    }
    struct iresp r = get_as(&me, "/api/v1/offers?role=buyer&limit=1");
    char cursor[256];
    snprintf(cursor, sizeof(cursor), "%s", ijson_str(r.json, "next_cursor", NULL));
    iresp_free(&r);
    r = get_as(&me, itest_fmt("/api/v1/offers?role=seller&cursor=%s", cursor));
    cr_assert_eq(r.status, 400, "%s", r.body);
    iresp_free(&r);
    r = get_as(&bidder, itest_fmt("/api/v1/offers?role=buyer&cursor=%s", cursor));
    cr_assert_eq(r.status, 400, "another user's cursor: %s", r.body);
    iresp_free(&r);
    /* A single offer: its parties only. */
    r = get_as(&bidder, itest_fmt("/api/v1/offers/%s", made[0]));
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    r = get_as(NULL, itest_fmt("/api/v1/offers/%s", made[0]));
    cr_assert_eq(r.status, 401, "%s", r.body);
    iresp_free(&r);
    r = get_as(&me, "/api/v1/offers/nope");
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    char upper[40];
    for (size_t i = 0; i < sizeof(upper); i++) {
        upper[i] = made[0][i] >= 'a' && made[0][i] <= 'f' ? (char)(made[0][i] - 32) : made[0][i];
    }
    r = get_as(&seller, itest_fmt("/api/v1/offers/%s", upper));
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(ijson_str(r.json, "offer", "id", NULL), made[0], "answered in lower case");
    iresp_free(&r);
}

/* ---- bad input ------------------------------------------------------------------------------- */

/* Each body to path must be refused with status, naming field when it is not NULL. */
struct bad_body {
    const char *body;
    long status;
    const char *field;
};

static void
refuse_all(struct itest_user *u, const char *path, const struct bad_body *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct iresp r = post_as(u, path, cases[i].body);
        cr_assert_eq(r.status, cases[i].status, "%s %s: %ld %s", path, cases[i].body, r.status, r.body);
        if (cases[i].field != NULL) {
            cr_assert_not_null(ijson_str(r.json, "error", "fields", cases[i].field, NULL), "%s: %s", cases[i].body,
                               r.body);
        }
        iresp_free(&r);
    }
}

Test(offers, bad_input_on_every_body)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "StrictSeller");
    itest_user_new(&buyer, "StrictBuyer");
    char listing[40], offer[40];
    new_listing(&seller, listing);
    const struct bad_body amounts[] = {
        {"{\"amount_minor\":null}", 422, "amount_minor"},
        {"{\"amount_minor\":\"\\u0000\"}", 422, "amount_minor"},
        {"{\"amount_minor\":\"500\"}", 422, "amount_minor"},
        {"{\"amount_minor\":[500]}", 422, "amount_minor"},
        {"{\"amount_minor\":{\"v\":500}}", 422, "amount_minor"},
        {"{\"amount_minor\":false}", 422, "amount_minor"},
        {"{\"amount_minor\":500.0}", 422, "amount_minor"},
        {"{\"amount_minor\":99999999999999999999}", 422, "amount_minor"},
        {"{}", 422, "amount_minor"},
        {"{\"amount_minor\":500,\"note\":\"hi\"}", 422, "note"},
        {"{\"amount_minor\":500,\"note\":\"a\\u0000b\"}", 422, "note"},
        {"{\"amount_minor\":500,\"amount\":500}", 422, "amount"},
        {"{\"amount_minor\":500", 400, NULL},
        {"{\"amount_minor\":0500}", 400, NULL},
        {"{\"amount_minor\":500,}", 400, NULL},
        {"{\"amount_minor\":500,\"amount_minor\":600}", 400, NULL},
        {"\"\xc0\xaf\"", 400, NULL},
    };
    size_t namounts = sizeof(amounts) / sizeof(amounts[0]);
    refuse_all(&buyer, itest_fmt("/api/v1/listings/%s/offers", listing), amounts, namounts);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM offers WHERE listing_id = $1::uuid", listing, NULL), 0,
                 "nothing was made");
    struct iresp r = itest_http("POST", itest_fmt("/api/v1/listings/%s/offers", listing),
                                (const char *const[]){buyer.bearer, "Content-Type: text/plain", NULL},
                                "{\"amount_minor\":500}");
    cr_assert_eq(r.status, 415, "%s", r.body);
    iresp_free(&r);
    make_offer(&buyer, listing, 500, offer);
    refuse_all(&seller, itest_fmt("/api/v1/offers/%s/counter", offer), amounts, namounts);
    const struct bad_body empties[] = {
        {"{\"x\":1}", 422, "x"},
        {"{\"x\":null}", 422, "x"},
        {"{\"x\":\"\\u0000\"}", 422, "x"},
        {"{\"amount_minor\":600}", 422, "amount_minor"},
        {"{", 400, NULL},
        {"[]", 422, NULL},
    };
    size_t nempties = sizeof(empties) / sizeof(empties[0]);
    refuse_all(&seller, itest_fmt("/api/v1/offers/%s/accept", offer), empties, nempties);
    refuse_all(&seller, itest_fmt("/api/v1/offers/%s/decline", offer), empties, nempties);
    refuse_all(&buyer, itest_fmt("/api/v1/offers/%s/withdraw", offer), empties, nempties);
    cr_assert_str_eq(offer_status(&buyer, offer), "open", "no refusal moved it");
    struct iresp h = read_offer(&buyer, offer);
    cr_assert_eq(json_object_array_length(json_object_object_get(json_object_object_get(h.json, "offer"), "history")),
                 1);
    iresp_free(&h);
    /* POST /orders with offer_id. */
    char *address = ",\"shipping_address\":" ADDRESS "}";
    const struct bad_body orders[] = {
        {itest_fmt("{\"offer_id\":null%s", address), 422, "offer_id"},
        {itest_fmt("{\"offer_id\":\"\\u0000\"%s", address), 422, "offer_id"},
        {itest_fmt("{\"offer_id\":7%s", address), 422, "offer_id"},
        {itest_fmt("{\"offer_id\":\"nope\"%s", address), 422, "offer_id"},
        {itest_fmt("{\"offer_id\":\"%s\",\"listing_id\":\"%s\"%s", offer, listing, address), 422, "offer_id"},
        {itest_fmt("{\"offer_id\":\"0b5c8f1e-6d2a-4c8e-9f1a-3e4d5c6b7a81\"%s", address), 422, "offer_id"},
        {itest_fmt("{\"offer_id\":\"%s\",\"price\":1%s", offer, address), 422, "price"},
    };
    for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
        char body[2048];
        snprintf(body, sizeof(body), "%s", orders[i].body);
        r = buy(&buyer, NULL, body);
        cr_assert_eq(r.status, orders[i].status, "%s: %ld %s", body, r.status, r.body);
        cr_assert_not_null(ijson_str(r.json, "error", "fields", orders[i].field, NULL), "%s: %s", body, r.body);
        iresp_free(&r);
    }
    /* An open offer buys nothing yet. */
    r = buy(&buyer, NULL, order_with("offer_id", offer));
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "invalid_transition");
    iresp_free(&r);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE listing_id = $1::uuid", listing, NULL), 0);
}

/* ---- durable timers (short TTLs) ------------------------------------------------------------- */

/* The command pool computes due times from its configuration: restart it with short TTLs for
 * these tests and with the defaults after each (only offers use them). */
static void
ttls(const char *seconds)
{
    if (seconds != NULL) {
        setenv("MARKET_OFFER_TTL_S", seconds, 1);
        setenv("MARKET_RESERVATION_TTL_S", seconds, 1);
    } else {
        unsetenv("MARKET_OFFER_TTL_S");
        unsetenv("MARKET_RESERVATION_TTL_S");
    }
    itest_stack("restart", "command");
}

static void
short_ttls(void)
{
    ttls(SHORT_TTL_S);
}

static void
default_ttls(void)
{
    itest_start_marketd(); /* what a failed restart test left stopped */
    ttls(NULL);
    itest_assert_ledger_balanced();
}

TestSuite(offer_timers, .init = short_ttls, .fini = default_ttls, .timeout = 600);

/* Applied within 60 s of its due time (plus the short TTL itself and a margin). */
#define DUE_WITHIN_MS 70000

struct listing_arg {
    const char *id;
    const char *status;
};

static bool
listing_reads(void *arg)
{
    struct listing_arg *l = arg;
    struct iresp r = itest_http("GET", itest_fmt("/api/v1/listings/%s", l->id),
                                (const char *const[]){"Authorization: Bearer bypass-the-nginx-cache", NULL}, NULL);
    bool ok = r.status == 200 && strcmp(ijson_str(r.json, "listing", "status", NULL), l->status) == 0;
    iresp_free(&r);
    return ok;
}

Test(offer_timers, open_offers_expire_and_reservations_lapse)
{
    struct itest_user seller, buyer, other;
    itest_user_new(&seller, "TimedSeller");
    itest_user_new(&buyer, "TimedBuyer");
    itest_user_new(&other, "PatientBuyer");
    const char *word = itest_word('o');
    char w[24], open_listing[40], open_offer[40], listing[40], offer[40];
    snprintf(w, sizeof(w), "%s", word);
    new_listing(&seller, open_listing);
    make_offer(&buyer, open_listing, 3000, open_offer);
    new_listing_titled(&seller, PRICE, w, listing);
    make_offer(&buyer, listing, 6000, offer);
    move_ok(&seller, offer, "accept", NULL);
    struct iresp r = read_offer(&buyer, offer);
    cr_assert_str_eq(ijson_str(r.json, "offer", "status", NULL), "accepted",
                     "the accept came within the short TTL (%s s)", SHORT_TTL_S);
    iresp_free(&r);
    struct browse_arg shown = {w, 1, &other};
    /* The open offer expires, the reservation lapses: the listing is active again. */
    await_offer(&buyer, open_offer, "expired", DUE_WITHIN_MS);
    await_offer(&buyer, offer, "expired", DUE_WITHIN_MS);
    cr_assert_str_eq(listing_status_pg(listing), "active");
    r = read_offer(&seller, offer);
    json_object *history = json_object_object_get(json_object_object_get(r.json, "offer"), "history");
    json_object *last = json_object_array_get_idx(history, json_object_array_length(history) - 1);
    cr_assert_str_eq(ijson_str(last, "action", NULL), "expire");
    cr_assert_null(json_object_object_get(json_object_object_get(r.json, "offer"), "turn"));
    iresp_free(&r);
    cr_assert_eq(count_events(open_offer, "offer.expired", "system"), 1);
    cr_assert_eq(count_events(offer, "offer.expired", "system"), 1);
    cr_assert_eq(count_events(listing, "listing.reservation_lapsed", NULL), 1);
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM outbox WHERE event_type = 'listing.reservation_lapsed' AND "
                              "aggregate_id = $1::uuid AND payload->>'offer_id' = $2 AND payload->>'status' = 'active' "
                              "AND (payload->>'version')::bigint = aggregate_version",
                              listing, offer),
                 1);
    struct listing_arg active = {listing, "active"};
    cr_assert(itest_poll(10000, listing_reads, &active), "the read model shows it active again");
    cr_assert(itest_poll(10000, browse_count_is, &shown), "and browse finds it again");
    /* Buying with the lapsed offer: invalid_transition; anyone may buy the listing now. */
    r = buy(&buyer, NULL, order_with("offer_id", offer));
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "invalid_transition");
    iresp_free(&r);
    r = buy(&other, NULL, order_with("listing_id", listing));
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_eq(ijson_int(r.json, "order", "amount_minor", NULL), PRICE);
    iresp_free(&r);
}

static bool
all_due(void *arg)
{
    const char **ids = arg;
    return itest_pg_num("SELECT count(*) FROM offers WHERE id IN ($1::uuid, $2::uuid) AND expires_at > now()", ids[0],
                        ids[1]) == 0;
}

Test(offer_timers, timers_survive_a_restart_of_every_marketd_process)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "RestartSeller");
    itest_user_new(&buyer, "RestartBuyer");
    char open_listing[40], open_offer[40], listing[40], offer[40];
    new_listing(&seller, open_listing);
    make_offer(&buyer, open_listing, 3000, open_offer);
    new_listing(&seller, listing);
    make_offer(&buyer, listing, 6000, offer);
    move_ok(&seller, offer, "accept", NULL);
    /* Every marketd process stops; the due times pass while none runs. */
    itest_stack("stop", "projector");
    itest_stack("stop", "command");
    itest_stack("stop", "query");
    const char *ids[] = {open_offer, offer};
    cr_assert(itest_poll(30000, all_due, (void *)ids), "the due times pass");
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM offers WHERE id IN ($1::uuid, $2::uuid) AND status IN "
                              "('open', 'accepted')",
                              open_offer, offer),
                 2, "nothing applied them while no process ran");
    itest_stack("start", "query");
    itest_stack("start", "command");
    itest_stack("start", "projector");
    await_offer(&buyer, open_offer, "expired", DUE_WITHIN_MS);
    await_offer(&buyer, offer, "expired", DUE_WITHIN_MS);
    cr_assert_str_eq(listing_status_pg(listing), "active");
    cr_assert_eq(count_events(offer, "offer.expired", "system"), 1, "applied once");
    cr_assert_eq(count_events(listing, "listing.reservation_lapsed", NULL), 1);
    struct listing_arg active = {listing, "active"};
    cr_assert(itest_poll(15000, listing_reads, &active), "the read model shows it active again");
}

/* ---- timers of several processes at once --------------------------------------------------- */

#define CONTENDERS 6
#define DUE_OFFERS 48

struct contender {
    int applied;
    int trouble;   /* the last negative result, 0 if none */
};

/* A timers thread of its own (its own connection), as another projector process would run it,
 * until nothing is due. */
static void *
contend(void *arg)
{
    struct contender *c = arg;
    struct pg pg;
    pg_init(&pg, itest_env("MARKET_TEST_PG_DSN"), 10000);
    arena_t *a = arena_create(16 * 1024);
    for (int rounds = 0; rounds < 10 * DUE_OFFERS; rounds++) {
        arena_reset(a);
        int rc = timers_apply_one(&pg, a);
        if (rc == 0) {
            break;
        }
        if (rc < 0) {
            c->trouble = rc;
            break;
        }
        c->applied++;
    }
    arena_destroy(a);
    pg_close(&pg);
    return NULL;
}

/* The listing's lock is what the timers of several processes share the work by. A timer whose
 * scan began before another's commit gets the lock after it, with its own view of the offer as
 * it was (FOR UPDATE rechecks only the row it locks): each offer must still expire once. */
Test(offer_timers, timers_of_several_processes_expire_each_offer_once)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "BusySeller");
    itest_user_new(&buyer, "BusyBuyer");
    char listings[DUE_OFFERS][40], offers[DUE_OFFERS][40];
    for (int i = 0; i < DUE_OFFERS; i++) {
        new_listing(&seller, listings[i]);
        make_offer(&buyer, listings[i], 3000 + i, offers[i]);
        if (i % 2 == 1) {
            move_ok(&seller, offers[i], "accept", NULL);
        }
    }
    /* All due at one instant: every contender goes for the same first offer. */
    itest_pg_run("UPDATE offers SET expires_at = now() - interval '1 second', reserved_until = CASE status WHEN "
                 "'accepted' THEN now() - interval '1 second' END WHERE buyer_id = $1::uuid AND status IN ('open', "
                 "'accepted')",
                 buyer.id, NULL);
    struct contender c[CONTENDERS];
    pthread_t t[CONTENDERS];
    memset(c, 0, sizeof(c));
    for (int i = 0; i < CONTENDERS; i++) {
        cr_assert_eq(pthread_create(&t[i], NULL, contend, &c[i]), 0);
    }
    for (int i = 0; i < CONTENDERS; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(c[i].trouble, 0, "contender %d: %d", i, c[i].trouble);
    }
    for (int i = 0; i < DUE_OFFERS; i++) {
        cr_assert_str_eq(offer_status(&buyer, offers[i]), "expired", "offer %d", i);
        cr_assert_eq(count_events(offers[i], "offer.expired", "system"), 1, "offer %d expired once", i);
        cr_assert_eq(itest_pg_num("SELECT count(*) FROM offer_moves WHERE offer_id = $1::uuid AND action = 'expire'",
                                  offers[i], NULL),
                     1, "offer %d: one expire move", i);
        if (i % 2 == 1) {
            cr_assert_eq(count_events(listings[i], "listing.reservation_lapsed", NULL), 1, "listing %d lapsed once", i);
            cr_assert_str_eq(listing_status_pg(listings[i]), "active");
        }
    }
}

/* ---- a purchase racing the lapse ----------------------------------------------------------------- */

struct racer {
    struct itest_user *u;
    char body[1024];
    double start_ms;          /* monotonic time to start at */
    atomic_int *winners;
    atomic_bool *done;
    int won;
    long last_status;
    char last_code[64];
};

static void *
race(void *arg)
{
    struct racer *x = arg;
    double deadline = x->start_ms + 60000;
    /* Each racer starts at its own moment (this schedules load; it synchronises nothing). */
    double wait_ms = x->start_ms - itest_now_ms();
    if (wait_ms > 0) {
        struct timespec ts = {(time_t)(wait_ms / 1000), (long)((long long)wait_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (int attempt = 0; !atomic_load(x->done) && itest_now_ms() < deadline; attempt++) {
        char k[320];
        snprintf(k, sizeof(k), "Idempotency-Key: lapse-%d-%p-%d-%.0f", (int)getpid(), (void *)x, attempt,
                 itest_now_ms());
        struct iresp r = itest_http("POST", "/api/v1/orders", (const char *const[]){x->u->bearer, k, NULL}, x->body);
        x->last_status = r.status;
        snprintf(x->last_code, sizeof(x->last_code), "%s", iresp_error_code(&r));
        bool refused = r.status == 409 && (strcmp(x->last_code, "listing_not_available") == 0 ||
                                           strcmp(x->last_code, "invalid_transition") == 0);
        if (r.status == 201) {
            x->won++;
            atomic_fetch_add(x->winners, 1);
            atomic_store(x->done, true);
        }
        iresp_free(&r);
        if (r.status != 201 && !refused) {
            return NULL;   /* reported by the test */
        }
    }
    return NULL;
}

#define RACERS 6

Test(offer_timers, buy_now_races_a_lapse_exactly_one_wins)
{
    struct itest_user seller, buyer, crowd[RACERS];
    itest_user_new(&seller, "LapseSeller");
    itest_user_new(&buyer, "LateBuyer");
    for (int i = 0; i < RACERS; i++) {
        itest_user_new(&crowd[i], "Vulture");
    }
    /* The reserved buyer starts at the due time, a little before or after it, while the crowd
     * keeps trying from before the lapse: exactly one order, whoever gets it. */
    const double offsets_ms[] = {-600, 0, 300, 1500};
    int offer_won = 0, crowd_won = 0;
    for (size_t round = 0; round < sizeof(offsets_ms) / sizeof(offsets_ms[0]); round++) {
        char listing[40], offer[40];
        new_listing(&seller, listing);
        make_offer(&buyer, listing, 5000, offer);
        double accepted_at = itest_now_ms();
        move_ok(&seller, offer, "accept", NULL);
        double due_ms = accepted_at + atoi(SHORT_TTL_S) * 1000.0;
        atomic_int winners = 0;
        atomic_bool done = false;
        struct racer racers[RACERS + 1];
        pthread_t t[RACERS + 1];
        memset(racers, 0, sizeof(racers));
        for (int i = 0; i <= RACERS; i++) {
            racers[i].u = i == 0 ? &buyer : &crowd[i - 1];
            snprintf(racers[i].body, sizeof(racers[i].body), "%s",
                     i == 0 ? order_with("offer_id", offer) : order_with("listing_id", listing));
            racers[i].start_ms = i == 0 ? due_ms + offsets_ms[round] : due_ms - 1000;
            racers[i].winners = &winners;
            racers[i].done = &done;
            cr_assert_eq(pthread_create(&t[i], NULL, race, &racers[i]), 0);
        }
        for (int i = 0; i <= RACERS; i++) {
            pthread_join(t[i], NULL);
        }
        for (int i = 0; i <= RACERS; i++) {
            cr_assert(racers[i].won > 0 || racers[i].last_status == 409 || racers[i].last_status == 0,
                      "round %zu racer %d: %ld %s", round, i, racers[i].last_status, racers[i].last_code);
        }
        cr_assert_eq(atomic_load(&winners), 1, "round %zu: %d winners", round, atomic_load(&winners));
        cr_assert_eq(itest_pg_num("SELECT count(*) FROM orders WHERE listing_id = $1::uuid", listing, NULL), 1);
        cr_assert_str_eq(listing_status_pg(listing), "sold");
        if (racers[0].won) {
            offer_won++;
            cr_assert_str_eq(offer_status(&buyer, offer), "completed");
        } else {
            crowd_won++;
            await_offer(&buyer, offer, "expired", DUE_WITHIN_MS);
            cr_assert_eq(count_events(listing, "listing.reservation_lapsed", NULL), 1);
        }
    }
    cr_log_info("the reserved buyer won %d rounds, the crowd %d", offer_won, crowd_won);
}
