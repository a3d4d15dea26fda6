/*
 * listing.* events → MongoDB `listings`: a document shaped for reading, embedding the
 * seller's display name and rating from `sellers`, image URLs, a GeoJSON point, and the
 * category path (so a category filter includes sub-categories). The seller's
 * active_listings count is recomputed from the collection once per batch (once at the end
 * of a rebuild).
 */
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/pool.h"
#include "domain/listing.h"
#include "domain/search.h"
#include "projector/projections.h"
#include "query/readmodel.h"
#include "worker.h"

/* The listing indexes. `rebuild`: kept while a rebuild replays the outbox (below). */
struct listing_index {
    const char *name;
    bool rebuild;
};

/* Index builds at the end of a rebuild may take minutes on a large catalogue (a real MongoDB
 * builds them in the background of the command, which waits): longer than the client's
 * socket time-out. */
#define INDEX_BUILD_TIMEOUT_MS (30 * 60 * 1000)

/* One createIndexes with every index (MongoDB builds them in one scan of the collection;
 * one client for the long command); an index that exists with the same key and options is
 * left as it is, in MongoDB as in the stand-in. only_rebuild: just those a rebuild keeps. */
static int
create_listing_indexes(struct projection_ctx *p, const char *coll, bool only_rebuild)
{
    /* Browse: status + category path + newest first; newest overall; price sorts; the
     * seller's listings; words, newest first (multikey keywords and title_words: the
     * relevance tiers of browse.c read them in index order). Near (browse.c's $geoNear and
     * $geoWithin, always with status "active", words as keywords $all): compound 2dsphere
     * indexes whose scalar prefix the query bounds by equality (status; status and the first
     * word), so a search walks the active listings (with that word) near the point, not every
     * listing, sold or not, within the radius. They replace {geo: "2dsphere"} (geo_2dsphere),
     * which an existing read model keeps until its next rebuild; $geoNear names the field
     * (key: "geo"), not an index, so it works with either.
     *
     * A rebuild (projector.c) replays every listing into an empty collection: maintaining
     * the browse indexes entry by entry then costs more than the writes themselves (the
     * keyword indexes hold ~45 entries per listing). It creates only the indexes the
     * projector's own writes and the reads that must keep working need — seller_status_created
     * (renames, ratings and recounts update by seller) and status_geo (a near search has no
     * plan without a 2dsphere index on geo: refused, not slower) — and the others when it
     * completes, each built from the filled collection in one pass (MongoDB's bulk build). */
    bson_t *keys[] = {
        BCON_NEW("status", BCON_INT32(1), "category_path", BCON_INT32(1), "created_us", BCON_INT32(-1)),
        BCON_NEW("status", BCON_INT32(1), "created_us", BCON_INT32(-1)),
        /* Price sorts are {price_minor: ±1, _id: ±1}: with _id in the key the index gives the
         * whole sort, so a page stops at its last listing. Without it (status_price, before)
         * mongod sorts every listing in the price range (a blocking SORT) and the stand-in read
         * every listing at the page's last price: demo prices are round, hundreds to thousands
         * of listings share one at 100k. A read model made before keeps status_price until its
         * next rebuild; the planners prefer this one (it gives the whole sort). */
        BCON_NEW("status", BCON_INT32(1), "price_minor", BCON_INT32(1), "_id", BCON_INT32(1)),
        BCON_NEW("seller_id", BCON_INT32(1), "status", BCON_INT32(1), "created_us", BCON_INT32(-1)),
        BCON_NEW("status", BCON_INT32(1), "geo", BCON_UTF8("2dsphere")),
        BCON_NEW("status", BCON_INT32(1), "keywords", BCON_INT32(1), "geo", BCON_UTF8("2dsphere")),
        BCON_NEW("status", BCON_INT32(1), "title_words", BCON_INT32(1), "created_us", BCON_INT32(-1), "_id",
                 BCON_INT32(-1)),
        BCON_NEW("status", BCON_INT32(1), "keywords", BCON_INT32(1), "created_us", BCON_INT32(-1), "_id",
                 BCON_INT32(-1)),
        /* Price insights (query/insights.c): sales of a category in a time window, over the
         * sold listings only (partial); status leads so that it beats status_category_created
         * for {status: "sold", category_path, sold_us: {$gte}} on the stand-in's score too. */
        BCON_NEW("status", BCON_INT32(1), "category_path", BCON_INT32(1), "sold_us", BCON_INT32(1)),
    };
    static const struct listing_index idx[] = {
        {"status_category_created", false}, {"status_created", false},      {"status_price_id", false},
        {"seller_status_created", true},    {"status_geo", true},           {"status_keywords_geo", false},
        {"status_title_created", false},    {"status_keywords_created", false}, {"status_category_sold", false},
    };
    bson_t *partial[] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, BCON_NEW("status", BCON_UTF8("sold"))};
    size_t n = sizeof(keys) / sizeof(keys[0]);
    bson_t *cmd = mongo_own(p->arena, bson_new()), arr;
    BSON_APPEND_UTF8(cmd, "createIndexes", coll);
    BSON_APPEND_ARRAY_BEGIN(cmd, "indexes", &arr);
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        mongo_own(p->arena, keys[i]);
        if (partial[i] != NULL) {
            mongo_own(p->arena, partial[i]);
        }
        if (only_rebuild && !idx[i].rebuild) {
            continue;
        }
        bson_t one;
        char kb[16];
        const char *key;
        bson_uint32_to_string(k++, &key, kb, sizeof(kb));
        bson_append_document_begin(&arr, key, -1, &one);
        BSON_APPEND_DOCUMENT(&one, "key", keys[i]);
        BSON_APPEND_UTF8(&one, "name", idx[i].name);
        if (partial[i] != NULL) {
            BSON_APPEND_DOCUMENT(&one, "partialFilterExpression", partial[i]);
        }
        bson_append_document_end(&arr, &one);
    }
    bson_append_array_end(cmd, &arr);
    pool_watchdog_busy(INDEX_BUILD_TIMEOUT_MS);
    int rc = mongo_write_command_long(p->mongo, coll, cmd, INDEX_BUILD_TIMEOUT_MS);
    pool_watchdog_beat();
    return rc;
}

