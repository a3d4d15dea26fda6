#include "domain/listing.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "domain/location.h"
#include "domain/outbox.h"

/* ---- validation ----------------------------------------------------------------- */

static const char *const CONDITIONS[] = {"new", "like_new", "good", "fair", "poor", NULL};

static bool
one_of(const char *s, const char *const *set)
{
    for (const char *const *p = set; *p != NULL; p++) {
        if (strcmp(*p, s) == 0) {
            return true;
        }
    }
    return false;
}

/* Member name of body: NULL when absent (reported as required unless partial). */
static json_object *
member(struct request *r, json_object *body, const char *name, bool partial)
{
    json_object *v;
    if (json_object_object_get_ex(body, name, &v)) {
        if (v == NULL) { /* http_json_body refuses nulls; this is a second line */
            http_field_error(r, name, "must not be null");
        }
        return v;
    }
    if (!partial) {
        http_field_error(r, name, "is required");
    }
    return NULL;
}

static const char *
string_of(struct request *r, json_object *v, const char *name)
{
    if (!json_object_is_type(v, json_type_string)) {
        http_field_error(r, name, "must be a string");
        return NULL;
    }
    return json_object_get_string(v);
}

int
listing_parse(struct request *r, json_object *body, bool partial, struct listing_input *out)
{
    static const char *const allowed[] = {"title",    "description", "category",   "condition", "price_minor",
                                          "currency", "location",    "attributes", "status",    NULL};
    memset(out, 0, sizeof(*out));
    http_json_only(r, body, allowed);
    json_object *v;
    const char *s;

    if ((v = member(r, body, "title", partial)) != NULL && (s = string_of(r, v, "title")) != NULL) {
        out->title = http_json_text(r, "title", s, LISTING_TITLE_MIN, LISTING_TITLE_MAX, false);
    }
    /* http_json_body refused every null: a NULL v is an absent member. */
    if ((v = member(r, body, "description", true)) != NULL) {
        if ((s = string_of(r, v, "description")) != NULL) {
            out->description = http_json_text(r, "description", s, 0, LISTING_DESCRIPTION_MAX, true);
        }
    }
    if ((v = member(r, body, "category", partial)) != NULL) {
        out->category = string_of(r, v, "category");
    }
    if ((v = member(r, body, "condition", partial)) != NULL && (s = string_of(r, v, "condition")) != NULL) {
        if (!one_of(s, CONDITIONS)) {
            http_field_error(r, "condition", "must be one of: new, like_new, good, fair, poor");
        }
        out->condition = s;
    }
    if ((v = member(r, body, "price_minor", partial)) != NULL) {
        out->has_price = http_json_int(r, v, "price_minor", 1, LISTING_PRICE_MAX,
                                       "must be an integer from 1 to 100000000 (minor units)", &out->price_minor);
    }
    if ((v = member(r, body, "currency", partial)) != NULL && (s = string_of(r, v, "currency")) != NULL) {
        if (strlen(s) != 3 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]) ||
            !isupper((unsigned char)s[2])) {
            http_field_error(r, "currency", "must be an ISO 4217 code in upper case, like \"EUR\"");
        }
        out->currency = s;
    }
    if ((v = member(r, body, "location", partial)) != NULL) {
        location_parse(r, "location", v, true, &out->location);
    }
    if ((v = member(r, body, "attributes", true)) != NULL) {
        if (!json_object_is_type(v, json_type_object)) {
            http_field_error(r, "attributes", "must be an object");
        } else {
            out->attributes = v;
        }
    }
    if ((v = member(r, body, "status", true)) != NULL && (s = string_of(r, v, "status")) != NULL) {
        if (strcmp(s, "draft") != 0 && strcmp(s, "active") != 0) {
            http_field_error(r, "status", "must be draft or active (DELETE deletes; orders sell)");
        }
        out->status = s;
    }
    return r->err_fields != NULL ? MK_EVALIDATION : MK_OK;
}

/* ---- SQL ------------------------------------------------------------------------ */


static const struct pg_stmt LOCK = {
    "listing_lock",
    "SELECT id::text, seller_id::text, status, category, attributes::text, version, "
    "  (SELECT count(*) FROM listing_images i WHERE i.listing_id = l.id), price_minor, currency "
    "FROM listings l WHERE id = $1::uuid FOR UPDATE",
    1,
};

static const struct pg_stmt INSERT = {
    "listing_insert",
    "INSERT INTO listings (id, seller_id, title, description, category, condition, price_minor, currency, "
    "  city, country, lat, lon, attributes, status) "
    "VALUES ($1::uuid, $2::uuid, $3, coalesce($4, ''), $5, $6, $7::bigint, $8, "
    "  $9::jsonb->>'city', $9::jsonb->>'country', ($9::jsonb->>'lat')::float8, ($9::jsonb->>'lon')::float8, "
    "  coalesce($10::jsonb, '{}'), coalesce($11, 'active'))",
    11,
};

