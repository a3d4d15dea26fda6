#include "domain/ledger.h"

#include <stdio.h>

#include "core/errors.h"
#include "core/ids.h"
#include "core/log.h"

char *
ledger_account_provider(arena_t *a, const char *name)
{
    return arena_sprintf(a, "provider:%s", name);
}

char *
ledger_account_buyer(arena_t *a, const char *user_id)
{
    return arena_sprintf(a, "buyer:%s", user_id);
}

char *
ledger_account_escrow(arena_t *a, const char *seller_id)
{
    return arena_sprintf(a, "seller:%s:escrow", seller_id);
}

char *
ledger_account_available(arena_t *a, const char *seller_id)
{
    return arena_sprintf(a, "seller:%s:available", seller_id);
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
    switch (kind) {
    case LEDGER_PAYMENT:
        out[0] = (struct ledger_entry){ledger_account_provider(a, m->provider), -p};
        out[1] = (struct ledger_entry){ledger_account_buyer(a, m->buyer_id), p};
        out[2] = (struct ledger_entry){ledger_account_buyer(a, m->buyer_id), -p};
        out[3] = (struct ledger_entry){ledger_account_escrow(a, m->seller_id), p};
        return 4;
    case LEDGER_RELEASE:
        out[0] = (struct ledger_entry){ledger_account_escrow(a, m->seller_id), -p};
        out[1] = (struct ledger_entry){ledger_account_available(a, m->seller_id), p};
        return 2;
    case LEDGER_REFUND:
        out[0] = (struct ledger_entry){ledger_account_escrow(a, m->seller_id), -p};
        out[1] = (struct ledger_entry){ledger_account_buyer(a, m->buyer_id), p};
        out[2] = (struct ledger_entry){ledger_account_buyer(a, m->buyer_id), -p};
        out[3] = (struct ledger_entry){ledger_account_provider(a, m->provider), p};
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

int
ledger_balances(struct pg *pg, arena_t *a, const char *user_id, struct ledger_balance **out, size_t *n)
{
    const char *values[] = {ledger_account_available(a, user_id), ledger_account_escrow(a, user_id)};
    PGresult *res;
    *out = NULL;
    *n = 0;
    int rc = pg_exec(pg, a, &BALANCES, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    int rows = pg_nrows(res);
    *out = arena_calloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof(**out));
    for (int i = 0; i < rows; i++) {
        (*out)[i].currency = arena_strdup(a, pg_value(res, i, 0));
        (*out)[i].available_minor = pg_int(res, i, 1);
        (*out)[i].held_minor = pg_int(res, i, 2);
    }
    *n = (size_t)rows;
    return MK_OK;
}
