/* GET /api/v1/users/me/favorites: the caller's favourite listings, newest first (read model). */
#include <string.h>

#include "core/errors.h"
#include "domain/session.h"
#include "query/handlers.h"
#include "query/params.h"
#include "query/readmodel.h"
#include "worker.h"

/* The listings shown, by id: not deleted, and a draft only to its seller. */
struct shown {
    json_object *docs;
    const char *user_id;
};

static int
add_shown(const bson_t *doc, void *ctx)
{
    struct shown *sh = ctx;
    const char *status = readmodel_str(doc, "status");
    if (status == NULL || strcmp(status, "deleted") == 0 ||
        (strcmp(status, "draft") == 0 && strcmp(readmodel_str(doc, "seller_id"), sh->user_id) != 0)) {
        return MK_OK;
    }
    json_object_object_add(sh->docs, readmodel_str(doc, "_id"), readmodel_listing_json(doc));
    return MK_OK;
}

int
query_my_favorites(struct request *r)
{
    struct worker *w = r->worker;
    struct session s;
    int rc = worker_authenticate(r, &s);
    if (rc != MK_OK) {
        return rc;
    }
    static const char *const allowed[] = {"limit", "cursor", NULL};
    int limit;
    if ((rc = query_params_check(r, allowed)) != MK_OK || (rc = query_limit(r, &limit)) != MK_OK) {
        return rc;
    }
    char *scope = arena_sprintf(r->arena, "favorites:%s", s.user_id);
    json_object *after;
    if ((rc = query_cursor(r, scope, &after)) != MK_OK) {
        return rc;
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
    mongo_own(r->arena, filter);
    bson_t *opts = mongo_own(r->arena, BCON_NEW("sort", "{", "at", BCON_INT32(-1), "_id", BCON_INT32(-1), "}",
                                                "limit", BCON_INT64(limit + 1)));
    const bson_t **favs;
    size_t nfavs;
    if ((rc = mongo_find_all(&w->mongo, r->arena, "favorites", filter, opts, &favs, &nfavs)) != MK_OK) {
        return readmodel_fail(r, rc);
    }
    bool more = nfavs > (size_t)limit;
    int n = more ? limit : (int)nfavs;
    const char **ids = arena_alloc(r->arena, (size_t)(n + 1) * sizeof(*ids));
    for (int i = 0; i < n; i++) {
        ids[i] = readmodel_str(favs[i], "listing_id");
    }

    /* Their listings, in the favourites' order; deleted ones are left out. */
    struct shown shown = {http_json_own(r, json_object_new_object()), s.user_id};
    if (n > 0) {
        bson_t *q = mongo_own(r->arena, bson_new()), in, arr;
        BSON_APPEND_DOCUMENT_BEGIN(q, "_id", &in);
        BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
        for (int i = 0; i < n; i++) {
            char k[16];
            const char *key;
            bson_uint32_to_string((uint32_t)i, &key, k, sizeof(k));
            bson_append_utf8(&arr, key, -1, ids[i], -1);
        }
        bson_append_array_end(&in, &arr);
        bson_append_document_end(q, &in);
        if ((rc = mongo_find_each(&w->mongo, "listings", q, NULL, add_shown, &shown)) != MK_OK) {
            return readmodel_fail(r, rc);
        }
    }
    json_object *docs = shown.docs;
    json_object *out = http_json_own(r, json_object_new_object());
    json_object *items = json_object_new_array();
    json_object_object_add(out, "items", items);
    for (int i = 0; i < n; i++) {
        json_object *l;
        if (json_object_object_get_ex(docs, ids[i], &l)) {
            json_object_array_add(items, json_object_get(l));
        }
    }
    json_object *key = NULL;
    if (more) {
        key = http_json_own(r, json_object_new_array());
        json_object_array_add(key, json_object_new_string(readmodel_str(favs[n - 1], "at")));
        json_object_array_add(key, json_object_new_string(readmodel_str(favs[n - 1], "_id")));
    }
    json_object_object_add(out, "next_cursor", query_next_cursor(r, scope, key));
    http_set_header(r, "Cache-Control", "private, no-cache");
    return http_respond_json_etag(r, out, NULL);
}
