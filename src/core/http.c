#include "core/http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "core/errors.h"
#include "core/json_strict.h"
#include "core/qstr.h"
#include "core/text.h"

/* FNV-1a of a parameter's name (up to '=' or the end). */
static size_t
env_hash(const char *s, size_t *len)
{
    uint32_t h = 2166136261u;
    const char *p = s;
    for (; *p != '\0' && *p != '='; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    *len = (size_t)(p - s);
    return h;
}

/* The FastCGI environment hashed once per request: the handlers and the request's own
 * parsing look up a dozen parameters, each a strncmp over every one of the ~40 nginx sends
 * (3.7 % of a Redis-hit read's CPU in the query pool). The first of a repeated name wins, as
 * in the scan. */
static void
env_index(struct request *r)
{
    size_t n = 0;
    for (char *const *e = r->env; *e != NULL; e++) {
        n++;
    }
    size_t slots = 16;
    while (slots < 2 * n) {
        slots *= 2;
    }
    r->env_slots = arena_alloc(r->arena, slots * sizeof(*r->env_slots));
    memset(r->env_slots, 0, slots * sizeof(*r->env_slots));
    r->env_mask = slots - 1;
    for (char *const *e = r->env; *e != NULL; e++) {
        size_t len, i = env_hash(*e, &len) & r->env_mask;
        while (r->env_slots[i] != NULL && !(strncmp(r->env_slots[i], *e, len + 1) == 0)) {
            i = (i + 1) & r->env_mask;
        }
        if (r->env_slots[i] == NULL && (*e)[len] == '=') {
            r->env_slots[i] = *e;
        }
    }
}

const char *
http_param(const struct request *r, const char *name)
{
    size_t n;
    if (r->env == NULL) {
        return NULL;
    }
    size_t h = env_hash(name, &n);
    if (r->env_slots != NULL && name[n] == '\0') {
        for (size_t i = h & r->env_mask; r->env_slots[i] != NULL; i = (i + 1) & r->env_mask) {
            if (strncmp(r->env_slots[i], name, n) == 0 && r->env_slots[i][n] == '=') {
                return r->env_slots[i] + n + 1;
            }
        }
        return NULL;
    }
    n = strlen(name);
    for (char *const *e = r->env; *e != NULL; e++) {
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
            return *e + n + 1;
        }
    }
    return NULL;
}

const char *
http_header(const struct request *r, const char *name)
{
    char key[128];
    size_t n = strlen(name);
    /* Only names of their length are compared with the two headers that are parameters of
     * their own (five lookups a Redis-hit read went through both comparisons). */
    if (n == sizeof("Content-Type") - 1 && strcasecmp(name, "Content-Type") == 0) {
        return http_param(r, "CONTENT_TYPE");
    }
    if (n == sizeof("Content-Length") - 1 && strcasecmp(name, "Content-Length") == 0) {
        return http_param(r, "CONTENT_LENGTH");
    }
    if (n + 6 >= sizeof(key)) {
        return NULL;
    }
    memcpy(key, "HTTP_", 5);
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        key[5 + i] = ch == '-' ? '_' : ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
    }
    key[5 + n] = '\0';
    return http_param(r, key);
}

static int
hexval(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

long
http_pct_decode(char *dst, const char *src, size_t n, bool plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = src[i];
        if (ch == '%') {
            if (i + 2 >= n) {
                return -1;
            }
            int hi = hexval(src[i + 1]);
            int lo = hexval(src[i + 2]);
            if (hi < 0 || lo < 0) {
                return -1;
            }
            ch = (char)(hi << 4 | lo);
            if (ch == '\0') {
                return -1;
            }
            i += 2;
        } else if (ch == '+' && plus_space) {
            ch = ' ';
        } else if (ch == '\0') {
            return -1;
        }
        dst[o++] = ch;
    }
    dst[o] = '\0';
    return (long)o;
}

