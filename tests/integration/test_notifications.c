/*
 * Notifications, saved searches and webhooks through nginx (issue 12): every notification
 * type and recipient that orders, reviews, favourites and saved searches make; nobody sees
 * another's; mark read; exactly once across a replayed event, a projector restart and a
 * rebuild; saved-search validation, matching, folding, the 51st, deletion; webhooks signed
 * with the Standard Webhooks algorithm (checked here with libsodium), retries after a 500
 * with the same id, none after a 400, unsubscribed types, manual retry, deletion, address
 * refusals, delivery after a restart of the deliverer. Receivers are HTTP servers in this
 * process on 127.0.0.1 (ephemeral ports); the test stack lists 127.0.0.1 in
 * webhook_allow_hosts and runs the retry schedule at 1 % (webhook_backoff_scale_pct).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "itest.h"

TestSuite(notifications, .timeout = 240);
TestSuite(saved_searches, .timeout = 240);
TestSuite(webhooks, .timeout = 240);

static const char *
auth(const struct itest_user *u)
{
    return u->bearer;
}

static struct iresp
as(const struct itest_user *u, const char *method, const char *path, const char *body)
{
    return itest_http(method, path, (const char *const[]){auth(u), NULL}, body);
}

/* A new listing of seller's (title, category, price, status) at lat, lon. */
static char *
listing_at(const struct itest_user *seller, const char *title, const char *category, long long price,
           const char *status, double lat, double lon)
{
    struct iresp r = as(seller, "POST", "/api/v1/listings",
                        itest_fmt("{\"title\":\"%s\",\"description\":\"For notifications\",\"category\":\"%s\","
                                  "\"condition\":\"good\",\"price_minor\":%lld,\"currency\":\"EUR\",\"status\":\"%s\","
                                  "\"location\":{\"city\":\"Somewhere\",\"country\":\"DE\",\"lat\":%.4f,\"lon\":%.4f}}",
                                  title, category, price, status, lat, lon));
    cr_assert_eq(r.status, 201, "%s", r.body);
    char *id = strdup(ijson_str(r.json, "listing", "id", NULL));
    iresp_free(&r);
    return id;
}

/* The same in Berlin. */
static char *
listing_new(const struct itest_user *seller, const char *title, const char *category, long long price,
            const char *status)
{
    return listing_at(seller, title, category, price, status, 52.52, 13.4);
}

