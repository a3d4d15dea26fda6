#include "core/errors.h"

#include <stddef.h>

static const struct {
    int rc;
    int status;
    const char *code;
    const char *message;
} error_table[] = {
    {MK_EMALFORMED, 400, "malformed_json", "the request body is not valid JSON"},
    {MK_EBADPARAM, 400, "bad_parameter", "a parameter is unknown or has a bad value"},
    {MK_EUNAUTH, 401, "unauthenticated", "authentication is required"},
    {MK_ECREDENTIALS, 401, "invalid_credentials", "wrong email or password"},
    {MK_EFORBIDDEN, 403, "forbidden", "you may not do this"},
    {MK_ENOTFOUND, 404, "not_found", "no such resource"},
    {MK_EMETHOD, 405, "method_not_allowed", "method not allowed on this resource"},
    {MK_ECONFLICT, 409, "conflict", "the request conflicts with the current state"},
    {MK_EEMAILTAKEN, 409, "email_taken", "this email is already registered"},
    {MK_ENOTAVAILABLE, 409, "listing_not_available", "the listing is not available"},
    {MK_ETRANSITION, 409, "invalid_transition", "not allowed in the current state"},
    {MK_EREVIEWED, 409, "already_reviewed", "this order has already been reviewed"},
    {MK_EPRECONDITION, 412, "precondition_failed", "the resource has changed (stale If-Match)"},
    {MK_ETOOLARGE, 413, "payload_too_large", "the request body is larger than 64 KiB"},
    {MK_EMEDIATYPE, 415, "unsupported_media_type", "the request body must be application/json"},
    {MK_EVALIDATION, 422, "validation_failed", "some fields are invalid"},
    {MK_EIDEMREUSED, 422, "idempotency_key_reused", "this Idempotency-Key was used with another request"},
    {MK_EPRECONDREQ, 428, "precondition_required", "this request needs a precondition header"},
    {MK_ERATELIMITED, 429, "rate_limited", "too many requests; retry later"},
    {MK_EUNAVAILABLE, 503, "unavailable", "a dependency is unavailable; retry later"},
    {MK_EINTERNAL, 500, "internal", "internal error"},
    {MK_ENOTMODIFIED, 304, "not_modified", "not modified"},
};

static size_t
error_index(int rc)
{
    for (size_t i = 0; i < sizeof(error_table) / sizeof(error_table[0]); i++) {
        if (error_table[i].rc == rc) {
            return i;
        }
    }
    return (size_t)-1;
}

int
errors_http_status(int rc)
{
    if (rc >= 0) {
        return 200;
    }
    size_t i = error_index(rc);
    return i == (size_t)-1 ? 500 : error_table[i].status;
}

const char *
errors_api_code(int rc)
{
    size_t i = error_index(rc);
    return i == (size_t)-1 ? "internal" : error_table[i].code;
}

const char *
errors_default_message(int rc)
{
    size_t i = error_index(rc);
    return i == (size_t)-1 ? "internal error" : error_table[i].message;
}

const char *
errors_reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}
