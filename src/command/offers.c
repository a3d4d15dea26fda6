/*
 * POST /api/v1/listings/{id}/offers (make an offer) and the offer's moves POST
 * /api/v1/offers/{id}/counter, /accept, /decline, /withdraw. Each is one PostgreSQL
 * transaction that locks the listing's row first, decides under that lock (domain/offer.h)
 * and appends the move and its events; an accept also reserves the listing and declines the
 * listing's other open offers. Buying with an accepted offer is POST /orders (orders.c);
 * time-outs are applied by the projector role's timers (projector/timers.c).
 */
#include <string.h>

#include "command/command.h"
#include "command/handlers.h"
#include "core/errors.h"
#include "core/ids.h"
#include "domain/listing.h"
#include "domain/offer.h"
#include "domain/order.h"
#include "worker.h"

struct offer_ctx {
    const char *id;            /* the listing's (make) or the offer's (moves) */
    const char *user_id;
    enum offer_action action;
    long long amount;
    char new_id[UUID_STR_LEN + 1];
    struct offer offer;
};

static int
respond_offer(struct request *r, int status, const struct offer *o)
{
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "offer", json_object_get(o->json));
    http_set_header(r, "Cache-Control", "no-store");
    return http_respond_json(r, status, doc);
}

/* 422 when amount is not below the listing's price (the lower bound is the parser's). */
static int
check_amount(struct request *r, long long amount, const struct listing_row *row)
{
    if (amount < row->price_minor) {
        return MK_OK;
    }
    http_field_error(r, "amount_minor",
                     arena_sprintf(r->arena, "must be an integer from 1 to %lld (the listing's price minus 1)",
                                   row->price_minor - 1));
    return http_fail(r, MK_EVALIDATION, NULL);
}

/* ---- POST /api/v1/listings/{id}/offers -------------------------------------------- */

static int
make_body(struct request *r, struct command_tx *tx, void *data)
{
    struct offer_ctx *c = data;
    arena_t *a = r->arena;
    struct listing_row row;
    int rc = listing_lock(tx->pg, a, c->id, &row);
    bool own = rc == MK_OK && strcmp(row.seller_id, c->user_id) == 0;
    if (rc == MK_ENOTFOUND ||
        (rc == MK_OK && (strcmp(row.status, "deleted") == 0 || (strcmp(row.status, "draft") == 0 && !own)))) {
        return http_fail(r, MK_ENOTFOUND, "no such listing");
    }
    if (rc != MK_OK) {
        return rc;
    }
    if (own) {
        return http_fail(r, MK_EFORBIDDEN, "you cannot make an offer on your own listing");
    }
    if (strcmp(row.status, "active") != 0) {
        return http_fail(r, MK_ENOTAVAILABLE, arena_sprintf(a, "the listing is %s", row.status));
    }
    if ((rc = check_amount(r, c->amount, &row)) != MK_OK) {
        return rc;
    }
    char *open_id;
    if ((rc = offer_open_of_buyer(tx->pg, a, c->id, c->user_id, &open_id)) == MK_OK) {
        return http_fail(r, MK_ECONFLICT,
                         arena_sprintf(a, "you have an open offer on this listing already (%s)", open_id));
    }
    if (rc != MK_ENOTFOUND) {
        return rc;
    }
    const struct config *cfg = r->worker->cfg;
    if ((rc = offer_insert(tx->pg, a, c->new_id, c->id, c->user_id, row.seller_id, c->amount, row.currency,
                           cfg->offer_ttl_s, &c->offer)) != MK_OK) {
        return rc;
    }
    return offer_emit(tx->pg, a, &c->offer, "offer.created", "buyer", &tx->last_seq);
}

static int
parse_amount(struct request *r, json_object *body, void *ctx)
{
    return offer_parse_amount(r, body, &((struct offer_ctx *)ctx)->amount);
}

int
command_make_offer(struct request *r)
{
    struct offer_ctx c = {0};
    int rc = command_begin_json(r, "listing", &c.id, &c.user_id, parse_amount, &c);
    if (rc != MK_OK) {
        return rc;
    }
    uuid_new(c.new_id);
    if ((rc = command_run(r, make_body, &c)) != MK_OK) {
        return rc;
    }
    http_set_header(r, "Location", arena_sprintf(r->arena, "/api/v1/offers/%s", c.new_id));
    return respond_offer(r, 201, &c.offer);
}

/* ---- POST /api/v1/offers/{id}/counter | accept | decline | withdraw ---------------- */

