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
 *
 * Once per batch (struct notify_batch): the favouriters of every listing the batch's events
 * fan out to are found at once when the batch starts, and the batch's favourite events keep
 * that copy as the read model would be at each event (the same version guard), so each event
 * still sees the favouriters as of its place in the outbox; the notifications are one bulk
 * of upserts and their deliveries one INSERT, sent before the checkpoint (projection_flush)
 * and before anything of the batch reads or updates the notifications (saved-search folding,
 * mark-read). A failure sends the batch again: every write is idempotent.
 */
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "domain/notify.h"
#include "domain/saved_search.h"
#include "projector/projections.h"
#include "query/readmodel.h"
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

/* The same for a batch's notifications: $1 a JSON array of {recipient, id, body, type, at}
 * (at: the event's time in ms), in the order they were made. */
static const struct pg_stmt ENQUEUE_MANY = {
    "notify_enqueue_many",
    "INSERT INTO webhook_deliveries (webhook_id, notification_id, body) "
    "SELECT w.id, d.id, d.body "
    "FROM ROWS FROM (json_to_recordset($1::json) AS (recipient uuid, id uuid, body text, type text, at bigint)) "
    "     WITH ORDINALITY AS d(recipient, id, body, type, at, ord) "
    "JOIN webhooks w ON w.user_id = d.recipient AND w.deleted_at IS NULL AND d.type = ANY (w.events) "
    "  AND w.created_at <= to_timestamp(d.at / 1000.0) "
    "ORDER BY d.ord, w.id "
    "ON CONFLICT (webhook_id, notification_id) DO NOTHING",
    1,
};

/* A favourite of one of the batch's fan-out listings, as the read model holds it. */
struct note_fav {
    const char *listing_id, *user_id;
    long long version;
    bool active;
    long next;                  /* index + 1 of the next favourite of the same listing, 0: none */
};

struct notify_batch {
    struct idset listings;      /* the listings the batch's events fan out to */
    struct note_fav *favs;      /* their favourites (all, active or not) */
    size_t nfav, capfav;
    struct idset fav_keys;      /* "listing_id user_id" of favs[i] at position i (fav_find) */
    long *fav_first, *fav_last; /* per listings[i]: index + 1 of its first and last favourite, 0: none */
    const bson_t **filters, **updates;   /* the notification upserts not yet sent */
    size_t n, cap;
    json_object *deliveries;    /* ENQUEUE_MANY's rows not yet sent */
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
    const char *body = webhook_body(p->arena, type, created_at, data);
    struct notify_batch *nb = p->fx != NULL ? p->fx->notes : NULL;
    if (nb != NULL) {
        json_object *row = json_object_new_object();
        json_object_object_add(row, "recipient", json_object_new_string(recipient));
        json_object_object_add(row, "id", json_object_new_string(id));
        json_object_object_add(row, "body", json_object_new_string(body));
        json_object_object_add(row, "type", json_object_new_string(type));
        json_object_object_add(row, "at", json_object_new_int64(ev->created_ms));
        json_object_array_add(nb->deliveries, row);
        return MK_OK;
    }
    const char *values[] = {recipient, id, body, type, arena_sprintf(p->arena, "%lld", ev->created_ms)};
    return pg_exec(&p->w->pg, p->arena, &ENQUEUE, values, NULL);
}

/* An upsert of the notifications collection: sent now, or with the batch's (notify_send). */
static int
upsert(struct projection_ctx *p, bson_t *filter, bson_t *update)
{
    struct notify_batch *nb = p->fx != NULL ? p->fx->notes : NULL;
    if (nb == NULL) {
        bson_t *opts = mongo_own(p->arena, BCON_NEW("upsert", BCON_BOOL(true)));
        return mongo_update_one(p->mongo, COLLECTION, filter, update, opts, NULL);
    }
    if (nb->n == nb->cap) {
        size_t cap = nb->cap != 0 ? nb->cap * 2 : 64;
        const bson_t **f = arena_alloc(p->arena, cap * sizeof(*f)), **u = arena_alloc(p->arena, cap * sizeof(*u));
        if (nb->n > 0) {
            memcpy(f, nb->filters, nb->n * sizeof(*f));
            memcpy(u, nb->updates, nb->n * sizeof(*u));
        }
        nb->filters = f;
        nb->updates = u;
        nb->cap = cap;
    }
    nb->filters[nb->n] = mongo_own(p->arena, bson_copy(filter));
    nb->updates[nb->n++] = mongo_own(p->arena, bson_copy(update));
    return MK_OK;
}

int
notify_send(struct projection_ctx *p)
{
    struct notify_batch *nb = p->fx != NULL ? p->fx->notes : NULL;
    if (nb == NULL) {
        return MK_OK;
    }
    int rc = nb->n > 0 ? mongo_update_each(p->mongo, COLLECTION, nb->filters, nb->updates, nb->n, true) : MK_OK;
    if (rc == MK_OK && json_object_array_length(nb->deliveries) > 0) {
        const char *values[] = {json_object_to_json_string_ext(nb->deliveries, JSON_C_TO_STRING_PLAIN)};
        rc = pg_exec(&p->w->pg, p->arena, &ENQUEUE_MANY, values, NULL);
    }
    if (rc == MK_OK) {
        nb->n = 0;
        nb->deliveries = json_object_new_array();
        arena_cleanup_add(p->arena, (arena_cleanup_fn)(void (*)(void))json_object_put, nb->deliveries);
    }
    return rc;
}

