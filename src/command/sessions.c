/* POST /api/v1/sessions (login), DELETE /api/v1/sessions/current (logout). */
#include <stddef.h>
#include <string.h>

#include "command/handlers.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/text.h"
#include "domain/session.h"
#include "domain/throttle.h"
#include "domain/user.h"
#include "worker.h"

#define LOGIN_THROTTLE "login"

/* Count a login outcome: offset of the counter in the metrics segment. */
static void
count(struct worker *w, size_t offset)
{
    if (w->metrics != NULL) {
        metrics_add(*(uint64_t *)((char *)w->metrics + offset), 1);
    }
}

int
command_login(struct request *r)
{
    struct worker *w = r->worker;
    json_object *body;
    int rc = http_json_body(r, &body);
    if (rc != MK_OK) {
        return rc;
    }
    const char *key, *password;
    if (user_parse_login(r, body, &key, &password) != MK_OK) {
        return http_fail(r, MK_EVALIDATION, NULL);
    }

    int retry_after = 0;
    rc = throttle_check(&w->redis, r->arena, LOGIN_THROTTLE, key, w->cfg->login_max_failures, &retry_after);
    if (rc == MK_ERATELIMITED) {
        r->retry_after = retry_after;
        count(w, offsetof(struct metrics_segment, logins_throttled));
        return http_fail(r, rc, "too many failed logins for this email; retry later");
    }
    if (rc != MK_OK) {
        return http_fail(r, MK_EUNAVAILABLE, "sessions are unavailable; retry later");
    }

    struct user u;
    char *hash = NULL;
    rc = user_credentials(&w->pg, r->arena, key, &u, &hash);
    if (rc != MK_OK && rc != MK_ENOTFOUND) {
        return rc;
    }
    struct user_pwlimits lim = user_pwlimits_of(w->cfg);
    bool needs_rehash;
    if (!user_password_verify(&lim, rc == MK_OK ? hash : NULL, password, &needs_rehash)) {
        count(w, offsetof(struct metrics_segment, logins_failed));
        if (throttle_fail(&w->redis, r->arena, LOGIN_THROTTLE, key, w->cfg->login_window_s) != MK_OK) {
            return http_fail(r, MK_EUNAVAILABLE, "sessions are unavailable; retry later");
        }
        return http_fail(r, MK_ECREDENTIALS, NULL);
    }
    if (needs_rehash) {
        char fresh[128];
        if (user_password_hash(&lim, password, fresh) == MK_OK &&
            user_set_password_hash(&w->pg, r->arena, u.id, fresh) == MK_OK) {
            log_info("login: re-hashed the password of user %s at the configured limits", u.id);
        }
    }
    char token[SESSION_TOKEN_CHARS + 1];
    long long expires_at;
    if (throttle_clear(&w->redis, r->arena, LOGIN_THROTTLE, key) != MK_OK ||
        session_create(&w->redis, r->arena, u.id, w->cfg->session_ttl_s, token, &expires_at) != MK_OK) {
        return http_fail(r, MK_EUNAVAILABLE, "sessions are unavailable; retry later");
    }
    count(w, offsetof(struct metrics_segment, logins_ok));
    session_set_cookie(r, token, w->cfg->session_ttl_s);
    http_set_header(r, "Cache-Control", "no-store");
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "token", json_object_new_string(token));
    json_object_object_add(doc, "expires_at", json_object_new_string(http_rfc3339(r->arena, expires_at)));
    json_object_object_add(doc, "user", user_private_json(&u));
    return http_respond_json(r, 201, doc);
}

int
command_logout(struct request *r)
{
    struct worker *w = r->worker;
    struct session s;
    const char *token;
    int rc = session_authenticate(r, &w->redis, w->cfg, &s, &token);
    if (rc != MK_OK) {
        return rc;
    }
    if (session_delete(&w->redis, r->arena, token) != MK_OK) {
        return http_fail(r, MK_EUNAVAILABLE, "sessions are unavailable; retry later");
    }
    session_set_cookie(r, NULL, 0);
    http_set_header(r, "Cache-Control", "no-store");
    return http_respond_empty(r, 204);
}
