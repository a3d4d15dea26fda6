#include "domain/webhook.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "core/errors.h"
#include "core/ids.h"
#include "core/text.h"
#include "domain/notify.h"
#include "domain/saved_search.h"
#include "store/pg.h"
#include "store/outcall.h"

int
webhook_parse(struct request *r, json_object *body, struct webhook_input *out)
{
    static const char *const allowed[] = {"url", "events", NULL};
    memset(out, 0, sizeof(out[0]));
    if (http_json_only(r, body, allowed) != MK_OK) {
        return MK_EVALIDATION;
    }
    json_object *url, *events;
    if (!json_object_object_get_ex(body, "url", &url) || !json_object_is_type(url, json_type_string) ||
        json_object_get_string_len(url) == 0 || text_chars(json_object_get_string(url)) > 2000 ||
        text_has_control(json_object_get_string(url), false)) {
        http_field_error(r, "url", "must be an https:// URL of at most 2000 characters");
    } else {
        out->url = json_object_get_string(url);
    }
    if (!json_object_object_get_ex(body, "events", &events) || !json_object_is_type(events, json_type_array) ||
        json_object_array_length(events) == 0 || json_object_array_length(events) > notify_types_count) {
        return http_field_error(r, "events", "must be a non-empty array of notification types");
    }
    size_t n = json_object_array_length(events);
    out->events = arena_alloc(r->arena, n * sizeof(*out->events));
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(events, i);
        const char *t = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;
        if (t == NULL || !notify_type_valid(t)) {
            return http_field_error(r, arena_sprintf(r->arena, "events[%zu]", i), "is not a notification type");
        }
        for (size_t k = 0; k < out->nevents; k++) {
            if (strcmp(out->events[k], t) == 0) {
                return http_field_error(r, arena_sprintf(r->arena, "events[%zu]", i), "is given twice");
            }
        }
        out->events[out->nevents++] = t;
    }
    return r->err_fields != NULL ? MK_EVALIDATION : MK_OK;
}

static bool
v4_refused(const unsigned char b[4])
{
    unsigned a0 = b[0], a1 = b[1];
    return a0 == 0 || a0 == 10 || a0 == 127 || a0 >= 224 ||       /* this network, private, loopback, multicast, reserved */
           (a0 == 100 && (a1 & 0xC0) == 64) ||                      /* 100.64/10 shared (CGNAT) */
           (a0 == 169 && a1 == 254) ||                              /* link-local, metadata */
           (a0 == 172 && (a1 & 0xF0) == 16) ||                      /* 172.16/12 */
           (a0 == 192 && a1 == 168) ||                              /* 192.168/16 */
           (a0 == 192 && a1 == 0 && b[2] == 0) ||                   /* 192.0.0/24 protocol assignments */
           (a0 == 198 && (a1 & 0xFE) == 18);                        /* 198.18/15 benchmarking */
}

bool
webhook_address_refused(const char *numeric)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, numeric, b) == 1) {
        return v4_refused(b);
    }
    if (inet_pton(AF_INET6, numeric, b) != 1) {
        return true;
    }
    static const unsigned char zero[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    static const unsigned char nat64[12] = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, zero, 12) == 0) {
        return true;   /* ::, ::1 and the deprecated IPv4-compatible ::a.b.c.d */
    }
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) {
        return v4_refused(b + 12);
    }
    if (b[0] == 0x20 && b[1] == 0x02) {
        return v4_refused(b + 2);   /* 6to4 carries an IPv4 address */
    }
    return (b[0] & 0xFE) == 0xFC ||                    /* fc00::/7 unique local (fd00:ec2::254 metadata) */
           (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) ||  /* fe80::/10 link-local */
           (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) ||  /* fec0::/10 site-local (deprecated) */
           b[0] == 0xFF;                               /* multicast */
}

