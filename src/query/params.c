#include "query/params.h"

#include <string.h>

#include "core/errors.h"
#include "core/cursor.h"
#include "core/ids.h"
#include "core/qstr.h"
#include "domain/session.h"
#include "worker.h"

int
query_params_check(struct request *r, const char *const *allowed)
{
    for (size_t i = 0; i < r->nquery; i++) {
        const char *name = r->query[i].name;
        bool known = false;
        for (const char *const *a = allowed; *a != NULL && !known; a++) {
            known = strcmp(*a, name) == 0;
        }
        if (!known) {
            return http_fail(r, MK_EBADPARAM, arena_sprintf(r->arena, "%s: unknown parameter", name));
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(r->query[j].name, name) == 0) {
                return http_fail(r, MK_EBADPARAM, arena_sprintf(r->arena, "%s: given more than once", name));
            }
        }
    }
    return MK_OK;
}

int
query_limit(struct request *r, int *limit)
{
    const char *v = http_query(r, "limit");
    *limit = QUERY_DEFAULT_LIMIT;
    if (v == NULL) {
        return MK_OK;
    }
    long long n;
    if (!qstr_int(v, 1, QUERY_MAX_LIMIT, &n)) {
        return http_fail(r, MK_EBADPARAM, "limit: must be an integer from 1 to 100");
    }
    *limit = (int)n;
    return MK_OK;
}

int
query_cursor(struct request *r, const char *scope, json_object **after)
{
    const char *text = http_query(r, "cursor");
    *after = NULL;
    if (text != NULL && cursor_read(r->arena, r->worker->cfg->cursor_secret, scope, text, after) != MK_OK) {
        return http_fail(r, MK_EBADPARAM, "cursor: is not a cursor of this list (edited, or made for other parameters)");
    }
    return MK_OK;
}

json_object *
query_next_cursor(struct request *r, const char *scope, json_object *key)
{
    return key != NULL ? json_object_new_string(cursor_make(r->arena, r->worker->cfg->cursor_secret, scope, key))
                       : NULL;
}

int
query_role(struct request *r, int *role)
{
    const char *v = http_query(r, "role");
    *role = 0;
    if (v == NULL) {
        return MK_OK;
    }
    if (strcmp(v, "buyer") == 0 || strcmp(v, "seller") == 0) {
        *role = v[0] == 'b' ? 1 : 2;
        return MK_OK;
    }
    return http_fail(r, MK_EBADPARAM, "role: must be buyer or seller");
}

int
query_keyset_cursor(struct request *r, const char *scope, long long *after_us, const char **after_id)
{
    json_object *after;
    int rc = query_cursor(r, scope, &after);
    *after_us = after != NULL ? json_object_get_int64(json_object_array_get_idx(after, 0)) : 0;
    *after_id = after != NULL ? json_object_get_string(json_object_array_get_idx(after, 1)) : NULL;
    return rc;
}

int
query_respond_page(struct request *r, const char *scope, const void *items, size_t n, int limit, query_item_fn item)
{
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object *list = json_object_new_array();
    json_object_object_add(doc, "items", list);
    json_object *json;
    long long key_us;
    const char *id;
    for (size_t i = 0; i < n && i < (size_t)limit; i++) {
        item(items, i, &json, &key_us, &id);
        json_object_array_add(list, json_object_get(json));
    }
    json_object *key = NULL;
    if (n > (size_t)limit) {
        item(items, (size_t)limit - 1, &json, &key_us, &id);
        key = http_json_own(r, json_object_new_array());
        json_object_array_add(key, json_object_new_int64(key_us));
        json_object_array_add(key, json_object_new_string(id));
    }
    json_object_object_add(doc, "next_cursor", query_next_cursor(r, scope, key));
    http_set_header(r, "Cache-Control", "private, no-store");
    return http_respond_json(r, 200, doc);
}

int
query_private_read(struct request *r, const char *name, query_get_fn get)
{
    struct worker *w = r->worker;
    const char *id = http_path_param(r, "id");
    struct session s;
    int rc = worker_authenticate(r, &s);
    if (rc != MK_OK) {
        return rc;
    }
    json_object *json = NULL;
    rc = uuid_valid(id) ? get(&w->pg_read, r->arena, id, s.user_id, &json) : MK_ENOTFOUND;
    if (rc == MK_ENOTFOUND) {
        /* Also when it exists but the caller is neither of its parties. */
        return http_fail(r, rc, arena_sprintf(r->arena, "no such %s", name));
    }
    if (rc != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, name, json_object_get(json));
    http_set_header(r, "Cache-Control", "private, no-store");
    return http_respond_json(r, 200, doc);
}
