#include "domain/favorite.h"

#include <json-c/json.h>

#include "core/errors.h"
#include "domain/outbox.h"


/*
 * A favourite added or removed, and the listing's count moved with it, in one statement:
 * the count's upsert reads the favourite's CTE, so it runs only when the favourite changed
 * (ON CONFLICT DO NOTHING / no row deleted give no row and leave the count alone). The
 * inserted count row is checked before ON CONFLICT redirects to the update: never below 0.
 */
#define FAVORITE_SET(change, at, delta)                                                                            \
    "WITH f AS (" change " RETURNING " at " AS at), "                                                            \
    "     c AS (INSERT INTO listing_favorite_counts AS c (listing_id, count, version) "                            \
    "           SELECT $2::uuid, greatest(" delta ", 0), 1 FROM f "                                                \
    "           ON CONFLICT (listing_id) DO UPDATE SET count = c.count + " delta ", version = c.version + 1 "      \
    "           RETURNING count, version) "                                                                      \
    "SELECT f.at, c.count, c.version FROM f, c"

static const struct pg_stmt ADD = {
    "favorite_add",
    FAVORITE_SET("INSERT INTO favorites (user_id, listing_id) VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING",
                 PG_UTC_TEXT("created_at"), "1"),
    2,
};

static const struct pg_stmt REMOVE = {
    "favorite_remove",
    FAVORITE_SET("DELETE FROM favorites WHERE user_id = $1::uuid AND listing_id = $2::uuid", PG_UTC_TEXT("now()"),
                 "-1"),
    2,
};

int
favorite_set(struct pg *pg, arena_t *a, const char *user_id, const char *listing_id, bool add, bool *changed,
             long long *seq)
{
    const char *values[] = {user_id, listing_id};
    PGresult *res;
    *changed = false;
    int rc = pg_exec(pg, a, add ? &ADD : &REMOVE, values, &res);
    if (rc != MK_OK || pg_nrows(res) == 0) {
        return rc;
    }
    *changed = true;
    const char *at = pg_value(res, 0, 0);
    long long count = pg_int(res, 0, 1), version = pg_int(res, 0, 2);
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "user_id", json_object_new_string(user_id));
    json_object_object_add(doc, "listing_id", json_object_new_string(listing_id));
    json_object_object_add(doc, "at", json_object_new_string(at));
    json_object_object_add(doc, "count", json_object_new_int64(count));
    return outbox_append_doc(pg, a, "listing_favorites", listing_id, version, add ? "favorite.added" : "favorite.removed", doc, seq);
}
