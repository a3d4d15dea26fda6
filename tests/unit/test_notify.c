/*
 * Unit tests of notifications, saved searches and webhooks (no services): who gets what for
 * every event type (offers included, with synthetic events, before the offers code exists),
 * price drops versus rises, deterministic notification ids, the webhook retry schedule and
 * outcomes, the address rules, sealed secrets and the Standard Webhooks signature, saved
 * search anchors and the exact matcher.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/log.h"
#include "deliver/deliverer.h"
#include "domain/notify.h"
#include "domain/saved_search.h"
#include "domain/webhook.h"

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

TestSuite(notify, .init = setup, .fini = teardown);

#define BUYER "11111111-1111-4111-8111-111111111111"
#define SELLER "22222222-2222-4222-8222-222222222222"
#define LISTING "33333333-3333-4333-8333-333333333333"

static json_object *
payload(const char *text)
{
    json_object *o = json_tokener_parse(text);
    cr_assert_not_null(o, "%s", text);
    arena_cleanup_add(A, (arena_cleanup_fn)(void (*)(void))json_object_put, o);
    return o;
}

static json_object *
offer(const char *by)
{
    return payload(arena_sprintf(A,
                                 "{\"offer_id\":\"44444444-4444-4444-8444-444444444444\",\"listing_id\":\"" LISTING
                                 "\",\"buyer_id\":\"" BUYER "\",\"seller_id\":\"" SELLER
                                 "\",\"amount_minor\":900,\"currency\":\"EUR\",\"by\":\"%s\"}",
                                 by));
}

/* The plan's direct targets as "recipient:type" lines. */
static const char *
targets(const struct notify_plan *p)
{
    char *out = arena_strdup(A, "");
    for (size_t i = 0; i < p->ndirect; i++) {
        out = arena_sprintf(A, "%s%s:%s;", out, strcmp(p->direct[i].recipient, BUYER) == 0 ? "buyer" : "seller",
                            p->direct[i].type);
    }
    return out;
}

static const char *
mapped(const char *event, json_object *pl)
{
    struct notify_plan p;
    notify_map(A, event, pl, &p);
    return targets(&p);
}

Test(notify, offer_events_go_to_the_party_concerned)
{
    cr_assert_str_eq(mapped("offer.created", offer("buyer")), "seller:offer_received;");
    cr_assert_str_eq(mapped("offer.countered", offer("seller")), "buyer:offer_countered;");
    cr_assert_str_eq(mapped("offer.countered", offer("buyer")), "seller:offer_countered;");
    cr_assert_str_eq(mapped("offer.accepted", offer("seller")), "buyer:offer_accepted;");
    cr_assert_str_eq(mapped("offer.accepted", offer("buyer")), "seller:offer_accepted;");
    cr_assert_str_eq(mapped("offer.declined", offer("seller")), "buyer:offer_declined;");
    cr_assert_str_eq(mapped("offer.declined", offer("buyer")), "seller:offer_declined;");
    cr_assert_str_eq(mapped("offer.declined", offer("system")), "buyer:offer_declined;");
    cr_assert_str_eq(mapped("offer.expired", offer("system")), "buyer:offer_expired;seller:offer_expired;");
    cr_assert_str_eq(mapped("offer.withdrawn", offer("buyer")), "");
    cr_assert_str_eq(mapped("offer.completed", offer("buyer")), "");
    struct notify_plan p;
    notify_map(A, "offer.created", offer("buyer"), &p);
    json_object *d = p.direct[0].data;
    cr_assert_str_eq(json_object_get_string(json_object_object_get(d, "offer_id")),
                     "44444444-4444-4444-8444-444444444444");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(d, "listing_id")), LISTING);
    cr_assert_eq(json_object_get_int64(json_object_object_get(d, "amount_minor")), 900);
    /* a payload without the parties makes nothing (never a crash) */
    cr_assert_str_eq(mapped("offer.created", payload("{\"offer_id\":\"x\"}")), "");
}

static json_object *
order(const char *extra)
{
    return payload(arena_sprintf(A,
                                 "{\"id\":\"55555555-5555-4555-8555-555555555555\",\"listing_id\":\"" LISTING
                                 "\",\"buyer_id\":\"" BUYER "\",\"seller_id\":\"" SELLER "\"%s}",
                                 extra));
}

