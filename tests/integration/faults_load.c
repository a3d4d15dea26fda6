/* The load and the invariant checks of test_faults and test_cluster (faults_load.h). */
#include "faults_load.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct writer writers[WRITERS];
volatile int stop_writers;
static volatile long acked_total;

/* ---- helpers safe in threads (itest_fmt, itest_unique and iresp_header are not) ---------- */

/* A response header's value (names are lower case in r->headers) into buf, or false. */
static bool
header(const struct iresp *r, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    for (const char *p = r->headers; p != NULL && *p != '\0';) {
        if (strncmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ') {
                v++;
            }
            size_t l = strcspn(v, "\r\n");
            snprintf(buf, len, "%.*s", (int)(l < len ? l : len - 1), v);
            return true;
        }
        const char *nl = strchr(p, '\n');
        p = nl != NULL ? nl + 1 : NULL;
    }
    return false;
}

static long long
header_num(const struct iresp *r, const char *name)
{
    char v[64];
    if (!header(r, name, v, sizeof(v))) {
        return -1;
    }
    return atoll(v[0] == '"' || v[0] == 'W' ? strchr(v, '"') + 1 : v);
}

static void
problem(struct writer *w, const char *what, const struct iresp *r)
{
    if (w->nproblems < 4) {
        snprintf(w->problems[w->nproblems++], sizeof(w->problems[0]), "%s: %ld %.300s", what, r->status,
                 r->body != NULL ? r->body : "");
    }
}

enum outcome { ACKED, UNKNOWN, REFUSED };

/*
 * Classify an answer: the wanted status is an acknowledgement; no answer, 502, 503 or 504 (in
 * the API's shape) leaves the outcome unknown (allowed during faults); anything else is
 * counted as a failure: a 500 as a server error, another status as unexpected.
 */
static enum outcome
classify(struct writer *w, const struct iresp *r, long want, const char *what)
{
    w->requests++;
    if (r->status == want) {
        w->acked++;
        __atomic_add_fetch(&acked_total, 1, __ATOMIC_RELAXED);
        return ACKED;
    }
    if (r->status == 0) {
        w->conn_failed++;
        return UNKNOWN;
    }
    if (r->status == 502 || r->status == 503 || r->status == 504) {
        const char *code = ijson_str(r->json, "error", "code", NULL);
        char retry[16];
        if (code == NULL || strcmp(code, "unavailable") != 0 || !header(r, "retry-after", retry, sizeof(retry))) {
            w->unexpected++;
            problem(w, what, r);
            return REFUSED;
        }
        w->unavailable++;
        return UNKNOWN;
    }
    if (r->status >= 500) {
        w->server_errors++;
    } else {
        w->unexpected++;
    }
    problem(w, what, r);
    return REFUSED;
}

static void
pause_ms(double ms)
{
    if (ms > 0) {
        struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (time_t)(ms / 1000) * 1000) * 1e6)};
        nanosleep(&ts, NULL);   /* pacing of the load, not synchronisation */
    }
}

/* ---- the writes ------------------------------------------------------------------------- */

static void
create_listing(struct writer *w, int i)
{
    if (w->nlistings == MAX_LISTINGS) {
        return;
    }
    char body[512];
    snprintf(body, sizeof(body),
             "{\"title\":\"Fault lamp %d-%d\",\"description\":\"Steady writes\",\"category\":\"furniture\","
             "\"condition\":\"good\",\"price_minor\":%d,\"currency\":\"EUR\",\"status\":\"active\","
             "\"location\":{\"city\":\"Berlin\",\"country\":\"DE\",\"lat\":52.52,\"lon\":13.4}}",
             w->no, i, 1000 + i);
    struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){w->seller.bearer, NULL}, body);
    if (classify(w, &r, 201, "create listing") == ACKED) {
        struct listing_rec *l = &w->listings[w->nlistings];
        const char *id = ijson_str(r.json, "listing", "id", NULL);
        snprintf(l->id, sizeof(l->id), "%s", id != NULL ? id : "");
        l->version = header_num(&r, "etag");
        l->seq = header_num(&r, "x-event-seq");
        l->usable = true;
        l->fav = 0;
        if (id == NULL || l->version != 1 || l->seq <= 0) {
            w->unexpected++;
            problem(w, "create listing: no id, ETag \"1\" or X-Event-Seq", &r);
        } else {
            w->nlistings++;
        }
    }
    iresp_free(&r);
}

