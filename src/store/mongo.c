#include "store/mongo.h"

#include <mongoc/mongoc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/errors.h"
#include "core/log.h"

static int queue_send(struct mongo_store *ms);
static void queue_free(struct mongo_store *ms);

/*
 * libmongoc's performance counters live in a shared-memory file per process, /dev/shm/mongoc-PID,
 * made when the library is loaded (Debian's initialises itself in a constructor, before main) and
 * removed only by mongoc_cleanup: every process killed or ended without it left its file behind
 * (252 on one machine after a day of test runs). Nothing here reads the counters (they are for
 * the mongoc-stat tool). The scripts turn them off (MONGOC_DISABLE_SHM, scripts/lib/common.sh);
 * a daemon started any other way removes its file's name at once, keeping the mapping it counts
 * in, so nothing is left whatever ends the process. No file (the variable set): ENOENT, ignored.
 */
void
mongo_global_init(void)
{
    mongoc_init();
    char name[32];
    snprintf(name, sizeof(name), "/mongoc-%u", (unsigned)getpid());
    (void)shm_unlink(name);
}

/*
 * libmongoc 1.23 (Debian 12's) deadlocks a single-threaded client (CDRIVER-4666, fixed in
 * 1.24.3): when a heartbeat's rescan finds a server it knew dead, the SDAM rule "retry a
 * known server once" reconnects from inside the scan's callback, which holds the topology's
 * lock, and a failed reconnect's error callback takes that lock again. Any process blocked
 * for good when a rescan (every 60 s by default) fell into a MongoDB restart's downtime:
 * seen as a projector stuck in pthread_mutex_lock under mongoc_topology_select_server_id,
 * the read model never rebuilt (tests/integration/test_resilience.c,
 * a_vanished_mongodb_never_hangs_a_store). Without heartbeat rescans, a dead connection is
 * found by the next operation instead: its network error marks the server Unknown, and an
 * Unknown server is never retried from the callback; retryable reads retry that operation
 * once on a new connection. So the heartbeat is pinned at its largest value (24.8 days),
 * whatever mongo_uri says.
 */
#define HEARTBEAT_MS INT32_MAX

/* A client for uri_text with every wait bounded (the operator's URI values kept, except the
 * heartbeat, above) and a socket timeout of at least socket_ms. */
static mongoc_client_t *
client_new(const char *uri_text, int32_t socket_ms, bool warn)
{
    bson_error_t err;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(uri_text, &err);
    if (uri == NULL) {
        log_error("mongo: bad mongo_uri: %s", err.message);
        return NULL;
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
    if (mongoc_uri_get_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, 0) < socket_ms) {
        mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, socket_ms);
    }
    if (warn && bson_has_field(mongoc_uri_get_options(uri), MONGOC_URI_HEARTBEATFREQUENCYMS)) {
        log_warn("mongo: heartbeatFrequencyMS in mongo_uri is ignored (libmongoc 1.23's rescans can deadlock, CDRIVER-4666)");
    }
    mongoc_uri_set_option_as_int32(uri, MONGOC_URI_HEARTBEATFREQUENCYMS, HEARTBEAT_MS);
    mongoc_client_t *client = mongoc_client_new_from_uri_with_error(uri, &err);
    mongoc_uri_destroy(uri);
    if (client == NULL) {
        log_error("mongo: cannot create client: %s", err.message);
        return NULL;
    }
    mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
    return client;
}

int
mongo_init(struct mongo_store *ms, const char *uri_text, const char *db)
{
    memset(ms, 0, sizeof(*ms));
    ms->client = client_new(uri_text, 0, true);
    if (ms->client == NULL) {
        return MK_EBADPARAM;
    }
    ms->db = strdup(db);
    ms->uri = strdup(uri_text);
    return MK_OK;
}

