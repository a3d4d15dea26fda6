#include "projector/projections.h"

#include <string.h>

#include "core/errors.h"

const struct projection projections[] = {
    {"system.ping", project_ping},
    {"user.registered", project_user},
    {"user.profile_updated", project_user},
    {"listing.created", project_listing},
    {"listing.updated", project_listing},
    {"listing.deleted", project_listing},
    {"listing.image_attached", project_listing},
    {"listing.image_processed", project_listing},
    {"listing.image_rejected", project_listing},
    {"listing.image_removed", project_listing},
    {"favorite.added", project_favorite},
    {"favorite.removed", project_favorite},
    {"listing.sold", project_listing},
    {"listing.relisted", project_listing},
    {"listing.reserved", project_listing},
    {"listing.reservation_lapsed", project_listing},
    {"review.created", project_review},
};
const size_t projections_count = sizeof(projections) / sizeof(projections[0]);

const struct read_collection read_collections[] = {
    {"system_pings", NULL, NULL},
    {"sellers", NULL, NULL},
    {"listings", listing_indexes, listing_rebuild_indexes},
    {"favorites", favorite_indexes, NULL},
    {"reviews", review_indexes, NULL},
    {"notifications", notify_indexes, NULL},
};
const size_t read_collections_count = sizeof(read_collections) / sizeof(read_collections[0]);

int
projection_prepare(struct projection_ctx *p, const struct outbox_row *rows, json_object *const *payloads, int n)
{
    int rc = listing_prepare(p, rows, payloads, n);
    return rc == MK_OK ? notify_prepare(p, rows, payloads, n) : rc;
}

projection_apply
projection_find(const char *event_type)
{
    for (size_t i = 0; i < projections_count; i++) {
        if (strcmp(projections[i].event_type, event_type) == 0) {
            return projections[i].apply;
        }
    }
    return NULL;
}

/* The version guard's update (filter, update) and, for a document that is newer, the update
 * that only raises its seq (f2, u2). */
static void
versioned_update(const char *id, long long version, long long seq, const bson_t *fields, const bson_t *on_insert,
                 bson_t *filter, bson_t *update, bson_t *f2, bson_t *u2)
{
    /* Matches only when the stored version is older; when the document is newer the
     * upsert's insert collides on _id (11000) and we know the event is already reflected. */
    bson_t set;
    bson_init(filter);
    bson_init(update);
    bson_init(f2);
    bson_init(u2);
    BCON_APPEND(filter, "_id", BCON_UTF8(id), "version", "{", "$lt", BCON_INT64(version), "}");
    BSON_APPEND_DOCUMENT_BEGIN(update, "$set", &set);
    bson_concat(&set, fields);
    BSON_APPEND_INT64(&set, "version", version);
    BSON_APPEND_INT64(&set, "seq", seq);
    bson_append_document_end(update, &set);
    if (on_insert != NULL && !bson_empty(on_insert)) {
        BSON_APPEND_DOCUMENT(update, "$setOnInsert", on_insert);
    }
    BCON_APPEND(f2, "_id", BCON_UTF8(id));
    BCON_APPEND(u2, "$max", "{", "seq", BCON_INT64(seq), "}");
}

static void
versioned_free(bson_t *filter, bson_t *update, bson_t *f2, bson_t *u2)
{
    bson_destroy(filter);
    bson_destroy(update);
    bson_destroy(f2);
    bson_destroy(u2);
}

int
projection_upsert_versioned(struct projection_ctx *p, const char *collection, const char *id, long long version,
                            long long seq, const bson_t *fields, const bson_t *on_insert)
{
    bson_t filter, update, f2, u2, opts = BSON_INITIALIZER;
    versioned_update(id, version, seq, fields, on_insert, &filter, &update, &f2, &u2);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    int rc = mongo_update_one(p->mongo, collection, &filter, &update, &opts, NULL);
    rc = rc == MK_OK ? PROJ_APPLIED : rc;
    if (rc == MK_ECONFLICT) {
        rc = mongo_update_one(p->mongo, collection, &f2, &u2, NULL, NULL);
        rc = rc == MK_OK ? PROJ_SKIPPED : rc;
    }
    bson_destroy(&opts);
    versioned_free(&filter, &update, &f2, &u2);
    return rc;
}

int
projection_queue_versioned(struct projection_ctx *p, const char *collection, const char *id, long long version,
                           long long seq, const bson_t *fields, const bson_t *on_insert)
{
    bson_t filter, update, f2, u2;
    versioned_update(id, version, seq, fields, on_insert, &filter, &update, &f2, &u2);
    int rc = mongo_update_one_queued(p->mongo, collection, &filter, &update, true, &f2, &u2);
    versioned_free(&filter, &update, &f2, &u2);
    return rc == MK_OK ? PROJ_QUEUED : rc;
}
