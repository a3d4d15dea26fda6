#include "domain/notify.h"

#include "core/errors.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/ids.h"
#include "domain/outbox.h"

const char *const notify_types[] = {
    "order_placed",   "order_shipped",  "order_delivered", "order_cancelled", "offer_received",
    "offer_countered", "offer_accepted", "offer_declined",  "offer_expired",   "review_received",
    "price_dropped",  "favorite_sold",  "saved_search_match",
};
const size_t notify_types_count = sizeof(notify_types) / sizeof(notify_types[0]);

bool
notify_type_valid(const char *type)
{
    for (size_t i = 0; i < notify_types_count; i++) {
        if (strcmp(notify_types[i], type) == 0) {
            return true;
        }
    }
    return false;
}

static const char *
str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                                             : NULL;
}

static bool
int_of(json_object *o, const char *key, long long *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int)) {
        return false;
    }
    *out = json_object_get_int64(v);
    return true;
}

/* A new data object owned by the arena, with the string members given (NULL-terminated
 * name, value pairs; a NULL value is left out). */
static json_object *
data_new(arena_t *a, ...)
{
    json_object *d = json_object_new_object();
    arena_cleanup_add(a, (arena_cleanup_fn)(void (*)(void))json_object_put, d);
    va_list ap;
    va_start(ap, a);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        if (value != NULL) {
            json_object_object_add(d, name, json_object_new_string(value));
        }
    }
    va_end(ap);
    return d;
}

static void
direct(struct notify_plan *p, const char *recipient, const char *type, json_object *data)
{
    if (recipient != NULL && p->ndirect < NOTIFY_MAX_DIRECT) {
        p->direct[p->ndirect++] = (struct notify_target){recipient, type, data};
    }
}

static void
map_order(arena_t *a, const char *event_type, json_object *o, struct notify_plan *p)
{
    const char *buyer = str(o, "buyer_id"), *seller = str(o, "seller_id"), *listing = str(o, "listing_id");
    const char *id = str(o, "id");
    if (buyer == NULL || seller == NULL || listing == NULL || id == NULL) {
        return;
    }
    json_object *data = data_new(a, "order_id", id, "listing_id", listing, NULL);
    if (strcmp(event_type, "order.created") == 0) {
        direct(p, seller, "order_placed", data);
        /* Favouriters hear that it sold; the buyer (a party) hears of the order instead. */
        p->fanout_type = "favorite_sold";
        p->fanout_listing = listing;
        p->fanout_data = data_new(a, "listing_id", listing, NULL);
        p->exclude[0] = buyer;
        p->exclude[1] = seller;
    } else if (strcmp(event_type, "order.shipped") == 0) {
        direct(p, buyer, "order_shipped", data);
    } else if (strcmp(event_type, "order.delivered") == 0) {
        direct(p, seller, "order_delivered", data);
    } else if (strcmp(event_type, "order.cancelled") == 0) {
        const char *by = str(o, "cancelled_by");
        if (by == NULL || strcmp(by, "seller") == 0) {
            direct(p, buyer, "order_cancelled", data);
        }
        if (by == NULL || strcmp(by, "buyer") == 0) {
            direct(p, seller, "order_cancelled", data);
        }
    }
}

static void
map_offer(arena_t *a, const char *event_type, json_object *o, struct notify_plan *p)
{
    const char *buyer = str(o, "buyer_id"), *seller = str(o, "seller_id"), *listing = str(o, "listing_id");
    const char *id = str(o, "offer_id"), *by = str(o, "by");
    if (id == NULL) {
        id = str(o, "id");
    }
    if (buyer == NULL || seller == NULL || listing == NULL || id == NULL) {
        return;
    }
    json_object *data = data_new(a, "offer_id", id, "listing_id", listing, "currency", str(o, "currency"), NULL);
    long long amount;
    if (int_of(o, "amount_minor", &amount)) {
        json_object_object_add(data, "amount_minor", json_object_new_int64(amount));
    }
    /* the other party of the one who moved */
    const char *other = by == NULL ? NULL : strcmp(by, "buyer") == 0 ? seller : strcmp(by, "seller") == 0 ? buyer : NULL;
    const char *ev = event_type + strlen("offer.");
    if (strcmp(ev, "created") == 0) {
        direct(p, seller, "offer_received", data);
    } else if (strcmp(ev, "countered") == 0) {
        direct(p, other, "offer_countered", data);
    } else if (strcmp(ev, "accepted") == 0) {
        direct(p, other, "offer_accepted", data);
    } else if (strcmp(ev, "declined") == 0) {
        /* declined by the system (another offer was accepted): the buyer */
        direct(p, by != NULL && strcmp(by, "system") == 0 ? buyer : other, "offer_declined", data);
    } else if (strcmp(ev, "expired") == 0) {
        direct(p, buyer, "offer_expired", data);
        direct(p, seller, "offer_expired", data);
    }
}

