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

/* JSON helpers: the pipeline is built with json-c (readable) and handed to libbson. */
#define J_OBJ() json_object_new_object()
#define J_STR(s) json_object_new_string(s)
#define J_ADD(o, k, v) json_object_object_add((o), (k), (v))

static json_object *
j_pair(const char *k, json_object *v)
{
    json_object *o = J_OBJ();
    J_ADD(o, k, v);
    return o;
}

/* A double that prints exactly (17 digits): keyset comparisons need the same value back. */
static json_object *
j_exact(double d)
{
    char buf[40];
    snprintf(buf, sizeof(buf), "%.17g", d);
    return json_object_new_double_s(d, buf);
}

static json_object *
j_words(const struct search_query *q)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < q->nwords; i++) {
        json_object_array_add(a, J_STR(q->words[i]));
    }
    return a;
}

static json_object *
j_value(const struct category_value *v)
{
    switch (v->type) {
    case CATEGORY_INTEGER: return json_object_new_int64(v->u.i);
    case CATEGORY_NUMBER: return j_exact(v->u.d);
    case CATEGORY_BOOLEAN: return json_object_new_boolean(v->u.b);
    default: return J_STR(v->u.s);
    }
}

/* The filter every shape shares. */
static json_object *
filter_of(const struct search_query *q, bool geo_within)
{
    json_object *m = J_OBJ();
    J_ADD(m, "status", J_STR("active"));
    if (q->category != NULL) {
        J_ADD(m, "category_path", J_STR(q->category));
    }
    if (q->nconditions > 0) {
        json_object *in = json_object_new_array();
        for (size_t i = 0; i < q->nconditions; i++) {
            json_object_array_add(in, J_STR(q->conditions[i]));
        }
        J_ADD(m, "condition", j_pair("$in", in));
    }
    if (q->has_min || q->has_max) {
        json_object *range = J_OBJ();
        if (q->has_min) {
            J_ADD(range, "$gte", json_object_new_int64(q->min_price));
        }
        if (q->has_max) {
            J_ADD(range, "$lte", json_object_new_int64(q->max_price));
        }
        J_ADD(m, "price_minor", range);
    }
    if (q->currency != NULL) {
        J_ADD(m, "currency", J_STR(q->currency));
    }
    if (q->seller != NULL) {
        J_ADD(m, "seller_id", J_STR(q->seller));
    }
    for (size_t i = 0; i < q->nattrs; i++) {
        char path[128];
        snprintf(path, sizeof(path), "attributes.%s", q->attrs[i].name);
        J_ADD(m, path, j_value(&q->attrs[i].value));
    }
    if (q->nwords > 0) {
        J_ADD(m, "keywords", j_pair("$all", j_words(q)));
    }
    if (geo_within) {
        json_object *centre = json_object_new_array(), *sphere = json_object_new_array();
        json_object_array_add(centre, j_exact(q->lon));
        json_object_array_add(centre, j_exact(q->lat));
        json_object_array_add(sphere, centre);
        json_object_array_add(sphere, j_exact(q->radius_km / EARTH_RADIUS_KM));
        J_ADD(m, "geo", j_pair("$geoWithin", j_pair("$centerSphere", sphere)));
    }
    return m;
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

/* A cursor value as a filter operand: distances travel as exact decimal strings. */
static json_object *
key_value(const struct search_query *q, int i, json_object *v)
{
    if (q->sort == SORT_DISTANCE && i == 0) {
        return j_exact(strtod(json_object_get_string(v), NULL));
    }
    return json_object_get(v);
}

/* {$or: [{k1: {$lt: v1}}, {k1: v1, k2: {$lt: v2}}, ...]}: strictly after the cursor's key
 * in the sort's order. NULL when the cursor does not fit the sort. */
static json_object *
after_filter(const struct search_query *q)
{
    const int *dirs;
    int n;
    const char *const *keys = sort_keys(q->sort, &dirs, &n);
    if ((int)json_object_array_length(q->after) != n) {
        return NULL;
    }
    json_object *or = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *alt = J_OBJ();
        for (int j = 0; j < i; j++) {
            J_ADD(alt, keys[j], key_value(q, j, json_object_array_get_idx(q->after, (size_t)j)));
        }
        J_ADD(alt, keys[i],
              j_pair(dirs[i] < 0 ? "$lt" : "$gt", key_value(q, i, json_object_array_get_idx(q->after, (size_t)i))));
        json_object_array_add(or, alt);
    }
    return j_pair("$match", j_pair("$or", or));
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
add_tier_condition(json_object *m, const struct search_query *q, int t)
{
    if (t == (int)q->nwords) {
        J_ADD(m, "title_words", j_pair("$all", j_words(q)));
        return;
    }
    if (t == 0) {
        J_ADD(m, "title_words", j_pair("$nin", j_words(q)));
        return;
    }
    json_object *inter = json_object_new_array(), *eq = json_object_new_array();
    json_object_array_add(inter, J_STR("$title_words"));
    json_object_array_add(inter, j_words(q));
    json_object_array_add(eq, j_pair("$size", j_pair("$setIntersection", inter)));
    json_object_array_add(eq, json_object_new_int(t));
    J_ADD(m, "$expr", j_pair("$eq", eq));
}

/* Inside the cursor's tier: after (created_us, _id) in newest order, with created_us
 * also as a range so that the index scan starts at the cursor. */
static void
add_tier_after(json_object *m, const struct search_query *q)
{
    json_object *created = json_object_array_get_idx(q->after, 1), *id = json_object_array_get_idx(q->after, 2);
    J_ADD(m, "created_us", j_pair("$lte", json_object_get(created)));
    json_object *or = json_object_new_array();
    json_object_array_add(or, j_pair("created_us", j_pair("$lt", json_object_get(created))));
    json_object_array_add(or, j_pair("_id", j_pair("$lt", json_object_get(id))));
    J_ADD(m, "$or", or);
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

/* The last stage of every browse pipeline: only the fields a page shows (the API's listing
 * members) and its cursor keys come back. A stored listing is mostly its words arrays and
 * GeoJSON point, which only the query reads: sending them was half the reply's bytes, for
 * the database to write and for the worker to read. */
static json_object *
page_projection(void)
{
    static const char *const keys[] = {"created_us", "dist_m"};
    json_object *p = J_OBJ();
    for (const char *const *f = readmodel_listing_fields(); *f != NULL; f++) {
        J_ADD(p, *f, json_object_new_int(1));
    }
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        J_ADD(p, keys[i], json_object_new_int(1));
    }
    return j_pair("$project", p);
}

static bson_t *
pipeline_bson(json_object *stages)
{
    json_object_array_add(stages, page_projection());
    json_object *doc = j_pair("pipeline", stages);
    bson_error_t err;
    bson_t *b = bson_new_from_json((const uint8_t *)json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN), -1,
                                   &err);
    json_object_put(doc);
    return b;
}

