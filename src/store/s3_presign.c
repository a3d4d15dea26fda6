#include "store/s3_presign.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/errors.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define MAX_KEY_BYTES 1024
/* 9999-12-31T23:59:59Z: X-Amz-Date has four digits for the year. */
#define MAX_UNIX_TIME 253402300799LL

/* True for the bytes AWS leaves unencoded: A-Z a-z 0-9 - _ . ~ */
static bool
is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

/* AWS's UriEncode() of s: unreserved bytes kept, '/' kept when keep_slash, any other byte %XX
 * (upper-case hex). The same text serves as canonical form and as the URL's. */
static char *
uri_encode(arena_t *a, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = arena_alloc(a, n * 3 + 1);
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* True when s has a byte below 0x20 or 0x7f: such a value cannot go into a header line. */
static bool
has_control(const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            return true;
        }
    }
    return false;
}

/* True when a '/'-separated segment of s is "." or "..": HTTP clients resolve those in URL
 * paths (RFC 3986 section 5.2.4), so the path sent would not be the path signed. */
static bool
has_dot_segment(const char *s)
{
    const char *seg = s;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end != NULL ? (size_t)(end - seg) : strlen(seg);
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) {
            return true;
        }
        if (end == NULL) {
            return false;
        }
        seg = end + 1;
    }
}

static bool
is_empty(const char *s)
{
    return s == NULL || *s == '\0';
}

/* The Host header value for the endpoint: host lower-cased, ":port" only when the port is not
 * the scheme's default. *https tells the scheme. MK_EBADPARAM for anything but
 * http[s]://host[:port] with optional trailing slashes. */
static int
parse_endpoint(arena_t *a, const char *endpoint, bool *https, char **host)
{
    const char *sep = strstr(endpoint, "://");
    if (sep == NULL) {
        return MK_EBADPARAM;
    }
    size_t scheme_len = (size_t)(sep - endpoint);
    if (scheme_len == 5 && strncasecmp(endpoint, "https", 5) == 0) {
        *https = true;
    } else if (scheme_len == 4 && strncasecmp(endpoint, "http", 4) == 0) {
        *https = false;
    } else {
        return MK_EBADPARAM;
    }
    const char *auth = sep + 3;
    size_t len = strlen(auth);
    while (len > 0 && auth[len - 1] == '/') {
        len--;
    }
    if (len == 0) {
        return MK_EBADPARAM;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)auth[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                  c == '_' || c == ':' || c == '[' || c == ']';
        if (!ok) {
            return MK_EBADPARAM; /* a path, query, userinfo, blank or escape */
        }
    }

    size_t host_len;
    const char *port = NULL;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', len);
        if (close == NULL || close == auth + 1) {
            return MK_EBADPARAM;
        }
        host_len = (size_t)(close - auth) + 1;
    } else {
        const char *colon = memchr(auth, ':', len);
        host_len = colon != NULL ? (size_t)(colon - auth) : len;
        if (host_len == 0 || memchr(auth, '[', len) != NULL || memchr(auth, ']', len) != NULL) {
            return MK_EBADPARAM;
        }
    }
    if (host_len < len) {
        if (auth[host_len] != ':') {
            return MK_EBADPARAM;
        }
        port = auth + host_len + 1;
    }

    long port_no = *https ? 443 : 80;
    if (port != NULL) {
        size_t port_len = (size_t)(auth + len - port);
        if (port_len == 0 || port_len > 5) {
            return MK_EBADPARAM;
        }
        port_no = 0;
        for (size_t i = 0; i < port_len; i++) {
            if (port[i] < '0' || port[i] > '9') {
                return MK_EBADPARAM;
            }
            port_no = port_no * 10 + (port[i] - '0');
        }
        if (port_no < 1 || port_no > 65535) {
            return MK_EBADPARAM;
        }
    }

    char *h = arena_strndup(a, auth, host_len);
    for (char *c = h; *c != '\0'; c++) {
        if (*c >= 'A' && *c <= 'Z') {
            *c = (char)(*c - 'A' + 'a');
        }
    }
    if (port_no != (*https ? 443 : 80)) {
        h = arena_sprintf(a, "%s:%ld", h, port_no);
    }
    *host = h;
    return MK_OK;
}

/* AWS's Trimall of a header value: outer spaces removed, runs of spaces made one. */
static char *
trim_all(arena_t *a, const char *s)
{
    char *out = arena_alloc(a, strlen(s) + 1);
    char *o = out;
    while (*s == ' ') {
        s++;
    }
    for (; *s != '\0'; s++) {
        if (*s == ' ' && (s[1] == ' ' || s[1] == '\0')) {
            continue;
        }
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* Validation of everything but the endpoint. */
static int
check_fields(const struct s3_presign *p)
{
    static const char *const methods[] = {"GET", "PUT", "HEAD", "DELETE"};
    bool method_ok = false;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        method_ok = method_ok || (p->method != NULL && strcmp(p->method, methods[i]) == 0);
    }
    if (!method_ok || is_empty(p->endpoint) || is_empty(p->region) || is_empty(p->bucket) || is_empty(p->key) ||
        is_empty(p->access_key) || is_empty(p->secret_key)) {
        return MK_EBADPARAM;
    }
    /* region and access key are '/'-separated fields of the credential scope */
    if (strchr(p->region, '/') != NULL || has_control(p->region) || strchr(p->access_key, '/') != NULL ||
        has_control(p->access_key)) {
        return MK_EBADPARAM;
    }
    if (strchr(p->bucket, '/') != NULL || has_dot_segment(p->bucket) || has_dot_segment(p->key) ||
        strlen(p->key) > MAX_KEY_BYTES) {
        return MK_EBADPARAM;
    }
    if (!p->path_style) {
        for (const char *c = p->bucket; *c != '\0'; c++) {
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '-')) {
                return MK_EBADPARAM; /* would not be a host name */
            }
        }
    }
    if (p->expires_s < 1 || p->expires_s > S3_PRESIGN_MAX_EXPIRES || p->now < 0 || p->now > MAX_UNIX_TIME) {
        return MK_EBADPARAM;
    }
    /* an empty Content-Type is no header at all to the server */
    if (p->content_type != NULL &&
        (has_control(p->content_type) || p->content_type[strspn(p->content_type, " ")] == '\0')) {
        return MK_EBADPARAM;
    }
    return MK_OK;
}

