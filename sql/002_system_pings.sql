-- A tiny internal aggregate that proves the CQRS path end to end:
-- POST /api/v1/system/pings writes a row and its `system.ping` event; the projector
-- copies it into the MongoDB collection `system_pings`; GET /api/v1/system/pings/{id}
-- reads it back from the read model.
CREATE TABLE system_pings (
    id         uuid        PRIMARY KEY,
    note       text        NOT NULL CHECK (length(note) <= 200),
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
