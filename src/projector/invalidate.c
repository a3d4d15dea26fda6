/*
 * After the read model changed: stale markers over the Redis entries of the changed
 * documents, a new catalog generation for search pages, and nginx purges of the pages
 * (query/cache.h explains the keys). All best effort: what cannot be dropped expires.
 */
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "projector/projections.h"
#include "worker.h"

/* Readers store no answer over a marker while it lives (query/cache.c), which closes the
 * window in which a reader that read the old document could cache it after the change. */
#define MARKER_TTL_S 5

static void
mark(struct projection_ctx *p, const char *kind, const char *id)
{
    (void)redis_cmd(&p->w->redis, p->arena, NULL, "SET cache:%s:%s stale EX %d", kind, id, MARKER_TTL_S);
}

void
invalidate_listing(struct projection_ctx *p, const char *listing_id)
{
    mark(p, "listing", listing_id);
    (void)redis_cmd(&p->w->redis, p->arena, NULL, "INCR catalog:gen");
    purge_uri(&p->w->purge, arena_sprintf(p->arena, "/api/v1/listings/%s", listing_id));
}

void
invalidate_user(struct projection_ctx *p, const char *user_id)
{
    mark(p, "user", user_id);
    purge_uri(&p->w->purge, arena_sprintf(p->arena, "/api/v1/users/%s", user_id));
}

void
invalidate_seller_listings(struct projection_ctx *p, const char *seller_id)
{
    mongoc_collection_t *listings = mongo_coll(p->mongo, p->arena, "listings");
    bson_t *filter = BCON_NEW("seller_id", BCON_UTF8(seller_id));
    bson_t *opts = BCON_NEW("projection", "{", "_id", BCON_INT32(1), "}");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(listings, filter, opts, NULL);
    const bson_t *doc;
    bson_iter_t it;
    while (mongoc_cursor_next(cur, &doc)) {
        if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it)) {
            const char *id = bson_iter_utf8(&it, NULL);
            mark(p, "listing", id);
            purge_uri(&p->w->purge, arena_sprintf(p->arena, "/api/v1/listings/%s", id));
        }
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    bson_destroy(opts);
    (void)redis_cmd(&p->w->redis, p->arena, NULL, "INCR catalog:gen");
}
