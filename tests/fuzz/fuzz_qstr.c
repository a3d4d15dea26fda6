/*
 * fuzz_qstr — query strings and the parameters read from them: the strict values of
 * core/qstr (UTF-8, integers, decimals), the browse and search parameters
 * (domain/search.c: search_parse, with a category tree of every attribute type), the
 * list parameters of favourites, reviews and orders (query/params.c) and X-Min-Seq.
 * Input: the query string (the part of the URI after '?').
 *
 * Promises checked:
 *   - qstr_utf8_valid agrees with a reference RFC 3629 decoder and with json_strict's
 *     validator, on the raw bytes;
 *   - qstr_int accepts exactly -?[0-9]+ within its bounds, with strtoll's value; qstr_decimal
 *     accepts only -?[0-9]+(.[0-9]+)?([eE][+-]?[0-9]+)?, finite and within bounds; an
 *     integer is a decimal of the same value;
 *   - search_parse: an accepted query has a limit in 1..100, at most 8 words of 2 or more
 *     bytes, min_price <= max_price, a radius only with near, lat/lon in range, a seller
 *     in lower case; its canonical form (which keys cursors and page caches) names every
 *     parameter but cursor, limit and sort exactly once, and splits back into exactly
 *     those parameters (two different queries never share a canonical form);
 *   - query_limit gives 1..100, 20 when absent.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/http.h"
#include "core/ids.h"
#include "core/json_strict.h"
#include "core/log.h"
#include "core/qstr.h"
#include "domain/category.h"
#include "domain/search.h"
#include "query/params.h"

#define FUZZ_NAME "qstr"
#include "fuzz_main.h"
#include "fuzz_categories.h"

static arena_t *arena;
static struct category_set *cats;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    arena = arena_create(16384);
    log_init("fuzz", "error");
    cats = fuzz_categories();
    return 0;
}

/* -?[0-9]+ , or with fraction and exponent when decimal */
static int
grammar(const char *s, int decimal)
{
    const char *p = s;
    if (*p == '-') {
        p++;
    }
    if (!(*p >= '0' && *p <= '9')) {
        return 0;
    }
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    if (decimal && *p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) {
            return 0;
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    if (decimal && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '+' || *p == '-') {
            p++;
        }
        if (!(*p >= '0' && *p <= '9')) {
            return 0;
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    return *p == '\0';
}

static void
check_numbers(const char *v)
{
    long long n = 0;
    double d = 0;
    bool is_int = qstr_int(v, -1000000, 1000000, &n);
    bool is_dec = qstr_decimal(v, -1e6, 1e6, &d);
    if (is_int) {
        FUZZ_ASSERT(grammar(v, 0) && n >= -1000000 && n <= 1000000 && n == strtoll(v, NULL, 10),
                    "qstr_int: -?[0-9]+ in bounds, strtoll's value");
        FUZZ_ASSERT(is_dec && d == (double)n, "an integer is a decimal of the same value");
    } else if (grammar(v, 0) && strlen(v) < 8) {
        long long ref = strtoll(v, NULL, 10);
        FUZZ_ASSERT(ref < -1000000 || ref > 1000000, "qstr_int refuses only what is out of bounds");
    }
    if (is_dec) {
        FUZZ_ASSERT(grammar(v, 1) && isfinite(d) && d >= -1e6 && d <= 1e6, "qstr_decimal: grammar, finite, bounds");
    }
    long long big;
    if (qstr_int(v, 0, LLONG_MAX, &big)) {
        FUZZ_ASSERT(big >= 0 && grammar(v, 0) && (v[0] != '-' || big == 0), "X-Min-Seq: a non-negative decimal");
    }
}

static void
check_canonical(const struct request *r, const struct search_query *q)
{
    /* split the canonical form back: "sort=S" then "&name=value" pairs */
    char *c = arena_strdup(arena, q->canonical);
    FUZZ_ASSERT(strncmp(c, "sort=", 5) == 0, "the canonical form starts with the sort");
    size_t expected = 0;
    for (size_t i = 0; i < r->nquery; i++) {
        const char *n = r->query[i].name;
        expected += strcmp(n, "cursor") != 0 && strcmp(n, "limit") != 0 && strcmp(n, "sort") != 0;
    }
    size_t pieces = 0;
    for (char *p = c; *p != '\0'; p++) {
        pieces += *p == '&';
    }
    FUZZ_ASSERT(pieces == expected, "the canonical form splits into exactly the query's parameters");
    char *save = NULL;
    strtok_r(c, "&", &save);
    for (char *tok = strtok_r(NULL, "&", &save); tok != NULL; tok = strtok_r(NULL, "&", &save)) {
        FUZZ_ASSERT(strchr(tok, '=') != NULL, "each piece is name=value");
    }
}

static void
check_search(struct request *r)
{
    struct search_query q;
    int rc = search_parse(r, cats, "fuzz-secret", &q);
    if (rc != MK_OK) {
        FUZZ_ASSERT(rc == MK_EBADPARAM && r->err_message != NULL, "a refused query says why (400)");
        return;
    }
    FUZZ_ASSERT(q.limit >= 1 && q.limit <= SEARCH_MAX_LIMIT, "limit 1..100");
    FUZZ_ASSERT(q.nwords <= SEARCH_MAX_WORDS && q.nattrs <= SEARCH_MAX_ATTRS, "bounded words and filters");
    for (size_t i = 0; i < q.nwords; i++) {
        FUZZ_ASSERT(strlen(q.words[i]) >= 2, "a word has two or more bytes");
    }
    FUZZ_ASSERT(!(q.has_min && q.has_max) || q.min_price <= q.max_price, "min_price <= max_price");
    FUZZ_ASSERT(!q.has_min || (q.min_price >= 0 && q.min_price <= 100000000), "min_price in range");
    FUZZ_ASSERT(!q.has_max || (q.max_price >= 0 && q.max_price <= 100000000), "max_price in range");
    if (q.near) {
        FUZZ_ASSERT(q.lat >= -90 && q.lat <= 90 && q.lon >= -180 && q.lon <= 180, "near in range");
        FUZZ_ASSERT(q.radius_km > 0 && q.radius_km <= 20000, "radius in range");
    } else {
        FUZZ_ASSERT(http_query(r, "radius_km") == NULL, "no radius without near");
        FUZZ_ASSERT(q.sort != SORT_DISTANCE, "no distance sort without near");
    }
    FUZZ_ASSERT(q.sort != SORT_RELEVANCE || q.nwords > 0, "relevance needs words");
    FUZZ_ASSERT(q.seller == NULL || (uuid_valid(q.seller) && strpbrk(q.seller, "ABCDEF") == NULL),
                "seller: a lower-case UUID");
    FUZZ_ASSERT(q.category == NULL || category_find(cats, q.category) != NULL, "a known category");
    check_canonical(r, &q);
}

static void
check_list(struct request *r)
{
    static const char *const allowed[] = {"role", "cursor", "limit", NULL};
    int limit = -1;
    if (query_params_check(r, allowed) != MK_OK) {
        return;
    }
    if (query_limit(r, &limit) == MK_OK) {
        FUZZ_ASSERT(limit >= 1 && limit <= QUERY_MAX_LIMIT, "query_limit: 1..100");
        FUZZ_ASSERT(http_query(r, "limit") != NULL || limit == QUERY_DEFAULT_LIMIT, "the default limit");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int ref = fuzz_utf8_ref(data, size);
    FUZZ_ASSERT(qstr_utf8_valid((const char *)data, size) == (ref != 0), "qstr_utf8_valid agrees with RFC 3629");
    FUZZ_ASSERT((json_strict_utf8_valid((const char *)data, size) != 0) == (ref != 0),
                "json_strict_utf8_valid agrees with RFC 3629");
    char *s = fuzz_strndup(data, size);
    check_numbers(s);

    /* as a query string: a GET of the browse list (the query string stops at a NUL) */
    char *qs = arena_sprintf(arena, "QUERY_STRING=%s", s);
    char *uri = arena_sprintf(arena, "REQUEST_URI=/api/v1/listings?%s", s);
    char *env[] = {"REQUEST_METHOD=GET", uri, qs, NULL};
    struct request r;
    if (http_request_init(&r, arena, env, "", 0) == MK_OK) {
        for (size_t i = 0; i < r.nquery; i++) {
            check_numbers(r.query[i].value);
        }
        check_list(&r);
        r.err_message = NULL;
        check_search(&r);
    }
    arena_reset(arena);
    free(s);
    return 0;
}