/* PATCH the listing at its current version (the write model's, through If-Match: "*"). */
static void
listing_patch(const struct itest_user *seller, const char *id, const char *body)
{
    struct iresp r = itest_http("PATCH", itest_fmt("/api/v1/listings/%s", id),
                                (const char *const[]){auth(seller), "If-Match: *", NULL}, body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
}

static void
favorite(const struct itest_user *u, const char *listing)
{
    struct iresp r = as(u, "POST", itest_fmt("/api/v1/listings/%s/favorite", listing), NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    iresp_free(&r);
}

static char *
buy(const struct itest_user *buyer, const char *listing)
{
    struct iresp r = itest_http(
        "POST", "/api/v1/orders",
        (const char *const[]){auth(buyer), itest_fmt("Idempotency-Key: %s", itest_unique("notify-order")), NULL},
        itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":{\"name\":\"Ada\",\"line1\":\"L1\",\"city\":\"Berlin\","
                  "\"postal_code\":\"10117\",\"country\":\"DE\"}}",
                  listing));
    cr_assert_eq(r.status, 201, "%s", r.body);
    char *id = strdup(ijson_str(r.json, "order", "id", NULL));
    iresp_free(&r);
    return id;
}

static void
order_move(const struct itest_user *u, const char *order, const char *action, const char *body)
{
    struct iresp r = as(u, "POST", itest_fmt("/api/v1/orders/%s/%s", order, action), body);
    cr_assert(r.status == 200 || r.status == 201, "%s %s: %ld %s", order, action, r.status, r.body);
    iresp_free(&r);
}

/* The user's feed (optionally ?query); the caller frees it. */
static struct iresp
feed(const struct itest_user *u, const char *query)
{
    struct iresp r = as(u, "GET", itest_fmt("/api/v1/users/me/notifications%s", query != NULL ? query : ""), NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    return r;
}

/* Items of a feed of type whose data.key equals value (NULL: any): how many, and the first. */
static int
count_items(json_object *doc, const char *type, const char *key, const char *value, json_object **first)
{
    json_object *items = json_object_object_get(doc, "items");
    int n = 0;
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        json_object *it = json_object_array_get_idx(items, i);
        if (strcmp(ijson_str(it, "type", NULL), type) != 0) {
            continue;
        }
        const char *v = key != NULL ? ijson_str(it, "data", key, NULL) : NULL;
        if (key == NULL || (v != NULL && strcmp(v, value) == 0)) {
            if (n++ == 0 && first != NULL) {
                *first = json_object_get(it);
            }
        }
    }
    return n;
}

struct wait_item {
    const struct itest_user *u;
    const char *type, *key, *value;
    int n;
};

static bool
has_items(void *arg)
{
    struct wait_item *w = arg;
    struct iresp r = feed(w->u, "?limit=100");
    bool ok = count_items(r.json, w->type, w->key, w->value, NULL) >= w->n;
    iresp_free(&r);
    return ok;
}

/* Wait (at most 10 s) until u's feed has an item of type with data.key = value; return it (caller puts). */
static json_object *
wait_for(const struct itest_user *u, const char *type, const char *key, const char *value)
{
    struct wait_item w = {u, type, key, value, 1};
    cr_assert(itest_poll(10000, has_items, &w), "%s never got %s about %s", u->name, type, value);
    struct iresp r = feed(u, "?limit=100");
    json_object *item = NULL;
    count_items(r.json, type, key, value, &item);
    iresp_free(&r);
    return item;
}

/* The number of items of u's feed (all of them, limit 100). */
static int
feed_size(const struct itest_user *u, const char *type)
{
    struct iresp r = feed(u, "?limit=100");
    int n = type != NULL ? count_items(r.json, type, NULL, NULL, NULL)
                         : (int)json_object_array_length(json_object_object_get(r.json, "items"));
    iresp_free(&r);
    return n;
}

static bool
ping_projected(void *id)
{
    long long v;
    return itest_read_ping(id, &v, NULL, 0);
}

/* A ping written now and seen in the read model: every event committed before it is applied. */
static void
barrier(void)
{
    struct iresp r = itest_http("POST", "/api/v1/system/pings", NULL, "{\"note\":\"notify barrier\"}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    char id[40];
    snprintf(id, sizeof(id), "%s", ijson_str(r.json, "ping", "id", NULL));
    iresp_free(&r);
    cr_assert(itest_poll(10000, ping_projected, id), "the projector did not reach the barrier");
}

Test(notifications, orders_reviews_and_favourites_reach_exactly_their_recipients)
{
    struct itest_user seller, buyer, fan, stranger;
    itest_user_new(&seller, "NotifySeller");
    itest_user_new(&buyer, "NotifyBuyer");
    itest_user_new(&fan, "NotifyFan");
    itest_user_new(&stranger, "NotifyStranger");
    char *listing = listing_new(&seller, "Notified lamp", "furniture", 5000, "active");
    favorite(&fan, listing);
    favorite(&buyer, listing);   /* a buyer who favourited gets order_*, not favorite_sold */
    char *order = buy(&buyer, listing);
    json_object *placed = wait_for(&seller, "order_placed", "order_id", order);
    cr_assert_str_eq(ijson_str(placed, "data", "listing_id", NULL), listing);
    cr_assert_eq(json_object_get_boolean(json_object_object_get(placed, "read")), false);
    json_object_put(placed);
    json_object_put(wait_for(&fan, "favorite_sold", "listing_id", listing));
    order_move(&seller, order, "ship", "{\"carrier\":\"DHL\",\"number\":\"123\"}");
    json_object_put(wait_for(&buyer, "order_shipped", "order_id", order));
    order_move(&buyer, order, "confirm", NULL);
    json_object_put(wait_for(&seller, "order_delivered", "order_id", order));
    order_move(&buyer, order, "review", "{\"rating\":5,\"comment\":\"Fine\"}");
    json_object *review = wait_for(&seller, "review_received", "order_id", order);
    cr_assert_str_eq(ijson_str(review, "data", "listing_id", NULL), listing);
    json_object_put(review);
    barrier();
    /* exactly these, and nothing for anyone else */
    cr_assert_eq(feed_size(&seller, NULL), 3);
    cr_assert_eq(feed_size(&buyer, NULL), 1);
    cr_assert_eq(feed_size(&buyer, "favorite_sold"), 0);
    cr_assert_eq(feed_size(&fan, NULL), 1);
    cr_assert_eq(feed_size(&stranger, NULL), 0);
    struct iresp r = feed(&seller, NULL);
    cr_assert_eq(ijson_int(r.json, "unread_count", NULL), 3);
    cr_assert_str_eq(ijson_str(json_object_array_get_idx(json_object_object_get(r.json, "items"), 0), "type", NULL),
                     "review_received", "newest first");
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/users/me/notifications", NULL, NULL);
    cr_assert_eq(r.status, 401, "%s", r.body);
    iresp_free(&r);
    free(listing);
    free(order);
}

static void
unfavorite(const struct itest_user *u, const char *listing)
{
    struct iresp r = as(u, "DELETE", itest_fmt("/api/v1/listings/%s/favorite", listing), NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    iresp_free(&r);
}

/* Favourites changed in the batch that holds the sale (the projector was stopped while they
 * were written, so it applies them together): the favouriters notified are those as of the
 * sale's place in the outbox, not those of the read model when the batch started
 * (projector/notify.c finds a batch's favouriters at once and follows its favourite events). */
Test(notifications, a_sale_in_one_batch_with_favourite_changes_notifies_the_favouriters_of_its_moment, .fini = itest_start_marketd)
{
    struct itest_user seller, buyer, keep, gone, late, flip;
    itest_user_new(&seller, "BatchSeller");
    itest_user_new(&buyer, "BatchBuyer");
    itest_user_new(&keep, "BatchKeep");
    itest_user_new(&gone, "BatchGone");
    itest_user_new(&late, "BatchLate");
    itest_user_new(&flip, "BatchFlip");
    char *listing = listing_new(&seller, "Batched lamp", "furniture", 5000, "active");
    favorite(&keep, listing);
    favorite(&gone, listing);
    barrier();   /* both favourites are in the read model */
    itest_stack("stop", "projector");
    unfavorite(&gone, listing);
    favorite(&late, listing);
    favorite(&flip, listing);
    unfavorite(&flip, listing);
    char *order = buy(&buyer, listing);
    favorite(&flip, listing);   /* after the sale: it must not count for it */
    itest_stack("start", "projector");
    json_object_put(wait_for(&seller, "order_placed", "order_id", order));
    json_object_put(wait_for(&keep, "favorite_sold", "listing_id", listing));
    json_object_put(wait_for(&late, "favorite_sold", "listing_id", listing));
    barrier();
    cr_assert_eq(feed_size(&keep, NULL), 1);
    cr_assert_eq(feed_size(&late, NULL), 1);
    cr_assert_eq(feed_size(&gone, NULL), 0, "unfavourited before the sale, in the same batch");
    cr_assert_eq(feed_size(&flip, NULL), 0, "not a favouriter at the sale's moment");
    cr_assert_eq(feed_size(&buyer, "favorite_sold"), 0);
    free(listing);
    free(order);
}

/* Two listings sold in one batch, their favouriters interleaved: each sale notifies its own
 * listing's favouriters only (the batch keeps a chain of favourites per listing). */
Test(notifications, two_sales_in_one_batch_notify_each_listings_own_favouriters, .fini = itest_start_marketd)
{
    struct itest_user seller, buyer, a1, b1, a2, both;
    itest_user_new(&seller, "PairSeller");
    itest_user_new(&buyer, "PairBuyer");
    itest_user_new(&a1, "PairA1");
    itest_user_new(&b1, "PairB1");
    itest_user_new(&a2, "PairA2");
    itest_user_new(&both, "PairBoth");
    char *la = listing_new(&seller, "Paired lamp", "furniture", 5000, "active");
    char *lb = listing_new(&seller, "Paired chair", "furniture", 7000, "active");
    favorite(&a1, la);
    favorite(&b1, lb);
    favorite(&both, lb);
    barrier();   /* these are in the read model: the batch finds them */
    itest_stack("stop", "projector");
    favorite(&a2, la);   /* and these only in the batch */
    favorite(&both, la);
    char *oa = buy(&buyer, la);
    char *ob = buy(&buyer, lb);
    itest_stack("start", "projector");
    json_object_put(wait_for(&a1, "favorite_sold", "listing_id", la));
    json_object_put(wait_for(&a2, "favorite_sold", "listing_id", la));
    json_object_put(wait_for(&b1, "favorite_sold", "listing_id", lb));
    json_object_put(wait_for(&both, "favorite_sold", "listing_id", lb));
    json_object_put(wait_for(&both, "favorite_sold", "listing_id", la));
    barrier();
    cr_assert_eq(feed_size(&a1, NULL), 1, "a1 favourites the lamp only");
    cr_assert_eq(feed_size(&a2, NULL), 1, "a2 favourites the lamp only");
    cr_assert_eq(feed_size(&b1, NULL), 1, "b1 favourites the chair only");
    cr_assert_eq(feed_size(&both, NULL), 2, "one notification per listing");
    free(la);
    free(lb);
    free(oa);
    free(ob);
}

Test(notifications, a_cancel_notifies_the_other_party)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "CancelSeller");
    itest_user_new(&buyer, "CancelBuyer");
    char *listing = listing_new(&seller, "Cancelled lamp", "furniture", 5000, "active");
    char *first = buy(&buyer, listing);
    order_move(&buyer, first, "cancel", NULL);
    json_object_put(wait_for(&seller, "order_cancelled", "order_id", first));
    char *second = buy(&buyer, listing);
    order_move(&seller, second, "cancel", NULL);
    json_object_put(wait_for(&buyer, "order_cancelled", "order_id", second));
    barrier();
    struct iresp r = feed(&buyer, NULL);
    cr_assert_eq(count_items(r.json, "order_cancelled", "order_id", first, NULL), 0, "the buyer cancelled it");
    iresp_free(&r);
    r = feed(&seller, NULL);
    cr_assert_eq(count_items(r.json, "order_cancelled", "order_id", second, NULL), 0, "the seller cancelled it");
    iresp_free(&r);
    free(listing);
    free(first);
    free(second);
}

Test(notifications, a_price_drop_notifies_favouriters_a_rise_does_not)
{
    struct itest_user seller, fan, other;
    itest_user_new(&seller, "DropSeller");
    itest_user_new(&fan, "DropFan");
    itest_user_new(&other, "DropOther");
    char *listing = listing_new(&seller, "Dropping lamp", "furniture", 5000, "active");
    favorite(&fan, listing);
    listing_patch(&seller, listing, "{\"price_minor\":6000}");
    listing_patch(&seller, listing, "{\"title\":\"Dropping lamp, renamed\"}");
    listing_patch(&seller, listing, "{\"price_minor\":4500}");
    json_object *drop = wait_for(&fan, "price_dropped", "listing_id", listing);
    cr_assert_eq(ijson_int(drop, "data", "old_price_minor", NULL), 6000);
    cr_assert_eq(ijson_int(drop, "data", "new_price_minor", NULL), 4500);
    json_object_put(drop);
    /* the rise and the rename came before the drop in the outbox: they made nothing */
    cr_assert_eq(feed_size(&fan, NULL), 1);
    cr_assert_eq(feed_size(&seller, NULL), 0, "the seller is not told of their own price");
    cr_assert_eq(feed_size(&other, NULL), 0);
    free(listing);
}

/* ---- offers: the events command/offers.c and domain/offer.c emit ------------------------- */

/* u makes an offer of amount on listing; its id (the caller frees). */
static char *
offer_make(const struct itest_user *u, const char *listing, long long amount)
{
    struct iresp r = as(u, "POST", itest_fmt("/api/v1/listings/%s/offers", listing),
                        itest_fmt("{\"amount_minor\":%lld}", amount));
    cr_assert_eq(r.status, 201, "%s", r.body);
    char *id = strdup(ijson_str(r.json, "offer", "id", NULL));
    iresp_free(&r);
    return id;
}

static void
offer_move(const struct itest_user *u, const char *offer, const char *action, const char *body)
{
    struct iresp r = as(u, "POST", itest_fmt("/api/v1/offers/%s/%s", offer, action), body);
    cr_assert_eq(r.status, 200, "%s %s: %s", offer, action, r.body);
    iresp_free(&r);
}

/* u's notification of type about offer: it names the offer's listing, amount and currency. */
static void
expect_offer_item(const struct itest_user *u, const char *type, const char *offer, const char *listing,
                  long long amount)
{
    json_object *item = wait_for(u, type, "offer_id", offer);
    cr_assert_str_eq(ijson_str(item, "data", "listing_id", NULL), listing);
    cr_assert_eq(ijson_int(item, "data", "amount_minor", NULL), amount, "%s of %s", type, offer);
    cr_assert_str_eq(ijson_str(item, "data", "currency", NULL), "EUR");
    json_object_put(item);
}

Test(notifications, offer_moves_notify_the_other_party)
{
    struct itest_user seller, buyer, rival;
    itest_user_new(&seller, "OfferSeller");
    itest_user_new(&buyer, "OfferBuyer");
    itest_user_new(&rival, "OfferRival");
    char *listing = listing_new(&seller, "Offered lamp", "furniture", 5000, "active");
    /* made → the seller; countered by the seller → the buyer */
    char *offer = offer_make(&buyer, listing, 3000);
    expect_offer_item(&seller, "offer_received", offer, listing, 3000);
    offer_move(&seller, offer, "counter", "{\"amount_minor\":4500}");
    expect_offer_item(&buyer, "offer_countered", offer, listing, 4500);
    /* a rival's offer, then the buyer accepts the counter: the seller hears of the accept,
     * the rival of the decline the reservation made (by the system) */
    char *rivals = offer_make(&rival, listing, 3500);
    expect_offer_item(&seller, "offer_received", rivals, listing, 3500);
    offer_move(&buyer, offer, "accept", NULL);
    expect_offer_item(&seller, "offer_accepted", offer, listing, 4500);
    expect_offer_item(&rival, "offer_declined", rivals, listing, 3500);
    /* declined by the seller → the buyer; withdrawn by the buyer → nobody */
    char *second = listing_new(&seller, "Offered chair", "furniture", 5000, "active");
    char *declined = offer_make(&buyer, second, 2000);
    offer_move(&seller, declined, "decline", NULL);
    expect_offer_item(&buyer, "offer_declined", declined, second, 2000);
    char *withdrawn = offer_make(&rival, second, 2500);
    expect_offer_item(&seller, "offer_received", withdrawn, second, 2500);
    offer_move(&rival, withdrawn, "withdraw", NULL);
    barrier();
    /* exactly these: nobody hears of their own move */
    cr_assert_eq(feed_size(&seller, NULL), 5, "4 received (one of them withdrawn since), 1 accepted");
    cr_assert_eq(feed_size(&seller, "offer_received"), 4);
    cr_assert_eq(feed_size(&seller, "offer_declined"), 0);
    cr_assert_eq(feed_size(&buyer, NULL), 2, "countered and declined");
    cr_assert_eq(feed_size(&buyer, "offer_accepted"), 0);
    cr_assert_eq(feed_size(&rival, NULL), 1, "declined by the reservation");
    free(listing);
    free(offer);
    free(rivals);
    free(second);
    free(declined);
    free(withdrawn);
}

static void
mark(const struct itest_user *u, const char *body, long status)
{
    struct iresp r = as(u, "POST", "/api/v1/users/me/notifications/read", body);
    cr_assert_eq(r.status, status, "%s: %s", body, r.body);
    iresp_free(&r);
}

struct unread_wait {
    const struct itest_user *u;
    long long want;
};

static bool
unread_is(void *arg)
{
    struct unread_wait *w = arg;
    struct iresp r = feed(w->u, NULL);
    bool ok = ijson_int(r.json, "unread_count", NULL) == w->want;
    iresp_free(&r);
    return ok;
}

Test(notifications, mark_read_by_ids_and_all)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "ReadSeller");
    itest_user_new(&buyer, "ReadBuyer");
    char *orders[3];
    for (int i = 0; i < 3; i++) {
        char *l = listing_new(&seller, "Read lamp", "furniture", 1000 + i, "active");
        orders[i] = buy(&buyer, l);
        free(l);
    }
    json_object *last = wait_for(&seller, "order_placed", "order_id", orders[2]);
    struct unread_wait w = {&seller, 3};
    cr_assert(itest_poll(10000, unread_is, &w));
    /* another user's ids change nothing of theirs */
    mark(&buyer, itest_fmt("{\"ids\":[\"%s\"]}", ijson_str(last, "id", NULL)), 204);
    mark(&seller, itest_fmt("{\"ids\":[\"%s\"]}", ijson_str(last, "id", NULL)), 204);
    w.want = 2;
    cr_assert(itest_poll(10000, unread_is, &w));
    struct iresp r = feed(&seller, "?unread=true");
    cr_assert_eq(json_object_array_length(json_object_object_get(r.json, "items")), 2);
    cr_assert_eq(count_items(r.json, "order_placed", "order_id", orders[2], NULL), 0, "the read one is left out");
    iresp_free(&r);
    mark(&seller, "{\"all\":true}", 204);
    w.want = 0;
    cr_assert(itest_poll(10000, unread_is, &w));
    r = feed(&seller, "?unread=false");
    cr_assert_eq(json_object_array_length(json_object_object_get(r.json, "items")), 3);
    iresp_free(&r);
    /* bad bodies and parameters */
    mark(&seller, "{}", 422);
    mark(&seller, "{\"all\":false}", 422);
    mark(&seller, "{\"ids\":[]}", 422);
    mark(&seller, "{\"ids\":[\"x\"]}", 422);
    mark(&seller, itest_fmt("{\"ids\":[\"%s\"],\"all\":true}", ijson_str(last, "id", NULL)), 422);
    mark(&seller, "{\"all\":true,\"colour\":1}", 422);
    r = as(&seller, "GET", "/api/v1/users/me/notifications?unread=yes", NULL);
    cr_assert_eq(r.status, 400, "%s", r.body);
    iresp_free(&r);
    json_object_put(last);
    for (int i = 0; i < 3; i++) {
        free(orders[i]);
    }
}

