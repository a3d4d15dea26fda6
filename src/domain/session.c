#include "domain/session.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/errors.h"

bool
session_token_valid(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char ch = s[n];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                  ch == '_';
        if (!ok || n >= SESSION_TOKEN_CHARS) {
            return false;
        }
    }
    return n == SESSION_TOKEN_CHARS;
}

char *
session_key(arena_t *a, const char *token)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    crypto_hash_sha256(digest, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    return arena_sprintf(a, "session:%s", hex);
}

int
session_create(struct redis_store *rs, arena_t *a, const char *user_id, int ttl_s,
               char token[SESSION_TOKEN_CHARS + 1], long long *expires_at)
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(token, SESSION_TOKEN_CHARS + 1, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    *expires_at = (long long)time(NULL) + ttl_s;
    char value[UUID_STR_LEN + 24];
    snprintf(value, sizeof(value), "%s %lld", user_id, *expires_at);
    redisReply *reply;
    int rc = redis_cmd(rs, a, &reply, "SET %s %s EX %d", session_key(a, token), value, ttl_s);
    if (rc == MK_OK && redis_reply_error(reply)) {
        rc = MK_EUNAVAILABLE;
    }
    return rc;
}

int
session_delete(struct redis_store *rs, arena_t *a, const char *token)
{
    redisReply *reply;
    int rc = redis_cmd(rs, a, &reply, "DEL %s", session_key(a, token));
    if (rc == MK_OK && redis_reply_error(reply)) {
        rc = MK_EUNAVAILABLE;
    }
    return rc;
}

void
session_set_cookie(struct request *r, const char *token, int max_age)
{
    char *cookie = arena_sprintf(r->arena, "%s=%s; Max-Age=%d; Path=/; HttpOnly; Secure; SameSite=Lax",
                                 SESSION_COOKIE, token != NULL ? token : "", token != NULL ? max_age : 0);
    http_set_header(r, "Set-Cookie", cookie);
}

/* The token of r: the Authorization header's bearer token, else the sid cookie. */
static const char *
token_of(struct request *r, bool *via_cookie, bool *malformed)
{
    const char *auth = http_header(r, "Authorization");
    *via_cookie = false;
    *malformed = false;
    if (auth != NULL) {
        if (strncasecmp(auth, "Bearer ", 7) != 0) {
            *malformed = true;
            return NULL;
        }
        auth += 7;
        while (*auth == ' ') {
            auth++;
        }
        return auth;
    }
    const char *cookie = http_cookie(r, SESSION_COOKIE);
    if (cookie != NULL && *cookie != '\0') {
        *via_cookie = true;
        return cookie;
    }
    return NULL;
}

static bool
is_write(const struct request *r)
{
    return strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0 && strcmp(r->method, "OPTIONS") != 0;
}

/* The Redis key of r's session token, or NULL (with *problem) when r carries none or a
 * malformed one. */
static char *
request_key(struct request *r, bool *via_cookie, const char **token, const char **problem)
{
    bool malformed;
    *token = token_of(r, via_cookie, &malformed);
    if (*token == NULL) {
        *problem = malformed ? "the Authorization header must be \"Bearer TOKEN\"" : "authentication is required";
        return NULL;
    }
    if (!session_token_valid(*token)) {
        *problem = "the session token is not valid";
        return NULL;
    }
    return session_key(r->arena, *token);
}

/* A session's value "<user id> <expires_at>" (what sscanf "%36s %lld" read, without the
 * scanner: it was 1.7 % of a signed-in read's CPU in the query pool). */
static bool
parse_value(const char *stored, char user_id[UUID_STR_LEN + 1], long long *expires_at)
{
    const char *space = strchr(stored, ' ');
    if (space == NULL || space - stored != UUID_STR_LEN) {
        return false;
    }
    memcpy(user_id, stored, UUID_STR_LEN);
    user_id[UUID_STR_LEN] = '\0';
    char *end;
    errno = 0;
    *expires_at = strtoll(space + 1, &end, 10);
    return end != space + 1 && errno == 0;
}