void
mongo_close(struct mongo_store *ms)
{
    queue_free(ms);
    for (size_t i = 0; i < sizeof(ms->reads) / sizeof(ms->reads[0]); i++) {
        if (ms->reads[i] != NULL) {
            mongoc_collection_destroy(ms->reads[i]);
            ms->reads[i] = NULL;   /* a store opened again must not find its old handles */
        }
    }
    if (ms->client != NULL) {
        mongoc_client_destroy(ms->client);
    }
    free(ms->db);
    free(ms->uri);
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

bson_t *
mongo_own(arena_t *arena, bson_t *b)
{
    arena_cleanup_add(arena, destroy_bson, b);
    return b;
}

/* Walk cur (destroyed here) through each. */
static int
walk(mongoc_cursor_t *cur, mongo_each_fn each, void *ctx, const char *what)
{
    const bson_t *doc;
    bson_error_t err;
    int rc = MK_OK;
    while (rc == MK_OK && mongoc_cursor_next(cur, &doc)) {
        rc = each(doc, ctx);
    }
    if (rc == MK_OK && mongoc_cursor_error(cur, &err)) {
        rc = mongo_result(&err, what);
    }
    mongoc_cursor_destroy(cur);
    return rc == MONGO_STOP ? MK_OK : rc;
}

/* The collection of a verb, once what was queued has been sent (a verb sees the queued
 * updates); NULL, with *rc the queue's failure, when they could not be. */
static mongoc_collection_t *
verb_coll(struct mongo_store *ms, const char *coll, int *rc)
{
    *rc = queue_send(ms);
    return *rc == MK_OK ? mongoc_client_get_collection(ms->client, ms->db, coll) : NULL;
}

/* What a read sends: a find (query is the filter) or an aggregate (query is the pipeline). */
enum read_op { R_FIND, R_AGGREGATE };

/* verb_coll for reads: the first few collections' handles are kept (a handle copies the
 * client's read preference, read and write concerns: making and destroying one per read was
 * 2-3 % of a browse miss in the query pool); *owned says whether the caller destroys it. */
static mongoc_collection_t *
read_coll(struct mongo_store *ms, const char *coll, int *rc, bool *owned)
{
    *owned = false;
    *rc = queue_send(ms);
    if (*rc != MK_OK) {
        return NULL;
    }
    size_t n = sizeof(ms->reads) / sizeof(ms->reads[0]), i = 0;
    for (; i < n && ms->reads[i] != NULL; i++) {
        if (strcmp(mongoc_collection_get_name(ms->reads[i]), coll) == 0) {
            return ms->reads[i];
        }
    }
    mongoc_collection_t *c = mongoc_client_get_collection(ms->client, ms->db, coll);
    if (i < n) {
        ms->reads[i] = c;
    } else {
        *owned = true;
    }
    return c;
}

/* Each document of an aggregate's reply through each, when the reply holds them all (its
 * cursor id 0): *walked then says so; else nothing is walked (*walked false) and *open is the
 * server's cursor to close (0 when there is none). */
static int
walk_first_batch(const bson_t *reply, mongo_each_fn each, void *ctx, bool *walked, int64_t *open)
{
    bson_iter_t it, cursor, batch;
    int64_t id = -1;
    *walked = false;
    *open = 0;
    if (!bson_iter_init_find(&it, reply, "cursor") || !BSON_ITER_HOLDS_DOCUMENT(&it) ||
        !bson_iter_recurse(&it, &cursor)) {
        return MK_OK;
    }
    bool have_batch = false;
    while (bson_iter_next(&cursor)) {
        if (strcmp(bson_iter_key(&cursor), "id") == 0 && BSON_ITER_HOLDS_INT64(&cursor)) {
            id = bson_iter_int64(&cursor);
        } else if (strcmp(bson_iter_key(&cursor), "firstBatch") == 0 && BSON_ITER_HOLDS_ARRAY(&cursor)) {
            have_batch = bson_iter_recurse(&cursor, &batch);
        }
    }
    if (id != 0 || !have_batch) {
        *open = id > 0 ? id : 0;
        return MK_OK;
    }
    *walked = true;
    int rc = MK_OK;
    while (rc == MK_OK && bson_iter_next(&batch)) {
        uint32_t len;
        const uint8_t *data;
        bson_t doc;
        if (!BSON_ITER_HOLDS_DOCUMENT(&batch)) {
            return MK_EUNAVAILABLE;
        }
        bson_iter_document(&batch, &len, &data);
        if (!bson_init_static(&doc, data, len)) {
            return MK_EUNAVAILABLE;
        }
        rc = each(&doc, ctx);
    }
    return rc == MONGO_STOP ? MK_OK : rc;
}

/* Closes the server's cursor ID on C's collection; best effort: a cursor not found (already
 * closed, or on another server) is no error, and the read goes on either way. */
static void
kill_cursor(mongoc_collection_t *c, int64_t id)
{
    bson_t cmd = BSON_INITIALIZER, ids, reply;
    bson_error_t err;
    BSON_APPEND_UTF8(&cmd, "killCursors", mongoc_collection_get_name(c));
    BSON_APPEND_ARRAY_BEGIN(&cmd, "cursors", &ids);
    BSON_APPEND_INT64(&ids, "0", id);
    bson_append_array_end(&cmd, &ids);
    if (!mongoc_collection_read_command_with_opts(c, &cmd, NULL, NULL, &reply, &err)) {
        log_warn("mongo: killCursors on %s: %s", mongoc_collection_get_name(c), err.message);
    }
    bson_destroy(&reply);
    bson_destroy(&cmd);
}

/* An aggregate whose pipeline is {pipeline: [...]} and without options, sent as the command
 * {aggregate, pipeline, cursor: {}} and its reply's first batch walked in place: through
 * mongoc_collection_aggregate's cursor, libmongoc validated the whole command and copied the
 * server's description (re-parsing its hello reply) twice per read, ~8 % of a browse miss's
 * instructions in the query pool. The same read preference, read concern and implicit session
 * (the collection's). A reply that does not hold every document (a cursor to continue: more
 * than MongoDB's first batch of 101 documents or 16 MB) is not walked: its cursor is closed
 * (killCursors, through the same read preference, so the same server where there is one) and
 * *sent is false: the caller reads through a cursor. Left open, the server's cursor held the
 * rest of the result until its idle timeout (10 minutes on MongoDB). */
static int
aggregate_command(mongoc_collection_t *c, const bson_t *pipeline, mongo_each_fn each, void *ctx, const char *what,
                  bool *sent)
{
    bson_iter_t it;
    *sent = false;
    if (bson_count_keys(pipeline) != 1 || !bson_iter_init_find(&it, pipeline, "pipeline") ||
        !BSON_ITER_HOLDS_ARRAY(&it)) {
        return MK_OK;
    }
    bson_t cmd = BSON_INITIALIZER, cursor, reply;
    bson_error_t err;
    BSON_APPEND_UTF8(&cmd, "aggregate", mongoc_collection_get_name(c));
    bson_append_iter(&cmd, "pipeline", -1, &it);
    BSON_APPEND_DOCUMENT_BEGIN(&cmd, "cursor", &cursor);
    bson_append_document_end(&cmd, &cursor);
    int rc = MK_OK;
    if (!mongoc_collection_read_command_with_opts(c, &cmd, NULL, NULL, &reply, &err)) {
        rc = mongo_result(&err, what);
        *sent = true;
    } else {
        int64_t open;
        rc = walk_first_batch(&reply, each, ctx, sent, &open);
        if (open != 0) {
            kill_cursor(c, open);
        }
    }
    bson_destroy(&reply);
    bson_destroy(&cmd);
    return rc;
}

static int
read_each(struct mongo_store *ms, enum read_op op, const char *coll, const bson_t *query, const bson_t *opts,
          mongo_each_fn each, void *ctx)
{
    int rc;
    bool owned, sent = false;
    mongoc_collection_t *c = read_coll(ms, coll, &rc, &owned);
    if (c == NULL) {
        return rc;
    }
    if (op == R_AGGREGATE && opts == NULL) {
        rc = aggregate_command(c, query, each, ctx, coll, &sent);
    }
    if (!sent) {
        mongoc_cursor_t *cur = op == R_FIND ? mongoc_collection_find_with_opts(c, query, opts, NULL)
                                            : mongoc_collection_aggregate(c, MONGOC_QUERY_NONE, query, opts, NULL);
        rc = walk(cur, each, ctx, coll);
    }
    if (owned) {
        mongoc_collection_destroy(c);
    }
    return rc;
}

int
mongo_find_each(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *opts,
                mongo_each_fn each, void *ctx)
{
    return read_each(ms, R_FIND, coll, filter, opts, each, ctx);
}

int
mongo_aggregate_each(struct mongo_store *ms, const char *coll, const bson_t *pipeline, const bson_t *opts,
                     mongo_each_fn each, void *ctx)
{
    return read_each(ms, R_AGGREGATE, coll, pipeline, opts, each, ctx);
}

struct collect {
    arena_t *arena;
    const bson_t **docs;
    size_t n, cap;
    bool one;
};

static int
collect_doc(const bson_t *doc, void *ctx)
{
    struct collect *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap != 0 ? c->cap * 2 : 16;
        const bson_t **docs = arena_alloc(c->arena, cap * sizeof(*docs));
        if (c->n > 0) {
            memcpy(docs, c->docs, c->n * sizeof(*docs));
        }
        c->docs = docs;
        c->cap = cap;
    }
    c->docs[c->n++] = mongo_own(c->arena, bson_copy(doc));
    return c->one ? MONGO_STOP : MK_OK;
}