/* Insert notification id unless it exists; extra (may be NULL) adds members to the new
 * document. Then its deliveries (again on a replay: idempotent). */
static int
put(struct projection_ctx *p, const struct outbox_row *ev, const char *id, const char *recipient, const char *type,
    json_object *data, const bson_t *extra)
{
    const char *created_at = http_rfc3339(p->arena, ev->created_ms / 1000);
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, doc;
    BSON_APPEND_UTF8(&filter, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &doc);
    BSON_APPEND_UTF8(&doc, "user_id", recipient);
    BSON_APPEND_UTF8(&doc, "type", type);
    BSON_APPEND_UTF8(&doc, "created_at", created_at);
    BSON_APPEND_INT64(&doc, "created_us", ev->created_ms * 1000);
    BSON_APPEND_BOOL(&doc, "read", false);
    bool ok = readmodel_append_json(&doc, "data", data);
    BSON_APPEND_INT64(&doc, "seq", ev->seq);
    if (extra != NULL) {
        bson_concat(&doc, extra);
    }
    bson_append_document_end(&update, &doc);
    int rc = ok ? upsert(p, &filter, &update) : MK_EINTERNAL;
    bson_destroy(&filter);
    bson_destroy(&update);
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

static void
fanout_add(struct fanout *f, const char *user)
{
    if (f->n == f->cap) {
        size_t cap = f->cap == 0 ? 64 : f->cap * 2;
        const char **users = arena_alloc(f->arena, cap * sizeof(*users));
        if (f->n > 0) {
            memcpy(users, f->users, f->n * sizeof(*users));
        }
        f->users = users;
        f->cap = cap;
    }
    f->users[f->n++] = arena_strdup(f->arena, user);
}

static int
collect_user(const bson_t *doc, void *arg)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, "user_id") && BSON_ITER_HOLDS_UTF8(&it)) {
        fanout_add(arg, bson_iter_utf8(&it, NULL));
    }
    return MK_OK;
}

