/*
 * offer.h — the offer aggregate (sql/012_offers.sql): a buyer's offer on a listing, the
 * counters that follow, and how it ends; its rules, its SQL, its history and its events.
 *
 *   open ──counter (party in turn)──► open, turn flips, expires_at = now + offer_ttl_s
 *     ├──accept (party in turn)──► accepted: listing active → reserved until reserved_until
 *     │      ├──POST /orders {offer_id} (buyer, before reserved_until)──► completed
 *     │      └──reserved_until passes──► expired, listing reserved → active (timers.c)
 *     ├──decline (party in turn)──► declined     ├──withdraw (buyer)──► withdrawn
 *     ├──another offer accepted, the listing sold or deleted──► declined (by the system)
 *     └──expires_at passes──► expired (timers.c)
 *
 * Locking: every transaction that changes an offer first locks its listing's row (a
 * purchase, an accept, the timers and a listing's deletion all do), then decides under that
 * lock and changes the offer with a conditional UPDATE. So all that concerns one listing's
 * availability happens one transaction at a time, and a listing is reserved or sold once.
 * Time is PostgreSQL's: a command refuses an open offer past expires_at and a purchase after
 * reserved_until even before the timer has applied the expiry.
 *
 * Events (aggregate "offer"): offer.created, offer.countered, offer.accepted, offer.declined,
 * offer.withdrawn, offer.expired, offer.completed, each with the offer's whole state (the
 * API shape) plus "offer_id", "version" and "by": "buyer", "seller" or "system".
 */
#ifndef MK_OFFER_H
#define MK_OFFER_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/http.h"
#include "store/pg.h"

/* POST /listings/{id}/offers and /offers/{id}/counter: {"amount_minor"}, a JSON integer
 * (its bounds against the listing's price are checked under the listing's lock). */
int offer_parse_amount(struct request *r, json_object *body, long long *amount);

enum offer_action { OFFER_COUNTER, OFFER_ACCEPT, OFFER_DECLINE, OFFER_WITHDRAW };

/* An offer as stored. Strings and json live in the arena. */
struct offer {
    char *id;
    char *listing_id;
    char *buyer_id;
    char *seller_id;
    char *status;
    char *turn;              /* NULL unless open */
    long long amount_minor;
    char *currency;
    bool overdue;            /* open or accepted, and its time is up (expires_at <= now()) */
    long long version;
    long long created_us;    /* microseconds since the epoch: the list's sort key */
    json_object *json;       /* the API shape */
};

/*
 * May user_id take action on offer o, whose listing is in listing_status? MK_OK, or in this
 * order: MK_ENOTFOUND (not a party), MK_ENOTAVAILABLE (an accept while the listing is not
 * active, whatever the offer's state), MK_EFORBIDDEN (withdraw by the seller),
 * MK_ETRANSITION (not open, or its time is up), MK_EFORBIDDEN (not the caller's turn),
 * MK_ENOTAVAILABLE (a counter while the listing is not active).
 */
int offer_check(enum offer_action action, const char *user_id, const struct offer *o, const char *listing_status);

/* The "buyer" or "seller" that user_id is in o, or NULL. */
const char *offer_party(const struct offer *o, const char *user_id);

/* The offer id (not locked; its listing_id never changes). MK_ENOTFOUND when absent. */
int offer_get_any(struct pg *pg, arena_t *a, const char *id, struct offer *out);

/* Inside the caller's transaction: a new open offer (turn seller, expires in ttl_s) with its
 * first move. MK_ECONFLICT when the buyer has an open offer on the listing. */
int offer_insert(struct pg *pg, arena_t *a, const char *id, const char *listing_id, const char *buyer_id,
                 const char *seller_id, long long amount, const char *currency, int ttl_s, struct offer *out);

/* The buyer's open offer on listing_id: MK_OK (*id in the arena) or MK_ENOTFOUND. */
int offer_open_of_buyer(struct pg *pg, arena_t *a, const char *listing_id, const char *buyer_id, char **id);

/* The accepted offer of listing_id if buyer_id is its buyer: MK_OK or MK_ENOTFOUND. */
int offer_accepted_of_buyer(struct pg *pg, arena_t *a, const char *listing_id, const char *buyer_id, char **id);

/*
 * Inside the caller's transaction, with the listing locked and offer_check passed: apply
 * action by user_id (amount for a counter; ttl_s: offer_ttl_s for a counter,
 * reservation_ttl_s for an accept) as one conditional UPDATE plus its move. *out receives
 * the new state. MK_ETRANSITION when the offer changed under a broken lock order.
 */
int offer_apply(struct pg *pg, arena_t *a, enum offer_action action, const char *id, const char *user_id,
                long long amount, int ttl_s, struct offer *out);

/*
 * Inside the caller's transaction, with the listing locked: the buyer's accepted offer id
 * becomes completed (a purchase), if its reservation still runs. MK_OK with *out, or
 * MK_ENOTFOUND (not the buyer's, or no such offer), MK_ETRANSITION (not accepted, or the
 * reservation has lapsed).
 */
int offer_complete(struct pg *pg, arena_t *a, const char *id, const char *buyer_id, struct offer *out);

/* Inside the caller's transaction, with the listing locked: decline every open offer on
 * listing_id but except_id (may be NULL), by the system, each with its event. */
int offer_decline_open(struct pg *pg, arena_t *a, const char *listing_id, const char *except_id, long long *seq);

/* Inside the caller's transaction, after o was accepted and its event appended: the listing
 * active → reserved, every other open offer declined, then listing.reserved (last). */
int offer_reserve_listing(struct pg *pg, arena_t *a, const struct offer *o, long long *seq);

/*
 * The durable timers, inside the caller's transaction: take the listing of the offer whose
 * time is up first (FOR UPDATE SKIP LOCKED: a listing another transaction holds waits for
 * the next pass), expire the offer, and for an accepted one return the listing to active;
 * append the events (offer.expired, then listing.reservation_lapsed). MK_OK when one was
 * applied, MK_ENOTFOUND when none is due, MK_ECONFLICT when the one found had been applied by
 * another process's timers by the time its listing was ours (roll back and look again).
 */
int offer_expire_due(struct pg *pg, arena_t *a, long long *seq);

/* Append event_type with o's state and by ("buyer", "seller", "system"). */
int offer_emit(struct pg *pg, arena_t *a, const struct offer *o, const char *event_type, const char *by,
               long long *seq);

/* The offer if user_id is its buyer or seller; MK_ENOTFOUND otherwise. */
int offer_get(struct pg *pg, arena_t *a, const char *id, const char *user_id, struct offer *out);

enum offer_role { OFFER_ROLE_ANY, OFFER_ROLE_BUYER, OFFER_ROLE_SELLER };

/* True when s is an offer status. */
bool offer_status_valid(const char *s);

/*
 * user_id's offers in role (status: NULL for any), newest first by (created_at, id), after
 * (after_us, after_id) when after_id is not NULL; at most limit. *out (arena) and *n.
 */
int offer_list(struct pg *pg, arena_t *a, const char *user_id, enum offer_role role, const char *status,
               long long after_us, const char *after_id, int limit, struct offer **out, size_t *n);

#endif
