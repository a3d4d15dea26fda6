/* Accounts through nginx: registration, sessions, CSRF, throttling, profiles. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "itest.h"

static char *
json_body(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
json_body(const char *fmt, ...)
{
    static char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return buf;
}

static struct iresp
register_user(const char *email, const char *password, const char *name)
{
    return itest_http("POST", "/api/v1/users", NULL,
                      json_body("{\"email\":\"%s\",\"password\":\"%s\",\"display_name\":\"%s\"}", email, password, name));
}

static struct iresp
login(const char *email, const char *password)
{
    return itest_http("POST", "/api/v1/sessions", NULL,
                      json_body("{\"email\":\"%s\",\"password\":\"%s\"}", email, password));
}

static const char *
field_problem(const struct iresp *r, const char *field)
{
    return ijson_str(r->json, "error", "fields", field, NULL);
}

/* The keys of obj, sorted and joined with commas. */
static const char *
keys_of(json_object *obj)
{
    static char out[512];
    const char *names[32];
    int n = 0;
    json_object_object_foreach(obj, key, val) {
        (void)val;
        if (n < 32) {
            names[n++] = key;
        }
    }
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            if (strcmp(names[j], names[i]) < 0) {
                const char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
        }
    }
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strcat(out, i ? "," : "");
        strcat(out, names[i]);
    }
    return out;
}

static json_object *
member(json_object *o, const char *key)
{
    json_object *v = NULL;
    json_object_object_get_ex(o, key, &v);
    return v;
}

/* ---- registration ---------------------------------------------------------------- */

Test(accounts, registration_reports_each_invalid_field)
{
    struct iresp r = itest_http("POST", "/api/v1/users", NULL, "{\"email\":\"no-at-sign\",\"password\":\"short\","
                                                               "\"display_name\":\"\",\"nickname\":\"x\"}");
    cr_assert_eq(r.status, 422, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "validation_failed");
    cr_assert_not_null(field_problem(&r, "email"));
    cr_assert_not_null(field_problem(&r, "password"));
    cr_assert_not_null(field_problem(&r, "display_name"));
    cr_assert_not_null(field_problem(&r, "nickname"), "unknown fields are named");
    iresp_free(&r);

    r = itest_http("POST", "/api/v1/users", NULL, "{}");
    cr_assert_eq(r.status, 422);
    cr_assert_str_eq(field_problem(&r, "email"), "is required");
    cr_assert_str_eq(field_problem(&r, "password"), "is required");
    cr_assert_str_eq(field_problem(&r, "display_name"), "is required");
    iresp_free(&r);

    r = itest_http("POST", "/api/v1/users", NULL, "{\"email\":42,\"password\":true,\"display_name\":[]}");
    cr_assert_eq(r.status, 422);
    cr_assert_str_eq(field_problem(&r, "email"), "must be a string");
    cr_assert_str_eq(field_problem(&r, "password"), "must be a string");
    cr_assert_str_eq(field_problem(&r, "display_name"), "must be a string");
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/users", NULL, "{\"email\":null,\"password\":null,\"display_name\":null}");
    cr_assert_eq(r.status, 422);
    cr_assert_str_eq(field_problem(&r, "email"), "must not be null", "null is not absent (API.md)");
    cr_assert_str_eq(field_problem(&r, "display_name"), "must not be null");
    iresp_free(&r);
}

Test(accounts, registration_rejects_bad_emails)
{
    static const char *bad[] = {"plain", "a@b", "a@@b.example", "a b@c.example", "@c.example", "a@",
                                ".a@c.example", "a.@c.example", "a..b@c.example", "a@-c.example", "a@c-.example",
                                "a@c..example", "a@c.123", "a@c_d.example", "\\\"q\\\"@c.example"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct iresp r = register_user(bad[i], "long enough password", "Bad Email");
        cr_assert_eq(r.status, 422, "%s → %ld %s", bad[i], r.status, r.body);
        cr_assert_not_null(field_problem(&r, "email"), "%s", bad[i]);
        cr_assert_null(field_problem(&r, "password"));
        iresp_free(&r);
    }
}

