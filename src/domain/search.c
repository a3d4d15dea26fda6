#include "domain/search.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/errors.h"
#include "core/ids.h"
#include "core/qstr.h"
#include "core/text.h"


/* ---- words ----------------------------------------------------------------------- */

/* The base letter of a two-byte UTF-8 Latin-1 letter (C3 xx), or 0. */
static char
fold_latin1(unsigned char second)
{
    static const char map[64] = "aaaaaaaceeeeiiii"   /* C3 80..8F: À..Ï */
                                "dnooooo ouuuuyts"   /* C3 90..9F: Ð..ß */
                                "aaaaaaaceeeeiiii"   /* C3 A0..AF: à..ï */
                                "dnooooo ouuuuyty";  /* C3 B0..BF: ð..ÿ */
    if (second < 0x80 || second > 0xBF) {
        return 0;
    }
    char c = map[second - 0x80];
    return c == ' ' ? 0 : c;
}

size_t
search_words(arena_t *a, const char *text, const char **words, size_t max)
{
    size_t n = 0, len = strlen(text);
    char *buf = arena_alloc(a, len + 1);
    const unsigned char *p = (const unsigned char *)text;
    while (*p != '\0' && n < max) {
        size_t w = 0;
        while (*p != '\0') {
            if (isalnum(*p)) {
                buf[w++] = (char)tolower(*p++);
            } else if (*p == 0xC3 && p[1] != '\0' && fold_latin1(p[1]) != 0) {
                buf[w++] = fold_latin1(p[1]);
                p += 2;
            } else if (*p >= 0xC4) {
                /* another script's letter: keep its bytes as they are */
                do {
                    buf[w++] = (char)*p++;
                } while ((*p & 0xC0) == 0x80);
            } else if (*p >= 0x80) {
                p++;
                while ((*p & 0xC0) == 0x80) {
                    p++;
                }
                break;
            } else {
                p++;
                break;
            }
        }
        if (w > 3 && buf[w - 1] == 's' && buf[w - 2] != 's') {
            w--;
        }
        if (w < 2) {
            continue;
        }
        char *word = arena_strndup(a, buf, w);
        bool seen = false;
        for (size_t i = 0; i < n && !seen; i++) {
            seen = strcmp(words[i], word) == 0;
        }
        if (!seen) {
            words[n++] = word;
        }
    }
    return n;
}

double
search_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    double rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * 6378.1 * atan2(sqrt(a), sqrt(1 - a));
}

/* ---- parameters -------------------------------------------------------------------- */

const char *
search_sort_name(enum search_sort sort)
{
    static const char *const names[] = {"relevance", "newest", "price_asc", "price_desc", "distance"};
    return names[sort];
}

static int
bad(struct request *r, const char *name, const char *problem)
{
    return http_fail(r, MK_EBADPARAM, arena_sprintf(r->arena, "%s: %s", name, problem));
}

/* Type attr.NAME=text by the schemas that declare NAME within the query's scope: the
 * category, its ancestors and its sub-categories (every category when none is given). */
static int
parse_attr(struct request *r, const struct category_set *cats, const char *category, const char *param,
           const char *name, const char *text, struct search_attr *out)
{
    const struct category *scope = category != NULL ? category_find(cats, category) : NULL;
    size_t from = scope != NULL ? scope->index : 0;
    size_t to = scope != NULL ? scope->subtree_end : category_count(cats);
    bool declared = false;
    const struct category_attr *attr = scope != NULL ? category_attr_find(scope, name) : NULL;
    if (attr != NULL) {
        declared = true;
        if (category_attr_parse_value(attr, text, &out->value) == MK_OK) {
            out->name = name;
            return MK_OK;
        }
    }
    for (size_t i = from; i < to; i++) {
        const struct category *c = category_at(cats, i);
        for (size_t k = 0; k < c->nattrs; k++) {
            if (strcmp(c->attrs[k].name, name) != 0) {
                continue;
            }
            declared = true;
            if (category_attr_parse_value(&c->attrs[k], text, &out->value) == MK_OK) {
                out->name = c->attrs[k].name;
                return MK_OK;
            }
        }
    }
    return bad(r, param, declared ? "is not a valid value for this attribute"
                                  : "is not an attribute of the category (or of any category)");
}

/* A decoded name or value for the canonical query: '%', '&' and '=' percent-encoded, so
 * the text splits back into exactly the parameters it was made of. Without this,
 * q=ab%26seller%3D<id> (a search for words) and q=ab&seller=<id> (a seller's listings)
 * had one canonical form, hence one page-cache key and interchangeable cursors. */
