#include "itest.h"

#include <criterion/criterion.h>
#include <hiredis/hiredis.h>
#include <curl/curl.h>
#include <ctype.h>
#include <poll.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

const char *
itest_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        cr_assert_fail("%s is not set: integration tests run through scripts/test, which starts the test stack", name);
    }
    return v;
}

struct buf {
    char *p;
    size_t len;
};

static size_t
append(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    size_t len = size * n;
    char *p = realloc(b->p, b->len + len + 1);
    if (p == NULL) {
        return 0;
    }
    memcpy(p + b->len, data, len);
    b->p = p;
    b->len += len;
    b->p[b->len] = '\0';
    return len;
}

static size_t
append_header(char *data, size_t size, size_t n, void *arg)
{
    size_t len = size * n;
    /* Lower-case the name so lookups are simple. */
    char *colon = memchr(data, ':', len);
    for (char *c = data; colon != NULL && c < colon; c++) {
        *c = (char)tolower((unsigned char)*c);
    }
    return append(data, size, n, arg);
}

/* curl_global_init is not thread-safe: once per process, whoever comes first. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct iresp
itest_http(const char *method, const char *path, const char *const *headers, const char *body)
{
    return itest_http_from(NULL, method, path, headers, body);
}

struct iresp
itest_http_from(const char *source, const char *method, const char *path, const char *const *headers,
                const char *body)
{
    pthread_once(&curl_once, curl_init_once);
    char url[2048];
    if (strncmp(path, "http", 4) == 0) {
        snprintf(url, sizeof(url), "%s", path);
    } else {
        snprintf(url, sizeof(url), "%s%s", itest_env("MARKET_TEST_BASE_URL"), path);
    }
    CURL *c = curl_easy_init();
    struct buf b = {0}, h = {0};
    struct curl_slist *hl = NULL;
    bool has_ct = false;
    for (const char *const *p = headers; p != NULL && *p != NULL; p++) {
        hl = curl_slist_append(hl, *p);
        has_ct = has_ct || strncasecmp(*p, "Content-Type:", 13) == 0;
    }
    if (body != NULL && !has_ct) {
        hl = curl_slist_append(hl, "Content-Type: application/json");
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (source != NULL) {
        curl_easy_setopt(c, CURLOPT_INTERFACE, source);
    }
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);   /* the stack's certificate is self-signed */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, append_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    struct iresp r = {0};
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        r.status = 0;
        cr_log_warn("%s %s: %s", method, url, curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    r.body = b.p != NULL ? b.p : strdup("");
    r.len = b.len;
    r.headers = h.p != NULL ? h.p : strdup("");
    r.json = r.len > 0 ? json_tokener_parse(r.body) : NULL;
    return r;
}

/* Wait until the connection's socket is readable (or writable), at most ms. */
static bool
raw_wait(CURL *c, bool for_write, int ms)
{
    curl_socket_t fd;
    if (curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD) {
        return false;
    }
    struct pollfd p = {.fd = fd, .events = for_write ? POLLOUT : POLLIN};
    return poll(&p, 1, ms) > 0;
}