int
listing_indexes(struct projection_ctx *p, const char *coll)
{
    return create_listing_indexes(p, coll, false);
}

int
listing_rebuild_indexes(struct projection_ctx *p, const char *coll)
{
    return create_listing_indexes(p, coll, true);
}

/* Append member name of payload (any JSON) to b as BSON. */
static bool
append_json(bson_t *b, const char *name, json_object *payload)
{
    json_object *v;
    return json_object_object_get_ex(payload, name, &v) && readmodel_append_json(b, name, v);
}

#define MAX_KEYWORDS 256

static void
append_word_array(bson_t *b, const char *name, const char **words, size_t n)
{
    bson_t arr;
    char k[16];
    const char *key;
    BSON_APPEND_ARRAY_BEGIN(b, name, &arr);
    for (size_t i = 0; i < n; i++) {
        bson_uint32_to_string((uint32_t)i, &key, k, sizeof(k));
        bson_append_utf8(&arr, key, -1, words[i], -1);
    }
    bson_append_array_end(b, &arr);
}

/* title_words and keywords (title and description): the folded words search matches
 * (domain/search.h), as multikey arrays. */
static void
append_words(struct projection_ctx *p, bson_t *b, json_object *payload)
{
    const char *title = json_object_get_string(json_object_object_get(payload, "title"));
    const char *description = json_object_get_string(json_object_object_get(payload, "description"));
    const char *words[MAX_KEYWORDS];
    size_t n = search_words(p->arena, title != NULL ? title : "", words, MAX_KEYWORDS);
    append_word_array(b, "title_words", words, n);
    char *all = arena_sprintf(p->arena, "%s %s", title != NULL ? title : "", description != NULL ? description : "");
    n = search_words(p->arena, all, words, MAX_KEYWORDS);
    append_word_array(b, "keywords", words, n);
}

/* sold_us, the time of the sale (price insights): the listing.sold event's own time, so a
 * rebuild gives the same value; null once the listing is not sold (a cancelled sale
 * relists it); other events of a sold listing leave it as it is. */
