/* Unit tests of domain/category: the category tree, attribute schemas and their checks.
 * No services: the set is built from SEED, a JSON copy of the seed of sql/004_categories.sql. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/errors.h"
#include "core/http.h"
#include "core/log.h"
#include "domain/category.h"

/*
 * The seed of sql/004_categories.sql, row for row (keep them in step). Written with single
 * quotes for readability; dq() turns them into JSON's double quotes (no value has an
 * apostrophe).
 */
static const char SEED[] =
    "{'categories': ["
    "{'slug': 'electronics', 'name': 'Electronics', 'parent': null, 'position': 10, 'attributes': ["
    "    {'name': 'brand', 'type': 'string', 'required': true},"
    "    {'name': 'model', 'type': 'string', 'required': false},"
    "    {'name': 'color', 'type': 'string', 'required': false}"
    "]},"
    "{'slug': 'phones', 'name': 'Phones', 'parent': 'electronics', 'position': 10, 'attributes': ["
    "    {'name': 'storage_gb', 'type': 'integer', 'required': true},"
    "    {'name': 'unlocked', 'type': 'boolean', 'required': false},"
    "    {'name': 'dual_sim', 'type': 'boolean', 'required': false}"
    "]},"
    "{'slug': 'laptops', 'name': 'Laptops', 'parent': 'electronics', 'position': 20, 'attributes': ["
    "    {'name': 'screen_in', 'type': 'number', 'required': false},"
    "    {'name': 'ram_gb', 'type': 'integer', 'required': false},"
    "    {'name': 'storage_gb', 'type': 'integer', 'required': false},"
    "    {'name': 'cpu', 'type': 'string', 'required': false},"
    "    {'name': 'os', 'type': 'enum', 'required': false, "
    "        'values': ['windows', 'macos', 'linux', 'chromeos', 'none']}"
    "]},"
    "{'slug': 'cameras', 'name': 'Cameras', 'parent': 'electronics', 'position': 30, 'attributes': ["
    "    {'name': 'kind', 'type': 'enum', 'required': true, "
    "        'values': ['dslr', 'mirrorless', 'compact', 'action', 'film', 'instant']},"
    "    {'name': 'megapixels', 'type': 'number', 'required': false},"
    "    {'name': 'lens_mount', 'type': 'string', 'required': false},"
    "    {'name': 'shutter_count', 'type': 'integer', 'required': false}"
    "]},"
    "{'slug': 'audio', 'name': 'Audio', 'parent': 'electronics', 'position': 40, 'attributes': ["
    "    {'name': 'kind', 'type': 'enum', 'required': true, "
    "        'values': ['headphones', 'earbuds', 'speaker', 'soundbar', 'amplifier', 'turntable', 'microphone']},"
    "    {'name': 'wireless', 'type': 'boolean', 'required': false},"
    "    {'name': 'noise_cancelling', 'type': 'boolean', 'required': false}"
    "]},"
    "{'slug': 'clothing', 'name': 'Clothing', 'parent': null, 'position': 20, 'attributes': ["
    "    {'name': 'gender', 'type': 'enum', 'required': false, 'values': ['women', 'men', 'unisex', 'kids']},"
    "    {'name': 'brand', 'type': 'string', 'required': false},"
    "    {'name': 'material', 'type': 'string', 'required': false},"
    "    {'name': 'color', 'type': 'string', 'required': false}"
    "]},"
    "{'slug': 'tops', 'name': 'Tops', 'parent': 'clothing', 'position': 10, 'attributes': ["
    "    {'name': 'size', 'type': 'enum', 'required': true, 'values': ['XS', 'S', 'M', 'L', 'XL', 'XXL']},"
    "    {'name': 'sleeve', 'type': 'enum', 'required': false, 'values': ['sleeveless', 'short', 'long']}"
    "]},"
    "{'slug': 'bottoms', 'name': 'Trousers and skirts', 'parent': 'clothing', 'position': 20, 'attributes': ["
    "    {'name': 'size', 'type': 'enum', 'required': true, 'values': ['XS', 'S', 'M', 'L', 'XL', 'XXL']},"
    "    {'name': 'waist_cm', 'type': 'integer', 'required': false},"
    "    {'name': 'length_cm', 'type': 'integer', 'required': false}"
    "]},"
    "{'slug': 'shoes', 'name': 'Shoes', 'parent': 'clothing', 'position': 30, 'attributes': ["
    "    {'name': 'size_eu', 'type': 'number', 'required': true},"
    "    {'name': 'kind', 'type': 'enum', 'required': false, "
    "        'values': ['sneakers', 'boots', 'sandals', 'formal', 'sports', 'slippers']}"
    "]},"
    "{'slug': 'furniture', 'name': 'Furniture', 'parent': null, 'position': 30, 'attributes': ["
    "    {'name': 'material', 'type': 'string', 'required': false},"
    "    {'name': 'color', 'type': 'string', 'required': false},"
    "    {'name': 'width_cm', 'type': 'integer', 'required': false},"
    "    {'name': 'depth_cm', 'type': 'integer', 'required': false},"
    "    {'name': 'height_cm', 'type': 'integer', 'required': false},"
    "    {'name': 'assembly_required', 'type': 'boolean', 'required': false}"
    "]},"
    "{'slug': 'sofas', 'name': 'Sofas', 'parent': 'furniture', 'position': 10, 'attributes': ["
    "    {'name': 'seats', 'type': 'integer', 'required': true},"
    "    {'name': 'sofa_bed', 'type': 'boolean', 'required': false}"
    "]},"
    "{'slug': 'tables', 'name': 'Tables', 'parent': 'furniture', 'position': 20, 'attributes': ["
    "    {'name': 'shape', 'type': 'enum', 'required': false, 'values': ['round', 'oval', 'square', 'rectangular']},"
    "    {'name': 'seats', 'type': 'integer', 'required': false},"
    "    {'name': 'extendable', 'type': 'boolean', 'required': false}"
    "]},"
    "{'slug': 'books', 'name': 'Books', 'parent': null, 'position': 40, 'attributes': ["
    "    {'name': 'author', 'type': 'string', 'required': true},"
    "    {'name': 'isbn', 'type': 'string', 'required': false},"
    "    {'name': 'language', 'type': 'string', 'required': false},"
    "    {'name': 'format', 'type': 'enum', 'required': false, 'values': ['hardcover', 'paperback', 'ebook']},"
    "    {'name': 'publisher', 'type': 'string', 'required': false},"
    "    {'name': 'year', 'type': 'integer', 'required': false}"
    "]},"
    "{'slug': 'textbooks', 'name': 'Textbooks', 'parent': 'books', 'position': 10, 'attributes': ["
    "    {'name': 'subject', 'type': 'string', 'required': false},"
    "    {'name': 'edition', 'type': 'integer', 'required': false}"
    "]},"
    "{'slug': 'sports', 'name': 'Sports', 'parent': null, 'position': 50, 'attributes': ["
    "    {'name': 'sport', 'type': 'string', 'required': false},"
    "    {'name': 'brand', 'type': 'string', 'required': false}"
    "]},"
    "{'slug': 'bicycles', 'name': 'Bicycles', 'parent': 'sports', 'position': 10, 'attributes': ["
    "    {'name': 'kind', 'type': 'enum', 'required': true, "
    "        'values': ['road', 'mountain', 'gravel', 'hybrid', 'city', 'bmx', 'kids']},"
    "    {'name': 'frame_size_cm', 'type': 'integer', 'required': false},"
    "    {'name': 'wheel_size_in', 'type': 'number', 'required': false},"
    "    {'name': 'gears', 'type': 'integer', 'required': false},"
    "    {'name': 'electric', 'type': 'boolean', 'required': false}"
    "]},"
    "{'slug': 'toys', 'name': 'Toys', 'parent': null, 'position': 60, 'attributes': ["
    "    {'name': 'brand', 'type': 'string', 'required': false},"
    "    {'name': 'min_age_years', 'type': 'integer', 'required': false},"
    "    {'name': 'battery_powered', 'type': 'boolean', 'required': false}"
    "]},"
    "{'slug': 'board_games', 'name': 'Board games', 'parent': 'toys', 'position': 10, 'attributes': ["
    "    {'name': 'min_players', 'type': 'integer', 'required': false},"
    "    {'name': 'max_players', 'type': 'integer', 'required': false},"
    "    {'name': 'language', 'type': 'string', 'required': false},"
    "    {'name': 'complete', 'type': 'boolean', 'required': false}"
    "]},"
    "{'slug': 'building_sets', 'name': 'Building sets', 'parent': 'toys', 'position': 20, 'attributes': ["
    "    {'name': 'pieces', 'type': 'integer', 'required': false},"
    "    {'name': 'set_number', 'type': 'string', 'required': false},"
    "    {'name': 'complete', 'type': 'boolean', 'required': false}"
    "]}"
    "]}";