static int
move_refused(struct request *r, int rc, enum offer_action action, const struct offer *o, const struct listing_row *row)
{
    switch (rc) {
    case MK_ENOTFOUND: return http_fail(r, rc, "no such offer");
    case MK_ENOTAVAILABLE: return http_fail(r, rc, arena_sprintf(r->arena, "the listing is %s", row->status));
    case MK_ETRANSITION:
        return http_fail(r, rc, o->overdue ? "the offer has expired"
                                            : arena_sprintf(r->arena, "the offer is %s", o->status));
    case MK_EFORBIDDEN:
        return http_fail(r, rc, action == OFFER_WITHDRAW ? "only the buyer withdraws an offer"
                                                : arena_sprintf(r->arena, "it is the %s's turn", o->turn));
    default: return rc;
    }
}

/* The listing's terms still fit the offer: its currency, and a price above the amount. */
static int
check_terms(struct request *r, struct offer_ctx *c, const struct offer *o, const struct listing_row *row)
{
    if (c->action == OFFER_COUNTER) {
        return check_amount(r, c->amount, row);
    }
    if (c->action == OFFER_ACCEPT && (strcmp(row->currency, o->currency) != 0 || o->amount_minor >= row->price_minor)) {
        return http_fail(r, MK_ETRANSITION,
                         arena_sprintf(r->arena, "the listing's price is now %lld %s: counter instead",
                                       row->price_minor, row->currency));
    }
    return MK_OK;
}

static int
move_body(struct request *r, struct command_tx *tx, void *data)
{
    static const char *const events[] = {[OFFER_COUNTER] = "offer.countered", [OFFER_ACCEPT] = "offer.accepted",
                                         [OFFER_DECLINE] = "offer.declined", [OFFER_WITHDRAW] = "offer.withdrawn"};
    struct offer_ctx *c = data;
    arena_t *a = r->arena;
    const struct config *cfg = r->worker->cfg;
    struct offer o = {0};
    struct listing_row row = {0};
    int rc = offer_get_any(tx->pg, a, c->id, &o);
    if (rc == MK_OK && offer_party(&o, c->user_id) != NULL) {
        /* The listing first, then the offer as it is under that lock (see offer.h). */
        if ((rc = listing_lock(tx->pg, a, o.listing_id, &row)) != MK_OK ||
            (rc = offer_get_any(tx->pg, a, c->id, &o)) != MK_OK) {
            return rc;
        }
        rc = offer_check(c->action, c->user_id, &o, row.status);
    } else if (rc == MK_OK) {
        rc = MK_ENOTFOUND;
    }
    if (rc != MK_OK) {
        return move_refused(r, rc, c->action, &o, &row);
    }
    if ((rc = check_terms(r, c, &o, &row)) != MK_OK) {
        return rc;
    }
    int ttl = c->action == OFFER_ACCEPT ? cfg->reservation_ttl_s : cfg->offer_ttl_s;
    if ((rc = offer_apply(tx->pg, a, c->action, c->id, c->user_id, c->amount, ttl, &c->offer)) != MK_OK ||
        (rc = offer_emit(tx->pg, a, &c->offer, events[c->action], offer_party(&o, c->user_id), &tx->last_seq)) !=
            MK_OK) {
        return rc;
    }
    return c->action == OFFER_ACCEPT ? offer_reserve_listing(tx->pg, a, &c->offer, &tx->last_seq) : MK_OK;
}

static int
move(struct request *r, enum offer_action action)
{
    struct offer_ctx c = {.action = action};
    int rc = command_begin(r, "offer", &c.id, &c.user_id);
    if (rc != MK_OK) {
        return rc;
    }
    if (action == OFFER_COUNTER) {
        if ((rc = command_read_json(r, parse_amount, &c)) != MK_OK) {
            return rc;
        }
    }   /* the others take no body: checked before (routes.c, NO_BODY) */
    if ((rc = command_run(r, move_body, &c)) != MK_OK) {
        return rc;
    }
    return respond_offer(r, 200, &c.offer);
}

int
command_counter_offer(struct request *r)
{
    return move(r, OFFER_COUNTER);
}

int
command_accept_offer(struct request *r)
{
    return move(r, OFFER_ACCEPT);
}

int
command_decline_offer(struct request *r)
{
    return move(r, OFFER_DECLINE);
}

int
command_withdraw_offer(struct request *r)
{
    return move(r, OFFER_WITHDRAW);
}
