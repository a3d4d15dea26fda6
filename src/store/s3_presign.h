/*
 * s3_presign.h — S3 pre-signed URLs: AWS Signature Version 4 in the query string
 * ("Authenticating Requests: Using Query Parameters"). libcurl signs only the requests it
 * sends itself, so this is the one place that writes SigV4 by hand (libsodium's SHA-256 and
 * HMAC-SHA256). Pure computation: no network, no global state, safe from any thread.
 *
 * The URL lets whoever holds it make exactly one kind of request (method, bucket, key, and
 * the signed headers below) until now + expires_s. The payload is not signed
 * (UNSIGNED-PAYLOAD): a signed Content-Length bounds an upload, nothing pins its bytes.
 */
#ifndef MK_S3_PRESIGN_H
#define MK_S3_PRESIGN_H

#include <stdbool.h>

#include "core/arena.h"

/* The longest X-Amz-Expires S3 accepts: 7 days. */
#define S3_PRESIGN_MAX_EXPIRES 604800

/* What to sign. Every string is borrowed for the duration of the call only. */
struct s3_presign {
    const char *method;       /* "GET", "PUT", "HEAD" or "DELETE" */
    const char *endpoint;     /* http[s]://host[:port] (IPv6 as [addr]); trailing '/' tolerated, no path */
    bool path_style;          /* true: endpoint/bucket/key; false: scheme://bucket.host[:port]/key */
    const char *region;       /* e.g. "us-east-1" */
    const char *bucket;       /* virtual-host style: lower-case letters, digits, '.' and '-' only */
    const char *key;          /* object key, 1..1024 bytes, any bytes; no "." or ".." segment */
    const char *access_key;   /* may contain ':' (Swift tempauth "account:user"); not '/' */
    const char *secret_key;   /* only the signature derived from it goes into the URL */
    long long now;            /* unix seconds: the X-Amz-Date; the URL is valid from then on */
    int expires_s;            /* X-Amz-Expires: 1..S3_PRESIGN_MAX_EXPIRES */
    const char *content_type; /* NULL: not signed; else a signed header the client must send */
    long long content_length; /* < 0: not signed; else a signed header the client must send */
};

/*
 * Build the pre-signed URL for p into *url, allocated in the arena (valid until its next
 * reset). The signed headers are host (implied by the URL), and content-type and
 * content-length when given: the client must send "Content-Type: <p->content_type>" (the
 * server compares it after trimming outer blanks and folding runs of blanks into one) and a
 * body of exactly p->content_length bytes, or S3 answers 403 SignatureDoesNotMatch.
 * A default port (80 for http, 443 for https) is left out of the URL, as HTTP clients leave
 * it out of the Host header.
 *
 * Returns MK_OK, or MK_EBADPARAM (and *url = NULL) when a field is missing or out of range:
 * unknown method, malformed endpoint, empty region/bucket/key/credentials, control characters
 * in a signed value, expires_s outside 1..S3_PRESIGN_MAX_EXPIRES, now < 0 or past year 9999.
 */
int s3_presign_url(arena_t *a, const struct s3_presign *p, char **url);

#endif
