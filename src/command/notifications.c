/*
 * POST /api/v1/users/me/notifications/read, POST and DELETE /api/v1/users/me/saved-searches,
 * POST and DELETE /api/v1/users/me/webhooks, POST .../webhooks/{id}/deliveries/{delivery_id}/retry.
 * Each is one PostgreSQL transaction with its outbox event (command.h).
 */
#include <ctype.h>
#include <string.h>

#include "command/command.h"
#include "command/handlers.h"
#include "core/errors.h"
#include "core/ids.h"
#include "core/text.h"
#include "domain/notify.h"
#include "domain/saved_search.h"
#include "domain/session.h"
#include "domain/webhook.h"
#include "worker.h"

static int
me_json(struct request *r, struct session *s, json_object **body)
{
    int rc = worker_authenticate(r, s);
    return rc != MK_OK ? rc : http_json_body(r, body);
}

/* ---- POST /users/me/notifications/read --------------------------------------------- */

struct read_ctx {
    const char *user_id;
    json_object *ids;   /* NULL: all */
};

static int
read_body(struct request *r, struct command_tx *tx, void *data)
{
    struct read_ctx *c = data;
    return notify_mark_read(tx->pg, r->arena, c->user_id, c->ids, &tx->last_seq);
}

int
command_notifications_read(struct request *r)
{
    struct session s;
    json_object *body;
    int rc = me_json(r, &s, &body);
    if (rc != MK_OK) {
        return rc;
    }
    struct read_ctx c = {.user_id = s.user_id};
    if (notify_parse_read(r, body, &c.ids) != MK_OK) {
        return http_fail(r, MK_EVALIDATION, NULL);
    }
    if ((rc = command_run(r, read_body, &c)) != MK_OK) {
        return rc;
    }
    return http_respond_empty(r, 204);
}

/* ---- saved searches ---------------------------------------------------------------- */

struct saved_ctx {
    const char *user_id;
    struct saved_search_body in;
    json_object *out;
};

static int
saved_create_body(struct request *r, struct command_tx *tx, void *data)
{
    struct saved_ctx *c = data;
    int rc = saved_search_insert(tx->pg, r->arena, c->user_id, c->in.name, c->in.query, c->in.alert, &c->in.index,
                                 &c->out, &tx->last_seq);
    if (rc == MK_ECONFLICT && !pg_failed_with(tx->pg, "23505")) {
        return http_fail(r, rc, "at most 50 saved searches per user: delete one first");
    }
    return rc;
}

int
command_saved_search_create(struct request *r)
{
    struct session s;
    json_object *body;
    int rc = me_json(r, &s, &body);
    if (rc != MK_OK) {
        return rc;
    }
    struct worker *w = r->worker;
    const struct category_set *cats;
    if ((rc = worker_categories(w, r->arena, &cats)) != MK_OK) {
        return rc;
    }
    struct saved_ctx c = {.user_id = s.user_id};
    if (saved_search_parse_body(r, body, cats, w->cfg->cursor_secret, &c.in) != MK_OK) {
        return http_fail(r, MK_EVALIDATION, NULL);
    }
    if ((rc = command_run(r, saved_create_body, &c)) != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "saved_search", json_object_get(c.out));
    http_set_header(r, "Location",
                    arena_sprintf(r->arena, "/api/v1/users/me/saved-searches/%s",
                                  json_object_get_string(json_object_object_get(c.out, "id"))));
    return http_respond_json(r, 201, doc);
}

/* DELETE of one of the caller's own resources: op(pg, arena, user_id, id, &seq) deletes
 * it or answers MK_ENOTFOUND (not the caller's, or gone). */
typedef int (*owned_delete_fn)(struct pg *pg, arena_t *a, const char *user_id, const char *id, long long *seq);

struct owned_ctx {
    const char *user_id, *id, *what;
    owned_delete_fn op;
};

static int
owned_delete_body(struct request *r, struct command_tx *tx, void *data)
{
    struct owned_ctx *c = data;
    int rc = c->op(tx->pg, r->arena, c->user_id, c->id, &tx->last_seq);
    return rc == MK_ENOTFOUND ? http_fail(r, rc, arena_sprintf(r->arena, "no such %s", c->what)) : rc;
}

