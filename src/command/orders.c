/*
 * POST /api/v1/orders (buy a listing, with an Idempotency-Key) and the order's transitions
 * POST /api/v1/orders/{id}/ship, /confirm, /cancel. Each is one PostgreSQL transaction with
 * its ledger journal and its events. Reviews of orders are in command/reviews.c.
 */
#include <string.h>

#include "command/command.h"
#include "command/handlers.h"
#include "core/errors.h"
#include "core/ids.h"
#include "core/log.h"
#include "domain/idempotency.h"
#include "domain/ledger.h"
#include "domain/listing.h"
#include "domain/offer.h"
#include "domain/order.h"
#include "domain/payment.h"
#include "domain/session.h"
#include "worker.h"

/* {"order": ...} as the bytes of the answer (serialised as http_respond_json does). */
static const char *
order_body(struct request *r, const struct order *o)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "order", json_object_get(o->json));
    const char *text =
        arena_strdup(r->arena, json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(doc);
    return text;
}

static struct ledger_move
move_of(const struct order *o)
{
    return (struct ledger_move){
        .order_id = o->id,
        .provider = o->payment_provider,
        .buyer_id = o->buyer_id,
        .seller_id = o->seller_id,
        .amount_minor = o->amount_minor,
        .currency = o->currency,
    };
}

/* ---- POST /api/v1/orders ------------------------------------------------------------ */

struct create_ctx {
    const char *buyer_id;
    const char *key;
    char hash[IDEM_HASH_HEX + 1];
    const char *listing_id;
    const char *offer_id;        /* buying with an accepted offer (listing_id then NULL) */
    struct order_address address;
    char order_id[UUID_STR_LEN + 1];
    /* the answer, stored under the key or replayed from it */
    struct idem_record answer;
    bool replayed;
};

/*
 * A refusal decided inside the transaction (own listing, not available, unknown listing)
 * is an answer like a success: it is rendered now, stored under the key and committed
 * (the transaction has written nothing else), so a retry gets the same answer.
 */
static int
store_refusal(struct request *r, struct command_tx *tx, struct create_ctx *c, int outcome)
{
    http_finish(r, outcome);
    c->answer = (struct idem_record){
        .request_hash = c->hash,
        .status = r->status,
        .body = arena_strndup(r->arena, r->out, r->out_len),
    };
    return idem_store(tx->pg, r->arena, c->buyer_id, c->key, &c->answer);
}

static int buy_with_offer(struct request *r, struct command_tx *tx, struct create_ctx *c, const char *offer_id);

/* The listing could not be sold: why (with the row locked, so the answer is settled). The
 * buyer a listing is reserved for buys it through their accepted offer. */
static int
why_not_sold(struct request *r, struct command_tx *tx, struct create_ctx *c)
{
    struct listing_row row;
    int rc = listing_lock(tx->pg, r->arena, c->listing_id, &row);
    if (rc == MK_ENOTFOUND) {
        http_field_error(r, "listing_id", "no such listing");
        return store_refusal(r, tx, c, http_fail(r, MK_EVALIDATION, NULL));
    }
    if (rc != MK_OK) {
        return rc;
    }
    if (strcmp(row.seller_id, c->buyer_id) == 0) {
        return store_refusal(r, tx, c, http_fail(r, MK_EFORBIDDEN, "you cannot buy your own listing"));
    }
    /* API.md: 409 whenever the listing is not active. A draft is not told apart from a deleted
     * listing (GET /listings/{id} says 404 to both), so its status is not named. */
    if (strcmp(row.status, "draft") == 0 || strcmp(row.status, "deleted") == 0) {
        return store_refusal(r, tx, c, http_fail(r, MK_ENOTAVAILABLE, "the listing is not available"));
    }
    char *offer_id;
    if (strcmp(row.status, "reserved") == 0 &&
        (rc = offer_accepted_of_buyer(tx->pg, r->arena, c->listing_id, c->buyer_id, &offer_id)) != MK_ENOTFOUND) {
        return rc == MK_OK ? buy_with_offer(r, tx, c, offer_id) : rc;
    }
    return store_refusal(r, tx, c,
                         http_fail(r, MK_ENOTAVAILABLE, arena_sprintf(r->arena, "the listing is %s", row.status)));
}

/* What is sold, to whom, at what price: the listing's, or an accepted offer's. */
struct sale {
    const char *listing_id;
    const char *seller_id;
    long long amount_minor;
    const char *currency;
    const struct offer *offer;   /* NULL: bought at the listing's price */
};

