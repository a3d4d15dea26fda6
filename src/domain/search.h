/*
 * search.h — browse and search of listings: the query parameters of GET /api/v1/listings
 * (validated, typed by the category schemas), the words of free text, and keyset cursors.
 *
 * Words: text is folded to lower case (ASCII, and the accented Latin letters of Latin-1
 * to their base letter), split at anything that is neither a letter nor a digit, words of
 * one character are dropped, and a trailing plural "s" is removed from words longer than
 * three characters (not from "ss"). The projector stores a listing's words this way
 * (`keywords`, `title_words`) and a query's words are folded the same way, so "Phones"
 * finds "phone".
 *
 * Cursors are core/cursor.h's JSON form: the last item's sort key and id under an
 * HMAC-SHA256 keyed by the configured cursor_secret, bound to the sort and the query's
 * other parameters. An edited cursor, or one used with other filters or another sort, is
 * a 400.
 */
#ifndef MK_SEARCH_H
#define MK_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/http.h"
#include "domain/category.h"

#define SEARCH_MAX_WORDS 8
#define SEARCH_MAX_ATTRS 10
#define SEARCH_DEFAULT_LIMIT 20
#define SEARCH_MAX_LIMIT 100
#define SEARCH_DEFAULT_RADIUS_KM 25.0

enum search_sort { SORT_RELEVANCE, SORT_NEWEST, SORT_PRICE_ASC, SORT_PRICE_DESC, SORT_DISTANCE };

struct search_attr {
    const char *name;
    struct category_value value;
};

struct search_query {
    const char *words[SEARCH_MAX_WORDS];   /* q, folded (see above) */
    size_t nwords;
    const char *category;                  /* slug; matches the subtree */
    const char *conditions[5];
    size_t nconditions;
    bool has_min, has_max;
    long long min_price, max_price;
    const char *currency;
    bool near;
    double lat, lon, radius_km;
    const char *seller;
    struct search_attr attrs[SEARCH_MAX_ATTRS];
    size_t nattrs;
    enum search_sort sort;
    int limit;
    json_object *after;                    /* the decoded cursor's key, or NULL for page 1 */
    const char *canonical;                 /* every parameter but cursor and limit, sorted */
    const char *cursor_scope;              /* the scope of its cursors: sort and canonical */
};

/*
 * Parse r's query string. Unknown, repeated or bad parameters give MK_EBADPARAM with a
 * message naming the parameter (recorded on r). secret keys the cursors.
 */
int search_parse(struct request *r, const struct category_set *cats, const char *secret, struct search_query *out);

/* Fold text into at most max distinct words (arena); returns how many. */
size_t search_words(arena_t *a, const char *text, const char **words, size_t max);

/* The sort's name ("newest" ...). */
const char *search_sort_name(enum search_sort sort);

#endif
