#include "store/purge.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/transfer.h"

void
purge_init(struct purge *p, const char *base, int timeout_ms)
{
    p->curl = NULL;
    p->multi = NULL;
    memset(p->easy, 0, sizeof(p->easy));
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
    for (int i = 0; i < PURGE_PARALLEL; i++) {
        if (p->easy[i] != NULL) {
            curl_easy_cleanup(p->easy[i]);
            p->easy[i] = NULL;
        }
    }
    if (p->multi != NULL) {
        curl_multi_cleanup(p->multi);
        p->multi = NULL;
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

/* Start uri on transfer slot of the multi handle. */
static bool
purge_start(struct purge *p, int slot, char *url, size_t size, const char *uri)
{
    if (p->easy[slot] == NULL && (p->easy[slot] = curl_easy_init()) == NULL) {
        return false;
    }
    CURL *c = p->easy[slot];
    snprintf(url, size, "%s%s", p->base, uri);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_PRIVATE, (void *)(intptr_t)slot);
    transfer_setup(c, p->timeout_ms);
    return curl_multi_add_handle(p->multi, c) == CURLM_OK;
}

void
purge_many(struct purge *p, const char *const *uris, size_t n)
{
    if (p->base == NULL || p->base[0] == '\0' || n == 0) {
        return;
    }
    if (n == 1 || (p->multi == NULL && (p->multi = curl_multi_init()) == NULL)) {
        for (size_t i = 0; i < n; i++) {
            purge_uri(p, uris[i]);
        }
        return;
    }
    char url[PURGE_PARALLEL][2048];
    const char *what[PURGE_PARALLEL];
    size_t next = 0;
    int active = 0;
    for (int slot = 0; slot < PURGE_PARALLEL && next < n; slot++, next++) {
        what[slot] = uris[next];
        active += purge_start(p, slot, url[slot], sizeof(url[slot]), uris[next]) ? 1 : 0;
    }
    while (active > 0) {
        int running, left;
        curl_multi_perform(p->multi, &running);
        for (CURLMsg *msg; (msg = curl_multi_info_read(p->multi, &left)) != NULL;) {
            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            char *priv = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            int slot = (int)(intptr_t)priv;
            if (msg->data.result != CURLE_OK) {
                log_warn("purge %s: %s", what[slot], curl_easy_strerror(msg->data.result));
            }
            curl_multi_remove_handle(p->multi, msg->easy_handle);
            active--;
            for (; next < n && active < PURGE_PARALLEL; next++) {
                what[slot] = uris[next];
                if (purge_start(p, slot, url[slot], sizeof(url[slot]), uris[next])) {
                    active++;
                    next++;
                    break;
                }
            }
        }
        if (active > 0) {
            curl_multi_poll(p->multi, NULL, 0, 1000, NULL);
        }
    }
}
