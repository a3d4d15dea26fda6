/*
 * market_demo: fills a running stack with realistic demo data through the public HTTP API
 * only (run it with scripts/demo). Sellers register (POST /users), log in (POST /sessions)
 * and fill in their profile (PATCH /users/me); listings are created with POST /listings
 * across every category GET /categories serves, with attributes generated from each
 * category's schema; every K-th listing gets a generated JPEG through the pre-signed
 * upload flow (ticket, PUT to the bucket, attach). Everything therefore goes through the
 * outbox and the projector like real traffic. At the end it waits for the read model to
 * catch up and checks a sample of what it wrote.
 *
 * Requests run in parallel on one curl multi handle (--jobs requests in flight). Content is
 * a pure function of the seed and the item's index, so a run is reproducible whatever the
 * order requests finish in.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <vips/vips.h>

#include "demo.h"

#define MAX_TRIES 5            /* attempts of one request when the answer says "later" */
#define MAX_ERRORS_SHOWN 5
#define CATCH_UP_S 60.0        /* how long to wait for the read model without /metrics */
#define STALL_S 30.0           /* ... and how long it may stand still with them */

/* ---- small helpers -------------------------------------------------------------------- */

static void *
xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL) {
        fputs("market_demo: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static char *
xstrdup(const char *s)
{
    return strcpy(xrealloc(NULL, strlen(s) + 1), s);
}

static double
now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct sb {
    char *p;
    size_t len, cap;
};

static void
sb_putn(struct sb *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void
sb_puts(struct sb *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void
sb_printf(struct sb *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0) {
        sb_putn(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    }
}

static void
sb_clear(struct sb *b)
{
    b->len = 0;
    if (b->p != NULL) {
        b->p[0] = '\0';
    }
}

static const char *
sb_str(const struct sb *b)
{
    return b->p != NULL ? b->p : "";
}

static void
sb_free(struct sb *b)
{
    free(b->p);
    *b = (struct sb){0};
}

/* ---- deterministic randomness ------------------------------------------------------------ */

static uint64_t
mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

struct rng {
    uint64_t s;
};

enum { STREAM_SELLER = 1, STREAM_LISTING, STREAM_IMAGE, STREAM_PASSWORD };

/* The generator of one item: the same seed, stream and index give the same numbers. */
static struct rng
rng_for(uint64_t seed, uint64_t stream, uint64_t index)
{
    return (struct rng){mix64(seed ^ mix64(stream * 0x9E3779B97F4A7C15ULL + index))};
}

static uint64_t
rng_next(struct rng *r)
{
    return mix64(r->s += 0x9E3779B97F4A7C15ULL);
}

static double
rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static bool
rng_chance(struct rng *r, double p)
{
    return rng_unit(r) < p;
}

/* An integer in [lo, hi]. */
static long
rng_range(struct rng *r, long lo, long hi)
{
    return lo + (long)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static const char *
rng_pick(struct rng *r, const char *const *list)
{
    size_t n = demo_count(list);
    return n == 0 ? NULL : list[rng_next(r) % n];
}

static long
rng_pick_long(struct rng *r, const long *v, size_t n)
{
    return v[rng_next(r) % n];
}

static size_t
rng_weighted(struct rng *r, const int *weights, size_t n)
{
    long total = 0;
    for (size_t i = 0; i < n; i++) {
        total += weights[i];
    }
    long x = rng_range(r, 0, total - 1);
    for (size_t i = 0; i < n; i++) {
        if ((x -= weights[i]) < 0) {
            return i;
        }
    }
    return n - 1;
}

/* ---- options and state --------------------------------------------------------------------- */

static struct {
    char base[512];
    long listings, sellers, images_every, jobs, sample;
    uint64_t seed;
    bool deterministic;         /* --seed given: emails and passwords are a function of it */
    bool no_wait;               /* --no-wait: do not wait for the read model (the projector may be stopped) */
    char suffix[32];            /* in every email of this run */
    const char *out;
    bool tty;
} opt = {
    .base = "https://localhost:8443",
    .listings = 5000,
    .sellers = 200,
    .images_every = 10,
    .jobs = 4,
    .out = "var/demo-sellers.json",
};

static struct curl_slist *resolve;     /* the base's host (and localhost) to 127.0.0.1 */
static volatile sig_atomic_t interrupted;   /* the signal that asked us to stop */

static void
on_signal(int sig)
{
    interrupted = sig;
}

/* ---- categories ------------------------------------------------------------------------------ */

enum attr_type { T_STRING, T_INTEGER, T_NUMBER, T_BOOLEAN, T_ENUM };

struct attr {
    char *name;
    enum attr_type type;
    bool required;
    char **values;
    size_t nvalues;
};

struct category {
    char *slug, *name, *parent, *root;
    struct attr *own;
    size_t nown;
    const struct attr **attrs;  /* the ancestors' first, then its own */
    size_t nattrs;
    const struct demo_vocab *vocab;
    int weight;
    unsigned char rgb[3];
};

static struct category *cats;
static size_t ncats;

static struct category *
category_find(const char *slug)
{
    for (size_t i = 0; slug != NULL && i < ncats; i++) {
        if (strcmp(cats[i].slug, slug) == 0) {
            return &cats[i];
        }
    }
    return NULL;
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

struct resp {
    long status;
    struct sb body;
    struct sb headers;          /* names lower-cased */
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    sb_putn(arg, data, size * n);
    return size * n;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
    char *colon = memchr(data, ':', size * n);
    for (char *c = data; colon != NULL && c < colon; c++) {
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    }
    sb_putn(arg, data, size * n);
    return size * n;
}

/* The value of response header name (lower case) into out; false when absent. */
static bool
resp_header(const struct resp *r, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *p = sb_str(&r->headers); *p != '\0';) {
        const char *eol = strchr(p, '\n');
        if (eol == NULL) {
            eol = p + strlen(p);
        }
        if ((size_t)(eol - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ') {
                v++;
            }
            size_t len = (size_t)(eol - v);
            while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == ' ')) {
                len--;
            }
            snprintf(out, outlen, "%.*s", (int)len, v);
            return true;
        }
        p = *eol != '\0' ? eol + 1 : eol;
    }
    return false;
}

/* Sets the options every request shares; the caller adds method, body and headers. */
static void
easy_setup(CURL *h, const char *url, struct resp *r)
{
    curl_easy_reset(h);
    sb_clear(&r->body);
    sb_clear(&r->headers);
    r->status = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);   /* the local stack's certificate is self-signed */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "market-demo/1");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r->headers);
}

/* Method, body (JSON when not raw) and headers; *list receives the header list to free. */
static void
easy_request(CURL *h, const char *method, const char *token, const char *extra_header, const void *body, size_t len,
             const char *content_type, struct curl_slist **list)
{
    struct curl_slist *l = NULL;
    char line[256];
    if (token != NULL) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        l = curl_slist_append(l, line);
    }
    if (extra_header != NULL) {
        l = curl_slist_append(l, extra_header);
    }
    if (body != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        l = curl_slist_append(l, line);
        l = curl_slist_append(l, "Expect:");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    *list = l;
}

/* One blocking request (start-up and checks). Returns the curl code; r->status is 0 on error. */
static CURLcode
http_sync(const char *method, const char *url, const char *token, const char *extra_header, const char *json,
          struct resp *r)
{
    static CURL *h;
    if (h == NULL) {
        h = curl_easy_init();
    }
    struct curl_slist *l;
    easy_setup(h, url, r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    easy_request(h, method, token, extra_header, json, json != NULL ? strlen(json) : 0, "application/json", &l);
    CURLcode cc = curl_easy_perform(h);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    }
    curl_slist_free_all(l);
    return cc;
}

static json_object *
json_path(json_object *o, const char *a, const char *b)
{
    json_object *v = NULL;
    if (o == NULL || !json_object_object_get_ex(o, a, &v)) {
        return NULL;
    }
    if (b != NULL && !json_object_object_get_ex(v, b, &v)) {
        return NULL;
    }
    return v;
}

static const char *
json_str(json_object *o, const char *a, const char *b)
{
    json_object *v = json_path(o, a, b);
    return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* ---- failures ------------------------------------------------------------------------------- */

static struct {
    char *first[MAX_ERRORS_SHOWN];
    size_t n;
} errors;

static void
record_error(const char *what, long status, CURLcode cc, const struct resp *r)
{
    if (errors.n >= MAX_ERRORS_SHOWN) {
        return;
    }
    struct sb m = {0};
    if (cc != CURLE_OK) {
        sb_printf(&m, "%s: %s", what, curl_easy_strerror(cc));
    } else {
        sb_printf(&m, "%s: HTTP %ld %.300s", what, status, r != NULL ? sb_str(&r->body) : "");
    }
    errors.first[errors.n++] = m.p;
}

/* ---- text generation ---------------------------------------------------------------------- */

static const char *const CONDITIONS[] = {"new", "like_new", "good", "fair", "poor"};
static const int CONDITION_WEIGHTS[] = {8, 22, 42, 20, 8};
static const double CONDITION_PRICE[] = {1.45, 1.2, 1.0, 0.75, 0.4};

static const char *
country_name(const char *code)
{
    static const char *const names[][2] = {
        {"DE", "Germany"}, {"FR", "France"}, {"ES", "Spain"}, {"PT", "Portugal"}, {"IT", "Italy"},
        {"NL", "the Netherlands"}, {"BE", "Belgium"}, {"AT", "Austria"}, {"IE", "Ireland"}, {"FI", "Finland"},
        {"GR", "Greece"}, {"GB", "the UK"}, {"CH", "Switzerland"}, {"PL", "Poland"}, {"SE", "Sweden"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(names[i][0], code) == 0) {
            return names[i][1];
        }
    }
    return code;
}

static const char *
country_language(const char *code)
{
    static const char *const langs[][2] = {
        {"DE", "German"}, {"AT", "German"}, {"CH", "German"}, {"FR", "French"}, {"BE", "French"},
        {"ES", "Spanish"}, {"PT", "Portuguese"}, {"IT", "Italian"}, {"NL", "Dutch"}, {"PL", "Polish"},
        {"SE", "Swedish"}, {"FI", "Finnish"}, {"GR", "Greek"},
    };
    for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
        if (strcmp(langs[i][0], code) == 0) {
            return langs[i][1];
        }
    }
    return "English";
}

/* What templates and attribute generators know about the item being written. */
struct gen {
    struct rng *rng;
    const struct category *cat;
    const struct demo_product *prod;
    int cond;
    const struct demo_city *city;
    json_object *attrs;         /* generated attributes (listing) */
    const char *first, *last;   /* seller names (profile) */
    char num[32];
};

