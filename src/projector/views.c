/*
 * The views fold job (query/views.h has the counting side). Run by the active projector
 * only (it holds the advisory lock, so exactly one process folds, and a standby takes over
 * with the lock), every views_fold_ms, between batches of events:
 *
 *   1. SPOP up to FOLD_BATCH "<listing>:<day>" members of views:dirty;
 *   2. PFCOUNT each day's HyperLogLog (and give it its expiry), one pipeline;
 *   3. upsert the counts into listing_views (GREATEST: a lost HyperLogLog never lowers a day);
 *   4. sum each listing's days, compare with the read model's `views` (one find by _id $in),
 *      set the ones that differ (one unordered bulk write), and shorten the life of those
 *      listings' cached answers so that none shows a count older than VIEWS_FRESH_S
 *      (EXPIRE … LT). Nothing is dropped: a new count must not change a cached answer's ETag
 *      under a reader's feet every few seconds, nor empty nginx's or the search pages' caches.
 * A failure in 3 or 4 puts the members back, so the next pass redoes them; every step is
 * idempotent. After a rebuild (views_refold) every listing with views is marked dirty once,
 * so the new read model gets its totals back from PostgreSQL.
 */
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "projector/projections.h"
#include "query/views.h"
#include "worker.h"

#define FOLD_BATCH 500

static const struct pg_stmt UPSERT = {
    "views_upsert",
    "INSERT INTO listing_views (listing_id, day, uniques) "
    "SELECT * FROM unnest($1::uuid[], $2::date[], $3::int[]) "
    "ON CONFLICT (listing_id, day) DO UPDATE SET uniques = GREATEST(listing_views.uniques, excluded.uniques)",
    3};
static const struct pg_stmt TOTALS = {
    "views_totals",
    "SELECT listing_id::text, sum(uniques)::bigint FROM listing_views WHERE listing_id = ANY($1::uuid[]) "
    "GROUP BY listing_id",
    1};
static const struct pg_stmt ALL_LISTINGS = {
    "views_all", "SELECT DISTINCT ON (listing_id) listing_id::text || ':' || to_char(day, 'YYYYMMDD') "
                 "FROM listing_views ORDER BY listing_id, day DESC",
    0};

/* One member "<uuid>:<yyyymmdd>" split; false when it has another shape. */
static bool
split_member(const char *m, char id[37], char day[11])
{
    if (strlen(m) != 36 + 1 + 8 || m[36] != ':') {
        return false;
    }
    memcpy(id, m, 36);
    id[36] = '\0';
    snprintf(day, 11, "%.4s-%.2s-%.2s", m + 37, m + 41, m + 43);
    return true;
}

/* Member i of the SPOP reply members ("" when it is not a string). */
static const char *
member(const redisReply *members, size_t i)
{
    const char *m = redis_reply_str(redis_reply_at(members, i), NULL);
    return m != NULL ? m : "";
}

/* Put members back into views:dirty (after a failure). */
static void
requeue(struct worker *w, arena_t *a, const redisReply *members)
{
    size_t n = redis_reply_count(members);
    const char **argv = arena_alloc(a, (n + 2) * sizeof(*argv));
    argv[0] = "SADD";
    argv[1] = VIEWS_DIRTY_KEY;
    for (size_t i = 0; i < n; i++) {
        argv[i + 2] = member(members, i);
    }
    (void)redis_cmdv(&w->redis, a, NULL, (int)n + 2, argv, NULL);
}

/* Appends s to a PostgreSQL array literal being built in *buf. */
static void
arr_add(arena_t *a, char **buf, const char *s)
{
    *buf = *buf == NULL ? arena_sprintf(a, "%s", s) : arena_sprintf(a, "%s,%s", *buf, s);
}

/* Steps 2 and 3: count each member's day and upsert the days. *ids receives the array
 * literal of the distinct listing ids. */
