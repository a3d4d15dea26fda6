#include "core/server.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/errors.h"
#include "core/fcgi_out.h"
#include "core/log.h"

static uint64_t
now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool
is_json_type(const char *ct)
{
    static const char json[] = "application/json";
    if (ct == NULL || strncasecmp(ct, json, sizeof(json) - 1) != 0) {
        return false;
    }
    char next = ct[sizeof(json) - 1];
    return next == '\0' || next == ';' || next == ' ';
}

static bool
is_write(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0 ||
           strcmp(method, "DELETE") == 0;
}

static int
dispatch(struct server *s, struct request *r, long content_length)
{
    if (content_length > HTTP_MAX_BODY) {
        return http_fail(r, MK_ETOOLARGE, NULL);
    }
    int idx = router_match(r, s->routes, s->nroutes);
    /* After routing, so that a refusal is counted under its route in the metrics; a path no
     * route takes is asked too (a new one each time would miss every cache). */
    int rc;
    if (s->admit != NULL && (rc = s->admit(r)) != MK_OK) {
        return rc;
    }
    if (idx < 0) {
        return idx;
    }
    const struct route *rt = &s->routes[idx];
    if ((rt->roles & s->role) == 0) {
        log_error("%s %s reached the %s pool, which does not serve it: check the nginx routing", r->method,
                  rt->pattern, s->role == ROUTE_COMMAND ? "command" : "query");
        return http_fail(r, MK_EINTERNAL, NULL);
    }
    if (is_write(r->method) && r->body_len > 0 && !is_json_type(http_header(r, "Content-Type"))) {
        return http_fail(r, MK_EMEDIATYPE, NULL);
    }
    /* What a write without a body is sent is checked as any body is, here with the type,
     * before the handler: malformed JSON is a 400, a member a 422, on every such route. */
    if ((rt->roles & ROUTE_NO_BODY) != 0 && (rc = http_json_empty(r)) != MK_OK) {
        return rc;
    }
    return rt->handler(r);
}

void
server_handle(struct server *s, char *const *env, const char *body, size_t body_len, long content_length,
              char **out, size_t *out_len)
{
    uint64_t t0 = now_us();
    struct request r;
    int rc = http_request_init(&r, s->arena, env, body, body_len);
    r.worker = s->worker;
    log_set_request_id(r.request_id);
    if (rc == MK_OK) {
        rc = dispatch(s, &r, content_length);
    }
    http_finish(&r, rc);
    *out = http_serialise(&r, out_len);
    uint64_t elapsed = now_us() - t0;
    struct log_access a = {r.method, r.raw_uri, r.route, r.status, elapsed, r.out_len};
    log_access_line(&a);
    metrics_observe(s->metrics, r.route_index, r.status, elapsed);
}

void
server_serve(void *ctx, FCGX_Request *req)
{
    struct server *s = ctx;
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", req->envp);
    long content_length = cl != NULL && *cl != '\0' ? strtol(cl, NULL, 10) : 0;
    if (content_length < 0) {
        content_length = 0;
    }
    char *body = NULL;
    size_t body_len = 0;
    if (content_length > 0 && content_length <= HTTP_MAX_BODY) {
        body = arena_alloc(s->arena, (size_t)content_length + 1);
        while (body_len < (size_t)content_length) {
            int n = FCGX_GetStr(body + body_len, (int)((size_t)content_length - body_len), req->in);
            if (n <= 0) {
                break;
            }
            body_len += (size_t)n;
        }
        body[body_len] = '\0';
    }
    char *out;
    size_t out_len;
    server_handle(s, req->envp, body, body_len, content_length, &out, &out_len);
    /* One writev for the whole answer and its end records (libfcgi's 8 KB buffer made a 17 KB
     * search page three writes). */
    (void)fcgi_write_response(req, out, out_len);
    log_set_request_id(NULL);
    arena_reset(s->arena);
}
