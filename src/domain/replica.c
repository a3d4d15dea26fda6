#include "domain/replica.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/errors.h"
#include "core/log.h"

static const struct pg_stmt WAL_POSITION = {
    "replica_wal_position", "SELECT pg_current_wal_lsn()::text, (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint", 0};
static const struct pg_stmt REPLAYED = {
    "replica_replayed", "SELECT coalesce((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, 0)", 0};
static const struct pg_stmt REPLAY_AGE = {
    "replica_replay_age",
    "SELECT coalesce((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, 0),"
    " coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8",
    0};

/* Raise KEYS[1] to ARGV[1] (a byte position), never lower it; ARGV[2] is the TTL. */
static const char RAISE_LUA[] =
    "local c = tonumber(redis.call('GET', KEYS[1]) or '0') or 0 "
    "if tonumber(ARGV[1]) > c then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) "
    "else redis.call('EXPIRE', KEYS[1], ARGV[2]) end return 1";

int
replica_record_commit(struct pg *primary, struct redis_store *rs, arena_t *a, const char *user_id,
                      const char **lsn_text)
{
    PGresult *res;
    *lsn_text = NULL;
    int rc = pg_exec_row(primary, a, &WAL_POSITION, NULL, &res);
    if (rc != MK_OK) {
        return rc;
    }
    *lsn_text = pg_value(res, 0, 0);
    if (user_id == NULL) {
        return MK_OK;
    }
    redisReply *reply;
    rc = redis_cmd(rs, a, &reply, "EVAL %s 1 lsn:%s %s %d", RAISE_LUA, user_id, pg_value(res, 0, 1),
                   REPLICA_TOKEN_TTL_S);
    if (rc == MK_OK && redis_reply_error(reply)) {
        log_warn("replica: recording the commit position failed (Redis answered an error)");
        rc = MK_EUNAVAILABLE;
    }
    return rc;
}

int
replica_user_lsn(struct redis_store *rs, arena_t *a, const char *user_id, long long *lsn)
{
    redisReply *reply;
    *lsn = 0;
    int rc = redis_cmd(rs, a, &reply, "GET lsn:%s", user_id);
    if (rc != MK_OK || redis_reply_error(reply)) {
        return MK_EUNAVAILABLE;
    }
    const char *text = redis_reply_str(reply, NULL);
    if (text != NULL) {
        *lsn = strtoll(text, NULL, 10);
    }
    return MK_OK;
}

int
replica_replayed(struct pg *replica, arena_t *a, long long *lsn)
{
    PGresult *res;
    int rc = pg_exec_row(replica, a, &REPLAYED, NULL, &res);
    *lsn = rc == MK_OK ? pg_int(res, 0, 0) : 0;
    return rc;
}

int
replica_lag(struct pg *primary, struct pg *replica, arena_t *a, long long *bytes, double *replay_age_s)
{
    PGresult *p, *s;
    int rc = pg_exec_row(primary, a, &WAL_POSITION, NULL, &p);
    if (rc == MK_OK) {
        rc = pg_exec_row(replica, a, &REPLAY_AGE, NULL, &s);
    }
    if (rc != MK_OK) {
        return rc;
    }
    long long head = pg_int(p, 0, 1), replayed = pg_int(s, 0, 0);
    *bytes = head > replayed ? head - replayed : 0;
    *replay_age_s = strtod(pg_value(s, 0, 1), NULL);
    return MK_OK;
}
