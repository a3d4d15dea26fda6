#include "store/redis.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"

void
redis_init(struct redis_store *rs, const char *host, int port, const char *socket, int timeout_ms)
{
    memset(rs, 0, sizeof(*rs));
    rs->host = strdup(host);
    rs->port = port;
    rs->socket = strdup(socket != NULL ? socket : "");
    rs->timeout_ms = timeout_ms;
}

static void
drop(struct redis_store *rs)
{
    if (rs->ctx != NULL) {
        redisFree(rs->ctx);
        rs->ctx = NULL;
    }
    rs->pending = 0;
}

/* Read and drop the replies of earlier redis_send commands (they are usually in the socket
 * buffer already). A failure drops the connection; the caller then opens a new one. */
static void
drain(struct redis_store *rs)
{
    while (rs->pending > 0 && rs->ctx != NULL) {
        void *reply = NULL;
        if (redisGetReply(rs->ctx, &reply) != REDIS_OK || reply == NULL) {
            drop(rs);
            return;
        }
        freeReplyObject(reply);
        rs->pending--;
    }
}

void
redis_close(struct redis_store *rs)
{
    drop(rs);
    free(rs->host);
    free(rs->socket);
    rs->host = rs->socket = NULL;
}

static redisContext *
connect_now(struct redis_store *rs)
{
    if (rs->ctx != NULL) {
        return rs->ctx;
    }
    double now = clock_mono();
    if (now < rs->next_attempt) {
        return NULL;
    }
    rs->pending = 0;
    struct timeval tv = {rs->timeout_ms / 1000, (rs->timeout_ms % 1000) * 1000};
    redisContext *c = rs->socket[0] != '\0' ? redisConnectUnixWithTimeout(rs->socket, tv)
                                            : redisConnectWithTimeout(rs->host, rs->port, tv);
    if (c == NULL || c->err != 0) {
        /* Short: a refused connect is cheap, and sessions and logins wait on Redis. */
        rs->backoff_ms = rs->backoff_ms == 0 ? 50 : (rs->backoff_ms * 2 > 1000 ? 1000 : rs->backoff_ms * 2);
        rs->next_attempt = now + rs->backoff_ms / 1000.0;
        log_warn("redis: cannot connect (%s); next attempt in %d ms", c != NULL ? c->errstr : "out of memory",
                 rs->backoff_ms);
        if (c != NULL) {
            redisFree(c);
        }
        return NULL;
    }
    redisSetTimeout(c, tv);
    rs->backoff_ms = 0;
    rs->ctx = c;
    return c;
}

static void
free_reply(void *r)
{
    freeReplyObject(r);
}

static int
finish(struct redis_store *rs, arena_t *arena, redisReply *reply, redisReply **out)
{
    if (reply == NULL) {
        log_warn("redis: %s", rs->ctx != NULL ? rs->ctx->errstr : "no connection");
        drop(rs);
        return MK_EUNAVAILABLE;
    }
    if (out != NULL && arena != NULL) {
        arena_cleanup_add(arena, free_reply, reply);
        *out = reply;
    } else {
        freeReplyObject(reply);
    }
    return MK_OK;
}

/*
 * A connection that was idle may have been closed by a restarted server: the first command
 * then fails at once with EOF or a broken pipe, before the new server saw it. Such a
 * failure on a re-used connection is retried once on a fresh one; a timeout is not (the
 * server may have run the command).
 */
static bool
stale_connection(const redisContext *c)
{
    return c->err == REDIS_ERR_EOF ||
           (c->err == REDIS_ERR_IO && (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN));
}

/* Send one command, formatted by hiredis (redis*FormatCommand*), and read its reply: what
 * redisCommand does, with the retry on a stale connection. Frees cmd. */