static void
patch_listing(struct writer *w, int i)
{
    for (int tries = 0; tries < w->nlistings; tries++) {
        struct listing_rec *l = &w->listings[w->next_patch++ % w->nlistings];
        if (!l->usable) {
            continue;
        }
        char path[96], ifmatch[64], body[64];
        snprintf(path, sizeof(path), "/api/v1/listings/%s", l->id);
        snprintf(ifmatch, sizeof(ifmatch), "If-Match: \"%lld\"", l->version);
        snprintf(body, sizeof(body), "{\"price_minor\":%d}", 2000 + i);
        struct iresp r = itest_http("PATCH", path, (const char *const[]){w->seller.bearer, ifmatch, NULL}, body);
        switch (classify(w, &r, 200, "patch listing")) {
        case ACKED: {
            long long v = header_num(&r, "etag"), seq = header_num(&r, "x-event-seq");
            if (v != l->version + 1 || seq <= l->seq) {
                w->unexpected++;
                problem(w, "patch listing: the new ETag is not the next version", &r);
                l->usable = false;
            } else {
                l->version = v;
                l->seq = seq;
            }
            break;
        }
        case UNKNOWN:
        case REFUSED:   /* a 412 here would mean a write nobody acknowledged was applied */
            l->usable = false;
            break;
        }
        iresp_free(&r);
        return;
    }
}

static void
toggle_favorite(struct writer *w, int i)
{
    if (w->nlistings == 0) {
        return;
    }
    struct listing_rec *l = &w->listings[(i / 10) % w->nlistings];
    bool add = l->fav != 1;
    char path[112];
    snprintf(path, sizeof(path), "/api/v1/listings/%s/favorite", l->id);
    struct iresp r = itest_http(add ? "POST" : "DELETE", path, (const char *const[]){w->buyer.bearer, NULL}, NULL);
    /* Both are idempotent and absolute: an acknowledgement settles the state. */
    switch (classify(w, &r, 204, add ? "favourite" : "unfavourite")) {
    case ACKED: l->fav = add ? 1 : 0; break;
    case UNKNOWN: l->fav = -1; break;
    case REFUSED: l->fav = -1; break;
    }
    iresp_free(&r);
}

static void
place_order(struct writer *w)
{
    if (w->norders == MAX_ORDERS || w->next_order >= w->nlistings) {
        return;
    }
    struct order_rec *o = &w->orders[w->norders++];
    o->listing = w->next_order++;
    struct listing_rec *l = &w->listings[o->listing];
    l->usable = false;   /* sold from now on (or soon): no more patches */
    snprintf(o->key, sizeof(o->key), "fault-%d-%d-%d-%ld", (int)getpid(), w->no, w->norders, (long)time(NULL));
    char key[128], body[512];
    snprintf(key, sizeof(key), "Idempotency-Key: %s", o->key);
    snprintf(body, sizeof(body), "{\"listing_id\":\"%s\",\"shipping_address\":" ADDRESS "}", l->id);
    const char *const h[] = {w->buyer.bearer, key, NULL};
    double deadline = itest_now_ms() + ORDER_DEADLINE_MS;
    /* Retry with the same key until the answer is definitive (a client that never learns the
     * outcome of a purchase must be able to ask again without buying twice). */
    while (!o->resolved && itest_now_ms() < deadline) {
        struct iresp r = itest_http("POST", "/api/v1/orders", h, body);
        o->sends++;
        enum outcome out = classify(w, &r, 201, "order");
        if (out == ACKED) {
            const char *id = ijson_str(r.json, "order", "id", NULL);
            snprintf(o->order_id, sizeof(o->order_id), "%s", id != NULL ? id : "");
            char replayed[16];
            if (header(&r, "idempotent-replayed", replayed, sizeof(replayed))) {
                w->replays++;
            }
        }
        o->resolved = out != UNKNOWN;
        iresp_free(&r);
        if (!o->resolved) {
            pause_ms(50);   /* a client's back-off between retries */
        }
    }
    if (o->order_id[0] != '\0' && w->norders % 3 == 0) {
        /* A retry of an answered purchase (the client missed the answer): the same order. */
        struct iresp r = itest_http("POST", "/api/v1/orders", h, body);
        if (classify(w, &r, 201, "order replay") == ACKED) {
            const char *id = ijson_str(r.json, "order", "id", NULL);
            char replayed[16];
            if (id == NULL || strcmp(id, o->order_id) != 0 || !header(&r, "idempotent-replayed", replayed, 16)) {
                w->unexpected++;
                problem(w, "order replay: another order, or not marked as a replay", &r);
            } else {
                w->replays++;
            }
        }
        iresp_free(&r);
    }
}