bool
webhook_host_listed(const char *allow, const char *host)
{
    size_t hl = strlen(host);
    const char *p = allow;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        const char *end = p;
        while (*end != '\0' && *end != ',' && *end != ' ') {
            end++;
        }
        if ((size_t)(end - p) == hl && hl > 0 && strncasecmp(p, host, hl) == 0) {
            return true;
        }
        p = end;
    }
    return false;
}

int
webhook_check_url(arena_t *a, const struct config *cfg, const char *url, struct webhook_dest *out,
                  const char **problem)
{
    const char *scheme;
    *problem = NULL;
    if (outcall_url_parts(a, url, &scheme, &out->host, &out->port) != MK_OK) {
        *problem = "must be an absolute https:// URL without credentials";
        return MK_EVALIDATION;
    }
    bool listed = webhook_host_listed(cfg->webhook_allow_hosts, out->host);
    if (strcmp(scheme, "https") != 0 && !listed) {
        *problem = "must be an https:// URL";
        return MK_EVALIDATION;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(out->host, NULL, &hints, &res) != 0 || res == NULL) {
        *problem = "its host does not resolve";
        return MK_EVALIDATION;
    }
    out->address = NULL;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN];
        const void *addr = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                                    : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        if (inet_ntop(ai->ai_family, addr, text, sizeof(text)) == NULL) {
            continue;
        }
        if (!listed && webhook_address_refused(text)) {
            *problem = "its host resolves to a loopback, private, link-local or metadata address";
            out->address = NULL;
            break;
        }
        if (out->address == NULL) {
            out->address = arena_strdup(a, text);
        }
    }
    freeaddrinfo(res);
    if (out->address == NULL) {
        if (*problem == NULL) {
            *problem = "its host does not resolve";
        }
        return MK_EVALIDATION;
    }
    return MK_OK;
}