static int
count_and_store(struct worker *w, arena_t *a, const redisReply *members, char **ids)
{
    size_t n = redis_reply_count(members);
    struct redis_argv *cmds = arena_alloc(a, 2 * n * sizeof(*cmds));
    redisReply **replies = arena_alloc(a, 2 * n * sizeof(*replies));
    for (size_t i = 0; i < n; i++) {
        const char *key = arena_sprintf(a, "views:%s", member(members, i));
        const char **pf = arena_alloc(a, 2 * sizeof(*pf)), **ex = arena_alloc(a, 3 * sizeof(*ex));
        pf[0] = "PFCOUNT", pf[1] = key;
        ex[0] = "EXPIRE", ex[1] = key, ex[2] = VIEWS_HLL_TTL_TEXT;
        cmds[2 * i] = (struct redis_argv){2, pf, NULL};
        cmds[2 * i + 1] = (struct redis_argv){3, ex, NULL};
    }
    int rc = redis_pipeline(&w->redis, a, cmds, (int)(2 * n), replies);
    if (rc != MK_OK) {
        return rc;
    }
    char *lids = NULL, *days = NULL, *counts = NULL;
    *ids = NULL;
    for (size_t i = 0; i < n; i++) {
        char id[37], day[11];
        long long uniques;
        if (!split_member(member(members, i), id, day) || !redis_reply_int(replies[2 * i], &uniques)) {
            continue;
        }
        arr_add(a, &lids, id);
        arr_add(a, &days, day);
        arr_add(a, &counts, arena_sprintf(a, "%lld", uniques));
        if (*ids == NULL || strstr(*ids, id) == NULL) {
            arr_add(a, ids, id);
        }
    }
    if (lids == NULL) {
        return MK_OK;
    }
    const char *values[] = {arena_sprintf(a, "{%s}", lids), arena_sprintf(a, "{%s}", days),
                            arena_sprintf(a, "{%s}", counts)};
    return pg_exec(&w->pg, a, &UPSERT, values, NULL);
}

/* The read model's views of the listings in totals (rows of listing id, total). */
static long long
current_views(const bson_t *const *docs, size_t ndocs, const char *id)
{
    for (size_t i = 0; i < ndocs; i++) {
        bson_iter_t it;
        if (bson_iter_init_find(&it, docs[i], "_id") && strcmp(bson_iter_utf8(&it, NULL), id) == 0) {
            return bson_iter_init_find(&it, docs[i], "views") && BSON_ITER_HOLDS_NUMBER(&it)
                       ? (long long)bson_iter_as_int64(&it)
                       : 0;
        }
    }
    return -1;   /* no such document (not projected yet): nothing to set */
}

/* Cap the remaining life of the cached answers of ids[0..n): their count is at most one fold
 * period old now, so they may live VIEWS_FRESH_S minus that and minus nginx's page life
 * (LT: never lengthened). */
static void
bound_cached(struct worker *w, arena_t *a, const char *const *ids, size_t n)
{
    if (n == 0) {
        return;
    }
    /* nginx may keep a page filled from the entry for http_cache_ttl_s more */
    int left = VIEWS_FRESH_S - (w->cfg->views_fold_ms + 999) / 1000 - w->cfg->http_cache_ttl_s;
    const char *life = arena_sprintf(a, "%d", left > 1 ? left : 1);
    struct redis_argv *cmds = arena_alloc(a, n * sizeof(*cmds));
    for (size_t i = 0; i < n; i++) {
        const char **argv = arena_alloc(a, 4 * sizeof(*argv));
        argv[0] = "EXPIRE", argv[1] = arena_sprintf(a, "cache:listing:%s", ids[i]), argv[2] = life, argv[3] = "LT";
        cmds[i] = (struct redis_argv){4, argv, NULL};
    }
    /* One round trip, now: the bound must hold from here (a failure leaves the entries to their
     * own expiry). */
    redisReply **replies = arena_alloc(a, n * sizeof(*replies));
    (void)redis_pipeline(&w->redis, a, cmds, (int)n, replies);
}

