/*
 * The process model under failure: a stopped command pool, a worker killed mid-burst, a
 * graceful stop with a request in flight, and projector fail-over. These tests stop and
 * start services of the test stack, so they run one at a time (CRITERION_JOBS=1).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "core/errors.h"
#include "store/mongo.h"
#include "itest.h"

/* Run one test at a time (CRITERION_JOBS=1 from Makefile.am): they stop and start services. */
TestSuite(resilience, .timeout = 90);

/* POST an active 15 EUR listing in Berlin titled title (plain text) for u; the answer. */
static struct iresp
post_lamp(struct itest_user *u, const char *title)
{
    return itest_http("POST", "/api/v1/listings", (const char *const[]){u->bearer, NULL},
                      itest_fmt("{\"title\":\"%s\",\"category\":\"furniture\",\"condition\":\"good\","
                                "\"price_minor\":1500,\"currency\":\"EUR\",\"location\":{\"city\":\"Berlin\","
                                "\"country\":\"DE\",\"lat\":52.52,\"lon\":13.4}}",
                                title));
}

static int
configured_workers(const char *role)
{
    char key[64];
    snprintf(key, sizeof(key), "%s_workers", role);
    return (int)itest_config_number(key);
}

Test(resilience, reads_survive_a_stopped_command_pool)
{
    itest_stack("stop", "command");
    struct iresp r = itest_http("GET", "/healthz", NULL, NULL);
    cr_assert_eq(r.status, 200, "a GET must not need the command pool");
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/system/pings", NULL, "{\"note\":\"while down\"}");
    cr_assert(r.status == 502 || r.status == 503, "got %ld", r.status);
    cr_assert_str_eq(iresp_error_code(&r), "unavailable");
    cr_assert_not_null(iresp_header(&r, "Retry-After"));
    iresp_free(&r);
    itest_stack("start", "command");
    r = itest_http("POST", "/api/v1/system/pings", NULL, "{\"note\":\"back\"}");
    cr_assert_eq(r.status, 201);
    iresp_free(&r);
}

struct burst {
    int total;
    volatile int done;
    int failures;
};

