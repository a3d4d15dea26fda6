/*
 * MongoDB conformance checks through libmongoc: every query and command shape the project
 * relies on, checked against the MongoDB manual's documented behaviour. Runs against the
 * server in MARKET_TEST_MONGO_URI (default: the local stand-in on 127.0.0.1:28117); a real
 * MongoDB 6+ standalone must pass these too. Each test names the manual rule it relies on.
 *
 * Build: gcc -std=c17 -Wall -Wextra -Werror $(pkg-config --cflags libmongoc-1.0 criterion) \
 *          tests/integration/test_mongo_conformance.c -o test_mongo_conformance \
 *          $(pkg-config --libs libmongoc-1.0 criterion)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* struct addrinfo in libmongoc's headers under -std=c17 */
#endif
#include <criterion/criterion.h>
#include <mongoc/mongoc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/errors.h"
#include "store/mongo.h"

static mongoc_client_t *client;
static mongoc_database_t *db;
static char dbname[64];

static void setup(void)
{
    mongoc_init();
    const char *uri = getenv("MARKET_TEST_MONGO_URI");
    if (!uri || !*uri)
        uri = "mongodb://127.0.0.1:28117/?appname=conformance";
    bson_error_t error;
    mongoc_uri_t *u = mongoc_uri_new_with_error(uri, &error);
    cr_assert(u, "bad MARKET_TEST_MONGO_URI: %s", error.message);
    client = mongoc_client_new_from_uri(u);
    mongoc_uri_destroy(u);
    cr_assert(client);
    /* A fresh database per test process (Criterion forks one per test). */
    snprintf(dbname, sizeof dbname, "conf_%ld_%ld", (long)getpid(), (long)time(NULL));
    db = mongoc_client_get_database(client, dbname);
}

static void teardown(void)
{
    if (db) {
        mongoc_database_drop_with_opts(db, NULL, NULL);
        mongoc_database_destroy(db);
    }
    if (client)
        mongoc_client_destroy(client);
    mongoc_cleanup();
}

TestSuite(mongo, .init = setup, .fini = teardown, .timeout = 30);

static mongoc_collection_t *coll(const char *name)
{
    return mongoc_database_get_collection(db, name);
}

/* Runs a database command; returns success and fills reply (always initialised) and error. */
static bool command(bson_t *cmd, bson_t *reply, bson_error_t *error)
{
    bool ok = mongoc_database_command_simple(db, cmd, NULL, reply, error);
    bson_destroy(cmd);
    return ok;
}

static void create_index(const char *collection, bson_t *key, const char *name, bool unique)
{
    bson_t *cmd = BCON_NEW("createIndexes", BCON_UTF8(collection), "indexes", "[", "{", "key",
                           BCON_DOCUMENT(key), "name", BCON_UTF8(name), "unique", BCON_BOOL(unique),
                           "}", "]");
    bson_t reply;
    bson_error_t error;
    bool ok = command(cmd, &reply, &error);
    cr_assert(ok, "createIndexes %s: %s", name, error.message);
    bson_destroy(&reply);
    bson_destroy(key);
}

static void insert(mongoc_collection_t *c, bson_t *doc)
{
    bson_error_t error;
    bool ok = mongoc_collection_insert_one(c, doc, NULL, NULL, &error);
    cr_assert(ok, "insert: %s", error.message);
    bson_destroy(doc);
}

/* The first document a filter finds (caller destroys), or NULL. */
static bson_t *find_one(mongoc_collection_t *c, bson_t *filter, bson_t *opts)
{
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, opts, NULL);
    const bson_t *doc;
    bson_t *out = NULL;
    if (mongoc_cursor_next(cur, &doc))
        out = bson_copy(doc);
    bson_error_t error;
    cr_assert(!mongoc_cursor_error(cur, &error), "find: %s", error.message);
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    if (opts)
        bson_destroy(opts);
    return out;
}

/* Collects a string field of every document a cursor returns, comma-separated. */
static void collect_field(mongoc_cursor_t *cur, const char *field, char *buf, size_t size)
{
    const bson_t *doc;
    bson_iter_t it;
    buf[0] = '\0';
    while (mongoc_cursor_next(cur, &doc)) {
        if (bson_iter_init_find(&it, doc, field) && BSON_ITER_HOLDS_UTF8(&it)) {
            if (buf[0])
                strncat(buf, ",", size - strlen(buf) - 1);
            strncat(buf, bson_iter_utf8(&it, NULL), size - strlen(buf) - 1);
        }
    }
    bson_error_t error;
    cr_assert(!mongoc_cursor_error(cur, &error), "cursor: %s", error.message);
    mongoc_cursor_destroy(cur);
}

static int64_t count_cursor(mongoc_cursor_t *cur)
{
    const bson_t *doc;
    int64_t n = 0;
    while (mongoc_cursor_next(cur, &doc))
        n++;
    bson_error_t error;
    cr_assert(!mongoc_cursor_error(cur, &error), "cursor: %s", error.message);
    mongoc_cursor_destroy(cur);
    return n;
}

static void insert_places(mongoc_collection_t *c)
{
    /* Around Berlin (13.405 E, 52.52 N): ~111 m, ~1.1 km and ~11 km north of the centre,
     * inserted farthest first so that only the distance sort can order them. */
    insert(c, BCON_NEW("_id", BCON_UTF8("far"), "kind", BCON_UTF8("shop"), "loc", "{", "type",
                       BCON_UTF8("Point"), "coordinates", "[", BCON_DOUBLE(13.405), BCON_DOUBLE(52.62),
                       "]", "}"));
    insert(c, BCON_NEW("_id", BCON_UTF8("mid"), "kind", BCON_UTF8("shop"), "loc", "{", "type",
                       BCON_UTF8("Point"), "coordinates", "[", BCON_DOUBLE(13.405), BCON_DOUBLE(52.53),
                       "]", "}"));
    insert(c, BCON_NEW("_id", BCON_UTF8("cafe"), "kind", BCON_UTF8("cafe"), "loc", "{", "type",
                       BCON_UTF8("Point"), "coordinates", "[", BCON_DOUBLE(13.405), BCON_DOUBLE(52.5205),
                       "]", "}"));
    insert(c, BCON_NEW("_id", BCON_UTF8("near"), "kind", BCON_UTF8("shop"), "loc", "{", "type",
                       BCON_UTF8("Point"), "coordinates", "[", BCON_DOUBLE(13.405), BCON_DOUBLE(52.521),
                       "]", "}"));
    create_index("places", BCON_NEW("loc", BCON_UTF8("2dsphere")), "loc_2dsphere", false);
}

/* Manual, "ping": the ping command returns {ok: 1} from a reachable server. */
Test(mongo, ping)
{
    bson_t reply;
    bson_error_t error;
    bool ok = command(BCON_NEW("ping", BCON_INT32(1)), &reply, &error);
    cr_assert(ok, "ping: %s", error.message);
    bson_destroy(&reply);
}

/* Manual, "BSON Types": int32, int64 and double are distinct types stored and returned as
 * written; numbers of different types compare equal by value in queries. */
