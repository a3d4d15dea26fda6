/*
 * After the read model changed: stale markers over the Redis entries of the changed
 * documents, a new catalog generation for search pages, and nginx purges of the pages
 * (query/cache.h explains the keys). Apply functions record what changed in the batch's
 * effects; projection_flush does each thing once per batch, after every document of the
 * batch was written and before the checkpoint. The invalidations are best effort: what
 * cannot be dropped expires.
 */
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "projector/projections.h"
#include "worker.h"

/* Readers store no answer over a marker while it lives (query/cache.c), which closes the
 * window in which a reader that read the old document could cache it after the change. */
#define MARKER_TTL_S "5"

/* One round trip for every marker of the batch, and the catalog generation when asked. */
static const char MARK_SCRIPT[] = "for i, k in ipairs(KEYS) do redis.call('SET', k, 'stale', 'EX', ARGV[1]) end "
                                  "if ARGV[2] == '1' then redis.call('INCR', 'catalog:gen') end "
                                  "return #KEYS";

static uint32_t
idset_hash(const char *id)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)id; *c != 0; c++) {
        h = (h ^ *c) * 16777619u;
    }
    return h;
}

static void
idset_slot(struct idset *s, size_t i)
{
    size_t mask = s->nslots - 1, h = idset_hash(s->v[i]) & mask;
    while (s->slots[h] != 0) {
        h = (h + 1) & mask;
    }
    s->slots[h] = (uint32_t)i + 1;
}

void
idset_add(arena_t *a, struct idset *s, const char *id)
{
    if (idset_index(s, id) >= 0) {
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap != 0 ? s->cap * 2 : 16;
        const char **v = arena_alloc(a, cap * sizeof(*v));
        if (s->n > 0) {
            memcpy(v, s->v, s->n * sizeof(*v));
        }
        s->v = v;
        s->cap = cap;
        if (cap > 16) {
            s->nslots = cap * 2;
            s->slots = arena_calloc(a, s->nslots * sizeof(*s->slots));
            for (size_t i = 0; i < s->n; i++) {
                idset_slot(s, i);
            }
        }
    }
    s->v[s->n++] = arena_strdup(a, id);
    if (s->nslots != 0) {
        idset_slot(s, s->n - 1);
    }
}

bool
idset_has(const struct idset *s, const char *id)
{
    return idset_index(s, id) >= 0;
}

void
invalidate_listing(struct projection_ctx *p, const char *listing_id)
{
    if (p->fx != NULL) {
        idset_add(p->arena, &p->fx->listings, listing_id);
        p->fx->catalog = true;
    }
}

void
invalidate_catalog(struct projection_ctx *p)
{
    if (p->fx != NULL) {
        p->fx->catalog = true;
    }
}

void
invalidate_user(struct projection_ctx *p, const char *user_id)
{
    if (p->fx != NULL) {
        idset_add(p->arena, &p->fx->users, user_id);
    }
}

void
invalidate_seller_listings(struct projection_ctx *p, const char *seller_id)
{
    if (p->fx != NULL) {
        idset_add(p->arena, &p->fx->seller_pages, seller_id);
        p->fx->catalog = true;
    }
}

void
recount_seller(struct projection_ctx *p, const char *seller_id)
{
    if (p->fx != NULL) {
        idset_add(p->arena, &p->fx->recount, seller_id);
    }
}

long
idset_index(const struct idset *s, const char *id)
{
    if (s->nslots != 0) {
        size_t mask = s->nslots - 1;
        for (size_t h = idset_hash(id) & mask; s->slots[h] != 0; h = (h + 1) & mask) {
            if (strcmp(s->v[s->slots[h] - 1], id) == 0) {
                return (long)s->slots[h] - 1;
            }
        }
        return -1;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i], id) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* Listings embed their seller; a burst of one seller's listings looks the seller up once per
 * batch. A user or review event of the seller forgets the copy (its name or rating changed). */
const bson_t *
seller_embed_find(struct projection_ctx *p, const char *seller_id)
{
    if (p->fx == NULL) {
        return NULL;
    }
    long i = idset_index(&p->fx->embed_ids, seller_id);
    return i >= 0 ? p->fx->embeds[i] : NULL;
}

void
seller_embed_remember(struct projection_ctx *p, const char *seller_id, const bson_t *embed)
{
    struct batch_effects *fx = p->fx;
    if (fx == NULL) {
        return;
    }
    bson_t *copy = mongo_own(p->arena, bson_copy(embed));
    long i = idset_index(&fx->embed_ids, seller_id);
    if (i < 0) {
        size_t cap = fx->embed_ids.cap;
        idset_add(p->arena, &fx->embed_ids, seller_id);
        if (fx->embed_ids.cap != cap || fx->embeds == NULL) {
            bson_t **grown = arena_alloc(p->arena, fx->embed_ids.cap * sizeof(*grown));
            if (fx->embed_ids.n > 1) {
                memcpy(grown, fx->embeds, (fx->embed_ids.n - 1) * sizeof(*grown));
            }
            fx->embeds = grown;
        }
        i = (long)fx->embed_ids.n - 1;
    }
    fx->embeds[i] = copy;
}