static arena_t *A;
static struct category_set *S;

/* text with every ' replaced by ", in the arena. */
static char *
dq(const char *text)
{
    char *s = arena_strdup(A, text);
    for (char *p = s; *p != '\0'; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }
    return s;
}

static void
setup(void)
{
    A = arena_create(4096);
    log_init("test", "error");
    char err[256] = "";
    int rc = category_parse_json(dq(SEED), &S, err, sizeof(err));
    cr_assert_eq(rc, MK_OK, "the seed must parse: %s", err);
}

static void
teardown(void)
{
    category_set_free(S);
    arena_destroy(A);
}

TestSuite(category, .init = setup, .fini = teardown);

/* ---- helpers ---- */

/* A request good enough for http_field_error: no FastCGI server needed. */
static struct request *
new_request(void)
{
    static char *env[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/v1/listings", "QUERY_STRING=", NULL};
    struct request *r = arena_calloc(A, sizeof(*r));
    cr_assert_eq(http_request_init(r, A, env, NULL, 0), MK_OK);
    return r;
}

static void
put_json(void *obj)
{
    json_object_put(obj);
}

/* Hand obj to the arena: put at the next reset. */
static json_object *
own(json_object *obj)
{
    arena_cleanup_add(A, put_json, obj);
    return obj;
}

/* A JSON value (single quotes allowed, see dq), owned by the arena. */
static json_object *
js(const char *text)
{
    json_object *v = json_tokener_parse(dq(text));
    return own(v);
}

/* Validate attributes (JSON text, NULL = absent) of a listing in category slug; r receives
 * the field errors. */
static int
validate(struct request **r, const char *slug, const char *attributes)
{
    *r = new_request();
    return category_validate_attributes(S, slug, attributes != NULL ? js(attributes) : NULL, *r);
}

/* The problem reported for field, or NULL. */
static const char *
problem(const struct request *r, const char *field)
{
    json_object *v;
    if (r->err_fields == NULL || !json_object_object_get_ex(r->err_fields, field, &v)) {
        return NULL;
    }
    return json_object_get_string(v);
}

static int
nproblems(const struct request *r)
{
    return r->err_fields != NULL ? json_object_object_length(r->err_fields) : 0;
}

/* The one problem of a listing in slug whose attributes are {name: value}, or NULL when valid.
 * Other attributes required by slug are filled in with valid values first. */
static const char *
problem_with(const char *slug, const char *name, const char *value)
{
    char body[1024];
    const char *base = strcmp(slug, "phones") == 0                  ? "'brand': 'Apple', 'storage_gb': 128"
                       : category_is_within(S, slug, "electronics") ? "'brand': 'Lenovo'"
                                                                    : "";
    snprintf(body, sizeof(body), "{%s%s'%s': %s}", base, base[0] != '\0' ? ", " : "", name, value);
    struct request *r;
    int rc = validate(&r, slug, body);
    char field[128];
    snprintf(field, sizeof(field), "attributes.%s", name);
    if (rc == MK_OK) {
        cr_assert_eq(nproblems(r), 0);
        return NULL;
    }
    cr_assert_eq(rc, MK_EVALIDATION);
    cr_assert_eq(nproblems(r), 1, "%s=%s: %s", name, value, json_object_to_json_string(r->err_fields));
    cr_assert_not_null(problem(r, field), "%s", json_object_to_json_string(r->err_fields));
    return problem(r, field);
}

#define assert_valid(slug, name, value)                                                                                \
    cr_assert_null(problem_with(slug, name, value), "%s = %s should be valid", name, value)
#define assert_problem(slug, name, value, expected)                                                                    \
    do {                                                                                                               \
        const char *p_ = problem_with(slug, name, value);                                                              \
        cr_assert_not_null(p_, "%s = %s should be refused", name, value);                                              \
        cr_assert_str_eq(p_, expected, "%s = %s", name, value);                                                        \
    } while (0)

/* ---- the tree ---- */

Test(category, seed_is_laid_out_in_tree_order)
{
    static const char *const order[] = {
        "electronics", "phones",   "laptops",   "cameras",     "audio",         "clothing", "tops",
        "bottoms",     "shoes",    "furniture", "sofas",       "tables",        "books",    "textbooks",
        "sports",      "bicycles", "toys",      "board_games", "building_sets",
    };
    size_t n = sizeof(order) / sizeof(order[0]);
    cr_assert_eq(category_count(S), n);
    for (size_t i = 0; i < n; i++) {
        const struct category *c = category_at(S, i);
        cr_assert_str_eq(c->slug, order[i]);
        cr_assert_eq(c->index, i);
        cr_assert_eq(c->depth, c->parent == NULL ? 0 : 1);
        if (c->parent != NULL) {
            cr_assert_str_eq(c->up->slug, c->parent);
        } else {
            cr_assert_null(c->up);
        }
    }
    cr_assert_null(category_at(S, n));
}

Test(category, tree_order_follows_position_then_slug_not_input_order)
{
    struct category_set *set;
    const char *doc = "{'categories': ["
                      "{'slug': 'b_child', 'name': 'B child', 'parent': 'b', 'position': 1},"
                      "{'slug': 'z', 'name': 'Z', 'parent': null, 'position': 1},"
                      "{'slug': 'b', 'name': 'B', 'parent': null, 'position': 2},"
                      "{'slug': 'a', 'name': 'A', 'parent': null, 'position': 2},"
                      "{'slug': 'a_child2', 'name': 'A child 2', 'parent': 'a', 'position': 5},"
                      "{'slug': 'a_child1', 'name': 'A child 1', 'parent': 'a', 'position': -5}"
                      "]}";
    cr_assert_eq(category_parse_json(dq(doc), &set, NULL, 0), MK_OK);
    static const char *const order[] = {"z", "a", "a_child1", "a_child2", "b", "b_child"};
    for (size_t i = 0; i < 6; i++) {
        cr_assert_str_eq(category_at(set, i)->slug, order[i]);
    }
    category_set_free(set);
}

Test(category, find)
{
    const struct category *c = category_find(S, "phones");
    cr_assert_not_null(c);
    cr_assert_str_eq(c->name, "Phones");
    cr_assert_str_eq(c->parent, "electronics");
    cr_assert_eq(c->nattrs, 3);
    cr_assert_null(category_find(S, "gadgets"));
    cr_assert_null(category_find(S, "Phones"), "slugs are case-sensitive");
    cr_assert_null(category_find(S, ""));
    cr_assert_null(category_find(S, NULL));
    for (size_t i = 0; i < category_count(S); i++) {
        cr_assert_eq(category_find(S, category_at(S, i)->slug), category_at(S, i));
    }
}

Test(category, is_within_includes_itself_and_descendants_only)
{
    cr_assert(category_is_within(S, "phones", "electronics"));
    cr_assert(category_is_within(S, "phones", "phones"));
    cr_assert(category_is_within(S, "electronics", "electronics"));
    cr_assert(category_is_within(S, "audio", "electronics"), "the last child is inside");
    cr_assert_not(category_is_within(S, "electronics", "phones"), "a parent is not within its child");
    cr_assert_not(category_is_within(S, "laptops", "phones"), "siblings");
    cr_assert_not(category_is_within(S, "clothing", "electronics"), "the next root");
    cr_assert_not(category_is_within(S, "shoes", "electronics"));
    cr_assert_not(category_is_within(S, "gadgets", "electronics"));
    cr_assert_not(category_is_within(S, "phones", "gadgets"));
    cr_assert_not(category_is_within(S, NULL, "electronics"));
}

Test(category, descendants_are_the_subtree_in_tree_order)
{
    const char **slugs;
    size_t n;
    cr_assert_eq(category_descendants(S, "electronics", A, &slugs, &n), MK_OK);
    cr_assert_eq(n, 5);
    static const char *const electronics[] = {"electronics", "phones", "laptops", "cameras", "audio"};
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(slugs[i], electronics[i]);
    }
    cr_assert_eq(category_descendants(S, "phones", A, &slugs, &n), MK_OK);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(slugs[0], "phones");
    cr_assert_eq(category_descendants(S, "toys", A, &slugs, &n), MK_OK, "the last root");
    cr_assert_eq(n, 3);
    cr_assert_str_eq(slugs[2], "building_sets");
    cr_assert_eq(category_descendants(S, "gadgets", A, &slugs, &n), MK_ENOTFOUND);
    cr_assert_eq(n, 0);
    cr_assert_null(slugs);
}

