#include "domain/user.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "core/text.h"
#include "domain/location.h"
#include "domain/outbox.h"

/* ---- rules ---------------------------------------------------------------------- */

/* Characters of an unquoted local part (RFC 5322 atext, plus '.'). */
static bool
local_char(char ch)
{
    return isalnum((unsigned char)ch) || strchr("!#$%&'*+-/=?^_`{|}~.", ch) != NULL;
}

static bool
domain_valid(const char *d)
{
    int labels = 0;
    const char *label = d;
    bool last_numeric = true;
    for (const char *p = d;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t n = (size_t)(p - label);
            if (n == 0 || n > 63 || label[0] == '-' || label[n - 1] == '-') {
                return false;
            }
            last_numeric = true;
            for (size_t i = 0; i < n; i++) {
                if (!isalnum((unsigned char)label[i]) && label[i] != '-') {
                    return false;
                }
                last_numeric = last_numeric && isdigit((unsigned char)label[i]);
            }
            labels++;
            if (*p == '\0') {
                break;
            }
            label = p + 1;
        }
    }
    return labels >= 2 && !last_numeric;
}

int
user_email_normalise(arena_t *a, const char *in, char **out)
{
    char *e = text_trim(a, in);
    size_t n = strlen(e);
    *out = NULL;
    if (n < 3 || n > USER_EMAIL_MAX) {
        return MK_EVALIDATION;
    }
    char *at = strchr(e, '@');
    if (at == NULL || strchr(at + 1, '@') != NULL) {
        return MK_EVALIDATION;
    }
    size_t local_len = (size_t)(at - e);
    if (local_len == 0 || local_len > 64 || e[0] == '.' || at[-1] == '.') {
        return MK_EVALIDATION;
    }
    for (size_t i = 0; i < local_len; i++) {
        if (!local_char(e[i]) || (e[i] == '.' && e[i + 1] == '.')) {
            return MK_EVALIDATION;
        }
    }
    if (!domain_valid(at + 1)) {
        return MK_EVALIDATION;
    }
    for (char *p = at + 1; *p != '\0'; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    *out = e;
    return MK_OK;
}

char *
user_email_key(arena_t *a, const char *normalised)
{
    char *k = arena_strdup(a, normalised);
    for (char *p = k; *p != '\0'; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    return k;
}

struct user_pwlimits
user_pwlimits_of(const struct config *cfg)
{
    struct user_pwlimits lim = {
        .opslimit = (unsigned long long)cfg->password_opslimit,
        .memlimit = (size_t)cfg->password_memlimit_kib * 1024,
    };
    return lim;
}

const char *
user_password_problem(const char *password)
{
    size_t n = text_chars(password);
    if (n < USER_PASSWORD_MIN || n > USER_PASSWORD_MAX) {
        return "must be 10 to 128 characters";
    }
    return NULL;
}

int
user_password_hash(const struct user_pwlimits *lim, const char *password, char *out)
{
    if (crypto_pwhash_str(out, password, strlen(password), lim->opslimit, lim->memlimit) != 0) {
        return MK_EINTERNAL;
    }
    return MK_OK;
}

/*
 * The dummy hash verified for unknown emails. Computed once per process at the first
 * login that needs it, at the configured limits, from a random password nobody knows; it
 * is a constant of the process afterwards (the limits are frozen configuration).
 */
static char dummy_hash[crypto_pwhash_STRBYTES];

bool
user_password_verify(const struct user_pwlimits *lim, const char *hash, const char *password, bool *needs_rehash)
{
    *needs_rehash = false;
    if (hash == NULL) {
        if (dummy_hash[0] == '\0') {
            unsigned char secret[32];
            char text[sizeof(secret) * 2 + 1];
            randombytes_buf(secret, sizeof(secret));
            sodium_bin2hex(text, sizeof(text), secret, sizeof(secret));
            if (user_password_hash(lim, text, dummy_hash) != MK_OK) {
                dummy_hash[0] = '\0';
            }
        }
        if (dummy_hash[0] != '\0') {
            /* The outcome is irrelevant (nobody knows the password); the time spent is the point. */
            if (crypto_pwhash_str_verify(dummy_hash, password, strlen(password)) == 0) {
                return false;
            }
        }
        return false;
    }
    if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0) {
        return false;
    }
    *needs_rehash = crypto_pwhash_str_needs_rehash(hash, lim->opslimit, lim->memlimit) != 0;
    return true;
}

/* ---- request bodies ------------------------------------------------------------- */

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
    return http_json_text(r, "display_name", raw, 1, USER_NAME_MAX, false);
}

