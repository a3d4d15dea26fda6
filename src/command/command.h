/*
 * command.h — the write side's one pattern: a handler's SQL and its outbox events run in
 * one PostgreSQL transaction. command_run() opens it, calls the body, commits, retries
 * the whole body on a serialization failure or deadlock, and answers X-Event-Seq with the
 * position of the last event the body appended.
 */
#ifndef MK_COMMAND_H
#define MK_COMMAND_H

#include "core/http.h"
#include "store/pg.h"

struct command_tx {
    struct pg *pg;
    long long last_seq;      /* set by the body (outbox_append's seq) */
};

/* The transaction's body. Return MK_OK to commit; any error rolls back. Must be safe to
 * run again from the start (it is retried on serialization failures). */
typedef int (*command_body)(struct request *r, struct command_tx *tx, void *ctx);

int command_run(struct request *r, command_body body, void *ctx);

struct session;

/*
 * The start of every handler under /api/v1/listings/{id}: *listing_id is the path's id
 * (404 when it is not a UUID) and *s the authenticated session (401/403/503 otherwise).
 */
int command_listing_begin(struct request *r, const char **listing_id, struct session *s);

#endif
