/* The HTTP surface of the foundation, through nginx over HTTPS. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest.h"

static const char *const JSON[] = {"Content-Type: application/json", NULL};

Test(api, healthz)
{
    struct iresp r = itest_http("GET", "/healthz", NULL, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(ijson_str(r.json, "status", NULL), "ok");
    cr_assert_not_null(iresp_header(&r, "X-Request-Id"), "every response carries X-Request-Id");
    iresp_free(&r);
}

Test(api, plain_http_redirects_except_healthz)
{
    char url[512];
    snprintf(url, sizeof(url), "%s/api/v1/system/pings/x", itest_env("MARKET_TEST_HTTP_URL"));
    struct iresp r = itest_http("GET", url, NULL, NULL);
    cr_assert_eq(r.status, 301);
    cr_assert_not_null(strstr(iresp_header(&r, "Location"), "https://"));
    iresp_free(&r);
    snprintf(url, sizeof(url), "%s/healthz", itest_env("MARKET_TEST_HTTP_URL"));
    r = itest_http("GET", url, NULL, NULL);
    cr_assert_eq(r.status, 200);
    iresp_free(&r);
}

Test(api, readyz_lists_each_dependency)
{
    struct iresp r = itest_http("GET", "/readyz", NULL, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    static const char *deps[] = {"postgres", "mongo", "redis", "s3"};
    for (int i = 0; i < 4; i++) {
        cr_assert_str_eq(ijson_str(r.json, "checks", deps[i], NULL), "ok", "%s", deps[i]);
    }
    iresp_free(&r);
}

Test(api, unknown_route_is_404_with_error_shape)
{
    const char *paths[] = {"/api/v1/no-such-thing", "/api/v1/system/pings/a/b", "/nothing-here"};
    for (int i = 0; i < 3; i++) {
        struct iresp r = itest_http("GET", paths[i], NULL, NULL);
        cr_assert_eq(r.status, 404, "%s", paths[i]);
        cr_assert_str_eq(iresp_error_code(&r), "not_found");
        cr_assert_not_null(ijson_str(r.json, "error", "message", NULL));
        iresp_free(&r);
    }
}

Test(api, method_not_allowed_names_allow)
{
    struct iresp r = itest_http("DELETE", "/api/v1/system/pings", NULL, NULL);
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(iresp_error_code(&r), "method_not_allowed");
    cr_assert_str_eq(iresp_header(&r, "Allow"), "POST");
    iresp_free(&r);
    r = itest_http("PUT", "/healthz", NULL, NULL);
    cr_assert_eq(r.status, 405);
    cr_assert_str_eq(iresp_header(&r, "Allow"), "GET, HEAD");
    iresp_free(&r);
}

Test(api, malformed_json_is_400)
{
    const char *bodies[] = {"{\"note\": ", "{note: 1}", "{\"note\": 'x'}", "{\"note\": \"x\"} trailing", "nul"};
    for (int i = 0; i < 5; i++) {
        struct iresp r = itest_http("POST", "/api/v1/system/pings", JSON, bodies[i]);
        cr_assert_eq(r.status, 400, "%s → %ld %s", bodies[i], r.status, r.body);
        cr_assert_str_eq(iresp_error_code(&r), "malformed_json");
        iresp_free(&r);
    }
}

Test(api, non_json_content_type_is_415)
{
    const char *const hdrs[] = {"Content-Type: text/plain", NULL};
    struct iresp r = itest_http("POST", "/api/v1/system/pings", hdrs, "{\"note\":\"x\"}");
    cr_assert_eq(r.status, 415);
    cr_assert_str_eq(iresp_error_code(&r), "unsupported_media_type");
    iresp_free(&r);
}

Test(api, body_over_64k_is_413)
{
    size_t n = 64 * 1024 + 100;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "{\"note\":\"", 9);
    memcpy(big + n - 2, "\"}", 2);
    big[n] = '\0';
    struct iresp r = itest_http("POST", "/api/v1/system/pings", JSON, big);
    cr_assert_eq(r.status, 413);
    cr_assert_str_eq(iresp_error_code(&r), "payload_too_large");
    iresp_free(&r);
    free(big);
}

Test(api, unknown_fields_and_bad_values_are_422)
{
    struct iresp r = itest_http("POST", "/api/v1/system/pings", JSON, "{\"note\":\"x\",\"nite\":1}");
    cr_assert_eq(r.status, 422);
    cr_assert_str_eq(iresp_error_code(&r), "validation_failed");
    cr_assert_str_eq(ijson_str(r.json, "error", "fields", "nite", NULL), "unknown field");
    iresp_free(&r);
    r = itest_http("POST", "/api/v1/system/pings", JSON, "{\"note\":5,\"id\":\"nope\"}");
    cr_assert_eq(r.status, 422);
    cr_assert_not_null(ijson_str(r.json, "error", "fields", "note", NULL));
    cr_assert_not_null(ijson_str(r.json, "error", "fields", "id", NULL));
    iresp_free(&r);
}

/* POST a ping; returns its id (static buffer) and the X-Event-Seq. */
static const char *
post_ping(const char *id, const char *note, long long *seq, long *status)
{
    static char out_id[64];
    char body[512];
    if (id != NULL) {
        snprintf(body, sizeof(body), "{\"id\":\"%s\",\"note\":\"%s\"}", id, note);
    } else {
        snprintf(body, sizeof(body), "{\"note\":\"%s\"}", note);
    }
    struct iresp r = itest_http("POST", "/api/v1/system/pings", JSON, body);
    *status = r.status;
    cr_assert(r.status == 201 || r.status == 200, "%ld %s", r.status, r.body);
    const char *s = iresp_header(&r, "X-Event-Seq");
    cr_assert_not_null(s, "a successful write carries X-Event-Seq");
    *seq = atoll(s);
    snprintf(out_id, sizeof(out_id), "%s", ijson_str(r.json, "ping", "id", NULL));
    iresp_free(&r);
    return out_id;
}

