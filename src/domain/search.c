#include "domain/search.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
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

/* Whether the three-byte UTF-8 character at p separates words as a space or a comma does:
 * General Punctuation (U+2000..U+206F: the spaces, dashes, curly quotes, the ellipsis, the
 * line and paragraph separators), Supplemental Punctuation (U+2E00..U+2E7F), CJK Symbols and
 * Punctuation (U+3000..U+303F: the ideographic space, comma and full stop) and U+FEFF. Without
 * this, a title typed with a phone's curly quotes was indexed as the word “lamp” (quotes and
 * all), which a search for lamp never found, and a query of U+3000 alone was a word. */
static bool
separator3(const unsigned char *p)
{
    return (p[0] == 0xE2 && (p[1] == 0x80 || (p[1] == 0x81 && p[2] <= 0xAF) || p[1] == 0xB8 || p[1] == 0xB9)) ||
           (p[0] == 0xE3 && p[1] == 0x80) || (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF);
}

size_t
search_words(arena_t *a, const char *text, const char **words, size_t max)
{
    /* Words seen, by hash (index + 1; 0 empty): a listing has ~45 words, and comparing each
     * new one with all before it was most of the projector's string comparisons. A larger
     * max than the table serves compares them all. */
    enum { SLOTS = 512 };
    uint16_t seen_at[SLOTS];
    bool hashed = max <= SLOTS / 2;
    if (hashed) {
        memset(seen_at, 0, sizeof(seen_at));
    }
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
            } else if (*p >= 0xE0 && *p < 0xF0 && p[1] != '\0' && p[2] != '\0' && separator3(p)) {
                p += 3;
                break;
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
        if (hashed) {
            uint32_t h = 2166136261u;   /* FNV-1a */
            for (size_t i = 0; i < w; i++) {
                h = (h ^ (unsigned char)word[i]) * 16777619u;
            }
            size_t slot = h & (SLOTS - 1);
            while (seen_at[slot] != 0 && !seen) {
                seen = strcmp(words[seen_at[slot] - 1], word) == 0;
                slot = (slot + 1) & (SLOTS - 1);
            }
            if (!seen) {
                seen_at[slot] = (uint16_t)(n + 1);
            }
        } else {
            for (size_t i = 0; i < n && !seen; i++) {
                seen = strcmp(words[i], word) == 0;
            }
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

/* What a parameter's parser sees: the request, the category tree, the query being filled. */
struct parse_ctx {
    struct request *r;
    const struct category_set *cats;
    struct search_query *out;
};

/* A parameter's parser: NULL when v is good (out filled), or the problem for a 400. */
typedef const char *(*param_parser)(struct parse_ctx *c, const char *v);

static const char *
p_category(struct parse_ctx *c, const char *v)
{
    if (category_find(c->cats, v) == NULL) {
        return "is not a known category";
    }
    c->out->category = v;
    return NULL;
}

static const char *
p_q(struct parse_ctx *c, const char *v)
{
    if (text_chars(v) > 200) {
        return "must be at most 200 characters";
    }
    c->out->nwords = search_words(c->r->arena, v, c->out->words, SEARCH_MAX_WORDS);
    return c->out->nwords == 0 ? "must contain a word of two or more letters or digits" : NULL;
}

static const char *
p_condition(struct parse_ctx *c, const char *v)
{
    static const char *const conditions[] = {"new", "like_new", "good", "fair", "poor"};
    static const char problem[] = "must be a comma list of new, like_new, good, fair, poor";
    struct search_query *out = c->out;
    char *list = arena_strdup(c->r->arena, v), *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        bool ok = false;
        for (size_t i = 0; i < 5 && !ok; i++) {
            ok = strcmp(conditions[i], tok) == 0;
        }
        if (!ok || out->nconditions == 5) {
            return problem;
        }
        out->conditions[out->nconditions++] = tok;
    }
    return out->nconditions == 0 ? problem : NULL;
}

static const char *
p_min_price(struct parse_ctx *c, const char *v)
{
    c->out->has_min = true;
    return qstr_int(v, 0, 100000000, &c->out->min_price) ? NULL
                                                         : "must be an integer from 0 to 100000000 (minor units)";
}

static const char *
p_max_price(struct parse_ctx *c, const char *v)
{
    struct search_query *out = c->out;
    out->has_max = true;
    if (!qstr_int(v, 0, 100000000, &out->max_price)) {
        return "must be an integer from 0 to 100000000 (minor units)";
    }
    return out->has_min && out->min_price > out->max_price ? "must not be below min_price" : NULL;
}

static const char *
p_currency(struct parse_ctx *c, const char *v)
{
    if (strlen(v) != 3 || !isupper((unsigned char)v[0]) || !isupper((unsigned char)v[1]) ||
        !isupper((unsigned char)v[2])) {
        return "must be an ISO 4217 code in upper case, like EUR";
    }
    c->out->currency = v;
    return NULL;
}

static const char *
p_near(struct parse_ctx *c, const char *v)
{
    const char *comma = strchr(v, ',');
    char *lat = comma != NULL ? arena_strndup(c->r->arena, v, (size_t)(comma - v)) : NULL;
    if (lat == NULL || !qstr_decimal(lat, -90, 90, &c->out->lat) || !qstr_decimal(comma + 1, -180, 180, &c->out->lon)) {
        return "must be lat,lon in decimal, with lat in [-90, 90] and lon in [-180, 180]";
    }
    c->out->near = true;
    return NULL;
}

static const char *
p_radius_km(struct parse_ctx *c, const char *v)
{
    if (!c->out->near) {
        return "needs near";
    }
    return qstr_decimal(v, 0.001, 20000, &c->out->radius_km) ? NULL
                                                              : "must be a decimal number above 0 and at most 20000";
}

static const char *
p_seller(struct parse_ctx *c, const char *v)
{
    if (!uuid_valid(v)) {
        return "must be a user id (UUID)";
    }
    /* any case accepted, stored ids are lower case; folded in place, so the canonical
     * query (cursors, page caches) is the same in either case */
    for (char *p = (char *)v; *p != '\0'; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    c->out->seller = v;
    return NULL;
}

static const char *
p_sort(struct parse_ctx *c, const char *v)
{
    struct search_query *out = c->out;
    bool found = false;
    for (int s = SORT_RELEVANCE; s <= SORT_DISTANCE && !found; s++) {
        if (strcmp(v, search_sort_name((enum search_sort)s)) == 0) {
            out->sort = (enum search_sort)s;
            found = true;
        }
    }
    if (!found) {
        return "must be relevance, newest, price_asc, price_desc or distance";
    }
    if (out->sort == SORT_RELEVANCE && out->nwords == 0) {
        return "relevance needs q";
    }
    return out->sort == SORT_DISTANCE && !out->near ? "distance needs near" : NULL;
}

static const char *
p_limit(struct parse_ctx *c, const char *v)
{
    long long limit;
    if (!qstr_int(v, 1, SEARCH_MAX_LIMIT, &limit)) {
        return "must be an integer from 1 to 100";
    }
    c->out->limit = (int)limit;
    return NULL;
}

/* attr.NAME=value filters, typed by the category's schemas (after category). */
static int
parse_attrs(struct parse_ctx *c)
{
    struct request *r = c->r;
    for (size_t i = 0; i < r->nquery; i++) {
        const char *name = r->query[i].name;
        if (strncmp(name, "attr.", 5) != 0) {
            continue;
        }
        if (c->out->nattrs == SEARCH_MAX_ATTRS) {
            return bad(r, name, "at most 10 attribute filters");
        }
        int rc = parse_attr(r, c->cats, c->out->category, name, name + 5, r->query[i].value,
                            &c->out->attrs[c->out->nattrs]);
        if (rc != MK_OK) {
            return rc;
        }
        c->out->nattrs++;
    }
    return MK_OK;
}

/* The parameters in the order they are checked (the first problem is the one reported; a
 * parser may rely on those above it). The attr.* filters (NULL) come between seller and sort;
 * cursor is read last, against the canonical query. */
static const struct {
    const char *name;
    param_parser parse;
} search_params[] = {
    {"category", p_category}, {"q", p_q},           {"condition", p_condition}, {"min_price", p_min_price},
    {"max_price", p_max_price}, {"currency", p_currency}, {"near", p_near},       {"radius_km", p_radius_km},
    {"seller", p_seller},     {NULL, NULL},         {"sort", p_sort},           {"limit", p_limit},
    {"cursor", NULL},
};
#define NSEARCH_PARAMS (sizeof(search_params) / sizeof(search_params[0]))

/* Every parameter is known (a name of the table, or attr.NAME) and given once. */
static int
check_names(struct request *r)
{
    for (size_t i = 0; i < r->nquery; i++) {
        const char *name = r->query[i].name;
        bool ok = strncmp(name, "attr.", 5) == 0 && name[5] != '\0';
        for (size_t k = 0; k < NSEARCH_PARAMS && !ok; k++) {
            ok = search_params[k].name != NULL && strcmp(search_params[k].name, name) == 0;
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
    return MK_OK;
}

int
search_parse(struct request *r, const struct category_set *cats, const char *secret, struct search_query *out)
{
    memset(out, 0, sizeof(*out));
    out->limit = SEARCH_DEFAULT_LIMIT;
    out->radius_km = SEARCH_DEFAULT_RADIUS_KM;
    int rc = check_names(r);
    if (rc != MK_OK) {
        return rc;
    }
    struct parse_ctx c = {r, cats, out};
    for (size_t k = 0; k < NSEARCH_PARAMS; k++) {
        const char *name = search_params[k].name, *v;
        if (name == NULL) {
            if ((rc = parse_attrs(&c)) != MK_OK) {
                return rc;
            }
            /* The default order, which sort may change. */
            out->sort = out->nwords > 0 ? SORT_RELEVANCE : SORT_NEWEST;
            continue;
        }
        if (search_params[k].parse == NULL || (v = http_query(r, name)) == NULL) {
            continue;
        }
        const char *problem = search_params[k].parse(&c, v);
        if (problem != NULL) {
            return bad(r, name, problem);
        }
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
    out->cursor_scope = arena_sprintf(r->arena, "search:%d:%s", out->sort, canon);
    const char *cursor = http_query(r, "cursor");
    if (cursor != NULL &&
        cursor_read(r->arena, secret, out->cursor_scope, cursor, &out->after) != MK_OK) {
        return bad(r, "cursor", "is not a cursor of this query (edited, or made for other parameters)");
    }
    return MK_OK;
}
