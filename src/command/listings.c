/*
 * POST /api/v1/listings, PATCH and DELETE /api/v1/listings/{id}: the listing's own fields.
 * Images are in command/images.c.
 */
#include <stdio.h>
#include <string.h>

#include "command/command.h"
#include "command/handlers.h"
#include "core/errors.h"
#include "core/ids.h"
#include "domain/category.h"
#include "domain/listing.h"
#include "domain/offer.h"
#include "domain/session.h"
#include "worker.h"

/* Respond with a listing state: its API shape, ETag "V", no caching. */
static int
respond_listing(struct request *r, int status, json_object *state)
{
    struct worker *w = r->worker;
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object *listing = listing_client_json(state, w->cfg->s3_public_base_url);
    json_object_object_add(doc, "listing", listing);
    json_object *version = json_object_object_get(listing, "version");
    http_set_header(r, "ETag", arena_sprintf(r->arena, "\"%lld\"", (long long)json_object_get_int64(version)));
    http_set_header(r, "Cache-Control", "no-store");
    return http_respond_json(r, status, doc);
}

/* ---- POST /api/v1/listings -------------------------------------------------------- */

struct create_ctx {
    const char *seller_id;
    struct listing_input in;
    char id[UUID_STR_LEN + 1];
    json_object *state;
};

static int
create_body(struct request *r, struct command_tx *tx, void *data)
{
    struct create_ctx *c = data;
    int rc = listing_insert(tx->pg, r->arena, c->id, c->seller_id, &c->in);
    if (rc == MK_OK) {
        rc = listing_emit(tx->pg, r->arena, c->id, "listing.created", NULL, &tx->last_seq, &c->state);
    }
    return rc;
}

int
command_create_listing(struct request *r)
{
    struct worker *w = r->worker;
    struct session s;
    int rc = worker_authenticate(r, &s);
    if (rc != MK_OK) {
        return rc;
    }
    json_object *body;
    if ((rc = http_json_body(r, &body)) != MK_OK) {
        return rc;
    }
    struct create_ctx c = {.seller_id = s.user_id};
    listing_parse(r, body, false, &c.in);
    const struct category_set *cats;
    if ((rc = worker_categories(w, r->arena, &cats)) != MK_OK) {
        return rc;
    }
    if (c.in.category != NULL) {
        category_validate_attributes(cats, c.in.category, c.in.attributes, r);
    }
    if (r->err_fields != NULL) {
        return http_fail(r, MK_EVALIDATION, NULL);
    }
    uuid_new(c.id);
    if ((rc = command_run(r, create_body, &c)) != MK_OK) {
        return rc;
    }
    http_set_header(r, "Location", arena_sprintf(r->arena, "/api/v1/listings/%s", c.id));
    return respond_listing(r, 201, c.state);
}

/* ---- shared by PATCH and DELETE --------------------------------------------------- */

/*
 * The checks every change of a listing makes, in the order HTTP evaluates them: the
 * listing exists (404), the caller is its seller (403), If-Match matches when given or
 * required (428 / 412), and its state allows a change (409).
 */
static int
check_change(struct request *r, const struct listing_row *row, const char *user_id, bool if_match_required)
{
    if (strcmp(row->seller_id, user_id) != 0) {
        return http_fail(r, MK_EFORBIDDEN, "only the seller may change this listing");
    }
    const char *if_match = http_header(r, "If-Match");
    if (if_match == NULL && if_match_required) {
        return http_fail(r, MK_EPRECONDREQ, "send If-Match with the listing's ETag (\"version\")");
    }
    if (if_match != NULL) {
        if (!listing_if_match(if_match, row->version)) {
            return http_fail(r, MK_EPRECONDITION,
                             arena_sprintf(r->arena, "the listing is at version %lld", row->version));
        }
    }
    if (strcmp(row->status, "draft") != 0 && strcmp(row->status, "active") != 0) {
        return http_fail(r, MK_ETRANSITION, arena_sprintf(r->arena, "the listing is %s", row->status));
    }
    return MK_OK;
}

/* ---- PATCH /api/v1/listings/{id} -------------------------------------------------- */

