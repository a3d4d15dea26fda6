#include "query/views.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

#include "core/errors.h"
#include "core/ids.h"
#include "domain/session.h"
#include "worker.h"

/* The anonymous viewer: BLAKE2b-128 of the client address and user agent, in hex. */
static void
anonymous_viewer(struct request *r, struct viewer *v)
{
    const char *addr = http_param(r, "REMOTE_ADDR"), *agent = http_header(r, "User-Agent");
    crypto_generichash_state st;
    unsigned char digest[16];
    crypto_generichash_init(&st, NULL, 0, sizeof(digest));
    crypto_generichash_update(&st, (const unsigned char *)(addr != NULL ? addr : ""), addr != NULL ? strlen(addr) : 0);
    crypto_generichash_update(&st, (const unsigned char *)"\n", 1);
    crypto_generichash_update(&st, (const unsigned char *)(agent != NULL ? agent : ""),
                              agent != NULL ? strlen(agent) : 0);
    crypto_generichash_final(&st, digest, sizeof(digest));
    sodium_bin2hex(v->id, sizeof(v->id), digest, sizeof(digest));
    v->known = false;
}

int
views_cached_read(struct request *r, const char *key, struct cached *out, void *viewer)
{
    struct viewer *v = viewer;
    struct worker *w = r->worker;
    char *skey = session_request_key(r);
    const char *get_cache[] = {"GET", key}, *get_session[] = {"GET", skey};
    struct redis_argv cmds[3] = {{2, get_cache, NULL}, {2, get_session, NULL}};
    int n = skey != NULL ? 2 : 1, limit = -1;
    if (worker_limit_cmd(r, &cmds[n])) {
        limit = n++;
    }
    redisReply *replies[3] = {NULL, NULL, NULL};
    int rc = redis_pipeline(&w->redis, r->arena, cmds, n, replies);
    int refused;
    if (limit >= 0 && (refused = worker_limit_reply(r, rc == MK_OK ? replies[limit] : NULL)) != MK_OK) {
        anonymous_viewer(r, v);
        return refused;
    }
    struct session s;
    if (rc == MK_OK && skey != NULL && session_identify_reply(r, &w->redis, w->cfg, skey, replies[1], &s) == MK_OK) {
        snprintf(v->id, sizeof(v->id), "%s", s.user_id);
        v->known = true;
    } else {
        anonymous_viewer(r, v);
    }
    return cache_parse(r, rc == MK_OK ? replies[0] : NULL, out);
}

void
views_count(struct request *r, const char *listing_id, const char *seller_id, const struct viewer *v)
{
    struct worker *w = r->worker;
    if (r->head || seller_id == NULL || (v->known && strcmp(v->id, seller_id) == 0)) {
        return;
    }
    /* The UTC day, formatted when it changes (a worker's single thread). */
    static char day[16];
    static time_t day_start = 1, day_end = 0;
    time_t now = time(NULL);
    if (now < day_start || now >= day_end) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(day, sizeof(day), "%Y%m%d", &tm);
        day_start = now - (tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec);
        day_end = day_start + 86400;
    }
    const char *pfadd[] = {"PFADD", arena_concat(r->arena, "views:", listing_id, ":", day, NULL), v->id};
    const char *sadd[] = {"SADD", VIEWS_DIRTY_KEY, arena_concat(r->arena, listing_id, ":", day, NULL)};
    struct redis_argv cmds[2] = {{3, pfadd, NULL}, {3, sadd, NULL}};
    (void)redis_send(&w->redis, cmds, 2);
}

const char *
views_body_seller(struct request *r, const char *body, size_t len)
{
    static const char marker[] = "\"seller_id\":\"";
    const char *p = memmem(body, len, marker, sizeof(marker) - 1);
    if (p == NULL) {
        return NULL;
    }
    p += sizeof(marker) - 1;
    if ((size_t)(body + len - p) < UUID_STR_LEN) {
        return NULL;
    }
    char *id = arena_strndup(r->arena, p, UUID_STR_LEN);
    return uuid_valid(id) ? id : NULL;
}
