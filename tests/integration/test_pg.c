/*
 * The PostgreSQL adapter (src/store/pg.c) against the test stack's server: the SQLSTATE
 * map (class 22 and 23 are the client's, anything else the server's), the field named
 * from a constraint, and the retry of a statement on a fresh connection when the server
 * ended the old one (as a restart does), only where that is safe.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/errors.h"
#include "core/log.h"
#include "itest.h"
#include "store/pg.h"

static arena_t *A;
static struct pg P;

static void
setup(void)
{
    log_init("test", getenv("PG_TEST_LOG") ? getenv("PG_TEST_LOG") : "error");
    A = arena_create(4096);
    pg_init(&P, itest_env("MARKET_TEST_PG_DSN"), 5000);
}

static void
teardown(void)
{
    pg_close(&P);
    arena_destroy(A);
}

TestSuite(pg, .init = setup, .fini = teardown, .timeout = 60);

static int
run(const char *name, const char *sql, int nparams, const char *p1)
{
    /* Statements live as long as the test: one static slot per distinct name. */
    static struct pg_stmt stmts[32];
    static int n;
    struct pg_stmt *s = NULL;
    for (int i = 0; i < n; i++) {
        if (strcmp(stmts[i].name, name) == 0) {
            s = &stmts[i];
        }
    }
    if (s == NULL) {
        cr_assert_lt(n, 32);
        s = &stmts[n++];
        *s = (struct pg_stmt){strdup(name), strdup(sql), nparams};
    }
    const char *values[] = {p1};
    PGresult *res;
    return pg_exec(&P, A, s, values, &res);
}

Test(pg, data_exceptions_are_the_clients_never_500)
{
    cr_assert_eq(run("t_utf8", "SELECT convert_from('\\xc0af'::bytea, 'UTF8')", 0, NULL), MK_EVALIDATION);
    cr_assert(pg_failed_with(&P, "22021"), "%s", P.sqlstate);
    cr_assert_str_eq(pg_error_problem(&P), "is not valid UTF-8");
    cr_assert_eq(run("t_int", "SELECT $1::int", 1, "twelve"), MK_EVALIDATION);
    cr_assert(pg_failed_with(&P, "22P02"));
    cr_assert_eq(run("t_range", "SELECT $1::int", 1, "99999999999"), MK_EVALIDATION);
    cr_assert(pg_failed_with(&P, "22003"));
    cr_assert_eq(run("t_div", "SELECT 1 / $1::int", 1, "0"), MK_EVALIDATION);
    cr_assert(pg_failed_with(&P, "22012"));
    cr_assert_null(pg_error_field(&P), "no field can be known");
}

Test(pg, constraint_violations_name_their_field)
{
    cr_assert_eq(pg_simple(&P, "CREATE TEMP TABLE listings (title text NOT NULL CHECK (char_length(title) >= 3), "
                               "ship_city text CHECK (ship_city <> ''), category text UNIQUE)"),
                 MK_OK);
    cr_assert_eq(run("t_ins", "INSERT INTO listings (title, ship_city, category) VALUES ($1, 'x', 'c')", 1, "ab"),
                 MK_EVALIDATION);
    cr_assert(pg_failed_with(&P, "23514"));
    cr_assert_str_eq(P.constraint, "listings_title_check");
    cr_assert_str_eq(pg_error_field(&P), "title");
    cr_assert_eq(run("t_null", "INSERT INTO listings (title) VALUES ($1)", 1, NULL), MK_EVALIDATION);
    cr_assert(pg_failed_with(&P, "23502"));
    cr_assert_str_eq(pg_error_field(&P), "title");
    cr_assert_str_eq(pg_error_problem(&P), "is required");
    cr_assert_eq(run("t_city", "INSERT INTO listings (title, ship_city) VALUES ('abc', $1)", 1, ""), MK_EVALIDATION);
    cr_assert_str_eq(pg_error_field(&P), "shipping_address.city", "the API's name for the column");
    cr_assert_eq(run("t_ok", "INSERT INTO listings (title, category) VALUES ('abc', $1)", 1, "c"), MK_OK);
    cr_assert_eq(run("t_ok", "", 1, "c"), MK_ECONFLICT, "a unique violation is a conflict");
    cr_assert(pg_failed_with(&P, "23505"));
    cr_assert_str_eq(P.constraint, "listings_category_key");
}

Test(pg, the_servers_own_faults_are_500)
{
    cr_assert_eq(run("t_missing", "SELECT * FROM no_such_table_at_all", 0, NULL), MK_EINTERNAL);
    cr_assert(pg_failed_with(&P, "42P01"));
    cr_assert_eq(pg_simple(&P, "SELEC 1"), MK_EINTERNAL);
    cr_assert(pg_failed_with(&P, "42601"));
    cr_assert_eq(run("t_after", "SELECT 1", 0, NULL), MK_OK, "the connection is still usable");
}

