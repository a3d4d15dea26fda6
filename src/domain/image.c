#include "domain/image.h"

#include <stdio.h>
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "domain/listing.h"

bool
image_content_type_ok(const char *ct)
{
    return ct != NULL &&
           (strcmp(ct, "image/jpeg") == 0 || strcmp(ct, "image/png") == 0 || strcmp(ct, "image/webp") == 0);
}

char *
image_key_new(arena_t *a, const char *listing_id, const char *content_type)
{
    char id[UUID_STR_LEN + 1];
    uuid_new(id);
    const char *ext = strcmp(content_type, "image/png") == 0    ? "png"
                      : strcmp(content_type, "image/webp") == 0 ? "webp"
                                                                : "jpg";
    return arena_sprintf(a, "listings/%s/%s.%s", listing_id, id, ext);
}

int
image_parse_upload(struct request *r, json_object *body, const char **content_type, long long *size_bytes)
{
    static const char *const allowed[] = {"content_type", "size_bytes", NULL};
    json_object *v;
    *content_type = NULL;
    *size_bytes = 0;
    http_json_only(r, body, allowed);
    if (!json_object_object_get_ex(body, "content_type", &v) || !json_object_is_type(v, json_type_string) ||
        !image_content_type_ok(json_object_get_string(v))) {
        http_field_error(r, "content_type", "must be image/jpeg, image/png or image/webp");
    } else {
        *content_type = json_object_get_string(v);
    }
    if (!json_object_object_get_ex(body, "size_bytes", &v) || !json_object_is_type(v, json_type_int) ||
        json_object_get_int64(v) < 1 || json_object_get_int64(v) > LISTING_IMAGE_MAX_BYTES) {
        http_field_error(r, "size_bytes", "must be an integer from 1 to 10485760 (10 MiB)");
    } else {
        *size_bytes = json_object_get_int64(v);
    }
    return r->err_fields != NULL ? MK_EVALIDATION : MK_OK;
}

int
image_parse_attach(struct request *r, json_object *body, const char **key)
{
    static const char *const allowed[] = {"key", NULL};
    json_object *v;
    *key = NULL;
    http_json_only(r, body, allowed);
    if (!json_object_object_get_ex(body, "key", &v) || !json_object_is_type(v, json_type_string)) {
        http_field_error(r, "key", "must be the key returned by images/uploads");
    }
    if (r->err_fields != NULL) {
        return MK_EVALIDATION;
    }
    *key = json_object_get_string(v);
    return MK_OK;
}

char *
image_thumb_key(arena_t *a, const char *key)
{
    const char *dot = strrchr(key, '.');
    size_t n = dot != NULL ? (size_t)(dot - key) : strlen(key);
    return arena_sprintf(a, "%.*s-thumb.jpg", (int)n, key);
}

static const struct pg_stmt TICKET_SWEEP = {
    "image_ticket_sweep", "DELETE FROM image_uploads WHERE expires_at < now()", 0};

static const struct pg_stmt TICKET_CREATE = {
    "image_ticket_create",
    "INSERT INTO image_uploads (key, listing_id, content_type, size_bytes, expires_at) "
    "VALUES ($1, $2::uuid, $3, $4::bigint, now() + make_interval(secs => $5::int))",
    5,
};

static const struct pg_stmt TICKET_FIND = {
    "image_ticket_find",
    "SELECT t.content_type, t.size_bytes, l.seller_id::text FROM image_uploads t "
    "JOIN listings l ON l.id = t.listing_id "
    "WHERE t.key = $1 AND t.listing_id = $2::uuid AND t.expires_at >= now()",
    2,
};

static const struct pg_stmt ATTACH = {
    "image_attach",
    "WITH gone AS (DELETE FROM image_uploads WHERE key = $3) "
    "INSERT INTO listing_images (id, listing_id, key, content_type, size_bytes, position) "
    "VALUES ($1::uuid, $2::uuid, $3, $4, $5::bigint, "
    "  (SELECT coalesce(max(position), 0) + 1 FROM listing_images WHERE listing_id = $2::uuid))",
    5,
};