Test(category, deeper_trees)
{
    struct category_set *set;
    const char *doc = "{'categories': ["
                      "{'slug': 'a', 'name': 'A', 'parent': null, 'attributes': ["
                      "    {'name': 'x', 'type': 'string', 'required': true}]},"
                      "{'slug': 'b', 'name': 'B', 'parent': 'a', 'attributes': ["
                      "    {'name': 'y', 'type': 'integer', 'required': true}]},"
                      "{'slug': 'c', 'name': 'C', 'parent': 'b', 'attributes': ["
                      "    {'name': 'z', 'type': 'boolean', 'required': false}]},"
                      "{'slug': 'd', 'name': 'D', 'parent': 'a'},"
                      "{'slug': 'e', 'name': 'E', 'parent': null}"
                      "]}";
    cr_assert_eq(category_parse_json(dq(doc), &set, NULL, 0), MK_OK);
    cr_assert_eq(category_find(set, "c")->depth, 2);
    cr_assert(category_is_within(set, "c", "a"));
    cr_assert_not(category_is_within(set, "d", "b"));
    cr_assert_not(category_is_within(set, "e", "a"));
    const char **slugs;
    size_t n;
    cr_assert_eq(category_descendants(set, "a", A, &slugs, &n), MK_OK);
    cr_assert_eq(n, 4);
    cr_assert_str_eq(slugs[0], "a");
    cr_assert_str_eq(slugs[1], "b");
    cr_assert_str_eq(slugs[2], "c");
    cr_assert_str_eq(slugs[3], "d");

    /* c takes the attributes of b and a: both required ones are missing. */
    struct request *r = new_request();
    cr_assert_eq(category_validate_attributes(set, "c", js("{'z': true}"), r), MK_EVALIDATION);
    cr_assert_eq(nproblems(r), 2);
    cr_assert_str_eq(problem(r, "attributes.x"), "is required");
    cr_assert_str_eq(problem(r, "attributes.y"), "is required");
    r = new_request();
    cr_assert_eq(category_validate_attributes(set, "c", js("{'x': 'q', 'y': 1, 'z': false}"), r), MK_OK);
    r = new_request();
    cr_assert_eq(category_validate_attributes(set, "b", js("{'x': 'q', 'y': 1, 'z': false}"), r), MK_EVALIDATION,
                 "a parent does not take its children's attributes");
    cr_assert_str_eq(problem(r, "attributes.z"), "is not an attribute of category b");
    category_set_free(set);
}

