/*
 * throttle.h — failure counters with a fixed window, in Redis: after `max` failures for one
 * subject within `window_s` seconds, the subject is blocked until the window ends.
 *
 * The key is "throttle:<name>:<hex SHA-256 of subject>" (no email in clear in Redis). The
 * window starts at the first failure: SET key 0 EX window NX, then INCR (which keeps the
 * TTL), so a key never exists without its expiry, even if a worker dies in between.
 */
#ifndef MK_THROTTLE_H
#define MK_THROTTLE_H

#include "core/arena.h"
#include "store/redis.h"

/* MK_OK when subject may try; MK_ERATELIMITED with *retry_after (seconds, ≥ 1) when it has
 * failed max times in the current window; MK_EUNAVAILABLE when Redis is down. */
int throttle_check(struct redis_store *rs, arena_t *a, const char *name, const char *subject, int max,
                   int *retry_after);

/* Count one failure of subject. MK_OK or MK_EUNAVAILABLE. */
int throttle_fail(struct redis_store *rs, arena_t *a, const char *name, const char *subject, int window_s);

/* Forget subject's failures (after a success). MK_OK or MK_EUNAVAILABLE. */
int throttle_clear(struct redis_store *rs, arena_t *a, const char *name, const char *subject);

#endif