static void
append_sold(bson_t *b, const struct outbox_row *ev, json_object *payload)
{
    const char *status = json_object_get_string(json_object_object_get(payload, "status"));
    if (strcmp(ev->event_type, "listing.sold") == 0) {
        BSON_APPEND_INT64(b, "sold_us", (int64_t)ev->created_ms * 1000);
    } else if (status == NULL || strcmp(status, "sold") != 0) {
        BSON_APPEND_NULL(b, "sold_us");
    }
}

/* The listing's embed {id, display_name, rating} of seller_id from its `sellers` document
 * doc (NULL when missing: nulls). */
static void
seller_embed_build(const char *seller_id, const bson_t *doc, bson_t *s)
{
    bson_t rating;
    bson_iter_t it;
    bson_init(s);
    BSON_APPEND_UTF8(s, "id", seller_id);
    if (doc != NULL && bson_iter_init_find(&it, doc, "display_name") && BSON_ITER_HOLDS_UTF8(&it)) {
        BSON_APPEND_UTF8(s, "display_name", bson_iter_utf8(&it, NULL));
    } else {
        BSON_APPEND_NULL(s, "display_name");
    }
    if (doc != NULL && bson_iter_init_find(&it, doc, "rating") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        bson_append_iter(s, "rating", -1, &it);
    } else {
        BSON_APPEND_DOCUMENT_BEGIN(s, "rating", &rating);
        BSON_APPEND_NULL(&rating, "average");
        BSON_APPEND_INT32(&rating, "count", 0);
        bson_append_document_end(s, &rating);
    }
}

/* The seller's embed, from the batch's copy (listing_prepare looked the batch's sellers up at
 * once) or looked up now. */
static int
append_seller(struct projection_ctx *p, bson_t *b, const char *seller_id)
{
    const bson_t *known = seller_embed_find(p, seller_id);
    if (known != NULL) {
        BSON_APPEND_DOCUMENT(b, "seller", known);
        return MK_OK;
    }
    const bson_t *doc = NULL;
    int rc = mongo_find_one(p->mongo, p->arena, "sellers", mongo_own(p->arena, BCON_NEW("_id", BCON_UTF8(seller_id))),
                            NULL, &doc);
    bool found = rc == MK_OK;
    if (rc == MK_ENOTFOUND) {
        rc = MK_OK;
    }
    if (rc == MK_OK) {
        bson_t s;
        seller_embed_build(seller_id, found ? doc : NULL, &s);
        BSON_APPEND_DOCUMENT(b, "seller", &s);
        if (found) {
            seller_embed_remember(p, seller_id, &s);
        }
        bson_destroy(&s);
    }
    return rc;
}

static int
remember_seller(const bson_t *doc, void *ctx)
{
    struct projection_ctx *p = ctx;
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it)) {
        const char *id = bson_iter_utf8(&it, NULL);
        bson_t s;
        seller_embed_build(id, doc, &s);
        seller_embed_remember(p, id, &s);
        bson_destroy(&s);
    }
    return MK_OK;
}

