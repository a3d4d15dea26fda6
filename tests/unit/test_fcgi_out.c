/* fcgi_write_response against what it replaced (FCGX_PutStr, then FCGX_Finish_r): over a
 * socketpair, a request read by libfcgi is answered both ways, and the peer must read the
 * same stdout bytes and the same FCGI_END_REQUEST, with the connection kept for the next
 * request. The new writer must have sent everything, end record included, before
 * FCGX_Finish_r, and FCGX_Finish_r must then send nothing. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "core/fcgi_out.h"

TestSuite(fcgi_out);

/* What the web server's side read: the stdout stream's bytes, its records, the end record. */
struct wire {
    int fd;
    unsigned char *out;
    size_t len, cap;
    int records;         /* stdout records with content */
    bool eof;            /* the empty stdout record */
    bool end;            /* FCGI_END_REQUEST */
    unsigned char end_body[8];
    bool bad;            /* a record of another type, bad padding, or a short read */
};

static bool
read_n(int fd, unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) {
                continue;
            }
            return false;
        }
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static void *
reader(void *arg)
{
    struct wire *w = arg;
    while (!w->end) {
        unsigned char h[8];
        if (!read_n(w->fd, h, 8)) {
            w->bad = true;
            break;
        }
        size_t clen = (size_t)h[4] << 8 | h[5], plen = h[6];
        unsigned char *c = malloc(clen + plen + 1);
        if (h[0] != 1 || !read_n(w->fd, c, clen + plen)) {
            w->bad = true;
            free(c);
            break;
        }
        if (h[1] == 6 && clen > 0) {   /* FCGI_STDOUT */
            if (w->len + clen > w->cap) {
                w->cap = (w->len + clen) * 2;
                w->out = realloc(w->out, w->cap);
            }
            memcpy(w->out + w->len, c, clen);
            w->len += clen;
            w->records++;
            w->bad |= w->eof;   /* data after the stream's end */
        } else if (h[1] == 6) {
            w->eof = true;
        } else if (h[1] == 3 && clen == 8) {   /* FCGI_END_REQUEST */
            memcpy(w->end_body, c, 8);
            w->end = true;
        } else {
            w->bad = true;
        }
        free(c);
    }
    return NULL;
}

/* A request as nginx sends it: BEGIN_REQUEST (responder, keep the connection), one parameter,
 * the empty PARAMS and STDIN records. */
static void
send_request(int fd, int id)
{
    unsigned char b[128];
    size_t n = 0;
    unsigned char begin[] = {1, 1, (unsigned char)(id >> 8), (unsigned char)id, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
    memcpy(b + n, begin, sizeof(begin));
    n += sizeof(begin);
    const char *name = "REQUEST_METHOD", *value = "GET";
    size_t pl = 2 + strlen(name) + strlen(value);
    unsigned char params[] = {1, 4, (unsigned char)(id >> 8), (unsigned char)id, 0, (unsigned char)pl, 0, 0,
                              (unsigned char)strlen(name), (unsigned char)strlen(value)};
    memcpy(b + n, params, sizeof(params));
    n += sizeof(params);
    memcpy(b + n, name, strlen(name));
    n += strlen(name);
    memcpy(b + n, value, strlen(value));
    n += strlen(value);
    unsigned char ends[] = {1, 4, (unsigned char)(id >> 8), (unsigned char)id, 0, 0, 0, 0,
                            1, 5, (unsigned char)(id >> 8), (unsigned char)id, 0, 0, 0, 0};
    memcpy(b + n, ends, sizeof(ends));
    n += sizeof(ends);
    cr_assert_eq(write(fd, b, n), (ssize_t)n);
}

enum way { OLD, NEW, NEW_AFTER_PUT };

/* Answer one request on the kept connection sv[1] with body (len bytes) one way; the peer's
 * view in *w. */
static void
answer(int sv[2], FCGX_Request *req, int id, enum way way, const char *body, size_t len, struct wire *w)
{
    memset(w, 0, sizeof(*w));
    w->fd = sv[0];
    send_request(sv[0], id);
    req->ipcFd = sv[1];
    req->keepConnection = 1;
    cr_assert_geq(FCGX_Accept_r(req), 0);
    cr_assert_str_eq(FCGX_GetParam("REQUEST_METHOD", req->envp), "GET");
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, reader, w), 0);
    if (way == OLD) {
        cr_assert_eq(FCGX_PutStr(body, (int)len, req->out), (int)len);
    } else {
        size_t first = way == NEW_AFTER_PUT && len > 0 ? 1 : 0;   /* a stream already written to */
        if (first > 0) {
            cr_assert_eq(FCGX_PutStr(body, 1, req->out), 1);
        }
        cr_assert_eq(fcgi_write_response(req, body + first, len - first), 0);
        if (way == NEW && len <= 64 * (size_t)65528) {
            /* Everything, the end record included, is on the wire before FCGX_Finish_r (a body
             * of more than 64 records goes through libfcgi, which ends it in FCGX_Finish_r). */
            pthread_join(t, NULL);
        }
    }
    cr_assert_eq(FCGX_GetChar(req->in), EOF);
    FCGX_Finish_r(req);
    if (way != NEW || len > 64 * (size_t)65528) {
        pthread_join(t, NULL);
    }
    cr_assert_eq(req->ipcFd, sv[1], "the connection is kept");
    unsigned char more;
    cr_assert_eq(recv(sv[0], &more, 1, MSG_DONTWAIT), -1, "nothing after the end record");
    cr_assert(errno == EAGAIN || errno == EWOULDBLOCK);
    cr_assert(!w->bad && w->eof && w->end);
}

