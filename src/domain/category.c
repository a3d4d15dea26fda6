#include "domain/category.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"
#include "core/text.h"

/* Everything of a set lives in its own arena; category_set_free destroys it. */
struct category_set {
    arena_t *arena;
    struct category *cats; /* tree order */
    size_t n;
    const struct category **by_slug; /* sorted by slug, for category_find */
};

#define CATEGORY_NAME_MAX 80 /* characters of a category's display name */
#define NONE ((size_t)-1)

static const char *const type_names[] = {
    [CATEGORY_STRING] = "string",   [CATEGORY_INTEGER] = "integer", [CATEGORY_NUMBER] = "number",
    [CATEGORY_BOOLEAN] = "boolean", [CATEGORY_ENUM] = "enum",
};

static const struct pg_stmt LOAD = {
    "category_load",
    "SELECT slug, name, parent, position, attributes::text FROM categories ORDER BY position, slug",
    0,
};

const char *
category_attr_type_name(enum category_attr_type type)
{
    return (size_t)type < sizeof(type_names) / sizeof(type_names[0]) ? type_names[type] : "unknown";
}

/* ---- text helpers ---- */

/* Characters (code points) in s[0..len), or -1 when it is not valid UTF-8 (overlong
 * forms, surrogates and code points above U+10FFFF are invalid). */
static long
utf8_chars(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    long n = 0;
    while (p < end) {
        unsigned c = *p;
        size_t extra;
        unsigned min;
        if (c < 0x80) {
            p++;
            n++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3, min = 0x10000, c &= 0x07;
        } else {
            return -1;
        }
        if ((size_t)(end - p) <= extra) {
            return -1;
        }
        for (size_t i = 1; i <= extra; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                return -1;
            }
            c = (c << 6) | (p[i] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
            return -1;
        }
        p += extra + 1;
        n++;
    }
    return n;
}

/* Nothing but white space, Unicode's (text_trim's): U+00A0 or U+3000 alone is blank too. */
static bool
is_blank(const char *s, size_t len)
{
    return text_space_prefix(s, len) == len;
}

/* The problem with a string value (of an attribute or an enum's value), or NULL. */
static const char *
string_problem(const char *s, size_t len)
{
    if (strlen(s) != len) {
        return "must not contain NUL characters";
    }
    long chars = utf8_chars(s, len);
    if (chars < 0) {
        return "must be valid UTF-8";
    }
    if (is_blank(s, len)) {
        return "must not be empty";
    }
    if (text_has_control(s, false)) {
        return "must be one line without control characters";
    }
    if (chars > CATEGORY_STRING_MAX) {
        return "must be at most 200 characters";
    }
    return NULL;
}

/* ^[a-z][first_rest]{0,max-1}$ where the rest are [a-z0-9_] plus '-' when dash. */
static bool
valid_identifier(const char *s, size_t max, bool dash)
{
    if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z')) {
        return false;
    }
    size_t i = 1;
    for (; s[i] != '\0'; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (dash && c == '-'))) {
            return false;
        }
    }
    return i <= max;
}

/* Parse text as one strict JSON value with nothing after it; NULL when it is not. */
static json_object *
json_parse_strict(const char *text)
{
    if (text == NULL) {
        return NULL;
    }
    json_tokener *tok = json_tokener_new();
    if (tok == NULL) {
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    size_t len = strlen(text);
    json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    bool ok = json_tokener_get_error(tok) == json_tokener_success;
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (ok && end < len && strchr(" \t\r\n", text[end]) != NULL) {
        end++;
    }
    if (!ok || end != len) {
        json_object_put(obj);
        return NULL;
    }
    return obj;
}

/* ---- building a set ---- */

/* A set under construction: n categories in input order, parents still by slug. */
struct builder {
    struct category_set *set;
    struct category *tmp;
    size_t n;
    char *err;
    size_t errlen;
};

/* Describe the problem in b->err; returns MK_EVALIDATION. */
static int build_fail(struct builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
build_fail(struct builder *b, const char *fmt, ...)
{
    if (b->err != NULL && b->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->err, b->errlen, fmt, ap);
        va_end(ap);
    }
    return MK_EVALIDATION;
}

/* Start a set of n categories (filled by build_add, indices 0..n-1). */
static int
build_begin(struct builder *b, size_t n, char *err, size_t errlen)
{
    memset(b, 0, sizeof(*b));
    b->err = err;
    b->errlen = errlen;
    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }
    arena_t *a = arena_create(16 * 1024);
    if (a == NULL) {
        return MK_EINTERNAL;
    }
    b->set = arena_calloc(a, sizeof(*b->set));
    b->set->arena = a;
    b->n = n;
    b->tmp = arena_calloc(a, (n > 0 ? n : 1) * sizeof(*b->tmp));
    return MK_OK;
}

