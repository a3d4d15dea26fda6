/*
 * private.h — where the query role's private reads (users/me, orders, balances, offers) go: the
 * replica when one is configured and it has replayed the user's last write, else the
 * primary (read-your-writes, domain/replica.h).
 */
#ifndef MK_QUERY_PRIVATE_H
#define MK_QUERY_PRIVATE_H

#include "core/http.h"
#include "store/pg.h"

/*
 * The handle for a private read of r's authenticated user (r->user_id set): the worker's
 * pg_read when no replica is configured (it is the primary then); the replica when the
 * user has no recorded commit, or once the replica has replayed it (polled for at most
 * replica_wait_ms); the primary otherwise, and when the replica or Redis cannot be asked.
 * Counted in market_private_reads_total{source}. Never NULL.
 */
struct pg *query_private_pg(struct request *r);

#endif
