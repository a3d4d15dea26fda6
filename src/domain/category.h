/*
 * category.h — the category tree and the attribute schema of each category.
 *
 * Categories are data (table `categories`, sql/004_categories.sql). A worker loads the whole
 * set once with category_load(), keeps it for a while and frees it with category_set_free();
 * tests build the same set from JSON with category_parse_json(). A set is immutable after it
 * is built, so it can be shared by every request of a worker without locking.
 *
 * Inheritance rule: the attributes of a listing are validated against its own category's
 * schema plus the schemas of all its ancestors. An attribute name is declared at most once
 * along a root-to-leaf path (a child cannot redeclare or override an ancestor's attribute;
 * building a set that does so fails), so a name has one definition in a whole subtree.
 */
#ifndef MK_CATEGORY_H
#define MK_CATEGORY_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/arena.h"
#include "core/http.h"
#include "store/pg.h"

#define CATEGORY_SLUG_MAX 40       /* ^[a-z][a-z0-9_-]{0,39}$ */
#define CATEGORY_ATTR_NAME_MAX 40  /* ^[a-z][a-z0-9_]{0,39}$ */
#define CATEGORY_MAX_ATTRIBUTES 30 /* per listing (API.md) */
#define CATEGORY_STRING_MAX 200    /* characters of a string attribute value */
/* Integer attribute values are limited to what a double holds exactly (2^53 - 1), so a
 * value survives JavaScript clients and the read model unchanged. */
#define CATEGORY_INTEGER_MAX 9007199254740991LL

enum category_attr_type {
    CATEGORY_STRING,
    CATEGORY_INTEGER,
    CATEGORY_NUMBER,
    CATEGORY_BOOLEAN,
    CATEGORY_ENUM,
};

/* One attribute of a category's schema. Everything points into its set. */
struct category_attr {
    const char *name;
    enum category_attr_type type;
    bool required;
    const char *const *values; /* CATEGORY_ENUM only: nvalues allowed values; else NULL */
    size_t nvalues;
};

/* One category. Everything points into its set and lives as long as the set. */
struct category {
    const char *slug;
    const char *name;
    const char *parent;                /* slug of the parent, NULL for a root */
    int position;                      /* order among siblings (then slug) */
    const struct category_attr *attrs; /* its own attributes, not its ancestors' */
    size_t nattrs;
    const struct category *up; /* the parent, NULL for a root */
    int depth;                 /* 0 for a root */
    size_t index;              /* its place in tree order (category_at) */
    size_t subtree_end;        /* one past its last descendant in tree order */
};

/* The whole tree; opaque. */
struct category_set;

/*
 * Load every category from PostgreSQL (one named prepared statement). arena holds the
 * query's result until its next reset; *out is heap-allocated, owned by the caller, freed
 * with category_set_free. Returns MK_OK, MK_EUNAVAILABLE or MK_ECONFLICT from pg_exec,
 * or MK_EINTERNAL when the query fails or the rows do not form a valid set (logged).
 */
int category_load(struct pg *pg, arena_t *arena, struct category_set **out);

/*
 * Build a set from a JSON document of the shape of GET /api/v1/categories
 * ({"categories": [{"slug","name","parent","attributes": [...]}]}, "position" optional:
 * the index in the array when absent). *out is owned by the caller (category_set_free).
 * Returns MK_OK, MK_EMALFORMED when text is not JSON, or MK_EVALIDATION when the document
 * is not a valid set (bad slug or attribute, unknown parent, cycle, duplicate, a name
 * redeclared along a path ...); err (may be NULL) then says what, in at most errlen bytes.
 */
int category_parse_json(const char *text, struct category_set **out, char *err, size_t errlen);

/* Free a set and everything it points to. NULL is accepted. */
void category_set_free(struct category_set *set);

/* Number of categories, and the i-th in tree order: roots by (position, slug), each
 * followed by its subtree, siblings by (position, slug). NULL when i is out of range. */
size_t category_count(const struct category_set *set);
const struct category *category_at(const struct category_set *set, size_t i);

/* The category called slug, or NULL (also for slug NULL). */
const struct category *category_find(const struct category_set *set, const char *slug);

/* True when slug is ancestor_slug or one of its descendants; false when either is unknown. */
bool category_is_within(const struct category_set *set, const char *slug, const char *ancestor_slug);

/*
 * The slugs of slug's subtree, itself first, in tree order. *slugs is allocated in arena
 * (the strings belong to the set); *n receives the count. MK_ENOTFOUND for an unknown slug
 * (browse answers that with bad_parameter).
 */
int category_descendants(const struct category_set *set, const char *slug, arena_t *arena, const char ***slugs,
                         size_t *n);

/* The attribute called name that applies to category c: its own or an ancestor's. NULL if
 * none. */
const struct category_attr *category_attr_find(const struct category *c, const char *name);

/* "string", "integer", "number", "boolean" or "enum". */
const char *category_attr_type_name(enum category_attr_type type);

/*
 * Check a listing's attributes (a JSON object; NULL, i.e. absent or JSON null, counts as
 * {}) against the schema of category slug and its ancestors. Every problem is reported with
 * http_field_error(r, "attributes.NAME", ...) ("attributes" for the object as a whole,
 * "category" for an unknown slug): unknown attribute, wrong type, out-of-range or empty
 * value, value not in an enum, more than CATEGORY_MAX_ATTRIBUTES, missing required one.
 * Returns MK_OK or MK_EVALIDATION.
 */
int category_validate_attributes(const struct category_set *set, const char *slug, json_object *attributes,
                                 struct request *r);

/*
 * The body of GET /api/v1/categories: {"categories": [{"slug","name","parent","attributes":
 * [{"name","type","required","values"?}]}]} in tree order, parent null for roots, values only
 * for enums. A new reference: the caller puts it (or hands it to http_json_own).
 */
json_object *category_to_json(const struct category_set *set);

/* A value typed by an attribute's schema, from category_attr_parse_value. */
struct category_value {
    enum category_attr_type type;
    union {
        const char *s; /* STRING: the text given; ENUM: the schema's value */
        long long i;   /* INTEGER */
        double d;      /* NUMBER */
        bool b;        /* BOOLEAN */
    } u;
};

/*
 * Type a query-string value (attr.NAME=VALUE of browse) by attr: an integer in decimal
 * ("128"), a finite decimal number ("13.3", "-2", "1e3"), "true" or "false", a non-empty
 * string of at most CATEGORY_STRING_MAX characters, or exactly one of an enum's values.
 * out->u.s points into text or into the set, so it lives as long as both. Returns MK_OK or
 * MK_EBADPARAM.
 */
int category_attr_parse_value(const struct category_attr *attr, const char *text, struct category_value *out);

#endif
