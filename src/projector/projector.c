#include "projector/projector.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/pool.h"
#include "domain/outbox.h"
#include "media/thumb.h"
#include "projector/cachestats.h"
#include "projector/prefetch.h"
#include "projector/projections.h"
#include "worker.h"

#define PROJECTOR_LOCK_KEY "7813920193451"   /* pg advisory lock key of the active projector */
#define MARKER_COLLECTION "projector_state"
#define MARKER_ID "checkpoint"

static const struct pg_stmt TRY_LOCK = {"proj_try_lock", "SELECT pg_try_advisory_lock($1::bigint)", 1};
static const struct pg_stmt GENERATION = {"proj_generation", "SELECT generation FROM projector_state", 0};
static const struct pg_stmt BUMP = {
    "proj_bump", "UPDATE projector_state SET generation = generation + 1 RETURNING generation", 0};

struct projector {
    struct worker w;
    arena_t *arena;
    PGconn *locked_conn;        /* the session holding the lock; any other means we lost it */
    long long generation;
    struct outbox_pos pos;
    bool rebuilding;
    bool once;                  /* exit when caught up (the --rebuild command) */
    struct cachestats cachestats; /* nginx cache outcomes, from its access log */
    double next_backlog;
    double next_fold;           /* views fold job (projector/views.c): when it runs next */
    bool refold;                /* a rebuild completed: give the new read model its views */
    struct prefetch *prefetch;  /* the next batch, read while this one is applied (NULL: none) */
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void
pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (!stop_requested && nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static bool
holds_lock(const struct projector *p)
{
    return p->locked_conn != NULL && p->w.pg.conn == p->locked_conn && pg_connected(&p->w.pg);
}

static void
set_standby(struct projector *p, const char *why)
{
    if (p->locked_conn != NULL) {
        log_warn("projector: standing by (%s)", why);
        /* Only a process that held the lock clears the flag: the processes share the role's
         * segment, and a standby failing to take the lock every second would otherwise
         * overwrite the active one's 1 (market_projector_active read 0 most of the time). */
        metrics_set(p->w.metrics->projector_active, 0);
    }
    p->locked_conn = NULL;
}

static int
pg_generation(struct projector *p, long long *gen)
{
    PGresult *res;
    int rc = pg_exec(&p->w.pg, p->arena, &GENERATION, NULL, &res);
    if (rc == MK_OK) {
        *gen = pg_int(res, 0, 0);
    }
    return rc;
}

/* Read the marker: MK_OK with its fields, MK_ENOTFOUND, or an error. */
static int
marker_load(struct projector *p, long long *gen, struct outbox_pos *pos, bool *rebuilding)
{
    const bson_t *doc;
    int rc = mongo_find_one(&p->w.mongo, p->arena, MARKER_COLLECTION,
                            mongo_own(p->arena, BCON_NEW("_id", BCON_UTF8(MARKER_ID))), NULL, &doc);
    if (rc == MK_OK) {
        bson_iter_t it;
        *gen = bson_iter_init_find(&it, doc, "generation") ? bson_iter_as_int64(&it) : -1;
        pos->seq = bson_iter_init_find(&it, doc, "seq") ? bson_iter_as_int64(&it) : 0;
        snprintf(pos->txid, sizeof(pos->txid), "%s",
                 bson_iter_init_find(&it, doc, "txid") && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL) : "0");
        *rebuilding = bson_iter_init_find(&it, doc, "rebuilding") && bson_iter_as_bool(&it);
    }
    return rc;
}

/* Save the checkpoint into the marker of our generation. MK_ENOTFOUND when the marker is
 * gone or names another generation (the read model was wiped or replaced under us). */
static int
marker_save(struct projector *p)
{
    bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set;
    BSON_APPEND_UTF8(&filter, "_id", MARKER_ID);
    BSON_APPEND_INT64(&filter, "generation", p->generation);
    BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
    BSON_APPEND_UTF8(&set, "txid", p->pos.txid);
    BSON_APPEND_INT64(&set, "seq", p->pos.seq);
    BSON_APPEND_BOOL(&set, "rebuilding", p->rebuilding);
    BSON_APPEND_DATE_TIME(&set, "updated_at", (int64_t)time(NULL) * 1000);
    bson_append_document_end(&update, &set);
    long long matched;
    int rc = mongo_update_one(&p->w.mongo, MARKER_COLLECTION, &filter, &update, NULL, &matched);
    if (rc == MK_OK && matched == 0) {
        rc = MK_ENOTFOUND;
    }
    bson_destroy(&filter);
    bson_destroy(&update);
    return rc;
}

/* Drop the read model and start generation gen from the first event. */
static int
rebuild(struct projector *p, long long gen)
{
    log_info("projector: rebuilding the read model as generation %lld", gen);
    struct projection_ctx pc = {&p->w.mongo, p->arena, &p->w, NULL};
    for (size_t i = 0; i < read_collections_count; i++) {
        const char *coll = read_collections[i].name;
        int (*indexes)(struct projection_ctx *, const char *) = read_collections[i].rebuild_indexes != NULL
                                                                    ? read_collections[i].rebuild_indexes
                                                                    : read_collections[i].ensure_indexes;
        int rc = mongo_drop(&p->w.mongo, coll);
        if (rc == MK_OK && indexes != NULL) {
            rc = indexes(&pc, coll);
        }
        if (rc != MK_OK) {
            return rc;
        }
    }
    bson_t filter = BSON_INITIALIZER, doc = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&filter, "_id", MARKER_ID);
    BSON_APPEND_UTF8(&doc, "_id", MARKER_ID);
    BSON_APPEND_INT64(&doc, "generation", gen);
    BSON_APPEND_UTF8(&doc, "txid", "0");
    BSON_APPEND_INT64(&doc, "seq", 0);
    BSON_APPEND_BOOL(&doc, "rebuilding", true);
    BSON_APPEND_DATE_TIME(&doc, "updated_at", (int64_t)time(NULL) * 1000);
    BSON_APPEND_BOOL(&opts, "upsert", true);
    int rc = mongo_replace_one(&p->w.mongo, MARKER_COLLECTION, &filter, &doc, &opts, NULL);
    bson_destroy(&filter);
    bson_destroy(&doc);
    bson_destroy(&opts);
    if (rc != MK_OK) {
        return rc;
    }
    p->generation = gen;
    snprintf(p->pos.txid, sizeof(p->pos.txid), "0");
    p->pos.seq = 0;
    p->rebuilding = true;
    metrics_add(p->w.metrics->projector_rebuilds, 1);
    metrics_set(p->w.metrics->projector_applied_seq, 0);
    return MK_OK;
}

