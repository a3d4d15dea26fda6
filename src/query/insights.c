/*
 * GET /categories/{slug}/price-insights and GET /listings/{id}/similar (API.md "Insights"),
 * from the read model. Both answers are cached in Redis for insights_cache_ttl_s under the
 * catalog generation, which the projector bumps after every batch that changes a listing,
 * so a sale shows at once and nothing is older than the TTL. README "Insights" says which
 * index serves each query.
 */
#include <ctype.h>
#include <string.h>
#include <sys/time.h>

#include "core/errors.h"
#include "core/ids.h"
#include "core/qstr.h"
#include "domain/category.h"
#include "domain/insights.h"
#include "query/cache.h"
#include "query/handlers.h"
#include "query/params.h"
#include "query/readmodel.h"
#include "worker.h"

static const char *const CONDITIONS[] = {"new", "like_new", "good", "fair", "poor", NULL};

/* Browsers revalidate both answers. Similar items are under nginx's micro-cached
 * /api/v1/listings/ (marketd-locations.conf), whose location says `no-cache` itself and keeps a
 * 200 unless told otherwise (cache_public_headers); price insights say it here. */
static void
freshness_headers(struct request *r, bool micro_cached)
{
    if (micro_cached) {
        cache_public_headers(r);
    } else {
        http_set_header(r, "Cache-Control", "no-cache");
    }
}

/*
 * The entry "<prefix>:<gen>:<rest>" read with the catalog generation in one round trip
 * (cache_get_gen): MK_OK (or 304) after answering from it, 1 on a miss with *key set to where
 * the answer goes (NULL when Redis cannot say the generation: then nothing is cached).
 */
static int
cached_answer(struct request *r, const char *prefix, const char *rest, bool micro_cached, const char **key)
{
    struct cached c;
    bool hit;
    char *k;
    cache_get_gen(r, prefix, rest, &k, &hit, &c);
    *key = k;
    if (hit) {
        freshness_headers(r, micro_cached);
        return cache_respond(r, &c);
    }
    return 1;
}

/* Answer doc (ETag over the body) and keep it under key (NULL: not cached). */
static int
answer(struct request *r, const char *key, bool micro_cached, json_object *doc)
{
    struct worker *w = r->worker;
    if (readmodel_rebuilding(r)) {
        http_set_header(r, "X-Read-Stale", "1");
        key = NULL;
    }
    freshness_headers(r, micro_cached);
    int rc = http_respond_json_etag(r, doc, NULL);
    if (rc == MK_OK && key != NULL) {
        cache_put(r, key, 0, http_response_header(r, "ETag"), r->out, r->out_len, w->cfg->insights_cache_ttl_s);
    }
    return rc;
}

