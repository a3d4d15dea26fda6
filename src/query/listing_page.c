#include "query/listing_page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/html.h"

/* The page's only style, inline so a shared link costs one request; allowed by its hash. */
static const char STYLE[] =
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}"
    "header,main{max-width:56rem;margin:0 auto;padding:1rem}"
    "header a{font-weight:700;color:#0b57d0;text-decoration:none}"
    "a:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}"
    ".price{font-size:1.5rem;font-weight:700}"
    ".state{background:#fff4ce;border:1px solid #c9a400;padding:.5rem 1rem;border-radius:.5rem}"
    ".photos{display:flex;gap:.5rem;overflow-x:auto}"
    ".photos img{max-width:100%;height:auto;max-height:24rem;border-radius:.5rem}"
    ".desc{white-space:pre-line}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}"
    ".open{display:inline-block;margin-top:1rem;padding:.6rem 1rem;background:#0b57d0;color:#fff;"
    "border-radius:.5rem;text-decoration:none}";

struct out {
    arena_t *a;
    FILE *f;
};

/* Escaped element text or attribute value. */
static void
put_text(struct out *o, const char *s)
{
    fputs(html_escape(o->a, s), o->f);
}

static const char *
str(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                                             : NULL;
}

static json_object *
member(json_object *o, const char *k)
{
    json_object *v;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* Digits after the decimal point of an ISO 4217 currency (2 unless listed). */
static int
currency_exponent(const char *c)
{
    static const char *const ZERO[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
                                       "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF", NULL};
    static const char *const THREE[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", NULL};
    for (int i = 0; c != NULL && ZERO[i] != NULL; i++) {
        if (strcmp(c, ZERO[i]) == 0) {
            return 0;
        }
    }
    for (int i = 0; c != NULL && THREE[i] != NULL; i++) {
        if (strcmp(c, THREE[i]) == 0) {
            return 3;
        }
    }
    return 2;
}

/* "1999" minor units of EUR → "19.99" (schema.org's price: a plain decimal). */
static char *
decimal_price(arena_t *a, long long minor, const char *currency)
{
    int e = currency_exponent(currency);
    if (e == 0) {
        return arena_sprintf(a, "%lld", minor);
    }
    long long unit = e == 3 ? 1000 : 100;
    return arena_sprintf(a, "%lld.%0*lld", minor / unit, e, minor % unit);
}

char *
listing_page_origin_of(arena_t *a, const char *url)
{
    const char *p = url == NULL ? NULL
                    : strncmp(url, "https://", 8) == 0 ? url + 8
                    : strncmp(url, "http://", 7) == 0  ? url + 7
                                                       : NULL;
    if (p == NULL || *p == '\0' || *p == '/') {
        return NULL;
    }
    return arena_strndup(a, url, (size_t)(p - url) + strcspn(p, "/?#"));
}

static const char *
availability(const char *status)
{
    if (strcmp(status, "sold") == 0) {
        return "https://schema.org/SoldOut";
    }
    if (strcmp(status, "reserved") == 0) {
        return "https://schema.org/LimitedAvailability";
    }
    return "https://schema.org/InStock";
}

/* The schema.org Product with its Offer, serialised (not yet escaped for <script>). */
static const char *
json_ld(json_object *l, const char *canonical, const char *price)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "@context", json_object_new_string("https://schema.org"));
    json_object_object_add(p, "@type", json_object_new_string("Product"));
    json_object_object_add(p, "name", json_object_new_string(str(l, "title") ? str(l, "title") : ""));
    json_object_object_add(p, "description",
                           json_object_new_string(str(l, "description") ? str(l, "description") : ""));
    json_object_object_add(p, "url", json_object_new_string(canonical));
    json_object *imgs = json_object_new_array(), *images = member(l, "images");
    for (size_t i = 0; images != NULL && i < json_object_array_length(images); i++) {
        const char *u = str(json_object_array_get_idx(images, i), "url");
        if (u != NULL) {
            json_object_array_add(imgs, json_object_new_string(u));
        }
    }
    json_object_object_add(p, "image", imgs);
    const char *cond = str(l, "condition");
    json_object *offer = json_object_new_object();
    json_object_object_add(offer, "@type", json_object_new_string("Offer"));
    json_object_object_add(offer, "url", json_object_new_string(canonical));
    json_object_object_add(offer, "price", json_object_new_string(price));
    json_object_object_add(offer, "priceCurrency", json_object_new_string(str(l, "currency") ? str(l, "currency") : ""));
    json_object_object_add(offer, "availability", json_object_new_string(availability(str(l, "status"))));
    json_object_object_add(offer, "itemCondition",
                           json_object_new_string(cond != NULL && strcmp(cond, "new") == 0
                                                      ? "https://schema.org/NewCondition"
                                                      : "https://schema.org/UsedCondition"));
    json_object *seller = member(l, "seller");
    if (str(seller, "display_name") != NULL) {
        json_object *s = json_object_new_object();
        json_object_object_add(s, "@type", json_object_new_string("Person"));
        json_object_object_add(s, "name", json_object_new_string(str(seller, "display_name")));
        json_object_object_add(offer, "seller", s);
    }
    json_object_object_add(p, "offers", offer);
    const char *text = strdup(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(p);
    return text;
}

/* <head> of a listing page: title, description, canonical, Open Graph, JSON-LD, style. */
static void
put_head(struct out *o, json_object *l, const char *canonical, const char *price_text, const char *price)
{
    const char *title = str(l, "title");
    char *desc = html_truncate(o->a, str(l, "description"), 200);
    json_object *images = member(l, "images");
    const char *image = images != NULL && json_object_array_length(images) > 0
                            ? str(json_object_array_get_idx(images, 0), "url")
                            : NULL;
    fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
          "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">",
          o->f);
    fputs("<title>", o->f), put_text(o, title), fputs(" – ", o->f), put_text(o, price_text);
    fputs("</title>\n<meta name=\"description\" content=\"", o->f), put_text(o, desc);
    fputs("\">\n<link rel=\"canonical\" href=\"", o->f), put_text(o, canonical);
    fputs("\">\n<meta property=\"og:type\" content=\"product\">"
          "<meta property=\"og:site_name\" content=\"marketd\">\n<meta property=\"og:url\" content=\"",
          o->f);
    put_text(o, canonical);
    fputs("\">\n<meta property=\"og:title\" content=\"", o->f), put_text(o, title);
    fputs("\">\n<meta property=\"og:description\" content=\"", o->f), put_text(o, desc);
    fputs("\">\n", o->f);
    if (image != NULL) {
        fputs("<meta property=\"og:image\" content=\"", o->f), put_text(o, image), fputs("\">\n", o->f);
    }
    fputs("<meta property=\"product:price:amount\" content=\"", o->f), put_text(o, price);
    fputs("\"><meta property=\"product:price:currency\" content=\"", o->f), put_text(o, str(l, "currency"));
    const char *ld = json_ld(l, canonical, price);
    fputs("\">\n<script type=\"application/ld+json\">", o->f);
    fputs(html_json_script(o->a, ld), o->f);
    free((void *)ld);
    fprintf(o->f, "</script>\n<style>%s</style></head>\n", STYLE);
}