Test(mongo, typed_numbers_round_trip)
{
    mongoc_collection_t *c = coll("typed");
    insert(c, BCON_NEW("_id", BCON_UTF8("t1"), "i32", BCON_INT32(7), "i64", BCON_INT64(1099511627776LL),
                       "small64", BCON_INT64(5), "dbl", BCON_DOUBLE(120.0)));
    bson_t *doc = find_one(c, BCON_NEW("_id", BCON_UTF8("t1")), NULL);
    cr_assert(doc, "document not found by _id");
    bson_iter_t it;
    cr_assert(bson_iter_init_find(&it, doc, "i32") && BSON_ITER_HOLDS_INT32(&it));
    cr_assert_eq(bson_iter_int32(&it), 7);
    cr_assert(bson_iter_init_find(&it, doc, "i64") && BSON_ITER_HOLDS_INT64(&it));
    cr_assert_eq(bson_iter_int64(&it), 1099511627776LL);
    cr_assert(bson_iter_init_find(&it, doc, "small64") && BSON_ITER_HOLDS_INT64(&it), "int64 5 must stay int64");
    cr_assert(bson_iter_init_find(&it, doc, "dbl") && BSON_ITER_HOLDS_DOUBLE(&it), "120.0 must stay a double");
    cr_assert_float_eq(bson_iter_double(&it), 120.0, 1e-9);
    bson_destroy(doc);

    /* Query by value across numeric types: {small64: 5 (int32)} matches the int64 5. */
    doc = find_one(c, BCON_NEW("small64", BCON_INT32(5), "dbl", BCON_INT32(120)), NULL);
    cr_assert(doc, "numeric equality across types failed");
    bson_destroy(doc);

    /* Manual, "$inc": incrementing an int64 by an int32 keeps an int64. */
    bson_error_t error;
    bson_t *sel = BCON_NEW("_id", BCON_UTF8("t1"));
    bson_t *upd = BCON_NEW("$inc", "{", "i64", BCON_INT32(1), "i32", BCON_INT32(1), "}");
    cr_assert(mongoc_collection_update_one(c, sel, upd, NULL, NULL, &error), "%s", error.message);
    bson_destroy(sel);
    bson_destroy(upd);
    doc = find_one(c, BCON_NEW("_id", BCON_UTF8("t1")), NULL);
    cr_assert(bson_iter_init_find(&it, doc, "i64") && BSON_ITER_HOLDS_INT64(&it));
    cr_assert_eq(bson_iter_int64(&it), 1099511627777LL);
    cr_assert(bson_iter_init_find(&it, doc, "i32") && BSON_ITER_HOLDS_INT32(&it));
    bson_destroy(doc);
    mongoc_collection_destroy(c);
}

/* Manual, "Unique Indexes": inserting a duplicate value for a unique index (and for _id,
 * which is always unique) fails with a duplicate key error, code 11000. */
Test(mongo, unique_index_violation)
{
    mongoc_collection_t *c = coll("users");
    create_index("users", BCON_NEW("email", BCON_INT32(1)), "email_1", true);
    insert(c, BCON_NEW("_id", BCON_INT32(1), "email", BCON_UTF8("a@example.org")));
    bson_error_t error;
    bson_t *dup = BCON_NEW("_id", BCON_INT32(2), "email", BCON_UTF8("a@example.org"));
    cr_assert_not(mongoc_collection_insert_one(c, dup, NULL, NULL, &error));
    cr_assert_eq(error.code, 11000, "code %u: %s", error.code, error.message);
    cr_assert(strstr(error.message, "E11000 duplicate key error"), "%s", error.message);
    bson_destroy(dup);
    dup = BCON_NEW("_id", BCON_INT32(1), "email", BCON_UTF8("b@example.org"));
    cr_assert_not(mongoc_collection_insert_one(c, dup, NULL, NULL, &error));
    cr_assert_eq(error.code, 11000, "duplicate _id: code %u: %s", error.code, error.message);
    bson_destroy(dup);
    mongoc_collection_destroy(c);
}

/* Manual, "update: upsert": with upsert:true and no match, an update inserts a document built
 * from the filter's equality fields plus the update, and reports upserted [{index, _id}]. */
Test(mongo, update_upsert)
{
    mongoc_collection_t *c = coll("profiles");
    bson_t *sel = BCON_NEW("_id", BCON_UTF8("seller-1"));
    bson_t *upd = BCON_NEW("$set", "{", "name", BCON_UTF8("Ada"), "}", "$setOnInsert", "{", "listings",
                           BCON_INT64(0), "}");
    bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
    bson_t reply;
    bson_error_t error;
    cr_assert(mongoc_collection_update_one(c, sel, upd, opts, &reply, &error), "%s", error.message);
    bson_iter_t it;
    cr_assert(bson_iter_init_find(&it, &reply, "upsertedId") && BSON_ITER_HOLDS_UTF8(&it),
              "reply lacks upsertedId");
    cr_assert_str_eq(bson_iter_utf8(&it, NULL), "seller-1");
    cr_assert(bson_iter_init_find(&it, &reply, "matchedCount"));
    cr_assert_eq(bson_iter_as_int64(&it), 0);
    bson_destroy(&reply);

    /* Second time the document exists: matched, $setOnInsert not applied again. */
    cr_assert(mongoc_collection_update_one(c, sel, upd, opts, &reply, &error), "%s", error.message);
    cr_assert(bson_iter_init_find(&it, &reply, "matchedCount"));
    cr_assert_eq(bson_iter_as_int64(&it), 1);
    cr_assert_not(bson_iter_init_find(&it, &reply, "upsertedId"));
    bson_destroy(&reply);
    bson_destroy(sel);
    bson_destroy(upd);
    bson_destroy(opts);
    mongoc_collection_destroy(c);
}

/* Manual, "db.collection.updateMany()" with "$set" on an embedded field (dot notation) and
 * "$max": every matching document changes, others do not; $max raises a field only when
 * the new value is greater. The projector propagates a seller's rename to all listings
 * this way and raises their seq. */
Test(mongo, update_many_dotted_set_and_max)
{
    mongoc_collection_t *c = coll("embedded");
    insert(c, BCON_NEW("_id", BCON_UTF8("l1"), "seller_id", BCON_UTF8("s1"), "seller", "{", "display_name",
                       BCON_UTF8("Old"), "rating", "{", "count", BCON_INT32(0), "}", "}", "seq", BCON_INT64(5)));
    insert(c, BCON_NEW("_id", BCON_UTF8("l2"), "seller_id", BCON_UTF8("s1"), "seller", "{", "display_name",
                       BCON_UTF8("Old"), "}", "seq", BCON_INT64(50)));
    insert(c, BCON_NEW("_id", BCON_UTF8("l3"), "seller_id", BCON_UTF8("s2"), "seller", "{", "display_name",
                       BCON_UTF8("Other"), "}", "seq", BCON_INT64(1)));
    bson_t *filter = BCON_NEW("seller_id", BCON_UTF8("s1"));
    bson_t *update = BCON_NEW("$set", "{", "seller.display_name", BCON_UTF8("New"), "}", "$max", "{", "seq",
                              BCON_INT64(20), "}");
    bson_t reply;
    bson_error_t error;
    cr_assert(mongoc_collection_update_many(c, filter, update, NULL, &reply, &error), "%s", error.message);
    bson_iter_t it;
    cr_assert(bson_iter_init_find(&it, &reply, "matchedCount"));
    cr_assert_eq(bson_iter_as_int64(&it), 2);
    bson_destroy(&reply);
    const char *ids[] = {"l1", "l2", "l3"};
    const char *names[] = {"New", "New", "Other"};
    int64_t seqs[] = {20, 50, 1};
    for (int i = 0; i < 3; i++) {
        bson_t *q = BCON_NEW("_id", BCON_UTF8(ids[i]));
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, q, NULL, NULL);
        const bson_t *doc;
        cr_assert(mongoc_cursor_next(cur, &doc));
        cr_assert(bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "seller.display_name", &it));
        cr_assert_str_eq(bson_iter_utf8(&it, NULL), names[i], "%s", ids[i]);
        cr_assert(bson_iter_init_find(&it, doc, "seq"));
        cr_assert_eq(bson_iter_as_int64(&it), seqs[i], "%s", ids[i]);
        if (i == 0) {
            cr_assert(bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "seller.rating.count", &it),
                      "the rest of the embedded document is kept");
        }
        mongoc_cursor_destroy(cur);
        bson_destroy(q);
    }
    bson_destroy(filter);
    bson_destroy(update);
    mongoc_collection_destroy(c);
}