/* Tier t of a relevance query: [$match filter + tier (+ after the cursor), $sort newest, $limit]. */
static bson_t *
tier_pipeline(const struct search_query *q, int t, bool resume, int limit)
{
    json_object *m = filter_of(q, q->near);
    add_tier_condition(m, q, t);
    if (resume) {
        add_tier_after(m, q);
    }
    json_object *stages = json_object_new_array(), *sort = J_OBJ();
    json_object_array_add(stages, j_pair("$match", m));
    J_ADD(sort, "created_us", json_object_new_int(-1));
    J_ADD(sort, "_id", json_object_new_int(-1));
    json_object_array_add(stages, j_pair("$sort", sort));
    json_object_array_add(stages, j_pair("$limit", json_object_new_int(limit)));
    return pipeline_bson(stages);
}

/* The aggregation pipeline of q (any order but relevance), as BSON {pipeline: [...]} for
 * libmongoc (caller destroys). */
static bson_t *
build_pipeline(const struct search_query *q)
{
    json_object *stages = json_object_new_array();
    if (q->sort == SORT_DISTANCE) {
        json_object *coords = json_object_new_array();
        json_object_array_add(coords, j_exact(q->lon));
        json_object_array_add(coords, j_exact(q->lat));
        json_object *near = J_OBJ();
        J_ADD(near, "type", J_STR("Point"));
        J_ADD(near, "coordinates", coords);
        json_object *g = J_OBJ();
        J_ADD(g, "near", near);
        J_ADD(g, "distanceField", J_STR("dist_m"));
        J_ADD(g, "maxDistance", j_exact(q->radius_km * 1000.0));
        J_ADD(g, "spherical", json_object_new_boolean(1));
        J_ADD(g, "key", J_STR("geo"));
        J_ADD(g, "query", filter_of(q, false));
        json_object_array_add(stages, j_pair("$geoNear", g));
    } else {
        json_object_array_add(stages, j_pair("$match", filter_of(q, q->near)));
    }
    if (q->after != NULL) {
        json_object *after = after_filter(q);
        if (after == NULL) {
            json_object_put(stages);
            return NULL;
        }
        json_object_array_add(stages, after);
    }
    const int *dirs;
    int n;
    const char *const *keys = sort_keys(q->sort, &dirs, &n);
    json_object *sort = J_OBJ();
    for (int i = 0; i < n; i++) {
        J_ADD(sort, keys[i], json_object_new_int(dirs[i]));
    }
    json_object_array_add(stages, j_pair("$sort", sort));
    json_object_array_add(stages, j_pair("$limit", json_object_new_int(q->limit + 1)));
    return pipeline_bson(stages);
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
        json_object_array_add(key, J_STR(buf));
        break;
    }
    }
    json_object_array_add(key, J_STR(readmodel_str(doc, "_id")));
    return key;
}

