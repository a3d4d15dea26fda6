#include "domain/ratelimit.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"

/* ARGV: the interval and the tolerance (burst × interval), µs. Returns 0 (counted) or the µs
 * until the request would have been allowed. The time is formatted with %.0f: Lua's tostring
 * keeps 14 digits, and microseconds since 1970 have 16. */
static struct redis_script take_script = {
    "redis.set_repl(redis.REPL_NONE) "
    "local t = redis.call('TIME') "
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) "
    "local tat = tonumber(redis.call('GET', KEYS[1]) or 0) or 0 "
    "if tat < now then tat = now end "
    "local over = tat - now - tonumber(ARGV[2]) "
    "if over > 0 then return math.ceil(over) end "
    "local nxt = tat + tonumber(ARGV[1]) "
    "redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000)) "
    "return 0",
    "",
};

int
ratelimit_take(struct redis_store *rs, arena_t *a, const char *zone, const char *subject, long long interval_us,
               int burst, int *retry_after)
{
    char *key = arena_sprintf(a, "ratelimit:%s:%s", zone, subject);
    char interval[24], tolerance[24];
    snprintf(interval, sizeof(interval), "%lld", interval_us);
    snprintf(tolerance, sizeof(tolerance), "%lld", interval_us * burst);
    const char *argv[] = {"1", key, interval, tolerance};
    redisReply *reply;
    int rc = redis_eval(rs, a, &reply, &take_script, 4, argv, NULL);
    long long wait_us;
    if (rc != MK_OK || !redis_reply_int(reply, &wait_us)) {
        return MK_EUNAVAILABLE;
    }
    if (wait_us <= 0) {
        return MK_OK;
    }
    *retry_after = (int)((wait_us + 999999) / 1000000);
    return MK_ERATELIMITED;
}
