/*
 * ratelimit.h — a per-subject request rate, shared by every worker of every host, in Redis:
 * nginx's leaky bucket (`limit_req ... burst=B nodelay`) as a GCRA. A subject may make B + 1
 * requests at once, then one every interval; a request over that is refused, and not counted.
 *
 * The key "ratelimit:<zone>:<subject>" holds the theoretical arrival time (microseconds of
 * Redis's clock, so workers' clocks never disagree) and lives only until it is in the past:
 * an idle subject has no key. One Lua script, one round trip; not written to the AOF nor
 * to replicas (a restart forgets every bucket, which only lets a burst through again).
 */
#ifndef MK_RATELIMIT_H
#define MK_RATELIMIT_H

#include "core/arena.h"
#include "store/redis.h"

/* Count one request of subject in zone. MK_OK when it may be served; MK_ERATELIMITED with
 * *retry_after (whole seconds, ≥ 1, until it would be) when not; MK_EUNAVAILABLE when Redis
 * cannot say (the caller decides: the API's limit lets the request through). */
int ratelimit_take(struct redis_store *rs, arena_t *a, const char *zone, const char *subject, long long interval_us,
                   int burst, int *retry_after);

/* The same as one command of a caller's pipeline (redis_pipeline): *cmd receives an EVAL of the
 * script with its text (no NOSCRIPT to handle inside a pipeline; Redis keeps the compiled script
 * by its SHA1), its strings in a. ratelimit_reply reads its reply (NULL: none) as
 * ratelimit_take answers. */
void ratelimit_cmd(arena_t *a, const char *zone, const char *subject, long long interval_us, int burst,
                   struct redis_argv *cmd);
int ratelimit_reply(const redisReply *reply, int *retry_after);

#endif
