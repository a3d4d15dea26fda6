/*
 * The escaping of the server-rendered listing page (core/html.c, query/listing_page.c):
 * hostile titles, descriptions, names and attribute values must come out as text in every
 * context — element text, attribute values, and the JSON-LD inside <script>.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <json-c/json.h>

#include "core/html.h"
#include "query/listing_page.h"

static arena_t *a;

static void
setup(void)
{
    a = arena_create(1 << 16);
}

static void
teardown(void)
{
    arena_destroy(a);
}

TestSuite(html, .init = setup, .fini = teardown);

Test(html, escape_covers_text_and_both_attribute_quotes)
{
    cr_assert_str_eq(html_escape(a, "<script>alert(\"x\")</script> & 'y'"),
                     "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;");
    cr_assert_str_eq(html_escape(a, "plain ünïcode – ok"), "plain ünïcode – ok");
    cr_assert_str_eq(html_escape(a, "a\x01" "b\x7f" "c\td\ne"), "abc\td\ne");
    cr_assert_str_eq(html_escape(a, NULL), "");
    cr_assert_str_eq(html_escape(a, "&amp;"), "&amp;amp;");
}

Test(html, json_for_script_cannot_close_the_element)
{
    const char *in = "{\"name\":\"</script><script>alert(1)</script><!-- & \xe2\x80\xa8 \xe2\x80\xa9\"}";
    char *out = html_json_script(a, in);
    cr_assert_null(strchr(out, '<'));
    cr_assert_null(strchr(out, '>'));
    cr_assert_null(strchr(out, '&'));
    cr_assert_null(strstr(out, "\xe2\x80\xa8"));
    cr_assert_null(strstr(out, "\xe2\x80\xa9"));
    cr_assert_str_eq(out, "{\"name\":\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"
                          "\\u003c!-- \\u0026 \\u2028 \\u2029\"}");
    /* the same JSON value */
    json_object *back = json_tokener_parse(out);
    cr_assert_not_null(back);
    json_object *orig = json_tokener_parse(in);
    cr_assert(json_object_equal(back, orig));
    json_object_put(back);
    json_object_put(orig);
    cr_assert_str_eq(html_json_script(a, NULL), "null");
}

Test(html, truncate_cuts_at_code_points)
{
    cr_assert_str_eq(html_truncate(a, "äöü", 2), "äö…");
    cr_assert_str_eq(html_truncate(a, "äöü", 3), "äöü");
    cr_assert_str_eq(html_truncate(a, "", 3), "");
}

Test(html, csp_hash_is_sha256_base64)
{
    /* echo -n 'a{}' | openssl dgst -sha256 -binary | base64 */
    cr_assert_str_eq(html_csp_hash(a, "a{}"), "'sha256-X1RutGBrXCt9KkSaXMK7tHftWiRscFHOhxsS8tv8hBk='");
}

static const char HOSTILE[] =
    "{\"id\":\"0b0c6f5e-8a1e-4c56-9f3a-2f4f2b7f1a11\",\"seller_id\":\"7f1c\",\"title\":\"</title><script>alert('t')</script>\","
    "\"description\":\"\\\"><img src=x onerror=alert(1)> </script><script>alert(2)</script> \\u2028 & more\","
    "\"category\":\"phones\",\"condition\":\"good\",\"price_minor\":1999,\"currency\":\"EUR\","
    "\"location\":{\"city\":\"<b>Berlin</b>\",\"country\":\"DE\",\"lat\":52.5,\"lon\":13.4},"
    "\"attributes\":{\"brand\":\"\\\" onmouseover=\\\"x\",\"storage_gb\":128},"
    "\"images\":[{\"id\":\"i\",\"url\":\"https://localhost:8443/media/a.jpg?\\\"><x>\",\"thumb_url\":null,"
    "\"width\":640,\"height\":480}],"
    "\"status\":\"active\",\"version\":3,\"seller\":{\"id\":\"7f1c\",\"display_name\":\"<Eve & 'Mallory'>\","
    "\"rating\":{\"average\":4.5,\"count\":2}}}";

/* The text between the first occurrence of open and the next close. */
static char *
between(const char *s, const char *open, const char *close)
{
    const char *b = strstr(s, open);
    cr_assert_not_null(b, "no %s", open);
    b += strlen(open);
    const char *e = strstr(b, close);
    cr_assert_not_null(e, "no %s after %s", close, open);
    return arena_strndup(a, b, (size_t)(e - b));
}

