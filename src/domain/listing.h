/*
 * listing.h — the listing aggregate: validation of its fields, its SQL, and its events.
 *
 * Every change runs inside the caller's transaction and ends with listing_emit(), which
 * reads the listing's whole resulting state (with its images and category path) from
 * PostgreSQL as one JSON document and appends it to the outbox. The same document, shaped
 * by listing_client_json(), is the write's response, so a response and the read model
 * always agree on what a listing looks like.
 */
#ifndef MK_LISTING_H
#define MK_LISTING_H

#include <stdbool.h>

#include <json-c/json.h>

#include "core/http.h"
#include "store/pg.h"

#define LISTING_TITLE_MIN 3
#define LISTING_TITLE_MAX 120
#define LISTING_DESCRIPTION_MAX 5000
#define LISTING_PRICE_MAX 100000000LL
#define LISTING_MAX_IMAGES 10
#define LISTING_IMAGE_MAX_BYTES (10 * 1024 * 1024)

/* Fields of a create or a patch, validated for shape. NULL / has_* false: not given. */
struct listing_input {
    const char *title;
    const char *description;
    const char *category;
    const char *condition;
    bool has_price;
    long long price_minor;
    const char *currency;
    json_object *location;     /* normalised by location_parse; owned by the arena */
    json_object *attributes;   /* the object as sent; checked against the category later */
    const char *status;        /* "draft" or "active" */
};

/*
 * Validate body's shape: partial (PATCH) makes every field optional. Each problem goes to
 * http_field_error; the category's attribute schema is checked separately
 * (category_validate_attributes) because a patch may need the stored category.
 * Returns MK_OK or MK_EVALIDATION.
 */
int listing_parse(struct request *r, json_object *body, bool partial, struct listing_input *out);

/* The stored facts a command decides on, read under a row lock (SELECT ... FOR UPDATE). */
struct listing_row {
    char *id;
    char *seller_id;
    char *status;
    char *category;
    json_object *attributes;   /* owned by the arena */
    long long version;
    int nimages;
    long long price_minor;
    char *currency;
};

/* Lock and read listing id inside the caller's transaction. MK_ENOTFOUND when absent. */
int listing_lock(struct pg *pg, arena_t *a, const char *id, struct listing_row *out);

/* Insert a new listing (version 1) for seller. */
int listing_insert(struct pg *pg, arena_t *a, const char *id, const char *seller_id, const struct listing_input *in);

/* Apply the given fields of in (a patch) and bump the version. */
int listing_update(struct pg *pg, arena_t *a, const char *id, const struct listing_input *in);

/* Set the status and bump the version. */
int listing_set_status(struct pg *pg, arena_t *a, const char *id, const char *status);

/* Bump the version only (an image was attached or removed). */
int listing_touch(struct pg *pg, arena_t *a, const char *id);

/* What a sale needs from the listing it sells. Strings live in the arena. */
struct listing_sale {
    char *seller_id;
    long long price_minor;
    char *currency;
};

/*
 * Sell listing id to buyer_id: one conditional UPDATE (active → sold, version bumped) that
 * changes the row only when it is active and buyer_id is not its seller, so of concurrent
 * buyers exactly one succeeds. MK_OK with *out, or MK_ENOTFOUND when nothing changed
 * (listing_lock tells why).
 */
int listing_sell(struct pg *pg, arena_t *a, const char *id, const char *buyer_id, struct listing_sale *out);

/*
 * Move listing id from status `from` to status `to` and bump its version, with one
 * conditional UPDATE: MK_ENOTFOUND when it is not in `from`. A cancelled order relists
 * (sold → active); offers reserve (active → reserved), lapse (reserved → active) and sell
 * (reserved → sold).
 */
int listing_move(struct pg *pg, arena_t *a, const char *id, const char *from, const char *to);

/*
 * Append event_type with the listing's resulting state to the outbox. extra (may be NULL)
 * adds members to the payload (e.g. "removed_keys"). *state (may be NULL) receives the
 * state document, owned by the arena; *seq the event's position.
 */
int listing_emit(struct pg *pg, arena_t *a, const char *id, const char *event_type, json_object *extra,
                 long long *seq, json_object **state);

/*
 * The API shape of a listing from its state document: drops internal members
 * (category_path, created_us, removed_keys), turns image keys into URLs under public_base ({"id",
 * "url", "thumb_url", "width", "height"}). A new object; the caller owns it.
 */
json_object *listing_client_json(json_object *state, const char *public_base);

/*
 * Whether an If-Match value matches a listing at version: "*", or a list of entity tags
 * (RFC 9110) one of which is "V", W/"V" or "V-anything" (the ETag of a read, which adds a
 * representation hash after the version), V written as the ETag writes it ("01" names no
 * version: an entity tag is compared as a string). A value that is not a well-formed list
 * matches nothing (a 412).
 */
bool listing_if_match(const char *value, long long version);

#endif
