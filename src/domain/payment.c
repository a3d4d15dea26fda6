#include "domain/payment.h"

#include <sodium.h>
#include <string.h>

#include "core/errors.h"

/* prefix + hex of BLAKE2b-128(context, input): stable for the same input. */
static const char *
reference(arena_t *a, const char *prefix, const char *context, const char *input)
{
    unsigned char digest[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(digest));
    crypto_generichash_update(&st, (const unsigned char *)context, strlen(context) + 1);
    crypto_generichash_update(&st, (const unsigned char *)input, strlen(input));
    crypto_generichash_final(&st, digest, sizeof(digest));
    char hex[sizeof(digest) * 2 + 1];
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    return arena_sprintf(a, "%s%s", prefix, hex);
}

static int
sandbox_charge(const struct payment_provider *pp, arena_t *a, const struct payment_charge *c, const char **ref)
{
    (void)pp;
    *ref = NULL;
    if (c->order_id == NULL || c->amount_minor <= 0 || c->currency == NULL) {
        return MK_EVALIDATION;
    }
    *ref = reference(a, "sbx_ch_", "marketd sandbox charge", c->order_id);
    return MK_OK;
}

static int
sandbox_refund(const struct payment_provider *pp, arena_t *a, const char *charge_ref, long long amount_minor,
               const char *currency, const char **ref)
{
    (void)pp;
    *ref = NULL;
    if (charge_ref == NULL || strncmp(charge_ref, "sbx_ch_", 7) != 0 || amount_minor <= 0 || currency == NULL) {
        return MK_EVALIDATION;
    }
    *ref = reference(a, "sbx_re_", "marketd sandbox refund", charge_ref);
    return MK_OK;
}

const struct payment_provider payment_sandbox = {
    .name = "sandbox",
    .charge = sandbox_charge,
    .refund = sandbox_refund,
};

static const struct payment_provider *const providers[] = {&payment_sandbox};

const struct payment_provider *
payment_default(void)
{
    return &payment_sandbox;
}

const struct payment_provider *
payment_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof(providers) / sizeof(providers[0]); i++) {
        if (strcmp(providers[i]->name, name) == 0) {
            return providers[i];
        }
    }
    return NULL;
}
