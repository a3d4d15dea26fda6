/*
 * redis.h — the Redis adapter: one lazily opened connection per worker (unix socket or
 * TCP), command and connect timeouts, reconnect back-off. Replies are owned by the arena and
 * read through the redis_reply_* accessors; only redis.c includes hiredis.
 */
#ifndef MK_REDIS_H
#define MK_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"

typedef struct redisContext redisContext;
typedef struct redisReply redisReply;

struct redis_store {
    redisContext *ctx;
    char *host;
    int port;
    char *socket;        /* preferred when non-empty */
    int timeout_ms;
    double next_attempt;
    int backoff_ms;
    int pending;         /* redis_send commands whose replies are not read yet */
};

/* One command of a pipeline: argv[0..argc) (argvlen NULL: C strings). */
struct redis_argv {
    int argc;
    const char **argv;
    const size_t *argvlen;
};

/* A command in the protocol's own form (RESP: an array of bulk strings), as hiredis's
 * redisFormatCommandArgv gives it, written with copies (hiredis formats with sdscatfmt and
 * grows its string piece by piece: a tenth of a Redis-hit read's instructions in the query
 * worker went to formatting its three commands). redis_resp_bound: bytes enough for it;
 * redis_resp_write: writes it at buf, returns its length. */
size_t redis_resp_bound(const struct redis_argv *cmd);
size_t redis_resp_write(char *buf, const struct redis_argv *cmd);

/* Initialise (no connection yet); strings are copied. */
void redis_init(struct redis_store *rs, const char *host, int port, const char *socket, int timeout_ms);

/* Close and free. */
void redis_close(struct redis_store *rs);

/*
 * Run a command (hiredis format). *out (may be NULL) receives the reply, owned by arena.
 * Returns MK_OK (also for a Redis error reply: redis_reply_error), or MK_EUNAVAILABLE
 * when Redis cannot be reached or timed out (the connection is dropped and re-opened later).
 */
int redis_cmd(struct redis_store *rs, arena_t *arena, redisReply **out, const char *fmt, ...);

/* The same with an argument vector (binary-safe). */
int redis_cmdv(struct redis_store *rs, arena_t *arena, redisReply **out, int argc, const char **argv,
               const size_t *argvlen);

/*
 * A Lua script run by its SHA1 (EVALSHA), so that its text crosses the socket once per worker
 * (SCRIPT LOAD on first use) and not with every call. A NOSCRIPT answer (Redis restarted,
 * SCRIPT FLUSH) runs it again as EVAL with its text, which loads it back.
 */
struct redis_script {
    const char *text;
    char sha[41];        /* "" until loaded */
};

/* EVALSHA s argv[0..argc) (numkeys, keys, args; argvlen as redis_cmdv), falling back to EVAL
 * on NOSCRIPT. *out (may be NULL) as redis_cmd; arena must not be NULL. */
int redis_eval(struct redis_store *rs, arena_t *arena, redisReply **out, struct redis_script *s, int argc,
               const char **argv, const size_t *argvlen);

/*
 * Send n commands in one round trip and read their n replies into out[0..n) (owned by
 * arena). MK_OK (read each with the redis_reply_* readers) or MK_EUNAVAILABLE (then no
 * reply is set).
 */
int redis_pipeline(struct redis_store *rs, arena_t *arena, const struct redis_argv *cmds, int n, redisReply **out);

/*
 * Queue n commands whose outcome nobody waits for (view counters): they are appended to the
 * connection's output buffer and go out with the next command's write, whose call reads and
 * drops their replies first, so they cost no system call of their own. redis_flush sends them
 * (an idle worker calls it; redis_close does). MK_OK, or MK_EUNAVAILABLE when Redis cannot be
 * reached. A connection found stale by the next command loses them.
 */
int redis_send(struct redis_store *rs, const struct redis_argv *cmds, int n);

/* Write queued commands and read (drop) their replies now. */
void redis_flush(struct redis_store *rs);

/* Readers of a reply (NULL reads as no reply): an error reply; a nil reply; the text of a
 * string or status reply (*len may be NULL; NULL for any other reply); the number of an
 * integer reply (false for any other reply). */
bool redis_reply_error(const redisReply *reply);
bool redis_reply_nil(const redisReply *reply);
const char *redis_reply_str(const redisReply *reply, size_t *len);
bool redis_reply_int(const redisReply *reply, long long *out);

/* The elements of an array reply: their number (0 for any other reply) and element i (NULL
 * past the end). */
size_t redis_reply_count(const redisReply *reply);
const redisReply *redis_reply_at(const redisReply *reply, size_t i);

#endif
