#include "domain/favorite.h"

#include <json-c/json.h>

#include "core/errors.h"
#include "domain/outbox.h"


static const struct pg_stmt ADD = {
    "favorite_add",
    "INSERT INTO favorites (user_id, listing_id) VALUES ($1::uuid, $2::uuid) ON CONFLICT DO NOTHING "
    "RETURNING " PG_UTC_TEXT("created_at"),
    2,
};

static const struct pg_stmt REMOVE = {
    "favorite_remove",
    "DELETE FROM favorites WHERE user_id = $1::uuid AND listing_id = $2::uuid RETURNING " PG_UTC_TEXT("now()"),
    2,
};

static const struct pg_stmt COUNT = {
    "favorite_count",
    /* the inserted row is checked before ON CONFLICT redirects to the update: never below 0 */
    "INSERT INTO listing_favorite_counts AS c (listing_id, count, version) "
    "VALUES ($1::uuid, greatest($2::bigint, 0), 1) "
    "ON CONFLICT (listing_id) DO UPDATE SET count = c.count + $2::bigint, version = c.version + 1 "
    "RETURNING count, version",
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
    const char *count_values[] = {listing_id, add ? "1" : "-1"};
    PGresult *counts;
    if ((rc = pg_exec_row(pg, a, &COUNT, count_values, &counts)) != MK_OK) {
        return rc;
    }
    long long count = pg_int(counts, 0, 0), version = pg_int(counts, 0, 1);
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "user_id", json_object_new_string(user_id));
    json_object_object_add(doc, "listing_id", json_object_new_string(listing_id));
    json_object_object_add(doc, "at", json_object_new_string(at));
    json_object_object_add(doc, "count", json_object_new_int64(count));
    return outbox_append_doc(pg, a, "listing_favorites", listing_id, version, add ? "favorite.added" : "favorite.removed", doc, seq);
}