/* "name_with_unit" → "name with unit" without the unit suffix, and the unit. */
static void
attr_label(const char *name, char *label, size_t n, const char **unit)
{
    static const struct {
        const char *name, *label, *unit;
    } special[] = {
        {"size_eu", "EU size", ""}, {"min_age_years", "age", "+"}, {"set_number", "set number", ""},
        {"isbn", "ISBN", ""},       {"cpu", "CPU", ""},           {"os", "OS", ""},
        {"ram_gb", "RAM", " GB"},   {"screen_in", "screen", "\""}, {"wheel_size_in", "wheel size", "\""},
    };
    static const struct {
        const char *suffix, *unit;
    } units[] = {{"_gb", " GB"}, {"_cm", " cm"}, {"_in", "\""}, {"_years", " years"}, {"_kg", " kg"}};
    *unit = "";
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        if (strcmp(special[i].name, name) == 0) {
            snprintf(label, n, "%s", special[i].label);
            *unit = special[i].unit;
            return;
        }
    }
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t sl = strlen(units[i].suffix);
        if (len > sl && strcmp(name + len - sl, units[i].suffix) == 0) {
            len -= sl;
            *unit = units[i].unit;
            break;
        }
    }
    snprintf(label, n, "%.*s", (int)len, name);
    for (char *c = label; *c != '\0'; c++) {
        *c = *c == '_' ? ' ' : *c;
    }
}

/* An attribute value as text, or NULL when unset (a false boolean is unset: it reads
 * "[, {unlocked}]" → ", unlocked" only when true). */
static const char *
attr_text(struct gen *g, const char *name)
{
    json_object *v;
    if (g->attrs == NULL || !json_object_object_get_ex(g->attrs, name, &v)) {
        return NULL;
    }
    switch (json_object_get_type(v)) {
    case json_type_string:
        return json_object_get_string(v);
    case json_type_int:
        snprintf(g->num, sizeof(g->num), "%lld", (long long)json_object_get_int64(v));
        return g->num;
    case json_type_double:
        snprintf(g->num, sizeof(g->num), "%g", json_object_get_double(v));
        return g->num;
    case json_type_boolean:
        if (!json_object_get_boolean(v)) {
            return NULL;
        }
        const char *unit;
        attr_label(name, g->num, sizeof(g->num), &unit);
        return g->num;
    default:
        return NULL;
    }
}

static const char *
lookup(struct gen *g, const char *name)
{
    if (strcmp(name, "brand") == 0) {
        return g->prod != NULL ? g->prod->brand : NULL;
    }
    if (strcmp(name, "model") == 0) {
        return g->prod != NULL ? g->prod->model : NULL;
    }
    if (strcmp(name, "cond") == 0) {
        return rng_pick(g->rng, demo_cond_prefixes[g->cond]);
    }
    if (strcmp(name, "city") == 0) {
        return g->city->name;
    }
    if (strcmp(name, "country_name") == 0) {
        return country_name(g->city->country);
    }
    if (strcmp(name, "first") == 0) {
        return g->first;
    }
    if (strcmp(name, "last") == 0) {
        return g->last;
    }
    if (strcmp(name, "battery") == 0 || strcmp(name, "hours") == 0) {
        long v = name[0] == 'b' ? rng_range(g->rng, 78, 100) : rng_range(g->rng, 3, 10);
        snprintf(g->num, sizeof(g->num), "%ld", v);
        return g->num;
    }
    return attr_text(g, name);
}

/* Expands tpl[0..len) into out: {name} is looked up, [ ... ] (not nested) is dropped when
 * a name inside has no value. False when a name outside brackets has none. */
static bool
expand_n(struct sb *out, const char *tpl, size_t len, struct gen *g, bool top)
{
    const char *p = tpl, *end = tpl + len;
    while (p < end) {
        if (*p == '[' && top) {
            const char *close = memchr(p, ']', (size_t)(end - p));
            if (close == NULL) {
                return false;
            }
            struct sb seg = {0};
            if (expand_n(&seg, p + 1, (size_t)(close - p - 1), g, false)) {
                sb_putn(out, sb_str(&seg), seg.len);
            }
            sb_free(&seg);
            p = close + 1;
        } else if (*p == '{') {
            const char *close = memchr(p, '}', (size_t)(end - p));
            if (close == NULL) {
                return false;
            }
            char name[64];
            snprintf(name, sizeof(name), "%.*s", (int)(close - p - 1), p + 1);
            const char *v = lookup(g, name);
            if (v == NULL) {
                return false;
            }
            sb_puts(out, v);
            p = close + 1;
        } else {
            sb_putn(out, p, 1);
            p++;
        }
    }
    return true;
}

static bool
expand(struct sb *out, const char *tpl, struct gen *g)
{
    size_t mark = out->len;
    if (expand_n(out, tpl, strlen(tpl), g, true)) {
        return true;
    }
    out->len = mark;
    if (out->p != NULL) {
        out->p[mark] = '\0';
    }
    return false;
}

/* Expand one of templates that has every name it needs; fallback when none has. */
static void
expand_one(struct sb *out, const char *const *templates, const char *fallback, struct gen *g)
{
    size_t n = templates != NULL ? demo_count(templates) : 0;
    for (int tries = 0; n > 0 && tries < 8; tries++) {
        if (expand(out, templates[rng_next(g->rng) % n], g)) {
            return;
        }
    }
    expand(out, fallback, g);
}

/* At most max characters (UTF-8), trimmed; first letter in upper case. */
static void
tidy_title(struct sb *t, size_t max)
{
    size_t chars = 0, i = 0;
    for (; i < t->len; i++) {
        if (((unsigned char)t->p[i] & 0xC0) != 0x80 && ++chars > max) {
            break;
        }
    }
    t->len = i;
    while (t->len > 0 && (t->p[t->len - 1] == ' ' || t->p[t->len - 1] == ',')) {
        t->len--;
    }
    size_t start = 0;
    while (start < t->len && t->p[start] == ' ') {
        start++;
    }
    memmove(t->p, t->p + start, t->len - start);
    t->len -= start;
    t->p[t->len] = '\0';
    if (t->len > 0 && t->p[0] >= 'a' && t->p[0] <= 'z') {
        t->p[0] = (char)(t->p[0] - 32);
    }
}

/* ---- attributes ------------------------------------------------------------------------- */

/* The product's fixed value of an attribute: NULL when it has none, "-" when never. */
static const char *
product_attr(const struct demo_product *p, const char *name, char *buf, size_t n)
{
    if (p == NULL || p->attrs == NULL) {
        return NULL;
    }
    size_t nl = strlen(name);
    for (const char *s = p->attrs; *s != '\0';) {
        const char *semi = strchr(s, ';');
        size_t len = semi != NULL ? (size_t)(semi - s) : strlen(s);
        if (len > nl && strncmp(s, name, nl) == 0 && s[nl] == '=') {
            snprintf(buf, n, "%.*s", (int)(len - nl - 1), s + nl + 1);
            return buf;
        }
        s += len + (semi != NULL);
    }
    return NULL;
}

static bool
enum_has(const struct attr *a, const char *v)
{
    for (size_t i = 0; i < a->nvalues; i++) {
        if (strcmp(a->values[i], v) == 0) {
            return true;
        }
    }
    return false;
}

/* A text value of the attribute's type, or NULL when it does not fit. */
static json_object *
value_from_text(const struct attr *a, const char *s)
{
    char *end;
    switch (a->type) {
    case T_STRING:
        return json_object_new_string(s);
    case T_ENUM:
        return enum_has(a, s) ? json_object_new_string(s) : NULL;
    case T_INTEGER: {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        return errno == 0 && *end == '\0' && end != s ? json_object_new_int64(v) : NULL;
    }
    case T_NUMBER: {
        double v = strtod(s, &end);
        return *end == '\0' && end != s && isfinite(v) ? json_object_new_double_s(v, s) : NULL;
    }
    case T_BOOLEAN:
        return strcmp(s, "true") == 0 ? json_object_new_boolean(1)
               : strcmp(s, "false") == 0 ? json_object_new_boolean(0)
                                          : NULL;
    }
    return NULL;
}

static json_object *
number_value(double v)
{
    char s[32];
    snprintf(s, sizeof(s), "%g", v);
    return json_object_new_double_s(v, s);
}

static bool
in_tree(const struct gen *g, const char *root)
{
    return g->cat->root != NULL && strcmp(g->cat->root, root) == 0;
}

static bool
is_cat(const struct gen *g, const char *slug)
{
    return strcmp(g->cat->slug, slug) == 0;
}

static void
isbn13(struct rng *r, char *out)
{
    int d[13] = {9, 7, 8};
    for (int i = 3; i < 12; i++) {
        d[i] = (int)rng_range(r, 0, 9);
    }
    int sum = 0;
    for (int i = 0; i < 12; i++) {
        sum += d[i] * (i % 2 == 0 ? 1 : 3);
    }
    d[12] = (10 - sum % 10) % 10;
    for (int i = 0; i < 13; i++) {
        out[i] = (char)('0' + d[i]);
    }
    out[13] = '\0';
}

static json_object *
gen_string(struct gen *g, const struct attr *a)
{
    struct rng *r = g->rng;
    const char *n = a->name;
    const struct demo_product *p = g->prod;
    char buf[32];
    if ((strcmp(n, "brand") == 0 || strcmp(n, "author") == 0) && p != NULL && p->brand != NULL) {
        return json_object_new_string(p->brand);
    }
    if (strcmp(n, "model") == 0 && p != NULL) {
        return json_object_new_string(p->model);
    }
    if (strcmp(n, "color") == 0) {
        return json_object_new_string(rng_pick(r, in_tree(g, "electronics") ? demo_colors_device
                                                  : in_tree(g, "furniture")  ? demo_colors_furniture
                                                                             : demo_colors_clothing));
    }
    if (strcmp(n, "material") == 0) {
        return json_object_new_string(rng_pick(r, in_tree(g, "furniture") ? demo_materials_furniture
                                                  : is_cat(g, "shoes")      ? demo_materials_shoes
                                                                            : demo_materials_clothing));
    }
    if (strcmp(n, "language") == 0) {
        return json_object_new_string(rng_chance(r, 0.5) ? "English" : country_language(g->city->country));
    }
    if (strcmp(n, "isbn") == 0) {
        isbn13(r, buf);
        return json_object_new_string(buf);
    }
    if (strcmp(n, "set_number") == 0) {
        snprintf(buf, sizeof(buf), "%ld", rng_range(r, 10000, 79999));
        return json_object_new_string(buf);
    }
    static const struct {
        const char *name;
        const char *const *list;
    } lists[] = {
        {"cpu", demo_cpus},           {"lens_mount", demo_lens_mounts}, {"publisher", demo_publishers},
        {"subject", demo_subjects},   {"sport", demo_sports},
    };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (strcmp(n, lists[i].name) == 0) {
            return json_object_new_string(rng_pick(r, lists[i].list));
        }
    }
    if (strcmp(n, "brand") == 0 || strcmp(n, "author") == 0) {
        return a->required ? json_object_new_string(strcmp(n, "brand") == 0 ? "Unbranded" : "Unknown") : NULL;
    }
    return json_object_new_string(rng_pick(r, demo_generic_words));
}

