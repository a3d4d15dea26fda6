/*
 * market_notify_bench — benchmarks of issue 12 (scripts/bench-notify). Not a test.
 *
 *   market_notify_bench match --pg DSN [--searches 100000] [--listings 1000] [--scan 20]
 *       Stores --searches alerting saved searches (queries made from scripts/demo's
 *       vocabularies: words, categories, places with a radius, currencies, prices, conditions)
 *       for 500 bench users, then times, for --listings demo-like listings, what the projector
 *       does to find the searches a new listing matches (saved_search_find_matches: the
 *       anchors' GIN index, then the exact matcher), and — the ceiling of the same run — the
 *       scan that checks every stored search with the exact matcher, for --scan listings.
 *       The bench rows are deleted at the end.
 *
 *   market_notify_bench lag --base URL [--rounds 50]
 *       On a running stack: a seller with a webhook to a receiver in this process, a buyer;
 *       each round the buyer buys a new listing and the time from the order's answer to the
 *       seller's order_placed notification in GET /users/me/notifications (polled every 2 ms),
 *       and to the webhook's arrival, is recorded. Prints p50, p99 and the maximum.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/ids.h"
#include "core/log.h"
#include "domain/category.h"
#include "domain/saved_search.h"
#include "store/pg.h"
#include "tests/bench/demo.h"

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void
report(const char *what, double *v, int n, const char *unit)
{
    if (n == 0) {
        printf("%-44s no samples\n", what);
        return;
    }
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    double sum = 0;
    for (int i = 0; i < n; i++) {
        sum += v[i];
    }
    printf("%-44s n=%d mean %.3f p50 %.3f p99 %.3f max %.3f %s\n", what, n, sum / n, v[n / 2],
           v[(int)ceil(n * 0.99) - 1], v[n - 1], unit);
}

/* ---- match ------------------------------------------------------------------------------ */

/* A word of the demo's products (brand or model words), folded like listings' words. */
static const char *
demo_word(arena_t *a, unsigned *seed)
{
    const struct demo_vocab *v = &demo_vocabs[rand_r(seed) % demo_nvocabs];
    const struct demo_product *p = &v->products[rand_r(seed) % v->nproducts];
    const char *words[8];
    size_t n = search_words(a, arena_sprintf(a, "%s %s", p->brand != NULL ? p->brand : "", p->model), words, 8);
    return n > 0 ? words[rand_r(seed) % n] : "lamp";
}

/* A saved search as people write them: mostly words (with a price bound), or a category with
 * a price bound, or words in a category, or a category near a city; few broad ones. */
static const char *
random_query(arena_t *a, unsigned *seed)
{
    const struct demo_vocab *v = &demo_vocabs[rand_r(seed) % demo_nvocabs];
    const struct demo_city *c = &demo_cities[rand_r(seed) % demo_ncities];
    int kind = rand_r(seed) % 100, price = 1000 + rand_r(seed) % 50000;
    if (kind < 35) {
        return arena_sprintf(a, "q=%s+%s&max_price=%d", demo_word(a, seed), demo_word(a, seed), price);
    }
    if (kind < 55) {
        return arena_sprintf(a, "q=%s&max_price=%d", demo_word(a, seed), price);
    }
    if (kind < 75) {
        return arena_sprintf(a, "q=%s&category=%s", demo_word(a, seed), v->slug);
    }
    if (kind < 88) {
        return arena_sprintf(a, "category=%s&max_price=%d&condition=new,like_new", v->slug, price / 10);
    }
    if (kind < 98) {
        return arena_sprintf(a, "near=%.3f,%.3f&radius_km=%d&category=%s", c->lat, c->lon, 5 + rand_r(seed) % 45,
                             v->slug);
    }
    return arena_sprintf(a, "currency=%s&max_price=%d", c->currency, price / 10);
}