/* End this adapter's server session from another connection, as a restart would. */
static void
terminate_backend(void)
{
    int pid = PQbackendPID(pg_conn(&P));
    PGconn *c = itest_pg();
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d, 5000)", pid);
    PGresult *res = PQexec(c, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    cr_assert_str_eq(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    PQfinish(c);
}

Test(pg, a_stale_connection_is_replaced_and_the_statement_run_again)
{
    cr_assert_eq(run("t_pid", "SELECT pg_backend_pid()", 0, NULL), MK_OK);
    int before = PQbackendPID(pg_conn(&P));
    terminate_backend();
    cr_assert_eq(PQstatus(pg_conn(&P)), CONNECTION_OK, "libpq has not noticed yet");
    cr_assert_eq(run("t_read", "SELECT 1", 0, NULL), MK_OK, "a read is retried on a fresh connection");
    cr_assert_neq(PQbackendPID(pg_conn(&P)), before);

    terminate_backend();
    cr_assert_eq(pg_simple(&P, "BEGIN"), MK_OK, "BEGIN is retried: nothing was open");
    cr_assert_eq(run("t_read", "SELECT 1", 0, NULL), MK_OK);
    cr_assert_eq(pg_simple(&P, "COMMIT"), MK_OK);

    terminate_backend();
    cr_assert_eq(pg_simple(&P, "CREATE TEMP TABLE IF NOT EXISTS w (n int)"), MK_OK,
                 "a connection the server closed while idle is noticed before a write is sent");
}

Test(pg, nothing_is_retried_inside_a_transaction)
{
    cr_assert_eq(pg_simple(&P, "BEGIN"), MK_OK);
    cr_assert_eq(run("t_read", "SELECT 1", 0, NULL), MK_OK);
    terminate_backend();
    cr_assert_eq(run("t_read", "SELECT 1", 0, NULL), MK_EUNAVAILABLE,
                 "the transaction is lost: the caller must not carry on as if it were not");
    cr_assert_eq(run("t_read", "SELECT 1", 0, NULL), MK_OK, "and the next call connects afresh");
}

Test(pg, refused_connects_start_no_back_off)
{
    struct pg down;
    pg_init(&down, "host=127.0.0.1 port=1 dbname=market user=market", 5000);
    for (int i = 0; i < 5; i++) {
        cr_assert_null(pg_conn(&down));
    }
    cr_assert_eq(down.backoff_ms, 0, "a refused connect costs little: the next call tries again");
    cr_assert_eq(down.connect_failures, 5, "every call tried");
    pg_close(&down);
}

/* Behind a transaction pooler (PgBouncer < 1.21) nothing may live in the session: with
 * pg_set_pooled, statements run unnamed (nothing is left in pg_prepared_statements, which a
 * pooler would hand to another client) and no session options are sent (the time-out is the
 * server's or the role's, not the 5 s this handle would set). Prepared mode does both. */
Test(pg, pooled_handles_keep_nothing_in_the_session)
{
    static const struct pg_stmt PREPARED = {"pg_test_prepared_count", "SELECT count(*) FROM pg_prepared_statements", 0};
    static const struct pg_stmt TIMEOUT = {"pg_test_timeout", "SELECT current_setting('statement_timeout')", 0};
    static const struct pg_stmt ECHO = {"pg_test_echo", "SELECT $1::int + 1", 1};
    PGresult *res;
    const char *one[] = {"41"};

    pg_set_pooled(&P, true);
    cr_assert_eq(pg_exec(&P, A, &ECHO, one, &res), MK_OK);
    cr_assert_str_eq(pg_value(res, 0, 0), "42");
    cr_assert_eq(pg_exec(&P, A, &PREPARED, NULL, &res), MK_OK);
    cr_assert_eq(pg_int(res, 0, 0), 0, "a pooled handle left a named statement in the session");
    cr_assert_eq(pg_exec(&P, A, &TIMEOUT, NULL, &res), MK_OK);
    cr_assert_str_neq(pg_value(res, 0, 0), "5s", "a pooled handle sent session options");

    struct pg prepared;
    pg_init(&prepared, itest_env("MARKET_TEST_PG_DSN"), 5000);
    cr_assert_eq(pg_exec(&prepared, A, &ECHO, one, &res), MK_OK);
    cr_assert_eq(pg_exec(&prepared, A, &PREPARED, NULL, &res), MK_OK);
    cr_assert_eq(pg_int(res, 0, 0), 2, "prepared mode prepares each statement once per connection");
    cr_assert_eq(pg_exec(&prepared, A, &TIMEOUT, NULL, &res), MK_OK);
    cr_assert_str_eq(pg_value(res, 0, 0), "5s");
    pg_close(&prepared);
}
