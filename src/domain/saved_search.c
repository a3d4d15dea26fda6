#include "domain/saved_search.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/text.h"
#include "domain/notify.h"

#define LISTING_MAX_WORDS 256   /* as the projector's keywords (projector/listing.c) */

int
saved_search_parse(arena_t *a, const struct category_set *cats, const char *secret, const char *query,
                   struct search_query *out, const char **problem)
{
    char *const env[] = {arena_sprintf(a, "QUERY_STRING=%s", query), (char *)"REQUEST_METHOD=GET", NULL};
    struct request r;
    *problem = NULL;
    int rc = http_request_init(&r, a, env, NULL, 0);
    if (rc == MK_OK && http_query(&r, "cursor") != NULL) {
        rc = http_fail(&r, MK_EBADPARAM, "cursor: is not allowed in a saved search");
    }
    if (rc == MK_OK) {
        rc = search_parse(&r, cats, secret, out);
    }
    if (rc != MK_OK) {
        *problem = r.err_message != NULL ? r.err_message : "is not a valid query";
        return MK_EBADPARAM;
    }
    return MK_OK;
}

static long
cell_of(double deg)
{
    return (long)floor(deg / SAVED_SEARCH_GEO_CELL_DEG);
}

/* The cells a circle's bounding box touches, or 0 when more than max (too wide to anchor). */
static size_t
geo_cells(arena_t *a, const struct search_query *q, const char **out, size_t max)
{
    double dlat = q->radius_km / 111.32;
    double lat0 = q->lat - dlat, lat1 = q->lat + dlat;
    double far = fmax(fabs(lat0), fabs(lat1));
    if (far >= 89.0) {
        return 0;   /* near a pole every longitude is close */
    }
    double dlon = q->radius_km / (111.32 * cos(far * M_PI / 180.0));
    if (dlon >= 180.0) {
        return 0;
    }
    long la0 = cell_of(lat0), la1 = cell_of(lat1), lo0 = cell_of(q->lon - dlon), lo1 = cell_of(q->lon + dlon);
    size_t n = 0, per_turn = (size_t)lround(360.0 / SAVED_SEARCH_GEO_CELL_DEG);
    if ((size_t)((la1 - la0 + 1) * (lo1 - lo0 + 1)) > max) {
        return 0;
    }
    for (long la = la0; la <= la1; la++) {
        for (long lo = lo0; lo <= lo1; lo++) {
            /* wrap at the antimeridian into [-180, 180) */
            long w = ((lo + (long)per_turn / 2) % (long)per_turn + (long)per_turn) % (long)per_turn - (long)per_turn / 2;
            out[n++] = arena_sprintf(a, "g:%ld:%ld", la, w);
        }
    }
    return n;
}

size_t
saved_search_anchors(arena_t *a, const struct search_query *q, const char **out)
{
    if (q->seller != NULL) {
        out[0] = arena_sprintf(a, "s:%s", q->seller);
        return 1;
    }
    if (q->nwords > 0) {
        /* one word is enough (every word is required); the longest is likely the rarest */
        size_t best = 0;
        for (size_t i = 1; i < q->nwords; i++) {
            best = strlen(q->words[i]) > strlen(q->words[best]) ? i : best;
        }
        out[0] = arena_sprintf(a, "w:%s", q->words[best]);
        return 1;
    }
    if (q->category != NULL) {
        out[0] = arena_sprintf(a, "c:%s", q->category);
        return 1;
    }
    if (q->near) {
        size_t n = geo_cells(a, q, out, SAVED_SEARCH_MAX_ANCHORS);
        if (n > 0) {
            return n;
        }
    }
    if (q->currency != NULL) {
        out[0] = arena_sprintf(a, "cur:%s", q->currency);
        return 1;
    }
    if (q->nconditions > 0) {
        for (size_t i = 0; i < q->nconditions; i++) {
            out[i] = arena_sprintf(a, "cond:%s", q->conditions[i]);
        }
        return q->nconditions;
    }
    out[0] = "any";
    return 1;
}

void
saved_search_index_of(arena_t *a, const struct search_query *q, struct saved_search_index *out)
{
    const char *anchors[SAVED_SEARCH_MAX_ANCHORS];
    out->anchors = saved_search_text_array(a, anchors, saved_search_anchors(a, q, anchors));
    out->min_price = q->has_min ? arena_sprintf(a, "%lld", q->min_price) : NULL;
    out->max_price = q->has_max ? arena_sprintf(a, "%lld", q->max_price) : NULL;
    out->currency = q->currency;
}

