/*
 * GET /api/v1/offers and GET /api/v1/offers/{id}: private reads of the write model (offers
 * have no read model), through the worker's pg_read handle (the replica when configured).
 */
#include <string.h>

#include "core/cursor.h"
#include "core/errors.h"
#include "core/ids.h"
#include "domain/offer.h"
#include "domain/session.h"
#include "query/handlers.h"
#include "query/params.h"
#include "worker.h"

/* role and status of the query string: role buyer|seller (absent: both), status one of the
 * offer statuses (absent: NULL, any). */
static int
list_filters(struct request *r, enum offer_role *role, const char **status)
{
    const char *v = http_query(r, "role");
    *role = OFFER_ROLE_ANY;
    if (v != NULL) {
        if (strcmp(v, "buyer") == 0) {
            *role = OFFER_ROLE_BUYER;
        } else if (strcmp(v, "seller") == 0) {
            *role = OFFER_ROLE_SELLER;
        } else {
            return http_fail(r, MK_EBADPARAM, "role: must be buyer or seller");
        }
    }
    *status = http_query(r, "status");
    if (*status != NULL && !offer_status_valid(*status)) {
        return http_fail(r, MK_EBADPARAM,
                         "status: must be one of open, accepted, declined, withdrawn, expired, completed");
    }
    return MK_OK;
}

int
query_offers(struct request *r)
{
    static const char *const allowed[] = {"role", "status", "cursor", "limit", NULL};
    static const char *const role_names[] = {[OFFER_ROLE_ANY] = "any", [OFFER_ROLE_BUYER] = "buyer",
                                             [OFFER_ROLE_SELLER] = "seller"};
    struct worker *w = r->worker;
    struct session s;
    int rc = session_authenticate(r, &w->redis, w->cfg, &s, NULL);
    int limit;
    enum offer_role role = OFFER_ROLE_ANY;
    const char *status = NULL;
    if (rc != MK_OK || (rc = query_params_check(r, allowed)) != MK_OK || (rc = query_limit(r, &limit)) != MK_OK ||
        (rc = list_filters(r, &role, &status)) != MK_OK) {
        return rc;
    }
    /* A cursor belongs to one user's one list. */
    const char *scope =
        arena_sprintf(r->arena, "offers:%s:%s:%s", role_names[role], status != NULL ? status : "any", s.user_id);
    long long after_us = 0;
    char after_id[UUID_STR_LEN + 1];
    const char *cursor = http_query(r, "cursor");
    if (cursor != NULL && cursor_decode(w->cfg->cursor_secret, scope, cursor, &after_us, after_id) != MK_OK) {
        return http_fail(r, MK_EBADPARAM, "cursor: is not a cursor of this list");
    }
    struct offer *offers;
    size_t n;
    rc = offer_list(&w->pg_read, r->arena, s.user_id, role, status, after_us, cursor != NULL ? after_id : NULL,
                    limit + 1, &offers, &n);
    if (rc != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object *items = json_object_new_array();
    json_object_object_add(doc, "items", items);
    for (size_t i = 0; i < n && i < (size_t)limit; i++) {
        json_object_array_add(items, json_object_get(offers[i].json));
    }
    json_object *next = NULL;
    if (n > (size_t)limit) {
        const struct offer *last = &offers[limit - 1];
        next = json_object_new_string(cursor_encode(r->arena, w->cfg->cursor_secret, scope, last->created_us, last->id));
    }
    json_object_object_add(doc, "next_cursor", next);
    http_set_header(r, "Cache-Control", "private, no-store");
    return http_respond_json(r, 200, doc);
}

int
query_offer(struct request *r)
{
    struct worker *w = r->worker;
    const char *id = http_path_param(r, "id");
    struct session s;
    int rc = session_authenticate(r, &w->redis, w->cfg, &s, NULL);
    if (rc != MK_OK) {
        return rc;
    }
    struct offer o;
    rc = uuid_valid(id) ? offer_get(&w->pg_read, r->arena, id, s.user_id, &o) : MK_ENOTFOUND;
    if (rc == MK_ENOTFOUND) {
        /* Also when the offer exists but the caller is neither its buyer nor its seller. */
        return http_fail(r, rc, "no such offer");
    }
    if (rc != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "offer", json_object_get(o.json));
    http_set_header(r, "Cache-Control", "private, no-store");
    return http_respond_json(r, 200, doc);
}