Test(accounts, password_and_name_limits_count_characters)
{
    char email[160];
    snprintf(email, sizeof(email), "%s@example.test", itest_unique("limits"));
    /* 9 characters in 18 bytes: too short although the bytes would be enough. */
    struct iresp r = register_user(email, "ééééééééé", "Limits");
    cr_assert_eq(r.status, 422);
    cr_assert_not_null(field_problem(&r, "password"));
    iresp_free(&r);
    char longpw[200];
    memset(longpw, 'p', 129);
    longpw[129] = '\0';
    r = register_user(email, longpw, "Limits");
    cr_assert_eq(r.status, 422, "129 characters");
    cr_assert_not_null(field_problem(&r, "password"));
    iresp_free(&r);
    char longname[100];
    memset(longname, 'n', 61);
    longname[61] = '\0';
    r = register_user(email, "long enough password", longname);
    cr_assert_eq(r.status, 422, "61-character name");
    cr_assert_not_null(field_problem(&r, "display_name"));
    iresp_free(&r);
    r = register_user(email, "long enough password", "   ");
    cr_assert_eq(r.status, 422, "a blank name is empty");
    cr_assert_not_null(field_problem(&r, "display_name"));
    iresp_free(&r);
    r = register_user(email, "long enough password", "Tab\\tName");
    cr_assert_eq(r.status, 422, "control characters");
    iresp_free(&r);

    /* The bounds themselves are fine: 10 two-byte characters, 128 characters, 60 characters. */
    memset(longpw, 'p', 128);
    longpw[128] = '\0';
    r = register_user(email, "éééééééééé", "ÄÖÜäöüßÄÖÜäöüßÄÖÜäöüßÄÖÜäöüßÄÖÜäöüßÄÖÜäöüßÄÖÜäöüßÄÖÜäöüßÄÖÜä");
    cr_assert_eq(r.status, 201, "%s", r.body);
    iresp_free(&r);
    snprintf(email, sizeof(email), "%s@example.test", itest_unique("limits"));
    r = register_user(email, longpw, "Limits");
    cr_assert_eq(r.status, 201, "%s", r.body);
    iresp_free(&r);
}

Test(accounts, email_is_normalised_and_unique_in_any_case)
{
    const char *u = itest_unique("Case.Mixed");
    char email[160], other_case[160], login_case[400];
    snprintf(email, sizeof(email), "  %s@Mail.EXAMPLE.test ", u);
    struct iresp r = register_user(email, "long enough password", "Mixed");
    cr_assert_eq(r.status, 201, "%s", r.body);
    char expected[160];
    snprintf(expected, sizeof(expected), "%s@mail.example.test", u);
    cr_assert_str_eq(ijson_str(r.json, "user", "email", NULL), expected, "trimmed, domain lower-cased, local part kept");
    cr_assert_not_null(iresp_header(&r, "Location"));
    iresp_free(&r);

    snprintf(other_case, sizeof(other_case), "%s@mail.example.test", u);
    for (char *p = other_case; *p != '@'; p++) {
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    }
    r = register_user(other_case, "another long password", "Twin");
    /* other_case: the local part in swapped case, the domain as stored */
    cr_assert_eq(r.status, 409, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "email_taken");
    iresp_free(&r);

    *strchr(other_case, '@') = '\0';
    snprintf(login_case, sizeof(login_case), " %s@MAIL.example.TEST", other_case);
    r = login(login_case, "long enough password");
    cr_assert_eq(r.status, 201, "login in another case: %s", r.body);
    iresp_free(&r);
}