/* The prices of one side ("active" listings created since, or "sold" ones sold since). */
static int
side_prices(struct request *r, const char *status, const char *since_field, long long since_us, const char *slug,
            const char *condition, const char *currency, struct price_stats *out)
{
    struct worker *w = r->worker;
    bson_t *pipeline = mongo_bson(r->arena), match, range;
    bson_t stage, group;
    BSON_APPEND_DOCUMENT_BEGIN(pipeline, "0", &stage);
    BSON_APPEND_DOCUMENT_BEGIN(&stage, "$match", &match);
    BSON_APPEND_UTF8(&match, "status", status);
    BSON_APPEND_UTF8(&match, "category_path", slug);
    BSON_APPEND_UTF8(&match, "currency", currency);
    if (condition != NULL) {
        BSON_APPEND_UTF8(&match, "condition", condition);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&match, since_field, &range);
    BSON_APPEND_INT64(&range, "$gte", since_us);
    bson_append_document_end(&match, &range);
    bson_append_document_end(&stage, &match);
    bson_append_document_end(pipeline, &stage);
    BSON_APPEND_DOCUMENT_BEGIN(pipeline, "1", &stage);
    BSON_APPEND_DOCUMENT_BEGIN(&stage, "$group", &group);
    BSON_APPEND_NULL(&group, "_id");
    BCON_APPEND(&group, "prices", "{", "$push", BCON_UTF8("$price_minor"), "}");
    bson_append_document_end(&stage, &group);
    bson_append_document_end(pipeline, &stage);
    const bson_t **docs;
    size_t ndocs;
    int rc = mongo_aggregate_all(&w->mongo, r->arena, "listings", pipeline, NULL, &docs, &ndocs);
    if (rc != MK_OK) {
        return rc;
    }
    size_t n = 0;
    long long *prices = NULL;
    bson_iter_t it, arr;
    if (ndocs == 1 && bson_iter_init_find(&it, docs[0], "prices") && BSON_ITER_HOLDS_ARRAY(&it) &&
        bson_iter_recurse(&it, &arr)) {
        size_t cap = 64;
        prices = arena_alloc(r->arena, cap * sizeof(*prices));
        while (bson_iter_next(&arr)) {
            if (n == cap) {
                long long *grown = arena_alloc(r->arena, 2 * cap * sizeof(*grown));
                memcpy(grown, prices, cap * sizeof(*grown));
                prices = grown, cap *= 2;
            }
            prices[n++] = (long long)bson_iter_as_int64(&arr);
        }
    }
    insights_percentiles(prices, n, out);
    return MK_OK;
}

static bool
one_of(const char *v, const char *const *allowed)
{
    for (const char *const *a = allowed; *a != NULL; a++) {
        if (strcmp(*a, v) == 0) {
            return true;
        }
    }
    return false;
}

