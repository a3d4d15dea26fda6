/*
 * favorite.h — favourites of listings (sql/010_favorites.sql). Adding and removing are
 * idempotent: a second add or remove changes nothing and writes no event.
 */
#ifndef MK_FAVORITE_H
#define MK_FAVORITE_H

#include <stdbool.h>

#include "store/pg.h"

/*
 * Inside the caller's transaction: add (or, with add false, remove) user's favourite of
 * listing; on a change, bump the listing's count and append favorite.added/removed.
 * *changed tells whether anything changed; *seq receives the event's position.
 */
int favorite_set(struct pg *pg, arena_t *a, const char *user_id, const char *listing_id, bool add, bool *changed,
                 long long *seq);

#endif