struct patch_ctx {
    const char *id;
    const char *user_id;
    struct listing_input in;
    const struct category_set *cats;
    json_object *state;
};

static int
patch_body(struct request *r, struct command_tx *tx, void *data)
{
    struct patch_ctx *c = data;
    struct listing_row row;
    int rc = listing_lock(tx->pg, r->arena, c->id, &row);
    if (rc == MK_ENOTFOUND) {
        return http_fail(r, rc, "no such listing");
    }
    if (rc != MK_OK || (rc = check_change(r, &row, c->user_id, true)) != MK_OK) {
        return rc;
    }
    /* The attributes must fit the category the listing will have after the patch. */
    if (c->in.category != NULL || c->in.attributes != NULL) {
        const char *category = c->in.category != NULL ? c->in.category : row.category;
        json_object *attributes = c->in.attributes != NULL ? c->in.attributes : row.attributes;
        if (category_validate_attributes(c->cats, category, attributes, r) != MK_OK) {
            return http_fail(r, MK_EVALIDATION, NULL);
        }
    }
    if ((rc = listing_update(tx->pg, r->arena, c->id, &c->in)) != MK_OK) {
        return rc;
    }
    /* What the listing was before: a price drop and a listing that becomes active make
     * notifications (domain/notify.c), and events otherwise carry only the new state. */
    json_object *before = json_object_new_object();
    arena_cleanup_add(r->arena, (arena_cleanup_fn)(void (*)(void))json_object_put, before);
    json_object_object_add(before, "previous_price_minor", json_object_new_int64(row.price_minor));
    json_object_object_add(before, "previous_currency", json_object_new_string(row.currency));
    json_object_object_add(before, "previous_status", json_object_new_string(row.status));
    return listing_emit(tx->pg, r->arena, c->id, "listing.updated", before, &tx->last_seq, &c->state);
}

static int
parse_patch(struct request *r, json_object *body, void *ctx)
{
    return listing_parse(r, body, true, &((struct patch_ctx *)ctx)->in);
}

int
command_update_listing(struct request *r)
{
    struct worker *w = r->worker;
    struct patch_ctx c = {0};
    int rc = command_begin_json(r, "listing", &c.id, &c.user_id, parse_patch, &c);
    if (rc != MK_OK) {
        return rc;
    }
    if ((rc = worker_categories(w, r->arena, &c.cats)) != MK_OK) {
        return rc;
    }
    if ((rc = command_run(r, patch_body, &c)) != MK_OK) {
        return rc;
    }
    return respond_listing(r, 200, c.state);
}

/* ---- DELETE /api/v1/listings/{id} ------------------------------------------------- */

struct delete_ctx {
    const char *id;
    const char *user_id;
};

static int
delete_body(struct request *r, struct command_tx *tx, void *data)
{
    struct delete_ctx *c = data;
    struct listing_row row;
    int rc = listing_lock(tx->pg, r->arena, c->id, &row);
    if (rc == MK_ENOTFOUND || (rc == MK_OK && strcmp(row.status, "deleted") == 0)) {
        return http_fail(r, MK_ENOTFOUND, "no such listing");
    }
    if (rc != MK_OK || (rc = check_change(r, &row, c->user_id, false)) != MK_OK) {
        return rc;
    }
    /* Open offers end with the listing (declined by the system); its event last. */
    if ((rc = listing_set_status(tx->pg, r->arena, c->id, "deleted")) != MK_OK ||
        (rc = offer_decline_open(tx->pg, r->arena, c->id, NULL, &tx->last_seq)) != MK_OK) {
        return rc;
    }
    return listing_emit(tx->pg, r->arena, c->id, "listing.deleted", NULL, &tx->last_seq, NULL);
}

int
command_delete_listing(struct request *r)
{
    struct delete_ctx c = {0};
    int rc = command_listing_begin(r, &c.id, &c.user_id);
    if (rc != MK_OK) {
        return rc;
    }
    if ((rc = command_run(r, delete_body, &c)) != MK_OK) {
        return rc;
    }
    return http_respond_empty(r, 204);
}
