-- Favourites: which user keeps which listing. listing_favorite_counts holds each listing's
-- count and a version bumped by every change, under the row lock that serialises
-- concurrent (un)favouriting of one listing; favorite.added / favorite.removed carry both,
-- so the projector sets the read model's count (and the user's favourite) only from newer
-- versions, whatever order it reads the events in.
CREATE TABLE favorites (
    user_id    uuid        NOT NULL REFERENCES users (id),
    listing_id uuid        NOT NULL REFERENCES listings (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, listing_id)
);

CREATE INDEX favorites_listing ON favorites (listing_id);

CREATE TABLE listing_favorite_counts (
    listing_id uuid   PRIMARY KEY REFERENCES listings (id),
    count      bigint NOT NULL DEFAULT 0 CHECK (count >= 0),
    version    bigint NOT NULL DEFAULT 0
);