/* A listing event payload like scripts/demo's. */
static json_object *
random_listing(arena_t *a, const struct category_set *cats, unsigned *seed)
{
    const struct demo_vocab *v = &demo_vocabs[rand_r(seed) % demo_nvocabs];
    const struct demo_product *p = &v->products[rand_r(seed) % v->nproducts];
    const struct demo_city *c = &demo_cities[rand_r(seed) % demo_ncities];
    json_object *l = json_object_new_object();
    arena_cleanup_add(a, (arena_cleanup_fn)(void (*)(void))json_object_put, l);
    json_object_object_add(l, "id", json_object_new_string("00000000-0000-4000-8000-000000000001"));
    json_object_object_add(l, "seller_id", json_object_new_string("00000000-0000-4000-8000-000000000002"));
    json_object_object_add(l, "title", json_object_new_string(arena_sprintf(a, "%s %s", p->brand ? p->brand : "", p->model)));
    json_object_object_add(l, "description", json_object_new_string("Good condition, pick-up or shipping."));
    json_object *path = json_object_new_array();
    for (const struct category *k = category_find(cats, v->slug); k != NULL; k = k->up) {
        json_object_array_put_idx(path, (size_t)k->depth, json_object_new_string(k->slug));
    }
    json_object_object_add(l, "category_path", path);
    json_object_object_add(l, "condition", json_object_new_string("good"));
    json_object_object_add(l, "price_minor", json_object_new_int64((int64_t)(p->eur * 100)));
    json_object_object_add(l, "currency", json_object_new_string(c->currency));
    json_object *loc = json_object_new_object();
    json_object_object_add(loc, "lat", json_object_new_double(c->lat + (rand_r(seed) % 100 - 50) / 1000.0));
    json_object_object_add(loc, "lon", json_object_new_double(c->lon + (rand_r(seed) % 100 - 50) / 1000.0));
    json_object_object_add(l, "location", loc);
    json_object_object_add(l, "attributes", json_object_new_object());
    return l;
}

static const struct pg_stmt ADD_USERS = {
    "bench_users",
    "INSERT INTO users (id, email, password_hash, display_name) "
    "SELECT gen_random_uuid(), 'notify-bench-' || $1 || '-' || i || '@bench.test', '$argon2id$bench', 'Bench' "
    "FROM generate_series(1, 500) i RETURNING id::text",
    1,
};
static const struct pg_stmt ADD_SEARCHES = {
    "bench_searches",
    "INSERT INTO saved_searches (id, user_id, name, query, alert, anchors, min_price, max_price, currency, created_at) "
    "SELECT gen_random_uuid(), u, 'bench', q, true, a::text[], lo, hi, cur, now() - interval '1 day' "
    "FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS t(u, q, a, lo, hi, cur)",
    6,
};
static const struct pg_stmt CLEAN_SEARCHES = {
    "bench_clean_searches",
    "DELETE FROM saved_searches WHERE user_id IN (SELECT id FROM users WHERE email LIKE 'notify-bench-' || $1 || '-%')",
    1,
};
static const struct pg_stmt CLEAN_USERS = {
    "bench_clean_users", "DELETE FROM users WHERE email LIKE 'notify-bench-' || $1 || '-%'", 1};
static const struct pg_stmt ALL_QUERIES = {"bench_all", "SELECT query FROM saved_searches WHERE alert", 0};

/* A text[] literal where "NULL" stands for SQL NULL (unquoted). */
static const char *
null_array(arena_t *a, const char **v, size_t n)
{
    char *out = arena_strdup(a, "{");
    for (size_t i = 0; i < n; i++) {
        out = arena_sprintf(a, strcmp(v[i], "NULL") == 0 ? "%s%sNULL" : "%s%s\"%s\"", out, i ? "," : "", v[i]);
    }
    return arena_sprintf(a, "%s}", out);
}