Test(notifications, pages_with_a_cursor)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "PageSeller");
    itest_user_new(&buyer, "PageBuyer");
    char *order = NULL;
    for (int i = 0; i < 5; i++) {
        char *l = listing_new(&seller, "Paged lamp", "furniture", 1000 + i, "active");
        free(order);
        order = buy(&buyer, l);
        free(l);
    }
    json_object_put(wait_for(&seller, "order_placed", "order_id", order));
    struct unread_wait w = {&seller, 5};
    cr_assert(itest_poll(10000, unread_is, &w));
    char seen[5][40];
    int n = 0;
    char cursor[512] = "";
    do {
        struct iresp r = feed(&seller, itest_fmt("?limit=2%s%s", cursor[0] ? "&cursor=" : "", cursor));
        json_object *items = json_object_object_get(r.json, "items");
        for (size_t i = 0; i < json_object_array_length(items); i++) {
            cr_assert_lt(n, 5);
            snprintf(seen[n++], 40, "%s", ijson_str(json_object_array_get_idx(items, i), "id", NULL));
        }
        const char *next = ijson_str(r.json, "next_cursor", NULL);
        snprintf(cursor, sizeof(cursor), "%s", next != NULL ? next : "");
        iresp_free(&r);
    } while (cursor[0] != '\0');
    cr_assert_eq(n, 5);
    for (int i = 0; i < 5; i++) {
        for (int k = 0; k < i; k++) {
            cr_assert_str_neq(seen[i], seen[k]);
        }
    }
    /* another user's cursor is refused */
    struct iresp r = feed(&seller, "?limit=1");
    const char *c = ijson_str(r.json, "next_cursor", NULL);
    struct iresp o = as(&buyer, "GET", itest_fmt("/api/v1/users/me/notifications?cursor=%s", c), NULL);
    cr_assert_eq(o.status, 400, "%s", o.body);
    iresp_free(&o);
    iresp_free(&r);
    free(order);
}

