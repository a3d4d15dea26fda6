/* Unit tests of store/s3_presign: SigV4 query-string signing, no network. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/arena.h"
#include "core/errors.h"
#include "store/s3_presign.h"

static arena_t *A;

static void
setup(void)
{
    A = arena_create(4096);
}

static void
teardown(void)
{
    arena_destroy(A);
}

TestSuite(s3_presign, .init = setup, .fini = teardown);

/* The example of AWS's "Authenticating Requests: Using Query Parameters (AWS Signature
 * Version 4)": GET examplebucket/test.txt, 2013-05-24T00:00:00Z, one day. */
static struct s3_presign
aws_example(void)
{
    return (struct s3_presign){
        .method = "GET",
        .endpoint = "https://s3.amazonaws.com",
        .path_style = false,
        .region = "us-east-1",
        .bucket = "examplebucket",
        .key = "test.txt",
        .access_key = "AKIAIOSFODNN7EXAMPLE",
        .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        .now = 1369353600,
        .expires_s = 86400,
        .content_type = NULL,
        .content_length = -1,
    };
}

/* Our local Swift: path-style, a non-default port, an access key with a colon. */
static struct s3_presign
swift_put(void)
{
    return (struct s3_presign){
        .method = "PUT",
        .endpoint = "http://127.0.0.1:18081",
        .path_style = true,
        .region = "us-east-1",
        .bucket = "market",
        .key = "listings/L1/photo 1+\xc3\xa9.jpg", /* space, '+', U+00E9 as UTF-8 */
        .access_key = "test:tester",
        .secret_key = "testing",
        .now = 1700000000, /* 2023-11-14T22:13:20Z */
        .expires_s = 900,
        .content_type = "image/jpeg",
        .content_length = 12345,
    };
}

static char *
sign(const struct s3_presign *p)
{
    char *url = (char *)"unset";
    int rc = s3_presign_url(A, p, &url);
    cr_assert_eq(rc, MK_OK, "s3_presign_url: %d", rc);
    cr_assert_not_null(url);
    return url;
}

static void
assert_rejected(const struct s3_presign *p, const char *why)
{
    char *url = (char *)"unset";
    cr_assert_eq(s3_presign_url(A, p, &url), MK_EBADPARAM, "%s: not rejected", why);
    cr_assert_null(url, "%s: *url must be NULL on failure", why);
}

/* The part of url after "name=" up to the next '&' (or the end), in the arena. */
static char *
param(const char *url, const char *name)
{
    const char *q = strchr(url, '?');
    cr_assert_not_null(q);
    size_t nl = strlen(name);
    for (const char *s = q + 1; s != NULL; s = strchr(s, '&') != NULL ? strchr(s, '&') + 1 : NULL) {
        if (strncmp(s, name, nl) == 0 && s[nl] == '=') {
            const char *v = s + nl + 1;
            return arena_strndup(A, v, strcspn(v, "&"));
        }
    }
    return NULL;
}

