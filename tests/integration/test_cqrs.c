/*
 * The CQRS backbone: commands → outbox → projector → MongoDB, checked below the HTTP layer
 * where the orderings that matter can be forced with two PostgreSQL sessions.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/ids.h"
#include "core/log.h"
#include "domain/ping.h"
#include "itest.h"

static arena_t *A;

static void
setup(void)
{
    A = arena_create(8192);
    log_init("test", "error");
}

static void
teardown(void)
{
    arena_destroy(A);
}

TestSuite(cqrs, .init = setup, .fini = teardown, .timeout = 60);

struct mongo_wait {
    const char *id;
    long long min_version;
    long long version;
    char note[256];
};

/* True once the read model's system_pings document has reached min_version. */
static bool
ping_projected(void *arg)
{
    struct mongo_wait *w = arg;
    return itest_read_ping(w->id, &w->version, w->note, sizeof(w->note)) && w->version >= w->min_version;
}

static struct pg
open_pg(void)
{
    struct pg pg;
    pg_init(&pg, itest_env("MARKET_TEST_PG_DSN"), 10000);
    cr_assert_not_null(pg_conn(&pg));
    return pg;
}

Test(cqrs, an_event_written_by_a_command_reaches_mongodb)
{
    char id[UUID_STR_LEN + 1];
    uuid_new(id);
    char body[256];
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"note\":\"via http\"}", id);
    struct iresp r = itest_http("POST", "/api/v1/system/pings", NULL, body);
    cr_assert_eq(r.status, 201, "%s", r.body);
    iresp_free(&r);
    struct mongo_wait w = {.id = id, .min_version = 1};
    cr_assert(itest_poll(5000, ping_projected, &w), "the event did not reach MongoDB");
    cr_assert_str_eq(w.note, "via http");
}

/*
 * The outbox pitfall of DESIGN.md: a transaction that takes its seq first but commits last
 * must not be skipped by a reader that has already moved past a later seq.
 */
Test(cqrs, a_slow_transaction_is_not_skipped)
{
    struct pg slow = open_pg(), fast = open_pg();
    char id_slow[UUID_STR_LEN + 1], id_fast[UUID_STR_LEN + 1];
    uuid_new(id_slow);
    uuid_new(id_fast);
    struct ping p;
    long long seq_slow, seq_fast;

    cr_assert_eq(pg_simple(&slow, "BEGIN"), 0);
    cr_assert_eq(ping_record(&slow, A, id_slow, "slow", &p, &seq_slow), 0);
    cr_assert_eq(pg_simple(&fast, "BEGIN"), 0);
    cr_assert_eq(ping_record(&fast, A, id_fast, "fast", &p, &seq_fast), 0);
    cr_assert_gt(seq_fast, seq_slow);
    cr_assert_eq(pg_simple(&fast, "COMMIT"), 0);

    /* The projector can see the fast event but must hold it back (its txid is above the
     * snapshot's xmin while the slow transaction runs); commit the slow one now. */
    cr_assert_eq(pg_simple(&slow, "COMMIT"), 0);
    struct mongo_wait wf = {.id = id_fast, .min_version = 1}, ws = {.id = id_slow, .min_version = 1};
    cr_assert(itest_poll(5000, ping_projected, &wf), "the fast event never arrived");
    cr_assert(itest_poll(5000, ping_projected, &ws), "the slow transaction's event was skipped");
    pg_close(&slow);
    pg_close(&fast);
}

/*
 * Two transactions on one row, committed in the opposite order of their txids: the
 * (txid, seq) reading order applies the newer state first, and the version guard must keep
 * it when the older event arrives after it.
 */
