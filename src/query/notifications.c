/*
 * GET /api/v1/users/me/notifications (the `notifications` read model, MongoDB), and the
 * private lists of the write model read through query_private_pg (read-your-writes on a
 * replica, query/private.h): GET /users/me/saved-searches,
 * GET /users/me/webhooks, GET /users/me/webhooks/{id}/deliveries.
 */
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "domain/saved_search.h"
#include "domain/session.h"
#include "domain/webhook.h"
#include "query/handlers.h"
#include "query/params.h"
#include "query/private.h"
#include "query/readmodel.h"
#include "store/mongo.h"
#include "worker.h"

/* Authenticate, check the parameters (allowed) and read limit. */
static int
me_list(struct request *r, struct session *s, const char *const *allowed, int *limit)
{
    int rc = worker_authenticate(r, s);
    if (rc != MK_OK || (rc = query_params_check(r, allowed)) != MK_OK) {
        return rc;
    }
    return limit != NULL ? query_limit(r, limit) : MK_OK;
}

static int
respond_private(struct request *r, json_object *doc)
{
    http_set_header(r, "Cache-Control", "private, no-store");
    return http_respond_json(r, 200, doc);
}

struct feed {
    json_object *items;
    int limit, n;
    long long last_us;
    const char *last_id;
    bool more;
    arena_t *arena;
};

static int
feed_item(const bson_t *doc, void *arg)
{
    struct feed *f = arg;
    if (f->n == f->limit) {
        f->more = true;
        return MONGO_STOP;
    }
    json_object *item = json_object_new_object();
    bson_iter_t it;
    json_object_object_add(item, "id", json_object_new_string(readmodel_str(doc, "_id")));
    json_object_object_add(item, "type", json_object_new_string(readmodel_str(doc, "type")));
    json_object_object_add(item, "created_at", json_object_new_string(readmodel_str(doc, "created_at")));
    json_object_object_add(item, "read",
                           json_object_new_boolean(bson_iter_init_find(&it, doc, "read") && bson_iter_as_bool(&it)));
    json_object *data = NULL;
    bson_t sub;
    if (bson_iter_init_find(&it, doc, "data") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        uint32_t len;
        const uint8_t *buf;
        bson_iter_document(&it, &len, &buf);
        if (bson_init_static(&sub, buf, len)) {
            data = readmodel_to_json(&sub);
        }
    }
    json_object_object_add(item, "data", data != NULL ? data : json_object_new_object());
    json_object_array_add(f->items, item);
    f->n++;
    f->last_us = readmodel_int(doc, "created_us");
    f->last_id = arena_strdup(f->arena, readmodel_str(doc, "_id"));
    return MK_OK;
}

int
query_notifications(struct request *r)
{
    static const char *const allowed[] = {"unread", "cursor", "limit", NULL};
    struct worker *w = r->worker;
    struct session s;
    int limit;
    int rc = me_list(r, &s, allowed, &limit);
    if (rc != MK_OK) {
        return rc;
    }
    const char *unread = http_query(r, "unread");
    if (unread != NULL && strcmp(unread, "true") != 0 && strcmp(unread, "false") != 0) {
        return http_fail(r, MK_EBADPARAM, "unread: must be true or false");
    }
    bool only_unread = unread != NULL && strcmp(unread, "true") == 0;
    const char *scope = arena_sprintf(r->arena, "notifications:%d:%s", only_unread, s.user_id);
    long long after_us;
    const char *after_id;
    if ((rc = query_keyset_cursor(r, scope, &after_us, &after_id)) != MK_OK) {
        return rc;
    }
    bson_t *filter = mongo_own(r->arena, BCON_NEW("user_id", BCON_UTF8(s.user_id)));
    if (only_unread) {
        BSON_APPEND_BOOL(filter, "read", false);
    }
    if (after_id != NULL) {
        bson_t *after = BCON_NEW("$or", "[", "{", "created_us", "{", "$lt", BCON_INT64(after_us), "}", "}", "{",
                                 "created_us", BCON_INT64(after_us), "_id", "{", "$lt", BCON_UTF8(after_id), "}", "}",
                                 "]");
        bson_concat(filter, after);
        bson_destroy(after);
    }
    bson_t *opts = mongo_own(r->arena, BCON_NEW("sort", "{", "created_us", BCON_INT32(-1), "_id", BCON_INT32(-1), "}",
                                                "limit", BCON_INT64(limit + 1)));
    json_object *doc = http_json_own(r, json_object_new_object());
    struct feed f = {.items = json_object_new_array(), .limit = limit, .arena = r->arena};
    json_object_object_add(doc, "items", f.items);
    rc = mongo_find_each(&w->mongo, "notifications", filter, opts, feed_item, &f);
    long long unread_count = 0;
    bson_t *count = mongo_own(r->arena, BCON_NEW("user_id", BCON_UTF8(s.user_id), "read", BCON_BOOL(false)));
    if (rc == MK_OK) {
        rc = mongo_count(&w->mongo, "notifications", count, NULL, &unread_count);
    }
    if (rc != MK_OK) {
        return rc == MK_EUNAVAILABLE ? http_fail(r, rc, "the read model is unavailable; retry later") : rc;
    }
    json_object *key = NULL;
    if (f.more) {
        key = http_json_own(r, json_object_new_array());
        json_object_array_add(key, json_object_new_int64(f.last_us));
        json_object_array_add(key, json_object_new_string(f.last_id));
    }
    json_object_object_add(doc, "next_cursor", query_next_cursor(r, scope, key));
    json_object_object_add(doc, "unread_count", json_object_new_int64(unread_count));
    return respond_private(r, doc);
}

