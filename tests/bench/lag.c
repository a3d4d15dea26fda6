/*
 * market_lag — read-model visibility lag at a steady write rate (scripts/bench-projector).
 *
 * Sellers registered here (--sellers, default 10, taking turns: traffic comes from many
 * sellers, and a seller's active-listing count is recounted from their listings) create
 * listings through the public API at a fixed rate (on an absolute schedule, so a slow answer
 * does not lower the rate). For each acknowledged
 * create, a watcher polls the read model (MongoDB `listings`, by _id) and records the time
 * from the acknowledgement to the first moment the document is there. Prints the achieved
 * rate and the lag's p50, p90, p99 and maximum. A benchmark, not a test.
 *
 *   market_lag --base URL --mongo URI [--rate 100] [--seconds 30] [--writers 4] [--sellers 10]
 */
#include <curl/curl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_WRITES 200000

struct write {
    char id[40];
    double acked;      /* monotonic seconds; 0 while not acknowledged */
    double seen;       /* first seen in the read model */
};

static struct {
    char base[512];
    char mongo[512];
    double rate;
    int seconds;
    int writers;
    int sellers;
    char bearer[64][128];
} opt = {.rate = 100, .seconds = 30, .writers = 4, .sellers = 10};

static struct write *writes;
static long nslots;                  /* writes scheduled */
static long next_slot;               /* next schedule slot to take */
static long failed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static double t_start;

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_until(double t)
{
    double d = t - now_s();
    if (d > 0) {
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

struct buf {
    char *p;
    size_t len;
};

static size_t
collect(char *data, size_t size, size_t n, void *arg)
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

/* POST path with a JSON body; the status, *out the parsed answer (caller puts it). */
static long
post(CURL *c, const char *path, const char *auth, const char *body, json_object **out)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", opt.base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (auth != NULL) {
        h = curl_slist_append(h, auth);
    }
    struct buf b = {NULL, 0};
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    if (out != NULL) {
        *out = b.p != NULL ? json_tokener_parse(b.p) : NULL;
    }
    free(b.p);
    return status;
}

static void
login(int k)
{
    CURL *c = curl_easy_init();
    char email[128], body[512];
    snprintf(email, sizeof(email), "lag-%d-%ld-%d@example.test", (int)getpid(), (long)time(NULL), k);
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"lag bench password\",\"display_name\":\"Lag Bench\"}",
             email);
    if (post(c, "/api/v1/users", NULL, body, NULL) != 201) {
        fprintf(stderr, "market_lag: cannot register a seller at %s\n", opt.base);
        exit(1);
    }
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"lag bench password\"}", email);
    json_object *r = NULL;
    if (post(c, "/api/v1/sessions", NULL, body, &r) != 201 || r == NULL) {
        fprintf(stderr, "market_lag: cannot log in\n");
        exit(1);
    }
    snprintf(opt.bearer[k], sizeof(opt.bearer[k]), "Authorization: Bearer %s",
             json_object_get_string(json_object_object_get(r, "token")));
    json_object_put(r);
    curl_easy_cleanup(c);
}

