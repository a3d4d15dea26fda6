#include "store/pg.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libpq-fe.h>

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

void
pg_set_pooled(struct pg *pg, bool pooled)
{
    pg->pooled = pooled;
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

/*
 * A refused or answered connect (nothing listens, "the database system is starting up",
 * too many clients) costs about a millisecond: try again on the next request, so the first
 * request after PostgreSQL is back succeeds. Only a connect that took long (a peer that
 * does not answer, up to connect_timeout) starts a back-off, growing to 5 s, so requests
 * do not each wait for a timeout; the back-off ends when a connect succeeds.
 */
#define PG_SLOW_CONNECT_S 0.25

/* True when the server has closed its side of an idle connection (without waiting). What
 * it sent before (a FATAL "terminating connection") is consumed. */
static bool
peer_closed(PGconn *conn)
{
    struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN | POLLRDHUP};
    if (p.fd < 0) {
        return true;
    }
    if (poll(&p, 1, 0) <= 0) {
        return false;
    }
    if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
        return true;
    }
    return PQconsumeInput(conn) != 1 || PQstatus(conn) != CONNECTION_OK;
}

PGconn *
pg_conn(struct pg *pg)
{
    if (pg->conn != NULL) {
        /* Between transactions, look whether the server closed its side meanwhile (a
         * restart): then the connection is replaced before a statement is sent, so any
         * statement may go to the fresh one. */
        if (PQstatus(pg->conn) == CONNECTION_OK &&
            (PQtransactionStatus(pg->conn) != PQTRANS_IDLE || !peer_closed(pg->conn))) {
            return pg->conn;
        }
        log_info("postgres: the server closed the connection while it was idle; connecting again");
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
    const char *keys[] = {"dbname", "connect_timeout", "keepalives_idle", "application_name", "options", NULL};
    const char *vals[] = {pg->dsn, "3", "30", "marketd", options, NULL};
    if (pg->pooled) {
        keys[4] = NULL; /* a pooler refuses session options; the role carries the time-outs */
    }
    pg->conn = PQconnectdbParams(keys, vals, 1);
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
        char msg[256] = "out of memory";
        if (pg->conn != NULL) {
            snprintf(msg, sizeof(msg), "%s", PQerrorMessage(pg->conn));
            msg[strcspn(msg, "\n")] = '\0';
        }
        drop_conn(pg);
        double took = clock_mono() - now;
        if (took < PG_SLOW_CONNECT_S) {
            pg->backoff_ms = 0;
            pg->next_attempt = 0;
        } else {
            pg->backoff_ms = pg->backoff_ms == 0 ? 100 : (pg->backoff_ms * 2 > 5000 ? 5000 : pg->backoff_ms * 2);
            pg->next_attempt = clock_mono() + pg->backoff_ms / 1000.0;
        }
        /* One line when the outage starts, then one per 100 failed attempts. */
        if (pg->connect_failures++ % 100 == 0) {
            log_warn("postgres: cannot connect (%s); %d failed attempts; next attempt %s", msg, pg->connect_failures,
                     pg->backoff_ms > 0 ? "after a back-off" : "with the next request");
        }
        return NULL;
    }
    if (pg->connect_failures > 0) {
        log_info("postgres: connected again after %d failed attempts", pg->connect_failures);
    }
    pg->connect_failures = 0;
    pg->backoff_ms = 0;
    pg->next_attempt = 0;
    return pg->conn;
}

static void
clear_result(void *res)
{
    PQclear(res);
}

/* The connection is gone or the server is going away: 08 connection exceptions, 57P01
 * admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now. */
static bool
connection_error(const char *state)
{
    return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
           strcmp(state, "57P03") == 0;
}

/* A table from one code or name to a text, read with text_of. */
struct text_pair {
    const char *key;
    const char *text;
};

/* The text of key (its first n bytes) in table, NULL when the table has none. */
static const char *
text_of(const struct text_pair *table, size_t count, const char *key, size_t n)
{
    for (size_t i = 0; i < count; i++) {
        if (strlen(table[i].key) == n && strncmp(table[i].key, key, n) == 0) {
            return table[i].text;
        }
    }
    return NULL;
}

/*
 * The API field a constraint guards. PostgreSQL names column constraints
 * TABLE_COLUMN_check / _fkey / _key; the column then names the field, through this table
 * where the API calls it otherwise. Columns the client never writes have no field.
 */
