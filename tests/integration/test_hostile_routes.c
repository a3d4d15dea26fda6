/*
 * Hostile input generated from the route table (issue 18). The test links src/routes.c and
 * walks routes[]: every method (GET HEAD POST PUT PATCH DELETE OPTIONS TRACE) on every
 * route, with a valid id and with invalid ones; header attacks (Authorization, Cookie,
 * Origin, If-Match, Idempotency-Key, Content-Type, X-Min-Seq); path attacks; and for every
 * route that takes a body, each member of its schema replaced by hostile values of its type
 * (wrong types, null, U+0000, control characters, every kind of invalid UTF-8, over-long
 * values, huge numbers, numbers outside the grammar, unknown members, duplicate keys, deep
 * nesting) plus hostile whole bodies.
 *
 * Every answer: status below 500, X-Request-Id, and for a 4xx the API's error shape with a
 * code API.md documents (and the status that code goes with; Allow on a 405). No write is
 * ever accepted, and the state does not change: PostgreSQL's row counts per table, the
 * outbox's last position, the versions and states of the victim's data, and the sessions.
 *
 * A route added to the table without a way to make a valid id for its path or without a
 * body schema here (for a write) fails the test: new routes come with their hostile cases.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "itest.h"
#include "routes.h"

TestSuite(hostile_routes, .timeout = 300);

static const char *const METHODS[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"};
#define NMETHODS (sizeof(METHODS) / sizeof(METHODS[0]))

/* ---- the victim's data -------------------------------------------------------------------- */

static struct itest_user seller, buyer;
static char listing[40], sold_listing[40], order[40], offer[40], ping[40], missing_uuid[40], saved_search[40],
    webhook[40];
static char nobody_email[128];

/* ---- counting and checking answers ------------------------------------------------------- */

static long sent;
static long failures;
static char *report;   /* the first failures, one per line */
static size_t report_len;

static void
fail(const char *f, ...)
{
    failures++;
    if (failures > 40) {
        return;
    }
    char line[1200];
    va_list ap;
    va_start(ap, f);
    vsnprintf(line, sizeof(line), f, ap);
    va_end(ap);
    size_t l = strlen(line);
    report = realloc(report, report_len + l + 2);
    memcpy(report + report_len, line, l);
    report_len += l;
    report[report_len++] = '\n';
    report[report_len] = '\0';
}

/* Codes of API.md with their status; 413, 414 and 431 share payload_too_large. */
static const struct {
    const char *code;
    long status;
} CODES[] = {
    {"malformed_json", 400}, {"bad_parameter", 400}, {"unauthenticated", 401}, {"invalid_credentials", 401},
    {"forbidden", 403}, {"not_found", 404}, {"method_not_allowed", 405}, {"conflict", 409},
    {"email_taken", 409}, {"listing_not_available", 409}, {"invalid_transition", 409}, {"already_reviewed", 409},
    {"precondition_failed", 412}, {"payload_too_large", 413}, {"payload_too_large", 414},
    {"payload_too_large", 431}, {"unsupported_media_type", 415}, {"validation_failed", 422},
    {"idempotency_key_reused", 422}, {"precondition_required", 428}, {"rate_limited", 429},
};

static bool
documented(const char *code, long status)
{
    for (size_t i = 0; i < sizeof(CODES) / sizeof(CODES[0]); i++) {
        if (strcmp(CODES[i].code, code) == 0 && CODES[i].status == status) {
            return true;
        }
    }
    return false;
}

static bool
is_read(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

/* Print at most n bytes of s with non-printable bytes escaped, for messages. */
static const char *
shown(const char *s, size_t n)
{
    static char out[2][400];
    static int k;
    char *o = out[k++ % 2];
    size_t j = 0;
    for (size_t i = 0; s != NULL && s[i] != '\0' && i < n && j + 5 < sizeof(out[0]); i++) {
        unsigned char c = (unsigned char)s[i];
        j += (size_t)(c >= 0x20 && c < 0x7f ? snprintf(o + j, 2, "%c", c) : snprintf(o + j, 5, "\\x%02x", c));
    }
    o[j] = '\0';
    if (s != NULL && strlen(s) > n) {
        snprintf(o + j, sizeof(out[0]) - j, "...(%zu bytes)", strlen(s));
    }
    return o;
}

/* The checks every answer must pass. */
static void
check(const struct iresp *r, const char *method, const char *path, const char *what)
{
    sent++;
    const char *where = shown(path, 120);
    if (r->status == 0) {
        fail("%s %s (%s): no answer", method, where, what);
        return;
    }
    if (r->status >= 500) {
        fail("%s %s (%s): %ld %s", method, where, what, r->status, shown(r->body, 200));
        return;
    }
    if (iresp_header(r, "X-Request-Id") == NULL) {
        fail("%s %s (%s): %ld without X-Request-Id", method, where, what, r->status);
    }
    if (!is_read(method) && r->status < 300) {
        fail("%s %s (%s): a hostile write was accepted: %ld %s", method, where, what, r->status, shown(r->body, 200));
    }
    if (r->status < 400 || strcmp(method, "HEAD") == 0) {
        return;   /* an answer to HEAD has no body to hold the error */
    }
    if (strncmp(path, "/l/", 3) == 0 && r->status == 404) {
        /* The listing page's "not found" is a page for browsers (API.md, Web client). */
        const char *ct = iresp_header(r, "Content-Type");
        if (ct == NULL || strncmp(ct, "text/html", 9) != 0 || strstr(r->body, "No such listing") == NULL) {
            fail("%s %s (%s): 404 of a listing page is not the HTML page: %s", method, where, what, shown(r->body, 200));
        }
        return;
    }
    const char *code = ijson_str(r->json, "error", "code", NULL);
    if (code == NULL || ijson_str(r->json, "error", "message", NULL) == NULL) {
        fail("%s %s (%s): %ld not in the error shape: %s", method, where, what, r->status, shown(r->body, 200));
    } else if (!documented(code, r->status)) {
        fail("%s %s (%s): %ld with code %s, not a documented pair", method, where, what, r->status, code);
    }
    if (r->status == 405 && iresp_header(r, "Allow") == NULL) {
        fail("%s %s (%s): 405 without Allow", method, where, what);
    }
    if (r->status == 429 && iresp_header(r, "Retry-After") == NULL) {
        fail("%s %s (%s): 429 without Retry-After", method, where, what);
    }
}

static void
send_check(const char *method, const char *path, const char *const *headers, const char *body, const char *what)
{
    struct iresp r = itest_http(method, path, headers, body);
    check(&r, method, path, what);
    iresp_free(&r);
}

/* The same over HTTP/1.1 as bytes (itest_raw): header values and bodies a client library
 * would refuse to send. headers: hlen bytes of "Name: value\r\n" lines, body: blen bytes
 * (either may hold NUL). */
static void
raw_check(const char *method, const char *path, const char *headers, size_t hlen, const char *body, size_t blen,
          const char *what)
{
    char *req = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&req, &len);
    fprintf(f, "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n", method, path);
    fwrite(headers, 1, hlen, f);
    fprintf(f, "Content-Length: %zu\r\n\r\n", blen);
    fwrite(body, 1, blen, f);
    fclose(f);
    struct iresp r = itest_raw(itest_env("MARKET_TEST_BASE_URL"), req, len);
    check(&r, method, path, what);
    iresp_free(&r);
    free(req);
}

