/*
 * favorite.added / favorite.removed → the listing's `favorites` count and the user's
 * favourite in `favorites` ({_id: "<user>:<listing>", user_id, listing_id, active, at}).
 * Both are guarded by the listing's favourites version, which every change bumps.
 */
#include <string.h>

#include "core/errors.h"
#include "projector/projections.h"

int
favorite_indexes(struct projection_ctx *p, const char *coll)
{
    /* user_active_at: a user's favourites, newest first; listing_active: a listing's
     * favouriters (price drops and sales notify them, projector/notify.c) */
    bson_t *cmd = mongo_own(p->arena, BCON_NEW("createIndexes", BCON_UTF8(coll), "indexes", "[", "{", "key", "{",
                                               "user_id", BCON_INT32(1), "active", BCON_INT32(1), "at",
                                               BCON_INT32(-1), "_id", BCON_INT32(-1), "}", "name",
                                               BCON_UTF8("user_active_at"), "}", "{", "key", "{", "listing_id",
                                               BCON_INT32(1), "active", BCON_INT32(1), "}", "name",
                                               BCON_UTF8("listing_active"), "}", "]"));
    return mongo_write_command(p->mongo, coll, cmd);
}

int
project_favorite(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload)
{
    json_object *user, *listing, *at, *count;
    if (!json_object_object_get_ex(payload, "user_id", &user) ||
        !json_object_object_get_ex(payload, "listing_id", &listing) ||
        !json_object_object_get_ex(payload, "at", &at) || !json_object_object_get_ex(payload, "count", &count)) {
        return MK_EBADPARAM;
    }
    const char *listing_id = json_object_get_string(listing);
    bool add = strcmp(ev->event_type, "favorite.added") == 0;

    /* The listing's count, from a newer favourites version only. */
    bson_t *filter = mongo_own(p->arena, BCON_NEW("_id", BCON_UTF8(listing_id), "$or", "[", "{", "favorites_version", "{", "$lt",
                              BCON_INT64(ev->version), "}", "}", "{", "favorites_version", "{", "$exists",
                              BCON_BOOL(false), "}", "}", "]"));
    bson_t *update = mongo_own(p->arena, BCON_NEW("$set", "{", "favorites", BCON_INT64(json_object_get_int64(count)),
                                                  "favorites_version", BCON_INT64(ev->version), "}", "$max", "{",
                                                  "seq", BCON_INT64(ev->seq), "}"));
    int rc = mongo_update_one(p->mongo, "listings", filter, update, NULL, NULL);
    if (rc != MK_OK) {
        return rc;
    }

    /* The user's favourite. */
    char *id = arena_sprintf(p->arena, "%s:%s", json_object_get_string(user), listing_id);
    bson_t fields = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&fields, "user_id", json_object_get_string(user));
    BSON_APPEND_UTF8(&fields, "listing_id", listing_id);
    BSON_APPEND_BOOL(&fields, "active", add);
    BSON_APPEND_UTF8(&fields, "at", json_object_get_string(at));
    rc = projection_upsert_versioned(p, "favorites", id, ev->version, ev->seq, &fields, NULL);
    bson_destroy(&fields);
    if (rc >= 0) {
        notify_favorite_applied(p, json_object_get_string(user), listing_id, ev->version, add);
        invalidate_listing(p, listing_id);
    }
    return rc;
}