static const struct pg_stmt UPDATE = {
    "listing_update",
    "UPDATE listings SET title = coalesce($2, title), description = coalesce($3, description), "
    "  category = coalesce($4, category), condition = coalesce($5, condition), "
    "  price_minor = coalesce($6::bigint, price_minor), currency = coalesce($7, currency), "
    "  city = coalesce($8::jsonb->>'city', city), country = coalesce($8::jsonb->>'country', country), "
    "  lat = coalesce(($8::jsonb->>'lat')::float8, lat), lon = coalesce(($8::jsonb->>'lon')::float8, lon), "
    "  attributes = coalesce($9::jsonb, attributes), status = coalesce($10, status), "
    "  version = version + 1, updated_at = now() "
    "WHERE id = $1::uuid",
    10,
};

static const struct pg_stmt SET_STATUS = {
    "listing_set_status",
    "UPDATE listings SET status = $2, version = version + 1, updated_at = now() WHERE id = $1::uuid",
    2,
};

static const struct pg_stmt TOUCH = {
    "listing_touch",
    "UPDATE listings SET version = version + 1, updated_at = now() WHERE id = $1::uuid",
    1,
};

static const struct pg_stmt SELL = {
    "listing_sell",
    "UPDATE listings SET status = 'sold', version = version + 1, updated_at = now() "
    "WHERE id = $1::uuid AND status = 'active' AND seller_id <> $2::uuid "
    "RETURNING seller_id::text, price_minor, currency",
    2,
};

static const struct pg_stmt MOVE = {
    "listing_move",
    "UPDATE listings SET status = $3, version = version + 1, updated_at = now() "
    "WHERE id = $1::uuid AND status = $2 RETURNING id",
    3,
};

/* The whole state of a listing as one JSON document: what every event carries. */
static const struct pg_stmt STATE = {
    "listing_state",
    "SELECT json_build_object("
    "  'id', l.id, 'seller_id', l.seller_id, 'title', l.title, 'description', l.description, "
    "  'category', l.category, "
    "  'category_path', (WITH RECURSIVE up(slug, parent, depth) AS ("
    "      SELECT slug, parent, 0 FROM categories WHERE slug = l.category "
    "      UNION ALL SELECT c.slug, c.parent, up.depth + 1 FROM categories c JOIN up ON c.slug = up.parent) "
    "    SELECT json_agg(slug ORDER BY depth DESC) FROM up), "
    "  'condition', l.condition, 'price_minor', l.price_minor, 'currency', l.currency, "
    "  'location', json_build_object('city', l.city, 'country', l.country, 'lat', l.lat, 'lon', l.lon), "
    "  'attributes', l.attributes, "
    "  'images', coalesce((SELECT json_agg(json_build_object('id', i.id, 'key', i.key, "
    "      'content_type', i.content_type, 'status', i.status, 'thumb_key', i.thumb_key, "
    "      'width', i.width, 'height', i.height) ORDER BY i.position, i.id) "
    "    FROM listing_images i WHERE i.listing_id = l.id), '[]'::json), "
    "  'status', l.status, 'version', l.version, "
    "  'created_at', " PG_UTC_TEXT("l.created_at") ", 'updated_at', " PG_UTC_TEXT("l.updated_at") ", "
    "  'created_us', (extract(epoch FROM l.created_at) * 1000000)::bigint)::text "
    "FROM listings l WHERE l.id = $1::uuid",
    1,
};

int
listing_lock(struct pg *pg, arena_t *a, const char *id, struct listing_row *out)
{
    const char *values[] = {id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &LOCK, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    out->id = arena_strdup(a, pg_value(res, 0, 0));
    out->seller_id = arena_strdup(a, pg_value(res, 0, 1));
    out->status = arena_strdup(a, pg_value(res, 0, 2));
    out->category = arena_strdup(a, pg_value(res, 0, 3));
    out->attributes = json_tokener_parse(pg_value(res, 0, 4));
    if (out->attributes != NULL) {
        arena_cleanup_add(a, (arena_cleanup_fn)(void (*)(void))json_object_put, out->attributes);
    }
    out->version = pg_int(res, 0, 5);
    out->nimages = (int)pg_int(res, 0, 6);
    out->price_minor = pg_int(res, 0, 7);
    out->currency = arena_strdup(a, pg_value(res, 0, 8));
    return MK_OK;
}

static const char *
json_text(arena_t *a, json_object *o)
{
    return o != NULL ? arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) : NULL;
}

/* The input's nine columns, in the order INSERT and UPDATE take them after their ids. */
static void
input_values(arena_t *a, const struct listing_input *in, const char *price, const char **v)
{
    const char *cols[] = {in->title,    in->description,           in->category,
                          in->condition, price,                    in->currency,
                          json_text(a, in->location), json_text(a, in->attributes), in->status};
    memcpy(v, cols, sizeof(cols));
}

int
listing_insert(struct pg *pg, arena_t *a, const char *id, const char *seller_id, const struct listing_input *in)
{
    const char *values[11] = {id, seller_id};
    input_values(a, in, arena_sprintf(a, "%lld", in->price_minor), values + 2);
    return pg_exec(pg, a, &INSERT, values, NULL);
}