Test(notify, order_and_review_events)
{
    struct notify_plan p;
    notify_map(A, "order.created", order(""), &p);
    cr_assert_str_eq(targets(&p), "seller:order_placed;");
    cr_assert_str_eq(p.fanout_type, "favorite_sold");
    cr_assert_str_eq(p.fanout_listing, LISTING);
    /* the buyer (and the seller) hear of the order, not of a favourite sold */
    cr_assert_str_eq(p.exclude[0], BUYER);
    cr_assert_str_eq(p.exclude[1], SELLER);
    cr_assert_str_eq(mapped("order.shipped", order("")), "buyer:order_shipped;");
    cr_assert_str_eq(mapped("order.delivered", order("")), "seller:order_delivered;");
    cr_assert_str_eq(mapped("order.cancelled", order(",\"cancelled_by\":\"buyer\"")), "seller:order_cancelled;");
    cr_assert_str_eq(mapped("order.cancelled", order(",\"cancelled_by\":\"seller\"")), "buyer:order_cancelled;");
    cr_assert_str_eq(mapped("review.created", payload("{\"id\":\"r\",\"order_id\":\"o\",\"listing_id\":\"" LISTING
                                                      "\",\"seller_id\":\"" SELLER "\"}")),
                     "seller:review_received;");
    notify_map(A, "order.shipped", order(""), &p);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(p.direct[0].data, "order_id")),
                     "55555555-5555-4555-8555-555555555555");
}

static json_object *
listing_update(long long old_price, long long new_price, const char *old_status, const char *old_currency)
{
    return payload(arena_sprintf(A,
                                 "{\"id\":\"" LISTING "\",\"seller_id\":\"" SELLER
                                 "\",\"status\":\"active\",\"price_minor\":%lld,\"currency\":\"EUR\","
                                 "\"previous_price_minor\":%lld,\"previous_status\":\"%s\",\"previous_currency\":\"%s\"}",
                                 new_price, old_price, old_status, old_currency));
}

Test(notify, a_price_drop_notifies_favouriters_a_rise_does_not)
{
    struct notify_plan p;
    notify_map(A, "listing.updated", listing_update(5000, 4000, "active", "EUR"), &p);
    cr_assert_str_eq(p.fanout_type, "price_dropped");
    cr_assert_eq(json_object_get_int64(json_object_object_get(p.fanout_data, "old_price_minor")), 5000);
    cr_assert_eq(json_object_get_int64(json_object_object_get(p.fanout_data, "new_price_minor")), 4000);
    cr_assert_not(p.match_saved_searches);
    notify_map(A, "listing.updated", listing_update(4000, 5000, "active", "EUR"), &p);
    cr_assert_null(p.fanout_type);
    notify_map(A, "listing.updated", listing_update(4000, 4000, "active", "EUR"), &p);
    cr_assert_null(p.fanout_type);
    /* another currency is not a drop; a draft made active is a new listing for saved searches */
    notify_map(A, "listing.updated", listing_update(5000, 100, "active", "GBP"), &p);
    cr_assert_null(p.fanout_type);
    notify_map(A, "listing.updated", listing_update(5000, 4000, "draft", "EUR"), &p);
    cr_assert_null(p.fanout_type);
    cr_assert(p.match_saved_searches);
    notify_map(A, "listing.created", payload("{\"id\":\"" LISTING "\",\"status\":\"active\"}"), &p);
    cr_assert(p.match_saved_searches);
    notify_map(A, "listing.created", payload("{\"id\":\"" LISTING "\",\"status\":\"draft\"}"), &p);
    cr_assert_not(p.match_saved_searches);
    notify_map(A, "listing.relisted", payload("{\"id\":\"" LISTING "\",\"status\":\"active\"}"), &p);
    cr_assert(p.match_saved_searches);
}

Test(notify, ids_are_deterministic_per_event_and_recipient)
{
    char a[37], b[37], c[37], d[37];
    notify_id(a, "order", LISTING, 1, "order.created", SELLER, "order_placed");
    notify_id(b, "order", LISTING, 1, "order.created", SELLER, "order_placed");
    notify_id(c, "order", LISTING, 1, "order.created", BUYER, "order_placed");
    notify_id(d, "order", LISTING, 2, "order.created", SELLER, "order_placed");
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c);
    cr_assert_str_neq(a, d);
    cr_assert_eq(strlen(a), 36);
    cr_assert_eq(a[14], '8');   /* version 8 */
}

Test(notify, the_retry_schedule_is_the_contracts)
{
    cr_assert_eq(notify_retry_delay_s(1, 0), 5);
    cr_assert_eq(notify_retry_delay_s(2, 5), 30);
    cr_assert_eq(notify_retry_delay_s(3, 35), 120);
    cr_assert_eq(notify_retry_delay_s(4, 155), 600);
    cr_assert_eq(notify_retry_delay_s(5, 755), 3600);
    cr_assert_eq(notify_retry_delay_s(6, 4355), 6 * 3600);
    cr_assert_eq(notify_retry_delay_s(7, 4355 + 6 * 3600), 6 * 3600);
    /* every 6 h for 3 days after the first attempt, then no more */
    cr_assert_eq(notify_retry_delay_s(17, 3 * 86400 - 6 * 3600), 6 * 3600);
    cr_assert_eq(notify_retry_delay_s(18, 3 * 86400 - 6 * 3600 + 1), -1);
    int attempts = 1;
    long t = 0;
    for (long d; (d = notify_retry_delay_s(attempts, t)) >= 0; attempts++) {
        t += d;
    }
    cr_assert_eq(attempts, 17, "%d attempts in all", attempts);
    cr_assert_leq(t, 3 * 86400);
}

