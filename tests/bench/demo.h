/*
 * scripts/demo's generator (tests/bench/market_demo): the vocabularies it writes listings,
 * sellers and places from. Data only; tests/bench/demo.c is the program.
 */
#ifndef MARKET_DEMO_H
#define MARKET_DEMO_H

#include <stdbool.h>
#include <stddef.h>

/* One thing people sell: a brand (or author; NULL when none), a model (or book title), a
 * typical second-hand price in good condition in EUR, and the attributes that belong to it,
 * as "name=value;..." ("name=-" means the attribute never applies to this product, like
 * megapixels for a film camera). Attributes the category's schema does not have are ignored. */
struct demo_product {
    const char *brand;
    const char *model;
    double eur;
    const char *attrs;
};

/* A category's vocabulary, by slug. A category the API serves without a vocabulary here is
 * still used, with generic words built from its name. */
struct demo_vocab {
    const char *slug;
    int weight;                     /* relative share of listings */
    unsigned char rgb[3];           /* the colour of its generated images */
    bool collection_only;           /* bulky: pick-up, no shipping */
    const struct demo_product *products;
    size_t nproducts;
    /* Title templates: {name} is a product field (brand, model), a condition prefix (cond)
     * or an attribute; [ ... ] is dropped when a name inside it has no value. */
    const char *const *titles;
    const char *const *details;     /* description sentences, same templates */
};

struct demo_city {
    const char *name;
    const char *country;            /* ISO 3166-1 alpha-2 */
    const char *currency;           /* ISO 4217 */
    double lat, lon;
    int weight;                     /* roughly the metropolitan population, in 100k */
};

/* An enum attribute's usual values: values absent from the schema are skipped. */
struct demo_weighted {
    const char *attr;
    const char *value;
    int weight;
};

extern const struct demo_vocab demo_vocabs[];
extern const size_t demo_nvocabs;
extern const struct demo_city demo_cities[];
extern const size_t demo_ncities;
extern const struct demo_weighted demo_enum_weights[];

/* NULL-terminated word lists. */
extern const char *const demo_first_names[];
extern const char *const demo_last_names[];
extern const char *const demo_shop_names[];     /* templates: {first} {last} {city} */
extern const char *const demo_bios[];           /* templates: {first} {city} */
extern const char *const demo_colors_device[];
extern const char *const demo_colors_clothing[];
extern const char *const demo_colors_furniture[];
extern const char *const demo_materials_clothing[];
extern const char *const demo_materials_furniture[];
extern const char *const demo_materials_shoes[];
extern const char *const demo_cpus[];
extern const char *const demo_lens_mounts[];
extern const char *const demo_publishers[];
extern const char *const demo_subjects[];
extern const char *const demo_sports[];
extern const char *const demo_generic_words[];  /* an unknown string attribute */
extern const char *const demo_generic_titles[]; /* a category without a vocabulary */
extern const char *const demo_generic_details[];
/* Per condition (new, like_new, good, fair, poor): title prefixes and opening sentences. */
extern const char *const *const demo_cond_prefixes[5];
extern const char *const *const demo_cond_openings[5];
extern const char *const demo_shipping[];       /* templates: {city} {country_name} */
extern const char *const demo_collection[];     /* templates: {city} */
extern const char *const demo_closings[];

size_t demo_count(const char *const *list);

#endif