/* Step 4: set the totals that differ from the read model's; bound their cached answers' life. */
static int
apply_totals(struct worker *w, arena_t *a, const char *ids)
{
    PGresult *res;
    const char *values[] = {arena_sprintf(a, "{%s}", ids)};
    int rc = pg_exec(&w->pg, a, &TOTALS, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    int rows = pg_nrows(res);
    bson_t *filter = mongo_bson(a), in, arr;
    BSON_APPEND_DOCUMENT_BEGIN(filter, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (int i = 0; i < rows; i++) {
        char k[16];
        const char *key;
        bson_uint32_to_string((uint32_t)i, &key, k, sizeof(k));
        bson_append_utf8(&arr, key, -1, pg_value(res, i, 0), -1);
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(filter, &in);
    bson_t *opts = mongo_bson(a);
    BCON_APPEND(opts, "projection", "{", "views", BCON_INT32(1), "}");
    const bson_t **docs;
    size_t ndocs;
    if ((rc = mongo_find_all(&w->mongo, a, "listings", filter, opts, &docs, &ndocs)) != MK_OK) {
        return rc;
    }
    const bson_t **filters = arena_alloc(a, (size_t)(rows + 1) * sizeof(*filters));
    const bson_t **updates = arena_alloc(a, (size_t)(rows + 1) * sizeof(*updates));
    const char **changed = arena_alloc(a, (size_t)(rows + 1) * sizeof(*changed));
    size_t n = 0;
    for (int i = 0; i < rows; i++) {
        const char *id = pg_value(res, i, 0);
        long long total = pg_int(res, i, 1), have = current_views(docs, ndocs, id);
        if (have < 0 || have == total) {
            continue;
        }
        bson_t *f = mongo_bson(a), *u = mongo_bson(a);
        BCON_APPEND(f, "_id", BCON_UTF8(id));
        BCON_APPEND(u, "$set", "{", "views", BCON_INT64(total), "}");
        filters[n] = f, updates[n] = u, changed[n] = id, n++;
    }
    if ((rc = mongo_update_each(&w->mongo, "listings", filters, updates, n, false)) != MK_OK) {
        return rc;
    }
    bound_cached(w, a, changed, n);
    return MK_OK;
}

int
views_fold(struct worker *w, arena_t *a)
{
    redisReply *members;
    int rc = redis_cmd(&w->redis, a, &members, "SPOP %s %d", VIEWS_DIRTY_KEY, FOLD_BATCH);
    size_t n = rc == MK_OK ? redis_reply_count(members) : 0;
    if (n == 0) {
        return rc;
    }
    char *ids = NULL;
    rc = count_and_store(w, a, members, &ids);
    if (rc == MK_OK && ids != NULL) {
        rc = apply_totals(w, a, ids);
    }
    if (rc != MK_OK) {
        log_warn("views: fold of %zu listing-days failed (%d); they wait for the next pass", n, rc);
        requeue(w, a, members);
        return rc;
    }
    return n == FOLD_BATCH ? 1 : MK_OK;
}

int
views_refold(struct worker *w, arena_t *a)
{
    PGresult *res;
    int rc = pg_exec(&w->pg, a, &ALL_LISTINGS, NULL, &res);
    if (rc != MK_OK) {
        return rc;
    }
    int rows = pg_nrows(res);
    for (int start = 0; start < rows; start += FOLD_BATCH) {
        int n = rows - start < FOLD_BATCH ? rows - start : FOLD_BATCH;
        const char **argv = arena_alloc(a, (size_t)(n + 2) * sizeof(*argv));
        argv[0] = "SADD", argv[1] = VIEWS_DIRTY_KEY;
        for (int i = 0; i < n; i++) {
            argv[i + 2] = pg_value(res, start + i, 0);
        }
        if ((rc = redis_cmdv(&w->redis, a, NULL, n + 2, argv, NULL)) != MK_OK) {
            return rc;
        }
    }
    log_info("views: %d listings with views queued for the rebuilt read model", rows);
    return MK_OK;
}