/* Every read collection's indexes, once a rebuild has replayed the outbox. */
static int
complete_indexes(struct projection_ctx *pc)
{
    for (size_t i = 0; i < read_collections_count; i++) {
        if (read_collections[i].rebuild_indexes == NULL) {
            continue;
        }
        log_info("projector: building the indexes of %s", read_collections[i].name);
        int rc = read_collections[i].ensure_indexes(pc, read_collections[i].name);
        if (rc != MK_OK) {
            return rc;
        }
    }
    return MK_OK;
}

/* Compare the read model's marker with PostgreSQL's generation; rebuild on a mismatch,
 * otherwise resume from the marker's checkpoint. */
static int
sync_generation(struct projector *p)
{
    long long want, have;
    struct outbox_pos pos;
    bool rebuilding;
    int rc = pg_generation(p, &want);
    if (rc != MK_OK) {
        return rc;
    }
    rc = marker_load(p, &have, &pos, &rebuilding);
    if (rc == MK_ENOTFOUND || (rc == MK_OK && have != want)) {
        if (rc == MK_OK) {
            log_warn("projector: read model is generation %lld, PostgreSQL says %lld", have, want);
        } else {
            log_warn("projector: read model has no marker (empty or restarted MongoDB)");
        }
        return rebuild(p, want);
    }
    if (rc != MK_OK) {
        return rc;
    }
    p->generation = want;
    p->pos = pos;
    p->rebuilding = rebuilding;
    return MK_OK;
}

static bool
try_lock(struct projector *p)
{
    const char *values[] = {PROJECTOR_LOCK_KEY};
    PGresult *res;
    if (pg_exec(&p->w.pg, p->arena, &TRY_LOCK, values, &res) != MK_OK) {
        return false;
    }
    const char *v = pg_value(res, 0, 0);
    if (v == NULL || strcmp(v, "t") != 0) {
        return false;
    }
    if (pg_simple(&p->w.pg, "LISTEN outbox; LISTEN projector_control") != MK_OK) {
        return false;
    }
    p->locked_conn = p->w.pg.conn;
    metrics_set(p->w.metrics->projector_active, 1);
    log_info("projector: active (holding the advisory lock)");
    return true;
}

/* Apply one event. Returns MK_OK (applied, skipped or poisoned-and-logged) or
 * MK_EUNAVAILABLE (retry later without advancing). */
