#include "store/docs.h"

#include "core/errors.h"

static bool
update(struct mongo_store *ms, arena_t *a, const char *collection, const bson_t *filter, const bson_t *upd,
       bool many, bool upsert, bson_t *reply, bson_error_t *err)
{
    mongoc_collection_t *coll = mongo_coll(ms, a, collection);
    bson_t opts = BSON_INITIALIZER;
    if (upsert) {
        BSON_APPEND_BOOL(&opts, "upsert", true);
    }
    bool ok = many ? mongoc_collection_update_many(coll, filter, upd, &opts, reply, err)
                   : mongoc_collection_update_one(coll, filter, upd, &opts, reply, err);
    bson_destroy(&opts);
    return ok;
}

static long long
reply_int(const bson_t *reply, const char *key)
{
    bson_iter_t it;
    return bson_iter_init_find(&it, reply, key) ? bson_iter_as_int64(&it) : 0;
}

int
docs_update_one(struct mongo_store *ms, arena_t *a, const char *collection, const bson_t *filter,
                const bson_t *upd, bool upsert, bool *inserted, long long *matched)
{
    bson_t reply;
    bson_error_t err;
    bool ok = update(ms, a, collection, filter, upd, false, upsert, &reply, &err);
    if (ok) {
        if (inserted != NULL) {
            *inserted = reply_int(&reply, "upsertedCount") > 0;
        }
        if (matched != NULL) {
            *matched = reply_int(&reply, "matchedCount");
        }
    }
    bson_destroy(&reply);
    return ok ? MK_OK : mongo_result(&err, collection);
}

int
docs_update_many(struct mongo_store *ms, arena_t *a, const char *collection, const bson_t *filter,
                 const bson_t *upd, long long *matched)
{
    bson_t reply;
    bson_error_t err;
    bool ok = update(ms, a, collection, filter, upd, true, false, &reply, &err);
    if (ok && matched != NULL) {
        *matched = reply_int(&reply, "matchedCount");
    }
    bson_destroy(&reply);
    return ok ? MK_OK : mongo_result(&err, collection);
}

int
docs_find(struct mongo_store *ms, arena_t *a, const char *collection, const bson_t *filter, const bson_t *opts,
          bool (*each)(const bson_t *doc, void *arg), void *arg)
{
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(mongo_coll(ms, a, collection), filter, opts, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        if (!each(doc, arg)) {
            break;
        }
    }
    bson_error_t err;
    int rc = mongoc_cursor_error(cur, &err) ? mongo_result(&err, collection) : MK_OK;
    mongoc_cursor_destroy(cur);
    return rc;
}

int
docs_count(struct mongo_store *ms, arena_t *a, const char *collection, const bson_t *filter, long long *n)
{
    bson_error_t err;
    int64_t c = mongoc_collection_count_documents(mongo_coll(ms, a, collection), filter, NULL, NULL, NULL, &err);
    if (c < 0) {
        return mongo_result(&err, collection);
    }
    *n = c;
    return MK_OK;
}

int
docs_create_index(struct mongo_store *ms, arena_t *a, const char *collection, const char *name, const bson_t *keys)
{
    mongoc_collection_t *coll = mongo_coll(ms, a, collection);
    bson_t *cmd = BCON_NEW("createIndexes", BCON_UTF8(collection), "indexes", "[", "{", "key", BCON_DOCUMENT(keys),
                           "name", BCON_UTF8(name), "}", "]");
    bson_t reply;
    bson_error_t err;
    bool ok = mongoc_collection_write_command_with_opts(coll, cmd, NULL, &reply, &err);
    bson_destroy(&reply);
    bson_destroy(cmd);
    return ok ? MK_OK : mongo_result(&err, "create index");
}