/* ---- the state that must not change ----------------------------------------------------- */

static char *
pg_rows(PGconn *c, const char *sql, const char *p1)
{
    const char *params[] = {p1};
    PGresult *res = PQexecParams(c, sql, p1 != NULL ? 1 : 0, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (int i = 0; i < PQntuples(res); i++) {
        for (int j = 0; j < PQnfields(res); j++) {
            fprintf(f, "%s%s", j > 0 ? " " : "", PQgetisnull(res, i, j) ? "null" : PQgetvalue(res, i, j));
        }
        fputc('\n', f);
    }
    fclose(f);
    PQclear(res);
    return out;
}

/* Row counts of every table, the outbox's last position, the victim's rows, the sessions. */
static char *
snapshot(void)
{
    PGconn *c = itest_pg();
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    /* Refused purchases are answered again byte for byte on a retry with their key, so their
     * Idempotency-Key records are the one row a refusal writes (API.md, Orders); and a read of
     * a listing counts a view (API.md, Insights), which the projector folds into listing_views. */
    char *tables = pg_rows(c, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                              "AND tablename NOT IN ('idempotency_keys', 'listing_views') ORDER BY 1", NULL);
    for (char *t = strtok(tables, "\n"); t != NULL; t = strtok(NULL, "\n")) {
        char sql[256];
        snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"", t);
        char *n = pg_rows(c, sql, NULL);
        fprintf(f, "%s: %s", t, n);
        free(n);
    }
    free(tables);
    static const char *const rows[] = {
        "SELECT 'outbox', max(seq) FROM outbox",
        NULL,
    };
    for (int i = 0; rows[i] != NULL; i++) {
        char *s = pg_rows(c, rows[i], NULL);
        fputs(s, f);
        free(s);
    }
    const struct {
        const char *sql, *id;
    } mine[] = {
        {"SELECT 'user', version, display_name, bio, location::text FROM users WHERE id = $1::uuid", seller.id},
        {"SELECT 'user', version, display_name, bio, location::text FROM users WHERE id = $1::uuid", buyer.id},
        {"SELECT 'listing', version, status, price_minor, title FROM listings WHERE id = $1::uuid", listing},
        {"SELECT 'listing', version, status FROM listings WHERE id = $1::uuid", sold_listing},
        {"SELECT 'order', version, status FROM orders WHERE id = $1::uuid", order},
        {"SELECT 'offer', version, status, turn, amount_minor FROM offers WHERE id = $1::uuid", offer},
        {"SELECT 'ping', version, note FROM system_pings WHERE id = $1::uuid", ping},
        {"SELECT 'favourites', count(*) FROM favorites WHERE listing_id = $1::uuid", listing},
        {"SELECT 'images', count(*) FROM listing_images WHERE listing_id = $1::uuid", listing},
        {"SELECT 'uploads', count(*) FROM image_uploads WHERE listing_id = $1::uuid", listing},
    };
    for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
        char *s = pg_rows(c, mine[i].sql, mine[i].id);
        fputs(s, f);
        free(s);
    }
    PQfinish(c);
    redisContext *rc = itest_redis();
    long long sessions = 0;
    char cursor[32] = "0";
    do {
        redisReply *rep = redisCommand(rc, "SCAN %s MATCH session:* COUNT 1000", cursor);
        cr_assert(rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2);
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        sessions += (long long)rep->element[1]->elements;
        freeReplyObject(rep);
    } while (strcmp(cursor, "0") != 0);
    redisFree(rc);
    fprintf(f, "sessions: %lld\n", sessions);
    fclose(f);
    return out;
}

/* ---- paths from the route table --------------------------------------------------------- */

/* The valid id of the resource a {param} follows (the segment before it), or NULL. */
static const char *
valid_id(const char *resource)
{
    if (strcmp(resource, "pings") == 0) {
        return ping;
    }
    if (strcmp(resource, "users") == 0) {
        return seller.id;
    }
    if (strcmp(resource, "listings") == 0 || strcmp(resource, "l") == 0) {
        return listing;   /* /l/{id} is the listing's HTML page */
    }
    if (strcmp(resource, "orders") == 0) {
        return order;
    }
    if (strcmp(resource, "offers") == 0) {
        return offer;
    }
    if (strcmp(resource, "images") == 0) {
        return missing_uuid;   /* the victim's listing has no image */
    }
    if (strcmp(resource, "saved-searches") == 0) {
        return saved_search;
    }
    if (strcmp(resource, "webhooks") == 0) {
        return webhook;
    }
    if (strcmp(resource, "deliveries") == 0) {
        return missing_uuid;   /* the victim's webhook has had nothing to deliver */
    }
    if (strcmp(resource, "categories") == 0) {
        return "toys";         /* a slug of the seed data */
    }
    return NULL;
}

/* Invalid ids: each replaces every {param} of a pattern in turn. "%U" is the valid id in upper
 * case (valid for reads; writes are refused for other reasons). */
static const char *const BAD_IDS[] = {
    "00000000-0000-0000-0000-000000000000",
    "%U",
    "not-a-uuid",
    "%ff%c0%af%ed%a0%80",
    "999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999",
    "%27%20OR%201%3D1--%7B%7D%e2%80%ae",
};
#define NBAD_IDS (sizeof(BAD_IDS) / sizeof(BAD_IDS[0]))

/* Fill pattern's {params}: with their valid ids (bad == NULL), or with bad. False when a
 * parameter follows a resource valid_id() does not know. */
static bool
make_path(const char *pattern, const char *bad, char *out, size_t len)
{
    size_t o = 0;
    char prev[64] = "";
    for (const char *p = pattern; *p != '\0' && o + 1 < len;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            const char *id = valid_id(prev);
            if (end == NULL || id == NULL) {
                return false;
            }
            char upper[40];
            if (bad != NULL && strcmp(bad, "%U") == 0) {
                for (size_t i = 0; i <= strlen(id); i++) {
                    upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 : id[i]);
                }
                id = upper;
            } else if (bad != NULL) {
                id = bad;
            }
            o += (size_t)snprintf(out + o, len - o, "%s", id);
            p = end + 1;
            continue;
        }
        if (*p == '/') {
            /* remember the segment that ends here */
            const char *start = p;
            while (start > pattern && start[-1] != '/') {
                start--;
            }
            snprintf(prev, sizeof(prev), "%.*s", (int)(p - start), start);
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return o + 1 < len;
}

/* ---- body schemas --------------------------------------------------------------------------- */

