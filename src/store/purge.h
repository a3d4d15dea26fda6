/*
 * purge.h — dropping pages from nginx's fastcgi_cache through its purge location
 * (ngx_cache_purge): GET <base><uri> removes the cached answer of <uri>. Best effort: a
 * page that cannot be purged expires with its short TTL anyway.
 */
#ifndef MK_PURGE_H
#define MK_PURGE_H

#include <stddef.h>

#define PURGE_PARALLEL 8

struct purge {
    void *curl;        /* CURL *, opened on first use */
    void *multi;       /* CURLM * of purge_many, and its transfers, opened on first use */
    void *easy[PURGE_PARALLEL];
    char *base;        /* e.g. http://127.0.0.1:8080/_purge; empty: purging is off */
    int timeout_ms;
};

void purge_init(struct purge *p, const char *base, int timeout_ms);
void purge_close(struct purge *p);

/* Purge the cached answer of uri ("/api/v1/listings/<id>"). Returns the HTTP status (200
 * purged, 404 not cached), or 0 when nginx could not be reached or purging is off. */
long purge_uri(struct purge *p, const char *uri);

/* Purge every uri (a projector batch's pages), PURGE_PARALLEL at a time over kept-alive
 * connections instead of one after the other; returns when all have answered or timed out. */
void purge_many(struct purge *p, const char *const *uris, size_t n);

#endif
