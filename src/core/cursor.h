/*
 * cursor.h — opaque, tamper-evident keyset cursors: the one cursor of every list (orders,
 * reviews, favourites, browse). A list makes the cursor after its last item with cursor_make
 * from that item's sort key (a JSON array ending with the item's id) and a scope string
 * naming the list and every parameter that must not change between pages; cursor_read gives
 * the key back, or refuses the text. (The query handlers reach them through query_cursor and
 * query_next_cursor, query/params.h.)
 *
 * Two wire forms, chosen by the key. A key (integer, UUID), the (time, id) order of most
 * lists, travels in the compact form:
 * A cursor is base64url (no padding) of: a version byte, the last item's sort key (a
 * signed 64-bit integer, big-endian: microseconds since the epoch), the item's UUID (16
 * bytes), and an HMAC-SHA256 (libsodium, truncated to 16 bytes) keyed by the configured
 * cursor_secret over all that plus a scope string naming the list (e.g.
 * "orders:buyer:<user id>"). An edited cursor, one made for another list or another user,
 * or any other text is refused.
 */
#ifndef MK_CURSOR_H
#define MK_CURSOR_H

#include <json-c/json.h>

#include "core/arena.h"
#include "core/ids.h"

/* The cursor after the item whose sort key is key (not taken); in the arena. */
char *cursor_make(arena_t *a, const char *secret, const char *scope, json_object *key);

/* Decode text as a cursor of scope, in either form: MK_OK with *key (an array of at least two
 * members, owned by the arena), or MK_EBADPARAM for anything else. */
int cursor_read(arena_t *a, const char *secret, const char *scope, const char *text, json_object **key);

/* The two forms underneath (cursor_make picks one; tests and fuzzing drive them directly). */

/* The compact cursor after the item (key, id) of the list scope; in the arena. id is a UUID. */
char *cursor_encode(arena_t *a, const char *secret, const char *scope, long long key, const char *id);

/*
 * Decode text as a cursor of scope. MK_OK with *key and id (lower-case UUID), or
 * MK_EBADPARAM for anything else (nothing recorded on a request: the caller names the
 * parameter).
 */
int cursor_decode(const char *secret, const char *scope, const char *text, long long *key,
                  char id[UUID_STR_LEN + 1]);

/*
 * The JSON form, for keys of other shapes (browse's sorts, favourites): the key is a JSON
 * array (the last item's sort key, ending with its id) carried as text after the version
 * byte, with the same MAC over it and the scope (which names the list and every parameter
 * that must not change between pages). cursor_decode_json gives *key (owned by the arena)
 * or MK_EBADPARAM.
 */
char *cursor_encode_json(arena_t *a, const char *secret, const char *scope, json_object *key);
int cursor_decode_json(arena_t *a, const char *secret, const char *scope, const char *text, json_object **key);

#endif
