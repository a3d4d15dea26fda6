/*
 * projections.h — how events become read-model documents.
 *
 * Each event type has one apply function. Apply functions are idempotent and
 * version-guarded: a document keeps its aggregate's `version` and the highest outbox
 * `seq` applied to it, and an event whose version is not newer than the document's only
 * raises `seq` (it is already reflected). Replays, crashes and the (txid, seq) reading
 * order, which is not commit order for one aggregate, are therefore all harmless.
 */
#ifndef MK_PROJECTIONS_H
#define MK_PROJECTIONS_H

#include <pthread.h>
#include <stdint.h>

#include <json-c/json.h>

#include "domain/outbox.h"
#include "store/mongo.h"

/* The outcome of applying one event. PROJ_QUEUED: its write is queued (mongo.h, queued
 * updates) and is counted as applied or skipped when the batch's queue is sent. */
enum { PROJ_APPLIED = 0, PROJ_SKIPPED = 1, PROJ_QUEUED = 2 };

struct worker;
struct config;

/* Ids collected once each (in the batch's arena), in the order they came; past 16 of them
 * also in a hash table (slots: index + 1, 0 empty), since a batch's listing events look up
 * their seller in three sets of up to a few hundred ids each. */
struct idset {
    const char **v;
    size_t n, cap;
    uint32_t *slots;
    size_t nslots;   /* 0, or a power of two at least twice cap */
};

/* Add id to s unless it is there (copied into a). */
void idset_add(arena_t *a, struct idset *s, const char *id);
/* Whether s holds id. */
bool idset_has(const struct idset *s, const char *id);
/* Where s holds id (the order of idset_add), or -1. */
long idset_index(const struct idset *s, const char *id);

struct notify_batch;   /* the batch's notifications (projector/notify.c) */

/*
 * What a batch of events leaves to do once per id, before its checkpoint is saved: sellers
 * whose active-listing count to recount, cache entries and pages to invalidate. A burst of
 * one seller's listings then costs one count and one catalog generation, not one per event.
 */
struct batch_effects {
    struct idset recount;        /* sellers: active_listings from the listings collection */
    struct idset listings;       /* listing answers and pages */
    struct idset users;          /* profile answers and pages */
    struct idset seller_pages;   /* every listing page of these sellers (their name or rating changed) */
    bool catalog;                /* search pages: a new catalog generation */
    struct idset embed_ids;      /* sellers whose listing embed {id, display_name, rating} is known */
    bson_t **embeds;             /* parallel to embed_ids (NULL: forgotten); freed with the arena */
    bool rebuilding;             /* no recounts: listing_recount_all when the rebuild completes */
    bool no_alerts;              /* no saved search has alerts (looked up once per batch) */
    struct notify_batch *notes;  /* favouriters looked up once, notifications and deliveries written once */
};

struct projection_ctx {
    struct mongo_store *mongo;
    arena_t *arena;
    struct worker *w;     /* the projector's handles: PostgreSQL (holding the lock), S3, config */
    struct batch_effects *fx;   /* the batch's deferred effects (NULL outside a batch: none) */
};

/* Apply ev (payload parsed as JSON). Returns PROJ_APPLIED, PROJ_SKIPPED, or a negative
 * MK_ error: MK_EUNAVAILABLE is retried later, anything else marks the event poisoned. */
typedef int (*projection_apply)(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload);

struct projection {
    const char *event_type;
    projection_apply apply;
};

/* A read-model collection: dropped by a rebuild, then given its indexes (rebuild_indexes
 * when set: those it needs while the rebuild replays the outbox; ensure_indexes, all of
 * them, when the rebuild completes). */
struct read_collection {
    const char *name;
    int (*ensure_indexes)(struct projection_ctx *p, const char *coll);
    int (*rebuild_indexes)(struct projection_ctx *p, const char *coll);
};

extern const struct projection projections[];
extern const size_t projections_count;
extern const struct read_collection read_collections[];
extern const size_t read_collections_count;

/* The apply function for an event type, or NULL. */
projection_apply projection_find(const char *event_type);

/*
 * The shared version guard: set `fields` (plus version, seq) on document _id = id in
 * collection if its version is older than version (or it does not exist); otherwise only
 * raise its seq. on_insert (may be NULL) holds fields set only when the document is
 * created, for members other events maintain (a seller's rating). Returns PROJ_APPLIED,
 * PROJ_SKIPPED or an error.
 */
int projection_upsert_versioned(struct projection_ctx *p, const char *collection, const char *id,
                                long long version, long long seq, const bson_t *fields, const bson_t *on_insert);

/* projection_upsert_versioned with its write queued (mongo_update_one_queued): the batch's
 * writes to one collection go out together. For projections whose other effects do not
 * depend on the outcome. Returns PROJ_QUEUED or an error. */
int projection_queue_versioned(struct projection_ctx *p, const char *collection, const char *id,
                               long long version, long long seq, const bson_t *fields, const bson_t *on_insert);

/* Before a batch is applied (payloads[i] parsed from rows[i], NULL when not JSON): look up
 * at once what its events would look up one by one (projector/listing.c: the sellers to
 * embed; projector/notify.c: whether any saved search has alerts). Errors are returned. */
