/*
 * GET /api/v1/orders, GET /api/v1/orders/{id}, GET /api/v1/users/me/balance: private reads
 * of the write model, through the worker's pg_read handle (the replica when configured).
 */
#include <string.h>

#include "core/cursor.h"
#include "core/errors.h"
#include "core/ids.h"
#include "domain/ledger.h"
#include "domain/order.h"
#include "domain/session.h"
#include "query/handlers.h"
#include "query/private.h"
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
    int rc = session_authenticate(r, &w->redis, w->cfg, &s, NULL);
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
    long long after_us = 0;
    char after_id[UUID_STR_LEN + 1];
    const char *cursor = http_query(r, "cursor");
    if (cursor != NULL && cursor_decode(w->cfg->cursor_secret, scope, cursor, &after_us, after_id) != MK_OK) {
        return http_fail(r, MK_EBADPARAM, "cursor: is not a cursor of this list");
    }
    struct order *orders;
    size_t n;
    rc = order_list(query_private_pg(r), r->arena, s.user_id, role, after_us, cursor != NULL ? after_id : NULL, limit + 1,
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
    json_object *next = NULL;
    if (n > (size_t)limit) {
        const struct order *last = &orders[limit - 1];
        next = json_object_new_string(cursor_encode(r->arena, w->cfg->cursor_secret, scope, last->created_us, last->id));
    }
    json_object_object_add(doc, "next_cursor", next);
    http_set_header(r, "Cache-Control", "private, no-store");
    return http_respond_json(r, 200, doc);
}

int
query_order(struct request *r)
{
    struct worker *w = r->worker;
    const char *id = http_path_param(r, "id");
    struct session s;
    int rc = session_authenticate(r, &w->redis, w->cfg, &s, NULL);
    if (rc != MK_OK) {
        return rc;
    }
    struct order o;
    rc = uuid_valid(id) ? order_get(query_private_pg(r), r->arena, id, s.user_id, &o) : MK_ENOTFOUND;
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
    int rc = session_authenticate(r, &w->redis, w->cfg, &s, NULL);
    if (rc != MK_OK) {
        return rc;
    }
    struct ledger_balance *b;
    size_t n;
    if ((rc = ledger_balances(query_private_pg(r), r->arena, s.user_id, &b, &n)) != MK_OK) {
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