/* Check the session value that GET key answered (reply), enforce the Origin rule, slide. */
static int
check_reply(struct request *r, struct redis_store *rs, const struct config *cfg, const char *key, bool via_cookie,
            const redisReply *reply, struct session *out, const char **problem)
{
    if (redis_reply_error(reply)) {
        *problem = "sessions are unavailable; retry later";
        return MK_EUNAVAILABLE;
    }
    long long now = (long long)time(NULL);
    char user_id[UUID_STR_LEN + 1];
    long long expires_at = 0;
    const char *stored = redis_reply_str(reply, NULL);
    if (stored == NULL || !parse_value(stored, user_id, &expires_at) || !uuid_valid(user_id) || expires_at <= now) {
        *problem = "the session has expired or was ended; log in again";
        return MK_EUNAUTH;
    }
    if (via_cookie && is_write(r)) {
        const char *origin = http_header(r, "Origin");
        if (origin == NULL || strcmp(origin, cfg->public_origin) != 0) {
            *problem = "a write authenticated by cookie must carry the site's Origin header";
            return MK_EFORBIDDEN;
        }
    }
    if (expires_at - now < cfg->session_ttl_s - SESSION_REFRESH_S) {
        /* Slide. A failure here costs only the refresh, never the request. */
        expires_at = now + cfg->session_ttl_s;
        char value[UUID_STR_LEN + 24];
        snprintf(value, sizeof(value), "%s %lld", user_id, expires_at);
        if (redis_cmd(rs, r->arena, NULL, "SET %s %s EX %d XX", key, value, cfg->session_ttl_s) == MK_OK &&
            via_cookie) {
            session_set_cookie(r, session_token_of(r), cfg->session_ttl_s);
        }
    }
    memcpy(out->user_id, user_id, sizeof(out->user_id));
    r->user_id = arena_strdup(r->arena, user_id);
    out->expires_at = expires_at;
    out->via_cookie = via_cookie;
    return MK_OK;
}

/*
 * The session of r, without answering anything: MK_OK, MK_EUNAUTH, MK_EFORBIDDEN or
 * MK_EUNAVAILABLE, with *problem saying why. Slides the expiry (and re-sends the cookie)
 * on success.
 */
static int
lookup(struct request *r, struct redis_store *rs, const struct config *cfg, struct session *out,
       const char **token_out, const char **problem)
{
    bool via_cookie;
    const char *token;
    memset(out, 0, sizeof(*out));
    if (token_out != NULL) {
        *token_out = NULL;
    }
    char *key = request_key(r, &via_cookie, &token, problem);
    if (key == NULL) {
        return MK_EUNAUTH;
    }
    redisReply *reply;
    if (redis_cmd(rs, r->arena, &reply, "GET %s", key) != MK_OK) {
        *problem = "sessions are unavailable; retry later";
        return MK_EUNAVAILABLE;
    }
    int rc = check_reply(r, rs, cfg, key, via_cookie, reply, out, problem);
    if (rc == MK_OK && token_out != NULL) {
        *token_out = token;
    }
    return rc;
}

const char *
session_token_of(struct request *r)
{
    bool via_cookie, malformed;
    return token_of(r, &via_cookie, &malformed);
}

char *
session_request_key(struct request *r)
{
    bool via_cookie;
    const char *token, *problem;
    return request_key(r, &via_cookie, &token, &problem);
}

int
session_identify_reply(struct request *r, struct redis_store *rs, const struct config *cfg, const char *key,
                       const redisReply *reply, struct session *out)
{
    bool via_cookie, malformed;
    const char *problem;
    memset(out, 0, sizeof(*out));
    (void)token_of(r, &via_cookie, &malformed);
    return check_reply(r, rs, cfg, key, via_cookie, reply, out, &problem);
}

int
session_authenticate(struct request *r, struct redis_store *rs, const struct config *cfg, struct session *out,
                     const char **token_out)
{
    const char *problem = NULL;
    int rc = lookup(r, rs, cfg, out, token_out, &problem);
    if (rc == MK_EUNAUTH) {
        http_set_header(r, "WWW-Authenticate", "Bearer realm=\"market\"");
    }
    return rc == MK_OK ? rc : http_fail(r, rc, problem);
}

int
session_identify(struct request *r, struct redis_store *rs, const struct config *cfg, struct session *out)
{
    const char *problem;
    return lookup(r, rs, cfg, out, NULL, &problem);
}
