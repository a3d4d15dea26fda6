/* Browse, search, cursors, favourites and caching, through nginx. Each test makes its own
 * seller and words, so filters see only its data. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "core/arena.h"
#include "core/errors.h"
#include "domain/ratelimit.h"
#include "store/redis.h"

#define fmt itest_fmt

/* A word no other test uses: letters only, so it survives word folding unchanged. Made from
 * the process id (each test runs in its own process), the time in microseconds and a
 * counter, written in base 26: two tests cannot draw the same word. */
static const char *
unique_word(void)
{
    static char w[24];
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long parts[3] = {(unsigned long long)getpid(),
                                   (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000,
                                   counter++};
    int widths[3] = {6, 8, 2};
    size_t n = 0;
    w[n++] = 'z';
    for (int p = 0; p < 3; p++) {
        unsigned long long v = parts[p];
        for (int i = 0; i < widths[p]; i++) {
            w[n++] = (char)('a' + v % 26);
            v /= 26;
        }
    }
    w[n++] = 'q';   /* never a plural 's' at the end */
    w[n] = '\0';
    return w;
}

struct place {
    const char *city, *country;
    double lat, lon;
};

static const struct place BERLIN = {"Berlin", "DE", 52.52, 13.405};
static const struct place POTSDAM = {"Potsdam", "DE", 52.40, 13.20};   /* about 19 km from Berlin */
static const struct place MUNICH = {"Munich", "DE", 48.137, 11.575};
static const struct place LONDON = {"London", "GB", 51.507, -0.128};

/* Create a listing; returns its id (static buffer rotation) and the event seq. */
static const char *
listing(struct itest_user *u, const char *title, const char *description, const char *category,
        const char *condition, long long price, const char *currency, struct place at, const char *attributes,
        const char *extra, long long *seq)
{
    static char ids[8][40];
    static int next;
    char *id = ids[next++ % 8];
    char *body = strdup(fmt("{\"title\":\"%s\",\"description\":\"%s\",\"category\":\"%s\",\"condition\":\"%s\","
                            "\"price_minor\":%lld,\"currency\":\"%s\",\"location\":{\"city\":\"%s\","
                            "\"country\":\"%s\",\"lat\":%.5f,\"lon\":%.5f},\"attributes\":%s%s}",
                            title, description, category, condition, price, currency, at.city, at.country, at.lat,
                            at.lon, attributes, extra != NULL ? extra : ""));
    struct iresp r = itest_http("POST", "/api/v1/listings", (const char *const[]){u->bearer, NULL}, body);
    free(body);
    cr_assert_eq(r.status, 201, "create %s: %s", title, r.body);
    snprintf(id, 40, "%s", ijson_str(r.json, "listing", "id", NULL));
    if (seq != NULL) {
        *seq = atoll(iresp_header(&r, "X-Event-Seq"));
    }
    iresp_free(&r);
    return id;
}

#define PHONE_ATTRS(gb) fmt("{\"brand\":\"Acme\",\"storage_gb\":%d}", gb)
#define BOOK_ATTRS "{\"author\":\"Anon\"}"
#define LAPTOP_ATTRS "{\"brand\":\"Acme\",\"ram_gb\":16}"

/* Wait until the projector has applied everything up to seq, reading as the holder of bearer
 * (an Authorization header, or NULL: anonymously) (lists are eventually
 * consistent; the single-resource read with X-Min-Seq is the documented way to wait). */
static void
settle_by(const char *bearer, const char *listing_id, long long seq)
{
    struct iresp r = itest_http("GET", fmt("/api/v1/listings/%s", listing_id),
                                (const char *const[]){fmt("X-Min-Seq: %lld", seq), bearer, NULL}, NULL);
    cr_assert_null(iresp_header(&r, "X-Read-Stale"), "the projector caught up");
    iresp_free(&r);
}

/* The same, read anonymously (it counts a view of the listing). */
static void
settle(const char *listing_id, long long seq)
{
    settle_by(NULL, listing_id, seq);
}

/* GET a browse URL, bypassing nginx's micro-cache (the app ignores this header on
 * anonymous reads; nginx bypasses on any Authorization). */
static struct iresp
browse(const char *query)
{
    return itest_http("GET", fmt("/api/v1/listings?%s", query),
                      (const char *const[]){"Authorization: Bearer bypass-the-nginx-cache", NULL}, NULL);
}

/* The titles of a page, joined with '|'. */
static const char *
titles(const struct iresp *r)
{
    static char out[4096];
    out[0] = '\0';
    json_object *items = json_object_object_get(r->json, "items");
    cr_assert_not_null(items, "%s", r->body);
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        strcat(out, i ? "|" : "");
        strcat(out, ijson_str(json_object_array_get_idx(items, i), "title", NULL));
    }
    return out;
}

#define expect_titles(query, want, ...) expect_titles_((query), (want), "" __VA_ARGS__)

static const char *page_titles(const char *query);

/* The page's titles must be want; on failure say what came instead. */
static void
expect_titles_(const char *query, const char *want, const char *why)
{
    char q[1024], w[2048];
    snprintf(q, sizeof(q), "%s", query);
    snprintf(w, sizeof(w), "%s", want);
    const char *got = page_titles(q);
    cr_assert_str_eq(got, w, "%s\n  query: %s\n  want:  %s\n  got:   %s", why, q, w, got);
}

static const char *
page_titles(const char *query)
{
    struct iresp r = browse(query);
    cr_assert_eq(r.status, 200, "%s → %ld %s", query, r.status, r.body);
    static char copy[4096];
    snprintf(copy, sizeof(copy), "%s", titles(&r));
    iresp_free(&r);
    return copy;
}

/* A seller with five active listings, a draft and a deleted one. */
struct catalogue {
    struct itest_user seller;
    char word[32];
};

static void
make_catalogue(struct catalogue *c)
{
    itest_user_new(&c->seller, "Catalogue");
    snprintf(c->word, sizeof(c->word), "%s", unique_word());
    const char *w = c->word;
    long long seq;
    listing(&c->seller, fmt("A %s phone", w), "red", "phones", "good", 10000, "EUR", BERLIN, PHONE_ATTRS(128), NULL,
            NULL);
    listing(&c->seller, "B phone", fmt("mentions %s only here", w), "phones", "new", 50000, "EUR", MUNICH,
            PHONE_ATTRS(256), NULL, NULL);
    listing(&c->seller, fmt("C %s laptop", w), "", "laptops", "fair", 30000, "GBP", LONDON, LAPTOP_ATTRS, NULL, NULL);
    listing(&c->seller, "D novel", "a book", "books", "poor", 500, "EUR", POTSDAM, BOOK_ATTRS, NULL, NULL);
    listing(&c->seller, fmt("E %s draft", w), "", "phones", "good", 100, "EUR", BERLIN, PHONE_ATTRS(64),
            ",\"status\":\"draft\"", NULL);
    const char *gone = listing(&c->seller, fmt("F %s deleted", w), "", "phones", "good", 100, "EUR", BERLIN,
                               PHONE_ATTRS(64), NULL, NULL);
    struct iresp r = itest_http("DELETE", fmt("/api/v1/listings/%s", gone), (const char *const[]){c->seller.bearer, NULL},
                                NULL);
    cr_assert_eq(r.status, 204);
    seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    const char *last = listing(&c->seller, "G lamp", "", "furniture", "like_new", 2500, "EUR", POTSDAM, "{}", NULL,
                               &seq);
    settle(last, seq);
}

