#include "domain/ping.h"

#include <json-c/json.h>
#include <string.h>

#include "core/errors.h"
#include "domain/outbox.h"

static const struct pg_stmt UPSERT = {
    "ping_upsert",
    "INSERT INTO system_pings AS p (id, note) VALUES ($1::uuid, $2) "
    "ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note, version = p.version + 1, updated_at = now() "
    "RETURNING id::text, note, version, "
    PG_UTC_TEXT("created_at") ", " PG_UTC_TEXT("updated_at"),
    2,
};

int
ping_record(struct pg *pg, arena_t *arena, const char *id, const char *note, struct ping *out, long long *seq)
{
    const char *values[] = {id, note};
    PGresult *res;
    int rc = pg_exec(pg, arena, &UPSERT, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    out->id = pg_value(res, 0, 0);
    out->note = pg_value(res, 0, 1);
    out->version = pg_int(res, 0, 2);
    out->created_at = pg_value(res, 0, 3);
    out->updated_at = pg_value(res, 0, 4);

    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "id", json_object_new_string(out->id));
    json_object_object_add(doc, "note", json_object_new_string(out->note));
    json_object_object_add(doc, "version", json_object_new_int64(out->version));
    json_object_object_add(doc, "created_at", json_object_new_string(out->created_at));
    json_object_object_add(doc, "updated_at", json_object_new_string(out->updated_at));
    return outbox_append_doc(pg, arena, "system_ping", out->id, out->version, "system.ping", doc, seq);
}