/* Parse one attribute definition {"name","type","required","values"?} into out. */
static int
build_attr(struct builder *b, const char *slug, json_object *def, struct category_attr *out)
{
    arena_t *a = b->set->arena;
    if (!json_object_is_type(def, json_type_object)) {
        return build_fail(b, "category %s: an attribute is not an object", slug);
    }
    json_object_object_foreach(def, key, val) {
        (void)val;
        if (strcmp(key, "name") != 0 && strcmp(key, "type") != 0 && strcmp(key, "required") != 0 &&
            strcmp(key, "values") != 0) {
            return build_fail(b, "category %s: unknown member \"%s\" in an attribute", slug, key);
        }
    }
    json_object *name = json_object_object_get(def, "name");
    const char *s = json_object_is_type(name, json_type_string) ? json_object_get_string(name) : NULL;
    if (!valid_identifier(s, CATEGORY_ATTR_NAME_MAX, false)) {
        return build_fail(b, "category %s: attribute name must match ^[a-z][a-z0-9_]{0,39}$", slug);
    }
    out->name = arena_strdup(a, s);

    json_object *type = json_object_object_get(def, "type");
    s = json_object_is_type(type, json_type_string) ? json_object_get_string(type) : "";
    size_t t = 0;
    while (t < sizeof(type_names) / sizeof(type_names[0]) && strcmp(type_names[t], s) != 0) {
        t++;
    }
    if (t == sizeof(type_names) / sizeof(type_names[0])) {
        return build_fail(b, "category %s: attribute %s: type must be string, integer, number, boolean or enum", slug,
                          out->name);
    }
    out->type = (enum category_attr_type)t;

    json_object *required = json_object_object_get(def, "required");
    if (!json_object_is_type(required, json_type_boolean)) {
        return build_fail(b, "category %s: attribute %s: required must be true or false", slug, out->name);
    }
    out->required = json_object_get_boolean(required);

    json_object *values;
    bool has_values = json_object_object_get_ex(def, "values", &values);
    if (out->type != CATEGORY_ENUM) {
        if (has_values) {
            return build_fail(b, "category %s: attribute %s: values only for an enum", slug, out->name);
        }
        return MK_OK;
    }
    size_t nv = json_object_is_type(values, json_type_array) ? json_object_array_length(values) : 0;
    if (nv == 0) {
        return build_fail(b, "category %s: attribute %s: an enum needs a non-empty array of values", slug, out->name);
    }
    const char **v = arena_alloc(a, nv * sizeof(*v));
    for (size_t i = 0; i < nv; i++) {
        json_object *e = json_object_array_get_idx(values, i);
        if (!json_object_is_type(e, json_type_string) ||
            string_problem(json_object_get_string(e), (size_t)json_object_get_string_len(e)) != NULL) {
            return build_fail(b,
                              "category %s: attribute %s: enum values must be non-empty strings of at most %d "
                              "characters",
                              slug, out->name, CATEGORY_STRING_MAX);
        }
        v[i] = arena_strdup(a, json_object_get_string(e));
        for (size_t j = 0; j < i; j++) {
            if (strcmp(v[j], v[i]) == 0) {
                return build_fail(b, "category %s: attribute %s: value \"%s\" is listed twice", slug, out->name, v[i]);
            }
        }
    }
    out->values = v;
    out->nvalues = nv;
    return MK_OK;
}

