/* params.h — the query string rules shared by the list endpoints of the query role. */
#ifndef MK_QUERY_PARAMS_H
#define MK_QUERY_PARAMS_H

#include "core/http.h"

#define QUERY_DEFAULT_LIMIT 20
#define QUERY_MAX_LIMIT 100

/* Every parameter of r must be named in allowed (NULL-terminated) and appear at most once.
 * MK_OK, or MK_EBADPARAM with a message naming the parameter ("colour: unknown parameter").
 * (Names and values are valid UTF-8 already: http_request_init refuses others, naming them.) */
int query_params_check(struct request *r, const char *const *allowed);

/* limit: an integer from 1 to 100 in decimal digits (qstr_int), QUERY_DEFAULT_LIMIT when absent. MK_OK or MK_EBADPARAM. */
int query_limit(struct request *r, int *limit);

/* The list's ?cursor= for scope (core/cursor.h): *after is its key (arena-owned), NULL when
 * absent. MK_EBADPARAM ("cursor: is not a cursor of this list") for any other text. */
int query_cursor(struct request *r, const char *scope, json_object **after);

/* The next_cursor member of a page: the cursor after the item whose key is key (a JSON
 * string, a new reference), or NULL (JSON null: the last page) when key is NULL. */
json_object *query_next_cursor(struct request *r, const char *scope, json_object *key);

#endif