static int
run_formatted(struct redis_store *rs, arena_t *arena, redisReply **out, char *cmd, long long len)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (len < 0) {
        log_warn("redis: cannot format a command");
        return MK_EUNAVAILABLE;
    }
    int rc = MK_EUNAVAILABLE;
    bool reused = rs->ctx != NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        drain(rs);
        if (connect_now(rs) == NULL) {
            break;
        }
        void *reply = NULL;
        if (redisAppendFormattedCommand(rs->ctx, cmd, (size_t)len) != REDIS_OK ||
            redisGetReply(rs->ctx, &reply) != REDIS_OK) {
            reply = NULL;
        }
        if (reply == NULL && reused && attempt == 0 && stale_connection(rs->ctx)) {
            drop(rs);
            continue;
        }
        rc = finish(rs, arena, reply, out);
        break;
    }
    redisFreeCommand(cmd);
    return rc;
}

int
redis_cmd(struct redis_store *rs, arena_t *arena, redisReply **out, const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    return run_formatted(rs, arena, out, cmd, len);
}

int
redis_cmdv(struct redis_store *rs, arena_t *arena, redisReply **out, int argc, const char **argv,
           const size_t *argvlen)
{
    char *cmd = NULL;
    long long len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    return run_formatted(rs, arena, out, cmd, len);
}

static bool
append_all(redisContext *c, const struct redis_argv *cmds, int n)
{
    for (int i = 0; i < n; i++) {
        if (redisAppendCommandArgv(c, cmds[i].argc, cmds[i].argv, cmds[i].argvlen) != REDIS_OK) {
            return false;
        }
    }
    return true;
}

int
redis_pipeline(struct redis_store *rs, arena_t *arena, const struct redis_argv *cmds, int n, redisReply **out)
{
    bool reused = rs->ctx != NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        drain(rs);
        if (connect_now(rs) == NULL || !append_all(rs->ctx, cmds, n)) {
            drop(rs);
            return MK_EUNAVAILABLE;
        }
        int got = 0;
        for (; got < n; got++) {
            void *reply = NULL;
            if (redisGetReply(rs->ctx, &reply) != REDIS_OK || reply == NULL) {
                break;
            }
            arena_cleanup_add(arena, free_reply, reply);
            out[got] = reply;
        }
        if (got == n) {
            return MK_OK;
        }
        bool retry = got == 0 && reused && attempt == 0 && stale_connection(rs->ctx);
        log_warn("redis: %s", rs->ctx->errstr);
        drop(rs);
        if (!retry) {
            return MK_EUNAVAILABLE;
        }
    }
    return MK_EUNAVAILABLE;
}

int
redis_send(struct redis_store *rs, const struct redis_argv *cmds, int n)
{
    drain(rs);
    if (connect_now(rs) == NULL || !append_all(rs->ctx, cmds, n)) {
        drop(rs);
        return MK_EUNAVAILABLE;
    }
    int done = 0;
    while (!done) {
        if (redisBufferWrite(rs->ctx, &done) != REDIS_OK) {
            log_warn("redis: %s", rs->ctx->errstr);
            drop(rs);
            return MK_EUNAVAILABLE;
        }
    }
    rs->pending += n;
    return MK_OK;
}

bool
redis_reply_error(const redisReply *reply)
{
    return reply != NULL && reply->type == REDIS_REPLY_ERROR;
}

bool
redis_reply_nil(const redisReply *reply)
{
    return reply != NULL && reply->type == REDIS_REPLY_NIL;
}

const char *
redis_reply_str(const redisReply *reply, size_t *len)
{
    if (reply == NULL || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_STATUS)) {
        return NULL;
    }
    if (len != NULL) {
        *len = reply->len;
    }
    return reply->str;
}

bool
redis_reply_int(const redisReply *reply, long long *out)
{
    if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
        return false;
    }
    *out = reply->integer;
    return true;
}

size_t
redis_reply_count(const redisReply *reply)
{
    return reply != NULL && reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
}

const redisReply *
redis_reply_at(const redisReply *reply, size_t i)
{
    return i < redis_reply_count(reply) ? reply->element[i] : NULL;
}
