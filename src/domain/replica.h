/*
 * replica.h — read-your-writes over an asynchronous streaming replica.
 *
 * A write's commit LSN (the primary's WAL write position just after COMMIT, which is at or
 * past the commit record) is kept per user in Redis as `lsn:<user id>` (the highest one,
 * REPLICA_TOKEN_TTL_S seconds). A private read of that user goes to the replica only once it
 * has replayed that position (pg_last_wal_replay_lsn), waiting at most replica_wait_ms;
 * otherwise it reads the primary. LSNs are carried as byte positions (pg_lsn - '0/0').
 */
#ifndef MK_REPLICA_H
#define MK_REPLICA_H

#include "core/arena.h"
#include "store/pg.h"
#include "store/redis.h"

/* How long a user's last commit position is remembered: a replica further behind than this
 * is not a replica to read from. */
#define REPLICA_TOKEN_TTL_S 60

/*
 * After a COMMIT on primary: read the WAL write position and raise `lsn:<user_id>` to it
 * (never lowers it). *lsn_text (arena) receives the position as PostgreSQL spells it
 * ("0/16B3748"). MK_OK, or the failure of the SELECT or of Redis (the commit stands).
 */
int replica_record_commit(struct pg *primary, struct redis_store *rs, arena_t *a, const char *user_id,
                          const char **lsn_text);

/* The user's last recorded commit position: 0 when none is remembered. MK_OK or
 * MK_EUNAVAILABLE (Redis). */
int replica_user_lsn(struct redis_store *rs, arena_t *a, const char *user_id, long long *lsn);

/* The replica's replay position (pg_last_wal_replay_lsn as bytes). */
int replica_replayed(struct pg *replica, arena_t *a, long long *lsn);

/* Lag of the replica behind the primary: WAL bytes not yet replayed, and the age of the
 * last replayed transaction (grows while the primary is idle: read it with the bytes). */
int replica_lag(struct pg *primary, struct pg *replica, arena_t *a, long long *bytes, double *replay_age_s);

#endif