static int
owned_delete(struct request *r, const char *what, owned_delete_fn op)
{
    struct owned_ctx c = {.what = what, .op = op};
    int rc = command_begin(r, what, &c.id, &c.user_id);
    if (rc != MK_OK) {
        return rc;
    }
    if ((rc = command_run(r, owned_delete_body, &c)) != MK_OK) {
        return rc;
    }
    return http_respond_empty(r, 204);
}

int
command_saved_search_delete(struct request *r)
{
    return owned_delete(r, "saved search", saved_search_delete);
}

/* ---- webhooks ---------------------------------------------------------------------- */

struct hook_ctx {
    const char *user_id, *id, *delivery_id, *sealed;
    struct webhook_input in;
    json_object *out;
};

static int
hook_create_body(struct request *r, struct command_tx *tx, void *data)
{
    struct hook_ctx *c = data;
    int rc = webhook_insert(tx->pg, r->arena, c->user_id, &c->in, c->sealed, &c->out, &tx->last_seq);
    if (rc == MK_ECONFLICT && !pg_failed_with(tx->pg, "23505")) {
        return http_fail(r, rc, "at most 20 webhooks per user: delete one first");
    }
    return rc;
}

int
command_webhook_create(struct request *r)
{
    struct worker *w = r->worker;
    struct session s;
    json_object *body;
    int rc = me_json(r, &s, &body);
    if (rc != MK_OK) {
        return rc;
    }
    struct hook_ctx c = {.user_id = s.user_id};
    if (webhook_parse(r, body, &c.in) != MK_OK) {
        return http_fail(r, MK_EVALIDATION, NULL);
    }
    struct webhook_dest dest;
    const char *problem;
    if (webhook_check_url(r->arena, w->cfg, c.in.url, &dest, &problem) != MK_OK) {
        http_field_error(r, "url", problem);
        return http_fail(r, MK_EVALIDATION, NULL);
    }
    unsigned char secret[WEBHOOK_SECRET_BYTES];
    const char *secret_text = webhook_secret_new(r->arena, secret);
    c.sealed = webhook_seal(r->arena, w->cfg->webhook_secret_key, secret);
    memset(secret, 0, sizeof(secret));
    if (c.sealed == NULL) {
        return MK_EINTERNAL;
    }
    if ((rc = command_run(r, hook_create_body, &c)) != MK_OK) {
        return rc;
    }
    json_object *hook = json_object_get(c.out);
    json_object_object_add(hook, "secret", json_object_new_string(secret_text));
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "webhook", hook);
    http_set_header(r, "Location",
                    arena_sprintf(r->arena, "/api/v1/users/me/webhooks/%s",
                                  json_object_get_string(json_object_object_get(hook, "id"))));
    http_set_header(r, "Cache-Control", "no-store");
    return http_respond_json(r, 201, doc);
}

int
command_webhook_delete(struct request *r)
{
    return owned_delete(r, "webhook", webhook_delete);
}

static int
hook_retry_body(struct request *r, struct command_tx *tx, void *data)
{
    struct hook_ctx *c = data;
    int rc = webhook_retry(tx->pg, r->arena, c->user_id, c->id, c->delivery_id, &tx->last_seq);
    return rc == MK_ENOTFOUND ? http_fail(r, rc, "no such delivery") : rc;
}

int
command_webhook_retry(struct request *r)
{
    struct hook_ctx c = {0};
    int rc = command_begin(r, "webhook", &c.id, &c.user_id);
    if (rc != MK_OK) {
        return rc;
    }
    c.delivery_id = http_path_param(r, "delivery_id");
    if (!uuid_valid(c.delivery_id)) {
        return http_fail(r, MK_ENOTFOUND, "no such delivery");
    }
    if ((rc = command_run(r, hook_retry_body, &c)) != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object *d = json_object_new_object();
    json_object_object_add(d, "id", json_object_new_string(c.delivery_id));
    json_object_object_add(d, "status", json_object_new_string("pending"));
    json_object_object_add(doc, "delivery", d);
    return http_respond_json(r, 202, doc);
}