/* Manual, "upsert with a duplicate _id": when the filter {_id: X, version: {$lt: V}} matches
 * nothing because the stored version is newer, the upsert tries to insert _id X and fails
 * with E11000 (code 11000). The projector relies on this to skip stale events. */
Test(mongo, versioned_upsert_conflict)
{
    mongoc_collection_t *c = coll("listings");
    insert(c, BCON_NEW("_id", BCON_UTF8("L1"), "version", BCON_INT64(5), "title", BCON_UTF8("new")));
    bson_t *sel = BCON_NEW("_id", BCON_UTF8("L1"), "version", "{", "$lt", BCON_INT64(3), "}");
    bson_t *upd = BCON_NEW("$set", "{", "version", BCON_INT64(3), "title", BCON_UTF8("old"), "}");
    bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
    bson_error_t error;
    cr_assert_not(mongoc_collection_update_one(c, sel, upd, opts, NULL, &error), "stale event applied");
    cr_assert_eq(error.code, 11000, "code %u: %s", error.code, error.message);
    bson_destroy(sel);
    bson_destroy(upd);

    /* A newer version matches and replaces the fields. */
    sel = BCON_NEW("_id", BCON_UTF8("L1"), "version", "{", "$lt", BCON_INT64(7), "}");
    upd = BCON_NEW("$set", "{", "version", BCON_INT64(7), "title", BCON_UTF8("newer"), "}");
    bson_t reply;
    cr_assert(mongoc_collection_update_one(c, sel, upd, opts, &reply, &error), "%s", error.message);
    bson_iter_t it;
    cr_assert(bson_iter_init_find(&it, &reply, "modifiedCount"));
    cr_assert_eq(bson_iter_as_int64(&it), 1);
    bson_destroy(&reply);
    bson_t *doc = find_one(c, BCON_NEW("_id", BCON_UTF8("L1")), NULL);
    cr_assert(bson_iter_init_find(&it, doc, "version") && BSON_ITER_HOLDS_INT64(&it));
    cr_assert_eq(bson_iter_int64(&it), 7);
    bson_destroy(doc);
    bson_destroy(sel);
    bson_destroy(upd);
    bson_destroy(opts);
    mongoc_collection_destroy(c);
}

/* Manual, "findAndModify": with upsert:true and new:true it inserts the document and returns
 * it in "value"; lastErrorObject reports updatedExisting:false and the upserted _id.
 * A unique index violation is a command error with code 11000. */
Test(mongo, find_and_modify_upsert)
{
    mongoc_collection_t *c = coll("counters");
    bson_t *query = BCON_NEW("_id", BCON_UTF8("orders"));
    bson_t *update = BCON_NEW("$inc", "{", "seq", BCON_INT64(1), "}");
    mongoc_find_and_modify_opts_t *opts = mongoc_find_and_modify_opts_new();
    mongoc_find_and_modify_opts_set_update(opts, update);
    mongoc_find_and_modify_opts_set_flags(opts, MONGOC_FIND_AND_MODIFY_UPSERT | MONGOC_FIND_AND_MODIFY_RETURN_NEW);
    bson_t reply;
    bson_error_t error;
    cr_assert(mongoc_collection_find_and_modify_with_opts(c, query, opts, &reply, &error), "%s", error.message);
    bson_iter_t it;
    bson_iter_t sub;
    cr_assert(bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "lastErrorObject.updatedExisting", &sub));
    cr_assert_not(bson_iter_as_bool(&sub));
    cr_assert(bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "lastErrorObject.upserted", &sub));
    cr_assert_str_eq(bson_iter_utf8(&sub, NULL), "orders");
    cr_assert(bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "value.seq", &sub));
    cr_assert(BSON_ITER_HOLDS_INT64(&sub));
    cr_assert_eq(bson_iter_int64(&sub), 1);
    bson_destroy(&reply);

    /* Again: the existing document is updated and the new value returned. */
    cr_assert(mongoc_collection_find_and_modify_with_opts(c, query, opts, &reply, &error), "%s", error.message);
    cr_assert(bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "value.seq", &sub));
    cr_assert_eq(bson_iter_int64(&sub), 2);
    cr_assert(bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "lastErrorObject.updatedExisting", &sub));
    cr_assert(bson_iter_as_bool(&sub));
    bson_destroy(&reply);
    mongoc_find_and_modify_opts_destroy(opts);
    bson_destroy(query);
    bson_destroy(update);

    /* Upsert colliding with a unique index: code 11000. */
    create_index("counters", BCON_NEW("name", BCON_INT32(1)), "name_1", true);
    insert(c, BCON_NEW("_id", BCON_UTF8("a"), "name", BCON_UTF8("taken")));
    query = BCON_NEW("_id", BCON_UTF8("b"));
    update = BCON_NEW("$set", "{", "name", BCON_UTF8("taken"), "}");
    opts = mongoc_find_and_modify_opts_new();
    mongoc_find_and_modify_opts_set_update(opts, update);
    mongoc_find_and_modify_opts_set_flags(opts, MONGOC_FIND_AND_MODIFY_UPSERT);
    cr_assert_not(mongoc_collection_find_and_modify_with_opts(c, query, opts, &reply, &error));
    cr_assert_eq(error.code, 11000, "code %u: %s", error.code, error.message);
    bson_destroy(&reply);
    mongoc_find_and_modify_opts_destroy(opts);
    bson_destroy(query);
    bson_destroy(update);
    mongoc_collection_destroy(c);
}

/* Manual, "delete": limit 1 removes at most one matching document, limit 0 all of them;
 * deletedCount reports how many. */
Test(mongo, delete_one_and_many)
{
    mongoc_collection_t *c = coll("sessions");
    for (int i = 0; i < 5; i++)
        insert(c, BCON_NEW("_id", BCON_INT32(i), "user", BCON_UTF8(i < 3 ? "u1" : "u2")));
    bson_t *sel = BCON_NEW("user", BCON_UTF8("u1"));
    bson_t reply;
    bson_error_t error;
    bson_iter_t it;
    cr_assert(mongoc_collection_delete_one(c, sel, NULL, &reply, &error), "%s", error.message);
    cr_assert(bson_iter_init_find(&it, &reply, "deletedCount"));
    cr_assert_eq(bson_iter_as_int64(&it), 1);
    bson_destroy(&reply);
    cr_assert(mongoc_collection_delete_many(c, sel, NULL, &reply, &error), "%s", error.message);
    cr_assert(bson_iter_init_find(&it, &reply, "deletedCount"));
    cr_assert_eq(bson_iter_as_int64(&it), 2);
    bson_destroy(&reply);
    bson_destroy(sel);
    bson_t empty = BSON_INITIALIZER;
    int64_t n = mongoc_collection_count_documents(c, &empty, NULL, NULL, NULL, &error);
    cr_assert_eq(n, 2, "count %lld: %s", (long long)n, error.message);
    mongoc_collection_destroy(c);
}

