#include "core/fcgi_out.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

/* The FastCGI record layout (the specification, section 3.3; libfcgi's fastcgi.h). */
#define FCGI_VERSION_1 1
#define FCGI_END_REQUEST 3
#define FCGI_STDOUT 6
#define FCGI_REQUEST_COMPLETE 0
#define FCGI_HEADER_LEN 8
/* The most content one record carries here: the protocol's 65,535, rounded down to a multiple
 * of 8 so that only the last record needs padding (libfcgi pads every record to 8). */
#define FCGI_RECORD_MAX 65528
/* Bodies beyond this many records go through libfcgi (a writev takes at most IOV_MAX parts). */
#define FCGI_MAX_RECORDS 64

static void
put_header(unsigned char *h, int type, int id, size_t content, size_t padding)
{
    h[0] = FCGI_VERSION_1;
    h[1] = (unsigned char)type;
    h[2] = (unsigned char)((id >> 8) & 0xff);
    h[3] = (unsigned char)(id & 0xff);
    h[4] = (unsigned char)((content >> 8) & 0xff);
    h[5] = (unsigned char)(content & 0xff);
    h[6] = (unsigned char)padding;
    h[7] = 0;
}

/* writev all of iov (modified), waiting when the socket would block. */
static int
writev_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                if (poll(&p, 1, -1) < 0 && errno != EINTR) {
                    return -1;
                }
                continue;
            }
            return -1;
        }
        size_t done = (size_t)w;
        while (n > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return 0;
}

/* Whether libfcgi's stream is as FCGX_Accept_r left it: nothing buffered, nothing written,
 * not closed. A fresh writer's buffer holds only the room kept for its record header, so its
 * next free byte is 8 bytes past the start of the buffer; the reader-side pointers are set to
 * the buffer's end. rdNext == stop holds for any writer; wrNext is at the start of its
 * buffer (plus the header's room) only when nothing has been put. */
static int
stream_untouched(const FCGX_Stream *s, size_t bufsize)
{
    return s != NULL && !s->isReader && !s->isClosed && !s->wasFCloseCalled && s->FCGI_errno == 0 &&
           (size_t)(s->stop - s->wrNext) == bufsize - FCGI_HEADER_LEN;
}

int
fcgi_write_response(FCGX_Request *req, const char *out, size_t len)
{
    /* FCGX_Accept_r makes the stdout writer with an 8,192-byte buffer, stderr's with 512. */
    size_t nrec = len / FCGI_RECORD_MAX + (len % FCGI_RECORD_MAX != 0);
    if (req->ipcFd < 0 || nrec > FCGI_MAX_RECORDS || !stream_untouched(req->out, 8192) ||
        !stream_untouched(req->err, 512) || len > INT_MAX) {
        return FCGX_PutStr(out, (int)len, req->out) == (int)len ? 0 : -1;
    }
    static const unsigned char zeros[8];
    unsigned char heads[FCGI_MAX_RECORDS][FCGI_HEADER_LEN];
    unsigned char tail[FCGI_HEADER_LEN * 3];   /* the empty STDOUT record, FCGI_END_REQUEST */
    struct iovec iov[FCGI_MAX_RECORDS * 3 + 1];
    int n = 0;
    for (size_t i = 0, off = 0; i < nrec; i++) {
        size_t c = len - off < FCGI_RECORD_MAX ? len - off : FCGI_RECORD_MAX;
        size_t pad = (8 - c % 8) % 8;
        put_header(heads[i], FCGI_STDOUT, req->requestId, c, pad);
        iov[n++] = (struct iovec){heads[i], FCGI_HEADER_LEN};
        iov[n++] = (struct iovec){(void *)(out + off), c};
        if (pad > 0) {
            iov[n++] = (struct iovec){(void *)zeros, pad};
        }
        off += c;
    }
    put_header(tail, FCGI_STDOUT, req->requestId, 0, 0);
    put_header(tail + FCGI_HEADER_LEN, FCGI_END_REQUEST, req->requestId, FCGI_HEADER_LEN, 0);
    /* FCGI_EndRequestBody: appStatus (4 bytes, big-endian), protocolStatus, 3 reserved. */
    unsigned char *body = tail + 2 * FCGI_HEADER_LEN;
    memset(body, 0, FCGI_HEADER_LEN);
    uint32_t app = (uint32_t)req->appStatus;
    body[0] = (unsigned char)(app >> 24);
    body[1] = (unsigned char)(app >> 16);
    body[2] = (unsigned char)(app >> 8);
    body[3] = (unsigned char)app;
    body[4] = FCGI_REQUEST_COMPLETE;
    iov[n++] = (struct iovec){tail, sizeof(tail)};
    int rc = writev_all(req->ipcFd, iov, n);
    /* What FCGX_FClose would have done: the stream counts as closed (FCGX_Finish_r then writes
     * nothing for it), the end record sent; the stderr stream's close writes nothing when it
     * holds nothing and the end record is not its to send. */
    req->out->wasFCloseCalled = 1;
    req->out->isClosed = 1;
    req->out->rdNext = req->out->stop = req->out->wrNext;
    if (rc != 0) {
        req->keepConnection = 0;
    }
    return rc;
}