static json_object *
gen_integer(struct gen *g, const struct attr *a)
{
    struct rng *r = g->rng;
    const char *n = a->name;
    if (strcmp(n, "storage_gb") == 0) {
        static const long phone[] = {64, 128, 128, 256, 256, 512}, laptop[] = {256, 512, 512, 1024},
                          other[] = {32, 64, 128, 256};
        return json_object_new_int64(is_cat(g, "phones")    ? rng_pick_long(r, phone, 6)
                                     : is_cat(g, "laptops") ? rng_pick_long(r, laptop, 4)
                                                            : rng_pick_long(r, other, 4));
    }
    if (strcmp(n, "ram_gb") == 0) {
        static const long v[] = {8, 8, 16, 16, 16, 32};
        return json_object_new_int64(rng_pick_long(r, v, 6));
    }
    if (strcmp(n, "shutter_count") == 0) {
        return json_object_new_int64(rng_range(r, 20, 800) * 100);
    }
    if (strcmp(n, "seats") == 0) {
        return json_object_new_int64(is_cat(g, "sofas") ? rng_range(r, 2, 4) : rng_range(r, 1, 4) * 2);
    }
    if (strcmp(n, "waist_cm") == 0) {
        /* waist in cm that fits the letter size when there is one */
        static const char *const sizes[] = {"XS", "S", "M", "L", "XL", "XXL", NULL};
        json_object *size;
        long base = 62 + 2 * rng_range(r, 0, 20);
        if (json_object_object_get_ex(g->attrs, "size", &size)) {
            for (long k = 0; sizes[k] != NULL; k++) {
                if (strcmp(sizes[k], json_object_get_string(size)) == 0) {
                    base = 64 + 8 * k + 2 * rng_range(r, 0, 3);
                }
            }
        }
        return json_object_new_int64(base);
    }
    if (strcmp(n, "length_cm") == 0) {
        return json_object_new_int64(rng_range(r, 30, 56) * 2);
    }
    if (strcmp(n, "width_cm") == 0) {
        return json_object_new_int64(is_cat(g, "sofas")    ? rng_range(r, 15, 26) * 10
                                     : is_cat(g, "tables") ? rng_range(r, 8, 22) * 10
                                                           : rng_range(r, 4, 20) * 10);
    }
    if (strcmp(n, "depth_cm") == 0) {
        return json_object_new_int64(is_cat(g, "sofas")    ? rng_range(r, 80, 100)
                                     : is_cat(g, "tables") ? rng_range(r, 6, 11) * 10
                                                           : rng_range(r, 30, 70));
    }
    if (strcmp(n, "height_cm") == 0) {
        return json_object_new_int64(is_cat(g, "sofas")    ? rng_range(r, 70, 95)
                                     : is_cat(g, "tables") ? rng_range(r, 72, 76)
                                                           : rng_range(r, 5, 21) * 10);
    }
    if (strcmp(n, "year") == 0) {
        return json_object_new_int64(2024 - (long)(40 * rng_unit(r) * rng_unit(r)));
    }
    if (strcmp(n, "edition") == 0) {
        return json_object_new_int64(rng_range(r, 2, 12));
    }
    if (strcmp(n, "frame_size_cm") == 0) {
        return json_object_new_int64(rng_range(r, 22, 31) * 2);
    }
    if (strcmp(n, "gears") == 0) {
        static const long v[] = {1, 3, 7, 8, 10, 11, 12, 16, 18, 21, 22, 24};
        return json_object_new_int64(rng_pick_long(r, v, 12));
    }
    if (strcmp(n, "min_age_years") == 0) {
        static const long v[] = {0, 1, 3, 3, 4, 6, 8, 10, 12, 14};
        return json_object_new_int64(rng_pick_long(r, v, 10));
    }
    if (strcmp(n, "min_players") == 0) {
        return json_object_new_int64(rng_range(r, 1, 3));
    }
    if (strcmp(n, "max_players") == 0) {
        return json_object_new_int64(rng_range(r, 4, 8));
    }
    if (strcmp(n, "pieces") == 0) {
        return json_object_new_int64(rng_range(r, 10, 400) * 10);
    }
    size_t len = strlen(n);
    if (len > 3 && strcmp(n + len - 3, "_cm") == 0) {
        return json_object_new_int64(rng_range(r, 2, 20) * 10);
    }
    if (len > 3 && strcmp(n + len - 3, "_gb") == 0) {
        return json_object_new_int64(1L << rng_range(r, 5, 9));
    }
    return json_object_new_int64(rng_range(r, 1, 20));
}

static json_object *
gen_number(struct gen *g, const struct attr *a)
{
    struct rng *r = g->rng;
    const char *n = a->name;
    if (strcmp(n, "screen_in") == 0) {
        static const long v[] = {133, 136, 140, 156, 156, 160, 173};
        return number_value((double)rng_pick_long(r, v, 7) / 10.0);
    }
    if (strcmp(n, "megapixels") == 0) {
        static const long v[] = {120, 161, 201, 242, 242, 261, 304, 457};
        return number_value((double)rng_pick_long(r, v, 8) / 10.0);
    }
    if (strcmp(n, "size_eu") == 0) {
        /* 36 to 46 in half sizes, most around 40 to 43 */
        double s = 36.0 + 0.5 * (double)(rng_range(r, 0, 10) + rng_range(r, 0, 10));
        return number_value(s);
    }
    if (strcmp(n, "wheel_size_in") == 0) {
        static const long v[] = {260, 275, 280, 280, 290};
        return number_value((double)rng_pick_long(r, v, 5) / 10.0);
    }
    return number_value((double)rng_range(r, 10, 1000) / 10.0);
}

static json_object *
gen_boolean(struct gen *g, const struct attr *a)
{
    static const struct {
        const char *name;
        double p;
    } odds[] = {
        {"unlocked", 0.7},  {"dual_sim", 0.4},  {"wireless", 0.6},   {"noise_cancelling", 0.3},
        {"sofa_bed", 0.15}, {"extendable", 0.3}, {"assembly_required", 0.3}, {"electric", 0.12},
        {"battery_powered", 0.35}, {"complete", 0.88},
    };
    double p = 0.5;
    for (size_t i = 0; i < sizeof(odds) / sizeof(odds[0]); i++) {
        if (strcmp(odds[i].name, a->name) == 0) {
            p = odds[i].p;
        }
    }
    if (strcmp(a->name, "battery_powered") == 0 && (is_cat(g, "board_games") || is_cat(g, "building_sets"))) {
        p = 0.03;
    }
    return json_object_new_boolean(rng_chance(g->rng, p));
}

static json_object *
gen_enum(struct gen *g, const struct attr *a)
{
    int weights[64];
    const char *values[64];
    size_t n = 0;
    for (const struct demo_weighted *w = demo_enum_weights; w->attr != NULL && n < 64; w++) {
        if (strcmp(w->attr, a->name) == 0 && enum_has(a, w->value)) {
            values[n] = w->value;
            weights[n++] = w->weight;
        }
    }
    if (n > 0) {
        return json_object_new_string(values[rng_weighted(g->rng, weights, n)]);
    }
    return json_object_new_string(a->values[rng_next(g->rng) % a->nvalues]);
}

/* Every required attribute, some optional ones, the product's own always. */
static json_object *
gen_attributes(struct gen *g)
{
    json_object *attrs = json_object_new_object();
    g->attrs = attrs;
    for (size_t i = 0; i < g->cat->nattrs; i++) {
        const struct attr *a = g->cat->attrs[i];
        char buf[128];
        const char *fixed = product_attr(g->prod, a->name, buf, sizeof(buf));
        if (fixed != NULL && strcmp(fixed, "-") == 0 && !a->required) {
            continue;
        }
        size_t nl = strlen(a->name);
        if (fixed == NULL && !a->required && is_cat(g, "furniture") && nl > 3 &&
            strcmp(a->name + nl - 3, "_cm") == 0) {
            continue;   /* a chair's or a lamp's size is not a guess */
        }
        json_object *v = fixed != NULL && strcmp(fixed, "-") != 0 ? value_from_text(a, fixed) : NULL;
        bool from_product = (strcmp(a->name, "brand") == 0 || strcmp(a->name, "author") == 0 ||
                             strcmp(a->name, "model") == 0) &&
                            g->prod != NULL && g->prod->brand != NULL;
        if (v == NULL && (a->required || from_product || rng_chance(g->rng, 0.55))) {
            switch (a->type) {
            case T_STRING:
                v = gen_string(g, a);
                break;
            case T_INTEGER:
                v = gen_integer(g, a);
                break;
            case T_NUMBER:
                v = gen_number(g, a);
                break;
            case T_BOOLEAN:
                v = gen_boolean(g, a);
                break;
            case T_ENUM:
                v = gen_enum(g, a);
                break;
            }
        }
        if (v != NULL) {
            json_object_object_add(attrs, a->name, v);
        }
    }
    /* a game for 3 to 2 players is not realistic */
    json_object *lo, *hi;
    if (json_object_object_get_ex(attrs, "min_players", &lo) && json_object_object_get_ex(attrs, "max_players", &hi) &&
        json_object_get_int64(hi) < json_object_get_int64(lo)) {
        json_object_object_add(attrs, "max_players", json_object_new_int64(json_object_get_int64(lo) + 2));
    }
    return attrs;
}

/* ---- prices and places ---------------------------------------------------------------------- */

static double
eur_rate(const char *currency)
{
    static const struct {
        const char *code;
        double rate;
    } rates[] = {{"GBP", 0.86}, {"CHF", 0.95}, {"PLN", 4.3}, {"SEK", 11.4}};
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        if (strcmp(rates[i].code, currency) == 0) {
            return rates[i].rate;
        }
    }
    return 1.0;
}

