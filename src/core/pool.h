/*
 * pool.h — the pre-forked FastCGI process pool (php-fpm style).
 *
 * The master binds the listening socket, then starts N workers by fork + exec of the
 * same binary with `--worker --listen-fd N` appended to its own arguments, so a worker
 * re-reads the configuration and a SIGHUP (which replaces every worker) picks up a new
 * configuration and a new binary. The master restarts a worker that dies (with back-off
 * when it keeps dying), counts it in the metrics segment, and on SIGTERM stops accepting,
 * lets in-flight requests finish (graceful_timeout_s at most) and exits.
 *
 * A worker is single-threaded: it waits for a connection with ppoll() while SIGTERM is
 * deliverable, and serves each request with signals blocked, so a stop never cuts a
 * request in half.
 */
#ifndef MK_POOL_H
#define MK_POOL_H

#include <fcgiapp.h>

#include "core/metrics.h"

struct pool_options {
    const char *role;
    const char *listen;         /* "unix:/path" or "host:port"; NULL: no socket, workers get --listen-fd -1 */
    int workers;
    int backlog;
    int socket_mode;
    int graceful_timeout_s;
    const char *exe;            /* path of the binary to exec for workers (resolved at start) */
    char *const *argv;          /* the master's own argv, re-used to exec workers */
    struct metrics_segment *metrics;
};

/* Run the master until SIGTERM/SIGINT (graceful) or SIGQUIT (immediate). Returns an exit code.
 * The projector uses the same master without a socket: it keeps its processes running. */
int pool_master_run(const struct pool_options *o);

/* Serve one accepted request. The return value is ignored; errors are the handler's to answer. */
typedef void (*pool_serve_fn)(void *ctx, FCGX_Request *req);

/* Called about once a second while idle, for housekeeping (reconnects, ...). May be NULL. */
typedef void (*pool_idle_fn)(void *ctx);

/*
 * Run a worker on an inherited listening socket: accept and serve until SIGTERM or until
 * max_requests (0 = unlimited) have been served. Returns 0 for a clean exit.
 */
int pool_worker_run(int listen_fd, int max_requests, pool_serve_fn serve, pool_idle_fn idle, void *ctx);

/* Open a listening socket for "unix:/path" or "host:port". Returns the fd or -1 (logged). */
int pool_listen(const char *spec, int backlog, int socket_mode);

#endif
