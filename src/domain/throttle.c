#include "domain/throttle.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

static char *
throttle_key(arena_t *a, const char *name, const char *subject)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    crypto_hash_sha256(digest, (const unsigned char *)subject, strlen(subject));
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    return arena_sprintf(a, "throttle:%s:%s", name, hex);
}

/* One command; an error reply (Redis misconfigured, out of memory) counts as unavailable. */
static int
run(struct redis_store *rs, arena_t *a, redisReply **reply, const char *fmt, const char *key, int arg)
{
    int rc = redis_cmd(rs, a, reply, fmt, key, arg);
    return rc == MK_OK && redis_reply_error(*reply) ? MK_EUNAVAILABLE : rc;
}

int
throttle_check(struct redis_store *rs, arena_t *a, const char *name, const char *subject, int max, int *retry_after)
{
    char *key = throttle_key(a, name, subject);
    redisReply *count, *ttl;
    int rc = run(rs, a, &count, "GET %s", key, 0);
    if (rc != MK_OK) {
        return rc;
    }
    const char *n = redis_reply_str(count, NULL);
    if (n == NULL || atoi(n) < max) {
        return MK_OK;
    }
    rc = run(rs, a, &ttl, "TTL %s", key, 0);
    if (rc != MK_OK) {
        return rc;
    }
    long long left;
    *retry_after = redis_reply_int(ttl, &left) && left > 0 ? (int)left : 1;
    return MK_ERATELIMITED;
}

int
throttle_fail(struct redis_store *rs, arena_t *a, const char *name, const char *subject, int window_s)
{
    char *key = throttle_key(a, name, subject);
    redisReply *reply;
    int rc = run(rs, a, &reply, "SET %s 0 EX %d NX", key, window_s);
    if (rc == MK_OK) {
        rc = run(rs, a, &reply, "INCR %s", key, 0);
    }
    return rc;
}

int
throttle_clear(struct redis_store *rs, arena_t *a, const char *name, const char *subject)
{
    redisReply *reply;
    return run(rs, a, &reply, "DEL %s", throttle_key(a, name, subject), 0);
}
