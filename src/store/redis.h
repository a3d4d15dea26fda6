/*
 * redis.h — the Redis adapter: one lazily opened connection per worker (unix socket or
 * TCP), command and connect timeouts, reconnect back-off. Replies are owned by the arena.
 */
#ifndef MK_REDIS_H
#define MK_REDIS_H

#include <hiredis/hiredis.h>

#include "core/arena.h"

struct redis_store {
    redisContext *ctx;
    char *host;
    int port;
    char *socket;        /* preferred when non-empty */
    int timeout_ms;
    double next_attempt;
    int backoff_ms;
};

/* Initialise (no connection yet); strings are copied. */
void redis_init(struct redis_store *rs, const char *host, int port, const char *socket, int timeout_ms);

/* Close and free. */
void redis_close(struct redis_store *rs);

/*
 * Run a command (hiredis format). *out (may be NULL) receives the reply, owned by arena.
 * Returns MK_OK (also for a Redis error reply: check reply->type), or MK_EUNAVAILABLE
 * when Redis cannot be reached or timed out (the connection is dropped and re-opened later).
 */
int redis_cmd(struct redis_store *rs, arena_t *arena, redisReply **out, const char *fmt, ...);

/* The same with an argument vector (binary-safe). */
int redis_cmdv(struct redis_store *rs, arena_t *arena, redisReply **out, int argc, const char **argv,
               const size_t *argvlen);

#endif
