/*
 * GET /api/v1/users/{id}/reviews: the reviews a seller received, newest first, from the
 * MongoDB `reviews` collection (projector/review.c), keyset-paginated on (created_us, _id).
 */
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "query/handlers.h"
#include "query/params.h"
#include "query/readmodel.h"
#include "worker.h"

/* A read-model review in the API's shape. */
static json_object *
review_json(const bson_t *doc)
{
    json_object *o = json_object_new_object();
    json_object *reviewer = json_object_new_object();
    const char *name = readmodel_str(doc, "reviewer.display_name");
    json_object_object_add(reviewer, "id", json_object_new_string(readmodel_str(doc, "reviewer.id")));
    json_object_object_add(reviewer, "display_name", name != NULL ? json_object_new_string(name) : NULL);
    json_object_object_add(o, "id", json_object_new_string(readmodel_str(doc, "_id")));
    json_object_object_add(o, "order_id", json_object_new_string(readmodel_str(doc, "order_id")));
    json_object_object_add(o, "reviewer", reviewer);
    json_object_object_add(o, "rating", json_object_new_int((int)readmodel_int(doc, "rating")));
    const char *comment = readmodel_str(doc, "comment");
    json_object_object_add(o, "comment", json_object_new_string(comment != NULL ? comment : ""));
    json_object_object_add(o, "created_at", json_object_new_string(readmodel_str(doc, "created_at")));
    return o;
}

int
query_user_reviews(struct request *r)
{
    static const char *const allowed[] = {"cursor", "limit", NULL};
    struct worker *w = r->worker;
    const char *id = http_path_param(r, "id");
    if (!uuid_valid(id)) {
        return http_fail(r, MK_ENOTFOUND, "no such user");
    }
    int limit, rc;
    if ((rc = query_params_check(r, allowed)) != MK_OK || (rc = query_limit(r, &limit)) != MK_OK) {
        return rc;
    }
    const char *scope = arena_sprintf(r->arena, "reviews:%s", id);
    json_object *after;
    if ((rc = query_cursor(r, scope, &after)) != MK_OK) {
        return rc;
    }
    const bson_t *seller;
    rc = readmodel_get(r, "sellers", id, &seller);
    if (rc != MK_OK) {
        return rc == MK_ENOTFOUND ? http_fail(r, rc, "no such user") : rc;
    }

    bson_t *filter = mongo_own(r->arena, bson_new());
    BSON_APPEND_UTF8(filter, "seller_id", id);
    if (after != NULL) {
        /* After (after_us, after_id) in (created_us, _id) descending order. */
        long long after_us = json_object_get_int64(json_object_array_get_idx(after, 0));
        const char *after_id = json_object_get_string(json_object_array_get_idx(after, 1));
        bson_t or, a, b, lt1, lt2;
        BSON_APPEND_ARRAY_BEGIN(filter, "$or", &or);
        BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &a);
        BSON_APPEND_DOCUMENT_BEGIN(&a, "created_us", &lt1);
        BSON_APPEND_INT64(&lt1, "$lt", after_us);
        bson_append_document_end(&a, &lt1);
        bson_append_document_end(&or, &a);
        BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &b);
        BSON_APPEND_INT64(&b, "created_us", after_us);
        BSON_APPEND_DOCUMENT_BEGIN(&b, "_id", &lt2);
        BSON_APPEND_UTF8(&lt2, "$lt", after_id);
        bson_append_document_end(&b, &lt2);
        bson_append_document_end(&or, &b);
        bson_append_array_end(filter, &or);
    }
    bson_t *opts = mongo_own(r->arena, BCON_NEW("sort", "{", "created_us", BCON_INT32(-1), "_id", BCON_INT32(-1),
                                                "}", "limit", BCON_INT64(limit + 1)));
    const bson_t **found;
    size_t nfound;
    if ((rc = mongo_find_all(&w->mongo, r->arena, "reviews", filter, opts, &found, &nfound)) != MK_OK) {
        return readmodel_fail(r, rc);
    }
    bool more = nfound > (size_t)limit;
    size_t n = more ? (size_t)limit : nfound;
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object *items = json_object_new_array();
    json_object_object_add(doc, "items", items);
    for (size_t i = 0; i < n; i++) {
        json_object_array_add(items, review_json(found[i]));
    }
    json_object *key = NULL;
    if (more && n > 0) {
        key = http_json_own(r, json_object_new_array());
        json_object_array_add(key, json_object_new_int64(readmodel_int(found[n - 1], "created_us")));
        json_object_array_add(key, json_object_new_string(readmodel_str(found[n - 1], "_id")));
    }
    json_object_object_add(doc, "next_cursor", query_next_cursor(r, scope, key));
    /* A list is eventually consistent; it is not kept by nginx (no purge reaches it). */
    http_set_header(r, "Cache-Control", "no-cache");
    return http_respond_json(r, 200, doc);
}
