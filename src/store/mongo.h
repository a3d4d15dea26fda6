/*
 * mongo.h — the MongoDB adapter: one client per process (created after exec, never shared
 * across fork), time-outs on every operation, collections owned by the request arena, and
 * a mapping of driver errors onto the project's result codes. The read model's documents
 * are built with libbson (bson_t) by the projector and query handlers.
 */
#ifndef MK_MONGO_H
#define MK_MONGO_H

#include <mongoc/mongoc.h>

#include "core/arena.h"

struct mongo_store {
    mongoc_client_t *client;
    char *db;
};

/* Process-wide driver set-up; call once per process before mongo_init. */
void mongo_global_init(void);

/* Create the client for uri (time-outs added when the URI has none). MK_EBADPARAM for a
 * bad URI. No connection is made until the first operation. */
int mongo_init(struct mongo_store *ms, const char *uri, const char *db);

void mongo_close(struct mongo_store *ms);

/* A collection handle of the configured database, destroyed with the arena. */
mongoc_collection_t *mongo_coll(struct mongo_store *ms, arena_t *arena, const char *name);

/* A bson_t destroyed with the arena. */
bson_t *mongo_bson(arena_t *arena);

/* Map a driver error: MK_EUNAVAILABLE (unreachable, timed out), MK_ECONFLICT (duplicate
 * key, code 11000), MK_EINTERNAL (anything else, logged with what). */
int mongo_result(const bson_error_t *err, const char *what);

/* True when err is a duplicate-key error. */
bool mongo_is_duplicate(const bson_error_t *err);

/* Round trip to the server: MK_OK or MK_EUNAVAILABLE. */
int mongo_ping(struct mongo_store *ms);

#endif