/* The user's notifications in the read model, as canonical JSON (for comparisons). */
static char *
notifications_of(const struct itest_user *u)
{
    char *text = NULL;
    bson_t *filter = BCON_NEW("user_id", BCON_UTF8(u->id));
    itest_dump(&text, "notifications", filter, NULL);
    bson_destroy(filter);
    return text != NULL ? text : strdup("");
}

static void
duplicate_event(const char *aggregate_id, const char *event_type)
{
    PGconn *c = itest_pg();
    const char *params[] = {aggregate_id, event_type};
    PGresult *res = PQexecParams(c,
                                 "INSERT INTO outbox (aggregate_type, aggregate_id, aggregate_version, event_type, payload) "
                                 "SELECT aggregate_type, aggregate_id, aggregate_version, event_type, payload FROM outbox "
                                 "WHERE seq = (SELECT min(seq) FROM outbox WHERE aggregate_id = $1::uuid AND event_type = $2) "
                                 "RETURNING seq",
                                 2, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    cr_assert_eq(PQntuples(res), 1);
    PQclear(res);
    PQfinish(c);
}

/* Both users' notifications are still exactly what they were. */
static void
same_notifications(const struct itest_user *a, const char *a_before, const struct itest_user *b, const char *b_before)
{
    char *x = notifications_of(a), *y = notifications_of(b);
    cr_assert_str_eq(x, a_before);
    cr_assert_str_eq(y, b_before);
    free(x);
    free(y);
}

Test(notifications, exactly_once_across_a_replay_a_restart_and_a_rebuild)
{
    struct itest_user seller, buyer, fan;
    itest_user_new(&seller, "OnceSeller");
    itest_user_new(&buyer, "OnceBuyer");
    itest_user_new(&fan, "OnceFan");
    char *listing = listing_new(&seller, "Once lamp", "furniture", 5000, "active");
    favorite(&fan, listing);
    char *order = buy(&buyer, listing);
    json_object *placed = wait_for(&seller, "order_placed", "order_id", order);
    json_object_put(wait_for(&fan, "favorite_sold", "listing_id", listing));
    mark(&seller, itest_fmt("{\"ids\":[\"%s\"]}", ijson_str(placed, "id", NULL)), 204);
    struct unread_wait w = {&seller, 0};
    cr_assert(itest_poll(10000, unread_is, &w));
    char *seller_before = notifications_of(&seller), *fan_before = notifications_of(&fan);
    cr_assert_not_null(strstr(seller_before, "order_placed"), "%s", seller_before);

    /* the same event once more in the outbox: nothing new */
    duplicate_event(order, "order.created");
    barrier();
    same_notifications(&seller, seller_before, &fan, fan_before);

    /* a restart of the projector (it reads from its checkpoint again) */
    itest_stack("restart", "projector");
    duplicate_event(order, "order.created");
    barrier();
    same_notifications(&seller, seller_before, &fan, fan_before);

    /* a rebuild: the same notifications, the same ids, the read one still read */
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s --role projector --rebuild --config %s >/dev/null 2>&1",
             itest_env("MARKET_TEST_MARKETD"), itest_env("MARKET_TEST_CONFIG"));
    cr_assert_eq(system(cmd), 0, "marketd --rebuild failed");
    same_notifications(&seller, seller_before, &fan, fan_before);
    cr_assert(itest_poll(10000, unread_is, &w));
    /* and no second webhook delivery could come of it either: deliveries are unique per
     * (webhook, notification); see webhooks/ */
    json_object_put(placed);
    free(seller_before);
    free(fan_before);
    free(listing);
    free(order);
}

/* ---- saved searches ------------------------------------------------------------------------ */

static struct iresp
save(const struct itest_user *u, const char *name, const char *query, bool alert)
{
    return as(u, "POST", "/api/v1/users/me/saved-searches",
              itest_fmt("{\"name\":\"%s\",\"query\":\"%s\",\"alert\":%s}", name, query, alert ? "true" : "false"));
}

static char *
save_ok(const struct itest_user *u, const char *query, bool alert)
{
    struct iresp r = save(u, "search", query, alert);
    cr_assert_eq(r.status, 201, "%s", r.body);
    char *id = strdup(ijson_str(r.json, "saved_search", "id", NULL));
    iresp_free(&r);
    return id;
}