/* ---- inheritance ---- */

Test(category, attributes_are_inherited_from_ancestors)
{
    const struct category *phones = category_find(S, "phones");
    const struct category_attr *brand = category_attr_find(phones, "brand");
    cr_assert_not_null(brand, "phones inherit electronics' brand");
    cr_assert(brand->required);
    cr_assert_eq(brand->type, CATEGORY_STRING);
    cr_assert_eq(brand, category_attr_find(category_find(S, "electronics"), "brand"), "the very same definition");
    cr_assert_eq(category_attr_find(phones, "storage_gb")->type, CATEGORY_INTEGER);
    cr_assert_null(category_attr_find(phones, "os"), "not a sibling's");
    cr_assert_null(category_attr_find(category_find(S, "electronics"), "storage_gb"), "not a child's");
    cr_assert_null(category_attr_find(phones, "nope"));

    assert_valid("phones", "color", "'black'");
    assert_valid("phones", "model", "'iPhone 13'");
    assert_problem("phones", "os", "'linux'", "is not an attribute of category phones");
    assert_problem("electronics", "storage_gb", "64", "is not an attribute of category electronics");
}

Test(category, an_inherited_required_attribute_is_required)
{
    struct request *r;
    cr_assert_eq(validate(&r, "phones", "{}"), MK_EVALIDATION);
    cr_assert_eq(nproblems(r), 2);
    cr_assert_str_eq(problem(r, "attributes.brand"), "is required");
    cr_assert_str_eq(problem(r, "attributes.storage_gb"), "is required");

    cr_assert_eq(validate(&r, "phones", NULL), MK_EVALIDATION, "absent attributes count as {}");
    cr_assert_eq(nproblems(r), 2);

    cr_assert_eq(validate(&r, "phones", "{'storage_gb': 64}"), MK_EVALIDATION);
    cr_assert_eq(nproblems(r), 1);
    cr_assert_str_eq(problem(r, "attributes.brand"), "is required");

    cr_assert_eq(validate(&r, "phones", "{'brand': null, 'storage_gb': 64}"), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "attributes.brand"), "is required", "null is no value");

    cr_assert_eq(validate(&r, "clothing", "{}"), MK_OK, "nothing required in clothing");
    cr_assert_eq(validate(&r, "clothing", NULL), MK_OK);
    cr_assert_eq(validate(&r, "tops", "{}"), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "attributes.size"), "is required");
    cr_assert_eq(validate(&r, "tops", "{'size': 'M', 'gender': 'women', 'material': 'cotton'}"), MK_OK);
}

/* ---- validation, type by type ---- */

Test(category, a_valid_listing_has_no_problems)
{
    struct request *r;
    cr_assert_eq(validate(&r, "phones",
                          "{'brand': 'Apple', 'model': 'iPhone 13', 'color': 'midnight', 'storage_gb': 128,"
                          " 'unlocked': true, 'dual_sim': false}"),
                 MK_OK);
    cr_assert_null(r->err_fields);
    cr_assert_eq(validate(&r, "laptops",
                          "{'brand': 'Lenovo', 'screen_in': 14, 'ram_gb': 16, 'storage_gb': 512, 'os': 'linux',"
                          " 'cpu': 'Ryzen 7'}"),
                 MK_OK);
    cr_assert_eq(validate(&r, "books", "{'author': 'Ursula K. Le Guin', 'format': 'paperback', 'year': 1969}"), MK_OK);
}