static const struct text_pair COLUMN_FIELDS[] = {
    {"email", "email"},
    {"display_name", "display_name"},
    {"bio", "bio"},
    {"location", "location"},
    {"title", "title"},
    {"description", "description"},
    {"category", "category"},
    {"condition", "condition"},
    {"price_minor", "price_minor"},
    {"currency", "currency"},
    {"city", "location.city"},
    {"country", "location.country"},
    {"lat", "location.lat"},
    {"lon", "location.lon"},
    {"attributes", "attributes"},
    {"content_type", "content_type"},
    {"size_bytes", "size_bytes"},
    {"key", "key"},
    {"listing_id", "listing_id"},
    {"ship_name", "shipping_address.name"},
    {"ship_line1", "shipping_address.line1"},
    {"ship_line2", "shipping_address.line2"},
    {"ship_city", "shipping_address.city"},
    {"ship_postal_code", "shipping_address.postal_code"},
    {"ship_country", "shipping_address.country"},
    {"tracking_carrier", "carrier"},
    {"tracking_number", "number"},
    {"rating", "rating"},
    {"comment", "comment"},
    {"note", "note"},
    /* offers and their moves, saved searches, webhooks (their parsers check these first) */
    {"amount_minor", "amount_minor"},
    {"name", "name"},
    {"query", "query"},
    {"url", "url"},
};

static const char *
field_of_column(const char *column, size_t n)
{
    return text_of(COLUMN_FIELDS, sizeof(COLUMN_FIELDS) / sizeof(COLUMN_FIELDS[0]), column, n);
}

/* The field of a failed result: the column PostgreSQL names (not-null violations), else the
 * column in the constraint's name; NULL when it cannot be known. */
const char *
pg_constraint_field(const char *table, const char *column, const char *constraint)
{
    if (column != NULL && column[0] != '\0') {
        return field_of_column(column, strlen(column));
    }
    if (constraint == NULL || table == NULL) {
        return NULL;
    }
    size_t tn = strlen(table), cn = strlen(constraint);
    if (cn <= tn + 1 || strncmp(constraint, table, tn) != 0 || constraint[tn] != '_') {
        return NULL;
    }
    const char *col = constraint + tn + 1;
    size_t n = cn - tn - 1;
    static const char *const suffixes[] = {"_check", "_fkey", "_key", NULL};
    for (const char *const *suf = suffixes; *suf != NULL; suf++) {
        size_t sn = strlen(*suf);
        if (n > sn && strcmp(col + n - sn, *suf) == 0) {
            return field_of_column(col, n - sn);
        }
    }
    return NULL;
}

/*
 * Classify a failed result by its SQLSTATE class and log it:
 *   lost connection, 08, 57P01-03, 57014 (statement timeout), 53 (resources), 55P03 (lock
 *     not available)                                  → MK_EUNAVAILABLE (503, retry later)
 *   40001, 40P01 (serialization failure, deadlock)   → MK_ECONFLICT (command_run retries)
 *   23505, 23P01 (unique, exclusion)                 → MK_ECONFLICT (409; callers map names)
 *   other 23 (not null, foreign key, check)          → MK_EVALIDATION (422, field when known)
 *   22 (data exception: bad encoding, out of range)  → MK_EVALIDATION (422)
 *   anything else (syntax, undefined object, ...)    → MK_EINTERNAL (500): the server's fault
 * pg->sqlstate, pg->constraint and pg->field keep the details for the caller.
 */
