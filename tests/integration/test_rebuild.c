/*
 * Rebuilds across a power of ten of the transaction counter (issue 17).
 *
 * The projector reads the outbox in (txid, seq) order from its checkpoint. It once sorted by
 * the text of txid ('10000' before '736'): a full batch then moved the checkpoint past events
 * it had never read, and a rebuild silently left listings, sellers, favourites and reviews
 * out of the read model. This test writes every kind of event on both sides of a power of
 * ten of the transaction id (burning thousands of empty transactions in between), rebuilds
 * with small batches (so every batch boundary is exercised, whatever the outbox holds), and
 * requires the read model to equal PostgreSQL. It runs last: the outbox then holds every
 * event of the whole suite, and all of them must come back.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"

#define ADDRESS                                                                                                        \
    "{\"name\":\"Ada Lovelace\",\"line1\":\"Unter den Linden 1\",\"city\":\"Berlin\",\"postal_code\":\"10117\","       \
    "\"country\":\"DE\"}"

static void
start_projector(void)
{
    itest_stack("start", "projector");
}

TestSuite(rebuild, .timeout = 300);

static long long
current_txid(PGconn *pg)
{
    PGresult *res = PQexec(pg, "SELECT pg_current_xact_id()::text");
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(pg));
    long long txid = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return txid;
}

/* Burn transaction ids until the next one is at least target: each BEGIN … COMMIT pair of a
 * multi-statement query is its own transaction, and pg_current_xact_id() assigns it an id. */
static void
burn_txids_to(PGconn *pg, long long target)
{
    PQclear(PQexec(pg, "SET synchronous_commit = off"));
    static char sql[64 * 1000];
    for (;;) {
        long long now = current_txid(pg);
        if (now >= target) {
            return;
        }
        long long n = target - now < 1000 ? target - now : 1000;
        size_t len = 0;
        for (long long i = 0; i < n; i++) {
            len += (size_t)snprintf(sql + len, sizeof(sql) - len, "BEGIN;SELECT pg_current_xact_id();COMMIT;");
        }
        PGresult *res = PQexec(pg, sql);
        cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK, "%s",
                  PQerrorMessage(pg));
        PQclear(res);
    }
}

static const char *
listing_body(const char *title)
{
    return itest_fmt("{\"title\":\"%s\",\"description\":\"Across a power of ten\",\"category\":\"phones\","
                     "\"condition\":\"good\",\"price_minor\":12000,\"currency\":\"EUR\","
                     "\"location\":{\"city\":\"Berlin\",\"country\":\"DE\",\"lat\":52.52,\"lon\":13.405},"
                     "\"attributes\":{\"brand\":\"Google\",\"storage_gb\":128}}",
                     title);
}

static void
expect(struct iresp r, long status, const char *what)
{
    cr_assert_eq(r.status, status, "%s: %ld %s", what, r.status, r.body);
    iresp_free(&r);
}

static void
new_listing(struct itest_user *seller, const char *title, char id[40])
{
    struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){seller->bearer, NULL},
                                listing_body(title));
    cr_assert_eq(r.status, 201, "create listing: %s", r.body);
    snprintf(id, 40, "%s", ijson_str(r.json, "listing", "id", NULL));
    iresp_free(&r);
}

/* Every kind of event the read model holds: a user, a listing, a favourite, an order that ends
 * in a review (listing sold, rating), a profile change. */
static void
write_every_kind(const char *tag, struct itest_user *seller, struct itest_user *buyer)
{
    char fav[40], sold[40], order[40];
    new_listing(seller, itest_fmt("Kept %s", tag), fav);
    new_listing(seller, itest_fmt("Sold %s", tag), sold);
    expect(itest_http("POST", itest_fmt("/api/v1/listings/%s/favorite", fav), (const char *const[]){buyer->bearer, NULL},
                      NULL),
           204, "favourite");
    char key[300];
    snprintf(key, sizeof(key), "Idempotency-Key: %s", itest_unique("rebuild"));
    struct iresp r = itest_http("POST", "/api/v1/orders", (const char *const[]){buyer->bearer, key, NULL},
                                itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":" ADDRESS "}", sold));
    cr_assert_eq(r.status, 201, "order: %s", r.body);
    snprintf(order, sizeof(order), "%s", ijson_str(r.json, "order", "id", NULL));
    iresp_free(&r);
    expect(itest_http("POST", itest_fmt("/api/v1/orders/%s/ship", order), (const char *const[]){seller->bearer, NULL},
                      "{\"carrier\":\"DHL\",\"number\":\"00340434161094042557\"}"),
           200, "ship");
    expect(itest_http("POST", itest_fmt("/api/v1/orders/%s/confirm", order), (const char *const[]){buyer->bearer, NULL},
                      NULL),
           200, "confirm");
    expect(itest_http("POST", itest_fmt("/api/v1/orders/%s/review", order), (const char *const[]){buyer->bearer, NULL},
                      "{\"rating\":4,\"comment\":\"As described\"}"),
           201, "review");
    expect(itest_http("PATCH", "/api/v1/users/me", (const char *const[]){seller->bearer, NULL},
                      itest_fmt("{\"display_name\":\"Seller %s\"}", tag)),
           200, "rename");
}

