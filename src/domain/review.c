#include "domain/review.h"

#include <string.h>

#include "core/errors.h"
#include "core/ids.h"
#include "domain/outbox.h"

int
review_parse(struct request *r, json_object *body, struct review_input *out)
{
    static const char *const allowed[] = {"rating", "comment", NULL};
    out->rating = 0;
    out->comment = "";
    http_json_only(r, body, allowed);
    long long rating;
    if (http_json_int_member(r, body, "rating", REVIEW_RATING_MIN, REVIEW_RATING_MAX, "must be an integer from 1 to 5",
                             &rating)) {
        out->rating = (int)rating;
    }
    json_object *v;
    if (json_object_object_get_ex(body, "comment", &v)) {
        if (!json_object_is_type(v, json_type_string)) {
            http_field_error(r, "comment", "must be a string");
        } else {
            out->comment = http_json_text(r, "comment", json_object_get_string(v), 0, REVIEW_COMMENT_MAX, true);
        }
    }
    return r->err_fields != NULL ? MK_EVALIDATION : MK_OK;
}

bool
review_average(long long sum, long long count, double *average)
{
    if (count <= 0) {
        return false;
    }
    long long tenths = (20 * sum + count) / (2 * count);   /* round half up of 10 * sum / count */
    *average = (double)tenths / 10.0;
    return true;
}


static const struct pg_stmt ORDER = {
    "review_order",
    "SELECT o.buyer_id::text, o.seller_id::text, o.status, o.listing_id::text, u.display_name "
    "FROM orders o JOIN users u ON u.id = o.buyer_id WHERE o.id = $1::uuid",
    1,
};

static const struct pg_stmt INSERT = {
    "review_insert",
    "INSERT INTO reviews (id, order_id, reviewer_id, seller_id, rating, comment) "
    "VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::smallint, $6) "
    "RETURNING " PG_UTC_TEXT("created_at") ", (extract(epoch FROM created_at) * 1000000)::bigint",
    6,
};

int
review_create(struct pg *pg, arena_t *a, const char *order_id, const char *user_id, const struct review_input *in,
              json_object **review, long long *seq)
{
    const char *key[] = {order_id};
    PGresult *res;
    int rc = pg_exec_row(pg, a, &ORDER, key, &res);
    if (rc != MK_OK) {
        return rc;
    }
    const char *buyer = pg_value(res, 0, 0), *seller = pg_value(res, 0, 1), *status = pg_value(res, 0, 2);
    if (strcmp(user_id, buyer) != 0 && strcmp(user_id, seller) != 0) {
        return MK_ENOTFOUND;
    }
    if (strcmp(user_id, buyer) != 0) {
        return MK_EFORBIDDEN;
    }
    if (strcmp(status, "delivered") != 0) {
        return MK_ETRANSITION;
    }
    const char *listing = arena_strdup(a, pg_value(res, 0, 3));
    const char *reviewer_name = arena_strdup(a, pg_value(res, 0, 4));
    seller = arena_strdup(a, seller);

    char id[UUID_STR_LEN + 1];
    uuid_new(id);
    const char *values[] = {id, order_id, user_id, seller, arena_sprintf(a, "%d", in->rating), in->comment};
    rc = pg_exec_row(pg, a, &INSERT, values, &res);
    if (rc == MK_ECONFLICT && pg_failed_with(pg, "23505") && strcmp(pg->constraint, "reviews_one_per_order") == 0) {
        return MK_EREVIEWED;
    }
    if (rc != MK_OK) {
        return rc;
    }
    const char *created_at = pg_value(res, 0, 0);
    long long created_us = pg_int(res, 0, 1);

    /* The API shape: {id, order_id, reviewer: {id, display_name}, rating, comment, created_at}. */
    json_object *doc = json_object_new_object();
    arena_cleanup_add(a, (arena_cleanup_fn)(void (*)(void))json_object_put, doc);
    json_object *reviewer = json_object_new_object();
    json_object_object_add(reviewer, "id", json_object_new_string(user_id));
    json_object_object_add(reviewer, "display_name", json_object_new_string(reviewer_name));
    json_object_object_add(doc, "id", json_object_new_string(id));
    json_object_object_add(doc, "order_id", json_object_new_string(order_id));
    json_object_object_add(doc, "reviewer", reviewer);
    json_object_object_add(doc, "rating", json_object_new_int(in->rating));
    json_object_object_add(doc, "comment", json_object_new_string(in->comment));
    json_object_object_add(doc, "created_at", json_object_new_string(created_at));

    /* The event adds what the projector files it under. */
    json_object *ev_doc = json_object_new_object();
    json_object_object_foreach(doc, k, v) {
        json_object_object_add(ev_doc, k, json_object_get(v));
    }
    json_object_object_add(ev_doc, "seller_id", json_object_new_string(seller));
    json_object_object_add(ev_doc, "listing_id", json_object_new_string(listing));
    json_object_object_add(ev_doc, "created_us", json_object_new_int64(created_us));
    struct outbox_event ev = {
        .aggregate_type = "review",
        .aggregate_id = id,
        .version = 1,
        .event_type = "review.created",
        .payload = arena_strdup(a, json_object_to_json_string_ext(ev_doc, JSON_C_TO_STRING_PLAIN)),
    };
    json_object_put(ev_doc);
    rc = outbox_append(pg, a, &ev, seq);
    if (rc == MK_OK) {
        *review = doc;
    }
    return rc;
}