static void *
burst_run(void *arg)
{
    struct burst *b = arg;
    for (int i = 0; i < b->total; i++) {
        struct iresp r = itest_http("GET", "/healthz", NULL, NULL);
        if (r.status != 200) {
            b->failures++;
        }
        iresp_free(&r);
        __atomic_store_n(&b->done, i + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static bool
burst_started(void *arg)
{
    return __atomic_load_n(&((struct burst *)arg)->done, __ATOMIC_ACQUIRE) >= 50;
}

/* True when the pool runs `want` workers and none of the `old` pids is among them. */
struct all_new {
    int master, want, old[512], nold;
};

/* The master has forked all its workers (a restart only waits for the pool's socket, so
 * right after one the master may still be forking). */
static bool
all_workers_up(void *arg)
{
    struct all_new *a = arg;
    a->nold = itest_children(a->master, a->old, 512);
    return a->nold == a->want;
}

/* pid is one of a's old workers. */
static bool
is_old(const struct all_new *a, int pid)
{
    for (int j = 0; j < a->nold; j++) {
        if (pid == a->old[j]) {
            return true;
        }
    }
    return false;
}

static bool
all_workers_new(void *arg)
{
    struct all_new *a = arg;
    int kids[512];
    int n = itest_children(a->master, kids, 512);
    for (int i = 0; i < n; i++) {
        if (is_old(a, kids[i])) {
            return false;
        }
    }
    return n == a->want;
}

Test(resilience, a_killed_query_worker_loses_at_most_its_request_and_is_replaced)
{
    int master = itest_pid("market-query");
    cr_assert_gt(master, 0);
    int kids[512];
    int n = itest_children(master, kids, 512);
    int want = configured_workers("query");
    cr_assert_eq(n, want, "the pool runs %d workers, not %d", want, n);

    struct burst b = {.total = 400};
    pthread_t t;
    pthread_create(&t, NULL, burst_run, &b);
    cr_assert(itest_poll(20000, burst_started, &b));
    cr_assert_eq(kill(kids[0], SIGKILL), 0);
    pthread_join(t, NULL);
    cr_assert_leq(b.failures, 1, "%d of %d requests failed", b.failures, b.total);

    struct all_new p = {.master = master, .want = want, .old = {kids[0]}, .nold = 1};
    cr_assert(itest_poll(10000, all_workers_new, &p), "the pool did not replace the killed worker");
    struct iresp r = itest_http("GET", "/metrics", NULL, NULL);
    const char *line = strstr(r.body, "market_pool_worker_restarts_total{role=\"query\"} ");
    cr_assert_not_null(line);
    cr_assert_geq(atoi(line + strlen("market_pool_worker_restarts_total{role=\"query\"} ")), 1);
    iresp_free(&r);
}

/* True once a query worker is inside the slow read: it waits for X-Min-Seq in (clock_)nanosleep (an
 * idle worker waits in epoll_pwait, and nginx keeps its connections to the pool open, so an
 * open connection says nothing). */
static bool
query_request_in_flight(void *arg)
{
    int master = *(int *)arg;
    char path[64], children[4096] = "";
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", master, master);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    size_t n = fread(children, 1, sizeof(children) - 1, f);
    children[n] = '\0';
    fclose(f);
    bool busy = false;
    for (char *tok = strtok(children, " \n"); tok != NULL && !busy; tok = strtok(NULL, " \n")) {
        snprintf(path, sizeof(path), "/proc/%s/syscall", tok);
        FILE *s = fopen(path, "r");
        long nr = -1;
        if (s != NULL && fscanf(s, "%ld", &nr) == 1 && (nr == SYS_nanosleep || nr == SYS_clock_nanosleep)) {
            busy = true;
        }
        if (s != NULL) {
            fclose(s);
        }
    }
    return busy;
}

/* The inodes of the connected sockets on the query pool's socket file (/proc/net/unix lists
 * the server side of each accepted connection under the listener's path). */
static int
query_connections(unsigned long *inodes, int max)
{
    char sock[1024];
    const char *config = itest_env("MARKET_TEST_CONFIG");
    snprintf(sock, sizeof(sock), "%.*s/run/query.sock", (int)(strrchr(config, '/') - config), config);
    FILE *f = fopen("/proc/net/unix", "r");
    char line[2048];
    int n = 0;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        /* Num RefCount Protocol Flags Type St Inode Path: connected sockets have St 03 */
        unsigned flags, type, st;
        unsigned long inode;
        char path[1024] = "";
        if (sscanf(line, "%*s %*s %*s %x %x %x %lu %1023s", &flags, &type, &st, &inode, path) == 5 &&
            strcmp(path, sock) == 0 && st == 3 && n < max) {
            inodes[n++] = inode;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return n;
}

/* Issue 15: nginx keeps its connections to the query pool open (fastcgi_keep_conn, upstream
 * keepalive), and a worker serves the next request on a connection it holds: after a run of
 * reads a connection is still open with nothing in flight, and a later read reuses one of them
 * instead of a new connection (before: a connection per request, none left once answered). */
Test(resilience, query_pool_connections_are_kept_and_reused)
{
    for (int i = 0; i < 10; i++) {
        struct iresp r = itest_http("GET", "/healthz", NULL, NULL);
        cr_assert_eq(r.status, 200);
        iresp_free(&r);
    }
    unsigned long before[256], after[256];
    int nb = query_connections(before, 256);
    cr_assert_gt(nb, 0, "no connection to the query pool stays open between requests");
    for (int i = 0; i < 10; i++) {
        struct iresp r = itest_http("GET", "/healthz", NULL, NULL);
        cr_assert_eq(r.status, 200);
        iresp_free(&r);
    }
    int na = query_connections(after, 256), kept = 0;
    for (int i = 0; i < nb; i++) {
        for (int j = 0; j < na; j++) {
            kept += before[i] == after[j];
        }
    }
    cr_assert_gt(kept, 0, "every connection open before ten more reads was replaced (%d before, %d after)", nb, na);
}

/* Kept connections pin no worker: many more concurrent reads than the pool has workers, each
 * worker already holding kept connections, are all answered (a worker serves its kept connections and
 * new ones from the listener alike). */
static void *
healthz_run(void *arg)
{
    struct iresp r = itest_http("GET", "/healthz", NULL, NULL);
    *(long *)arg = r.status;
    iresp_free(&r);
    return NULL;
}

Test(resilience, kept_connections_pin_no_worker)
{
    int workers = configured_workers("query");
    cr_assert_gt(workers, 0);
    /* More concurrent reads than nginx keeps connections (16 per nginx worker): nginx closes
     * the surplus after use while new ones arrive, so workers see kept connections end
     * (EOF) with new connections waiting; a connection left unwatched would hang a read
     * until nginx's read timeout (504). */
    enum { ROUNDS = 6, MAXT = 80 };
    int nt = 8 * workers < MAXT ? 8 * workers : MAXT;
    for (int round = 0; round < ROUNDS; round++) {
        pthread_t t[MAXT];
        long status[MAXT];
        for (int i = 0; i < nt; i++) {
            status[i] = 0;
            pthread_create(&t[i], NULL, healthz_run, &status[i]);
        }
        for (int i = 0; i < nt; i++) {
            pthread_join(t[i], NULL);
            cr_assert_eq(status[i], 200, "round %d, read %d of %d: %ld", round, i + 1, nt, status[i]);
        }
    }
}

struct slow {
    char path[256];
    char minseq[64];
    long status;
    char stale[8];
};

static void *
slow_run(void *arg)
{
    struct slow *s = arg;
    const char *const h[] = {s->minseq, NULL};
    struct iresp r = itest_http("GET", s->path, h, NULL);
    s->status = r.status;
    const char *st = iresp_header(&r, "X-Read-Stale");
    snprintf(s->stale, sizeof(s->stale), "%s", st != NULL ? st : "");
    iresp_free(&r);
    return NULL;
}

/* Gone, or a zombie nobody has reaped yet (PID 1 of a container may not reap). */
static bool
process_gone(void *arg)
{
    char path[64], state = 'Z';
    snprintf(path, sizeof(path), "/proc/%d/stat", *(int *)arg);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return true;
    }
    if (fscanf(f, "%*d %*s %c", &state) != 1) {
        state = 'Z';
    }
    fclose(f);
    return state == 'Z';
}

Test(resilience, sigterm_lets_the_request_in_flight_finish)
{
    struct iresp r = itest_http("POST", "/api/v1/system/pings", NULL, "{\"note\":\"slow read\"}");
    cr_assert_eq(r.status, 201);
    struct slow s;
    snprintf(s.path, sizeof(s.path), "/api/v1/system/pings/%s", ijson_str(r.json, "ping", "id", NULL));
    /* A position that never comes: the read waits its full bound (2 s) before answering. */
    snprintf(s.minseq, sizeof(s.minseq), "X-Min-Seq: %lld", atoll(iresp_header(&r, "X-Event-Seq")) + 1000000);
    iresp_free(&r);

    int master = itest_pid("market-query");
    pthread_t t;
    pthread_create(&t, NULL, slow_run, &s);
    cr_assert(itest_poll(5000, query_request_in_flight, &master), "the slow request never reached the pool");
    cr_assert_eq(kill(master, SIGTERM), 0);
    pthread_join(t, NULL);
    cr_assert_eq(s.status, 200, "the in-flight request was cut (%ld)", s.status);
    cr_assert_str_eq(s.stale, "1");
    cr_assert(itest_poll(30000, process_gone, &master), "the pool did not stop");

    r = itest_http("GET", "/healthz", NULL, NULL);
    cr_assert_eq(r.status, 503, "a stopped pool takes no new requests");
    iresp_free(&r);
    itest_stack("start", "query");
    r = itest_http("GET", "/healthz", NULL, NULL);
    cr_assert_eq(r.status, 200);
    iresp_free(&r);
}

/* True when some session tried the projector lock and did not get it (a standby). */
static bool
standby_waiting(void *arg)
{
    (void)arg;
    PGconn *c = itest_pg();
    PGresult *res = PQexec(c,
                           "SELECT count(*) FROM pg_stat_activity "
                           "WHERE query LIKE '%pg_try_advisory_lock%' AND application_name = 'marketd' "
                           "  AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)");
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && atoi(PQgetvalue(res, 0, 0)) >= 1;
    PQclear(res);
    PQfinish(c);
    return ok;
}

struct doc_wait {
    const char *id;
};

static bool
ping_in_mongo(void *arg)
{
    return itest_read_ping(((struct doc_wait *)arg)->id, NULL, NULL, 0);
}

static char *
post_ping_id(const char *note)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"note\":\"%s\"}", note);
    struct iresp r = itest_http("POST", "/api/v1/system/pings", NULL, body);
    cr_assert_eq(r.status, 201);
    char *id = strdup(ijson_str(r.json, "ping", "id", NULL));
    iresp_free(&r);
    return id;
}

static bool
file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char line[4096];
    bool found = false;
    while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL) {
        found = strstr(line, needle) != NULL;
    }
    if (f != NULL) {
        fclose(f);
    }
    return found;
}

