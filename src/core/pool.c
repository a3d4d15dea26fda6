#include "core/pool.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

#define POOL_MAX_RETIRING 1024

struct slot {
    pid_t pid;
    double started;      /* monotonic seconds */
    double next_start;   /* when an empty slot may start again */
    int fast_deaths;     /* consecutive deaths within a second of starting */
};

int
pool_listen(const char *spec, int backlog, int socket_mode)
{
    int fd = -1;
    if (strncmp(spec, "unix:", 5) == 0) {
        const char *path = spec + 5;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path)) {
            log_error("listen: socket path too long: %s", path);
            return -1;
        }
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0) {
            log_error("listen: socket: %s", strerror(errno));
            return -1;
        }
        /* A stale socket file from a crashed master is removed; a live one is not stolen. */
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            log_error("listen: %s is in use by a running process", path);
            close(fd);
            return -1;
        }
        unlink(path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            log_error("listen: bind %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        chmod(path, (mode_t)socket_mode);
    } else {
        char host[256];
        const char *colon = strrchr(spec, ':');
        size_t hl = (size_t)(colon - spec);
        if (hl >= sizeof(host)) {
            log_error("listen: bad address %s", spec);
            return -1;
        }
        memcpy(host, spec, hl);
        host[hl] = '\0';
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
        struct addrinfo *res;
        int gai = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res);
        if (gai != 0) {
            log_error("listen: %s: %s", spec, gai_strerror(gai));
            return -1;
        }
        fd = socket(res->ai_family, SOCK_STREAM, 0);
        int one = 1;
        if (fd >= 0) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        }
        if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
            log_error("listen: bind %s: %s", spec, strerror(errno));
            freeaddrinfo(res);
            if (fd >= 0) {
                close(fd);
            }
            return -1;
        }
        freeaddrinfo(res);
    }
    if (listen(fd, backlog) != 0) {
        log_error("listen: %s: %s", spec, strerror(errno));
        close(fd);
        return -1;
    }
    /* Non-blocking: workers wait in ppoll and a lost accept race returns EAGAIN. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/*
 * Fork one worker for slot index; the child runs o->worker_main and exits with its status.
 * No exec: the child keeps the master's image, whose libraries are loaded, relocated and
 * initialised once (libmongoc's constructor alone runs OpenSSL's set-up, about 3 MB of
 * libcrypto's pages). Their read-only pages are shared and enter a worker's RSS only as it
 * touches them: a query worker after the uncached search mix is ~10 MB, not ~17 (README,
 * "Workers forked without exec"). Returns the child's pid or -1.
 */
static pid_t
spawn_worker(const struct pool_options *o, int index, int listen_fd, const sigset_t *orig_mask)
{
    pid_t parent = getpid();
    fflush(NULL);   /* nothing buffered in the master is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        log_error("pool: fork: %s", strerror(errno));
        return -1;
    }
    if (pid > 0) {
        return pid;
    }
    /* child: the master's signal state undone (it installs no handlers, it blocks and waits) */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) {
        _exit(1);
    }
    signal(SIGCHLD, SIG_DFL);
    sigprocmask(SIG_SETMASK, orig_mask, NULL);
    exit(o->worker_main(o->ctx, index, listen_fd));
}

/* The watchdog deadline of slot index in segment m, or NULL when the role is not watched. */
static int64_t *
watchdog_slot(struct metrics_segment *m, int watchdog_s, int index)
{
    if (watchdog_s <= 0 || m == NULL || index < 0 || index >= POOL_WATCHED_SLOTS) {
        return NULL;
    }
    return &m->watchdog_deadline_ms[index];
}

