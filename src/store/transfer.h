/*
 * transfer.h — what the store's outbound HTTP calls without a response body share (nginx
 * purges, webhook POSTs): bounded by one time-out, no signals, the body thrown away. For
 * src/store/ only: it includes libcurl.
 */
#ifndef MK_TRANSFER_H
#define MK_TRANSFER_H

#include <curl/curl.h>

/* Perform the transfer c describes within timeout_ms (connecting included), discarding the
 * response body. *status: the HTTP status, 0 when no answer came. Returns curl's code. */
CURLcode transfer_perform(CURL *c, long timeout_ms, long *status);

/* The options transfer_perform sets (for a transfer run by a multi handle). */
void transfer_setup(CURL *c, long timeout_ms);

#endif