Test(category, integer)
{
    assert_valid("phones", "storage_gb", "128");
    assert_valid("phones", "storage_gb", "0");
    assert_valid("laptops", "ram_gb", "-3");
    assert_valid("laptops", "ram_gb", "9007199254740991");
    assert_valid("laptops", "ram_gb", "-9007199254740991");
    assert_problem("laptops", "ram_gb", "12.5", "must be an integer");
    assert_problem("laptops", "ram_gb", "12.0", "must be an integer");
    assert_problem("laptops", "ram_gb", "1e2", "must be an integer");
    assert_problem("laptops", "ram_gb", "'12'", "must be an integer");
    assert_problem("laptops", "ram_gb", "true", "must be an integer");
    assert_problem("laptops", "ram_gb", "null", "must be an integer");
    assert_problem("laptops", "ram_gb", "[12]", "must be an integer");
    assert_problem("laptops", "ram_gb", "9007199254740992",
                   "must be an integer between -9007199254740991 and 9007199254740991");
    assert_problem("laptops", "ram_gb", "-9007199254740992",
                   "must be an integer between -9007199254740991 and 9007199254740991");
    assert_problem("laptops", "ram_gb", "99999999999999999999999",
                   "must be an integer between -9007199254740991 and 9007199254740991");
    assert_problem("phones", "storage_gb", "'128'", "must be an integer");
}

Test(category, number)
{
    assert_valid("laptops", "screen_in", "13");
    assert_valid("laptops", "screen_in", "13.3");
    assert_valid("laptops", "screen_in", "-0.5");
    assert_valid("laptops", "screen_in", "1.5e1");
    assert_problem("laptops", "screen_in", "'13.3'", "must be a number");
    assert_problem("laptops", "screen_in", "true", "must be a number");
    assert_problem("laptops", "screen_in", "null", "must be a number");
    assert_problem("laptops", "screen_in", "{}", "must be a number");
    /* Whole numbers beyond 2^53 do not come back from jsonb's numeric as they went in. */
    assert_valid("laptops", "screen_in", "9007199254740991");
    assert_valid("laptops", "screen_in", "-9007199254740991.0");
    assert_valid("laptops", "screen_in", "1e-300");
    static const char *const beyond[] = {"9007199254740992", "-9007199254740992", "1e19", "-1e19", "1e300",
                                         "1.7976931348623157e308", "9223372036854775807"};
    for (size_t i = 0; i < sizeof(beyond) / sizeof(beyond[0]); i++) {
        assert_problem("laptops", "screen_in", beyond[i],
                       "must be a number between -9007199254740991 and 9007199254740991");
    }

    /* JSON text cannot carry NaN or infinities, but a document built in code can. */
    struct request *r = new_request();
    json_object *attrs = js("{'brand': 'Lenovo'}");
    json_object_object_add(attrs, "screen_in", json_object_new_double(NAN));
    cr_assert_eq(category_validate_attributes(S, "laptops", attrs, r), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "attributes.screen_in"), "must be a finite number");
    r = new_request();
    json_object_object_add(attrs, "screen_in", json_object_new_double(-INFINITY));
    cr_assert_eq(category_validate_attributes(S, "laptops", attrs, r), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "attributes.screen_in"), "must be a finite number");
}

Test(category, boolean)
{
    assert_valid("phones", "unlocked", "true");
    assert_valid("phones", "unlocked", "false");
    assert_problem("phones", "unlocked", "'true'", "must be true or false");
    assert_problem("phones", "unlocked", "1", "must be true or false");
    assert_problem("phones", "unlocked", "0", "must be true or false");
    assert_problem("phones", "unlocked", "null", "must be true or false");
}

/* 'unit' n times, between single quotes, in the arena. */
static const char *
quoted_repeat(const char *unit, int n)
{
    size_t len = strlen(unit);
    char *s = arena_alloc(A, len * (size_t)n + 3);
    char *p = s;
    *p++ = '\'';
    for (int i = 0; i < n; i++, p += len) {
        memcpy(p, unit, len);
    }
    strcpy(p, "'");
    return s;
}

Test(category, string)
{
    assert_valid("phones", "color", "'space grey'");
    assert_valid("phones", "color", "'\\u00e9t\\u00e9'");
    assert_problem("phones", "color", "''", "must not be empty");
    assert_problem("phones", "color", "'  \\t '", "must not be empty");
    /* Unicode's white space is blank too (a no-break or ideographic space alone). */
    assert_problem("phones", "color", "'\\u00a0'", "must not be empty");
    assert_problem("phones", "color", "'\\u3000 \\u2028'", "must not be empty");
    assert_valid("phones", "color", "'\\u00a0red'");
    /* One line, no control characters (C0, DEL, C1, the line and paragraph separators). */
    assert_problem("phones", "color", "'red\\nblue'", "must be one line without control characters");
    assert_problem("phones", "color", "'red\\u009b[31m'", "must be one line without control characters");
    assert_problem("phones", "color", "'red\\u2028blue'", "must be one line without control characters");
    assert_problem("phones", "color", "12", "must be a string");
    assert_problem("phones", "color", "true", "must be a string");
    assert_problem("phones", "color", "null", "must be a string");
    assert_problem("phones", "color", "['red']", "must be a string");
    assert_problem("phones", "color", "'red\\u0000'", "must not contain NUL characters");

    /* 200 characters, counted as characters, not bytes. */
    assert_valid("phones", "color", quoted_repeat("x", 200));
    assert_problem("phones", "color", quoted_repeat("x", 201), "must be at most 200 characters");
    assert_valid("phones", "color", quoted_repeat("\xc3\xa9", 200)); /* é: 2 bytes, 1 character */
    assert_problem("phones", "color", quoted_repeat("\xc3\xa9", 201), "must be at most 200 characters");
}

