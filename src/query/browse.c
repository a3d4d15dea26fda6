/*
 * GET /api/v1/listings — browse and search the read model; GET /api/v1/users/{id}/listings
 * is the same with the seller fixed. Only active listings. Which MongoDB shape serves which
 * combination (see README, "Browse and search"):
 *
 *   sort=distance            $geoNear (first stage) with every filter, words included, in its
 *                            `query`; keyset on (distance, _id)
 *   near with another sort   $match with geo: {$geoWithin: {$centerSphere}} plus the filters
 *   q                        keywords: {$all: words} — a multikey array of folded words,
 *                            which works inside $geoNear's query where $text may not
 *   sort=relevance           score = 10 × words in the title + words anywhere, served tier by
 *                            tier: one $match per count of query words in the title (highest
 *                            first), newest first from an index, until the page is full
 *
 * Pages are cached in Redis under the catalog generation (query/cache.h) and by nginx for
 * a few seconds (X-Accel-Expires).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "domain/search.h"
#include "query/browse.h"
#include "query/cache.h"
#include "query/handlers.h"
#include "query/params.h"
#include "query/readmodel.h"
#include "worker.h"

#define EARTH_RADIUS_KM 6378.1

/* The pipeline is built as BSON (it was JSON text parsed by libbson: a tenth of a browse
 * miss's CPU in the query pool), the same bytes as that text gave (tests/unit/
 * test_browse_pipeline.c pins every shape): whole numbers are int32 when they fit, else
 * int64, and doubles keep libbson's reading of their exact "%.17g" text. */
#define DOC_BEGIN(b, k, c) bson_append_document_begin((b), (k), -1, (c))
#define ARR_BEGIN(b, k, c) bson_append_array_begin((b), (k), -1, (c))

/* The key of array element i. */
static const char *
idx_key(uint32_t i, char *buf, size_t len)
{
    const char *k;
    bson_uint32_to_string(i, &k, buf, len);
    return k;
}

static void
append_int(bson_t *b, const char *key, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX) {
        bson_append_int32(b, key, -1, (int32_t)v);
    } else {
        bson_append_int64(b, key, -1, v);
    }
}

/* A double that compares exactly (keyset comparisons need the same value back): as libbson
 * reads its "%.17g" text, which for a whole number below 1e17 is an integer. */
static void
append_exact(bson_t *b, const char *key, double d)
{
    char buf[40];
    snprintf(buf, sizeof(buf), "%.17g", d);
    if (isfinite(d) && strpbrk(buf, ".e") == NULL) {
        append_int(b, key, strtoll(buf, NULL, 10));
    } else {
        bson_append_double(b, key, -1, d);
    }
}

/* {op: [the query's words]} as member key of b. */
static void
append_words_op(bson_t *b, const char *key, const char *op, const struct search_query *q)
{
    bson_t doc, arr;
    char kb[16];
    DOC_BEGIN(b, key, &doc);
    ARR_BEGIN(&doc, op, &arr);
    for (size_t i = 0; i < q->nwords; i++) {
        bson_append_utf8(&arr, idx_key((uint32_t)i, kb, sizeof(kb)), -1, q->words[i], -1);
    }
    bson_append_array_end(&doc, &arr);
    bson_append_document_end(b, &doc);
}

static void
append_value(bson_t *b, const char *key, const struct category_value *v)
{
    switch (v->type) {
    case CATEGORY_INTEGER: append_int(b, key, v->u.i); break;
    case CATEGORY_NUMBER: append_exact(b, key, v->u.d); break;
    case CATEGORY_BOOLEAN: bson_append_bool(b, key, -1, v->u.b); break;
    default: bson_append_utf8(b, key, -1, v->u.s, -1);
    }
}

/* [lon, lat] as key of b. */
static void
append_point(bson_t *b, const char *key, const struct search_query *q)
{
    bson_t arr;
    ARR_BEGIN(b, key, &arr);
    append_exact(&arr, "0", q->lon);
    append_exact(&arr, "1", q->lat);
    bson_append_array_end(b, &arr);
}

