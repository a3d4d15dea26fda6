/*
 * ping.h — the `system_ping` aggregate: a row with a note and a version, whose every
 * change emits a `system.ping` event carrying the row's resulting state. It exists to
 * prove and test the CQRS path (command → outbox → projector → MongoDB → query).
 */
#ifndef MK_PING_H
#define MK_PING_H

#include "store/pg.h"

#define PING_NOTE_MAX 200

struct ping {
    const char *id;
    const char *note;
    long long version;
    const char *created_at;   /* RFC 3339 */
    const char *updated_at;
};

/*
 * Inside the caller's open transaction: create the ping id (version 1) or bump it
 * (version + 1, new note), and append its event. *out and *seq receive the new state
 * and the event's position.
 */
int ping_record(struct pg *pg, arena_t *arena, const char *id, const char *note, struct ping *out, long long *seq);

#endif