Test(accounts, stored_hash_is_argon2id_and_never_shown)
{
    struct itest_user u;
    itest_user_new(&u, "Hashed");
    PGconn *pg = itest_pg();
    const char *params[] = {u.id};
    PGresult *res = PQexecParams(pg, "SELECT password_hash FROM users WHERE id = $1", 1, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQntuples(res), 1);
    const char *hash = PQgetvalue(res, 0, 0);
    cr_assert(strncmp(hash, "$argon2id$v=19$m=65536,t=2,", 27) == 0, "hash: %s", hash);

    struct iresp r = itest_http("GET", "/api/v1/users/me", (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(keys_of(member(r.json, "user")), "avatar_url,bio,created_at,display_name,email,id,location");
    cr_assert_str_eq(ijson_str(r.json, "user", "email", NULL), u.email);
    cr_assert_null(strstr(r.body, "argon2"));
    cr_assert_null(strstr(r.body, "password"));
    cr_assert_not_null(strstr(iresp_header(&r, "Cache-Control"), "no-store"));
    iresp_free(&r);
    PQclear(res);
    PQfinish(pg);
}

Test(accounts, login_rehashes_when_the_limits_changed)
{
    struct itest_user u;
    itest_user_new(&u, "Rehash");
    cr_assert_eq(sodium_init() < 0, 0);
    char weak[crypto_pwhash_STRBYTES];
    cr_assert_eq(crypto_pwhash_str(weak, u.password, strlen(u.password), crypto_pwhash_OPSLIMIT_MIN,
                                   crypto_pwhash_MEMLIMIT_MIN), 0);
    PGconn *pg = itest_pg();
    const char *params[] = {u.id, weak};
    PQclear(PQexecParams(pg, "UPDATE users SET password_hash = $2 WHERE id = $1", 2, NULL, params, NULL, NULL, 0));
    itest_login(&u);
    PGresult *res = PQexecParams(pg, "SELECT password_hash FROM users WHERE id = $1", 1, NULL, params, NULL, NULL, 0);
    const char *hash = PQgetvalue(res, 0, 0);
    cr_assert_str_neq(hash, weak, "the weak hash was replaced");
    cr_assert(strncmp(hash, "$argon2id$v=19$m=65536,t=2,", 27) == 0, "re-hashed at the configured limits: %s", hash);
    PQclear(res);
    PQfinish(pg);
    itest_login(&u);   /* and the new hash verifies */
}

/* ---- sessions ---------------------------------------------------------------------- */

Test(accounts, login_sets_the_session_cookie)
{
    struct itest_user u;
    itest_user_new(&u, "Cookie");
    struct iresp r = login(u.email, u.password);
    cr_assert_eq(r.status, 201);
    const char *token = ijson_str(r.json, "token", NULL);
    cr_assert_eq(strlen(token), 43, "32 random bytes in base64url");
    char cookie[1024];
    snprintf(cookie, sizeof(cookie), "%s", iresp_header(&r, "Set-Cookie"));
    char expect[128];
    snprintf(expect, sizeof(expect), "sid=%s;", token);
    cr_assert(strncmp(cookie, expect, strlen(expect)) == 0, "%s", cookie);
    cr_assert_not_null(strstr(cookie, "; HttpOnly"), "%s", cookie);
    cr_assert_not_null(strstr(cookie, "; Secure"), "%s", cookie);
    cr_assert_not_null(strstr(cookie, "; SameSite=Lax"), "%s", cookie);
    cr_assert_not_null(strstr(cookie, "; Path=/"), "%s", cookie);
    cr_assert_not_null(strstr(cookie, "Max-Age=2592000"), "30 days: %s", cookie);
    cr_assert_str_eq(ijson_str(r.json, "user", "id", NULL), u.id);
    /* expires_at is 30 days ahead */
    struct tm tm = {0};
    cr_assert_not_null(strptime(ijson_str(r.json, "expires_at", NULL), "%Y-%m-%dT%H:%M:%SZ", &tm));
    long long expires = (long long)timegm(&tm), now = (long long)time(NULL);
    cr_assert(expires > now + 30 * 86400 - 120 && expires <= now + 30 * 86400 + 5, "expires_at %lld", expires - now);
    iresp_free(&r);
    /* the cookie alone authenticates a read */
    snprintf(cookie, sizeof(cookie), "Cookie: sid=%s", token);
    r = itest_http("GET", "/api/v1/users/me", (const char *const[]){cookie, NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
}

Test(accounts, wrong_password_and_unknown_email_are_indistinguishable)
{
    struct itest_user u;
    itest_user_new(&u, "Guarded");
    struct iresp wrong = login(u.email, "not the password");
    char unknown[160];
    snprintf(unknown, sizeof(unknown), "%s@example.test", itest_unique("nobody"));
    struct iresp nobody = login(unknown, "not the password");
    struct iresp invalid = login("not-an-email", "not the password");
    cr_assert_eq(wrong.status, 401);
    cr_assert_eq(nobody.status, 401);
    cr_assert_eq(invalid.status, 401);
    cr_assert_str_eq(iresp_error_code(&wrong), "invalid_credentials");
    cr_assert_str_eq(wrong.body, nobody.body, "same body for a wrong password and an unknown email");
    cr_assert_str_eq(wrong.body, invalid.body);
    iresp_free(&wrong);
    iresp_free(&nobody);
    iresp_free(&invalid);
}

Test(accounts, sixth_failure_in_the_window_is_429)
{
    struct itest_user u;
    itest_user_new(&u, "Throttled");
    char upper[160];
    snprintf(upper, sizeof(upper), "%s", u.email);
    for (char *p = upper; *p; p++) {
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    }
    for (int i = 0; i < 5; i++) {
        /* the same email in another case counts against the same budget */
        struct iresp r = login(i % 2 ? upper : u.email, "wrong password!");
        cr_assert_eq(r.status, 401, "failure %d: %ld %s", i + 1, r.status, r.body);
        iresp_free(&r);
    }
    struct iresp r = login(u.email, "wrong password!");
    cr_assert_eq(r.status, 429, "%s", r.body);
    cr_assert_str_eq(iresp_error_code(&r), "rate_limited");
    int retry = atoi(iresp_header(&r, "Retry-After"));
    cr_assert(retry >= 1 && retry <= 900, "Retry-After %d", retry);
    iresp_free(&r);
    r = login(u.email, u.password);
    cr_assert_eq(r.status, 429, "the right password does not get through the block either");
    iresp_free(&r);

    /* Another email is not affected. */
    struct itest_user other;
    itest_user_new(&other, "Unaffected");

    /* The window ends: with the counter's TTL gone (as after 15 minutes), login works. */
    unsigned char digest[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1], key[256];
    char lower[160];
    snprintf(lower, sizeof(lower), "%s", u.email);
    for (char *p = lower; *p; p++) {
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);   /* the key is the email in lower case */
    }
    crypto_hash_sha256(digest, (const unsigned char *)lower, strlen(lower));
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    snprintf(key, sizeof(key), "throttle:login:%s", hex);
    redisContext *rc = itest_redis();
    redisReply *ttl = redisCommand(rc, "TTL %s", key);
    cr_assert(ttl->type == REDIS_REPLY_INTEGER && ttl->integer > 0 && ttl->integer <= 900, "counter has its window");
    freeReplyObject(ttl);
    freeReplyObject(redisCommand(rc, "DEL %s", key));
    redisFree(rc);
    itest_login(&u);
}

Test(accounts, success_resets_the_failure_count)
{
    struct itest_user u;
    itest_user_new(&u, "Forgetful");
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 4; i++) {
            struct iresp r = login(u.email, "wrong password!");
            cr_assert_eq(r.status, 401, "round %d failure %d", round, i + 1);
            iresp_free(&r);
        }
        itest_login(&u);
    }
}

Test(accounts, logout_ends_the_session_at_once)
{
    struct itest_user u;
    itest_user_new(&u, "Leaving");
    const char *auth[] = {u.bearer, NULL};
    struct iresp r = itest_http("DELETE", "/api/v1/sessions/current", auth, NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    cr_assert_not_null(strstr(iresp_header(&r, "Set-Cookie"), "sid=; Max-Age=0"), "the cookie is cleared");
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/users/me", auth, NULL);
    cr_assert_eq(r.status, 401);
    cr_assert_str_eq(iresp_error_code(&r), "unauthenticated");
    iresp_free(&r);
    r = itest_http("DELETE", "/api/v1/sessions/current", auth, NULL);
    cr_assert_eq(r.status, 401, "a second logout has nothing to end");
    iresp_free(&r);
}

Test(accounts, forged_malformed_and_expired_tokens_are_401)
{
    const char *cases[] = {
        "Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* well-formed, unknown */
        "Authorization: Bearer short",
        "Authorization: Basic dXNlcjpwYXNz",
        "Cookie: sid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "Cookie: sid=../../etc/passwd",
        NULL,
    };
    for (int i = 0; cases[i] != NULL; i++) {
        struct iresp r = itest_http("GET", "/api/v1/users/me", (const char *const[]){cases[i], NULL}, NULL);
        cr_assert_eq(r.status, 401, "%s → %ld", cases[i], r.status);
        cr_assert_str_eq(iresp_error_code(&r), "unauthenticated");
        cr_assert_not_null(iresp_header(&r, "WWW-Authenticate"));
        iresp_free(&r);
    }
    struct iresp r = itest_http("GET", "/api/v1/users/me", NULL, NULL);
    cr_assert_eq(r.status, 401, "no credentials at all");
    iresp_free(&r);

    /* Expired: the stored expiry has passed although the key is still there. */
    struct itest_user u;
    itest_user_new(&u, "Expired");
    unsigned char digest[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1], key[128], value[128];
    crypto_hash_sha256(digest, (const unsigned char *)u.token, strlen(u.token));
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    snprintf(key, sizeof(key), "session:%s", hex);
    snprintf(value, sizeof(value), "%s %lld", u.id, (long long)time(NULL) - 1);
    redisContext *rc = itest_redis();
    freeReplyObject(redisCommand(rc, "SET %s %s EX 60", key, value));
    redisFree(rc);
    r = itest_http("GET", "/api/v1/users/me", (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 401, "expired session: %s", r.body);
    iresp_free(&r);
}

Test(accounts, redis_keeps_only_a_hash_of_the_token_and_sessions_slide)
{
    struct itest_user u;
    itest_user_new(&u, "Sliding");
    unsigned char digest[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1], key[128], value[128];
    crypto_hash_sha256(digest, (const unsigned char *)u.token, strlen(u.token));
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    snprintf(key, sizeof(key), "session:%s", hex);
    redisContext *rc = itest_redis();
    redisReply *v = redisCommand(rc, "GET %s", key);
    cr_assert_eq(v->type, REDIS_REPLY_STRING, "the session is stored under SHA-256(token)");
    cr_assert_null(strstr(v->str, u.token), "the value holds no token");
    cr_assert(strncmp(v->str, u.id, 36) == 0, "the value holds the user id: %s", v->str);
    freeReplyObject(v);
    redisReply *keys = redisCommand(rc, "KEYS *%s*", u.token);
    cr_assert_eq(keys->elements, 0, "no key contains the token");
    freeReplyObject(keys);

    /* Ten days left: a use slides the expiry back to thirty days, and re-sends the cookie. */
    long long now = (long long)time(NULL);
    snprintf(value, sizeof(value), "%s %lld", u.id, now + 10 * 86400);
    freeReplyObject(redisCommand(rc, "SET %s %s EX %d", key, value, 10 * 86400));
    struct iresp r = itest_http("GET", "/api/v1/users/me", (const char *const[]){u.cookie, NULL}, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(iresp_header(&r, "Set-Cookie"), "a slid cookie session gets a fresh cookie");
    iresp_free(&r);
    redisReply *ttl = redisCommand(rc, "TTL %s", key);
    cr_assert(ttl->integer > 29 * 86400, "TTL slid to 30 days: %lld", ttl->integer);
    freeReplyObject(ttl);
    /* A fresh session is not rewritten on every request. */
    r = itest_http("GET", "/api/v1/users/me", (const char *const[]){u.cookie, NULL}, NULL);
    cr_assert_null(iresp_header(&r, "Set-Cookie"));
    iresp_free(&r);
    redisFree(rc);
}

/* ---- CSRF ------------------------------------------------------------------------- */

Test(accounts, cookie_writes_need_the_site_origin)
{
    struct itest_user u;
    itest_user_new(&u, "Csrf");
    const char *body = "{\"bio\":\"written by cookie\"}";
    struct iresp r = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){u.cookie, NULL}, body);
    cr_assert_eq(r.status, 403, "cookie write without Origin: %ld %s", r.status, r.body);
    cr_assert_str_eq(iresp_error_code(&r), "forbidden");
    iresp_free(&r);
    r = itest_http("PATCH", "/api/v1/users/me",
                   (const char *const[]){u.cookie, "Origin: https://evil.example", NULL}, body);
    cr_assert_eq(r.status, 403, "cookie write from another origin");
    iresp_free(&r);
    char origin[256];
    snprintf(origin, sizeof(origin), "Origin: %s", itest_origin());
    r = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){u.cookie, origin, NULL}, body);
    cr_assert_eq(r.status, 200, "cookie write with the site's Origin: %s", r.body);
    cr_assert_str_eq(ijson_str(r.json, "user", "bio", NULL), "written by cookie");
    iresp_free(&r);
    r = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){u.bearer, NULL}, "{\"bio\":\"by bearer\"}");
    cr_assert_eq(r.status, 200, "bearer writes need no Origin: %s", r.body);
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/users/me", (const char *const[]){u.cookie, NULL}, NULL);
    cr_assert_eq(r.status, 200, "cookie reads need no Origin");
    iresp_free(&r);
    r = itest_http("DELETE", "/api/v1/sessions/current", (const char *const[]){u.cookie, NULL}, NULL);
    cr_assert_eq(r.status, 403, "logout by cookie is a write too");
    iresp_free(&r);
}

