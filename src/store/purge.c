#include "store/purge.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/transfer.h"

void
purge_init(struct purge *p, const char *base, int timeout_ms)
{
    p->curl = NULL;
    p->base = strdup(base != NULL ? base : "");
    p->timeout_ms = timeout_ms;
}

void
purge_close(struct purge *p)
{
    if (p->curl != NULL) {
        curl_easy_cleanup(p->curl);
        p->curl = NULL;
    }
    free(p->base);
    p->base = NULL;
}

long
purge_uri(struct purge *p, const char *uri)
{
    if (p->base == NULL || p->base[0] == '\0') {
        return 0;
    }
    if (p->curl == NULL && (p->curl = curl_easy_init()) == NULL) {
        return 0;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", p->base, uri);
    CURL *c = p->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    long status;
    CURLcode cc = transfer_perform(c, p->timeout_ms, &status);
    if (cc != CURLE_OK) {
        log_warn("purge %s: %s", uri, curl_easy_strerror(cc));
    }
    return status;
}
