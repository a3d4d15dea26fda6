/*
 * The durable timers of offers (issue 11): an open offer expires `offer_ttl_s` after its last
 * move, a reservation lapses `reservation_ttl_s` after the accept. The due times are rows in
 * PostgreSQL (offers.expires_at of offers still open or accepted, index offers_due); nothing
 * waits in memory. A timers thread in every projector process (the active one and its
 * standbys, like the media thread) looks once a second for offers whose time is up and applies
 * each in a transaction of its own with its events (domain/offer.h, offer_expire_due). The
 * offer's listing is taken FOR UPDATE SKIP LOCKED, so the threads of several processes share
 * the work without an election and never wait on each other or on a command: a listing a
 * command holds is looked at again on the next pass.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "core/errors.h"
#include "core/log.h"
#include "domain/offer.h"
#include "projector/projections.h"
#include "store/pg.h"

#define TIMERS_POLL_MS 1000     /* due timers are applied within about this long */
#define TIMERS_BACKOFF_MAX_MS 5000

struct timers {
    struct pg pg;
    arena_t *arena;
    pthread_t thread;
    atomic_bool stop;
    bool running;
};

static struct timers timers;

/* Sleep ms, in short steps so that a stop is noticed promptly. */
static void
nap(struct timers *t, int ms)
{
    while (ms > 0 && !atomic_load(&t->stop)) {
        int step = ms < 100 ? ms : 100;
        struct timespec ts = {0, (long)step * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        ms -= step;
    }
}

/* Apply one due timer in its own transaction. 1: applied (or another process applied it first:
 * look again at once), 0: none due, <0: trouble. */
int
timers_apply_one(struct pg *pg, arena_t *arena)
{
    long long seq = 0;
    int rc = pg_simple(pg, "BEGIN");
    if (rc != MK_OK) {
        return rc;
    }
    rc = offer_expire_due(pg, arena, &seq);
    int end = pg_simple(pg, rc == MK_OK ? "COMMIT" : "ROLLBACK");
    if (rc == MK_ENOTFOUND) {
        return 0;
    }
    if (rc == MK_ECONFLICT) {
        return 1;
    }
    rc = rc == MK_OK ? end : rc;
    if (rc == MK_OK) {
        log_debug("timers: an offer's time was up (event seq %lld)", seq);
        return 1;
    }
    return rc;
}

static void *
timers_main(void *arg)
{
    struct timers *t = arg;
    int backoff = 100;
    while (!atomic_load(&t->stop)) {
        arena_reset(t->arena);
        int rc = timers_apply_one(&t->pg, t->arena);
        if (rc > 0) {
            backoff = 100;
            continue;   /* there may be more due */
        }
        if (rc < 0) {
            /* PostgreSQL down or a conflict: nothing changed; the due rows wait for us. */
            nap(t, backoff);
            backoff = backoff * 2 > TIMERS_BACKOFF_MAX_MS ? TIMERS_BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        backoff = 100;
        nap(t, TIMERS_POLL_MS);
    }
    return NULL;
}

int
timers_start(const struct config *cfg)
{
    struct timers *t = &timers;
    pg_init(&t->pg, cfg->pg_dsn, cfg->pg_statement_timeout_ms);
    pg_set_pooled(&t->pg, cfg->pg_transaction_pooling);
    t->arena = arena_create(16 * 1024);
    atomic_store(&t->stop, false);
    int rc = projector_thread_start(&t->thread, timers_main, t, "timers");
    t->running = rc == MK_OK;
    return rc;
}

void
timers_stop(void)
{
    struct timers *t = &timers;
    if (!t->running) {
        return;
    }
    atomic_store(&t->stop, true);
    pthread_join(t->thread, NULL);
    t->running = false;
    arena_destroy(t->arena);
    pg_close(&t->pg);
}