/* geo: {$geoWithin: {$centerSphere: [[lon, lat], radius in radians]}} */
static void
append_geo_within(bson_t *m, const struct search_query *q)
{
    bson_t geo, within, sphere;
    DOC_BEGIN(m, "geo", &geo);
    DOC_BEGIN(&geo, "$geoWithin", &within);
    ARR_BEGIN(&within, "$centerSphere", &sphere);
    append_point(&sphere, "0", q);
    append_exact(&sphere, "1", q->radius_km / EARTH_RADIUS_KM);
    bson_append_array_end(&within, &sphere);
    bson_append_document_end(&geo, &within);
    bson_append_document_end(m, &geo);
}

/* The filter every shape shares, as members of the open document m. */
static void
append_filter(bson_t *m, const struct search_query *q, bool geo_within)
{
    bson_t sub, arr;
    char kb[16];
    bson_append_utf8(m, "status", -1, "active", -1);
    if (q->category != NULL) {
        bson_append_utf8(m, "category_path", -1, q->category, -1);
    }
    if (q->nconditions > 0) {
        DOC_BEGIN(m, "condition", &sub);
        ARR_BEGIN(&sub, "$in", &arr);
        for (size_t i = 0; i < q->nconditions; i++) {
            bson_append_utf8(&arr, idx_key((uint32_t)i, kb, sizeof(kb)), -1, q->conditions[i], -1);
        }
        bson_append_array_end(&sub, &arr);
        bson_append_document_end(m, &sub);
    }
    if (q->has_min || q->has_max) {
        DOC_BEGIN(m, "price_minor", &sub);
        if (q->has_min) {
            append_int(&sub, "$gte", q->min_price);
        }
        if (q->has_max) {
            append_int(&sub, "$lte", q->max_price);
        }
        bson_append_document_end(m, &sub);
    }
    if (q->currency != NULL) {
        bson_append_utf8(m, "currency", -1, q->currency, -1);
    }
    if (q->seller != NULL) {
        bson_append_utf8(m, "seller_id", -1, q->seller, -1);
    }
    for (size_t i = 0; i < q->nattrs; i++) {
        char path[128];
        snprintf(path, sizeof(path), "attributes.%s", q->attrs[i].name);
        append_value(m, path, &q->attrs[i].value);
    }
    if (q->nwords > 0) {
        append_words_op(m, "keywords", "$all", q);
    }
    if (geo_within) {
        append_geo_within(m, q);
    }
}

/* The sort keys of each order and their directions. */
static const char *const *
sort_keys(enum search_sort s, const int **dirs, int *n)
{
    static const char *const relevance[] = {"score", "created_us", "_id"};
    static const char *const newest[] = {"created_us", "_id"};
    static const char *const price[] = {"price_minor", "_id"};
    static const char *const distance[] = {"dist_m", "_id"};
    static const int down3[] = {-1, -1, -1}, down2[] = {-1, -1}, up2[] = {1, 1};
    switch (s) {
    case SORT_RELEVANCE: *dirs = down3; *n = 3; return relevance;
    case SORT_NEWEST: *dirs = down2; *n = 2; return newest;
    case SORT_PRICE_ASC: *dirs = up2; *n = 2; return price;
    case SORT_PRICE_DESC: *dirs = down2; *n = 2; return price;
    default: *dirs = up2; *n = 2; return distance;
    }
}

/* A cursor value as a filter operand under key (distances travel as exact decimal strings;
 * the rest as libbson reads json-c's text of them). */
static void
append_key_value(bson_t *b, const char *key, const struct search_query *q, int i)
{
    json_object *v = json_object_array_get_idx(q->after, (size_t)i);
    if (q->sort == SORT_DISTANCE && i == 0) {
        append_exact(b, key, strtod(json_object_get_string(v), NULL));
    } else {
        (void)readmodel_append_json(b, key, v);
    }
}

/* key: {op: cursor value i} */
static void
append_key_op(bson_t *b, const char *key, const char *op, const struct search_query *q, int i)
{
    bson_t doc;
    DOC_BEGIN(b, key, &doc);
    append_key_value(&doc, op, q, i);
    bson_append_document_end(b, &doc);
}

/* {$match: {$or: [{k1: {$lt: v1}}, {k1: v1, k2: {$lt: v2}}, ...]}} as stage `stage` of the
 * open array stages: strictly after the cursor's key in the sort's order. False when the
 * cursor does not fit the sort. */
