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

/* A member that must be a string: its value, or NULL with the problem reported. */
static const char *
string_member(struct request *r, json_object *body, const char *name)
{
    json_object *v;
    if (!json_object_object_get_ex(body, name, &v)) {
        http_field_error(r, name, "is required");
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        http_field_error(r, name, "must be a string");
        return NULL;
    }
    return json_object_get_string(v);
}

/* A display name: trimmed, 1–60 characters, one line. NULL with the problem reported. */
static const char *
display_name_of(struct request *r, const char *raw)
{
    char *name = text_trim(r->arena, raw);
    const char *problem = text_check(r->arena, name, 1, USER_NAME_MAX, false);
    if (problem != NULL) {
        http_field_error(r, "display_name", problem);
        return NULL;
    }
    return name;
}

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
    static const char *const allowed[] = {"email", "password", "display_name", NULL};
    struct worker *w = r->worker;
    json_object *body;
    int rc = http_json_body(r, &body);
    if (rc != MK_OK) {
        return rc;
    }
    http_json_only(r, body, allowed);
    struct register_ctx c = {0};
    const char *email = string_member(r, body, "email");
    char *normalised = NULL;
    if (email != NULL && user_email_normalise(r->arena, email, &normalised) != MK_OK) {
        http_field_error(r, "email", "must be a valid email address");
    }
    const char *password = string_member(r, body, "password");
    const char *problem = password != NULL ? user_password_problem(password) : NULL;
    if (problem != NULL) {
        http_field_error(r, "password", problem);
    }
    const char *name = string_member(r, body, "display_name");
    if (name != NULL) {
        c.display_name = display_name_of(r, name);
    }
    if (r->err_fields != NULL) {
        return http_fail(r, MK_EVALIDATION, NULL);
    }
    c.email = normalised;

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
    static const char *const allowed[] = {"display_name", "bio", "location", NULL};
    struct worker *w = r->worker;
    struct session s;
    int rc = session_authenticate(r, &w->redis, w->cfg, &s, NULL);
    if (rc != MK_OK) {
        return rc;
    }
    /* API.md: null clears the location; a null anywhere else is 422. */
    static const char *const nullable[] = {"location", NULL};
    json_object *body, *v;
    if ((rc = http_json_body_nullable(r, nullable, &body)) != MK_OK) {
        return rc;
    }
    http_json_only(r, body, allowed);
    struct patch_ctx c = {.user_id = s.user_id};
    bool any = false;
    if (json_object_object_get_ex(body, "display_name", &v)) {
        any = true;
        if (!json_object_is_type(v, json_type_string)) {
            http_field_error(r, "display_name", "must be a string");
        } else {
            c.patch.display_name = display_name_of(r, json_object_get_string(v));
        }
    }
    if (json_object_object_get_ex(body, "bio", &v)) {
        any = true;
        if (!json_object_is_type(v, json_type_string)) {
            http_field_error(r, "bio", "must be a string (\"\" clears it)");
        } else {
            char *bio = text_trim(r->arena, json_object_get_string(v));
            const char *problem = text_check(r->arena, bio, 0, USER_BIO_MAX, true);
            if (problem != NULL) {
                http_field_error(r, "bio", problem);
            }
            c.patch.bio = bio;
        }
    }
    if (json_object_object_get_ex(body, "location", &v)) {
        any = true;
        c.patch.set_location = true;
        if (!json_object_is_type(v, json_type_null)) {
            location_parse(r, "location", v, false, &c.patch.location);
        }
    }
    if (r->err_fields != NULL) {
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