static void
start_slot(const struct pool_options *o, int index, struct slot *s, int listen_fd, const sigset_t *orig_mask,
           double now)
{
    int64_t *deadline = watchdog_slot(o->metrics, o->watchdog_s, index);
    if (deadline != NULL) {
        metrics_set(*deadline, 0);   /* not the last worker's: none until this one's first beat */
    }
    pid_t pid = spawn_worker(o, index, listen_fd, orig_mask);
    if (pid < 0) {
        s->next_start = now + 1.0;
        return;
    }
    s->pid = pid;
    s->started = now;
    if (o->metrics != NULL) {
        metrics_add(o->metrics->worker_starts, 1);
        metrics_add(o->metrics->workers_alive, 1);
    }
}

/* The master's state: its workers' slots, the workers retiring after a SIGHUP, shutdown. */
struct master {
    const struct pool_options *o;
    int listen_fd;
    struct slot *slots;
    pid_t retiring[POOL_MAX_RETIRING];
    size_t nretiring;
    bool stopping;
    double deadline;     /* of a graceful stop: then SIGKILL */
};

/* Send sig to every worker, retiring ones included. */
static void
signal_all(struct master *m, int sig)
{
    for (int i = 0; i < m->o->workers; i++) {
        if (m->slots[i].pid > 0) {
            kill(m->slots[i].pid, sig);
        }
    }
    for (size_t i = 0; i < m->nretiring; i++) {
        kill(m->retiring[i], sig);
    }
}

/* SIGTERM / SIGINT: stop gracefully (a second SIGINT: now); SIGQUIT: now. */
static void
begin_stop(struct master *m, int sig, double now)
{
    const struct pool_options *o = m->o;
    bool immediate = sig == SIGQUIT || (m->stopping && sig == SIGINT);
    if (!m->stopping) {
        log_info("pool %s: %s, stopping %s", o->role, strsignal(sig), immediate ? "now" : "gracefully");
        /* Stop accepting at once: new connections are refused, so nginx answers 502 at
         * once instead of queueing on a socket that will not be served. */
        if (m->listen_fd >= 0) {
            close(m->listen_fd);
        }
        if (o->listen != NULL && strncmp(o->listen, "unix:", 5) == 0) {
            unlink(o->listen + 5);
        }
    }
    m->stopping = true;
    m->deadline = immediate ? now : now + o->graceful_timeout_s;
    signal_all(m, immediate ? SIGKILL : SIGTERM);
}

/* SIGHUP: every worker retires (SIGTERM) and its slot starts a new one at once. */
static void
replace_all(struct master *m)
{
    if (m->o->reload != NULL && !m->o->reload(m->o->ctx)) {
        log_warn("pool %s: SIGHUP: the workers keep running as they are", m->o->role);
        return;
    }
    log_info("pool %s: SIGHUP, replacing every worker", m->o->role);   /* forked with what reload loaded */
    for (int i = 0; i < m->o->workers; i++) {
        struct slot *s = &m->slots[i];
        if (s->pid > 0 && m->nretiring < POOL_MAX_RETIRING) {
            kill(s->pid, SIGTERM);
            m->retiring[m->nretiring++] = s->pid;
            s->pid = 0;
            s->next_start = 0;
            s->fast_deaths = 0;
        }
    }
}

/* The worker of slot s ended with status: schedule its replacement (a clean exit is a
 * recycle; a crash soon after starting backs off, up to 6.4 s). */
static void
slot_ended(struct master *m, struct slot *s, int status, double now)
{
    const struct pool_options *o = m->o;
    pid_t pid = s->pid;
    s->pid = 0;
    if (m->stopping) {
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (o->metrics != NULL) {
            metrics_add(o->metrics->worker_recycles, 1);
        }
        s->fast_deaths = 0;
        s->next_start = now;
        log_info("pool %s: worker %d recycled", o->role, (int)pid);
        return;
    }
    if (o->metrics != NULL) {
        metrics_add(o->metrics->worker_crashes, 1);
    }
    s->fast_deaths = now - s->started < 1.0 ? s->fast_deaths + 1 : 0;
    double delay = s->fast_deaths == 0 ? 0 : 0.1 * (1 << (s->fast_deaths > 6 ? 6 : s->fast_deaths));
    s->next_start = now + delay;
    if (WIFSIGNALED(status)) {
        log_warn("pool %s: worker %d killed by %s; restarting in %.1fs", o->role, (int)pid,
                 strsignal(WTERMSIG(status)), delay);
    } else {
        log_warn("pool %s: worker %d exited with %d; restarting in %.1fs", o->role, (int)pid, WEXITSTATUS(status),
                 delay);
    }
}

