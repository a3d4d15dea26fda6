/*
 * The insights' arithmetic (domain/insights.c), without services: quartiles by linear
 * interpolation rounded half up, nulls below five prices, and the similarity score's parts.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "domain/insights.h"

Test(percentiles, interpolate_between_closest_ranks_and_round_half_up)
{
    long long v[] = {7000, 1000, 3100, 1500, 4000, 2200};   /* sorted: 1000 1500 2200 3100 4000 7000 */
    struct price_stats s;
    insights_percentiles(v, 6, &s);
    cr_assert(s.has_percentiles);
    cr_assert_eq(s.count, 6);
    cr_assert_eq(s.p25, 1675, "rank 1.25: 1500 + 0.25 * 700 = 1675, got %lld", s.p25);
    cr_assert_eq(s.median, 2650, "rank 2.5: (2200 + 3100) / 2, got %lld", s.median);
    cr_assert_eq(s.p75, 3775, "rank 3.75: 3100 + 0.75 * 900 = 3775, got %lld", s.p75);

    long long odd[] = {5, 1, 4, 2, 3};
    insights_percentiles(odd, 5, &s);
    cr_assert_eq(s.p25, 2);
    cr_assert_eq(s.median, 3);
    cr_assert_eq(s.p75, 4);

    long long up[] = {1, 2, 3, 4, 5, 6};   /* median rank 2.5: 3.5 rounds up to 4 */
    insights_percentiles(up, 6, &s);
    cr_assert_eq(s.median, 4);
    cr_assert_eq(s.p25, 2, "rank 1.25: 2.25 rounds to 2");
    cr_assert_eq(s.p75, 5, "rank 3.75: 4.75 rounds to 5");
}

Test(percentiles, fewer_than_five_prices_give_no_percentiles)
{
    long long v[] = {10, 20, 30, 40};
    struct price_stats s;
    insights_percentiles(v, 4, &s);
    cr_assert_eq(s.count, 4);
    cr_assert(!s.has_percentiles);
    insights_percentiles(NULL, 0, &s);
    cr_assert_eq(s.count, 0);
    json_object *o = insights_stats_json(&s);
    cr_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                     "{\"count\":0,\"p25_minor\":null,\"median_minor\":null,\"p75_minor\":null}");
    json_object_put(o);
}

static struct similar_item
item(const char *id, const char **words, size_t n, const char *attrs, long long price, const char *cur, double lat,
     double lon)
{
    struct similar_item it = {.id = id, .words = words, .nwords = n, .price_minor = price, .currency = cur,
                              .has_geo = true, .lat = lat, .lon = lon};
    it.attributes = attrs != NULL ? json_tokener_parse(attrs) : NULL;
    return it;
}

Test(similarity, words_then_attributes_then_price_then_distance)
{
    const char *tw[] = {"red", "bike", "city"};
    struct similar_item t = item("t", tw, 3, "{\"kind\":\"city\",\"gears\":7}", 10000, "EUR", 52.52, 13.405);
    const char *w2[] = {"red", "bike", "old"}, *w1[] = {"bike"}, *w0[] = {"lamp"};
    struct similar_item items[] = {
        item("one-word", w1, 1, "{}", 10000, "EUR", 52.52, 13.405),
        item("two-words", w2, 3, "{}", 10000, "EUR", 52.52, 13.405),
        item("attrs", w1, 1, "{\"kind\":\"city\",\"gears\":7}", 10000, "EUR", 52.52, 13.405),
        item("far-price", w1, 1, "{}", 40000, "EUR", 52.52, 13.405),
        item("far-away", w1, 1, "{}", 10000, "EUR", 38.72, -9.14),
        item("other-currency", w1, 1, "{}", 10000, "GBP", 52.52, 13.405),
        item("nothing", w0, 1, "{\"kind\":\"road\"}", 10000, "EUR", 52.52, 13.405),
    };
    size_t n = sizeof(items) / sizeof(items[0]);
    cr_assert_float_eq(insights_similarity(&t, &items[1]), 3 * 2 + 1 + 1, 1e-9);
    cr_assert_float_eq(insights_similarity(&t, &items[2]), 3 + 2 * 2 + 1 + 1, 1e-9);
    cr_assert_float_eq(insights_similarity(&t, &items[3]), 3 + 0.25 + 1, 1e-9);
    insights_rank(&t, items, n);
    /* far-price 3 + 0.25 + 1; far-away 3 + 1 + 1/(1 + 2300/50); other-currency 3 + 0 + 1 */
    const char *want[] = {"attrs", "two-words", "one-word", "far-price", "far-away", "other-currency", "nothing"};
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(items[i].id, want[i], "rank %zu", i);
        json_object_put(items[i].attributes);
    }
    json_object_put(t.attributes);
}

Test(similarity, repeated_words_count_once_and_ties_go_to_the_newer)
{
    const char *tw[] = {"bike", "bike"};
    struct similar_item t = item("t", tw, 2, NULL, 100, "EUR", 0, 0);
    const char *cw[] = {"bike"};
    struct similar_item items[] = {item("older", cw, 1, NULL, 100, "EUR", 0, 0),
                                   item("newer", cw, 1, NULL, 100, "EUR", 0, 0)};
    items[0].created_us = 1;
    items[1].created_us = 2;
    cr_assert_float_eq(insights_similarity(&t, &items[0]), 3 + 1 + 1, 1e-9);
    insights_rank(&t, items, 2);
    cr_assert_str_eq(items[0].id, "newer");
}
