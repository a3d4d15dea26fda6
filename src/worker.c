#include "worker.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/errors.h"
#include "core/log.h"

void
worker_open(struct worker *w, const struct config *cfg, const char *role)
{
    w->cfg = cfg;
    w->role = role;
    pg_init(&w->pg, cfg->pg_dsn, cfg->pg_statement_timeout_ms);
    pg_init(&w->pg_read, cfg->pg_replica_dsn[0] != '\0' ? cfg->pg_replica_dsn : cfg->pg_dsn,
            cfg->pg_statement_timeout_ms);
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
    w->metrics = metrics_open(cfg->run_dir, role, false, true);
}

void
worker_close(struct worker *w)
{
    pg_close(&w->pg);
    pg_close(&w->pg_read);
    redis_close(&w->redis);
    mongo_close(&w->mongo);
    s3_close(&w->s3);
}