static bool
append_after(bson_t *stages, const char *stage, const struct search_query *q)
{
    const int *dirs;
    int n;
    const char *const *keys = sort_keys(q->sort, &dirs, &n);
    if ((int)json_object_array_length(q->after) != n) {
        return false;
    }
    bson_t st, match, or, alt;
    char kb[16];
    DOC_BEGIN(stages, stage, &st);
    DOC_BEGIN(&st, "$match", &match);
    ARR_BEGIN(&match, "$or", &or);
    for (int i = 0; i < n; i++) {
        DOC_BEGIN(&or, idx_key((uint32_t)i, kb, sizeof(kb)), &alt);
        for (int j = 0; j < i; j++) {
            append_key_value(&alt, keys[j], q, j);
        }
        append_key_op(&alt, keys[i], dirs[i] < 0 ? "$lt" : "$gt", q, i);
        bson_append_document_end(&or, &alt);
    }
    bson_append_array_end(&match, &or);
    bson_append_document_end(&st, &match);
    bson_append_document_end(stages, &st);
    return true;
}

/* Relevance tiers. With n query words every match holds all n in keywords ($all), so the
 * score 10 × |title_words ∩ q| + |keywords ∩ q| is 10 t + n, t the number of query words in
 * the title: n + 1 values. Tier t is {the filter, "exactly t query words in the title"}
 * newest first — an index order ({status, title_words | keywords, created_us, _id}) — and
 * the tiers run from t = n down, so the page is (score desc, created_us desc, _id desc) as one
 * blocking sort over every match would give, but each query stops once the page is full. */
static long long
tier_score(const struct search_query *q, int t)
{
    return 10LL * t + (long long)q->nwords;
}

/* "exactly t of the query words in title_words": $all for t = n (which the title index
 * serves), $nin for t = 0, else the size of the intersection (a filter on fetched
 * documents; the keywords point still bounds the scan). */
static void
append_tier_condition(bson_t *m, const struct search_query *q, int t)
{
    if (t == (int)q->nwords || t == 0) {
        append_words_op(m, "title_words", t == (int)q->nwords ? "$all" : "$nin", q);
        return;
    }
    bson_t expr, eq, size, inter, sets, words;
    char kb[16];
    DOC_BEGIN(m, "$expr", &expr);
    ARR_BEGIN(&expr, "$eq", &eq);
    DOC_BEGIN(&eq, "0", &size);
    DOC_BEGIN(&size, "$size", &inter);
    ARR_BEGIN(&inter, "$setIntersection", &sets);
    bson_append_utf8(&sets, "0", -1, "$title_words", -1);
    ARR_BEGIN(&sets, "1", &words);
    for (size_t i = 0; i < q->nwords; i++) {
        bson_append_utf8(&words, idx_key((uint32_t)i, kb, sizeof(kb)), -1, q->words[i], -1);
    }
    bson_append_array_end(&sets, &words);
    bson_append_array_end(&inter, &sets);
    bson_append_document_end(&size, &inter);
    bson_append_document_end(&eq, &size);
    bson_append_int32(&eq, "1", -1, t);
    bson_append_array_end(&expr, &eq);
    bson_append_document_end(m, &expr);
}

/* Inside the cursor's tier: after (created_us, _id) in newest order, with created_us
 * also as a range so that the index scan starts at the cursor. */
static void
append_tier_after(bson_t *m, const struct search_query *q)
{
    bson_t or, alt;
    append_key_op(m, "created_us", "$lte", q, 1);
    ARR_BEGIN(m, "$or", &or);
    DOC_BEGIN(&or, "0", &alt);
    append_key_op(&alt, "created_us", "$lt", q, 1);
    bson_append_document_end(&or, &alt);
    DOC_BEGIN(&or, "1", &alt);
    append_key_op(&alt, "_id", "$lt", q, 2);
    bson_append_document_end(&or, &alt);
    bson_append_array_end(m, &or);
}

/* A relevance cursor: [score, created_us, _id] with an integer score and created_us. */
static bool
tier_cursor_ok(const struct search_query *q)
{
    return json_object_array_length(q->after) == 3 &&
           json_object_is_type(json_object_array_get_idx(q->after, 0), json_type_int) &&
           json_object_is_type(json_object_array_get_idx(q->after, 1), json_type_int) &&
           json_object_is_type(json_object_array_get_idx(q->after, 2), json_type_string);
}

