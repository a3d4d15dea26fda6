/*
 * Images of a listing:
 *   POST   /api/v1/listings/{id}/images/uploads  a pre-signed PUT for a new object
 *   POST   /api/v1/listings/{id}/images          attach an uploaded object (checked by HEAD)
 *   DELETE /api/v1/listings/{id}/images/{image_id}
 * No image byte passes through a worker: clients PUT straight to the bucket. The projector
 * makes the thumbnail from the listing.image_attached event (projector/media.c).
 */
#include <string.h>
#include <time.h>

#include "command/command.h"
#include "command/handlers.h"
#include "core/errors.h"
#include "core/ids.h"
#include "domain/image.h"
#include "domain/listing.h"
#include "store/s3_presign.h"
#include "worker.h"

struct image_ref;

/* An image change, run by images_body with the listing locked and the caller checked; ref is
 * the first member of the handler's context. */
typedef int (*image_change)(struct request *r, struct command_tx *tx, struct image_ref *ref);

/* Whose images a request changes (the path's listing and the signed-in caller) and how. The
 * first member of each handler's context. */
struct image_ref {
    const char *listing_id;
    const char *user_id;
    bool adds;             /* the change adds an image: the listing needs room for one */
    image_change change;
};

/* The start of every image handler: ref from the path and the session and, when parse is
 * not NULL, the request's JSON object body read by parse into ctx (command.h). */
static int
images_begin(struct request *r, struct image_ref *ref, command_parse parse, void *ctx)
{
    return parse != NULL ? command_begin_json(r, "listing", &ref->listing_id, &ref->user_id, parse, ctx)
                         : command_listing_begin(r, &ref->listing_id, &ref->user_id);
}

/* Lock the listing and check that the caller may change its images (and, with need_room,
 * that it has room for one more). */
static int
lock_for_images(struct request *r, struct pg *pg, const struct image_ref *ref, bool need_room)
{
    struct listing_row the_row, *row = &the_row;
    const char *user_id = ref->user_id;
    int rc = listing_lock(pg, r->arena, ref->listing_id, row);
    if (rc == MK_ENOTFOUND || (rc == MK_OK && strcmp(row->status, "deleted") == 0)) {
        return http_fail(r, MK_ENOTFOUND, "no such listing");
    }
    if (rc != MK_OK) {
        return rc;
    }
    if (strcmp(row->seller_id, user_id) != 0) {
        return http_fail(r, MK_EFORBIDDEN, "only the seller may change this listing's images");
    }
    if (strcmp(row->status, "draft") != 0 && strcmp(row->status, "active") != 0) {
        return http_fail(r, MK_ETRANSITION, arena_sprintf(r->arena, "the listing is %s", row->status));
    }
    if (need_room && row->nimages >= LISTING_MAX_IMAGES) {
        http_field_error(r, "images", "a listing has at most 10 images");
        return http_fail(r, MK_EVALIDATION, NULL);
    }
    return MK_OK;
}

/* The transaction of every image change (command_run's body, ctx an image handler's context):
 * lock_for_images, then the change. */
static int
images_body(struct request *r, struct command_tx *tx, void *ctx)
{
    struct image_ref *ref = ctx;
    int rc = lock_for_images(r, tx->pg, ref, ref->adds);
    return rc != MK_OK ? rc : ref->change(r, tx, ref);
}

/* The listing's new version as its ETag: a write's answer, as for the listing's own writes. */
static void
set_listing_etag(struct request *r, json_object *state)
{
    json_object *v = json_object_object_get(state, "version");
    http_set_header(r, "ETag", arena_sprintf(r->arena, "\"%lld\"", (long long)json_object_get_int64(v)));
}

static int
s3_down(struct request *r)
{
    return http_fail(r, MK_EUNAVAILABLE, "image storage is unavailable; retry later");
}

/* ---- POST /api/v1/listings/{id}/images/uploads ---------------------------------------- */

struct ticket_ctx {
    struct image_ref ref;
    const char *content_type;
    long long size_bytes;
    char *key;
};

