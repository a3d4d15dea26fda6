#include "query/params.h"

#include <string.h>

#include "core/errors.h"
#include "core/cursor.h"
#include "core/qstr.h"
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