/* Split s at sep into decoded name=value pairs. */
static int
parse_pairs(arena_t *a, const char *s, char sep, bool decode, bool trim_space,
            struct http_param **out, size_t *count, const char **bad_name)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++) {
        cap += *p == sep;
    }
    struct http_param *params = arena_alloc(a, cap * sizeof(*params));
    size_t n = 0;
    const char *p = s;
    while (*p != '\0') {
        while (trim_space && *p == ' ') {
            p++;
        }
        const char *end = strchr(p, sep);
        if (end == NULL) {
            end = p + strlen(p);
        }
        if (end > p) {
            const char *eq = memchr(p, '=', (size_t)(end - p));
            const char *name_end = eq != NULL ? eq : end;
            const char *val = eq != NULL ? eq + 1 : end;
            size_t nl = (size_t)(name_end - p);
            size_t vl = (size_t)(end - val);
            char *name = arena_alloc(a, nl + 1);
            char *value = arena_alloc(a, vl + 1);
            if (decode) {
                if (http_pct_decode(name, p, nl, true) < 0 || http_pct_decode(value, val, vl, true) < 0) {
                    /* the decoded name when it decodes, else the name as sent */
                    *bad_name = http_pct_decode(name, p, nl, true) < 0 ? arena_strndup(a, p, nl) : name;
                    *out = params;
                    *count = n;
                    return MK_EBADPARAM;
                }
            } else {
                memcpy(name, p, nl);
                name[nl] = '\0';
                memcpy(value, val, vl);
                value[vl] = '\0';
                while (vl > 0 && value[vl - 1] == ' ') {
                    value[--vl] = '\0';
                }
                if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
                    value[vl - 1] = '\0';
                    value++;
                }
            }
            params[n].name = name;
            params[n].value = value;
            n++;
        }
        p = *end ? end + 1 : end;
    }
    *out = params;
    *count = n;
    return MK_OK;
}

/* A parameter name fit for an error message (which is JSON, hence UTF-8): bytes that are
 * not valid UTF-8 and control characters are shown percent-encoded, as sent; at most 64
 * bytes of it. */