int
listing_update(struct pg *pg, arena_t *a, const char *id, const struct listing_input *in)
{
    const char *values[10] = {id};
    input_values(a, in, in->has_price ? arena_sprintf(a, "%lld", in->price_minor) : NULL, values + 1);
    return pg_exec(pg, a, &UPDATE, values, NULL);
}

int
listing_set_status(struct pg *pg, arena_t *a, const char *id, const char *status)
{
    const char *values[] = {id, status};
    return pg_exec(pg, a, &SET_STATUS, values, NULL);
}

int
listing_touch(struct pg *pg, arena_t *a, const char *id)
{
    const char *values[] = {id};
    return pg_exec(pg, a, &TOUCH, values, NULL);
}

int
listing_sell(struct pg *pg, arena_t *a, const char *id, const char *buyer_id, struct listing_sale *out)
{
    const char *values[] = {id, buyer_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &SELL, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    out->seller_id = arena_strdup(a, pg_value(res, 0, 0));
    out->price_minor = pg_int(res, 0, 1);
    out->currency = arena_strdup(a, pg_value(res, 0, 2));
    return MK_OK;
}

int
listing_move(struct pg *pg, arena_t *a, const char *id, const char *from, const char *to)
{
    const char *values[] = {id, from, to};
    PGresult *res;
    return pg_exec_row(pg, a, &MOVE, values, &res);
}

int
listing_emit(struct pg *pg, arena_t *a, const char *id, const char *event_type, json_object *extra, long long *seq,
             json_object **state_out)
{
    const char *values[] = {id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &STATE, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    json_object *state = json_tokener_parse(pg_value(res, 0, 0));
    if (state == NULL) {
        return MK_EINTERNAL;
    }
    arena_cleanup_add(a, (arena_cleanup_fn)(void (*)(void))json_object_put, state);
    if (extra != NULL) {
        json_object_object_foreach(extra, key, val) {
            json_object_object_add(state, key, json_object_get(val));
        }
    }
    json_object *version;
    json_object_object_get_ex(state, "version", &version);
    struct outbox_event ev = {
        .aggregate_type = "listing",
        .aggregate_id = id,
        .version = json_object_get_int64(version),
        .event_type = event_type,
        .payload = json_text(a, state),
    };
    if (state_out != NULL) {
        *state_out = state;
    }
    return outbox_append(pg, a, &ev, seq);
}

/* ---- shapes --------------------------------------------------------------------- */

static json_object *
url_of(const char *public_base, json_object *key)
{
    if (key == NULL || !json_object_is_type(key, json_type_string)) {
        return NULL;
    }
    char *url = NULL;
    if (asprintf(&url, "%s/%s", public_base, json_object_get_string(key)) < 0) {
        return NULL;
    }
    json_object *s = json_object_new_string(url);
    free(url);
    return s;
}

json_object *
listing_client_json(json_object *state, const char *public_base)
{
    json_object *out = json_object_new_object();
    json_object_object_foreach(state, key, val) {
        if (strcmp(key, "category_path") == 0 || strcmp(key, "removed_keys") == 0 || strcmp(key, "created_us") == 0 ||
            strncmp(key, "previous_", 9) == 0) {
            continue;
        }
        if (strcmp(key, "images") == 0) {
            json_object *images = json_object_new_array();
            for (size_t i = 0; i < json_object_array_length(val); i++) {
                json_object *img = json_object_array_get_idx(val, i), *m;
                json_object *o = json_object_new_object();
                json_object_object_get_ex(img, "id", &m);
                json_object_object_add(o, "id", json_object_get(m));
                json_object_object_add(o, "url", url_of(public_base, json_object_object_get(img, "key")));
                json_object_object_add(o, "thumb_url", url_of(public_base, json_object_object_get(img, "thumb_key")));
                json_object_object_add(o, "width", json_object_get(json_object_object_get(img, "width")));
                json_object_object_add(o, "height", json_object_get(json_object_object_get(img, "height")));
                json_object_array_add(images, o);
            }
            json_object_object_add(out, "images", images);
            continue;
        }
        json_object_object_add(out, key, json_object_get(val));
    }
    return out;
}

/* The version's text, as the ETag writes it (no sign, no leading zero). */
struct version_text {
    char digits[24];
    size_t n;
};

/* Whether an opaque tag names the version: "V" or "V-anything" (an entity tag is compared as a
 * string: "01" is not "1"). */
static bool
tag_names_version(const char *tag, size_t n, void *arg)
{
    const struct version_text *v = arg;
    return n >= v->n && memcmp(tag, v->digits, v->n) == 0 && (n == v->n || tag[v->n] == '-');
}

bool
listing_if_match(const char *value, long long version)
{
    struct version_text v;
    v.n = (size_t)snprintf(v.digits, sizeof(v.digits), "%lld", version);
    return http_if_match(value, tag_names_version, &v);
}
