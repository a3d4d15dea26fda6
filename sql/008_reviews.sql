-- Reviews of sellers by the buyers of delivered orders: one per order (the unique
-- constraint decides a race between two submissions). The projector keeps the MongoDB
-- `reviews` collection and derives each seller's rating from it (src/projector/review.c).
CREATE TABLE reviews (
    id          uuid        PRIMARY KEY,
    order_id    uuid        NOT NULL REFERENCES orders (id),
    reviewer_id uuid        NOT NULL REFERENCES users (id),
    seller_id   uuid        NOT NULL REFERENCES users (id),
    rating      smallint    NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment     text        NOT NULL DEFAULT '' CHECK (char_length(comment) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reviews_one_per_order UNIQUE (order_id)
);

CREATE INDEX reviews_seller ON reviews (seller_id, created_at DESC, id DESC);
