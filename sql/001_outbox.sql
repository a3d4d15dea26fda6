-- The transactional outbox: every command appends its events here in the same
-- transaction as its change. See src/domain/outbox.h for the reading order.
CREATE TABLE outbox (
    seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid              xid8        NOT NULL DEFAULT pg_current_xact_id(),
    aggregate_type    text        NOT NULL,
    aggregate_id      uuid        NOT NULL,
    aggregate_version bigint      NOT NULL CHECK (aggregate_version > 0),
    event_type        text        NOT NULL,
    payload           jsonb       NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The projector reads in (txid, seq) order from its checkpoint.
CREATE INDEX outbox_txid_seq ON outbox (txid, seq);
-- Rebuilds and audits look up one aggregate's history.
CREATE INDEX outbox_aggregate ON outbox (aggregate_type, aggregate_id, seq);

-- Wake the projector once per writing statement; it polls as a fallback.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- The read model's generation: `marketd --role projector --rebuild` bumps it, and a read
-- model whose marker names another generation is rebuilt.
CREATE TABLE projector_state (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation bigint  NOT NULL DEFAULT 1
);
INSERT INTO projector_state DEFAULT VALUES;
