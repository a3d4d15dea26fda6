/*
 * views.h — counting the views of GET /listings/{id} without a write per read on any
 * database: unique viewers per listing and UTC day in a Redis HyperLogLog, folded into the
 * read model's `views` by the active projector (projector/views.c).
 *
 * Redis keys:
 *   views:<listing id>:<yyyymmdd>  HyperLogLog of the day's viewers (PFADD); the fold job
 *                                  gives it an expiry of VIEWS_HLL_TTL_TEXT
 *   views:dirty                    set of "<listing id>:<yyyymmdd>" viewed since the last
 *                                  fold (SADD; the fold job SPOPs it)
 * A viewer is the session's user id, else a hash of the client address and user agent;
 * the seller is never counted. Both commands are sent without waiting for their replies
 * (redis_send) after the cached read's round trip, which also fetched the session.
 */
#ifndef MK_QUERY_VIEWS_H
#define MK_QUERY_VIEWS_H

#include <stdbool.h>

#include "core/http.h"
#include "query/cache.h"

#define VIEWS_DIRTY_KEY "views:dirty"
#define VIEWS_FRESH_S 60         /* API.md: views at most this far behind */
#define VIEWS_HLL_TTL_TEXT "259200"   /* three days, in seconds: a late fold still finds yesterday */

struct viewer {
    char id[40];      /* user id, or 32 hex characters of the address + agent hash */
    bool known;       /* a user id (a session), not a hash */
};

/* cache_get of key and, in the same round trip, the request's session (when it carries a
 * token) and the API's limit (when the request is counted: worker_limit_cmd): 1 on a cache hit
 * as cache_get, 0 on a miss, the refusal (429 recorded on r) when the limit says no; the struct
 * viewer *viewer receives the viewer either way. A cache_lookup_fn, for cache_read_doc_via. */
int views_cached_read(struct request *r, const char *key, struct cached *out, void *viewer);

/* Count a view of listing_id by v unless v is the seller (seller_id; NULL: unknown, then
 * not counted). Only GET answers count. Best effort: Redis down loses the view. */
void views_count(struct request *r, const char *listing_id, const char *seller_id, const struct viewer *v);

/* The seller id of a cached listing answer ({"listing":{"id":…,"seller_id":"…"…}), in the
 * arena, or NULL. */
const char *views_body_seller(struct request *r, const char *body, size_t len);

#endif
