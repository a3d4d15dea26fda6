/* Thumbnails of attached images, and deletion of removed objects (see projections.h). */
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "domain/image.h"
#include "domain/listing.h"
#include "media/thumb.h"
#include "projector/projections.h"
#include "worker.h"

#define THUMB_SIDE 320

int
media_delete_removed(struct projection_ctx *p, json_object *payload)
{
    json_object *keys;
    if (!json_object_object_get_ex(payload, "removed_keys", &keys) || !json_object_is_type(keys, json_type_array)) {
        return MK_OK;
    }
    for (size_t i = 0; i < json_object_array_length(keys); i++) {
        const char *key = json_object_get_string(json_object_array_get_idx(keys, i));
        struct s3_response resp;
        int rc = s3_request(&p->w->s3, p->arena, "DELETE", key, NULL, 0, NULL, 0, &resp);
        if (rc != MK_OK || resp.status >= 500) {
            return MK_EUNAVAILABLE;
        }
        if (resp.status >= 300 && resp.status != 404) {
            log_warn("media: DELETE %s answered %ld; left in the bucket", key, resp.status);
        }
    }
    return MK_OK;
}

/* The transaction of one attached image; *reject_key is set when the object must go. */
static int
process(struct projection_ctx *p, const char *image_id, long long *seq)
{
    struct pg *pg = &p->w->pg;
    char *listing_id, *key;
    long long size;
    int rc = image_lock_pending(pg, p->arena, image_id, &listing_id, &key, &size);
    if (rc != MK_OK) {
        return rc == MK_ENOTFOUND ? MK_OK : rc;   /* removed meanwhile, or done already */
    }
    struct s3_response obj;
    rc = s3_request(&p->w->s3, p->arena, "GET", key, NULL, 0, NULL, LISTING_IMAGE_MAX_BYTES, &obj);
    if (rc == MK_EUNAVAILABLE || (rc == MK_OK && obj.status >= 500)) {
        return MK_EUNAVAILABLE;
    }
    struct thumb_result t = {0};
    int verdict = rc == MK_OK && obj.status == 200 ? thumb_make(p->arena, obj.body, obj.body_len, THUMB_SIDE, &t)
                                                   : MK_EVALIDATION;
    if (verdict == MK_EVALIDATION) {
        log_info("media: image %s (%s) is not a usable image (%s); removed", image_id, key,
                 t.error != NULL ? t.error : "object missing or too large");
        json_object *extra = json_object_new_object();
        json_object *keys = json_object_new_array();
        json_object_array_add(keys, json_object_new_string(key));
        json_object_object_add(extra, "removed_keys", keys);
        json_object_object_add(extra, "image_id", json_object_new_string(image_id));
        rc = image_delete(pg, p->arena, image_id);
        if (rc == MK_OK && (rc = listing_touch(pg, p->arena, listing_id)) == MK_OK) {
            rc = listing_emit(pg, p->arena, listing_id, "listing.image_rejected", extra, seq, NULL);
        }
        json_object_put(extra);
        return rc;
    }
    if (verdict != MK_OK) {
        log_error("media: thumbnail of %s failed (%s)", key, t.error != NULL ? t.error : "internal");
        return MK_EINTERNAL;
    }
    char *thumb_key = image_thumb_key(p->arena, key);
    struct s3_response put;
    rc = s3_request(&p->w->s3, p->arena, "PUT", thumb_key, t.data, t.len, t.content_type, 0, &put);
    if (rc != MK_OK || put.status >= 300) {
        return MK_EUNAVAILABLE;
    }
    rc = image_mark_ready(pg, p->arena, image_id, t.width, t.height, thumb_key);
    if (rc == MK_OK && (rc = listing_touch(pg, p->arena, listing_id)) == MK_OK) {
        json_object *extra = json_object_new_object();
        json_object_object_add(extra, "image_id", json_object_new_string(image_id));
        rc = listing_emit(pg, p->arena, listing_id, "listing.image_processed", extra, seq, NULL);
        json_object_put(extra);
    }
    return rc;
}

int
media_process_attached(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload)
{
    json_object *image;
    if (!json_object_object_get_ex(payload, "image_id", &image)) {
        return MK_OK;
    }
    struct pg *pg = &p->w->pg;
    int rc = pg_simple(pg, "BEGIN");
    long long seq = 0;
    if (rc == MK_OK) {
        rc = process(p, json_object_get_string(image), &seq);
        int end = pg_simple(pg, rc == MK_OK ? "COMMIT" : "ROLLBACK");
        rc = rc == MK_OK ? end : rc;
    }
    if (rc == MK_OK && seq > 0) {
        log_debug("media: image of listing %s processed (event seq %lld)", ev->aggregate_id, seq);
    }
    if (rc == MK_EINTERNAL) {
        /* Not retryable (a bug or a broken encoder): leave the image pending and go on. */
        return MK_OK;
    }
    return rc == MK_ECONFLICT ? MK_EUNAVAILABLE : rc;
}