static int
apply_one(struct projector *p, const struct outbox_row *ev, json_object *payload, struct batch_effects *fx)
{
    projection_apply apply = projection_find(ev->event_type);
    bool notes = notify_wants(ev->event_type);
    if (apply == NULL && !notes) {
        log_debug("projector: no projection for %s (seq %lld)", ev->event_type, ev->seq);
        return MK_OK;
    }
    if (payload == NULL) {
        log_error("projector: event seq %lld has a payload that is not JSON; skipped", ev->seq);
        metrics_add(p->w.metrics->projector_events_skipped, 1);
        return MK_OK;
    }
    struct projection_ctx pc = {&p->w.mongo, p->arena, &p->w, fx};
    int rc = apply != NULL ? apply(&pc, ev, payload) : PROJ_SKIPPED;
    if (rc >= 0 && notes) {
        /* The notification projection, after the read model's (idempotent like it). */
        int nrc = project_notifications(&pc, ev, payload);
        if (nrc == MK_EUNAVAILABLE) {
            rc = nrc;
        } else if (nrc < 0) {
            log_error("projector: notifications of event seq %lld (%s) could not be made (%d)", ev->seq,
                      ev->event_type, nrc);
        }
    }
    if (rc == PROJ_APPLIED) {
        metrics_add(p->w.metrics->projector_events_applied, 1);
        return MK_OK;
    }
    if (rc == PROJ_QUEUED) {
        return MK_OK;   /* counted when the queue is sent (projection_flush) */
    }
    if (rc == PROJ_SKIPPED) {
        metrics_add(p->w.metrics->projector_events_skipped, 1);
        return MK_OK;
    }
    if (rc == MK_EUNAVAILABLE) {
        return rc;
    }
    log_error("projector: event seq %lld (%s %s v%lld) could not be applied (%d); skipped", ev->seq,
              ev->event_type, ev->aggregate_id, ev->version, rc);
    metrics_add(p->w.metrics->projector_events_skipped, 1);
    return MK_OK;
}

/* Wait for a NOTIFY (or the poll interval). Returns true when a control message came. */
static bool
wait_for_events(struct projector *p, int timeout_ms)
{
    bool control;
    if (pg_wait_notify(&p->w.pg, timeout_ms, "projector_control", &control) < 0) {
        pause_ms(timeout_ms);
        return false;
    }
    return control;
}

static void
update_backlog(struct projector *p)
{
    long long pending = 0, head = 0, age = 0;
    if (outbox_backlog(&p->w.pg, p->arena, &p->pos, &pending, &head, &age) == MK_OK) {
        metrics_set(p->w.metrics->projector_pending, pending);
        metrics_set(p->w.metrics->projector_head_seq, head);
        metrics_set(p->w.metrics->projector_lag_ms, age);
    }
}

/* The batch after the checkpoint: the one the prefetch thread read meanwhile when it read
 * this position, else read now. After a full batch, the next one is asked for at once, so it
 * is read and parsed while this one is applied; a batch that is not full means caught up,
 * and the next read waits for new events as before. */
static int
read_batch(struct projector *p, int batch, struct outbox_row **rows, json_object ***payloads, int *n)
{
    struct fetched *f = p->prefetch != NULL ? prefetch_take(p->prefetch, &p->pos) : NULL;
    if (f != NULL) {
        arena_cleanup_add(p->arena, fetched_free, f);
        *rows = f->rows;
        *payloads = f->payloads;
        *n = f->n;
    } else {
        int rc = outbox_read(&p->w.pg, p->arena, &p->pos, batch, rows, n);
        if (rc != MK_OK) {
            return rc;
        }
        *payloads = arena_alloc(p->arena, ((size_t)*n + 1) * sizeof(**payloads));
        fetched_parse(p->arena, *rows, *payloads, *n);
    }
    if (*n == batch && p->prefetch != NULL) {
        struct outbox_pos next = {.seq = (*rows)[*n - 1].seq};
        snprintf(next.txid, sizeof(next.txid), "%s", (*rows)[*n - 1].txid);
        prefetch_ask(p->prefetch, &next, batch);
    }
    return MK_OK;
}