Test(saved_searches, queries_are_validated_like_browse)
{
    struct itest_user u, other;
    itest_user_new(&u, "SavedValid");
    itest_user_new(&other, "SavedOther");
    static const struct {
        const char *query, *names;
    } bad[] = {
        {"colour=red", "colour"},        {"category=nonsense", "category"}, {"min_price=abc", "min_price"},
        {"q=lamp&q=chair", "q"},         {"near=100,0", "near"},           {"cursor=abc", "cursor"},
        {"sort=distance", "sort"},       {"radius_km=5", "radius_km"},     {"attr.nothing=1", "attr.nothing"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct iresp r = save(&u, "bad", bad[i].query, true);
        cr_assert_eq(r.status, 422, "%s: %s", bad[i].query, r.body);
        const char *field = ijson_str(r.json, "error", "fields", "query", NULL);
        cr_assert_not_null(field, "%s", r.body);
        cr_assert_eq(strncmp(field, bad[i].names, strlen(bad[i].names)), 0, "%s: %s", bad[i].query, field);
        iresp_free(&r);
    }
    struct iresp r = as(&u, "POST", "/api/v1/users/me/saved-searches", "{\"query\":\"q=lamp\"}");
    cr_assert_eq(r.status, 422, "%s", r.body);
    cr_assert_not_null(ijson_str(r.json, "error", "fields", "name", NULL));
    iresp_free(&r);
    /* A name of white space (Unicode's too) is no name: trimmed, then checked (it reached the
     * table's CHECK before, and came back without the field). */
    static const char *const blank[] = {" ", "   ", "\\t \\t", "\\u00a0\\u3000"};
    for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
        r = save(&u, blank[i], "q=lamp", true);
        cr_assert_eq(r.status, 422, "%s: %s", blank[i], r.body);
        cr_assert_str_eq(ijson_str(r.json, "error", "fields", "name", NULL), "must be 1 to 100 characters", "%s",
                         r.body);
        iresp_free(&r);
    }
    r = save(&u, "  lamps  ", "q=lamp", true);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(ijson_str(r.json, "saved_search", "name", NULL), "lamps");
    struct iresp d =
        as(&u, "DELETE", itest_fmt("/api/v1/users/me/saved-searches/%s", ijson_str(r.json, "saved_search", "id", NULL)),
           NULL);
    cr_assert_eq(d.status, 204, "%s", d.body);
    iresp_free(&d);
    iresp_free(&r);
    char *id = save_ok(&u, "q=lamp&category=furniture&max_price=5000", true);
    r = as(&u, "GET", "/api/v1/users/me/saved-searches", NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_object *items = json_object_object_get(r.json, "items");
    cr_assert_eq(json_object_array_length(items), 1);
    cr_assert_str_eq(ijson_str(json_object_array_get_idx(items, 0), "query", NULL),
                     "q=lamp&category=furniture&max_price=5000");
    iresp_free(&r);
    r = as(&other, "GET", "/api/v1/users/me/saved-searches", NULL);
    cr_assert_eq(json_object_array_length(json_object_object_get(r.json, "items")), 0);
    iresp_free(&r);
    r = as(&other, "DELETE", itest_fmt("/api/v1/users/me/saved-searches/%s", id), NULL);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    r = as(&u, "DELETE", itest_fmt("/api/v1/users/me/saved-searches/%s", id), NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    iresp_free(&r);
    r = as(&u, "DELETE", itest_fmt("/api/v1/users/me/saved-searches/%s", id), NULL);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    free(id);
}

Test(saved_searches, at_most_fifty_per_user)
{
    struct itest_user u;
    itest_user_new(&u, "SavedFifty");
    char *first = NULL;
    for (int i = 0; i < 50; i++) {
        char *id = save_ok(&u, itest_fmt("q=word%d", i), false);
        if (i == 0) {
            first = id;
        } else {
            free(id);
        }
    }
    struct iresp r = save(&u, "51st", "q=one+more", false);
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "conflict");
    iresp_free(&r);
    r = as(&u, "DELETE", itest_fmt("/api/v1/users/me/saved-searches/%s", first), NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    iresp_free(&r);
    free(save_ok(&u, "q=one+more", false));
    free(first);
}

/* ---- a user's caps under concurrent creates ------------------------------------------------ */

struct burst {
    const char *path, *body, *header;
    pthread_barrier_t *go;
    long status;
};

static void *
burst_run(void *arg)
{
    struct burst *b = arg;
    pthread_barrier_wait(b->go);
    struct iresp r = itest_http("POST", b->path, (const char *const[]){b->header, NULL}, b->body);
    b->status = r.status;
    iresp_free(&r);
    return NULL;
}

enum { BURST = 16 };

/* BURST creates of body_fmt (one %d: the request's number) by u at the same moment, when u has
 * room for exactly `room` more: exactly `room` are 201, the rest 409, and `table` holds `cap`
 * live rows of u's. Until 2026-11-30 the count ran in the statement that waited for the user's
 * lock, on a snapshot from before the holder's insert: 6 of 16 passed a room of 1 (53 saved
 * searches, 23 webhooks in a live race run). */
static void
assert_cap_holds(const struct itest_user *u, const char *path, const char *body_fmt, int room, const char *table,
                 int cap)
{
    char bodies[BURST][256];
    struct burst b[BURST];
    pthread_t t[BURST];
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, BURST);
    for (int i = 0; i < BURST; i++) {
        snprintf(bodies[i], sizeof(bodies[i]), body_fmt, i);
        b[i] = (struct burst){path, bodies[i], auth(u), &go, 0};
    }
    for (int i = 0; i < BURST; i++) {
        cr_assert_eq(pthread_create(&t[i], NULL, burst_run, &b[i]), 0);
    }
    int created = 0;
    for (int i = 0; i < BURST; i++) {
        pthread_join(t[i], NULL);
        cr_assert(b[i].status == 201 || b[i].status == 409, "%s: %ld", path, b[i].status);
        created += b[i].status == 201;
    }
    pthread_barrier_destroy(&go);
    cr_assert_eq(created, room, "%s: %d created with room for %d", path, created, room);
    cr_assert_eq(itest_pg_num(itest_fmt("SELECT count(*) FROM %s WHERE user_id = $1::uuid AND deleted_at IS NULL", table),
                              u->id, NULL),
                 cap, "%s: the cap of %d", table, cap);
}

Test(saved_searches, the_cap_holds_under_concurrent_creates)
{
    struct itest_user u;
    itest_user_new(&u, "SavedBurst");
    for (int i = 0; i < 45; i++) {
        free(save_ok(&u, itest_fmt("q=burst%d", i), false));
    }
    assert_cap_holds(&u, "/api/v1/users/me/saved-searches", "{\"name\":\"b%d\",\"query\":\"q=lamp\"}", 5,
                     "saved_searches", 50);
}

/* A word no other test uses (letters and digits, not ending in s). */
static const char *
unique_word(void)
{
    static int n;
    return itest_fmt("zq%x%xk", (unsigned)getpid(), ++n);
}

/* The saved_search_match item of search ss in u's feed: how many there are, and its listing_ids. */
static int
matches_of(const struct itest_user *u, const char *ss, json_object **ids, bool *read)
{
    struct iresp r = feed(u, "?limit=100");
    json_object *item = NULL;
    int n = count_items(r.json, "saved_search_match", "saved_search_id", ss, &item);
    if (ids != NULL) {
        *ids = item != NULL ? json_object_get(json_object_object_get(json_object_object_get(item, "data"),
                                                                     "listing_ids"))
                            : NULL;
    }
    if (read != NULL && item != NULL) {
        *read = json_object_get_boolean(json_object_object_get(item, "read"));
    }
    json_object_put(item);
    iresp_free(&r);
    return n;
}

struct fold_wait {
    const struct itest_user *u;
    const char *ss;
    size_t want;
};

static bool
folded(void *arg)
{
    struct fold_wait *w = arg;
    json_object *ids = NULL;
    matches_of(w->u, w->ss, &ids, NULL);
    bool ok = ids != NULL && json_object_array_length(ids) >= w->want;
    json_object_put(ids);
    return ok;
}

static bool
ids_hold(json_object *ids, const char *listing)
{
    for (size_t i = 0; ids != NULL && i < json_object_array_length(ids); i++) {
        if (strcmp(json_object_get_string(json_object_array_get_idx(ids, i)), listing) == 0) {
            return true;
        }
    }
    return false;
}

Test(saved_searches, new_and_reactivated_listings_match_and_fold_into_one_unread_item)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "MatchSeller");
    itest_user_new(&buyer, "MatchBuyer");
    const char *w = unique_word();
    char word[40];
    snprintf(word, sizeof(word), "%s", w);
    char *ss = save_ok(&buyer, itest_fmt("q=%s&category=furniture&max_price=5000", word), true);
    char *quiet = save_ok(&buyer, itest_fmt("q=%s", word), false);
    char *own = save_ok(&seller, itest_fmt("q=%s", word), true);   /* the seller's own listings never alert them */
    char *l1 = listing_new(&seller, itest_fmt("%s lamp", word), "furniture", 4000, "active");
    struct fold_wait fw = {&buyer, ss, 1};
    cr_assert(itest_poll(10000, folded, &fw), "no saved_search_match");
    /* not matching: too dear, another category, another word, a draft */
    free(listing_new(&seller, itest_fmt("%s lamp", word), "furniture", 6000, "active"));
    free(listing_new(&seller, itest_fmt("%s ball", word), "sports", 1000, "active"));
    free(listing_new(&seller, "plain lamp", "furniture", 1000, "active"));
    char *draft = listing_new(&seller, itest_fmt("%s chair", word), "furniture", 3000, "draft");
    char *l2 = listing_new(&seller, itest_fmt("Big %s lamp", word), "furniture", 4500, "active");
    fw.want = 2;
    cr_assert(itest_poll(10000, folded, &fw), "the second match was not folded in");
    listing_patch(&seller, draft, "{\"status\":\"active\"}");   /* re-activated: a match */
    fw.want = 3;
    cr_assert(itest_poll(10000, folded, &fw), "the activated draft was not folded in");
    barrier();
    json_object *ids = NULL;
    cr_assert_eq(matches_of(&buyer, ss, &ids, NULL), 1, "one item for the search");
    cr_assert_eq(json_object_array_length(ids), 3, "%s", json_object_to_json_string(ids));
    cr_assert(ids_hold(ids, l1) && ids_hold(ids, l2) && ids_hold(ids, draft));
    json_object_put(ids);
    cr_assert_eq(matches_of(&buyer, quiet, NULL, NULL), 0, "a search without alert is quiet");
    cr_assert_eq(feed_size(&seller, NULL), 0, "no alert of one's own listings");
    cr_assert_eq(feed_size(&buyer, NULL), 1);

    /* read, then another match within 10 minutes: the same item, unread again */
    mark(&buyer, "{\"all\":true}", 204);
    struct unread_wait uw = {&buyer, 0};
    cr_assert(itest_poll(10000, unread_is, &uw));
    char *l4 = listing_new(&seller, itest_fmt("%s lamp four", word), "furniture", 100, "active");
    fw.want = 4;
    cr_assert(itest_poll(10000, folded, &fw));
    bool read = true;
    cr_assert_eq(matches_of(&buyer, ss, NULL, &read), 1);
    cr_assert_not(read, "a new match makes the item unread again");
    uw.want = 1;
    cr_assert(itest_poll(10000, unread_is, &uw));

    /* deleted: no more matches */
    struct iresp r = as(&buyer, "DELETE", itest_fmt("/api/v1/users/me/saved-searches/%s", ss), NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    iresp_free(&r);
    char *l5 = listing_new(&seller, itest_fmt("%s lamp five", word), "furniture", 100, "active");
    barrier();
    matches_of(&buyer, ss, &ids, NULL);
    cr_assert_not(ids_hold(ids, l5), "a deleted search matched");
    json_object_put(ids);
    free(ss), free(quiet), free(own), free(l1), free(l2), free(draft), free(l4), free(l5);
}