static const char *
param_printable(arena_t *a, const char *name)
{
    size_t len = strlen(name);
    if (len > 64) {
        len = 64;
    }
    char *out = arena_alloc(a, len * 3 + 4);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)name[i];
        size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (c >= 0x80 && i + n <= len && qstr_utf8_valid(name + i, n)) {
            memcpy(out + o, name + i, n);
            o += n;
            i += n;
            continue;
        }
        if (c < 0x20 || c == 0x7F || c >= 0x80) {
            o += (size_t)snprintf(out + o, 4, "%%%02X", c);
        } else {
            out[o++] = (char)c;
        }
        i++;
    }
    if (strlen(name) > len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

int
http_request_init(struct request *r, arena_t *a, char *const *env, const char *body, size_t body_len)
{
    int rc = MK_OK;
    memset(r, 0, sizeof(*r));
    r->arena = a;
    r->env = env;
    if (env != NULL) {
        env_index(r);
    }
    r->body = body;
    r->body_len = body_len;
    r->status = 200;
    r->route = "-";
    r->route_index = -1;

    r->method = http_param(r, "REQUEST_METHOD");
    if (r->method == NULL) {
        r->method = "GET";
    }
    r->head = strcmp(r->method, "HEAD") == 0;
    r->request_id = http_param(r, "REQUEST_ID");
    if (r->request_id == NULL) {
        r->request_id = http_header(r, "X-Request-Id");
    }
    if (r->request_id == NULL) {
        r->request_id = "-";
    }

    r->raw_uri = http_param(r, "REQUEST_URI");
    if (r->raw_uri == NULL) {
        r->raw_uri = http_param(r, "DOCUMENT_URI");
    }
    if (r->raw_uri == NULL) {
        r->raw_uri = "/";
    }
    const char *q = strchr(r->raw_uri, '?');
    size_t plen = q != NULL ? (size_t)(q - r->raw_uri) : strlen(r->raw_uri);
    r->path = arena_alloc(a, plen + 1);
    if (http_pct_decode(r->path, r->raw_uri, plen, false) < 0) {
        memcpy(r->path, r->raw_uri, plen);
        r->path[plen] = '\0';
        rc = http_fail(r, MK_EBADPARAM, "the path has a bad percent-escape");
    }

    r->query_string = http_param(r, "QUERY_STRING");
    if (r->query_string == NULL) {
        r->query_string = q != NULL ? q + 1 : "";
    }
    const char *bad_name = NULL;
    if (parse_pairs(a, r->query_string, '&', true, false, &r->query, &r->nquery, &bad_name) != MK_OK &&
        rc == MK_OK) {
        rc = http_fail(r, MK_EBADPARAM,
                       arena_sprintf(a, "%s: has a bad percent-escape (or an encoded NUL)", param_printable(a, bad_name)));
    }
    /* Strict input: names and values of the query string are UTF-8 (API.md). */
    for (size_t i = 0; i < r->nquery && rc == MK_OK; i++) {
        const struct http_param *qp = &r->query[i];
        if (!qstr_utf8_valid(qp->name, strlen(qp->name)) || !qstr_utf8_valid(qp->value, strlen(qp->value))) {
            rc = http_fail(r, MK_EBADPARAM,
                           arena_sprintf(a, "%s: must be valid UTF-8", param_printable(a, qp->name)));
        }
    }

    const char *cookie = http_header(r, "Cookie");
    if (cookie != NULL) {
        parse_pairs(a, cookie, ';', false, true, &r->cookies, &r->ncookies, &bad_name);
    }
    return rc;
}

const char *
http_query(const struct request *r, const char *name)
{
    for (size_t i = 0; i < r->nquery; i++) {
        if (strcmp(r->query[i].name, name) == 0) {
            return r->query[i].value;
        }
    }
    return NULL;
}

const char *
http_cookie(const struct request *r, const char *name)
{
    for (size_t i = 0; i < r->ncookies; i++) {
        if (strcmp(r->cookies[i].name, name) == 0) {
            return r->cookies[i].value;
        }
    }
    return NULL;
}

const char *
http_path_param(const struct request *r, const char *name)
{
    for (size_t i = 0; i < r->npath_params; i++) {
        if (strcmp(r->path_param_names[i], name) == 0) {
            return r->path_params[i];
        }
    }
    return NULL;
}

void
http_add_header(struct request *r, const char *name, const char *value)
{
    struct http_header *h = arena_alloc(r->arena, sizeof(*h));
    h->next = NULL;
    h->name = arena_strdup(r->arena, name);
    h->value = arena_strdup(r->arena, value);
    if (r->headers_tail != NULL) {
        r->headers_tail->next = h;
    } else {
        r->headers = h;
    }
    r->headers_tail = h;
}

void
http_set_header(struct request *r, const char *name, const char *value)
{
    for (struct http_header *h = r->headers; h != NULL; h = h->next) {
        if (strcasecmp(h->name, name) == 0) {
            h->value = arena_strdup(r->arena, value);
            return;
        }
    }
    http_add_header(r, name, value);
}

const char *
http_response_header(const struct request *r, const char *name)
{
    for (struct http_header *h = r->headers; h != NULL; h = h->next) {
        if (strcasecmp(h->name, name) == 0) {
            return h->value;
        }
    }
    return NULL;
}

int
http_respond_raw(struct request *r, int status, const char *content_type, const char *body, size_t len)
{
    r->status = status;
    r->out_type = content_type;
    r->out = body;
    r->out_len = len;
    return MK_OK;
}

int
http_respond_json(struct request *r, int status, json_object *doc)
{
    size_t len;
    const char *s = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char *copy = arena_alloc(r->arena, len + 1);
    memcpy(copy, s, len + 1);
    return http_respond_raw(r, status, "application/json", copy, len);
}

bool
http_etag_match(const char *inm, const char *etag)
{
    if (inm == NULL || etag == NULL) {
        return false;
    }
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        if (*p == '*') {
            return true;
        }
        if (strncmp(p, "W/", 2) == 0) {
            p += 2;
        }
        if (*p != '"') {
            return false;
        }
        const char *end = strchr(p + 1, '"');
        if (end == NULL) {
            return false;
        }
        if ((size_t)(end + 1 - p) == elen && memcmp(p, etag, elen) == 0) {
            return true;
        }
        p = end + 1;
    }
    return false;
}

