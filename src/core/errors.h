/*
 * errors.h — the project-wide result codes.
 *
 * Every function that can fail returns int: MK_OK (0) or one of the negative codes
 * below. The HTTP status and the API error code are chosen once, at the handler
 * boundary, from this enum (errors_http_status, errors_api_code).
 */
#ifndef MK_ERRORS_H
#define MK_ERRORS_H

enum mk_result {
    MK_OK = 0,
    MK_EMALFORMED = -1,       /* 400 malformed_json */
    MK_EBADPARAM = -2,        /* 400 bad_parameter */
    MK_EUNAUTH = -3,          /* 401 unauthenticated */
    MK_ECREDENTIALS = -4,     /* 401 invalid_credentials */
    MK_EFORBIDDEN = -5,       /* 403 forbidden */
    MK_ENOTFOUND = -6,        /* 404 not_found */
    MK_EMETHOD = -7,          /* 405 method_not_allowed */
    MK_ECONFLICT = -8,        /* 409 conflict */
    MK_EEMAILTAKEN = -9,      /* 409 email_taken */
    MK_ENOTAVAILABLE = -10,   /* 409 listing_not_available */
    MK_ETRANSITION = -11,     /* 409 invalid_transition */
    MK_EREVIEWED = -12,       /* 409 already_reviewed */
    MK_EPRECONDITION = -13,   /* 412 precondition_failed */
    MK_ETOOLARGE = -14,       /* 413 payload_too_large */
    MK_EMEDIATYPE = -15,      /* 415 unsupported_media_type */
    MK_EVALIDATION = -16,     /* 422 validation_failed */
    MK_EIDEMREUSED = -17,     /* 422 idempotency_key_reused */
    MK_EPRECONDREQ = -18,     /* 428 precondition_required */
    MK_ERATELIMITED = -19,    /* 429 rate_limited */
    MK_EUNAVAILABLE = -20,    /* 503 unavailable: a dependency is down or timed out */
    MK_EINTERNAL = -21,       /* 500 internal */
    MK_ENOTMODIFIED = -22,    /* 304, not an error for the client: If-None-Match matched */
    MK_ERR_MIN_ = -23
};

/* HTTP status for a result code (200 for MK_OK, 500 for anything unknown). */
int errors_http_status(int rc);

/* Stable API error code ("not_found", ...) for a result; "internal" for unknown codes. */
const char *errors_api_code(int rc);

/* Default human message for a result code. Static storage. */
const char *errors_default_message(int rc);

/* Reason phrase for an HTTP status ("Not Found"). Static storage. */
const char *errors_reason_phrase(int status);

#endif
