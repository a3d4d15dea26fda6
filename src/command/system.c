/* POST /api/v1/system/pings — write a system.ping event (the CQRS smoke path). */
#include <string.h>

#include "command/command.h"
#include "command/handlers.h"
#include "core/errors.h"
#include "core/ids.h"
#include "core/text.h"
#include "domain/ping.h"

struct ping_ctx {
    const char *id;
    const char *note;
    struct ping result;
};

static int
ping_body(struct request *r, struct command_tx *tx, void *data)
{
    struct ping_ctx *c = data;
    return ping_record(tx->pg, r->arena, c->id, c->note, &c->result, &tx->last_seq);
}

int
command_ping(struct request *r)
{
    static const char *const allowed[] = {"id", "note", NULL};
    json_object *body, *v;
    int rc = http_json_body(r, &body);
    if (rc != MK_OK || (rc = http_json_only(r, body, allowed)) != MK_OK) {
        return rc;
    }
    struct ping_ctx c = {0};
    char fresh[UUID_STR_LEN + 1];
    if (json_object_object_get_ex(body, "id", &v)) {
        if (!json_object_is_type(v, json_type_string) || !uuid_valid(json_object_get_string(v))) {
            http_field_error(r, "id", "must be a UUID");
        }
        c.id = json_object_get_string(v);
    } else {
        uuid_new(fresh);
        c.id = fresh;
    }
    if (!json_object_object_get_ex(body, "note", &v) || !json_object_is_type(v, json_type_string)) {
        http_field_error(r, "note", "must be a string");
    } else if (text_chars(json_object_get_string(v)) > PING_NOTE_MAX) { /* as the table counts */
        http_field_error(r, "note", "must be at most 200 characters");
    } else {
        c.note = json_object_get_string(v);
    }
    if (r->err_fields != NULL) {
        return http_fail(r, MK_EVALIDATION, NULL);
    }
    rc = command_run(r, ping_body, &c);
    if (rc != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_string(c.result.id));
    json_object_object_add(p, "note", json_object_new_string(c.result.note));
    json_object_object_add(p, "version", json_object_new_int64(c.result.version));
    json_object_object_add(p, "created_at", json_object_new_string(c.result.created_at));
    json_object_object_add(p, "updated_at", json_object_new_string(c.result.updated_at));
    json_object_object_add(doc, "ping", p);
    return http_respond_json(r, c.result.version == 1 ? 201 : 200, doc);
}
