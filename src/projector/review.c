/*
 * review.created → MongoDB `reviews`, and the seller's rating in `sellers` and on every
 * listing of theirs.
 *
 * Idempotent by construction: the review document is upserted by its id with the version
 * guard (a replay only raises its seq), and the rating is then derived from the `reviews`
 * collection itself (count and sum of the seller's reviews, one aggregation), never added
 * to. Replaying an event, a crash between the two steps, or a rebuild from the outbox all
 * give the same rating. The rating is written with $max on seq, so X-Min-Seq with the
 * review's X-Event-Seq covers the profile and each of the seller's listings, whose cached
 * pages (Redis, nginx) are then invalidated like any other change of theirs.
 *
 * The reviewer's display name comes from their `sellers` document (the payload's name is
 * the fallback), and user.profile_updated renames them in `reviews` (projector/user.c):
 * whichever of a rename and a review is applied first, the result is the same.
 */
#include <string.h>

#include "core/errors.h"
#include "domain/review.h"
#include "projector/projections.h"

int
review_indexes(struct projection_ctx *p, const char *coll)
{
    /* A seller's reviews newest first (the list and its keyset); a reviewer's reviews
     * (renames). */
    bson_t *cmd = mongo_own(p->arena, BCON_NEW("createIndexes", BCON_UTF8(coll), "indexes", "[", "{", "key", "{",
                                               "seller_id", BCON_INT32(1), "created_us", BCON_INT32(-1), "_id",
                                               BCON_INT32(-1), "}", "name", BCON_UTF8("seller_created"), "}", "{",
                                               "key", "{", "reviewer.id", BCON_INT32(1), "}", "name",
                                               BCON_UTF8("reviewer"), "}", "]"));
    return mongo_write_command(p->mongo, coll, cmd);
}

/* The display name of user_id from `sellers`, or fallback. */
static int
display_name(struct projection_ctx *p, const char *user_id, const char *fallback, const char **out)
{
    const bson_t *doc;
    bson_iter_t it;
    *out = fallback;
    int rc = mongo_find_one(p->mongo, p->arena, "sellers", mongo_own(p->arena, BCON_NEW("_id", BCON_UTF8(user_id))),
                            NULL, &doc);
    if (rc == MK_OK && bson_iter_init_find(&it, doc, "display_name") && BSON_ITER_HOLDS_UTF8(&it)) {
        *out = bson_iter_utf8(&it, NULL);
    }
    return rc == MK_ENOTFOUND ? MK_OK : rc;
}

struct totals {
    long long count, sum;
};

static int
read_totals(const bson_t *doc, void *ctx)
{
    struct totals *t = ctx;
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, "n") && BSON_ITER_HOLDS_NUMBER(&it)) {
        t->count = bson_iter_as_int64(&it);
    }
    if (bson_iter_init_find(&it, doc, "total") && BSON_ITER_HOLDS_NUMBER(&it)) {
        t->sum = bson_iter_as_int64(&it);
    }
    return MONGO_STOP;
}

/* count and sum of the seller's ratings in `reviews`. */
static int
rating_totals(struct projection_ctx *p, const char *seller_id, long long *count, long long *sum)
{
    bson_t *pipeline = mongo_own(p->arena, BCON_NEW("pipeline", "[", "{", "$match", "{", "seller_id",
                                                    BCON_UTF8(seller_id), "}", "}", "{", "$group", "{", "_id",
                                                    BCON_UTF8("$seller_id"), "n", "{", "$sum", BCON_INT32(1), "}",
                                                    "total", "{", "$sum", BCON_UTF8("$rating"), "}", "}", "}", "]"));
    struct totals t = {0, 0};
    int rc = mongo_aggregate_each(p->mongo, "reviews", pipeline, NULL, read_totals, &t);
    *count = t.count;
    *sum = t.sum;
    return rc;
}

