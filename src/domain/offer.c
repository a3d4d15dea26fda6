#include "domain/offer.h"

#include <string.h>

#include "core/errors.h"
#include "domain/listing.h"
#include "domain/outbox.h"

/* ---- rules ---------------------------------------------------------------------- */

int
offer_parse_amount(struct request *r, json_object *body, long long *amount)
{
    static const char *const allowed[] = {"amount_minor", NULL};
    *amount = 0;
    http_json_only(r, body, allowed);
    http_json_int_member(r, body, "amount_minor", 1, LISTING_PRICE_MAX,
                         "must be an integer from 1 to the listing's price minus 1 (minor units)", amount);
    return r->err_fields != NULL ? MK_EVALIDATION : MK_OK;
}

const char *
offer_party(const struct offer *o, const char *user_id)
{
    return strcmp(user_id, o->buyer_id) == 0 ? "buyer" : strcmp(user_id, o->seller_id) == 0 ? "seller" : NULL;
}

int
offer_check(enum offer_action action, const char *user_id, const struct offer *o, const char *listing_status)
{
    const char *party = offer_party(o, user_id);
    bool listing_active = listing_status != NULL && strcmp(listing_status, "active") == 0;
    if (party == NULL) {
        return MK_ENOTFOUND;
    }
    if (action == OFFER_ACCEPT && !listing_active) {
        return MK_ENOTAVAILABLE;
    }
    if (action == OFFER_WITHDRAW && strcmp(party, "buyer") != 0) {
        return MK_EFORBIDDEN;
    }
    if (strcmp(o->status, "open") != 0 || o->overdue) {
        return MK_ETRANSITION;
    }
    if (action != OFFER_WITHDRAW && (o->turn == NULL || strcmp(o->turn, party) != 0)) {
        return MK_EFORBIDDEN;
    }
    if (action == OFFER_COUNTER && !listing_active) {
        return MK_ENOTAVAILABLE;
    }
    return MK_OK;
}