struct iresp
itest_raw(const char *base, const char *request, size_t len)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, base);
    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_ENABLE_ALPN, 0L);      /* HTTP/1.1, not h2 */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    struct iresp r = {0};
    struct buf in = {0};
    CURLcode cc = curl_easy_perform(c);
    double deadline = itest_now_ms() + 10000;
    size_t sent = 0;
    while (cc == CURLE_OK && sent < len && itest_now_ms() < deadline) {
        size_t n = 0;
        cc = curl_easy_send(c, request + sent, len - sent, &n);
        if (cc == CURLE_AGAIN) {
            raw_wait(c, true, 100);
            cc = CURLE_OK;
        }
        sent += n;
    }
    /* nginx may answer (and close) before all was sent: read whatever came either way */
    for (;;) {
        char chunk[16384];
        size_t n = 0;
        CURLcode rc = curl_easy_recv(c, chunk, sizeof(chunk), &n);
        if (rc == CURLE_AGAIN) {
            if (itest_now_ms() >= deadline) {
                break;
            }
            raw_wait(c, false, 100);
            continue;
        }
        if (rc != CURLE_OK || n == 0) {
            break;
        }
        append(chunk, 1, n, &in);
    }
    curl_easy_cleanup(c);
    const char *text = in.p != NULL ? in.p : "";
    const char *end = strstr(text, "\r\n\r\n");
    if (in.len > 12 && strncmp(text, "HTTP/1.", 7) == 0 && end != NULL) {
        r.status = strtol(text + 9, NULL, 10);
        r.headers = strndup(text, (size_t)(end - text) + 2);
        /* lower-case the header names, as itest_http does */
        for (char *line = strchr(r.headers, '\n'); line != NULL; line = strchr(line + 1, '\n')) {
            for (char *ch = line + 1; *ch != '\0' && *ch != ':' && *ch != '\n'; ch++) {
                *ch = (char)tolower((unsigned char)*ch);
            }
        }
        const char *body = end + 4;
        size_t blen = in.len - (size_t)(body - text);
        if (strstr(r.headers, "\ntransfer-encoding: chunked") != NULL) {
            struct buf d = {0};
            const char *p = body;
            for (;;) {
                char *next;
                long sz = strtol(p, &next, 16);
                const char *data = strstr(next, "\r\n");
                if (sz <= 0 || data == NULL) {
                    break;
                }
                append((char *)data + 2, 1, (size_t)sz, &d);
                p = data + 2 + sz + 2;
            }
            r.body = d.p != NULL ? d.p : strdup("");
            r.len = d.len;
        } else {
            r.body = malloc(blen + 1);
            memcpy(r.body, body, blen);
            r.body[blen] = '\0';
            r.len = blen;
        }
    } else {
        cr_log_warn("raw request to %s: no HTTP answer (%zu bytes, curl: %s)", base, in.len, curl_easy_strerror(cc));
        r.headers = strdup("");
        r.body = strdup("");
    }
    free(in.p);
    r.json = r.len > 0 ? json_tokener_parse(r.body) : NULL;
    return r;
}

void
iresp_free(struct iresp *r)
{
    free(r->body);
    free(r->headers);
    json_object_put(r->json);
    memset(r, 0, sizeof(*r));
}

const char *
iresp_header(const struct iresp *r, const char *name)
{
    static char value[1024];
    char key[128];
    int n = snprintf(key, sizeof(key), "\n%s:", name);
    for (int i = 0; i < n; i++) {
        key[i] = (char)tolower((unsigned char)key[i]);
    }
    const char *p = strstr(r->headers, key);
    if (p == NULL) {
        return NULL;
    }
    p += n;
    while (*p == ' ') {
        p++;
    }
    size_t len = strcspn(p, "\r\n");
    if (len >= sizeof(value)) {
        len = sizeof(value) - 1;
    }
    memcpy(value, p, len);
    value[len] = '\0';
    return value;
}

static json_object *
walk(json_object *o, va_list ap)
{
    const char *key;
    while (o != NULL && (key = va_arg(ap, const char *)) != NULL) {
        json_object *next = NULL;
        if (!json_object_object_get_ex(o, key, &next)) {
            return NULL;
        }
        o = next;
    }
    return o;
}

const char *
ijson_str(json_object *o, ...)
{
    va_list ap;
    va_start(ap, o);
    json_object *v = walk(o, ap);
    va_end(ap);
    return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

long long
ijson_int(json_object *o, ...)
{
    va_list ap;
    va_start(ap, o);
    json_object *v = walk(o, ap);
    va_end(ap);
    return v != NULL ? json_object_get_int64(v) : -1;
}

double
ijson_double(json_object *o, ...)
{
    va_list ap;
    va_start(ap, o);
    json_object *v = walk(o, ap);
    va_end(ap);
    return v != NULL ? json_object_get_double(v) : NAN;
}

const char *
iresp_error_code(const struct iresp *r)
{
    const char *code = ijson_str(r->json, "error", "code", NULL);
    return code != NULL ? code : "";
}

void
itest_stack(const char *action, const char *service)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s %s %s >/dev/null 2>&1", itest_env("MARKET_TEST_STACK"), action, service);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "scripts/stack %s %s failed", action, service);
}

