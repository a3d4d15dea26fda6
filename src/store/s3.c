#include "store/s3.h"

#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/errors.h"
#include "core/log.h"

void
s3_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
s3_init(struct s3 *s, const char *endpoint, const char *region, const char *bucket, const char *access_key,
        const char *secret_key, bool path_style, int timeout_ms)
{
    memset(s, 0, sizeof(*s));
    s->curl = curl_easy_init();
    if (s->curl == NULL) {
        return MK_EINTERNAL;
    }
    s->endpoint = strdup(endpoint);
    size_t el = strlen(s->endpoint);
    while (el > 0 && s->endpoint[el - 1] == '/') {
        s->endpoint[--el] = '\0';
    }
    s->region = strdup(region);
    s->bucket = strdup(bucket);
    s->access_key = strdup(access_key);
    s->secret_key = strdup(secret_key);
    s->path_style = path_style;
    s->timeout_ms = timeout_ms;
    return MK_OK;
}

void
s3_close(struct s3 *s)
{
    if (s->curl != NULL) {
        curl_easy_cleanup(s->curl);
    }
    free(s->endpoint);
    free(s->region);
    free(s->bucket);
    free(s->access_key);
    free(s->secret_key);
    memset(s, 0, sizeof(*s));
}

char *
s3_url(const struct s3 *s, arena_t *arena, const char *key)
{
    const char *k = key != NULL ? key : "";
    if (s->path_style) {
        return arena_sprintf(arena, "%s/%s%s%s", s->endpoint, s->bucket, *k ? "/" : "", k);
    }
    const char *sep = strstr(s->endpoint, "://");
    const char *host = sep != NULL ? sep + 3 : s->endpoint;
    int scheme_len = sep != NULL ? (int)(sep - s->endpoint) : 4;
    return arena_sprintf(arena, "%.*s://%s.%s/%s", scheme_len, s->endpoint, s->bucket, host, k);
}

struct sink {
    arena_t *arena;
    char *buf;
    size_t len, cap, max;
    bool overflow;
    struct s3_response *resp;
};

static size_t
on_body(char *ptr, size_t size, size_t nmemb, void *data)
{
    struct sink *k = data;
    size_t n = size * nmemb;
    if (k->len + n > k->max) {
        k->overflow = true;
        return 0;
    }
    if (k->len + n + 1 > k->cap) {
        size_t ncap = (k->len + n + 1) * 2;
        char *nb = arena_alloc(k->arena, ncap);
        if (k->len > 0) {
            memcpy(nb, k->buf, k->len);
        }
        k->buf = nb;
        k->cap = ncap;
    }
    memcpy(k->buf + k->len, ptr, n);
    k->len += n;
    k->buf[k->len] = '\0';
    return n;
}

static size_t
on_header(char *line, size_t size, size_t nitems, void *data)
{
    struct sink *k = data;
    size_t n = size * nitems;
    const char *colon = memchr(line, ':', n);
    if (colon == NULL) {
        return n;
    }
    size_t nl = (size_t)(colon - line);
    const char *v = colon + 1;
    while (v < line + n && (*v == ' ' || *v == '\t')) {
        v++;
    }
    size_t vl = (size_t)(line + n - v);
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) {
        vl--;
    }
    if (nl == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
        k->resp->content_type = arena_strndup(k->arena, v, vl);
    } else if (nl == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
        k->resp->content_length = strtoll(arena_strndup(k->arena, v, vl), NULL, 10);
    }
    return n;
}

int
s3_request(struct s3 *s, arena_t *arena, const char *method, const char *key, const void *body, size_t len,
           const char *content_type, size_t max_body, struct s3_response *resp)
{
    CURL *c = s->curl;
    memset(resp, 0, sizeof(*resp));
    resp->content_length = -1;
    struct sink sink = {.arena = arena, .max = max_body, .resp = resp};

    unsigned char hash[crypto_hash_sha256_BYTES];
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    crypto_hash_sha256(hash, body != NULL ? body : (const void *)"", body != NULL ? len : 0);
    sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));

    struct curl_slist *headers = NULL;
    char line[256];
    snprintf(line, sizeof(line), "x-amz-content-sha256: %s", hex);
    headers = curl_slist_append(headers, line);
    if (content_type != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, line);
    }
    /* No "Expect:" override: curl 7.88 would sign the empty header it then drops. */

    char sigv4[128];
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", s->region);

    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, s3_url(s, arena, key));
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
    /* Separate user and password options: the access key may itself contain a colon. */
    curl_easy_setopt(c, CURLOPT_USERNAME, s->access_key);
    curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret_key);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->timeout_ms < 2000 ? s->timeout_ms : 2000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    if (cc != CURLE_OK) {
        if (sink.overflow) {
            return MK_ETOOLARGE;
        }
        log_warn("s3: %s %s: %s", method, key != NULL ? key : "(bucket)", curl_easy_strerror(cc));
        return MK_EUNAVAILABLE;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->body = sink.buf;
    resp->body_len = sink.len;
    return MK_OK;
}

int
s3_check(struct s3 *s, arena_t *arena)
{
    struct s3_response resp;
    int rc = s3_request(s, arena, "HEAD", NULL, NULL, 0, NULL, 0, &resp);
    if (rc != MK_OK) {
        return MK_EUNAVAILABLE;
    }
    if (resp.status != 200) {
        log_warn("s3: HEAD bucket %s answered %ld", s->bucket, resp.status);
        return MK_EUNAVAILABLE;
    }
    return MK_OK;
}