/* Record category i; strings are copied, attributes (a JSON array, NULL = []) parsed. */
static int
build_add(struct builder *b, size_t i, const char *slug, const char *name, const char *parent, int position,
          json_object *attributes)
{
    arena_t *a = b->set->arena;
    struct category *c = &b->tmp[i];
    if (!valid_identifier(slug, CATEGORY_SLUG_MAX, true)) {
        return build_fail(b, "category #%zu: slug must match ^[a-z][a-z0-9_-]{0,39}$", i);
    }
    c->slug = arena_strdup(a, slug);
    long chars = name != NULL ? utf8_chars(name, strlen(name)) : -1;
    if (chars < 1 || chars > CATEGORY_NAME_MAX || is_blank(name, strlen(name))) {
        return build_fail(b, "category %s: name must be 1 to %d characters", slug, CATEGORY_NAME_MAX);
    }
    c->name = arena_strdup(a, name);
    if (parent != NULL && !valid_identifier(parent, CATEGORY_SLUG_MAX, true)) {
        return build_fail(b, "category %s: parent is not a valid slug", slug);
    }
    c->parent = arena_strdup(a, parent);
    c->position = position;
    if (attributes != NULL && !json_object_is_type(attributes, json_type_array)) {
        return build_fail(b, "category %s: attributes must be an array", slug);
    }
    size_t na = attributes != NULL ? json_object_array_length(attributes) : 0;
    struct category_attr *attrs = arena_calloc(a, (na > 0 ? na : 1) * sizeof(*attrs));
    for (size_t k = 0; k < na; k++) {
        int rc = build_attr(b, slug, json_object_array_get_idx(attributes, k), &attrs[k]);
        if (rc != MK_OK) {
            return rc;
        }
        for (size_t j = 0; j < k; j++) {
            if (strcmp(attrs[j].name, attrs[k].name) == 0) {
                return build_fail(b, "category %s: attribute %s is declared twice", slug, attrs[k].name);
            }
        }
    }
    c->attrs = attrs;
    c->nattrs = na;
    return MK_OK;
}

static int
cmp_slug_ptr(const void *x, const void *y)
{
    const struct category *const *a = x, *const *b = y;
    return strcmp((*a)->slug, (*b)->slug);
}

static int
cmp_sibling_order(const struct category *a, const struct category *b)
{
    if (a->position != b->position) {
        return a->position < b->position ? -1 : 1;
    }
    return strcmp(a->slug, b->slug);
}

/* Pre-order walk: emit i, then its children by (position, slug). sorted holds every index
 * in (position, slug) order. Quadratic in the number of categories, which is small (tens). */
static void
emit_subtree(const size_t *parent_of, const size_t *sorted, size_t n, size_t i, size_t *order, size_t *k)
{
    order[(*k)++] = i;
    for (size_t j = 0; j < n; j++) {
        if (parent_of[sorted[j]] == i) {
            emit_subtree(parent_of, sorted, n, sorted[j], order, k);
        }
    }
}

