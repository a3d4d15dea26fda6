#include "domain/insights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* The q-th quartile (q = 1, 2, 3) of sorted[0..n): rank (n − 1)·q/4, interpolated. */
static long long
quartile(const long long *sorted, size_t n, unsigned q)
{
    size_t pos4 = (n - 1) * q, lo = pos4 / 4, k = pos4 % 4;
    if (k == 0) {
        return sorted[lo];
    }
    return (sorted[lo] * (long long)(4 - k) + sorted[lo + 1] * (long long)k + 2) / 4;
}

void
insights_percentiles(long long *prices, size_t n, struct price_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->count = (long long)n;
    if (n < INSIGHTS_MIN_SAMPLE) {
        return;
    }
    qsort(prices, n, sizeof(*prices), cmp_ll);
    out->has_percentiles = true;
    out->p25 = quartile(prices, n, 1);
    out->median = quartile(prices, n, 2);
    out->p75 = quartile(prices, n, 3);
}

json_object *
insights_stats_json(const struct price_stats *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "count", json_object_new_int64(s->count));
    json_object_object_add(o, "p25_minor", s->has_percentiles ? json_object_new_int64(s->p25) : NULL);
    json_object_object_add(o, "median_minor", s->has_percentiles ? json_object_new_int64(s->median) : NULL);
    json_object_object_add(o, "p75_minor", s->has_percentiles ? json_object_new_int64(s->p75) : NULL);
    return o;
}

static size_t
shared_words(const struct similar_item *a, const struct similar_item *b)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nwords; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            seen = strcmp(a->words[i], a->words[j]) == 0;
        }
        for (size_t j = 0; j < b->nwords && !seen; j++) {
            if (strcmp(a->words[i], b->words[j]) == 0) {
                n++;
                break;
            }
        }
    }
    return n;
}

static size_t
equal_attributes(json_object *a, json_object *b)
{
    size_t n = 0;
    if (a == NULL || b == NULL || !json_object_is_type(a, json_type_object) ||
        !json_object_is_type(b, json_type_object)) {
        return 0;
    }
    json_object_object_foreach(a, key, val) {
        json_object *other;
        if (json_object_object_get_ex(b, key, &other) && json_object_equal(val, other)) {
            n++;
        }
    }
    return n;
}

static double
km_between(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0088, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(fmin(1.0, sqrt(h)));
}

double
insights_similarity(const struct similar_item *target, const struct similar_item *cand)
{
    double score = 3.0 * (double)shared_words(target, cand) +
                   2.0 * (double)equal_attributes(target->attributes, cand->attributes);
    if (target->currency != NULL && cand->currency != NULL && strcmp(target->currency, cand->currency) == 0) {
        long long hi = target->price_minor > cand->price_minor ? target->price_minor : cand->price_minor;
        long long diff = llabs(target->price_minor - cand->price_minor);
        score += hi > 0 ? 1.0 - (double)diff / (double)hi : 0.0;
    }
    if (target->has_geo && cand->has_geo) {
        score += 1.0 / (1.0 + km_between(target->lat, target->lon, cand->lat, cand->lon) / 50.0);
    }
    return score;
}

static int
cmp_items(const void *a, const void *b)
{
    const struct similar_item *x = a, *y = b;
    if (x->score != y->score) {
        return x->score > y->score ? -1 : 1;
    }
    if (x->created_us != y->created_us) {
        return x->created_us > y->created_us ? -1 : 1;
    }
    return strcmp(x->id, y->id);
}

void
insights_rank(const struct similar_item *target, struct similar_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        items[i].score = insights_similarity(target, &items[i]);
    }
    qsort(items, n, sizeof(*items), cmp_items);
}