/* Manual, "db.collection.countDocuments()": counts the documents matching a filter, with
 * skip and limit applied. */
Test(mongo, count_documents)
{
    mongoc_collection_t *c = coll("items");
    for (int i = 0; i < 30; i++)
        insert(c, BCON_NEW("_id", BCON_INT32(i), "state", BCON_UTF8(i % 3 ? "active" : "sold")));
    bson_t *filter = BCON_NEW("state", BCON_UTF8("active"));
    bson_error_t error;
    int64_t n = mongoc_collection_count_documents(c, filter, NULL, NULL, NULL, &error);
    cr_assert_eq(n, 20, "count %lld: %s", (long long)n, error.message);
    bson_t *opts = BCON_NEW("skip", BCON_INT64(5), "limit", BCON_INT64(10));
    n = mongoc_collection_count_documents(c, filter, opts, NULL, NULL, &error);
    cr_assert_eq(n, 10, "count with skip/limit %lld: %s", (long long)n, error.message);
    bson_destroy(opts);
    bson_destroy(filter);
    mongoc_collection_destroy(c);
}

/* Manual, "$group" / "$sum": documents pass $match, $sort, $limit in order; $sum of int64
 * values is an int64 and {$sum: 1} counts the group's documents. */
Test(mongo, aggregate_match_sort_limit_group)
{
    mongoc_collection_t *c = coll("sales");
    const char *cats[] = {"a", "b", "a", "b", "a", "c"};
    const int64_t amounts[] = {100, 200, 300, 400, 500, 10};
    for (int i = 0; i < 6; i++)
        insert(c, BCON_NEW("_id", BCON_INT32(i), "cat", BCON_UTF8(cats[i]), "amount", BCON_INT64(amounts[i])));
    /* amount >= 50, the 4 largest: 500(a) 400(b) 300(a) 200(b) -> a: 800 (2), b: 600 (2). */
    bson_t *pipeline = BCON_NEW("pipeline", "[",
                                "{", "$match", "{", "amount", "{", "$gte", BCON_INT64(50), "}", "}", "}",
                                "{", "$sort", "{", "amount", BCON_INT32(-1), "}", "}",
                                "{", "$limit", BCON_INT32(4), "}",
                                "{", "$group", "{", "_id", BCON_UTF8("$cat"), "total", "{", "$sum",
                                BCON_UTF8("$amount"), "}", "n", "{", "$sum", BCON_INT32(1), "}", "}", "}",
                                "{", "$sort", "{", "_id", BCON_INT32(1), "}", "}",
                                "]");
    mongoc_cursor_t *cur = mongoc_collection_aggregate(c, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
    const bson_t *doc;
    const char *want_id[] = {"a", "b"};
    const int64_t want_total[] = {800, 600};
    int i = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        cr_assert_lt(i, 2, "too many groups");
        bson_iter_t it;
        cr_assert(bson_iter_init_find(&it, doc, "_id"));
        cr_assert_str_eq(bson_iter_utf8(&it, NULL), want_id[i]);
        cr_assert(bson_iter_init_find(&it, doc, "total") && BSON_ITER_HOLDS_INT64(&it), "$sum of int64 must be int64");
        cr_assert_eq(bson_iter_int64(&it), want_total[i]);
        cr_assert(bson_iter_init_find(&it, doc, "n"));
        cr_assert_eq(bson_iter_as_int64(&it), 2);
        i++;
    }
    bson_error_t error;
    cr_assert_not(mongoc_cursor_error(cur, &error), "%s", error.message);
    cr_assert_eq(i, 2);
    mongoc_cursor_destroy(cur);
    bson_destroy(pipeline);
    mongoc_collection_destroy(c);
}

/* Manual, "$or", "Sort with a compound key" and "$group" / "$sum": the keyset page of a
 * seller's reviews (projector/review.c, query/reviews.c). {$or: [{k: {$lt: K}}, {k: K,
 * _id: {$lt: I}}]} with sort {k: -1, _id: -1} returns exactly the documents after (K, I)
 * in that order, ties on k broken by _id; {$sum: "$rating"} over int32 values is a number
 * (int32, or int64 if it would overflow) and {$sum: 1} counts. */
Test(mongo, keyset_page_with_or_and_compound_sort)
{
    mongoc_collection_t *c = coll("reviews");
    /* k: 30, 20, 20, 20, 10 — three ties at 20. */
    const char *ids[] = {"a", "b", "c", "d", "e"};
    const int64_t ks[] = {30, 20, 20, 20, 10};
    const int32_t ratings[] = {5, 4, 3, 5, 4};
    for (int i = 0; i < 5; i++)
        insert(c, BCON_NEW("_id", BCON_UTF8(ids[i]), "seller_id", BCON_UTF8("s1"), "k", BCON_INT64(ks[i]), "rating",
                           BCON_INT32(ratings[i])));
    insert(c, BCON_NEW("_id", BCON_UTF8("z"), "seller_id", BCON_UTF8("s2"), "k", BCON_INT64(25), "rating",
                       BCON_INT32(1)));
    /* Page 1 of 2, then the page after (20, "d"), then after (20, "c"). */
    char buf[64];
    bson_t *opts = BCON_NEW("sort", "{", "k", BCON_INT32(-1), "_id", BCON_INT32(-1), "}", "limit", BCON_INT64(2));
    bson_t *filter = BCON_NEW("seller_id", BCON_UTF8("s1"));
    collect_field(mongoc_collection_find_with_opts(c, filter, opts, NULL), "_id", buf, sizeof buf);
    cr_assert_str_eq(buf, "a,d");
    bson_destroy(filter);
    filter = BCON_NEW("seller_id", BCON_UTF8("s1"), "$or", "[", "{", "k", "{", "$lt", BCON_INT64(20), "}", "}", "{",
                      "k", BCON_INT64(20), "_id", "{", "$lt", BCON_UTF8("d"), "}", "}", "]");
    collect_field(mongoc_collection_find_with_opts(c, filter, opts, NULL), "_id", buf, sizeof buf);
    cr_assert_str_eq(buf, "c,b");
    bson_destroy(filter);
    filter = BCON_NEW("seller_id", BCON_UTF8("s1"), "$or", "[", "{", "k", "{", "$lt", BCON_INT64(20), "}", "}", "{",
                      "k", BCON_INT64(20), "_id", "{", "$lt", BCON_UTF8("b"), "}", "}", "]");
    collect_field(mongoc_collection_find_with_opts(c, filter, opts, NULL), "_id", buf, sizeof buf);
    cr_assert_str_eq(buf, "e");
    bson_destroy(filter);
    bson_destroy(opts);

    bson_t *pipeline = BCON_NEW("pipeline", "[", "{", "$match", "{", "seller_id", BCON_UTF8("s1"), "}", "}", "{",
                                "$group", "{", "_id", BCON_UTF8("$seller_id"), "n", "{", "$sum", BCON_INT32(1), "}",
                                "total", "{", "$sum", BCON_UTF8("$rating"), "}", "}", "}", "]");
    mongoc_cursor_t *cur = mongoc_collection_aggregate(c, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
    const bson_t *doc;
    cr_assert(mongoc_cursor_next(cur, &doc), "one group");
    bson_iter_t it;
    cr_assert(bson_iter_init_find(&it, doc, "n") && BSON_ITER_HOLDS_NUMBER(&it));
    cr_assert_eq(bson_iter_as_int64(&it), 5);
    cr_assert(bson_iter_init_find(&it, doc, "total") && BSON_ITER_HOLDS_NUMBER(&it));
    cr_assert_eq(bson_iter_as_int64(&it), 21);
    cr_assert_not(mongoc_cursor_next(cur, &doc), "only one group");
    bson_error_t error;
    cr_assert_not(mongoc_cursor_error(cur, &error), "%s", error.message);
    mongoc_cursor_destroy(cur);
    bson_destroy(pipeline);
    mongoc_collection_destroy(c);
}

/* Manual, "Cursor Batches": find returns 101 documents in the first batch by default, and
 * batchSize sets the batch size; the driver fetches the rest with getMore. */
Test(mongo, get_more_over_many_batches)
{
    mongoc_collection_t *c = coll("many");
    bson_t *docs[250];
    for (int i = 0; i < 250; i++)
        docs[i] = BCON_NEW("_id", BCON_INT32(i), "v", BCON_INT32(i * 2));
    bson_error_t error;
    cr_assert(mongoc_collection_insert_many(c, (const bson_t **)docs, 250, NULL, NULL, &error), "%s", error.message);
    for (int i = 0; i < 250; i++)
        bson_destroy(docs[i]);

    bson_t empty = BSON_INITIALIZER;
    cr_assert_eq(count_cursor(mongoc_collection_find_with_opts(c, &empty, NULL, NULL)), 250);
    bson_t *opts = BCON_NEW("batchSize", BCON_INT32(40), "sort", "{", "_id", BCON_INT32(1), "}");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &empty, opts, NULL);
    const bson_t *doc;
    int expect = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        cr_assert(bson_iter_init_find(&it, doc, "_id"));
        cr_assert_eq(bson_iter_int32(&it), expect, "order broken at %d", expect);
        expect++;
    }
    cr_assert_not(mongoc_cursor_error(cur, &error), "%s", error.message);
    cr_assert_eq(expect, 250);
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    mongoc_collection_destroy(c);
}

