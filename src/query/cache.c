#include "query/cache.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "query/readmodel.h"
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
    size_t len = 0;
    const char *entry = redis_reply_str(reply, &len);
    if (entry == NULL) {
        count(w, false);
        return false;
    }
    const char *nl = memchr(entry, '\n', len);
    const char *space = memchr(entry, ' ', len);
    if (nl == NULL || space == NULL || space > nl) {
        count(w, false);    /* a marker, or not ours */
        return false;
    }
    out->seq = strtoll(entry, NULL, 10);
    out->etag = arena_strndup(r->arena, space + 1, (size_t)(nl - space - 1));
    out->len = len - (size_t)(nl + 1 - entry);
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
 * newer document. Run by its SHA1 (redis_eval). The entry is not written to the append-only
 * file (nor to replicas): a cache may lose every key (cache.h), and each page written there
 * (17 KB for a browse page, on every miss) was Redis's largest cost per miss, with the AOF
 * rewrites it caused. The projector's markers and catalog:gen are written as before. */
static struct redis_script put_script = {
    "redis.set_repl(redis.REPL_NONE) "
    "local cur = redis.call('GET', KEYS[1]) "
    "if cur then "
    "  if not string.find(cur, '\\n', 1, true) then return 0 end "
    "  local s = tonumber(string.match(cur, '^(%d+)')) "
    "  if s and s > tonumber(ARGV[1]) then return 0 end "
    "end "
    "redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) return 1",
    "",
};

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
    const char *argv[] = {"1", key, seqs, value, ttl};
    size_t argvlen[] = {1, strlen(key), strlen(seqs), hlen + len, strlen(ttl)};
    (void)redis_eval(&w->redis, r->arena, NULL, &put_script, 5, argv, argvlen);
}

/* catalog:gen's reply: its number (0 when it does not exist), or -1. */
static long long
gen_of(const redisReply *reply)
{
    if (redis_reply_nil(reply)) {
        return 0;
    }
    const char *gen = redis_reply_str(reply, NULL);
    return gen != NULL ? strtoll(gen, NULL, 10) : -1;
}

/* The generation this worker saw last: the one its next entry is read under, in the same
 * round trip as catalog:gen. */
static long long seen_gen;

long long
cache_get_gen(struct request *r, const char *prefix, const char *rest, char **key, bool *hit, struct cached *out)
{
    return cache_get_gen_seen(r, prefix, rest, 0, key, hit, out, NULL);
}

long long
cache_get_gen_seen(struct request *r, const char *prefix, const char *rest, int seen_ttl_s, char **key, bool *hit,
                   struct cached *out, bool *seen)
{
    struct worker *w = r->worker;
    *key = NULL;
    *hit = false;
    if (seen != NULL) {
        *seen = false;
    }
    char *guess = arena_sprintf(r->arena, "%s:%lld:%s", prefix, seen_gen, rest);
    const char *gen_argv[] = {"GET", "catalog:gen"}, *key_argv[] = {"GET", guess};
    /* SET NX: OK the first time the page is asked for within seen_ttl_s, nil after. */
    const char *seen_argv[] = {"SET", NULL, "1", "EX", NULL, "NX"};
    if (seen != NULL) {
        seen_argv[1] = arena_sprintf(r->arena, "seen:%s:%s", prefix, rest);
        seen_argv[4] = arena_decimal(r->arena, seen_ttl_s);
    }
    const struct redis_argv cmds[] = {{2, gen_argv, NULL}, {2, key_argv, NULL}, {6, seen_argv, NULL}};
    redisReply *replies[3];
    if (redis_pipeline(&w->redis, r->arena, cmds, seen != NULL ? 3 : 2, replies) != MK_OK) {
        return -1;
    }
    long long gen = gen_of(replies[0]);
    if (gen < 0) {
        return -1;
    }
    if (seen != NULL) {
        *seen = redis_reply_nil(replies[2]);
    }
    if (gen == seen_gen) {
        *key = guess;
        *hit = cache_parse(r, replies[1], out);
    } else {
        /* The generation moved (or went back: Redis lost it): the entry read was another's. */
        seen_gen = gen;
        *key = arena_sprintf(r->arena, "%s:%lld:%s", prefix, gen, rest);
        *hit = cache_get(r, *key, out);
    }
    return gen;
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
    /* A stale answer (a rebuild in progress) is not kept by nginx at all, nor one asked for
     * with a UUID in upper case: the projector purges the canonical (lower-case) URI only.
     * Every other answer says nothing: nginx keeps it for its own `fastcgi_cache_valid`
     * (http_cache_ttl_s, rendered into marketd-cached.conf), as it says Cache-Control (cache.h). */
    if (http_response_header(r, "X-Read-Stale") != NULL || r->path_folded || w->cfg->http_cache_ttl_s == 0) {
        http_set_header(r, "X-Accel-Expires", "0");
    }
}

int
cache_read_doc_via(struct request *r, const char *key, cache_lookup_fn *lookup, void *ctx, const char *collection,
                   const char *id, const bson_t **doc, struct cached *hit)
{
    long long min_seq;
    int rc = readmodel_min_seq(r, &min_seq);
    *doc = NULL;
    if (hit != NULL) {
        memset(hit, 0, sizeof(*hit));
    }
    if (rc != MK_OK) {
        return rc;
    }
    struct cached c;
    int found = lookup != NULL ? lookup(r, key, &c, ctx) : cache_get(r, key, &c);
    if (found < 0) {
        return found;
    }
    if (found > 0 && c.seq >= min_seq) {
        if (hit != NULL) {
            *hit = c;
        }
        cache_public_headers(r);
        return cache_respond(r, &c);
    }
    return readmodel_get(r, collection, id, doc);
}

int
cache_read_doc(struct request *r, const char *key, const char *collection, const char *id, const bson_t **doc)
{
    return cache_read_doc_via(r, key, NULL, NULL, collection, id, doc, NULL);
}

int
cache_answer_doc(struct request *r, const char *key, const bson_t *doc, json_object *out, const char *etag)
{
    cache_public_headers(r);
    int rc = http_respond_json_etag(r, out, etag);
    if (http_response_header(r, "X-Read-Stale") == NULL) {
        cache_put(r, key, readmodel_int(doc, "seq"), http_response_header(r, "ETag"), r->out, r->out_len,
                  r->worker->cfg->cache_listing_ttl_s);
    }
    return rc;
}
