#ifndef MK_CORE_FCGI_OUT_H
#define MK_CORE_FCGI_OUT_H

#include <stddef.h>

#include <fcgiapp.h>

/* The whole answer of req (CGI headers and body, as http_serialise makes it) in one writev:
 * FCGI_STDOUT records of up to 65,528 bytes each, the stream's empty closing record and the
 * FCGI_END_REQUEST record (status 0, FCGI_REQUEST_COMPLETE), the same records libfcgi writes
 * but not cut at its fixed 8 KB buffer (a 17 KB page was three writes, now one). req->out is
 * then marked closed, so FCGX_Finish_r writes nothing more for it. Falls back to FCGX_PutStr
 * when req->out already holds bytes or has been closed, or req->err has been written to (its
 * records must come before the end record). On a failed write the connection is not kept
 * (req->keepConnection = 0). Returns 0, or -1 on a failed write. */
int fcgi_write_response(FCGX_Request *req, const char *out, size_t len);

#endif