/* Manual, "killCursors": destroying an unfinished cursor kills it on the server; a later
 * getMore on its id fails with CursorNotFound (code 43). */
Test(mongo, kill_cursors)
{
    mongoc_collection_t *c = coll("killme");
    for (int i = 0; i < 30; i++)
        insert(c, BCON_NEW("_id", BCON_INT32(i)));
    bson_t empty = BSON_INITIALIZER;
    bson_t *opts = BCON_NEW("batchSize", BCON_INT32(5));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &empty, opts, NULL);
    const bson_t *doc;
    cr_assert(mongoc_cursor_next(cur, &doc));
    int64_t id = mongoc_cursor_get_id(cur);
    cr_assert_neq(id, 0, "cursor should still be open");
    mongoc_cursor_destroy(cur); /* sends killCursors */
    bson_destroy(opts);

    bson_t reply;
    bson_error_t error;
    bool ok = command(BCON_NEW("getMore", BCON_INT64(id), "collection", BCON_UTF8("killme")), &reply, &error);
    cr_assert_not(ok, "cursor survived mongoc_cursor_destroy");
    cr_assert_eq(error.code, 43, "code %u: %s", error.code, error.message);
    bson_destroy(&reply);
    mongoc_collection_destroy(c);
}

/* Manual, "createIndexes" / "listIndexes": text and 2dsphere index kinds can be created,
 * and listIndexes returns every index including the default _id_ index. */
Test(mongo, create_and_list_indexes)
{
    mongoc_collection_t *c = coll("ix");
    insert(c, BCON_NEW("_id", BCON_INT32(1), "title", BCON_UTF8("x")));
    create_index("ix", BCON_NEW("title", BCON_UTF8("text"), "body", BCON_UTF8("text")), "text_idx", false);
    create_index("ix", BCON_NEW("loc", BCON_UTF8("2dsphere")), "loc_2dsphere", false);
    /* Creating the same index again is a no-op that succeeds. */
    create_index("ix", BCON_NEW("loc", BCON_UTF8("2dsphere")), "loc_2dsphere", false);
    char names[256];
    collect_field(mongoc_collection_find_indexes_with_opts(c, NULL), "name", names, sizeof names);
    cr_assert_str_eq(names, "_id_,text_idx,loc_2dsphere");
    mongoc_collection_destroy(c);
}

/* Manual, "listCollections": returns one document per collection with name and type
 * "collection"; a filter on name narrows the list. */
Test(mongo, list_collections)
{
    mongoc_collection_t *a = coll("alpha");
    mongoc_collection_t *b = coll("beta");
    insert(a, BCON_NEW("x", BCON_INT32(1)));
    insert(b, BCON_NEW("x", BCON_INT32(1)));
    bson_error_t error;
    char **names = mongoc_database_get_collection_names_with_opts(db, NULL, &error);
    cr_assert(names, "%s", error.message);
    int found = 0;
    for (char **n = names; *n; n++)
        found += !strcmp(*n, "alpha") + !strcmp(*n, "beta");
    bson_strfreev(names);
    cr_assert_eq(found, 2);

    bson_t *opts = BCON_NEW("filter", "{", "name", BCON_UTF8("beta"), "}");
    mongoc_cursor_t *cur = mongoc_database_find_collections_with_opts(db, opts);
    char types[64];
    collect_field(cur, "type", types, sizeof types);
    cr_assert_str_eq(types, "collection");
    bson_destroy(opts);
    mongoc_collection_destroy(a);
    mongoc_collection_destroy(b);
}

/* The server's major version, from buildInfo's versionArray. */
static int server_major_version(void)
{
    bson_t reply;
    bson_error_t error;
    bool ok = command(BCON_NEW("buildInfo", BCON_INT32(1)), &reply, &error);
    cr_assert(ok, "buildInfo: %s", error.message);
    bson_iter_t it;
    bson_iter_t sub;
    cr_assert(bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "versionArray.0", &sub));
    int major = (int)bson_iter_as_int64(&sub);
    bson_destroy(&reply);
    return major;
}

/* Manual, "drop": in MongoDB 6.0 dropping a collection that does not exist fails with
 * NamespaceNotFound, code 26 ("ns not found"); from 7.0 on it succeeds. */
Test(mongo, drop_missing_collection)
{
    mongoc_collection_t *c = coll("never_created");
    bson_error_t error;
    bool dropped = mongoc_collection_drop_with_opts(c, NULL, &error);
    if (server_major_version() < 7) {
        cr_assert_not(dropped, "dropping a missing collection succeeded");
        cr_assert_eq(error.code, 26, "code %u: %s", error.code, error.message);
    } else {
        cr_assert(dropped, "%s", error.message);
    }
    mongoc_collection_destroy(c);

    /* An existing collection drops fine. */
    c = coll("dropme");
    insert(c, BCON_NEW("x", BCON_INT32(1)));
    cr_assert(mongoc_collection_drop_with_opts(c, NULL, &error), "%s", error.message);
    mongoc_collection_destroy(c);
}

/* Manual, "$text" / "$meta": $text matches documents containing any search term in the
 * text-indexed fields (weights scale a field's contribution); {$meta: "textScore"} projects
 * the score and sorts by it, highest first. */
