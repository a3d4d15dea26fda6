/*
 * The notification projection: outbox events → the `notifications` read model (one
 * document per notification: {_id, user_id, type, created_at, created_us, read, data}),
 * plus, for each new notification, its webhook deliveries in PostgreSQL (worked by the
 * deliverer role, never here). Who gets what is domain/notify.c's pure mapping; this file
 * adds what needs the stores: favouriters (the read model's `favorites`, as of this event
 * in the outbox order, so a rebuild finds the same ones), saved searches (PostgreSQL's
 * alerting searches that existed at the event's time) and the mark-read events.
 *
 * Exactly once: a notification's _id is derived from the event's identity and the
 * recipient (notify_id) and written with $setOnInsert, so replays, restarts and rebuilds
 * change nothing; the delivery insert is ON CONFLICT DO NOTHING, run again on a replay so a
 * crash between the two writes loses no delivery.
 */
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "domain/notify.h"
#include "domain/saved_search.h"
#include "projector/projections.h"
#include "store/mongo.h"
#include "worker.h"

#define COLLECTION "notifications"
#define FOLD_WINDOW_US (600LL * 1000000LL)   /* saved-search matches within 10 minutes fold into one item */

static const struct pg_stmt ENQUEUE = {
    "notify_enqueue",
    "INSERT INTO webhook_deliveries (webhook_id, notification_id, body) "
    "SELECT w.id, $2::uuid, $3 FROM webhooks w "
    "WHERE w.user_id = $1::uuid AND w.deleted_at IS NULL AND $4 = ANY (w.events) "
    "  AND w.created_at <= to_timestamp($5::bigint / 1000.0) "
    "ON CONFLICT (webhook_id, notification_id) DO NOTHING",
    5,
};

int
notify_indexes(struct projection_ctx *p, const char *coll)
{
    /* a user's feed, newest first (all, and unread); a saved search's latest item (folding) */
    bson_t *cmd = mongo_own(
        p->arena,
        BCON_NEW("createIndexes", BCON_UTF8(coll), "indexes", "[", "{", "key", "{", "user_id", BCON_INT32(1),
                 "created_us", BCON_INT32(-1), "_id", BCON_INT32(-1), "}", "name", BCON_UTF8("user_created"), "}",
                 "{", "key", "{", "user_id", BCON_INT32(1), "read", BCON_INT32(1), "created_us", BCON_INT32(-1), "_id",
                 BCON_INT32(-1), "}", "name", BCON_UTF8("user_read_created"), "}", "{", "key", "{",
                 "data.saved_search_id", BCON_INT32(1), "last_match_us", BCON_INT32(-1), "}", "name",
                 BCON_UTF8("saved_search_last"), "}", "]"));
    return mongo_write_command(p->mongo, coll, cmd);
}

bool
notify_wants(const char *event_type)
{
    return strncmp(event_type, "order.", 6) == 0 || strncmp(event_type, "offer.", 6) == 0 ||
           strcmp(event_type, "listing.created") == 0 || strcmp(event_type, "listing.updated") == 0 ||
           strcmp(event_type, "listing.relisted") == 0 || strcmp(event_type, "review.created") == 0 ||
           strcmp(event_type, "notification.read") == 0;
}

/* The webhook body {"type","created_at","data"} of a notification. */
static const char *
webhook_body(arena_t *a, const char *type, const char *created_at, json_object *data)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(type));
    json_object_object_add(o, "created_at", json_object_new_string(created_at));
    json_object_object_add(o, "data", json_object_get(data));
    const char *text = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return text;
}

static int
enqueue(struct projection_ctx *p, const struct outbox_row *ev, const char *id, const char *recipient,
        const char *type, const char *created_at, json_object *data)
{
    const char *values[] = {recipient, id, webhook_body(p->arena, type, created_at, data), type,
                            arena_sprintf(p->arena, "%lld", ev->created_ms)};
    return pg_exec(&p->w->pg, p->arena, &ENQUEUE, values, NULL);
}

/* Insert notification id unless it exists; extra (may be NULL) adds members to the new
 * document. Then its deliveries (again on a replay: idempotent). */
static int
put(struct projection_ctx *p, const struct outbox_row *ev, const char *id, const char *recipient, const char *type,
    json_object *data, const bson_t *extra)
{
    const char *created_at = http_rfc3339(p->arena, ev->created_ms / 1000);
    bson_t *bdata = bson_new_from_json((const uint8_t *)json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN),
                                       -1, NULL);
    if (bdata == NULL) {
        return MK_EINTERNAL;
    }
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, doc;
    BSON_APPEND_UTF8(&filter, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &doc);
    BSON_APPEND_UTF8(&doc, "user_id", recipient);
    BSON_APPEND_UTF8(&doc, "type", type);
    BSON_APPEND_UTF8(&doc, "created_at", created_at);
    BSON_APPEND_INT64(&doc, "created_us", ev->created_ms * 1000);
    BSON_APPEND_BOOL(&doc, "read", false);
    BSON_APPEND_DOCUMENT(&doc, "data", bdata);
    BSON_APPEND_INT64(&doc, "seq", ev->seq);
    if (extra != NULL) {
        bson_concat(&doc, extra);
    }
    bson_append_document_end(&update, &doc);
    bson_t *upsert = mongo_own(p->arena, BCON_NEW("upsert", BCON_BOOL(true)));
    int rc = mongo_update_one(p->mongo, COLLECTION, &filter, &update, upsert, NULL);
    bson_destroy(&filter);
    bson_destroy(&update);
    bson_destroy(bdata);
    return rc != MK_OK ? rc : enqueue(p, ev, id, recipient, type, created_at, data);
}

