/*
 * image.h — images of listings: upload tickets, attached images, and their SQL.
 *
 * Keys live under the listing's prefix, "listings/<listing id>/<image id>.<ext>", and the
 * thumbnail beside it as "...-thumb.jpg". A ticket records what the client announced
 * (type, size) when it asked for a pre-signed PUT; the signature binds both, and attach
 * compares the object's HEAD with the ticket.
 */
#ifndef MK_IMAGE_H
#define MK_IMAGE_H

#include <stdbool.h>

#include "core/http.h"
#include "store/pg.h"

#define IMAGE_UPLOAD_TTL_S 900   /* the pre-signed URL's life */

/* True for image/jpeg, image/png and image/webp. */
bool image_content_type_ok(const char *content_type);

/* The object key of a new image of listing (arena). */
char *image_key_new(arena_t *a, const char *listing_id, const char *content_type);

/* The thumbnail key of an image key (arena). */
/* The body of POST /api/v1/listings/{id}/images/uploads: {"content_type", "size_bytes"}
 * (an allowed type; 1..LISTING_IMAGE_MAX_BYTES). MK_OK or MK_EVALIDATION, problems
 * recorded on r. */
int image_parse_upload(struct request *r, json_object *body, const char **content_type, long long *size_bytes);

/* The body of POST /api/v1/listings/{id}/images: {"key": string}. MK_OK or
 * MK_EVALIDATION, problems recorded on r. */
int image_parse_attach(struct request *r, json_object *body, const char **key);

char *image_thumb_key(arena_t *a, const char *key);

/* Record a ticket (and sweep expired ones). */
int image_ticket_create(struct pg *pg, arena_t *a, const char *key, const char *listing_id, const char *content_type,
                        long long size_bytes);

/* The ticket of key for listing: announced type and size, and the listing's seller.
 * MK_ENOTFOUND when there is none (or it expired). Strings in the arena. */
int image_ticket_find(struct pg *pg, arena_t *a, const char *key, const char *listing_id, char **content_type,
                      long long *size_bytes, char **seller_id);

/* Attach: insert the image (pending) after the listing's others and drop the ticket. A key
 * attached already gives MK_ECONFLICT. */
int image_attach(struct pg *pg, arena_t *a, const char *image_id, const char *listing_id, const char *key,
                 const char *content_type, long long size_bytes);

/* Remove image_id of listing_id; *key and *thumb_key (NULL when none) receive its objects.
 * MK_ENOTFOUND when the listing has no such image. */
int image_remove(struct pg *pg, arena_t *a, const char *listing_id, const char *image_id, char **key,
                 char **thumb_key);

/* For the projector: lock a pending image. MK_ENOTFOUND when it is gone or already done. */
int image_lock_pending(struct pg *pg, arena_t *a, const char *image_id, char **listing_id, char **key,
                       long long *size_bytes);

/* The media thread (projector/media.c): claim the oldest pending image nobody holds for
 * claim_s seconds. MK_ENOTFOUND when there is none. Strings in the arena. */
int image_claim_pending(struct pg *pg, arena_t *a, int claim_s, char **image_id, char **listing_id, char **key);

/* Move the end of a pending image's claim to now + claim_s (retry it then). */
int image_claim_extend(struct pg *pg, arena_t *a, const char *image_id, int claim_s);

/* Queue bucket objects for deletion (a key queued already stays queued once). */
int media_deletion_queue(struct pg *pg, arena_t *a, const char *const *keys, size_t n);

/* Claim up to limit due deletions (each is postponed while worked on, longer after every
 * attempt); *keys (arena) and *n receive them. */
int media_deletion_claim(struct pg *pg, arena_t *a, int limit, char ***keys, int *n);

/* A deletion is done (the object is gone). */
int media_deletion_done(struct pg *pg, arena_t *a, const char *key);

/* Mark a pending image ready with its size and thumbnail. */
int image_mark_ready(struct pg *pg, arena_t *a, const char *image_id, int width, int height, const char *thumb_key);

/* Delete an image row (a file that is not an image). */
int image_delete(struct pg *pg, arena_t *a, const char *image_id);

#endif