bool
http_if_match(const char *value, bool (*names)(const char *tag, size_t n, void *arg), void *arg)
{
    const char *p = value + strspn(value, " \t");
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }
    if (n == 1 && p[0] == '*') {
        return true;
    }
    bool match = false, any_tag = false;
    const char *end = p + n;
    while (p < end) {
        if (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
            continue;
        }
        if (end - p >= 2 && p[0] == 'W' && p[1] == '/') {
            p += 2;
        }
        if (p == end || *p != '"') {
            return false;
        }
        const char *tag = ++p;
        while (p < end && *p != '"') {
            unsigned char c = (unsigned char)*p;
            if (!(c == 0x21 || (c >= 0x23 && c <= 0x7E) || c >= 0x80)) {
                return false;
            }
            p++;
        }
        if (p == end) {
            return false;   /* no closing quote */
        }
        match = match || names(tag, (size_t)(p - tag), arg);
        any_tag = true;
        p++;
        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }
        if (p < end && *p != ',') {
            return false;   /* "1"garbage, "1" "2" */
        }
    }
    return any_tag && match;
}

int
http_respond_json_etag(struct request *r, json_object *doc, const char *prefix)
{
    int rc = http_respond_json(r, 200, doc);
    int erc = http_etag_body(r, prefix);
    return erc != MK_OK ? erc : rc;
}

/* The key of the ETags' hash (http_etag_init), set before any request and read only after. */
static unsigned char etag_key[crypto_shorthash_siphashx24_KEYBYTES];

void
http_etag_init(const char *secret)
{
    static const char context[] = "marketd etag key\n";
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(etag_key));
    crypto_generichash_update(&st, (const unsigned char *)context, sizeof(context) - 1);
    crypto_generichash_update(&st, (const unsigned char *)secret, strlen(secret));
    crypto_generichash_final(&st, etag_key, sizeof(etag_key));
}

