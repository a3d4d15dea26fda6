/* POST and DELETE /api/v1/listings/{id}/favorite: idempotent, 204 either way. */
#include <string.h>

#include "command/command.h"
#include "command/handlers.h"
#include "core/errors.h"
#include "domain/favorite.h"
#include "domain/listing.h"

struct favorite_ctx {
    const char *listing_id;
    const char *user_id;
    bool add;
};

static int
favorite_body(struct request *r, struct command_tx *tx, void *data)
{
    struct favorite_ctx *c = data;
    if (c->add) {
        /* Only a listing others can see can be kept: not a deleted one, not someone else's
         * draft. The row lock also serialises this with the listing's own changes. */
        struct listing_row row;
        int rc = listing_lock(tx->pg, r->arena, c->listing_id, &row);
        if (rc == MK_ENOTFOUND || (rc == MK_OK && (strcmp(row.status, "deleted") == 0 ||
                                                    (strcmp(row.status, "draft") == 0 &&
                                                     strcmp(row.seller_id, c->user_id) != 0)))) {
            return http_fail(r, MK_ENOTFOUND, "no such listing");
        }
        if (rc != MK_OK) {
            return rc;
        }
    }
    bool changed;
    return favorite_set(tx->pg, r->arena, c->user_id, c->listing_id, c->add, &changed, &tx->last_seq);
}

static int
favorite(struct request *r, bool add)
{
    struct favorite_ctx c = {.add = add};
    int rc = command_listing_begin(r, &c.listing_id, &c.user_id);
    if (rc != MK_OK) {
        return rc;
    }
    if ((rc = command_run(r, favorite_body, &c)) != MK_OK) {
        return rc;
    }
    return http_respond_empty(r, 204);
}

int
command_favorite_add(struct request *r)
{
    return favorite(r, true);
}

int
command_favorite_remove(struct request *r)
{
    return favorite(r, false);
}