Test(saved_searches, near_matches_by_distance)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "NearSeller");
    itest_user_new(&buyer, "NearBuyer");
    char word[40];
    snprintf(word, sizeof(word), "%s", unique_word());
    /* Munich, 10 km; no words in the anchor: the geo cells are */
    char *ss = save_ok(&buyer, itest_fmt("near=48.137,11.575&radius_km=10&condition=good&max_price=%d", 77777), true);
    char *far = listing_at(&seller, itest_fmt("%s far", word), "furniture", 77777, "active", 52.52, 13.4);
    char *near = listing_at(&seller, itest_fmt("%s near", word), "furniture", 77777, "active", 48.15, 11.6);
    struct fold_wait fw = {&buyer, ss, 1};
    cr_assert(itest_poll(10000, folded, &fw), "the listing in Munich did not match");
    barrier();
    json_object *ids = NULL;
    matches_of(&buyer, ss, &ids, NULL);
    cr_assert(ids_hold(ids, near));
    cr_assert_not(ids_hold(ids, far), "Berlin is not within 10 km of Munich");
    json_object_put(ids);
    free(ss), free(far), free(near);
}

/* ---- webhooks ---------------------------------------------------------------------------- */

#define RECEIVER_MAX 32

/* A tiny HTTP server on 127.0.0.1 (an ephemeral port) that records what it is sent and
 * answers the statuses of its script in turn (the last one from then on). */
struct receiver {
    int fd, port;
    pthread_t thread;
    pthread_mutex_t mu;
    int script[8], nscript;
    int count;
    char *id[RECEIVER_MAX], *ts[RECEIVER_MAX], *sig[RECEIVER_MAX], *body[RECEIVER_MAX];
    volatile int stop;
};

static char *
header_of(const char *head, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = head; p != NULL && *p != '\0'; p = strstr(p, "\r\n") != NULL ? strstr(p, "\r\n") + 2 : NULL) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ') {
                v++;
            }
            const char *end = strstr(v, "\r\n");
            return strndup(v, end != NULL ? (size_t)(end - v) : strlen(v));
        }
    }
    return NULL;
}

static void
receiver_serve(struct receiver *rv, int c)
{
    char buf[65536];
    size_t len = 0;
    char *end = NULL;
    while (len < sizeof(buf) - 1 && (end = strstr(buf, "\r\n\r\n")) == NULL) {
        ssize_t got = read(c, buf + len, sizeof(buf) - 1 - len);
        if (got <= 0) {
            return;
        }
        len += (size_t)got;
        buf[len] = '\0';
    }
    if (end == NULL) {
        return;
    }
    *end = '\0';
    char *cl = header_of(buf, "content-length");
    size_t want = cl != NULL ? (size_t)atol(cl) : 0, have = len - (size_t)(end + 4 - buf);
    free(cl);
    while (have < want && len < sizeof(buf) - 1) {
        ssize_t got = read(c, buf + len, sizeof(buf) - 1 - len);
        if (got <= 0) {
            break;
        }
        len += (size_t)got;
        have += (size_t)got;
    }
    buf[len] = '\0';
    pthread_mutex_lock(&rv->mu);
    int i = rv->count < RECEIVER_MAX ? rv->count : RECEIVER_MAX - 1;
    rv->id[i] = header_of(buf, "webhook-id");
    rv->ts[i] = header_of(buf, "webhook-timestamp");
    rv->sig[i] = header_of(buf, "webhook-signature");
    rv->body[i] = strndup(end + 4, want);
    int status = rv->script[rv->count < rv->nscript ? rv->count : rv->nscript - 1];
    rv->count++;
    pthread_mutex_unlock(&rv->mu);
    char answer[128];
    int n = snprintf(answer, sizeof(answer), "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status);
    ssize_t w = write(c, answer, (size_t)n);
    (void)w;
}

static void *
receiver_run(void *arg)
{
    struct receiver *rv = arg;
    while (!rv->stop) {
        struct pollfd p = {.fd = rv->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) {
            continue;
        }
        int c = accept(rv->fd, NULL, NULL);
        if (c >= 0) {
            receiver_serve(rv, c);
            close(c);
        }
    }
    return NULL;
}

static struct receiver *
receiver_start(const int *script, int n)
{
    struct receiver *rv = calloc(1, sizeof(*rv));
    memcpy(rv->script, script, (size_t)n * sizeof(int));
    rv->nscript = n;
    pthread_mutex_init(&rv->mu, NULL);
    rv->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(rv->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(rv->fd, 16), 0);
    socklen_t alen = sizeof(a);
    getsockname(rv->fd, (struct sockaddr *)&a, &alen);
    rv->port = ntohs(a.sin_port);
    pthread_create(&rv->thread, NULL, receiver_run, rv);
    return rv;
}

static void
receiver_stop(struct receiver *rv)
{
    rv->stop = 1;
    pthread_join(rv->thread, NULL);
    close(rv->fd);
    for (int i = 0; i < RECEIVER_MAX; i++) {
        free(rv->id[i]), free(rv->ts[i]), free(rv->sig[i]), free(rv->body[i]);
    }
    pthread_mutex_destroy(&rv->mu);
    free(rv);
}

static int
received(struct receiver *rv)
{
    pthread_mutex_lock(&rv->mu);
    int n = rv->count;
    pthread_mutex_unlock(&rv->mu);
    return n;
}

struct count_wait {
    struct receiver *rv;
    int want;
};

static bool
got_count(void *arg)
{
    struct count_wait *w = arg;
    return received(w->rv) >= w->want;
}

static void
wait_received(struct receiver *rv, int n)
{
    struct count_wait w = {rv, n};
    cr_assert(itest_poll(15000, got_count, &w), "the receiver got %d requests, not %d", received(rv), n);
}

struct hook {
    char id[40];
    char secret[64];
};

static struct iresp
hook_post(const struct itest_user *u, const char *url, const char *events)
{
    return as(u, "POST", "/api/v1/users/me/webhooks", itest_fmt("{\"url\":\"%s\",\"events\":%s}", url, events));
}

static struct hook
hook_new(const struct itest_user *u, struct receiver *rv, const char *events)
{
    struct iresp r = hook_post(u, itest_fmt("http://127.0.0.1:%d/hook", rv->port), events);
    cr_assert_eq(r.status, 201, "%s", r.body);
    struct hook h;
    snprintf(h.id, sizeof(h.id), "%s", ijson_str(r.json, "webhook", "id", NULL));
    snprintf(h.secret, sizeof(h.secret), "%s", ijson_str(r.json, "webhook", "secret", NULL));
    iresp_free(&r);
    return h;
}

/* The Standard Webhooks check, done here with libsodium: v1,base64(HMAC-SHA256(secret bytes, id.ts.body)). */
static bool
signature_valid(const char *secret, const char *id, const char *ts, const char *body, const char *header)
{
    unsigned char key[64], mac[crypto_auth_hmacsha256_BYTES];
    size_t klen = 0;
    cr_assert_eq(strncmp(secret, "whsec_", 6), 0);
    cr_assert_eq(sodium_base642bin(key, sizeof(key), secret + 6, strlen(secret + 6), NULL, &klen, NULL,
                                   sodium_base64_VARIANT_ORIGINAL),
                 0);
    char *signed_text = NULL;
    cr_assert(asprintf(&signed_text, "%s.%s.%s", id, ts, body) > 0);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)signed_text, strlen(signed_text));
    crypto_auth_hmacsha256_final(&st, mac);
    free(signed_text);
    char b64[64];
    sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
    return header != NULL && strncmp(header, "v1,", 3) == 0 && strcmp(header + 3, b64) == 0;
}