/* Store n searches for the bench users, 1000 per statement. */
static int
store_searches(struct pg *pg, arena_t *a, const struct category_set *cats, const char *tag, int n)
{
    PGresult *res;
    const char *tagv[] = {tag};
    if (pg_exec(pg, a, &ADD_USERS, tagv, &res) != MK_OK) {
        return MK_EINTERNAL;
    }
    int nusers = pg_nrows(res);
    const char **users = arena_alloc(a, (size_t)nusers * sizeof(*users));
    for (int i = 0; i < nusers; i++) {
        users[i] = arena_strdup(a, pg_value(res, i, 0));
    }
    unsigned seed = 12;
    for (int done = 0; done < n;) {
        arena_t *b = arena_create(1 << 20);
        int k = n - done < 1000 ? n - done : 1000;
        const char **u = arena_alloc(b, (size_t)k * sizeof(*u)), **q = arena_alloc(b, (size_t)k * sizeof(*q));
        const char **an = arena_alloc(b, (size_t)k * sizeof(*an)), **lo = arena_alloc(b, (size_t)k * sizeof(*lo));
        const char **hi = arena_alloc(b, (size_t)k * sizeof(*hi)), **cur = arena_alloc(b, (size_t)k * sizeof(*cur));
        for (int i = 0; i < k; i++) {
            struct search_query sq;
            struct saved_search_index ix;
            const char *problem;
            do {
                q[i] = random_query(b, &seed);
            } while (saved_search_parse(b, cats, "bench", q[i], &sq, &problem) != MK_OK);
            u[i] = users[(done + i) % nusers];
            saved_search_index_of(b, &sq, &ix);
            an[i] = ix.anchors;
            lo[i] = ix.min_price != NULL ? ix.min_price : "NULL";
            hi[i] = ix.max_price != NULL ? ix.max_price : "NULL";
            cur[i] = ix.currency != NULL ? ix.currency : "NULL";
        }
        const char *values[] = {saved_search_text_array(b, u, (size_t)k), saved_search_text_array(b, q, (size_t)k),
                                saved_search_text_array(b, an, (size_t)k), null_array(b, lo, (size_t)k),
                                null_array(b, hi, (size_t)k), null_array(b, cur, (size_t)k)};
        int rc = pg_exec(pg, b, &ADD_SEARCHES, values, NULL);
        arena_destroy(b);
        if (rc != MK_OK) {
            return rc;
        }
        done += k;
    }
    return MK_OK;
}

static int
bench_match(const char *dsn, int searches, int listings, int scan)
{
    struct pg pg;
    pg_init(&pg, dsn, 600000);
    arena_t *a = arena_create(1 << 20);
    struct category_set *cats;
    if (category_load(&pg, a, &cats) != MK_OK) {
        fprintf(stderr, "cannot load the categories from %s\n", dsn);
        return 2;
    }
    char tag[32];
    snprintf(tag, sizeof(tag), "%d", (int)getpid());
    double t0 = clock_mono();
    if (store_searches(&pg, a, cats, tag, searches) != MK_OK) {
        fprintf(stderr, "storing the searches failed\n");
        return 1;
    }
    printf("stored %d saved searches in %.1f s\n", searches, clock_mono() - t0);
    pg_simple(&pg, "ANALYZE saved_searches");
    double *ms = calloc((size_t)listings, sizeof(double)), *cand = calloc((size_t)listings, sizeof(double));
    double *hits = calloc((size_t)listings, sizeof(double));
    unsigned seed = 7;
    long long now_ms = (long long)time(NULL) * 1000;
    for (int i = 0; i < listings; i++) {
        arena_reset(a);
        json_object *l = random_listing(a, cats, &seed);
        struct saved_search_match *m;
        size_t n = 0, c = 0;
        double t = clock_mono();
        saved_search_find_matches(&pg, a, cats, "bench", l, "00000000-0000-4000-8000-000000000002", now_ms, &m, &n,
                                  &c);
        ms[i] = (clock_mono() - t) * 1000;
        cand[i] = (double)c;
        hits[i] = (double)n;
    }
    report("indexed: ms per new listing", ms, listings, "ms");
    report("indexed: candidates per listing", cand, listings, "");
    report("indexed: matches per listing", hits, listings, "");
    double indexed_mean = 0;
    for (int i = 0; i < listings; i++) {
        indexed_mean += ms[i] / listings;
    }
    /* the ceiling: every stored search through the exact matcher (queries fetched once, not timed) */
    arena_reset(a);
    PGresult *all;
    pg_exec(&pg, a, &ALL_QUERIES, NULL, &all);
    int nall = pg_nrows(all);
    double *scan_ms = calloc((size_t)scan, sizeof(double));
    for (int i = 0; i < scan; i++) {
        arena_t *b = arena_create(1 << 20);
        json_object *l = random_listing(a, cats, &seed);
        double t = clock_mono();
        for (int k = 0; k < nall; k++) {
            struct search_query sq;
            const char *problem;
            if (saved_search_parse(b, cats, "bench", pg_value(all, k, 0), &sq, &problem) == MK_OK) {
                saved_search_matches(b, &sq, l);
            }
            if (k % 1000 == 999) {
                arena_reset(b);   /* memory only: the work per search is the same */
            }
        }
        scan_ms[i] = (clock_mono() - t) * 1000;
        arena_destroy(b);
    }
    double scan_mean = 0;
    for (int i = 0; i < scan; i++) {
        scan_mean += scan_ms[i] / scan;
    }
    char what[80];
    snprintf(what, sizeof(what), "ceiling: scan of all %d alerting searches", nall);
    report(what, scan_ms, scan, "ms");
    printf("indexed / scan (mean): %.4f  (%.0fx faster)\n", indexed_mean / scan_mean, scan_mean / indexed_mean);
    pg_exec(&pg, a, &CLEAN_SEARCHES, (const char *const[]){tag}, NULL);
    pg_exec(&pg, a, &CLEAN_USERS, (const char *const[]){tag}, NULL);
    pg_close(&pg);
    arena_destroy(a);
    return 0;
}