Test(notify, outcomes_retry_only_timeouts_connection_errors_5xx_408_429)
{
    cr_assert_str_eq(deliverer_outcome(200, false), "succeeded");
    cr_assert_str_eq(deliverer_outcome(204, false), "succeeded");
    cr_assert_str_eq(deliverer_outcome(0, true), "retry");
    cr_assert_str_eq(deliverer_outcome(500, false), "retry");
    cr_assert_str_eq(deliverer_outcome(503, false), "retry");
    cr_assert_str_eq(deliverer_outcome(408, false), "retry");
    cr_assert_str_eq(deliverer_outcome(429, false), "retry");
    cr_assert_str_eq(deliverer_outcome(400, false), "failed");
    cr_assert_str_eq(deliverer_outcome(404, false), "failed");
    cr_assert_str_eq(deliverer_outcome(410, false), "failed");
    cr_assert_str_eq(deliverer_outcome(301, false), "failed");
}

Test(notify, refused_and_allowed_addresses)
{
    static const char *const refused[] = {
        "127.0.0.1", "127.0.0.2", "0.0.0.0", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "169.254.169.254", "100.64.0.1", "224.0.0.1", "255.255.255.255", "198.18.0.1", "::", "::1", "fe80::1",
        "fc00::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::",
        "ff02::1", "not an address",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        cr_assert(webhook_address_refused(refused[i]), "%s should be refused", refused[i]);
    }
    static const char *const allowed[] = {"93.184.216.34", "172.32.0.1", "192.169.0.1", "2606:2800:220:1::",
                                          "::ffff:93.184.216.34", "100.128.0.1"};
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        cr_assert_not(webhook_address_refused(allowed[i]), "%s should be allowed", allowed[i]);
    }
    cr_assert(webhook_host_listed("127.0.0.1", "127.0.0.1"));
    cr_assert(webhook_host_listed(" a.test , 127.0.0.1", "A.TEST"));
    cr_assert_not(webhook_host_listed("127.0.0.1", "127.0.0.2"));
    cr_assert_not(webhook_host_listed("127.0.0.10", "127.0.0.1"));
    cr_assert_not(webhook_host_listed("", "127.0.0.1"));
}