/* read_each into an arena-owned array of copies. */
static int
read_all(struct mongo_store *ms, enum read_op op, arena_t *arena, const char *coll, const bson_t *query,
         const bson_t *opts, const bson_t ***docs, size_t *n)
{
    struct collect c = {.arena = arena};
    int rc = read_each(ms, op, coll, query, opts, collect_doc, &c);
    *docs = c.docs;
    *n = rc == MK_OK ? c.n : 0;
    return rc;
}

int
mongo_find_all(struct mongo_store *ms, arena_t *arena, const char *coll, const bson_t *filter,
               const bson_t *opts, const bson_t ***docs, size_t *n)
{
    return read_all(ms, R_FIND, arena, coll, filter, opts, docs, n);
}

int
mongo_aggregate_all(struct mongo_store *ms, arena_t *arena, const char *coll, const bson_t *pipeline,
                    const bson_t *opts, const bson_t ***docs, size_t *n)
{
    return read_all(ms, R_AGGREGATE, arena, coll, pipeline, opts, docs, n);
}

int
mongo_find_one(struct mongo_store *ms, arena_t *arena, const char *coll, const bson_t *filter,
               const bson_t *opts, const bson_t **out)
{
    struct collect c = {.arena = arena, .one = true};
    bson_t limited = BSON_INITIALIZER;
    if (opts != NULL) {
        bson_copy_to_excluding_noinit(opts, &limited, "limit", NULL);
    }
    BSON_APPEND_INT64(&limited, "limit", 1);
    int rc = mongo_find_each(ms, coll, filter, &limited, collect_doc, &c);
    bson_destroy(&limited);
    *out = rc == MK_OK && c.n > 0 ? c.docs[0] : NULL;
    return rc != MK_OK ? rc : c.n > 0 ? MK_OK : MK_ENOTFOUND;
}

