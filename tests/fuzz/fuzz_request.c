/*
 * Fuzz driver for the parsers of outside input: FastCGI parameters (method, URI, query
 * string, cookies, headers), routing, JSON bodies, listing bodies with their attributes, the
 * browse parameters and cursors, emails, and the orders parsers (order, address,
 * tracking and review bodies, Idempotency-Key, list parameters and cursors), the strict
 * JSON entry point on its own (POST /api/v1/strict), the strict query-string values (UTF-8,
 * decimal numbers: core/qstr) and the router's choice among overlapping patterns with UUID
 * folding. Input format: lines of NAME=value
 * parameters, a blank line, then the body.
 *
 * The end-to-end driver: server_handle() with a test route table, as the FastCGI loop
 * calls it. The other drivers of this directory each take one parser apart.
 * scripts/fuzz builds it with clang -fsanitize=fuzzer -DMK_LIBFUZZER; make check builds
 * it with gcc and replays tests/fuzz/corpus/request/ (fuzz_main.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cursor.h"
#include "core/errors.h"
#include "core/ids.h"
#include "core/json_strict.h"
#include "core/qstr.h"
#include "domain/category.h"
#include "fuzz_categories.h"
#include "domain/listing.h"
#include "domain/search.h"
#include "domain/user.h"
#include "core/log.h"
#include "core/server.h"
#include "domain/idempotency.h"
#include "domain/order.h"
#include "domain/review.h"
#include "query/params.h"

static int
echo_body(struct request *r)
{
    static const char *const allowed[] = {"title", "price_minor", "attributes", NULL};
    json_object *body;
    int rc = http_json_body(r, &body);
    if (rc == MK_OK) {
        rc = http_json_only(r, body, allowed);
    }
    return rc == MK_OK ? http_respond_json(r, 200, body) : rc;
}

static int
echo_params(struct request *r)
{
    json_object *o = http_json_own(r, json_object_new_object());
    for (size_t i = 0; i < r->nquery; i++) {
        json_object_object_add(o, r->query[i].name, json_object_new_string(r->query[i].value));
    }
    const char *id = http_path_param(r, "id");
    json_object_object_add(o, "id", json_object_new_string(id ? id : ""));
    json_object_object_add(o, "sid", json_object_new_string(http_cookie(r, "sid") ? http_cookie(r, "sid") : ""));
    return http_respond_json(r, 200, o);
}

/*
 * POST /api/v1/strict: the strict JSON entry point alone, with a nullable path, and checks
 * of what it promises: an accepted document has no U+0000 in any string and no null
 * outside the allowed path, and json-c agrees it is JSON.
 */
static void
check_tree(json_object *o, int depth)
{
    if (o == NULL) {
        return;
    }
    if (json_object_is_type(o, json_type_string) &&
        strlen(json_object_get_string(o)) != (size_t)json_object_get_string_len(o)) {
        abort();
    }
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            json_object *e = json_object_array_get_idx(o, i);
            if (e == NULL) {
                abort(); /* a null inside an array is never allowed */
            }
            check_tree(e, depth + 1);
        }
    }
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val) {
            if (val == NULL && !(depth == 0 && strcmp(key, "location") == 0)) {
                abort();
            }
            check_tree(val, depth + 1);
        }
    }
}

static int
fuzz_strict(struct request *r)
{
    static const char *const nullable[] = {"location", NULL};
    struct json_strict_error err;
    json_object *doc;
    int rc = json_strict_parse(r->body, r->body_len, nullable, &doc, &err);
    if (rc == MK_OK) {
        check_tree(doc, 0);
        json_object_put(doc);
    } else if (rc == MK_EVALIDATION) {
        json_strict_error_free(&err);
    }
    json_object *body;
    rc = http_json_body_nullable(r, nullable, &body);
    return rc == MK_OK ? http_respond_json(r, 200, body) : rc;
}