bool
offer_status_valid(const char *s)
{
    static const char *const statuses[] = {"open", "accepted", "declined", "withdrawn", "expired", "completed", NULL};
    for (const char *const *p = statuses; *p != NULL; p++) {
        if (strcmp(*p, s) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- SQL ------------------------------------------------------------------------ */

#define SECONDS(p) "now() + " p "::int * interval '1 second'"

/* The columns every read returns (offer_from_row reads them in this order), the last being
 * the API shape with the history of moves. */
#define OFFER_COLUMNS                                                                                                  \
    "offers.id::text, offers.listing_id::text, offers.buyer_id::text, offers.seller_id::text, offers.status, "       \
    "offers.turn, offers.amount_minor, offers.currency, "                                                             \
    "(offers.status IN ('open', 'accepted') AND offers.expires_at <= now()), offers.version, "                       \
    "(extract(epoch FROM offers.created_at) * 1000000)::bigint, "                                                     \
    "json_build_object('id', offers.id, 'listing_id', offers.listing_id, 'buyer_id', offers.buyer_id, "             \
    "  'seller_id', offers.seller_id, 'amount_minor', offers.amount_minor, 'currency', offers.currency, "            \
    "  'status', offers.status, 'turn', offers.turn, 'expires_at', " PG_UTC_TEXT("offers.expires_at") ", "                    \
    "  'reserved_until', " PG_UTC_TEXT("offers.reserved_until") ", "                                                          \
    "  'history', (SELECT json_agg(json_build_object('by', m.by, 'action', m.action, "                               \
    "      'amount_minor', m.amount_minor, 'at', " PG_UTC_TEXT("m.at") ") ORDER BY m.position) "                               \
    "    FROM offer_moves m WHERE m.offer_id = offers.id), "                                                          \
    "  'created_at', " PG_UTC_TEXT("offers.created_at") ", 'updated_at', " PG_UTC_TEXT("offers.updated_at") ")::text"

static const struct pg_stmt GET_ANY = {
    "offer_get_any", "SELECT " OFFER_COLUMNS " FROM offers WHERE id = $1::uuid", 1};

static const struct pg_stmt GET = {
    "offer_get", "SELECT " OFFER_COLUMNS " FROM offers WHERE id = $1::uuid AND $2::uuid IN (buyer_id, seller_id)", 2};

static const struct pg_stmt INSERT = {
    "offer_insert",
    "INSERT INTO offers (id, listing_id, buyer_id, seller_id, amount_minor, currency, status, turn, expires_at) "
    "VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::bigint, $6, 'open', 'seller', " SECONDS("$7") ")",
    7,
};

/* A move at the end of the offer's history, with the amount on the table now. */
static const struct pg_stmt MOVE = {
    "offer_move",
    "INSERT INTO offer_moves (offer_id, position, by, automatic, action, amount_minor) "
    "SELECT o.id, coalesce((SELECT max(position) FROM offer_moves m WHERE m.offer_id = o.id), 0) + 1, "
    "  $2, $3::boolean, $4, o.amount_minor FROM offers o WHERE o.id = $1::uuid",
    4,
};

static const struct pg_stmt OPEN_OF_BUYER = {
    "offer_open_of_buyer",
    "SELECT id::text FROM offers WHERE listing_id = $1::uuid AND buyer_id = $2::uuid AND status = 'open'",
    2,
};

static const struct pg_stmt ACCEPTED_OF_BUYER = {
    "offer_accepted_of_buyer",
    "SELECT id::text FROM offers WHERE listing_id = $1::uuid AND buyer_id = $2::uuid AND status = 'accepted'",
    2,
};

#define MOVED "version = version + 1, updated_at = now() "
/* Open, not past its time, and the caller ($2) is the party whose turn it is. */
#define IN_TURN                                                                                                        \
    "WHERE id = $1::uuid AND status = 'open' AND expires_at > now() "                                                 \
    "AND (CASE turn WHEN 'buyer' THEN buyer_id ELSE seller_id END) = $2::uuid RETURNING id"

static const struct pg_stmt COUNTER = {
    "offer_counter",
    "UPDATE offers SET amount_minor = $3::bigint, turn = CASE turn WHEN 'buyer' THEN 'seller' ELSE 'buyer' END, "
    "  expires_at = " SECONDS("$4") ", " MOVED IN_TURN,
    4,
};

static const struct pg_stmt ACCEPT = {
    "offer_accept",
    "UPDATE offers SET status = 'accepted', turn = NULL, reserved_until = " SECONDS("$3") ", "
    "  expires_at = " SECONDS("$3") ", " MOVED IN_TURN,
    3,
};

static const struct pg_stmt DECLINE = {
    "offer_decline", "UPDATE offers SET status = 'declined', turn = NULL, " MOVED IN_TURN, 2};

static const struct pg_stmt WITHDRAW = {
    "offer_withdraw",
    "UPDATE offers SET status = 'withdrawn', turn = NULL, " MOVED
    "WHERE id = $1::uuid AND status = 'open' AND expires_at > now() AND buyer_id = $2::uuid RETURNING id",
    2,
};

static const struct pg_stmt COMPLETE = {
    "offer_complete",
    "UPDATE offers SET status = 'completed', " MOVED
    "WHERE id = $1::uuid AND buyer_id = $2::uuid AND status = 'accepted' AND reserved_until > now() RETURNING id",
    2,
};

static const struct pg_stmt DECLINE_OPEN = {
    "offer_decline_open",
    "UPDATE offers SET status = 'declined', turn = NULL, " MOVED
    "WHERE listing_id = $1::uuid AND status = 'open' AND id IS DISTINCT FROM $2::uuid RETURNING id::text",
    2,
};

/* The first offer whose time is up, its listing locked unless another transaction holds it. */
static const struct pg_stmt DUE = {
    "offer_due",
    "SELECT o.id::text FROM offers o JOIN listings l ON l.id = o.listing_id "
    "WHERE o.status IN ('open', 'accepted') AND o.expires_at <= now() "
    "ORDER BY o.expires_at LIMIT 1 FOR UPDATE OF l SKIP LOCKED",
    0,
};

static const struct pg_stmt EXPIRE = {
    "offer_expire",
    "UPDATE offers SET status = 'expired', turn = NULL, " MOVED
    "WHERE id = $1::uuid AND status = $2 AND expires_at <= now() RETURNING id",
    2,
};

/* Keyset: strictly after (created_at, id) of the previous page's last item (NULLs: from the
 * start); $4 the status or NULL. ORDER BY names the table's columns, not the text outputs. */
#define AFTER                                                                                                          \
    "AND ($4::text IS NULL OR status = $4) AND (created_at, id) < "                                                   \
    "  (coalesce('epoch'::timestamptz + $2::bigint * interval '1 microsecond', 'infinity'), "                          \
    "   coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff')) "                                                  \
    "ORDER BY offers.created_at DESC, offers.id DESC LIMIT $5::int"

static const struct pg_stmt LIST_BUYER = {
    "offer_list_buyer", "SELECT " OFFER_COLUMNS " FROM offers WHERE buyer_id = $1::uuid " AFTER, 5};
static const struct pg_stmt LIST_SELLER = {
    "offer_list_seller", "SELECT " OFFER_COLUMNS " FROM offers WHERE seller_id = $1::uuid " AFTER, 5};
static const struct pg_stmt LIST_ANY = {
    "offer_list_any",
    "SELECT " OFFER_COLUMNS " FROM offers WHERE (buyer_id = $1::uuid OR seller_id = $1::uuid) " AFTER,
    5,
};

static int
offer_from_row(arena_t *a, const PGresult *res, int row, void *dst)
{
    struct offer *o = dst;
    o->id = arena_strdup(a, pg_value(res, row, 0));
    o->listing_id = arena_strdup(a, pg_value(res, row, 1));
    o->buyer_id = arena_strdup(a, pg_value(res, row, 2));
    o->seller_id = arena_strdup(a, pg_value(res, row, 3));
    o->status = arena_strdup(a, pg_value(res, row, 4));
    o->turn = pg_value(res, row, 5) != NULL ? arena_strdup(a, pg_value(res, row, 5)) : NULL;
    o->amount_minor = pg_int(res, row, 6);
    o->currency = arena_strdup(a, pg_value(res, row, 7));
    o->overdue = pg_value(res, row, 8) != NULL && strcmp(pg_value(res, row, 8), "t") == 0;
    o->version = pg_int(res, row, 9);
    o->created_us = pg_int(res, row, 10);
    o->json = json_tokener_parse(pg_value(res, row, 11));
    if (o->json == NULL) {
        return MK_EINTERNAL;
    }
    arena_cleanup_add(a, (arena_cleanup_fn)(void (*)(void))json_object_put, o->json);
    return MK_OK;
}

/* Run a statement that returns one offer row; MK_ENOTFOUND when none. */
static int
exec_offer(struct pg *pg, arena_t *a, const struct pg_stmt *stmt, const char *const *values, struct offer *out)
{
    PGresult *res;
    int rc = pg_exec_row(pg, a, stmt, values, &res);
    return rc != MK_OK ? rc : offer_from_row(a, res, 0, out);
}

int
offer_get_any(struct pg *pg, arena_t *a, const char *id, struct offer *out)
{
    const char *values[] = {id};
    return exec_offer(pg, a, &GET_ANY, values, out);
}

int
offer_get(struct pg *pg, arena_t *a, const char *id, const char *user_id, struct offer *out)
{
    const char *values[] = {id, user_id};
    return exec_offer(pg, a, &GET, values, out);
}

/* Append a move (action by party; automatic: applied by the system) to offer id. */
static int
add_move(struct pg *pg, arena_t *a, const char *id, const char *party, bool automatic, const char *action)
{
    const char *values[] = {id, party, automatic ? "true" : "false", action};
    return pg_exec(pg, a, &MOVE, values, NULL);
}

int
offer_insert(struct pg *pg, arena_t *a, const char *id, const char *listing_id, const char *buyer_id,
             const char *seller_id, long long amount, const char *currency, int ttl_s, struct offer *out)
{
    const char *values[] = {id,       listing_id, buyer_id, seller_id, arena_sprintf(a, "%lld", amount),
                            currency, arena_sprintf(a, "%d", ttl_s)};
    int rc = pg_exec(pg, a, &INSERT, values, NULL);
    if (rc == MK_OK) {
        rc = add_move(pg, a, id, "buyer", false, "offer");
    }
    return rc == MK_OK ? offer_get_any(pg, a, id, out) : rc;
}

/* The id of the one row a lookup by (listing, buyer) returns, or MK_ENOTFOUND. */
static int
lookup_id(struct pg *pg, arena_t *a, const struct pg_stmt *stmt, const char *listing_id, const char *buyer_id,
          char **id)
{
    const char *values[] = {listing_id, buyer_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, stmt, values, &res);
    if (rc == MK_OK) {
        *id = arena_strdup(a, pg_value(res, 0, 0));
    }
    return rc;
}

int
offer_open_of_buyer(struct pg *pg, arena_t *a, const char *listing_id, const char *buyer_id, char **id)
{
    return lookup_id(pg, a, &OPEN_OF_BUYER, listing_id, buyer_id, id);
}

int
offer_accepted_of_buyer(struct pg *pg, arena_t *a, const char *listing_id, const char *buyer_id, char **id)
{
    return lookup_id(pg, a, &ACCEPTED_OF_BUYER, listing_id, buyer_id, id);
}

int
offer_apply(struct pg *pg, arena_t *a, enum offer_action action, const char *id, const char *user_id,
            long long amount, int ttl_s, struct offer *out)
{
    static const char *const moves[] = {
        [OFFER_COUNTER] = "counter", [OFFER_ACCEPT] = "accept", [OFFER_DECLINE] = "decline",
        [OFFER_WITHDRAW] = "withdraw"};
    struct offer before;
    int rc = offer_get_any(pg, a, id, &before);
    if (rc != MK_OK) {
        return rc;
    }
    const char *party = offer_party(&before, user_id);
    const char *ttl = arena_sprintf(a, "%d", ttl_s);
    const char *values[4] = {id, user_id, NULL, NULL};
    const struct pg_stmt *stmt = &DECLINE;
    if (action == OFFER_COUNTER) {
        stmt = &COUNTER;
        values[2] = arena_sprintf(a, "%lld", amount);
        values[3] = ttl;
    } else if (action == OFFER_ACCEPT) {
        stmt = &ACCEPT;
        values[2] = ttl;
    } else if (action == OFFER_WITHDRAW) {
        stmt = &WITHDRAW;
    }
    PGresult *res;
    rc = pg_exec_row(pg, a, stmt, values, &res);
    if (rc == MK_ENOTFOUND || party == NULL) {
        return MK_ETRANSITION;   /* offer_check passed under the listing's lock: cannot happen */
    }
    if (rc == MK_OK) {
        rc = add_move(pg, a, id, party, false, moves[action]);
    }
    return rc == MK_OK ? offer_get_any(pg, a, id, out) : rc;
}

int
offer_complete(struct pg *pg, arena_t *a, const char *id, const char *buyer_id, struct offer *out)
{
    int rc = offer_get_any(pg, a, id, out);
    if (rc != MK_OK) {
        return rc;
    }
    if (strcmp(out->buyer_id, buyer_id) != 0) {
        return MK_ENOTFOUND;
    }
    const char *values[] = {id, buyer_id};
    PGresult *res;
    rc = pg_exec_row(pg, a, &COMPLETE, values, &res);
    if (rc == MK_ENOTFOUND) {
        return MK_ETRANSITION;
    }
    if (rc == MK_OK) {
        rc = add_move(pg, a, id, "buyer", false, "complete");
    }
    return rc == MK_OK ? offer_get_any(pg, a, id, out) : rc;
}

int
offer_decline_open(struct pg *pg, arena_t *a, const char *listing_id, const char *except_id, long long *seq)
{
    const char *values[] = {listing_id, except_id};
    PGresult *res;
    int rc = pg_exec(pg, a, &DECLINE_OPEN, values, &res);
    int n = rc == MK_OK ? pg_nrows(res) : 0;
    for (int i = 0; i < n && rc == MK_OK; i++) {
        const char *id = arena_strdup(a, pg_value(res, i, 0));
        struct offer o;
        /* The seller's side ends it: the listing was promised to another buyer, sold or withdrawn. */
        if ((rc = add_move(pg, a, id, "seller", true, "decline")) == MK_OK &&
            (rc = offer_get_any(pg, a, id, &o)) == MK_OK) {
            rc = offer_emit(pg, a, &o, "offer.declined", "system", seq);
        }
    }
    return rc;
}

/* listing.reserved / listing.reservation_lapsed: the listing's whole state (its version
 * included) plus who it was reserved for and until when. */
static int
emit_reservation(struct pg *pg, arena_t *a, const struct offer *o, const char *event_type, long long *seq)
{
    json_object *extra = json_object_new_object();
    json_object_object_add(extra, "listing_id", json_object_new_string(o->listing_id));
    json_object_object_add(extra, "offer_id", json_object_new_string(o->id));
    json_object_object_add(extra, "buyer_id", json_object_new_string(o->buyer_id));
    json_object_object_add(extra, "reserved_until", json_object_get(json_object_object_get(o->json, "reserved_until")));
    int rc = listing_emit(pg, a, o->listing_id, event_type, extra, seq, NULL);
    json_object_put(extra);
    return rc;
}

int
offer_reserve_listing(struct pg *pg, arena_t *a, const struct offer *o, long long *seq)
{
    int rc = listing_move(pg, a, o->listing_id, "active", "reserved");
    if (rc == MK_OK) {
        rc = offer_decline_open(pg, a, o->listing_id, o->id, seq);
    }
    return rc == MK_OK ? emit_reservation(pg, a, o, "listing.reserved", seq) : rc;
}

int
offer_expire_due(struct pg *pg, arena_t *a, long long *seq)
{
    PGresult *res;
    int rc = pg_exec_row(pg, a, &DUE, NULL, &res);
    if (rc != MK_OK) {
        return rc;
    }
    struct offer o;
    const char *id = arena_strdup(a, pg_value(res, 0, 0));
    if ((rc = offer_get_any(pg, a, id, &o)) != MK_OK) {
        return rc;
    }
    /* DUE rechecks only the row it locks, the listing: a scan that began before another timer's
     * commit gets the lock after it with the offer as it was. Read again under the lock, the
     * offer may have been applied already. */
    if (!o.overdue) {
        return MK_ECONFLICT;
    }
    bool lapse = strcmp(o.status, "accepted") == 0;
    /* History names the party whose move was awaited: the buyer of a reservation. */
    const char *party = lapse || o.turn == NULL ? "buyer" : o.turn;
    const char *values[] = {id, o.status};
    if ((rc = pg_exec_row(pg, a, &EXPIRE, values, &res)) != MK_OK ||
        (rc = add_move(pg, a, id, party, true, "expire")) != MK_OK ||
        (rc = offer_get_any(pg, a, id, &o)) != MK_OK || (rc = offer_emit(pg, a, &o, "offer.expired", "system", seq)) != MK_OK) {
        return rc == MK_ENOTFOUND ? MK_EINTERNAL : rc;
    }
    if (lapse) {
        rc = listing_move(pg, a, o.listing_id, "reserved", "active");
        rc = rc == MK_OK ? emit_reservation(pg, a, &o, "listing.reservation_lapsed", seq) : rc;
    }
    return rc == MK_ENOTFOUND ? MK_EINTERNAL : rc;
}

int
offer_emit(struct pg *pg, arena_t *a, const struct offer *o, const char *event_type, const char *by, long long *seq)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "offer_id", json_object_new_string(o->id));
    json_object_object_foreach(o->json, key, val) {
        json_object_object_add(doc, key, json_object_get(val));
    }
    json_object_object_add(doc, "version", json_object_new_int64(o->version));
    json_object_object_add(doc, "by", json_object_new_string(by));
    return outbox_append_doc(pg, a, "offer", o->id, o->version, event_type, doc, seq);
}

int
offer_list(struct pg *pg, arena_t *a, const char *user_id, enum offer_role role, const char *status, long long after_us,
           const char *after_id, int limit, struct offer **out, size_t *n)
{
    const struct pg_stmt *stmt = role == OFFER_ROLE_BUYER ? &LIST_BUYER : role == OFFER_ROLE_SELLER ? &LIST_SELLER
                                                                                                   : &LIST_ANY;
    const char *values[] = {user_id, after_id != NULL ? arena_sprintf(a, "%lld", after_us) : NULL, after_id, status,
                            arena_sprintf(a, "%d", limit)};
    void *rows;
    int rc = pg_exec_rows(pg, a, stmt, values, sizeof(**out), offer_from_row, &rows, n);
    *out = rows;
    return rc;
}
