-- Views (issue 13): unique viewers per listing and UTC day. Counted in Redis (a HyperLogLog
-- per listing-day, query/views.c); the active projector's fold job (projector/views.c) copies
-- each day's count here at most every views_fold_ms and sets the read model's `views` to the
-- listing's sum. PostgreSQL keeps the totals when Redis loses its keys (HyperLogLogs expire
-- after three days) and lets a rebuilt read model get them back. No foreign key: a view of a
-- listing is a fact about traffic, and the fold never needs to wait on the listing's row.
CREATE TABLE listing_views (
    listing_id uuid    NOT NULL,
    day        date    NOT NULL,
    uniques    integer NOT NULL CHECK (uniques >= 0),
    PRIMARY KEY (listing_id, day)
);
