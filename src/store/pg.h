/*
 * pg.h — the PostgreSQL adapter: one lazily opened connection per worker with
 * reconnect back-off, named prepared statements, results owned by the request arena, scripts
 * (migrations) and LISTEN/NOTIFY waits. Only pg.c includes libpq; callers hold PGresult as an
 * opaque pointer and read it through pg_nrows, pg_value and pg_int.
 */
#ifndef MK_PG_H
#define MK_PG_H

#include <stdbool.h>

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

#include "core/arena.h"

#define PG_MAX_PREPARED 128

/* A named statement. Declare them static const beside the domain code that uses them. */
/* A timestamptz column or expression as the API's UTC time text (2026-11-28T13:05:00Z),
 * inside a statement's SQL: PG_UTC_TEXT("created_at"). */
#define PG_UTC_TEXT(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

struct pg_stmt {
    const char *name;
    const char *sql;
    int nparams;
};

struct pg {
    PGconn *conn;
    char *dsn;
    int statement_timeout_ms;
    bool pooled;                  /* behind a transaction pooler: see pg_set_pooled */
    double next_attempt;          /* monotonic seconds; no connect before this */
    int backoff_ms;               /* grows only after slow connect failures (time-outs) */
    int connect_failures;         /* since the last successful connect */
    const struct pg_stmt *prepared[PG_MAX_PREPARED];
    int nprepared;
    char sqlstate[6];             /* of the last failed statement, "" after success */
    char constraint[64];          /* constraint named by the last failed statement */
    char field[64];               /* API field of that constraint or column, "" when unknown */
};

/* Initialise (no connection yet). dsn is copied. */
void pg_init(struct pg *pg, const char *dsn, int statement_timeout_ms);

/*
 * Behind a transaction pooler (PgBouncer pool_mode = transaction, before 1.21's protocol-level
 * prepared statements) consecutive transactions may run on different server connections, so
 * nothing may live in the session: statements are sent unnamed with their parameters
 * (PQexecParams: parse, bind and execute in one round trip, like a prepared statement's
 * protocol) instead of prepared by name once per connection, and no session options are sent
 * at connect (the statement and idle-in-transaction time-outs must then be set on the role:
 * ALTER ROLE ... SET statement_timeout). Session-level advisory locks and LISTEN do not work
 * there: the projector and migrations connect to PostgreSQL directly.
 */
void pg_set_pooled(struct pg *pg, bool pooled);

/* Close the connection and free the copy of the DSN. */
void pg_close(struct pg *pg);

/* The connection, opened now if needed. NULL while PostgreSQL is unreachable. A connect
 * that fails fast (refused, or the server answered "starting up") is tried again on the next
 * call; after one that timed out, calls within a back-off window (up to 5 s) return NULL at
 * once. A successful connect ends the back-off. */
PGconn *pg_conn(struct pg *pg);

/*
 * Execute a prepared statement (prepared on first use on this connection) with text
 * parameters (NULL = SQL NULL). *out (may be NULL) receives the result, owned by arena.
 * A statement that fails because a re-used idle connection went stale (PostgreSQL
 * restarted) is run once more on a fresh connection when that is safe (no transaction
 * open, and a read or a statement the server never ran). Returns MK_OK, or by SQLSTATE:
 * MK_EUNAVAILABLE when the server is unreachable, the connection broke, a statement timed
 * out or resources ran out; MK_ECONFLICT for a serialization failure or deadlock (retry the
 * transaction) and for a unique or exclusion violation (23505, 23P01: pg->constraint says
 * which); MK_EVALIDATION for other class 23 violations and class 22 data exceptions
 * (pg_error_field, pg_error_problem); MK_EINTERNAL for anything else, the server's own
 * fault (logged with its SQLSTATE; pg->sqlstate says which).
 */
int pg_exec(struct pg *pg, arena_t *arena, const struct pg_stmt *stmt, const char *const *values, PGresult **out);

/* pg_exec for a statement that must find a row: MK_ENOTFOUND when it returned none. */
int pg_exec_row(struct pg *pg, arena_t *arena, const struct pg_stmt *stmt, const char *const *values, PGresult **out);

/* Reads row `row` of res into the element at dst (strings in the arena); MK_OK or an error. */
typedef int (*pg_row_fn)(arena_t *arena, const PGresult *res, int row, void *dst);

/* pg_exec for a list: each row read by from_row into an arena array of elements of `size`
 * bytes, *rows (never NULL on MK_OK), *n of them. Stops at the first error of from_row. */
int pg_exec_rows(struct pg *pg, arena_t *arena, const struct pg_stmt *stmt, const char *const *values, size_t size,
                 pg_row_fn from_row, void **rows, size_t *n);

/* Simple statements without parameters (BEGIN, COMMIT ...). Same returns as pg_exec. */
int pg_simple(struct pg *pg, const char *sql);

/* The API field ("price_minor", "location.city") the last MK_EVALIDATION failure is about,
 * from the column or constraint PostgreSQL named; NULL when it cannot be known. */
const char *pg_error_field(const struct pg *pg);

/* The API field a failed constraint guards (what pg_error_field reports): the column PostgreSQL
 * names (NOT NULL), else the column in the constraint's name TABLE_COLUMN_check / _fkey / _key,
 * through the names the API gives columns; NULL when the client does not write it. */
const char *pg_constraint_field(const char *table, const char *column, const char *constraint);

/* A phrase for a 422 about that field, by SQLSTATE ("is too long"). Static storage. */
const char *pg_error_problem(const struct pg *pg);

/* True when the last failure was SQLSTATE code (e.g. "23505"). */
bool pg_failed_with(const struct pg *pg, const char *sqlstate);

/* A script of statements without parameters (a migration file, "BEGIN", "LISTEN x; LISTEN y"),
 * run as one simple query; what names it in the log. Same returns as pg_exec. */
int pg_script(struct pg *pg, const char *sql, const char *what);

/* True while the connection is open and healthy (no connection attempt is made). */
bool pg_connected(const struct pg *pg);

/*
 * Wait up to timeout_ms for notifications on the connection (after LISTEN) and take every one
 * that came. Returns how many came (0: the time ran out), *watched (may be NULL) telling
 * whether one was on channel watch; MK_EUNAVAILABLE at once when there is no connection.
 */
int pg_wait_notify(struct pg *pg, int timeout_ms, const char *watch, bool *watched);

/* Accessors of a result: its row count (0 for NULL); a value as text, NULL when SQL NULL or
 * out of range; as a number, 0 then. */
int pg_nrows(const PGresult *res);
const char *pg_value(const PGresult *res, int row, int col);
long long pg_int(const PGresult *res, int row, int col);

#endif