/* listing.* events carry the whole state; listing.updated adds previous_price_minor,
 * previous_currency and previous_status (command/listings.c). */
static void
map_listing(arena_t *a, const char *event_type, json_object *l, struct notify_plan *p)
{
    const char *id = str(l, "id"), *status = str(l, "status");
    if (id == NULL || status == NULL || strcmp(status, "active") != 0) {
        return;
    }
    if (strcmp(event_type, "listing.created") == 0 || strcmp(event_type, "listing.relisted") == 0) {
        p->match_saved_searches = true;
        return;
    }
    if (strcmp(event_type, "listing.updated") != 0) {
        return;
    }
    const char *before = str(l, "previous_status");
    if (before != NULL && strcmp(before, "active") != 0) {
        p->match_saved_searches = true;   /* draft → active */
    }
    long long old_price, new_price;
    const char *old_currency = str(l, "previous_currency"), *currency = str(l, "currency");
    if (int_of(l, "previous_price_minor", &old_price) && int_of(l, "price_minor", &new_price) &&
        new_price < old_price && old_currency != NULL && currency != NULL && strcmp(old_currency, currency) == 0 &&
        before != NULL && strcmp(before, "active") == 0) {
        json_object *data = data_new(a, "listing_id", id, "currency", currency, NULL);
        json_object_object_add(data, "old_price_minor", json_object_new_int64(old_price));
        json_object_object_add(data, "new_price_minor", json_object_new_int64(new_price));
        p->fanout_type = "price_dropped";
        p->fanout_listing = id;
        p->fanout_data = data;
        p->exclude[0] = str(l, "seller_id");
    }
}

void
notify_map(arena_t *a, const char *event_type, json_object *payload, struct notify_plan *out)
{
    memset(out, 0, sizeof(*out));
    if (payload == NULL || !json_object_is_type(payload, json_type_object)) {
        return;
    }
    if (strncmp(event_type, "order.", 6) == 0) {
        map_order(a, event_type, payload, out);
    } else if (strncmp(event_type, "offer.", 6) == 0) {
        map_offer(a, event_type, payload, out);
    } else if (strncmp(event_type, "listing.", 8) == 0) {
        map_listing(a, event_type, payload, out);
    } else if (strcmp(event_type, "review.created") == 0) {
        const char *seller = str(payload, "seller_id"), *order = str(payload, "order_id");
        const char *listing = str(payload, "listing_id"), *id = str(payload, "id");
        if (seller != NULL && order != NULL && listing != NULL) {
            direct(out, seller, "review_received",
                   data_new(a, "order_id", order, "listing_id", listing, "review_id", id, NULL));
        }
    }
}

void
notify_id(char out[37], const char *aggregate_type, const char *aggregate_id, long long version,
          const char *event_type, const char *recipient, const char *type)
{
    char key[512];
    int n = snprintf(key, sizeof(key), "%s\n%s\n%lld\n%s\n%s\n%s", aggregate_type, aggregate_id, version, event_type,
                     recipient, type);
    unsigned char h[16];
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof(key) ? sizeof(key) - 1 : (size_t)n;
    static const char hash_key[] = "marketd notification id v1";   /* >= crypto_generichash_KEYBYTES_MIN */
    crypto_generichash(h, sizeof(h), (const unsigned char *)key, len, (const unsigned char *)hash_key,
                       sizeof(hash_key) - 1);
    h[6] = (unsigned char)((h[6] & 0x0F) | 0x80);   /* version 8: custom */
    h[8] = (unsigned char)((h[8] & 0x3F) | 0x80);   /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = hex[h[i] >> 4];
        out[o++] = hex[h[i] & 15];
    }
    out[o] = '\0';
}