static void
patch_profile(struct writer *w, int i)
{
    char body[64];
    snprintf(body, sizeof(body), "{\"bio\":\"fault write %d\"}", i);
    struct iresp r = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){w->seller.bearer, NULL}, body);
    if (classify(w, &r, 200, "profile") == ACKED) {
        long long seq = header_num(&r, "x-event-seq");
        if (seq <= w->profile_seq) {
            w->unexpected++;
            problem(w, "profile: no new X-Event-Seq", &r);
        }
        w->profile_seq = seq;
    }
    iresp_free(&r);
}

/* A read of the last listing with X-Min-Seq: 200, or 503. While the projector is behind by
 * more than the wait (2 s), the answer is what the read model has, marked X-Read-Stale: 1 —
 * an older version, or a 404 for a listing not projected yet. */
static void
read_listing(struct writer *w)
{
    if (w->nlistings == 0) {
        return;
    }
    struct listing_rec *l = &w->listings[w->nlistings - 1];
    char path[96], minseq[64];
    snprintf(path, sizeof(path), "/api/v1/listings/%s", l->id);
    snprintf(minseq, sizeof(minseq), "X-Min-Seq: %lld", l->seq);
    struct iresp r = itest_http("GET", path, (const char *const[]){minseq, NULL}, NULL);
    w->requests++;
    w->reads++;
    char stale[8];
    if ((r.status == 200 || r.status == 404) && header(&r, "x-read-stale", stale, sizeof(stale))) {
        w->stale_reads++;
    } else if (r.status == 0 || r.status == 502 || r.status == 503 || r.status == 504) {
        w->unavailable++;
        w->reads_failed++;
    } else if (r.status != 200) {
        r.status >= 500 ? w->server_errors++ : w->unexpected++;
        problem(w, "read listing", &r);
    }
    iresp_free(&r);
}

void *
writer_run(void *arg)
{
    struct writer *w = arg;
    double next = itest_now_ms();
    for (int i = 0; !__atomic_load_n(&stop_writers, __ATOMIC_ACQUIRE) && w->requests < MAX_REQUESTS; i++) {
        next += PERIOD_MS;
        pause_ms(next - itest_now_ms());
        switch (i % 10) {
        case 0:
        case 5: create_listing(w, i); break;
        case 1:
        case 6: patch_listing(w, i); break;
        case 2:
        case 7: toggle_favorite(w, i); break;
        case 3: place_order(w); break;
        case 8: patch_profile(w, i); break;
        default: read_listing(w); break;
        }
    }
    return NULL;
}

static long
acked_now(void)
{
    return __atomic_load_n(&acked_total, __ATOMIC_RELAXED);
}

static bool
progressed(void *arg)
{
    return acked_now() >= *(long *)arg;
}