Test(category, enum_names_its_values)
{
    assert_valid("laptops", "os", "'linux'");
    assert_valid("laptops", "os", "'none'");
    assert_problem("laptops", "os", "'Linux'", "must be one of: windows, macos, linux, chromeos, none");
    assert_problem("laptops", "os", "'dos'", "must be one of: windows, macos, linux, chromeos, none");
    assert_problem("laptops", "os", "''", "must be one of: windows, macos, linux, chromeos, none");
    assert_problem("laptops", "os", "1", "must be one of: windows, macos, linux, chromeos, none");
    assert_problem("laptops", "os", "null", "must be one of: windows, macos, linux, chromeos, none");
    assert_problem("laptops", "os", "['linux']", "must be one of: windows, macos, linux, chromeos, none");
    struct request *r;
    cr_assert_eq(validate(&r, "tops", "{'size': 'XXXL'}"), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "attributes.size"), "must be one of: XS, S, M, L, XL, XXL");
}

/* ---- the object as a whole ---- */

Test(category, every_problem_is_reported_at_once)
{
    struct request *r;
    cr_assert_eq(
        validate(&r, "phones", "{'brand': '', 'storage_gb': '128', 'unlocked': 'yes', 'colour': 'red', 'os': 'linux'}"),
        MK_EVALIDATION);
    cr_assert_eq(nproblems(r), 5, "%s", json_object_to_json_string(r->err_fields));
    cr_assert_str_eq(problem(r, "attributes.brand"), "must not be empty");
    cr_assert_str_eq(problem(r, "attributes.storage_gb"), "must be an integer");
    cr_assert_str_eq(problem(r, "attributes.unlocked"), "must be true or false");
    cr_assert_str_eq(problem(r, "attributes.colour"), "is not an attribute of category phones");
    cr_assert_str_eq(problem(r, "attributes.os"), "is not an attribute of category phones");

    cr_assert_eq(validate(&r, "laptops", "{'os': 'beos', 'ram_gb': 1.5}"), MK_EVALIDATION);
    cr_assert_eq(nproblems(r), 3, "bad values and a missing required one");
    cr_assert_str_eq(problem(r, "attributes.brand"), "is required");
}

/* An object of n (< 100) attributes of books: author, then unknown ones named extra_K. */
static const char *
books_with(size_t n)
{
    char buf[4096];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "{'author': 'Tove Jansson'");
    for (size_t i = 1; i < n && len < sizeof(buf); i++) {
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, ", 'extra_%zu': 1", i);
    }
    cr_assert_lt(len + 1, sizeof(buf));
    strcat(buf, "}");
    return arena_strdup(A, buf);
}

Test(category, at_most_30_attributes)
{
    struct request *r;
    cr_assert_eq(validate(&r, "books", books_with(30)), MK_EVALIDATION);
    cr_assert_null(problem(r, "attributes"), "30 is allowed");
    cr_assert_eq(nproblems(r), 29, "each unknown attribute is still reported");

    cr_assert_eq(validate(&r, "books", books_with(31)), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "attributes"), "must have at most 30 attributes");
    cr_assert_eq(nproblems(r), 31);
    cr_assert_str_eq(problem(r, "attributes.extra_30"), "is not an attribute of category books");
}

Test(category, attributes_must_be_an_object)
{
    struct request *r;
    static const char *const bad[] = {"[]", "['brand']", "'brand'", "3", "true"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(validate(&r, "phones", bad[i]), MK_EVALIDATION, "%s", bad[i]);
        cr_assert_eq(nproblems(r), 1, "%s", bad[i]);
        cr_assert_str_eq(problem(r, "attributes"), "must be an object");
    }
}

Test(category, unknown_category)
{
    struct request *r;
    cr_assert_eq(validate(&r, "gadgets", "{'brand': 'x'}"), MK_EVALIDATION);
    cr_assert_eq(nproblems(r), 1);
    cr_assert_str_eq(problem(r, "category"), "is not a known category");
    cr_assert_eq(validate(&r, "gadgets", "[1]"), MK_EVALIDATION);
    cr_assert_eq(nproblems(r), 2);
    cr_assert_str_eq(problem(r, "attributes"), "must be an object");
    cr_assert_eq(validate(&r, NULL, "{}"), MK_EVALIDATION);
    cr_assert_str_eq(problem(r, "category"), "is not a known category");
}

Test(category, problems_render_as_a_422_body)
{
    struct request *r;
    int rc = validate(&r, "phones", "{'storage_gb': 1.5}");
    http_finish(r, rc);
    size_t len;
    char *out = http_serialise(r, &len);
    out = arena_strndup(A, out, len); /* the response is counted, not NUL-terminated */
    cr_assert_eq(r->status, 422);
    json_object *doc = own(json_tokener_parse(strstr(out, "\r\n\r\n") + 4));
    json_object *err = json_object_object_get(doc, "error");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(err, "code")), "validation_failed");
    json_object *fields = json_object_object_get(err, "fields");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(fields, "attributes.storage_gb")),
                     "must be an integer");
    cr_assert_str_eq(json_object_get_string(json_object_object_get(fields, "attributes.brand")), "is required");
}

/* ---- GET /categories ---- */

/* The seed without its "position" members: what GET /categories must answer. */
static json_object *
seed_without_positions(void)
{
    json_object *doc = js(SEED);
    json_object *list = json_object_object_get(doc, "categories");
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object_object_del(json_object_array_get_idx(list, i), "position");
    }
    return doc;
}