void
itest_start_marketd(void)
{
    static const char *const roles[] = {"query", "command", "projector", "deliverer"};
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        itest_stack("start", roles[i]);
    }
}

int
itest_pid(const char *name)
{
    char path[1024];
    const char *config = itest_env("MARKET_TEST_CONFIG");   /* $MARKET_VAR/marketd.conf */
    snprintf(path, sizeof(path), "%.*s/run/%s.pid", (int)(strrchr(config, '/') - config), config, name);
    FILE *f = fopen(path, "r");
    int pid = -1;
    if (f != NULL) {
        if (fscanf(f, "%d", &pid) != 1) {
            pid = -1;
        }
        fclose(f);
    }
    return pid;
}

double
itest_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int
itest_children(int master, int *out, int max)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", master, master);
    FILE *f = fopen(path, "r");
    int n = 0;
    if (f == NULL) {
        return 0;
    }
    while (n < max && fscanf(f, "%d", &out[n]) == 1) {
        n++;
    }
    fclose(f);
    return n;
}

bool
itest_poll(int timeout_ms, bool (*fn)(void *), void *arg)
{
    double deadline = itest_now_ms() + timeout_ms;
    for (;;) {
        if (fn(arg)) {
            return true;
        }
        if (itest_now_ms() >= deadline) {
            return false;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};   /* polling interval, not synchronisation */
        nanosleep(&ts, NULL);
    }
}

struct get_cached {
    const char *path;
    struct iresp r;
};

static bool
answered_from_cache(void *arg)
{
    struct get_cached *g = arg;
    iresp_free(&g->r);
    g->r = itest_http("GET", g->path, NULL, NULL);
    const char *cs = iresp_header(&g->r, "X-Cache-Status");
    return cs != NULL && strcmp(cs, "HIT") == 0;
}

struct iresp
itest_get_cached(const char *path, int timeout_ms)
{
    struct get_cached g = {path, {0}};
    (void)itest_poll(timeout_ms, answered_from_cache, &g);
    return g.r;
}

PGconn *
itest_pg(void)
{
    PGconn *c = PQconnectdb(itest_env("MARKET_TEST_PG_DSN"));
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "postgres: %s", PQerrorMessage(c));
    return c;
}

mongoc_client_t *
itest_mongo(void)
{
    static bool inited;
    if (!inited) {
        mongoc_init();
        inited = true;
    }
    mongoc_client_t *m = mongoc_client_new(itest_env("MARKET_TEST_MONGO_URI"));
    cr_assert_not_null(m);
    return m;
}

const char *
itest_unique(const char *prefix)
{
    static char buf[128];
    static int counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, sizeof(buf), "%s-%d-%d-%ld%06ld", prefix, (int)getpid(), ++counter, (long)ts.tv_sec,
             ts.tv_nsec / 1000);
    return buf;
}

bool
itest_read_ping(const char *id, long long *version, char *note, size_t note_len)
{
    mongoc_client_t *m = itest_mongo();
    mongoc_collection_t *c = mongoc_client_get_collection(m, "market", "system_pings");
    bson_t *filter = BCON_NEW("_id", BCON_UTF8(id));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
    const bson_t *doc;
    bool found = mongoc_cursor_next(cur, &doc);
    if (found) {
        bson_iter_t it;
        if (version != NULL) {
            *version = bson_iter_init_find(&it, doc, "version") ? bson_iter_as_int64(&it) : 0;
        }
        if (note != NULL && bson_iter_init_find(&it, doc, "note") && BSON_ITER_HOLDS_UTF8(&it)) {
            snprintf(note, note_len, "%s", bson_iter_utf8(&it, NULL));
        }
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(m);
    return found;
}

redisContext *
itest_redis(void)
{
    redisContext *c = redisConnectUnix(itest_env("MARKET_TEST_REDIS_SOCKET"));
    cr_assert(c != NULL && c->err == 0, "redis: %s", c != NULL ? c->errstr : "out of memory");
    return c;
}

const char *
itest_origin(void)
{
    return itest_env("MARKET_TEST_ORIGIN");
}

void
itest_user_new(struct itest_user *u, const char *name)
{
    memset(u, 0, sizeof(*u));
    snprintf(u->email, sizeof(u->email), "%s@example.test", itest_unique(name));
    snprintf(u->password, sizeof(u->password), "pw-%s", itest_unique("secret"));
    snprintf(u->name, sizeof(u->name), "%s", name);
    char body[512];
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\",\"display_name\":\"%s\"}", u->email,
             u->password, name);
    struct iresp r = itest_http("POST", "/api/v1/users", NULL, body);
    cr_assert_eq(r.status, 201, "register %s: %ld %s", u->email, r.status, r.body);
    snprintf(u->id, sizeof(u->id), "%s", ijson_str(r.json, "user", "id", NULL));
    iresp_free(&r);
    itest_login(u);
}

