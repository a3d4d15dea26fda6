/* POST /api/v1/users (registration), PATCH /api/v1/users/me (profile). */
#include <string.h>

#include "command/command.h"
#include "command/handlers.h"
#include "core/errors.h"
#include "core/text.h"
#include "domain/location.h"
#include "domain/session.h"
#include "domain/user.h"
#include "worker.h"

static int
respond_user(struct request *r, int status, const struct user *u)
{
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "user", user_private_json(u));
    http_set_header(r, "Cache-Control", "no-store");
    return http_respond_json(r, status, doc);
}

/* ---- POST /api/v1/users ---------------------------------------------------------- */

struct register_ctx {
    const char *email;
    const char *hash;
    const char *display_name;
    struct user user;
};

static int
register_body(struct request *r, struct command_tx *tx, void *data)
{
    struct register_ctx *c = data;
    return user_create(tx->pg, r->arena, c->email, c->hash, c->display_name, &c->user, &tx->last_seq);
}

int
command_register(struct request *r)
{
    struct worker *w = r->worker;
    json_object *body;
    int rc = http_json_body(r, &body);
    if (rc != MK_OK) {
        return rc;
    }
    struct user_register in;
    if (user_parse_register(r, body, &in) != MK_OK) {
        return http_fail(r, MK_EVALIDATION, NULL);
    }
    struct register_ctx c = {.email = in.email, .display_name = in.display_name};
    const char *password = in.password;

    /* A cheap check first, so a taken email costs no Argon2id; the unique index decides. */
    struct user existing;
    char *existing_hash;
    rc = user_credentials(&w->pg, r->arena, c.email, &existing, &existing_hash);
    if (rc == MK_OK) {
        return http_fail(r, MK_EEMAILTAKEN, NULL);
    }
    if (rc != MK_ENOTFOUND) {
        return rc;
    }
    char hash[128];
    struct user_pwlimits lim = user_pwlimits_of(w->cfg);
    if (user_password_hash(&lim, password, hash) != MK_OK) {
        return http_fail(r, MK_EUNAVAILABLE, "the server is busy; retry later");
    }
    c.hash = hash;
    rc = command_run(r, register_body, &c);
    if (rc != MK_OK) {
        return rc;
    }
    http_set_header(r, "Location", arena_sprintf(r->arena, "/api/v1/users/%s", c.user.id));
    return respond_user(r, 201, &c.user);
}

/* ---- PATCH /api/v1/users/me ------------------------------------------------------ */

struct patch_ctx {
    const char *user_id;
    struct user_patch patch;
    struct user user;
};

static int
patch_body(struct request *r, struct command_tx *tx, void *data)
{
    struct patch_ctx *c = data;
    return user_update_profile(tx->pg, r->arena, c->user_id, &c->patch, &c->user, &tx->last_seq);
}

int
command_update_me(struct request *r)
{
    struct worker *w = r->worker;
    struct session s;
    int rc = worker_authenticate(r, &s);
    if (rc != MK_OK) {
        return rc;
    }
    /* API.md: null clears the location; a null anywhere else is 422. */
    static const char *const nullable[] = {"location", NULL};
    json_object *body;
    if ((rc = http_json_body_nullable(r, nullable, &body)) != MK_OK) {
        return rc;
    }
    struct patch_ctx c = {.user_id = s.user_id};
    bool any;
    if (user_parse_profile(r, body, &c.patch, &any) != MK_OK) {
        return http_fail(r, MK_EVALIDATION, NULL);
    }
    if (!any) {
        /* Nothing to change: no new version, no event; answer the current state. */
        rc = user_get(&w->pg, r->arena, s.user_id, &c.user);
    } else {
        rc = command_run(r, patch_body, &c);
    }
    if (rc == MK_ENOTFOUND) {
        return http_fail(r, MK_EUNAUTH, "the session's user no longer exists");
    }
    if (rc != MK_OK) {
        return rc;
    }
    return respond_user(r, 200, &c.user);
}