/* A price people would ask: 4.50, 18, 45, 120, 199, 1250 — in minor units. */
static long long
gen_price(struct rng *r, double eur, int cond, const char *currency)
{
    double a = eur * CONDITION_PRICE[cond] * (0.8 + 0.4 * rng_unit(r)) * eur_rate(currency);
    double step = a < 10 ? 0.5 : a < 100 ? (rng_chance(r, 0.5) ? 5 : 1) : a < 1000 ? (rng_chance(r, 0.5) ? 10 : 5) : 50;
    a = round(a / step) * step;
    if (a < 1) {
        a = 1;
    }
    if (a >= 20 && rng_chance(r, 0.15)) {
        a -= 1;   /* 49, 199 */
    }
    long long minor = llround(a * 100);
    return minor < 1 ? 1 : minor > 100000000 ? 100000000 : minor;
}

static size_t
pick_city(struct rng *r)
{
    int w[64];
    size_t n = demo_ncities < 64 ? demo_ncities : 64;
    for (size_t i = 0; i < n; i++) {
        w[i] = demo_cities[i].weight;
    }
    return rng_weighted(r, w, n);
}

/* A point within radius_km of the city centre, rounded to about a metre. */
static void
jitter(struct rng *r, const struct demo_city *c, double radius_km, double *lat, double *lon)
{
    double d = radius_km * sqrt(rng_unit(r)), t = 2 * M_PI * rng_unit(r);
    *lat = round((c->lat + d * cos(t) / 111.32) * 1e5) / 1e5;
    *lon = round((c->lon + d * sin(t) / (111.32 * cos(c->lat * M_PI / 180))) * 1e5) / 1e5;
}

static json_object *
location_json(const struct demo_city *c, double lat, double lon)
{
    char s[32];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "city", json_object_new_string(c->name));
    json_object_object_add(o, "country", json_object_new_string(c->country));
    snprintf(s, sizeof(s), "%.5f", lat);
    json_object_object_add(o, "lat", json_object_new_double_s(lat, s));
    snprintf(s, sizeof(s), "%.5f", lon);
    json_object_object_add(o, "lon", json_object_new_double_s(lon, s));
    return o;
}

/* ---- sellers --------------------------------------------------------------------------------- */

struct seller {
    char email[128];
    char password[48];
    char *display_name, *bio;
    size_t city;
    double lat, lon;
    char id[64];
    char token[128];
    bool ok, existed;
};

static struct seller *sellers;

static void
gen_seller(long i, struct seller *s)
{
    struct rng r = rng_for(opt.seed, STREAM_SELLER, (uint64_t)i);
    struct rng pw = rng_for(opt.seed, STREAM_PASSWORD, (uint64_t)i);
    const char *first = rng_pick(&r, demo_first_names), *last = rng_pick(&r, demo_last_names);
    s->city = pick_city(&r);
    const struct demo_city *c = &demo_cities[s->city];
    jitter(&r, c, 5.0, &s->lat, &s->lon);
    struct gen g = {.rng = &r, .city = c, .first = first, .last = last};
    struct sb name = {0}, bio = {0};
    double style = rng_unit(&r);
    if (style < 0.5) {
        const char *initial = last;
        while (*initial >= 'a' && *initial <= 'z' && strchr(initial, ' ') != NULL) {
            initial = strchr(initial, ' ') + 1;     /* "de Vries" → "V." */
        }
        sb_printf(&name, "%s %.*s.", first, (initial[0] & 0x80) ? 2 : 1, initial);
    } else if (style < 0.85) {
        sb_printf(&name, "%s %s", first, last);
    } else {
        expand(&name, rng_pick(&r, demo_shop_names), &g);
    }
    if (rng_chance(&r, 0.9)) {
        expand(&bio, rng_pick(&r, demo_bios), &g);
    }
    s->display_name = name.p;
    s->bio = bio.p != NULL ? bio.p : xstrdup("");
    snprintf(s->email, sizeof(s->email), "seller-%s-%04ld@demo.market.test", opt.suffix, i);
    snprintf(s->password, sizeof(s->password), "demo-%016llx", (unsigned long long)rng_next(&pw));
}

/* ---- listings -------------------------------------------------------------------------------- */

struct listing {
    char id[64];
    long seller;
    size_t cat;
    size_t city;
    bool draft, want_image, image_ok, created;
    long long seq;              /* the outbox position of its last event */
    char *title;
};

static struct listing *listings;

static size_t
pick_category(struct rng *r, long i)
{
    if ((size_t)i < ncats) {
        return (size_t)i;       /* the first listings cover every category */
    }
    int w[256];
    size_t n = ncats < 256 ? ncats : 256;
    for (size_t k = 0; k < n; k++) {
        w[k] = cats[k].weight;
    }
    return rng_weighted(r, w, n);
}

/* Sellers are not equally busy: a few have many listings, most a handful. */
static long
pick_seller(struct rng *r, long i)
{
    long s = i < opt.sellers ? i : (long)((double)opt.sellers * pow(rng_unit(r), 1.5));
    s = s < opt.sellers ? s : opt.sellers - 1;
    for (long k = 0; sellers != NULL && k < opt.sellers; k++) {
        long c = (s + k) % opt.sellers;
        if (sellers[c].ok) {
            return c;
        }
    }
    return s;
}

/* The generic product of a category without vocabulary: its name with a qualifier. */
static const struct demo_product *
generic_product(struct rng *r, const struct category *c, struct demo_product *out, char *buf, size_t n)
{
    static const char *const qualifiers[] = {"Vintage", "Quality", "Assorted", "Classic", "Handmade", NULL};
    const char *q = rng_pick(r, qualifiers);
    snprintf(buf, n, "%s %s", q, c->name);
    for (char *p = buf + strlen(q); *p != '\0'; p++) {
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    }
    *out = (struct demo_product){NULL, buf, 5 + (double)rng_range(r, 0, 95), NULL};
    return out;
}

/* Listing i's body, deterministic in (seed, i); fills rec's plan (category, seller, ...). */
static char *
gen_listing(long i, struct listing *rec)
{
    struct rng r = rng_for(opt.seed, STREAM_LISTING, (uint64_t)i);
    rec->cat = pick_category(&r, i);
    rec->seller = pick_seller(&r, i);
    const struct category *c = &cats[rec->cat];
    struct demo_product generic;
    char generic_name[128];
    const struct demo_product *p = c->vocab != NULL && c->vocab->nproducts > 0
                                       ? &c->vocab->products[rng_next(&r) % c->vocab->nproducts]
                                       : generic_product(&r, c, &generic, generic_name, sizeof(generic_name));
    int cond = (int)rng_weighted(&r, CONDITION_WEIGHTS, 5);
    size_t home = sellers != NULL ? sellers[rec->seller].city : pick_city(&r);
    rec->city = rng_chance(&r, 0.85) ? home : pick_city(&r);
    const struct demo_city *city = &demo_cities[rec->city];
    double lat, lon;
    jitter(&r, city, 4.0, &lat, &lon);
    rec->draft = rng_chance(&r, 0.03);
    rec->want_image = opt.images_every > 0 && (i + 1) % opt.images_every == 0;

    struct gen g = {.rng = &r, .cat = c, .prod = p, .cond = cond, .city = city};
    json_object *attrs = gen_attributes(&g);

    struct sb title = {0}, desc = {0};
    expand_one(&title, c->vocab != NULL ? c->vocab->titles : demo_generic_titles, "[{brand} ]{model}", &g);
    tidy_title(&title, 120);
    if (title.len < 3) {
        sb_clear(&title);
        sb_printf(&title, "%s item", c->name);
    }

    /* Description: how it is, something about it, the facts, how to get it. */
    expand(&desc, rng_pick(&r, demo_cond_openings[cond]), &g);
    const char *const *details = c->vocab != NULL ? c->vocab->details : demo_generic_details;
    size_t nd = demo_count(details);
    size_t d1 = rng_next(&r) % nd, d2 = rng_next(&r) % nd;
    sb_puts(&desc, " ");
    expand(&desc, details[d1], &g);
    if (d2 != d1 && rng_chance(&r, 0.6)) {
        sb_puts(&desc, " ");
        expand(&desc, details[d2], &g);
    }
    if (json_object_object_length(attrs) > 0 && rng_chance(&r, 0.8)) {
        sb_puts(&desc, "\n");
        json_object_object_foreach(attrs, name, v) {
            char label[64];
            const char *unit;
            attr_label(name, label, sizeof(label), &unit);
            if (label[0] >= 'a' && label[0] <= 'z') {
                label[0] = (char)(label[0] - 32);
            }
            if (json_object_is_type(v, json_type_boolean)) {
                sb_printf(&desc, "\n%s: %s", label, json_object_get_boolean(v) ? "yes" : "no");
            } else {
                sb_printf(&desc, "\n%s: %s%s", label, json_object_get_string(v), unit);
            }
        }
    }
    sb_puts(&desc, "\n\n");
    expand(&desc, rng_pick(&r, c->vocab != NULL && c->vocab->collection_only ? demo_collection : demo_shipping), &g);
    const char *closing = rng_pick(&r, demo_closings);
    if (closing[0] != '\0') {
        sb_puts(&desc, " ");
        sb_puts(&desc, closing);
    }

    json_object *body = json_object_new_object();
    json_object_object_add(body, "title", json_object_new_string(sb_str(&title)));
    json_object_object_add(body, "description", json_object_new_string(sb_str(&desc)));
    json_object_object_add(body, "category", json_object_new_string(c->slug));
    json_object_object_add(body, "condition", json_object_new_string(CONDITIONS[cond]));
    json_object_object_add(body, "price_minor",
                           json_object_new_int64(gen_price(&r, p->eur, cond, city->currency)));
    json_object_object_add(body, "currency", json_object_new_string(city->currency));
    json_object_object_add(body, "location", location_json(city, lat, lon));
    json_object_object_add(body, "attributes", attrs);
    if (rec->draft) {
        json_object_object_add(body, "status", json_object_new_string("draft"));
    }
    char *out = xstrdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    free(rec->title);
    rec->title = title.p;
    sb_free(&desc);
    json_object_put(body);
    return out;
}

/* ---- images ---------------------------------------------------------------------------------- */

#define IMAGE_VARIANTS 4

struct image {
    void *bytes;
    size_t len;
};

static struct image *images;   /* ncats * IMAGE_VARIANTS, made on first use */