static int
put_target(struct projection_ctx *p, const struct outbox_row *ev, const char *recipient, const char *type,
           json_object *data)
{
    char id[37];
    notify_id(id, ev->aggregate_type, ev->aggregate_id, ev->version, ev->event_type, recipient, type);
    return put(p, ev, id, recipient, type, data, NULL);
}

struct fanout {
    const char **users;
    size_t n, cap;
    arena_t *arena;
};

static int
collect_user(const bson_t *doc, void *arg)
{
    struct fanout *f = arg;
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "user_id") || !BSON_ITER_HOLDS_UTF8(&it)) {
        return MK_OK;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap == 0 ? 64 : f->cap * 2;
        const char **users = arena_alloc(f->arena, cap * sizeof(*users));
        if (f->n > 0) {
            memcpy(users, f->users, f->n * sizeof(*users));
        }
        f->users = users;
        f->cap = cap;
    }
    f->users[f->n++] = arena_strdup(f->arena, bson_iter_utf8(&it, NULL));
    return MK_OK;
}

/* Everyone who favourites the listing (as the read model stands at this event), but the excluded. */
static int
fanout(struct projection_ctx *p, const struct outbox_row *ev, const struct notify_plan *plan)
{
    struct fanout f = {.arena = p->arena};
    bson_t *filter =
        mongo_own(p->arena, BCON_NEW("listing_id", BCON_UTF8(plan->fanout_listing), "active", BCON_BOOL(true)));
    int rc = mongo_find_each(p->mongo, "favorites", filter, NULL, collect_user, &f);
    for (size_t i = 0; i < f.n && rc == MK_OK; i++) {
        bool excluded = false;
        for (int k = 0; k < 2 && !excluded; k++) {
            excluded = plan->exclude[k] != NULL && strcmp(plan->exclude[k], f.users[i]) == 0;
        }
        if (!excluded) {
            rc = put_target(p, ev, f.users[i], plan->fanout_type, plan->fanout_data);
        }
    }
    return rc;
}

/* ---- saved searches ---------------------------------------------------------------- */

/* One match of listing_id by saved search ss_id (of user): folded into the search's last
 * item when that item's last match is at most 10 minutes older, else a new item. */
static int
match_one(struct projection_ctx *p, const struct outbox_row *ev, const char *ss_id, const char *user,
          const char *listing_id)
{
    long long at_us = ev->created_ms * 1000;
    const char *key = arena_sprintf(p->arena, "%s:%lld", listing_id, ev->version);
    long long seen = 0;
    bson_t *filter =
        mongo_own(p->arena, BCON_NEW("data.saved_search_id", BCON_UTF8(ss_id), "match_keys", BCON_UTF8(key)));
    int rc = mongo_count(p->mongo, COLLECTION, filter, NULL, &seen);
    if (rc != MK_OK || seen > 0) {
        return rc;   /* this activation was matched already (a replay) */
    }
    const bson_t *last = NULL;
    filter = mongo_own(p->arena, BCON_NEW("data.saved_search_id", BCON_UTF8(ss_id)));
    bson_t *opts =
        mongo_own(p->arena, BCON_NEW("sort", "{", "last_match_us", BCON_INT32(-1), "}", "limit", BCON_INT64(1)));
    rc = mongo_find_one(p->mongo, p->arena, COLLECTION, filter, opts, &last);
    if (rc != MK_OK && rc != MK_ENOTFOUND) {
        return rc;
    }
    bson_iter_t it;
    const char *last_id = last != NULL && bson_iter_init_find(&it, last, "_id") && BSON_ITER_HOLDS_UTF8(&it)
                              ? bson_iter_utf8(&it, NULL)
                              : NULL;
    long long last_us = last != NULL && bson_iter_init_find(&it, last, "last_match_us") ? bson_iter_as_int64(&it) : 0;
    if (last_id != NULL && at_us >= last_us && at_us - last_us <= FOLD_WINDOW_US) {
        bson_t *f = mongo_own(p->arena, BCON_NEW("_id", BCON_UTF8(last_id)));
        bson_t *u = mongo_own(p->arena, BCON_NEW("$addToSet", "{", "data.listing_ids", BCON_UTF8(listing_id),
                                                 "match_keys", BCON_UTF8(key), "}", "$set", "{", "read",
                                                 BCON_BOOL(false), "data.listing_id", BCON_UTF8(listing_id), "}",
                                                 "$max", "{", "last_match_us", BCON_INT64(at_us), "}"));
        return mongo_update_one(p->mongo, COLLECTION, f, u, NULL, NULL);
    }
    char id[37];
    notify_id(id, ev->aggregate_type, ev->aggregate_id, ev->version, ev->event_type, user,
              arena_sprintf(p->arena, "saved_search_match:%s", ss_id));
    json_object *data = json_object_new_object();
    arena_cleanup_add(p->arena, (arena_cleanup_fn)(void (*)(void))json_object_put, data);
    json_object *ids = json_object_new_array();
    json_object_array_add(ids, json_object_new_string(listing_id));
    json_object_object_add(data, "saved_search_id", json_object_new_string(ss_id));
    json_object_object_add(data, "listing_id", json_object_new_string(listing_id));
    json_object_object_add(data, "listing_ids", ids);
    bson_t *extra =
        mongo_own(p->arena, BCON_NEW("last_match_us", BCON_INT64(at_us), "match_keys", "[", BCON_UTF8(key), "]"));
    return put(p, ev, id, user, "saved_search_match", data, extra);
}