/* The webhook's deliveries (the caller frees). */
static struct iresp
deliveries(const struct itest_user *u, const char *hook)
{
    return as(u, "GET", itest_fmt("/api/v1/users/me/webhooks/%s/deliveries", hook), NULL);
}

struct delivery_wait {
    const struct itest_user *u;
    const char *hook, *status;
    long long attempts;
};

static bool
delivery_is(void *arg)
{
    struct delivery_wait *w = arg;
    struct iresp r = deliveries(w->u, w->hook);
    json_object *d = json_object_array_get_idx(json_object_object_get(r.json, "items"), 0);
    bool ok = d != NULL && strcmp(ijson_str(d, "status", NULL), w->status) == 0 &&
              (long long)json_object_array_length(json_object_object_get(d, "attempts")) == w->attempts;
    iresp_free(&r);
    return ok;
}

static void
wait_delivery(const struct itest_user *u, const char *hook, const char *status, long long attempts)
{
    struct delivery_wait w = {u, hook, status, attempts};
    cr_assert(itest_poll(15000, delivery_is, &w), "the delivery never became %s after %lld attempts", status,
              attempts);
}

Test(webhooks, a_notification_is_posted_signed_and_logged)
{
    struct itest_user seller, buyer, other;
    itest_user_new(&seller, "HookSeller");
    itest_user_new(&buyer, "HookBuyer");
    itest_user_new(&other, "HookOther");
    struct receiver *rv = receiver_start((const int[]){200}, 1);
    struct hook h = hook_new(&seller, rv, "[\"order_placed\",\"order_delivered\"]");
    char *listing = listing_new(&seller, "Hooked lamp", "furniture", 5000, "active");
    char *order = buy(&buyer, listing);
    json_object *item = wait_for(&seller, "order_placed", "order_id", order);
    wait_received(rv, 1);
    cr_assert_str_eq(rv->id[0], ijson_str(item, "id", NULL), "webhook-id is the notification id");
    cr_assert(signature_valid(h.secret, rv->id[0], rv->ts[0], rv->body[0], rv->sig[0]), "bad signature %s", rv->sig[0]);
    long long ts = atoll(rv->ts[0]);
    cr_assert(ts > 1700000000LL, "%s", rv->ts[0]);
    json_object *body = json_tokener_parse(rv->body[0]);
    cr_assert_str_eq(ijson_str(body, "type", NULL), "order_placed");
    cr_assert_str_eq(ijson_str(body, "data", "order_id", NULL), order);
    cr_assert_str_eq(ijson_str(body, "created_at", NULL), ijson_str(item, "created_at", NULL));
    json_object_put(body);
    wait_delivery(&seller, h.id, "succeeded", 1);
    struct iresp r = deliveries(&seller, h.id);
    json_object *d = json_object_array_get_idx(json_object_object_get(r.json, "items"), 0);
    cr_assert_str_eq(ijson_str(d, "notification_id", NULL), ijson_str(item, "id", NULL));
    json_object *a0 = json_object_array_get_idx(json_object_object_get(d, "attempts"), 0);
    cr_assert_eq(ijson_int(a0, "attempt", NULL), 1);
    cr_assert_eq(ijson_int(a0, "status_code", NULL), 200);
    cr_assert(json_object_object_get(d, "next_retry_at") == NULL);
    iresp_free(&r);
    /* the list shows no secret; other users see none of it */
    r = as(&seller, "GET", "/api/v1/users/me/webhooks", NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(strstr(r.body, "whsec_"), "%s", r.body);
    cr_assert_eq(json_object_array_length(json_object_object_get(r.json, "items")), 1);
    iresp_free(&r);
    r = deliveries(&other, h.id);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    r = as(&other, "POST", itest_fmt("/api/v1/users/me/webhooks/%s/deliveries/%s/retry", h.id, ijson_str(d, "id", NULL)),
           NULL);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    r = as(&other, "DELETE", itest_fmt("/api/v1/users/me/webhooks/%s", h.id), NULL);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    json_object_put(item);
    receiver_stop(rv);
    free(listing);
    free(order);
}

/* A delivery made for the seller: a listing bought by a new buyer. Returns the order id. */
static char *
sale(const struct itest_user *seller)
{
    struct itest_user buyer;
    itest_user_new(&buyer, "HookSaleBuyer");
    char *listing = listing_new(seller, "Hook sale lamp", "furniture", 2500, "active");
    char *order = buy(&buyer, listing);
    free(listing);
    return order;
}

Test(webhooks, a_500_is_retried_with_the_same_id)
{
    struct itest_user seller;
    itest_user_new(&seller, "Hook500");
    struct receiver *rv = receiver_start((const int[]){500, 503, 200}, 3);
    struct hook h = hook_new(&seller, rv, "[\"order_placed\"]");
    free(sale(&seller));
    wait_received(rv, 3);
    cr_assert_str_eq(rv->id[0], rv->id[1]);
    cr_assert_str_eq(rv->id[1], rv->id[2]);
    cr_assert_str_eq(rv->body[0], rv->body[2]);
    for (int i = 0; i < 3; i++) {
        cr_assert(signature_valid(h.secret, rv->id[i], rv->ts[i], rv->body[i], rv->sig[i]));
    }
    wait_delivery(&seller, h.id, "succeeded", 3);
    struct iresp r = deliveries(&seller, h.id);
    json_object *attempts = json_object_object_get(json_object_array_get_idx(json_object_object_get(r.json, "items"), 0),
                                                   "attempts");
    cr_assert_eq(ijson_int(json_object_array_get_idx(attempts, 0), "status_code", NULL), 500);
    cr_assert_eq(ijson_int(json_object_array_get_idx(attempts, 1), "status_code", NULL), 503);
    cr_assert_eq(ijson_int(json_object_array_get_idx(attempts, 2), "status_code", NULL), 200);
    iresp_free(&r);
    receiver_stop(rv);
}

Test(webhooks, a_400_is_not_retried_but_a_manual_retry_sends_it_again)
{
    struct itest_user seller;
    itest_user_new(&seller, "Hook400");
    struct receiver *rv = receiver_start((const int[]){400, 200}, 2);
    struct hook h = hook_new(&seller, rv, "[\"order_placed\"]");
    free(sale(&seller));
    wait_received(rv, 1);
    wait_delivery(&seller, h.id, "failed", 1);
    struct iresp r = deliveries(&seller, h.id);
    json_object *d = json_object_array_get_idx(json_object_object_get(r.json, "items"), 0);
    char first[40];
    snprintf(first, sizeof(first), "%s", ijson_str(d, "id", NULL));
    cr_assert(json_object_object_get(d, "next_retry_at") == NULL, "%s", r.body);
    iresp_free(&r);
    /* a second notification goes through: the failed one was not tried again meanwhile */
    free(sale(&seller));
    wait_received(rv, 2);
    cr_assert_str_neq(rv->id[0], rv->id[1]);
    r = deliveries(&seller, h.id);
    json_object *items = json_object_object_get(r.json, "items");
    cr_assert_eq(json_object_array_length(items), 2);
    json_object *older = json_object_array_get_idx(items, 1);
    cr_assert_str_eq(ijson_str(older, "id", NULL), first, "newest first");
    cr_assert_eq(json_object_array_length(json_object_object_get(older, "attempts")), 1);
    iresp_free(&r);
    /* manual retry: once more, with the same webhook-id */
    r = as(&seller, "POST", itest_fmt("/api/v1/users/me/webhooks/%s/deliveries/%s/retry", h.id, first), NULL);
    cr_assert_eq(r.status, 202, "%s", r.body);
    iresp_free(&r);
    wait_received(rv, 3);
    cr_assert_str_eq(rv->id[2], rv->id[0]);
    cr_assert(signature_valid(h.secret, rv->id[2], rv->ts[2], rv->body[2], rv->sig[2]));
    r = as(&seller, "POST", itest_fmt("/api/v1/users/me/webhooks/%s/deliveries/%s/retry", h.id,
                                      "6f1c4d3e-1111-4222-8333-944455556666"), NULL);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    receiver_stop(rv);
}

Test(webhooks, unsubscribed_types_are_not_sent)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "HookTypes");
    itest_user_new(&buyer, "HookTypesBuyer");
    struct receiver *rv = receiver_start((const int[]){200}, 1);
    struct hook h = hook_new(&buyer, rv, "[\"order_shipped\"]");
    char *listing = listing_new(&seller, "Typed lamp", "furniture", 2500, "active");
    char *order = buy(&buyer, listing);
    favorite(&buyer, listing);
    json_object_put(wait_for(&seller, "order_placed", "order_id", order));
    barrier();
    struct iresp r = deliveries(&buyer, h.id);
    cr_assert_eq(json_object_array_length(json_object_object_get(r.json, "items")), 0, "%s", r.body);
    iresp_free(&r);
    order_move(&seller, order, "ship", "{\"carrier\":\"DHL\",\"number\":\"1\"}");
    wait_received(rv, 1);
    json_object *body = json_tokener_parse(rv->body[0]);
    cr_assert_str_eq(ijson_str(body, "type", NULL), "order_shipped");
    json_object_put(body);
    receiver_stop(rv);
    free(listing);
    free(order);
}

