/* GET /api/v1/users/me (private, PostgreSQL) and GET /api/v1/users/{id} (public, read model). */
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "core/numfmt.h"
#include "domain/session.h"
#include "domain/user.h"
#include "query/cache.h"
#include "query/handlers.h"
#include "query/private.h"
#include "query/readmodel.h"
#include "worker.h"

int
query_me(struct request *r)
{
    struct session s;
    int rc = worker_authenticate(r, &s);
    if (rc != MK_OK) {
        return rc;
    }
    struct user u;
    rc = user_get(query_private_pg(r), r->arena, s.user_id, &u);
    if (rc == MK_ENOTFOUND) {
        return http_fail(r, MK_EUNAUTH, "the session's user no longer exists");
    }
    if (rc != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "user", user_private_json(&u));
    http_set_header(r, "Cache-Control", "private, no-store");
    return http_respond_json_etag(r, doc, NULL);
}

/* The public profile of a `sellers` document. */
static json_object *
public_profile(const bson_t *doc)
{
    json_object *u = json_object_new_object();
    const char *avatar = readmodel_str(doc, "avatar_url");
    json_object_object_add(u, "id", json_object_new_string(readmodel_str(doc, "_id")));
    json_object_object_add(u, "display_name", json_object_new_string(readmodel_str(doc, "display_name")));
    json_object_object_add(u, "bio", json_object_new_string(readmodel_str(doc, "bio") ? readmodel_str(doc, "bio") : ""));
    json_object_object_add(u, "avatar_url", avatar != NULL ? json_object_new_string(avatar) : NULL);
    json_object_object_add(u, "member_since", json_object_new_string(readmodel_str(doc, "member_since")));
    json_object *rating = json_object_new_object();
    double average;
    json_object_object_add(rating, "average",
                           readmodel_double(doc, "rating.average", &average) ? numfmt_json(average) : NULL);
    json_object_object_add(rating, "count", json_object_new_int64(readmodel_int(doc, "rating.count")));
    json_object_object_add(u, "rating", rating);
    json_object_object_add(u, "active_listings", json_object_new_int64(readmodel_int(doc, "active_listings")));
    return u;
}

int
query_user(struct request *r)
{
    const char *id = http_path_param(r, "id");
    if (!uuid_valid(id)) {
        return http_fail(r, MK_ENOTFOUND, "no such user");
    }
    char *key = arena_sprintf(r->arena, "cache:user:%s", id);
    const bson_t *doc;
    int rc = cache_read_doc(r, key, "sellers", id, &doc);
    if (rc != MK_OK || doc == NULL) {
        return rc == MK_ENOTFOUND ? http_fail(r, rc, "no such user") : rc;
    }
    json_object *out = http_json_own(r, json_object_new_object());
    json_object_object_add(out, "user", public_profile(doc));
    return cache_answer_doc(r, key, doc, out, NULL);
}
