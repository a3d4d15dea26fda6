/*
 * outcall.h — outbound HTTP to addresses users give (webhooks): URL splitting and one POST
 * pinned to an address the caller has checked (CURLOPT_RESOLVE), so a DNS answer that
 * changes between the check and the connect (a rebind) cannot redirect it. No redirects are
 * followed, no proxy from the environment is used, only http and https.
 */
#ifndef MK_OUTCALL_H
#define MK_OUTCALL_H

#include <stdbool.h>

#include "core/arena.h"

/* Split an absolute URL: scheme ("http"/"https", lower case), host (without brackets for
 * IPv6, lower case) and port (the scheme's default when absent). MK_EBADPARAM for a URL
 * that is not absolute, has user info, or another scheme. Strings live in the arena. */
int outcall_url_parts(arena_t *a, const char *url, const char **scheme, const char **host, int *port);

struct outcall_request {
    const char *url;
    const char *host;              /* as outcall_url_parts gave it */
    int port;
    const char *address;           /* the checked numeric address to connect to */
    const char *const *headers;    /* "Name: value", NULL-terminated */
    const char *body;
    int timeout_ms;
};

struct outcall_result {
    long status;                   /* HTTP status; 0 when no answer */
    bool timed_out;
    const char *error;             /* NULL, or what went wrong before an answer (arena) */
    long duration_ms;
};

/* POST the body. Returns MK_OK when an HTTP answer came (any status), MK_EUNAVAILABLE
 * otherwise (r->error says why). */
int outcall_post(arena_t *a, const struct outcall_request *q, struct outcall_result *r);

#endif