static void
hmac(unsigned char out[crypto_auth_hmacsha256_BYTES], const unsigned char *key, size_t key_len, const char *msg)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

int
s3_presign_url(arena_t *a, const struct s3_presign *p, char **url)
{
    *url = NULL;
    int rc = check_fields(p);
    if (rc != MK_OK) {
        return rc;
    }
    bool https;
    char *host;
    rc = parse_endpoint(a, p->endpoint, &https, &host);
    if (rc != MK_OK) {
        return rc;
    }
    if (!p->path_style) {
        if (host[0] == '[') {
            return MK_EBADPARAM; /* no virtual host on an IP literal */
        }
        host = arena_sprintf(a, "%s.%s", p->bucket, host);
    }

    time_t t = (time_t)p->now;
    struct tm tm;
    char amz_date[17]; /* yyyymmddThhmmssZ */
    if (gmtime_r(&t, &tm) == NULL || strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm) != 16) {
        return MK_EBADPARAM;
    }
    char date[9];
    memcpy(date, amz_date, 8);
    date[8] = '\0';

    /* Canonical URI: every byte of bucket and key encoded, the key's '/' kept. */
    const char *key_enc = uri_encode(a, p->key, true);
    const char *uri = p->path_style ? arena_sprintf(a, "/%s/%s", uri_encode(a, p->bucket, false), key_enc)
                                    : arena_sprintf(a, "/%s", key_enc);

    /* Signed headers, names lower-case and sorted: content-length < content-type < host. */
    const char *ctype = p->content_type != NULL ? trim_all(a, p->content_type) : NULL;
    char *clen = p->content_length >= 0 ? arena_sprintf(a, "%lld", p->content_length) : NULL;
    const char *signed_headers =
        arena_sprintf(a, "%s%shost", clen != NULL ? "content-length;" : "", ctype != NULL ? "content-type;" : "");
    const char *canonical_headers =
        arena_sprintf(a, "%s%shost:%s\n", clen != NULL ? arena_sprintf(a, "content-length:%s\n", clen) : "",
                      ctype != NULL ? arena_sprintf(a, "content-type:%s\n", ctype) : "", host);

    /* Canonical query: parameter names are already in byte order; values encoded. */
    const char *scope = arena_sprintf(a, "%s/%s/s3/aws4_request", date, p->region);
    const char *query = arena_sprintf(
        a, "X-Amz-Algorithm=" ALGORITHM "&X-Amz-Credential=%s&X-Amz-Date=%s&X-Amz-Expires=%d&X-Amz-SignedHeaders=%s",
        uri_encode(a, arena_sprintf(a, "%s/%s", p->access_key, scope), false), amz_date, p->expires_s,
        uri_encode(a, signed_headers, false));

    const char *creq = arena_sprintf(a, "%s\n%s\n%s\n%s\n%s\nUNSIGNED-PAYLOAD", p->method, uri, query,
                                     canonical_headers, signed_headers);
    unsigned char digest[crypto_hash_sha256_BYTES];
    char digest_hex[crypto_hash_sha256_BYTES * 2 + 1];
    crypto_hash_sha256(digest, (const unsigned char *)creq, strlen(creq));
    sodium_bin2hex(digest_hex, sizeof(digest_hex), digest, sizeof(digest));
    const char *string_to_sign = arena_sprintf(a, ALGORITHM "\n%s\n%s\n%s", amz_date, scope, digest_hex);

    /* kSecret = "AWS4" + secret; kDate, kRegion, kService, kSigning; then the signature. */
    size_t secret_len = strlen(p->secret_key);
    unsigned char *k_secret = arena_alloc(a, secret_len + 4);
    memcpy(k_secret, "AWS4", 4);
    memcpy(k_secret + 4, p->secret_key, secret_len);
    unsigned char k1[crypto_auth_hmacsha256_BYTES], k2[crypto_auth_hmacsha256_BYTES];
    hmac(k1, k_secret, secret_len + 4, date);
    hmac(k2, k1, sizeof(k1), p->region);
    hmac(k1, k2, sizeof(k2), "s3");
    hmac(k2, k1, sizeof(k1), "aws4_request");
    unsigned char sig[crypto_auth_hmacsha256_BYTES];
    hmac(sig, k2, sizeof(k2), string_to_sign);
    sodium_memzero(k_secret, secret_len + 4);
    sodium_memzero(k1, sizeof(k1));
    sodium_memzero(k2, sizeof(k2));
    char sig_hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
    sodium_bin2hex(sig_hex, sizeof(sig_hex), sig, sizeof(sig));

    *url = arena_sprintf(a, "%s://%s%s?%s&X-Amz-Signature=%s", https ? "https" : "http", host, uri, query, sig_hex);
    return MK_OK;
}