static int
failure(struct pg *pg, PGresult *res, const char *what)
{
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *table = res != NULL ? PQresultErrorField(res, PG_DIAG_TABLE_NAME) : NULL;
    const char *column = res != NULL ? PQresultErrorField(res, PG_DIAG_COLUMN_NAME) : NULL;
    snprintf(pg->sqlstate, sizeof(pg->sqlstate), "%s", state != NULL ? state : "");
    snprintf(pg->constraint, sizeof(pg->constraint), "%s", cons != NULL ? cons : "");
    const char *field = pg_constraint_field(table, column, cons);
    snprintf(pg->field, sizeof(pg->field), "%s", field != NULL ? field : "");
    char msg[512];
    snprintf(msg, sizeof(msg), "%s",
             res != NULL ? PQresultErrorMessage(res) : pg->conn != NULL ? PQerrorMessage(pg->conn) : "no connection");
    msg[strcspn(msg, "\n")] = '\0';
    const char *st = pg->sqlstate;
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK || connection_error(st)) {
        log_warn("postgres: connection lost during %s: %s [%s]", what, msg, st[0] != '\0' ? st : "no SQLSTATE");
        drop_conn(pg);
        return MK_EUNAVAILABLE;
    }
    if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0) {
        log_debug("postgres: %s: %s [%s]", what, msg, st);
        return MK_ECONFLICT;
    }
    if (strcmp(st, "57014") == 0 || strncmp(st, "53", 2) == 0 || strcmp(st, "55P03") == 0) {
        log_warn("postgres: %s: %s [%s]", what, msg, st);
        return MK_EUNAVAILABLE;
    }
    if (strcmp(st, "23505") == 0 || strcmp(st, "23P01") == 0) {
        log_debug("postgres: %s: %s [%s %s]", what, msg, st, pg->constraint);
        return MK_ECONFLICT;
    }
    if (strncmp(st, "23", 2) == 0 || strncmp(st, "22", 2) == 0) {
        /* Input the checks before the database let through: a 4xx, but worth a look. */
        log_warn("postgres: %s refused a value: %s [%s%s%s]", what, msg, st, pg->constraint[0] != '\0' ? " " : "",
                 pg->constraint);
        return MK_EVALIDATION;
    }
    log_error("postgres: %s failed: %s [%s]", what, msg, st[0] != '\0' ? st : "no SQLSTATE");
    return MK_EINTERNAL;
}

const char *
pg_error_field(const struct pg *pg)
{
    return pg->field[0] != '\0' ? pg->field : NULL;
}

const char *
pg_error_problem(const struct pg *pg)
{
    static const struct text_pair problems[] = {
        {"22001", "is too long"},
        {"22003", "is out of range"},
        {"22021", "is not valid UTF-8"},
        {"22P02", "has an invalid format"},
        {"22P05", "holds a character the database cannot store"},
        {"23502", "is required"},
        {"23503", "refers to something that does not exist"},
        {"23514", "is not an accepted value"},
    };
    const char *problem = text_of(problems, sizeof(problems) / sizeof(problems[0]), pg->sqlstate, strlen(pg->sqlstate));
    return problem != NULL ? problem : "is not accepted";
}

static int
ensure_prepared(struct pg *pg, const struct pg_stmt *stmt)
{
    if (pg->pooled) {
        return MK_OK; /* sent unnamed with each execution (pg_set_pooled) */
    }
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

/* A statement that only reads (or opens a transaction): running it twice changes nothing. */
static bool
read_only(const char *sql)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t') {
        sql++;
    }
    return strncasecmp(sql, "SELECT", 6) == 0 || strncasecmp(sql, "BEGIN", 5) == 0 ||
           strncasecmp(sql, "ROLLBACK", 8) == 0 || strncasecmp(sql, "SHOW", 4) == 0;
}

/*
 * A connection that sat idle may belong to a server that has restarted since: PQstatus
 * still says CONNECTION_OK until the next statement fails. Such a statement is run once
 * more on a fresh connection when that is safe: the connection was re-used, no transaction
 * was open on it (so nothing before this statement is lost), and either the statement only
 * reads or the server said it had gone away (57P01-03: the statement never ran). A
 * statement inside a transaction is never retried here: command_run's transaction fails
 * with 503 and the client may retry it.
 */
static bool
retry_on_fresh(const struct pg *pg, bool reused, bool idle, const char *sql)
{
    if (!reused || !idle || pg->conn != NULL) { /* failure() dropped a lost connection */
        return false;
    }
    bool went_away = strncmp(pg->sqlstate, "57P0", 4) == 0;
    return read_only(sql) || went_away;
}

/* MK_OK for a result that succeeded, else what failure() makes of it. */
static int
result_rc(struct pg *pg, PGresult *res, const char *what)
{
    ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? MK_OK : failure(pg, res, what);
}

/* One try of a statement on pg->conn (open): pg_exec's and pg_script's. */
typedef int (*try_fn)(struct pg *pg, void *ctx);

/* Run try on the connection (opened if needed), and once more on a fresh one when it failed on
 * a stale connection and that is safe (retry_on_fresh: sql says whether it only reads). */
