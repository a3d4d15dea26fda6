/*
 * s3.h — the S3 adapter for server-side calls (HEAD, GET, PUT, DELETE), signed with
 * libcurl's built-in SigV4 and an explicit x-amz-content-sha256 header. Path-style
 * (http://host/bucket/key) and virtual-host (http://bucket.host/key) endpoints.
 * One curl easy handle per worker, re-used so connections stay alive.
 */
#ifndef MK_S3_H
#define MK_S3_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"

struct s3 {
    void *curl;             /* CURL * */
    char *endpoint;         /* scheme://host[:port], no trailing slash */
    char *region;
    char *bucket;
    char *access_key;
    char *secret_key;
    bool path_style;
    int timeout_ms;
};

struct s3_response {
    long status;            /* HTTP status; 0 when no answer */
    char *content_type;     /* NULL when absent */
    long long content_length; /* -1 when absent */
    char *body;             /* GET only, NUL-terminated, in the arena */
    size_t body_len;
};

void s3_global_init(void);
int s3_init(struct s3 *s, const char *endpoint, const char *region, const char *bucket, const char *access_key,
            const char *secret_key, bool path_style, int timeout_ms);
void s3_close(struct s3 *s);

/* URL of key (NULL or "": the bucket itself) in the arena. */
char *s3_url(const struct s3 *s, arena_t *arena, const char *key);

/*
 * One signed request. method: "HEAD", "GET", "PUT" or "DELETE". body/len for PUT (may be
 * NULL/0). GET bodies larger than max_body are refused (MK_ETOOLARGE).
 * Returns MK_OK when S3 answered (any status: see resp->status), MK_EUNAVAILABLE when it
 * could not be reached or timed out.
 */
int s3_request(struct s3 *s, arena_t *arena, const char *method, const char *key, const void *body, size_t len,
               const char *content_type, size_t max_body, struct s3_response *resp);

/* HEAD of the bucket: MK_OK when it answers 200, MK_EUNAVAILABLE otherwise. */
int s3_check(struct s3 *s, arena_t *arena);

#endif
