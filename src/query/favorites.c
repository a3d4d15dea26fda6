/* GET /api/v1/users/me/favorites: the caller's favourite listings, newest first (read model). */
#include <string.h>

#include "core/errors.h"
#include "domain/search.h"
#include "domain/session.h"
#include "query/handlers.h"
#include "query/params.h"
#include "query/readmodel.h"
#include "worker.h"

#define FAVORITES_CURSOR_KIND 16

static void
destroy_bson(void *b)
{
    bson_destroy(b);
}

int
query_my_favorites(struct request *r)
{
    struct worker *w = r->worker;
    struct session s;
    int rc = session_authenticate(r, &w->redis, w->cfg, &s, NULL);
    if (rc != MK_OK) {
        return rc;
    }
    static const char *const allowed[] = {"limit", "cursor", NULL};
    int limit;
    if ((rc = query_params_check(r, allowed)) != MK_OK || (rc = query_limit(r, &limit)) != MK_OK) {
        return rc;
    }
    char *binding = arena_sprintf(r->arena, "favorites:%s", s.user_id);
    json_object *after = NULL;
    const char *cursor = http_query(r, "cursor");
    if (cursor != NULL && search_cursor_read(r, w->cfg->cursor_secret, FAVORITES_CURSOR_KIND, binding, cursor,
                                             &after) != MK_OK) {
        return MK_EBADPARAM;
    }

    /* The favourites, newest first, after the cursor. */
    bson_t *filter;
    if (after == NULL) {
        filter = BCON_NEW("user_id", BCON_UTF8(s.user_id), "active", BCON_BOOL(true));
    } else {
        const char *at = json_object_get_string(json_object_array_get_idx(after, 0));
        const char *id = json_object_get_string(json_object_array_get_idx(after, 1));
        filter = BCON_NEW("user_id", BCON_UTF8(s.user_id), "active", BCON_BOOL(true), "$or", "[", "{", "at", "{",
                          "$lt", BCON_UTF8(at), "}", "}", "{", "at", BCON_UTF8(at), "_id", "{", "$lt", BCON_UTF8(id),
                          "}", "}", "]");
    }
    arena_cleanup_add(r->arena, destroy_bson, filter);
    bson_t *opts = BCON_NEW("sort", "{", "at", BCON_INT32(-1), "_id", BCON_INT32(-1), "}", "limit",
                            BCON_INT64(limit + 1));
    arena_cleanup_add(r->arena, destroy_bson, opts);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(mongo_coll(&w->mongo, r->arena, "favorites"), filter,
                                                            opts, NULL);
    const char **ids = arena_alloc(r->arena, (size_t)(limit + 1) * sizeof(*ids));
    const char *last_at = NULL, *last_id = NULL;
    int n = 0;
    bool more = false;
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        if (n == limit) {
            more = true;
            break;
        }
        ids[n++] = arena_strdup(r->arena, readmodel_str(doc, "listing_id"));
        last_at = arena_strdup(r->arena, readmodel_str(doc, "at"));
        last_id = arena_strdup(r->arena, readmodel_str(doc, "_id"));
    }
    bson_error_t err;
    rc = mongoc_cursor_error(cur, &err) ? mongo_result(&err, "favorites") : MK_OK;
    mongoc_cursor_destroy(cur);
    if (rc != MK_OK) {
        return rc == MK_EUNAVAILABLE ? http_fail(r, rc, "the read model is unavailable; retry later") : rc;
    }

    /* Their listings, in the favourites' order; deleted ones are left out. */
    json_object *docs = http_json_own(r, json_object_new_object());
    if (n > 0) {
        bson_t in = BSON_INITIALIZER, arr, q = BSON_INITIALIZER;
        BSON_APPEND_DOCUMENT_BEGIN(&q, "_id", &in);
        BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
        for (int i = 0; i < n; i++) {
            char k[16];
            const char *key;
            bson_uint32_to_string((uint32_t)i, &key, k, sizeof(k));
            bson_append_utf8(&arr, key, -1, ids[i], -1);
        }
        bson_append_array_end(&in, &arr);
        bson_append_document_end(&q, &in);
        cur = mongoc_collection_find_with_opts(mongo_coll(&w->mongo, r->arena, "listings"), &q, NULL, NULL);
        while (mongoc_cursor_next(cur, &doc)) {
            const char *status = readmodel_str(doc, "status");
            if (status == NULL || strcmp(status, "deleted") == 0 ||
                (strcmp(status, "draft") == 0 && strcmp(readmodel_str(doc, "seller_id"), s.user_id) != 0)) {
                continue;
            }
            json_object_object_add(docs, readmodel_str(doc, "_id"), readmodel_listing_json(doc));
        }
        rc = mongoc_cursor_error(cur, &err) ? mongo_result(&err, "favorite listings") : MK_OK;
        mongoc_cursor_destroy(cur);
        bson_destroy(&q);
        if (rc != MK_OK) {
            return rc == MK_EUNAVAILABLE ? http_fail(r, rc, "the read model is unavailable; retry later") : rc;
        }
    }
    json_object *out = http_json_own(r, json_object_new_object());
    json_object *items = json_object_new_array();
    json_object_object_add(out, "items", items);
    for (int i = 0; i < n; i++) {
        json_object *l;
        if (json_object_object_get_ex(docs, ids[i], &l)) {
            json_object_array_add(items, json_object_get(l));
        }
    }
    json_object *next = NULL;
    if (more) {
        json_object *key = json_object_new_array();
        json_object_array_add(key, json_object_new_string(last_at));
        json_object_array_add(key, json_object_new_string(last_id));
        next = json_object_new_string(search_cursor_make(r->arena, w->cfg->cursor_secret, FAVORITES_CURSOR_KIND,
                                                         binding, key));
        json_object_put(key);
    }
    json_object_object_add(out, "next_cursor", next);
    http_set_header(r, "Cache-Control", "private, no-cache");
    return http_respond_json_etag(r, out, NULL);
}
