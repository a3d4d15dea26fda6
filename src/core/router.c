#include "core/router.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/ids.h"

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

/*
 * Compare the shapes of two patterns that match the same path: at the first segment where
 * one has a literal and the other a {param}, the literal is more specific. > 0 when a is
 * more specific than b, < 0 when b is, 0 when both have the same shape (the same resource).
 */
static int
pattern_specificity(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0') {
        bool pa = a[0] == '/' && a[1] == '{';
        bool pb = b[0] == '/' && b[1] == '{';
        if (pa != pb) {
            return pa ? -1 : 1;
        }
        /* next segment of each */
        a = strchr(a + 1, '/');
        b = strchr(b + 1, '/');
        if (a == NULL || b == NULL) {
            break;
        }
    }
    return 0;
}

/* UUIDs are accepted in any case and stored in lower case: fold a captured one before any
 * lookup, so reads (string keys in the read model) find what writes stored. */
static void
fold_uuid_params(struct request *r)
{
    for (size_t i = 0; i < r->npath_params; i++) {
        char *v = r->path_params[i];
        if (!uuid_valid(v)) {
            continue;
        }
        for (char *c = v; *c != '\0'; c++) {
            if (*c >= 'A' && *c <= 'F') {
                *c = (char)tolower((unsigned char)*c);
                r->path_folded = true;
            }
        }
    }
}

static void
allow_add(char *allow, size_t cap, size_t *len, const char *m)
{
    size_t ml = strlen(m);
    /* "GET" must not be taken for present because "GET, HEAD" is: compare whole items. */
    for (const char *p = allow; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t il = end != NULL ? (size_t)(end - p) : strlen(p);
        if (il == ml && memcmp(p, m, ml) == 0) {
            return;
        }
        p = end != NULL ? end + 2 : p + il;
    }
    if (*len + ml + 8 >= cap) {
        return;
    }
    if (*len > 0) {
        memcpy(allow + *len, ", ", 2);
        *len += 2;
    }
    memcpy(allow + *len, m, ml + 1);
    *len += ml;
    if (strcmp(m, "GET") == 0) {
        allow_add(allow, cap, len, "HEAD");
    }
}

/* Per pattern of the last table seen: its '/' count and the length of its literal start
 * (up to its first {param}). A pattern can match a path only if both have as many '/' (a
 * {param} never spans one) and the path starts with that literal: checking these first
 * leaves pattern_match a handful of the ~100 patterns (it was an eighth of a Redis-hit
 * read's instructions in the query worker). Single-threaded callers (the FastCGI workers). */
struct shape {
    unsigned short slashes;
    unsigned short literal;
};
static const struct route *shapes_of;
static size_t shapes_n;
static struct shape *shapes;

static unsigned short
slashes_in(const char *s)
{
    unsigned short n = 0;
    for (; *s != '\0'; s++) {
        n += *s == '/';
    }
    return n;
}

static const struct shape *
shapes_for(const struct route *routes, size_t n)
{
    if (shapes_of == routes && shapes_n == n) {
        return shapes;
    }
    struct shape *fresh = realloc(shapes, (n > 0 ? n : 1) * sizeof(*fresh));
    if (fresh == NULL) {
        return NULL;
    }
    shapes = fresh;
    for (size_t i = 0; i < n; i++) {
        const char *brace = strchr(routes[i].pattern, '{');
        shapes[i].slashes = slashes_in(routes[i].pattern);
        shapes[i].literal = (unsigned short)(brace != NULL ? (size_t)(brace - routes[i].pattern) : strlen(routes[i].pattern));
    }
    shapes_of = routes;
    shapes_n = n;
    return shapes;
}

int
router_match(struct request *r, const struct route *routes, size_t n)
{
    const char *method = r->head ? "GET" : r->method;
    char allow[128] = "";
    size_t allow_len = 0;

    /* The resource: the most specific pattern that matches the path (literal segments win
     * over {param} segments: /listings/{id}/images/uploads over .../images/{image_id}).
     * The matching routes are noted in this one pass over the table, for the second. */
    size_t *hits = arena_alloc(r->arena, (n > 0 ? n : 1) * sizeof(*hits)), nhits = 0;
    const char *best = NULL;
    const struct shape *sh = shapes_for(routes, n);
    unsigned short path_slashes = slashes_in(r->path);
    /* The methods of one resource are rows with the same pattern, one string when the compiler
     * merges equal literals (gcc does within routes.c): such a row is matched, and compared
     * with the best, by its pointer, not again by text (a Redis-hit read met its pattern three
     * times: README, "Tenth pass"). Patterns that only compare equal take the general path. */
    const char *last = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *pattern = routes[i].pattern;
        if (pattern != last) {
            if (sh != NULL && (sh[i].slashes != path_slashes || strncmp(r->path, pattern, sh[i].literal) != 0)) {
                continue;
            }
            if (!pattern_match(r, pattern, r->path, false)) {
                continue;
            }
        }
        last = pattern;
        hits[nhits++] = i;
        if (best == NULL || (pattern != best && pattern_specificity(pattern, best) > 0)) {
            best = pattern;
        }
    }
    if (best == NULL) {
        return http_fail(r, MK_ENOTFOUND, "no such resource");
    }
    /* Its methods: the routes of the same shape (the same resource, whatever the
     * parameter names). */
    for (size_t h = 0; h < nhits; h++) {
        size_t i = hits[h];
        if (routes[i].pattern != best && pattern_specificity(routes[i].pattern, best) != 0) {
            continue;
        }
        if (strcmp(routes[i].method, method) == 0) {
            pattern_match(r, routes[i].pattern, r->path, true);
            fold_uuid_params(r);
            r->route = routes[i].pattern;
            r->route_index = (int)i;
            return (int)i;
        }
        allow_add(allow, sizeof(allow), &allow_len, routes[i].method);
    }
    http_set_header(r, "Allow", allow);
    return http_fail(r, MK_EMETHOD, "method not allowed on this resource");
}
