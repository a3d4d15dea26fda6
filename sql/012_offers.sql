-- Offers (issue 11): a buyer's offer on a listing, the counters that follow, and its end.
-- Every change is one transaction (src/command/offers.c, src/projector/timers.c) that first
-- locks the listing's row, then moves the offer with a conditional UPDATE, appends the move to
-- offer_moves and the events to the outbox. The listing's row lock serialises everything that
-- concerns one listing's availability: offers, accepts, purchases and time-outs.
--
--   open ──counter (party in turn)──► open (turn flips, expires_at = now + offer_ttl_s)
--     ├──accept (party in turn)──► accepted (listing reserved until reserved_until)
--     │                              ├── purchase (buyer, POST /orders offer_id) ──► completed
--     │                              └── reserved_until passes ──► expired (listing active again)
--     ├──decline (party in turn)──► declined      ├──withdraw (buyer)──► withdrawn
--     ├──another offer accepted, the listing sold or deleted ──► declined (by the system)
--     └──expires_at passes ──► expired
CREATE TABLE offers (
    id             uuid        PRIMARY KEY,
    listing_id     uuid        NOT NULL REFERENCES listings (id),
    buyer_id       uuid        NOT NULL REFERENCES users (id),
    seller_id      uuid        NOT NULL REFERENCES users (id),
    -- the amount on the table: the last offer or counter (1 … price − 1 when it was made)
    amount_minor   bigint      NOT NULL CHECK (amount_minor BETWEEN 1 AND 100000000),
    currency       text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status         text        NOT NULL
                               CHECK (status IN ('open', 'accepted', 'declined', 'withdrawn', 'expired', 'completed')),
    turn           text        CHECK (turn IN ('buyer', 'seller')),
    -- the due time of the offer's timer while it is open (last move + offer_ttl_s) or
    -- accepted (= reserved_until); kept as it was once the offer has ended
    expires_at     timestamptz NOT NULL,
    reserved_until timestamptz,
    version        bigint      NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (buyer_id <> seller_id),
    CHECK ((turn IS NOT NULL) = (status = 'open')),
    CHECK (status <> 'accepted' OR reserved_until = expires_at)
);

-- One open offer per buyer and listing (409 conflict on a second).
CREATE UNIQUE INDEX offers_open_per_buyer ON offers (listing_id, buyer_id) WHERE status = 'open';
-- At most one accepted offer per listing: a listing is reserved for one buyer. The listing's
-- conditional UPDATE active → reserved already guarantees it; this is the database's word.
CREATE UNIQUE INDEX offers_accepted_per_listing ON offers (listing_id) WHERE status = 'accepted';
-- The other open offers of a listing (declined by an accept, a sale or a deletion).
CREATE INDEX offers_listing_open ON offers (listing_id) WHERE status = 'open';
-- The durable timers: every offer whose time-out is still to be applied, by due time.
CREATE INDEX offers_due ON offers (expires_at) WHERE status IN ('open', 'accepted');
-- GET /offers?role=…[&status=…]: newest first, keyset on (created_at, id).
CREATE INDEX offers_buyer ON offers (buyer_id, created_at DESC, id DESC);
CREATE INDEX offers_seller ON offers (seller_id, created_at DESC, id DESC);
CREATE INDEX offers_buyer_status ON offers (buyer_id, status, created_at DESC, id DESC);
CREATE INDEX offers_seller_status ON offers (seller_id, status, created_at DESC, id DESC);

-- The history of an offer: one row per move, numbered from 1, never changed. `by` is the
-- party the API shows (buyer or seller); `automatic` marks what the system applied (a
-- time-out, or a decline because another offer was accepted or the listing left the market),
-- which events name "system".
CREATE TABLE offer_moves (
    offer_id     uuid        NOT NULL REFERENCES offers (id),
    position     integer     NOT NULL CHECK (position >= 1),
    by           text        NOT NULL CHECK (by IN ('buyer', 'seller')),
    automatic    boolean     NOT NULL DEFAULT false,
    action       text        NOT NULL
                             CHECK (action IN ('offer', 'counter', 'accept', 'decline', 'withdraw', 'expire', 'complete')),
    amount_minor bigint      NOT NULL CHECK (amount_minor BETWEEN 1 AND 100000000),
    at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (offer_id, position)
);

CREATE FUNCTION offer_moves_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'offer moves are append-only (% refused)', TG_OP
        USING ERRCODE = 'prohibited_sql_statement_attempted';
END;
$$;

CREATE TRIGGER offer_moves_no_change BEFORE UPDATE OR DELETE ON offer_moves
    FOR EACH ROW EXECUTE FUNCTION offer_moves_append_only();
CREATE TRIGGER offer_moves_no_truncate BEFORE TRUNCATE ON offer_moves
    FOR EACH STATEMENT EXECUTE FUNCTION offer_moves_append_only();

-- The order an accepted offer became (POST /orders with offer_id); NULL for a plain purchase.
ALTER TABLE orders ADD COLUMN offer_id uuid REFERENCES offers (id);
CREATE UNIQUE INDEX orders_offer ON orders (offer_id) WHERE offer_id IS NOT NULL;