int
mongo_count(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *opts, long long *n)
{
    int rc;
    mongoc_collection_t *c = verb_coll(ms, coll, &rc);
    if (c == NULL) {
        return rc;
    }
    bson_error_t err;
    int64_t count = mongoc_collection_count_documents(c, filter, opts, NULL, NULL, &err);
    mongoc_collection_destroy(c);
    *n = count < 0 ? 0 : count;
    return count < 0 ? mongo_result(&err, coll) : MK_OK;
}

/* A write of one reply: doc is the update, the replacement or (W_COMMAND) the command. */
enum write_op { W_UPDATE_ONE, W_UPDATE_MANY, W_REPLACE_ONE, W_COMMAND };

static int
write_op(struct mongo_store *ms, enum write_op op, const char *coll, const bson_t *filter, const bson_t *doc,
         const bson_t *opts, long long *matched)
{
    int rc;
    mongoc_collection_t *c = verb_coll(ms, coll, &rc);
    if (c == NULL) {
        return rc;
    }
    bson_t reply;
    bson_error_t err;
    bool ok = op == W_UPDATE_ONE    ? mongoc_collection_update_one(c, filter, doc, opts, &reply, &err)
              : op == W_UPDATE_MANY ? mongoc_collection_update_many(c, filter, doc, opts, &reply, &err)
              : op == W_COMMAND     ? mongoc_collection_write_command_with_opts(c, doc, opts, &reply, &err)
                                    : mongoc_collection_replace_one(c, filter, doc, opts, &reply, &err);
    mongoc_collection_destroy(c);
    bson_iter_t it;
    if (matched != NULL) {
        *matched = ok && bson_iter_init_find(&it, &reply, "matchedCount") ? bson_iter_as_int64(&it) : 0;
    }
    bson_destroy(&reply);
    return ok ? MK_OK : mongo_result(&err, coll);
}

