/*
 * mongo_ops.h — MongoDB verbs that return arena-owned documents, so that callers build
 * their filters and pipelines and never walk a cursor or free a reply themselves.
 */
#ifndef MK_MONGO_OPS_H
#define MK_MONGO_OPS_H

#include "store/mongo.h"

/* Documents read back: docs[0..n), each a copy owned by the arena. */
struct mongo_docs {
    const bson_t **docs;
    size_t n;
};

/* Run an aggregation pipeline (a BSON array document) on collection coll; at most max
 * documents are kept. MK_OK, MK_EUNAVAILABLE or MK_EINTERNAL. */
int mongo_aggregate_docs(struct mongo_store *ms, arena_t *a, const char *coll, const bson_t *pipeline,
                         size_t max, struct mongo_docs *out);

/* find(filter, opts) on coll; at most max documents are kept. */
int mongo_find_docs(struct mongo_store *ms, arena_t *a, const char *coll, const bson_t *filter, const bson_t *opts,
                    size_t max, struct mongo_docs *out);

/* Apply n updateOne operations (filters[i], updates[i]) on coll in one unordered bulk
 * write. MK_OK or an error. */
int mongo_update_each(struct mongo_store *ms, arena_t *a, const char *coll, const bson_t *const *filters,
                      const bson_t *const *updates, size_t n);

#endif
