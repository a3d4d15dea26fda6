/*
 * Every query marketd sends to the read model uses an index: with MongoDB's profiler at
 * level 2 on the read model's database, the test drives each read and write path through
 * HTTP (browse variants, seller listings, favourites, reviews, a seller rename, listing
 * creation and its active-listing count), then reads system.profile and fails on any
 * COLLSCAN against the read-model collections. Works against the local stand-in and a real
 * MongoDB alike (the profiler is MongoDB's own; see README, "MongoDB stand-in").
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

#define fmt itest_fmt

#define ADDRESS                                                                                                        \
    "{\"name\":\"Ada Lovelace\",\"line1\":\"Unter den Linden 1\",\"city\":\"Berlin\",\"postal_code\":\"10117\","       \
    "\"country\":\"DE\"}"
#define SHIP_BODY "{\"carrier\":\"DHL\",\"number\":\"00340434161094042557\"}"
#define BYPASS "Authorization: Bearer bypass-the-nginx-cache"

/* The collections marketd reads and writes in the read model (src/projector, src/query). */
static const char *const READ_MODEL[] = {"listings", "sellers", "favorites", "reviews", "system_pings",
                                         "projector_state", "notifications", NULL};

TestSuite(plans, .timeout = 180);


static long long
seq_of(const struct iresp *r)
{
    const char *h = iresp_header(r, "X-Event-Seq");
    cr_assert_not_null(h, "no X-Event-Seq: %s", r->body);
    return atoll(h);
}

struct settled {
    const char *path;
    long long seq;
};

static bool
is_settled(void *arg)
{
    struct settled *s = arg;
    struct iresp r = itest_http("GET", s->path, (const char *const[]){fmt("X-Min-Seq: %lld", s->seq), NULL}, NULL);
    bool ok = r.status == 200 && iresp_header(&r, "X-Read-Stale") == NULL;
    iresp_free(&r);
    return ok;
}

/* Wait until the projector applied seq to a resource (a listing, a profile): the documented
 * X-Min-Seq read, asked again until it is not stale (a loaded machine, or a rebuild after an
 * earlier test). */
static void
settle_path(const char *path, long long seq)
{
    char p[160];
    snprintf(p, sizeof(p), "%s", path);
    struct settled s = {p, seq};
    cr_assert(itest_poll(30000, is_settled, &s), "the projector caught up with seq %lld on %s", seq, p);
}

static void
settle(const char *listing_id, long long seq)
{
    settle_path(fmt("/api/v1/listings/%s", listing_id), seq);
}

static void
new_listing(struct itest_user *u, const char *title, const char *category, long long price, double lat, double lon,
            const char *attrs, char id[40], long long *seq)
{
    char *body = strdup(fmt("{\"title\":\"%s\",\"description\":\"plans test\",\"category\":\"%s\",\"condition\":"
                            "\"good\",\"price_minor\":%lld,\"currency\":\"EUR\",\"location\":{\"city\":\"Berlin\","
                            "\"country\":\"DE\",\"lat\":%.5f,\"lon\":%.5f},\"attributes\":%s}",
                            title, category, price, lat, lon, attrs));
    struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){u->bearer, NULL}, body);
    free(body);
    cr_assert_eq(r.status, 201, "create %s: %s", title, r.body);
    snprintf(id, 40, "%s", ijson_str(r.json, "listing", "id", NULL));
    *seq = seq_of(&r);
    iresp_free(&r);
}

/* GET path (200 expected); returns the body's next_cursor (static, "" when none). */
static const char *
get_page(const char *path, const char *auth)
{
    static char next[1024];
    struct iresp r = itest_http("GET", path, (const char *const[]){auth, NULL}, NULL);
    cr_assert_eq(r.status, 200, "GET %s: %ld %s", path, r.status, r.body);
    const char *c = ijson_str(r.json, "next_cursor", NULL);
    snprintf(next, sizeof(next), "%s", c != NULL ? c : "");
    iresp_free(&r);
    return next;
}

/* GET a browse page and, when it has one, its next page. */
static void
browse_two_pages(const char *query)
{
    char q[512];
    snprintf(q, sizeof(q), "%s", query);
    const char *next = get_page(fmt("/api/v1/listings?%s&limit=1", q), BYPASS);
    if (next[0] != '\0') {
        get_page(fmt("/api/v1/listings?%s&limit=1&cursor=%s", q, next), BYPASS);
    }
}