int
mongo_update_one(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *update,
                 const bson_t *opts, long long *matched)
{
    return write_op(ms, W_UPDATE_ONE, coll, filter, update, opts, matched);
}

int
mongo_update_many(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *update,
                  const bson_t *opts, long long *matched)
{
    return write_op(ms, W_UPDATE_MANY, coll, filter, update, opts, matched);
}

int
mongo_replace_one(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *doc,
                  const bson_t *opts, long long *matched)
{
    return write_op(ms, W_REPLACE_ONE, coll, filter, doc, opts, matched);
}

int
mongo_update_each(struct mongo_store *ms, const char *coll, const bson_t *const *filters,
                  const bson_t *const *updates, size_t n, bool upsert)
{
    if (n == 0) {
        return queue_send(ms);
    }
    int rc;
    mongoc_collection_t *c = verb_coll(ms, coll, &rc);
    if (c == NULL) {
        return rc;
    }
    bson_t opts = BSON_INITIALIZER, one = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    BSON_APPEND_BOOL(&one, "upsert", true);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(c, &opts);
    bson_destroy(&opts);
    bson_error_t err;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        ok = mongoc_bulk_operation_update_one_with_opts(bulk, filters[i], updates[i], upsert ? &one : NULL, &err);
    }
    bson_destroy(&one);
    bson_t reply;
    if (ok) {
        ok = mongoc_bulk_operation_execute(bulk, &reply, &err) != 0;
        bson_destroy(&reply);
    }
    mongoc_bulk_operation_destroy(bulk);
    mongoc_collection_destroy(c);
    return ok ? MK_OK : mongo_result(&err, "bulk update");
}

int
mongo_write_command(struct mongo_store *ms, const char *coll, const bson_t *cmd)
{
    return write_op(ms, W_COMMAND, coll, NULL, cmd, NULL, NULL);
}

int
mongo_write_command_long(struct mongo_store *ms, const char *coll, const bson_t *cmd, int32_t timeout_ms)
{
    int rc = queue_send(ms);
    if (rc != MK_OK) {
        return rc;
    }
    mongoc_client_t *client = client_new(ms->uri, timeout_ms, false);
    if (client == NULL) {
        return MK_EBADPARAM;
    }
    bson_error_t err;
    mongoc_collection_t *c = mongoc_client_get_collection(client, ms->db, coll);
    bool ok = mongoc_collection_write_command_with_opts(c, cmd, NULL, NULL, &err);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(client);
    return ok ? MK_OK : mongo_result(&err, coll);
}

