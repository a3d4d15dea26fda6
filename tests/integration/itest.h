/*
 * itest.h — helpers of the integration tests: HTTPS requests through nginx (libcurl),
 * direct PostgreSQL and MongoDB access, control of the test stack's services, and
 * polling with a deadline (never a sleep as synchronisation).
 *
 * Everything comes from the MARKET_TEST_* variables that scripts/test exports; run
 * without them, a test fails at once saying so.
 */
#ifndef MK_ITEST_H
#define MK_ITEST_H

#include <json-c/json.h>
#include <libpq-fe.h>
#include <hiredis/hiredis.h>
#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stddef.h>

struct iresp {
    long status;
    char *body;          /* NUL-terminated */
    size_t len;
    char *headers;       /* raw header block, lower-cased names */
    json_object *json;   /* parsed body, or NULL */
};

/* A MARKET_TEST_* variable; fails the test when it is missing. */
const char *itest_env(const char *name);

/*
 * method path (relative to MARKET_TEST_BASE_URL, or an absolute URL), extra headers
 * ("Name: value", NULL-terminated, may be NULL), body (may be NULL; sent as JSON unless a
 * Content-Type header is given). Returns the response; free with iresp_free. Thread-safe
 * (a curl handle per call, libcurl initialised once), apart from a warning logged when the
 * transfer itself fails; iresp_header is not (static buffer): search r.headers in threads.
 */
struct iresp itest_http(const char *method, const char *path, const char *const *headers, const char *body);

/* The same from a given local source address ("127.0.0.2": limits and access rules that
 * exempt 127.0.0.1 apply to it). */
struct iresp itest_http_from(const char *source, const char *method, const char *path, const char *const *headers,
                             const char *body);
void iresp_free(struct iresp *r);

/*
 * Send len bytes of request as they are (no client-side checks or normalisation) to the
 * stack's nginx over HTTP/1.1: over TLS when base is MARKET_TEST_BASE_URL, in the clear when
 * it is MARKET_TEST_HTTP_URL. Reads until nginx closes the connection (send
 * "Connection: close") or 10 s pass. The answer is parsed like itest_http's (status 0 when
 * there was none); r.body is what follows the header block, de-chunked when chunked.
 */
struct iresp itest_raw(const char *base, const char *request, size_t len);

/* A response header's value (copied into a static buffer), or NULL. */
const char *iresp_header(const struct iresp *r, const char *name);

/* error.code of an error body, or "". */
const char *iresp_error_code(const struct iresp *r);

/* A JSON string/int at a path of keys: ("ping", "id", NULL). */
const char *ijson_str(json_object *o, ...);
long long ijson_int(json_object *o, ...);
double ijson_double(json_object *o, ...);   /* NAN when absent */

/* scripts/stack ACTION SERVICE; fails the test when it fails. */
void itest_stack(const char *action, const char *service);
/* Start every marketd process that is not running (scripts/stack start is a no-op for a
 * running one): the .fini of a test that stops some, so that a failure between its stop and
 * its start leaves no stack, the developer's included, without a pool. */
void itest_start_marketd(void);

/* pid from $MARKET_VAR/run/NAME.pid (the test stack's), or -1. */
int itest_pid(const char *name);

/* The pids of a process's children (a pool or projector master's workers): up to max into
 * out; the count. */
int itest_children(int master, int *out, int max);

/* Milliseconds on a monotonic clock. */
double itest_now_ms(void);

/* Poll fn(arg) every few ms until it returns true or timeout_ms passes. */
bool itest_poll(int timeout_ms, bool (*fn)(void *), void *arg);
/* GET path anonymously until nginx answers it from its cache (X-Cache-Status: HIT), for at
 * most timeout_ms; the last answer. nginx puts an answer it keeps in place only after it has
 * sent it, so a read right after a MISS, on another connection (another worker), can still
 * miss when the machine is busy. */
struct iresp itest_get_cached(const char *path, int timeout_ms);

/* A new connection to the test database (caller PQfinish-es it). */
PGconn *itest_pg(void);

/* The first value of sql (up to two text parameters, NULL: fewer) as a number; -1 when it
 * returns no row or NULL. Fails the test when the statement fails. */
long long itest_pg_num(const char *sql, const char *p1, const char *p2);

/* Run sql (up to two text parameters); fails the test when it fails. */
void itest_pg_run(const char *sql, const char *p1, const char *p2);

/* Fails the test unless every currency of the ledger and every journal sums to zero. */
void itest_assert_ledger_balanced(void);

/* A new client of the test MongoDB (caller destroys it); database "market". */
mongoc_client_t *itest_mongo(void);

/* Look up system_pings/_id = id in the read model. True when found; *version and note
 * (may be NULL) receive its fields. */
bool itest_read_ping(const char *id, long long *version, char *note, size_t note_len);

/* A connection to the test stack's Redis (caller redisFree-s it). */
redisContext *itest_redis(void);

/* The public origin the test stack's marketd expects on cookie writes. */
const char *itest_origin(void);

/* A registered, logged-in user with unique data. */
struct itest_user {
    char id[40];
    char email[160];
    char password[96];
    char name[64];
    char token[64];
    char bearer[96];      /* "Authorization: Bearer TOKEN" */
    char cookie[96];      /* "Cookie: sid=TOKEN" */
};

/* Register a new user called name (through the API) and log it in. */
void itest_user_new(struct itest_user *u, const char *name);

/* Log u in again (a new token). */
void itest_login(struct itest_user *u);

/*
 * Canonical extended JSON of the documents of collection (database "market") matching
 * filter, with projection (may be NULL), sorted by _id, one per line, appended to *text
 * (malloc-ed, NULL to start; the caller frees it). For comparing read models.
 */
void itest_dump(char **text, const char *collection, const bson_t *filter, const bson_t *projection);

/*
 * Fails the test unless, within timeout_ms, the read model holds exactly the write model:
 * every ping, seller and listing of PostgreSQL at its version, every listing's favourite
 * count at its version, every active favourite and every review, and nothing else. Call it
 * after a rebuild (and wherever a test wants to show nothing was lost or applied twice).
 */
void itest_assert_read_model_complete(int timeout_ms);

/* Set the read-model marker's "rebuilding" (what the query workers read, at most once a second,
 * and what a projector reads when it starts: it then applies what is pending as a rebuild,
 * without purging nginx's pages or recounting batch by batch, and clears it). */
void itest_mark_rebuilding(bool on);

/* printf into one of 8 rotating static buffers of 8 KiB: valid until 8 more calls. */
char *itest_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* The stack's log of a process, $MARKET_VAR/log/NAME.log (beside MARKET_TEST_CONFIG), in an
 * itest_fmt buffer. */
char *itest_log_path(const char *name);

/* A number of the stack's marketd.conf (MARKET_TEST_CONFIG, as scripts/lib/market.sh writes
 * it): the last `key = N` line's N, as marketd reads it; -1 when the file has no such line. */
long itest_config_number(const char *key);

/* A word no other test uses, letters only (search folds words, so it must survive folding),
 * starting with first; in a static buffer valid until the next call. */
const char *itest_word(char first);

/* A unique string for test data (prefix + pid + counter + time). */
const char *itest_unique(const char *prefix);

#endif
