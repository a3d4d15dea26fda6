-- Notifications, saved searches and webhooks (issue 12). The notification feed itself is a
-- read-model collection (MongoDB `notifications`), derived from the outbox by the projector;
-- what lives here is what users write: mark-read commands (as outbox events of the
-- `notification_feed` aggregate), saved searches and webhooks, and the delivery log that the
-- deliverer role works through.

-- One row per user who ever marked notifications read: its version numbers the
-- notification.read events of that feed (the row lock orders a user's concurrent marks).
CREATE TABLE notification_feeds (
    user_id uuid   PRIMARY KEY REFERENCES users (id),
    version bigint NOT NULL DEFAULT 0
);

-- Saved searches. `query` is the GET /listings query string as given (validated by the same
-- parser); `anchors` are the keys the search requires, one of which any matching listing
-- carries (see README "Notifications, saved searches and webhooks"): the GIN index answers
-- "which alerting searches could this listing match" with one lookup, and the price bounds and
-- currency, copied from the query, drop candidates before the exact matcher parses them.
-- Deletion is soft (deleted_at), so a rebuild of the read model matches old events against
-- the searches that existed then.
CREATE TABLE saved_searches (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id),
    name       text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    query      text        NOT NULL CHECK (char_length(query) <= 2000),
    alert      boolean     NOT NULL,
    anchors    text[]      NOT NULL,
    min_price  bigint,
    max_price  bigint,
    currency   text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at timestamptz
);
CREATE INDEX saved_searches_user ON saved_searches (user_id, created_at) WHERE deleted_at IS NULL;
CREATE INDEX saved_searches_anchors ON saved_searches USING gin (anchors) WHERE alert;

-- Webhooks. The signing secret must be usable to sign, so it cannot be hashed: it is kept
-- sealed with libsodium's secretbox (XSalsa20-Poly1305) under the configured
-- webhook_secret_key, as nonce (24 bytes) || box.
CREATE TABLE webhooks (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id),
    url        text        NOT NULL CHECK (char_length(url) <= 2000),
    events     text[]      NOT NULL,
    secret_box bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_at timestamptz
);
CREATE INDEX webhooks_user ON webhooks (user_id, created_at) WHERE deleted_at IS NULL;

-- The delivery log: one row per (webhook, notification), made by the projector when it
-- makes the notification (ON CONFLICT DO NOTHING: replays and rebuilds add none), worked by
-- the deliverer: a due row is claimed with FOR UPDATE SKIP LOCKED and a lease
-- (claimed_until, claim), sent, and its attempt appended; next_attempt_at is the retry
-- schedule (NULL: nothing more to do).
CREATE TABLE webhook_deliveries (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id      uuid        NOT NULL REFERENCES webhooks (id),
    notification_id uuid        NOT NULL,
    body            text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        jsonb       NOT NULL DEFAULT '[]',
    next_attempt_at timestamptz DEFAULT clock_timestamp(),
    first_attempt_at timestamptz,
    claimed_until   timestamptz,
    claim           uuid,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (webhook_id, notification_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (webhook_id, created_at DESC, id DESC);

-- Wake the deliverer when a delivery is added or made due again; it polls as a fallback.
CREATE FUNCTION webhook_deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('webhook_deliveries', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER webhook_deliveries_notify AFTER INSERT OR UPDATE OF next_attempt_at ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_deliveries_notify();