static void
compare(size_t len)
{
    char *body = malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        body[i] = (char)('a' + (i * 7 + i / 13) % 26);
    }
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(FCGX_Init(), 0);
    FCGX_Request req;
    FCGX_InitRequest(&req, -1, 0);
    struct wire old, neu, put;
    answer(sv, &req, 1, OLD, body, len, &old);
    answer(sv, &req, 2, NEW, body, len, &neu);
    answer(sv, &req, 3, NEW_AFTER_PUT, body, len, &put);
    struct wire *ws[] = {&old, &neu, &put};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(ws[i]->len, len, "len %zu, way %d: %zu bytes", len, i, ws[i]->len);
        cr_assert(len == 0 || memcmp(ws[i]->out, body, len) == 0, "len %zu, way %d", len, i);
        cr_assert(memcmp(ws[i]->end_body, old.end_body, 8) == 0);
        free(ws[i]->out);
    }
    /* The status libfcgi sends: appStatus 0, FCGI_REQUEST_COMPLETE. */
    static const unsigned char complete[8] = {0};
    cr_assert(memcmp(old.end_body, complete, 8) == 0);
    size_t records = (len + 65527) / 65528;
    if (records <= 64) {
        cr_assert_eq(neu.records, (int)records, "len %zu: %d records", len, neu.records);
    }
    FCGX_Free(&req, 1);
    close(sv[0]);
    free(body);
}

Test(fcgi_out, the_peer_reads_what_libfcgi_would_have_sent, .timeout = 120)
{
    size_t lens[] = {0, 1, 7, 8, 9, 100, 8183, 8184, 8185, 17617, 65527, 65528, 65529, 131056, 200003,
                     64 * (size_t)65528, 64 * (size_t)65528 + 1};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        compare(lens[i]);
    }
}

Test(fcgi_out, a_failed_write_does_not_keep_the_connection)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(FCGX_Init(), 0);
    FCGX_Request req;
    FCGX_InitRequest(&req, -1, 0);
    send_request(sv[0], 1);
    req.ipcFd = sv[1];
    req.keepConnection = 1;
    cr_assert_geq(FCGX_Accept_r(&req), 0);
    close(sv[0]);   /* the web server went away */
    signal(SIGPIPE, SIG_IGN);
    cr_assert_eq(fcgi_write_response(&req, "Status: 200 OK\r\n\r\n", 18), -1);
    cr_assert_eq(req.keepConnection, 0);
    FCGX_Finish_r(&req);
    cr_assert_eq(req.ipcFd, -1);
}
