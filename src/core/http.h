/*
 * http.h — one request and its response, independent of FastCGI.
 *
 * A request is built from the FastCGI parameters (an envp-style "NAME=value" array) and
 * the body; everything it points to lives in its arena and is valid until the arena is
 * reset. Handlers fill the response with http_set_header / http_respond_* or fail with
 * http_fail(), and the boundary (http_finish) renders errors in the shape of API.md.
 */
#ifndef MK_HTTP_H
#define MK_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/arena.h"

#define HTTP_MAX_BODY (64 * 1024)
#define HTTP_MAX_PATH_PARAMS 4

struct http_param {
    char *name;
    char *value;
};

struct http_header {
    struct http_header *next;
    const char *name;
    const char *value;
};

struct worker;                      /* the role's per-process state (worker.h), opaque to core/ */

struct request {
    arena_t *arena;
    struct worker *worker;          /* the handlers' handles on the stores */
    char *const *env;               /* FastCGI parameters, NAME=value */
    const char **env_slots;         /* env hashed by name (open addressing), NULL: not indexed */
    size_t env_mask;                /* slots - 1 */

    /* parsed request */
    const char *method;             /* as sent; HEAD is answered as GET without a body */
    bool head;
    const char *raw_uri;            /* REQUEST_URI as sent */
    char *path;                     /* percent-decoded path, no query */
    const char *query_string;
    struct http_param *query;
    size_t nquery;
    struct http_param *cookies;
    size_t ncookies;
    const char *body;
    size_t body_len;
    const char *request_id;
    const char *user_id;            /* the authenticated user once a session check passed, else NULL */

    /* routing */
    const char *route;              /* matched pattern, "-" when none */
    int route_index;                /* index in the route table, -1 when none */
    const char *path_param_names[HTTP_MAX_PATH_PARAMS];
    char *path_params[HTTP_MAX_PATH_PARAMS];
    size_t npath_params;
    bool path_folded;               /* a UUID in the path was not in lower case */

    /* response */
    int status;
    struct http_header *headers;
    struct http_header *headers_tail;
    const char *out_type;
    const char *out;
    size_t out_len;

    /* error details, rendered by http_finish when the handler returned < 0 */
    const char *err_message;
    json_object *err_fields;        /* owned by the arena */
    json_object *err_extra;         /* extra top-level members of an error body */
    int retry_after;                /* seconds; 0 = no Retry-After header */
};

/*
 * Build r from env and body. Returns MK_OK, or MK_EBADPARAM when the query string or path
 * cannot be decoded (r is still usable for an error response then).
 */
int http_request_init(struct request *r, arena_t *a, char *const *env, const char *body, size_t body_len);

/* A FastCGI parameter by its exact name ("REQUEST_METHOD"), or NULL. */
const char *http_param(const struct request *r, const char *name);

/* A request header by its HTTP name ("If-Match"), or NULL. */
const char *http_header(const struct request *r, const char *name);

/* The first query parameter called name (decoded), or NULL. */
const char *http_query(const struct request *r, const char *name);

/* A cookie's value, or NULL. */
const char *http_cookie(const struct request *r, const char *name);

/* A path parameter of the matched route ("id" for {id}), or NULL. */
const char *http_path_param(const struct request *r, const char *name);

/*
 * Percent-decode n bytes of src into dst (room for n+1). '+' becomes a space when
 * plus_space. Returns the decoded length, or -1 on a bad escape or a decoded NUL byte.
 */
long http_pct_decode(char *dst, const char *src, size_t n, bool plus_space);

/* Add a response header; name and value are copied into the arena. */
void http_add_header(struct request *r, const char *name, const char *value);

/* Replace (or add) a response header. */
void http_set_header(struct request *r, const char *name, const char *value);

/* The response header called name, or NULL. */
const char *http_response_header(const struct request *r, const char *name);

/* Respond with a JSON document (the object is serialised now; ownership stays with the caller). */
int http_respond_json(struct request *r, int status, json_object *doc);

/*
 * True when an If-None-Match value (a list of entity tags, or "*") matches etag (a quoted
 * strong tag). Weak comparison, as RFC 9110 prescribes for If-None-Match: W/ is ignored.
 */
bool http_etag_match(const char *if_none_match, const char *etag);

/*
 * True when an If-Match value matches: "*", or RFC 9110's list of entity tags (separated by
 * commas and optional white space, empty elements allowed; entity-tag = [ W/ ] DQUOTE *etagc
 * DQUOTE) one of whose opaque tags (the n bytes between the quotes) names(tag, n, arg) accepts.
 * A weak tag is compared too (nginx weakens the ETag of an answer it compresses). A value that
 * is not such a list matches nothing, even after a tag that would ("1"garbage, "1" "2").
 */
bool http_if_match(const char *value, bool (*names)(const char *tag, size_t n, void *arg), void *arg);

