/* GET /api/v1/system/pings/{id} — a ping as the read model has it (X-Min-Seq aware). */
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "query/handlers.h"
#include "query/readmodel.h"

int
query_ping(struct request *r)
{
    const char *id = http_path_param(r, "id");
    if (!uuid_valid(id)) {
        return http_fail(r, MK_ENOTFOUND, "no such ping");
    }
    const bson_t *doc;
    int rc = readmodel_get(r, "system_pings", id, &doc);
    if (rc != MK_OK) {
        return rc;
    }
    char etag[32];
    snprintf(etag, sizeof(etag), "\"%lld\"", readmodel_int(doc, "version"));
    http_set_header(r, "ETag", etag);
    http_set_header(r, "Cache-Control", "no-cache");
    const char *inm = http_header(r, "If-None-Match");
    if (inm != NULL && strcmp(inm, etag) == 0) {
        return MK_ENOTMODIFIED;
    }
    json_object *out = http_json_own(r, json_object_new_object());
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_string(readmodel_str(doc, "_id")));
    json_object_object_add(p, "note", json_object_new_string(readmodel_str(doc, "note")));
    json_object_object_add(p, "version", json_object_new_int64(readmodel_int(doc, "version")));
    json_object_object_add(p, "created_at", json_object_new_string(readmodel_str(doc, "created_at")));
    json_object_object_add(p, "updated_at", json_object_new_string(readmodel_str(doc, "updated_at")));
    json_object_object_add(p, "seq", json_object_new_int64(readmodel_int(doc, "seq")));
    json_object_object_add(out, "ping", p);
    return http_respond_json(r, 200, out);
}
