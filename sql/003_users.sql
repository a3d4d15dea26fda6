-- Accounts: the write model of users. Sessions and login-failure counters live in Redis
-- (see README, "Accounts"); public profiles are projected into MongoDB `sellers` from the
-- `user.registered` / `user.profile_updated` events, which carry public fields only.
--
-- email is stored normalised (trimmed, domain lower-cased; the local part keeps its case
-- for display) and is unique case-insensitively through the index on lower(email), which
-- is also the index every login lookup uses.
CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = btrim(email)),
    password_hash text        NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    display_name  text        NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 60),
    bio           text        NOT NULL DEFAULT '' CHECK (char_length(bio) <= 500),
    avatar_url    text,
    -- {"city", "country", "lat", "lon"}; private (never projected)
    location      jsonb       CHECK (location IS NULL OR jsonb_typeof(location) = 'object'),
    version       bigint      NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_ci ON users (lower(email));
