#include "store/mongo.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"

void
mongo_global_init(void)
{
    mongoc_init();
}

int
mongo_init(struct mongo_store *ms, const char *uri_text, const char *db)
{
    memset(ms, 0, sizeof(*ms));
    bson_error_t err;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(uri_text, &err);
    if (uri == NULL) {
        log_error("mongo: bad mongo_uri: %s", err.message);
        return MK_EBADPARAM;
    }
    /* Nothing may block forever: bound selection, connect and socket operations unless the
     * operator chose values in the URI. */
    const struct { const char *key; int32_t value; } bounds[] = {
        {MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 2000},
        {MONGOC_URI_CONNECTTIMEOUTMS, 2000},
        {MONGOC_URI_SOCKETTIMEOUTMS, 10000},
    };
    for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
        if (!bson_has_field(mongoc_uri_get_options(uri), bounds[i].key)) {
            mongoc_uri_set_option_as_int32(uri, bounds[i].key, bounds[i].value);
        }
    }
    ms->client = mongoc_client_new_from_uri_with_error(uri, &err);
    mongoc_uri_destroy(uri);
    if (ms->client == NULL) {
        log_error("mongo: cannot create client: %s", err.message);
        return MK_EBADPARAM;
    }
    mongoc_client_set_error_api(ms->client, MONGOC_ERROR_API_VERSION_2);
    ms->db = strdup(db);
    return MK_OK;
}

void
mongo_close(struct mongo_store *ms)
{
    if (ms->client != NULL) {
        mongoc_client_destroy(ms->client);
    }
    free(ms->db);
    memset(ms, 0, sizeof(*ms));
}

static void
destroy_coll(void *c)
{
    mongoc_collection_destroy(c);
}

static void
destroy_bson(void *b)
{
    bson_destroy(b);
}

mongoc_collection_t *
mongo_coll(struct mongo_store *ms, arena_t *arena, const char *name)
{
    mongoc_collection_t *c = mongoc_client_get_collection(ms->client, ms->db, name);
    arena_cleanup_add(arena, destroy_coll, c);
    return c;
}

bson_t *
mongo_bson(arena_t *arena)
{
    bson_t *b = bson_new();
    arena_cleanup_add(arena, destroy_bson, b);
    return b;
}

bool
mongo_is_duplicate(const bson_error_t *err)
{
    return err->code == 11000 || err->code == 11001;
}

int
mongo_result(const bson_error_t *err, const char *what)
{
    if (mongo_is_duplicate(err)) {
        return MK_ECONFLICT;
    }
    if (err->domain == MONGOC_ERROR_SERVER_SELECTION || err->domain == MONGOC_ERROR_STREAM ||
        err->domain == MONGOC_ERROR_CLIENT) {
        log_warn("mongo: %s: %s", what, err->message);
        return MK_EUNAVAILABLE;
    }
    log_error("mongo: %s: %s (domain %u, code %u)", what, err->message, err->domain, err->code);
    return MK_EINTERNAL;
}

int
mongo_ping(struct mongo_store *ms)
{
    bson_t cmd = BSON_INITIALIZER;
    bson_error_t err;
    BSON_APPEND_INT32(&cmd, "ping", 1);
    bool ok = mongoc_client_command_simple(ms->client, "admin", &cmd, NULL, NULL, &err);
    bson_destroy(&cmd);
    if (!ok) {
        log_warn("mongo: ping: %s", err.message);
        return MK_EUNAVAILABLE;
    }
    return MK_OK;
}
