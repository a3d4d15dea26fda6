/*
 * Insights through nginx (API.md "Insights"): view counts (unique viewers per listing and
 * day, never the seller, repeats never), price insights checked against percentiles the test
 * computes from its own listings (a currency no other test uses keeps other listings out),
 * and similar items (exclusions, ranking, the parent category when the category has too
 * few). The test stack folds views every 300 ms (views_fold_ms), so polls end in seconds.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

TestSuite(insights, .timeout = 240);

#define BERLIN "{\"city\":\"Berlin\",\"country\":\"DE\",\"lat\":52.52,\"lon\":13.405}"
#define LISBON "{\"city\":\"Lisboa\",\"country\":\"PT\",\"lat\":38.72,\"lon\":-9.14}"
#define ADDRESS                                                                                                        \
    "{\"name\":\"Ada Lovelace\",\"line1\":\"Unter den Linden 1\",\"city\":\"Berlin\",\"postal_code\":\"10117\","       \
    "\"country\":\"DE\"}"

/* ---- helpers ------------------------------------------------------------------------------ */

/* A word no other listing has: letters and digits, not ending in "s" (search folds plurals);
 * a heap copy, kept for the test's life. */
static const char *
unique_word(void)
{
    static int counter;
    return strdup(itest_fmt("zq%dx%dx%ldk", (int)getpid(), ++counter, (long)time(NULL) % 100000));
}

/* A currency code (three upper-case letters) no other test uses: the listings' code is any
 * ISO 4217-shaped code. */
static void
unique_currency(char out[4])
{
    static int counter;
    unsigned v = (unsigned)getpid() * 31u + (unsigned)time(NULL) + (unsigned)(++counter) * 7919u;
    out[0] = 'Q';   /* no real code starts with Q but QAR; "Q" + two letters from the run */
    out[1] = (char)('A' + v % 26);
    out[2] = (char)('A' + (v / 26) % 26);
    out[3] = '\0';
    if (strcmp(out, "QAR") == 0) {
        out[2] = 'Z';
    }
}

/* printf into the heap, kept for the test's life (itest_fmt's buffers rotate). */
static char *
keep(const char *fmt, ...)
{
    va_list ap;
    char *out;
    va_start(ap, fmt);
    cr_assert(vasprintf(&out, fmt, ap) >= 0);
    va_end(ap);
    return out;
}

struct listing_spec {
    const char *title;
    const char *category;
    const char *condition;
    long long price;
    const char *currency;
    const char *location;
    const char *attributes;
    const char *status;       /* NULL: active */
};

/* Create a listing; id receives its id, *seq (may be NULL) its X-Event-Seq. */
static void
create(struct itest_user *seller, const struct listing_spec *s, char id[40], long long *seq)
{
    char *body = itest_fmt(
        "{\"title\":\"%s\",\"description\":\"An insights test listing\",\"category\":\"%s\",\"condition\":\"%s\","
        "\"price_minor\":%lld,\"currency\":\"%s\",\"location\":%s,\"attributes\":%s%s%s%s}",
        s->title, s->category, s->condition != NULL ? s->condition : "good", s->price,
        s->currency != NULL ? s->currency : "EUR", s->location != NULL ? s->location : BERLIN,
        s->attributes != NULL ? s->attributes : "{}", s->status != NULL ? ",\"status\":\"" : "",
        s->status != NULL ? s->status : "", s->status != NULL ? "\"" : "");
    struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){seller->bearer, NULL}, body);
    cr_assert_eq(r.status, 201, "create listing: %ld %s (%s)", r.status, r.body, body);
    snprintf(id, 40, "%s", ijson_str(r.json, "listing", "id", NULL));
    if (seq != NULL) {
        *seq = atoll(iresp_header(&r, "X-Event-Seq"));
    }
    iresp_free(&r);
}

