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

/* Read and drop the replies of the commands redis_send queued. They sit in the output buffer
 * before the caller's own commands, so the first read writes them all in one go and their
 * replies come first. False on a failure (the caller inspects the connection, then drops it). */
static bool
drop_queued(struct redis_store *rs)
{
    while (rs->pending > 0) {
        void *reply = NULL;
        if (redisGetReply(rs->ctx, &reply) != REDIS_OK || reply == NULL) {
            return false;
        }
        freeReplyObject(reply);
        rs->pending--;
    }
    return true;
}

void
redis_flush(struct redis_store *rs)
{
    if (rs->ctx != NULL && rs->pending > 0 && !drop_queued(rs)) {
        log_warn("redis: %s", rs->ctx->errstr);
        drop(rs);
    }
}

void
redis_close(struct redis_store *rs)
{
    redis_flush(rs);
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

/* Appends the caller's commands to the output buffer. */
typedef bool append_fn(redisContext *c, const void *arg);

/*
 * One round trip: append the caller's n commands after any queued ones, write them all, drop
 * the queued commands' replies and read n replies into out[0..n) (owned by arena; with out or
 * arena NULL they are freed). A stale connection is retried once on a fresh one (queued
 * commands are then lost: they are counters nobody waits for).
 */
static int
round_trip(struct redis_store *rs, arena_t *arena, append_fn *append, const void *arg, int n, redisReply **out)
{
    bool reused = rs->ctx != NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (connect_now(rs) == NULL) {
            return MK_EUNAVAILABLE;
        }
        if (!append(rs->ctx, arg)) {
            drop(rs);
            return MK_EUNAVAILABLE;
        }
        int got = 0;
        bool queued_ok = drop_queued(rs);
        for (; queued_ok && got < n; got++) {
            void *reply = NULL;
            if (redisGetReply(rs->ctx, &reply) != REDIS_OK || reply == NULL) {
                break;
            }
            if (out != NULL && arena != NULL) {
                arena_cleanup_add(arena, free_reply, reply);
                out[got] = reply;
            } else {
                freeReplyObject(reply);
            }
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

struct format_arg {
    const char *fmt;
    va_list *ap;
};

static bool
append_format(redisContext *c, const void *arg)
{
    const struct format_arg *f = arg;
    va_list ap;
    va_copy(ap, *f->ap);
    int rc = redisvAppendCommand(c, f->fmt, ap);
    va_end(ap);
    return rc == REDIS_OK;
}

int
redis_cmd(struct redis_store *rs, arena_t *arena, redisReply **out, const char *fmt, ...)
{
    if (out != NULL) {
        *out = NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    struct format_arg f = {fmt, &ap};
    int rc = round_trip(rs, arena, append_format, &f, 1, out);
    va_end(ap);
    return rc;
}

/* "<prefix><n>\r\n" at p; returns the end. */
static char *
resp_head(char *p, char prefix, size_t n)
{
    char num[24], *d = num + sizeof(num);
    do {
        *--d = (char)('0' + n % 10);
        n /= 10;
    } while (n != 0);
    *p++ = prefix;
    size_t len = (size_t)(num + sizeof(num) - d);
    memcpy(p, d, len);
    p += len;
    *p++ = '\r';
    *p++ = '\n';
    return p;
}

size_t
redis_resp_bound(const struct redis_argv *cmd)
{
    size_t total = 32;   /* "*<argc>\r\n" */
    for (int i = 0; i < cmd->argc; i++) {
        total += 32 + (cmd->argvlen != NULL ? cmd->argvlen[i] : strlen(cmd->argv[i]));
    }
    return total;
}

size_t
redis_resp_write(char *buf, const struct redis_argv *cmd)
{
    char *p = resp_head(buf, '*', (size_t)cmd->argc);
    for (int i = 0; i < cmd->argc; i++) {
        size_t len = cmd->argvlen != NULL ? cmd->argvlen[i] : strlen(cmd->argv[i]);
        p = resp_head(p, '$', len);
        memcpy(p, cmd->argv[i], len);
        p += len;
        *p++ = '\r';
        *p++ = '\n';
    }
    return (size_t)(p - buf);
}

/* One command appended to the connection's output buffer in the form redis_resp_write gives. */
static bool
append_argv(redisContext *c, const struct redis_argv *cmd)
{
    size_t total = redis_resp_bound(cmd);
    char stack[1024];
    char *buf = total <= sizeof(stack) ? stack : malloc(total);
    if (buf == NULL) {
        return false;
    }
    int rc = redisAppendFormattedCommand(c, buf, redis_resp_write(buf, cmd));
    if (buf != stack) {
        free(buf);
    }
    return rc == REDIS_OK;
}

static bool
append_all(redisContext *c, const struct redis_argv *cmds, int n)
{
    for (int i = 0; i < n; i++) {
        if (!append_argv(c, &cmds[i])) {
            return false;
        }
    }
    return true;
}

struct list_arg {
    const struct redis_argv *cmds;
    int n;
};

static bool
append_list(redisContext *c, const void *arg)
{
    const struct list_arg *l = arg;
    return append_all(c, l->cmds, l->n);
}

int
redis_cmdv(struct redis_store *rs, arena_t *arena, redisReply **out, int argc, const char **argv,
           const size_t *argvlen)
{
    if (out != NULL) {
        *out = NULL;
    }
    struct redis_argv cmd = {argc, argv, argvlen};
    struct list_arg l = {&cmd, 1};
    return round_trip(rs, arena, append_list, &l, 1, out);
}

/* The script's SHA1 from SCRIPT LOAD, once. */
static int
script_load(struct redis_store *rs, arena_t *arena, struct redis_script *s)
{
    redisReply *reply;
    const char *argv[] = {"SCRIPT", "LOAD", s->text};
    int rc = redis_cmdv(rs, arena, &reply, 3, argv, NULL);
    size_t len = 0;
    const char *sha = rc == MK_OK && reply != NULL && reply->type == REDIS_REPLY_STRING ? reply->str : NULL;
    if (sha != NULL && (len = reply->len) == sizeof(s->sha) - 1) {
        memcpy(s->sha, sha, len + 1);
    }
    return rc;
}

int
redis_eval(struct redis_store *rs, arena_t *arena, redisReply **out, struct redis_script *s, int argc,
           const char **argv, const size_t *argvlen)
{
    if (out != NULL) {
        *out = NULL;
    }
    if (s->sha[0] == '\0' && script_load(rs, arena, s) != MK_OK) {
        return MK_EUNAVAILABLE;
    }
    const char **av = arena_alloc(arena, (size_t)(argc + 2) * sizeof(*av));
    size_t *al = arena_alloc(arena, (size_t)(argc + 2) * sizeof(*al));
    for (int i = 0; i < argc; i++) {
        av[i + 2] = argv[i];
        al[i + 2] = argvlen != NULL ? argvlen[i] : strlen(argv[i]);
    }
    bool by_sha = s->sha[0] != '\0';
    av[0] = by_sha ? "EVALSHA" : "EVAL";
    av[1] = by_sha ? s->sha : s->text;
    al[0] = strlen(av[0]);
    al[1] = strlen(av[1]);
    redisReply *reply;
    int rc = redis_cmdv(rs, arena, &reply, argc + 2, av, al);
    if (rc == MK_OK && by_sha && reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
        av[0] = "EVAL";
        av[1] = s->text;
        al[0] = 4;
        al[1] = strlen(s->text);
        rc = redis_cmdv(rs, arena, &reply, argc + 2, av, al);
    }
    if (out != NULL) {
        *out = rc == MK_OK ? reply : NULL;
    }
    return rc;
}

int
redis_pipeline(struct redis_store *rs, arena_t *arena, const struct redis_argv *cmds, int n, redisReply **out)
{
    struct list_arg l = {cmds, n};
    return round_trip(rs, arena, append_list, &l, n, out);
}

int
redis_send(struct redis_store *rs, const struct redis_argv *cmds, int n)
{
    if (connect_now(rs) == NULL || !append_all(rs->ctx, cmds, n)) {
        drop(rs);
        return MK_EUNAVAILABLE;
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