/* Sort category indices by (position, slug): an insertion sort, as n is small. */
static void
sort_indices(const struct category *tmp, size_t *idx, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        while (j > 0 && cmp_sibling_order(&tmp[idx[j - 1]], &tmp[v]) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
}

/* Link parents, check the tree, lay it out in tree order. On success *out takes the set. */
static int
build_finish(struct builder *b, struct category_set **out)
{
    struct category_set *set = b->set;
    arena_t *a = set->arena;
    size_t n = b->n;

    /* Duplicate slugs, then parents by slug. */
    const struct category **by_slug = arena_alloc(a, (n > 0 ? n : 1) * sizeof(*by_slug));
    for (size_t i = 0; i < n; i++) {
        by_slug[i] = &b->tmp[i];
    }
    qsort(by_slug, n, sizeof(*by_slug), cmp_slug_ptr);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(by_slug[i - 1]->slug, by_slug[i]->slug) == 0) {
            return build_fail(b, "category %s is listed twice", by_slug[i]->slug);
        }
    }
    size_t *parent_of = arena_alloc(a, (n > 0 ? n : 1) * sizeof(*parent_of));
    for (size_t i = 0; i < n; i++) {
        parent_of[i] = NONE;
        if (b->tmp[i].parent == NULL) {
            continue;
        }
        struct category key = {.slug = b->tmp[i].parent};
        const struct category *kp = &key;
        const struct category **hit = bsearch(&kp, by_slug, n, sizeof(*by_slug), cmp_slug_ptr);
        if (hit == NULL) {
            return build_fail(b, "category %s: parent %s does not exist", b->tmp[i].slug, b->tmp[i].parent);
        }
        parent_of[i] = (size_t)(*hit - b->tmp);
    }

    /* Tree order; whatever the walk from the roots does not reach is on a cycle. */
    size_t *sorted = arena_alloc(a, (n > 0 ? n : 1) * sizeof(*sorted));
    size_t *order = arena_alloc(a, (n > 0 ? n : 1) * sizeof(*order));
    size_t *place = arena_alloc(a, (n > 0 ? n : 1) * sizeof(*place));
    for (size_t i = 0; i < n; i++) {
        sorted[i] = i;
        place[i] = NONE;
    }
    sort_indices(b->tmp, sorted, n);
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        if (parent_of[sorted[j]] == NONE) {
            emit_subtree(parent_of, sorted, n, sorted[j], order, &k);
        }
    }
    for (size_t j = 0; j < k; j++) {
        place[order[j]] = j;
    }
    if (k < n) {
        for (size_t i = 0; i < n; i++) {
            if (place[i] == NONE) {
                return build_fail(b, "category %s is not under any root (its parents form a cycle)", b->tmp[i].slug);
            }
        }
    }

    struct category *cats = arena_calloc(a, (n > 0 ? n : 1) * sizeof(*cats));
    for (size_t j = 0; j < n; j++) {
        size_t i = order[j];
        cats[j] = b->tmp[i];
        cats[j].index = j;
        cats[j].subtree_end = j + 1;
        cats[j].up = parent_of[i] == NONE ? NULL : &cats[place[parent_of[i]]]; /* parents come first */
        cats[j].depth = cats[j].up == NULL ? 0 : cats[j].up->depth + 1;
    }
    /* In pre-order a subtree is contiguous: it ends where its last descendant's does. */
    for (size_t j = n; j-- > 0;) {
        if (cats[j].up != NULL && cats[j].subtree_end > cats[j].up->subtree_end) {
            cats[cats[j].up->index].subtree_end = cats[j].subtree_end;
        }
    }
    /* An attribute is declared once along a path: no category redeclares an ancestor's. */
    for (size_t j = 0; j < n; j++) {
        for (size_t m = 0; m < cats[j].nattrs; m++) {
            if (cats[j].up != NULL && category_attr_find(cats[j].up, cats[j].attrs[m].name) != NULL) {
                return build_fail(b, "category %s: attribute %s is already declared by an ancestor", cats[j].slug,
                                  cats[j].attrs[m].name);
            }
        }
    }

    for (size_t j = 0; j < n; j++) {
        by_slug[j] = &cats[j];
    }
    qsort(by_slug, n, sizeof(*by_slug), cmp_slug_ptr);
    set->cats = cats;
    set->n = n;
    set->by_slug = by_slug;
    *out = set;
    b->set = NULL;
    return MK_OK;
}

static void
build_abort(struct builder *b)
{
    if (b->set != NULL) {
        arena_destroy(b->set->arena);
        b->set = NULL;
    }
}

int
category_parse_json(const char *text, struct category_set **out, char *err, size_t errlen)
{
    *out = NULL;
    struct builder b;
    json_object *doc = json_parse_strict(text);
    if (doc == NULL) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "not a JSON document");
        }
        return MK_EMALFORMED;
    }
    json_object *list = json_object_object_get(doc, "categories");
    bool shape = json_object_is_type(doc, json_type_object) && json_object_is_type(list, json_type_array) &&
                 json_object_object_length(doc) == 1;
    int rc = build_begin(&b, shape ? json_object_array_length(list) : 0, err, errlen);
    if (rc != MK_OK) {
        goto cleanup;
    }
    if (!shape) {
        rc = build_fail(&b, "the document must be {\"categories\": [...]}");
        goto cleanup;
    }
    for (size_t i = 0; i < b.n; i++) {
        json_object *c = json_object_array_get_idx(list, i);
        if (!json_object_is_type(c, json_type_object)) {
            rc = build_fail(&b, "category #%zu is not an object", i);
            goto cleanup;
        }
        json_object_object_foreach(c, key, val) {
            (void)val;
            if (strcmp(key, "slug") != 0 && strcmp(key, "name") != 0 && strcmp(key, "parent") != 0 &&
                strcmp(key, "position") != 0 && strcmp(key, "attributes") != 0) {
                rc = build_fail(&b, "category #%zu: unknown member \"%s\"", i, key);
                goto cleanup;
            }
        }
        json_object *slug = json_object_object_get(c, "slug");
        json_object *name = json_object_object_get(c, "name");
        json_object *parent = json_object_object_get(c, "parent");
        json_object *position = NULL;
        bool has_position = json_object_object_get_ex(c, "position", &position);
        if ((parent != NULL && !json_object_is_type(parent, json_type_string)) ||
            (has_position &&
             (!json_object_is_type(position, json_type_int) || json_object_get_int64(position) < INT32_MIN ||
              json_object_get_int64(position) > INT32_MAX))) {
            rc = build_fail(&b, "category #%zu: parent must be a slug or null, position an integer", i);
            goto cleanup;
        }
        rc = build_add(&b, i, json_object_is_type(slug, json_type_string) ? json_object_get_string(slug) : NULL,
                       json_object_is_type(name, json_type_string) ? json_object_get_string(name) : NULL,
                       json_object_get_string(parent), has_position ? json_object_get_int(position) : (int)i,
                       json_object_object_get(c, "attributes"));
        if (rc != MK_OK) {
            goto cleanup;
        }
    }
    rc = build_finish(&b, out);
