/*
 * thumb.h — JPEG thumbnails of uploaded images, with libvips.
 *
 * Used by the projector (single-threaded, long-running) on image_attached events: it
 * downloads the uploaded object's bytes from S3 and calls thumb_make(). Only JPEG, PNG
 * and WebP are decoded; every other vips loader (SVG, PDF, GIF, TIFF, HEIF, magick...)
 * is refused by an allow-list and, as a second line, blocked process-wide.
 *
 * vips keeps a global error buffer and global settings: use this module from one thread.
 */
#ifndef MK_THUMB_H
#define MK_THUMB_H

#include <stddef.h>

#include "core/arena.h"

/* Largest max_side thumb_make accepts. */
#define THUMB_MAX_SIDE 4096
/* Images with more pixels than this are refused from their header, before decoding. */
#define THUMB_MAX_PIXELS 100000000LL

/*
 * Once per process, after fork/exec and before any thumb_make(): starts vips with its
 * operation cache off and one worker thread, so memory stays flat in a long-running
 * process, and blocks every vips loader but JPEG, PNG and WebP for the whole process
 * (any other vips user in the process is affected too). argv0 is argv[0] (may be NULL).
 * Calling it again is harmless. Returns MK_OK, or MK_EINTERNAL when vips cannot start or
 * lacks one of the three loaders: the caller should abort start-up.
 */
int thumb_global_init(const char *argv0);

struct thumb_result {
    int width, height;             /* the original, as displayed (after EXIF orientation) */
    int thumb_width, thumb_height; /* the thumbnail */
    void *data;                    /* the thumbnail, JPEG bytes, valid until the arena is reset */
    size_t len;
    const char *content_type;      /* "image/jpeg", static storage */
    const char *error;             /* on failure, why, in the arena (or static); NULL on MK_OK */
};

/*
 * Decode bytes[0..len) (JPEG, PNG or WebP), turn the image upright from its EXIF
 * orientation and shrink it to at most max_side pixels on its longer side (never
 * enlarged; 1 <= max_side <= THUMB_MAX_SIDE). Truncated or corrupt pixel data is an
 * error, not a half-grey thumbnail. The thumbnail is a baseline 8-bit JPEG, quality 80,
 * without metadata (no EXIF, no ICC profile): sRGB (images with an embedded profile or
 * in CMYK are converted), or greyscale for a greyscale original; transparency is
 * flattened onto white.
 *
 * bytes is only read, and not kept after the call. *out is always written: on success
 * out->data lives in the arena (freed by arena_reset); on failure out->error says why
 * (the text of vips's error, when there is one) and vips's error buffer is cleared.
 *
 * Returns MK_OK;
 *   MK_EVALIDATION when the bytes are not a decodable image of an allowed type (empty,
 *     text, truncated, corrupt, another format) or have more than THUMB_MAX_PIXELS pixels:
 *     retrying the same bytes cannot succeed;
 *   MK_EINTERNAL when a good image could not be encoded, thumb_global_init() was not
 *     called, or the arguments break the contract above (a caller bug).
 */
int thumb_make(arena_t *a, const void *bytes, size_t len, int max_side, struct thumb_result *out);

#endif
