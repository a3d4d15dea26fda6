/* GET /api/v1/listings/{id} (read model), its HTML page GET /l/{id}, and GET /api/v1/categories
 * (reference data). */
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "domain/category.h"
#include "domain/session.h"
#include "query/cache.h"
#include "query/handlers.h"
#include "query/listing_page.h"
#include "query/readmodel.h"
#include "query/views.h"
#include "worker.h"

int
query_listing(struct request *r)
{
    struct worker *w = r->worker;
    const char *id = http_path_param(r, "id");
    if (!uuid_valid(id)) {
        /* ROUTE_OWN_LIMIT: this path ends before the pipeline that takes the limit. */
        int rc = worker_limit_take(r);
        return rc != MK_OK ? rc : http_fail(r, MK_ENOTFOUND, "no such listing");
    }
    char *key = arena_concat(r->arena, "cache:listing:", id, NULL);
    const bson_t *doc;
    struct viewer viewer;
    struct cached hit;
    int rc = cache_read_doc_via(r, key, views_cached_read, &viewer, "listings", id, &doc, &hit);
    if (hit.body != NULL) {
        views_count(r, id, views_body_seller(r, hit.body, hit.len), &viewer);
    }
    if (rc != MK_OK || doc == NULL) {
        return rc == MK_ENOTFOUND ? http_fail(r, rc, "no such listing") : rc;
    }
    const char *status = readmodel_str(doc, "status");
    if (status != NULL && strcmp(status, "deleted") == 0) {
        return http_fail(r, MK_ENOTFOUND, "no such listing");
    }
    if (status != NULL && strcmp(status, "draft") == 0) {
        /* A draft is its seller's alone; anyone else is told it does not exist. */
        struct session s;
        if (session_identify(r, &w->redis, w->cfg, &s) != MK_OK ||
            strcmp(s.user_id, readmodel_str(doc, "seller_id")) != 0) {
            return http_fail(r, MK_ENOTFOUND, "no such listing");
        }
        /* nginx adds `no-cache` to every answer of this location (query/cache.h). */
        http_set_header(r, "Cache-Control", "private");
        json_object *out = http_json_own(r, json_object_new_object());
        json_object_object_add(out, "listing", readmodel_listing_json(doc));
        return http_respond_json_etag(r, out, arena_sprintf(r->arena, "%lld", readmodel_int(doc, "version")));
    }
    views_count(r, id, readmodel_str(doc, "seller_id"), &viewer);
    json_object *out = http_json_own(r, json_object_new_object());
    json_object_object_add(out, "listing", readmodel_listing_json(doc));
    return cache_answer_doc(r, key, doc, out, arena_sprintf(r->arena, "%lld", readmodel_int(doc, "version")));
}

static int
page_respond(struct request *r, const struct page *p)
{
    http_set_header(r, "Content-Security-Policy", p->csp);
    http_respond_raw(r, p->status, "text/html; charset=utf-8", p->html, p->len);
    if (p->status != 200) {
        http_set_header(r, "Cache-Control", "no-store");
        return MK_OK;
    }
    cache_public_headers(r);
    return http_etag_body(r, NULL);
}

/* The listing in the API's shape: the Redis entry of GET /api/v1/listings/{id} when it is
 * fresh enough, else the read model. NULL (and *rc) when there is none or on an error. */
static json_object *
page_listing(struct request *r, const char *id, int *rc)
{
    long long min_seq;
    *rc = readmodel_min_seq(r, &min_seq);
    if (*rc != MK_OK) {
        return NULL;
    }
    struct cached c;
    if (cache_get(r, arena_sprintf(r->arena, "cache:listing:%s", id), &c) && c.seq >= min_seq) {
        json_object *doc = http_json_own(r, json_tokener_parse(arena_strndup(r->arena, c.body, c.len)));
        json_object *l;
        if (json_object_object_get_ex(doc, "listing", &l)) {
            return l;
        }
    }
    const bson_t *doc;
    *rc = readmodel_get(r, "listings", id, &doc);
    return *rc == MK_OK ? http_json_own(r, readmodel_listing_json(doc)) : NULL;
}

int
query_listing_page(struct request *r)
{
    struct worker *w = r->worker;
    const char *id = http_path_param(r, "id");
    struct page p;
    if (!uuid_valid(id)) {
        listing_page_not_found(r->arena, w->cfg->public_origin, &p);
        return page_respond(r, &p);
    }
    int rc;
    json_object *l = page_listing(r, id, &rc);
    if (l == NULL && rc != MK_ENOTFOUND) {
        return rc;
    }
    if (l == NULL) {
        listing_page_not_found(r->arena, w->cfg->public_origin, &p);
    } else {
        listing_page_render(r->arena, l, w->cfg->public_origin,
                            listing_page_origin_of(r->arena, w->cfg->s3_public_base_url), &p);
    }
    return page_respond(r, &p);
}

int
query_categories(struct request *r)
{
    struct worker *w = r->worker;
    const struct category_set *cats;
    int rc = worker_categories(w, r->arena, &cats);
    if (rc != MK_OK) {
        return rc == MK_EUNAVAILABLE ? http_fail(r, rc, "categories are unavailable; retry later") : rc;
    }
    json_object *doc = http_json_own(r, category_to_json(cats));
    http_set_header(r, "Cache-Control", "public, max-age=300");
    return http_respond_json_etag(r, doc, NULL);
}