static void
put_photos(struct out *o, json_object *l)
{
    json_object *images = member(l, "images");
    size_t n = images != NULL ? json_object_array_length(images) : 0;
    if (n == 0) {
        fputs("<p>No photos yet.</p>", o->f);
        return;
    }
    fputs("<div class=\"photos\">", o->f);
    for (size_t i = 0; i < n; i++) {
        json_object *img = json_object_array_get_idx(images, i);
        if (str(img, "url") == NULL) {
            continue;
        }
        fputs("<img src=\"", o->f), put_text(o, str(img, "url"));
        fprintf(o->f, "\" alt=\"Photo %zu of %zu: ", i + 1, n), put_text(o, str(l, "title")), fputs("\"", o->f);
        json_object *w = member(img, "width"), *h = member(img, "height");
        if (json_object_is_type(w, json_type_int) && json_object_is_type(h, json_type_int)) {
            fprintf(o->f, " width=\"%d\" height=\"%d\"", json_object_get_int(w), json_object_get_int(h));
        }
        fputs(i > 0 ? " loading=\"lazy\">" : ">", o->f);
    }
    fputs("</div>", o->f);
}

static void
put_seller(struct out *o, json_object *l)
{
    json_object *seller = member(l, "seller"), *rating = member(seller, "rating");
    json_object *avg = member(rating, "average"), *count = member(rating, "count");
    fputs("<h2>Seller</h2><p><a href=\"/#/users/", o->f), put_text(o, str(seller, "id"));
    fputs("\">", o->f), put_text(o, str(seller, "display_name")), fputs("</a> · ", o->f);
    if (count != NULL && json_object_get_int64(count) > 0 && avg != NULL) {
        fprintf(o->f, "rated <span class=\"rating\">%.1f</span> out of 5 (%lld review%s)", json_object_get_double(avg),
                (long long)json_object_get_int64(count), json_object_get_int64(count) == 1 ? "" : "s");
    } else {
        fputs("no reviews yet", o->f);
    }
    fputs("</p>", o->f);
}