Test(html, hostile_listing_renders_as_text_everywhere)
{
    json_object *l = json_tokener_parse(HOSTILE);
    cr_assert_not_null(l);
    struct page p;
    listing_page_render(a, l, "https://market.example", "https://cdn.example", &p);
    cr_assert_eq(p.status, 200);
    /* exactly the page's own elements: one script (JSON-LD), one style, one img */
    size_t scripts = 0;
    for (const char *s = p.html; (s = strstr(s, "<script")) != NULL; s++) {
        scripts++;
    }
    cr_assert_eq(scripts, 1, "%s", p.html);
    cr_assert_null(strstr(p.html, "<img src=x"));
    cr_assert_null(strstr(p.html, "<b>"));
    cr_assert_null(strstr(p.html, "onerror=alert(1)>"));
    cr_assert_null(strstr(p.html, "\" onmouseover"));
    cr_assert_null(strstr(p.html, "<x>"));
    cr_assert(strstr(p.html, "&lt;/title&gt;&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;") != NULL);
    cr_assert(strstr(p.html, "&lt;Eve &amp; &#39;Mallory&#39;&gt;") != NULL);
    /* the JSON-LD: no markup, and it parses back to the hostile values */
    char *ld = between(p.html, "<script type=\"application/ld+json\">", "</script>");
    cr_assert_null(strchr(ld, '<'));
    cr_assert_null(strstr(ld, "\xe2\x80\xa8"));
    json_object *j = json_tokener_parse(ld);
    cr_assert_not_null(j, "%s", ld);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(j, "name")), "</title><script>alert('t')</script>");
    json_object *offer = json_object_object_get(j, "offers");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(offer, "price")), "19.99");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(offer, "priceCurrency")), "EUR");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(offer, "availability")),
                     "https://schema.org/InStock");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(j, "url")),
                     "https://market.example/l/0b0c6f5e-8a1e-4c56-9f3a-2f4f2b7f1a11");
    json_object_put(j);
    /* canonical and og:url on the public origin */
    cr_assert(strstr(p.html, "<link rel=\"canonical\" href=\"https://market.example/l/0b0c6f5e-8a1e-4c56-9f3a-2f4f2b7f1a11\">"));
    cr_assert(strstr(p.html, "<meta property=\"og:url\" content=\"https://market.example/l/0b0c6f5e-8a1e-4c56-9f3a-2f4f2b7f1a11\">"));
    cr_assert(strstr(p.html, "<title>&lt;/title&gt;"));
    cr_assert(strstr(p.html, "rated <span class=\"rating\">4.5</span> out of 5 (2 reviews)"));
    /* the CSP: the style's hash, the media origin, no script */
    cr_assert(strstr(p.csp, "style-src 'sha256-") != NULL, "%s", p.csp);
    cr_assert(strstr(p.csp, "img-src 'self' https://cdn.example;") != NULL, "%s", p.csp);
    cr_assert_null(strstr(p.csp, "script-src"));
    char *style = between(p.html, "<style>", "</style>");
    cr_assert(strstr(p.csp, html_csp_hash(a, style)) != NULL);
    json_object_put(l);
}

Test(html, states_and_prices)
{
    json_object *l = json_tokener_parse(HOSTILE);
    struct page p;
    json_object_object_add(l, "status", json_object_new_string("sold"));
    json_object_object_add(l, "currency", json_object_new_string("JPY"));
    json_object_object_add(l, "price_minor", json_object_new_int64(1500));
    listing_page_render(a, l, "https://m.example", NULL, &p);
    cr_assert_eq(p.status, 200);
    cr_assert(strstr(p.html, "This item is sold.") != NULL);
    cr_assert(strstr(p.html, "\"price\":\"1500\"") != NULL);
    cr_assert(strstr(p.html, "https://schema.org/SoldOut") != NULL);
    json_object_object_add(l, "status", json_object_new_string("reserved"));
    json_object_object_add(l, "currency", json_object_new_string("EUR"));
    json_object_object_add(l, "price_minor", json_object_new_int64(5));
    listing_page_render(a, l, "https://m.example", NULL, &p);
    cr_assert(strstr(p.html, "This item is reserved for a buyer.") != NULL);
    cr_assert(strstr(p.html, "\"price\":\"0.05\"") != NULL);
    for (int i = 0; i < 2; i++) {
        json_object_object_add(l, "status", json_object_new_string(i == 0 ? "draft" : "deleted"));
        listing_page_render(a, l, "https://m.example", NULL, &p);
        cr_assert_eq(p.status, 404);
        cr_assert_null(strstr(p.html, "alert"));
    }
    json_object_put(l);
}

Test(html, origin_of_urls)
{
    cr_assert_str_eq(listing_page_origin_of(a, "https://localhost:8443/media"), "https://localhost:8443");
    cr_assert_str_eq(listing_page_origin_of(a, "http://cdn.example"), "http://cdn.example");
    cr_assert_null(listing_page_origin_of(a, "javascript:alert(1)"));
    cr_assert_null(listing_page_origin_of(a, "https:///x"));
    cr_assert_null(listing_page_origin_of(a, NULL));
}
