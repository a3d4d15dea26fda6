#include "media/thumb.h"

#include <stdbool.h>
#include <string.h>
#include <vips/vips.h>

#include "core/errors.h"

/* The loaders allowed to see outside bytes: abstract vips classes, each the parent of
 * the file, buffer and source variants of one format. */
static const char *const thumb__loaders[] = {"VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp"};
#define THUMB__NLOADERS (sizeof(thumb__loaders) / sizeof(thumb__loaders[0]))

/* Set once by thumb_global_init(), then only read. */
static bool thumb__ready;

int
thumb_global_init(const char *argv0)
{
    if (thumb__ready) {
        return MK_OK;
    }
    /* VIPS_INIT also checks that the headers we were built with match the library. */
    if (VIPS_INIT(argv0 != NULL ? argv0 : "marketd") != 0) {
        vips_error_clear();
        return MK_EINTERNAL;
    }
    for (size_t i = 0; i < THUMB__NLOADERS; i++) {
        if (g_type_from_name(thumb__loaders[i]) == 0) {
            return MK_EINTERNAL;
        }
    }
    /* No operation cache: every image is seen once, and cached operations would hold
     * decoded pixels and buffers between events. One worker thread: the projector does
     * one image at a time, and fewer threads mean fewer per-thread buffers. */
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_concurrency_set(1);
    /* Defence in depth behind the allow-list of thumb_make(): vips_thumbnail_buffer()
     * picks its loader again from the bytes, so block every loader but ours. */
    vips_operation_block_set("VipsForeignLoad", TRUE);
    for (size_t i = 0; i < THUMB__NLOADERS; i++) {
        vips_operation_block_set(thumb__loaders[i], FALSE);
    }
    thumb__ready = true;
    return MK_OK;
}

/* True when the loader vips would choose for these bytes is on the allow-list. */
static bool
thumb__loader_allowed(const void *bytes, size_t len)
{
    const char *name = vips_foreign_find_load_buffer(bytes, len);
    if (name == NULL) {
        return false;
    }
    GType type = g_type_from_name(name);
    for (size_t i = 0; i < THUMB__NLOADERS; i++) {
        if (type != 0 && g_type_is_a(type, g_type_from_name(thumb__loaders[i]))) {
            return true;
        }
    }
    return false;
}

/* Why vips failed, copied into the arena, then vips's error buffer cleared. */
static const char *
thumb__vips_error(arena_t *a, const char *what)
{
    const char *text = vips_error_buffer();
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) {
        n--;
    }
    if (n > 300) {
        n = 300;
    }
    const char *msg = n > 0 ? arena_sprintf(a, "%s: %.*s", what, (int)n, text) : what;
    vips_error_clear();
    return msg;
}

int
thumb_make(arena_t *a, const void *bytes, size_t len, int max_side, struct thumb_result *out)
{
    VipsImage *header = NULL, *thumb = NULL, *decoded = NULL, *flat = NULL;
    VipsArrayDouble *white = NULL;
    void *jpeg = NULL;
    size_t jpeg_len = 0;
    int rc = MK_EVALIDATION;

    memset(out, 0, sizeof(*out));
    if (!thumb__ready) {
        out->error = "thumb_global_init was not called";
        return MK_EINTERNAL;
    }
    if (a == NULL || (bytes == NULL && len > 0) || max_side < 1 || max_side > THUMB_MAX_SIDE) {
        out->error = "bad arguments";
        return MK_EINTERNAL;
    }
    if (len == 0) {
        out->error = "empty";
        return MK_EVALIDATION;
    }
    if (!thumb__loader_allowed(bytes, len)) {
        vips_error_clear();
        out->error = "not a JPEG, PNG or WebP image";
        return MK_EVALIDATION;
    }

    /* Header only: a lazy load reads the dimensions and orientation, not the pixels. */
    header = vips_image_new_from_buffer(bytes, len, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR,
                                        NULL);
    if (header == NULL) {
        out->error = thumb__vips_error(a, "unreadable header");
        goto cleanup;
    }
    long long w = vips_image_get_width(header), h = vips_image_get_height(header);
    if (w < 1 || h < 1 || w * h > THUMB_MAX_PIXELS) {
        out->error = arena_sprintf(a, "%lldx%lld is more than %lld pixels", w, h, THUMB_MAX_PIXELS);
        goto cleanup;
    }
    bool swap = vips_image_get_orientation_swap(header);
    out->width = (int)(swap ? h : w);
    out->height = (int)(swap ? w : h);

    /* Shrink-on-load where the format allows it, autorotate, never enlarge. A box of
     * max_side x max_side bounds the longer side. The same bytes pick the same loader.
     * fail_on goes in the loader's option string: vips 8.14 ignores the thumbnail's own
     * fail_on for buffers (libvips issue 5195), and would thumbnail half a file.
     * An image with an embedded colour profile (Display P3 from phones, say) is
     * converted to sRGB, since the profile is stripped on save; without one, vips
     * already leaves RGB, CMYK and greyscale as sRGB or greyscale. */
    int thumbed;
    if (vips_image_get_typeof(header, VIPS_META_ICC_NAME) != 0) {
        thumbed =
            vips_thumbnail_buffer((void *)bytes, len, &thumb, max_side, "height", max_side, "size", VIPS_SIZE_DOWN,
                                  "option_string", "fail_on=error", "export_profile", "srgb", NULL);
    } else {
        thumbed = vips_thumbnail_buffer((void *)bytes, len, &thumb, max_side, "height", max_side, "size",
                                        VIPS_SIZE_DOWN, "option_string", "fail_on=error", NULL);
    }
    if (thumbed != 0) {
        out->error = thumb__vips_error(a, "cannot decode");
        goto cleanup;
    }
    /* Run the pipeline here, into a buffer the size of the thumbnail, so that a corrupt
     * image fails now (bad input) and not inside the encoder (our failure). */
    decoded = vips_image_copy_memory(thumb);
    if (decoded == NULL) {
        out->error = thumb__vips_error(a, "cannot decode");
        goto cleanup;
    }

    rc = MK_EINTERNAL;
    VipsImage *final = decoded;
    if (vips_image_hasalpha(decoded)) {
        /* 16-bit images keep their range until the JPEG encoder casts them. */
        white = vips_array_double_newv(1, vips_image_get_format(decoded) == VIPS_FORMAT_USHORT ? 65535.0 : 255.0);
        if (vips_flatten(decoded, &flat, "background", white, NULL) != 0) {
            out->error = thumb__vips_error(a, "cannot flatten");
            goto cleanup;
        }
        final = flat;
    }
    if (vips_jpegsave_buffer(final, &jpeg, &jpeg_len, "Q", 80, "strip", TRUE, NULL) != 0) {
        out->error = thumb__vips_error(a, "cannot encode");
        goto cleanup;
    }
    arena_cleanup_add(a, g_free, jpeg);
    out->data = jpeg;
    out->len = jpeg_len;
    out->thumb_width = vips_image_get_width(final);
    out->thumb_height = vips_image_get_height(final);
    out->content_type = "image/jpeg";
    rc = MK_OK;

cleanup:
    /* Warnings of a tolerated image land in the error buffer too: leave it empty. */
    vips_error_clear();
    if (white != NULL) {
        vips_area_unref(VIPS_AREA(white));
    }
    if (flat != NULL) {
        g_object_unref(flat);
    }
    if (decoded != NULL) {
        g_object_unref(decoded);
    }
    if (thumb != NULL) {
        g_object_unref(thumb);
    }
    if (header != NULL) {
        g_object_unref(header);
    }
    return rc;
}