/* ---- lag --------------------------------------------------------------------------------- */

static char base[512];

struct body {
    char *p;
    size_t n;
};

static size_t
collect(char *d, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    b->p = realloc(b->p, b->n + size * n + 1);
    memcpy(b->p + b->n, d, size * n);
    b->n += size * n;
    b->p[b->n] = '\0';
    return size * n;
}

/* method path body with the bearer token (may be NULL) and an extra header (may be NULL):
 * the parsed answer (caller puts), *status its status. */
static json_object *
call(const char *method, const char *path, const char *token, const char *extra, const char *body, long *status)
{
    CURL *c = curl_easy_init();
    struct body b = {0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char auth[160];
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    if (extra != NULL) {
        h = curl_slist_append(h, extra);
    }
    char url[1024];
    snprintf(url, sizeof(url), "%s/api/v1%s", base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    *status = 0;
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    json_object *o = b.p != NULL ? json_tokener_parse(b.p) : NULL;
    free(b.p);
    return o;
}

static const char *
jstr(json_object *o, const char *a, const char *b)
{
    json_object *v = json_object_object_get(o, a);
    return json_object_get_string(b != NULL ? json_object_object_get(v, b) : v);
}

/* Register and log in: the token and id. */
static void
user_new(const char *name, char token[64], char id[40])
{
    char email[160], body[320];
    long st;
    snprintf(email, sizeof(email), "%s-%d-%ld@bench.test", name, (int)getpid(), (long)time(NULL));
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"bench-password-1\",\"display_name\":\"%s\"}",
             email, name);
    json_object *r = call("POST", "/users", NULL, NULL, body, &st);
    snprintf(id, 40, "%s", jstr(r, "user", "id"));
    json_object_put(r);
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"bench-password-1\"}", email);
    r = call("POST", "/sessions", NULL, NULL, body, &st);
    snprintf(token, 64, "%s", jstr(r, "token", NULL));
    json_object_put(r);
}

static int hook_fd;
static volatile double hook_at;   /* monotonic time of the last webhook received */

static void *
hook_serve(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(hook_fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        char buf[16384];
        ssize_t n = read(c, buf, sizeof(buf));
        (void)n;
        hook_at = clock_mono();
        const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        n = write(c, ok, strlen(ok));
        close(c);
    }
    return NULL;
}

