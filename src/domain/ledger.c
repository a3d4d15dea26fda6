#include "domain/ledger.h"

#include <stdio.h>

#include "core/errors.h"
#include "core/ids.h"
#include "core/log.h"

/* A seller's account, "seller:<id>:<which>" (escrow or available; ledger.h), in the arena. */
static const char *
seller_account(arena_t *a, const char *seller_id, const char *which)
{
    return arena_sprintf(a, "seller:%s:%s", seller_id, which);
}

const char *
ledger_kind_name(enum ledger_kind kind)
{
    switch (kind) {
    case LEDGER_PAYMENT: return "payment";
    case LEDGER_RELEASE: return "release";
    case LEDGER_REFUND: return "refund";
    }
    return "?";
}

size_t
ledger_entries_for(arena_t *a, enum ledger_kind kind, const struct ledger_move *m,
                   struct ledger_entry out[LEDGER_MAX_ENTRIES])
{
    const long long p = m->amount_minor;
    const char *provider = arena_sprintf(a, "provider:%s", m->provider);
    const char *buyer = arena_sprintf(a, "buyer:%s", m->buyer_id);
    const char *escrow = seller_account(a, m->seller_id, "escrow");
    switch (kind) {
    case LEDGER_PAYMENT:
        out[0] = (struct ledger_entry){provider, -p};
        out[1] = (struct ledger_entry){buyer, p};
        out[2] = (struct ledger_entry){buyer, -p};
        out[3] = (struct ledger_entry){escrow, p};
        return 4;
    case LEDGER_RELEASE:
        out[0] = (struct ledger_entry){escrow, -p};
        out[1] = (struct ledger_entry){seller_account(a, m->seller_id, "available"), p};
        return 2;
    case LEDGER_REFUND:
        out[0] = (struct ledger_entry){escrow, -p};
        out[1] = (struct ledger_entry){buyer, p};
        out[2] = (struct ledger_entry){buyer, -p};
        out[3] = (struct ledger_entry){provider, p};
        return 4;
    }
    return 0;
}

bool
ledger_balanced(const struct ledger_entry *e, size_t n)
{
    long long sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].amount_minor == 0) {
            return false;
        }
        sum += e[i].amount_minor;
    }
    return n > 0 && sum == 0;
}

static const struct pg_stmt INSERT = {
    "ledger_insert",
    "INSERT INTO ledger_entries (journal_id, kind, account, currency, amount_minor, order_id) "
    "VALUES ($1::uuid, $2, $3, $4, $5::bigint, $6::uuid)",
    6,
};

static const struct pg_stmt BALANCES = {
    "ledger_balances",
    "SELECT currency, coalesce(sum(amount_minor) FILTER (WHERE account = $1), 0), "
    "  coalesce(sum(amount_minor) FILTER (WHERE account = $2), 0) "
    "FROM ledger_entries WHERE account IN ($1, $2) GROUP BY currency ORDER BY currency",
    2,
};

int
ledger_book(struct pg *pg, arena_t *a, enum ledger_kind kind, const struct ledger_move *m)
{
    struct ledger_entry e[LEDGER_MAX_ENTRIES];
    size_t n = m->amount_minor > 0 ? ledger_entries_for(a, kind, m, e) : 0;
    if (!ledger_balanced(e, n)) {
        log_error("ledger: refusing an unbalanced %s journal for order %s", ledger_kind_name(kind), m->order_id);
        return MK_EINTERNAL;
    }
    char journal[UUID_STR_LEN + 1];
    uuid_new(journal);
    for (size_t i = 0; i < n; i++) {
        char amount[24];
        snprintf(amount, sizeof(amount), "%lld", e[i].amount_minor);
        const char *values[] = {journal, ledger_kind_name(kind), e[i].account, m->currency, amount, m->order_id};
        int rc = pg_exec(pg, a, &INSERT, values, NULL);
        if (rc != MK_OK) {
            return rc;
        }
    }
    return MK_OK;
}

static int
balance_from_row(arena_t *a, const PGresult *res, int row, void *dst)
{
    struct ledger_balance *b = dst;
    b->currency = arena_strdup(a, pg_value(res, row, 0));
    b->available_minor = pg_int(res, row, 1);
    b->held_minor = pg_int(res, row, 2);
    return MK_OK;
}

int
ledger_balances(struct pg *pg, arena_t *a, const char *user_id, struct ledger_balance **out, size_t *n)
{
    const char *values[] = {seller_account(a, user_id, "available"), seller_account(a, user_id, "escrow")};
    void *rows;
    int rc = pg_exec_rows(pg, a, &BALANCES, values, sizeof(**out), balance_from_row, &rows, n);
    *out = rows;
    return rc;
}