static int
match_saved_searches(struct projection_ctx *p, const struct outbox_row *ev, json_object *listing)
{
    if (p->fx != NULL && p->fx->no_alerts) {
        return MK_OK;   /* notify_prepare: no saved search alerts (as the batch started) */
    }
    const char *listing_id = json_object_get_string(json_object_object_get(listing, "id"));
    const char *seller = json_object_get_string(json_object_object_get(listing, "seller_id"));
    if (listing_id == NULL || seller == NULL) {
        return MK_OK;
    }
    const struct category_set *cats;
    struct saved_search_match *m = NULL;
    size_t n = 0;
    int rc = worker_categories(p->w, p->arena, &cats);
    if (rc == MK_OK) {
        rc = saved_search_find_matches(&p->w->pg, p->arena, cats, p->w->cfg->cursor_secret, listing, seller,
                                       ev->created_ms, &m, &n, NULL);
    }
    for (size_t i = 0; i < n && rc == MK_OK; i++) {
        rc = match_one(p, ev, m[i].id, m[i].user_id, listing_id);
    }
    return rc;
}

/* ---- mark read ------------------------------------------------------------------- */

static int
mark_read(struct projection_ctx *p, json_object *payload)
{
    const char *user = json_object_get_string(json_object_object_get(payload, "user_id"));
    json_object *ids = json_object_object_get(payload, "ids");
    if (user == NULL) {
        return MK_EBADPARAM;
    }
    bson_t filter = BSON_INITIALIZER, in, arr;
    BSON_APPEND_UTF8(&filter, "user_id", user);
    if (ids != NULL && json_object_is_type(ids, json_type_array)) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
        BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
        for (size_t i = 0; i < json_object_array_length(ids); i++) {
            char k[16];
            const char *key;
            bson_uint32_to_string((uint32_t)i, &key, k, sizeof(k));
            bson_append_utf8(&arr, key, -1, json_object_get_string(json_object_array_get_idx(ids, i)), -1);
        }
        bson_append_array_end(&in, &arr);
        bson_append_document_end(&filter, &in);
    } else {
        BSON_APPEND_BOOL(&filter, "read", false);
    }
    bson_t *update = mongo_own(p->arena, BCON_NEW("$set", "{", "read", BCON_BOOL(true), "}"));
    int rc = mongo_update_many(p->mongo, COLLECTION, &filter, update, NULL, NULL);
    bson_destroy(&filter);
    return rc;
}

int
project_notifications(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload)
{
    if (strcmp(ev->event_type, "notification.read") == 0) {
        return mark_read(p, payload);
    }
    struct notify_plan plan;
    notify_map(p->arena, ev->event_type, payload, &plan);
    int rc = MK_OK;
    for (size_t i = 0; i < plan.ndirect && rc == MK_OK; i++) {
        rc = put_target(p, ev, plan.direct[i].recipient, plan.direct[i].type, plan.direct[i].data);
    }
    if (rc == MK_OK && plan.fanout_type != NULL) {
        rc = fanout(p, ev, &plan);
    }
    if (rc == MK_OK && plan.match_saved_searches) {
        rc = match_saved_searches(p, ev, payload);
    }
    return rc;
}

/* Whether the batch's listing events need saved searches at all: one query per batch instead
 * of one per listing when no search alerts (the common case in a rebuild or a demo load).
 * The answer holds as of the batch's start, as each event's own lookup holds as of its
 * projection. */
int
notify_prepare(struct projection_ctx *p, const struct outbox_row *rows, int n)
{
    bool listings = false;
    for (int i = 0; i < n && !listings; i++) {
        listings = strncmp(rows[i].event_type, "listing.", 8) == 0;
    }
    bool any = true;
    int rc = listings ? saved_search_any_alert(&p->w->pg, p->arena, &any) : MK_OK;
    p->fx->no_alerts = rc == MK_OK && !any;
    return rc;
}