static int
bench_lag(int rounds)
{
    char st_token[64], st_id[40], by_token[64], by_id[40];
    user_new("lag-seller", st_token, st_id);
    user_new("lag-buyer", by_token, by_id);
    hook_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (bind(hook_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(hook_fd, 16) != 0) {
        return 2;
    }
    getsockname(hook_fd, (struct sockaddr *)&sa, &len);
    pthread_t th;
    pthread_create(&th, NULL, hook_serve, NULL);
    char body[1024];
    long st;
    snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:%d/hook\",\"events\":[\"order_placed\"]}",
             ntohs(sa.sin_port));
    json_object_put(call("POST", "/users/me/webhooks", st_token, NULL, body, &st));
    double *feed = calloc((size_t)rounds, sizeof(double)), *hook = calloc((size_t)rounds, sizeof(double));
    int nf = 0, nh = 0;
    for (int i = 0; i < rounds; i++) {
        json_object *l = call("POST", "/listings", st_token, NULL,
                              "{\"title\":\"Lag lamp\",\"category\":\"furniture\",\"condition\":\"good\",\"price_minor\":"
                              "1000,\"currency\":\"EUR\",\"location\":{\"city\":\"Berlin\",\"country\":\"DE\",\"lat\":52.5,"
                              "\"lon\":13.4}}", &st);
        snprintf(body, sizeof(body), "{\"listing_id\":\"%s\",\"shipping_address\":{\"name\":\"A\",\"line1\":\"L\","
                 "\"city\":\"Berlin\",\"postal_code\":\"10117\",\"country\":\"DE\"}}", jstr(l, "listing", "id"));
        json_object_put(l);
        char key[80];
        snprintf(key, sizeof(key), "Idempotency-Key: lag-%d-%d", (int)getpid(), i);
        usleep(200000);   /* idle between rounds: the stack is not loaded by the previous one */
        hook_at = 0;
        json_object *o = call("POST", "/orders", by_token, key, body, &st);
        double t0 = clock_mono();
        char want[80];
        snprintf(want, sizeof(want), "\"%s\"", jstr(o, "order", "id"));
        json_object_put(o);
        while (clock_mono() - t0 < 10) {
            json_object *f = call("GET", "/users/me/notifications?limit=1", st_token, NULL, NULL, &st);
            bool seen = f != NULL && strstr(json_object_to_json_string(f), want) != NULL;
            json_object_put(f);
            if (seen) {
                feed[nf++] = (clock_mono() - t0) * 1000;
                break;
            }
            usleep(2000);
        }
        while (hook_at == 0 && clock_mono() - t0 < 10) {
            usleep(1000);
        }
        if (hook_at > 0) {
            hook[nh++] = (hook_at - t0) * 1000;
        }
    }
    report("order answered -> seller's notification visible", feed, nf, "ms");
    report("order answered -> webhook received", hook, nh, "ms");
    return nf == rounds && nh == rounds ? 0 : 1;
}

int
main(int argc, char **argv)
{
    log_init("bench", "error");
    if (argc < 2) {
        fprintf(stderr, "usage: market_notify_bench match --pg DSN [--searches N] [--listings N] [--scan N]\n"
                        "       market_notify_bench lag --base URL [--rounds N]\n");
        return 2;
    }
    const char *dsn = NULL;
    int searches = 100000, listings = 1000, scan = 20, rounds = 50;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--pg") == 0) {
            dsn = argv[i + 1];
        } else if (strcmp(argv[i], "--base") == 0) {
            snprintf(base, sizeof(base), "%s", argv[i + 1]);
        } else if (strcmp(argv[i], "--searches") == 0) {
            searches = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--listings") == 0) {
            listings = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--scan") == 0) {
            scan = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--rounds") == 0) {
            rounds = atoi(argv[i + 1]);
        }
    }
    if (strcmp(argv[1], "match") == 0 && dsn != NULL) {
        return bench_match(dsn, searches, listings, scan);
    }
    if (strcmp(argv[1], "lag") == 0 && base[0] != '\0') {
        curl_global_init(CURL_GLOBAL_ALL);
        return bench_lag(rounds);
    }
    fprintf(stderr, "market_notify_bench: bad arguments\n");
    return 2;
}
