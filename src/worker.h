/*
 * worker.h — one process's handles on the outside world. Each pool worker and the
 * projector own exactly one, opened after exec (so no driver state crosses a fork), and
 * pass it down to handlers through request.worker.
 */
#ifndef MK_WORKER_H
#define MK_WORKER_H

#include "core/config.h"
#include "core/http.h"
#include "core/metrics.h"
#include "core/router.h"
#include "domain/category.h"
#include "store/mongo.h"
#include "store/pg.h"
#include "store/purge.h"
#include "store/redis.h"
#include "store/s3.h"

struct worker {
    const struct config *cfg;
    const char *role;
    struct pg pg;              /* the primary: every write, and reads that must see them */
    struct pg pg_read;         /* private reads of the query role: a replica when configured */
    long long replica_replayed;        /* highest replay position seen on pg_read (query/private.c) */
    struct redis_store redis;
    struct mongo_store mongo;
    struct s3 s3;
    struct purge purge;                /* nginx cache purges (the projector) */
    struct metrics_segment *metrics;
    const struct route *routes;        /* the route table served (NULL in the projector): metrics labels */
    size_t nroutes;
    struct category_set *categories;   /* cached reference data, see worker_categories */
    double categories_at;              /* monotonic time of the last load */
    bool rebuilding;                   /* the read model is being rebuilt (readmodel.c) */
    double rebuilding_at;              /* monotonic time of the last look at the marker */
};

/* Categories change only with migrations: a worker keeps the set it loaded for this long. */
#define WORKER_CATEGORIES_TTL_S 300.0

/* Initialise every handle (connections open lazily). Aborts on a bad configuration. */
void worker_open(struct worker *w, const struct config *cfg, const char *role);

void worker_close(struct worker *w);

/* The pool's idle hook (ctx: the worker's struct server): sends what was queued for Redis
 * (view counters) when no request came for a second. */
void worker_idle(void *ctx);

/*
 * The category tree, loaded from PostgreSQL (the read DSN) on first use and again after
 * WORKER_CATEGORIES_TTL_S; a failed reload keeps the previous set. The set belongs to the
 * worker and stays valid until the next call. MK_EUNAVAILABLE when none could be loaded.
 */
int worker_categories(struct worker *w, arena_t *a, const struct category_set **out);

/*
 * The server's admit hook: the API's per-address rate limit for what nginx passes on from the
 * locations where it does not limit, its micro-cached catalogue (marketd-cached-read.conf). A
 * hit there costs nginx what a static file does, so nginx serves hits unlimited, and names the
 * client in the parameter MARKET_LIMIT_ADDRESS of what reaches the pool (misses, signed-in
 * reads, paths no route takes); marketd counts those at the rate and burst nginx's zone market_api
 * has (api_rate_per_s, api_rate_burst), in a budget of its own in Redis, shared by every worker.
 * nginx's background refresh of an expired page (MARKET_CACHE_STATUS EXPIRED) is not counted. No parameter or an empty
 * one (loopback, as nginx's map exempts it): not limited. Redis down: served, not limited.
 */
int worker_admit(struct request *r);

/*
 * The same limit inside a route's own round trip (ROUTE_OWN_LIMIT, which worker_admit leaves):
 * worker_limit_cmd fills *cmd with the limit's command and says whether r is limited at all;
 * worker_limit_reply reads its reply (NULL: Redis could not answer, then r is served) and
 * returns MK_OK or the refusal recorded on r. So the hot read (GET /listings/{id}) still makes
 * one Redis round trip for a client the limit counts.
 */
bool worker_limit_cmd(struct request *r, struct redis_argv *cmd);
/* The limit in a round trip of its own, for a ROUTE_OWN_LIMIT route's paths that end before its
 * pipeline (an id that cannot exist): MK_OK or the refusal recorded on r. */
int worker_limit_take(struct request *r);
int worker_limit_reply(struct request *r, const redisReply *reply);

struct session;

/*
 * The prologue of every handler for a signed-in caller: *s receives the request's session.
 * Otherwise the error (401, 403 for a cookie write from another origin, 503) is recorded on
 * r and returned.
 */
int worker_authenticate(struct request *r, struct session *s);

#endif