static const char *standby_log;

static bool
standby_active(void *arg)
{
    (void)arg;
    return file_contains(standby_log, "projector: active");
}

Test(resilience, a_second_projector_stands_by_and_takes_over)
{
    /* The stack's projector holds the lock before the second one starts: it applies events
     * only while active (a suite before this one may have just restarted it, and a standby
     * started then could win the lock). */
    struct doc_wait w0 = {post_ping_id("the stack's projector, active")};
    cr_assert(itest_poll(15000, ping_in_mongo, &w0), "the stack's projector is not active");
    free((char *)w0.id);
    char log[] = "/tmp/marketd-standby-XXXXXX";
    int fd = mkstemp(log);
    cr_assert_geq(fd, 0);
    standby_log = log;
    pid_t parent = getpid();
    pid_t standby = fork();
    if (standby == 0) {
        /* Gone with the test's process when an assertion ends it (its pool workers follow
         * their master): a standby left behind held the lock for every later suite. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(1);
        }
        dup2(fd, 2);
        dup2(fd, 1);
        execl(itest_env("MARKET_TEST_MARKETD"), "marketd", "--role", "projector", "--config",
              itest_env("MARKET_TEST_CONFIG"), (char *)NULL);
        _exit(127);
    }
    close(fd);
    cr_assert(itest_poll(10000, standby_waiting, NULL), "the second projector never tried the lock");

    /* The first one still does the work, the second stays idle. */
    struct doc_wait w = {post_ping_id("first projector")};
    cr_assert(itest_poll(5000, ping_in_mongo, &w));
    cr_assert(!file_contains(log, "projector: active"), "the standby became active while the first lived");

    int first = itest_pid("market-projector");
    cr_assert_gt(first, 0);
    cr_assert_eq(kill(first, SIGKILL), 0);
    cr_assert(itest_poll(10000, standby_active, NULL), "the standby did not take over");
    struct doc_wait w2 = {post_ping_id("second projector")};
    cr_assert(itest_poll(5000, ping_in_mongo, &w2), "events are not projected after the fail-over");

    kill(standby, SIGTERM);
    int status;
    waitpid(standby, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the standby did not stop cleanly");
    itest_stack("start", "projector");
    struct doc_wait w3 = {post_ping_id("restarted projector")};
    cr_assert(itest_poll(10000, ping_in_mongo, &w3));
    unlink(log);
    free((char *)w.id);
    free((char *)w2.id);
    free((char *)w3.id);
}

/* A restarted in-memory MongoDB comes back empty: the projector sees the marker missing and
 * rebuilds the read model from the outbox on its own. */
static long long metric(const char *body, const char *name);

static long long
purges_skipped(void)
{
    struct iresp r = itest_http("GET", "/metrics", NULL, NULL);
    long long n = metric(r.body, "market_projector_page_purges_total{result=\"skipped_rebuilding\"} ");
    iresp_free(&r);
    return n;
}

/* The replay purges no nginx page (projector/invalidate.c, purge_pages): each changed listing's two
 * pages and each seller's are counted as skipped instead of sent to /_purge/, where a large
 * rebuild's purges filled nginx's keys zone. */
Test(resilience, an_emptied_read_model_is_rebuilt_automatically)
{
    struct doc_wait w = {post_ping_id("before the mongo restart")};
    cr_assert(itest_poll(5000, ping_in_mongo, &w));
    /* a listing changed after its creation, whatever ran before this test */
    struct itest_user u;
    itest_user_new(&u, "Rebuilt");
    struct iresp r = post_lamp(&u, "Rebuilt lamp");
    cr_assert_eq(r.status, 201, "%s", r.body);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/listings/%s", ijson_str(r.json, "listing", "id", NULL));
    iresp_free(&r);
    r = itest_http("PATCH", path, (const char *const[]){u.bearer, "If-Match: \"1\"", NULL}, "{\"price_minor\":1400}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
    long long skipped = purges_skipped();
    cr_assert_geq(skipped, 0, "/metrics has market_projector_page_purges_total");
    /* a listing's first event (version 1) purges nothing (no cache holds a page of a new id);
     * every later one purges its two pages, each listing at least once in the replay */
    long long listings = itest_pg_num("SELECT count(*) FROM listings WHERE version > 1", NULL, NULL);
    cr_assert_geq(listings, 1);
    itest_stack("restart", "mongo");
    cr_assert(itest_poll(15000, ping_in_mongo, &w), "the read model was not rebuilt after MongoDB came back empty");
    itest_assert_read_model_complete(15000);
    long long replayed = purges_skipped() - skipped;
    cr_assert_geq(replayed, 2 * listings, "the rebuild of %lld changed listings skipped %lld page purges", listings,
                  replayed);
    free((char *)w.id);
}

/* ---- a MongoDB that vanishes under a store ------------------------------------------- */

/* A stand-in of this test's own (scripts/mongo-standin next to the stack's scripts/stack) on
 * a unix socket: its pid. */
static pid_t
standin_start(const char *sock)
{
    const char *stack = itest_env("MARKET_TEST_STACK");   /* ROOT/scripts/stack */
    const char *server = itest_fmt("%.*s/mongo-standin/server.js", (int)(strrchr(stack, '/') - stack), stack);
    unlink(sock);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execlp("node", "node", server, "--port", "0", "--socket", sock, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static bool
socket_listens(void *arg)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", (const char *)arg);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

static void
standin_kill(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static int
count_doc(const bson_t *doc, void *ctx)
{
    (void)doc;
    ++*(int *)ctx;
    return MK_OK;
}

static int
store_read(struct mongo_store *ms)
{
    bson_t filter = BSON_INITIALIZER;
    int n = 0;
    int rc = mongo_find_each(ms, "hb", &filter, NULL, count_doc, &n);
    bson_destroy(&filter);
    return rc;
}

/* libmongoc 1.23's single-threaded client deadlocked for good when a heartbeat's rescan found
 * the server it knew gone and could not reconnect (CDRIVER-4666; store/mongo.c, client_new):
 * a projector stuck in pthread_mutex_lock through a stand-in restart. The URI asks for the
 * shortest heartbeat (500 ms), which the store must not honour: its client's heartbeat is
 * pinned (no timed rescan ever runs). The hang itself needs that heartbeat to pass with no
 * operation on the client, a wait on the clock this suite does not make (a libmongoc program
 * showed it: README, "MongoDB connections"). With the server gone reads answer an error at
 * once, and once a server is back they work again, also across a restart the store did not see. */
Test(resilience, a_vanished_mongodb_never_hangs_a_store, .timeout = 60)
{
    char sock[64];
    snprintf(sock, sizeof(sock), "/tmp/market-hb-%d.sock", (int)getpid());
    pid_t pid = standin_start(sock);
    cr_assert(itest_poll(15000, socket_listens, sock), "the stand-in did not start");
    char *uri = itest_fmt("mongodb://%%2Ftmp%%2Fmarket-hb-%d.sock/?heartbeatFrequencyMS=500", (int)getpid());
    mongo_global_init();
    struct mongo_store ms;
    cr_assert_eq(mongo_init(&ms, uri, "hb_test"), MK_OK);
    cr_assert_eq(mongoc_uri_get_option_as_int32(mongoc_client_get_uri(ms.client), MONGOC_URI_HEARTBEATFREQUENCYMS, 0),
                 INT32_MAX, "the URI's heartbeat was honoured");
    cr_assert_eq(store_read(&ms), MK_OK, "a read from the running stand-in");

    standin_kill(pid);   /* the socket file stays: a reconnect is refused at once */
    cr_assert_neq(store_read(&ms), MK_OK, "a read with the server gone is an error");
    cr_assert_neq(store_read(&ms), MK_OK, "and again");

    pid = standin_start(sock);
    cr_assert(itest_poll(15000, socket_listens, sock), "the stand-in did not restart");
    cr_assert_eq(store_read(&ms), MK_OK, "reads work once the server is back");

    /* Killed and back before the store's next read: the read is retried on a new connection. */
    standin_kill(pid);
    pid = standin_start(sock);
    cr_assert(itest_poll(15000, socket_listens, sock), "the stand-in did not restart");
    cr_assert_eq(store_read(&ms), MK_OK, "a read across a restart the store did not see");

    mongo_close(&ms);
    standin_kill(pid);
    unlink(sock);
}

struct stale_probe {
    const char *path;
};

static bool
served_stale(void *arg)
{
    struct iresp r = itest_http("GET", ((struct stale_probe *)arg)->path, NULL, NULL);
    const char *status = iresp_header(&r, "X-Cache-Status");
    bool stale = r.status == 200 && status != NULL && (strcmp(status, "STALE") == 0 || strcmp(status, "UPDATING") == 0);
    cr_assert(r.status == 200, "a page nginx holds is never an error: %ld %s", r.status, r.body);
    iresp_free(&r);
    return stale;
}

static void
start_mongo(void)
{
    itest_stack("start", "mongo");
}

/* MongoDB down: nginx serves the pages it holds (stale), anything else gets the API's 503
 * with Retry-After. Then MongoDB comes back (empty) and the projector rebuilds it. */
Test(resilience, mongo_down_serves_stale_pages_or_503, .fini = start_mongo)
{
    struct itest_user u;
    itest_user_new(&u, "Stale");
    const char *body = "{\"title\":\"Stale lamp\",\"category\":\"furniture\",\"condition\":\"good\","
                       "\"price_minor\":1500,\"currency\":\"EUR\",\"location\":{\"city\":\"Berlin\","
                       "\"country\":\"DE\",\"lat\":52.52,\"lon\":13.4}}";
    char ids[2][40], seq[32];
    for (int i = 0; i < 2; i++) {
        struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){u.bearer, NULL}, body);
        cr_assert_eq(r.status, 201, "%s", r.body);
        snprintf(ids[i], sizeof(ids[i]), "%s", ijson_str(r.json, "listing", "id", NULL));
        snprintf(seq, sizeof(seq), "X-Min-Seq: %s", iresp_header(&r, "X-Event-Seq"));
        iresp_free(&r);
    }
    char cached[128], uncached[128];
    snprintf(cached, sizeof(cached), "/api/v1/listings/%s", ids[0]);
    snprintf(uncached, sizeof(uncached), "/api/v1/listings/%s", ids[1]);
    struct iresp r = itest_http("GET", uncached, (const char *const[]){seq, NULL}, NULL);   /* projected */
    iresp_free(&r);
    r = itest_http("GET", cached, NULL, NULL);
    cr_assert_eq(r.status, 200);
    iresp_free(&r);
    r = itest_get_cached(cached, 5000);
    cr_assert_str_eq(iresp_header(&r, "X-Cache-Status"), "HIT");
    iresp_free(&r);

    itest_stack("stop", "mongo");
    /* Only nginx may hold the pages now: drop the app's Redis copies. */
    redisContext *rc = itest_redis();
    freeReplyObject(redisCommand(rc, "DEL cache:listing:%s cache:listing:%s", ids[0], ids[1]));
    redisFree(rc);
    struct stale_probe p = {cached};
    cr_assert(itest_poll(20000, served_stale, &p), "nginx serves the stale page once its TTL has run out");
    r = itest_http("GET", uncached, NULL, NULL);
    cr_assert_eq(r.status, 503, "a page nobody holds: %ld %s", r.status, r.body);
    cr_assert_str_eq(iresp_error_code(&r), "unavailable");
    cr_assert_not_null(iresp_header(&r, "Retry-After"));
    iresp_free(&r);

    itest_stack("start", "mongo");
    /* The stand-in comes back empty; a ping written now is projected only after the rebuild
     * has replayed every earlier event. */
    struct doc_wait w = {post_ping_id("after mongo came back")};
    cr_assert(itest_poll(30000, ping_in_mongo, &w), "the read model was rebuilt");
    /* Not always after the rebuild: the projector may apply the batch holding this ping to the
     * empty stand-in before it finds the marker gone and starts the rebuild, so the ping can be
     * seen first and the rebuild still run (16 s for the suite's outbox on a loaded machine). */
    itest_assert_read_model_complete(60000);
    free((char *)w.id);
}

static void
not_rebuilding(void)
{
    itest_mark_rebuilding(false);
    itest_stack("start", "projector");
}

/* The listing's read-model document says it is deleted, and no rebuild is marked. */
static bool
deleted_and_rebuilt(void *arg)
{
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(arg));
    bson_t *projection = BCON_NEW("status", BCON_INT32(1));
    char *text = NULL;
    itest_dump(&text, "listings", filter, projection);
    bool deleted = text != NULL && strstr(text, "\"deleted\"") != NULL;
    free(text);
    bson_destroy(filter);
    bson_destroy(projection);
    filter = BCON_NEW("_id", BCON_UTF8("checkpoint"), "rebuilding", BCON_BOOL(true));
    text = NULL;
    itest_dump(&text, "projector_state", filter, NULL);
    bool marked = text != NULL && text[0] != '\0';
    free(text);
    bson_destroy(filter);
    return deleted && !marked;
}

static bool
anonymous_read_is_404(void *arg)
{
    struct iresp r = itest_http("GET", arg, NULL, NULL);
    bool gone = r.status == 404;
    iresp_free(&r);
    return gone;
}

/* A listing deleted while no purge was sent for its page (during a rebuild the projector sends
 * none; nginx down or its purge location failing loses one) must not stay on show from nginx's
 * cache: with `use_stale updating` and the background update, every update brought a 404 that
 * nginx did not keep, and the old 200 was served STALE on every read, for as long as someone
 * read it within `inactive`. */
Test(resilience, a_deletion_without_a_purge_does_not_stay_on_show, .fini = not_rebuilding)
{
    struct itest_user u;
    itest_user_new(&u, "LostPurge");
    struct iresp r = post_lamp(&u, "Lamp to be sold");
    cr_assert_eq(r.status, 201, "%s", r.body);
    char id[48], path[96], seq[48];
    snprintf(id, sizeof(id), "%s", ijson_str(r.json, "listing", "id", NULL));
    snprintf(path, sizeof(path), "/api/v1/listings/%s", id);
    snprintf(seq, sizeof(seq), "X-Min-Seq: %s", iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    r = itest_http("GET", path, (const char *const[]){seq, NULL}, NULL);   /* projected */
    cr_assert_eq(r.status, 200, "%s", r.body);
    iresp_free(&r);
    r = itest_http("GET", path, NULL, NULL);
    iresp_free(&r);
    r = itest_get_cached(path, 5000);
    cr_assert_eq(r.status, 200);
    iresp_free(&r);

    /* Deleted while the projector is stopped; it applies the deletion as a rebuild: no purge. */
    itest_stack("stop", "projector");
    r = itest_http("DELETE", path, (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 204, "%s", r.body);
    iresp_free(&r);
    itest_mark_rebuilding(true);
    itest_stack("start", "projector");
    cr_assert(itest_poll(60000, deleted_and_rebuilt, id), "the deletion was projected and the rebuild is over");

    /* nginx still holds the 200; within a few TTLs reads say 404. */
    const char *ttl_s = getenv("MARKET_HTTP_CACHE_TTL_S");   /* scripts/lib/common.sh's, 5 by default */
    int ttl = ttl_s != NULL && atoi(ttl_s) > 0 ? atoi(ttl_s) : 5;
    cr_assert(itest_poll((3 * ttl + 10) * 1000, anonymous_read_is_404, path),
              "the deleted listing's page is still served from nginx's cache");
    /* And the rebuild's end counted the seller again: no active listing left (the recount of
     * every seller set only those it found listings of, so this one kept its 1). */
    itest_assert_read_model_complete(30000);
}

Test(resilience, sighup_replaces_every_worker)
{
    struct all_new a = {.master = itest_pid("market-query"), .want = configured_workers("query")};
    cr_assert_gt(a.master, 0);
    cr_assert(itest_poll(10000, all_workers_up, &a), "%d workers, %d configured", a.nold, a.want);
    cr_assert_eq(kill(a.master, SIGHUP), 0);
    cr_assert(itest_poll(10000, all_workers_new, &a), "SIGHUP did not replace every worker");
    struct iresp r = itest_http("GET", "/healthz", NULL, NULL);
    cr_assert_eq(r.status, 200);
    iresp_free(&r);
}

static void
normal_query_pool(void)
{
    unsetenv("MARKET_MAX_REQUESTS");
    itest_stack("restart", "query");
}

static long long
metric(const char *body, const char *name)
{
    const char *line = strstr(body, name);
    return line != NULL ? atoll(line + strlen(name)) : -1;
}

/* With max_requests = 5, more requests than all of a's workers may serve together: every one
 * is answered, every worker of a is recycled, and a recycle is not counted as a crash. */
static void
assert_workers_recycle(struct all_new *a)
{
    struct iresp before = itest_http("GET", "/metrics", NULL, NULL);
    long long restarts = metric(before.body, "market_pool_worker_restarts_total{role=\"query\"} ");
    long long recycled_before = metric(before.body, "market_pool_worker_recycles_total{role=\"query\"} ");
    iresp_free(&before);
    int total = (a->want * 5) * 3;
    for (int i = 0; i < total; i++) {
        struct iresp r = itest_http("GET", "/healthz", NULL, NULL);
        cr_assert_eq(r.status, 200, "request %d of %d: %ld", i + 1, total, r.status);
        iresp_free(&r);
    }
    cr_assert(itest_poll(10000, all_workers_new, a), "not every worker was recycled after max_requests");
    struct iresp r = itest_http("GET", "/metrics", NULL, NULL);
    long long recycles = metric(r.body, "market_pool_worker_recycles_total{role=\"query\"} ") - recycled_before;
    cr_assert_geq(recycles, a->want, "recycles counted: %lld", recycles);
    cr_assert_eq(metric(r.body, "market_pool_worker_restarts_total{role=\"query\"} "), restarts,
                 "a recycle is not counted as a crash");
    iresp_free(&r);
}

/* A worker is recycled after max_requests (bounded memory growth, php-fpm style): it exits
 * cleanly after its last answer and the master starts a fresh one; no request is lost. */
Test(resilience, workers_are_recycled_after_max_requests, .fini = normal_query_pool)
{
    setenv("MARKET_MAX_REQUESTS", "5", 1);   /* read by marketd as max_requests */
    itest_stack("restart", "query");
    int master = itest_pid("market-query");
    cr_assert_gt(master, 0);
    struct all_new a = {.master = master, .want = configured_workers("query")};
    cr_assert(itest_poll(10000, all_workers_up, &a), "%d workers, %d configured", a.nold, a.want);
    assert_workers_recycle(&a);
}

/* The stack's configuration file with one line added, written beside it and renamed over it
 * (a master reading it meanwhile sees the old file or the new one, never half of one). */
static void
config_append(const char *line)
{
    const char *path = itest_env("MARKET_TEST_CONFIG");
    char *tmp = itest_fmt("%s.test.tmp", path);
    FILE *in = fopen(path, "r"), *out = fopen(tmp, "w");
    cr_assert(in != NULL && out != NULL);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        cr_assert_eq(fwrite(buf, 1, n, out), n);
    }
    fprintf(out, "%s\n", line);
    fclose(in);
    cr_assert_eq(fclose(out), 0);
    cr_assert_eq(rename(tmp, path), 0);
}

/* scripts/lib/market.sh writes the configuration anew on every start. */
static void
query_pool_as_configured(void)
{
    itest_stack("restart", "query");
}

/* Workers are forked from the master without exec, so they do not read the configuration
 * themselves: SIGHUP has the master read it again, and the workers forked after it run with
 * it. Here max_requests = 5 (the default is 100,000): the new workers recycle. */
Test(resilience, sighup_applies_a_changed_configuration, .fini = query_pool_as_configured)
{
    struct all_new a = {.master = itest_pid("market-query"), .want = configured_workers("query")};
    cr_assert_gt(a.master, 0);
    cr_assert(itest_poll(10000, all_workers_up, &a), "%d workers, %d configured", a.nold, a.want);
    config_append("max_requests = 5");
    cr_assert_eq(kill(a.master, SIGHUP), 0);
    cr_assert(itest_poll(10000, all_workers_new, &a), "SIGHUP did not replace every worker");
    cr_assert(itest_poll(10000, all_workers_up, &a));   /* a.old: the workers forked after the reload */
    assert_workers_recycle(&a);
}

/* The master has logged, past `from`, that it kept its workers. */
struct log_watch {
    const char *path;
    long from;
};

static bool
reload_refused(void *arg)
{
    const struct log_watch *w = arg;
    FILE *f = fopen(w->path, "r");
    bool seen = false;
    char line[2048];
    if (f != NULL && fseek(f, w->from, SEEK_SET) == 0) {
        while (!seen && fgets(line, sizeof(line), f) != NULL) {
            seen = strstr(line, "SIGHUP: the workers keep running as they are") != NULL;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return seen;
}

/* A configuration that does not load is refused as a whole, as nginx does: the master says
 * why and keeps its workers and the configuration they run with. */
Test(resilience, sighup_with_a_broken_configuration_keeps_the_workers, .fini = query_pool_as_configured)
{
    struct all_new a = {.master = itest_pid("market-query"), .want = configured_workers("query")};
    cr_assert_gt(a.master, 0);
    cr_assert(itest_poll(10000, all_workers_up, &a), "%d workers, %d configured", a.nold, a.want);
    /* The master's log, read from its end now. */
    struct log_watch w = {.path = strdup(itest_log_path("market-query"))};
    FILE *f = fopen(w.path, "r");
    cr_assert_not_null(f, "%s", w.path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    w.from = ftell(f);
    fclose(f);
    config_append("max_requests = many");
    cr_assert_eq(kill(a.master, SIGHUP), 0);
    cr_assert(itest_poll(10000, reload_refused, &w), "the master did not say it kept its workers");
    int kids[512];
    int n = itest_children(a.master, kids, 512);
    cr_assert_eq(n, a.nold);
    for (int i = 0; i < n; i++) {
        cr_assert(is_old(&a, kids[i]), "worker %d is new: the broken configuration replaced the workers", kids[i]);
    }
    struct iresp r = itest_http("GET", "/healthz", NULL, NULL);
    cr_assert_eq(r.status, 200);
    iresp_free(&r);
    free((char *)w.path);
}

static void
normal_projector(void)
{
    unsetenv("MARKET_PROJECTOR_BATCH");
    itest_stack("restart", "projector");
}

struct backlog_watch {
    long long total;      /* events in the backlog */
    long long seen_mid;   /* a pending count strictly between 0 and total, or 0 */
};

static long long
pending_events(void)
{
    struct iresp r = itest_http("GET", "/metrics", NULL, NULL);
    cr_assert_eq(r.status, 200);
    long long n = metric(r.body, "\nmarket_outbox_pending_events ");   /* not the HELP line */
    iresp_free(&r);
    return n;
}

static bool
nothing_pending(void *arg)
{
    (void)arg;
    return pending_events() == 0;
}

/* Stop once the gauge has shown the backlog shrinking, or once it reads 0 (caught up). */
static bool
backlog_reported(void *arg)
{
    struct backlog_watch *w = arg;
    long long n = pending_events();
    if (n > 0 && n < w->total) {
        w->seen_mid = n;
        return true;
    }
    return false;
}

/* total system.ping events written straight into the outbox (one statement), after moving the
 * outbox's sequence on by seq_gap (the gap a rolled-back transaction leaves, writ large). */
static void
outbox_pings(long long total, long long seq_gap)
{
    PGconn *pg = itest_pg();
    PGresult *res;
    if (seq_gap > 0) {
        res = PQexec(pg, itest_fmt("SELECT setval(pg_get_serial_sequence('outbox', 'seq'), "
                                   "(SELECT max(seq) FROM outbox) + %lld)",
                                   seq_gap));
        cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s", PQerrorMessage(pg));
        PQclear(res);
    }
    res = PQexec(pg, itest_fmt(
        "WITH p AS (INSERT INTO system_pings (id, note) SELECT gen_random_uuid(), 'backlog ' || g "
        "  FROM generate_series(1, %lld) g RETURNING id, note, version, "
        "  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created, "
        "  to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS updated) "
        "INSERT INTO outbox (aggregate_type, aggregate_id, aggregate_version, event_type, payload) "
        "SELECT 'system_ping', id, version, 'system.ping', json_build_object('id', id, 'note', note, "
        "  'version', version, 'created_at', created, 'updated_at', updated)::jsonb FROM p",
        total));
    cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(pg));
    PQclear(res);
    PQfinish(pg);
}

/* While the projector works through a backlog of many batches, /metrics reports the backlog as
 * it shrinks, not the value it had before (the gauges were refreshed only once caught up). */
Test(resilience, metrics_report_a_backlog_while_it_is_worked_off, .fini = normal_projector)
{
    itest_stack("stop", "projector");
    long long total = 3000;
    outbox_pings(total, 0);

    /* Batches of 20: 150 of them, so the projector is behind for many refresh periods. */
    setenv("MARKET_PROJECTOR_BATCH", "20", 1);
    itest_stack("start", "projector");
    struct backlog_watch w = {.total = total};
    cr_assert(itest_poll(30000, backlog_reported, &w), "the pending gauge never showed the backlog shrinking");
    cr_assert(w.seen_mid > 0 && w.seen_mid < total);
    itest_assert_read_model_complete(50000);   /* inside the suite's 90 s: a failure says its difference */
    cr_assert(itest_poll(5000, nothing_pending, NULL), "caught up, the gauge still says %lld", pending_events());
}

static bool
backlog_estimated(void *arg)
{
    long long *seen = arg;
    long long n = pending_events();
    if (n > *seen) {
        *seen = n;
    }
    return n > 1500;
}

/* Past 1,000 events the pending gauge is not a count of the backlog (a count read every pending
 * event of the outbox, 0.47 s of a parallel scan after each batch of a 229k-event rebuild) but
 * the head's seq minus the checkpoint's, so a gap in the sequence shows in it; below 1,000 it is
 * counted again, and caught up it reads 0. */
Test(resilience, a_long_backlog_is_estimated_from_seq_and_counted_near_the_end, .fini = normal_projector)
{
    itest_stack("stop", "projector");
    outbox_pings(750, 0);
    outbox_pings(750, 20000);   /* the gap lies inside the backlog: the estimate holds it until then */
    setenv("MARKET_PROJECTOR_BATCH", "20", 1);
    itest_stack("start", "projector");
    long long seen = 0;
    cr_assert(itest_poll(30000, backlog_estimated, &seen),
              "1,500 events around a seq gap of 20,000: the gauge never read more than 1,500 (at most %lld)", seen);
    itest_assert_read_model_complete(50000);   /* inside the suite's 90 s: a failure says its difference */
    cr_assert(itest_poll(5000, nothing_pending, NULL), "caught up, the gauge still says %lld", pending_events());
}

static bool
me_is_ok(void *arg)
{
    struct itest_user *u = arg;
    struct iresp r = itest_http("GET", "/api/v1/users/me", (const char *const[]){u->bearer, NULL}, NULL);
    long status = r.status;
    iresp_free(&r);
    cr_assert(status == 200 || status == 503, "after a Redis crash the session is %ld (logged out)", status);
    return status == 200;
}

static void
start_redis(void)
{
    itest_stack("start", "redis");
}

/* Sessions survive a crash of Redis: the append-only file holds every answered write. */
Test(resilience, sessions_survive_a_redis_crash, .fini = start_redis)
{
    struct itest_user u;
    itest_user_new(&u, "Durable");
    cr_assert(me_is_ok(&u));
    int pid = itest_pid("redis");
    cr_assert_gt(pid, 0);
    cr_assert_eq(kill(pid, SIGKILL), 0);
    itest_stack("start", "redis");
    cr_assert(itest_poll(10000, me_is_ok, &u), "the session did not come back with Redis");
}

/* The projector master's two processes (one active, one standby) into a->old. */
static void
projector_processes(struct all_new *a)
{
    a->master = itest_pid("market-projector");
    cr_assert_gt(a->master, 0);
    a->want = 2;
    cr_assert(itest_poll(10000, all_workers_up, a), "one active projector and one standby: %d", a->nold);
}

/* The projector master replaces a projector process that dies, and one of them holds the lock:
 * killing every projector process with SIGKILL stops projection only for a moment. */
Test(resilience, killed_projector_processes_are_replaced)
{
    struct all_new a;
    projector_processes(&a);
    for (int i = 0; i < a.nold; i++) {
        cr_assert_eq(kill(a.old[i], SIGKILL), 0);
    }
    cr_assert(itest_poll(10000, all_workers_new, &a), "the killed projector processes were not replaced");
    struct doc_wait w = {post_ping_id("after the projectors were killed")};
    cr_assert(itest_poll(10000, ping_in_mongo, &w), "nothing projects after the projector processes were killed");
    free((char *)w.id);
}

/* libmongoc keeps performance counters in /dev/shm/mongoc-PID, a file only mongoc_cleanup removes:
 * a killed process (or a test's) left it behind for good. The stack's processes and a test's own
 * client turn the counters off (src/store/mongo.c), so no such file exists for any of them. */
static bool
has_mongoc_counters(int pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/dev/shm/mongoc-%d", pid);
    return access(path, F_OK) == 0;
}

Test(resilience, no_process_leaves_libmongoc_counters_in_dev_shm)
{
    static const char *const roles[] = {"market-query", "market-command", "market-projector", "market-deliverer"};
    itest_mongo();
    cr_assert_not(has_mongoc_counters(getpid()), "the test's own libmongoc made /dev/shm/mongoc-%d", getpid());
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        int master = itest_pid(roles[i]);
        cr_assert_gt(master, 0, "%s is not running", roles[i]);
        cr_assert_not(has_mongoc_counters(master), "%s (pid %d) has /dev/shm/mongoc-%d", roles[i], master, master);
        int kids[64];
        int n = itest_children(master, kids, 64);
        for (int k = 0; k < n; k++) {
            cr_assert_not(has_mongoc_counters(kids[k]), "a %s process (pid %d) has its counters file", roles[i], kids[k]);
        }
    }
}

/* A daemon started without the scripts' MONGOC_DISABLE_SHM: mongo_global_init removes the name of
 * the counters file libmongoc made when it was loaded. Run in a copy of this binary started
 * without the variable (MARKET_TEST_MONGOC_CHILD set), which must see the file before and not
 * after; the copy's own runner process leaves one, removed here. */
Test(resilience, mongo_global_init_removes_the_counters_file)
{
    if (getenv("MARKET_TEST_MONGOC_CHILD") != NULL) {
        cr_assert(has_mongoc_counters(getpid()), "libmongoc made no counters file: nothing to test");
        mongo_global_init();
        cr_assert_not(has_mongoc_counters(getpid()), "/dev/shm/mongoc-%d is still there", getpid());
        return;
    }
    pid_t child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
        /* A clean environment: without MONGOC_DISABLE_SHM, and without the variables of
         * Criterion's worker, which would make the copy a worker of this run. */
        char *const env[] = {"MARKET_TEST_MONGOC_CHILD=1", "PATH=/usr/bin:/bin", NULL};
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execle("/proc/self/exe", "test_resilience", "--filter=resilience/mongo_global_init_removes_the_counters_file",
               (char *)NULL, env);
        _exit(127);
    }
    int status = 0;
    cr_assert_eq(waitpid(child, &status, 0), child);
    char name[32];
    snprintf(name, sizeof(name), "/mongoc-%d", (int)child);
    shm_unlink(name);   /* the copy's runner (exec'd in place of the fork: the same pid) */
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the copy without MONGOC_DISABLE_SHM failed (status %d): its counters file stayed", status);
}

/* Frozen projector processes (SIGSTOP: alive, holding the advisory lock and their
 * connections, doing nothing, as the libmongoc deadlock left one) show no progress; the
 * master kills them after projector_watchdog_s (the test stack's: 10 s) and starts others,
 * which take the lock and project what was written meanwhile. Without the watchdog the lock
 * stayed held for good and nothing was projected again. */
Test(resilience, frozen_projector_processes_are_killed_by_the_watchdog)
{
    struct doc_wait w0 = {post_ping_id("before the projectors froze")};
    cr_assert(itest_poll(15000, ping_in_mongo, &w0), "the stack's projector is not active");
    struct all_new a;
    projector_processes(&a);
    for (int i = 0; i < a.nold; i++) {
        cr_assert_eq(kill(a.old[i], SIGSTOP), 0);
    }
    struct doc_wait w = {post_ping_id("while the projectors are frozen")};
    cr_assert(itest_poll(40000, all_workers_new, &a), "the frozen projector processes were not replaced");
    for (int i = 0; i < a.nold; i++) {
        cr_assert(kill(a.old[i], 0) != 0, "frozen process %d is still there", a.old[i]);
    }
    cr_assert(itest_poll(15000, ping_in_mongo, &w), "nothing projects after the frozen processes were replaced");
    free((char *)w0.id);
    free((char *)w.id);
}

/* ---- PostgreSQL restarts ------------------------------------------------------------------ */

static bool
postgres_accepts(void *arg)
{
    (void)arg;
    PGconn *c = PQconnectdb(itest_env("MARKET_TEST_PG_DSN"));
    bool ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *res = PQexec(c, "SELECT 1");
        ok = PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
    }
    PQfinish(c);
    return ok;
}

static void
start_postgres(void)
{
    if (!postgres_accepts(NULL)) {
        itest_stack("start", "postgres");
    }
}

/* A write (PATCH /users/me, command pool) and a private read (GET /users/me, query pool). */
static long
profile_write(struct itest_user *u, int n)
{
    struct iresp r = itest_http("PATCH", "/api/v1/users/me", (const char *const[]){u->bearer, NULL},
                                itest_fmt("{\"bio\":\"write %d\"}", n));
    long status = r.status;
    iresp_free(&r);
    return status;
}

static long
profile_read(struct itest_user *u)
{
    struct iresp r = itest_http("GET", "/api/v1/users/me", (const char *const[]){u->bearer, NULL}, NULL);
    long status = r.status;
    iresp_free(&r);
    return status;
}

/*
 * Issue 18: after PostgreSQL restarts, every worker kept a connection PQstatus still called
 * OK and failed its next request with 503, and the back-off grown during the outage kept
 * writes at 503 after the server was back. Now: the stale connection is replaced and the
 * statement run again, and a refused connect starts no back-off, so the very first write
 * and read once PostgreSQL accepts connections succeed, on every worker.
 */
Test(resilience, postgres_restart_costs_no_request_once_it_is_back, .fini = start_postgres)
{
    struct itest_user u;
    itest_user_new(&u, "pgrestart");
    int workers = configured_workers("command") + configured_workers("query");
    cr_assert_gt(workers, 0);
    /* Every worker opens its connection (requests spread over the pools' workers). */
    for (int i = 0; i < 3 * workers; i++) {
        cr_assert_eq(profile_write(&u, i), 200);
        cr_assert_eq(profile_read(&u), 200);
    }
    /* A restart between requests: every connection is now stale. */
    itest_stack("restart", "postgres");
    cr_assert(itest_poll(30000, postgres_accepts, NULL), "PostgreSQL is back");
    long first_w = profile_write(&u, 500);
    cr_assert_eq(first_w, 200, "the first write after a restart: %ld", first_w);
    long first_r = profile_read(&u);
    cr_assert_eq(first_r, 200, "the first read after a restart: %ld", first_r);
    for (int i = 0; i < 3 * workers; i++) {
        cr_assert_eq(profile_write(&u, 600 + i), 200, "write %d after a restart", i);
        cr_assert_eq(profile_read(&u), 200, "read %d after a restart", i);
    }
    /* A restart with requests during the outage. */
    itest_stack("stop", "postgres");
    /* During the outage: 503 (never 500). */
    for (int i = 0; i < 2 * workers; i++) {
        long w = profile_write(&u, 1000 + i), r = profile_read(&u);
        cr_assert_eq(w, 503, "a write while PostgreSQL is down: %ld", w);
        cr_assert_eq(r, 503, "a read while PostgreSQL is down: %ld", r);
    }
    itest_stack("start", "postgres");
    cr_assert(itest_poll(30000, postgres_accepts, NULL), "PostgreSQL is back");
    /* The very next write and read succeed, and so does every one after them. */
    long w = profile_write(&u, 2000);
    cr_assert_eq(w, 200, "the first write after the restart: %ld", w);
    long r = profile_read(&u);
    cr_assert_eq(r, 200, "the first read after the restart: %ld", r);
    for (int i = 0; i < 3 * workers; i++) {
        cr_assert_eq(profile_write(&u, 3000 + i), 200, "write %d after the restart", i);
        cr_assert_eq(profile_read(&u), 200, "read %d after the restart", i);
    }
}