/* Reap every child that ended, whatever woke us. */
static void
reap(struct master *m, double now)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (m->o->metrics != NULL) {
            metrics_add(m->o->metrics->workers_alive, -1);
        }
        bool found = false;
        for (size_t i = 0; i < m->nretiring && !found; i++) {
            if (m->retiring[i] == pid) {
                m->retiring[i] = m->retiring[--m->nretiring];
                found = true;
            }
        }
        for (int i = 0; i < m->o->workers && !found; i++) {
            if (m->slots[i].pid == pid) {
                found = true;
                slot_ended(m, &m->slots[i], status, now);
            }
        }
    }
}

/* Kill the workers past their watchdog deadline (their slots start new ones once reaped). */
static void
watch(struct master *m, double now)
{
    const struct pool_options *o = m->o;
    int64_t now_ms = (int64_t)(now * 1000.0);
    for (int i = 0; i < o->workers && !m->stopping; i++) {
        int64_t *deadline = watchdog_slot(o->metrics, o->watchdog_s, i);
        if (deadline == NULL || m->slots[i].pid <= 0) {
            continue;
        }
        int64_t d = __atomic_load_n(deadline, __ATOMIC_RELAXED);
        if (d > 0 && now_ms > d) {
            log_error("pool %s: worker %d is %.1f s past its watchdog deadline (no progress); killing it", o->role,
                      (int)m->slots[i].pid, (double)(now_ms - d) / 1000.0);
            kill(m->slots[i].pid, SIGKILL);
            metrics_set(*deadline, 0);
        }
    }
}

/* While stopping: true once every worker is gone; past the deadline, kill the rest. */
static bool
stopped(struct master *m, double now)
{
    bool any = m->nretiring > 0;
    for (int i = 0; i < m->o->workers; i++) {
        any = any || m->slots[i].pid > 0;
    }
    if (any && now >= m->deadline) {
        log_warn("pool %s: graceful timeout; killing the remaining workers", m->o->role);
        signal_all(m, SIGKILL);
        m->deadline = now + 3600; /* only reap from now on */
    }
    return !any;
}

int
pool_master_run(const struct pool_options *o)
{
    /* No socket: a supervised role (the projector), whose workers get listen_fd -1. */
    struct master m = {.o = o, .listen_fd = o->listen != NULL ? pool_listen(o->listen, o->backlog, o->socket_mode) : -1};
    if (o->listen != NULL && m.listen_fd < 0) {
        return 1;
    }
    sigset_t set, orig;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, &orig);

    m.slots = calloc((size_t)o->workers, sizeof(*m.slots));
    if (m.slots == NULL) {
        log_error("pool: out of memory");
        return 1;
    }
    if (o->metrics != NULL) {
        metrics_set(o->metrics->workers_configured, o->workers);
        metrics_set(o->metrics->workers_alive, 0);
    }
    if (o->listen != NULL) {
        log_info("pool %s: listening on %s with %d workers", o->role, o->listen, o->workers);
    } else {
        log_info("pool %s: supervising %d workers", o->role, o->workers);
    }
    for (;;) {
        double now = clock_mono();
        for (int i = 0; i < o->workers && !m.stopping; i++) {
            if (m.slots[i].pid == 0 && m.slots[i].next_start <= now) {
                start_slot(o, i, &m.slots[i], m.listen_fd, &orig, now);
            }
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        siginfo_t info;
        int sig = sigtimedwait(&set, &info, &ts);
        now = clock_mono();
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
            begin_stop(&m, sig, now);
        } else if (sig == SIGHUP && !m.stopping) {
            replace_all(&m);
        }
        reap(&m, now);
        watch(&m, now);
        if (m.stopping && stopped(&m, now)) {
            break;
        }
    }
    free(m.slots);
    log_info("pool %s: stopped", o->role);
    return 0;
}