int
http_etag_body(struct request *r, const char *prefix)
{
    unsigned char digest[crypto_shorthash_siphashx24_BYTES];
    char b64[sodium_base64_ENCODED_LEN(sizeof(digest), sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    crypto_shorthash_siphashx24(digest, (const unsigned char *)r->out, r->out_len, etag_key);
    sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *etag = prefix != NULL ? arena_sprintf(r->arena, "\"%s-%s\"", prefix, b64)
                                : arena_sprintf(r->arena, "\"%s\"", b64);
    http_set_header(r, "ETag", etag);
    if (http_etag_match(http_header(r, "If-None-Match"), etag)) {
        return MK_ENOTMODIFIED;
    }
    return MK_OK;
}

int
http_respond_empty(struct request *r, int status)
{
    return http_respond_raw(r, status, NULL, NULL, 0);
}

json_object *
http_json_own(struct request *r, json_object *obj)
{
    if (obj != NULL) {
        arena_cleanup_add(r->arena, (arena_cleanup_fn)(void (*)(void))json_object_put, obj);
    }
    return obj;
}

int
http_fail(struct request *r, int rc, const char *message)
{
    r->err_message = message != NULL ? arena_strdup(r->arena, message) : NULL;
    return rc;
}

int
http_field_error(struct request *r, const char *field, const char *problem)
{
    if (r->err_fields == NULL) {
        r->err_fields = http_json_own(r, json_object_new_object());
    }
    if (!json_object_object_get_ex(r->err_fields, field, NULL)) {
        json_object_object_add(r->err_fields, field, json_object_new_string(problem));
    }
    return MK_EVALIDATION;
}

void
http_finish(struct request *r, int rc)
{
    if (rc == MK_ENOTMODIFIED) {
        r->status = 304;
        r->out = NULL;
        r->out_len = 0;
        r->out_type = NULL;
    } else if (rc < 0) {
        r->status = errors_http_status(rc);
        json_object *doc = http_json_own(r, json_object_new_object());
        json_object *err = json_object_new_object();
        json_object_object_add(err, "code", json_object_new_string(errors_api_code(rc)));
        /* A 500 never carries a handler's detail (it may quote a driver): that goes to the log. */
        const char *message = r->err_message != NULL && rc != MK_EINTERNAL ? r->err_message : errors_default_message(rc);
        json_object_object_add(err, "message", json_object_new_string(message));
        if (rc == MK_EVALIDATION && r->err_fields != NULL) {
            json_object_object_add(err, "fields", json_object_get(r->err_fields));
        }
        json_object_object_add(doc, "error", err);
        if (r->err_extra != NULL) {
            json_object_object_foreach(r->err_extra, key, val) {
                json_object_object_add(doc, key, json_object_get(val));
            }
        }
        if ((rc == MK_EUNAVAILABLE || rc == MK_ERATELIMITED) && r->retry_after <= 0) {
            r->retry_after = rc == MK_EUNAVAILABLE ? 5 : 60;
        }
        if (r->retry_after > 0) {
            char buf[32];
            snprintf(buf, sizeof(buf), "%d", r->retry_after);
            http_set_header(r, "Retry-After", buf);
        }
        int status = r->status;
        http_respond_json(r, status, doc);
    }
    if (r->status == 204 || r->status == 304) {
        r->out = NULL;
        r->out_len = 0;
        if (r->status == 204) {
            r->out_type = NULL;
        }
    }
}

/* Append s[0..n) at buf + *used (the caller sized buf). */
static void
put(char *buf, size_t *used, const char *s, size_t n)
{
    memcpy(buf + *used, s, n);
    *used += n;
}

static void
put_str(char *buf, size_t *used, const char *s)
{
    put(buf, used, s, strlen(s));
}

/* A non-negative number in decimal. */
static void
put_num(char *buf, size_t *used, size_t v)
{
    char num[24], *p = num + sizeof(num);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(buf, used, p, (size_t)(num + sizeof(num) - p));
}

/* The response as the FastCGI stream carries it: written with copies, not the formatter
 * (one snprintf per header was 3 % of a Redis-hit read's CPU in the query pool). */
char *
http_serialise(struct request *r, size_t *len)
{
    size_t cap = 128 + r->out_len;
    for (struct http_header *h = r->headers; h != NULL; h = h->next) {
        cap += strlen(h->name) + strlen(h->value) + 4;
    }
    if (r->out_type != NULL) {
        cap += strlen(r->out_type) + 64;
    }
    const char *reason = errors_reason_phrase(r->status);
    cap += strlen(reason);
    char *buf = arena_alloc(r->arena, cap);
    size_t used = 0;
    /* A 200 goes without a Status line: nginx takes a FastCGI answer without one as
     * "200 OK" (RFC 3875 §6.3.3), and a cached page's header lines are parsed again on
     * every hit, so each line left out is work nginx does not repeat (README, "Eighth pass"). */
    if (r->status != 200) {
        put_str(buf, &used, "Status: ");
        put_num(buf, &used, (size_t)(r->status > 0 ? r->status : 0));
        put_str(buf, &used, " ");
        put_str(buf, &used, reason);
        put_str(buf, &used, "\r\n");
    }
    /* nginx says the type of the cached catalogue's JSON answers itself and asks for no line
     * of ours (MARKET_NGINX_CONTENT_TYPE: nginx/marketd-cached-json-headers.conf): a line kept
     * in its cache file is parsed again on every hit (README, "Twenty-third pass"). */
    const char *nginx_type = r->out_type != NULL ? http_param(r, "MARKET_NGINX_CONTENT_TYPE") : NULL;
    if (r->out_type != NULL && (nginx_type == NULL || strcmp(nginx_type, r->out_type) != 0)) {
        put_str(buf, &used, "Content-Type: ");
        put_str(buf, &used, r->out_type);   /* application/json bare: RFC 8259 §11 defines no charset */
        put_str(buf, &used, "\r\n");
    }
    if (r->status != 304 && r->status != 204) {
        put_str(buf, &used, "Content-Length: ");
        put_num(buf, &used, r->out_len);
        put_str(buf, &used, "\r\n");
    }
    for (struct http_header *h = r->headers; h != NULL; h = h->next) {
        put_str(buf, &used, h->name);
        put_str(buf, &used, ": ");
        put_str(buf, &used, h->value);
        put_str(buf, &used, "\r\n");
    }
    put_str(buf, &used, "\r\n");
    if (!r->head && r->out_len > 0) {
        put(buf, &used, r->out, r->out_len);
    }
    *len = used;
    return buf;
}

int
http_json_body_nullable(struct request *r, const char *const *nullable, json_object **out)
{
    *out = NULL;
    if (r->body_len == 0) {
        return http_fail(r, MK_EMALFORMED, "the request body is empty; a JSON object is expected");
    }
    struct json_strict_error err;
    json_object *obj;
    int rc = json_strict_parse(r->body, r->body_len, nullable, &obj, &err);
    if (rc == MK_EMALFORMED) {
        return http_fail(r, rc, arena_strdup(r->arena, err.message));
    }
    if (rc == MK_EVALIDATION) {
        for (size_t i = 0; i < err.nproblems; i++) {
            http_field_error(r, err.problems[i].path, err.problems[i].problem);
        }
        json_strict_error_free(&err);
        return http_fail(r, rc, NULL);
    }
    http_json_own(r, obj);
    if (!json_object_is_type(obj, json_type_object)) {
        return http_fail(r, MK_EVALIDATION, "the request body must be a JSON object");
    }
    *out = obj;
    return MK_OK;
}

int
http_json_body(struct request *r, json_object **out)
{
    return http_json_body_nullable(r, NULL, out);
}

int
http_json_only(struct request *r, json_object *obj, const char *const *allowed)
{
    int rc = MK_OK;
    json_object_object_foreach(obj, key, val) {
        (void)val;
        bool known = false;
        for (const char *const *a = allowed; *a != NULL && !known; a++) {
            known = strcmp(*a, key) == 0;
        }
        if (!known) {
            rc = http_field_error(r, key, "unknown field");
        }
    }
    if (rc != MK_OK) {
        http_fail(r, rc, "the body has unknown fields");
    }
    return rc;
}

int
http_json_empty(struct request *r)
{
    if (r->body_len == 0) {
        return MK_OK;
    }
    static const char *const none[] = {NULL};
    json_object *body;
    int rc = http_json_body(r, &body);
    if (rc == MK_OK && (rc = http_json_only(r, body, none)) != MK_OK) {
        http_fail(r, rc, "this request takes no body (or {})");
    }
    return rc;
}

bool
http_json_int(struct request *r, json_object *v, const char *field, long long min, long long max,
              const char *problem, long long *out)
{
    errno = 0;
    long long n = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
    if (!json_object_is_type(v, json_type_int) || errno != 0 || n < min || n > max) {
        http_field_error(r, field, problem);
        return false;
    }
    *out = n;
    return true;
}

bool
http_json_int_member(struct request *r, json_object *obj, const char *key, long long min, long long max,
                     const char *problem, long long *out)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v)) {
        http_field_error(r, key, "is required");
        return false;
    }
    return http_json_int(r, v, key, min, max, problem, out);
}

const char *
http_json_text(struct request *r, const char *field, const char *raw, size_t min, size_t max, bool multiline)
{
    char *text = text_trim(r->arena, raw);
    const char *problem = text_check(r->arena, text, min, max, multiline);
    if (problem != NULL) {
        http_field_error(r, field, problem);
        return NULL;
    }
    return text;
}

char *
http_rfc3339(arena_t *a, long long unix_seconds)
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    return arena_sprintf(a, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec);
}
