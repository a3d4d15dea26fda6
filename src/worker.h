/*
 * worker.h — one process's handles on the outside world. Each pool worker and the
 * projector own exactly one, opened after exec (so no driver state crosses a fork), and
 * pass it down to handlers through request.worker.
 */
#ifndef MK_WORKER_H
#define MK_WORKER_H

#include "core/config.h"
#include "core/metrics.h"
#include "store/mongo.h"
#include "store/pg.h"
#include "store/redis.h"
#include "store/s3.h"

struct worker {
    const struct config *cfg;
    const char *role;
    struct pg pg;              /* the primary: every write, and reads that must see them */
    struct pg pg_read;         /* private reads of the query role: a replica when configured */
    struct redis_store redis;
    struct mongo_store mongo;
    struct s3 s3;
    struct metrics_segment *metrics;
};

/* Initialise every handle (connections open lazily). Aborts on a bad configuration. */
void worker_open(struct worker *w, const struct config *cfg, const char *role);

void worker_close(struct worker *w);

#endif