/*
 * Respond 200 with doc and a strong ETag computed over the serialised body (a keyed hash,
 * http_etag_init), so any change of the representation changes the tag; prefix (may be NULL) goes before the
 * hash and a '-' ("7-Xyz..." for a listing at version 7). When the request's If-None-Match
 * matches, returns MK_ENOTMODIFIED instead (the boundary answers 304 with the ETag).
 */
int http_respond_json_etag(struct request *r, json_object *doc, const char *prefix);

/*
 * Key the ETags' hash with a secret shared by every process (the configuration's), once at
 * start-up before any request: every worker then gives a body the same ETag. The hash is
 * SipHash-2-4 with a 128-bit output (libsodium's crypto_shorthash_siphashx24), a keyed PRF
 * 2.4x cheaper per byte here than the BLAKE2b it replaces; without the key an outsider cannot
 * make two bodies share an ETag other than by chance (2^-128 per pair), so a 304 cannot hide a
 * change. Unset, the key is all zeros (unit tests).
 */
void http_etag_init(const char *secret);

/* The strong ETag of the response body already set (r->out), as http_respond_json_etag
 * makes it; MK_ENOTMODIFIED when the request's If-None-Match matches, else MK_OK. */
int http_etag_body(struct request *r, const char *prefix);

/* Respond with bytes of a content type; body must live as long as the arena. */
int http_respond_raw(struct request *r, int status, const char *content_type, const char *body, size_t len);

/* Respond with a status and no body (204, 304). */
int http_respond_empty(struct request *r, int status);

/* Record an error with a message (NULL: the code's default) and return rc, so handlers
 * can write `return http_fail(r, MK_ENOTFOUND, "no such listing");`. */
int http_fail(struct request *r, int rc, const char *message);

/* Record a field problem for a 422; returns MK_EVALIDATION. */
int http_field_error(struct request *r, const char *field, const char *problem);

/*
 * The boundary: given the handler's result, make sure r holds a complete response.
 * Errors become the API.md error body; 304 and HEAD lose their bodies.
 */
void http_finish(struct request *r, int rc);

/*
 * Serialise the response as a FastCGI/CGI response (Status line, headers, blank line,
 * body). The returned buffer lives in the arena; *len receives its length.
 */
char *http_serialise(struct request *r, size_t *len);

/* Register json_object_put(obj) on the arena and return obj. */
json_object *http_json_own(struct request *r, json_object *obj);

/*
 * The one way a handler reads a body: json_strict_parse (core/json_strict.h) then "is it an
 * object". MK_EMALFORMED (400 malformed_json) for anything that is not RFC 8259 JSON in
 * RFC 3629 UTF-8, or names a member twice; MK_EVALIDATION (422) naming each member that
 * holds U+0000, is null, or is a number out of range, or when the document is not an
 * object. *out belongs to the arena. Every string in it is free of U+0000, so a string's
 * C length is its length (json_object_get_string_len agrees with strlen).
 */
int http_json_body(struct request *r, json_object **out);

/* http_json_body where null is allowed at the member paths of nullable ("location",
 * "a.b"; NULL-terminated): there json-c hands the handler a NULL value, told apart from an
 * absent member by json_object_object_get_ex. */
int http_json_body_nullable(struct request *r, const char *const *nullable, json_object **out);

/* A request that takes no body: MK_OK for none or an empty object {}; otherwise the 400 of
 * malformed JSON, or a 422 naming each member ("unknown field"), as any body is checked. */
int http_json_empty(struct request *r);

/* Reject members of obj whose names are not in allowed (NULL-terminated): each unknown
 * member is reported in fields; returns MK_OK or MK_EVALIDATION. */
int http_json_only(struct request *r, json_object *obj, const char *const *allowed);

/* An integer from min to max in v, a member value (JSON integers only: 12.5, "12" and 1e3 are
 * not): true with *out set; otherwise false, problem recorded on field (http_field_error). */
bool http_json_int(struct request *r, json_object *v, const char *field, long long min, long long max,
                   const char *problem, long long *out);

/* http_json_int of the member key of obj, which is required ("is required" when absent). */
bool http_json_int_member(struct request *r, json_object *obj, const char *key, long long min, long long max,
                          const char *problem, long long *out);

/* A text member's value raw, trimmed and then checked (text_trim, text_check: min..max
 * characters, no control character unless multiline): the trimmed copy, or NULL with the
 * problem recorded on field (http_field_error). Every text field of a body goes through it, so
 * that none is checked before it is trimmed. */
const char *http_json_text(struct request *r, const char *field, const char *raw, size_t min, size_t max,
                           bool multiline);

/* Render the current time or a unix time as RFC 3339 UTC (2026-11-21T13:20:00Z). */
char *http_rfc3339(arena_t *a, long long unix_seconds);

#endif