/* Writes go on: `more` acknowledgements after this moment, within the deadline. */
void
wait_for_writes(long more, int timeout_ms, const char *after)
{
    long want = acked_now() + more;
    cr_assert(itest_poll(timeout_ms, progressed, &want), "after %s, only %ld of %ld writes were acknowledged in %d ms",
              after, acked_now(), want, timeout_ms);
}

/* ---- checks ----------------------------------------------------------------------------- */

long long
pg_num(PGconn *c, const char *sql, const char *p1, const char *p2)
{
    const char *params[] = {p1, p2};
    int n = p2 != NULL ? 2 : p1 != NULL ? 1 : 0;
    PGresult *res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    long long v = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? atoll(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return v;
}

static const char *
pg_text(PGconn *c, const char *sql, const char *p1, const char *p2, char *buf, size_t len)
{
    const char *params[] = {p1, p2};
    PGresult *res = PQexecParams(c, sql, 2, NULL, params, NULL, NULL, 0);
    cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    snprintf(buf, len, "%s", PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "(none)");
    PQclear(res);
    return buf;
}

/* A document's integer fields from the read model; false when the document is missing. */
static bool
read_doc(mongoc_client_t *m, const char *collection, const char *id, const char *f1, long long *v1, const char *f2,
         long long *v2)
{
    mongoc_collection_t *c = mongoc_client_get_collection(m, "market", collection);
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
    const bson_t *doc;
    bool found = mongoc_cursor_next(cur, &doc);
    if (found) {
        bson_iter_t it;
        *v1 = bson_iter_init_find(&it, doc, f1) ? bson_iter_as_int64(&it) : -1;
        if (f2 != NULL) {
            *v2 = bson_iter_init_find(&it, doc, f2) ? bson_iter_as_int64(&it) : -1;
        }
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    mongoc_collection_destroy(c);
    return found;
}

struct active_counts {
    char detail[256];
};

/* Every writer's seller: active_listings in the read model = active listings in PostgreSQL. */
static bool
active_counts_equal(void *arg)
{
    struct active_counts *a = arg;
    PGconn *pg = itest_pg();
    mongoc_client_t *m = itest_mongo();
    bool ok = true;
    for (int k = 0; k < WRITERS && ok; k++) {
        long long want = pg_num(pg, "SELECT count(*) FROM listings WHERE seller_id = $1::uuid AND status = 'active'",
                                writers[k].seller.id, NULL);
        long long have = -1;
        ok = read_doc(m, "sellers", writers[k].seller.id, "active_listings", &have, NULL, NULL) && have == want;
        snprintf(a->detail, sizeof(a->detail), "seller %s: %lld active in PostgreSQL, %lld in the read model",
                 writers[k].seller.id, want, have);
    }
    mongoc_client_destroy(m);
    PQfinish(pg);
    return ok;
}

void
check_invariants(void)
{
    /* The read model holds exactly the write model: every ping, seller and listing at its
     * version, every favourite count at its version, every favourite and review. */
    itest_assert_read_model_complete(90000);

    PGconn *pg = itest_pg();
    mongoc_client_t *m = itest_mongo();
    for (int k = 0; k < WRITERS; k++) {
        struct writer *w = &writers[k];
        for (int i = 0; i < w->nlistings; i++) {
            struct listing_rec *l = &w->listings[i];
            long long version = -1, seq = -1;
            cr_assert(read_doc(m, "listings", l->id, "version", &version, "seq", &seq),
                      "the acknowledged listing %s is not in the read model", l->id);
            cr_assert_geq(version, l->version, "listing %s: version %lld acknowledged, %lld in the read model", l->id,
                          l->version, version);
            cr_assert_geq(seq, l->seq, "listing %s: event %lld acknowledged, the read model applied up to %lld",
                          l->id, l->seq, seq);
            cr_assert_geq(pg_num(pg, "SELECT version FROM listings WHERE id = $1::uuid", l->id, NULL), l->version);
            if (l->fav >= 0) {
                long long has = pg_num(pg, "SELECT count(*) FROM favorites WHERE user_id = $1::uuid "
                                           "AND listing_id = $2::uuid",
                                       w->buyer.id, l->id);
                cr_assert_eq(has, l->fav, "listing %s: favourite %s was acknowledged", l->id,
                             l->fav ? "added" : "removed");
            }
        }
        if (w->profile_seq > 0) {
            long long seq = -1, unused = -1;
            cr_assert(read_doc(m, "sellers", w->seller.id, "seq", &seq, "version", &unused));
            cr_assert_geq(seq, w->profile_seq, "seller %s: profile event %lld acknowledged, the read model has %lld",
                          w->seller.id, w->profile_seq, seq);
        }
        long long answered = 0;
        for (int i = 0; i < w->norders; i++) {
            struct order_rec *o = &w->orders[i];
            cr_assert(o->resolved, "order key %s: no definitive answer in %d ms (%d sends)", o->key,
                      ORDER_DEADLINE_MS, o->sends);
            if (o->order_id[0] == '\0') {
                continue;
            }
            answered++;
            char buf[64];
            cr_assert_str_eq(pg_text(pg, "SELECT coalesce(order_id::text, '') FROM idempotency_keys "
                                         "WHERE user_id = $1::uuid AND key = $2",
                                     w->buyer.id, o->key, buf, sizeof(buf)),
                             o->order_id, "key %s: the stored order is not the answered one", o->key);
            cr_assert_eq(pg_num(pg, "SELECT count(*) FROM orders WHERE buyer_id = $1::uuid AND listing_id = $2::uuid",
                                w->buyer.id, w->listings[o->listing].id),
                         1, "key %s (%d sends): not exactly one order", o->key, o->sends);
        }
        /* No order without an answered key: the retries made none of their own. */
        cr_assert_eq(pg_num(pg, "SELECT count(*) FROM orders WHERE buyer_id = $1::uuid", w->buyer.id, NULL), answered,
                     "writer %d: orders in PostgreSQL and answered purchases differ", k);
        cr_assert_eq(pg_num(pg, "SELECT count(*) FROM idempotency_keys WHERE user_id = $1::uuid", w->buyer.id, NULL),
                     answered, "writer %d: one key record per purchase", k);
    }
    mongoc_client_destroy(m);

    /* Nothing applied twice: favourite counts (above, with the read model) and active-listing
     * counts equal PostgreSQL's. */
    struct active_counts a = {""};
    cr_assert(itest_poll(30000, active_counts_equal, &a), "%s", a.detail);

    /* No listing sold twice; every sold listing has its one live order. */
    cr_assert_eq(pg_num(pg, "SELECT count(*) FROM (SELECT listing_id FROM orders WHERE status <> 'cancelled' "
                            "GROUP BY listing_id HAVING count(*) > 1) t",
                        NULL, NULL),
                 0, "a listing is in two live orders");
    cr_assert_eq(pg_num(pg, "SELECT count(*) FROM listings l WHERE status = 'sold' AND NOT EXISTS "
                            "(SELECT 1 FROM orders o WHERE o.listing_id = l.id AND o.status <> 'cancelled')",
                        NULL, NULL),
                 0, "a sold listing without its order");
    /* The ledger sums to zero per currency and per journal. */
    cr_assert_eq(pg_num(pg, "SELECT count(*) FROM (SELECT currency FROM ledger_entries GROUP BY currency "
                            "HAVING sum(amount_minor) <> 0) t",
                        NULL, NULL),
                 0, "the ledger does not sum to zero in some currency");
    cr_assert_eq(pg_num(pg, "SELECT count(*) FROM (SELECT journal_id FROM ledger_entries "
                            "GROUP BY journal_id, currency HAVING sum(amount_minor) <> 0) t",
                        NULL, NULL),
                 0, "an unbalanced journal");
    PQfinish(pg);
}