void
seller_embed_forget(struct projection_ctx *p, const char *seller_id)
{
    if (p->fx != NULL) {
        long i = idset_index(&p->fx->embed_ids, seller_id);
        if (i >= 0) {
            p->fx->embeds[i] = NULL;
        }
    }
}

struct listing_ids {
    arena_t *arena;
    struct idset *into;
};

static int
add_listing_id(const bson_t *doc, void *ctx)
{
    struct listing_ids *l = ctx;
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it)) {
        idset_add(l->arena, l->into, bson_iter_utf8(&it, NULL));
    }
    return MK_OK;
}

/* Every listing of the sellers in fx->seller_pages joins fx->listings (best effort). */
static void
add_seller_listings(struct projection_ctx *p, struct batch_effects *fx)
{
    struct listing_ids l = {p->arena, &fx->listings};
    bson_t *opts = mongo_own(p->arena, BCON_NEW("projection", "{", "_id", BCON_INT32(1), "}"));
    for (size_t s = 0; s < fx->seller_pages.n; s++) {
        bson_t *filter = mongo_own(p->arena, BCON_NEW("seller_id", BCON_UTF8(fx->seller_pages.v[s])));
        mongo_find_each(p->mongo, "listings", filter, opts, add_listing_id, &l);
    }
}

static void
mark_all(struct projection_ctx *p, const struct batch_effects *fx)
{
    size_t nkeys = fx->listings.n + fx->users.n;
    if (nkeys == 0 && !fx->catalog) {
        return;
    }
    int argc = (int)nkeys + 5;
    const char **argv = arena_alloc(p->arena, sizeof(char *) * (size_t)argc);
    int i = 0;
    argv[i++] = "EVAL";
    argv[i++] = MARK_SCRIPT;
    argv[i++] = arena_sprintf(p->arena, "%zu", nkeys);
    for (size_t k = 0; k < fx->listings.n; k++) {
        argv[i++] = arena_sprintf(p->arena, "cache:listing:%s", fx->listings.v[k]);
    }
    for (size_t k = 0; k < fx->users.n; k++) {
        argv[i++] = arena_sprintf(p->arena, "cache:user:%s", fx->users.v[k]);
    }
    argv[i++] = MARKER_TTL_S;
    argv[i++] = fx->catalog ? "1" : "0";
    (void)redis_cmdv(&p->w->redis, p->arena, NULL, argc, argv, NULL);
}

/*
 * nginx's cached pages of the batch's listings and users. None while rebuilding: the replay's
 * answers are not kept by nginx (a document the replay reached is read as X-Read-Stale, which
 * says X-Accel-Expires: 0; its Redis entry was just marked), so a page nginx holds then was kept
 * before the replay reached its document and expires within http_cache_ttl_s, purge or not.
 * Purging anyway cost a rebuild two requests per listing, mostly for pages never cached, and
 * ngx_cache_purge takes a keys-zone node for each key it looks up: a 120k-listing rebuild sent
 * 270k purges, filled the zone ("could not allocate node" alerts) and had purges answered 500.
 */
static void
purge_pages(struct projection_ctx *p, const struct batch_effects *fx)
{
    size_t n = 2 * fx->listings.n + fx->users.n;
    const char *base = p->w->purge.base;
    if (n == 0 || base == NULL || base[0] == '\0') {   /* purging is off */
        return;
    }
    if (fx->rebuilding) {
        metrics_add(p->w->metrics->page_purges[1], n);
        return;
    }
    const char **uris = arena_alloc(p->arena, n * sizeof(*uris)), **u = uris;
    for (size_t k = 0; k < fx->listings.n; k++) {
        *u++ = arena_sprintf(p->arena, "/api/v1/listings/%s", fx->listings.v[k]);
        *u++ = arena_sprintf(p->arena, "/l/%s", fx->listings.v[k]);
    }
    for (size_t k = 0; k < fx->users.n; k++) {
        *u++ = arena_sprintf(p->arena, "/api/v1/users/%s", fx->users.v[k]);
    }
    purge_many(&p->w->purge, uris, n);
    metrics_add(p->w->metrics->page_purges[0], n);
}

int
projection_flush(struct projection_ctx *p)
{
    struct batch_effects *fx = p->fx;
    if (fx == NULL) {
        return MK_OK;
    }
    long long applied, duplicates, lost;
    int rc = notify_send(p);
    if (rc == MK_OK) {
        rc = mongo_flush(p->mongo, &applied, &duplicates, &lost);
    }
    if (rc != MK_OK) {
        return rc;
    }
    metrics_add(p->w->metrics->projector_events_applied, (uint64_t)applied);
    metrics_add(p->w->metrics->projector_events_skipped, (uint64_t)(duplicates + lost));
    if (!fx->rebuilding && (rc = listing_recount_active(p, fx->recount.v, fx->recount.n)) != MK_OK) {
        return rc;
    }
    add_seller_listings(p, fx);
    mark_all(p, fx);
    purge_pages(p, fx);
    bool rebuilding = fx->rebuilding, no_alerts = fx->no_alerts;
    memset(fx, 0, sizeof(*fx));
    fx->rebuilding = rebuilding;
    fx->no_alerts = no_alerts;
    return MK_OK;
}
