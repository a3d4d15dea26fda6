/*
 * idempotency.h — Idempotency-Key records (sql/006_orders.sql, table idempotency_keys).
 *
 * A write that takes a key runs, inside its one transaction and before anything else:
 * idem_lock (a transaction-scoped advisory lock on the user and key, so a concurrent
 * request with the same key waits until the first one has committed or rolled back), then
 * idem_find (a record younger than IDEM_TTL_HOURS: replay it, or refuse another request
 * under the same key), then its work, then idem_store of the answer it gives. The record
 * commits with the work or not at all, so there is never a half-done request to clean up,
 * and a duplicate can never repeat the work. Old records are ignored, replaced on reuse of
 * their key, and deleted by idem_sweep.
 */
#ifndef MK_IDEMPOTENCY_H
#define MK_IDEMPOTENCY_H

#include <stddef.h>

#include "core/arena.h"
#include "store/pg.h"

#define IDEM_KEY_MAX 255
#define IDEM_TTL_HOURS 24
#define IDEM_HASH_HEX 64
#define IDEM_SWEEP_BATCH 100

/* NULL when key is a valid Idempotency-Key (1–255 printable ASCII characters, not
 * starting or ending with a space), else the problem (static storage). */
const char *idem_key_problem(const char *key);

/* Hex SHA-256 (libsodium) of method, path and body, each preceded by its length, so no
 * two different requests hash alike by moving bytes between the parts. */
void idem_request_hash(const char *method, const char *path, const char *body, size_t body_len,
                       char out[IDEM_HASH_HEX + 1]);

/* A stored answer. Strings live in the arena. */
struct idem_record {
    const char *request_hash;
    int status;
    const char *body;
    const char *location;    /* NULL: none */
    long long event_seq;     /* 0: none */
    const char *order_id;    /* NULL: none */
};

/* Inside the caller's transaction, first: wait for other transactions holding this user's
 * key (pg_advisory_xact_lock on a 64-bit hash of both; released at commit or rollback). */
int idem_lock(struct pg *pg, arena_t *a, const char *user_id, const char *key);

/* The user's live record for key (younger than IDEM_TTL_HOURS): MK_OK or MK_ENOTFOUND. */
int idem_find(struct pg *pg, arena_t *a, const char *user_id, const char *key, struct idem_record *out);

/* Store rec under the user's key, replacing an expired record. MK_ECONFLICT when a live
 * record exists (cannot happen under idem_lock). */
int idem_store(struct pg *pg, arena_t *a, const char *user_id, const char *key, const struct idem_record *rec);

/* Outside any transaction: delete up to IDEM_SWEEP_BATCH expired records (rows another
 * transaction holds are skipped). */
int idem_sweep(struct pg *pg, arena_t *a);

#endif
