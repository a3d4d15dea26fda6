/* Unit tests of media/thumb: images are made in memory with vips itself, no services. */
#include <criterion/criterion.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

#include "core/arena.h"
#include "core/errors.h"
#include "media/thumb.h"

static arena_t *A;

static void
setup(void)
{
    A = arena_create(4096);
    cr_assert_eq(thumb_global_init("test_thumb"), MK_OK);
}

static void
teardown(void)
{
    arena_destroy(A);
}

TestSuite(thumb, .init = setup, .fini = teardown);

/* ---- helpers ---- */

enum fmt { PNG, JPEG, WEBP, TIFF };

/* A w x h sRGB image of noise (so that encoders have something to chew on); bands 1 (grey),
 * 3 (RGB) or 4 (RGBA, alpha 0 everywhere). The caller unrefs it. */
static VipsImage *
noise_image(int w, int h, int bands)
{
    VipsImage *n = NULL, *u = NULL, *rgb = NULL, *alpha = NULL, *out = NULL;
    cr_assert_eq(vips_gaussnoise(&n, w, h, "mean", 128.0, "sigma", 40.0, "seed", 42, NULL), 0);
    cr_assert_eq(vips_cast_uchar(n, &u, NULL), 0);
    if (bands == 1) {
        cr_assert_eq(vips_copy(u, &out, "interpretation", VIPS_INTERPRETATION_B_W, NULL), 0);
    } else {
        VipsImage *three[3] = {u, u, u};
        cr_assert_eq(vips_bandjoin(three, &rgb, 3, NULL), 0);
        if (bands == 4) {
            VipsImage *t = NULL;
            cr_assert_eq(vips_black(&alpha, w, h, NULL), 0);
            cr_assert_eq(vips_bandjoin2(rgb, alpha, &t, NULL), 0);
            cr_assert_eq(vips_cast_uchar(t, &out, NULL), 0);
            g_object_unref(t);
            g_object_unref(alpha);
            VipsImage *s = NULL;
            cr_assert_eq(vips_copy(out, &s, "interpretation", VIPS_INTERPRETATION_sRGB, NULL), 0);
            g_object_unref(out);
            out = s;
        } else {
            cr_assert_eq(vips_copy(rgb, &out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL), 0);
        }
        g_object_unref(rgb);
    }
    g_object_unref(u);
    g_object_unref(n);
    return out;
}

/* Encode im; the bytes live until the arena is reset. */
static void *
encode(VipsImage *im, enum fmt f, size_t *len)
{
    void *buf = NULL;
    int rc = -1;
    switch (f) {
    case PNG:
        rc = vips_pngsave_buffer(im, &buf, len, NULL);
        break;
    case JPEG:
        rc = vips_jpegsave_buffer(im, &buf, len, NULL);
        break;
    case WEBP:
        rc = vips_webpsave_buffer(im, &buf, len, NULL);
        break;
    case TIFF:
        rc = vips_tiffsave_buffer(im, &buf, len, NULL);
        break;
    }
    cr_assert_eq(rc, 0, "encoding failed: %s", vips_error_buffer());
    arena_cleanup_add(A, g_free, buf);
    return buf;
}

static void *
noise_bytes(int w, int h, int bands, enum fmt f, size_t *len)
{
    VipsImage *im = noise_image(w, h, bands);
    void *buf = encode(im, f, len);
    g_object_unref(im);
    return buf;
}

/* The thumbnail is a JPEG of the size it claims, and its pixels decode. Returns the
 * average of its pixels. */
static double
assert_jpeg(const struct thumb_result *r)
{
    cr_assert_not_null(r->data);
    cr_assert_gt(r->len, 0);
    cr_assert_str_eq(r->content_type, "image/jpeg");
    cr_assert_str_eq(vips_foreign_find_load_buffer(r->data, r->len), "VipsForeignLoadJpegBuffer");
    VipsImage *im = vips_image_new_from_buffer(r->data, r->len, "", "fail_on", VIPS_FAIL_ON_WARNING, NULL);
    cr_assert_not_null(im, "%s", vips_error_buffer());
    cr_assert_eq(vips_image_get_width(im), r->thumb_width);
    cr_assert_eq(vips_image_get_height(im), r->thumb_height);
    cr_assert_eq(vips_image_get_format(im), VIPS_FORMAT_UCHAR);
    cr_assert_eq(vips_image_get_typeof(im, VIPS_META_EXIF_NAME), 0, "metadata is stripped");
    double avg = -1;
    cr_assert_eq(vips_avg(im, &avg, NULL), 0, "%s", vips_error_buffer());
    g_object_unref(im);
    return avg;
}

