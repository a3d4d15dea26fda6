#include "domain/idempotency.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

const char *
idem_key_problem(const char *key)
{
    size_t n = key != NULL ? strlen(key) : 0;
    if (n < 1 || n > IDEM_KEY_MAX) {
        return "must be 1 to 255 characters";
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c > 0x7e) {
            return "must be printable ASCII";
        }
    }
    if (key[0] == ' ' || key[n - 1] == ' ') {
        return "must not start or end with a space";
    }
    return NULL;
}

static void
hash_part(crypto_hash_sha256_state *st, const char *p, size_t len)
{
    unsigned char n[8];
    uint64_t v = (uint64_t)len;
    for (int i = 0; i < 8; i++) {
        n[i] = (unsigned char)(v >> (56 - 8 * i));
    }
    crypto_hash_sha256_update(st, n, sizeof(n));
    crypto_hash_sha256_update(st, (const unsigned char *)p, len);
}

void
idem_request_hash(const char *method, const char *path, const char *body, size_t body_len, char out[IDEM_HASH_HEX + 1])
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    hash_part(&st, method, strlen(method));
    hash_part(&st, path, strlen(path));
    hash_part(&st, body != NULL ? body : "", body != NULL ? body_len : 0);
    crypto_hash_sha256_final(&st, digest);
    sodium_bin2hex(out, IDEM_HASH_HEX + 1, digest, sizeof(digest));
}

#define TTL "interval '" MK_STR(IDEM_TTL_HOURS) " hours'"
#define MK_STR(x) MK_STR_(x)
#define MK_STR_(x) #x

static const struct pg_stmt LOCK = {
    "idem_lock",
    "SELECT pg_advisory_xact_lock(hashtextextended('idempotency:' || $1 || ':' || $2, 0))",
    2,
};

static const struct pg_stmt FIND = {
    "idem_find",
    "SELECT request_hash, status, body, location, event_seq, order_id::text FROM idempotency_keys "
    "WHERE user_id = $1::uuid AND key = $2 AND created_at > now() - " TTL,
    2,
};

static const struct pg_stmt STORE = {
    "idem_store",
    "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, location, event_seq, order_id) "
    "VALUES ($1::uuid, $2, $3, $4::int, $5, $6, $7::bigint, $8::uuid) "
    "ON CONFLICT (user_id, key) DO UPDATE SET request_hash = excluded.request_hash, status = excluded.status, "
    "  body = excluded.body, location = excluded.location, event_seq = excluded.event_seq, "
    "  order_id = excluded.order_id, created_at = now() "
    "WHERE idempotency_keys.created_at <= now() - " TTL " "
    "RETURNING 1",
    8,
};

static const struct pg_stmt SWEEP = {
    "idem_sweep",
    "DELETE FROM idempotency_keys WHERE (user_id, key) IN ("
    "  SELECT user_id, key FROM idempotency_keys WHERE created_at <= now() - " TTL " "
    "  ORDER BY created_at LIMIT " MK_STR(IDEM_SWEEP_BATCH) " FOR UPDATE SKIP LOCKED)",
    0,
};

int
idem_lock(struct pg *pg, arena_t *a, const char *user_id, const char *key)
{
    const char *values[] = {user_id, key};
    return pg_exec(pg, a, &LOCK, values, NULL);
}

int
idem_find(struct pg *pg, arena_t *a, const char *user_id, const char *key, struct idem_record *out)
{
    const char *values[] = {user_id, key};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &FIND, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    out->request_hash = arena_strdup(a, pg_value(res, 0, 0));
    out->status = (int)pg_int(res, 0, 1);
    out->body = arena_strdup(a, pg_value(res, 0, 2));
    out->location = arena_strdup(a, pg_value(res, 0, 3));
    out->event_seq = pg_int(res, 0, 4);
    out->order_id = arena_strdup(a, pg_value(res, 0, 5));
    return MK_OK;
}

int
idem_store(struct pg *pg, arena_t *a, const char *user_id, const char *key, const struct idem_record *rec)
{
    char status[16], seq[24];
    snprintf(status, sizeof(status), "%d", rec->status);
    snprintf(seq, sizeof(seq), "%lld", rec->event_seq);
    const char *values[] = {user_id,   key,           rec->request_hash,
                            status,    rec->body,     rec->location,
                            rec->event_seq > 0 ? seq : NULL, rec->order_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &STORE, values, &res);
    return rc == MK_ENOTFOUND ? MK_ECONFLICT : rc;
}

int
idem_sweep(struct pg *pg, arena_t *a)
{
    PGresult *res;
    return pg_exec(pg, a, &SWEEP, NULL, &res);
}
