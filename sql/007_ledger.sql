-- The double-entry ledger (src/domain/ledger.h). Every movement of money is a journal: a
-- set of entries written by one transaction whose amounts sum to zero in each currency.
-- Entries are never changed or deleted, so for every currency the sum of all entries is
-- zero at all times, and every balance is a plain sum over one account.
--
-- Accounts (amount > 0 adds to the account's balance):
--   provider:<name>            the payment provider (money from outside: negative by what
--                              it has paid in, net of refunds)
--   buyer:<user id>            the buyer's funding account: a charge pays into it and the
--                              purchase pays out of it (nets to zero per order)
--   seller:<user id>:escrow    the seller's proceeds held until delivery ("held")
--   seller:<user id>:available the seller's released proceeds ("available")
CREATE TABLE ledger_entries (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    journal_id   uuid        NOT NULL,
    txid         xid8        NOT NULL DEFAULT pg_current_xact_id(),
    kind         text        NOT NULL CHECK (kind IN ('payment', 'release', 'refund')),
    account      text        NOT NULL CHECK (account ~ ('^(provider:[a-z][a-z0-9_]*'
                                 '|buyer:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
                                 '|seller:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:(escrow|available))$')),
    currency     text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor bigint      NOT NULL CHECK (amount_minor <> 0),
    order_id     uuid        REFERENCES orders (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Balances: sum(amount_minor) of one account per currency, from the index alone.
CREATE INDEX ledger_entries_account ON ledger_entries (account, currency) INCLUDE (amount_minor);
CREATE INDEX ledger_entries_journal ON ledger_entries (journal_id);
CREATE INDEX ledger_entries_order ON ledger_entries (order_id);

-- At commit, each journal written by the transaction must balance in every currency and
-- must not span transactions. A deferred constraint trigger runs when the transaction
-- commits (after all of its entries exist); a violation aborts the COMMIT.
CREATE FUNCTION ledger_journal_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT currency, sum(amount_minor) AS total INTO bad
      FROM ledger_entries WHERE journal_id = NEW.journal_id
     GROUP BY currency HAVING sum(amount_minor) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger journal % does not balance in % (sum %)', NEW.journal_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM ledger_entries WHERE journal_id = NEW.journal_id AND txid <> NEW.txid) THEN
        RAISE EXCEPTION 'ledger journal % spans transactions', NEW.journal_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_journal_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_journal_check();

-- Append-only: corrections are new journals, never edits.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only (% refused)', TG_OP
        USING ERRCODE = 'prohibited_sql_statement_attempted';
END;
$$;

CREATE TRIGGER ledger_no_change BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