static void
assert_thumb(const void *bytes, size_t len, int max_side, int w, int h, int tw, int th)
{
    struct thumb_result r;
    int rc = thumb_make(A, bytes, len, max_side, &r);
    cr_assert_eq(rc, MK_OK, "rc %d: %s", rc, r.error ? r.error : "");
    cr_assert_null(r.error);
    cr_assert_eq(r.width, w);
    cr_assert_eq(r.height, h);
    cr_assert_eq(r.thumb_width, tw, "thumb width %d, expected %d", r.thumb_width, tw);
    cr_assert_eq(r.thumb_height, th, "thumb height %d, expected %d", r.thumb_height, th);
    assert_jpeg(&r);
}

static void
assert_refused(const void *bytes, size_t len)
{
    struct thumb_result r;
    int rc = thumb_make(A, bytes, len, 320, &r);
    cr_assert_eq(rc, MK_EVALIDATION, "rc %d", rc);
    cr_assert_not_null(r.error);
    cr_assert_null(r.data);
    cr_assert_eq(vips_error_buffer()[0], '\0', "vips's error buffer is cleared");
}

/* ---- sizes ---- */

Test(thumb, png_800x600_gives_320x240)
{
    size_t len;
    void *png = noise_bytes(800, 600, 3, PNG, &len);
    assert_thumb(png, len, 320, 800, 600, 320, 240);
}

Test(thumb, small_image_is_not_enlarged)
{
    size_t len;
    void *png = noise_bytes(200, 100, 3, PNG, &len);
    assert_thumb(png, len, 320, 200, 100, 200, 100);
}

Test(thumb, portrait_300x1200_gives_80x320)
{
    size_t len;
    void *png = noise_bytes(300, 1200, 3, PNG, &len);
    assert_thumb(png, len, 320, 300, 1200, 80, 320);
}

Test(thumb, jpeg_input)
{
    size_t len;
    void *jpeg = noise_bytes(1024, 768, 3, JPEG, &len);
    assert_thumb(jpeg, len, 320, 1024, 768, 320, 240);
}

Test(thumb, webp_input)
{
    size_t len;
    void *webp = noise_bytes(640, 480, 3, WEBP, &len);
    assert_thumb(webp, len, 320, 640, 480, 320, 240);
}

Test(thumb, grey_and_16_bit_png)
{
    size_t len;
    void *grey = noise_bytes(400, 300, 1, PNG, &len);
    assert_thumb(grey, len, 100, 400, 300, 100, 75);

    VipsImage *im = noise_image(400, 300, 3), *wide = NULL, *rgb16 = NULL;
    cr_assert_eq(vips_cast_ushort(im, &wide, NULL), 0);
    cr_assert_eq(vips_copy(wide, &rgb16, "interpretation", VIPS_INTERPRETATION_RGB16, NULL), 0);
    void *png16 = encode(rgb16, PNG, &len);
    g_object_unref(rgb16);
    g_object_unref(wide);
    g_object_unref(im);
    assert_thumb(png16, len, 100, 400, 300, 100, 75);
}

Test(thumb, exif_orientation_is_honoured)
{
    /* Stored 200x100, orientation 6 (rotate 90° clockwise to display): 100x200 upright. */
    VipsImage *im = noise_image(200, 100, 3), *tagged = NULL;
    cr_assert_eq(vips_copy(im, &tagged, NULL), 0);
    vips_image_set_int(tagged, VIPS_META_ORIENTATION, 6);
    size_t len;
    void *jpeg = encode(tagged, JPEG, &len);
    g_object_unref(tagged);
    g_object_unref(im);
    assert_thumb(jpeg, len, 320, 100, 200, 100, 200);
    assert_thumb(jpeg, len, 50, 100, 200, 25, 50);
}

Test(thumb, transparency_is_flattened_onto_white)
{
    size_t len;
    void *png = noise_bytes(300, 300, 4, PNG, &len); /* alpha 0 everywhere */
    struct thumb_result r;
    cr_assert_eq(thumb_make(A, png, len, 64, &r), MK_OK);
    double avg = assert_jpeg(&r);
    cr_assert_gt(avg, 250.0, "average %.1f: transparent pixels should come out white", avg);
}

/* The RGB pixel at (x, y) of a JPEG thumbnail, 0..255. */
static void
thumb_pixel(const struct thumb_result *r, int x, int y, double rgb[3])
{
    VipsImage *im = vips_image_new_from_buffer(r->data, r->len, "", NULL);
    cr_assert_not_null(im);
    cr_assert_eq(vips_image_get_bands(im), 3);
    double *v = NULL;
    int n = 0;
    cr_assert_eq(vips_getpoint(im, &v, &n, x, y, NULL), 0);
    memcpy(rgb, v, 3 * sizeof(double));
    g_free(v);
    g_object_unref(im);
}