/* Writers take schedule slots in order and write at each slot's time. */
static void *
writer(void *arg)
{
    (void)arg;
    CURL *c = curl_easy_init();
    for (;;) {
        pthread_mutex_lock(&mu);
        long slot = next_slot < nslots ? next_slot++ : -1;
        pthread_mutex_unlock(&mu);
        if (slot < 0) {
            break;
        }
        sleep_until(t_start + (double)slot / opt.rate);
        char body[1024];
        snprintf(body, sizeof(body),
                 "{\"title\":\"Lag bench lamp %ld\",\"description\":\"A brass desk lamp, working, slot %ld\","
                 "\"category\":\"furniture\",\"condition\":\"good\",\"price_minor\":%ld,\"currency\":\"EUR\","
                 "\"location\":{\"city\":\"Berlin\",\"country\":\"DE\",\"lat\":52.52,\"lon\":13.405}}",
                 slot, slot, 1000 + slot);
        json_object *r = NULL;
        long status = post(c, "/api/v1/listings", opt.bearer[slot % opt.sellers], body, &r);
        double acked = now_s();
        const char *id = json_object_get_string(json_object_object_get(json_object_object_get(r, "listing"), "id"));
        pthread_mutex_lock(&mu);
        if (status == 201 && id != NULL) {
            snprintf(writes[slot].id, sizeof(writes[slot].id), "%s", id);
            writes[slot].acked = acked;
        } else {
            failed++;
            writes[slot].acked = -1;
        }
        pthread_mutex_unlock(&mu);
        json_object_put(r);
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"base", required_argument, NULL, 'b'},    {"mongo", required_argument, NULL, 'm'},
        {"rate", required_argument, NULL, 'r'},    {"seconds", required_argument, NULL, 's'},
        {"writers", required_argument, NULL, 'w'}, {"sellers", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (ch) {
        case 'b': snprintf(opt.base, sizeof(opt.base), "%s", optarg); break;
        case 'm': snprintf(opt.mongo, sizeof(opt.mongo), "%s", optarg); break;
        case 'r': opt.rate = atof(optarg); break;
        case 's': opt.seconds = atoi(optarg); break;
        case 'w': opt.writers = atoi(optarg); break;
        case 'S': opt.sellers = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: market_lag --base URL --mongo URI [--rate N] [--seconds S] [--writers W] [--sellers N]\n");
            return 2;
        }
    }
    if (opt.base[0] == '\0' || opt.mongo[0] == '\0' || opt.rate <= 0 || opt.seconds <= 0 || opt.writers <= 0 ||
        opt.writers > 64 || opt.sellers <= 0 || opt.sellers > 64) {
        fprintf(stderr, "usage: market_lag --base URL --mongo URI [--rate N] [--seconds S] [--writers W] [--sellers N]\n");
        return 2;
    }
    nslots = (long)(opt.rate * opt.seconds);
    if (nslots > MAX_WRITES) {
        nslots = MAX_WRITES;
    }
    writes = calloc((size_t)nslots, sizeof(*writes));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mongoc_init();
    for (int k = 0; k < opt.sellers; k++) {
        login(k);
    }
    mongoc_client_t *m = mongoc_client_new(opt.mongo);
    if (m == NULL) {
        fprintf(stderr, "market_lag: bad MongoDB URI %s\n", opt.mongo);
        return 2;
    }
    mongoc_collection_t *listings = mongoc_client_get_collection(m, "market", "listings");

    t_start = now_s() + 0.2;
    pthread_t th[64];
    for (int i = 0; i < opt.writers; i++) {
        pthread_create(&th[i], NULL, writer, NULL);
    }
    /* The watcher: the oldest acknowledged write not yet seen, polled by _id. */
    double deadline = t_start + opt.seconds + 60;
    long k = 0;
    while (k < nslots && now_s() < deadline) {
        pthread_mutex_lock(&mu);
        double acked = writes[k].acked;
        char id[40];
        snprintf(id, sizeof(id), "%s", writes[k].id);
        pthread_mutex_unlock(&mu);
        if (acked < 0) {
            k++;
            continue;
        }
        if (acked == 0) {
            sleep_until(now_s() + 0.0002);
            continue;
        }
        bson_t *filter = BCON_NEW("_id", BCON_UTF8(id));
        bson_t *opts = BCON_NEW("projection", "{", "_id", BCON_INT32(1), "}");
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(listings, filter, opts, NULL);
        const bson_t *doc;
        bool found = mongoc_cursor_next(cur, &doc);
        double t = now_s();
        mongoc_cursor_destroy(cur);
        bson_destroy(filter);
        bson_destroy(opts);
        if (found) {
            writes[k].seen = t;
            k++;
        } else {
            sleep_until(t + 0.002);   /* a poll every 2 ms: the resolution, and little load on the read model */
        }
    }
    for (int i = 0; i < opt.writers; i++) {
        pthread_join(th[i], NULL);
    }
    double elapsed = now_s() - t_start;
    double *lags = calloc((size_t)nslots, sizeof(double));
    long n = 0, unseen = 0;
    for (long i = 0; i < nslots; i++) {
        if (writes[i].acked > 0 && writes[i].seen > 0) {
            double l = writes[i].seen - writes[i].acked;
            lags[n++] = l > 0 ? l : 0;
        } else if (writes[i].acked > 0) {
            unseen++;
        }
    }
    qsort(lags, (size_t)n, sizeof(double), cmp_double);
    if (n == 0) {
        fprintf(stderr, "market_lag: nothing was written and seen (%ld failed)\n", failed);
        return 1;
    }
    printf("writes %ld at %.0f/s scheduled (%.1f s), %ld failed, %ld never seen\n", nslots, opt.rate, elapsed, failed,
           unseen);
    printf("lag_ms p50 %.1f p90 %.1f p99 %.1f max %.1f\n", lags[n / 2] * 1000, lags[n * 9 / 10] * 1000,
           lags[n * 99 / 100] * 1000, lags[n - 1] * 1000);
    /* The stalls: runs of writes that waited over 100 ms, acknowledged less than a second
     * apart (a stall is one moment: every write of its window becomes visible together). Each
     * is printed with when its first write was acknowledged (seconds from the start, on
     * market_lag's clock), how many writes waited and the worst wait. */
    int stalls = 0;
    long in_stall = 0;
    double stall_from = 0, stall_last = -10, stall_worst = 0;
    for (long i = 0; i <= nslots; i++) {
        double lag = i < nslots && writes[i].acked > 0 && writes[i].seen > 0 ? writes[i].seen - writes[i].acked : 0;
        bool slow = lag >= 0.1;
        double at = slow ? writes[i].acked - t_start : 0;
        if (in_stall > 0 && (i == nslots || (slow && at - stall_last >= 1.0))) {
            if (stalls < 20) {
                printf("%s+%.2fs %ld writes, worst %.0f ms", stalls == 0 ? "stalls (from, writes over 100 ms, worst): " : "; ",
                       stall_from, in_stall, stall_worst * 1000);
            }
            stalls++;
            in_stall = 0;
        }
        if (slow) {
            if (in_stall++ == 0) {
                stall_from = at;
                stall_worst = 0;
            }
            stall_last = at;
            stall_worst = lag > stall_worst ? lag : stall_worst;
        }
    }
    printf(stalls > 0 ? "%s(%d in all)\n" : "%sno write waited over 100 ms\n", stalls > 20 ? "... " : " ", stalls);
    mongoc_collection_destroy(listings);
    mongoc_client_destroy(m);
    mongoc_cleanup();
    curl_global_cleanup();
    return unseen > 0 ? 1 : 0;
}