cleanup:
    build_abort(&b);
    json_object_put(doc);
    return rc;
}

int
category_load(struct pg *pg, arena_t *arena, struct category_set **out)
{
    *out = NULL;
    PGresult *res;
    int rc = pg_exec(pg, arena, &LOAD, NULL, &res);
    if (rc != MK_OK) {
        return rc;
    }
    char err[256];
    struct builder b;
    rc = build_begin(&b, (size_t)pg_nrows(res), err, sizeof(err));
    if (rc != MK_OK) {
        return rc;
    }
    for (size_t i = 0; i < b.n && rc == MK_OK; i++) {
        json_object *attrs = json_parse_strict(pg_value(res, (int)i, 4));
        if (attrs == NULL) {
            rc = build_fail(&b, "category %s: attributes are not JSON", pg_value(res, (int)i, 0));
            break;
        }
        rc = build_add(&b, i, pg_value(res, (int)i, 0), pg_value(res, (int)i, 1), pg_value(res, (int)i, 2),
                       (int)pg_int(res, (int)i, 3), attrs);
        json_object_put(attrs);
    }
    if (rc == MK_OK) {
        rc = build_finish(&b, out);
    }
    build_abort(&b);
    if (rc != MK_OK) {
        log_error("categories: the table does not hold a valid set: %s", err);
        return MK_EINTERNAL;
    }
    return MK_OK;
}

void
category_set_free(struct category_set *set)
{
    if (set != NULL) {
        arena_destroy(set->arena);
    }
}

/* ---- lookups ---- */

size_t
category_count(const struct category_set *set)
{
    return set->n;
}

const struct category *
category_at(const struct category_set *set, size_t i)
{
    return i < set->n ? &set->cats[i] : NULL;
}

const struct category *
category_find(const struct category_set *set, const char *slug)
{
    if (slug == NULL) {
        return NULL;
    }
    struct category key = {.slug = slug};
    const struct category *kp = &key;
    const struct category **hit = bsearch(&kp, set->by_slug, set->n, sizeof(*set->by_slug), cmp_slug_ptr);
    return hit != NULL ? *hit : NULL;
}

bool
category_is_within(const struct category_set *set, const char *slug, const char *ancestor_slug)
{
    const struct category *c = category_find(set, slug), *anc = category_find(set, ancestor_slug);
    return c != NULL && anc != NULL && c->index >= anc->index && c->index < anc->subtree_end;
}

int
category_descendants(const struct category_set *set, const char *slug, arena_t *arena, const char ***slugs, size_t *n)
{
    *slugs = NULL;
    *n = 0;
    const struct category *c = category_find(set, slug);
    if (c == NULL) {
        return MK_ENOTFOUND;
    }
    size_t count = c->subtree_end - c->index;
    const char **list = arena_alloc(arena, count * sizeof(*list));
    for (size_t i = 0; i < count; i++) {
        list[i] = set->cats[c->index + i].slug;
    }
    *slugs = list;
    *n = count;
    return MK_OK;
}

const struct category_attr *
category_attr_find(const struct category *c, const char *name)
{
    for (; c != NULL; c = c->up) {
        for (size_t i = 0; i < c->nattrs; i++) {
            if (strcmp(c->attrs[i].name, name) == 0) {
                return &c->attrs[i];
            }
        }
    }
    return NULL;
}

/* ---- validation of a listing's attributes ---- */