static const char *
member_str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                                             : NULL;
}

static bool
member_num(json_object *o, const char *key, double *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) ||
        (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))) {
        return false;
    }
    *out = json_object_get_double(v);
    return true;
}

static size_t
listing_words(arena_t *a, json_object *listing, const char **words)
{
    const char *title = member_str(listing, "title"), *description = member_str(listing, "description");
    char *all = arena_sprintf(a, "%s %s", title != NULL ? title : "", description != NULL ? description : "");
    return search_words(a, all, words, LISTING_MAX_WORDS);
}

size_t
saved_search_listing_keys(arena_t *a, json_object *listing, const char ***out)
{
    const char **words = arena_alloc(a, LISTING_MAX_WORDS * sizeof(*words));
    size_t nw = listing_words(a, listing, words);
    json_object *path = json_object_object_get(listing, "category_path");
    size_t np = path != NULL && json_object_is_type(path, json_type_array) ? json_object_array_length(path) : 0;
    const char **keys = arena_alloc(a, (nw + np + 6) * sizeof(*keys));
    size_t n = 0;
    keys[n++] = "any";
    const char *v;
    if ((v = member_str(listing, "seller_id")) != NULL) {
        keys[n++] = arena_sprintf(a, "s:%s", v);
    }
    if ((v = member_str(listing, "currency")) != NULL) {
        keys[n++] = arena_sprintf(a, "cur:%s", v);
    }
    if ((v = member_str(listing, "condition")) != NULL) {
        keys[n++] = arena_sprintf(a, "cond:%s", v);
    }
    json_object *loc = json_object_object_get(listing, "location");
    double lat, lon;
    if (loc != NULL && member_num(loc, "lat", &lat) && member_num(loc, "lon", &lon)) {
        keys[n++] = arena_sprintf(a, "g:%ld:%ld", cell_of(lat), cell_of(lon >= 180.0 ? -180.0 : lon));
    }
    for (size_t i = 0; i < np; i++) {
        const char *slug = json_object_get_string(json_object_array_get_idx(path, i));
        if (slug != NULL) {
            keys[n++] = arena_sprintf(a, "c:%s", slug);
        }
    }
    for (size_t i = 0; i < nw; i++) {
        keys[n++] = arena_sprintf(a, "w:%s", words[i]);
    }
    *out = keys;
    return n;
}

static bool
attr_equal(const struct category_value *want, json_object *have)
{
    if (have == NULL) {
        return false;
    }
    switch (want->type) {
    case CATEGORY_INTEGER:
    case CATEGORY_NUMBER: {
        if (!json_object_is_type(have, json_type_int) && !json_object_is_type(have, json_type_double)) {
            return false;
        }
        double w = want->type == CATEGORY_INTEGER ? (double)want->u.i : want->u.d;
        return json_object_get_double(have) == w;
    }
    case CATEGORY_BOOLEAN:
        return json_object_is_type(have, json_type_boolean) && json_object_get_boolean(have) == want->u.b;
    default:
        return json_object_is_type(have, json_type_string) && strcmp(json_object_get_string(have), want->u.s) == 0;
    }
}

static bool
in_path(json_object *listing, const char *category)
{
    json_object *path = json_object_object_get(listing, "category_path");
    size_t n = path != NULL && json_object_is_type(path, json_type_array) ? json_object_array_length(path) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *slug = json_object_get_string(json_object_array_get_idx(path, i));
        if (slug != NULL && strcmp(slug, category) == 0) {
            return true;
        }
    }
    return false;
}