/* One pass while active. Returns MK_OK to continue, 1 when caught up, <0 on trouble. */
static int
step(struct projector *p)
{
    struct outbox_row *rows;
    json_object **payloads;
    int n;
    int batch = p->w.cfg->projector_batch;
    int rc = read_batch(p, batch, &rows, &payloads, &n);
    if (rc != MK_OK) {
        return rc;
    }
    int done = 0;
    struct batch_effects fx = {.rebuilding = p->rebuilding};
    struct outbox_pos before = p->pos;
    struct projection_ctx pc = {&p->w.mongo, p->arena, &p->w, &fx};
    mongo_discard(&p->w.mongo);
    rc = n > 0 ? projection_prepare(&pc, rows, payloads, n) : MK_OK;
    for (int i = 0; i < n && !stop_requested && rc == MK_OK; i++) {
        rc = apply_one(p, &rows[i], payloads[i], &fx);
        if (rc != MK_OK) {
            break;
        }
        snprintf(p->pos.txid, sizeof(p->pos.txid), "%s", rows[i].txid);
        p->pos.seq = rows[i].seq;
        done++;
    }
    if (done > 0) {
        /* The batch's queued writes and deferred effects before its checkpoint: when they
         * fail, the batch is read and applied again (idempotently) rather than checkpointed
         * without them. */
        int frc = projection_flush(&pc);
        if (frc != MK_OK) {
            p->pos = before;
            return frc;
        }
        for (int i = 0; i < done; i++) {
            if (rows[i].seq > p->w.metrics->projector_applied_seq) {
                metrics_set(p->w.metrics->projector_applied_seq, rows[i].seq);
            }
        }
    }
    bool caught_up = rc == MK_OK && n < batch;
    bool rebuilt = false;
    if (caught_up && p->rebuilding) {
        /* The indexes a rebuild leaves out (read_collection.rebuild_indexes), built on the
         * filled collections; then the sellers' counts, skipped batch by batch while
         * rebuilding. A failure leaves the rebuild flagged: both are done again (creating an
         * existing index does nothing). */
        int crc = complete_indexes(&pc);
        if (crc == MK_OK) {
            crc = listing_recount_all(&pc);
        }
        if (crc != MK_OK) {
            return crc;
        }
        p->rebuilding = false;
        rebuilt = true;
        p->refold = true;
        log_info("projector: rebuild of generation %lld complete", p->generation);
    }
    if (done == 0 && !rebuilt && caught_up) {
        /* Idle: no write while nothing changes (run() checks the marker every second). */
        return 1;
    }
    if (done > 0 || rebuilt) {
        int src = marker_save(p);
        if (src == MK_ENOTFOUND) {
            log_warn("projector: the read-model marker vanished; resynchronising");
            src = sync_generation(p);
        }
        if (src != MK_OK) {
            return src;
        }
    }
    if (rc != MK_OK) {
        return rc;
    }
    return caught_up ? 1 : MK_OK;
}

/* The views fold job, every views_fold_ms while active: here, between batches, because the
 * active projector is exactly one process (the advisory lock) with every handle it needs,
 * and a standby takes the job over with the lock. A pass is bounded (a few batches of
 * listing-days), so events wait for it at most a few milliseconds. */
static void
fold_views(struct projector *p)
{
    double now = clock_mono();
    if (now < p->next_fold || p->rebuilding) {
        return;
    }
    p->next_fold = now + p->w.cfg->views_fold_ms / 1000.0;
    if (p->refold && views_refold(&p->w, p->arena) == MK_OK) {
        p->refold = false;
    }
    for (int pass = 0; pass < 8 && views_fold(&p->w, p->arena) == 1; pass++) {
    }
}

static int
run(struct projector *p)
{
    double next_marker_check = 0;
    int backoff = 100;
    bool synced = holds_lock(p);   /* --rebuild has synchronised before calling */
    while (!stop_requested) {
        pool_watchdog_beat();
        arena_reset(p->arena);
        if (!holds_lock(p)) {
            set_standby(p, "lock not held");
            synced = false;
            if (!try_lock(p)) {
                pause_ms(1000);
                continue;
            }
        }
        if (!synced) {
            if (sync_generation(p) != MK_OK) {
                pause_ms(backoff);
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
                continue;
            }
            synced = true;
        }
        int rc = step(p);
        if (rc < 0) {
            if (!holds_lock(p)) {
                continue;
            }
            pause_ms(backoff);
            backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
            continue;
        }
        backoff = 100;
        /* The backlog gauges every 250 ms, behind as well as caught up (during a long backlog
         * they are what an operator watches), and at once when a backlog has just been worked
         * off, so they never stay at a stale non-zero while the projector idles. */
        double now = clock_mono();
        if (now >= p->next_backlog || (rc == 1 && p->w.metrics->projector_pending > 0)) {
            update_backlog(p);
            p->next_backlog = now + 0.25;
        }
        fold_views(p);
        if (rc == MK_OK) {
            continue; /* a full batch: there may be more */
        }
        if (p->once) {
            return 0;
        }
        bool control = wait_for_events(p, p->w.cfg->projector_poll_ms);
        cachestats_poll(&p->cachestats, p->w.metrics);
        if (control || clock_mono() >= next_marker_check) {
            /* Cheap: one lookup by _id and one row; catches a wiped MongoDB and --rebuild. */
            arena_reset(p->arena);
            if (holds_lock(p) && sync_generation(p) != MK_OK) {
                pause_ms(backoff);
            }
            next_marker_check = clock_mono() + 1.0;
        }
    }
    return 0;
}