int
mongo_drop(struct mongo_store *ms, const char *coll)
{
    int rc;
    mongoc_collection_t *c = verb_coll(ms, coll, &rc);
    if (c == NULL) {
        return rc;
    }
    bson_error_t err;
    bool ok = mongoc_collection_drop(c, &err) || err.code == 26;   /* 26: no such collection */
    mongoc_collection_destroy(c);
    return ok ? MK_OK : mongo_result(&err, coll);
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
    int qrc = queue_send(ms);
    if (qrc != MK_OK) {
        return qrc;
    }
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

/* ---- queued updates ------------------------------------------------------------------ */

#define QUEUE_MAX_OPS 1000
#define QUEUE_MAX_BYTES (8u << 20)

struct mongo_queued {
    bson_t *filter, *update, *dup_filter, *dup_update;
    bool upsert;
};

struct mongo_queue {
    char *coll;
    struct mongo_queued *ops;
    size_t n, cap, bytes;
    int failed;                          /* first whole-send failure since mongo_flush */
    long long applied, duplicates, lost; /* since mongo_flush */
};

static void
queued_free(struct mongo_queued *op)
{
    bson_destroy(op->filter);
    bson_destroy(op->update);
    if (op->dup_filter != NULL) {
        bson_destroy(op->dup_filter);
        bson_destroy(op->dup_update);
    }
}

static void
queue_clear(struct mongo_queue *q)
{
    for (size_t i = 0; i < q->n; i++) {
        queued_free(&q->ops[i]);
    }
    q->n = 0;
    q->bytes = 0;
}

/* One unordered bulk of updateOne operations; *errors receives the reply's writeErrors
 * (a copy, for the caller to destroy) when the bulk failed on some of them only. */
static int
bulk_update(struct mongo_store *ms, const char *coll, const struct mongo_queued *ops, size_t n, bool dups,
            bson_t *errors)
{
    mongoc_collection_t *c = mongoc_client_get_collection(ms->client, ms->db, coll);
    bson_t opts = BSON_INITIALIZER, upsert = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    BSON_APPEND_BOOL(&upsert, "upsert", true);
    mongoc_bulk_operation_t *bulk = mongoc_collection_create_bulk_operation_with_opts(c, &opts);
    bson_error_t err;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const struct mongo_queued *op = &ops[i];
        ok = dups ? mongoc_bulk_operation_update_one_with_opts(bulk, op->dup_filter, op->dup_update, NULL, &err)
                  : mongoc_bulk_operation_update_one_with_opts(bulk, op->filter, op->update,
                                                               op->upsert ? &upsert : NULL, &err);
    }
    bson_t reply = BSON_INITIALIZER;
    bson_init(errors);
    int rc = MK_OK;
    if (ok && mongoc_bulk_operation_execute(bulk, &reply, &err) == 0) {
        /* Some updates failed (their writeErrors), or the whole bulk did (no writeErrors). */
        bson_iter_t it;
        const uint8_t *data = NULL;
        uint32_t len = 0;
        bson_t view;
        if (bson_iter_init_find(&it, &reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it)) {
            bson_iter_array(&it, &len, &data);
        }
        if (data != NULL && len > 5 && bson_init_static(&view, data, len)) {
            bson_destroy(errors);
            bson_copy_to(&view, errors);
        } else {
            rc = mongo_result(&err, "queued updates");
        }
    } else if (!ok) {
        rc = mongo_result(&err, "queued updates");
    }
    bson_destroy(&reply);
    bson_destroy(&opts);
    bson_destroy(&upsert);
    mongoc_bulk_operation_destroy(bulk);
    mongoc_collection_destroy(c);
    return rc;
}