/* ---- profiles ------------------------------------------------------------------- */

Test(accounts, public_profile_comes_from_the_read_model_without_private_fields)
{
    struct itest_user u;
    itest_user_new(&u, "Public");
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/users/%s", u.id);
    struct iresp w = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){u.bearer, NULL},
                                "{\"location\":{\"city\":\"Lyon\",\"country\":\"FR\",\"lat\":45.76,\"lon\":4.84}}");
    cr_assert_eq(w.status, 200, "%s", w.body);
    char min_seq[64];
    snprintf(min_seq, sizeof(min_seq), "X-Min-Seq: %s", iresp_header(&w, "X-Event-Seq"));
    iresp_free(&w);
    struct iresp r = itest_http("GET", path, (const char *const[]){min_seq, NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_object *user = member(r.json, "user");
    cr_assert_str_eq(keys_of(user), "active_listings,avatar_url,bio,display_name,id,member_since,rating");
    cr_assert_str_eq(keys_of(member(user, "rating")), "average,count");
    cr_assert(json_object_is_type(member(member(user, "rating"), "average"), json_type_null));
    cr_assert_eq(ijson_int(user, "rating", "count", NULL), 0);
    cr_assert_eq(ijson_int(user, "active_listings", NULL), 0);
    cr_assert_null(strstr(r.body, u.email), "no email in the public profile");
    cr_assert_null(strstr(r.body, "Lyon"), "no location in the public profile");
    iresp_free(&r);

    /* Nor anywhere in the read model, nor in the events that feed it. */
    mongoc_client_t *m = itest_mongo();
    mongoc_collection_t *c = mongoc_client_get_collection(m, "market", "sellers");
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(u.id));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
    const bson_t *doc;
    cr_assert(mongoc_cursor_next(cur, &doc), "the sellers document exists");
    char *text = bson_as_relaxed_extended_json(doc, NULL);
    cr_assert_null(strstr(text, u.email), "%s", text);
    cr_assert_null(strstr(text, "argon2"), "%s", text);
    cr_assert_null(strstr(text, "Lyon"), "%s", text);
    bson_free(text);
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(m);
    PGconn *pg = itest_pg();
    const char *params[] = {u.id, u.email};
    PGresult *res = PQexecParams(pg,
                                 "SELECT count(*) FILTER (WHERE payload::text LIKE '%' || $2 || '%' OR payload::text "
                                 "LIKE '%argon2%' OR payload::text LIKE '%Lyon%'), count(*) FROM outbox "
                                 "WHERE aggregate_id = $1::uuid",
                                 2, NULL, params, NULL, NULL, 0);
    cr_assert_str_eq(PQgetvalue(res, 0, 0), "0", "no private field in the events");
    cr_assert_str_eq(PQgetvalue(res, 0, 1), "2", "user.registered and user.profile_updated");
    PQclear(res);
    PQfinish(pg);
}