/*
 * The listing is sold (its row changed by the caller): the buyer pays through the provider,
 * the money waits in the seller's escrow, the order and its events are written and the
 * answer is stored under the key. Events: order.created, then the offer's (completed) or the
 * declines of the listing's open offers, then listing.sold last, so X-Event-Seq used as
 * X-Min-Seq on the listing waits for it.
 */
static int
finish_sale(struct request *r, struct command_tx *tx, struct create_ctx *c, const struct sale *sale)
{
    arena_t *a = r->arena;
    const struct payment_provider *pp = payment_default();
    struct payment_charge charge = {c->order_id, c->buyer_id, sale->amount_minor, sale->currency};
    const char *charge_ref;
    int rc;
    if ((rc = pp->charge(pp, a, &charge, &charge_ref)) != MK_OK) {
        log_error("payment: %s refused a charge for order %s (%d)", pp->name, c->order_id, rc);
        return http_fail(r, rc == MK_EUNAVAILABLE ? rc : MK_EINTERNAL, "the payment could not be made; retry later");
    }
    struct order_new n = {
        .id = c->order_id,
        .listing_id = sale->listing_id,
        .buyer_id = c->buyer_id,
        .seller_id = sale->seller_id,
        .amount_minor = sale->amount_minor,
        .currency = sale->currency,
        .address = &c->address,
        .payment_provider = pp->name,
        .payment_ref = charge_ref,
        .offer_id = sale->offer != NULL ? sale->offer->id : NULL,
    };
    struct order o;
    if ((rc = order_insert(tx->pg, a, &n, &o)) != MK_OK) {
        return rc;
    }
    struct ledger_move m = move_of(&o);
    if ((rc = ledger_book(tx->pg, a, LEDGER_PAYMENT, &m)) != MK_OK ||
        (rc = order_emit(tx->pg, a, &o, "order.created", &tx->last_seq)) != MK_OK) {
        return rc;
    }
    rc = sale->offer != NULL ? offer_emit(tx->pg, a, sale->offer, "offer.completed", "buyer", &tx->last_seq)
                             : offer_decline_open(tx->pg, a, sale->listing_id, NULL, &tx->last_seq);
    if (rc != MK_OK ||
        (rc = listing_emit(tx->pg, a, sale->listing_id, "listing.sold", NULL, &tx->last_seq, NULL)) != MK_OK) {
        return rc;
    }
    c->answer = (struct idem_record){
        .request_hash = c->hash,
        .status = 201,
        .body = order_body(r, &o),
        .location = arena_sprintf(a, "/api/v1/orders/%s", o.id),
        .event_seq = tx->last_seq,
        .order_id = o.id,
    };
    return idem_store(tx->pg, a, c->buyer_id, c->key, &c->answer);
}

/* Buy at an accepted offer's amount: its buyer only, while the reservation runs. The listing
 * is locked before the offer moves (domain/offer.h); refusals are stored like a listing's. */
static int
buy_with_offer(struct request *r, struct command_tx *tx, struct create_ctx *c, const char *offer_id)
{
    arena_t *a = r->arena;
    struct offer o;
    struct listing_row row;
    int rc = offer_get_any(tx->pg, a, offer_id, &o);
    const char *party = rc == MK_OK ? offer_party(&o, c->buyer_id) : NULL;
    if (rc == MK_ENOTFOUND || (rc == MK_OK && party == NULL)) {
        http_field_error(r, "offer_id", "no such offer");
        return store_refusal(r, tx, c, http_fail(r, MK_EVALIDATION, NULL));
    }
    if (rc != MK_OK) {
        return rc;
    }
    if (strcmp(party, "buyer") != 0) {
        return store_refusal(r, tx, c, http_fail(r, MK_EFORBIDDEN, "only the offer's buyer buys with it"));
    }
    if ((rc = listing_lock(tx->pg, a, o.listing_id, &row)) != MK_OK) {
        return rc;
    }
    rc = offer_complete(tx->pg, a, offer_id, c->buyer_id, &o);
    if (rc == MK_ETRANSITION) {
        const char *why = strcmp(o.status, "accepted") == 0 ? "the offer's reservation has lapsed"
                                                              : arena_sprintf(a, "the offer is %s", o.status);
        return store_refusal(r, tx, c, http_fail(r, rc, why));
    }
    if (rc != MK_OK) {
        return rc;
    }
    if ((rc = listing_move(tx->pg, a, o.listing_id, "reserved", "sold")) != MK_OK) {
        log_error("orders: the listing %s of accepted offer %s was not reserved", o.listing_id, o.id);
        return rc == MK_ENOTFOUND ? MK_EINTERNAL : rc;
    }
    struct sale sale = {o.listing_id, o.seller_id, o.amount_minor, o.currency, &o};
    return finish_sale(r, tx, c, &sale);
}