int
user_parse_register(struct request *r, json_object *body, struct user_register *out)
{
    static const char *const allowed[] = {"email", "password", "display_name", NULL};
    memset(out, 0, sizeof(*out));
    http_json_only(r, body, allowed);
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
        out->display_name = display_name_of(r, name);
    }
    if (r->err_fields != NULL) {
        return MK_EVALIDATION;
    }
    out->email = normalised;
    out->password = password;
    return MK_OK;
}

int
user_parse_profile(struct request *r, json_object *body, struct user_patch *out, bool *any)
{
    static const char *const allowed[] = {"display_name", "bio", "location", NULL};
    json_object *v;
    memset(out, 0, sizeof(*out));
    *any = false;
    http_json_only(r, body, allowed);
    if (json_object_object_get_ex(body, "display_name", &v)) {
        *any = true;
        if (!json_object_is_type(v, json_type_string)) {
            http_field_error(r, "display_name", "must be a string");
        } else {
            out->display_name = display_name_of(r, json_object_get_string(v));
        }
    }
    if (json_object_object_get_ex(body, "bio", &v)) {
        *any = true;
        if (!json_object_is_type(v, json_type_string)) {
            http_field_error(r, "bio", "must be a string (\"\" clears it)");
        } else {
            out->bio = http_json_text(r, "bio", json_object_get_string(v), 0, USER_BIO_MAX, true);
        }
    }
    if (json_object_object_get_ex(body, "location", &v)) {
        *any = true;
        out->set_location = true;
        if (!json_object_is_type(v, json_type_null)) {
            location_parse(r, "location", v, false, &out->location);
        }
    }
    return r->err_fields != NULL ? MK_EVALIDATION : MK_OK;
}

int
user_parse_login(struct request *r, json_object *body, const char **key, const char **password)
{
    static const char *const allowed[] = {"email", "password", NULL};
    json_object *email_v, *password_v;
    *key = NULL;
    *password = NULL;
    http_json_only(r, body, allowed);
    if (!json_object_object_get_ex(body, "email", &email_v) || !json_object_is_type(email_v, json_type_string)) {
        http_field_error(r, "email", "must be a string");
    }
    if (!json_object_object_get_ex(body, "password", &password_v) ||
        !json_object_is_type(password_v, json_type_string)) {
        http_field_error(r, "password", "must be a string");
    }
    if (r->err_fields != NULL) {
        return MK_EVALIDATION;
    }
    /* The subject of throttling and lookup is the email as the unique index compares it.
     * An address that is not even valid is looked up all the same (and not found), so it
     * costs the same time and gives the same answer as an unknown one. */
    char *normalised;
    const char *raw = json_object_get_string(email_v);
    if (user_email_normalise(r->arena, raw, &normalised) != MK_OK) {
        normalised = text_trim(r->arena, raw);
    }
    *key = user_email_key(r->arena, normalised);
    *password = json_object_get_string(password_v);
    return MK_OK;
}

/* The profile's members, in the order both the private shape and the events give them. */
static void
add_profile(json_object *o, const struct user *u)
{
    json_object_object_add(o, "display_name", json_object_new_string(u->display_name));
    json_object_object_add(o, "bio", json_object_new_string(u->bio));
    json_object_object_add(o, "avatar_url", u->avatar_url != NULL ? json_object_new_string(u->avatar_url) : NULL);
}

json_object *
user_private_json(const struct user *u)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(u->id));
    json_object_object_add(o, "email", json_object_new_string(u->email));
    add_profile(o, u);
    json_object_object_add(o, "location", json_object_get(u->location));
    json_object_object_add(o, "created_at", json_object_new_string(u->created_at));
    return o;
}

/* ---- SQL ------------------------------------------------------------------------ */

#define USER_COLUMNS                                                                                                   \
    "id::text, email, display_name, bio, avatar_url, location::text, version, "                                       \
    PG_UTC_TEXT("created_at")

static const struct pg_stmt INSERT = {
    "user_insert",
    "INSERT INTO users (id, email, password_hash, display_name) VALUES ($1::uuid, $2, $3, $4) "
    "RETURNING " USER_COLUMNS,
    4,
};