Test(category, json_output_is_the_seed_in_tree_order)
{
    json_object *doc = own(category_to_json(S));
    cr_assert(json_object_equal(doc, seed_without_positions()), "%s",
              json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY));

    json_object *list = json_object_object_get(doc, "categories");
    json_object *electronics = json_object_array_get_idx(list, 0);
    cr_assert_eq(json_object_object_length(electronics), 4, "slug, name, parent, attributes");
    json_object *parent;
    cr_assert(json_object_object_get_ex(electronics, "parent", &parent), "parent is present ...");
    cr_assert_null(parent, "... and null for a root");
    json_object *laptops = json_object_array_get_idx(list, 2);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(laptops, "parent")), "electronics");
    json_object *attrs = json_object_object_get(laptops, "attributes");
    json_object *screen = json_object_array_get_idx(attrs, 0);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(screen, "type")), "number");
    cr_assert(json_object_is_type(json_object_object_get(screen, "required"), json_type_boolean));
    cr_assert_not(json_object_object_get_ex(screen, "values", NULL), "values only for an enum");
    json_object *os = json_object_array_get_idx(attrs, 4);
    cr_assert_str_eq(json_object_get_string(json_object_object_get(os, "type")), "enum");
    cr_assert_eq(json_object_array_length(json_object_object_get(os, "values")), 5);

    /* What the output says parses back to the same set. */
    struct category_set *again;
    cr_assert_eq(category_parse_json(json_object_to_json_string(doc), &again, NULL, 0), MK_OK);
    json_object *doc2 = category_to_json(again);
    cr_assert_str_eq(json_object_to_json_string(doc2), json_object_to_json_string(doc));
    json_object_put(doc2);
    category_set_free(again);
}

/* ---- attr.NAME=VALUE ---- */

static int
parse_value(const char *slug, const char *name, const char *text, struct category_value *v)
{
    const struct category_attr *attr = category_attr_find(category_find(S, slug), name);
    cr_assert_not_null(attr, "%s.%s", slug, name);
    return category_attr_parse_value(attr, text, v);
}

Test(category, query_values_are_typed_by_the_schema)
{
    struct category_value v;
    cr_assert_eq(parse_value("phones", "storage_gb", "128", &v), MK_OK);
    cr_assert_eq(v.type, CATEGORY_INTEGER);
    cr_assert_eq(v.u.i, 128);
    cr_assert_eq(parse_value("phones", "storage_gb", "-7", &v), MK_OK);
    cr_assert_eq(v.u.i, -7);
    cr_assert_eq(parse_value("phones", "storage_gb", "9007199254740991", &v), MK_OK);
    static const char *const bad_ints[] = {
        "", "-", "12.5", "12a", "+5", " 5", "5 ", "0x10", "1e3", "true", "9007199254740992", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad_ints) / sizeof(bad_ints[0]); i++) {
        cr_assert_eq(parse_value("phones", "storage_gb", bad_ints[i], &v), MK_EBADPARAM, "'%s'", bad_ints[i]);
    }

    cr_assert_eq(parse_value("laptops", "screen_in", "13.3", &v), MK_OK);
    cr_assert_eq(v.type, CATEGORY_NUMBER);
    cr_assert_float_eq(v.u.d, 13.3, 1e-12);
    static const char *const good_numbers[] = {"13", "-2", "1e3", "1.5E-2", ".5", "5."};
    for (size_t i = 0; i < sizeof(good_numbers) / sizeof(good_numbers[0]); i++) {
        cr_assert_eq(parse_value("laptops", "screen_in", good_numbers[i], &v), MK_OK, "'%s'", good_numbers[i]);
    }
    static const char *const bad_numbers[] = {"",   ".",     "-",   "inf", "nan", "NaN", "0x1p3",
                                              "1e", "1e999", "1,5", " 1",  "1 ",  "+1"};
    for (size_t i = 0; i < sizeof(bad_numbers) / sizeof(bad_numbers[0]); i++) {
        cr_assert_eq(parse_value("laptops", "screen_in", bad_numbers[i], &v), MK_EBADPARAM, "'%s'", bad_numbers[i]);
    }

    cr_assert_eq(parse_value("phones", "unlocked", "true", &v), MK_OK);
    cr_assert_eq(v.type, CATEGORY_BOOLEAN);
    cr_assert(v.u.b);
    cr_assert_eq(parse_value("phones", "unlocked", "false", &v), MK_OK);
    cr_assert_not(v.u.b);
    static const char *const bad_bools[] = {"", "1", "0", "TRUE", "yes", "true "};
    for (size_t i = 0; i < sizeof(bad_bools) / sizeof(bad_bools[0]); i++) {
        cr_assert_eq(parse_value("phones", "unlocked", bad_bools[i], &v), MK_EBADPARAM, "'%s'", bad_bools[i]);
    }

    const char *text = "linux";
    cr_assert_eq(parse_value("laptops", "os", text, &v), MK_OK);
    cr_assert_eq(v.type, CATEGORY_ENUM);
    cr_assert_str_eq(v.u.s, "linux");
    cr_assert_neq(v.u.s, text, "the schema's copy, which lives as long as the set");
    cr_assert_eq(parse_value("laptops", "os", "Linux", &v), MK_EBADPARAM);
    cr_assert_eq(parse_value("laptops", "os", "", &v), MK_EBADPARAM);

    cr_assert_eq(parse_value("phones", "brand", "Apple", &v), MK_OK, "an inherited attribute");
    cr_assert_eq(v.type, CATEGORY_STRING);
    cr_assert_str_eq(v.u.s, "Apple");
    char long_text[202];
    memset(long_text, 'x', 201);
    long_text[201] = '\0';
    cr_assert_eq(parse_value("phones", "brand", long_text, &v), MK_EBADPARAM);
    long_text[200] = '\0';
    cr_assert_eq(parse_value("phones", "brand", long_text, &v), MK_OK);
    cr_assert_eq(parse_value("phones", "brand", "", &v), MK_EBADPARAM);
    cr_assert_eq(parse_value("phones", "brand", "  ", &v), MK_EBADPARAM);
    cr_assert_eq(parse_value("phones", "brand", "\xff", &v), MK_EBADPARAM, "not UTF-8");
    cr_assert_eq(parse_value("phones", "brand", "\xc0\xaf", &v), MK_EBADPARAM, "overlong");
    cr_assert_eq(parse_value("phones", "brand", "\xed\xa0\x80", &v), MK_EBADPARAM, "surrogate");
    cr_assert_eq(parse_value("phones", "brand", NULL, &v), MK_EBADPARAM);
}

