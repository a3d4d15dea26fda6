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

int
query_orders(struct request *r)
{
    static const char *const allowed[] = {"role", "cursor", "limit", NULL};
    static const char *const role_names[] = {[ORDER_ROLE_ANY] = "any", [ORDER_ROLE_BUYER] = "buyer",
                                             [ORDER_ROLE_SELLER] = "seller"};
    struct worker *w = r->worker;
    struct session s;
    int rc = worker_authenticate(r, &s);
    if (rc != MK_OK) {
        return rc;
    }
    int limit;
    if ((rc = query_params_check(r, allowed)) != MK_OK || (rc = query_limit(r, &limit)) != MK_OK) {
        return rc;
    }
    enum order_role role = ORDER_ROLE_ANY;
    const char *v = http_query(r, "role");
    if (v != NULL) {
        if (strcmp(v, "buyer") == 0) {
            role = ORDER_ROLE_BUYER;
        } else if (strcmp(v, "seller") == 0) {
            role = ORDER_ROLE_SELLER;
        } else {
            return http_fail(r, MK_EBADPARAM, "role: must be buyer or seller");
        }
    }
    /* A cursor belongs to one user's one list. */
    const char *scope = arena_sprintf(r->arena, "orders:%s:%s", role_names[role], s.user_id);
    json_object *after;
    if ((rc = query_cursor(r, scope, &after)) != MK_OK) {
        return rc;
    }
    long long after_us = after != NULL ? json_object_get_int64(json_object_array_get_idx(after, 0)) : 0;
    const char *after_id = after != NULL ? json_object_get_string(json_object_array_get_idx(after, 1)) : NULL;
    struct order *orders;
    size_t n;
    rc = order_list(&w->pg_read, r->arena, s.user_id, role, after_us, after_id, limit + 1,
                    &orders, &n);
    if (rc != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object *items = json_object_new_array();
    json_object_object_add(doc, "items", items);
    for (size_t i = 0; i < n && i < (size_t)limit; i++) {
        json_object_array_add(items, json_object_get(orders[i].json));
    }
    json_object *key = NULL;
    if (n > (size_t)limit) {
        key = http_json_own(r, json_object_new_array());
        json_object_array_add(key, json_object_new_int64(orders[limit - 1].created_us));
        json_object_array_add(key, json_object_new_string(orders[limit - 1].id));
    }
    json_object_object_add(doc, "next_cursor", query_next_cursor(r, scope, key));
    http_set_header(r, "Cache-Control", "private, no-store");
    return http_respond_json(r, 200, doc);
}

int
query_order(struct request *r)
{
    struct worker *w = r->worker;
    const char *id = http_path_param(r, "id");
    struct session s;
    int rc = worker_authenticate(r, &s);
    if (rc != MK_OK) {
        return rc;
    }
    struct order o;
    rc = uuid_valid(id) ? order_get(&w->pg_read, r->arena, id, s.user_id, &o) : MK_ENOTFOUND;
    if (rc == MK_ENOTFOUND) {
        /* Also when the order exists but the caller is neither its buyer nor its seller. */
        return http_fail(r, rc, "no such order");
    }
    if (rc != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "order", json_object_get(o.json));
    http_set_header(r, "Cache-Control", "private, no-store");
    return http_respond_json(r, 200, doc);
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
