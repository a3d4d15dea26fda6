/*
 * GET /api/v1/offers and GET /api/v1/offers/{id}: private reads of the write model (offers
 * have no read model), through the worker's pg_read handle (the replica when configured).
 */
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "domain/offer.h"
#include "domain/session.h"
#include "query/handlers.h"
#include "query/params.h"
#include "worker.h"

static void
offer_item(const void *items, size_t i, json_object **json, long long *key_us, const char **id)
{
    const struct offer *o = (const struct offer *)items + i;
    *json = o->json;
    *key_us = o->created_us;
    *id = o->id;
}

int
query_offers(struct request *r)
{
    static const char *const allowed[] = {"role", "status", "cursor", "limit", NULL};
    static const char *const role_names[] = {[OFFER_ROLE_ANY] = "any", [OFFER_ROLE_BUYER] = "buyer",
                                             [OFFER_ROLE_SELLER] = "seller"};
    struct worker *w = r->worker;
    struct session s;
    int rc = worker_authenticate(r, &s);
    int limit, role = OFFER_ROLE_ANY;
    if (rc != MK_OK || (rc = query_params_check(r, allowed)) != MK_OK || (rc = query_limit(r, &limit)) != MK_OK ||
        (rc = query_role(r, &role)) != MK_OK) {
        return rc;
    }
    const char *status = http_query(r, "status");
    if (status != NULL && !offer_status_valid(status)) {
        return http_fail(r, MK_EBADPARAM,
                         "status: must be one of open, accepted, declined, withdrawn, expired, completed");
    }
    /* A cursor belongs to one user's one list. */
    const char *scope =
        arena_sprintf(r->arena, "offers:%s:%s:%s", role_names[role], status != NULL ? status : "any", s.user_id);
    long long after_us;
    const char *after_id;
    if ((rc = query_keyset_cursor(r, scope, &after_us, &after_id)) != MK_OK) {
        return rc;
    }
    struct offer *offers;
    size_t n;
    rc = offer_list(&w->pg_read, r->arena, s.user_id, (enum offer_role)role, status, after_us, after_id,
                    limit + 1, &offers, &n);
    return rc != MK_OK ? rc : query_respond_page(r, scope, offers, n, limit, offer_item);
}

static int
offer_json(struct pg *pg, arena_t *a, const char *id, const char *user_id, json_object **json)
{
    struct offer o;
    int rc = offer_get(pg, a, id, user_id, &o);
    *json = rc == MK_OK ? o.json : NULL;
    return rc;
}

int
query_offer(struct request *r)
{
    return query_private_read(r, "offer", offer_json);
}