static int
create_body(struct request *r, struct command_tx *tx, void *data)
{
    struct create_ctx *c = data;
    arena_t *a = r->arena;
    c->replayed = false;

    /* First, before anything else: one request per (user, key) at a time. */
    int rc = idem_lock(tx->pg, a, c->buyer_id, c->key);
    if (rc != MK_OK) {
        return rc;
    }
    struct idem_record stored;
    rc = idem_find(tx->pg, a, c->buyer_id, c->key, &stored);
    if (rc == MK_OK) {
        if (strcmp(stored.request_hash, c->hash) != 0) {
            return http_fail(r, MK_EIDEMREUSED,
                             "this Idempotency-Key was used with another request in the last 24 hours");
        }
        c->answer = stored;
        c->replayed = true;
        return MK_OK;
    }
    if (rc != MK_ENOTFOUND) {
        return rc;
    }

    if (c->offer_id != NULL) {
        return buy_with_offer(r, tx, c, c->offer_id);
    }
    /* The listing: active → sold, for exactly one buyer. */
    struct listing_sale ls;
    rc = listing_sell(tx->pg, a, c->listing_id, c->buyer_id, &ls);
    if (rc == MK_ENOTFOUND) {
        return why_not_sold(r, tx, c);
    }
    if (rc != MK_OK) {
        return rc;
    }
    struct sale sale = {c->listing_id, ls.seller_id, ls.price_minor, ls.currency, NULL};
    return finish_sale(r, tx, c, &sale);
}

static int
parse_create(struct request *r, json_object *body, void *ctx)
{
    struct create_ctx *c = ctx;
    return order_parse_create(r, body, &c->listing_id, &c->offer_id, &c->address);
}

int
command_create_order(struct request *r)
{
    struct worker *w = r->worker;
    struct session s;
    int rc = worker_authenticate(r, &s);
    if (rc != MK_OK) {
        return rc;
    }
    struct create_ctx c = {.buyer_id = s.user_id};
    c.key = http_header(r, "Idempotency-Key");
    if (c.key == NULL) {
        return http_fail(r, MK_EPRECONDREQ, "send an Idempotency-Key header (1 to 255 characters; a UUID will do)");
    }
    const char *problem = idem_key_problem(c.key);
    if (problem != NULL) {
        return http_fail(r, MK_EBADPARAM, arena_sprintf(r->arena, "Idempotency-Key: %s", problem));
    }
    if ((rc = command_read_json(r, parse_create, &c)) != MK_OK) {
        return rc;
    }
    idem_request_hash(r->method, r->path, r->body, r->body_len, c.hash);
    uuid_new(c.order_id);
    if ((rc = command_run(r, create_body, &c)) != MK_OK) {
        return rc;
    }
    if (c.replayed) {
        http_set_header(r, "Idempotent-Replayed", "true");
        if (c.answer.event_seq > 0) {
            http_set_header(r, "X-Event-Seq", arena_sprintf(r->arena, "%lld", c.answer.event_seq));
        }
    } else {
        /* Best effort, after the commit: drop a batch of expired keys. */
        (void)idem_sweep(&w->pg, r->arena);
    }
    if (c.answer.location != NULL) {
        http_set_header(r, "Location", c.answer.location);
    }
    http_set_header(r, "Cache-Control", "no-store");
    return http_respond_raw(r, c.answer.status, "application/json", c.answer.body, strlen(c.answer.body));
}

/* ---- POST /api/v1/orders/{id}/ship | confirm | cancel ------------------------------- */

struct transition_ctx {
    const char *id;
    const char *user_id;
    enum order_action action;
    struct order_tracking tracking;
    struct order order;
};

static int
transition_refused(struct request *r, enum order_action action, int rc)
{
    static const char *const forbidden[] = {
        [ORDER_SHIP] = "only the seller ships an order",
        [ORDER_CONFIRM] = "only the buyer confirms delivery",
        [ORDER_CANCEL] = "only the buyer or the seller cancels an order",
    };
    static const char *const wrong_state[] = {
        [ORDER_SHIP] = "only a paid order can be shipped",
        [ORDER_CONFIRM] = "only a shipped order can be confirmed delivered",
        [ORDER_CANCEL] = "only a paid order can be cancelled",
    };
    switch (rc) {
    case MK_ENOTFOUND: return http_fail(r, rc, "no such order");
    case MK_EFORBIDDEN: return http_fail(r, rc, forbidden[action]);
    case MK_ETRANSITION: return http_fail(r, rc, wrong_state[action]);
    default: return rc;
    }
}

