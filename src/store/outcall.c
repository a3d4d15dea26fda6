#include "store/outcall.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errors.h"
#include "store/transfer.h"

static char *
lower_dup(arena_t *a, const char *s)
{
    char *d = arena_strdup(a, s);
    for (char *c = d; *c != '\0'; c++) {
        *c = (char)tolower((unsigned char)*c);
    }
    return d;
}

int
outcall_url_parts(arena_t *a, const char *url, const char **scheme, const char **host, int *port)
{
    CURLU *u = curl_url();
    if (u == NULL) {
        return MK_EINTERNAL;
    }
    int rc = MK_EBADPARAM;
    char *s = NULL, *h = NULL, *p = NULL, *user = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        goto cleanup;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        goto cleanup;   /* credentials in a webhook URL: refused */
    }
    *scheme = lower_dup(a, s);
    if (strcmp(*scheme, "http") != 0 && strcmp(*scheme, "https") != 0) {
        goto cleanup;
    }
    size_t hl = strlen(h);
    *host = hl >= 2 && h[0] == '[' && h[hl - 1] == ']' ? lower_dup(a, arena_strndup(a, h + 1, hl - 2)) : lower_dup(a, h);
    *port = atoi(p);
    rc = *port > 0 && *port < 65536 && (*host)[0] != '\0' ? MK_OK : MK_EBADPARAM;
cleanup:
    curl_free(s);
    curl_free(h);
    curl_free(p);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

int
outcall_post(arena_t *a, const struct outcall_request *q, struct outcall_result *r)
{
    memset(r, 0, sizeof(*r));
    CURL *c = curl_easy_init();
    if (c == NULL) {
        r->error = "cannot start a transfer";
        return MK_EUNAVAILABLE;
    }
    bool v6 = strchr(q->address, ':') != NULL;
    char *pin = arena_sprintf(a, v6 ? "%s:%d:[%s]" : "%s:%d:%s", q->host, q->port, q->address);
    struct curl_slist *resolve = curl_slist_append(NULL, pin), *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    for (const char *const *h = q->headers; h != NULL && *h != NULL; h++) {
        headers = curl_slist_append(headers, *h);
    }
    curl_easy_setopt(c, CURLOPT_URL, q->url);
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(q->body));
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "marketd-webhooks/1");
    double t0 = clock_mono();
    CURLcode cc = transfer_perform(c, q->timeout_ms, &r->status);
    r->duration_ms = (long)((clock_mono() - t0) * 1000.0);
    int rc = MK_OK;
    if (cc != CURLE_OK) {
        r->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
        r->error = arena_strdup(a, r->timed_out ? "timed out" : curl_easy_strerror(cc));
        rc = MK_EUNAVAILABLE;
    }
    curl_slist_free_all(resolve);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return rc;
}