/* This worker's watchdog deadline (pool_watchdog_init), or NULL. */
static int64_t *watchdog_deadline;
static int64_t watchdog_ms;

void
pool_watchdog_init(struct metrics_segment *m, int slot, int watchdog_s)
{
    watchdog_deadline = watchdog_slot(m, watchdog_s, slot);
    watchdog_ms = (int64_t)watchdog_s * 1000;
    pool_watchdog_beat();
}

void
pool_watchdog_busy(int64_t ms)
{
    if (watchdog_deadline != NULL) {
        metrics_set(*watchdog_deadline, (int64_t)(clock_mono() * 1000.0) + ms + watchdog_ms);
    }
}

void
pool_watchdog_beat(void)
{
    pool_watchdog_busy(0);
}

static volatile sig_atomic_t worker_stop;

static void
on_stop(int sig)
{
    (void)sig;
    worker_stop = 1;
}

/* Accept without libfcgi's OS_Accept, which polls every new Unix-socket connection for
 * readable data (a system call per request) before returning it. */
static int
accept_connection(int listen_fd, bool tcp)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0 && tcp) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

/* The connections nginx keeps open to this worker (fastcgi_keep_conn on, an upstream with
 * keepalive): requests on one connection come one after another, so a worker may hold several
 * and serve whichever has a request, one at a time. Only nginx closes an idle one (its
 * keepalive_timeout); the worker closes them when it stops, and nginx sends a GET or HEAD
 * that met a closed cached connection again on a new one. */
#define POOL_MAX_KEPT 32

struct kept {
    int fd[POOL_MAX_KEPT];
    int n;
};

static void
kept_forget(struct kept *k, int fd)
{
    for (int i = 0; i < k->n; i++) {
        if (k->fd[i] == fd) {
            k->fd[i] = k->fd[--k->n];
            return;
        }
    }
}

/* Serve one request on the connection fd with libfcgi. Returns the connection's fd when it
 * stays open for the next request (the BEGIN record asked to keep it, and its input was read
 * to the end), -1 when it was served and closed, -2 when there was no request (EOF). */
static int
serve_connection(FCGX_Request *req, int fd, bool may_keep, pool_serve_fn serve, void *ctx)
{
    /* FCGX_Accept_r starts by finishing the previous request, which would close a preset
     * ipcFd unless keepConnection is set; it then takes keepConnection from the request's
     * BEGIN record and reads from the preset fd instead of accepting. On a connection nginx
     * has closed (EOF), it closes the fd and returns < 0 (it has no listener to accept from:
     * pool_worker_run). */
    req->ipcFd = fd;
    req->keepConnection = 1;
    if (FCGX_Accept_r(req) < 0) {
        return -2;
    }
    serve(ctx, req);
    /* With the request's input read to its end (the empty FCGI_STDIN record is normally in
     * the buffer already), a plain close() is safe, and a kept connection holds nothing of
     * this request: the next record is the next request's. Otherwise (a body refused unread)
     * keep libfcgi's lingering close, which drains the input first: shutdown, poll, read,
     * close. */
    bool drained = FCGX_GetChar(req->in) == EOF;
    bool keep = drained && may_keep && req->keepConnection;
    if (!keep) {
        req->keepConnection = 0;
        req->detached = drained;
    }
    FCGX_Finish_r(req);
    return keep ? fd : -1;
}

/* The wait for a connection or a request on a kept one: SIGTERM, SIGINT and SIGHUP are
 * deliverable only here. Returns the number of ready descriptors (in evs), 0 on a timeout or
 * signal, -1 on an error. */