struct conditional_get {
    const char *path, *if_none_match;
    long status;
};

static bool
conditional_get_unmodified(void *arg)
{
    struct conditional_get *c = arg;
    struct iresp r = itest_http("GET", c->path, (const char *const[]){c->if_none_match, NULL}, NULL);
    c->status = r.status;
    iresp_free(&r);
    return c->status == 304;
}

Test(accounts, profile_update_is_visible_through_x_min_seq)
{
    struct itest_user u;
    itest_user_new(&u, "Before");
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/users/%s", u.id);
    for (int round = 0; round < 5; round++) {
        char body[128];
        snprintf(body, sizeof(body), "{\"display_name\":\"After %d\",\"bio\":\"round %d\"}", round, round);
        struct iresp w = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){u.bearer, NULL}, body);
        cr_assert_eq(w.status, 200, "%s", w.body);
        cr_assert_not_null(iresp_header(&w, "X-Event-Seq"));
        char min_seq[64];
        snprintf(min_seq, sizeof(min_seq), "X-Min-Seq: %s", iresp_header(&w, "X-Event-Seq"));
        iresp_free(&w);
        struct iresp r = itest_http("GET", path, (const char *const[]){min_seq, NULL}, NULL);
        cr_assert_eq(r.status, 200);
        char expect[32];
        snprintf(expect, sizeof(expect), "After %d", round);
        cr_assert_str_eq(ijson_str(r.json, "user", "display_name", NULL), expect);
        cr_assert_null(iresp_header(&r, "X-Read-Stale"));
        /* ETag and 304 */
        char inm[128];
        snprintf(inm, sizeof(inm), "If-None-Match: %s", iresp_header(&r, "ETag"));
        iresp_free(&r);
        /* nginx's page of the previous round is purged by the projector just after it applied
         * the change, so an anonymous read may meet it for a moment: poll for the new one. */
        struct conditional_get c = {path, inm, 0};
        itest_poll(5000, conditional_get_unmodified, &c);
        cr_assert_eq(c.status, 304);
    }
}