static const struct pg_stmt REMOVE = {
    "image_remove",
    "DELETE FROM listing_images WHERE listing_id = $1::uuid AND id = $2::uuid RETURNING key, thumb_key",
    2,
};

static const struct pg_stmt LOCK_PENDING = {
    "image_lock_pending",
    "SELECT listing_id::text, key, size_bytes FROM listing_images WHERE id = $1::uuid AND status = 'pending' "
    "FOR UPDATE",
    1,
};

/* The oldest pending image nobody holds, claimed for $1 seconds (a short transaction of its
 * own: the slow work that follows holds no transaction open, so it never holds the outbox's
 * xmin horizon, and so the projector, back). */
static const struct pg_stmt CLAIM_PENDING = {
    "image_claim_pending",
    "UPDATE listing_images SET claimed_until = now() + make_interval(secs => $1::int) "
    "WHERE id = (SELECT id FROM listing_images "
    "            WHERE status = 'pending' AND (claimed_until IS NULL OR claimed_until < now()) "
    "            ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "RETURNING id::text AS image_id, listing_id::text AS listing, key",
    1,
};

static const struct pg_stmt CLAIM_EXTEND = {
    "image_claim_extend",
    "UPDATE listing_images SET claimed_until = now() + make_interval(secs => $2::int) "
    "WHERE id = $1::uuid AND status = 'pending'",
    2,
};

static const struct pg_stmt DELETION_QUEUE = {
    "media_deletion_queue",
    "INSERT INTO media_deletions (key) SELECT unnest($1::text[]) ON CONFLICT (key) DO NOTHING",
    1,
};

/* Due deletions, postponed while they are worked on (longer after each failed attempt). */
static const struct pg_stmt DELETION_CLAIM = {
    "media_deletion_claim",
    "UPDATE media_deletions SET attempts = attempts + 1, "
    "  not_before = now() + make_interval(secs => least(30 * (attempts + 1), 600)) "
    "WHERE key IN (SELECT key FROM media_deletions WHERE not_before <= now() "
    "              ORDER BY not_before LIMIT $1::int FOR UPDATE SKIP LOCKED) "
    "RETURNING key",
    1,
};

static const struct pg_stmt DELETION_DONE = {
    "media_deletion_done",
    "DELETE FROM media_deletions WHERE key = $1",
    1,
};

static const struct pg_stmt MARK_READY = {
    "image_mark_ready",
    "UPDATE listing_images SET status = 'ready', width = $2::int, height = $3::int, thumb_key = $4 "
    "WHERE id = $1::uuid",
    4,
};

static const struct pg_stmt DELETE_ONE = {"image_delete", "DELETE FROM listing_images WHERE id = $1::uuid", 1};

int
image_ticket_create(struct pg *pg, arena_t *a, const char *key, const char *listing_id, const char *content_type,
                    long long size_bytes)
{
    int rc = pg_exec(pg, a, &TICKET_SWEEP, NULL, NULL);
    if (rc != MK_OK) {
        return rc;
    }
    /* The ticket outlives its URL a little: an upload that started at the last second may
     * still be attached. */
    const char *values[] = {key, listing_id, content_type, arena_sprintf(a, "%lld", size_bytes),
                            arena_sprintf(a, "%d", IMAGE_UPLOAD_TTL_S + 3600)};
    return pg_exec(pg, a, &TICKET_CREATE, values, NULL);
}

