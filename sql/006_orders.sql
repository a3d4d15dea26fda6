-- Orders: a buyer's purchase of one listing, and the idempotency records of POST /orders.
-- The whole purchase is one transaction (src/command/orders.c): the listing goes
-- active→sold with a conditional UPDATE, the order is inserted `paid`, the ledger moves the
-- price into escrow (007_ledger.sql), the events go to the outbox and the answer is stored
-- under the client's Idempotency-Key. Orders are read from PostgreSQL only (no read model);
-- the shipping address is personal data and never leaves this table (events omit it).
CREATE TABLE orders (
    id               uuid        PRIMARY KEY,
    listing_id       uuid        NOT NULL REFERENCES listings (id),
    buyer_id         uuid        NOT NULL REFERENCES users (id),
    seller_id        uuid        NOT NULL REFERENCES users (id),
    status           text        NOT NULL CHECK (status IN ('paid', 'shipped', 'delivered', 'cancelled')),
    amount_minor     bigint      NOT NULL CHECK (amount_minor BETWEEN 1 AND 100000000),
    currency         text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    ship_name        text        NOT NULL CHECK (char_length(ship_name) BETWEEN 1 AND 100),
    ship_line1       text        NOT NULL CHECK (char_length(ship_line1) BETWEEN 1 AND 200),
    ship_line2       text        CHECK (char_length(ship_line2) BETWEEN 1 AND 200),
    ship_city        text        NOT NULL CHECK (char_length(ship_city) BETWEEN 1 AND 100),
    ship_postal_code text        NOT NULL CHECK (char_length(ship_postal_code) BETWEEN 1 AND 20),
    ship_country     text        NOT NULL CHECK (ship_country ~ '^[A-Z]{2}$'),
    tracking_carrier text        CHECK (char_length(tracking_carrier) BETWEEN 1 AND 50),
    tracking_number  text        CHECK (char_length(tracking_number) BETWEEN 1 AND 100),
    -- the payment provider that charged the buyer (its ledger account is provider:<name>),
    -- its charge reference and, once cancelled, its refund reference
    payment_provider text        NOT NULL CHECK (payment_provider ~ '^[a-z][a-z0-9_]*$'),
    payment_ref      text        NOT NULL,
    refund_ref       text,
    version          bigint      NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    shipped_at       timestamptz,
    delivered_at     timestamptz,
    cancelled_at     timestamptz,
    CHECK (buyer_id <> seller_id),
    -- tracking data exactly when the parcel has left
    CHECK ((tracking_carrier IS NOT NULL) = (status IN ('shipped', 'delivered'))),
    CHECK ((tracking_number IS NOT NULL) = (tracking_carrier IS NOT NULL))
);

-- GET /orders?role=…: newest first, keyset on (created_at, id).
CREATE INDEX orders_buyer ON orders (buyer_id, created_at DESC, id DESC);
CREATE INDEX orders_seller ON orders (seller_id, created_at DESC, id DESC);
-- A listing is sold once: at most one order that is not cancelled per listing. The
-- conditional UPDATE of the listing already guarantees it; this is the database's word.
CREATE UNIQUE INDEX orders_listing_live ON orders (listing_id) WHERE status <> 'cancelled';

-- Idempotency-Key records of POST /orders, per user. A record is written in the same
-- transaction as the outcome it stores, under a transaction-scoped advisory lock on
-- (user, key) taken before anything else, so a concurrent duplicate waits for the first
-- request and then finds its record: it can never make a second order. A record older than
-- 24 hours is ignored (the key counts as new) and swept.
CREATE TABLE idempotency_keys (
    user_id      uuid        NOT NULL REFERENCES users (id),
    key          text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    -- hex SHA-256 of method, path and body: the same key with another request is refused
    request_hash text        NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
    status       integer     NOT NULL CHECK (status BETWEEN 200 AND 599),
    body         text        NOT NULL,
    location     text,
    event_seq    bigint,
    order_id     uuid        REFERENCES orders (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