static const struct pg_stmt BY_ID = {
    "user_by_id",
    "SELECT " USER_COLUMNS " FROM users WHERE id = $1::uuid",
    1,
};

static const struct pg_stmt CREDENTIALS = {
    "user_credentials",
    "SELECT " USER_COLUMNS ", password_hash FROM users WHERE lower(email) = lower($1)",
    1,
};

static const struct pg_stmt SET_HASH = {
    "user_set_hash",
    "UPDATE users SET password_hash = $2 WHERE id = $1::uuid",
    2,
};

static const struct pg_stmt UPDATE_PROFILE = {
    "user_update_profile",
    "UPDATE users SET display_name = coalesce($2, display_name), bio = coalesce($3, bio), "
    "  location = CASE WHEN $4::boolean THEN $5::jsonb ELSE location END, "
    "  version = version + 1, updated_at = now() "
    "WHERE id = $1::uuid RETURNING " USER_COLUMNS,
    5,
};

static void
user_from_row(arena_t *a, const PGresult *res, struct user *u)
{
    u->id = arena_strdup(a, pg_value(res, 0, 0));
    u->email = arena_strdup(a, pg_value(res, 0, 1));
    u->display_name = arena_strdup(a, pg_value(res, 0, 2));
    u->bio = arena_strdup(a, pg_value(res, 0, 3));
    u->avatar_url = arena_strdup(a, pg_value(res, 0, 4));
    const char *loc = pg_value(res, 0, 5);
    u->location = NULL;
    if (loc != NULL) {
        u->location = json_tokener_parse(loc);
        if (u->location != NULL) {
            arena_cleanup_add(a, (arena_cleanup_fn)(void (*)(void))json_object_put, u->location);
        }
    }
    u->version = pg_int(res, 0, 6);
    u->created_at = arena_strdup(a, pg_value(res, 0, 7));
}

/* user.registered / user.profile_updated: the public state only. */
static int
append_event(struct pg *pg, arena_t *a, const struct user *u, const char *type, long long *seq)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "id", json_object_new_string(u->id));
    add_profile(doc, u);
    json_object_object_add(doc, "member_since", json_object_new_string(u->created_at));
    return outbox_append_doc(pg, a, "user", u->id, u->version, type, doc, seq);
}

int
user_create(struct pg *pg, arena_t *a, const char *email, const char *password_hash, const char *display_name,
            struct user *out, long long *seq)
{
    char id[UUID_STR_LEN + 1];
    uuid_new(id);
    const char *values[] = {id, email, password_hash, display_name};
    PGresult *res;
    int rc = pg_exec(pg, a, &INSERT, values, &res);
    if (rc == MK_ECONFLICT && pg_failed_with(pg, "23505") && strcmp(pg->constraint, "users_email_ci") == 0) {
        return MK_EEMAILTAKEN;
    }
    if (rc != MK_OK) {
        return rc;
    }
    user_from_row(a, res, out);
    return append_event(pg, a, out, "user.registered", seq);
}

int
user_get(struct pg *pg, arena_t *a, const char *id, struct user *out)
{
    const char *values[] = {id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &BY_ID, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    user_from_row(a, res, out);
    return MK_OK;
}

int
user_credentials(struct pg *pg, arena_t *a, const char *email, struct user *out, char **hash)
{
    const char *values[] = {email};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &CREDENTIALS, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    user_from_row(a, res, out);
    *hash = arena_strdup(a, pg_value(res, 0, 8));
    return MK_OK;
}

int
user_set_password_hash(struct pg *pg, arena_t *a, const char *id, const char *hash)
{
    const char *values[] = {id, hash};
    return pg_exec(pg, a, &SET_HASH, values, NULL);
}

int
user_update_profile(struct pg *pg, arena_t *a, const char *id, const struct user_patch *patch, struct user *out,
                    long long *seq)
{
    const char *location = patch->location != NULL
                               ? arena_strdup(a, json_object_to_json_string_ext(patch->location, JSON_C_TO_STRING_PLAIN))
                               : NULL;
    const char *values[] = {id, patch->display_name, patch->bio, patch->set_location ? "true" : "false", location};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &UPDATE_PROFILE, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    user_from_row(a, res, out);
    return append_event(pg, a, out, "user.profile_updated", seq);
}
