/* system.ping → MongoDB `system_pings`: the row's state, as the event carries it. */
#include "core/errors.h"
#include "projector/projections.h"

int
project_ping(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload)
{
    json_object *note, *created, *updated;
    if (!json_object_object_get_ex(payload, "note", &note) ||
        !json_object_object_get_ex(payload, "created_at", &created) ||
        !json_object_object_get_ex(payload, "updated_at", &updated)) {
        return MK_EBADPARAM;
    }
    bson_t fields = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&fields, "note", json_object_get_string(note));
    BSON_APPEND_UTF8(&fields, "created_at", json_object_get_string(created));
    BSON_APPEND_UTF8(&fields, "updated_at", json_object_get_string(updated));
    int rc = projection_upsert_versioned(p, "system_pings", ev->aggregate_id, ev->version, ev->seq, &fields, NULL);
    bson_destroy(&fields);
    return rc;
}