Test(api, write_then_read_with_min_seq)
{
    long long seq;
    long status;
    char id[64];
    snprintf(id, sizeof(id), "%s", post_ping(NULL, itest_unique("first"), &seq, &status));
    cr_assert_eq(status, 201);
    cr_assert_gt(seq, 0);

    char path[256], minseq[64];
    snprintf(path, sizeof(path), "/api/v1/system/pings/%s", id);
    snprintf(minseq, sizeof(minseq), "X-Min-Seq: %lld", seq);
    const char *const h1[] = {minseq, NULL};
    struct iresp r = itest_http("GET", path, h1, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_null(iresp_header(&r, "X-Read-Stale"));
    cr_assert_geq(ijson_int(r.json, "ping", "seq", NULL), seq);
    cr_assert_eq(ijson_int(r.json, "ping", "version", NULL), 1);
    iresp_free(&r);

    const char *note2 = itest_unique("second");
    char note2_copy[128];
    snprintf(note2_copy, sizeof(note2_copy), "%s", note2);
    long long seq2;
    post_ping(id, note2_copy, &seq2, &status);
    cr_assert_eq(status, 200, "an update answers 200");
    cr_assert_gt(seq2, seq);
    snprintf(minseq, sizeof(minseq), "X-Min-Seq: %lld", seq2);
    r = itest_http("GET", path, h1, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(ijson_int(r.json, "ping", "version", NULL), 2, "read-your-writes through X-Min-Seq");
    cr_assert_str_eq(ijson_str(r.json, "ping", "note", NULL), note2_copy);
    const char *etag = iresp_header(&r, "ETag");
    cr_assert_str_eq(etag, "\"2\"");
    iresp_free(&r);

    const char *const h2[] = {"If-None-Match: \"2\"", NULL};
    r = itest_http("GET", path, h2, NULL);
    cr_assert_eq(r.status, 304);
    iresp_free(&r);
}

Test(api, min_seq_that_never_comes_answers_stale)
{
    long long seq;
    long status;
    char id[64];
    snprintf(id, sizeof(id), "%s", post_ping(NULL, "stale", &seq, &status));
    char path[256], minseq[64];
    snprintf(path, sizeof(path), "/api/v1/system/pings/%s", id);
    snprintf(minseq, sizeof(minseq), "X-Min-Seq: %lld", seq + 1000000);
    const char *const h[] = {minseq, NULL};
    double t0 = itest_now_ms();
    struct iresp r = itest_http("GET", path, h, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(iresp_header(&r, "X-Read-Stale"), "1");
    cr_assert_lt(itest_now_ms() - t0, 10000, "the wait is bounded");
    iresp_free(&r);

    const char *const bad[] = {"X-Min-Seq: soon", NULL};
    r = itest_http("GET", path, bad, NULL);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(iresp_error_code(&r), "bad_parameter");
    iresp_free(&r);
}

Test(api, metrics_are_prometheus_text)
{
    struct iresp r = itest_http("GET", "/healthz", NULL, NULL);
    iresp_free(&r);
    r = itest_http("GET", "/metrics", NULL, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(iresp_header(&r, "Content-Type"), "text/plain"));
    const char *must[] = {
        "market_http_requests_total{role=\"query\",method=\"GET\",route=\"/healthz\",status=\"200\"}",
        "market_http_request_duration_seconds_bucket{",
        "market_pool_workers_alive{role=\"query\"}",
        "market_pool_workers_alive{role=\"command\"}",
        "market_pool_worker_restarts_total{role=\"query\"}",
        "market_outbox_lag_seconds",
        "market_projector_active 1",
    };
    for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
        cr_assert_not_null(strstr(r.body, must[i]), "missing %s", must[i]);
    }
    iresp_free(&r);
}

Test(api, head_has_no_body)
{
    struct iresp r = itest_http("HEAD", "/healthz", NULL, NULL);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.len, 0);
    iresp_free(&r);
}
