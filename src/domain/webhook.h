/*
 * webhook.h — webhooks: their input, the address rules (SSRF), the sealed secret and the
 * Standard Webhooks signature.
 *
 * Address rules: the URL must be https:// (http:// too for a host that webhook_allow_hosts
 * lists); the host is resolved and every address it resolves to is checked — loopback,
 * private, shared (CGNAT), link-local (which holds the cloud metadata address
 * 169.254.169.254), unspecified, multicast, reserved and their IPv6 forms (mapped,
 * NAT64, 6to4) are refused, unless the host is listed. The check runs when a webhook is
 * created (422) and again before every attempt, and the attempt connects to the address
 * that was checked (store/outcall.h), so a DNS rebind cannot slip through.
 */
#ifndef MK_WEBHOOK_H
#define MK_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/config.h"
#include "core/http.h"

#define WEBHOOK_SECRET_BYTES 32
#define WEBHOOK_MAX_PER_USER 20

struct webhook_input {
    const char *url;
    const char **events;   /* distinct notification types */
    size_t nevents;
};

/* Check a POST /users/me/webhooks body: {"url","events"}. MK_OK or MK_EVALIDATION (fields on r). */
int webhook_parse(struct request *r, json_object *body, struct webhook_input *out);

/* Where an attempt may connect. */
struct webhook_dest {
    const char *host;
    int port;
    const char *address;   /* numeric, checked */
};

/* Apply the address rules to url now (resolving the host). MK_OK with *out, or
 * MK_EVALIDATION with *problem (arena) saying why. */
int webhook_check_url(arena_t *a, const struct config *cfg, const char *url, struct webhook_dest *out,
                      const char **problem);

/* True when a numeric IPv4 or IPv6 address is one the rules refuse (or is not an address). */
bool webhook_address_refused(const char *numeric);

/* True when host is in the comma list allow (case-insensitive, spaces ignored). */
bool webhook_host_listed(const char *allow, const char *host);

/* A new secret: its bytes, and its text "whsec_" + base64 of them (arena). */
const char *webhook_secret_new(arena_t *a, unsigned char secret[WEBHOOK_SECRET_BYTES]);

/* Seal the secret bytes under the 64-hex-digit key: hex of nonce || secretbox (arena). */
const char *webhook_seal(arena_t *a, const char *hex_key, const unsigned char secret[WEBHOOK_SECRET_BYTES]);

/* Open what webhook_seal made (sealed: hex, or PostgreSQL's "\x" + hex). MK_OK or MK_EINTERNAL. */
int webhook_unseal(const char *hex_key, const char *sealed, unsigned char secret[WEBHOOK_SECRET_BYTES]);

/* The webhook-signature header value: "v1," + base64 HMAC-SHA256(key, id "." ts "." body). */
const char *webhook_signature(arena_t *a, const unsigned char *key, size_t key_len, const char *id, long long ts,
                              const char *body);

/* ---- storage (inside the caller's transaction where it writes) ---- */

struct pg;

/* Store a webhook (at most WEBHOOK_MAX_PER_USER per user: MK_ECONFLICT). *out (arena):
 * {id, url, events, created_at}; the caller adds the secret to its answer. */
int webhook_insert(struct pg *pg, arena_t *a, const char *user_id, const struct webhook_input *in,
                   const char *sealed_hex, json_object **out, long long *seq);

/* Delete the user's webhook: its pending deliveries stop. MK_ENOTFOUND when not the user's. */
int webhook_delete(struct pg *pg, arena_t *a, const char *user_id, const char *id, long long *seq);

/* The user's webhooks (no secrets), oldest first: a JSON array (arena). */
int webhook_list(struct pg *pg, arena_t *a, const char *user_id, json_object **items);

/* Make a delivery of the user's webhook due now (a manual retry). MK_ENOTFOUND otherwise. */
int webhook_retry(struct pg *pg, arena_t *a, const char *user_id, const char *webhook_id, const char *delivery_id,
                  long long *seq);

/* A page of a webhook's deliveries, newest first, after (created_us, id) when after_id is
 * not NULL: *items (arena) holds up to limit + 1 rows {id, notification_id, status,
 * attempts, next_retry_at, created_at, created_us}. MK_ENOTFOUND when the webhook is not
 * the user's (or deleted). */
int webhook_deliveries(struct pg *pg, arena_t *a, const char *user_id, const char *webhook_id, int limit,
                       long long after_us, const char *after_id, json_object **items);

/* One delivery claimed by a deliverer. */
struct webhook_claim {
    const char *id, *notification_id, *body, *url, *sealed;
    const char *claim;        /* the lease's token */
    int attempts;             /* made before this one */
    long since_first_s;       /* since the first attempt (0 for the first) */
};

/* Claim the next due delivery of a live webhook for lease_s seconds (FOR UPDATE SKIP LOCKED).
 * MK_ENOTFOUND when none is due. */
int webhook_claim(struct pg *pg, arena_t *a, int lease_s, struct webhook_claim *out);

/* Record an attempt of a claimed delivery: status_code (0: none) or error, its duration,
 * the delivery's new status, and the delay before the next attempt (< 0: none). */
int webhook_record(struct pg *pg, arena_t *a, const struct webhook_claim *c, long status_code, const char *error,
                   long duration_ms, const char *status, long long next_delay_ms);

/* Milliseconds until the next due delivery (0 when one is due, -1 when none is scheduled). */
int webhook_next_due_ms(struct pg *pg, arena_t *a, long long *ms);

#endif
