/*
 * docs.h — generic document verbs on the MongoDB read model, so that domain, projector and
 * query code builds its filters and updates (bson) without calling the driver. Every verb
 * maps driver errors with mongo_result (MK_EUNAVAILABLE, MK_ECONFLICT, MK_EINTERNAL).
 */
#ifndef MK_DOCS_H
#define MK_DOCS_H

#include <stdbool.h>

#include "store/mongo.h"

/* update_one (upsert when upsert is true) on collection; *inserted (may be NULL) says
 * whether the upsert created the document, *matched (may be NULL) how many matched. */
int docs_update_one(struct mongo_store *ms, arena_t *a, const char *collection, const bson_t *filter,
                    const bson_t *update, bool upsert, bool *inserted, long long *matched);

/* update_many; *matched (may be NULL) receives the count matched. */
int docs_update_many(struct mongo_store *ms, arena_t *a, const char *collection, const bson_t *filter,
                     const bson_t *update, long long *matched);

/* find with opts (may be NULL); each(doc, arg) for every document, stopping early when it
 * returns false. The document is valid during the call only. */
int docs_find(struct mongo_store *ms, arena_t *a, const char *collection, const bson_t *filter, const bson_t *opts,
              bool (*each)(const bson_t *doc, void *arg), void *arg);

/* count_documents. */
int docs_count(struct mongo_store *ms, arena_t *a, const char *collection, const bson_t *filter, long long *n);

/* createIndexes with one index {keys} named name. */
int docs_create_index(struct mongo_store *ms, arena_t *a, const char *collection, const char *name,
                      const bson_t *keys);

#endif