int
image_ticket_find(struct pg *pg, arena_t *a, const char *key, const char *listing_id, char **content_type,
                  long long *size_bytes, char **seller_id)
{
    const char *values[] = {key, listing_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &TICKET_FIND, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    *content_type = arena_strdup(a, pg_value(res, 0, 0));
    *size_bytes = pg_int(res, 0, 1);
    *seller_id = arena_strdup(a, pg_value(res, 0, 2));
    return MK_OK;
}

int
image_attach(struct pg *pg, arena_t *a, const char *image_id, const char *listing_id, const char *key,
             const char *content_type, long long size_bytes)
{
    const char *values[] = {image_id, listing_id, key, content_type, arena_sprintf(a, "%lld", size_bytes)};
    int rc = pg_exec(pg, a, &ATTACH, values, NULL);
    if (rc == MK_ECONFLICT && pg_failed_with(pg, "23505")) {
        return MK_ECONFLICT;
    }
    return rc;
}

int
image_remove(struct pg *pg, arena_t *a, const char *listing_id, const char *image_id, char **key, char **thumb_key)
{
    const char *values[] = {listing_id, image_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &REMOVE, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    *key = arena_strdup(a, pg_value(res, 0, 0));
    *thumb_key = arena_strdup(a, pg_value(res, 0, 1));
    return MK_OK;
}

int
image_lock_pending(struct pg *pg, arena_t *a, const char *image_id, char **listing_id, char **key,
                   long long *size_bytes)
{
    const char *values[] = {image_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &LOCK_PENDING, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    *listing_id = arena_strdup(a, pg_value(res, 0, 0));
    *key = arena_strdup(a, pg_value(res, 0, 1));
    *size_bytes = pg_int(res, 0, 2);
    return MK_OK;
}

int
image_mark_ready(struct pg *pg, arena_t *a, const char *image_id, int width, int height, const char *thumb_key)
{
    const char *values[] = {image_id, arena_sprintf(a, "%d", width), arena_sprintf(a, "%d", height), thumb_key};
    return pg_exec(pg, a, &MARK_READY, values, NULL);
}

int
image_delete(struct pg *pg, arena_t *a, const char *image_id)
{
    const char *values[] = {image_id};
    return pg_exec(pg, a, &DELETE_ONE, values, NULL);
}

int
image_claim_pending(struct pg *pg, arena_t *a, int claim_s, char **image_id, char **listing_id, char **key)
{
    char secs[16];
    snprintf(secs, sizeof(secs), "%d", claim_s);
    const char *values[] = {secs};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &CLAIM_PENDING, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    *image_id = arena_strdup(a, pg_value(res, 0, 0));
    *listing_id = arena_strdup(a, pg_value(res, 0, 1));
    *key = arena_strdup(a, pg_value(res, 0, 2));
    return MK_OK;
}

int
image_claim_extend(struct pg *pg, arena_t *a, const char *image_id, int claim_s)
{
    char secs[16];
    snprintf(secs, sizeof(secs), "%d", claim_s);
    const char *values[] = {image_id, secs};
    PGresult *res;
    return pg_exec(pg, a, &CLAIM_EXTEND, values, &res);
}

int
media_deletion_queue(struct pg *pg, arena_t *a, const char *const *keys, size_t n)
{
    if (n == 0) {
        return MK_OK;
    }
    /* A text[] literal: every key quoted, with " and \ escaped. */
    size_t cap = 3;
    for (size_t i = 0; i < n; i++) {
        cap += 2 * strlen(keys[i]) + 3;
    }
    char *lit = arena_alloc(a, cap), *o = lit;
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            *o++ = ',';
        }
        *o++ = '"';
        for (const char *c = keys[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\') {
                *o++ = '\\';
            }
            *o++ = *c;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = '\0';
    const char *values[] = {lit};
    PGresult *res;
    return pg_exec(pg, a, &DELETION_QUEUE, values, &res);
}

int
media_deletion_claim(struct pg *pg, arena_t *a, int limit, char ***keys, int *n)
{
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *values[] = {lim};
    PGresult *res;
    *n = 0;
    int rc = pg_exec(pg, a, &DELETION_CLAIM, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    *n = pg_nrows(res);
    *keys = arena_alloc(a, sizeof(char *) * (size_t)(*n > 0 ? *n : 1));
    for (int i = 0; i < *n; i++) {
        (*keys)[i] = arena_strdup(a, pg_value(res, i, 0));
    }
    return MK_OK;
}

int
media_deletion_done(struct pg *pg, arena_t *a, const char *key)
{
    const char *values[] = {key};
    PGresult *res;
    return pg_exec(pg, a, &DELETION_DONE, values, &res);
}