/* The stages every pipeline ends with, from stage number `next` of the open array stages:
 * {$sort: {keys: dirs}}, {$limit: limit} and the projection: only the fields a page shows
 * (the API's listing members) and its cursor keys come back. A stored listing is mostly its
 * words arrays and GeoJSON point, which only the query reads: sending them was half the
 * reply's bytes, for the database to write and for the worker to read. */
static void
append_tail(bson_t *stages, uint32_t next, const char *const *keys, const int *dirs, int n, int limit)
{
    static const char *const cursor_keys[] = {"created_us", "dist_m"};
    bson_t stage, doc;
    char kb[16];
    DOC_BEGIN(stages, idx_key(next++, kb, sizeof(kb)), &stage);
    DOC_BEGIN(&stage, "$sort", &doc);
    for (int i = 0; i < n; i++) {
        bson_append_int32(&doc, keys[i], -1, dirs[i]);
    }
    bson_append_document_end(&stage, &doc);
    bson_append_document_end(stages, &stage);
    DOC_BEGIN(stages, idx_key(next++, kb, sizeof(kb)), &stage);
    bson_append_int32(&stage, "$limit", -1, limit);
    bson_append_document_end(stages, &stage);
    DOC_BEGIN(stages, idx_key(next, kb, sizeof(kb)), &stage);
    DOC_BEGIN(&stage, "$project", &doc);
    for (const char *const *f = readmodel_listing_fields(); *f != NULL; f++) {
        bson_append_int32(&doc, *f, -1, 1);
    }
    for (size_t i = 0; i < sizeof(cursor_keys) / sizeof(cursor_keys[0]); i++) {
        bson_append_int32(&doc, cursor_keys[i], -1, 1);
    }
    bson_append_document_end(&stage, &doc);
    bson_append_document_end(stages, &stage);
}

/* Tier t of a relevance query: [$match filter + tier (+ after the cursor), $sort newest, $limit]. */
static bson_t *
tier_pipeline(const struct search_query *q, int t, bool resume, int limit)
{
    static const char *const keys[] = {"created_us", "_id"};
    static const int dirs[] = {-1, -1};
    bson_t *p = bson_new(), stages, stage, m;
    ARR_BEGIN(p, "pipeline", &stages);
    DOC_BEGIN(&stages, "0", &stage);
    DOC_BEGIN(&stage, "$match", &m);
    append_filter(&m, q, q->near);
    append_tier_condition(&m, q, t);
    if (resume) {
        append_tier_after(&m, q);
    }
    bson_append_document_end(&stage, &m);
    bson_append_document_end(&stages, &stage);
    append_tail(&stages, 1, keys, dirs, 2, limit);
    bson_append_array_end(p, &stages);
    return p;
}

/* {$geoNear: {...}} with every filter in its query, as the open document stage's member. */
static void
append_geo_near(bson_t *stage, const struct search_query *q)
{
    bson_t g, near, query;
    DOC_BEGIN(stage, "$geoNear", &g);
    DOC_BEGIN(&g, "near", &near);
    bson_append_utf8(&near, "type", -1, "Point", -1);
    append_point(&near, "coordinates", q);
    bson_append_document_end(&g, &near);
    bson_append_utf8(&g, "distanceField", -1, "dist_m", -1);
    append_exact(&g, "maxDistance", q->radius_km * 1000.0);
    bson_append_bool(&g, "spherical", -1, true);
    bson_append_utf8(&g, "key", -1, "geo", -1);
    DOC_BEGIN(&g, "query", &query);
    append_filter(&query, q, false);
    bson_append_document_end(&g, &query);
    bson_append_document_end(stage, &g);
}

/* The aggregation pipeline of q (any order but relevance), as BSON {pipeline: [...]} for
 * libmongoc (caller destroys); NULL for a cursor that does not fit the sort. */
