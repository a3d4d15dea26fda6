/* GET /healthz, /readyz, /metrics — operations endpoints. */
#include <string.h>

#include "core/errors.h"
#include "core/metrics.h"
#include "query/handlers.h"
#include "worker.h"

int
query_healthz(struct request *r)
{
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "status", json_object_new_string("ok"));
    http_set_header(r, "Cache-Control", "no-store");
    return http_respond_json(r, 200, doc);
}

int
query_readyz(struct request *r)
{
    struct worker *w = r->worker;
    struct {
        const char *name;
        int rc;
    } checks[4] = {{"postgres", 0}, {"mongo", 0}, {"redis", 0}, {"s3", 0}};

    checks[0].rc = pg_simple(&w->pg, "SELECT 1");
    checks[1].rc = mongo_ping(&w->mongo);
    redisReply *reply;
    checks[2].rc = redis_cmd(&w->redis, r->arena, &reply, "PING");
    if (checks[2].rc == MK_OK && redis_reply_error(reply)) {
        checks[2].rc = MK_EUNAVAILABLE;
    }
    checks[3].rc = s3_check(&w->s3, r->arena);

    json_object *detail = json_object_new_object();
    char down[64] = "";
    for (int i = 0; i < 4; i++) {
        bool ok = checks[i].rc == MK_OK;
        json_object_object_add(detail, checks[i].name, json_object_new_string(ok ? "ok" : "down"));
        if (!ok) {
            if (down[0] != '\0') {
                strcat(down, ", ");
            }
            strcat(down, checks[i].name);
        }
    }
    http_set_header(r, "Cache-Control", "no-store");
    if (down[0] != '\0') {
        r->err_extra = http_json_own(r, json_object_new_object());
        json_object_object_add(r->err_extra, "checks", detail);
        r->retry_after = 5;
        return http_fail(r, MK_EUNAVAILABLE, arena_sprintf(r->arena, "not ready: %s down", down));
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "status", json_object_new_string("ok"));
    json_object_object_add(doc, "checks", detail);
    return http_respond_json(r, 200, doc);
}

int
query_metrics(struct request *r)
{
    struct worker *w = r->worker;
    char *text = metrics_render(r->arena, w->cfg->run_dir, w->routes, w->nroutes);
    http_set_header(r, "Cache-Control", "no-store");
    return http_respond_raw(r, 200, "text/plain; version=0.0.4", text, strlen(text));
}
