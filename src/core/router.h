/*
 * router.h — method + path-pattern routing.
 *
 * A route table is a static array. Patterns are literal segments and `{name}` segments,
 * each matching one non-empty path segment: "/api/v1/listings/{id}". HEAD is routed as GET.
 * Where several patterns match a path, the most specific one is the resource: at the first
 * segment where they differ, a literal beats a {param} (/users/me over /users/{id}), and the
 * order of the table does not matter. Each route names the roles that serve it; the table is
 * shared by all roles, so a pool can answer 405 with the resource's full Allow list even for
 * methods another pool serves.
 */
#ifndef MK_ROUTER_H
#define MK_ROUTER_H

#include <stddef.h>

#include "core/http.h"

typedef int (*route_handler)(struct request *r);

enum route_role { ROUTE_COMMAND = 1, ROUTE_QUERY = 2 };
/* A write that takes no body (with its pool in roles): none or {}, checked by the server
 * before the handler, as a body's type is (http_json_empty). */
enum { ROUTE_NO_BODY = 4 };
/* A read whose handler takes the API's per-address limit itself, in its first Redis round trip
 * (worker_limit_cmd), instead of the server's admit hook asking Redis once more before it. */
enum { ROUTE_OWN_LIMIT = 8 };

struct route {
    const char *method;
    const char *pattern;
    route_handler handler;
    int roles;              /* ROUTE_COMMAND | ROUTE_QUERY, and ROUTE_NO_BODY, ROUTE_OWN_LIMIT */
};

/*
 * Find the route for r->method and r->path in routes[0..n). On success returns its index
 * and fills r->route, r->route_index and the path parameters; a parameter that is a UUID
 * is folded to lower case (r->path_folded tells whether one was not). Otherwise returns
 * MK_ENOTFOUND, or MK_EMETHOD with the Allow header set on r to the methods of the most
 * specific pattern that matches the path (GET implies HEAD).
 */
int router_match(struct request *r, const struct route *routes, size_t n);

#endif
