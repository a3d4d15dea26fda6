#include "core/router.h"

#include <string.h>

#include "core/errors.h"

/* Match pattern against path; on success store the {name} captures in r. */
static int
pattern_match(struct request *r, const char *pattern, const char *path, bool capture)
{
    const char *p = pattern;
    const char *s = path;
    size_t nparams = 0;

    while (*p != '\0' && *s != '\0') {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (close == NULL) {
                return 0;
            }
            const char *seg_end = strchr(s, '/');
            if (seg_end == NULL) {
                seg_end = s + strlen(s);
            }
            if (seg_end == s || nparams == HTTP_MAX_PATH_PARAMS) {
                return 0;
            }
            if (capture) {
                r->path_param_names[nparams] = arena_strndup(r->arena, p + 1, (size_t)(close - p - 1));
                r->path_params[nparams] = arena_strndup(r->arena, s, (size_t)(seg_end - s));
            }
            nparams++;
            p = close + 1;
            s = seg_end;
            continue;
        }
        if (*p != *s) {
            return 0;
        }
        p++;
        s++;
    }
    if (*p != '\0' || *s != '\0') {
        return 0;
    }
    if (capture) {
        r->npath_params = nparams;
    }
    return 1;
}

int
router_match(struct request *r, const struct route *routes, size_t n)
{
    const char *method = r->head ? "GET" : r->method;
    char allow[128] = "";
    size_t allow_len = 0;
    bool path_known = false;

    for (size_t i = 0; i < n; i++) {
        if (!pattern_match(r, routes[i].pattern, r->path, false)) {
            continue;
        }
        path_known = true;
        if (strcmp(routes[i].method, method) == 0) {
            pattern_match(r, routes[i].pattern, r->path, true);
            r->route = routes[i].pattern;
            r->route_index = (int)i;
            return (int)i;
        }
        const char *m = routes[i].method;
        size_t ml = strlen(m);
        if (strstr(allow, m) == NULL && allow_len + ml + 8 < sizeof(allow)) {
            if (allow_len > 0) {
                memcpy(allow + allow_len, ", ", 2);
                allow_len += 2;
            }
            memcpy(allow + allow_len, m, ml + 1);
            allow_len += ml;
            if (strcmp(m, "GET") == 0) {
                memcpy(allow + allow_len, ", HEAD", 7);
                allow_len += 6;
            }
        }
    }
    if (!path_known) {
        return http_fail(r, MK_ENOTFOUND, "no such resource");
    }
    http_set_header(r, "Allow", allow);
    return http_fail(r, MK_EMETHOD, "method not allowed on this resource");
}
