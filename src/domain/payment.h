/*
 * payment.h — payment providers: where a buyer's money comes from and goes back to.
 *
 * A provider charges a buyer for an order and refunds a charge. The order records the
 * provider's name and the references it returned, and the ledger books the money against
 * the provider's account "provider:<name>" (domain/ledger.h). The only provider built in is
 * `sandbox`, which approves everything and makes deterministic references, so the whole
 * flow runs without a gateway. A real gateway implements the same two functions.
 *
 * Calls happen inside the order's PostgreSQL transaction, which may be retried (a
 * serialization failure) or rolled back after the call: a provider must therefore be
 * idempotent on the order id (a second charge for the same order returns the first charge's
 * reference), as payment gateways are with their idempotency keys. A gateway that talks to
 * the network would authorise before the transaction and capture after it; see README,
 * "Orders, payments and the ledger".
 */
#ifndef MK_PAYMENT_H
#define MK_PAYMENT_H

#include "core/arena.h"

struct payment_charge {
    const char *order_id;   /* the idempotency key towards the provider */
    const char *buyer_id;
    long long amount_minor;
    const char *currency;
};

struct payment_provider {
    const char *name;       /* [a-z][a-z0-9_]*; the ledger account is "provider:<name>" */
    /* Charge the buyer. MK_OK with *ref (arena), or a negative MK_ code (MK_EUNAVAILABLE:
     * the provider cannot be reached; the order is not made). */
    int (*charge)(const struct payment_provider *pp, arena_t *a, const struct payment_charge *c, const char **ref);
    /* Refund a charge in full. MK_OK with *ref (arena), or a negative MK_ code. */
    int (*refund)(const struct payment_provider *pp, arena_t *a, const char *charge_ref, long long amount_minor,
                  const char *currency, const char **ref);
};

/* The sandbox provider: approves every charge and refund of a positive amount; references
 * are "sbx_ch_<hex>" / "sbx_re_<hex>", derived from the order id / the charge reference. */
extern const struct payment_provider payment_sandbox;

/* The provider new orders are charged with. */
const struct payment_provider *payment_default(void);

/* The provider called name (an order's payment_provider), or NULL. */
const struct payment_provider *payment_find(const char *name);

#endif
