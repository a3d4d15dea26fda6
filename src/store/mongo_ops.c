#include "store/mongo_ops.h"

#include <string.h>

#include "core/errors.h"

static void
destroy_doc(void *d)
{
    bson_destroy(d);
}

/* Copy every document of cur into out (at most max), then destroy cur. */
static int
collect(mongoc_cursor_t *cur, arena_t *a, size_t max, struct mongo_docs *out, const char *what)
{
    size_t cap = 16;
    out->docs = arena_alloc(a, cap * sizeof(*out->docs));
    out->n = 0;
    const bson_t *doc;
    while (out->n < max && mongoc_cursor_next(cur, &doc)) {
        if (out->n == cap) {
            const bson_t **grown = arena_alloc(a, 2 * cap * sizeof(*grown));
            memcpy(grown, out->docs, cap * sizeof(*grown));
            out->docs = grown;
            cap *= 2;
        }
        bson_t *copy = bson_copy(doc);
        arena_cleanup_add(a, destroy_doc, copy);
        out->docs[out->n++] = copy;
    }
    bson_error_t err;
    int rc = mongoc_cursor_error(cur, &err) ? mongo_result(&err, what) : MK_OK;
    mongoc_cursor_destroy(cur);
    return rc;
}

int
mongo_aggregate_docs(struct mongo_store *ms, arena_t *a, const char *coll, const bson_t *pipeline, size_t max,
                     struct mongo_docs *out)
{
    mongoc_collection_t *c = mongo_coll(ms, a, coll);
    mongoc_cursor_t *cur = mongoc_collection_aggregate(c, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
    return collect(cur, a, max, out, "aggregate");
}

int
mongo_find_docs(struct mongo_store *ms, arena_t *a, const char *coll, const bson_t *filter, const bson_t *opts,
                size_t max, struct mongo_docs *out)
{
    mongoc_collection_t *c = mongo_coll(ms, a, coll);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, opts, NULL);
    return collect(cur, a, max, out, "find");
}

int
mongo_update_each(struct mongo_store *ms, arena_t *a, const char *coll, const bson_t *const *filters,
                  const bson_t *const *updates, size_t n)
{
    if (n == 0) {
        return MK_OK;
    }
    mongoc_collection_t *c = mongo_coll(ms, a, coll);
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(c, &opts);
    bson_destroy(&opts);
    bson_error_t err;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        ok = mongoc_bulk_operation_update_one_with_opts(bulk, filters[i], updates[i], NULL, &err);
    }
    bson_t reply;
    if (ok) {
        ok = mongoc_bulk_operation_execute(bulk, &reply, &err) != 0;
        bson_destroy(&reply);
    }
    mongoc_bulk_operation_destroy(bulk);
    return ok ? MK_OK : mongo_result(&err, "bulk update");
}