long
notify_retry_delay_s(int attempts, long since_first_s)
{
    static const long first[] = {5, 30, 120, 600, 3600};
    if (attempts < 1) {
        return 0;
    }
    if (attempts <= 5) {
        return first[attempts - 1];
    }
    const long every = 6 * 3600, window = 3 * 86400;
    return since_first_s + every <= window ? every : -1;
}

static const struct pg_stmt FEED_BUMP = {
    "notify_feed_bump",
    "INSERT INTO notification_feeds AS f (user_id, version) VALUES ($1::uuid, 1) "
    "ON CONFLICT (user_id) DO UPDATE SET version = f.version + 1 RETURNING version",
    1,
};

json_object *
notify_json(arena_t *a, const char *text)
{
    json_object *o = json_tokener_parse(text);
    if (o != NULL) {
        arena_cleanup_add(a, (arena_cleanup_fn)(void (*)(void))json_object_put, o);
    }
    return o;
}

int
notify_json_row(struct pg *pg, arena_t *a, const struct pg_stmt *stmt, const char *const *values, json_object **out)
{
    PGresult *res;
    int rc = pg_exec_row(pg, a, stmt, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    return (*out = notify_json(a, pg_value(res, 0, 0))) != NULL ? MK_OK : MK_EINTERNAL;
}

int
notify_user_cap(struct pg *pg, arena_t *a, const struct pg_stmt *lock, const struct pg_stmt *count,
                const char *user_id, long max)
{
    const char *user[] = {user_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, lock, user, &res);
    if (rc != MK_OK || (rc = pg_exec_row(pg, a, count, user, &res)) != MK_OK) {
        return rc;
    }
    return pg_int(res, 0, 0) >= max ? MK_ECONFLICT : MK_OK;
}

int
notify_emit(struct pg *pg, arena_t *a, const char *aggregate_type, const char *id, long long version,
            const char *event_type, json_object *payload, long long *seq)
{
    /* outbox_append_doc releases what it is given; the payload stays the caller's. */
    return outbox_append_doc(pg, a, aggregate_type, id, version, event_type, json_object_get(payload), seq);
}

int
notify_mark_read(struct pg *pg, arena_t *a, const char *user_id, json_object *ids, long long *seq)
{
    const char *values[] = {user_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &FEED_BUMP, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    json_object *payload = notify_json(a, "{}");
    json_object_object_add(payload, "user_id", json_object_new_string(user_id));
    if (ids != NULL) {
        json_object_object_add(payload, "ids", json_object_get(ids));
    } else {
        json_object_object_add(payload, "all", json_object_new_boolean(true));
    }
    return notify_emit(pg, a, "notification_feed", user_id, pg_int(res, 0, 0), "notification.read", payload, seq);
}

int
notify_parse_read(struct request *r, json_object *body, json_object **out)
{
    static const char *const allowed[] = {"ids", "all", NULL};
    *out = NULL;
    if (http_json_only(r, body, allowed) != MK_OK) {
        return MK_EVALIDATION;
    }
    json_object *ids, *all;
    bool has_ids = json_object_object_get_ex(body, "ids", &ids), has_all = json_object_object_get_ex(body, "all", &all);
    if (has_ids == has_all) {
        return http_field_error(r, "ids", "give either ids (an array of notification ids) or all: true");
    }
    if (has_all) {
        if (!json_object_is_type(all, json_type_boolean) || !json_object_get_boolean(all)) {
            return http_field_error(r, "all", "must be true");
        }
        return MK_OK;
    }
    size_t n = json_object_is_type(ids, json_type_array) ? json_object_array_length(ids) : 0;
    if (n == 0 || n > NOTIFY_READ_MAX_IDS) {
        return http_field_error(r, "ids", "must be an array of 1 to 500 notification ids");
    }
    json_object *list = http_json_own(r, json_object_new_array());
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(ids, i);
        if (!json_object_is_type(v, json_type_string) || !uuid_valid(json_object_get_string(v))) {
            return http_field_error(r, arena_sprintf(r->arena, "ids[%zu]", i), "must be a notification id (UUID)");
        }
        char *id = arena_strdup(r->arena, json_object_get_string(v));
        for (char *c = id; *c != '\0'; c++) {
            *c = (char)tolower((unsigned char)*c);
        }
        json_object_array_add(list, json_object_new_string(id));
    }
    *out = list;
    return MK_OK;
}