/* A 640x480 JPEG of 15-40 KB: a gradient in the category's colour, grain, and a shape. */
static const struct image *
image_for(size_t cat, struct rng *r)
{
    size_t v = rng_next(r) % IMAGE_VARIANTS;
    struct image *img = &images[cat * IMAGE_VARIANTS + v];
    if (img->bytes != NULL) {
        return img;
    }
    struct rng ir = rng_for(opt.seed, STREAM_IMAGE, cat * IMAGE_VARIANTS + v);
    const unsigned char *rgb = cats[cat].rgb;
    double c[3] = {rgb[0], rgb[1], rgb[2]}, a[3], b[3], ink[3], ink2[3];
    for (int k = 0; k < 3; k++) {
        b[k] = fmin(255, c[k] * 1.25 + 20);    /* lighter at the left, darker at the right */
        a[k] = c[k] * 0.55 - b[k];
        ink[k] = 255 - c[k] * 0.6;
        ink2[k] = c[k] * 0.35;
    }
    double sigma = 3 + 4 * rng_unit(&ir);
    int q = 75;
    for (int attempt = 0; attempt < 4; attempt++) {
        VipsImage *grey = NULL, *grad = NULL, *noise = NULL, *sum = NULL, *u8 = NULL, *mem = NULL;
        void *buf = NULL;
        size_t len = 0;
        bool ok = vips_grey(&grey, 640, 480, NULL) == 0 && vips_linear(grey, &grad, a, b, 3, NULL) == 0 &&
                  vips_gaussnoise(&noise, 640, 480, "sigma", sigma, "mean", 0.0, "seed",
                                  (int)(rng_next(&ir) & 0x7fffffff), NULL) == 0 &&
                  vips_add(grad, noise, &sum, NULL) == 0 && vips_cast_uchar(sum, &u8, NULL) == 0 &&
                  (mem = vips_image_copy_memory(u8)) != NULL;
        if (ok) {
            int cx = (int)rng_range(&ir, 220, 420), cy = (int)rng_range(&ir, 160, 300);
            ok = vips_draw_circle(mem, ink, 3, cx, cy, (int)rng_range(&ir, 70, 140), "fill", TRUE, NULL) == 0 &&
                 vips_draw_rect(mem, ink2, 3, cx - 130, cy + 110, 260, 36, "fill", TRUE, NULL) == 0 &&
                 vips_jpegsave_buffer(mem, &buf, &len, "Q", q, "strip", TRUE, NULL) == 0;
        }
        VipsImage *all[] = {grey, grad, noise, sum, u8, mem};
        for (size_t k = 0; k < 6; k++) {
            if (all[k] != NULL) {
                g_object_unref(all[k]);
            }
        }
        if (!ok) {
            fprintf(stderr, "market_demo: libvips could not make an image: %s\n", vips_error_buffer());
            exit(1);
        }
        if ((len < 15 * 1024 || len > 40 * 1024) && attempt < 3) {
            q += len < 15 * 1024 ? 8 : -10;
            g_free(buf);
            continue;
        }
        img->bytes = buf;
        img->len = len;
        break;
    }
    return img;
}

/* ---- the request engine ------------------------------------------------------------------ */

enum step { ST_NONE, ST_REGISTER, ST_LOGIN, ST_PROFILE, ST_CREATE, ST_TICKET, ST_PUT, ST_ATTACH };
static const char *const STEP_NAMES[] = {
    "", "POST /users", "POST /sessions", "PATCH /users/me", "POST /listings", "POST /listings/{id}/images/uploads",
    "PUT upload_url", "POST /listings/{id}/images",
};

enum kind { K_SELLERS, K_LISTINGS };

struct phase {
    enum kind kind;
    long total, next, ok, failed;
    long images_total, images_ok, images_failed;
    long requests, retries;
    long new_sellers, existing_sellers, drafts;
    double t0, t1;
};

struct slot {
    CURL *h;
    struct curl_slist *hdrs;
    char *body;
    struct resp r;
    enum step step;
    long item;
    int tries;
    double wake;                /* waiting to retry until then; 0: not waiting */
    bool busy;
    char key[512], upload_url[4096], ctype[64], clen[32];
    const struct image *img;
};

static CURLM *multi;
static struct slot *slots;
static const char *stop_reason;   /* set: start no new item */

static void
slot_send(struct slot *s, const char *method, const char *url, const char *token, const void *body, size_t len,
          const char *content_type)
{
    curl_slist_free_all(s->hdrs);
    s->hdrs = NULL;
    easy_setup(s->h, url, &s->r);
    easy_request(s->h, method, token, NULL, body, len, content_type, &s->hdrs);
    curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
    curl_multi_add_handle(multi, s->h);
    s->busy = true;
}

static void
slot_api(struct slot *s, const char *method, const char *path, const char *token)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s/api/v1%s", opt.base, path);
    slot_send(s, method, url, token, s->body, s->body != NULL ? strlen(s->body) : 0, "application/json");
}

static void
set_body(struct slot *s, char *body)
{
    free(s->body);
    s->body = body;
}

static char *
json_take(json_object *o)
{
    char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s;
}

/* Sends the request of the slot's current step. */
static void
issue(struct slot *s)
{
    char path[256];
    struct seller *se = s->step <= ST_PROFILE ? &sellers[s->item] : NULL;
    struct listing *li = s->step >= ST_CREATE ? &listings[s->item] : NULL;
    const char *token = li != NULL ? sellers[li->seller].token : se->token;
    json_object *o;
    switch (s->step) {
    case ST_REGISTER:
        o = json_object_new_object();
        json_object_object_add(o, "email", json_object_new_string(se->email));
        json_object_object_add(o, "password", json_object_new_string(se->password));
        json_object_object_add(o, "display_name", json_object_new_string(se->display_name));
        set_body(s, json_take(o));
        slot_api(s, "POST", "/users", NULL);
        break;
    case ST_LOGIN:
        o = json_object_new_object();
        json_object_object_add(o, "email", json_object_new_string(se->email));
        json_object_object_add(o, "password", json_object_new_string(se->password));
        set_body(s, json_take(o));
        slot_api(s, "POST", "/sessions", NULL);
        break;
    case ST_PROFILE:
        o = json_object_new_object();
        json_object_object_add(o, "display_name", json_object_new_string(se->display_name));
        json_object_object_add(o, "bio", json_object_new_string(se->bio));
        json_object_object_add(o, "location", location_json(&demo_cities[se->city], se->lat, se->lon));
        set_body(s, json_take(o));
        slot_api(s, "PATCH", "/users/me", se->token);
        break;
    case ST_CREATE:
        set_body(s, gen_listing(s->item, li));
        slot_api(s, "POST", "/listings", sellers[li->seller].token);
        break;
    case ST_TICKET: {
        struct rng r = rng_for(opt.seed, STREAM_IMAGE, (uint64_t)s->item + (1ULL << 40));
        s->img = image_for(li->cat, &r);
        o = json_object_new_object();
        json_object_object_add(o, "content_type", json_object_new_string("image/jpeg"));
        json_object_object_add(o, "size_bytes", json_object_new_int64((int64_t)s->img->len));
        set_body(s, json_take(o));
        snprintf(path, sizeof(path), "/listings/%s/images/uploads", li->id);
        slot_api(s, "POST", path, token);
        break;
    }
    case ST_PUT:
        set_body(s, NULL);
        slot_send(s, "PUT", s->upload_url, NULL, s->img->bytes, s->img->len, s->ctype);
        break;
    case ST_ATTACH:
        o = json_object_new_object();
        json_object_object_add(o, "key", json_object_new_string(s->key));
        set_body(s, json_take(o));
        snprintf(path, sizeof(path), "/listings/%s/images", li->id);
        slot_api(s, "POST", path, token);
        break;
    case ST_NONE:
        break;
    }
}

static void
go(struct slot *s, enum step step)
{
    s->step = step;
    s->tries = 0;
    issue(s);
}

static void
item_done(struct slot *s)
{
    s->step = ST_NONE;
}

static void
check_failures(struct phase *ph)
{
    long failed = ph->failed + ph->images_failed, done = ph->ok + ph->failed + ph->images_ok + ph->images_failed;
    if (stop_reason == NULL && failed >= 10 && failed * 4 > done) {
        stop_reason = "too many requests failed";
    }
}

/* The seller or listing of the slot failed at its current step. */
static void
fail_item(struct phase *ph, struct slot *s, long status, CURLcode cc)
{
    char what[160];
    snprintf(what, sizeof(what), "%s (%s %ld)", STEP_NAMES[s->step], ph->kind == K_SELLERS ? "seller" : "listing",
             s->item);
    record_error(what, status, cc, &s->r);
    if (s->step >= ST_TICKET) {
        ph->images_failed++;
    } else {
        ph->failed++;
        if (s->step == ST_CREATE && listings[s->item].want_image) {
            ph->images_failed++;      /* never attempted, but planned */
        }
    }
    check_failures(ph);
    item_done(s);
}

static long long
event_seq(const struct resp *r)
{
    char v[32];
    return resp_header(r, "x-event-seq", v, sizeof(v)) ? atoll(v) : 0;
}