static bson_t *
build_pipeline(const struct search_query *q)
{
    bson_t *p = bson_new(), stages, stage, m;
    uint32_t next = 0;
    ARR_BEGIN(p, "pipeline", &stages);
    DOC_BEGIN(&stages, "0", &stage);
    if (q->sort == SORT_DISTANCE) {
        append_geo_near(&stage, q);
    } else {
        DOC_BEGIN(&stage, "$match", &m);
        append_filter(&m, q, q->near);
        bson_append_document_end(&stage, &m);
    }
    bson_append_document_end(&stages, &stage);
    next++;
    if (q->after != NULL && !append_after(&stages, "1", q)) {
        bson_append_array_end(p, &stages);
        bson_destroy(p);
        return NULL;
    }
    next += q->after != NULL;
    const int *dirs;
    int n;
    const char *const *keys = sort_keys(q->sort, &dirs, &n);
    append_tail(&stages, next, keys, dirs, n, q->limit + 1);
    bson_append_array_end(p, &stages);
    return p;
}

bson_t *
browse_pipeline(const struct search_query *q, int t, bool resume, int limit)
{
    return q->sort == SORT_RELEVANCE ? tier_pipeline(q, t, resume, limit) : build_pipeline(q);
}

/* The cursor key of a result document (score: its relevance tier's). */
static json_object *
key_of(const struct search_query *q, const bson_t *doc, long long score)
{
    json_object *key = json_object_new_array();
    double d;
    switch (q->sort) {
    case SORT_RELEVANCE:
        json_object_array_add(key, json_object_new_int64(score));
        json_object_array_add(key, json_object_new_int64(readmodel_int(doc, "created_us")));
        break;
    case SORT_NEWEST: json_object_array_add(key, json_object_new_int64(readmodel_int(doc, "created_us"))); break;
    case SORT_PRICE_ASC:
    case SORT_PRICE_DESC: json_object_array_add(key, json_object_new_int64(readmodel_int(doc, "price_minor"))); break;
    case SORT_DISTANCE: {
        char buf[40];
        readmodel_double(doc, "dist_m", &d);
        snprintf(buf, sizeof(buf), "%.17g", d);
        json_object_array_add(key, json_object_new_string(buf));
        break;
    }
    }
    json_object_array_add(key, json_object_new_string(readmodel_str(doc, "_id")));
    return key;
}

/* A page being filled: limit items, then the one more that says there is a next page. */
struct page {
    const struct search_query *q;
    struct readmodel_text text;   /* the page's JSON, items written from the BSON as they come */
    json_object *last_key;   /* the keyset of the limit-th item (owned), NULL before it */
    long long score;         /* relevance: the score of the tier being read */
    int n;
    bool more;
};

static int
add_item(const bson_t *doc, void *ctx)
{
    struct page *pg = ctx;
    const struct search_query *q = pg->q;
    if (pg->n == q->limit) {
        pg->more = true;
        return MONGO_STOP;
    }
    double km = 0;
    if (q->near) {
        double lat = 0, lon = 0;
        (void)readmodel_double_pair(doc, "location", "lat", &lat, "lon", &lon);
        km = round(search_distance_km(q->lat, q->lon, lat, lon) * 1000) / 1000;
    }
    /* The item written from the BSON straight into the page's text: no json-c object, no
     * buffer per item, no copy of the page into a json-c serialization. */
    readmodel_page_item(&pg->text, (size_t)pg->n, doc, q->near ? &km : NULL);
    if (++pg->n == q->limit) {
        /* The next cursor's key: only the last item of a full page can need one. */
        pg->last_key = key_of(q, doc, pg->score);
    }
    return MK_OK;
}

/* A relevance page: the tiers from the highest (or the cursor's) down until it is full. */
static int
relevance_page(struct request *r, struct page *pg)
{
    const struct search_query *q = pg->q;
    long long after = q->after != NULL ? json_object_get_int64(json_object_array_get_idx(q->after, 0)) : LLONG_MAX;
    int rc = MK_OK;
    for (int t = (int)q->nwords; t >= 0 && rc == MK_OK && !pg->more; t--) {
        pg->score = tier_score(q, t);
        if (pg->score > after) {
            continue;
        }
        bson_t *p = mongo_own(r->arena, tier_pipeline(q, t, pg->score == after, q->limit + 1 - pg->n));
        rc = mongo_aggregate_each(&r->worker->mongo, "listings", p, NULL, add_item, pg);
    }
    return rc;
}

