/*
 * session.h — login sessions in Redis, and authentication of requests.
 *
 * A token is 32 random bytes (libsodium), base64url without padding: 43 characters. Redis
 * keeps only SHA-256(token) as the key, "session:<hex>", whose value is "<user id>
 * <expires unix>" and whose TTL is the same expiry, so a token is never stored and a leak
 * of Redis gives no usable token. Sessions slide: a use more than SESSION_REFRESH_S after
 * the last refresh pushes the expiry back to a full TTL (SET ... XX, so a session deleted
 * meanwhile is not revived). Logout deletes the key at once.
 *
 * A request authenticates with `Authorization: Bearer TOKEN` or the `sid` cookie. A write
 * (not GET/HEAD) authenticated by the cookie must carry an Origin equal to the configured
 * public origin (CSRF); bearer requests are exempt, since a browser never attaches that
 * header by itself. Redis down: MK_EUNAVAILABLE (fail closed, never "let in").
 */
#ifndef MK_SESSION_H
#define MK_SESSION_H

#include <stdbool.h>

#include "core/config.h"
#include "core/http.h"
#include "core/ids.h"
#include "store/redis.h"

#define SESSION_TOKEN_CHARS 43
#define SESSION_REFRESH_S 3600
#define SESSION_COOKIE "sid"

struct session {
    char user_id[UUID_STR_LEN + 1];
    long long expires_at;   /* unix seconds */
    bool via_cookie;
};

/* True when s has the shape of a token (43 base64url characters). */
bool session_token_valid(const char *s);

/* The Redis key of a token ("session:" + hex SHA-256), in the arena. */
char *session_key(arena_t *a, const char *token);

/* Create a session for user_id living ttl_s seconds. token receives the new token (the
 * only copy: it goes to the client), *expires_at its expiry. MK_OK or MK_EUNAVAILABLE. */
int session_create(struct redis_store *rs, arena_t *a, const char *user_id, int ttl_s,
                   char token[SESSION_TOKEN_CHARS + 1], long long *expires_at);

/* Delete a session (logout). MK_OK also when it did not exist; MK_EUNAVAILABLE. */
int session_delete(struct redis_store *rs, arena_t *a, const char *token);

/*
 * Authenticate r: find its token, look the session up, enforce the Origin rule for cookie
 * writes, slide the expiry (re-sending the cookie when the cookie was used). *out and
 * *token (may be NULL; the token as sent, in the arena) receive the session.
 * Returns MK_OK, MK_EUNAUTH (no, malformed, unknown or expired token; WWW-Authenticate is
 * set), MK_EFORBIDDEN (cookie write without the right Origin) or MK_EUNAVAILABLE, each
 * with its message recorded on r.
 */
int session_authenticate(struct request *r, struct redis_store *rs, const struct config *cfg, struct session *out,
                         const char **token);

/* The same for a read where a session is optional (a draft is shown to its seller only):
 * MK_OK with *out, or the error code, with nothing answered or recorded on r. */
int session_identify(struct request *r, struct redis_store *rs, const struct config *cfg, struct session *out);

/* The Redis key of the session token r carries ("session:<hex>"), or NULL when it carries
 * none or a malformed one; with session_identify_reply, a read can fetch the session in the
 * same round trip as something else (redis_pipeline). */
char *session_request_key(struct request *r);

/* session_identify on the reply to GET key fetched by the caller. */
int session_identify_reply(struct request *r, struct redis_store *rs, const struct config *cfg, const char *key,
                           const redisReply *reply, struct session *out);

/* The token r carries (Authorization bearer, else the sid cookie) as sent, or NULL. */
const char *session_token_of(struct request *r);

/* Set-Cookie for the session token (max_age seconds), or clearing it when token is NULL. */
void session_set_cookie(struct request *r, const char *token, int max_age);

#endif