int projection_prepare(struct projection_ctx *p, const struct outbox_row *rows, json_object *const *payloads, int n);
int listing_prepare(struct projection_ctx *p, const struct outbox_row *rows, json_object *const *payloads, int n);
int notify_prepare(struct projection_ctx *p, const struct outbox_row *rows, json_object *const *payloads, int n);

/* Event apply functions, one per aggregate (projector/<aggregate>.c). */
int project_ping(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload);
int project_user(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload);
int project_listing(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload);
int project_favorite(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload);
int project_review(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload);

/*
 * Notifications (projector/notify.c): notify_wants says whether an event type may make
 * notifications; project_notifications applies it to the `notifications` read model (and
 * enqueues webhook deliveries in PostgreSQL). Runs after the event's read-model projection,
 * if any, in the same pass, so favouriters are those of the read model at this event.
 */
bool notify_wants(const char *event_type);
int project_notifications(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload);
int notify_indexes(struct projection_ctx *p, const char *coll);
/* Within a batch, notifications are written once for the batch (notify_send, from
 * projection_flush and before anything reads them), and favouriters come from one find when
 * the batch starts (notify_prepare) kept up to date by the batch's favourite events, which
 * report each favourite they apply (the favourites version guard's own rule). */
int notify_send(struct projection_ctx *p);
void notify_favorite_applied(struct projection_ctx *p, const char *user_id, const char *listing_id, long long version,
                             bool active);

/* Indexes of the `favorites` read model (projector/favorite.c). */
int favorite_indexes(struct projection_ctx *p, const char *coll);

/* Indexes of the `listings` read model (projector/listing.c). */
int listing_indexes(struct projection_ctx *p, const char *coll);
/* The listing indexes a rebuild keeps while it replays the outbox (listing_indexes gives the
 * others when it completes). */
int listing_rebuild_indexes(struct projection_ctx *p, const char *coll);

/* Indexes of the `reviews` read model (projector/review.c). */
int review_indexes(struct projection_ctx *p, const char *coll);

/*
 * Images, off the critical path (projector/media.c): a media thread of each projector
 * process makes the thumbnails of pending images (PostgreSQL says which) and deletes queued
 * objects; it marks an image ready and appends listing.image_processed, or deletes an object
 * that does not decode (listing.image_rejected). Applying listing.image_attached only wakes
 * it, so an image (or S3 being down) never delays any other event.
 */
int media_start(const struct config *cfg);   /* the media thread of this process */
void media_stop(void);
void media_wake(void);                        /* there may be work: look now */

/*
 * The durable timers of offers (projector/timers.c): a timers thread of each projector
 * process applies offers' expiries and reservation lapses whose time is up, from PostgreSQL.
 */
int timers_start(const struct config *cfg);
void timers_stop(void);
/* One pass of a timers thread: the earliest due offer applied in a transaction of its own on pg.
 * 1: applied, or found applied by another process in the meantime (look again at once); 0: none
 * due; <0: trouble (PostgreSQL down: nothing changed). */
int timers_apply_one(struct pg *pg, arena_t *arena);

/* Start fn(arg) on a thread of this process with every signal blocked (signals stay with the
 * projector's main thread). name is for the log. MK_OK or MK_EINTERNAL. */
int projector_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg, const char *name);

/* Cache invalidation after a change (projector/invalidate.c): Redis markers, the catalog
 * generation, nginx purges. Recorded in the batch's effects, carried out (best effort) by
 * projection_flush. */
void invalidate_listing(struct projection_ctx *p, const char *listing_id);
void invalidate_user(struct projection_ctx *p, const char *user_id);
void invalidate_seller_listings(struct projection_ctx *p, const char *seller_id);
void invalidate_catalog(struct projection_ctx *p);   /* search pages only */

/* Views (projector/views.c), run by the active projector only: fold views:dirty into
 * listing_views and the read model's `views` (MK_OK, 1 when more is waiting, or an error);
 * after a rebuild, mark every listing with views dirty once. */
int views_fold(struct worker *w, arena_t *a);
int views_refold(struct worker *w, arena_t *a);

/* The batch's copy of a seller's listing embed, or NULL; remember one (copied); forget one
 * whose name or rating just changed (projector/invalidate.c). */
const bson_t *seller_embed_find(struct projection_ctx *p, const char *seller_id);
void seller_embed_remember(struct projection_ctx *p, const char *seller_id, const bson_t *embed);
void seller_embed_forget(struct projection_ctx *p, const char *seller_id);

/* The seller's active_listings needs recounting (done once per batch, projector/listing.c). */
void recount_seller(struct projection_ctx *p, const char *seller_id);
/* sellers.active_listings of these sellers from the listings collection: one aggregation and
 * one bulk write for all of them. listing_recount_all: of every seller (a completed rebuild). */
int listing_recount_active(struct projection_ctx *p, const char *const *seller_ids, size_t n);
int listing_recount_all(struct projection_ctx *p);

/* Carry out the batch's effects: its queued writes (counted in the metrics), recounts (an error: the batch is not checkpointed and is
 * applied again), then the invalidations (best effort). Empties p->fx. */
int projection_flush(struct projection_ctx *p);

/* Queue the payload's removed_keys for deletion from the bucket (by the media thread). */
int media_queue_removed(struct projection_ctx *p, json_object *payload);

#endif