static bool
words_match(arena_t *a, const struct search_query *q, json_object *listing)
{
    if (q->nwords == 0) {
        return true;
    }
    const char **words = arena_alloc(a, LISTING_MAX_WORDS * sizeof(*words));
    size_t nw = listing_words(a, listing, words);
    for (size_t i = 0; i < q->nwords; i++) {
        bool found = false;
        for (size_t k = 0; k < nw && !found; k++) {
            found = strcmp(words[k], q->words[i]) == 0;
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

bool
saved_search_matches(arena_t *a, const struct search_query *q, json_object *listing)
{
    const char *v;
    double price;
    if (q->seller != NULL && ((v = member_str(listing, "seller_id")) == NULL || strcmp(v, q->seller) != 0)) {
        return false;
    }
    if (q->category != NULL && !in_path(listing, q->category)) {
        return false;
    }
    if (q->currency != NULL && ((v = member_str(listing, "currency")) == NULL || strcmp(v, q->currency) != 0)) {
        return false;
    }
    if (q->nconditions > 0) {
        bool ok = false;
        v = member_str(listing, "condition");
        for (size_t i = 0; i < q->nconditions && v != NULL && !ok; i++) {
            ok = strcmp(v, q->conditions[i]) == 0;
        }
        if (!ok) {
            return false;
        }
    }
    if ((q->has_min || q->has_max) && (!member_num(listing, "price_minor", &price) ||
                                       (q->has_min && price < (double)q->min_price) ||
                                       (q->has_max && price > (double)q->max_price))) {
        return false;
    }
    if (q->near) {
        json_object *loc = json_object_object_get(listing, "location");
        double lat, lon;
        if (loc == NULL || !member_num(loc, "lat", &lat) || !member_num(loc, "lon", &lon) ||
            search_distance_km(q->lat, q->lon, lat, lon) > q->radius_km) {
            return false;
        }
    }
    json_object *attrs = json_object_object_get(listing, "attributes");
    for (size_t i = 0; i < q->nattrs; i++) {
        json_object *have = attrs != NULL ? json_object_object_get(attrs, q->attrs[i].name) : NULL;
        if (!attr_equal(&q->attrs[i].value, have)) {
            return false;
        }
    }
    return words_match(a, q, listing);
}

char *
saved_search_text_array(arena_t *a, const char *const *v, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++) {
        len += 3 + 2 * strlen(v[i]);
    }
    char *out = arena_alloc(a, len), *o = out;
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            *o++ = ',';
        }
        *o++ = '"';
        for (const char *c = v[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\') {
                *o++ = '\\';
            }
            *o++ = *c;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = '\0';
    return out;
}

/* ---- storage ------------------------------------------------------------------------ */

#define SHAPE(t)                                                                                                    \
    "json_build_object('id', " t ".id, 'name', " t ".name, 'query', " t ".query, 'alert', " t ".alert, "          \
    "'created_at', " PG_UTC_TEXT(t ".created_at") ")::text"

static const struct pg_stmt LOCK_USER = {"saved_search_lock_user", NOTIFY_USER_LOCK_SQL("saved_searches"), 1};
static const struct pg_stmt COUNT_USER = {"saved_search_count_user", NOTIFY_USER_COUNT_SQL("saved_searches"), 1};

static const struct pg_stmt INSERT = {
    "saved_search_insert",
    "INSERT INTO saved_searches AS s (id, user_id, name, query, alert, anchors, min_price, max_price, currency) "
    "VALUES ($1::uuid, $2::uuid, $3, $4, $5::boolean, $6::text[], $7::bigint, $8::bigint, $9) RETURNING " SHAPE("s"),
    9,
};

static const struct pg_stmt DELETE = {
    "saved_search_delete",
    "UPDATE saved_searches SET deleted_at = clock_timestamp() "
    "WHERE id = $1::uuid AND user_id = $2::uuid AND deleted_at IS NULL RETURNING id",
    2,
};

static const struct pg_stmt LIST = {
    "saved_search_list", NOTIFY_USER_LIST_SQL("saved_searches", SHAPE("t") "::json"), 1};

static const struct pg_stmt CANDIDATES = {
    "saved_search_candidates",
    "SELECT id::text, user_id::text, query FROM saved_searches "
    "WHERE alert AND anchors && $1::text[] AND user_id <> $2::uuid "
    "  AND created_at <= to_timestamp($3::bigint / 1000.0) "
    "  AND (deleted_at IS NULL OR deleted_at > to_timestamp($3::bigint / 1000.0)) "
    "  AND (min_price IS NULL OR min_price <= $4::bigint) AND (max_price IS NULL OR max_price >= $4::bigint) "
    "  AND (currency IS NULL OR currency = $5)",
    5,
};

static const struct pg_stmt ANY_ALERT = {
    "saved_search_any_alert", "SELECT EXISTS (SELECT 1 FROM saved_searches WHERE alert)", 0};

int
saved_search_insert(struct pg *pg, arena_t *a, const char *user_id, const char *name, const char *query,
                    bool alert, const struct saved_search_index *index, json_object **out, long long *seq)
{
    int rc = notify_user_cap(pg, a, &LOCK_USER, &COUNT_USER, user_id, SAVED_SEARCH_MAX_PER_USER);
    if (rc != MK_OK) {
        return rc;
    }
    char id[UUID_STR_LEN + 1];
    uuid_new(id);
    const char *values[] = {id,      user_id,           name,          query, alert ? "true" : "false", index->anchors,
                            index->min_price, index->max_price, index->currency};
    if ((rc = notify_json_row(pg, a, &INSERT, values, out)) != MK_OK) {
        return rc;
    }
    json_object *payload = notify_json(a, "{}");
    json_object_object_add(payload, "user_id", json_object_new_string(user_id));
    json_object_object_add(payload, "saved_search", json_object_get(*out));
    return notify_emit(pg, a, "saved_search", id, 1, "saved_search.created", payload, seq);
}

int
saved_search_delete(struct pg *pg, arena_t *a, const char *user_id, const char *id, long long *seq)
{
    const char *values[] = {id, user_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &DELETE, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    json_object *payload = notify_json(a, "{}");
    json_object_object_add(payload, "user_id", json_object_new_string(user_id));
    json_object_object_add(payload, "id", json_object_new_string(id));
    return notify_emit(pg, a, "saved_search", id, 2, "saved_search.deleted", payload, seq);
}

int
saved_search_list(struct pg *pg, arena_t *a, const char *user_id, json_object **items)
{
    const char *values[] = {user_id};
    return notify_json_row(pg, a, &LIST, values, items);
}

int
saved_search_any_alert(struct pg *pg, arena_t *a, bool *any)
{
    PGresult *res;
    int rc = pg_exec(pg, a, &ANY_ALERT, NULL, &res);
    *any = true;
    if (rc == MK_OK) {
        const char *v = pg_value(res, 0, 0);
        *any = v == NULL || strcmp(v, "f") != 0;
    }
    return rc;
}

int
saved_search_find_matches(struct pg *pg, arena_t *a, const struct category_set *cats, const char *secret,
                          json_object *listing, const char *seller, long long at_ms, struct saved_search_match **out,
                          size_t *n, size_t *candidates)
{
    const char **keys;
    size_t nkeys = saved_search_listing_keys(a, listing, &keys);
    json_object *price = json_object_object_get(listing, "price_minor");
    const char *values[] = {saved_search_text_array(a, keys, nkeys), seller, arena_sprintf(a, "%lld", at_ms),
                            arena_sprintf(a, "%lld", (long long)json_object_get_int64(price)),
                            member_str(listing, "currency") != NULL ? member_str(listing, "currency") : ""};
    PGresult *res;
    *n = 0;
    int rc = pg_exec(pg, a, &CANDIDATES, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    int rows = pg_nrows(res);
    if (candidates != NULL) {
        *candidates = (size_t)rows;
    }
    *out = arena_alloc(a, ((size_t)rows + 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        struct search_query q;
        const char *problem;
        if (saved_search_parse(a, cats, secret, pg_value(res, i, 2), &q, &problem) != MK_OK) {
            log_warn("saved search %s no longer parses (%s)", pg_value(res, i, 0), problem);
            continue;
        }
        if (saved_search_matches(a, &q, listing)) {
            (*out)[(*n)++] = (struct saved_search_match){arena_strdup(a, pg_value(res, i, 0)),
                                                         arena_strdup(a, pg_value(res, i, 1))};
        }
    }
    return MK_OK;
}

int
saved_search_parse_body(struct request *r, json_object *body, const struct category_set *cats, const char *secret,
                        struct saved_search_body *out)
{
    static const char *const allowed[] = {"name", "query", "alert", NULL};
    memset(out, 0, sizeof(*out));
    if (http_json_only(r, body, allowed) != MK_OK) {
        return MK_EVALIDATION;
    }
    json_object *name, *query, *alert;
    const char *problem;
    if (!json_object_object_get_ex(body, "name", &name) || !json_object_is_type(name, json_type_string)) {
        http_field_error(r, "name", "must be a string of 1 to 100 characters");
    } else {
        out->name = http_json_text(r, "name", json_object_get_string(name), 1, 100, false);
    }
    out->alert = true;
    if (json_object_object_get_ex(body, "alert", &alert)) {
        if (!json_object_is_type(alert, json_type_boolean)) {
            http_field_error(r, "alert", "must be true or false");
        }
        out->alert = json_object_get_boolean(alert);
    }
    if (!json_object_object_get_ex(body, "query", &query) || !json_object_is_type(query, json_type_string) ||
        text_chars(json_object_get_string(query)) > 2000) {
        return http_field_error(r, "query", "must be a GET /listings query string of at most 2000 characters");
    }
    out->query = json_object_get_string(query);
    struct search_query q;
    if (saved_search_parse(r->arena, cats, secret, out->query, &q, &problem) != MK_OK) {
        return http_field_error(r, "query", problem);
    }
    saved_search_index_of(r->arena, &q, &out->index);
    return r->err_fields != NULL ? MK_EVALIDATION : MK_OK;
}
