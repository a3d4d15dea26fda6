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

/*
 * The start of every handler of a resource's sub-path (/listings/{id}/..., /orders/{id}/...):
 * *id is the path's id (404 "no such <what>" when it is not a UUID) and *user_id the
 * authenticated user, r->user_id (401/403/503 otherwise).
 */
int command_begin(struct request *r, const char *what, const char **id, const char **user_id);

/* Reads a request's JSON body into the handler's context ctx: records each problem with
 * http_field_error and returns MK_EVALIDATION, else MK_OK. */
typedef int (*command_parse)(struct request *r, json_object *body, void *ctx);

/* The request's JSON object body (400/415/422 otherwise) read by parse into ctx (a 422 with
 * the fields parse named). */
int command_read_json(struct request *r, command_parse parse, void *ctx);

/* command_begin, then command_read_json. */
int command_begin_json(struct request *r, const char *what, const char **id, const char **user_id,
                       command_parse parse, void *ctx);

/* command_begin for /api/v1/listings/{id}... */
#define command_listing_begin(r, id, user_id) command_begin((r), "listing", (id), (user_id))

#endif
