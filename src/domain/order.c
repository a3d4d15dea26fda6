#include "domain/order.h"

#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "domain/outbox.h"

/* ---- validation ----------------------------------------------------------------- */

/* ISO 3166-1 alpha-2 codes officially assigned (249), plus XK. Sorted pairs. */
static const char COUNTRIES[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ "
    "EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
    "HK HM HN HR HT HU "
    "ID IE IL IM IN IO IQ IR IS IT "
    "JE JM JO JP "
    "KE KG KH KI KM KN KP KR KW KY KZ "
    "LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ "
    "OM "
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
    "QA "
    "RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
    "UA UG UM US UY UZ "
    "VA VC VE VG VI VN VU "
    "WF WS "
    "XK "
    "YE YT "
    "ZA ZM ZW";

bool
order_country_valid(const char *code)
{
    if (code == NULL || strlen(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z') {
        return false;
    }
    for (const char *p = COUNTRIES; *p != '\0'; p += (p[2] == ' ' ? 3 : 2)) {
        if (p[0] == code[0] && p[1] == code[1]) {
            return true;
        }
    }
    return false;
}

static const char *
sub_field(struct request *r, const char *field, const char *member)
{
    return arena_sprintf(r->arena, "%s.%s", field, member);
}

/* A required (or optional) one-line string member of obj, trimmed and 1..max characters.
 * NULL when absent (reported if required) or bad (reported); the body has no nulls. */
static const char *
line_member(struct request *r, json_object *obj, const char *field, const char *name, size_t max, bool required)
{
    const char *path = field != NULL ? sub_field(r, field, name) : name;
    json_object *v;
    if (!json_object_object_get_ex(obj, name, &v)) {
        if (required) {
            http_field_error(r, path, "is required");
        }
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        http_field_error(r, path, "must be a string");
        return NULL;
    }
    return http_json_text(r, path, json_object_get_string(v), 1, max, false);
}

static int
parse_address(struct request *r, const char *field, json_object *v, struct order_address *out)
{
    static const char *const members[] = {"name", "line1", "line2", "city", "postal_code", "country", NULL};
    memset(out, 0, sizeof(*out));
    if (!json_object_is_type(v, json_type_object)) {
        return http_field_error(r, field, "must be an object with name, line1, line2, city, postal_code, country");
    }
    json_object_object_foreach(v, key, val) {
        (void)val;
        bool known = false;
        for (const char *const *m = members; *m != NULL && !known; m++) {
            known = strcmp(*m, key) == 0;
        }
        if (!known) {
            http_field_error(r, sub_field(r, field, key), "unknown field");
        }
    }
    out->name = line_member(r, v, field, "name", ORDER_NAME_MAX, true);
    out->line1 = line_member(r, v, field, "line1", ORDER_LINE_MAX, true);
    out->line2 = line_member(r, v, field, "line2", ORDER_LINE_MAX, false);
    out->city = line_member(r, v, field, "city", ORDER_CITY_MAX, true);
    out->postal_code = line_member(r, v, field, "postal_code", ORDER_POSTAL_MAX, true);
    json_object *c;
    if (!json_object_object_get_ex(v, "country", &c)) {
        http_field_error(r, sub_field(r, field, "country"), "is required");
    } else if (!json_object_is_type(c, json_type_string) || !order_country_valid(json_object_get_string(c))) {
        http_field_error(r, sub_field(r, field, "country"),
                         "must be an ISO 3166-1 alpha-2 country code in upper case, like \"DE\"");
    } else {
        out->country = json_object_get_string(c);
    }
    return r->err_fields != NULL ? MK_EVALIDATION : MK_OK;
}

/* The UUID member name of body into *out (NULL when absent or bad; bad is reported). */
static bool
id_member(struct request *r, json_object *body, const char *name, const char *what, const char **out)
{
    json_object *v;
    *out = NULL;
    if (!json_object_object_get_ex(body, name, &v)) {
        return false;
    }
    if (!json_object_is_type(v, json_type_string) || !uuid_valid(json_object_get_string(v))) {
        http_field_error(r, name, what);
    } else {
        *out = json_object_get_string(v);
    }
    return true;
}

int
order_parse_create(struct request *r, json_object *body, const char **listing_id, const char **offer_id,
                   struct order_address *addr)
{
    static const char *const allowed[] = {"listing_id", "offer_id", "shipping_address", NULL};
    memset(addr, 0, sizeof(*addr));
    http_json_only(r, body, allowed);
    json_object *v;
    bool has_listing = id_member(r, body, "listing_id", "must be a listing id (a UUID)", listing_id);
    bool has_offer = id_member(r, body, "offer_id", "must be an offer id (a UUID)", offer_id);
    if (!has_listing && !has_offer) {
        http_field_error(r, "listing_id", "is required");
    } else if (has_listing && has_offer) {
        http_field_error(r, "offer_id", "give listing_id or offer_id, not both");
    }
    if (!json_object_object_get_ex(body, "shipping_address", &v)) {
        http_field_error(r, "shipping_address", "is required");
    } else {
        parse_address(r, "shipping_address", v, addr);
    }
    return r->err_fields != NULL ? MK_EVALIDATION : MK_OK;
}

int
order_parse_tracking(struct request *r, json_object *body, struct order_tracking *out)
{
    static const char *const allowed[] = {"carrier", "number", NULL};
    http_json_only(r, body, allowed);
    out->carrier = line_member(r, body, NULL, "carrier", ORDER_CARRIER_MAX, true);
    out->number = line_member(r, body, NULL, "number", ORDER_TRACKING_MAX, true);
    return r->err_fields != NULL ? MK_EVALIDATION : MK_OK;
}

int
order_check(enum order_action action, const char *user_id, const char *buyer_id, const char *seller_id,
            const char *status)
{
    bool buyer = strcmp(user_id, buyer_id) == 0, seller = strcmp(user_id, seller_id) == 0;
    if (!buyer && !seller) {
        return MK_ENOTFOUND;
    }
    switch (action) {
    case ORDER_SHIP:
        return !seller ? MK_EFORBIDDEN : strcmp(status, "paid") != 0 ? MK_ETRANSITION : MK_OK;
    case ORDER_CONFIRM:
        return !buyer ? MK_EFORBIDDEN : strcmp(status, "shipped") != 0 ? MK_ETRANSITION : MK_OK;
    case ORDER_CANCEL:
        return strcmp(status, "paid") != 0 ? MK_ETRANSITION : MK_OK;
    }
    return MK_EINTERNAL;
}

/* ---- SQL ------------------------------------------------------------------------ */


/* The columns every statement returns (order_from_row reads them in this order), the
 * last being the API shape. */
#define ORDER_COLUMNS                                                                                                  \
    "id::text, listing_id::text, buyer_id::text, seller_id::text, status, amount_minor, currency, "                    \
    "payment_provider, payment_ref, refund_ref, version, (extract(epoch FROM created_at) * 1000000)::bigint, "         \
    "json_build_object('id', id, 'listing_id', listing_id, 'buyer_id', buyer_id, 'seller_id', seller_id, "           \
    "  'status', status, 'amount_minor', amount_minor, 'currency', currency, "                                       \
    "  'shipping_address', json_build_object('name', ship_name, 'line1', ship_line1, 'line2', ship_line2, "          \
    "    'city', ship_city, 'postal_code', ship_postal_code, 'country', ship_country), "                              \
    "  'tracking', CASE WHEN tracking_carrier IS NULL THEN NULL "                                                    \
    "    ELSE json_build_object('carrier', tracking_carrier, 'number', tracking_number) END, "                        \
    "  'created_at', " PG_UTC_TEXT("created_at") ", 'updated_at', " PG_UTC_TEXT("updated_at") ")::text"

static const struct pg_stmt INSERT = {
    "order_insert",
    "INSERT INTO orders (id, listing_id, buyer_id, seller_id, status, amount_minor, currency, ship_name, ship_line1, "
    "  ship_line2, ship_city, ship_postal_code, ship_country, payment_provider, payment_ref, offer_id) "
    "VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, 'paid', $5::bigint, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
    "  $15::uuid) "
    "RETURNING " ORDER_COLUMNS,
    15,
};

#define TRANSITION_SET "version = version + 1, updated_at = now(), "

static const struct pg_stmt SHIP = {
    "order_ship",
    "UPDATE orders SET status = 'shipped', tracking_carrier = $3, tracking_number = $4, " TRANSITION_SET
    "shipped_at = now() WHERE id = $1::uuid AND seller_id = $2::uuid AND status = 'paid' RETURNING " ORDER_COLUMNS,
    4,
};

static const struct pg_stmt CONFIRM = {
    "order_confirm",
    "UPDATE orders SET status = 'delivered', " TRANSITION_SET
    "delivered_at = now() WHERE id = $1::uuid AND buyer_id = $2::uuid AND status = 'shipped' RETURNING " ORDER_COLUMNS,
    2,
};

static const struct pg_stmt CANCEL = {
    "order_cancel",
    "UPDATE orders SET status = 'cancelled', " TRANSITION_SET
    "cancelled_at = now() WHERE id = $1::uuid AND $2::uuid IN (buyer_id, seller_id) AND status = 'paid' "
    "RETURNING " ORDER_COLUMNS,
    2,
};

static const struct pg_stmt SET_REFUND = {
    "order_set_refund",
    "UPDATE orders SET refund_ref = $2 WHERE id = $1::uuid AND status = 'cancelled' RETURNING " ORDER_COLUMNS,
    2,
};

static const struct pg_stmt PARTIES = {
    "order_parties",
    "SELECT buyer_id::text, seller_id::text, status FROM orders WHERE id = $1::uuid",
    1,
};

static const struct pg_stmt GET = {
    "order_get",
    "SELECT " ORDER_COLUMNS " FROM orders WHERE id = $1::uuid AND $2::uuid IN (buyer_id, seller_id)",
    2,
};

/* Keyset: strictly after (created_at, id) of the previous page's last item; no cursor
 * (NULLs) starts before every order. ORDER BY names the table's columns: a bare "id" would
 * bind to the selected id::text output column and sort by text, not by uuid. */
#define AFTER                                                                                                          \
    "(created_at, id) < (coalesce('epoch'::timestamptz + $2::bigint * interval '1 microsecond', 'infinity'), "         \
    "  coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff')) "                                                   \
    "ORDER BY orders.created_at DESC, orders.id DESC LIMIT $4::int"

static const struct pg_stmt LIST_BUYER = {
    "order_list_buyer",
    "SELECT " ORDER_COLUMNS " FROM orders WHERE buyer_id = $1::uuid AND " AFTER,
    4,
};

static const struct pg_stmt LIST_SELLER = {
    "order_list_seller",
    "SELECT " ORDER_COLUMNS " FROM orders WHERE seller_id = $1::uuid AND " AFTER,
    4,
};

static const struct pg_stmt LIST_ANY = {
    "order_list_any",
    "SELECT " ORDER_COLUMNS " FROM orders WHERE (buyer_id = $1::uuid OR seller_id = $1::uuid) AND " AFTER,
    4,
};

static int
order_from_row(arena_t *a, const PGresult *res, int row, void *dst)
{
    struct order *o = dst;
    o->cancelled_by = NULL;
    o->id = arena_strdup(a, pg_value(res, row, 0));
    o->listing_id = arena_strdup(a, pg_value(res, row, 1));
    o->buyer_id = arena_strdup(a, pg_value(res, row, 2));
    o->seller_id = arena_strdup(a, pg_value(res, row, 3));
    o->status = arena_strdup(a, pg_value(res, row, 4));
    o->amount_minor = pg_int(res, row, 5);
    o->currency = arena_strdup(a, pg_value(res, row, 6));
    o->payment_provider = arena_strdup(a, pg_value(res, row, 7));
    o->payment_ref = arena_strdup(a, pg_value(res, row, 8));
    o->refund_ref = arena_strdup(a, pg_value(res, row, 9));
    o->version = pg_int(res, row, 10);
    o->created_us = pg_int(res, row, 11);
    o->json = json_tokener_parse(pg_value(res, row, 12));
    if (o->json == NULL) {
        return MK_EINTERNAL;
    }
    arena_cleanup_add(a, (arena_cleanup_fn)(void (*)(void))json_object_put, o->json);
    return MK_OK;
}

/* Run a statement that returns one order row; MK_ENOTFOUND when none. */
static int
exec_order(struct pg *pg, arena_t *a, const struct pg_stmt *stmt, const char *const *values, struct order *out)
{
    PGresult *res;
    int rc = pg_exec_row(pg, a, stmt, values, &res);
    return rc != MK_OK ? rc : order_from_row(a, res, 0, out);
}

int
order_insert(struct pg *pg, arena_t *a, const struct order_new *n, struct order *out)
{
    const struct order_address *ad = n->address;
    const char *values[] = {n->id,
                            n->listing_id,
                            n->buyer_id,
                            n->seller_id,
                            arena_sprintf(a, "%lld", n->amount_minor),
                            n->currency,
                            ad->name,
                            ad->line1,
                            ad->line2,
                            ad->city,
                            ad->postal_code,
                            ad->country,
                            n->payment_provider,
                            n->payment_ref,
                            n->offer_id};
    return exec_order(pg, a, &INSERT, values, out);
}

int
order_transition(struct pg *pg, arena_t *a, const char *id, const char *user_id, enum order_action action,
                 const struct order_tracking *tracking, struct order *out)
{
    const struct pg_stmt *stmt = action == ORDER_SHIP ? &SHIP : action == ORDER_CONFIRM ? &CONFIRM : &CANCEL;
    const char *values[] = {id, user_id, tracking != NULL ? tracking->carrier : NULL,
                            tracking != NULL ? tracking->number : NULL};
    int rc = exec_order(pg, a, stmt, values, out);
    if (rc != MK_ENOTFOUND) {
        return rc;
    }
    /* Nothing changed: say why from the order as it is now. */
    PGresult *res;
    const char *key[] = {id};
    rc = pg_exec_row(pg, a, &PARTIES, key, &res);
    if (rc != MK_OK) {
        return rc;
    }
    rc = order_check(action, user_id, pg_value(res, 0, 0), pg_value(res, 0, 1), pg_value(res, 0, 2));
    /* Allowed now means the state changed after our UPDATE looked: it was wrong then. */
    return rc == MK_OK ? MK_ETRANSITION : rc;
}

int
order_set_refund(struct pg *pg, arena_t *a, const char *id, const char *refund_ref, struct order *out)
{
    const char *values[] = {id, refund_ref};
    return exec_order(pg, a, &SET_REFUND, values, out);
}

int
order_emit(struct pg *pg, arena_t *a, const struct order *o, const char *event_type, long long *seq)
{
    json_object *doc = json_object_new_object();
    json_object_object_foreach(o->json, key, val) {
        if (strcmp(key, "shipping_address") != 0) {
            json_object_object_add(doc, key, json_object_get(val));
        }
    }
    json_object_object_add(doc, "version", json_object_new_int64(o->version));
    if (o->cancelled_by != NULL) {
        json_object_object_add(doc, "cancelled_by", json_object_new_string(o->cancelled_by));
    }
    json_object *payment = json_object_new_object();
    json_object_object_add(payment, "provider", json_object_new_string(o->payment_provider));
    json_object_object_add(payment, "reference", json_object_new_string(o->payment_ref));
    json_object_object_add(payment, "refund_reference",
                           o->refund_ref != NULL ? json_object_new_string(o->refund_ref) : NULL);
    json_object_object_add(doc, "payment", payment);
    return outbox_append_doc(pg, a, "order", o->id, o->version, event_type, doc, seq);
}

int
order_get(struct pg *pg, arena_t *a, const char *id, const char *user_id, struct order *out)
{
    const char *values[] = {id, user_id};
    return exec_order(pg, a, &GET, values, out);
}

int
order_list(struct pg *pg, arena_t *a, const char *user_id, enum order_role role, long long after_us,
           const char *after_id, int limit, struct order **out, size_t *n)
{
    const struct pg_stmt *stmt = role == ORDER_ROLE_BUYER ? &LIST_BUYER : role == ORDER_ROLE_SELLER ? &LIST_SELLER
                                                                                                   : &LIST_ANY;
    const char *values[] = {user_id, after_id != NULL ? arena_sprintf(a, "%lld", after_us) : NULL, after_id,
                            arena_sprintf(a, "%d", limit)};
    void *rows;
    int rc = pg_exec_rows(pg, a, stmt, values, sizeof(**out), order_from_row, &rows, n);
    *out = rows;
    return rc;
}