Test(thumb, embedded_colour_profile_is_converted_to_srgb)
{
    /* Pure sRGB red, re-encoded in Display P3 with that profile embedded, as phones do.
     * The thumbnail has no profile, so its pixels must be sRGB again. */
    VipsImage *black = NULL, *red = NULL, *srgb = NULL, *p3 = NULL, *p3u = NULL;
    double gain[3] = {1, 1, 1}, offset[3] = {255, 0, 0};
    cr_assert_eq(vips_black(&black, 200, 100, "bands", 3, NULL), 0);
    cr_assert_eq(vips_linear(black, &red, gain, offset, 3, "uchar", TRUE, NULL), 0);
    cr_assert_eq(vips_copy(red, &srgb, "interpretation", VIPS_INTERPRETATION_sRGB, NULL), 0);
    cr_assert_eq(vips_icc_transform(srgb, &p3, "p3", "input_profile", "srgb", "depth", 8, NULL), 0, "%s",
                 vips_error_buffer());
    cr_assert_eq(vips_cast_uchar(p3, &p3u, NULL), 0);
    cr_assert_neq(vips_image_get_typeof(p3u, VIPS_META_ICC_NAME), 0, "the P3 profile is attached");
    size_t len;
    void *jpeg = encode(p3u, JPEG, &len);
    g_object_unref(p3u);
    g_object_unref(p3);
    g_object_unref(srgb);
    g_object_unref(red);
    g_object_unref(black);

    struct thumb_result r;
    cr_assert_eq(thumb_make(A, jpeg, len, 64, &r), MK_OK);
    assert_jpeg(&r);
    double px[3];
    thumb_pixel(&r, 10, 10, px);
    cr_assert(px[0] >= 245 && px[1] <= 15 && px[2] <= 15, "sRGB red expected, got %.0f %.0f %.0f", px[0], px[1], px[2]);
}

/* ---- refusals ---- */

Test(thumb, text_and_empty_input_are_refused)
{
    const char *text = "hello, not an image";
    assert_refused(text, strlen(text));
    assert_refused("", 0);
    assert_refused(NULL, 0);
}

Test(thumb, truncated_png_and_jpeg_are_refused)
{
    size_t len;
    unsigned char *png = noise_bytes(400, 300, 3, PNG, &len);
    assert_refused(png, len / 2);
    assert_refused(png, 40); /* signature and IHDR only */
    unsigned char *jpeg = noise_bytes(400, 300, 3, JPEG, &len);
    assert_refused(jpeg, len / 2);
}

Test(thumb, svg_is_refused_although_vips_could_load_it)
{
    const char *svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"100\">"
                      "<rect width=\"100\" height=\"100\" fill=\"red\"/></svg>";
    /* vips recognises it: only the allow-list stands in the way. */
    const char *loader = vips_foreign_find_load_buffer(svg, strlen(svg));
    cr_assert_not_null(loader, "this vips build has no SVG loader: the test proves less");
    cr_assert_str_eq(loader, "VipsForeignLoadSvgBuffer");
    assert_refused(svg, strlen(svg));
}

Test(thumb, gif_and_tiff_are_refused)
{
    /* A 1x1 GIF89a written out, so the check needs no GIF encoder in this vips build. */
    static const unsigned char gif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
                                        0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
                                        0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
                                        0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};
    size_t len;
    cr_assert_str_eq(vips_foreign_find_load_buffer(gif, sizeof(gif)), "VipsForeignLoadNsgifBuffer");
    assert_refused(gif, sizeof(gif));
    void *tiff = noise_bytes(100, 100, 3, TIFF, &len);
    cr_assert_str_eq(vips_foreign_find_load_buffer(tiff, len), "VipsForeignLoadTiffBuffer");
    assert_refused(tiff, len);
}

Test(thumb, other_loaders_are_blocked_process_wide)
{
    const char *svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>";
    VipsImage *im = vips_image_new_from_buffer(svg, strlen(svg), "", NULL);
    cr_assert_null(im, "svgload should be blocked by thumb_global_init");
    vips_error_clear();
}

Test(thumb, absurd_dimensions_are_refused_from_the_header)
{
    /* A 16x16 JPEG whose frame header is patched to claim 20000x20000 (400 megapixels;
     * libjpeg itself stops at 65500 pixels a side). */
    size_t len;
    unsigned char *jpeg = noise_bytes(16, 16, 3, JPEG, &len);
    size_t i = 2;
    bool patched = false;
    while (i + 9 < len && jpeg[i] == 0xFF) {
        unsigned marker = jpeg[i + 1];
        size_t seglen = ((size_t)jpeg[i + 2] << 8) | jpeg[i + 3];
        if (marker == 0xC0 || marker == 0xC2) { /* SOF0/SOF2: FF Cx len(2) precision(1) h(2) w(2) */
            jpeg[i + 5] = jpeg[i + 7] = 20000 >> 8;
            jpeg[i + 6] = jpeg[i + 8] = 20000 & 0xFF;
            patched = true;
            break;
        }
        i += 2 + seglen;
    }
    cr_assert(patched, "no SOF marker found");
    struct thumb_result r;
    cr_assert_eq(thumb_make(A, jpeg, len, 320, &r), MK_EVALIDATION);
    cr_assert_not_null(strstr(r.error, "20000x20000"), "%s", r.error);
}