/* POST /api/v1/listings: a listing body, its attributes against the tree, and its words. */
static int
fuzz_listing(struct request *r)
{
    json_object *body;
    struct listing_input in;
    int rc = http_json_body(r, &body);
    if (rc == MK_OK && listing_parse(r, body, false, &in) == MK_OK) {
        rc = category_validate_attributes(fuzz_categories(), in.category, in.attributes, r);
        const char *words[64];
        search_words(r->arena, in.title, words, 64);
    } else if (rc == MK_OK) {
        rc = MK_EVALIDATION;
    }
    return rc == MK_OK ? http_respond_empty(r, 201) : rc;
}

/* GET /api/v1/listings: every browse parameter, typed by the tree, and the cursor. */
static int
fuzz_browse(struct request *r)
{
    struct search_query q;
    int rc = search_parse(r, fuzz_categories(), "fuzz", &q);
    return rc == MK_OK ? http_respond_empty(r, 204) : rc;
}

/* POST /api/v1/users: the email rules. */
static int
fuzz_register(struct request *r)
{
    json_object *body, *email;
    char *normalised;
    int rc = http_json_body(r, &body);
    if (rc == MK_OK && json_object_object_get_ex(body, "email", &email)) {
        if (user_email_normalise(r->arena, json_object_get_string(email), &normalised) == MK_OK) {
            user_email_key(r->arena, normalised);
        }
        user_password_problem(json_object_get_string(email));
    }
    return rc == MK_OK ? http_respond_empty(r, 204) : rc;
}

/* POST /api/v1/orders: the key, the request hash and the order body. */
static int
fuzz_order(struct request *r)
{
    const char *key = http_header(r, "Idempotency-Key");
    if (key == NULL || idem_key_problem(key) != NULL) {
        return http_fail(r, key == NULL ? MK_EPRECONDREQ : MK_EBADPARAM, NULL);
    }
    char hash[IDEM_HASH_HEX + 1];
    idem_request_hash(r->method, r->path, r->body, r->body_len, hash);
    json_object *body;
    int rc = http_json_body(r, &body);
    const char *listing, *offer;
    struct order_address ad;
    if (rc == MK_OK && (rc = order_parse_create(r, body, &listing, &offer, &ad)) == MK_OK) {
        rc = http_respond_raw(r, 201, "text/plain", arena_strdup(r->arena, hash), IDEM_HASH_HEX);
    }
    return rc;
}

/* POST /api/v1/orders/{id}/{ship,confirm,review}: the transition and review bodies. */
static int
fuzz_order_action(struct request *r)
{
    const char *action = strrchr(r->path, '/');
    json_object *body;
    int rc = MK_OK;
    if (strcmp(action, "/confirm") == 0) {
        rc = http_json_empty(r);
    } else if ((rc = http_json_body(r, &body)) == MK_OK) {
        struct order_tracking t;
        struct review_input in;
        rc = strcmp(action, "/ship") == 0 ? order_parse_tracking(r, body, &t) : review_parse(r, body, &in);
    }
    return rc == MK_OK ? http_respond_empty(r, 204) : rc;
}

/* GET /api/v1/orders: list parameters and a cursor. */
static int
fuzz_order_list(struct request *r)
{
    static const char *const allowed[] = {"role", "cursor", "limit", NULL};
    int limit;
    int rc = query_params_check(r, allowed);
    if (rc == MK_OK) {
        rc = query_limit(r, &limit);
    }
    const char *cursor = http_query(r, "cursor");
    long long key;
    char id[UUID_STR_LEN + 1];
    if (rc == MK_OK && cursor != NULL) {
        rc = cursor_decode("fuzz", "orders:any:u", cursor, &key, id);
    }
    return rc == MK_OK ? http_respond_empty(r, 204) : rc;
}