Test(mongo, text_search_with_score)
{
    mongoc_collection_t *c = coll("ads");
    insert(c, BCON_NEW("_id", BCON_UTF8("body-only"), "title", BCON_UTF8("City cruiser"), "body",
                       BCON_UTF8("A comfortable bike for town")));
    insert(c, BCON_NEW("_id", BCON_UTF8("no-match"), "title", BCON_UTF8("Oak table"), "body",
                       BCON_UTF8("Solid wood")));
    insert(c, BCON_NEW("_id", BCON_UTF8("title"), "title", BCON_UTF8("Red bike"), "body",
                       BCON_UTF8("Barely used")));
    bson_t *cmd = BCON_NEW("createIndexes", BCON_UTF8("ads"), "indexes", "[", "{", "key", "{", "title",
                           BCON_UTF8("text"), "body", BCON_UTF8("text"), "}", "name", BCON_UTF8("ads_text"),
                           "weights", "{", "title", BCON_INT32(10), "body", BCON_INT32(1), "}", "}", "]");
    bson_t reply;
    bson_error_t error;
    cr_assert(command(cmd, &reply, &error), "%s", error.message);
    bson_destroy(&reply);

    bson_t *filter = BCON_NEW("$text", "{", "$search", BCON_UTF8("bike"), "}");
    bson_t *opts = BCON_NEW("projection", "{", "score", "{", "$meta", BCON_UTF8("textScore"), "}", "}",
                            "sort", "{", "score", "{", "$meta", BCON_UTF8("textScore"), "}", "}");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, opts, NULL);
    const bson_t *doc;
    const char *want[] = {"title", "body-only"};
    double last = INFINITY;
    int i = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        cr_assert_lt(i, 2, "non-matching document returned");
        bson_iter_t it;
        cr_assert(bson_iter_init_find(&it, doc, "_id"));
        cr_assert_str_eq(bson_iter_utf8(&it, NULL), want[i]);
        cr_assert(bson_iter_init_find(&it, doc, "score") && BSON_ITER_HOLDS_DOUBLE(&it));
        double score = bson_iter_double(&it);
        cr_assert(score > 0 && score <= last, "scores not descending");
        last = score;
        i++;
    }
    cr_assert_not(mongoc_cursor_error(cur, &error), "%s", error.message);
    cr_assert_eq(i, 2);
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    bson_destroy(opts);
    mongoc_collection_destroy(c);
}

/* Manual, "$near": with a GeoJSON point and a 2dsphere index, $near returns documents
 * sorted nearest first and $maxDistance (meters) excludes farther ones. */
Test(mongo, near_with_max_distance)
{
    mongoc_collection_t *c = coll("places");
    insert_places(c);
    bson_t *filter = BCON_NEW("loc", "{", "$near", "{", "$geometry", "{", "type", BCON_UTF8("Point"),
                              "coordinates", "[", BCON_DOUBLE(13.405), BCON_DOUBLE(52.52), "]", "}",
                              "$maxDistance", BCON_DOUBLE(5000), "}", "}",
                              "kind", BCON_UTF8("shop"));
    char ids[128];
    collect_field(mongoc_collection_find_with_opts(c, filter, NULL, NULL), "_id", ids, sizeof ids);
    cr_assert_str_eq(ids, "near,mid");
    bson_destroy(filter);
    mongoc_collection_destroy(c);
}

/* Manual, "$geoWithin" / "$centerSphere": selects points within a spherical circle whose
 * radius is given in radians (distance / earth radius 6378.1 km). */
Test(mongo, geo_within_center_sphere)
{
    mongoc_collection_t *c = coll("places");
    insert_places(c);
    bson_t *filter = BCON_NEW("loc", "{", "$geoWithin", "{", "$centerSphere", "[", "[", BCON_DOUBLE(13.405),
                              BCON_DOUBLE(52.52), "]", BCON_DOUBLE(5.0 / 6378.1), "]", "}", "}");
    bson_error_t error;
    int64_t n = mongoc_collection_count_documents(c, filter, NULL, NULL, NULL, &error);
    cr_assert_eq(n, 3, "count %lld: %s", (long long)n, error.message);
    bson_destroy(filter);
    mongoc_collection_destroy(c);
}

/* Manual, "$geoNear": as the first stage it returns documents nearest first, adds the
 * distance in meters (for a GeoJSON near point) in distanceField, and applies query and
 * maxDistance. */
Test(mongo, geo_near_aggregate_stage)
{
    mongoc_collection_t *c = coll("places");
    insert_places(c);
    bson_t *pipeline = BCON_NEW("pipeline", "[", "{", "$geoNear", "{",
                                "near", "{", "type", BCON_UTF8("Point"), "coordinates", "[", BCON_DOUBLE(13.405),
                                BCON_DOUBLE(52.52), "]", "}",
                                "distanceField", BCON_UTF8("dist"), "spherical", BCON_BOOL(true),
                                "maxDistance", BCON_DOUBLE(5000), "query", "{", "kind", BCON_UTF8("shop"), "}",
                                "key", BCON_UTF8("loc"), "}", "}",
                                "{", "$project", "{", "dist", BCON_INT32(1), "}", "}", "]");
    mongoc_cursor_t *cur = mongoc_collection_aggregate(c, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
    const bson_t *doc;
    const char *want[] = {"near", "mid"};
    const double want_m[] = {111.3, 1113.2};
    int i = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        cr_assert_lt(i, 2, "too many results");
        bson_iter_t it;
        cr_assert(bson_iter_init_find(&it, doc, "_id"));
        cr_assert_str_eq(bson_iter_utf8(&it, NULL), want[i]);
        cr_assert(bson_iter_init_find(&it, doc, "dist") && BSON_ITER_HOLDS_DOUBLE(&it));
        double d = bson_iter_double(&it);
        cr_assert(fabs(d - want_m[i]) < want_m[i] * 0.01, "distance %f, expected about %f", d, want_m[i]);
        i++;
    }
    bson_error_t error;
    cr_assert_not(mongoc_cursor_error(cur, &error), "%s", error.message);
    cr_assert_eq(i, 2);
    mongoc_cursor_destroy(cur);
    bson_destroy(pipeline);
    mongoc_collection_destroy(c);
}

/* Manual, "Database Commands": an unknown command fails with CommandNotFound, code 59. */
Test(mongo, unknown_command)
{
    bson_t reply;
    bson_error_t error;
    cr_assert_not(command(BCON_NEW("frobnicate", BCON_INT32(1)), &reply, &error));
    cr_assert_eq(error.code, 59, "code %u: %s", error.code, error.message);
    bson_destroy(&reply);
}

/* Manual, "Transactions": multi-document transactions need a replica set or sharded
 * cluster; a standalone refuses them (code 20, IllegalOperation), or the driver does. */
Test(mongo, transactions_refused_on_standalone)
{
    bson_error_t error;
    mongoc_client_session_t *session = mongoc_client_start_session(client, NULL, &error);
    cr_assert(session, "%s", error.message);
    bool started = mongoc_client_session_start_transaction(session, NULL, &error);
    bool inserted = false;
    if (started) {
        mongoc_collection_t *c = coll("txn");
        bson_t opts = BSON_INITIALIZER;
        cr_assert(mongoc_client_session_append(session, &opts, &error), "%s", error.message);
        bson_t *doc = BCON_NEW("x", BCON_INT32(1));
        inserted = mongoc_collection_insert_one(c, doc, &opts, NULL, &error);
        bson_destroy(doc);
        bson_destroy(&opts);
        mongoc_collection_destroy(c);
    }
    cr_assert_not(started && inserted, "a standalone accepted a transaction");
    mongoc_client_session_destroy(session);
}