/* Everyone who favourites the listing (as the read model stands at this event), but the excluded. */
static int
fanout(struct projection_ctx *p, const struct outbox_row *ev, const struct notify_plan *plan)
{
    struct fanout f = {.arena = p->arena};
    struct notify_batch *nb = p->fx != NULL ? p->fx->notes : NULL;
    int rc = MK_OK;
    long li = nb != NULL ? idset_index(&nb->listings, plan->fanout_listing) : -1;
    if (li >= 0) {
        /* the listing's own chain: a batch of S sales does not walk every favourite S times */
        for (long i = nb->fav_first[li]; i != 0; i = nb->favs[i - 1].next) {
            if (nb->favs[i - 1].active) {
                fanout_add(&f, nb->favs[i - 1].user_id);
            }
        }
    } else {
        bson_t *filter =
            mongo_own(p->arena, BCON_NEW("listing_id", BCON_UTF8(plan->fanout_listing), "active", BCON_BOOL(true)));
        rc = mongo_find_each(p->mongo, "favorites", filter, NULL, collect_user, &f);
    }
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

/* The batch's copy of the favourite (listing_id, user_id), a new one (version -1: absent) if
 * it has none; NULL when the listing is not one the batch's events fan out to. */
static struct note_fav *
fav_find(arena_t *a, struct notify_batch *nb, const char *listing_id, const char *user_id)
{
    long li = idset_index(&nb->listings, listing_id);
    if (li < 0) {
        return NULL;
    }
    const char *key = arena_sprintf(a, "%s %s", listing_id, user_id);   /* ids hold no space */
    long i = idset_index(&nb->fav_keys, key);
    if (i >= 0) {
        return &nb->favs[i];
    }
    if (nb->nfav == nb->capfav) {
        size_t cap = nb->capfav != 0 ? nb->capfav * 2 : 64;
        struct note_fav *favs = arena_alloc(a, cap * sizeof(*favs));
        if (nb->nfav > 0) {
            memcpy(favs, nb->favs, nb->nfav * sizeof(*favs));
        }
        nb->favs = favs;
        nb->capfav = cap;
    }
    idset_add(a, &nb->fav_keys, key);
    nb->favs[nb->nfav] = (struct note_fav){arena_strdup(a, listing_id), arena_strdup(a, user_id), -1, false, 0};
    long at = (long)++nb->nfav;
    /* appended to the listing's chain, so its favourites keep the order they were found in */
    if (nb->fav_last[li] != 0) {
        nb->favs[nb->fav_last[li] - 1].next = at;
    } else {
        nb->fav_first[li] = at;
    }
    nb->fav_last[li] = at;
    return &nb->favs[at - 1];
}

void
notify_favorite_applied(struct projection_ctx *p, const char *user_id, const char *listing_id, long long version,
                        bool active)
{
    struct notify_batch *nb = p->fx != NULL ? p->fx->notes : NULL;
    /* only the batch's fan-out listings have a copy (NULL otherwise); projection_upsert_versioned's
     * rule: only a newer favourites version changes it */
    struct note_fav *f = nb != NULL ? fav_find(p->arena, nb, listing_id, user_id) : NULL;
    if (f != NULL && f->version < version) {
        f->version = version;
        f->active = active;
    }
}

static int
remember_fav(const bson_t *doc, void *arg)
{
    struct projection_ctx *p = arg;
    bson_iter_t it;
    const char *listing = NULL, *user = NULL;
    long long version = 0;
    bool active = false;
    for (bool more = bson_iter_init(&it, doc); more && bson_iter_next(&it);) {
        const char *k = bson_iter_key(&it);
        if (strcmp(k, "listing_id") == 0 && BSON_ITER_HOLDS_UTF8(&it)) {
            listing = bson_iter_utf8(&it, NULL);
        } else if (strcmp(k, "user_id") == 0 && BSON_ITER_HOLDS_UTF8(&it)) {
            user = bson_iter_utf8(&it, NULL);
        } else if (strcmp(k, "version") == 0) {
            version = bson_iter_as_int64(&it);
        } else if (strcmp(k, "active") == 0) {
            active = bson_iter_as_bool(&it);
        }
    }
    struct note_fav *f = listing != NULL && user != NULL ? fav_find(p->arena, p->fx->notes, listing, user) : NULL;
    if (f != NULL) {
        f->version = version;
        f->active = active;
    }
    return MK_OK;
}

/* The listings the batch's events fan out to, and their favourites, in one find. */
static int
prepare_fanout(struct projection_ctx *p, const struct outbox_row *rows, json_object *const *payloads, int n)
{
    struct notify_batch *nb = p->fx->notes;
    bson_t *filter = mongo_own(p->arena, bson_new()), in, arr;
    BSON_APPEND_DOCUMENT_BEGIN(filter, "listing_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (int i = 0; i < n; i++) {
        struct notify_plan plan;
        if (payloads[i] == NULL || !notify_wants(rows[i].event_type) ||
            strcmp(rows[i].event_type, "notification.read") == 0) {
            continue;
        }
        notify_map(p->arena, rows[i].event_type, payloads[i], &plan);
        size_t before = nb->listings.n;
        if (plan.fanout_type != NULL && plan.fanout_listing != NULL) {
            idset_add(p->arena, &nb->listings, plan.fanout_listing);
        }
        if (nb->listings.n != before) {
            char k[16];
            const char *key;
            bson_uint32_to_string((uint32_t)before, &key, k, sizeof(k));
            bson_append_utf8(&arr, key, -1, plan.fanout_listing, -1);
        }
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(filter, &in);
    if (nb->listings.n == 0) {
        return MK_OK;
    }
    nb->fav_first = arena_calloc(p->arena, nb->listings.n * sizeof(*nb->fav_first));
    nb->fav_last = arena_calloc(p->arena, nb->listings.n * sizeof(*nb->fav_last));
    bson_t *opts = mongo_own(p->arena, BCON_NEW("projection", "{", "listing_id", BCON_INT32(1), "user_id",
                                                BCON_INT32(1), "active", BCON_INT32(1), "version", BCON_INT32(1),
                                                "}"));
    return mongo_find_each(p->mongo, "favorites", filter, opts, remember_fav, p);
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
    if (rc == MK_OK && n > 0) {
        rc = notify_send(p);   /* match_one reads the batch's notifications */
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
    int rc = notify_send(p);   /* the batch's notifications first: this may mark them */
    if (rc != MK_OK) {
        return rc;
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
    rc = mongo_update_many(p->mongo, COLLECTION, &filter, update, NULL, NULL);
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
 * projection. Then the batch's favouriters (prepare_fanout). */
int
notify_prepare(struct projection_ctx *p, const struct outbox_row *rows, json_object *const *payloads, int n)
{
    bool listings = false;
    for (int i = 0; i < n && !listings; i++) {
        listings = strncmp(rows[i].event_type, "listing.", 8) == 0;
    }
    bool any = true;
    int rc = listings ? saved_search_any_alert(&p->w->pg, p->arena, &any) : MK_OK;
    p->fx->no_alerts = rc == MK_OK && !any;
    if (rc != MK_OK) {
        return rc;
    }
    struct notify_batch *nb = arena_calloc(p->arena, sizeof(*nb));
    nb->deliveries = json_object_new_array();
    arena_cleanup_add(p->arena, (arena_cleanup_fn)(void (*)(void))json_object_put, nb->deliveries);
    p->fx->notes = nb;
    rc = prepare_fanout(p, rows, payloads, n);
    if (rc != MK_OK) {
        p->fx->notes = NULL;   /* nothing was queued yet: event by event */
    }
    return rc;
}