static void
projector_open(struct projector *p, const struct config *cfg)
{
    memset(p, 0, sizeof(*p));
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    metrics_open(cfg->run_dir, "projector", true, true);
    worker_open(&p->w, cfg, "projector");
    if (thumb_global_init(NULL) != MK_OK) {
        fprintf(stderr, "marketd: libvips cannot start (or lacks the JPEG, PNG or WebP loader)\n");
        exit(2);
    }
    p->arena = arena_create(64 * 1024);
    if (prefetch_start(&p->prefetch, cfg) != MK_OK) {
        p->prefetch = NULL;   /* every batch read in turn */
    }
    cachestats_init(&p->cachestats, cfg->nginx_access_log);
    snprintf(p->pos.txid, sizeof(p->pos.txid), "0");
}

static void
projector_close(struct projector *p)
{
    if (holds_lock(p)) {
        metrics_set(p->w.metrics->projector_active, 0);
    }
    prefetch_stop(p->prefetch);
    arena_destroy(p->arena);
    cachestats_close(&p->cachestats);
    worker_close(&p->w);
}

int
projector_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg, const char *name)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int err = pthread_create(thread, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        log_error("%s: cannot start its thread: %s", name, strerror(err));
        return MK_EINTERNAL;
    }
    return MK_OK;
}

int
projector_main(const struct config *cfg, int slot)
{
    struct projector p;
    projector_open(&p, cfg);
    pool_watchdog_init(p.w.metrics, slot, cfg->projector_watchdog_s);
    if (media_start(cfg) != MK_OK || timers_start(cfg) != MK_OK) {
        fprintf(stderr, "marketd: cannot start the media or timers thread\n");
        exit(2);
    }
    log_info("projector: started; waiting for the advisory lock");
    int rc = run(&p);
    timers_stop();
    media_stop();
    log_info("projector: stopped at txid %s seq %lld", p.pos.txid, p.pos.seq);
    projector_close(&p);
    return rc;
}

int
projector_rebuild(const struct config *cfg, int timeout_s)
{
    struct projector p;
    projector_open(&p, cfg);
    PGresult *res;
    int rc = pg_exec(&p.w.pg, p.arena, &BUMP, NULL, &res);
    if (rc != MK_OK) {
        fprintf(stderr, "rebuild: cannot reach PostgreSQL\n");
        projector_close(&p);
        return 1;
    }
    long long gen = pg_int(res, 0, 0);
    pg_simple(&p.w.pg, "NOTIFY projector_control");
    fprintf(stderr, "rebuild: generation %lld requested\n", gen);

    if (try_lock(&p)) {
        /* No projector is running: rebuild here, then exit. */
        p.once = true;
        rc = sync_generation(&p) == MK_OK ? run(&p) : 1;
        fprintf(stderr, "rebuild: %s (this process rebuilt it)\n", rc == 0 ? "done" : "failed");
        projector_close(&p);
        return rc;
    }
    /* The active projector will rebuild: wait until the marker shows it finished. The wait
     * is bounded by timeout_s without progress, not in all: a large catalogue takes minutes,
     * and while the marker's checkpoint moves the rebuild is alive. */
    double deadline = clock_mono() + timeout_s;
    long long last_seq = -1;
    while (!stop_requested && clock_mono() < deadline) {
        long long have;
        struct outbox_pos pos;
        bool rebuilding;
        arena_reset(p.arena);
        if (marker_load(&p, &have, &pos, &rebuilding) == MK_OK && have == gen) {
            if (!rebuilding) {
                fprintf(stderr, "rebuild: done (by the active projector)\n");
                projector_close(&p);
                return 0;
            }
            if (pos.seq != last_seq) {
                last_seq = pos.seq;
                deadline = clock_mono() + timeout_s;
            }
        }
        pause_ms(50);
    }
    fprintf(stderr, "rebuild: no progress for %d s; the active projector's log says why\n", timeout_s);
    projector_close(&p);
    return 1;
}