/* {"items": items} */
static int
respond_items(struct request *r, json_object *items)
{
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "items", json_object_get(items));
    return respond_private(r, doc);
}

int
query_saved_searches(struct request *r)
{
    static const char *const allowed[] = {NULL};
    struct session s;
    json_object *items;
    int rc = me_list(r, &s, allowed, NULL);
    if (rc != MK_OK || (rc = saved_search_list(query_private_pg(r), r->arena, s.user_id, &items)) != MK_OK) {
        return rc;
    }
    return respond_items(r, items);
}

int
query_webhooks(struct request *r)
{
    static const char *const allowed[] = {NULL};
    struct session s;
    json_object *items;
    int rc = me_list(r, &s, allowed, NULL);
    if (rc != MK_OK || (rc = webhook_list(query_private_pg(r), r->arena, s.user_id, &items)) != MK_OK) {
        return rc;
    }
    return respond_items(r, items);
}

/* A delivery of the page: its public members, and its keyset position. */
struct delivery_item {
    json_object *json;
    long long key_us;
    const char *id;
};

static void
delivery_item(const void *items, size_t i, json_object **json, long long *key_us, const char **id)
{
    const struct delivery_item *d = (const struct delivery_item *)items + i;
    *json = d->json;
    *key_us = d->key_us;
    *id = d->id;
}

int
query_webhook_deliveries(struct request *r)
{
    static const char *const allowed[] = {"cursor", "limit", NULL};
    struct session s;
    int limit;
    const char *id = http_path_param(r, "id");
    if (!uuid_valid(id)) {
        return http_fail(r, MK_ENOTFOUND, "no such webhook");
    }
    int rc = me_list(r, &s, allowed, &limit);
    if (rc != MK_OK) {
        return rc;
    }
    const char *scope = arena_sprintf(r->arena, "deliveries:%s:%s", id, s.user_id);
    long long after_us;
    const char *after_id;
    json_object *rows;
    if ((rc = query_keyset_cursor(r, scope, &after_us, &after_id)) != MK_OK) {
        return rc;
    }
    rc = webhook_deliveries(query_private_pg(r), r->arena, s.user_id, id, limit, after_us, after_id, &rows);
    if (rc == MK_ENOTFOUND) {
        return http_fail(r, rc, "no such webhook");
    }
    if (rc != MK_OK) {
        return rc;
    }
    static const char *const keys[] = {"id", "notification_id", "status", "attempts", "next_retry_at", "created_at"};
    size_t n = json_object_array_length(rows);
    struct delivery_item *items = arena_alloc(r->arena, (n > 0 ? n : 1) * sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        json_object *row = json_object_array_get_idx(rows, i);
        items[i].key_us = json_object_get_int64(json_object_object_get(row, "created_us"));
        items[i].id = json_object_get_string(json_object_object_get(row, "id"));
        items[i].json = http_json_own(r, json_object_new_object());
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            json_object_object_add(items[i].json, keys[k], json_object_get(json_object_object_get(row, keys[k])));
        }
    }
    return query_respond_page(r, scope, items, n, limit, delivery_item);
}
