/*
 * listing_page.h — the server-rendered HTML page of a listing (GET /l/{id}): title, price,
 * photos, seller and rating, a canonical link and og:url on the configured public origin,
 * Open Graph tags and a schema.org Product/Offer JSON-LD block; and the 404 page. Pure
 * functions of their input (no services), so the unit tests can feed hostile listings.
 *
 * Every value from a user is escaped for the context it lands in (core/html.h): element
 * text and attribute values with html_escape, the JSON-LD with html_json_script. The page
 * has no script; its one inline <style> is allowed by its hash in the page's own CSP.
 */
#ifndef MK_LISTING_PAGE_H
#define MK_LISTING_PAGE_H

#include <stddef.h>

#include <json-c/json.h>

#include "core/arena.h"

struct page {
    int status;          /* 200, or 404 for the not-found page */
    const char *html;    /* the whole document, in the arena */
    size_t len;
    const char *csp;     /* the Content-Security-Policy the page needs */
};

/*
 * Render listing (the API's listing shape, with "seller") for the public origin origin
 * ("https://market.example", no trailing slash). media_origin (may be NULL) is where image
 * URLs point, added to the CSP's img-src. A draft or deleted listing renders the 404 page;
 * sold and reserved render (200) and say so.
 */
void listing_page_render(arena_t *a, json_object *listing, const char *origin, const char *media_origin,
                         struct page *out);

/* The 404 page ("no such listing"). */
void listing_page_not_found(arena_t *a, const char *origin, struct page *out);

/* scheme://host[:port] of an absolute URL, or NULL when url is not http(s)://... */
char *listing_page_origin_of(arena_t *a, const char *url);

#endif