void
itest_login(struct itest_user *u)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"%s\"}", u->email, u->password);
    struct iresp r = itest_http("POST", "/api/v1/sessions", NULL, body);
    cr_assert_eq(r.status, 201, "login %s: %ld %s", u->email, r.status, r.body);
    snprintf(u->token, sizeof(u->token), "%s", ijson_str(r.json, "token", NULL));
    snprintf(u->bearer, sizeof(u->bearer), "Authorization: Bearer %s", u->token);
    snprintf(u->cookie, sizeof(u->cookie), "Cookie: sid=%s", u->token);
    iresp_free(&r);
}

char *
itest_fmt(const char *f, ...)
{
    static char bufs[8][8192];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof(bufs[0]), f, ap);
    va_end(ap);
    return b;
}

char *
itest_log_path(const char *name)
{
    const char *config = itest_env("MARKET_TEST_CONFIG");
    return itest_fmt("%.*s/log/%s.log", (int)(strrchr(config, '/') - config), config, name);
}

long
itest_config_number(const char *key)
{
    FILE *f = fopen(itest_env("MARKET_TEST_CONFIG"), "r");
    cr_assert_not_null(f, "the stack's marketd.conf: %s", strerror(errno));
    char line[1024];
    size_t n = strlen(key);
    long value = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *p = line + n;
        if (strncmp(line, key, n) == 0 && (*p == ' ' || *p == '=')) {
            p += strspn(p, " ");
            if (*p == '=') {
                value = strtol(p + 1, NULL, 10);
            }
        }
    }
    fclose(f);
    return value;
}

void
itest_dump(char **text, const char *collection, const bson_t *filter, const bson_t *projection)
{
    mongoc_client_t *m = itest_mongo();
    mongoc_collection_t *c = mongoc_client_get_collection(m, "market", collection);
    bson_t *opts = BCON_NEW("sort", "{", "_id", BCON_INT32(1), "}");
    if (projection != NULL) {
        BSON_APPEND_DOCUMENT(opts, "projection", projection);
    }
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, opts, NULL);
    size_t len = *text != NULL ? strlen(*text) : 0;
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        char *j = bson_as_canonical_extended_json(doc, NULL);
        size_t jl = strlen(j);
        char *grown = realloc(*text, len + jl + 2);
        cr_assert_not_null(grown);
        *text = grown;
        memcpy(*text + len, j, jl);
        len += jl;
        (*text)[len++] = '\n';
        (*text)[len] = '\0';
        bson_free(j);
    }
    bson_error_t err;
    cr_assert_not(mongoc_cursor_error(cur, &err), "%s: %s", collection, err.message);
    if (*text == NULL) {
        *text = calloc(1, 1);
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(m);
}

/* ---- read model == write model ------------------------------------------------------------ */

/* One side of a comparison: "key value…" lines, sorted byte-wise. */
struct lines {
    char **v;
    size_t n, cap;
};

static void
lines_add(struct lines *l, char *line)
{
    if (l->n == l->cap) {
        l->cap = l->cap != 0 ? l->cap * 2 : 256;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        cr_assert_not_null(l->v);
    }
    l->v[l->n++] = line;
}

static int
lines_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
lines_free(struct lines *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i]);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* What PostgreSQL says and what MongoDB must hold, per read collection: the SQL gives one
 * text line per row; the MongoDB side joins _id and the named fields (integers) with spaces. */
