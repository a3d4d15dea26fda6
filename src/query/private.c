#include "query/private.h"

#include <time.h>

#include "core/clock.h"
#include "core/errors.h"
#include "domain/replica.h"
#include "worker.h"

enum { FROM_REPLICA, FROM_REPLICA_WAITED, FROM_PRIMARY };

static struct pg *
counted(struct worker *w, int source)
{
    if (w->metrics != NULL) {
        metrics_add(w->metrics->private_reads[source], 1);
    }
    return source == FROM_PRIMARY ? &w->pg : &w->pg_read;
}

struct pg *
query_private_pg(struct request *r)
{
    struct worker *w = r->worker;
    if (w->cfg->pg_replica_dsn[0] == '\0') {
        return &w->pg_read;
    }
    long long need;
    if (r->user_id == NULL || replica_user_lsn(&w->redis, r->arena, r->user_id, &need) != MK_OK ||
        pg_conn(&w->pg_read) == NULL) {
        return counted(w, FROM_PRIMARY);
    }
    if (need <= w->replica_replayed) {
        return counted(w, FROM_REPLICA); /* replay positions only grow */
    }
    double deadline = clock_mono() + w->cfg->replica_wait_ms / 1000.0;
    long pause_us = 500;
    for (int polls = 0;; polls++) {
        long long seen;
        if (replica_replayed(&w->pg_read, r->arena, &seen) != MK_OK) {
            return counted(w, FROM_PRIMARY);
        }
        if (seen > w->replica_replayed) {
            w->replica_replayed = seen;
        }
        if (seen >= need) {
            return counted(w, polls == 0 ? FROM_REPLICA : FROM_REPLICA_WAITED);
        }
        if (clock_mono() >= deadline) {
            return counted(w, FROM_PRIMARY);
        }
        struct timespec ts = {0, pause_us * 1000};
        nanosleep(&ts, NULL);
        pause_us = pause_us * 2 > 20000 ? 20000 : pause_us * 2;
    }
}