Test(thumb, bad_arguments_are_a_caller_bug)
{
    size_t len;
    void *png = noise_bytes(100, 100, 3, PNG, &len);
    struct thumb_result r;
    cr_assert_eq(thumb_make(A, png, len, 0, &r), MK_EINTERNAL);
    cr_assert_eq(thumb_make(A, png, len, THUMB_MAX_SIDE + 1, &r), MK_EINTERNAL);
    cr_assert_eq(thumb_make(A, NULL, 10, 320, &r), MK_EINTERNAL);
}

/* Hostile input: random byte mutations of valid images must give MK_OK or MK_EVALIDATION,
 * never a crash (Criterion runs each test in its own process and reports a crash). */
Test(thumb, mutated_images_never_crash)
{
    enum fmt fmts[] = {PNG, JPEG, WEBP};
    uint32_t seed = 12345;
    int ok = 0, refused = 0;
    for (size_t f = 0; f < 3; f++) {
        size_t len;
        unsigned char *orig = noise_bytes(64, 48, 3, fmts[f], &len);
        unsigned char *copy = arena_alloc(A, len);
        for (int round = 0; round < 300; round++) {
            memcpy(copy, orig, len);
            int flips = 1 + round % 8;
            for (int k = 0; k < flips; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = (seed >> 8) % len;
                seed = seed * 1103515245u + 12345u;
                copy[at] = (unsigned char)(seed >> 16);
            }
            seed = seed * 1103515245u + 12345u;
            size_t n = round % 5 == 0 ? (seed >> 8) % len : len; /* sometimes truncated too */
            struct thumb_result r;
            int rc = thumb_make(A, copy, n, 32, &r);
            cr_assert(rc == MK_OK || rc == MK_EVALIDATION, "format %zu round %d: rc %d (%s)", f, round, rc,
                      r.error ? r.error : "");
            if (rc == MK_OK) {
                assert_jpeg(&r);
                ok++;
            } else {
                refused++;
            }
        }
    }
    cr_log_info("mutations: %d thumbnails, %d refused", ok, refused);
}

/* ---- memory ---- */

static long
rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert_not_null(f);
    long size = 0, resident = 0;
    cr_assert_eq(fscanf(f, "%ld %ld", &size, &resident), 2);
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A leak check, not a timing test: 200 thumbnails of a 1000x1000 image in one process
 * must not grow the resident set by more than 30 MB. */
Test(thumb, memory_stays_flat_over_200_thumbnails)
{
    size_t png_len, jpeg_len;
    void *png = noise_bytes(1000, 1000, 3, PNG, &png_len);
    void *jpeg = noise_bytes(1000, 1000, 3, JPEG, &jpeg_len);
    /* Inputs live outside the arena, which is reset every round. */
    void *png_in = malloc(png_len), *jpeg_in = malloc(jpeg_len);
    memcpy(png_in, png, png_len);
    memcpy(jpeg_in, jpeg, jpeg_len);
    arena_reset(A);

    long before = 0;
    for (int i = 0; i < 200; i++) {
        if (i == 10) {
            before = rss_kib(); /* after warm-up: libraries, thread pool, first buffers */
        }
        struct thumb_result r;
        int rc = thumb_make(A, i % 2 ? jpeg_in : png_in, i % 2 ? jpeg_len : png_len, 320, &r);
        cr_assert_eq(rc, MK_OK, "round %d: %s", i, r.error ? r.error : "");
        cr_assert_eq(r.thumb_width, 320);
        arena_reset(A);
    }
    long after = rss_kib();
    free(png_in);
    free(jpeg_in);
    cr_log_info("RSS after 10 rounds %ld KiB, after 200 rounds %ld KiB (%+ld KiB)", before, after, after - before);
#ifdef __SANITIZE_ADDRESS__
    /* AddressSanitizer's quarantine keeps freed memory resident, so RSS says nothing here:
     * ask LeakSanitizer instead whether anything of the 200 rounds is unreachable now. */
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "LeakSanitizer found leaks (see above)");
#else
    cr_assert_lt(after - before, 30 * 1024, "RSS grew by %ld KiB", after - before);
#endif
}
