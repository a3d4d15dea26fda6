#include "query/cache.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "worker.h"

static void
count(struct worker *w, bool hit)
{
    if (w->metrics != NULL) {
        if (hit) {
            metrics_add(w->metrics->cache_hits, 1);
        } else {
            metrics_add(w->metrics->cache_misses, 1);
        }
    }
}

bool
cache_parse(struct request *r, const redisReply *reply, struct cached *out)
{
    struct worker *w = r->worker;
    memset(out, 0, sizeof(*out));
    if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
        count(w, false);
        return false;
    }
    const char *nl = memchr(reply->str, '\n', reply->len);
    const char *space = memchr(reply->str, ' ', reply->len);
    if (nl == NULL || space == NULL || space > nl) {
        count(w, false);    /* a marker, or not ours */
        return false;
    }
    out->seq = strtoll(reply->str, NULL, 10);
    out->etag = arena_strndup(r->arena, space + 1, (size_t)(nl - space - 1));
    out->len = reply->len - (size_t)(nl + 1 - reply->str);
    out->body = arena_strndup(r->arena, nl + 1, out->len);
    count(w, true);
    return true;
}

bool
cache_get(struct request *r, const char *key, struct cached *out)
{
    struct worker *w = r->worker;
    redisReply *reply;
    if (redis_cmd(&w->redis, r->arena, &reply, "GET %s", key) != MK_OK) {
        reply = NULL;
    }
    return cache_parse(r, reply, out);
}

/* Store unless the entry is a stale marker (the projector's, see invalidate.c) or holds a
 * newer document. */
static const char *const PUT_SCRIPT =
    "local cur = redis.call('GET', KEYS[1]) "
    "if cur then "
    "  if not string.find(cur, '\\n', 1, true) then return 0 end "
    "  local s = tonumber(string.match(cur, '^(%d+)')) "
    "  if s and s > tonumber(ARGV[1]) then return 0 end "
    "end "
    "redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1";

void
cache_put(struct request *r, const char *key, long long seq, const char *etag, const char *body, size_t len,
          int ttl_s)
{
    struct worker *w = r->worker;
    if (ttl_s <= 0) {
        return;
    }
    char *head = arena_sprintf(r->arena, "%lld %s\n", seq, etag);
    size_t hlen = strlen(head);
    char *value = arena_alloc(r->arena, hlen + len);
    memcpy(value, head, hlen);
    memcpy(value + hlen, body, len);
    char *seqs = arena_sprintf(r->arena, "%lld", seq), *ttl = arena_sprintf(r->arena, "%d", ttl_s);
    const char *argv[] = {"EVAL", PUT_SCRIPT, "1", key, seqs, value, ttl};
    size_t argvlen[] = {4, strlen(PUT_SCRIPT), 1, strlen(key), strlen(seqs), hlen + len, strlen(ttl)};
    (void)redis_cmdv(&w->redis, r->arena, NULL, 7, argv, argvlen);
}

long long
cache_catalog_gen(struct request *r)
{
    struct worker *w = r->worker;
    redisReply *reply;
    if (redis_cmd(&w->redis, r->arena, &reply, "GET catalog:gen") != MK_OK) {
        return -1;
    }
    if (reply->type == REDIS_REPLY_NIL) {
        return 0;
    }
    return reply->type == REDIS_REPLY_STRING ? strtoll(reply->str, NULL, 10) : -1;
}

int
cache_respond(struct request *r, const struct cached *c)
{
    http_set_header(r, "ETag", c->etag);
    if (http_etag_match(http_header(r, "If-None-Match"), c->etag)) {
        return MK_ENOTMODIFIED;
    }
    return http_respond_raw(r, 200, "application/json", c->body, c->len);
}

void
cache_public_headers(struct request *r)
{
    struct worker *w = r->worker;
    /* X-Accel-Expires first: nginx reads headers in order, and a Cache-Control: no-cache
     * seen before it would make the answer uncacheable for nginx too. A stale answer (a
     * rebuild in progress) is not kept by nginx at all, nor one asked for with a UUID in
     * upper case: the projector purges the canonical (lower-case) URI only. */
    int ttl = http_response_header(r, "X-Read-Stale") != NULL || r->path_folded ? 0 : w->cfg->http_cache_ttl_s;
    http_set_header(r, "X-Accel-Expires", arena_sprintf(r->arena, "%d", ttl));
    http_set_header(r, "Cache-Control", "no-cache");
}