/* ---- sets that must be refused ---- */

Test(category, invalid_sets_are_refused_with_a_reason)
{
    static const struct {
        const char *doc;
        int rc;
        const char *reason; /* a part of the error text */
    } cases[] = {
        {"{'categories': [", MK_EMALFORMED, "JSON"},
        {"{'categories': []} x", MK_EMALFORMED, "JSON"},
        {"[]", MK_EVALIDATION, "{\"categories\""},
        {"{'categories': {}}", MK_EVALIDATION, "{\"categories\""},
        {"{'categories': [], 'x': 1}", MK_EVALIDATION, "{\"categories\""},
        {"{'categories': [1]}", MK_EVALIDATION, "not an object"},
        {"{'categories': [{'slug': 'Phones', 'name': 'P'}]}", MK_EVALIDATION, "slug"},
        {"{'categories': [{'slug': '9lives', 'name': 'P'}]}", MK_EVALIDATION, "slug"},
        {"{'categories': [{'slug': 'abcdefghijabcdefghijabcdefghijabcdefghijx', 'name': 'P'}]}", MK_EVALIDATION,
         "slug"},
        {"{'categories': [{'name': 'P'}]}", MK_EVALIDATION, "slug"},
        {"{'categories': [{'slug': 'p'}]}", MK_EVALIDATION, "name"},
        {"{'categories': [{'slug': 'p', 'name': ' '}]}", MK_EVALIDATION, "name"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'colour': 1}]}", MK_EVALIDATION, "unknown member"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'position': 1.5}]}", MK_EVALIDATION, "position"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'parent': 3}]}", MK_EVALIDATION, "parent"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'parent': 'q'}]}", MK_EVALIDATION, "parent q does not exist"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'parent': 'p'}]}", MK_EVALIDATION, "cycle"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'parent': 'q'}, {'slug': 'q', 'name': 'Q', 'parent': 'p'},"
         " {'slug': 'r', 'name': 'R'}]}",
         MK_EVALIDATION, "cycle"},
        {"{'categories': [{'slug': 'p', 'name': 'P'}, {'slug': 'p', 'name': 'P2'}]}", MK_EVALIDATION, "twice"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': {}}]}", MK_EVALIDATION, "array"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [1]}]}", MK_EVALIDATION, "not an object"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a', 'type': 'text',"
         " 'required': true}]}]}",
         MK_EVALIDATION, "type must be"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a', 'type': 'string'}]}]}",
         MK_EVALIDATION, "required"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a', 'type': 'string',"
         " 'required': 1}]}]}",
         MK_EVALIDATION, "required"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'A', 'type': 'string',"
         " 'required': true}]}]}",
         MK_EVALIDATION, "attribute name"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a-b', 'type': 'string',"
         " 'required': true}]}]}",
         MK_EVALIDATION, "attribute name"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a', 'type': 'string',"
         " 'required': true, 'requird': false}]}]}",
         MK_EVALIDATION, "unknown member"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a', 'type': 'enum',"
         " 'required': true}]}]}",
         MK_EVALIDATION, "non-empty array of values"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a', 'type': 'enum',"
         " 'required': true, 'values': []}]}]}",
         MK_EVALIDATION, "non-empty array of values"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a', 'type': 'enum',"
         " 'required': true, 'values': ['x', '']}]}]}",
         MK_EVALIDATION, "enum values"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a', 'type': 'enum',"
         " 'required': true, 'values': ['x', 'x']}]}]}",
         MK_EVALIDATION, "listed twice"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a', 'type': 'string',"
         " 'required': true, 'values': ['x']}]}]}",
         MK_EVALIDATION, "only for an enum"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a', 'type': 'string',"
         " 'required': true}, {'name': 'a', 'type': 'integer', 'required': false}]}]}",
         MK_EVALIDATION, "declared twice"},
        {"{'categories': [{'slug': 'p', 'name': 'P', 'attributes': [{'name': 'a', 'type': 'string',"
         " 'required': false}]}, {'slug': 'q', 'name': 'Q', 'parent': 'p', 'attributes': [{'name': 'a',"
         " 'type': 'string', 'required': true}]}]}",
         MK_EVALIDATION, "attribute a is already declared by an ancestor"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct category_set *set = (struct category_set *)1;
        char err[256] = "";
        int rc = category_parse_json(dq(cases[i].doc), &set, err, sizeof(err));
        cr_assert_eq(rc, cases[i].rc, "case %zu (%s): rc %d, %s", i, cases[i].doc, rc, err);
        cr_assert_null(set, "case %zu", i);
        cr_assert_not_null(strstr(err, cases[i].reason), "case %zu: \"%s\" does not mention \"%s\"", i, err,
                           cases[i].reason);
    }
    cr_assert_eq(category_parse_json(NULL, &(struct category_set *){NULL}, NULL, 0), MK_EMALFORMED);
}

Test(category, siblings_may_share_an_attribute_name)
{
    /* tops and bottoms both declare size; no path holds it twice. */
    cr_assert_neq(category_attr_find(category_find(S, "tops"), "size"),
                  category_attr_find(category_find(S, "bottoms"), "size"));
    struct category_set *set;
    cr_assert_eq(category_parse_json(dq("{'categories': []}"), &set, NULL, 0), MK_OK, "an empty set is a set");
    cr_assert_eq(category_count(set), 0);
    cr_assert_null(category_find(set, "x"));
    json_object *doc = category_to_json(set);
    cr_assert_str_eq(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN), "{\"categories\":[]}");
    json_object_put(doc);
    category_set_free(set);
    category_set_free(NULL);
}