static int
with_retry(struct pg *pg, const char *sql, const char *what, try_fn try, void *ctx)
{
    for (int attempt = 0;; attempt++) {
        pg->sqlstate[0] = '\0';
        pg->field[0] = '\0';
        bool reused = pg->conn != NULL;
        if (pg_conn(pg) == NULL) {
            return MK_EUNAVAILABLE;
        }
        bool idle = PQtransactionStatus(pg->conn) == PQTRANS_IDLE;
        int rc = try(pg, ctx);
        if (rc == MK_EUNAVAILABLE && attempt == 0 && retry_on_fresh(pg, reused, idle, sql)) {
            log_info("postgres: the connection was stale; %s again on a fresh one", what);
            continue;
        }
        return rc;
    }
}

struct stmt_try {
    const struct pg_stmt *stmt;
    const char *const *values;
    PGresult *res; /* the result of a try that succeeded */
};

static int
try_stmt(struct pg *pg, void *ctx)
{
    struct stmt_try *t = ctx;
    const struct pg_stmt *stmt = t->stmt;
    int rc = ensure_prepared(pg, stmt);
    if (rc != MK_OK) {
        return rc;
    }
    PGresult *res = pg->pooled ? PQexecParams(pg->conn, stmt->sql, stmt->nparams, NULL, t->values, NULL, NULL, 0)
                               : PQexecPrepared(pg->conn, stmt->name, stmt->nparams, t->values, NULL, NULL, 0);
    if ((rc = result_rc(pg, res, stmt->name)) != MK_OK) {
        PQclear(res);
        return rc;
    }
    t->res = res;
    return MK_OK;
}

int
pg_exec(struct pg *pg, arena_t *arena, const struct pg_stmt *stmt, const char *const *values, PGresult **out)
{
    if (out != NULL) {
        *out = NULL;
    }
    struct stmt_try t = {stmt, values, NULL};
    int rc = with_retry(pg, stmt->sql, stmt->name, try_stmt, &t);
    if (rc != MK_OK) {
        return rc;
    }
    if (out != NULL && arena != NULL) {
        arena_cleanup_add(arena, clear_result, t.res);
        *out = t.res;
    } else {
        PQclear(t.res);
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
    return pg_script(pg, sql, sql);
}

struct script_try {
    const char *sql, *what;
};

static int
try_script(struct pg *pg, void *ctx)
{
    const struct script_try *t = ctx;
    PGresult *res = PQexec(pg->conn, t->sql);
    int rc = result_rc(pg, res, t->what);
    PQclear(res);
    return rc;
}

int
pg_script(struct pg *pg, const char *sql, const char *what)
{
    struct script_try t = {sql, what};
    return with_retry(pg, sql, what, try_script, &t);
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

int
pg_exec_rows(struct pg *pg, arena_t *arena, const struct pg_stmt *stmt, const char *const *values, size_t size,
             pg_row_fn from_row, void **rows, size_t *n)
{
    PGresult *res;
    *rows = NULL;
    *n = 0;
    int rc = pg_exec(pg, arena, stmt, values, &res);
    if (rc != MK_OK) {
        return rc;
    }
    int count = pg_nrows(res);
    char *array = arena_calloc(arena, (size_t)(count > 0 ? count : 1) * size);
    *rows = array;
    for (int i = 0; i < count; i++) {
        if ((rc = from_row(arena, res, i, array + (size_t)i * size)) != MK_OK) {
            return rc;
        }
    }
    *n = (size_t)count;
    return MK_OK;
}

int
pg_nrows(const PGresult *res)
{
    return res != NULL ? PQntuples(res) : 0;
}

bool
pg_connected(const struct pg *pg)
{
    return pg->conn != NULL && PQstatus(pg->conn) == CONNECTION_OK;
}

int
pg_wait_notify(struct pg *pg, int timeout_ms, const char *watch, bool *watched)
{
    if (watched != NULL) {
        *watched = false;
    }
    if (pg->conn == NULL) {
        return MK_EUNAVAILABLE;
    }
    struct pollfd pfd = {.fd = PQsocket(pg->conn), .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) > 0 && PQconsumeInput(pg->conn) == 0) {
        log_warn("postgres: connection lost while waiting for notifications");
    }
    int n = 0;
    PGnotify *note;
    while ((note = PQnotifies(pg->conn)) != NULL) {
        n++;
        if (watched != NULL && watch != NULL && strcmp(note->relname, watch) == 0) {
            *watched = true;
        }
        PQfreemem(note);
    }
    return n;
}
