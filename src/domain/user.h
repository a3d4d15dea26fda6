/*
 * user.h — the user aggregate: registration rules, password hashing, and its SQL.
 *
 * Emails are normalised (trimmed, domain lower-cased; the local part keeps its case) and
 * unique case-insensitively (unique index on lower(email)). Passwords are hashed with
 * Argon2id (libsodium crypto_pwhash_str) at the configured limits, never below
 * libsodium's "interactive" ones, and re-hashed at login when the limits changed.
 *
 * Events carry public fields only (id, display_name, bio, avatar_url, member_since):
 * the read model, and everything downstream of the outbox, never sees an email, a hash
 * or a location.
 */
#ifndef MK_USER_H
#define MK_USER_H

#include <stdbool.h>

#include <json-c/json.h>

#include "core/config.h"
#include "core/http.h"
#include "store/pg.h"

#define USER_EMAIL_MAX 254
#define USER_PASSWORD_MIN 10
#define USER_PASSWORD_MAX 128
#define USER_NAME_MAX 60
#define USER_BIO_MAX 500

/* A user as the write model has it. Strings live in the arena; location is JSON or NULL. */
struct user {
    char *id;
    char *email;
    char *display_name;
    char *bio;
    char *avatar_url;      /* NULL: none */
    json_object *location; /* NULL: none; owned by the arena */
    long long version;
    char *created_at;      /* RFC 3339 */
};

/* Password hashing limits (from the configuration). */
struct user_pwlimits {
    unsigned long long opslimit;
    size_t memlimit;       /* bytes */
};

/* The limits of the configuration. */
struct user_pwlimits user_pwlimits_of(const struct config *cfg);

/*
 * Normalise an email: trim, require local@domain in printable ASCII (no spaces, one '@',
 * local part 1–64, domain of dot-separated labels of letters, digits and '-', with a
 * dot), at most 254 characters, and lower-case the domain. *out is in the arena.
 * Returns MK_OK or MK_EVALIDATION (nothing reported; the caller names the field).
 */
int user_email_normalise(arena_t *a, const char *in, char **out);

/* The key that identifies an email for uniqueness and login throttling: the normalised
 * email in lower case (what the unique index on lower(email) compares). */
char *user_email_key(arena_t *a, const char *normalised);

/* Check a password's length in characters (10–128); NULL when fine, else the problem. */
const char *user_password_problem(const char *password);

/* Argon2id hash of password into out (crypto_pwhash_STRBYTES). MK_OK or MK_EINTERNAL
 * (out of memory for the hash's memlimit). */
int user_password_hash(const struct user_pwlimits *lim, const char *password, char *out);

/*
 * Verify password against hash (constant-time, libsodium). When hash is NULL (no such
 * user), a dummy hash made at the same limits is verified instead, so that an unknown
 * email costs the same time as a wrong password. *needs_rehash is set when a correct
 * password's hash was made with other limits. Returns true when the password matches.
 */
bool user_password_verify(const struct user_pwlimits *lim, const char *hash, const char *password,
                          bool *needs_rehash);

/* The private view (GET /users/me): id, email, display_name, bio, avatar_url, location,
 * created_at. A new object; the caller owns it. */
json_object *user_private_json(const struct user *u);

/* Inside the caller's transaction: insert a new user and append user.registered.
 * MK_EEMAILTAKEN when the email exists in any case. */
int user_create(struct pg *pg, arena_t *a, const char *email, const char *password_hash, const char *display_name,
                struct user *out, long long *seq);

/* The user by id (MK_ENOTFOUND when absent). */
int user_get(struct pg *pg, arena_t *a, const char *id, struct user *out);

/* For login: the user with this email in any case, and its password hash (arena).
 * MK_ENOTFOUND when there is none. */
int user_credentials(struct pg *pg, arena_t *a, const char *email, struct user *out, char **hash);

/* Replace a user's password hash (re-hash at login); no event: nothing public changed. */
int user_set_password_hash(struct pg *pg, arena_t *a, const char *id, const char *hash);

/* A profile change: NULL members are left as they are; set_location with location NULL
 * clears it. */
struct user_patch {
    const char *display_name;
    const char *bio;
    bool set_location;
    json_object *location;
};

/* Inside the caller's transaction: apply patch, bump the version, append
 * user.profile_updated. MK_ENOTFOUND when the user is gone. */
/* The body of POST /api/v1/users: {"email", "password", "display_name"}, nothing else.
 * MK_OK with out filled (email normalised, display name trimmed; strings in the arena or
 * the body), or MK_EVALIDATION with every problem recorded on r (http_field_error). */
struct user_register {
    const char *email;          /* normalised (user_email_normalise) */
    const char *password;
    const char *display_name;   /* trimmed, 1..USER_NAME_MAX characters, one line */
};
int user_parse_register(struct request *r, json_object *body, struct user_register *out);

/* The body of PATCH /api/v1/users/me: any of "display_name", "bio", "location" (null
 * clears it; body parsed with "location" nullable). *any tells whether a member was
 * sent. MK_OK or MK_EVALIDATION, problems recorded on r. */
int user_parse_profile(struct request *r, json_object *body, struct user_patch *out, bool *any);

/* The body of POST /api/v1/sessions: {"email", "password"}, both strings. *key is the
 * email as the unique index compares it (user_email_key of the normalised address, or of
 * the trimmed text when it is not a valid address: looked up all the same). MK_OK or
 * MK_EVALIDATION, problems recorded on r. */
int user_parse_login(struct request *r, json_object *body, const char **key, const char **password);

int user_update_profile(struct pg *pg, arena_t *a, const char *id, const struct user_patch *patch, struct user *out,
                        long long *seq);

#endif
