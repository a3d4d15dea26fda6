/*
 * deliverer.h — the deliverer role (`marketd --role deliverer`): sends webhook deliveries.
 *
 * Its own processes, supervised by a master like the projector's (core/pool.c), so a slow
 * or hanging receiver (an attempt may take webhook_timeout_ms, 10 s) never delays the
 * projector, and the projector never waits for the network: it only inserts delivery rows.
 * Each process claims one due delivery at a time in PostgreSQL (FOR UPDATE SKIP LOCKED and
 * a lease), so any number of deliverer processes share the work without sending one twice
 * at once; a process that dies leaves its lease to run out and another takes the delivery.
 * It wakes on NOTIFY webhook_deliveries and otherwise sleeps until the next due attempt
 * (at most deliverer_poll_ms).
 */
#ifndef MK_DELIVERER_H
#define MK_DELIVERER_H

#include <stdbool.h>

#include "core/config.h"

/* Run until SIGTERM. Returns an exit code. */
int deliverer_main(const struct config *cfg);

/* How an attempt ended, for the schedule: "succeeded", "failed" (no retry) or "retry". */
const char *deliverer_outcome(long status_code, bool transport_error);

#endif