static int
wait_for_work(int epfd, struct epoll_event *evs, int nevs, const sigset_t *waitmask, pid_t parent,
              pool_idle_fn idle, void *ctx)
{
    int flush_ms = log_flush_due();
    int wait_ms = flush_ms >= 0 && flush_ms < 1000 ? flush_ms : 1000;
    int n = epoll_pwait(epfd, evs, nevs, wait_ms, waitmask);
    if (n < 0) {
        if (errno == EINTR) {
            return 0;
        }
        log_error("worker: poll: %s", strerror(errno));
        return -1;
    }
    if (n == 0) {
        log_flush_due();
        if (getppid() != parent) {
            log_warn("worker: master is gone; exiting");
            return -1;
        }
        if (idle != NULL && wait_ms == 1000) {
            idle(ctx);
        }
    }
    return n;
}

/* One ready descriptor: a new connection on the listener, or the next request on a kept one.
 * Returns whether a request was served. */
static bool
serve_ready(FCGX_Request *req, int epfd, int listen_fd, int ready_fd, bool tcp, struct kept *k,
            pool_serve_fn serve, void *ctx)
{
    bool fresh = ready_fd == listen_fd;
    int fd = fresh ? accept_connection(listen_fd, tcp) : ready_fd;
    if (fd < 0) {
        return false; /* another worker won the race (EAGAIN) */
    }
    if (!fresh) {
        kept_forget(k, fd); /* closed by libfcgi unless kept again below */
    }
    int kept = serve_connection(req, fd, k->n < POOL_MAX_KEPT, serve, ctx);
    if (kept < 0) {
        return kept == -1; /* closed: a closed fd leaves the epoll set by itself */
    }
    if (fresh) {   /* a kept connection stays in the epoll set from one request to the next */
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            return true;
        }
    }
    k->fd[k->n++] = fd;
    return true;
}

int
pool_worker_run(int listen_fd, int max_requests, pool_serve_fn serve, pool_idle_fn idle, void *ctx)
{
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGHUP);
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (FCGX_Init() != 0) {
        log_error("worker: FCGX_Init failed");
        return 1;
    }
    FCGX_Request req;
    FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
    /* libfcgi never accepts here: the loop does (accept_connection). When a kept connection
     * turns out closed, FCGX_Accept_r closes it and would go on to accept from its listener,
     * handing back a new connection that may even reuse the closed one's descriptor number,
     * unwatched by our epoll set (seen: requests stuck until nginx's read timeout). With no
     * listener it returns < 0 instead. */
    req.listen_sock = -1;
    int domain = AF_UNIX;
    socklen_t dlen = sizeof(domain);
    getsockopt(listen_fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen);
    /* EPOLLEXCLUSIVE: a new connection wakes one idle worker, not all of them. */
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listen_fd};
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &lev) != 0) {
        log_error("worker: epoll: %s", strerror(errno));
        return 1;
    }
    log_buffer_access(true);

    long served = 0;
    pid_t parent = getppid();
    struct kept kept = {.n = 0};
    struct epoll_event evs[16];
    /* Wait, then accept: the wait is where signals are delivered, and measured cheaper than
     * trying accept4 first (a lost race costs an EAGAIN and a wait anyway). */
    while (!worker_stop && (max_requests == 0 || served < max_requests)) {
        int n = wait_for_work(epfd, evs, 16, &waitmask, parent, idle, ctx);
        if (n < 0) {
            break;
        }
        for (int i = 0; i < n && !worker_stop && (max_requests == 0 || served < max_requests); i++) {
            served += serve_ready(&req, epfd, listen_fd, evs[i].data.fd, domain != AF_UNIX, &kept, serve, ctx);
        }
        log_flush_due();
    }
    for (int i = 0; i < kept.n; i++) {
        close(kept.fd[i]);
    }
    int rc = worker_stop || (max_requests != 0 && served >= max_requests) ? 0 : 1;
    FCGX_Free(&req, 1);
    close(epfd);
    log_buffer_access(false);
    return rc;
}