Test(s3_presign, reproduces_the_aws_documented_url_bit_for_bit)
{
    struct s3_presign p = aws_example();
    cr_assert_str_eq(sign(&p), "https://examplebucket.s3.amazonaws.com/test.txt"
                               "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                               "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                               "&X-Amz-Date=20130524T000000Z"
                               "&X-Amz-Expires=86400"
                               "&X-Amz-SignedHeaders=host"
                               "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

/* Expected URLs of the next tests were computed independently with botocore 1.43
 * (S3SigV4QueryAuth, clock frozen), which also reproduces the AWS example above. */

Test(s3_presign, path_style_put_with_signed_type_and_length)
{
    struct s3_presign p = swift_put();
    cr_assert_str_eq(sign(&p), "http://127.0.0.1:18081/market/listings/L1/photo%201%2B%C3%A9.jpg"
                               "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                               "&X-Amz-Credential=test%3Atester%2F20231114%2Fus-east-1%2Fs3%2Faws4_request"
                               "&X-Amz-Date=20231114T221320Z"
                               "&X-Amz-Expires=900"
                               "&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"
                               "&X-Amz-Signature=c2617f5fe1f528d2fbfa88327b7dcaf85aed8a9d3d29b617147ebd103a363c80");
}

Test(s3_presign, virtual_host_keeps_a_non_default_port)
{
    struct s3_presign p = aws_example();
    p.endpoint = "https://s3.example.com:8443";
    p.bucket = "media";
    p.key = "a/b~c_d-e.f";
    p.access_key = "AKID";
    p.secret_key = "secret";
    p.region = "eu-west-3";
    p.now = 1700000000;
    p.expires_s = 60;
    cr_assert_str_eq(sign(&p), "https://media.s3.example.com:8443/a/b~c_d-e.f"
                               "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                               "&X-Amz-Credential=AKID%2F20231114%2Feu-west-3%2Fs3%2Faws4_request"
                               "&X-Amz-Date=20231114T221320Z"
                               "&X-Amz-Expires=60"
                               "&X-Amz-SignedHeaders=host"
                               "&X-Amz-Signature=823b85511d159c5f0a7798e995fe55217373e3d3d0b117a6002b7ff04fcdf4ea");
}

Test(s3_presign, path_style_url_shape)
{
    struct s3_presign p = aws_example();
    p.path_style = true;
    p.endpoint = "http://localhost:9000";
    char *url = sign(&p);
    const char *prefix = "http://localhost:9000/examplebucket/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&";
    cr_assert_eq(strncmp(url, prefix, strlen(prefix)), 0, "%s", url);
    cr_assert_str_eq(param(url, "X-Amz-SignedHeaders"), "host");
    cr_assert_eq(strlen(param(url, "X-Amz-Signature")), 64);
    /* the signature is the last parameter, after the canonical query */
    const char *sig = strstr(url, "&X-Amz-Signature=");
    cr_assert_not_null(sig);
    cr_assert_eq(strlen(sig), strlen("&X-Amz-Signature=") + 64);
}

Test(s3_presign, key_bytes_are_encoded_and_slashes_kept)
{
    struct s3_presign p = aws_example();
    p.path_style = true;
    p.bucket = "my_bucket";
    p.key = "dir one/a+b=c&d?e#f%g/\xe2\x82\xac~x_y-z.JPG//end";
    char *url = sign(&p);
    const char *want =
        "https://s3.amazonaws.com/my_bucket/dir%20one/a%2Bb%3Dc%26d%3Fe%23f%25g/%E2%82%AC~x_y-z.JPG//end?";
    cr_assert_eq(strncmp(url, want, strlen(want)), 0, "%s", url);
}

Test(s3_presign, colon_in_access_key_is_encoded_in_the_credential)
{
    struct s3_presign p = swift_put();
    char *url = sign(&p);
    cr_assert_str_eq(param(url, "X-Amz-Credential"), "test%3Atester%2F20231114%2Fus-east-1%2Fs3%2Faws4_request");
    cr_assert_null(strchr(strchr(url, '?'), ':'), "no raw ':' in the query");
}

Test(s3_presign, signed_headers_are_sorted_and_only_those_given)
{
    struct s3_presign p = swift_put();
    cr_assert_str_eq(param(sign(&p), "X-Amz-SignedHeaders"), "content-length%3Bcontent-type%3Bhost");
    p.content_length = -1;
    cr_assert_str_eq(param(sign(&p), "X-Amz-SignedHeaders"), "content-type%3Bhost");
    p.content_type = NULL;
    p.content_length = 0; /* an empty body is a length too */
    cr_assert_str_eq(param(sign(&p), "X-Amz-SignedHeaders"), "content-length%3Bhost");
    p.content_length = -1;
    cr_assert_str_eq(param(sign(&p), "X-Amz-SignedHeaders"), "host");
}

Test(s3_presign, signed_values_change_the_signature)
{
    struct s3_presign p = swift_put();
    char *base = param(sign(&p), "X-Amz-Signature");
    p.content_length = 12346;
    cr_assert_str_neq(param(sign(&p), "X-Amz-Signature"), base);
    p = swift_put();
    p.content_type = "image/png";
    cr_assert_str_neq(param(sign(&p), "X-Amz-Signature"), base);
    p = swift_put();
    p.method = "GET";
    cr_assert_str_neq(param(sign(&p), "X-Amz-Signature"), base);
    p = swift_put();
    cr_assert_str_eq(param(sign(&p), "X-Amz-Signature"), base, "same input, same URL");
}

Test(s3_presign, content_type_is_trimmed_as_the_server_does)
{
    struct s3_presign p = swift_put();
    p.content_type = "text/plain; charset=utf-8";
    char *plain = sign(&p);
    p.content_type = "  text/plain;   charset=utf-8 ";
    cr_assert_str_eq(sign(&p), plain);
}

Test(s3_presign, default_ports_are_dropped_and_the_host_lower_cased)
{
    struct s3_presign p = aws_example();
    char *expected = sign(&p);
    p.endpoint = "https://s3.amazonaws.com:443";
    cr_assert_str_eq(sign(&p), expected);
    p.endpoint = "HTTPS://S3.Amazonaws.COM/";
    cr_assert_str_eq(sign(&p), expected);

    p.endpoint = "http://s3.amazonaws.com:80";
    cr_assert_eq(strncmp(sign(&p), "http://examplebucket.s3.amazonaws.com/test.txt?", 47), 0);
    p.endpoint = "http://s3.amazonaws.com:443"; /* not the default for http */
    cr_assert_eq(strncmp(sign(&p), "http://examplebucket.s3.amazonaws.com:443/test.txt?", 51), 0);
    p.endpoint = "https://s3.amazonaws.com:80";
    cr_assert_eq(strncmp(sign(&p), "https://examplebucket.s3.amazonaws.com:80/test.txt?", 51), 0);
}

Test(s3_presign, ipv6_endpoint_path_style)
{
    struct s3_presign p = swift_put();
    p.endpoint = "http://[::1]:18081";
    char *url = sign(&p);
    const char *want = "http://[::1]:18081/market/listings/";
    cr_assert_eq(strncmp(url, want, strlen(want)), 0, "%s", url);
}

Test(s3_presign, expiry_bounds_are_inclusive)
{
    struct s3_presign p = aws_example();
    p.expires_s = 1;
    cr_assert_str_eq(param(sign(&p), "X-Amz-Expires"), "1");
    p.expires_s = S3_PRESIGN_MAX_EXPIRES;
    cr_assert_str_eq(param(sign(&p), "X-Amz-Expires"), "604800");
}

Test(s3_presign, rejects_bad_input)
{
    struct s3_presign p;
    enum { MAX_KEY = 1024 };
    char long_key[MAX_KEY + 2]; /* 1025 bytes and the NUL */
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';

#define REJECT(field, value)                                                                                           \
    do {                                                                                                               \
        p = swift_put();                                                                                               \
        p.field = value;                                                                                               \
        assert_rejected(&p, #field " = " #value);                                                                      \
    } while (0)

    REJECT(expires_s, 0);
    REJECT(expires_s, -1);
    REJECT(expires_s, 604801);
    REJECT(key, "");
    REJECT(key, NULL);
    REJECT(key, long_key);
    REJECT(key, "a/../b");
    REJECT(key, "./a");
    REJECT(key, "a/..");
    REJECT(bucket, "");
    REJECT(bucket, "a/b");
    REJECT(bucket, "..");
    REJECT(method, "POST");
    REJECT(method, "get");
    REJECT(method, NULL);
    REJECT(region, "");
    REJECT(region, "us/east");
    REJECT(access_key, "");
    REJECT(access_key, "a/b");
    REJECT(secret_key, "");
    REJECT(secret_key, NULL);
    REJECT(now, -1);
    REJECT(now, 253402300800LL); /* year 10000 */
    REJECT(content_type, "text/plain\r\nX-Evil: 1");
    REJECT(content_type, "");
    REJECT(content_type, "   ");
    REJECT(endpoint, "");
    REJECT(endpoint, "127.0.0.1:18081");
    REJECT(endpoint, "ftp://127.0.0.1");
    REJECT(endpoint, "http://");
    REJECT(endpoint, "http://host/prefix");
    REJECT(endpoint, "http://user@host");
    REJECT(endpoint, "http://host?x=1");
    REJECT(endpoint, "http://host:");
    REJECT(endpoint, "http://host:0");
    REJECT(endpoint, "http://host:65536");
    REJECT(endpoint, "http://host:12a");
    REJECT(endpoint, "http://::1:18081");
    REJECT(endpoint, "http://[::1");
    REJECT(endpoint, "http://[::1]x");
#undef REJECT

    /* virtual-host style needs a bucket that can be a host name, and a host name */
    p = swift_put();
    p.path_style = false;
    p.endpoint = "http://s3.local";
    p.bucket = "Market";
    assert_rejected(&p, "upper-case bucket as a host name");
    p.bucket = "my_bucket";
    assert_rejected(&p, "'_' in a bucket as a host name");
    p.bucket = "market";
    p.endpoint = "http://[::1]:18081";
    assert_rejected(&p, "virtual host on an IPv6 literal");
    p.endpoint = "http://s3.local";
    cr_assert_str_eq(sign(&p), sign(&p), "and the fixed input signs");

    p = swift_put();
    long_key[MAX_KEY] = '\0';
    p.key = long_key;
    sign(&p); /* 1024 bytes is still a key */
}
