/*
 * insights.h — the arithmetic of the insights (API.md "Insights"), without any store:
 * percentiles of prices, and the score that ranks similar listings.
 */
#ifndef MK_INSIGHTS_H
#define MK_INSIGHTS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define INSIGHTS_WINDOW_DAYS 90
#define INSIGHTS_MIN_SAMPLE 5      /* fewer prices than this: null percentiles */
#define SIMILAR_DEFAULT_LIMIT 12
#define SIMILAR_MAX_LIMIT 24
#define SIMILAR_CANDIDATES 200     /* the newest this many of a category are ranked */

struct price_stats {
    long long count;
    bool has_percentiles;          /* count >= INSIGHTS_MIN_SAMPLE */
    long long p25, median, p75;    /* minor units */
};

/*
 * Sort prices[0..n) and compute the quartiles by linear interpolation between the closest
 * ranks (rank (n − 1)·q, as numpy's default and Excel's PERCENTILE.INC), rounded half up to
 * a whole minor unit; exact integer arithmetic.
 */
void insights_percentiles(long long *prices, size_t n, struct price_stats *out);

/* {"count","p25_minor","median_minor","p75_minor"} (nulls below the minimum sample). */
json_object *insights_stats_json(const struct price_stats *s);

/* What ranking needs of a listing. */
struct similar_item {
    const char *id;
    const char **words;            /* folded title words (title_words of the read model) */
    size_t nwords;
    json_object *attributes;       /* an object, or NULL */
    long long price_minor;
    const char *currency;
    bool has_geo;
    double lat, lon;
    long long created_us;
    double score;
};

/*
 * The similarity of cand to target: 3 per shared title word, 2 per attribute with an equal
 * value, up to 1 for price closeness (1 − |Δ| / the larger price, same currency only) and up
 * to 1 for nearness (1 / (1 + km / 50), when both have a location).
 */
double insights_similarity(const struct similar_item *target, const struct similar_item *cand);

/* Score items against target and sort them best first (ties: newer first, then id). */
void insights_rank(const struct similar_item *target, struct similar_item *items, size_t n);

#endif