/* sellers.rating and listings.seller.rating of seller_id from the reviews, seq raised. */
static int
refresh_rating(struct projection_ctx *p, const char *seller_id, long long seq)
{
    long long count, sum;
    seller_embed_forget(p, seller_id);
    int rc = rating_totals(p, seller_id, &count, &sum);
    if (rc != MK_OK) {
        return rc;
    }
    bson_t *rating = mongo_own(p->arena, bson_new());
    double average;
    if (review_average(sum, count, &average)) {
        BSON_APPEND_DOUBLE(rating, "average", average);
    } else {
        BSON_APPEND_NULL(rating, "average");
    }
    BSON_APPEND_INT64(rating, "count", count);
    /* The seller's profile exists: they registered before anything of theirs was sold. */
    bson_t *filter = mongo_own(p->arena, BCON_NEW("_id", BCON_UTF8(seller_id)));
    bson_t *update = mongo_own(p->arena, BCON_NEW("$set", "{", "rating", BCON_DOCUMENT(rating), "}", "$max", "{",
                                                  "seq", BCON_INT64(seq), "}"));
    if ((rc = mongo_update_one(p->mongo, "sellers", filter, update, NULL, NULL)) != MK_OK) {
        return rc;
    }
    filter = mongo_own(p->arena, BCON_NEW("seller_id", BCON_UTF8(seller_id)));
    update = mongo_own(p->arena, BCON_NEW("$set", "{", "seller.rating", BCON_DOCUMENT(rating), "}", "$max", "{",
                                          "seq", BCON_INT64(seq), "}"));
    return mongo_update_many(p->mongo, "listings", filter, update, NULL, NULL);
}

int
project_review(struct projection_ctx *p, const struct outbox_row *ev, json_object *payload)
{
    const char *seller_id = json_object_get_string(json_object_object_get(payload, "seller_id"));
    const char *order_id = json_object_get_string(json_object_object_get(payload, "order_id"));
    json_object *reviewer = json_object_object_get(payload, "reviewer");
    const char *reviewer_id = json_object_get_string(json_object_object_get(reviewer, "id"));
    const char *reviewer_name = json_object_get_string(json_object_object_get(reviewer, "display_name"));
    json_object *rating = json_object_object_get(payload, "rating");
    const char *comment = json_object_get_string(json_object_object_get(payload, "comment"));
    const char *created_at = json_object_get_string(json_object_object_get(payload, "created_at"));
    json_object *created_us = json_object_object_get(payload, "created_us");
    if (seller_id == NULL || order_id == NULL || reviewer_id == NULL || !json_object_is_type(rating, json_type_int) ||
        comment == NULL || created_at == NULL || !json_object_is_type(created_us, json_type_int)) {
        return MK_EBADPARAM;
    }
    int rc = display_name(p, reviewer_id, reviewer_name, &reviewer_name);
    if (rc != MK_OK) {
        return rc;
    }
    bson_t fields = BSON_INITIALIZER, r;
    BSON_APPEND_UTF8(&fields, "order_id", order_id);
    BSON_APPEND_UTF8(&fields, "seller_id", seller_id);
    BSON_APPEND_DOCUMENT_BEGIN(&fields, "reviewer", &r);
    BSON_APPEND_UTF8(&r, "id", reviewer_id);
    if (reviewer_name != NULL) {
        BSON_APPEND_UTF8(&r, "display_name", reviewer_name);
    } else {
        BSON_APPEND_NULL(&r, "display_name");
    }
    bson_append_document_end(&fields, &r);
    BSON_APPEND_INT32(&fields, "rating", (int32_t)json_object_get_int(rating));
    BSON_APPEND_UTF8(&fields, "comment", comment);
    BSON_APPEND_UTF8(&fields, "created_at", created_at);
    BSON_APPEND_INT64(&fields, "created_us", json_object_get_int64(created_us));
    rc = projection_upsert_versioned(p, "reviews", ev->aggregate_id, ev->version, ev->seq, &fields, NULL);
    bson_destroy(&fields);
    if (rc < 0) {
        return rc;
    }
    /* Always, also for a replay: the previous attempt may have stopped before this step. */
    int rc2 = refresh_rating(p, seller_id, ev->seq);
    if (rc2 != MK_OK) {
        return rc2;
    }
    /* The profile and every listing page of the seller show the rating: drop their caches. */
    invalidate_user(p, seller_id);
    invalidate_seller_listings(p, seller_id);
    return rc;
}
