#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/server.h"
#include "domain/ratelimit.h"
#include "domain/session.h"

void
worker_open(struct worker *w, const struct config *cfg, const char *role)
{
    w->cfg = cfg;
    w->role = role;
    w->categories = NULL;
    w->categories_at = 0;
    w->rebuilding = false;
    w->rebuilding_at = -1e9;
    w->routes = NULL;
    w->nroutes = 0;
    /* Shortest faithful spelling for doubles we create (coordinates, ratings). */
    json_c_set_serialization_double_format("%.15g", JSON_C_OPTION_GLOBAL);
    pg_init(&w->pg, cfg->pg_dsn, cfg->pg_statement_timeout_ms);
    pg_init(&w->pg_read, cfg->pg_replica_dsn[0] != '\0' ? cfg->pg_replica_dsn : cfg->pg_dsn,
            cfg->pg_statement_timeout_ms);
    pg_set_pooled(&w->pg, cfg->pg_transaction_pooling);
    pg_set_pooled(&w->pg_read, cfg->pg_transaction_pooling);
    w->replica_replayed = 0;
    redis_init(&w->redis, cfg->redis_host, cfg->redis_port, cfg->redis_socket, cfg->redis_timeout_ms);
    mongo_global_init();
    if (mongo_init(&w->mongo, cfg->mongo_uri, cfg->mongo_db) != MK_OK) {
        fprintf(stderr, "marketd: bad mongo_uri '%s'\n", cfg->mongo_uri);
        exit(2);
    }
    s3_global_init();
    if (s3_init(&w->s3, cfg->s3_endpoint, cfg->s3_region, cfg->s3_bucket, cfg->s3_access_key, cfg->s3_secret_key,
                cfg->s3_path_style, cfg->s3_timeout_ms) != MK_OK) {
        fprintf(stderr, "marketd: cannot initialise libcurl\n");
        exit(2);
    }
    purge_init(&w->purge, cfg->nginx_purge_url, 1000);
    w->metrics = metrics_open(cfg->run_dir, role, false, true);
}

void
worker_idle(void *ctx)
{
    struct server *s = ctx;
    redis_flush(&s->worker->redis);
}

void
worker_close(struct worker *w)
{
    pg_close(&w->pg);
    pg_close(&w->pg_read);
    redis_close(&w->redis);
    mongo_close(&w->mongo);
    s3_close(&w->s3);
    purge_close(&w->purge);
    category_set_free(w->categories);
    w->categories = NULL;
}

int
worker_categories(struct worker *w, arena_t *a, const struct category_set **out)
{
    double now = clock_mono();
    if (w->categories == NULL || now - w->categories_at > WORKER_CATEGORIES_TTL_S) {
        struct category_set *fresh;
        int rc = category_load(&w->pg_read, a, &fresh);
        if (rc == MK_OK) {
            category_set_free(w->categories);
            w->categories = fresh;
            w->categories_at = now;
        } else if (w->categories == NULL) {
            return rc == MK_EUNAVAILABLE ? rc : MK_EINTERNAL;
        } else {
            log_warn("categories: reload failed (%d); keeping the loaded set", rc);
            w->categories_at = now;
        }
    }
    *out = w->categories;
    return MK_OK;
}

int
worker_authenticate(struct request *r, struct session *s)
{
    return session_authenticate(r, &r->worker->redis, r->worker->cfg, s, NULL);
}

/* The address MARKET_LIMIT_ADDRESS names, or NULL when the request is not limited: none, or
 * nginx's refresh of an expired cache entry (MARKET_CACHE_STATUS EXPIRED: its background update,
 * which serves every reader of the page, not the client that happened to find it expired). */
static const char *
limit_address(struct request *r)
{
    const char *address = http_param(r, "MARKET_LIMIT_ADDRESS");
    if (address == NULL || address[0] == '\0') {
        return NULL;
    }
    const char *status = http_param(r, "MARKET_CACHE_STATUS");
    return status != NULL && strcmp(status, "EXPIRED") == 0 ? NULL : address;
}

static long long
limit_interval_us(const struct config *cfg)
{
    return 1000000LL / cfg->api_rate_per_s;
}

/* A refusal recorded on r (429 with Retry-After); any other outcome lets the request through. */
static int
limit_answer(struct request *r, int rc, int retry_after)
{
    if (rc != MK_ERATELIMITED) {
        return MK_OK;
    }
    r->retry_after = retry_after;
    return http_fail(r, rc, NULL);
}

int
worker_admit(struct request *r)
{
    struct worker *w = r->worker;
    if (r->route_index >= 0 && (w->routes[r->route_index].roles & ROUTE_OWN_LIMIT) != 0) {
        return MK_OK;
    }
    return worker_limit_take(r);
}

int
worker_limit_take(struct request *r)
{
    const char *address = limit_address(r);
    struct worker *w = r->worker;
    if (address == NULL) {
        return MK_OK;
    }
    int retry_after = 0;
    int rc = ratelimit_take(&w->redis, r->arena, "api", address, limit_interval_us(w->cfg), w->cfg->api_rate_burst,
                            &retry_after);
    return limit_answer(r, rc, retry_after);
}

bool
worker_limit_cmd(struct request *r, struct redis_argv *cmd)
{
    const char *address = limit_address(r);
    if (address == NULL) {
        return false;
    }
    ratelimit_cmd(r->arena, "api", address, limit_interval_us(r->worker->cfg), r->worker->cfg->api_rate_burst, cmd);
    return true;
}

int
worker_limit_reply(struct request *r, const redisReply *reply)
{
    int retry_after = 0;
    return limit_answer(r, ratelimit_reply(reply, &retry_after), retry_after);
}