/* A finished request: retry it, go on to the item's next step, or end the item. */
static void
on_done(struct phase *ph, struct slot *s, CURLcode cc)
{
    long status = 0;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    }
    ph->requests++;
    bool later = cc != CURLE_OK || status == 429 || status == 502 || status == 503 || status == 504;
    if (later && ++s->tries < MAX_TRIES && !interrupted) {
        char ra[16];
        double delay = resp_header(&s->r, "retry-after", ra, sizeof(ra)) ? fmin(atof(ra), 5.0) : 0.25 * s->tries;
        s->wake = now_s() + fmax(delay, 0.05);
        ph->retries++;
        return;
    }
    json_object *j = json_tokener_parse(sb_str(&s->r.body));
    struct seller *se = s->step <= ST_PROFILE ? &sellers[s->item] : NULL;
    struct listing *li = s->step >= ST_CREATE ? &listings[s->item] : NULL;
    const char *v, *v2;
    switch (s->step) {
    case ST_REGISTER:
        if (status == 201 || (status == 409 && opt.deterministic)) {
            se->existed = status == 409;
            go(s, ST_LOGIN);
        } else {
            fail_item(ph, s, status, cc);
        }
        break;
    case ST_LOGIN:
        if (status == 201 && (v = json_str(j, "token", NULL)) != NULL && (v2 = json_str(j, "user", "id")) != NULL) {
            snprintf(se->token, sizeof(se->token), "%s", v);
            snprintf(se->id, sizeof(se->id), "%s", v2);
            go(s, ST_PROFILE);
        } else {
            if (status == 401 && se->existed) {
                record_error("an existing demo seller's password differs (another generator version?)", status,
                             cc, NULL);
            }
            fail_item(ph, s, status, cc);
        }
        break;
    case ST_PROFILE:
        if (status == 200) {
            se->ok = true;
            ph->ok++;
            se->existed ? ph->existing_sellers++ : ph->new_sellers++;
            item_done(s);
        } else {
            fail_item(ph, s, status, cc);
        }
        break;
    case ST_CREATE:
        if (status == 201 && (v = json_str(j, "listing", "id")) != NULL) {
            snprintf(li->id, sizeof(li->id), "%s", v);
            li->created = true;
            li->seq = event_seq(&s->r);
            ph->ok++;
            ph->drafts += li->draft;
            if (li->want_image && stop_reason == NULL && !interrupted) {
                go(s, ST_TICKET);
            } else {
                ph->images_failed += li->want_image;
                item_done(s);
            }
        } else {
            fail_item(ph, s, status, cc);
        }
        break;
    case ST_TICKET:
        if (status == 201 && (v = json_str(j, "key", NULL)) != NULL && json_str(j, "upload_url", NULL) != NULL &&
            json_str(j, "headers", "Content-Type") != NULL) {
            snprintf(s->key, sizeof(s->key), "%s", v);
            snprintf(s->upload_url, sizeof(s->upload_url), "%s", json_str(j, "upload_url", NULL));
            snprintf(s->ctype, sizeof(s->ctype), "%s", json_str(j, "headers", "Content-Type"));
            go(s, ST_PUT);
        } else {
            fail_item(ph, s, status, cc);
        }
        break;
    case ST_PUT:
        if (status == 200 || status == 201) {
            go(s, ST_ATTACH);
        } else {
            fail_item(ph, s, status, cc);
        }
        break;
    case ST_ATTACH:
        if (status == 201) {
            li->image_ok = true;
            long long seq = event_seq(&s->r);
            li->seq = seq > li->seq ? seq : li->seq;
            ph->images_ok++;
            item_done(s);
        } else {
            fail_item(ph, s, status, cc);
        }
        break;
    case ST_NONE:
        break;
    }
    json_object_put(j);
}

static void
fmt_duration(char *out, size_t n, double s)
{
    if (s < 90) {
        snprintf(out, n, "%.0fs", s);
    } else if (s < 5400) {
        snprintf(out, n, "%.0fm%02.0fs", floor(s / 60), fmod(s, 60));
    } else {
        snprintf(out, n, "%.0fh%02.0fm", floor(s / 3600), fmod(s / 60, 60));
    }
}

static void
progress(const struct phase *ph, bool last)
{
    static double shown;
    double t = now_s();
    if (!last && t - shown < (opt.tty ? 0.2 : 5.0)) {
        return;
    }
    shown = t;
    double el = t - ph->t0;
    /* work units: an item is one request or three (a seller), an image three more */
    double done = (double)(ph->ok + ph->failed) + 3.0 * (double)(ph->images_ok + ph->images_failed);
    double total = (double)ph->total + 3.0 * (double)ph->images_total;
    char eta[32] = "-";
    if (done > 0 && done < total) {
        fmt_duration(eta, sizeof(eta), (total - done) * el / done);
    } else if (done >= total) {
        snprintf(eta, sizeof(eta), "0s");
    }
    char line[256];
    int n;
    if (ph->kind == K_SELLERS) {
        n = snprintf(line, sizeof(line), "sellers %ld/%ld", ph->ok, ph->total);
    } else {
        n = snprintf(line, sizeof(line), "listings %ld/%ld  images %ld/%ld", ph->ok, ph->total, ph->images_ok,
                     ph->images_total);
    }
    n += snprintf(line + n, sizeof(line) - (size_t)n, "  %.0f req/s  eta %s", el > 0 ? (double)ph->requests / el : 0.0,
                  eta);
    if (ph->failed + ph->images_failed > 0) {
        snprintf(line + n, sizeof(line) - (size_t)n, "  failed %ld", ph->failed + ph->images_failed);
    }
    if (opt.tty) {
        fprintf(stderr, "\r\033[K%s%s", line, last ? "\n" : "");
    } else {
        fprintf(stderr, "%s\n", line);
    }
}

/* Runs every item of the phase through --jobs slots. */
static void
run_phase(struct phase *ph)
{
    ph->t0 = now_s();
    for (;;) {
        double t = now_s();
        bool active = false;
        for (long k = 0; k < opt.jobs; k++) {
            struct slot *s = &slots[k];
            if (s->busy) {
                active = true;
                continue;
            }
            if (s->step != ST_NONE && s->wake > 0) {
                active = true;
                if (t >= s->wake) {
                    s->wake = 0;
                    issue(s);
                }
                continue;
            }
            if (s->step == ST_NONE && ph->next < ph->total && stop_reason == NULL && !interrupted) {
                s->item = ph->next++;
                go(s, ph->kind == K_SELLERS ? ST_REGISTER : ST_CREATE);
                active = true;
            }
        }
        if (!active) {
            break;
        }
        int running;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE) {
                continue;
            }
            struct slot *s;
            CURL *h = m->easy_handle;
            CURLcode cc = m->data.result;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&s);
            curl_multi_remove_handle(multi, h);
            s->busy = false;
            on_done(ph, s, cc);
        }
        progress(ph, false);
        curl_multi_poll(multi, NULL, 0, 20, NULL);
    }
    ph->t1 = now_s();
    progress(ph, true);
}

/* ---- start-up checks ---------------------------------------------------------------------- */

static void
die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("market_demo: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(code);
}

static void
check_stack(void)
{
    char url[1024];
    struct resp r = {0};
    snprintf(url, sizeof(url), "%s/healthz", opt.base);
    CURLcode cc = http_sync("GET", url, NULL, NULL, NULL, &r);
    if (cc != CURLE_OK) {
        die(2, "the stack at %s is not reachable (%s): start it with scripts/up", opt.base, curl_easy_strerror(cc));
    }
    if (r.status != 200) {
        die(2, "%s answers HTTP %ld: is this the marketplace stack?", url, r.status);
    }
    snprintf(url, sizeof(url), "%s/readyz", opt.base);
    cc = http_sync("GET", url, NULL, NULL, NULL, &r);
    if (cc == CURLE_OK && r.status >= 300 && r.status < 400) {
        die(2, "%s redirects (HTTP %ld): give the HTTPS URL, like https://localhost:8443", url, r.status);
    }
    if (cc != CURLE_OK) {
        die(2, "the stack is up but GET %s failed: %s", url, curl_easy_strerror(cc));
    }
    if (r.status != 200) {
        die(2, "the stack is up but not ready: GET %s gave HTTP %ld %.300s", url, r.status, sb_str(&r.body));
    }
    sb_free(&r.body);
    sb_free(&r.headers);
}

static enum attr_type
attr_type_of(const char *s)
{
    return strcmp(s, "integer") == 0   ? T_INTEGER
           : strcmp(s, "number") == 0  ? T_NUMBER
           : strcmp(s, "boolean") == 0 ? T_BOOLEAN
           : strcmp(s, "enum") == 0    ? T_ENUM
                                       : T_STRING;
}

static void
load_categories(void)
{
    char url[1024];
    struct resp r = {0};
    snprintf(url, sizeof(url), "%s/api/v1/categories", opt.base);
    CURLcode cc = http_sync("GET", url, NULL, NULL, NULL, &r);
    json_object *doc = cc == CURLE_OK && r.status == 200 ? json_tokener_parse(sb_str(&r.body)) : NULL;
    json_object *list = json_path(doc, "categories", NULL);
    if (list == NULL || !json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0) {
        die(2, "GET %s gave no categories (HTTP %ld)", url, r.status);
    }
    ncats = json_object_array_length(list);
    cats = xrealloc(NULL, ncats * sizeof(*cats));
    memset(cats, 0, ncats * sizeof(*cats));
    for (size_t i = 0; i < ncats; i++) {
        json_object *c = json_object_array_get_idx(list, i), *attrs = json_path(c, "attributes", NULL);
        struct category *k = &cats[i];
        k->slug = xstrdup(json_str(c, "slug", NULL) ? json_str(c, "slug", NULL) : "");
        k->name = xstrdup(json_str(c, "name", NULL) ? json_str(c, "name", NULL) : k->slug);
        k->parent = json_str(c, "parent", NULL) ? xstrdup(json_str(c, "parent", NULL)) : NULL;
        k->nown = attrs != NULL ? json_object_array_length(attrs) : 0;
        k->own = xrealloc(NULL, (k->nown + 1) * sizeof(*k->own));
        for (size_t a = 0; a < k->nown; a++) {
            json_object *ao = json_object_array_get_idx(attrs, a), *vals = json_path(ao, "values", NULL);
            struct attr *at = &k->own[a];
            at->name = xstrdup(json_str(ao, "name", NULL) ? json_str(ao, "name", NULL) : "");
            at->type = attr_type_of(json_str(ao, "type", NULL) ? json_str(ao, "type", NULL) : "string");
            at->required = json_object_get_boolean(json_path(ao, "required", NULL));
            at->nvalues = vals != NULL ? json_object_array_length(vals) : 0;
            at->values = xrealloc(NULL, (at->nvalues + 1) * sizeof(char *));
            for (size_t v = 0; v < at->nvalues; v++) {
                at->values[v] = xstrdup(json_object_get_string(json_object_array_get_idx(vals, v)));
            }
            if (at->type == T_ENUM && at->nvalues == 0) {
                at->type = T_STRING;
            }
        }
        k->weight = 2;
        uint64_t h = mix64(strlen(k->slug) * 131 + (uint64_t)k->slug[0]);
        k->rgb[0] = (unsigned char)(h & 0xff);
        k->rgb[1] = (unsigned char)((h >> 8) & 0xff);
        k->rgb[2] = (unsigned char)((h >> 16) & 0xff);
        for (size_t v = 0; v < demo_nvocabs; v++) {
            if (strcmp(demo_vocabs[v].slug, k->slug) == 0) {
                k->vocab = &demo_vocabs[v];
                k->weight = demo_vocabs[v].weight;
                memcpy(k->rgb, demo_vocabs[v].rgb, 3);
            }
        }
    }
    /* The attributes of each category: its ancestors' (root first), then its own. */
    for (size_t i = 0; i < ncats; i++) {
        struct category *chain[16];
        size_t depth = 0, n = 0;
        for (struct category *k = &cats[i]; k != NULL && depth < 16; k = category_find(k->parent)) {
            chain[depth++] = k;
            n += k->nown;
        }
        cats[i].root = chain[depth - 1]->slug;
        cats[i].attrs = xrealloc(NULL, (n + 1) * sizeof(*cats[i].attrs));
        for (size_t d = depth; d-- > 0;) {
            for (size_t a = 0; a < chain[d]->nown; a++) {
                cats[i].attrs[cats[i].nattrs++] = &chain[d]->own[a];
            }
        }
    }
    json_object_put(doc);
    sb_free(&r.body);
    sb_free(&r.headers);
}

