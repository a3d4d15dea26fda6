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
    int pending;         /* replies of redis_send commands not read yet */
};

/* One command of a pipeline: argv[0..argc) (argvlen NULL: C strings). */
struct redis_argv {
    int argc;
    const char **argv;
    const size_t *argvlen;
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

/*
 * Send n commands in one round trip and read their n replies into out[0..n) (owned by
 * arena). MK_OK (check each reply's type) or MK_EUNAVAILABLE (then no reply is set).
 */
int redis_pipeline(struct redis_store *rs, arena_t *arena, const struct redis_argv *cmds, int n, redisReply **out);

/*
 * Send n commands without waiting for their replies: they are written to the socket now
 * and their replies are read (and dropped) by the next command on this connection, so a
 * caller pays a write, not a round trip. For commands whose outcome nobody waits for (view
 * counters). MK_OK, or MK_EUNAVAILABLE when nothing could be sent.
 */
int redis_send(struct redis_store *rs, const struct redis_argv *cmds, int n);

#endif