static const char *
canon_escape(arena_t *a, const char *s)
{
    size_t extra = 0;
    for (const char *c = s; *c != '\0'; c++) {
        extra += *c == '%' || *c == '&' || *c == '=';
    }
    if (extra == 0) {
        return s;
    }
    char *out = arena_alloc(a, strlen(s) + 2 * extra + 1), *o = out;
    for (const char *c = s; *c != '\0'; c++) {
        if (*c == '%' || *c == '&' || *c == '=') {
            o += sprintf(o, "%%%02X", (unsigned char)*c);
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}

static int
compare_params(const void *a, const void *b)
{
    const struct http_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->value, y->value);
}

int
search_parse(struct request *r, const struct category_set *cats, const char *secret, struct search_query *out)
{
    memset(out, 0, sizeof(*out));
    out->limit = SEARCH_DEFAULT_LIMIT;
    out->radius_km = SEARCH_DEFAULT_RADIUS_KM;
    const char *q = NULL, *sort = NULL, *cursor = NULL, *radius = NULL;
    static const char *const known[] = {"q",        "category", "condition", "min_price", "max_price", "currency",
                                        "near",     "radius_km", "seller",   "sort",      "limit",     "cursor",
                                        NULL};
    /* Names first: unknown and repeated parameters. */
    for (size_t i = 0; i < r->nquery; i++) {
        const char *name = r->query[i].name;
        bool ok = strncmp(name, "attr.", 5) == 0 && name[5] != '\0';
        for (const char *const *k = known; *k != NULL && !ok; k++) {
            ok = strcmp(*k, name) == 0;
        }
        if (!ok) {
            return bad(r, name, "unknown parameter");
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(r->query[j].name, name) == 0) {
                return bad(r, name, "given more than once");
            }
        }
    }
    const char *v;
    if ((v = http_query(r, "category")) != NULL) {
        if (category_find(cats, v) == NULL) {
            return bad(r, "category", "is not a known category");
        }
        out->category = v;
    }
    if ((q = http_query(r, "q")) != NULL) {
        if (text_chars(q) > 200) {
            return bad(r, "q", "must be at most 200 characters");
        }
        out->nwords = search_words(r->arena, q, out->words, SEARCH_MAX_WORDS);
        if (out->nwords == 0) {
            return bad(r, "q", "must contain a word of two or more letters or digits");
        }
    }
    if ((v = http_query(r, "condition")) != NULL) {
        static const char *const conditions[] = {"new", "like_new", "good", "fair", "poor"};
        char *list = arena_strdup(r->arena, v), *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
            bool ok = false;
            for (size_t i = 0; i < 5 && !ok; i++) {
                ok = strcmp(conditions[i], tok) == 0;
            }
            if (!ok || out->nconditions == 5) {
                return bad(r, "condition", "must be a comma list of new, like_new, good, fair, poor");
            }
            out->conditions[out->nconditions++] = tok;
        }
        if (out->nconditions == 0) {
            return bad(r, "condition", "must be a comma list of new, like_new, good, fair, poor");
        }
    }
    if ((v = http_query(r, "min_price")) != NULL) {
        if (!qstr_int(v, 0, 100000000, &out->min_price)) {
            return bad(r, "min_price", "must be an integer from 0 to 100000000 (minor units)");
        }
        out->has_min = true;
    }
    if ((v = http_query(r, "max_price")) != NULL) {
        if (!qstr_int(v, 0, 100000000, &out->max_price)) {
            return bad(r, "max_price", "must be an integer from 0 to 100000000 (minor units)");
        }
        out->has_max = true;
    }
    if (out->has_min && out->has_max && out->min_price > out->max_price) {
        return bad(r, "max_price", "must not be below min_price");
    }
    if ((v = http_query(r, "currency")) != NULL) {
        if (strlen(v) != 3 || !isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1]) ||
            !isupper((unsigned char)v[2])) {
            return bad(r, "currency", "must be an ISO 4217 code in upper case, like EUR");
        }
        out->currency = v;
    }
    if ((v = http_query(r, "near")) != NULL) {
        const char *comma = strchr(v, ',');
        char *lat = comma != NULL ? arena_strndup(r->arena, v, (size_t)(comma - v)) : NULL;
        if (lat == NULL || !qstr_decimal(lat, -90, 90, &out->lat) || !qstr_decimal(comma + 1, -180, 180, &out->lon)) {
            return bad(r, "near", "must be lat,lon in decimal, with lat in [-90, 90] and lon in [-180, 180]");
        }
        out->near = true;
    }
    if ((radius = http_query(r, "radius_km")) != NULL) {
        if (!out->near) {
            return bad(r, "radius_km", "needs near");
        }
        if (!qstr_decimal(radius, 0.001, 20000, &out->radius_km)) {
            return bad(r, "radius_km", "must be a decimal number above 0 and at most 20000");
        }
    }
    if ((v = http_query(r, "seller")) != NULL) {
        if (!uuid_valid(v)) {
            return bad(r, "seller", "must be a user id (UUID)");
        }
        /* any case accepted, stored ids are lower case; folded in place, so the canonical
         * query (cursors, page caches) is the same in either case */
        for (char *c = (char *)v; *c != '\0'; c++) {
            *c = (char)tolower((unsigned char)*c);
        }
        out->seller = v;
    }
    for (size_t i = 0; i < r->nquery; i++) {
        const char *name = r->query[i].name;
        if (strncmp(name, "attr.", 5) != 0) {
            continue;
        }
        if (out->nattrs == SEARCH_MAX_ATTRS) {
            return bad(r, name, "at most 10 attribute filters");
        }
        int rc = parse_attr(r, cats, out->category, name, name + 5, r->query[i].value, &out->attrs[out->nattrs]);
        if (rc != MK_OK) {
            return rc;
        }
        out->nattrs++;
    }
    out->sort = out->nwords > 0 ? SORT_RELEVANCE : SORT_NEWEST;
    if ((sort = http_query(r, "sort")) != NULL) {
        bool found = false;
        for (int s = SORT_RELEVANCE; s <= SORT_DISTANCE && !found; s++) {
            if (strcmp(sort, search_sort_name((enum search_sort)s)) == 0) {
                out->sort = (enum search_sort)s;
                found = true;
            }
        }
        if (!found) {
            return bad(r, "sort", "must be relevance, newest, price_asc, price_desc or distance");
        }
        if (out->sort == SORT_RELEVANCE && out->nwords == 0) {
            return bad(r, "sort", "relevance needs q");
        }
        if (out->sort == SORT_DISTANCE && !out->near) {
            return bad(r, "sort", "distance needs near");
        }
    }
    if ((v = http_query(r, "limit")) != NULL) {
        long long limit;
        if (!qstr_int(v, 1, SEARCH_MAX_LIMIT, &limit)) {
            return bad(r, "limit", "must be an integer from 1 to 100");
        }
        out->limit = (int)limit;
    }

    /* The canonical query: every parameter but cursor and limit, sorted, plus the
     * effective sort. It binds cursors and keys the page caches. */
    struct http_param *sorted = arena_alloc(r->arena, (r->nquery + 1) * sizeof(*sorted));
    size_t n = 0;
    for (size_t i = 0; i < r->nquery; i++) {
        if (strcmp(r->query[i].name, "cursor") != 0 && strcmp(r->query[i].name, "limit") != 0 &&
            strcmp(r->query[i].name, "sort") != 0) {
            sorted[n++] = r->query[i];
        }
    }
    qsort(sorted, n, sizeof(*sorted), compare_params);
    char *canon = arena_sprintf(r->arena, "sort=%s", search_sort_name(out->sort));
    for (size_t i = 0; i < n; i++) {
        canon = arena_sprintf(r->arena, "%s&%s=%s", canon, canon_escape(r->arena, sorted[i].name),
                              canon_escape(r->arena, sorted[i].value));
    }
    out->canonical = canon;

    if ((cursor = http_query(r, "cursor")) != NULL) {
        if (search_cursor_read(r, secret, out->sort, canon, cursor, &out->after) != MK_OK) {
            return MK_EBADPARAM;
        }
    }
    return MK_OK;
}

/* The scope a cursor is bound to: its order and the list's other parameters. */
static char *
cursor_scope(arena_t *a, int kind, const char *binding)
{
    return arena_sprintf(a, "search:%d:%s", kind, binding);
}

int
search_cursor_read(struct request *r, const char *secret, int kind, const char *binding, const char *cursor,
                   json_object **key)
{
    if (cursor_decode_json(r->arena, secret, cursor_scope(r->arena, kind, binding), cursor, key) != MK_OK) {
        return bad(r, "cursor", "is not a cursor of this query (edited, or made for other parameters)");
    }
    return MK_OK;
}

char *
search_cursor(arena_t *a, const char *secret, const struct search_query *q, json_object *key)
{
    return search_cursor_make(a, secret, q->sort, q->canonical, key);
}

char *
search_cursor_make(arena_t *a, const char *secret, int kind, const char *binding, json_object *key)
{
    return cursor_encode_json(a, secret, cursor_scope(a, kind, binding), key);
}
