/*
 * fuzz_image — the bytes of an uploaded image as the projector hands them to
 * thumb_make() (media/thumb.c): the allow-list check on the bytes (the loader vips would
 * pick must be JPEG, PNG or WebP), the header-only load and its pixel bound, before any
 * pixel is decoded; then the decode and the thumbnail of what passes.
 * Input: the object's bytes.
 *
 * libvips itself is not instrumented (a Debian shared library), so coverage guidance
 * sees only our code: this driver finds crashes and broken promises on the way in and
 * out of vips, it does not explore vips's decoders.
 *
 * Promises checked:
 *   - only bytes that start like a JPEG (SOI, FF D8), a PNG (89 'PNG' 0D 0A 1A 0A) or a
 *     WebP (RIFF....WEBP) ever give a thumbnail; anything refused is MK_EVALIDATION
 *     with a reason (MK_EINTERNAL only for an image of an allowed type that passed
 *     the header checks and then failed to encode);
 *   - a thumbnail is a JPEG (FF D8 ... FF D9) of at most max_side pixels a side, of an
 *     original of at most THUMB_MAX_PIXELS pixels.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "media/thumb.h"

#define FUZZ_NAME "image"
#define FUZZ_MUTATION_BUDGET 400 /* vips decodes every run: about 20 ms under ASan */
#include "fuzz_main.h"

static arena_t *arena;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    arena = arena_create(16384);
    log_init("fuzz", "error");
    setenv("VIPS_WARNING", "0", 1); /* corrupt input is the point: no warning per run */
    if (thumb_global_init(argv != NULL && *argv != NULL ? (*argv)[0] : NULL) != MK_OK) {
        fprintf(stderr, "fuzz_image: vips does not start\n");
        abort();
    }
    return 0;
}

static bool
magic_ok(const uint8_t *d, size_t n)
{
    return (n >= 2 && d[0] == 0xFF && d[1] == 0xD8) ||   /* SOI: libjpeg skips junk before a marker */
           (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) ||
           (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct thumb_result out;
    int rc = thumb_make(arena, data, size, 64, &out);
    if (rc == MK_OK) {
        if (!magic_ok(data, size)) {
            fprintf(stderr, "fuzz_image: decoded, %zu bytes starting", size);
            for (size_t i = 0; i < size && i < 16; i++) {
                fprintf(stderr, " %02x", data[i]);
            }
            fprintf(stderr, "\n");
        }
        FUZZ_ASSERT(magic_ok(data, size), "only JPEG, PNG and WebP bytes are decoded");
        FUZZ_ASSERT(out.thumb_width >= 1 && out.thumb_width <= 64 && out.thumb_height >= 1 && out.thumb_height <= 64,
                    "the thumbnail fits in max_side");
        FUZZ_ASSERT((long long)out.width * out.height <= THUMB_MAX_PIXELS && out.width >= 1 && out.height >= 1,
                    "the original has at most THUMB_MAX_PIXELS pixels");
        const uint8_t *j = out.data;
        FUZZ_ASSERT(out.len >= 4 && j[0] == 0xFF && j[1] == 0xD8 && j[out.len - 2] == 0xFF && j[out.len - 1] == 0xD9,
                    "the thumbnail is a JPEG");
        FUZZ_ASSERT(strcmp(out.content_type, "image/jpeg") == 0 && out.error == NULL, "image/jpeg, no error");
    } else {
        FUZZ_ASSERT(out.error != NULL && out.data == NULL, "a refusal says why");
        FUZZ_ASSERT(rc == MK_EVALIDATION || (rc == MK_EINTERNAL && magic_ok(data, size)),
                    "bytes alone are a validation error");
    }
    arena_reset(arena);
    return 0;
}
