/*
 * projector.h — the projector role: applies outbox events to the MongoDB read model.
 *
 * One projector is active at a time: it holds a PostgreSQL advisory lock for as long as
 * its session lives; others stand by and try the lock every second, so one takes over
 * within about a second when the active one dies. The active one reads committed events
 * in (txid, seq) order from its checkpoint (kept in the read model itself, next to the
 * generation marker), wakes on LISTEN/NOTIFY and polls as a fallback.
 *
 * Read-model generations: `projector_state.generation` in PostgreSQL names the current
 * one; the marker document in MongoDB names the one the read model was built for. A
 * missing marker (an empty or restarted MongoDB) or another generation (a restored
 * backup, or `--rebuild` bumping the number) makes the active projector drop the
 * read-model collections and replay the outbox from the start.
 */
#ifndef MK_PROJECTOR_H
#define MK_PROJECTOR_H

#include <stdbool.h>

#include "core/config.h"

/* Run the projector until SIGTERM. Returns an exit code. */
int projector_main(const struct config *cfg, int slot);

/* `--rebuild`: bump the generation and wait until the read model is rebuilt (by the
 * active projector, or by this process when none is running). Returns an exit code. */
int projector_rebuild(const struct config *cfg, int timeout_s);

#endif