/* Send the queue: the updates, then the duplicates' replacements. */
static int
queue_send(struct mongo_store *ms)
{
    struct mongo_queue *q = ms->queue;
    if (q == NULL || q->n == 0) {
        return q != NULL ? q->failed : MK_OK;
    }
    bson_t errors;
    int rc = bulk_update(ms, q->coll, q->ops, q->n, false, &errors);
    size_t ndup = 0, nerr = 0;
    struct mongo_queued *dup = rc == MK_OK ? calloc(q->n, sizeof(*dup)) : NULL;
    bson_iter_t it, e;
    if (rc == MK_OK && dup == NULL) {
        rc = MK_EINTERNAL;
    }
    for (bool more = rc == MK_OK && bson_iter_init(&it, &errors); more && bson_iter_next(&it);) {
        int64_t index = -1, code = 0;
        const char *msg = "";
        if (BSON_ITER_HOLDS_DOCUMENT(&it) && bson_iter_recurse(&it, &e)) {
            while (bson_iter_next(&e)) {
                const char *k = bson_iter_key(&e);
                index = strcmp(k, "index") == 0 ? bson_iter_as_int64(&e) : index;
                code = strcmp(k, "code") == 0 ? bson_iter_as_int64(&e) : code;
                msg = strcmp(k, "errmsg") == 0 && BSON_ITER_HOLDS_UTF8(&e) ? bson_iter_utf8(&e, NULL) : msg;
            }
        }
        nerr++;
        if (index >= 0 && (size_t)index < q->n && (code == 11000 || code == 11001) && q->ops[index].dup_filter != NULL) {
            dup[ndup++] = q->ops[index];
        } else {
            char *f = index >= 0 && (size_t)index < q->n ? bson_as_relaxed_extended_json(q->ops[index].filter, NULL) : NULL;
            log_error("mongo: a queued update of %s failed (code %lld): %s; filter %s", q->coll, (long long)code, msg,
                      f != NULL ? f : "?");
            bson_free(f);
            q->lost++;
        }
    }
    bson_destroy(&errors);
    if (rc == MK_OK && ndup > 0) {
        rc = bulk_update(ms, q->coll, dup, ndup, true, &errors);
        if (rc == MK_OK && !bson_empty(&errors)) {
            log_error("mongo: %zu updates of %s after a duplicate key failed", (size_t)bson_count_keys(&errors), q->coll);
            rc = MK_EINTERNAL;
        }
        bson_destroy(&errors);
    }
    free(dup);
    if (rc == MK_OK) {
        q->applied += (long long)(q->n - nerr);
        q->duplicates += (long long)ndup;
    } else if (q->failed == MK_OK) {
        q->failed = rc;
    }
    queue_clear(q);
    return q->failed;
}

int
mongo_update_one_queued(struct mongo_store *ms, const char *coll, const bson_t *filter, const bson_t *update,
                        bool upsert, const bson_t *on_duplicate_filter, const bson_t *on_duplicate_update)
{
    struct mongo_queue *q = ms->queue;
    if (q == NULL && (q = ms->queue = calloc(1, sizeof(*q))) == NULL) {
        return MK_EINTERNAL;
    }
    if (q->n > 0 && strcmp(q->coll, coll) != 0) {
        queue_send(ms);
    }
    if (q->n == q->cap) {
        size_t cap = q->cap != 0 ? q->cap * 2 : 64;
        struct mongo_queued *ops = realloc(q->ops, cap * sizeof(*ops));
        if (ops == NULL) {
            return MK_EINTERNAL;
        }
        q->ops = ops;
        q->cap = cap;
    }
    if (q->n == 0) {
        free(q->coll);
        q->coll = strdup(coll);
    }
    bool dup = on_duplicate_filter != NULL && on_duplicate_update != NULL;
    q->ops[q->n++] = (struct mongo_queued){bson_copy(filter), bson_copy(update), dup ? bson_copy(on_duplicate_filter) : NULL,
                                           dup ? bson_copy(on_duplicate_update) : NULL, upsert};
    q->bytes += filter->len + update->len;
    if (q->n >= QUEUE_MAX_OPS || q->bytes >= QUEUE_MAX_BYTES) {
        queue_send(ms);
    }
    return MK_OK;
}

int
mongo_flush(struct mongo_store *ms, long long *applied, long long *duplicates, long long *failed)
{
    struct mongo_queue *q = ms->queue;
    int rc = queue_send(ms);
    if (applied != NULL) {
        *applied = q != NULL ? q->applied : 0;
    }
    if (duplicates != NULL) {
        *duplicates = q != NULL ? q->duplicates : 0;
    }
    if (failed != NULL) {
        *failed = q != NULL ? q->lost : 0;
    }
    mongo_discard(ms);
    return rc;
}

void
mongo_discard(struct mongo_store *ms)
{
    struct mongo_queue *q = ms->queue;
    if (q != NULL) {
        queue_clear(q);
        q->failed = MK_OK;
        q->applied = q->duplicates = q->lost = 0;
    }
}

static void
queue_free(struct mongo_store *ms)
{
    if (ms->queue != NULL) {
        queue_clear(ms->queue);
        free(ms->queue->ops);
        free(ms->queue->coll);
        free(ms->queue);
        ms->queue = NULL;
    }
}
