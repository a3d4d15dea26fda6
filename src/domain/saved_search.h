/*
 * saved_search.h — saved searches and their alerts.
 *
 * A saved search's query is a GET /listings query string, checked by the very parser of
 * that endpoint (search_parse) through a request made from the text. Alerts: a listing
 * that becomes active is matched against the alerting searches without scanning them all.
 * Each search is stored with its anchors — keys it requires, of which every listing it can
 * match carries at least one (its seller, else one of its words, else its category, else
 * the coarse geo cells its circle touches, else its currency, else its conditions, else
 * "any"); a listing's keys (seller, every word, every category of its path, its cell,
 * currency, condition, "any") are looked up in a GIN index of the anchors, and only those
 * candidates pass the exact matcher, saved_search_matches.
 */
#ifndef MK_SAVED_SEARCH_H
#define MK_SAVED_SEARCH_H

#include <stdbool.h>

#include "domain/search.h"
#include "store/pg.h"

#define SAVED_SEARCH_MAX_PER_USER 50
#define SAVED_SEARCH_MAX_ANCHORS 40
#define SAVED_SEARCH_GEO_CELL_DEG 1.0   /* the cells' side, in degrees of latitude and longitude */

/*
 * Parse a stored query text as GET /listings would (cursor is refused: it names a page,
 * not a search). MK_OK, or MK_EBADPARAM with *problem (arena) naming the parameter, e.g.
 * "category: is not a known category".
 */
int saved_search_parse(arena_t *a, const struct category_set *cats, const char *secret, const char *query,
                       struct search_query *out, const char **problem);

/* The anchors of a parsed search (arena strings) into out (SAVED_SEARCH_MAX_ANCHORS); the count (≥ 1). */
size_t saved_search_anchors(arena_t *a, const struct search_query *q, const char **out);

/* What the candidates' query filters on, as SQL text parameters (arena; NULL: none). */
struct saved_search_index {
    const char *anchors;             /* a text[] literal */
    const char *min_price, *max_price, *currency;
};

/* The index columns of a parsed search. */
void saved_search_index_of(arena_t *a, const struct search_query *q, struct saved_search_index *out);

/* A POST /users/me/saved-searches body, checked. */
struct saved_search_body {
    const char *name;    /* trimmed, 1..100 characters */
    const char *query;   /* a GET /listings query string, ≤ 2000 characters */
    bool alert;          /* default true */
    struct saved_search_index index;
};

/* Check {"name","query","alert"}: the query by saved_search_parse (categories cats, cursor
 * secret). MK_OK with *out (r's arena), or MK_EVALIDATION (fields on r). */
int saved_search_parse_body(struct request *r, json_object *body, const struct category_set *cats,
                            const char *secret, struct saved_search_body *out);

/* The keys of a listing (its event payload) into *out (arena); the count. */
size_t saved_search_listing_keys(arena_t *a, json_object *listing, const char ***out);

/* True when the listing (event payload: the listing's whole state) meets every condition
 * of q, as GET /listings would find it (an active listing is assumed). */
bool saved_search_matches(arena_t *a, const struct search_query *q, json_object *listing);

/* A PostgreSQL text[] literal of the strings ({"a","b"}, quoted and escaped). */
char *saved_search_text_array(arena_t *a, const char *const *v, size_t n);

/* An alerting saved search that a listing matches. */
struct saved_search_match {
    const char *id, *user_id;
};

/* *any: whether any saved search has alerts on (deleted ones included); a projector batch
 * asks once before matching its listings one by one. */
int saved_search_any_alert(struct pg *pg, arena_t *a, bool *any);

/*
 * The alerting searches of users other than seller, existing at at_ms (unix ms: created
 * before, not deleted before), that the listing (an event payload) matches: the anchors'
 * index gives the candidates, saved_search_matches decides. *out (arena) and *n receive
 * them; *candidates (may be NULL) how many the index gave.
 */
int saved_search_find_matches(struct pg *pg, arena_t *a, const struct category_set *cats, const char *secret,
                              json_object *listing, const char *seller, long long at_ms,
                              struct saved_search_match **out, size_t *n, size_t *candidates);

/*
 * Store a new saved search inside the caller's transaction, at most
 * SAVED_SEARCH_MAX_PER_USER per user (MK_ECONFLICT beyond: a lock per user serialises
 * concurrent creates). *out (arena) is its API shape {id, name, query, alert, created_at}.
 */
int saved_search_insert(struct pg *pg, arena_t *a, const char *user_id, const char *name, const char *query,
                        bool alert, const struct saved_search_index *index, json_object **out, long long *seq);

/* Delete (softly) the user's saved search id: MK_ENOTFOUND when the user has no such one. */
int saved_search_delete(struct pg *pg, arena_t *a, const char *user_id, const char *id, long long *seq);

/* The user's saved searches, oldest first: a JSON array (arena). */
int saved_search_list(struct pg *pg, arena_t *a, const char *user_id, json_object **items);

#endif