int
query_price_insights(struct request *r)
{
    struct worker *w = r->worker;
    static const char *const allowed[] = {"condition", "currency", NULL};
    int rc = query_params_check(r, allowed);
    if (rc != MK_OK) {
        return rc;
    }
    const char *condition = http_query(r, "condition"), *currency = http_query(r, "currency");
    if (condition != NULL && !one_of(condition, CONDITIONS)) {
        return http_fail(r, MK_EBADPARAM, "condition: must be one of new, like_new, good, fair, poor");
    }
    if (currency == NULL) {
        currency = "EUR";
    } else if (strlen(currency) != 3 || !isupper((unsigned char)currency[0]) ||
               !isupper((unsigned char)currency[1]) || !isupper((unsigned char)currency[2])) {
        return http_fail(r, MK_EBADPARAM, "currency: must be an ISO 4217 code in upper case, like EUR");
    }
    const struct category_set *cats;
    if ((rc = worker_categories(w, r->arena, &cats)) != MK_OK) {
        return rc == MK_EUNAVAILABLE ? http_fail(r, rc, "categories are unavailable; retry later") : rc;
    }
    const char *slug = http_path_param(r, "slug");
    if (category_find(cats, slug) == NULL) {
        return http_fail(r, MK_ENOTFOUND, "no such category");
    }
    const char *key;
    const char *rest = arena_sprintf(r->arena, "%s:%s:%s", slug, condition != NULL ? condition : "-", currency);
    if ((rc = cached_answer(r, "cache:insights", rest, false, &key)) != 1) {
        return rc;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    long long since_us = ((long long)tv.tv_sec - INSIGHTS_WINDOW_DAYS * 86400LL) * 1000000LL;
    struct price_stats sold, active;
    if ((rc = side_prices(r, "sold", "sold_us", since_us, slug, condition, currency, &sold)) != MK_OK ||
        (rc = side_prices(r, "active", "created_us", since_us, slug, condition, currency, &active)) != MK_OK) {
        return rc == MK_EUNAVAILABLE ? http_fail(r, rc, "the read model is unavailable; retry later") : rc;
    }
    json_object *out = http_json_own(r, json_object_new_object());
    json_object_object_add(out, "category", json_object_new_string(slug));
    json_object_object_add(out, "condition", condition != NULL ? json_object_new_string(condition) : NULL);
    json_object_object_add(out, "currency", json_object_new_string(currency));
    json_object_object_add(out, "window_days", json_object_new_int(INSIGHTS_WINDOW_DAYS));
    json_object_object_add(out, "sold", insights_stats_json(&sold));
    json_object_object_add(out, "active", insights_stats_json(&active));
    return answer(r, key, false, out);
}

/* ---- similar items ------------------------------------------------------------------- */

static void
item_of(struct request *r, const bson_t *doc, struct similar_item *it)
{
    memset(it, 0, sizeof(*it));
    it->id = readmodel_str(doc, "_id");
    it->price_minor = readmodel_int(doc, "price_minor");
    it->currency = readmodel_str(doc, "currency");
    it->created_us = readmodel_int(doc, "created_us");
    it->has_geo = readmodel_double_pair(doc, "geo.coordinates", "0", &it->lon, "1", &it->lat);
    bson_iter_t i, arr;
    if (bson_iter_init_find(&i, doc, "title_words") && BSON_ITER_HOLDS_ARRAY(&i) && bson_iter_recurse(&i, &arr)) {
        size_t cap = 0;
        while (bson_iter_next(&arr)) {
            cap++;
        }
        it->words = arena_alloc(r->arena, (cap + 1) * sizeof(*it->words));
        bson_iter_recurse(&i, &arr);
        while (bson_iter_next(&arr) && it->nwords < cap) {
            if (BSON_ITER_HOLDS_UTF8(&arr)) {
                it->words[it->nwords++] = bson_iter_utf8(&arr, NULL);
            }
        }
    }
    if (bson_iter_init_find(&i, doc, "attributes") && BSON_ITER_HOLDS_DOCUMENT(&i)) {
        const uint8_t *data;
        uint32_t len;
        bson_t sub;
        bson_iter_document(&i, &len, &data);
        if (bson_init_static(&sub, data, len)) {
            it->attributes = http_json_own(r, readmodel_to_json(&sub));
        }
    }
}

/* The newest SIMILAR_CANDIDATES active listings under category slug, not the seller's. */
static int
candidates(struct request *r, const char *slug, const char *seller_id, const bson_t ***docs, size_t *n)
{
    struct worker *w = r->worker;
    bson_t *pipeline = BCON_NEW("0", "{", "$match", "{", "status", BCON_UTF8("active"), "category_path",
                                BCON_UTF8(slug), "seller_id", "{", "$ne", BCON_UTF8(seller_id), "}", "}", "}",
                                "1", "{", "$sort", "{", "created_us", BCON_INT32(-1), "}", "}",
                                "2", "{", "$limit", BCON_INT32(SIMILAR_CANDIDATES), "}",
                                "3", "{", "$project", "{", "title_words", BCON_INT32(1), "attributes", BCON_INT32(1),
                                "price_minor", BCON_INT32(1), "currency", BCON_INT32(1), "geo", BCON_INT32(1),
                                "created_us", BCON_INT32(1), "}", "}");
    int rc = mongo_aggregate_all(&w->mongo, r->arena, "listings", pipeline, NULL, docs, n);
    bson_destroy(pipeline);
    return rc;
}

/* The listings of ids[0..n) in that order, in the API's shape. */
static int
items_json(struct request *r, const struct similar_item *items, size_t n, json_object *arr)
{
    struct worker *w = r->worker;
    if (n == 0) {
        return MK_OK;
    }
    bson_t *filter = mongo_bson(r->arena), in, list;
    BSON_APPEND_DOCUMENT_BEGIN(filter, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &list);
    for (size_t i = 0; i < n; i++) {
        char k[16];
        const char *key;
        bson_uint32_to_string((uint32_t)i, &key, k, sizeof(k));
        bson_append_utf8(&list, key, -1, items[i].id, -1);
    }
    bson_append_array_end(&in, &list);
    bson_append_document_end(filter, &in);
    const bson_t **docs;
    size_t ndocs;
    int rc = mongo_find_all(&w->mongo, r->arena, "listings", filter, NULL, &docs, &ndocs);
    for (size_t i = 0; i < n && rc == MK_OK; i++) {
        for (size_t j = 0; j < ndocs; j++) {
            const char *id = readmodel_str(docs[j], "_id");
            if (id != NULL && strcmp(id, items[i].id) == 0) {
                json_object_array_add(arr, readmodel_listing_json(docs[j]));
                break;
            }
        }
    }
    return rc;
}

/* Rank the candidates of the listing's category (of its parent when the category has fewer
 * than limit) and answer the best limit. */
static int
similar_answer(struct request *r, const bson_t *doc, int limit, const char *key)
{
    struct worker *w = r->worker;
    const char *seller = readmodel_str(doc, "seller_id"), *category = readmodel_str(doc, "category");
    const bson_t **docs;
    size_t ndocs;
    int rc = candidates(r, category != NULL ? category : "", seller != NULL ? seller : "", &docs, &ndocs);
    const struct category_set *cats;
    if (rc == MK_OK && ndocs < (size_t)limit && worker_categories(w, r->arena, &cats) == MK_OK) {
        const struct category *c = category_find(cats, category);
        if (c != NULL && c->parent != NULL) {
            rc = candidates(r, c->parent, seller, &docs, &ndocs);
        }
    }
    if (rc != MK_OK) {
        return rc == MK_EUNAVAILABLE ? http_fail(r, rc, "the read model is unavailable; retry later") : rc;
    }
    struct similar_item target, *items = arena_alloc(r->arena, (ndocs + 1) * sizeof(*items));
    item_of(r, doc, &target);
    for (size_t i = 0; i < ndocs; i++) {
        item_of(r, docs[i], &items[i]);
    }
    insights_rank(&target, items, ndocs);
    json_object *out = http_json_own(r, json_object_new_object()), *arr = json_object_new_array();
    json_object_object_add(out, "items", arr);
    rc = items_json(r, items, ndocs < (size_t)limit ? ndocs : (size_t)limit, arr);
    if (rc != MK_OK) {
        return rc == MK_EUNAVAILABLE ? http_fail(r, rc, "the read model is unavailable; retry later") : rc;
    }
    return answer(r, key, true, out);
}

int
query_similar(struct request *r)
{
    static const char *const allowed[] = {"limit", NULL};
    int rc = query_params_check(r, allowed);
    if (rc != MK_OK) {
        return rc;
    }
    long long limit = SIMILAR_DEFAULT_LIMIT;
    const char *v = http_query(r, "limit");
    if (v != NULL && !qstr_int(v, 1, SIMILAR_MAX_LIMIT, &limit)) {
        return http_fail(r, MK_EBADPARAM, "limit: must be an integer from 1 to 24");
    }
    const char *id = http_path_param(r, "id");
    if (!uuid_valid(id)) {
        return http_fail(r, MK_ENOTFOUND, "no such listing");
    }
    const char *key;
    const char *rest = arena_sprintf(r->arena, "%s:%s", id, v != NULL ? v : "");
    if ((rc = cached_answer(r, "cache:similar", rest, true, &key)) != 1) {
        return rc;
    }
    const bson_t *doc;
    if ((rc = readmodel_get(r, "listings", id, &doc)) != MK_OK) {
        return rc == MK_ENOTFOUND ? http_fail(r, rc, "no such listing") : rc;
    }
    const char *status = readmodel_str(doc, "status");
    if (status == NULL || strcmp(status, "deleted") == 0 || strcmp(status, "draft") == 0) {
        return http_fail(r, MK_ENOTFOUND, "no such listing");
    }
    return similar_answer(r, doc, (int)limit, key);
}