/* ---- explain and the profiler ------------------------------------------------------------ */

/* Appends the stages of a plan tree, depth first, as "STAGE" or "STAGE:index", '>'-separated. */
static void plan_walk(bson_iter_t *plan, char *buf, size_t size)
{
    bson_iter_t it, child;
    const char *stage = NULL, *index = NULL;
    bson_iter_t copy = *plan;
    while (bson_iter_next(&copy)) {
        const char *k = bson_iter_key(&copy);
        if (strcmp(k, "stage") == 0 && BSON_ITER_HOLDS_UTF8(&copy))
            stage = bson_iter_utf8(&copy, NULL);
        else if (strcmp(k, "indexName") == 0 && BSON_ITER_HOLDS_UTF8(&copy))
            index = bson_iter_utf8(&copy, NULL);
    }
    if (stage) {
        if (buf[0])
            strncat(buf, ">", size - strlen(buf) - 1);
        strncat(buf, stage, size - strlen(buf) - 1);
        if (index) {
            strncat(buf, ":", size - strlen(buf) - 1);
            strncat(buf, index, size - strlen(buf) - 1);
        }
    }
    it = *plan;
    while (bson_iter_next(&it)) {
        const char *k = bson_iter_key(&it);
        if ((strcmp(k, "inputStage") == 0 || strcmp(k, "queryPlan") == 0) && BSON_ITER_HOLDS_DOCUMENT(&it) &&
            bson_iter_recurse(&it, &child))
            plan_walk(&child, buf, size);
        else if (strcmp(k, "inputStages") == 0 && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &child)) {
            while (bson_iter_next(&child)) {
                bson_iter_t sub;
                if (BSON_ITER_HOLDS_DOCUMENT(&child) && bson_iter_recurse(&child, &sub))
                    plan_walk(&sub, buf, size);
            }
        }
    }
}

/* The winning plan of an explain reply as a stage string: queryPlanner.winningPlan, or for
 * aggregations the first stage's $cursor / $geoNearCursor queryPlanner (servers differ). */
static void winning_plan(const bson_t *reply, char *buf, size_t size)
{
    static const char *const paths[] = {"queryPlanner.winningPlan", "stages.0.$cursor.queryPlanner.winningPlan",
                                        "stages.0.$geoNearCursor.queryPlanner.winningPlan"};
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        bson_iter_t it, plan;
        if (bson_iter_init(&it, reply) && bson_iter_find_descendant(&it, paths[i], &plan) &&
            BSON_ITER_HOLDS_DOCUMENT(&plan)) {
            bson_iter_t sub;
            bson_iter_recurse(&plan, &sub);
            plan_walk(&sub, buf, size);
            return;
        }
    }
    char *json = bson_as_relaxed_extended_json(reply, NULL);
    cr_assert_fail("no winning plan in the explain reply: %s", json);
    bson_free(json);
}

/* explain {cmd} with verbosity queryPlanner; the winning plan's stage string. */
static void explain(bson_t *inner, char *buf, size_t size)
{
    bson_t *cmd = BCON_NEW("explain", BCON_DOCUMENT(inner), "verbosity", BCON_UTF8("queryPlanner"));
    bson_destroy(inner);
    bson_t reply;
    bson_error_t error;
    bool ok = command(cmd, &reply, &error);
    cr_assert(ok, "explain: %s", error.message);
    winning_plan(&reply, buf, size);
    bson_destroy(&reply);
}

static void insert_listings(const char *name, int n)
{
    mongoc_collection_t *c = coll(name);
    for (int i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "l%03d", i);
        insert(c, BCON_NEW("_id", BCON_UTF8(id), "status", BCON_UTF8(i % 5 ? "active" : "sold"), "created_us",
                           BCON_INT64(1000 + i), "price_minor", BCON_INT64((i * 37) % 100), "tags", "[",
                           BCON_UTF8(i % 2 ? "red" : "blue"), BCON_UTF8("any"), "]", "other", BCON_INT32(i)));
    }
    create_index(name, BCON_NEW("status", BCON_INT32(1), "created_us", BCON_INT32(-1)), "status_created", false);
    create_index(name, BCON_NEW("tags", BCON_INT32(1)), "tags", false);
    mongoc_collection_destroy(c);
}

/* Manual, "Explain Results" / "queryPlanner.winningPlan": an equality on an index's first
 * field with a sort on its second is an IXSCAN of that index (FETCH above it) with the
 * equality's point bounds, and needs no SORT stage; a filter on no indexed field is a
 * COLLSCAN. */
Test(mongo, explain_index_scan_and_collection_scan)
{
    insert_listings("ex", 40);
    char plan[512];
    explain(BCON_NEW("find", BCON_UTF8("ex"), "filter", "{", "status", BCON_UTF8("active"), "}", "sort", "{",
                     "created_us", BCON_INT32(-1), "}", "limit", BCON_INT32(5)),
            plan, sizeof plan);
    cr_assert(strstr(plan, "IXSCAN:status_created") != NULL, "plan: %s", plan);
    cr_assert(strstr(plan, "SORT") == NULL, "the index gives the order: %s", plan);
    cr_assert(strstr(plan, "FETCH") != NULL, "plan: %s", plan);

    /* The bounds, as the manual prints them. */
    bson_t *cmd = BCON_NEW("explain", "{", "find", BCON_UTF8("ex"), "filter", "{", "status", BCON_UTF8("active"), "}",
                           "}", "verbosity", BCON_UTF8("queryPlanner"));
    bson_t reply;
    bson_error_t error;
    cr_assert(command(cmd, &reply, &error), "%s", error.message);
    char *json = bson_as_relaxed_extended_json(&reply, NULL);
    cr_assert(strstr(json, "\"status\" : [ \"[\\\"active\\\", \\\"active\\\"]\" ]") != NULL, "bounds: %s", json);
    bson_free(json);
    bson_destroy(&reply);

    explain(BCON_NEW("find", BCON_UTF8("ex"), "filter", "{", "other", BCON_INT32(3), "}"), plan, sizeof plan);
    cr_assert(strstr(plan, "COLLSCAN") != NULL, "plan: %s", plan);
    /* Multikey: an element of an array field is found through its index. */
    explain(BCON_NEW("find", BCON_UTF8("ex"), "filter", "{", "tags", BCON_UTF8("red"), "}"), plan, sizeof plan);
    cr_assert(strstr(plan, "IXSCAN:tags") != NULL, "plan: %s", plan);
    /* count and an aggregation's leading $match use indexes as find does. */
    explain(BCON_NEW("count", BCON_UTF8("ex"), "query", "{", "status", BCON_UTF8("sold"), "}"), plan, sizeof plan);
    cr_assert(strstr(plan, "SCAN:status_created") != NULL, "count plan (IXSCAN or COUNT_SCAN): %s", plan);
    explain(BCON_NEW("aggregate", BCON_UTF8("ex"), "pipeline", "[", "{", "$match", "{", "status",
                     BCON_UTF8("active"), "}", "}", "{", "$sort", "{", "created_us", BCON_INT32(-1), "}", "}", "{",
                     "$limit", BCON_INT32(3), "}", "]", "cursor", "{", "}"),
            plan, sizeof plan);
    cr_assert(strstr(plan, "IXSCAN:status_created") != NULL, "aggregate plan: %s", plan);
}

/* Manual, "hint": a hint names an index to use; an index that does not exist is an error
 * (BadValue, code 2), not a silent collection scan; {$natural: 1} forces a collection scan. */
