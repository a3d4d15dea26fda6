/*
 * mongo.h — the MongoDB adapter: one client per process (created after exec, never shared
 * across fork), time-outs on every operation, and the verbs the projector and the query
 * handlers use (find, walk, aggregate, count, update, replace, commands), each mapping the
 * driver's errors onto the project's result codes. Only mongo.c includes the driver; callers
 * build their filters, updates and documents with libbson (bson_t) and own them (mongo_own
 * hands one to an arena). Collections are named by their name in the configured database.
 */
#ifndef MK_MONGO_H
#define MK_MONGO_H

#include <stdbool.h>
#include <stddef.h>

#include <bson/bson.h>

#include "core/arena.h"

typedef struct _mongoc_client_t mongoc_client_t;
typedef struct _mongoc_collection_t mongoc_collection_t;

struct mongo_queue;

struct mongo_store {
    mongoc_client_t *client;
    char *db;
    char *uri;                   /* as configured: a long command's own client (mongo_write_command_long) */
    struct mongo_queue *queue;   /* queued updates (mongo_update_one_queued), NULL until used */
    mongoc_collection_t *reads[4];   /* the handles reads use, kept for the client's life */
};

/* Process-wide driver set-up; call once per process before mongo_init. */
void mongo_global_init(void);

/* Create the client for uri (time-outs added when the URI has none). MK_EBADPARAM for a
 * bad URI. No connection is made until the first operation. */
int mongo_init(struct mongo_store *ms, const char *uri, const char *db);

void mongo_close(struct mongo_store *ms);

/* A collection handle of the configured database, destroyed with the arena. (The verbs below
 * take collection names; this is for code that must hold a handle.) */
mongoc_collection_t *mongo_coll(struct mongo_store *ms, arena_t *arena, const char *name);

/* A new bson_t destroyed with the arena. */
bson_t *mongo_bson(arena_t *arena);

/* Hand b (bson_new, BCON_NEW, bson_copy ...) to the arena, which destroys it; returns b. */
bson_t *mongo_own(arena_t *arena, bson_t *b);

/*
 * Called for each document of a walk; doc is valid during the call only (copy what you
 * keep into the arena). Return MK_OK to go on, MONGO_STOP to end the walk (the walk then
 * returns MK_OK), or a negative MK_ code to end it with that code.
 */
typedef int (*mongo_each_fn)(const bson_t *doc, void *ctx);
#define MONGO_STOP 1

/* find(filter, opts) on coll (opts may be NULL: sort, limit, projection ...), each document
 * to each. MK_OK, each's error, or the mapped driver error (mongo_result). */
int mongo_find_each(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *opts,
                    mongo_each_fn each, void *ctx);

/* The same for an aggregation: pipeline is {"pipeline": [...]} or an array of stages. */
int mongo_aggregate_each(struct mongo_store *ms, const char *coll, const bson_t *pipeline, const bson_t *opts,
                         mongo_each_fn each, void *ctx);

/* The first document of find(filter, opts): MK_OK with *out (a copy owned by arena),
 * MK_ENOTFOUND (*out NULL), or an error. */
int mongo_find_one(struct mongo_store *ms, arena_t *arena, const char *coll, const bson_t *filter,
                   const bson_t *opts, const bson_t **out);

/* Every document of find(filter, opts) (bound it with a limit): *docs is an arena-owned
 * array of *n arena-owned copies. */
int mongo_find_all(struct mongo_store *ms, arena_t *arena, const char *coll, const bson_t *filter,
                   const bson_t *opts, const bson_t ***docs, size_t *n);

/* The same for an aggregation (bound it with $limit or $group). */
int mongo_aggregate_all(struct mongo_store *ms, arena_t *arena, const char *coll, const bson_t *pipeline,
                        const bson_t *opts, const bson_t ***docs, size_t *n);

/* The number of documents matching filter (opts may be NULL). */
int mongo_count(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *opts, long long *n);

/* updateOne / updateMany / replaceOne (opts may be NULL, e.g. {upsert: true}). *matched (may
 * be NULL) receives matchedCount. MK_ECONFLICT for a duplicate key (not logged). */
int mongo_update_one(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *update,
                     const bson_t *opts, long long *matched);
int mongo_update_many(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *update,
                      const bson_t *opts, long long *matched);
int mongo_replace_one(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *doc,
                      const bson_t *opts, long long *matched);

/* n updateOne operations (filters[i], updates[i]) on coll in one unordered bulk write
 * (each an upsert when upsert is set). */
int mongo_update_each(struct mongo_store *ms, const char *coll, const bson_t *const *filters,
                      const bson_t *const *updates, size_t n, bool upsert);

/*
 * Queued updates: a writer that applies many small updates (the projector, one per event)
 * queues them and they go out together, one unordered bulk write per run of one
 * collection's updates instead of one round trip each. The queue is sent before any other
 * operation of this store, so everything else sees the same order of effects as without it;
 * also when another collection's update is queued or it holds 1000 updates or 8 MB.
 * on_duplicate_filter/update (both or neither may be NULL): what to run instead when the
 * queued update fails with a duplicate key (11000), as mongo_update_one's MK_ECONFLICT
 * would let a caller do. Other per-update errors are logged and counted, not returned
 * (each such update is lost, like a poisoned event). MK_OK, or a copy failure.
 */
int mongo_update_one_queued(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *update,
                            bool upsert, const bson_t *on_duplicate_filter, const bson_t *on_duplicate_update);

/* Send what is queued. Returns MK_OK, or the error of the first send that failed as a whole
 * since the last mongo_flush (its updates are dropped: the caller must apply them again).
 * Counts since the last mongo_flush (may be NULL): updates applied, updates that hit a
 * duplicate key (their on_duplicate update ran instead), updates that failed otherwise. */
int mongo_flush(struct mongo_store *ms, long long *applied, long long *duplicates, long long *failed);

/* Forget what is queued and any failure (a writer starting over). */
void mongo_discard(struct mongo_store *ms);

/* A write command on coll's database ({createIndexes: coll, indexes: [...]} ...). */
int mongo_write_command(struct mongo_store *ms, const char *coll, const bson_t *cmd);

/* The same, for a command that may take longer than the client's socket time-out (an index
 * build on a filled collection): sent on a client of its own whose socket time-out is at least
 * timeout_ms. */
int mongo_write_command_long(struct mongo_store *ms, const char *coll, const bson_t *cmd, int32_t timeout_ms);

/* Drop coll; MK_OK also when it does not exist. */
int mongo_drop(struct mongo_store *ms, const char *coll);

/* Map a driver error: MK_EUNAVAILABLE (unreachable, timed out), MK_ECONFLICT (duplicate
 * key, code 11000), MK_EINTERNAL (anything else, logged with what). */
int mongo_result(const bson_error_t *err, const char *what);

/* True when err is a duplicate-key error. */
bool mongo_is_duplicate(const bson_error_t *err);

/* Round trip to the server: MK_OK or MK_EUNAVAILABLE. */
int mongo_ping(struct mongo_store *ms);

#endif
