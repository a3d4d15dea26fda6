-- Thumbnails and bucket deletions happen off the projector's critical path (issue 19): a media
-- thread in every projector process (src/projector/media.c) claims work here with a short
-- transaction, does the slow part (S3, libvips) with no transaction open, and records the
-- outcome in another short one. A claim that runs out (a crash, S3 down) is taken again.

-- A pending image being worked on carries the end of its claim.
ALTER TABLE listing_images ADD COLUMN claimed_until timestamptz;
CREATE INDEX listing_images_pending ON listing_images (created_at) WHERE status = 'pending';

-- Objects to delete from the bucket (removed or rejected images, orphaned thumbnails), queued
-- by the projector when it applies the event, deleted by the media thread.
CREATE TABLE media_deletions (
    key        text        PRIMARY KEY,
    not_before timestamptz NOT NULL DEFAULT now(),
    attempts   integer     NOT NULL DEFAULT 0
);
CREATE INDEX media_deletions_due ON media_deletions (not_before);