/* Cancelled: the provider refunds the buyer, the escrow goes back, the listing is on sale
 * again (its event is appended by the caller, last). */
static int
cancel_effects(struct request *r, struct command_tx *tx, struct transition_ctx *c)
{
    arena_t *a = r->arena;
    struct order *o = &c->order;
    const struct payment_provider *pp = payment_find(o->payment_provider);
    const char *refund_ref;
    int rc;
    if (pp == NULL) {
        log_error("payment: order %s names an unknown provider %s", o->id, o->payment_provider);
        return MK_EINTERNAL;
    }
    if ((rc = pp->refund(pp, a, o->payment_ref, o->amount_minor, o->currency, &refund_ref)) != MK_OK) {
        log_error("payment: %s refused the refund of order %s (%d)", pp->name, o->id, rc);
        return http_fail(r, rc == MK_EUNAVAILABLE ? rc : MK_EINTERNAL, "the refund could not be made; retry later");
    }
    if ((rc = order_set_refund(tx->pg, a, o->id, refund_ref, o)) != MK_OK) {
        return rc;
    }
    struct ledger_move m = move_of(o);
    if ((rc = ledger_book(tx->pg, a, LEDGER_REFUND, &m)) != MK_OK) {
        return rc;
    }
    rc = listing_move(tx->pg, a, o->listing_id, "sold", "active");
    if (rc == MK_ENOTFOUND) {
        log_error("orders: the listing %s of cancelled order %s was not sold", o->listing_id, o->id);
        return MK_EINTERNAL;
    }
    return rc;
}

static int
transition_body(struct request *r, struct command_tx *tx, void *data)
{
    struct transition_ctx *c = data;
    int rc = order_transition(tx->pg, r->arena, c->id, c->user_id, c->action,
                              c->action == ORDER_SHIP ? &c->tracking : NULL, &c->order);
    if (rc != MK_OK) {
        return transition_refused(r, c->action, rc);
    }
    const char *event = "order.shipped";
    if (c->action == ORDER_CONFIRM) {
        struct ledger_move m = move_of(&c->order);
        rc = ledger_book(tx->pg, r->arena, LEDGER_RELEASE, &m);
        event = "order.delivered";
    } else if (c->action == ORDER_CANCEL) {
        rc = cancel_effects(r, tx, c);
        event = "order.cancelled";
        c->order.cancelled_by = strcmp(c->user_id, c->order.buyer_id) == 0 ? "buyer" : "seller";
    }
    if (rc != MK_OK || (rc = order_emit(tx->pg, r->arena, &c->order, event, &tx->last_seq)) != MK_OK) {
        return rc;
    }
    /* A cancelled order's listing is on sale again; its event last (see create_body). */
    if (c->action == ORDER_CANCEL) {
        rc = listing_emit(tx->pg, r->arena, c->order.listing_id, "listing.relisted", NULL, &tx->last_seq, NULL);
    }
    return rc;
}

static int
parse_tracking(struct request *r, json_object *body, void *ctx)
{
    return order_parse_tracking(r, body, &((struct transition_ctx *)ctx)->tracking);
}

static int
transition(struct request *r, enum order_action action)
{
    struct transition_ctx c = {.action = action};
    int rc = command_begin(r, "order", &c.id, &c.user_id);
    if (rc != MK_OK) {
        return rc;
    }
    if (action == ORDER_SHIP) {
        if ((rc = command_read_json(r, parse_tracking, &c)) != MK_OK) {
            return rc;
        }
    }   /* confirm and cancel take no body: checked before (routes.c, NO_BODY) */
    if ((rc = command_run(r, transition_body, &c)) != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "order", json_object_get(c.order.json));
    http_set_header(r, "Cache-Control", "no-store");
    return http_respond_json(r, 200, doc);
}

int
command_ship_order(struct request *r)
{
    return transition(r, ORDER_SHIP);
}

int
command_confirm_order(struct request *r)
{
    return transition(r, ORDER_CONFIRM);
}

int
command_cancel_order(struct request *r)
{
    return transition(r, ORDER_CANCEL);
}
