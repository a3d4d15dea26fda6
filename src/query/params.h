/* params.h — the query string rules shared by the list endpoints of the query role. */
#ifndef MK_QUERY_PARAMS_H
#define MK_QUERY_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/http.h"
#include "store/pg.h"

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
/* role: buyer (1) or seller (2); 0 when absent (both). MK_OK or MK_EBADPARAM. The order and
 * offer role enums share these numbers. */
int query_role(struct request *r, int *role);

/* A keyset cursor of a private list ([created_us, id], query_cursor): *after_us and *after_id
 * (arena-owned) receive its position, *after_id NULL and *after_us 0 when absent. MK_OK or
 * MK_EBADPARAM. */
int query_keyset_cursor(struct request *r, const char *scope, long long *after_us, const char **after_id);

/* How a page reads its items: the JSON, the sort key (microseconds) and the id of item i. */
typedef void (*query_item_fn)(const void *items, size_t i, json_object **json, long long *key_us, const char **id);

/*
 * Answer one page of a private keyset list: 200 {"items": the first limit of the n items
 * fetched (fetch limit + 1), "next_cursor": a cursor of scope after item limit - 1 when there
 * were more, else null}, Cache-Control private, no-store.
 */
int query_respond_page(struct request *r, const char *scope, const void *items, size_t n, int limit,
                       query_item_fn item);

/* How a private read finds one resource: MK_OK with *json (owned by the arena) when user_id may
 * see id (its buyer or seller), MK_ENOTFOUND otherwise. */
typedef int (*query_get_fn)(struct pg *pg, arena_t *a, const char *id, const char *user_id, json_object **json);

/*
 * GET of one private resource named name ("order", "offer") by the path's {id}, from pg_read:
 * 200 {"<name>": ...}, Cache-Control private, no-store; 404 "no such <name>" for a bad id, an
 * unknown one, or one the caller is no party to (its existence is not revealed).
 */
int query_private_read(struct request *r, const char *name, query_get_fn get);

#endif
