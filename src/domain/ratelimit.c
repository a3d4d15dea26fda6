#include "domain/ratelimit.h"

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

/* The script's keys and arguments into argv[0..4): "1", the key, the interval and the
 * tolerance (µs), the strings in a. */
static void
take_args(arena_t *a, const char **argv, const char *zone, const char *subject, long long interval_us, int burst)
{
    argv[0] = "1";
    argv[1] = arena_sprintf(a, "ratelimit:%s:%s", zone, subject);
    argv[2] = arena_sprintf(a, "%lld", interval_us);
    argv[3] = arena_sprintf(a, "%lld", interval_us * burst);
}

int
ratelimit_reply(const redisReply *reply, int *retry_after)
{
    long long wait_us;
    if (reply == NULL || !redis_reply_int(reply, &wait_us)) {
        return MK_EUNAVAILABLE;
    }
    if (wait_us <= 0) {
        return MK_OK;
    }
    *retry_after = (int)((wait_us + 999999) / 1000000);
    return MK_ERATELIMITED;
}

int
ratelimit_take(struct redis_store *rs, arena_t *a, const char *zone, const char *subject, long long interval_us,
               int burst, int *retry_after)
{
    const char *argv[4];
    take_args(a, argv, zone, subject, interval_us, burst);
    redisReply *reply;
    int rc = redis_eval(rs, a, &reply, &take_script, 4, argv, NULL);
    return ratelimit_reply(rc == MK_OK ? reply : NULL, retry_after);
}

void
ratelimit_cmd(arena_t *a, const char *zone, const char *subject, long long interval_us, int burst,
              struct redis_argv *cmd)
{
    const char **argv = arena_alloc(a, 6 * sizeof(*argv));
    argv[0] = "EVAL";
    argv[1] = take_script.text;
    take_args(a, argv + 2, zone, subject, interval_us, burst);
    cmd->argc = 6;
    cmd->argv = argv;
    cmd->argvlen = NULL;
}
