/*
 * prefetch.h — the projector's next outbox batch, read from PostgreSQL and parsed on a
 * thread of its own (its own connection, reads only) while the projector applies the
 * current one, so the outbox query, the transfer and the JSON parsing of batch N+1 overlap
 * the read model's writes of batch N instead of following them.
 *
 * It only reads: what the projector applies and when it saves its checkpoint do not change
 * (the checkpoint still moves after a batch's writes are acknowledged; a crash replays from
 * it). A prefetched batch is used only for exactly the position it was asked for; any other
 * position (a failed batch, a resynchronisation, a rebuild, a lost lock) reads as before.
 */
#ifndef MK_PREFETCH_H
#define MK_PREFETCH_H

#include <json-c/json.h>

#include "core/config.h"
#include "domain/outbox.h"

struct prefetch;

/* A batch: rows and their parsed payloads (NULL where not JSON), owned by arena. */
struct fetched {
    arena_t *arena;
    struct outbox_row *rows;
    json_object **payloads;
    int n;
};

/* Start the thread (MK_OK, or an error: the projector then reads every batch itself). */
int prefetch_start(struct prefetch **out, const struct config *cfg);

/* Read the batch of limit rows after `after`, now, in the background (drops any other). */
void prefetch_ask(struct prefetch *pf, const struct outbox_pos *after, int limit);

/* The batch after `after` read in the background (waits until it is there), or NULL when
 * none was asked for that position or its read failed: read it then. Free it with
 * fetched_free (an arena cleanup). */
struct fetched *prefetch_take(struct prefetch *pf, const struct outbox_pos *after);
void fetched_free(void *f);

/* Parse rows[i].payload into payloads[i] (NULL when not JSON), owned by arena. */
void fetched_parse(arena_t *arena, const struct outbox_row *rows, json_object **payloads, int n);

void prefetch_stop(struct prefetch *pf);

#endif