static long long
next_power_of_ten(long long n)
{
    long long p = 10;
    while (p <= n) {
        p *= 10;
    }
    return p;
}

Test(rebuild, every_event_survives_a_rebuild_across_a_power_of_ten_of_txid, .fini = start_projector)
{
    PGconn *pg = itest_pg();
    struct itest_user seller, buyer;
    itest_user_new(&seller, "DecadeSeller");
    itest_user_new(&buyer, "DecadeBuyer");

    /* Events below the power of ten, then the counter carried across it, then events above. */
    long long boundary = next_power_of_ten(current_txid(pg) + 50);
    burn_txids_to(pg, boundary - 40);
    write_every_kind("below", &seller, &buyer);
    long long below = current_txid(pg);
    cr_assert_lt(below, boundary, "the writes below the boundary took more than 40 transactions");
    burn_txids_to(pg, boundary);
    write_every_kind("above", &seller, &buyer);

    /* Events of both digit counts are in the outbox. */
    PGresult *res = PQexec(pg, itest_fmt("SELECT count(*) FILTER (WHERE txid < '%lld'::xid8), "
                                         "count(*) FILTER (WHERE txid >= '%lld'::xid8) FROM outbox",
                                         boundary, boundary));
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(pg));
    cr_assert_geq(atoll(PQgetvalue(res, 0, 0)), 8, "events below txid %lld", boundary);
    cr_assert_geq(atoll(PQgetvalue(res, 0, 1)), 8, "events at or above txid %lld", boundary);
    PQclear(res);
    PQfinish(pg);

    /* The live projector has it all. */
    itest_assert_read_model_complete(20000);

    /* A rebuild in this process (the running projector stopped, so the advisory lock is free)
     * in batches of 5, fewer than the events written above the boundary: in text order those
     * ("1000…") come before the ones below it ("99…"), so a reader sorting by text fills a batch
     * with them, moves its checkpoint past the boundary and never reads the events below. */
    itest_stack("stop", "projector");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "MARKET_PROJECTOR_BATCH=5 %s --role projector --rebuild --config %s >/dev/null 2>&1",
             itest_env("MARKET_TEST_MARKETD"), itest_env("MARKET_TEST_CONFIG"));
    cr_assert_eq(system(cmd), 0, "marketd --rebuild failed");
    itest_assert_read_model_complete(0);

    /* And through the running projector with its configured batches. */
    start_projector();
    snprintf(cmd, sizeof(cmd), "%s --role projector --rebuild --config %s >/dev/null 2>&1",
             itest_env("MARKET_TEST_MARKETD"), itest_env("MARKET_TEST_CONFIG"));
    cr_assert_eq(system(cmd), 0, "marketd --rebuild failed");
    itest_assert_read_model_complete(0);
}

/* ---- a rebuild killed while its next batch is being read ------------------------------------ */

struct marker_wait {
    long long generation;
};

/* The marker names the generation, is rebuilding and has checkpointed past the first event. */
static bool
rebuild_under_way(void *arg)
{
    const struct marker_wait *w = arg;
    mongoc_client_t *m = itest_mongo();
    mongoc_collection_t *c = mongoc_client_get_collection(m, "market", "projector_state");
    bson_t *filter = BCON_NEW("_id", BCON_UTF8("checkpoint"), "generation", BCON_INT64(w->generation), "rebuilding",
                              BCON_BOOL(true), "seq", "{", "$gt", BCON_INT64(0), "}");
    int64_t n = mongoc_collection_count_documents(c, filter, NULL, NULL, NULL, NULL);
    bson_destroy(filter);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(m);
    return n == 1;
}

/* The projector reads batch N+1 on its prefetch thread while it applies batch N
 * (projector/prefetch.c). A rebuild SIGKILLed part-way, in batches of one (so a read ahead is
 * nearly always in flight), is resumed by the projector from its last checkpoint: nothing lost
 * and nothing applied twice. */
Test(rebuild, a_rebuild_killed_mid_pipeline_resumes_from_its_checkpoint, .fini = start_projector)
{
    itest_assert_read_model_complete(20000);
    itest_stack("stop", "projector");
    struct marker_wait w = {itest_pg_num("SELECT generation + 1 FROM projector_state", NULL, NULL)};
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setenv("MARKET_PROJECTOR_BATCH", "1", 1);
        if (freopen("/dev/null", "w", stderr) == NULL || freopen("/dev/null", "w", stdout) == NULL) {
            _exit(126);
        }
        execl(itest_env("MARKET_TEST_MARKETD"), "marketd", "--role", "projector", "--rebuild", "--config",
              itest_env("MARKET_TEST_CONFIG"), (char *)NULL);
        _exit(127);
    }
    bool under_way = itest_poll(60000, rebuild_under_way, &w);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    cr_assert(under_way, "the rebuild never checkpointed");
    cr_assert(WIFSIGNALED(status), "the rebuild finished before it was killed (status %d)", status);
    cr_assert(rebuild_under_way(&w), "the marker still says rebuilding, at its last checkpoint");
    start_projector();   /* resumes the rebuild from the marker */
    itest_assert_read_model_complete(120000);
}