/* A page being filled: limit items, then the one more that says there is a next page. */
struct page {
    const struct search_query *q;
    json_object *items;
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
        readmodel_double(doc, "location.lat", &lat);
        readmodel_double(doc, "location.lon", &lon);
        km = round(search_distance_km(q->lat, q->lon, lat, lon) * 1000) / 1000;
    }
    /* The item as text written from the BSON (readmodel_listing_item): the page is only
     * serialized. */
    json_object_array_add(pg->items, readmodel_listing_item(doc, q->near ? &km : NULL));
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
    (void)cache_get_gen(r, "cache:search", hex, &key, &hit, &c);
    if (hit) {
        cache_public_headers(r);
        return cache_respond(r, &c);
    }
    bool relevance = q->sort == SORT_RELEVANCE;
    bson_t *pipeline = relevance ? NULL : build_pipeline(q);
    if (relevance ? q->after != NULL && !tier_cursor_ok(q) : pipeline == NULL) {
        return http_fail(r, MK_EBADPARAM, "cursor: is not a cursor of this query");
    }
    json_object *out = http_json_own(r, json_object_new_object());
    struct page pg = {.q = q, .items = json_object_new_array()};
    J_ADD(out, "items", pg.items);
    int rc = pipeline != NULL ? mongo_aggregate_each(&w->mongo, "listings", mongo_own(r->arena, pipeline), NULL,
                                                     add_item, &pg)
                              : relevance_page(r, &pg);
    json_object *last_key = pg.last_key;
    bool more = pg.more;
    if (rc != MK_OK) {
        json_object_put(last_key);
        return readmodel_fail(r, rc);
    }
    J_ADD(out, "next_cursor", query_next_cursor(r, q->cursor_scope, more ? last_key : NULL));
    json_object_put(last_key);
    bool partial = readmodel_rebuilding(r);
    if (partial) {
        http_set_header(r, "X-Read-Stale", "1");   /* the rebuild has not reached everything yet */
    }
    cache_public_headers(r);
    rc = http_respond_json_etag(r, out, NULL);
    if (key != NULL && !partial) {
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