Test(cqrs, opposite_commit_order_on_one_row_ends_in_the_right_document)
{
    struct pg a = open_pg(), b = open_pg();
    char id[UUID_STR_LEN + 1];
    uuid_new(id);
    struct ping p;
    long long seq;
    cr_assert_eq(pg_simple(&a, "BEGIN"), 0);
    cr_assert_eq(ping_record(&a, A, id, "v1", &p, &seq), 0);
    cr_assert_eq(pg_simple(&a, "COMMIT"), 0);

    /* B takes its transaction id first ... */
    cr_assert_eq(pg_simple(&b, "BEGIN"), 0);
    cr_assert_eq(pg_simple(&b, "SELECT pg_current_xact_id()"), 0);
    /* ... A (a later txid) changes the row to v2 and commits ... */
    cr_assert_eq(pg_simple(&a, "BEGIN"), 0);
    cr_assert_eq(ping_record(&a, A, id, "v2 by the later txid", &p, &seq), 0);
    cr_assert_eq(p.version, 2);
    cr_assert_eq(pg_simple(&a, "COMMIT"), 0);
    /* ... then B (the earlier txid) changes it to v3 and commits last. */
    cr_assert_eq(ping_record(&b, A, id, "v3 by the earlier txid", &p, &seq), 0);
    cr_assert_eq(p.version, 3);
    cr_assert_eq(pg_simple(&b, "COMMIT"), 0);

    /* Write a marker event afterwards and wait for it: then both events above are applied. */
    char marker[UUID_STR_LEN + 1];
    uuid_new(marker);
    cr_assert_eq(pg_simple(&a, "BEGIN"), 0);
    cr_assert_eq(ping_record(&a, A, marker, "after", &p, &seq), 0);
    cr_assert_eq(pg_simple(&a, "COMMIT"), 0);
    struct mongo_wait wm = {.id = marker, .min_version = 1};
    cr_assert(itest_poll(5000, ping_projected, &wm));

    struct mongo_wait w = {.id = id, .min_version = 1};
    cr_assert(ping_projected(&w));
    cr_assert_eq(w.version, 3, "the document went back to version %lld", w.version);
    cr_assert_str_eq(w.note, "v3 by the earlier txid");
    pg_close(&a);
    pg_close(&b);
}

/* Canonical JSON of every document of system_pings, sorted by _id. */
static char *
snapshot(void)
{
    mongoc_client_t *m = itest_mongo();
    mongoc_collection_t *c = mongoc_client_get_collection(m, "market", "system_pings");
    bson_t *filter = bson_new();
    bson_t *opts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}");
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, opts, NULL);
    const bson_t *doc;
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    while (mongoc_cursor_next(cur, &doc)) {
        char *j = bson_as_canonical_extended_json(doc, NULL);
        size_t jl = strlen(j);
        while (len + jl + 2 > cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        memcpy(out + len, j, jl);
        len += jl;
        out[len++] = '\n';
        out[len] = '\0';
        bson_free(j);
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    bson_destroy(opts);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(m);
    return out;
}

Test(cqrs, rebuild_reproduces_the_same_read_model)
{
    /* Make some history with updates, then wait until it is all applied. */
    char id[UUID_STR_LEN + 1];
    uuid_new(id);
    struct pg pg = open_pg();
    struct ping p;
    long long seq;
    for (int i = 0; i < 5; i++) {
        char note[32];
        snprintf(note, sizeof(note), "rev %d", i);
        cr_assert_eq(pg_simple(&pg, "BEGIN"), 0);
        cr_assert_eq(ping_record(&pg, A, id, note, &p, &seq), 0);
        cr_assert_eq(pg_simple(&pg, "COMMIT"), 0);
    }
    struct mongo_wait w = {.id = id, .min_version = 5};
    cr_assert(itest_poll(5000, ping_projected, &w));
    pg_close(&pg);

    char *before = snapshot();
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s --role projector --rebuild --config %s >/dev/null 2>&1",
             itest_env("MARKET_TEST_MARKETD"), itest_env("MARKET_TEST_CONFIG"));
    cr_assert_eq(system(cmd), 0, "marketd --rebuild failed");
    char *after = snapshot();
    cr_assert_gt(strlen(before), 0);
    cr_assert_str_eq(after, before, "the rebuilt read model differs");
    free(before);
    free(after);
}