static void
put_details(struct out *o, json_object *l)
{
    fputs("<dl><dt>Condition</dt><dd>", o->f), put_text(o, str(l, "condition"));
    fputs("</dd><dt>Category</dt><dd>", o->f), put_text(o, str(l, "category"));
    json_object *loc = member(l, "location");
    if (str(loc, "city") != NULL) {
        fputs("</dd><dt>Location</dt><dd>", o->f), put_text(o, str(loc, "city"));
        fputs(", ", o->f), put_text(o, str(loc, "country"));
    }
    json_object *attrs = member(l, "attributes");
    if (json_object_is_type(attrs, json_type_object)) {
        json_object_object_foreach(attrs, name, val) {
            fputs("</dd><dt>", o->f), put_text(o, name), fputs("</dt><dd>", o->f);
            put_text(o, json_object_is_type(val, json_type_string) ? json_object_get_string(val)
                                                                    : json_object_to_json_string(val));
        }
    }
    fputs("</dd></dl>", o->f);
}

static void
finish(struct out *o, char *buf, size_t len, int status, const char *csp, struct page *out)
{
    out->status = status;
    out->html = arena_strndup(o->a, buf, len);
    out->len = len;
    out->csp = csp;
    free(buf);
}

static const char *
page_csp(arena_t *a, const char *media_origin)
{
    return arena_sprintf(a,
                         "default-src 'none'; img-src 'self'%s%s; style-src %s; base-uri 'none'; "
                         "form-action 'none'; frame-ancestors 'none'",
                         media_origin != NULL ? " " : "", media_origin != NULL ? media_origin : "",
                         html_csp_hash(a, STYLE));
}

void
listing_page_render(arena_t *a, json_object *l, const char *origin, const char *media_origin, struct page *out)
{
    const char *status = str(l, "status"), *id = str(l, "id");
    if (status == NULL || id == NULL || strcmp(status, "draft") == 0 || strcmp(status, "deleted") == 0) {
        listing_page_not_found(a, origin, out);
        return;
    }
    char *buf = NULL;
    size_t len = 0;
    struct out o = {a, open_memstream(&buf, &len)};
    const char *canonical = arena_sprintf(a, "%s/l/%s", origin, id);
    json_object *pm = member(l, "price_minor");
    const char *price = decimal_price(a, pm != NULL ? (long long)json_object_get_int64(pm) : 0, str(l, "currency"));
    const char *price_text = arena_sprintf(a, "%s %s", price, str(l, "currency") ? str(l, "currency") : "");
    put_head(&o, l, canonical, price_text, price);
    fputs("<body><header><a href=\"/\">marketd</a></header><main><h1>", o.f), put_text(&o, str(l, "title"));
    fputs("</h1>", o.f);
    if (strcmp(status, "sold") == 0 || strcmp(status, "reserved") == 0) {
        fprintf(o.f, "<p class=\"state\" role=\"status\">This item is %s.</p>",
                strcmp(status, "sold") == 0 ? "sold" : "reserved for a buyer");
    }
    fputs("<p class=\"price\">", o.f), put_text(&o, price_text), fputs("</p>", o.f);
    put_photos(&o, l);
    fputs("<h2>Description</h2><p class=\"desc\">", o.f), put_text(&o, str(l, "description")), fputs("</p>", o.f);
    put_details(&o, l);
    put_seller(&o, l);
    fputs("<a class=\"open\" href=\"/#/listing/", o.f), put_text(&o, id);
    fputs("\">Open in marketd</a></main></body></html>\n", o.f);
    fclose(o.f);
    finish(&o, buf, len, 200, page_csp(a, media_origin), out);
}

void
listing_page_not_found(arena_t *a, const char *origin, struct page *out)
{
    (void)origin;
    char *buf = NULL;
    size_t len = 0;
    struct out o = {a, open_memstream(&buf, &len)};
    fprintf(o.f,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
          "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">"
            "<meta name=\"robots\" content=\"noindex\"><title>Not found – marketd</title>"
            "<style>%s</style></head>\n<body><header><a href=\"/\">marketd</a></header><main>"
            "<h1>No such listing</h1><p>This listing does not exist or is no longer on sale.</p>"
            "<a class=\"open\" href=\"/\">Browse listings</a></main></body></html>\n",
            STYLE);
    fclose(o.f);
    finish(&o, buf, len, 404, page_csp(a, NULL), out);
}
