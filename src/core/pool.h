/*
 * pool.h — the pre-forked FastCGI process pool (php-fpm style).
 *
 * The master binds the listening socket, then forks N workers, each running worker_main in
 * the master's image (no exec: the libraries are loaded and initialised once, their pages
 * shared). On SIGHUP the master calls reload (the configuration read again) and replaces
 * every worker with one forked after it; a new binary needs a restart of the master. The
 * master restarts a worker that dies (with back-off when it keeps dying), counts it in the
 * metrics segment, and on SIGTERM stops accepting, lets in-flight requests finish
 * (graceful_timeout_s at most) and exits.
 *
 * A worker is single-threaded: it waits for a connection with ppoll() while SIGTERM is
 * deliverable, and serves each request with signals blocked, so a stop never cuts a
 * request in half.
 */
#ifndef MK_POOL_H
#define MK_POOL_H

#include <fcgiapp.h>
#include <stdbool.h>

#include "core/metrics.h"

/* A worker's body, in the forked child: returns its exit status (0: a clean exit, a recycle). */
typedef int (*pool_worker_fn)(void *ctx, int slot, int listen_fd);

/* SIGHUP, in the master, before the replacement workers are forked. false: nothing was
 * loaded, and the running workers stay (as nginx keeps its workers on a configuration error). */
typedef bool (*pool_reload_fn)(void *ctx);

struct pool_options {
    const char *role;
    const char *listen;         /* "unix:/path" or "host:port"; NULL: no socket, workers get listen_fd -1 */
    int workers;
    int backlog;
    int socket_mode;
    int graceful_timeout_s;
    pool_worker_fn worker_main;
    pool_reload_fn reload;      /* may be NULL */
    void *ctx;                  /* of both */
    struct metrics_segment *metrics;
    int watchdog_s;             /* > 0: a worker that shows no progress for this long is killed (below) */
};

/*
 * The watchdog of a supervised role (the projector). A process can hang where no timeout
 * reaches (a library's deadlock: store/mongo.c, CDRIVER-4666) and keep what it holds, such as
 * the projector's advisory lock, which its standby then waits on for good. Each worker is told
 * its slot and moves its deadline in the role's metrics segment whenever it makes
 * progress; the master kills (SIGKILL) a worker past its deadline and starts another in its
 * slot. At most POOL_WATCHED_SLOTS workers are watched.
 */
#define POOL_WATCHED_SLOTS 8

/* In a worker: watch this process (slot: the one worker_main was given; watchdog_s <= 0 or slot < 0: not watched). */
void pool_watchdog_init(struct metrics_segment *m, int slot, int watchdog_s);

/* Progress: the deadline becomes now + watchdog_s. */
void pool_watchdog_beat(void);

/* A step known to take up to ms (an index build): the deadline becomes now + ms + watchdog_s. */
void pool_watchdog_busy(int64_t ms);

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
