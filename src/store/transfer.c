#include "store/transfer.h"

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

void
transfer_setup(CURL *c, long timeout_ms)
{
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
}

CURLcode
transfer_perform(CURL *c, long timeout_ms, long *status)
{
    transfer_setup(c, timeout_ms);
    CURLcode cc = curl_easy_perform(c);
    *status = 0;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    }
    return cc;
}