Test(accounts, profile_patch_validation)
{
    struct itest_user u;
    itest_user_new(&u, "Patchy");
    const char *auth[] = {u.bearer, NULL};
    char longbio[600];
    memset(longbio, 'b', 501);
    longbio[501] = '\0';
    struct {
        const char *body;
        const char *field;
    } bad[] = {
        {"{\"display_name\":\"\"}", "display_name"},
        {"{\"display_name\":7}", "display_name"},
        {json_body("{\"bio\":\"%s\"}", longbio), "bio"},
        {"{\"location\":{\"lat\":91,\"lon\":0}}", "location.lat"},
        {"{\"location\":{\"lat\":0,\"lon\":-181}}", "location.lon"},
        {"{\"location\":{\"city\":\"X\",\"lat\":1}}", "location.lon"},
        {"{\"location\":{\"country\":\"germany\"}}", "location.country"},
        {"{\"location\":{\"street\":\"Main St\"}}", "location.street"},
        {"{\"location\":\"Berlin\"}", "location"},
        {"{\"email\":\"new@example.test\"}", "email"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char body[1024];
        snprintf(body, sizeof(body), "%s", bad[i].body);
        struct iresp r = itest_http("PATCH", "/api/v1/users/me", auth, body);
        cr_assert_eq(r.status, 422, "%s → %ld %s", body, r.status, r.body);
        cr_assert_not_null(field_problem(&r, bad[i].field), "%s: %s", body, r.body);
        iresp_free(&r);
    }
    struct iresp r = itest_http("PATCH", "/api/v1/users/me", auth, "{}");
    cr_assert_eq(r.status, 200, "an empty patch changes nothing");
    cr_assert_null(iresp_header(&r, "X-Event-Seq"), "and writes no event");
    iresp_free(&r);
    r = itest_http("PATCH", "/api/v1/users/me", auth, "{\"bio\":null}");
    cr_assert_eq(r.status, 422, "API.md: null is not absent, and only location may be null: %s", r.body);
    cr_assert_not_null(field_problem(&r, "bio"), "%s", r.body);
    iresp_free(&r);
    r = itest_http("PATCH", "/api/v1/users/me", auth,
                   "{\"location\":{\"city\":\" Porto \",\"country\":\"PT\"},\"bio\":\"\"}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(ijson_str(r.json, "user", "location", "city", NULL), "Porto");
    cr_assert_str_eq(ijson_str(r.json, "user", "bio", NULL), "");
    iresp_free(&r);
    r = itest_http("PATCH", "/api/v1/users/me", auth, "{\"location\":null}");
    cr_assert_eq(r.status, 200);
    cr_assert(json_object_is_type(member(member(r.json, "user"), "location"), json_type_null));
    iresp_free(&r);
}

Test(accounts, user_routes_answer_404_405_and_401)
{
    struct iresp r = itest_http("GET", "/api/v1/users/not-a-uuid", NULL, NULL);
    cr_assert_eq(r.status, 404);
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/users/00000000-0000-4000-8000-000000000000", NULL, NULL);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(iresp_error_code(&r), "not_found");
    iresp_free(&r);
    r = itest_http("PATCH", "/api/v1/users/00000000-0000-4000-8000-000000000000", NULL, "{}");
    cr_assert_eq(r.status, 405);
    iresp_free(&r);
    r = itest_http("PATCH", "/api/v1/users/me", NULL, "{\"bio\":\"x\"}");
    cr_assert_eq(r.status, 401);
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/sessions", NULL, NULL);
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(iresp_header(&r, "Allow"), "POST");
    iresp_free(&r);
}

/* ---- limits and failure ------------------------------------------------------------ */

Test(accounts, nginx_limits_login_attempts_per_address)
{
    /* 127.0.0.2 is loopback but not exempt: the per-address login zone applies to it. */
    int limited = 0, reached = 0;
    for (int i = 0; i < 30; i++) {
        struct iresp r = itest_http_from("127.0.0.2", "POST", "/api/v1/sessions", NULL, "{}");
        if (r.status == 429) {
            limited++;
            cr_assert_str_eq(iresp_error_code(&r), "rate_limited");
            cr_assert_not_null(iresp_header(&r, "Retry-After"));
        } else {
            cr_assert_eq(r.status, 422, "the app answers what nginx lets through: %ld", r.status);
            reached++;
        }
        iresp_free(&r);
    }
    cr_assert(limited >= 15, "nginx limited %d of 30 (reached the app: %d)", limited, reached);
    cr_assert(reached >= 1);
    /* 127.0.0.1 is exempt (benchmarks, this suite). */
    for (int i = 0; i < 30; i++) {
        struct iresp r = itest_http("POST", "/api/v1/sessions", NULL, "{}");
        cr_assert_eq(r.status, 422);
        iresp_free(&r);
    }
}

Test(accounts, system_writes_stay_loopback_only)
{
    struct iresp r = itest_http_from("127.0.0.2", "POST", "/api/v1/system/pings", NULL, "{\"note\":\"x\"}");
    cr_assert_eq(r.status, 403, "a write from another address: %ld %s", r.status, r.body);
    cr_assert_str_eq(iresp_error_code(&r), "forbidden");
    iresp_free(&r);
    r = itest_http_from("127.0.0.2", "GET", "/api/v1/system/pings/00000000-0000-4000-8000-000000000000", NULL, NULL);
    cr_assert_eq(r.status, 403);
    iresp_free(&r);
}

struct recovery {
    struct itest_user *user;
    double restarted_ms;
};

/* True once a login succeeds and every worker's reconnect back-off (at most 1 s in
 * store/redis.c) has run out since Redis came back, so no worker still answers 503. */
static bool
login_works_everywhere(void *arg)
{
    struct recovery *s = arg;
    struct iresp r = login(s->user->email, s->user->password);
    cr_assert(r.status == 201 || r.status == 503, "%ld", r.status);
    bool ok = r.status == 201 && itest_now_ms() - s->restarted_ms > 1100;
    iresp_free(&r);
    return ok;
}

static void
restart_redis(void)
{
    itest_stack("start", "redis");
}

Test(accounts, redis_down_fails_closed, .fini = restart_redis)
{
    struct itest_user u;
    itest_user_new(&u, "Closed");
    itest_stack("stop", "redis");
    struct iresp r = login(u.email, u.password);
    cr_assert_eq(r.status, 503, "login with Redis down: %ld %s", r.status, r.body);
    cr_assert_str_eq(iresp_error_code(&r), "unavailable");
    cr_assert_not_null(iresp_header(&r, "Retry-After"));
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/users/me", (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 503, "an authenticated read is not let in: %ld", r.status);
    iresp_free(&r);
    r = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){u.bearer, NULL}, "{\"bio\":\"x\"}");
    cr_assert_eq(r.status, 503, "nor a write: %ld", r.status);
    iresp_free(&r);
    itest_stack("start", "redis");
    /* Back: logins work again once the workers reconnect (their back-off is ≤ 1 s). */
    struct recovery s = {&u, itest_now_ms()};
    cr_assert(itest_poll(15000, login_works_everywhere, &s), "login works again after Redis is back");
}