static const struct completeness {
    const char *what;
    const char *sql;
    const char *collection;
    const char *filter_json;   /* MongoDB filter (extended JSON) */
    const char *fields[3];     /* after _id, NULL-terminated */
} completeness[] = {
    {"pings", "SELECT id::text || ' ' || version FROM system_pings", "system_pings", "{}", {"version", NULL}},
    {"sellers", "SELECT id::text || ' ' || version FROM users", "sellers", "{}", {"version", NULL}},
    {"listings", "SELECT id::text || ' ' || version FROM listings", "listings", "{}", {"version", NULL}},
    {"favourite counts",
     "SELECT listing_id::text || ' ' || count || ' ' || version FROM listing_favorite_counts WHERE version > 0",
     "listings", "{\"favorites_version\": {\"$exists\": true}}", {"favorites", "favorites_version", NULL}},
    {"favourites", "SELECT user_id::text || ':' || listing_id::text FROM favorites", "favorites",
     "{\"active\": true}", {NULL}},
    {"reviews", "SELECT id::text || ' ' || rating FROM reviews", "reviews", "{}", {"rating", NULL}},
    /* The sellers' counts: recounted batch by batch, and once at the end of a rebuild. */
    {"active listing counts",
     "SELECT u.id::text || ' ' || (SELECT count(*) FROM listings l WHERE l.seller_id = u.id AND l.status = 'active') "
     "FROM users u",
     "sellers", "{}", {"active_listings", NULL}},
};

static void
pg_lines(PGconn *pg, const char *sql, struct lines *out)
{
    PGresult *res = PQexec(pg, sql);
    cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
    for (int i = 0; i < PQntuples(res); i++) {
        lines_add(out, strdup(PQgetvalue(res, i, 0)));
    }
    PQclear(res);
    qsort(out->v, out->n, sizeof(*out->v), lines_cmp);
}

static void
mongo_lines(mongoc_client_t *m, const struct completeness *c, struct lines *out)
{
    mongoc_collection_t *coll = mongoc_client_get_collection(m, "market", c->collection);
    bson_error_t err;
    bson_t *filter = bson_new_from_json((const uint8_t *)c->filter_json, -1, &err);
    cr_assert_not_null(filter, "%s", err.message);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, filter, NULL, NULL);
    const bson_t *doc;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        char line[256];
        int len = snprintf(line, sizeof(line), "%s",
                           bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it)
                               ? bson_iter_utf8(&it, NULL)
                               : "(no string _id)");
        for (int f = 0; c->fields[f] != NULL; f++) {
            if (bson_iter_init_find(&it, doc, c->fields[f])) {
                len += snprintf(line + len, sizeof(line) - (size_t)len, " %lld", (long long)bson_iter_as_int64(&it));
            } else {
                len += snprintf(line + len, sizeof(line) - (size_t)len, " (no %s)", c->fields[f]);
            }
        }
        lines_add(out, strdup(line));
    }
    cr_assert_not(mongoc_cursor_error(cur, &err), "%s: %s", c->collection, err.message);
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    mongoc_collection_destroy(coll);
    qsort(out->v, out->n, sizeof(*out->v), lines_cmp);
}

/* Empty when equal; otherwise counts and the first differences (malloc-ed). */
static char *
lines_diff(const char *what, const struct lines *pg, const struct lines *mongo)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    size_t i = 0, j = 0, shown = 0, missing = 0, extra = 0;
    while (i < pg->n || j < mongo->n) {
        int c = i == pg->n ? 1 : j == mongo->n ? -1 : strcmp(pg->v[i], mongo->v[j]);
        if (c == 0) {
            i++, j++;
            continue;
        }
        if (c < 0) {
            missing++;
            if (shown++ < 5) {
                fprintf(f, "\n  PostgreSQL has, the read model lacks: %s", pg->v[i]);
            }
            i++;
        } else {
            extra++;
            if (shown++ < 5) {
                fprintf(f, "\n  the read model has, PostgreSQL lacks: %s", mongo->v[j]);
            }
            j++;
        }
    }
    fclose(f);
    if (missing == 0 && extra == 0) {
        free(out);
        return NULL;
    }
    char *msg = NULL;
    cr_assert_gt(asprintf(&msg, "%s: %zu in PostgreSQL, %zu in the read model, %zu missing or older, %zu extra "
                                "or different:%s",
                          what, pg->n, mongo->n, missing, extra, out),
                 0);
    free(out);
    return msg;
}