const char *
webhook_secret_new(arena_t *a, unsigned char secret[WEBHOOK_SECRET_BYTES])
{
    randombytes_buf(secret, WEBHOOK_SECRET_BYTES);
    size_t len = sodium_base64_encoded_len(WEBHOOK_SECRET_BYTES, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = arena_alloc(a, len);
    sodium_bin2base64(b64, len, secret, WEBHOOK_SECRET_BYTES, sodium_base64_VARIANT_ORIGINAL);
    return arena_sprintf(a, "whsec_%s", b64);
}

static bool
key_of(const char *hex_key, unsigned char key[crypto_secretbox_KEYBYTES])
{
    size_t len = 0;
    return sodium_hex2bin(key, crypto_secretbox_KEYBYTES, hex_key, strlen(hex_key), NULL, &len, NULL) == 0 &&
           len == crypto_secretbox_KEYBYTES;
}

const char *
webhook_seal(arena_t *a, const char *hex_key, const unsigned char secret[WEBHOOK_SECRET_BYTES])
{
    unsigned char key[crypto_secretbox_KEYBYTES];
    unsigned char sealed[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + WEBHOOK_SECRET_BYTES];
    if (!key_of(hex_key, key)) {
        return NULL;
    }
    randombytes_buf(sealed, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, secret, WEBHOOK_SECRET_BYTES, sealed, key);
    sodium_memzero(key, sizeof(key));
    char *hex = arena_alloc(a, sizeof(sealed) * 2 + 1);
    sodium_bin2hex(hex, sizeof(sealed) * 2 + 1, sealed, sizeof(sealed));
    return hex;
}

int
webhook_unseal(const char *hex_key, const char *sealed_hex, unsigned char secret[WEBHOOK_SECRET_BYTES])
{
    unsigned char key[crypto_secretbox_KEYBYTES];
    unsigned char sealed[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + WEBHOOK_SECRET_BYTES];
    size_t len = 0;
    if (strncmp(sealed_hex, "\\x", 2) == 0) {
        sealed_hex += 2;
    }
    if (!key_of(hex_key, key) ||
        sodium_hex2bin(sealed, sizeof(sealed), sealed_hex, strlen(sealed_hex), NULL, &len, NULL) != 0 ||
        len != sizeof(sealed)) {
        return MK_EINTERNAL;
    }
    int rc = crypto_secretbox_open_easy(secret, sealed + crypto_secretbox_NONCEBYTES,
                                        sizeof(sealed) - crypto_secretbox_NONCEBYTES, sealed, key);
    sodium_memzero(key, sizeof(key));
    return rc == 0 ? MK_OK : MK_EINTERNAL;
}

const char *
webhook_signature(arena_t *a, const unsigned char *key, size_t key_len, const char *id, long long ts, const char *body)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    const char *prefix = arena_sprintf(a, "%s.%lld.", id, ts);
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, strlen(prefix));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    size_t len = sodium_base64_encoded_len(sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
    char *b64 = arena_alloc(a, len);
    sodium_bin2base64(b64, len, mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
    return arena_sprintf(a, "v1,%s", b64);
}

/* ---- storage ------------------------------------------------------------------------ */

#define HOOK_SHAPE(t)                                                                                               \
    "json_build_object('id', " t ".id, 'url', " t ".url, 'events', to_json(" t ".events), "                      \
    "'created_at', " PG_UTC_TEXT(t ".created_at") ")"

static const struct pg_stmt HOOK_LOCK_USER = {"webhook_lock_user", NOTIFY_USER_LOCK_SQL("webhooks"), 1};
static const struct pg_stmt HOOK_COUNT_USER = {"webhook_count_user", NOTIFY_USER_COUNT_SQL("webhooks"), 1};

static const struct pg_stmt HOOK_INSERT = {
    "webhook_insert",
    "INSERT INTO webhooks AS h (id, user_id, url, events, secret_box) "
    "VALUES ($1::uuid, $2::uuid, $3, $4::text[], decode($5, 'hex')) RETURNING " HOOK_SHAPE("h") "::text",
    5,
};

static const struct pg_stmt HOOK_DELETE = {
    "webhook_delete",
    "WITH h AS (UPDATE webhooks SET deleted_at = clock_timestamp() "
    "           WHERE id = $1::uuid AND user_id = $2::uuid AND deleted_at IS NULL RETURNING id), "
    "     d AS (UPDATE webhook_deliveries SET next_attempt_at = NULL "
    "           WHERE webhook_id IN (SELECT id FROM h) AND next_attempt_at IS NOT NULL) "
    "SELECT id FROM h",
    2,
};

static const struct pg_stmt HOOK_LIST = {"webhook_list", NOTIFY_USER_LIST_SQL("webhooks", HOOK_SHAPE("t")), 1};

static const struct pg_stmt HOOK_RETRY = {
    "webhook_retry",
    "UPDATE webhook_deliveries d SET next_attempt_at = clock_timestamp(), status = 'pending' FROM webhooks h "
    "WHERE d.id = $1::uuid AND d.webhook_id = $2::uuid AND h.id = d.webhook_id AND h.user_id = $3::uuid "
    "  AND h.deleted_at IS NULL RETURNING d.id",
    3,
};

static const struct pg_stmt HOOK_DELIVERIES = {
    "webhook_deliveries",
    "SELECT coalesce(json_agg(x ORDER BY x.created_us DESC, x.id DESC), '[]')::text FROM ("
    "  SELECT d.id, d.notification_id, d.status, d.attempts, "
    "    CASE WHEN d.status = 'pending' THEN " PG_UTC_TEXT("d.next_attempt_at") " END AS next_retry_at, "
    "    " PG_UTC_TEXT("d.created_at") " AS created_at, "
    "    (extract(epoch FROM d.created_at) * 1000000)::bigint AS created_us "
    "  FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id "
    "  WHERE d.webhook_id = $1::uuid AND h.user_id = $2::uuid AND h.deleted_at IS NULL "
    "    AND ($4::uuid IS NULL OR (extract(epoch FROM d.created_at) * 1000000)::bigint < $5::bigint "
    "         OR ((extract(epoch FROM d.created_at) * 1000000)::bigint = $5::bigint AND d.id < $4::uuid)) "
    "  ORDER BY d.created_at DESC, d.id DESC LIMIT $3::int) x",
    5,
};

static const struct pg_stmt HOOK_OWNED = {
    "webhook_owned",
    "SELECT 1 FROM webhooks WHERE id = $1::uuid AND user_id = $2::uuid AND deleted_at IS NULL",
    2,
};

static int
emit(struct pg *pg, arena_t *a, const char *type, const char *id, long long version, const char *user_id,
     const char *event, json_object *extra, long long *seq)
{
    json_object *payload = notify_json(a, "{}");
    json_object_object_add(payload, "user_id", json_object_new_string(user_id));
    json_object_object_add(payload, "id", json_object_new_string(id));
    if (extra != NULL) {
        json_object_object_add(payload, "webhook", json_object_get(extra));
    }
    return notify_emit(pg, a, type, id, version, event, payload, seq);
}

int
webhook_insert(struct pg *pg, arena_t *a, const char *user_id, const struct webhook_input *in, const char *sealed_hex,
               json_object **out, long long *seq)
{
    int rc = notify_user_cap(pg, a, &HOOK_LOCK_USER, &HOOK_COUNT_USER, user_id, WEBHOOK_MAX_PER_USER);
    if (rc != MK_OK) {
        return rc;
    }
    char id[UUID_STR_LEN + 1];
    uuid_new(id);
    const char *values[] = {id, user_id, in->url, saved_search_text_array(a, in->events, in->nevents), sealed_hex};
    if ((rc = notify_json_row(pg, a, &HOOK_INSERT, values, out)) != MK_OK) {
        return rc;
    }
    return emit(pg, a, "webhook", id, 1, user_id, "webhook.created", *out, seq);
}

int
webhook_delete(struct pg *pg, arena_t *a, const char *user_id, const char *id, long long *seq)
{
    const char *values[] = {id, user_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &HOOK_DELETE, values, &res);
    return rc != MK_OK ? rc : emit(pg, a, "webhook", id, 2, user_id, "webhook.deleted", NULL, seq);
}

int
webhook_list(struct pg *pg, arena_t *a, const char *user_id, json_object **items)
{
    const char *values[] = {user_id};
    return notify_json_row(pg, a, &HOOK_LIST, values, items);
}

int
webhook_retry(struct pg *pg, arena_t *a, const char *user_id, const char *webhook_id, const char *delivery_id,
              long long *seq)
{
    const char *values[] = {delivery_id, webhook_id, user_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &HOOK_RETRY, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    /* the delivery's version: one more than its attempts so far is not known here; the
     * event is an audit record only (no projection), versioned by time */
    return emit(pg, a, "webhook_delivery", delivery_id, (long long)time(NULL), user_id, "webhook.delivery_retried",
                NULL, seq);
}

int
webhook_deliveries(struct pg *pg, arena_t *a, const char *user_id, const char *webhook_id, int limit,
                   long long after_us, const char *after_id, json_object **items)
{
    const char *owner[] = {webhook_id, user_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &HOOK_OWNED, owner, &res);
    if (rc != MK_OK) {
        return rc;
    }
    const char *values[] = {webhook_id, user_id, arena_sprintf(a, "%d", limit + 1), after_id,
                            arena_sprintf(a, "%lld", after_us)};
    return notify_json_row(pg, a, &HOOK_DELIVERIES, values, items);
}

static const struct pg_stmt HOOK_CLAIM = {
    "webhook_claim",
    "WITH c AS (SELECT d.id FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id "
    "           WHERE d.next_attempt_at <= clock_timestamp() AND h.deleted_at IS NULL "
    "             AND (d.claimed_until IS NULL OR d.claimed_until < clock_timestamp()) "
    "           ORDER BY d.next_attempt_at LIMIT 1 FOR UPDATE OF d SKIP LOCKED) "
    "UPDATE webhook_deliveries d SET claimed_until = clock_timestamp() + make_interval(secs => $1::float8), "
    "  claim = $2::uuid, first_attempt_at = coalesce(d.first_attempt_at, clock_timestamp()) "
    "FROM c, webhooks h WHERE d.id = c.id AND h.id = d.webhook_id "
    "RETURNING d.id::text, d.notification_id::text, d.body, h.url, encode(h.secret_box, 'hex'), "
    "  jsonb_array_length(d.attempts), extract(epoch FROM clock_timestamp() - d.first_attempt_at)::bigint",
    2,
};

static const struct pg_stmt HOOK_RECORD = {
    "webhook_record",
    "UPDATE webhook_deliveries SET attempts = attempts || jsonb_build_array(jsonb_build_object("
    "    'attempt', jsonb_array_length(attempts) + 1, 'status_code', $3::int, 'error', $4::text, "
    "    'duration_ms', $5::bigint, 'at', " PG_UTC_TEXT("clock_timestamp()") ")), "
    "  status = $6, claimed_until = NULL, claim = NULL, "
    "  next_attempt_at = CASE WHEN $7::bigint < 0 THEN NULL "
    "                    ELSE clock_timestamp() + make_interval(secs => $7::bigint / 1000.0) END "
    "WHERE id = $1::uuid AND claim = $2::uuid",
    7,
};

static const struct pg_stmt HOOK_NEXT_DUE = {
    "webhook_next_due",
    /* What webhook_claim could take next, and when: not a delivery of a deleted webhook, nor
     * one another deliverer holds (until its lease ends). NULL when there is none (greatest()
     * would turn that into 0, and the deliverer into a busy loop). */
    "SELECT (extract(epoch FROM min(greatest(d.next_attempt_at, coalesce(d.claimed_until, d.next_attempt_at))) "
    "        - clock_timestamp()) * 1000)::bigint "
    "FROM webhook_deliveries d JOIN webhooks h ON h.id = d.webhook_id "
    "WHERE d.next_attempt_at IS NOT NULL AND h.deleted_at IS NULL",
    0,
};

int
webhook_claim(struct pg *pg, arena_t *a, int lease_s, struct webhook_claim *out)
{
    char token[UUID_STR_LEN + 1];
    uuid_new(token);
    const char *values[] = {arena_sprintf(a, "%d", lease_s), token};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &HOOK_CLAIM, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    out->id = arena_strdup(a, pg_value(res, 0, 0));
    out->notification_id = arena_strdup(a, pg_value(res, 0, 1));
    out->body = arena_strdup(a, pg_value(res, 0, 2));
    out->url = arena_strdup(a, pg_value(res, 0, 3));
    out->sealed = arena_strdup(a, pg_value(res, 0, 4));
    out->attempts = (int)pg_int(res, 0, 5);
    out->since_first_s = (long)pg_int(res, 0, 6);
    out->claim = arena_strdup(a, token);
    return MK_OK;
}

int
webhook_record(struct pg *pg, arena_t *a, const struct webhook_claim *c, long status_code, const char *error,
               long duration_ms, const char *status, long long next_delay_ms)
{
    const char *values[] = {c->id,
                            c->claim,
                            status_code > 0 ? arena_sprintf(a, "%ld", status_code) : NULL,
                            error,
                            arena_sprintf(a, "%ld", duration_ms),
                            status,
                            arena_sprintf(a, "%lld", next_delay_ms)};
    return pg_exec(pg, a, &HOOK_RECORD, values, NULL);
}

int
webhook_next_due_ms(struct pg *pg, arena_t *a, long long *ms)
{
    PGresult *res;
    int rc = pg_exec_row(pg, a, &HOOK_NEXT_DUE, NULL, &res);
    if (rc == MK_OK) {
        /* NULL: nothing pending (-1); a time already past: due now (0). */
        if (pg_value(res, 0, 0) == NULL) {
            *ms = -1;
        } else {
            long long due = pg_int(res, 0, 0);
            *ms = due < 0 ? 0 : due;
        }
    }
    return rc;
}
