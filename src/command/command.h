/*
 * command.h — the write side's one pattern: a handler's SQL and its outbox events run in
 * one PostgreSQL transaction. command_run() opens it, calls the body, commits, retries
 * the whole body on a serialization failure or deadlock, and answers X-Event-Seq with the
 * position of the last event the body appended. With a replica configured (pg_replica_dsn)
 * it also answers X-Commit-LSN and records it for the actor, so that the actor's private
 * reads wait for the replica to replay it (domain/replica.h).
 */
#ifndef MK_COMMAND_H
#define MK_COMMAND_H

#include "core/http.h"
#include "store/pg.h"

struct command_tx {
    struct pg *pg;
    long long last_seq;      /* set by the body (outbox_append's seq) */
    const char *actor;       /* whose write this is, for read-your-writes (domain/replica.h);
                              * NULL: the authenticated user (r->user_id). Registration sets it. */
};

/* The transaction's body. Return MK_OK to commit; any error rolls back. Must be safe to
 * run again from the start (it is retried on serialization failures). */
typedef int (*command_body)(struct request *r, struct command_tx *tx, void *ctx);

int command_run(struct request *r, command_body body, void *ctx);

struct session;

/*
 * The start of every handler of a resource's sub-path (/listings/{id}/..., /orders/{id}/...):
 * *id is the path's id (404 "no such <what>" when it is not a UUID) and *s the
 * authenticated session (401/403/503 otherwise).
 */
int command_begin(struct request *r, const char *what, const char **id, struct session *s);

/* command_begin, then the request's JSON object body into *body (400/415/422 otherwise). */
int command_begin_json(struct request *r, const char *what, const char **id, struct session *s, json_object **body);

/* command_begin for /api/v1/listings/{id}... */
#define command_listing_begin(r, id, s) command_begin((r), "listing", (id), (s))

#endif