static bool
nothing_in_flight(void *arg)
{
    PGconn *c = itest_pg();
    const char *params[] = {arg};
    PGresult *res = PQexecParams(c,
                                 "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1::uuid "
                                 "AND (next_attempt_at IS NOT NULL OR claim IS NOT NULL)",
                                 1, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "0") == 0;
    PQclear(res);
    PQfinish(c);
    return ok;
}

/* True when every backend that last ran a deliverer's statement on webhook_deliveries (claim,
 * next due) has been idle for 200 ms: a deliverer waiting for a NOTIFY or its poll interval.
 * A deliverer in a busy loop leaves its backend idle for well under a millisecond at a time. */
static bool
deliverers_waiting(void *arg)
{
    (void)arg;
    PGconn *c = itest_pg();
    PGresult *res = PQexec(c, "SELECT count(*), count(*) FILTER (WHERE state = 'idle' AND "
                              "clock_timestamp() - state_change > interval '200 ms') FROM pg_stat_activity "
                              "WHERE application_name = 'marketd' AND query LIKE '%webhook_deliveries d %'");
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && atoll(PQgetvalue(res, 0, 0)) > 0 &&
              strcmp(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1)) == 0;
    PQclear(res);
    PQfinish(c);
    return ok;
}

Test(webhooks, deleting_a_webhook_stops_its_deliveries)
{
    struct itest_user seller;
    itest_user_new(&seller, "HookDelete");
    struct receiver *rv = receiver_start((const int[]){500}, 1);
    struct hook h = hook_new(&seller, rv, "[\"order_placed\"]");
    free(sale(&seller));
    wait_received(rv, 1);
    struct iresp r = as(&seller, "DELETE", itest_fmt("/api/v1/users/me/webhooks/%s", h.id), NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    iresp_free(&r);
    cr_assert(itest_poll(15000, nothing_in_flight, h.id), "a delivery of the deleted webhook is still scheduled");
    int before = received(rv);
    /* even made due by hand, a delivery of a deleted webhook is never claimed */
    PGconn *c = itest_pg();
    const char *params[] = {h.id};
    PQclear(PQexecParams(c, "UPDATE webhook_deliveries SET next_attempt_at = now() WHERE webhook_id = $1::uuid", 1,
                         NULL, params, NULL, NULL, 0));
    PQfinish(c);
    struct receiver *other = receiver_start((const int[]){200}, 1);
    hook_new(&seller, other, "[\"order_placed\"]");
    free(sale(&seller));
    wait_received(other, 1);   /* the deliverers have passed the due row */
    cr_assert_eq(received(rv), before, "the deleted webhook got another request");
    r = deliveries(&seller, h.id);
    cr_assert_eq(r.status, 404, "%s", r.body);
    iresp_free(&r);
    /* Nothing left to deliver (a due row of a deleted webhook does not count): the deliverers
     * wait for a notification or their poll interval, not in a loop (they did: greatest(0,
     * NULL) made "none due" read as "due now", thousands of queries a second). */
    cr_assert(itest_poll(10000, deliverers_waiting, NULL), "the deliverers query PostgreSQL in a loop");
    receiver_stop(rv);
    receiver_stop(other);
}

Test(webhooks, the_cap_holds_under_concurrent_creates)
{
    struct itest_user u;
    itest_user_new(&u, "HookBurst");
    for (int i = 0; i < 15; i++) {
        struct iresp r = hook_post(&u, itest_fmt("http://127.0.0.1:9/hook%d", i), "[\"order_placed\"]");
        cr_assert_eq(r.status, 201, "%s", r.body);
        iresp_free(&r);
    }
    assert_cap_holds(&u, "/api/v1/users/me/webhooks", "{\"url\":\"http://127.0.0.1:9/b%d\",\"events\":[\"order_placed\"]}",
                     5, "webhooks", 20);
}

Test(webhooks, refused_urls_and_events)
{
    struct itest_user u;
    itest_user_new(&u, "HookRefused");
    static const char *const urls[] = {
        "https://127.0.0.2/hook",            /* loopback, not listed */
        "http://127.0.0.2/hook",             /* and not https */
        "https://localhost/hook",            /* a name that resolves to loopback */
        "https://[::1]/hook",                /* IPv6 loopback */
        "https://webhook-test.invalid/hook", /* does not resolve */
        "ftp://127.0.0.1/hook",
        "http://user:pw@127.0.0.1/hook",
        "not a url",
        "",
    };
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct iresp r = hook_post(&u, urls[i], "[\"order_placed\"]");
        cr_assert_eq(r.status, 422, "%s: %s", urls[i], r.body);
        cr_assert_not_null(ijson_str(r.json, "error", "fields", "url", NULL), "%s: %s", urls[i], r.body);
        iresp_free(&r);
    }
    static const char *const events[] = {"[]", "[\"nope\"]", "[\"order_placed\",\"order_placed\"]", "\"order_placed\""};
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        struct iresp r = hook_post(&u, "http://127.0.0.1:9/hook", events[i]);
        cr_assert_eq(r.status, 422, "%s: %s", events[i], r.body);
        iresp_free(&r);
    }
    struct iresp r = as(&u, "GET", "/api/v1/users/me/webhooks", NULL);
    cr_assert_eq(json_object_array_length(json_object_object_get(r.json, "items")), 0, "%s", r.body);
    iresp_free(&r);
}

Test(webhooks, a_delivery_waits_for_a_deliverer_restart, .fini = itest_start_marketd)
{
    struct itest_user seller;
    itest_user_new(&seller, "HookRestart");
    struct receiver *rv = receiver_start((const int[]){200}, 1);
    struct hook h = hook_new(&seller, rv, "[\"order_placed\"]");
    itest_stack("stop", "deliverer");
    char *order = sale(&seller);
    json_object_put(wait_for(&seller, "order_placed", "order_id", order));
    barrier();
    cr_assert_eq(received(rv), 0);
    wait_delivery(&seller, h.id, "pending", 0);
    itest_stack("start", "deliverer");
    wait_received(rv, 1);
    wait_delivery(&seller, h.id, "succeeded", 1);
    cr_assert(signature_valid(h.secret, rv->id[0], rv->ts[0], rv->body[0], rv->sig[0]));
    receiver_stop(rv);
    free(order);
}