/* The first difference between the models, or NULL (malloc-ed). */
static char *
read_model_difference(void)
{
    PGconn *pg = itest_pg();
    mongoc_client_t *m = itest_mongo();
    char *diff = NULL;
    for (size_t k = 0; k < sizeof(completeness) / sizeof(completeness[0]) && diff == NULL; k++) {
        struct lines a = {0}, b = {0};
        pg_lines(pg, completeness[k].sql, &a);
        mongo_lines(m, &completeness[k], &b);
        diff = lines_diff(completeness[k].what, &a, &b);
        lines_free(&a);
        lines_free(&b);
    }
    mongoc_client_destroy(m);
    PQfinish(pg);
    return diff;
}

static bool
read_model_equal(void *arg)
{
    char **last = arg;
    free(*last);
    *last = read_model_difference();
    return *last == NULL;
}

void
itest_mark_rebuilding(bool on)
{
    mongoc_client_t *m = itest_mongo();
    mongoc_collection_t *c = mongoc_client_get_collection(m, "market", "projector_state");
    bson_t *filter = BCON_NEW("_id", BCON_UTF8("checkpoint"));
    bson_t *update = BCON_NEW("$set", "{", "rebuilding", BCON_BOOL(on), "}");
    bson_error_t err;
    cr_assert(mongoc_collection_update_one(c, filter, update, NULL, NULL, &err), "%s", err.message);
    bson_destroy(filter);
    bson_destroy(update);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(m);
}

void
itest_assert_read_model_complete(int timeout_ms)
{
    char *diff = NULL;
    bool ok = itest_poll(timeout_ms, read_model_equal, &diff);
    cr_assert(ok, "the read model does not hold the write model after %d ms: %s", timeout_ms, diff);
    free(diff);
}

/* A statement with up to two text parameters on a fresh connection; the caller PQclear-s. */
static PGresult *
pg_params(PGconn **c, const char *sql, const char *p1, const char *p2)
{
    *c = itest_pg();
    const char *params[] = {p1, p2};
    int n = p2 != NULL ? 2 : p1 != NULL ? 1 : 0;
    return PQexecParams(*c, sql, n, NULL, params, NULL, NULL, 0);
}

long long
itest_pg_num(const char *sql, const char *p1, const char *p2)
{
    PGconn *c;
    PGresult *res = pg_params(&c, sql, p1, p2);
    cr_assert(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    long long v = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? atoll(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    PQfinish(c);
    return v;
}

void
itest_pg_run(const char *sql, const char *p1, const char *p2)
{
    PGconn *c;
    PGresult *res = pg_params(&c, sql, p1, p2);
    cr_assert(PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
              PQerrorMessage(c));
    PQclear(res);
    PQfinish(c);
}

void
itest_assert_ledger_balanced(void)
{
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM (SELECT currency FROM ledger_entries GROUP BY currency "
                              "HAVING sum(amount_minor) <> 0) t",
                              NULL, NULL),
                 0, "the ledger does not sum to zero in some currency");
    cr_assert_eq(itest_pg_num("SELECT count(*) FROM (SELECT journal_id FROM ledger_entries GROUP BY journal_id, "
                              "currency HAVING sum(amount_minor) <> 0) t",
                              NULL, NULL),
                 0, "an unbalanced journal was committed");
}

const char *
itest_word(char first)
{
    static char w[24];
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long v = (unsigned long long)getpid() * 1000003ULL + (unsigned long long)ts.tv_nsec / 1000 +
                           (unsigned long long)ts.tv_sec * 7919ULL + counter++;
    size_t n = 0;
    w[n++] = first;
    for (int i = 0; i < 12; i++, v /= 26) {
        w[n++] = (char)('a' + v % 26);
    }
    w[n++] = 'q';
    w[n] = '\0';
    return w;
}
