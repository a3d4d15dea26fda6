#include "command/command.h"

#include <stdio.h>

#include "core/errors.h"
#include "core/ids.h"
#include "core/log.h"
#include "domain/replica.h"
#include "domain/session.h"
#include "worker.h"

#define COMMAND_ATTEMPTS 3

int
command_run(struct request *r, command_body body, void *ctx)
{
    struct worker *w = r->worker;
    struct command_tx tx = {.pg = &w->pg};
    int rc = MK_ECONFLICT;
    for (int attempt = 0; attempt < COMMAND_ATTEMPTS && rc == MK_ECONFLICT; attempt++) {
        tx.last_seq = 0;
        rc = pg_simple(&w->pg, "BEGIN");
        if (rc != MK_OK) {
            break;
        }
        rc = body(r, &tx, ctx);
        if (rc == MK_OK) {
            rc = pg_simple(&w->pg, "COMMIT");
            if (rc == MK_EUNAVAILABLE) {
                /* The outcome of a COMMIT whose connection broke is unknown: say so. */
                log_error("postgres: connection lost during COMMIT; the outcome is unknown");
            }
        } else if (pg_conn(&w->pg) != NULL) {
            pg_simple(&w->pg, "ROLLBACK");
        }
        if (rc == MK_ECONFLICT && !pg_failed_with(&w->pg, "40001") && !pg_failed_with(&w->pg, "40P01")) {
            break; /* a conflict the body decided on, not a retryable failure */
        }
    }
    if (rc == MK_OK && w->cfg->pg_replica_dsn[0] != '\0') {
        /* Read-your-writes: the commit stands whatever happens here; a failure only means
         * the actor's next private read may come from a replica that has not replayed it. */
        const char *lsn;
        if (replica_record_commit(&w->pg, &w->redis, r->arena, tx.actor != NULL ? tx.actor : r->user_id, &lsn) !=
            MK_OK) {
            log_warn("replica: the commit position of this write was not recorded");
        }
        if (lsn != NULL) {
            http_set_header(r, "X-Commit-LSN", lsn);
        }
    }
    if (rc == MK_OK && tx.last_seq > 0) {
        char seq[24];
        snprintf(seq, sizeof(seq), "%lld", tx.last_seq);
        http_set_header(r, "X-Event-Seq", seq);
    }
    if (rc == MK_EUNAVAILABLE) {
        http_fail(r, rc, "the database is unavailable; retry later");
    }
    if (rc == MK_EVALIDATION && r->err_fields == NULL) {
        /* A value the database refused (SQLSTATE class 22 or 23): name it when known. */
        const char *field = pg_error_field(&w->pg);
        if (field != NULL) {
            http_field_error(r, field, pg_error_problem(&w->pg));
        }
        http_fail(r, rc, "a value was not accepted");
    }
    return rc;
}

int
command_begin(struct request *r, const char *what, const char **id, const char **user_id)
{
    *user_id = NULL;
    *id = http_path_param(r, "id");
    if (!uuid_valid(*id)) {
        return http_fail(r, MK_ENOTFOUND, arena_sprintf(r->arena, "no such %s", what));
    }
    struct session s;
    int rc = worker_authenticate(r, &s);
    if (rc == MK_OK) {
        *user_id = r->user_id;
    }
    return rc;
}

int
command_read_json(struct request *r, command_parse parse, void *ctx)
{
    json_object *body;
    int rc = http_json_body(r, &body);
    if (rc != MK_OK) {
        return rc;
    }
    /* The 422 carries the fields; its message is the default one. */
    return parse(r, body, ctx) != MK_OK ? http_fail(r, MK_EVALIDATION, NULL) : MK_OK;
}

int
command_begin_json(struct request *r, const char *what, const char **id, const char **user_id,
                   command_parse parse, void *ctx)
{
    int rc = command_begin(r, what, id, user_id);
    return rc != MK_OK ? rc : command_read_json(r, parse, ctx);
}