Test(mongo, hint_is_honoured_and_an_unknown_index_fails)
{
    insert_listings("hinted", 10);
    char plan[512];
    explain(BCON_NEW("find", BCON_UTF8("hinted"), "filter", "{", "status", BCON_UTF8("active"), "}", "hint", "{",
                     "$natural", BCON_INT32(1), "}"),
            plan, sizeof plan);
    cr_assert(strstr(plan, "COLLSCAN") != NULL, "plan: %s", plan);
    explain(BCON_NEW("find", BCON_UTF8("hinted"), "filter", "{", "other", BCON_INT32(1), "}", "hint",
                     BCON_UTF8("tags")),
            plan, sizeof plan);
    cr_assert(strstr(plan, "IXSCAN:tags") != NULL, "plan: %s", plan);

    mongoc_collection_t *c = coll("hinted");
    bson_t *filter = BCON_NEW("status", BCON_UTF8("active"));
    bson_t *opts = BCON_NEW("hint", BCON_UTF8("no_such_index"));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, opts, NULL);
    const bson_t *doc;
    cr_assert(!mongoc_cursor_next(cur, &doc), "a find with an unknown hint returns nothing");
    bson_error_t error;
    cr_assert(mongoc_cursor_error(cur, &error), "an unknown hint is an error");
    cr_assert_eq(error.code, 2, "BadValue, got %u: %s", error.code, error.message);
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    bson_destroy(opts);
    mongoc_collection_destroy(c);
}

/* Manual, "$geoNear" and explain: a $geoNear stage runs as GEO_NEAR_2DSPHERE on the
 * collection's 2dsphere index. */
Test(mongo, explain_geo_near)
{
    mongoc_collection_t *c = coll("places");
    insert_places(c);
    char plan[512];
    explain(BCON_NEW("aggregate", BCON_UTF8("places"), "pipeline", "[", "{", "$geoNear", "{", "near", "{", "type",
                     BCON_UTF8("Point"), "coordinates", "[", BCON_DOUBLE(13.405), BCON_DOUBLE(52.52), "]", "}",
                     "distanceField", BCON_UTF8("d"), "maxDistance", BCON_DOUBLE(5000), "spherical", BCON_BOOL(true),
                     "key", BCON_UTF8("loc"), "}", "}", "{", "$limit", BCON_INT32(2), "}", "]", "cursor", "{", "}"),
            plan, sizeof plan);
    cr_assert(strstr(plan, "GEO_NEAR_2DSPHERE") != NULL, "plan: %s", plan);
    mongoc_collection_destroy(c);
}

/* Manual, "Database Profiler": at level 2 every operation of the database is written to
 * system.profile with op, ns and planSummary ("IXSCAN { status: 1, created_us: -1 }" or
 * "COLLSCAN"); the profile command answers the previous level in `was`. */
Test(mongo, profiler_records_plan_summaries)
{
    insert_listings("prof", 20);
    bson_t reply;
    bson_error_t error;
    cr_assert(command(BCON_NEW("profile", BCON_INT32(2)), &reply, &error), "profile: %s", error.message);
    bson_destroy(&reply);
    mongoc_collection_t *c = coll("prof");
    bson_t *sold = BCON_NEW("status", BCON_UTF8("sold")), *other = BCON_NEW("other", BCON_INT32(7));
    cr_assert_eq(count_cursor(mongoc_collection_find_with_opts(c, sold, NULL, NULL)), 4);
    cr_assert_eq(count_cursor(mongoc_collection_find_with_opts(c, other, NULL, NULL)), 1);
    bson_destroy(sold);
    bson_destroy(other);
    cr_assert(command(BCON_NEW("profile", BCON_INT32(0)), &reply, &error), "profile: %s", error.message);
    bson_iter_t it;
    cr_assert(bson_iter_init_find(&it, &reply, "was") && bson_iter_as_int64(&it) == 2);
    bson_destroy(&reply);

    char ns[128];
    snprintf(ns, sizeof ns, "%s.prof", dbname);
    mongoc_collection_t *profile = coll("system.profile");
    char summaries[512];
    bson_t *mine = BCON_NEW("ns", BCON_UTF8(ns), "op", BCON_UTF8("query"));
    collect_field(mongoc_collection_find_with_opts(profile, mine, NULL, NULL), "planSummary", summaries,
                  sizeof summaries);
    bson_destroy(mine);
    cr_assert_str_eq(summaries, "IXSCAN { status: 1, created_us: -1 },COLLSCAN");
    mongoc_collection_destroy(profile);
    mongoc_collection_destroy(c);
}

/* serverStatus's metrics.cursor.open.total: the server's cursors not exhausted or killed. */
static int64_t open_cursors(void)
{
    bson_t reply;
    bson_error_t error;
    cr_assert(command(BCON_NEW("serverStatus", BCON_INT32(1)), &reply, &error), "serverStatus: %s", error.message);
    bson_iter_t it;
    cr_assert(bson_iter_init(&it, &reply) && bson_iter_find_descendant(&it, "metrics.cursor.open.total", &it),
              "serverStatus has no metrics.cursor.open.total");
    int64_t n = bson_iter_as_int64(&it);
    bson_destroy(&reply);
    return n;
}

struct in_order {
    int next;
    bool ordered;
};

static int in_order_doc(const bson_t *doc, void *ctx)
{
    struct in_order *o = ctx;
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "n") || bson_iter_as_int64(&it) != o->next)
        o->ordered = false;
    o->next++;
    return MK_OK;
}

/* marketd's store sends an options-less aggregate as one command and walks its first batch in
 * place; a result longer than the first batch (101 documents) comes through a cursor instead,
 * every document once and in order, and the first command's server cursor is not left open. */
Test(mongo, store_aggregate_beyond_the_first_batch_reads_all_and_leaves_no_cursor)
{
    mongoc_collection_t *c = coll("long");
    for (int i = 0; i < 150; i++) {
        insert(c, BCON_NEW("n", BCON_INT32(149 - i)));   /* insert destroys the document */
    }
    const char *uri = getenv("MARKET_TEST_MONGO_URI");
    struct mongo_store ms;
    cr_assert_eq(mongo_init(&ms, uri && *uri ? uri : "mongodb://127.0.0.1:28117/", dbname), MK_OK);
    int64_t before = open_cursors();
    bson_t *pipeline = BCON_NEW("pipeline", "[", "{", "$sort", "{", "n", BCON_INT32(1), "}", "}", "]");
    struct in_order all = {0, true}, few = {0, true};
    cr_assert_eq(mongo_aggregate_each(&ms, "long", pipeline, NULL, in_order_doc, &all), MK_OK);
    cr_assert_eq(all.next, 150, "%d documents of 150", all.next);
    cr_assert(all.ordered, "the documents came out of order");
    cr_assert_eq(open_cursors(), before, "a server cursor was left open");
    bson_t *short_pipeline = BCON_NEW("pipeline", "[", "{", "$sort", "{", "n", BCON_INT32(1), "}", "}", "{", "$limit",
                                      BCON_INT32(30), "}", "]");
    cr_assert_eq(mongo_aggregate_each(&ms, "long", short_pipeline, NULL, in_order_doc, &few), MK_OK);
    cr_assert(few.next == 30 && few.ordered);
    cr_assert_eq(open_cursors(), before);
    bson_destroy(short_pipeline);
    bson_destroy(pipeline);
    mongo_close(&ms);
    mongoc_collection_destroy(c);
}
