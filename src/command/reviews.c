/* POST /api/v1/orders/{id}/review: the buyer reviews the seller of a delivered order. */
#include "command/command.h"
#include "command/handlers.h"
#include "core/errors.h"
#include "core/ids.h"
#include "domain/review.h"
#include "worker.h"

struct review_ctx {
    const char *order_id;
    const char *user_id;
    struct review_input in;
    json_object *review;
};

static int
review_body(struct request *r, struct command_tx *tx, void *data)
{
    struct review_ctx *c = data;
    int rc = review_create(tx->pg, r->arena, c->order_id, c->user_id, &c->in, &c->review, &tx->last_seq);
    switch (rc) {
    case MK_ENOTFOUND: return http_fail(r, rc, "no such order");
    case MK_EFORBIDDEN: return http_fail(r, rc, "only the buyer reviews an order");
    case MK_ETRANSITION: return http_fail(r, rc, "only a delivered order can be reviewed");
    default: return rc;
    }
}

static int
parse_review(struct request *r, json_object *body, void *ctx)
{
    return review_parse(r, body, &((struct review_ctx *)ctx)->in);
}

int
command_review_order(struct request *r)
{
    struct review_ctx c = {0};
    int rc = command_begin_json(r, "order", &c.order_id, &c.user_id, parse_review, &c);
    if (rc != MK_OK) {
        return rc;
    }
    if ((rc = command_run(r, review_body, &c)) != MK_OK) {
        return rc;
    }
    json_object *doc = http_json_own(r, json_object_new_object());
    json_object_object_add(doc, "review", json_object_get(c.review));
    http_set_header(r, "Cache-Control", "no-store");
    return http_respond_json(r, 201, doc);
}