Test(browse, every_filter_alone_and_combined)
{
    struct catalogue c;
    make_catalogue(&c);
    const char *s = c.seller.id, *w = c.word;
    const char *A = fmt("A %s phone", w), *C = fmt("C %s laptop", w);
    char a[64], cc[64];
    snprintf(a, sizeof(a), "%s", A);
    snprintf(cc, sizeof(cc), "%s", C);
    /* price_asc gives a fixed order: D 500, G 2500, A 10000, C 30000 (GBP), B 50000 */
    expect_titles(fmt("seller=%s&sort=price_asc", s), fmt("D novel|G lamp|%s|%s|B phone", a, cc),
                     "only active listings: no draft, no deleted one");
    expect_titles(fmt("seller=%s&sort=price_asc&category=electronics", s),
                     fmt("%s|%s|B phone", a, cc), "a category includes its sub-categories");
    expect_titles(fmt("seller=%s&sort=price_asc&category=phones", s), fmt("%s|B phone", a));
    expect_titles(fmt("seller=%s&sort=price_asc&condition=good,new", s), fmt("%s|B phone", a));
    expect_titles(fmt("seller=%s&sort=price_asc&condition=poor", s), "D novel");
    expect_titles(fmt("seller=%s&sort=price_asc&min_price=2500&max_price=30000", s),
                     fmt("G lamp|%s|%s", a, cc), "bounds are inclusive");
    expect_titles(fmt("seller=%s&sort=price_asc&currency=GBP", s), cc);
    expect_titles(fmt("seller=%s&sort=price_asc&currency=EUR&max_price=10000", s),
                     fmt("D novel|G lamp|%s", a));
    expect_titles(fmt("seller=%s&sort=price_asc&category=phones&attr.storage_gb=128", s), a,
                     "attr.storage_gb compares as an integer");
    expect_titles(fmt("seller=%s&sort=price_asc&attr.storage_gb=256", s), "B phone",
                     "typed from the sub-categories when no category is given");
    expect_titles(fmt("seller=%s&sort=price_asc&category=laptops&attr.ram_gb=16", s), cc);
    expect_titles(fmt("seller=%s&sort=price_asc&near=52.52,13.405", s), fmt("D novel|G lamp|%s", a),
                     "25 km around Berlin by default: Berlin and Potsdam");
    expect_titles(fmt("seller=%s&sort=price_asc&near=52.52,13.405&radius_km=5", s), a);
    expect_titles(fmt("seller=%s&sort=price_asc&near=52.52,13.405&radius_km=600", s),
                     fmt("D novel|G lamp|%s|B phone", a), "Munich is within 600 km, London is not");
    expect_titles(fmt("q=%s&sort=price_asc", w), fmt("%s|%s|B phone", a, cc),
                     "words in the title or the description");
    expect_titles(fmt("q=%s&sort=price_asc&category=phones&condition=new", w), "B phone");
    expect_titles(fmt("q=%s%%20phone&sort=price_asc", w), fmt("%s|B phone", a), "every word must match");
    char upper[32];
    snprintf(upper, sizeof(upper), "%s", w);
    upper[0] = 'Z';
    expect_titles(fmt("q=%s&sort=price_asc", upper), fmt("%s|%s|B phone", a, cc), "case-insensitive");
    expect_titles(fmt("q=%s&seller=%s&near=52.52,13.405&radius_km=600&sort=price_asc", w, s),
                     fmt("%s|B phone", a), "words and place together");

    /* The seller's own listing page. */
    struct iresp r = itest_http("GET", fmt("/api/v1/users/%s/listings?sort=price_asc", s), NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(titles(&r), fmt("D novel|G lamp|%s|%s|B phone", a, cc));
    iresp_free(&r);
}

Test(browse, sort_orders)
{
    struct catalogue c;
    make_catalogue(&c);
    const char *s = c.seller.id, *w = c.word;
    char a[64], cc[64];
    snprintf(a, sizeof(a), "A %s phone", w);
    snprintf(cc, sizeof(cc), "C %s laptop", w);
    expect_titles(fmt("seller=%s", s), fmt("G lamp|D novel|%s|B phone|%s", cc, a),
                     "newest first by default");
    expect_titles(fmt("seller=%s&sort=newest", s), fmt("G lamp|D novel|%s|B phone|%s", cc, a));
    expect_titles(fmt("seller=%s&sort=price_desc", s), fmt("B phone|%s|%s|G lamp|D novel", cc, a));
    /* relevance (the default with q): title matches (A, C) above the description-only B */
    const char *rel = page_titles(fmt("q=%s", w));
    cr_assert(strcmp(rel, fmt("%s|%s|B phone", cc, a)) == 0 || strcmp(rel, fmt("%s|%s|B phone", a, cc)) == 0,
              "title matches rank first: %s", rel);
    expect_titles(fmt("q=%s&sort=relevance", w), rel);
    /* distance from Berlin: A (Berlin), D and G (Potsdam, same point, by id), B (Munich), C (London) */
    struct iresp r = browse(fmt("seller=%s&near=52.52,13.405&radius_km=2000&sort=distance", s));
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_object *items = json_object_object_get(r.json, "items");
    cr_assert_eq(json_object_array_length(items), 5);
    cr_assert_str_eq(ijson_str(json_object_array_get_idx(items, 0), "title", NULL), a);
    cr_assert_str_eq(ijson_str(json_object_array_get_idx(items, 3), "title", NULL), "B phone");
    cr_assert_str_eq(ijson_str(json_object_array_get_idx(items, 4), "title", NULL), cc);
    double prev = -1;
    for (size_t i = 0; i < 5; i++) {
        json_object *d = json_object_object_get(json_object_array_get_idx(items, i), "distance_km");
        cr_assert_not_null(d, "items carry distance_km with near");
        cr_assert_geq(json_object_get_double(d), prev);
        prev = json_object_get_double(d);
    }
    cr_assert(prev > 900 && prev < 1000, "Berlin to London is about 930 km: %f", prev);
    iresp_free(&r);
    /* words and distance together (MongoDB's $text cannot, our keywords can) */
    expect_titles(fmt("q=%s&near=52.52,13.405&radius_km=2000&sort=distance", w),
                     fmt("%s|B phone|%s", a, cc));
}

/* ---- cursors ----------------------------------------------------------------------------- */

struct walk {
    char ids[200][40];
    int n;
};

static void
walk_pages(const char *query_in, int limit, struct itest_user *inserter, const char *word, struct walk *seen)
{
    char cursor[1024] = "", query[512];
    snprintf(query, sizeof(query), "%s", query_in);   /* fmt's buffers rotate */
    seen->n = 0;
    for (int page = 0; page < 50; page++) {
        struct iresp r = browse(cursor[0] ? fmt("%s&limit=%d&cursor=%s", query, limit, cursor)
                                          : fmt("%s&limit=%d", query, limit));
        cr_assert_eq(r.status, 200, "page %d: %s", page, r.body);
        json_object *items = json_object_object_get(r.json, "items");
        cr_assert_leq((int)json_object_array_length(items), limit);
        for (size_t i = 0; i < json_object_array_length(items); i++) {
            snprintf(seen->ids[seen->n++], 40, "%s", ijson_str(json_object_array_get_idx(items, i), "id", NULL));
        }
        const char *next = ijson_str(r.json, "next_cursor", NULL);
        snprintf(cursor, sizeof(cursor), "%s", next != NULL ? next : "");
        iresp_free(&r);
        if (cursor[0] == '\0') {
            return;
        }
        /* Meanwhile, new listings arrive, some sorting before and some after the cursor. */
        if (inserter != NULL) {
            long long seq;
            const char *id = listing(inserter, fmt("%s inserted %d", word, page), "", "books", "good",
                                     100 + page * 700, "EUR", BERLIN, BOOK_ATTRS, NULL, &seq);
            settle(id, seq);
        }
    }
    cr_assert_fail("the walk did not end");
}

static void
expect_exactly_once(const struct walk *seen, char (*want)[40], int nwant)
{
    for (int i = 0; i < nwant; i++) {
        int count = 0;
        for (int j = 0; j < seen->n; j++) {
            count += strcmp(seen->ids[j], want[i]) == 0;
        }
        cr_assert_eq(count, 1, "listing %s seen %d times", want[i], count);
    }
}

Test(browse, cursor_walks_return_every_listing_once_under_inserts)
{
    struct itest_user u;
    itest_user_new(&u, "Paged");
    const char *w = unique_word();
    char word[32];
    snprintf(word, sizeof(word), "%s", w);
    char want[23][40];
    long long seq = 0;
    for (int i = 0; i < 23; i++) {
        /* prices repeat so that the id breaks ties; places spread around Berlin */
        struct place at = {"Berlin", "DE", 52.52 + (i % 7) * 0.01, 13.405};
        snprintf(want[i], 40, "%s",
                 listing(&u, fmt("%s item %d", word, i), "", "books", "good", 1000 + (i % 5) * 100, "EUR", at,
                         BOOK_ATTRS, NULL, &seq));
    }
    settle(want[22], seq);
    const char *orders[] = {"sort=newest", "sort=price_asc", "sort=price_desc", "near=52.52,13.405&sort=distance",
                            "sort=relevance"};
    for (int o = 0; o < 5; o++) {
        struct walk seen;
        walk_pages(fmt("q=%s&%s", word, orders[o]), 4, &u, word, &seen);
        expect_exactly_once(&seen, want, 23);
    }
}

/* pattern with @ and # replaced by the words a and b, into out (96 bytes). */
static void
with_words(char out[96], const char *pattern, const char *a, const char *b)
{
    size_t n = 0;
    for (const char *p = pattern; *p != '\0'; p++) {
        const char *piece = *p == '@' ? a : *p == '#' ? b : NULL;
        n += (size_t)snprintf(out + n, 96 - n, "%.*s", piece != NULL ? (int)strlen(piece) : 1, piece != NULL ? piece : p);
    }
    out[n] = '\0';
}

/* Relevance is served tier by tier (query/browse.c: one query per count of query words in the
 * title, newest first within each): pages and cursors must cross the tiers in exactly the
 * (score desc, newest, id) order, whatever the page size, and a cursor may stop anywhere —
 * inside a tier, or on its last item. Ten listings in three tiers, created interleaved so
 * that creation order is not tier order. */
Test(browse, relevance_pages_cross_the_tiers_in_score_order)
{
    struct itest_user u;
    itest_user_new(&u, "Tiers");
    char a[32], b[32];
    snprintf(a, sizeof(a), "%s", unique_word());
    snprintf(b, sizeof(b), "%s", unique_word());
    /* title and description (@ and # stand for the two words): tier 2 has both words in the
     * title, tier 1 one, tier 0 none. Written into our own buffers: fmt's rotate, and
     * listing() uses them too. */
    static const char *const made[10][2] = {
        {"T0a", "@ #"},   {"T1a @", "#"}, {"T2a @ #", "none"}, {"T0b", "# and @"}, {"T1b #", "@"},
        {"T2b # @", "none"}, {"T1c @", "#"}, {"T0c", "@ #"},     {"T2c @ #", "x"},   {"T1d #", "with @"},
    };
    char titles_made[10][96], desc[10][96];
    for (int i = 0; i < 10; i++) {
        with_words(titles_made[i], made[i][0], a, b);
        with_words(desc[i], made[i][1], a, b);
    }
    long long seq = 0;
    const char *last = NULL;
    for (int i = 0; i < 10; i++) {
        last = listing(&u, titles_made[i], desc[i], "books", "good", 1000, "EUR", BERLIN, BOOK_ATTRS, NULL, &seq);
    }
    /* a listing holding only one of the words is not a match */
    last = listing(&u, fmt("only %s", a), "nothing else", "books", "good", 1000, "EUR", BERLIN, BOOK_ATTRS, NULL, &seq);
    settle(last, seq);
    char want[1024] = "";
    const int order[] = {8, 5, 2, 9, 6, 4, 1, 7, 3, 0};
    for (int i = 0; i < 10; i++) {
        strcat(want, i ? "|" : "");
        strcat(want, titles_made[order[i]]);
    }
    for (int limit = 1; limit <= 11; limit++) {
        char got[1024] = "", cursor[1024] = "";
        int pages = 0;
        do {
            struct iresp r = browse(cursor[0] ? fmt("q=%s+%s&limit=%d&cursor=%s", a, b, limit, cursor)
                                              : fmt("q=%s+%s&limit=%d", a, b, limit));
            cr_assert_eq(r.status, 200, "limit %d page %d: %s", limit, pages, r.body);
            const char *t = titles(&r);
            if (t[0] != '\0') {
                strcat(got, got[0] ? "|" : "");
                strcat(got, t);
            }
            const char *next = ijson_str(r.json, "next_cursor", NULL);
            snprintf(cursor, sizeof(cursor), "%s", next != NULL ? next : "");
            iresp_free(&r);
            cr_assert_lt(++pages, 12, "limit %d: the walk ends", limit);
        } while (cursor[0] != '\0');
        cr_assert_str_eq(got, want, "limit %d", limit);
        cr_assert_eq(pages, (10 + limit - 1) / limit, "limit %d: %d pages", limit, pages);
    }
    expect_titles(fmt("q=%s+%s&sort=relevance&limit=20", a, b), want, "sort=relevance is the default with q");
}

Test(browse, tampered_or_foreign_cursors_are_400)
{
    struct itest_user u;
    itest_user_new(&u, "Tamper");
    long long seq = 0;
    const char *id = NULL;
    for (int i = 0; i < 3; i++) {
        id = listing(&u, fmt("Tamper %d", i), "", "books", "good", 100 + i, "EUR", BERLIN, BOOK_ATTRS, NULL, &seq);
    }
    settle(id, seq);
    struct iresp r = browse(fmt("seller=%s&limit=1", u.id));
    char cursor[1024];
    snprintf(cursor, sizeof(cursor), "%s", ijson_str(r.json, "next_cursor", NULL));
    iresp_free(&r);
    r = browse(fmt("seller=%s&limit=1&cursor=%s", u.id, cursor));
    cr_assert_eq(r.status, 200, "the untouched cursor works");
    iresp_free(&r);
    /* flip one character in the middle */
    char edited[1024];
    snprintf(edited, sizeof(edited), "%s", cursor);
    size_t mid = strlen(edited) / 2;
    edited[mid] = edited[mid] == 'A' ? 'B' : 'A';
    const char *bad[] = {
        fmt("seller=%s&limit=1&cursor=%s", u.id, edited),
        fmt("seller=%s&limit=1&cursor=%s", u.id, "not-a-cursor"),
        fmt("seller=%s&limit=1&cursor=%.*s", u.id, (int)strlen(cursor) - 2, cursor),
        fmt("seller=%s&limit=1&sort=price_asc&cursor=%s", u.id, cursor),
        fmt("seller=%s&limit=1&condition=good&cursor=%s", u.id, cursor),
    };
    for (int i = 0; i < 5; i++) {
        char *q = strdup(bad[i]);
        r = browse(q);
        cr_assert_eq(r.status, 400, "%s → %ld", q, r.status);
        cr_assert_str_eq(iresp_error_code(&r), "bad_parameter");
        cr_assert_not_null(strstr(ijson_str(r.json, "error", "message", NULL), "cursor"));
        iresp_free(&r);
        free(q);
    }
}

Test(browse, bad_parameters_are_400_naming_them)
{
    const char *cases[][2] = {
        {"colour=red", "colour"},
        {"limit=0", "limit"},
        {"limit=101", "limit"},
        {"limit=ten", "limit"},
        {"sort=cheapest", "sort"},
        {"sort=relevance", "sort"},
        {"sort=distance", "sort"},
        {"near=91,0", "near"},
        {"near=52.5", "near"},
        {"radius_km=5", "radius_km"},
        {"near=52.5,13.4&radius_km=0", "radius_km"},
        {"condition=mint", "condition"},
        {"category=spaceships", "category"},
        {"min_price=-1", "min_price"},
        {"min_price=500&max_price=100", "max_price"},
        {"currency=euro", "currency"},
        {"seller=bob", "seller"},
        {"q=a&q=b", "q"},
        {"q=%21%21", "q"},
        {"category=phones&attr.storage_gb=lots", "attr.storage_gb"},
        {"attr.warp_factor=9", "attr.warp_factor"},
        {"category=laptops&attr.os=dos", "attr.os"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct iresp r = browse(cases[i][0]);
        cr_assert_eq(r.status, 400, "%s → %ld %s", cases[i][0], r.status, r.body);
        cr_assert_str_eq(iresp_error_code(&r), "bad_parameter");
        const char *msg = ijson_str(r.json, "error", "message", NULL);
        cr_assert(msg != NULL && strncmp(msg, cases[i][1], strlen(cases[i][1])) == 0, "%s: %s", cases[i][0], msg);
        iresp_free(&r);
    }
}

Test(browse, limit_bounds_and_next_cursor)
{
    struct itest_user u;
    itest_user_new(&u, "Limited");
    long long seq = 0;
    const char *id = NULL;
    for (int i = 0; i < 3; i++) {
        id = listing(&u, fmt("Limited %d", i), "", "books", "good", 100 + i, "EUR", BERLIN, BOOK_ATTRS, NULL, &seq);
    }
    settle(id, seq);
    struct iresp r = browse(fmt("seller=%s&limit=1", u.id));
    cr_assert_eq(json_object_array_length(json_object_object_get(r.json, "items")), 1);
    cr_assert_not_null(ijson_str(r.json, "next_cursor", NULL));
    iresp_free(&r);
    r = browse(fmt("seller=%s&limit=100", u.id));
    cr_assert_eq(json_object_array_length(json_object_object_get(r.json, "items")), 3);
    cr_assert(json_object_is_type(json_object_object_get(r.json, "next_cursor"), json_type_null), "the last page");
    iresp_free(&r);
    r = browse(fmt("seller=%s&limit=3", u.id));
    cr_assert(json_object_is_type(json_object_object_get(r.json, "next_cursor"), json_type_null),
              "exactly limit items and no more: no cursor");
    iresp_free(&r);
}

/* ---- favourites ---------------------------------------------------------------------------- */

static long long
favorites_of(const char *id)
{
    struct iresp r = itest_http("GET", fmt("/api/v1/listings/%s", id),
                                (const char *const[]){"Authorization: Bearer bypass-the-nginx-cache", NULL}, NULL);
    long long n = ijson_int(r.json, "listing", "favorites", NULL);
    iresp_free(&r);
    return n;
}

struct fav_probe {
    const char *id;
    long long want;
};

static bool
favorites_are(void *arg)
{
    struct fav_probe *p = arg;
    return favorites_of(p->id) == p->want;
}

Test(browse, favourites_are_idempotent_and_counted)
{
    struct itest_user seller, fan, other;
    itest_user_new(&seller, "Liked");
    itest_user_new(&fan, "Fan");
    itest_user_new(&other, "OtherFan");
    long long seq;
    const char *tmp = listing(&seller, "Liked lamp", "", "furniture", "good", 999, "EUR", BERLIN, "{}", NULL, &seq);
    char id[40];
    snprintf(id, sizeof(id), "%s", tmp);
    const char *path = fmt("/api/v1/listings/%s/favorite", id);
    char p[128];
    snprintf(p, sizeof(p), "%s", path);
    for (int i = 0; i < 2; i++) {
        struct iresp r = itest_http("POST", p, (const char *const[]){fan.bearer, NULL}, NULL);
        cr_assert_eq(r.status, 204, "%s", r.body);
        iresp_free(&r);
    }
    struct iresp r = itest_http("POST", p, (const char *const[]){other.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 204);
    iresp_free(&r);
    struct fav_probe two = {id, 2};
    cr_assert(itest_poll(5000, favorites_are, &two), "two fans, counted once each: %lld", favorites_of(id));
    r = itest_http("GET", "/api/v1/users/me/favorites", (const char *const[]){fan.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(titles(&r), "Liked lamp");
    iresp_free(&r);
    for (int i = 0; i < 2; i++) {
        r = itest_http("DELETE", p, (const char *const[]){fan.bearer, NULL}, NULL);
        cr_assert_eq(r.status, 204);
        iresp_free(&r);
    }
    struct fav_probe one = {id, 1};
    cr_assert(itest_poll(5000, favorites_are, &one), "removed once: %lld", favorites_of(id));
    r = itest_http("GET", "/api/v1/users/me/favorites", (const char *const[]){fan.bearer, NULL}, NULL);
    cr_assert_str_eq(titles(&r), "");
    iresp_free(&r);
    r = itest_http("POST", p, NULL, NULL);
    cr_assert_eq(r.status, 401, "favourites need a session");
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/listings/00000000-0000-4000-8000-000000000000/favorite",
                   (const char *const[]){fan.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 404);
    iresp_free(&r);
    r = itest_http("GET", "/api/v1/users/me/favorites?limit=0", (const char *const[]){fan.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 400);
    iresp_free(&r);
}

/* ---- caching -------------------------------------------------------------------------------- */

static long long
nginx_hits(void)
{
    struct iresp r = itest_http("GET", "/metrics", NULL, NULL);
    const char *name = "market_nginx_cache_total{status=\"HIT\"} ";
    const char *line = strstr(r.body, name);
    long long n = line != NULL ? atoll(line + strlen(name)) : -1;
    iresp_free(&r);
    return n;
}

struct hits_probe {
    long long above;
};

static bool
hits_counted(void *arg)
{
    return nginx_hits() > ((struct hits_probe *)arg)->above;
}

struct title_probe {
    const char *path;
    const char *want;
};

static bool
anonymous_title_is(void *arg)
{
    struct title_probe *p = arg;
    struct iresp r = itest_http("GET", p->path, NULL, NULL);
    bool ok = r.status == 200 && strcmp(ijson_str(r.json, "listing", "title", NULL), p->want) == 0;
    iresp_free(&r);
    return ok;
}

/* A new seller with one furniture listing, projected (id: 40 bytes). */
static void
seller_with_listing(struct itest_user *u, const char *name, const char *title, long price, char *id)
{
    itest_user_new(u, name);
    long long seq;
    const char *tmp = listing(u, title, "", "furniture", "good", price, "EUR", BERLIN, "{}", NULL, &seq);
    snprintf(id, 40, "%s", tmp);
    settle(id, seq);
}

Test(browse, nginx_caches_anonymous_reads_and_the_projector_purges_them)
{
    struct itest_user u;
    char id[40], path[128];
    seller_with_listing(&u, "Cached", "Cached chair", 4000, id);
    snprintf(path, sizeof(path), "/api/v1/listings/%s", id);
    struct hits_probe hp = {nginx_hits()};
    cr_assert_geq(hp.above, 0, "/metrics has market_nginx_cache_total");
    struct iresp r = itest_http("GET", path, NULL, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(iresp_header(&r, "X-Cache-Status"), "MISS");
    iresp_free(&r);
    r = itest_get_cached(path, 5000);
    cr_assert_str_eq(iresp_header(&r, "X-Cache-Status"), "HIT", "a later anonymous read is a hit");
    cr_assert(itest_poll(5000, hits_counted, &hp), "the hit shows in /metrics (from nginx's access log)");
    char inm[128];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", iresp_header(&r, "ETag"));
    iresp_free(&r);
    r = itest_http("GET", path, (const char *const[]){inm, NULL}, NULL);
    cr_assert_eq(r.status, 304, "a cached page answers If-None-Match");
    iresp_free(&r);
    r = itest_http("GET", path, (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_str_eq(iresp_header(&r, "X-Cache-Status"), "BYPASS", "a session bypasses the cache");
    iresp_free(&r);
    r = itest_http("GET", path, (const char *const[]){u.cookie, NULL}, NULL);
    cr_assert_str_eq(iresp_header(&r, "X-Cache-Status"), "BYPASS", "so does the cookie");
    iresp_free(&r);
    /* An edit: the projector purges the page; an anonymous reader sees it within 1 s. */
    r = itest_http("PATCH", path, (const char *const[]){u.bearer, "If-Match: \"1\"", NULL},
                   "{\"title\":\"Cached chair, repainted\"}");
    cr_assert_eq(r.status, 200);
    iresp_free(&r);
    struct title_probe p = {path, "Cached chair, repainted"};
    cr_assert(itest_poll(1000, anonymous_title_is, &p), "the edited title is visible to anonymous readers within 1 s");
    /* Profiles are cached too. */
    char profile[128];
    snprintf(profile, sizeof(profile), "/api/v1/users/%s", u.id);
    r = itest_http("GET", profile, NULL, NULL);
    iresp_free(&r);
    r = itest_get_cached(profile, 5000);
    cr_assert_str_eq(iresp_header(&r, "X-Cache-Status"), "HIT");
    iresp_free(&r);
}

/* How many times a header (lower-case name) is in a response. */
static int
header_count(const struct iresp *r, const char *name)
{
    int n = 0;
    size_t len = strlen(name);
    for (const char *p = r->headers; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL) {
        n += strncmp(p, name, len) == 0 && p[len] == ':';
    }
    return n;
}

/* The header lines nginx keeps in the cache file of a request URI (its "KEY: <uri>" line, as
 * nginx writes it, and the answer's header block after it, NUL bytes as '.'), found under the
 * stack's var/nginx/cache; "" when no file holds that key. s_cached_ttl: how long nginx keeps
 * it, the file's valid_sec less its date (the first fields of nginx's binary cache header,
 * ngx_http_file_cache_header_t: version, valid_sec, updating_sec, error_sec, last_modified,
 * date; each a long on this platform). */
static char s_key_line[600];
static char s_cached_headers[4096];
static long s_cached_ttl;

static int
find_cached(const char *file, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type != FTW_F) {
        return 0;
    }
    char buf[8192];
    FILE *f = fopen(file, "rb");
    size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f != NULL) {
        fclose(f);
    }
    buf[n] = '\0';
    const char *key = memmem(buf, n, s_key_line, strlen(s_key_line));
    if (key == NULL) {
        return 0;
    }
    const char *start = key + strlen(s_key_line);
    const char *end = memmem(start, n - (size_t)(start - buf), "\r\n\r\n", 4);
    cr_assert_not_null(end, "%s: no end of the header block", file);
    /* The lines follow the FastCGI record's binary header (NUL bytes among them). */
    size_t len = (size_t)(end - start) < sizeof(s_cached_headers) - 1 ? (size_t)(end - start)
                                                                      : sizeof(s_cached_headers) - 1;
    for (size_t i = 0; i < len; i++) {
        s_cached_headers[i] = start[i] != '\0' ? start[i] : '.';
    }
    s_cached_headers[len] = '\0';
    long fields[6];
    cr_assert_geq(n, sizeof(fields), "%s: shorter than its header", file);
    memcpy(fields, buf, sizeof(fields));
    s_cached_ttl = fields[1] - fields[5];
    return 1;
}

static const char *
nginx_cached_headers(const char *uri)
{
    const char *config = itest_env("MARKET_TEST_CONFIG"); /* $MARKET_VAR/marketd.conf */
    char dir[1024];
    snprintf(dir, sizeof(dir), "%.*s/nginx/cache/", (int)(strrchr(config, '/') - config), config);
    snprintf(s_key_line, sizeof(s_key_line), "\nKEY: %.500s\n", uri);
    s_cached_headers[0] = '\0';
    s_cached_ttl = -1;
    cr_assert_neq(nftw(dir, find_cached, 16, 0), -1, "%s: %s", dir, strerror(errno));
    return s_cached_headers;
}

/* A number of the stack's marketd.conf, which must be there. */
static long
config_number(const char *key)
{
    long value = itest_config_number(key);
    cr_assert_geq(value, 0, "no %s in the stack's marketd.conf", key);
    return value;
}

/* The stack's http_cache_ttl_s. */
static long
config_http_cache_ttl(void)
{
    long ttl = config_number("http_cache_ttl_s");
    cr_assert_gt(ttl, 0, "http_cache_ttl_s is 0 in the stack's marketd.conf");
    return ttl;
}

/* A document's headers (nginx/marketd-document-headers.conf): X-Frame-Options and
 * Referrer-Policy on an HTML page and the web client's files, never on a JSON answer, whose
 * policy forbids framing already and which loads nothing (README, "Twenty-sixth pass"). */
static void
assert_document_headers(struct iresp *r, const char *path, bool document)
{
    if (document) {
        cr_assert_str_eq(iresp_header(r, "X-Frame-Options"), "DENY", "%s", path);
        cr_assert_str_eq(iresp_header(r, "Referrer-Policy"), "no-referrer", "%s", path);
    } else {
        cr_assert_null(iresp_header(r, "X-Frame-Options"), "%s", path);
        cr_assert_null(iresp_header(r, "Referrer-Policy"), "%s", path);
    }
}

/* What every cached answer carries (cached_pages_carry_the_headers_of_every_answer): from_cache
 * says it must not be a miss nor a bypass. */
static void
check_every_answers_headers(struct iresp *r, const char *path, bool page, const char *api_csp, bool from_cache)
{
    cr_assert_not_null(iresp_header(r, "X-Cache-Status"), "%s", path);
    if (from_cache) { /* a hit (or a stale answer, had 5 s passed) */
        const char *cs = iresp_header(r, "X-Cache-Status");
        cr_assert(strcmp(cs, "MISS") != 0 && strcmp(cs, "BYPASS") != 0, "%s: %s", path, cs);
    }
    cr_assert_eq(strlen(iresp_header(r, "X-Request-Id")), 32, "%s", path);
    cr_assert_str_eq(iresp_header(r, "X-Content-Type-Options"), "nosniff", "%s", path);
    cr_assert_str_eq(iresp_header(r, "Strict-Transport-Security"), "max-age=31536000", "%s", path);
    assert_document_headers(r, path, page);
    cr_assert_eq(header_count(r, "content-security-policy"), 1, "%s: one policy\n%s", path, r->headers);
    cr_assert_eq(header_count(r, "content-type"), 1, "%s: one type\n%s", path, r->headers);
    const char *csp = iresp_header(r, "Content-Security-Policy");
    if (page) {
        cr_assert_not_null(strstr(csp, "style-src 'sha256-"), "the page's own policy: %s", csp);
    } else {
        cr_assert_str_eq(csp, api_csp, "%s", path);
        /* bare: RFC 8259 defines no charset for JSON (README, "Twenty-second pass") */
        cr_assert_str_eq(iresp_header(r, "Content-Type"), "application/json", "%s", path);
    }
    cr_assert_eq(header_count(r, "cache-control"), 1, "%s\n%s", path, r->headers);
    cr_assert_str_eq(iresp_header(r, "Cache-Control"), "no-cache", "%s", path);
}

/* The cached catalogue locations add their headers themselves (README, "Eighth pass"): a
 * cached API answer, miss or hit, carries what every other answer of the API carries, the
 * Content-Security-Policy once and the same as /healthz's; a listing's HTML page carries its
 * own policy and none from nginx. Cache-Control too is nginx's (README, "Ninth pass"): one
 * `no-cache` on the miss, the hit and a hit's 304, and no such line in the cache file, whose
 * lines nginx parses again on every hit. So is the TTL (README, "Tenth pass"): no
 * X-Accel-Expires line kept, and the file valid for the stack's http_cache_ttl_s. Similar items
 * are under the cached /api/v1/listings/ too, and say no Cache-Control of their own. */
Test(browse, cached_pages_carry_the_headers_of_every_answer)
{
    struct itest_user u;
    char id[40];
    seller_with_listing(&u, "Headed", "Headed lamp", 2500, id);
    long ttl = config_http_cache_ttl();
    struct iresp h = itest_http("GET", "/healthz", NULL, NULL);
    cr_assert_eq(h.status, 200);
    char api_csp[256];
    snprintf(api_csp, sizeof(api_csp), "%s", iresp_header(&h, "Content-Security-Policy"));
    cr_assert_str_eq(api_csp, "default-src 'none'; frame-ancestors 'none'");
    iresp_free(&h);
    char paths[6][128];
    snprintf(paths[0], sizeof(paths[0]), "/api/v1/listings/%s", id);
    snprintf(paths[1], sizeof(paths[1]), "/api/v1/users/%s", u.id);
    snprintf(paths[2], sizeof(paths[2]), "/api/v1/users/%s/listings", u.id);
    snprintf(paths[3], sizeof(paths[3]), "/api/v1/listings?seller=%s", u.id);
    snprintf(paths[4], sizeof(paths[4]), "/l/%s", id);
    /* everything under /api/v1/listings/ is one prefix location (README, "Twenty-first pass") */
    snprintf(paths[5], sizeof(paths[5]), "/api/v1/listings/%s/similar?limit=3", id);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        bool page = strncmp(paths[i], "/l/", 3) == 0;
        for (int round = 0; round < 2; round++) {
            struct iresp r = round == 0 ? itest_http("GET", paths[i], NULL, NULL) : itest_get_cached(paths[i], 5000);
            cr_assert_eq(r.status, 200, "%s", paths[i]);
            check_every_answers_headers(&r, paths[i], page, api_csp, round == 1);
            char inm[128];
            snprintf(inm, sizeof(inm), "If-None-Match: %s", iresp_header(&r, "ETag"));
            iresp_free(&r);
            if (round == 1) {
                r = itest_http("GET", paths[i], (const char *const[]){inm, NULL}, NULL);
                cr_assert_eq(r.status, 304, "%s", paths[i]);
                cr_assert_eq(header_count(&r, "cache-control"), 1, "%s\n%s", paths[i], r.headers);
                cr_assert_str_eq(iresp_header(&r, "Cache-Control"), "no-cache", "%s", paths[i]);
                iresp_free(&r);
                /* A HEAD leaves the location for @market_cached_not_get (@market_page_not_get for
                 * a page: one comparison of the method keeps GETs there: README, "Twenty-second
                 * pass") and is the same read: from the GET's cache entry, with every header, the
                 * path's policy and its type. */
                r = itest_http("HEAD", paths[i], NULL, NULL);
                cr_assert_eq(r.status, 200, "HEAD %s", paths[i]);
                check_every_answers_headers(&r, paths[i], page, api_csp, true);
                cr_assert_str_eq(iresp_header(&r, "ETag"), inm + strlen("If-None-Match: "), "HEAD %s", paths[i]);
                iresp_free(&r);
            }
        }
        const char *kept = nginx_cached_headers(paths[i]);
        cr_assert_neq(kept[0], '\0', "%s: no cache file holds it", paths[i]);
        cr_assert_not_null(strstr(kept, "ETag: "), "%s: %s", paths[i], kept);
        cr_assert_null(strstr(kept, "Cache-Control"), "%s: kept in the cache file:\n%s", paths[i], kept);
        cr_assert_null(strstr(kept, "X-Accel-Expires"), "%s: kept in the cache file:\n%s", paths[i], kept);
        /* nginx says a JSON answer's type (README, "Twenty-third pass"); a page keeps its own */
        cr_assert_eq(strstr(kept, "Content-Type: ") != NULL, strncmp(paths[i], "/l/", 3) == 0, "%s:\n%s", paths[i], kept);
        cr_assert_eq(s_cached_ttl, ttl, "%s: kept for %ld s, not http_cache_ttl_s", paths[i], s_cached_ttl);
    }
}

/* Documents and JSON answers everywhere else: the web client's files and a listing's page carry
 * X-Frame-Options and Referrer-Policy; the API's answers, nginx's own errors among them, carry
 * neither, and every one carries a policy that forbids framing. */
Test(browse, documents_carry_frame_and_referrer_headers_and_json_answers_do_not)
{
    struct itest_user u;
    char id[40];
    seller_with_listing(&u, "Documented", "Documented lamp", 2600, id);
    struct iresp r = itest_http("GET", "/", NULL, NULL);
    cr_assert_eq(r.status, 200);
    const char *href = strstr(r.body, "/assets/");
    cr_assert_not_null(href, "the web client links its assets");
    char asset[128];
    size_t n = strcspn(href, "\"'");
    snprintf(asset, sizeof(asset), "%.*s", (int)(n < sizeof(asset) ? n : sizeof(asset) - 1), href);
    assert_document_headers(&r, "/", true);
    iresp_free(&r);
    const char *documents[] = {"/favicon.svg", asset, fmt("/l/%s", id)};
    for (size_t i = 0; i < sizeof(documents) / sizeof(documents[0]); i++) {
        char path[160];
        snprintf(path, sizeof(path), "%s", documents[i]);
        for (int m = 0; m < 2; m++) {   /* a page's HEAD is read in @market_page_not_get */
            r = itest_http(m == 0 ? "GET" : "HEAD", path, NULL, NULL);
            cr_assert_eq(r.status, 200, "%s", path);
            assert_document_headers(&r, path, true);
            cr_assert_not_null(strstr(iresp_header(&r, "Content-Security-Policy"), "frame-ancestors 'none'"), "%s", path);
            iresp_free(&r);
        }
    }
    const char *json[] = {"/healthz", "/api/v1/categories", fmt("/api/v1/listings/%s", id),
                          "/api/v1/listings?limit=1", "/nothing-here", "/assets/missing.js"};
    for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++) {
        char path[160];
        snprintf(path, sizeof(path), "%s", json[i]);
        r = itest_http("GET", path, NULL, NULL);
        cr_assert(r.status == 200 || r.status == 404, "%s: %ld", path, r.status);
        cr_assert_str_eq(iresp_header(&r, "Content-Type"), "application/json", "%s", path);
        assert_document_headers(&r, path, false);
        cr_assert_str_eq(iresp_header(&r, "Content-Security-Policy"), "default-src 'none'; frame-ancestors 'none'",
                         "%s", path);
        cr_assert_str_eq(iresp_header(&r, "X-Content-Type-Options"), "nosniff", "%s", path);
        cr_assert_not_null(iresp_header(&r, "X-Request-Id"), "%s", path);
        iresp_free(&r);
    }
    r = itest_http("TRACE", "/api/v1/listings", NULL, NULL);   /* an error nginx makes */
    cr_assert_eq(r.status, 405);
    assert_document_headers(&r, "TRACE", false);
    iresp_free(&r);
}

/* Every answer of a cached JSON location has one Content-Type, application/json: nginx says it
 * (nginx/marketd-cached-json-headers.conf) and hides a line of the app's, which leaves its own
 * out where nginx asks (README, "Twenty-third pass"). A miss, a hit, a signed-in read (nginx
 * bypassed), the app's 404 and 400, a HEAD of each, in all three locations; the app's own
 * 304 says no type twice either. */
Test(browse, every_answer_of_a_cached_json_location_has_one_type)
{
    struct itest_user u;
    char id[40];
    seller_with_listing(&u, "Typed", "Typed lamp", 2100, id);
    char paths[7][128];
    snprintf(paths[0], sizeof(paths[0]), "/api/v1/listings/%s", id);
    snprintf(paths[1], sizeof(paths[1]), "/api/v1/listings/%s/similar", id);
    snprintf(paths[2], sizeof(paths[2]), "/api/v1/listings?seller=%s", u.id);
    snprintf(paths[3], sizeof(paths[3]), "/api/v1/users/%s", u.id);
    snprintf(paths[4], sizeof(paths[4]), "/api/v1/listings/%s", "3f0c5a52-6d0e-4f3b-9a51-0d2b8c7e6f10"); /* 404 */
    snprintf(paths[5], sizeof(paths[5]), "/api/v1/listings/not-a-uuid");                            /* 400 */
    snprintf(paths[6], sizeof(paths[6]), "/api/v1/listings?limit=oops");                            /* 400 */
    const char *const anonymous[] = {NULL};
    const char *const signed_in[] = {u.bearer, NULL};
    const char *const *who[] = {anonymous, anonymous, signed_in};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        for (size_t w = 0; w < sizeof(who) / sizeof(who[0]); w++) {
            for (int head = 0; head < 2; head++) {
                struct iresp r = itest_http(head ? "HEAD" : "GET", paths[i], who[w], NULL);
                cr_assert(r.status == 200 || r.status == 400 || r.status == 404, "%s: %d", paths[i], r.status);
                cr_assert_eq(header_count(&r, "content-type"), 1, "%s (%zu, %d):\n%s", paths[i], w, head, r.headers);
                cr_assert_str_eq(iresp_header(&r, "Content-Type"), "application/json", "%s", paths[i]);
                if (!head && w == 2 && r.status == 200) {
                    char inm[128];
                    snprintf(inm, sizeof(inm), "If-None-Match: %s", iresp_header(&r, "ETag"));
                    struct iresp nm = itest_http("GET", paths[i], (const char *const[]){u.bearer, inm, NULL}, NULL);
                    cr_assert_eq(nm.status, 304, "%s", paths[i]);
                    cr_assert_leq(header_count(&nm, "content-type"), 1, "%s:\n%s", paths[i], nm.headers);
                    iresp_free(&nm);
                }
                iresp_free(&r);
            }
        }
    }
}

/* Only nginx tells marketd to leave its Content-Type line out (the FastCGI parameter
 * MARKET_NGINX_CONTENT_TYPE of marketd-cached-json-headers.conf): a client's header of that name
 * reaches marketd as HTTP_MARKET_NGINX_CONTENT_TYPE, so no request can make an answer untyped, nor
 * one typed twice, where nginx does not say the type itself. */
Test(browse, a_client_cannot_ask_marketd_to_leave_its_type_out)
{
    struct itest_user u;
    char id[40];
    seller_with_listing(&u, "Untyped", "Untyped lamp", 1900, id);
    char page[64];
    snprintf(page, sizeof(page), "/l/%s", id);
    const char *paths[] = {"/healthz", "/api/v1/users/me", page};
    const char *types[] = {"application/json", "application/json", "text/html; charset=utf-8"};
    const char *asks[] = {"Market-Nginx-Content-Type: application/json",
                          "Market-Nginx-Content-Type: text/html; charset=utf-8"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        for (size_t a = 0; a < sizeof(asks) / sizeof(asks[0]); a++) {
            struct iresp r = itest_http("GET", paths[i], (const char *const[]){asks[a], u.bearer, NULL}, NULL);
            cr_assert_eq(r.status, 200, "%s: %s", paths[i], r.body);
            cr_assert_eq(header_count(&r, "content-type"), 1, "%s (%s):\n%s", paths[i], asks[a], r.headers);
            cr_assert_str_eq(iresp_header(&r, "Content-Type"), types[i], "%s (%s)", paths[i], asks[a]);
            iresp_free(&r);
        }
    }
}

/* nginx's bypass takes a value of exactly "0" as none (marketd-cached.conf lists the three
 * headers, not a map of their concatenation: README, "Twenty-first pass"). That is safe while
 * the app answers a credential that is no session, and X-Min-Seq: 0, as it answers none: the
 * anonymous page, the same bytes. A session, and any other X-Min-Seq, still bypass. */
Test(browse, a_zero_credential_or_position_reads_the_anonymous_page)
{
    struct itest_user u;
    char id[40];
    seller_with_listing(&u, "Zeroed", "Zeroed lamp", 1700, id);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/listings/%s", id);
    struct iresp anon = itest_http("GET", path, NULL, NULL);
    cr_assert_eq(anon.status, 200, "%s", anon.body);
    const char *zeroes[] = {"Authorization: 0", "Cookie: sid=0", "X-Min-Seq: 0"};
    for (size_t i = 0; i < sizeof(zeroes) / sizeof(zeroes[0]); i++) {
        struct iresp r = itest_http("GET", path, (const char *const[]){zeroes[i], NULL}, NULL);
        cr_assert_eq(r.status, 200, "%s: %s", zeroes[i], r.body);
        cr_assert_str_eq(r.body, anon.body, "%s", zeroes[i]);
        cr_assert_str_eq(iresp_header(&r, "ETag"), iresp_header(&anon, "ETag"), "%s", zeroes[i]);
        cr_assert_str_neq(iresp_header(&r, "X-Cache-Status"), "BYPASS", "%s: from the cache", zeroes[i]);
        iresp_free(&r);
    }
    /* the app's own answer to them, nginx bypassed by a position every answer has */
    const char *app[][2] = {{"Authorization: 0", "X-Min-Seq: 1"}, {"Cookie: sid=0", "X-Min-Seq: 1"}};
    for (size_t i = 0; i < sizeof(app) / sizeof(app[0]); i++) {
        struct iresp r = itest_http("GET", path, (const char *const[]){app[i][0], app[i][1], NULL}, NULL);
        cr_assert_eq(r.status, 200, "%s: %s", app[i][0], r.body);
        cr_assert_str_eq(iresp_header(&r, "X-Cache-Status"), "BYPASS");
        cr_assert_str_eq(r.body, anon.body, "the app answers %s as no credential", app[i][0]);
        iresp_free(&r);
    }
    const char *others[] = {"X-Min-Seq: 00", "Authorization: Bearer 0"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        struct iresp r = itest_http("GET", path, (const char *const[]){others[i], NULL}, NULL);
        cr_assert_str_eq(iresp_header(&r, "X-Cache-Status"), "BYPASS", "%s", others[i]);
        iresp_free(&r);
    }
    iresp_free(&anon);
}

/* A draft, read by its seller through the cached location (bypassing the cache), is private
 * and revalidated: the app says `private`, nginx `no-cache` (RFC 9110 §5.3: one list). */
Test(browse, a_sellers_draft_is_private_and_revalidated)
{
    struct itest_user u;
    itest_user_new(&u, "Private");
    long long seq;
    const char *id = listing(&u, "Private draft lamp", "", "furniture", "good", 900, "EUR", BERLIN, "{}",
                             ",\"status\":\"draft\"", &seq);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/listings/%s", id);
    struct iresp r = itest_http("GET", path, (const char *const[]){u.bearer, fmt("X-Min-Seq: %lld", seq), NULL}, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(iresp_header(&r, "X-Cache-Status"), "BYPASS");
    cr_assert_eq(header_count(&r, "cache-control"), 2, "%s", r.headers);
    cr_assert_not_null(strstr(r.headers, "cache-control: private\r\n"), "%s", r.headers);
    cr_assert_not_null(strstr(r.headers, "cache-control: no-cache\r\n"), "%s", r.headers);
    iresp_free(&r);
}

Test(browse, list_pages_have_etags_and_follow_the_catalog)
{
    struct itest_user u;
    itest_user_new(&u, "Listed");
    const char *w = unique_word();
    char word[32];
    snprintf(word, sizeof(word), "%s", w);
    long long seq;
    const char *id = listing(&u, fmt("%s one", word), "", "books", "good", 100, "EUR", BERLIN, BOOK_ATTRS, NULL, &seq);
    /* Settled by the seller's own read, which counts no view: the page is computed again on
     * its second miss (cache_search_min_uses 2), and an anonymous read's view folded into the
     * read model in between would change it (then a 200 with the new page is right). */
    settle_by(u.bearer, id, seq);
    struct iresp r = browse(fmt("q=%s", word));
    cr_assert_eq(r.status, 200);
    char inm[128];
    snprintf(inm, sizeof(inm), "If-None-Match: %s", iresp_header(&r, "ETag"));
    char *first = strdup(r.body);
    iresp_free(&r);
    r = itest_http("GET", fmt("/api/v1/listings?q=%s", word),
                   (const char *const[]){inm, "Authorization: Bearer bypass-the-nginx-cache", NULL}, NULL);
    cr_assert_eq(r.status, 304, "a list page answers If-None-Match (%s)\nfirst: %s\nthen:  %s", inm, first, r.body);
    free(first);
    iresp_free(&r);
    /* A new listing: the cached page (Redis) gives way to the next catalog generation. */
    id = listing(&u, fmt("%s two", word), "", "books", "good", 200, "EUR", BERLIN, BOOK_ATTRS, NULL, &seq);
    settle(id, seq);
    expect_titles(fmt("q=%s&sort=price_asc", word), fmt("%s one|%s two", word, word));
    r = browse(fmt("q=%s", word));
    cr_assert_eq(json_object_array_length(json_object_object_get(r.json, "items")), 2, "not the cached page: %s",
                 r.body);
    iresp_free(&r);
}

/* A new user's settled listing in furniture: its id into id[40], its event's seq into *seq. */
static void
settled_listing(const char *who, const char *title, int price, char *id, long long *seq)
{
    struct itest_user u;
    itest_user_new(&u, who);
    snprintf(id, 40, "%s", listing(&u, title, "", "furniture", "good", price, "EUR", BERLIN, "{}", NULL, seq));
    settle(id, *seq);
}

static void
restart_redis(void)
{
    itest_stack("start", "redis");
}

Test(browse, reads_go_on_without_redis, .fini = restart_redis)
{
    struct itest_user u;
    itest_user_new(&u, "NoRedis");
    long long seq;
    const char *tmp = listing(&u, "Redis-free rug", "", "furniture", "good", 700, "EUR", BERLIN, "{}", NULL, &seq);
    char id[40];
    snprintf(id, sizeof(id), "%s", tmp);
    settle(id, seq);
    itest_stack("stop", "redis");
    const char *bypass[] = {"Authorization: Bearer bypass-the-nginx-cache", NULL};
    struct iresp r = itest_http("GET", fmt("/api/v1/listings/%s", id), bypass, NULL);
    cr_assert_eq(r.status, 200, "a listing: %ld %s", r.status, r.body);
    iresp_free(&r);
    r = itest_http("GET", fmt("/api/v1/listings?seller=%s", u.id), bypass, NULL);
    cr_assert_eq(r.status, 200, "a search: %ld %s", r.status, r.body);
    cr_assert_str_eq(titles(&r), "Redis-free rug");
    iresp_free(&r);
    r = itest_http("GET", fmt("/api/v1/users/%s", u.id), bypass, NULL);
    cr_assert_eq(r.status, 200, "a profile");
    iresp_free(&r);
    /* The API's limit of what the cached locations pass on lives in Redis: without it, a
     * client that is limited is served, not refused (worker_admit). */
    r = itest_http_from("127.0.0.4", "GET", fmt("/api/v1/listings?seller=%s", u.id), bypass, NULL);
    cr_assert_eq(r.status, 200, "a limited client's search: %ld %s", r.status, r.body);
    iresp_free(&r);
    itest_stack("start", "redis");
}

/* The key of the search page in Redis whose entry holds text (NULL: none), by SCAN. */
static char *
search_key_holding(redisContext *rc, const char *text)
{
    char cursor[32] = "0", *found = NULL;
    do {
        redisReply *page = redisCommand(rc, "SCAN %s MATCH cache:search:* COUNT 1000", cursor);
        cr_assert(page != NULL && page->type == REDIS_REPLY_ARRAY && page->elements == 2);
        snprintf(cursor, sizeof(cursor), "%s", page->element[0]->str);
        for (size_t i = 0; i < page->element[1]->elements && found == NULL; i++) {
            const char *key = page->element[1]->element[i]->str;
            redisReply *v = redisCommand(rc, "GET %s", key);
            if (v != NULL && v->type == REDIS_REPLY_STRING && strstr(v->str, text) != NULL) {
                found = strdup(key);
            }
            freeReplyObject(v);
        }
        freeReplyObject(page);
    } while (found == NULL && strcmp(cursor, "0") != 0);
    return found;
}

struct planted {
    redisContext *rc;
    const char *hash, *query;
};

/* Plant a doctored page under the current generation; true once a read serves it. */
static bool
doctored_page_served(void *arg)
{
    const struct planted *p = arg;
    redisReply *gen = redisCommand(p->rc, "GET catalog:gen");
    long long g = gen != NULL && gen->type == REDIS_REPLY_STRING ? atoll(gen->str) : 0;
    freeReplyObject(gen);
    freeReplyObject(redisCommand(p->rc, "SET cache:search:%lld:%s %s EX 60", g, p->hash,
                                 "0 \"doctored\"\n{\"items\":[],\"next_cursor\":null,\"doctored\":true}"));
    struct iresp r = browse(p->query);
    bool served = r.body != NULL && strstr(r.body, "doctored") != NULL;
    iresp_free(&r);
    return served;
}

/* Admission (cache_search_min_uses 2, query/cache.h): a page asked for once is not written to
 * Redis, only marked as seen (for cache_search_ttl_s); its second miss writes it. */
Test(browse, a_search_page_is_stored_on_its_second_miss)
{
    char word[32], id[40];
    snprintf(word, sizeof(word), "%s", unique_word());
    long long seq;
    settled_listing("Admission", fmt("%s kettle", word), 1100, id, &seq);
    char q[64];
    snprintf(q, sizeof(q), "q=%s", word);
    redisContext *rc = itest_redis();
    struct iresp r = browse(q);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(titles(&r), fmt("%s kettle", word));
    iresp_free(&r);
    cr_assert_null(search_key_holding(rc, word), "a page asked for once is not stored");
    r = browse(q);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(titles(&r), fmt("%s kettle", word));
    iresp_free(&r);
    char *key = search_key_holding(rc, word);
    cr_assert_not_null(key, "the second miss stores the page");
    redisReply *seen = redisCommand(rc, "TTL seen:cache:search:%s", strrchr(key, ':') + 1);
    cr_assert(seen != NULL && seen->type == REDIS_REPLY_INTEGER && seen->integer > 0 && seen->integer <= 30,
              "the page's seen mark lives cache_search_ttl_s");
    freeReplyObject(seen);
    free(key);
    redisFree(rc);
}

/* A worker reads a page in the same round trip as catalog:gen, under the generation it saw
 * last (query/cache.c, cache_get_gen): once the generation moves, a page filed under the
 * one before must not be served, by any worker. */
Test(browse, a_page_of_an_older_generation_is_never_served)
{
    char word[32], id[40];
    snprintf(word, sizeof(word), "%s", unique_word());
    long long seq;
    settled_listing("Generations", fmt("%s lamp", word), 900, id, &seq);
    const char *query = fmt("q=%s", word);
    char q[64];
    snprintf(q, sizeof(q), "%s", query);
    for (int i = 0; i < 2; i++) {   /* filed on its second miss (cache_search_min_uses) */
        struct iresp r = browse(q);
        cr_assert_eq(r.status, 200);
        iresp_free(&r);
    }
    struct iresp r;
    redisContext *rc = itest_redis();
    char *key = search_key_holding(rc, word);
    cr_assert_not_null(key, "the page was filed in Redis");
    struct planted p = {rc, strrchr(key, ':') + 1, q};
    /* Control: a page filed under the current generation is served. */
    cr_assert(itest_poll(5000, doctored_page_served, &p), "the doctored page is served under its generation");
    for (int i = 0; i < 16; i++) {   /* every worker has seen this generation */
        r = browse(q);
        iresp_free(&r);
    }
    freeReplyObject(redisCommand(rc, "INCR catalog:gen"));
    for (int i = 0; i < 16; i++) {
        r = browse(q);
        cr_assert_eq(r.status, 200);
        cr_assert_null(strstr(r.body, "doctored"), "a page of the generation before: %s", r.body);
        cr_assert_str_eq(titles(&r), fmt("%s lamp", word));
        iresp_free(&r);
    }
    free(key);
    redisFree(rc);
}

/* A Redis INFO field as a number (-1 when absent). */
static long long
redis_info_number(redisContext *rc, const char *section, const char *field)
{
    redisReply *info = redisCommand(rc, "INFO %s", section);
    long long v = -1;
    if (info != NULL && info->type == REDIS_REPLY_STRING) {
        const char *at = strstr(info->str, field);
        if (at != NULL && at[strlen(field)] == ':') {
            v = strtoll(at + strlen(field) + 1, NULL, 10);
        }
    }
    freeReplyObject(info);
    return v;
}

/* Cache entries are not written to the append-only file: a cache may lose every key, and
 * each 17 KB page written there on every miss was Redis's largest cost per miss. The entry
 * is stored (it is served from Redis), the file grows by less than the entry. */
Test(browse, cache_entries_stay_out_of_the_append_only_file)
{
    struct itest_user u;
    itest_user_new(&u, "NoAof");
    char description[4801];
    for (size_t i = 0; i + 1 < sizeof(description); i++) {
        description[i] = "append only file "[i % 17];
    }
    description[sizeof(description) - 1] = '\0';
    long long seq;
    char id[40];
    snprintf(id, sizeof(id), "%s", listing(&u, "Unlogged lamp", description, "furniture", "good", 900, "EUR", BERLIN, "{}",
                                           NULL, &seq));
    settle(id, seq);
    redisContext *rc = itest_redis();
    if (redis_info_number(rc, "persistence", "aof_enabled") != 1) {
        redisFree(rc);
        cr_skip_test("the stack's Redis runs without an append-only file");
    }
    const char *bypass[] = {"Authorization: Bearer bypass-the-nginx-cache", NULL};
    for (int round = 0; round < 2; round++) {
        /* A listing's entry, then a search page holding it (both over 4.8 KB). */
        const char *path = round == 0 ? fmt("/api/v1/listings/%s", id) : fmt("/api/v1/listings?seller=%s", u.id);
        freeReplyObject(redisCommand(rc, "DEL cache:listing:%s", id));
        struct iresp r;
        if (round == 1) {   /* a search page is stored on its second miss (cache_search_min_uses) */
            r = itest_http("GET", path, bypass, NULL);
            cr_assert_eq(r.status, 200, "%s: %ld %s", path, r.status, r.body);
            iresp_free(&r);
        }
        long long before = redis_info_number(rc, "persistence", "aof_current_size");
        r = itest_http("GET", path, bypass, NULL);
        cr_assert_eq(r.status, 200, "%s: %ld %s", path, r.status, r.body);
        cr_assert_gt(r.len, 4800);
        long long after = redis_info_number(rc, "persistence", "aof_current_size");
        cr_assert(before >= 0 && after - before < 2000, "%s: the AOF grew by %lld bytes for a %zu-byte answer", path,
                  after - before, r.len);
        iresp_free(&r);
        /* Stored all the same: the same read again finds its entry (no key missed). */
        long long misses = redis_info_number(rc, "stats", "keyspace_misses");
        r = itest_http("GET", path, bypass, NULL);
        cr_assert_eq(r.status, 200);
        iresp_free(&r);
        cr_assert_eq(redis_info_number(rc, "stats", "keyspace_misses"), misses, "%s was not served from Redis", path);
    }
    redisFree(rc);
}

/* Cache entries are stored by the script's SHA1 (EVALSHA); after SCRIPT FLUSH (or a Redis
 * restart) every worker must still store them (EVAL on NOSCRIPT). */
Test(browse, cache_entries_are_stored_after_a_script_flush)
{
    long long seq;
    char id[40];
    settled_listing("Scripts", "Flushed lamp", 800, id, &seq);
    redisContext *rc = itest_redis();
    const char *seq_header = fmt("X-Min-Seq: %lld", seq);
    char h[64];
    snprintf(h, sizeof(h), "%s", seq_header);
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            freeReplyObject(redisCommand(rc, "SCRIPT FLUSH"));
        }
        for (int i = 0; i < 12; i++) {   /* more reads than workers: each has loaded the script */
            freeReplyObject(redisCommand(rc, "DEL cache:listing:%s", id));
            struct iresp r = itest_http("GET", fmt("/api/v1/listings/%s", id), (const char *const[]){h, NULL}, NULL);
            cr_assert_eq(r.status, 200);
            iresp_free(&r);
            redisReply *e = redisCommand(rc, "EXISTS cache:listing:%s", id);
            cr_assert(e != NULL && e->type == REDIS_REPLY_INTEGER && e->integer == 1,
                      "read %d of round %d stored the entry", i, round);
            freeReplyObject(e);
        }
    }
    redisFree(rc);
}

/* ---- the API's rate limit in the cached locations ------------------------------------ */

/* Redis's clock in microseconds (the limit's clock). */
static long long
redis_now_us(redisContext *rc)
{
    redisReply *t = redisCommand(rc, "TIME");
    cr_assert(t != NULL && t->type == REDIS_REPLY_ARRAY && t->elements == 2);
    long long us = atoll(t->element[0]->str) * 1000000LL + atoll(t->element[1]->str);
    freeReplyObject(t);
    return us;
}

/* The limit's stored time for an address, or -1. */
static long long
limit_mark(redisContext *rc, const char *address)
{
    redisReply *v = redisCommand(rc, "GET ratelimit:api:%s", address);
    long long mark = v != NULL && v->type == REDIS_REPLY_STRING ? atoll(v->str) : -1;
    freeReplyObject(v);
    return mark;
}

struct hit_from {
    const char *source, *path;
    struct iresp r;
};

/* Warm the page from 127.0.0.1 until it is a hit, then read it from source: true once that
 * read is a hit (a page may expire between the two reads; then both are made again). */
static bool
hit_from_source(void *arg)
{
    struct hit_from *h = arg;
    struct iresp warm = itest_get_cached(h->path, 5000);
    iresp_free(&warm);
    iresp_free(&h->r);
    h->r = itest_http_from(h->source, "GET", h->path, NULL, NULL);
    const char *status = iresp_header(&h->r, "X-Cache-Status");
    return status != NULL && strcmp(status, "HIT") == 0;
}

/* nginx serves its micro-cache's hits without a limit (a hit costs it what a static file
 * does); what reaches the pool from those locations names the client's address, and marketd
 * counts it against the API's budget (50/s, a burst of 100) in Redis: ratelimit:api:<address>
 * holds the GCRA's theoretical arrival time. An address whose budget is spent is answered 429
 * on a miss, a signed-in read and a HEAD, in the API's error shape, and never on a hit. */
Test(browse, the_api_limit_counts_what_reaches_the_pool_and_never_a_cache_hit)
{
    const char *source = "127.0.0.3";
    long long interval = 1000000LL / config_number("api_rate_per_s"), burst = config_number("api_rate_burst");
    struct itest_user u;
    char id[40], path[128];
    seller_with_listing(&u, "Limited", "Limited lamp", 1500, id);
    snprintf(path, sizeof(path), "/api/v1/listings/%s", id);
    redisContext *rc = itest_redis();
    freeReplyObject(redisCommand(rc, "DEL ratelimit:api:%s", source));

    /* Spent: the next request would be allowed in an hour. */
    long long blocked = redis_now_us(rc) + 3600LL * 1000000;
    freeReplyObject(redisCommand(rc, "SET ratelimit:api:%s %lld PX 600000", source, blocked));
    struct hit_from h = {source, path, {0}};
    cr_assert(itest_poll(15000, hit_from_source, &h), "a hit is served to a spent address: %ld %s", h.r.status,
              h.r.body);
    cr_assert_eq(h.r.status, 200);
    iresp_free(&h.r);

    const char *miss = fmt("/api/v1/listings?q=%s", unique_word());
    char miss_path[128];
    snprintf(miss_path, sizeof(miss_path), "%s", miss);
    struct iresp r = itest_http_from(source, "GET", miss_path, NULL, NULL);
    cr_assert_eq(r.status, 429, "a miss of a spent address: %ld %s", r.status, r.body);
    cr_assert_str_eq(iresp_error_code(&r), "rate_limited");
    cr_assert_str_eq(iresp_header(&r, "Content-Type"), "application/json");
    cr_assert_not_null(iresp_header(&r, "X-Request-Id"));
    long retry = atol(iresp_header(&r, "Retry-After")), first = 3600 - burst * interval / 1000000;
    cr_assert(retry > first - 100 && retry <= first, "Retry-After says when the budget allows one: %ld", retry);
    iresp_free(&r);
    r = itest_http_from(source, "GET", path, (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 429, "a signed-in read (nginx bypasses its cache): %ld", r.status);
    cr_assert_str_eq(iresp_header(&r, "X-Cache-Status"), "BYPASS");
    iresp_free(&r);
    r = itest_http_from(source, "HEAD", fmt("/api/v1/listings?q=%s", unique_word()), NULL, NULL);
    cr_assert_eq(r.status, 429, "a HEAD that misses: %ld", r.status);
    iresp_free(&r);
    cr_assert_eq(limit_mark(rc, source), blocked, "a refused request is not counted");
    r = itest_http_from("127.0.0.5", "GET", miss_path, NULL, NULL);
    cr_assert_eq(r.status, 200, "another address is not limited by it: %ld %s", r.status, r.body);
    iresp_free(&r);

    /* Within the burst: served, and counted as one interval (20 ms at 50/s) more. */
    long long mark = redis_now_us(rc) + burst * interval / 2;
    freeReplyObject(redisCommand(rc, "SET ratelimit:api:%s %lld PX 600000", source, mark));
    r = itest_http_from(source, "GET", fmt("/api/v1/listings?q=%s", unique_word()), NULL, NULL);
    cr_assert_eq(r.status, 200, "within the burst: %ld %s", r.status, r.body);
    iresp_free(&r);
    long long after = redis_now_us(rc), counted = limit_mark(rc, source);
    cr_assert(counted >= mark + interval && counted <= (after > mark ? after : mark) + interval,
              "one request is one interval: %lld after %lld", counted - mark, mark);
    /* The listing's read takes the limit in its own round trip with the cache and the session
     * (ROUTE_OWN_LIMIT): counted the same, once. */
    mark = redis_now_us(rc) + burst * interval / 2;
    freeReplyObject(redisCommand(rc, "SET ratelimit:api:%s %lld PX 600000", source, mark));
    r = itest_http_from(source, "GET", path, (const char *const[]){u.bearer, NULL}, NULL);
    cr_assert_eq(r.status, 200, "a signed-in read within the burst: %ld %s", r.status, r.body);
    iresp_free(&r);
    after = redis_now_us(rc);
    counted = limit_mark(rc, source);
    cr_assert(counted >= mark + interval && counted <= (after > mark ? after : mark) + interval,
              "a listing read is one interval: %lld after %lld", counted - mark, mark);
    /* Paths that end before the listing's pipeline are counted too: an id that cannot exist,
     * a path no route takes (each new one would miss every cache). */
    const char *spent[] = {"/api/v1/listings/not-a-uuid", fmt("/api/v1/listings/%s/no/such/thing", id)};
    freeReplyObject(redisCommand(rc, "SET ratelimit:api:%s %lld PX 600000", source, blocked));
    for (size_t i = 0; i < 2; i++) {
        char p2[160];
        snprintf(p2, sizeof(p2), "%s?n=%s", spent[i], unique_word());
        r = itest_http_from(source, "GET", p2, NULL, NULL);
        cr_assert_eq(r.status, 429, "%s: %ld %s", p2, r.status, r.body);
        iresp_free(&r);
    }

    /* Hits are not limited by nginx either: more than the burst, back to back. */
    freeReplyObject(redisCommand(rc, "DEL ratelimit:api:%s", source));
    int limited = 0, hits = 0;
    for (int i = 0; i < 150; i++) {
        r = itest_http_from(source, "GET", path, NULL, NULL);
        limited += r.status == 429;
        const char *status = iresp_header(&r, "X-Cache-Status");
        hits += status != NULL && strcmp(status, "HIT") == 0;
        iresp_free(&r);
    }
    cr_assert_eq(limited, 0, "%d of 150 reads limited (%d hits)", limited, hits);
    cr_assert_geq(hits, 100);
    freeReplyObject(redisCommand(rc, "DEL ratelimit:api:%s", source));
    redisFree(rc);
}

/* The parameters nginx tells marketd the limit with are nginx's alone: a client's headers of
 * those names (they reach marketd as HTTP_*, or not at all with an underscore) neither exempt a
 * spent address nor make its miss a refresh. */
Test(browse, a_client_cannot_lift_its_own_limit)
{
    const char *source = "127.0.0.7";
    redisContext *rc = itest_redis();
    freeReplyObject(redisCommand(rc, "SET ratelimit:api:%s %lld PX 600000", source, redis_now_us(rc) + 3600LL * 1000000));
    const char *headers[][2] = {
        {"Market-Limit-Address: 127.0.0.1", NULL},
        {"Market-Limit-Address;", NULL},   /* curl's spelling of an empty value */
        {"Market-Cache-Status: EXPIRED", NULL},
        {"Market_Cache_Status: EXPIRED", NULL},
        {"Market_Limit_Address: 127.0.0.1", NULL},
    };
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        struct iresp r = itest_http_from(source, "GET", fmt("/api/v1/listings?q=%s", unique_word()), headers[i], NULL);
        cr_assert_eq(r.status, 429, "%s: %ld %s", headers[i][0], r.status, r.body);
        cr_assert_str_eq(iresp_error_code(&r), "rate_limited");
        iresp_free(&r);
    }
    freeReplyObject(redisCommand(rc, "DEL ratelimit:api:%s", source));
    redisFree(rc);
}

struct fresh_for {
    const char *source, *path, *text;
    long status;
};

/* A read of path from source shows text. */
static bool
shows_text(void *arg)
{
    struct fresh_for *f = arg;
    struct iresp r = itest_http_from(f->source, "GET", f->path, NULL, NULL);
    f->status = r.status;
    bool fresh = r.status == 200 && r.body != NULL && strstr(r.body, f->text) != NULL;
    iresp_free(&r);
    return fresh;
}

/* nginx refreshes an expired page in the background on behalf of whoever found it expired, and
 * serves the old one meanwhile (use_stale updating). That refresh is not counted against the
 * client (MARKET_CACHE_STATUS EXPIRED): a client over its budget that keeps reading a page would
 * otherwise have every refresh refused, and the page would stay old for everyone. A search page
 * (never purged) of a listing whose title changed, read only by a spent address: it shows the
 * new title once the page's TTL has passed. */
Test(browse, a_spent_address_does_not_keep_a_page_stale)
{
    const char *source = "127.0.0.6";
    struct itest_user u;
    char id[40], word[32], path[96];
    snprintf(word, sizeof(word), "%s", unique_word());
    seller_with_listing(&u, "Stale", fmt("%s lamp", word), 1700, id);
    snprintf(path, sizeof(path), "/api/v1/listings?q=%s", word);
    struct iresp r = itest_get_cached(path, 5000);
    cr_assert_str_eq(iresp_header(&r, "X-Cache-Status"), "HIT");
    cr_assert_not_null(strstr(r.body, "lamp"));
    iresp_free(&r);
    char body[96];
    snprintf(body, sizeof(body), "{\"title\":\"%s lantern\"}", word);
    r = itest_http("PATCH", fmt("/api/v1/listings/%s", id), (const char *const[]){u.bearer, "If-Match: \"1\"", NULL},
                   body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    long long seq = atoll(iresp_header(&r, "X-Event-Seq"));
    iresp_free(&r);
    settle(id, seq);
    redisContext *rc = itest_redis();
    freeReplyObject(redisCommand(rc, "SET ratelimit:api:%s %lld PX 600000", source, redis_now_us(rc) + 3600LL * 1000000));
    struct fresh_for f = {source, path, "lantern", 0};
    cr_assert(itest_poll((int)(config_http_cache_ttl() * 1000) + 15000, shows_text, &f),
              "the spent address still reads the old page (last status %ld)", f.status);
    freeReplyObject(redisCommand(rc, "DEL ratelimit:api:%s", source));
    redisFree(rc);
}

struct gcra_again {
    struct redis_store *rs;
    arena_t *a;
    const char *subject;
};

static bool
gcra_allows(void *arg)
{
    struct gcra_again *g = arg;
    int retry;
    return ratelimit_take(g->rs, g->a, "test", g->subject, 900000, 0, &retry) == MK_OK;
}

/* The limit itself (src/domain/ratelimit.c), against the stack's Redis: burst + 1 at once,
 * then refused until an interval passes, a refusal not counted. */
Test(browse, the_rate_limit_allows_its_burst_then_one_an_interval)
{
    struct redis_store rs;
    redis_init(&rs, "", 0, itest_env("MARKET_TEST_REDIS_SOCKET"), 2000);
    arena_t *a = arena_create(4096);
    const char *subject = itest_unique("gcra");
    int retry = 0;
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(ratelimit_take(&rs, a, "test", subject, 60LL * 1000000, 5, &retry), MK_OK, "request %d", i);
    }
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(ratelimit_take(&rs, a, "test", subject, 60LL * 1000000, 5, &retry), MK_ERATELIMITED);
        cr_assert(retry >= 59 && retry <= 60, "retry after %d s", retry);
    }
    /* Another subject, and a burst of 0: one, then none. */
    const char *other = itest_unique("gcra");
    cr_assert_eq(ratelimit_take(&rs, a, "test", other, 60LL * 1000000, 0, &retry), MK_OK);
    cr_assert_eq(ratelimit_take(&rs, a, "test", other, 60LL * 1000000, 0, &retry), MK_ERATELIMITED);
    /* A short interval: allowed again once it has passed. */
    const char *fast = itest_unique("gcra");
    cr_assert_eq(ratelimit_take(&rs, a, "test", fast, 900000, 0, &retry), MK_OK);
    cr_assert_eq(ratelimit_take(&rs, a, "test", fast, 900000, 0, &retry), MK_ERATELIMITED);
    cr_assert_eq(retry, 1, "rounded up to a second");
    struct gcra_again g = {&rs, a, fast};
    cr_assert(itest_poll(2000, gcra_allows, &g));
    redis_close(&rs);
    arena_destroy(a);
}
