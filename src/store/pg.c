#include "store/pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"

void
pg_init(struct pg *pg, const char *dsn, int statement_timeout_ms)
{
    memset(pg, 0, sizeof(*pg));
    pg->dsn = strdup(dsn);
    pg->statement_timeout_ms = statement_timeout_ms;
}

static void
drop_conn(struct pg *pg)
{
    if (pg->conn != NULL) {
        PQfinish(pg->conn);
        pg->conn = NULL;
    }
    pg->nprepared = 0;
}

void
pg_close(struct pg *pg)
{
    drop_conn(pg);
    free(pg->dsn);
    pg->dsn = NULL;
}

PGconn *
pg_conn(struct pg *pg)
{
    if (pg->conn != NULL) {
        if (PQstatus(pg->conn) == CONNECTION_OK) {
            return pg->conn;
        }
        drop_conn(pg);
    }
    double now = clock_mono();
    if (now < pg->next_attempt) {
        return NULL;
    }
    /* Every call has a bound: connect_timeout for the handshake, statement_timeout for
     * queries, TCP keepalives for a peer that vanished. */
    char options[128];
    snprintf(options, sizeof(options), "-c statement_timeout=%d -c idle_in_transaction_session_timeout=60000",
             pg->statement_timeout_ms);
    const char *keys[] = {"dbname", "connect_timeout", "options", "keepalives_idle", "application_name", NULL};
    const char *vals[] = {pg->dsn, "3", options, "30", "marketd", NULL};
    pg->conn = PQconnectdbParams(keys, vals, 1);
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        char msg[256] = "out of memory";
        if (pg->conn != NULL) {
            snprintf(msg, sizeof(msg), "%s", PQerrorMessage(pg->conn));
            msg[strcspn(msg, "\n")] = '\0';
        }
        drop_conn(pg);
        pg->backoff_ms = pg->backoff_ms == 0 ? 100 : (pg->backoff_ms * 2 > 5000 ? 5000 : pg->backoff_ms * 2);
        pg->next_attempt = now + pg->backoff_ms / 1000.0;
        log_warn("postgres: cannot connect (%s); next attempt in %d ms", msg, pg->backoff_ms);
        return NULL;
    }
    pg->backoff_ms = 0;
    return pg->conn;
}

static void
clear_result(void *res)
{
    PQclear(res);
}

/* Classify a failed result; logs it. */
static int
failure(struct pg *pg, PGresult *res, const char *what)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    snprintf(pg->sqlstate, sizeof(pg->sqlstate), "%s", state != NULL ? state : "");
    snprintf(pg->constraint, sizeof(pg->constraint), "%s", cons != NULL ? cons : "");
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        log_warn("postgres: connection lost during %s", what);
        drop_conn(pg);
        return MK_EUNAVAILABLE;
    }
    if (strcmp(pg->sqlstate, "40001") == 0 || strcmp(pg->sqlstate, "40P01") == 0) {
        return MK_ECONFLICT;
    }
    if (strcmp(pg->sqlstate, "57014") == 0) { /* statement timeout */
        log_warn("postgres: %s timed out", what);
        return MK_EUNAVAILABLE;
    }
    /* Constraint violations are expected outcomes the caller inspects; other errors are bugs. */
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(pg->conn));
    msg[strcspn(msg, "\n")] = '\0';
    if (pg->sqlstate[0] == '2' && pg->sqlstate[1] == '3') {
        log_debug("postgres: %s: %s", what, msg);
    } else {
        log_error("postgres: %s failed: %s [%s]", what, msg, pg->sqlstate);
    }
    return MK_EINTERNAL;
}

static int
ensure_prepared(struct pg *pg, const struct pg_stmt *stmt)
{
    for (int i = 0; i < pg->nprepared; i++) {
        if (pg->prepared[i] == stmt) {
            return MK_OK;
        }
    }
    PGresult *res = PQprepare(pg->conn, stmt->name, stmt->sql, stmt->nparams, NULL);
    int rc = MK_OK;
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        rc = failure(pg, res, stmt->name);
    } else if (pg->nprepared < PG_MAX_PREPARED) {
        pg->prepared[pg->nprepared++] = stmt;
    }
    PQclear(res);
    return rc;
}

int
pg_exec(struct pg *pg, arena_t *arena, const struct pg_stmt *stmt, const char *const *values, PGresult **out)
{
    if (out != NULL) {
        *out = NULL;
    }
    pg->sqlstate[0] = '\0';
    if (pg_conn(pg) == NULL) {
        return MK_EUNAVAILABLE;
    }
    int rc = ensure_prepared(pg, stmt);
    if (rc != MK_OK) {
        return rc;
    }
    PGresult *res = PQexecPrepared(pg->conn, stmt->name, stmt->nparams, values, NULL, NULL, 0);
    ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = failure(pg, res, stmt->name);
        PQclear(res);
        return rc;
    }
    if (out != NULL && arena != NULL) {
        arena_cleanup_add(arena, clear_result, res);
        *out = res;
    } else {
        PQclear(res);
    }
    return MK_OK;
}

int
pg_exec_row(struct pg *pg, arena_t *arena, const struct pg_stmt *stmt, const char *const *values, PGresult **out)
{
    int rc = pg_exec(pg, arena, stmt, values, out);
    if (rc == MK_OK && PQntuples(*out) == 0) {
        rc = MK_ENOTFOUND;
    }
    return rc;
}

int
pg_simple(struct pg *pg, const char *sql)
{
    pg->sqlstate[0] = '\0';
    if (pg_conn(pg) == NULL) {
        return MK_EUNAVAILABLE;
    }
    PGresult *res = PQexec(pg->conn, sql);
    ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = MK_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = failure(pg, res, sql);
    }
    PQclear(res);
    return rc;
}

bool
pg_failed_with(const struct pg *pg, const char *sqlstate)
{
    return strcmp(pg->sqlstate, sqlstate) == 0;
}

const char *
pg_value(const PGresult *res, int row, int col)
{
    if (res == NULL || row >= PQntuples(res) || col >= PQnfields(res) || PQgetisnull(res, row, col)) {
        return NULL;
    }
    return PQgetvalue(res, row, col);
}

long long
pg_int(const PGresult *res, int row, int col)
{
    const char *v = pg_value(res, row, col);
    return v != NULL ? strtoll(v, NULL, 10) : 0;
}