static int
create_ticket(struct request *r, struct command_tx *tx, struct image_ref *ref)
{
    struct ticket_ctx *c = (struct ticket_ctx *)ref;
    c->key = image_key_new(r->arena, c->ref.listing_id, c->content_type);
    return image_ticket_create(tx->pg, r->arena, c->key, c->ref.listing_id, c->content_type, c->size_bytes);
}

static int
parse_upload(struct request *r, json_object *body, void *ctx)
{
    struct ticket_ctx *c = ctx;
    return image_parse_upload(r, body, &c->content_type, &c->size_bytes);
}

int
command_image_upload(struct request *r)
{
    struct worker *w = r->worker;
    struct ticket_ctx c = {.ref = {.adds = true, .change = create_ticket}};
    int rc = images_begin(r, &c.ref, parse_upload, &c);
    if (rc != MK_OK) {
        return rc;
    }
    /* Pre-signing needs no network, but an upload URL for a store that is down helps nobody. */
    if (s3_check(&w->s3, r->arena) != MK_OK) {
        return s3_down(r);
    }
    if ((rc = command_run(r, images_body, &c)) != MK_OK) {
        return rc;
    }
    long long now = (long long)time(NULL);
    struct s3_presign p = {
        .method = "PUT",
        .endpoint = w->cfg->s3_presign_endpoint[0] != '\0' ? w->cfg->s3_presign_endpoint : w->cfg->s3_endpoint,
        .path_style = w->cfg->s3_path_style,
        .region = w->cfg->s3_region,
        .bucket = w->cfg->s3_bucket,
        .key = c.key,
        .access_key = w->cfg->s3_access_key,
        .secret_key = w->cfg->s3_secret_key,
        .now = now,
        .expires_s = IMAGE_UPLOAD_TTL_S,
        .content_type = c.content_type,
        .content_length = c.size_bytes,
    };
    char *url;
    if (s3_presign_url(r->arena, &p, &url) != MK_OK) {
        return http_fail(r, MK_EINTERNAL, "pre-signing failed");
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object *headers = json_object_new_object();
    json_object_object_add(headers, "Content-Type", json_object_new_string(c.content_type));
    json_object_object_add(headers, "Content-Length",
                           json_object_new_string(arena_sprintf(r->arena, "%lld", c.size_bytes)));
    json_object_object_add(doc, "key", json_object_new_string(c.key));
    json_object_object_add(doc, "upload_url", json_object_new_string(url));
    json_object_object_add(doc, "method", json_object_new_string("PUT"));
    json_object_object_add(doc, "headers", headers);
    json_object_object_add(doc, "expires_at", json_object_new_string(http_rfc3339(r->arena, now + IMAGE_UPLOAD_TTL_S)));
    http_set_header(r, "Cache-Control", "no-store");
    return http_respond_json(r, 201, doc);
}

/* ---- POST /api/v1/listings/{id}/images ----------------------------------------------- */

struct attach_ctx {
    struct image_ref ref;
    const char *key;
    const char *content_type;
    long long size_bytes;
    char image_id[UUID_STR_LEN + 1];
    json_object *state;
};

static int
attach(struct request *r, struct command_tx *tx, struct image_ref *ref)
{
    struct attach_ctx *c = (struct attach_ctx *)ref;
    int rc = image_attach(tx->pg, r->arena, c->image_id, c->ref.listing_id, c->key, c->content_type, c->size_bytes);
    if (rc == MK_ECONFLICT) {
        return http_fail(r, MK_ECONFLICT, "this key is attached already");
    }
    if (rc != MK_OK || (rc = listing_touch(tx->pg, r->arena, c->ref.listing_id)) != MK_OK) {
        return rc;
    }
    json_object *extra = http_json_own(r, json_object_new_object());
    json_object_object_add(extra, "image_id", json_object_new_string(c->image_id));
    return listing_emit(tx->pg, r->arena, c->ref.listing_id, "listing.image_attached", extra, &tx->last_seq, &c->state);
}

static int
key_problem(struct request *r, const char *problem)
{
    http_field_error(r, "key", problem);
    return http_fail(r, MK_EVALIDATION, NULL);
}

static int
parse_attach(struct request *r, json_object *body, void *ctx)
{
    return image_parse_attach(r, body, &((struct attach_ctx *)ctx)->key);
}

int
command_image_attach(struct request *r)
{
    struct worker *w = r->worker;
    struct attach_ctx c = {.ref = {.adds = true, .change = attach}};
    int rc = images_begin(r, &c.ref, parse_attach, &c);
    if (rc != MK_OK) {
        return rc;
    }
    char *announced_type, *seller;
    long long announced_size;
    rc = image_ticket_find(&w->pg, r->arena, c.key, c.ref.listing_id, &announced_type, &announced_size, &seller);
    if (rc == MK_ENOTFOUND) {
        return key_problem(r, "no upload of this listing was requested under this key, or it expired");
    }
    if (rc != MK_OK) {
        return rc;
    }
    if (strcmp(seller, c.ref.user_id) != 0) {
        return http_fail(r, MK_EFORBIDDEN, "only the seller may change this listing's images");
    }
    struct s3_response head;
    if (s3_request(&w->s3, r->arena, "HEAD", c.key, NULL, 0, NULL, 0, &head) != MK_OK || head.status >= 500) {
        return s3_down(r);
    }
    if (head.status == 404) {
        return key_problem(r, "no object has been uploaded under this key");
    }
    if (head.status != 200) {
        return s3_down(r);
    }
    if (head.content_type == NULL || strcmp(head.content_type, announced_type) != 0) {
        return key_problem(r, "the uploaded object's type is not the announced one");
    }
    if (head.content_length != announced_size) {
        return key_problem(r, "the uploaded object's size is not the announced one");
    }
    c.content_type = announced_type;
    c.size_bytes = announced_size;
    uuid_new(c.image_id);
    if ((rc = command_run(r, images_body, &c)) != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object *image = json_object_new_object();
    json_object_object_add(image, "id", json_object_new_string(c.image_id));
    json_object_object_add(image, "url",
                           json_object_new_string(arena_sprintf(r->arena, "%s/%s", w->cfg->s3_public_base_url, c.key)));
    json_object_object_add(image, "thumb_url", NULL);
    json_object_object_add(image, "width", NULL);
    json_object_object_add(image, "height", NULL);
    json_object_object_add(doc, "image", image);
    set_listing_etag(r, c.state);
    return http_respond_json(r, 201, doc);
}

/* ---- DELETE /api/v1/listings/{id}/images/{image_id} ------------------------------------ */

struct remove_ctx {
    struct image_ref ref;
    const char *image_id;
    json_object *state;
};

static int
remove_image(struct request *r, struct command_tx *tx, struct image_ref *ref)
{
    struct remove_ctx *c = (struct remove_ctx *)ref;
    char *key, *thumb_key;
    int rc = image_remove(tx->pg, r->arena, c->ref.listing_id, c->image_id, &key, &thumb_key);
    if (rc == MK_ENOTFOUND) {
        return http_fail(r, rc, "no such image");
    }
    if (rc != MK_OK || (rc = listing_touch(tx->pg, r->arena, c->ref.listing_id)) != MK_OK) {
        return rc;
    }
    /* The projector deletes the objects when it applies the event (retried while S3 is down). */
    json_object *extra = http_json_own(r, json_object_new_object());
    json_object *keys = json_object_new_array();
    json_object_array_add(keys, json_object_new_string(key));
    if (thumb_key != NULL) {
        json_object_array_add(keys, json_object_new_string(thumb_key));
    }
    json_object_object_add(extra, "removed_keys", keys);
    return listing_emit(tx->pg, r->arena, c->ref.listing_id, "listing.image_removed", extra, &tx->last_seq, &c->state);
}

int
command_image_remove(struct request *r)
{
    struct worker *w = r->worker;
    struct remove_ctx c = {.ref = {.adds = false, .change = remove_image}};
    int rc = images_begin(r, &c.ref, NULL, NULL);
    if (rc != MK_OK) {
        return rc;
    }
    c.image_id = http_path_param(r, "image_id");
    if (!uuid_valid(c.image_id)) {
        return http_fail(r, MK_ENOTFOUND, "no such image");
    }
    if (s3_check(&w->s3, r->arena) != MK_OK) {
        return s3_down(r);
    }
    if ((rc = command_run(r, images_body, &c)) != MK_OK) {
        return rc;
    }
    set_listing_etag(r, c.state);
    return http_respond_empty(r, 204);
}
