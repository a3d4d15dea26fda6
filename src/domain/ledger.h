/*
 * ledger.h — the double-entry ledger of the money that orders move (sql/007_ledger.sql).
 *
 * A journal is a set of entries, written by one transaction, whose amounts sum to zero in
 * its currency; entries are never changed. So for every currency the sum of all entries is
 * zero at all times, and every balance is one sum over one account. A deferred constraint
 * trigger refuses to commit a transaction with an unbalanced journal; ledger_book() also
 * checks before it writes.
 *
 * Accounts (a positive amount adds to the account's balance):
 *   provider:<name>             the payment provider: where a buyer's money comes from
 *   buyer:<id>                  the buyer's funding account (nets to zero per order)
 *   seller:<id>:escrow          proceeds held until delivery (the "held" balance)
 *   seller:<id>:available       proceeds released to the seller (the "available" balance)
 *
 * The three journals of an order (P = amount):
 *   payment  provider −P, buyer +P (the charge); buyer −P, seller escrow +P (the hold)
 *   release  seller escrow −P, seller available +P (delivery confirmed)
 *   refund   seller escrow −P, buyer +P (the hold undone); buyer −P, provider +P (the refund)
 */
#ifndef MK_LEDGER_H
#define MK_LEDGER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "store/pg.h"

#define LEDGER_MAX_ENTRIES 4

enum ledger_kind { LEDGER_PAYMENT, LEDGER_RELEASE, LEDGER_REFUND };

struct ledger_entry {
    const char *account;
    long long amount_minor;
};

/* One order's money movement. */
struct ledger_move {
    const char *order_id;
    const char *provider;   /* payment provider name */
    const char *buyer_id;
    const char *seller_id;
    long long amount_minor; /* > 0 */
    const char *currency;
};

/* The kind's name as stored ("payment", "release", "refund"). */
const char *ledger_kind_name(enum ledger_kind kind);

/* The entries of the journal of kind for m (account names in the arena); returns how many. */
size_t ledger_entries_for(arena_t *a, enum ledger_kind kind, const struct ledger_move *m,
                          struct ledger_entry out[LEDGER_MAX_ENTRIES]);

/* True when the amounts sum to zero and none is zero. */
bool ledger_balanced(const struct ledger_entry *e, size_t n);

/* Inside the caller's transaction: write the journal of kind for m. MK_EINTERNAL when it
 * would not balance (a bug: nothing is written). */
int ledger_book(struct pg *pg, arena_t *a, enum ledger_kind kind, const struct ledger_move *m);

/* A user's balances in one currency, as seller. */
struct ledger_balance {
    const char *currency;
    long long available_minor;
    long long held_minor;
};

/* The balances of user_id, one per currency in which they have entries, by currency code.
 * *out (arena) and *n receive them. */
int ledger_balances(struct pg *pg, arena_t *a, const char *user_id, struct ledger_balance **out, size_t *n);

#endif