static int
browse(struct request *r, const struct search_query *q)
{
    struct worker *w = r->worker;
    /* The generation is read before the query (with the page, in one round trip): a page
     * computed from older data is filed under an older generation, never under the current one. */
    unsigned char digest[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    char *text = arena_sprintf(r->arena, "%s|%d|%s", q->canonical, q->limit,
                               http_query(r, "cursor") != NULL ? http_query(r, "cursor") : "");
    crypto_hash_sha256(digest, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    char *key;
    bool hit;
    struct cached c;
    /* Admission: with cache_search_min_uses 2 a page is stored on its second miss (admit: it
     * was seen before); with no cache at all (TTL 0) there is nothing to count. */
    bool admit = w->cfg->cache_search_min_uses < 2 || w->cfg->cache_search_ttl_s <= 0;
    (void)cache_get_gen_seen(r, "cache:search", hex, w->cfg->cache_search_ttl_s, &key, &hit, &c, admit ? NULL : &admit);
    if (hit) {
        cache_public_headers(r);
        return cache_respond(r, &c);
    }
    bool relevance = q->sort == SORT_RELEVANCE;
    bson_t *pipeline = relevance ? NULL : build_pipeline(q);
    if (relevance ? q->after != NULL && !tier_cursor_ok(q) : pipeline == NULL) {
        return http_fail(r, MK_EBADPARAM, "cursor: is not a cursor of this query");
    }
    struct page pg = {.q = q};
    readmodel_page_begin(&pg.text, (size_t)q->limit);
    int rc = pipeline != NULL ? mongo_aggregate_each(&w->mongo, "listings", mongo_own(r->arena, pipeline), NULL,
                                                     add_item, &pg)
                              : relevance_page(r, &pg);
    json_object *last_key = pg.last_key;
    json_object *next = rc == MK_OK ? http_json_own(r, query_next_cursor(r, q->cursor_scope, pg.more ? last_key : NULL))
                                    : NULL;
    json_object_put(last_key);
    bool written = rc == MK_OK && readmodel_page_end(&pg.text, next);
    arena_cleanup_add(r->arena, free, pg.text.p);   /* the page's text lives as long as the request */
    if (rc != MK_OK) {
        return readmodel_fail(r, rc);
    }
    if (!written) {
        return http_fail(r, MK_EINTERNAL, NULL);
    }
    bool partial = readmodel_rebuilding(r);
    if (partial) {
        http_set_header(r, "X-Read-Stale", "1");   /* the rebuild has not reached everything yet */
    }
    cache_public_headers(r);
    /* The page's text is the body as it is (http_respond_json_etag would copy it). */
    http_respond_raw(r, 200, "application/json", pg.text.p, pg.text.len);
    rc = http_etag_body(r, NULL);
    if (key != NULL && !partial && admit) {
        cache_put(r, key, 0, http_response_header(r, "ETag"), r->out, r->out_len, w->cfg->cache_search_ttl_s);
    }
    return rc;
}

/* Parse r's parameters (typed by the category tree) and answer the page. */
static int
parse_and_browse(struct request *r)
{
    struct worker *w = r->worker;
    const struct category_set *cats;
    int rc = worker_categories(w, r->arena, &cats);
    if (rc != MK_OK) {
        return rc;
    }
    struct search_query q;
    if ((rc = search_parse(r, cats, w->cfg->cursor_secret, &q)) != MK_OK) {
        return rc;
    }
    return browse(r, &q);
}

int
query_browse(struct request *r)
{
    return parse_and_browse(r);
}

int
query_seller_listings(struct request *r)
{
    const char *id = http_path_param(r, "id");
    if (!uuid_valid(id)) {
        return http_fail(r, MK_ENOTFOUND, "no such user");
    }
    if (http_query(r, "seller") != NULL) {
        return http_fail(r, MK_EBADPARAM, "seller: unknown parameter (the path names the seller)");
    }
    /* The seller's active listings: browse with the seller fixed by the path. */
    struct http_param *params = arena_alloc(r->arena, (r->nquery + 1) * sizeof(*params));
    memcpy(params, r->query, r->nquery * sizeof(*params));
    params[r->nquery].name = (char *)"seller";
    params[r->nquery].value = (char *)id;
    r->query = params;
    r->nquery++;
    return parse_and_browse(r);
}
