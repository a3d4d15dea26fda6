/*
 * cache.h — Redis cache-aside of read answers (the query role). Redis may lose every key
 * and may be down: a miss, an error or a timeout all fall through to MongoDB.
 *
 * Keys (TTL from the configuration):
 *   cache:listing:<id>        GET /listings/{id} answer   cache_listing_ttl_s
 *   cache:user:<id>           GET /users/{id} answer      cache_listing_ttl_s
 *   cache:search:<gen>:<hash> a GET /listings page        cache_search_ttl_s
 *   seen:cache:search:<hash>  that page was asked for (admission: cache_search_min_uses)
 *   catalog:gen               the catalog generation, INCRed by the projector after
 *                             every applied listing or seller change
 * A document entry is "<seq> <etag>\n<body>", seq being the read-model document's. The
 * projector, after changing a document, overwrites its entry with a "stale" marker that
 * lives 5 s; a reader stores an answer only over no entry or an entry with an older or
 * equal seq, never over a marker (one Lua script). So a reader that read the document
 * before the change cannot cache it after the change (unless it stalled for 5 s between
 * its read and its write), and the next reads refill the entry from MongoDB.
 * Search pages need no marker: the reader takes the generation before it queries, so a
 * page computed from older data is filed under an older generation.
 */
#ifndef MK_CACHE_H
#define MK_CACHE_H

#include <stdbool.h>

#include <bson/bson.h>

#include "core/http.h"

struct cached {
    long long seq;        /* document entries; 0 for pages */
    const char *etag;
    const char *body;
    size_t len;
};

/* Look key up. True on a hit with a body (a bare marker is a miss); counts hits and misses. */
bool cache_get(struct request *r, const char *key, struct cached *out);

/* cache_get on a reply fetched by the caller (NULL: Redis could not answer). */
struct redisReply;
bool cache_parse(struct request *r, const struct redisReply *reply, struct cached *out);

/* Store an answer under key for ttl_s seconds unless the entry holds a newer seq. */
void cache_put(struct request *r, const char *key, long long seq, const char *etag, const char *body, size_t len,
               int ttl_s);

/*
 * The catalog generation and the entry "<prefix>:<gen>:<rest>" in one round trip: the entry
 * is read in the same pipeline as catalog:gen, under the generation this worker saw last;
 * only when catalog:gen says another is it read again under that one (a second round trip,
 * once per change per worker). The entry is thus always the current generation's, as when
 * read after catalog:gen. Returns the generation, *key (arena) for cache_put and *hit with
 * *out as cache_get; -1 when Redis cannot say (then *key is NULL: nothing is cached).
 */
long long cache_get_gen(struct request *r, const char *prefix, const char *rest, char **key, bool *hit,
                        struct cached *out);

/*
 * cache_get_gen, and in the same round trip whether "<prefix>:<rest>" was asked for before
 * within seen_ttl_s (*seen; the key "seen:<prefix>:<rest>", set NX with that TTL, whatever the
 * generation). The admission of search pages: with cache_search_min_uses 2 a page is stored on
 * its second miss, not its first, as nginx's fastcgi_cache_min_uses does, so the long tail of
 * pages asked for once costs Redis no page write. *seen is false when Redis cannot say;
 * seen_ttl_s must be positive when seen is not NULL.
 */
long long cache_get_gen_seen(struct request *r, const char *prefix, const char *rest, int seen_ttl_s, char **key,
                             bool *hit, struct cached *out, bool *seen);

/* Headers of an anonymous, shareable catalogue answer: nginx keeps it http_cache_ttl_s, by
 * the cached locations' own `fastcgi_cache_valid 200` (marketd-cached.conf, rendered from the
 * same setting), the projector purging listing and profile pages sooner. The answer says
 * `X-Accel-Expires: 0` only where nginx must not keep it: a stale answer, a path whose UUID
 * was not in lower case (nginx keys pages by the URI as sent, and the projector purges only
 * the lower-case one), and http_cache_ttl_s = 0. A TTL line on every answer was parsed again
 * on every cache hit (README, "Tenth pass"). Browsers revalidate (ETag): the
 * `Cache-Control: no-cache` they get is nginx's (marketd-cached.conf adds it to every 2xx and
 * 3xx answer of its locations), not a line of the answer, because every line of an answer nginx
 * keeps is parsed again on every cache hit (README, "Ninth pass"). Only the routes of nginx's
 * cached locations may use it; others say their Cache-Control themselves. */
void cache_public_headers(struct request *r);

/* Answer r from a cached entry (ETag, If-None-Match → MK_ENOTMODIFIED). */
int cache_respond(struct request *r, const struct cached *c);

/*
 * The cache-aside read of one read-model document, the start of GET /listings/{id} and
 * GET /users/{id}: when the entry `key` holds an answer at least as new as X-Min-Seq, r is
 * answered from it and *doc is NULL (return what this returns); otherwise *doc (arena-owned)
 * is document _id = id of collection (readmodel_get: MK_ENOTFOUND, MK_EUNAVAILABLE, ...).
 */
int cache_read_doc(struct request *r, const char *key, const char *collection, const char *id, const bson_t **doc);

/* A cache lookup standing in for cache_get, ctx being the caller's: for a read that fetches
 * more in the same round trip. 1 on a hit (as cache_get's true), 0 on a miss, or an error
 * recorded on r (< 0), which ends the read. */
typedef int cache_lookup_fn(struct request *r, const char *key, struct cached *out, void *ctx);

/* cache_read_doc looking key up with lookup(r, key, out, ctx) (NULL: cache_get). When r is
 * answered from the entry, *hit (may be NULL) receives it; else its body is NULL. */
int cache_read_doc_via(struct request *r, const char *key, cache_lookup_fn *lookup, void *ctx, const char *collection,
                       const char *id, const bson_t **doc, struct cached *hit);

/*
 * The end of such a read: answer out as a public catalogue document (ETag etag, NULL for
 * one of the body) and, unless the answer is stale, file it under key at the document's seq
 * for cache_listing_ttl_s.
 */
int cache_answer_doc(struct request *r, const char *key, const bson_t *doc, json_object *out, const char *etag);

#endif