Test(notify, standard_webhooks_signature_and_sealed_secrets)
{
    /* the Standard Webhooks reference vector */
    unsigned char key[64];
    size_t len = 0;
    cr_assert_eq(sodium_base642bin(key, sizeof(key), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 32, NULL, &len, NULL,
                                   sodium_base64_VARIANT_ORIGINAL),
                 0);
    cr_assert_str_eq(webhook_signature(A, key, len, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                       "{\"test\": 2432232314}"),
                     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    unsigned char secret[WEBHOOK_SECRET_BYTES], opened[WEBHOOK_SECRET_BYTES];
    const char *text = webhook_secret_new(A, secret);
    cr_assert_eq(strncmp(text, "whsec_", 6), 0);
    cr_assert_eq(sodium_base642bin(key, sizeof(key), text + 6, strlen(text + 6), NULL, &len, NULL,
                                   sodium_base64_VARIANT_ORIGINAL),
                 0);
    cr_assert_eq(len, WEBHOOK_SECRET_BYTES);
    cr_assert_eq(memcmp(key, secret, len), 0);
    const char *hex_key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const char *sealed = webhook_seal(A, hex_key, secret);
    cr_assert_not_null(sealed);
    cr_assert_eq(webhook_unseal(hex_key, sealed, opened), 0);
    cr_assert_eq(memcmp(opened, secret, sizeof(secret)), 0);
    cr_assert_eq(webhook_unseal(hex_key, arena_sprintf(A, "\\x%s", sealed), opened), 0);
    /* another key, or a changed byte, does not open */
    cr_assert_neq(webhook_unseal("ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", sealed, opened), 0);
    char *bad = arena_strdup(A, sealed);
    bad[60] = bad[60] == '0' ? '1' : '0';
    cr_assert_neq(webhook_unseal(hex_key, bad, opened), 0);
}

static struct search_query
parsed(const char *query)
{
    struct search_query q;
    const char *problem = NULL;
    /* no category filters here: an empty category set */
    cr_assert_eq(saved_search_parse(A, NULL, "secret", query, &q, &problem), 0, "%s: %s", query,
                 problem != NULL ? problem : "");
    return q;
}

Test(notify, saved_search_anchors_and_the_exact_matcher)
{
    const char *anchors[SAVED_SEARCH_MAX_ANCHORS];
    struct search_query q = parsed("q=brass+lamp&max_price=5000");
    cr_assert_eq(saved_search_anchors(A, &q, anchors), 1);
    cr_assert_str_eq(anchors[0], "w:brass");
    q = parsed("currency=EUR&min_price=10");
    cr_assert_eq(saved_search_anchors(A, &q, anchors), 1);
    cr_assert_str_eq(anchors[0], "cur:EUR");
    q = parsed("near=52.5,13.4&radius_km=25");
    size_t n = saved_search_anchors(A, &q, anchors);
    cr_assert(n >= 1 && n <= 4, "%zu cells", n);
    q = parsed("near=52.5,13.4&radius_km=20000");
    cr_assert_str_eq((saved_search_anchors(A, &q, anchors), anchors[0]), "any");
    q = parsed("sort=newest");
    cr_assert_str_eq((saved_search_anchors(A, &q, anchors), anchors[0]), "any");

    json_object *lamp = payload("{\"id\":\"" LISTING "\",\"seller_id\":\"" SELLER "\",\"title\":\"Brass lamps\","
                                "\"description\":\"An old LAMP\",\"category_path\":[\"furniture\"],\"condition\":\"good\","
                                "\"price_minor\":4500,\"currency\":\"EUR\",\"location\":{\"lat\":52.52,\"lon\":13.40},"
                                "\"attributes\":{}}");
    const char **keys;
    size_t nk = saved_search_listing_keys(A, lamp, &keys);
    bool has_word = false, has_cell = false;
    for (size_t i = 0; i < nk; i++) {
        has_word = has_word || strcmp(keys[i], "w:brass") == 0;
        has_cell = has_cell || strcmp(keys[i], "g:52:13") == 0;
    }
    cr_assert(has_word && has_cell);
    cr_assert(saved_search_matches(A, &(struct search_query){0}, lamp));
    q = parsed("q=brass+lamp&max_price=5000");
    cr_assert(saved_search_matches(A, &q, lamp));
    q = parsed("q=brass+lamp&max_price=4000");
    cr_assert_not(saved_search_matches(A, &q, lamp));
    q = parsed("q=brass+chair");
    cr_assert_not(saved_search_matches(A, &q, lamp));
    q = parsed("near=52.5,13.4&radius_km=10&currency=EUR&condition=good,fair");
    cr_assert(saved_search_matches(A, &q, lamp));
    q = parsed("near=48.1,11.6&radius_km=10");
    cr_assert_not(saved_search_matches(A, &q, lamp));
    q = parsed("condition=new");
    cr_assert_not(saved_search_matches(A, &q, lamp));
    q = parsed("currency=GBP");
    cr_assert_not(saved_search_matches(A, &q, lamp));
    q = parsed("seller=" SELLER);
    cr_assert(saved_search_matches(A, &q, lamp));
}

Test(notify, saved_search_queries_are_checked_by_the_browse_parser)
{
    struct search_query q;
    const char *problem;
    cr_assert_neq(saved_search_parse(A, NULL, "s", "colour=red", &q, &problem), 0);
    cr_assert_str_eq(problem, "colour: unknown parameter");
    cr_assert_neq(saved_search_parse(A, NULL, "s", "min_price=abc", &q, &problem), 0);
    cr_assert_eq(strncmp(problem, "min_price:", 10), 0, "%s", problem);
    cr_assert_neq(saved_search_parse(A, NULL, "s", "cursor=abc", &q, &problem), 0);
    cr_assert_eq(strncmp(problem, "cursor:", 7), 0, "%s", problem);
    cr_assert_neq(saved_search_parse(A, NULL, "s", "q=%ff", &q, &problem), 0);
    cr_assert_eq(strncmp(problem, "q:", 2), 0, "%s", problem);
}

Test(notify, the_sealing_key_must_be_32_bytes_of_hex)
{
    struct config c;
    char err[256];
    config_defaults(&c);
    cr_assert_eq(config_load(&c, NULL, NULL, err, sizeof(err)), 0, "the default is valid: %s", err);
    cr_assert_eq(strlen(c.webhook_secret_key), 64);
    char *bad[] = {"MARKET_WEBHOOK_SECRET_KEY=abc", NULL};
    cr_assert_neq(config_load(&c, NULL, bad, err, sizeof(err)), 0);
    cr_assert_not_null(strstr(err, "webhook_secret_key"), "%s", err);
    char *worse[] = {"MARKET_WEBHOOK_SECRET_KEY=zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", NULL};
    cr_assert_neq(config_load(&c, NULL, worse, err, sizeof(err)), 0);
    config_free(&c);
}
