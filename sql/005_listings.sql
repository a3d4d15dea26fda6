-- Listings: the write model of the catalogue. Core fields are columns (checked here as in
-- API.md); category attributes are JSONB, validated against the category's schema by
-- src/domain/category.c before they get here. Every change bumps `version` and appends
-- the listing's whole resulting state to the outbox (src/domain/listing.c), from which the
-- projector builds the MongoDB `listings` read model.
CREATE TABLE listings (
    id          uuid        PRIMARY KEY,
    seller_id   uuid        NOT NULL REFERENCES users (id),
    title       text        NOT NULL CHECK (char_length(title) BETWEEN 3 AND 120),
    description text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 5000),
    category    text        NOT NULL REFERENCES categories (slug),
    condition   text        NOT NULL CHECK (condition IN ('new', 'like_new', 'good', 'fair', 'poor')),
    price_minor bigint      NOT NULL CHECK (price_minor BETWEEN 1 AND 100000000),
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    city        text        NOT NULL CHECK (char_length(city) BETWEEN 1 AND 100),
    country     text        NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    lat         double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon         double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    attributes  jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    status      text        NOT NULL DEFAULT 'active'
                            CHECK (status IN ('draft', 'active', 'reserved', 'sold', 'deleted')),
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX listings_seller ON listings (seller_id, created_at DESC);

-- Images attached to a listing. An image is `pending` from attach until the projector has
-- decoded it and stored its thumbnail (`ready`); one that does not decode is deleted.
CREATE TABLE listing_images (
    id           uuid        PRIMARY KEY,
    listing_id   uuid        NOT NULL REFERENCES listings (id),
    key          text        NOT NULL UNIQUE,
    content_type text        NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes   bigint      NOT NULL CHECK (size_bytes BETWEEN 1 AND 10485760),
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready')),
    width        integer,
    height       integer,
    thumb_key    text,
    position     integer     NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX listing_images_listing ON listing_images (listing_id, position);

-- Upload tickets: what a client announced when it asked for a pre-signed PUT. Attaching
-- the key compares the object's HEAD with this. Tickets expire with their URL (plus a
-- grace period) and are swept when new ones are issued.
CREATE TABLE image_uploads (
    key          text        PRIMARY KEY,
    listing_id   uuid        NOT NULL REFERENCES listings (id),
    content_type text        NOT NULL,
    size_bytes   bigint      NOT NULL,
    expires_at   timestamptz NOT NULL
);

CREATE INDEX image_uploads_expiry ON image_uploads (expires_at);
