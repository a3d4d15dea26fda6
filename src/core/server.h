/*
 * server.h — from a FastCGI request to a response: read the body (64 KiB at most), build
 * the request, route, check the content type of writes, call the handler, render errors,
 * write the response, log one access line and count it in the metrics.
 */
#ifndef MK_SERVER_H
#define MK_SERVER_H

#include <fcgiapp.h>

#include "core/arena.h"
#include "core/metrics.h"
#include "core/router.h"

struct worker;

struct server {
    const struct route *routes;
    size_t nroutes;
    int role;                       /* ROUTE_COMMAND or ROUTE_QUERY */
    arena_t *arena;                 /* reset after every request */
    struct metrics_segment *metrics;
    struct worker *worker;          /* handed to handlers as request.worker */
    int (*admit)(struct request *r); /* NULL, or asked once the route is known: not MK_OK ends the request */
};

/* pool_serve_fn for a struct server. */
void server_serve(void *ctx, FCGX_Request *req);

/* Serve a request built from env and body without FastCGI (tests, fuzzing). The response
 * is serialised into the arena; *out and *out_len receive it. */
void server_handle(struct server *s, char *const *env, const char *body, size_t body_len, long content_length,
                   char **out, size_t *out_len);

#endif