/* ---- after the writes: the read model ------------------------------------------------------ */

/* GET a listing (with the seller's token when given) into *doc; the HTTP status. */
static long
get_listing(const char *id, const char *token, long long min_seq, bool *stale, json_object **doc)
{
    char url[1024], hdr[64];
    struct resp r = {0};
    snprintf(url, sizeof(url), "%s/api/v1/listings/%s", opt.base, id);
    snprintf(hdr, sizeof(hdr), "X-Min-Seq: %lld", min_seq);
    http_sync("GET", url, token, min_seq > 0 ? hdr : NULL, NULL, &r);
    char v[8];
    if (stale != NULL) {
        *stale = resp_header(&r, "x-read-stale", v, sizeof(v));
    }
    if (doc != NULL) {
        *doc = r.status == 200 ? json_tokener_parse(sb_str(&r.body)) : NULL;
    }
    long status = r.status;
    sb_free(&r.body);
    sb_free(&r.headers);
    return status;
}

/* The projector's position and backlog from /metrics (served to loopback only); false when
 * they cannot be read. */
static bool
read_outbox_metrics(long long *applied, long long *pending)
{
    char url[1024];
    struct resp r = {0};
    snprintf(url, sizeof(url), "%s/metrics", opt.base);
    bool ok = http_sync("GET", url, NULL, NULL, NULL, &r) == CURLE_OK && r.status == 200;
    const char *a = ok ? strstr(sb_str(&r.body), "\nmarket_outbox_applied_seq ") : NULL;
    const char *p = ok ? strstr(sb_str(&r.body), "\nmarket_outbox_pending_events ") : NULL;
    ok = a != NULL && p != NULL;
    if (ok) {
        *applied = atoll(a + strlen("\nmarket_outbox_applied_seq "));
        *pending = atoll(p + strlen("\nmarket_outbox_pending_events "));
    }
    sb_free(&r.body);
    sb_free(&r.headers);
    return ok;
}

struct checks {
    double catch_up_s;          /* < 0: did not catch up */
    double projector_rate;      /* events/s while waiting; 0: unknown */
    int read_ok, read_n;
    int draft_ok, draft_n;
    int thumb_ok, thumb_n;
};

static bool
first_thumb(json_object *doc, char *url, size_t n)
{
    json_object *imgs = json_path(json_path(doc, "listing", NULL), "images", NULL);
    if (imgs == NULL || json_object_array_length(imgs) == 0) {
        return false;
    }
    json_object *t = json_path(json_object_array_get_idx(imgs, 0), "thumb_url", NULL);
    if (t == NULL || !json_object_is_type(t, json_type_string)) {
        return false;
    }
    snprintf(url, n, "%s", json_object_get_string(t));
    return true;
}

static void
verify(struct checks *ck)
{
    memset(ck, 0, sizeof(*ck));
    ck->catch_up_s = -1;
    long last = -1, last_img = -1;
    for (long i = 0; i < opt.listings; i++) {
        if (listings[i].created && (last < 0 || listings[i].seq > listings[last].seq)) {
            last = i;
        }
        if (listings[i].image_ok && (last_img < 0 || listings[i].seq > listings[last_img].seq)) {
            last_img = i;
        }
    }
    if (last < 0) {
        return;
    }
    /* The listing whose event came last: once it is there, the projector has caught up.
     * It may be far behind the writers (see README, Demo data), so wait as long as it makes
     * progress: while /metrics shows its position moving, or CATCH_UP_S without metrics. */
    double t0 = now_s(), moved = t0, shown = 0;
    long long applied0 = -1, applied_prev = -1, applied, pending;
    bool metrics = false;
    for (;;) {
        bool stale = true;
        long st = get_listing(listings[last].id, sellers[listings[last].seller].token, listings[last].seq, &stale,
                              NULL);
        double t = now_s();
        if (st == 200 && !stale) {
            ck->catch_up_s = t - t0;
            break;
        }
        if (read_outbox_metrics(&applied, &pending)) {
            metrics = true;
            if (applied0 < 0) {
                applied0 = applied;
            }
            if (applied != applied_prev) {
                applied_prev = applied;
                moved = t;
            }
            if (t - t0 > 1 && applied > applied0) {
                ck->projector_rate = (double)(applied - applied0) / (t - t0);
            }
            char eta[32] = "-";
            if (ck->projector_rate > 0) {
                fmt_duration(eta, sizeof(eta), (double)pending / ck->projector_rate);
            }
            if (opt.tty || t - shown >= 5) {
                shown = t;
                fprintf(stderr, opt.tty ? "\r\033[Kread model: %lld events to project  %.0f events/s  eta %s"
                                        : "read model: %lld events to project  %.0f events/s  eta %s\n",
                        pending, ck->projector_rate, eta);
            }
        }
        if (interrupted || t - moved > (metrics ? STALL_S : CATCH_UP_S)) {
            break;
        }
        if (st != 200) {
            usleep(200 * 1000);
        }
    }
    if (metrics && opt.tty) {
        fputc('\n', stderr);
    }
    /* A sample of active listings, read as anyone would. */
    long created = 0;
    for (long i = 0; i < opt.listings; i++) {
        created += listings[i].created && !listings[i].draft;
    }
    long step = created > 5 ? created / 5 : 1, seen = 0;
    for (long i = 0; i < opt.listings && ck->read_n < 5; i++) {
        if (!listings[i].created || listings[i].draft || seen++ % step != 0) {
            continue;
        }
        json_object *doc = NULL;
        ck->read_n++;
        if (get_listing(listings[i].id, NULL, 0, NULL, &doc) == 200) {
            const char *title = json_str(json_path(doc, "listing", NULL), "title", NULL);
            const char *seller = json_str(json_path(doc, "listing", NULL), "seller_id", NULL);
            ck->read_ok += title != NULL && strcmp(title, listings[i].title) == 0 && seller != NULL &&
                           strcmp(seller, sellers[listings[i].seller].id) == 0;
        }
        json_object_put(doc);
    }
    /* Drafts: hidden from others, visible to their seller. */
    for (long i = 0; i < opt.listings && ck->draft_n < 2; i++) {
        if (listings[i].created && listings[i].draft) {
            ck->draft_n++;
            ck->draft_ok += get_listing(listings[i].id, NULL, 0, NULL, NULL) == 404 &&
                            get_listing(listings[i].id, sellers[listings[i].seller].token, 0, NULL, NULL) == 200;
        }
    }
    /* Thumbnails: wait for the last image's, then fetch a few. */
    if (last_img < 0) {
        return;
    }
    long with_img = 0;
    for (long i = 0; i < opt.listings; i++) {
        with_img += listings[i].image_ok;
    }
    long istep = with_img > 3 ? with_img / 3 : 1, iseen = 0;
    for (long i = 0; i <= last_img && ck->thumb_n < 4; i++) {
        bool pick = listings[i].image_ok && (iseen++ % istep == 0 || i == last_img);
        if (!pick) {
            continue;
        }
        ck->thumb_n++;
        char thumb[2048] = "";
        double t1 = now_s();
        while (now_s() - t1 < (i == last_img ? CATCH_UP_S : 10) && !interrupted) {
            json_object *doc = NULL;
            get_listing(listings[i].id, sellers[listings[i].seller].token, 0, NULL, &doc);
            bool have = first_thumb(doc, thumb, sizeof(thumb));
            json_object_put(doc);
            if (have) {
                break;
            }
            usleep(200 * 1000);
        }
        if (thumb[0] != '\0') {
            struct resp r = {0};
            char ct[64] = "";
            http_sync("GET", thumb, NULL, NULL, NULL, &r);
            resp_header(&r, "content-type", ct, sizeof(ct));
            ck->thumb_ok += r.status == 200 && strcmp(ct, "image/jpeg") == 0 && r.body.len > 0;
            sb_free(&r.body);
            sb_free(&r.headers);
        }
    }
}

/* ---- the credentials file ------------------------------------------------------------------- */

static void
mkdirs_for(const char *path)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = dir + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    }
}

static bool
write_sellers(const char *path)
{
    json_object *root = json_object_new_object(), *list = json_object_new_array();
    char stamp[32];
    time_t t = time(NULL);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    json_object_object_add(root, "base", json_object_new_string(opt.base));
    json_object_object_add(root, "created_at", json_object_new_string(stamp));
    json_object_object_add(root, "seed", json_object_new_uint64(opt.seed));
    json_object_object_add(root, "deterministic", json_object_new_boolean(opt.deterministic));
    for (long i = 0; i < opt.sellers; i++) {
        struct seller *s = &sellers[i];
        if (!s->ok) {
            continue;
        }
        json_object *o = json_object_new_object(), *ids = json_object_new_array();
        json_object_object_add(o, "id", json_object_new_string(s->id));
        json_object_object_add(o, "email", json_object_new_string(s->email));
        json_object_object_add(o, "password", json_object_new_string(s->password));
        json_object_object_add(o, "token", json_object_new_string(s->token));
        json_object_object_add(o, "display_name", json_object_new_string(s->display_name));
        json_object_object_add(o, "city", json_object_new_string(demo_cities[s->city].name));
        for (long k = 0; k < opt.listings; k++) {
            if (listings != NULL && listings[k].created && listings[k].seller == i) {
                json_object_array_add(ids, json_object_new_string(listings[k].id));
            }
        }
        json_object_object_add(o, "listings", ids);
        json_object_array_add(list, o);
    }
    json_object_object_add(root, "sellers", list);
    mkdirs_for(path);
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f != NULL;
    if (ok) {
        fchmod(fileno(f), 0600);   /* passwords and tokens, even if only of demo accounts */
        ok = fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE), f) >= 0;
        ok = fputc('\n', f) != EOF && ok;
        ok = fclose(f) == 0 && ok;
        ok = ok && rename(tmp, path) == 0;
    }
    if (!ok) {
        fprintf(stderr, "market_demo: cannot write %s: %s\n", path, strerror(errno));
    }
    json_object_put(root);
    return ok;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void