/* "must be one of: a, b, c" for an enum, in the arena. */
static const char *
one_of(arena_t *arena, const struct category_attr *attr)
{
    size_t len = sizeof("must be one of: ");
    for (size_t i = 0; i < attr->nvalues; i++) {
        len += strlen(attr->values[i]) + 2;
    }
    char *msg = arena_alloc(arena, len);
    char *p = msg + sprintf(msg, "must be one of: ");
    for (size_t i = 0; i < attr->nvalues; i++) {
        p += sprintf(p, "%s%s", i > 0 ? ", " : "", attr->values[i]);
    }
    return msg;
}

/* The problem with val as a value of attr, or NULL when it is fine. */
static const char *
value_problem(arena_t *arena, const struct category_attr *attr, json_object *val)
{
    switch (attr->type) {
    case CATEGORY_STRING:
        if (!json_object_is_type(val, json_type_string)) {
            return "must be a string";
        }
        return string_problem(json_object_get_string(val), (size_t)json_object_get_string_len(val));
    case CATEGORY_INTEGER: {
        /* Only an integer literal: not 12.5, 12.0, 1e2 or "12". json-c clamps what int64
         * cannot hold to its limits, which the range check then refuses. */
        if (!json_object_is_type(val, json_type_int)) {
            return "must be an integer";
        }
        long long v = json_object_get_int64(val);
        if (v > CATEGORY_INTEGER_MAX || v < -CATEGORY_INTEGER_MAX) {
            return "must be an integer between -9007199254740991 and 9007199254740991";
        }
        return NULL;
    }
    case CATEGORY_NUMBER: {
        /* In the integers' range too: PostgreSQL keeps the attributes as jsonb, whose numeric
         * writes 1e19 back as 10000000000000000000, which json-c then reads as an integer
         * clamped to 64 bits (what the write answered, and an event the projector could not
         * apply). Within ±(2^53 - 1) every whole number reads back as itself. */
        if (json_object_is_type(val, json_type_int)) {
            long long v = json_object_get_int64(val);
            return v > CATEGORY_INTEGER_MAX || v < -CATEGORY_INTEGER_MAX
                       ? "must be a number between -9007199254740991 and 9007199254740991"
                       : NULL;
        }
        if (!json_object_is_type(val, json_type_double)) {
            return "must be a number";
        }
        double d = json_object_get_double(val);
        if (!isfinite(d)) {
            return "must be a finite number";
        }
        return d > (double)CATEGORY_INTEGER_MAX || d < -(double)CATEGORY_INTEGER_MAX
                   ? "must be a number between -9007199254740991 and 9007199254740991"
                   : NULL;
    }
    case CATEGORY_BOOLEAN:
        return json_object_is_type(val, json_type_boolean) ? NULL : "must be true or false";
    case CATEGORY_ENUM:
        if (json_object_is_type(val, json_type_string)) {
            const char *s = json_object_get_string(val);
            for (size_t i = 0; i < attr->nvalues; i++) {
                if (strcmp(attr->values[i], s) == 0) {
                    return NULL;
                }
            }
        }
        return one_of(arena, attr);
    }
    return "has an unknown type";
}

int
category_validate_attributes(const struct category_set *set, const char *slug, json_object *attributes,
                             struct request *r)
{
    int rc = MK_OK;
    const struct category *c = category_find(set, slug);
    if (c == NULL) {
        rc = http_field_error(r, "category", "is not a known category");
    }
    if (attributes != NULL && !json_object_is_type(attributes, json_type_object)) {
        return http_field_error(r, "attributes", "must be an object");
    }
    if (c == NULL) {
        return rc; /* without a schema there is nothing more to check */
    }
    if (attributes != NULL) {
        if (json_object_object_length(attributes) > CATEGORY_MAX_ATTRIBUTES) {
            rc = http_field_error(r, "attributes", "must have at most 30 attributes");
        }
        json_object_object_foreach(attributes, key, val) {
            const struct category_attr *attr = category_attr_find(c, key);
            const char *problem;
            if (attr == NULL) {
                problem = arena_sprintf(r->arena, "is not an attribute of category %s", c->slug);
            } else if (val == NULL && attr->required) {
                problem = "is required";
            } else {
                problem = value_problem(r->arena, attr, val);
            }
            if (problem != NULL) {
                rc = http_field_error(r, arena_sprintf(r->arena, "attributes.%s", key), problem);
            }
        }
    }
    for (const struct category *k = c; k != NULL; k = k->up) {
        for (size_t i = 0; i < k->nattrs; i++) {
            if (k->attrs[i].required &&
                (attributes == NULL || !json_object_object_get_ex(attributes, k->attrs[i].name, NULL))) {
                rc = http_field_error(r, arena_sprintf(r->arena, "attributes.%s", k->attrs[i].name), "is required");
            }
        }
    }
    return rc;
}