/* Buy listing_id as buyer; order receives the order id, *seq its X-Event-Seq. */
static void
buy(struct itest_user *buyer, const char *listing_id, char order[40], long long *seq)
{
    char key[160];
    snprintf(key, sizeof(key), "Idempotency-Key: %s", itest_unique("insights"));
    struct iresp r =
        itest_http("POST", "/api/v1/orders", (const char *const[]){buyer->bearer, key, NULL},
                   itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":" ADDRESS "}", listing_id));
    cr_assert_eq(r.status, 201, "buy: %ld %s", r.status, r.body);
    snprintf(order, 40, "%s", ijson_str(r.json, "order", "id", NULL));
    *seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
}

/* Wait until the read model's listing has applied seq (X-Min-Seq, as the seller: no view). */
static void
wait_listing(struct itest_user *seller, const char *id, long long seq)
{
    struct iresp r = itest_http("GET", itest_fmt("/api/v1/listings/%s", id),
                                (const char *const[]){seller->bearer, itest_fmt("X-Min-Seq: %lld", seq), NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(iresp_header(&r, "X-Read-Stale"), "the projector did not apply seq %lld", seq);
    iresp_free(&r);
}

/* ---- views -------------------------------------------------------------------------------- */

/* The read model's views of a listing, read from MongoDB itself (no cache). */
static long long
mongo_views(const char *id)
{
    mongoc_client_t *m = itest_mongo();
    mongoc_collection_t *coll = mongoc_client_get_collection(m, "market", "listings");
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
    const bson_t *doc;
    long long v = -1;
    bson_iter_t it;
    if (mongoc_cursor_next(cur, &doc) && bson_iter_init_find(&it, doc, "views")) {
        v = bson_iter_as_int64(&it);
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(m);
    return v;
}

struct view_wait {
    struct itest_user *seller;
    const char *id;
    long long want, last;
};

/* The listing's views as its seller sees them (the seller's reads are never counted, and a
 * signed-in read bypasses nginx's cache). */
static long long
views_of(struct itest_user *seller, const char *id)
{
    struct iresp r =
        itest_http("GET", itest_fmt("/api/v1/listings/%s", id), (const char *const[]){seller->bearer, NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    long long v = ijson_int(r.json, "listing", "views", NULL);
    iresp_free(&r);
    return v;
}

/* The read model's count (what API.md bounds: at most 60 s behind; a cached answer shows it
 * when its shortened life ends, see README "Insights"). */
static bool
views_reached(void *arg)
{
    struct view_wait *w = arg;
    w->last = mongo_views(w->id);
    return w->last >= w->want;
}

/* A view: by a user (bearer) or anonymous with a user agent (X-Min-Seq: 1 bypasses nginx's
 * micro-cache, which would answer an anonymous read without the pool: such reads are not
 * counted, see README). */
static void
view(const char *id, const struct itest_user *u, const char *agent)
{
    const char *who = u != NULL ? u->bearer : itest_fmt("User-Agent: %s", agent);
    struct iresp r = itest_http("GET", itest_fmt("/api/v1/listings/%s", id),
                                (const char *const[]){who, "X-Min-Seq: 1", NULL}, NULL);
    cr_assert_eq(r.status, 200, "view: %ld %s", r.status, r.body);
    iresp_free(&r);
}

static long long
pg_uniques_today(const char *id)
{
    PGconn *c = itest_pg();
    const char *values[] = {id};
    PGresult *res = PQexecParams(c,
                                 "SELECT coalesce(sum(uniques), -1) FROM listing_views WHERE listing_id = $1::uuid "
                                 "AND day = (now() AT TIME ZONE 'UTC')::date",
                                 1, NULL, values, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    long long n = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(c);
    return n;
}

Test(insights, views_count_distinct_viewers_once_per_day_never_the_seller)
{
    struct itest_user seller, a, b, c;
    itest_user_new(&seller, "view-seller");
    itest_user_new(&a, "viewer-a");
    itest_user_new(&b, "viewer-b");
    itest_user_new(&c, "viewer-c");
    char id[40];
    long long seq;
    struct listing_spec s = {.title = "Viewed lamp", .category = "furniture", .price = 2500};
    create(&seller, &s, id, &seq);
    wait_listing(&seller, id, seq);
    cr_assert_eq(views_of(&seller, id), 0, "a new listing has no views");

    char agent1[160], agent2[160];   /* not itest_fmt's rotating buffers: they must stay put */
    snprintf(agent1, sizeof(agent1), "insights-agent-1-%s", itest_unique("ua"));
    snprintf(agent2, sizeof(agent2), "insights-agent-2-%s", itest_unique("ua"));
    for (int i = 0; i < 3; i++) {
        view(id, &a, NULL);          /* A three times: one viewer */
        view(id, &seller, NULL);     /* the seller: never */
        view(id, NULL, agent1);      /* an anonymous browser (address + agent) twice */
    }
    view(id, &b, NULL);
    view(id, NULL, agent2);
    struct view_wait w = {&seller, id, 4, 0};
    cr_assert(itest_poll(15000, views_reached, &w), "views did not reach 4 (last %lld)", w.last);
    cr_assert_eq(w.last, 4, "A, B and two anonymous browsers: 4 viewers, seen %lld", w.last);

    /* Repeats after the fold still count nothing; a new viewer afterwards counts one. Her
     * view is sent after the repeats, so once it shows, the repeats have been folded too. */
    view(id, &a, NULL);
    view(id, &b, NULL);
    view(id, &seller, NULL);
    view(id, NULL, agent1);
    /* The cached answer (the seller's read keeps one) would show the old count for its whole
     * life: give it an hour, and the fold must cut it back to under a minute. */
    redisContext *rc = itest_redis();
    freeReplyObject(redisCommand(rc, "DEL cache:listing:%s", id));   /* it holds the count of its time */
    cr_assert_eq(views_of(&seller, id), 4, "the listing's answer shows the count");
    redisReply *x = redisCommand(rc, "EXPIRE cache:listing:%s 3600", id);
    cr_assert(x != NULL && x->type == REDIS_REPLY_INTEGER && x->integer == 1, "the answer is cached");
    freeReplyObject(x);
    view(id, &c, NULL);
    w.want = 5;
    cr_assert(itest_poll(15000, views_reached, &w), "views did not reach 5 (last %lld)", w.last);
    cr_assert_eq(w.last, 5, "repeats were counted again: %lld", w.last);
    cr_assert_eq(pg_uniques_today(id), 5, "listing_views holds today's uniques");
    x = redisCommand(rc, "TTL cache:listing:%s", id);
    cr_assert(x != NULL && x->type == REDIS_REPLY_INTEGER && x->integer < 60,
              "the fold bounds the cached answer's life (TTL %lld)", x != NULL ? x->integer : -99);
    freeReplyObject(x);

    /* The day's HyperLogLog has an expiry (the fold job sets it): Redis does not grow forever. */
    char day[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y%m%d", &tm);
    redisReply *ttl = redisCommand(rc, "TTL views:%s:%s", id, day);
    cr_assert(ttl != NULL && ttl->type == REDIS_REPLY_INTEGER && ttl->integer > 0, "the HyperLogLog has no expiry");
    freeReplyObject(ttl);
    redisFree(rc);
}

Test(insights, views_lost_from_the_read_model_come_back_from_postgresql)
{
    /* The fold compares PostgreSQL's total with the read model's, so a read model that lost
     * its count (a rebuild starts at 0) gets it back on the next fold of that listing. */
    struct itest_user seller, a;
    itest_user_new(&seller, "view-seller-two");
    itest_user_new(&a, "viewer-two");
    char id[40];
    long long seq;
    struct listing_spec s = {.title = "Viewed chair", .category = "furniture", .price = 4100};
    create(&seller, &s, id, &seq);
    wait_listing(&seller, id, seq);
    view(id, &a, NULL);
    struct view_wait w = {&seller, id, 1, 0};
    cr_assert(itest_poll(15000, views_reached, &w), "views did not reach 1");
    cr_assert_eq(mongo_views(id), 1);

    mongoc_client_t *m = itest_mongo();
    mongoc_collection_t *coll = mongoc_client_get_collection(m, "market", "listings");
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id)), *update = BCON_NEW("$set", "{", "views", BCON_INT64(0), "}");
    bson_error_t err;
    cr_assert(mongoc_collection_update_one(coll, filter, update, NULL, NULL, &err), "%s", err.message);
    bson_destroy(filter);
    bson_destroy(update);
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(m);

    redisContext *rc = itest_redis();
    time_t now = time(NULL);
    struct tm tm;
    char day[16];
    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y%m%d", &tm);
    freeReplyObject(redisCommand(rc, "SADD views:dirty %s:%s", id, day));   /* what a rebuild does for every listing */
    redisFree(rc);
    bool back = false;
    double deadline = itest_now_ms() + 15000;
    while (!back && itest_now_ms() < deadline) {
        back = mongo_views(id) == 1;
    }
    cr_assert(back, "the count did not come back from PostgreSQL");
    cr_assert_eq(pg_uniques_today(id), 1);
}

/* ---- price insights ------------------------------------------------------------------------ */

static int
cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* Percentile p (25, 50, 75) of v[0..n) by linear interpolation between closest ranks, rounded
 * half up (computed independently of the server's code: in doubles). */
static long long
percentile(long long *v, size_t n, int p)
{
    qsort(v, n, sizeof(*v), cmp_ll);
    double rank = (double)(n - 1) * p / 100.0;
    size_t lo = (size_t)rank;
    double frac = rank - (double)lo;
    double x = lo + 1 < n ? (double)v[lo] + ((double)v[lo + 1] - (double)v[lo]) * frac : (double)v[lo];
    return (long long)(x + 0.5);
}

/* The expected {"count","p25_minor","median_minor","p75_minor"} of prices, as JSON text. */
static char *
stats_json(const long long *prices, size_t n)
{
    long long v[64];
    memcpy(v, prices, n * sizeof(*v));
    if (n < 5) {
        return itest_fmt("{\"count\":%zu,\"p25_minor\":null,\"median_minor\":null,\"p75_minor\":null}", n);
    }
    return itest_fmt("{\"count\":%zu,\"p25_minor\":%lld,\"median_minor\":%lld,\"p75_minor\":%lld}", n,
                     percentile(v, n, 25), percentile(v, n, 50), percentile(v, n, 75));
}

struct insight_wait {
    const char *path;
    char want[1024];
    char last[2048];
};

static bool
insight_is(void *arg)
{
    struct insight_wait *w = arg;
    struct iresp r = itest_http("GET", w->path, NULL, NULL);
    snprintf(w->last, sizeof(w->last), "%ld %s", r.status, r.body);
    bool ok = r.status == 200 && r.json != NULL &&
              strcmp(json_object_to_json_string_ext(r.json, JSON_C_TO_STRING_PLAIN), w->want) == 0;
    iresp_free(&r);
    return ok;
}

static void
expect_insights(const char *slug, const char *condition, const char *currency, const long long *sold, size_t nsold,
                const long long *active, size_t nactive)
{
    struct insight_wait w;
    w.path = condition != NULL
                 ? keep("/api/v1/categories/%s/price-insights?condition=%s&currency=%s", slug, condition, currency)
                 : keep("/api/v1/categories/%s/price-insights?currency=%s", slug, currency);
    char *sold_json = stats_json(sold, nsold);
    char *active_json = stats_json(active, nactive);
    snprintf(w.want, sizeof(w.want),
             "{\"category\":\"%s\",\"condition\":%s%s%s,\"currency\":\"%s\",\"window_days\":90,\"sold\":%s,"
             "\"active\":%s}",
             slug, condition != NULL ? "\"" : "", condition != NULL ? condition : "null",
             condition != NULL ? "\"" : "", currency, sold_json, active_json);
    cr_assert(itest_poll(15000, insight_is, &w), "%s\nwant %s\nlast %s", w.path, w.want, w.last);
}

Test(insights, price_insights_percentiles_filters_and_small_samples)
{
    struct itest_user seller, buyer;
    itest_user_new(&seller, "price-seller");
    itest_user_new(&buyer, "price-buyer");
    char cur[4];
    unique_currency(cur);

    /* Board games (under toys) in good condition, fair building sets (under toys too), and a
     * book in the same currency, which toys must not count. */
    static const long long good_prices[] = {1000, 1500, 2200, 3100, 4000, 7000, 1250, 2999, 5100, 6400, 800};
    static const long long fair_prices[] = {500, 900, 1333};
    enum { NGOOD = 11, NFAIR = 3 };
    char good[NGOOD][40], fair[NFAIR][40], book[40];
    long long seq = 0;
    for (int i = 0; i < NGOOD; i++) {
        struct listing_spec s = {.title = "Board game for insights", .category = "board_games", .condition = "good",
                                 .price = good_prices[i], .currency = cur};
        create(&seller, &s, good[i], &seq);
    }
    for (int i = 0; i < NFAIR; i++) {
        struct listing_spec s = {.title = "Building set for insights", .category = "building_sets",
                                 .condition = "fair", .price = fair_prices[i], .currency = cur};
        create(&seller, &s, fair[i], &seq);
    }
    struct listing_spec bs = {.title = "A book for insights", .category = "books", .condition = "good",
                              .price = 99999, .currency = cur, .attributes = "{\"author\":\"Anon\"}"};
    create(&seller, &bs, book, &seq);

    /* Sell the first six good ones and one fair one; cancel the sale of the sixth: it is
     * active again and its sale does not count. */
    char order[40];
    for (int i = 0; i < 6; i++) {
        buy(&buyer, good[i], order, &seq);
    }
    struct iresp r = itest_http("POST", itest_fmt("/api/v1/orders/%s/cancel", order),
                                (const char *const[]){buyer.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 200, "cancel: %s", r.body);
    seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    buy(&buyer, fair[0], order, &seq);
    wait_listing(&seller, fair[0], seq);

    long long sold_good[] = {1000, 1500, 2200, 3100, 4000};
    long long active_good[] = {7000, 1250, 2999, 5100, 6400, 800};
    long long sold_fair[] = {500};
    long long active_fair[] = {900, 1333};
    long long sold_all[] = {1000, 1500, 2200, 3100, 4000, 500};
    long long active_all[] = {7000, 1250, 2999, 5100, 6400, 800, 900, 1333};
    expect_insights("toys", NULL, cur, sold_all, 6, active_all, 8);
    expect_insights("toys", "good", cur, sold_good, 5, active_good, 6);
    expect_insights("toys", "fair", cur, sold_fair, 1, active_fair, 2);         /* small: nulls */
    expect_insights("board_games", NULL, cur, sold_good, 5, active_good, 6);
    expect_insights("building_sets", NULL, cur, sold_fair, 1, active_fair, 2);
    expect_insights("toys", "poor", cur, NULL, 0, NULL, 0);
    long long books_active[] = {99999};
    expect_insights("books", NULL, cur, NULL, 0, books_active, 1);
    char other[4];
    do {
        unique_currency(other);
    } while (strcmp(other, cur) == 0);
    expect_insights("toys", NULL, other, NULL, 0, NULL, 0);

    /* Fresh after a change: a price cut shows at once (the catalog generation). */
    r = itest_http("GET", itest_fmt("/api/v1/listings/%s", good[10]), (const char *const[]){seller.bearer, NULL}, NULL);
    const char *ifmatch = itest_fmt("If-Match: \"%lld\"", ijson_int(r.json, "listing", "version", NULL));
    iresp_free(&r);
    r = itest_http("PATCH", itest_fmt("/api/v1/listings/%s", good[10]), (const char *const[]){seller.bearer, ifmatch, NULL},
                   "{\"price_minor\":20000}");
    cr_assert_eq(r.status, 200, "patch: %s", r.body);
    iresp_free(&r);
    long long active_good2[] = {7000, 1250, 2999, 5100, 6400, 20000};
    expect_insights("toys", "good", cur, sold_good, 5, active_good2, 6);
}

Test(insights, price_insights_bad_parameters_and_unknown_slugs)
{
    static const char *const bad[] = {
        "/api/v1/categories/toys/price-insights?condition=mint",
        "/api/v1/categories/toys/price-insights?condition=",
        "/api/v1/categories/toys/price-insights?currency=eur",
        "/api/v1/categories/toys/price-insights?currency=EURO",
        "/api/v1/categories/toys/price-insights?currency=E%C3%9CR",
        "/api/v1/categories/toys/price-insights?colour=red",
        "/api/v1/categories/toys/price-insights?currency=EUR&currency=GBP",
        NULL,
    };
    for (const char *const *p = bad; *p != NULL; p++) {
        struct iresp r = itest_http("GET", *p, NULL, NULL);
        cr_expect_eq(r.status, 400, "%s: %ld %s", *p, r.status, r.body);
        cr_expect_str_eq(iresp_error_code(&r), "bad_parameter", "%s", *p);
        iresp_free(&r);
    }
    static const char *const missing[] = {"/api/v1/categories/no-such-category/price-insights",
                                          "/api/v1/categories/TOYS/price-insights", NULL};
    for (const char *const *p = missing; *p != NULL; p++) {
        struct iresp r = itest_http("GET", *p, NULL, NULL);
        cr_expect_eq(r.status, 404, "%s: %ld %s", *p, r.status, r.body);
        cr_expect_str_eq(iresp_error_code(&r), "not_found", "%s", *p);
        iresp_free(&r);
    }
    struct iresp r = itest_http("GET", "/api/v1/categories/toys/price-insights", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_str_eq(ijson_str(r.json, "currency", NULL), "EUR", "EUR by default");
    json_object *cond;
    cr_expect(json_object_object_get_ex(r.json, "condition", &cond) && cond == NULL, "condition is null when not asked");
    iresp_free(&r);
}

/* ---- similar items ------------------------------------------------------------------------- */

struct similar_wait {
    const char *path;
    const char *const *want;   /* ids expected first, in order */
    size_t nwant;
    const char *const *absent; /* ids that must not appear */
    size_t nabsent;
    char last[4096];
};

static bool
similar_is(void *arg)
{
    struct similar_wait *w = arg;
    struct iresp r = itest_http("GET", w->path, NULL, NULL);
    snprintf(w->last, sizeof(w->last), "%ld %.4000s", r.status, r.body);
    json_object *items;
    bool ok = r.status == 200 && json_object_object_get_ex(r.json, "items", &items);
    size_t n = ok ? json_object_array_length(items) : 0;
    ok = ok && n >= w->nwant;
    for (size_t i = 0; ok && i < w->nwant; i++) {
        ok = strcmp(ijson_str(json_object_array_get_idx(items, i), "id", NULL), w->want[i]) == 0;
    }
    for (size_t i = 0; ok && i < n; i++) {
        const char *id = ijson_str(json_object_array_get_idx(items, i), "id", NULL);
        const char *status = ijson_str(json_object_array_get_idx(items, i), "status", NULL);
        ok = strcmp(status, "active") == 0;
        for (size_t j = 0; ok && j < w->nabsent; j++) {
            ok = strcmp(id, w->absent[j]) != 0;
        }
    }
    iresp_free(&r);
    return ok;
}

/* Active textbooks listed by anyone but seller_id (what the category alone offers). */
static size_t
textbooks_of_others(const char *seller_id)
{
    struct iresp r = itest_http("GET", "/api/v1/listings?category=textbooks&limit=100", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_object *items;
    cr_assert(json_object_object_get_ex(r.json, "items", &items));
    size_t n = 0;
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        n += strcmp(ijson_str(json_object_array_get_idx(items, i), "seller_id", NULL), seller_id) != 0;
    }
    iresp_free(&r);
    return n;
}

Test(insights, similar_items_exclusions_ranking_and_the_parent_category)
{
    struct itest_user s1, s2, buyer;
    itest_user_new(&s1, "similar-seller-one");
    itest_user_new(&s2, "similar-seller-two");
    itest_user_new(&buyer, "similar-buyer");
    const char *w1 = unique_word(), *w2 = unique_word(), *w3 = unique_word(), *w4 = unique_word();
    const char *author = unique_word(), *subject = unique_word();
    char *mine_attrs = keep("{\"author\":\"%s\",\"subject\":\"%s\"}", author, subject);
    const char *other_attrs = "{\"author\":\"Somebody Else\",\"subject\":\"other things\"}";

    char target[40], own[40], a[40], g[40], b[40], p1[40], p2[40], n2[40], sold[40], elsewhere[40], draft[40];
    char parent[40];
    long long seq;
    struct listing_spec t = {keep("%s %s %s %s", w1, w2, w3, unique_word()), "textbooks", "good", 3000, "EUR", BERLIN,
                             mine_attrs, NULL};
    create(&s1, &t, target, &seq);
    /* the seller's other listing: never shown, however similar */
    struct listing_spec o = {t.title, "textbooks", "good", 3000, "EUR", BERLIN, mine_attrs, NULL};
    create(&s1, &o, own, &seq);
    /* (every title word of these is unique to this test: a common word like "textbook" would
     * rank other tests' listings among these) */
    /* ranked: three shared words; one word and two equal attributes; two words; one word at
     * a close price; one word at a far price; one word far away */
    struct listing_spec sa = {keep("%s %s %s manual", w1, w2, w3), "textbooks", "good", 3000, "EUR", BERLIN,
                              other_attrs, NULL};
    create(&s2, &sa, a, &seq);
    struct listing_spec sg = {keep("%s reader", w1), "textbooks", "good", 3000, "EUR", BERLIN, mine_attrs, NULL};
    create(&s2, &sg, g, &seq);
    struct listing_spec sb = {keep("%s %s guide", w1, w2), "textbooks", "good", 3000, "EUR", BERLIN, other_attrs,
                              NULL};
    create(&s2, &sb, b, &seq);
    struct listing_spec sp1 = {keep("%s primer", w1), "textbooks", "good", 3300, "EUR", BERLIN, other_attrs, NULL};
    create(&s2, &sp1, p1, &seq);
    struct listing_spec sp2 = {keep("%s workbook", w1), "textbooks", "good", 9000, "EUR", BERLIN, other_attrs,
                               NULL};
    create(&s2, &sp2, p2, &seq);
    struct listing_spec sn2 = {keep("%s notebook", w1), "textbooks", "good", 3300, "EUR", LISBON, other_attrs,
                               NULL};
    create(&s2, &sn2, n2, &seq);
    /* excluded: sold, another category, a draft */
    struct listing_spec ss = {t.title, "textbooks", "good", 3000, "EUR", BERLIN, mine_attrs, NULL};
    create(&s2, &ss, sold, &seq);
    struct listing_spec se = {t.title, "sofas", "good", 3000, "EUR", BERLIN, "{\"seats\":3}", NULL};
    create(&s2, &se, elsewhere, &seq);
    struct listing_spec sd = {t.title, "textbooks", "good", 3000, "EUR", BERLIN, mine_attrs, "draft"};
    create(&s2, &sd, draft, &seq);
    /* in the parent category (books), sharing four words: first when the parent is used */
    struct listing_spec sq = {keep("%s %s %s %s", w1, w2, w3, w4), "books", "good", 3000, "EUR", BERLIN,
                              keep("{\"author\":\"%s\"}", author), NULL};
    create(&s2, &sq, parent, &seq);
    char order[40];
    buy(&buyer, sold, order, &seq);
    wait_listing(&s2, sold, seq);

    const char *const absent[] = {target, own, sold, elsewhere, draft};
    const char *const ranked[] = {a, g, b, p1, p2, n2};

    /* limit=1: the category has candidates enough; the parent's listing stays out. */
    const char *const absent_parent[] = {target, own, sold, elsewhere, draft, parent};
    struct similar_wait w1w = {keep("/api/v1/listings/%s/similar?limit=1", target), ranked, 1, absent_parent, 6,
                               ""};
    cr_assert(itest_poll(15000, similar_is, &w1w), "limit=1: %s", w1w.last);

    /* limit=24: the parent is used when the category alone has fewer than 24 candidates. */
    size_t others = textbooks_of_others(s1.id);
    struct similar_wait w24 = {keep("/api/v1/listings/%s/similar?limit=24", target), ranked, 6, absent, 5, ""};
    if (others < 24) {
        const char *const with_parent[] = {parent, a, g, b, p1, p2, n2};
        w24.want = with_parent;
        w24.nwant = 7;
        cr_assert(itest_poll(15000, similar_is, &w24), "limit=24 (%zu candidates, parent): %s", others, w24.last);
    } else {
        const char *const without_parent[] = {a, g, b, p1, p2, n2};
        w24.want = without_parent;
        w24.absent = absent_parent;
        w24.nabsent = 6;
        cr_assert(itest_poll(15000, similar_is, &w24), "limit=24 (%zu candidates): %s", others, w24.last);
    }

    /* Default limit 12, at most 12 items. */
    struct iresp r = itest_http("GET", itest_fmt("/api/v1/listings/%s/similar", target), NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_object *items;
    cr_assert(json_object_object_get_ex(r.json, "items", &items));
    cr_expect(json_object_array_length(items) <= 12 && json_object_array_length(items) >= 6, "%s", r.body);
    iresp_free(&r);

    /* A sold listing leaves at once (within the TTL anyway: the generation changes). */
    buy(&buyer, a, order, &seq);
    wait_listing(&s2, a, seq);
    const char *const after[] = {g, b, p1, p2, n2};
    const char *const absent_after[] = {target, own, sold, elsewhere, draft, parent, a};
    struct similar_wait wa = {keep("/api/v1/listings/%s/similar?limit=1", target), after, 1, absent_after, 7, ""};
    cr_assert(itest_poll(15000, similar_is, &wa), "after a sale: %s", wa.last);
}

Test(insights, similar_items_bad_parameters_and_unknown_listings)
{
    struct itest_user s;
    itest_user_new(&s, "similar-params");
    char id[40], gone[40], draft[40];
    long long seq;
    struct listing_spec spec = {.title = "Parameter probe", .category = "books", .price = 1200,
                                .attributes = "{\"author\":\"Probe\"}"};
    create(&s, &spec, id, &seq);
    create(&s, &spec, gone, &seq);
    spec.status = "draft";
    create(&s, &spec, draft, &seq);
    struct iresp r = itest_http("DELETE", itest_fmt("/api/v1/listings/%s", gone), (const char *const[]){s.bearer, NULL},
                                NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    r = itest_http("GET", itest_fmt("/api/v1/listings/%s/similar", id),
                   (const char *const[]){itest_fmt("X-Min-Seq: %lld", seq), NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);

    static const char *const bad[] = {"limit=0", "limit=25", "limit=abc", "limit=-1", "limit=+3", "limit=", "n=3",
                                      "limit=3&limit=4", NULL};
    for (const char *const *q = bad; *q != NULL; q++) {
        r = itest_http("GET", itest_fmt("/api/v1/listings/%s/similar?%s", id, *q), NULL, NULL);
        cr_expect_eq(r.status, 400, "%s: %ld %s", *q, r.status, r.body);
        cr_expect_str_eq(iresp_error_code(&r), "bad_parameter", "%s", *q);
        iresp_free(&r);
    }
    const char *missing[] = {"00000000-0000-4000-8000-000000000000", "not-a-uuid", gone, draft, NULL};
    for (const char *const *m = missing; *m != NULL; m++) {
        r = itest_http("GET", itest_fmt("/api/v1/listings/%s/similar", *m),
                       (const char *const[]){itest_fmt("X-Min-Seq: %lld", seq), NULL}, NULL);
        cr_expect_eq(r.status, 404, "%s: %ld %s", *m, r.status, r.body);
        cr_expect_str_eq(iresp_error_code(&r), "not_found", "%s", *m);
        iresp_free(&r);
    }
    r = itest_http("GET", itest_fmt("/api/v1/listings/%s/similar?limit=24", id), NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
}