usage(FILE *f)
{
    fputs("usage: market_demo [--base URL] [--listings N] [--sellers N] [--images-every K] [--seed S]\n"
          "                   [--jobs J] [--out FILE] [--sample N]\n"
          "  --base URL          the stack (default https://localhost:8443; localhost is reached as 127.0.0.1)\n"
          "  --listings N        listings to create (default 5000)\n"
          "  --sellers N         sellers to register (default 200)\n"
          "  --images-every K    a generated JPEG on every K-th listing (default 10; 0: none)\n"
          "  --seed S            deterministic data and seller accounts: a second run with the same seed\n"
          "                      logs the existing sellers in (default: a new seed and new sellers per run)\n"
          "  --jobs J            requests in flight (default 4)\n"
          "  --out FILE          sellers' credentials and listing ids (default var/demo-sellers.json)\n"
          "  --sample N          print N generated listing bodies (JSON lines) and exit; writes nothing\n"
          "  --no-wait           do not wait for the read model to show the data (scripts/bench-projector)\n",
          f);
}

static long
num_arg(const char *name, const char *v, long lo, long hi)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || end == v || n < lo || n > hi) {
        fprintf(stderr, "market_demo: %s must be an integer from %ld to %ld, not '%s'\n", name, lo, hi, v);
        exit(2);
    }
    return n;
}

static void
parse_args(int argc, char **argv)
{
    static const struct option longs[] = {
        {"base", required_argument, NULL, 'b'},   {"listings", required_argument, NULL, 'l'},
        {"sellers", required_argument, NULL, 's'}, {"images-every", required_argument, NULL, 'i'},
        {"seed", required_argument, NULL, 'S'},    {"jobs", required_argument, NULL, 'j'},
        {"out", required_argument, NULL, 'o'},     {"sample", required_argument, NULL, 'x'},
        {"no-wait", no_argument, NULL, 'W'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'b':
            snprintf(opt.base, sizeof(opt.base), "%s", optarg);
            break;
        case 'l':
            opt.listings = num_arg("--listings", optarg, 0, 10000000);
            break;
        case 's':
            opt.sellers = num_arg("--sellers", optarg, 1, 1000000);
            break;
        case 'i':
            opt.images_every = num_arg("--images-every", optarg, 0, 1000000);
            break;
        case 'S':
            opt.seed = (uint64_t)num_arg("--seed", optarg, 0, 2147483647);
            opt.deterministic = true;
            break;
        case 'j':
            opt.jobs = num_arg("--jobs", optarg, 1, 256);
            break;
        case 'o':
            opt.out = optarg;
            break;
        case 'x':
            opt.sample = num_arg("--sample", optarg, 1, 100000);
            break;
        case 'W':
            opt.no_wait = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "market_demo: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        exit(2);
    }
    size_t len = strlen(opt.base);
    while (len > 0 && opt.base[len - 1] == '/') {
        opt.base[--len] = '\0';
    }
    if (strncmp(opt.base, "https://", 8) != 0 && strncmp(opt.base, "http://", 7) != 0) {
        fprintf(stderr, "market_demo: --base must be an http:// or https:// URL, not '%s'\n", opt.base);
        exit(2);
    }
    if (opt.deterministic) {
        snprintf(opt.suffix, sizeof(opt.suffix), "s%llu", (unsigned long long)opt.seed);
    } else {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        opt.seed = mix64((uint64_t)t.tv_sec * 1000000007ULL ^ (uint64_t)t.tv_nsec ^ ((uint64_t)getpid() << 32)) &
                   0x7fffffff;
        snprintf(opt.suffix, sizeof(opt.suffix), "r%llx%llx", (unsigned long long)(t.tv_sec & 0xfffff),
                 (unsigned long long)(opt.seed & 0xfff));
    }
}

/* Connect to 127.0.0.1 for localhost (nginx exempts it from the per-address limits; IPv6
 * ::1 is exempt too but the stack listens on 127.0.0.1 only) and for the media host. */
static void
set_resolve(void)
{
    const char *h = strstr(opt.base, "://") + 3;
    const char *end = h + strcspn(h, ":/");
    int port = *end == ':' ? atoi(end + 1) : (strncmp(opt.base, "https", 5) == 0 ? 443 : 80);
    char entry[64];
    snprintf(entry, sizeof(entry), "localhost:%d:127.0.0.1", port);
    resolve = curl_slist_append(resolve, entry);
}

int
main(int argc, char **argv)
{
    parse_args(argc, argv);
    opt.tty = isatty(STDERR_FILENO);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || VIPS_INIT(argv[0]) != 0) {
        die(1, "cannot initialise libcurl or libvips");
    }
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    set_resolve();
    check_stack();
    load_categories();

    sellers = xrealloc(NULL, (size_t)opt.sellers * sizeof(*sellers));
    memset(sellers, 0, (size_t)opt.sellers * sizeof(*sellers));
    for (long i = 0; i < opt.sellers; i++) {
        gen_seller(i, &sellers[i]);
        sellers[i].ok = opt.sample > 0;   /* a sample assumes every seller is there */
    }
    if (opt.sample > 0) {
        opt.listings = opt.sample;
        listings = xrealloc(NULL, (size_t)opt.sample * sizeof(*listings));
        memset(listings, 0, (size_t)opt.sample * sizeof(*listings));
        for (long i = 0; i < opt.sample; i++) {
            char *body = gen_listing(i, &listings[i]);
            puts(body);
            free(body);
        }
        return 0;
    }

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    listings = xrealloc(NULL, (size_t)(opt.listings + 1) * sizeof(*listings));
    memset(listings, 0, (size_t)(opt.listings + 1) * sizeof(*listings));
    images = xrealloc(NULL, ncats * IMAGE_VARIANTS * sizeof(*images));
    memset(images, 0, ncats * IMAGE_VARIANTS * sizeof(*images));
    multi = curl_multi_init();
    slots = xrealloc(NULL, (size_t)opt.jobs * sizeof(*slots));
    memset(slots, 0, (size_t)opt.jobs * sizeof(*slots));
    for (long k = 0; k < opt.jobs; k++) {
        slots[k].h = curl_easy_init();
    }
    fprintf(stderr, "market_demo: %ld sellers, %ld listings in %zu categories, an image every %ld, %ld in flight, "
                    "seed %llu, against %s\n",
            opt.sellers, opt.listings, ncats, opt.images_every, opt.jobs, (unsigned long long)opt.seed, opt.base);

    double t0 = now_s();
    struct phase ps = {.kind = K_SELLERS, .total = opt.sellers};
    run_phase(&ps);
    struct phase pl = {.kind = K_LISTINGS, .total = opt.listings};
    for (long i = 0; opt.images_every > 0 && i < opt.listings; i++) {
        pl.images_total += (i + 1) % opt.images_every == 0;
    }
    if (ps.ok == 0 && stop_reason == NULL) {
        stop_reason = "no seller could register and log in";
    }
    if (stop_reason == NULL && !interrupted) {
        run_phase(&pl);
    }
    bool wrote = write_sellers(opt.out);

    struct checks ck = {0};
    if (!interrupted && pl.ok > 0 && !opt.no_wait) {
        fprintf(stderr, "market_demo: waiting for the read model and checking a sample ...\n");
        verify(&ck);
    }
    double total = now_s() - t0;

    /* The summary. */
    char el[32];
    fmt_duration(el, sizeof(el), total);
    int cats_used[256] = {0}, cities_used[64] = {0};
    long ncat_used = 0, ncity_used = 0;
    for (long i = 0; i < opt.listings; i++) {
        if (listings[i].created) {
            ncat_used += listings[i].cat < 256 && cats_used[listings[i].cat]++ == 0;
            ncity_used += listings[i].city < 64 && cities_used[listings[i].city]++ == 0;
        }
    }
    double lt = pl.t1 > pl.t0 ? pl.t1 - pl.t0 : 0;
    printf("demo data against %s, seed %llu%s: %.1f s in all\n", opt.base, (unsigned long long)opt.seed,
           opt.deterministic ? "" : " (--seed with it repeats this content)", total);
    printf("  sellers   %ld ready (%ld new, %ld existing), %ld failed, in %.1f s\n", ps.ok, ps.new_sellers,
           ps.existing_sellers, ps.failed, ps.t1 - ps.t0);
    printf("  listings  %ld created (%ld drafts) in %ld categories and %ld cities, %ld failed, in %.1f s: "
           "%.1f listings/s, %.0f req/s\n",
           pl.ok, pl.drafts, ncat_used, ncity_used, pl.failed, lt, lt > 0 ? (double)pl.ok / lt : 0.0,
           lt > 0 ? (double)pl.requests / lt : 0.0);
    printf("  images    %ld uploaded and attached of %ld, %ld failed\n", pl.images_ok, pl.images_total,
           pl.images_failed);
    if (ps.retries + pl.retries > 0) {
        printf("  retries   %ld (429/502/503/504 or connection errors)\n", ps.retries + pl.retries);
    }
    if (pl.ok > 0 && !interrupted && !opt.no_wait) {
        if (ck.catch_up_s >= 0) {
            printf("  read model caught up %.1f s after the last write", ck.catch_up_s);
        } else {
            printf("  read model did NOT catch up (the projector stopped making progress)");
        }
        if (ck.projector_rate > 0) {
            printf(" (projector %.0f events/s)", ck.projector_rate);
        }
        printf("; sampled listings readable %d/%d, drafts hidden %d/%d, thumbnails served %d/%d\n", ck.read_ok,
               ck.read_n, ck.draft_ok, ck.draft_n, ck.thumb_ok, ck.thumb_n);
    }
    if (wrote) {
        printf("  sellers' credentials and listing ids: %s\n", opt.out);
    }
    if (errors.n > 0) {
        fprintf(stderr, "first failures:\n");
        for (size_t i = 0; i < errors.n; i++) {
            fprintf(stderr, "  %s\n", errors.first[i]);
        }
    }
    long items = ps.total + pl.total + pl.images_total;
    long failed = ps.failed + pl.failed + pl.images_failed;
    if (interrupted) {
        fprintf(stderr, "market_demo: interrupted after %s\n", el);
        return 128 + interrupted;
    }
    if (stop_reason != NULL) {
        fprintf(stderr, "market_demo: error: stopped early: %s\n", stop_reason);
        return 1;
    }
    if (failed * 100 > items) {
        fprintf(stderr, "market_demo: error: %ld of %ld sellers, listings and images failed (over 1%%)\n", failed,
                items);
        return 1;
    }
    if (pl.ok > 0 && !opt.no_wait && (ck.catch_up_s < 0 || ck.read_ok < ck.read_n || ck.draft_ok < ck.draft_n ||
                      ck.thumb_ok < ck.thumb_n)) {
        fprintf(stderr, "market_demo: error: the read model does not show what was written (is the projector "
                        "running? scripts/stack start projector)\n");
        return 1;
    }
    return wrote ? 0 : 1;
}
