/*
 * outbox.h — the transactional outbox: events are rows written in the same PostgreSQL
 * transaction as the change they describe, with the writer's transaction id.
 *
 * Reading order: an event becomes visible at its transaction's commit, not at its insert,
 * so "seq > last" would skip events of slow transactions. Readers take only events of
 * transactions older than their snapshot's xmin (all of which have ended), in (txid, seq)
 * order, and keep (txid, seq) as their checkpoint: any event that commits later has a
 * txid at or above that xmin, so it sorts after the checkpoint and is never skipped.
 * Events carry the resulting state and version of their aggregate, because (txid, seq)
 * order is not commit order for one aggregate.
 */
#ifndef MK_OUTBOX_H
#define MK_OUTBOX_H

#include <json-c/json.h>

#include "store/pg.h"

struct outbox_event {
    const char *aggregate_type;   /* "system_ping", "listing", ... */
    const char *aggregate_id;     /* UUID */
    long long version;            /* the aggregate's version after the change */
    const char *event_type;       /* "system.ping", "listing.updated", ... */
    const char *payload;          /* JSON text: the aggregate's resulting state */
};

/* Append ev inside the caller's open transaction; *seq receives its position. */
int outbox_append(struct pg *pg, arena_t *arena, const struct outbox_event *ev, long long *seq);

/* outbox_append with the payload given as a JSON document, which it releases (json_object_put)
 * whatever the outcome: the usual tail of a domain function that has built its event. */
int outbox_append_doc(struct pg *pg, arena_t *arena, const char *aggregate_type, const char *aggregate_id,
                      long long version, const char *event_type, json_object *doc, long long *seq);

/* A position in the (txid, seq) order; "0"/0 is before every event. */
struct outbox_pos {
    char txid[24];
    long long seq;
};

/* One event read back. Strings live in the arena. */
struct outbox_row {
    long long seq;
    const char *txid;
    const char *aggregate_type;
    const char *aggregate_id;
    long long version;
    const char *event_type;
    const char *payload;
    long long created_ms;         /* unix milliseconds */
};

/*
 * Read up to limit committed events after pos in (txid, seq) order, stopping below the
 * current snapshot's xmin. *rows (arena) and *n receive them.
 */
int outbox_read(struct pg *pg, arena_t *arena, const struct outbox_pos *after, int limit, struct outbox_row **rows,
                int *n);

/* Events after pos that are committed now: count (exact up to 1,000, above that estimated
 * from the head's seq), highest seq in the outbox, age of the oldest of the first 1,001 (ms). */
int outbox_backlog(struct pg *pg, arena_t *arena, const struct outbox_pos *after, long long *pending,
                   long long *head_seq, long long *oldest_age_ms);

/* True when a sorts before b in the reading order. */
int outbox_pos_cmp(const struct outbox_pos *a, const struct outbox_pos *b);

#endif