/*
 * A body: a template whose @1 .. @9 are slots, each with a type, a valid value and, for some,
 * a guard: a value that makes the request fail whatever the other members hold. A hostile
 * value goes into one slot; the first guard of another slot goes in too, so that no
 * combination can succeed (routes with a guard of their own — a stale If-Match, a party
 * that may not act, a listing that does not exist — need none).
 * Types: 's' string, 'i' integer, 'n' number, 'o' object, 'O' object where null is allowed.
 */
struct slot {
    char type;
    const char *valid;
    const char *guard;
};

struct body_route {
    const char *method, *pattern;
    const char *auth;     /* the header that authenticates, or NULL */
    const char *extra;    /* a header that guards the route, or NULL */
    bool idempotency;     /* send a fresh Idempotency-Key */
    char tmpl[512];
    struct slot slots[10];   /* [1] .. [9] */
};

/* Writes without a body: their hostile cases are the method matrix and the header attacks. */
static const char *const BODYLESS[] = {
    "DELETE /api/v1/sessions/current",
    "DELETE /api/v1/listings/{id}",
    "DELETE /api/v1/listings/{id}/images/{image_id}",
    "POST /api/v1/listings/{id}/favorite",
    "DELETE /api/v1/listings/{id}/favorite",
    "POST /api/v1/orders/{id}/confirm",
    "POST /api/v1/orders/{id}/cancel",
    "DELETE /api/v1/users/me/saved-searches/{id}",
    "DELETE /api/v1/users/me/webhooks/{id}",
    "POST /api/v1/users/me/webhooks/{id}/deliveries/{delivery_id}/retry",
    "POST /api/v1/offers/{id}/accept",
    "POST /api/v1/offers/{id}/decline",
    "POST /api/v1/offers/{id}/withdraw",
};

static char long6000[6003], long70000[70003], deep_obj[1200], deep_arr[60002], many_members[40000];

/* Hostile values for a slot of each type. Each is invalid for every member of that type. */
static const char *const STRING_BAD[] = {
    "1", "-1.5", "true", "false", "[]", "{}", "[\"a\"]", "{\"a\":\"b\"}", "null",
    "\"a\\u0000b\"", "\"\\u0000\"", "\"a\x01b\"", "\"a\x1f\"", "\"a\tb\"", "\"a\nb\"",
    "\"x\xc0\xafy\"", "\"x\xc1\xbfy\"", "\"x\xe0\x80\xafy\"", "\"x\xf0\x80\x80\xafy\"", "\"x\xed\xa0\x80y\"",
    "\"x\xed\xa0\xbd\xed\xb2\xa9y\"", "\"x\xf4\x90\x80\x80y\"", "\"x\xf8\x88\x80\x80\x80y\"", "\"x\xfey\"",
    "\"x\xffy\"", "\"x\x80y\"", "\"x\xe2\x82\"", "\"x\\ud800y\"", "\"x\\udc00y\"", "\"x\\ud800\\u0041\"",
    "\"x\\uZZZZ\"", "\"x\\q\"", "'single'", "\"unterminated", "1e400", "123456789012345678901234567890",
    long6000, long70000,
};
static const char *const NUMBER_BAD[] = {
    "\"12\"", "\"\"", "true", "[]", "{}", "[1]", "null", "1e400", "-1e400", "1.7976931348623157e309",
    "123456789012345678901234567890", "-123456789012345678901234567890", "18446744073709551616",
    "9223372036854775808", "1.", "01", "-", "+1", ".5", "NaN", "Infinity", "-Infinity", "0x10", "1e", "1e+",
    "--1", "1_000", "\"1\\u0000\"", "\"\xff\"",
};
static const char *const INTEGER_EXTRA[] = {"1.5", "2.000001"};
static const char *const OBJECT_BAD[] = {
    "\"x\"", "1", "[]", "true", "[{}]", "{\"zzz_unknown\":1}", "{\"a\\u0000\":1}", "{\"\xff\":1}",
    "{\"city\":\"a\",\"city\":\"b\"}", deep_obj, "{\"a\":" /* truncated */, "{\"a\":1,}", "{'a':1}",
};
/* Whole bodies, sent in place of the (guarded) document. "@T" is the guarded template. */
static const char *const WHOLE_BAD[] = {
    "", " ", "null", "[]", "\"s\"", "1", "true", "{", "}", "{\"a\"}", "{\"a\":}", "{,}", "{}{}", "{} x", "{}}",
    "[{}]", "/* c */ {}", "\xef\xbb\xbf{}", "\xef\xbb\xbf@T", "@T x", "@T@T", "{\"zzz_unknown\":1,@R",
    "{\"__proto__\":{\"admin\":true},@R", "{\"\xff\":1,@R", "{\"a\\u0000b\":1,@R", long70000, deep_arr,
    "{\"deep\":@D,@R", many_members, "@T,", "\"\\ud800\"",
};

