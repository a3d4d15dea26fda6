/*
 * GET /api/v1/orders, GET /api/v1/orders/{id}, GET /api/v1/users/me/balance: private reads
 * of the write model, through the worker's pg_read handle (the replica when configured).
 */
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "domain/ledger.h"
#include "domain/order.h"
#include "domain/session.h"
#include "query/handlers.h"
#include "query/params.h"
#include "worker.h"

static void
order_item(const void *items, size_t i, json_object **json, long long *key_us, const char **id)
{
    const struct order *o = (const struct order *)items + i;
    *json = o->json;
    *key_us = o->created_us;
    *id = o->id;
}

int
query_orders(struct request *r)
{
    static const char *const allowed[] = {"role", "cursor", "limit", NULL};
    static const char *const role_names[] = {[ORDER_ROLE_ANY] = "any", [ORDER_ROLE_BUYER] = "buyer",
                                             [ORDER_ROLE_SELLER] = "seller"};
    struct worker *w = r->worker;
    struct session s;
    int rc = worker_authenticate(r, &s);
    int limit, role = ORDER_ROLE_ANY;
    if (rc != MK_OK || (rc = query_params_check(r, allowed)) != MK_OK || (rc = query_limit(r, &limit)) != MK_OK ||
        (rc = query_role(r, &role)) != MK_OK) {
        return rc;
    }
    /* A cursor belongs to one user's one list. */
    const char *scope = arena_sprintf(r->arena, "orders:%s:%s", role_names[role], s.user_id);
    long long after_us;
    const char *after_id;
    if ((rc = query_keyset_cursor(r, scope, &after_us, &after_id)) != MK_OK) {
        return rc;
    }
    struct order *orders;
    size_t n;
    rc = order_list(&w->pg_read, r->arena, s.user_id, (enum order_role)role, after_us, after_id,
                    limit + 1, &orders, &n);
    return rc != MK_OK ? rc : query_respond_page(r, scope, orders, n, limit, order_item);
}

static int
order_json(struct pg *pg, arena_t *a, const char *id, const char *user_id, json_object **json)
{
    struct order o;
    int rc = order_get(pg, a, id, user_id, &o);
    *json = rc == MK_OK ? o.json : NULL;
    return rc;
}

int
query_order(struct request *r)
{
    return query_private_read(r, "order", order_json);
}

int
query_balance(struct request *r)
{
    struct worker *w = r->worker;
    struct session s;
    int rc = worker_authenticate(r, &s);
    if (rc != MK_OK) {
        return rc;
    }
    struct ledger_balance *b;
    size_t n;
    if ((rc = ledger_balances(&w->pg_read, r->arena, s.user_id, &b, &n)) != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object *list = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "currency", json_object_new_string(b[i].currency));
        json_object_object_add(o, "available_minor", json_object_new_int64(b[i].available_minor));
        json_object_object_add(o, "held_minor", json_object_new_int64(b[i].held_minor));
        json_object_array_add(list, o);
    }
    json_object_object_add(doc, "balances", list);
    http_set_header(r, "Cache-Control", "private, no-store");
    return http_respond_json(r, 200, doc);
}
