/* The browse pipelines (query/browse.c), byte for byte: each shape's command as canonical
 * extended JSON (which names every BSON type: $numberInt, $numberLong, $numberDouble),
 * pinned to what the pipeline built as JSON text and parsed by libbson gave. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "query/browse.h"

static const char *const SELLER = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b";

static json_object *
key3(json_object *a, json_object *b, const char *id)
{
    json_object *k = json_object_new_array();
    json_object_array_add(k, a);
    if (b != NULL) {
        json_object_array_add(k, b);
    }
    json_object_array_add(k, json_object_new_string(id));
    return k;
}

/* Every shape: each sort, each filter alone and together, every attribute type, cursors. */
static size_t
shapes(struct search_query *qs, size_t max)
{
    size_t n = 0;
    static const char *const words2[] = {"oak", "lamp"}, *const words1[] = {"chair"};
    memset(qs, 0, max * sizeof(*qs));
    for (int sort = SORT_NEWEST; sort <= SORT_PRICE_DESC; sort++) {
        qs[n++] = (struct search_query){.sort = sort, .limit = 20};
    }
    struct search_query all = {.sort = SORT_NEWEST, .limit = 5, .category = "furniture", .nconditions = 2,
                               .conditions = {"good", "like_new"}, .has_min = true, .min_price = 100,
                               .has_max = true, .max_price = 5000000000LL, .currency = "EUR", .seller = SELLER,
                               .nattrs = 4, .nwords = 2, .words = {"oak", "lamp"}};
    all.attrs[0] = (struct search_attr){"storage_gb", {.type = CATEGORY_INTEGER, .u.i = 128}};
    all.attrs[1] = (struct search_attr){"screen_in", {.type = CATEGORY_NUMBER, .u.d = 13.3}};
    all.attrs[2] = (struct search_attr){"boxed", {.type = CATEGORY_BOOLEAN, .u.b = true}};
    all.attrs[3] = (struct search_attr){"brand", {.type = CATEGORY_STRING, .u.s = "Acme \"Co\""}};
    qs[n++] = all;
    struct search_query whole = all;
    whole.attrs[1].value.u.d = 13;        /* an integral number */
    whole.has_max = false;
    whole.sort = SORT_PRICE_ASC;
    qs[n++] = whole;
    struct search_query near = {.sort = SORT_DISTANCE, .limit = 20, .near = true, .lat = 52.52, .lon = 13.405,
                                .radius_km = 25, .nwords = 1};
    near.words[0] = words1[0];
    qs[n++] = near;
    near.lat = 52;                        /* integral coordinates */
    near.lon = -0.0;
    near.radius_km = 0.5;
    qs[n++] = near;
    struct search_query within = near;
    within.sort = SORT_NEWEST;
    within.lat = 48.137;
    within.lon = 11.575;
    qs[n++] = within;
    within.sort = SORT_PRICE_DESC;
    within.category = "phones";
    qs[n++] = within;
    /* Cursors of each order. */
    struct search_query c = {.sort = SORT_NEWEST, .limit = 20};
    c.after = key3(json_object_new_int64(1764000000000000LL), NULL, "3f0c9a4e-1111-4222-8333-444455556666");
    qs[n++] = c;
    c.sort = SORT_PRICE_ASC;
    c.after = key3(json_object_new_int64(1500), NULL, "a");
    qs[n++] = c;
    c.sort = SORT_PRICE_DESC;
    c.after = key3(json_object_new_int64(3000000000LL), NULL, "b");
    qs[n++] = c;
    c = near;
    c.after = key3(json_object_new_string("1234.5678901234567"), NULL, "c");
    qs[n++] = c;
    c.after = key3(json_object_new_string("0"), NULL, "d");
    qs[n++] = c;
    /* Relevance: 2 words (tiers 2, 1, 0), one word, with filters and near. */
    struct search_query rel = {.sort = SORT_RELEVANCE, .limit = 20, .nwords = 2, .words = {words2[0], words2[1]}};
    qs[n++] = rel;
    rel.category = "furniture";
    rel.near = true;
    rel.lat = 52.52;
    rel.lon = 13.405;
    rel.radius_km = 10;
    rel.after = key3(json_object_new_int64(12), json_object_new_int64(1764000000000000LL), "e");
    qs[n++] = rel;
    struct search_query one = {.sort = SORT_RELEVANCE, .limit = 7, .nwords = 1, .words = {words1[0]}};
    qs[n++] = one;
    cr_assert(n <= max);
    return n;
}

/* Every pipeline of the shapes, one line each (relevance: each tier, fresh and resumed). */
static char *
all_pipelines(void)
{
    struct search_query qs[32];
    size_t n = shapes(qs, 32);
    size_t cap = 1 << 20, used = 0;
    char *out = malloc(cap);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int tiers = qs[i].sort == SORT_RELEVANCE ? (int)qs[i].nwords : 0;
        for (int t = tiers; t >= 0; t--) {
            for (int resume = 0; resume <= (qs[i].sort == SORT_RELEVANCE && qs[i].after != NULL); resume++) {
                bson_t *p = browse_pipeline(&qs[i], t, resume, 9);
                char *json = p != NULL ? bson_as_canonical_extended_json(p, NULL) : NULL;
                used += (size_t)snprintf(out + used, cap - used, "%s\n", json != NULL ? json : "(none)");
                bson_free(json);
                bson_destroy(p);
            }
        }
        json_object_put(qs[i].after);
    }
    return out;
}

#include "browse_pipelines.inc"   /* PINNED: the lines all_pipelines gave from the JSON text */

Test(browse_pipeline, every_shape_is_the_command_the_json_text_gave)
{
    char *got = all_pipelines();
    if (getenv("PRINT_PIPELINES") != NULL) {
        fputs(got, stdout);
    }
    const char *g = got, *w = PINNED;
    int line = 1;
    while (*g != '\0' || *w != '\0') {
        const char *ge = strchr(g, '\n'), *we = strchr(w, '\n');
        size_t gl = ge != NULL ? (size_t)(ge - g) : strlen(g), wl = we != NULL ? (size_t)(we - w) : strlen(w);
        cr_assert(gl == wl && memcmp(g, w, gl) == 0, "line %d:\n got  %.*s\n want %.*s", line, (int)gl, g, (int)wl,
                  w);
        g += gl + (ge != NULL);
        w += wl + (we != NULL);
        line++;
    }
    free(got);
}