int
listing_prepare(struct projection_ctx *p, const struct outbox_row *rows, json_object *const *payloads, int n)
{
    /* The sellers of the batch's listing events, in one find by _id. */
    bson_t *filter = mongo_own(p->arena, bson_new()), in, arr;
    BSON_APPEND_DOCUMENT_BEGIN(filter, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    struct idset ids = {0};
    for (int i = 0; i < n; i++) {
        json_object *seller;
        if (payloads[i] == NULL || strncmp(rows[i].event_type, "listing.", 8) != 0 ||
            !json_object_object_get_ex(payloads[i], "seller_id", &seller) ||
            !json_object_is_type(seller, json_type_string)) {
            continue;
        }
        const char *id = json_object_get_string(seller);
        size_t before = ids.n;
        idset_add(p->arena, &ids, id);
        if (ids.n != before) {
            char k[16];
            const char *key;
            bson_uint32_to_string((uint32_t)before, &key, k, sizeof(k));
            bson_append_utf8(&arr, key, -1, id, -1);
        }
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(filter, &in);
    return ids.n == 0 ? MK_OK : mongo_find_each(p->mongo, "sellers", filter, NULL, remember_seller, p);
}

struct seller_counts {
    arena_t *arena;
    const char **ids;
    long long *counts;
    size_t n, cap;
    bool seeded;   /* ids were entered beforehand: find them (a $group's ids are distinct) */
};

static int
add_count(const bson_t *doc, void *ctx)
{
    struct seller_counts *c = ctx;
    bson_iter_t it;
    if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_UTF8(&it)) {
        return MK_OK;
    }
    const char *id = bson_iter_utf8(&it, NULL);
    long long n = bson_iter_init_find(&it, doc, "n") ? bson_iter_as_int64(&it) : 0;
    for (size_t i = 0; c->seeded && i < c->n; i++) {
        if (strcmp(c->ids[i], id) == 0) {
            c->counts[i] = n;
            return MK_OK;
        }
    }
    if (c->n == c->cap) {
        size_t cap = c->cap != 0 ? c->cap * 2 : 64;
        const char **ids = arena_alloc(c->arena, cap * sizeof(*ids));
        long long *counts = arena_alloc(c->arena, cap * sizeof(*counts));
        if (c->n > 0) {
            memcpy(ids, c->ids, c->n * sizeof(*ids));
            memcpy(counts, c->counts, c->n * sizeof(*counts));
        }
        c->ids = ids;
        c->counts = counts;
        c->cap = cap;
    }
    c->ids[c->n] = arena_strdup(c->arena, id);
    c->counts[c->n++] = n;
    return MK_OK;
}

/* Count the active listings by seller of match (a $match stage's filter) and set
 * sellers.active_listings of each seller in c (counts filled in, 0 for those without). */
static int
recount(struct projection_ctx *p, bson_t *match, struct seller_counts *c)
{
    bson_t *pipeline = mongo_own(
        p->arena, BCON_NEW("pipeline", "[", "{", "$match", BCON_DOCUMENT(match), "}", "{", "$group", "{", "_id",
                           BCON_UTF8("$seller_id"), "n", "{", "$sum", BCON_INT32(1), "}", "}", "}", "]"));
    int rc = mongo_aggregate_each(p->mongo, "listings", pipeline, NULL, add_count, c);
    if (rc != MK_OK || c->n == 0) {
        return rc;
    }
    const bson_t **filters = arena_alloc(p->arena, c->n * sizeof(*filters));
    const bson_t **updates = arena_alloc(p->arena, c->n * sizeof(*updates));
    for (size_t i = 0; i < c->n; i++) {
        filters[i] = mongo_own(p->arena, BCON_NEW("_id", BCON_UTF8(c->ids[i])));
        updates[i] = mongo_own(p->arena, BCON_NEW("$set", "{", "active_listings", BCON_INT64(c->counts[i]), "}"));
    }
    return mongo_update_each(p->mongo, "sellers", filters, updates, c->n, false);
}

/* sellers.active_listings = the seller's active listings in the read model. */
int
listing_recount_active(struct projection_ctx *p, const char *const *seller_ids, size_t n)
{
    if (n == 0) {
        return MK_OK;
    }
    struct seller_counts c = {.arena = p->arena};
    bson_t *match = mongo_own(p->arena, bson_new()), in, arr;
    BSON_APPEND_DOCUMENT_BEGIN(match, "seller_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (size_t i = 0; i < n; i++) {
        char k[16];
        const char *key;
        bson_uint32_to_string((uint32_t)i, &key, k, sizeof(k));
        bson_append_utf8(&arr, key, -1, seller_ids[i], -1);
        add_count(mongo_own(p->arena, BCON_NEW("_id", BCON_UTF8(seller_ids[i]), "n", BCON_INT64(0))), &c);
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(match, &in);
    BSON_APPEND_UTF8(match, "status", "active");
    c.seeded = true;
    return recount(p, match, &c);
}

/* Every seller's count, once at the end of a rebuild (which skips the per-batch recounts):
 * the counts of sellers with active listings are set, and first every other count goes to 0.
 * A rebuild into empty collections creates sellers with 0 (the first step then changes
 * nothing), but a rebuild that finds a seller already counted — a projector resuming with the
 * marker's `rebuilding` over documents it keeps — would have left the count of a seller whose
 * last active listing went away in the rebuild at its old value (the recount sets only sellers
 * it finds listings of). */
int
listing_recount_all(struct projection_ctx *p)
{
    int rc = mongo_update_many(p->mongo, "sellers",
                               mongo_own(p->arena, BCON_NEW("active_listings", "{", "$ne", BCON_INT64(0), "}")),
                               mongo_own(p->arena, BCON_NEW("$set", "{", "active_listings", BCON_INT64(0), "}")),
                               NULL, NULL);
    if (rc != MK_OK) {
        return rc;
    }
    struct seller_counts c = {.arena = p->arena};
    return recount(p, mongo_own(p->arena, BCON_NEW("status", BCON_UTF8("active"))), &c);
}

int
project_listing(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload)
{
    int rc;
    if (strcmp(ev->event_type, "listing.image_attached") == 0) {
        media_wake();   /* the thumbnail is the media thread's; the listing is projected now */
    } else if (strcmp(ev->event_type, "listing.image_removed") == 0 ||
               strcmp(ev->event_type, "listing.image_rejected") == 0) {
        if ((rc = media_queue_removed(p, payload)) != MK_OK) {
            return rc;
        }
    }
    json_object *seller_v, *location, *lat, *lon;
    if (!json_object_object_get_ex(payload, "seller_id", &seller_v) ||
        !json_object_object_get_ex(payload, "location", &location) ||
        !json_object_object_get_ex(location, "lat", &lat) || !json_object_object_get_ex(location, "lon", &lon)) {
        return MK_EBADPARAM;
    }
    const char *seller_id = json_object_get_string(seller_v);
    bson_t fields = BSON_INITIALIZER, on_insert = BSON_INITIALIZER, geo, coords;
    static const char *const copied[] = {"id",          "seller_id",   "title",    "description", "category",
                                         "category_path", "condition", "price_minor", "currency", "location",
                                         "attributes",  "status",      "created_at", "updated_at", "created_us", NULL};
    rc = MK_OK;
    for (const char *const *f = copied; *f != NULL && rc == MK_OK; f++) {
        if (!append_json(&fields, *f, payload)) {
            rc = MK_EBADPARAM;
        }
    }
    if (rc == MK_OK) {
        /* Images in the API's shape, with URLs. */
        json_object *client = listing_client_json(payload, p->w->cfg->s3_public_base_url);
        if (!append_json(&fields, "images", client)) {
            rc = MK_EBADPARAM;
        }
        json_object_put(client);
    }
    if (rc == MK_OK) {
        append_sold(&fields, ev, payload);
        append_words(p, &fields, payload);
        BSON_APPEND_DOCUMENT_BEGIN(&fields, "geo", &geo);
        BSON_APPEND_UTF8(&geo, "type", "Point");
        BSON_APPEND_ARRAY_BEGIN(&geo, "coordinates", &coords);
        BSON_APPEND_DOUBLE(&coords, "0", json_object_get_double(lon));
        BSON_APPEND_DOUBLE(&coords, "1", json_object_get_double(lat));
        bson_append_array_end(&geo, &coords);
        bson_append_document_end(&fields, &geo);
        rc = append_seller(p, &fields, seller_id);
    }
    if (rc == MK_OK) {
        BSON_APPEND_INT64(&on_insert, "favorites", 0);
        BSON_APPEND_INT64(&on_insert, "views", 0);   /* the fold job's (projector/views.c) */
        /* Queued: what follows is the same whatever the version guard decides. */
        rc = projection_queue_versioned(p, "listings", ev->aggregate_id, ev->version, ev->seq, &fields, &on_insert);
        if (rc == PROJ_QUEUED) {
            recount_seller(p, seller_id);
            if (ev->version == 1) {
                /* A new listing: no cache holds an answer for it (a 404 is never cached), only
                 * search pages and the seller's profile (its count) change. */
                invalidate_catalog(p);
            } else {
                invalidate_listing(p, ev->aggregate_id);
            }
            invalidate_user(p, seller_id);
        }
    }
    bson_destroy(&fields);
    bson_destroy(&on_insert);
    return rc;
}
