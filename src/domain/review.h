/*
 * review.h — reviews of sellers by the buyers of delivered orders (sql/008_reviews.sql).
 *
 * Only the buyer reviews (the seller: 403; anyone else: 404, as for the order itself), only
 * a `delivered` order (409 invalid_transition), once per order (409 already_reviewed, decided
 * by the unique constraint, so two racing submissions cannot both land). The event
 * review.created carries the review and its seller; the projector keeps the `reviews`
 * collection and derives the seller's rating from it (projector/review.c).
 */
#ifndef MK_REVIEW_H
#define MK_REVIEW_H

#include <stdbool.h>

#include <json-c/json.h>

#include "core/http.h"
#include "store/pg.h"

#define REVIEW_RATING_MIN 1
#define REVIEW_RATING_MAX 5
#define REVIEW_COMMENT_MAX 2000

struct review_input {
    int rating;
    const char *comment;    /* trimmed; "" when absent or null */
};

/* {"rating": 1..5 (a JSON integer), "comment"?: string ≤ 2000 characters, may span lines}.
 * MK_OK or MK_EVALIDATION (problems recorded on r). */
int review_parse(struct request *r, json_object *body, struct review_input *out);

/*
 * Inside the caller's transaction: user_id reviews order_id. MK_OK with *review (the API
 * shape, arena) and *seq (review.created's position); MK_ENOTFOUND, MK_EFORBIDDEN,
 * MK_ETRANSITION or MK_EREVIEWED as above.
 */
int review_create(struct pg *pg, arena_t *a, const char *order_id, const char *user_id, const struct review_input *in,
                  json_object **review, long long *seq);

/*
 * The seller's rating from the sum and the count of their ratings: the average rounded
 * half up to one decimal (4.45 → 4.5), or false when count is 0.
 */
bool review_average(long long sum, long long count, double *average);

#endif