/* ---- GET /categories ---- */

json_object *
category_to_json(const struct category_set *set)
{
    json_object *list = json_object_new_array_ext((int)set->n);
    for (size_t i = 0; i < set->n; i++) {
        const struct category *c = &set->cats[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "slug", json_object_new_string(c->slug));
        json_object_object_add(o, "name", json_object_new_string(c->name));
        json_object_object_add(o, "parent", c->parent != NULL ? json_object_new_string(c->parent) : NULL);
        json_object *attrs = json_object_new_array_ext((int)c->nattrs);
        for (size_t k = 0; k < c->nattrs; k++) {
            const struct category_attr *at = &c->attrs[k];
            json_object *ao = json_object_new_object();
            json_object_object_add(ao, "name", json_object_new_string(at->name));
            json_object_object_add(ao, "type", json_object_new_string(category_attr_type_name(at->type)));
            json_object_object_add(ao, "required", json_object_new_boolean(at->required));
            if (at->type == CATEGORY_ENUM) {
                json_object *values = json_object_new_array_ext((int)at->nvalues);
                for (size_t v = 0; v < at->nvalues; v++) {
                    json_object_array_add(values, json_object_new_string(at->values[v]));
                }
                json_object_object_add(ao, "values", values);
            }
            json_object_array_add(attrs, ao);
        }
        json_object_object_add(o, "attributes", attrs);
        json_object_array_add(list, o);
    }
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "categories", list);
    return doc;
}

/* ---- attr.NAME=VALUE ---- */

/* -?(D+(.D*)?|.D+)([eE][+-]?D+)? — decimal only: no hex, inf or nan, which strtod takes. */
static bool
decimal_syntax(const char *s)
{
    const char *p = s + (*s == '-');
    size_t int_digits = strspn(p, "0123456789");
    p += int_digits;
    size_t frac_digits = 0;
    if (*p == '.') {
        p++;
        frac_digits = strspn(p, "0123456789");
        p += frac_digits;
    }
    if (int_digits + frac_digits == 0) {
        return false;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        p += (*p == '+' || *p == '-');
        size_t exp_digits = strspn(p, "0123456789");
        if (exp_digits == 0) {
            return false;
        }
        p += exp_digits;
    }
    return *p == '\0';
}

int
category_attr_parse_value(const struct category_attr *attr, const char *text, struct category_value *out)
{
    memset(out, 0, sizeof(*out));
    out->type = attr->type;
    if (text == NULL) {
        return MK_EBADPARAM;
    }
    switch (attr->type) {
    case CATEGORY_STRING:
        if (string_problem(text, strlen(text)) != NULL) {
            return MK_EBADPARAM;
        }
        out->u.s = text;
        return MK_OK;
    case CATEGORY_INTEGER: {
        const char *digits = text + (*text == '-');
        if (*digits == '\0' || strspn(digits, "0123456789") != strlen(digits)) {
            return MK_EBADPARAM;
        }
        errno = 0;
        long long v = strtoll(text, NULL, 10);
        if (errno != 0 || v > CATEGORY_INTEGER_MAX || v < -CATEGORY_INTEGER_MAX) {
            return MK_EBADPARAM;
        }
        out->u.i = v;
        return MK_OK;
    }
    case CATEGORY_NUMBER: {
        if (!decimal_syntax(text)) {
            return MK_EBADPARAM;
        }
        double d = strtod(text, NULL);
        if (!isfinite(d)) {
            return MK_EBADPARAM;
        }
        out->u.d = d;
        return MK_OK;
    }
    case CATEGORY_BOOLEAN:
        if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
            out->u.b = text[0] == 't';
            return MK_OK;
        }
        return MK_EBADPARAM;
    case CATEGORY_ENUM:
        for (size_t i = 0; i < attr->nvalues; i++) {
            if (strcmp(attr->values[i], text) == 0) {
                out->u.s = attr->values[i];
                return MK_OK;
            }
        }
        return MK_EBADPARAM;
    }
    return MK_EBADPARAM;
}