static void
profile_level(mongoc_database_t *db, int level)
{
    bson_t *cmd = BCON_NEW("profile", BCON_INT32(level));
    bson_t reply;
    bson_error_t err;
    bool ok = mongoc_database_command_simple(db, cmd, NULL, &reply, &err);
    bson_destroy(cmd);
    bson_destroy(&reply);
    cr_assert(ok, "profile %d: %s", level, err.message);
}

struct poll_reviews {
    const char *seller;
};

static bool
has_review(void *arg)
{
    struct poll_reviews *p = arg;
    struct iresp r = itest_http("GET", fmt("/api/v1/users/%s/reviews", p->seller), NULL, NULL);
    json_object *items = json_object_object_get(r.json, "items");
    bool found = r.status == 200 && items != NULL && json_object_array_length(items) > 0;
    iresp_free(&r);
    return found;
}

static bool
has_two_favorites(void *arg)
{
    struct itest_user *u = arg;
    struct iresp r = itest_http("GET", "/api/v1/users/me/favorites", (const char *const[]){u->bearer, NULL}, NULL);
    json_object *items = json_object_object_get(r.json, "items");
    bool ok = r.status == 200 && items != NULL && json_object_array_length(items) == 2;
    iresp_free(&r);
    return ok;
}

static bool
review_renamed(void *arg)
{
    struct poll_reviews *p = arg;
    struct iresp r = itest_http("GET", fmt("/api/v1/users/%s/reviews", p->seller), NULL, NULL);
    bool found = r.status == 200 && strstr(r.body, "Renamed PlanBuyer") != NULL;
    iresp_free(&r);
    return found;
}

/* The fan's feed holds the price drop (the projector found the fan among a's favouriters). */
static bool
has_notification(void *arg)
{
    struct itest_user *u = arg;
    struct iresp r = itest_http("GET", "/api/v1/users/me/notifications", (const char *const[]){u->bearer, NULL}, NULL);
    json_object *items = json_object_object_get(r.json, "items");
    bool ok = r.status == 200 && items != NULL && json_object_array_length(items) > 0;
    iresp_free(&r);
    return ok;
}

/* The listing's views as the read model holds them (read directly: no view is counted). */
static bool
viewed_once(void *arg)
{
    mongoc_client_t *m = itest_mongo();
    mongoc_collection_t *coll = mongoc_client_get_collection(m, "market", "listings");
    bson_t *filter = BCON_NEW("_id", BCON_UTF8((const char *)arg), "views", BCON_INT64(1));
    bson_error_t err;
    int64_t n = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &err);
    bson_destroy(filter);
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(m);
    return n == 1;
}

/* A near search by distance (browse.c's $geoNear, whose query has status "active" and, with
 * words, keywords: {$all}) walks a compound 2dsphere index bounded by its prefix: the active
 * listings (with the first word) near the point, never every listing within the radius, sold
 * or not, as {geo: "2dsphere"} alone would (issue 19). Counts it, or notes it in failures. */
static void
geo_near_plan(const char *json, const char *plan, int *near, int *near_words, char *failures, size_t size)
{
    bool words = strstr(json, "\"keywords\"") != NULL;
    const char *want = words ? "GEO_NEAR_2DSPHERE { status: 1, keywords: 1, geo: \"2dsphere\" }"
                             : "GEO_NEAR_2DSPHERE { status: 1, geo: \"2dsphere\" }";
    if (strcmp(plan, want) == 0) {
        (*(words ? near_words : near))++;
        return;
    }
    size_t used = strlen(failures);
    snprintf(failures + used, size - used, "\n  %s (wanted %s): %.300s", plan, want, json);
}

