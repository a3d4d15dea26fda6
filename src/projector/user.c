/*
 * user.registered, user.profile_updated → MongoDB `sellers`: the public profile.
 * The events carry public fields only; rating and active_listings are created here with
 * their empty values and maintained by the review and listing projections. A new display
 * name reaches the user's listings (as seller) and reviews (as reviewer).
 */
#include <string.h>

#include "core/errors.h"
#include "projector/projections.h"

static bool
append_string_or_null(bson_t *b, const char *key, json_object *payload, bool required)
{
    json_object *v;
    if (!json_object_object_get_ex(payload, key, &v) || json_object_is_type(v, json_type_null)) {
        if (required) {
            return false;
        }
        bson_append_null(b, key, -1);
        return true;
    }
    if (!json_object_is_type(v, json_type_string)) {
        return false;
    }
    bson_append_utf8(b, key, -1, json_object_get_string(v), -1);
    return true;
}

int
project_user(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload)
{
    bson_t fields = BSON_INITIALIZER, on_insert = BSON_INITIALIZER, rating;
    int rc = MK_EBADPARAM;
    if (!append_string_or_null(&fields, "display_name", payload, true) ||
        !append_string_or_null(&fields, "bio", payload, true) ||
        !append_string_or_null(&fields, "avatar_url", payload, false) ||
        !append_string_or_null(&fields, "member_since", payload, true)) {
        goto cleanup;
    }
    BSON_APPEND_DOCUMENT_BEGIN(&on_insert, "rating", &rating);
    BSON_APPEND_NULL(&rating, "average");
    BSON_APPEND_INT64(&rating, "count", 0);
    bson_append_document_end(&on_insert, &rating);
    BSON_APPEND_INT64(&on_insert, "active_listings", 0);
    rc = projection_upsert_versioned(p, "sellers", ev->aggregate_id, ev->version, ev->seq, &fields, &on_insert);
    if (rc == PROJ_APPLIED) {
        seller_embed_forget(p, ev->aggregate_id);
        /* Listings embed the seller's name: a new name reaches every one of them. */
        bson_iter_t it;
        bson_iter_init_find(&it, &fields, "display_name");
        const char *name = bson_iter_utf8(&it, NULL);
        bson_t *filter = mongo_own(p->arena, BCON_NEW("seller_id", BCON_UTF8(ev->aggregate_id)));
        /* ... and their seq, so X-Min-Seq on a listing covers the seller's name change. */
        bson_t *update = mongo_own(p->arena, BCON_NEW("$set", "{", "seller.display_name", BCON_UTF8(name), "}",
                                                      "$max", "{", "seq", BCON_INT64(ev->seq), "}"));
        int rc2 = mongo_update_many(p->mongo, "listings", filter, update, NULL, NULL);
        /* Reviews show their reviewer's name too. */
        if (rc2 == MK_OK) {
            filter = mongo_own(p->arena, BCON_NEW("reviewer.id", BCON_UTF8(ev->aggregate_id)));
            update = mongo_own(p->arena, BCON_NEW("$set", "{", "reviewer.display_name", BCON_UTF8(name), "}"));
            rc2 = mongo_update_many(p->mongo, "reviews", filter, update, NULL, NULL);
        }
        rc = rc2 != MK_OK ? rc2 : rc;
        invalidate_user(p, ev->aggregate_id);
        invalidate_seller_listings(p, ev->aggregate_id);
    }
cleanup:
    bson_destroy(&fields);
    bson_destroy(&on_insert);
    return rc;
}
