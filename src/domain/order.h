/*
 * order.h — the order aggregate: validation of what a buyer and a seller send, the state
 * machine and who may move it, its SQL, and its events.
 *
 *   paid ──ship (seller)──► shipped ──confirm (buyer)──► delivered
 *     └───cancel (buyer or seller)──► cancelled
 *
 * Every transition is one conditional UPDATE (… WHERE id = $1 AND status = <from> AND
 * <the caller is the right party> RETURNING …) inside the command's transaction, so two
 * racing transitions cannot both succeed. When it changes no row, order_check() on the
 * current row says why: 404 for someone who is neither buyer nor seller (an order's
 * existence is not revealed), 403 for the other party, 409 for a wrong state.
 *
 * Events ("order.created", "order.shipped", "order.delivered", "order.cancelled") carry
 * the order's state and version without the shipping address (personal data that nothing
 * downstream of the outbox needs), plus the payment references.
 */
#ifndef MK_ORDER_H
#define MK_ORDER_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/http.h"
#include "store/pg.h"

#define ORDER_NAME_MAX 100
#define ORDER_LINE_MAX 200
#define ORDER_CITY_MAX 100
#define ORDER_POSTAL_MAX 20
#define ORDER_CARRIER_MAX 50
#define ORDER_TRACKING_MAX 100

/* A shipping address, trimmed; line2 is NULL when absent. */
struct order_address {
    const char *name;
    const char *line1;
    const char *line2;
    const char *city;
    const char *postal_code;
    const char *country;
};

struct order_tracking {
    const char *carrier;
    const char *number;
};

/* True when code is an ISO 3166-1 alpha-2 code in use (upper case), or XK (Kosovo, which
 * carriers use). */
bool order_country_valid(const char *code);

/*
 * POST /orders: {"listing_id" or "offer_id" (exactly one), "shipping_address"}. Problems go
 * to http_field_error under "listing_id", "offer_id", "shipping_address.<member>" (unknown
 * members too). The id not given is NULL. MK_OK or MK_EVALIDATION.
 */
int order_parse_create(struct request *r, json_object *body, const char **listing_id, const char **offer_id,
                       struct order_address *addr);

/* POST /orders/{id}/ship: {"carrier", "number"}, trimmed one-line strings. */
int order_parse_tracking(struct request *r, json_object *body, struct order_tracking *out);


enum order_action { ORDER_SHIP, ORDER_CONFIRM, ORDER_CANCEL };

/*
 * May user_id take action on an order of buyer_id and seller_id in status? MK_OK, or
 * MK_ENOTFOUND (neither party), MK_EFORBIDDEN (the other party), MK_ETRANSITION (the
 * state does not allow it), in that order of precedence.
 */
int order_check(enum order_action action, const char *user_id, const char *buyer_id, const char *seller_id,
                const char *status);

/* An order as stored. Strings and json live in the arena. */
struct order {
    char *id;
    char *listing_id;
    char *buyer_id;
    char *seller_id;
    char *status;
    long long amount_minor;
    char *currency;
    char *payment_provider;
    char *payment_ref;
    char *refund_ref;       /* NULL until cancelled */
    long long version;
    long long created_us;   /* microseconds since the epoch: the list's sort key */
    json_object *json;      /* the API shape */
    const char *cancelled_by;   /* "buyer" or "seller" when a cancel is emitted (for notifications), else NULL */
};

/* What a purchase stores. */
struct order_new {
    const char *id;
    const char *listing_id;
    const char *buyer_id;
    const char *seller_id;
    long long amount_minor;
    const char *currency;
    const struct order_address *address;
    const char *payment_provider;
    const char *payment_ref;
    const char *offer_id;    /* the accepted offer bought with, or NULL */
};

/* Inside the caller's transaction: insert a `paid` order (version 1). */
int order_insert(struct pg *pg, arena_t *a, const struct order_new *n, struct order *out);

/*
 * Inside the caller's transaction: the conditional UPDATE of action by user_id (tracking
 * for ORDER_SHIP, else NULL). MK_OK with *out in its new state, or why not (order_check's
 * codes; MK_ENOTFOUND also when the order does not exist).
 */
int order_transition(struct pg *pg, arena_t *a, const char *id, const char *user_id, enum order_action action,
                     const struct order_tracking *tracking, struct order *out);

/* Record the refund reference of a cancelled order; *out receives the order. */
int order_set_refund(struct pg *pg, arena_t *a, const char *id, const char *refund_ref, struct order *out);

/* Append event_type with the order's state (see above); *seq receives its position. */
int order_emit(struct pg *pg, arena_t *a, const struct order *o, const char *event_type, long long *seq);

/* The order id if user_id is its buyer or seller; MK_ENOTFOUND otherwise. */
int order_get(struct pg *pg, arena_t *a, const char *id, const char *user_id, struct order *out);

enum order_role { ORDER_ROLE_ANY, ORDER_ROLE_BUYER, ORDER_ROLE_SELLER };

/*
 * user_id's orders in role, newest first by (created_at, id), after the item (after_us,
 * after_id) when after_id is not NULL; at most limit. *out (arena) and *n receive them.
 */
int order_list(struct pg *pg, arena_t *a, const char *user_id, enum order_role role, long long after_us,
               const char *after_id, int limit, struct order **out, size_t *n);

#endif