Test(plans, every_read_model_query_uses_an_index)
{
    mongoc_client_t *client = itest_mongo();
    mongoc_database_t *db = mongoc_client_get_database(client, "market");
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int64_t start_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000 - 1000;
    profile_level(db, 2);

    /* Listings (the projector recounts the seller's active listings after each). */
    struct itest_user seller, buyer, fan;
    itest_user_new(&seller, "PlanSeller");
    itest_user_new(&buyer, "PlanBuyer");
    itest_user_new(&fan, "PlanFan");
    char word[32];
    snprintf(word, sizeof(word), "%s", itest_word('p'));
    char a[40], b[40], c[40];
    long long seq;
    new_listing(&seller, fmt("%s phone one", word), "phones", 12000, 52.52, 13.405,
                "{\"brand\":\"Acme\",\"storage_gb\":128}", a, &seq);
    new_listing(&seller, fmt("%s phone two", word), "phones", 22000, 52.53, 13.41,
                "{\"brand\":\"Acme\",\"storage_gb\":256}", b, &seq);
    new_listing(&seller, fmt("%s lamp", word), "furniture", 3000, 52.40, 13.20, "{}", c, &seq);
    settle(c, seq);

    /* Browse: category + newest, words + relevance, price ranges both ways, near + radius by
     * distance and by newest, attribute filters, the seller's listings; a second page each. */
    browse_two_pages("category=phones&sort=newest");
    browse_two_pages(fmt("q=%s", word));
    browse_two_pages(fmt("q=%s&sort=relevance", word));
    browse_two_pages(fmt("q=%s%%20phone&sort=newest", word));
    browse_two_pages("min_price=1000&max_price=25000&sort=price_asc");
    browse_two_pages("min_price=1000&sort=price_desc&category=phones");
    browse_two_pages("near=52.52,13.405&radius_km=10&sort=distance");
    browse_two_pages(fmt("near=52.52,13.405&radius_km=10&sort=distance&q=%s", word));
    browse_two_pages(fmt("near=52.52,13.405&radius_km=30&sort=newest&q=%s", word));
    browse_two_pages("category=phones&attr.storage_gb=128&sort=newest");
    browse_two_pages(fmt("seller=%s&sort=price_asc", seller.id));
    get_page(fmt("/api/v1/users/%s/listings?sort=newest", seller.id), BYPASS);
    get_page(fmt("/api/v1/listings/%s", a), BYPASS);
    get_page(fmt("/api/v1/users/%s", seller.id), BYPASS);

    /* Favourites: two, then the list page by page. */
    const char *fav[] = {a, b};
    for (int i = 0; i < 2; i++) {
        struct iresp r = itest_http("POST", fmt("/api/v1/listings/%s/favorite", fav[i]),
                                    (const char *const[]){fan.bearer, NULL}, NULL);
        cr_assert_eq(r.status, 204, "favorite: %s", r.body);
        iresp_free(&r);
    }
    cr_assert(itest_poll(10000, has_two_favorites, &fan), "both favourites reached the read model");
    struct iresp r;
    const char *next = get_page("/api/v1/users/me/favorites?limit=1", fan.bearer);
    if (next[0] != '\0') {
        char cur[1024];
        snprintf(cur, sizeof(cur), "%s", next);
        get_page(fmt("/api/v1/users/me/favorites?limit=1&cursor=%s", cur), fan.bearer);
    }

    /* Notifications: a price drop of a favourite reaches the fan (the projector reads a's
     * favouriters), whose feed is read page by page, unread only, with its unread count. */
    r = itest_http("PATCH", fmt("/api/v1/listings/%s", a), (const char *const[]){seller.bearer, "If-Match: *", NULL},
                   "{\"price_minor\":11000}");
    cr_assert_eq(r.status, 200, "price drop: %s", r.body);
    iresp_free(&r);
    cr_assert(itest_poll(15000, has_notification, &fan), "the price drop reached the fan's feed");
    get_page("/api/v1/users/me/notifications?limit=1", fan.bearer);
    get_page("/api/v1/users/me/notifications?unread=true&limit=1", fan.bearer);

    /* A review: an offer, accepted (the listing reserved: listing.reserved), bought with the offer
     * (listing.sold), shipped, confirmed, reviewed; the seller's reviews page by page. */
    char order[40], offer[40];
    r = itest_http("POST", fmt("/api/v1/listings/%s/offers", c), (const char *const[]){buyer.bearer, NULL},
                   "{\"amount_minor\":2500}");
    cr_assert_eq(r.status, 201, "offer: %s", r.body);
    snprintf(offer, sizeof(offer), "%s", ijson_str(r.json, "offer", "id", NULL));
    iresp_free(&r);
    r = itest_http("POST", fmt("/api/v1/offers/%s/accept", offer), (const char *const[]){seller.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 200, "accept: %s", r.body);
    settle(c, seq_of(&r));
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/orders",
                   (const char *const[]){buyer.bearer, fmt("Idempotency-Key: %s", itest_unique("plans")), NULL},
                   fmt("{\"offer_id\":\"%s\",\"shipping_address\":" ADDRESS "}", offer));
    cr_assert_eq(r.status, 201, "buy: %s", r.body);
    snprintf(order, sizeof(order), "%s", ijson_str(r.json, "order", "id", NULL));
    iresp_free(&r);
    r = itest_http("POST", fmt("/api/v1/orders/%s/ship", order), (const char *const[]){seller.bearer, NULL}, SHIP_BODY);
    cr_assert_eq(r.status, 200, "ship: %s", r.body);
    iresp_free(&r);
    r = itest_http("POST", fmt("/api/v1/orders/%s/confirm", order), (const char *const[]){buyer.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 200, "confirm: %s", r.body);
    iresp_free(&r);
    r = itest_http("POST", fmt("/api/v1/orders/%s/review", order), (const char *const[]){buyer.bearer, NULL},
                   "{\"rating\":4,\"comment\":\"fine\"}");
    cr_assert_eq(r.status, 201, "review: %s", r.body);
    iresp_free(&r);
    struct poll_reviews pr = {seller.id};
    cr_assert(itest_poll(10000, has_review, &pr), "the review reached the read model");
    get_page(fmt("/api/v1/users/%s/reviews?limit=1", seller.id), NULL);

    /* Renames: the seller's name reaches their listings, the buyer's their reviews. */
    r = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){seller.bearer, NULL},
                   "{\"display_name\":\"Renamed PlanSeller\"}");
    cr_assert_eq(r.status, 200, "rename: %s", r.body);
    long long rename_seq = seq_of(&r);
    iresp_free(&r);
    r = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){buyer.bearer, NULL},
                   "{\"display_name\":\"Renamed PlanBuyer\"}");
    cr_assert_eq(r.status, 200, "rename: %s", r.body);
    long long buyer_seq = seq_of(&r);
    iresp_free(&r);
    settle(a, rename_seq);                                        /* the seller's name on a listing */
    settle_path(fmt("/api/v1/users/%s", buyer.id), buyer_seq);   /* then the reviews' renaming */
    struct poll_reviews renamed = {seller.id};
    cr_assert(itest_poll(10000, review_renamed, &renamed), "the reviewer's new name reached the review");

    /* Insights (query/insights.c, projector/views.c): price insights over a category with a
     * sale and over a parent category with a condition, similar items (the category, then its
     * parent), and a counted view that the projector's fold job sets on the listing. */
    get_page("/api/v1/categories/furniture/price-insights", NULL);
    get_page("/api/v1/categories/electronics/price-insights?condition=good&currency=EUR", NULL);
    get_page(fmt("/api/v1/listings/%s/similar?limit=24", a), NULL);
    get_page(fmt("/api/v1/listings/%s/similar?limit=1", b), NULL);
    get_page(fmt("/api/v1/listings/%s", b), fan.bearer);
    cr_assert(itest_poll(15000, viewed_once, b), "the view of b was folded into the read model");

    profile_level(db, 0);

    /* Every profiled operation on a read-model collection since the start. */
    mongoc_collection_t *profile = mongoc_database_get_collection(db, "system.profile");
    bson_t *filter = BCON_NEW("ts", "{", "$gte", BCON_DATE_TIME(start_ms), "}");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(profile, filter, NULL, NULL);
    const bson_t *doc;
    int scans = 0, checked = 0, browse = 0, counts = 0, listing_updates = 0, favorites = 0, reviews = 0,
        review_updates = 0, insights = 0, similar = 0, view_reads = 0, view_updates = 0, feeds = 0,
        unread_counts = 0, favouriters = 0, near = 0, near_words = 0;
    char failures[8192] = "", geo_failures[4096] = "";
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        const char *ns = bson_iter_init_find(&it, doc, "ns") && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL)
                                                                                          : "";
        const char *op = bson_iter_init_find(&it, doc, "op") && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL)
                                                                                          : "";
        const char *plan = bson_iter_init_find(&it, doc, "planSummary") && BSON_ITER_HOLDS_UTF8(&it)
                               ? bson_iter_utf8(&it, NULL)
                               : NULL;
        if (strncmp(ns, "market.", 7) != 0 || plan == NULL) {
            continue;
        }
        const char *name = ns + 7;
        bool read_model = false;
        for (size_t i = 0; READ_MODEL[i] != NULL; i++) {
            read_model = read_model || strcmp(name, READ_MODEL[i]) == 0;
        }
        if (!read_model) {
            continue;
        }
        checked++;
        char *json = bson_as_relaxed_extended_json(doc, NULL);
        if (strncmp(plan, "COLLSCAN", 8) == 0) {
            scans++;
            size_t used = strlen(failures);
            snprintf(failures + used, sizeof(failures) - used, "\n  %s", json);
        }
        bool aggregate = strstr(json, "\"aggregate\"") != NULL;
        if (strcmp(name, "listings") == 0) {
            browse += aggregate && strstr(json, "\"status\" : \"active\"") != NULL;
            if (aggregate && strstr(json, "\"$geoNear\"") != NULL) {
                geo_near_plan(json, plan, &near, &near_words, geo_failures, sizeof(geo_failures));
            }
            counts += aggregate && strstr(json, "\"$group\"") != NULL;
            listing_updates += strcmp(op, "update") == 0 && strstr(json, "\"seller_id\"") != NULL;
            insights += aggregate && strstr(json, "\"$push\"") != NULL;
            similar += aggregate && strstr(json, "\"$ne\"") != NULL;
            view_reads += strcmp(op, "query") == 0 && strstr(json, "\"$in\"") != NULL;
            view_updates += strcmp(op, "update") == 0 && strstr(json, "\"views\"") != NULL;
        } else if (strcmp(name, "favorites") == 0) {
            favorites += strcmp(op, "query") == 0 && strstr(json, "\"user_id\"") != NULL;
            favouriters += strcmp(op, "query") == 0 && strstr(json, "\"listing_id\"") != NULL;
        } else if (strcmp(name, "notifications") == 0) {
            feeds += strcmp(op, "query") == 0 && strstr(json, "\"user_id\"") != NULL;
            unread_counts += aggregate && strstr(json, "\"$group\"") != NULL && strstr(json, "\"read\" : false") != NULL;
        } else if (strcmp(name, "reviews") == 0) {
            reviews += strcmp(op, "query") == 0;
            review_updates += strcmp(op, "update") == 0 && strstr(json, "reviewer.id") != NULL;
        }
        bson_free(json);
    }
    bson_error_t err;
    cr_assert(!mongoc_cursor_error(cur, &err), "read system.profile: %s", err.message);
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    mongoc_collection_destroy(profile);
    mongoc_database_destroy(db);
    mongoc_client_destroy(client);

    cr_expect_eq(scans, 0, "%d of %d read-model operations scanned a whole collection:%s", scans, checked, failures);
    cr_expect_str_empty(geo_failures, "near searches on another index than their compound 2dsphere one:%s", geo_failures);
    cr_expect_geq(near, 1, "near searches by distance profiled: %d", near);
    cr_expect_geq(near_words, 1, "near searches by distance with words profiled: %d", near_words);
    /* The profile saw every path (else the test proves nothing). */
    cr_expect_geq(browse, 10, "browse aggregations profiled: %d", browse);
    cr_expect_geq(counts, 3, "active-listing counts profiled: %d", counts);
    cr_expect_geq(listing_updates, 2, "seller-wide listing updates (rename, rating) profiled: %d", listing_updates);
    cr_expect_geq(favorites, 2, "favourites reads profiled: %d", favorites);
    cr_expect_geq(reviews, 1, "review reads profiled: %d", reviews);
    cr_expect_geq(favouriters, 1, "a listing's favouriters read (the price drop's fan-out) profiled: %d", favouriters);
    cr_expect_geq(feeds, 2, "notification feed reads (all, unread) profiled: %d", feeds);
    cr_expect_geq(unread_counts, 1, "unread notification counts profiled: %d", unread_counts);
    cr_expect_geq(review_updates, 1, "reviewer renames profiled: %d", review_updates);
    cr_expect_geq(insights, 4, "price-insight aggregations (sold and active, twice) profiled: %d", insights);
    cr_expect_geq(similar, 2, "similar-item candidate aggregations profiled: %d", similar);
    cr_expect_geq(view_reads, 2, "finds by _id $in (similar items, the views fold) profiled: %d", view_reads);
    cr_expect_geq(view_updates, 1, "views set by the fold job profiled: %d", view_updates);
}