/* Any parameters: the strict value parsers, with their promises checked. */
static int
fuzz_numbers(struct request *r)
{
    for (size_t i = 0; i < r->nquery; i++) {
        const char *v = r->query[i].value;
        long long n;
        double d;
        if (!qstr_utf8_valid(v, strlen(v)) || !qstr_utf8_valid(r->query[i].name, strlen(r->query[i].name))) {
            abort();   /* http_request_init lets no invalid UTF-8 through */
        }
        bool is_int = qstr_int(v, -1000000, 1000000, &n);
        bool is_dec = qstr_decimal(v, -1e6, 1e6, &d);
        if (is_int && (n < -1000000 || n > 1000000 || !is_dec || d != (double)n)) {
            abort();   /* an integer is a decimal number of the same value */
        }
        if (is_dec && !(d >= -1e6 && d <= 1e6)) {
            abort();
        }
        if ((is_int || is_dec) && (v[0] == '+' || v[0] == ' ' || strpbrk(v, "xXnN") != NULL)) {
            abort();   /* no sign '+', white space, hex, inf or nan */
        }
    }
    return http_respond_empty(r, 204);
}

/* A route reached with a UUID: it is in lower case by now. */
static int
fuzz_ids(struct request *r)
{
    for (size_t i = 0; i < r->npath_params; i++) {
        const char *v = r->path_params[i];
        if (uuid_valid(v) && strpbrk(v, "ABCDEF") != NULL) {
            abort();
        }
    }
    return echo_params(r);
}

static const struct route fuzz_routes[] = {
    {"DELETE", "/api/v1/listings/{id}/images/{image_id}", fuzz_ids, ROUTE_COMMAND},
    {"POST", "/api/v1/listings/{id}/images/uploads", fuzz_numbers, ROUTE_COMMAND},
    {"GET", "/api/v1/users/{id}", fuzz_ids, ROUTE_COMMAND},
    {"GET", "/api/v1/users/me", fuzz_numbers, ROUTE_COMMAND},
    {"POST", "/api/v1/listings", fuzz_listing, ROUTE_COMMAND},
    {"GET", "/api/v1/listings/{id}", echo_params, ROUTE_COMMAND},
    {"GET", "/api/v1/listings", fuzz_browse, ROUTE_COMMAND},
    {"POST", "/api/v1/things", echo_body, ROUTE_COMMAND},
    {"POST", "/api/v1/strict", fuzz_strict, ROUTE_COMMAND},
    {"POST", "/api/v1/users", fuzz_register, ROUTE_COMMAND},
    {"POST", "/api/v1/orders", fuzz_order, ROUTE_COMMAND},
    {"GET", "/api/v1/orders", fuzz_order_list, ROUTE_COMMAND},
    {"POST", "/api/v1/orders/{id}/ship", fuzz_order_action, ROUTE_COMMAND},
    {"POST", "/api/v1/orders/{id}/confirm", fuzz_order_action, ROUTE_COMMAND},
    {"POST", "/api/v1/orders/{id}/review", fuzz_order_action, ROUTE_COMMAND},
};

#define FUZZ_NAME "request"
#define FUZZ_MUTATION_BUDGET 46000
#include "fuzz_main.h"

static arena_t *arena;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    arena = arena_create(16384);
    log_init("fuzz", "error");
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *env[32];
    size_t nenv = 0;
    char *p = copy;
    char *body = copy + size;
    while (p < copy + size) {
        char *nl = memchr(p, '\n', (size_t)(copy + size - p));
        if (nl == NULL) {
            nl = copy + size;
        }
        *nl = '\0';
        if (p == nl) {
            body = nl + 1 <= copy + size ? nl + 1 : copy + size;
            break;
        }
        if (nenv < 31 && strchr(p, '=') != NULL) {
            env[nenv++] = p;
        }
        p = nl + 1;
    }
    env[nenv] = NULL;
    size_t body_len = (size_t)(copy + size - body);
    struct server s = {.routes = fuzz_routes,
                       .nroutes = sizeof(fuzz_routes) / sizeof(fuzz_routes[0]),
                       .role = ROUTE_COMMAND,
                       .arena = arena};
    char *out;
    size_t out_len;
    server_handle(&s, env, body, body_len, (long)body_len, &out, &out_len);
    /* A status line first, or none for a 200 (then its Content- headers come first). */
    if (out_len < 8 || (memcmp(out, "Status: ", 8) != 0 && memcmp(out, "Content-", 8) != 0)) {
        abort();
    }
    arena_reset(arena);
    free(copy);
    return 0;
}