static char *
expand(const char *tmpl, const char *const vals[10])
{
    size_t cap = strlen(tmpl) + 1;
    for (int i = 1; i < 10; i++) {
        cap += vals[i] != NULL ? strlen(vals[i]) : 0;
    }
    char *out = malloc(cap), *o = out;
    for (const char *p = tmpl; *p != '\0'; p++) {
        if (p[0] == '@' && p[1] >= '1' && p[1] <= '9') {
            const char *v = vals[p[1] - '0'];
            size_t l = v != NULL ? strlen(v) : 0;
            memcpy(o, v, l);
            o += l;
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* The template with slot `attacked` holding value (0: none), guarded. */
static char *
build(const struct body_route *b, int attacked, const char *value)
{
    const char *vals[10] = {NULL};
    bool guarded = false;
    for (int i = 1; i < 10; i++) {
        if (b->slots[i].type == 0) {
            continue;
        }
        if (i == attacked) {
            vals[i] = value;
        } else if (!guarded && b->slots[i].guard != NULL) {
            vals[i] = b->slots[i].guard;
            guarded = true;
        } else {
            vals[i] = b->slots[i].valid;
        }
    }
    return expand(b->tmpl, vals);
}

static void
send_body(const struct body_route *b, const char *path, const char *body, const char *const *more, const char *what)
{
    const char *h[8];
    int n = 0;
    char key[96];
    if (b->auth != NULL) {
        h[n++] = b->auth;
    }
    if (b->extra != NULL) {
        h[n++] = b->extra;
    }
    if (b->idempotency) {
        snprintf(key, sizeof(key), "Idempotency-Key: %s", itest_unique("hostile-routes"));
        h[n++] = key;
    }
    for (int i = 0; more != NULL && more[i] != NULL && n < 7; i++) {
        h[n++] = more[i];
    }
    h[n] = NULL;
    send_check(b->method, path, h, body, what);
}

/* Replace "@T" (the guarded template), "@R" (its members after the opening brace) and "@D"
 * (deep nesting) in a whole-body attack. */
static char *
whole(const struct body_route *b, const char *attack)
{
    char *t = build(b, 0, NULL);
    size_t cap = strlen(attack) + 2 * strlen(t) * 2 + sizeof(deep_obj) + 1;
    char *out = malloc(cap), *o = out;
    for (const char *p = attack; *p != '\0'; p++) {
        const char *ins = NULL;
        if (p[0] == '@' && p[1] == 'T') {
            ins = t;
        } else if (p[0] == '@' && p[1] == 'R') {
            ins = t + 1;
        } else if (p[0] == '@' && p[1] == 'D') {
            ins = deep_obj;
        }
        if (ins != NULL) {
            size_t l = strlen(ins);
            memcpy(o, ins, l);
            o += l;
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    free(t);
    return out;
}

/* ---- the test ------------------------------------------------------------------------------- */

static void
setup_data(void)
{
    itest_user_new(&seller, "HostileSeller");
    itest_user_new(&buyer, "HostileBuyer");
    const char *listing_body =
        "{\"title\":\"Hostile lamp\",\"description\":\"Bright\",\"category\":\"furniture\",\"condition\":\"good\","
        "\"price_minor\":1500,\"currency\":\"EUR\",\"status\":\"active\",\"location\":{\"city\":\"Berlin\","
        "\"country\":\"DE\",\"lat\":52.52,\"lon\":13.4}}";
    char *ids[] = {listing, sold_listing};
    for (int i = 0; i < 2; i++) {
        struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){seller.bearer, NULL}, listing_body);
        cr_assert_eq(r.status, 201, "%s", r.body);
        snprintf(ids[i], 40, "%s", ijson_str(r.json, "listing", "id", NULL));
        iresp_free(&r);
    }
    char key[128];
    snprintf(key, sizeof(key), "Idempotency-Key: %s", itest_unique("hostile-routes-order"));
    struct iresp r = itest_http("POST", "/api/v1/orders", (const char *const[]){buyer.bearer, key, NULL},
                                itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":{\"name\":\"Ada\","
                                          "\"line1\":\"L1\",\"city\":\"Berlin\",\"postal_code\":\"10117\","
                                          "\"country\":\"DE\"}}",
                                          sold_listing));
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(order, sizeof(order), "%s", ijson_str(r.json, "order", "id", NULL));
    iresp_free(&r);
    /* An open offer of the buyer on the listing: the seller's turn. */
    r = itest_http("POST", itest_fmt("/api/v1/listings/%s/offers", listing), (const char *const[]){buyer.bearer, NULL},
                   "{\"amount_minor\":1000}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(offer, sizeof(offer), "%s", ijson_str(r.json, "offer", "id", NULL));
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/system/pings", NULL, "{\"note\":\"hostile routes\"}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(ping, sizeof(ping), "%s", ijson_str(r.json, "ping", "id", NULL));
    iresp_free(&r);
    snprintf(missing_uuid, sizeof(missing_uuid), "6f1c4d3e-1111-4222-8333-944455556666");
    /* The seller's saved search and webhook (for a type nothing here makes: no delivery). */
    r = itest_http("POST", "/api/v1/users/me/saved-searches", (const char *const[]){seller.bearer, NULL},
                   "{\"name\":\"hostile\",\"query\":\"q=lamp\",\"alert\":false}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(saved_search, sizeof(saved_search), "%s", ijson_str(r.json, "saved_search", "id", NULL));
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/users/me/webhooks", (const char *const[]){seller.bearer, NULL},
                   "{\"url\":\"http://127.0.0.1:1/hostile\",\"events\":[\"review_received\"]}");
    cr_assert_eq(r.status, 201, "%s", r.body);
    snprintf(webhook, sizeof(webhook), "%s", ijson_str(r.json, "webhook", "id", NULL));
    iresp_free(&r);
    snprintf(nobody_email, sizeof(nobody_email), "%s@example.test", itest_unique("nobody"));

    memset(long6000, 'a', 6002);
    long6000[0] = long6000[6001] = '"';
    memset(long70000, 'b', 70002);
    long70000[0] = long70000[70001] = '"';
    size_t o = 0;
    for (int i = 0; i < 40; i++) {
        o += (size_t)snprintf(deep_obj + o, sizeof(deep_obj) - o, "{\"a\":");
    }
    o += (size_t)snprintf(deep_obj + o, sizeof(deep_obj) - o, "1");
    for (int i = 0; i < 40; i++) {
        deep_obj[o++] = '}';
    }
    deep_obj[o] = '\0';
    memset(deep_arr, '[', 60000);
    o = 0;
    many_members[o++] = '{';
    for (int i = 0; i < 2000; i++) {
        o += (size_t)snprintf(many_members + o, sizeof(many_members) - o, "%s\"m%d\":%d", i ? "," : "", i, i);
    }
    snprintf(many_members + o, sizeof(many_members) - o, "}");
}

static int
schemas(struct body_route *b)
{
    static char seller_email[200], nobody[200], stale[] = "If-Match: \"999\"";
    snprintf(seller_email, sizeof(seller_email), "\"%s\"", seller.email);
    snprintf(nobody, sizeof(nobody), "\"%s\"", nobody_email);
    static char ping_id[64], listing_missing[64];
    snprintf(ping_id, sizeof(ping_id), "\"%s\"", ping);
    snprintf(listing_missing, sizeof(listing_missing), "\"%s\"", missing_uuid);
    const char *loc = "{\"city\":\"Berlin\",\"country\":\"DE\",\"lat\":52.5,\"lon\":13.4}";
    const char *addr_tmpl = "{\"name\":@3,\"line1\":@4,\"line2\":@5,\"city\":@6,\"postal_code\":@7,\"country\":@8}";
    int n = 0;
    /* Registration: the seller's email is taken (409) unless the email itself is attacked. */
    b[n++] = (struct body_route){"POST", "/api/v1/users", NULL, NULL, false,
                                 "{\"email\":@1,\"password\":@2,\"display_name\":@3}",
                                 {{0}, {'s', seller_email, NULL}, {'s', "\"Secret-One-26\"", "\"short\""},
                                  {'s', "\"Hos\"", "\"\""}}};
    /* Login as nobody: never a session. */
    b[n++] = (struct body_route){"POST", "/api/v1/sessions", NULL, NULL, false, "{\"email\":@1,\"password\":@2}",
                                 {{0}, {'s', nobody, NULL}, {'s', "\"Secret-One-26\"", NULL}}};
    b[n++] = (struct body_route){"POST", "/api/v1/system/pings", NULL, NULL, false, "{\"id\":@1,\"note\":@2}",
                                 {{0}, {'s', ping_id, "\"not-a-uuid\""}, {'s', "\"hostile\"", long6000}}};
    b[n++] = (struct body_route){
        "PATCH", "/api/v1/users/me", seller.bearer, NULL, false,
        "{\"display_name\":@1,\"bio\":@2,\"location\":@3}",
        {{0}, {'s', "\"Renamed\"", "\"\""}, {'s', "\"bio\"", long6000}, {'O', loc, "{\"city\":\"Berlin\"}"}}};
    b[n++] = (struct body_route){
        "PATCH", "/api/v1/users/me", seller.bearer, NULL, false,
        "{\"display_name\":\"\",\"location\":{\"city\":@1,\"country\":@2,\"lat\":@3,\"lon\":@4}}",
        {{0}, {'s', "\"Berlin\"", NULL}, {'s', "\"DE\"", NULL}, {'n', "52.5", NULL}, {'n', "13.4", NULL}}};
    /* A new listing: a price of 0 guards every other member. */
    b[n++] = (struct body_route){
        "POST", "/api/v1/listings", seller.bearer, NULL, false,
        "{\"title\":@1,\"description\":@2,\"category\":@3,\"condition\":@4,\"price_minor\":@5,\"currency\":@6,"
        "\"status\":@7,\"location\":{\"city\":@8,\"country\":\"DE\",\"lat\":@9,\"lon\":13.4}}",
        {{0}, {'s', "\"Hostile lamp\"", NULL}, {'s', "\"d\"", NULL}, {'s', "\"furniture\"", NULL},
         {'s', "\"good\"", NULL}, {'i', "1500", "0"}, {'s', "\"EUR\"", "\"EURO\""}, {'s', "\"active\"", NULL},
         {'s', "\"Berlin\"", NULL}, {'n', "52.5", NULL}}};
    b[n++] = (struct body_route){
        "POST", "/api/v1/listings", seller.bearer, NULL, false,
        "{\"title\":\"Hostile phone\",\"category\":\"phones\",\"condition\":\"good\",\"price_minor\":@1,"
        "\"currency\":\"EUR\",\"location\":@2,\"attributes\":{\"brand\":@3,\"storage_gb\":@4}}",
        {{0}, {'i', "1500", "0"}, {'o', loc, "{}"}, {'s', "\"Google\"", NULL}, {'i', "128", NULL},
}};
    b[n++] = (struct body_route){
        "POST", "/api/v1/listings", seller.bearer, NULL, false,
        "{\"title\":\"Hostile phone\",\"category\":\"phones\",\"condition\":\"good\",\"price_minor\":0,"
        "\"currency\":\"EUR\",\"location\":" "{\"city\":\"Berlin\",\"country\":\"DE\",\"lat\":52.5,\"lon\":13.4}"
        ",\"attributes\":@1}",
        {{0}, {'o', "{\"brand\":\"Google\"}", NULL}}};
    /* Patches carry a stale If-Match: whatever the body, nothing changes. */
    b[n++] = (struct body_route){
        "PATCH", "/api/v1/listings/{id}", seller.bearer, stale, false,
        "{\"title\":@1,\"description\":@2,\"category\":@3,\"condition\":@4,\"price_minor\":@5,\"currency\":@6,"
        "\"status\":@7,\"location\":@8,\"attributes\":@9}",
        {{0}, {'s', "\"Hostile lamp 2\"", NULL}, {'s', "\"d\"", NULL}, {'s', "\"furniture\"", NULL},
         {'s', "\"good\"", NULL}, {'i', "1600", NULL}, {'s', "\"EUR\"", NULL}, {'s', "\"draft\"", NULL},
         {'o', loc, NULL}, {'o', "{}", NULL}}};
    /* Upload tickets: each member guards the other (a GIF; 20 MiB). */
    b[n++] = (struct body_route){"POST", "/api/v1/listings/{id}/images/uploads", seller.bearer, NULL, false,
                                 "{\"content_type\":@1,\"size_bytes\":@2}",
                                 {{0}, {'s', "\"image/jpeg\"", "\"image/gif\""}, {'i', "1000", "20971520"}}};
    /* Attach: no upload ticket exists, so no key is valid. */
    b[n++] = (struct body_route){"POST", "/api/v1/listings/{id}/images", seller.bearer, NULL, false, "{\"key\":@1}",
                                 {{0}, {'s', "\"listings/x/y.jpg\"", NULL}}};
    /* Buying a listing that does not exist. */
    b[n++] = (struct body_route){"POST", "/api/v1/orders", buyer.bearer, NULL, true,
                                 "{\"listing_id\":@1,\"shipping_address\":@2}",
                                 {{0}, {'s', listing_missing, NULL}, {'o', "{\"name\":\"Ada\",\"line1\":\"L1\","
                                   "\"city\":\"Berlin\",\"postal_code\":\"10117\",\"country\":\"DE\"}", NULL}}};
    b[n++] = (struct body_route){"POST", "/api/v1/orders", buyer.bearer, NULL, true, "",
                                 {{0}, {'s', listing_missing, NULL}, {0}, {'s', "\"Ada\"", NULL},
                                  {'s', "\"L1\"", NULL}, {'s', "\"L2\"", NULL}, {'s', "\"Berlin\"", NULL},
                                  {'s', "\"10117\"", NULL}, {'s', "\"DE\"", NULL}}};
    snprintf(b[n - 1].tmpl, sizeof(b[n - 1].tmpl), "{\"listing_id\":@1,\"shipping_address\":%s}", addr_tmpl);
    /* Shipping by the buyer, reviewing by the seller (and before delivery): refused. */
    b[n++] = (struct body_route){"POST", "/api/v1/orders/{id}/ship", buyer.bearer, NULL, false,
                                 "{\"carrier\":@1,\"number\":@2}",
                                 {{0}, {'s', "\"DHL\"", NULL}, {'s', "\"00340434161094042557\"", NULL}}};
    b[n++] = (struct body_route){"POST", "/api/v1/orders/{id}/review", seller.bearer, NULL, false,
                                 "{\"rating\":@1,\"comment\":@2}",
                                 {{0}, {'i', "5", NULL}, {'s', "\"Fine\"", NULL}}};
    /* Mark read with both ids and all: refused whatever they hold (one or the other). */
    static char ids[80];
    snprintf(ids, sizeof(ids), "[\"%s\"]", missing_uuid);
    b[n++] = (struct body_route){"POST", "/api/v1/users/me/notifications/read", seller.bearer, NULL, false,
                                 "{\"ids\":@1,\"all\":@2}", {{0}, {'o', ids, NULL}, {'i', "1", NULL}}};
    /* A saved search with an unknown parameter; a webhook to a refused address. */
    b[n++] = (struct body_route){"POST", "/api/v1/users/me/saved-searches", seller.bearer, NULL, false,
                                 "{\"name\":@1,\"query\":@2,\"alert\":@3}",
                                 {{0}, {'s', "\"lamps\"", "\"\""}, {'s', "\"q=lamp\"", "\"colour=red\""},
                                  {'i', "1", "1"}}};
    b[n++] = (struct body_route){"POST", "/api/v1/users/me/webhooks", seller.bearer, NULL, false,
                                 "{\"url\":@1,\"events\":@2}",
                                 {{0}, {'s', "\"https://127.0.0.2/hook\"", "\"https://127.0.0.2/hook\""},
                                  {'o', "[\"order_placed\"]", "[\"nope\"]"}}};
    /* Offers: the seller on their own listing (403), the buyer countering out of turn (403). */
    b[n++] = (struct body_route){"POST", "/api/v1/listings/{id}/offers", seller.bearer, NULL, false,
                                 "{\"amount_minor\":@1}", {{0}, {'i', "1000", NULL}}};
    b[n++] = (struct body_route){"POST", "/api/v1/offers/{id}/counter", buyer.bearer, NULL, false,
                                 "{\"amount_minor\":@1}", {{0}, {'i', "1100", NULL}}};
    return n;
}

Test(hostile_routes, every_route_method_header_and_body_is_refused_in_shape_and_changes_nothing)
{
    setup_data();
    struct body_route bodies[32];
    int nbodies = schemas(bodies);

    /* Coverage: every route of the table has its ids and, if it writes, its body schema or a
     * place among the bodyless writes. */
    for (size_t i = 0; i < routes_count; i++) {
        char path[512];
        if (!make_path(routes[i].pattern, NULL, path, sizeof(path))) {
            fail("route %s %s: no valid id for its parameters: add it to valid_id()", routes[i].method,
                 routes[i].pattern);
        }
        if (is_read(routes[i].method)) {
            continue;
        }
        bool covered = false;
        char name[256];
        snprintf(name, sizeof(name), "%s %s", routes[i].method, routes[i].pattern);
        for (size_t k = 0; k < sizeof(BODYLESS) / sizeof(BODYLESS[0]); k++) {
            covered = covered || strcmp(BODYLESS[k], name) == 0;
        }
        for (int k = 0; k < nbodies; k++) {
            covered = covered || (strcmp(bodies[k].method, routes[i].method) == 0 &&
                                  strcmp(bodies[k].pattern, routes[i].pattern) == 0);
        }
        if (!covered) {
            fail("route %s: a write without a body schema here (or a place in BODYLESS)", name);
        }
    }
    cr_assert_eq(failures, 0, "%s", report);

    char *before = snapshot();
    const char *foreign_origin = "Origin: https://evil.example";

    /* 1. Every method on every route, with the valid id and with invalid ones: reads as the
     * seller, writes anonymously, with the seller's cookie but no Origin, and with a foreign
     * Origin (a cross-site request). */
    const char *pattern_done[64];
    int npatterns = 0;
    for (size_t i = 0; i < routes_count; i++) {
        bool seen = false;
        for (int k = 0; k < npatterns; k++) {
            seen = seen || strcmp(pattern_done[k], routes[i].pattern) == 0;
        }
        if (seen) {
            continue;
        }
        pattern_done[npatterns++] = routes[i].pattern;
        bool has_param = strchr(routes[i].pattern, '{') != NULL;
        for (size_t b = 0; b < (has_param ? NBAD_IDS + 1 : 1); b++) {
            char path[512];
            make_path(routes[i].pattern, b == 0 ? NULL : BAD_IDS[b - 1], path, sizeof(path));
            for (size_t m = 0; m < NMETHODS; m++) {
                const char *method = METHODS[m];
                if (is_read(method)) {
                    send_check(method, path, (const char *const[]){seller.bearer, NULL}, NULL, "read as the seller");
                    continue;
                }
                send_check(method, path, NULL, NULL, "anonymous");
                send_check(method, path, (const char *const[]){seller.cookie, NULL}, NULL, "cookie without Origin");
                if (b == 0) {
                    send_check(method, path, (const char *const[]){seller.cookie, foreign_origin, NULL}, "{}",
                               "cookie with a foreign Origin");
                }
            }
        }
    }
    long matrix = sent;

    /* 2. Header attacks on every route of the table with its valid ids. */
    static char huge_bearer[5000], huge_cookie[5000], bad_bytes_bearer[64];
    snprintf(huge_bearer, sizeof(huge_bearer), "Authorization: Bearer %04000d", 7);
    snprintf(huge_cookie, sizeof(huge_cookie), "Cookie: sid=%04000d", 7);
    snprintf(bad_bytes_bearer, sizeof(bad_bytes_bearer), "Authorization: Bearer \xff\xfe\xc0\xaf");
    const char *const auth_attacks[][3] = {
        {"Authorization: Bearer 0000000000000000000000000000000000000000000000000000000000000000", NULL},
        {huge_bearer, NULL},
        {"Authorization: Basic dXNlcjpwYXNzd29yZA==", NULL},
        {"Authorization: Bearer", NULL},
        {"Authorization: Bearer a b c", NULL},
        {"Authorization: Bearer %00%0d%0a", NULL},
        {bad_bytes_bearer, NULL},
        {"Authorization: Bearer x", "Authorization: Bearer y"},
        {"Cookie: sid=garbage", NULL},
        {"Cookie: sid=", NULL},
        {"Cookie: sid=a; sid=b; sid=", NULL},
        {huge_cookie, NULL},
        {"Cookie: sid=garbage", "Authorization: Bearer garbage"},
    };
    for (size_t i = 0; i < routes_count; i++) {
        char path[512];
        make_path(routes[i].pattern, NULL, path, sizeof(path));
        for (size_t a = 0; a < sizeof(auth_attacks) / sizeof(auth_attacks[0]); a++) {
            send_check(routes[i].method, path, auth_attacks[a], is_read(routes[i].method) ? NULL : "{}",
                       "authorization attack");
        }
    }
    /* X-Min-Seq on every read. */
    static const char *const min_seqs[] = {
        "X-Min-Seq: -1", "X-Min-Seq: abc", "X-Min-Seq: 1e3", "X-Min-Seq: 0x10", "X-Min-Seq: +1",
        "X-Min-Seq: 1 ", "X-Min-Seq: 99999999999999999999999", "X-Min-Seq: 18446744073709551615",
        "X-Min-Seq;", "X-Min-Seq: 1,2", "X-Min-Seq: \xff",
    };
    for (size_t i = 0; i < routes_count; i++) {
        if (strcmp(routes[i].method, "GET") != 0) {
            continue;
        }
        char path[512];
        make_path(routes[i].pattern, NULL, path, sizeof(path));
        for (size_t k = 0; k < sizeof(min_seqs) / sizeof(min_seqs[0]); k++) {
            send_check("GET", path, (const char *const[]){seller.bearer, min_seqs[k], NULL}, NULL, "X-Min-Seq");
        }
        send_check("GET", path, (const char *const[]){seller.bearer, "X-Min-Seq: 1", "X-Min-Seq: x", NULL}, NULL,
                   "two X-Min-Seq");
        /* Conditional and range headers: nginx itself evaluates them on cached pages. */
        static const char *const conditionals[] = {
            "If-Match: \"999\"", "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT", "If-None-Match: \xff",
            "If-Modified-Since: garbage", "Range: bytes=999999-", "If-Range: \"1\"",
        };
        for (size_t k = 0; k < sizeof(conditionals) / sizeof(conditionals[0]); k++) {
            send_check("GET", path, (const char *const[]){conditionals[k], NULL}, NULL, "conditional header");
        }
    }
    /* If-Match on the listing's writes: never a match (a wildcard only from someone else). */
    static char huge_ifmatch[5100];
    snprintf(huge_ifmatch, sizeof(huge_ifmatch), "If-Match: \"%05000d\"", 1);
    const char *const if_matches[] = {
        "If-Match;", "If-Match: \"\"", "If-Match: garbage", "If-Match: \"999\"", "If-Match: W/\"999\"",
        "If-Match: \"-1\"", "If-Match: \"99999999999999999999\"", "If-Match: \"0x1\"", "If-Match: \"1 \"",
        "If-Match: \"998\", \"999\"", "If-Match: \"\xff\"", huge_ifmatch,
    };
    char lpath[128];
    snprintf(lpath, sizeof(lpath), "/api/v1/listings/%s", listing);
    for (size_t k = 0; k < sizeof(if_matches) / sizeof(if_matches[0]); k++) {
        send_check("PATCH", lpath, (const char *const[]){seller.bearer, if_matches[k], NULL}, "{\"title\":\"\"}",
                   "If-Match");
        send_check("DELETE", lpath, (const char *const[]){seller.bearer, if_matches[k], NULL}, NULL, "If-Match");
    }
    send_check("DELETE", lpath, (const char *const[]){buyer.bearer, "If-Match: *", NULL}, NULL, "If-Match * by another");
    send_check("PATCH", lpath, (const char *const[]){buyer.bearer, "If-Match: *", NULL}, "{\"price_minor\":1}",
               "If-Match * by another");
    send_check("DELETE", lpath, (const char *const[]){seller.bearer, "If-Match: \"998\"", "If-Match: \"999\"", NULL},
               NULL, "two If-Match");
    /* Idempotency-Key on purchases of a listing that does not exist. */
    static char key256[300], key7k[7100];
    snprintf(key256, sizeof(key256), "Idempotency-Key: %0256d", 1);
    snprintf(key7k, sizeof(key7k), "Idempotency-Key: %07000d", 1);
    const char *const keys[][3] = {
        {"Idempotency-Key;", NULL}, {key256, NULL}, {key7k, NULL}, {"Idempotency-Key: a\x01z", NULL},
        {"Idempotency-Key: caf\xc3\xa9", NULL}, {"Idempotency-Key: \xff\xfe", NULL},
        {"Idempotency-Key: k1", "Idempotency-Key: k2"}, {"Idempotency-Key: \x7f", NULL}, {NULL},
    };
    char *buy_missing = strdup(itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":{\"name\":\"Ada\","
                                         "\"line1\":\"L1\",\"city\":\"Berlin\",\"postal_code\":\"10117\","
                                         "\"country\":\"DE\"}}",
                                         missing_uuid));
    char *buy_sold = strdup(itest_fmt("{\"listing_id\":\"%s\",\"shipping_address\":{\"name\":\"Ada\","
                                      "\"line1\":\"L1\",\"city\":\"Berlin\",\"postal_code\":\"10117\","
                                      "\"country\":\"DE\"}}",
                                      sold_listing));
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const char *h[4] = {buyer.bearer, keys[k][0], keys[k][1], NULL};
        send_check("POST", "/api/v1/orders", h, buy_missing, "Idempotency-Key");
        send_check("POST", "/api/v1/orders", h, buy_sold, "Idempotency-Key, a sold listing");
    }
    free(buy_missing);
    free(buy_sold);
    /* Content-Type on every body route, with its guarded body. */
    static char huge_ct[5100];
    snprintf(huge_ct, sizeof(huge_ct), "Content-Type: application/json; x=%05000d", 1);
    const char *const types[][3] = {
        {"Content-Type: text/plain", NULL}, {"Content-Type: application/x-www-form-urlencoded", NULL},
        {"Content-Type: multipart/form-data; boundary=x", NULL}, {"Content-Type: application/json; charset=latin1", NULL},
        {"Content-Type: application/json; charset=utf-16", NULL}, {"Content-Type: application/jsonx", NULL},
        {"Content-Type;", NULL}, {"Content-Type: application/json, text/plain", NULL}, {huge_ct, NULL},
        {"Content-Type: application/json", "Content-Type: text/plain"}, {"Content-Type: APPLICATION/JSON", NULL},
        {"Content-Type: \xff/json", NULL},
    };
    for (int k = 0; k < nbodies; k++) {
        char path[512];
        make_path(bodies[k].pattern, NULL, path, sizeof(path));
        char *body = build(&bodies[k], 0, NULL);
        for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
            send_body(&bodies[k], path, body, types[t], "Content-Type");
        }
        free(body);
    }
    long headers_sent = sent - matrix;

    /* 3. Path attacks. */
    char p1[128], p2[128], p3[128], p4[128], p5[128], p6[128], p7[128];
    snprintf(p1, sizeof(p1), "/api/v1/listings/%s/", listing);
    snprintf(p2, sizeof(p2), "/api/v1/listings/%s//favorite", listing);
    snprintf(p3, sizeof(p3), "/api/v1/listings/%s;x=1", listing);
    snprintf(p4, sizeof(p4), "/api/v1/listings/%s%%2Ffavorite", listing);
    snprintf(p5, sizeof(p5), "/api/v1/listings/%s/images/uploads/extra", listing);
    snprintf(p6, sizeof(p6), "/api/v1/orders/%s/ship/", order);
    snprintf(p7, sizeof(p7), "/api/v1/listings/%s?%%ff=1", listing);
    static char long_path[7100], long_query[7100];
    snprintf(long_path, sizeof(long_path), "/api/v1/listings/%07000d", 1);
    snprintf(long_query, sizeof(long_query), "/api/v1/listings?q=%07000d", 1);
    const char *const paths[] = {
        "/api/v1/listings/", "/api/v1//listings", "//api/v1/listings", "/api/v1/LISTINGS", "/API/v1/listings",
        "/api/v2/listings", "/api/v1", "/api", "/api/", "/api/v1/users/me/", "/api/v1/users/me%00",
        "/api/v1/users/%2e%2e/me", "/api/v1/users/me/../me", "/api/v1/users/me%2f..%2fme", "/api/v1/listings?limit=1&limit=2",
        "/api/v1/listings?limit=-1", "/api/v1/listings?limit=1e2", "/api/v1/listings?cursor=%ff", "/api/v1/listings?cursor=AAAA",
        "/api/v1/listings?zz=1", "/api/v1/listings?q", "/api/v1/listings?&&&", "/api/v1/listings?near=91,181",
        "/api/v1/listings?attr.%ff=1", "/api/v1/orders?role=admin", "/api/v1/orders?role=buyer&role=seller",
        "/api/v1/users/me/favorites?limit=0", "/api/v1/healthz", "/healthz/", "/readyz?x=1", "/metrics/x",
        "/api/v1/sessions/current/", "/api/v1/sessions/%63urrent", "/api/v1/system/pings/", "/api/v1/categories/x",
        p1, p2, p3, p4, p5, p6, p7, long_path, long_query,
    };
    for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
        send_check("GET", paths[k], (const char *const[]){seller.bearer, NULL}, NULL, "path attack");
        send_check("HEAD", paths[k], NULL, NULL, "path attack");
        send_check("POST", paths[k], (const char *const[]){seller.cookie, NULL}, "{}", "path attack");
        send_check("DELETE", paths[k], NULL, NULL, "path attack");
    }
    /* Bytes in headers and bodies that only a raw HTTP/1.1 request carries: control
     * characters (NUL, DEL, VT), obsolete line folding, bytes above 0x7F, NUL in a body. */
    char bearer_line[160];
    snprintf(bearer_line, sizeof(bearer_line), "%s\r\n", seller.bearer);
    const struct {
        const char *headers;
        size_t len;   /* 0: strlen */
    } raw_headers[] = {
        {"Authorization: Bearer a\x01b\r\n", 0},
        {"Authorization: Bearer a\0b\r\n", 25},
        {"Authorization: Bearer x\r\n y\r\n", 0},
        {"Cookie: sid=\x80\x81\xff\r\n", 0},
        {"Idempotency-Key: a\x7f\r\n", 0},
        {"If-Match: \"999\"\x0b\r\n", 0},
        {"X-Min-Seq: 1\x0c\r\n", 0},
        {"Content-Type: application/json\x01\r\n", 0},
        {"Content-Type: application/json\r\nContent-Type: text/plain\r\n", 0},
        {"X-Min-Seq\r\n", 0},
        {": empty-name\r\n", 0},
        {"If-Match : \"999\"\r\n", 0},
    };
    char lp[128];
    snprintf(lp, sizeof(lp), "/api/v1/listings/%s", listing);
    for (size_t k = 0; k < sizeof(raw_headers) / sizeof(raw_headers[0]); k++) {
        size_t hl = raw_headers[k].len != 0 ? raw_headers[k].len : strlen(raw_headers[k].headers);
        /* the attacked header, then the seller's bearer and a stale If-Match: never applied */
        char block[1024];
        memcpy(block, raw_headers[k].headers, hl);
        size_t bl = hl + (size_t)snprintf(block + hl, sizeof(block) - hl,
                                          "%sIf-Match: \"999\"\r\nContent-Type: application/json\r\n", bearer_line);
        raw_check("PATCH", lp, block, bl, "{\"title\":\"\"}", 12, "raw header bytes");
        raw_check("GET", lp, raw_headers[k].headers, hl, "", 0, "raw header bytes");
    }
#define BYTES(s) {s, sizeof(s) - 1}
    static const struct {
        const char *bytes;
        size_t len;
    } nul_bodies[] = {
        BYTES("{\"note\":\"a\0b\"}"), BYTES("{\"no\0te\":\"x\"}"), BYTES("\0{\"note\":\"x\"}"),
        BYTES("{\"note\":\"x\"}\0"),
    };
    for (size_t k = 0; k < sizeof(nul_bodies) / sizeof(nul_bodies[0]); k++) {
        const char *json = "Content-Type: application/json\r\n";
        raw_check("POST", "/api/v1/system/pings", json, strlen(json), nul_bodies[k].bytes, nul_bodies[k].len,
                  "a raw NUL in the body");
        char *h = itest_fmt("%sIf-Match: \"999\"\r\n%s", bearer_line, json);
        raw_check("PATCH", lp, h, strlen(h), nul_bodies[k].bytes, nul_bodies[k].len, "a raw NUL in the body");
    }
    /* A Content-Length that is not the body's. */
    const char *two_lengths = "Content-Type: application/json\r\nContent-Length: 5\r\n";
    raw_check("POST", "/api/v1/system/pings", two_lengths, strlen(two_lengths), "{\"note\":\"x\"}", 14,
              "two Content-Lengths");
    long paths_sent = sent - matrix - headers_sent;

    /* 4. Bodies: each slot of each schema with the hostile values of its type, then whole
     * hostile documents. */
    for (int k = 0; k < nbodies; k++) {
        struct body_route *b = &bodies[k];
        char path[512];
        make_path(b->pattern, NULL, path, sizeof(path));
        for (int s = 1; s < 10; s++) {
            const char *const *vals;
            size_t n;
            switch (b->slots[s].type) {
            case 's': vals = STRING_BAD, n = sizeof(STRING_BAD) / sizeof(STRING_BAD[0]); break;
            case 'i':
            case 'n': vals = NUMBER_BAD, n = sizeof(NUMBER_BAD) / sizeof(NUMBER_BAD[0]); break;
            case 'o':
            case 'O': vals = OBJECT_BAD, n = sizeof(OBJECT_BAD) / sizeof(OBJECT_BAD[0]); break;
            default: continue;
            }
            for (size_t v = 0; v < n; v++) {
                char *body = build(b, s, vals[v]);
                char what[128];
                snprintf(what, sizeof(what), "body slot @%d = %s", s, shown(vals[v], 40));
                send_body(b, path, body, NULL, what);
                free(body);
            }
            if (b->slots[s].type == 'i') {
                for (size_t v = 0; v < sizeof(INTEGER_EXTRA) / sizeof(INTEGER_EXTRA[0]); v++) {
                    char *body = build(b, s, INTEGER_EXTRA[v]);
                    send_body(b, path, body, NULL, "body: a fraction for an integer");
                    free(body);
                }
            }
            if (b->slots[s].type != 'O') {
                char *body = build(b, s, "null");
                send_body(b, path, body, NULL, "body: null");
                free(body);
            }
        }
        for (size_t w = 0; w < sizeof(WHOLE_BAD) / sizeof(WHOLE_BAD[0]); w++) {
            char *body = whole(b, WHOLE_BAD[w]);
            char what[128];
            snprintf(what, sizeof(what), "whole body %s", shown(WHOLE_BAD[w], 40));
            send_body(b, path, body, NULL, what);
            free(body);
        }
        /* Each member given twice, the second time valid. */
        char *body = whole(b, "@T");
        size_t l = strlen(body);
        char *dup = malloc(2 * l + 4);
        snprintf(dup, 2 * l + 4, "%.*s,%s", (int)(l - 1), body, body + 1);
        send_body(b, path, dup, NULL, "every member twice");
        free(dup);
        free(body);
    }
    long bodies_sent = sent - matrix - headers_sent - paths_sent;

    fprintf(stderr,
            "hostile_routes: %ld requests over %zu routes (%d patterns): %ld method x id x auth, %ld header "
            "attacks, %ld path attacks, %ld bodies over %d schemas; %ld failures\n%s",
            sent, routes_count, npatterns, matrix, headers_sent, paths_sent, bodies_sent, nbodies, failures,
            report != NULL ? report : "");

    /* Nothing changed, and the victims' sessions still work. */
    char *after = snapshot();
    cr_assert_str_eq(after, before, "the state changed:\nbefore:\n%s\nafter:\n%s", before, after);
    free(before);
    free(after);
    struct iresp r = itest_http("GET", "/api/v1/users/me", (const char *const[]){seller.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 200, "the seller's session: %ld", r.status);
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/users/me", (const char *const[]){buyer.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 200, "the buyer's session: %ld", r.status);
    iresp_free(&r);

    cr_assert_eq(failures, 0, "%ld of %ld answers failed; the first:\n%s", failures, sent, report);
    cr_assert_geq(sent, 1000);
}
